package oncall

import (
	"database/sql"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/firebreak/firebreak/internal/plan"
	"github.com/firebreak/firebreak/internal/store"
	"github.com/firebreak/firebreak/internal/testenv"
)

// examplePlan parses ../shared/examples/plan.yaml.
func examplePlan(t *testing.T) *plan.Plan {
	t.Helper()
	src, err := os.ReadFile("../../../shared/examples/plan.yaml")
	if err != nil {
		t.Fatal("the reference plan ../shared/examples/plan.yaml: ", err)
	}
	p, err := plan.Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// planUsers creates a user per plan person and returns handle → id.
func planUsers(f *fixture, p *plan.Plan) map[string]int64 {
	ids := map[string]int64{}
	for _, person := range p.People {
		ids[person.Handle] = f.user(person.Handle)
	}
	return ids
}

func (f *fixture) sync(schedules []plan.Schedule, ids map[string]int64) error {
	return f.db.Tx(f.ctx, func(tx *sql.Tx) error { return SyncPlan(f.ctx, tx, schedules, ids, f.now) })
}

func (f *fixture) mustSync(schedules []plan.Schedule, ids map[string]int64) {
	f.t.Helper()
	if err := f.sync(schedules, ids); err != nil {
		f.t.Fatalf("SyncPlan: %v", err)
	}
}

func (f *fixture) scheduleID(slug string) int64 {
	f.t.Helper()
	r, err := f.s.ScheduleBySlug(f.ctx, slug)
	if err != nil {
		f.t.Fatalf("schedule %s: %v", slug, err)
	}
	return r.ID
}

func TestSyncExamplePlan(t *testing.T) {
	p := examplePlan(t)
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		sh := loc(t, "Asia/Shanghai")
		f := newFixture(t, db, at(sh, 2025, 3, 5, 12, 0)) // a Wednesday
		ctx := f.ctx
		ids := planUsers(f, p)
		f.mustSync(p.Schedules, ids)

		all, err := f.s.ListSchedules(ctx)
		if err != nil || len(all) != 3 {
			t.Fatalf("ListSchedules = %d, %v", len(all), err)
		}
		prim, err := f.s.ScheduleBySlug(ctx, "primary-oncall")
		if err != nil {
			t.Fatal(err)
		}
		if prim.Source != SourcePlan || prim.Name != "primary-oncall" || prim.TimeZone != "Asia/Shanghai" || len(prim.Layers) != 1 ||
			prim.Layers[0].ShiftLength != 168*time.Hour || !prim.Layers[0].Start.Equal(at(sh, 2025, 3, 3, 10, 0)) ||
			!slices.Equal(prim.Layers[0].Members, []int64{ids["ops1"], ids["ops2"], ids["ops3"]}) {
			t.Errorf("primary-oncall = %+v", prim)
		}
		primary, secondary, ics := prim.ID, f.scheduleID("secondary-oncall"), f.scheduleID("incident-commanders")

		check := func() {
			t.Helper()
			// The week of ops1, then ops2 from Monday 10:00 Shanghai.
			f.wantOnCall(primary, at(sh, 2025, 3, 5, 12, 0), "ops1")
			f.wantOnCall(primary, at(sh, 2025, 3, 10, 9, 59), "ops1")
			f.wantOnCall(primary, at(sh, 2025, 3, 10, 10, 0), "ops2")
			f.wantOnCall(primary, at(sh, 2025, 3, 17, 10, 0), "ops3")
			f.wantOnCall(primary, at(sh, 2025, 3, 24, 10, 0), "ops1")
			f.wantOnCall(secondary, at(sh, 2025, 3, 5, 12, 0), "ops2")
			f.wantOnCall(secondary, at(sh, 2025, 3, 10, 10, 0), "ops3")
			// Incident commanders hand off daily at 09:00.
			f.wantOnCall(ics, at(sh, 2025, 3, 5, 12, 0), "sre-lead")
			f.wantOnCall(ics, at(sh, 2025, 3, 6, 8, 59), "sre-lead")
			f.wantOnCall(ics, at(sh, 2025, 3, 6, 9, 0), "dba")
			f.wantOnCall(ics, at(sh, 2025, 3, 7, 9, 0), "sre-lead")
		}
		check()
		us, err := f.s.OnCallAt(ctx, primary, at(sh, 2025, 3, 5, 12, 0))
		if err != nil || len(us) != 1 || !us[0].Until.Equal(at(sh, 2025, 3, 10, 10, 0)) || us[0].DisplayName != "OPS1" {
			t.Errorf("OnCallAt(primary) = %+v, %v", us, err)
		}
		if ids2, err := OnCallIDs(ctx, db.R, "incident-commanders", at(sh, 2025, 3, 6, 9, 0)); err != nil || !slices.Equal(ids2, []int64{ids["dba"]}) {
			t.Errorf("OnCallIDs = %v, %v", ids2, err)
		}

		// Re-applying the unchanged plan a day, then ten days later shifts nothing.
		f.now = at(sh, 2025, 3, 6, 12, 0)
		f.mustSync(p.Schedules, ids)
		check()
		f.now = at(sh, 2025, 3, 15, 18, 30)
		f.mustSync(p.Schedules, ids)
		check()
		if all, _ := f.s.ListSchedules(ctx); len(all) != 3 || f.scheduleID("primary-oncall") != primary {
			t.Errorf("re-sync recreated schedules: %+v", all)
		}

		// UserShifts across the two weekly schedules.
		shifts, err := f.s.UserShifts(ctx, ids["ops2"], at(sh, 2025, 3, 3, 10, 0), at(sh, 2025, 3, 17, 10, 0))
		if err != nil {
			t.Fatal(err)
		}
		var desc []string
		for _, s := range shifts {
			desc = append(desc, s.ScheduleSlug+" "+s.Start.In(sh).Format("01-02 15:04")+"→"+s.End.In(sh).Format("01-02 15:04"))
		}
		if want := []string{"secondary-oncall 03-03 10:00→03-10 10:00", "primary-oncall 03-10 10:00→03-17 10:00"}; !slices.Equal(desc, want) {
			t.Errorf("UserShifts(ops2) = %v, want %v", desc, want)
		}

		// Plan schedules are changed through the plan only.
		if _, err := f.s.UpdateSchedule(ctx, primary, dailyInput("primary-oncall", ids["ops1"])); !errors.Is(err, ErrPlanManaged) {
			t.Errorf("UpdateSchedule(plan) = %v", err)
		}
		if err := f.s.DeleteSchedule(ctx, primary); !errors.Is(err, ErrPlanManaged) {
			t.Errorf("DeleteSchedule(plan) = %v", err)
		}
		// People can still override them.
		if _, err := f.s.CoverRange(ctx, primary, ids["netops"], at(sh, 2025, 3, 20, 0, 0), at(sh, 2025, 3, 21, 0, 0), ids["sre-lead"], "swap"); err != nil {
			t.Fatal(err)
		}

		// Changing the members re-anchors the rotation at now.
		f.now = at(sh, 2025, 3, 19, 12, 0)
		changed := slices.Clone(p.Schedules)
		changed[0].Rotation.Members = []string{"ops3", "ops1"}
		changed[0].Name = plan.Text{EN: "Primary", ZH: "主值班"}
		// Plan overrides become "all" overrides on top of the rotation.
		changed[0].Overrides = []plan.Override{{Person: "dba", From: "2025-03-19 20:00", To: "2025-03-19 22:00"}}
		f.mustSync(changed, ids)
		if r, _ := f.s.GetSchedule(ctx, primary); r.Name != "Primary" || !r.Layers[0].Start.Equal(at(sh, 2025, 3, 17, 10, 0)) {
			t.Errorf("after member change: %+v", r)
		}
		f.wantOnCall(primary, at(sh, 2025, 3, 19, 12, 0), "ops3")
		f.wantOnCall(primary, at(sh, 2025, 3, 19, 21, 0), "dba")
		f.wantOnCall(primary, at(sh, 2025, 3, 20, 12, 0), "netops")
		f.wantOnCall(primary, at(sh, 2025, 3, 24, 10, 0), "ops1")
		ovs, err := f.s.ListOverrides(ctx, primary, time.Time{}, time.Time{})
		if err != nil || len(ovs) != 2 || ovs[0].Note != "plan" || ovs[0].Mode != ModeAll || ovs[0].CreatedBy != 0 || ovs[1].Note != "swap" {
			t.Errorf("overrides = %+v, %v", ovs, err)
		}
		// A plan override overlapping a person's override: the person's wins.
		changed[0].Overrides = []plan.Override{{Person: "dba", From: "2025-03-20 10:00", To: "2025-03-20 14:00"}}
		f.mustSync(changed, ids)
		f.wantOnCall(primary, at(sh, 2025, 3, 19, 21, 0), "ops3") // the old plan override is gone
		f.wantOnCall(primary, at(sh, 2025, 3, 20, 9, 0), "netops")
		f.wantOnCall(primary, at(sh, 2025, 3, 20, 11, 0), "netops")
		if ovs, _ := f.s.ListOverrides(ctx, primary, time.Time{}, time.Time{}); len(ovs) != 2 {
			t.Errorf("%d overrides after re-sync, want 2", len(ovs))
		}
		// Removing the plan override removes it; the person's stays.
		changed[0].Overrides = nil
		f.mustSync(changed, ids)
		if ovs, _ := f.s.ListOverrides(ctx, primary, time.Time{}, time.Time{}); len(ovs) != 1 || ovs[0].Note != "swap" {
			t.Errorf("overrides = %+v", ovs)
		}

		// A user-made schedule is never touched, and a slug clash is an error.
		mine, err := f.s.CreateSchedule(ctx, dailyInput("mine", ids["ops1"]))
		if err != nil {
			t.Fatal(err)
		}
		f.mustSync(changed, ids)
		if _, err := f.s.GetSchedule(ctx, mine.ID); err != nil {
			t.Errorf("sync deleted a user-made schedule: %v", err)
		}
		clash := append(slices.Clone(changed), plan.Schedule{ID: "mine", Rotation: plan.Rotation{Every: plan.Duration(24 * time.Hour), Members: []string{"ops1"}}})
		if err := f.sync(clash, ids); err == nil || !strings.Contains(err.Error(), `"mine"`) {
			t.Errorf("slug clash: %v", err)
		}

		// An unknown handle is an error naming it, and nothing changes.
		bad := slices.Clone(changed)
		bad[1].Rotation.Members = []string{"ops2", "ghost"}
		if err := f.sync(bad, ids); err == nil || !strings.Contains(err.Error(), "ghost") || !strings.Contains(err.Error(), "secondary-oncall") {
			t.Errorf("unknown handle: %v", err)
		}
		bad = slices.Clone(changed)
		bad[2].Overrides = []plan.Override{{Person: "nobody", From: "2025-03-20 10:00", To: "2025-03-20 14:00"}}
		if err := f.sync(bad, ids); err == nil || !strings.Contains(err.Error(), "nobody") {
			t.Errorf("unknown override person: %v", err)
		}

		// Schedules dropped from the plan are deleted; a new one is created.
		f.mustSync([]plan.Schedule{changed[0], {ID: "weekend", Timezone: "Europe/Berlin",
			Rotation: plan.Rotation{Every: plan.Duration(48 * time.Hour), Start: "2025-03-01", Members: []string{"netops", "dba"}}}}, ids)
		all, _ = f.s.ListSchedules(ctx)
		var slugs []string
		for _, r := range all {
			slugs = append(slugs, r.Slug)
		}
		if want := []string{"mine", "primary-oncall", "weekend"}; !slices.Equal(slugs, want) {
			t.Errorf("schedules after sync = %v, want %v", slugs, want)
		}
		berlin := loc(t, "Europe/Berlin")
		we := f.scheduleID("weekend")
		f.wantOnCall(we, at(berlin, 2025, 3, 1, 0, 0), "netops")
		f.wantOnCall(we, at(berlin, 2025, 3, 3, 0, 0), "dba")
		f.wantOnCall(we, at(berlin, 2025, 3, 19, 12, 0), "dba")
		sched, err := LoadBySlug(ctx, db.R, "weekend")
		if err != nil || sched.TZ.String() != "Europe/Berlin" || len(sched.Layers) != 1 {
			t.Errorf("LoadBySlug = %+v, %v", sched, err)
		}
	})
}

// A changed hand-off time re-anchors even when shift length and members stay.
func TestSyncPlanHandoffChange(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		sh := loc(t, "Asia/Shanghai")
		f := newFixture(t, db, at(sh, 2025, 3, 5, 12, 0))
		ids := map[string]int64{"ops1": f.user("ops1"), "ops2": f.user("ops2")}
		ps := []plan.Schedule{{ID: "p", Timezone: "Asia/Shanghai",
			Rotation: plan.Rotation{Every: plan.Duration(24 * time.Hour), Handoff: "09:00", Members: []string{"ops1", "ops2"}}}}
		f.mustSync(ps, ids)
		id := f.scheduleID("p")
		f.wantOnCall(id, at(sh, 2025, 3, 5, 12, 0), "ops1")
		f.now = at(sh, 2025, 3, 6, 12, 0)
		f.mustSync(ps, ids)
		f.wantOnCall(id, at(sh, 2025, 3, 6, 12, 0), "ops2")
		ps[0].Rotation.Handoff = "18:00"
		f.mustSync(ps, ids)
		if r, _ := f.s.GetSchedule(f.ctx, id); !r.Layers[0].Start.Equal(at(sh, 2025, 3, 5, 18, 0)) {
			t.Errorf("start after hand-off change = %v", r.Layers[0].Start)
		}
		f.wantOnCall(id, at(sh, 2025, 3, 6, 12, 0), "ops1")
		f.wantOnCall(id, at(sh, 2025, 3, 6, 18, 0), "ops2")
	})
}
