package feishu

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
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

// bot is a fake Feishu bot: it checks the body's signature exactly as Feishu
// does when secret is set, then answers with status and answer.
func bot(t *testing.T, secret string, status int, answer string) (*httptest.Server, func() []map[string]any) {
	t.Helper()
	var mu sync.Mutex
	var got []map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/open-apis/bot/v2/hook/abc" {
			t.Errorf("request %s %s", r.Method, r.URL.Path)
		}
		raw, _ := io.ReadAll(r.Body)
		var p map[string]any
		if err := json.Unmarshal(raw, &p); err != nil {
			t.Errorf("body %s: %v", raw, err)
		}
		if secret != "" {
			ts, ok := p["timestamp"].(string)
			if !ok {
				t.Errorf("timestamp must be a JSON string: %s", raw)
			}
			if _, err := strconv.ParseInt(ts, 10, 64); err != nil {
				t.Errorf("timestamp %q", ts)
			}
			mac := hmac.New(sha256.New, []byte(ts+"\n"+secret))
			want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
			if p["sign"] != want {
				t.Errorf("sign = %v, want %q", p["sign"], want)
				w.Write([]byte(`{"code":19021,"msg":"sign match fail or timestamp is not within one hour from current time"}`))
				return
			}
		} else if _, ok := p["sign"]; ok {
			t.Errorf("unexpected sign without secret: %s", raw)
		}
		mu.Lock()
		got = append(got, p)
		mu.Unlock()
		w.WriteHeader(status)
		w.Write([]byte(answer))
	}))
	t.Cleanup(srv.Close)
	return srv, func() []map[string]any { mu.Lock(); defer mu.Unlock(); return append([]map[string]any(nil), got...) }
}

func msg() notify.Message {
	return notify.Message{
		Title:         "Checkout errors",
		Level:         "P1",
		LevelName:     "Level 2 — major",
		Status:        "triggered",
		Service:       "checkout_api",
		Body:          "5xx *rate* 12%\n<at id=all></at>",
		URL:           "https://fb.example.com/incidents/7",
		AckURL:        "https://fb.example.com/a/ack?t=abc",
		ResolveURL:    "https://fb.example.com/a/resolve?t=def",
		MentionPhones: []string{"13800000001"},
		Lang:          "en",
	}
}

const hook = "/open-apis/bot/v2/hook/abc"

func TestSendSignedCard(t *testing.T) {
	srv, got := bot(t, "SECtest", 200, `{"code":0,"msg":"success","data":{}}`)
	c, err := New(srv.URL+hook, "SECtest", srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	before := time.Now().Unix()
	if retry, err := c.Send(context.Background(), msg()); err != nil || retry {
		t.Fatalf("Send = %v, %v", retry, err)
	}
	after := time.Now().Unix()
	p := got()[0]
	ts, _ := strconv.ParseInt(p["timestamp"].(string), 10, 64)
	if ts < before || ts > after {
		t.Errorf("timestamp %d not in seconds [%d,%d]", ts, before, after)
	}
	if p["msg_type"] != "interactive" {
		t.Errorf("msg_type %v", p["msg_type"])
	}
	raw, _ := json.Marshal(p["card"])
	var card Card
	json.Unmarshal(raw, &card)
	if card.Header.Template != "orange" || card.Header.Title.Tag != "plain_text" ||
		card.Header.Title.Content != "[P1 · Level 2 — major] Checkout errors" {
		t.Errorf("header %+v", card.Header)
	}
	if len(card.Elements) != 2 || card.Elements[0].Tag != "markdown" || card.Elements[1].Tag != "action" {
		t.Fatalf("elements %+v", card.Elements)
	}
	md := card.Elements[0].Content
	for _, w := range []string{"**Status:** triggered", "**Service:** checkout&#95;api", "5xx &#42;rate&#42; 12%", "&lt;at id=all&gt;&lt;/at&gt;"} {
		if !strings.Contains(md, w) {
			t.Errorf("markdown lacks %q:\n%s", w, md)
		}
	}
	want := map[string]string{
		"Acknowledge":   "https://fb.example.com/a/ack?t=abc",
		"Resolve":       "https://fb.example.com/a/resolve?t=def",
		"Open incident": "https://fb.example.com/incidents/7",
	}
	for _, b := range card.Elements[1].Actions {
		if b.Tag != "button" || want[b.Text.Content] != b.URL {
			t.Errorf("button %+v", b)
		}
		delete(want, b.Text.Content)
	}
	if len(want) != 0 {
		t.Errorf("missing buttons %v", want)
	}
}

// Known answer (empty message): openssl dgst -sha256 -hmac "$(printf '1700000000\nSECxyz')" -binary </dev/null | base64
func TestKnownAnswer(t *testing.T) {
	const want = "GnU9dobz1WousiKlH0LX6FYP8yrWNCgoJOvRhpMc8HY="
	if got := Sign("1700000000", "SECxyz"); got != want {
		t.Fatalf("Sign = %q, want %q", got, want)
	}
	srv, got := bot(t, "SECxyz", 200, `{"code":0,"msg":"success"}`)
	c := &Channel{URL: srv.URL + hook, Secret: "SECxyz", Client: srv.Client(),
		Now: func() time.Time { return time.UnixMilli(1700000000999) }}
	if _, err := c.Send(context.Background(), msg()); err != nil {
		t.Fatal(err)
	}
	p := got()[0]
	if p["timestamp"] != "1700000000" || p["sign"] != want {
		t.Errorf("timestamp %v sign %v", p["timestamp"], p["sign"])
	}
}

func TestChineseUnsigned(t *testing.T) {
	srv, got := bot(t, "", 200, `{"StatusCode":0,"StatusMessage":"success"}`)
	c, _ := New(srv.URL+hook, "", srv.Client())
	m := msg()
	m.Lang, m.Level = "zh", "P0"
	if _, err := c.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(got()[0]["card"])
	s := string(raw)
	for _, w := range []string{`"template":"red"`, `"content":"确认"`, `"content":"解决"`, `"content":"查看事故"`, "状态"} {
		if !strings.Contains(s, w) {
			t.Errorf("card lacks %s: %s", w, s)
		}
	}
	if len(escapeLimit(strings.Repeat("*", 5000), 1000)) > 1000 {
		t.Error("escapeLimit over budget")
	}
}

func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		answer string
		retry  bool
	}{
		{"rate 9499", 200, `{"code":9499,"msg":"too many request"}`, true},
		{"rate 11232", 200, `{"code":11232,"msg":"frequency limited"}`, true},
		{"sign", 200, `{"code":19021,"msg":"sign match fail"}`, false},
		{"keyword", 200, `{"code":19024,"msg":"Key Words Not Found"}`, false},
		{"old style", 200, `{"StatusCode":19024,"StatusMessage":"Key Words Not Found"}`, false},
		{"http 500", 500, `oops`, true},
		{"http 400", 400, `{"code":9499,"msg":"Bad Request"}`, false},
		{"not json", 200, `<html>`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, _ := bot(t, "", tc.status, tc.answer)
			c, _ := New(srv.URL+hook, "", srv.Client())
			retry, err := c.Send(context.Background(), msg())
			if err == nil || retry != tc.retry {
				t.Errorf("Send = %v, %v; want retry=%v and an error", retry, err, tc.retry)
			}
		})
	}
}

func TestNewValidation(t *testing.T) {
	for _, u := range []string{"", "ftp://x/y", "open.feishu.cn/open-apis/bot/v2/hook/x", "https://"} {
		if _, err := New(u, "", nil); err == nil || !strings.Contains(err.Error(), "URL") {
			t.Errorf("New(%q) = %v", u, err)
		}
	}
	if _, err := New("https://open.feishu.cn/open-apis/bot/v2/hook/x", "s", nil); err != nil {
		t.Error(err)
	}
	if k := (&Channel{}).Kind(); k != "feishu" {
		t.Error(k)
	}
	var _ notify.Channel = (*Channel)(nil)
}
