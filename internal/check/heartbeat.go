package check

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/firebreak/firebreak/internal/alert"
)

// Ping kinds, as in healthchecks.io's URLs: /ping/{key} (success),
// /ping/{key}/start, /ping/{key}/fail, /ping/{key}/{exit-status}.
const (
	PingSuccess = "success"
	PingStart   = "start"
	PingFail    = "fail"
	PingExit    = "exit"
)

// MaxPingBody is how much of a ping's body is kept as the job's last log.
const MaxPingBody = 10 << 10

// PingResult is what a ping did.
type PingResult struct {
	Check    View
	Events   []alert.Event // alerts to raise or resolve (submit them to the alert writer)
	Duration time.Duration // start → this ping, when a start was recorded
}

// Ping records a heartbeat ping. A success (or exit status 0) moves the
// deadline on and resolves a late or failed heartbeat; a fail (or non-zero
// exit status) fails the check at once; a start records when the job began so
// the next ping measures how long it ran.
func (s *Store) Ping(ctx context.Context, key, kind string, exitStatus int, body, remote string) (PingResult, error) {
	now := s.now()
	var res PingResult
	if len(body) > MaxPingBody {
		body = body[:MaxPingBody]
	}
	err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
		v, err := ByPingKey(ctx, tx, key)
		if err != nil {
			return err
		}
		res = PingResult{Check: v}
		data := v.State.Data
		if kind != PingStart && !data.LastStart.IsZero() {
			res.Duration = now.Sub(data.LastStart)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO heartbeat_pings (check_id, at, kind, exit_status, duration_ms, body, remote)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, v.ID, ms(now), kind, exitStatus, roundMS(res.Duration), body, trim(remote, 200)); err != nil {
			return fmt.Errorf("store ping: %w", err)
		}
		if kind == PingStart {
			data.LastStart = now
			b, _ := json.Marshal(data)
			_, err := tx.ExecContext(ctx, `UPDATE check_state SET data = $1 WHERE check_id = $2`, string(b), v.ID)
			return err
		}
		ok := kind == PingSuccess || (kind == PingExit && exitStatus == 0)
		msg := "ping received"
		switch {
		case kind == PingFail:
			msg = "the job reported a failure"
		case kind == PingExit && exitStatus != 0:
			msg = fmt.Sprintf("the job exited with status %d", exitStatus)
		}
		if res.Duration > 0 {
			msg += fmt.Sprintf(" (ran %s)", res.Duration.Round(time.Millisecond))
		}
		data.LastPing, data.LastStart = now, time.Time{}
		data.LastBody = trim(body, 1000)
		if !ok {
			if err := ensureService(ctx, tx, &v, now); err != nil {
				return err
			}
			res.Check = v
		}
		d, changed := Damp(Damped{Status: v.State.Status, OK: v.State.OK, Bad: v.State.Bad}, ok, 1, v.RecoverAfter)
		switch {
		case changed && d.Status == StatusDown:
			res.Events = append(res.Events, v.event(true, "check:"+v.Slug, msg))
		case changed && d.Status == StatusUp && v.State.Status == StatusDown:
			res.Events = append(res.Events, v.event(false, "check:"+v.Slug, "recovered: "+msg))
		}
		var hb HeartbeatSpec
		_ = json.Unmarshal(v.Spec, &hb)
		next := hb.Deadline(now)
		if err := writeResult(ctx, tx, v.ID, now, ok, res.Duration, msg); err != nil {
			return err
		}
		changedAt := ms(v.State.ChangedAt)
		if changed {
			changedAt = ms(now)
		}
		lastOK := ms(v.State.LastOKAt)
		if ok {
			lastOK = ms(now)
		}
		b, _ := json.Marshal(data)
		_, err = tx.ExecContext(ctx, `UPDATE check_state SET status=$1, consecutive_ok=$2, consecutive_bad=$3, last_run_at=$4, last_ok_at=$5,
			last_message=$6, last_latency_ms=$7, changed_at=$8, data=$9, next_run_at=$10 WHERE check_id=$11`,
			d.Status, d.OK, d.Bad, ms(now), lastOK, msg, roundMS(res.Duration), changedAt, string(b), ms(next), v.ID)
		return err
	})
	return res, err
}

// Ping is one stored heartbeat ping.
type Ping struct {
	At         time.Time `json:"at"`
	Kind       string    `json:"kind"`
	ExitStatus int       `json:"exit_status"`
	Duration   Duration  `json:"duration"`
	Body       string    `json:"body"`
	Remote     string    `json:"remote"`
}

// Pings returns a heartbeat's newest pings.
func (s *Store) Pings(ctx context.Context, id int64, limit int) ([]Ping, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	rows, err := s.DB.R.QueryContext(ctx, `SELECT at, kind, exit_status, duration_ms, body, remote FROM heartbeat_pings
		WHERE check_id = $1 ORDER BY at DESC, id DESC LIMIT $2`, id, limit)
	if err != nil {
		return nil, fmt.Errorf("pings: %w", err)
	}
	defer rows.Close()
	out := []Ping{}
	for rows.Next() {
		var p Ping
		var at, dur int64
		if err := rows.Scan(&at, &p.Kind, &p.ExitStatus, &dur, &p.Body, &p.Remote); err != nil {
			return nil, err
		}
		p.At, p.Duration = fromMS(at), Duration(time.Duration(dur)*time.Millisecond)
		out = append(out, p)
	}
	return out, rows.Err()
}
