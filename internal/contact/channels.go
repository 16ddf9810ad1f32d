package contact

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/firebreak/firebreak/internal/store"
)

// Chan is a shared channel escalation steps can page: a team's chat group
// robot, a stakeholder mailing list.
type Chan struct {
	ID      int64  `json:"id"`
	Slug    string `json:"slug"`
	Name    string `json:"name"`
	Kind    string `json:"kind"`
	Address string `json:"address"`
	// Secret signs requests (webhook, DingTalk, Feishu); never shown.
	Secret    string    `json:"-"`
	HasSecret bool      `json:"has_secret"`
	TeamID    int64     `json:"team_id,omitempty"` // 0: no team
	Source    string    `json:"source"`
	CreatedAt time.Time `json:"created_at"`
}

// ChanInput is what is set on a shared channel.
type ChanInput struct {
	Slug    string `json:"slug"`
	Name    string `json:"name"`
	Kind    string `json:"kind"`
	Address string `json:"address"`
	// Secret: on UpdateChannel, empty keeps the current secret when the kind
	// stays the same; ClearSecret removes it.
	Secret      string `json:"secret"`
	ClearSecret bool   `json:"clear_secret"`
	TeamID      int64  `json:"team_id"` // 0: no team
	// Source is for trusted callers only (the plan); never read from JSON.
	Source string `json:"-"`
}

var slugRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// CheckSlug reports whether slug is a valid channel slug.
func CheckSlug(slug string) error {
	if !slugRe.MatchString(slug) {
		return &FieldError{"slug", "must be 1 to 63 characters of a-z, 0-9, '_' or '-', starting with a letter or digit"}
	}
	return nil
}

const chanCols = `c.id, c.slug, c.name, c.kind, c.address, c.secret, COALESCE(c.team_id, 0), c.source, c.created_at`

func scanChan(row interface{ Scan(...any) error }) (Chan, error) {
	var c Chan
	var created int64
	err := row.Scan(&c.ID, &c.Slug, &c.Name, &c.Kind, &c.Address, &c.Secret, &c.TeamID, &c.Source, &created)
	c.HasSecret, c.CreatedAt = c.Secret != "", fromMs(created)
	return c, err
}

type checkedChan struct {
	slug, name, kind, address, secret string
	team                              any // nil or the team id
}

func (in ChanInput) check(ctx context.Context, q Querier, cur *Chan) (checkedChan, error) {
	c := checkedChan{slug: strings.TrimSpace(in.Slug), kind: in.Kind, secret: in.Secret}
	if cur != nil && c.secret == "" && !in.ClearSecret && c.kind == cur.Kind {
		c.secret = cur.Secret
	}
	if err := CheckSlug(c.slug); err != nil {
		return c, err
	}
	var err error
	if c.name, err = checkName(in.Name); err != nil {
		return c, err
	}
	if c.address, err = CheckChannelAddress(in.Kind, in.Address, c.secret); err != nil {
		return c, err
	}
	if len(in.Source) > 50 {
		return c, &FieldError{"source", "must be at most 50 bytes"}
	}
	switch {
	case in.TeamID < 0:
		return c, &FieldError{"team_id", "no such team"}
	case in.TeamID > 0:
		var one int
		err := q.QueryRowContext(ctx, `SELECT 1 FROM teams WHERE id=$1`, in.TeamID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return c, &FieldError{"team_id", "no such team"}
		}
		if err != nil {
			return c, fmt.Errorf("look up team: %w", err)
		}
		c.team = in.TeamID
	}
	return c, nil
}

var errSlugTaken = &FieldError{"slug", "a channel with this slug exists"}

// CreateChannel adds a shared channel.
func (s *Store) CreateChannel(ctx context.Context, in ChanInput) (Chan, error) {
	var id int64
	err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
		c, err := in.check(ctx, tx, nil)
		if err != nil {
			return err
		}
		err = tx.QueryRowContext(ctx, `INSERT INTO channels (slug, name, kind, address, secret, team_id, source, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
			c.slug, c.name, c.kind, c.address, c.secret, c.team, in.Source, s.now().UnixMilli()).Scan(&id)
		if store.IsUniqueViolation(err) {
			return errSlugTaken
		}
		if err != nil {
			return fmt.Errorf("insert channel: %w", err)
		}
		return nil
	})
	if err != nil {
		return Chan{}, err
	}
	return channelByID(ctx, s.DB.R, id)
}

// UpdateChannel changes a shared channel. The source changes only when
// in.Source is set.
func (s *Store) UpdateChannel(ctx context.Context, id int64, in ChanInput) (Chan, error) {
	err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
		cur, err := channelByID(ctx, tx, id)
		if err != nil {
			return err
		}
		c, err := in.check(ctx, tx, &cur)
		if err != nil {
			return err
		}
		source := cur.Source
		if in.Source != "" {
			source = in.Source
		}
		_, err = tx.ExecContext(ctx, `UPDATE channels SET slug=$1, name=$2, kind=$3, address=$4, secret=$5, team_id=$6, source=$7
			WHERE id=$8`, c.slug, c.name, c.kind, c.address, c.secret, c.team, source, id)
		if store.IsUniqueViolation(err) {
			return errSlugTaken
		}
		if err != nil {
			return fmt.Errorf("update channel: %w", err)
		}
		return nil
	})
	if err != nil {
		return Chan{}, err
	}
	return channelByID(ctx, s.DB.R, id)
}

// DeleteChannel removes a shared channel.
func (s *Store) DeleteChannel(ctx context.Context, id int64) error {
	res, err := s.DB.W.ExecContext(ctx, `DELETE FROM channels WHERE id=$1`, id)
	if err != nil {
		return fmt.Errorf("delete channel: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// ListChannels returns every shared channel by slug.
func (s *Store) ListChannels(ctx context.Context) ([]Chan, error) {
	rows, err := s.DB.R.QueryContext(ctx, `SELECT `+chanCols+` FROM channels c ORDER BY c.slug`)
	if err != nil {
		return nil, fmt.Errorf("list channels: %w", err)
	}
	defer rows.Close()
	out := []Chan{}
	for rows.Next() {
		c, err := scanChan(rows)
		if err != nil {
			return nil, fmt.Errorf("list channels: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list channels: %w", err)
	}
	return out, nil
}

// ChannelBySlug reads a shared channel by slug through q (e.g. a *sql.Tx;
// nil: the store's database).
func (s *Store) ChannelBySlug(ctx context.Context, q Querier, slug string) (Chan, error) {
	return chanWhere(ctx, s.q(q), `c.slug=$1`, slug)
}

// ChannelByID reads a shared channel by id through q (nil: the store's
// database).
func (s *Store) ChannelByID(ctx context.Context, q Querier, id int64) (Chan, error) {
	return channelByID(ctx, s.q(q), id)
}

func channelByID(ctx context.Context, q Querier, id int64) (Chan, error) {
	return chanWhere(ctx, q, `c.id=$1`, id)
}

func chanWhere(ctx context.Context, q Querier, where string, arg any) (Chan, error) {
	c, err := scanChan(q.QueryRowContext(ctx, `SELECT `+chanCols+` FROM channels c WHERE `+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return Chan{}, ErrNotFound
	}
	if err != nil {
		return Chan{}, fmt.Errorf("load channel: %w", err)
	}
	return c, nil
}
