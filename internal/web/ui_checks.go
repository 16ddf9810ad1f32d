package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/firebreak/firebreak/internal/check"
	"github.com/firebreak/firebreak/internal/i18n"
	"github.com/firebreak/firebreak/internal/maintenance"
	"github.com/firebreak/firebreak/internal/plan"
	"github.com/firebreak/firebreak/internal/service"
)

// checksPages are the page templates of the early-warning area.
var checksPages = []string{"checks", "check", "check_edit", "maintenance", "restore_tests"}

// checksUI renders the pages of checks, maintenance windows and restore tests.
type checksUI struct{ s *Server }

// registerChecksUI registers the pages of checks, maintenance windows and
// restore tests.
func (s *Server) registerChecksUI() {
	c := &checksUI{s: s}
	// Viewers read; admins create, change and delete; responders run checks
	// and record restore tests.
	s.handle("GET /checks", Viewer, c.listPage)
	s.handle("GET /checks/new", Admin, c.newForm)
	s.handle("POST /checks", Admin, c.create)
	s.handle("GET /checks/{id}", Viewer, c.checkPage)
	s.handle("GET /checks/{id}/edit", Admin, c.editForm)
	s.handle("POST /checks/{id}", Admin, c.update)
	s.handle("POST /checks/{id}/delete", Admin, c.remove)
	s.handle("POST /checks/{id}/run", Responder, c.run)

	s.handle("GET /maintenance", Viewer, c.maintenancePage)
	s.handle("POST /maintenance", Admin, c.createWindow)
	s.handle("GET /maintenance/{id}/edit", Admin, c.editWindowForm)
	s.handle("POST /maintenance/{id}", Admin, c.updateWindow)
	s.handle("POST /maintenance/{id}/delete", Admin, c.deleteWindow)

	s.handle("GET /restore-tests", Viewer, c.restorePage)
	s.handle("POST /restore-tests", Responder, c.addRestoreTest)
}

func (c *checksUI) ui() *ui { return c.s.ui }

func (c *checksUI) lang(r *http.Request) string { return c.ui().lang(r) }

// render writes a page titled by a message key.
func (c *checksUI) render(w http.ResponseWriter, r *http.Request, status int, tmpl, nav, titleKey string, d any, args ...any) {
	u := c.ui()
	v := u.view(r, "", nav, d)
	v.Title = i18n.T(v.Lang, titleKey, args...)
	u.render(w, r, status, tmpl, v)
}

// fail answers a request that went wrong with the error page.
func (c *checksUI) fail(w http.ResponseWriter, r *http.Request, err error) { c.s.checkErr(w, r, err) }

// id reads the path id; on failure it has answered.
func (c *checksUI) id(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := pathID(r, "id")
	if err != nil {
		c.fail(w, r, err)
		return 0, false
	}
	return id, true
}

// form parses a posted form; on failure it has answered.
func (c *checksUI) form(w http.ResponseWriter, r *http.Request) bool {
	if err := parseForm(w, r); err != nil {
		c.fail(w, r, err)
		return false
	}
	return true
}

// checksDone is the confirmation a page shows after a form went through,
// named by ?done= (only known messages are shown).
func checksDone(lang string, r *http.Request) string {
	k := r.URL.Query().Get("done")
	if k == "" || strings.ContainsAny(k, ". ") || !i18n.Has("checks.done."+k) {
		return ""
	}
	return i18n.T(lang, "checks.done."+k)
}

func checkURL(id int64) string { return "/checks/" + strconv.FormatInt(id, 10) }

// Check statuses as pages show them: a paused check is "paused" whatever it
// was when it stopped.
const statusPaused = "paused"

var checkStatuses = []string{check.StatusUp, check.StatusDown, check.StatusUnknown, statusPaused}

func statusOf(v check.View) string {
	if v.Paused {
		return statusPaused
	}
	switch v.State.Status {
	case check.StatusUp, check.StatusDown:
		return v.State.Status
	}
	return check.StatusUnknown
}

func kindLabel(lang, kind string) string { return label(lang, "checks.kind.", kind) }

func statusLabel(lang, status string) string { return label(lang, "checks.status.", status) }

// checkTitle is what a check is called on pages: its name, else its slug.
func checkTitle(v check.View) string {
	if v.Name != "" {
		return v.Name
	}
	return v.Slug
}

// shortDur writes a Go duration without zero trailing units: "30s", "1m", "12h", "1h30m".
func shortDur(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// latencyText writes a latency: "0ms", "120ms", "1.25s".
func latencyText(d time.Duration) string {
	if d > 0 && d < time.Millisecond {
		return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', -1, 64) + "ms"
	}
	if d < time.Second {
		return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
	}
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "s"
}

// pct writes an uptime fraction as a percentage, never rounding up to 100%.
func pct(f float64) string {
	p := f * 100
	if p >= 100 {
		return "100%"
	}
	return strconv.FormatFloat(math.Floor(p*100)/100, 'f', 2, 64) + "%"
}

// uptimeOf sums days: the fraction of successful runs, false without runs.
func uptimeOf(days []check.Day) (float64, bool) {
	runs, fails := 0, 0
	for _, d := range days {
		runs += d.Runs
		fails += d.Failures
	}
	if runs == 0 {
		return 0, false
	}
	return float64(runs-fails) / float64(runs), true
}

// uptimeClass colours a day by its uptime.
func uptimeClass(d check.Day) string {
	switch {
	case d.Runs == 0:
		return "u-none"
	case d.Failures == 0:
		return "u-full"
	case d.Uptime >= 0.99:
		return "u-high"
	case d.Uptime >= 0.95:
		return "u-mid"
	}
	return "u-low"
}

// dayTitle is a day's tooltip.
func dayTitle(lang string, d check.Day) string {
	if d.Runs == 0 {
		return i18n.T(lang, "checks.day_none", d.Day)
	}
	return i18n.T(lang, "checks.day_title", d.Day, pct(d.Uptime), d.Runs, d.Failures, latencyText(time.Duration(d.AvgLatency)))
}

// bar is one day of an uptime bar chart.
type bar struct {
	X, Y, W, H int
	Class      string
	Title      string
}

// uptimeBars lays out days as bars of width w every step pixels, h high.
func uptimeBars(lang string, days []check.Day, step, w, h int, titles bool) []bar {
	out := make([]bar, len(days))
	for i, d := range days {
		b := bar{X: i * step, Y: 0, W: w, H: h, Class: uptimeClass(d)}
		if d.Runs > 0 && d.Failures > 0 {
			// A day with failures is drawn shorter the worse it was, so a
			// bad day stands out even without colour.
			b.H = max(h/3, int(math.Round(float64(h)*d.Uptime)))
			b.Y = h - b.H
		}
		if titles {
			b.Title = dayTitle(lang, d)
		}
		out[i] = b
	}
	return out
}

// checkRow is a check in the list.
type checkRow struct {
	ID          int64
	Slug        string
	Title       string
	Kind        string
	KindLabel   string
	Status      string
	StatusLabel string
	LastRun     time.Time
	LastMessage string
	Uptime      string // "" without runs
	UptimeTitle string
	Bars        []bar
	FromPlan    bool
}

type statusFilter struct {
	Value, Label string
	Count        int
}

type checksData struct {
	Rows     []checkRow
	Status   string // the filter
	Statuses []statusFilter
	Total    int
	Done     string
}

// uptimeDays is how far back the uptime bars go.
const uptimeDays = 90

func (c *checksUI) listPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	lang := c.lang(r)
	filter := r.URL.Query().Get("status")
	if filter != "" && !slices.Contains(checkStatuses, filter) {
		c.fail(w, r, &jsonError{http.StatusBadRequest, "status", "status must be up, down, unknown or paused"})
		return
	}
	vs, err := c.s.Checks.List(ctx)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d := checksData{Status: filter, Total: len(vs), Done: checksDone(lang, r)}
	counts := map[string]int{}
	for _, v := range vs {
		st := statusOf(v)
		counts[st]++
		if filter != "" && st != filter {
			continue
		}
		days, err := c.s.Checks.Daily(ctx, v.ID, uptimeDays)
		if err != nil {
			c.fail(w, r, err)
			return
		}
		row := checkRow{ID: v.ID, Slug: v.Slug, Title: checkTitle(v), Kind: v.Kind, KindLabel: kindLabel(lang, v.Kind),
			Status: st, StatusLabel: statusLabel(lang, st), LastRun: v.State.LastRunAt, LastMessage: v.State.LastMessage,
			Bars: uptimeBars(lang, days, 4, 3, 20, false), FromPlan: v.Source == "plan"}
		if up, ok := uptimeOf(days); ok {
			row.Uptime = pct(up)
			row.UptimeTitle = i18n.T(lang, "checks.uptime_title", uptimeDays, row.Uptime)
		} else {
			row.UptimeTitle = i18n.T(lang, "checks.uptime_none", uptimeDays)
		}
		d.Rows = append(d.Rows, row)
	}
	for _, st := range checkStatuses {
		d.Statuses = append(d.Statuses, statusFilter{Value: st, Label: statusLabel(lang, st), Count: counts[st]})
	}
	c.render(w, r, http.StatusOK, "checks", "checks", "checks.title", d)
}

// kv is one line of a definition list.
type kv struct{ Key, Value string }

// curlLine is a heartbeat example, with an id for its copy button.
type curlLine struct {
	ID, Label, Command string
}

type pingRow struct {
	At       time.Time
	Kind     string // success, start, fail, exit
	Label    string
	Failed   bool
	Duration string
	Body     string
	Remote   string
}

type resultRow struct {
	At      time.Time
	OK      bool
	Latency string
	Message string
}

// point is a position on a chart, with its tooltip.
type point struct {
	X, Y  float64
	Title string
}

type axisLabel struct {
	X, Y float64
	Text string
}

// latencyChart is a line chart of a check's latency over the last day.
type latencyChart struct {
	W, H          int
	Left, Top     float64
	PlotW, PlotH  float64
	Bottom, Right float64 // Top+PlotH, Left+PlotW
	Line          string  // polyline points of successful runs
	Dots          []point // successful runs, when few enough to mark
	Fails         []point // failed runs, on the bottom edge
	Grid          []axisLabel
	XLabels       []axisLabel
	Runs          int
	Summary       string
}

type uptimeChart struct {
	W, H   int
	Bars   []bar
	Uptime string
	From   string
	To     string
}

type checkData struct {
	V            check.View
	Title        string
	Status       string
	StatusLabel  string
	KindLabel    string
	Interval     string
	Timeout      string
	LastLatency  string
	ServiceName  string
	TypeName     string
	Level        *levelView
	Labels       []kv
	Spec         []kv
	FromPlan     bool
	CanRun       bool
	PingURL      string
	Curl         []curlLine
	Pings        []pingRow
	Latency      latencyChart
	Uptime       uptimeChart
	Results      []resultRow
	Pending      bool // a run was asked for and has not happened yet
	Heartbeat    bool
	Done         string
	RestoreLink  bool
	ScheduleNote string
}

// pingURL is the address a heartbeat pings.
func (c *checksUI) pingURL(r *http.Request, key string) string {
	base := strings.TrimRight(c.s.BaseURL, "/")
	if base == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + r.Host
	}
	return base + "/ping/" + key
}

// runnable reports whether the scheduler runs a check (log checks are driven
// by the lines that arrive, paused ones not at all).
func runnable(v check.View) bool { return !v.Paused && v.Kind != check.KindLog }

func (c *checksUI) checkPage(w http.ResponseWriter, r *http.Request) {
	id, ok := c.id(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	lang := c.lang(r)
	v, err := c.s.Checks.Get(ctx, id)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	st := statusOf(v)
	d := checkData{V: v, Title: checkTitle(v), Status: st, StatusLabel: statusLabel(lang, st), KindLabel: kindLabel(lang, v.Kind),
		Interval: shortDur(time.Duration(v.Interval)), Timeout: shortDur(time.Duration(v.Timeout)),
		LastLatency: latencyText(time.Duration(v.State.LastLatency)), FromPlan: v.Source == "plan",
		CanRun: runnable(v), Done: checksDone(lang, r), RestoreLink: v.Kind == check.KindRestore, Heartbeat: v.Kind == check.KindHeartbeat}
	if v.ServiceID != 0 {
		if sv, err := c.s.Services.Get(ctx, v.ServiceID); err == nil {
			d.ServiceName = sv.Name
		}
	}
	if cur, err := plan.Load(ctx, c.s.DB); err == nil {
		if t, ok := cur.Type(v.Type); ok {
			d.TypeName = t.Name.In(lang)
		}
		if v.Level != "" {
			lv := levelOf(cur, lang, v.Level)
			d.Level = &lv
		}
	} else if !errors.Is(err, plan.ErrNoPlan) {
		c.fail(w, r, err)
		return
	}
	for _, k := range slices.Sorted(mapKeys(v.Labels)) {
		d.Labels = append(d.Labels, kv{k, v.Labels[k]})
	}
	d.Spec = specRows(v.Spec)
	if v.Kind == check.KindHeartbeat && v.PingKey != "" {
		d.PingURL = c.pingURL(r, v.PingKey)
		d.Curl = curlLines(lang, d.PingURL)
		var hb check.HeartbeatSpec
		if json.Unmarshal(v.Spec, &hb) == nil {
			if hb.Schedule != "" {
				tz := hb.TimeZone
				if tz == "" {
					tz = "UTC"
				}
				d.ScheduleNote = i18n.T(lang, "checks.hb_schedule_note", hb.Schedule, tz, shortDur(time.Duration(hb.Grace)))
			} else {
				d.ScheduleNote = i18n.T(lang, "checks.hb_period_note", shortDur(time.Duration(hb.Period)), shortDur(time.Duration(hb.Grace)))
			}
		}
		ps, err := c.s.Checks.Pings(ctx, id, 20)
		if err != nil {
			c.fail(w, r, err)
			return
		}
		for _, p := range ps {
			d.Pings = append(d.Pings, pingRowOf(lang, p))
		}
	}
	now := time.Now().UTC()
	res, err := c.s.Checks.Results(ctx, id, now.Add(-24*time.Hour), now.Add(time.Minute), 0)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d.Latency = latencyChartOf(lang, res, now)
	for i := len(res) - 1; i >= 0 && len(d.Results) < 50; i-- {
		x := res[i]
		d.Results = append(d.Results, resultRow{At: x.At, OK: x.OK, Latency: latencyText(time.Duration(x.Latency)), Message: x.Message})
	}
	days, err := c.s.Checks.Daily(ctx, id, uptimeDays)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d.Uptime = uptimeChart{W: uptimeDays * 8, H: 48, Bars: uptimeBars(lang, days, 8, 6, 48, true)}
	if len(days) > 0 {
		d.Uptime.From, d.Uptime.To = days[0].Day, days[len(days)-1].Day
	}
	if up, ok := uptimeOf(days); ok {
		d.Uptime.Uptime = pct(up)
	}
	if r.URL.Query().Get("done") == "run" && d.CanRun {
		after, err := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
		if err == nil && (v.State.LastRunAt.IsZero() || v.State.LastRunAt.UnixMilli() <= after) {
			d.Pending, d.Done = true, ""
		}
	}
	c.ui().render(w, r, http.StatusOK, "check", c.ui().view(r, d.Title, "checks", d))
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// specRows lists a spec's settings, sorted by name, values as JSON unless text.
func specRows(spec json.RawMessage) []kv {
	var m map[string]any
	if json.Unmarshal(spec, &m) != nil {
		return nil
	}
	var out []kv
	for _, k := range slices.Sorted(mapKeys(m)) {
		var val string
		switch x := m[k].(type) {
		case string:
			val = x
		default:
			b, _ := json.Marshal(x)
			val = string(b)
		}
		out = append(out, kv{k, val})
	}
	return out
}

// curlLines are the ways a job pings its heartbeat.
func curlLines(lang, u string) []curlLine {
	const curl = "curl -fsS -m 10 --retry 5 -o /dev/null "
	return []curlLine{
		{"curl-success", i18n.T(lang, "checks.curl_success"), curl + u},
		{"curl-start", i18n.T(lang, "checks.curl_start"), curl + u + "/start"},
		{"curl-fail", i18n.T(lang, "checks.curl_fail"), curl + u + "/fail"},
		{"curl-exit", i18n.T(lang, "checks.curl_exit"), "/usr/local/bin/backup.sh; " + curl + u + "/$?"},
		{"curl-log", i18n.T(lang, "checks.curl_log"), `m=$(/usr/local/bin/backup.sh 2>&1); curl -fsS -m 10 --retry 5 --data-raw "$m" ` + u + "/$?"},
	}
}

func pingRowOf(lang string, p check.Ping) pingRow {
	row := pingRow{At: p.At, Kind: p.Kind, Body: p.Body, Remote: p.Remote}
	switch p.Kind {
	case check.PingExit:
		row.Label = i18n.T(lang, "checks.ping.exit", p.ExitStatus)
		row.Failed = p.ExitStatus != 0
	default:
		row.Label = label(lang, "checks.ping.", p.Kind)
		row.Failed = p.Kind == check.PingFail
	}
	if p.Kind != check.PingStart && p.Duration > 0 {
		row.Duration = latencyText(time.Duration(p.Duration))
	}
	return row
}

// niceCeil rounds a latency up to 1, 2 or 5 times a power of ten milliseconds.
func niceCeil(d time.Duration) time.Duration {
	ms := max(float64(d)/float64(time.Millisecond), 1)
	p := math.Pow(10, math.Floor(math.Log10(ms)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= ms {
			return time.Duration(m * p * float64(time.Millisecond))
		}
	}
	return time.Duration(10 * p * float64(time.Millisecond))
}

// latencyChartOf draws the last 24 hours of results ending at now.
func latencyChartOf(lang string, res []check.Result, now time.Time) latencyChart {
	ch := latencyChart{W: 720, H: 200, Left: 56, Top: 10, PlotW: 720 - 56 - 12, PlotH: 200 - 10 - 26, Runs: len(res)}
	ch.Bottom, ch.Right = ch.Top+ch.PlotH, ch.Left+ch.PlotW
	from := now.Add(-24 * time.Hour)
	var top time.Duration
	var ok []check.Result
	fails := 0
	for _, x := range res {
		if x.OK {
			ok = append(ok, x)
			top = max(top, time.Duration(x.Latency))
		} else {
			fails++
		}
	}
	ymax := niceCeil(top)
	xOf := func(t time.Time) float64 {
		f := float64(t.Sub(from)) / float64(24*time.Hour)
		return round1(ch.Left + min(max(f, 0), 1)*ch.PlotW)
	}
	yOf := func(d time.Duration) float64 {
		return round1(ch.Top + ch.PlotH - float64(d)/float64(ymax)*ch.PlotH)
	}
	var line strings.Builder
	for i, x := range ok {
		if i > 0 {
			line.WriteByte(' ')
		}
		px, py := xOf(x.At), yOf(time.Duration(x.Latency))
		fmt.Fprintf(&line, "%g,%g", px, py)
		if len(ok) <= 200 {
			ch.Dots = append(ch.Dots, point{X: px, Y: py, Title: absTime(x.At) + " · " + latencyText(time.Duration(x.Latency))})
		}
	}
	ch.Line = line.String()
	for _, x := range res {
		if !x.OK {
			ch.Fails = append(ch.Fails, point{X: xOf(x.At), Y: ch.Bottom, Title: absTime(x.At) + " · " + x.Message})
		}
	}
	for _, f := range []float64{0, 0.5, 1} {
		d := time.Duration(float64(ymax) * f)
		ch.Grid = append(ch.Grid, axisLabel{X: ch.Left - 6, Y: yOf(d), Text: latencyText(d)})
	}
	for h := 24; h >= 0; h -= 6 {
		text := i18n.T(lang, "checks.chart_hours_ago", h)
		if h == 0 {
			text = i18n.T(lang, "checks.chart_now")
		}
		ch.XLabels = append(ch.XLabels, axisLabel{X: xOf(now.Add(-time.Duration(h) * time.Hour)), Y: ch.Bottom + 18, Text: text})
	}
	if len(ok) > 0 {
		lat := make([]time.Duration, len(ok))
		for i, x := range ok {
			lat[i] = time.Duration(x.Latency)
		}
		slices.Sort(lat)
		ch.Summary = i18n.T(lang, "checks.chart_summary", len(res), fails, latencyText(lat[len(lat)/2]), latencyText(lat[len(lat)-1]))
	} else {
		ch.Summary = i18n.T(lang, "checks.chart_summary_none", len(res), fails)
	}
	return ch
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }

func (c *checksUI) run(w http.ResponseWriter, r *http.Request) {
	id, ok := c.id(w, r)
	if !ok || !c.form(w, r) {
		return
	}
	v, err := c.s.Checks.Get(r.Context(), id)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if !runnable(v) {
		c.fail(w, r, &jsonError{http.StatusConflict, "", i18n.T(c.lang(r), "checks.err_not_runnable")})
		return
	}
	if err := c.s.Checks.RunSoon(r.Context(), id); err != nil {
		c.fail(w, r, err)
		return
	}
	var after int64
	if !v.State.LastRunAt.IsZero() {
		after = v.State.LastRunAt.UnixMilli()
	}
	seeOther(w, r, checkURL(id)+"?done=run&after="+strconv.FormatInt(after, 10))
}

func (c *checksUI) remove(w http.ResponseWriter, r *http.Request) {
	id, ok := c.id(w, r)
	if !ok || !c.form(w, r) {
		return
	}
	v, err := c.s.Checks.Get(r.Context(), id)
	if err == nil && v.Source == "plan" {
		c.fail(w, r, &jsonError{http.StatusConflict, "", i18n.T(c.lang(r), "checks.err_plan_delete")})
		return
	}
	if err == nil {
		err = c.s.Checks.Delete(r.Context(), id)
	}
	if err != nil {
		c.fail(w, r, err)
		return
	}
	seeOther(w, r, "/checks?done=deleted")
}

// option is a choice in a select.
type option struct {
	Value, Label string
}

// formChoices are the plan's types and levels and the services, for forms.
type formChoices struct {
	Types    []option
	Levels   []option
	Services []option
}

func (c *checksUI) choices(ctx context.Context, lang string) (formChoices, error) {
	var fc formChoices
	cur, err := plan.Load(ctx, c.s.DB)
	switch {
	case err == nil:
		for _, t := range cur.Types {
			fc.Types = append(fc.Types, option{t.ID, t.Name.In(lang)})
		}
		for _, l := range cur.Levels {
			fc.Levels = append(fc.Levels, option{l.ID, l.ID + " · " + l.Name.In(lang)})
		}
	case !errors.Is(err, plan.ErrNoPlan):
		return fc, err
	}
	svs, err := c.s.Services.List(ctx)
	if err != nil {
		return fc, err
	}
	for _, sv := range svs {
		fc.Services = append(fc.Services, option{strconv.FormatInt(sv.ID, 10), sv.Name})
	}
	return fc, nil
}

// serviceNames maps service ids to names.
func (c *checksUI) serviceNames(ctx context.Context) (map[int64]string, []service.Service, error) {
	svs, err := c.s.Services.List(ctx)
	if err != nil {
		return nil, nil, err
	}
	out := make(map[int64]string, len(svs))
	for _, sv := range svs {
		out[sv.ID] = sv.Name
	}
	return out, svs, nil
}

// uiFieldError is an input error of a form, keyed by the input's name.
type uiFieldError struct{ Field, Msg string }

func (e *uiFieldError) Error() string { return e.Field + ": " + e.Msg }

// inputError returns the field and message of an input error, or false.
func inputError(lang string, err error) (field, msg string, ok bool) {
	var ue *uiFieldError
	var ce *check.FieldError
	var me *maintenance.FieldError
	var je *jsonError
	switch {
	case errors.As(err, &ue):
		field, msg = ue.Field, ue.Msg
	case errors.As(err, &ce):
		field, msg = ce.Field, ce.Msg
	case errors.As(err, &me):
		field, msg = me.Field, me.Msg
	case errors.As(err, &je) && je.status == http.StatusBadRequest:
		field, msg = je.field, je.msg
	default:
		return "", "", false
	}
	if msg == "is required" || msg == "required" || strings.HasPrefix(msg, "is required ") || strings.HasPrefix(msg, "required ") {
		msg = i18n.T(lang, "form.required") + strings.TrimPrefix(strings.TrimPrefix(strings.TrimPrefix(msg, "is required"), "required"), " ")
		msg = strings.TrimSpace(msg)
	}
	return field, msg, true
}
