package web_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/firebreak/firebreak/internal/auth"
)

// The JSON shapes of early warning the tests read back.
type ckCheck struct {
	ID           int64             `json:"id"`
	Slug         string            `json:"slug"`
	Name         string            `json:"name"`
	Kind         string            `json:"kind"`
	Spec         map[string]any    `json:"spec"`
	Interval     string            `json:"interval"`
	Timeout      string            `json:"timeout"`
	FailAfter    int               `json:"fail_after"`
	RecoverAfter int               `json:"recover_after"`
	ServiceID    int64             `json:"service_id"`
	Type         string            `json:"incident_type"`
	Level        string            `json:"level"`
	Labels       map[string]string `json:"labels"`
	Paused       bool              `json:"paused"`
	PingKey      string            `json:"ping_key"`
	PingURL      string            `json:"ping_url"`
	Source       string            `json:"source"`
	State        struct {
		Status      string `json:"status"`
		OK          int    `json:"consecutive_ok"`
		Bad         int    `json:"consecutive_failures"`
		LastRunAt   string `json:"last_run_at"`
		LastMessage string `json:"last_message"`
	} `json:"state"`
}

type ckAlert struct {
	ID          int64             `json:"id"`
	ServiceID   int64             `json:"service_id"`
	Fingerprint string            `json:"fingerprint"`
	Status      string            `json:"status"`
	Severity    string            `json:"severity"`
	Summary     string            `json:"summary"`
	Source      string            `json:"source"`
	Labels      map[string]string `json:"labels"`
	IncidentID  int64             `json:"incident_id"`
	SilencedBy  int64             `json:"silenced_by"`
	RepeatCount int64             `json:"repeat_count"`
}

type ckWindow struct {
	ID       int64    `json:"id"`
	Title    string   `json:"title"`
	StartsAt string   `json:"starts_at"`
	EndsAt   string   `json:"ends_at"`
	Cron     string   `json:"cron"`
	TimeZone string   `json:"time_zone"`
	Duration string   `json:"duration"`
	Services []int64  `json:"services"`
	Checks   []string `json:"checks"`
	Public   bool     `json:"public"`
}

// ckUser makes a user of role and returns an API token of theirs.
func (e *apiEnv) ckUser(t *testing.T, name string, role auth.Role) string {
	t.Helper()
	u, err := e.in.Web.Auth.CreateUser(t.Context(), auth.NewUser{Username: name, Role: role, Password: name + "-password-123"})
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := e.in.Web.Auth.CreateToken(t.Context(), u.ID, name, 0)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (e *apiEnv) ckCreate(t *testing.T, body map[string]any) ckCheck {
	t.Helper()
	var c ckCheck
	e.call(t, "POST", "/api/v1/checks", e.admin, body, http.StatusCreated).decode(t, &c)
	if c.ID == 0 || c.Slug != body["slug"] || c.Kind != body["kind"] {
		t.Fatalf("created %+v from %v", c, body)
	}
	return c
}

func (e *apiEnv) ckGet(t *testing.T, id int64) ckCheck {
	t.Helper()
	var c ckCheck
	e.call(t, "GET", fmt.Sprintf("/api/v1/checks/%d", id), e.admin, nil, http.StatusOK).decode(t, &c)
	return c
}

func (e *apiEnv) ckAlerts(t *testing.T, serviceID int64) []ckAlert {
	t.Helper()
	var p apiPage[ckAlert]
	e.call(t, "GET", fmt.Sprintf("/api/v1/alerts?service_id=%d&limit=500", serviceID), e.admin, nil, http.StatusOK).decode(t, &p)
	return p.Items
}

// ckAlertBy returns the one alert of a service whose labels include want.
func (e *apiEnv) ckAlertBy(t *testing.T, serviceID int64, want map[string]string) ckAlert {
	t.Helper()
	var found []ckAlert
	for _, a := range e.ckAlerts(t, serviceID) {
		match := true
		for k, v := range want {
			match = match && a.Labels[k] == v
		}
		if match {
			found = append(found, a)
		}
	}
	if len(found) != 1 {
		t.Fatalf("alerts of service %d with labels %v: %+v", serviceID, want, found)
	}
	return found[0]
}

// ckWait polls cond until it holds; the scheduler runs checks in the
// background, so their results arrive a moment after the request.
func ckWait(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestAPIChecks(t *testing.T) {
	t.Parallel()
	apiEachDB(t, func(t *testing.T, e *apiEnv) {
		var healthy atomic.Bool
		healthy.Store(true)
		site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			if !healthy.Load() {
				w.WriteHeader(http.StatusServiceUnavailable)
				fmt.Fprint(w, `{"status":"down"}`)
				return
			}
			fmt.Fprint(w, `{"status":"ok","db":{"state":"up"}}`)
		}))
		t.Cleanup(site.Close)
		siteAddr := strings.TrimPrefix(site.URL, "http://")
		shop := e.createService(t, "shop")
		viewer := e.ckUser(t, "vera", auth.Viewer)
		responder := e.ckUser(t, "rick", auth.Responder)

		t.Run("kinds", func(t *testing.T) {
			for _, c := range []struct {
				kind   string
				spec   map[string]any
				paused bool
			}{
				{"http", map[string]any{"url": site.URL + "/healthz", "method": "GET", "headers": map[string]string{"X-Probe": "firebreak"},
					"expect_status": []int{200}, "expect_body": "ok", "expect_regex": `"state":\s*"up"`,
					"expect_json": []map[string]string{{"path": "db.state", "equals": "up"}}, "max_latency": "2s", "follow_redirects": true}, false},
				{"tcp", map[string]any{"address": siteAddr, "send": "HEAD / HTTP/1.0\r\n\r\n", "expect": "HTTP/1.0"}, false},
				{"dns", map[string]any{"name": "www.example.com", "type": "AAAA", "resolver": "127.0.0.1:53", "expect": []string{"2001:db8::1"}}, true},
				{"tls", map[string]any{"address": "api.example.com:443", "server_name": "api.example.com", "warn_before": "336h"}, true},
				{"heartbeat", map[string]any{"period": "1h", "grace": "5m"}, false},
				{"heartbeat", map[string]any{"schedule": "0 22 * * *", "time_zone": "Asia/Shanghai", "grace": "1h"}, false},
				{"prometheus", map[string]any{"url": "http://127.0.0.1:9", "query": `100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[5m])))`,
					"above": 80, "for": "5m"}, true},
				{"log", map[string]any{"match": []map[string]string{{"field": "event", "equals": "login_failed"}, {"field": "user", "not_equals": "probe"}},
					"group_by": []string{"source_ip"}, "count": 20, "within": "5m"}, false},
			} {
				slug := fmt.Sprintf("%s-%d", c.kind, len(c.spec))
				t.Run(slug, func(t *testing.T) {
					body := map[string]any{"slug": slug, "name": "The " + c.kind + " check", "kind": c.kind, "spec": c.spec, "interval": "30s",
						"timeout": "5s", "fail_after": 2, "recover_after": 2, "service_id": shop.ID, "incident_type": "site-down", "level": "P2",
						"labels": map[string]string{"team": "web"}, "paused": c.paused}
					made := e.ckCreate(t, body)
					if made.Interval != "30s" || made.Timeout != "5s" || made.FailAfter != 2 || made.RecoverAfter != 2 || made.ServiceID != shop.ID ||
						made.Type != "site-down" || made.Level != "P2" || made.Labels["team"] != "web" || made.Paused != c.paused || made.Source != "" {
						t.Errorf("created %+v", made)
					}
					if (c.kind == "heartbeat") != (made.PingKey != "") || (made.PingURL != "") != (c.kind == "heartbeat") {
						t.Errorf("ping key %q url %q for a %s check", made.PingKey, made.PingURL, c.kind)
					}
					if c.kind == "heartbeat" && made.PingURL != e.base+"/ping/"+made.PingKey {
						t.Errorf("ping_url %q", made.PingURL)
					}
					got := e.ckGet(t, made.ID)
					if got.Slug != slug || got.Name != "The "+c.kind+" check" || len(got.Spec) != len(c.spec) {
						t.Errorf("GET %+v", got)
					}
					path := fmt.Sprintf("/api/v1/checks/%d", made.ID)
					body["name"], body["paused"] = "Renamed", true
					var upd ckCheck
					e.call(t, "PUT", path, e.admin, body, http.StatusOK).decode(t, &upd)
					if upd.Name != "Renamed" || !upd.Paused || upd.PingKey != made.PingKey {
						t.Errorf("after PUT %+v (was %+v)", upd, made)
					}
					// Absent settings take their defaults.
					e.call(t, "PUT", path, e.admin, map[string]any{"slug": slug, "kind": c.kind, "spec": c.spec, "paused": true}, http.StatusOK).decode(t, &upd)
					if upd.Interval != "1m0s" || upd.Timeout != "10s" || upd.FailAfter != 1 || upd.ServiceID != 0 || upd.Level != "" {
						t.Errorf("after PUT without settings %+v", upd)
					}
					e.fail(t, "DELETE", path, viewer, nil, http.StatusForbidden, "")
					e.call(t, "DELETE", path, e.admin, nil, http.StatusNoContent)
					e.fail(t, "GET", path, e.admin, nil, http.StatusNotFound, "")
					e.fail(t, "DELETE", path, e.admin, nil, http.StatusNotFound, "")
					e.fail(t, "PUT", path, e.admin, body, http.StatusNotFound, "")
				})
			}
		})

		t.Run("bad input", func(t *testing.T) {
			taken := e.ckCreate(t, map[string]any{"slug": "taken", "kind": "http", "spec": map[string]any{"url": site.URL}, "paused": true})
			before := e.count(t, "checks")
			http := func(spec map[string]any) map[string]any {
				return map[string]any{"slug": "bad", "kind": "http", "spec": spec}
			}
			ok := map[string]any{"url": "https://shop.example.com/"}
			with := func(k string, v any) map[string]any {
				b := http(ok)
				b[k] = v
				return b
			}
			for _, c := range []struct {
				name  string
				body  any
				field string
			}{
				{"empty url", http(map[string]any{"url": ""}), "spec.url"},
				{"no url", http(map[string]any{}), "spec.url"},
				{"ftp url", http(map[string]any{"url": "ftp://files.example.com/"}), "spec.url"},
				{"bad regex", http(map[string]any{"url": "https://x.example.com", "expect_regex": "(unclosed"}), "spec.expect_regex"},
				{"bad status", http(map[string]any{"url": "https://x.example.com", "expect_status": []int{99}}), "spec.expect_status[0]"},
				{"bad json path", http(map[string]any{"url": "https://x.example.com", "expect_json": []map[string]string{{"path": "a..b"}}}), "spec.expect_json[0].path"},
				{"spec field unknown", http(map[string]any{"url": "https://x.example.com", "colour": "red"}), "spec"},
				{"tcp without port", map[string]any{"slug": "bad", "kind": "tcp", "spec": map[string]any{"address": "db.internal"}}, "spec.address"},
				{"dns name", map[string]any{"slug": "bad", "kind": "dns", "spec": map[string]any{"name": "not a name"}}, "spec.name"},
				{"dns type", map[string]any{"slug": "bad", "kind": "dns", "spec": map[string]any{"name": "example.com", "type": "BOGUS"}}, "spec.type"},
				{"tls address", map[string]any{"slug": "bad", "kind": "tls", "spec": map[string]any{"address": ""}}, "spec.address"},
				{"heartbeat without period", map[string]any{"slug": "bad", "kind": "heartbeat", "spec": map[string]any{"grace": "5m"}}, "spec.period"},
				{"heartbeat bad cron", map[string]any{"slug": "bad", "kind": "heartbeat", "spec": map[string]any{"schedule": "61 * * * *"}}, "spec.schedule"},
				{"heartbeat cron and period", map[string]any{"slug": "bad", "kind": "heartbeat", "spec": map[string]any{"schedule": "0 1 * * *", "period": "1h"}}, "spec.schedule"},
				{"heartbeat time zone", map[string]any{"slug": "bad", "kind": "heartbeat", "spec": map[string]any{"schedule": "0 1 * * *", "time_zone": "Mars/Olympus_Mons"}}, "spec.time_zone"},
				{"prometheus query", map[string]any{"slug": "bad", "kind": "prometheus", "spec": map[string]any{"url": "http://prometheus:9090", "query": ""}}, "spec.query"},
				{"prometheus threshold", map[string]any{"slug": "bad", "kind": "prometheus", "spec": map[string]any{"url": "http://prometheus:9090", "query": "up"}}, "spec.above"},
				{"prometheus url", map[string]any{"slug": "bad", "kind": "prometheus", "spec": map[string]any{"url": "http://prometheus:9090/api/v1/query", "query": "up", "above": 1}}, "spec.url"},
				{"log regex", map[string]any{"slug": "bad", "kind": "log", "spec": map[string]any{"match": []map[string]string{{"field": "msg", "regex": "(oops"}}, "count": 1, "within": "5m"}}, "spec.match[0].regex"},
				{"log count", map[string]any{"slug": "bad", "kind": "log", "spec": map[string]any{"count": 0, "within": "5m"}}, "spec.count"},
				{"log within", map[string]any{"slug": "bad", "kind": "log", "spec": map[string]any{"count": 3}}, "spec.within"},
				{"slug", with("slug", "Not A Slug"), "slug"},
				{"slug taken", with("slug", taken.Slug), "slug"},
				{"kind", with("kind", "ftp"), "kind"},
				{"interval too short", with("interval", "1s"), "interval"},
				{"timeout not shorter", with("timeout", "2m"), "timeout"},
				{"fail_after", with("fail_after", 101), "fail_after"},
				{"recover_after", with("recover_after", -1), "recover_after"},
				{"level", with("level", "P9"), "level"},
				{"incident type", with("incident_type", "meteor-strike"), "incident_type"},
				{"service", with("service_id", 999999), "service_id"},
				{"unknown field", with("colour", "red"), "colour"},
				{"name not a string", with("name", 5), "name"},
			} {
				t.Run(c.name, func(t *testing.T) {
					eb := e.fail(t, "POST", "/api/v1/checks", e.admin, c.body, 400, c.field)
					if strings.Contains(eb.Error, "check.") || strings.Contains(eb.Error, "probe.") {
						t.Errorf("error %q speaks Go", eb.Error)
					}
				})
			}
			// An update is refused the same way and changes nothing.
			path := fmt.Sprintf("/api/v1/checks/%d", taken.ID)
			e.fail(t, "PUT", path, e.admin, map[string]any{"slug": "taken", "kind": "http", "spec": map[string]any{"url": site.URL, "expect_regex": "["}}, 400, "spec.expect_regex")
			if got := e.ckGet(t, taken.ID); got.Spec["expect_regex"] != nil || !got.Paused {
				t.Errorf("a refused update changed the check: %+v", got)
			}
			if after := e.count(t, "checks"); after != before {
				t.Errorf("bad checks stored %d rows", after-before)
			}
			e.fail(t, "GET", "/api/v1/checks/x", e.admin, nil, 400, "id")
			e.fail(t, "GET", "/api/v1/checks/999999", e.admin, nil, 404, "")
		})

		t.Run("roles", func(t *testing.T) {
			body := map[string]any{"slug": "by-viewer", "kind": "http", "spec": map[string]any{"url": site.URL}}
			e.fail(t, "POST", "/api/v1/checks", viewer, body, http.StatusForbidden, "")
			e.fail(t, "POST", "/api/v1/checks", responder, body, http.StatusForbidden, "")
			e.fail(t, "POST", "/api/v1/checks", "", body, http.StatusUnauthorized, "")
			var list apiPage[ckCheck]
			e.call(t, "GET", "/api/v1/checks", viewer, nil, http.StatusOK).decode(t, &list)
			var slugs []string
			for _, c := range list.Items {
				slugs = append(slugs, c.Slug)
				if c.PingURL != "" {
					t.Errorf("listed %s with a ping_url", c.Slug)
				}
			}
			// The default plan's checks, paused, and its restore check.
			for _, want := range []string{"checkout-probe", "api-tls", "cpu-high", "abnormal-logins", "nightly-backup", "restore-nightly-db-backup"} {
				if !slices.Contains(slugs, want) {
					t.Errorf("checks %v lack the plan's %s", slugs, want)
				}
			}
			if !slices.IsSorted(slugs) || slices.Contains(slugs, "by-viewer") {
				t.Errorf("checks %v", slugs)
			}
			id := list.Items[0].ID
			e.fail(t, "PUT", fmt.Sprintf("/api/v1/checks/%d", id), responder, body, http.StatusForbidden, "")
			e.fail(t, "POST", fmt.Sprintf("/api/v1/checks/%d/run", id), viewer, nil, http.StatusForbidden, "")
		})

		t.Run("run now, results and history", func(t *testing.T) {
			c := e.ckCreate(t, map[string]any{"slug": "shop-health", "kind": "http", "interval": "1h", "service_id": shop.ID, "level": "P2",
				"spec": map[string]any{"url": site.URL + "/healthz", "expect_json": []map[string]string{{"path": "status", "equals": "ok"}}}})
			path := fmt.Sprintf("/api/v1/checks/%d", c.ID)
			// A new check runs at once.
			ckWait(t, "the first run", func() bool { return e.ckGet(t, c.ID).State.Status == "up" })
			results := func() []map[string]any {
				var p apiPage[map[string]any]
				e.call(t, "GET", path+"/results", e.admin, nil, http.StatusOK).decode(t, &p)
				return p.Items
			}
			n := len(results())
			var ran ckCheck
			e.call(t, "POST", path+"/run", responder, nil, http.StatusAccepted).decode(t, &ran)
			if ran.ID != c.ID {
				t.Errorf("run answered %+v", ran)
			}
			ckWait(t, "the second run", func() bool { return len(results()) > n })
			res := results()
			if last := res[len(res)-1]; last["ok"] != true || !strings.Contains(fmt.Sprint(last["message"]), "200") {
				t.Errorf("last result %v", last)
			}

			// It fails, raises an alert, recovers and resolves it.
			healthy.Store(false)
			e.call(t, "POST", path+"/run", responder, nil, http.StatusAccepted)
			ckWait(t, "the check to go down", func() bool { return e.ckGet(t, c.ID).State.Status == "down" })
			a := e.ckAlertBy(t, shop.ID, map[string]string{"check": "shop-health"})
			if a.Status != "firing" || a.Source != "check" || a.Labels["check_kind"] != "http" || a.IncidentID == 0 ||
				!strings.Contains(a.Summary, "shop-health") || !strings.Contains(a.Summary, "503") {
				t.Errorf("alert of the failing check %+v", a)
			}
			if inc := e.incident(t, a.IncidentID); inc.Level != "P2" || inc.Source != "check" {
				t.Errorf("its incident %+v", inc)
			}
			healthy.Store(true)
			e.call(t, "POST", path+"/run", e.admin, nil, http.StatusAccepted)
			ckWait(t, "the check to recover", func() bool { return e.ckGet(t, c.ID).State.Status == "up" })
			if a := e.alert(t, a.ID); a.Status != "resolved" {
				t.Errorf("alert after recovery %+v", a)
			}

			var days apiPage[map[string]any]
			e.call(t, "GET", path+"/daily?days=3", e.admin, nil, http.StatusOK).decode(t, &days)
			today := days.Items[len(days.Items)-1]
			if len(days.Items) != 3 || today["day"] != time.Now().UTC().Format(time.DateOnly) ||
				today["runs"].(float64) < 4 || today["failures"].(float64) != 1 || today["uptime"].(float64) >= 1 {
				t.Errorf("daily %v", days.Items)
			}
			e.call(t, "GET", path+"/daily", e.admin, nil, http.StatusOK).decode(t, &days)
			if len(days.Items) != 90 {
				t.Errorf("default history of %d days", len(days.Items))
			}
			var pings apiPage[map[string]any]
			e.call(t, "GET", path+"/pings", viewer, nil, http.StatusOK).decode(t, &pings)
			if len(pings.Items) != 0 {
				t.Errorf("an HTTP check with pings %v", pings.Items)
			}
			var old apiPage[map[string]any]
			e.call(t, "GET", path+"/results?from=2020-01-01T00:00:00Z&to=2020-01-02T00:00:00Z", viewer, nil, http.StatusOK).decode(t, &old)
			if len(old.Items) != 0 {
				t.Errorf("results of 2020: %v", old.Items)
			}
			e.fail(t, "GET", path+"/results?from=yesterday", e.admin, nil, 400, "from")
			e.fail(t, "GET", path+"/results?to=2026-13-01T00:00:00Z", e.admin, nil, 400, "to")
			e.fail(t, "GET", path+"/daily?days=0", e.admin, nil, 400, "days")
			e.fail(t, "GET", path+"/daily?days=x", e.admin, nil, 400, "days")
			e.fail(t, "GET", path+"/daily?days=401", e.admin, nil, 400, "days")
			for _, sub := range []string{"/results", "/daily", "/pings"} {
				e.fail(t, "GET", "/api/v1/checks/999999"+sub, e.admin, nil, 404, "")
			}
			e.fail(t, "POST", "/api/v1/checks/999999/run", e.admin, nil, 404, "")
		})

		t.Run("plan checks", func(t *testing.T) {
			var list apiPage[ckCheck]
			e.call(t, "GET", "/api/v1/checks", e.admin, nil, http.StatusOK).decode(t, &list)
			for _, c := range list.Items {
				if c.Source == "plan" {
					e.fail(t, "DELETE", fmt.Sprintf("/api/v1/checks/%d", c.ID), e.admin, nil, http.StatusConflict, "")
				}
			}
		})
	})
}

// ckPing sends a heartbeat ping and wants "OK".
func (e *apiEnv) ckPing(t *testing.T, method, path, body string) {
	t.Helper()
	var b any
	if body != "" {
		b = body
	}
	r := e.do(t, method, path, "", b, "Content-Type", "text/plain")
	if r.status != http.StatusOK || string(r.body) != "OK" || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
		t.Fatalf("%v; want 200 OK", r)
	}
	if err := e.spec.CheckResponse(method, path, r.status, r.header.Get("Content-Type"), r.body); err != nil {
		t.Errorf("answer does not match openapi.json: %v", err)
	}
}

func TestAPIHeartbeats(t *testing.T) {
	t.Parallel()
	apiEachDB(t, func(t *testing.T, e *apiEnv) {
		jobs := e.createService(t, "batch-jobs")
		hb := e.ckCreate(t, map[string]any{"slug": "nightly-export", "name": "Nightly export", "kind": "heartbeat", "service_id": jobs.ID,
			"level": "P2", "spec": map[string]any{"schedule": "0 2 * * *", "time_zone": "Asia/Shanghai", "grace": "30m"}})
		ping := "/ping/" + hb.PingKey
		if hb.State.Status != "unknown" {
			t.Errorf("a new heartbeat is %q", hb.State.Status)
		}

		// The job starts, then succeeds with its log.
		e.ckPing(t, "GET", ping+"/start", "")
		e.ckPing(t, "POST", ping, "exported 1200 orders")
		if c := e.ckGet(t, hb.ID); c.State.Status != "up" || c.State.OK != 1 {
			t.Errorf("after a success ping %+v", c.State)
		}
		if as := e.ckAlerts(t, jobs.ID); len(as) != 0 {
			t.Errorf("a succeeding job raised %+v", as)
		}

		// It fails: the alert fires and opens an incident.
		e.ckPing(t, "POST", ping+"/fail", "disk full")
		c := e.ckGet(t, hb.ID)
		if c.State.Status != "down" || !strings.Contains(c.State.LastMessage, "failure") {
			t.Errorf("after /fail %+v", c.State)
		}
		a := e.ckAlertBy(t, jobs.ID, map[string]string{"check": "nightly-export"})
		if a.Status != "firing" || a.Source != "check" || a.IncidentID == 0 || !strings.Contains(a.Summary, "Nightly export") {
			t.Fatalf("alert of a failed job %+v", a)
		}
		if inc := e.incident(t, a.IncidentID); inc.Level != "P2" || inc.ServiceID != jobs.ID {
			t.Errorf("its incident %+v", inc)
		}

		// Exit status 0 is a success: the alert resolves.
		e.ckPing(t, "GET", ping+"/0", "")
		if a := e.alert(t, a.ID); a.Status != "resolved" {
			t.Errorf("after exit 0 the alert is %q", a.Status)
		}
		// A non-zero exit status fails it again.
		e.ckPing(t, "POST", ping+"/3", "pg_dump: connection refused")
		if c := e.ckGet(t, hb.ID); c.State.Status != "down" || !strings.Contains(c.State.LastMessage, "status 3") {
			t.Errorf("after exit 3 %+v", c.State)
		}
		if a := e.alert(t, a.ID); a.Status != "firing" {
			t.Errorf("after exit 3 the alert is %q", a.Status)
		}
		e.ckPing(t, "POST", ping, "")
		if a := e.alert(t, a.ID); a.Status != "resolved" {
			t.Errorf("after a success the alert is %q", a.Status)
		}

		var pings apiPage[struct {
			Kind       string `json:"kind"`
			ExitStatus int    `json:"exit_status"`
			Body       string `json:"body"`
			Duration   string `json:"duration"`
			Remote     string `json:"remote"`
		}]
		e.call(t, "GET", fmt.Sprintf("/api/v1/checks/%d/pings", hb.ID), e.admin, nil, http.StatusOK).decode(t, &pings)
		var kinds []string
		for _, p := range pings.Items {
			kinds = append(kinds, p.Kind)
		}
		if want := []string{"success", "exit", "exit", "fail", "success", "start"}; !slices.Equal(kinds, want) {
			t.Fatalf("pings %v, want newest first %v", kinds, want)
		}
		if p := pings.Items[1]; p.ExitStatus != 3 || p.Body != "pg_dump: connection refused" {
			t.Errorf("exit ping %+v", p)
		}
		if p := pings.Items[4]; p.Body != "exported 1200 orders" || p.Duration == "" || !strings.HasPrefix(p.Remote, "127.0.0.1") {
			t.Errorf("success ping after start %+v", p)
		}

		// Bad pings.
		for _, bad := range []string{"/256", "/-1", "/oops"} {
			e.fail(t, "GET", ping+bad, "", nil, http.StatusBadRequest, "signal")
		}
		e.fail(t, "GET", "/ping/00000000-0000-4000-8000-000000000000", "", nil, http.StatusNotFound, "key")
		e.fail(t, "POST", "/ping/00000000-0000-4000-8000-000000000000/fail", "", nil, http.StatusNotFound, "key")
	})
}

// TestAPIHeartbeatWithoutService: a heartbeat made without a service gets one
// named after it with its first alert.
func TestAPIHeartbeatWithoutService(t *testing.T) {
	t.Parallel()
	apiEachDB(t, func(t *testing.T, e *apiEnv) {
		lone := e.ckCreate(t, map[string]any{"slug": "lonely-cron", "kind": "heartbeat", "spec": map[string]any{"period": "1h"}})
		e.ckPing(t, "GET", "/ping/"+lone.PingKey, "")
		if r := e.do(t, "GET", "/ping/"+lone.PingKey+"/fail", "", nil); r.status != http.StatusOK {
			t.Fatalf("failing ping of a heartbeat without a service: %v", r)
		}
		c := e.ckGet(t, lone.ID)
		if c.ServiceID == 0 || c.State.Status != "down" {
			t.Fatalf("after a failure of a heartbeat without service %+v", c)
		}
		var sv apiService
		e.call(t, "GET", fmt.Sprintf("/api/v1/services/%d", c.ServiceID), e.admin, nil, http.StatusOK).decode(t, &sv)
		if sv.Name != "lonely-cron" {
			t.Errorf("the heartbeat's service %+v", sv)
		}
		if a := e.ckAlertBy(t, c.ServiceID, map[string]string{"check": "lonely-cron"}); a.Status != "firing" {
			t.Errorf("its alert %+v", a)
		}
	})
}

// loginLines is JSON lines of failed logins from ip.
func loginLines(ip string, n int, at time.Time) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `{"time":%q,"event":"login_failed","user":"root","source_ip":%q,"service":{"name":"sshd","pid":%d}}`+"\n",
			at.Add(time.Duration(i)*time.Second).Format(time.RFC3339), ip, 4000+i)
	}
	return b.String()
}

func TestAPILogIngest(t *testing.T) {
	t.Parallel()
	apiEachDB(t, func(t *testing.T, e *apiEnv) {
		auth := e.createService(t, "auth")
		key := auth.Keys[0].Key
		logsURL := "/api/v1/integrations/" + key + "/logs"
		e.ckCreate(t, map[string]any{"slug": "ssh-brute-force", "name": "SSH brute force", "kind": "log", "service_id": auth.ID,
			"incident_type": "security-breach", "level": "P1", "labels": map[string]string{"team": "security"},
			"spec": map[string]any{"match": []map[string]string{{"field": "event", "equals": "login_failed"}, {"field": "service.name", "regex": "^ssh"}},
				"group_by": []string{"source_ip"}, "count": 20, "within": "5m"}})
		type answer struct {
			Status string `json:"status"`
			Lines  int    `json:"lines"`
			Alerts int    `json:"alerts"`
		}
		post := func(body string, lines, alerts int) {
			t.Helper()
			var a answer
			e.call(t, "POST", logsURL, "", body, http.StatusAccepted).decode(t, &a)
			if a.Status != "accepted" || a.Lines != lines || a.Alerts != alerts {
				t.Fatalf("answer %+v, want %d lines and %d alerts", a, lines, alerts)
			}
		}
		now := time.Now().UTC().Add(-time.Minute)
		// 19 failures from one address, 10 from another, and successful logins: nothing yet.
		post(loginLines("203.0.113.7", 19, now)+loginLines("198.51.100.23", 10, now)+
			`{"event":"login_ok","user":"alice","source_ip":"203.0.113.7","service":{"name":"sshd"}}`+"\n\n", 30, 0)
		if as := e.ckAlerts(t, auth.ID); len(as) != 0 {
			t.Fatalf("alerts before the threshold: %+v", as)
		}
		// The 20th failure from 203.0.113.7 within 5 minutes fires.
		post(loginLines("203.0.113.7", 1, now.Add(30*time.Second)), 1, 1)
		a := e.ckAlertBy(t, auth.ID, map[string]string{"source_ip": "203.0.113.7"})
		if a.Status != "firing" || a.Source != "check" || a.Labels["check"] != "ssh-brute-force" || a.Labels["team"] != "security" ||
			!strings.Contains(a.Summary, "203.0.113.7") || a.IncidentID == 0 {
			t.Fatalf("burst alert %+v", a)
		}
		inc := e.incident(t, a.IncidentID)
		if inc.Type != "security-breach" || inc.Level != "P1" {
			t.Errorf("its incident %+v", inc)
		}
		// More failures from the same address repeat that alert; the other address is its own group.
		post(loginLines("203.0.113.7", 5, now.Add(40*time.Second)), 5, 0)
		if as := e.ckAlerts(t, auth.ID); len(as) != 1 {
			t.Errorf("alerts after more lines of one group: %+v", as)
		}

		e.fail(t, "POST", logsURL, "", "{\"event\":\"x\"}\nnot json\n", http.StatusBadRequest, "body")
		e.fail(t, "POST", logsURL, "", `[{"event":"x"}]`, http.StatusBadRequest, "body")
		e.fail(t, "POST", "/api/v1/integrations/"+strings.Repeat("0", 32)+"/logs", "", `{"event":"x"}`, http.StatusNotFound, "key")
		var big strings.Builder
		for big.Len() < 600<<10 {
			big.WriteString(`{"event":"padding","data":"` + strings.Repeat("x", 1000) + `"}` + "\n")
		}
		e.fail(t, "POST", logsURL, "", big.String(), http.StatusRequestEntityTooLarge, "")
	})
}

// A Trivy report of an image: a critical and a high finding in OS
// packages, a low one, and a high one in a Go binary.
const trivyReport = `{
  "SchemaVersion": 2,
  "CreatedAt": "2026-11-20T09:14:03.482117+00:00",
  "ArtifactName": "registry.example.com/shop/api:2.4.1",
  "ArtifactType": "container_image",
  "Metadata": {"OS": {"Family": "debian", "Name": "12.5"}, "RepoTags": ["registry.example.com/shop/api:2.4.1"]},
  "Results": [
    {
      "Target": "registry.example.com/shop/api:2.4.1 (debian 12.5)",
      "Class": "os-pkgs",
      "Type": "debian",
      "Vulnerabilities": [
        {"VulnerabilityID": "CVE-2024-5535", "PkgName": "libssl3", "InstalledVersion": "3.0.11-1~deb12u2", "FixedVersion": "3.0.14-1~deb12u1",
         "Status": "fixed", "Severity": "CRITICAL", "Title": "openssl: SSL_select_next_proto buffer overread",
         "PrimaryURL": "https://avd.aquasec.com/nvd/cve-2024-5535"},
        {"VulnerabilityID": "CVE-2024-2961", "PkgName": "libc6", "InstalledVersion": "2.36-9+deb12u4", "FixedVersion": "2.36-9+deb12u7",
         "Status": "fixed", "Severity": "HIGH", "Title": "glibc: Out of bounds write in iconv may lead to remote code execution"},
        {"VulnerabilityID": "CVE-2011-3374", "PkgName": "apt", "InstalledVersion": "2.6.1", "Status": "affected", "Severity": "LOW",
         "Title": "It was found that apt-key in apt, all versions, do not correctly validate gpg keys"}
      ]
    },
    {
      "Target": "usr/local/bin/api",
      "Class": "lang-pkgs",
      "Type": "gobinary",
      "Vulnerabilities": [
        {"VulnerabilityID": "CVE-2023-45288", "PkgName": "golang.org/x/net", "InstalledVersion": "v0.17.0", "FixedVersion": "0.23.0",
         "Status": "fixed", "Severity": "HIGH", "Title": "golang: net/http, x/net/http2: unlimited number of CONTINUATION frames causes DoS"}
      ]
    },
    {"Target": "app/package-lock.json", "Class": "lang-pkgs", "Type": "npm", "Vulnerabilities": null}
  ]
}`

// The same image rebuilt with openssl patched: that finding is gone.
var trivyPatched = strings.Replace(trivyReport, `{"VulnerabilityID": "CVE-2024-5535", "PkgName": "libssl3", "InstalledVersion": "3.0.11-1~deb12u2", "FixedVersion": "3.0.14-1~deb12u1",
         "Status": "fixed", "Severity": "CRITICAL", "Title": "openssl: SSL_select_next_proto buffer overread",
         "PrimaryURL": "https://avd.aquasec.com/nvd/cve-2024-5535"},`, "", 1)

// A Grype report of a source directory: a critical npm finding, a medium
// one, and a negligible OS package one.
const grypeReport = `{
  "matches": [
    {
      "vulnerability": {"id": "GHSA-jf85-cpcp-j695", "dataSource": "https://github.com/advisories/GHSA-jf85-cpcp-j695",
        "namespace": "github:language:javascript", "severity": "Critical", "urls": ["https://github.com/advisories/GHSA-jf85-cpcp-j695"],
        "description": "Prototype Pollution in lodash", "fix": {"versions": ["4.17.12"], "state": "fixed"}},
      "relatedVulnerabilities": [{"id": "CVE-2019-10744", "namespace": "nvd:cpe", "severity": "Critical"}],
      "matchDetails": [{"type": "exact-direct-match", "matcher": "javascript-matcher"}],
      "artifact": {"id": "9c6f5e0c2a1b3d4e", "name": "lodash", "version": "4.17.11", "type": "npm",
        "locations": [{"path": "/package-lock.json"}], "language": "javascript", "purl": "pkg:npm/lodash@4.17.11"}
    },
    {
      "vulnerability": {"id": "GHSA-952p-6rrq-rcjv", "dataSource": "https://github.com/advisories/GHSA-952p-6rrq-rcjv",
        "namespace": "github:language:javascript", "severity": "Medium", "description": "micromatch vulnerable to Regular Expression Denial of Service",
        "fix": {"versions": ["4.0.8"], "state": "fixed"}},
      "artifact": {"name": "micromatch", "version": "4.0.5", "type": "npm", "locations": [{"path": "/package-lock.json"}]}
    },
    {
      "vulnerability": {"id": "CVE-2005-2541", "namespace": "debian:distro:debian:12", "severity": "Negligible", "fix": {"versions": [], "state": "not-fixed"}},
      "artifact": {"name": "tar", "version": "1.34+dfsg-1.2+deb12u1", "type": "deb", "locations": [{"path": "/var/lib/dpkg/status"}]}
    }
  ],
  "source": {"type": "directory", "target": "/srv/checkout-web"},
  "distro": {"name": "debian", "version": "12"},
  "descriptor": {"name": "grype", "version": "0.74.7", "configuration": {"output": ["json"]}}
}`

func TestAPIVulnScan(t *testing.T) {
	t.Parallel()
	apiEachDB(t, func(t *testing.T, e *apiEnv) {
		sv := e.createService(t, "shop-api")
		scanURL := "/api/v1/integrations/" + sv.Keys[0].Key + "/vulnscan"
		type answer struct {
			Scanner   string `json:"scanner"`
			Artifact  string `json:"artifact"`
			Findings  int    `json:"findings"`
			AtOrAbove string `json:"at_or_above"`
			Alerts    int    `json:"alerts"`
			New       int    `json:"new"`
			Resolved  int    `json:"resolved"`
		}
		scan := func(query, report string) answer {
			t.Helper()
			var a answer
			e.call(t, "POST", scanURL+query, "", report, http.StatusAccepted).decode(t, &a)
			return a
		}
		byVuln := func(id string) ckAlert {
			t.Helper()
			return e.ckAlertBy(t, sv.ID, map[string]string{"vulnerability": id})
		}

		t.Run("trivy", func(t *testing.T) {
			got := scan("", trivyReport)
			if want := (answer{"trivy", "registry.example.com/shop/api:2.4.1", 4, "high", 3, 3, 0}); got != want {
				t.Fatalf("first report: %+v, want %+v", got, want)
			}
			ssl := byVuln("CVE-2024-5535")
			if ssl.Status != "firing" || ssl.Source != "vulnscan" || ssl.Severity != "critical" || ssl.Labels["package"] != "libssl3" ||
				ssl.Labels["scanner"] != "trivy" || ssl.IncidentID == 0 || !strings.Contains(ssl.Summary, "SSL_select_next_proto") {
				t.Fatalf("openssl alert %+v", ssl)
			}
			if inc := e.incident(t, ssl.IncidentID); inc.Type != "security-breach" {
				t.Errorf("its incident %+v, want the security-breach type", inc)
			}
			if x := byVuln("CVE-2023-45288"); x.Labels["target"] != "registry.example.com/shop/api:2.4.1 (usr/local/bin/api)" && !strings.Contains(x.Labels["target"], "usr/local/bin/api") {
				t.Errorf("Go binary finding target %q", x.Labels["target"])
			}
			for _, a := range e.ckAlerts(t, sv.ID) {
				if a.Labels["vulnerability"] == "CVE-2011-3374" {
					t.Errorf("a low finding raised %+v", a)
				}
			}
			// The same report again opens nothing new.
			if got := scan("", trivyReport); got.New != 0 || got.Resolved != 0 || got.Alerts != 3 {
				t.Errorf("repeated report: %+v", got)
			}
			// The patched image: the openssl finding resolves, the others stay.
			if got := scan("", trivyPatched); got.New != 0 || got.Resolved != 1 || got.Alerts != 2 || got.Findings != 3 {
				t.Errorf("patched report: %+v", got)
			}
			if a := e.alert(t, ssl.ID); a.Status != "resolved" {
				t.Errorf("the fixed finding's alert is %q", a.Status)
			}
			if a := byVuln("CVE-2024-2961"); a.Status != "firing" {
				t.Errorf("a finding still reported is %q", a.Status)
			}
		})

		t.Run("grype", func(t *testing.T) {
			web := e.createService(t, "checkout-web")
			scanURL := "/api/v1/integrations/" + web.Keys[0].Key + "/vulnscan"
			scan := func(query, report string) answer {
				t.Helper()
				var a answer
				e.call(t, "POST", scanURL+query, "", report, http.StatusAccepted).decode(t, &a)
				return a
			}
			byVuln := func(id string) ckAlert {
				t.Helper()
				return e.ckAlertBy(t, web.ID, map[string]string{"vulnerability": id})
			}
			got := scan("?min_severity=medium&level=P3", grypeReport)
			if want := (answer{"grype", "/srv/checkout-web", 3, "medium", 2, 2, 0}); got != want {
				t.Fatalf("grype report: %+v, want %+v", got, want)
			}
			lodash := byVuln("GHSA-jf85-cpcp-j695")
			if lodash.Labels["package"] != "lodash" || lodash.Labels["scanner"] != "grype" || lodash.Severity != "critical" {
				t.Errorf("lodash alert %+v", lodash)
			}
			if inc := e.incident(t, lodash.IncidentID); inc.Level != "P3" || inc.Type != "security-breach" {
				t.Errorf("level=P3 gave %+v", inc)
			}
			// Everything fixed: a report without matches resolves both.
			clean := `{"matches": [], "source": {"type": "directory", "target": "/srv/checkout-web"}, "descriptor": {"name": "grype", "version": "0.74.7"}}`
			if got := scan("?min_severity=medium", clean); got.Resolved != 2 || got.New != 0 || got.Alerts != 0 {
				t.Errorf("clean report: %+v", got)
			}
			for _, id := range []string{"GHSA-jf85-cpcp-j695", "GHSA-952p-6rrq-rcjv"} {
				if a := byVuln(id); a.Status != "resolved" {
					t.Errorf("%s is %q after a clean report", id, a.Status)
				}
			}
		})

		t.Run("bad reports", func(t *testing.T) {
			e.fail(t, "POST", scanURL+"?min_severity=severe", "", trivyReport, http.StatusBadRequest, "min_severity")
			e.fail(t, "POST", scanURL, "", `{"hello": "world"}`, http.StatusBadRequest, "body")
			e.fail(t, "POST", scanURL, "", `{"SchemaVersion": 1, "Results": []}`, http.StatusBadRequest, "body")
			e.fail(t, "POST", scanURL, "", `not json`, http.StatusBadRequest, "body")
			e.fail(t, "POST", "/api/v1/integrations/"+strings.Repeat("f", 32)+"/vulnscan", "", trivyReport, http.StatusNotFound, "key")
		})
	})
}

func TestAPIMaintenanceWindows(t *testing.T) {
	t.Parallel()
	apiEachDB(t, func(t *testing.T, e *apiEnv) {
		viewer := e.ckUser(t, "vera", auth.Viewer)
		now := time.Now().UTC().Truncate(time.Second)
		list := func(token string) []ckWindow {
			var p apiPage[ckWindow]
			e.call(t, "GET", "/api/v1/maintenance-windows", token, nil, http.StatusOK).decode(t, &p)
			return p.Items
		}

		t.Run("crud", func(t *testing.T) {
			before := len(list(e.admin))
			body := map[string]any{"title": "Database upgrade", "description": "Orders may be slow.", "starts_at": now.Add(24 * time.Hour),
				"ends_at": now.Add(26 * time.Hour), "services": []int64{}, "checks": []string{"checkout-probe"},
				"matchers": []map[string]string{{"label": "env", "regex": "staging|dev"}}, "public": true}
			var w ckWindow
			e.call(t, "POST", "/api/v1/maintenance-windows", e.admin, body, http.StatusCreated).decode(t, &w)
			if w.ID == 0 || w.Title != "Database upgrade" || w.TimeZone != "UTC" || !w.Public || len(w.Checks) != 1 || w.Cron != "" {
				t.Fatalf("created %+v", w)
			}
			path := fmt.Sprintf("/api/v1/maintenance-windows/%d", w.ID)
			var got ckWindow
			e.call(t, "GET", path, viewer, nil, http.StatusOK).decode(t, &got)
			if got.ID != w.ID || got.StartsAt != w.StartsAt {
				t.Errorf("GET %+v", got)
			}
			body["title"], body["ends_at"] = "Database upgrade, longer", now.Add(27*time.Hour)
			e.call(t, "PUT", path, e.admin, body, http.StatusOK).decode(t, &got)
			if got.Title != "Database upgrade, longer" {
				t.Errorf("after PUT %+v", got)
			}
			var rec ckWindow
			e.call(t, "POST", "/api/v1/maintenance-windows", e.admin, map[string]any{"title": "Weekly patching", "cron": "0 2 * * 0",
				"time_zone": "Asia/Shanghai", "duration": "2h"}, http.StatusCreated).decode(t, &rec)
			if rec.Cron != "0 2 * * 0" || rec.TimeZone != "Asia/Shanghai" || rec.Duration != "2h0m0s" || rec.StartsAt != "" {
				t.Errorf("recurring %+v", rec)
			}
			if n := len(list(viewer)); n != before+2 {
				t.Errorf("%d windows listed, want %d", n, before+2)
			}
			e.fail(t, "POST", "/api/v1/maintenance-windows", viewer, body, http.StatusForbidden, "")
			e.fail(t, "PUT", path, viewer, body, http.StatusForbidden, "")
			e.fail(t, "DELETE", path, viewer, nil, http.StatusForbidden, "")
			e.call(t, "DELETE", fmt.Sprintf("/api/v1/maintenance-windows/%d", rec.ID), e.admin, nil, http.StatusNoContent)
			e.call(t, "DELETE", path, e.admin, nil, http.StatusNoContent)
			e.fail(t, "GET", path, e.admin, nil, http.StatusNotFound, "")
			e.fail(t, "DELETE", path, e.admin, nil, http.StatusNotFound, "")
			e.fail(t, "PUT", path, e.admin, body, http.StatusNotFound, "")
			e.fail(t, "GET", "/api/v1/maintenance-windows/x", e.admin, nil, http.StatusBadRequest, "id")
		})

		t.Run("bad input", func(t *testing.T) {
			before := len(list(e.admin))
			once := func(k string, v any) map[string]any {
				b := map[string]any{"title": "w", "starts_at": now, "ends_at": now.Add(time.Hour)}
				if v == nil {
					delete(b, k)
				} else {
					b[k] = v
				}
				return b
			}
			recurring := func(k string, v any) map[string]any {
				b := map[string]any{"title": "w", "cron": "0 2 * * 0", "time_zone": "Asia/Shanghai", "duration": "2h"}
				if v == nil {
					delete(b, k)
				} else {
					b[k] = v
				}
				return b
			}
			for _, c := range []struct {
				name  string
				body  any
				field string
			}{
				{"no title", once("title", nil), "title"},
				{"blank title", once("title", "  "), "title"},
				{"no start", once("starts_at", nil), "starts_at"},
				{"ends before start", once("ends_at", now.Add(-time.Hour)), "ends_at"},
				{"too long", once("ends_at", now.Add(100*24*time.Hour)), "ends_at"},
				{"time zone", once("time_zone", "Mars/Olympus_Mons"), "time_zone"},
				{"bad cron", recurring("cron", "61 * * * *"), "cron"},
				{"cron words", recurring("cron", "every sunday"), "cron"},
				{"recurring time zone", recurring("time_zone", "Asia/Atlantis"), "time_zone"},
				{"no duration", recurring("duration", nil), "duration"},
				{"cron and start", recurring("starts_at", now), "cron"},
				{"bad regex", once("matchers", []map[string]string{{"label": "host", "regex": "db-(1"}}), "matchers[0].regex"},
				{"matcher without label", once("matchers", []map[string]string{{"equals": "x"}}), "matchers[0].label"},
				{"matcher equals and regex", once("matchers", []map[string]string{{"label": "a", "equals": "x", "regex": "y"}}), "matchers[0]"},
				{"empty check", once("checks", []string{""}), "checks[0]"},
				{"unknown field", once("colour", "red"), "colour"},
			} {
				t.Run(c.name, func(t *testing.T) {
					e.fail(t, "POST", "/api/v1/maintenance-windows", e.admin, c.body, http.StatusBadRequest, c.field)
				})
			}
			if after := len(list(e.admin)); after != before {
				t.Errorf("bad windows stored %d", after-before)
			}
		})

		t.Run("public list", func(t *testing.T) {
			mk := func(body map[string]any) int64 {
				var w ckWindow
				e.call(t, "POST", "/api/v1/maintenance-windows", e.admin, body, http.StatusCreated).decode(t, &w)
				return w.ID
			}
			// Scoped to one check, so they silence nothing the other tests send.
			scope := []string{"storefront-probe"}
			mk(map[string]any{"title": "Now, public", "description": "Payments are read-only.", "starts_at": now.Add(-time.Hour), "ends_at": now.Add(time.Hour), "public": true, "checks": scope})
			mk(map[string]any{"title": "Soon, public", "starts_at": now.Add(48 * time.Hour), "ends_at": now.Add(50 * time.Hour), "public": true, "checks": scope})
			mk(map[string]any{"title": "Internal only", "starts_at": now.Add(-time.Hour), "ends_at": now.Add(time.Hour), "checks": scope})
			mk(map[string]any{"title": "Far away", "starts_at": now.Add(60 * 24 * time.Hour), "ends_at": now.Add(61 * 24 * time.Hour), "public": true, "checks": scope})
			mk(map[string]any{"title": "Over", "starts_at": now.Add(-3 * time.Hour), "ends_at": now.Add(-2 * time.Hour), "public": true, "checks": scope})
			var pub struct {
				Maintenance []struct {
					Title       string    `json:"title"`
					Description string    `json:"description"`
					Start       time.Time `json:"start"`
					End         time.Time `json:"end"`
					Active      bool      `json:"active"`
				} `json:"maintenance"`
			}
			r := e.call(t, "GET", "/api/v1/public/maintenance", "", nil, http.StatusOK)
			r.decode(t, &pub)
			if cc := r.header.Get("Cache-Control"); !strings.Contains(cc, "public") {
				t.Errorf("Cache-Control %q", cc)
			}
			var titles []string
			for _, m := range pub.Maintenance {
				titles = append(titles, m.Title)
			}
			if !slices.Equal(titles, []string{"Now, public", "Soon, public"}) {
				t.Fatalf("public windows %v", titles)
			}
			if m := pub.Maintenance[0]; !m.Active || m.Description != "Payments are read-only." || !m.End.Equal(now.Add(time.Hour)) {
				t.Errorf("current window %+v", m)
			}
			if pub.Maintenance[1].Active {
				t.Errorf("a coming window is active")
			}
			if strings.Contains(string(r.body), "storefront-probe") || strings.Contains(string(r.body), "Internal only") {
				t.Errorf("the public list shows more than it should: %s", r.body)
			}
		})

		t.Run("silences a service", func(t *testing.T) {
			billing := e.createService(t, "billing")
			other := e.createService(t, "ledger")
			var w ckWindow
			e.call(t, "POST", "/api/v1/maintenance-windows", e.admin, map[string]any{"title": "Billing migration", "starts_at": now.Add(-10 * time.Minute),
				"ends_at": now.Add(time.Hour), "services": []int64{billing.ID}}, http.StatusCreated).decode(t, &w)
			event := map[string]any{"summary": "Invoice queue stuck", "severity": "critical", "dedup_key": "invoice-queue"}
			before := len(e.listIncidents(t, url.Values{"service_id": {strconv.FormatInt(billing.ID, 10)}}).Items)
			got := e.ingest(t, billing.ID, billing.Keys[0].Key, "events", event, "created")
			if got.Events[0].IncidentID != 0 {
				t.Fatalf("an alert inside the window opened incident %d", got.Events[0].IncidentID)
			}
			var a ckAlert
			e.call(t, "GET", fmt.Sprintf("/api/v1/alerts/%d", got.Events[0].AlertID), e.admin, nil, http.StatusOK).decode(t, &a)
			if a.SilencedBy != w.ID || a.IncidentID != 0 || a.Status != "firing" {
				t.Fatalf("silenced alert %+v, want silenced_by %d", a, w.ID)
			}
			// A repeat inside the window stays silent.
			e.ingest(t, billing.ID, billing.Keys[0].Key, "events", event, "deduplicated")
			if n := len(e.listIncidents(t, url.Values{"service_id": {strconv.FormatInt(billing.ID, 10)}}).Items); n != before {
				t.Fatalf("%d incidents opened inside the window", n-before)
			}
			// Another service is not covered.
			if got := e.ingest(t, other.ID, other.Keys[0].Key, "events", event, "created"); got.Events[0].IncidentID == 0 {
				t.Errorf("an alert of a service outside the window opened no incident")
			}

			// The window ends early; the still-firing alert's next repeat opens an incident.
			e.call(t, "PUT", fmt.Sprintf("/api/v1/maintenance-windows/%d", w.ID), e.admin, map[string]any{"title": "Billing migration",
				"starts_at": now.Add(-10 * time.Minute), "ends_at": time.Now().UTC().Add(-time.Second), "services": []int64{billing.ID}}, http.StatusOK)
			got = e.ingest(t, billing.ID, billing.Keys[0].Key, "events", event, "created")
			if got.Events[0].IncidentID == 0 || got.Events[0].AlertID != a.ID {
				t.Fatalf("after the window: %+v", got.Events)
			}
			a = ckAlert{} // silenced_by is left out when zero
			e.call(t, "GET", fmt.Sprintf("/api/v1/alerts/%d", got.Events[0].AlertID), e.admin, nil, http.StatusOK).decode(t, &a)
			if a.SilencedBy != 0 || a.IncidentID != got.Events[0].IncidentID {
				t.Errorf("alert after the window %+v", a)
			}
			inc := e.incident(t, a.IncidentID)
			if inc.ServiceID != billing.ID || inc.Status != "triggered" {
				t.Errorf("incident after the window %+v", inc)
			}
		})
	})
}

func TestAPIRestoreTests(t *testing.T) {
	t.Parallel()
	apiEachDB(t, func(t *testing.T, e *apiEnv) {
		viewer := e.ckUser(t, "vera", auth.Viewer)
		responder := e.ckUser(t, "rick", auth.Responder)
		// The default plan's nightly-db-backup has restore_test_every: its restore check exists.
		var list apiPage[ckCheck]
		e.call(t, "GET", "/api/v1/checks", viewer, nil, http.StatusOK).decode(t, &list)
		var restore *ckCheck
		for i, c := range list.Items {
			if c.Kind == "restore" {
				if restore != nil {
					t.Fatalf("two restore checks: %s and %s", restore.Slug, c.Slug)
				}
				restore = &list.Items[i]
			}
		}
		if restore == nil || restore.Slug != "restore-nightly-db-backup" || restore.Source != "plan" ||
			restore.Spec["resource"] != "nightly-db-backup" || restore.Spec["every"] != "720h0m0s" {
			t.Fatalf("restore check %+v", restore)
		}
		e.fail(t, "DELETE", fmt.Sprintf("/api/v1/checks/%d", restore.ID), e.admin, nil, http.StatusConflict, "")

		var empty apiPage[map[string]any]
		e.call(t, "GET", "/api/v1/restore-tests", viewer, nil, http.StatusOK).decode(t, &empty)
		if len(empty.Items) != 0 {
			t.Fatalf("restore tests before any: %v", empty.Items)
		}
		tested := time.Now().UTC().Add(-3 * time.Hour).Truncate(time.Second)
		body := map[string]any{"resource": "nightly-db-backup", "tested_at": tested, "duration": "47m", "data_age": "11h30m", "ok": true,
			"evidence": "Restored to staging-db-2; row counts match production at 22:00."}
		var rt struct {
			ID        int64     `json:"id"`
			Resource  string    `json:"resource"`
			TestedAt  time.Time `json:"tested_at"`
			Duration  string    `json:"duration"`
			DataAge   string    `json:"data_age"`
			OK        bool      `json:"ok"`
			Evidence  string    `json:"evidence"`
			CreatedBy int64     `json:"created_by"`
		}
		e.call(t, "POST", "/api/v1/restore-tests", responder, body, http.StatusCreated).decode(t, &rt)
		if rt.ID == 0 || !rt.TestedAt.Equal(tested) || rt.Duration != "47m0s" || rt.DataAge != "11h30m0s" || !rt.OK || rt.CreatedBy == 0 {
			t.Errorf("recorded %+v", rt)
		}
		// Seconds are durations too, and tested_at defaults to now.
		e.call(t, "POST", "/api/v1/restore-tests", e.admin, map[string]any{"resource": "nightly-db-backup", "duration": 1800, "ok": false,
			"evidence": "restore failed: checksum mismatch"}, http.StatusCreated)
		var all apiPage[map[string]any]
		e.call(t, "GET", "/api/v1/restore-tests?resource=nightly-db-backup", viewer, nil, http.StatusOK).decode(t, &all)
		if len(all.Items) != 2 || all.Items[0]["ok"] != false || all.Items[0]["duration"] != "30m0s" || all.Items[1]["id"].(float64) != float64(rt.ID) {
			t.Errorf("tests, newest first: %v", all.Items)
		}
		e.call(t, "GET", "/api/v1/restore-tests?resource=standby-cluster", viewer, nil, http.StatusOK).decode(t, &all)
		if len(all.Items) != 0 {
			t.Errorf("tests of another resource: %v", all.Items)
		}

		for _, c := range []struct {
			name  string
			body  map[string]any
			field string
		}{
			{"unknown resource", map[string]any{"resource": "standby-cluster", "duration": "1h"}, "resource"},
			{"bad resource", map[string]any{"resource": "../etc", "duration": "1h"}, "resource"},
			{"no duration", map[string]any{"resource": "nightly-db-backup"}, "duration"},
			{"future", map[string]any{"resource": "nightly-db-backup", "duration": "1h", "tested_at": time.Now().Add(time.Hour)}, "tested_at"},
			{"negative data age", map[string]any{"resource": "nightly-db-backup", "duration": "1h", "data_age": "-1h"}, "data_age"},
			{"unknown field", map[string]any{"resource": "nightly-db-backup", "duration": "1h", "rto": "1h"}, "rto"},
		} {
			t.Run(c.name, func(t *testing.T) {
				e.fail(t, "POST", "/api/v1/restore-tests", responder, c.body, http.StatusBadRequest, c.field)
			})
		}
		e.fail(t, "POST", "/api/v1/restore-tests", viewer, body, http.StatusForbidden, "")
		e.fail(t, "GET", "/api/v1/restore-tests", "", nil, http.StatusUnauthorized, "")
	})
}

// A value refused by its own decoder (a duration, the settings object) is
// blamed on its field.
func TestAPICheckDecodeErrorsNameTheField(t *testing.T) {
	apiEachDB(t, func(t *testing.T, e *apiEnv) {
		e.fail(t, "POST", "/api/v1/checks", e.admin, map[string]any{"slug": "x", "kind": "http", "interval": "soon", "spec": map[string]any{"url": "http://a"}}, 400, "interval")
		e.fail(t, "POST", "/api/v1/checks", e.admin, map[string]any{"slug": "x", "kind": "http", "spec": "http://a"}, 400, "spec")
		e.fail(t, "POST", "/api/v1/maintenance-windows", e.admin, map[string]any{"title": "x", "cron": "0 2 * * *", "duration": "long"}, 400, "duration")
	})
}
