// Package incident runs incidents: their lifecycle, level, and append-only timeline.
package incident

import (
	"encoding/json"
	"time"
)

// Status is where an incident is in its lifecycle.
type Status string

const (
	Triggered     Status = "triggered"
	Acknowledged  Status = "acknowledged"
	Investigating Status = "investigating"
	Identified    Status = "identified"
	Monitoring    Status = "monitoring"
	Resolved      Status = "resolved"
	Closed        Status = "closed"
)

// Statuses lists the lifecycle in order.
var Statuses = []Status{Triggered, Acknowledged, Investigating, Identified, Monitoring, Resolved, Closed}

// Valid reports whether s is a lifecycle status.
func (s Status) Valid() bool {
	for _, v := range Statuses {
		if s == v {
			return true
		}
	}
	return false
}

// Open reports whether the incident still needs work (not resolved or closed).
func (s Status) Open() bool { return s != Resolved && s != Closed && s != "" }

// CheckTransition says whether an incident may move from one status to another.
// Incidents move freely between open states (work goes back from monitoring to
// investigating), may be resolved from any open state, reopened from resolved,
// and closed only once resolved. A closed incident is final.
func CheckTransition(from, to Status) error {
	switch {
	case !to.Valid():
		return errInvalidStatus
	case from == to:
		return errSameStatus
	case from == Closed:
		return errClosed
	case to == Closed && from != Resolved:
		return errCloseUnresolved
	case to == Triggered:
		return errBackToTriggered
	}
	return nil
}

// Incident is one incident as stored.
type Incident struct {
	ID             int64     `json:"id"`
	Title          string    `json:"title"`
	Status         Status    `json:"status"`
	Level          string    `json:"level"`
	Type           string    `json:"type,omitempty"`
	ServiceID      int64     `json:"service_id,omitempty"`
	ServiceName    string    `json:"service_name,omitempty"`
	Impact         string    `json:"impact,omitempty"`
	Source         string    `json:"source"`
	PlanVersionID  int64     `json:"plan_version_id"`
	CreatedBy      int64     `json:"created_by,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
	AcknowledgedAt time.Time `json:"acknowledged_at,omitzero"`
	ResolvedAt     time.Time `json:"resolved_at,omitzero"`
	ClosedAt       time.Time `json:"closed_at,omitzero"`
	AlertCount     int       `json:"alert_count"`
}

// Entry kinds on the timeline.
const (
	KindOpened            = "opened"   // opened by an alert
	KindDeclared          = "declared" // declared by a person
	KindAlertAttached     = "alert_attached"
	KindAlertAcknowledged = "alert_acknowledged"
	KindAlertResolved     = "alert_resolved"
	KindStatusChanged     = "status_changed"
	KindLevelChanged      = "level_changed"
	KindNote              = "note"
)

// Actor is who did something: a user (ID > 0) or a system source such as "alertmanager".
type Actor struct {
	ID   int64
	Name string
}

// Entry is one line of an incident's append-only timeline.
type Entry struct {
	ID         int64           `json:"id"`
	IncidentID int64           `json:"incident_id"`
	At         time.Time       `json:"at"`
	Kind       string          `json:"kind"`
	ActorID    int64           `json:"actor_id,omitempty"`
	Actor      string          `json:"actor"`
	Body       string          `json:"body,omitempty"`
	Data       json.RawMessage `json:"data,omitempty"`
}

// ms converts a time to the stored unix milliseconds; the zero time is 0.
func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// fromMS is the inverse of ms.
func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}
