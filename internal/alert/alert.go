package alert

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/firebreak/firebreak/internal/store"
)

// ErrNotFound is returned for an unknown alert.
var ErrNotFound = errors.New("alert not found")

// Alert is a deduplicated signal as stored.
type Alert struct {
	ID             int64             `json:"id"`
	ServiceID      int64             `json:"service_id"`
	Fingerprint    string            `json:"fingerprint"`
	Status         Status            `json:"status"`
	Severity       Severity          `json:"severity"`
	Summary        string            `json:"summary"`
	Source         Source            `json:"source"`
	Labels         map[string]string `json:"labels"`
	Details        json.RawMessage   `json:"details"`
	IncidentID     int64             `json:"incident_id,omitempty"`
	FirstSeen      time.Time         `json:"first_seen"`
	LastSeen       time.Time         `json:"last_seen"`
	RepeatCount    int64             `json:"repeat_count"`
	AcknowledgedAt time.Time         `json:"acknowledged_at,omitzero"`
	ResolvedAt     time.Time         `json:"resolved_at,omitzero"`
	// SilencedBy is the maintenance window the alert fired in: it opened no incident.
	SilencedBy int64 `json:"silenced_by,omitempty"`
}

// Store reads alerts.
type Store struct{ DB *store.DB }

// Filter selects alerts. Zero values match everything.
type Filter struct {
	Status     Status
	ServiceID  int64
	IncidentID int64
	Limit      int
	Cursor     string
}

// FilterError names a bad filter value.
type FilterError struct{ Field, Msg string }

func (e *FilterError) Error() string { return e.Field + ": " + e.Msg }

const selectAlert = `SELECT id, service_id, fingerprint, status, severity, summary, source, labels, details, COALESCE(incident_id, 0),
	first_seen, last_seen, repeat_count, acknowledged_at, resolved_at, silenced_by FROM alerts`

func scan(row interface{ Scan(...any) error }) (Alert, error) {
	var a Alert
	var status, sev, src, labels, details string
	var first, last, acked, resolved int64
	if err := row.Scan(&a.ID, &a.ServiceID, &a.Fingerprint, &status, &sev, &a.Summary, &src, &labels, &details, &a.IncidentID,
		&first, &last, &a.RepeatCount, &acked, &resolved, &a.SilencedBy); err != nil {
		return a, err
	}
	a.Status, a.Severity, a.Source = Status(status), Severity(sev), Source(src)
	_ = json.Unmarshal([]byte(labels), &a.Labels)
	a.Details = json.RawMessage(details)
	a.FirstSeen, a.LastSeen = time.UnixMilli(first).UTC(), time.UnixMilli(last).UTC()
	if acked != 0 {
		a.AcknowledgedAt = time.UnixMilli(acked).UTC()
	}
	if resolved != 0 {
		a.ResolvedAt = time.UnixMilli(resolved).UTC()
	}
	return a, nil
}

// Get reads one alert.
func (s *Store) Get(ctx context.Context, id int64) (Alert, error) {
	a, err := scan(s.DB.R.QueryRowContext(ctx, selectAlert+` WHERE id=$1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return a, ErrNotFound
	}
	if err != nil {
		return a, fmt.Errorf("read alert: %w", err)
	}
	return a, nil
}

// List returns alerts newest first and the cursor of the next page.
func (s *Store) List(ctx context.Context, f Filter) ([]Alert, string, error) {
	var w store.Where
	if f.Status != "" {
		if f.Status != Firing && f.Status != Acknowledged && f.Status != Resolved {
			return nil, "", &FilterError{"status", "must be firing, acknowledged or resolved"}
		}
		w.And("status = " + w.Arg(string(f.Status)))
	}
	if f.ServiceID != 0 {
		w.And("service_id = " + w.Arg(f.ServiceID))
	}
	if f.IncidentID != 0 {
		w.And("incident_id = " + w.Arg(f.IncidentID))
	}
	out, next, err := store.Page(ctx, s.DB.R, selectAlert, &w, "id", f.Cursor, f.Limit,
		func(r store.Scanner) (Alert, error) { return scan(r) }, func(a Alert) int64 { return a.ID })
	if errors.Is(err, store.ErrBadCursor) {
		return nil, "", &FilterError{"cursor", "invalid cursor"}
	}
	if err != nil {
		return nil, "", fmt.Errorf("alerts: %w", err)
	}
	return out, next, nil
}
