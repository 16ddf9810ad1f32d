// Package alert turns inbound signals into deduplicated alerts and decides what
// each signal does to its service's incidents.
package alert

import (
	"encoding/json"
	"time"
)

// Action is what a signal asks for.
type Action string

const (
	Trigger     Action = "trigger"
	Acknowledge Action = "acknowledge"
	Resolve     Action = "resolve"
)

// Valid reports whether a is a known action.
func (a Action) Valid() bool { return a == Trigger || a == Acknowledge || a == Resolve }

// Severity is the sender's idea of how bad an alert is. The plan maps it to an
// incident level (critical→P1, error→P2, warning→P3, info→no incident by default).
type Severity string

const (
	Critical Severity = "critical"
	Error    Severity = "error"
	Warning  Severity = "warning"
	Info     Severity = "info"
)

// Severities lists every severity, worst first.
var Severities = []Severity{Critical, Error, Warning, Info}

// Valid reports whether s is a known severity.
func (s Severity) Valid() bool {
	for _, v := range Severities {
		if s == v {
			return true
		}
	}
	return false
}

// Status is an alert's state.
type Status string

const (
	Firing       Status = "firing"
	Acknowledged Status = "acknowledged"
	Resolved     Status = "resolved"
)

// Source names where a signal came from.
type Source string

const (
	SourceAlertmanager Source = "alertmanager"
	SourcePagerDuty    Source = "pagerduty"
	SourcePagerDutyV1  Source = "pagerduty_v1"
	SourceGrafana      Source = "grafana"
	SourceGeneric      Source = "generic"
	SourceCheck        Source = "check"    // firebreak's own checks and heartbeats
	SourceVulnScan     Source = "vulnscan" // Trivy and Grype reports
)

// Event is one normalised inbound signal, whatever format it arrived in.
// ServiceID is filled in by the receiver from the integration key.
type Event struct {
	ServiceID   int64
	Source      Source
	Action      Action
	Fingerprint string // dedup key within the service; never empty once parsed
	Summary     string
	Severity    Severity
	Labels      map[string]string
	Details     json.RawMessage // a JSON object, or nil
	At          time.Time       // when the sender says it happened; zero means now
	// Level, when set to a level of the plan, is the incident level this
	// alert opens (checks map themselves to a level) instead of the one its
	// severity maps to. Type is the incident type a new incident gets.
	Level string
	Type  string
}
