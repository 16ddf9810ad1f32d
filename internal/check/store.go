package check

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	"github.com/firebreak/firebreak/internal/check/promql"
	"github.com/firebreak/firebreak/internal/store"
)

// Querier is what both *sql.DB and *sql.Tx offer.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// State is what the scheduler keeps per check.
type State struct {
	Status      string    `json:"status"`
	OK          int       `json:"consecutive_ok"`
	Bad         int       `json:"consecutive_failures"`
	NextRunAt   time.Time `json:"next_run_at,omitzero"`
	LastRunAt   time.Time `json:"last_run_at,omitzero"`
	LastOKAt    time.Time `json:"last_ok_at,omitzero"`
	LastMessage string    `json:"last_message"`
	LastLatency Duration  `json:"last_latency"`
	ChangedAt   time.Time `json:"changed_at,omitzero"`
	Data        stateData `json:"-"`
}

// stateData is the kind's own state.
type stateData struct {
	LastPing  time.Time     `json:"last_ping,omitzero"`
	LastStart time.Time     `json:"last_start,omitzero"`
	LastBody  string        `json:"last_body,omitempty"`
	Prom      *promql.State `json:"prom,omitempty"`
}

// View is a check with its state.
type View struct {
	Check
	State State `json:"state"`
}

// Store reads and changes checks.
type Store struct {
	DB  *store.DB
	Now func() time.Time
	// Changed, when set, is called after a check was created, changed or deleted.
	Changed func()
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Store) changed() {
	if s.Changed != nil {
		s.Changed()
	}
}

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

// NewPingKey returns a random key in the shape of a UUID, like healthchecks.io's.
func NewPingKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// spread is a check's stable offset within its interval, so checks of one
// interval do not all run in the same second.
func spread(id int64, interval time.Duration) time.Duration {
	if interval <= 0 {
		return 0
	}
	h := fnv.New64a()
	fmt.Fprintf(h, "%d", id)
	return time.Duration(h.Sum64() % uint64(interval))
}

// Put validates and writes a check inside tx (a new one when id is 0) and
// (re)schedules it. A check without a service gets one named after it when
// it first raises an alert (ensureService).
func Put(ctx context.Context, tx *sql.Tx, id int64, c Check, now time.Time) (int64, error) {
	if err := c.Validate(); err != nil {
		return 0, err
	}
	if c.ServiceID != 0 {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM services WHERE id = $1`, c.ServiceID).Scan(&n); err != nil {
			return 0, err
		}
		if n == 0 {
			return 0, &FieldError{"service_id", fmt.Sprintf("no service %d", c.ServiceID)}
		}
	}
	if c.Level != "" {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM levels WHERE id = $1`, c.Level).Scan(&n); err != nil {
			return 0, err
		}
		if n == 0 {
			return 0, &FieldError{"level", fmt.Sprintf("no level %q in the plan", c.Level)}
		}
	}
	if c.Type != "" {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM incident_types WHERE id = $1`, c.Type).Scan(&n); err != nil {
			return 0, err
		}
		if n == 0 {
			return 0, &FieldError{"incident_type", fmt.Sprintf("no incident type %q in the plan", c.Type)}
		}
	}
	// Stored compact, so the stored text is the same however it was typed.
	var compact bytes.Buffer
	if err := json.Compact(&compact, c.Spec); err == nil {
		c.Spec = compact.Bytes()
	}
	if c.Kind == KindHeartbeat && c.PingKey == "" {
		c.PingKey = NewPingKey()
	}
	if c.Kind != KindHeartbeat {
		c.PingKey = ""
	}
	labels, _ := json.Marshal(nonNil(c.Labels))
	var err error
	if id == 0 {
		err = tx.QueryRowContext(ctx, `INSERT INTO checks (slug, name, kind, spec, interval_ms, timeout_ms, fail_after, recover_after, service_id,
			incident_type, level, labels, paused, ping_key, source, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16) RETURNING id`,
			c.Slug, c.Name, c.Kind, string(c.Spec), time.Duration(c.Interval).Milliseconds(), time.Duration(c.Timeout).Milliseconds(),
			c.FailAfter, c.RecoverAfter, nullID(c.ServiceID), c.Type, c.Level, string(labels), c.Paused, c.PingKey, c.Source, now.UnixMilli()).Scan(&id)
	} else {
		_, err = tx.ExecContext(ctx, `UPDATE checks SET slug=$1, name=$2, kind=$3, spec=$4, interval_ms=$5, timeout_ms=$6, fail_after=$7,
			recover_after=$8, service_id=$9, incident_type=$10, level=$11, labels=$12, paused=$13, ping_key=$14, updated_at=$15 WHERE id=$16`,
			c.Slug, c.Name, c.Kind, string(c.Spec), time.Duration(c.Interval).Milliseconds(), time.Duration(c.Timeout).Milliseconds(),
			c.FailAfter, c.RecoverAfter, nullID(c.ServiceID), c.Type, c.Level, string(labels), c.Paused, c.PingKey, now.UnixMilli(), id)
	}
	if store.IsUniqueViolation(err) {
		return 0, &FieldError{"slug", fmt.Sprintf("%q is taken by another check", c.Slug)}
	}
	if err != nil {
		return 0, fmt.Errorf("store check: %w", err)
	}
	// Run it soon: at once for a new or changed check, except heartbeats,
	// which are due at their first deadline.
	next := now
	if c.Kind == KindHeartbeat {
		var hb HeartbeatSpec
		_ = json.Unmarshal(c.Spec, &hb)
		next = hb.Deadline(now)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO check_state (check_id, next_run_at) VALUES ($1, $2)
		ON CONFLICT (check_id) DO UPDATE SET next_run_at = excluded.next_run_at`, id, ms(next))
	if err != nil {
		return 0, fmt.Errorf("schedule check: %w", err)
	}
	return id, nil
}

// ensureService gives a check without a service the one named after it,
// inside tx, so its alerts have somewhere to go.
func ensureService(ctx context.Context, tx *sql.Tx, v *View, now time.Time) error {
	if v.ServiceID != 0 {
		return nil
	}
	sid, err := serviceFor(ctx, tx, v.Slug, now)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE checks SET service_id = $1 WHERE id = $2`, sid, v.ID); err != nil {
		return err
	}
	v.ServiceID = sid
	return nil
}

// serviceFor finds or makes the service named after a check.
func serviceFor(ctx context.Context, tx *sql.Tx, slug string, now time.Time) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM services WHERE name = $1`, slug).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		err = tx.QueryRowContext(ctx, `INSERT INTO services (name, description, auto_resolve, created_at) VALUES ($1, $2, $3, $4) RETURNING id`,
			slug, "Alerts of the check "+slug+".", true, now.UnixMilli()).Scan(&id)
	}
	if err != nil {
		return 0, fmt.Errorf("service for check %s: %w", slug, err)
	}
	return id, nil
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// Create stores a new check.
func (s *Store) Create(ctx context.Context, c Check) (View, error) {
	var id int64
	err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		id, err = Put(ctx, tx, 0, c, s.now())
		return err
	})
	if err != nil {
		return View{}, err
	}
	s.changed()
	return s.Get(ctx, id)
}

// Update replaces a check's settings; its history stays.
func (s *Store) Update(ctx context.Context, id int64, c Check) (View, error) {
	err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
		old, err := get(ctx, tx, `c.id = $1`, id)
		if err != nil {
			return err
		}
		c.Source = old.Source
		if c.Kind == old.Kind && c.PingKey == "" {
			c.PingKey = old.PingKey
		}
		_, err = Put(ctx, tx, id, c, s.now())
		return err
	})
	if err != nil {
		return View{}, err
	}
	s.changed()
	return s.Get(ctx, id)
}

// Delete removes a check and its history.
func (s *Store) Delete(ctx context.Context, id int64) error {
	res, err := s.DB.W.ExecContext(ctx, `DELETE FROM checks WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("delete check: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	s.changed()
	return nil
}

const selectView = `SELECT c.id, c.slug, c.name, c.kind, c.spec, c.interval_ms, c.timeout_ms, c.fail_after, c.recover_after, COALESCE(c.service_id, 0),
	c.incident_type, c.level, c.labels, c.paused, c.ping_key, c.source, c.created_at, c.updated_at,
	COALESCE(st.status, 'unknown'), COALESCE(st.consecutive_ok, 0), COALESCE(st.consecutive_bad, 0), COALESCE(st.next_run_at, 0),
	COALESCE(st.last_run_at, 0), COALESCE(st.last_ok_at, 0), COALESCE(st.last_message, ''), COALESCE(st.last_latency_ms, 0),
	COALESCE(st.changed_at, 0), COALESCE(st.data, '{}')
	FROM checks c LEFT JOIN check_state st ON st.check_id = c.id`

func scanView(r interface{ Scan(...any) error }) (View, error) {
	var v View
	var spec, labels, data string
	var interval, timeout, created, updated, next, lastRun, lastOK, latency, changed int64
	err := r.Scan(&v.ID, &v.Slug, &v.Name, &v.Kind, &spec, &interval, &timeout, &v.FailAfter, &v.RecoverAfter, &v.ServiceID,
		&v.Type, &v.Level, &labels, &v.Paused, &v.PingKey, &v.Source, &created, &updated,
		&v.State.Status, &v.State.OK, &v.State.Bad, &next, &lastRun, &lastOK, &v.State.LastMessage, &latency, &changed, &data)
	if err != nil {
		return v, err
	}
	v.Spec = json.RawMessage(spec)
	v.Interval, v.Timeout = Duration(time.Duration(interval)*time.Millisecond), Duration(time.Duration(timeout)*time.Millisecond)
	_ = json.Unmarshal([]byte(labels), &v.Labels)
	v.CreatedAt, v.UpdatedAt = fromMS(created), fromMS(updated)
	v.State.NextRunAt, v.State.LastRunAt, v.State.LastOKAt, v.State.ChangedAt = fromMS(next), fromMS(lastRun), fromMS(lastOK), fromMS(changed)
	v.State.LastLatency = Duration(time.Duration(latency) * time.Millisecond)
	_ = json.Unmarshal([]byte(data), &v.State.Data)
	return v, nil
}

func get(ctx context.Context, q Querier, where string, args ...any) (View, error) {
	v, err := scanView(q.QueryRowContext(ctx, selectView+` WHERE `+where, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return View{}, ErrNotFound
	}
	if err != nil {
		return View{}, fmt.Errorf("read check: %w", err)
	}
	return v, nil
}

// Get returns one check with its state.
func (s *Store) Get(ctx context.Context, id int64) (View, error) {
	return get(ctx, s.DB.R, `c.id = $1`, id)
}

// BySlug returns one check by its slug.
func (s *Store) BySlug(ctx context.Context, slug string) (View, error) {
	return get(ctx, s.DB.R, `c.slug = $1`, slug)
}

// ByPingKey returns the heartbeat with a ping key.
func ByPingKey(ctx context.Context, q Querier, key string) (View, error) {
	if key == "" {
		return View{}, ErrNotFound
	}
	return get(ctx, q, `c.ping_key = $1`, key)
}

// List returns every check, by slug.
func (s *Store) List(ctx context.Context) ([]View, error) { return list(ctx, s.DB.R, ``) }

func list(ctx context.Context, q Querier, where string, args ...any) ([]View, error) {
	query := selectView
	if where != "" {
		query += ` WHERE ` + where
	}
	if !strings.Contains(where, "ORDER BY") {
		query += ` ORDER BY c.slug`
	}
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list checks: %w", err)
	}
	defer rows.Close()
	out := []View{}
	for rows.Next() {
		v, err := scanView(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// Result is one stored run.
type Result struct {
	At      time.Time `json:"at"`
	OK      bool      `json:"ok"`
	Latency Duration  `json:"latency"`
	Message string    `json:"message"`
}

// Results returns a check's raw results in [from, to), oldest first, at most limit.
func (s *Store) Results(ctx context.Context, id int64, from, to time.Time, limit int) ([]Result, error) {
	if limit <= 0 || limit > 10000 {
		limit = 10000
	}
	rows, err := s.DB.R.QueryContext(ctx, `SELECT at, ok, latency_ms, message FROM check_results WHERE check_id = $1 AND at >= $2 AND at < $3
		ORDER BY at DESC LIMIT $4`, id, ms(from), ms(to), limit)
	if err != nil {
		return nil, fmt.Errorf("check results: %w", err)
	}
	defer rows.Close()
	var out []Result
	for rows.Next() {
		var r Result
		var at, lat int64
		if err := rows.Scan(&at, &r.OK, &lat, &r.Message); err != nil {
			return nil, err
		}
		r.At, r.Latency = fromMS(at), Duration(time.Duration(lat)*time.Millisecond)
		out = append(out, r)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, rows.Err()
}

// Day is one UTC day of a check's history.
type Day struct {
	Day        string   `json:"day"`
	Runs       int      `json:"runs"`
	Failures   int      `json:"failures"`
	Uptime     float64  `json:"uptime"` // fraction of successful runs, 0..1
	AvgLatency Duration `json:"avg_latency"`
	MaxLatency Duration `json:"max_latency"`
}

// Daily returns the last n days of a check (today included), oldest first;
// days without runs are present with Runs 0.
func (s *Store) Daily(ctx context.Context, id int64, n int) ([]Day, error) {
	now := s.now()
	first := now.AddDate(0, 0, -(n - 1)).Format(time.DateOnly)
	rows, err := s.DB.R.QueryContext(ctx, `SELECT day, runs, failures, latency_sum_ms, latency_max_ms FROM check_daily
		WHERE check_id = $1 AND day >= $2 ORDER BY day`, id, first)
	if err != nil {
		return nil, fmt.Errorf("check history: %w", err)
	}
	defer rows.Close()
	byDay := map[string]Day{}
	for rows.Next() {
		var d Day
		var sum, mx int64
		if err := rows.Scan(&d.Day, &d.Runs, &d.Failures, &sum, &mx); err != nil {
			return nil, err
		}
		if d.Runs > 0 {
			d.Uptime = float64(d.Runs-d.Failures) / float64(d.Runs)
			d.AvgLatency = Duration(time.Duration(sum/int64(d.Runs)) * time.Millisecond)
		}
		d.MaxLatency = Duration(time.Duration(mx) * time.Millisecond)
		byDay[d.Day] = d
	}
	out := make([]Day, 0, n)
	for i := n - 1; i >= 0; i-- {
		day := now.AddDate(0, 0, -i).Format(time.DateOnly)
		d, ok := byDay[day]
		if !ok {
			d = Day{Day: day}
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// RunSoon makes a check due now.
func (s *Store) RunSoon(ctx context.Context, id int64) error {
	res, err := s.DB.W.ExecContext(ctx, `UPDATE check_state SET next_run_at = $1 WHERE check_id = $2`, ms(s.now()), id)
	if err != nil {
		return fmt.Errorf("run check: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	s.changed()
	return nil
}
