package check

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/firebreak/firebreak/internal/check/probe"
	"github.com/firebreak/firebreak/internal/check/promql"
	"github.com/firebreak/firebreak/internal/logrule"
	"github.com/firebreak/firebreak/internal/plan"
)

// FromPlan turns a plan check into a check (source "plan").
func FromPlan(pc plan.Check) (Check, error) {
	c := Check{Slug: pc.ID, Name: pc.Name.In("en"), Kind: pc.Kind, Interval: Duration(pc.Every), Timeout: Duration(pc.Timeout),
		FailAfter: pc.FailAfter, Type: pc.Type, Level: pc.Level, Labels: pc.Labels, Source: "plan"}
	var spec any
	switch pc.Kind {
	case KindHTTP:
		h := probe.HTTP{URL: pc.URL, Method: pc.Method, Headers: pc.Headers}
		if e := pc.Expect; e != nil {
			if e.Status != 0 {
				h.ExpectStatus = []int{e.Status}
			}
			h.MaxLatency, h.ExpectBody = probe.Duration(e.MaxLatency), e.Body
		}
		spec = h
	case KindTCP:
		spec = probe.TCP{Address: pc.Host}
	case KindDNS:
		spec = probe.DNS{Name: pc.Host, Type: strings.ToUpper(pc.Record)}
	case KindTLS:
		spec = probe.TLS{Address: pc.Host, WarnBefore: probe.Duration(pc.WarnBefore)}
	case KindPrometheus:
		spec = promql.Config{URL: pc.URL, Query: pc.Query, Above: pc.Above, Below: pc.Below, For: promql.Duration(pc.For)}
	case KindLog:
		ls := LogSpec{GroupBy: pc.GroupBy, Count: pc.Count, Within: logrule.Duration(pc.Within)}
		if m := pc.Match; m != nil {
			ls.Match = []logrule.Matcher{{Field: m.Field, Equals: m.Equals, Regex: m.Regex}}
		}
		spec = ls
	case KindHeartbeat:
		hb := HeartbeatSpec{Schedule: pc.Schedule, TimeZone: pc.Timezone, Grace: Duration(pc.Grace), Resource: pc.Resource}
		if pc.Schedule == "" {
			hb.Period = Duration(pc.Every)
			c.Interval = 0
		}
		spec = hb
	default:
		return c, fmt.Errorf("check %s: kind %q is not known", pc.ID, pc.Kind)
	}
	if pc.Kind == KindHeartbeat {
		c.Interval = Duration(time.Hour) // heartbeats run at their deadlines; the interval only bounds claiming
	}
	b, err := json.Marshal(spec)
	if err != nil {
		return c, err
	}
	c.Spec = b
	return c, nil
}

// SyncPlan makes the plan's checks real inside tx: plan checks by slug
// (their service by name, created when missing), one restore check per
// backup resource with restore_test_every ("restore-{id}"); plan checks no
// longer in the plan are deleted, checks people made are never touched.
func SyncPlan(ctx context.Context, tx *sql.Tx, p *plan.Plan, now time.Time) error {
	keep := map[string]bool{}
	var want []Check
	// The default plan's checks probe example hosts: they are made paused,
	// to be pointed at real ones and started by a person.
	paused := plan.IsDefault(p)
	for _, pc := range p.Checks {
		c, err := FromPlan(pc)
		if err != nil {
			return err
		}
		if pc.Service != "" {
			if c.ServiceID, err = serviceFor(ctx, tx, pc.Service, now); err != nil {
				return err
			}
		}
		want = append(want, c)
	}
	for _, r := range p.Resources {
		if r.RestoreTestEvery <= 0 {
			continue
		}
		spec, _ := json.Marshal(RestoreSpec{Resource: r.ID, Every: Duration(r.RestoreTestEvery)})
		want = append(want, Check{Slug: "restore-" + r.ID, Name: "Restore test of " + r.ID, Kind: KindRestore, Spec: spec,
			Interval: Duration(time.Hour), Level: "", Type: "data-loss", Source: "plan"})
	}
	for _, c := range want {
		if c.Type != "" {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM incident_types WHERE id = $1`, c.Type).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				c.Type = "" // a plan without this type: the check still runs
			}
		}
		keep[c.Slug] = true
		old, err := get(ctx, tx, `c.slug = $1`, c.Slug)
		switch {
		case errors.Is(err, ErrNotFound):
			c.Paused = paused
			_, err = Put(ctx, tx, 0, c, now)
		case err == nil && old.Source != "plan":
			return fmt.Errorf("check %q was made by a person; rename it so the plan can use that name", c.Slug)
		case err == nil:
			if same(old.Check, c) {
				continue // unchanged: keep its schedule
			}
			c.PingKey, c.Paused = old.PingKey, old.Paused
			_, err = Put(ctx, tx, old.ID, c, now)
		}
		if err != nil {
			return fmt.Errorf("plan check %s: %w", c.Slug, err)
		}
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, slug FROM checks WHERE source = 'plan'`)
	if err != nil {
		return err
	}
	var drop []int64
	for rows.Next() {
		var id int64
		var slug string
		if err := rows.Scan(&id, &slug); err != nil {
			rows.Close()
			return err
		}
		if !keep[slug] {
			drop = append(drop, id)
		}
	}
	rows.Close()
	for _, id := range drop {
		if _, err := tx.ExecContext(ctx, `DELETE FROM checks WHERE id = $1`, id); err != nil {
			return err
		}
	}
	return nil
}

// same reports whether a stored plan check already has c's settings.
func same(old, c Check) bool {
	if err := c.Validate(); err != nil {
		return false
	}
	a, _ := json.Marshal([]any{old.Name, old.Kind, json.RawMessage(old.Spec), old.Interval, old.Timeout, old.FailAfter, old.RecoverAfter, old.Type, old.Level, nonNil(old.Labels)})
	b, _ := json.Marshal([]any{c.Name, c.Kind, json.RawMessage(c.Spec), c.Interval, c.Timeout, c.FailAfter, c.RecoverAfter, c.Type, c.Level, nonNil(c.Labels)})
	return string(a) == string(b) && (c.ServiceID == 0 || c.ServiceID == old.ServiceID)
}
