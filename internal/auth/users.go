package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/firebreak/firebreak/internal/store"
)

// User is a person who can sign in.
type User struct {
	ID          int64     `json:"id"`
	Username    string    `json:"username"`
	DisplayName string    `json:"display_name"`
	Email       string    `json:"email"`
	Role        Role      `json:"role"`
	Locale      string    `json:"locale"`
	Disabled    bool      `json:"disabled"`
	CreatedAt   time.Time `json:"created_at"`
}

// NewUser is the input to CreateUser.
type NewUser struct {
	Username    string `json:"username"`
	DisplayName string `json:"display_name"`
	Email       string `json:"email"`
	Role        Role   `json:"role"` // empty means Viewer
	Password    string `json:"password"`
}

// Store keeps users, sessions and API tokens.
type Store struct {
	DB  *store.DB
	Now func() time.Time // nil means time.Now
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// ms converts a time to the unix milliseconds the schema stores.
func ms(t time.Time) int64 { return t.UnixMilli() }

// fromMs converts stored unix milliseconds back; 0 (never) becomes the zero time.
func fromMs(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v)
}

var (
	usernameRe = regexp.MustCompile(`^[a-z0-9._-]{3,64}$`)
	localeRe   = regexp.MustCompile(`^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$`)
)

// NormalizeUsername trims and lower-cases a username as typed.
func NormalizeUsername(name string) string { return strings.ToLower(strings.TrimSpace(name)) }

// ValidateUsername checks a normalized username.
func ValidateUsername(name string) error {
	if !usernameRe.MatchString(name) {
		return &FieldError{"username", "must be 3 to 64 characters of a-z, 0-9, '.', '_' or '-'"}
	}
	return nil
}

func validateProfile(displayName, email string) error {
	if utf8.RuneCountInString(displayName) > 100 {
		return &FieldError{"display_name", "must be at most 100 characters"}
	}
	if email != "" {
		at := strings.IndexByte(email, '@')
		if len(email) > 254 || at < 1 || at == len(email)-1 || strings.Count(email, "@") != 1 || strings.ContainsAny(email, " \t\r\n<>") {
			return &FieldError{"email", "is not a valid address"}
		}
	}
	return nil
}

const userCols = "u.id, u.username, u.display_name, u.email, u.role, u.locale, u.disabled, u.created_at"

// scanUser scans userCols followed by extra columns.
func scanUser(row interface{ Scan(...any) error }, extra ...any) (User, error) {
	var u User
	var created int64
	err := row.Scan(append([]any{&u.ID, &u.Username, &u.DisplayName, &u.Email, &u.Role, &u.Locale, &u.Disabled, &created}, extra...)...)
	u.CreatedAt = fromMs(created)
	return u, err
}

// CreateUser validates nu and stores a new user with a hashed password.
func (s *Store) CreateUser(ctx context.Context, nu NewUser) (User, error) {
	u := User{
		Username:    NormalizeUsername(nu.Username),
		DisplayName: strings.TrimSpace(nu.DisplayName),
		Email:       strings.TrimSpace(nu.Email),
		Role:        nu.Role,
		CreatedAt:   time.UnixMilli(ms(s.now())),
	}
	if u.Role == "" {
		u.Role = Viewer
	}
	if err := ValidateUsername(u.Username); err != nil {
		return User{}, err
	}
	if err := validateProfile(u.DisplayName, u.Email); err != nil {
		return User{}, err
	}
	if !u.Role.Valid() {
		return User{}, &FieldError{"role", fmt.Sprintf("unknown role %q", u.Role)}
	}
	if err := ValidatePassword(nu.Password); err != nil {
		return User{}, err
	}
	hash, err := HashPassword(nu.Password)
	if err != nil {
		return User{}, err
	}
	err = s.DB.W.QueryRowContext(ctx,
		`INSERT INTO users (username, display_name, email, role, password_hash, locale, disabled, created_at)
		 VALUES ($1, $2, $3, $4, $5, '', $6, $7) RETURNING id`,
		u.Username, u.DisplayName, u.Email, string(u.Role), hash, false, ms(u.CreatedAt)).Scan(&u.ID)
	if store.IsUniqueViolation(err) {
		return User{}, ErrUsernameTaken
	}
	if err != nil {
		return User{}, fmt.Errorf("create user: %w", err)
	}
	return u, nil
}

func (s *Store) userWhere(ctx context.Context, where string, arg any) (User, error) {
	u, err := scanUser(s.DB.R.QueryRowContext(ctx, "SELECT "+userCols+" FROM users u WHERE "+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, ErrNotFound
	}
	if err != nil {
		return User{}, fmt.Errorf("load user: %w", err)
	}
	return u, nil
}

// UserByID returns the user with id, or ErrNotFound.
func (s *Store) UserByID(ctx context.Context, id int64) (User, error) {
	return s.userWhere(ctx, "u.id = $1", id)
}

// UserByUsername returns the user named name (normalized first), or ErrNotFound.
func (s *Store) UserByUsername(ctx context.Context, name string) (User, error) {
	return s.userWhere(ctx, "u.username = $1", NormalizeUsername(name))
}

// ListUsers returns every user ordered by username.
func (s *Store) ListUsers(ctx context.Context) ([]User, error) {
	rows, err := s.DB.R.QueryContext(ctx, "SELECT "+userCols+" FROM users u ORDER BY u.username")
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var us []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		us = append(us, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return us, nil
}

// CountUsers returns how many users exist (zero means first-run setup).
func (s *Store) CountUsers(ctx context.Context) (int, error) {
	var n int
	if err := s.DB.R.QueryRowContext(ctx, "SELECT COUNT(*) FROM users").Scan(&n); err != nil {
		return 0, fmt.Errorf("count users: %w", err)
	}
	return n, nil
}

// updateUser sets one column of user id, returning ErrNotFound when no such user.
func (s *Store) updateUser(ctx context.Context, id int64, col string, v any) error {
	res, err := s.DB.W.ExecContext(ctx, "UPDATE users SET "+col+" = $1 WHERE id = $2", v, id)
	if err != nil {
		return fmt.Errorf("update user %s: %w", col, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("update user %s: %w", col, err)
	} else if n == 0 {
		return ErrNotFound
	}
	return nil
}

// SetPassword validates pw and replaces the user's password. Existing sessions
// stay valid; call DeleteUserSessions to sign the user out everywhere.
func (s *Store) SetPassword(ctx context.Context, id int64, pw string) error {
	if err := ValidatePassword(pw); err != nil {
		return err
	}
	hash, err := HashPassword(pw)
	if err != nil {
		return err
	}
	return s.updateUser(ctx, id, "password_hash", hash)
}

// SetRole changes the user's role.
func (s *Store) SetRole(ctx context.Context, id int64, r Role) error {
	if !r.Valid() {
		return &FieldError{"role", fmt.Sprintf("unknown role %q", r)}
	}
	return s.updateUser(ctx, id, "role", string(r))
}

// SetLocale sets the user's preferred language tag ("en", "zh-CN"); empty
// means the server default.
func (s *Store) SetLocale(ctx context.Context, id int64, locale string) error {
	if locale != "" && (len(locale) > 35 || !localeRe.MatchString(locale)) {
		return &FieldError{"locale", "is not a language tag"}
	}
	return s.updateUser(ctx, id, "locale", locale)
}

// SetDisabled disables or re-enables an account. A disabled user cannot sign
// in, and their sessions and tokens stop working.
func (s *Store) SetDisabled(ctx context.Context, id int64, disabled bool) error {
	return s.updateUser(ctx, id, "disabled", disabled)
}

// Login checks a username and password. Unknown users, wrong passwords and
// disabled accounts all give ErrInvalidCredentials after similar work.
func (s *Store) Login(ctx context.Context, username, password string) (User, error) {
	var hash string
	u, err := scanUser(s.DB.R.QueryRowContext(ctx,
		"SELECT "+userCols+", u.password_hash FROM users u WHERE u.username = $1", NormalizeUsername(username)), &hash)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && hash == "") {
		_, _ = VerifyPassword(dummyHash(), password)
		return User{}, ErrInvalidCredentials
	}
	if err != nil {
		return User{}, fmt.Errorf("login: %w", err)
	}
	ok, err := VerifyPassword(hash, password)
	if err != nil {
		return User{}, fmt.Errorf("login %s: %w", u.Username, err)
	}
	if !ok || u.Disabled {
		return User{}, ErrInvalidCredentials
	}
	return u, nil
}
