package web_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/firebreak/firebreak/internal/auth"
)

// oncallPeople are users of the on-call tests with API tokens.
type oncallPeople struct {
	vera, rick, nina    int64 // viewer, responder, viewer outside every schedule
	veraT, rickT, ninaT string
	ops1                int64 // a person of the default plan
}

func newOnCallPeople(t *testing.T, e *apiEnv) oncallPeople {
	t.Helper()
	var p oncallPeople
	for _, u := range []struct {
		name  string
		role  auth.Role
		id    *int64
		token *string
	}{{"vera", auth.Viewer, &p.vera, &p.veraT}, {"rick", auth.Responder, &p.rick, &p.rickT}, {"nina", auth.Viewer, &p.nina, &p.ninaT}} {
		usr, err := e.in.Web.Auth.CreateUser(t.Context(), auth.NewUser{Username: u.name, DisplayName: strings.ToUpper(u.name[:1]) + u.name[1:], Role: u.role, Password: u.name + "-password-123"})
		if err != nil {
			t.Fatal(err)
		}
		*u.id = usr.ID
		if *u.token, _, err = e.in.Web.Auth.CreateToken(t.Context(), usr.ID, "tests", 0); err != nil {
			t.Fatal(err)
		}
	}
	ops1, err := e.in.Web.Auth.UserByUsername(t.Context(), "ops1")
	if err != nil {
		t.Fatalf("the default plan's people: %v", err)
	}
	p.ops1 = ops1.ID
	return p
}

type apiMethod struct {
	ID             int64  `json:"id"`
	UserID         int64  `json:"user_id"`
	Kind           string `json:"kind"`
	Name           string `json:"name"`
	Address        string `json:"address"`
	HasSecret      bool   `json:"has_secret"`
	ThrottleCount  int    `json:"throttle_count"`
	ThrottleWindow int64  `json:"throttle_window_seconds"`
	Verified       bool   `json:"verified"`
	Disabled       bool   `json:"disabled"`
	Source         string `json:"source"`
}

// codeCatcher is a webhook receiver that hands over the verification codes it gets.
type codeCatcher struct {
	srv   *httptest.Server
	codes chan string
}

var sixDigits = regexp.MustCompile(`\b\d{6}\b`)

func newCodeCatcher(t *testing.T) *codeCatcher {
	c := &codeCatcher{codes: make(chan string, 8)}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var msg struct {
			Message struct{ Title, Body string } `json:"message"`
		}
		_ = json.Unmarshal(b, &msg)
		if code := sixDigits.FindString(msg.Message.Title); code != "" {
			c.codes <- code
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(c.srv.Close)
	return c
}

func (c *codeCatcher) code(t *testing.T) string {
	t.Helper()
	select {
	case code := <-c.codes:
		return code
	case <-time.After(10 * time.Second):
		t.Fatal("no verification code arrived")
		return ""
	}
}

func TestAPIOnCallPeople(t *testing.T) {
	t.Parallel()
	apiEachDB(t, func(t *testing.T, e *apiEnv) {
		p := newOnCallPeople(t, e)
		vera := fmt.Sprintf("/api/v1/users/%d", p.vera)
		rick := fmt.Sprintf("/api/v1/users/%d", p.rick)
		var mail apiMethod

		t.Run("contact methods", func(t *testing.T) {
			e.call(t, "POST", vera+"/contact-methods", p.veraT, map[string]any{"kind": "email", "name": "Work", "address": " Vera <vera@example.com> "}, 201).decode(t, &mail)
			if mail.UserID != p.vera || mail.Address != "vera@example.com" || mail.Verified || mail.Disabled || mail.Kind != "email" {
				t.Fatalf("created %+v", mail)
			}
			before := e.count(t, "contact_methods")
			for _, c := range []struct {
				body  any
				field string
			}{
				{map[string]any{"kind": "pigeon", "address": "x"}, "kind"},
				{map[string]any{"kind": "email"}, "address"},
				{map[string]any{"kind": "email", "address": "not a mail"}, "address"},
				{map[string]any{"kind": "sms", "address": "12"}, "address"},
				{map[string]any{"kind": "webhook", "address": "https://example.com/hook", "secret": "short"}, "secret"},
				{map[string]any{"kind": "email", "address": "a@example.com", "throttle_count": 3}, "throttle_window_seconds"},
				{map[string]any{"kind": "email", "address": "a@example.com", "throttle_window_seconds": 999999}, "throttle_window_seconds"},
				{map[string]any{"kind": "email", "address": "a@example.com", "verified": true}, "verified"},
			} {
				e.fail(t, "POST", vera+"/contact-methods", p.veraT, c.body, 400, c.field)
			}
			if after := e.count(t, "contact_methods"); after != before {
				t.Errorf("refused methods were stored: %d more", after-before)
			}
			// Someone else's: not found, unless an admin asks.
			e.fail(t, "POST", rick+"/contact-methods", p.veraT, map[string]any{"kind": "email", "address": "r@example.com"}, 404, "")
			e.fail(t, "GET", rick+"/contact-methods", p.veraT, nil, 404, "")
			var rm apiMethod
			e.call(t, "POST", rick+"/contact-methods", e.admin, map[string]any{"kind": "sms", "address": "+86 138 0000 0002"}, 201).decode(t, &rm)
			if rm.Address != "+8613800000002" {
				t.Errorf("phone not normalised: %q", rm.Address)
			}
			e.fail(t, "GET", fmt.Sprintf("/api/v1/contact-methods/%d", rm.ID), p.veraT, nil, 404, "")
			e.fail(t, "PATCH", fmt.Sprintf("/api/v1/contact-methods/%d", rm.ID), p.veraT, map[string]any{"disabled": true}, 404, "")
			e.fail(t, "GET", "/api/v1/users/999999/contact-methods", e.admin, nil, 404, "")
			e.fail(t, "GET", "/api/v1/users/x/contact-methods", e.admin, nil, 400, "id")

			var list apiPage[apiMethod]
			e.call(t, "GET", vera+"/contact-methods", p.veraT, nil, 200).decode(t, &list)
			if len(list.Items) != 1 || list.Items[0].ID != mail.ID {
				t.Errorf("vera's methods %+v", list.Items)
			}
			path := fmt.Sprintf("/api/v1/contact-methods/%d", mail.ID)
			var got apiMethod
			e.call(t, "PATCH", path, p.veraT, map[string]any{"name": "Work mail", "throttle_count": 5, "throttle_window_seconds": 600}, 200).decode(t, &got)
			if got.Name != "Work mail" || got.Address != "vera@example.com" || got.ThrottleCount != 5 || got.ThrottleWindow != 600 {
				t.Errorf("after PATCH %+v", got)
			}
			e.fail(t, "PATCH", path, p.veraT, map[string]any{"address": "nope"}, 400, "address")
			e.call(t, "GET", path, p.veraT, nil, 200).decode(t, &got)
			if got.Address != "vera@example.com" || got.Name != "Work mail" {
				t.Errorf("a refused PATCH changed the method: %+v", got)
			}
			e.call(t, "PATCH", path, p.veraT, map[string]any{"disabled": true}, 200).decode(t, &got)
			if !got.Disabled {
				t.Error("not disabled")
			}
			e.call(t, "PATCH", path, p.veraT, map[string]any{"disabled": false}, 200)
		})

		t.Run("verification", func(t *testing.T) {
			// E-mail is not configured on this server: a clear 503.
			eb := e.fail(t, "POST", fmt.Sprintf("/api/v1/contact-methods/%d/verification", mail.ID), p.veraT, nil, 503, "")
			if !strings.Contains(eb.Error, "smtp_host") {
				t.Errorf("503 does not say what to configure: %q", eb.Error)
			}
			e.fail(t, "POST", fmt.Sprintf("/api/v1/contact-methods/%d/verify", mail.ID), p.veraT, map[string]any{"code": "123456"}, 409, "code")

			hook := newCodeCatcher(t)
			var m apiMethod
			e.call(t, "POST", vera+"/contact-methods", p.veraT, map[string]any{"kind": "webhook", "address": hook.srv.URL + "/page", "secret": "a-long-enough-secret"}, 201).decode(t, &m)
			if !m.HasSecret {
				t.Errorf("webhook secret not kept: %+v", m)
			}
			path := fmt.Sprintf("/api/v1/contact-methods/%d", m.ID)
			var sent struct {
				MethodID  int64  `json:"method_id"`
				ExpiresAt string `json:"expires_at"`
			}
			e.call(t, "POST", path+"/verification", p.veraT, nil, 202).decode(t, &sent)
			if sent.MethodID != m.ID || sent.ExpiresAt == "" {
				t.Errorf("sent %+v", sent)
			}
			code := hook.code(t)
			e.fail(t, "POST", path+"/verification", p.veraT, nil, 429, "")
			e.fail(t, "POST", path+"/verify", p.rickT, map[string]any{"code": code}, 404, "")
			wrong := "000000"
			if code == wrong {
				wrong = "111111"
			}
			e.fail(t, "POST", path+"/verify", p.veraT, map[string]any{"code": wrong}, 400, "code")
			e.fail(t, "POST", path+"/verify", p.veraT, map[string]any{"code": ""}, 400, "code")
			e.fail(t, "POST", path+"/verify", p.veraT, map[string]any{"pin": code}, 400, "pin")
			e.call(t, "POST", path+"/verify", p.veraT, map[string]any{"code": code}, 200).decode(t, &m)
			if !m.Verified {
				t.Errorf("not verified: %+v", m)
			}
			// Changing the address takes the verification away.
			e.call(t, "PATCH", path, p.veraT, map[string]any{"address": hook.srv.URL + "/other"}, 200).decode(t, &m)
			if m.Verified || !m.HasSecret {
				t.Errorf("after a new address: %+v", m)
			}
		})

		t.Run("notification rules", func(t *testing.T) {
			var rule struct {
				ID       int64    `json:"id"`
				MethodID int64    `json:"method_id"`
				Delay    int64    `json:"delay_seconds"`
				Levels   []string `json:"levels"`
			}
			e.call(t, "POST", vera+"/notification-rules", p.veraT, map[string]any{"method_id": mail.ID, "delay_seconds": 300, "levels": []string{"P0", "P1"}}, 201).decode(t, &rule)
			if rule.MethodID != mail.ID || rule.Delay != 300 || len(rule.Levels) != 2 {
				t.Errorf("rule %+v", rule)
			}
			e.fail(t, "POST", vera+"/notification-rules", p.veraT, map[string]any{"method_id": mail.ID, "levels": []string{"P9"}}, 400, "levels")
			e.fail(t, "POST", vera+"/notification-rules", p.veraT, map[string]any{"method_id": mail.ID, "delay_seconds": -1}, 400, "delay_seconds")
			e.fail(t, "POST", vera+"/notification-rules", p.veraT, map[string]any{"method_id": mail.ID, "delay_seconds": 90000}, 400, "delay_seconds")
			e.fail(t, "POST", rick+"/notification-rules", e.admin, map[string]any{"method_id": mail.ID}, 400, "method_id")
			e.fail(t, "POST", rick+"/notification-rules", p.veraT, map[string]any{"method_id": mail.ID}, 404, "")
			var rules apiPage[map[string]any]
			e.call(t, "GET", vera+"/notification-rules", p.veraT, nil, 200).decode(t, &rules)
			if len(rules.Items) != 1 {
				t.Errorf("rules %v", rules.Items)
			}
			e.fail(t, "DELETE", fmt.Sprintf("%s/notification-rules/%d", vera, rule.ID), p.rickT, nil, 404, "")
			e.call(t, "DELETE", fmt.Sprintf("%s/notification-rules/%d", vera, rule.ID), p.veraT, nil, 204)
			e.fail(t, "DELETE", fmt.Sprintf("%s/notification-rules/%d", vera, rule.ID), p.veraT, nil, 404, "")
		})

		t.Run("phone and chat ids", func(t *testing.T) {
			var d struct {
				Phone   string            `json:"phone"`
				ChatIDs map[string]string `json:"chat_ids"`
			}
			e.call(t, "GET", vera+"/contact-details", p.veraT, nil, 200).decode(t, &d)
			if d.Phone != "" || len(d.ChatIDs) != 0 {
				t.Errorf("fresh details %+v", d)
			}
			e.call(t, "PATCH", vera+"/contact-details", p.veraT, map[string]any{"phone": "+86 138 0000 0009", "chat_ids": map[string]string{"dingtalk": "vera01"}}, 200).decode(t, &d)
			if d.Phone != "+8613800000009" || d.ChatIDs["dingtalk"] != "vera01" {
				t.Errorf("details %+v", d)
			}
			e.fail(t, "PATCH", vera+"/contact-details", p.veraT, map[string]any{"phone": "call me", "chat_ids": map[string]string{"slack": "U1"}}, 400, "phone")
			e.fail(t, "PATCH", vera+"/contact-details", p.veraT, map[string]any{"chat_ids": map[string]string{"dingtalk": strings.Repeat("x", 200)}}, 400, "chat_ids.dingtalk")
			e.fail(t, "PATCH", vera+"/contact-details", p.veraT, map[string]any{"chat_ids": map[string]string{"icq": "1"}}, 400, "icq")
			e.fail(t, "GET", rick+"/contact-details", p.veraT, nil, 404, "")
			e.call(t, "GET", vera+"/contact-details", p.veraT, nil, 200).decode(t, &d)
			if d.Phone != "+8613800000009" || d.ChatIDs["dingtalk"] != "vera01" || d.ChatIDs["slack"] != "" {
				t.Errorf("refused changes were stored: %+v", d)
			}
			e.call(t, "PATCH", vera+"/contact-details", e.admin, map[string]any{"phone": ""}, 200).decode(t, &d)
			if d.Phone != "" || d.ChatIDs["dingtalk"] != "vera01" {
				t.Errorf("clearing the phone: %+v", d)
			}
		})

		t.Run("plan methods", func(t *testing.T) {
			var list apiPage[apiMethod]
			e.call(t, "GET", fmt.Sprintf("/api/v1/users/%d/contact-methods", p.ops1), e.admin, nil, 200).decode(t, &list)
			if len(list.Items) == 0 || list.Items[0].Source != "plan" || !list.Items[0].Verified {
				t.Fatalf("ops1's methods from the plan: %+v", list.Items)
			}
			path := fmt.Sprintf("/api/v1/contact-methods/%d", list.Items[0].ID)
			e.fail(t, "DELETE", path, e.admin, nil, 409, "")
			e.fail(t, "PATCH", path, e.admin, map[string]any{"address": "elsewhere@example.com"}, 409, "")
			var m apiMethod
			e.call(t, "PATCH", path, e.admin, map[string]any{"disabled": true, "name": "Plan mail"}, 200).decode(t, &m)
			if !m.Disabled || m.Name != "Plan mail" || m.Address != "ops1@example.com" {
				t.Errorf("plan method after PATCH %+v", m)
			}
		})

		t.Run("personal calendar feed", func(t *testing.T) {
			var feed struct {
				URL string `json:"url"`
			}
			e.call(t, "GET", fmt.Sprintf("/api/v1/users/%d/ical", p.ops1), e.admin, nil, 200).decode(t, &feed)
			if !strings.HasPrefix(feed.URL, e.base+"/ical/users/") || !strings.HasSuffix(feed.URL, ".ics") {
				t.Fatalf("feed url %q", feed.URL)
			}
			path := strings.TrimPrefix(feed.URL, e.base)
			r := e.do(t, "GET", path, "", nil)
			if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/calendar") ||
				!strings.Contains(string(r.body), "BEGIN:VCALENDAR") || !strings.Contains(string(r.body), "BEGIN:VEVENT") {
				t.Fatalf("feed: %d %s\n%.300s", r.status, r.header.Get("Content-Type"), r.body)
			}
			e.fail(t, "GET", fmt.Sprintf("/api/v1/users/%d/ical", p.ops1), p.veraT, nil, 404, "")
			var again struct{ URL string }
			e.call(t, "GET", fmt.Sprintf("/api/v1/users/%d/ical", p.ops1), e.admin, nil, 200).decode(t, &again)
			if again.URL != feed.URL {
				t.Error("the feed address changed without rotating")
			}
			e.call(t, "POST", fmt.Sprintf("/api/v1/users/%d/ical/rotate", p.ops1), e.admin, nil, 200).decode(t, &again)
			if again.URL == feed.URL {
				t.Error("rotating kept the address")
			}
			for _, gone := range []string{path, "/ical/users/" + strings.Repeat("0", 32) + ".ics", "/ical/users/nope.ics"} {
				if r := e.do(t, "GET", gone, "", nil); r.status != 404 {
					t.Errorf("GET %s: %d, want 404", gone, r.status)
				}
			}
			if r := e.do(t, "GET", strings.TrimPrefix(again.URL, e.base), "", nil); r.status != 200 {
				t.Errorf("new feed: %d", r.status)
			}
		})

		t.Run("shifts", func(t *testing.T) {
			var shifts apiPage[struct {
				ScheduleSlug string `json:"schedule_slug"`
				UserID       int64  `json:"user_id"`
				Start, End   string
			}]
			e.call(t, "GET", fmt.Sprintf("/api/v1/users/%d/shifts", p.ops1), p.veraT, nil, 200).decode(t, &shifts)
			if len(shifts.Items) == 0 {
				t.Fatal("ops1 has no shifts in 30 days of the default plan's weekly rotation")
			}
			for _, s := range shifts.Items {
				if s.UserID != p.ops1 {
					t.Errorf("someone else's shift: %+v", s)
				}
			}
			e.call(t, "GET", "/api/v1/me/shifts", p.veraT, nil, 200).decode(t, &shifts)
			if len(shifts.Items) != 0 {
				t.Errorf("vera is in no schedule: %+v", shifts.Items)
			}
			e.fail(t, "GET", "/api/v1/me/shifts?from=yesterday", p.veraT, nil, 400, "from")
			e.fail(t, "GET", "/api/v1/me/shifts?from=2026-05-02T00:00:00Z&to=2026-05-01T00:00:00Z", p.veraT, nil, 400, "to")
			e.fail(t, "GET", "/api/v1/me/shifts?from=2026-01-01T00:00:00Z&to=2028-01-01T00:00:00Z", p.veraT, nil, 400, "to")
			e.fail(t, "GET", "/api/v1/users/999999/shifts", p.veraT, nil, 404, "")
		})

		t.Run("delete", func(t *testing.T) {
			path := fmt.Sprintf("/api/v1/contact-methods/%d", mail.ID)
			e.fail(t, "DELETE", path, p.rickT, nil, 404, "")
			e.call(t, "DELETE", path, p.veraT, nil, 204)
			e.fail(t, "DELETE", path, p.veraT, nil, 404, "")
			e.fail(t, "GET", path, p.veraT, nil, 404, "")
		})
	})
}

type apiTeam struct {
	ID      int64  `json:"id"`
	Slug    string `json:"slug"`
	Name    string `json:"name"`
	Members []struct {
		UserID int64  `json:"user_id"`
		Role   string `json:"role"`
	} `json:"members"`
}

type apiChannel struct {
	ID        int64  `json:"id"`
	Slug      string `json:"slug"`
	Name      string `json:"name"`
	Kind      string `json:"kind"`
	HasSecret bool   `json:"has_secret"`
	TeamID    int64  `json:"team_id"`
	Source    string `json:"source"`
}

func TestAPIOnCallTeamsChannels(t *testing.T) {
	t.Parallel()
	apiEachDB(t, func(t *testing.T, e *apiEnv) {
		p := newOnCallPeople(t, e)
		var team apiTeam
		r := e.call(t, "POST", "/api/v1/teams", e.admin, map[string]any{"slug": "dba", "name": "Database team"}, 201)
		r.decode(t, &team)
		if r.header.Get("Location") != fmt.Sprintf("/api/v1/teams/%d", team.ID) || len(team.Members) != 0 {
			t.Errorf("created %+v at %q", team, r.header.Get("Location"))
		}
		e.fail(t, "POST", "/api/v1/teams", p.rickT, map[string]any{"slug": "x"}, 403, "")
		e.fail(t, "POST", "/api/v1/teams", e.admin, map[string]any{"slug": "Bad Slug"}, 400, "slug")
		e.fail(t, "POST", "/api/v1/teams", e.admin, map[string]any{"slug": "dba"}, 400, "slug")
		path := fmt.Sprintf("/api/v1/teams/%d", team.ID)

		// Members.
		e.call(t, "PUT", path+"/members", e.admin, map[string]any{"members": []map[string]any{{"user_id": p.rick, "role": "lead"}, {"user_id": p.vera}}}, 200).decode(t, &team)
		if len(team.Members) != 2 || team.Members[0].UserID != p.rick || team.Members[0].Role != "lead" || team.Members[1].Role != "member" {
			t.Errorf("members %+v", team.Members)
		}
		e.fail(t, "PUT", path+"/members", e.admin, map[string]any{"members": []map[string]any{{"user_id": p.rick}, {"user_id": p.rick}}}, 400, "members[1].user_id")
		e.fail(t, "PUT", path+"/members", e.admin, map[string]any{"members": []map[string]any{{"user_id": 999999}}}, 400, "members[0].user_id")
		e.fail(t, "PUT", path+"/members", e.admin, map[string]any{"members": []map[string]any{{"user_id": p.rick, "role": "boss"}}}, 400, "members[0].role")
		e.fail(t, "PUT", path+"/members", e.admin, map[string]any{}, 400, "members")
		e.fail(t, "PUT", path+"/members", p.veraT, map[string]any{"members": []any{}}, 403, "")
		e.call(t, "GET", path, p.veraT, nil, 200).decode(t, &team)
		if len(team.Members) != 2 {
			t.Errorf("refused member lists changed the team: %+v", team.Members)
		}
		e.call(t, "POST", path+"/members", e.admin, map[string]any{"user_id": p.nina}, 200).decode(t, &team)
		if len(team.Members) != 3 {
			t.Errorf("after adding nina: %+v", team.Members)
		}
		e.fail(t, "POST", path+"/members", e.admin, map[string]any{"user_id": 0}, 400, "user_id")
		e.call(t, "DELETE", fmt.Sprintf("%s/members/%d", path, p.nina), e.admin, nil, 204)
		e.fail(t, "DELETE", fmt.Sprintf("%s/members/%d", path, p.nina), e.admin, nil, 404, "")
		e.fail(t, "POST", "/api/v1/teams/999999/members", e.admin, map[string]any{"user_id": p.nina}, 404, "")

		e.call(t, "PATCH", path, e.admin, map[string]any{"name": "Databases"}, 200).decode(t, &team)
		if team.Name != "Databases" || team.Slug != "dba" {
			t.Errorf("after PATCH %+v", team)
		}
		e.fail(t, "PATCH", path, p.rickT, map[string]any{"name": "x"}, 403, "")
		var teams apiPage[apiTeam]
		e.call(t, "GET", "/api/v1/teams", p.veraT, nil, 200).decode(t, &teams)
		if len(teams.Items) != 1 || teams.Items[0].Name != "Databases" {
			t.Errorf("teams %+v", teams.Items)
		}

		// Channels.
		var ch apiChannel
		e.call(t, "POST", "/api/v1/channels", e.admin, map[string]any{"slug": "dba-ding", "name": "DBA group", "kind": "dingtalk",
			"address": "https://oapi.dingtalk.com/robot/send?access_token=abc", "secret": "SECabcdef", "team_id": team.ID}, 201).decode(t, &ch)
		if !ch.HasSecret || ch.TeamID != team.ID || ch.Kind != "dingtalk" {
			t.Errorf("channel %+v", ch)
		}
		if r := e.call(t, "GET", fmt.Sprintf("/api/v1/channels/%d", ch.ID), e.admin, nil, 200); strings.Contains(string(r.body), "SECabcdef") {
			t.Error("the channel's secret is shown")
		}
		e.fail(t, "POST", "/api/v1/channels", e.admin, map[string]any{"slug": "sms", "kind": "sms", "address": "+8613800000001"}, 400, "kind")
		e.fail(t, "POST", "/api/v1/channels", e.admin, map[string]any{"slug": "dba-ding", "kind": "slack", "address": "https://hooks.slack.com/x"}, 400, "slug")
		e.fail(t, "POST", "/api/v1/channels", e.admin, map[string]any{"slug": "x", "kind": "slack", "address": "https://hooks.slack.com/x", "team_id": 999999}, 400, "team_id")
		e.fail(t, "GET", "/api/v1/channels", p.rickT, nil, 403, "")
		e.fail(t, "POST", "/api/v1/channels", p.rickT, map[string]any{"slug": "y", "kind": "slack", "address": "https://hooks.slack.com/y"}, 403, "")
		chPath := fmt.Sprintf("/api/v1/channels/%d", ch.ID)
		ch = apiChannel{}
		e.call(t, "PATCH", chPath, e.admin, map[string]any{"name": "DBA on-call group", "team_id": 0}, 200).decode(t, &ch)
		if ch.Name != "DBA on-call group" || !ch.HasSecret || ch.TeamID != 0 {
			t.Errorf("after PATCH %+v", ch)
		}
		e.call(t, "PATCH", chPath, e.admin, map[string]any{"clear_secret": true}, 200).decode(t, &ch)
		if ch.HasSecret {
			t.Error("secret not cleared")
		}
		var chans apiPage[apiChannel]
		e.call(t, "GET", "/api/v1/channels", e.admin, nil, 200).decode(t, &chans)
		var plan *apiChannel
		for i, c := range chans.Items {
			if c.Source == "plan" {
				plan = &chans.Items[i]
			}
		}
		if plan == nil {
			t.Fatalf("no channel from the plan's contacts: %+v", chans.Items)
		}
		e.fail(t, "PATCH", fmt.Sprintf("/api/v1/channels/%d", plan.ID), e.admin, map[string]any{"name": "mine now"}, 409, "")
		e.fail(t, "DELETE", fmt.Sprintf("/api/v1/channels/%d", plan.ID), e.admin, nil, 409, "")

		// What escalation policies page cannot vanish or be renamed under them.
		var pol struct{ ID int64 }
		e.call(t, "POST", "/api/v1/escalation-policies", e.admin, map[string]any{"slug": "db", "steps": []map[string]any{
			{"after": "0m", "targets": []map[string]string{{"kind": "team", "id": "dba"}, {"kind": "channel", "id": "dba-ding"}}}}}, 201).decode(t, &pol)
		e.fail(t, "DELETE", path, e.admin, nil, 409, "")
		e.fail(t, "PATCH", path, e.admin, map[string]any{"slug": "dbas"}, 409, "slug")
		e.fail(t, "DELETE", chPath, e.admin, nil, 409, "")
		e.fail(t, "PATCH", chPath, e.admin, map[string]any{"slug": "other"}, 409, "slug")
		e.call(t, "DELETE", fmt.Sprintf("/api/v1/escalation-policies/%d", pol.ID), e.admin, nil, 204)
		e.fail(t, "DELETE", chPath, p.rickT, nil, 403, "")
		e.call(t, "DELETE", chPath, e.admin, nil, 204)
		e.fail(t, "DELETE", chPath, e.admin, nil, 404, "")
		e.fail(t, "DELETE", path, p.rickT, nil, 403, "")
		e.call(t, "DELETE", path, e.admin, nil, 204)
		e.fail(t, "GET", path, e.admin, nil, 404, "")
	})
}

type apiShift struct {
	ScheduleID int64  `json:"schedule_id"`
	UserID     int64  `json:"user_id"`
	Start      string `json:"start"`
	End        string `json:"end"`
}

type apiSchedule struct {
	ID        int64  `json:"id"`
	Slug      string `json:"slug"`
	Source    string `json:"source"`
	TimeZone  string `json:"time_zone"`
	OnCallNow []struct {
		UserID int64  `json:"user_id"`
		Until  string `json:"until"`
	} `json:"on_call_now"`
	Layers []struct {
		Members            []int64 `json:"members"`
		ShiftLengthSeconds int64   `json:"shift_length_seconds"`
	} `json:"layers"`
}

// dailyRotation is a schedule body handing over daily at midnight UTC among members.
func dailyRotation(slug string, members ...int64) map[string]any {
	start := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -7)
	return map[string]any{"slug": slug, "name": "Rotation " + slug, "time_zone": "UTC", "layers": []map[string]any{
		{"name": "daily", "start": start.Format(time.RFC3339), "shift_length_seconds": 86400, "members": members}}}
}

func TestAPIOnCallSchedules(t *testing.T) {
	t.Parallel()
	apiEachDB(t, func(t *testing.T, e *apiEnv) {
		p := newOnCallPeople(t, e)
		var s apiSchedule
		r := e.call(t, "POST", "/api/v1/schedules", e.admin, dailyRotation("db-oncall", p.rick, p.vera), 201)
		r.decode(t, &s)
		if r.header.Get("Location") != fmt.Sprintf("/api/v1/schedules/%d", s.ID) || len(s.OnCallNow) != 1 || s.Layers[0].ShiftLengthSeconds != 86400 || s.Source != "" {
			t.Fatalf("created %+v", s)
		}
		path := fmt.Sprintf("/api/v1/schedules/%d", s.ID)

		t.Run("bad schedules", func(t *testing.T) {
			before := e.count(t, "schedules")
			bad := func(mut func(b map[string]any), field string) {
				t.Helper()
				b := dailyRotation("db-bad", p.rick)
				mut(b)
				e.fail(t, "POST", "/api/v1/schedules", e.admin, b, 400, field)
			}
			layer := func(b map[string]any) map[string]any { return b["layers"].([]map[string]any)[0] }
			bad(func(b map[string]any) { layer(b)["members"] = []int64{p.rick, 999999} }, "layers[0].members[1]")
			bad(func(b map[string]any) { layer(b)["shift_length_seconds"] = 10 }, "layers[0].shift_length_seconds")
			bad(func(b map[string]any) { layer(b)["start"] = "next monday" }, "layers[0].start")
			bad(func(b map[string]any) {
				layer(b)["restrict"] = []map[string]any{{"days": []string{"mon"}, "from": "9am", "to": "18:00"}}
			}, "layers[0].restrict[0].from")
			bad(func(b map[string]any) { b["time_zone"] = "Mars/Olympus" }, "time_zone")
			bad(func(b map[string]any) { b["layers"] = []any{} }, "layers")
			bad(func(b map[string]any) { b["slug"] = "db-oncall" }, "slug")
			bad(func(b map[string]any) { b["team_id"] = 999999 }, "team_id")
			bad(func(b map[string]any) { b["owner"] = "me" }, "owner")
			e.fail(t, "POST", "/api/v1/schedules", p.rickT, dailyRotation("db-x", p.rick), 403, "")
			if after := e.count(t, "schedules"); after != before {
				t.Errorf("refused schedules were stored: %d", after-before)
			}
		})

		t.Run("read", func(t *testing.T) {
			var list apiPage[apiSchedule]
			e.call(t, "GET", "/api/v1/schedules", p.veraT, nil, 200).decode(t, &list)
			if len(list.Items) != 4 { // the plan's three and ours
				t.Errorf("%d schedules", len(list.Items))
			}
			var oc struct {
				Users []struct {
					UserID int64  `json:"user_id"`
					Until  string `json:"until"`
				} `json:"users"`
			}
			// Rick is on call the first day, vera the second.
			start := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -7)
			e.call(t, "GET", path+"/on-call?at="+start.Add(time.Hour).Format(time.RFC3339), p.veraT, nil, 200).decode(t, &oc)
			if len(oc.Users) != 1 || oc.Users[0].UserID != p.rick || oc.Users[0].Until != start.Add(24*time.Hour).Format(time.RFC3339) {
				t.Errorf("on call at the start: %+v", oc)
			}
			e.call(t, "GET", path+"/on-call?at="+start.Add(25*time.Hour).Format(time.RFC3339), p.veraT, nil, 200).decode(t, &oc)
			if len(oc.Users) != 1 || oc.Users[0].UserID != p.vera {
				t.Errorf("on call on the second day: %+v", oc)
			}
			e.fail(t, "GET", path+"/on-call?at=soon", p.veraT, nil, 400, "at")
			e.fail(t, "GET", "/api/v1/schedules/999999/on-call", p.veraT, nil, 404, "")
			var shifts apiPage[apiShift]
			e.call(t, "GET", path+"/shifts", p.veraT, nil, 200).decode(t, &shifts)
			if len(shifts.Items) < 14 || len(shifts.Items) > 15 {
				t.Errorf("%d shifts in two weeks of daily hand-offs", len(shifts.Items))
			}
			e.fail(t, "GET", path+"/shifts?to=tomorrow", p.veraT, nil, 400, "to")
			e.fail(t, "GET", "/api/v1/schedules/999999", p.veraT, nil, 404, "")
		})

		nextShift := func(t *testing.T, who int64, skip int) apiShift {
			t.Helper()
			var shifts apiPage[apiShift]
			e.call(t, "GET", path+"/shifts?from="+time.Now().UTC().Add(48*time.Hour).Format(time.RFC3339), p.veraT, nil, 200).decode(t, &shifts)
			for _, sh := range shifts.Items {
				if sh.UserID == who {
					if skip == 0 {
						return sh
					}
					skip--
				}
			}
			t.Fatalf("no shift of %d", who)
			return apiShift{}
		}

		t.Run("overrides", func(t *testing.T) {
			from := time.Now().UTC().Add(24 * time.Hour).Truncate(time.Hour)
			var o struct {
				ID             int64  `json:"id"`
				Mode           string `json:"mode"`
				UserID         int64  `json:"user_id"`
				ReplacesUserID int64  `json:"replaces_user_id"`
				CreatedBy      int64  `json:"created_by"`
			}
			body := map[string]any{"mode": "add", "start": from.Format(time.RFC3339), "end": from.Add(2 * time.Hour).Format(time.RFC3339), "note": "extra hands"}
			e.call(t, "POST", path+"/overrides", p.rickT, body, 201).decode(t, &o)
			if o.UserID != p.rick || o.CreatedBy != p.rick || o.Mode != "add" {
				t.Errorf("override %+v", o)
			}
			e.fail(t, "POST", path+"/overrides", p.veraT, body, 403, "")
			for _, c := range []struct {
				change map[string]any
				field  string
			}{
				{map[string]any{"mode": "sometimes"}, "mode"},
				{map[string]any{"end": from.Add(-time.Hour).Format(time.RFC3339)}, "end"},
				{map[string]any{"start": "now"}, "start"},
				{map[string]any{"end": from.AddDate(0, 0, 100).Format(time.RFC3339)}, "end"},
				{map[string]any{"mode": "replace"}, "replaces_user_id"},
				{map[string]any{"user_id": 999999}, "user_id"},
			} {
				b := map[string]any{}
				for k, v := range body {
					b[k] = v
				}
				for k, v := range c.change {
					b[k] = v
				}
				e.fail(t, "POST", path+"/overrides", p.rickT, b, 400, c.field)
			}
			var list apiPage[map[string]any]
			e.call(t, "GET", path+"/overrides", p.veraT, nil, 200).decode(t, &list)
			if len(list.Items) != 1 {
				t.Errorf("overrides %v", list.Items)
			}
			e.call(t, "GET", path+"/overrides?from="+from.Add(3*time.Hour).Format(time.RFC3339), p.veraT, nil, 200).decode(t, &list)
			if len(list.Items) != 0 {
				t.Errorf("overrides after it ended: %v", list.Items)
			}
			e.fail(t, "GET", path+"/overrides?to=x", p.veraT, nil, 400, "to")
			e.fail(t, "DELETE", fmt.Sprintf("%s/overrides/%d", path, o.ID), p.veraT, nil, 403, "")
			e.call(t, "DELETE", fmt.Sprintf("%s/overrides/%d", path, o.ID), p.rickT, nil, 204)
			e.fail(t, "DELETE", fmt.Sprintf("%s/overrides/%d", path, o.ID), p.rickT, nil, 404, "")

			// Take one of vera's shifts.
			sh := nextShift(t, p.vera, 0)
			var took struct {
				Mode           string `json:"mode"`
				UserID         int64  `json:"user_id"`
				ReplacesUserID int64  `json:"replaces_user_id"`
			}
			e.call(t, "POST", path+"/take-shift", p.rickT, map[string]any{"shift": map[string]any{"user_id": p.vera, "start": sh.Start, "end": sh.End}}, 201).decode(t, &took)
			if took.Mode != "replace" || took.UserID != p.rick || took.ReplacesUserID != p.vera {
				t.Errorf("took %+v", took)
			}
			var oc struct {
				Users []struct {
					UserID int64 `json:"user_id"`
				} `json:"users"`
			}
			e.call(t, "GET", path+"/on-call?at="+sh.Start, p.veraT, nil, 200).decode(t, &oc)
			if len(oc.Users) != 1 || oc.Users[0].UserID != p.rick {
				t.Errorf("after taking vera's shift: %+v", oc)
			}
			other := nextShift(t, p.rick, 0)
			e.fail(t, "POST", path+"/take-shift", p.rickT, map[string]any{"shift": map[string]any{"user_id": p.vera, "start": other.Start, "end": other.End}}, 400, "shift")
			e.fail(t, "POST", path+"/take-shift", p.rickT, map[string]any{"shift": map[string]any{"start": other.Start, "end": other.End}}, 400, "shift.user_id")
			e.fail(t, "POST", path+"/take-shift", p.veraT, map[string]any{"shift": map[string]any{"user_id": p.rick, "start": other.Start, "end": other.End}}, 403, "")

			// Cover a whole day alone.
			day := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, 10)
			var cover struct{ Mode string }
			e.call(t, "POST", path+"/cover", e.admin, map[string]any{"user_id": p.nina, "start": day.Format(time.RFC3339), "end": day.Add(24 * time.Hour).Format(time.RFC3339), "note": "holiday"}, 201).decode(t, &cover)
			e.call(t, "GET", path+"/on-call?at="+day.Add(time.Hour).Format(time.RFC3339), p.veraT, nil, 200).decode(t, &oc)
			if cover.Mode != "all" || len(oc.Users) != 1 || oc.Users[0].UserID != p.nina {
				t.Errorf("covering: %+v %+v", cover, oc)
			}
			e.fail(t, "POST", path+"/cover", p.rickT, map[string]any{"start": day.Format(time.RFC3339)}, 400, "end")

			// Swap a later shift of each.
			a, b := nextShift(t, p.rick, 3), nextShift(t, p.vera, 3)
			var swapped apiPage[struct {
				UserID         int64 `json:"user_id"`
				ReplacesUserID int64 `json:"replaces_user_id"`
			}]
			e.call(t, "POST", "/api/v1/shift-swaps", p.rickT, map[string]any{
				"a": map[string]any{"schedule_id": s.ID, "user_id": p.rick, "start": a.Start, "end": a.End},
				"b": map[string]any{"schedule_id": s.ID, "user_id": p.vera, "start": b.Start, "end": b.End}, "note": "dentist"}, 201).decode(t, &swapped)
			if len(swapped.Items) != 2 || swapped.Items[0].UserID != p.vera || swapped.Items[1].UserID != p.rick {
				t.Errorf("swap %+v", swapped.Items)
			}
			e.fail(t, "POST", "/api/v1/shift-swaps", p.rickT, map[string]any{
				"a": map[string]any{"schedule_id": s.ID, "user_id": p.rick, "start": a.Start, "end": a.End},
				"b": map[string]any{"schedule_id": s.ID, "user_id": p.rick, "start": b.Start, "end": b.End}}, 400, "b.user_id")
			e.fail(t, "POST", "/api/v1/shift-swaps", p.rickT, map[string]any{
				"a": map[string]any{"user_id": p.rick, "start": a.Start, "end": a.End},
				"b": map[string]any{"schedule_id": s.ID, "user_id": p.vera, "start": b.Start, "end": b.End}}, 400, "a.schedule_id")
		})

		t.Run("calendar feeds", func(t *testing.T) {
			var feed struct{ URL string }
			e.call(t, "GET", path+"/ical", p.veraT, nil, 200).decode(t, &feed) // a member
			e.fail(t, "GET", path+"/ical", p.ninaT, nil, 404, "")
			r := e.do(t, "GET", strings.TrimPrefix(feed.URL, e.base), "", nil)
			if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/calendar") || !strings.Contains(string(r.body), "SUMMARY:On call: rick") {
				t.Fatalf("schedule feed: %d %.400s", r.status, r.body)
			}
			var rotated struct{ URL string }
			e.fail(t, "POST", path+"/ical/rotate", p.rickT, nil, 403, "")
			e.call(t, "POST", path+"/ical/rotate", e.admin, nil, 200).decode(t, &rotated)
			if r := e.do(t, "GET", strings.TrimPrefix(feed.URL, e.base), "", nil); r.status != 404 || rotated.URL == feed.URL {
				t.Errorf("old feed after rotating: %d", r.status)
			}
		})

		t.Run("change and delete", func(t *testing.T) {
			var got apiSchedule
			body := dailyRotation("db-oncall", p.vera, p.rick)
			body["time_zone"] = "Asia/Shanghai"
			e.call(t, "PUT", path, e.admin, body, 200).decode(t, &got)
			if got.TimeZone != "Asia/Shanghai" || got.Layers[0].Members[0] != p.vera {
				t.Errorf("after PUT %+v", got)
			}
			e.fail(t, "PUT", path, p.rickT, body, 403, "")
			body["layers"] = []any{}
			e.fail(t, "PUT", path, e.admin, body, 400, "layers")
			var list apiPage[apiSchedule]
			e.call(t, "GET", "/api/v1/schedules", p.veraT, nil, 200).decode(t, &list)
			for _, s := range list.Items {
				if s.Source == "plan" {
					e.fail(t, "PUT", fmt.Sprintf("/api/v1/schedules/%d", s.ID), e.admin, dailyRotation(s.Slug, p.rick), 409, "")
					e.fail(t, "DELETE", fmt.Sprintf("/api/v1/schedules/%d", s.ID), e.admin, nil, 409, "")
					break
				}
			}
			var pol struct{ ID int64 }
			e.call(t, "POST", "/api/v1/escalation-policies", e.admin, map[string]any{"slug": "db", "steps": []map[string]any{
				{"targets": []map[string]string{{"kind": "schedule", "id": "db-oncall"}}}}}, 201).decode(t, &pol)
			e.fail(t, "DELETE", path, e.admin, nil, 409, "")
			e.fail(t, "PUT", path, e.admin, dailyRotation("renamed", p.rick), 409, "slug")
			e.call(t, "DELETE", fmt.Sprintf("/api/v1/escalation-policies/%d", pol.ID), e.admin, nil, 204)
			e.fail(t, "DELETE", path, p.rickT, nil, 403, "")
			e.call(t, "DELETE", path, e.admin, nil, 204)
			e.fail(t, "GET", path, e.admin, nil, 404, "")
		})
	})
}

func TestAPIEscalationPolicies(t *testing.T) {
	t.Parallel()
	apiEachDB(t, func(t *testing.T, e *apiEnv) {
		p := newOnCallPeople(t, e)
		type apiPolicy struct {
			ID         int64  `json:"id"`
			Slug       string `json:"slug"`
			Repeat     int    `json:"repeat"`
			AckTimeout string `json:"ack_timeout"`
			Source     string `json:"source"`
			Steps      []struct {
				After   string `json:"after"`
				Targets []struct{ Kind, ID string }
			} `json:"steps"`
		}
		body := map[string]any{"slug": "payments", "name": "Payments", "repeat": 1, "ack_timeout": "30m", "steps": []map[string]any{
			{"after": "0m", "targets": []map[string]string{{"kind": "schedule", "id": "primary-oncall"}, {"kind": "user", "id": "rick"}}},
			{"after": 600, "targets": []map[string]string{{"kind": "user", "id": "sre-lead"}}}}}
		var pol apiPolicy
		e.call(t, "POST", "/api/v1/escalation-policies", e.admin, body, 201).decode(t, &pol)
		if pol.Slug != "payments" || pol.AckTimeout != "30m0s" || len(pol.Steps) != 2 || pol.Steps[1].After != "10m0s" || pol.Steps[0].Targets[1].ID != "rick" {
			t.Fatalf("created %+v", pol)
		}
		path := fmt.Sprintf("/api/v1/escalation-policies/%d", pol.ID)
		e.fail(t, "POST", "/api/v1/escalation-policies", p.rickT, body, 403, "")
		before := e.count(t, "escalation_policies")
		for _, c := range []struct {
			body  map[string]any
			field string
		}{
			{map[string]any{"slug": "x", "steps": []any{}}, "steps"},
			{map[string]any{"slug": "x", "steps": []map[string]any{{"targets": []map[string]string{{"kind": "user", "id": "nobody"}}}}}, "steps[0].targets[0].id"},
			{map[string]any{"slug": "x", "steps": []map[string]any{{"targets": []map[string]string{{"kind": "user", "id": "rick"}, {"kind": "robot", "id": "r2"}}}}}, "steps[0].targets[1].kind"},
			{map[string]any{"slug": "x", "steps": []map[string]any{{"after": "soon", "targets": []map[string]string{{"kind": "user", "id": "rick"}}}}}, "steps[0].after"},
			{map[string]any{"slug": "x", "steps": []map[string]any{{"after": "10m", "targets": []map[string]string{{"kind": "user", "id": "rick"}}},
				{"after": "5m", "targets": []map[string]string{{"kind": "user", "id": "rick"}}}}}, "steps[1].after"},
			{map[string]any{"slug": "x", "ack_timeout": "later", "steps": []map[string]any{{"targets": []map[string]string{{"kind": "user", "id": "rick"}}}}}, "ack_timeout"},
			{map[string]any{"slug": "x", "repeat": 50, "steps": []map[string]any{{"targets": []map[string]string{{"kind": "user", "id": "rick"}}}}}, "repeat"},
			{map[string]any{"slug": "X Y", "steps": []map[string]any{{"targets": []map[string]string{{"kind": "user", "id": "rick"}}}}}, "slug"},
			{map[string]any{"slug": "payments", "steps": []map[string]any{{"targets": []map[string]string{{"kind": "user", "id": "rick"}}}}}, "slug"},
			{map[string]any{"slug": "x", "steps": []map[string]any{{"targets": []map[string]string{{"kind": "user", "id": "rick", "name": "Rick"}}}}}, "name"},
		} {
			e.fail(t, "POST", "/api/v1/escalation-policies", e.admin, c.body, 400, c.field)
		}
		if after := e.count(t, "escalation_policies"); after != before {
			t.Errorf("refused policies were stored: %d", after-before)
		}

		var list apiPage[apiPolicy]
		e.call(t, "GET", "/api/v1/escalation-policies", p.veraT, nil, 200).decode(t, &list)
		var plan *apiPolicy
		for i, x := range list.Items {
			if x.Source == "plan" && plan == nil {
				plan = &list.Items[i]
			}
		}
		if plan == nil || len(list.Items) < 2 {
			t.Fatalf("policies %+v", list.Items)
		}
		e.fail(t, "PUT", fmt.Sprintf("/api/v1/escalation-policies/%d", plan.ID), e.admin, body, 409, "")
		e.fail(t, "DELETE", fmt.Sprintf("/api/v1/escalation-policies/%d", plan.ID), e.admin, nil, 409, "")
		body["repeat"] = 0
		body["steps"] = []map[string]any{{"after": "0m", "targets": []map[string]string{{"kind": "team", "id": "nope"}}}}
		e.fail(t, "PUT", path, e.admin, body, 400, "steps[0].targets[0].id")
		body["steps"] = []map[string]any{{"after": "0m", "targets": []map[string]string{{"kind": "user", "id": "vera"}}}}
		e.call(t, "PUT", path, e.admin, body, 200).decode(t, &pol)
		if pol.Repeat != 0 || len(pol.Steps) != 1 || pol.Steps[0].Targets[0].ID != "vera" {
			t.Errorf("after PUT %+v", pol)
		}
		e.fail(t, "PUT", path, p.rickT, body, 403, "")
		e.call(t, "GET", path, p.veraT, nil, 200)

		// A service chooses it.
		sv := e.createService(t, "payments")
		svPath := fmt.Sprintf("/api/v1/services/%d", sv.ID)
		var got struct {
			EscalationPolicyID int64 `json:"escalation_policy_id"`
		}
		e.call(t, "PATCH", svPath, e.admin, map[string]any{"name": "payments", "escalation_policy_id": pol.ID}, 200).decode(t, &got)
		if got.EscalationPolicyID != pol.ID {
			t.Errorf("service policy %d, want %d", got.EscalationPolicyID, pol.ID)
		}
		e.fail(t, "PATCH", svPath, e.admin, map[string]any{"name": "payments", "escalation_policy_id": 999999}, 400, "escalation_policy_id")
		e.call(t, "PATCH", svPath, e.admin, map[string]any{"name": "payments"}, 200).decode(t, &got)
		if got.EscalationPolicyID != pol.ID {
			t.Error("an absent escalation_policy_id cleared it")
		}
		e.fail(t, "POST", "/api/v1/services", e.admin, map[string]any{"name": "ledger", "escalation_policy_id": -3}, 400, "escalation_policy_id")

		e.fail(t, "DELETE", path, p.rickT, nil, 403, "")
		e.call(t, "DELETE", path, e.admin, nil, 204)
		e.fail(t, "GET", path, e.admin, nil, 404, "")
		got.EscalationPolicyID = 0
		e.call(t, "GET", svPath, e.admin, nil, 200).decode(t, &got)
		if got.EscalationPolicyID != 0 {
			t.Errorf("the service still names a deleted policy: %d", got.EscalationPolicyID)
		}
	})
}
