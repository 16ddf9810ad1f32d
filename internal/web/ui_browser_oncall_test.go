package web_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/firebreak/firebreak/internal/auth"
	"github.com/firebreak/firebreak/internal/oncall"
	"github.com/firebreak/firebreak/internal/testenv"
)

// TestBrowserOnCall drives real Chromium through the on-call pages: an admin
// opens a schedule's calendar and sees who is on call, then adds a contact
// method to their own profile through the form.
func TestBrowserOnCall(t *testing.T) {
	eachDatabase(t, func(t *testing.T, databaseURL string) {
		in, base := startInstance(t, databaseURL)
		ctx := t.Context()
		db := strings.TrimPrefix(t.Name(), "TestBrowserOnCall/")
		var ids []int64
		for _, u := range []auth.NewUser{
			{Username: "mei", DisplayName: "Mei Ling", Role: auth.Responder, Password: "mei-password-123"},
			{Username: "omar", DisplayName: "Omar Haddad", Role: auth.Responder, Password: "omar-password-123"},
		} {
			usr, err := in.Web.Auth.CreateUser(ctx, u)
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, usr.ID)
		}
		start := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -3)
		sched, err := in.Web.OnCall.CreateSchedule(ctx, oncall.ScheduleInput{Slug: "checkout", Name: "Checkout on call", TimeZone: "Asia/Shanghai",
			Layers: []oncall.LayerRecord{{Name: "daily", Start: start, ShiftLength: 24 * time.Hour, Members: ids}}})
		if err != nil {
			t.Fatal(err)
		}
		now, err := in.Web.OnCall.OnCallNow(ctx, sched.ID)
		if err != nil || len(now) != 1 {
			t.Fatalf("on call now: %v %v", now, err)
		}
		onCall := now[0].DisplayName

		b := testenv.Browser(t)
		run(t, b, "log in",
			chromedp.EmulateViewport(1280, 900),
			chromedp.Navigate(base+"/schedules"),
			chromedp.WaitVisible(chromedp.ID("username")),
			chromedp.SendKeys(chromedp.ID("username"), "admin"),
			chromedp.SendKeys(chromedp.ID("password"), adminPassword),
		)
		if _, err := chromedp.RunResponse(b, chromedp.Click(chromedp.ID("login-submit"))); err != nil {
			t.Fatalf("submit login: %v", err)
		}
		row := `//tr[@id="schedule-` + strconv.FormatInt(sched.ID, 10) + `"]`
		run(t, b, "the schedules list shows who is on call",
			chromedp.WaitVisible(chromedp.Search(row+`//td[contains(@class,"on-call-cell")][contains(., "`+onCall+`")]`)),
		)
		if _, err := chromedp.RunResponse(b, chromedp.Click(chromedp.Search(row+`//a[contains(., "Checkout on call")]`))); err != nil {
			t.Fatalf("open the schedule: %v", err)
		}
		run(t, b, "the calendar shows who is on call now and today",
			chromedp.WaitVisible(chromedp.ID("calendar")),
			chromedp.WaitVisible(chromedp.Search(`//section[@id="on-call-now"]//a[contains(., "`+onCall+`")]`)),
			chromedp.WaitVisible(chromedp.Search(`//div[contains(@class,"cal-day") and contains(@class,"today")]//span[@class="seg-name"][contains(., "`+onCall+`")]`)),
		)
		if n := eval[int](t, b, `document.querySelectorAll('#calendar .cal-day').length`); n != 14 {
			t.Errorf("the calendar shows %d days, want 14", n)
		}
		screenshot(t, b, "/tmp/ui-schedule-"+db+".png")

		// A person adds a contact method to their own profile.
		run(t, b, "open my on-call page", chromedp.Navigate(base+"/me"), chromedp.WaitVisible(chromedp.ID("no-methods")))
		if _, err := chromedp.RunResponse(b, chromedp.Click(chromedp.Search(`//div[@id="no-methods"]//a`))); err != nil {
			t.Fatalf("follow the add-a-method link: %v", err)
		}
		run(t, b, "fill in the form",
			chromedp.WaitVisible(chromedp.ID("m-address")),
			chromedp.SetValue(chromedp.ID("m-kind"), "email"),
			chromedp.SendKeys(chromedp.ID("m-name"), "Work mail"),
			chromedp.SendKeys(chromedp.ID("m-address"), "admin@example.com"),
		)
		if _, err := chromedp.RunResponse(b, chromedp.Click(chromedp.ID("add-method-submit"))); err != nil {
			t.Fatalf("submit the method: %v", err)
		}
		run(t, b, "the method is listed, waiting for verification",
			chromedp.WaitVisible(chromedp.Search(`//p[contains(@class,"notice")][contains(., "Contact method added.")]`)),
			chromedp.WaitVisible(chromedp.Search(`//li[contains(@class,"method")]//code[contains(., "admin@example.com")]`)),
			chromedp.WaitVisible(chromedp.Search(`//li[contains(@class,"method")]//span[contains(., "not verified")]`)),
		)
		screenshot(t, b, "/tmp/ui-person-"+db+".png")
		admin, err := in.Web.Auth.UserByUsername(ctx, "admin")
		if err != nil {
			t.Fatal(err)
		}
		ms, err := in.Web.Contacts.ListForUser(ctx, admin.ID)
		if err != nil || len(ms) != 1 || ms[0].Address != "admin@example.com" || ms[0].Name != "Work mail" || ms[0].Verified {
			t.Fatalf("stored methods %+v %v", ms, err)
		}
	})
}
