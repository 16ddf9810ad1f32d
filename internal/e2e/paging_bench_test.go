package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/firebreak/firebreak/internal/contact"
	"github.com/firebreak/firebreak/internal/notify/webhook"
	"github.com/firebreak/firebreak/internal/paging"
	"github.com/firebreak/firebreak/internal/plan"
	"github.com/firebreak/firebreak/internal/service"
)

// benchPlan pages "oncall" for P0 (critical alerts); error alerts open P2
// incidents that page nobody (the background load).
const benchPlan = `
version: 1
name: {en: "Bench", zh: "基准"}
people:
  - {handle: oncall}
levels:
  - {id: P0, name: {en: "Critical", zh: "一级"}, page: [oncall]}
  - {id: P1, name: {en: "Major", zh: "二级"}, page: []}
  - {id: P2, name: {en: "Minor", zh: "三级"}, page: []}
  - {id: P3, name: {en: "Cosmetic", zh: "四级"}, page: []}
alert_levels: {critical: P0, error: P2, warning: P3, info: none}
types:
  - {id: outage, name: {en: "Outage", zh: "故障"}, default_level: P1}
`

// BenchmarkPageLatency measures signal → first page: one critical alert is
// POSTed to the generic endpoint, opens a P0 incident, and the engine pages
// the on-call person's webhook (a local HTTP server). Latency runs from
// sending the POST to the webhook request arriving, so it includes ingest's
// group commit, the engine's wake-up, the escalation step, the outbox row and
// the delivery. Meanwhile a background load of 1,000 new alerts/s (10 POSTs
// of 10 alerts every 100 ms, each alert new, on another service) keeps the
// writer busy. After each page the alert is resolved, closing the incident,
// so the next iteration opens a new one.
//
//	go test -run '^$' -bench PageLatency -benchtime=200x ./internal/e2e/
//
// Metrics: p50-ms, p99-ms, max-ms of the latency; bg-alerts/s actually stored.
func BenchmarkPageLatency(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) { benchPageLatency(b, be.url(b)) })
	}
}

func benchPageLatency(b *testing.B, databaseURL string) {
	fb := startFirebreak(b, databaseURL)
	ctx := context.Background()
	db := fb.in.DB
	p, err := plan.Parse([]byte(benchPlan))
	if err != nil {
		b.Fatal(err)
	}
	if _, _, err := plan.Apply(ctx, db, p, []byte(benchPlan), "bench", time.Now(), paging.SyncPlan); err != nil {
		b.Fatal(err)
	}
	arrived := make(chan string, 16)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- r.Header.Get(webhook.HeaderIdempotency)
	}))
	defer recv.Close()
	var uid int64
	if err := db.R.QueryRow(`SELECT id FROM users WHERE username = 'oncall'`).Scan(&uid); err != nil {
		b.Fatal(err)
	}
	contacts := &contact.Store{DB: db}
	m, err := contacts.Create(ctx, uid, contact.MethodInput{Kind: "webhook", Address: recv.URL, Secret: "bench-webhook-secret-0", Verified: true})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := contacts.CreateRule(ctx, uid, contact.RuleInput{MethodID: m.ID}); err != nil {
		b.Fatal(err)
	}
	bg, err := fb.in.Web.Services.Create(ctx, service.Input{Name: "background"})
	if err != nil {
		b.Fatal(err)
	}
	client := &http.Client{Timeout: time.Minute}
	pageURL := fb.base + "/api/v1/integrations/" + fb.key + "/events"
	bgURL := fb.base + "/api/v1/integrations/" + bg.Keys[0].Key + "/events"

	// Background: 1,000 alerts/s.
	stop := make(chan struct{})
	var bgStored atomic.Int64
	var wg sync.WaitGroup
	bgStart := time.Now()
	for w := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(100 * time.Millisecond)
			defer tick.Stop()
			seq := 0
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
				}
				var body bytes.Buffer
				body.WriteString(`{"events":[`)
				for i := range 10 {
					if i > 0 {
						body.WriteByte(',')
					}
					fmt.Fprintf(&body, `{"summary":"Background %d-%d","severity":"error","dedup_key":"bg-%d-%d"}`, w, seq, w, seq)
					seq++
				}
				body.WriteString(`]}`)
				resp, err := client.Post(bgURL, "application/json", &body)
				if err != nil {
					continue
				}
				resp.Body.Close()
				if resp.StatusCode == 202 {
					bgStored.Add(10)
				}
			}
		}()
	}
	defer func() { close(stop); wg.Wait() }()
	time.Sleep(time.Second) // let the background load reach its rate

	post := func(action string, i int) {
		body := `{"summary":"Checkout down","severity":"critical","dedup_key":"page-` + strconv.Itoa(i) + `","action":"` + action + `"}`
		resp, err := client.Post(pageURL, "application/json", bytes.NewBufferString(body))
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 202 {
			b.Fatalf("%s: %d", action, resp.StatusCode)
		}
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		t0 := time.Now()
		post("trigger", i)
		select {
		case <-arrived:
		case <-time.After(30 * time.Second):
			b.Fatalf("page %d never arrived", i)
		}
		lat = append(lat, time.Since(t0))
		b.StopTimer()
		post("resolve", i)
		b.StartTimer()
	}
	b.StopTimer()
	slices.Sort(lat)
	pct := func(q float64) float64 {
		return float64(lat[min(len(lat)-1, int(q*float64(len(lat))))]) / float64(time.Millisecond)
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1])/float64(time.Millisecond), "max-ms")
	b.ReportMetric(float64(bgStored.Load())/time.Since(bgStart).Seconds(), "bg-alerts/s")
	b.ReportMetric(0, "ns/op")
}
