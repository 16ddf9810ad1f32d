package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firebreak/firebreak/internal/alert"
	"github.com/firebreak/firebreak/internal/incident"
	"github.com/firebreak/firebreak/internal/testenv"
)

// TestAlertmanager drives firebreak with a real Prometheus Alertmanager: two
// alerts of one alertname become one P1 incident with two alerts; repeats change
// nothing; resolving them in Alertmanager resolves the incident.
func TestAlertmanager(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			bin := testenv.Binary(t, "prometheus-alertmanager", "alertmanager") // Debian's name first
			fb := startFirebreak(t, be.url(t))
			am := startAlertmanager(t, bin, fb.base+"/api/v1/integrations/"+fb.key+"/alertmanager")

			startsAt := time.Now().UTC().Add(-time.Minute).Truncate(time.Second)
			firing := []amPostAlert{
				checkoutDown("checkout-1:9090", startsAt, time.Time{}),
				checkoutDown("checkout-2:9090", startsAt, time.Time{}),
			}

			// 1. Both alerts reach firebreak as one incident with two alerts.
			am.post(t, firing)
			eventually(t, "two firing alerts in one incident", func() (bool, string) {
				incs, as := fb.incidents(t), fb.alerts(t)
				state := describeIncidents(incs) + "; " + describeAlerts(as)
				if len(incs) != 1 || len(as) != 2 {
					return false, state
				}
				for _, a := range as {
					if a.Status != alert.Firing || a.IncidentID != incs[0].ID {
						return false, state
					}
				}
				return true, state
			})
			inc := fb.incidents(t)[0]
			if inc.Level != "P1" || inc.Status != incident.Triggered || inc.AlertCount != 2 || inc.Source != string(alert.SourceAlertmanager) {
				t.Fatalf("incident: want a triggered P1 from alertmanager with 2 alerts, got %+v", inc)
			}
			seen := map[string]bool{}
			for _, a := range fb.alerts(t) {
				seen[a.Labels["instance"]] = true
				if a.Source != alert.SourceAlertmanager || a.Severity != alert.Critical || a.Summary != "Checkout is down" ||
					a.Labels["alertname"] != "CheckoutDown" || a.ServiceID != fb.serviceID {
					t.Errorf("alert: %+v", a)
				}
			}
			if !seen["checkout-1:9090"] || !seen["checkout-2:9090"] {
				t.Fatalf("alerts' instances: %v", seen)
			}

			// 2. The same alerts again: Alertmanager keeps them in the same group; whether
			// or not it notifies again, firebreak must not open anything new. (Checked
			// right away and again at the end, after the resolved notification, which
			// Alertmanager sends after any repeat it might send for this group.)
			am.post(t, firing)
			am.waitActive(t, 2)
			if incs, as := fb.incidents(t), fb.alerts(t); len(incs) != 1 || len(as) != 2 {
				t.Fatalf("after repeat: %s; %s", describeIncidents(incs), describeAlerts(as))
			}

			// 3. Resolve both in Alertmanager: it sends "resolved" and firebreak
			// auto-resolves the incident.
			endsAt := time.Now().UTC().Add(-time.Second)
			am.post(t, []amPostAlert{
				checkoutDown("checkout-1:9090", startsAt, endsAt),
				checkoutDown("checkout-2:9090", startsAt, endsAt),
			})
			eventually(t, "the incident to auto-resolve", func() (bool, string) {
				incs := fb.incidents(t)
				return len(incs) == 1 && incs[0].Status == incident.Resolved, describeIncidents(incs) + "; " + describeAlerts(fb.alerts(t))
			})

			incs, as := fb.incidents(t), fb.alerts(t)
			if len(incs) != 1 || len(as) != 2 {
				t.Fatalf("at the end: %s; %s", describeIncidents(incs), describeAlerts(as))
			}
			for _, a := range as {
				if a.Status != alert.Resolved || a.ResolvedAt.IsZero() || a.IncidentID != incs[0].ID {
					t.Errorf("alert not resolved: %+v", a)
				}
			}
			if incs[0].ResolvedAt.IsZero() {
				t.Errorf("resolved incident without resolved_at: %+v", incs[0])
			}
			t.Logf("end state: %s; %s", describeIncidents(incs), describeAlerts(as))
			kinds, entries := fb.timelineKinds(t, incs[0].ID)
			want := map[string]int{incident.KindOpened: 1, incident.KindAlertAttached: 2, incident.KindAlertResolved: 2, incident.KindStatusChanged: 1}
			for k, n := range want {
				if kinds[k] != n {
					t.Errorf("timeline has %d %q entries, want %d; all: %v", kinds[k], k, n, kinds)
				}
			}
			last := entries[len(entries)-1]
			if last.Kind != incident.KindStatusChanged || !strings.Contains(string(last.Data), `"to":"resolved"`) || last.Actor != string(alert.SourceAlertmanager) {
				t.Errorf("last timeline entry: %+v (%s)", last, last.Data)
			}
		})
	}
}

// amPostAlert is one alert of Alertmanager's POST /api/v2/alerts.
type amPostAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	StartsAt     string            `json:"startsAt,omitempty"`
	EndsAt       string            `json:"endsAt,omitempty"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

func checkoutDown(instance string, startsAt, endsAt time.Time) amPostAlert {
	a := amPostAlert{
		Labels:       map[string]string{"alertname": "CheckoutDown", "instance": instance, "severity": "critical", "job": "checkout"},
		Annotations:  map[string]string{"summary": "Checkout is down", "description": "checkout on " + instance + " answers 503"},
		StartsAt:     startsAt.Format(time.RFC3339Nano),
		GeneratorURL: "http://prometheus.example/graph?g0.expr=up%7Bjob%3D%22checkout%22%7D+%3D%3D+0",
	}
	if !endsAt.IsZero() {
		a.EndsAt = endsAt.Format(time.RFC3339Nano)
	}
	return a
}

// alertmanager is a running Alertmanager subprocess.
type alertmanager struct {
	url    string
	out    *lockedBuffer
	client *http.Client
}

const alertmanagerConfig = `route:
  receiver: firebreak
  group_by: ['alertname']
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: firebreak
    webhook_configs:
      - url: %q
        send_resolved: true
`

// startAlertmanager starts the Alertmanager program bin on a free loopback port
// with one receiver, a webhook to webhookURL, and kills it when the test ends.
// Written against Alertmanager 0.25 (Debian 12); it uses only the v2 API,
// /-/ready and long-standing flags.
func startAlertmanager(t *testing.T, bin, webhookURL string) *alertmanager {
	t.Helper()
	dir := t.TempDir() // removed after the process is gone (cleanups run last-in first-out)
	cfg := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, alertmanagerConfig, webhookURL), 0o600); err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	t.Cleanup(client.CloseIdleConnections)

	// The port is free when chosen but another process may take it before
	// Alertmanager binds it: retry with a new one.
	for attempt := 1; ; attempt++ {
		storage := filepath.Join(dir, "data"+strconv.Itoa(attempt))
		addr := "127.0.0.1:" + strconv.Itoa(freePort(t))
		out := &lockedBuffer{}
		cmd := exec.Command(bin,
			"--config.file="+cfg,
			"--storage.path="+storage,
			"--web.listen-address="+addr,
			"--cluster.listen-address=", // no clustering: no gossip port, no settle wait
			"--log.level=warn",
		)
		cmd.Stdout, cmd.Stderr = out, out
		killWithParent(cmd)
		if err := cmd.Start(); err != nil {
			t.Fatalf("start %s: %v", bin, err)
		}
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		stop := func() {
			_ = cmd.Process.Kill()
			<-exited
		}
		am := &alertmanager{url: "http://" + addr, out: out, client: client}
		ready, gone := am.waitReady(exited)
		switch {
		case ready:
			t.Cleanup(func() {
				stop()
				if t.Failed() {
					t.Logf("alertmanager output:\n%s", out.String())
				}
			})
			return am
		case gone && attempt < 5 && strings.Contains(out.String(), "address already in use"):
			t.Logf("alertmanager lost the race for %s; retrying", addr)
			continue
		default:
			stop()
			t.Fatalf("alertmanager (%s) did not become ready on %s (exited: %v); output:\n%s", bin, addr, gone, out.String())
		}
	}
}

// waitReady polls /-/ready until it answers 200, the process exits, or pollTimeout.
func (am *alertmanager) waitReady(exited <-chan struct{}) (ready, gone bool) {
	deadline := time.Now().Add(pollTimeout)
	for time.Now().Before(deadline) {
		resp, err := am.client.Get(am.url + "/-/ready")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return true, false
			}
		}
		select {
		case <-exited:
			return false, true
		case <-time.After(pollInterval):
		}
	}
	return false, false
}

// post sends alerts to Alertmanager's API, as Prometheus does.
func (am *alertmanager) post(t *testing.T, alerts []amPostAlert) {
	t.Helper()
	body, err := json.Marshal(alerts)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := am.client.Post(am.url+"/api/v2/alerts", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("post alerts to alertmanager: %v", err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("alertmanager answered %s: %s", resp.Status, msg)
	}
}

// waitActive waits until Alertmanager itself holds n active alerts.
func (am *alertmanager) waitActive(t *testing.T, n int) {
	t.Helper()
	eventually(t, fmt.Sprintf("alertmanager to hold %d active alerts", n), func() (bool, string) {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, am.url+"/api/v2/alerts?active=true&silenced=false&inhibited=false", nil)
		resp, err := am.client.Do(req)
		if err != nil {
			return false, err.Error()
		}
		defer resp.Body.Close()
		var got []struct {
			Labels map[string]string `json:"labels"`
			Status struct {
				State string `json:"state"`
			} `json:"status"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
			return false, err.Error()
		}
		active := 0
		for _, a := range got {
			if a.Status.State == "active" {
				active++
			}
		}
		return active == n, fmt.Sprintf("%+v", got)
	})
}

// lockedBuffer collects a subprocess's output; safe for concurrent use.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() > 1<<20 { // keep memory bounded if it logs in a loop
		return len(p), nil
	}
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
