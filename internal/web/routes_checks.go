package web

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/firebreak/firebreak/internal/alert"
	"github.com/firebreak/firebreak/internal/check"
	"github.com/firebreak/firebreak/internal/logrule"
	"github.com/firebreak/firebreak/internal/maintenance"
	"github.com/firebreak/firebreak/internal/service"
	"github.com/firebreak/firebreak/internal/signal"
	"github.com/firebreak/firebreak/internal/vulnscan"
)

// registerChecks registers early warning: checks and their history,
// heartbeat pings, log and vulnerability-scan ingest, maintenance windows and
// restore tests (API). The pages are in registerChecksUI.
func (s *Server) registerChecks() {
	s.handle("GET /api/v1/checks", Viewer, s.apiListChecks)
	s.handle("POST /api/v1/checks", Admin, s.apiCreateCheck)
	s.handle("GET /api/v1/checks/{id}", Viewer, s.apiGetCheck)
	s.handle("PUT /api/v1/checks/{id}", Admin, s.apiUpdateCheck)
	s.handle("DELETE /api/v1/checks/{id}", Admin, s.apiDeleteCheck)
	s.handle("POST /api/v1/checks/{id}/run", Responder, s.apiRunCheck)
	s.handle("GET /api/v1/checks/{id}/results", Viewer, s.apiCheckResults)
	s.handle("GET /api/v1/checks/{id}/daily", Viewer, s.apiCheckDaily)
	s.handle("GET /api/v1/checks/{id}/pings", Viewer, s.apiCheckPings)

	// Heartbeats: the key in the URL is the credential (healthchecks.io style).
	for _, m := range []string{"GET", "POST"} {
		s.handle(m+" /ping/{key}", Ingest, s.ping)
		s.handle(m+" /ping/{key}/{signal}", Ingest, s.ping)
	}

	// Logs and scan reports, by a service's integration key.
	s.handle("POST /api/v1/integrations/{key}/logs", Ingest, s.ingestLogs)
	s.handle("POST /api/v1/integrations/{key}/vulnscan", Ingest, s.ingestVulnScan)

	s.handle("GET /api/v1/maintenance-windows", Viewer, s.apiListWindows)
	s.handle("POST /api/v1/maintenance-windows", Admin, s.apiCreateWindow)
	s.handle("GET /api/v1/maintenance-windows/{id}", Viewer, s.apiGetWindow)
	s.handle("PUT /api/v1/maintenance-windows/{id}", Admin, s.apiUpdateWindow)
	s.handle("DELETE /api/v1/maintenance-windows/{id}", Admin, s.apiDeleteWindow)
	// For the public status page: current and coming public windows.
	s.handle("GET /api/v1/public/maintenance", Public, s.apiPublicMaintenance)

	s.handle("GET /api/v1/restore-tests", Viewer, s.apiListRestoreTests)
	s.handle("POST /api/v1/restore-tests", Responder, s.apiAddRestoreTest)

	s.registerChecksUI()
}

func (s *Server) checkErr(w http.ResponseWriter, r *http.Request, err error) {
	var fe *check.FieldError
	var me *maintenance.FieldError
	switch {
	case errors.As(err, &fe):
		s.fail(w, r, http.StatusBadRequest, fe.Field, fe.Error())
	case errors.As(err, &me):
		s.fail(w, r, http.StatusBadRequest, me.Field, me.Error())
	case errors.Is(err, check.ErrNotFound), errors.Is(err, maintenance.ErrNotFound):
		s.fail(w, r, http.StatusNotFound, "", err.Error())
	default:
		s.failErr(w, r, err)
	}
}

func (s *Server) apiListChecks(w http.ResponseWriter, r *http.Request) {
	vs, err := s.Checks.List(r.Context())
	if err != nil {
		s.checkErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, page[check.View]{Items: vs})
}

// checkInput is what a caller may set on a check.
type checkInput struct {
	Slug         string            `json:"slug"`
	Name         string            `json:"name"`
	Kind         string            `json:"kind"`
	Spec         jsonObject        `json:"spec"`
	Interval     check.Duration    `json:"interval"`
	Timeout      check.Duration    `json:"timeout"`
	FailAfter    int               `json:"fail_after"`
	RecoverAfter int               `json:"recover_after"`
	ServiceID    int64             `json:"service_id"`
	Type         string            `json:"incident_type"`
	Level        string            `json:"level"`
	Labels       map[string]string `json:"labels"`
	Paused       bool              `json:"paused"`
}

// jsonObject keeps a JSON object as it came.
type jsonObject []byte

// UnmarshalJSON accepts an object.
func (o *jsonObject) UnmarshalJSON(b []byte) error {
	if t := bytes.TrimSpace(b); len(t) == 0 || t[0] != '{' {
		return errors.New("an object with the kind's settings")
	}
	*o = append((*o)[:0], b...)
	return nil
}

func (in checkInput) check() check.Check {
	return check.Check{Slug: in.Slug, Name: in.Name, Kind: in.Kind, Spec: []byte(in.Spec), Interval: in.Interval, Timeout: in.Timeout,
		FailAfter: in.FailAfter, RecoverAfter: in.RecoverAfter, ServiceID: in.ServiceID, Type: in.Type, Level: in.Level,
		Labels: in.Labels, Paused: in.Paused}
}

func (s *Server) apiCreateCheck(w http.ResponseWriter, r *http.Request) {
	var in checkInput
	if err := decode(r, &in); err != nil {
		s.failErr(w, r, err)
		return
	}
	v, err := s.Checks.Create(r.Context(), in.check())
	if err != nil {
		s.checkErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, s.checkOut(v))
}

// checkOut adds the ping URL of heartbeats.
type checkOutput struct {
	check.View
	PingURL string `json:"ping_url,omitempty"`
}

func (s *Server) checkOut(v check.View) checkOutput {
	out := checkOutput{View: v}
	if v.PingKey != "" {
		out.PingURL = strings.TrimRight(s.BaseURL, "/") + "/ping/" + v.PingKey
	}
	return out
}

func (s *Server) apiGetCheck(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	v, err := s.Checks.Get(r.Context(), id)
	if err != nil {
		s.checkErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.checkOut(v))
}

func (s *Server) apiUpdateCheck(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	var in checkInput
	if err := decode(r, &in); err != nil {
		s.failErr(w, r, err)
		return
	}
	v, err := s.Checks.Update(r.Context(), id, in.check())
	if err != nil {
		s.checkErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.checkOut(v))
}

func (s *Server) apiDeleteCheck(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err == nil {
		var v check.View
		if v, err = s.Checks.Get(r.Context(), id); err == nil && v.Source == "plan" {
			s.fail(w, r, http.StatusConflict, "", "this check comes from the emergency plan; remove it from the plan instead")
			return
		}
		if err == nil {
			err = s.Checks.Delete(r.Context(), id)
		}
	}
	if err != nil {
		s.checkErr(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) apiRunCheck(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err == nil {
		err = s.Checks.RunSoon(r.Context(), id)
	}
	if err != nil {
		s.checkErr(w, r, err)
		return
	}
	v, err := s.Checks.Get(r.Context(), id)
	if err != nil {
		s.checkErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, s.checkOut(v))
}

func timeParam(r *http.Request, name string, def time.Time) (time.Time, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return t, &check.FieldError{Field: name, Msg: "an RFC 3339 time, e.g. 2026-11-22T08:00:00Z"}
	}
	return t, nil
}

func (s *Server) apiCheckResults(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	now := time.Now().UTC()
	from, err := timeParam(r, "from", now.Add(-24*time.Hour))
	if err != nil {
		s.checkErr(w, r, err)
		return
	}
	to, err := timeParam(r, "to", now.Add(time.Minute))
	if err != nil {
		s.checkErr(w, r, err)
		return
	}
	if _, err := s.Checks.Get(r.Context(), id); err != nil {
		s.checkErr(w, r, err)
		return
	}
	res, err := s.Checks.Results(r.Context(), id, from, to, 0)
	if err != nil {
		s.checkErr(w, r, err)
		return
	}
	if res == nil {
		res = []check.Result{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": res})
}

func (s *Server) apiCheckDaily(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	days := 90
	if v := r.URL.Query().Get("days"); v != "" {
		if days, err = strconv.Atoi(v); err != nil || days < 1 || days > 400 {
			s.fail(w, r, http.StatusBadRequest, "days", "days must be between 1 and 400")
			return
		}
	}
	if _, err := s.Checks.Get(r.Context(), id); err != nil {
		s.checkErr(w, r, err)
		return
	}
	d, err := s.Checks.Daily(r.Context(), id, days)
	if err != nil {
		s.checkErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": d})
}

func (s *Server) apiCheckPings(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	if _, err := s.Checks.Get(r.Context(), id); err != nil {
		s.checkErr(w, r, err)
		return
	}
	ps, err := s.Checks.Pings(r.Context(), id, 100)
	if err != nil {
		s.checkErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": ps})
}

// ping receives a heartbeat: /ping/{key} (success), /start, /fail, /{0-255}.
// It answers "OK" like healthchecks.io, after the ping and any alert it
// raised are stored.
func (s *Server) ping(w http.ResponseWriter, r *http.Request) {
	kind, status := check.PingSuccess, 0
	switch sig := r.PathValue("signal"); sig {
	case "":
	case "start":
		kind = check.PingStart
	case "fail":
		kind = check.PingFail
	default:
		n, err := strconv.Atoi(sig)
		if err != nil || n < 0 || n > 255 {
			s.fail(w, r, http.StatusBadRequest, "signal", "use /ping/{key}, /ping/{key}/start, /ping/{key}/fail or /ping/{key}/{exit status 0-255}")
			return
		}
		kind, status = check.PingExit, n
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, check.MaxPingBody))
	res, err := s.Checks.Ping(r.Context(), r.PathValue("key"), kind, status, string(body), r.RemoteAddr)
	if errors.Is(err, check.ErrNotFound) {
		s.fail(w, r, http.StatusNotFound, "key", "unknown ping key: copy the ping URL from the check's page")
		return
	}
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	if len(res.Events) > 0 {
		if _, err := s.storeEvents(r.Context(), alert.SourceCheck, res.Check.ServiceID, res.Events); err != nil {
			s.failErr(w, r, err)
			return
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, "OK")
}

// keyService resolves a service integration key for the ingest routes.
func (s *Server) keyService(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := s.Services.ByKey(r.Context(), r.PathValue("key"))
	if errors.Is(err, service.ErrNotFound) {
		s.fail(w, r, http.StatusNotFound, "key", "unknown integration key: copy the URL from the service's page")
		return 0, false
	}
	if err != nil {
		s.failErr(w, r, err)
		return 0, false
	}
	return id, true
}

// ingestLogs takes JSON lines for the log checks' rules.
func (s *Server) ingestLogs(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.keyService(w, r); !ok {
		return
	}
	body, err := signal.ReadBody(r.Body)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	lines, err := logrule.ParseJSONLines(bytes.NewReader(body), 10000)
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, "body", err.Error())
		return
	}
	fired, err := s.Logs.Observe(r.Context(), lines)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"status": "accepted", "lines": len(lines), "alerts": fired})
}

// ingestVulnScan takes a Trivy or Grype JSON report. Query: min_severity
// (default high), level (optional).
func (s *Server) ingestVulnScan(w http.ResponseWriter, r *http.Request) {
	serviceID, ok := s.keyService(w, r)
	if !ok {
		return
	}
	min := vulnscan.High
	if v := r.URL.Query().Get("min_severity"); v != "" {
		var known bool
		if min, known = vulnscan.ParseSeverity(v); !known {
			s.fail(w, r, http.StatusBadRequest, "min_severity", "min_severity must be negligible, low, medium, high or critical")
			return
		}
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, vulnscan.MaxSize+1))
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, "body", "cannot read the report: "+err.Error())
		return
	}
	if len(data) > vulnscan.MaxSize {
		s.fail(w, r, http.StatusRequestEntityTooLarge, "body", "the report is larger than 50 MB")
		return
	}
	rep, err := vulnscan.Parse(data)
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, "body", err.Error())
		return
	}
	typ := ""
	var n int
	if err := s.DB.R.QueryRowContext(r.Context(), `SELECT COUNT(*) FROM incident_types WHERE id = 'security-breach'`).Scan(&n); err == nil && n > 0 {
		typ = "security-breach"
	}
	level := r.URL.Query().Get("level")
	evs, err := check.VulnEvents(r.Context(), s.DB.R, serviceID, rep, min, typ, level)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	res, err := s.storeEvents(r.Context(), alert.SourceVulnScan, serviceID, evs)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	opened, resolved := 0, 0
	for _, x := range res {
		switch x.Outcome {
		case alert.Created:
			opened++
		case alert.ResolvedOut:
			resolved++
		}
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"status": "accepted", "scanner": rep.Scanner, "artifact": rep.Artifact,
		"findings": len(rep.Findings), "at_or_above": min.String(), "alerts": len(evs) - resolved, "new": opened, "resolved": resolved})
}

func (s *Server) apiListWindows(w http.ResponseWriter, r *http.Request) {
	ws, err := s.Maintenance.List(r.Context())
	if err != nil {
		s.checkErr(w, r, err)
		return
	}
	if ws == nil {
		ws = []*maintenance.Window{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": ws})
}

func (s *Server) apiCreateWindow(w http.ResponseWriter, r *http.Request) {
	var in maintenance.Window
	if err := decode(r, &in); err != nil {
		s.failErr(w, r, err)
		return
	}
	in.ID, in.Source, in.CreatedBy = 0, "", user(r).ID
	win, err := s.Maintenance.Create(r.Context(), in)
	if err != nil {
		s.checkErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, win)
}

func (s *Server) apiGetWindow(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	win, err := s.Maintenance.Get(r.Context(), id)
	if err != nil {
		s.checkErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, win)
}

func (s *Server) apiUpdateWindow(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	var in maintenance.Window
	if err := decode(r, &in); err != nil {
		s.failErr(w, r, err)
		return
	}
	win, err := s.Maintenance.Update(r.Context(), id, in)
	if err != nil {
		s.checkErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, win)
}

func (s *Server) apiDeleteWindow(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err == nil {
		err = s.Maintenance.Delete(r.Context(), id)
	}
	if err != nil {
		s.checkErr(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// publicWindow is what the status page may show of a window.
type publicWindow struct {
	Title       string    `json:"title"`
	Description string    `json:"description"`
	Start       time.Time `json:"start"`
	End         time.Time `json:"end"`
	Active      bool      `json:"active"`
}

func (s *Server) apiPublicMaintenance(w http.ResponseWriter, r *http.Request) {
	occ, err := s.Maintenance.Upcoming(r.Context(), time.Now().Add(30*24*time.Hour), true)
	if err != nil {
		s.checkErr(w, r, err)
		return
	}
	out := []publicWindow{}
	for _, o := range occ {
		out = append(out, publicWindow{Title: o.Window.Title, Description: o.Window.Description, Start: o.Start, End: o.End, Active: o.Active})
	}
	w.Header().Set("Cache-Control", "public, max-age=30")
	writeJSON(w, http.StatusOK, map[string]any{"maintenance": out})
}

func (s *Server) apiListRestoreTests(w http.ResponseWriter, r *http.Request) {
	ts, err := s.Checks.RestoreTests(r.Context(), r.URL.Query().Get("resource"), 100)
	if err != nil {
		s.checkErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": ts})
}

func (s *Server) apiAddRestoreTest(w http.ResponseWriter, r *http.Request) {
	var in check.RestoreTest
	if err := decode(r, &in); err != nil {
		s.failErr(w, r, err)
		return
	}
	in.ID, in.CreatedBy = 0, user(r).ID
	t, err := s.Checks.AddRestoreTest(r.Context(), in)
	if err != nil {
		s.checkErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, t)
}
