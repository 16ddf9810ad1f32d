// Package slack delivers firebreak notifications to Slack through an incoming
// webhook (https://api.slack.com/messaging/webhooks), as Block Kit messages
// with link buttons for the one-click acknowledge and resolve links.
package slack

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/firebreak/firebreak/internal/notify"
)

// Config configures a Slack channel.
type Config struct {
	// WebhookURL is the incoming webhook URL (https://hooks.slack.com/services/...).
	WebhookURL string
	// Client is the HTTP client; nil means notify.DefaultClient.
	Client *http.Client
}

// Channel posts to one Slack incoming webhook.
type Channel struct {
	url    string
	client *http.Client
}

var _ notify.Channel = (*Channel)(nil)

// New validates cfg and returns a channel.
func New(cfg Config) (*Channel, error) {
	if err := notify.CheckURL(cfg.WebhookURL); err != nil {
		return nil, fmt.Errorf("%s: webhook_url: %w", "slack", err)
	}
	return &Channel{url: cfg.WebhookURL, client: cfg.Client}, nil
}

// Kind returns "slack".
func (c *Channel) Kind() string { return "slack" }

// Send posts m. Slack answers 200 "ok"; errors come as 4xx with a short text
// (invalid_payload, no_service, channel_not_found, ...) and are permanent;
// 429 and 5xx are retried.
func (c *Channel) Send(ctx context.Context, m notify.Message) (retry bool, err error) {
	_, retry, err = notify.PostJSON(ctx, c.client, c.url, Payload(m), nil)
	if err != nil {
		return retry, fmt.Errorf("slack: %w", err)
	}
	return false, nil
}

// Slack's limits on block text lengths.
const (
	maxHeader  = 150
	maxSection = 3000
	maxButton  = 75
	maxURL     = 3000
)

type (
	text struct {
		Type  string `json:"type"`
		Text  string `json:"text"`
		Emoji bool   `json:"emoji,omitempty"`
	}
	element struct {
		Type     string `json:"type"`
		Text     *text  `json:"text,omitempty"`
		URL      string `json:"url,omitempty"`
		ActionID string `json:"action_id,omitempty"`
		Style    string `json:"style,omitempty"`
	}
	block struct {
		Type     string `json:"type"`
		Text     *text  `json:"text,omitempty"`
		Elements []any  `json:"elements,omitempty"`
	}
	message struct {
		Text   string  `json:"text"`
		Blocks []block `json:"blocks"`
	}
)

// Payload builds the incoming-webhook JSON body for m.
func Payload(m notify.Message) any {
	ack, resolve, open := notify.Words(m.Lang)
	head := m.Title
	if m.Level != "" {
		head = "[" + m.Level + "] " + head
	}
	fallback := Escape(head)
	if m.Status != "" {
		fallback += " (" + Escape(m.Status) + ")"
	}

	blocks := []block{{Type: "header", Text: &text{Type: "plain_text", Text: truncate(notify.OneLine(head), maxHeader), Emoji: true}}}

	var ctx []string
	if m.LevelName != "" {
		ctx = append(ctx, Escape(m.LevelName))
	}
	if m.Status != "" {
		ctx = append(ctx, "*"+Escape(m.Status)+"*")
	}
	if m.Service != "" {
		ctx = append(ctx, "`"+Escape(strings.ReplaceAll(m.Service, "`", "'"))+"`")
	}
	if len(ctx) > 0 {
		blocks = append(blocks, block{Type: "context", Elements: []any{text{Type: "mrkdwn", Text: strings.Join(ctx, "  ·  ")}}})
	}
	if body := strings.TrimSpace(m.Body); body != "" {
		blocks = append(blocks, block{Type: "section", Text: &text{Type: "mrkdwn", Text: truncate(Escape(body), maxSection)}})
	}

	var buttons []any
	add := func(label, link, id, style string) {
		if link == "" || len(link) > maxURL {
			return
		}
		buttons = append(buttons, element{Type: "button", Text: &text{Type: "plain_text", Text: truncate(label, maxButton)}, URL: link, ActionID: id, Style: style})
	}
	add(ack, m.AckURL, "firebreak_ack", "primary")
	add(resolve, m.ResolveURL, "firebreak_resolve", "")
	add(open, m.URL, "firebreak_open", "")
	if len(buttons) > 0 {
		blocks = append(blocks, block{Type: "actions", Elements: buttons})
	}
	return message{Text: fallback, Blocks: blocks}
}

// Escape escapes the three characters Slack's mrkdwn treats as control
// characters (&, <, >), so user text cannot form links or mentions.
func Escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// truncate cuts s to at most n characters, marking the cut with "…".
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)[:n-1]
	// Do not leave half an HTML entity behind.
	if i := strings.LastIndexByte(string(r), '&'); i >= 0 && !strings.Contains(string(r)[i:], ";") {
		return string(r)[:i] + "…"
	}
	return string(r) + "…"
}
