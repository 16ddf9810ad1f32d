package web

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/firebreak/firebreak/internal/auth"
	"github.com/firebreak/firebreak/internal/check"
	"github.com/firebreak/firebreak/internal/i18n"
	"github.com/firebreak/firebreak/internal/maintenance"
)

// Which windows the maintenance page lists.
var windowViews = []string{"now", "upcoming", "all"}

// upcomingWithin is how far ahead the maintenance page looks.
const upcomingWithin = 90 * 24 * time.Hour

// windowForm is the maintenance window form, as typed.
type windowForm struct {
	Title, Description string
	Mode               string // once or recurring
	Starts, Ends       string // datetime-local in TimeZone
	TimeZone           string
	Cron, Duration     string
	Services           []int64
	Checks             []string
	Matchers           string // lines: label=value or label=~regex
	Public             bool
}

// choice is an option of a multiple select.
type choice struct {
	Value, Label string
	Selected     bool
}

type windowRow struct {
	ID          int64
	Title       string
	Description string
	Public      bool
	Recurring   bool
	Cron        string
	TimeZone    string
	Duration    string
	Active      bool
	Ended       bool
	Span        string // the current or next opening, in the window's zone
	Scope       []string
	FromPlan    bool
}

type maintenanceData struct {
	Show     string
	Views    []option
	Rows     []windowRow
	Form     windowForm
	Errors   map[string]string
	Services []choice
	Checks   []choice
	Zones    []string
	Done     string
	ID       int64 // the window being edited
	Title    string
	FromPlan bool
}

// wallSpan writes [start, end) in tz: "2026-11-28 18:00 – 20:00 Asia/Shanghai".
func wallSpan(start, end time.Time, tz *time.Location) string {
	s, e := start.In(tz), end.In(tz)
	layout := "2006-01-02 15:04"
	if s.Format(time.DateOnly) == e.Format(time.DateOnly) {
		layout = "15:04"
	}
	return s.Format("2006-01-02 15:04") + " – " + e.Format(layout) + " " + tz.String()
}

// matcherText writes a matcher as the form takes it.
func matcherText(m maintenance.Matcher) string {
	if m.Regex != "" {
		return m.Label + "=~" + m.Regex
	}
	return m.Label + "=" + m.Equals
}

func (c *checksUI) windowRow(lang string, w *maintenance.Window, names map[int64]string, now time.Time) windowRow {
	row := windowRow{ID: w.ID, Title: w.Title, Description: w.Description, Public: w.Public, Recurring: w.Cron != "",
		Cron: w.Cron, TimeZone: w.TimeZone, FromPlan: w.Source == "plan"}
	if w.Duration > 0 {
		row.Duration = shortDur(time.Duration(w.Duration))
	}
	tz := loadZone(w.TimeZone)
	if start, end, ok := w.Span(now); ok {
		row.Span = wallSpan(start, end, tz)
		row.Active = !now.Before(start) && now.Before(end)
	} else {
		row.Ended = true
		if !w.StartsAt.IsZero() {
			row.Span = wallSpan(w.StartsAt, w.EndsAt, tz)
		}
	}
	for _, id := range w.Services {
		n, ok := names[id]
		if !ok {
			n = "#" + strconv.FormatInt(id, 10)
		}
		row.Scope = append(row.Scope, i18n.T(lang, "maint.scope_service", n))
	}
	for _, s := range w.Checks {
		row.Scope = append(row.Scope, i18n.T(lang, "maint.scope_check", s))
	}
	for _, m := range w.Matchers {
		row.Scope = append(row.Scope, i18n.T(lang, "maint.scope_matcher", matcherText(m)))
	}
	if len(row.Scope) == 0 {
		row.Scope = []string{i18n.T(lang, "maint.scope_all")}
	}
	return row
}

func (c *checksUI) renderMaintenance(w http.ResponseWriter, r *http.Request, status int, d maintenanceData) {
	ctx := r.Context()
	lang := c.lang(r)
	names, svs, err := c.serviceNames(ctx)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	for _, sv := range svs {
		d.Services = append(d.Services, choice{strconv.FormatInt(sv.ID, 10), sv.Name, slices.Contains(d.Form.Services, sv.ID)})
	}
	vs, err := c.s.Checks.List(ctx)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	for _, v := range vs {
		d.Checks = append(d.Checks, choice{v.Slug, checkTitle(v), slices.Contains(d.Form.Checks, v.Slug)})
	}
	// Checks named by a window that no longer exist stay choosable.
	for _, slug := range d.Form.Checks {
		if !slices.ContainsFunc(d.Checks, func(c choice) bool { return c.Value == slug }) {
			d.Checks = append(d.Checks, choice{slug, slug, true})
		}
	}
	d.Zones = commonZones
	if d.ID != 0 {
		c.render(w, r, status, "maintenance", "maintenance", "maint.edit_title", d, d.Title)
		return
	}
	for _, v := range windowViews {
		d.Views = append(d.Views, option{v, i18n.T(lang, "maint.view_"+v)})
	}
	now := time.Now().UTC()
	switch d.Show {
	case "all":
		all, err := c.s.Maintenance.List(ctx)
		if err != nil {
			c.fail(w, r, err)
			return
		}
		for _, win := range slices.Backward(all) {
			d.Rows = append(d.Rows, c.windowRow(lang, win, names, now))
		}
	default:
		occ, err := c.s.Maintenance.Upcoming(ctx, now.Add(upcomingWithin), false)
		if err != nil {
			c.fail(w, r, err)
			return
		}
		for _, o := range occ {
			if d.Show == "now" && !o.Active {
				continue
			}
			d.Rows = append(d.Rows, c.windowRow(lang, o.Window, names, now))
		}
	}
	d.Done = checksDone(lang, r)
	c.render(w, r, status, "maintenance", "maintenance", "maint.title", d)
}

func defaultWindowForm() windowForm {
	now := time.Now().UTC().Truncate(time.Hour).Add(time.Hour)
	return windowForm{Mode: "once", TimeZone: "UTC", Starts: now.Format(formMinute), Ends: now.Add(2 * time.Hour).Format(formMinute),
		Cron: "0 2 * * 0", Duration: "2h"}
}

func (c *checksUI) maintenancePage(w http.ResponseWriter, r *http.Request) {
	show := r.URL.Query().Get("show")
	if show == "" {
		show = "upcoming"
	}
	if !slices.Contains(windowViews, show) {
		c.fail(w, r, &jsonError{http.StatusBadRequest, "show", "show must be now, upcoming or all"})
		return
	}
	c.renderMaintenance(w, r, http.StatusOK, maintenanceData{Show: show, Form: defaultWindowForm()})
}

func readWindowForm(r *http.Request) windowForm {
	g := func(k string) string { return strings.TrimSpace(r.PostForm.Get(k)) }
	f := windowForm{Title: g("title"), Description: r.PostForm.Get("description"), Mode: g("mode"), Starts: g("starts_at"),
		Ends: g("ends_at"), TimeZone: g("time_zone"), Cron: g("cron"), Duration: g("duration"), Matchers: r.PostForm.Get("matchers"),
		Public: r.PostForm.Get("public") != ""}
	for _, v := range r.PostForm["services"] {
		if id, err := strconv.ParseInt(v, 10, 64); err == nil && id > 0 {
			f.Services = append(f.Services, id)
		}
	}
	for _, v := range r.PostForm["checks"] {
		if v = strings.TrimSpace(v); v != "" {
			f.Checks = append(f.Checks, v)
		}
	}
	return f
}

// toWindow turns the form into a window; times are read in its time zone.
func (f windowForm) toWindow(lang string) (maintenance.Window, error) {
	win := maintenance.Window{Title: f.Title, Description: f.Description, TimeZone: f.TimeZone, Services: f.Services,
		Checks: f.Checks, Public: f.Public}
	if win.TimeZone == "" {
		win.TimeZone = "UTC"
	}
	tz, err := time.LoadLocation(win.TimeZone)
	if err != nil {
		return win, &uiFieldError{"time_zone", i18n.T(lang, "maint.err_zone", win.TimeZone)}
	}
	if f.Mode == "recurring" {
		win.Cron = f.Cron
		if win.Cron == "" {
			return win, &uiFieldError{"cron", i18n.T(lang, "form.required")}
		}
		if f.Duration != "" {
			d, err := time.ParseDuration(f.Duration)
			if err != nil {
				return win, &uiFieldError{"duration", i18n.T(lang, "checks.err_duration")}
			}
			win.Duration = maintenance.Duration(d)
		}
	} else {
		if f.Starts != "" {
			t, ok := parseLocal(f.Starts, tz)
			if !ok {
				return win, &uiFieldError{"starts_at", i18n.T(lang, "maint.err_time")}
			}
			win.StartsAt = t.UTC()
		}
		if f.Ends != "" {
			t, ok := parseLocal(f.Ends, tz)
			if !ok {
				return win, &uiFieldError{"ends_at", i18n.T(lang, "maint.err_time")}
			}
			win.EndsAt = t.UTC()
		}
	}
	for _, l := range lines(f.Matchers) {
		m, ok := parseMatcher(l)
		if !ok {
			return win, &uiFieldError{"matchers", i18n.T(lang, "maint.err_matcher_line", l)}
		}
		win.Matchers = append(win.Matchers, m)
	}
	return win, nil
}

// parseMatcher reads "label=value" or "label=~regex".
func parseMatcher(l string) (maintenance.Matcher, bool) {
	k, v, ok := strings.Cut(l, "=")
	k = strings.TrimSpace(k)
	if !ok || k == "" {
		return maintenance.Matcher{}, false
	}
	if re, isRE := strings.CutPrefix(v, "~"); isRE {
		return maintenance.Matcher{Label: k, Regex: strings.TrimSpace(re)}, true
	}
	return maintenance.Matcher{Label: k, Equals: strings.TrimSpace(v)}, true
}

// windowInput names the form input a window error is about.
func windowInput(field string) string {
	switch {
	case strings.HasPrefix(field, "matchers"):
		return "matchers"
	case strings.HasPrefix(field, "checks"):
		return "checks"
	case strings.HasPrefix(field, "services"):
		return "services"
	}
	switch field {
	case "title", "description", "starts_at", "ends_at", "cron", "time_zone", "duration":
		return field
	}
	return "form"
}

func (c *checksUI) windowFailed(w http.ResponseWriter, r *http.Request, d maintenanceData, err error) {
	field, msg, ok := inputError(c.lang(r), err)
	if !ok {
		c.fail(w, r, err)
		return
	}
	if field == "cron" && d.Form.Mode != "recurring" || (field == "starts_at" || field == "ends_at") && d.Form.Mode == "recurring" {
		field = "form"
	}
	d.Errors = map[string]string{windowInput(field): msg}
	if d.Show == "" {
		d.Show = "upcoming"
	}
	c.renderMaintenance(w, r, http.StatusUnprocessableEntity, d)
}

func (c *checksUI) createWindow(w http.ResponseWriter, r *http.Request) {
	if !c.form(w, r) {
		return
	}
	f := readWindowForm(r)
	d := maintenanceData{Form: f}
	win, err := f.toWindow(c.lang(r))
	if err == nil {
		win.CreatedBy = user(r).ID
		if _, err = c.s.Maintenance.Create(r.Context(), win); err == nil {
			seeOther(w, r, "/maintenance?show=all&done=window_created")
			return
		}
	}
	c.windowFailed(w, r, d, err)
}

// formOfWindow fills the form from a stored window.
func formOfWindow(win *maintenance.Window) windowForm {
	f := defaultWindowForm()
	f.Title, f.Description, f.TimeZone, f.Public = win.Title, win.Description, win.TimeZone, win.Public
	f.Services, f.Checks = win.Services, win.Checks
	tz := loadZone(win.TimeZone)
	if win.Cron != "" {
		f.Mode, f.Cron, f.Duration = "recurring", win.Cron, shortDur(time.Duration(win.Duration))
	} else {
		f.Mode = "once"
		f.Starts, f.Ends = win.StartsAt.In(tz).Format(formMinute), win.EndsAt.In(tz).Format(formMinute)
	}
	var ms []string
	for _, m := range win.Matchers {
		ms = append(ms, matcherText(m))
	}
	f.Matchers = strings.Join(ms, "\n")
	return f
}

func (c *checksUI) editWindowForm(w http.ResponseWriter, r *http.Request) {
	id, ok := c.id(w, r)
	if !ok {
		return
	}
	win, err := c.s.Maintenance.Get(r.Context(), id)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.renderMaintenance(w, r, http.StatusOK, maintenanceData{ID: id, Title: win.Title, FromPlan: win.Source == "plan", Form: formOfWindow(win)})
}

func (c *checksUI) updateWindow(w http.ResponseWriter, r *http.Request) {
	id, ok := c.id(w, r)
	if !ok || !c.form(w, r) {
		return
	}
	old, err := c.s.Maintenance.Get(r.Context(), id)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	f := readWindowForm(r)
	d := maintenanceData{ID: id, Title: old.Title, FromPlan: old.Source == "plan", Form: f}
	win, err := f.toWindow(c.lang(r))
	if err == nil {
		if _, err = c.s.Maintenance.Update(r.Context(), id, win); err == nil {
			seeOther(w, r, "/maintenance?show=all&done=window_saved")
			return
		}
	}
	c.windowFailed(w, r, d, err)
}

func (c *checksUI) deleteWindow(w http.ResponseWriter, r *http.Request) {
	id, ok := c.id(w, r)
	if !ok || !c.form(w, r) {
		return
	}
	if err := c.s.Maintenance.Delete(r.Context(), id); err != nil {
		c.fail(w, r, err)
		return
	}
	seeOther(w, r, "/maintenance?show=all&done=window_deleted")
}

// restoreResource is a backup resource whose restores must be tested.
type restoreResource struct {
	Resource    string
	CheckID     int64
	Every       string
	State       string // ok, overdue, never
	StateLabel  string
	LastOK      time.Time
	DueAt       time.Time
	CheckStatus string
	StatusLabel string
	LastMessage string
}

type restoreRow struct {
	ID       int64
	Resource string
	TestedAt time.Time
	Duration string
	DataAge  string
	OK       bool
	Evidence string
	By       string
}

type restoreForm struct {
	Resource, TestedAt, Duration, DataAge, Evidence string
	OK                                              bool
}

type restoreData struct {
	Resources []restoreResource
	Tests     []restoreRow
	Form      restoreForm
	Errors    map[string]string
	Done      string
}

func (c *checksUI) renderRestore(w http.ResponseWriter, r *http.Request, status int, d restoreData) {
	ctx := r.Context()
	lang := c.lang(r)
	vs, err := c.s.Checks.List(ctx)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	tests, err := c.s.Checks.RestoreTests(ctx, "", 200)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	lastOK := map[string]time.Time{}
	for _, t := range tests {
		if t.OK && t.TestedAt.After(lastOK[t.Resource]) {
			lastOK[t.Resource] = t.TestedAt
		}
	}
	now := time.Now()
	for _, v := range vs {
		if v.Kind != check.KindRestore {
			continue
		}
		var sp check.RestoreSpec
		if json.Unmarshal(v.Spec, &sp) != nil {
			continue
		}
		st := statusOf(v)
		res := restoreResource{Resource: sp.Resource, CheckID: v.ID, Every: durText(lang, time.Duration(sp.Every)),
			LastOK: lastOK[sp.Resource], CheckStatus: st, StatusLabel: statusLabel(lang, st), LastMessage: v.State.LastMessage}
		switch {
		case res.LastOK.IsZero():
			res.State = "never"
		case now.Sub(res.LastOK) > time.Duration(sp.Every):
			res.State = "overdue"
		default:
			res.State = "ok"
		}
		if !res.LastOK.IsZero() {
			res.DueAt = res.LastOK.Add(time.Duration(sp.Every))
		}
		res.StateLabel = i18n.T(lang, "restore.state_"+res.State)
		d.Resources = append(d.Resources, res)
	}
	users, err := c.s.Auth.ListUsers(ctx)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	byID := map[int64]auth.User{}
	for _, u := range users {
		byID[u.ID] = u
	}
	for _, t := range tests {
		row := restoreRow{ID: t.ID, Resource: t.Resource, TestedAt: t.TestedAt, Duration: durText(lang, time.Duration(t.Duration)),
			DataAge: durText(lang, time.Duration(t.DataAge)), OK: t.OK, Evidence: t.Evidence}
		if t.CreatedBy != 0 {
			row.By = personName(byID, t.CreatedBy)
		}
		d.Tests = append(d.Tests, row)
	}
	if d.Form.Resource == "" && len(d.Resources) > 0 {
		d.Form.Resource = d.Resources[0].Resource
	}
	d.Done = checksDone(lang, r)
	c.render(w, r, status, "restore_tests", "checks", "restore.title", d)
}

func (c *checksUI) restorePage(w http.ResponseWriter, r *http.Request) {
	c.renderRestore(w, r, http.StatusOK, restoreData{Form: restoreForm{OK: true, TestedAt: time.Now().UTC().Format(formMinute)}})
}

func (c *checksUI) addRestoreTest(w http.ResponseWriter, r *http.Request) {
	if !c.form(w, r) {
		return
	}
	lang := c.lang(r)
	g := func(k string) string { return strings.TrimSpace(r.PostForm.Get(k)) }
	f := restoreForm{Resource: g("resource"), TestedAt: g("tested_at"), Duration: g("duration"), DataAge: g("data_age"),
		Evidence: r.PostForm.Get("evidence"), OK: r.PostForm.Get("ok") != ""}
	in := check.RestoreTest{Resource: f.Resource, OK: f.OK, Evidence: f.Evidence, CreatedBy: user(r).ID}
	err := func() error {
		if f.TestedAt != "" {
			t, ok := parseLocal(f.TestedAt, time.UTC)
			if !ok {
				return &uiFieldError{"tested_at", i18n.T(lang, "maint.err_time")}
			}
			in.TestedAt = t
		}
		d, err := formDur(lang, "duration", f.Duration)
		if err != nil {
			return err
		}
		in.Duration = check.Duration(d)
		if d, err = formDur(lang, "data_age", f.DataAge); err != nil {
			return err
		}
		in.DataAge = check.Duration(d)
		_, err = c.s.Checks.AddRestoreTest(r.Context(), in)
		return err
	}()
	if err != nil {
		field, msg, ok := inputError(lang, err)
		if !ok {
			c.fail(w, r, err)
			return
		}
		switch field {
		case "resource", "tested_at", "duration", "data_age", "evidence":
		default:
			field = "form"
		}
		c.renderRestore(w, r, http.StatusUnprocessableEntity, restoreData{Form: f, Errors: map[string]string{field: msg}})
		return
	}
	seeOther(w, r, "/restore-tests?done=restore_recorded")
}
