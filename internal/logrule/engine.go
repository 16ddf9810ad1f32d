package logrule

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
)

// MaxGroups is how many groups one rule tracks at most; beyond it, a group
// that has not fired is forgotten to make room.
const MaxGroups = 100_000

// Fire reports a group crossing its rule's threshold (from Observe) or
// falling back below it (from Resolved).
type Fire struct {
	RuleID string            `json:"rule_id"`
	Group  map[string]string `json:"group"`
	// GroupKey is stable for a group: "field=value" in GroupBy order, joined by
	// ","; '%', ',' and '=' in values are percent-encoded. "" without GroupBy.
	GroupKey string `json:"group_key"`
	// Count is the number of lines in the window: the rule's Count when it
	// fires, fewer when resolved.
	Count int `json:"count"`
	// First and Last are the times of the oldest and newest line in the window
	// when it fires; when resolved, First is unchanged and Last is the newest
	// matching line seen while it was firing.
	First time.Time `json:"first"`
	Last  time.Time `json:"last"`
	// Sample is the line that crossed the threshold.
	Sample Line `json:"sample"`
}

// Engine keeps the sliding windows of many rules in memory. Its methods are
// safe for concurrent use.
//
// Windows run on the lines' own times (Observe); Resolved takes the current
// time from the caller and should be called periodically (every few
// seconds): it is what lets a group that fired fire again, and what frees
// idle groups.
type Engine struct {
	mu      sync.Mutex
	rules   []*ruleState
	orphans []Fire // fired groups of rules that SetRules dropped, for the next Resolved
	now     func() time.Time
}

type ruleState struct {
	rule     Rule
	def      string // canonical definition, to tell unchanged rules in SetRules
	matchers []matcher
	within   int64 // nanoseconds
	groups   map[string]*group
	newest   int64 // newest line time seen, unix nanoseconds
	swept    int64 // newest at the last sweep of idle groups
}

type group struct {
	vals   []string // the GroupBy values
	ts     ring     // times of the newest (at most Count) lines, ascending
	fired  bool
	first  int64 // the firing window's oldest line
	last   int64 // the newest line seen while firing
	sample Line
}

// NewEngine returns an engine for rules. Each rule must be valid and IDs
// unique; the error is a *FieldError such as "rules[2].match[0].regex".
func NewEngine(rules []Rule) (*Engine, error) {
	states, err := buildStates(rules)
	if err != nil {
		return nil, err
	}
	return &Engine{rules: states, now: time.Now}, nil
}

func buildStates(rules []Rule) ([]*ruleState, error) {
	states := make([]*ruleState, 0, len(rules))
	ids := make(map[string]int, len(rules))
	for i := range rules {
		r := Rule{
			ID:      rules[i].ID,
			Match:   slices.Clone(rules[i].Match),
			GroupBy: slices.Clone(rules[i].GroupBy),
			Count:   rules[i].Count,
			Within:  rules[i].Within,
		}
		ms, err := compileMatchers(&r)
		if err != nil {
			fe := err.(*FieldError)
			return nil, &FieldError{fmt.Sprintf("rules[%d].%s", i, fe.Field), fe.Msg}
		}
		if j, dup := ids[r.ID]; dup {
			return nil, &FieldError{fmt.Sprintf("rules[%d].id", i), fmt.Sprintf("%q is also the id of rules[%d]", r.ID, j)}
		}
		ids[r.ID] = i
		def, _ := json.Marshal(r)
		states = append(states, &ruleState{
			rule:     r,
			def:      string(def),
			matchers: ms,
			within:   int64(r.Within),
			groups:   make(map[string]*group),
		})
	}
	return states, nil
}

// SetRules replaces the rules. Rules whose ID and definition are unchanged
// keep their windows and firing state; groups that had fired under a rule
// that is removed or changed are reported by the next Resolved. On error the
// rules are left as they were.
func (e *Engine) SetRules(rules []Rule) error {
	states, err := buildStates(rules)
	if err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	old := make(map[string]*ruleState, len(e.rules))
	for _, rs := range e.rules {
		old[rs.rule.ID] = rs
	}
	for i, rs := range states {
		if o, ok := old[rs.rule.ID]; ok && o.def == rs.def {
			states[i] = o
			delete(old, rs.rule.ID)
		}
	}
	for _, rs := range e.rules {
		if _, dropped := old[rs.rule.ID]; !dropped {
			continue
		}
		for _, key := range sortedKeys(rs.groups) {
			if g := rs.groups[key]; g.fired {
				e.orphans = append(e.orphans, rs.fire(key, g, g.ts.n, g.first, g.last))
			}
		}
	}
	e.rules = states
	return nil
}

// Observe feeds one line to every rule and returns a Fire for each group
// whose count of matching lines within the window reaches the rule's Count
// with this line. A group that fired does not fire again until Resolved has
// seen its count drop below Count. A line with a zero Time is taken as now.
// Lines older than their group's window (measured from the group's newest
// line) do not count.
func (e *Engine) Observe(l Line) []Fire {
	e.mu.Lock()
	defer e.mu.Unlock()
	if l.Time.IsZero() {
		l.Time = e.now()
	}
	t := l.Time.UnixNano()
	var fires []Fire
	for _, rs := range e.rules {
		if f, ok := rs.observe(l, t); ok {
			fires = append(fires, f)
		}
	}
	return fires
}

func (rs *ruleState) observe(l Line, t int64) (Fire, bool) {
	for i := range rs.matchers {
		if !rs.matchers[i].match(l.Fields) {
			return Fire{}, false
		}
	}
	if t > rs.newest {
		rs.newest = t
		if rs.newest-rs.swept > rs.within {
			rs.sweep(rs.newest - rs.within)
		}
	}
	key := rs.groupKey(l.Fields)
	g := rs.groups[key]
	if g == nil {
		if len(rs.groups) >= MaxGroups && !rs.makeRoom() {
			return Fire{}, false
		}
		g = &group{vals: rs.groupValues(l.Fields)}
		rs.groups[key] = g
	}
	end := t
	if g.ts.n > 0 {
		end = max(end, g.ts.at(g.ts.n-1))
	}
	if t < end-rs.within {
		return Fire{}, false // older than the window
	}
	g.ts.pruneBefore(end - rs.within)
	g.ts.insert(t, rs.rule.Count)
	if g.fired {
		g.last = max(g.last, t)
		return Fire{}, false
	}
	if g.ts.n < rs.rule.Count {
		return Fire{}, false
	}
	g.fired = true
	g.first, g.last = g.ts.at(0), g.ts.at(g.ts.n-1)
	g.sample = Line{Time: l.Time, Fields: maps.Clone(l.Fields)}
	return rs.fire(key, g, g.ts.n, g.first, g.last), true
}

func (rs *ruleState) fire(key string, g *group, count int, first, last int64) Fire {
	f := Fire{
		RuleID:   rs.rule.ID,
		Group:    make(map[string]string, len(g.vals)),
		GroupKey: key,
		Count:    count,
		First:    time.Unix(0, first).UTC(),
		Last:     time.Unix(0, last).UTC(),
		Sample:   g.sample,
	}
	for i, name := range rs.rule.GroupBy {
		f.Group[name] = g.vals[i]
	}
	return f
}

// sweep forgets groups that have not fired and have no line at or after cut.
func (rs *ruleState) sweep(cut int64) {
	rs.swept = rs.newest
	for key, g := range rs.groups {
		if !g.fired && (g.ts.n == 0 || g.ts.at(g.ts.n-1) < cut) {
			delete(rs.groups, key)
		}
	}
}

// makeRoom frees a slot for a new group: idle groups first, else any group
// that has not fired. It reports whether there is room.
func (rs *ruleState) makeRoom() bool {
	rs.sweep(rs.newest - rs.within)
	if len(rs.groups) < MaxGroups {
		return true
	}
	for key, g := range rs.groups {
		if !g.fired {
			delete(rs.groups, key)
			return true
		}
	}
	return false
}

// Resolved returns the groups that fired and whose count within the window
// ending at now is below their rule's Count, in rule order and then by group
// key, and marks them as no longer firing; it also returns the fired groups
// of rules dropped by SetRules. It prunes timestamps older than the window
// and forgets groups left without any.
func (e *Engine) Resolved(now time.Time) []Fire {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := e.orphans
	e.orphans = nil
	n := now.UnixNano()
	for _, rs := range e.rules {
		var resolved []string
		for key, g := range rs.groups {
			g.ts.pruneBefore(n - rs.within)
			if g.fired && g.ts.n < rs.rule.Count {
				resolved = append(resolved, key)
				continue
			}
			if !g.fired && g.ts.n == 0 {
				delete(rs.groups, key)
			}
		}
		slices.Sort(resolved)
		for _, key := range resolved {
			g := rs.groups[key]
			out = append(out, rs.fire(key, g, g.ts.n, g.first, g.last))
			g.fired, g.sample = false, Line{}
			if g.ts.n == 0 {
				delete(rs.groups, key)
			}
		}
	}
	return out
}

var keyEscaper = strings.NewReplacer("%", "%25", ",", "%2C", "=", "%3D")

// groupKey renders "field=value,field=value" in GroupBy order.
func (rs *ruleState) groupKey(fields map[string]string) string {
	switch len(rs.rule.GroupBy) {
	case 0:
		return ""
	case 1:
		name := rs.rule.GroupBy[0]
		return escapeKey(name) + "=" + escapeKey(fields[name])
	}
	var b strings.Builder
	for i, name := range rs.rule.GroupBy {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(escapeKey(name))
		b.WriteByte('=')
		b.WriteString(escapeKey(fields[name]))
	}
	return b.String()
}

func escapeKey(s string) string {
	if !strings.ContainsAny(s, "%,=") {
		return s
	}
	return keyEscaper.Replace(s)
}

func (rs *ruleState) groupValues(fields map[string]string) []string {
	vals := make([]string, len(rs.rule.GroupBy))
	for i, name := range rs.rule.GroupBy {
		vals[i] = fields[name]
	}
	return vals
}

func sortedKeys(m map[string]*group) []string {
	return slices.Sorted(maps.Keys(m))
}

// ring holds ascending timestamps; it grows up to a capacity and then drops
// its oldest entry to make room.
type ring struct {
	buf     []int64
	head, n int
}

func (r *ring) at(i int) int64 { return r.buf[(r.head+i)%len(r.buf)] }

func (r *ring) set(i int, v int64) { r.buf[(r.head+i)%len(r.buf)] = v }

func (r *ring) pruneBefore(cut int64) {
	for r.n > 0 && r.buf[r.head] < cut {
		r.head = (r.head + 1) % len(r.buf)
		r.n--
	}
}

// insert adds t in order, keeping at most limit entries (the newest).
func (r *ring) insert(t int64, limit int) {
	if r.n == limit {
		if t < r.buf[r.head] {
			return // older than everything kept
		}
		r.head = (r.head + 1) % len(r.buf)
		r.n--
	}
	if r.n == len(r.buf) {
		size := min(max(4, 2*len(r.buf)), limit)
		buf := make([]int64, size)
		for i := 0; i < r.n; i++ {
			buf[i] = r.at(i)
		}
		r.buf, r.head = buf, 0
	}
	j := r.n
	for j > 0 && r.at(j-1) > t {
		r.set(j, r.at(j-1))
		j--
	}
	r.set(j, t)
	r.n++
}
