package web_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/firebreak/firebreak/internal/auth"
	"github.com/firebreak/firebreak/internal/incident"
	"github.com/firebreak/firebreak/internal/server"
	"github.com/firebreak/firebreak/internal/testenv"
)

const adminPassword = "admin-password-for-tests"

// startInstance runs a whole firebreak on loopback against SQLite ("") or PostgreSQL.
func startInstance(t *testing.T, databaseURL string) (*server.Instance, string) {
	t.Helper()
	in, base, err := server.TestInstance(t.Context(), t.TempDir(), databaseURL, adminPassword)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close() })
	return in, base
}

// eachDatabase runs fn against SQLite and PostgreSQL.
func eachDatabase(t *testing.T, fn func(t *testing.T, databaseURL string)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, "") })
	t.Run("postgres", func(t *testing.T) { fn(t, testenv.PostgresURL(t)) })
}

// browser is an HTTP client acting like a browser: cookies, Accept: text/html,
// and redirects left for the test to check.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
	lang string // Accept-Language
	last string // the last page shown, sent as Referer like a browser does
}

func newBrowser(t *testing.T, base string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: base, c: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) do(method, path string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(b.t.Context(), method, b.base+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Accept", "text/html,application/xhtml+xml")
	if b.lang != "" {
		req.Header.Set("Accept-Language", b.lang)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if b.last != "" {
		req.Header.Set("Referer", b.base+b.last)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	if method == http.MethodGet && resp.StatusCode == http.StatusOK {
		b.last = path
	}
	return resp, string(raw)
}

func (b *browser) get(path string) (*http.Response, string) { return b.do(http.MethodGet, path, nil) }

func (b *browser) post(path string, form url.Values) (*http.Response, string) {
	return b.do(http.MethodPost, path, form)
}

// expect checks a response's status and, for redirects, its Location.
func (b *browser) expect(resp *http.Response, body string, status int, location string) {
	b.t.Helper()
	if resp.StatusCode != status {
		b.t.Fatalf("%s %s: status %d, want %d\n%s", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, status, excerpt(body))
	}
	if location != "" && resp.Header.Get("Location") != location {
		b.t.Fatalf("%s %s: Location %q, want %q", resp.Request.Method, resp.Request.URL.Path, resp.Header.Get("Location"), location)
	}
}

func excerpt(s string) string {
	if len(s) > 2000 {
		return s[:2000] + "…"
	}
	return s
}

func (b *browser) login(username, password string) {
	b.t.Helper()
	resp, body := b.post("/login", url.Values{"username": {username}, "password": {password}})
	b.expect(resp, body, http.StatusSeeOther, "/incidents")
}

func sessionCookie(resp *http.Response) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == auth.SessionCookie {
			return c
		}
	}
	return nil
}

func mustContain(t *testing.T, body string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Fatalf("page does not contain %q:\n%s", w, excerpt(body))
		}
	}
}

func mustNotContain(t *testing.T, body string, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if strings.Contains(body, w) {
			t.Fatalf("page contains %q:\n%s", w, excerpt(body))
		}
	}
}

var incidentLocation = regexp.MustCompile(`^/incidents/(\d+)$`)

func TestUI(t *testing.T) {
	eachDatabase(t, func(t *testing.T, databaseURL string) {
		in, base := startInstance(t, databaseURL)
		ctx := t.Context()
		for _, u := range []auth.NewUser{
			{Username: "vera", DisplayName: "Vera Viewer", Role: auth.Viewer, Password: "viewer-password-123"},
			{Username: "rick", DisplayName: "Rick Responder", Role: auth.Responder, Password: "responder-password-123"},
		} {
			if _, err := in.Web.Auth.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
		}
		services, err := in.Web.Services.List(ctx)
		if err != nil || len(services) == 0 {
			t.Fatalf("services: %v %v", services, err)
		}
		demo := services[0]

		t.Run("not logged in goes to login", func(t *testing.T) {
			b := newBrowser(t, base)
			resp, body := b.get("/incidents?status=all")
			b.expect(resp, body, http.StatusSeeOther, "/login?next="+url.QueryEscape("/incidents?status=all"))
			resp, body = b.get("/")
			b.expect(resp, body, http.StatusSeeOther, "/login?next=%2F")
			resp, body = b.get("/login?next=" + url.QueryEscape("/incidents?status=all"))
			b.expect(resp, body, http.StatusOK, "")
			mustContain(t, body, `<form method="post" action="/login"`, `name="next" value="/incidents?status=all"`, `<html lang="en">`)
			if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
				t.Errorf("Content-Security-Policy = %q", csp)
			}
		})

		t.Run("login fails without telling which part was wrong", func(t *testing.T) {
			b := newBrowser(t, base)
			respWrong, bodyWrong := b.post("/login", url.Values{"username": {"admin"}, "password": {"not-the-password"}})
			respNobody, bodyNobody := b.post("/login", url.Values{"username": {"nobody"}, "password": {"not-the-password"}})
			for _, c := range []struct {
				resp *http.Response
				body string
			}{{respWrong, bodyWrong}, {respNobody, bodyNobody}} {
				b.expect(c.resp, c.body, http.StatusUnauthorized, "")
				mustContain(t, c.body, "Wrong username or password.", `id="login-error"`)
				if sessionCookie(c.resp) != nil {
					t.Error("a failed login set a session cookie")
				}
			}
			if strings.ReplaceAll(bodyWrong, "admin", "nobody") != bodyNobody {
				t.Error("the answers for a wrong password and an unknown user differ beyond the echoed username")
			}
		})

		t.Run("login, logout", func(t *testing.T) {
			b := newBrowser(t, base)
			resp, body := b.post("/login", url.Values{"username": {"admin"}, "password": {adminPassword}, "next": {"/services"}})
			b.expect(resp, body, http.StatusSeeOther, "/services")
			c := sessionCookie(resp)
			if c == nil || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Secure {
				t.Fatalf("session cookie = %+v", c)
			}
			resp, body = b.get("/incidents")
			b.expect(resp, body, http.StatusOK, "")
			mustContain(t, body, "Administrator", `action="/logout"`, `href="/incidents/new"`)

			resp, body = b.post("/logout", url.Values{})
			b.expect(resp, body, http.StatusSeeOther, "/login")
			if cleared := sessionCookie(resp); cleared == nil || cleared.MaxAge >= 0 {
				t.Fatalf("logout did not clear the cookie: %+v", cleared)
			}
			resp, body = b.get("/incidents")
			b.expect(resp, body, http.StatusSeeOther, "/login?next=%2Fincidents")
			// The old session is gone on the server too, not just in this browser.
			if _, err := in.Web.Auth.SessionUser(ctx, c.Value); err == nil {
				t.Error("the session still works after logout")
			}
		})

		t.Run("unsafe next is ignored", func(t *testing.T) {
			for _, next := range []string{"//evil.example", "https://evil.example/", "/\\evil.example", "javascript:alert(1)", "evil", "/%0d%0aSet-Cookie:x"} {
				b := newBrowser(t, base)
				resp, body := b.post("/login", url.Values{"username": {"admin"}, "password": {adminPassword}, "next": {next}})
				want := "/incidents"
				if strings.HasPrefix(next, "/%") {
					want = next // percent-escaped: a harmless local path
				}
				b.expect(resp, body, http.StatusSeeOther, want)
				resp, body = b.post("/lang", url.Values{"lang": {"en"}, "next": {next}})
				if want == "/incidents" {
					want = "/"
				}
				b.expect(resp, body, http.StatusSeeOther, want)
			}
		})

		t.Run("language", func(t *testing.T) {
			b := newBrowser(t, base)
			b.lang = "zh-CN,zh;q=0.9,en;q=0.5"
			resp, body := b.get("/login")
			b.expect(resp, body, http.StatusOK, "")
			mustContain(t, body, `<html lang="zh-CN">`, "登录")

			b.lang = ""
			b.login("vera", "viewer-password-123")
			resp, body = b.get("/incidents")
			b.expect(resp, body, http.StatusOK, "")
			mustContain(t, body, `<html lang="en">`, ">Incidents<")
			resp, body = b.post("/lang", url.Values{"lang": {"zh"}, "next": {"/incidents?status=all"}})
			b.expect(resp, body, http.StatusSeeOther, "/incidents?status=all")
			resp, body = b.get("/incidents?status=all")
			b.expect(resp, body, http.StatusOK, "")
			mustContain(t, body, `<html lang="zh-CN">`, ">事故</a>", ">服务</a>", "退出", "查看者")
			mustNotContain(t, body, ">Incidents<", "Log out")
			// The choice is also the user's locale, so a new browser speaks Chinese.
			b2 := newBrowser(t, base)
			b2.login("vera", "viewer-password-123")
			_, body = b2.get("/services")
			mustContain(t, body, `<html lang="zh-CN">`, "集成密钥")
			resp, body = b.post("/lang", url.Values{"lang": {"fr"}})
			b.expect(resp, body, http.StatusBadRequest, "")
		})

		responder := newBrowser(t, base)
		responder.login("rick", "responder-password-123")
		var incID int64

		t.Run("declare by form", func(t *testing.T) {
			b := responder
			resp, body := b.get("/incidents/new")
			b.expect(resp, body, http.StatusOK, "")
			mustContain(t, body, `name="title"`, `<option value="">The type&#39;s default</option>`, `value="P0"`, `>demo</option>`)

			resp, body = b.post("/incidents", url.Values{"title": {"  "}, "level": {"P1"}, "impact": {"kept"}})
			b.expect(resp, body, http.StatusUnprocessableEntity, "")
			mustContain(t, body, `id="title-err"`, "This field is required.", ">kept</textarea>")
			resp, body = b.post("/incidents", url.Values{"title": {"Bad level"}, "level": {"P9"}})
			b.expect(resp, body, http.StatusUnprocessableEntity, "")
			mustContain(t, body, `id="level-err"`, `unknown level &#34;P9&#34;`, `value="Bad level"`)

			resp, body = b.post("/incidents", url.Values{"title": {"Checkout <b>down</b>"}, "level": {"P1"},
				"service_id": {strconv.FormatInt(demo.ID, 10)}, "impact": {"Nobody can pay."}})
			b.expect(resp, body, http.StatusSeeOther, "")
			m := incidentLocation.FindStringSubmatch(resp.Header.Get("Location"))
			if m == nil {
				t.Fatalf("declare redirected to %q", resp.Header.Get("Location"))
			}
			incID, _ = strconv.ParseInt(m[1], 10, 64)
			resp, body = b.get(m[0])
			b.expect(resp, body, http.StatusOK, "")
			mustContain(t, body, "Checkout &lt;b&gt;down&lt;/b&gt;", `class="badge level lv-1"`, "Triggered", "Nobody can pay.",
				"declared the incident at level P1", "Acknowledge target", "left", `value="acknowledged"`)
			mustNotContain(t, body, "<b>down</b>")
		})

		t.Run("viewer cannot change an incident", func(t *testing.T) {
			b := newBrowser(t, base)
			b.login("vera", "viewer-password-123")
			b.post("/lang", url.Values{"lang": {"en"}})
			id := strconv.FormatInt(incID, 10)
			for path, form := range map[string]url.Values{
				"/incidents/" + id + "/status": {"status": {"acknowledged"}},
				"/incidents/" + id + "/level":  {"level": {"P0"}},
				"/incidents/" + id + "/notes":  {"text": {"hi"}},
				"/incidents":                   {"title": {"x"}, "level": {"P1"}},
				"/services":                    {"name": {"x"}},
			} {
				resp, body := b.post(path, form)
				b.expect(resp, body, http.StatusForbidden, "")
				mustContain(t, body, "You may not do this", `<html lang="en">`)
			}
			resp, body := b.get("/incidents/" + id)
			b.expect(resp, body, http.StatusOK, "")
			mustNotContain(t, body, `action="/incidents/`+id+`/status"`, `action="/incidents/`+id+`/notes"`)
			inc, err := in.Web.Incidents.Get(ctx, incID)
			if err != nil || inc.Status != incident.Triggered {
				t.Fatalf("incident after a viewer's attempts: %+v %v", inc, err)
			}
		})

		t.Run("status, level and note land on the timeline", func(t *testing.T) {
			b := responder
			id := strconv.FormatInt(incID, 10)
			resp, body := b.post("/incidents/"+id+"/status", url.Values{"status": {"acknowledged"}, "note": {"looking into it"}})
			b.expect(resp, body, http.StatusSeeOther, "/incidents/"+id)
			resp, body = b.post("/incidents/"+id+"/level", url.Values{"level": {"P0"}, "reason": {"all regions"}})
			b.expect(resp, body, http.StatusSeeOther, "/incidents/"+id)
			resp, body = b.post("/incidents/"+id+"/notes", url.Values{"text": {"rolled back 1.42"}})
			b.expect(resp, body, http.StatusSeeOther, "/incidents/"+id+"#timeline-end")
			resp, body = b.post("/incidents/"+id+"/status", url.Values{"status": {"closed"}})
			b.expect(resp, body, http.StatusConflict, "")
			mustContain(t, body, "resolve the incident before closing it", `href="/incidents/`+id+`"`)

			resp, body = b.get("/incidents/" + id)
			b.expect(resp, body, http.StatusOK, "")
			mustContain(t, body, "changed the status from Triggered to Acknowledged", "looking into it",
				"changed the level from P1 to P0", "all regions", "added a note", "rolled back 1.42",
				"Rick Responder", `class="badge level lv-0"`, "Met, in")
			// The acknowledge button is gone; resolving is offered.
			mustContain(t, body, `value="acknowledged" hidden`, `value="resolved">Resolve`)
			entries, err := in.Web.Incidents.Timeline(ctx, incID, 0)
			if err != nil {
				t.Fatal(err)
			}
			var kinds []string
			for _, e := range entries {
				if !engineKind(e.Kind) { // the engine's paging entries come and go with timing
					kinds = append(kinds, e.Kind)
				}
			}
			if got := strings.Join(kinds, ","); got != "declared,status_changed,level_changed,note" {
				t.Errorf("timeline kinds = %s", got)
			}

			b.post("/lang", url.Values{"lang": {"zh"}, "next": {"/incidents/" + id}})
			_, body = b.get("/incidents/" + id)
			mustContain(t, body, "时间线", "将状态从「已触发」改为「已确认」", "将级别从 P1 调整为 P0", "添加了备注", "确认时限", "已达标")
			b.post("/lang", url.Values{"lang": {"en"}})
		})

		t.Run("list, filters and fragment", func(t *testing.T) {
			b := responder
			resp, body := b.get("/incidents")
			b.expect(resp, body, http.StatusOK, "")
			mustContain(t, body, `id="incident-`+strconv.FormatInt(incID, 10)+`"`, "Checkout &lt;b&gt;down&lt;/b&gt;",
				`data-live-list="/incidents/stream"`, ">demo<", `<option value="open" selected>`)
			_, body = b.get("/incidents?status=resolved")
			mustContain(t, body, "No incidents match these filters")
			_, body = b.get("/incidents?level=P3")
			mustContain(t, body, "No incidents match these filters")
			_, body = b.get("/incidents?status=all&level=P0&service_id=" + strconv.FormatInt(demo.ID, 10))
			mustContain(t, body, "Checkout &lt;b&gt;down&lt;/b&gt;")
			resp, body = b.get("/incidents?fragment=1")
			b.expect(resp, body, http.StatusOK, "")
			mustContain(t, body, `<table class="list incidents">`)
			mustNotContain(t, body, "<html", "<nav class=\"nav\"")
			resp, body = b.get("/incidents?status=bogus")
			b.expect(resp, body, http.StatusBadRequest, "")

			// Pagination: more incidents than a page holds.
			for i := range 3 {
				if _, err := in.Web.Incidents.Declare(ctx, incident.Actor{Name: "test"}, incident.Declaration{Title: "Page test " + strconv.Itoa(i), Level: "P3"}); err != nil {
					t.Fatal(err)
				}
			}
			_, body = b.get("/incidents?limit=2")
			mustContain(t, body, "Page test 2", "Page test 1", `rel="next"`)
			mustNotContain(t, body, "Page test 0")
			older := regexp.MustCompile(`href="([^"]+)" rel="next"`).FindStringSubmatch(body)
			_, body = b.get(strings.ReplaceAll(older[1], "&amp;", "&") + "&limit=2")
			mustContain(t, body, "Page test 0", ">Newest<")
		})

		t.Run("incident stream", func(t *testing.T) {
			entries, err := in.Web.Incidents.Timeline(ctx, incID, 0)
			if err != nil {
				t.Fatal(err)
			}
			last := entries[len(entries)-1].ID
			sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
			defer cancel()
			req, _ := http.NewRequestWithContext(sctx, http.MethodGet, base+"/incidents/"+strconv.FormatInt(incID, 10)+"/stream", nil)
			req.Header.Set("Accept", "text/event-stream")
			req.Header.Set("Last-Event-ID", strconv.FormatInt(entries[0].ID, 10))
			resp, err := responder.c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
				t.Fatalf("stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			events := readEvents(resp.Body)
			ev := nextEvent(t, events, "timeline")
			if ev.id != strconv.FormatInt(last, 10) {
				t.Errorf("first timeline event id %q, want %d", ev.id, last)
			}
			if strings.Contains(ev.data, "declared the incident") || !strings.Contains(ev.data, "rolled back 1.42") {
				t.Errorf("first timeline event should hold the entries after Last-Event-ID:\n%s", ev.data)
			}
			if !strings.Contains(nextEvent(t, events, "incident").data, `data-status="acknowledged"`) {
				t.Error("incident event lacks the status")
			}
			e, err := in.Web.Incidents.AddNote(ctx, incident.Actor{Name: "stream test"}, incID, "first line\nsecond line")
			if err != nil {
				t.Fatal(err)
			}
			ev = nextEvent(t, events, "timeline")
			if ev.id != strconv.FormatInt(e.ID, 10) || !strings.Contains(ev.data, "first line\nsecond line") || strings.Contains(ev.data, "rolled back") {
				t.Errorf("timeline event after a note: id %s, data:\n%s", ev.id, ev.data)
			}
			if _, err := in.Web.Incidents.ChangeStatus(ctx, incident.Actor{Name: "stream test"}, incID, incident.Resolved, ""); err != nil {
				t.Fatal(err)
			}
			for {
				ev := nextEvent(t, events, "incident")
				if strings.Contains(ev.data, `data-status="resolved"`) {
					break
				}
			}
		})

		t.Run("services", func(t *testing.T) {
			admin := newBrowser(t, base)
			admin.login("admin", adminPassword)
			resp, body := admin.get("/services")
			b := admin
			b.expect(resp, body, http.StatusOK, "")
			key := demo.Keys[0].Key
			mustContain(t, body, base+"/api/v1/integrations/"+key+"/alertmanager", base+"/api/v1/integrations/"+key+"/grafana",
				base+"/api/v1/integrations/"+key+"/events", base+"/v2/enqueue", "curl -sS -X POST", `action="/services"`,
				`action="/services/`+strconv.FormatInt(demo.ID, 10)+`/keys"`)
			resp, body = b.post("/services", url.Values{"name": {""}})
			b.expect(resp, body, http.StatusUnprocessableEntity, "")
			mustContain(t, body, `id="svc-name-err"`)
			resp, body = b.post("/services", url.Values{"name": {"payments"}, "description": {"Card payments"}})
			b.expect(resp, body, http.StatusSeeOther, "")
			if !strings.HasPrefix(resp.Header.Get("Location"), "/services#service-") {
				t.Fatalf("create service redirected to %q", resp.Header.Get("Location"))
			}
			resp, body = b.post("/services/"+strconv.FormatInt(demo.ID, 10)+"/keys", url.Values{"name": {"prometheus-prod"}})
			b.expect(resp, body, http.StatusSeeOther, "/services#service-"+strconv.FormatInt(demo.ID, 10))
			_, body = b.get("/services")
			mustContain(t, body, "payments", "Card payments", "Auto-resolve off", "prometheus-prod")

			// Responders see the URLs but not the admin forms.
			_, body = responder.get("/services")
			mustContain(t, body, base+"/api/v1/integrations/"+key+"/events")
			mustNotContain(t, body, `action="/services"`, "/keys\"")
		})

		t.Run("static files and errors", func(t *testing.T) {
			b := responder
			_, body := b.get("/incidents")
			css := regexp.MustCompile(`href="(/static/app\.css\?v=[0-9a-f]+)"`).FindStringSubmatch(body)
			if css == nil {
				t.Fatal("no versioned stylesheet link")
			}
			resp, body := b.get(css[1])
			b.expect(resp, body, http.StatusOK, "")
			if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") || !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") {
				t.Errorf("stylesheet headers: %v", resp.Header)
			}
			resp, _ = newBrowser(t, base).get("/static/app.js")
			if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Type"), "javascript") || strings.Contains(resp.Header.Get("Cache-Control"), "immutable") {
				t.Errorf("script without version: %d %v", resp.StatusCode, resp.Header)
			}
			for _, p := range []string{"/static/", "/static/nope.css", "/static/templates/layout.html"} {
				if resp, _ := b.get(p); resp.StatusCode != http.StatusNotFound {
					t.Errorf("GET %s: %d, want 404", p, resp.StatusCode)
				}
			}
			resp, body = b.get("/incidents/999999")
			b.expect(resp, body, http.StatusNotFound, "")
			mustContain(t, body, "Not found", "incident not found", `<nav class="nav"`)
		})
	})
}

type sseEvent struct{ name, id, data string }

// readEvents parses a Server-Sent Events stream into events (comments skipped).
func readEvents(r io.Reader) <-chan sseEvent {
	out := make(chan sseEvent, 64)
	go func() {
		defer close(out)
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var ev sseEvent
		var data []string
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if data != nil {
					ev.data = strings.Join(data, "\n")
					out <- ev
				}
				ev, data = sseEvent{}, nil
			case strings.HasPrefix(line, ":"):
			case strings.HasPrefix(line, "event: "):
				ev.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "id: "):
				ev.id = strings.TrimPrefix(line, "id: ")
			case strings.HasPrefix(line, "data: "):
				data = append(data, strings.TrimPrefix(line, "data: "))
			case line == "data:":
				data = append(data, "")
			}
		}
	}()
	return out
}

func nextEvent(t *testing.T, events <-chan sseEvent, name string) sseEvent {
	t.Helper()
	timeout := time.After(15 * time.Second)
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatalf("stream ended before a %q event", name)
			}
			if ev.name == name {
				return ev
			}
		case <-timeout:
			t.Fatalf("no %q event within 15s", name)
		}
	}
}
