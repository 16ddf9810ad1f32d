package escalation

import (
	"fmt"
	"math/rand/v2"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/firebreak/firebreak/internal/plan"
)

var t0 = time.Date(2025, 3, 3, 2, 0, 0, 0, time.UTC)

func at(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }

// refPlan is the reference plan: shared/examples/plan.yaml when present, the
// embedded default (the same plan plus alert_levels) otherwise.
func refPlan(t *testing.T) *plan.Plan {
	t.Helper()
	if data, err := os.ReadFile("../../../shared/examples/plan.yaml"); err == nil {
		p, err := plan.Parse(data)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	p, _ := plan.Default()
	return p
}

func policyFor(t *testing.T, levelID string) Policy {
	t.Helper()
	p := refPlan(t)
	people, schedules, contacts := Sets(p)
	for _, l := range p.Levels {
		if l.ID == levelID {
			pol, err := FromPlan(p.Escalation, l, people, schedules, contacts)
			if err != nil {
				t.Fatal(err)
			}
			return pol
		}
	}
	t.Fatalf("no level %s", levelID)
	return Policy{}
}

var (
	primary   = Target{KindSchedule, "primary-oncall"}
	secondary = Target{KindSchedule, "secondary-oncall"}
	ics       = Target{KindSchedule, "incident-commanders"}
	sreLead   = Target{KindUser, "sre-lead"}
	execs     = Target{KindContact, "executives"}
)

func TestFromPlan(t *testing.T) {
	p0 := policyFor(t, "P0")
	want0 := Policy{Repeat: 2, Steps: []Step{
		{0, []Target{primary, secondary, ics}},
		{10 * time.Minute, []Target{sreLead}},
		{20 * time.Minute, []Target{execs}},
	}}
	if !reflect.DeepEqual(p0, want0) {
		t.Errorf("P0 = %+v\nwant %+v", p0, want0)
	}
	p1 := policyFor(t, "P1")
	if got := p1.Steps[0].Targets; !reflect.DeepEqual(got, []Target{primary, secondary}) {
		t.Errorf("P1 step 0 = %v", got)
	}
	if p3 := policyFor(t, "P3"); len(p3.Steps) != 0 {
		t.Errorf("P3 (page: []) = %+v, want no steps", p3)
	}
	if CycleLength(p0) != 30*time.Minute {
		t.Errorf("cycle length = %s, want 30m", CycleLength(p0))
	}

	// Unknown ids are named; duplicates between level and step are merged.
	esc := plan.Escalation{Steps: []plan.EscalationStep{
		{Page: plan.Page{Level: true, Targets: []string{"ops1"}}},
		{After: plan.Duration(5 * time.Minute), Page: plan.Page{Targets: []string{"ghost", "ops1", "phantom", "ghost"}}},
	}}
	lvl := plan.LevelSpec{ID: "PX", Page: []string{"ops1", "oncall"}}
	people, schedules := map[string]bool{"ops1": true}, map[string]bool{"oncall": true}
	_, err := FromPlan(esc, lvl, people, schedules, nil)
	if err == nil || !strings.Contains(err.Error(), "ghost, phantom") || !strings.Contains(err.Error(), "PX") {
		t.Errorf("unknown ids: err = %v", err)
	}
	esc.Steps[1].Page.Targets = []string{"ops1"}
	pol, err := FromPlan(esc, lvl, people, schedules, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := []Target{{KindUser, "ops1"}, {KindSchedule, "oncall"}}; !reflect.DeepEqual(pol.Steps[0].Targets, want) {
		t.Errorf("merged step 0 = %v, want %v", pol.Steps[0].Targets, want)
	}
	// Out-of-order and negative steps are rejected.
	bad := plan.Escalation{Steps: []plan.EscalationStep{{After: plan.Duration(time.Hour), Page: plan.Page{Level: true}}, {Page: plan.Page{Level: true}}}}
	if _, err := FromPlan(bad, lvl, people, schedules, nil); err == nil {
		t.Error("out-of-order steps accepted")
	}
	if _, err := FromPlan(plan.Escalation{Repeat: -1}, lvl, people, schedules, nil); err == nil {
		t.Error("negative repeat accepted")
	}
	// No escalation configured: the level is paged once.
	pol, err = FromPlan(plan.Escalation{}, lvl, people, schedules, nil)
	if err != nil || len(pol.Steps) != 1 || len(pol.Steps[0].Targets) != 2 {
		t.Errorf("empty escalation = %+v, %v", pol, err)
	}
}

// sent is a page with the time it was produced.
type sent struct {
	At  time.Time
	Key string
	To  []Target
}

func (s sent) String() string { return fmt.Sprintf("%s@%s%v", s.Key, s.At.Sub(t0), s.To) }

// event changes the stored state at a moment (an acknowledgement, a resolve).
type event struct {
	At time.Time
	Do func(*State)
}

// simulate is the engine's loop without a clock: it moves a fake now to each
// wake (or the next event, whichever comes first), applies the events due,
// calls Decide and collects the pages, until nothing more can happen.
func simulate(t *testing.T, p Policy, st State, events ...event) ([]sent, State) {
	t.Helper()
	var out []sent
	now := st.TriggeredAt
	for i := 0; ; i++ {
		if i > 10000 {
			t.Fatal("simulation does not end")
		}
		for len(events) > 0 && !events[0].At.After(now) {
			events[0].Do(&st)
			events = events[1:]
		}
		pages, next, wake := Decide(p, st, now)
		for _, pg := range pages {
			out = append(out, sent{now, pg.Key, pg.Targets})
		}
		if !wake.IsZero() && !wake.After(now) {
			t.Fatalf("wake %s not after now %s", wake, now)
		}
		st = next
		switch {
		case len(events) > 0 && (wake.IsZero() || events[0].At.Before(wake)):
			now = events[0].At
		case wake.IsZero():
			return out, st
		default:
			now = wake
		}
	}
}

func TestSimulatePlanP1(t *testing.T) {
	pages, st := simulate(t, policyFor(t, "P1"), State{TriggeredAt: t0})
	lvl := []Target{primary, secondary}
	want := []sent{
		{at(0), "c0s0", lvl}, {at(10), "c0s1", []Target{sreLead}}, {at(20), "c0s2", []Target{execs}},
		{at(30), "c1s0", lvl}, {at(40), "c1s1", []Target{sreLead}}, {at(50), "c1s2", []Target{execs}},
		{at(60), "c2s0", lvl}, {at(70), "c2s1", []Target{sreLead}}, {at(80), "c2s2", []Target{execs}},
	}
	if !reflect.DeepEqual(pages, want) {
		t.Errorf("pages:\n%v\nwant\n%v", pages, want)
	}
	if !Done(policyFor(t, "P1"), st) || st.Cycle != 3 || !st.LastStepAt.Equal(at(80)) {
		t.Errorf("final state %+v", st)
	}
}

func TestSimulatePlanP0(t *testing.T) {
	pol := policyFor(t, "P0")
	pages, _ := simulate(t, pol, State{TriggeredAt: t0},
		event{at(25), func(s *State) { s.Acknowledged, s.AckedAt = true, at(25) }})
	want := []sent{
		{at(0), "c0s0", []Target{primary, secondary, ics}},
		{at(10), "c0s1", []Target{sreLead}},
		{at(20), "c0s2", []Target{execs}},
	}
	if !reflect.DeepEqual(pages, want) {
		t.Errorf("pages:\n%v\nwant\n%v", pages, want)
	}
}

func TestScenarios(t *testing.T) {
	p1 := []Target{primary, secondary}
	ack := func(m int) event { return event{at(m), func(s *State) { s.Acknowledged, s.AckedAt = true, at(m) }} }
	tests := []struct {
		name   string
		st     State
		events []event
		want   []string // key@minutes
	}{
		{"ack stops", State{TriggeredAt: t0}, []event{ack(5)}, []string{"c0s0@0"}},
		{"ack before trigger step", State{TriggeredAt: t0}, []event{ack(0)}, nil},
		{"resolve stops", State{TriggeredAt: t0},
			[]event{{at(15), func(s *State) { s.Resolved = true }}}, []string{"c0s0@0", "c0s1@10"}},
		{"resolve beats ack timeout", State{TriggeredAt: t0, AckTimeout: 30 * time.Minute},
			[]event{ack(5), {at(20), func(s *State) { s.Resolved = true }}}, []string{"c0s0@0"}},
		{"ack timeout re-triggers", State{TriggeredAt: t0, AckTimeout: 30 * time.Minute},
			[]event{ack(12), ack(75)},
			// Acked at 12, expires at 42: a new round (three cycles) from step 0 at once.
			// Acked again at 75 (after c2s0 at 72), expires at 105: another full round.
			[]string{"c0s0@0", "c0s1@10", "c1s0@42", "c1s1@52", "c1s2@62", "c2s0@72",
				"c3s0@105", "c3s1@115", "c3s2@125", "c4s0@135", "c4s1@145", "c4s2@155", "c5s0@165", "c5s1@175", "c5s2@185"}},
		{"ack timeout after done gets a fresh round", State{TriggeredAt: t0, AckTimeout: 10 * time.Minute},
			[]event{ack(90), ack(101)},
			[]string{"c0s0@0", "c0s1@10", "c0s2@20", "c1s0@30", "c1s1@40", "c1s2@50", "c2s0@60", "c2s1@70", "c2s2@80",
				"c3s0@100", "c4s0@111", "c4s1@121", "c4s2@131", "c5s0@141", "c5s1@151", "c5s2@161", "c6s0@171", "c6s1@181", "c6s2@191"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pages, _ := simulate(t, policyFor(t, "P1"), tt.st, tt.events...)
			var got []string
			for _, p := range pages {
				got = append(got, fmt.Sprintf("%s@%d", p.Key, int(p.At.Sub(t0)/time.Minute)))
				if p.Key[len(p.Key)-1] == '0' && !reflect.DeepEqual(p.To, p1) {
					t.Errorf("%s pages %v", p.Key, p.To)
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %v\nwant %v", got, tt.want)
			}
		})
	}
}

func TestDecideStates(t *testing.T) {
	pol := policyFor(t, "P1")
	tests := []struct {
		name     string
		st       State
		now      time.Time
		keys     []string
		wake     time.Time
		acked    bool
		nextStep int
	}{
		{"acknowledged no timeout", State{TriggeredAt: t0, Acknowledged: true, AckedAt: at(1)}, at(500), nil, time.Time{}, true, 0},
		{"acknowledged waits for expiry", State{TriggeredAt: t0, Acknowledged: true, AckedAt: at(1), AckTimeout: time.Hour}, at(30), nil, at(61), true, 0},
		{"ack expired while down", State{TriggeredAt: t0, Acknowledged: true, AckedAt: at(1), AckTimeout: time.Hour, NextStep: 1, LastStepAt: at(0)},
			at(75), []string{"c1s0", "c1s1"}, at(81), false, 2},
		{"resolved", State{TriggeredAt: t0, Resolved: true}, at(0), nil, time.Time{}, false, 0},
		{"not yet", State{TriggeredAt: at(10)}, at(5), nil, at(10), false, 0},
		{"engine down an hour", State{TriggeredAt: t0, NextStep: 1, LastStepAt: at(0)}, at(60),
			[]string{"c0s1", "c0s2", "c1s0", "c1s1", "c1s2", "c2s0"}, at(70), false, 1},
		{"engine down for good", State{TriggeredAt: t0}, at(1000),
			[]string{"c0s0", "c0s1", "c0s2", "c1s0", "c1s1", "c1s2", "c2s0", "c2s1", "c2s2"}, time.Time{}, false, 0},
		{"empty policy", State{TriggeredAt: t0, Cycle: 0}, at(0), nil, time.Time{}, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := pol
			if tt.name == "empty policy" {
				p = Policy{}
			}
			pages, next, wake := Decide(p, tt.st, tt.now)
			var keys []string
			for i, pg := range pages {
				keys = append(keys, pg.Key)
				if i > 0 && pg.Due.Before(pages[i-1].Due) {
					t.Errorf("pages out of order: %v", pages)
				}
				if pg.Due.After(tt.now) {
					t.Errorf("%s due %s after now", pg.Key, pg.Due)
				}
			}
			if !reflect.DeepEqual(keys, tt.keys) || !wake.Equal(tt.wake) || next.Acknowledged != tt.acked || next.NextStep != tt.nextStep {
				t.Errorf("keys %v wake %v acked %v next %d\nwant %v wake %v acked %v next %d",
					keys, wake, next.Acknowledged, next.NextStep, tt.keys, tt.wake, tt.acked, tt.nextStep)
			}
			// Idempotent: the same now again pages nothing and wakes at the same time.
			again, next2, wake2 := Decide(p, next, tt.now)
			if len(again) != 0 || !wake2.Equal(wake) || next2 != next {
				t.Errorf("second Decide: %v %v %+v", again, wake2, next2)
			}
		})
	}
}

func TestEngineDownCatchUp(t *testing.T) {
	pol := policyFor(t, "P0")
	pages, st, wake := Decide(pol, State{TriggeredAt: t0}, at(0))
	if len(pages) != 1 || len(pages[0].Targets) != 3 || !wake.Equal(at(10)) {
		t.Fatalf("first Decide: %v %v", pages, wake)
	}
	// Down from 0:30 to 1:30: each missed step once, in order, with its due time.
	pages, st, wake = Decide(pol, st, at(90))
	var got []string
	for _, p := range pages {
		got = append(got, fmt.Sprintf("%s@%d", p.Key, int(p.Due.Sub(t0)/time.Minute)))
	}
	want := []string{"c0s1@10", "c0s2@20", "c1s0@30", "c1s1@40", "c1s2@50", "c2s0@60", "c2s1@70", "c2s2@80"}
	if !reflect.DeepEqual(got, want) || !wake.IsZero() || !Done(pol, st) || !st.LastStepAt.Equal(at(90)) {
		t.Errorf("catch-up %v wake %v state %+v\nwant %v", got, wake, st, want)
	}
}

func TestEscalateNow(t *testing.T) {
	pol := policyFor(t, "P1")
	tests := []struct {
		name string
		st   State
		now  time.Time
		keys []string
		wake time.Time
	}{
		{"jump to step 1", State{TriggeredAt: t0, NextStep: 1, LastStepAt: at(0)}, at(3), []string{"c0s1"}, at(13)},
		{"from last step rolls to next cycle", State{TriggeredAt: t0, NextStep: 2, LastStepAt: at(10)}, at(12), []string{"c0s2"}, at(22)},
		{"cycle boundary", State{TriggeredAt: t0, Cycle: 1, NextStep: 0, CycleStart: at(30), LastStepAt: at(20)}, at(21), []string{"c1s0"}, at(31)},
		{"overdue step is the one paged", State{TriggeredAt: t0, NextStep: 1, LastStepAt: at(0)}, at(15), []string{"c0s1"}, at(25)},
		{"clears acknowledgement", State{TriggeredAt: t0, NextStep: 1, LastStepAt: at(0), Acknowledged: true, AckedAt: at(2)}, at(40), []string{"c0s1"}, at(50)},
		{"after the last cycle starts a new round", State{TriggeredAt: t0, Cycle: 3, CycleStart: at(90), LastStepAt: at(80)}, at(100), []string{"c3s0"}, at(110)},
		{"resolved does nothing", State{TriggeredAt: t0, Resolved: true, NextStep: 1}, at(5), nil, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pages, next, wake := EscalateNow(pol, tt.st, tt.now)
			var keys []string
			for _, p := range pages {
				keys = append(keys, p.Key)
			}
			if !reflect.DeepEqual(keys, tt.keys) || !wake.Equal(tt.wake) {
				t.Errorf("keys %v wake %v, want %v %v", keys, wake, tt.keys, tt.wake)
			}
			if next.Acknowledged && !tt.st.Resolved {
				t.Error("still acknowledged")
			}
			if again, _, _ := Decide(pol, next, tt.now); len(again) != 0 {
				t.Errorf("Decide after EscalateNow pages %v", again)
			}
		})
	}
}

func TestDedupeWithinPage(t *testing.T) {
	u := Target{KindUser, "a"}
	pol := Policy{Steps: []Step{{0, []Target{u, u, {KindTeam, "a"}, u}}}}
	pages, _, wake := Decide(pol, State{TriggeredAt: t0}, t0)
	if len(pages) != 1 || !reflect.DeepEqual(pages[0].Targets, []Target{u, {KindTeam, "a"}}) || !wake.IsZero() {
		t.Errorf("pages %v wake %v", pages, wake)
	}
	// A step without targets advances silently.
	pol = Policy{Steps: []Step{{0, nil}, {time.Minute, []Target{u}}}}
	pages, _, _ = Decide(pol, State{TriggeredAt: t0}, at(5))
	if len(pages) != 1 || pages[0].Key != "c0s1" {
		t.Errorf("pages %v", pages)
	}
}

// TestProperties drives random policies with random increasing times and
// random acks, resolves and escalations, checking that no key is ever paged
// twice and that wake is always after now or zero.
func TestProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for iter := range 2000 {
		var pol Policy
		after := time.Duration(0)
		for range 1 + r.IntN(4) {
			after += time.Duration(r.IntN(15)) * time.Minute
			var ts []Target
			for range r.IntN(3) {
				ts = append(ts, Target{KindUser, fmt.Sprint(r.IntN(3))})
			}
			pol.Steps = append(pol.Steps, Step{after, ts})
		}
		pol.Repeat = r.IntN(4)
		st := State{TriggeredAt: t0}
		if r.IntN(2) == 0 {
			st.AckTimeout = time.Duration(1+r.IntN(40)) * time.Minute
		}
		seen := map[string]bool{}
		now := t0
		for step := range 60 {
			now = now.Add(time.Duration(r.IntN(20)) * time.Minute)
			switch r.IntN(12) {
			case 0:
				st.Acknowledged, st.AckedAt = true, now
			case 1:
				if r.IntN(4) == 0 {
					st.Resolved = true
				}
			}
			var pages []Page
			var wake time.Time
			if r.IntN(10) == 0 {
				pages, st, wake = EscalateNow(pol, st, now)
			} else {
				pages, st, wake = Decide(pol, st, now)
			}
			for _, p := range pages {
				if seen[p.Key] {
					t.Fatalf("iter %d step %d: key %s paged twice (policy %+v)", iter, step, p.Key, pol)
				}
				seen[p.Key] = true
				if p.Key != Key(p.Cycle, p.Step) || len(p.Targets) == 0 || p.Due.After(now) {
					t.Fatalf("bad page %+v at %v", p, now)
				}
				if st.Resolved {
					t.Fatalf("page after resolve")
				}
			}
			if !wake.IsZero() && !wake.After(now) {
				t.Fatalf("iter %d: wake %v not after now %v", iter, wake, now)
			}
			if again, st2, _ := Decide(pol, st, now); len(again) != 0 || st2 != st {
				t.Fatalf("iter %d: Decide not idempotent: %v", iter, again)
			}
		}
	}
}
