package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/firebreak/firebreak/internal/server"
	"github.com/firebreak/firebreak/internal/testenv"
)

// TestBrowserLive drives real Chromium: log in through the form, watch the
// incident list pick up an incident opened by an alert without reloading,
// then watch the incident page append timeline rows as alerts and notes arrive.
func TestBrowserLive(t *testing.T) {
	eachDatabase(t, func(t *testing.T, databaseURL string) {
		in, base := startInstance(t, databaseURL)
		ctx := testenv.Browser(t)
		browserLive(t, ctx, in, base, strings.TrimPrefix(t.Name(), "TestBrowserLive/"))
	})
}

// run performs browser steps, each wait bounded so a failure names its step.
func run(t *testing.T, ctx context.Context, step string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := chromedp.Do(sctx, actions...); err != nil {
		html, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("body")))
		t.Fatalf("%s: %v\npage:\n%s", step, err, excerpt(html))
	}
}

func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(name, png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// sendJSON posts JSON from Go (not from the browser) and decodes the answer.
func sendJSON(t *testing.T, url, token string, body, out any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, url, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		t.Fatalf("POST %s: %d %s", url, resp.StatusCode, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("POST %s: %v: %s", url, err, raw)
		}
	}
}

func browserLive(t *testing.T, ctx context.Context, in *server.Instance, base, db string) {
	services, err := in.Web.Services.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	eventsURL := base + "/api/v1/integrations/" + services[0].Keys[0].Key + "/events"
	admin, err := in.Web.Auth.UserByUsername(t.Context(), "admin")
	if err != nil {
		t.Fatal(err)
	}
	token, _, err := in.Web.Auth.CreateToken(t.Context(), admin.ID, "browser test", 0)
	if err != nil {
		t.Fatal(err)
	}

	// Log in through the form; the login page keeps where we were going.
	run(t, ctx, "open the list",
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(base+"/incidents"),
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), "admin"),
		chromedp.SendKeys(chromedp.ID("password"), adminPassword),
	)
	if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.ID("login-submit"))); err != nil {
		t.Fatalf("submit login: %v", err)
	}
	run(t, ctx, "see the empty list, live",
		chromedp.WaitVisible(chromedp.CSS("#incident-list .empty")),
		chromedp.WaitVisible(chromedp.CSS("#live-state.on")), // the EventSource is connected
	)
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); loc != base+"/incidents" {
		t.Fatalf("after login the browser is at %s", loc)
	}
	eval[bool](t, ctx, `window.__noReload = "still here"; true`)

	// An alert arrives from outside; its incident shows up without a reload.
	title := "Checkout is failing (" + db + ")"
	var ingest struct {
		Events []struct {
			IncidentID int64 `json:"incident_id"`
		} `json:"events"`
	}
	sendJSON(t, eventsURL, "", map[string]any{"summary": title, "severity": "critical", "dedup_key": "checkout-down"}, &ingest)
	if len(ingest.Events) != 1 || ingest.Events[0].IncidentID == 0 {
		t.Fatalf("ingest answer: %+v", ingest)
	}
	id := ingest.Events[0].IncidentID
	row := fmt.Sprintf("#incident-%d a.incident-title", id)
	run(t, ctx, "the new incident appears in the list", chromedp.WaitVisible(chromedp.CSS(row)))
	if got := eval[string](t, ctx, `document.querySelector(`+strconv.Quote(row)+`).textContent`); got != title {
		t.Errorf("list row title %q, want %q", got, title)
	}
	if got := eval[string](t, ctx, `String(window.__noReload)`); got != "still here" {
		t.Fatalf("the list page reloaded (marker %q)", got)
	}
	screenshot(t, ctx, "/tmp/ui-list-"+db+".png")

	// The incident page: timeline rows arrive live, header follows.
	run(t, ctx, "open the incident",
		chromedp.Navigate(fmt.Sprintf("%s/incidents/%d", base, id)),
		chromedp.WaitVisible(chromedp.ID("timeline")),
		chromedp.WaitVisible(chromedp.CSS("#live-state.on")),
	)
	eval[bool](t, ctx, `window.__noReload = "incident"; true`)
	before := eval[int](t, ctx, `document.querySelectorAll('#timeline li.entry').length`)

	second := "Payment latency above 2s (" + db + ")"
	sendJSON(t, eventsURL, "", map[string]any{"summary": second, "severity": "error", "dedup_key": "payment-latency"}, nil)
	run(t, ctx, "the second alert's row appears",
		chromedp.WaitVisible(chromedp.Search(`//li[contains(@class,"kind-alert_attached")]//p[contains(., "`+second+`")]`)),
		chromedp.WaitVisible(chromedp.Search(`//div[@id="alerts"]//div[contains(., "`+second+`")]`)),
	)
	note := "Rolled back release 1.42 (" + db + ")"
	sendJSON(t, fmt.Sprintf("%s/api/v1/incidents/%d/notes", base, id), token, map[string]string{"text": note}, nil)
	run(t, ctx, "the note appears", chromedp.WaitVisible(chromedp.Search(`//li[contains(@class,"kind-note")]//p[contains(., "`+note+`")]`)))
	sendJSON(t, fmt.Sprintf("%s/api/v1/incidents/%d/status", base, id), token, map[string]string{"status": "acknowledged"}, nil)
	run(t, ctx, "the header follows the status",
		chromedp.WaitVisible(chromedp.CSS(`#incident-state[data-status="acknowledged"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#status-buttons button[value="resolved"]`)),
		chromedp.WaitNotVisible(chromedp.CSS(`#status-buttons button[value="acknowledged"]`)),
	)
	if got := eval[string](t, ctx, `String(window.__noReload)`); got != "incident" {
		t.Fatalf("the incident page reloaded (marker %q)", got)
	}
	after := eval[int](t, ctx, `document.querySelectorAll('#timeline li.entry').length`)
	if ids := eval[int](t, ctx, `new Set(Array.from(document.querySelectorAll('#timeline li.entry')).map(li => li.id)).size`); ids != after {
		t.Errorf("timeline has duplicate rows: %d rows, %d ids", after, ids)
	}
	if after < before+3 {
		t.Errorf("timeline grew from %d to %d rows, want at least 3 more", before, after)
	}

	// A form post from the browser (same-origin, through CSRF protection).
	run(t, ctx, "type a note", chromedp.SendKeys(chromedp.ID("note-text"), "Customers notified by email"))
	if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(`.note-form button[type=submit]`))); err != nil {
		t.Fatalf("post the note form: %v", err)
	}
	run(t, ctx, "the posted note is on the timeline",
		chromedp.WaitVisible(chromedp.Search(`//li[contains(@class,"kind-note")]//p[contains(., "Customers notified by email")]`)))
	screenshot(t, ctx, "/tmp/ui-incident-"+db+".png")

	// The same pages in Chinese.
	if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(`.lang-switch button[value="zh"]`))); err != nil {
		t.Fatalf("switch to Chinese: %v", err)
	}
	run(t, ctx, "the page speaks Chinese", chromedp.WaitVisible(chromedp.Search(`//h2[@id="timeline-h"][contains(., "时间线")]`)))
	if lang := eval[string](t, ctx, `document.documentElement.lang`); lang != "zh-CN" {
		t.Errorf("html lang = %q", lang)
	}
	screenshot(t, ctx, "/tmp/ui-incident-zh-"+db+".png")
	run(t, ctx, "the list in Chinese",
		chromedp.Navigate(base+"/incidents"),
		chromedp.WaitVisible(chromedp.CSS(row)),
		chromedp.WaitVisible(chromedp.Search(`//a[@aria-current="page"][contains(., "事故")]`)),
	)
	screenshot(t, ctx, "/tmp/ui-list-zh-"+db+".png")
}
