// Package teams delivers firebreak notifications to Microsoft Teams through a
// Workflows (Power Automate) "post to a channel when a webhook request is
// received" URL, as an Adaptive Card with Action.OpenUrl buttons for the
// one-click acknowledge and resolve links. (Office 365 connector webhooks are
// retired; Workflows URLs accept the same message/attachments envelope.)
package teams

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/firebreak/firebreak/internal/notify"
)

// Config configures a Teams channel.
type Config struct {
	// WebhookURL is the Workflows HTTP trigger URL (it carries its own signature).
	WebhookURL string
	// Client is the HTTP client; nil means notify.DefaultClient.
	Client *http.Client
}

// Channel posts to one Teams Workflows webhook.
type Channel struct {
	url    string
	client *http.Client
}

var _ notify.Channel = (*Channel)(nil)

// New validates cfg and returns a channel.
func New(cfg Config) (*Channel, error) {
	if err := notify.CheckURL(cfg.WebhookURL); err != nil {
		return nil, fmt.Errorf("%s: webhook_url: %w", "teams", err)
	}
	return &Channel{url: cfg.WebhookURL, client: cfg.Client}, nil
}

// Kind returns "teams".
func (c *Channel) Kind() string { return "teams" }

// Send posts m. Workflows answers 202 Accepted (some tenants 200); 429 and 5xx
// are retried, other 4xx (bad or revoked URL, malformed card) are permanent.
func (c *Channel) Send(ctx context.Context, m notify.Message) (retry bool, err error) {
	_, retry, err = notify.PostJSON(ctx, c.client, c.url, Payload(m), nil)
	if err != nil {
		return retry, fmt.Errorf("teams: %w", err)
	}
	return false, nil
}

// Adaptive Card JSON, only what firebreak uses.
type (
	envelope struct {
		Type        string       `json:"type"`
		Attachments []attachment `json:"attachments"`
	}
	attachment struct {
		ContentType string `json:"contentType"`
		ContentURL  any    `json:"contentUrl"`
		Content     card   `json:"content"`
	}
	card struct {
		Schema  string         `json:"$schema"`
		Type    string         `json:"type"`
		Version string         `json:"version"`
		Body    []textBlock    `json:"body"`
		Actions []action       `json:"actions,omitempty"`
		MSTeams map[string]any `json:"msteams,omitempty"`
	}
	textBlock struct {
		Type     string `json:"type"`
		Text     string `json:"text"`
		Wrap     bool   `json:"wrap"`
		Size     string `json:"size,omitempty"`
		Weight   string `json:"weight,omitempty"`
		Color    string `json:"color,omitempty"`
		IsSubtle bool   `json:"isSubtle,omitempty"`
		Spacing  string `json:"spacing,omitempty"`
	}
	action struct {
		Type  string `json:"type"`
		Title string `json:"title"`
		URL   string `json:"url"`
		Style string `json:"style,omitempty"`
	}
)

// Payload builds the webhook JSON body for m.
func Payload(m notify.Message) any {
	ack, resolve, open := notify.Words(m.Lang)
	title := Escape(strings.Join(strings.Fields(m.Title), " "))
	if m.Level != "" {
		title = `\[` + Escape(m.Level) + `\] ` + title
	}
	color := "default"
	switch m.Level {
	case "P0", "P1":
		color = "attention"
	case "P2":
		color = "warning"
	}
	body := []textBlock{{Type: "TextBlock", Text: title, Wrap: true, Size: "Large", Weight: "Bolder", Color: color}}
	var facts []string
	for _, s := range []string{m.LevelName, m.Status, m.Service} {
		if s != "" {
			facts = append(facts, Escape(s))
		}
	}
	if len(facts) > 0 {
		body = append(body, textBlock{Type: "TextBlock", Text: strings.Join(facts, " · "), Wrap: true, IsSubtle: true, Spacing: "None"})
	}
	if b := strings.TrimSpace(m.Body); b != "" {
		// A blank line between lines makes Teams' markdown keep the breaks.
		body = append(body, textBlock{Type: "TextBlock", Text: strings.ReplaceAll(Escape(b), "\n", "\n\n"), Wrap: true})
	}
	var actions []action
	if m.AckURL != "" {
		actions = append(actions, action{Type: "Action.OpenUrl", Title: ack, URL: m.AckURL, Style: "positive"})
	}
	if m.ResolveURL != "" {
		actions = append(actions, action{Type: "Action.OpenUrl", Title: resolve, URL: m.ResolveURL})
	}
	if m.URL != "" {
		actions = append(actions, action{Type: "Action.OpenUrl", Title: open, URL: m.URL})
	}
	return envelope{
		Type: "message",
		Attachments: []attachment{{
			ContentType: "application/vnd.microsoft.card.adaptive",
			Content: card{
				Schema:  "http://adaptivecards.io/schemas/adaptive-card.json",
				Type:    "AdaptiveCard",
				Version: "1.4",
				Body:    body,
				Actions: actions,
				MSTeams: map[string]any{"width": "Full"},
			},
		}},
	}
}

// Escape backslash-escapes the characters Adaptive Card markdown uses for
// links and emphasis, so incident text cannot forge a [label](url) link.
func Escape(s string) string {
	return strings.NewReplacer(`\`, `\\`, "[", `\[`, "]", `\]`, "*", `\*`, "_", `\_`).Replace(s)
}
