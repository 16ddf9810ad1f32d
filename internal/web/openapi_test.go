package web

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/firebreak/firebreak/internal/alert"
	"github.com/firebreak/firebreak/internal/auth"
	"github.com/firebreak/firebreak/internal/check"
	"github.com/firebreak/firebreak/internal/contact"
	"github.com/firebreak/firebreak/internal/escalation"
	"github.com/firebreak/firebreak/internal/incident"
	"github.com/firebreak/firebreak/internal/live"
	"github.com/firebreak/firebreak/internal/maintenance"
	"github.com/firebreak/firebreak/internal/oncall"
	"github.com/firebreak/firebreak/internal/plan"
	"github.com/firebreak/firebreak/internal/service"
	"github.com/firebreak/firebreak/internal/testenv"
)

const testBaseURL = "http://firebreak.test:8080"

// newTestServer assembles a Server on a fresh SQLite database holding the
// default plan, with its ingest writer running, and builds its handler.
func newTestServer(t *testing.T) (*Server, http.Handler) {
	t.Helper()
	db := testenv.SQLite(t)
	if _, err := plan.ApplyDefaultIfEmpty(t.Context(), db, time.Now()); err != nil {
		t.Fatal(err)
	}
	incidents := &incident.Store{DB: db}
	w := &alert.Writer{DB: db}
	ctx, stop := context.WithCancel(context.Background())
	w.Start(ctx)
	t.Cleanup(func() { stop(); w.Wait() }) // runs before the database closes
	checks := &check.Store{DB: db}
	log := slog.New(slog.DiscardHandler)
	s := &Server{
		DB: db, Auth: &auth.Store{DB: db}, Incidents: incidents, Alerts: &alert.Store{DB: db},
		Services: &service.Store{DB: db}, Writer: w, Live: &live.Hub{}, Metrics: NewMetrics(incidents),
		Log: log, BaseURL: testBaseURL,
		Contacts: &contact.Store{DB: db}, OnCall: &oncall.Store{DB: db}, Policies: &escalation.Store{DB: db},
		Checks: checks, Maintenance: &maintenance.Store{DB: db}, Logs: &check.Logs{Checks: checks, Alerts: w, Log: log},
	}
	return s, s.Handler()
}

// inOpenAPIScope reports whether a route path belongs in the OpenAPI document.
func inOpenAPIScope(path string) bool {
	return strings.HasPrefix(path, "/api/v1/") || strings.HasPrefix(path, "/v2/") || strings.HasPrefix(path, "/generic/")
}

var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

func fetchOpenAPI(t *testing.T, h http.Handler) []byte {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/openapi.json", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /api/v1/openapi.json: %d %s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	return rec.Body.Bytes()
}

func TestOpenAPIDocument(t *testing.T) {
	s, h := newTestServer(t)
	raw := fetchOpenAPI(t, h)
	spec, err := ParseSpec(raw)
	if err != nil {
		t.Fatalf("document: %v", err)
	}
	doc := spec.doc

	t.Run("header", func(t *testing.T) {
		if v, _ := doc["openapi"].(string); !regexp.MustCompile(`^3\.1\.\d+$`).MatchString(v) {
			t.Errorf("openapi = %q, want 3.1.x", v)
		}
		if !strings.HasPrefix(string(raw), `{"openapi":`) {
			t.Errorf("document should start with the openapi field: %.40s", raw)
		}
		info, _ := doc["info"].(map[string]any)
		for _, f := range []string{"title", "version", "description"} {
			if v, _ := info[f].(string); strings.TrimSpace(v) == "" {
				t.Errorf("info.%s is empty", f)
			}
		}
		if d, _ := info["description"].(string); !strings.Contains(d, "integration key") || !strings.Contains(d, "/api/v1/integrations/{key}/") {
			t.Errorf("info.description should explain the integration key in ingest URLs")
		}
		servers, _ := doc["servers"].([]any)
		if len(servers) != 1 || servers[0].(map[string]any)["url"] != testBaseURL {
			t.Errorf("servers = %v, want the base URL %s", servers, testBaseURL)
		}
	})

	t.Run("refs resolve", func(t *testing.T) {
		n := 0
		walk(doc, "#", func(at string, m map[string]any) {
			ref, ok := m["$ref"].(string)
			if !ok {
				return
			}
			n++
			if !strings.HasPrefix(ref, "#/components/") {
				t.Errorf("%s: $ref %q is not local to components", at, ref)
			}
			if _, err := spec.resolve(ref); err != nil {
				t.Errorf("%s: %v", at, err)
			}
		})
		if n < 50 {
			t.Errorf("only %d $refs found; is the document complete?", n)
		}
	})

	t.Run("components used", func(t *testing.T) {
		used := map[string]bool{}
		walk(doc, "#", func(_ string, m map[string]any) {
			if ref, ok := m["$ref"].(string); ok {
				used[ref] = true
			}
		})
		comps, _ := doc["components"].(map[string]any)
		for kind, v := range comps {
			if kind == "securitySchemes" {
				continue
			}
			for name := range v.(map[string]any) {
				if ref := "#/components/" + kind + "/" + name; !used[ref] {
					t.Errorf("%s is never referenced", ref)
				}
			}
		}
	})

	t.Run("security schemes", func(t *testing.T) {
		schemes, _ := doc["components"].(map[string]any)["securitySchemes"].(map[string]any)
		bearer, _ := schemes["bearerAuth"].(map[string]any)
		if bearer["type"] != "http" || bearer["scheme"] != "bearer" || !strings.HasPrefix(fmt.Sprint(bearer["bearerFormat"]), auth.TokenPrefix) {
			t.Errorf("bearerAuth = %v, want http bearer with format %s…", bearer, auth.TokenPrefix)
		}
		cookie, _ := schemes["cookieAuth"].(map[string]any)
		if cookie["type"] != "apiKey" || cookie["in"] != "cookie" || cookie["name"] != auth.SessionCookie {
			t.Errorf("cookieAuth = %v, want apiKey in cookie %s", cookie, auth.SessionCookie)
		}
	})

	// Operations of the document, by "METHOD /path".
	ops := map[string]map[string]any{}
	paths, _ := doc["paths"].(map[string]any)
	for path, item := range paths {
		for _, m := range httpMethods {
			if op, ok := item.(map[string]any)[m].(map[string]any); ok {
				ops[strings.ToUpper(m)+" "+path] = op
			}
		}
	}

	t.Run("routes documented", func(t *testing.T) {
		routes := map[string]Policy{}
		inScope := 0
		for _, r := range s.Routes() {
			routes[r.Pattern] = r.Policy
			method, path, ok := strings.Cut(r.Pattern, " ")
			if !ok {
				path = method
			}
			if !inOpenAPIScope(path) {
				continue
			}
			inScope++
			if !ok {
				t.Errorf("route %q has no method; API routes must name one", r.Pattern)
				continue
			}
			if _, found := ops[r.Pattern]; !found {
				t.Errorf("route %s (%s) is missing from openapi.json", r.Pattern, r.Policy)
			}
		}
		if inScope < 25 {
			t.Errorf("only %d API routes registered", inScope)
		}
		// Everything documented is a route, with the route's policy.
		for key, op := range ops {
			policy, ok := routes[key]
			if !ok {
				t.Errorf("openapi.json documents %s, which is not a registered route", key)
				continue
			}
			if role, _ := op["x-firebreak-role"].(string); role != string(policy) {
				t.Errorf("%s: x-firebreak-role = %q, route policy is %q", key, role, policy)
			}
		}
	})

	t.Run("operations", func(t *testing.T) {
		ids := map[string]string{}
		keys := slices.Sorted(func(yield func(string) bool) {
			for k := range ops {
				if !yield(k) {
					return
				}
			}
		})
		for _, key := range keys {
			op := ops[key]
			method, path, _ := strings.Cut(key, " ")
			id, _ := op["operationId"].(string)
			if id == "" {
				t.Errorf("%s: no operationId", key)
			} else if prev, dup := ids[id]; dup {
				t.Errorf("%s: operationId %q also used by %s", key, id, prev)
			}
			ids[id] = key
			if s, _ := op["summary"].(string); s == "" {
				t.Errorf("%s: no summary", key)
			}
			role := Policy(fmt.Sprint(op["x-firebreak-role"]))
			sec, hasSec := op["security"].([]any)
			switch role {
			case Public, Ingest:
				if hasSec && len(sec) > 0 {
					t.Errorf("%s: %s operation declares security %v", key, role, sec)
				}
			case Viewer, Responder, Admin:
				if len(sec) == 0 {
					t.Errorf("%s: %s operation declares no security", key, role)
				}
				names := map[string]bool{}
				for _, req := range sec {
					for name := range req.(map[string]any) {
						names[name] = true
					}
				}
				if !names["bearerAuth"] || !names["cookieAuth"] {
					t.Errorf("%s: security %v should offer bearerAuth and cookieAuth", key, sec)
				}
			default:
				t.Errorf("%s: x-firebreak-role %q is not a policy", key, role)
			}

			responses, _ := op["responses"].(map[string]any)
			has := func(code string) bool { _, ok := responses[code]; return ok }
			ok2xx := false
			for code := range responses {
				if strings.HasPrefix(code, "2") {
					ok2xx = true
				}
			}
			if !ok2xx {
				t.Errorf("%s: no 2xx response", key)
			}
			if (role == Viewer || role == Responder || role == Admin) && !has("401") {
				t.Errorf("%s: no 401 response", key)
			}
			if (role == Responder || role == Admin) && !has("403") {
				t.Errorf("%s: no 403 response", key)
			}
			if _, body := op["requestBody"]; body && strings.HasPrefix(path, "/api/v1/") && role != Ingest {
				for _, code := range []string{"400", "413"} {
					if !has(code) {
						t.Errorf("%s: takes a body but has no %s response", key, code)
					}
				}
			}
			if method == "GET" || method == "DELETE" {
				if _, body := op["requestBody"]; body {
					t.Errorf("%s: %s with a request body", key, method)
				}
			}

			// Path parameters: every {name} declared once, as required, and nothing more.
			params, err := spec.parameters(paths[path].(map[string]any), op)
			if err != nil {
				t.Errorf("%s: %v", key, err)
				continue
			}
			inTemplate := map[string]bool{}
			for _, m := range regexp.MustCompile(`\{([^}]*)\}`).FindAllStringSubmatch(path, -1) {
				inTemplate[m[1]] = true
			}
			seen := map[string]bool{}
			for _, p := range params {
				name, in := fmt.Sprint(p["name"]), fmt.Sprint(p["in"])
				if seen[in+":"+name] {
					t.Errorf("%s: parameter %s in %s declared twice", key, name, in)
				}
				seen[in+":"+name] = true
				if _, ok := p["schema"]; !ok {
					t.Errorf("%s: parameter %s has no schema", key, name)
				}
				if in != "path" {
					continue
				}
				if !inTemplate[name] {
					t.Errorf("%s: path parameter %q is not in the path", key, name)
				}
				if p["required"] != true {
					t.Errorf("%s: path parameter %q must be required", key, name)
				}
			}
			for name := range inTemplate {
				if !seen["path:"+name] {
					t.Errorf("%s: path parameter {%s} is not declared", key, name)
				}
			}
		}
	})

	t.Run("list filters", func(t *testing.T) {
		want := map[string][]string{
			"GET /api/v1/incidents":               {"status", "level", "service_id", "limit", "cursor"},
			"GET /api/v1/alerts":                  {"status", "service_id", "incident_id", "limit", "cursor"},
			"GET /api/v1/incidents/{id}/alerts":   {"status", "service_id", "limit", "cursor"},
			"GET /api/v1/incidents/{id}/timeline": {"after"},
		}
		for key, names := range want {
			_, path, _ := strings.Cut(key, " ")
			params, err := spec.parameters(paths[path].(map[string]any), ops[key])
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range params {
				if p["in"] == "query" {
					got = append(got, fmt.Sprint(p["name"]))
				}
			}
			sort.Strings(got)
			sort.Strings(names)
			if !slices.Equal(got, names) {
				t.Errorf("%s: query parameters %v, want %v", key, got, names)
			}
		}
	})

	t.Run("examples match schemas", func(t *testing.T) {
		n := 0
		for key, op := range ops {
			body, ok := op["requestBody"].(map[string]any)
			if !ok {
				continue
			}
			media, _ := body["content"].(map[string]any)["application/json"].(map[string]any)
			schema := media["schema"]
			if schema == nil {
				t.Errorf("%s: request body has no application/json schema", key)
				continue
			}
			check := func(name string, v any) {
				n++
				if err := spec.Validate(schema, v); err != nil {
					t.Errorf("%s: example %s: %v", key, name, err)
				}
			}
			if ex, ok := media["example"]; ok {
				check("example", ex)
			}
			if exs, ok := media["examples"].(map[string]any); ok {
				for name, ex := range exs {
					check(name, ex.(map[string]any)["value"])
				}
			}
		}
		if n < 10 {
			t.Errorf("only %d request examples", n)
		}
	})

	// The request schemas are strict (additionalProperties: false) exactly where
	// the server rejects unknown fields.
	t.Run("request schemas", func(t *testing.T) {
		for _, c := range []struct {
			schema string
			good   any
			bad    any
		}{
			{"Declaration", map[string]any{"title": "x", "level": "P1", "service_id": 3}, map[string]any{"title": "x", "sevrity": "P1"}},
			{"StatusChange", map[string]any{"status": "resolved", "note": "ok"}, map[string]any{"status": "done"}},
			{"LevelChange", map[string]any{"level": "P0"}, map[string]any{}},
			{"NoteInput", map[string]any{"text": "hi"}, map[string]any{"text": 1}},
			{"ServiceInput", map[string]any{"name": "db", "auto_resolve": false}, map[string]any{"name": "db", "autoresolve": false}},
			{"KeyInput", map[string]any{"name": "k"}, map[string]any{"key": "k"}},
			{"NewUser", map[string]any{"username": "ann", "password": "correct horse battery", "role": "admin"}, map[string]any{"username": "ann", "password": "x", "role": "root"}},
			{"TokenInput", map[string]any{"name": "ci", "expires_in": "24h"}, map[string]any{"name": "ci", "ttl": "24h"}},
			{"GenericBody", []any{map[string]any{"summary": "x"}}, map[string]any{"events": []any{}}},
			{"GenericBody", map[string]any{"events": []any{map[string]any{"summary": "x", "action": "resolve", "dedup_key": "k"}}}, map[string]any{"summary": "x", "colour": "red"}},
			{"AlertmanagerWebhook", map[string]any{"version": "4", "alerts": []any{map[string]any{"status": "firing", "labels": map[string]any{"a": "b"}}}}, map[string]any{"version": 4, "alerts": []any{}}},
			{"PagerDutyV2Event", map[string]any{"routing_key": "k", "event_action": "resolve", "dedup_key": "d"}, map[string]any{"routing_key": "k", "event_action": "explode"}},
			{"PagerDutyV1Event", map[string]any{"service_key": "k", "event_type": "trigger", "description": "d"}, map[string]any{"event_type": "trigger"}},
		} {
			ref := map[string]any{"$ref": "#/components/schemas/" + c.schema}
			if err := spec.Validate(ref, c.good); err != nil {
				t.Errorf("%s rejects %v: %v", c.schema, c.good, err)
			}
			if err := spec.Validate(ref, c.bad); err == nil {
				t.Errorf("%s accepts %v", c.schema, c.bad)
			}
		}
	})
}

// TestOpenAPIDocumentEmbedded checks the served document is the embedded one,
// and that it has no servers without a base URL.
func TestOpenAPIDocumentEmbedded(t *testing.T) {
	b, err := openAPIDocument("")
	if err != nil {
		t.Fatal(err)
	}
	var served, embedded any
	if err := json.Unmarshal(b, &served); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(openAPISpec, &embedded); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(served, embedded) {
		t.Error("served document differs from openapi.json")
	}
	if _, ok := served.(map[string]any)["servers"]; ok {
		t.Error("servers set without a base URL")
	}
}

// walk calls fn for every object in v, with its JSON pointer.
func walk(v any, at string, fn func(at string, m map[string]any)) {
	switch v := v.(type) {
	case map[string]any:
		fn(at, v)
		for k, x := range v {
			walk(x, at+"/"+strings.NewReplacer("~", "~0", "/", "~1").Replace(k), fn)
		}
	case []any:
		for i, x := range v {
			walk(x, at+"/"+strconv.Itoa(i), fn)
		}
	}
}

// Spec is a parsed OpenAPI document that checks real answers against itself.
// It is exported for the API tests of package web_test.
type Spec struct {
	doc map[string]any
}

// ParseSpec parses an OpenAPI document.
func ParseSpec(b []byte) (*Spec, error) {
	d := json.NewDecoder(strings.NewReader(string(b)))
	d.UseNumber()
	var doc map[string]any
	if err := d.Decode(&doc); err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	if d.More() {
		return nil, fmt.Errorf("trailing data after the document")
	}
	return &Spec{doc: doc}, nil
}

func (s *Spec) resolve(ref string) (any, error) {
	if !strings.HasPrefix(ref, "#/") {
		return nil, fmt.Errorf("$ref %q: only local references are supported", ref)
	}
	var cur any = s.doc
	for _, part := range strings.Split(ref[2:], "/") {
		part = strings.NewReplacer("~1", "/", "~0", "~").Replace(part)
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("$ref %q does not resolve", ref)
		}
		if cur, ok = m[part]; !ok {
			return nil, fmt.Errorf("$ref %q does not resolve", ref)
		}
	}
	return cur, nil
}

// deref follows $ref of a non-schema object (parameter, response).
func (s *Spec) deref(v any) (map[string]any, error) {
	for range 10 {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%v is not an object", v)
		}
		ref, ok := m["$ref"].(string)
		if !ok {
			return m, nil
		}
		var err error
		if v, err = s.resolve(ref); err != nil {
			return nil, err
		}
	}
	return nil, fmt.Errorf("$ref loop")
}

// parameters returns an operation's parameters merged with its path item's.
func (s *Spec) parameters(item, op map[string]any) ([]map[string]any, error) {
	var out []map[string]any
	byKey := map[string]int{}
	for _, list := range []any{item["parameters"], op["parameters"]} {
		ps, _ := list.([]any)
		for _, p := range ps {
			m, err := s.deref(p)
			if err != nil {
				return nil, err
			}
			k := fmt.Sprint(m["in"], ":", m["name"])
			if i, ok := byKey[k]; ok { // the operation overrides the path item
				out[i] = m
				continue
			}
			byKey[k] = len(out)
			out = append(out, m)
		}
	}
	return out, nil
}

// Operation returns the path template and operation for a request.
func (s *Spec) Operation(method, path string) (string, map[string]any, error) {
	path, _, _ = strings.Cut(path, "?")
	paths, _ := s.doc["paths"].(map[string]any)
	segs := strings.Split(path, "/")
	var templates []string
	for tmpl := range paths {
		ts := strings.Split(tmpl, "/")
		if len(ts) != len(segs) {
			continue
		}
		match := true
		for i := range ts {
			if ts[i] != segs[i] && !(strings.HasPrefix(ts[i], "{") && strings.HasSuffix(ts[i], "}")) {
				match = false
				break
			}
		}
		if match {
			templates = append(templates, tmpl)
		}
	}
	// Literal segments win over parameters, as in ServeMux.
	sort.Slice(templates, func(i, j int) bool { return strings.Count(templates[i], "{") < strings.Count(templates[j], "{") })
	for _, tmpl := range templates {
		if op, ok := paths[tmpl].(map[string]any)[strings.ToLower(method)].(map[string]any); ok {
			return tmpl, op, nil
		}
	}
	return "", nil, fmt.Errorf("openapi.json has no operation for %s %s", method, path)
}

// CheckResponse validates an answer's status and body against the document.
// Undocumented properties in the body are errors.
func (s *Spec) CheckResponse(method, path string, status int, contentType string, body []byte) error {
	tmpl, op, err := s.Operation(method, path)
	if err != nil {
		return err
	}
	responses, _ := op["responses"].(map[string]any)
	r, ok := responses[strconv.Itoa(status)]
	if !ok {
		if r, ok = responses["default"]; !ok {
			return fmt.Errorf("%s %s: status %d is not documented", method, tmpl, status)
		}
	}
	resp, err := s.deref(r)
	if err != nil {
		return err
	}
	content, _ := resp["content"].(map[string]any)
	if len(content) == 0 {
		if len(strings.TrimSpace(string(body))) > 0 {
			return fmt.Errorf("%s %s %d: documented without content, got %q", method, tmpl, status, body)
		}
		return nil
	}
	mediaType, _, _ := strings.Cut(contentType, ";")
	media, ok := content[strings.TrimSpace(mediaType)].(map[string]any)
	if !ok {
		return fmt.Errorf("%s %s %d: Content-Type %q is not documented", method, tmpl, status, contentType)
	}
	if mediaType != "application/json" {
		return nil
	}
	d := json.NewDecoder(strings.NewReader(string(body)))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return fmt.Errorf("%s %s %d: body is not JSON: %v: %q", method, tmpl, status, err, body)
	}
	if err := s.validate(media["schema"], v, "body", true); err != nil {
		return fmt.Errorf("%s %s %d: %w", method, tmpl, status, err)
	}
	return nil
}

// CheckRequest validates a JSON request body against the operation's
// documented request schema.
func (s *Spec) CheckRequest(method, path string, body []byte) error {
	tmpl, op, err := s.Operation(method, path)
	if err != nil {
		return err
	}
	rb, ok := op["requestBody"].(map[string]any)
	if !ok {
		return fmt.Errorf("%s %s takes no request body", method, tmpl)
	}
	media, _ := rb["content"].(map[string]any)["application/json"].(map[string]any)
	d := json.NewDecoder(strings.NewReader(string(body)))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return fmt.Errorf("%s %s: request is not JSON: %v", method, tmpl, err)
	}
	if err := s.validate(media["schema"], v, "request", false); err != nil {
		return fmt.Errorf("%s %s: %w", method, tmpl, err)
	}
	return nil
}

// Validate checks v (decoded JSON) against schema without the strict
// treatment of undocumented properties.
func (s *Spec) Validate(schema, v any) error {
	v = normalizeJSON(v)
	return s.validate(schema, v, "value", false)
}

// normalizeJSON turns Go values into what a UseNumber decoder produces.
func normalizeJSON(v any) any {
	b, _ := json.Marshal(v)
	d := json.NewDecoder(strings.NewReader(string(b)))
	d.UseNumber()
	var out any
	_ = d.Decode(&out)
	return out
}

var schemaKeywords = map[string]bool{
	"$ref": true, "type": true, "properties": true, "required": true, "additionalProperties": true, "items": true,
	"enum": true, "const": true, "oneOf": true, "anyOf": true, "allOf": true, "format": true,
	"minimum": true, "maximum": true, "minLength": true, "maxLength": true, "pattern": true, "minItems": true, "maxItems": true,
	// annotations
	"description": true, "title": true, "examples": true, "example": true, "default": true, "writeOnly": true, "readOnly": true, "deprecated": true,
}

func jsonType(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case json.Number:
		if !strings.ContainsAny(v.String(), ".eE") {
			return "integer"
		}
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

func number(v any) (float64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	f, err := n.Float64()
	return f, err == nil
}

func (s *Spec) validate(schema, v any, at string, strict bool) error {
	if b, ok := schema.(bool); ok {
		if !b {
			return fmt.Errorf("%s: not allowed", at)
		}
		return nil
	}
	sc, ok := schema.(map[string]any)
	if !ok {
		return fmt.Errorf("%s: schema %v is not an object", at, schema)
	}
	for k := range sc {
		if !schemaKeywords[k] {
			return fmt.Errorf("%s: schema keyword %q is not supported by this validator", at, k)
		}
	}
	if ref, ok := sc["$ref"].(string); ok {
		target, err := s.resolve(ref)
		if err != nil {
			return err
		}
		if err := s.validate(target, v, at, strict); err != nil {
			return err
		}
	}
	if all, ok := sc["allOf"].([]any); ok {
		for _, sub := range all {
			if err := s.validate(sub, v, at, strict); err != nil {
				return err
			}
		}
	}
	if anyOf, ok := sc["anyOf"].([]any); ok {
		var errs []string
		for _, sub := range anyOf {
			err := s.validate(sub, v, at, strict)
			if err == nil {
				errs = nil
				break
			}
			errs = append(errs, err.Error())
		}
		if errs != nil {
			return fmt.Errorf("%s: matches none of anyOf: %s", at, strings.Join(errs, "; "))
		}
	}
	if oneOf, ok := sc["oneOf"].([]any); ok {
		var errs []string
		n := 0
		for _, sub := range oneOf {
			if err := s.validate(sub, v, at, strict); err != nil {
				errs = append(errs, err.Error())
			} else {
				n++
			}
		}
		if n != 1 {
			return fmt.Errorf("%s: matches %d of oneOf, want 1: %s", at, n, strings.Join(errs, "; "))
		}
	}
	if c, ok := sc["const"]; ok && !reflect.DeepEqual(normalizeJSON(c), v) {
		return fmt.Errorf("%s: %v, want %v", at, v, c)
	}
	if enum, ok := sc["enum"].([]any); ok {
		found := false
		for _, e := range enum {
			if reflect.DeepEqual(normalizeJSON(e), v) {
				found = true
			}
		}
		if !found {
			return fmt.Errorf("%s: %v is not one of %v", at, v, enum)
		}
	}
	if t, ok := sc["type"]; ok {
		var types []string
		switch t := t.(type) {
		case string:
			types = []string{t}
		case []any:
			for _, x := range t {
				types = append(types, fmt.Sprint(x))
			}
		}
		got := jsonType(v)
		if !slices.Contains(types, got) && !(got == "integer" && slices.Contains(types, "number")) {
			return fmt.Errorf("%s: %s, want %s", at, got, strings.Join(types, " or "))
		}
	}
	switch v := v.(type) {
	case map[string]any:
		props, _ := sc["properties"].(map[string]any)
		if req, ok := sc["required"].([]any); ok {
			for _, r := range req {
				if _, ok := v[fmt.Sprint(r)]; !ok {
					return fmt.Errorf("%s: required property %q is missing", at, r)
				}
			}
		}
		names := slices.Sorted(func(yield func(string) bool) {
			for k := range v {
				if !yield(k) {
					return
				}
			}
		})
		for _, k := range names {
			x := v[k]
			if ps, ok := props[k]; ok {
				if err := s.validate(ps, x, at+"."+k, strict); err != nil {
					return err
				}
				continue
			}
			switch ap := sc["additionalProperties"].(type) {
			case nil:
				if strict && len(props) > 0 {
					return fmt.Errorf("%s: property %q is not documented", at, k)
				}
			case bool:
				if !ap {
					return fmt.Errorf("%s: property %q is not allowed", at, k)
				}
			default:
				if err := s.validate(ap, x, at+"."+k, strict); err != nil {
					return err
				}
			}
		}
	case []any:
		if items, ok := sc["items"]; ok {
			for i, x := range v {
				if err := s.validate(items, x, fmt.Sprintf("%s[%d]", at, i), strict); err != nil {
					return err
				}
			}
		}
		if n, ok := number(sc["minItems"]); ok && float64(len(v)) < n {
			return fmt.Errorf("%s: %d items, want at least %v", at, len(v), n)
		}
		if n, ok := number(sc["maxItems"]); ok && float64(len(v)) > n {
			return fmt.Errorf("%s: %d items, want at most %v", at, len(v), n)
		}
	case string:
		if n, ok := number(sc["minLength"]); ok && float64(utf8.RuneCountInString(v)) < n {
			return fmt.Errorf("%s: %q shorter than %v", at, v, n)
		}
		if n, ok := number(sc["maxLength"]); ok && float64(utf8.RuneCountInString(v)) > n {
			return fmt.Errorf("%s: longer than %v", at, n)
		}
		if p, ok := sc["pattern"].(string); ok && !regexp.MustCompile(p).MatchString(v) {
			return fmt.Errorf("%s: %q does not match %s", at, v, p)
		}
		switch sc["format"] {
		case "date-time":
			if _, err := time.Parse(time.RFC3339Nano, v); err != nil {
				return fmt.Errorf("%s: %q is not an RFC 3339 date-time", at, v)
			}
		case "uri":
			if u, err := url.Parse(v); err != nil || !u.IsAbs() {
				return fmt.Errorf("%s: %q is not an absolute URI", at, v)
			}
		}
	case json.Number:
		f, _ := v.Float64()
		if n, ok := number(sc["minimum"]); ok && f < n {
			return fmt.Errorf("%s: %v below minimum %v", at, v, n)
		}
		if n, ok := number(sc["maximum"]); ok && f > n {
			return fmt.Errorf("%s: %v above maximum %v", at, v, n)
		}
	}
	return nil
}
