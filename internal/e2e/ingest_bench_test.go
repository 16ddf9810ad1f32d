package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/firebreak/firebreak/internal/alert"
	"github.com/firebreak/firebreak/internal/incident"
)

// posters is how many clients post at once in BenchmarkIngest.
const posters = 64

// BenchmarkIngest measures durable ingest through the whole stack: b.N alerts,
// each with its own dedup key and severity error, posted over loopback HTTP to
// the generic endpoint as {"events":[...]} in batches of 1 or 100 by ~64
// concurrent clients. Every POST must answer 202, which the server sends only
// after the alerts are committed (group commit), so alerts/s is durable
// throughput. The client runs in the same process and shares its CPUs.
//
//	go test -run '^$' -bench Ingest -benchtime=20000x -benchmem ./internal/e2e/
//
// Metrics: alerts/s; peak-RSS-MB, the test process's (client and server) peak
// resident memory during the run, sampled every 20 ms after setup's garbage is
// returned to the OS; and the usual ns/op, B/op and allocs/op per alert (client
// and server together).
func BenchmarkIngest(b *testing.B) {
	for _, be := range backends {
		for _, batch := range []int{1, 100} {
			b.Run(fmt.Sprintf("%s/batch%d", be.name, batch), func(b *testing.B) {
				benchIngest(b, be.url(b), batch)
			})
		}
	}
}

func benchIngest(b *testing.B, databaseURL string, batch int) {
	fb := startFirebreak(b, databaseURL)
	url := fb.base + "/api/v1/integrations/" + fb.key + "/events"
	tr := &http.Transport{MaxIdleConns: 2 * posters, MaxIdleConnsPerHost: 2 * posters, DisableCompression: true}
	client := &http.Client{Transport: tr, Timeout: 2 * time.Minute}
	b.Cleanup(tr.CloseIdleConnections)

	procs := runtime.GOMAXPROCS(0)
	b.SetParallelism((posters + procs - 1) / procs)
	var (
		poster   atomic.Int64
		failures atomic.Int64
		posts    atomic.Int64
	)
	post := func(body []byte) {
		resp, err := client.Post(url, "application/json", bytes.NewReader(body))
		posts.Add(1)
		if err != nil {
			if failures.Add(1) <= 3 {
				b.Errorf("post: %v", err)
			}
			return
		}
		msg, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			if failures.Add(1) <= 3 {
				b.Errorf("post answered %s: %.300s", resp.Status, msg)
			}
		}
	}

	// Setup hashed the admin's password with argon2id (64 MiB): return that memory
	// to the OS so the RSS below is the ingest path's, not the setup's.
	debug.FreeOSMemory()
	rss := watchRSS()
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		id := strconv.FormatInt(poster.Add(1), 10)
		body := make([]byte, 0, 16+batch*160)
		n, seq := 0, 0
		for pb.Next() {
			if n == 0 {
				body = append(body[:0], `{"events":[`...)
			} else {
				body = append(body, ',')
			}
			body = appendEvent(body, id, seq)
			seq++
			n++
			if n == batch {
				post(append(body, "]}"...))
				n = 0
			}
		}
		if n > 0 {
			post(append(body, "]}"...))
		}
	})
	elapsed := time.Since(start)
	b.StopTimer()
	peak := rss()

	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "alerts/s")
	if peak > 0 {
		b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MB")
	}
	if n := failures.Load(); n > 0 {
		b.Fatalf("%d of %d posts failed", n, posts.Load())
	}
	var stored int
	if err := fb.in.DB.R.QueryRowContext(context.Background(), `SELECT count(*) FROM alerts`).Scan(&stored); err != nil {
		b.Fatal(err)
	}
	if stored != b.N {
		b.Fatalf("posted %d alerts, %d stored", b.N, stored)
	}
}

// appendEvent appends one generic event with a dedup key unique to the run.
func appendEvent(b []byte, poster string, seq int) []byte {
	b = append(b, `{"summary":"Checkout 5xx on web-`...)
	b = append(b, poster...)
	b = append(b, `","severity":"error","dedup_key":"bench-`...)
	b = append(b, poster...)
	b = append(b, '-')
	b = strconv.AppendInt(b, int64(seq), 10)
	b = append(b, `","labels":{"host":"web-`...)
	b = append(b, poster...)
	b = append(b, `","job":"checkout"}}`...)
	return b
}

// watchRSS samples the process's resident memory until the returned function is
// called, which returns the peak in bytes (0 where /proc is unavailable).
func watchRSS() func() int64 {
	var (
		mu   sync.Mutex
		peak int64
	)
	sample := func() {
		if v := readRSS(); v > 0 {
			mu.Lock()
			peak = max(peak, v)
			mu.Unlock()
		}
	}
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			sample()
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	return func() int64 {
		close(stop)
		<-done
		sample()
		mu.Lock()
		defer mu.Unlock()
		return peak
	}
}

// readRSS returns VmRSS from /proc/self/status in bytes, or 0.
func readRSS() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}

// BenchmarkResolveLargeIncident measures resolving alerts that all belong to one
// big incident, submitted to the writer directly in batches of 100: b.N alerts
// are triggered first (not timed), then resolved. The cost per resolve must not
// grow with the incident (it did while auto-resolve counted the incident's
// alerts on every resolve).
func BenchmarkResolveLargeIncident(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			ctx := context.Background()
			fb := startFirebreak(b, be.url(b))
			events := func(from, to int, act alert.Action) []alert.Event {
				evs := make([]alert.Event, 0, to-from)
				for i := from; i < to; i++ {
					evs = append(evs, alert.Event{ServiceID: fb.serviceID, Source: alert.SourceGeneric, Action: act,
						Fingerprint: "k" + strconv.Itoa(i), Summary: "disk full", Severity: alert.Error})
				}
				return evs
			}
			submit := func(evs []alert.Event) {
				if _, err := fb.in.Web.Writer.Submit(ctx, evs); err != nil {
					b.Fatal(err)
				}
			}
			for i := 0; i < b.N; i += 1000 {
				submit(events(i, min(i+1000, b.N), alert.Trigger))
			}
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i += 100 {
				submit(events(i, min(i+100, b.N), alert.Resolve))
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "resolves/s")
			b.StopTimer()
			if incs := fb.incidents(b); len(incs) != 1 || incs[0].Status != incident.Resolved {
				b.Fatalf("incidents: %s", describeIncidents(incs))
			}
		})
	}
}
