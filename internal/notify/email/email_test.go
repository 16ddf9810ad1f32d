package email

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/firebreak/firebreak/internal/notify"
)

// backend records what an in-process SMTP server receives.
type backend struct {
	mu      sync.Mutex
	from    string
	rcpts   []string
	data    []byte
	authed  string
	rcptErr error // returned by every RCPT TO when set
}

func (b *backend) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{b: b}, nil }

type session struct{ b *backend }

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, user, pass string) error {
		if user != "fb" || pass != "secret" {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "bad credentials"}
		}
		s.b.mu.Lock()
		s.b.authed = user
		s.b.mu.Unlock()
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	s.b.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	if s.b.rcptErr != nil {
		return s.b.rcptErr
	}
	s.b.rcpts = append(s.b.rcpts, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	d, err := io.ReadAll(r)
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	s.b.data = d
	return err
}

func (s *session) Reset()        {}
func (s *session) Logout() error { return nil }

// startServer runs an SMTP server on loopback and returns the backend and port.
func startServer(t *testing.T, be *backend) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := smtp.NewServer(be)
	srv.Domain = "mx.test"
	srv.AllowInsecureAuth = true // plain TCP in tests
	srv.ReadTimeout = 5 * time.Second
	srv.WriteTimeout = 5 * time.Second
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().(*net.TCPAddr).Port
}

func testMsg() notify.Message {
	return notify.Message{
		IncidentID: 42, Title: `Login <script>alert("x")</script> & more`, Level: "P0", LevelName: "Level 1 — critical",
		Status: "triggered", Service: "auth", Body: "Error rate 30%\n<b>not bold</b>",
		URL: "https://fb.example/incidents/42", AckURL: "https://fb.example/a/ACKTOKEN?sig=abc&exp=9", ResolveURL: "https://fb.example/r/RESTOKEN",
		Lang: "en", IdempotencyKey: "inc42/step1/alice/email",
	}
}

func newChannel(t *testing.T, port int, mod func(*Config)) *Channel {
	t.Helper()
	cfg := Config{
		Host: "127.0.0.1", Port: port, TLS: TLSNone, From: "Firebreak <firebreak@fb.example>",
		Username: "fb", Password: "secret", AllowInsecureAuth: true,
		To: []string{"alice@example.com", "Bob <bob@example.com>"}, Timeout: 5 * time.Second,
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// parts returns the decoded text/plain and text/html parts of a message.
func parts(t *testing.T, h mail.Header, body io.Reader) map[string]string {
	t.Helper()
	out := map[string]string{}
	var walk func(ct string, r io.Reader)
	walk = func(ct string, r io.Reader) {
		mt, params, err := mime.ParseMediaType(ct)
		if err != nil {
			t.Fatalf("content-type %q: %v", ct, err)
		}
		if strings.HasPrefix(mt, "multipart/") {
			mr := multipart.NewReader(r, params["boundary"])
			for {
				p, err := mr.NextPart() // decodes quoted-printable
				if err == io.EOF {
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				walk(p.Header.Get("Content-Type"), p)
			}
		}
		b, _ := io.ReadAll(r)
		out[mt] = string(b)
	}
	walk(h.Get("Content-Type"), body)
	return out
}

func TestSendMultipart(t *testing.T) {
	be := &backend{}
	c := newChannel(t, startServer(t, be), nil)
	if c.Kind() != "email" {
		t.Fatal(c.Kind())
	}
	retry, err := c.Send(context.Background(), testMsg())
	if err != nil || retry {
		t.Fatalf("retry=%v err=%v", retry, err)
	}
	be.mu.Lock()
	defer be.mu.Unlock()
	if be.authed != "fb" {
		t.Errorf("not authenticated")
	}
	if be.from != "firebreak@fb.example" {
		t.Errorf("MAIL FROM %q", be.from)
	}
	if strings.Join(be.rcpts, ",") != "alice@example.com,bob@example.com" {
		t.Errorf("RCPT TO %v", be.rcpts)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(be.data))
	if err != nil {
		t.Fatal(err)
	}
	subj, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	if want := `[P0] Login <script>alert("x")</script> & more (triggered)`; subj != want {
		t.Errorf("subject %q", subj)
	}
	if got := msg.Header.Get("X-Firebreak-Incident"); got != "42" {
		t.Errorf("X-Firebreak-Incident %q", got)
	}
	if got, want := msg.Header.Get("Message-Id"), "<"+MessageID("inc42/step1/alice/email", "fb.example")+">"; got != want || !strings.HasSuffix(got, "@fb.example>") {
		t.Errorf("Message-ID %q, want %q", got, want)
	}
	if msg.Header.Get("Auto-Submitted") != "auto-generated" {
		t.Errorf("Auto-Submitted %q", msg.Header.Get("Auto-Submitted"))
	}
	if to := msg.Header.Get("To"); !strings.Contains(to, "alice@example.com") || !strings.Contains(to, "bob@example.com") {
		t.Errorf("To %q", to)
	}

	p := parts(t, msg.Header, msg.Body)
	text, html := p["text/plain"], p["text/html"]
	if text == "" || html == "" {
		t.Fatalf("parts %v", p)
	}
	for _, want := range []string{"Acknowledge: https://fb.example/a/ACKTOKEN?sig=abc&exp=9", "Resolve: https://fb.example/r/RESTOKEN", "https://fb.example/incidents/42", "Error rate 30%"} {
		if !strings.Contains(text, want) {
			t.Errorf("text part lacks %q:\n%s", want, text)
		}
	}
	for _, want := range []string{`href="https://fb.example/a/ACKTOKEN?sig=abc&amp;exp=9"`, `href="https://fb.example/r/RESTOKEN"`, `href="https://fb.example/incidents/42"`,
		"&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; more", "&lt;b&gt;not bold&lt;/b&gt;"} {
		if !strings.Contains(html, want) {
			t.Errorf("html part lacks %q:\n%s", want, html)
		}
	}
	if strings.Contains(html, "<script>") || strings.Contains(html, "<b>") {
		t.Errorf("html not escaped:\n%s", html)
	}
}

func TestMessageIDStable(t *testing.T) {
	a, b := MessageID("k1", "d.example"), MessageID("k1", "d.example")
	if a != b || a == MessageID("k2", "d.example") || MessageID("", "d") != "" {
		t.Errorf("MessageID not a stable function of the key: %q %q", a, b)
	}
	// Without a key each message still gets a (random) Message-ID.
	be := &backend{}
	c := newChannel(t, startServer(t, be), nil)
	m := testMsg()
	m.IdempotencyKey = ""
	if _, err := c.SendTo(context.Background(), []string{"carol@example.com"}, m); err != nil {
		t.Fatal(err)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(be.data))
	if err != nil {
		t.Fatal(err)
	}
	if id := msg.Header.Get("Message-Id"); id == "" || strings.Contains(id, "firebreak.") {
		t.Errorf("Message-ID %q", id)
	}
	if strings.Join(be.rcpts, ",") != "carol@example.com" {
		t.Errorf("SendTo rcpts %v", be.rcpts)
	}
}

func TestPermanentRejection(t *testing.T) {
	be := &backend{rcptErr: &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}}
	c := newChannel(t, startServer(t, be), nil)
	retry, err := c.Send(context.Background(), testMsg())
	if err == nil || retry {
		t.Fatalf("550: retry=%v err=%v", retry, err)
	}
	if !strings.Contains(err.Error(), "550") {
		t.Errorf("error lacks the SMTP reply: %v", err)
	}
}

func TestTemporaryRejection(t *testing.T) {
	be := &backend{rcptErr: &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}}
	c := newChannel(t, startServer(t, be), nil)
	retry, err := c.Send(context.Background(), testMsg())
	if err == nil || !retry {
		t.Fatalf("451: retry=%v err=%v", retry, err)
	}
}

func TestAuthFailureIsPermanent(t *testing.T) {
	be := &backend{}
	c := newChannel(t, startServer(t, be), func(cfg *Config) { cfg.Password = "wrong" })
	retry, err := c.Send(context.Background(), testMsg())
	if err == nil || retry {
		t.Fatalf("535: retry=%v err=%v", retry, err)
	}
}

func TestStartTLSMandatoryRefusesPlainServer(t *testing.T) {
	be := &backend{}
	c := newChannel(t, startServer(t, be), func(cfg *Config) { cfg.TLS = TLSStartTLS })
	if _, err := c.Send(context.Background(), testMsg()); err == nil {
		t.Fatal("sent without STARTTLS under the starttls policy")
	}
	if be.data != nil {
		t.Fatal("message delivered in clear text")
	}
}

func TestClosedPortRetries(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	c := newChannel(t, port, nil)
	retry, err := c.Send(context.Background(), testMsg())
	if err == nil || !retry {
		t.Fatalf("closed port: retry=%v err=%v", retry, err)
	}
}

func TestCancelledContextNoRetry(t *testing.T) {
	be := &backend{}
	c := newChannel(t, startServer(t, be), nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	retry, err := c.Send(ctx, testMsg())
	if err == nil || retry || !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: retry=%v err=%v", retry, err)
	}
}

func TestNewValidates(t *testing.T) {
	ok := Config{Host: "smtp.example.com", From: "fb@example.com", To: []string{"a@example.com"}}
	if c, err := New(ok); err != nil || c.port != 587 || c.policy != TLSStartTLS {
		t.Fatalf("defaults: %+v %v", c, err)
	}
	if c, _ := New(Config{Host: "h", From: "fb@example.com", TLS: "tls"}); c.port != 465 {
		t.Errorf("implicit tls port %d", c.port)
	}
	if _, err := New(Config{Host: "::1", From: "fb@example.com"}); err != nil {
		t.Errorf("ipv6 host: %v", err)
	}
	for _, tc := range []struct {
		mod   func(*Config)
		field string
	}{
		{func(c *Config) { c.Host = "" }, "host"},
		{func(c *Config) { c.Host = "smtp.example.com:25" }, "host"},
		{func(c *Config) { c.Port = 70000 }, "port"},
		{func(c *Config) { c.TLS = "ssl3" }, "tls"},
		{func(c *Config) { c.From = "" }, "from"},
		{func(c *Config) { c.From = "not an address" }, "from"},
		{func(c *Config) { c.To = []string{"bad"} }, "to"},
		{func(c *Config) { c.Password = "x" }, "username"},
		{func(c *Config) { c.Timeout = -time.Second }, "timeout"},
	} {
		cfg := ok
		tc.mod(&cfg)
		if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("want error naming %q, got %v", tc.field, err)
		}
	}
	c, _ := New(Config{Host: "h", From: "fb@example.com"})
	if _, err := c.Send(context.Background(), testMsg()); err == nil || !strings.Contains(err.Error(), "to") {
		t.Errorf("send with no recipients: %v", err)
	}
}
