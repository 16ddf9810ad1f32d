package web

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/firebreak/firebreak/internal/auth"
	"github.com/firebreak/firebreak/internal/i18n"
	"github.com/firebreak/firebreak/internal/oncall"
)

func scheduleURL(id int64) string { return "/schedules/" + strconv.FormatInt(id, 10) }

// onCallRow is someone on call now, on a page.
type onCallRow struct {
	UserID int64
	Name   string
	Until  string // in the schedule's zone; "" when open-ended
	Mine   bool
}

func (o *oncallUI) onCallRows(ctx context.Context, rec oncall.ScheduleRecord, me int64) ([]onCallRow, error) {
	return o.onCallRowsAt(ctx, rec, me, time.Time{})
}

// onCallRowsAt is who is on call at t (now when t is zero).
func (o *oncallUI) onCallRowsAt(ctx context.Context, rec oncall.ScheduleRecord, me int64, t time.Time) ([]onCallRow, error) {
	var us []oncall.OnCallUser
	var err error
	if t.IsZero() {
		us, err = o.s.OnCall.OnCallNow(ctx, rec.ID)
	} else {
		us, err = o.s.OnCall.OnCallAt(ctx, rec.ID, t)
	}
	if err != nil {
		return nil, err
	}
	tz := loadZone(rec.TimeZone)
	out := make([]onCallRow, len(us))
	for i, u := range us {
		out[i] = onCallRow{UserID: u.UserID, Name: u.DisplayName, Mine: u.UserID == me}
		if out[i].Name == "" {
			out[i].Name = u.Username
		}
		if !u.Until.IsZero() {
			out[i].Until = u.Until.In(tz).Format(wallMinute)
		}
	}
	return out, nil
}

// scheduleRow is one schedule in the list.
type scheduleRow struct {
	ID      int64
	Slug    string
	Name    string
	Zone    string
	Team    string
	TeamID  int64
	Plan    bool
	Layers  int
	OnCall  []onCallRow
	Members int
}

func (o *oncallUI) schedulesPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	recs, err := o.s.OnCall.ListSchedules(ctx)
	if err != nil {
		o.fail(w, r, err)
		return
	}
	teams, err := o.s.OnCall.ListTeams(ctx)
	if err != nil {
		o.fail(w, r, err)
		return
	}
	teamNames := map[int64]string{}
	for _, t := range teams {
		teamNames[t.ID] = t.Name
	}
	var d struct {
		Rows []scheduleRow
		Done string
	}
	d.Done = done(o.lang(r), r)
	for _, rec := range recs {
		row := scheduleRow{ID: rec.ID, Slug: rec.Slug, Name: rec.DisplayName(), Zone: rec.TimeZone, Team: teamNames[rec.TeamID], TeamID: rec.TeamID,
			Plan: rec.Source == oncall.SourcePlan, Layers: len(rec.Layers)}
		seen := map[int64]bool{}
		for _, l := range rec.Layers {
			for _, m := range l.Members {
				seen[m] = true
			}
		}
		row.Members = len(seen)
		if row.OnCall, err = o.onCallRows(ctx, rec, user(r).ID); err != nil {
			o.fail(w, r, err)
			return
		}
		d.Rows = append(d.Rows, row)
	}
	o.page(w, r, http.StatusOK, "schedules", "schedules", "schedules.title", d)
}

// ---- the calendar ----

// calDays is how many days the calendar shows.
const calDays = 14

type calSeg struct {
	UserID   int64
	Name     string
	From, To string
	Override bool
	Color    string
	Mine     bool
}

type calDay struct {
	Label   string
	Date    string
	Today   bool
	Weekend bool
	Segs    []calSeg
}

type legendItem struct {
	Name, Color string
}

type layerRow struct {
	Name     string
	Start    string
	Every    string
	Members  []string
	Restrict string
}

// upShift is a shift to come (or under way), as the take and swap forms use it.
type upShift struct {
	UserID     int64
	Name       string
	Span       string
	Start, End string // RFC 3339, for the forms
	Mine, Now  bool
	Value      string // "user|start|end" for the swap form
}

type ovRow struct {
	ID       int64
	Mode     string
	Who      string
	Replaces string
	Span     string
	Note     string
	Plan     bool
	Now      bool
}

// overrideForm is the add-an-override form as typed.
type overrideForm struct {
	Mode           string
	UserID         int64
	ReplacesUserID int64
	Start, End     string
	Note           string
}

type scheduleData struct {
	Rec       oncall.ScheduleRecord
	Name      string
	Zone      string
	TeamName  string
	Plan      bool
	OnCallNow []onCallRow
	Weeks     [][]calDay
	Range     string
	Prev      string
	Next      string
	ThisWeek  string
	Legend    []legendItem
	Layers    []layerRow
	Upcoming  []upShift
	Overrides []ovRow
	Users     []userOpt
	Me        int64
	CanFeed   bool
	FeedURL   string
	Ov        overrideForm
	Swap      struct{ A, B string }
	Errors    map[string]string
	Done      string
	// "Who is on call at …": the time asked (schedule's zone) and the answer.
	At       string
	AtRows   []onCallRow
	AtAsked  bool
	AtFormat string
}

func (o *oncallUI) schedulePage(w http.ResponseWriter, r *http.Request) {
	ids, ok := o.ids(w, r, "id")
	if !ok {
		return
	}
	o.renderSchedule(w, r, http.StatusOK, ids[0], scheduleData{})
}

// weekStart returns local midnight of the Monday of t's week in tz.
func weekStart(t time.Time, tz *time.Location) time.Time {
	l := t.In(tz)
	y, m, dd := l.Date()
	back := (int(l.Weekday()) + 6) % 7
	return time.Date(y, m, dd-back, 0, 0, 0, 0, tz)
}

func (o *oncallUI) renderSchedule(w http.ResponseWriter, r *http.Request, status int, id int64, d scheduleData) {
	ctx := r.Context()
	lang := o.lang(r)
	rec, err := o.s.OnCall.GetSchedule(ctx, id)
	if err != nil {
		o.fail(w, r, notFound(err, "schedule"))
		return
	}
	me := user(r)
	tz := loadZone(rec.TimeZone)
	now := time.Now()
	d.Rec, d.Name, d.Zone, d.Plan, d.Me = rec, rec.DisplayName(), rec.TimeZone, rec.Source == oncall.SourcePlan, me.ID
	d.Done = done(lang, r)
	if d.Ov.Mode == "" {
		d.Ov = overrideForm{Mode: oncall.ModeReplace, UserID: me.ID, Start: now.In(tz).Format(formMinute), End: now.In(tz).Add(24 * time.Hour).Format(formMinute)}
	}
	users, byID, err := o.people(ctx)
	if err != nil {
		o.fail(w, r, err)
		return
	}
	d.Users = users
	if rec.TeamID != 0 {
		if t, err := o.s.OnCall.GetTeam(ctx, rec.TeamID); err == nil {
			d.TeamName = t.Name
		}
	}
	if d.OnCallNow, err = o.onCallRows(ctx, rec, me.ID); err != nil {
		o.fail(w, r, err)
		return
	}
	d.At = now.In(tz).Format(formMinute)
	if v := r.URL.Query().Get("at"); v != "" {
		at, err := time.ParseInLocation(formMinute, v, tz)
		if err != nil {
			o.fail(w, r, &oncall.FieldError{Field: "at", Msg: "a date and time such as " + now.In(tz).Format(formMinute)})
			return
		}
		d.At, d.AtAsked = v, true
		if d.AtRows, err = o.onCallRowsAt(ctx, rec, me.ID, at); err != nil {
			o.fail(w, r, err)
			return
		}
	}

	// The calendar: two weeks from the Monday of ?from= (default: this week).
	start := weekStart(now, tz)
	if v := r.URL.Query().Get("from"); v != "" {
		if t, err := time.ParseInLocation(time.DateOnly, v, tz); err == nil {
			start = weekStart(t, tz)
		}
	}
	end := start.AddDate(0, 0, calDays)
	shifts, err := o.s.OnCall.ScheduleShifts(ctx, id, start, end)
	if err != nil {
		o.fail(w, r, notFound(err, "schedule"))
		return
	}
	ovs, err := o.s.OnCall.ListOverrides(ctx, id, start, end)
	if err != nil {
		o.fail(w, r, notFound(err, "schedule"))
		return
	}
	colors := map[int64]string{}
	color := func(uid int64, name string) string {
		if c, ok := colors[uid]; ok {
			return c
		}
		c := "u" + strconv.Itoa(len(colors)%8)
		colors[uid] = c
		d.Legend = append(d.Legend, legendItem{Name: name, Color: c})
		return c
	}
	for _, l := range rec.Layers {
		for _, m := range l.Members {
			color(m, personName(byID, m))
		}
	}
	today := now.In(tz).Format(time.DateOnly)
	var week []calDay
	for i := range calDays {
		ds := start.AddDate(0, 0, i)
		de := start.AddDate(0, 0, i+1)
		day := calDay{Label: i18n.T(lang, weekdayKeys[ds.Weekday()]) + " " + ds.Format("01-02"), Date: ds.Format(time.DateOnly),
			Weekend: ds.Weekday() == time.Saturday || ds.Weekday() == time.Sunday}
		day.Today = day.Date == today
		for _, sh := range shifts {
			if !sh.Start.Before(de) || !sh.End.After(ds) {
				continue
			}
			from, to := maxTime(sh.Start, ds), minTime(sh.End, de)
			seg := calSeg{UserID: sh.UserID, Name: personName(byID, sh.UserID), From: from.In(tz).Format("15:04"), To: to.In(tz).Format("15:04"),
				Mine: sh.UserID == me.ID}
			if to.Equal(de) {
				seg.To = "24:00"
			}
			seg.Color = color(sh.UserID, seg.Name)
			seg.Override = slices.ContainsFunc(ovs, func(ov oncall.OverrideRecord) bool {
				return ov.UserID == sh.UserID && ov.Start.Before(to) && ov.End.After(from)
			})
			day.Segs = append(day.Segs, seg)
		}
		week = append(week, day)
		if len(week) == 7 {
			d.Weeks = append(d.Weeks, week)
			week = nil
		}
	}
	d.Range = start.Format(time.DateOnly) + " – " + end.AddDate(0, 0, -1).Format(time.DateOnly)
	link := func(t time.Time) string { return scheduleURL(id) + "?from=" + t.Format(time.DateOnly) + "#calendar" }
	d.Prev, d.Next, d.ThisWeek = link(start.AddDate(0, 0, -7)), link(start.AddDate(0, 0, 7)), scheduleURL(id)+"#calendar"

	for _, l := range rec.Layers {
		row := layerRow{Name: l.Name, Start: l.Start.In(tz).Format(wallMinute), Every: durText(lang, l.ShiftLength), Restrict: restrictText(l.Restrict)}
		for _, m := range l.Members {
			row.Members = append(row.Members, personName(byID, m))
		}
		d.Layers = append(d.Layers, row)
	}

	// Shifts to take or swap: the next 14 days.
	upcoming, err := o.s.OnCall.ScheduleShifts(ctx, id, now, now.Add(14*24*time.Hour))
	if err != nil {
		o.fail(w, r, notFound(err, "schedule"))
		return
	}
	for _, sh := range upcoming {
		u := upShift{UserID: sh.UserID, Name: personName(byID, sh.UserID), Span: span(sh.Start, sh.End, tz),
			Start: sh.Start.UTC().Format(time.RFC3339), End: sh.End.UTC().Format(time.RFC3339), Mine: sh.UserID == me.ID, Now: !sh.Start.After(now)}
		u.Value = strconv.FormatInt(u.UserID, 10) + "|" + u.Start + "|" + u.End
		d.Upcoming = append(d.Upcoming, u)
	}
	if d.Swap.A == "" && len(d.Upcoming) > 1 {
		// Offer my first shift against the first of someone else.
		a := d.Upcoming[0]
		if i := slices.IndexFunc(d.Upcoming, func(u upShift) bool { return u.Mine }); i >= 0 {
			a = d.Upcoming[i]
		}
		d.Swap.A = a.Value
		if i := slices.IndexFunc(d.Upcoming, func(u upShift) bool { return u.UserID != a.UserID }); i >= 0 {
			d.Swap.B = d.Upcoming[i].Value
		}
	}
	current, err := o.s.OnCall.ListOverrides(ctx, id, now, time.Time{})
	if err != nil {
		o.fail(w, r, notFound(err, "schedule"))
		return
	}
	for _, ov := range current {
		row := ovRow{ID: ov.ID, Mode: label(lang, "schedule.mode.", ov.Mode), Who: personName(byID, ov.UserID), Span: span(ov.Start, ov.End, tz),
			Note: ov.Note, Plan: isPlanOverride(ov), Now: !ov.Start.After(now)}
		if ov.ReplacesUserID != 0 {
			row.Replaces = personName(byID, ov.ReplacesUserID)
		}
		if row.Plan {
			row.Note = ""
		}
		d.Overrides = append(d.Overrides, row)
	}
	if d.CanFeed, err = o.s.mayReadScheduleFeed(ctx, me, rec); err != nil {
		o.fail(w, r, err)
		return
	}
	if d.CanFeed {
		secret, err := o.s.OnCall.ScheduleICalSecret(ctx, id)
		if err != nil {
			o.fail(w, r, err)
			return
		}
		d.FeedURL = o.s.feedURL("schedules", secret)
	}
	o.titled(w, r, status, "schedule", "schedules", d.Name, d)
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// scheduleFailed re-renders the schedule page with an input error of form.
func (o *oncallUI) scheduleFailed(w http.ResponseWriter, r *http.Request, id int64, d scheduleData, form string, err error) {
	field, msg, ok := formError(o.lang(r), err)
	if !ok {
		o.fail(w, r, notFound(err, "schedule"))
		return
	}
	if i := strings.IndexByte(field, '.'); i > 0 && (form == "swap" || form == "take") {
		field = field[:i] // a.start → a
	}
	d.Errors = map[string]string{form + "." + field: msg}
	o.renderSchedule(w, r, http.StatusUnprocessableEntity, id, d)
}

func (o *oncallUI) addOverride(w http.ResponseWriter, r *http.Request) {
	ids, ok := o.ids(w, r, "id")
	if !ok || !o.form(w, r) {
		return
	}
	id := ids[0]
	ctx := r.Context()
	rec, err := o.s.OnCall.GetSchedule(ctx, id)
	if err != nil {
		o.fail(w, r, notFound(err, "schedule"))
		return
	}
	tz := loadZone(rec.TimeZone)
	f := r.PostForm
	uid, _ := atoiForm(f.Get("user_id"), 0)
	rid, _ := atoiForm(f.Get("replaces_user_id"), 0)
	form := overrideForm{Mode: f.Get("mode"), UserID: uid, ReplacesUserID: rid, Start: f.Get("start"), End: f.Get("end"), Note: f.Get("note")}
	d := scheduleData{Ov: form}
	lang := o.lang(r)
	start, ok1 := parseLocal(form.Start, tz)
	end, ok2 := parseLocal(form.End, tz)
	switch {
	case !ok1:
		o.scheduleFailed(w, r, id, d, "ov", &oncall.FieldError{Field: "start", Msg: i18n.T(lang, "schedule.err_time")})
		return
	case !ok2:
		o.scheduleFailed(w, r, id, d, "ov", &oncall.FieldError{Field: "end", Msg: i18n.T(lang, "schedule.err_time")})
		return
	}
	if form.Mode != oncall.ModeReplace {
		rid = 0
	}
	_, err = o.s.OnCall.AddOverride(ctx, oncall.OverrideRecord{ScheduleID: id, Start: start, End: end, UserID: uid, Mode: form.Mode,
		ReplacesUserID: rid, Note: form.Note, CreatedBy: user(r).ID})
	if err != nil {
		o.scheduleFailed(w, r, id, d, "ov", err)
		return
	}
	seeOther(w, r, scheduleURL(id)+"?done=override_added#overrides")
}

func (o *oncallUI) deleteOverride(w http.ResponseWriter, r *http.Request) {
	ids, ok := o.ids(w, r, "id", "oid")
	if !ok || !o.form(w, r) {
		return
	}
	if err := o.s.deleteOverride(r.Context(), ids[0], ids[1]); err != nil {
		o.scheduleFailed(w, r, ids[0], scheduleData{}, "ovlist", err)
		return
	}
	seeOther(w, r, scheduleURL(ids[0])+"?done=override_deleted#overrides")
}

// formShift reads a shift of the take and swap forms: "user|start|end" or
// the separate fields user_id, start and end.
func formShift(v string) (oncall.ShiftRecord, bool) {
	parts := strings.Split(v, "|")
	if len(parts) != 3 {
		return oncall.ShiftRecord{}, false
	}
	uid, err := strconv.ParseInt(parts[0], 10, 64)
	start, err1 := time.Parse(time.RFC3339, parts[1])
	end, err2 := time.Parse(time.RFC3339, parts[2])
	if err != nil || err1 != nil || err2 != nil || uid <= 0 {
		return oncall.ShiftRecord{}, false
	}
	return oncall.ShiftRecord{UserID: uid, Start: start, End: end}, true
}

func (o *oncallUI) takeShift(w http.ResponseWriter, r *http.Request) {
	ids, ok := o.ids(w, r, "id")
	if !ok || !o.form(w, r) {
		return
	}
	id := ids[0]
	f := r.PostForm
	sh, ok := formShift(f.Get("user_id") + "|" + f.Get("start") + "|" + f.Get("end"))
	if !ok {
		o.scheduleFailed(w, r, id, scheduleData{}, "take", &oncall.FieldError{Field: "form", Msg: i18n.T(o.lang(r), "schedule.err_shift")})
		return
	}
	sh.ScheduleID = id
	me := user(r).ID
	if _, err := o.s.OnCall.TakeShift(r.Context(), me, sh, me, f.Get("note")); err != nil {
		o.scheduleFailed(w, r, id, scheduleData{}, "take", err)
		return
	}
	seeOther(w, r, scheduleURL(id)+"?done=shift_taken#calendar")
}

func (o *oncallUI) swapShifts(w http.ResponseWriter, r *http.Request) {
	ids, ok := o.ids(w, r, "id")
	if !ok || !o.form(w, r) {
		return
	}
	id := ids[0]
	f := r.PostForm
	var d scheduleData
	d.Swap.A, d.Swap.B = f.Get("a"), f.Get("b")
	lang := o.lang(r)
	a, okA := formShift(d.Swap.A)
	b, okB := formShift(d.Swap.B)
	switch {
	case !okA:
		o.scheduleFailed(w, r, id, d, "swap", &oncall.FieldError{Field: "a", Msg: i18n.T(lang, "schedule.err_shift")})
		return
	case !okB:
		o.scheduleFailed(w, r, id, d, "swap", &oncall.FieldError{Field: "b", Msg: i18n.T(lang, "schedule.err_shift")})
		return
	}
	a.ScheduleID, b.ScheduleID = id, id
	if _, err := o.s.OnCall.Swap(r.Context(), a, b, user(r).ID, f.Get("note")); err != nil {
		o.scheduleFailed(w, r, id, d, "swap", err)
		return
	}
	seeOther(w, r, scheduleURL(id)+"?done=swapped#calendar")
}

func (o *oncallUI) rotateScheduleICal(w http.ResponseWriter, r *http.Request) {
	ids, ok := o.ids(w, r, "id")
	if !ok || !o.form(w, r) {
		return
	}
	if _, err := o.s.OnCall.RotateScheduleICalSecret(r.Context(), ids[0]); err != nil {
		o.fail(w, r, notFound(err, "schedule"))
		return
	}
	seeOther(w, r, scheduleURL(ids[0])+"?done=feed_rotated#feed")
}

// ---- creating and changing schedules ----

// layerForm is one layer row of the schedule form as typed. Row is its place
// in the form (blank and removed rows included).
type layerForm struct {
	Row                                         int
	Name, Start, Shift, Unit, Members, Restrict string
	Remove                                      bool
}

type scheduleForm struct {
	Slug, Name, Description, TimeZone string
	TeamID                            int64
	Layers                            []layerForm
}

type scheduleEditData struct {
	ID     int64
	Plan   bool
	Form   scheduleForm
	Teams  []oncall.Team
	Users  []userOpt
	Zones  []string
	Errors map[string]string
}

// commonZones are offered in the time zone field; any IANA name works.
var commonZones = []string{"UTC", "Asia/Shanghai", "Asia/Hong_Kong", "Asia/Taipei", "Asia/Singapore", "Asia/Tokyo", "Asia/Kolkata",
	"Europe/London", "Europe/Berlin", "Europe/Paris", "America/New_York", "America/Chicago", "America/Los_Angeles", "Australia/Sydney"}

// maxLayerRows bounds the layer rows a form may post.
const maxLayerRows = 25

func (o *oncallUI) renderScheduleEdit(w http.ResponseWriter, r *http.Request, status int, d scheduleEditData) {
	ctx := r.Context()
	var err error
	if d.Teams, err = o.s.OnCall.ListTeams(ctx); err != nil {
		o.fail(w, r, err)
		return
	}
	if d.Users, _, err = o.people(ctx); err != nil {
		o.fail(w, r, err)
		return
	}
	d.Zones = commonZones
	// One empty row to add a layer with.
	if n := len(d.Form.Layers); n == 0 || !d.Form.Layers[n-1].Blank() {
		d.Form.Layers = append(slices.Clone(d.Form.Layers), layerForm{Row: n, Unit: "d", Shift: "7"})
	}
	if d.ID == 0 {
		o.page(w, r, status, "schedule_edit", "schedules", "schedule_edit.new_title", d)
		return
	}
	o.page(w, r, status, "schedule_edit", "schedules", "schedule_edit.edit_title", d, d.Form.Name)
}

func (o *oncallUI) newSchedule(w http.ResponseWriter, r *http.Request) {
	now := time.Now().In(time.UTC)
	start := weekStart(now, time.UTC).Add(10 * time.Hour)
	o.renderScheduleEdit(w, r, http.StatusOK, scheduleEditData{Form: scheduleForm{TimeZone: "UTC",
		Layers: []layerForm{{Name: "", Start: start.Format(formMinute), Shift: "7", Unit: "d"}}}})
}

func (o *oncallUI) editSchedule(w http.ResponseWriter, r *http.Request) {
	ids, ok := o.ids(w, r, "id")
	if !ok {
		return
	}
	ctx := r.Context()
	rec, err := o.s.OnCall.GetSchedule(ctx, ids[0])
	if err != nil {
		o.fail(w, r, notFound(err, "schedule"))
		return
	}
	_, byID, err := o.people(ctx)
	if err != nil {
		o.fail(w, r, err)
		return
	}
	o.renderScheduleEdit(w, r, http.StatusOK, scheduleEditData{ID: rec.ID, Plan: rec.Source == oncall.SourcePlan, Form: formOfSchedule(rec, byID)})
}

// formOfSchedule fills the schedule form from a stored schedule.
func formOfSchedule(rec oncall.ScheduleRecord, byID map[int64]auth.User) scheduleForm {
	tz := loadZone(rec.TimeZone)
	f := scheduleForm{Slug: rec.Slug, Name: rec.Name, Description: rec.Description, TimeZone: rec.TimeZone, TeamID: rec.TeamID}
	for i, l := range rec.Layers {
		lf := layerForm{Row: i, Name: l.Name, Start: l.Start.In(tz).Format(formMinute), Restrict: restrictText(l.Restrict)}
		switch d := l.ShiftLength; {
		case d%(24*time.Hour) == 0:
			lf.Shift, lf.Unit = strconv.FormatInt(int64(d/(24*time.Hour)), 10), "d"
		case d%time.Hour == 0:
			lf.Shift, lf.Unit = strconv.FormatInt(int64(d/time.Hour), 10), "h"
		default:
			lf.Shift, lf.Unit = strconv.FormatInt(int64(d/time.Minute), 10), "m"
		}
		var names []string
		for _, m := range l.Members {
			if u, ok := byID[m]; ok {
				names = append(names, u.Username)
			} else {
				names = append(names, "#"+strconv.FormatInt(m, 10))
			}
		}
		lf.Members = strings.Join(names, ", ")
		f.Layers = append(f.Layers, lf)
	}
	return f
}

// readScheduleForm reads the posted schedule form.
func readScheduleForm(r *http.Request) scheduleForm {
	f := r.PostForm
	team, _ := atoiForm(f.Get("team_id"), 0)
	sf := scheduleForm{Slug: f.Get("slug"), Name: f.Get("name"), Description: f.Get("description"), TimeZone: f.Get("time_zone"), TeamID: team}
	n, _ := atoiForm(f.Get("layer_rows"), 0)
	for i := range int(min(max(n, 0), maxLayerRows)) {
		p := "layers." + strconv.Itoa(i) + "."
		lf := layerForm{Row: i, Name: f.Get(p + "name"), Start: f.Get(p + "start"), Shift: f.Get(p + "shift"), Unit: f.Get(p + "unit"),
			Members: f.Get(p + "members"), Restrict: f.Get(p + "restrict"), Remove: f.Get(p+"remove") == "1"}
		sf.Layers = append(sf.Layers, lf)
	}
	return sf
}

// Blank reports whether nothing was typed in the row (it is left out).
func (lf layerForm) Blank() bool {
	return strings.TrimSpace(lf.Name+lf.Start+lf.Members+lf.Restrict) == ""
}

// Number is the row's number for people, from 1.
func (lf layerForm) Number() int { return lf.Row + 1 }

// formInputError is an input error of a form, keyed as its template shows it.
type formInputError struct{ key, msg string }

func (e *formInputError) Error() string { return e.key + ": " + e.msg }

var membersSep = regexp.MustCompile(`[\s,;、，]+`)

// input turns the form into a schedule; rows maps the store's layer index to
// the form's row.
func (sf scheduleForm) input(lang string, byName map[string]int64) (oncall.ScheduleInput, []int, error) {
	in := oncall.ScheduleInput{Slug: sf.Slug, Name: sf.Name, Description: sf.Description, TimeZone: sf.TimeZone, TeamID: sf.TeamID}
	tz, err := time.LoadLocation(strings.TrimSpace(sf.TimeZone))
	if err != nil || strings.TrimSpace(sf.TimeZone) == "Local" {
		tz = time.UTC // the store names the field
	}
	var rows []int
	for _, lf := range sf.Layers {
		if lf.Remove || lf.Blank() {
			continue
		}
		key := func(f string) string { return "layers." + strconv.Itoa(lf.Row) + "." + f }
		l := oncall.LayerRecord{Name: lf.Name}
		var ok bool
		if l.Start, ok = parseLocal(lf.Start, tz); !ok {
			return in, nil, &formInputError{key("start"), i18n.T(lang, "schedule.err_time")}
		}
		n, ok := atoiForm(lf.Shift, 0)
		unit := map[string]time.Duration{"m": time.Minute, "h": time.Hour, "d": 24 * time.Hour}[lf.Unit]
		if !ok || n <= 0 || unit == 0 || n > int64(oncall.MaxShiftLength/unit) {
			return in, nil, &formInputError{key("shift"), i18n.T(lang, "schedule_edit.err_shift")}
		}
		l.ShiftLength = time.Duration(n) * unit
		for _, name := range membersSep.Split(strings.TrimSpace(lf.Members), -1) {
			if name == "" {
				continue
			}
			id, ok := byName[strings.ToLower(strings.TrimPrefix(name, "@"))]
			if !ok {
				return in, nil, &formInputError{key("members"), i18n.T(lang, "schedule_edit.err_member", name)}
			}
			l.Members = append(l.Members, id)
		}
		if l.Restrict, err = parseRestrict(lf.Restrict); err != nil {
			return in, nil, &formInputError{key("restrict"), i18n.T(lang, "schedule_edit.err_restrict")}
		}
		in.Layers = append(in.Layers, l)
		rows = append(rows, lf.Row)
	}
	return in, rows, nil
}

var layerField = regexp.MustCompile(`^layers\[(\d+)\]\.([a-z_]+)`)

// scheduleFormError keys a store's error as the schedule form shows it.
func scheduleFormError(lang string, err error, rows []int) (string, string, bool) {
	if fe, ok := err.(*formInputError); ok {
		return fe.key, fe.msg, true
	}
	field, msg, ok := formError(lang, err)
	if !ok {
		return "", "", false
	}
	if m := layerField.FindStringSubmatch(field); m != nil {
		i, _ := strconv.Atoi(m[1])
		if i < len(rows) {
			f := m[2]
			if f == "shift_length" {
				f = "shift"
			}
			return "layers." + strconv.Itoa(rows[i]) + "." + f, msg, true
		}
	}
	if strings.HasPrefix(field, "layers") {
		field = "layers"
	}
	return field, msg, true
}

func (o *oncallUI) saveSchedule(w http.ResponseWriter, r *http.Request, id int64) {
	if !o.form(w, r) {
		return
	}
	ctx := r.Context()
	lang := o.lang(r)
	sf := readScheduleForm(r)
	users, _, err := o.people(ctx)
	if err != nil {
		o.fail(w, r, err)
		return
	}
	byName := map[string]int64{}
	for _, u := range users {
		byName[u.Username] = u.ID
	}
	d := scheduleEditData{ID: id, Form: sf}
	var rec oncall.ScheduleRecord
	in, rows, err := sf.input(lang, byName)
	if err == nil {
		if id == 0 {
			rec, err = o.s.OnCall.CreateSchedule(ctx, in)
		} else {
			var cur oncall.ScheduleRecord
			if cur, err = o.s.OnCall.GetSchedule(ctx, id); err == nil {
				d.Plan = cur.Source == oncall.SourcePlan
				if err = o.s.slugInUse(ctx, "schedule", cur.Slug, in.Slug); err == nil {
					rec, err = o.s.OnCall.UpdateSchedule(ctx, id, in)
				}
			}
		}
	}
	if err != nil {
		if err == oncall.ErrPlanManaged {
			err = &formInputError{"form", i18n.T(lang, "schedule_edit.err_plan")}
		}
		key, msg, ok := scheduleFormError(lang, err, rows)
		if !ok {
			o.fail(w, r, notFound(err, "schedule"))
			return
		}
		d.Errors = map[string]string{key: msg}
		o.renderScheduleEdit(w, r, http.StatusUnprocessableEntity, d)
		return
	}
	doneKey := "schedule_saved"
	if id == 0 {
		doneKey = "schedule_created"
	}
	seeOther(w, r, scheduleURL(rec.ID)+"?done="+doneKey)
}

func (o *oncallUI) createSchedule(w http.ResponseWriter, r *http.Request) { o.saveSchedule(w, r, 0) }

func (o *oncallUI) updateSchedule(w http.ResponseWriter, r *http.Request) {
	ids, ok := o.ids(w, r, "id")
	if ok {
		o.saveSchedule(w, r, ids[0])
	}
}

func (o *oncallUI) deleteSchedule(w http.ResponseWriter, r *http.Request) {
	ids, ok := o.ids(w, r, "id")
	if !ok || !o.form(w, r) {
		return
	}
	ctx := r.Context()
	rec, err := o.s.OnCall.GetSchedule(ctx, ids[0])
	if err == nil && rec.Source == oncall.SourcePlan {
		err = oncall.ErrPlanManaged
	}
	if err == nil {
		if err = o.s.slugInUse(ctx, "schedule", rec.Slug, ""); err == nil {
			err = o.s.OnCall.DeleteSchedule(ctx, rec.ID)
		}
	}
	if err == oncall.ErrPlanManaged {
		err = &oncall.FieldError{Field: "form", Msg: i18n.T(o.lang(r), "schedule_edit.err_plan")}
	}
	if err != nil {
		o.scheduleFailed(w, r, ids[0], scheduleData{}, "delete", err)
		return
	}
	seeOther(w, r, "/schedules?done=schedule_deleted")
}

// ---- daily windows as text: "mon-fri 09:00-18:00; sat 10:00-14:00" ----

var dayOrder = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

// restrictText writes a layer's windows as the form shows them.
func restrictText(ws []oncall.WindowSpec) string {
	var parts []string
	for _, w := range ws {
		p := w.From + "-" + w.To
		if len(w.Days) > 0 {
			p = daysText(w.Days) + " " + p
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, "; ")
}

// daysText writes days in week order, runs of three or more as "mon-fri".
func daysText(days []string) string {
	var idx []int
	for _, d := range days {
		if i := slices.Index(dayOrder, d); i >= 0 {
			idx = append(idx, i)
		}
	}
	slices.Sort(idx)
	idx = slices.Compact(idx)
	var out []string
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && idx[j+1] == idx[j]+1 {
			j++
		}
		if j-i >= 2 {
			out = append(out, dayOrder[idx[i]]+"-"+dayOrder[idx[j]])
		} else {
			for k := i; k <= j; k++ {
				out = append(out, dayOrder[idx[k]])
			}
		}
		i = j + 1
	}
	return strings.Join(out, ",")
}

// parseRestrict reads windows typed as restrictText writes them.
func parseRestrict(s string) ([]oncall.WindowSpec, error) {
	var out []oncall.WindowSpec
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == '\n' || r == '；' }) {
		fields := strings.Fields(strings.ToLower(part))
		var w oncall.WindowSpec
		switch len(fields) {
		case 0:
			continue
		case 1:
		case 2:
			for _, d := range strings.Split(fields[0], ",") {
				from, to, isRange := strings.Cut(d, "-")
				a, b := slices.Index(dayOrder, from), slices.Index(dayOrder, to)
				switch {
				case !isRange && a >= 0:
					w.Days = append(w.Days, from)
				case isRange && a >= 0 && b >= 0:
					for i := a; ; i = (i + 1) % 7 {
						w.Days = append(w.Days, dayOrder[i])
						if i == b {
							break
						}
					}
				default:
					return nil, fmt.Errorf("unknown day %q", d)
				}
			}
		default:
			return nil, fmt.Errorf("window %q", part)
		}
		var ok bool
		if w.From, w.To, ok = strings.Cut(fields[len(fields)-1], "-"); !ok {
			return nil, fmt.Errorf("window %q has no from-to", part)
		}
		out = append(out, w)
	}
	return out, nil
}
