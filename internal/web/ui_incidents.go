package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/firebreak/firebreak/internal/alert"
	"github.com/firebreak/firebreak/internal/auth"
	"github.com/firebreak/firebreak/internal/i18n"
	"github.com/firebreak/firebreak/internal/incident"
	"github.com/firebreak/firebreak/internal/plan"
	"github.com/firebreak/firebreak/internal/service"
)

// currentPlan loads the plan in force; before any plan it is empty.
func (u *ui) currentPlan(ctx context.Context) (*plan.Current, error) {
	cur, err := plan.Load(ctx, u.s.DB)
	if errors.Is(err, plan.ErrNoPlan) {
		return &plan.Current{}, nil
	}
	return cur, err
}

type incidentRow struct {
	incident.Incident
	Lvl  levelView
	Open bool
}

type listData struct {
	Items     []incidentRow
	Status    string // open, all, or one status
	Level     string
	ServiceID int64
	Statuses  []incident.Status
	Levels    []levelView
	Services  []service.Service
	Next      string // the older page
	First     string // the newest page, when paging
}

// listFilter reads the list's filters: status defaults to open, "all" means any.
func listFilter(r *http.Request) (incident.Filter, string, error) {
	q := r.URL.Query()
	status := q.Get("status")
	if status == "" {
		status = "open"
	}
	q2 := url.Values{}
	for k, v := range q {
		q2[k] = v
	}
	if status == "all" {
		q2.Del("status")
	} else {
		q2.Set("status", status)
	}
	u2 := *r.URL
	u2.RawQuery = q2.Encode()
	r2 := *r
	r2.URL = &u2
	f, err := incidentFilter(&r2)
	return f, status, err
}

func (u *ui) incidentList(w http.ResponseWriter, r *http.Request) {
	f, status, err := listFilter(r)
	if err != nil {
		u.s.failErr(w, r, err)
		return
	}
	ctx := r.Context()
	items, next, err := u.s.Incidents.List(ctx, f)
	if err != nil {
		u.s.failErr(w, r, err)
		return
	}
	cur, err := u.currentPlan(ctx)
	if err != nil {
		u.s.failErr(w, r, err)
		return
	}
	services, err := u.s.Services.List(ctx)
	if err != nil {
		u.s.failErr(w, r, err)
		return
	}
	v := u.view(r, "", "incidents", nil)
	d := listData{Status: status, Level: f.Level, ServiceID: f.ServiceID, Statuses: incident.Statuses,
		Levels: levelsOf(cur, v.Lang), Services: services}
	for _, inc := range items {
		d.Items = append(d.Items, incidentRow{Incident: inc, Lvl: levelOf(cur, v.Lang, inc.Level), Open: inc.Status.Open()})
	}
	page := func(cursor string) string {
		q := url.Values{"status": {status}}
		if f.Level != "" {
			q.Set("level", f.Level)
		}
		if f.ServiceID != 0 {
			q.Set("service_id", strconv.FormatInt(f.ServiceID, 10))
		}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		return "/incidents?" + q.Encode()
	}
	if next != "" {
		d.Next = page(next)
	}
	if f.Cursor != "" {
		d.First = page("")
	}
	v.D, v.Title = d, i18n.T(v.Lang, "incidents.title")
	if r.URL.Query().Get("fragment") == "1" {
		u.execute(w, r, http.StatusOK, "incidents", "incident_table", v)
		return
	}
	u.render(w, r, http.StatusOK, "incidents", v)
}

// sse prepares a Server-Sent Events answer.
func sse(w http.ResponseWriter) *http.ResponseController {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: pass events through at once
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	return rc
}

// writeEvent writes one event; every line of data gets its own "data: " prefix.
func writeEvent(w http.ResponseWriter, event string, id int64, data string) error {
	var b strings.Builder
	if event != "" {
		b.WriteString("event: " + event + "\n")
	}
	if id > 0 {
		b.WriteString("id: " + strconv.FormatInt(id, 10) + "\n")
	}
	data = strings.ReplaceAll(strings.ReplaceAll(data, "\r\n", "\n"), "\r", "\n")
	for line := range strings.SplitSeq(data, "\n") {
		b.WriteString("data: " + line + "\n")
	}
	b.WriteString("\n")
	_, err := w.Write([]byte(b.String()))
	return err
}

// drain empties a subscription's pending notices: one re-read covers them all.
func drain(c <-chan int64) {
	for {
		select {
		case <-c:
		default:
			return
		}
	}
}

// listThrottle is the shortest gap between two change events of the list stream.
const listThrottle = 300 * time.Millisecond

// listStream tells a list page that some incident changed; the page then
// fetches its table again.
func (u *ui) listStream(w http.ResponseWriter, r *http.Request) {
	ctx, stop := r.Context(), shutdownCh(r.Context())
	sub := u.s.Live.Subscribe(0)
	defer u.s.Live.Unsubscribe(sub)
	rc := sse(w)
	if _, err := fmt.Fprint(w, "retry: 3000\n\n"); err != nil || rc.Flush() != nil {
		return
	}
	tick := time.NewTicker(u.heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-stop:
			return
		case <-tick.C:
			if _, err := fmt.Fprint(w, ": ping\n\n"); err != nil || rc.Flush() != nil {
				return
			}
		case id := <-sub.C:
			drain(sub.C)
			if writeEvent(w, "changed", 0, strconv.FormatInt(id, 10)) != nil || rc.Flush() != nil {
				return
			}
			select { // let a burst of changes become one event
			case <-ctx.Done():
				return
			case <-stop:
				return
			case <-time.After(listThrottle):
			}
		}
	}
}

type typeView struct {
	ID, Name, DefaultLevel string
}

type declareData struct {
	Form     incident.Declaration
	Types    []typeView
	Levels   []levelView
	Services []service.Service
	Errors   map[string]string
}

func (u *ui) renderDeclare(w http.ResponseWriter, r *http.Request, status int, d declareData) {
	ctx := r.Context()
	cur, err := u.currentPlan(ctx)
	if err != nil {
		u.s.failErr(w, r, err)
		return
	}
	if d.Services, err = u.s.Services.List(ctx); err != nil {
		u.s.failErr(w, r, err)
		return
	}
	v := u.view(r, "", "incidents", nil)
	for _, t := range cur.Types {
		d.Types = append(d.Types, typeView{ID: t.ID, Name: t.Name.In(v.Lang), DefaultLevel: t.DefaultLevel})
	}
	d.Levels = levelsOf(cur, v.Lang)
	v.D, v.Title = d, i18n.T(v.Lang, "declare.title")
	u.render(w, r, status, "declare", v)
}

func (u *ui) declareForm(w http.ResponseWriter, r *http.Request) {
	u.renderDeclare(w, r, http.StatusOK, declareData{})
}

func (u *ui) declare(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r); err != nil {
		u.s.failErr(w, r, err)
		return
	}
	lang := u.lang(r)
	f := r.PostForm
	d := incident.Declaration{Title: f.Get("title"), Type: f.Get("type"), Level: f.Get("level"), Impact: f.Get("impact")}
	if sv := f.Get("service_id"); sv != "" {
		id, err := strconv.ParseInt(sv, 10, 64)
		if err != nil || id < 0 {
			u.renderDeclare(w, r, http.StatusUnprocessableEntity, declareData{Form: d,
				Errors: map[string]string{"service_id": i18n.T(lang, "declare.err_service")}})
			return
		}
		d.ServiceID = id
	}
	inc, err := u.s.Incidents.Declare(r.Context(), actor(r), d)
	var re *incident.RuleError
	if errors.As(err, &re) {
		msg := re.Msg
		if msg == "is required" || msg == "is required when the type has no default level" {
			msg = i18n.T(lang, "form.required")
		}
		field := re.Field
		switch field {
		case "title", "type", "level", "service_id", "impact":
		default:
			field = "form"
		}
		u.renderDeclare(w, r, http.StatusUnprocessableEntity, declareData{Form: d, Errors: map[string]string{field: msg}})
		return
	}
	if err != nil {
		u.s.failErr(w, r, err)
		return
	}
	seeOther(w, r, "/incidents/"+strconv.FormatInt(inc.ID, 10))
}

// incidentData is what the incident page and its live updates show.
type incidentData struct {
	Inc         incident.Incident
	Lvl         levelView
	TypeName    string
	CurrentPlan int64
	Ack         targetView
	Resolve     targetView
	Actions     []actionView
	Allowed     string // statuses the incident may move to, space separated
	Levels      []levelView
	Alerts      []alert.Alert
	Entries     []entryView
	LastID      int64
	CanRespond  bool
	Paging      pagingPanel // escalate now, reassign, notification log
}

// loadIncident reads an incident with what its header shows (not the timeline).
func (u *ui) loadIncident(ctx context.Context, lang string, id int64, canRespond bool) (incidentData, error) {
	inc, err := u.s.Incidents.Get(ctx, id)
	if err != nil {
		return incidentData{}, err
	}
	cur, err := u.currentPlan(ctx)
	if err != nil {
		return incidentData{}, err
	}
	alerts, _, err := u.s.Alerts.List(ctx, alert.Filter{IncidentID: id, Limit: 200})
	if err != nil {
		return incidentData{}, err
	}
	d := incidentData{Inc: inc, Lvl: levelOf(cur, lang, inc.Level), TypeName: inc.Type, CurrentPlan: cur.VersionID,
		Levels: levelsOf(cur, lang), Alerts: alerts, CanRespond: canRespond, Actions: actionsFor(lang, inc.Status)}
	if t, ok := cur.Type(inc.Type); ok {
		d.TypeName = t.Name.In(lang)
	}
	var allowed []string
	for _, a := range d.Actions {
		if a.Allowed {
			allowed = append(allowed, string(a.Status))
		}
	}
	d.Allowed = strings.Join(allowed, " ")
	now := time.Now()
	var ackT, resT time.Duration
	if l, ok := cur.Level(inc.Level); ok {
		ackT, resT = l.AckTarget, l.ResolveTarget
	}
	d.Ack = targetOf(lang, "target.acknowledge", inc.CreatedAt, inc.AcknowledgedAt, now, ackT, inc.Status.Open())
	d.Resolve = targetOf(lang, "target.resolve", inc.CreatedAt, inc.ResolvedAt, now, resT, inc.Status.Open())
	return d, nil
}

func (u *ui) incidentPage(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		u.s.failErr(w, r, err)
		return
	}
	ctx := r.Context()
	lang := u.lang(r)
	d, err := u.loadIncident(ctx, lang, id, user(r).Role.AtLeast(auth.Responder))
	if err != nil {
		u.s.failErr(w, r, err)
		return
	}
	entries, err := u.s.Incidents.Timeline(ctx, id, 0)
	if err != nil {
		u.s.failErr(w, r, err)
		return
	}
	d.Entries = entriesOf(lang, entries)
	if n := len(entries); n > 0 {
		d.LastID = entries[n-1].ID
	}
	if d.Paging, err = u.pagingPanel(ctx, d.Inc); err != nil {
		u.s.failErr(w, r, err)
		return
	}
	v := u.view(r, d.Inc.Title, "incidents", d)
	u.render(w, r, http.StatusOK, "incident", v)
}

// incidentStream sends an incident page what is new: timeline rows after the
// client's Last-Event-ID (or ?after=), and the header and alerts as they now are.
func (u *ui) incidentStream(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		u.s.failErr(w, r, err)
		return
	}
	ctx, stop := r.Context(), shutdownCh(r.Context())
	lang, canRespond := u.lang(r), user(r).Role.AtLeast(auth.Responder)
	after := r.Header.Get("Last-Event-ID")
	if after == "" {
		after = r.URL.Query().Get("after")
	}
	var last int64
	if after != "" {
		if last, err = strconv.ParseInt(after, 10, 64); err != nil || last < 0 {
			u.s.fail(w, r, http.StatusBadRequest, "after", "after must be a timeline entry id")
			return
		}
	}
	if _, err := u.s.Incidents.Get(ctx, id); err != nil {
		u.s.failErr(w, r, err)
		return
	}
	sub := u.s.Live.Subscribe(id) // before the first read, so no change falls between
	defer u.s.Live.Unsubscribe(sub)
	rc := sse(w)
	if _, err := fmt.Fprint(w, "retry: 3000\n\n"); err != nil {
		return
	}
	send := func(withTimeline bool) error {
		if withTimeline {
			entries, err := u.s.Incidents.Timeline(ctx, id, last)
			if err != nil {
				return err
			}
			if n := len(entries); n > 0 {
				html, err := u.fragment(lang, "incident", "timeline_rows", entriesOf(lang, entries))
				if err != nil {
					return err
				}
				if err := writeEvent(w, "timeline", entries[n-1].ID, html); err != nil {
					return err
				}
				last = entries[n-1].ID
			}
		}
		d, err := u.loadIncident(ctx, lang, id, canRespond)
		if err != nil {
			return err
		}
		head, err := u.fragment(lang, "incident", "incident_header", d)
		if err != nil {
			return err
		}
		if err := writeEvent(w, "incident", 0, head); err != nil {
			return err
		}
		if withTimeline {
			alerts, err := u.fragment(lang, "incident", "alerts_table", d)
			if err != nil {
				return err
			}
			if err := writeEvent(w, "alerts", 0, alerts); err != nil {
				return err
			}
		}
		return rc.Flush()
	}
	if err := send(true); err != nil {
		u.streamEnded(ctx, err)
		return
	}
	tick := time.NewTicker(u.heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-stop:
			return
		case <-tick.C:
			// A heartbeat, and the header again: its target countdowns move on.
			if _, err := fmt.Fprint(w, ": ping\n\n"); err != nil {
				return
			}
			if err := send(false); err != nil {
				u.streamEnded(ctx, err)
				return
			}
		case <-sub.C:
			drain(sub.C)
			if err := send(true); err != nil {
				u.streamEnded(ctx, err)
				return
			}
		}
	}
}

// streamEnded logs why a stream stopped unless the client simply went away.
func (u *ui) streamEnded(ctx context.Context, err error) {
	if ctx.Err() == nil {
		u.s.Log.Warn("live stream ended", "err", err)
	}
}

func (u *ui) incidentForm(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := pathID(r, "id")
	if err == nil {
		err = parseForm(w, r)
	}
	if err != nil {
		u.s.failErr(w, r, err)
		return 0, false
	}
	return id, true
}

func incidentURL(id int64) string { return "/incidents/" + strconv.FormatInt(id, 10) }

func (u *ui) setStatus(w http.ResponseWriter, r *http.Request) {
	id, ok := u.incidentForm(w, r)
	if !ok {
		return
	}
	to := incident.Status(r.PostForm.Get("status"))
	if !to.Valid() {
		u.s.fail(w, r, http.StatusBadRequest, "status", "status must be one of acknowledged, investigating, identified, monitoring, resolved, closed")
		return
	}
	if _, err := u.s.Incidents.ChangeStatus(r.Context(), actor(r), id, to, r.PostForm.Get("note")); err != nil {
		u.s.failErr(w, r, err)
		return
	}
	seeOther(w, r, incidentURL(id))
}

func (u *ui) setLevel(w http.ResponseWriter, r *http.Request) {
	id, ok := u.incidentForm(w, r)
	if !ok {
		return
	}
	if _, err := u.s.Incidents.ChangeLevel(r.Context(), actor(r), id, r.PostForm.Get("level"), r.PostForm.Get("reason")); err != nil {
		u.s.failErr(w, r, err)
		return
	}
	seeOther(w, r, incidentURL(id))
}

func (u *ui) addNote(w http.ResponseWriter, r *http.Request) {
	id, ok := u.incidentForm(w, r)
	if !ok {
		return
	}
	if _, err := u.s.Incidents.AddNote(r.Context(), actor(r), id, r.PostForm.Get("text")); err != nil {
		u.s.failErr(w, r, err)
		return
	}
	seeOther(w, r, incidentURL(id)+"#timeline-end")
}
