package oncall

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/firebreak/firebreak/internal/auth"
	"github.com/firebreak/firebreak/internal/store"
	"github.com/firebreak/firebreak/internal/testenv"
)

// fixture is a store on a fresh database with users by name.
type fixture struct {
	t   *testing.T
	ctx context.Context
	db  *store.DB
	s   *Store
	au  *auth.Store
	ids map[string]int64
	now time.Time
}

func newFixture(t *testing.T, db *store.DB, now time.Time, users ...string) *fixture {
	t.Helper()
	f := &fixture{t: t, ctx: context.Background(), db: db, au: &auth.Store{DB: db}, ids: map[string]int64{}, now: now}
	f.s = &Store{DB: db, Now: func() time.Time { return f.now }}
	for _, u := range users {
		f.user(u)
	}
	return f
}

// user returns the id of user name, creating it on first use.
func (f *fixture) user(name string) int64 {
	f.t.Helper()
	if id, ok := f.ids[name]; ok {
		return id
	}
	u, err := f.au.CreateUser(f.ctx, auth.NewUser{Username: name, DisplayName: strings.ToUpper(name), Password: "correct horse battery"})
	if err != nil {
		f.t.Fatalf("create user %s: %v", name, err)
	}
	f.ids[name] = u.ID
	return u.ID
}

func (f *fixture) users(names ...string) []int64 {
	out := make([]int64, len(names))
	for i, n := range names {
		out[i] = f.user(n)
	}
	return out
}

func (f *fixture) name(id int64) string {
	for n, i := range f.ids {
		if i == id {
			return n
		}
	}
	return "?"
}

// onCall returns the usernames on call at t in schedule id.
func (f *fixture) onCall(id int64, t time.Time) []string {
	f.t.Helper()
	us, err := f.s.OnCallAt(f.ctx, id, t)
	if err != nil {
		f.t.Fatalf("OnCallAt: %v", err)
	}
	out := []string{}
	for _, u := range us {
		if f.name(u.UserID) != u.Username {
			f.t.Errorf("user %d has username %q, want %q", u.UserID, u.Username, f.name(u.UserID))
		}
		out = append(out, u.Username)
	}
	return out
}

func (f *fixture) wantOnCall(id int64, t time.Time, want ...string) {
	f.t.Helper()
	if want == nil {
		want = []string{}
	}
	if got := f.onCall(id, t); !slices.Equal(got, want) {
		f.t.Errorf("on call at %s = %v, want %v", t.Format(time.RFC3339), got, want)
	}
}

func wantField(t *testing.T, err error, field string) {
	t.Helper()
	var fe *FieldError
	if !errors.As(err, &fe) {
		t.Errorf("error = %v, want a FieldError on %s", err, field)
		return
	}
	if fe.Field != field {
		t.Errorf("error on field %q (%v), want field %q", fe.Field, fe, field)
	}
}

var t0 = time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC) // a Monday

// dailyInput is a UTC schedule handing off daily at 09:00 among members.
func dailyInput(slug string, members ...int64) ScheduleInput {
	return ScheduleInput{Slug: slug, Name: strings.ToUpper(slug), Layers: []LayerRecord{
		{Name: "main", Start: t0, ShiftLength: 24 * time.Hour, Members: members},
	}}
}

func TestScheduleCRUD(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, t0, "alice", "bob", "carol")
		ctx := f.ctx
		team, err := f.s.CreateTeam(ctx, TeamInput{Slug: "sre", Name: "SRE"})
		if err != nil {
			t.Fatal(err)
		}
		in := ScheduleInput{
			Slug: "web", Name: " Web ", Description: "front", TimeZone: "Asia/Shanghai", TeamID: team.ID,
			Layers: []LayerRecord{
				{Name: "base", Start: t0, ShiftLength: 7 * 24 * time.Hour, Members: f.users("alice", "bob")},
				{Name: "day", Start: t0, ShiftLength: 8 * time.Hour, Members: f.users("carol"),
					Restrict: []WindowSpec{{Days: []string{"Mon", "tuesday", "mon"}, From: "09:00", To: "18:00"}, {From: "22:00", To: "24:00"}}},
			},
		}
		r, err := f.s.CreateSchedule(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if r.ID == 0 || r.Slug != "web" || r.Name != "Web" || r.TimeZone != "Asia/Shanghai" || r.TeamID != team.ID || r.Source != "" ||
			len(r.Layers) != 2 || r.Layers[0].ID == 0 || !r.Layers[0].Start.Equal(t0) || r.Layers[0].Start.Location().String() != "Asia/Shanghai" ||
			r.Layers[1].ShiftLength != 8*time.Hour || !slices.Equal(r.Layers[0].Members, f.users("alice", "bob")) ||
			!r.CreatedAt.Equal(t0) {
			t.Fatalf("created %+v", r)
		}
		if got := r.Layers[1].Restrict; len(got) != 2 || !slices.Equal(got[0].Days, []string{"mon", "tue"}) || got[0].From != "09:00" || got[1].To != "24:00" || got[1].Days != nil {
			t.Errorf("restrict = %+v", got)
		}
		if g, err := f.s.GetSchedule(ctx, r.ID); err != nil || g.Slug != "web" || len(g.Layers) != 2 {
			t.Errorf("GetSchedule = %+v, %v", g, err)
		}
		if g, err := f.s.ScheduleBySlug(ctx, "web"); err != nil || g.ID != r.ID {
			t.Errorf("ScheduleBySlug = %+v, %v", g, err)
		}
		if _, err := f.s.ScheduleBySlug(ctx, "nope"); !errors.Is(err, ErrNotFound) {
			t.Errorf("ScheduleBySlug(nope) = %v", err)
		}
		if _, err := f.s.CreateSchedule(ctx, in); err != nil {
			wantField(t, err, "slug")
		} else {
			t.Error("duplicate slug accepted")
		}
		r2, err := f.s.CreateSchedule(ctx, dailyInput("api", f.users("bob")...))
		if err != nil {
			t.Fatal(err)
		}
		if r2.TimeZone != "UTC" || r2.TeamID != 0 {
			t.Errorf("defaults: %+v", r2)
		}
		all, err := f.s.ListSchedules(ctx)
		if err != nil || len(all) != 2 || all[0].Slug != "api" || all[1].Slug != "web" || len(all[1].Layers) != 2 || len(all[0].Layers) != 1 {
			t.Errorf("ListSchedules = %+v, %v", all, err)
		}

		// Update replaces the layers.
		f.now = t0.Add(time.Hour)
		up := dailyInput("web2", f.users("carol", "alice")...)
		up.TimeZone = "Europe/Berlin"
		u, err := f.s.UpdateSchedule(ctx, r.ID, up)
		if err != nil {
			t.Fatal(err)
		}
		if u.Slug != "web2" || u.TimeZone != "Europe/Berlin" || u.TeamID != 0 || len(u.Layers) != 1 || !slices.Equal(u.Layers[0].Members, f.users("carol", "alice")) ||
			!u.UpdatedAt.Equal(f.now) || !u.CreatedAt.Equal(t0) {
			t.Errorf("updated %+v", u)
		}
		f.wantOnCall(r.ID, t0.Add(25*time.Hour), "alice")
		up.Slug = "api"
		if _, err := f.s.UpdateSchedule(ctx, r.ID, up); err != nil {
			wantField(t, err, "slug")
		} else {
			t.Error("update to a taken slug accepted")
		}
		if _, err := f.s.UpdateSchedule(ctx, 999999, dailyInput("x", f.user("bob"))); !errors.Is(err, ErrNotFound) {
			t.Errorf("update unknown = %v", err)
		}
		// A failed update changes nothing.
		if g, _ := f.s.GetSchedule(ctx, r.ID); g.Slug != "web2" || len(g.Layers) != 1 {
			t.Errorf("after failed update: %+v", g)
		}

		// Team deletion unlinks; schedule deletion cascades.
		if _, err := f.s.UpdateSchedule(ctx, r.ID, ScheduleInput{Slug: "web2", TeamID: team.ID, Layers: u.Layers}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.AddOverride(ctx, OverrideRecord{ScheduleID: r.ID, Start: t0, End: t0.Add(time.Hour), UserID: f.user("bob"), Mode: ModeAdd}); err != nil {
			t.Fatal(err)
		}
		if err := f.s.DeleteTeam(ctx, team.ID); err != nil {
			t.Fatal(err)
		}
		if g, _ := f.s.GetSchedule(ctx, r.ID); g.TeamID != 0 {
			t.Errorf("team id after team deletion = %d", g.TeamID)
		}
		if err := f.s.DeleteSchedule(ctx, r.ID); err != nil {
			t.Fatal(err)
		}
		if err := f.s.DeleteSchedule(ctx, r.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("second delete = %v", err)
		}
		if _, err := f.s.GetSchedule(ctx, r.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("get deleted = %v", err)
		}
		var n int
		if err := db.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM schedule_overrides`).Scan(&n); err != nil || n != 0 {
			t.Errorf("overrides left: %d, %v", n, err)
		}
	})
}

func TestScheduleValidation(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, t0, "alice", "bob", "gone")
		ctx := f.ctx
		if err := f.au.SetDisabled(ctx, f.user("gone"), true); err != nil {
			t.Fatal(err)
		}
		a, b := f.user("alice"), f.user("bob")
		ok := func() ScheduleInput {
			return ScheduleInput{Slug: "s", TimeZone: "UTC", Layers: []LayerRecord{
				{Start: t0, ShiftLength: time.Hour, Members: []int64{a, b}},
				{Start: t0, ShiftLength: time.Hour, Members: []int64{b}, Restrict: []WindowSpec{{From: "09:00", To: "17:00"}}},
			}}
		}
		tests := []struct {
			field string
			edit  func(in *ScheduleInput)
		}{
			{"slug", func(in *ScheduleInput) { in.Slug = "" }},
			{"slug", func(in *ScheduleInput) { in.Slug = "Web" }},
			{"slug", func(in *ScheduleInput) { in.Slug = "-web" }},
			{"slug", func(in *ScheduleInput) { in.Slug = strings.Repeat("a", 64) }},
			{"name", func(in *ScheduleInput) { in.Name = strings.Repeat("x", 201) }},
			{"time_zone", func(in *ScheduleInput) { in.TimeZone = "Mars/Olympus" }},
			{"time_zone", func(in *ScheduleInput) { in.TimeZone = "Local" }},
			{"team_id", func(in *ScheduleInput) { in.TeamID = 424242 }},
			{"layers", func(in *ScheduleInput) { in.Layers = nil }},
			{"layers[0].start", func(in *ScheduleInput) { in.Layers[0].Start = time.Time{} }},
			{"layers[0].shift_length", func(in *ScheduleInput) { in.Layers[0].ShiftLength = 30 * time.Second }},
			{"layers[1].shift_length", func(in *ScheduleInput) { in.Layers[1].ShiftLength = 366 * 24 * time.Hour }},
			{"layers[0].members", func(in *ScheduleInput) { in.Layers[0].Members = nil }},
			{"layers[0].members[1]", func(in *ScheduleInput) { in.Layers[0].Members[1] = 987654 }},
			{"layers[1].members[0]", func(in *ScheduleInput) { in.Layers[1].Members[0] = f.user("gone") }},
			{"layers[1].restrict[0].from", func(in *ScheduleInput) { in.Layers[1].Restrict[0].From = "9:00" }},
			{"layers[1].restrict[0].from", func(in *ScheduleInput) { in.Layers[1].Restrict[0].From = "24:00" }},
			{"layers[1].restrict[0].to", func(in *ScheduleInput) { in.Layers[1].Restrict[0].To = "17:60" }},
			{"layers[1].restrict[0].to", func(in *ScheduleInput) { in.Layers[1].Restrict[0].To = "" }},
			{"layers[1].restrict[0].days[1]", func(in *ScheduleInput) { in.Layers[1].Restrict[0].Days = []string{"mon", "funday"} }},
		}
		for _, tc := range tests {
			in := ok()
			tc.edit(&in)
			_, err := f.s.CreateSchedule(ctx, in)
			wantField(t, err, tc.field)
		}
		// The good input is accepted (with edge values), and nothing failed was stored.
		in := ok()
		in.Layers[0].ShiftLength = time.Minute
		in.Layers[1].ShiftLength = 365 * 24 * time.Hour
		in.Layers[1].Restrict[0].To = "24:00"
		if _, err := f.s.CreateSchedule(ctx, in); err != nil {
			t.Fatal(err)
		}
		if all, _ := f.s.ListSchedules(ctx); len(all) != 1 {
			t.Errorf("%d schedules stored, want 1", len(all))
		}
	})
}

func TestRestrictedLayersOnCall(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, t0, "night", "day1", "day2")
		sh := loc(t, "Asia/Shanghai")
		r, err := f.s.CreateSchedule(f.ctx, ScheduleInput{Slug: "follow", TimeZone: "Asia/Shanghai", Layers: []LayerRecord{
			{Start: at(sh, 2025, 3, 3, 0, 0), ShiftLength: 7 * day, Members: f.users("night")},
			{Start: at(sh, 2025, 3, 3, 9, 0), ShiftLength: day, Members: f.users("day1", "day2"),
				Restrict: []WindowSpec{{Days: []string{"mon", "tue", "wed", "thu", "fri"}, From: "09:00", To: "18:00"}}},
		}})
		if err != nil {
			t.Fatal(err)
		}
		f.wantOnCall(r.ID, at(sh, 2025, 3, 3, 8, 59), "night")
		f.wantOnCall(r.ID, at(sh, 2025, 3, 3, 9, 0), "day1")
		f.wantOnCall(r.ID, at(sh, 2025, 3, 4, 17, 59), "day2")
		f.wantOnCall(r.ID, at(sh, 2025, 3, 4, 18, 0), "night")
		f.wantOnCall(r.ID, at(sh, 2025, 3, 8, 12, 0), "night") // Saturday
		us, err := f.s.OnCallAt(f.ctx, r.ID, at(sh, 2025, 3, 3, 10, 0))
		if err != nil || len(us) != 1 || !us[0].Until.Equal(at(sh, 2025, 3, 3, 18, 0)) || us[0].DisplayName != "DAY1" {
			t.Errorf("OnCallAt = %+v, %v", us, err)
		}
		// Night's continuous shift runs from Friday 18:00 to Monday 09:00.
		us, err = f.s.OnCallAt(f.ctx, r.ID, at(sh, 2025, 3, 8, 12, 0))
		if err != nil || len(us) != 1 || !us[0].Until.Equal(at(sh, 2025, 3, 10, 9, 0)) {
			t.Errorf("OnCallAt = %+v, %v", us, err)
		}
	})
}

func TestOverridesViaStore(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, t0, "alice", "bob", "carol", "dave", "gone")
		ctx := f.ctx
		a, b, c, d := f.user("alice"), f.user("bob"), f.user("carol"), f.user("dave")
		r, err := f.s.CreateSchedule(ctx, dailyInput("ops", a, b, c))
		if err != nil {
			t.Fatal(err)
		}
		id := r.ID
		h := func(days, hours int) time.Time {
			return t0.Add(time.Duration(days)*day + time.Duration(hours)*time.Hour)
		}
		f.wantOnCall(id, h(0, 1), "alice")
		f.wantOnCall(id, h(1, 1), "bob")
		f.wantOnCall(id, h(2, 1), "carol")
		f.wantOnCall(id, h(3, 1), "alice")

		// Validation.
		base := OverrideRecord{ScheduleID: id, Start: h(0, 2), End: h(0, 4), UserID: d, Mode: ModeAdd}
		bad := []struct {
			field string
			edit  func(o *OverrideRecord)
		}{
			{"end", func(o *OverrideRecord) { o.End = o.Start }},
			{"end", func(o *OverrideRecord) { o.End = o.Start.Add(-time.Hour) }},
			{"end", func(o *OverrideRecord) { o.End = o.Start.Add(91 * day) }},
			{"start", func(o *OverrideRecord) { o.Start = time.Time{} }},
			{"user_id", func(o *OverrideRecord) { o.UserID = 0 }},
			{"user_id", func(o *OverrideRecord) { o.UserID = f.user("gone"); _ = f.au.SetDisabled(ctx, o.UserID, true) }},
			{"mode", func(o *OverrideRecord) { o.Mode = "swap" }},
			{"mode", func(o *OverrideRecord) { o.Mode = "" }},
			{"replaces_user_id", func(o *OverrideRecord) { o.Mode = ModeReplace }},
			{"replaces_user_id", func(o *OverrideRecord) { o.Mode = ModeReplace; o.ReplacesUserID = d }},
			{"replaces_user_id", func(o *OverrideRecord) { o.Mode = ModeReplace; o.ReplacesUserID = 777777 }},
			{"replaces_user_id", func(o *OverrideRecord) { o.ReplacesUserID = a }},
			{"note", func(o *OverrideRecord) { o.Note = "plan" }},
		}
		for _, tc := range bad {
			o := base
			tc.edit(&o)
			_, err := f.s.AddOverride(ctx, o)
			wantField(t, err, tc.field)
		}
		if _, err := f.s.AddOverride(ctx, OverrideRecord{ScheduleID: 999999, Start: h(0, 1), End: h(0, 2), UserID: d, Mode: ModeAdd}); !errors.Is(err, ErrNotFound) {
			t.Errorf("override on unknown schedule = %v", err)
		}

		// add: dave on top of alice.
		add, err := f.s.AddOverride(ctx, OverrideRecord{ScheduleID: id, Start: h(0, 2), End: h(0, 4), UserID: d, Mode: ModeAdd, Note: " pairing ", CreatedBy: b})
		if err != nil {
			t.Fatal(err)
		}
		if add.ID == 0 || add.Username != "dave" || add.Note != "pairing" || add.CreatedBy != b || !add.CreatedAt.Equal(t0) || !add.Start.Equal(h(0, 2)) {
			t.Errorf("added %+v", add)
		}
		f.wantOnCall(id, h(0, 1), "alice")
		f.wantOnCall(id, h(0, 3), "alice", "dave")
		f.wantOnCall(id, h(0, 4), "alice")

		// replace: carol takes bob's day 1 afternoon.
		rep, err := f.s.AddOverride(ctx, OverrideRecord{ScheduleID: id, Start: h(1, 4), End: h(1, 8), UserID: c, Mode: ModeReplace, ReplacesUserID: b})
		if err != nil {
			t.Fatal(err)
		}
		if rep.ReplacesUsername != "bob" || rep.Mode != ModeReplace {
			t.Errorf("replace override %+v", rep)
		}
		f.wantOnCall(id, h(1, 3), "bob")
		f.wantOnCall(id, h(1, 5), "carol")
		f.wantOnCall(id, h(1, 8), "bob")

		// all: dave alone during day 2 hours 0-2.
		if _, err := f.s.AddOverride(ctx, OverrideRecord{ScheduleID: id, Start: h(2, 0), End: h(2, 2), UserID: d, Mode: ModeAll}); err != nil {
			t.Fatal(err)
		}
		f.wantOnCall(id, h(2, 1), "dave")
		f.wantOnCall(id, h(2, 2), "carol")

		// Listing by range.
		ovs, err := f.s.ListOverrides(ctx, id, h(0, 0), h(1, 5))
		if err != nil || len(ovs) != 2 || ovs[0].ID != add.ID || ovs[1].ID != rep.ID {
			t.Errorf("ListOverrides = %+v, %v", ovs, err)
		}
		if ovs, err := f.s.ListOverrides(ctx, id, time.Time{}, time.Time{}); err != nil || len(ovs) != 3 {
			t.Errorf("ListOverrides(all) = %d, %v", len(ovs), err)
		}
		if ovs, err := f.s.ListOverrides(ctx, id, h(1, 8), h(2, 0)); err != nil || len(ovs) != 0 {
			t.Errorf("ListOverrides(gap) = %+v, %v", ovs, err)
		}
		if _, err := f.s.ListOverrides(ctx, 999999, time.Time{}, time.Time{}); !errors.Is(err, ErrNotFound) {
			t.Errorf("ListOverrides(unknown) = %v", err)
		}

		// Delete.
		if err := f.s.DeleteOverride(ctx, id+1, add.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("delete with wrong schedule = %v", err)
		}
		if err := f.s.DeleteOverride(ctx, id, add.ID); err != nil {
			t.Fatal(err)
		}
		f.wantOnCall(id, h(0, 3), "alice")

		// TakeShift: dave takes alice's day 3 shift.
		shifts, err := f.s.ScheduleShifts(ctx, id, h(3, 0), h(4, 0))
		if err != nil || len(shifts) != 1 || shifts[0].Username != "alice" || shifts[0].DisplayName != "ALICE" ||
			shifts[0].ScheduleSlug != "ops" || shifts[0].ScheduleName != "OPS" {
			t.Fatalf("ScheduleShifts = %+v, %v", shifts, err)
		}
		take, err := f.s.TakeShift(ctx, d, shifts[0], d, "covering")
		if err != nil {
			t.Fatal(err)
		}
		if take.Mode != ModeReplace || take.ReplacesUserID != a || take.UserID != d || take.CreatedBy != d {
			t.Errorf("TakeShift = %+v", take)
		}
		f.wantOnCall(id, h(3, 5), "dave")
		// alice is not on call on day 4: nothing to take.
		_, err = f.s.TakeShift(ctx, d, ShiftRecord{ScheduleID: id, UserID: a, Start: h(4, 0), End: h(5, 0)}, d, "")
		wantField(t, err, "shift")
		_, err = f.s.TakeShift(ctx, a, ShiftRecord{ScheduleID: id, UserID: a, Start: h(6, 0), End: h(7, 0)}, a, "")
		wantField(t, err, "replaces_user_id")

		// CoverRange: dave covers day 5 morning for everyone.
		if _, err := f.s.CoverRange(ctx, id, d, h(5, 0), h(5, 6), c, "holiday"); err != nil {
			t.Fatal(err)
		}
		f.wantOnCall(id, h(5, 1), "dave")
		f.wantOnCall(id, h(5, 7), "carol")

		// Swap: alice's day 6 with bob's day 7, in one transaction.
		sa, _ := f.s.ScheduleShifts(ctx, id, h(6, 0), h(7, 0))
		sb, _ := f.s.ScheduleShifts(ctx, id, h(7, 0), h(8, 0))
		if len(sa) != 1 || len(sb) != 1 || sa[0].Username != "alice" || sb[0].Username != "bob" {
			t.Fatalf("shifts %+v %+v", sa, sb)
		}
		before, _ := f.s.ListOverrides(ctx, id, time.Time{}, time.Time{})
		// A failing second half stores nothing.
		_, err = f.s.Swap(ctx, sa[0], ShiftRecord{ScheduleID: id, UserID: b, Start: h(9, 0), End: h(10, 0)}, a, "")
		wantField(t, err, "b")
		if after, _ := f.s.ListOverrides(ctx, id, time.Time{}, time.Time{}); len(after) != len(before) {
			t.Errorf("failed swap stored overrides: %d → %d", len(before), len(after))
		}
		_, err = f.s.Swap(ctx, sa[0], sa[0], a, "")
		wantField(t, err, "b.user_id")
		sw, err := f.s.Swap(ctx, sa[0], sb[0], a, "trade")
		if err != nil {
			t.Fatal(err)
		}
		if len(sw) != 2 || sw[0].UserID != b || sw[0].ReplacesUserID != a || sw[1].UserID != a || sw[1].ReplacesUserID != b {
			t.Errorf("Swap = %+v", sw)
		}
		f.wantOnCall(id, h(6, 1), "bob")
		f.wantOnCall(id, h(7, 1), "alice")
		f.wantOnCall(id, h(8, 1), "carol")

		// Shifts reflect the overrides, merged per person.
		all, err := f.s.ScheduleShifts(ctx, id, h(5, 0), h(8, 0))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, s := range all {
			got = append(got, s.Username+"@"+s.Start.Sub(t0).String()+"-"+s.End.Sub(t0).String())
		}
		want := []string{"dave@120h0m0s-126h0m0s", "carol@126h0m0s-144h0m0s", "bob@144h0m0s-168h0m0s", "alice@168h0m0s-192h0m0s"}
		if !slices.Equal(got, want) {
			t.Errorf("shifts = %v, want %v", got, want)
		}
		if _, err := f.s.ScheduleShifts(ctx, id, h(1, 0), h(0, 0)); err == nil {
			t.Error("reversed range accepted")
		} else {
			wantField(t, err, "to")
		}
		if _, err := f.s.ScheduleShifts(ctx, id, h(0, 0), h(400, 0)); err == nil {
			t.Error("400-day range accepted")
		}

		// Load gives the pure schedule with ids as users.
		sched, err := Load(ctx, db.R, id)
		if err != nil {
			t.Fatal(err)
		}
		if got := UserIDs(sched.OnCallAt(h(6, 1))); !slices.Equal(got, []int64{b}) {
			t.Errorf("Load: on call = %v", got)
		}
		if len(sched.Overrides) != 6 || sched.ID == "" {
			t.Errorf("Load: %d overrides, id %q", len(sched.Overrides), sched.ID)
		}
		if ids, err := OnCallIDs(ctx, db.R, "ops", h(5, 1)); err != nil || !slices.Equal(ids, []int64{d}) {
			t.Errorf("OnCallIDs = %v, %v", ids, err)
		}
		if _, err := LoadBySlug(ctx, db.R, "nope"); !errors.Is(err, ErrNotFound) {
			t.Errorf("LoadBySlug(nope) = %v", err)
		}
	})
}

func TestOnCallUntil(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, t0.Add(3*time.Hour), "alice", "bob")
		ctx := f.ctx
		a, b := f.user("alice"), f.user("bob")
		rot, err := f.s.CreateSchedule(ctx, dailyInput("rot", a, b))
		if err != nil {
			t.Fatal(err)
		}
		us, err := f.s.OnCallNow(ctx, rot.ID)
		if err != nil || len(us) != 1 || us[0].UserID != a || !us[0].Until.Equal(t0.Add(day)) {
			t.Errorf("OnCallNow = %+v, %v", us, err)
		}
		// bob added for 2h; alice's shift continues.
		if _, err := f.s.AddOverride(ctx, OverrideRecord{ScheduleID: rot.ID, Start: t0, End: t0.Add(5 * time.Hour), UserID: b, Mode: ModeAdd}); err != nil {
			t.Fatal(err)
		}
		us, err = f.s.OnCallNow(ctx, rot.ID)
		if err != nil || len(us) != 2 || us[0].UserID != a || us[1].UserID != b || !us[0].Until.Equal(t0.Add(day)) || !us[1].Until.Equal(t0.Add(5*time.Hour)) {
			t.Errorf("OnCallNow with add = %+v, %v", us, err)
		}
		// A weekly rotation of one member continues past the horizon: zero Until.
		solo, err := f.s.CreateSchedule(ctx, ScheduleInput{Slug: "solo", Layers: []LayerRecord{{Start: t0, ShiftLength: 7 * day, Members: []int64{a}}}})
		if err != nil {
			t.Fatal(err)
		}
		us, err = f.s.OnCallNow(ctx, solo.ID)
		if err != nil || len(us) != 1 || !us[0].Until.IsZero() {
			t.Errorf("OnCallNow(solo) = %+v, %v", us, err)
		}
		// Before a restricted-only layer's window nobody is on call.
		win, err := f.s.CreateSchedule(ctx, ScheduleInput{Slug: "win", Layers: []LayerRecord{{Start: t0, ShiftLength: day, Members: []int64{a},
			Restrict: []WindowSpec{{From: "13:00", To: "14:00"}}}}})
		if err != nil {
			t.Fatal(err)
		}
		if us, err := f.s.OnCallNow(ctx, win.ID); err != nil || len(us) != 0 || us == nil {
			t.Errorf("OnCallNow(win) = %#v, %v", us, err)
		}
		if _, err := f.s.OnCallNow(ctx, 999999); !errors.Is(err, ErrNotFound) {
			t.Errorf("OnCallNow(unknown) = %v", err)
		}
	})
}

func TestUserShiftsAcrossSchedules(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, t0, "alice", "bob", "carol")
		ctx := f.ctx
		a, b, c := f.user("alice"), f.user("bob"), f.user("carol")
		s1, err := f.s.CreateSchedule(ctx, dailyInput("one", a, b))
		if err != nil {
			t.Fatal(err)
		}
		in := dailyInput("two", c, a)
		in.Layers[0].ShiftLength = 12 * time.Hour
		s2, err := f.s.CreateSchedule(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		s3, err := f.s.CreateSchedule(ctx, dailyInput("three", b, c))
		if err != nil {
			t.Fatal(err)
		}
		// alice covers one hour in "three" by override only.
		if _, err := f.s.CoverRange(ctx, s3.ID, a, t0.Add(30*time.Hour), t0.Add(31*time.Hour), a, ""); err != nil {
			t.Fatal(err)
		}
		got, err := f.s.UserShifts(ctx, a, t0, t0.Add(2*day))
		if err != nil {
			t.Fatal(err)
		}
		var desc []string
		for _, s := range got {
			if s.UserID != a || s.Username != "alice" {
				t.Errorf("shift of %d/%s", s.UserID, s.Username)
			}
			desc = append(desc, s.ScheduleSlug+"@"+s.Start.Sub(t0).String()+"-"+s.End.Sub(t0).String())
		}
		want := []string{"one@0s-24h0m0s", "two@12h0m0s-24h0m0s", "three@30h0m0s-31h0m0s", "two@36h0m0s-48h0m0s"}
		if !slices.Equal(desc, want) {
			t.Errorf("UserShifts = %v, want %v", desc, want)
		}
		if got[0].ScheduleID != s1.ID || got[1].ScheduleID != s2.ID {
			t.Errorf("schedule ids %+v", got)
		}
		if got, err := f.s.UserShifts(ctx, c, t0, t0.Add(12*time.Hour)); err != nil || len(got) != 1 || got[0].ScheduleSlug != "two" {
			t.Errorf("UserShifts(carol) = %+v, %v", got, err)
		}
		if _, err := f.s.UserShifts(ctx, 999999, t0, t0.Add(day)); !errors.Is(err, ErrNotFound) {
			t.Errorf("UserShifts(unknown) = %v", err)
		}
		if _, err := f.s.UserShifts(ctx, a, t0, t0.Add(367*day)); err == nil {
			t.Error("367-day range accepted")
		}
	})
}

func TestICalFeeds(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, t0, "alice", "bob")
		ctx := f.ctx
		a, b := f.user("alice"), f.user("bob")
		r, err := f.s.CreateSchedule(ctx, dailyInput("ops", a, b))
		if err != nil {
			t.Fatal(err)
		}
		r2, err := f.s.CreateSchedule(ctx, dailyInput("other", b, a))
		if err != nil {
			t.Fatal(err)
		}

		// Schedule secrets: created once, stable, rotatable, unique per schedule.
		sec, err := f.s.ScheduleICalSecret(ctx, r.ID)
		if err != nil || !secretRe.MatchString(sec) {
			t.Fatalf("ScheduleICalSecret = %q, %v", sec, err)
		}
		if again, _ := f.s.ScheduleICalSecret(ctx, r.ID); again != sec {
			t.Errorf("secret changed on second use: %q → %q", sec, again)
		}
		sec2, _ := f.s.ScheduleICalSecret(ctx, r2.ID)
		if sec2 == sec {
			t.Error("two schedules share a secret")
		}
		if got, err := f.s.ScheduleByICalSecret(ctx, sec); err != nil || got.ID != r.ID || got.ICalSecret != sec {
			t.Errorf("ScheduleByICalSecret = %+v, %v", got, err)
		}
		for _, bad := range []string{"", "nope", strings.ToUpper(sec), sec + "0", strings.Repeat("0", 32)} {
			if _, err := f.s.ScheduleByICalSecret(ctx, bad); !errors.Is(err, ErrNotFound) {
				t.Errorf("ScheduleByICalSecret(%q) = %v", bad, err)
			}
		}
		rot, err := f.s.RotateScheduleICalSecret(ctx, r.ID)
		if err != nil || rot == sec || !secretRe.MatchString(rot) {
			t.Fatalf("rotate = %q, %v", rot, err)
		}
		if _, err := f.s.ScheduleByICalSecret(ctx, sec); !errors.Is(err, ErrNotFound) {
			t.Errorf("old secret still works: %v", err)
		}
		if got, err := f.s.ScheduleByICalSecret(ctx, rot); err != nil || got.ID != r.ID {
			t.Errorf("new secret: %+v, %v", got, err)
		}
		if _, err := f.s.ScheduleICalSecret(ctx, 999999); !errors.Is(err, ErrNotFound) {
			t.Errorf("secret of unknown schedule = %v", err)
		}

		// User secrets.
		us, err := f.s.UserICalSecret(ctx, a)
		if err != nil || !secretRe.MatchString(us) {
			t.Fatalf("UserICalSecret = %q, %v", us, err)
		}
		if again, _ := f.s.UserICalSecret(ctx, a); again != us {
			t.Error("user secret changed on second use")
		}
		if id, err := f.s.UserByICalSecret(ctx, us); err != nil || id != a {
			t.Errorf("UserByICalSecret = %d, %v", id, err)
		}
		if _, err := f.s.UserByICalSecret(ctx, rot); !errors.Is(err, ErrNotFound) {
			t.Errorf("a schedule secret found a user: %v", err)
		}
		urot, err := f.s.RotateUserICalSecret(ctx, a)
		if err != nil || urot == us {
			t.Fatalf("rotate user = %q, %v", urot, err)
		}
		if _, err := f.s.UserByICalSecret(ctx, us); !errors.Is(err, ErrNotFound) {
			t.Errorf("old user secret works: %v", err)
		}
		if _, err := f.s.UserICalSecret(ctx, 999999); !errors.Is(err, ErrNotFound) {
			t.Errorf("secret of unknown user = %v", err)
		}

		// Feeds.
		now := t0.Add(10 * day)
		cal, err := f.s.ScheduleICal(ctx, r.ID, now)
		if err != nil {
			t.Fatal(err)
		}
		// now-7d..now+60d of a daily rotation: 67 events, from bob's day 3.
		if n := bytes.Count(cal, []byte("BEGIN:VEVENT")); n != 67 {
			t.Errorf("schedule feed has %d events, want 67", n)
		}
		if !bytes.Contains(cal, []byte("X-WR-CALNAME:OPS\r\n")) || !bytes.Contains(cal, []byte("SUMMARY:On call: alice\r\n")) ||
			!bytes.Contains(cal, []byte("SUMMARY:On call: bob\r\n")) || !bytes.Contains(cal, []byte("DTSTART:20250306T090000Z")) {
			t.Errorf("schedule feed:\n%s", cal[:min(len(cal), 800)])
		}
		ucal, err := f.s.UserICal(ctx, a, now)
		if err != nil {
			t.Fatal(err)
		}
		// alice is on call every day across the two schedules: 34 + 33 events.
		if n := bytes.Count(ucal, []byte("BEGIN:VEVENT")); n != 67 {
			t.Errorf("user feed has %d events, want 67", n)
		}
		if !bytes.Contains(ucal, []byte("SUMMARY:On call: OPS\r\n")) || !bytes.Contains(ucal, []byte("SUMMARY:On call: OTHER\r\n")) ||
			!bytes.Contains(ucal, []byte("X-WR-CALNAME:On call: alice\r\n")) {
			t.Errorf("user feed:\n%s", ucal[:min(len(ucal), 800)])
		}
		if _, err := f.s.UserICal(ctx, 999999, now); !errors.Is(err, ErrNotFound) {
			t.Errorf("UserICal(unknown) = %v", err)
		}

		// A disabled user's feed stops working.
		if err := f.au.SetDisabled(ctx, a, true); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.UserByICalSecret(ctx, urot); !errors.Is(err, ErrNotFound) {
			t.Errorf("disabled user's secret = %v", err)
		}
	})
}
