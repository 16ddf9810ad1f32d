package check_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"github.com/firebreak/firebreak/internal/alert"
	"github.com/firebreak/firebreak/internal/check"
	"github.com/firebreak/firebreak/internal/store"
	"github.com/firebreak/firebreak/internal/testenv"
)

// BenchmarkScheduler measures one full round of 10,000 HTTP checks (each
// against a local HTTP server on loopback, the server in the same process)
// through the real scheduler: claim, run on the worker pool, and record
// results, daily roll-ups and state in batched transactions. A 60 s
// interval needs 167 checks/s; cpu-cores is the CPU the whole process (the
// checks' HTTP server included) used per second of wall time during the
// round, to compare with the 2 cores the issue allows.
//
//	go test -run '^$' -bench Scheduler -benchtime=3x ./internal/check/
func BenchmarkScheduler(b *testing.B) {
	for _, be := range []struct {
		name string
		db   func(testing.TB) *store.DB
	}{{"sqlite", testenv.SQLite}, {"postgres", testenv.Postgres}} {
		b.Run(be.name, func(b *testing.B) {
			db := be.db(b)
			benchScheduler(b, db, 10000)
		})
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func benchScheduler(b *testing.B, db *store.DB, n int) {
	ctx := context.Background()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") }))
	defer srv.Close()
	if _, err := db.W.Exec(`INSERT INTO levels (id, position, name_en, name_zh) VALUES ('P2', 0, 'Minor', '三级')`); err != nil {
		b.Fatal(err)
	}
	var svc int64
	if err := db.W.QueryRow(`INSERT INTO services (name, created_at) VALUES ('bench', 0) RETURNING id`).Scan(&svc); err != nil {
		b.Fatal(err)
	}
	now := time.Now().UTC()
	err := db.Tx(ctx, func(tx *sql.Tx) error {
		for i := range n {
			c := check.Check{Slug: fmt.Sprintf("c%05d", i), Kind: "http", Interval: check.Duration(time.Minute), ServiceID: svc,
				Spec: spec(map[string]any{"url": fmt.Sprintf("%s/health/%d", srv.URL, i), "expect_body": "ok"})}
			if _, err := check.Put(ctx, tx, 0, c, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	w := &alert.Writer{DB: db}
	wctx, stop := context.WithCancel(ctx)
	w.Start(wctx)
	defer func() { stop(); w.Wait() }()
	s := &check.Scheduler{DB: db, R: db.R, Alerts: w}
	b.ResetTimer()
	var wall, cpu time.Duration
	for range b.N {
		if _, err := db.W.Exec(`UPDATE check_state SET next_run_at = 0`); err != nil {
			b.Fatal(err)
		}
		t0, c0 := time.Now(), cpuTime()
		if _, err := s.RunDue(ctx); err != nil {
			b.Fatal(err)
		}
		wall += time.Since(t0)
		cpu += cpuTime() - c0
	}
	b.StopTimer()
	var down int
	if err := db.R.QueryRow(`SELECT COUNT(*) FROM check_state WHERE status <> 'up'`).Scan(&down); err != nil || down != 0 {
		b.Fatalf("%d checks not up (%v)", down, err)
	}
	b.ReportMetric(float64(n*b.N)/wall.Seconds(), "checks/s")
	b.ReportMetric(cpu.Seconds()/wall.Seconds(), "cpu-cores")
	b.ReportMetric(float64(cpu.Microseconds())/float64(n*b.N), "cpu-µs/check")
	b.ReportMetric(wall.Seconds()/float64(b.N), "s/round")
	b.ReportMetric(0, "ns/op")
}
