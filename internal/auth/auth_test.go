package auth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firebreak/firebreak/internal/store"
	"github.com/firebreak/firebreak/internal/testenv"
)

func init() {
	// Real parameters cost 64 MiB per hash; keep tests fast.
	params.memory, params.time = 1024, 1
}

const pw = "correct horse battery"

// clock is an adjustable time source for Store.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func newStore(db *store.DB) (*Store, *clock) {
	c := &clock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	return &Store{DB: db, Now: c.Now}, c
}

func mustUser(t *testing.T, s *Store, name string, r Role) User {
	t.Helper()
	u, err := s.CreateUser(context.Background(), NewUser{Username: name, DisplayName: name, Role: r, Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestRoles(t *testing.T) {
	for _, c := range []struct {
		r, min Role
		want   bool
	}{
		{Admin, Viewer, true}, {Admin, Admin, true}, {Responder, Viewer, true}, {Responder, Admin, false},
		{Viewer, Responder, false}, {Viewer, Viewer, true}, {Role("root"), Viewer, false},
	} {
		if got := c.r.AtLeast(c.min); got != c.want {
			t.Errorf("%s.AtLeast(%s) = %v", c.r, c.min, got)
		}
	}
	if r, err := ParseRole("responder"); err != nil || r != Responder {
		t.Errorf("ParseRole(responder) = %q, %v", r, err)
	}
	if _, err := ParseRole("Admin"); err == nil {
		t.Error("ParseRole(Admin) accepted")
	}
}

func TestPasswordHash(t *testing.T) {
	h1, err := HashPassword(pw)
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := HashPassword(pw)
	if !strings.HasPrefix(h1, "$argon2id$v=19$m=") || h1 == h2 {
		t.Fatalf("hashes %q %q: want argon2id PHC strings with distinct salts", h1, h2)
	}
	if ok, err := VerifyPassword(h1, pw); !ok || err != nil {
		t.Fatalf("verify right password: %v %v", ok, err)
	}
	if ok, err := VerifyPassword(h1, pw+"x"); ok || err != nil {
		t.Fatalf("verify wrong password: %v %v", ok, err)
	}
	f := strings.Split(h1, "$")
	key := []byte(f[5])
	key[0] = map[bool]byte{true: 'B', false: 'A'}[key[0] == 'A'] // still valid base64, different key
	f[5] = string(key)
	if ok, err := VerifyPassword(strings.Join(f, "$"), pw); ok || err != nil {
		t.Fatalf("tampered key: %v, %v; want false, nil", ok, err)
	}
	for _, bad := range []string{
		"", "plain", "$argon2i$v=19$m=1024,t=1,p=2$c2FsdHNhbHQ$" + f[5],
		strings.Replace(h1, "v=19", "v=16", 1),
		strings.Replace(h1, "m=1024", "m=99999999", 1),
		strings.Replace(h1, ",t=1", ",t=1x", 1),
		strings.Replace(h1, ",p=2", ",p=0", 1),
		h1 + "$",
		strings.Join(append(f[:4:4], "!!", f[5]), "$"),
	} {
		if ok, err := VerifyPassword(bad, pw); ok || !errors.Is(err, ErrMalformedHash) {
			t.Errorf("VerifyPassword(%q) = %v, %v; want ErrMalformedHash", bad, ok, err)
		}
	}
}

func TestDefaultParams(t *testing.T) {
	h, err := HashPassword("x")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(h, "$m=1024,t=1,p=2$") {
		t.Fatalf("test params not in hash: %s", h)
	}
	// The production parameters verify too (parameters come from the hash).
	const prod = "$argon2id$v=19$m=65536,t=2,p=2$"
	old := params
	params = argonParams{memory: 64 * 1024, time: 2, threads: 2, saltLen: 16, keyLen: 32}
	h, _ = HashPassword(pw)
	params = old
	if !strings.HasPrefix(h, prod) {
		t.Fatalf("production hash %q lacks %q", h, prod)
	}
	if ok, err := VerifyPassword(h, pw); !ok || err != nil {
		t.Fatalf("verify production hash: %v %v", ok, err)
	}
}

func TestPasswordRules(t *testing.T) {
	if err := ValidatePassword("short"); err == nil {
		t.Error("short password accepted")
	}
	if err := ValidatePassword("twelve chars"); err != nil {
		t.Error(err)
	}
	seen := map[string]bool{}
	for range 50 {
		p := GeneratePassword()
		if len(p) != 20 || strings.ContainsAny(p, "0O1lI") || ValidatePassword(p) != nil || seen[p] {
			t.Fatalf("bad generated password %q", p)
		}
		seen[p] = true
	}
}

func TestUsers(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, _ := newStore(db)
		if n, err := s.CountUsers(ctx); n != 0 || err != nil {
			t.Fatalf("CountUsers = %d, %v", n, err)
		}
		u, err := s.CreateUser(ctx, NewUser{Username: " Alice.Ops ", DisplayName: "Alice", Email: "alice@example.com", Role: Admin, Password: pw})
		if err != nil {
			t.Fatal(err)
		}
		if u.ID == 0 || u.Username != "alice.ops" || u.Role != Admin || u.Disabled {
			t.Fatalf("created %+v", u)
		}
		if _, err := s.CreateUser(ctx, NewUser{Username: "alice.ops", Password: pw}); !errors.Is(err, ErrUsernameTaken) {
			t.Fatalf("duplicate: %v", err)
		}
		if _, err := s.CreateUser(ctx, NewUser{Username: "ALICE.OPS", Password: pw}); !errors.Is(err, ErrUsernameTaken) {
			t.Fatalf("duplicate in other case: %v", err)
		}
		for _, c := range []struct {
			nu    NewUser
			field string
		}{
			{NewUser{Username: "ab", Password: pw}, "username"},
			{NewUser{Username: strings.Repeat("a", 65), Password: pw}, "username"},
			{NewUser{Username: "has space", Password: pw}, "username"},
			{NewUser{Username: "a/b/c", Password: pw}, "username"},
			{NewUser{Username: "jürgen", Password: pw}, "username"},
			{NewUser{Username: "", Password: pw}, "username"},
			{NewUser{Username: "bob", Password: "short"}, "password"},
			{NewUser{Username: "bob", Role: "root", Password: pw}, "role"},
			{NewUser{Username: "bob", Email: "not-an-email", Password: pw}, "email"},
		} {
			var fe *FieldError
			if _, err := s.CreateUser(ctx, c.nu); !errors.As(err, &fe) || fe.Field != c.field {
				t.Errorf("CreateUser(%+v) = %v; want field error on %s", c.nu, err, c.field)
			}
		}
		bob := mustUser(t, s, "bob", "")
		if bob.Role != Viewer {
			t.Errorf("default role %q", bob.Role)
		}

		got, err := s.UserByID(ctx, u.ID)
		if err != nil || got != u {
			t.Fatalf("UserByID = %+v, %v; want %+v", got, err, u)
		}
		if got, err := s.UserByUsername(ctx, "Alice.Ops"); err != nil || got.ID != u.ID {
			t.Fatalf("UserByUsername = %+v, %v", got, err)
		}
		if _, err := s.UserByID(ctx, 9999); !errors.Is(err, ErrNotFound) {
			t.Fatalf("missing user: %v", err)
		}
		if err := s.SetRole(ctx, bob.ID, Responder); err != nil {
			t.Fatal(err)
		}
		if err := s.SetRole(ctx, bob.ID, "root"); err == nil {
			t.Fatal("SetRole(root) accepted")
		}
		if err := s.SetLocale(ctx, bob.ID, "zh-CN"); err != nil {
			t.Fatal(err)
		}
		if err := s.SetLocale(ctx, bob.ID, "'; drop"); err == nil {
			t.Fatal("bad locale accepted")
		}
		if err := s.SetRole(ctx, 9999, Admin); !errors.Is(err, ErrNotFound) {
			t.Fatalf("SetRole on missing user: %v", err)
		}
		us, err := s.ListUsers(ctx)
		if err != nil || len(us) != 2 || us[0].Username != "alice.ops" || us[1].Role != Responder || us[1].Locale != "zh-CN" {
			t.Fatalf("ListUsers = %+v, %v", us, err)
		}
		if n, _ := s.CountUsers(ctx); n != 2 {
			t.Fatalf("CountUsers = %d", n)
		}
	})
}

func TestLogin(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, _ := newStore(db)
		u := mustUser(t, s, "carol", Responder)
		if got, err := s.Login(ctx, "Carol", pw); err != nil || got.ID != u.ID {
			t.Fatalf("login: %+v, %v", got, err)
		}
		for _, c := range [][2]string{{"carol", "wrong password!"}, {"nobody", pw}, {"", ""}} {
			if _, err := s.Login(ctx, c[0], c[1]); !errors.Is(err, ErrInvalidCredentials) {
				t.Errorf("Login(%q, %q) = %v", c[0], c[1], err)
			}
		}
		const newPw = "a brand new secret"
		if err := s.SetPassword(ctx, u.ID, "short"); err == nil {
			t.Fatal("short password set")
		}
		if err := s.SetPassword(ctx, u.ID, newPw); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Login(ctx, "carol", pw); !errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("old password after change: %v", err)
		}
		if _, err := s.Login(ctx, "carol", newPw); err != nil {
			t.Fatalf("new password: %v", err)
		}
		if err := s.SetDisabled(ctx, u.ID, true); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Login(ctx, "carol", newPw); !errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("disabled login: %v", err)
		}
		if got, _ := s.UserByID(ctx, u.ID); !got.Disabled {
			t.Fatal("disabled flag not stored")
		}
	})
}

func TestSessions(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, clk := newStore(db)
		u := mustUser(t, s, "dave", Viewer)
		tok, exp, err := s.CreateSession(ctx, u.ID, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if len(tok) != 43 || !exp.Equal(clk.Now().Add(time.Hour)) {
			t.Fatalf("token %q expires %v", tok, exp)
		}
		if got, err := s.SessionUser(ctx, tok); err != nil || got.ID != u.ID {
			t.Fatalf("SessionUser = %+v, %v", got, err)
		}
		assertNotStored(t, db, tok)
		for _, bad := range []string{"", "x", strings.Repeat("A", 43), tok[:42]} {
			if _, err := s.SessionUser(ctx, bad); !errors.Is(err, ErrUnauthenticated) {
				t.Errorf("SessionUser(%q) = %v", bad, err)
			}
		}
		if _, _, err := s.CreateSession(ctx, 9999, time.Hour); !errors.Is(err, ErrNotFound) {
			t.Fatalf("session for missing user: %v", err)
		}

		// Expiry.
		clk.Add(time.Hour - time.Millisecond)
		if _, err := s.SessionUser(ctx, tok); err != nil {
			t.Fatalf("just before expiry: %v", err)
		}
		tok2, _, _ := s.CreateSession(ctx, u.ID, 2*time.Hour)
		clk.Add(time.Millisecond)
		if _, err := s.SessionUser(ctx, tok); !errors.Is(err, ErrUnauthenticated) {
			t.Fatalf("expired session: %v", err)
		}
		if err := s.DeleteExpiredSessions(ctx); err != nil {
			t.Fatal(err)
		}
		if n := count(t, db, "sessions"); n != 1 {
			t.Fatalf("%d sessions after DeleteExpiredSessions; want 1", n)
		}

		// Disabled users lose their sessions.
		s.SetDisabled(ctx, u.ID, true)
		if _, err := s.SessionUser(ctx, tok2); !errors.Is(err, ErrUnauthenticated) {
			t.Fatalf("disabled user session: %v", err)
		}
		s.SetDisabled(ctx, u.ID, false)
		if _, err := s.SessionUser(ctx, tok2); err != nil {
			t.Fatalf("re-enabled user session: %v", err)
		}

		// Sign out.
		if err := s.DeleteSession(ctx, tok2); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SessionUser(ctx, tok2); !errors.Is(err, ErrUnauthenticated) {
			t.Fatalf("deleted session: %v", err)
		}
		tok3, _, _ := s.CreateSession(ctx, u.ID, time.Hour)
		if err := s.DeleteUserSessions(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SessionUser(ctx, tok3); !errors.Is(err, ErrUnauthenticated) {
			t.Fatalf("session after DeleteUserSessions: %v", err)
		}
	})
}

func TestTokens(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, clk := newStore(db)
		u := mustUser(t, s, "erin", Responder)
		other := mustUser(t, s, "frank", Viewer)
		plain, tk, err := s.CreateToken(ctx, u.ID, "ci deploys", 0)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(plain, "fbt_") || len(plain) != 44 || tk.Prefix != plain[4:12] || tk.ID == 0 || !tk.ExpiresAt.IsZero() {
			t.Fatalf("token %q %+v", plain, tk)
		}
		assertNotStored(t, db, plain)
		if _, _, err := s.CreateToken(ctx, u.ID, "  ", 0); err == nil {
			t.Fatal("empty token name accepted")
		}
		if _, _, err := s.CreateToken(ctx, 9999, "x", 0); !errors.Is(err, ErrNotFound) {
			t.Fatalf("token for missing user: %v", err)
		}

		if got, err := s.TokenUser(ctx, plain); err != nil || got.ID != u.ID {
			t.Fatalf("TokenUser = %+v, %v", got, err)
		}
		for _, bad := range []string{"", plain[:43], "fbt_" + strings.Repeat("a", 40), "xyz_" + plain[4:]} {
			if _, err := s.TokenUser(ctx, bad); !errors.Is(err, ErrUnauthenticated) {
				t.Errorf("TokenUser(%q) = %v", bad, err)
			}
		}

		// last_used_at is written at most once a minute.
		lastUsed := func() time.Time {
			ts, err := s.ListTokens(ctx, u.ID)
			if err != nil || len(ts) != 1 {
				t.Fatalf("ListTokens = %+v, %v", ts, err)
			}
			return ts[0].LastUsedAt
		}
		first := lastUsed()
		if !first.Equal(clk.Now()) {
			t.Fatalf("last used %v; want %v", first, clk.Now())
		}
		clk.Add(30 * time.Second)
		s.TokenUser(ctx, plain)
		if !lastUsed().Equal(first) {
			t.Fatal("last_used_at written twice within a minute")
		}
		clk.Add(31 * time.Second)
		s.TokenUser(ctx, plain)
		if !lastUsed().Equal(clk.Now()) {
			t.Fatal("last_used_at not refreshed after a minute")
		}

		// Expiring tokens.
		short, st, err := s.CreateToken(ctx, u.ID, "short-lived", time.Hour)
		if err != nil || !st.ExpiresAt.Equal(clk.Now().Add(time.Hour)) {
			t.Fatalf("CreateToken = %+v, %v", st, err)
		}
		if _, err := s.TokenUser(ctx, short); err != nil {
			t.Fatal(err)
		}
		clk.Add(time.Hour)
		if _, err := s.TokenUser(ctx, short); !errors.Is(err, ErrUnauthenticated) {
			t.Fatalf("expired token: %v", err)
		}

		// Disabled users' tokens stop working.
		s.SetDisabled(ctx, u.ID, true)
		if _, err := s.TokenUser(ctx, plain); !errors.Is(err, ErrUnauthenticated) {
			t.Fatalf("disabled user token: %v", err)
		}
		s.SetDisabled(ctx, u.ID, false)

		// Listing and revoking.
		ts, err := s.ListTokens(ctx, u.ID)
		if err != nil || len(ts) != 2 || ts[0].ID != st.ID || ts[1].Name != "ci deploys" {
			t.Fatalf("ListTokens = %+v, %v", ts, err)
		}
		if err := s.RevokeToken(ctx, other.ID, tk.ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("revoking another user's token: %v", err)
		}
		if err := s.RevokeToken(ctx, u.ID, tk.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.TokenUser(ctx, plain); !errors.Is(err, ErrUnauthenticated) {
			t.Fatalf("revoked token: %v", err)
		}
		if err := s.RevokeToken(ctx, u.ID, tk.ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("revoking twice: %v", err)
		}
	})
}

func TestAuthenticate(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, _ := newStore(db)
		alice := mustUser(t, s, "alice", Admin)
		bob := mustUser(t, s, "bob", Viewer)
		plain, _, err := s.CreateToken(ctx, alice.ID, "api", 0)
		if err != nil {
			t.Fatal(err)
		}
		sess, _, err := s.CreateSession(ctx, bob.ID, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name, auth, cookie string
			want               int64 // 0: unauthenticated
		}{
			{"bearer", "Bearer " + plain, "", alice.ID},
			{"bearer lower-case scheme", "bearer " + plain, "", alice.ID},
			{"cookie", "", sess, bob.ID},
			{"bearer wins over cookie", "Bearer " + plain, sess, alice.ID},
			{"bad bearer does not fall back", "Bearer fbt_nope", sess, 0},
			{"basic auth falls back to cookie", "Basic YTpi", sess, bob.ID},
			{"bad cookie", "", "garbage", 0},
			{"neither", "", "", 0},
		} {
			r := httptest.NewRequest("GET", "/", nil)
			if c.auth != "" {
				r.Header.Set("Authorization", c.auth)
			}
			if c.cookie != "" {
				r.AddCookie(&http.Cookie{Name: SessionCookie, Value: c.cookie})
			}
			u, err := s.Authenticate(r)
			switch {
			case c.want == 0 && !errors.Is(err, ErrUnauthenticated):
				t.Errorf("%s: got %+v, %v; want ErrUnauthenticated", c.name, u, err)
			case c.want != 0 && (err != nil || u.ID != c.want):
				t.Errorf("%s: got %+v, %v; want user %d", c.name, u, err, c.want)
			}
		}
	})
}

func TestContext(t *testing.T) {
	if _, ok := UserFrom(context.Background()); ok {
		t.Fatal("user in empty context")
	}
	ctx := WithUser(context.Background(), User{ID: 7, Username: "x"})
	if u, ok := UserFrom(ctx); !ok || u.ID != 7 {
		t.Fatalf("UserFrom = %+v, %v", u, ok)
	}
}

// assertNotStored fails if secret appears in any column of sessions or api_tokens.
func assertNotStored(t *testing.T, db *store.DB, secret string) {
	t.Helper()
	for _, q := range []string{
		"SELECT token_hash || ' ' || CAST(user_id AS TEXT) FROM sessions",
		"SELECT token_hash || ' ' || prefix || ' ' || name FROM api_tokens",
	} {
		rows, err := db.R.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var row string
			if err := rows.Scan(&row); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(row, secret) {
				t.Fatalf("secret stored in plain text: %q", row)
			}
		}
		rows.Close()
	}
}

func count(t *testing.T, db *store.DB, table string) int {
	t.Helper()
	var n int
	if err := db.R.QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
