package testenv

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// PrometheusReadyTimeout bounds how long Prometheus may take to become ready.
const PrometheusReadyTimeout = 30 * time.Second

// PrometheusScrapeInterval is how often the Prometheus that Prometheus starts
// scrapes its targets (and evaluates rules).
const PrometheusScrapeInterval = time.Second

// Prometheus starts a real Prometheus server (the "prometheus" program, Debian's
// package of that name) on a free loopback port, scraping scrapeTargets every
// PrometheusScrapeInterval, and returns its base URL such as
// "http://127.0.0.1:41234". The server is killed and its data removed when the
// test ends.
//
// A target is "host:port" (scraped at http://host:port/metrics) or a URL such as
// "http://127.0.0.1:8080/custom/metrics". Each target is its own job
// ("target0", "target1", …) with honor_labels, so labels the target exposes
// (instance="web-1") are kept as exposed. Prometheus is ready, not necessarily
// done with a first scrape, when this returns. Under CI=true a missing binary
// fails the test; otherwise it skips it.
func Prometheus(t testing.TB, scrapeTargets []string) (baseURL string) {
	t.Helper()
	bin := Binary(t, "prometheus")
	dir := t.TempDir() // registered first, so removed after the process is gone
	cfg, err := prometheusConfig(scrapeTargets)
	if err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 2 * time.Second}
	t.Cleanup(client.CloseIdleConnections)

	// The port is free when chosen but another process may take it before
	// Prometheus binds it: retry with a new one.
	for attempt := 1; ; attempt++ {
		addr := "127.0.0.1:" + strconv.Itoa(prometheusFreePort(t))
		out := &tailBuffer{max: 64 << 10}
		cmd := exec.Command(bin,
			"--config.file="+cfgPath,
			"--storage.tsdb.path="+filepath.Join(dir, "data"+strconv.Itoa(attempt)),
			"--web.listen-address="+addr,
			"--log.level=warn",
		)
		cmd.Stdout, cmd.Stderr = out, out
		prometheusDiesWithTest(cmd)
		if err := cmd.Start(); err != nil {
			t.Fatalf("start %s: %v", bin, err)
		}
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		stop := func() {
			_ = cmd.Process.Kill()
			<-exited
		}
		base := "http://" + addr
		ready, gone := prometheusWaitReady(client, base, exited)
		switch {
		case ready:
			t.Cleanup(func() {
				stop()
				if t.Failed() {
					if s := out.String(); s != "" {
						t.Logf("prometheus output (tail):\n%s", s)
					}
				}
			})
			return base
		case gone && attempt < 5 && strings.Contains(out.String(), "address already in use"):
			t.Logf("prometheus lost the race for %s; retrying", addr)
			continue
		default:
			stop()
			t.Fatalf("prometheus (%s) did not become ready on %s within %s (exited: %v); output:\n%s",
				bin, addr, PrometheusReadyTimeout, gone, out.String())
		}
	}
}

// prometheusConfig renders prometheus.yml for targets.
func prometheusConfig(targets []string) (string, error) {
	var b strings.Builder
	iv := PrometheusScrapeInterval.String()
	fmt.Fprintf(&b, "global:\n  scrape_interval: %s\n  scrape_timeout: %s\n  evaluation_interval: %s\n", iv, iv, iv)
	if len(targets) == 0 {
		b.WriteString("scrape_configs: []\n")
		return b.String(), nil
	}
	b.WriteString("scrape_configs:\n")
	for i, tgt := range targets {
		scheme, host, path := "http", tgt, "/metrics"
		if strings.Contains(tgt, "://") {
			u, err := url.Parse(tgt)
			if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
				return "", fmt.Errorf("scrape target %q: want host:port or an http(s) URL", tgt)
			}
			scheme, host = u.Scheme, u.Host
			if u.Path != "" {
				path = u.Path
			}
		}
		if _, _, err := net.SplitHostPort(host); err != nil {
			return "", fmt.Errorf("scrape target %q: want host:port or an http(s) URL: %v", tgt, err)
		}
		fmt.Fprintf(&b, "  - job_name: target%d\n    honor_labels: true\n    scheme: %s\n    metrics_path: %q\n    static_configs:\n      - targets: [%q]\n",
			i, scheme, path, host)
	}
	return b.String(), nil
}

// prometheusWaitReady polls /-/ready until it answers 200, the process exits,
// or PrometheusReadyTimeout passes.
func prometheusWaitReady(client *http.Client, base string, exited <-chan struct{}) (ready, gone bool) {
	deadline := time.Now().Add(PrometheusReadyTimeout)
	for time.Now().Before(deadline) {
		resp, err := client.Get(base + "/-/ready")
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
		case <-time.After(50 * time.Millisecond):
		}
	}
	return false, false
}

// prometheusFreePort returns a loopback TCP port that was free a moment ago.
func prometheusFreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
