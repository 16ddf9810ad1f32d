package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/firebreak/firebreak/internal/alert"
	"github.com/firebreak/firebreak/internal/auth"
	"github.com/firebreak/firebreak/internal/incident"
	"github.com/firebreak/firebreak/internal/plan"
	"github.com/firebreak/firebreak/internal/service"
)

// page is a list answer with the cursor of the next page.
type page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}

func queryInt(r *http.Request, name string) (int64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, &jsonError{http.StatusBadRequest, name, name + " must be a non-negative integer"}
	}
	return n, nil
}

// incidentFilter reads the list filters shared by the API and the UI.
func incidentFilter(r *http.Request) (incident.Filter, error) {
	q := r.URL.Query()
	var f incident.Filter
	for _, v := range strings.Split(q.Get("status"), ",") {
		switch v = strings.TrimSpace(v); {
		case v == "":
		case v == "open":
			f.Open = true
		case incident.Status(v).Valid():
			f.Statuses = append(f.Statuses, incident.Status(v))
		default:
			return f, &jsonError{http.StatusBadRequest, "status", "status must be open or one of triggered, acknowledged, investigating, identified, monitoring, resolved, closed"}
		}
	}
	f.Level = q.Get("level")
	var err error
	if f.ServiceID, err = queryInt(r, "service_id"); err != nil {
		return f, err
	}
	limit, err := queryInt(r, "limit")
	if err != nil {
		return f, err
	}
	if limit > 500 {
		return f, &jsonError{http.StatusBadRequest, "limit", "limit must be at most 500"}
	}
	f.Limit = int(limit)
	f.Cursor = q.Get("cursor")
	return f, nil
}

func (s *Server) apiListIncidents(w http.ResponseWriter, r *http.Request) {
	f, err := incidentFilter(r)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	items, next, err := s.Incidents.List(r.Context(), f)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	if items == nil {
		items = []incident.Incident{}
	}
	writeJSON(w, http.StatusOK, page[incident.Incident]{Items: items, NextCursor: next})
}

func (s *Server) apiGetIncident(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	inc, err := s.Incidents.Get(r.Context(), id)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, inc)
}

func (s *Server) apiDeclare(w http.ResponseWriter, r *http.Request) {
	var d incident.Declaration
	if err := decode(r, &d); err != nil {
		s.failErr(w, r, err)
		return
	}
	inc, err := s.Incidents.Declare(r.Context(), actor(r), d)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/incidents/"+strconv.FormatInt(inc.ID, 10))
	writeJSON(w, http.StatusCreated, inc)
}

func (s *Server) apiSetStatus(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	var in struct {
		Status incident.Status `json:"status"`
		Note   string          `json:"note"`
	}
	if err := decode(r, &in); err != nil {
		s.failErr(w, r, err)
		return
	}
	if !in.Status.Valid() {
		s.fail(w, r, http.StatusBadRequest, "status", "status must be one of acknowledged, investigating, identified, monitoring, resolved, closed")
		return
	}
	inc, err := s.Incidents.ChangeStatus(r.Context(), actor(r), id, in.Status, in.Note)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, inc)
}

func (s *Server) apiSetLevel(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	var in struct {
		Level  string `json:"level"`
		Reason string `json:"reason"`
	}
	if err := decode(r, &in); err != nil {
		s.failErr(w, r, err)
		return
	}
	inc, err := s.Incidents.ChangeLevel(r.Context(), actor(r), id, in.Level, in.Reason)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, inc)
}

func (s *Server) apiAddNote(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	var in struct {
		Text string `json:"text"`
	}
	if err := decode(r, &in); err != nil {
		s.failErr(w, r, err)
		return
	}
	e, err := s.Incidents.AddNote(r.Context(), actor(r), id, in.Text)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, e)
}

func (s *Server) apiTimeline(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	after, err := queryInt(r, "after")
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	if _, err := s.Incidents.Get(r.Context(), id); err != nil {
		s.failErr(w, r, err)
		return
	}
	entries, err := s.Incidents.Timeline(r.Context(), id, after)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	if entries == nil {
		entries = []incident.Entry{}
	}
	writeJSON(w, http.StatusOK, page[incident.Entry]{Items: entries})
}

func (s *Server) apiListAlerts(w http.ResponseWriter, r *http.Request) {
	var f alert.Filter
	var err error
	f.Status = alert.Status(r.URL.Query().Get("status"))
	if f.ServiceID, err = queryInt(r, "service_id"); err == nil {
		f.IncidentID, err = queryInt(r, "incident_id")
	}
	if err == nil && r.PathValue("id") != "" { // /incidents/{id}/alerts
		f.IncidentID, err = pathID(r, "id")
	}
	var limit int64
	if err == nil {
		limit, err = queryInt(r, "limit")
	}
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	f.Limit, f.Cursor = int(limit), r.URL.Query().Get("cursor")
	items, next, err := s.Alerts.List(r.Context(), f)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	if items == nil {
		items = []alert.Alert{}
	}
	writeJSON(w, http.StatusOK, page[alert.Alert]{Items: items, NextCursor: next})
}

func (s *Server) apiGetAlert(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	a, err := s.Alerts.Get(r.Context(), id)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

// serviceView adds the ready-to-use integration URLs to a service.
type serviceView struct {
	service.Service
	URLs []integrationURLs `json:"integration_urls"`
}

type integrationURLs struct {
	KeyID        int64  `json:"key_id"`
	Name         string `json:"name"`
	Alertmanager string `json:"alertmanager"`
	Grafana      string `json:"grafana"`
	Events       string `json:"events"`
	PagerDuty    string `json:"pagerduty_v2"`
	RoutingKey   string `json:"routing_key"`
}

func (s *Server) viewService(sv service.Service) serviceView {
	v := serviceView{Service: sv, URLs: []integrationURLs{}}
	base := strings.TrimRight(s.BaseURL, "/")
	for _, k := range sv.Keys {
		p := base + "/api/v1/integrations/" + k.Key + "/"
		v.URLs = append(v.URLs, integrationURLs{KeyID: k.ID, Name: k.Name, Alertmanager: p + "alertmanager", Grafana: p + "grafana",
			Events: p + "events", PagerDuty: base + "/v2/enqueue", RoutingKey: k.Key})
	}
	return v
}

func (s *Server) apiListServices(w http.ResponseWriter, r *http.Request) {
	all, err := s.Services.List(r.Context())
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	out := make([]serviceView, len(all))
	for i, sv := range all {
		out[i] = s.viewService(sv)
	}
	writeJSON(w, http.StatusOK, page[serviceView]{Items: out})
}

func (s *Server) apiGetService(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	sv, err := s.Services.Get(r.Context(), id)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.viewService(sv))
}

func (s *Server) apiCreateService(w http.ResponseWriter, r *http.Request) {
	var in service.Input
	if err := decode(r, &in); err != nil {
		s.failErr(w, r, err)
		return
	}
	sv, err := s.Services.Create(r.Context(), in)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/services/"+strconv.FormatInt(sv.ID, 10))
	writeJSON(w, http.StatusCreated, s.viewService(sv))
}

func (s *Server) apiUpdateService(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	var in service.Input
	if err := decode(r, &in); err != nil {
		s.failErr(w, r, err)
		return
	}
	sv, err := s.Services.Update(r.Context(), id, in)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.viewService(sv))
}

func (s *Server) apiAddKey(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	var in struct {
		Name string `json:"name"`
	}
	if err := decode(r, &in); err != nil {
		s.failErr(w, r, err)
		return
	}
	k, err := s.Services.AddKey(r.Context(), id, in.Name)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, k)
}

func (s *Server) apiDeleteKey(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	keyID, err := pathID(r, "keyID")
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	if err := s.Services.DeleteKey(r.Context(), id, keyID); err != nil {
		s.failErr(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) apiPlan(w http.ResponseWriter, r *http.Request) {
	cur, err := plan.Load(r.Context(), s.DB)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, cur)
}

func (s *Server) apiMe(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, user(r))
}

func (s *Server) apiListUsers(w http.ResponseWriter, r *http.Request) {
	us, err := s.Auth.ListUsers(r.Context())
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	if us == nil {
		us = []auth.User{}
	}
	writeJSON(w, http.StatusOK, page[auth.User]{Items: us})
}

func (s *Server) apiCreateUser(w http.ResponseWriter, r *http.Request) {
	var in auth.NewUser
	if err := decode(r, &in); err != nil {
		s.failErr(w, r, err)
		return
	}
	u, err := s.Auth.CreateUser(r.Context(), in)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, u)
}

type tokenCreated struct {
	auth.Token
	Secret string `json:"token"`
}

func (s *Server) apiCreateToken(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name      string `json:"name"`
		ExpiresIn string `json:"expires_in"` // Go duration, empty = never
	}
	if err := decode(r, &in); err != nil {
		s.failErr(w, r, err)
		return
	}
	var ttl time.Duration
	if in.ExpiresIn != "" {
		d, err := time.ParseDuration(in.ExpiresIn)
		if err != nil || d <= 0 {
			s.fail(w, r, http.StatusBadRequest, "expires_in", "expires_in must be a positive duration such as 720h")
			return
		}
		ttl = d
	}
	secret, tok, err := s.Auth.CreateToken(r.Context(), user(r).ID, in.Name, ttl)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, tokenCreated{Token: tok, Secret: secret})
}

func (s *Server) apiListTokens(w http.ResponseWriter, r *http.Request) {
	ts, err := s.Auth.ListTokens(r.Context(), user(r).ID)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	if ts == nil {
		ts = []auth.Token{}
	}
	writeJSON(w, http.StatusOK, page[auth.Token]{Items: ts})
}

func (s *Server) apiRevokeToken(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	if err := s.Auth.RevokeToken(r.Context(), user(r).ID, id); err != nil {
		s.failErr(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if err := s.DB.Ping(r.Context()); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "error": "database unreachable: " + err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}
