package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firebreak/firebreak/internal/notify"
)

const secret = "0123456789abcdef-test-secret"

type received struct {
	header http.Header
	body   []byte
}

func server(t *testing.T, status int) (*httptest.Server, func() []received) {
	t.Helper()
	var mu sync.Mutex
	var got []received
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			t.Errorf("method %s", r.Method)
		}
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, received{r.Header.Clone(), b})
		mu.Unlock()
		w.WriteHeader(status)
		_, _ = w.Write([]byte("answer"))
	}))
	t.Cleanup(srv.Close)
	return srv, func() []received { mu.Lock(); defer mu.Unlock(); return append([]received(nil), got...) }
}

func msg() notify.Message {
	return notify.Message{
		IncidentID: 42, Title: "DB down <b>", Level: "P0", LevelName: "Level 1 — critical",
		Status: "triggered", Service: "db", Body: "line1\nline2", URL: "https://fb.example/i/42",
		AckURL: "https://fb.example/a/x", ResolveURL: "https://fb.example/r/y",
		Lang: "en", IdempotencyKey: "inc42/step1/alice/webhook",
	}
}

func TestSendSignedPayload(t *testing.T) {
	srv, got := server(t, http.StatusNoContent)
	fixed := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	c, err := New(Config{URL: srv.URL, Secret: secret, Header: http.Header{"Authorization": {"Bearer t"}}, Now: func() time.Time { return fixed }})
	if err != nil {
		t.Fatal(err)
	}
	if c.Kind() != "webhook" {
		t.Fatal(c.Kind())
	}
	retry, err := c.Send(context.Background(), msg())
	if err != nil || retry {
		t.Fatalf("send: retry=%v err=%v", retry, err)
	}
	rs := got()
	if len(rs) != 1 {
		t.Fatalf("%d requests", len(rs))
	}
	r := rs[0]
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("content-type %q", ct)
	}
	if r.header.Get("Authorization") != "Bearer t" {
		t.Errorf("extra header lost")
	}
	if k := r.header.Get("Idempotency-Key"); k != "inc42/step1/alice/webhook" {
		t.Errorf("idempotency key %q", k)
	}
	if ts := r.header.Get(HeaderTimestamp); ts != strconv.FormatInt(fixed.Unix(), 10) {
		t.Errorf("timestamp %q", ts)
	}
	if !strings.HasPrefix(r.header.Get(HeaderSignature), "sha256=") {
		t.Errorf("signature %q", r.header.Get(HeaderSignature))
	}
	if err := Verify(secret, r.header, r.body, fixed.Add(10*time.Second), time.Minute); err != nil {
		t.Fatalf("verify: %v", err)
	}

	var p struct {
		Event   string          `json:"event"`
		SentAt  string          `json:"sent_at"`
		Message json.RawMessage `json:"message"`
	}
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatal(err)
	}
	if p.Event != "incident.notification" || p.SentAt != "2026-01-02T15:04:05Z" {
		t.Errorf("event=%q sent_at=%q", p.Event, p.SentAt)
	}
	var m map[string]any
	if err := json.Unmarshal(p.Message, &m); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"incident_id": 42.0, "title": "DB down <b>", "level": "P0", "level_name": "Level 1 — critical",
		"status": "triggered", "service": "db", "body": "line1\nline2", "url": "https://fb.example/i/42",
		"ack_url": "https://fb.example/a/x", "resolve_url": "https://fb.example/r/y",
		"idempotency_key": "inc42/step1/alice/webhook",
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("message.%s = %v, want %v", k, m[k], v)
		}
	}
	if len(m) != len(want) {
		t.Errorf("message has fields %v", m)
	}
}

func TestNoIdempotencyHeaderWhenUnset(t *testing.T) {
	srv, got := server(t, http.StatusOK)
	c, err := New(Config{URL: srv.URL, Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	m := msg()
	m.IdempotencyKey = ""
	if _, err := c.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	r := got()[0]
	if _, ok := r.header["Idempotency-Key"]; ok {
		t.Errorf("Idempotency-Key sent: %q", r.header.Get("Idempotency-Key"))
	}
	if err := Verify(secret, r.header, r.body, time.Now(), 0); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyRejects(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"event":"incident.notification"}`)
	ts := strconv.FormatInt(now.Unix(), 10)
	h := func(ts, sig string) http.Header {
		return http.Header{HeaderTimestamp: {ts}, HeaderSignature: {sig}}
	}
	good := "sha256=" + sign([]byte(secret), ts, body)
	if err := Verify(secret, h(ts, good), body, now, time.Minute); err != nil {
		t.Fatalf("good request rejected: %v", err)
	}
	// Rotation: several signatures, one valid.
	if err := Verify(secret, h(ts, "sha256=00, "+good), body, now, time.Minute); err != nil {
		t.Fatalf("rotation list rejected: %v", err)
	}
	cases := []struct {
		name   string
		secret string
		header http.Header
		body   []byte
		now    time.Time
		want   error
	}{
		{"tampered body", secret, h(ts, good), []byte(`{"event":"incident.notificatioN"}`), now, ErrBadSignature},
		{"wrong secret", "another-secret-of-length", h(ts, good), body, now, ErrBadSignature},
		{"old timestamp", secret, h(ts, good), body, now.Add(2 * time.Minute), ErrStale},
		{"future timestamp", secret, h(ts, good), body, now.Add(-2 * time.Minute), ErrStale},
		{"timestamp changed", secret, h(strconv.FormatInt(now.Unix()+1, 10), good), body, now, ErrBadSignature},
		{"no signature", secret, http.Header{HeaderTimestamp: {ts}}, body, now, ErrNoSignature},
		{"no timestamp", secret, http.Header{HeaderSignature: {good}}, body, now, ErrNoTimestamp},
		{"bad timestamp", secret, h("12x", good), body, now, ErrNoTimestamp},
		{"no prefix", secret, h(ts, strings.TrimPrefix(good, "sha256=")), body, now, ErrBadSignature},
	}
	for _, tc := range cases {
		if err := Verify(tc.secret, tc.header, tc.body, tc.now, time.Minute); !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
	}
	if err := Verify("", h(ts, good), body, now, time.Minute); err == nil {
		t.Error("empty secret accepted")
	}
}

func TestClassification(t *testing.T) {
	for _, tc := range []struct {
		status int
		retry  bool
	}{{500, true}, {503, true}, {429, true}, {408, true}, {400, false}, {401, false}, {404, false}} {
		srv, _ := server(t, tc.status)
		c, err := New(Config{URL: srv.URL, Secret: secret})
		if err != nil {
			t.Fatal(err)
		}
		retry, err := c.Send(context.Background(), msg())
		var se *notify.StatusError
		if !errors.As(err, &se) || se.Status != tc.status {
			t.Errorf("%d: err %v", tc.status, err)
		}
		if retry != tc.retry {
			t.Errorf("%d: retry=%v, want %v", tc.status, retry, tc.retry)
		}
	}
	// Nothing listening: transport error, retryable.
	srv := httptest.NewServer(http.NotFoundHandler())
	u := srv.URL
	srv.Close()
	c, _ := New(Config{URL: u, Secret: secret})
	if retry, err := c.Send(context.Background(), msg()); err == nil || !retry {
		t.Errorf("closed port: retry=%v err=%v", retry, err)
	}
}

func TestNewValidates(t *testing.T) {
	for _, tc := range []struct {
		cfg   Config
		field string
	}{
		{Config{Secret: secret}, "url"},
		{Config{URL: "ftp://x/y", Secret: secret}, "url"},
		{Config{URL: "https://", Secret: secret}, "url"},
		{Config{URL: "https://h/x"}, "secret"},
		{Config{URL: "https://h/x", Secret: "short"}, "secret"},
		{Config{URL: "https://h/x", Secret: secret, Header: http.Header{"X-Firebreak-Signature": {"x"}}}, "header"},
	} {
		_, err := New(tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%+v: err %v, want mention of %q", tc.cfg, err, tc.field)
		}
	}
}
