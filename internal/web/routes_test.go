package web

import (
	"bytes"
	"context"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firebreak/firebreak/internal/auth"
)

var knownPolicies = map[Policy]bool{Public: true, Ingest: true, Viewer: true, Responder: true, Admin: true}

// routeRequestPath fills every wildcard of a ServeMux path with "1".
func routeRequestPath(path string) string {
	path = strings.ReplaceAll(path, "{$}", "")
	return regexp.MustCompile(`\{[^}]*\}`).ReplaceAllString(path, "1")
}

func splitPattern(p string) (method, path string) {
	method, path, ok := strings.Cut(p, " ")
	if !ok {
		return "", p
	}
	return method, path
}

// probeRecorder records an answer and says when its header is written, so a
// streaming handler (Server-Sent Events) can be judged by its status and stopped.
type probeRecorder struct {
	header http.Header
	mu     sync.Mutex
	status int
	body   bytes.Buffer
	wrote  chan struct{}
	once   sync.Once
}

func (p *probeRecorder) Header() http.Header { return p.header }

func (p *probeRecorder) WriteHeader(code int) {
	p.mu.Lock()
	if p.status == 0 {
		p.status = code
	}
	p.mu.Unlock()
	if code >= 200 {
		p.once.Do(func() { close(p.wrote) })
	}
}

func (p *probeRecorder) Write(b []byte) (int, error) {
	p.WriteHeader(http.StatusOK)
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.body.Write(b)
}

func (p *probeRecorder) Flush() {}

// probe serves one request and returns as soon as its status is known; a
// handler still running then (a stream) is cancelled and must stop.
func probe(t *testing.T, h http.Handler, req *http.Request) (int, http.Header, []byte) {
	t.Helper()
	ctx, cancel := context.WithCancel(req.Context())
	defer cancel()
	rec := &probeRecorder{header: http.Header{}, wrote: make(chan struct{})}
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.ServeHTTP(rec, req.WithContext(ctx))
	}()
	select {
	case <-done:
	case <-rec.wrote:
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s %s: handler did not stop when its request was cancelled", req.Method, req.URL)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("%s %s: no answer within 20s", req.Method, req.URL)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	status := rec.status
	if status == 0 {
		status = http.StatusOK
	}
	return status, rec.header, rec.body.Bytes()
}

func newRouteRequest(t *testing.T, r Route, token string) *http.Request {
	method, path := splitPattern(r.Pattern)
	if method == "" {
		method = http.MethodGet
	}
	var body *strings.Reader
	if method != http.MethodGet && method != http.MethodHead {
		body = strings.NewReader("{}")
	} else {
		body = strings.NewReader("")
	}
	req := httptest.NewRequestWithContext(t.Context(), method, routeRequestPath(path), body)
	if body.Len() > 0 {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return req
}

// TestRoutePolicies walks the whole routing table: every route has a known
// policy, and every route that needs a login refuses strangers and users whose
// role is too low, and lets an admin through.
func TestRoutePolicies(t *testing.T) {
	s, h := newTestServer(t)
	ctx := t.Context()
	routes := s.Routes()
	if len(routes) == 0 {
		t.Fatal("no routes registered")
	}

	// The first user and token take id 1, which the requests below put in every
	// path, so a request acting on "1" never touches the probing user.
	bystander, err := s.Auth.CreateUser(ctx, auth.NewUser{Username: "bystander", Role: auth.Viewer, Password: "bystander-password"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Auth.CreateToken(ctx, bystander.ID, "bystander", 0); err != nil {
		t.Fatal(err)
	}
	prober, err := s.Auth.CreateUser(ctx, auth.NewUser{Username: "prober", Role: auth.Viewer, Password: "prober-password"})
	if err != nil {
		t.Fatal(err)
	}
	token, _, err := s.Auth.CreateToken(ctx, prober.ID, "probe", 0)
	if err != nil {
		t.Fatal(err)
	}

	seen := map[string]bool{}
	for _, r := range routes {
		if !knownPolicies[r.Policy] {
			t.Errorf("route %q has unknown policy %q", r.Pattern, r.Policy)
		}
		if seen[r.Pattern] {
			t.Errorf("route %q registered twice", r.Pattern)
		}
		seen[r.Pattern] = true
		// The request the checks below send must reach this very route.
		req := newRouteRequest(t, r, "")
		if _, pat := s.mux.Handler(req); pat != r.Pattern {
			t.Errorf("%s %s is routed to %q, not to %q", req.Method, req.URL.Path, pat, r.Pattern)
		}
	}
	for _, want := range []string{"GET /healthz", "GET /api/v1/openapi.json", "POST /v2/enqueue", "GET /api/v1/incidents", "POST /api/v1/users"} {
		if !seen[want] {
			t.Errorf("route %q is not registered", want)
		}
	}
	guarded := func(yield func(Route) bool) {
		for _, r := range routes {
			if r.Policy != Public && r.Policy != Ingest && knownPolicies[r.Policy] && !yield(r) {
				return
			}
		}
	}

	// Strangers, and callers with an unknown token, are asked to authenticate.
	for _, c := range []struct{ name, token string }{
		{"unauthenticated", ""},
		{"unknown token", auth.TokenPrefix + strings.Repeat("a", 40)},
	} {
		t.Run(c.name, func(t *testing.T) {
			for r := range guarded {
				req := newRouteRequest(t, r, c.token)
				status, hdr, body := probe(t, h, req)
				if strings.HasPrefix(req.URL.Path, "/api/") || req.Method != http.MethodGet {
					if status != http.StatusUnauthorized {
						t.Errorf("%s: got %d, want 401: %s", r.Pattern, status, body)
						continue
					}
					if !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "Bearer") {
						t.Errorf("%s: 401 without WWW-Authenticate: Bearer", r.Pattern)
					}
					var e ErrorBody
					if err := json.Unmarshal(body, &e); err != nil || e.Error == "" {
						t.Errorf("%s: 401 body is not an ErrorBody: %q", r.Pattern, body)
					}
					continue
				}
				want := "/login?next=" + url.QueryEscape(req.URL.RequestURI())
				if status != http.StatusSeeOther || hdr.Get("Location") != want {
					t.Errorf("%s: got %d Location %q, want 303 to %s", r.Pattern, status, hdr.Get("Location"), want)
				}
			}
		})
	}

	for _, c := range []struct {
		role auth.Role
	}{{auth.Viewer}, {auth.Responder}, {auth.Admin}} {
		t.Run(string(c.role), func(t *testing.T) {
			if err := s.Auth.SetRole(ctx, prober.ID, c.role); err != nil {
				t.Fatal(err)
			}
			var allowedN, refusedN int
			defer func() {
				if allowedN == 0 || (c.role != auth.Admin && refusedN == 0) {
					t.Errorf("%s: %d routes allowed, %d refused", c.role, allowedN, refusedN)
				}
			}()
			for r := range guarded {
				status, _, body := probe(t, h, newRouteRequest(t, r, token))
				allowed := c.role.AtLeast(auth.Role(r.Policy))
				if allowed {
					allowedN++
				} else {
					refusedN++
				}
				switch {
				case status == http.StatusUnauthorized:
					t.Errorf("%s: %s token got 401: %s", r.Pattern, c.role, body)
				case !allowed && status != http.StatusForbidden:
					t.Errorf("%s (%s): %s got %d, want 403: %s", r.Pattern, r.Policy, c.role, status, body)
				case !allowed:
					var e ErrorBody
					if _, path := splitPattern(r.Pattern); strings.HasPrefix(path, "/api/") {
						if err := json.Unmarshal(body, &e); err != nil || e.Error == "" {
							t.Errorf("%s: 403 body is not an ErrorBody: %q", r.Pattern, body)
						}
					}
				case allowed && status == http.StatusForbidden:
					t.Errorf("%s (%s): %s got 403: %s", r.Pattern, r.Policy, c.role, body)
				}
			}
		})
	}
}

// TestHandleRequiresPolicy: a route registered with an unknown or empty policy
// stops the server from starting.
func TestHandleRequiresPolicy(t *testing.T) {
	for _, p := range []Policy{"", "root", "Viewer", "public "} {
		t.Run(string(p), func(t *testing.T) {
			s := &Server{mux: http.NewServeMux()}
			defer func() {
				r := recover()
				if r == nil {
					t.Fatalf("handle accepted policy %q", p)
				}
				if msg, _ := r.(string); !strings.Contains(msg, "GET /new") {
					t.Errorf("panic %v does not name the route", r)
				}
			}()
			s.handle("GET /new", p, func(http.ResponseWriter, *http.Request) {})
		})
	}
	for p := range knownPolicies {
		s := &Server{mux: http.NewServeMux()}
		s.handle("GET /new", p, func(http.ResponseWriter, *http.Request) {})
		if got := s.Routes(); len(got) != 1 || got[0] != (Route{"GET /new", p}) {
			t.Errorf("policy %s: routes = %v", p, got)
		}
	}
}

// TestRoutesOnlyThroughHandle: nothing registers a handler on the server's mux
// (or the default mux) except handle, so no route escapes the policy table.
func TestRoutesOnlyThroughHandle(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, name, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || (fn.Name.Name == "handle" && fn.Recv != nil) {
				continue
			}
			ast.Inspect(fn, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				sel, ok := call.Fun.(*ast.SelectorExpr)
				if !ok || (sel.Sel.Name != "Handle" && sel.Sel.Name != "HandleFunc") {
					return true
				}
				switch x := sel.X.(type) {
				case *ast.Ident:
					if x.Name == "http" {
						t.Errorf("%s: %s registers on http.DefaultServeMux", fset.Position(call.Pos()), sel.Sel.Name)
					}
				case *ast.SelectorExpr:
					if x.Sel.Name == "mux" {
						t.Errorf("%s: %s on the server's mux bypasses handle and its policy", fset.Position(call.Pos()), sel.Sel.Name)
					}
				}
				return true
			})
		}
	}
}
