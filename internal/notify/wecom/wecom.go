// Package wecom delivers notifications to a WeCom (企业微信) group through a
// group robot webhook (https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…).
// The key in the URL is the only credential: WeCom group robots do not sign
// requests, so Channel.Secret is ignored.
//
// The notification is a markdown message
//
//	{"msgtype":"markdown","markdown":{"content":…}}
//
// whose content WeCom limits to 4096 bytes of UTF-8. The level badge, title,
// status, service and the Acknowledge / Resolve / Open incident links are laid
// out first; the body fills whatever budget is left and is cut on a character
// boundary with "…", so the links always survive.
//
// WeCom markdown can only mention by user id (<@userid>), not by phone. So when
// Message.MentionPhones is set, Send posts a second, short text message
//
//	{"msgtype":"text","text":{"content":…,"mentioned_mobile_list":[…]}}
//
// right after the markdown one. If that second post fails, Send reports its
// error; a retry then resends both messages.
//
// WeCom answers {"errcode":0,"errmsg":"ok"}; a non-zero errcode is an error.
// 45009 (API frequency limit) is retryable; everything else (93000 bad key,
// 40058 bad content, …) is permanent.
package wecom

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/firebreak/firebreak/internal/notify"
)

// Kind is the channel kind.
const Kind = "wecom"

// Limits WeCom puts on message content, in bytes.
const (
	MaxMarkdown = 4096
	MaxText     = 2048
)

// Channel posts to one WeCom group robot.
type Channel struct {
	URL    string       // robot webhook URL, with its key
	Secret string       // unused: WeCom group robots do not sign requests
	Client *http.Client // nil means notify.DefaultClient
	Now    func() time.Time
}

// New checks the settings and returns a channel. secret is kept for symmetry
// with the other chat channels and is not used.
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

// Kind returns "wecom".
func (c *Channel) Kind() string { return Kind }

type markdownMsg struct {
	MsgType  string `json:"msgtype"`
	Markdown struct {
		Content string `json:"content"`
	} `json:"markdown"`
}

type textMsg struct {
	MsgType string `json:"msgtype"`
	Text    struct {
		Content             string   `json:"content"`
		MentionedMobileList []string `json:"mentioned_mobile_list"`
	} `json:"text"`
}

type answer struct {
	ErrCode int    `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
}

// Error is a non-zero errcode in WeCom's answer.
type Error struct {
	Code int
	Msg  string
}

func (e *Error) Error() string { return fmt.Sprintf("wecom: errcode %d: %s", e.Code, e.Msg) }

// Retryable reports whether WeCom rate-limited the request.
func (e *Error) Retryable() bool { return e.Code == 45009 }

// Send posts m to the robot, then the phone mentions if there are any.
func (c *Channel) Send(ctx context.Context, m notify.Message) (bool, error) {
	if err := c.validate(); err != nil {
		return false, err
	}
	var md markdownMsg
	md.MsgType = "markdown"
	md.Markdown.Content = Markdown(m)
	if retry, err := c.post(ctx, md); err != nil {
		return retry, err
	}
	phones := cleanPhones(m.MentionPhones)
	if len(phones) == 0 {
		return false, nil
	}
	var tm textMsg
	tm.MsgType = "text"
	tm.Text.Content = notify.Truncate(mentionText(m), MaxText)
	tm.Text.MentionedMobileList = phones
	if retry, err := c.post(ctx, tm); err != nil {
		return retry, fmt.Errorf("mention message: %w", err)
	}
	return false, nil
}

func (c *Channel) post(ctx context.Context, v any) (bool, error) {
	body, retry, err := notify.PostJSON(ctx, c.Client, c.URL, v, nil)
	if err != nil {
		return retry, fmt.Errorf("wecom: %w", err)
	}
	var a answer
	if err := json.Unmarshal(body, &a); err != nil {
		return false, fmt.Errorf("wecom: unexpected answer: %.200q", body)
	}
	if a.ErrCode != 0 {
		e := &Error{Code: a.ErrCode, Msg: a.ErrMsg}
		return e.Retryable(), e
	}
	return false, nil
}

// Markdown renders m as WeCom markdown of at most MaxMarkdown bytes.
func Markdown(m notify.Message) string {
	ack, resolve, open := notify.Words(m.Lang)
	statusL, serviceL := "Status", "Service"
	if m.Lang == "zh" {
		statusL, serviceL = "状态", "服务"
	}
	var head strings.Builder
	color := "comment"
	if m.Level == "P0" || m.Level == "P1" {
		color = "warning"
	}
	if b := badge(m); b != "" {
		fmt.Fprintf(&head, "<font color=\"%s\">**%s**</font> ", color, escapeLimit(b, 200))
	}
	fmt.Fprintf(&head, "**%s**", escapeLimit(notify.OneLine(m.Title), 1000))
	if m.Status != "" {
		fmt.Fprintf(&head, "\n> %s: <font color=\"comment\">%s</font>", statusL, escapeLimit(notify.OneLine(m.Status), 200))
	}
	if m.Service != "" {
		fmt.Fprintf(&head, "\n> %s: <font color=\"comment\">%s</font>", serviceL, escapeLimit(notify.OneLine(m.Service), 200))
	}
	var links []string
	for _, l := range [][2]string{{ack, m.AckURL}, {resolve, m.ResolveURL}, {open, m.URL}} {
		if u := notify.MarkdownLinkURL(l[1]); u != "" {
			links = append(links, "["+l[0]+"]("+u+")")
		}
	}
	tail := ""
	if len(links) > 0 {
		tail = "\n\n" + strings.Join(links, " | ")
	}
	out := head.String()
	if body := strings.TrimSpace(m.Body); body != "" {
		if budget := MaxMarkdown - len(out) - len(tail) - len("\n\n"); budget > len("…") {
			out += "\n\n" + escapeLimit(body, budget)
		}
	}
	// Only pathological titles or URLs can still overflow here.
	return notify.Truncate(out+tail, MaxMarkdown)
}

func mentionText(m notify.Message) string {
	s := notify.OneLine(m.Title)
	if m.Level != "" {
		s = "[" + m.Level + "] " + s
	}
	if u := notify.MarkdownLinkURL(m.URL); u != "" {
		s += "\n" + u
	}
	return s
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

// cleanPhones keeps non-empty, distinct phone numbers made of digits, '+' and '-'.
func cleanPhones(in []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, p := range in {
		p = strings.TrimSpace(p)
		if p == "" || seen[p] || strings.TrimLeft(p, "+-0123456789") != "" {
			continue
		}
		seen[p] = true
		out = append(out, p)
	}
	return out
}

// escaper neutralises markdown and the <font>/<@userid> tags in user text.
var escaper = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", `*`, `\*`, `_`, `\_`, `[`, `\[`, `]`, `\]`,
	`#`, `\#`, `>`, `\>`, `<`, `&lt;`, `|`, `\|`, `~`, `\~`,
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
