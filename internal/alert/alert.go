package alert

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
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
	first_seen, last_seen, repeat_count, acknowledged_at, resolved_at FROM alerts`

func scan(row interface{ Scan(...any) error }) (Alert, error) {
	var a Alert
	var status, sev, src, labels, details string
	var first, last, acked, resolved int64
	if err := row.Scan(&a.ID, &a.ServiceID, &a.Fingerprint, &status, &sev, &a.Summary, &src, &labels, &details, &a.IncidentID,
		&first, &last, &a.RepeatCount, &acked, &resolved); err != nil {
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
	var where []string
	var args []any
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	if f.Status != "" {
		if f.Status != Firing && f.Status != Acknowledged && f.Status != Resolved {
			return nil, "", &FilterError{"status", "must be firing, acknowledged or resolved"}
		}
		where = append(where, "status = "+arg(string(f.Status)))
	}
	if f.ServiceID != 0 {
		where = append(where, "service_id = "+arg(f.ServiceID))
	}
	if f.IncidentID != 0 {
		where = append(where, "incident_id = "+arg(f.IncidentID))
	}
	if f.Cursor != "" {
		before, err := strconv.ParseInt(f.Cursor, 36, 64)
		if err != nil || before <= 0 {
			return nil, "", &FilterError{"cursor", "invalid cursor"}
		}
		where = append(where, "id < "+arg(before))
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 500)
	q := selectAlert
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id DESC LIMIT " + arg(limit+1)
	rows, err := s.DB.R.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, "", fmt.Errorf("list alerts: %w", err)
	}
	defer rows.Close()
	var out []Alert
	for rows.Next() {
		a, err := scan(rows)
		if err != nil {
			return nil, "", fmt.Errorf("list alerts: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = strconv.FormatInt(out[limit-1].ID, 36)
	}
	return out, next, nil
}
