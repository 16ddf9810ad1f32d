package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/firebreak/firebreak/internal/contact"
	"github.com/firebreak/firebreak/internal/notify/webhook"
	"github.com/firebreak/firebreak/internal/store"
	"github.com/firebreak/firebreak/internal/testenv"
)

// failoverPlan pages alice at once, bob 6 s later and carol 12 s later: real
// seconds, because real processes run it.
const failoverPlan = `
version: 1
name: {en: "Failover test", zh: "切换测试"}
people:
  - {handle: alice}
  - {handle: bob}
  - {handle: carol}
escalation:
  steps:
    - {after: 0s, page: level}
    - {after: 6s, page: [bob]}
    - {after: 12s, page: [carol]}
levels:
  - {id: P0, name: {en: "Critical", zh: "一级"}, page: [alice]}
  - {id: P1, name: {en: "Major", zh: "二级"}, page: [alice]}
  - {id: P2, name: {en: "Minor", zh: "三级"}, page: []}
  - {id: P3, name: {en: "Cosmetic", zh: "四级"}, page: []}
alert_levels: {critical: P0, error: P1, warning: P2, info: none}
types:
  - {id: outage, name: {en: "Outage", zh: "故障"}, default_level: P1}
`

// buildBinary builds firebreak once per test binary.
var buildBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "firebreak-e2e-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "firebreak")
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/firebreak")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build: %v\n%s", err, out)
	}
	return bin, nil
})

// replica is one `firebreak serve` process.
type replica struct {
	name string
	cmd  *exec.Cmd
	base string
	mu   sync.Mutex
	log  bytes.Buffer
	done chan struct{}
}

func (r *replica) logs() string { r.mu.Lock(); defer r.mu.Unlock(); return r.log.String() }

func (r *replica) leading() bool { return strings.Contains(r.logs(), `"msg":"engine: leading"`) }

func startReplica(t *testing.T, bin, name, dbURL string) *replica {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	r := &replica{name: name, base: "http://" + addr, done: make(chan struct{})}
	r.cmd = exec.Command(bin, "serve")
	r.cmd.Env = append(os.Environ(), "FIREBREAK_LISTEN="+addr, "FIREBREAK_DATABASE_URL="+dbURL,
		"FIREBREAK_ADMIN_PASSWORD=failover-correct-horse", "FIREBREAK_LOG_FORMAT=json", "FIREBREAK_NOTIFY_BACKOFF=200ms")
	killWithParent(r.cmd)
	out, err := r.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	r.cmd.Stderr = r.cmd.Stdout
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(r.done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			r.mu.Lock()
			r.log.WriteString(sc.Text() + "\n")
			r.mu.Unlock()
		}
		_ = r.cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = r.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-r.done:
		case <-time.After(20 * time.Second):
			_ = r.cmd.Process.Kill()
			<-r.done
		}
		if t.Failed() {
			t.Logf("%s log:\n%s", r.name, r.logs())
		}
	})
	wait(t, r.name+" ready", 30*time.Second, func() bool {
		resp, err := http.Get(r.base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	return r
}

// wait polls cond until it holds; real processes are involved, so there is no clock to move.
func wait(t *testing.T, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", limit, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// pageLog records webhook deliveries by person.
type pageLog struct {
	mu   sync.Mutex
	got  map[string][]string // person → idempotency keys received
	when map[string]time.Time
}

func (p *pageLog) count(who string) int { p.mu.Lock(); defer p.mu.Unlock(); return len(p.got[who]) }

func TestLeaderKilledMidEscalation(t *testing.T) {
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	dbURL := testenv.PostgresURL(t)
	ctx := context.Background()

	// Apply the plan with the CLI, as an operator would.
	planFile := filepath.Join(t.TempDir(), "plan.yaml")
	if err := os.WriteFile(planFile, []byte(failoverPlan), 0o600); err != nil {
		t.Fatal(err)
	}
	a := startReplica(t, bin, "replica-a", dbURL)
	apply := exec.Command(bin, "plan", "apply", "-f", planFile)
	apply.Env = append(os.Environ(), "FIREBREAK_DATABASE_URL="+dbURL)
	if out, err := apply.CombinedOutput(); err != nil {
		t.Fatalf("plan apply: %v\n%s", err, out)
	}
	b := startReplica(t, bin, "replica-b", dbURL)

	// Each person gets a verified webhook contact method to a local receiver.
	const secret = "failover-webhook-secret"
	pages := &pageLog{got: map[string][]string{}, when: map[string]time.Time{}}
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := webhook.Verify(secret, r.Header, body, time.Now(), time.Minute); err != nil {
			t.Errorf("signature: %v", err)
			w.WriteHeader(400)
			return
		}
		who := r.URL.Query().Get("who")
		pages.mu.Lock()
		pages.got[who] = append(pages.got[who], r.Header.Get(webhook.HeaderIdempotency))
		pages.when[who] = time.Now()
		pages.mu.Unlock()
	}))
	defer recv.Close()
	db, err := store.Open(ctx, store.Options{DatabaseURL: dbURL})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	contacts := &contact.Store{DB: db}
	for _, who := range []string{"alice", "bob", "carol"} {
		var uid int64
		if err := db.R.QueryRow(`SELECT id FROM users WHERE username = $1`, who).Scan(&uid); err != nil {
			t.Fatalf("plan user %s: %v", who, err)
		}
		m, err := contacts.Create(ctx, uid, contact.MethodInput{Kind: "webhook", Address: recv.URL + "/?who=" + who, Secret: secret, Verified: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := contacts.CreateRule(ctx, uid, contact.RuleInput{MethodID: m.ID}); err != nil {
			t.Fatal(err)
		}
	}
	var key string
	if err := db.R.QueryRow(`SELECT key FROM integration_keys ORDER BY id LIMIT 1`).Scan(&key); err != nil {
		t.Fatal(err)
	}

	// One of the two leads.
	wait(t, "a leader", 15*time.Second, func() bool { return a.leading() || b.leading() })
	leader, follower := a, b
	if b.leading() {
		leader, follower = b, a
	}
	if follower.leading() {
		t.Fatal("both replicas lead")
	}

	// The signal goes to the follower: the leader learns of it by NOTIFY.
	resp, err := http.Post(follower.base+"/api/v1/integrations/"+key+"/events", "application/json",
		strings.NewReader(`{"summary":"Checkout down","severity":"critical","dedup_key":"checkout"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 202 && resp.StatusCode != 200 {
		t.Fatalf("ingest: %d", resp.StatusCode)
	}
	wait(t, "step 1 (alice)", 10*time.Second, func() bool { return pages.count("alice") == 1 })

	// Kill the leader mid-escalation: step 2 is due in about 6 s.
	if err := leader.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-leader.done
	killedAt := time.Now()
	wait(t, "the follower to take over", 15*time.Second, follower.leading)
	wait(t, "step 2 (bob) from the new leader", 20*time.Second, func() bool { return pages.count("bob") >= 1 })
	wait(t, "step 3 (carol)", 20*time.Second, func() bool { return pages.count("carol") >= 1 })

	// The escalation is finished and nothing is left to send: no page can come later.
	wait(t, "the outbox to drain", 10*time.Second, func() bool {
		var open, next int
		_ = db.R.QueryRow(`SELECT COUNT(*) FROM notifications WHERE state NOT IN ('sent', 'cancelled', 'failed_permanent')`).Scan(&open)
		_ = db.R.QueryRow(`SELECT COUNT(*) FROM escalations WHERE next_at > 0`).Scan(&next)
		return open == 0 && next == 0
	})
	pages.mu.Lock()
	defer pages.mu.Unlock()
	for _, who := range []string{"alice", "bob", "carol"} {
		if n := len(pages.got[who]); n != 1 {
			t.Errorf("%s paged %d times, want exactly once (keys %v)", who, n, pages.got[who])
		}
	}
	if pages.when["bob"].Before(killedAt) {
		t.Error("bob was paged before the leader died: the test did not test the takeover")
	}
	var sent int
	if err := db.R.QueryRow(`SELECT COUNT(*) FROM notifications WHERE state = 'sent'`).Scan(&sent); err != nil || sent != 3 {
		t.Errorf("sent notifications = %d (%v), want 3", sent, err)
	}
}
