package web_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/firebreak/firebreak/internal/contact"
	"github.com/firebreak/firebreak/internal/incident"
)

func itoa(id int64) string { return strconv.FormatInt(id, 10) }

func incidentFilterAll() incident.Filter { return incident.Filter{Limit: 500} }

func actorOf(name string) incident.Actor { return incident.Actor{Name: name} }

func TestPagingAPI(t *testing.T) {
	apiEachDB(t, func(t *testing.T, e *apiEnv) {
		inc := e.declare(t, map[string]any{"title": "Payments failing", "type": "site-down", "level": "P1"})
		path := "/api/v1/incidents/" + itoa(inc.ID)

		// Reassign: targets are checked and named.
		e.fail(t, "POST", path+"/reassign", e.admin, map[string]any{"targets": []any{}}, 400, "targets")
		e.fail(t, "POST", path+"/reassign", e.admin, map[string]any{"targets": []any{map[string]any{"kind": "user", "id": "nobody"}}}, 400, "targets[0]")
		e.fail(t, "POST", path+"/reassign", e.admin, map[string]any{"targets": "ops2"}, 400, "targets")
		e.call(t, "POST", path+"/reassign", e.admin, map[string]any{"targets": []any{map[string]any{"kind": "user", "id": "ops2"}}}, 202)

		// The page is in the outbox at once (written with the request).
		var log apiPage[struct {
			ID       int64
			Username string
			Kind     string
			Step     string
			State    string
		}]
		e.call(t, "GET", path+"/notifications", e.admin, nil, 200).decode(t, &log)
		found := false
		for _, n := range log.Items {
			if n.Username == "ops2" && n.Step == "m1" && n.Kind == "email" {
				found = true
			}
		}
		if !found {
			t.Errorf("no manual page for ops2 in %+v", log.Items)
		}
		e.call(t, "GET", "/api/v1/notifications?incident="+itoa(inc.ID)+"&limit=1", e.admin, nil, 200)
		e.fail(t, "GET", "/api/v1/notifications?state=lost", e.admin, nil, 400, "state")
		e.fail(t, "GET", "/api/v1/notifications?incident=x", e.admin, nil, 400, "incident")
		e.fail(t, "GET", "/api/v1/incidents/999999/notifications", e.admin, nil, 404, "")

		// Escalate now is recorded; a resolved incident cannot be escalated.
		e.call(t, "POST", path+"/escalate", e.admin, nil, 202)
		kinds := map[string]bool{}
		for _, en := range e.timeline(t, inc.ID, "") {
			kinds[en.Kind] = true
		}
		if !kinds["escalate_now"] || !kinds["escalated"] {
			t.Errorf("timeline kinds %v", kinds)
		}
		e.call(t, "POST", path+"/status", e.admin, map[string]any{"status": "resolved"}, 200)
		e.fail(t, "POST", path+"/escalate", e.admin, nil, 409, "status")
		e.fail(t, "POST", path+"/reassign", e.admin, map[string]any{"targets": []any{map[string]any{"kind": "user", "id": "ops2"}}}, 409, "status")
	})
}

func TestActionLinks(t *testing.T) {
	eachDatabase(t, func(t *testing.T, databaseURL string) {
		in, base := startInstance(t, databaseURL)
		ctx := t.Context()
		b := newBrowser(t, base)
		b.login("admin", adminPassword)
		_, body := b.post("/incidents", url.Values{"title": {"Queue stuck"}, "type": {"site-down"}, "level": {"P1"}})
		_ = body
		list, _, err := in.Web.Incidents.List(ctx, incidentFilterAll())
		if err != nil || len(list) == 0 {
			t.Fatalf("declared incident: %v", err)
		}
		inc := list[0]
		ops1, err := in.Web.Auth.UserByUsername(ctx, "ops1")
		if err != nil {
			t.Fatal(err)
		}
		exp := time.Now().Add(time.Hour)
		ack := in.Web.Links.Token(inc.ID, "acknowledge", ops1.ID, exp)
		resolve := in.Web.Links.Token(inc.ID, "resolve", ops1.ID, exp)

		// Links work without a login: a fresh client.
		anon := newBrowser(t, base)
		resp, page := anon.get("/act/" + ack)
		anon.expect(resp, page, 200, "")
		mustContain(t, page, "Queue stuck", `action="/act/`+ack+`"`, ">Acknowledge<")
		if rp := resp.Header.Get("Referrer-Policy"); rp != "no-referrer" && rp != "same-origin" {
			t.Error("action page leaks its URL in Referer")
		}
		// Opening the link (as chat previews do) changes nothing.
		if got, _ := in.Web.Incidents.Get(ctx, inc.ID); got.Status != "triggered" {
			t.Fatalf("GET acted: %s", got.Status)
		}
		resp, page = anon.post("/act/"+ack, url.Values{})
		anon.expect(resp, page, 200, "")
		mustContain(t, page, "Acknowledged. Paging has stopped.")
		got, _ := in.Web.Incidents.Get(ctx, inc.ID)
		if got.Status != "acknowledged" {
			t.Fatalf("status after the link: %s", got.Status)
		}
		entries, _ := in.Web.Incidents.Timeline(ctx, inc.ID, 0)
		var actorOK bool
		for _, en := range entries {
			if en.Kind == "status_changed" && en.ActorID == ops1.ID && en.Body == "via one-click link" {
				actorOK = true
			}
		}
		if !actorOK {
			t.Error("the acknowledgement is not recorded as the person the link was sent to")
		}
		// Acknowledging again: nothing to do, and the link is not spent.
		resp, page = anon.post("/act/"+ack, url.Values{})
		anon.expect(resp, page, 200, "")
		mustContain(t, page, "already")

		// Resolve works once; the second time the link is used up.
		resp, page = anon.post("/act/"+resolve, url.Values{})
		anon.expect(resp, page, 200, "")
		mustContain(t, page, "Resolved.")
		if _, err := in.Web.Incidents.ChangeStatus(ctx, actorOf("admin"), inc.ID, incident.Investigating, "reopened"); err != nil {
			t.Fatal(err)
		}
		resp, page = anon.post("/act/"+resolve, url.Values{})
		anon.expect(resp, page, http.StatusGone, "")
		mustContain(t, page, "already been used")

		// Expired, forged and foreign links are refused, in Chinese too.
		old := in.Web.Links.Token(inc.ID, "acknowledge", ops1.ID, time.Now().Add(-time.Minute))
		resp, page = anon.get("/act/" + old)
		anon.expect(resp, page, http.StatusGone, "")
		mustContain(t, page, "expired")
		anon.lang = "zh-CN"
		resp, page = anon.get("/act/" + strings.Replace(ack, "v1.", "v1.x", 1))
		anon.expect(resp, page, http.StatusNotFound, "")
		mustContain(t, page, "链接无效")
	})
}

func TestNotificationLogPage(t *testing.T) {
	eachDatabase(t, func(t *testing.T, databaseURL string) {
		in, base := startInstance(t, databaseURL)
		b := newBrowser(t, base)
		b.login("admin", adminPassword)
		resp, _ := b.post("/incidents", url.Values{"title": {"Disk full"}, "type": {"site-down"}, "level": {"P1"}})
		loc := resp.Header.Get("Location")
		if !strings.HasPrefix(loc, "/incidents/") {
			t.Fatalf("declare redirected to %q", loc)
		}
		resp, page := b.get(loc)
		b.expect(resp, page, 200, "")
		mustContain(t, page, "Escalate now", `name="target"`, `value="user:ops2"`, `value="schedule:primary-oncall"`, "/notifications?incident=")
		resp, page = b.post(loc+"/reassign", url.Values{"target": {"user:ops3"}})
		b.expect(resp, page, 303, loc)
		resp, page = b.post(loc+"/reassign", url.Values{"target": {""}})
		b.expect(resp, page, 400, "")
		resp, page = b.post(loc+"/escalate", url.Values{})
		b.expect(resp, page, 303, loc)
		id := strings.TrimPrefix(loc, "/incidents/")
		resp, page = b.get("/notifications?incident=" + id)
		b.expect(resp, page, 200, "")
		mustContain(t, page, "Notification log", "ops3", "paged by hand (1)")
		b.lang = "zh-CN"
		resp, page = b.get("/notifications")
		b.expect(resp, page, 200, "")
		mustContain(t, page, "通知记录", "手动呼叫（1）")
		resp, page = b.get("/notifications?state=nope")
		b.expect(resp, page, 400, "")

		// The home page lists the open incidents that paged me.
		b.lang = ""
		resp, page = b.get("/me")
		b.expect(resp, page, 200, "")
		mustContain(t, page, "None: no open incident has paged you.", "All open incidents (1)")
		admin, err := in.Web.Auth.UserByUsername(t.Context(), "admin")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := in.Web.Contacts.Create(t.Context(), admin.ID, contact.MethodInput{Kind: "email", Address: "admin@example.com", Verified: true}); err != nil {
			t.Fatal(err)
		}
		resp, page = b.post(loc+"/reassign", url.Values{"target": {"user:admin"}})
		b.expect(resp, page, 303, loc)
		resp, page = b.get("/me")
		b.expect(resp, page, 200, "")
		mustContain(t, page, `href="/incidents/`+id+`">#`+id+` Disk full</a>`)
	})
}

func TestScheduleOnCallAt(t *testing.T) {
	eachDatabase(t, func(t *testing.T, databaseURL string) {
		in, base := startInstance(t, databaseURL)
		b := newBrowser(t, base)
		b.login("admin", adminPassword)
		rec, err := in.Web.OnCall.ScheduleBySlug(t.Context(), "primary-oncall")
		if err != nil {
			t.Fatal(err)
		}
		sh, _ := time.LoadLocation("Asia/Shanghai")
		path := "/schedules/" + itoa(rec.ID)
		resp, page := b.get(path + "?at=" + url.QueryEscape(time.Now().In(sh).Add(7*24*time.Hour).Format("2006-01-02T15:04")))
		b.expect(resp, page, 200, "")
		mustContain(t, page, `id="on-call-at-result"`, "Operator two")
		resp, page = b.get(path + "?at=tomorrow")
		b.expect(resp, page, 400, "")
	})
}
