package incident

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/firebreak/firebreak/internal/store"
)

// Store reads and changes incidents.
type Store struct {
	DB  *store.DB
	Now func() time.Time
	// Changed, when set, is called after a commit that touched an incident.
	Changed func(ids ...int64)
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Store) changed(ids ...int64) {
	if s.Changed != nil {
		s.Changed(ids...)
	}
}

// Querier is what both *sql.DB and *sql.Tx offer.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Insert stores a new incident and fills in its ID.
func Insert(ctx context.Context, tx Querier, inc *Incident) error {
	err := tx.QueryRowContext(ctx, `INSERT INTO incidents
		(title, status, level, type, service_id, impact, source, plan_version_id, created_by, created_at, updated_at, acknowledged_at, resolved_at, closed_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id`,
		inc.Title, string(inc.Status), inc.Level, inc.Type, nullID(inc.ServiceID), inc.Impact, inc.Source, inc.PlanVersionID,
		nullID(inc.CreatedBy), ms(inc.CreatedAt), ms(inc.UpdatedAt), ms(inc.AcknowledgedAt), ms(inc.ResolvedAt), ms(inc.ClosedAt)).Scan(&inc.ID)
	if err != nil {
		return fmt.Errorf("insert incident: %w", err)
	}
	// The engine pages for it: escalation state starts now, in the same transaction.
	if _, err := tx.ExecContext(ctx, `INSERT INTO escalations (incident_id, level, next_at, updated_at) VALUES ($1, $2, $3, $3)`,
		inc.ID, inc.Level, ms(inc.CreatedAt)); err != nil {
		return fmt.Errorf("start escalation: %w", err)
	}
	return nil
}

// Reconsider asks the engine to look at an incident's escalation again at at
// (after an acknowledgement, a resolution, a level change, "escalate now").
func Reconsider(ctx context.Context, tx Querier, id int64, at time.Time) error {
	if _, err := tx.ExecContext(ctx, `UPDATE escalations SET next_at = $1, updated_at = $1 WHERE incident_id = $2`, ms(at), id); err != nil {
		return fmt.Errorf("reconsider escalation: %w", err)
	}
	return nil
}

// Append adds an entry to an incident's timeline and fills in its ID.
func Append(ctx context.Context, tx Querier, e *Entry) error {
	data := string(e.Data)
	if data == "" {
		data = "{}"
	}
	err := tx.QueryRowContext(ctx, `INSERT INTO timeline (incident_id, at, kind, actor_id, actor, body, data)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		e.IncidentID, ms(e.At), e.Kind, nullID(e.ActorID), e.Actor, e.Body, data).Scan(&e.ID)
	if err != nil {
		return fmt.Errorf("append timeline: %w", err)
	}
	return nil
}

// SetStatus moves an incident to a new status inside tx, stamping the times the
// lifecycle keeps, and records the change on the timeline.
func SetStatus(ctx context.Context, tx Querier, inc *Incident, to Status, actor Actor, note string, at time.Time) error {
	if err := CheckTransition(inc.Status, to); err != nil {
		return err
	}
	from := inc.Status
	inc.Status, inc.UpdatedAt = to, at
	if from == Triggered && inc.AcknowledgedAt.IsZero() {
		inc.AcknowledgedAt = at
	}
	switch to {
	case Resolved:
		inc.ResolvedAt = at
	case Closed:
		inc.ClosedAt = at
	default:
		inc.ResolvedAt = time.Time{} // reopened
	}
	_, err := tx.ExecContext(ctx, `UPDATE incidents SET status=$1, updated_at=$2, acknowledged_at=$3, resolved_at=$4, closed_at=$5 WHERE id=$6`,
		string(to), ms(at), ms(inc.AcknowledgedAt), ms(inc.ResolvedAt), ms(inc.ClosedAt), inc.ID)
	if err != nil {
		return fmt.Errorf("update incident status: %w", err)
	}
	if err := Reconsider(ctx, tx, inc.ID, at); err != nil {
		return err
	}
	data, _ := json.Marshal(map[string]string{"from": string(from), "to": string(to)})
	return Append(ctx, tx, &Entry{IncidentID: inc.ID, At: at, Kind: KindStatusChanged, ActorID: actor.ID, Actor: actor.Name, Body: note, Data: data})
}

// LatestPlanVersion returns the plan version now in force (0 before any plan).
func LatestPlanVersion(ctx context.Context, q Querier) (int64, error) {
	var v int64
	if err := q.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM plan_versions`).Scan(&v); err != nil {
		return 0, fmt.Errorf("read plan version: %w", err)
	}
	return v, nil
}

// LevelRank returns a level's position in the plan (0 is the worst), or -1 when unknown.
func LevelRank(ctx context.Context, q Querier, level string) (int, error) {
	var pos int
	err := q.QueryRowContext(ctx, `SELECT position FROM levels WHERE id=$1`, level).Scan(&pos)
	if errors.Is(err, sql.ErrNoRows) {
		return -1, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read level: %w", err)
	}
	return pos, nil
}

const selectIncident = `SELECT i.id, i.title, i.status, i.level, i.type, COALESCE(i.service_id, 0), COALESCE(s.name, ''), i.impact, i.source,
	i.plan_version_id, COALESCE(i.created_by, 0), i.created_at, i.updated_at, i.acknowledged_at, i.resolved_at, i.closed_at,
	(SELECT count(*) FROM alerts a WHERE a.incident_id = i.id)
	FROM incidents i LEFT JOIN services s ON s.id = i.service_id`

func scanIncident(row interface{ Scan(...any) error }) (Incident, error) {
	var inc Incident
	var status string
	var created, updated, acked, resolved, closed int64
	err := row.Scan(&inc.ID, &inc.Title, &status, &inc.Level, &inc.Type, &inc.ServiceID, &inc.ServiceName, &inc.Impact, &inc.Source,
		&inc.PlanVersionID, &inc.CreatedBy, &created, &updated, &acked, &resolved, &closed, &inc.AlertCount)
	inc.Status = Status(status)
	inc.CreatedAt, inc.UpdatedAt = fromMS(created), fromMS(updated)
	inc.AcknowledgedAt, inc.ResolvedAt, inc.ClosedAt = fromMS(acked), fromMS(resolved), fromMS(closed)
	return inc, err
}

// GetTx reads one incident inside a transaction.
func GetTx(ctx context.Context, q Querier, id int64) (Incident, error) {
	inc, err := scanIncident(q.QueryRowContext(ctx, selectIncident+` WHERE i.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Incident{}, ErrNotFound
	}
	if err != nil {
		return Incident{}, fmt.Errorf("read incident: %w", err)
	}
	return inc, nil
}

// Get reads one incident.
func (s *Store) Get(ctx context.Context, id int64) (Incident, error) {
	return GetTx(ctx, s.DB.R, id)
}

// Filter selects incidents for List. Zero values match everything.
type Filter struct {
	Statuses  []Status
	Open      bool // only triggered..monitoring
	Level     string
	ServiceID int64
	Limit     int    // default 50, at most 500
	Cursor    string // opaque, from a previous page
}

// List returns incidents newest first and the cursor of the next page ("" at the end).
func (s *Store) List(ctx context.Context, f Filter) ([]Incident, string, error) {
	var w store.Where
	if len(f.Statuses) > 0 {
		ph := make([]string, len(f.Statuses))
		for i, st := range f.Statuses {
			ph[i] = w.Arg(string(st))
		}
		w.And("i.status IN (" + strings.Join(ph, ",") + ")")
	}
	if f.Open {
		w.And("i.status NOT IN ('resolved','closed')")
	}
	if f.Level != "" {
		w.And("i.level = " + w.Arg(f.Level))
	}
	if f.ServiceID != 0 {
		w.And("i.service_id = " + w.Arg(f.ServiceID))
	}
	out, next, err := store.Page(ctx, s.DB.R, selectIncident, &w, "i.id", f.Cursor, f.Limit,
		func(r store.Scanner) (Incident, error) { return scanIncident(r) }, func(i Incident) int64 { return i.ID })
	if errors.Is(err, store.ErrBadCursor) {
		return nil, "", &RuleError{Field: "cursor", Msg: "invalid cursor"}
	}
	if err != nil {
		return nil, "", fmt.Errorf("incidents: %w", err)
	}
	return out, next, nil
}

// CountOpenByLevel returns how many incidents are open per level.
func (s *Store) CountOpenByLevel(ctx context.Context) (map[string]int, error) {
	rows, err := s.DB.R.QueryContext(ctx, `SELECT level, count(*) FROM incidents WHERE status NOT IN ('resolved','closed') GROUP BY level`)
	if err != nil {
		return nil, fmt.Errorf("count incidents: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var l string
		var n int
		if err := rows.Scan(&l, &n); err != nil {
			return nil, err
		}
		out[l] = n
	}
	return out, rows.Err()
}

// Timeline returns the entries after afterID (0 for all), oldest first.
func (s *Store) Timeline(ctx context.Context, id, afterID int64) ([]Entry, error) {
	rows, err := s.DB.R.QueryContext(ctx, `SELECT id, incident_id, at, kind, COALESCE(actor_id, 0), actor, body, data
		FROM timeline WHERE incident_id = $1 AND id > $2 ORDER BY id LIMIT 5000`, id, afterID)
	if err != nil {
		return nil, fmt.Errorf("read timeline: %w", err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var e Entry
		var at int64
		var data string
		if err := rows.Scan(&e.ID, &e.IncidentID, &at, &e.Kind, &e.ActorID, &e.Actor, &e.Body, &data); err != nil {
			return nil, fmt.Errorf("read timeline: %w", err)
		}
		e.At = fromMS(at)
		if data != "" && data != "{}" {
			e.Data = json.RawMessage(data)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// Declaration is a person's manual declaration of an incident.
type Declaration struct {
	Title     string `json:"title"`
	Type      string `json:"type"`
	Level     string `json:"level"`
	ServiceID int64  `json:"service_id"`
	Impact    string `json:"impact"`
}

func checkText(field, v string, maxLen int, required bool) error {
	switch {
	case required && strings.TrimSpace(v) == "":
		return &RuleError{Field: field, Msg: "is required"}
	case len(v) > maxLen:
		return &RuleError{Field: field, Msg: fmt.Sprintf("is longer than %d bytes", maxLen)}
	case !utf8.ValidString(v):
		return &RuleError{Field: field, Msg: "is not valid UTF-8"}
	}
	return nil
}

// Declare opens an incident by hand. The level defaults to the type's default level.
func (s *Store) Declare(ctx context.Context, actor Actor, d Declaration) (Incident, error) {
	d.Title, d.Impact = strings.TrimSpace(d.Title), strings.TrimSpace(d.Impact)
	if err := checkText("title", d.Title, 500, true); err != nil {
		return Incident{}, err
	}
	if err := checkText("impact", d.Impact, 10000, false); err != nil {
		return Incident{}, err
	}
	now := s.now()
	inc := Incident{Title: d.Title, Status: Triggered, Level: d.Level, Type: d.Type, ServiceID: d.ServiceID,
		Impact: d.Impact, Source: "manual", CreatedBy: actor.ID, CreatedAt: now, UpdatedAt: now}
	err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
		if d.Type != "" {
			var def string
			err := tx.QueryRowContext(ctx, `SELECT default_level FROM incident_types WHERE id=$1`, d.Type).Scan(&def)
			if errors.Is(err, sql.ErrNoRows) {
				return &RuleError{Field: "type", Msg: "unknown incident type " + strconv.Quote(d.Type)}
			}
			if err != nil {
				return fmt.Errorf("read type: %w", err)
			}
			if inc.Level == "" {
				inc.Level = def
			}
		}
		if inc.Level == "" {
			return &RuleError{Field: "level", Msg: "is required when the type has no default level"}
		}
		if rank, err := LevelRank(ctx, tx, inc.Level); err != nil {
			return err
		} else if rank < 0 {
			return &RuleError{Field: "level", Msg: "unknown level " + strconv.Quote(inc.Level)}
		}
		if d.ServiceID != 0 {
			var one int
			if err := tx.QueryRowContext(ctx, `SELECT 1 FROM services WHERE id=$1`, d.ServiceID).Scan(&one); errors.Is(err, sql.ErrNoRows) {
				return &RuleError{Field: "service_id", Msg: "unknown service"}
			} else if err != nil {
				return fmt.Errorf("read service: %w", err)
			}
		}
		v, err := LatestPlanVersion(ctx, tx)
		if err != nil {
			return err
		}
		inc.PlanVersionID = v
		if err := Insert(ctx, tx, &inc); err != nil {
			return err
		}
		data, _ := json.Marshal(map[string]any{"level": inc.Level, "type": inc.Type, "plan_version_id": v})
		return Append(ctx, tx, &Entry{IncidentID: inc.ID, At: now, Kind: KindDeclared, ActorID: actor.ID, Actor: actor.Name, Body: inc.Title, Data: data})
	})
	if err != nil {
		return Incident{}, err
	}
	s.changed(inc.ID)
	return s.Get(ctx, inc.ID)
}

// ChangeStatus moves an incident through its lifecycle. Resolving it also
// resolves its alerts, so the next signal with the same fingerprint opens anew.
func (s *Store) ChangeStatus(ctx context.Context, actor Actor, id int64, to Status, note string) (Incident, error) {
	if err := checkText("note", note, 10000, false); err != nil {
		return Incident{}, err
	}
	now := s.now()
	err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
		inc, err := GetTx(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := SetStatus(ctx, tx, &inc, to, actor, strings.TrimSpace(note), now); err != nil {
			return err
		}
		switch to {
		case Resolved:
			_, err = tx.ExecContext(ctx, `UPDATE alerts SET status='resolved', resolved_at=$1 WHERE incident_id=$2 AND status <> 'resolved'`, ms(now), id)
		case Acknowledged:
			_, err = tx.ExecContext(ctx, `UPDATE alerts SET status='acknowledged', acknowledged_at=$1 WHERE incident_id=$2 AND status = 'firing'`, ms(now), id)
		}
		if err != nil {
			return fmt.Errorf("update alerts: %w", err)
		}
		return nil
	})
	if err != nil {
		return Incident{}, err
	}
	s.changed(id)
	return s.Get(ctx, id)
}

// ChangeLevel regrades an incident.
func (s *Store) ChangeLevel(ctx context.Context, actor Actor, id int64, level, reason string) (Incident, error) {
	if err := checkText("reason", reason, 10000, false); err != nil {
		return Incident{}, err
	}
	now := s.now()
	err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
		inc, err := GetTx(ctx, tx, id)
		if err != nil {
			return err
		}
		if inc.Status == Closed {
			return errClosed
		}
		if rank, err := LevelRank(ctx, tx, level); err != nil {
			return err
		} else if rank < 0 {
			return &RuleError{Field: "level", Msg: "unknown level " + strconv.Quote(level)}
		}
		if inc.Level == level {
			return &RuleError{Field: "level", Msg: "incident already has this level"}
		}
		return SetLevel(ctx, tx, &inc, level, actor, strings.TrimSpace(reason), now)
	})
	if err != nil {
		return Incident{}, err
	}
	s.changed(id)
	return s.Get(ctx, id)
}

// SetLevel regrades an incident inside tx and records it on the timeline.
func SetLevel(ctx context.Context, tx Querier, inc *Incident, level string, actor Actor, reason string, at time.Time) error {
	from := inc.Level
	inc.Level, inc.UpdatedAt = level, at
	if _, err := tx.ExecContext(ctx, `UPDATE incidents SET level=$1, updated_at=$2 WHERE id=$3`, level, ms(at), inc.ID); err != nil {
		return fmt.Errorf("update level: %w", err)
	}
	if err := Reconsider(ctx, tx, inc.ID, at); err != nil {
		return err
	}
	data, _ := json.Marshal(map[string]string{"from": from, "to": level})
	return Append(ctx, tx, &Entry{IncidentID: inc.ID, At: at, Kind: KindLevelChanged, ActorID: actor.ID, Actor: actor.Name, Body: reason, Data: data})
}

// AddNote appends a person's note to the timeline.
func (s *Store) AddNote(ctx context.Context, actor Actor, id int64, text string) (Entry, error) {
	text = strings.TrimSpace(text)
	if err := checkText("text", text, 10000, true); err != nil {
		return Entry{}, err
	}
	e := Entry{IncidentID: id, At: s.now(), Kind: KindNote, ActorID: actor.ID, Actor: actor.Name, Body: text}
	err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
		var one int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM incidents WHERE id=$1`, id).Scan(&one); errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		} else if err != nil {
			return fmt.Errorf("read incident: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE incidents SET updated_at=$1 WHERE id=$2`, ms(e.At), id); err != nil {
			return fmt.Errorf("touch incident: %w", err)
		}
		return Append(ctx, tx, &e)
	})
	if err != nil {
		return Entry{}, err
	}
	s.changed(id)
	return e, nil
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// KindAckExpired records that an acknowledgement timed out and paging restarted.
const KindAckExpired = "ack_expired"

// AckExpired puts an acknowledged incident back to triggered when nobody
// resolved it within the escalation policy's acknowledgement timeout. It is
// the one way back to triggered; people cannot choose it (CheckTransition).
func AckExpired(ctx context.Context, tx Querier, inc *Incident, at time.Time) error {
	switch inc.Status {
	case Resolved, Closed, Triggered:
		return nil
	}
	from := inc.Status
	inc.Status, inc.UpdatedAt = Triggered, at
	if _, err := tx.ExecContext(ctx, `UPDATE incidents SET status=$1, updated_at=$2 WHERE id=$3`, string(Triggered), ms(at), inc.ID); err != nil {
		return fmt.Errorf("re-trigger incident: %w", err)
	}
	data, _ := json.Marshal(map[string]string{"from": string(from), "to": string(Triggered)})
	return Append(ctx, tx, &Entry{IncidentID: inc.ID, At: at, Kind: KindAckExpired, Data: data})
}
