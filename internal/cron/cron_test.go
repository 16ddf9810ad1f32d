package cron

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // tests must not depend on the host's zoneinfo
)

func mustLoc(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("LoadLocation(%q): %v", name, err)
	}
	return loc
}

func mustParse(t testing.TB, expr string, loc *time.Location) *Schedule {
	t.Helper()
	s, err := Parse(expr, loc)
	if err != nil {
		t.Fatalf("Parse(%q): %v", expr, err)
	}
	return s
}

func mustTime(t testing.TB, v string) time.Time {
	t.Helper()
	if v == "" {
		return time.Time{}
	}
	tm, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		t.Fatalf("time.Parse(%q): %v", v, err)
	}
	return tm
}

func set(vals ...int) uint64 {
	var b uint64
	for _, v := range vals {
		b |= 1 << uint(v)
	}
	return b
}

func span(lo, hi, step int) uint64 {
	var b uint64
	for v := lo; v <= hi; v += step {
		b |= 1 << uint(v)
	}
	return b
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		expr string
		want string // full message, or a substring when prefixed with "~"
	}{
		{"0 25 * * *", `cron "0 25 * * *": hour: 25 is out of range 0-23`},
		{"60 * * * *", `cron "60 * * * *": minute: 60 is out of range 0-59`},
		{"* * 0 * *", `cron "* * 0 * *": day-of-month: 0 is out of range 1-31`},
		{"* * 32 * *", `cron "* * 32 * *": day-of-month: 32 is out of range 1-31`},
		{"* * * 13 *", `cron "* * * 13 *": month: 13 is out of range 1-12`},
		{"* * * 0 *", `cron "* * * 0 *": month: 0 is out of range 1-12`},
		{"* * * * 8", `cron "* * * * 8": day-of-week: 8 is out of range 0-7`},
		{"* * * *", `cron "* * * *": expected 5 fields (minute hour day-of-month month day-of-week), got 4`},
		{"* * * * * *", `cron "* * * * * *": expected 5 fields (minute hour day-of-month month day-of-week), got 6`},
		{"", `cron "": expected 5 fields (minute hour day-of-month month day-of-week), got 0`},
		{"   ", `~expected 5 fields`},
		{"@reboot", `cron "@reboot": unknown macro "@reboot" (want @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly)`},
		{"@daily *", `~expected 5 fields`},
		{"*/0 * * * *", `cron "*/0 * * * *": minute: step 0 in "*/0" is out of range 1-59`},
		{"* */24 * * *", `cron "* */24 * * *": hour: step 24 in "*/24" is out of range 1-23`},
		{"*/x * * * *", `cron "*/x * * * *": minute: invalid step "x" in "*/x"`},
		{"*/ * * * *", `minute: invalid step "" in "*/"`},
		{"*/+5 * * * *", `minute: invalid step "+5" in "*/+5"`},
		{"* 5-2 * * *", `cron "* 5-2 * * *": hour: invalid range "5-2": start 5 is after end 2`},
		{"* * * * sat-mon", `day-of-week: invalid range "sat-mon": start 6 is after end 1`},
		{"* * * dec-jan *", `month: invalid range "dec-jan": start 12 is after end 1`},
		{"1,,2 * * * *", `cron "1,,2 * * * *": minute: empty element in list "1,,2"`},
		{"1, * * * *", `minute: empty element in list "1,"`},
		{"* * * foo *", `cron "* * * foo *": month: invalid value "foo" (want a number 1-12 or a name)`},
		{"* * * * mon-funday", `day-of-week: invalid value "funday" (want a number 0-7 or a name)`},
		{"* * * mon *", `month: invalid value "mon" (want a number 1-12 or a name)`},
		{"* * * * jan", `day-of-week: invalid value "jan" (want a number 0-7 or a name)`},
		{"* * mon * *", `day-of-month: invalid value "mon" (want a number 1-31)`},
		{"a * * * *", `minute: invalid value "a" (want a number 0-59)`},
		{"-5 * * * *", `minute: missing value in "-5"`},
		{"5- * * * *", `minute: missing value in "5-"`},
		{"/5 * * * *", `minute: missing value in "/5"`},
		{"1-2-3 * * * *", `minute: invalid value "2-3" (want a number 0-59)`},
		{"* 1-30 * * *", `hour: 30 is out of range 0-23`},
		{"* * * * 1-9", `day-of-week: 9 is out of range 0-7`},
		{"99999999999999999999 * * * *", `minute: 99999999999999999999 is out of range 0-59`},
		{"? * * * *", `minute: invalid value "?"`},
		{"0 0 * * * UTC", `~got 6`},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			s, err := Parse(tt.expr, nil)
			if err == nil {
				t.Fatalf("Parse(%q) = %v, want error", tt.expr, s)
			}
			got := err.Error()
			if want, ok := strings.CutPrefix(tt.want, "~"); ok || !strings.HasPrefix(tt.want, "cron ") {
				if !strings.Contains(got, want) {
					t.Errorf("error = %q, want it to contain %q", got, want)
				}
				return
			}
			if got != tt.want {
				t.Errorf("error = %q\n        want %q", got, tt.want)
			}
		})
	}
}

func TestParseFields(t *testing.T) {
	type fieldsWant struct {
		minute, hour, dom, month, dow uint64
		domStar, dowStar              bool
	}
	all := fieldsWant{span(0, 59, 1), span(0, 23, 1), span(1, 31, 1), span(1, 12, 1), span(0, 6, 1), true, true}
	with := func(f func(*fieldsWant)) fieldsWant { w := all; f(&w); return w }
	tests := []struct {
		expr string
		want fieldsWant
	}{
		{"* * * * *", all},
		// numbers and lists
		{"5 * * * *", with(func(w *fieldsWant) { w.minute = set(5) })},
		{"0,15,30,45 1,13 * * *", with(func(w *fieldsWant) { w.minute = set(0, 15, 30, 45); w.hour = set(1, 13) })},
		{"1-3,10,20-21 * * * *", with(func(w *fieldsWant) { w.minute = set(1, 2, 3, 10, 20, 21) })},
		{"3,3,3 * * * *", with(func(w *fieldsWant) { w.minute = set(3) })},
		// steps
		{"*/15 * * * *", with(func(w *fieldsWant) { w.minute = set(0, 15, 30, 45) })},
		{"10-50/20 * * * *", with(func(w *fieldsWant) { w.minute = set(10, 30, 50) })},
		{"5/20 * * * *", with(func(w *fieldsWant) { w.minute = set(5, 25, 45) })},
		{"* */7 * * *", with(func(w *fieldsWant) { w.hour = set(0, 7, 14, 21) })},
		{"* * */10 * *", with(func(w *fieldsWant) { w.dom = set(1, 11, 21, 31) })},
		{"* * * */3 *", with(func(w *fieldsWant) { w.month = set(1, 4, 7, 10) })},
		{"* * * * */2", with(func(w *fieldsWant) { w.dow = set(0, 2, 4, 6) })},
		{"* * * * 1-7/2", with(func(w *fieldsWant) { w.dow = set(0, 1, 3, 5); w.dowStar = false })},
		{"*/59 * * * *", with(func(w *fieldsWant) { w.minute = set(0, 59) })},
		{"*/1 * * * *", all},
		// names, case-insensitive, and 7 = Sunday
		{"* * * jan,JUL,Dec *", with(func(w *fieldsWant) { w.month = set(1, 7, 12) })},
		{"* * * mar-may *", with(func(w *fieldsWant) { w.month = set(3, 4, 5) })},
		{"* * * jan-dec/6 *", with(func(w *fieldsWant) { w.month = set(1, 7) })},
		{"* * * * mon-FRI", with(func(w *fieldsWant) { w.dow = set(1, 2, 3, 4, 5); w.dowStar = false })},
		{"* * * * Sun,sat", with(func(w *fieldsWant) { w.dow = set(0, 6); w.dowStar = false })},
		{"* * * * 7", with(func(w *fieldsWant) { w.dow = set(0); w.dowStar = false })},
		{"* * * * 0", with(func(w *fieldsWant) { w.dow = set(0); w.dowStar = false })},
		{"* * * * 5-7", with(func(w *fieldsWant) { w.dow = set(0, 5, 6); w.dowStar = false })},
		{"* * * * fri-sun", with(func(w *fieldsWant) { w.dow = set(0, 5, 6); w.dowStar = false })},
		{"* * * * 0-7", with(func(w *fieldsWant) { w.dowStar = false })},
		{"* * * 1,jun *", with(func(w *fieldsWant) { w.month = set(1, 6) })},
		// restricted day fields
		{"* * 1,15 * *", with(func(w *fieldsWant) { w.dom = set(1, 15); w.domStar = false })},
		{"* * */2 * 1", with(func(w *fieldsWant) { w.dom = span(1, 31, 2); w.dow = set(1); w.dowStar = false })},
		// whitespace
		{"  0\t0   *  * *\n", with(func(w *fieldsWant) { w.minute = set(0); w.hour = set(0) })},
		// macros
		{"@yearly", with(func(w *fieldsWant) {
			w.minute, w.hour, w.dom, w.month, w.domStar = set(0), set(0), set(1), set(1), false
		})},
		{"@annually", with(func(w *fieldsWant) {
			w.minute, w.hour, w.dom, w.month, w.domStar = set(0), set(0), set(1), set(1), false
		})},
		{"@monthly", with(func(w *fieldsWant) { w.minute, w.hour, w.dom, w.domStar = set(0), set(0), set(1), false })},
		{"@weekly", with(func(w *fieldsWant) { w.minute, w.hour, w.dow, w.dowStar = set(0), set(0), set(0), false })},
		{"@daily", with(func(w *fieldsWant) { w.minute, w.hour = set(0), set(0) })},
		{"@midnight", with(func(w *fieldsWant) { w.minute, w.hour = set(0), set(0) })},
		{"@HOURLY", with(func(w *fieldsWant) { w.minute = set(0) })},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			s := mustParse(t, tt.expr, nil)
			got := fieldsWant{s.minute, s.hour, s.dom, s.month, s.dow, s.domStar, s.dowStar}
			if got != tt.want {
				t.Errorf("Parse(%q) fields\n got %+v\nwant %+v", tt.expr, got, tt.want)
			}
			if s.String() != strings.TrimSpace(tt.expr) {
				t.Errorf("String() = %q, want %q", s.String(), strings.TrimSpace(tt.expr))
			}
			if s.Location() != time.UTC {
				t.Errorf("Location() = %v, want UTC for nil loc", s.Location())
			}
		})
	}
}

type nextCase struct {
	name, expr, zone, from, want string // want "" = zero time
}

func runNext(t *testing.T, tests []nextCase, prev bool) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var loc *time.Location
			if tt.zone != "" {
				loc = mustLoc(t, tt.zone)
			}
			s := mustParse(t, tt.expr, loc)
			from, want := mustTime(t, tt.from), mustTime(t, tt.want)
			var got time.Time
			if prev {
				got = s.Prev(from)
			} else {
				got = s.Next(from)
			}
			if !got.Equal(want) || got.IsZero() != want.IsZero() {
				t.Fatalf("%q in %s from %s = %s, want %s", tt.expr, s.Location(), from.Format(time.RFC3339Nano), fmtTime(got), fmtTime(want))
			}
			if !got.IsZero() && got.Location() != s.Location() {
				t.Errorf("result location = %v, want %v", got.Location(), s.Location())
			}
		})
	}
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "zero"
	}
	return t.Format(time.RFC3339) + " (" + t.UTC().Format(time.RFC3339) + ")"
}

func TestNext(t *testing.T) {
	runNext(t, []nextCase{
		{"every minute", "* * * * *", "", "2024-05-01T10:00:30Z", "2024-05-01T10:01:00Z"},
		{"strictly after", "* * * * *", "", "2024-05-01T10:00:00Z", "2024-05-01T10:01:00Z"},
		{"just before", "* * * * *", "", "2024-05-01T09:59:59.999999999Z", "2024-05-01T10:00:00Z"},
		{"hourly", "@hourly", "", "2024-05-01T10:00:00Z", "2024-05-01T11:00:00Z"},
		{"step", "*/15 * * * *", "", "2024-05-01T10:16:00Z", "2024-05-01T10:30:00Z"},
		{"list", "5,35 * * * *", "", "2024-05-01T10:36:00Z", "2024-05-01T11:05:00Z"},
		{"day rollover", "30 9 * * *", "", "2024-05-01T09:30:00Z", "2024-05-02T09:30:00Z"},
		{"month rollover", "0 0 1 * *", "", "2024-04-15T00:00:00Z", "2024-05-01T00:00:00Z"},
		{"year rollover", "0 0 1 1 *", "", "2024-12-31T23:59:00Z", "2025-01-01T00:00:00Z"},
		{"last minute of year", "59 23 31 12 *", "", "2024-12-31T23:59:00Z", "2025-12-31T23:59:00Z"},
		{"31st skips short months", "0 0 31 * *", "", "2024-04-01T00:00:00Z", "2024-05-31T00:00:00Z"},
		{"30th skips february", "0 12 30 * *", "", "2024-01-30T12:00:00Z", "2024-03-30T12:00:00Z"},
		{"month names", "0 0 1 jun,dec *", "", "2024-06-01T00:00:00Z", "2024-12-01T00:00:00Z"},
		{"leap day", "0 0 29 2 *", "", "2023-03-01T00:00:00Z", "2024-02-29T00:00:00Z"},
		{"next leap day", "0 0 29 2 *", "", "2024-02-29T00:00:00Z", "2028-02-29T00:00:00Z"},
		{"2000 is leap", "0 0 29 2 *", "", "1999-01-01T00:00:00Z", "2000-02-29T00:00:00Z"},
		{"2100 is not leap: beyond 5 years", "0 0 29 2 *", "", "2096-03-01T00:00:00Z", ""},
		{"feb 28 in non-leap", "0 0 28 2 *", "", "2023-02-28T00:00:00Z", "2024-02-28T00:00:00Z"},
		{"weekdays", "*/15 9-17 * * mon-fri", "", "2024-09-06T17:50:00Z", "2024-09-09T09:00:00Z"},
		{"sunday as 7", "0 12 * * 7", "", "2024-09-01T00:00:00Z", "2024-09-01T12:00:00Z"},
		{"fri-sun", "0 0 * * 5-7", "", "2024-09-07T01:00:00Z", "2024-09-08T00:00:00Z"},
		{"weekly", "@weekly", "", "2024-09-04T00:00:00Z", "2024-09-08T00:00:00Z"},
		{"yearly", "@yearly", "", "2024-01-01T00:00:00Z", "2025-01-01T00:00:00Z"},
		{"monthly", "@monthly", "", "2024-01-31T00:00:00Z", "2024-02-01T00:00:00Z"},
		// DOM/DOW OR rule: 13th OR Friday.
		{"or rule: friday first", "0 0 13 * fri", "", "2024-09-01T00:00:00Z", "2024-09-06T00:00:00Z"},
		{"or rule: then the 13th", "0 0 13 * fri", "", "2024-09-06T00:00:00Z", "2024-09-13T00:00:00Z"},
		{"or rule: 13th not friday", "0 0 13 * fri", "", "2024-10-11T00:00:00Z", "2024-10-13T00:00:00Z"},
		{"or rule: 1st or monday", "0 0 1-7 * mon", "", "2024-09-07T12:00:00Z", "2024-09-09T00:00:00Z"},
		{"or rule: feb 30 or monday", "0 0 30 2 mon", "", "2024-02-20T00:00:00Z", "2024-02-26T00:00:00Z"},
		{"dom only", "0 0 13 * *", "", "2024-09-01T00:00:00Z", "2024-09-13T00:00:00Z"},
		{"dow only", "0 0 * * fri", "", "2024-09-06T00:00:00Z", "2024-09-13T00:00:00Z"},
		// A field starting with "*" is unrestricted (cronie): AND of odd days and Mondays.
		{"and rule with */2", "0 0 */2 * 1", "", "2024-09-01T00:00:00Z", "2024-09-09T00:00:00Z"},
		{"and rule with */2 next", "0 0 */2 * 1", "", "2024-09-09T00:00:00Z", "2024-09-23T00:00:00Z"},
		// Time zones.
		{"shanghai from utc", "0 22 * * *", "Asia/Shanghai", "2024-05-01T13:00:00Z", "2024-05-01T14:00:00Z"},
		{"shanghai from utc after", "0 22 * * *", "Asia/Shanghai", "2024-05-01T14:00:00Z", "2024-05-02T14:00:00Z"},
		{"shanghai date differs from utc", "0 6 * * mon", "Asia/Shanghai", "2024-09-08T21:00:00Z", "2024-09-08T22:00:00Z"},
		{"kolkata half hour", "0 0 * * *", "Asia/Kolkata", "2024-05-01T00:00:00Z", "2024-05-01T18:30:00Z"},
		{"from far past", "0 0 1 1 *", "", "0001-01-01T00:00:00Z", "0002-01-01T00:00:00Z"},
		// Impossible dates.
		{"feb 30", "0 0 30 2 *", "", "2024-01-01T00:00:00Z", ""},
		{"feb 31", "0 0 31 2 *", "America/New_York", "2024-01-01T00:00:00Z", ""},
		{"31st of 30-day months", "0 0 31 2,4,6,9,11 *", "", "2024-01-01T00:00:00Z", ""},
	}, false)
}

func TestPrev(t *testing.T) {
	runNext(t, []nextCase{
		{"every minute", "* * * * *", "", "2024-05-01T10:00:30Z", "2024-05-01T10:00:00Z"},
		{"at or before", "* * * * *", "", "2024-05-01T10:00:00Z", "2024-05-01T10:00:00Z"},
		{"just before", "0 * * * *", "", "2024-05-01T09:59:59.999999999Z", "2024-05-01T09:00:00Z"},
		{"step", "*/15 * * * *", "", "2024-05-01T10:14:00Z", "2024-05-01T10:00:00Z"},
		{"year rollover", "0 0 1 1 *", "", "2024-12-31T23:59:00Z", "2024-01-01T00:00:00Z"},
		{"last of previous year", "59 23 31 12 *", "", "2025-01-01T00:00:00Z", "2024-12-31T23:59:00Z"},
		{"31st skips short months", "0 0 31 * *", "", "2024-05-30T00:00:00Z", "2024-03-31T00:00:00Z"},
		{"leap day", "0 0 29 2 *", "", "2027-06-01T00:00:00Z", "2024-02-29T00:00:00Z"},
		{"or rule", "0 0 13 * fri", "", "2024-09-12T00:00:00Z", "2024-09-06T00:00:00Z"},
		{"weekdays", "*/15 9-17 * * mon-fri", "", "2024-09-09T08:59:00Z", "2024-09-06T17:45:00Z"},
		{"shanghai", "0 22 * * *", "Asia/Shanghai", "2024-05-01T13:59:59Z", "2024-04-30T14:00:00Z"},
		{"feb 30", "0 0 30 2 *", "", "2024-01-01T00:00:00Z", ""},
		{"to far past", "0 0 1 1 *", "", "0001-06-01T00:00:00Z", "0001-01-01T00:00:00Z"},
	}, true)
}

func TestDST(t *testing.T) {
	// America/New_York: 2024-03-10 02:00 EST -> 03:00 EDT (07:00Z);
	// 2024-11-03 02:00 EDT -> 01:00 EST (06:00Z).
	// Europe/Berlin: 2024-03-31 02:00 CET -> 03:00 CEST (01:00Z);
	// 2024-10-27 03:00 CEST -> 02:00 CET (01:00Z).
	const ny, berlin = "America/New_York", "Europe/Berlin"
	t.Run("next", func(t *testing.T) {
		runNext(t, []nextCase{
			{"ny gap runs after gap", "30 2 * * *", ny, "2024-03-10T01:00:00-05:00", "2024-03-10T03:00:00-04:00"},
			{"ny gap next day normal", "30 2 * * *", ny, "2024-03-10T03:00:00-04:00", "2024-03-11T02:30:00-04:00"},
			{"ny gap on the hour", "0 2 * * *", ny, "2024-03-09T03:00:00-05:00", "2024-03-10T03:00:00-04:00"},
			{"ny gap collapses", "*/15 * * * *", ny, "2024-03-10T01:50:00-05:00", "2024-03-10T03:00:00-04:00"},
			{"ny gap collapses once", "*/15 * * * *", ny, "2024-03-10T03:00:00-04:00", "2024-03-10T03:15:00-04:00"},
			{"ny hourly :30 in gap", "30 * * * *", ny, "2024-03-10T01:45:00-05:00", "2024-03-10T03:00:00-04:00"},
			{"ny hourly :30 after gap", "30 * * * *", ny, "2024-03-10T03:00:00-04:00", "2024-03-10T03:30:00-04:00"},
			{"ny overlap first occurrence", "30 1 * * *", ny, "2024-11-03T00:00:00-04:00", "2024-11-03T01:30:00-04:00"},
			{"ny overlap runs once", "30 1 * * *", ny, "2024-11-03T01:30:00-04:00", "2024-11-04T01:30:00-05:00"},
			{"ny overlap second half", "30 1 * * *", ny, "2024-11-03T01:15:00-05:00", "2024-11-04T01:30:00-05:00"},
			{"ny hourly skips repeat", "0 * * * *", ny, "2024-11-03T01:00:00-04:00", "2024-11-03T02:00:00-05:00"},
			{"ny half-hourly in repeat", "*/30 * * * *", ny, "2024-11-03T01:10:00-05:00", "2024-11-03T02:00:00-05:00"},
			{"ny every minute in repeat", "* * * * *", ny, "2024-11-03T01:59:00-04:00", "2024-11-03T02:00:00-05:00"},
			{"ny daily 22 over dst", "0 22 * * *", ny, "2024-03-09T22:00:00-05:00", "2024-03-10T22:00:00-04:00"},
			{"berlin gap", "30 2 * * *", berlin, "2024-03-31T00:00:00+01:00", "2024-03-31T03:00:00+02:00"},
			{"berlin gap next day", "30 2 * * *", berlin, "2024-03-31T03:00:00+02:00", "2024-04-01T02:30:00+02:00"},
			{"berlin overlap first", "30 2 * * *", berlin, "2024-10-27T00:00:00+02:00", "2024-10-27T02:30:00+02:00"},
			{"berlin overlap once", "30 2 * * *", berlin, "2024-10-27T02:30:00+02:00", "2024-10-28T02:30:00+01:00"},
			{"berlin overlap second half", "30 2 * * *", berlin, "2024-10-27T02:10:00+01:00", "2024-10-28T02:30:00+01:00"},
			{"berlin hourly in repeat", "0 * * * *", berlin, "2024-10-27T02:00:00+02:00", "2024-10-27T03:00:00+01:00"},
			// Samoa skipped 2011-12-30 entirely: every wall time that day maps to
			// the first instant after the gap.
			{"apia skipped day", "0 12 * * *", "Pacific/Apia", "2011-12-29T12:00:00-10:00", "2011-12-31T00:00:00+14:00"},
			{"apia after skipped day", "0 12 * * *", "Pacific/Apia", "2011-12-31T00:00:00+14:00", "2011-12-31T12:00:00+14:00"},
			// Lord Howe shifts by 30 minutes: 2024-04-07 02:00 +11 -> 01:30 +10:30.
			{"lord howe overlap", "45 1 * * *", "Australia/Lord_Howe", "2024-04-07T01:50:00+10:30", "2024-04-08T01:45:00+10:30"},
			// 2024-10-06 02:00 +10:30 -> 02:30 +11.
			{"lord howe gap", "15 2 * * *", "Australia/Lord_Howe", "2024-10-06T00:00:00+10:30", "2024-10-06T02:30:00+11:00"},
		}, false)
	})
	t.Run("prev", func(t *testing.T) {
		runNext(t, []nextCase{
			{"ny gap at activation", "30 2 * * *", ny, "2024-03-10T03:00:00-04:00", "2024-03-10T03:00:00-04:00"},
			{"ny gap just before", "30 2 * * *", ny, "2024-03-10T01:59:59-05:00", "2024-03-09T02:30:00-05:00"},
			{"ny overlap second half", "30 1 * * *", ny, "2024-11-03T01:15:00-05:00", "2024-11-03T01:30:00-04:00"},
			{"ny half-hourly in repeat", "*/30 * * * *", ny, "2024-11-03T01:59:00-05:00", "2024-11-03T01:30:00-04:00"},
			{"ny every minute in repeat", "* * * * *", ny, "2024-11-03T01:10:30-05:00", "2024-11-03T01:59:00-04:00"},
			{"berlin overlap", "30 2 * * *", berlin, "2024-10-28T02:29:00+01:00", "2024-10-27T02:30:00+02:00"},
			{"apia skipped day", "0 12 * * *", "Pacific/Apia", "2011-12-31T11:00:00+14:00", "2011-12-31T00:00:00+14:00"},
		}, true)
	})
}

// randExpr returns a random valid expression, biased toward schedules that
// match often enough to be interesting.
func randExpr(r *rand.Rand) string {
	elem := func(min, max int) string {
		a := min + r.IntN(max-min+1)
		b := a + r.IntN(max-a+1)
		switch r.IntN(6) {
		case 0:
			return "*"
		case 1:
			return fmt.Sprintf("*/%d", 1+r.IntN(max))
		case 2:
			return fmt.Sprint(a)
		case 3:
			return fmt.Sprintf("%d-%d", a, b)
		case 4:
			return fmt.Sprintf("%d-%d/%d", a, b, 1+r.IntN(max))
		default:
			return fmt.Sprintf("%d/%d", a, 1+r.IntN(max))
		}
	}
	field := func(min, max, pStar int) string {
		if r.IntN(100) < pStar {
			return "*"
		}
		n := 1 + r.IntN(3)
		parts := make([]string, n)
		for i := range parts {
			parts[i] = elem(min, max)
		}
		return strings.Join(parts, ",")
	}
	return strings.Join([]string{
		field(0, 59, 10), field(0, 23, 30), field(1, 31, 70), field(1, 12, 80), field(0, 7, 70),
	}, " ")
}

var propertyZones = []string{
	"UTC", "America/New_York", "Europe/Berlin", "Asia/Shanghai", "Australia/Lord_Howe",
	"Pacific/Apia", "America/Sao_Paulo", "Asia/Kolkata", "Africa/Casablanca", "America/St_Johns",
}

func TestNextPrevSymmetry(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	n := 3000
	if testing.Short() {
		n = 300
	}
	lo := time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	hi := time.Date(2050, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	for i := range n {
		expr := randExpr(r)
		loc := mustLoc(t, propertyZones[i%len(propertyZones)])
		s := mustParse(t, expr, loc)
		tm := time.Unix(lo+r.Int64N(hi-lo), r.Int64N(1e9))
		if next := s.Next(tm); !next.IsZero() {
			if !next.After(tm) {
				t.Fatalf("%q %s: Next(%s) = %s, not after", expr, loc, tm, next)
			}
			if p := s.Prev(next); !p.Equal(next) {
				t.Fatalf("%q %s: Prev(Next(%s)=%s) = %s", expr, loc, tm, fmtTime(next), fmtTime(p))
			}
		}
		if prev := s.Prev(tm); !prev.IsZero() {
			if prev.After(tm) {
				t.Fatalf("%q %s: Prev(%s) = %s, after", expr, loc, tm, prev)
			}
			if n := s.Next(prev.Add(-time.Nanosecond)); !n.Equal(prev) {
				t.Fatalf("%q %s: Next(Prev(%s)-1ns = %s) = %s", expr, loc, tm, fmtTime(prev), fmtTime(n))
			}
		}
	}
}

// matchesWall is an independent, naive check of one wall-clock minute.
func (s *Schedule) matchesWall(w time.Time) bool {
	bit := func(b uint64, v int) bool { return b&(1<<uint(v)) != 0 }
	if !bit(s.minute, w.Minute()) || !bit(s.hour, w.Hour()) || !bit(s.month, int(w.Month())) {
		return false
	}
	dom, dow := bit(s.dom, w.Day()), bit(s.dow, int(w.Weekday()))
	if s.domStar || s.dowStar {
		return dom && dow
	}
	return dom || dow
}

// bruteActivations walks instants minute by minute over [from, to] and
// returns every activation: instant t activates the matching wall minutes W
// with max(wall before t) < W <= wall(t). It assumes whole-minute offsets.
func bruteActivations(s *Schedule, from, to time.Time) []time.Time {
	wall := func(t time.Time) time.Time {
		t = t.In(s.loc)
		y, mo, d := t.Date()
		return time.Date(y, mo, d, t.Hour(), t.Minute(), 0, 0, time.UTC)
	}
	from = from.Truncate(time.Minute)
	var maxWall time.Time
	for t := from.Add(-48 * time.Hour); t.Before(from); t = t.Add(time.Minute) {
		if w := wall(t); w.After(maxWall) {
			maxWall = w
		}
	}
	var acts []time.Time
	for t := from; !t.After(to); t = t.Add(time.Minute) {
		w := wall(t)
		for c := maxWall.Add(time.Minute); !c.After(w); c = c.Add(time.Minute) {
			if s.matchesWall(c) {
				acts = append(acts, t.In(s.loc))
				break
			}
		}
		if w.After(maxWall) {
			maxWall = w
		}
	}
	return acts
}

// TestAgainstBruteForce compares Next and Prev with a minute-by-minute
// reference around DST transitions and other zone changes.
func TestAgainstBruteForce(t *testing.T) {
	anchors := []struct{ zone, at string }{
		{"America/New_York", "2024-03-10T07:00:00Z"},
		{"America/New_York", "2024-11-03T06:00:00Z"},
		{"Europe/Berlin", "2024-03-31T01:00:00Z"},
		{"Europe/Berlin", "2024-10-27T01:00:00Z"},
		{"Australia/Lord_Howe", "2024-04-06T15:00:00Z"},
		{"Australia/Lord_Howe", "2024-10-05T15:30:00Z"},
		{"Pacific/Apia", "2011-12-30T10:00:00Z"},
		{"America/Sao_Paulo", "2018-11-04T03:00:00Z"}, // midnight gap
		{"America/Sao_Paulo", "2019-02-17T02:00:00Z"}, // midnight overlap
		{"Africa/Casablanca", "2024-03-10T02:00:00Z"},
		{"Asia/Shanghai", "2024-02-29T00:00:00Z"},
		{"UTC", "2024-12-31T12:00:00Z"},
	}
	r := rand.New(rand.NewPCG(3, 4))
	exprs := 40
	if testing.Short() {
		exprs = 8
	}
	for _, a := range anchors {
		loc := mustLoc(t, a.zone)
		at := mustTime(t, a.at)
		from, to := at.Add(-36*time.Hour), at.Add(36*time.Hour)
		for range exprs {
			expr := randExpr(r)
			if r.IntN(3) == 0 { // denser schedules near the transition
				expr = fmt.Sprintf("%s * * * *", []string{"*", "*/7", "0,30", "15", "*/20"}[r.IntN(5)])
				if r.IntN(2) == 0 {
					expr = strings.Replace(expr, "* * * *", fmt.Sprintf("%d * * *", at.In(loc).Hour()), 1)
				}
			}
			s := mustParse(t, expr, loc)
			acts := bruteActivations(s, from, to)
			for range 30 {
				q := from.Add(time.Duration(r.Int64N(int64(to.Sub(from)))))
				if r.IntN(4) == 0 && len(acts) > 0 { // query exactly at / around activations
					q = acts[r.IntN(len(acts))].Add(time.Duration(r.IntN(3)-1) * time.Nanosecond)
				}
				var wantNext, wantPrev time.Time
				for _, act := range acts {
					if act.After(q) {
						wantNext = act
						break
					}
				}
				for i := len(acts) - 1; i >= 0; i-- {
					if !acts[i].After(q) {
						wantPrev = acts[i]
						break
					}
				}
				if got := s.Next(q); wantNext.IsZero() {
					if !got.IsZero() && !got.After(to) {
						t.Fatalf("%q %s: Next(%s) = %s, brute force found none up to %s", expr, loc, q, fmtTime(got), to)
					}
				} else if !got.Equal(wantNext) {
					t.Fatalf("%q %s: Next(%s) = %s, want %s", expr, loc, q, fmtTime(got), fmtTime(wantNext))
				}
				if got := s.Prev(q); wantPrev.IsZero() {
					if !got.IsZero() && !got.Before(from) {
						t.Fatalf("%q %s: Prev(%s) = %s, brute force found none since %s", expr, loc, q, fmtTime(got), from)
					}
				} else if !got.Equal(wantPrev) {
					t.Fatalf("%q %s: Prev(%s) = %s, want %s", expr, loc, q, fmtTime(got), fmtTime(wantPrev))
				}
			}
		}
	}
}

func TestImpossible(t *testing.T) {
	at := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	for _, expr := range []string{"0 0 30 2 *", "0 0 31 2 *", "0 0 31 4,6,9,11 *", "* * 30-31 feb *", "0 0 31 */2 mon-sun"} {
		s := mustParse(t, expr, mustLoc(t, "Europe/Berlin"))
		if strings.HasSuffix(expr, "mon-sun") {
			// Restricted day-of-week: OR rule makes it match every day.
			if s.Next(at).IsZero() {
				t.Errorf("%q: Next = zero, want a match via the day-of-week", expr)
			}
			continue
		}
		if got := s.Next(at); !got.IsZero() {
			t.Errorf("%q: Next = %s, want zero", expr, got)
		}
		if got := s.Prev(at); !got.IsZero() {
			t.Errorf("%q: Prev = %s, want zero", expr, got)
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	s := mustParse(t, "*/5 * * * *", mustLoc(t, "America/New_York"))
	start := time.Date(2024, 11, 3, 4, 0, 0, 0, time.UTC)
	done := make(chan struct{})
	for g := range 8 {
		go func() {
			defer func() { done <- struct{}{} }()
			tm := start.Add(time.Duration(g) * time.Minute)
			for range 200 {
				tm = s.Next(tm)
			}
		}()
	}
	for range 8 {
		<-done
	}
}

func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"* * * * *", "0 25 * * *", "*/15 9-17 * * mon-fri", "@daily", "@every 5m", "0 0 30 2 *",
		"1-2-3 * * * *", "*/0 * * * *", "5/20 * * * 7", "0 0 13 * fri", "jan-dec/3 * * * *",
		"* * * JAN-DEC SUN-SAT", "0 0 * * 5-0", "", "@", "*/ * * * *", "-1 * * * *", ",,, * * * *",
	} {
		f.Add(seed)
	}
	at := time.Date(2024, 11, 3, 5, 30, 0, 0, time.UTC)
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		s, err := Parse(expr, ny)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "cron ") {
				t.Fatalf("error %q lacks the cron prefix", err)
			}
			return
		}
		if _, err := Parse(s.String(), ny); err != nil {
			t.Fatalf("String() %q does not re-parse: %v", s.String(), err)
		}
		if next := s.Next(at); !next.IsZero() {
			if !next.After(at) || !s.Prev(next).Equal(next) {
				t.Fatalf("%q: Next(%s) = %s, Prev of it = %s", expr, at, next, s.Prev(next))
			}
		}
		if prev := s.Prev(at); !prev.IsZero() && prev.After(at) {
			t.Fatalf("%q: Prev(%s) = %s", expr, at, prev)
		}
	})
}

func BenchmarkNext(b *testing.B) {
	for _, bc := range []struct{ name, expr, zone string }{
		{"every-minute/UTC", "* * * * *", "UTC"},
		{"daily/Shanghai", "0 22 * * *", "Asia/Shanghai"},
		{"weekdays/NewYork", "*/15 9-17 * * mon-fri", "America/New_York"},
		{"leap-day/Berlin", "0 0 29 2 *", "Europe/Berlin"},
		{"impossible/UTC", "0 0 30 2 *", "UTC"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s := mustParse(b, bc.expr, mustLoc(b, bc.zone))
			t0 := time.Date(2024, 3, 9, 12, 0, 0, 0, time.UTC)
			tm := t0
			for b.Loop() {
				next := s.Next(tm)
				if next.IsZero() || next.Year() > 2040 {
					next = t0
				}
				tm = next
			}
		})
	}
}

func BenchmarkPrev(b *testing.B) {
	s := mustParse(b, "*/15 9-17 * * mon-fri", mustLoc(b, "America/New_York"))
	t0 := time.Date(2024, 11, 9, 12, 0, 0, 0, time.UTC)
	tm := t0
	for b.Loop() {
		prev := s.Prev(tm)
		if prev.IsZero() || prev.Year() < 2010 {
			prev = t0
		}
		tm = prev.Add(-time.Nanosecond)
	}
}
