package alert_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firebreak/firebreak/internal/alert"
	"github.com/firebreak/firebreak/internal/incident"
	"github.com/firebreak/firebreak/internal/store"
	"github.com/firebreak/firebreak/internal/testenv"
)

// seed stores the levels and severity mapping the writer reads, and two services.
func seed(t *testing.T, db *store.DB) (auto, manual int64) {
	t.Helper()
	ctx := context.Background()
	for i, l := range []string{"P0", "P1", "P2", "P3"} {
		if _, err := db.W.ExecContext(ctx, `INSERT INTO levels (id, position, name_en, name_zh) VALUES ($1, $2, $1, $1)`, l, i); err != nil {
			t.Fatal(err)
		}
	}
	for s, l := range map[string]string{"critical": "P1", "error": "P2", "warning": "P3", "info": ""} {
		if _, err := db.W.ExecContext(ctx, `INSERT INTO severity_levels (severity, level) VALUES ($1, $2)`, s, l); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.W.ExecContext(ctx, `INSERT INTO plan_versions (name, source, checksum, applied_at) VALUES ('p', '', 'x', 1)`); err != nil {
		t.Fatal(err)
	}
	for _, row := range []struct {
		name string
		auto bool
		id   *int64
	}{{"web", true, &auto}, {"batch", false, &manual}} {
		if err := db.W.QueryRowContext(ctx, `INSERT INTO services (name, auto_resolve, created_at) VALUES ($1, $2, 1) RETURNING id`, row.name, row.auto).Scan(row.id); err != nil {
			t.Fatal(err)
		}
	}
	return auto, manual
}

func start(t *testing.T, db *store.DB) (*alert.Writer, *[]int64) {
	var mu sync.Mutex
	var touched []int64
	w := &alert.Writer{DB: db, Committed: func(ids []int64) { mu.Lock(); touched = append(touched, ids...); mu.Unlock() }}
	ctx, cancel := context.WithCancel(context.Background())
	w.Start(ctx)
	t.Cleanup(func() { cancel(); w.Wait() })
	return w, &touched
}

func ev(svc int64, action alert.Action, fp string, sev alert.Severity, summary string) alert.Event {
	return alert.Event{ServiceID: svc, Source: alert.SourceGeneric, Action: action, Fingerprint: fp, Severity: sev, Summary: summary,
		Labels: map[string]string{"fp": fp}}
}

func submit1(t *testing.T, w *alert.Writer, e alert.Event) alert.Result {
	t.Helper()
	res, err := w.Submit(context.Background(), []alert.Event{e})
	if err != nil {
		t.Fatal(err)
	}
	return res[0]
}

func TestWriterLifecycle(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		web, batch := seed(t, db)
		w, touched := start(t, db)
		incs := &incident.Store{DB: db}
		alerts := &alert.Store{DB: db}

		a1 := submit1(t, w, ev(web, alert.Trigger, "A", alert.Critical, "checkout down"))
		if a1.Outcome != alert.Created || a1.IncidentID == 0 {
			t.Fatalf("first trigger: %+v", a1)
		}
		inc, err := incs.Get(ctx, a1.IncidentID)
		if err != nil {
			t.Fatal(err)
		}
		if inc.Level != "P1" || inc.Status != incident.Triggered || inc.Title != "checkout down" || inc.PlanVersionID == 0 || inc.ServiceID != web {
			t.Fatalf("incident: %+v", inc)
		}
		if len(*touched) == 0 || (*touched)[0] != inc.ID {
			t.Fatalf("commit hook saw %v", *touched)
		}

		a2 := submit1(t, w, ev(web, alert.Trigger, "A", alert.Critical, "checkout down"))
		if a2.Outcome != alert.Deduplicated || a2.AlertID != a1.AlertID || a2.IncidentID != inc.ID {
			t.Fatalf("repeat: %+v", a2)
		}
		got, _ := alerts.Get(ctx, a1.AlertID)
		if got.RepeatCount != 2 || got.Status != alert.Firing {
			t.Fatalf("alert after repeat: %+v", got)
		}
		// Same summary, other fingerprint: a separate alert grouped into the open incident.
		b := submit1(t, w, ev(web, alert.Trigger, "B", alert.Warning, "checkout down"))
		if b.Outcome != alert.Created || b.AlertID == a1.AlertID || b.IncidentID != inc.ID {
			t.Fatalf("second alert: %+v", b)
		}
		info := submit1(t, w, ev(web, alert.Trigger, "C", alert.Info, "fyi"))
		if info.Outcome != alert.Created || info.IncidentID != 0 {
			t.Fatalf("info alert: %+v", info)
		}
		if r := submit1(t, w, ev(web, alert.Resolve, "A", "", "")); r.Outcome != alert.ResolvedOut {
			t.Fatalf("resolve A: %+v", r)
		}
		if inc, _ = incs.Get(ctx, inc.ID); inc.Status != incident.Triggered {
			t.Fatalf("incident resolved while B fires: %s", inc.Status)
		}
		if r := submit1(t, w, ev(web, alert.Acknowledge, "B", "", "")); r.Outcome != alert.Acked {
			t.Fatalf("ack B: %+v", r)
		}
		if inc, _ = incs.Get(ctx, inc.ID); inc.Status != incident.Acknowledged || inc.AcknowledgedAt.IsZero() {
			t.Fatalf("incident after ack: %+v", inc)
		}
		submit1(t, w, ev(web, alert.Resolve, "B", "", ""))
		if inc, _ = incs.Get(ctx, inc.ID); inc.Status != incident.Resolved || inc.ResolvedAt.IsZero() {
			t.Fatalf("incident not auto-resolved: %+v", inc)
		}
		if r := submit1(t, w, ev(web, alert.Resolve, "B", "", "")); r.Outcome != alert.Ignored {
			t.Fatalf("second resolve: %+v", r)
		}
		if r := submit1(t, w, ev(web, alert.Resolve, "nope", "", "")); r.Outcome != alert.Ignored {
			t.Fatalf("unknown resolve: %+v", r)
		}
		// Firing again after resolution opens a new incident on the same alert row.
		again := submit1(t, w, ev(web, alert.Trigger, "A", alert.Critical, "checkout down again"))
		if again.Outcome != alert.Created || again.AlertID != a1.AlertID || again.IncidentID == inc.ID || again.IncidentID == 0 {
			t.Fatalf("refire: %+v (old incident %d)", again, inc.ID)
		}

		tl, err := incs.Timeline(ctx, inc.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		var kinds []string
		for _, e := range tl {
			kinds = append(kinds, e.Kind)
		}
		want := []string{"opened", "alert_attached", "alert_attached", "alert_resolved", "alert_acknowledged", "status_changed", "alert_resolved", "status_changed"}
		if fmt.Sprint(kinds) != fmt.Sprint(want) {
			t.Fatalf("timeline kinds\n got %v\nwant %v", kinds, want)
		}

		// A service without auto-resolve keeps its incident open.
		m := submit1(t, w, ev(batch, alert.Trigger, "A", alert.Error, "job failed"))
		submit1(t, w, ev(batch, alert.Resolve, "A", "", ""))
		if mi, _ := incs.Get(ctx, m.IncidentID); mi.Status != incident.Triggered || mi.Level != "P2" {
			t.Fatalf("manual service incident: %+v", mi)
		}
	})
}

func TestWriterRaisesLevel(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		web, _ := seed(t, db)
		w, _ := start(t, db)
		incs := &incident.Store{DB: db}
		low := submit1(t, w, ev(web, alert.Trigger, "slow", alert.Warning, "latency high"))
		high := submit1(t, w, ev(web, alert.Trigger, "down", alert.Critical, "site down"))
		if low.IncidentID != high.IncidentID {
			t.Fatalf("not grouped: %d %d", low.IncidentID, high.IncidentID)
		}
		inc, _ := incs.Get(ctx, high.IncidentID)
		if inc.Level != "P1" || inc.AlertCount != 2 {
			t.Fatalf("level not raised: %+v", inc)
		}
		submit1(t, w, ev(web, alert.Trigger, "meh", alert.Error, "errors"))
		if inc, _ = incs.Get(ctx, high.IncidentID); inc.Level != "P1" {
			t.Fatalf("milder alert lowered level to %s", inc.Level)
		}
	})
}

// Many concurrent requests are committed together and each sees its own results.
func TestWriterConcurrent(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		web, _ := seed(t, db)
		w, _ := start(t, db)
		var wg sync.WaitGroup
		errs := make(chan error, 40)
		for g := range 40 {
			wg.Go(func() {
				evs := make([]alert.Event, 25)
				for i := range evs {
					evs[i] = ev(web, alert.Trigger, fmt.Sprintf("g%d-%d", g, i%20), alert.Error, "x") // 5 repeats each
				}
				res, err := w.Submit(ctx, evs)
				if err != nil {
					errs <- err
					return
				}
				for i, r := range res {
					if r.Fingerprint != evs[i].Fingerprint {
						errs <- fmt.Errorf("result %d for %s", i, r.Fingerprint)
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		var n, repeats, incidents int
		_ = db.R.QueryRowContext(ctx, `SELECT count(*), COALESCE(SUM(repeat_count), 0) FROM alerts`).Scan(&n, &repeats)
		_ = db.R.QueryRowContext(ctx, `SELECT count(*) FROM incidents`).Scan(&incidents)
		if n != 800 || repeats != 1000 || incidents != 1 {
			t.Fatalf("alerts %d repeats %d incidents %d; want 800 1000 1", n, repeats, incidents)
		}
	})
}

func TestWriterStopsCleanly(t *testing.T) {
	db := testenv.SQLite(t)
	web, _ := seed(t, db)
	w := &alert.Writer{DB: db}
	ctx, cancel := context.WithCancel(context.Background())
	w.Start(ctx)
	cancel()
	w.Wait()
	sctx, scancel := context.WithTimeout(context.Background(), time.Second)
	defer scancel()
	if _, err := w.Submit(sctx, []alert.Event{ev(web, alert.Trigger, "x", alert.Error, "x")}); err != alert.ErrStopped {
		t.Fatalf("submit after stop: %v", err)
	}
}

// Events of one batch that depend on each other see each other's effects, on the
// bulk path (PostgreSQL) as on the row-by-row one.
func TestWriterBatchDependencies(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		web, _ := seed(t, db)
		w, _ := start(t, db)
		incs := &incident.Store{DB: db}
		res, err := w.Submit(ctx, []alert.Event{
			ev(web, alert.Trigger, "X", alert.Error, "x down"),
			ev(web, alert.Trigger, "Y", alert.Error, "y down"),
			ev(web, alert.Resolve, "X", "", ""),
			ev(web, alert.Trigger, "Y", alert.Error, "y down"),
		})
		if err != nil {
			t.Fatal(err)
		}
		if res[0].AlertID == 0 || res[1].AlertID == 0 || res[0].AlertID == res[1].AlertID || res[2].AlertID != res[0].AlertID || res[3].AlertID != res[1].AlertID {
			t.Fatalf("alert ids %+v", res)
		}
		if res[2].Outcome != alert.ResolvedOut || res[3].Outcome != alert.Deduplicated {
			t.Fatalf("outcomes %+v", res)
		}
		// Y still fires, so resolving X must not resolve the incident.
		inc, _ := incs.Get(ctx, res[0].IncidentID)
		if inc.Status != incident.Triggered || inc.AlertCount != 2 {
			t.Fatalf("incident %+v", inc)
		}
		tl, _ := incs.Timeline(ctx, inc.ID, 0)
		var kinds []string
		for _, e := range tl {
			kinds = append(kinds, e.Kind)
		}
		if fmt.Sprint(kinds) != "[opened alert_attached alert_attached alert_resolved]" {
			t.Fatalf("timeline %v", kinds)
		}
		if !strings.Contains(string(tl[1].Data), fmt.Sprintf(`"alert_id":%d`, res[0].AlertID)) {
			t.Fatalf("attached entry data %s, want alert %d", tl[1].Data, res[0].AlertID)
		}
		// Resolving Y resolves the first incident; Z then opens a second one, which
		// resolves within the same batch — every entry in order.
		res, err = w.Submit(ctx, []alert.Event{ev(web, alert.Resolve, "Y", "", ""), ev(web, alert.Trigger, "Z", alert.Critical, "z"), ev(web, alert.Resolve, "Z", "", "")})
		if err != nil {
			t.Fatal(err)
		}
		first, _ := incs.Get(ctx, res[0].IncidentID)
		second, _ := incs.Get(ctx, res[1].IncidentID)
		if first.Status != incident.Resolved || second.ID == first.ID || second.Status != incident.Resolved || second.Level != "P1" || res[2].AlertID != res[1].AlertID {
			t.Fatalf("after batch: %+v\n%+v\n%+v", res, first, second)
		}
		for _, c := range []struct {
			id   int64
			from int
			want string
		}{{first.ID, 4, "[alert_resolved status_changed]"}, {second.ID, 0, "[opened alert_attached alert_resolved status_changed]"}} {
			tl, _ := incs.Timeline(ctx, c.id, 0)
			kinds = kinds[:0]
			for _, e := range tl[c.from:] {
				kinds = append(kinds, e.Kind)
			}
			if fmt.Sprint(kinds) != c.want {
				t.Fatalf("incident %d timeline %v, want %s", c.id, kinds, c.want)
			}
		}
	})
}
