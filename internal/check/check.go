// Package check is firebreak's early warning (预警): built-in checks of
// HTTP, TCP, DNS and TLS endpoints, heartbeats (healthchecks.io-style ping
// URLs), Prometheus thresholds, log rules and restore-test freshness. Every
// check failure becomes an alert through the same writer as an external
// signal (alert.Writer), so dedup, grouping, maintenance windows and routing
// are one code path.
//
// The kinds' logic lives in pure packages (probe, promql, logrule, cron);
// this package keeps checks and their history, damps flapping, and schedules
// runs in the engine leader.
package check

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/firebreak/firebreak/internal/check/probe"
	"github.com/firebreak/firebreak/internal/check/promql"
	"github.com/firebreak/firebreak/internal/cron"
	"github.com/firebreak/firebreak/internal/logrule"
)

// Kinds of check.
const (
	KindHTTP       = "http"
	KindTCP        = "tcp"
	KindDNS        = "dns"
	KindTLS        = "tls"
	KindHeartbeat  = "heartbeat"
	KindPrometheus = "prometheus"
	KindLog        = "log"
	KindRestore    = "restore" // a backup resource's restore tests are not overdue
)

// Kinds lists every kind.
var Kinds = []string{KindHTTP, KindTCP, KindDNS, KindTLS, KindHeartbeat, KindPrometheus, KindLog, KindRestore}

// Statuses of a check.
const (
	StatusUnknown = "unknown"
	StatusUp      = "up"
	StatusDown    = "down"
)

// FieldError names bad input.
type FieldError struct{ Field, Msg string }

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// ErrNotFound is returned for an unknown check.
var ErrNotFound = errors.New("check not found")

// Duration is a time.Duration written as Go syntax ("30s") in JSON.
type Duration time.Duration

// MarshalJSON writes "30s".
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads "30s" or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var secs float64
		if err := json.Unmarshal(b, &secs); err != nil {
			return errors.New(`a duration such as "30s" or a number of seconds`)
		}
		*d = Duration(secs * float64(time.Second))
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is not a duration such as \"30s\"", s)
	}
	*d = Duration(v)
	return nil
}

// Check is one configured check.
type Check struct {
	ID           int64             `json:"id"`
	Slug         string            `json:"slug"`
	Name         string            `json:"name"`
	Kind         string            `json:"kind"`
	Spec         json.RawMessage   `json:"spec"`
	Interval     Duration          `json:"interval"`
	Timeout      Duration          `json:"timeout"`
	FailAfter    int               `json:"fail_after"`
	RecoverAfter int               `json:"recover_after"`
	ServiceID    int64             `json:"service_id"`
	Type         string            `json:"incident_type"`
	Level        string            `json:"level"`
	Labels       map[string]string `json:"labels"`
	Paused       bool              `json:"paused"`
	PingKey      string            `json:"ping_key,omitempty"`
	Source       string            `json:"source"`
	CreatedAt    time.Time         `json:"created_at"`
	UpdatedAt    time.Time         `json:"updated_at"`
}

// HeartbeatSpec is a heartbeat's expectation: a ping every Period (plus
// Grace), or at each activation of Schedule (cron in TimeZone) plus Grace.
type HeartbeatSpec struct {
	Period   Duration `json:"period,omitempty"`
	Schedule string   `json:"schedule,omitempty"`
	TimeZone string   `json:"time_zone,omitempty"`
	Grace    Duration `json:"grace"`
	Resource string   `json:"resource,omitempty"` // the plan backup resource this heartbeat watches
}

// LogSpec is a log rule without its id.
type LogSpec struct {
	Match   []logrule.Matcher `json:"match"`
	GroupBy []string          `json:"group_by,omitempty"`
	Count   int               `json:"count"`
	Within  logrule.Duration  `json:"within"`
}

// RestoreSpec says how often a backup resource's restore must be tested.
type RestoreSpec struct {
	Resource string   `json:"resource"`
	Every    Duration `json:"every"`
}

var slugRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// Validate checks c and normalises its defaults; errors name the JSON field
// (spec fields as "spec.url").
func (c *Check) Validate() error {
	c.Name = strings.TrimSpace(c.Name)
	switch {
	case !slugRE.MatchString(c.Slug):
		return &FieldError{"slug", "use 1–63 lower-case letters, digits, - or _, starting with a letter or digit"}
	case utf8.RuneCountInString(c.Name) > 200:
		return &FieldError{"name", "at most 200 characters"}
	}
	known := false
	for _, k := range Kinds {
		known = known || k == c.Kind
	}
	if !known {
		return &FieldError{"kind", "must be one of " + strings.Join(Kinds, ", ")}
	}
	if c.Interval == 0 {
		c.Interval = Duration(time.Minute)
	}
	if c.Timeout == 0 {
		c.Timeout = Duration(min(10*time.Second, time.Duration(c.Interval)/2))
	}
	if c.FailAfter == 0 {
		c.FailAfter = 1
	}
	if c.RecoverAfter == 0 {
		c.RecoverAfter = 1
	}
	switch {
	case time.Duration(c.Interval) < 5*time.Second || time.Duration(c.Interval) > 7*24*time.Hour:
		return &FieldError{"interval", "must be between 5s and 168h"}
	case c.Timeout < 0 || time.Duration(c.Timeout) > 5*time.Minute:
		return &FieldError{"timeout", "must be between 1ms and 5m"}
	case c.Timeout >= c.Interval:
		return &FieldError{"timeout", "must be shorter than the interval"}
	case c.FailAfter < 1 || c.FailAfter > 100:
		return &FieldError{"fail_after", "must be between 1 and 100"}
	case c.RecoverAfter < 1 || c.RecoverAfter > 100:
		return &FieldError{"recover_after", "must be between 1 and 100"}
	}
	for k := range c.Labels {
		if k == "" || len(k) > 100 {
			return &FieldError{"labels", "label names are 1–100 characters"}
		}
	}
	if len(c.Spec) == 0 || string(c.Spec) == "null" {
		c.Spec = json.RawMessage("{}")
	}
	_, err := c.parsed()
	return err
}

// parsed decodes and validates the kind's spec.
func (c *Check) parsed() (any, error) {
	dec := func(v any) error {
		d := json.NewDecoder(strings.NewReader(string(c.Spec)))
		d.DisallowUnknownFields()
		if err := d.Decode(v); err != nil {
			return &FieldError{"spec", err.Error()}
		}
		return nil
	}
	specErr := func(err error) error {
		if err == nil {
			return nil
		}
		var pe probe.FieldError // probe joins value FieldErrors, first one named
		var pp *probe.FieldError
		var qe *promql.FieldError
		var le *logrule.FieldError
		var fe *FieldError
		switch {
		case errors.As(err, &pe):
			return &FieldError{"spec." + pe.Field, pe.Msg}
		case errors.As(err, &pp):
			return &FieldError{"spec." + pp.Field, pp.Msg}
		case errors.As(err, &qe):
			return &FieldError{"spec." + qe.Field, qe.Msg}
		case errors.As(err, &le):
			return &FieldError{"spec." + le.Field, le.Msg}
		case errors.As(err, &fe):
			return &FieldError{"spec." + fe.Field, fe.Msg}
		}
		return &FieldError{"spec", err.Error()}
	}
	timeout := probe.Duration(c.Timeout)
	switch c.Kind {
	case KindHTTP:
		var s probe.HTTP
		if err := dec(&s); err != nil {
			return nil, err
		}
		if s.Timeout == 0 {
			s.Timeout = timeout
		}
		return &s, specErr(s.Validate())
	case KindTCP:
		var s probe.TCP
		if err := dec(&s); err != nil {
			return nil, err
		}
		if s.Timeout == 0 {
			s.Timeout = timeout
		}
		return &s, specErr(s.Validate())
	case KindDNS:
		var s probe.DNS
		if err := dec(&s); err != nil {
			return nil, err
		}
		if s.Timeout == 0 {
			s.Timeout = timeout
		}
		return &s, specErr(s.Validate())
	case KindTLS:
		var s probe.TLS
		if err := dec(&s); err != nil {
			return nil, err
		}
		if s.Timeout == 0 {
			s.Timeout = timeout
		}
		return &s, specErr(s.Validate())
	case KindPrometheus:
		var s promql.Config
		if err := dec(&s); err != nil {
			return nil, err
		}
		if s.Timeout == 0 {
			s.Timeout = promql.Duration(c.Timeout)
		}
		return &s, specErr(s.Validate())
	case KindLog:
		var s LogSpec
		if err := dec(&s); err != nil {
			return nil, err
		}
		r := s.Rule(c.Slug)
		return &s, specErr(r.Validate())
	case KindHeartbeat:
		var s HeartbeatSpec
		if err := dec(&s); err != nil {
			return nil, err
		}
		return &s, specErr(s.Validate())
	case KindRestore:
		var s RestoreSpec
		if err := dec(&s); err != nil {
			return nil, err
		}
		if s.Resource == "" {
			return nil, &FieldError{"spec.resource", "required: the plan resource whose restores are tested"}
		}
		if s.Every < Duration(time.Hour) {
			return nil, &FieldError{"spec.every", "must be at least 1h"}
		}
		return &s, nil
	}
	return nil, &FieldError{"kind", "unknown"}
}

// Rule is the log rule of a log check.
func (s LogSpec) Rule(id string) logrule.Rule {
	return logrule.Rule{ID: id, Match: s.Match, GroupBy: s.GroupBy, Count: s.Count, Within: s.Within}
}

// Validate checks a heartbeat's expectation.
func (s *HeartbeatSpec) Validate() error {
	switch {
	case s.Period == 0 && s.Schedule == "":
		return &FieldError{"period", "give a period (e.g. 1h) or a cron schedule"}
	case s.Period != 0 && s.Schedule != "":
		return &FieldError{"schedule", "give either a period or a cron schedule, not both"}
	case s.Period != 0 && (time.Duration(s.Period) < time.Minute || time.Duration(s.Period) > 400*24*time.Hour):
		return &FieldError{"period", "must be between 1m and 400 days"}
	case s.Grace < 0 || time.Duration(s.Grace) > 7*24*time.Hour:
		return &FieldError{"grace", "must be between 0 and 168h"}
	}
	if s.Schedule != "" {
		if _, err := s.cron(); err != nil {
			return err
		}
	}
	return nil
}

func (s *HeartbeatSpec) cron() (*cron.Schedule, error) {
	loc := time.UTC
	if s.TimeZone != "" {
		var err error
		if loc, err = time.LoadLocation(s.TimeZone); err != nil {
			return nil, &FieldError{"time_zone", fmt.Sprintf("unknown time zone %q", s.TimeZone)}
		}
	}
	sch, err := cron.Parse(s.Schedule, loc)
	if err != nil {
		return nil, &FieldError{"schedule", err.Error()}
	}
	return sch, nil
}

// Deadline is when a heartbeat is late if no ping arrives after since (the
// last ping, or when the check was created): for a period, since + period +
// grace; for a schedule, the first activation after since plus grace.
func (s *HeartbeatSpec) Deadline(since time.Time) time.Time {
	if s.Schedule != "" {
		sch, err := s.cron()
		if err != nil {
			return time.Time{}
		}
		n := sch.Next(since)
		if n.IsZero() {
			return time.Time{}
		}
		return n.Add(time.Duration(s.Grace))
	}
	return since.Add(time.Duration(s.Period) + time.Duration(s.Grace))
}

// Damped is a check's flap-damped status.
type Damped struct {
	Status string // up, down, unknown
	OK     int    // consecutive successes
	Bad    int    // consecutive failures
}

// Damp applies one result: a check goes down after failAfter consecutive
// failures and comes back up after recoverAfter consecutive successes; the
// first success of an unknown check makes it up. changed reports a status
// change.
func Damp(d Damped, ok bool, failAfter, recoverAfter int) (next Damped, changed bool) {
	if ok {
		d.OK, d.Bad = d.OK+1, 0
	} else {
		d.OK, d.Bad = 0, d.Bad+1
	}
	prev := d.Status
	switch {
	case ok && (d.Status == StatusUnknown || d.Status == ""):
		d.Status = StatusUp
	case ok && d.Status == StatusDown && d.OK >= recoverAfter:
		d.Status = StatusUp
	case !ok && d.Status != StatusDown && d.Bad >= failAfter:
		d.Status = StatusDown
	}
	if d.Status == "" {
		d.Status = StatusUnknown
	}
	return d, d.Status != prev && !(prev == "" && d.Status == StatusUnknown)
}
