package slack

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/firebreak/firebreak/internal/notify"
)

func msg() notify.Message {
	return notify.Message{
		IncidentID: 7, Title: "API <errors> & timeouts", Level: "P1", LevelName: "Level 2 — major",
		Status: "triggered", Service: "api", Body: "5xx rate > 20% for <!channel> & friends",
		URL: "https://fb.example/i/7", AckURL: "https://fb.example/a/tok1?x=1&y=2", ResolveURL: "https://fb.example/r/tok2",
		Lang: "en",
	}
}

type payload struct {
	Text   string `json:"text"`
	Blocks []struct {
		Type string `json:"type"`
		Text *struct {
			Type, Text string
		} `json:"text"`
		Elements []struct {
			Type     string `json:"type"`
			Text     any    `json:"text"`
			URL      string `json:"url"`
			ActionID string `json:"action_id"`
		} `json:"elements"`
	} `json:"blocks"`
}

func TestSendBlocks(t *testing.T) {
	var got payload
	var raw []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("content-type %q", r.Header.Get("Content-Type"))
		}
		raw, _ = io.ReadAll(r.Body)
		if err := json.Unmarshal(raw, &got); err != nil {
			t.Errorf("bad json: %v", err)
		}
		_, _ = w.Write([]byte("ok"))
	}))
	defer srv.Close()
	c, err := New(Config{WebhookURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if c.Kind() != "slack" {
		t.Fatal(c.Kind())
	}
	if retry, err := c.Send(context.Background(), msg()); err != nil || retry {
		t.Fatalf("retry=%v err=%v", retry, err)
	}

	if got.Text != "[P1] API &lt;errors&gt; &amp; timeouts (triggered)" {
		t.Errorf("fallback text %q", got.Text)
	}
	types := []string{}
	for _, b := range got.Blocks {
		types = append(types, b.Type)
	}
	if strings.Join(types, ",") != "header,context,section,actions" {
		t.Fatalf("blocks %v", types)
	}
	h := got.Blocks[0]
	if h.Text.Type != "plain_text" || h.Text.Text != "[P1] API <errors> & timeouts" {
		t.Errorf("header %+v", h.Text)
	}
	ctxText, _ := json.Marshal(got.Blocks[1].Elements)
	for _, want := range []string{"Level 2 — major", "triggered", "api"} {
		if !strings.Contains(string(ctxText), want) {
			t.Errorf("context lacks %q: %s", want, ctxText)
		}
	}
	body := got.Blocks[2].Text
	if body.Type != "mrkdwn" || body.Text != "5xx rate &gt; 20% for &lt;!channel&gt; &amp; friends" {
		t.Errorf("body not escaped: %+v", body)
	}
	btn := got.Blocks[3].Elements
	if len(btn) != 3 {
		t.Fatalf("buttons %+v", btn)
	}
	wantURL := []string{"https://fb.example/a/tok1?x=1&y=2", "https://fb.example/r/tok2", "https://fb.example/i/7"}
	wantLabel := []string{"Acknowledge", "Resolve", "Open incident"}
	for i, b := range btn {
		if b.Type != "button" || b.URL != wantURL[i] {
			t.Errorf("button %d: %+v", i, b)
		}
		label, _ := json.Marshal(b.Text)
		if !strings.Contains(string(label), wantLabel[i]) {
			t.Errorf("button %d label %s", i, label)
		}
	}
	// URLs must not be mrkdwn-escaped.
	if strings.Contains(string(raw), "tok1?x=1&amp;y=2") {
		t.Error("button URL escaped")
	}
}

func TestChineseAndMissingLinks(t *testing.T) {
	m := msg()
	m.Lang = "zh"
	m.AckURL, m.ResolveURL = "", ""
	b, _ := json.Marshal(Payload(m))
	var p payload
	_ = json.Unmarshal(b, &p)
	last := p.Blocks[len(p.Blocks)-1]
	if last.Type != "actions" || len(last.Elements) != 1 || last.Elements[0].URL != m.URL {
		t.Fatalf("actions %+v", last)
	}
	if !strings.Contains(string(b), "查看事故") {
		t.Error("zh label missing")
	}
	m.URL = ""
	b, _ = json.Marshal(Payload(m))
	if strings.Contains(string(b), `"actions"`) {
		t.Error("empty actions block sent")
	}
}

func TestLongTextTruncated(t *testing.T) {
	m := msg()
	m.Title = strings.Repeat("t", 400)
	m.Body = strings.Repeat("&", 4000)
	b, _ := json.Marshal(Payload(m))
	var p payload
	_ = json.Unmarshal(b, &p)
	if n := len([]rune(p.Blocks[0].Text.Text)); n > maxHeader {
		t.Errorf("header %d chars", n)
	}
	s := p.Blocks[2].Text.Text
	if n := len([]rune(s)); n > maxSection {
		t.Errorf("section %d chars", n)
	}
	if !strings.HasSuffix(s, "&amp;…") {
		t.Errorf("cut mid-entity: %q", s[len(s)-12:])
	}
}

func TestClassification(t *testing.T) {
	for _, tc := range []struct {
		status int
		body   string
		retry  bool
	}{
		{400, "invalid_payload", false},
		{404, "no_service", false},
		{403, "invalid_token", false},
		{410, "channel_is_archived", false},
		{429, "rate_limited", true},
		{500, "rollup_error", true},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(tc.status)
			_, _ = w.Write([]byte(tc.body))
		}))
		c, _ := New(Config{WebhookURL: srv.URL})
		retry, err := c.Send(context.Background(), msg())
		srv.Close()
		var se *notify.StatusError
		if !errors.As(err, &se) || se.Status != tc.status || !strings.Contains(err.Error(), tc.body) {
			t.Errorf("%d: err %v", tc.status, err)
		}
		if retry != tc.retry {
			t.Errorf("%d %s: retry=%v", tc.status, tc.body, retry)
		}
	}
}

func TestNewValidates(t *testing.T) {
	for _, u := range []string{"", "hooks.slack.com/services/x", "ftp://hooks.slack.com/x", "https://"} {
		if _, err := New(Config{WebhookURL: u}); err == nil || !strings.Contains(err.Error(), "webhook_url") {
			t.Errorf("%q: %v", u, err)
		}
	}
}
