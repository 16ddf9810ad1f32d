package web_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/firebreak/firebreak/internal/testenv"
)

// TestBrowserChecks drives real Chromium: an admin creates an HTTP check of a
// local server through the form (whose kind switch shows only that kind's
// fields), runs it, and sees it up with its latency and uptime charts.
func TestBrowserChecks(t *testing.T) {
	eachDatabase(t, func(t *testing.T, databaseURL string) {
		in, base := startInstance(t, databaseURL)
		db := strings.TrimPrefix(t.Name(), "TestBrowserChecks/")
		site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"status":"ok","version":"2.4.1"}`)
		}))
		t.Cleanup(site.Close)

		b := testenv.Browser(t)
		run(t, b, "log in",
			chromedp.EmulateViewport(1280, 900),
			chromedp.Navigate(base+"/checks/new"),
			chromedp.WaitVisible(chromedp.ID("username")),
			chromedp.SendKeys(chromedp.ID("username"), "admin"),
			chromedp.SendKeys(chromedp.ID("password"), adminPassword),
		)
		if _, err := chromedp.RunResponse(b, chromedp.Click(chromedp.ID("login-submit"))); err != nil {
			t.Fatalf("submit login: %v", err)
		}
		run(t, b, "the form shows the HTTP fields only",
			chromedp.WaitVisible(chromedp.ID("check-form")),
			chromedp.WaitVisible(chromedp.ID("http_url")),
			chromedp.WaitNotVisible(chromedp.ID("fs-tcp")),
			chromedp.WaitNotVisible(chromedp.ID("fs-heartbeat")),
			chromedp.WaitNotVisible(chromedp.ID("fs-log")),
		)
		// Switching the kind switches the fields; back to HTTP.
		eval[bool](t, b, `(function(){var k=document.getElementById('kind');k.value='heartbeat';k.dispatchEvent(new Event('change',{bubbles:true}));return true})()`)
		run(t, b, "heartbeat fields", chromedp.WaitVisible(chromedp.ID("hb_period")), chromedp.WaitNotVisible(chromedp.ID("fs-http")),
			chromedp.WaitNotVisible(chromedp.ID("hb_schedule")), chromedp.WaitNotVisible(chromedp.ID("timeout")))
		eval[bool](t, b, `(function(){var r=document.querySelector('input[name=hb_mode][value=schedule]');r.click();return true})()`)
		run(t, b, "cron fields", chromedp.WaitVisible(chromedp.ID("hb_schedule")), chromedp.WaitNotVisible(chromedp.ID("hb_period")))
		eval[bool](t, b, `(function(){var k=document.getElementById('kind');k.value='http';k.dispatchEvent(new Event('change',{bubbles:true}));return true})()`)
		run(t, b, "fill in the HTTP check",
			chromedp.WaitVisible(chromedp.ID("http_url")),
			chromedp.SendKeys(chromedp.ID("slug"), "local-shop"),
			chromedp.SendKeys(chromedp.ID("name"), "Local shop ("+db+")"),
			chromedp.SendKeys(chromedp.ID("http_url"), site.URL+"/healthz"),
			chromedp.SendKeys(chromedp.ID("http_expect_json"), "status=ok"),
			chromedp.SetValue(chromedp.ID("level"), "P2"),
		)
		if _, err := chromedp.RunResponse(b, chromedp.Click(chromedp.ID("save-check"))); err != nil {
			t.Fatalf("submit the check: %v", err)
		}
		run(t, b, "the check's page", chromedp.WaitVisible(chromedp.ID("run-now")), chromedp.WaitVisible(chromedp.ID("latency-chart")))
		v, err := in.Web.Checks.BySlug(t.Context(), "local-shop")
		if err != nil {
			t.Fatalf("the form made no check: %v", err)
		}
		if v.Kind != "http" || v.Level != "P2" || !strings.Contains(string(v.Spec), `"path":"status"`) {
			t.Errorf("stored %+v %s", v.Check, v.Spec)
		}

		if _, err := chromedp.RunResponse(b, chromedp.Click(chromedp.ID("run-now"))); err != nil {
			t.Fatalf("run now: %v", err)
		}
		// The page looks again until the run is in, then shows the check up.
		run(t, b, "the check is up with a latency chart",
			chromedp.WaitVisible(chromedp.CSS(`#check-status[data-status="up"]`)),
			chromedp.WaitNotPresent(chromedp.ID("run-pending")),
			chromedp.WaitVisible(chromedp.CSS(`#latency-chart circle.lat-dot`)),
			chromedp.WaitVisible(chromedp.CSS(`#results tr.res-ok`)),
		)
		if n := eval[int](t, b, `document.querySelectorAll('#uptime-chart rect').length`); n != 90 {
			t.Errorf("the uptime chart has %d bars, want 90", n)
		}
		if got := eval[string](t, b, `document.querySelector('#uptime-chart rect:last-of-type title').textContent`); !strings.Contains(got, "100%") {
			t.Errorf("today's bar says %q", got)
		}
		if got := eval[string](t, b, `document.getElementById('last-message').textContent`); !strings.Contains(got, "200") {
			t.Errorf("last message %q", got)
		}
		if n := eval[int](t, b, `document.querySelectorAll('#latency-chart circle.lat-dot').length`); n < 2 {
			t.Errorf("%d runs on the latency chart, want the first run and the one asked for", n)
		}
		screenshot(t, b, "/tmp/ui-check-"+db+".png")

		run(t, b, "the list shows it up with its uptime",
			chromedp.Navigate(base+"/checks"),
			chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#check-%d[data-status="up"] svg.upbar`, v.ID))),
		)
		if got := eval[string](t, b, fmt.Sprintf(`document.querySelector('#check-%d .uptime-pct').textContent`, v.ID)); strings.TrimSpace(got) != "100%" {
			t.Errorf("list uptime %q", got)
		}
		screenshot(t, b, "/tmp/ui-checks-"+db+".png")
	})
}
