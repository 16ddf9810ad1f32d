package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/firebreak/firebreak/internal/alert"
	"github.com/firebreak/firebreak/internal/incident"
	"github.com/firebreak/firebreak/internal/server"
	"github.com/firebreak/firebreak/internal/testenv"
)

// backends are the databases every end-to-end test runs against: url returns the
// DatabaseURL for server.TestInstance ("" means SQLite in the test's directory).
var backends = []struct {
	name string
	url  func(testing.TB) string
}{
	{"sqlite", func(testing.TB) string { return "" }},
	{"postgres", testenv.PostgresURL},
}

// firebreak is one running instance with its demo service.
type firebreak struct {
	in        *server.Instance
	base      string // http://127.0.0.1:port
	key       string // the demo service's integration key
	serviceID int64
	http      *http.Client
}

// startFirebreak starts a complete firebreak for the test against databaseURL
// ("" for SQLite) and stops it when the test ends.
func startFirebreak(tb testing.TB, databaseURL string) *firebreak {
	tb.Helper()
	dir := tb.TempDir() // registered before the cleanup below, so removed after Close
	ctx, cancel := context.WithCancel(context.Background())
	in, base, err := server.TestInstance(ctx, dir, databaseURL, "e2e-correct-horse-battery")
	if err != nil {
		cancel()
		tb.Fatalf("start firebreak: %v", err)
	}
	client := &http.Client{Timeout: 30 * time.Second}
	tb.Cleanup(func() {
		client.CloseIdleConnections()
		cancel()
		if err := in.Close(); err != nil {
			tb.Errorf("close firebreak: %v", err)
		}
	})
	svcs, err := in.Web.Services.List(ctx)
	if err != nil || len(svcs) != 1 || len(svcs[0].Keys) != 1 {
		tb.Fatalf("demo service: %+v, %v", svcs, err)
	}
	return &firebreak{in: in, base: base, key: svcs[0].Keys[0].Key, serviceID: svcs[0].ID, http: client}
}

// incidents returns every incident, newest first.
func (fb *firebreak) incidents(tb testing.TB) []incident.Incident {
	tb.Helper()
	out, _, err := fb.in.Web.Incidents.List(context.Background(), incident.Filter{Limit: 500})
	if err != nil {
		tb.Fatalf("list incidents: %v", err)
	}
	return out
}

// alerts returns every alert, newest first.
func (fb *firebreak) alerts(tb testing.TB) []alert.Alert {
	tb.Helper()
	out, _, err := fb.in.Web.Alerts.List(context.Background(), alert.Filter{Limit: 500})
	if err != nil {
		tb.Fatalf("list alerts: %v", err)
	}
	return out
}

// timelineKinds counts an incident's timeline entries by kind.
func (fb *firebreak) timelineKinds(tb testing.TB, id int64) (map[string]int, []incident.Entry) {
	tb.Helper()
	entries, err := fb.in.Web.Incidents.Timeline(context.Background(), id, 0)
	if err != nil {
		tb.Fatalf("timeline of incident %d: %v", id, err)
	}
	kinds := map[string]int{}
	for _, e := range entries {
		kinds[e.Kind]++
	}
	return kinds, entries
}

// Polling bounds for conditions that depend on another process (Alertmanager's
// group_wait and group_interval). Tests never assert on how long things take.
const (
	pollTimeout  = 30 * time.Second
	pollInterval = 100 * time.Millisecond
)

// eventually polls cond until it reports true, failing the test with cond's last
// description of the state after pollTimeout.
func eventually(tb testing.TB, what string, cond func() (bool, string)) {
	tb.Helper()
	deadline := time.Now().Add(pollTimeout)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %v waiting for %s; last state: %s", pollTimeout, what, state)
		}
		time.Sleep(pollInterval)
	}
}

// freePort returns a loopback TCP port that was free a moment ago. A subprocess
// told to listen on it may still lose a race for it; callers retry.
func freePort(tb testing.TB) int {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("find a free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func describeIncidents(incs []incident.Incident) string {
	s := fmt.Sprintf("%d incident(s)", len(incs))
	for _, i := range incs {
		s += fmt.Sprintf(" [#%d %s %s alerts=%d %q]", i.ID, i.Level, i.Status, i.AlertCount, i.Title)
	}
	return s
}

func describeAlerts(as []alert.Alert) string {
	s := fmt.Sprintf("%d alert(s)", len(as))
	for _, a := range as {
		s += fmt.Sprintf(" [#%d %s %s inc=%d repeats=%d %v]", a.ID, a.Fingerprint, a.Status, a.IncidentID, a.RepeatCount, a.Labels)
	}
	return s
}
