package paging

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/firebreak/firebreak/internal/escalation"
	"github.com/firebreak/firebreak/internal/incident"
	"github.com/firebreak/firebreak/internal/store"
)

// Notification is one row of the outbox, for the notification log.
type Notification struct {
	ID            int64     `json:"id"`
	IncidentID    int64     `json:"incident_id"`
	IncidentTitle string    `json:"incident_title"`
	UserID        int64     `json:"user_id,omitempty"`
	Username      string    `json:"username,omitempty"`
	MethodID      int64     `json:"contact_method_id,omitempty"`
	ChannelID     int64     `json:"channel_id,omitempty"`
	ChannelSlug   string    `json:"channel,omitempty"`
	Kind          string    `json:"kind"`
	Step          string    `json:"step"`
	State         string    `json:"state"`
	Attempts      int       `json:"attempts"`
	LastError     string    `json:"last_error,omitempty"`
	NextAttemptAt time.Time `json:"next_attempt_at,omitzero"`
	CreatedAt     time.Time `json:"created_at"`
	SentAt        time.Time `json:"sent_at,omitzero"`
	FallbackOf    int64     `json:"fallback_of,omitempty"`
	BundledInto   int64     `json:"bundled_into,omitempty"`
}

// States lists the notification states.
var States = []string{StatePending, StateSending, StateSent, StateTemporary, StatePermanent, StateCancelled}

// Filter selects notifications; zero fields select everything.
type Filter struct {
	IncidentID int64
	UserID     int64
	State      string
	Kind       string
	Cursor     string
	Limit      int
}

// FieldError names bad input.
type FieldError struct{ Field, Msg string }

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

const selectNotification = `SELECT n.id, COALESCE(n.incident_id, 0), COALESCE(i.title, ''), COALESCE(n.user_id, 0), COALESCE(u.username, ''),
	COALESCE(n.contact_method_id, 0), COALESCE(n.channel_id, 0), COALESCE(c.slug, ''), n.kind, n.step_key, n.state, n.attempts,
	n.last_error, n.next_attempt_at, n.created_at, n.sent_at, COALESCE(n.fallback_of, 0), COALESCE(n.bundled_into, 0)
	FROM notifications n LEFT JOIN incidents i ON i.id = n.incident_id LEFT JOIN users u ON u.id = n.user_id
	LEFT JOIN channels c ON c.id = n.channel_id`

// List returns notifications newest first, a page at a time.
func List(ctx context.Context, db *store.DB, f Filter) ([]Notification, string, error) {
	var w store.Where
	if f.IncidentID != 0 {
		w.And("n.incident_id = " + w.Arg(f.IncidentID))
	}
	if f.UserID != 0 {
		w.And("n.user_id = " + w.Arg(f.UserID))
	}
	if f.State != "" {
		if !slices.Contains(States, f.State) {
			return nil, "", &FieldError{"state", "must be one of pending, sending, sent, failed_temporary, failed_permanent, cancelled"}
		}
		w.And("n.state = " + w.Arg(f.State))
	}
	if f.Kind != "" {
		w.And("n.kind = " + w.Arg(f.Kind))
	}
	out, next, err := store.Page(ctx, db.R, selectNotification, &w, "n.id", f.Cursor, f.Limit, scanNotification,
		func(n Notification) int64 { return n.ID })
	if errors.Is(err, store.ErrBadCursor) {
		return nil, "", &FieldError{"cursor", "invalid cursor"}
	}
	if err != nil {
		return nil, "", fmt.Errorf("notifications: %w", err)
	}
	return out, next, nil
}

func scanNotification(r store.Scanner) (Notification, error) {
	var n Notification
	var next, created, sent int64
	err := r.Scan(&n.ID, &n.IncidentID, &n.IncidentTitle, &n.UserID, &n.Username, &n.MethodID, &n.ChannelID, &n.ChannelSlug,
		&n.Kind, &n.Step, &n.State, &n.Attempts, &n.LastError, &next, &created, &sent, &n.FallbackOf, &n.BundledInto)
	if n.State == StatePending || n.State == StateTemporary {
		n.NextAttemptAt = fromMS(next)
	}
	n.CreatedAt, n.SentAt = fromMS(created), fromMS(sent)
	return n, err
}

// Ops are the paging actions people take, each in one transaction, waking
// the engine afterwards.
type Ops struct {
	DB      *store.DB
	Engine  *Engine // may be nil (no engine in this process); the NOTIFY trigger still wakes the leader on PostgreSQL
	Now     func() time.Time
	Changed func(ids ...int64)
}

func (o *Ops) now() time.Time {
	if o.Now != nil {
		return o.Now().UTC()
	}
	return time.Now().UTC()
}

func (o *Ops) done(id int64) {
	if o.Engine != nil {
		o.Engine.Wake()
	}
	if o.Changed != nil {
		o.Changed(id)
	}
}

// EscalateNow pages the incident's next step at once.
func (o *Ops) EscalateNow(ctx context.Context, actor incident.Actor, id int64) error {
	err := o.DB.Tx(ctx, func(tx *sql.Tx) error {
		inc, err := incident.GetTx(ctx, tx, id)
		if err != nil {
			return err
		}
		return EscalateNow(ctx, tx, inc, actor, o.now())
	})
	if err == nil {
		o.done(id)
	}
	return err
}

// Reassign pages targets for the incident now.
func (o *Ops) Reassign(ctx context.Context, actor incident.Actor, id int64, targets []escalation.Target) error {
	err := o.DB.Tx(ctx, func(tx *sql.Tx) error {
		inc, err := incident.GetTx(ctx, tx, id)
		if err != nil {
			return err
		}
		if inc.Status == incident.Resolved || inc.Status == incident.Closed {
			return &incident.RuleError{Field: "status", Msg: "the incident is resolved; reopen it first"}
		}
		e := &Engine{DB: o.DB}
		return Reassign(ctx, e, tx, inc, targets, actor, o.now())
	})
	if err == nil {
		o.done(id)
	}
	return err
}

// LinkResult is what a one-click link did.
type LinkResult struct {
	Action   string
	Incident incident.Incident
	Done     bool   // the action was taken now
	Already  string // set when nothing was needed: the incident's status
}

// Act takes the action of a verified link: acknowledge or resolve the
// incident as the person the link was sent to. The token is used up only
// when the action is taken; a link whose action is no longer needed (already
// acknowledged) says so and stays unused.
func (o *Ops) Act(ctx context.Context, signer *Signer, token string) (LinkResult, error) {
	now := o.now()
	c, err := signer.Verify(token, now)
	if err != nil {
		return LinkResult{Action: c.Action}, err
	}
	res := LinkResult{Action: c.Action}
	err = o.DB.Tx(ctx, func(tx *sql.Tx) error {
		inc, err := incident.GetTx(ctx, tx, c.IncidentID)
		if err != nil {
			return err
		}
		res.Incident = inc
		to := incident.Acknowledged
		if c.Action == ActionResolve {
			to = incident.Resolved
		}
		switch {
		case inc.Status == incident.Closed || inc.Status == incident.Resolved,
			to == incident.Acknowledged && inc.Status != incident.Triggered:
			res.Already = string(inc.Status)
			return nil
		}
		if err := UseToken(ctx, tx, c, now); err != nil {
			return err
		}
		actor := incident.Actor{Name: "one-click link"}
		if c.UserID != 0 {
			var name, display string
			if err := tx.QueryRowContext(ctx, `SELECT username, display_name FROM users WHERE id = $1`, c.UserID).Scan(&name, &display); err == nil {
				actor = incident.Actor{ID: c.UserID, Name: display}
				if display == "" {
					actor.Name = name
				}
			}
		}
		if err := incident.SetStatus(ctx, tx, &inc, to, actor, "via one-click link", now); err != nil {
			return err
		}
		res.Incident, res.Done = inc, true
		return nil
	})
	if err == nil && res.Done {
		o.done(c.IncidentID)
	}
	return res, err
}

// Peek verifies a link without acting: for the confirmation page.
func (o *Ops) Peek(ctx context.Context, signer *Signer, token string) (LinkClaims, incident.Incident, error) {
	c, err := signer.Verify(token, o.now())
	if err != nil {
		return c, incident.Incident{}, err
	}
	used, err := TokenUsed(ctx, o.DB.R, c)
	if err != nil {
		return c, incident.Incident{}, err
	}
	if used {
		return c, incident.Incident{}, ErrLinkUsed
	}
	inc, err := incident.GetTx(ctx, o.DB.R, c.IncidentID)
	return c, inc, err
}
