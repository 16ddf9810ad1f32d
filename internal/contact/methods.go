package contact

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

const methodCols = `m.id, m.user_id, m.kind, m.name, m.address, m.secret, m.throttle_count, m.throttle_window_ms,
	m.verified_at, m.disabled, m.source, m.created_at`

func scanMethod(row interface{ Scan(...any) error }) (Method, error) {
	var m Method
	var window, verified, created int64
	err := row.Scan(&m.ID, &m.UserID, &m.Kind, &m.Name, &m.Address, &m.Secret, &m.ThrottleCount, &window,
		&verified, &m.Disabled, &m.Source, &created)
	m.HasSecret = m.Secret != ""
	m.ThrottleWindow = time.Duration(window) * time.Millisecond
	m.Verified, m.VerifiedAt = verified != 0, fromMs(verified)
	m.CreatedAt = fromMs(created)
	return m, err
}

// checked is a validated MethodInput.
type checked struct {
	kind, name, address, secret string
	count                       int
	windowMs                    int64
}

func (in MethodInput) check(cur *Method) (checked, error) {
	c := checked{kind: in.Kind, secret: in.Secret, count: in.ThrottleCount}
	if cur != nil && c.secret == "" && !in.ClearSecret && c.kind == cur.Kind {
		c.secret = cur.Secret
	}
	var err error
	if c.name, err = checkName(in.Name); err != nil {
		return c, err
	}
	if c.address, err = CheckAddress(in.Kind, in.Address, c.secret); err != nil {
		return c, err
	}
	if c.windowMs, err = checkThrottle(in.ThrottleCount, in.ThrottleWindow); err != nil {
		return c, err
	}
	if len(in.Source) > 50 {
		return c, &FieldError{"source", "must be at most 50 bytes"}
	}
	return c, nil
}

// Create adds a contact method for a person. It starts unverified unless
// in.Verified is set or in.Source is "plan" (the plan's author vouched for it).
func (s *Store) Create(ctx context.Context, userID int64, in MethodInput) (Method, error) {
	c, err := in.check(nil)
	if err != nil {
		return Method{}, err
	}
	now := s.now().UnixMilli()
	var verified int64
	if in.Verified || in.Source == SourcePlan {
		verified = now
	}
	var id int64
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		if err := userExists(ctx, tx, userID); err != nil {
			return err
		}
		err := tx.QueryRowContext(ctx, `INSERT INTO contact_methods (user_id, kind, name, address, secret, throttle_count,
			throttle_window_ms, verified_at, disabled, source, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
			userID, c.kind, c.name, c.address, c.secret, c.count, c.windowMs, verified, false, in.Source, now).Scan(&id)
		if err != nil {
			return fmt.Errorf("insert contact method: %w", err)
		}
		return nil
	})
	if err != nil {
		return Method{}, err
	}
	return s.Get(ctx, id)
}

func userExists(ctx context.Context, q Querier, userID int64) error {
	var one int
	err := q.QueryRowContext(ctx, `SELECT 1 FROM users WHERE id=$1`, userID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("look up user: %w", err)
	}
	return nil
}

// Update changes a contact method. Changing its kind or address clears its
// verification and any pending code; with in.Verified set or in.Source "plan"
// it is stored verified again. The source changes only when in.Source is set.
func (s *Store) Update(ctx context.Context, id int64, in MethodInput) (Method, error) {
	err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
		cur, err := methodByID(ctx, tx, id)
		if err != nil {
			return err
		}
		c, err := in.check(&cur)
		if err != nil {
			return err
		}
		source := cur.Source
		if in.Source != "" {
			source = in.Source
		}
		reset := c.kind != cur.Kind || c.address != cur.Address
		var verified int64
		if cur.Verified && !reset {
			verified = cur.VerifiedAt.UnixMilli()
		}
		if verified == 0 && (in.Verified || in.Source == SourcePlan) {
			verified = s.now().UnixMilli()
		}
		q := `UPDATE contact_methods SET kind=$1, name=$2, address=$3, secret=$4, throttle_count=$5,
			throttle_window_ms=$6, verified_at=$7, source=$8`
		if reset {
			q += `, verify_code_hash='', verify_expires_at=0, verify_attempts=0`
		}
		_, err = tx.ExecContext(ctx, q+` WHERE id=$9`, c.kind, c.name, c.address, c.secret, c.count, c.windowMs, verified, source, id)
		if err != nil {
			return fmt.Errorf("update contact method: %w", err)
		}
		return nil
	})
	if err != nil {
		return Method{}, err
	}
	return s.Get(ctx, id)
}

// Get reads a contact method.
func (s *Store) Get(ctx context.Context, id int64) (Method, error) {
	return methodByID(ctx, s.DB.R, id)
}

// MethodByID reads a contact method through q (e.g. a *sql.Tx; nil: the
// store's database).
func (s *Store) MethodByID(ctx context.Context, q Querier, id int64) (Method, error) {
	return methodByID(ctx, s.q(q), id)
}

func methodByID(ctx context.Context, q Querier, id int64) (Method, error) {
	m, err := scanMethod(q.QueryRowContext(ctx, `SELECT `+methodCols+` FROM contact_methods m WHERE m.id=$1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Method{}, ErrNotFound
	}
	if err != nil {
		return Method{}, fmt.Errorf("load contact method: %w", err)
	}
	return m, nil
}

// ListForUser returns a person's contact methods in creation order.
func (s *Store) ListForUser(ctx context.Context, userID int64) ([]Method, error) {
	return listMethods(ctx, s.DB.R, `m.user_id=$1`, userID)
}

// MethodsFor returns a person's verified, enabled contact methods in creation
// order: where a page falls back to "the person's next method". It reads
// through q (e.g. a *sql.Tx; nil: the store's database).
func (s *Store) MethodsFor(ctx context.Context, q Querier, userID int64) ([]Method, error) {
	return listMethods(ctx, s.q(q), `m.user_id=$1 AND m.verified_at > 0 AND NOT m.disabled`, userID)
}

func listMethods(ctx context.Context, q Querier, where string, args ...any) ([]Method, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+methodCols+` FROM contact_methods m WHERE `+where+` ORDER BY m.created_at, m.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list contact methods: %w", err)
	}
	defer rows.Close()
	out := []Method{}
	for rows.Next() {
		m, err := scanMethod(rows)
		if err != nil {
			return nil, fmt.Errorf("list contact methods: %w", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list contact methods: %w", err)
	}
	return out, nil
}

// Delete removes a contact method and the notification rules using it.
func (s *Store) Delete(ctx context.Context, id int64) error {
	res, err := s.DB.W.ExecContext(ctx, `DELETE FROM contact_methods WHERE id=$1`, id)
	if err != nil {
		return fmt.Errorf("delete contact method: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// SetDisabled turns a contact method off (no pages go to it) or back on.
func (s *Store) SetDisabled(ctx context.Context, id int64, disabled bool) error {
	res, err := s.DB.W.ExecContext(ctx, `UPDATE contact_methods SET disabled=$1 WHERE id=$2`, disabled, id)
	if err != nil {
		return fmt.Errorf("disable contact method: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}
