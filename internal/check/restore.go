package check

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// RestoreTest is one recorded test of restoring a backup: Duration is the
// measured recovery time (RTO), DataAge how old the restored data was (RPO).
type RestoreTest struct {
	ID        int64     `json:"id"`
	Resource  string    `json:"resource"`
	TestedAt  time.Time `json:"tested_at"`
	Duration  Duration  `json:"duration"`
	DataAge   Duration  `json:"data_age"`
	OK        bool      `json:"ok"`
	Evidence  string    `json:"evidence"`
	CreatedBy int64     `json:"created_by,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

var resourceRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$`)

// AddRestoreTest records a restore test and wakes the resource's restore check.
func (s *Store) AddRestoreTest(ctx context.Context, t RestoreTest) (RestoreTest, error) {
	now := s.now()
	t.Evidence = strings.TrimSpace(t.Evidence)
	switch {
	case !resourceRE.MatchString(t.Resource):
		return t, &FieldError{"resource", "the id of a resource of the plan, e.g. nightly-db-backup"}
	case t.TestedAt.IsZero():
		t.TestedAt = now
	}
	switch {
	case t.TestedAt.After(now.Add(time.Minute)):
		return t, &FieldError{"tested_at", "is in the future"}
	case t.Duration <= 0 || time.Duration(t.Duration) > 30*24*time.Hour:
		return t, &FieldError{"duration", "how long the restore took, between 1s and 720h"}
	case t.DataAge < 0 || time.Duration(t.DataAge) > 400*24*time.Hour:
		return t, &FieldError{"data_age", "how old the restored data was, between 0 and 400 days"}
	case utf8.RuneCountInString(t.Evidence) > 10000:
		return t, &FieldError{"evidence", "at most 10000 characters"}
	}
	restoreChecks, err := list(ctx, s.DB.R, `c.kind = 'restore'`)
	if err != nil {
		return t, err
	}
	var ids []int64
	for _, v := range restoreChecks {
		var sp RestoreSpec
		if json.Unmarshal(v.Spec, &sp) == nil && sp.Resource == t.Resource {
			ids = append(ids, v.ID)
		}
	}
	if len(ids) == 0 {
		return t, &FieldError{"resource", fmt.Sprintf("%q is not a backup resource with restore_test_every in the plan", t.Resource)}
	}
	t.CreatedAt = now
	err = s.DB.W.QueryRowContext(ctx, `INSERT INTO restore_tests (resource, tested_at, duration_ms, data_age_ms, ok, evidence, created_by, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`, t.Resource, ms(t.TestedAt), time.Duration(t.Duration).Milliseconds(),
		time.Duration(t.DataAge).Milliseconds(), t.OK, t.Evidence, nullID(t.CreatedBy), ms(now)).Scan(&t.ID)
	if err != nil {
		return t, fmt.Errorf("store restore test: %w", err)
	}
	// The restore checks look again now.
	for _, id := range ids {
		if _, err := s.DB.W.ExecContext(ctx, `UPDATE check_state SET next_run_at = $1 WHERE check_id = $2`, ms(now), id); err != nil {
			return t, err
		}
	}
	s.changed()
	return t, nil
}

// RestoreTests lists a resource's restore tests, newest first ("" for all).
func (s *Store) RestoreTests(ctx context.Context, resource string, limit int) ([]RestoreTest, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	q := `SELECT id, resource, tested_at, duration_ms, data_age_ms, ok, evidence, COALESCE(created_by, 0), created_at FROM restore_tests`
	args := []any{}
	if resource != "" {
		q += ` WHERE resource = $1`
		args = append(args, resource)
	}
	q += fmt.Sprintf(` ORDER BY tested_at DESC, id DESC LIMIT %d`, limit)
	rows, err := s.DB.R.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("restore tests: %w", err)
	}
	defer rows.Close()
	out := []RestoreTest{}
	for rows.Next() {
		var t RestoreTest
		var at, dur, age, created int64
		if err := rows.Scan(&t.ID, &t.Resource, &at, &dur, &age, &t.OK, &t.Evidence, &t.CreatedBy, &created); err != nil {
			return nil, err
		}
		t.TestedAt, t.CreatedAt = fromMS(at), fromMS(created)
		t.Duration, t.DataAge = Duration(time.Duration(dur)*time.Millisecond), Duration(time.Duration(age)*time.Millisecond)
		out = append(out, t)
	}
	return out, rows.Err()
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}
