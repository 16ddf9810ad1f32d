package web_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/firebreak/firebreak/internal/auth"
	"github.com/firebreak/firebreak/internal/check"
	"github.com/firebreak/firebreak/internal/i18n"
	"github.com/firebreak/firebreak/internal/maintenance"
)

// TestUIChecksCatalogue: the message families the early-warning pages build
// keys of at run time exist in both languages.
func TestUIChecksCatalogue(t *testing.T) {
	var keys []string
	for _, s := range []string{"up", "down", "unknown", "paused"} {
		keys = append(keys, "checks.status."+s)
	}
	for _, k := range check.Kinds {
		keys = append(keys, "checks.kind."+k)
	}
	for _, k := range []string{check.PingSuccess, check.PingStart, check.PingFail, check.PingExit} {
		keys = append(keys, "checks.ping."+k)
	}
	for _, k := range []string{"equals", "regex", "not_equals"} {
		keys = append(keys, "checks.log_op."+k)
	}
	for _, k := range []string{"created", "saved", "deleted", "run", "window_created", "window_saved", "window_deleted", "restore_recorded"} {
		keys = append(keys, "checks.done."+k)
	}
	for _, k := range []string{"now", "upcoming", "all"} {
		keys = append(keys, "maint.view_"+k)
	}
	for _, k := range []string{"ok", "overdue", "never"} {
		keys = append(keys, "restore.state_"+k)
	}
	keys = append(keys, "nav.checks", "nav.maintenance", "source.check", "source.vulnscan", "checks.err_plan_delete", "checks.err_not_runnable")
	for _, k := range keys {
		m, ok := i18n.Lookup(k)
		if !ok || m.EN == "" || m.ZH == "" {
			t.Errorf("catalogue entry %q: %+v", k, m)
		}
	}
}

// ckLogin makes a user of role and a browser logged in as them.
func ckLogin(t *testing.T, base string, users *auth.Store, name string, role auth.Role) *browser {
	t.Helper()
	if _, err := users.CreateUser(t.Context(), auth.NewUser{Username: name, DisplayName: strings.ToUpper(name[:1]) + name[1:], Role: role,
		Password: name + "-password-123"}); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, base)
	b.login(name, name+"-password-123")
	return b
}

// ckForm is a check form as the browser sends it, with kind's fields.
func ckForm(kind string, kv ...string) url.Values {
	v := url.Values{"slug": {"x"}, "kind": {kind}, "interval": {"1m"}, "timeout": {"10s"}, "fail_after": {"1"}, "recover_after": {"1"},
		"hb_mode": {"period"}, "prom_op": {"above"}, "dns_type": {"A"}, "log_op": {"equals", "equals", "equals"},
		"log_field": {"", "", ""}, "log_value": {"", "", ""}}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

func TestUIChecks(t *testing.T) {
	eachDatabase(t, func(t *testing.T, databaseURL string) {
		in, base := startInstance(t, databaseURL)
		ctx := t.Context()
		site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, `{"status":"ok"}`)
		}))
		t.Cleanup(site.Close)
		admin := newBrowser(t, base)
		admin.login("admin", adminPassword)
		viewer := ckLogin(t, base, in.Web.Auth, "vera", auth.Viewer)
		responder := ckLogin(t, base, in.Web.Auth, "rick", auth.Responder)
		plan, err := in.Web.Checks.BySlug(ctx, "checkout-probe")
		if err != nil {
			t.Fatal(err)
		}
		planPage := "/checks/" + strconv.FormatInt(plan.ID, 10)

		var httpID int64
		t.Run("create an HTTP check", func(t *testing.T) {
			b := admin
			resp, body := b.get("/checks/new")
			b.expect(resp, body, http.StatusOK, "")
			mustContain(t, body, "New check", `id="fs-http"`, `id="fs-heartbeat"`, `id="fs-log"`, `data-show-for="kind=http"`, `name="http_url"`,
				`name="hb_schedule"`, `name="prom_query"`, `name="log_field"`, `<option value="P0">P0 · `, `value="security-breach"`)
			form := ckForm("http", "slug", "shop-home", "name", "Shop home page", "http_url", site.URL+"/", "http_method", "GET",
				"http_headers", "X-Probe: firebreak\nAccept: application/json", "http_expect_status", "200, 204", "http_expect_body", "ok",
				"http_expect_regex", `"status":\s*"ok"`, "http_expect_json", "status=ok", "http_max_latency", "2s", "http_follow_redirects", "1",
				"interval", "30s", "timeout", "5s", "fail_after", "3", "recover_after", "2", "incident_type", "site-down", "level", "P1",
				"labels", "team=web\nenv = prod\n", "service_id", "",
				// Fields of other kinds are ignored.
				"tcp_address", "nonsense", "hb_schedule", "bogus cron", "log_count", "x")
			resp, body = b.post("/checks", form)
			b.expect(resp, body, http.StatusSeeOther, "")
			loc, id := location(t, resp, "/checks/")
			if !strings.HasSuffix(loc, "?done=created") {
				t.Errorf("redirected to %s", loc)
			}
			httpID = id
			v, err := in.Web.Checks.Get(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			var spec map[string]any
			_ = json.Unmarshal(v.Spec, &spec)
			want := map[string]any{"url": site.URL + "/", "headers": map[string]any{"X-Probe": "firebreak", "Accept": "application/json"},
				"expect_status": []any{200.0, 204.0}, "expect_body": "ok", "expect_regex": `"status":\s*"ok"`,
				"expect_json": []any{map[string]any{"path": "status", "equals": "ok"}}, "max_latency": "2s", "follow_redirects": true}
			if fmt.Sprint(spec) != fmt.Sprint(want) {
				t.Errorf("spec %v\nwant %v", spec, want)
			}
			if v.Name != "Shop home page" || time.Duration(v.Interval) != 30*time.Second || time.Duration(v.Timeout) != 5*time.Second ||
				v.FailAfter != 3 || v.RecoverAfter != 2 || v.Type != "site-down" || v.Level != "P1" || v.Labels["env"] != "prod" || v.Paused {
				t.Errorf("stored %+v", v.Check)
			}
			_, body = b.get(loc)
			mustContain(t, body, "Check created.", "Shop home page", `id="latency-chart"`, `id="uptime-chart"`, `id="run-now"`,
				`id="edit-check"`, `id="delete-check"`, "team=web", "Site or app unreachable")
			mustNotContain(t, body, `id="plan-note"`, `id="heartbeat"`)
		})
		httpPage := "/checks/" + strconv.FormatInt(httpID, 10)

		t.Run("form errors name the field", func(t *testing.T) {
			b := admin
			for _, c := range []struct {
				name  string
				form  url.Values
				input string
				text  string
			}{
				{"no URL", ckForm("http", "slug", "e1"), "http_url", "This field is required."},
				{"bad URL", ckForm("http", "slug", "e1", "http_url", "ftp://files.example.com"), "http_url", "http:// or https://"},
				{"bad regex", ckForm("http", "slug", "e1", "http_url", site.URL, "http_expect_regex", "(oops"), "http_expect_regex", "does not compile"},
				{"bad status", ckForm("http", "slug", "e1", "http_url", site.URL, "http_expect_status", "ok"), "http_expect_status", "200, 204"},
				{"bad header", ckForm("http", "slug", "e1", "http_url", site.URL, "http_headers", "no colon here"), "http_headers", "no colon here"},
				{"bad duration", ckForm("http", "slug", "e1", "http_url", site.URL, "interval", "soon"), "interval", "Use a duration"},
				{"interval too short", ckForm("http", "slug", "e1", "http_url", site.URL, "interval", "1s", "timeout", "500ms"), "interval", "between 5s and 168h"},
				{"bad slug", ckForm("http", "slug", "Not A Slug", "http_url", site.URL), "slug", "lower-case"},
				{"slug taken", ckForm("http", "slug", "shop-home", "http_url", site.URL), "slug", "taken"},
				{"bad labels", ckForm("http", "slug", "e1", "http_url", site.URL, "labels", "just-a-word"), "labels", "key=value"},
				{"unknown level", ckForm("http", "slug", "e1", "http_url", site.URL, "level", "P9"), "level", "P9"},
				{"tcp address", ckForm("tcp", "slug", "e1", "tcp_address", "db.internal"), "tcp_address", "host:port"},
				{"dns type", ckForm("dns", "slug", "e1", "dns_name", "example.com", "dns_type", "BOGUS"), "dns_type", "not supported"},
				{"tls address", ckForm("tls", "slug", "e1"), "tls_address", "This field is required."},
				{"cron", ckForm("heartbeat", "slug", "e1", "hb_mode", "schedule", "hb_schedule", "61 * * * *"), "hb_schedule", "61"},
				{"time zone", ckForm("heartbeat", "slug", "e1", "hb_mode", "schedule", "hb_schedule", "0 2 * * *", "hb_time_zone", "Mars/Base"), "hb_time_zone", "Mars/Base"},
				{"no period", ckForm("heartbeat", "slug", "e1", "hb_period", ""), "hb_period", "period"},
				{"prometheus query", ckForm("prometheus", "slug", "e1", "prom_url", "http://prometheus:9090", "prom_threshold", "80"), "prom_query", "PromQL"},
				{"prometheus threshold", ckForm("prometheus", "slug", "e1", "prom_url", "http://prometheus:9090", "prom_query", "up", "prom_threshold", "lots"), "prom_threshold", "Enter a number."},
				{"log regex", ckForm("log", "slug", "e1", "log_field", "msg", "log_op", "regex", "log_value", "(oops", "log_count", "3", "log_within", "5m"), "log_match", "invalid regular expression"},
				{"log count", ckForm("log", "slug", "e1", "log_field", "event", "log_value", "x", "log_count", "0", "log_within", "5m"), "log_count", "at least 1"},
				{"kind", ckForm("ftp", "slug", "e1"), "kind", "Choose from the list."},
			} {
				t.Run(c.name, func(t *testing.T) {
					resp, body := b.post("/checks", c.form)
					b.expect(resp, body, http.StatusUnprocessableEntity, "")
					mustContain(t, body, `id="`+c.input+`-err"`, c.text, `aria-describedby="`+c.input+`-err"`)
					// What was typed stays.
					mustContain(t, body, `value="`+c.form.Get("slug")+`"`)
				})
			}
			if _, err := in.Web.Checks.BySlug(ctx, "e1"); err == nil {
				t.Error("a refused form stored a check")
			}
		})

		t.Run("edit keeps what the form does not show", func(t *testing.T) {
			b := admin
			v, err := in.Web.Checks.Create(ctx, check.Check{Slug: "api-health", Kind: "http", Paused: true,
				Spec: json.RawMessage(`{"url":"https://api.example.com/health","max_body":4096,"timeout":"3s"}`)})
			if err != nil {
				t.Fatal(err)
			}
			page := "/checks/" + strconv.FormatInt(v.ID, 10)
			resp, body := b.get(page + "/edit")
			b.expect(resp, body, http.StatusOK, "")
			mustContain(t, body, "Edit api-health", `value="https://api.example.com/health"`, `name="paused" value="1" id="paused" checked`)
			form := ckForm("http", "slug", "api-health", "name", "API health", "http_url", "https://api.example.com/healthz", "http_expect_status", "200", "paused", "1")
			resp, body = b.post(page, form)
			b.expect(resp, body, http.StatusSeeOther, page+"?done=saved")
			v, _ = in.Web.Checks.Get(ctx, v.ID)
			var spec map[string]any
			_ = json.Unmarshal(v.Spec, &spec)
			if spec["url"] != "https://api.example.com/healthz" || spec["max_body"] != 4096.0 || spec["timeout"] != "3s" || v.Name != "API health" {
				t.Errorf("after the edit: %v %q", spec, v.Name)
			}
			form.Set("http_url", "")
			resp, body = b.post(page, form)
			b.expect(resp, body, http.StatusUnprocessableEntity, "")
			mustContain(t, body, `id="http_url-err"`)

			// A heartbeat: a cron schedule in a time zone.
			hb, err := in.Web.Checks.Create(ctx, check.Check{Slug: "nightly-dump", Kind: "heartbeat", Spec: json.RawMessage(`{"period":"24h","grace":"1h"}`)})
			if err != nil {
				t.Fatal(err)
			}
			page = "/checks/" + strconv.FormatInt(hb.ID, 10)
			resp, body = b.post(page, ckForm("heartbeat", "slug", "nightly-dump", "hb_mode", "schedule", "hb_schedule", "30 3 * * *",
				"hb_time_zone", "Asia/Shanghai", "hb_grace", "45m"))
			b.expect(resp, body, http.StatusSeeOther, page+"?done=saved")
			after, _ := in.Web.Checks.Get(ctx, hb.ID)
			if string(after.Spec) != `{"grace":"45m0s","schedule":"30 3 * * *","time_zone":"Asia/Shanghai"}` || after.PingKey != hb.PingKey {
				t.Errorf("heartbeat after the edit: %s (ping key %q, was %q)", after.Spec, after.PingKey, hb.PingKey)
			}
			_, body = b.get(page + "/edit")
			mustContain(t, body, `value="30 3 * * *"`, `value="Asia/Shanghai"`, `name="hb_mode" value="schedule" checked`)

			// A log check with two matchers.
			resp, body = b.post("/checks", url.Values{"slug": {"db-auth-failures"}, "kind": {"log"}, "log_field": {"event", "db", ""},
				"log_op": {"equals", "regex", "equals"}, "log_value": {"auth_failed", "^orders", ""}, "log_group_by": {"client, db"},
				"log_count": {"10"}, "log_within": {"2m"}})
			b.expect(resp, body, http.StatusSeeOther, "")
			lg, err := in.Web.Checks.BySlug(ctx, "db-auth-failures")
			if err != nil {
				t.Fatal(err)
			}
			if want := `{"count":10,"group_by":["client","db"],"match":[{"equals":"auth_failed","field":"event"},{"field":"db","regex":"^orders"}],"within":"2m0s"}`; string(lg.Spec) != want {
				t.Errorf("log spec %s\nwant %s", lg.Spec, want)
			}
			_, body = b.get("/checks/" + strconv.FormatInt(lg.ID, 10) + "/edit")
			mustContain(t, body, `value="auth_failed"`, `value="^orders"`, `<option value="regex" selected>`, `value="client, db"`)
		})

		t.Run("heartbeat page", func(t *testing.T) {
			hb, err := in.Web.Checks.BySlug(ctx, "nightly-dump")
			if err != nil {
				t.Fatal(err)
			}
			pingURL := base + "/ping/" + hb.PingKey
			for _, p := range []struct{ path, body string }{{"/start", ""}, {"", "dumped 3.2 GB <ok>"}} {
				resp, err := http.Post(pingURL+p.path, "text/plain", strings.NewReader(p.body))
				if err != nil {
					t.Fatal(err)
				}
				raw, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK || string(raw) != "OK" {
					t.Fatalf("ping %s: %d %s", p.path, resp.StatusCode, raw)
				}
			}
			page := "/checks/" + strconv.FormatInt(hb.ID, 10)
			_, body := viewer.get(page)
			mustContain(t, body, `id="ping-url">`+pingURL+`<`, "curl -fsS -m 10 --retry 5 -o /dev/null "+pingURL+"/start",
				pingURL+"/fail", pingURL+"/$?", "dumped 3.2 GB &lt;ok&gt;", `class="ping ping-success"`, `class="ping ping-start"`,
				"A ping is expected at each &#34;30 3 * * *&#34; (Asia/Shanghai), with 45m grace.", `data-status="up"`)
			mustNotContain(t, body, "dumped 3.2 GB <ok>")
		})

		t.Run("pages in both languages", func(t *testing.T) {
			mw, err := in.Web.Maintenance.Create(ctx, maintenance.Window{Title: "Router swap", StartsAt: time.Now().Add(-time.Hour),
				EndsAt: time.Now().Add(time.Hour), Checks: []string{"shop-home"}, Public: true})
			if err != nil {
				t.Fatal(err)
			}
			for _, lang := range []string{"en", "zh-CN"} {
				for _, c := range []struct {
					path string
					want []string
				}{
					{"/checks", []string{`id="check-list"`, "shop-home", `class="upbar small"`}},
					{"/checks?status=paused", []string{"checkout-probe"}},
					{httpPage, []string{`id="latency-chart"`, `id="uptime-chart"`, "<title>"}},
					{planPage, []string{`id="plan-note"`}},
					{"/checks/new?kind=heartbeat", []string{`<option value="heartbeat" selected>`}},
					{httpPage + "/edit", []string{`value="shop-home"`}},
					{"/maintenance", []string{"Router swap", `id="window-form"`}},
					{"/maintenance?show=now", []string{"Router swap"}},
					{"/maintenance?show=all", []string{"Router swap"}},
					{fmt.Sprintf("/maintenance/%d/edit", mw.ID), []string{`value="Router swap"`}},
					{"/restore-tests", []string{"nightly-db-backup", `id="restore-resources"`}},
				} {
					admin.lang = lang
					resp, body := admin.get(c.path)
					admin.expect(resp, body, http.StatusOK, "")
					mustContain(t, body, c.want...)
					noRawKeys(t, c.path, body)
					if lang == "zh-CN" {
						mustContain(t, body, `<html lang="zh-CN">`, "检测", "维护窗口")
					} else {
						mustContain(t, body, ">Checks<", ">Maintenance<")
					}
					if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
						t.Errorf("%s: CSP %q", c.path, csp)
					}
					mustNotContain(t, body, "<script>", " style=", "onclick=")
				}
			}
			admin.lang = ""
			_, body := admin.get("/checks")
			mustContain(t, body, `aria-current="page">Checks<`)
			resp, body := admin.get("/checks?status=sideways")
			admin.expect(resp, body, http.StatusBadRequest, "")
			resp, body = admin.get("/checks/999999")
			admin.expect(resp, body, http.StatusNotFound, "")
			resp, body = admin.get("/maintenance?show=later")
			admin.expect(resp, body, http.StatusBadRequest, "")
		})

		t.Run("filter by status", func(t *testing.T) {
			_, body := viewer.get("/checks?status=paused")
			mustContain(t, body, "checkout-probe", "restore-nightly-db-backup", `<option value="paused" selected>`)
			mustNotContain(t, body, ">shop-home<", `data-status="up"`)
			_, body = viewer.get("/checks?status=down")
			mustNotContain(t, body, "checkout-probe")
		})

		t.Run("permissions", func(t *testing.T) {
			_, body := viewer.get("/checks")
			mustNotContain(t, body, `id="new-check"`)
			_, body = viewer.get(httpPage)
			mustNotContain(t, body, `id="run-now"`, `id="edit-check"`, `id="delete-check"`)
			_, body = responder.get(httpPage)
			mustContain(t, body, `id="run-now"`)
			mustNotContain(t, body, `id="edit-check"`, `id="delete-check"`)
			for _, c := range []struct {
				b      *browser
				method string
				path   string
			}{
				{viewer, "GET", "/checks/new"},
				{viewer, "POST", "/checks"},
				{viewer, "GET", httpPage + "/edit"},
				{viewer, "POST", httpPage},
				{viewer, "POST", httpPage + "/run"},
				{responder, "POST", "/checks"},
				{responder, "POST", httpPage + "/delete"},
				{viewer, "POST", "/maintenance"},
				{responder, "POST", "/maintenance"},
				{viewer, "POST", "/restore-tests"},
			} {
				resp, body := c.b.do(c.method, c.path, ckForm("http", "slug", "sneaky", "http_url", site.URL))
				c.b.expect(resp, body, http.StatusForbidden, "")
			}
			if _, err := in.Web.Checks.BySlug(ctx, "sneaky"); err == nil {
				t.Error("a refused request stored a check")
			}
		})

		t.Run("run now", func(t *testing.T) {
			v, _ := in.Web.Checks.Get(ctx, httpID)
			resp, body := responder.post(httpPage+"/run", url.Values{})
			responder.expect(resp, body, http.StatusSeeOther, "")
			loc := resp.Header.Get("Location")
			if !strings.HasPrefix(loc, httpPage+"?done=run&after=") {
				t.Fatalf("run redirected to %s", loc)
			}
			ckWait(t, "the run", func() bool {
				after, _ := in.Web.Checks.Get(ctx, httpID)
				return after.State.LastRunAt.After(v.State.LastRunAt)
			})
			_, body = responder.get(loc)
			mustContain(t, body, "The check ran.", `data-status="up"`)
			mustNotContain(t, body, `id="run-pending"`)
			// A paused check does not run.
			resp, body = admin.post(planPage+"/run", url.Values{})
			admin.expect(resp, body, http.StatusConflict, "")
		})

		t.Run("delete", func(t *testing.T) {
			resp, body := admin.post(planPage+"/delete", url.Values{})
			admin.expect(resp, body, http.StatusConflict, "")
			mustContain(t, body, "comes from the emergency plan")
			_, body = admin.get(planPage)
			mustNotContain(t, body, `id="delete-check"`)
			v, err := in.Web.Checks.BySlug(ctx, "api-health")
			if err != nil {
				t.Fatal(err)
			}
			resp, body = admin.post(fmt.Sprintf("/checks/%d/delete", v.ID), url.Values{})
			admin.expect(resp, body, http.StatusSeeOther, "/checks?done=deleted")
			if _, err := in.Web.Checks.Get(ctx, v.ID); err == nil {
				t.Error("the check is still there")
			}
		})

		t.Run("maintenance windows", func(t *testing.T) {
			b := admin
			sv, err := in.Web.Services.List(ctx)
			if err != nil || len(sv) == 0 {
				t.Fatalf("services %v %v", sv, err)
			}
			sh, _ := time.LoadLocation("Asia/Shanghai")
			day := time.Now().In(sh).AddDate(0, 0, 2)
			start := time.Date(day.Year(), day.Month(), day.Day(), 10, 30, 0, 0, sh)
			form := url.Values{"title": {"Database upgrade"}, "description": {"Orders may be slow."}, "mode": {"once"},
				"time_zone": {"Asia/Shanghai"}, "starts_at": {start.Format("2006-01-02T15:04")}, "ends_at": {start.Add(2 * time.Hour).Format("2006-01-02T15:04")},
				"services": {strconv.FormatInt(sv[0].ID, 10)}, "checks": {"shop-home", "checkout-probe"}, "matchers": {"env=prod\nhost=~db-[0-9]+"},
				"public": {"1"}, "cron": {"ignored"}}
			resp, body := b.post("/maintenance", form)
			b.expect(resp, body, http.StatusSeeOther, "/maintenance?show=all&done=window_created")
			ws, _ := in.Web.Maintenance.List(ctx)
			w := ws[len(ws)-1]
			if w.Title != "Database upgrade" || !w.StartsAt.Equal(start) || !w.EndsAt.Equal(start.Add(2*time.Hour)) || w.TimeZone != "Asia/Shanghai" ||
				w.Cron != "" || len(w.Services) != 1 || len(w.Checks) != 2 || len(w.Matchers) != 2 || w.Matchers[1].Regex != "db-[0-9]+" || !w.Public {
				t.Fatalf("stored %+v", w)
			}
			_, body = b.get("/maintenance?show=all&done=window_created")
			mustContain(t, body, "Maintenance window created.", "Database upgrade", start.Format("2006-01-02 15:04")+" – "+start.Add(2*time.Hour).Format("15:04")+" Asia/Shanghai",
				"check shop-home", "labels host=~db-[0-9]", "service "+sv[0].Name)
			_, body = b.get("/maintenance?show=now")
			mustNotContain(t, body, fmt.Sprintf(`id="window-%d"`, w.ID))
			_, body = b.get("/maintenance")
			mustContain(t, body, fmt.Sprintf(`id="window-%d"`, w.ID))

			// Edit shows the times in the window's zone; a recurring window.
			edit := fmt.Sprintf("/maintenance/%d", w.ID)
			_, body = b.get(edit + "/edit")
			mustContain(t, body, `value="`+start.Format("2006-01-02T15:04")+`"`, `value="Asia/Shanghai"`, `<option value="shop-home" selected>`, "env=prod")
			resp, body = b.post(edit, url.Values{"title": {"Weekly patching"}, "mode": {"recurring"}, "cron": {"0 2 * * 0"}, "duration": {"2h"},
				"time_zone": {"Asia/Shanghai"}, "starts_at": {"garbage"}})
			b.expect(resp, body, http.StatusSeeOther, "/maintenance?show=all&done=window_saved")
			w, _ = in.Web.Maintenance.Get(ctx, w.ID)
			if w.Cron != "0 2 * * 0" || time.Duration(w.Duration) != 2*time.Hour || !w.StartsAt.IsZero() || len(w.Checks) != 0 {
				t.Errorf("after the edit %+v", w)
			}
			_, body = b.get("/maintenance?show=all")
			mustContain(t, body, "At each &#34;0 2 * * 0&#34; (Asia/Shanghai), for 2h", "everything")

			for _, c := range []struct {
				name  string
				form  url.Values
				input string
				text  string
			}{
				{"bad cron", url.Values{"title": {"x"}, "mode": {"recurring"}, "cron": {"61 * * * *"}, "duration": {"1h"}}, "w-cron", "61"},
				{"bad zone", url.Values{"title": {"x"}, "mode": {"once"}, "time_zone": {"Asia/Atlantis"}, "starts_at": {"2030-01-01T10:00"}, "ends_at": {"2030-01-01T12:00"}}, "w-time_zone", "Asia/Atlantis"},
				{"bad regex", url.Values{"title": {"x"}, "mode": {"once"}, "starts_at": {"2030-01-01T10:00"}, "ends_at": {"2030-01-01T12:00"}, "matchers": {"host=~db-(1"}}, "w-matchers", "missing closing"},
				{"bad matcher", url.Values{"title": {"x"}, "mode": {"once"}, "starts_at": {"2030-01-01T10:00"}, "ends_at": {"2030-01-01T12:00"}, "matchers": {"just words"}}, "w-matchers", "just words"},
				{"ends first", url.Values{"title": {"x"}, "mode": {"once"}, "starts_at": {"2030-01-01T10:00"}, "ends_at": {"2030-01-01T09:00"}}, "w-ends_at", "after"},
				{"no start", url.Values{"title": {"x"}, "mode": {"once"}}, "w-starts_at", "required"},
				{"no title", url.Values{"mode": {"once"}, "starts_at": {"2030-01-01T10:00"}, "ends_at": {"2030-01-01T12:00"}}, "w-title", "This field is required."},
				{"bad duration", url.Values{"title": {"x"}, "mode": {"recurring"}, "cron": {"0 2 * * *"}, "duration": {"a while"}}, "w-duration", "Use a duration"},
			} {
				t.Run(c.name, func(t *testing.T) {
					resp, body := b.post("/maintenance", c.form)
					b.expect(resp, body, http.StatusUnprocessableEntity, "")
					mustContain(t, body, `id="`+c.input+`-err"`, c.text)
				})
			}
			resp, body = b.post(edit+"/delete", url.Values{})
			b.expect(resp, body, http.StatusSeeOther, "/maintenance?show=all&done=window_deleted")
			if _, err := in.Web.Maintenance.Get(ctx, w.ID); err == nil {
				t.Error("the window is still there")
			}
		})

		t.Run("restore tests", func(t *testing.T) {
			b := responder
			_, body := b.get("/restore-tests")
			mustContain(t, body, `id="resource-nightly-db-backup" data-state="never"`, "never tested", `id="record-submit"`, "No restore test recorded yet.")
			resp, body := b.post("/restore-tests", url.Values{"resource": {"nightly-db-backup"}, "duration": {"forty minutes"}})
			b.expect(resp, body, http.StatusUnprocessableEntity, "")
			mustContain(t, body, `id="r-duration-err"`, "Use a duration")
			resp, body = b.post("/restore-tests", url.Values{"resource": {"nightly-db-backup"}, "duration": {"47m"}, "tested_at": {"2099-01-01T00:00"}})
			b.expect(resp, body, http.StatusUnprocessableEntity, "")
			mustContain(t, body, `id="r-tested_at-err"`, "in the future")
			resp, body = b.post("/restore-tests", url.Values{"resource": {"standby-cluster"}, "duration": {"47m"}})
			b.expect(resp, body, http.StatusUnprocessableEntity, "")
			mustContain(t, body, `id="r-resource-err"`)
			tested := time.Now().UTC().Add(-2 * time.Hour).Truncate(time.Minute)
			resp, body = b.post("/restore-tests", url.Values{"resource": {"nightly-db-backup"}, "tested_at": {tested.Format("2006-01-02T15:04")},
				"duration": {"47m"}, "data_age": {"11h30m"}, "ok": {"1"}, "evidence": {"Restored to staging-db-2; row counts match."}})
			b.expect(resp, body, http.StatusSeeOther, "/restore-tests?done=restore_recorded")
			_, body = b.get("/restore-tests?done=restore_recorded")
			mustContain(t, body, "Restore test recorded.", `data-state="ok"`, "47 min", "11h 30m", "Restored to staging-db-2", "recorded by Rick")
			ts, err := in.Web.Checks.RestoreTests(ctx, "nightly-db-backup", 10)
			if err != nil || len(ts) != 1 || !ts[0].TestedAt.Equal(tested) || time.Duration(ts[0].Duration) != 47*time.Minute || !ts[0].OK {
				t.Errorf("stored %+v %v", ts, err)
			}
			b.lang = "zh-CN"
			_, body = b.get("/restore-tests")
			mustContain(t, body, "恢复演练", "已演练")
			b.lang = ""
			_, body = viewer.get("/restore-tests")
			mustNotContain(t, body, `id="record-submit"`)
		})
	})
}
