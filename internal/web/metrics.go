package web

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/firebreak/firebreak/internal/incident"
)

// Metrics are firebreak's Prometheus metrics.
type Metrics struct {
	Registry *prometheus.Registry
	Ingested *prometheus.CounterVec   // by source and outcome
	Latency  *prometheus.HistogramVec // ingest request latency by source
}

// NewMetrics registers the metrics; incidents (may be nil) feeds the open-incident gauge at scrape time.
func NewMetrics(incidents *incident.Store) *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		Ingested: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "firebreak_ingest_events_total",
			Help: "Inbound signal events by source and outcome (created, deduplicated, acknowledged, resolved, ignored, rejected, failed).",
		}, []string{"source", "outcome"}),
		Latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "firebreak_ingest_request_duration_seconds",
			Help:    "Time from receiving an inbound signal request to answering it after commit.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"source"}),
	}
	m.Registry.MustRegister(m.Ingested, m.Latency, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if incidents != nil {
		m.Registry.MustRegister(&openIncidents{store: incidents,
			desc: prometheus.NewDesc("firebreak_incidents_open", "Open incidents (triggered to monitoring) by level.", []string{"level"}, nil)})
	}
	return m
}

type openIncidents struct {
	store *incident.Store
	desc  *prometheus.Desc
}

func (c *openIncidents) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *openIncidents) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	counts, err := c.store.CountOpenByLevel(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	for level, n := range counts {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), level)
	}
}

func (s *Server) metricsHandler() http.HandlerFunc {
	h := promhttp.HandlerFor(s.Metrics.Registry, promhttp.HandlerOpts{})
	return h.ServeHTTP
}
