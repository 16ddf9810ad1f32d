package oncall

import (
	"bytes"
	"math/rand"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/firebreak/firebreak/internal/plan"
)

func loc(t testing.TB, name string) *time.Location {
	t.Helper()
	l, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func at(l *time.Location, y int, m time.Month, d, h, mi int) time.Time {
	return time.Date(y, m, d, h, mi, 0, 0, l)
}

type check struct {
	t    time.Time
	want []string
}

func runChecks(t *testing.T, s *Schedule, checks []check) {
	t.Helper()
	for _, c := range checks {
		if got := s.OnCallAt(c.t); !slices.Equal(got, c.want) {
			t.Errorf("OnCallAt(%s) = %v, want %v", c.t.In(s.tz()).Format("Mon 2006-01-02 15:04:05.999999999 MST"), got, c.want)
		}
	}
}

func planSchedules() []plan.Schedule {
	week, daily := plan.Duration(168*time.Hour), plan.Duration(24*time.Hour)
	return []plan.Schedule{
		{ID: "primary-oncall", Timezone: "Asia/Shanghai", Rotation: plan.Rotation{Every: week, Handoff: "Monday 10:00", Members: []string{"ops1", "ops2", "ops3"}}},
		{ID: "secondary-oncall", Timezone: "Asia/Shanghai", Rotation: plan.Rotation{Every: week, Handoff: "Monday 10:00", Members: []string{"ops2", "ops3", "ops1"}}},
		{ID: "incident-commanders", Timezone: "Asia/Shanghai", Rotation: plan.Rotation{Every: daily, Handoff: "09:00", Members: []string{"sre-lead", "dba"}}},
	}
}

// The literals above must match the shipped example plan when it is present.
func TestPlanExampleMatches(t *testing.T) {
	src, err := os.ReadFile("../../../shared/examples/plan.yaml")
	if err != nil {
		t.Fatal("the reference plan ../shared/examples/plan.yaml: ", err)
	}
	p, err := plan.Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	want := planSchedules()
	if len(p.Schedules) != len(want) {
		t.Fatalf("example has %d schedules, want %d", len(p.Schedules), len(want))
	}
	for i, s := range p.Schedules {
		w := want[i]
		if s.ID != w.ID || s.Timezone != w.Timezone || s.Rotation.Every != w.Rotation.Every ||
			s.Rotation.Handoff != w.Rotation.Handoff || !slices.Equal(s.Rotation.Members, w.Rotation.Members) {
			t.Errorf("schedule %d = %+v, want %+v", i, s, w)
		}
	}
}

func TestFromPlanExample(t *testing.T) {
	sh := loc(t, "Asia/Shanghai")
	anchor := at(sh, 2025, 3, 5, 12, 0) // a Wednesday
	ps := planSchedules()
	tests := []struct {
		ps        plan.Schedule
		wantStart time.Time
		checks    []check
	}{
		{ps[0], at(sh, 2025, 3, 3, 10, 0), []check{
			{at(sh, 2025, 3, 3, 9, 59), []string{"ops3"}}, // the shift before the anchor
			{at(sh, 2025, 3, 3, 10, 0), []string{"ops1"}},
			{at(sh, 2025, 3, 10, 9, 59), []string{"ops1"}},
			{at(sh, 2025, 3, 10, 10, 0), []string{"ops2"}},
			{at(sh, 2025, 3, 17, 9, 59), []string{"ops2"}},
			{at(sh, 2025, 3, 17, 10, 0), []string{"ops3"}},
			{at(sh, 2025, 3, 24, 10, 0), []string{"ops1"}},
			{at(sh, 2025, 3, 24, 10, 0).Add(-time.Nanosecond), []string{"ops3"}},
			{at(sh, 2026, 3, 2, 10, 0), []string{"ops2"}}, // 52 weeks on: 52 % 3 == 1
		}},
		{ps[1], at(sh, 2025, 3, 3, 10, 0), []check{
			{at(sh, 2025, 3, 3, 10, 0), []string{"ops2"}},
			{at(sh, 2025, 3, 10, 9, 59), []string{"ops2"}},
			{at(sh, 2025, 3, 10, 10, 0), []string{"ops3"}},
			{at(sh, 2025, 3, 17, 10, 0), []string{"ops1"}},
		}},
		{ps[2], at(sh, 2025, 3, 5, 9, 0), []check{
			{at(sh, 2025, 3, 5, 9, 0), []string{"sre-lead"}},
			{at(sh, 2025, 3, 6, 8, 59), []string{"sre-lead"}},
			{at(sh, 2025, 3, 6, 9, 0), []string{"dba"}},
			{at(sh, 2025, 3, 7, 9, 0), []string{"sre-lead"}},
			{at(sh, 2025, 3, 5, 8, 59), []string{"dba"}},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.ps.ID, func(t *testing.T) {
			s, err := FromPlan(tc.ps, anchor)
			if err != nil {
				t.Fatal(err)
			}
			if s.ID != tc.ps.ID || s.TZ.String() != "Asia/Shanghai" || len(s.Layers) != 1 {
				t.Fatalf("schedule = %+v", s)
			}
			if got := s.Layers[0].Rotation.Start; !got.Equal(tc.wantStart) {
				t.Errorf("anchor = %v, want %v", got, tc.wantStart)
			}
			runChecks(t, s, tc.checks)
		})
	}
}

func TestFromPlanAnchoring(t *testing.T) {
	sh := loc(t, "Asia/Shanghai")
	weekly := plan.Schedule{ID: "w", Timezone: "Asia/Shanghai", Rotation: plan.Rotation{Every: plan.Duration(168 * time.Hour), Handoff: "Mon 10:00", Members: []string{"a", "b"}}}
	daily := plan.Schedule{ID: "d", Timezone: "Asia/Shanghai", Rotation: plan.Rotation{Every: plan.Duration(24 * time.Hour), Handoff: "09:00", Members: []string{"a", "b"}}}
	withStart := weekly
	withStart.Rotation.Start = "2025-03-04" // Tuesday: first Monday 10:00 on or after is 03-10
	noHandoff := weekly
	noHandoff.Rotation.Handoff = ""
	utc := daily
	utc.Timezone = ""
	tests := []struct {
		name   string
		ps     plan.Schedule
		anchor time.Time
		want   time.Time
	}{
		{"weekly exactly at hand-off", weekly, at(sh, 2025, 3, 10, 10, 0), at(sh, 2025, 3, 10, 10, 0)},
		{"weekly a minute before", weekly, at(sh, 2025, 3, 10, 9, 59), at(sh, 2025, 3, 3, 10, 0)},
		{"weekly on Sunday", weekly, at(sh, 2025, 3, 9, 23, 0), at(sh, 2025, 3, 3, 10, 0)},
		{"weekly anchor given in UTC", weekly, time.Date(2025, 3, 10, 2, 0, 0, 0, time.UTC), at(sh, 2025, 3, 10, 10, 0)},
		{"daily before hand-off", daily, at(sh, 2025, 3, 5, 8, 0), at(sh, 2025, 3, 4, 9, 0)},
		{"daily after hand-off", daily, at(sh, 2025, 3, 5, 9, 1), at(sh, 2025, 3, 5, 9, 0)},
		{"rotation.start wins", withStart, at(sh, 2030, 1, 1, 0, 0), at(sh, 2025, 3, 10, 10, 0)},
		{"default weekly hand-off Monday 00:00", noHandoff, at(sh, 2025, 3, 5, 12, 0), at(sh, 2025, 3, 3, 0, 0)},
		{"default timezone UTC", utc, time.Date(2025, 3, 5, 10, 0, 0, 0, time.UTC), time.Date(2025, 3, 5, 9, 0, 0, 0, time.UTC)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := FromPlan(tc.ps, tc.anchor)
			if err != nil {
				t.Fatal(err)
			}
			if got := s.Layers[0].Rotation.Start; !got.Equal(tc.want) {
				t.Errorf("start = %v, want %v", got, tc.want)
			}
			if got := s.OnCallAt(tc.want); !slices.Equal(got, []string{"a"}) {
				t.Errorf("at anchor on call = %v, want [a]", got)
			}
		})
	}
}

func TestFromPlanOverridesAndErrors(t *testing.T) {
	sh := loc(t, "Asia/Shanghai")
	ps := planSchedules()[0]
	ps.Overrides = []plan.Override{
		{Person: "ops9", From: "2025-03-04 08:00", To: "2025-03-04 20:00"},
		{Person: "ops8", From: "2025-03-05T00:00:00Z", To: "2025-03-06"},
	}
	s, err := FromPlan(ps, at(sh, 2025, 3, 5, 12, 0))
	if err != nil {
		t.Fatal(err)
	}
	runChecks(t, s, []check{
		{at(sh, 2025, 3, 4, 7, 59), []string{"ops1"}},
		{at(sh, 2025, 3, 4, 8, 0), []string{"ops9"}},
		{at(sh, 2025, 3, 4, 19, 59), []string{"ops9"}},
		{at(sh, 2025, 3, 4, 20, 0), []string{"ops1"}},
		{at(sh, 2025, 3, 5, 7, 59), []string{"ops1"}}, // 00:00Z is 08:00 in Shanghai
		{at(sh, 2025, 3, 5, 8, 0), []string{"ops8"}},
		{at(sh, 2025, 3, 5, 23, 59), []string{"ops8"}},
		{at(sh, 2025, 3, 6, 0, 0), []string{"ops1"}},
	})

	bad := func(mut func(*plan.Schedule)) plan.Schedule {
		p := planSchedules()[0]
		mut(&p)
		return p
	}
	for name, p := range map[string]plan.Schedule{
		"timezone":    bad(func(p *plan.Schedule) { p.Timezone = "Mars/Olympus" }),
		"handoff":     bad(func(p *plan.Schedule) { p.Rotation.Handoff = "Someday 10:00" }),
		"every":       bad(func(p *plan.Schedule) { p.Rotation.Every = 0 }),
		"members":     bad(func(p *plan.Schedule) { p.Rotation.Members = nil }),
		"start":       bad(func(p *plan.Schedule) { p.Rotation.Start = "March" }),
		"override":    bad(func(p *plan.Schedule) { p.Overrides = []plan.Override{{Person: "x", From: "soon", To: "2025-01-01"}} }),
		"override to": bad(func(p *plan.Schedule) { p.Overrides = []plan.Override{{Person: "x", From: "2025-01-01", To: "later"}} }),
	} {
		if _, err := FromPlan(p, time.Now()); err == nil {
			t.Errorf("%s: FromPlan accepted an invalid schedule", name)
		}
	}
}

// Whole-day rotations hand off at the same local wall time across DST.
func TestDSTWholeDays(t *testing.T) {
	ny := loc(t, "America/New_York")
	tests := []struct {
		name     string
		rot      Rotation
		from, to time.Time
		longHour time.Duration // the shift containing the DST change
	}{
		{"daily spring forward", Rotation{at(ny, 2025, 3, 6, 9, 0), 24 * time.Hour, []string{"a", "b", "c"}}, at(ny, 2025, 3, 6, 9, 0), at(ny, 2025, 3, 13, 9, 0), 23 * time.Hour},
		{"daily fall back", Rotation{at(ny, 2025, 10, 30, 9, 0), 24 * time.Hour, []string{"a", "b", "c"}}, at(ny, 2025, 10, 30, 9, 0), at(ny, 2025, 11, 6, 9, 0), 25 * time.Hour},
		{"weekly spring forward", Rotation{at(ny, 2025, 2, 24, 9, 0), 168 * time.Hour, []string{"a", "b"}}, at(ny, 2025, 2, 24, 9, 0), at(ny, 2025, 4, 7, 9, 0), 167 * time.Hour},
		{"weekly fall back", Rotation{at(ny, 2025, 10, 20, 9, 0), 168 * time.Hour, []string{"a", "b"}}, at(ny, 2025, 10, 20, 9, 0), at(ny, 2025, 12, 1, 9, 0), 169 * time.Hour},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &Schedule{ID: "x", TZ: ny, Layers: []Layer{{Rotation: tc.rot}}}
			shifts := s.Shifts(tc.from, tc.to)
			wantN := 0
			for d := tc.from; d.Before(tc.to); wantN++ {
				y, m, dd := d.Date()
				d = time.Date(y, m, dd+int(tc.rot.ShiftLength/day), 9, 0, 0, 0, ny)
			}
			if len(shifts) != wantN {
				t.Fatalf("got %d shifts, want %d: %v", len(shifts), wantN, shifts)
			}
			odd := 0
			for i, sh := range shifts {
				for _, x := range []time.Time{sh.Start, sh.End} {
					if lt := x.In(ny); lt.Hour() != 9 || lt.Minute() != 0 {
						t.Errorf("shift %d hands off at %v, want 09:00 local", i, lt)
					}
				}
				if want := tc.rot.Members[i%len(tc.rot.Members)]; sh.User != want {
					t.Errorf("shift %d user %s, want %s", i, sh.User, want)
				}
				if d := sh.End.Sub(sh.Start); d != tc.rot.ShiftLength {
					odd++
					if d != tc.longHour {
						t.Errorf("shift %d lasts %v, want %v or %v", i, d, tc.rot.ShiftLength, tc.longHour)
					}
				}
			}
			if odd != 1 {
				t.Errorf("%d shifts of unusual length, want exactly 1", odd)
			}
		})
	}
	// Spot checks right at the first hand-off after each change.
	s := &Schedule{TZ: ny, Layers: []Layer{{Rotation: Rotation{at(ny, 2025, 3, 6, 9, 0), 24 * time.Hour, []string{"a", "b", "c"}}}}}
	runChecks(t, s, []check{
		{at(ny, 2025, 3, 9, 8, 59), []string{"c"}},
		{at(ny, 2025, 3, 9, 9, 0), []string{"a"}},
		{at(ny, 2025, 11, 2, 8, 59), []string{"a"}}, // 241 days on: 240 % 3 == 0
		{at(ny, 2025, 11, 2, 9, 0), []string{"b"}},
	})
}

// Rotations that are not whole days step by real duration.
func TestEightHourRotation(t *testing.T) {
	ny := loc(t, "America/New_York")
	start := at(ny, 2025, 3, 8, 22, 0) // EST; DST starts 2025-03-09 02:00
	s := &Schedule{TZ: ny, Layers: []Layer{{Rotation: Rotation{start, 8 * time.Hour, []string{"a", "b", "c"}}}}}
	shifts := s.Shifts(start, start.Add(48*time.Hour))
	if len(shifts) != 6 {
		t.Fatalf("got %d shifts: %v", len(shifts), shifts)
	}
	for i, sh := range shifts {
		if !sh.Start.Equal(start.Add(time.Duration(i)*8*time.Hour)) || sh.End.Sub(sh.Start) != 8*time.Hour {
			t.Errorf("shift %d = %v–%v", i, sh.Start, sh.End)
		}
		if want := []string{"a", "b", "c"}[i%3]; sh.User != want {
			t.Errorf("shift %d user %s, want %s", i, sh.User, want)
		}
	}
	// The second hand-off is 07:00 EDT, not 06:00: eight real hours after 22:00 EST.
	if got := shifts[1].Start.In(ny); got.Hour() != 7 {
		t.Errorf("second shift starts at %v, want 07:00 EDT", got)
	}
	runChecks(t, s, []check{
		{start.Add(-time.Nanosecond), []string{"c"}},
		{start, []string{"a"}},
		{start.Add(8*time.Hour - 1), []string{"a"}},
		{start.Add(8 * time.Hour), []string{"b"}},
		{start.Add(-8*time.Hour*3000 + time.Hour), []string{"a"}},
		{start.Add(8*time.Hour*3001 + time.Hour), []string{"b"}},
	})
}

func TestRestrictions(t *testing.T) {
	sh := loc(t, "Asia/Shanghai")
	weekdays := []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}
	s := &Schedule{TZ: sh, Layers: []Layer{
		{Name: "24/7", Rotation: Rotation{at(sh, 2025, 3, 3, 0, 0), 24 * time.Hour, []string{"n1", "n2"}}},
		{Name: "business", Rotation: Rotation{at(sh, 2025, 3, 3, 9, 0), 168 * time.Hour, []string{"d1", "d2"}},
			Restrict: []Window{{Days: weekdays, From: 9 * time.Hour, To: 18 * time.Hour}}},
		{Name: "night desk", Rotation: Rotation{Members: []string{"owl"}},
			Restrict: []Window{{Days: []time.Weekday{time.Wednesday}, From: 22 * time.Hour, To: 6 * time.Hour}}},
	}}
	runChecks(t, s, []check{
		{at(sh, 2025, 3, 4, 8, 59), []string{"n2"}}, // Tuesday
		{at(sh, 2025, 3, 4, 9, 0), []string{"d1"}},
		{at(sh, 2025, 3, 4, 17, 59), []string{"d1"}},
		{at(sh, 2025, 3, 4, 18, 0), []string{"n2"}},
		{at(sh, 2025, 3, 8, 12, 0), []string{"n2"}},  // Saturday: business layer inactive
		{at(sh, 2025, 3, 10, 9, 0), []string{"d2"}},  // next week
		{at(sh, 2025, 3, 5, 21, 59), []string{"n1"}}, // Wednesday
		{at(sh, 2025, 3, 5, 22, 0), []string{"owl"}},
		{at(sh, 2025, 3, 6, 5, 59), []string{"owl"}}, // wraps into Thursday
		{at(sh, 2025, 3, 6, 6, 0), []string{"n2"}},
		{at(sh, 2025, 3, 6, 22, 30), []string{"n2"}}, // Thursday night: not a window day
	})
	got := s.Shifts(at(sh, 2025, 3, 4, 0, 0), at(sh, 2025, 3, 5, 0, 0))
	want := []Shift{
		{"n2", at(sh, 2025, 3, 4, 0, 0), at(sh, 2025, 3, 4, 9, 0)},
		{"d1", at(sh, 2025, 3, 4, 9, 0), at(sh, 2025, 3, 4, 18, 0)},
		{"n2", at(sh, 2025, 3, 4, 18, 0), at(sh, 2025, 3, 5, 0, 0)},
	}
	assertShifts(t, got, want)
}

func TestRestrictionAcrossDST(t *testing.T) {
	ny := loc(t, "America/New_York")
	s := &Schedule{TZ: ny, Layers: []Layer{
		{Rotation: Rotation{Members: []string{"base"}}},
		{Rotation: Rotation{Members: []string{"day"}}, Restrict: []Window{{From: 9 * time.Hour, To: 17 * time.Hour}}},
	}}
	for _, d := range []int{8, 9, 10} { // 2025-03-09 is the spring-forward day
		got := s.Shifts(at(ny, 2025, 3, d, 0, 0), at(ny, 2025, 3, d+1, 0, 0))
		want := []Shift{
			{"base", at(ny, 2025, 3, d, 0, 0), at(ny, 2025, 3, d, 9, 0)},
			{"day", at(ny, 2025, 3, d, 9, 0), at(ny, 2025, 3, d, 17, 0)},
			{"base", at(ny, 2025, 3, d, 17, 0), at(ny, 2025, 3, d+1, 0, 0)},
		}
		assertShifts(t, got, want)
	}
}

func assertShifts(t *testing.T, got, want []Shift) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d shifts %v, want %d %v", len(got), got, len(want), want)
	}
	for i := range got {
		if got[i].User != want[i].User || !got[i].Start.Equal(want[i].Start) || !got[i].End.Equal(want[i].End) {
			t.Errorf("shift %d = %s %v–%v, want %s %v–%v", i, got[i].User, got[i].Start, got[i].End, want[i].User, want[i].Start, want[i].End)
		}
	}
}

func TestOverrides(t *testing.T) {
	sh := loc(t, "Asia/Shanghai")
	daily := func() *Schedule {
		return &Schedule{TZ: sh, Layers: []Layer{{Rotation: Rotation{at(sh, 2025, 3, 3, 9, 0), 24 * time.Hour, []string{"a", "b"}}}}}
	}
	t.Run("add on top", func(t *testing.T) {
		s := daily()
		s.Overrides = []Override{{Start: at(sh, 2025, 3, 3, 10, 0), End: at(sh, 2025, 3, 3, 12, 0), User: "x"}}
		runChecks(t, s, []check{
			{at(sh, 2025, 3, 3, 9, 59), []string{"a"}},
			{at(sh, 2025, 3, 3, 10, 0), []string{"a", "x"}},
			{at(sh, 2025, 3, 3, 11, 59), []string{"a", "x"}},
			{at(sh, 2025, 3, 3, 12, 0), []string{"a"}},
		})
		assertShifts(t, s.Shifts(at(sh, 2025, 3, 3, 9, 0), at(sh, 2025, 3, 4, 9, 0)), []Shift{
			{"a", at(sh, 2025, 3, 3, 9, 0), at(sh, 2025, 3, 4, 9, 0)}, // a is not split by x
			{"x", at(sh, 2025, 3, 3, 10, 0), at(sh, 2025, 3, 3, 12, 0)},
		})
	})
	t.Run("replace across a hand-off", func(t *testing.T) {
		s := daily()
		// c covers a from Monday 20:00 to Tuesday 12:00; a's shift ends at Tuesday 09:00.
		s.Overrides = []Override{{Start: at(sh, 2025, 3, 3, 20, 0), End: at(sh, 2025, 3, 4, 12, 0), User: "c", Replaces: "a"}}
		runChecks(t, s, []check{
			{at(sh, 2025, 3, 3, 19, 59), []string{"a"}},
			{at(sh, 2025, 3, 3, 20, 0), []string{"c"}},
			{at(sh, 2025, 3, 4, 8, 59), []string{"c"}},
			{at(sh, 2025, 3, 4, 9, 0), []string{"b"}}, // a is off: nothing to replace
			{at(sh, 2025, 3, 4, 11, 0), []string{"b"}},
		})
		assertShifts(t, s.Shifts(at(sh, 2025, 3, 3, 9, 0), at(sh, 2025, 3, 5, 9, 0)), []Shift{
			{"a", at(sh, 2025, 3, 3, 9, 0), at(sh, 2025, 3, 3, 20, 0)},
			{"c", at(sh, 2025, 3, 3, 20, 0), at(sh, 2025, 3, 4, 9, 0)},
			{"b", at(sh, 2025, 3, 4, 9, 0), at(sh, 2025, 3, 5, 9, 0)},
		})
	})
	t.Run("replace with someone already on call", func(t *testing.T) {
		s := daily()
		s.Overrides = []Override{
			{Start: at(sh, 2025, 3, 3, 10, 0), End: at(sh, 2025, 3, 3, 12, 0), User: "x"},
			{Start: at(sh, 2025, 3, 3, 10, 0), End: at(sh, 2025, 3, 3, 11, 0), User: "x", Replaces: "a"},
		}
		runChecks(t, s, []check{
			{at(sh, 2025, 3, 3, 10, 30), []string{"x"}},
			{at(sh, 2025, 3, 3, 11, 0), []string{"a", "x"}},
		})
	})
	t.Run("replace all", func(t *testing.T) {
		s := daily()
		s.Overrides = []Override{
			{Start: at(sh, 2025, 3, 3, 10, 0), End: at(sh, 2025, 3, 3, 12, 0), User: "x"},
			{Start: at(sh, 2025, 3, 3, 11, 0), End: at(sh, 2025, 3, 3, 12, 0), User: "z", Replaces: ReplaceAll},
		}
		runChecks(t, s, []check{
			{at(sh, 2025, 3, 3, 10, 0), []string{"a", "x"}},
			{at(sh, 2025, 3, 3, 11, 0), []string{"z"}},
		})
		empty := &Schedule{Overrides: s.Overrides[1:]}
		runChecks(t, empty, []check{{at(sh, 2025, 3, 3, 11, 0), []string{"z"}}})
	})
	t.Run("ignored overrides", func(t *testing.T) {
		s := daily()
		s.Overrides = []Override{
			{Start: at(sh, 2025, 3, 3, 12, 0), End: at(sh, 2025, 3, 3, 10, 0), User: "x"}, // backwards
			{Start: at(sh, 2025, 3, 3, 10, 0), End: at(sh, 2025, 3, 3, 12, 0)},            // no user
			{Start: at(sh, 2025, 3, 3, 10, 0), End: at(sh, 2025, 3, 3, 12, 0), User: "y", Replaces: "nobody"},
		}
		runChecks(t, s, []check{{at(sh, 2025, 3, 3, 11, 0), []string{"a"}}})
		assertShifts(t, s.Shifts(at(sh, 2025, 3, 3, 9, 0), at(sh, 2025, 3, 4, 9, 0)), []Shift{{"a", at(sh, 2025, 3, 3, 9, 0), at(sh, 2025, 3, 4, 9, 0)}})
	})
	t.Run("take and swap", func(t *testing.T) {
		s := daily()
		shifts := s.Shifts(at(sh, 2025, 3, 3, 9, 0), at(sh, 2025, 3, 6, 9, 0)) // a, b, a
		if len(shifts) != 3 {
			t.Fatalf("shifts = %v", shifts)
		}
		s.Overrides = SwapShifts("a", shifts[0], "b", shifts[1])
		s.Overrides = append(s.Overrides, TakeShift("c", shifts[2]))
		runChecks(t, s, []check{
			{at(sh, 2025, 3, 3, 9, 0), []string{"b"}},
			{at(sh, 2025, 3, 4, 8, 59), []string{"b"}},
			{at(sh, 2025, 3, 4, 9, 0), []string{"a"}},
			{at(sh, 2025, 3, 5, 8, 59), []string{"a"}},
			{at(sh, 2025, 3, 5, 9, 0), []string{"c"}},
			{at(sh, 2025, 3, 6, 9, 0), []string{"b"}},
		})
	})
}

func TestShiftsMergingAndBounds(t *testing.T) {
	sh := loc(t, "Asia/Shanghai")
	// a appears twice in a row: its two daily shifts merge into one.
	s := &Schedule{TZ: sh, Layers: []Layer{{Rotation: Rotation{at(sh, 2025, 3, 3, 9, 0), 24 * time.Hour, []string{"a", "a", "b"}}}}}
	assertShifts(t, s.Shifts(at(sh, 2025, 3, 3, 12, 0), at(sh, 2025, 3, 6, 12, 0)), []Shift{
		{"a", at(sh, 2025, 3, 3, 12, 0), at(sh, 2025, 3, 5, 9, 0)}, // clipped at from
		{"b", at(sh, 2025, 3, 5, 9, 0), at(sh, 2025, 3, 6, 9, 0)},
		{"a", at(sh, 2025, 3, 6, 9, 0), at(sh, 2025, 3, 6, 12, 0)}, // clipped at to
	})
	// A single-member rotation is one shift however long the range.
	one := &Schedule{TZ: sh, Layers: []Layer{{Rotation: Rotation{at(sh, 2025, 3, 3, 9, 0), time.Hour, []string{"solo"}}}}}
	assertShifts(t, one.Shifts(at(sh, 2025, 1, 1, 0, 0), at(sh, 2026, 1, 1, 0, 0)), []Shift{{"solo", at(sh, 2025, 1, 1, 0, 0), at(sh, 2026, 1, 1, 0, 0)}})
	// Empty and inverted ranges.
	if got := s.Shifts(at(sh, 2025, 3, 3, 9, 0), at(sh, 2025, 3, 3, 9, 0)); got != nil {
		t.Errorf("empty range: %v", got)
	}
	if got := s.Shifts(at(sh, 2025, 3, 4, 9, 0), at(sh, 2025, 3, 3, 9, 0)); got != nil {
		t.Errorf("inverted range: %v", got)
	}
	// A 1ns range at an exact hand-off is the incoming user only.
	assertShifts(t, s.Shifts(at(sh, 2025, 3, 5, 9, 0), at(sh, 2025, 3, 5, 9, 0).Add(1)), []Shift{{"b", at(sh, 2025, 3, 5, 9, 0), at(sh, 2025, 3, 5, 9, 0).Add(1)}})
	// Shifts come back in the schedule's zone.
	for _, x := range s.Shifts(time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC), time.Date(2025, 3, 9, 0, 0, 0, 0, time.UTC)) {
		if x.Start.Location() != sh || x.End.Location() != sh {
			t.Errorf("shift %v not in schedule zone", x)
		}
	}
}

func TestEmptySchedules(t *testing.T) {
	now := time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC)
	for name, s := range map[string]*Schedule{
		"nil":        nil,
		"zero":       {},
		"no members": {Layers: []Layer{{Rotation: Rotation{Start: now, ShiftLength: day}}}},
		"closed":     {Layers: []Layer{{Rotation: Rotation{Start: now, ShiftLength: day, Members: []string{"a"}}, Restrict: []Window{{Days: []time.Weekday{time.Sunday}, From: time.Hour, To: 2 * time.Hour}}}}},
	} {
		if got := s.OnCallAt(now); got != nil {
			t.Errorf("%s: OnCallAt = %v", name, got)
		}
		if got := s.Shifts(now, now.Add(24*time.Hour)); got != nil {
			t.Errorf("%s: Shifts = %v", name, got)
		}
	}
	// A zero-length rotation just keeps its first member on call.
	s := &Schedule{Layers: []Layer{{Rotation: Rotation{Members: []string{"a", "b"}}}}}
	runChecks(t, s, []check{{now, []string{"a"}}})
}

func TestICal(t *testing.T) {
	sh := loc(t, "Asia/Shanghai")
	s := &Schedule{ID: "primary-oncall", TZ: sh, Layers: []Layer{{Rotation: Rotation{at(sh, 2025, 3, 3, 10, 0), 168 * time.Hour,
		[]string{"ops1", "ops2", strings.Repeat("长名字", 10) + ",;\\ with a very long handle that needs folding"}}}}}
	shifts := s.Shifts(at(sh, 2025, 3, 3, 10, 0), at(sh, 2025, 4, 7, 10, 0))
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	out := ICal(s, shifts, "Primary on-call "+strings.Repeat("日程", 30), now)

	if !bytes.HasSuffix(out, []byte("\r\n")) || bytes.Count(out, []byte("\n")) != bytes.Count(out, []byte("\r\n")) {
		t.Fatal("lines must end in CRLF")
	}
	raw := strings.Split(strings.TrimSuffix(string(out), "\r\n"), "\r\n")
	var lines []string // unfolded
	for _, l := range raw {
		if len(l) > 75 {
			t.Errorf("line of %d octets: %q", len(l), l)
		}
		if strings.HasPrefix(l, " ") {
			lines[len(lines)-1] += l[1:]
		} else {
			lines = append(lines, l)
		}
	}
	if lines[0] != "BEGIN:VCALENDAR" || lines[len(lines)-1] != "END:VCALENDAR" {
		t.Errorf("calendar not wrapped: %q … %q", lines[0], lines[len(lines)-1])
	}
	var starts, ends, uids, summaries []string
	events := 0
	for _, l := range lines {
		k, v, _ := strings.Cut(l, ":")
		switch k {
		case "BEGIN":
			if v == "VEVENT" {
				events++
			}
		case "DTSTART":
			starts = append(starts, v)
		case "DTEND":
			ends = append(ends, v)
		case "UID":
			uids = append(uids, v)
		case "SUMMARY":
			summaries = append(summaries, v)
		case "DTSTAMP":
			if v != "20250301T120000Z" {
				t.Errorf("DTSTAMP %s", v)
			}
		case "X-WR-CALNAME":
			if !strings.HasPrefix(v, "Primary on-call 日程") {
				t.Errorf("name %q", v)
			}
		}
	}
	if events != len(shifts) || len(starts) != len(shifts) || len(ends) != len(shifts) {
		t.Fatalf("%d events, %d DTSTART, %d DTEND for %d shifts", events, len(starts), len(ends), len(shifts))
	}
	for i, x := range shifts {
		if starts[i] != x.Start.UTC().Format("20060102T150405Z") || ends[i] != x.End.UTC().Format("20060102T150405Z") {
			t.Errorf("event %d %s–%s, shift %v–%v", i, starts[i], ends[i], x.Start, x.End)
		}
	}
	if starts[0] != "20250303T020000Z" {
		t.Errorf("first DTSTART %s, want 20250303T020000Z", starts[0])
	}
	if summaries[0] != "On call: ops1" || !strings.HasSuffix(summaries[2], `\,\;\\ with a very long handle that needs folding`) {
		t.Errorf("summaries %q", summaries)
	}
	if len(slices.Compact(slices.Sorted(slices.Values(uids)))) != len(uids) {
		t.Errorf("UIDs not unique: %v", uids)
	}
	// UIDs are stable: the same shifts render the same UIDs later.
	again := ICal(s, shifts, "x", now.Add(time.Hour))
	for _, u := range uids {
		if !bytes.Contains(again, []byte("UID:"+u)) {
			t.Errorf("UID %s not stable", u)
		}
	}
	// Folding never splits a UTF-8 sequence.
	if !strings.Contains(string(out), "长名字") || !utf8Lines(raw) {
		t.Error("a folded line is not valid UTF-8")
	}
	if got := ICal(nil, nil, "", now); string(got) != "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//firebreak//oncall//EN\r\nCALSCALE:GREGORIAN\r\nMETHOD:PUBLISH\r\nEND:VCALENDAR\r\n" {
		t.Errorf("empty calendar %q", got)
	}
}

func utf8Lines(ls []string) bool {
	for _, l := range ls {
		if !utf8.ValidString(l) {
			return false
		}
	}
	return true
}

// complexSchedule mixes every feature in a DST zone.
func complexSchedule(t testing.TB) *Schedule {
	ny := loc(t, "America/New_York")
	wk := []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}
	return &Schedule{ID: "mix", TZ: ny, Layers: []Layer{
		{Rotation: Rotation{at(ny, 2025, 1, 6, 9, 0), 168 * time.Hour, []string{"w1", "w2", "w3"}}},
		{Rotation: Rotation{at(ny, 2025, 3, 1, 1, 30), 8 * time.Hour, []string{"e1", "e2"}},
			Restrict: []Window{{Days: wk, From: 9 * time.Hour, To: 17*time.Hour + 30*time.Minute}}},
		{Rotation: Rotation{at(ny, 2025, 3, 8, 2, 30), 24 * time.Hour, []string{"n1", "n2", "n3"}},
			Restrict: []Window{{Days: []time.Weekday{time.Saturday, time.Sunday}, From: 22 * time.Hour, To: 2*time.Hour + 30*time.Minute}}},
	}, Overrides: []Override{
		{Start: at(ny, 2025, 3, 9, 1, 0), End: at(ny, 2025, 3, 9, 4, 0), User: "x"},
		{Start: at(ny, 2025, 3, 10, 12, 0), End: at(ny, 2025, 3, 20, 12, 0), User: "y", Replaces: "w2"},
		{Start: at(ny, 2025, 11, 1, 23, 0), End: at(ny, 2025, 11, 2, 1, 30), User: "z", Replaces: ReplaceAll},
	}}
}

// Property: OnCallAt(t) is exactly the users of Shifts(t, t+1ns), and the
// users whose shifts over a long range contain t.
func TestOnCallMatchesShifts(t *testing.T) {
	s := complexSchedule(t)
	from, to := at(s.TZ, 2025, 2, 20, 0, 0), at(s.TZ, 2025, 11, 20, 0, 0)
	all := s.Shifts(from, to)
	r := rand.New(rand.NewSource(1))
	span := int64(to.Sub(from))
	probes := []time.Time{}
	for range 3000 {
		probes = append(probes, from.Add(time.Duration(r.Int63n(span))))
	}
	for _, x := range all { // every edge and its neighbours
		probes = append(probes, x.Start, x.Start.Add(-1), x.End.Add(-1))
	}
	for _, p := range probes {
		if p.Before(from) || !p.Before(to) {
			continue
		}
		want := slices.Sorted(slices.Values(s.OnCallAt(p)))
		var got []string
		for _, x := range all {
			if !p.Before(x.Start) && p.Before(x.End) {
				got = append(got, x.User)
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("at %v: shifts say %v, OnCallAt says %v", p, got, want)
		}
		if one := usersOf(s.Shifts(p, p.Add(1))); !slices.Equal(one, want) {
			t.Fatalf("at %v: Shifts(t,t+1ns) %v, OnCallAt %v", p, one, want)
		}
	}
	// Shifts of one user never touch or overlap (they were merged).
	byUser := map[string]Shift{}
	for _, x := range all {
		if prev, ok := byUser[x.User]; ok && !prev.End.Before(x.Start) {
			t.Errorf("unmerged or overlapping shifts %v and %v", prev, x)
		}
		byUser[x.User] = x
	}
}

func usersOf(shifts []Shift) []string {
	var us []string
	for _, x := range shifts {
		us = append(us, x.User)
	}
	slices.Sort(us)
	return us
}

func FuzzOnCallAt(f *testing.F) {
	f.Add(int64(1741500000), int64(0))
	f.Add(int64(1762059600), int64(999999999))
	f.Add(int64(-2000000000), int64(5))
	f.Add(int64(4000000000), int64(1))
	s := complexSchedule(f)
	f.Fuzz(func(t *testing.T, sec, ns int64) {
		sec %= 1 << 36 // about ±2000 years
		p := time.Unix(sec, ns%1e9)
		want := slices.Sorted(slices.Values(s.OnCallAt(p)))
		if got := usersOf(s.Shifts(p, p.Add(1))); !slices.Equal(got, want) {
			t.Fatalf("at %v: Shifts(t,t+1ns) %v, OnCallAt %v", p, got, want)
		}
		if len(want) == 0 {
			t.Fatalf("at %v: base layer is 24/7 yet nobody is on call", p)
		}
	})
}
