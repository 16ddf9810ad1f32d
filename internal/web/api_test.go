package web_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/firebreak/firebreak/internal/auth"
	"github.com/firebreak/firebreak/internal/server"
	"github.com/firebreak/firebreak/internal/store"
	"github.com/firebreak/firebreak/internal/testenv"
	"github.com/firebreak/firebreak/internal/web"
)

const apiAdminPassword = "admin-password-for-tests"

// apiEnv is a complete firebreak on loopback, with an admin API token.
type apiEnv struct {
	in      *server.Instance
	base    string
	dir     string // SQLite data directory ("" with PostgreSQL)
	dbURL   string // PostgreSQL URL ("" with SQLite)
	admin   string // an admin's API token
	adminID int64
	spec    *web.Spec
	client  *http.Client
}

// apiEachDB runs fn against a fresh firebreak on SQLite and one on PostgreSQL, in parallel.
func apiEachDB(t *testing.T, fn func(t *testing.T, e *apiEnv)) {
	t.Helper()
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			fn(t, newAPIEnv(t, kind))
		})
	}
}

func newAPIEnv(t *testing.T, kind string) *apiEnv {
	t.Helper()
	e := &apiEnv{client: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	if kind == "postgres" {
		e.dbURL = testenv.PostgresURL(t)
	} else {
		e.dir = t.TempDir()
	}
	in, base, err := server.TestInstance(t.Context(), e.dir, e.dbURL, apiAdminPassword)
	if err != nil {
		t.Fatalf("start firebreak: %v", err)
	}
	t.Cleanup(func() { _ = in.Close() })
	t.Cleanup(e.client.CloseIdleConnections)
	e.in, e.base = in, base
	u, err := in.Web.Auth.UserByUsername(t.Context(), "admin")
	if err != nil {
		t.Fatalf("first start made no admin: %v", err)
	}
	e.adminID = u.ID
	if e.admin, _, err = in.Web.Auth.CreateToken(t.Context(), u.ID, "tests", 0); err != nil {
		t.Fatal(err)
	}
	r := e.do(t, "GET", "/api/v1/openapi.json", "", nil)
	if r.status != http.StatusOK {
		t.Fatalf("GET /api/v1/openapi.json: %d", r.status)
	}
	if e.spec, err = web.ParseSpec(r.body); err != nil {
		t.Fatal(err)
	}
	return e
}

// openStore opens a new, separate connection pool on the instance's database.
func (e *apiEnv) openStore(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(t.Context(), store.Options{DataDir: e.dir, DatabaseURL: e.dbURL})
	if err != nil {
		t.Fatalf("open a separate connection: %v", err)
	}
	return db
}

type apiResult struct {
	method, path string
	status       int
	header       http.Header
	body         []byte
}

func (r *apiResult) String() string {
	return fmt.Sprintf("%s %s: %d %s", r.method, r.path, r.status, bytes.TrimSpace(r.body))
}

// decode unmarshals the answer into v.
func (r *apiResult) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("%v: %v", r, err)
	}
}

// errorBody returns the JSON error of the answer.
func (r *apiResult) errorBody(t *testing.T) web.ErrorBody {
	t.Helper()
	var eb web.ErrorBody
	r.decode(t, &eb)
	if eb.Error == "" {
		t.Errorf("%v: error body without error", r)
	}
	return eb
}

func jsonBytes(t *testing.T, body any) []byte {
	t.Helper()
	switch b := body.(type) {
	case string:
		return []byte(b)
	case []byte:
		return b
	}
	j, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// do sends a request. body is sent as is when a string or []byte, else as JSON.
func (e *apiEnv) do(t *testing.T, method, path, token string, body any, header ...string) *apiResult {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(jsonBytes(t, body))
	}
	req, err := http.NewRequestWithContext(t.Context(), method, e.base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read answer: %v", method, path, err)
	}
	return &apiResult{method: method, path: path, status: resp.StatusCode, header: resp.Header, body: b}
}

// call sends a request, wants the status and checks the answer against the
// OpenAPI document the server publishes; the body of a request that succeeds
// must match the documented request schema too.
func (e *apiEnv) call(t *testing.T, method, path, token string, body any, want int) *apiResult {
	t.Helper()
	r := e.do(t, method, path, token, body)
	if r.status != want {
		t.Fatalf("%v; want %d", r, want)
	}
	if body != nil && want < 300 {
		if err := e.spec.CheckRequest(method, path, jsonBytes(t, body)); err != nil {
			t.Errorf("accepted request does not match openapi.json: %v", err)
		}
	}
	if err := e.spec.CheckResponse(method, path, r.status, r.header.Get("Content-Type"), r.body); err != nil {
		t.Errorf("answer does not match openapi.json: %v\n%s", err, r.body)
	}
	return r
}

// fail sends a request that must fail with status and name field (when not "-").
func (e *apiEnv) fail(t *testing.T, method, path, token string, body any, status int, field string) web.ErrorBody {
	t.Helper()
	r := e.call(t, method, path, token, body, status)
	eb := r.errorBody(t)
	if field != "-" && eb.Field != field {
		t.Errorf("%v: field %q, want %q", r, eb.Field, field)
	}
	return eb
}

// The JSON shapes the tests read back.
type apiIncident struct {
	ID             int64  `json:"id"`
	Title          string `json:"title"`
	Status         string `json:"status"`
	Level          string `json:"level"`
	Type           string `json:"type"`
	ServiceID      int64  `json:"service_id"`
	ServiceName    string `json:"service_name"`
	Source         string `json:"source"`
	PlanVersionID  int64  `json:"plan_version_id"`
	CreatedBy      int64  `json:"created_by"`
	AcknowledgedAt string `json:"acknowledged_at"`
	ResolvedAt     string `json:"resolved_at"`
	ClosedAt       string `json:"closed_at"`
	AlertCount     int    `json:"alert_count"`
}

type apiEntry struct {
	ID    int64          `json:"id"`
	Kind  string         `json:"kind"`
	Actor string         `json:"actor"`
	Body  string         `json:"body"`
	Data  map[string]any `json:"data"`
}

type apiPage[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor"`
}

type apiKey struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	Key  string `json:"key"`
}

type apiService struct {
	ID          int64    `json:"id"`
	Name        string   `json:"name"`
	Description string   `json:"description"`
	AutoResolve bool     `json:"auto_resolve"`
	Keys        []apiKey `json:"integration_keys"`
	URLs        []struct {
		KeyID        int64  `json:"key_id"`
		Name         string `json:"name"`
		Alertmanager string `json:"alertmanager"`
		Grafana      string `json:"grafana"`
		Events       string `json:"events"`
		PagerDuty    string `json:"pagerduty_v2"`
		RoutingKey   string `json:"routing_key"`
	} `json:"integration_urls"`
}

type apiAlert struct {
	ID          int64             `json:"id"`
	ServiceID   int64             `json:"service_id"`
	Fingerprint string            `json:"fingerprint"`
	Status      string            `json:"status"`
	Severity    string            `json:"severity"`
	Summary     string            `json:"summary"`
	Source      string            `json:"source"`
	Labels      map[string]string `json:"labels"`
	Details     map[string]any    `json:"details"`
	IncidentID  int64             `json:"incident_id"`
	RepeatCount int64             `json:"repeat_count"`
}

func (e *apiEnv) createService(t *testing.T, name string) apiService {
	t.Helper()
	var sv apiService
	e.call(t, "POST", "/api/v1/services", e.admin, map[string]any{"name": name}, http.StatusCreated).decode(t, &sv)
	if len(sv.Keys) != 1 {
		t.Fatalf("new service has %d keys", len(sv.Keys))
	}
	return sv
}

func (e *apiEnv) declare(t *testing.T, body map[string]any) apiIncident {
	t.Helper()
	var inc apiIncident
	r := e.call(t, "POST", "/api/v1/incidents", e.admin, body, http.StatusCreated)
	r.decode(t, &inc)
	if loc := r.header.Get("Location"); loc != "/api/v1/incidents/"+strconv.FormatInt(inc.ID, 10) {
		t.Errorf("Location = %q for incident %d", loc, inc.ID)
	}
	return inc
}

func (e *apiEnv) incident(t *testing.T, id int64) apiIncident {
	t.Helper()
	var inc apiIncident
	e.call(t, "GET", fmt.Sprintf("/api/v1/incidents/%d", id), e.admin, nil, http.StatusOK).decode(t, &inc)
	return inc
}

func (e *apiEnv) timeline(t *testing.T, id int64, query string) []apiEntry {
	t.Helper()
	var p apiPage[apiEntry]
	e.call(t, "GET", fmt.Sprintf("/api/v1/incidents/%d/timeline%s", id, query), e.admin, nil, http.StatusOK).decode(t, &p)
	return p.Items
}

func (e *apiEnv) listIncidents(t *testing.T, query url.Values) apiPage[apiIncident] {
	t.Helper()
	var p apiPage[apiIncident]
	e.call(t, "GET", "/api/v1/incidents?"+query.Encode(), e.admin, nil, http.StatusOK).decode(t, &p)
	return p
}

func (e *apiEnv) count(t *testing.T, table string) int {
	t.Helper()
	var n int
	if err := e.in.DB.R.QueryRowContext(t.Context(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func incidentIDs(incs []apiIncident) []int64 {
	out := make([]int64, len(incs))
	for i, inc := range incs {
		out[i] = inc.ID
	}
	return out
}

func TestAPIIncidents(t *testing.T) {
	t.Parallel()
	apiEachDB(t, func(t *testing.T, e *apiEnv) {
		sv := e.createService(t, "checkout")

		t.Run("declare", func(t *testing.T) {
			inc := e.declare(t, map[string]any{"title": " Checkout down ", "level": "P1", "service_id": sv.ID, "impact": "all card payments"})
			if inc.Title != "Checkout down" || inc.Status != "triggered" || inc.Level != "P1" || inc.Source != "manual" ||
				inc.ServiceID != sv.ID || inc.ServiceName != "checkout" || inc.CreatedBy != e.adminID || inc.PlanVersionID == 0 {
				t.Errorf("declared %+v", inc)
			}
			if got := e.incident(t, inc.ID); got != inc {
				t.Errorf("GET = %+v, want %+v", got, inc)
			}
			// The level defaults to the type's.
			if inc := e.declare(t, map[string]any{"title": "Lost rows", "type": "data-loss"}); inc.Level != "P1" || inc.Type != "data-loss" {
				t.Errorf("declared by type: %+v, want level P1 of data-loss", inc)
			}
		})

		t.Run("bad input", func(t *testing.T) {
			before := e.count(t, "incidents")
			huge := `{"title":"` + strings.Repeat("a", 1<<20) + `","level":"P1"}`
			for _, c := range []struct {
				name   string
				body   any
				status int
				field  string
			}{
				{"empty object", `{}`, 400, "title"},
				{"blank title", map[string]any{"title": "   ", "level": "P1"}, 400, "title"},
				{"unknown type", map[string]any{"title": "x", "type": "meteor-strike"}, 400, "type"},
				{"unknown level", map[string]any{"title": "x", "level": "P9"}, 422, "level"},
				{"no level", map[string]any{"title": "x"}, 422, "level"},
				{"unknown service", map[string]any{"title": "x", "level": "P1", "service_id": 999999}, 400, "service_id"},
				{"unknown field", map[string]any{"title": "x", "level": "P1", "severity": "high"}, 400, "severity"},
				{"title not a string", map[string]any{"title": 5, "level": "P1"}, 400, "title"},
				{"service_id not a number", map[string]any{"title": "x", "level": "P1", "service_id": "abc"}, 400, "service_id"},
				{"array body", `[{"title":"x","level":"P1"}]`, 400, ""},
				{"trailing data", `{"title":"x","level":"P1"} {"title":"y"}`, 400, ""},
				{"not JSON", `title=x`, 400, ""},
				{"empty body", ``, 400, ""},
				{"over 1 MB", huge, 413, ""},
			} {
				t.Run(c.name, func(t *testing.T) {
					eb := e.fail(t, "POST", "/api/v1/incidents", e.admin, c.body, c.status, c.field)
					// Messages speak JSON, not Go.
					for _, goism := range []string{"incident.", "int64", "struct"} {
						if strings.Contains(eb.Error, goism) {
							t.Errorf("error %q mentions %q", eb.Error, goism)
						}
					}
					if strings.HasPrefix(eb.Error, ":") {
						t.Errorf("error %q names no field", eb.Error)
					}
				})
			}
			if after := e.count(t, "incidents"); after != before {
				t.Errorf("bad declarations stored %d incidents", after-before)
			}
		})

		t.Run("get", func(t *testing.T) {
			e.fail(t, "GET", "/api/v1/incidents/999999", e.admin, nil, 404, "")
			e.fail(t, "GET", "/api/v1/incidents/abc", e.admin, nil, 400, "id")
			e.fail(t, "GET", "/api/v1/incidents/0", e.admin, nil, 400, "id")
		})

		t.Run("lifecycle", func(t *testing.T) {
			inc := e.declare(t, map[string]any{"title": "Slow search", "level": "P2", "service_id": sv.ID})
			path := fmt.Sprintf("/api/v1/incidents/%d", inc.ID)
			set := func(status string, want int, field string) apiIncident {
				t.Helper()
				body := map[string]any{"status": status, "note": "now " + status}
				if want != 200 {
					e.fail(t, "POST", path+"/status", e.admin, body, want, field)
					return apiIncident{}
				}
				var got apiIncident
				e.call(t, "POST", path+"/status", e.admin, body, 200).decode(t, &got)
				if got.Status != status {
					t.Fatalf("status %q after setting %q", got.Status, status)
				}
				return got
			}
			set("closed", 409, "status") // not resolved yet
			set("bogus", 400, "status")
			if eb := e.fail(t, "POST", path+"/status", e.admin, map[string]any{"status": 3}, 400, "status"); eb.Error != "status: must be a string" {
				t.Errorf("wrong type: %q", eb.Error)
			}
			e.fail(t, "POST", path+"/status", e.admin, map[string]any{"status": "resolved", "reason": "x"}, 400, "reason")
			if got := set("acknowledged", 200, ""); got.AcknowledgedAt == "" {
				t.Error("acknowledged_at not set")
			}
			set("acknowledged", 409, "status") // unchanged
			set("triggered", 409, "status")    // never back
			set("investigating", 200, "")

			var lv apiIncident
			e.call(t, "POST", path+"/level", e.admin, map[string]any{"level": "P0", "reason": "all regions"}, 200).decode(t, &lv)
			if lv.Level != "P0" {
				t.Errorf("level %q after regrading to P0", lv.Level)
			}
			e.fail(t, "POST", path+"/level", e.admin, map[string]any{"level": "P0"}, 422, "level")
			e.fail(t, "POST", path+"/level", e.admin, map[string]any{"level": "P7"}, 422, "level")
			e.fail(t, "POST", "/api/v1/incidents/999999/level", e.admin, map[string]any{"level": "P1"}, 404, "")

			if got := set("resolved", 200, ""); got.ResolvedAt == "" {
				t.Error("resolved_at not set")
			}
			if got := set("closed", 200, ""); got.ClosedAt == "" {
				t.Error("closed_at not set")
			}
			for _, s := range []string{"resolved", "investigating", "closed"} {
				set(s, 409, "status") // closed is final
			}
			e.fail(t, "POST", path+"/level", e.admin, map[string]any{"level": "P3"}, 409, "status")
			e.fail(t, "POST", "/api/v1/incidents/999999/status", e.admin, map[string]any{"status": "resolved"}, 404, "")

			// Everything is on the timeline, oldest first.
			all := e.timeline(t, inc.ID, "")
			var kinds []string
			var tl []apiEntry
			for i, en := range all {
				if i > 0 && en.ID <= all[i-1].ID {
					t.Errorf("timeline not oldest first: %d after %d", en.ID, all[i-1].ID)
				}
				if !engineKind(en.Kind) { // paging entries depend on the engine's timing
					kinds = append(kinds, en.Kind)
					tl = append(tl, en)
				}
			}
			want := []string{"declared", "status_changed", "status_changed", "level_changed", "status_changed", "status_changed"}
			if !slices.Equal(kinds, want) {
				t.Errorf("timeline kinds %v, want %v", kinds, want)
			}
			if tl[1].Body != "now acknowledged" || tl[1].Data["from"] != "triggered" || tl[1].Data["to"] != "acknowledged" || tl[1].Actor != "Administrator" {
				t.Errorf("status entry %+v", tl[1])
			}
		})

		t.Run("notes and timeline after", func(t *testing.T) {
			inc := e.declare(t, map[string]any{"title": "Queue backlog", "level": "P3"})
			path := fmt.Sprintf("/api/v1/incidents/%d", inc.ID)
			var notes []apiEntry
			for _, text := range []string{"first look", "scaled workers"} {
				var en apiEntry
				e.call(t, "POST", path+"/notes", e.admin, map[string]any{"text": text}, 201).decode(t, &en)
				if en.Kind != "note" || en.Body != text || en.Actor != "Administrator" || en.ID == 0 {
					t.Errorf("note entry %+v", en)
				}
				notes = append(notes, en)
			}
			e.fail(t, "POST", path+"/notes", e.admin, map[string]any{"text": "  "}, 400, "text")
			e.fail(t, "POST", path+"/notes", e.admin, map[string]any{"body": "x"}, 400, "body")
			e.fail(t, "POST", "/api/v1/incidents/999999/notes", e.admin, map[string]any{"text": "x"}, 404, "")

			all := e.timeline(t, inc.ID, "")
			if len(all) != 3 || all[0].Kind != "declared" || all[1].ID != notes[0].ID || all[2].ID != notes[1].ID {
				t.Fatalf("timeline %+v", all)
			}
			if got := e.timeline(t, inc.ID, fmt.Sprintf("?after=%d", all[0].ID)); len(got) != 2 || got[0].ID != notes[0].ID {
				t.Errorf("after declared: %+v", got)
			}
			if got := e.timeline(t, inc.ID, fmt.Sprintf("?after=%d", notes[1].ID)); len(got) != 0 {
				t.Errorf("after the last entry: %+v", got)
			}
			e.fail(t, "GET", path+"/timeline?after=x", e.admin, nil, 400, "after")
			e.fail(t, "GET", path+"/timeline?after=-1", e.admin, nil, 400, "after")
			e.fail(t, "GET", "/api/v1/incidents/999999/timeline", e.admin, nil, 404, "")
		})

		t.Run("list", func(t *testing.T) {
			own := e.createService(t, "paging")
			var made []apiIncident
			for i := range 7 {
				level := []string{"P2", "P3"}[i%2]
				made = append(made, e.declare(t, map[string]any{"title": fmt.Sprintf("incident %d", i), "level": level, "service_id": own.ID}))
			}
			// Resolve two; close one of them.
			for _, i := range []int{1, 4} {
				e.call(t, "POST", fmt.Sprintf("/api/v1/incidents/%d/status", made[i].ID), e.admin, map[string]any{"status": "resolved"}, 200)
			}
			e.call(t, "POST", fmt.Sprintf("/api/v1/incidents/%d/status", made[4].ID), e.admin, map[string]any{"status": "closed"}, 200)
			svc := strconv.FormatInt(own.ID, 10)

			// Three pages of at most three, newest first, nothing twice.
			var got []int64
			q := url.Values{"service_id": {svc}, "limit": {"3"}}
			pages := 0
			for {
				p := e.listIncidents(t, q)
				pages++
				got = append(got, incidentIDs(p.Items)...)
				if len(p.Items) > 3 {
					t.Fatalf("page of %d with limit 3", len(p.Items))
				}
				if p.NextCursor == "" {
					break
				}
				if pages > 5 {
					t.Fatal("pagination does not end")
				}
				q.Set("cursor", p.NextCursor)
			}
			want := incidentIDs(made)
			slices.Reverse(want)
			if pages != 3 || !slices.Equal(got, want) {
				t.Errorf("pages %d, incidentIDs %v; want 3 pages of %v", pages, got, want)
			}

			filter := func(q url.Values, want ...int) {
				t.Helper()
				q.Set("service_id", svc)
				p := e.listIncidents(t, q)
				var exp []int64 // newest first
				for _, i := range slices.Backward(want) {
					exp = append(exp, made[i].ID)
				}
				if got := incidentIDs(p.Items); !slices.Equal(got, exp) {
					t.Errorf("%s: incidentIDs %v, want %v", q.Encode(), got, exp)
				}
			}
			filter(url.Values{"status": {"open"}}, 0, 2, 3, 5, 6)
			filter(url.Values{"status": {"resolved"}}, 1)
			filter(url.Values{"status": {"resolved,closed"}}, 1, 4)
			filter(url.Values{"status": {"closed"}}, 4)
			filter(url.Values{"level": {"P3"}}, 1, 3, 5)
			filter(url.Values{"level": {"P3"}, "status": {"open"}}, 3, 5)
			filter(url.Values{"level": {"P0"}})

			// service_id really filters: other services' incidents are listed without it.
			all := e.listIncidents(t, url.Values{"limit": {"500"}})
			if len(all.Items) <= len(made) {
				t.Errorf("unfiltered list has %d incidents", len(all.Items))
			}
			for _, inc := range e.listIncidents(t, url.Values{"service_id": {strconv.FormatInt(sv.ID, 10)}}).Items {
				if inc.ServiceID != sv.ID {
					t.Errorf("service_id=%d listed %+v", sv.ID, inc)
				}
			}

			for _, c := range []struct{ query, field string }{
				{"status=bogus", "status"},
				{"limit=501", "limit"},
				{"limit=-1", "limit"},
				{"limit=x", "limit"},
				{"service_id=x", "service_id"},
				{"cursor=!!", "cursor"},
			} {
				e.fail(t, "GET", "/api/v1/incidents?"+c.query, e.admin, nil, 400, c.field)
			}
		})
	})
}

func TestAPIServicesUsersTokens(t *testing.T) {
	t.Parallel()
	apiEachDB(t, func(t *testing.T, e *apiEnv) {
		// A viewer, made through the API.
		var viewer struct {
			ID       int64  `json:"id"`
			Username string `json:"username"`
			Role     string `json:"role"`
		}
		e.call(t, "POST", "/api/v1/users", e.admin, map[string]any{
			"username": " Vera ", "display_name": "Vera Viewer", "email": "vera@example.com", "password": "vera-password-12",
		}, 201).decode(t, &viewer)
		if viewer.Username != "vera" || viewer.Role != "viewer" {
			t.Errorf("created %+v, want vera with the default role viewer", viewer)
		}
		viewerToken, _, err := e.in.Web.Auth.CreateToken(t.Context(), viewer.ID, "vera", 0)
		if err != nil {
			t.Fatal(err)
		}

		t.Run("users", func(t *testing.T) {
			e.fail(t, "POST", "/api/v1/users", e.admin, map[string]any{"username": "vera", "password": "another-password"}, 409, "username")
			e.fail(t, "POST", "/api/v1/users", e.admin, map[string]any{"username": "x", "password": "another-password"}, 400, "username")
			e.fail(t, "POST", "/api/v1/users", e.admin, map[string]any{"username": "walt", "password": "short"}, 400, "password")
			e.fail(t, "POST", "/api/v1/users", e.admin, map[string]any{"username": "walt", "password": "long-enough-pw", "role": "root"}, 400, "role")
			e.fail(t, "POST", "/api/v1/users", e.admin, map[string]any{"username": "walt", "password": "long-enough-pw", "email": "nope"}, 400, "email")
			e.fail(t, "POST", "/api/v1/users", e.admin, map[string]any{"username": "walt", "password": "long-enough-pw", "admin": true}, 400, "admin")
			var users apiPage[struct{ Username string }]
			e.call(t, "GET", "/api/v1/users", e.admin, nil, 200).decode(t, &users)
			var names []string
			for _, u := range users.Items {
				names = append(names, u.Username)
			}
			// admin, vera, and the default plan's people.
			if !slices.Contains(names, "admin") || !slices.Contains(names, "vera") || !slices.Contains(names, "ops1") || !slices.IsSorted(names) {
				t.Errorf("users %+v", users.Items)
			}
			e.fail(t, "GET", "/api/v1/users", viewerToken, nil, 403, "")
			e.fail(t, "POST", "/api/v1/users", viewerToken, map[string]any{"username": "walt", "password": "long-enough-pw"}, 403, "")
			var me struct{ Username, Role string }
			e.call(t, "GET", "/api/v1/me", viewerToken, nil, 200).decode(t, &me)
			if me.Username != "vera" || me.Role != "viewer" {
				t.Errorf("me = %+v", me)
			}
		})

		t.Run("authentication", func(t *testing.T) {
			for _, tok := range []string{"", "fbt_" + strings.Repeat("x", 40), "not-a-token"} {
				r := e.call(t, "GET", "/api/v1/incidents", tok, nil, 401)
				if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
					t.Errorf("401 without WWW-Authenticate: %v", r.header)
				}
			}
			// A viewer reads but may not act.
			e.call(t, "GET", "/api/v1/incidents", viewerToken, nil, 200)
			e.fail(t, "POST", "/api/v1/incidents", viewerToken, map[string]any{"title": "x", "level": "P1"}, 403, "")
		})

		t.Run("services", func(t *testing.T) {
			var sv apiService
			r := e.call(t, "POST", "/api/v1/services", e.admin, map[string]any{"name": "payments", "description": "card payments", "auto_resolve": false}, 201)
			r.decode(t, &sv)
			if r.header.Get("Location") != fmt.Sprintf("/api/v1/services/%d", sv.ID) {
				t.Errorf("Location %q", r.header.Get("Location"))
			}
			if sv.Name != "payments" || sv.Description != "card payments" || sv.AutoResolve || len(sv.Keys) != 1 || len(sv.URLs) != 1 {
				t.Fatalf("created %+v", sv)
			}
			key, u := sv.Keys[0], sv.URLs[0]
			if len(key.Key) != 32 || u.KeyID != key.ID || u.RoutingKey != key.Key ||
				u.Alertmanager != e.base+"/api/v1/integrations/"+key.Key+"/alertmanager" ||
				u.Grafana != e.base+"/api/v1/integrations/"+key.Key+"/grafana" ||
				u.Events != e.base+"/api/v1/integrations/"+key.Key+"/events" ||
				u.PagerDuty != e.base+"/v2/enqueue" {
				t.Errorf("integration urls %+v for key %+v", u, key)
			}

			e.fail(t, "POST", "/api/v1/services", e.admin, map[string]any{"name": "payments"}, 400, "name")
			e.fail(t, "POST", "/api/v1/services", e.admin, map[string]any{"name": " "}, 400, "name")
			e.fail(t, "POST", "/api/v1/services", e.admin, map[string]any{"name": "x", "auto_resolve": "yes"}, 400, "auto_resolve")
			e.fail(t, "POST", "/api/v1/services", e.admin, map[string]any{"name": "x", "owner": "me"}, 400, "owner")
			e.fail(t, "POST", "/api/v1/services", viewerToken, map[string]any{"name": "by-viewer"}, 403, "")

			var list apiPage[apiService]
			e.call(t, "GET", "/api/v1/services", viewerToken, nil, 200).decode(t, &list)
			var names []string
			for _, s := range list.Items {
				names = append(names, s.Name)
			}
			if !slices.Equal(names, []string{"demo", "payments"}) {
				t.Errorf("services %v, want demo and payments", names)
			}
			var got apiService
			e.call(t, "GET", fmt.Sprintf("/api/v1/services/%d", sv.ID), viewerToken, nil, 200).decode(t, &got)
			if got.Name != "payments" || len(got.URLs) != 1 {
				t.Errorf("GET service %+v", got)
			}
			e.fail(t, "GET", "/api/v1/services/999999", e.admin, nil, 404, "")

			// PATCH replaces name and description, keeps auto_resolve when absent.
			e.call(t, "PATCH", fmt.Sprintf("/api/v1/services/%d", sv.ID), e.admin, map[string]any{"name": "card-payments"}, 200).decode(t, &got)
			if got.Name != "card-payments" || got.Description != "" || got.AutoResolve {
				t.Errorf("after PATCH %+v", got)
			}
			e.fail(t, "PATCH", fmt.Sprintf("/api/v1/services/%d", sv.ID), e.admin, map[string]any{"name": "demo"}, 400, "name")
			e.fail(t, "PATCH", fmt.Sprintf("/api/v1/services/%d", sv.ID), viewerToken, map[string]any{"name": "v"}, 403, "")
			e.fail(t, "PATCH", "/api/v1/services/999999", e.admin, map[string]any{"name": "ghost"}, 404, "")

			// A second key works for ingest; once deleted, it is refused.
			var k2 apiKey
			e.call(t, "POST", fmt.Sprintf("/api/v1/services/%d/keys", sv.ID), e.admin, map[string]any{"name": "second"}, 201).decode(t, &k2)
			if k2.Name != "second" || len(k2.Key) != 32 || k2.Key == key.Key {
				t.Errorf("added key %+v", k2)
			}
			e.fail(t, "POST", fmt.Sprintf("/api/v1/services/%d/keys", sv.ID), viewerToken, map[string]any{"name": "v"}, 403, "")
			e.fail(t, "POST", "/api/v1/services/999999/keys", e.admin, map[string]any{"name": "x"}, 404, "")
			e.call(t, "GET", fmt.Sprintf("/api/v1/services/%d", sv.ID), e.admin, nil, 200).decode(t, &got)
			if len(got.Keys) != 2 || len(got.URLs) != 2 || got.URLs[1].RoutingKey != k2.Key {
				t.Errorf("service with two keys %+v", got)
			}
			event := map[string]any{"summary": "via second key", "severity": "warning", "dedup_key": "k2"}
			e.ingest(t, sv.ID, k2.Key, "events", event, "created")

			keyPath := fmt.Sprintf("/api/v1/services/%d/keys/%d", sv.ID, k2.ID)
			e.fail(t, "DELETE", keyPath, viewerToken, nil, 403, "")
			e.fail(t, "DELETE", fmt.Sprintf("/api/v1/services/%d/keys/%d", sv.ID+1000, k2.ID), e.admin, nil, 404, "")
			e.call(t, "DELETE", keyPath, e.admin, nil, 204)
			e.fail(t, "DELETE", keyPath, e.admin, nil, 404, "")
			before := e.count(t, "alerts")
			e.fail(t, "POST", "/api/v1/integrations/"+k2.Key+"/events", "", event, 404, "key")
			r = e.call(t, "POST", "/v2/enqueue", "", map[string]any{"routing_key": k2.Key, "event_action": "trigger",
				"payload": map[string]any{"summary": "x", "source": "y", "severity": "error"}}, 400)
			if string(r.body) != `{"status":"invalid event","message":"Event object is invalid","errors":["Invalid routing key"]}` {
				t.Errorf("PagerDuty with a deleted key: %s", r.body)
			}
			if after := e.count(t, "alerts"); after != before {
				t.Errorf("a deleted key stored %d alerts", after-before)
			}
			// The first key still works.
			e.ingest(t, sv.ID, key.Key, "events", event, "deduplicated")
		})

		t.Run("tokens", func(t *testing.T) {
			var created struct {
				ID        int64  `json:"id"`
				Name      string `json:"name"`
				Prefix    string `json:"prefix"`
				Token     string `json:"token"`
				ExpiresAt string `json:"expires_at"`
			}
			e.call(t, "POST", "/api/v1/tokens", viewerToken, map[string]any{"name": "cli", "expires_in": "24h"}, 201).decode(t, &created)
			if !strings.HasPrefix(created.Token, auth.TokenPrefix) || created.ExpiresAt == "" || created.Prefix != created.Token[4:12] {
				t.Errorf("created token %+v", created)
			}
			var me struct{ Username string }
			e.call(t, "GET", "/api/v1/me", created.Token, nil, 200).decode(t, &me)
			if me.Username != "vera" {
				t.Errorf("new token acts as %q", me.Username)
			}
			var list apiPage[map[string]any]
			e.call(t, "GET", "/api/v1/tokens", viewerToken, nil, 200).decode(t, &list)
			if len(list.Items) != 2 || list.Items[0]["name"] != "cli" {
				t.Errorf("tokens %v", list.Items)
			}
			for _, tk := range list.Items {
				if _, ok := tk["token"]; ok {
					t.Errorf("token list shows a secret: %v", tk)
				}
			}
			e.fail(t, "POST", "/api/v1/tokens", viewerToken, map[string]any{"name": "x", "expires_in": "soon"}, 400, "expires_in")
			e.fail(t, "POST", "/api/v1/tokens", viewerToken, map[string]any{"name": "x", "expires_in": "-1h"}, 400, "expires_in")
			e.fail(t, "POST", "/api/v1/tokens", viewerToken, map[string]any{"name": ""}, 400, "name")
			// Another user's token cannot be revoked.
			e.fail(t, "DELETE", fmt.Sprintf("/api/v1/tokens/%d", created.ID), e.admin, nil, 404, "")
			e.call(t, "DELETE", fmt.Sprintf("/api/v1/tokens/%d", created.ID), viewerToken, nil, 204)
			e.call(t, "GET", "/api/v1/me", created.Token, nil, 401)
			e.fail(t, "DELETE", fmt.Sprintf("/api/v1/tokens/%d", created.ID), viewerToken, nil, 404, "")
			e.fail(t, "DELETE", "/api/v1/tokens/x", viewerToken, nil, 400, "id")
		})

		t.Run("plan", func(t *testing.T) {
			var p struct {
				VersionID int64 `json:"version_id"`
				Levels    []struct {
					ID  string `json:"id"`
					Ack int64  `json:"acknowledge_target_seconds"`
				} `json:"levels"`
			}
			e.call(t, "GET", "/api/v1/plan", viewerToken, nil, 200).decode(t, &p)
			var levels []string
			for _, l := range p.Levels {
				levels = append(levels, l.ID)
			}
			if p.VersionID == 0 || !slices.Equal(levels, []string{"P0", "P1", "P2", "P3"}) || p.Levels[0].Ack != 300 {
				t.Errorf("plan version %d levels %v", p.VersionID, levels)
			}
		})

		t.Run("alerts", func(t *testing.T) {
			e.fail(t, "GET", "/api/v1/alerts/999999", e.admin, nil, 404, "")
			e.fail(t, "GET", "/api/v1/alerts/x", e.admin, nil, 400, "id")
			for _, c := range []struct{ query, field string }{
				{"status=open", "status"},
				{"service_id=x", "service_id"},
				{"incident_id=x", "incident_id"},
				{"limit=x", "limit"},
				{"cursor=!!", "cursor"},
			} {
				e.fail(t, "GET", "/api/v1/alerts?"+c.query, e.admin, nil, 400, c.field)
			}
			e.fail(t, "GET", "/api/v1/incidents/1/alerts?service_id=x", e.admin, nil, 400, "service_id")
			e.fail(t, "GET", "/api/v1/incidents/x/alerts", e.admin, nil, 400, "id")
		})
	})
}

// engineKind reports timeline kinds the paging engine writes.
func engineKind(k string) bool {
	switch k {
	case "escalated", "notification", "escalation_policy", "escalate_now", "ack_expired":
		return true
	}
	return false
}
