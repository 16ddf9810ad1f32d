package paging_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/firebreak/firebreak/internal/paging"
	"github.com/firebreak/firebreak/internal/plan"
	"github.com/firebreak/firebreak/internal/store"
	"github.com/firebreak/firebreak/internal/testenv"
)

// waitFor polls cond (real goroutines are involved) and fails after a while.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestOneLeaderOnPostgresAndTakeover(t *testing.T) {
	db := testenv.Postgres(t)
	a := &paging.Engine{DB: db, Options: paging.Options{LeaderRetry: 20 * time.Millisecond}}
	b := &paging.Engine{DB: db, Options: paging.Options{LeaderRetry: 20 * time.Millisecond}}
	ctxA, stopA := context.WithCancel(context.Background())
	ctxB, stopB := context.WithCancel(context.Background())
	defer stopB()
	doneA, doneB := make(chan error, 1), make(chan error, 1)
	go func() { doneA <- a.Run(ctxA) }()
	go func() { doneB <- b.Run(ctxB) }()
	waitFor(t, "a leader", func() bool { return a.Leading() || b.Leading() })
	for range 20 {
		if a.Leading() && b.Leading() {
			t.Fatal("two leaders")
		}
		time.Sleep(5 * time.Millisecond)
	}
	first, firstStop, firstDone, other := a, stopA, doneA, b
	if b.Leading() {
		first, firstStop, firstDone, other = b, stopB, doneB, a
	}
	firstStop()
	<-firstDone
	if first.Leading() {
		t.Error("stopped engine still leading")
	}
	waitFor(t, "the other replica to take over", other.Leading)
	stopA()
	stopB()
}

func TestSQLiteEngineLeadsAlone(t *testing.T) {
	db := testenv.SQLite(t)
	e := &paging.Engine{DB: db}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	waitFor(t, "leading", e.Leading)
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestLinks(t *testing.T) {
	s := paging.NewSigner([]byte("0123456789abcdef0123456789abcdef"))
	now := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	tok := s.Token(42, paging.ActionAcknowledge, 7, now.Add(time.Hour))
	c, err := s.Verify(tok, now)
	if err != nil || c.IncidentID != 42 || c.Action != paging.ActionAcknowledge || c.UserID != 7 || c.Nonce == "" {
		t.Fatalf("verify: %+v %v", c, err)
	}
	if _, err := s.Verify(tok, now.Add(time.Hour)); !errors.Is(err, paging.ErrLinkExpired) {
		t.Errorf("expired: %v", err)
	}
	other := paging.NewSigner([]byte("another key, another instance!!!"))
	if _, err := other.Verify(tok, now); !errors.Is(err, paging.ErrLinkInvalid) {
		t.Errorf("foreign key: %v", err)
	}
	tampered := tok[:len(tok)-3] + "AAA"
	for _, bad := range []string{"", "v1", "v2.a.b", tampered, "v1.." + tok[3:]} {
		if _, err := s.Verify(bad, now); !errors.Is(err, paging.ErrLinkInvalid) {
			t.Errorf("Verify(%q) = %v", bad, err)
		}
	}
	if tok2 := s.Token(42, paging.ActionAcknowledge, 7, now.Add(time.Hour)); tok2 == tok {
		t.Error("two tokens for the same action are equal (no nonce)")
	}
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		ls, err := paging.LoadSigner(context.Background(), db)
		if err != nil {
			t.Fatal(err)
		}
		ls2, err := paging.LoadSigner(context.Background(), db)
		if err != nil {
			t.Fatal(err)
		}
		tok := ls.Token(1, paging.ActionResolve, 0, now.Add(time.Hour))
		c, err := ls2.Verify(tok, now)
		if err != nil {
			t.Fatalf("second replica's signer: %v", err)
		}
		use := func() error {
			return db.Tx(context.Background(), func(tx *sql.Tx) error { return paging.UseToken(context.Background(), tx, c, now) })
		}
		if err := use(); err != nil {
			t.Fatal(err)
		}
		if err := use(); !errors.Is(err, paging.ErrLinkUsed) {
			t.Errorf("second use: %v", err)
		}
	})
}

func TestPlanSyncIsIdempotent(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		ctx := context.Background()
		count := func(q string) int {
			var n int
			if err := db.R.QueryRow(q).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		users, pols, layers := count(`SELECT COUNT(*) FROM users`), count(`SELECT COUNT(*) FROM escalation_policies`), count(`SELECT COUNT(*) FROM schedule_layers`)
		var start int64
		if err := db.R.QueryRow(`SELECT start_at FROM schedule_layers`).Scan(&start); err != nil {
			t.Fatal(err)
		}
		e.clock.Add(50 * time.Hour)
		if err := paging.Sync(ctx, db, e.clock.Now()); err != nil {
			t.Fatal(err)
		}
		if count(`SELECT COUNT(*) FROM users`) != users || count(`SELECT COUNT(*) FROM escalation_policies`) != pols || count(`SELECT COUNT(*) FROM schedule_layers`) != layers {
			t.Error("sync duplicated rows")
		}
		var start2 int64
		if err := db.R.QueryRow(`SELECT start_at FROM schedule_layers`).Scan(&start2); err != nil || start2 != start {
			t.Errorf("rotation start moved: %d → %d (%v)", start, start2, err)
		}
		// The plan made one policy per paging level (P0, P1, P2; P3 pages nobody).
		if pols != 3 || count(`SELECT COUNT(*) FROM escalation_policies WHERE slug = 'plan-p3'`) != 0 {
			t.Errorf("plan policies = %d", pols)
		}
		// The reference plan applies with everything in it.
		ref, src := plan.Default()
		if _, _, err := plan.Apply(ctx, db, ref, src, "test", e.clock.Now(), paging.SyncPlan); err != nil {
			t.Fatal(err)
		}
		if count(`SELECT COUNT(*) FROM schedules`) != 3 || count(`SELECT COUNT(*) FROM channels WHERE source = 'plan'`) != 3 ||
			count(`SELECT COUNT(*) FROM escalation_policies WHERE source = 'plan'`) != 3 {
			t.Errorf("reference plan: schedules %d channels %d policies %d", count(`SELECT COUNT(*) FROM schedules`),
				count(`SELECT COUNT(*) FROM channels WHERE source = 'plan'`), count(`SELECT COUNT(*) FROM escalation_policies WHERE source = 'plan'`))
		}
	})
}
