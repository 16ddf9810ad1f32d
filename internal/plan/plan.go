// Package plan holds the emergency plan (应急预案) as versioned data: its file
// format, validation with line-accurate errors, and the applied versions in the
// database that incidents run under.
package plan

import (
	"fmt"
	"maps"
	"time"

	"go.yaml.in/yaml/v3"
)

// Plan is one emergency plan file. Field order follows the file.
type Plan struct {
	Version     int               `yaml:"version"`
	Name        Text              `yaml:"name"`
	Owner       string            `yaml:"owner,omitempty"` // a person's handle
	ReviewEvery Duration          `yaml:"review_every,omitempty"`
	People      []Person          `yaml:"people,omitempty"`
	Schedules   []Schedule        `yaml:"schedules,omitempty"`
	Escalation  Escalation        `yaml:"escalation,omitempty"`
	Levels      []LevelSpec       `yaml:"levels"`
	AlertLevels map[string]string `yaml:"alert_levels,omitempty"` // alert severity → level id, "none" or "" for no incident
	Roles       []RoleSpec        `yaml:"roles,omitempty"`
	Types       []TypeSpec        `yaml:"types,omitempty"`
	Playbooks   []Playbook        `yaml:"playbooks,omitempty"`
	Templates   []Template        `yaml:"templates,omitempty"`
	Contacts    []Contact         `yaml:"contacts,omitempty"`
	Resources   []Resource        `yaml:"resources,omitempty"`
	Drills      []Drill           `yaml:"drills,omitempty"`
	Checks      []Check           `yaml:"checks,omitempty"`
	Routines    []Routine         `yaml:"routines,omitempty"`
	Readiness   Readiness         `yaml:"readiness,omitempty"`

	lines  map[string]int // field path → line in the source, set by Parse
	source []byte         // the text Parse read
	nodes  []entry        // every node with its path, set by Parse
}

// Person is someone who can be paged or own something.
type Person struct {
	Handle   string            `yaml:"handle"`
	Name     string            `yaml:"name,omitempty"`
	Email    string            `yaml:"email,omitempty"`
	Phone    string            `yaml:"phone,omitempty"`
	Timezone string            `yaml:"timezone,omitempty"`
	Locale   string            `yaml:"locale,omitempty"` // en or zh
	Chat     map[string]string `yaml:"chat,omitempty"`   // channel (dingtalk, feishu, wecom, slack) → user id
}

// Schedule is an on-call rotation.
type Schedule struct {
	ID        string     `yaml:"id"`
	Name      Text       `yaml:"name,omitempty"`
	Timezone  string     `yaml:"timezone,omitempty"`
	Rotation  Rotation   `yaml:"rotation"`
	Overrides []Override `yaml:"overrides,omitempty"`
}

// Rotation hands a schedule from one member to the next every Every at Handoff
// ("Monday 10:00" weekly, "09:00" daily), starting at Start (a date, 2006-01-02).
type Rotation struct {
	Every   Duration `yaml:"every"`
	Handoff string   `yaml:"handoff,omitempty"`
	Start   string   `yaml:"start,omitempty"`
	Members []string `yaml:"members"`
}

// Override puts Person on call instead of the rotation between From and To
// (RFC 3339 or "2006-01-02 15:04" in the schedule's timezone).
type Override struct {
	Person string `yaml:"person"`
	From   string `yaml:"from"`
	To     string `yaml:"to"`
}

// Escalation pages in steps until someone acknowledges, Repeat times over.
type Escalation struct {
	Repeat int              `yaml:"repeat,omitempty"`
	Steps  []EscalationStep `yaml:"steps,omitempty"`
}

// EscalationStep pages Page After the incident was triggered.
type EscalationStep struct {
	After Duration `yaml:"after"`
	Page  Page     `yaml:"page"`
}

// LevelSpec is a severity level with its response policy.
type LevelSpec struct {
	ID                        string   `yaml:"id"`
	Name                      Text     `yaml:"name"`
	Description               Text     `yaml:"description,omitempty"`
	Targets                   Targets  `yaml:"targets,omitempty"`
	Page                      []string `yaml:"page,omitempty"`           // schedules, people or contacts
	RolesRequired             []string `yaml:"roles_required,omitempty"` // role ids
	Notify                    []string `yaml:"notify,omitempty"`         // contacts, people or schedules
	PublicUpdatesNeedApproval bool     `yaml:"public_updates_need_approval,omitempty"`
	WorkingHoursOnly          bool     `yaml:"working_hours_only,omitempty"`
	Postmortem                string   `yaml:"postmortem,omitempty"` // required, optional or none
}

// Targets are a level's response deadlines; zero means none.
type Targets struct {
	Acknowledge         Duration `yaml:"acknowledge,omitempty"`
	FirstInternalNotice Duration `yaml:"first_internal_notice,omitempty"`
	FirstPublicNotice   Duration `yaml:"first_public_notice,omitempty"`
	UpdateEvery         Duration `yaml:"update_every,omitempty"`
	Resolve             Duration `yaml:"resolve,omitempty"`
}

// Postmortem policies of a level.
const (
	PostmortemRequired = "required"
	PostmortemOptional = "optional"
	PostmortemNone     = "none"
)

// RoleSpec is a role in the incident team.
type RoleSpec struct {
	ID      string   `yaml:"id"`
	Name    Text     `yaml:"name"`
	Duties  string   `yaml:"duties,omitempty"`
	Holders []string `yaml:"holders,omitempty"` // people trained for the role
}

// TypeSpec is a kind of incident.
type TypeSpec struct {
	ID           string `yaml:"id"`
	Name         Text   `yaml:"name"`
	Description  Text   `yaml:"description,omitempty"`
	DefaultLevel string `yaml:"default_level,omitempty"`
	Playbook     string `yaml:"playbook,omitempty"`
	Restricted   bool   `yaml:"restricted,omitempty"` // visible only to its responders and admins
}

// Playbook is the checklist an incident type starts with.
type Playbook struct {
	ID    string `yaml:"id"`
	Name  Text   `yaml:"name,omitempty"`
	Tasks []Task `yaml:"tasks"`
}

// Task is one step of a playbook.
type Task struct {
	Title        Text          `yaml:"title"`
	Role         string        `yaml:"role,omitempty"`
	Due          Duration      `yaml:"due,omitempty"` // after the incident starts
	Template     string        `yaml:"template,omitempty"`
	Resource     string        `yaml:"resource,omitempty"`
	Verify       string        `yaml:"verify,omitempty"` // a check that must pass
	Collects     string        `yaml:"collects,omitempty"`
	Compensation *Compensation `yaml:"compensation,omitempty"`
	Contacts     []string      `yaml:"contacts,omitempty"`
}

// Compensation offered to affected users.
type Compensation struct {
	Kind     string  `yaml:"kind"`
	Amount   float64 `yaml:"amount,omitempty"`
	Currency string  `yaml:"currency,omitempty"`
	Note     string  `yaml:"note,omitempty"`
}

// Template is an approved message for a status page phase.
type Template struct {
	ID    string `yaml:"id"`
	Phase string `yaml:"phase,omitempty"`
	Title Text   `yaml:"title,omitempty"`
	Text  Text   `yaml:"text"`
}

// Contact is a vendor, stakeholder group or other party outside the rotation.
type Contact struct {
	ID    string `yaml:"id"`
	Kind  string `yaml:"kind,omitempty"`
	Name  string `yaml:"name,omitempty"`
	Phone string `yaml:"phone,omitempty"`
	Email string `yaml:"email,omitempty"`
	URL   string `yaml:"url,omitempty"`
	SLA   string `yaml:"sla,omitempty"`
	Notes string `yaml:"notes,omitempty"`
}

// Resource is an entry of the resource inventory.
type Resource struct {
	ID               string   `yaml:"id"`
	Kind             string   `yaml:"kind,omitempty"` // standby, backup, runbook, ...
	Description      Text     `yaml:"description,omitempty"`
	Owner            string   `yaml:"owner,omitempty"`
	URL              string   `yaml:"url,omitempty"`
	Schedule         string   `yaml:"schedule,omitempty"` // cron
	Timezone         string   `yaml:"timezone,omitempty"`
	Locations        []string `yaml:"locations,omitempty"`
	Encrypted        bool     `yaml:"encrypted,omitempty"`
	RestoreTestEvery Duration `yaml:"restore_test_every,omitempty"`
	Contacts         []string `yaml:"contacts,omitempty"`
}

// Drill is a scheduled rehearsal incident.
type Drill struct {
	ID          string   `yaml:"id"`
	Title       Text     `yaml:"title,omitempty"`
	Scenario    string   `yaml:"scenario"` // an incident type
	Level       string   `yaml:"level,omitempty"`
	Schedule    string   `yaml:"schedule,omitempty"` // cron
	Timezone    string   `yaml:"timezone,omitempty"`
	Unannounced bool     `yaml:"unannounced,omitempty"`
	Window      Duration `yaml:"window,omitempty"` // may start any time within this window
}

// Check kinds.
const (
	CheckHTTP       = "http"
	CheckTCP        = "tcp"
	CheckDNS        = "dns"
	CheckTLS        = "tls"
	CheckPrometheus = "prometheus"
	CheckLog        = "log"
	CheckHeartbeat  = "heartbeat"
)

// Check is an early-warning probe; most fields apply to one kind only.
type Check struct {
	ID        string            `yaml:"id"`
	Kind      string            `yaml:"kind"`
	Name      Text              `yaml:"name,omitempty"`
	Service   string            `yaml:"service,omitempty"`
	Every     Duration          `yaml:"every,omitempty"`
	Timeout   Duration          `yaml:"timeout,omitempty"`
	FailAfter int               `yaml:"fail_after,omitempty"`
	Type      string            `yaml:"type,omitempty"`
	Level     string            `yaml:"level,omitempty"`
	Severity  string            `yaml:"severity,omitempty"`
	Labels    map[string]string `yaml:"labels,omitempty"`

	// http, prometheus
	URL     string            `yaml:"url,omitempty"`
	Method  string            `yaml:"method,omitempty"`
	Headers map[string]string `yaml:"headers,omitempty"`
	Expect  *Expect           `yaml:"expect,omitempty"`
	// tcp, dns, tls
	Host       string   `yaml:"host,omitempty"`
	Record     string   `yaml:"record,omitempty"` // dns record type
	WarnBefore Duration `yaml:"warn_before,omitempty"`
	// prometheus
	Query string   `yaml:"query,omitempty"`
	Above *float64 `yaml:"above,omitempty"`
	Below *float64 `yaml:"below,omitempty"`
	For   Duration `yaml:"for,omitempty"`
	// log
	Match   *Match   `yaml:"match,omitempty"`
	GroupBy []string `yaml:"group_by,omitempty"`
	Count   int      `yaml:"count,omitempty"`
	Within  Duration `yaml:"within,omitempty"`
	// heartbeat
	Schedule string   `yaml:"schedule,omitempty"` // cron
	Timezone string   `yaml:"timezone,omitempty"`
	Grace    Duration `yaml:"grace,omitempty"`
	Resource string   `yaml:"resource,omitempty"`
}

// Expect is what an HTTP check wants back.
type Expect struct {
	Status     int      `yaml:"status,omitempty"`
	MaxLatency Duration `yaml:"max_latency,omitempty"`
	Body       string   `yaml:"body,omitempty"` // a substring of the body
}

// Match selects log events by one field.
type Match struct {
	Field  string `yaml:"field"`
	Equals string `yaml:"equals,omitempty"`
	Regex  string `yaml:"regex,omitempty"`
}

// Routine is recurring maintenance work.
type Routine struct {
	ID                string   `yaml:"id"`
	Title             Text     `yaml:"title"`
	Schedule          string   `yaml:"schedule"` // cron
	Timezone          string   `yaml:"timezone,omitempty"`
	Owner             string   `yaml:"owner,omitempty"`
	AnnounceBefore    Duration `yaml:"announce_before,omitempty"`
	MaintenanceWindow Duration `yaml:"maintenance_window,omitempty"`
}

// Readiness sets what "ready to respond" means.
type Readiness struct {
	DrillWithin Duration `yaml:"drill_within,omitempty"` // every role needs a holder who drilled this recently
}

// DefaultAlertLevels maps alert severities to levels when a plan has no alert_levels.
var DefaultAlertLevels = map[string]string{"critical": "P1", "error": "P2", "warning": "P3", "info": ""}

// Severities lists the alert severities alert_levels may map, worst first.
var Severities = []string{"critical", "error", "warning", "info"}

// SeverityLevels returns the level for every alert severity, "" meaning open no
// incident: alert_levels over DefaultAlertLevels.
func (p *Plan) SeverityLevels() map[string]string {
	m := maps.Clone(DefaultAlertLevels)
	for k, v := range p.AlertLevels {
		if v == "none" {
			v = ""
		}
		m[k] = v
	}
	return m
}

// Text is shown in the reader's language. In YAML it is {en: ..., zh: ...} or a
// plain string (English).
type Text struct {
	EN string `yaml:"en,omitempty" json:"en"`
	ZH string `yaml:"zh,omitempty" json:"zh"`
}

// In returns the text in lang ("zh", "zh-CN", ...), falling back to English.
func (t Text) In(lang string) string {
	if len(lang) >= 2 && lang[:2] == "zh" && t.ZH != "" {
		return t.ZH
	}
	if t.EN == "" {
		return t.ZH
	}
	return t.EN
}

// IsZero reports whether t has no text in any language.
func (t Text) IsZero() bool { return t.EN == "" && t.ZH == "" }

// UnmarshalYAML accepts a string or a mapping with the keys en and zh only.
func (t *Text) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		*t = Text{EN: n.Value}
		return nil
	case yaml.MappingNode:
		var errs []string
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			var dst *string
			switch k.Value {
			case "en":
				dst = &t.EN
			case "zh":
				dst = &t.ZH
			default:
				errs = append(errs, fmt.Sprintf("line %d: field %s not found in type plan.Text", k.Line, k.Value))
				continue
			}
			if v.Kind != yaml.ScalarNode {
				errs = append(errs, fmt.Sprintf("line %d: cannot unmarshal %s into string", v.Line, v.ShortTag()))
				continue
			}
			*dst = v.Value
		}
		if errs != nil {
			return &yaml.TypeError{Errors: errs}
		}
		return nil
	}
	return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: cannot unmarshal %s into plan.Text", n.Line, n.ShortTag())}}
}

// Duration is a time.Duration written in Go syntax ("90s", "10m", "8760h").
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

func (d Duration) String() string { return time.Duration(d).String() }

// UnmarshalYAML parses a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: cannot unmarshal %s into plan.Duration", n.Line, n.ShortTag())}}
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: invalid duration %q", n.Line, n.Value)}}
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the Go duration string.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// Page is who an escalation step pages: the level's own page list (Level, written
// "level") and/or the people, schedules or contacts in Targets.
type Page struct {
	Level   bool
	Targets []string
}

// UnmarshalYAML accepts "level", one id, or a list of ids (which may include "level").
func (p *Page) UnmarshalYAML(n *yaml.Node) error {
	var ids []string
	switch n.Kind {
	case yaml.ScalarNode:
		ids = []string{n.Value}
	case yaml.SequenceNode:
		if err := n.Decode(&ids); err != nil {
			return err
		}
	default:
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: cannot unmarshal %s into plan.Page", n.Line, n.ShortTag())}}
	}
	*p = Page{}
	for _, id := range ids {
		if id == "level" {
			p.Level = true
		} else {
			p.Targets = append(p.Targets, id)
		}
	}
	return nil
}

// MarshalYAML writes "level" or a list.
func (p Page) MarshalYAML() (any, error) {
	if p.Level && len(p.Targets) == 0 {
		return "level", nil
	}
	ids := p.Targets
	if p.Level {
		ids = append([]string{"level"}, ids...)
	}
	return ids, nil
}
