package plan

import (
	"cmp"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/firebreak/firebreak/internal/store"
)

// ErrNoPlan is returned when no plan has been applied yet.
var ErrNoPlan = errors.New("no plan applied")

// Level is an applied severity level.
type Level struct {
	ID                  string        `json:"id"`
	Position            int           `json:"position"`
	Name                Text          `json:"name"`
	Description         Text          `json:"description"`
	AckTarget           time.Duration `json:"-"`
	FirstInternalNotice time.Duration `json:"-"`
	FirstPublicNotice   time.Duration `json:"-"`
	UpdateEvery         time.Duration `json:"-"`
	ResolveTarget       time.Duration `json:"-"`
	Postmortem          string        `json:"postmortem"` // required, optional or none
}

// MarshalJSON writes the targets as whole seconds (0 = no target).
func (l Level) MarshalJSON() ([]byte, error) {
	type plain Level
	return json.Marshal(struct {
		plain
		AckTarget           int64 `json:"acknowledge_target_seconds"`
		FirstInternalNotice int64 `json:"first_internal_notice_seconds"`
		FirstPublicNotice   int64 `json:"first_public_notice_seconds"`
		UpdateEvery         int64 `json:"update_every_seconds"`
		ResolveTarget       int64 `json:"resolve_target_seconds"`
	}{plain(l), secs(l.AckTarget), secs(l.FirstInternalNotice), secs(l.FirstPublicNotice), secs(l.UpdateEvery), secs(l.ResolveTarget)})
}

func secs(d time.Duration) int64 { return int64(d / time.Second) }

// IncidentType is an applied incident type.
type IncidentType struct {
	ID           string `json:"id"`
	Name         Text   `json:"name"`
	DefaultLevel string `json:"default_level"`
	Playbook     string `json:"playbook"`
	Restricted   bool   `json:"restricted"`
}

// Role is an applied incident role.
type Role struct {
	ID     string `json:"id"`
	Name   Text   `json:"name"`
	Duties string `json:"duties"`
}

// Current is the plan in force: the latest applied version.
type Current struct {
	VersionID      int64             `json:"version_id"`
	Name           string            `json:"name"`
	Levels         []Level           `json:"levels"` // in plan order, most severe first
	Types          []IncidentType    `json:"types"`  // in plan order
	Roles          []Role            `json:"roles"`  // in plan order
	SeverityLevels map[string]string `json:"severity_levels"`
}

// Level returns the level with id.
func (c *Current) Level(id string) (Level, bool) {
	for _, l := range c.Levels {
		if l.ID == id {
			return l, true
		}
	}
	return Level{}, false
}

// Type returns the incident type with id.
func (c *Current) Type(id string) (IncidentType, bool) {
	for _, t := range c.Types {
		if t.ID == id {
			return t, true
		}
	}
	return IncidentType{}, false
}

// Role returns the role with id.
func (c *Current) Role(id string) (Role, bool) {
	for _, r := range c.Roles {
		if r.ID == id {
			return r, true
		}
	}
	return Role{}, false
}

// LevelForSeverity returns the level an alert of severity sev opens, "" for none.
func (c *Current) LevelForSeverity(sev string) string { return c.SeverityLevels[sev] }

// Apply validates p and makes it, with source (the file p was parsed from,
// kept for export and diff), the plan in force. It does nothing when
// source is the same as the latest version's (changed is false and versionID is
// that version's); otherwise it records a new version and replaces levels,
// incident types, roles and the severity map, all in one transaction.
// Incidents keep the level and type ids they have even if the new plan drops them.
//
// Each sync runs inside the same transaction after the tables are replaced, so
// the parts of the plan other packages own (people, schedules, escalation
// policies) change atomically with it.
func Apply(ctx context.Context, db *store.DB, p *Plan, source []byte, appliedBy string, now time.Time, sync ...Syncer) (versionID int64, changed bool, err error) {
	if err := p.Validate(); err != nil {
		return 0, false, fmt.Errorf("apply plan: %w", err)
	}
	return apply(ctx, db, p, source, appliedBy, now, false, sync)
}

// Syncer writes a part of the plan that another package owns, inside tx.
type Syncer func(ctx context.Context, tx *sql.Tx, p *Plan, now time.Time) error

// ApplyDefaultIfEmpty applies the default plan when none has been applied yet.
func ApplyDefaultIfEmpty(ctx context.Context, db *store.DB, now time.Time, sync ...Syncer) (applied bool, err error) {
	p, src := Default()
	_, applied, err = apply(ctx, db, p, src, "firebreak (default plan)", now, true, sync)
	return applied, err
}

func apply(ctx context.Context, db *store.DB, p *Plan, source []byte, appliedBy string, now time.Time, onlyIfEmpty bool, sync []Syncer) (id int64, changed bool, err error) {
	sum := sha256.Sum256(source)
	checksum := hex.EncodeToString(sum[:])
	err = db.Tx(ctx, func(tx *sql.Tx) error {
		if db.Dialect == store.Postgres {
			// Serialise appliers; SQLite already has one writer.
			if _, err := tx.ExecContext(ctx, `LOCK TABLE plan_versions IN EXCLUSIVE MODE`); err != nil {
				return err
			}
		}
		var last string
		err := tx.QueryRowContext(ctx, `SELECT id, checksum FROM plan_versions ORDER BY id DESC LIMIT 1`).Scan(&id, &last)
		switch {
		case err == nil && (onlyIfEmpty || last == checksum):
			return nil
		case err != nil && !errors.Is(err, sql.ErrNoRows):
			return err
		}
		name := p.Name.In("en")
		if err := tx.QueryRowContext(ctx, `INSERT INTO plan_versions (name, source, checksum, applied_by, applied_at)
			VALUES ($1, $2, $3, $4, $5) RETURNING id`, name, string(source), checksum, appliedBy, now.UnixMilli()).Scan(&id); err != nil {
			return err
		}
		for _, t := range []string{"levels", "incident_types", "roles", "severity_levels"} {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+t); err != nil {
				return err
			}
		}
		for i, l := range p.Levels {
			t := l.Targets
			if _, err := tx.ExecContext(ctx, `INSERT INTO levels (id, position, name_en, name_zh, description_en, description_zh,
				ack_target_ms, first_internal_notice_ms, first_public_notice_ms, update_every_ms, resolve_target_ms, postmortem)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
				l.ID, i, l.Name.EN, l.Name.ZH, l.Description.EN, l.Description.ZH, ms(t.Acknowledge), ms(t.FirstInternalNotice),
				ms(t.FirstPublicNotice), ms(t.UpdateEvery), ms(t.Resolve), cmp.Or(l.Postmortem, PostmortemNone)); err != nil {
				return err
			}
		}
		for i, t := range p.Types {
			if _, err := tx.ExecContext(ctx, `INSERT INTO incident_types (id, position, name_en, name_zh, default_level, playbook, restricted)
				VALUES ($1, $2, $3, $4, $5, $6, $7)`, t.ID, i, t.Name.EN, t.Name.ZH, t.DefaultLevel, t.Playbook, t.Restricted); err != nil {
				return err
			}
		}
		for i, r := range p.Roles {
			if _, err := tx.ExecContext(ctx, `INSERT INTO roles (id, position, name_en, name_zh, duties) VALUES ($1, $2, $3, $4, $5)`,
				r.ID, i, r.Name.EN, r.Name.ZH, r.Duties); err != nil {
				return err
			}
		}
		for sev, lv := range p.SeverityLevels() {
			if _, err := tx.ExecContext(ctx, `INSERT INTO severity_levels (severity, level) VALUES ($1, $2)`, sev, lv); err != nil {
				return err
			}
		}
		for _, fn := range sync {
			if err := fn(ctx, tx, p, now); err != nil {
				return err
			}
		}
		changed = true
		return nil
	})
	if err != nil {
		return 0, false, fmt.Errorf("apply plan: %w", err)
	}
	return id, changed, nil
}

// Load reads the plan in force from one consistent snapshot.
func Load(ctx context.Context, db *store.DB) (*Current, error) {
	opts := &sql.TxOptions{ReadOnly: true}
	if db.Dialect == store.Postgres {
		opts.Isolation = sql.LevelRepeatableRead
	}
	tx, err := db.R.BeginTx(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("load plan: %w", err)
	}
	defer tx.Rollback()
	c, err := load(ctx, tx)
	if err != nil {
		return nil, fmt.Errorf("load plan: %w", err)
	}
	return c, nil
}

func load(ctx context.Context, tx *sql.Tx) (*Current, error) {
	c := &Current{SeverityLevels: map[string]string{}}
	err := tx.QueryRowContext(ctx, `SELECT id, name FROM plan_versions ORDER BY id DESC LIMIT 1`).Scan(&c.VersionID, &c.Name)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNoPlan
	} else if err != nil {
		return nil, err
	}
	err = each(ctx, tx, `SELECT id, position, name_en, name_zh, description_en, description_zh, ack_target_ms,
		first_internal_notice_ms, first_public_notice_ms, update_every_ms, resolve_target_ms, postmortem FROM levels ORDER BY position`,
		func(rows *sql.Rows) error {
			var l Level
			var ack, internal, public, update, resolve int64
			if err := rows.Scan(&l.ID, &l.Position, &l.Name.EN, &l.Name.ZH, &l.Description.EN, &l.Description.ZH,
				&ack, &internal, &public, &update, &resolve, &l.Postmortem); err != nil {
				return err
			}
			l.AckTarget, l.FirstInternalNotice, l.FirstPublicNotice = msD(ack), msD(internal), msD(public)
			l.UpdateEvery, l.ResolveTarget = msD(update), msD(resolve)
			c.Levels = append(c.Levels, l)
			return nil
		})
	if err != nil {
		return nil, err
	}
	err = each(ctx, tx, `SELECT id, name_en, name_zh, default_level, playbook, restricted FROM incident_types ORDER BY position`,
		func(rows *sql.Rows) error {
			var t IncidentType
			if err := rows.Scan(&t.ID, &t.Name.EN, &t.Name.ZH, &t.DefaultLevel, &t.Playbook, &t.Restricted); err != nil {
				return err
			}
			c.Types = append(c.Types, t)
			return nil
		})
	if err != nil {
		return nil, err
	}
	err = each(ctx, tx, `SELECT id, name_en, name_zh, duties FROM roles ORDER BY position`, func(rows *sql.Rows) error {
		var r Role
		if err := rows.Scan(&r.ID, &r.Name.EN, &r.Name.ZH, &r.Duties); err != nil {
			return err
		}
		c.Roles = append(c.Roles, r)
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = each(ctx, tx, `SELECT severity, level FROM severity_levels`, func(rows *sql.Rows) error {
		var sev, lv string
		if err := rows.Scan(&sev, &lv); err != nil {
			return err
		}
		c.SeverityLevels[sev] = lv
		return nil
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Export returns the source of the plan in force, as it was applied.
func Export(ctx context.Context, db *store.DB) ([]byte, error) {
	var src string
	err := db.R.QueryRowContext(ctx, `SELECT source FROM plan_versions ORDER BY id DESC LIMIT 1`).Scan(&src)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNoPlan
	} else if err != nil {
		return nil, fmt.Errorf("export plan: %w", err)
	}
	return []byte(src), nil
}

func each(ctx context.Context, tx *sql.Tx, query string, fn func(*sql.Rows) error) error {
	rows, err := tx.QueryContext(ctx, query)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

func ms(d Duration) int64        { return time.Duration(d).Milliseconds() }
func msD(ms int64) time.Duration { return time.Duration(ms) * time.Millisecond }
