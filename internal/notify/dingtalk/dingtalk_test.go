package dingtalk

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

type received struct {
	Query    map[string][]string
	RawQuery string
	Body     payload
}

// robot is a fake DingTalk robot: it checks the access token and, when secret
// is set, the signature exactly as DingTalk does, then answers with answer.
func robot(t *testing.T, secret string, status int, answer string) (*httptest.Server, func() []received) {
	t.Helper()
	var mu sync.Mutex
	var got []received
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/robot/send" {
			t.Errorf("request %s %s", r.Method, r.URL.Path)
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("content-type %q", ct)
		}
		q := r.URL.Query()
		if q.Get("access_token") != "tok123" {
			t.Errorf("access_token lost: %q", r.URL.RawQuery)
		}
		if secret != "" {
			ts := q.Get("timestamp")
			if _, err := strconv.ParseInt(ts, 10, 64); err != nil {
				t.Errorf("timestamp %q", ts)
			}
			mac := hmac.New(sha256.New, []byte(secret))
			mac.Write([]byte(ts + "\n" + secret))
			want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
			if q.Get("sign") != want {
				t.Errorf("sign = %q, want %q", q.Get("sign"), want)
				w.Write([]byte(`{"errcode":310000,"errmsg":"sign not match"}`))
				return
			}
		} else if q.Has("sign") || q.Has("timestamp") {
			t.Errorf("unexpected signature without secret: %q", r.URL.RawQuery)
		}
		raw, _ := io.ReadAll(r.Body)
		var p payload
		if err := json.Unmarshal(raw, &p); err != nil {
			t.Errorf("body %s: %v", raw, err)
		}
		mu.Lock()
		got = append(got, received{Query: q, RawQuery: r.URL.RawQuery, Body: p})
		mu.Unlock()
		w.WriteHeader(status)
		w.Write([]byte(answer))
	}))
	t.Cleanup(srv.Close)
	return srv, func() []received { mu.Lock(); defer mu.Unlock(); return append([]received(nil), got...) }
}

func msg() notify.Message {
	return notify.Message{
		Title:         "Checkout *errors* [prod]",
		Level:         "P0",
		LevelName:     "一级事故",
		Status:        "triggered",
		Service:       "checkout_api",
		Body:          "5xx rate 12%\nsince 10:02 <b>",
		URL:           "https://fb.example.com/incidents/7",
		AckURL:        "https://fb.example.com/a/ack?t=abc",
		ResolveURL:    "https://fb.example.com/a/resolve?t=def",
		MentionPhones: []string{"13800000001", " 13900000002 ", ""},
		Lang:          "zh",
	}
}

func TestSendSignedAndMentions(t *testing.T) {
	srv, got := robot(t, "SECtest", 200, `{"errcode":0,"errmsg":"ok"}`)
	c, err := New(srv.URL+"/robot/send?access_token=tok123", "SECtest", srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	before := time.Now().UnixMilli()
	retry, err := c.Send(context.Background(), msg())
	if err != nil || retry {
		t.Fatalf("Send = %v, %v", retry, err)
	}
	after := time.Now().UnixMilli()
	r := got()
	if len(r) != 1 {
		t.Fatalf("%d requests", len(r))
	}
	ts, _ := strconv.ParseInt(r[0].Query["timestamp"][0], 10, 64)
	if ts < before || ts > after {
		t.Errorf("timestamp %d not in ms [%d,%d]", ts, before, after)
	}
	p := r[0].Body
	if p.MsgType != "markdown" || p.At.IsAtAll {
		t.Errorf("payload %+v", p)
	}
	if strings.Join(p.At.AtMobiles, ",") != "13800000001,13900000002" {
		t.Errorf("atMobiles %v", p.At.AtMobiles)
	}
	text := p.Markdown.Text
	for _, want := range []string{
		"@13800000001", "@13900000002",
		"[确认](https://fb.example.com/a/ack?t=abc)",
		"[解决](https://fb.example.com/a/resolve?t=def)",
		"[查看事故](https://fb.example.com/incidents/7)",
		"P0 · 一级事故", `Checkout \*errors\* \[prod\]`, "状态: triggered", `服务: checkout\_api`,
		"&lt;b\\>",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
	if !strings.Contains(p.Markdown.Title, "Checkout") {
		t.Errorf("title %q", p.Markdown.Title)
	}
}

// Known answer: printf '%s\n%s' 1700000000000 SECxyz | openssl dgst -sha256 -hmac SECxyz -binary | base64
func TestKnownAnswer(t *testing.T) {
	const want = "0PUR1j8g85Xg3vlFV/UrEcxXfF5HpCAGzcjrNfyJoyg="
	if got := Sign("1700000000000", "SECxyz"); got != want {
		t.Fatalf("Sign = %q, want %q", got, want)
	}
	srv, got := robot(t, "SECxyz", 200, `{"errcode":0,"errmsg":"ok"}`)
	c := &Channel{URL: srv.URL + "/robot/send?access_token=tok123", Secret: "SECxyz", Client: srv.Client(),
		Now: func() time.Time { return time.Unix(1700000000, 0) }}
	if _, err := c.Send(context.Background(), msg()); err != nil {
		t.Fatal(err)
	}
	r := got()[0]
	if r.Query["timestamp"][0] != "1700000000000" || r.Query["sign"][0] != want {
		t.Errorf("query %v", r.Query)
	}
	if !strings.Contains(r.RawQuery, "sign=0PUR1j8g85Xg3vlFV%2FUrEcxXfF5HpCAGzcjrNfyJoyg%3D") {
		t.Errorf("sign not URL-encoded: %s", r.RawQuery)
	}
}

func TestUnsignedEnglish(t *testing.T) {
	srv, got := robot(t, "", 200, `{"errcode":0,"errmsg":"ok"}`)
	c, err := New(srv.URL+"/robot/send?access_token=tok123", "", srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	m := msg()
	m.Lang, m.MentionPhones = "en", nil
	if _, err := c.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	p := got()[0].Body
	for _, w := range []string{"[Acknowledge](", "[Resolve](", "[Open incident]("} {
		if !strings.Contains(p.Markdown.Text, w) {
			t.Errorf("text lacks %q", w)
		}
	}
	if p.At.AtMobiles == nil || len(p.At.AtMobiles) != 0 || strings.Contains(p.Markdown.Text, "@") {
		t.Errorf("unexpected mentions %+v", p)
	}
}

func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		answer string
		retry  bool
	}{
		{"too fast", 200, `{"errcode":130101,"errmsg":"send too fast"}`, true},
		{"keyword", 200, `{"errcode":310000,"errmsg":"keywords not in content"}`, false},
		{"token", 200, `{"errcode":300001,"errmsg":"token is not exist"}`, false},
		{"http 500", 500, `oops`, true},
		{"http 400", 400, `bad`, false},
		{"not json", 200, `<html>`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, _ := robot(t, "", tc.status, tc.answer)
			c, _ := New(srv.URL+"/robot/send?access_token=tok123", "", srv.Client())
			retry, err := c.Send(context.Background(), msg())
			if err == nil || retry != tc.retry {
				t.Errorf("Send = %v, %v; want retry=%v and an error", retry, err, tc.retry)
			}
		})
	}
}

func TestNewValidation(t *testing.T) {
	for _, u := range []string{"", "ftp://x/y", "oapi.dingtalk.com/robot/send", "https://"} {
		if _, err := New(u, "", nil); err == nil || !strings.Contains(err.Error(), "URL") {
			t.Errorf("New(%q) = %v", u, err)
		}
	}
	if _, err := New("https://oapi.dingtalk.com/robot/send?access_token=x", "SEC1", nil); err != nil {
		t.Error(err)
	}
	if k := (&Channel{}).Kind(); k != "dingtalk" {
		t.Error(k)
	}
	var _ notify.Channel = (*Channel)(nil)
}
