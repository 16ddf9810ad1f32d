// Package oncall holds the pure decision logic of on-call schedules: who is on
// call at an instant, the merged shifts over a range, overrides and swaps, and
// an iCalendar export. It has no storage and no clock: time is always a
// parameter.
//
// A Schedule is a stack of Layers, each a Rotation optionally restricted to
// daily windows; later layers win where they are active. Overrides are then
// applied in order on top of the layer result.
package oncall

import (
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // zones load even where the system has no tz database

	"github.com/firebreak/firebreak/internal/plan"
)

const day = 24 * time.Hour

// ReplaceAll as Override.Replaces puts the override's user on call instead of
// everyone the layers put on call (the plan's "overrides:" semantics).
const ReplaceAll = "*"

// Rotation hands on call from one member to the next every ShiftLength,
// starting with Members[0] at Start. Shift k starts at hand-off k; negative k
// are the shifts before Start (the rotation extends backwards).
//
// When ShiftLength is a whole number of days, hand-offs happen at the same
// local wall time as Start in the schedule's zone (so a 24h shift is 23h or
// 25h long across a DST change); otherwise they are Start + k*ShiftLength.
type Rotation struct {
	Start       time.Time
	ShiftLength time.Duration
	Members     []string
}

// Window is a daily time window in the schedule's zone. From and To are wall
// clock offsets from local midnight (e.g. 9*time.Hour); To <= From wraps past
// midnight into the next day (From == To is a whole day). Days limits the
// days the window starts on; empty means every day.
type Window struct {
	Days     []time.Weekday
	From, To time.Duration
}

// Layer is one rotation of a schedule, active only inside Restrict when that
// is non-empty.
type Layer struct {
	Name     string
	Rotation Rotation
	Restrict []Window
}

// Override changes who is on call during [Start, End). With Replaces empty,
// User is added on top of whoever is on call; with Replaces set, User takes
// that user's place while that user is on call (taking a shift, covering a
// range); with ReplaceAll, User alone is on call.
type Override struct {
	Start, End time.Time
	User       string
	Replaces   string
}

// Schedule is a stack of layers plus overrides, evaluated in TZ (UTC if nil).
type Schedule struct {
	ID        string
	TZ        *time.Location
	Layers    []Layer
	Overrides []Override
}

// Shift is a period [Start, End) during which User is continuously on call.
type Shift struct {
	User       string
	Start, End time.Time
}

func (s *Schedule) tz() *time.Location {
	if s == nil || s.TZ == nil {
		return time.UTC
	}
	return s.TZ
}

// OnCallAt returns who is on call at t: the user of the last layer active at
// t, then overrides applied in order. It returns nil when nobody is.
func (s *Schedule) OnCallAt(t time.Time) []string {
	if s == nil {
		return nil
	}
	tz := s.tz()
	var users []string
	for i := len(s.Layers) - 1; i >= 0; i-- {
		l := s.Layers[i]
		if len(l.Rotation.Members) == 0 || !l.activeAt(t, tz) {
			continue
		}
		users = []string{l.Rotation.userAt(t, tz)}
		break
	}
	for _, o := range s.Overrides {
		if o.User == "" || t.Before(o.Start) || !t.Before(o.End) {
			continue
		}
		switch o.Replaces {
		case "":
			if !slices.Contains(users, o.User) {
				users = append(users, o.User)
			}
		case ReplaceAll:
			users = []string{o.User}
		default:
			i := slices.Index(users, o.Replaces)
			switch {
			case i < 0:
			case slices.Contains(users, o.User):
				users = slices.Delete(users, i, i+1)
			default:
				users[i] = o.User
			}
		}
	}
	if len(users) == 0 {
		return nil
	}
	return users
}

// Shifts returns the shifts in [from, to), clipped to it, with each user's
// consecutive time merged into one shift, sorted by Start then User. Times are
// in the schedule's zone.
func (s *Schedule) Shifts(from, to time.Time) []Shift {
	if s == nil || !from.Before(to) {
		return nil
	}
	tz := s.tz()
	starts := append([]time.Time{from}, s.boundaries(from, to)...)
	open := map[string]time.Time{}
	var out []Shift
	for _, b := range starts {
		users := s.OnCallAt(b)
		for u, st := range open {
			if !slices.Contains(users, u) {
				out = append(out, Shift{User: u, Start: st, End: b})
				delete(open, u)
			}
		}
		for _, u := range users {
			if _, ok := open[u]; !ok {
				open[u] = b
			}
		}
	}
	for u, st := range open {
		out = append(out, Shift{User: u, Start: st, End: to})
	}
	for i := range out {
		out[i].Start, out[i].End = out[i].Start.In(tz), out[i].End.In(tz)
	}
	slices.SortFunc(out, func(a, b Shift) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		if c := strings.Compare(a.User, b.User); c != 0 {
			return c
		}
		return a.End.Compare(b.End)
	})
	return out
}

// boundaries returns, sorted and unique, every instant in (from, to) at which
// who is on call may change: hand-offs, window edges and override edges.
func (s *Schedule) boundaries(from, to time.Time) []time.Time {
	tz := s.tz()
	var bs []time.Time
	add := func(t time.Time) {
		if t.After(from) && t.Before(to) {
			bs = append(bs, t)
		}
	}
	for _, l := range s.Layers {
		r := l.Rotation
		if len(r.Members) > 1 && r.ShiftLength > 0 {
			for k := r.index(from, tz) + 1; ; k++ {
				h := r.handoff(k, tz)
				if !h.Before(to) {
					break
				}
				add(h)
			}
		}
		if len(l.Restrict) > 0 {
			y, m, d := from.In(tz).Date()
			for i := -1; ; i++ {
				if time.Date(y, m, d+i, 0, 0, 0, 0, tz).Add(-2 * time.Hour).After(to) {
					break
				}
				for _, w := range l.Restrict {
					if st, en, ok := w.span(y, m, d+i, tz); ok {
						add(st)
						add(en)
					}
				}
			}
		}
	}
	for _, o := range s.Overrides {
		add(o.Start)
		add(o.End)
	}
	slices.SortFunc(bs, time.Time.Compare)
	return slices.CompactFunc(bs, time.Time.Equal)
}

func (l Layer) activeAt(t time.Time, tz *time.Location) bool {
	if len(l.Restrict) == 0 {
		return true
	}
	for _, w := range l.Restrict {
		if w.contains(t, tz) {
			return true
		}
	}
	return false
}

// span returns the window's instants on local date y-m-d, if it applies that day.
func (w Window) span(y int, m time.Month, d int, tz *time.Location) (start, end time.Time, ok bool) {
	if len(w.Days) > 0 && !slices.Contains(w.Days, time.Date(y, m, d, 12, 0, 0, 0, tz).Weekday()) {
		return start, end, false
	}
	start = wall(y, m, d, w.From, tz)
	if w.To > w.From {
		end = wall(y, m, d, w.To, tz)
	} else {
		end = wall(y, m, d+1, w.To, tz)
	}
	return start, end, true
}

func (w Window) contains(t time.Time, tz *time.Location) bool {
	y, m, d := t.In(tz).Date()
	for _, dd := range []int{d - 1, d} {
		if st, en, ok := w.span(y, m, dd, tz); ok && !t.Before(st) && t.Before(en) {
			return true
		}
	}
	return false
}

// wall is the instant of wall clock offset off after local midnight of y-m-d.
func wall(y int, m time.Month, d int, off time.Duration, tz *time.Location) time.Time {
	h := off / time.Hour
	off -= h * time.Hour
	mi := off / time.Minute
	off -= mi * time.Minute
	sec := off / time.Second
	off -= sec * time.Second
	return time.Date(y, m, d, int(h), int(mi), int(sec), int(off), tz)
}

func (r Rotation) wholeDays() int64 {
	if r.ShiftLength > 0 && r.ShiftLength%day == 0 {
		return int64(r.ShiftLength / day)
	}
	return 0
}

// handoff returns the start of shift k.
func (r Rotation) handoff(k int64, tz *time.Location) time.Time {
	if k == 0 {
		return r.Start
	}
	if n := r.wholeDays(); n > 0 {
		s := r.Start.In(tz)
		y, m, d := s.Date()
		return time.Date(y, m, d+int(k*n), s.Hour(), s.Minute(), s.Second(), s.Nanosecond(), tz)
	}
	off := new(big.Int).Mul(big.NewInt(k), big.NewInt(int64(r.ShiftLength)))
	sec, ns := new(big.Int).DivMod(off, big.NewInt(1e9), new(big.Int))
	return time.Unix(r.Start.Unix()+sec.Int64(), int64(r.Start.Nanosecond())+ns.Int64())
}

// index returns k such that handoff(k) <= t < handoff(k+1).
func (r Rotation) index(t time.Time, tz *time.Location) int64 {
	var k int64
	if n := r.wholeDays(); n > 0 {
		k = floorDiv(civilDay(t.In(tz))-civilDay(r.Start.In(tz)), n)
	} else {
		diff := new(big.Int).Mul(big.NewInt(t.Unix()-r.Start.Unix()), big.NewInt(1e9))
		diff.Add(diff, big.NewInt(int64(t.Nanosecond()-r.Start.Nanosecond())))
		k = diff.Div(diff, big.NewInt(int64(r.ShiftLength))).Int64() // Euclidean: floor for a positive divisor
	}
	for r.handoff(k, tz).After(t) {
		k--
	}
	for !r.handoff(k+1, tz).After(t) {
		k++
	}
	return k
}

func (r Rotation) userAt(t time.Time, tz *time.Location) string {
	n := int64(len(r.Members))
	if r.ShiftLength <= 0 || n == 1 {
		return r.Members[0]
	}
	k := r.index(t, tz) % n
	if k < 0 {
		k += n
	}
	return r.Members[k]
}

func civilDay(t time.Time) int64 {
	y, m, d := t.Date()
	return floorDiv(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix(), 86400)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// TakeShift returns an override putting user on call instead of sh.User for sh.
func TakeShift(user string, sh Shift) Override {
	return Override{Start: sh.Start, End: sh.End, User: user, Replaces: sh.User}
}

// SwapShifts returns the overrides of a two-way swap: userB covers userA
// during shiftA, and userA covers userB during shiftB.
func SwapShifts(userA string, shiftA Shift, userB string, shiftB Shift) []Override {
	return []Override{
		{Start: shiftA.Start, End: shiftA.End, User: userB, Replaces: userA},
		{Start: shiftB.Start, End: shiftB.End, User: userA, Replaces: userB},
	}
}

// FromPlan builds a one-layer schedule from a plan schedule. The rotation is
// anchored at a hand-off with member 0: the first hand-off at or after the
// plan's rotation start date when it has one, otherwise the most recent
// hand-off at or before anchor. Hand-offs are ps.Rotation.Handoff ("Monday
// 10:00" weekly, "09:00" daily; default 00:00, Monday 00:00 for whole weeks)
// in ps.Timezone (default UTC). Plan overrides become ReplaceAll overrides.
func FromPlan(ps plan.Schedule, anchor time.Time) (*Schedule, error) {
	tz := time.UTC
	if ps.Timezone != "" {
		var err error
		if tz, err = time.LoadLocation(ps.Timezone); err != nil {
			return nil, fmt.Errorf("schedule %s: %w", ps.ID, err)
		}
	}
	every := ps.Rotation.Every.D()
	if every <= 0 {
		return nil, fmt.Errorf("schedule %s: rotation.every must be positive", ps.ID)
	}
	if len(ps.Rotation.Members) == 0 {
		return nil, fmt.Errorf("schedule %s: rotation has no members", ps.ID)
	}
	var h plan.Handoff
	if ps.Rotation.Handoff != "" {
		var err error
		if h, err = plan.ParseHandoff(ps.Rotation.Handoff); err != nil {
			return nil, fmt.Errorf("schedule %s: %w", ps.ID, err)
		}
	} else if every%(7*day) == 0 {
		h = plan.Handoff{Weekly: true, Weekday: time.Monday}
	}
	start := lastHandoff(h, anchor, tz)
	if ps.Rotation.Start != "" {
		d, err := time.ParseInLocation(time.DateOnly, ps.Rotation.Start, tz)
		if err != nil {
			return nil, fmt.Errorf("schedule %s: invalid rotation.start %q", ps.ID, ps.Rotation.Start)
		}
		if start = lastHandoff(h, d, tz); start.Before(d) {
			start = stepHandoff(h, start, tz)
		}
	}
	s := &Schedule{
		ID: ps.ID,
		TZ: tz,
		Layers: []Layer{{
			Name:     ps.ID,
			Rotation: Rotation{Start: start, ShiftLength: every, Members: slices.Clone(ps.Rotation.Members)},
		}},
	}
	for i, o := range ps.Overrides {
		from, err1 := parsePlanTime(o.From, tz)
		to, err2 := parsePlanTime(o.To, tz)
		if err := cmpErr(err1, err2); err != nil {
			return nil, fmt.Errorf("schedule %s: overrides[%d]: %w", ps.ID, i, err)
		}
		s.Overrides = append(s.Overrides, Override{Start: from, End: to, User: o.Person, Replaces: ReplaceAll})
	}
	return s, nil
}

func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// lastHandoff returns the latest hand-off instant at or before at.
func lastHandoff(h plan.Handoff, at time.Time, tz *time.Location) time.Time {
	a := at.In(tz)
	y, m, d := a.Date()
	back, step := 0, 1
	if h.Weekly {
		back, step = (int(a.Weekday())-int(h.Weekday)+7)%7, 7
	}
	c := time.Date(y, m, d-back, h.Hour, h.Minute, 0, 0, tz)
	if c.After(at) {
		c = time.Date(y, m, d-back-step, h.Hour, h.Minute, 0, 0, tz)
	}
	return c
}

func stepHandoff(h plan.Handoff, c time.Time, tz *time.Location) time.Time {
	step := 1
	if h.Weekly {
		step = 7
	}
	y, m, d := c.In(tz).Date()
	return time.Date(y, m, d+step, h.Hour, h.Minute, 0, 0, tz)
}

func parsePlanTime(s string, tz *time.Location) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02 15:04", time.DateOnly} {
		if t, err := time.ParseInLocation(layout, s, tz); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("invalid time %q (use 2006-01-02 15:04 or RFC 3339)", s)
}
