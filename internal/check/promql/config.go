// Package promql is firebreak's "prometheus" check kind: it runs a PromQL
// instant query against a Prometheus HTTP API, compares every returned series
// with a threshold (above or below) and reports, per series, when it has been
// breaching for at least a hold duration ("for") and when it stops, like the
// pending → firing life of a Prometheus alerting rule. Each series becomes its
// own alert upstream, keyed by the fingerprint of its label set.
//
// Query talks to Prometheus; Evaluate is pure and turns the samples of one run
// plus the State stored since the previous run into the next State and the
// Changes to raise or resolve.
package promql

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strings"
	"time"
)

// Limits and defaults of a Config.
const (
	DefaultTimeout = 10 * time.Second
	MaxTimeout     = 5 * time.Minute
	MaxFor         = 24 * time.Hour
	MaxQueryLen    = 16 << 10
)

// Config is one prometheus check.
type Config struct {
	// URL is the base URL of the Prometheus HTTP API, such as
	// http://prometheus:9090 (a path prefix such as /prometheus is kept).
	URL string `json:"url"`
	// Query is the PromQL expression; it must return an instant vector or a scalar.
	Query string `json:"query"`
	// Above breaches a series whose value is > Above; Below one whose value is
	// < Below. Exactly one is set.
	Above *float64 `json:"above,omitempty"`
	Below *float64 `json:"below,omitempty"`
	// For is how long a series must breach before it fires; 0 fires at once.
	For Duration `json:"for,omitempty"`
	// Timeout bounds one query; 0 means DefaultTimeout.
	Timeout Duration `json:"timeout,omitempty"`
	// Headers are sent with every query, e.g. Authorization.
	Headers map[string]string `json:"headers,omitempty"`
}

// FieldError names the offending field of a Config ("url", "query", "above",
// "below", "for", "timeout", "headers").
type FieldError struct{ Field, Msg string }

// Error returns "field: msg".
func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// Validate checks c and normalises it: URL and Query are trimmed and a zero
// Timeout becomes DefaultTimeout. The error is a *FieldError.
func (c *Config) Validate() error {
	c.URL = strings.TrimSpace(c.URL)
	c.Query = strings.TrimSpace(c.Query)
	if err := validateURL(c.URL); err != nil {
		return err
	}
	switch {
	case c.Query == "":
		return &FieldError{"query", "is required (a PromQL expression such as rate(http_requests_total[5m]))"}
	case len(c.Query) > MaxQueryLen:
		return &FieldError{"query", fmt.Sprintf("is longer than %d bytes", MaxQueryLen)}
	}
	switch {
	case c.Above == nil && c.Below == nil:
		return &FieldError{"above", "one of above or below is required"}
	case c.Above != nil && c.Below != nil:
		return &FieldError{"below", "set either above or below, not both"}
	case c.Above != nil && (math.IsNaN(*c.Above) || math.IsInf(*c.Above, 0)):
		return &FieldError{"above", "must be a finite number"}
	case c.Below != nil && (math.IsNaN(*c.Below) || math.IsInf(*c.Below, 0)):
		return &FieldError{"below", "must be a finite number"}
	}
	switch {
	case c.For < 0:
		return &FieldError{"for", "must not be negative"}
	case time.Duration(c.For) > MaxFor:
		return &FieldError{"for", "must be at most " + shortDuration(MaxFor)}
	}
	switch {
	case c.Timeout < 0:
		return &FieldError{"timeout", "must not be negative"}
	case time.Duration(c.Timeout) > MaxTimeout:
		return &FieldError{"timeout", "must be at most " + shortDuration(MaxTimeout)}
	case c.Timeout == 0:
		c.Timeout = Duration(DefaultTimeout)
	}
	for name, value := range c.Headers {
		if !validHeaderName(name) {
			return &FieldError{"headers", fmt.Sprintf("%q is not a valid header name", name)}
		}
		if strings.ContainsAny(value, "\r\n\x00") {
			return &FieldError{"headers", fmt.Sprintf("the value of %s must not contain line breaks or NUL", name)}
		}
	}
	return nil
}

func validateURL(s string) error {
	if s == "" {
		return &FieldError{"url", "is required (the Prometheus base URL, such as http://prometheus:9090)"}
	}
	u, err := url.Parse(s)
	if err != nil {
		return &FieldError{"url", "is not a valid URL"}
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return &FieldError{"url", "must be an absolute http or https URL, such as http://prometheus:9090"}
	case u.Host == "" || u.Hostname() == "":
		return &FieldError{"url", "has no host"}
	case u.RawQuery != "" || u.ForceQuery:
		return &FieldError{"url", "must not have a query string; give the base URL such as http://prometheus:9090"}
	case u.Fragment != "":
		return &FieldError{"url", "must not have a #fragment"}
	case strings.HasSuffix(strings.TrimRight(u.Path, "/"), "/api/v1/query"):
		return &FieldError{"url", "give the base URL such as http://prometheus:9090, without /api/v1/query"}
	}
	return nil
}

// validHeaderName reports whether s is an HTTP token (RFC 9110 §5.6.2).
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// threshold returns "above" or "below" and the limit of c.
func (c Config) threshold() (string, float64, bool) {
	switch {
	case c.Above != nil:
		return "above", *c.Above, true
	case c.Below != nil:
		return "below", *c.Below, true
	}
	return "", 0, false
}

// breaches reports whether v breaches c's threshold. NaN never breaches.
func (c Config) breaches(v float64) bool {
	if math.IsNaN(v) {
		return false
	}
	switch {
	case c.Above != nil:
		return v > *c.Above
	case c.Below != nil:
		return v < *c.Below
	}
	return false
}

// Duration is a time.Duration that reads and writes Go syntax ("5m") in JSON.
type Duration time.Duration

// String returns Go syntax such as "5m0s".
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalJSON writes "5m0s".
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads "5m" or "1h30m"; "" and null leave the zero duration.
func (d *Duration) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return errors.New(`want a duration string such as "5m" or "30s"`)
	}
	if s == "" {
		*d = 0
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is not a duration such as \"5m\" or \"30s\"", s)
	}
	*d = Duration(v)
	return nil
}

// shortDuration writes d without zero trailing units: "5m", "1h30m", "2s".
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}
