package promql

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/firebreak/firebreak/internal/testenv"
)

// check is one configured check with the state its caller keeps between runs.
type check struct {
	name string
	cfg  Config
	st   State
	log  []Change
}

// run queries real Prometheus and evaluates, like the check runner does.
func (c *check) run(t *testing.T, client *http.Client) ([]Sample, []Change) {
	t.Helper()
	now := time.Now()
	samples, err := Query(context.Background(), client, c.cfg, now)
	if err != nil {
		t.Fatalf("%s: %v", c.name, err)
	}
	var changes []Change
	c.st, changes = Evaluate(c.cfg, c.st, samples, now)
	c.log = append(c.log, changes...)
	return samples, changes
}

// TestRealPrometheus drives the check against a real Prometheus scraping a
// local exporter whose value the test switches: 50 (nothing), 93 (fires after
// for), 50 again (resolves).
func TestRealPrometheus(t *testing.T) {
	var value atomic.Int64
	value.Store(50)
	exporter := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		fmt.Fprintf(w, "# HELP firebreak_test_cpu CPU busy percent.\n# TYPE firebreak_test_cpu gauge\nfirebreak_test_cpu{instance=\"web-1\"} %d\n", value.Load())
	}))
	t.Cleanup(exporter.Close)
	base := testenv.Prometheus(t, []string{strings.TrimPrefix(exporter.URL, "http://")})
	client := &http.Client{}
	t.Cleanup(client.CloseIdleConnections)

	const hold = 2 * time.Second
	metric := &check{name: "metric for 2s", cfg: Config{URL: base, Query: "firebreak_test_cpu", Above: ptr(80), For: Duration(hold)}}
	filter := &check{name: "filter for 0s", cfg: Config{URL: base, Query: "firebreak_test_cpu > 80", Above: ptr(80)}}
	checks := []*check{metric, filter}

	// poll runs every check until done says the metric check's samples are what
	// the phase waits for; it fails after a deadline.
	poll := func(phase string, done func(samples []Sample) bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			samples, _ := metric.run(t, client)
			_, _ = filter.run(t, client)
			if done(samples) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: gave up; last samples %+v; changes so far: metric %+v, filter %+v", phase, samples, metric.log, filter.log)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	valueIs := func(samples []Sample, v float64) bool {
		return len(samples) == 1 && samples[0].Labels["instance"] == "web-1" && samples[0].Value == v
	}

	// 1. At 50 nothing happens, however long we look.
	poll("first scrape of 50", func(s []Sample) bool { return valueIs(s, 50) })
	for range 3 {
		metric.run(t, client)
		filter.run(t, client)
		time.Sleep(200 * time.Millisecond)
	}
	if len(metric.log)+len(filter.log) != 0 || len(metric.st.Pending)+len(metric.st.Firing) != 0 {
		t.Fatalf("at 50: changes %+v %+v, state %+v", metric.log, filter.log, metric.st)
	}

	// 2. At 93: the filter check fires as soon as Prometheus has scraped it, the
	// metric check only once it has breached for 2s.
	value.Store(93)
	var seen93, fired time.Time
	poll("firing at 93", func(s []Sample) bool {
		if valueIs(s, 93) && seen93.IsZero() {
			seen93 = time.Now()
		}
		if len(metric.log) > 0 {
			fired = time.Now()
			return true
		}
		return false
	})
	if len(metric.log) != 1 {
		t.Fatalf("metric check: want one change, got %+v", metric.log)
	}
	ch := metric.log[0]
	want := `firebreak_test_cpu: instance="web-1", job="target0" is 93, above 80 for 2s`
	if !ch.Firing || ch.Labels["instance"] != "web-1" || ch.Value != 93 || ch.Summary != want || ch.Fingerprint != Fingerprint(ch.Labels) {
		t.Fatalf("metric check change: %+v\nwant summary %q", ch, want)
	}
	if d := fired.Sub(seen93); d < hold-200*time.Millisecond { // the first 93 we saw is at most one poll late
		t.Fatalf("fired %s after 93 was first seen, before for=%s", d, hold)
	}
	if len(filter.log) != 1 || !filter.log[0].Firing || filter.log[0].Labels["instance"] != "web-1" {
		t.Fatalf("filter check: want one firing change for web-1, got %+v", filter.log)
	}

	// 3. Back to 50: both resolve; the filter's series leaves the result.
	value.Store(50)
	poll("resolving at 50", func([]Sample) bool { return len(metric.log) >= 2 && len(filter.log) >= 2 })
	if r := metric.log[1]; len(metric.log) != 2 || r.Firing || r.Gone || r.Value != 50 || r.Fingerprint != ch.Fingerprint {
		t.Fatalf("metric check resolution: %+v", metric.log)
	}
	if r := filter.log[1]; len(filter.log) != 2 || r.Firing || !r.Gone || r.Labels["instance"] != "web-1" ||
		!strings.HasSuffix(r.Summary, "is no longer in the query result") {
		t.Fatalf("filter check resolution: %+v", filter.log)
	}
	for _, c := range checks {
		if len(c.st.Pending)+len(c.st.Firing) != 0 {
			t.Fatalf("%s: state after resolution %+v", c.name, c.st)
		}
	}

	// 4. Errors come back from Prometheus itself.
	bad := Config{URL: base, Query: "firebreak_test_cpu >", Above: ptr(80)}
	_, err := Query(context.Background(), client, bad, time.Now())
	if err == nil || !strings.Contains(err.Error(), "bad_data") || !strings.Contains(err.Error(), "parse error") {
		t.Fatalf("bad PromQL: want Prometheus' parse error, got %v", err)
	}
	t.Logf("bad PromQL: %v", err)
	rng := Config{URL: base, Query: "firebreak_test_cpu[1m]", Above: ptr(80)}
	if _, err := Query(context.Background(), client, rng, time.Now()); err == nil || !strings.Contains(err.Error(), "must return an instant vector") {
		t.Fatalf("range query: %v", err)
	}
	scalar := Config{URL: base, Query: "scalar(firebreak_test_cpu) * 2", Above: ptr(80)}
	if s, err := Query(context.Background(), client, scalar, time.Now()); err != nil || len(s) != 1 || s[0].Value != 100 || len(s[0].Labels) != 0 {
		t.Fatalf("scalar query: %+v %v", s, err)
	}
	wrong := Config{URL: base + "/graph", Query: "up", Above: ptr(80)} // not the API's base: Prometheus' web UI
	if _, err := Query(context.Background(), client, wrong, time.Now()); err == nil {
		t.Fatal("wrong base URL: want an error")
	} else {
		t.Logf("wrong base URL: %v", err)
	}
}
