// Package logrule is firebreak's "log" check kind: log lines arrive as JSON
// lines over HTTP (ParseJSONLines) or as syslog over UDP and TCP (ListenUDP,
// ListenTCP, ParseSyslog); rules (Rule) select lines by their fields, group them
// by fields, and fire when Count matching lines of one group arrive within a
// sliding window (Engine) — a burst of failed logins from one source IP, say.
//
// The package is pure logic plus the network listeners: it keeps its windows
// in memory and touches no database.
package logrule

import (
	"fmt"
	"strings"
	"time"
)

// Line is one log line: when it happened and its fields.
//
// Syslog lines carry the fields "message", "hostname", "app", "procid",
// "msgid", "severity" (emerg, alert, crit, err, warning, notice, info, debug)
// and "facility" (kern, user, …, local7), plus each structured-data parameter
// as "sd.<id>.<name>". When the message itself is a JSON object, its top-level
// scalar fields are merged in as well, without replacing the syslog fields.
// A field that is absent reads as the empty string.
type Line struct {
	Time   time.Time         `json:"time"`
	Fields map[string]string `json:"fields"`
}

// Duration is a time.Duration written in JSON (and YAML) as a Go duration
// string such as "90s" or "5m".
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String returns the Go duration string.
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalText writes the Go duration string; encoding/json uses it too.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText parses a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(strings.TrimSpace(string(b)))
	if err != nil {
		return fmt.Errorf("invalid duration %q (want a Go duration such as \"5m\")", b)
	}
	*d = Duration(v)
	return nil
}

// FieldError names the offending field with a dotted path such as
// "match[0].regex" or "rules[2].count".
type FieldError struct{ Field, Msg string }

// Error returns Msg prefixed with Field.
func (e *FieldError) Error() string {
	if e.Field == "" {
		return e.Msg
	}
	return e.Field + ": " + e.Msg
}
