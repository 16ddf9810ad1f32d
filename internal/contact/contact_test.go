package contact_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firebreak/firebreak/internal/auth"
	"github.com/firebreak/firebreak/internal/contact"
	"github.com/firebreak/firebreak/internal/notify/email"
	"github.com/firebreak/firebreak/internal/notify/sms"
	"github.com/firebreak/firebreak/internal/store"
	"github.com/firebreak/firebreak/internal/testenv"
)

const (
	hookSecret = "0123456789abcdef"
	slackURL   = "https://hooks.slack.com/services/T0/B0/x"
	wecomURL   = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc"
)

// clock is an adjustable Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func setup(t *testing.T, db *store.DB) (*contact.Store, *clock) {
	t.Helper()
	c := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	return &contact.Store{DB: db, Now: c.now}, c
}

func newUser(t *testing.T, db *store.DB, name string) int64 {
	t.Helper()
	u, err := (&auth.Store{DB: db}).CreateUser(context.Background(), auth.NewUser{Username: name, Password: "correct horse battery staple"})
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

func fieldOf(err error) string {
	var fe *contact.FieldError
	if errors.As(err, &fe) {
		return fe.Field
	}
	return ""
}

func mustCreate(t *testing.T, s *contact.Store, userID int64, in contact.MethodInput) contact.Method {
	t.Helper()
	m, err := s.Create(context.Background(), userID, in)
	if err != nil {
		t.Fatalf("create %+v: %v", in, err)
	}
	return m
}

func TestKinds(t *testing.T) {
	want := []string{"email", "webhook", "slack", "teams", "dingtalk", "feishu", "wecom", "sms", "voice"}
	if got := contact.Kinds(); !slices.Equal(got, want) {
		t.Fatalf("kinds %v", got)
	}
	contact.Kinds()[0] = "x"
	if contact.Kinds()[0] != "email" {
		t.Fatal("Kinds shares its slice")
	}
	if got := contact.ChannelKinds(); slices.Contains(got, "sms") || slices.Contains(got, "voice") || !slices.Contains(got, "email") {
		t.Fatalf("channel kinds %v", got)
	}
}

func TestValidation(t *testing.T) {
	cases := []struct {
		name                  string
		kind, address, secret string
		field                 string // "" = valid
		normalised            string
	}{
		{"unknown kind", "pager", "x", "", "kind", ""},
		{"empty kind", "", "x", "", "kind", ""},
		{"empty address", "email", "  ", "", "address", ""},
		{"email", "email", " Alice <alice@example.com> ", "", "", "alice@example.com"},
		{"email bare", "email", "bob@example.com", "", "", "bob@example.com"},
		{"email bad", "email", "not-an-address", "", "address", ""},
		{"email list", "email", "a@example.com, b@example.com", "", "address", ""},
		{"email secret", "email", "a@example.com", "s", "secret", ""},
		{"webhook", "webhook", "https://example.com/hook", hookSecret, "", "https://example.com/hook"},
		{"webhook bad url", "webhook", "ftp://example.com/hook", hookSecret, "address", ""},
		{"webhook relative url", "webhook", "/hook", hookSecret, "address", ""},
		{"webhook short secret", "webhook", "https://example.com/hook", "short", "secret", ""},
		{"webhook no secret", "webhook", "https://example.com/hook", "", "secret", ""},
		{"slack", "slack", slackURL, "", "", slackURL},
		{"slack bad url", "slack", "hooks.slack.com", "", "address", ""},
		{"slack secret", "slack", slackURL, "x", "secret", ""},
		{"teams", "teams", "https://example.webhook.office.com/x", "", "", "https://example.webhook.office.com/x"},
		{"teams bad url", "teams", "mailto:x@y", "", "address", ""},
		{"dingtalk", "dingtalk", "https://oapi.dingtalk.com/robot/send?access_token=t", "", "", "https://oapi.dingtalk.com/robot/send?access_token=t"},
		{"dingtalk signed", "dingtalk", "https://oapi.dingtalk.com/robot/send?access_token=t", "SECabc", "", "https://oapi.dingtalk.com/robot/send?access_token=t"},
		{"dingtalk bad secret", "dingtalk", "https://oapi.dingtalk.com/robot/send?access_token=t", "abc", "secret", ""},
		{"dingtalk bad url", "dingtalk", "oapi.dingtalk.com", "", "address", ""},
		{"feishu", "feishu", "https://open.feishu.cn/open-apis/bot/v2/hook/x", "", "", "https://open.feishu.cn/open-apis/bot/v2/hook/x"},
		{"feishu signed", "feishu", "https://open.feishu.cn/open-apis/bot/v2/hook/x", "anything", "", "https://open.feishu.cn/open-apis/bot/v2/hook/x"},
		{"feishu bad url", "feishu", "x", "", "address", ""},
		{"wecom", "wecom", wecomURL, "", "", wecomURL},
		{"wecom no key", "wecom", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send", "", "address", ""},
		{"wecom bad url", "wecom", "key=abc", "", "address", ""},
		{"wecom secret", "wecom", wecomURL, "x", "secret", ""},
		{"sms", "sms", "+86-138-0000-0001", "", "", "+8613800000001"},
		{"sms no plus", "sms", "13800000001", "", "address", ""},
		{"sms letters", "sms", "+86 138 abc", "", "address", ""},
		{"voice", "voice", "+1 (415) 555-0100", "", "", "+14155550100"},
		{"voice bad", "voice", "+0123456789", "", "address", ""},
		{"voice secret", "voice", "+14155550100", "x", "secret", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := contact.CheckAddress(c.kind, c.address, c.secret)
			if f := fieldOf(err); f != c.field || (c.field != "" && err == nil) {
				t.Fatalf("CheckAddress(%q, %q, %q) = %q, %v; want field %q", c.kind, c.address, c.secret, got, err, c.field)
			}
			if c.field == "" && got != c.normalised {
				t.Fatalf("normalised %q, want %q", got, c.normalised)
			}
		})
	}
	if _, err := contact.CheckChannelAddress("sms", "+14155550100", ""); fieldOf(err) != "kind" {
		t.Fatalf("sms channel: %v", err)
	}
	if _, err := contact.CheckChannelAddress("voice", "+14155550100", ""); fieldOf(err) != "kind" {
		t.Fatalf("voice channel: %v", err)
	}
	if a, err := contact.CheckChannelAddress("email", "Stakeholders <execs@example.com>", ""); err != nil || a != "execs@example.com" {
		t.Fatalf("email channel: %q %v", a, err)
	}
}

func TestMethodInputValidation(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, _ := setup(t, db)
		uid := newUser(t, db, "alice")
		ok := contact.MethodInput{Kind: "email", Address: "alice@example.com"}
		bad := []struct {
			field string
			edit  func(*contact.MethodInput)
		}{
			{"name", func(in *contact.MethodInput) { in.Name = strings.Repeat("é", 101) }},
			{"name", func(in *contact.MethodInput) { in.Name = "two\nlines" }},
			{"kind", func(in *contact.MethodInput) { in.Kind = "fax" }},
			{"address", func(in *contact.MethodInput) { in.Address = "nope" }},
			{"throttle_count", func(in *contact.MethodInput) { in.ThrottleCount = -1 }},
			{"throttle_window_seconds", func(in *contact.MethodInput) { in.ThrottleCount, in.ThrottleWindow = 3, -time.Minute }},
			{"throttle_window_seconds", func(in *contact.MethodInput) { in.ThrottleCount, in.ThrottleWindow = 3, 25*time.Hour }},
			{"throttle_window_seconds", func(in *contact.MethodInput) { in.ThrottleCount = 3 }},
			{"throttle_count", func(in *contact.MethodInput) { in.ThrottleWindow = time.Hour }},
		}
		for i, b := range bad {
			in := ok
			b.edit(&in)
			if _, err := s.Create(ctx, uid, in); fieldOf(err) != b.field {
				t.Errorf("case %d: got %v, want field %s", i, err, b.field)
			}
		}
		in := ok
		in.Name = strings.Repeat("é", 100)
		in.ThrottleCount, in.ThrottleWindow = 3, 24*time.Hour
		m := mustCreate(t, s, uid, in)
		if m.ThrottleCount != 3 || m.ThrottleWindow != 24*time.Hour || m.Name != in.Name {
			t.Fatalf("created %+v", m)
		}
		if _, err := s.Create(ctx, 9999, ok); !errors.Is(err, contact.ErrNotFound) {
			t.Fatalf("method for missing user: %v", err)
		}
	})
}

func TestMethods(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, clk := setup(t, db)
		alice, bob := newUser(t, db, "alice"), newUser(t, db, "bob")

		m := mustCreate(t, s, alice, contact.MethodInput{Kind: "webhook", Name: " hook ", Address: "https://example.com/a", Secret: hookSecret})
		if m.ID == 0 || m.UserID != alice || m.Kind != "webhook" || m.Name != "hook" || m.Secret != hookSecret || !m.HasSecret ||
			m.Verified || !m.VerifiedAt.IsZero() || m.Disabled || m.Source != "" || !m.CreatedAt.Equal(clk.now()) {
			t.Fatalf("created %+v", m)
		}
		b, _ := json.Marshal(m)
		if strings.Contains(string(b), hookSecret) || !strings.Contains(string(b), `"has_secret":true`) ||
			!strings.Contains(string(b), `"throttle_window_seconds":0`) || strings.Contains(string(b), "verified_at") {
			t.Fatalf("json %s", b)
		}

		// The plan's methods are stored verified.
		pm := mustCreate(t, s, alice, contact.MethodInput{Kind: "sms", Address: "+86 138 0000 0001", Source: "plan"})
		if !pm.Verified || pm.Source != "plan" || pm.Address != "+8613800000001" || !pm.VerifiedAt.Equal(clk.now()) {
			t.Fatalf("plan method %+v", pm)
		}
		vm := mustCreate(t, s, bob, contact.MethodInput{Kind: "email", Address: "bob@example.com", Verified: true})
		if !vm.Verified {
			t.Fatalf("trusted verified method %+v", vm)
		}
		// Source and Verified never come from JSON.
		var in contact.MethodInput
		if err := json.Unmarshal([]byte(`{"kind":"email","address":"a@example.com","source":"plan","verified":true,"throttle_count":2,"throttle_window_seconds":60}`), &in); err != nil {
			t.Fatal(err)
		}
		if in.Source != "" || in.Verified || in.ThrottleCount != 2 || in.ThrottleWindow != time.Minute {
			t.Fatalf("decoded %+v", in)
		}

		got, err := s.Get(ctx, m.ID)
		if err != nil || got != m {
			t.Fatalf("get %+v %v", got, err)
		}
		if _, err := s.Get(ctx, 9999); !errors.Is(err, contact.ErrNotFound) {
			t.Fatalf("get missing: %v", err)
		}
		list, err := s.ListForUser(ctx, alice)
		if err != nil || len(list) != 2 || list[0].ID != m.ID || list[1].ID != pm.ID {
			t.Fatalf("list %+v %v", list, err)
		}

		// Update keeps the secret when none is given, and keeps verification
		// when the address is unchanged.
		code, err := s.StartVerification(ctx, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Verify(ctx, m.ID, code); err != nil {
			t.Fatal(err)
		}
		up, err := s.Update(ctx, m.ID, contact.MethodInput{Kind: "webhook", Name: "renamed", Address: "https://example.com/a", ThrottleCount: 5, ThrottleWindow: time.Hour})
		if err != nil || up.Name != "renamed" || up.Secret != hookSecret || !up.Verified || up.ThrottleCount != 5 || up.ThrottleWindow != time.Hour {
			t.Fatalf("update %+v %v", up, err)
		}
		// Changing the address clears verification.
		up, err = s.Update(ctx, m.ID, contact.MethodInput{Kind: "webhook", Address: "https://example.com/b"})
		if err != nil || up.Verified || up.Address != "https://example.com/b" || up.Secret != hookSecret {
			t.Fatalf("address change %+v %v", up, err)
		}
		// So does changing the kind; a new kind does not inherit the secret.
		code, _ = s.StartVerification(ctx, m.ID)
		if err := s.Verify(ctx, m.ID, code); err != nil {
			t.Fatal(err)
		}
		up, err = s.Update(ctx, m.ID, contact.MethodInput{Kind: "feishu", Address: "https://example.com/b"})
		if err != nil || up.Verified || up.Kind != "feishu" || up.HasSecret {
			t.Fatalf("kind change %+v %v", up, err)
		}
		// Changing the kind drops the pending code too.
		code, _ = s.StartVerification(ctx, m.ID)
		if _, err := s.Update(ctx, m.ID, contact.MethodInput{Kind: "slack", Address: slackURL}); err != nil {
			t.Fatal(err)
		}
		if err := s.Verify(ctx, m.ID, code); !errors.Is(err, contact.ErrNoCode) {
			t.Fatalf("code survived a kind change: %v", err)
		}
		// ClearSecret removes an optional secret.
		up, err = s.Update(ctx, m.ID, contact.MethodInput{Kind: "dingtalk", Address: "https://example.com/d", Secret: "SECx"})
		if err != nil || !up.HasSecret {
			t.Fatalf("dingtalk %+v %v", up, err)
		}
		up, err = s.Update(ctx, m.ID, contact.MethodInput{Kind: "dingtalk", Address: "https://example.com/d", ClearSecret: true})
		if err != nil || up.HasSecret {
			t.Fatalf("clear secret %+v %v", up, err)
		}
		if _, err := s.Update(ctx, m.ID, contact.MethodInput{Kind: "dingtalk", Address: "bad"}); fieldOf(err) != "address" {
			t.Fatalf("bad update: %v", err)
		}
		if _, err := s.Update(ctx, 9999, contact.MethodInput{Kind: "email", Address: "a@example.com"}); !errors.Is(err, contact.ErrNotFound) {
			t.Fatalf("update missing: %v", err)
		}
		// A plan method stays verified when the plan changes its address.
		pm2, err := s.Update(ctx, pm.ID, contact.MethodInput{Kind: "sms", Address: "+8613800000002", Source: "plan"})
		if err != nil || !pm2.Verified || pm2.Source != "plan" {
			t.Fatalf("plan update %+v %v", pm2, err)
		}
		// ... but not when a person does.
		pm3, err := s.Update(ctx, pm.ID, contact.MethodInput{Kind: "sms", Address: "+8613800000003"})
		if err != nil || pm3.Verified || pm3.Source != "plan" {
			t.Fatalf("person's update of a plan method %+v %v", pm3, err)
		}

		if err := s.SetDisabled(ctx, m.ID, true); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Get(ctx, m.ID); !got.Disabled {
			t.Fatal("not disabled")
		}
		if err := s.SetDisabled(ctx, m.ID, false); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Get(ctx, m.ID); got.Disabled {
			t.Fatal("still disabled")
		}
		if err := s.SetDisabled(ctx, 9999, true); !errors.Is(err, contact.ErrNotFound) {
			t.Fatalf("disable missing: %v", err)
		}
		if err := s.Delete(ctx, m.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(ctx, m.ID); !errors.Is(err, contact.ErrNotFound) {
			t.Fatalf("second delete: %v", err)
		}
		if list, _ := s.ListForUser(ctx, alice); len(list) != 1 {
			t.Fatalf("after delete %+v", list)
		}
	})
}

func TestVerification(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, clk := setup(t, db)
		uid := newUser(t, db, "alice")
		m := mustCreate(t, s, uid, contact.MethodInput{Kind: "email", Address: "alice@example.com"})

		if err := s.Verify(ctx, m.ID, "123456"); !errors.Is(err, contact.ErrNoCode) {
			t.Fatalf("no code: %v", err)
		}
		if _, err := s.StartVerification(ctx, 9999); !errors.Is(err, contact.ErrNotFound) {
			t.Fatalf("start on missing: %v", err)
		}
		if err := s.Verify(ctx, 9999, "123456"); !errors.Is(err, contact.ErrNotFound) {
			t.Fatalf("verify missing: %v", err)
		}

		// Success.
		code, err := s.StartVerification(ctx, m.ID)
		if err != nil || len(code) != 6 || strings.Trim(code, "0123456789") != "" {
			t.Fatalf("code %q %v", code, err)
		}
		var stored string
		if err := db.R.QueryRowContext(ctx, `SELECT verify_code_hash FROM contact_methods WHERE id=$1`, m.ID).Scan(&stored); err != nil || stored == "" || strings.Contains(stored, code) {
			t.Fatalf("stored %q %v", stored, err)
		}
		clk.add(time.Minute)
		if err := s.Verify(ctx, m.ID, wrong(code)); !errors.Is(err, contact.ErrCodeWrong) {
			t.Fatalf("wrong code: %v", err)
		}
		if err := s.Verify(ctx, m.ID, " "+code+" "); err != nil {
			t.Fatalf("right code: %v", err)
		}
		got, _ := s.Get(ctx, m.ID)
		if !got.Verified || !got.VerifiedAt.Equal(clk.now()) {
			t.Fatalf("verified %+v", got)
		}
		if err := db.R.QueryRowContext(ctx, `SELECT verify_code_hash FROM contact_methods WHERE id=$1`, m.ID).Scan(&stored); err != nil || stored != "" {
			t.Fatalf("code not cleared: %q %v", stored, err)
		}
		if err := s.Verify(ctx, m.ID, code); !errors.Is(err, contact.ErrNoCode) {
			t.Fatalf("code reused: %v", err)
		}

		// Expiry.
		code, _ = s.StartVerification(ctx, m.ID)
		clk.add(contact.CodeTTL)
		if err := s.Verify(ctx, m.ID, code); !errors.Is(err, contact.ErrCodeExpired) {
			t.Fatalf("expired: %v", err)
		}
		if !strings.Contains(contact.ErrCodeExpired.Error(), "request a new code") {
			t.Fatal(contact.ErrCodeExpired)
		}

		// Too many attempts; a new code resets them.
		code, _ = s.StartVerification(ctx, m.ID)
		for i := 1; i < contact.MaxAttempts; i++ {
			if err := s.Verify(ctx, m.ID, wrong(code)); !errors.Is(err, contact.ErrCodeWrong) {
				t.Fatalf("attempt %d: %v", i, err)
			}
		}
		if err := s.Verify(ctx, m.ID, wrong(code)); !errors.Is(err, contact.ErrTooManyAttempts) {
			t.Fatalf("last attempt: %v", err)
		}
		if err := s.Verify(ctx, m.ID, code); !errors.Is(err, contact.ErrTooManyAttempts) {
			t.Fatalf("right code after too many: %v", err)
		}
		if !strings.Contains(contact.ErrTooManyAttempts.Error(), "request a new code") {
			t.Fatal(contact.ErrTooManyAttempts)
		}
		code, _ = s.StartVerification(ctx, m.ID)
		if err := s.Verify(ctx, m.ID, wrong(code)); !errors.Is(err, contact.ErrCodeWrong) {
			t.Fatalf("after restart: %v", err)
		}
		if err := s.Verify(ctx, m.ID, code); err != nil {
			t.Fatalf("after restart: %v", err)
		}

		// Concurrent guesses cannot exceed the limit.
		code, _ = s.StartVerification(ctx, m.ID)
		var wg sync.WaitGroup
		var mu sync.Mutex
		wrongs := 0
		for range 20 {
			wg.Go(func() {
				err := s.Verify(ctx, m.ID, wrong(code))
				mu.Lock()
				defer mu.Unlock()
				if errors.Is(err, contact.ErrCodeWrong) {
					wrongs++
				} else if !errors.Is(err, contact.ErrTooManyAttempts) {
					t.Errorf("concurrent: %v", err)
				}
			})
		}
		wg.Wait()
		if wrongs != contact.MaxAttempts-1 {
			t.Fatalf("%d wrong answers accepted for checking", wrongs)
		}
	})
}

// wrong returns a code other than code.
func wrong(code string) string {
	if code == "000000" {
		return "000001"
	}
	return "000000"
}

func TestVerificationMessage(t *testing.T) {
	en := contact.VerificationMessage("en", "123456")
	if en.Title != "firebreak verification code 123456" || !strings.Contains(en.Body, "123456") || en.Lang != "en" {
		t.Fatalf("en %+v", en)
	}
	zh := contact.VerificationMessage("zh", "654321")
	if !strings.Contains(zh.Title, "验证码") || !strings.Contains(zh.Title, "654321") || zh.Lang != "zh" {
		t.Fatalf("zh %+v", zh)
	}
}

func addLevels(t *testing.T, db *store.DB, ids ...string) {
	t.Helper()
	for i, l := range ids {
		if _, err := db.W.ExecContext(context.Background(), `INSERT INTO levels (id, position, name_en, name_zh) VALUES ($1, $2, $1, $1)`, l, i); err != nil {
			t.Fatal(err)
		}
	}
}

func TestRules(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, _ := setup(t, db)
		addLevels(t, db, "P0", "P1", "P2")
		alice, bob := newUser(t, db, "alice"), newUser(t, db, "bob")
		push := mustCreate(t, s, alice, contact.MethodInput{Kind: "email", Address: "alice@example.com", Verified: true})
		call := mustCreate(t, s, alice, contact.MethodInput{Kind: "voice", Address: "+14155550100", Verified: true})
		text := mustCreate(t, s, alice, contact.MethodInput{Kind: "sms", Address: "+14155550100", Verified: true})
		unverified := mustCreate(t, s, alice, contact.MethodInput{Kind: "slack", Address: slackURL})
		off := mustCreate(t, s, alice, contact.MethodInput{Kind: "teams", Address: "https://example.com/t", Verified: true})
		if err := s.SetDisabled(ctx, off.ID, true); err != nil {
			t.Fatal(err)
		}
		bobs := mustCreate(t, s, bob, contact.MethodInput{Kind: "email", Address: "bob@example.com", Verified: true})

		// Refused rules.
		for _, c := range []struct {
			in    contact.RuleInput
			field string
		}{
			{contact.RuleInput{MethodID: bobs.ID}, "method_id"},
			{contact.RuleInput{MethodID: 9999}, "method_id"},
			{contact.RuleInput{MethodID: push.ID, Delay: -time.Second}, "delay_seconds"},
			{contact.RuleInput{MethodID: push.ID, Delay: 24*time.Hour + time.Second}, "delay_seconds"},
			{contact.RuleInput{MethodID: push.ID, Levels: []string{"P0", "P9"}}, "levels"},
			{contact.RuleInput{MethodID: push.ID, Levels: []string{"P0,P1"}}, "levels"},
		} {
			if _, err := s.CreateRule(ctx, alice, c.in); fieldOf(err) != c.field {
				t.Errorf("rule %+v: %v, want field %s", c.in, err, c.field)
			}
		}
		if _, err := s.CreateRule(ctx, 9999, contact.RuleInput{MethodID: push.ID}); !errors.Is(err, contact.ErrNotFound) {
			t.Fatalf("rule for missing user: %v", err)
		}

		mk := func(m contact.Method, delay time.Duration, levels ...string) contact.Rule {
			t.Helper()
			r, err := s.CreateRule(ctx, alice, contact.RuleInput{MethodID: m.ID, Delay: delay, Levels: levels})
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		rCall := mk(call, 5*time.Minute, "P0", " P0 ", "P1")
		rPush := mk(push, 0)
		rText := mk(text, 0, "P0")
		rPush2 := mk(push, 10*time.Minute, "P2")
		rSlack := mk(unverified, 0)
		mk(off, 0)
		if !slices.Equal(rCall.Levels, []string{"P0", "P1"}) || rCall.Delay != 5*time.Minute || rCall.UserID != alice {
			t.Fatalf("rule %+v", rCall)
		}
		b, _ := json.Marshal(rPush)
		if !strings.Contains(string(b), `"levels":[]`) || !strings.Contains(string(b), `"delay_seconds":0`) {
			t.Fatalf("rule json %s", b)
		}
		var ri contact.RuleInput
		if err := json.Unmarshal([]byte(`{"method_id":3,"delay_seconds":300,"levels":["P0"]}`), &ri); err != nil || ri.Delay != 5*time.Minute || ri.MethodID != 3 {
			t.Fatalf("rule input %+v %v", ri, err)
		}

		rules, err := s.ListRules(ctx, alice)
		if err != nil || len(rules) != 6 || rules[0].ID != rPush.ID || rules[len(rules)-1].ID != rPush2.ID {
			t.Fatalf("list %+v %v", rules, err)
		}

		ids := func(level string) []int64 {
			t.Helper()
			ts, err := s.RulesFor(ctx, db.R, alice, level)
			if err != nil {
				t.Fatal(err)
			}
			var out []int64
			for _, x := range ts {
				if x.Method.ID != x.MethodID || x.Method.UserID != alice || x.UserID != alice {
					t.Fatalf("target %+v", x)
				}
				out = append(out, x.ID)
			}
			return out
		}
		if got, want := ids("P0"), []int64{rPush.ID, rText.ID, rCall.ID}; !slices.Equal(got, want) {
			t.Fatalf("P0 %v want %v", got, want)
		}
		if got, want := ids("P1"), []int64{rPush.ID, rCall.ID}; !slices.Equal(got, want) {
			t.Fatalf("P1 %v want %v", got, want)
		}
		if got, want := ids("P2"), []int64{rPush.ID, rPush2.ID}; !slices.Equal(got, want) {
			t.Fatalf("P2 %v want %v", got, want)
		}
		if got, want := ids("P3"), []int64{rPush.ID}; !slices.Equal(got, want) {
			t.Fatalf("P3 %v want %v", got, want)
		}
		// Inside a transaction, with the method joined in.
		tx, err := db.W.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		ts, err := s.RulesFor(ctx, tx, alice, "P0")
		_ = tx.Rollback()
		if err != nil || len(ts) != 3 || ts[2].Method.Kind != "voice" || ts[2].Method.Address != "+14155550100" {
			t.Fatalf("in tx %+v %v", ts, err)
		}
		b, _ = json.Marshal(ts[2])
		if !strings.Contains(string(b), `"delay_seconds":300`) || !strings.Contains(string(b), `"method":{`) {
			t.Fatalf("target json %s", b)
		}
		// Verifying a method brings its rules in.
		code, _ := s.StartVerification(ctx, unverified.ID)
		if err := s.Verify(ctx, unverified.ID, code); err != nil {
			t.Fatal(err)
		}
		if got := ids("P3"); len(got) != 2 {
			t.Fatalf("after verification %v", got)
		}
		if got, _ := s.RulesFor(ctx, nil, bob, "P0"); len(got) != 0 {
			t.Fatalf("bob %+v", got)
		}

		// MethodsFor: verified, enabled, in creation order.
		ms, err := s.MethodsFor(ctx, nil, alice)
		if err != nil {
			t.Fatal(err)
		}
		var mids []int64
		for _, m := range ms {
			mids = append(mids, m.ID)
		}
		if want := []int64{push.ID, call.ID, text.ID, unverified.ID}; !slices.Equal(mids, want) {
			t.Fatalf("methods for %v want %v", mids, want)
		}

		if err := s.DeleteRule(ctx, bob, rCall.ID); !errors.Is(err, contact.ErrNotFound) {
			t.Fatalf("delete another's rule: %v", err)
		}
		if err := s.DeleteRule(ctx, alice, rCall.ID); err != nil {
			t.Fatal(err)
		}
		if got := ids("P1"); !slices.Equal(got, []int64{rPush.ID, rSlack.ID}) {
			t.Fatalf("after delete %v", got)
		}
		// Deleting a method deletes its rules.
		if err := s.Delete(ctx, push.ID); err != nil {
			t.Fatal(err)
		}
		rules, _ = s.ListRules(ctx, alice)
		for _, r := range rules {
			if r.MethodID == push.ID {
				t.Fatalf("rule %+v outlived its method", r)
			}
		}
		if len(rules) != 3 {
			t.Fatalf("rules left %+v", rules)
		}
	})
}

func TestChannels(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, _ := setup(t, db)
		var teamID int64
		if err := db.W.QueryRowContext(ctx, `INSERT INTO teams (slug, name, created_at) VALUES ('sre', 'SRE', 0) RETURNING id`).Scan(&teamID); err != nil {
			t.Fatal(err)
		}
		for _, slug := range []string{"", "-x", "_x", "UPPER", "has space", "a/b", strings.Repeat("a", 64), "ü"} {
			if _, err := s.CreateChannel(ctx, contact.ChanInput{Slug: slug, Kind: "slack", Address: slackURL}); fieldOf(err) != "slug" {
				t.Errorf("slug %q: %v", slug, err)
			}
		}
		for _, slug := range []string{"a", "0", "sre-oncall_2", strings.Repeat("a", 63)} {
			if err := contact.CheckSlug(slug); err != nil {
				t.Errorf("slug %q: %v", slug, err)
			}
		}
		bad := []struct {
			in    contact.ChanInput
			field string
		}{
			{contact.ChanInput{Slug: "x", Kind: "sms", Address: "+14155550100"}, "kind"},
			{contact.ChanInput{Slug: "x", Kind: "voice", Address: "+14155550100"}, "kind"},
			{contact.ChanInput{Slug: "x", Kind: "webhook", Address: "https://example.com", Secret: "short"}, "secret"},
			{contact.ChanInput{Slug: "x", Kind: "wecom", Address: "https://example.com"}, "address"},
			{contact.ChanInput{Slug: "x", Kind: "email", Address: "a@example.com, b@example.com"}, "address"},
			{contact.ChanInput{Slug: "x", Kind: "slack", Address: slackURL, Name: strings.Repeat("n", 101)}, "name"},
			{contact.ChanInput{Slug: "x", Kind: "slack", Address: slackURL, TeamID: 9999}, "team_id"},
		}
		for _, b := range bad {
			if _, err := s.CreateChannel(ctx, b.in); fieldOf(err) != b.field {
				t.Errorf("%+v: %v, want field %s", b.in, err, b.field)
			}
		}

		ding, err := s.CreateChannel(ctx, contact.ChanInput{Slug: "sre-ding", Name: "SRE group", Kind: "dingtalk",
			Address: "https://oapi.dingtalk.com/robot/send?access_token=t", Secret: "SECabc", TeamID: teamID, Source: "plan"})
		if err != nil {
			t.Fatal(err)
		}
		if ding.ID == 0 || ding.TeamID != teamID || ding.Secret != "SECabc" || !ding.HasSecret || ding.Source != "plan" || ding.Name != "SRE group" {
			t.Fatalf("created %+v", ding)
		}
		b, _ := json.Marshal(ding)
		if strings.Contains(string(b), "SECabc") {
			t.Fatalf("secret in json %s", b)
		}
		execs, err := s.CreateChannel(ctx, contact.ChanInput{Slug: "execs", Kind: "email", Address: "Execs <execs@example.com>"})
		if err != nil || execs.Address != "execs@example.com" || execs.TeamID != 0 {
			t.Fatalf("email channel %+v %v", execs, err)
		}
		if _, err := s.CreateChannel(ctx, contact.ChanInput{Slug: "execs", Kind: "slack", Address: slackURL}); fieldOf(err) != "slug" {
			t.Fatalf("duplicate slug: %v", err)
		}
		if _, err := s.UpdateChannel(ctx, execs.ID, contact.ChanInput{Slug: "sre-ding", Kind: "email", Address: "execs@example.com"}); fieldOf(err) != "slug" {
			t.Fatalf("update to taken slug: %v", err)
		}

		got, err := s.ChannelBySlug(ctx, db.R, "sre-ding")
		if err != nil || got != ding {
			t.Fatalf("by slug %+v %v", got, err)
		}
		if _, err := s.ChannelBySlug(ctx, nil, "nope"); !errors.Is(err, contact.ErrNotFound) {
			t.Fatalf("missing slug: %v", err)
		}
		if got, err := s.ChannelByID(ctx, nil, execs.ID); err != nil || got != execs {
			t.Fatalf("by id %+v %v", got, err)
		}

		// Update keeps the secret and the source; the team can be removed.
		up, err := s.UpdateChannel(ctx, ding.ID, contact.ChanInput{Slug: "sre-group", Name: "SRE", Kind: "dingtalk",
			Address: "https://oapi.dingtalk.com/robot/send?access_token=u"})
		if err != nil || up.Slug != "sre-group" || up.Secret != "SECabc" || up.TeamID != 0 || up.Source != "plan" || up.CreatedAt != ding.CreatedAt {
			t.Fatalf("update %+v %v", up, err)
		}
		if _, err := s.UpdateChannel(ctx, 9999, contact.ChanInput{Slug: "z", Kind: "slack", Address: slackURL}); !errors.Is(err, contact.ErrNotFound) {
			t.Fatalf("update missing: %v", err)
		}

		list, err := s.ListChannels(ctx)
		if err != nil || len(list) != 2 || list[0].Slug != "execs" || list[1].Slug != "sre-group" {
			t.Fatalf("list %+v %v", list, err)
		}
		if err := s.DeleteChannel(ctx, execs.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteChannel(ctx, execs.ID); !errors.Is(err, contact.ErrNotFound) {
			t.Fatalf("second delete: %v", err)
		}
		// Deleting the team keeps the channel.
		if _, err := s.UpdateChannel(ctx, ding.ID, contact.ChanInput{Slug: "sre-group", Kind: "dingtalk",
			Address: "https://oapi.dingtalk.com/robot/send?access_token=u", TeamID: teamID}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.W.ExecContext(ctx, `DELETE FROM teams WHERE id=$1`, teamID); err != nil {
			t.Fatal(err)
		}
		if got, err := s.ChannelBySlug(ctx, nil, "sre-group"); err != nil || got.TeamID != 0 {
			t.Fatalf("after team delete %+v %v", got, err)
		}
	})
}

func TestBuild(t *testing.T) {
	deps := contact.Deps{
		SMTP:   &email.Config{Host: "smtp.example.com", From: "Firebreak <firebreak@example.com>"},
		SMS:    &sms.Config{AccountSID: "AC123", AuthToken: "token", From: "+14155550100"},
		Client: &http.Client{Timeout: time.Second},
	}
	cases := []struct{ kind, address, secret string }{
		{"email", "alice@example.com", ""},
		{"webhook", "https://example.com/hook", hookSecret},
		{"slack", slackURL, ""},
		{"teams", "https://example.webhook.office.com/x", ""},
		{"dingtalk", "https://oapi.dingtalk.com/robot/send?access_token=t", "SECabc"},
		{"feishu", "https://open.feishu.cn/open-apis/bot/v2/hook/x", ""},
		{"wecom", wecomURL, ""},
		{"sms", "+86 138 0000 0001", ""},
		{"voice", "+8613800000001", ""},
	}
	if len(cases) != len(contact.Kinds()) {
		t.Fatal("a kind is not tested")
	}
	for _, c := range cases {
		ch, err := contact.Build(deps, c.kind, c.address, c.secret)
		if err != nil {
			t.Fatalf("%s: %v", c.kind, err)
		}
		if ch.Kind() != c.kind {
			t.Fatalf("%s: built %s", c.kind, ch.Kind())
		}
	}
	if ch, err := contact.BuildMethod(deps, contact.Method{Kind: "sms", Address: "+14155550100"}); err != nil || ch.Kind() != "sms" {
		t.Fatalf("build method %v", err)
	}
	if ch, err := contact.BuildChan(deps, contact.Chan{Kind: "email", Address: "execs@example.com"}); err != nil || ch.Kind() != "email" {
		t.Fatalf("build chan %v", err)
	}

	// Missing server settings say which to set.
	for _, c := range []struct {
		deps      contact.Deps
		kind      string
		address   string
		wantInErr string
	}{
		{contact.Deps{}, "email", "a@example.com", "email is not configured: set smtp_host"},
		{contact.Deps{SMTP: &email.Config{Host: "smtp.example.com"}}, "email", "a@example.com", "set smtp_from"},
		{contact.Deps{}, "sms", "+14155550100", "sms is not configured: set sms_account_sid"},
		{contact.Deps{}, "voice", "+14155550100", "not configured: set sms_account_sid"},
		{contact.Deps{SMS: &sms.Config{AccountSID: "AC1"}}, "sms", "+14155550100", "set sms_auth_token"},
		{contact.Deps{SMS: &sms.Config{AccountSID: "AC1", AuthToken: "x"}}, "voice", "+14155550100", "set sms_from"},
	} {
		ch, err := contact.Build(c.deps, c.kind, c.address, "")
		if err == nil || ch != nil || !strings.Contains(err.Error(), c.wantInErr) || !errors.Is(err, contact.ErrNotConfigured) {
			t.Errorf("%s with %+v: %v, want %q", c.kind, c.deps, err, c.wantInErr)
		}
	}
	// Bad input fails as a FieldError, not a nil-pointer channel.
	ch, err := contact.Build(deps, "webhook", "https://example.com", "short")
	if fieldOf(err) != "secret" || ch != nil {
		t.Fatalf("bad webhook: %v %v", ch, err)
	}
	// Voice needs a phone number as the sender.
	if _, err := contact.Build(contact.Deps{SMS: &sms.Config{AccountSID: "AC1", AuthToken: "x", From: "MG123"}}, "voice", "+14155550100", ""); err == nil {
		t.Fatal("voice from a messaging service")
	}
	if ch, err := contact.Build(contact.Deps{SMS: &sms.Config{AccountSID: "AC1", AuthToken: "x", From: "MG123"}}, "sms", "+14155550100", ""); err != nil || ch.Kind() != "sms" {
		t.Fatalf("sms from a messaging service: %v", err)
	}
}

func TestPhoneAndChatIDs(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, _ := setup(t, db)
		uid := newUser(t, db, "alice")
		if p, err := s.Phone(ctx, nil, uid); err != nil || p != "" {
			t.Fatalf("initial phone %q %v", p, err)
		}
		if err := s.SetPhone(ctx, uid, "+86 (138) 0000-0001"); err != nil {
			t.Fatal(err)
		}
		if p, err := s.Phone(ctx, db.R, uid); err != nil || p != "+8613800000001" {
			t.Fatalf("phone %q %v", p, err)
		}
		if err := s.SetPhone(ctx, uid, "138"); fieldOf(err) != "phone" {
			t.Fatalf("bad phone: %v", err)
		}
		if err := s.SetPhone(ctx, 9999, "+8613800000001"); !errors.Is(err, contact.ErrNotFound) {
			t.Fatalf("phone of missing user: %v", err)
		}
		if _, err := s.Phone(ctx, nil, 9999); !errors.Is(err, contact.ErrNotFound) {
			t.Fatalf("phone of missing user: %v", err)
		}
		if err := s.SetPhone(ctx, uid, " "); err != nil {
			t.Fatal(err)
		}
		if p, _ := s.Phone(ctx, nil, uid); p != "" {
			t.Fatalf("cleared phone %q", p)
		}

		if ids, err := s.ChatIDs(ctx, nil, uid); err != nil || ids != (contact.ChatIDs{}) {
			t.Fatalf("initial chat ids %+v %v", ids, err)
		}
		want := contact.ChatIDs{DingTalk: "ding1", Feishu: "ou_1", WeCom: "zhangsan", Slack: "U123"}
		if err := s.SetChatIDs(ctx, uid, contact.ChatIDs{DingTalk: " ding1 ", Feishu: "ou_1", WeCom: "zhangsan", Slack: "U123"}); err != nil {
			t.Fatal(err)
		}
		if ids, err := s.ChatIDs(ctx, db.R, uid); err != nil || ids != want {
			t.Fatalf("chat ids %+v %v", ids, err)
		}
		var raw string
		if err := db.R.QueryRowContext(ctx, `SELECT chat_ids FROM users WHERE id=$1`, uid).Scan(&raw); err != nil {
			t.Fatal(err)
		}
		var asMap map[string]string
		if err := json.Unmarshal([]byte(raw), &asMap); err != nil || asMap["dingtalk"] != "ding1" || asMap["feishu"] != "ou_1" || asMap["wecom"] != "zhangsan" || asMap["slack"] != "U123" {
			t.Fatalf("stored %s %v", raw, err)
		}
		if err := s.SetChatIDs(ctx, uid, contact.ChatIDs{Slack: strings.Repeat("x", 129)}); fieldOf(err) != "chat_ids.slack" {
			t.Fatalf("long id: %v", err)
		}
		if err := s.SetChatIDs(ctx, uid, contact.ChatIDs{WeCom: "a\nb"}); fieldOf(err) != "chat_ids.wecom" {
			t.Fatalf("two-line id: %v", err)
		}
		if err := s.SetChatIDs(ctx, 9999, contact.ChatIDs{}); !errors.Is(err, contact.ErrNotFound) {
			t.Fatalf("missing user: %v", err)
		}
		if _, err := s.ChatIDs(ctx, nil, 9999); !errors.Is(err, contact.ErrNotFound) {
			t.Fatalf("missing user: %v", err)
		}
		if err := s.SetChatIDs(ctx, uid, contact.ChatIDs{}); err != nil {
			t.Fatal(err)
		}
		if ids, _ := s.ChatIDs(ctx, nil, uid); ids != (contact.ChatIDs{}) {
			t.Fatalf("cleared %+v", ids)
		}
	})
}
