package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/firebreak/firebreak/internal/escalation"
	"github.com/firebreak/firebreak/internal/i18n"
	"github.com/firebreak/firebreak/internal/incident"
	"github.com/firebreak/firebreak/internal/paging"
)

// pagingPages are the page templates of the paging area.
var pagingPages = []string{"act", "notifications"}

// registerPaging registers one-click action links, escalate now, reassign and
// the notification log (API and UI).
func (s *Server) registerPaging() {
	// One-click links from pages: the signed token is the credential. GET
	// only shows what the link will do (chat apps and mail scanners open
	// links); the button POSTs.
	s.handle("GET /act/{token}", Public, s.actPage)
	s.handle("POST /act/{token}", Public, s.act)

	s.handle("POST /api/v1/incidents/{id}/escalate", Responder, s.apiEscalate)
	s.handle("POST /api/v1/incidents/{id}/reassign", Responder, s.apiReassign)
	s.handle("GET /api/v1/incidents/{id}/notifications", Viewer, s.apiNotifications)
	s.handle("GET /api/v1/notifications", Viewer, s.apiNotifications)

	s.handle("POST /incidents/{id}/escalate", Responder, s.uiEscalate)
	s.handle("POST /incidents/{id}/reassign", Responder, s.uiReassign)
	s.handle("GET /notifications", Viewer, s.notificationsPage)
}

func (s *Server) pagingOps() *paging.Ops {
	return &paging.Ops{DB: s.DB, Engine: s.Engine, Changed: s.Live.Publish}
}

func (s *Server) apiEscalate(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err == nil {
		err = s.pagingOps().EscalateNow(r.Context(), actor(r), id)
	}
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	inc, err := s.Incidents.Get(r.Context(), id)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, inc)
}

func (s *Server) apiReassign(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	var in struct {
		Targets []escalation.Target `json:"targets"`
	}
	if err := decode(r, &in); err != nil {
		s.failErr(w, r, err)
		return
	}
	if err := s.pagingOps().Reassign(r.Context(), actor(r), id, in.Targets); err != nil {
		s.failErr(w, r, err)
		return
	}
	inc, err := s.Incidents.Get(r.Context(), id)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, inc)
}

func notificationFilter(r *http.Request) (paging.Filter, error) {
	q := r.URL.Query()
	f := paging.Filter{State: q.Get("state"), Kind: q.Get("kind"), Cursor: q.Get("cursor")}
	for name, dst := range map[string]*int64{"incident": &f.IncidentID, "user": &f.UserID} {
		if v := q.Get(name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n <= 0 {
				return f, &paging.FieldError{Field: name, Msg: "must be a positive id"}
			}
			*dst = n
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			return f, &paging.FieldError{Field: "limit", Msg: "must be between 1 and 500"}
		}
		f.Limit = n
	}
	if id := r.PathValue("id"); id != "" {
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil || n <= 0 {
			return f, &paging.FieldError{Field: "id", Msg: "must be a positive id"}
		}
		f.IncidentID = n
	}
	return f, nil
}

func (s *Server) apiNotifications(w http.ResponseWriter, r *http.Request) {
	f, err := notificationFilter(r)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	if f.IncidentID != 0 && r.PathValue("id") != "" {
		if _, err := s.Incidents.Get(r.Context(), f.IncidentID); err != nil {
			s.failErr(w, r, err)
			return
		}
	}
	items, next, err := paging.List(r.Context(), s.DB, f)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	if items == nil {
		items = []paging.Notification{}
	}
	writeJSON(w, http.StatusOK, page[paging.Notification]{Items: items, NextCursor: next})
}

// Browser side.

// pagingPanel is what the incident page shows for paging.
type pagingPanel struct {
	Targets []targetOption
	Count   int // notifications so far
}

type targetOption struct{ Value, Label string }

func (u *ui) pagingPanel(ctx context.Context, inc incident.Incident) (pagingPanel, error) {
	var p pagingPanel
	if err := u.s.DB.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM notifications WHERE incident_id = $1`, inc.ID).Scan(&p.Count); err != nil {
		return p, err
	}
	add := func(kind, query string) error {
		rows, err := u.s.DB.R.QueryContext(ctx, query)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id, name string
			if err := rows.Scan(&id, &name); err != nil {
				return err
			}
			label := id
			if name != "" && name != id {
				label = name + " (" + id + ")"
			}
			p.Targets = append(p.Targets, targetOption{Value: kind + ":" + id, Label: kind + ": " + label})
		}
		return rows.Err()
	}
	if err := add(escalation.KindUser, `SELECT username, display_name FROM users WHERE NOT disabled ORDER BY username`); err != nil {
		return p, err
	}
	if err := add(escalation.KindSchedule, `SELECT slug, name FROM schedules ORDER BY slug`); err != nil {
		return p, err
	}
	if err := add(escalation.KindTeam, `SELECT slug, name FROM teams ORDER BY slug`); err != nil {
		return p, err
	}
	return p, nil
}

func (s *Server) uiEscalate(w http.ResponseWriter, r *http.Request) {
	id, ok := s.ui.incidentForm(w, r)
	if !ok {
		return
	}
	if err := s.pagingOps().EscalateNow(r.Context(), actor(r), id); err != nil {
		s.failErr(w, r, err)
		return
	}
	seeOther(w, r, incidentURL(id))
}

func (s *Server) uiReassign(w http.ResponseWriter, r *http.Request) {
	id, ok := s.ui.incidentForm(w, r)
	if !ok {
		return
	}
	kind, ref, found := strings.Cut(r.PostForm.Get("target"), ":")
	if !found || ref == "" {
		s.fail(w, r, http.StatusBadRequest, "target", i18n.T(s.ui.lang(r), "paging.reassign_missing"))
		return
	}
	if err := s.pagingOps().Reassign(r.Context(), actor(r), id, []escalation.Target{{Kind: kind, ID: ref}}); err != nil {
		s.failErr(w, r, err)
		return
	}
	seeOther(w, r, incidentURL(id))
}

type actData struct {
	Token    string
	Action   string // acknowledge or resolve
	Inc      incident.Incident
	Lvl      levelView
	Done     bool
	Already  incident.Status
	Problem  string
	Incident string // its URL
}

func (s *Server) actView(r *http.Request, d actData) view {
	v := s.ui.view(r, i18n.T(s.ui.lang(r), "act.title"), "", d)
	if cur, err := s.ui.currentPlan(r.Context()); err == nil && d.Inc.ID != 0 {
		d.Lvl = levelOf(cur, v.Lang, d.Inc.Level)
		v.D = d
	}
	return v
}

func (s *Server) actPage(w http.ResponseWriter, r *http.Request) {
	tok := r.PathValue("token")
	c, inc, err := s.pagingOps().Peek(r.Context(), s.Links, tok)
	d := actData{Token: tok, Action: c.Action, Inc: inc, Incident: incidentURL(inc.ID)}
	status := http.StatusOK
	if err != nil {
		d.Problem, status = s.linkProblem(r, err)
	}
	s.ui.render(w, r, status, "act", s.actView(r, d))
}

func (s *Server) act(w http.ResponseWriter, r *http.Request) {
	tok := r.PathValue("token")
	res, err := s.pagingOps().Act(r.Context(), s.Links, tok)
	d := actData{Token: tok, Action: res.Action, Inc: res.Incident, Done: res.Done, Already: incident.Status(res.Already), Incident: incidentURL(res.Incident.ID)}
	status := http.StatusOK
	if err != nil {
		d.Problem, status = s.linkProblem(r, err)
	}
	s.ui.render(w, r, status, "act", s.actView(r, d))
}

// linkProblem words a link error for the page.
func (s *Server) linkProblem(r *http.Request, err error) (string, int) {
	lang := s.ui.lang(r)
	switch {
	case errors.Is(err, paging.ErrLinkExpired):
		return i18n.T(lang, "act.expired"), http.StatusGone
	case errors.Is(err, paging.ErrLinkUsed):
		return i18n.T(lang, "act.used"), http.StatusGone
	case errors.Is(err, paging.ErrLinkInvalid), errors.Is(err, incident.ErrNotFound):
		return i18n.T(lang, "act.invalid"), http.StatusNotFound
	}
	s.Log.Error("action link", "err", err)
	return i18n.T(lang, "act.failed"), http.StatusInternalServerError
}

type notificationsData struct {
	Items    []notificationRow
	Next     string
	Filter   paging.Filter
	States   []string
	Incident *incident.Incident
	Query    string // the filter as a query string, for the next page link
}

type notificationRow struct {
	paging.Notification
	StateLabel string
	StateClass string
	Target     string
	StepLabel  string
}

func (s *Server) notificationsPage(w http.ResponseWriter, r *http.Request) {
	f, err := notificationFilter(r)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	items, next, err := paging.List(r.Context(), s.DB, f)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	lang := s.ui.lang(r)
	d := notificationsData{Next: next, Filter: f, States: paging.States}
	if f.IncidentID != 0 {
		if inc, err := s.Incidents.Get(r.Context(), f.IncidentID); err == nil {
			d.Incident = &inc
		}
	}
	for _, n := range items {
		row := notificationRow{Notification: n, StateLabel: i18n.T(lang, "notification_state."+n.State), StateClass: "st-" + n.State, StepLabel: stepLabel(lang, n.Step)}
		switch {
		case n.Username != "":
			row.Target = n.Username
		case n.ChannelSlug != "":
			row.Target = "#" + n.ChannelSlug
		}
		d.Items = append(d.Items, row)
	}
	q := r.URL.Query()
	q.Del("cursor")
	d.Query = q.Encode()
	v := s.ui.view(r, i18n.T(lang, "notifications.title"), "notifications", d)
	s.ui.render(w, r, http.StatusOK, "notifications", v)
}

// stepLabel is how the log shows a step key: c0s1 → "1.2", m1 → "manual 1".
func stepLabel(lang, key string) string {
	var c, st int
	if _, err := fmt.Sscanf(key, "c%ds%d", &c, &st); err == nil {
		return i18n.T(lang, "notifications.step", st+1, c+1)
	}
	var m int
	if _, err := fmt.Sscanf(key, "m%d", &m); err == nil {
		return i18n.T(lang, "notifications.manual", m)
	}
	return key
}
