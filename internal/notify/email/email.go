// Package email delivers firebreak notifications by SMTP, as multipart
// text + HTML mail carrying the one-click acknowledge and resolve links.
package email

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"net"
	"net/mail"
	"net/textproto"
	"strconv"
	"strings"
	texttemplate "text/template"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/firebreak/firebreak/internal/notify"
)

// TLS policies.
const (
	// TLSStartTLS requires STARTTLS; delivery fails if the server lacks it.
	TLSStartTLS = "starttls"
	// TLSOpportunistic uses STARTTLS when offered, plain text otherwise.
	TLSOpportunistic = "opportunistic"
	// TLSNone never encrypts (for a relay on localhost).
	TLSNone = "none"
	// TLSImplicit speaks TLS from the first byte (SMTPS, usually port 465).
	TLSImplicit = "tls"
)

// Config configures an email channel.
type Config struct {
	Host string // SMTP server host name; required
	// Port defaults to 465 for TLSImplicit, 25 for TLSNone and 587 otherwise.
	Port int
	// Username and Password enable SMTP AUTH (PLAIN, or LOGIN when that is
	// all the server offers). Credentials are only sent over TLS unless
	// AllowInsecureAuth is set.
	Username, Password string
	AllowInsecureAuth  bool
	// From is the sender, e.g. "Firebreak <firebreak@example.com>"; required.
	From string
	// TLS is one of "starttls" (default), "opportunistic", "none", "tls".
	TLS string
	// TLSConfig overrides the TLS settings (e.g. RootCAs); optional. Its
	// ServerName defaults to Host.
	TLSConfig *tls.Config
	// Timeout bounds connecting and each SMTP command; default 15s.
	Timeout time.Duration
	// HELO is the name sent in EHLO; default "localhost".
	HELO string
	// To are the recipients Send delivers to; SendTo takes its own.
	To []string
}

// Channel sends mail through one SMTP server.
type Channel struct {
	host     string
	port     int
	user     string
	pass     string
	insecure bool
	from     string
	domain   string // of From, for Message-IDs
	policy   string
	tlsConf  *tls.Config
	timeout  time.Duration
	helo     string
	to       []string
}

var _ notify.Channel = (*Channel)(nil)

// New validates cfg and returns a channel.
func New(cfg Config) (*Channel, error) {
	if cfg.Host == "" || strings.ContainsAny(cfg.Host, " /@[]") || (strings.Contains(cfg.Host, ":") && net.ParseIP(cfg.Host) == nil) {
		return nil, fmt.Errorf("email: host: %q is not a host name", cfg.Host)
	}
	policy := strings.ToLower(cfg.TLS)
	if policy == "" {
		policy = TLSStartTLS
	}
	port := cfg.Port
	switch policy {
	case TLSStartTLS, TLSOpportunistic:
		if port == 0 {
			port = 587
		}
	case TLSNone:
		if port == 0 {
			port = 25
		}
	case TLSImplicit:
		if port == 0 {
			port = 465
		}
	default:
		return nil, fmt.Errorf("email: tls: %q is not starttls, opportunistic, none or tls", cfg.TLS)
	}
	if port < 1 || port > 65535 {
		return nil, fmt.Errorf("email: port: %d out of range", cfg.Port)
	}
	if cfg.Password != "" && cfg.Username == "" {
		return nil, errors.New("email: username: required when a password is set")
	}
	if cfg.From == "" {
		return nil, errors.New("email: from: required")
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("email: from: %w", err)
	}
	to, err := parseRecipients(cfg.To)
	if err != nil {
		return nil, err
	}
	if cfg.Timeout < 0 {
		return nil, errors.New("email: timeout: must not be negative")
	}
	timeout := cfg.Timeout
	if timeout == 0 {
		timeout = 15 * time.Second
	}
	var tc *tls.Config
	if cfg.TLSConfig != nil {
		tc = cfg.TLSConfig.Clone()
	} else {
		tc = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if tc.ServerName == "" {
		tc.ServerName = cfg.Host
	}
	helo := cfg.HELO
	if helo == "" {
		helo = "localhost"
	}
	domain := from.Address[strings.LastIndexByte(from.Address, '@')+1:]
	return &Channel{
		host: cfg.Host, port: port, user: cfg.Username, pass: cfg.Password, insecure: cfg.AllowInsecureAuth,
		from: from.String(), domain: domain, policy: policy, tlsConf: tc, timeout: timeout, helo: helo, to: to,
	}, nil
}

func parseRecipients(list []string) ([]string, error) {
	out := make([]string, 0, len(list))
	for _, r := range list {
		a, err := mail.ParseAddress(r)
		if err != nil {
			return nil, fmt.Errorf("email: to: %q: %w", r, err)
		}
		out = append(out, a.String())
	}
	return out, nil
}

// Kind returns "email".
func (c *Channel) Kind() string { return "email" }

// Send mails m to the configured recipients.
func (c *Channel) Send(ctx context.Context, m notify.Message) (retry bool, err error) {
	if len(c.to) == 0 {
		return false, errors.New("email: to: no recipients configured")
	}
	return c.send(ctx, c.to, m)
}

// SendTo mails m to the given recipients (e.g. the one person a page is for),
// instead of the configured ones.
func (c *Channel) SendTo(ctx context.Context, to []string, m notify.Message) (retry bool, err error) {
	rcpts, err := parseRecipients(to)
	if err != nil {
		return false, err
	}
	if len(rcpts) == 0 {
		return false, errors.New("email: to: no recipients")
	}
	return c.send(ctx, rcpts, m)
}

func (c *Channel) send(ctx context.Context, to []string, m notify.Message) (bool, error) {
	msg, err := c.build(to, m)
	if err != nil {
		return false, err
	}
	client, err := c.client()
	if err != nil {
		return false, fmt.Errorf("email: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 2*c.timeout)
	defer cancel()
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		return Classify(err), fmt.Errorf("email: %w", err)
	}
	return false, nil
}

func (c *Channel) client() (*gomail.Client, error) {
	opts := []gomail.Option{
		gomail.WithPort(c.port),
		gomail.WithTimeout(c.timeout),
		gomail.WithHELO(c.helo),
		gomail.WithTLSConfig(c.tlsConf),
	}
	switch c.policy {
	case TLSStartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case TLSOpportunistic:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL())
	}
	if c.user != "" {
		auth := gomail.SMTPAuthPlain
		if c.insecure {
			auth = gomail.SMTPAuthPlainNoEnc
		}
		opts = append(opts, gomail.WithSMTPAuth(auth), gomail.WithUsername(c.user), gomail.WithPassword(c.pass))
	}
	return gomail.NewClient(c.host, opts...)
}

// Subject returns "[P0] Title (status)".
func Subject(m notify.Message) string {
	s := strings.Join(strings.Fields(m.Title), " ")
	if m.Level != "" {
		s = "[" + m.Level + "] " + s
	}
	if m.Status != "" {
		s += " (" + m.Status + ")"
	}
	return s
}

// MessageID returns the Message-ID (without angle brackets) used for a
// message with the given idempotency key: the same key always gives the same
// ID, so a retried delivery is recognisable as a duplicate by mail systems
// and people. It is empty for an empty key.
func MessageID(idempotencyKey, domain string) string {
	if idempotencyKey == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(idempotencyKey))
	return "firebreak." + hex.EncodeToString(sum[:16]) + "@" + domain
}

func (c *Channel) build(to []string, m notify.Message) (*gomail.Msg, error) {
	msg := gomail.NewMsg()
	if err := msg.From(c.from); err != nil {
		return nil, fmt.Errorf("email: from: %w", err)
	}
	if err := msg.To(to...); err != nil {
		return nil, fmt.Errorf("email: to: %w", err)
	}
	msg.Subject(Subject(m))
	msg.SetDate()
	if id := MessageID(m.IdempotencyKey, c.domain); id != "" {
		msg.SetMessageIDWithValue(id)
	} else {
		msg.SetMessageID()
	}
	if m.IncidentID != 0 {
		msg.SetGenHeader("X-Firebreak-Incident", strconv.FormatInt(m.IncidentID, 10))
	}
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	msg.SetGenHeader("X-Auto-Response-Suppress", "All")
	msg.SetUserAgent("firebreak")

	data := view(m)
	var text, html bytes.Buffer
	if err := textTmpl.Execute(&text, data); err != nil {
		return nil, fmt.Errorf("email: text body: %w", err)
	}
	if err := htmlTmpl.Execute(&html, data); err != nil {
		return nil, fmt.Errorf("email: html body: %w", err)
	}
	msg.SetBodyString(gomail.TypeTextPlain, text.String())
	msg.AddAlternativeString(gomail.TypeTextHTML, html.String())
	return msg, nil
}

type viewData struct {
	notify.Message
	Subject              string
	AckWord, ResolveWord string
	OpenWord             string
	HasLinks             bool
}

func view(m notify.Message) viewData {
	ack, resolve, open := notify.Words(m.Lang)
	return viewData{
		Message: m, Subject: Subject(m), AckWord: ack, ResolveWord: resolve, OpenWord: open,
		HasLinks: m.AckURL != "" || m.ResolveURL != "" || m.URL != "",
	}
}

var textTmpl = texttemplate.Must(texttemplate.New("text").Parse(`{{.Subject}}
{{if .LevelName}}{{.LevelName}}
{{end}}{{if .Service}}Service: {{.Service}}
{{end}}
{{with .Body}}{{.}}

{{end}}{{with .AckURL}}{{$.AckWord}}: {{.}}
{{end}}{{with .ResolveURL}}{{$.ResolveWord}}: {{.}}
{{end}}{{with .URL}}{{$.OpenWord}}: {{.}}
{{end}}`))

var htmlTmpl = htmltemplate.Must(htmltemplate.New("html").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{{.Subject}}</title></head>
<body style="font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;font-size:14px;color:#1f2328">
<h2 style="margin:0 0 4px 0">{{with .Level}}[{{.}}] {{end}}{{.Title}}</h2>
<p style="margin:0 0 12px 0;color:#59636e">{{.LevelName}}{{with .Status}} · {{.}}{{end}}{{with .Service}} · {{.}}{{end}}</p>
{{with .Body}}<pre style="white-space:pre-wrap;font-family:inherit;margin:0 0 16px 0">{{.}}</pre>{{end}}
{{if .HasLinks}}<p>{{with .AckURL}}<a href="{{.}}" style="display:inline-block;padding:8px 14px;margin-right:8px;background:#1f6feb;color:#fff;text-decoration:none;border-radius:6px">{{$.AckWord}}</a>{{end}}{{with .ResolveURL}}<a href="{{.}}" style="display:inline-block;padding:8px 14px;margin-right:8px;background:#2da44e;color:#fff;text-decoration:none;border-radius:6px">{{$.ResolveWord}}</a>{{end}}{{with .URL}}<a href="{{.}}" style="display:inline-block;padding:8px 14px">{{$.OpenWord}}</a>{{end}}</p>{{end}}
</body></html>
`))

// Classify reports whether an SMTP delivery error is worth retrying:
// connection trouble, timeouts and 4xx replies are; 5xx replies (unknown
// mailbox, relay denied, authentication failed, message rejected) and
// problems with the message itself are not. A cancelled context is not.
func Classify(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, context.Canceled) {
		return false
	}
	var se *gomail.SendError
	if errors.As(err, &se) {
		if code := se.ErrorCode(); code != 0 {
			return code < 500
		}
		switch se.Reason {
		case gomail.ErrGetSender, gomail.ErrGetRcpts, gomail.ErrNoUnencoded:
			return false
		}
		// No SMTP code: the connection broke or timed out mid-transaction.
		return true
	}
	var pe *textproto.Error // a reply during dial/EHLO/STARTTLS/AUTH
	if errors.As(err, &pe) {
		return pe.Code < 500
	}
	return true
}
