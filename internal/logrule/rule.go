package logrule

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"time"
)

// Limits on a rule.
const (
	MaxCount  = 100_000        // the most lines a rule may count
	MaxWithin = 24 * time.Hour // the longest window
)

// Rule fires when Count lines matching all of Match, with the same values of
// the GroupBy fields, arrive within the sliding window Within. A rule without
// matchers counts every line.
//
// In JSON, "match" may also be a single matcher object, as in the plan file
// (match: {field: event, equals: login_failed}).
type Rule struct {
	ID      string    `json:"id"`
	Match   []Matcher `json:"match,omitempty"`
	GroupBy []string  `json:"group_by,omitempty"`
	Count   int       `json:"count"`
	Within  Duration  `json:"within"`
}

// Matcher tests one field with exactly one of Equals, Regex (RE2, unanchored:
// use ^…$ for a whole-value match) or NotEquals. A Regex on Field "" tests
// the whole "message". An absent field reads as "", so NotEquals matches it.
// To require an empty value, use Regex "^$".
type Matcher struct {
	Field     string `json:"field,omitempty"`
	Equals    string `json:"equals,omitempty"`
	Regex     string `json:"regex,omitempty"`
	NotEquals string `json:"not_equals,omitempty"`
}

// UnmarshalJSON accepts "match" as one matcher object or an array of them.
func (r *Rule) UnmarshalJSON(b []byte) error {
	type plain Rule
	var aux struct {
		plain
		Match json.RawMessage `json:"match,omitempty"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	*r = Rule(aux.plain)
	r.Match = nil
	m := bytes.TrimSpace(aux.Match)
	switch {
	case len(m) == 0 || string(m) == "null":
	case m[0] == '{':
		var one Matcher
		if err := json.Unmarshal(m, &one); err != nil {
			return fmt.Errorf("match: %w", err)
		}
		r.Match = []Matcher{one}
	default:
		if err := json.Unmarshal(m, &r.Match); err != nil {
			return fmt.Errorf("match: %w", err)
		}
	}
	return nil
}

// Validate checks the rule; the error is a *FieldError naming the first bad
// field, such as "match[0].regex", "count" or "group_by[1]".
func (r *Rule) Validate() error {
	_, err := compileMatchers(r)
	return err
}

// compileMatchers validates r and compiles its matchers.
func compileMatchers(r *Rule) ([]matcher, error) {
	if r.ID == "" {
		return nil, &FieldError{"id", "is required"}
	}
	ms := make([]matcher, 0, len(r.Match))
	for i, m := range r.Match {
		at := fmt.Sprintf("match[%d]", i)
		set := 0
		for _, v := range [...]string{m.Equals, m.Regex, m.NotEquals} {
			if v != "" {
				set++
			}
		}
		if set != 1 {
			return nil, &FieldError{at, "needs exactly one of equals, regex and not_equals"}
		}
		cm := matcher{field: m.Field}
		switch {
		case m.Regex != "":
			re, err := regexp.Compile(m.Regex)
			if err != nil {
				return nil, &FieldError{at + ".regex", fmt.Sprintf("invalid regular expression: %v", err)}
			}
			cm.kind, cm.re = matchRegex, re
			if cm.field == "" {
				cm.field = "message"
			}
		case m.Equals != "":
			cm.kind, cm.value = matchEquals, m.Equals
		default:
			cm.kind, cm.value = matchNotEquals, m.NotEquals
		}
		if m.Field == "" && cm.kind != matchRegex {
			return nil, &FieldError{at + ".field", "is required (only a regex may leave it out to test the message)"}
		}
		ms = append(ms, cm)
	}
	seen := make(map[string]bool, len(r.GroupBy))
	for i, f := range r.GroupBy {
		at := fmt.Sprintf("group_by[%d]", i)
		if f == "" {
			return nil, &FieldError{at, "must not be empty"}
		}
		if seen[f] {
			return nil, &FieldError{at, fmt.Sprintf("%q is listed twice", f)}
		}
		seen[f] = true
	}
	if r.Count < 1 {
		return nil, &FieldError{"count", "must be at least 1"}
	}
	if r.Count > MaxCount {
		return nil, &FieldError{"count", fmt.Sprintf("must be at most %d", MaxCount)}
	}
	if r.Within <= 0 {
		return nil, &FieldError{"within", "must be a positive duration such as \"5m\""}
	}
	if r.Within.D() > MaxWithin {
		return nil, &FieldError{"within", "must be at most 24h"}
	}
	return ms, nil
}

const (
	matchEquals = iota
	matchNotEquals
	matchRegex
)

type matcher struct {
	field string
	kind  int
	value string
	re    *regexp.Regexp
}

func (m *matcher) match(fields map[string]string) bool {
	v := fields[m.field]
	switch m.kind {
	case matchEquals:
		return v == m.value
	case matchNotEquals:
		return v != m.value
	default:
		return m.re.MatchString(v)
	}
}
