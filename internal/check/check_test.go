package check_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/firebreak/firebreak/internal/alert"
	"github.com/firebreak/firebreak/internal/check"
	"github.com/firebreak/firebreak/internal/incident"
	"github.com/firebreak/firebreak/internal/logrule"
	"github.com/firebreak/firebreak/internal/maintenance"
	"github.com/firebreak/firebreak/internal/paging"
	"github.com/firebreak/firebreak/internal/plan"
	"github.com/firebreak/firebreak/internal/store"
	"github.com/firebreak/firebreak/internal/testenv"
)

func TestDamp(t *testing.T) {
	type step struct {
		ok      bool
		status  string
		changed bool
	}
	cases := []struct {
		name              string
		failAfter, recAft int
		steps             []step
	}{
		{"first success is up", 3, 2, []step{{true, "up", true}, {true, "up", false}}},
		{"down after three failures", 3, 2, []step{{true, "up", true}, {false, "up", false}, {false, "up", false}, {false, "down", true}, {false, "down", false}}},
		{"a success resets the count", 3, 1, []step{{false, "unknown", false}, {false, "unknown", false}, {true, "up", true}, {false, "up", false}, {false, "up", false}, {false, "down", true}}},
		{"recover after two successes", 1, 2, []step{{false, "down", true}, {true, "down", false}, {false, "down", false}, {true, "down", false}, {true, "up", true}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := check.Damped{Status: check.StatusUnknown}
			for i, s := range c.steps {
				var changed bool
				d, changed = check.Damp(d, s.ok, c.failAfter, c.recAft)
				if d.Status != s.status || changed != s.changed {
					t.Fatalf("step %d (ok=%v): %s changed=%v, want %s changed=%v", i, s.ok, d.Status, changed, s.status, s.changed)
				}
			}
		})
	}
}

// clock is a settable time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

type env struct {
	db     *store.DB
	clock  *clock
	checks *check.Store
	sched  *check.Scheduler
	writer *alert.Writer
	alerts *alert.Store
	incs   *incident.Store
}

func setup(t *testing.T, db *store.DB) *env {
	t.Helper()
	ctx := context.Background()
	c := &clock{t: time.Date(2026, 11, 2, 2, 0, 0, 0, time.UTC)}
	src, err := os.ReadFile("../../../shared/examples/plan.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, err := plan.Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := plan.Apply(ctx, db, p, src, "test", c.Now(), paging.SyncPlan, check.SyncPlan); err != nil {
		t.Fatal(err)
	}
	w := &alert.Writer{DB: db, Now: c.Now}
	wctx, stop := context.WithCancel(context.Background())
	w.Start(wctx)
	t.Cleanup(func() { stop(); w.Wait() })
	// The reference plan's checks probe example hosts; only the restore
	// check (and the log rule, which is not scheduled) stay on.
	if _, err := db.W.Exec(`UPDATE checks SET paused = $1 WHERE kind NOT IN ('restore', 'log')`, true); err != nil {
		t.Fatal(err)
	}
	e := &env{db: db, clock: c, writer: w, alerts: &alert.Store{DB: db}, incs: &incident.Store{DB: db, Now: c.Now}}
	e.checks = &check.Store{DB: db, Now: c.Now}
	e.sched = &check.Scheduler{DB: db, R: db.R, Alerts: w, Now: c.Now}
	return e
}

func (e *env) run(t *testing.T) time.Time {
	t.Helper()
	next, err := e.sched.RunDue(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return next
}

func (e *env) create(t *testing.T, c check.Check) check.View {
	t.Helper()
	v, err := e.checks.Create(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func (e *env) get(t *testing.T, id int64) check.View {
	t.Helper()
	v, err := e.checks.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// alertOf returns the alert with a fingerprint.
func (e *env) alertOf(t *testing.T, fp string) (alert.Alert, bool) {
	t.Helper()
	as, _, err := e.alerts.List(context.Background(), alert.Filter{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range as {
		if a.Fingerprint == fp {
			return a, true
		}
	}
	return alert.Alert{}, false
}

func spec(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

func TestPlanChecks(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		vs, err := e.checks.List(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		kinds := map[string]string{}
		for _, v := range vs {
			kinds[v.Slug] = v.Kind
			if v.Source != "plan" {
				t.Errorf("%s: source %q", v.Slug, v.Source)
			}
		}
		want := map[string]string{"checkout-probe": "http", "api-tls": "tls", "cpu-high": "prometheus", "abnormal-logins": "log",
			"nightly-backup": "heartbeat", "restore-nightly-db-backup": "restore"}
		for slug, kind := range want {
			if kinds[slug] != kind {
				t.Errorf("plan check %s: kind %q, want %q (have %v)", slug, kinds[slug], kind, kinds)
			}
		}
		cp, _ := e.checks.BySlug(context.Background(), "checkout-probe")
		if time.Duration(cp.Interval) != 30*time.Second || cp.FailAfter != 3 || cp.Level != "P0" || cp.Type != "site-down" {
			t.Errorf("checkout-probe %+v", cp.Check)
		}
		hb, _ := e.checks.BySlug(context.Background(), "nightly-backup")
		if hb.PingKey == "" || !strings.Contains(string(hb.Spec), `"schedule":"0 22 * * *"`) {
			t.Errorf("heartbeat %+v", hb.Check)
		}
		// Re-applying changes nothing (ping keys and schedules stay).
		if err := paging.Sync(context.Background(), db, e.clock.Now().Add(time.Hour), check.SyncPlan); err != nil {
			t.Fatal(err)
		}
		hb2, _ := e.checks.BySlug(context.Background(), "nightly-backup")
		if hb2.PingKey != hb.PingKey || !hb2.State.NextRunAt.Equal(hb.State.NextRunAt) {
			t.Errorf("re-sync changed the heartbeat: %v → %v", hb.State.NextRunAt, hb2.State.NextRunAt)
		}
	})
}

func TestValidationNamesFields(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		bad := []struct {
			c     check.Check
			field string
		}{
			{check.Check{Slug: "Bad Slug", Kind: "http"}, "slug"},
			{check.Check{Slug: "x", Kind: "smtp"}, "kind"},
			{check.Check{Slug: "x", Kind: "http", Spec: spec(map[string]any{"url": "not a url"})}, "spec.url"},
			{check.Check{Slug: "x", Kind: "http", Spec: spec(map[string]any{"url": "http://a", "expect_regex": "("})}, "spec.expect_regex"},
			{check.Check{Slug: "x", Kind: "http", Spec: spec(map[string]any{"url": "http://a", "colour": "red"})}, "spec"},
			{check.Check{Slug: "x", Kind: "http", Spec: spec(map[string]any{"url": "http://a"}), Interval: check.Duration(time.Second)}, "interval"},
			{check.Check{Slug: "x", Kind: "http", Spec: spec(map[string]any{"url": "http://a"}), Level: "P9"}, "level"},
			{check.Check{Slug: "x", Kind: "heartbeat", Spec: spec(map[string]any{"schedule": "0 25 * * *"})}, "spec.schedule"},
			{check.Check{Slug: "x", Kind: "heartbeat", Spec: spec(map[string]any{"schedule": "0 2 * * *", "time_zone": "Mars/Olympus"})}, "spec.time_zone"},
			{check.Check{Slug: "x", Kind: "prometheus", Spec: spec(map[string]any{"url": "http://p:9090", "query": "up"})}, "spec.above"},
			{check.Check{Slug: "x", Kind: "log", Spec: spec(map[string]any{"match": []any{map[string]any{"field": "event", "regex": "("}}, "count": 3, "within": "1m"})}, "spec.match[0].regex"},
			{check.Check{Slug: "x", Kind: "dns", Spec: spec(map[string]any{"name": "example.com", "type": "BOGUS"})}, "spec.type"},
		}
		for _, b := range bad {
			_, err := e.checks.Create(context.Background(), b.c)
			var fe *check.FieldError
			if !errors.As(err, &fe) || fe.Field != b.field {
				t.Errorf("%s %s: got %v, want an error on %s", b.c.Kind, b.c.Spec, err, b.field)
			}
		}
		_, err := e.checks.Create(context.Background(), check.Check{Slug: "checkout-probe", Kind: "tcp", Spec: spec(map[string]any{"address": "127.0.0.1:1"})})
		var fe *check.FieldError
		if !errors.As(err, &fe) || fe.Field != "slug" {
			t.Errorf("duplicate slug: %v", err)
		}
	})
}

func TestHTTPCheckFailsAfterNAndRecovers(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		var status atomic.Int32
		status.Store(200)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(int(status.Load()))
			fmt.Fprint(w, `{"status":"ok"}`)
		}))
		defer srv.Close()
		v := e.create(t, check.Check{Slug: "shop", Kind: "http", Interval: check.Duration(time.Minute), FailAfter: 3, RecoverAfter: 2, Level: "P1",
			Type: "site-down", Labels: map[string]string{"team": "web"},
			Spec: spec(map[string]any{"url": srv.URL, "expect_status": []int{200}, "expect_json": []any{map[string]string{"path": "status", "equals": "ok"}}})})
		next := e.run(t)
		if got := e.get(t, v.ID); got.State.Status != "up" || !next.Equal(e.clock.Now().Add(time.Minute)) {
			t.Fatalf("after the first run: %s, next %v", got.State.Status, next)
		}
		status.Store(503)
		for i := 1; i <= 3; i++ {
			e.clock.Add(time.Minute)
			e.run(t)
			got := e.get(t, v.ID)
			_, alerted := e.alertOf(t, "check:shop")
			if i < 3 && (got.State.Status != "up" || alerted) {
				t.Fatalf("failure %d: %s (alert %v) — flapping not damped", i, got.State.Status, alerted)
			}
			if i == 3 && (got.State.Status != "down" || !alerted) {
				t.Fatalf("failure 3: %s, alert %v", got.State.Status, alerted)
			}
		}
		a, _ := e.alertOf(t, "check:shop")
		if a.Source != "check" || a.Labels["check"] != "shop" || a.Labels["team"] != "web" || a.IncidentID == 0 || !strings.Contains(a.Summary, "503") {
			t.Errorf("alert %+v", a)
		}
		inc, err := e.incs.Get(context.Background(), a.IncidentID)
		if err != nil || inc.Level != "P1" || inc.Type != "site-down" {
			t.Errorf("incident %+v %v", inc, err)
		}
		// Recovers after two successes, and the alert resolves (and so the incident).
		status.Store(200)
		e.clock.Add(time.Minute)
		e.run(t)
		if a, _ := e.alertOf(t, "check:shop"); a.Status != "firing" {
			t.Errorf("resolved after one success")
		}
		e.clock.Add(time.Minute)
		e.run(t)
		if a, _ := e.alertOf(t, "check:shop"); a.Status != "resolved" {
			t.Errorf("alert %s after recovery", a.Status)
		}
		// History: results with latency, and today's roll-up.
		res, err := e.checks.Results(context.Background(), v.ID, e.clock.Now().Add(-time.Hour), e.clock.Now().Add(time.Minute), 0)
		if err != nil || len(res) != 6 {
			t.Fatalf("results %d %v", len(res), err)
		}
		days, err := e.checks.Daily(context.Background(), v.ID, 90)
		if err != nil || len(days) != 90 {
			t.Fatalf("daily %d %v", len(days), err)
		}
		today := days[89]
		if today.Runs != 6 || today.Failures != 3 || today.Uptime != 0.5 {
			t.Errorf("today %+v", today)
		}
	})
}

func TestUnreachableIsAFailingRunNotACrash(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		srv := httptest.NewServer(http.NotFoundHandler())
		addr := srv.Listener.Addr().String()
		srv.Close() // refused from now on
		v := e.create(t, check.Check{Slug: "gone", Kind: "tcp", Spec: spec(map[string]any{"address": addr})})
		d := e.create(t, check.Check{Slug: "nodns", Kind: "dns", Spec: spec(map[string]any{"name": "nothing.invalid", "type": "A", "resolver": addr, "timeout": "300ms"})})
		e.run(t)
		for _, id := range []int64{v.ID, d.ID} {
			got := e.get(t, id)
			if got.State.Status != "down" || got.State.LastMessage == "" {
				t.Errorf("%s: %s %q", got.Slug, got.State.Status, got.State.LastMessage)
			}
		}
	})
}

func TestHeartbeatLateUnderFakeClock(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		ctx := context.Background()
		v := e.create(t, check.Check{Slug: "backup-job", Kind: "heartbeat", Spec: spec(map[string]any{"period": "1h", "grace": "10m"})})
		if v.PingKey == "" || !v.State.NextRunAt.Equal(e.clock.Now().Add(70*time.Minute)) {
			t.Fatalf("new heartbeat: key %q, due %v", v.PingKey, v.State.NextRunAt)
		}
		// A start and a ping 30 minutes in: the deadline moves to +30m+1h+10m.
		e.clock.Add(20 * time.Minute)
		if _, err := e.checks.Ping(ctx, v.PingKey, check.PingStart, 0, "", "127.0.0.1"); err != nil {
			t.Fatal(err)
		}
		e.clock.Add(10 * time.Minute)
		res, err := e.checks.Ping(ctx, v.PingKey, check.PingSuccess, 0, "backup done: 42 GB", "127.0.0.1")
		if err != nil || res.Duration != 10*time.Minute || len(res.Events) != 0 {
			t.Fatalf("ping: %+v %v", res, err)
		}
		e.run(t)
		if next := e.get(t, v.ID).State.NextRunAt; !next.Equal(e.clock.Now().Add(70 * time.Minute)) {
			t.Errorf("deadline %v, want %v", next, e.clock.Now().Add(70*time.Minute))
		}
		e.clock.Add(69 * time.Minute)
		e.run(t)
		if _, alerted := e.alertOf(t, "check:backup-job"); alerted {
			t.Fatal("alerted before the deadline")
		}
		e.clock.Add(2 * time.Minute)
		e.run(t)
		a, alerted := e.alertOf(t, "check:backup-job")
		if !alerted || a.Status != "firing" || !strings.Contains(a.Summary, "late") {
			t.Fatalf("late heartbeat: %+v %v", a, alerted)
		}
		// The next ping resolves it; a fail ping fails it at once.
		res, err = e.checks.Ping(ctx, v.PingKey, check.PingSuccess, 0, "", "")
		if err != nil || len(res.Events) != 1 || res.Events[0].Action != alert.Resolve {
			t.Fatalf("recovery ping: %+v %v", res.Events, err)
		}
		res, err = e.checks.Ping(ctx, v.PingKey, check.PingExit, 3, "disk full", "")
		if err != nil || len(res.Events) != 1 || res.Events[0].Action != alert.Trigger || !strings.Contains(res.Events[0].Summary, "status 3") {
			t.Fatalf("exit 3: %+v %v", res.Events, err)
		}
		pings, err := e.checks.Pings(ctx, v.ID, 10)
		if err != nil || len(pings) != 4 || pings[0].Body != "disk full" || pings[0].ExitStatus != 3 {
			t.Errorf("pings %+v %v", pings, err)
		}
		if _, err := e.checks.Ping(ctx, "no-such-key", check.PingSuccess, 0, "", ""); !errors.Is(err, check.ErrNotFound) {
			t.Errorf("unknown key: %v", err)
		}
	})
}

func TestCronHeartbeat(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		// 2026-11-02 02:00 UTC = 10:00 Shanghai; the job runs at 22:00 Shanghai (14:00 UTC).
		v := e.create(t, check.Check{Slug: "nightly", Kind: "heartbeat",
			Spec: spec(map[string]any{"schedule": "0 22 * * *", "time_zone": "Asia/Shanghai", "grace": "1h"})})
		want := time.Date(2026, 11, 2, 15, 0, 0, 0, time.UTC)
		if !v.State.NextRunAt.Equal(want) {
			t.Fatalf("first deadline %v, want %v", v.State.NextRunAt, want)
		}
		e.clock.t = time.Date(2026, 11, 2, 14, 20, 0, 0, time.UTC)
		if _, err := e.checks.Ping(context.Background(), v.PingKey, check.PingSuccess, 0, "", ""); err != nil {
			t.Fatal(err)
		}
		if got := e.get(t, v.ID); !got.State.NextRunAt.Equal(want.Add(24 * time.Hour)) {
			t.Errorf("after tonight's ping the deadline is %v, want tomorrow's %v", got.State.NextRunAt, want.Add(24*time.Hour))
		}
	})
}

func TestRestartSpreadsOverdueChecks(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
		defer srv.Close()
		var ids []int64
		for i := range 50 {
			v := e.create(t, check.Check{Slug: fmt.Sprintf("c%02d", i), Kind: "http", Interval: check.Duration(time.Minute), Spec: spec(map[string]any{"url": srv.URL})})
			ids = append(ids, v.ID)
		}
		e.run(t) // every check ran once
		// firebreak was down for an hour.
		e.clock.Add(time.Hour)
		start := e.clock.Now()
		e.sched.Restarted()
		e.run(t)
		seconds := map[int64]bool{}
		for _, id := range ids {
			v := e.get(t, id)
			if v.State.LastRunAt.After(start.Add(-time.Minute)) {
				t.Fatalf("%s ran at once after the restart", v.Slug)
			}
			if v.State.NextRunAt.Before(start) || !v.State.NextRunAt.Before(start.Add(time.Minute)) {
				t.Fatalf("%s rescheduled to %v, outside the next interval", v.Slug, v.State.NextRunAt)
			}
			seconds[v.State.NextRunAt.Unix()] = true
		}
		if len(seconds) < 20 {
			t.Errorf("50 checks rescheduled into only %d distinct seconds", len(seconds))
		}
		// Over the next minute each runs once.
		for range 60 {
			e.clock.Add(time.Second)
			e.run(t)
		}
		for _, id := range ids {
			if v := e.get(t, id); v.State.LastRunAt.Before(start) {
				t.Errorf("%s did not run in the minute after the restart", v.Slug)
			}
		}
	})
}

func TestRestoreTestOverdue(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		ctx := context.Background()
		e.run(t)
		a, ok := e.alertOf(t, "check:restore-nightly-db-backup")
		if !ok || !strings.Contains(a.Summary, "no successful restore test") {
			t.Fatalf("never tested: %+v %v", a, ok)
		}
		if _, err := e.checks.AddRestoreTest(ctx, check.RestoreTest{Resource: "nightly-db-backup", Duration: check.Duration(42 * time.Minute),
			DataAge: check.Duration(6 * time.Hour), OK: true, Evidence: "restored to staging, row counts match"}); err != nil {
			t.Fatal(err)
		}
		e.run(t)
		if a, _ := e.alertOf(t, "check:restore-nightly-db-backup"); a.Status != "resolved" {
			t.Errorf("after a restore test the alert is %s", a.Status)
		}
		e.clock.Add(31 * 24 * time.Hour) // restore_test_every: 720h
		e.run(t)
		if a, _ := e.alertOf(t, "check:restore-nightly-db-backup"); a.Status != "firing" || !strings.Contains(a.Summary, "overdue") {
			t.Errorf("overdue: %+v", a)
		}
		ts, err := e.checks.RestoreTests(ctx, "nightly-db-backup", 10)
		if err != nil || len(ts) != 1 || time.Duration(ts[0].Duration) != 42*time.Minute {
			t.Errorf("restore tests %+v %v", ts, err)
		}
		for _, bad := range []struct {
			t     check.RestoreTest
			field string
		}{
			{check.RestoreTest{Resource: "standby-cluster", Duration: check.Duration(time.Minute)}, "resource"},
			{check.RestoreTest{Resource: "nightly-db-backup"}, "duration"},
			{check.RestoreTest{Resource: "nightly-db-backup", Duration: check.Duration(time.Minute), TestedAt: e.clock.Now().Add(time.Hour)}, "tested_at"},
		} {
			_, err := e.checks.AddRestoreTest(ctx, bad.t)
			var fe *check.FieldError
			if !errors.As(err, &fe) || fe.Field != bad.field {
				t.Errorf("want error on %s, got %v", bad.field, err)
			}
		}
	})
}

func TestMaintenanceWindowSilences(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		ctx := context.Background()
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(500) }))
		defer srv.Close()
		e.create(t, check.Check{Slug: "db-probe", Kind: "http", Spec: spec(map[string]any{"url": srv.URL})})
		ms := &maintenance.Store{DB: db, Now: e.clock.Now}
		if _, err := ms.Create(ctx, maintenance.Window{Title: "DB upgrade", StartsAt: e.clock.Now().Add(-time.Minute), EndsAt: e.clock.Now().Add(time.Hour),
			Checks: []string{"db-probe"}}); err != nil {
			t.Fatal(err)
		}
		e.run(t)
		a, ok := e.alertOf(t, "check:db-probe")
		if !ok || a.SilencedBy == 0 || a.IncidentID != 0 {
			t.Fatalf("inside the window: %+v", a)
		}
		// After the window, the still-failing check's alert opens an incident.
		e.clock.Add(2 * time.Hour)
		if _, err := e.writer.Submit(ctx, []alert.Event{{ServiceID: a.ServiceID, Source: alert.SourceCheck, Action: alert.Trigger,
			Fingerprint: "check:db-probe", Summary: a.Summary, Severity: alert.Error, Labels: a.Labels}}); err != nil {
			t.Fatal(err)
		}
		if a, _ := e.alertOf(t, "check:db-probe"); a.IncidentID == 0 || a.SilencedBy != 0 {
			t.Errorf("after the window: %+v", a)
		}
	})
}

func TestPrometheusSeriesAreAlerts(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		var mu sync.Mutex
		values := map[string]string{"web-1": "93", "web-2": "40"}
		prom := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			defer mu.Unlock()
			var res []string
			for inst, v := range values {
				res = append(res, fmt.Sprintf(`{"metric":{"instance":%q},"value":[1700000000,%q]}`, inst, v))
			}
			fmt.Fprintf(w, `{"status":"success","data":{"resultType":"vector","result":[%s]}}`, strings.Join(res, ","))
		}))
		defer prom.Close()
		e.create(t, check.Check{Slug: "cpu", Kind: "prometheus", Level: "P2",
			Spec: spec(map[string]any{"url": prom.URL, "query": "cpu", "above": 80, "for": "5m"})})
		e.run(t)
		for range 3 {
			e.clock.Add(time.Minute)
			e.run(t)
		}
		as, _, _ := e.alerts.List(context.Background(), alert.Filter{Limit: 100})
		for _, a := range as {
			if strings.HasPrefix(a.Fingerprint, "check:cpu:") {
				t.Fatalf("fired before for: 5m: %+v", a)
			}
		}
		for range 3 {
			e.clock.Add(time.Minute)
			e.run(t)
		}
		var firing []alert.Alert
		as, _, _ = e.alerts.List(context.Background(), alert.Filter{Limit: 100})
		for _, a := range as {
			if strings.HasPrefix(a.Fingerprint, "check:cpu:") {
				firing = append(firing, a)
			}
		}
		if len(firing) != 1 || firing[0].Labels["instance"] != "web-1" || firing[0].Status != "firing" {
			t.Fatalf("series alerts %+v", firing)
		}
		mu.Lock()
		values["web-1"], values["web-2"] = "50", "97"
		mu.Unlock()
		for range 6 {
			e.clock.Add(time.Minute)
			e.run(t)
		}
		as, _, _ = e.alerts.List(context.Background(), alert.Filter{Limit: 100})
		state := map[string]string{}
		for _, a := range as {
			if strings.HasPrefix(a.Fingerprint, "check:cpu:") {
				state[a.Labels["instance"]] = string(a.Status)
			}
		}
		if state["web-1"] != "resolved" || state["web-2"] != "firing" {
			t.Errorf("after the swap: %v", state)
		}
	})
}

func TestLogRuleFires(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		ctx := context.Background()
		logs := &check.Logs{Checks: e.checks, Alerts: e.writer, Now: e.clock.Now}
		line := func(ip string) logrule.Line {
			return logrule.Line{Time: e.clock.Now(), Fields: map[string]string{"event": "login_failed", "source_ip": ip, "user": "root"}}
		}
		var lines []logrule.Line
		for range 19 {
			lines = append(lines, line("10.0.0.9"))
		}
		lines = append(lines, line("10.0.0.7"))
		if n, err := logs.Observe(ctx, lines); err != nil || n != 0 {
			t.Fatalf("19 lines: %d alerts, %v", n, err)
		}
		if n, err := logs.Observe(ctx, []logrule.Line{line("10.0.0.9")}); err != nil || n != 1 {
			t.Fatalf("20th line: %d alerts, %v", n, err)
		}
		as, _, _ := e.alerts.List(ctx, alert.Filter{Limit: 100})
		var found *alert.Alert
		for i := range as {
			if strings.HasPrefix(as[i].Fingerprint, "check:abnormal-logins:") {
				found = &as[i]
			}
		}
		if found == nil || found.Labels["source_ip"] != "10.0.0.9" || found.IncidentID == 0 {
			t.Fatalf("log alert %+v", found)
		}
		inc, _ := e.incs.Get(ctx, found.IncidentID)
		if inc.Type != "security-breach" || inc.Level != "P1" {
			t.Errorf("incident %+v", inc)
		}
		e.clock.Add(6 * time.Minute)
		if err := logs.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		as, _, _ = e.alerts.List(ctx, alert.Filter{Limit: 100})
		for _, a := range as {
			if a.ID == found.ID && a.Status != "resolved" {
				t.Errorf("after the window the alert is %s", a.Status)
			}
		}
	})
}

func TestDefaultPlanChecksStartPaused(t *testing.T) {
	db := testenv.SQLite(t)
	ctx := context.Background()
	p, src := plan.Default()
	if _, _, err := plan.Apply(ctx, db, p, src, "test", time.Now(), paging.SyncPlan, check.SyncPlan); err != nil {
		t.Fatal(err)
	}
	vs, err := (&check.Store{DB: db}).List(ctx)
	if err != nil || len(vs) < 5 {
		t.Fatalf("default plan checks: %d %v", len(vs), err)
	}
	for _, v := range vs {
		if !v.Paused {
			t.Errorf("%s from the default plan is not paused: it would probe an example host", v.Slug)
		}
	}
}

// A real Prometheus scrapes a local exporter; when the value crosses the
// threshold the scheduler raises the series' alert through the alert writer.
func TestRealPrometheusThreshold(t *testing.T) {
	db := testenv.SQLite(t)
	var mu sync.Mutex
	value := "50"
	exporter := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		fmt.Fprintf(w, "# TYPE firebreak_cpu_percent gauge\nfirebreak_cpu_percent{instance=\"db-1\"} %s\n", value)
	}))
	defer exporter.Close()
	prom := testenv.Prometheus(t, []string{strings.TrimPrefix(exporter.URL, "http://")})
	e := setup(t, db)
	e.sched.Now, e.checks.Now = nil, nil // Prometheus answers for the real now
	w := &alert.Writer{DB: db}
	wctx, stop := context.WithCancel(context.Background())
	w.Start(wctx)
	defer func() { stop(); w.Wait() }()
	e.sched.Alerts = w
	e.create(t, check.Check{Slug: "db-cpu", Kind: "prometheus", Interval: check.Duration(5 * time.Second), Level: "P2",
		Spec: spec(map[string]any{"url": prom, "query": "firebreak_cpu_percent", "above": 80})})
	firing := func() *alert.Alert {
		as, _, _ := (&alert.Store{DB: db}).List(context.Background(), alert.Filter{Limit: 100})
		for i := range as {
			if strings.HasPrefix(as[i].Fingerprint, "check:db-cpu:") {
				return &as[i]
			}
		}
		return nil
	}
	runUntil := func(what string, cond func() bool) {
		deadline := time.Now().Add(30 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			if _, err := db.W.Exec(`UPDATE check_state SET next_run_at = 0`); err != nil {
				t.Fatal(err)
			}
			if _, err := e.sched.RunDue(context.Background()); err != nil {
				t.Fatal(err)
			}
			time.Sleep(200 * time.Millisecond) // Prometheus scrapes on its own clock
		}
	}
	runUntil("Prometheus to have the series", func() bool {
		v, _ := e.checks.BySlug(context.Background(), "db-cpu")
		return strings.HasPrefix(v.State.LastMessage, "1 series")
	})
	if firing() != nil {
		t.Fatal("alert at 50%")
	}
	mu.Lock()
	value = "93"
	mu.Unlock()
	runUntil("the threshold to be crossed", func() bool { return firing() != nil })
	a := firing()
	if a.Labels["instance"] != "db-1" || a.IncidentID == 0 || !strings.Contains(a.Summary, "above 80") {
		t.Errorf("alert %+v", a)
	}
	mu.Lock()
	value = "20"
	mu.Unlock()
	runUntil("the alert to resolve", func() bool { a := firing(); return a != nil && a.Status == "resolved" })
}
