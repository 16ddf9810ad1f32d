package check

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/firebreak/firebreak/internal/alert"
	"github.com/firebreak/firebreak/internal/check/probe"
	"github.com/firebreak/firebreak/internal/check/promql"
)

// Scheduler runs due checks in the engine leader. Runs go to a pool of
// workers; their results are written in one transaction per batch (results,
// daily roll-up, state, next run), after the alerts their status changes
// raise are stored by the alert writer.
type Scheduler struct {
	DB interface {
		Tx(ctx context.Context, fn func(tx *sql.Tx) error) error
	}
	R       Querier // reads (the store's read pool)
	Alerts  Submitter
	Now     func() time.Time
	Log     *slog.Logger
	Client  *http.Client // for prometheus queries; nil: a default one
	Workers int          // concurrent runs (default 256)
	// Keep is how long raw results are kept (default 7 days); the daily
	// roll-up is kept for 400 days.
	Keep time.Duration

	once   sync.Once
	wake   chan struct{}
	last   time.Time   // last prune
	spread atomic.Bool // the next pass spreads checks that fell overdue while no scheduler ran
}

// Restarted makes the next pass spread the checks that became overdue while
// no scheduler ran (firebreak stopped, or leadership moved) over their
// interval instead of running them all at once. Run calls it when it starts.
func (s *Scheduler) Restarted() { s.spread.Store(true) }

// Submitter stores alert events (alert.Writer).
type Submitter interface {
	Submit(ctx context.Context, events []alert.Event) ([]alert.Result, error)
}

func (s *Scheduler) init() {
	s.once.Do(func() {
		s.wake = make(chan struct{}, 1)
		if s.Workers <= 0 {
			s.Workers = 256
		}
		if s.Log == nil {
			s.Log = slog.New(slog.DiscardHandler)
		}
		if s.Keep <= 0 {
			s.Keep = 7 * 24 * time.Hour
		}
		if s.Client == nil {
			s.Client = &http.Client{Timeout: time.Minute}
		}
	})
}

func (s *Scheduler) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// Wake makes the scheduler look at its checks again (one was added or changed).
func (s *Scheduler) Wake() {
	s.init()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run schedules checks until ctx ends.
func (s *Scheduler) Run(ctx context.Context) error {
	s.init()
	s.Restarted()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.wake:
		case <-timer.C:
		}
		next, err := s.RunDue(ctx)
		if err != nil && ctx.Err() == nil {
			s.Log.Error("checks", "err", err)
			next = s.now().Add(5 * time.Second)
		}
		if s.now().Sub(s.last) > time.Hour {
			if err := s.Prune(ctx); err != nil && ctx.Err() == nil {
				s.Log.Error("prune check results", "err", err)
			}
			s.last = s.now()
		}
		d := time.Minute
		if !next.IsZero() {
			d = min(max(next.Sub(s.now()), 10*time.Millisecond), time.Minute)
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(d)
	}
}

// run is one claimed check.
type run struct {
	View
	out outcome
}

// outcome is what one run found.
type outcome struct {
	ok      bool
	latency time.Duration
	message string
	data    stateData
	events  []alert.Event // series alerts (prometheus)
	next    time.Time     // when to run again (zero: now + interval)
}

const claimLimit = 2000

// RunDue runs every check due now and waits for them; it returns when the
// next check is due (zero: none).
func (s *Scheduler) RunDue(ctx context.Context) (time.Time, error) {
	s.init()
	for {
		now := s.now()
		runs, err := s.claim(ctx, now)
		if err != nil {
			return time.Time{}, err
		}
		if len(runs) > 0 {
			s.execute(ctx, runs, now)
			if err := s.record(ctx, runs); err != nil {
				return time.Time{}, err
			}
		}
		if len(runs) < claimLimit {
			break
		}
	}
	s.spread.Store(false)
	var next sql.NullInt64
	if err := s.R.QueryRowContext(ctx, `SELECT MIN(st.next_run_at) FROM check_state st JOIN checks c ON c.id = st.check_id
		WHERE NOT c.paused AND c.kind <> 'log'`).Scan(&next); err != nil {
		return time.Time{}, fmt.Errorf("next check: %w", err)
	}
	if !next.Valid {
		return time.Time{}, nil
	}
	return fromMS(next.Int64), nil
}

// claim takes the due checks and moves their next run on. Right after a
// restart, a check overdue by more than a tenth of its interval is not run
// at once but spread over its interval, so a restart makes no burst.
func (s *Scheduler) claim(ctx context.Context, now time.Time) ([]*run, error) {
	var runs []*run
	err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
		runs = runs[:0]
		vs, err := list(ctx, tx, `st.next_run_at <= $1 AND NOT c.paused AND c.kind <> 'log' ORDER BY st.next_run_at LIMIT $2`, ms(now), claimLimit)
		if err != nil {
			return err
		}
		for _, v := range vs {
			interval := time.Duration(v.Interval)
			late := now.Sub(v.State.NextRunAt)
			if s.spread.Load() && v.Kind != KindHeartbeat && late > max(5*time.Second, interval/10) && !v.State.LastRunAt.IsZero() {
				at := now.Add(spread(v.ID, interval))
				if _, err := tx.ExecContext(ctx, `UPDATE check_state SET next_run_at = $1 WHERE check_id = $2`, ms(at), v.ID); err != nil {
					return err
				}
				continue
			}
			// Claimed: if this leader dies mid-run the check runs again one interval later.
			if _, err := tx.ExecContext(ctx, `UPDATE check_state SET next_run_at = $1 WHERE check_id = $2`, ms(now.Add(interval)), v.ID); err != nil {
				return err
			}
			runs = append(runs, &run{View: v})
		}
		return nil
	})
	return runs, err
}

// execute runs checks on the worker pool and waits for all of them.
func (s *Scheduler) execute(ctx context.Context, runs []*run, now time.Time) {
	sem := make(chan struct{}, s.Workers)
	var wg sync.WaitGroup
	for _, r := range runs {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			r.out = s.runOne(ctx, r.View, now)
		}()
	}
	wg.Wait()
}

// runOne runs one check; a check that cannot run is a failing run.
func (s *Scheduler) runOne(ctx context.Context, v View, now time.Time) outcome {
	out := outcome{data: v.State.Data}
	spec, err := v.parsed()
	if err != nil {
		out.message = "invalid settings: " + err.Error()
		return out
	}
	timeout := time.Duration(v.Timeout)
	rctx, cancel := context.WithTimeout(ctx, timeout+time.Second)
	defer cancel()
	var res probe.Result
	switch sp := spec.(type) {
	case *probe.HTTP:
		res = sp.Run(rctx)
	case *probe.TCP:
		res = sp.Run(rctx)
	case *probe.DNS:
		res = sp.Run(rctx)
	case *probe.TLS:
		res = sp.Run(rctx)
	case *promql.Config:
		return s.runPrometheus(rctx, v, sp, now)
	case *HeartbeatSpec:
		return runHeartbeat(v, sp, now)
	case *RestoreSpec:
		return s.runRestore(rctx, sp, now)
	default:
		out.message = "this kind is not scheduled"
		return out
	}
	out.ok, out.latency, out.message = res.OK, res.Latency, res.Message
	return out
}

func (s *Scheduler) runPrometheus(ctx context.Context, v View, c *promql.Config, now time.Time) outcome {
	out := outcome{data: v.State.Data}
	t0 := time.Now()
	samples, err := promql.Query(ctx, s.Client, *c, now)
	out.latency = time.Since(t0)
	if err != nil {
		out.message = "query failed: " + err.Error()
		return out
	}
	st := promql.State{}
	if out.data.Prom != nil {
		st = *out.data.Prom
	}
	st, changes := promql.Evaluate(*c, st, samples, now)
	out.data.Prom = &st
	for _, ch := range changes {
		ev := v.event(ch.Firing, "check:"+v.Slug+":"+ch.Fingerprint, ch.Summary)
		for k, val := range ch.Labels {
			ev.Labels[k] = val
		}
		out.events = append(out.events, ev)
	}
	firing := 0
	for _, f := range st.Firing {
		if f {
			firing++
		}
	}
	out.ok = true // the query ran; the series are the alerts
	out.message = fmt.Sprintf("%d series, %d above the threshold", len(samples), firing)
	if c.Below != nil {
		out.message = fmt.Sprintf("%d series, %d below the threshold", len(samples), firing)
	}
	return out
}

// runHeartbeat decides at a heartbeat's deadline whether it is late.
func runHeartbeat(v View, sp *HeartbeatSpec, now time.Time) outcome {
	out := outcome{data: v.State.Data}
	since := v.State.Data.LastPing
	if since.IsZero() {
		since = v.CreatedAt
	}
	deadline := sp.Deadline(since)
	if deadline.IsZero() {
		out.message = "the schedule never fires"
		out.next = now.Add(24 * time.Hour)
		return out
	}
	if now.Before(deadline) {
		out.ok, out.next = true, deadline
		out.message = "waiting for the next ping by " + deadline.Format(time.RFC3339)
		return out
	}
	if v.State.Data.LastPing.IsZero() {
		out.message = "late: no ping yet, expected by " + deadline.Format(time.RFC3339)
	} else {
		out.message = fmt.Sprintf("late: last ping %s, expected by %s", v.State.Data.LastPing.Format(time.RFC3339), deadline.Format(time.RFC3339))
	}
	// Look again at the next deadline after now (a ping moves it earlier).
	out.next = sp.Deadline(now)
	return out
}

func (s *Scheduler) runRestore(ctx context.Context, sp *RestoreSpec, now time.Time) outcome {
	var last sql.NullInt64
	if err := s.R.QueryRowContext(ctx, `SELECT MAX(tested_at) FROM restore_tests WHERE resource = $1 AND ok`, sp.Resource).Scan(&last); err != nil {
		return outcome{message: "read restore tests: " + err.Error()}
	}
	every := time.Duration(sp.Every)
	if !last.Valid {
		return outcome{message: fmt.Sprintf("no successful restore test of %s recorded (required every %s)", sp.Resource, every)}
	}
	at := fromMS(last.Int64)
	if now.Sub(at) > every {
		return outcome{message: fmt.Sprintf("restore test of %s overdue: last one %s ago (%s), required every %s",
			sp.Resource, now.Sub(at).Round(time.Hour), at.Format(time.DateOnly), every)}
	}
	return outcome{ok: true, message: fmt.Sprintf("last restore test %s", at.Format(time.DateOnly)), next: at.Add(every).Add(time.Minute)}
}

// event is an alert event of this check.
func (v View) event(firing bool, fingerprint, summary string) alert.Event {
	labels := map[string]string{"check": v.Slug, "check_kind": v.Kind}
	for k, val := range v.Labels {
		labels[k] = val
	}
	action := alert.Trigger
	if !firing {
		action = alert.Resolve
	}
	name := v.Name
	if name == "" {
		name = v.Slug
	}
	return alert.Event{ServiceID: v.ServiceID, Source: alert.SourceCheck, Action: action, Fingerprint: fingerprint,
		Summary: name + ": " + summary, Severity: alert.Error, Labels: labels, Level: v.Level, Type: v.Type}
}

// record stores a batch of runs: first the alerts their status changes
// raise (durable in the alert writer), then results, roll-ups and state.
func (s *Scheduler) record(ctx context.Context, runs []*run) error {
	// Checks that will raise an alert and have no service get theirs first.
	for _, r := range runs {
		if r.ServiceID == 0 && (len(r.out.events) > 0 || !r.out.ok) {
			err := s.DB.Tx(ctx, func(tx *sql.Tx) error { return ensureService(ctx, tx, &r.View, s.now()) })
			if err != nil {
				return err
			}
			for i := range r.out.events {
				r.out.events[i].ServiceID = r.ServiceID
			}
		}
	}
	var events []alert.Event
	type change struct {
		d       Damped
		changed bool
	}
	changes := make([]change, len(runs))
	for i, r := range runs {
		d, changed := Damp(Damped{Status: r.State.Status, OK: r.State.OK, Bad: r.State.Bad}, r.out.ok, r.FailAfter, r.RecoverAfter)
		changes[i] = change{d, changed}
		events = append(events, r.out.events...)
		switch {
		case changed && d.Status == StatusDown:
			events = append(events, r.event(true, "check:"+r.Slug, r.out.message))
		case changed && d.Status == StatusUp && r.State.Status == StatusDown:
			events = append(events, r.event(false, "check:"+r.Slug, "recovered: "+r.out.message))
		}
	}
	if len(events) > 0 && s.Alerts != nil {
		if _, err := s.Alerts.Submit(ctx, events); err != nil {
			return fmt.Errorf("raise check alerts: %w", err)
		}
	}
	return s.DB.Tx(ctx, func(tx *sql.Tx) error {
		for i, r := range runs {
			now := s.now()
			if err := writeResult(ctx, tx, r.ID, now, r.out.ok, r.out.latency, r.out.message); err != nil {
				return err
			}
			d := changes[i].d
			changedAt := ms(r.State.ChangedAt)
			if changes[i].changed {
				changedAt = ms(now)
			}
			lastOK := ms(r.State.LastOKAt)
			if r.out.ok {
				lastOK = ms(now)
			}
			data, _ := json.Marshal(r.out.data)
			q := `UPDATE check_state SET status=$1, consecutive_ok=$2, consecutive_bad=$3, last_run_at=$4, last_ok_at=$5, last_message=$6,
				last_latency_ms=$7, changed_at=$8, data=$9 WHERE check_id=$10`
			args := []any{d.Status, d.OK, d.Bad, ms(now), lastOK, trim(r.out.message, 1000), roundMS(r.out.latency), changedAt, string(data), r.ID}
			if !r.out.next.IsZero() {
				q = strings.Replace(q, "data=$9", "data=$9, next_run_at=$11", 1)
				args = append(args, ms(r.out.next))
			}
			if _, err := tx.ExecContext(ctx, q, args...); err != nil {
				return fmt.Errorf("update check state: %w", err)
			}
		}
		return nil
	})
}

// writeResult stores one run and adds it to the day's roll-up.
func writeResult(ctx context.Context, tx *sql.Tx, id int64, at time.Time, ok bool, latency time.Duration, msg string) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO check_results (check_id, at, ok, latency_ms, message) VALUES ($1, $2, $3, $4, $5)`,
		id, ms(at), ok, roundMS(latency), trim(msg, 1000)); err != nil {
		return fmt.Errorf("store check result: %w", err)
	}
	fail := 0
	if !ok {
		fail = 1
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO check_daily (check_id, day, runs, failures, latency_sum_ms, latency_max_ms) VALUES ($1, $2, 1, $3, $4, $4)
		ON CONFLICT (check_id, day) DO UPDATE SET runs = check_daily.runs + 1, failures = check_daily.failures + excluded.failures,
		latency_sum_ms = check_daily.latency_sum_ms + excluded.latency_sum_ms,
		latency_max_ms = CASE WHEN excluded.latency_max_ms > check_daily.latency_max_ms THEN excluded.latency_max_ms ELSE check_daily.latency_max_ms END`,
		id, at.UTC().Format(time.DateOnly), fail, roundMS(latency)); err != nil {
		return fmt.Errorf("store check roll-up: %w", err)
	}
	return nil
}

// roundMS stores a latency in whole milliseconds, rounding up, so a fast
// answer (350µs) is 1 ms rather than 0.
func roundMS(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64((d + time.Millisecond - 1) / time.Millisecond)
}

func trim(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// Prune deletes raw results older than Keep and roll-ups older than 400
// days: the per-day uptime outlives the raw results it summarises.
func (s *Scheduler) Prune(ctx context.Context) error {
	s.init()
	now := s.now()
	return s.DB.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM check_results WHERE at < $1`, ms(now.Add(-s.Keep))); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM check_daily WHERE day < $1`, now.AddDate(0, 0, -400).Format(time.DateOnly))
		return err
	})
}
