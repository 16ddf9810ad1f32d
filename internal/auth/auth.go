// Package auth owns who may use firebreak: users and their roles, argon2id
// password hashes, browser sessions and API tokens.
package auth

import (
	"context"
	"errors"
	"fmt"
)

var (
	// ErrInvalidCredentials is returned by Login for an unknown user, a wrong
	// password or a disabled account alike.
	ErrInvalidCredentials = errors.New("invalid username or password")
	// ErrUnauthenticated means a request carries no valid session or token.
	ErrUnauthenticated = errors.New("not authenticated")
	// ErrUsernameTaken is returned when creating a user whose name exists.
	ErrUsernameTaken = errors.New("username already taken")
	// ErrNotFound is returned for a user or token that does not exist.
	ErrNotFound = errors.New("not found")
)

// FieldError reports an invalid input field.
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// Role is what a user may do. Roles are ordered: each includes the ones below it.
type Role string

const (
	Viewer    Role = "viewer"    // reads everything that is not restricted
	Responder Role = "responder" // works incidents and alerts
	Admin     Role = "admin"     // manages users, plans and settings
)

// Roles lists every role, least privileged first.
var Roles = []Role{Viewer, Responder, Admin}

func (r Role) rank() int {
	switch r {
	case Viewer:
		return 1
	case Responder:
		return 2
	case Admin:
		return 3
	}
	return 0
}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r.rank() > 0 }

// AtLeast reports whether r grants everything min grants. An unknown role
// grants nothing.
func (r Role) AtLeast(min Role) bool { return r.Valid() && r.rank() >= min.rank() }

// ParseRole parses a role name.
func ParseRole(s string) (Role, error) {
	if r := Role(s); r.Valid() {
		return r, nil
	}
	return "", fmt.Errorf("unknown role %q", s)
}

type userKey struct{}

// WithUser returns a context carrying the authenticated user.
func WithUser(ctx context.Context, u User) context.Context {
	return context.WithValue(ctx, userKey{}, u)
}

// UserFrom returns the user stored by WithUser.
func UserFrom(ctx context.Context) (User, bool) {
	u, ok := ctx.Value(userKey{}).(User)
	return u, ok
}
