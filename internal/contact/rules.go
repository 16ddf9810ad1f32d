package contact

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Rule says "notify me by this method this long after I am paged, for these
// levels" (no levels: every level).
type Rule struct {
	ID        int64         `json:"id"`
	UserID    int64         `json:"user_id"`
	MethodID  int64         `json:"method_id"`
	Delay     time.Duration `json:"-"` // delay_seconds in JSON
	Levels    []string      `json:"levels"`
	CreatedAt time.Time     `json:"created_at"`
}

type plainRule Rule

func (r Rule) plain() plainRule {
	if r.Levels == nil {
		r.Levels = []string{}
	}
	return plainRule(r)
}

// MarshalJSON writes Delay as delay_seconds.
func (r Rule) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		plainRule
		Delay int64 `json:"delay_seconds"`
	}{r.plain(), secs(r.Delay)})
}

// RuleInput is what is set on a notification rule.
type RuleInput struct {
	MethodID int64         `json:"method_id"`
	Delay    time.Duration `json:"-"` // delay_seconds in JSON
	Levels   []string      `json:"levels"`
}

// UnmarshalJSON reads delay_seconds into Delay.
func (in *RuleInput) UnmarshalJSON(b []byte) error {
	type plain RuleInput
	var v struct {
		plain
		Delay int64 `json:"delay_seconds"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	if v.Delay < 0 || v.Delay > secs(MaxDelay) {
		return &FieldError{"delay_seconds", "must be between 0 and 86400 (24 hours)"}
	}
	*in = RuleInput(v.plain)
	in.Delay = time.Duration(v.Delay) * time.Second
	return nil
}

// RuleTarget is a rule that applies to a page, with its method.
type RuleTarget struct {
	Rule
	Method Method `json:"method"`
}

// MarshalJSON writes the rule's fields and its method.
func (t RuleTarget) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		plainRule
		Delay  int64  `json:"delay_seconds"`
		Method Method `json:"method"`
	}{t.Rule.plain(), secs(t.Delay), t.Method})
}

func joinLevels(levels []string) string { return strings.Join(levels, ",") }

func splitLevels(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ",")
}

// CreateRule adds a notification rule for a person, by one of their own
// contact methods; levels must be ids of the applied plan's levels.
func (s *Store) CreateRule(ctx context.Context, userID int64, in RuleInput) (Rule, error) {
	if in.Delay < 0 || in.Delay > MaxDelay {
		return Rule{}, &FieldError{"delay_seconds", "must be between 0 and 86400 (24 hours)"}
	}
	var levels []string
	for _, l := range in.Levels {
		l = strings.TrimSpace(l)
		if l != "" && !slices.Contains(levels, l) {
			levels = append(levels, l)
		}
	}
	now := s.now().UnixMilli()
	var id int64
	err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
		if err := userExists(ctx, tx, userID); err != nil {
			return err
		}
		var owner int64
		err := tx.QueryRowContext(ctx, `SELECT user_id FROM contact_methods WHERE id=$1`, in.MethodID).Scan(&owner)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && owner != userID) {
			return &FieldError{"method_id", "is not one of this person's contact methods"}
		}
		if err != nil {
			return fmt.Errorf("look up contact method: %w", err)
		}
		for _, l := range levels {
			var one int
			err := tx.QueryRowContext(ctx, `SELECT 1 FROM levels WHERE id=$1`, l).Scan(&one)
			if errors.Is(err, sql.ErrNoRows) || strings.Contains(l, ",") {
				return &FieldError{"levels", fmt.Sprintf("unknown level %q", l)}
			}
			if err != nil {
				return fmt.Errorf("look up level: %w", err)
			}
		}
		err = tx.QueryRowContext(ctx, `INSERT INTO notification_rules (user_id, contact_method_id, delay_ms, levels, created_at)
			VALUES ($1, $2, $3, $4, $5) RETURNING id`, userID, in.MethodID, in.Delay.Milliseconds(), joinLevels(levels), now).Scan(&id)
		if err != nil {
			return fmt.Errorf("insert notification rule: %w", err)
		}
		return nil
	})
	if err != nil {
		return Rule{}, err
	}
	return Rule{ID: id, UserID: userID, MethodID: in.MethodID, Delay: in.Delay.Truncate(time.Millisecond),
		Levels: append([]string{}, levels...), CreatedAt: fromMs(now)}, nil
}

// ListRules returns a person's notification rules by delay.
func (s *Store) ListRules(ctx context.Context, userID int64) ([]Rule, error) {
	rows, err := s.DB.R.QueryContext(ctx, `SELECT id, user_id, contact_method_id, delay_ms, levels, created_at
		FROM notification_rules WHERE user_id=$1 ORDER BY delay_ms, id`, userID)
	if err != nil {
		return nil, fmt.Errorf("list notification rules: %w", err)
	}
	defer rows.Close()
	out := []Rule{}
	for rows.Next() {
		var r Rule
		var delay, created int64
		var levels string
		if err := rows.Scan(&r.ID, &r.UserID, &r.MethodID, &delay, &levels, &created); err != nil {
			return nil, fmt.Errorf("list notification rules: %w", err)
		}
		r.Delay, r.Levels, r.CreatedAt = time.Duration(delay)*time.Millisecond, splitLevels(levels), fromMs(created)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list notification rules: %w", err)
	}
	return out, nil
}

// DeleteRule removes one of a person's notification rules.
func (s *Store) DeleteRule(ctx context.Context, userID, ruleID int64) error {
	res, err := s.DB.W.ExecContext(ctx, `DELETE FROM notification_rules WHERE id=$1 AND user_id=$2`, ruleID, userID)
	if err != nil {
		return fmt.Errorf("delete notification rule: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// RulesFor returns the rules that apply when a person is paged for an
// incident of level: those with no levels or with level among them, whose
// method is verified and enabled, by delay then rule id. It reads through q
// (e.g. a *sql.Tx; nil: the store's database).
func (s *Store) RulesFor(ctx context.Context, q Querier, userID int64, level string) ([]RuleTarget, error) {
	rows, err := s.q(q).QueryContext(ctx, `SELECT r.id, r.user_id, r.contact_method_id, r.delay_ms, r.levels, r.created_at, `+methodCols+`
		FROM notification_rules r JOIN contact_methods m ON m.id = r.contact_method_id
		WHERE r.user_id=$1 AND m.user_id=$1 AND m.verified_at > 0 AND NOT m.disabled
		ORDER BY r.delay_ms, r.id`, userID)
	if err != nil {
		return nil, fmt.Errorf("notification rules: %w", err)
	}
	defer rows.Close()
	out := []RuleTarget{}
	for rows.Next() {
		var t RuleTarget
		var delay, created int64
		var levels string
		m, err := scanMethod(scanFunc(func(dest ...any) error {
			return rows.Scan(append([]any{&t.ID, &t.UserID, &t.MethodID, &delay, &levels, &created}, dest...)...)
		}))
		if err != nil {
			return nil, fmt.Errorf("notification rules: %w", err)
		}
		t.Delay, t.Levels, t.CreatedAt, t.Method = time.Duration(delay)*time.Millisecond, splitLevels(levels), fromMs(created), m
		if len(t.Levels) == 0 || slices.Contains(t.Levels, level) {
			out = append(out, t)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("notification rules: %w", err)
	}
	return out, nil
}

type scanFunc func(dest ...any) error

func (f scanFunc) Scan(dest ...any) error { return f(dest...) }
