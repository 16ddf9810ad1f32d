// Package notify defines how firebreak talks to people: one Message, and one small
// Channel interface that every delivery method (email, webhook, Slack, Microsoft
// Teams, DingTalk, Feishu/Lark, WeCom, SMS/voice) implements in its own package.
package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// Message is one notification about an incident, already in the recipient's language.
type Message struct {
	IncidentID int64  `json:"incident_id"`
	Title      string `json:"title"`      // one line: the incident's title
	Level      string `json:"level"`      // P0..P3
	LevelName  string `json:"level_name"` // e.g. "Level 1 — critical" / "一级事故"
	Status     string `json:"status"`     // triggered, acknowledged, ...
	Service    string `json:"service,omitempty"`
	Body       string `json:"body"` // plain text, may span lines
	URL        string `json:"url"`  // the incident page
	// AckURL and ResolveURL are signed, expiring, single-use one-click links.
	AckURL     string `json:"ack_url,omitempty"`
	ResolveURL string `json:"resolve_url,omitempty"`
	// MentionPhones are the on-call people's phone numbers, for platforms that
	// @-mention by phone (DingTalk, WeCom).
	MentionPhones []string `json:"-"`
	// Lang is "en" or "zh"; channels use it for their few fixed words.
	Lang string `json:"-"`
	// IdempotencyKey is stable for one (incident, step, person, method) delivery.
	IdempotencyKey string `json:"idempotency_key,omitempty"`
}

// Channel delivers messages one way. Send reports whether a failure is worth
// retrying (network trouble, 5xx, rate limits) or permanent (bad address, 4xx).
type Channel interface {
	Kind() string
	Send(ctx context.Context, m Message) (retry bool, err error)
}

// Words returns the fixed words channels put in messages, in lang.
func Words(lang string) (ack, resolve, open string) {
	if lang == "zh" {
		return "确认", "解决", "查看事故"
	}
	return "Acknowledge", "Resolve", "Open incident"
}

// CheckURL reports what is wrong with a delivery URL, which must be an absolute
// http(s) URL; channels prefix the error with their kind and field.
func CheckURL(raw string) error {
	if strings.TrimSpace(raw) == "" {
		return errors.New("required")
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("must be an absolute http(s) URL")
	}
	return nil
}

// OneLine collapses s to one line of single spaces.
func OneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// Truncate cuts s to at most max bytes on a rune boundary, ending in "…".
func Truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// LinkURL returns u trimmed if it is an http(s) URL, else "".
func LinkURL(u string) string {
	u = strings.TrimSpace(u)
	p, err := url.Parse(u)
	if u == "" || err != nil || (p.Scheme != "http" && p.Scheme != "https") {
		return ""
	}
	return u
}

// MarkdownLinkURL is LinkURL made safe as a markdown link target.
func MarkdownLinkURL(u string) string {
	return strings.NewReplacer(" ", "%20", "(", "%28", ")", "%29").Replace(LinkURL(u))
}

// DefaultClient is used by channels given no client: bounded, no redirects followed.
var DefaultClient = &http.Client{
	Timeout: 15 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	},
}

// PostJSON sends v as JSON to url and classifies the answer: success is 2xx;
// 408, 425, 429 and 5xx and transport errors are retryable; other statuses are
// permanent. It returns the response body (at most 64 KB) for channels whose
// API reports errors inside a 200 answer.
func PostJSON(ctx context.Context, client *http.Client, url string, v any, header http.Header) (body []byte, retry bool, err error) {
	payload, err := json.Marshal(v)
	if err != nil {
		return nil, false, fmt.Errorf("encode message: %w", err)
	}
	return Post(ctx, client, url, "application/json", payload, header)
}

// Post is PostJSON for a body already encoded.
func Post(ctx context.Context, client *http.Client, url, contentType string, payload []byte, header http.Header) (body []byte, retry bool, err error) {
	if client == nil {
		client = DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(payload))
	if err != nil {
		return nil, false, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("User-Agent", "firebreak")
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	resp, err := client.Do(req)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return nil, false, err
		}
		return nil, true, fmt.Errorf("post: %w", err)
	}
	defer resp.Body.Close()
	body, _ = io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	switch s := resp.StatusCode; {
	case s >= 200 && s < 300:
		return body, false, nil
	case s == 408 || s == 425 || s == 429 || s >= 500:
		return body, true, &StatusError{Status: s, Body: string(body)}
	default:
		return body, false, &StatusError{Status: s, Body: string(body)}
	}
}

// StatusError is a non-2xx answer.
type StatusError struct {
	Status int
	Body   string
}

func (e *StatusError) Error() string {
	b := e.Body
	if len(b) > 200 {
		b = b[:200] + "…"
	}
	return fmt.Sprintf("http %d: %s", e.Status, b)
}
