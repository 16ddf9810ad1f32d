package teams

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
		IncidentID: 9, Title: "Disk [full](https://evil.example) on *db*", Level: "P0", LevelName: "Level 1 — critical",
		Status: "triggered", Service: "db", Body: "usage 99%\nnext line",
		URL: "https://fb.example/i/9", AckURL: "https://fb.example/a/t1?a=1&b=2", ResolveURL: "https://fb.example/r/t2",
		Lang: "en",
	}
}

func TestSendAdaptiveCard(t *testing.T) {
	var raw []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("content-type %q", r.Header.Get("Content-Type"))
		}
		raw, _ = io.ReadAll(r.Body)
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	c, err := New(Config{WebhookURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if c.Kind() != "teams" {
		t.Fatal(c.Kind())
	}
	if retry, err := c.Send(context.Background(), msg()); err != nil || retry {
		t.Fatalf("retry=%v err=%v", retry, err)
	}
	var p struct {
		Type        string
		Attachments []struct {
			ContentType string
			Content     struct {
				Schema  string `json:"$schema"`
				Type    string
				Version string
				Body    []struct{ Type, Text string }
				Actions []struct{ Type, Title, URL string }
			}
		}
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		t.Fatal(err)
	}
	if p.Type != "message" || len(p.Attachments) != 1 {
		t.Fatalf("envelope %s", raw)
	}
	a := p.Attachments[0]
	if a.ContentType != "application/vnd.microsoft.card.adaptive" {
		t.Errorf("contentType %q", a.ContentType)
	}
	cd := a.Content
	if cd.Schema != "http://adaptivecards.io/schemas/adaptive-card.json" || cd.Type != "AdaptiveCard" || cd.Version != "1.4" {
		t.Errorf("card header %+v", cd)
	}
	if len(cd.Body) != 3 {
		t.Fatalf("body %+v", cd.Body)
	}
	for _, b := range cd.Body {
		if b.Type != "TextBlock" {
			t.Errorf("block type %q", b.Type)
		}
	}
	if cd.Body[0].Text != `\[P0\] Disk \[full\](https://evil.example) on \*db\*` {
		t.Errorf("title not escaped: %q", cd.Body[0].Text)
	}
	if !strings.Contains(cd.Body[1].Text, "triggered") || !strings.Contains(cd.Body[1].Text, "db") {
		t.Errorf("facts %q", cd.Body[1].Text)
	}
	if cd.Body[2].Text != "usage 99%\n\nnext line" {
		t.Errorf("body %q", cd.Body[2].Text)
	}
	want := []struct{ title, url string }{
		{"Acknowledge", "https://fb.example/a/t1?a=1&b=2"},
		{"Resolve", "https://fb.example/r/t2"},
		{"Open incident", "https://fb.example/i/9"},
	}
	if len(cd.Actions) != len(want) {
		t.Fatalf("actions %+v", cd.Actions)
	}
	for i, w := range want {
		if a := cd.Actions[i]; a.Type != "Action.OpenUrl" || a.Title != w.title || a.URL != w.url {
			t.Errorf("action %d: %+v", i, a)
		}
	}
}

func TestZhAndNoLinks(t *testing.T) {
	m := msg()
	m.Lang = "zh"
	m.ResolveURL = ""
	b, _ := json.Marshal(Payload(m))
	if !strings.Contains(string(b), `"title":"确认"`) || strings.Contains(string(b), "解决") {
		t.Errorf("zh actions: %s", b)
	}
	m.AckURL, m.URL = "", ""
	b, _ = json.Marshal(Payload(m))
	if strings.Contains(string(b), `"actions"`) {
		t.Errorf("empty actions sent: %s", b)
	}
}

func TestClassification(t *testing.T) {
	for _, tc := range []struct {
		status int
		ok     bool
		retry  bool
	}{{200, true, false}, {202, true, false}, {400, false, false}, {404, false, false}, {429, false, true}, {500, false, true}, {502, false, true}} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(tc.status)
		}))
		c, _ := New(Config{WebhookURL: srv.URL})
		retry, err := c.Send(context.Background(), msg())
		srv.Close()
		if tc.ok {
			if err != nil {
				t.Errorf("%d: %v", tc.status, err)
			}
			continue
		}
		var se *notify.StatusError
		if !errors.As(err, &se) || se.Status != tc.status || retry != tc.retry {
			t.Errorf("%d: retry=%v err=%v", tc.status, retry, err)
		}
	}
}

func TestNewValidates(t *testing.T) {
	for _, u := range []string{"", "example.com/x", "mailto:x@y", "https://"} {
		if _, err := New(Config{WebhookURL: u}); err == nil || !strings.Contains(err.Error(), "webhook_url") {
			t.Errorf("%q: %v", u, err)
		}
	}
}
