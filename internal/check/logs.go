package check

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/firebreak/firebreak/internal/alert"
	"github.com/firebreak/firebreak/internal/logrule"
)

// Logs evaluates the log checks' rules against log lines arriving by HTTP
// and syslog. Each group crossing its rule's threshold raises its own alert
// (fingerprint check:{slug}:{group}); it resolves when the group's count in
// the window falls below the threshold again. Windows are kept in memory in
// the process that receives the lines.
type Logs struct {
	Checks *Store
	Alerts Submitter
	Now    func() time.Time
	Log    *slog.Logger

	mu     sync.Mutex
	engine *logrule.Engine
	checks map[string]View // by slug
	loaded time.Time
}

// reloadEvery bounds how stale the rules may be on a replica that did not
// see the change itself.
const reloadEvery = 30 * time.Second

func (l *Logs) now() time.Time {
	if l.Now != nil {
		return l.Now().UTC()
	}
	return time.Now().UTC()
}

// Reload reads the log checks again (call after a check changed here).
func (l *Logs) Reload(ctx context.Context) error {
	vs, err := list(ctx, l.Checks.DB.R, `c.kind = 'log' AND NOT c.paused`)
	if err != nil {
		return err
	}
	rules := make([]logrule.Rule, 0, len(vs))
	checks := map[string]View{}
	for _, v := range vs {
		spec, err := v.parsed()
		if err != nil {
			continue
		}
		rules = append(rules, spec.(*LogSpec).Rule(v.Slug))
		checks[v.Slug] = v
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.engine == nil {
		if l.engine, err = logrule.NewEngine(rules); err != nil {
			return err
		}
	} else if err := l.engine.SetRules(rules); err != nil {
		return err
	}
	l.checks, l.loaded = checks, l.now()
	return nil
}

func (l *Logs) ready(ctx context.Context) error {
	l.mu.Lock()
	stale := l.engine == nil || l.now().Sub(l.loaded) > reloadEvery
	l.mu.Unlock()
	if stale {
		return l.Reload(ctx)
	}
	return nil
}

// Observe feeds lines to the rules and raises the alerts of groups that
// cross their threshold. It returns once those alerts are stored.
func (l *Logs) Observe(ctx context.Context, lines []logrule.Line) (fired int, err error) {
	if err := l.ready(ctx); err != nil {
		return 0, err
	}
	now := l.now()
	var events []alert.Event
	var fires []logrule.Fire
	l.mu.Lock()
	for _, ln := range lines {
		if ln.Time.IsZero() {
			ln.Time = now
		}
		fires = append(fires, l.engine.Observe(ln)...)
	}
	l.mu.Unlock()
	for _, f := range fires {
		v, ok := l.check(f.RuleID)
		if !ok {
			continue
		}
		if v.ServiceID == 0 {
			err := l.Checks.DB.Tx(ctx, func(tx *sql.Tx) error { return ensureService(ctx, tx, &v, now) })
			if err != nil {
				return 0, err
			}
			l.mu.Lock()
			l.checks[v.Slug] = v
			l.mu.Unlock()
		}
		events = append(events, logEvent(v, f, true))
	}
	if len(events) == 0 {
		return 0, nil
	}
	if _, err := l.Alerts.Submit(ctx, events); err != nil {
		return 0, fmt.Errorf("raise log alerts: %w", err)
	}
	return len(events), l.markDown(ctx, events)
}

func (l *Logs) check(slug string) (View, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	v, ok := l.checks[slug]
	return v, ok
}

// Sweep resolves the alerts of groups whose window has drained.
func (l *Logs) Sweep(ctx context.Context) error {
	if err := l.ready(ctx); err != nil {
		return err
	}
	var events []alert.Event
	l.mu.Lock()
	for _, f := range l.engine.Resolved(l.now()) {
		if v, ok := l.checks[f.RuleID]; ok && v.ServiceID != 0 {
			events = append(events, logEvent(v, f, false))
		}
	}
	l.mu.Unlock()
	if len(events) == 0 {
		return nil
	}
	_, err := l.Alerts.Submit(ctx, events)
	return err
}

// Run sweeps every few seconds until ctx ends.
func (l *Logs) Run(ctx context.Context) {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := l.Sweep(ctx); err != nil && ctx.Err() == nil && l.Log != nil {
				l.Log.Error("log rules", "err", err)
			}
		}
	}
}

func logEvent(v View, f logrule.Fire, firing bool) alert.Event {
	summary := fmt.Sprintf("%d matching log lines within %s", f.Count, time.Duration(mustSpec(v).Within))
	if f.GroupKey != "" {
		summary += " (" + f.GroupKey + ")"
	}
	ev := v.event(firing, "check:"+v.Slug+":"+f.GroupKey, summary)
	for k, val := range f.Group {
		ev.Labels[k] = val
	}
	if firing {
		d, _ := json.Marshal(map[string]any{"first": f.First, "last": f.Last, "count": f.Count, "sample": f.Sample.Fields})
		ev.Details = d
	}
	return ev
}

func mustSpec(v View) *LogSpec {
	sp, err := v.parsed()
	if err != nil {
		return &LogSpec{}
	}
	return sp.(*LogSpec)
}

// markDown records a failing result on the log checks that fired.
func (l *Logs) markDown(ctx context.Context, events []alert.Event) error {
	seen := map[string]bool{}
	for _, ev := range events {
		slug := ev.Labels["check"]
		if seen[slug] {
			continue
		}
		seen[slug] = true
		v, ok := l.check(slug)
		if !ok {
			continue
		}
		now := l.now()
		err := l.Checks.DB.Tx(ctx, func(tx *sql.Tx) error {
			if err := writeResult(ctx, tx, v.ID, now, false, 0, ev.Summary); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `UPDATE check_state SET status = 'down', last_run_at = $1, last_message = $2, changed_at = $1 WHERE check_id = $3`,
				ms(now), trim(ev.Summary, 1000), v.ID)
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}
