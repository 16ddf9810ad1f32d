// Package dingtalk delivers notifications to a DingTalk (钉钉) group through a
// custom robot webhook (https://oapi.dingtalk.com/robot/send?access_token=…).
//
// Messages are sent as markdown:
//
//	{"msgtype":"markdown","markdown":{"title":…,"text":…},"at":{"atMobiles":[…],"isAtAll":false}}
//
// DingTalk only renders an @-mention when the text itself contains "@<phone>",
// so every phone in Message.MentionPhones is listed in atMobiles and appended
// to the text.
//
// When Secret is set (the robot's "加签" security setting) the request is
// signed: timestamp is the current Unix time in milliseconds,
// sign = base64(HMAC-SHA256(key=secret, msg=timestamp+"\n"+secret)), and both
// are added to the webhook URL's query as timestamp=…&sign=… (URL-encoded).
// DingTalk rejects a timestamp more than an hour away from its own clock.
//
// DingTalk answers HTTP 200 with {"errcode":0,"errmsg":"ok"}; a non-zero
// errcode is an error. 130101 ("send too fast") is retryable; everything else
// (310000 signature/keyword/IP check, 300001 bad token, …) is permanent.
package dingtalk

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/firebreak/firebreak/internal/notify"
)

// Kind is the channel kind.
const Kind = "dingtalk"

// maxBody bounds the incident body (bytes) so the whole message stays well
// under DingTalk's message size limit.
const maxBody = 12000

// Channel posts to one DingTalk custom robot.
type Channel struct {
	URL    string       // robot webhook URL, with its access_token
	Secret string       // signing secret ("SEC…"), optional
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

// Kind returns "dingtalk".
func (c *Channel) Kind() string { return Kind }

type payload struct {
	MsgType  string   `json:"msgtype"`
	Markdown markdown `json:"markdown"`
	At       at       `json:"at"`
}

type markdown struct {
	Title string `json:"title"`
	Text  string `json:"text"`
}

type at struct {
	AtMobiles []string `json:"atMobiles"`
	IsAtAll   bool     `json:"isAtAll"`
}

type answer struct {
	ErrCode int    `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
}

// Error is a non-zero errcode in DingTalk's answer.
type Error struct {
	Code int
	Msg  string
}

func (e *Error) Error() string { return fmt.Sprintf("dingtalk: errcode %d: %s", e.Code, e.Msg) }

// Retryable reports whether DingTalk asked us to slow down.
func (e *Error) Retryable() bool { return e.Code == 130101 }

// Send posts m to the robot.
func (c *Channel) Send(ctx context.Context, m notify.Message) (bool, error) {
	if err := c.validate(); err != nil {
		return false, err
	}
	target, err := c.signedURL()
	if err != nil {
		return false, err
	}
	phones := cleanPhones(m.MentionPhones)
	p := payload{
		MsgType:  "markdown",
		Markdown: markdown{Title: title(m), Text: Text(m, phones)},
		At:       at{AtMobiles: phones},
	}
	if p.At.AtMobiles == nil {
		p.At.AtMobiles = []string{}
	}
	body, retry, err := notify.PostJSON(ctx, c.Client, target, p, nil)
	if err != nil {
		return retry, fmt.Errorf("dingtalk: %w", err)
	}
	var a answer
	if err := json.Unmarshal(body, &a); err != nil {
		return false, fmt.Errorf("dingtalk: unexpected answer: %.200q", body)
	}
	if a.ErrCode != 0 {
		e := &Error{Code: a.ErrCode, Msg: a.ErrMsg}
		return e.Retryable(), e
	}
	return false, nil
}

// signedURL adds timestamp and sign to the webhook URL when a secret is set.
func (c *Channel) signedURL() (string, error) {
	if c.Secret == "" {
		return c.URL, nil
	}
	u, err := url.Parse(c.URL)
	if err != nil {
		return "", errors.New("dingtalk: URL must be an http(s) URL")
	}
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	ts := strconv.FormatInt(now().UnixMilli(), 10)
	q := u.Query()
	q.Set("timestamp", ts)
	q.Set("sign", Sign(ts, c.Secret))
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// Sign returns base64(HMAC-SHA256(key=secret, msg=timestamp+"\n"+secret)),
// before URL encoding. timestamp is in milliseconds.
func Sign(timestamp, secret string) string {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte(timestamp + "\n" + secret))
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

func title(m notify.Message) string {
	t := strings.TrimSpace(m.Level + " " + notify.OneLine(m.Title))
	return notify.Truncate(t, 200)
}

// Text renders the markdown text of m, with an @phone for each mention.
func Text(m notify.Message, phones []string) string {
	ack, resolve, open := notify.Words(m.Lang)
	statusL, serviceL := "Status", "Service"
	if m.Lang == "zh" {
		statusL, serviceL = "状态", "服务"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "#### %s %s\n\n", emoji(m.Level), escape(badge(m)))
	fmt.Fprintf(&b, "**%s**\n\n", escape(notify.OneLine(m.Title)))
	if m.Status != "" {
		fmt.Fprintf(&b, "%s: %s\n\n", statusL, escape(notify.OneLine(m.Status)))
	}
	if m.Service != "" {
		fmt.Fprintf(&b, "%s: %s\n\n", serviceL, escape(notify.OneLine(m.Service)))
	}
	if body := strings.TrimSpace(m.Body); body != "" {
		var lines []string
		for _, l := range strings.Split(notify.Truncate(body, maxBody), "\n") {
			if l = strings.TrimSpace(l); l != "" {
				lines = append(lines, "> "+escape(l))
			}
		}
		b.WriteString(strings.Join(lines, "\n>\n"))
		b.WriteString("\n\n")
	}
	var links []string
	for _, l := range [][2]string{{ack, m.AckURL}, {resolve, m.ResolveURL}, {open, m.URL}} {
		if u := notify.MarkdownLinkURL(l[1]); u != "" {
			links = append(links, "["+l[0]+"]("+u+")")
		}
	}
	if len(links) > 0 {
		b.WriteString(strings.Join(links, " | "))
		b.WriteString("\n\n")
	}
	if len(phones) > 0 {
		for i, p := range phones {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString("@" + p)
		}
		b.WriteString("\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

func badge(m notify.Message) string {
	parts := []string{}
	if m.Level != "" {
		parts = append(parts, m.Level)
	}
	if m.LevelName != "" {
		parts = append(parts, notify.OneLine(m.LevelName))
	}
	return strings.Join(parts, " · ")
}

func emoji(level string) string {
	switch level {
	case "P0":
		return "🔴"
	case "P1":
		return "🟠"
	case "P2":
		return "🟡"
	}
	return "🔵"
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

var escaper = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", `*`, `\*`, `_`, `\_`, `[`, `\[`, `]`, `\]`,
	`#`, `\#`, `>`, `\>`, `<`, `&lt;`, `|`, `\|`, `~`, `\~`,
)

// escape neutralises markdown and inline HTML in user text. ('@' needs no
// care: DingTalk only mentions numbers listed in atMobiles.)
func escape(s string) string { return escaper.Replace(s) }
