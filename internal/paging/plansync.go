package paging

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/firebreak/firebreak/internal/contact"
	"github.com/firebreak/firebreak/internal/escalation"
	"github.com/firebreak/firebreak/internal/oncall"
	"github.com/firebreak/firebreak/internal/plan"
	"github.com/firebreak/firebreak/internal/store"
)

// SyncPlan makes the plan's people, contacts, schedules and escalation
// policies real inside tx (plan.Apply calls it in the transaction that
// records the plan version):
//
//   - each person becomes a user (username = handle, role responder, no
//     password until an admin sets one) unless that user exists; users the
//     plan made get their name, e-mail, phone, zone and locale refreshed;
//   - a person's e-mail becomes a verified e-mail contact method (the plan's
//     author vouched for it) with a rule "at once, every level";
//   - contacts with an e-mail become e-mail channels escalation steps can page;
//   - schedules and one escalation policy per paging level (oncall.SyncPlan,
//     escalation.SyncPlan).
func SyncPlan(ctx context.Context, tx *sql.Tx, p *plan.Plan, now time.Time) error {
	ids := map[string]int64{}
	for _, pe := range p.People {
		id, err := syncPerson(ctx, tx, pe, now)
		if err != nil {
			return fmt.Errorf("plan person %s: %w", pe.Handle, err)
		}
		ids[pe.Handle] = id
	}
	for _, c := range p.Contacts {
		if c.Email == "" {
			continue
		}
		if err := syncContact(ctx, tx, c, now); err != nil {
			return fmt.Errorf("plan contact %s: %w", c.ID, err)
		}
	}
	if err := oncall.SyncPlan(ctx, tx, p.Schedules, ids, now); err != nil {
		return err
	}
	return escalation.SyncPlan(ctx, tx, p, now)
}

func syncPerson(ctx context.Context, tx *sql.Tx, pe plan.Person, now time.Time) (int64, error) {
	phone := ""
	if pe.Phone != "" {
		var err error
		if phone, err = contact.CheckAddress("sms", pe.Phone, ""); err != nil {
			return 0, fmt.Errorf("phone: %w", err)
		}
	}
	chat, _ := json.Marshal(pe.Chat)
	if pe.Chat == nil {
		chat = []byte("{}")
	}
	var id int64
	var source string
	err := tx.QueryRowContext(ctx, `SELECT id, source FROM users WHERE username = $1`, pe.Handle).Scan(&id, &source)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		err = tx.QueryRowContext(ctx, `INSERT INTO users (username, display_name, email, role, password_hash, locale, created_at, phone, time_zone, chat_ids, source)
			VALUES ($1, $2, $3, 'responder', '', $4, $5, $6, $7, $8, 'plan') RETURNING id`,
			pe.Handle, pe.Name, pe.Email, pe.Locale, now.UnixMilli(), phone, pe.Timezone, string(chat)).Scan(&id)
		if err != nil {
			return 0, err
		}
	case err != nil:
		return 0, err
	case source == "plan":
		if _, err := tx.ExecContext(ctx, `UPDATE users SET display_name = $1, email = $2, locale = $3, phone = $4, time_zone = $5, chat_ids = $6 WHERE id = $7`,
			pe.Name, pe.Email, pe.Locale, phone, pe.Timezone, string(chat), id); err != nil {
			return 0, err
		}
	default:
		// A person who already had an account: fill in only what is missing.
		if _, err := tx.ExecContext(ctx, `UPDATE users SET phone = CASE WHEN phone = '' THEN $1 ELSE phone END,
			email = CASE WHEN email = '' THEN $2 ELSE email END WHERE id = $3`, phone, pe.Email, id); err != nil {
			return 0, err
		}
	}
	if pe.Email == "" {
		return id, nil
	}
	addr, err := contact.CheckAddress("email", pe.Email, "")
	if err != nil {
		return 0, fmt.Errorf("email: %w", err)
	}
	var mid int64
	err = tx.QueryRowContext(ctx, `SELECT id FROM contact_methods WHERE user_id = $1 AND source = 'plan' AND kind = 'email'`, id).Scan(&mid)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if err := tx.QueryRowContext(ctx, `INSERT INTO contact_methods (user_id, kind, name, address, verified_at, source, created_at)
			VALUES ($1, 'email', 'E-mail (plan)', $2, $3, 'plan', $3) RETURNING id`, id, addr, now.UnixMilli()).Scan(&mid); err != nil {
			return 0, err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO notification_rules (user_id, contact_method_id, delay_ms, levels, created_at) VALUES ($1, $2, 0, '', $3)`,
			id, mid, now.UnixMilli())
		return id, err
	case err != nil:
		return 0, err
	}
	_, err = tx.ExecContext(ctx, `UPDATE contact_methods SET address = $1 WHERE id = $2 AND address <> $1`, addr, mid)
	return id, err
}

func syncContact(ctx context.Context, tx *sql.Tx, c plan.Contact, now time.Time) error {
	addr, err := contact.CheckChannelAddress("email", c.Email, "")
	if err != nil {
		return fmt.Errorf("email: %w", err)
	}
	name := c.Name
	if name == "" {
		name = c.ID
	}
	var id int64
	var source string
	err = tx.QueryRowContext(ctx, `SELECT id, source FROM channels WHERE slug = $1`, c.ID).Scan(&id, &source)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		_, err = tx.ExecContext(ctx, `INSERT INTO channels (slug, name, kind, address, source, created_at) VALUES ($1, $2, 'email', $3, 'plan', $4)`,
			c.ID, name, addr, now.UnixMilli())
		return err
	case err != nil:
		return err
	case source != "plan":
		return nil // a channel made by a person with the same slug wins
	}
	_, err = tx.ExecContext(ctx, `UPDATE channels SET name = $1, kind = 'email', address = $2 WHERE id = $3`, name, addr, id)
	return err
}

// Sync applies the plan in force again (at start, so databases made before
// firebreak knew a part of the plan get it) with SyncPlan and any other
// syncers. It is idempotent.
func Sync(ctx context.Context, db *store.DB, now time.Time, more ...plan.Syncer) error {
	return db.Tx(ctx, func(tx *sql.Tx) error {
		if db.Dialect == store.Postgres {
			if _, err := tx.ExecContext(ctx, `LOCK TABLE plan_versions IN EXCLUSIVE MODE`); err != nil {
				return err
			}
		}
		var src string
		err := tx.QueryRowContext(ctx, `SELECT source FROM plan_versions ORDER BY id DESC LIMIT 1`).Scan(&src)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		p, err := plan.Parse([]byte(src))
		if err != nil {
			return fmt.Errorf("plan in force: %w", err)
		}
		for _, fn := range append([]plan.Syncer{SyncPlan}, more...) {
			if err := fn(ctx, tx, p, now); err != nil {
				return fmt.Errorf("sync plan: %s", strings.TrimPrefix(err.Error(), "sync plan: "))
			}
		}
		return nil
	})
}
