package auth

import (
	"net/http"
	"strings"
)

// SessionCookie names the cookie carrying a session token.
const SessionCookie = "firebreak_session"

// Authenticate finds the user behind a request: an "Authorization: Bearer fbt_…"
// API token first, else the session cookie. A request presenting a bearer token
// is judged by that token alone; other schemes (say, Basic auth added by a
// reverse proxy) are ignored. Requests without valid credentials give
// ErrUnauthenticated; other errors are database failures.
func (s *Store) Authenticate(r *http.Request) (User, error) {
	if scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
		return s.TokenUser(r.Context(), strings.TrimSpace(tok))
	}
	if c, err := r.Cookie(SessionCookie); err == nil && c.Value != "" {
		return s.SessionUser(r.Context(), c.Value)
	}
	return User{}, ErrUnauthenticated
}
