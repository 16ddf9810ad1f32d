package escalation

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

	"github.com/firebreak/firebreak/internal/store"
)

// ErrNotFound is returned for an unknown policy.
var ErrNotFound = errors.New("escalation policy not found")

// FieldError names bad input.
type FieldError struct{ Field, Msg string }

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// Querier is what both *sql.DB and *sql.Tx offer.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Record is a stored escalation policy.
type Record struct {
	ID          int64        `json:"id"`
	Slug        string       `json:"slug"`
	Name        string       `json:"name"`
	Description string       `json:"description"`
	Repeat      int          `json:"repeat"`
	AckTimeout  Duration     `json:"ack_timeout"`
	Source      string       `json:"source"`
	Steps       []StepRecord `json:"steps"`
	CreatedAt   time.Time    `json:"created_at"`
	UpdatedAt   time.Time    `json:"updated_at"`
}

// StepRecord is one stored step.
type StepRecord struct {
	After   Duration `json:"after"`
	Targets []Target `json:"targets"`
}

// Duration is a time.Duration that reads and writes Go syntax ("10m") in JSON.
type Duration time.Duration

// MarshalJSON writes "10m0s".
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads "10m" or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var secs float64
		if err2 := json.Unmarshal(b, &secs); err2 != nil {
			return errors.New(`a duration such as "10m" or a number of seconds`)
		}
		*d = Duration(secs * float64(time.Second))
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is not a duration such as \"10m\"", s)
	}
	*d = Duration(v)
	return nil
}

// MarshalJSON writes {"kind":…,"id":…}.
func (t Target) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Kind string `json:"kind"`
		ID   string `json:"id"`
	}{t.Kind, t.ID})
}

// UnmarshalJSON reads {"kind":…,"id":…}.
func (t *Target) UnmarshalJSON(b []byte) error {
	var v struct {
		Kind string `json:"kind"`
		ID   string `json:"id"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	t.Kind, t.ID = v.Kind, v.ID
	return nil
}

// Policy returns the decision-logic policy of r.
func (r Record) Policy() Policy {
	p := Policy{Repeat: r.Repeat}
	for _, s := range r.Steps {
		p.Steps = append(p.Steps, Step{After: time.Duration(s.After), Targets: s.Targets})
	}
	return p
}

// Input is what a caller may set on a policy.
type Input struct {
	Slug        string       `json:"slug"`
	Name        string       `json:"name"`
	Description string       `json:"description"`
	Repeat      int          `json:"repeat"`
	AckTimeout  Duration     `json:"ack_timeout"`
	Steps       []StepRecord `json:"steps"`
	Source      string       `json:"-"`
}

// PlanSlug is the slug of the policy the plan makes for a level.
func PlanSlug(level string) string { return "plan-" + strings.ToLower(level) }

// Store reads and changes escalation policies.
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

var slugRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// Validate checks in against the targets that exist.
func Validate(ctx context.Context, q Querier, in Input) error {
	if !slugRE.MatchString(in.Slug) {
		return &FieldError{"slug", "use 1–63 lower-case letters, digits, - or _, starting with a letter or digit"}
	}
	if utf8.RuneCountInString(in.Name) > 100 {
		return &FieldError{"name", "at most 100 characters"}
	}
	if utf8.RuneCountInString(in.Description) > 2000 {
		return &FieldError{"description", "at most 2000 characters"}
	}
	if in.Repeat < 0 || in.Repeat > 20 {
		return &FieldError{"repeat", "must be between 0 and 20"}
	}
	if in.AckTimeout < 0 || time.Duration(in.AckTimeout) > 24*time.Hour {
		return &FieldError{"ack_timeout", "must be between 0 (never) and 24h"}
	}
	if len(in.Steps) == 0 {
		return &FieldError{"steps", "add at least one step"}
	}
	if len(in.Steps) > 20 {
		return &FieldError{"steps", "at most 20 steps"}
	}
	for i, s := range in.Steps {
		f := fmt.Sprintf("steps[%d]", i)
		if s.After < 0 || time.Duration(s.After) > 7*24*time.Hour {
			return &FieldError{f + ".after", "must be between 0 and 168h"}
		}
		if i > 0 && s.After < in.Steps[i-1].After {
			return &FieldError{f + ".after", "must not be before the previous step's"}
		}
		if len(s.Targets) == 0 {
			return &FieldError{f + ".targets", "add at least one target"}
		}
		for j, t := range s.Targets {
			tf := fmt.Sprintf("%s.targets[%d]", f, j)
			ok, err := TargetExists(ctx, q, t)
			if err != nil {
				return err
			}
			if !ok {
				if !validKind(t.Kind) {
					return &FieldError{tf + ".kind", "must be user, schedule, team or channel"}
				}
				return &FieldError{tf + ".id", fmt.Sprintf("no %s %q", t.Kind, t.ID)}
			}
		}
	}
	return nil
}

func validKind(k string) bool {
	return k == KindUser || k == KindSchedule || k == KindTeam || k == KindChannel || k == KindContact
}

// TargetExists reports whether a target names something that exists.
func TargetExists(ctx context.Context, q Querier, t Target) (bool, error) {
	var query string
	switch t.Kind {
	case KindUser:
		query = `SELECT COUNT(*) FROM users WHERE username = $1`
	case KindSchedule:
		query = `SELECT COUNT(*) FROM schedules WHERE slug = $1`
	case KindTeam:
		query = `SELECT COUNT(*) FROM teams WHERE slug = $1`
	case KindChannel, KindContact:
		query = `SELECT COUNT(*) FROM channels WHERE slug = $1`
	default:
		return false, nil
	}
	var n int
	if err := q.QueryRowContext(ctx, query, t.ID).Scan(&n); err != nil {
		return false, fmt.Errorf("check target: %w", err)
	}
	return n > 0, nil
}

// Create stores a new policy.
func (s *Store) Create(ctx context.Context, in Input) (Record, error) {
	var id int64
	err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		id, err = Put(ctx, tx, 0, in, s.now())
		return err
	})
	if err != nil {
		return Record{}, err
	}
	return s.Get(ctx, id)
}

// Update replaces a policy's fields and steps.
func (s *Store) Update(ctx context.Context, id int64, in Input) (Record, error) {
	err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
		old, err := get(ctx, tx, `id = $1`, id)
		if err != nil {
			return err
		}
		in.Source = old.Source
		_, err = Put(ctx, tx, id, in, s.now())
		return err
	})
	if err != nil {
		return Record{}, err
	}
	return s.Get(ctx, id)
}

// Put validates and writes a policy inside tx: a new one when id is 0.
func Put(ctx context.Context, tx *sql.Tx, id int64, in Input, now time.Time) (int64, error) {
	if err := Validate(ctx, tx, in); err != nil {
		return 0, err
	}
	var err error
	if id == 0 {
		err = tx.QueryRowContext(ctx, `INSERT INTO escalation_policies (slug, name, description, repeat, ack_timeout_ms, source, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id`,
			in.Slug, in.Name, in.Description, in.Repeat, time.Duration(in.AckTimeout).Milliseconds(), in.Source, now.UnixMilli()).Scan(&id)
	} else {
		_, err = tx.ExecContext(ctx, `UPDATE escalation_policies SET slug=$1, name=$2, description=$3, repeat=$4, ack_timeout_ms=$5, updated_at=$6 WHERE id=$7`,
			in.Slug, in.Name, in.Description, in.Repeat, time.Duration(in.AckTimeout).Milliseconds(), now.UnixMilli(), id)
		if err == nil {
			_, err = tx.ExecContext(ctx, `DELETE FROM escalation_steps WHERE policy_id = $1`, id)
		}
	}
	if store.IsUniqueViolation(err) {
		return 0, &FieldError{"slug", fmt.Sprintf("%q is taken by another policy", in.Slug)}
	}
	if err != nil {
		return 0, fmt.Errorf("store escalation policy: %w", err)
	}
	for i, st := range in.Steps {
		targets, _ := json.Marshal(st.Targets)
		if _, err := tx.ExecContext(ctx, `INSERT INTO escalation_steps (policy_id, position, delay_ms, targets) VALUES ($1, $2, $3, $4)`,
			id, i, time.Duration(st.After).Milliseconds(), string(targets)); err != nil {
			return 0, fmt.Errorf("store escalation step: %w", err)
		}
	}
	return id, nil
}

// Delete removes a policy; services using it fall back to their level's policy.
func (s *Store) Delete(ctx context.Context, id int64) error {
	res, err := s.DB.W.ExecContext(ctx, `DELETE FROM escalation_policies WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("delete escalation policy: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// Get returns one policy.
func (s *Store) Get(ctx context.Context, id int64) (Record, error) {
	return get(ctx, s.DB.R, `id = $1`, id)
}

// BySlug returns one policy by its slug.
func BySlug(ctx context.Context, q Querier, slug string) (Record, error) {
	return get(ctx, q, `slug = $1`, slug)
}

// ByID returns one policy inside q.
func ByID(ctx context.Context, q Querier, id int64) (Record, error) {
	return get(ctx, q, `id = $1`, id)
}

// List returns every policy by slug.
func (s *Store) List(ctx context.Context) ([]Record, error) {
	rows, err := s.DB.R.QueryContext(ctx, `SELECT id FROM escalation_policies ORDER BY slug`)
	if err != nil {
		return nil, fmt.Errorf("list escalation policies: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	out := make([]Record, 0, len(ids))
	for _, id := range ids {
		r, err := s.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

func get(ctx context.Context, q Querier, where string, arg any) (Record, error) {
	var r Record
	var ackMS, created, updated int64
	err := q.QueryRowContext(ctx, `SELECT id, slug, name, description, repeat, ack_timeout_ms, source, created_at, updated_at
		FROM escalation_policies WHERE `+where, arg).Scan(&r.ID, &r.Slug, &r.Name, &r.Description, &r.Repeat, &ackMS, &r.Source, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return Record{}, ErrNotFound
	}
	if err != nil {
		return Record{}, fmt.Errorf("read escalation policy: %w", err)
	}
	r.AckTimeout = Duration(time.Duration(ackMS) * time.Millisecond)
	r.CreatedAt, r.UpdatedAt = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
	rows, err := q.QueryContext(ctx, `SELECT delay_ms, targets FROM escalation_steps WHERE policy_id = $1 ORDER BY position`, r.ID)
	if err != nil {
		return Record{}, fmt.Errorf("read escalation steps: %w", err)
	}
	defer rows.Close()
	r.Steps = []StepRecord{}
	for rows.Next() {
		var delay int64
		var targets string
		if err := rows.Scan(&delay, &targets); err != nil {
			return Record{}, err
		}
		st := StepRecord{After: Duration(time.Duration(delay) * time.Millisecond)}
		if err := json.Unmarshal([]byte(targets), &st.Targets); err != nil {
			return Record{}, fmt.Errorf("escalation policy %s: step targets: %w", r.Slug, err)
		}
		r.Steps = append(r.Steps, st)
	}
	return r, rows.Err()
}
