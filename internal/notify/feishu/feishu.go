// Package feishu delivers notifications to a Feishu / Lark group through a
// custom bot webhook (https://open.feishu.cn/open-apis/bot/v2/hook/…, or the
// open.larksuite.com equivalent).
//
// Messages are sent as an interactive card (msg_type "interactive"): a header
// with the level badge and title, coloured by level (P0 red, P1 orange, P2
// yellow, otherwise grey), a markdown element with status, service and body,
// and an action element with link buttons for Acknowledge, Resolve and Open
// incident. Feishu custom bots cannot @-mention by phone number, so
// Message.MentionPhones is not used.
//
// When Secret is set (the bot's "签名校验" setting) the body also carries
// "timestamp" (Unix seconds, as a string) and
// "sign" = base64(HMAC-SHA256(key=timestamp+"\n"+secret, msg="")), next to
// msg_type. Feishu rejects a timestamp more than an hour from its clock.
//
// Feishu answers {"code":0,"msg":"success"} (older deployments:
// {"StatusCode":0,"StatusMessage":"success"}); a non-zero code is an error.
// 9499 and 11232 (rate limits) are retryable; everything else (19021 bad
// signature, 19024 keyword check, …) is permanent.
package feishu

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/firebreak/firebreak/internal/notify"
)

// Kind is the channel kind.
const Kind = "feishu"

// maxBody bounds the incident body (bytes); Feishu limits a bot request to
// about 20 KB.
const maxBody = 8000

// Channel posts to one Feishu/Lark custom bot.
type Channel struct {
	URL    string       // bot webhook URL
	Secret string       // signing secret, optional
	Client *http.Client // nil means notify.DefaultClient
	Now    func() time.Time
}

// New checks the settings and returns a channel.
func New(webhookURL, secret string, client *http.Client) (*Channel, error) {
	c := &Channel{URL: webhookURL, Secret: secret, Client: client}
	if err := c.validate(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Channel) validate() error {
	if err := notify.CheckURL(c.URL); err != nil {
		return fmt.Errorf("%s: URL: %w", Kind, err)
	}
	return nil
}

// Kind returns "feishu".
func (c *Channel) Kind() string { return Kind }

// Payload is the JSON body sent to the bot.
type Payload struct {
	Timestamp string `json:"timestamp,omitempty"`
	Sign      string `json:"sign,omitempty"`
	MsgType   string `json:"msg_type"`
	Card      Card   `json:"card"`
}

// Card is a Feishu message card.
type Card struct {
	Config   CardConfig `json:"config"`
	Header   Header     `json:"header"`
	Elements []Element  `json:"elements"`
}

// CardConfig holds card display options.
type CardConfig struct {
	WideScreenMode bool `json:"wide_screen_mode"`
}

// Header is the card's coloured title bar.
type Header struct {
	Title    Text   `json:"title"`
	Template string `json:"template"`
}

// Text is a plain_text or lark_md text object.
type Text struct {
	Tag     string `json:"tag"`
	Content string `json:"content"`
}

// Element is a markdown element (Content) or an action element (Actions).
type Element struct {
	Tag     string   `json:"tag"`
	Content string   `json:"content,omitempty"`
	Actions []Button `json:"actions,omitempty"`
}

// Button is a link button.
type Button struct {
	Tag  string `json:"tag"`
	Text Text   `json:"text"`
	Type string `json:"type"`
	URL  string `json:"url"`
}

type answer struct {
	Code          *int   `json:"code"`
	Msg           string `json:"msg"`
	StatusCode    *int   `json:"StatusCode"`
	StatusMessage string `json:"StatusMessage"`
}

// Error is a non-zero code in Feishu's answer.
type Error struct {
	Code int
	Msg  string
}

func (e *Error) Error() string { return fmt.Sprintf("feishu: code %d: %s", e.Code, e.Msg) }

// Retryable reports whether Feishu rate-limited the request.
func (e *Error) Retryable() bool { return e.Code == 9499 || e.Code == 11232 }

// Send posts m to the bot.
func (c *Channel) Send(ctx context.Context, m notify.Message) (bool, error) {
	if err := c.validate(); err != nil {
		return false, err
	}
	p := Payload{MsgType: "interactive", Card: BuildCard(m)}
	if c.Secret != "" {
		now := time.Now
		if c.Now != nil {
			now = c.Now
		}
		p.Timestamp = strconv.FormatInt(now().Unix(), 10)
		p.Sign = Sign(p.Timestamp, c.Secret)
	}
	body, retry, err := notify.PostJSON(ctx, c.Client, c.URL, p, nil)
	if err != nil {
		return retry, fmt.Errorf("feishu: %w", err)
	}
	var a answer
	if err := json.Unmarshal(body, &a); err != nil {
		return false, fmt.Errorf("feishu: unexpected answer: %.200q", body)
	}
	switch {
	case a.Code != nil && *a.Code != 0:
		e := &Error{Code: *a.Code, Msg: a.Msg}
		return e.Retryable(), e
	case a.Code == nil && a.StatusCode != nil && *a.StatusCode != 0:
		e := &Error{Code: *a.StatusCode, Msg: a.StatusMessage}
		return e.Retryable(), e
	}
	return false, nil
}

// Sign returns base64(HMAC-SHA256(key=timestamp+"\n"+secret, msg="")).
// timestamp is in seconds.
func Sign(timestamp, secret string) string {
	h := hmac.New(sha256.New, []byte(timestamp+"\n"+secret))
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// BuildCard renders m as a card.
func BuildCard(m notify.Message) Card {
	ack, resolve, open := notify.Words(m.Lang)
	statusL, serviceL := "Status", "Service"
	if m.Lang == "zh" {
		statusL, serviceL = "状态", "服务"
	}
	title := notify.OneLine(m.Title)
	if b := badge(m); b != "" {
		title = "[" + b + "] " + title
	}
	var md []string
	if m.Status != "" {
		md = append(md, "**"+statusL+":** "+escape(notify.OneLine(m.Status)))
	}
	if m.Service != "" {
		md = append(md, "**"+serviceL+":** "+escape(notify.OneLine(m.Service)))
	}
	if body := strings.TrimSpace(m.Body); body != "" {
		md = append(md, "", escapeLimit(body, maxBody))
	}
	card := Card{
		Config: CardConfig{WideScreenMode: true},
		Header: Header{
			Title:    Text{Tag: "plain_text", Content: notify.Truncate(title, 500)},
			Template: template(m.Level),
		},
	}
	if len(md) > 0 {
		card.Elements = append(card.Elements, Element{Tag: "markdown", Content: strings.Join(md, "\n")})
	}
	var buttons []Button
	for _, l := range []struct{ text, url, typ string }{
		{ack, m.AckURL, "primary"},
		{resolve, m.ResolveURL, "default"},
		{open, m.URL, "default"},
	} {
		if u := notify.LinkURL(l.url); u != "" {
			buttons = append(buttons, Button{Tag: "button", Text: Text{Tag: "plain_text", Content: l.text}, Type: l.typ, URL: u})
		}
	}
	if len(buttons) > 0 {
		card.Elements = append(card.Elements, Element{Tag: "action", Actions: buttons})
	}
	if card.Elements == nil {
		card.Elements = []Element{}
	}
	return card
}

func template(level string) string {
	switch level {
	case "P0":
		return "red"
	case "P1":
		return "orange"
	case "P2":
		return "yellow"
	}
	return "grey"
}

func badge(m notify.Message) string {
	var parts []string
	if m.Level != "" {
		parts = append(parts, m.Level)
	}
	if m.LevelName != "" {
		parts = append(parts, notify.OneLine(m.LevelName))
	}
	return strings.Join(parts, " · ")
}

// escaper turns characters that Feishu card markdown interprets (emphasis,
// links, <at>/<font> tags) into HTML entities, which the card renders as the
// characters themselves.
var escaper = strings.NewReplacer(
	"&", "&amp;", "<", "&lt;", ">", "&gt;",
	"*", "&#42;", "_", "&#95;", "~", "&#126;", "`", "&#96;",
	"[", "&#91;", "]", "&#93;", "#", "&#35;",
)

func escape(s string) string { return escaper.Replace(s) }

// escapeLimit escapes s, keeping the result within max bytes: it stops at the
// last whole (escaped) character that fits and adds "…".
func escapeLimit(s string, max int) string {
	if e := escape(s); len(e) <= max {
		return e
	}
	var b strings.Builder
	budget := max - len("…")
	for _, r := range s {
		e := escape(string(r))
		if b.Len()+len(e) > budget {
			break
		}
		b.WriteString(e)
	}
	return b.String() + "…"
}
