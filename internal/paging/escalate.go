package paging

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/firebreak/firebreak/internal/contact"
	"github.com/firebreak/firebreak/internal/escalation"
	"github.com/firebreak/firebreak/internal/incident"
	"github.com/firebreak/firebreak/internal/oncall"
)

// Timeline kinds written by the engine.
const (
	KindEscalated    = "escalated"    // a step paged its targets
	KindNotification = "notification" // one delivery attempt
	KindPolicy       = "escalation_policy"
	KindEscalateNow  = "escalate_now" // someone asked for the next step now
)

// saved is the escalation state stored per incident.
type saved struct {
	Started     bool             `json:"started"`
	State       escalation.State `json:"state"`
	EscalateNow bool             `json:"escalate_now,omitempty"`
	Manual      int              `json:"manual,omitempty"` // manual pages so far (reassign)
}

const dueBatch = 200

func (e *Engine) escalateDue(ctx context.Context, now time.Time) error {
	for {
		rows, err := e.DB.R.QueryContext(ctx, `SELECT incident_id FROM escalations WHERE next_at > 0 AND next_at <= $1 ORDER BY next_at LIMIT $2`, ms(now), dueBatch)
		if err != nil {
			return fmt.Errorf("due escalations: %w", err)
		}
		var ids []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		rows.Close()
		for _, id := range ids {
			var touched bool
			err := e.DB.Tx(ctx, func(tx *sql.Tx) error {
				var err error
				touched, err = e.escalate(ctx, tx, id, now)
				return err
			})
			if err != nil {
				return fmt.Errorf("escalate incident %d: %w", id, err)
			}
			if touched {
				e.changed(id)
			}
		}
		if len(ids) < dueBatch {
			return nil
		}
	}
}

// escalate advances one incident's escalation inside tx.
func (e *Engine) escalate(ctx context.Context, tx *sql.Tx, id int64, now time.Time) (touched bool, err error) {
	var policyID, nextAt int64
	var level, raw string
	err = tx.QueryRowContext(ctx, `SELECT policy_id, level, state, next_at FROM escalations WHERE incident_id = $1`, id).Scan(&policyID, &level, &raw, &nextAt)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if nextAt == 0 || nextAt > ms(now) {
		return false, nil // another pass handled it
	}
	inc, err := incident.GetTx(ctx, tx, id)
	if err != nil {
		return false, err
	}
	var sv saved
	_ = json.Unmarshal([]byte(raw), &sv)

	var pol escalation.Record
	switch {
	case !sv.Started:
		sv.Started = true
		sv.State = escalation.State{TriggeredAt: inc.CreatedAt}
		pol, err = e.policyFor(ctx, tx, inc)
		policyID, level = pol.ID, inc.Level
	case inc.Level != level:
		pol, err = e.policyFor(ctx, tx, inc)
		if err == nil && pol.ID != policyID {
			// A new level with another policy: a new round under it, with
			// cycle numbers moving on so page keys stay unique.
			c := sv.State.Cycle + 1
			sv.State = escalation.State{TriggeredAt: now, CycleStart: now, Cycle: c, RoundCycle: c,
				Acknowledged: sv.State.Acknowledged, AckedAt: sv.State.AckedAt}
			data, _ := json.Marshal(map[string]string{"policy": pol.Slug, "level": inc.Level})
			if err := incident.Append(ctx, tx, &incident.Entry{IncidentID: id, At: now, Kind: KindPolicy, Data: data}); err != nil {
				return false, err
			}
			touched = true
		}
		policyID, level = pol.ID, inc.Level
	default:
		if policyID != 0 {
			pol, err = escalation.ByID(ctx, tx, policyID)
			if errors.Is(err, escalation.ErrNotFound) {
				pol, err = e.policyFor(ctx, tx, inc)
				policyID = pol.ID
			}
		}
	}
	if err != nil && !errors.Is(err, escalation.ErrNotFound) {
		return false, err
	}

	st := sv.State
	st.AckTimeout = time.Duration(pol.AckTimeout)
	st.Resolved = inc.Status == incident.Resolved || inc.Status == incident.Closed
	acked := !st.Resolved && inc.Status != incident.Triggered
	if acked && !st.Acknowledged {
		st.AckedAt = now
	}
	st.Acknowledged = acked

	var pages []escalation.Page
	var wake time.Time
	p := pol.Policy()
	if sv.EscalateNow {
		sv.EscalateNow = false
		pages, st, wake = escalation.EscalateNow(p, st, now)
	} else {
		wasAcked := st.Acknowledged
		pages, st, wake = escalation.Decide(p, st, now)
		if wasAcked && !st.Acknowledged && !st.Resolved {
			if err := incident.AckExpired(ctx, tx, &inc, now); err != nil {
				return false, err
			}
			touched = true
		}
	}
	sv.State = st
	for _, pg := range pages {
		label := fmt.Sprintf("step %d, cycle %d", pg.Step+1, pg.Cycle+1)
		if err := e.page(ctx, tx, inc, pg.Targets, pg.Key, label, now, nil); err != nil {
			return false, err
		}
		touched = true
	}
	b, _ := json.Marshal(sv)
	_, err = tx.ExecContext(ctx, `UPDATE escalations SET policy_id = $1, level = $2, state = $3, next_at = $4, updated_at = $5 WHERE incident_id = $6`,
		policyID, level, string(b), ms(wake), ms(now), id)
	return touched, err
}

// policyFor picks an incident's policy: its service's when set, else the
// plan's policy for its level. ErrNotFound: nobody is paged at this level.
func (e *Engine) policyFor(ctx context.Context, tx *sql.Tx, inc incident.Incident) (escalation.Record, error) {
	if inc.ServiceID != 0 {
		var pid sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT escalation_policy_id FROM services WHERE id = $1`, inc.ServiceID).Scan(&pid); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return escalation.Record{}, err
		}
		if pid.Valid {
			r, err := escalation.ByID(ctx, tx, pid.Int64)
			if !errors.Is(err, escalation.ErrNotFound) {
				return r, err
			}
		}
	}
	return escalation.BySlug(ctx, tx, escalation.PlanSlug(inc.Level))
}

// pageData is the timeline record of one step.
type pageData struct {
	Key      string   `json:"key"` // c{cycle}s{step}, or m{n} for a manual page
	Step     string   `json:"step"`
	Targets  []string `json:"targets"`
	Users    []string `json:"users,omitempty"`
	Channels []string `json:"channels,omitempty"`
	Problems []string `json:"problems,omitempty"`
}

// page resolves targets to people and channels at now and writes one
// notification per (person, rule) and per channel, keyed for idempotency by
// incident, step key, person and method.
func (e *Engine) page(ctx context.Context, tx *sql.Tx, inc incident.Incident, targets []escalation.Target, key, label string, now time.Time, actor *incident.Actor) error {
	var users []int64
	var chans []contact.Chan
	seenU, seenC := map[int64]bool{}, map[int64]bool{}
	d := pageData{Key: key, Step: label}
	addUser := func(id int64) {
		if !seenU[id] {
			seenU[id] = true
			users = append(users, id)
		}
	}
	for _, t := range targets {
		d.Targets = append(d.Targets, t.String())
		switch t.Kind {
		case escalation.KindUser:
			var uid int64
			err := tx.QueryRowContext(ctx, `SELECT id FROM users WHERE username = $1 AND NOT disabled`, t.ID).Scan(&uid)
			if errors.Is(err, sql.ErrNoRows) {
				d.Problems = append(d.Problems, fmt.Sprintf("no active user %q", t.ID))
				continue
			}
			if err != nil {
				return err
			}
			addUser(uid)
		case escalation.KindSchedule:
			s, err := oncall.LoadBySlug(ctx, tx, t.ID)
			if err != nil {
				d.Problems = append(d.Problems, fmt.Sprintf("schedule %q: %v", t.ID, err))
				continue
			}
			on := s.OnCallAt(now)
			if len(on) == 0 {
				d.Problems = append(d.Problems, fmt.Sprintf("nobody is on call in schedule %q", t.ID))
			}
			for _, u := range on {
				if id, err := strconv.ParseInt(u, 10, 64); err == nil {
					addUser(id)
				}
			}
		case escalation.KindTeam:
			ids, err := oncall.TeamMemberIDs(ctx, tx, t.ID)
			if err != nil {
				d.Problems = append(d.Problems, fmt.Sprintf("team %q: %v", t.ID, err))
				continue
			}
			if len(ids) == 0 {
				d.Problems = append(d.Problems, fmt.Sprintf("team %q has no members", t.ID))
			}
			for _, id := range ids {
				addUser(id)
			}
		case escalation.KindChannel, escalation.KindContact:
			c, err := e.contacts().ChannelBySlug(ctx, tx, t.ID)
			if err != nil {
				d.Problems = append(d.Problems, fmt.Sprintf("channel %q: %v", t.ID, err))
				continue
			}
			if !seenC[c.ID] {
				seenC[c.ID] = true
				chans = append(chans, c)
			}
		}
	}
	for _, uid := range users {
		var name string
		if err := tx.QueryRowContext(ctx, `SELECT username FROM users WHERE id = $1`, uid).Scan(&name); err != nil {
			return err
		}
		d.Users = append(d.Users, name)
		rules, err := e.contacts().RulesFor(ctx, tx, uid, inc.Level)
		if err != nil {
			return err
		}
		if len(rules) == 0 {
			// No rule for this level: the person's first verified method, at once.
			methods, err := e.contacts().MethodsFor(ctx, tx, uid)
			if err != nil {
				return err
			}
			if len(methods) == 0 {
				d.Problems = append(d.Problems, fmt.Sprintf("%s has no verified contact method", name))
				continue
			}
			rules = []contact.RuleTarget{{Method: methods[0]}}
		}
		for _, r := range rules {
			k := fmt.Sprintf("i%d:%s:u%d:m%d", inc.ID, key, uid, r.Method.ID)
			if err := insertNotification(ctx, tx, k, inc.ID, uid, r.Method.ID, 0, r.Method.Kind, key, now.Add(r.Delay), now, 0); err != nil {
				return err
			}
		}
	}
	for _, c := range chans {
		d.Channels = append(d.Channels, c.Slug)
		k := fmt.Sprintf("i%d:%s:ch%d", inc.ID, key, c.ID)
		if err := insertNotification(ctx, tx, k, inc.ID, 0, 0, c.ID, c.Kind, key, now, now, 0); err != nil {
			return err
		}
	}
	data, _ := json.Marshal(d)
	en := &incident.Entry{IncidentID: inc.ID, At: now, Kind: KindEscalated, Body: strings.Join(d.Problems, "; "), Data: data}
	if actor != nil {
		en.ActorID, en.Actor = actor.ID, actor.Name
	}
	return incident.Append(ctx, tx, en)
}

func insertNotification(ctx context.Context, tx *sql.Tx, key string, incidentID, userID, methodID, channelID int64, kind, stepKey string, due, now time.Time, fallbackOf int64) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO notifications
		(idem_key, incident_id, user_id, contact_method_id, channel_id, kind, step_key, state, next_attempt_at, created_at, fallback_of)
		VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $9, $10) ON CONFLICT (idem_key) DO NOTHING`,
		key, incidentID, nullID(userID), nullID(methodID), nullID(channelID), kind, stepKey, ms(due), ms(now), nullID(fallbackOf))
	if err != nil {
		return fmt.Errorf("queue notification: %w", err)
	}
	return nil
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// EscalateNow pages an incident's next step at once (the engine does it as
// soon as it wakes) and clears an acknowledgement.
func EscalateNow(ctx context.Context, tx *sql.Tx, inc incident.Incident, actor incident.Actor, now time.Time) error {
	if inc.Status == incident.Resolved || inc.Status == incident.Closed {
		return &incident.RuleError{Field: "status", Msg: "the incident is resolved; reopen it first"}
	}
	var raw string
	err := tx.QueryRowContext(ctx, `SELECT state FROM escalations WHERE incident_id = $1`, inc.ID).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		if _, err := tx.ExecContext(ctx, `INSERT INTO escalations (incident_id, level, next_at, updated_at) VALUES ($1, $2, $3, $3)`, inc.ID, inc.Level, ms(now)); err != nil {
			return err
		}
		raw = "{}"
	} else if err != nil {
		return err
	}
	var sv saved
	_ = json.Unmarshal([]byte(raw), &sv)
	if sv.Started {
		sv.EscalateNow = true
	}
	b, _ := json.Marshal(sv)
	if _, err := tx.ExecContext(ctx, `UPDATE escalations SET state = $1, next_at = $2, updated_at = $2 WHERE incident_id = $3`, string(b), ms(now), inc.ID); err != nil {
		return err
	}
	return incident.Append(ctx, tx, &incident.Entry{IncidentID: inc.ID, At: now, Kind: KindEscalateNow, ActorID: actor.ID, Actor: actor.Name})
}

// Reassign pages the given targets now for an incident, outside its policy
// (the escalation goes on unless someone acknowledges).
func Reassign(ctx context.Context, e *Engine, tx *sql.Tx, inc incident.Incident, targets []escalation.Target, actor incident.Actor, now time.Time) error {
	if len(targets) == 0 {
		return &incident.RuleError{Field: "targets", Msg: "name at least one user, schedule, team or channel"}
	}
	for i, t := range targets {
		ok, err := escalation.TargetExists(ctx, tx, t)
		if err != nil {
			return err
		}
		if !ok {
			return &incident.RuleError{Field: fmt.Sprintf("targets[%d]", i), Msg: fmt.Sprintf("no %s %q", t.Kind, t.ID)}
		}
	}
	raw := "{}"
	err := tx.QueryRowContext(ctx, `SELECT state FROM escalations WHERE incident_id = $1`, inc.ID).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		if _, err := tx.ExecContext(ctx, `INSERT INTO escalations (incident_id, level, next_at, updated_at) VALUES ($1, $2, 0, $3)`, inc.ID, inc.Level, ms(now)); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	var sv saved
	_ = json.Unmarshal([]byte(raw), &sv)
	sv.Manual++
	b, _ := json.Marshal(sv)
	if _, err := tx.ExecContext(ctx, `UPDATE escalations SET state = $1, updated_at = $2 WHERE incident_id = $3`, string(b), ms(now), inc.ID); err != nil {
		return err
	}
	key := fmt.Sprintf("m%d", sv.Manual)
	return e.page(ctx, tx, inc, targets, key, "reassigned", now, &actor)
}
