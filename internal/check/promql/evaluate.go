package promql

import (
	"encoding/json"
	"maps"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// State is what the caller stores between runs of one check (JSON-serialisable).
// The zero State is the state before the first run.
type State struct {
	// Pending maps a breaching series that does not fire yet to when it
	// started breaching.
	Pending map[string]time.Time `json:"pending"`
	// Firing holds the series that fire.
	Firing map[string]bool `json:"firing"`
	// Labels keeps the label sets of the firing series, so that a series that
	// disappears from the result resolves with its labels and a readable summary.
	Labels map[string]map[string]string `json:"labels,omitempty"`
}

// Change is a series that starts firing or stops firing in this run.
type Change struct {
	Fingerprint string            `json:"fingerprint"`
	Labels      map[string]string `json:"labels"`
	// Value is the series' value in this run: NaN when a NaN resolved it, 0 when
	// it disappeared from the result (see Gone).
	Value float64 `json:"value"`
	// Firing is true for a series that starts firing now, false for one that
	// resolves now.
	Firing bool `json:"firing"`
	// Gone marks a resolution because the series is no longer in the result.
	Gone bool `json:"gone,omitempty"`
	// Summary is one line for people, such as
	// `cpu: instance="web-1" is 93.2, above 80 for 5m`.
	Summary string `json:"summary"`
}

// MarshalJSON writes Value as null when it is NaN or ±Inf, which JSON cannot hold.
func (c Change) MarshalJSON() ([]byte, error) {
	type plain Change
	return json.Marshal(struct {
		plain
		Value *float64 `json:"value"`
	}{plain(c), finite(c.Value)})
}

// Evaluate is the pure rule of the check: given the State of the previous run
// and the samples of this run at time now, it returns the new State and what
// changed, sorted by fingerprint.
//
// A sample breaches when its value is > Above (or < Below); NaN never breaches.
// A breaching series is pending from the first run it breaches in and fires in
// the first run at which it has breached for at least c.For (at once when For is
// 0). A run in which it does not breach resets a pending series and resolves a
// firing one; so does a run whose result no longer holds the series. st is not
// modified.
func Evaluate(c Config, st State, samples []Sample, now time.Time) (State, []Change) {
	next := State{
		Pending: map[string]time.Time{},
		Firing:  map[string]bool{},
		Labels:  map[string]map[string]string{},
	}
	hold := time.Duration(c.For)
	var changes []Change
	seen := make(map[string]bool, len(samples))

	for _, s := range samples {
		fp := s.Fingerprint
		if fp == "" {
			fp = Fingerprint(s.Labels)
		}
		if seen[fp] { // Prometheus never returns a series twice; keep the first
			continue
		}
		seen[fp] = true
		wasFiring := st.Firing[fp]

		if !c.breaches(s.Value) {
			if wasFiring {
				changes = append(changes, Change{
					Fingerprint: fp, Labels: s.Labels, Value: s.Value, Firing: false,
					Summary: c.resolvedSummary(s.Labels, s.Value),
				})
			}
			continue
		}
		if wasFiring {
			next.Firing[fp] = true
			next.Labels[fp] = s.Labels
			continue
		}
		since, ok := st.Pending[fp]
		if !ok || since.After(now) { // a clock that went back restarts the wait
			since = now
		}
		if now.Sub(since) >= hold {
			next.Firing[fp] = true
			next.Labels[fp] = s.Labels
			changes = append(changes, Change{
				Fingerprint: fp, Labels: s.Labels, Value: s.Value, Firing: true,
				Summary: c.firingSummary(s.Labels, s.Value),
			})
			continue
		}
		next.Pending[fp] = since
	}

	for fp, firing := range st.Firing {
		if !firing || seen[fp] {
			continue
		}
		labels := maps.Clone(st.Labels[fp])
		changes = append(changes, Change{
			Fingerprint: fp, Labels: labels, Firing: false, Gone: true,
			Summary: c.goneSummary(fp, labels),
		})
	}
	if len(next.Labels) == 0 {
		next.Labels = nil
	}
	sort.Slice(changes, func(i, j int) bool { return changes[i].Fingerprint < changes[j].Fingerprint })
	return next, changes
}

// firingSummary: `cpu: instance="web-1" is 93.2, above 80 for 5m`.
func (c Config) firingSummary(labels map[string]string, v float64) string {
	dir, limit, _ := c.threshold()
	s := c.subject(labels) + " is " + formatValue(v) + ", " + dir + " " + formatValue(limit)
	if c.For > 0 {
		s += " for " + shortDuration(time.Duration(c.For))
	}
	return s
}

// resolvedSummary: `cpu: instance="web-1" is 50, no longer above 80`.
func (c Config) resolvedSummary(labels map[string]string, v float64) string {
	dir, limit, _ := c.threshold()
	return c.subject(labels) + " is " + formatValue(v) + ", no longer " + dir + " " + formatValue(limit)
}

// goneSummary: `cpu: instance="web-1" is no longer in the query result`.
func (c Config) goneSummary(fp string, labels map[string]string) string {
	subject := c.subject(labels)
	if labels == nil {
		subject = c.name(nil) + ": series " + fp
	}
	return subject + " is no longer in the query result"
}

// subject is `name: k="v", …`, or just the name for a series without labels
// other than __name__.
func (c Config) subject(labels map[string]string) string {
	if ls := labelString(labels, false); ls != "" {
		return c.name(labels) + ": " + ls
	}
	return c.name(labels)
}

// name is the metric name of the series, or else the query (shortened).
func (c Config) name(labels map[string]string) string {
	if n := labels["__name__"]; n != "" {
		return n
	}
	q := strings.Join(strings.Fields(c.Query), " ")
	if r := []rune(q); len(r) > 60 {
		q = string(r[:59]) + "…"
	}
	return q
}

// labelString writes `k="v", …` sorted by name; withName keeps __name__, and
// an empty set is "{}" then.
func labelString(labels map[string]string, withName bool) string {
	names := make([]string, 0, len(labels))
	for n := range labels {
		if n == "__name__" && !withName {
			continue
		}
		names = append(names, n)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = n + "=" + strconv.Quote(labels[n])
	}
	if withName {
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return strings.Join(parts, ", ")
}

// formatValue writes v briefly: 10 significant digits at most, no exponent for
// ordinary magnitudes ("93.2", "0.3", "1234567", "1e+20", "NaN", "+Inf").
func formatValue(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 10, 64), 64)
	if a := math.Abs(r); a == 0 || (a >= 1e-6 && a < 1e15) {
		return strconv.FormatFloat(r, 'f', -1, 64)
	}
	return strconv.FormatFloat(r, 'g', -1, 64)
}
