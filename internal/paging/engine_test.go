package paging_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firebreak/firebreak/internal/contact"
	"github.com/firebreak/firebreak/internal/escalation"
	"github.com/firebreak/firebreak/internal/incident"
	"github.com/firebreak/firebreak/internal/notify/webhook"
	"github.com/firebreak/firebreak/internal/paging"
	"github.com/firebreak/firebreak/internal/plan"
	"github.com/firebreak/firebreak/internal/store"
	"github.com/firebreak/firebreak/internal/testenv"
)

const testPlan = `
version: 1
name: {en: "Test plan", zh: "测试预案"}
people:
  - {handle: alice, name: "Alice"}
  - {handle: bob, name: "Bob", phone: "+86 138 0000 0002"}
  - {handle: carol, name: "Carol"}
schedules:
  - id: primary
    timezone: Asia/Shanghai
    rotation: {every: 168h, handoff: "Monday 10:00", start: "2026-11-02", members: [alice, carol]}
escalation:
  repeat: 1
  steps:
    - {after: 0m, page: level}
    - {after: 10m, page: [bob]}
levels:
  - {id: P0, name: {en: "Critical", zh: "一级"}, page: [primary, bob]}
  - {id: P1, name: {en: "Major", zh: "二级"}, page: [primary]}
  - {id: P2, name: {en: "Minor", zh: "三级"}, page: [primary]}
  - {id: P3, name: {en: "Cosmetic", zh: "四级"}, page: []}
types:
  - {id: outage, name: {en: "Outage", zh: "故障"}, default_level: P1}
`

// clock is the engine's fake time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// receiver is a local webhook endpoint that records what it is sent and
// answers with the statuses it is given, then 200.
type receiver struct {
	mu       sync.Mutex
	srv      *httptest.Server
	got      []webhook.Payload
	keys     []string
	statuses []int
	hang     bool
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		hang := r.hang
		status := 200
		if len(r.statuses) > 0 {
			status, r.statuses = r.statuses[0], r.statuses[1:]
		}
		r.mu.Unlock()
		if hang {
			<-req.Context().Done()
			return
		}
		if err := webhook.Verify("0123456789abcdef0123", req.Header, body, time.Now(), time.Hour); err != nil {
			t.Errorf("webhook signature: %v", err)
		}
		if status == 200 {
			var p webhook.Payload
			if err := json.Unmarshal(body, &p); err != nil {
				t.Errorf("webhook body: %v", err)
			}
			r.mu.Lock()
			r.got = append(r.got, p)
			r.keys = append(r.keys, req.Header.Get(webhook.HeaderIdempotency))
			r.mu.Unlock()
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) count() int { r.mu.Lock(); defer r.mu.Unlock(); return len(r.got) }

type env struct {
	db        *store.DB
	clock     *clock
	engine    *paging.Engine
	incidents *incident.Store
	contacts  *contact.Store
	users     map[string]int64
	recv      map[string]*receiver
	methods   map[string]int64
}

func setup(t *testing.T, db *store.DB) *env {
	t.Helper()
	ctx := context.Background()
	p, err := plan.Parse([]byte(testPlan))
	if err != nil {
		t.Fatal(err)
	}
	// Monday 2026-11-02 12:00 Shanghai: alice's week on primary.
	c := &clock{t: time.Date(2026, 11, 2, 4, 0, 0, 0, time.UTC)}
	if _, _, err := plan.Apply(ctx, db, p, []byte(testPlan), "test", c.Now(), paging.SyncPlan); err != nil {
		t.Fatal(err)
	}
	e := &env{db: db, clock: c, users: map[string]int64{}, recv: map[string]*receiver{}, methods: map[string]int64{}}
	e.contacts = &contact.Store{DB: db, Now: c.Now}
	for _, u := range []string{"alice", "bob", "carol"} {
		var id int64
		if err := db.R.QueryRowContext(ctx, `SELECT id FROM users WHERE username = $1`, u).Scan(&id); err != nil {
			t.Fatal(err)
		}
		e.users[u] = id
		e.addMethod(t, u, u)
	}
	e.incidents = &incident.Store{DB: db, Now: c.Now}
	e.engine = &paging.Engine{DB: db, Now: c.Now, Links: paging.NewSigner([]byte("0123456789abcdef0123456789abcdef")),
		Options: paging.Options{BaseURL: "http://firebreak.test", Timeout: 300 * time.Millisecond, MaxAttempts: 2, BackoffBase: time.Minute}}
	return e
}

// addMethod gives user a verified webhook method named name with a rule "at once".
func (e *env) addMethod(t *testing.T, user, name string) *receiver {
	t.Helper()
	r := newReceiver(t)
	m, err := e.contacts.Create(context.Background(), e.users[user], contact.MethodInput{
		Kind: "webhook", Name: name, Address: r.srv.URL, Secret: "0123456789abcdef0123", Verified: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.contacts.CreateRule(context.Background(), e.users[user], contact.RuleInput{MethodID: m.ID}); err != nil {
		t.Fatal(err)
	}
	e.recv[name], e.methods[name] = r, m.ID
	return r
}

func (e *env) step(t *testing.T) time.Time {
	t.Helper()
	next, err := e.engine.Step(context.Background(), true)
	if err != nil {
		t.Fatal(err)
	}
	return next
}

func (e *env) declare(t *testing.T, level string) incident.Incident {
	t.Helper()
	inc, err := e.incidents.Declare(context.Background(), incident.Actor{Name: "test"}, incident.Declaration{Title: "Checkout down", Type: "outage", Level: level})
	if err != nil {
		t.Fatal(err)
	}
	return inc
}

type notif struct {
	Outcome, Method, User, Error, FallbackTo string
	Bundled                                  int
}

// attempts returns the incident's notification timeline entries.
func (e *env) attempts(t *testing.T, id int64) []notif {
	t.Helper()
	es, err := e.incidents.Timeline(context.Background(), id, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []notif
	for _, en := range es {
		if en.Kind != paging.KindNotification {
			continue
		}
		var n notif
		var d struct {
			Outcome, Method, User, Error string
			FallbackTo                   string `json:"fallback_to"`
			Bundled                      int
		}
		if err := json.Unmarshal(en.Data, &d); err != nil {
			t.Fatal(err)
		}
		n = notif{d.Outcome, d.Method, d.User, d.Error, d.FallbackTo, d.Bundled}
		out = append(out, n)
	}
	return out
}

func outcomes(ns []notif) string {
	var s []string
	for _, n := range ns {
		s = append(s, n.User+":"+n.Outcome)
	}
	return strings.Join(s, ",")
}

func TestEscalationPagesStepsUntilAcknowledged(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		inc := e.declare(t, "P1")
		next := e.step(t)
		// Step 1 pages the level's schedule: alice is on call this week.
		if e.recv["alice"].count() != 1 || e.recv["bob"].count() != 0 || e.recv["carol"].count() != 0 {
			t.Fatalf("after step 1: alice %d bob %d carol %d", e.recv["alice"].count(), e.recv["bob"].count(), e.recv["carol"].count())
		}
		p := e.recv["alice"].got[0]
		if p.Message.IncidentID != inc.ID || !strings.Contains(p.Message.AckURL, "/act/v1.") || !strings.HasPrefix(p.Message.URL, "http://firebreak.test/incidents/") {
			t.Errorf("payload %+v", p)
		}
		if want := e.clock.Now().Add(10 * time.Minute); !next.Equal(want) {
			t.Errorf("next wake %v, want %v (step 2)", next, want)
		}
		// Nothing more before step 2 is due, however often the engine runs.
		e.clock.Add(9 * time.Minute)
		e.step(t)
		e.step(t)
		if e.recv["bob"].count() != 0 || e.recv["alice"].count() != 1 {
			t.Fatal("paged early or twice")
		}
		e.clock.Add(time.Minute)
		e.step(t)
		if e.recv["bob"].count() != 1 {
			t.Fatalf("bob not paged at step 2")
		}
		// Acknowledged: the next cycle (repeat: 1) never comes.
		if _, err := e.incidents.ChangeStatus(context.Background(), incident.Actor{Name: "alice"}, inc.ID, incident.Acknowledged, ""); err != nil {
			t.Fatal(err)
		}
		e.step(t)
		e.clock.Add(2 * time.Hour)
		e.step(t)
		if e.recv["alice"].count() != 1 || e.recv["bob"].count() != 1 {
			t.Errorf("paged after acknowledgement: alice %d bob %d", e.recv["alice"].count(), e.recv["bob"].count())
		}
		if got := outcomes(e.attempts(t, inc.ID)); got != "alice:sent,bob:sent" {
			t.Errorf("timeline attempts %s", got)
		}
	})
}

func TestRepeatThenStopAndResolve(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		inc := e.declare(t, "P1")
		for range 10 {
			e.step(t)
			e.clock.Add(5 * time.Minute)
		}
		// 0m alice, 10m bob, then (cycle 20m: 10m + 10m gap) 20m alice, 30m bob; repeat 1 → done.
		if e.recv["alice"].count() != 2 || e.recv["bob"].count() != 2 {
			t.Errorf("alice %d bob %d, want 2 and 2", e.recv["alice"].count(), e.recv["bob"].count())
		}
		keys := slices.Concat(e.recv["alice"].keys, e.recv["bob"].keys)
		slices.Sort(keys)
		if len(slices.Compact(keys)) != 4 {
			t.Errorf("idempotency keys not unique: %v", keys)
		}
		// A resolved incident pages nobody even after "escalate now".
		inc2 := e.declare(t, "P1")
		if _, err := e.incidents.ChangeStatus(context.Background(), incident.Actor{Name: "x"}, inc2.ID, incident.Resolved, ""); err != nil {
			t.Fatal(err)
		}
		before := e.recv["alice"].count()
		e.step(t)
		if e.recv["alice"].count() != before {
			t.Error("resolved incident paged")
		}
		_ = inc
	})
}

func TestP0PagesEveryTargetAtOnce(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		e.declare(t, "P0")
		e.step(t)
		if e.recv["alice"].count() != 1 || e.recv["bob"].count() != 1 {
			t.Errorf("P0 step 1: alice %d bob %d, want both", e.recv["alice"].count(), e.recv["bob"].count())
		}
		// P3 pages nobody.
		before := e.recv["alice"].count() + e.recv["bob"].count() + e.recv["carol"].count()
		e.declare(t, "P3")
		e.step(t)
		if after := e.recv["alice"].count() + e.recv["bob"].count() + e.recv["carol"].count(); after != before {
			t.Error("P3 paged someone")
		}
	})
}

func TestRetryThenDeliveredExactlyOnce(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		e.recv["alice"].statuses = []int{500}
		inc := e.declare(t, "P1")
		next := e.step(t)
		if e.recv["alice"].count() != 0 {
			t.Fatal("500 counted as delivered")
		}
		if d := next.Sub(e.clock.Now()); d < 48*time.Second || d > 72*time.Second {
			t.Errorf("retry in %v, want about a minute (backoff base, ±20%%)", d)
		}
		e.clock.Add(73 * time.Second)
		e.step(t)
		e.step(t)
		if e.recv["alice"].count() != 1 {
			t.Fatalf("delivered %d times, want once", e.recv["alice"].count())
		}
		got := e.attempts(t, inc.ID)
		if outcomes(got) != "alice:retry,alice:sent" || !strings.Contains(got[0].Error, "500") {
			t.Errorf("timeline %+v", got)
		}
	})
}

func TestTimeoutFallsBackToNextMethod(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		e.recv["alice"].hang = true
		backup := e.addMethod(t, "alice", "alice-backup")
		// The backup has its own rule too, five minutes later; the fallback must not wait for it.
		if _, err := db.W.Exec(`UPDATE notification_rules SET delay_ms = 300000 WHERE contact_method_id = $1`, e.methods["alice-backup"]); err != nil {
			t.Fatal(err)
		}
		inc := e.declare(t, "P1")
		e.step(t) // attempt 1 times out
		e.clock.Add(2 * time.Minute)
		e.step(t) // attempt 2 times out: permanent, fall back
		e.step(t) // the backup delivers
		if backup.count() != 1 {
			t.Fatalf("backup got %d", backup.count())
		}
		e.clock.Add(10 * time.Minute)
		e.step(t)
		if backup.count() != 1 {
			t.Errorf("backup paged again by its own rule: %d", backup.count())
		}
		got := e.attempts(t, inc.ID)
		if len(got) < 3 || got[0].Outcome != "retry" || got[1].Outcome != "failed" || !strings.Contains(got[1].Error, "no answer") ||
			!strings.Contains(got[1].FallbackTo, "alice-backup") || got[2].Outcome != "sent" || got[2].Method != "webhook alice-backup" {
			t.Errorf("timeline %+v", got)
		}
	})
}

func TestThrottleBundles(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		if _, err := db.W.Exec(`UPDATE contact_methods SET throttle_count = 1, throttle_window_ms = 3600000 WHERE id = $1`, e.methods["alice"]); err != nil {
			t.Fatal(err)
		}
		a := e.declare(t, "P1")
		e.step(t)
		b := e.declare(t, "P1")
		c := e.declare(t, "P1")
		e.clock.Add(time.Second)
		next := e.step(t)
		if e.recv["alice"].count() != 1 {
			t.Fatalf("throttle let %d through", e.recv["alice"].count())
		}
		if want := e.clock.Now().Add(-time.Second).Add(time.Hour); next.After(want) {
			t.Errorf("next %v after the throttle window ends %v", next, want)
		}
		if got := e.attempts(t, b.ID); outcomes(got) != "alice:throttled" {
			t.Errorf("b timeline %+v", got)
		}
		// Bob's step 2 at 10m goes out on its own method; then the window ends.
		e.clock.Add(time.Hour)
		e.step(t)
		if e.recv["alice"].count() != 2 {
			t.Fatalf("after the window: %d messages, want 2 (one bundle)", e.recv["alice"].count())
		}
		bundle := e.recv["alice"].got[1]
		if !strings.Contains(bundle.Message.Title, "3 incidents") || !strings.Contains(bundle.Message.Body, fmt.Sprintf("#%d", c.ID)) ||
			strings.Count(bundle.Message.Body, fmt.Sprintf("#%d ", b.ID)) != 1 || !strings.HasPrefix(e.recv["alice"].keys[1], "bundle:") {
			t.Errorf("bundle %+v", bundle.Message)
		}
		for _, id := range []int64{b.ID, c.ID} {
			at := e.attempts(t, id)
			if last := at[len(at)-1]; last.Outcome != "sent" || last.Bundled < 2 {
				t.Errorf("incident %d: %+v", id, at)
			}
		}
		_ = a
	})
}

func TestAckTimeoutRetriggers(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		ctx := context.Background()
		pols := &escalation.Store{DB: db}
		pol, err := pols.Create(ctx, escalation.Input{Slug: "fast", Name: "Fast", AckTimeout: escalation.Duration(15 * time.Minute),
			Steps: []escalation.StepRecord{{Targets: []escalation.Target{{Kind: escalation.KindUser, ID: "carol"}}}}})
		if err != nil {
			t.Fatal(err)
		}
		var svc int64
		if err := db.W.QueryRow(`INSERT INTO services (name, created_at, escalation_policy_id) VALUES ('shop', 0, $1) RETURNING id`, pol.ID).Scan(&svc); err != nil {
			t.Fatal(err)
		}
		inc, err := e.incidents.Declare(ctx, incident.Actor{Name: "t"}, incident.Declaration{Title: "Shop", Type: "outage", Level: "P1", ServiceID: svc})
		if err != nil {
			t.Fatal(err)
		}
		e.step(t)
		if e.recv["carol"].count() != 1 || e.recv["alice"].count() != 0 {
			t.Fatalf("service policy not used: carol %d alice %d", e.recv["carol"].count(), e.recv["alice"].count())
		}
		e.clock.Add(time.Minute)
		if _, err := e.incidents.ChangeStatus(ctx, incident.Actor{Name: "carol"}, inc.ID, incident.Acknowledged, ""); err != nil {
			t.Fatal(err)
		}
		e.step(t)
		e.clock.Add(14 * time.Minute)
		e.step(t)
		if e.recv["carol"].count() != 1 {
			t.Fatal("paged before the acknowledgement expired")
		}
		e.clock.Add(time.Minute)
		e.step(t)
		if e.recv["carol"].count() != 2 {
			t.Fatalf("acknowledgement timeout did not re-page: %d", e.recv["carol"].count())
		}
		got, err := e.incidents.Get(ctx, inc.ID)
		if err != nil || got.Status != incident.Triggered {
			t.Errorf("status %s, want triggered again", got.Status)
		}
	})
}

func TestEscalateNowAndReassign(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		ctx := context.Background()
		inc := e.declare(t, "P1")
		e.step(t)
		e.clock.Add(time.Minute)
		err := db.Tx(ctx, func(tx *sql.Tx) error {
			cur, err := incident.GetTx(ctx, tx, inc.ID)
			if err != nil {
				return err
			}
			return paging.EscalateNow(ctx, tx, cur, incident.Actor{Name: "alice"}, e.clock.Now())
		})
		if err != nil {
			t.Fatal(err)
		}
		e.step(t)
		if e.recv["bob"].count() != 1 {
			t.Fatalf("escalate now did not page step 2: bob %d", e.recv["bob"].count())
		}
		// Reassign to carol while acknowledged: she is paged anyway.
		if _, err := e.incidents.ChangeStatus(ctx, incident.Actor{Name: "bob"}, inc.ID, incident.Acknowledged, ""); err != nil {
			t.Fatal(err)
		}
		err = db.Tx(ctx, func(tx *sql.Tx) error {
			cur, err := incident.GetTx(ctx, tx, inc.ID)
			if err != nil {
				return err
			}
			return paging.Reassign(ctx, e.engine, tx, cur, []escalation.Target{{Kind: escalation.KindUser, ID: "carol"}}, incident.Actor{Name: "bob"}, e.clock.Now())
		})
		if err != nil {
			t.Fatal(err)
		}
		e.step(t)
		if e.recv["carol"].count() != 1 {
			t.Errorf("reassign did not page carol")
		}
		err = db.Tx(ctx, func(tx *sql.Tx) error {
			cur, _ := incident.GetTx(ctx, tx, inc.ID)
			return paging.Reassign(ctx, e.engine, tx, cur, []escalation.Target{{Kind: escalation.KindUser, ID: "nobody"}}, incident.Actor{Name: "bob"}, e.clock.Now())
		})
		if err == nil || !strings.Contains(err.Error(), "nobody") {
			t.Errorf("reassign to unknown user: %v", err)
		}
	})
}
