package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/firebreak/firebreak/internal/auth"
	"github.com/firebreak/firebreak/internal/i18n"
	"github.com/firebreak/firebreak/internal/oncall"
)

// location returns the path a redirect points to and the id after prefix.
func location(t *testing.T, resp *http.Response, prefix string) (string, int64) {
	t.Helper()
	loc := resp.Header.Get("Location")
	m := regexp.MustCompile(`^` + regexp.QuoteMeta(prefix) + `(\d+)`).FindStringSubmatch(loc)
	if m == nil {
		t.Fatalf("redirected to %q, want %s<id>", loc, prefix)
	}
	id, _ := strconv.ParseInt(m[1], 10, 64)
	return loc, id
}

// noRawKeys fails when a page shows a catalogue key instead of its text.
func noRawKeys(t *testing.T, path, body string) {
	t.Helper()
	for _, k := range i18n.Keys() {
		if strings.Contains(body, ">"+k+"<") || strings.Contains(body, `"`+k+`"`) {
			t.Errorf("%s shows the raw key %q", path, k)
		}
	}
}

func TestUIOnCall(t *testing.T) {
	eachDatabase(t, func(t *testing.T, databaseURL string) {
		in, base := startInstance(t, databaseURL)
		ctx := t.Context()
		users := map[string]auth.User{}
		for _, u := range []auth.NewUser{
			{Username: "vera", DisplayName: "Vera Viewer", Role: auth.Viewer, Password: "viewer-password-123"},
			{Username: "rick", DisplayName: "Rick Responder", Role: auth.Responder, Password: "responder-password-123"},
		} {
			usr, err := in.Web.Auth.CreateUser(ctx, u)
			if err != nil {
				t.Fatal(err)
			}
			users[u.Username] = usr
		}
		vera, rick := users["vera"], users["rick"]
		admin := newBrowser(t, base)
		admin.login("admin", adminPassword)
		viewer := newBrowser(t, base)
		viewer.login("vera", "viewer-password-123")
		responder := newBrowser(t, base)
		responder.login("rick", "responder-password-123")
		veraPage := "/people/" + strconv.FormatInt(vera.ID, 10)

		t.Run("contact methods", func(t *testing.T) {
			b := viewer
			resp, body := b.get("/me")
			b.expect(resp, body, http.StatusOK, "")
			mustContain(t, body, "My on-call", `id="no-methods"`, "Nobody can page you yet", `aria-current="page"`, "/ical/users/")
			resp, body = b.get(veraPage)
			b.expect(resp, body, http.StatusOK, "")
			mustContain(t, body, "Vera Viewer", `action="`+veraPage+`/contact-methods"`, "No contact methods yet.", `id="d-phone"`)

			resp, body = b.post(veraPage+"/contact-methods", url.Values{"kind": {"email"}, "address": {"not-a-mail"}, "name": {"Work"}})
			b.expect(resp, body, http.StatusUnprocessableEntity, "")
			mustContain(t, body, `id="m-address-err"`, "is not a valid mail address", `value="not-a-mail"`, `value="Work"`)
			resp, body = b.post(veraPage+"/contact-methods", url.Values{"kind": {"email"}, "address": {""}})
			b.expect(resp, body, http.StatusUnprocessableEntity, "")
			mustContain(t, body, "This field is required.")
			resp, body = b.post(veraPage+"/contact-methods", url.Values{"kind": {"email"}, "address": {"vera@example.com"}, "throttle_count": {"x"}})
			b.expect(resp, body, http.StatusUnprocessableEntity, "")
			mustContain(t, body, "Enter a whole number.", "<details class=\"more\" open>")

			hook := newCodeCatcher(t)
			resp, body = b.post(veraPage+"/contact-methods", url.Values{"kind": {"webhook"}, "address": {hook.srv.URL + "/vera"}, "secret": {"a-long-enough-secret"}, "name": {"Pager app"}})
			b.expect(resp, body, http.StatusSeeOther, "")
			loc, mid := location(t, resp, veraPage+"?done=method_added#method-")
			_, body = b.get(strings.Split(loc, "#")[0])
			mustContain(t, body, "Contact method added.", "Pager app", "not verified", "signing secret set", fmt.Sprintf(`id="method-%d"`, mid))
			mustNotContain(t, body, "a-long-enough-secret")

			mpath := fmt.Sprintf("%s/contact-methods/%d", veraPage, mid)
			resp, body = b.post(mpath+"/verify", url.Values{"code": {"123456"}})
			b.expect(resp, body, http.StatusUnprocessableEntity, "")
			mustContain(t, body, "No code is waiting: send a code first.")
			resp, body = b.post(mpath+"/verification", url.Values{})
			b.expect(resp, body, http.StatusSeeOther, veraPage+fmt.Sprintf("?done=code_sent#method-%d", mid))
			code := hook.code(t)
			resp, body = b.post(mpath+"/verification", url.Values{})
			b.expect(resp, body, http.StatusUnprocessableEntity, "")
			mustContain(t, body, "A code was sent less than 30 seconds ago")
			wrong := "000000"
			if code == wrong {
				wrong = "111111"
			}
			resp, body = b.post(mpath+"/verify", url.Values{"code": {wrong}})
			b.expect(resp, body, http.StatusUnprocessableEntity, "")
			mustContain(t, body, "That code is wrong.")
			resp, body = b.post(mpath+"/verify", url.Values{"code": {code}})
			b.expect(resp, body, http.StatusSeeOther, veraPage+fmt.Sprintf("?done=verified#method-%d", mid))
			_, body = b.get(veraPage + "?done=verified")
			mustContain(t, body, "Verified: pages can now reach you this way.", ">verified<", "Send a test code")
			_, body = b.get("/me")
			mustNotContain(t, body, `id="no-methods"`)

			// Rules.
			resp, body = b.post(veraPage+"/notification-rules", url.Values{"method_id": {strconv.FormatInt(mid, 10)}, "delay_minutes": {"-5"}})
			b.expect(resp, body, http.StatusUnprocessableEntity, "")
			mustContain(t, body, "Enter minutes from 0 to 1440.")
			resp, body = b.post(veraPage+"/notification-rules", url.Values{"method_id": {strconv.FormatInt(mid, 10)}, "delay_minutes": {"5"}, "levels": {"P0", "P1"}})
			b.expect(resp, body, http.StatusSeeOther, veraPage+"?done=rule_added#rules")
			_, body = b.get(veraPage)
			mustContain(t, body, "After 5 min by Pager app — P0, P1")
			rules, err := in.Web.Contacts.ListRules(ctx, vera.ID)
			if err != nil || len(rules) != 1 {
				t.Fatalf("rules %v %v", rules, err)
			}
			resp, body = b.post(fmt.Sprintf("%s/notification-rules/%d/delete", veraPage, rules[0].ID), url.Values{})
			b.expect(resp, body, http.StatusSeeOther, veraPage+"?done=rule_deleted#rules")

			// Phone and chat ids.
			resp, body = b.post(veraPage+"/contact-details", url.Values{"phone": {"call me"}, "chat_dingtalk": {"vera01"}})
			b.expect(resp, body, http.StatusUnprocessableEntity, "")
			mustContain(t, body, `value="call me"`, `value="vera01"`)
			resp, body = b.post(veraPage+"/contact-details", url.Values{"phone": {"+86 138 0000 0009"}, "chat_dingtalk": {"vera01"}})
			b.expect(resp, body, http.StatusSeeOther, veraPage+"?done=details_saved#details")
			_, body = b.get(veraPage)
			mustContain(t, body, `8613800000009"`, `value="vera01"`)

			// Disable, enable.
			resp, body = b.post(mpath+"/disabled", url.Values{"disabled": {"1"}})
			b.expect(resp, body, http.StatusSeeOther, "")
			if m, _ := in.Web.Contacts.Get(ctx, mid); !m.Disabled {
				t.Error("not disabled")
			}
			b.post(mpath+"/disabled", url.Values{"disabled": {"0"}})

			// Someone else's page: no forms, and posting is not found.
			_, body = responder.get(veraPage)
			mustContain(t, body, "Vera Viewer")
			mustNotContain(t, body, "Pager app", `action="`+veraPage+`/contact-methods"`, "vera01")
			resp, body = responder.post(mpath+"/delete", url.Values{})
			b.expect(resp, body, http.StatusNotFound, "")
			// An admin manages anyone's.
			_, body = admin.get(veraPage)
			mustContain(t, body, "Pager app")

			resp, body = b.post(mpath+"/delete", url.Values{})
			b.expect(resp, body, http.StatusSeeOther, veraPage+"?done=method_deleted#methods")
			if _, err := in.Web.Contacts.Get(ctx, mid); err == nil {
				t.Error("the method is still there")
			}

			// The personal calendar feed can be replaced.
			_, body = b.get("/me")
			feed := regexp.MustCompile(`/ical/users/[0-9a-f]{32}\.ics`).FindString(body)
			if feed == "" {
				t.Fatal("no feed address on /me")
			}
			resp, body = b.post(veraPage+"/ical/rotate", url.Values{})
			b.expect(resp, body, http.StatusSeeOther, veraPage+"?done=feed_rotated#feed")
			if resp, _ := b.get(feed); resp.StatusCode != http.StatusNotFound {
				t.Errorf("the old feed still answers %d", resp.StatusCode)
			}
		})

		t.Run("teams and channels", func(t *testing.T) {
			b := admin
			resp, body := b.post("/teams", url.Values{"slug": {"Bad Slug"}})
			b.expect(resp, body, http.StatusUnprocessableEntity, "")
			mustContain(t, body, `id="team-slug-err"`, `value="Bad Slug"`)
			resp, body = b.post("/teams", url.Values{"slug": {"dba"}, "name": {"Database team"}})
			b.expect(resp, body, http.StatusSeeOther, "")
			loc, tid := location(t, resp, "/teams/")
			_, body = b.get(loc)
			mustContain(t, body, "Team created.", "Database team", "No members yet.")
			team := "/teams/" + strconv.FormatInt(tid, 10)
			resp, body = b.post(team+"/members", url.Values{"user_id": {strconv.FormatInt(rick.ID, 10)}, "role": {"lead"}})
			b.expect(resp, body, http.StatusSeeOther, team+"?done=member_added#members")
			resp, body = b.post(team+"/members", url.Values{"user_id": {"999999"}})
			b.expect(resp, body, http.StatusUnprocessableEntity, "")
			mustContain(t, body, "no user with id 999999")
			b.post(team+"/members", url.Values{"user_id": {strconv.FormatInt(vera.ID, 10)}})
			_, body = b.get(team)
			mustContain(t, body, "Rick Responder", ">lead<", "Vera Viewer")
			resp, body = b.post(fmt.Sprintf("%s/members/%d/delete", team, vera.ID), url.Values{})
			b.expect(resp, body, http.StatusSeeOther, team+"?done=member_removed#members")
			resp, body = b.post(team, url.Values{"slug": {"dba"}, "name": {"Databases"}})
			b.expect(resp, body, http.StatusSeeOther, team+"?done=saved")
			_, body = b.get("/teams")
			mustContain(t, body, "Databases", "Rick Responder")
			_, body = responder.get("/teams")
			mustNotContain(t, body, `action="/teams"`)
			resp, body = responder.post("/teams", url.Values{"slug": {"x"}})
			b.expect(resp, body, http.StatusForbidden, "")

			resp, body = b.post("/channels", url.Values{"slug": {"dba-ding"}, "kind": {"dingtalk"}, "address": {"ftp://example.com"}})
			b.expect(resp, body, http.StatusUnprocessableEntity, "")
			mustContain(t, body, "must be an absolute http(s) URL", `value="ftp://example.com"`)
			resp, body = b.post("/channels", url.Values{"slug": {"dba-ding"}, "name": {"DBA group"}, "kind": {"dingtalk"},
				"address": {"https://oapi.dingtalk.com/robot/send?access_token=abc"}, "secret": {"SECxyz"}, "team_id": {strconv.FormatInt(tid, 10)}})
			b.expect(resp, body, http.StatusSeeOther, "")
			_, cid := location(t, resp, "/channels?done=channel_created#channel-")
			_, body = b.get("/channels")
			mustContain(t, body, "DBA group", "DingTalk", "signing secret set", "Databases")
			mustNotContain(t, body, "SECxyz")
			resp, body = b.post(fmt.Sprintf("/channels/%d", cid), url.Values{"slug": {"dba-ding"}, "name": {"DBA on call"}, "kind": {"dingtalk"},
				"address": {"https://oapi.dingtalk.com/robot/send?access_token=abc"}, "secret": {"not-sec"}})
			b.expect(resp, body, http.StatusUnprocessableEntity, "")
			mustContain(t, body, `a DingTalk signing secret starts with &#34;SEC&#34;`)
			resp, body = b.post(fmt.Sprintf("/channels/%d", cid), url.Values{"slug": {"dba-ding"}, "name": {"DBA on call"}, "kind": {"dingtalk"},
				"address": {"https://oapi.dingtalk.com/robot/send?access_token=abc"}})
			b.expect(resp, body, http.StatusSeeOther, fmt.Sprintf("/channels?done=saved#channel-%d", cid))
			if c, err := in.Web.Contacts.ChannelByID(ctx, nil, cid); err != nil || c.Name != "DBA on call" || !c.HasSecret {
				t.Errorf("channel after the edit: %+v %v", c, err)
			}
			resp, body = responder.get("/channels")
			b.expect(resp, body, http.StatusForbidden, "")
		})

		var sid int64
		t.Run("schedules", func(t *testing.T) {
			b := admin
			resp, body := b.get("/schedules/new")
			b.expect(resp, body, http.StatusOK, "")
			mustContain(t, body, `name="layers.0.members"`, `name="layer_rows"`, `list="zones"`)
			start := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -7)
			form := url.Values{"slug": {"db-oncall"}, "name": {"DB on call"}, "time_zone": {"UTC"}, "layer_rows": {"2"},
				"layers.0.name": {"daily"}, "layers.0.start": {start.Format("2006-01-02T15:04")}, "layers.0.shift": {"1"}, "layers.0.unit": {"d"},
				"layers.0.members": {"rick, nobody"}, "layers.1.shift": {"7"}, "layers.1.unit": {"d"}}
			resp, body = b.post("/schedules", form)
			b.expect(resp, body, http.StatusUnprocessableEntity, "")
			mustContain(t, body, `Unknown person &#34;nobody&#34;.`, `value="rick, nobody"`)
			form.Set("layers.0.members", "rick, vera")
			form.Set("layers.0.restrict", "mon-fri 9am")
			resp, body = b.post("/schedules", form)
			b.expect(resp, body, http.StatusUnprocessableEntity, "")
			mustContain(t, body, "Write windows like mon-fri 09:00-18:00")
			form.Set("layers.0.restrict", "")
			form.Set("time_zone", "Mars/Base")
			resp, body = b.post("/schedules", form)
			b.expect(resp, body, http.StatusUnprocessableEntity, "")
			mustContain(t, body, "unknown time zone")
			form.Set("time_zone", "UTC")
			resp, body = b.post("/schedules", form)
			b.expect(resp, body, http.StatusSeeOther, "")
			_, sid = location(t, resp, "/schedules/")
			sched := "/schedules/" + strconv.FormatInt(sid, 10)
			rec, err := in.Web.OnCall.GetSchedule(ctx, sid)
			if err != nil || len(rec.Layers) != 1 || len(rec.Layers[0].Members) != 2 || rec.Layers[0].ShiftLength != 24*time.Hour {
				t.Fatalf("created %+v %v", rec, err)
			}

			resp, body = b.get(sched)
			b.expect(resp, body, http.StatusOK, "")
			mustContain(t, body, "DB on call", `id="calendar"`, `class="cal-day today`, "Rick Responder", "Vera Viewer", `id="on-call-now"`,
				`/ical/schedules/`, `action="`+sched+`/overrides"`)
			_, body = b.get("/schedules")
			mustContain(t, body, "DB on call", "primary-oncall")

			// Overrides by a responder.
			r := responder
			resp, body = r.post(sched+"/overrides", url.Values{"mode": {"all"}, "user_id": {strconv.FormatInt(rick.ID, 10)}, "start": {"soon"}, "end": {"later"}})
			b.expect(resp, body, http.StatusUnprocessableEntity, "")
			mustContain(t, body, "Enter a date and time", `value="soon"`)
			day := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, 3)
			resp, body = r.post(sched+"/overrides", url.Values{"mode": {"all"}, "user_id": {strconv.FormatInt(rick.ID, 10)},
				"start": {day.Format("2006-01-02T15:04")}, "end": {day.Add(-time.Hour).Format("2006-01-02T15:04")}})
			b.expect(resp, body, http.StatusUnprocessableEntity, "")
			mustContain(t, body, "must be after start")
			resp, body = r.post(sched+"/overrides", url.Values{"mode": {"all"}, "user_id": {strconv.FormatInt(rick.ID, 10)},
				"start": {day.Format("2006-01-02T15:04")}, "end": {day.Add(24 * time.Hour).Format("2006-01-02T15:04")}, "note": {"holiday cover"}})
			b.expect(resp, body, http.StatusSeeOther, sched+"?done=override_added#overrides")
			_, body = r.get(sched + "?done=override_added")
			mustContain(t, body, "Override added.", "holiday cover", `class="seg u0 override`)
			resp, body = viewer.post(sched+"/overrides", url.Values{"mode": {"all"}})
			b.expect(resp, body, http.StatusForbidden, "")
			_, body = viewer.get(sched)
			mustNotContain(t, body, `action="`+sched+`/overrides"`, `action="`+sched+`/take"`)
			mustContain(t, body, "/ical/schedules/") // a member sees the feed

			// Take one of vera's shifts, then swap two.
			shifts, err := in.Web.OnCall.ScheduleShifts(ctx, sid, time.Now().Add(5*24*time.Hour), time.Now().Add(12*24*time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			var veraShift, rickShift oncall.ShiftRecord
			for _, sh := range shifts {
				if sh.UserID == vera.ID && veraShift.UserID == 0 {
					veraShift = sh
				}
				if sh.UserID == rick.ID && rickShift.UserID == 0 && veraShift.UserID != 0 {
					rickShift = sh
				}
			}
			resp, body = r.post(sched+"/take", url.Values{"user_id": {strconv.FormatInt(vera.ID, 10)},
				"start": {veraShift.Start.UTC().Format(time.RFC3339)}, "end": {veraShift.End.UTC().Format(time.RFC3339)}})
			b.expect(resp, body, http.StatusSeeOther, sched+"?done=shift_taken#calendar")
			if us, _ := in.Web.OnCall.OnCallAt(ctx, sid, veraShift.Start.Add(time.Minute)); len(us) != 1 || us[0].UserID != rick.ID {
				t.Errorf("after taking the shift: %+v", us)
			}
			resp, body = r.post(sched+"/take", url.Values{"user_id": {strconv.FormatInt(vera.ID, 10)}, "start": {"x"}, "end": {"y"}})
			b.expect(resp, body, http.StatusUnprocessableEntity, "")
			mustContain(t, body, "That shift is no longer listed")

			later, err := in.Web.OnCall.ScheduleShifts(ctx, sid, rickShift.End, rickShift.End.Add(48*time.Hour))
			if err != nil || len(later) == 0 {
				t.Fatalf("later shifts %v %v", later, err)
			}
			value := func(sh oncall.ShiftRecord) string {
				return fmt.Sprintf("%d|%s|%s", sh.UserID, sh.Start.UTC().Format(time.RFC3339), sh.End.UTC().Format(time.RFC3339))
			}
			resp, body = r.post(sched+"/swap", url.Values{"a": {value(rickShift)}, "b": {value(rickShift)}})
			b.expect(resp, body, http.StatusUnprocessableEntity, "")
			mustContain(t, body, "a swap needs two different people")
			var other oncall.ShiftRecord
			for _, sh := range later {
				if sh.UserID == vera.ID {
					other = sh
					break
				}
			}
			resp, body = r.post(sched+"/swap", url.Values{"a": {value(rickShift)}, "b": {value(other)}})
			b.expect(resp, body, http.StatusSeeOther, sched+"?done=swapped#calendar")

			// Remove the holiday override.
			ovs, err := in.Web.OnCall.ListOverrides(ctx, sid, time.Time{}, time.Time{})
			if err != nil || len(ovs) != 4 {
				t.Fatalf("overrides %+v %v", ovs, err)
			}
			resp, body = r.post(fmt.Sprintf("%s/overrides/%d/delete", sched, ovs[0].ID), url.Values{})
			b.expect(resp, body, http.StatusSeeOther, sched+"?done=override_deleted#overrides")

			// Edit: the form shows the layer; a second layer is added.
			resp, body = b.get(sched + "/edit")
			b.expect(resp, body, http.StatusOK, "")
			mustContain(t, body, `value="rick, vera"`, `name="layers.1.members"`, "Remove this rotation")
			edit := url.Values{"slug": {"db-oncall"}, "name": {"DB on call"}, "time_zone": {"Asia/Shanghai"}, "layer_rows": {"2"},
				"layers.0.start": {start.Format("2006-01-02T15:04")}, "layers.0.shift": {"1"}, "layers.0.unit": {"d"}, "layers.0.members": {"rick, vera"},
				"layers.1.name": {"office"}, "layers.1.start": {start.Format("2006-01-02T15:04")}, "layers.1.shift": {"7"}, "layers.1.unit": {"d"},
				"layers.1.members": {"admin"}, "layers.1.restrict": {"mon-fri 09:00-18:00"}}
			resp, body = b.post(sched, edit)
			b.expect(resp, body, http.StatusSeeOther, sched+"?done=schedule_saved")
			rec, _ = in.Web.OnCall.GetSchedule(ctx, sid)
			if len(rec.Layers) != 2 || rec.TimeZone != "Asia/Shanghai" || len(rec.Layers[1].Restrict) != 1 || len(rec.Layers[1].Restrict[0].Days) != 5 {
				t.Errorf("after the edit: %+v", rec)
			}
			_, body = b.get(sched + "/edit")
			mustContain(t, body, `value="mon-fri 09:00-18:00"`)
			resp, body = responder.post(sched, edit)
			b.expect(resp, body, http.StatusForbidden, "")

			// The plan's schedules cannot be edited here.
			plan, err := in.Web.OnCall.ScheduleBySlug(ctx, "primary-oncall")
			if err != nil {
				t.Fatal(err)
			}
			_, body = b.get("/schedules/" + strconv.FormatInt(plan.ID, 10))
			mustContain(t, body, "This schedule comes from the emergency plan")
			mustNotContain(t, body, "/edit\"")
			resp, body = b.post("/schedules/"+strconv.FormatInt(plan.ID, 10)+"/delete", url.Values{})
			b.expect(resp, body, http.StatusUnprocessableEntity, "")
			mustContain(t, body, "change the plan instead")
		})

		t.Run("policies and services", func(t *testing.T) {
			b := admin
			resp, body := b.get("/policies/new")
			b.expect(resp, body, http.StatusOK, "")
			mustContain(t, body, `name="steps.0.targets"`, `<optgroup label="Schedule">`, `value="schedule:db-oncall"`, `value="team:dba"`, `value="channel:dba-ding"`)
			form := url.Values{"slug": {"db"}, "name": {"Database"}, "repeat": {"1"}, "ack_timeout": {"30"}, "step_rows": {"3"},
				"steps.0.after": {"0"}, "steps.1.after": {"10"}}
			resp, body = b.post("/policies", form)
			b.expect(resp, body, http.StatusUnprocessableEntity, "")
			mustContain(t, body, "add at least one target")
			form["steps.0.targets"] = []string{"schedule:db-oncall", "channel:dba-ding"}
			form["steps.1.targets"] = []string{"team:dba"}
			form.Set("steps.1.after", "soon")
			resp, body = b.post("/policies", form)
			b.expect(resp, body, http.StatusUnprocessableEntity, "")
			mustContain(t, body, "Enter minutes or a duration such as 1h30m.", `value="soon"`)
			form.Set("steps.1.after", "1h30m")
			resp, body = b.post("/policies", form)
			b.expect(resp, body, http.StatusSeeOther, "")
			_, pid := location(t, resp, "/policies/")
			p, err := in.Web.Policies.Get(ctx, pid)
			if err != nil || len(p.Steps) != 2 || p.Repeat != 1 || time.Duration(p.AckTimeout) != 30*time.Minute || time.Duration(p.Steps[1].After) != 90*time.Minute {
				t.Fatalf("created %+v %v", p, err)
			}
			pol := "/policies/" + strconv.FormatInt(pid, 10)
			_, body = viewer.get(pol)
			mustContain(t, body, "Database", "At once", "DB on call", "1h 30m after the incident opens", "Databases")
			mustNotContain(t, body, pol+"/edit")
			_, body = b.get(pol + "/edit")
			mustContain(t, body, `value="schedule:db-oncall" selected`, `value="1h30m"`, `value="30m"`)

			// Referenced things stay put.
			_, body = b.get("/teams")
			resp, body = b.post("/teams/"+regexp.MustCompile(`href="/teams/(\d+)"`).FindStringSubmatch(body)[1]+"/delete", url.Values{})
			b.expect(resp, body, http.StatusUnprocessableEntity, "")
			mustContain(t, body, "escalation policies page it (db)")

			// A service chooses the policy.
			services, err := in.Web.Services.List(ctx)
			if err != nil {
				t.Fatal(err)
			}
			demo := services[0]
			_, body = b.get("/services")
			mustContain(t, body, fmt.Sprintf(`action="/services/%d/escalation-policy"`, demo.ID), "The plan&#39;s policy for the incident&#39;s level")
			resp, body = b.post(fmt.Sprintf("/services/%d/escalation-policy", demo.ID), url.Values{"escalation_policy_id": {strconv.FormatInt(pid, 10)}})
			b.expect(resp, body, http.StatusSeeOther, fmt.Sprintf("/services#service-%d", demo.ID))
			if sv, _ := in.Web.Services.Get(ctx, demo.ID); sv.EscalationPolicyID != pid {
				t.Errorf("service policy %d", sv.EscalationPolicyID)
			}
			_, body = responder.get("/services")
			mustContain(t, body, `<a href="/policies/`+strconv.FormatInt(pid, 10)+`">Database</a>`)
			resp, body = responder.post(fmt.Sprintf("/services/%d/escalation-policy", demo.ID), url.Values{"escalation_policy_id": {"0"}})
			b.expect(resp, body, http.StatusForbidden, "")
			_, body = b.get("/policies")
			mustContain(t, body, "Database", "demo", "plan-p0")

			// Plan policies are read-only here.
			plan, err := in.Web.Policies.List(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, pp := range plan {
				if pp.Source == "plan" {
					resp, body = b.post(fmt.Sprintf("/policies/%d", pp.ID), form)
					b.expect(resp, body, http.StatusUnprocessableEntity, "")
					mustContain(t, body, "This policy comes from the emergency plan")
					resp, body = b.post(fmt.Sprintf("/policies/%d/delete", pp.ID), url.Values{})
					b.expect(resp, body, http.StatusConflict, "")
					break
				}
			}
			resp, body = b.post(pol+"/delete", url.Values{})
			b.expect(resp, body, http.StatusSeeOther, "/policies?done=policy_deleted")
		})

		t.Run("not found and not allowed", func(t *testing.T) {
			for _, p := range []string{"/people/999999", "/teams/999999", "/schedules/999999", "/policies/999999", "/people/x"} {
				resp, body := viewer.get(p)
				if resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusBadRequest {
					t.Errorf("GET %s: %d", p, resp.StatusCode)
				}
				mustContain(t, body, `<nav class="nav"`)
			}
			for _, p := range []string{"/schedules/new", "/policies/new", "/channels", fmt.Sprintf("/schedules/%d/edit", sid)} {
				resp, body := responder.get(p)
				responder.expect(resp, body, http.StatusForbidden, "")
			}
		})

		t.Run("my on-call", func(t *testing.T) {
			_, body := responder.get("/me")
			mustContain(t, body, "DB on call", `id="upcoming"`)
			_, body = viewer.get("/people")
			mustContain(t, body, "Rick Responder", "Vera Viewer", "Operator one", ">On call<")
		})

		t.Run("every page in both languages", func(t *testing.T) {
			pages := []string{"/me", "/people", veraPage, "/teams", "/channels", "/schedules", "/schedules/new", "/policies", "/policies/new",
				"/schedules/" + strconv.FormatInt(sid, 10), "/schedules/" + strconv.FormatInt(sid, 10) + "/edit"}
			_, body := admin.get("/teams")
			pages = append(pages, regexp.MustCompile(`href="(/teams/\d+)"`).FindStringSubmatch(body)[1])
			_, body = admin.get("/policies")
			pol := regexp.MustCompile(`href="(/policies/\d+)"`).FindStringSubmatch(body)[1]
			pages = append(pages, pol, pol+"/edit")
			zh := newBrowser(t, base)
			zh.lang = "zh-CN"
			zh.login("admin", adminPassword)
			zh.post("/lang", url.Values{"lang": {"zh"}})
			admin.post("/lang", url.Values{"lang": {"en"}}) // a cookie each: the saved locale is the last choice
			want := map[string]string{"/me": "我的值班", "/people": "人员", "/teams": "团队", "/channels": "通知渠道", "/schedules": "排班", "/policies": "升级策略"}
			for _, p := range pages {
				resp, body := admin.get(p)
				admin.expect(resp, body, http.StatusOK, "")
				mustContain(t, body, `<html lang="en">`, ">My on-call<", ">Schedules<", ">Escalation<", ">Teams<", ">People<", ">Channels<")
				noRawKeys(t, p, body)
				resp, body = zh.get(p)
				zh.expect(resp, body, http.StatusOK, "")
				mustContain(t, body, `<html lang="zh-CN">`, ">我的值班<", ">排班<", ">升级策略<")
				if w, ok := want[p]; ok {
					mustContain(t, body, "<h1>"+w)
				}
				noRawKeys(t, p, body)
			}
			_, body = zh.get("/schedules/" + strconv.FormatInt(sid, 10))
			mustContain(t, body, "当前值班", "临时调班", "周一")
		})
	})
}
