package wecom

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/firebreak/firebreak/internal/notify"
)

type sent struct {
	MsgType  string `json:"msgtype"`
	Markdown struct {
		Content string `json:"content"`
	} `json:"markdown"`
	Text struct {
		Content             string   `json:"content"`
		MentionedMobileList []string `json:"mentioned_mobile_list"`
	} `json:"text"`
}

// robot is a fake WeCom robot: it checks the key and WeCom's content limits,
// then answers with answers[i] (the last one repeats) for the i-th request.
func robot(t *testing.T, status int, answers ...string) (*httptest.Server, func() []sent) {
	t.Helper()
	var mu sync.Mutex
	var got []sent
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/cgi-bin/webhook/send" || r.URL.Query().Get("key") != "k-123" {
			t.Errorf("request %s %s", r.Method, r.URL)
		}
		raw, _ := io.ReadAll(r.Body)
		var s sent
		if err := json.Unmarshal(raw, &s); err != nil {
			t.Errorf("body %s: %v", raw, err)
		}
		switch s.MsgType {
		case "markdown":
			if c := s.Markdown.Content; len(c) > MaxMarkdown || !utf8.ValidString(c) {
				t.Errorf("markdown content %d bytes, valid UTF-8 %v", len(c), utf8.ValidString(c))
			}
		case "text":
			if c := s.Text.Content; len(c) > MaxText || !utf8.ValidString(c) {
				t.Errorf("text content %d bytes", len(c))
			}
		default:
			t.Errorf("msgtype %q", s.MsgType)
		}
		mu.Lock()
		n := len(got)
		got = append(got, s)
		mu.Unlock()
		w.WriteHeader(status)
		w.Write([]byte(answers[min(n, len(answers)-1)]))
	}))
	t.Cleanup(srv.Close)
	return srv, func() []sent { mu.Lock(); defer mu.Unlock(); return append([]sent(nil), got...) }
}

const ok = `{"errcode":0,"errmsg":"ok"}`

func msg() notify.Message {
	return notify.Message{
		Title:         "数据库 *主库* 不可用",
		Level:         "P0",
		LevelName:     "一级事故",
		Status:        "triggered",
		Service:       "db_main",
		Body:          "连接失败\n<@all> 注入",
		URL:           "https://fb.example.com/incidents/7",
		AckURL:        "https://fb.example.com/a/ack?t=abc",
		ResolveURL:    "https://fb.example.com/a/resolve?t=def",
		MentionPhones: []string{"13800000001", "13900000002", "13800000001"},
		Lang:          "zh",
	}
}

func newChannel(t *testing.T, srv *httptest.Server) *Channel {
	c, err := New(srv.URL+"/cgi-bin/webhook/send?key=k-123", "", srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSendMarkdownAndMentions(t *testing.T) {
	srv, got := robot(t, 200, ok)
	if retry, err := newChannel(t, srv).Send(context.Background(), msg()); err != nil || retry {
		t.Fatalf("Send = %v, %v", retry, err)
	}
	r := got()
	if len(r) != 2 || r[0].MsgType != "markdown" || r[1].MsgType != "text" {
		t.Fatalf("requests %+v", r)
	}
	md := r[0].Markdown.Content
	for _, w := range []string{
		"[确认](https://fb.example.com/a/ack?t=abc)",
		"[解决](https://fb.example.com/a/resolve?t=def)",
		"[查看事故](https://fb.example.com/incidents/7)",
		`<font color="warning">**P0 · 一级事故**</font>`, `数据库 \*主库\* 不可用`, "状态", `db\_main`,
		"&lt;@all\\> 注入",
	} {
		if !strings.Contains(md, w) {
			t.Errorf("markdown lacks %q:\n%s", w, md)
		}
	}
	if strings.Contains(md, "<@") {
		t.Errorf("mention tag survived escaping:\n%s", md)
	}
	if got := strings.Join(r[1].Text.MentionedMobileList, ","); got != "13800000001,13900000002" {
		t.Errorf("mentioned_mobile_list %q", got)
	}
	if !strings.Contains(r[1].Text.Content, "数据库") {
		t.Errorf("text %q", r[1].Text.Content)
	}
}

func TestNoMentionsOneMessageEnglish(t *testing.T) {
	srv, got := robot(t, 200, ok)
	m := msg()
	m.MentionPhones, m.Lang = nil, "en"
	if _, err := newChannel(t, srv).Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	r := got()
	if len(r) != 1 {
		t.Fatalf("%d requests", len(r))
	}
	for _, w := range []string{"[Acknowledge](", "[Resolve](", "[Open incident]("} {
		if !strings.Contains(r[0].Markdown.Content, w) {
			t.Errorf("markdown lacks %q", w)
		}
	}
}

func TestLongChineseBodyTruncated(t *testing.T) {
	srv, got := robot(t, 200, ok)
	m := msg()
	m.Body = strings.Repeat("数据库连接池耗尽，请求排队。", 1000) // ~42 KB
	m.Title = strings.Repeat("很长的标题", 400)
	if _, err := newChannel(t, srv).Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	c := got()[0].Markdown.Content
	if len(c) > MaxMarkdown || !utf8.ValidString(c) {
		t.Fatalf("content %d bytes, valid %v", len(c), utf8.ValidString(c))
	}
	if len(c) < MaxMarkdown-20 {
		t.Errorf("budget badly used: %d bytes", len(c))
	}
	if !strings.Contains(c, "数据库连接池耗尽") || !strings.Contains(c, "…") {
		t.Errorf("body or ellipsis missing")
	}
	if !strings.HasSuffix(c, "[查看事故](https://fb.example.com/incidents/7)") ||
		!strings.Contains(c, "[确认](https://fb.example.com/a/ack?t=abc)") ||
		!strings.Contains(c, "[解决](https://fb.example.com/a/resolve?t=def)") {
		t.Errorf("links lost:\n%s", c[len(c)-300:])
	}
	// Every byte budget around the limit stays within it and valid.
	for n := 0; n < 8; n++ {
		m.Body = strings.Repeat("a", n) + strings.Repeat("界", 3000)
		if s := Markdown(m); len(s) > MaxMarkdown || !utf8.ValidString(s) {
			t.Errorf("n=%d: %d bytes", n, len(s))
		}
	}
}

func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		status  int
		answers []string
		retry   bool
		calls   int
	}{
		{"rate limit", 200, []string{`{"errcode":45009,"errmsg":"api freq out of limit"}`}, true, 1},
		{"bad key", 200, []string{`{"errcode":93000,"errmsg":"invalid webhook url"}`}, false, 1},
		{"mention rate limited", 200, []string{ok, `{"errcode":45009,"errmsg":"api freq out of limit"}`}, true, 2},
		{"http 500", 500, []string{`oops`}, true, 1},
		{"http 400", 400, []string{`bad`}, false, 1},
		{"not json", 200, []string{`<html>`}, false, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, got := robot(t, tc.status, tc.answers...)
			retry, err := newChannel(t, srv).Send(context.Background(), msg())
			if err == nil || retry != tc.retry {
				t.Errorf("Send = %v, %v; want retry=%v and an error", retry, err, tc.retry)
			}
			if n := len(got()); n != tc.calls {
				t.Errorf("%d requests, want %d", n, tc.calls)
			}
		})
	}
}

func TestNewValidation(t *testing.T) {
	for _, u := range []string{"", "ftp://x/y", "qyapi.weixin.qq.com/cgi-bin/webhook/send?key=x", "https://"} {
		if _, err := New(u, "", nil); err == nil || !strings.Contains(err.Error(), "URL") {
			t.Errorf("New(%q) = %v", u, err)
		}
	}
	if _, err := New("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=x", "", nil); err != nil {
		t.Error(err)
	}
	if k := (&Channel{}).Kind(); k != "wecom" {
		t.Error(k)
	}
	var _ notify.Channel = (*Channel)(nil)
}
