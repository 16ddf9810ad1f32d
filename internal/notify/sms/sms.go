// Package sms delivers firebreak notifications as text messages and phone
// calls through Twilio's REST API (Programmable Messaging and Programmable
// Voice), or any gateway that speaks the same API at another base URL.
//
// A text message is
//
//	POST {BaseURL}/2010-04-01/Accounts/{AccountSID}/Messages.json
//	To=+8613800000001&From=+14155550100&Body=…
//
// (MessagingServiceSid=MG… instead of From when Config.From is a messaging
// service SID), form-encoded, with HTTP basic auth (account SID, auth token).
// The body is one short line in the recipient's language,
//
//	[firebreak] P0 #12 Checkout down — Acknowledge: https://…
//
// carrying the one-click acknowledge link, or the incident link when there is
// none; it is kept within Twilio's 1600-character limit by shortening the
// title, never the link.
//
// A call is the same POST to …/Calls.json with To, From and Twiml, an inline
// TwiML document
//
//	<Response><Say language="en-US">…</Say></Response>
//
// that reads the level, incident number and title twice (in zh-CN for Lang
// "zh") and speaks no URLs. Calls need a phone number as From.
//
// Twilio answers 201 Created on success. Errors come as a non-2xx status with
// a JSON body {"code":21211,"message":"…","status":400}; the code and message
// are put into the error. 429, 5xx and transport errors are retryable; other
// 4xx answers (bad number, unverified caller ID, bad credentials, …) are
// permanent.
package sms

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/firebreak/firebreak/internal/notify"
)

// Channel kinds.
const (
	KindSMS   = "sms"
	KindVoice = "voice"
)

// DefaultBaseURL is Twilio's REST API.
const DefaultBaseURL = "https://api.twilio.com"

// Limits, in characters (UTF-16 code units, as Twilio counts them).
const (
	// MaxBody is Twilio's limit on a message body.
	MaxBody = 1600
	// maxLink is the longest link put into a message; a longer one would
	// crowd out the text and is useless once cut, so it is left out.
	maxLink = 800
	// maxSpokenTitle bounds the title read out on a call, well within
	// Twilio's 4000-character limit on the Twiml parameter.
	maxSpokenTitle = 300
)

// Config configures a Twilio account.
type Config struct {
	// BaseURL is the API's base URL; empty means DefaultBaseURL.
	BaseURL string
	// AccountSID ("AC…") and AuthToken are the account's credentials.
	AccountSID string
	AuthToken  string
	// From is the sender: an E.164 phone number owned by the account, or a
	// messaging service SID ("MG…", text messages only).
	From string
	// Client is the HTTP client; nil means notify.DefaultClient.
	Client *http.Client
}

// Provider sends through one Twilio account.
type Provider struct {
	base       string
	sid, token string
	from       string // E.164 number, or "" when service is set
	service    string // messaging service SID
	client     *http.Client
}

// New validates cfg and returns a provider.
func New(cfg Config) (*Provider, error) {
	p := &Provider{base: strings.TrimSpace(cfg.BaseURL), client: cfg.Client}
	if p.base == "" {
		p.base = DefaultBaseURL
	}
	if err := notify.CheckURL(p.base); err != nil {
		return nil, fmt.Errorf("sms: base_url: %w", err)
	}
	if u, _ := url.Parse(p.base); u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("sms: base_url: must not have a query or fragment")
	}
	p.base = strings.TrimRight(p.base, "/")

	p.sid = strings.TrimSpace(cfg.AccountSID)
	switch {
	case p.sid == "":
		return nil, errors.New("sms: account_sid: required")
	case !alnum(p.sid):
		return nil, errors.New("sms: account_sid: must be letters and digits only")
	}
	p.token = cfg.AuthToken
	if strings.TrimSpace(p.token) == "" {
		return nil, errors.New("sms: auth_token: required")
	}

	from := strings.TrimSpace(cfg.From)
	switch {
	case from == "":
		return nil, errors.New("sms: from: required")
	case strings.HasPrefix(from, "MG"):
		if !alnum(from) || len(from) < 3 {
			return nil, errors.New("sms: from: messaging service SID must be letters and digits only")
		}
		p.service = from
	default:
		n, err := NormalizePhone(from)
		if err != nil {
			return nil, fmt.Errorf("sms: from: %w", err)
		}
		p.from = n
	}
	return p, nil
}

// SMS returns a channel of kind "sms" that texts the phone number to.
func (p *Provider) SMS(to string) (notify.Channel, error) {
	n, err := NormalizePhone(to)
	if err != nil {
		return nil, fmt.Errorf("sms: to: %w", err)
	}
	return &channel{p: p, kind: KindSMS, to: n}, nil
}

// Voice returns a channel of kind "voice" that calls the phone number to.
// It fails when the provider's From is a messaging service SID.
func (p *Provider) Voice(to string) (notify.Channel, error) {
	if p.from == "" {
		return nil, errors.New("voice: from: calls need a phone number, not a messaging service SID")
	}
	n, err := NormalizePhone(to)
	if err != nil {
		return nil, fmt.Errorf("voice: to: %w", err)
	}
	return &channel{p: p, kind: KindVoice, to: n}, nil
}

// NormalizePhone returns s as an E.164 number: "+" then 8 to 15 digits, the
// first not 0. s must start with "+" and the country code; spaces, hyphens,
// dots and parentheses between the digits are dropped, so "+86-138-0000-0001"
// and "+86 (138) 0000 0001" both give "+8613800000001".
func NormalizePhone(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errors.New("required")
	}
	if s[0] != '+' {
		return "", errors.New("must start with + and the country code (E.164)")
	}
	var b strings.Builder
	b.WriteByte('+')
	for _, r := range s[1:] {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')':
		default:
			return "", fmt.Errorf("invalid character %q in phone number", r)
		}
	}
	n := b.String()
	if d := len(n) - 1; d < 8 || d > 15 {
		return "", fmt.Errorf("must have 8 to 15 digits, not %d", d)
	}
	if n[1] == '0' {
		return "", errors.New("country code cannot start with 0")
	}
	return n, nil
}

// channel sends to one phone number, by text or by call.
type channel struct {
	p    *Provider
	kind string
	to   string
}

// Kind returns "sms" or "voice".
func (c *channel) Kind() string { return c.kind }

// Send texts or calls the number about m.
func (c *channel) Send(ctx context.Context, m notify.Message) (retry bool, err error) {
	form := url.Values{"To": {c.to}}
	var resource string
	if c.kind == KindVoice {
		resource = "Calls.json"
		form.Set("From", c.p.from)
		form.Set("Twiml", TwiML(m))
	} else {
		resource = "Messages.json"
		if c.p.service != "" {
			form.Set("MessagingServiceSid", c.p.service)
		} else {
			form.Set("From", c.p.from)
		}
		form.Set("Body", Body(m))
	}
	endpoint := c.p.base + "/2010-04-01/Accounts/" + url.PathEscape(c.p.sid) + "/" + resource

	header := http.Header{}
	header.Set("Authorization", "Basic "+basicAuth(c.p.sid, c.p.token))
	header.Set("Accept", "application/json")
	if m.IdempotencyKey != "" {
		// Twilio's REST API has no idempotency key and ignores this header
		// (Twilio itself sends it on its webhooks); gateways and proxies in
		// front of an SMS provider may use it to drop duplicate deliveries.
		header.Set("I-Twilio-Idempotency-Token", m.IdempotencyKey)
	}

	body, retry, err := notify.Post(ctx, c.p.client, endpoint, "application/x-www-form-urlencoded", []byte(form.Encode()), header)
	if err != nil {
		var se *notify.StatusError
		if errors.As(err, &se) {
			if te := parseError(body, se); te != nil {
				err = te
			}
		}
		return retry, fmt.Errorf("%s: %w", c.kind, err)
	}
	return false, nil
}

// Error is an error answer from Twilio: its own error code and message, and
// the HTTP status it came with (the wrapped *notify.StatusError).
type Error struct {
	Code    int
	Message string
	Err     *notify.StatusError
}

func (e *Error) Error() string {
	return fmt.Sprintf("twilio error %d: %s (http %d)", e.Code, e.Message, e.Err.Status)
}

// Unwrap returns the *notify.StatusError.
func (e *Error) Unwrap() error { return e.Err }

// parseError reads Twilio's JSON error body; nil when it is not one.
func parseError(body []byte, se *notify.StatusError) *Error {
	var a struct {
		Code    json.Number `json:"code"`
		Message string      `json:"message"`
	}
	if json.Unmarshal(body, &a) != nil || (a.Code == "" && a.Message == "") {
		return nil
	}
	code, _ := strconv.Atoi(a.Code.String())
	return &Error{Code: code, Message: notify.Truncate(notify.OneLine(a.Message), 300), Err: se}
}

// Body returns the text message for m: one line, at most MaxBody characters.
func Body(m notify.Message) string {
	ack, _, open := notify.Words(m.Lang)
	colon := ": "
	if m.Lang == "zh" {
		colon = "："
	}
	var tail string
	if u := notify.LinkURL(m.AckURL); u != "" && length(u) <= maxLink {
		tail = " — " + ack + colon + u
	} else if u := notify.LinkURL(m.URL); u != "" && length(u) <= maxLink {
		tail = " — " + open + colon + u
	}
	head := strings.TrimSpace("[firebreak] " + headline(m))
	if s := notify.OneLine(m.Status); s != "" && s != "triggered" {
		head += " (" + s + ")"
	}
	return clip(head, MaxBody-length(tail)) + tail
}

// headline is "P0 #12 Title", leaving out what m lacks.
func headline(m notify.Message) string {
	var parts []string
	if l := notify.OneLine(m.Level); l != "" {
		parts = append(parts, l)
	}
	if m.IncidentID > 0 {
		parts = append(parts, "#"+strconv.FormatInt(m.IncidentID, 10))
	}
	if t := notify.OneLine(m.Title); t != "" {
		parts = append(parts, t)
	}
	return strings.Join(parts, " ")
}

// TwiML returns the call's TwiML document for m: the level, incident number
// and title, read twice, in English or (for Lang "zh") Mandarin.
func TwiML(m notify.Message) string {
	level := notify.OneLine(m.Level)
	if level == "" {
		level = notify.OneLine(m.LevelName)
	}
	title := clip(notify.OneLine(m.Title), maxSpokenTitle)
	var id string
	if m.IncidentID > 0 {
		id = strconv.FormatInt(m.IncidentID, 10)
	}

	lang, intro, again, sp := "en-US", "This is firebreak.", "Again:", " "
	line := strings.TrimSpace(level + " incident")
	if id != "" {
		line += " number " + id
	}
	if title != "" {
		line += ": " + title
	}
	line += "."
	if m.Lang == "zh" {
		lang, intro, again, sp = "zh-CN", "这里是 firebreak。", "再说一遍：", ""
		line = ""
		if level != "" {
			line = level + " 级"
		}
		line += "事故"
		if id != "" {
			line += " " + id + " 号"
		}
		if title != "" {
			line += "：" + title
		}
		line += "。"
	}

	var b strings.Builder
	b.WriteString(`<Response><Say language="`)
	b.WriteString(lang)
	b.WriteString(`">`)
	escape(&b, intro+sp+line+sp+again+sp+line)
	b.WriteString(`</Say></Response>`)
	return b.String()
}

func escape(b *strings.Builder, s string) {
	// EscapeText writes to a strings.Builder, which cannot fail.
	_ = xml.EscapeText(b, []byte(s))
}

// length is the length of s in UTF-16 code units, which is how Twilio counts
// characters.
func length(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// clip cuts s to at most max characters (UTF-16 code units) on a rune
// boundary, ending in "…".
func clip(s string, max int) string {
	if length(s) <= max {
		return s
	}
	if max <= 0 {
		return ""
	}
	n := 0
	for i, r := range s {
		if n+utf16.RuneLen(r)+1 > max { // +1 for "…"
			return s[:i] + "…"
		}
		n += utf16.RuneLen(r)
	}
	return s
}

func alnum(s string) bool {
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

// basicAuth is the credentials part of an HTTP basic Authorization header.
func basicAuth(user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
}
