// Package paging is firebreak's engine: it escalates incidents through their
// escalation policies, turns each step into notification rows (the outbox)
// written in the same transaction as the step, and delivers them with
// retries, throttles, bundling and fallback to the person's next contact
// method. Every attempt lands on the incident's timeline.
//
// One engine leads per cluster: on PostgreSQL the replica holding a session
// advisory lock (any replica takes over when the leader's connection dies),
// on SQLite the process itself. New work wakes the leader at once: a trigger
// NOTIFYs firebreak_engine on PostgreSQL, Wake does it in process. There is
// no polling cycle on the paging path; the loop sleeps until the earliest
// due time it knows or until it is woken.
//
// The decisions (who, when) come from the pure packages escalation and
// oncall; this package holds their state and does the I/O.
package paging

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/stdlib"

	"github.com/firebreak/firebreak/internal/contact"
	"github.com/firebreak/firebreak/internal/store"
)

// Options tune delivery.
type Options struct {
	BaseURL     string        // the instance's URL, for links in messages
	Timeout     time.Duration // one send attempt (default 10s)
	MaxAttempts int           // attempts before a temporary failure counts as permanent (default 5)
	BackoffBase time.Duration // first retry delay; doubles per attempt, ±20% jitter, at most BackoffMax (default 2s)
	BackoffMax  time.Duration // default 5m
	LinkTTL     time.Duration // action links expire after this (default 24h)
	Workers     int           // concurrent sends (default 16)
	// LeaderRetry is how often a follower tries to become leader (default 1s).
	LeaderRetry time.Duration
}

func (o Options) withDefaults() Options {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.Timeout, 10*time.Second)
	def(&o.BackoffBase, 2*time.Second)
	def(&o.BackoffMax, 5*time.Minute)
	def(&o.LinkTTL, 24*time.Hour)
	def(&o.LeaderRetry, time.Second)
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 5
	}
	if o.Workers <= 0 {
		o.Workers = 16
	}
	return o
}

// Engine escalates and delivers.
type Engine struct {
	DB      *store.DB
	Deps    contact.Deps
	Links   *Signer
	Log     *slog.Logger
	Options Options
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Changed is called with incidents whose timeline grew.
	Changed func(ids ...int64)
	// DatabaseURL is needed on PostgreSQL for LISTEN.
	DatabaseURL string
	// WhileLeading are run, each in its own goroutine, for as long as this
	// engine leads (the check scheduler); their context ends with leadership.
	WhileLeading []func(ctx context.Context)

	once   sync.Once
	wake   chan struct{}
	sem    chan struct{}
	leader sync.Mutex // held while leading; tests look at Leading
	lead   bool
	sends  sync.WaitGroup
}

func (e *Engine) init() {
	e.once.Do(func() {
		e.Options = e.Options.withDefaults()
		e.wake = make(chan struct{}, 1)
		e.sem = make(chan struct{}, e.Options.Workers)
		if e.Log == nil {
			e.Log = slog.New(slog.DiscardHandler)
		}
	})
}

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now().UTC()
	}
	return time.Now().UTC()
}

func (e *Engine) changed(ids ...int64) {
	if e.Changed != nil && len(ids) > 0 {
		e.Changed(ids...)
	}
}

// Wake tells the engine there is new work. It never blocks.
func (e *Engine) Wake() {
	e.init()
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// Leading reports whether this engine leads now.
func (e *Engine) Leading() bool {
	e.leader.Lock()
	defer e.leader.Unlock()
	return e.lead
}

func (e *Engine) setLeading(v bool) {
	e.leader.Lock()
	e.lead = v
	e.leader.Unlock()
}

// Run leads (or waits to lead) until ctx ends, then waits for sends in flight.
func (e *Engine) Run(ctx context.Context) error {
	e.init()
	defer e.sends.Wait()
	if e.DB.Dialect != store.Postgres {
		e.setLeading(true)
		defer e.setLeading(false)
		return e.loop(ctx)
	}
	for {
		err := e.leadPostgres(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			e.Log.Warn("engine: leadership lost", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(e.Options.LeaderRetry):
		}
	}
}

// leaderLock is the advisory lock key pair of the engine leader.
const leaderLockClass, leaderLockID = 7402, 0

// leadPostgres takes the advisory lock on a dedicated connection; while the
// connection lives this replica leads. The same connection LISTENs for
// firebreak_engine, which both wakes the loop and proves the lock is held.
func (e *Engine) leadPostgres(ctx context.Context) error {
	conn, err := e.DB.W.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	var got bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1, $2)`, leaderLockClass, leaderLockID).Scan(&got); err != nil {
		return err
	}
	if !got {
		return nil // someone else leads
	}
	if _, err := conn.ExecContext(ctx, `LISTEN firebreak_engine`); err != nil {
		return err
	}
	e.Log.Info("engine: leading")
	e.setLeading(true)
	defer e.setLeading(false)
	lctx, stop := context.WithCancel(ctx)
	defer stop()
	loopDone := make(chan error, 1)
	go func() { loopDone <- e.loop(lctx) }()
	listenErr := conn.Raw(func(dc any) error {
		pc := dc.(*stdlib.Conn).Conn()
		for {
			wctx, cancel := context.WithTimeout(lctx, 5*time.Second)
			_, err := pc.WaitForNotification(wctx)
			cancel()
			switch {
			case err == nil:
				e.Wake()
			case lctx.Err() != nil:
				return nil
			case errors.Is(err, context.DeadlineExceeded):
				// Quiet: check the connection (and so the lock) is alive.
				if err := pc.Ping(lctx); err != nil {
					return fmt.Errorf("leader connection: %w", err)
				}
			default:
				return fmt.Errorf("leader connection: %w", err)
			}
		}
	})
	stop()
	<-loopDone
	if ctx.Err() == nil && listenErr == nil {
		listenErr = errors.New("leader loop ended")
	}
	// Let the lock go before the connection returns to the pool.
	_, _ = conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock($1, $2)`, leaderLockClass, leaderLockID)
	return listenErr
}

// maxSleep bounds the loop's sleep: a safety net, not the paging path, which
// is woken by Wake and NOTIFY.
const maxSleep = 30 * time.Second

func (e *Engine) loop(ctx context.Context) error {
	var side sync.WaitGroup
	defer side.Wait()
	for _, fn := range e.WhileLeading {
		side.Add(1)
		go func() {
			defer side.Done()
			fn(ctx)
		}()
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-e.wake:
		case <-timer.C:
		}
		next, err := e.Step(ctx, false)
		if err != nil && ctx.Err() == nil {
			e.Log.Error("engine step", "err", err)
			next = e.now().Add(time.Second)
		}
		d := maxSleep
		if !next.IsZero() {
			d = min(max(next.Sub(e.now()), 0), maxSleep)
		}
		if d == 0 && len(e.sem) == cap(e.sem) {
			// Work is due but every sender is busy: one finishing wakes us.
			d = maxSleep
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

// Step does everything due now: escalation steps, then deliveries. With wait
// it also waits for the sends it started (tests); otherwise sends run in the
// background and wake the engine when they finish. It returns the earliest
// time more work is due (zero: nothing scheduled).
func (e *Engine) Step(ctx context.Context, wait bool) (time.Time, error) {
	e.init()
	now := e.now()
	if err := e.escalateDue(ctx, now); err != nil {
		return time.Time{}, err
	}
	if err := e.deliverDue(ctx, now, wait); err != nil {
		return time.Time{}, err
	}
	return e.nextDue(ctx)
}

func (e *Engine) nextDue(ctx context.Context) (time.Time, error) {
	var a, b sql.NullInt64
	if err := e.DB.R.QueryRowContext(ctx, `SELECT MIN(next_at) FROM escalations WHERE next_at > 0`).Scan(&a); err != nil {
		return time.Time{}, fmt.Errorf("next escalation: %w", err)
	}
	if err := e.DB.R.QueryRowContext(ctx, `SELECT MIN(next_attempt_at) FROM notifications WHERE state IN ('pending', 'sending', 'failed_temporary')`).Scan(&b); err != nil {
		return time.Time{}, fmt.Errorf("next delivery: %w", err)
	}
	var t int64
	for _, v := range []sql.NullInt64{a, b} {
		if v.Valid && v.Int64 > 0 && (t == 0 || v.Int64 < t) {
			t = v.Int64
		}
	}
	if t == 0 {
		return time.Time{}, nil
	}
	return time.UnixMilli(t).UTC(), nil
}

// backoff is the delay before attempt n+1 after n failed attempts.
func (e *Engine) backoff(n int) time.Duration {
	d := e.Options.BackoffBase
	for i := 1; i < n && d < e.Options.BackoffMax; i++ {
		d *= 2
	}
	d = min(d, e.Options.BackoffMax)
	jitter := time.Duration((rand.Float64()*0.4 - 0.2) * float64(d))
	return d + jitter
}

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

func (e *Engine) contacts() *contact.Store { return &contact.Store{DB: e.DB, Now: e.Now} }
