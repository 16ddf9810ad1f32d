package testenv

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestPrometheusScrapes starts Prometheus on one target and waits until a query
// returns the value that target exposes, with the labels it exposes.
func TestPrometheusScrapes(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		fmt.Fprint(w, "# TYPE testenv_value gauge\ntestenv_value{instance=\"exposed\"} 42\n")
	}))
	t.Cleanup(srv.Close)
	base := Prometheus(t, []string{strings.TrimPrefix(srv.URL, "http://")})

	deadline := time.Now().Add(15 * time.Second)
	last := ""
	for time.Now().Before(deadline) {
		resp, err := http.Get(base + "/api/v1/query?query=" + url.QueryEscape("testenv_value"))
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Status string `json:"status"`
			Data   struct {
				Result []struct {
					Metric map[string]string `json:"metric"`
					Value  []any             `json:"value"`
				} `json:"result"`
			} `json:"data"`
		}
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		last = fmt.Sprintf("%+v", body)
		if r := body.Data.Result; len(r) == 1 && len(r[0].Value) == 2 && r[0].Value[1] == "42" {
			if r[0].Metric["instance"] != "exposed" || r[0].Metric["job"] != "target0" {
				t.Fatalf("labels = %v, want instance=exposed (honored) and job=target0", r[0].Metric)
			}
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("prometheus did not scrape the target in time; last answer: %s", last)
}

func TestPrometheusConfigTargets(t *testing.T) {
	cfg, err := prometheusConfig([]string{"127.0.0.1:9100", "https://example.test:8443/x/metrics"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"scrape_interval: 1s",
		"job_name: target0", `targets: ["127.0.0.1:9100"]`, `metrics_path: "/metrics"`,
		"job_name: target1", "scheme: https", `metrics_path: "/x/metrics"`, `targets: ["example.test:8443"]`,
	} {
		if !strings.Contains(cfg, want) {
			t.Errorf("config lacks %q:\n%s", want, cfg)
		}
	}
	for _, bad := range []string{"no-port", "ftp://h:1/", "http://"} {
		if _, err := prometheusConfig([]string{bad}); err == nil {
			t.Errorf("target %q: want an error", bad)
		}
	}
}
