package web

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/firebreak/firebreak/internal/contact"
	"github.com/firebreak/firebreak/internal/escalation"
	"github.com/firebreak/firebreak/internal/i18n"
	"github.com/firebreak/firebreak/internal/oncall"
)

// TestOnCallMessages checks the message keys the on-call pages build at run
// time, and every key their Go code names, against the catalogue.
func TestOnCallMessages(t *testing.T) {
	need := func(where, key string) {
		t.Helper()
		if !i18n.Has(key) {
			t.Errorf("%s: the catalogue lacks %q", where, key)
		}
	}
	for _, k := range contact.Kinds() {
		need("delivery kinds", "oncall.kind."+k)
	}
	for _, m := range []string{oncall.ModeAdd, oncall.ModeReplace, oncall.ModeAll} {
		need("override modes", "schedule.mode."+m)
	}
	for _, k := range []string{escalation.KindUser, escalation.KindSchedule, escalation.KindTeam, escalation.KindChannel} {
		need("target kinds", "policy.kind."+k)
	}
	for _, k := range weekdayKeys {
		need("days", k)
	}
	files, err := filepath.Glob("ui_oncall*.go")
	if err != nil {
		t.Fatal(err)
	}
	// Keys in i18n.T calls, confirmations (?done=…), and message keys passed on.
	tCall := regexp.MustCompile(`i18n\.T\([^,()]*(?:\([^()]*\))?,\s*"([^"]+)"`)
	doneArg := regexp.MustCompile(`done=([a-z_]+)`)
	doneVar := regexp.MustCompile(`doneKey\s*:?=\s*"([a-z_]+)"`)
	keyArg := regexp.MustCompile(`"((?:me|people|person|teams|team|channels|schedules|schedule|schedule_edit|policies|policy|policy_edit|oncall|feed)\.[a-z_]+(?:\.[a-z_]+)?)"`)
	n := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, re := range []*regexp.Regexp{tCall, keyArg} {
			for _, m := range re.FindAllStringSubmatch(string(src), -1) {
				if !strings.HasSuffix(m[1], ".") {
					n++
					need(name, m[1])
				}
			}
		}
		for _, re := range []*regexp.Regexp{doneArg, doneVar} {
			for _, m := range re.FindAllStringSubmatch(string(src), -1) {
				n++
				need(name, "oncall.done."+m[1])
			}
		}
	}
	if n < 60 {
		t.Errorf("found only %d keys: is the scan broken?", n)
	}
}

func TestRestrictText(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []oncall.WindowSpec
		text string
	}{
		{"", nil, ""},
		{"09:00-18:00", []oncall.WindowSpec{{From: "09:00", To: "18:00"}}, "09:00-18:00"},
		{"mon-fri 09:00-18:00; sat,sun 10:00-14:00", []oncall.WindowSpec{
			{Days: []string{"mon", "tue", "wed", "thu", "fri"}, From: "09:00", To: "18:00"},
			{Days: []string{"sat", "sun"}, From: "10:00", To: "14:00"}}, "mon-fri 09:00-18:00; sat,sun 10:00-14:00"},
		{"FRI-MON 20:00-08:00", []oncall.WindowSpec{{Days: []string{"fri", "sat", "sun", "mon"}, From: "20:00", To: "08:00"}}, "mon,fri-sun 20:00-08:00"},
		{"mon,wed 09:00-12:00\ntue 13:00-17:00；", []oncall.WindowSpec{
			{Days: []string{"mon", "wed"}, From: "09:00", To: "12:00"}, {Days: []string{"tue"}, From: "13:00", To: "17:00"}}, "mon,wed 09:00-12:00; tue 13:00-17:00"},
	} {
		got, err := parseRestrict(c.in)
		if err != nil || !slices.EqualFunc(got, c.want, func(a, b oncall.WindowSpec) bool {
			return slices.Equal(a.Days, b.Days) && a.From == b.From && a.To == b.To
		}) {
			t.Errorf("parseRestrict(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
		if text := restrictText(got); text != c.text {
			t.Errorf("restrictText(%q) = %q, want %q", c.in, text, c.text)
		}
	}
	for _, bad := range []string{"someday 09:00-10:00", "mon 09:00", "mon tue 09:00-10:00", "mon-xyz 09:00-10:00"} {
		if _, err := parseRestrict(bad); err == nil {
			t.Errorf("parseRestrict(%q) accepted it", bad)
		}
	}
}

func TestFormDurations(t *testing.T) {
	for in, want := range map[string]time.Duration{"": 0, "0": 0, "10": 10 * time.Minute, " 90 ": 90 * time.Minute, "1h30m": 90 * time.Minute, "45s": 45 * time.Second} {
		if got, ok := formDuration(in); !ok || time.Duration(got) != want {
			t.Errorf("formDuration(%q) = %v, %v; want %v", in, time.Duration(got), ok, want)
		}
	}
	for _, bad := range []string{"-5", "soon", "-1h", "99999999"} {
		if _, ok := formDuration(bad); ok {
			t.Errorf("formDuration(%q) accepted it", bad)
		}
	}
	for d, want := range map[time.Duration]string{0: "0", 10 * time.Minute: "10m", 90 * time.Minute: "1h30m", 2 * time.Hour: "2h", 45 * time.Second: "45s"} {
		if got := durationText(escalation.Duration(d)); got != want {
			t.Errorf("durationText(%v) = %q, want %q", d, got, want)
		}
		if back, ok := formDuration(durationText(escalation.Duration(d))); !ok || time.Duration(back) != d {
			t.Errorf("%v does not survive the form: %v", d, time.Duration(back))
		}
	}
}

func TestWeekStartAndSpan(t *testing.T) {
	sh, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	// Sunday 23:30 in Shanghai: its week began on the Monday six days before.
	at := time.Date(2026, 5, 10, 23, 30, 0, 0, sh) // a Sunday
	if got := weekStart(at, sh); !got.Equal(time.Date(2026, 5, 4, 0, 0, 0, 0, sh)) {
		t.Errorf("weekStart = %v", got)
	}
	// The same instant in UTC is still Sunday 15:30: the week of May 4 too.
	if got := weekStart(at, time.UTC); !got.Equal(time.Date(2026, 5, 4, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("weekStart in UTC = %v", got)
	}
	if got := span(time.Date(2026, 5, 4, 10, 0, 0, 0, sh), time.Date(2026, 5, 4, 18, 0, 0, 0, sh), sh); got != "05-04 10:00 – 18:00" {
		t.Errorf("span same day = %q", got)
	}
	if got := span(time.Date(2026, 5, 4, 10, 0, 0, 0, sh), time.Date(2026, 5, 11, 10, 0, 0, 0, sh), sh); got != "05-04 10:00 – 05-11 10:00" {
		t.Errorf("span = %q", got)
	}
}
