// Package maintenance keeps maintenance windows: one-off or recurring (cron in
// a time zone) periods, scoped to services, checks or label matchers, during
// which alerts are recorded but open no incident and page nobody. Windows are
// listed for the status page to publish.
package maintenance

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/firebreak/firebreak/internal/cron"
	"github.com/firebreak/firebreak/internal/store"
)

// ErrNotFound is returned for an unknown window.
var ErrNotFound = errors.New("maintenance window not found")

// FieldError names bad input.
type FieldError struct{ Field, Msg string }

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// Matcher selects alerts by one label.
type Matcher struct {
	Label  string `json:"label"`
	Equals string `json:"equals,omitempty"`
	Regex  string `json:"regex,omitempty"`

	re *regexp.Regexp
}

// Window is one maintenance window. A window with no services, checks and
// matchers covers everything.
type Window struct {
	ID          int64     `json:"id"`
	Title       string    `json:"title"`
	Description string    `json:"description"`
	StartsAt    time.Time `json:"starts_at,omitzero"` // one-off
	EndsAt      time.Time `json:"ends_at,omitzero"`
	Cron        string    `json:"cron,omitempty"` // recurring
	TimeZone    string    `json:"time_zone"`
	Duration    Duration  `json:"duration,omitempty"`
	Services    []int64   `json:"services"`
	Checks      []string  `json:"checks"`
	Matchers    []Matcher `json:"matchers"`
	Public      bool      `json:"public"`
	Source      string    `json:"source"`
	CreatedBy   int64     `json:"created_by,omitempty"`
	CreatedAt   time.Time `json:"created_at"`

	sched *cron.Schedule
}

// Duration is a time.Duration written as "2h0m0s" in JSON.
type Duration time.Duration

// MarshalJSON writes Go duration syntax.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads Go duration syntax ("2h").
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return errors.New(`a duration such as "2h"`)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is not a duration such as \"2h\"", s)
	}
	*d = Duration(v)
	return nil
}

// Prepare checks a window and compiles its cron and regexps; errors name fields.
func (w *Window) Prepare() error {
	w.Title = strings.TrimSpace(w.Title)
	switch {
	case w.Title == "":
		return &FieldError{"title", "required"}
	case utf8.RuneCountInString(w.Title) > 200:
		return &FieldError{"title", "at most 200 characters"}
	case utf8.RuneCountInString(w.Description) > 5000:
		return &FieldError{"description", "at most 5000 characters"}
	}
	if w.TimeZone == "" {
		w.TimeZone = "UTC"
	}
	loc, err := time.LoadLocation(w.TimeZone)
	if err != nil {
		return &FieldError{"time_zone", fmt.Sprintf("unknown time zone %q (use an IANA name such as Asia/Shanghai)", w.TimeZone)}
	}
	if w.Cron != "" {
		if !w.StartsAt.IsZero() || !w.EndsAt.IsZero() {
			return &FieldError{"cron", "a window is either one-off (starts_at, ends_at) or recurring (cron, duration), not both"}
		}
		if w.sched, err = cron.Parse(w.Cron, loc); err != nil {
			return &FieldError{"cron", err.Error()}
		}
		if w.Duration <= 0 || time.Duration(w.Duration) > 7*24*time.Hour {
			return &FieldError{"duration", "a recurring window needs a duration between 1m and 168h"}
		}
	} else {
		switch {
		case w.StartsAt.IsZero():
			return &FieldError{"starts_at", "required (or give cron and duration for a recurring window)"}
		case !w.EndsAt.After(w.StartsAt):
			return &FieldError{"ends_at", "must be after starts_at"}
		case w.EndsAt.Sub(w.StartsAt) > 90*24*time.Hour:
			return &FieldError{"ends_at", "a window lasts at most 90 days"}
		}
	}
	for i, s := range w.Checks {
		if strings.TrimSpace(s) == "" {
			return &FieldError{fmt.Sprintf("checks[%d]", i), "empty check slug"}
		}
	}
	for i := range w.Matchers {
		m := &w.Matchers[i]
		f := fmt.Sprintf("matchers[%d]", i)
		if m.Label == "" {
			return &FieldError{f + ".label", "required"}
		}
		if (m.Equals == "") == (m.Regex == "") {
			return &FieldError{f, "give exactly one of equals and regex"}
		}
		if m.Regex != "" {
			if m.re, err = regexp.Compile("^(?:" + m.Regex + ")$"); err != nil {
				return &FieldError{f + ".regex", err.Error()}
			}
		}
	}
	if w.Services == nil {
		w.Services = []int64{}
	}
	if w.Checks == nil {
		w.Checks = []string{}
	}
	if w.Matchers == nil {
		w.Matchers = []Matcher{}
	}
	return nil
}

// Span returns the occurrence of the window that is open at t or the next
// one after t: [start, end). ok is false when there is none.
func (w *Window) Span(t time.Time) (start, end time.Time, ok bool) {
	if w.Cron == "" {
		if t.Before(w.EndsAt) {
			return w.StartsAt, w.EndsAt, true
		}
		return time.Time{}, time.Time{}, false
	}
	if w.sched == nil {
		return time.Time{}, time.Time{}, false
	}
	d := time.Duration(w.Duration)
	if p := w.sched.Prev(t); !p.IsZero() && t.Before(p.Add(d)) {
		return p, p.Add(d), true
	}
	n := w.sched.Next(t)
	if n.IsZero() {
		return time.Time{}, time.Time{}, false
	}
	return n, n.Add(d), true
}

// ActiveAt reports whether the window is open at t.
func (w *Window) ActiveAt(t time.Time) bool {
	s, e, ok := w.Span(t)
	return ok && !t.Before(s) && t.Before(e)
}

// Covers reports whether an alert of serviceID with labels falls in the
// window's scope. Checks match the alert's "check" label.
func (w *Window) Covers(serviceID int64, labels map[string]string) bool {
	if len(w.Services) == 0 && len(w.Checks) == 0 && len(w.Matchers) == 0 {
		return true
	}
	for _, s := range w.Services {
		if s == serviceID {
			return true
		}
	}
	for _, c := range w.Checks {
		if labels["check"] == c {
			return true
		}
	}
	if len(w.Matchers) > 0 {
		for _, m := range w.Matchers {
			v, ok := labels[m.Label]
			if !ok {
				return false
			}
			if m.re != nil && !m.re.MatchString(v) || m.re == nil && v != m.Equals {
				return false
			}
		}
		return true
	}
	return false
}

// Silencing returns the first of windows that is open at t and covers the
// alert, or nil.
func Silencing(windows []*Window, t time.Time, serviceID int64, labels map[string]string) *Window {
	for _, w := range windows {
		if w.ActiveAt(t) && w.Covers(serviceID, labels) {
			return w
		}
	}
	return nil
}

// Querier is what both *sql.DB and *sql.Tx offer.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

const selectWindow = `SELECT id, title, description, starts_at, ends_at, cron, time_zone, duration_ms, services, checks, matchers, public, source,
	COALESCE(created_by, 0), created_at FROM maintenance_windows`

func scan(r interface{ Scan(...any) error }) (*Window, error) {
	w := &Window{}
	var starts, ends, dur, created int64
	var services, checks, matchers string
	if err := r.Scan(&w.ID, &w.Title, &w.Description, &starts, &ends, &w.Cron, &w.TimeZone, &dur, &services, &checks, &matchers,
		&w.Public, &w.Source, &w.CreatedBy, &created); err != nil {
		return nil, err
	}
	w.StartsAt, w.EndsAt = fromMS(starts), fromMS(ends)
	w.Duration, w.CreatedAt = Duration(time.Duration(dur)*time.Millisecond), fromMS(created)
	_ = json.Unmarshal([]byte(services), &w.Services)
	_ = json.Unmarshal([]byte(checks), &w.Checks)
	_ = json.Unmarshal([]byte(matchers), &w.Matchers)
	if err := w.Prepare(); err != nil {
		// Stored windows were valid when written; a zone that vanished makes
		// the window inert rather than failing every alert.
		w.sched = nil
	}
	return w, nil
}

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// All reads every window inside q.
func All(ctx context.Context, q Querier) ([]*Window, error) {
	rows, err := q.QueryContext(ctx, selectWindow+` ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("maintenance windows: %w", err)
	}
	defer rows.Close()
	var out []*Window
	for rows.Next() {
		w, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// Store reads and changes windows.
type Store struct {
	DB  *store.DB
	Now func() time.Time
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// Create stores a window.
func (s *Store) Create(ctx context.Context, w Window) (*Window, error) {
	if err := w.Prepare(); err != nil {
		return nil, err
	}
	services, _ := json.Marshal(w.Services)
	checks, _ := json.Marshal(w.Checks)
	matchers, _ := json.Marshal(w.Matchers)
	var id int64
	err := s.DB.W.QueryRowContext(ctx, `INSERT INTO maintenance_windows (title, description, starts_at, ends_at, cron, time_zone, duration_ms,
		services, checks, matchers, public, source, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id`,
		w.Title, w.Description, ms(w.StartsAt), ms(w.EndsAt), w.Cron, w.TimeZone, time.Duration(w.Duration).Milliseconds(),
		string(services), string(checks), string(matchers), w.Public, w.Source, nullID(w.CreatedBy), s.now().UnixMilli()).Scan(&id)
	if err != nil {
		return nil, fmt.Errorf("store maintenance window: %w", err)
	}
	return s.Get(ctx, id)
}

// Update replaces a window's fields.
func (s *Store) Update(ctx context.Context, id int64, w Window) (*Window, error) {
	if err := w.Prepare(); err != nil {
		return nil, err
	}
	services, _ := json.Marshal(w.Services)
	checks, _ := json.Marshal(w.Checks)
	matchers, _ := json.Marshal(w.Matchers)
	res, err := s.DB.W.ExecContext(ctx, `UPDATE maintenance_windows SET title=$1, description=$2, starts_at=$3, ends_at=$4, cron=$5, time_zone=$6,
		duration_ms=$7, services=$8, checks=$9, matchers=$10, public=$11 WHERE id=$12`,
		w.Title, w.Description, ms(w.StartsAt), ms(w.EndsAt), w.Cron, w.TimeZone, time.Duration(w.Duration).Milliseconds(),
		string(services), string(checks), string(matchers), w.Public, id)
	if err != nil {
		return nil, fmt.Errorf("update maintenance window: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, ErrNotFound
	}
	return s.Get(ctx, id)
}

// Delete removes a window.
func (s *Store) Delete(ctx context.Context, id int64) error {
	res, err := s.DB.W.ExecContext(ctx, `DELETE FROM maintenance_windows WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("delete maintenance window: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// Get returns one window.
func (s *Store) Get(ctx context.Context, id int64) (*Window, error) {
	w, err := scan(s.DB.R.QueryRowContext(ctx, selectWindow+` WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read maintenance window: %w", err)
	}
	return w, nil
}

// Occurrence is one opening of a window, for listings and the status page.
type Occurrence struct {
	Window *Window   `json:"window"`
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	Active bool      `json:"active"`
}

// Upcoming lists the windows open now or opening before until, soonest first
// (each window once: its current or next occurrence). With publicOnly, only
// windows marked public.
func (s *Store) Upcoming(ctx context.Context, until time.Time, publicOnly bool) ([]Occurrence, error) {
	all, err := All(ctx, s.DB.R)
	if err != nil {
		return nil, err
	}
	now := s.now()
	var out []Occurrence
	for _, w := range all {
		if publicOnly && !w.Public {
			continue
		}
		start, end, ok := w.Span(now)
		if !ok || start.After(until) {
			continue
		}
		out = append(out, Occurrence{Window: w, Start: start, End: end, Active: !now.Before(start) && now.Before(end)})
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].Start.Before(out[j-1].Start); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out, nil
}

// List returns every window.
func (s *Store) List(ctx context.Context) ([]*Window, error) { return All(ctx, s.DB.R) }

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}
