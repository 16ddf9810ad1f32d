package plan

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

func TestReferencePlan(t *testing.T) {
	src, err := os.ReadFile("../../../shared/examples/plan.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, err := Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(p.Levels) != 4 || p.Levels[0].Targets.Acknowledge.D() != 5*time.Minute || p.Levels[0].Name.In("zh") != "一级事故" {
		t.Errorf("levels = %+v", p.Levels)
	}
	if s := p.Escalation.Steps; len(s) != 3 || !s[0].Page.Level || s[1].Page.Targets[0] != "sre-lead" || s[2].After.D() != 20*time.Minute {
		t.Errorf("escalation = %+v", p.Escalation)
	}
	if c := p.Checks[2]; c.Above == nil || *c.Above != 80 || c.For.D() != 5*time.Minute {
		t.Errorf("cpu check = %+v", c)
	}
	if c := p.Checks[3]; c.Match == nil || c.Match.Equals != "login_failed" || c.Count != 20 {
		t.Errorf("log check = %+v", c)
	}
	if got := p.Playbooks[0].Tasks[0].Title.In("zh"); !strings.HasPrefix(got, "Confirm the outage") {
		t.Errorf("task title = %q", got)
	}
	if p.AlertLevels != nil || p.SeverityLevels()["critical"] != "P1" || p.SeverityLevels()["info"] != "" {
		t.Errorf("severity levels = %v", p.SeverityLevels())
	}
}

func TestDefault(t *testing.T) {
	p, src := Default()
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(src) == 0 || p.AlertLevels["info"] != "none" || p.SeverityLevels()["info"] != "" || p.SeverityLevels()["warning"] != "P3" {
		t.Errorf("alert_levels = %v", p.AlertLevels)
	}
}

func TestValidationErrors(t *testing.T) {
	_, base := Default()
	tests := []struct {
		name, old, new string
		lineOf         string // text on the line the error names; new when empty
		field, msg     string
	}{
		{"bad duration", "acknowledge: 10m", "acknowledge: 10x", "", "levels[1].targets.acknowledge", `invalid duration "10x"`},
		{"version", "version: 1", "version: 2", "", "version", "unsupported version 2"},
		{"unknown field", "owner: sre-lead ", "ownr: sre-lead ", "", "ownr", "unknown field"},
		{"unknown text language", `zh: "一级事故"`, `zn: "一级事故"`, "", "levels[0].name.zn", "unknown field"},
		{"duplicate level", "- id: P1\n    name: {en: \"Level 2", "- id: P0\n    name: {en: \"Level 2", "", "levels[1].id", `duplicate id "P0" (also levels[0])`},
		{"empty level id", "- id: P2", `- id: ""`, "", "levels[2].id", "is required"},
		{"missing level name", "    name: {en: \"Level 4 — cosmetic\", zh: \"四级事故\"}\n", "", "- id: P3", "levels[3].name", "is required"},
		{"type default level", "default_level: P2", "default_level: P9", "", "types[1].default_level", `unknown id "P9": not in levels (known: P0, P1, P2, P3)`},
		{"type playbook", "playbook: network-failover", "playbook: net-failover", "", "types[4].playbook", `unknown id "net-failover": not in playbooks`},
		{"task role", "role: logistics, resource: backup-line", "role: logistic, resource: backup-line", "", "playbooks[4].tasks[0].role", `unknown id "logistic": not in roles`},
		{"level page", "page: [primary-oncall]", "page: [primary-oncal]", "", "levels[2].page[0]", `unknown id "primary-oncal": not in schedules, people, contacts`},
		{"level notify", "notify: [executives]", "notify: [execs]", "", "levels[1].notify[0]", `unknown id "execs"`},
		{"level roles", "roles_required: [commander, tech_lead]\n", "roles_required: [commander, techlead]\n", "", "levels[1].roles_required[1]", `unknown id "techlead": not in roles`},
		{"postmortem", "postmortem: optional", "postmortem: maybe", "", "levels[2].postmortem", `unknown value "maybe" (want required, optional, none)`},
		{"zero target", "update_every: 30m", "update_every: 0s", "", "levels[0].targets.update_every", "must be positive (leave it out for none)"},
		{"negative target", "resolve: 72h", "resolve: -72h", "", "levels[3].targets.resolve", "must be positive, got -72h0m0s"},
		{"escalation person", "page: [sre-lead]}", "page: [sre-leed]}", "", "escalation.steps[1].page[0]", `unknown id "sre-leed"`},
		{"escalation order", "{after: 20m, page: [executives]}", "{after: 5m, page: [executives]}", "", "escalation.steps[2].after", "earlier than the previous step"},
		{"escalation repeat", "repeat: 2", "repeat: twice", "", "escalation.repeat", `want a whole number, got text "twice"`},
		{"alert level", "warning: P3", "warning: P7", "", "alert_levels.warning", `unknown id "P7": not in levels`},
		{"alert severity", "info: none", "debug: none", "", "alert_levels.debug", "unknown alert severity (want critical, error, warning, info)"},
		{"check level", "type: site-down, level: P0}", "type: site-down, level: P5}", "", "checks[0].level", `unknown id "P5"`},
		{"check type", "type: security-breach, level: P1}", "type: securty-breach, level: P1}", "", "checks[3].type", `unknown id "securty-breach": not in types`},
		{"check resource", "resource: nightly-db-backup, type", "resource: nightly-backup, type", "", "checks[4].resource", `unknown id "nightly-backup": not in resources`},
		{"check kind", "kind: tls", "kind: ssl", "", "checks[1].kind", `unknown check kind "ssl"`},
		{"check url", `url: "https://shop.example.com/healthz/checkout"`, `url: "shop.example.com/healthz"`, "", "checks[0].url", "invalid URL"},
		{"check regex", "match: {field: event, equals: login_failed}", `match: {field: event, regex: "("}`, "", "checks[3].match.regex", "invalid regular expression"},
		{"task template", "template: payment-reassure}", "template: payment-reasure}", "", "playbooks[1].tasks[0].template", `unknown id "payment-reasure": not in templates`},
		{"task resource", "resource: standby-cluster}", "resource: standby}", "", "playbooks[0].tasks[3].resource", `unknown id "standby": not in resources`},
		{"task verify", "verify: checkout-probe", "verify: checkout", "", "playbooks[0].tasks[4].verify", `not in checks`},
		{"task contacts", "contacts: [isp]", "contacts: [ips]", "", "playbooks[4].tasks[1].contacts[0]", `unknown id "ips": not in contacts`},
		{"template syntax", "{{.Components}} since", "{{.Components} since", "", "templates[0].text.en", "invalid template"},
		{"drill scenario", "scenario: data-loss", "scenario: data-lost", "", "drills[1].scenario", `unknown id "data-lost": not in types`},
		{"drill level", "level: P1, schedule", "level: P4, schedule", "", "drills[1].level", `unknown id "P4"`},
		{"timezone", "timezone: Asia/Shanghai", "timezone: Asia/Shanghia", "", "schedules[0].timezone", `unknown timezone "Asia/Shanghia"`},
		{"rotation every", "every: 24h", "every: 0s", "", "schedules[2].rotation.every", "must be positive"},
		{"handoff", `handoff: "09:00"`, `handoff: "25:00"`, "", "schedules[2].rotation.handoff", `invalid handoff "25:00"`},
		{"cron", `schedule: "0 22 * * *", locations`, `schedule: "0 22 * *", locations`, "", "resources[1].schedule", "want 5 fields"},
		{"resource owner", "owner: netops}", "owner: netop}", "", "resources[3].owner", `unknown id "netop": not in people`},
		{"page namespace", "{handle: dba,", "{handle: primary-oncall,", "", "people[4]", `"primary-oncall" is also used in schedules[0]`},
		{"key twice", "review_every: 8760h", "owner: ops1\nreview_every: 8760h", "owner: ops1", "owner", "set twice (first at line 8)"},
		{"mapping in list", "members: [ops1, ops2, ops3]", "members: [ops1, {a: b}]", "", "schedules[0].rotation.members[1]", "want text, got a mapping"},
		{"list for text", "owner: sre-lead ", "owner: [sre-lead] ", "", "owner", "want text, got a list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := string(base)
			if !strings.Contains(src, tt.old) {
				t.Fatalf("base plan lacks %q", tt.old)
			}
			src = strings.Replace(src, tt.old, tt.new, 1)
			mark := tt.lineOf
			if mark == "" {
				mark = tt.new
			}
			line := strings.Count(src[:strings.Index(src, mark)], "\n") + 1
			err := parseAndValidate([]byte(src))
			if err == nil {
				t.Fatal("no error")
			}
			for _, ve := range ValidationErrors(err) {
				if ve.Field == tt.field && ve.Line == line && strings.Contains(ve.Msg, tt.msg) {
					return
				}
			}
			t.Errorf("want plan.yaml:%d: %s: ...%s..., got:\n%v", line, tt.field, tt.msg, err)
		})
	}
}

func parseAndValidate(src []byte) error {
	p, err := Parse(src)
	if err != nil {
		return err
	}
	return p.Validate()
}

func TestErrorFormat(t *testing.T) {
	_, base := Default()
	src := strings.Replace(string(base), "acknowledge: 10m", "acknowledge: 10x", 1)
	src = strings.Replace(src, "every: 12h", "every: soon", 1)
	lineOf := func(s string) int { return strings.Count(src[:strings.Index(src, s)], "\n") + 1 }
	want := fmt.Sprintf("plan.yaml:%d: levels[1].targets.acknowledge: invalid duration \"10x\" (use a number and a unit: 30s, 10m, 8h)\n"+
		"plan.yaml:%d: checks[1].every: invalid duration \"soon\" (use a number and a unit: 30s, 10m, 8h)", lineOf("10x"), lineOf("soon"))
	if err := parseAndValidate([]byte(src)); err == nil || err.Error() != want {
		t.Errorf("got:\n%v", err)
	}
}

func TestSmallPlans(t *testing.T) {
	tests := []struct{ src, want string }{
		{"", "plan is empty"},
		{"- a\n- b\n", "plan.yaml:1: a plan must be a mapping"},
		{"version: 1\nname: x\nowner: [a\n", "plan.yaml:2: invalid YAML: did not find expected"},
		{"version: 1\nname: x\nlevels: [{id: P0, name: x}]\n", "alert_levels: critical alerts open P1 incidents by default but there is no level P1"},
		{"version: 1\nname: x\nlevels: [{id: P0, name: x}]\nalert_levels: {critical: P0, error: none, warning: none}\n", ""},
		{"name: x\nlevels: [{id: P1, name: x}, {id: P2, name: x}, {id: P3, name: x}]\n", "version: is required: write version: 1"},
		{"version: 1\nname: x\nlevels: [{id: 'P 1', name: x}]\n", `levels[0].id: "P 1" is not a valid id`},
		{"version: 1\nname: x\nlevels: [{id: P0, name: x}]\nalert_levels: {critical: P0}\nchecks: [{id: c, kind: prometheus, url: 'http://p:9090', query: up}]\n", "checks[0]: a prometheus check needs above or below"},
		{"version: 1\nname: x\nlevels: [{id: P0, name: x}]\nalert_levels: {critical: P0}\n---\nversion: 1\n", "one YAML document"},
	}
	for _, tt := range tests {
		err := parseAndValidate([]byte(tt.src))
		if tt.want == "" && err != nil {
			t.Errorf("%q: %v", tt.src, err)
		} else if tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%q: got %v, want %q", tt.src, err, tt.want)
		}
		var ve *ValidationError
		if err != nil && !errors.As(err, &ve) {
			t.Errorf("%q: %T is not a ValidationError", tt.src, err)
		}
	}
}

func TestText(t *testing.T) {
	tx := Text{EN: "Level 1", ZH: "一级"}
	for lang, want := range map[string]string{"zh": "一级", "zh-CN": "一级", "en": "Level 1", "": "Level 1", "fr": "Level 1"} {
		if got := tx.In(lang); got != want {
			t.Errorf("In(%q) = %q, want %q", lang, got, want)
		}
	}
	if got := (Text{EN: "only"}).In("zh"); got != "only" {
		t.Errorf("zh fallback = %q", got)
	}
}

func TestParseHandoffAndCron(t *testing.T) {
	h, err := ParseHandoff("Monday 10:00")
	if err != nil || !h.Weekly || h.Weekday != time.Monday || h.Hour != 10 {
		t.Errorf("handoff = %+v, %v", h, err)
	}
	if h, err := ParseHandoff("09:30"); err != nil || h.Weekly || h.Minute != 30 {
		t.Errorf("handoff = %+v, %v", h, err)
	}
	for expr, ok := range map[string]bool{"0 10 1 1,4,7,10 *": true, "*/5 * * * mon-fri": true, "@daily": true,
		"0 24 * * *": false, "0 0 * * 8": false, "0 0 1 jan-mar *": true, "0 0 5-1 * *": false, "*/0 * * * *": false} {
		if err := ParseCron(expr); (err == nil) != ok {
			t.Errorf("ParseCron(%q) = %v", expr, err)
		}
	}
}
