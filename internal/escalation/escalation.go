// Package escalation decides who to page and when for an unacknowledged
// incident. It is pure decision logic in the style of GoAlert's escalation
// engine, minus the database: no goroutines, no clock, no I/O. The caller
// stores a State per incident, calls Decide at (or after) the returned wake
// time, sends the returned pages, and stores the returned state.
//
// # Rules
//
//   - Cycle c's step i is due at CycleStart + Steps[i].After, CycleStart being
//     TriggeredAt for the first cycle (a zero State.CycleStart means TriggeredAt).
//   - Cycle length: the next cycle starts CycleLength(p) after the current one,
//     that is the largest step After plus the gap between the last two steps
//     (the last step's After for a one-step policy), the gap at least one
//     minute. The reference plan (0m, 10m, 20m) cycles every 30m: 0, 10, 20,
//     30, 40, 50, 60, 70, 80 minutes, then stops (repeat: 2 → three cycles).
//   - Overdue steps (the engine was down): every due step not yet paged is
//     paged, in order, each as its own Page with its own Key and Due time.
//     Nothing is skipped, so every target learns about the incident.
//   - A (cycle, step) pair is paged at most once: Decide is idempotent, calling
//     it again with the returned state at the same now returns no pages. Keys
//     are "c{cycle}s{step}"; cycle numbers only grow, even across restarts.
//   - Resolved: no pages, wake zero. Acknowledged: no pages; wake zero, or the
//     moment the acknowledgement expires when AckTimeout > 0 and AckedAt is set.
//   - Ack expiry: when AckTimeout > 0 and now ≥ AckedAt + AckTimeout, the state
//     becomes unacknowledged and a new round starts at the expiry instant with
//     step 0 of a new cycle due at once (step 0's After is not waited again).
//     A new round gets the full Repeat budget again (State.RoundCycle).
//   - Steps without targets advance the escalation silently (no Page).
//   - Wake is always after now, or zero once all cycles are done.
package escalation

import (
	"fmt"
	"time"
)

// Target kinds.
const (
	KindUser     = "user"
	KindSchedule = "schedule"
	KindTeam     = "team"
	KindContact  = "contact"
	KindChannel  = "channel"
)

// MinCycleGap is the smallest gap between the last step of a cycle and the
// first step of the next one.
const MinCycleGap = time.Minute

// Target is one pageable thing.
type Target struct {
	Kind string // KindUser, KindSchedule, KindTeam, KindContact or KindChannel
	ID   string
}

func (t Target) String() string { return t.Kind + ":" + t.ID }

// Step pages Targets After the start of a cycle (the incident's trigger for
// the first cycle).
type Step struct {
	After   time.Duration
	Targets []Target
}

// Policy is an escalation policy: Steps in order, run 1+Repeat times.
type Policy struct {
	Steps  []Step
	Repeat int // extra cycles after the first; negative counts as 0
}

// State is what the engine stores per incident.
type State struct {
	TriggeredAt  time.Time
	Acknowledged bool
	Resolved     bool
	AckedAt      time.Time
	AckTimeout   time.Duration // if > 0, an acknowledgement older than this expires and escalation restarts

	// Progress, maintained by Decide and EscalateNow.
	Cycle      int       // current cycle number, counted from 0 over the incident's life
	NextStep   int       // next step of Cycle to page
	LastStepAt time.Time // when the last page was produced
	CycleStart time.Time // start of Cycle (its step i is due at CycleStart + Steps[i].After); zero means TriggeredAt
	RoundCycle int       // first cycle of the current round (rounds restart on ack expiry); Repeat counts from here
}

// Page is one step's notification.
type Page struct {
	Step    int
	Cycle   int
	Targets []Target  // de-duplicated, in step order
	Key     string    // idempotency key, unique per incident: "c{cycle}s{step}"
	Due     time.Time // when the step was due; before now if it is paged late
}

// Key returns the idempotency key of a cycle's step.
func Key(cycle, step int) string { return fmt.Sprintf("c%ds%d", cycle, step) }

// CycleLength is the time from one cycle's start to the next one's.
func CycleLength(p Policy) time.Duration {
	n := len(p.Steps)
	if n == 0 {
		return 0
	}
	maxAfter := p.Steps[0].After
	for _, s := range p.Steps[1:] {
		maxAfter = max(maxAfter, s.After)
	}
	gap := p.Steps[n-1].After
	if n > 1 {
		gap -= p.Steps[n-2].After
	}
	return max(maxAfter+max(gap, MinCycleGap), MinCycleGap)
}

// Done reports whether every cycle of the current round has been paged.
func Done(p Policy, st State) bool {
	return len(p.Steps) == 0 || st.Cycle > st.RoundCycle+max(p.Repeat, 0)
}

// NextDue returns when the next step is due, and false when none is left.
func NextDue(p Policy, st State) (time.Time, bool) {
	if Done(p, st) || st.NextStep < 0 || st.NextStep >= len(p.Steps) {
		return time.Time{}, false
	}
	return cycleStart(st).Add(p.Steps[st.NextStep].After), true
}

func cycleStart(st State) time.Time {
	if st.CycleStart.IsZero() {
		return st.TriggeredAt
	}
	return st.CycleStart
}

// Decide returns the pages due at now, the state after them, and when Decide
// must run again (zero: never — done, resolved, or acknowledged for good).
func Decide(p Policy, st State, now time.Time) (pages []Page, next State, wake time.Time) {
	if st.Resolved {
		return nil, st, time.Time{}
	}
	if st.Acknowledged {
		exp, ok := ackExpiry(st)
		if !ok {
			return nil, st, time.Time{}
		}
		if now.Before(exp) {
			return nil, st, exp
		}
		st.Acknowledged, st.AckedAt = false, time.Time{}
		st = restart(p, st, exp)
	}
	return advance(p, st, now)
}

// EscalateNow pages the next step at once instead of waiting for it: the
// schedule shifts so that step is due at now and later steps keep their gaps.
// An acknowledgement is cleared (someone asked for more help); after the last
// cycle a new round starts at step 0. Resolved incidents are left alone.
func EscalateNow(p Policy, st State, now time.Time) ([]Page, State, time.Time) {
	if st.Resolved || len(p.Steps) == 0 {
		return Decide(p, st, now)
	}
	st.Acknowledged, st.AckedAt = false, time.Time{}
	if Done(p, st) || st.NextStep < 0 || st.NextStep >= len(p.Steps) {
		st = restart(p, st, now)
	}
	st.CycleStart = now.Add(-p.Steps[st.NextStep].After)
	return advance(p, st, now)
}

func ackExpiry(st State) (time.Time, bool) {
	if st.AckTimeout <= 0 || st.AckedAt.IsZero() {
		return time.Time{}, false
	}
	return st.AckedAt.Add(st.AckTimeout), true
}

// restart begins a new round whose step 0 is due at at. The cycle number moves
// on unless the current cycle has not paged anything yet, so keys stay unique.
func restart(p Policy, st State, at time.Time) State {
	if st.NextStep != 0 {
		st.Cycle++
	}
	st.NextStep = 0
	st.RoundCycle = st.Cycle
	after := time.Duration(0)
	if len(p.Steps) > 0 {
		after = p.Steps[0].After
	}
	st.CycleStart = at.Add(-after)
	return st
}

// advance pages every step due at now, in order, and returns the next wake.
func advance(p Policy, st State, now time.Time) ([]Page, State, time.Time) {
	var pages []Page
	for {
		due, ok := NextDue(p, st)
		if !ok {
			return pages, st, time.Time{}
		}
		if due.After(now) {
			return pages, st, due
		}
		if t := dedupe(p.Steps[st.NextStep].Targets); len(t) > 0 {
			pages = append(pages, Page{Step: st.NextStep, Cycle: st.Cycle, Targets: t, Key: Key(st.Cycle, st.NextStep), Due: due})
			st.LastStepAt = now
		}
		st.NextStep++
		if st.NextStep == len(p.Steps) {
			st.CycleStart = cycleStart(st).Add(CycleLength(p))
			st.Cycle++
			st.NextStep = 0
		}
	}
}

func dedupe(ts []Target) []Target {
	out := make([]Target, 0, len(ts))
	seen := make(map[Target]bool, len(ts))
	for _, t := range ts {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}
