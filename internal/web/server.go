// Package web is firebreak's HTTP face: the UI, the REST API, the inbound signal
// endpoints, health and metrics. Every route is registered with a policy, and a
// route without one cannot exist.
package web

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/firebreak/firebreak/internal/alert"
	"github.com/firebreak/firebreak/internal/auth"
	"github.com/firebreak/firebreak/internal/check"
	"github.com/firebreak/firebreak/internal/contact"
	"github.com/firebreak/firebreak/internal/escalation"
	"github.com/firebreak/firebreak/internal/incident"
	"github.com/firebreak/firebreak/internal/live"
	"github.com/firebreak/firebreak/internal/maintenance"
	"github.com/firebreak/firebreak/internal/oncall"
	"github.com/firebreak/firebreak/internal/paging"
	"github.com/firebreak/firebreak/internal/service"
	"github.com/firebreak/firebreak/internal/store"
)

// Policy says who may call a route.
type Policy string

const (
	// Public routes need no login: login page, health, static files.
	Public Policy = "public"
	// Ingest routes are authenticated by the integration key in the URL or body.
	Ingest Policy = "ingest"
	// The others need a logged-in user holding at least that role.
	Viewer    Policy = Policy(auth.Viewer)
	Responder Policy = Policy(auth.Responder)
	Admin     Policy = Policy(auth.Admin)
)

// Route is one registered pattern.
type Route struct {
	Pattern string // ServeMux pattern, "METHOD /path"
	Policy  Policy
}

// Server holds what the handlers need.
type Server struct {
	DB        *store.DB
	Auth      *auth.Store
	Incidents *incident.Store
	Alerts    *alert.Store
	Services  *service.Store
	Writer    *alert.Writer
	Live      *live.Hub
	Metrics   *Metrics
	// On-call and paging.
	Contacts *contact.Store
	OnCall   *oncall.Store
	Policies *escalation.Store
	Engine   *paging.Engine // wakes the engine; nil in tests without one
	Links    *paging.Signer // one-click action links
	// Early warning.
	Checks      *check.Store
	Logs        *check.Logs
	Maintenance *maintenance.Store
	Log         *slog.Logger
	// BaseURL is how users reach this server (for integration URLs shown in the UI).
	BaseURL string
	// SecureCookies marks session cookies Secure (set when served over HTTPS).
	SecureCookies bool
	// SessionTTL is how long a login lasts (default 12h).
	SessionTTL time.Duration

	mux    *http.ServeMux
	routes []Route
	ui     *ui
}

// Handler builds the routing table and returns the server's root handler.
func (s *Server) Handler() http.Handler {
	if s.Log == nil {
		s.Log = slog.Default()
	}
	if s.Live == nil {
		s.Live = &live.Hub{}
	}
	if s.SessionTTL == 0 {
		s.SessionTTL = 12 * time.Hour
	}
	s.mux = http.NewServeMux()
	s.routes = nil
	s.register()
	cop := http.NewCrossOriginProtection()
	// Inbound signals come from other machines by design; they carry no cookies.
	bypassed := map[string]bool{}
	for _, r := range s.routes {
		if r.Policy == Ingest {
			_, path, _ := strings.Cut(r.Pattern, " ")
			if !bypassed[path] { // one path may be registered for several methods
				bypassed[path] = true
				cop.AddInsecureBypassPattern(path)
			}
		}
	}
	return s.logRequests(cop.Handler(s.mux))
}

// Routes lists every registered route with its policy.
func (s *Server) Routes() []Route { return append([]Route(nil), s.routes...) }

// handle registers a route behind its policy's checks.
func (s *Server) handle(pattern string, p Policy, h http.HandlerFunc) {
	s.routes = append(s.routes, Route{Pattern: pattern, Policy: p})
	switch p {
	case Public, Ingest:
		s.mux.Handle(pattern, h)
	case Viewer, Responder, Admin:
		s.mux.Handle(pattern, s.requireRole(auth.Role(p), h))
	default:
		panic("web: route " + pattern + " has no policy")
	}
}

func isAPI(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/api/") }

// requireRole authenticates the request (Bearer token or session cookie) and checks the role.
func (s *Server) requireRole(min auth.Role, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, err := s.Auth.Authenticate(r)
		if err != nil {
			if err != auth.ErrUnauthenticated {
				s.Log.Error("authenticate", "err", err)
				s.fail(w, r, http.StatusInternalServerError, "", "internal error")
				return
			}
			if isAPI(r) || r.Method != http.MethodGet {
				w.Header().Set("WWW-Authenticate", `Bearer realm="firebreak"`)
				s.fail(w, r, http.StatusUnauthorized, "", "authentication required: log in or send Authorization: Bearer <token>")
				return
			}
			http.Redirect(w, r, "/login?next="+urlQueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		if !u.Role.AtLeast(min) {
			s.fail(w, r, http.StatusForbidden, "", "your role ("+string(u.Role)+") may not do this; it needs "+string(min))
			return
		}
		h.ServeHTTP(w, r.WithContext(auth.WithUser(r.Context(), u)))
	})
}

// user returns the authenticated user of a request behind requireRole.
func user(r *http.Request) auth.User {
	u, _ := auth.UserFrom(r.Context())
	return u
}

func actor(r *http.Request) incident.Actor {
	u := user(r)
	name := u.DisplayName
	if name == "" {
		name = u.Username
	}
	return incident.Actor{ID: u.ID, Name: name}
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logRequests logs failed and slow requests; successful fast ones stay quiet so
// ingest at thousands of requests a second does not drown the log.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		d := time.Since(start)
		if sw.status >= 500 || (sw.status >= 400 && sw.status != 401) || (d > time.Second && !strings.HasSuffix(r.URL.Path, "/events")) {
			s.Log.Info("request", "method", r.Method, "path", r.URL.Path, "status", sw.status, "duration_ms", d.Milliseconds(), "remote", r.RemoteAddr)
		}
	})
}

// Shutdown-aware contexts: handlers that stream (SSE) stop when the server does.
type ctxKey struct{}

// WithShutdown returns a context carried by BaseContext so long-lived streams end
// when the server shuts down.
func WithShutdown(ctx context.Context, stop <-chan struct{}) context.Context {
	return context.WithValue(ctx, ctxKey{}, stop)
}

func shutdownCh(ctx context.Context) <-chan struct{} {
	c, _ := ctx.Value(ctxKey{}).(<-chan struct{})
	return c
}
