package web

import (
	"context"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firebreak/firebreak/internal/alert"
	"github.com/firebreak/firebreak/internal/auth"
	"github.com/firebreak/firebreak/internal/i18n"
	"github.com/firebreak/firebreak/internal/incident"
)

// TestTemplatesUseKnownKeys parses every template and fails on a {{t "key"}}
// (or an i18n.T(lang, "key") in the UI's Go code) the catalogue lacks, and on
// the dynamic key families missing a value.
func TestTemplatesUseKnownKeys(t *testing.T) {
	tcall := regexp.MustCompile(`\{\{-?\s*(?:[^{}]*[\s(])?t\s+"([^"]+)"`)
	goCall := regexp.MustCompile(`i18n\.T\(\w+(?:\.\w+)*,\s*"([^"]+)"\s*[,)]`)
	keyArg := regexp.MustCompile(`"((?:target|error)\.[a-z0-9_]+)"`)
	used := 0
	check := func(where, key string) {
		used++
		if !i18n.Has(key) {
			t.Errorf("%s uses key %q, which the catalogue lacks", where, key)
		}
	}
	err := fs.WalkDir(templateFS, "templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		src, err := fs.ReadFile(templateFS, p)
		if err != nil {
			return err
		}
		for _, m := range tcall.FindAllStringSubmatch(string(src), -1) {
			check(p, m[1])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("ui*.go")
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range goCall.FindAllStringSubmatch(string(src), -1) {
			check(name, m[1])
		}
		for _, m := range keyArg.FindAllStringSubmatch(string(src), -1) {
			check(name, m[1])
		}
	}
	if used < 50 {
		t.Fatalf("found only %d key uses: is the scan broken?", used)
	}
	for _, s := range incident.Statuses {
		check("status labels", "status."+string(s))
	}
	for _, s := range statusActions {
		check("status buttons", "action."+string(s))
	}
	for _, s := range alert.Severities {
		check("severity labels", "severity."+string(s))
	}
	for _, s := range []alert.Status{alert.Firing, alert.Acknowledged, alert.Resolved} {
		check("alert status labels", "alert_status."+string(s))
	}
	for _, r := range auth.Roles {
		check("role labels", "role."+string(r))
	}
	for _, s := range []alert.Source{alert.SourceAlertmanager, alert.SourceGrafana, alert.SourceGeneric, alert.SourcePagerDuty, alert.SourcePagerDutyV1} {
		check("source labels", "source."+string(s))
	}
	// Every template set parsed and every page renders without a missing key.
	u := newUI(&Server{})
	for _, lang := range i18n.Langs {
		for _, p := range uiPages {
			if u.pages[lang][p] == nil {
				t.Errorf("page %s/%s not parsed", lang, p)
			}
		}
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"":                              "/x",
		"/":                             "/",
		"/incidents?status=all":         "/incidents?status=all",
		"/incidents/4#timeline":         "/incidents/4#timeline",
		"//evil.example":                "/x",
		"///evil.example":               "/x",
		"/\\evil.example":               "/x",
		"/a\\b":                         "/x",
		"https://evil.example/":         "/x",
		"javascript:alert(1)":           "/x",
		"evil.example":                  "/x",
		"/ok\r\nSet-Cookie: a=b":        "/x",
		"/tab\there":                    "/x",
		"/" + strings.Repeat("a", 3000): "/x",
	} {
		if got := safeNext(in, "/x"); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWriteEvent(t *testing.T) {
	rec := httptest.NewRecorder()
	if err := writeEvent(rec, "timeline", 42, "<li>a</li>\n<li>b\r\nc</li>"); err != nil {
		t.Fatal(err)
	}
	want := "event: timeline\nid: 42\ndata: <li>a</li>\ndata: <li>b\ndata: c</li>\n\n"
	if rec.Body.String() != want {
		t.Errorf("event:\n%q\nwant\n%q", rec.Body.String(), want)
	}
}

func TestStatusButtons(t *testing.T) {
	allowed := func(from incident.Status) string {
		var out []string
		for _, a := range actionsFor("en", from) {
			if a.Allowed {
				out = append(out, string(a.Status))
			}
		}
		return strings.Join(out, " ")
	}
	for from, want := range map[incident.Status]string{
		incident.Triggered:     "acknowledged investigating identified monitoring resolved",
		incident.Acknowledged:  "investigating identified monitoring resolved",
		incident.Investigating: "identified monitoring resolved",
		incident.Monitoring:    "investigating identified resolved",
		incident.Resolved:      "investigating identified monitoring closed",
		incident.Closed:        "",
	} {
		if got := allowed(from); got != want {
			t.Errorf("from %s: buttons %q, want %q", from, got, want)
		}
	}
}

func TestTargets(t *testing.T) {
	start := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name       string
		done, now  time.Time
		target     time.Duration
		open       bool
		state, txt string
	}{
		{"pending", time.Time{}, start.Add(2 * time.Minute), 5 * time.Minute, true, "pending", "3 min left"},
		{"overdue", time.Time{}, start.Add(70 * time.Minute), 5 * time.Minute, true, "overdue", "Overdue by 1h 5m"},
		{"met", start.Add(4 * time.Minute), start.Add(time.Hour), 5 * time.Minute, true, "met", "Met, in 4 min"},
		{"missed", start.Add(9 * time.Minute), start.Add(time.Hour), 5 * time.Minute, true, "missed", "Missed by 4 min"},
		{"none", time.Time{}, start, 0, true, "none", "No target"},
		{"closed unmet", time.Time{}, start.Add(time.Hour), 5 * time.Minute, false, "none", "Not reached"},
		{"days", time.Time{}, start, 72 * time.Hour, true, "pending", "3d left"},
	} {
		got := targetOf("en", "target.acknowledge", start, c.done, c.now, c.target, c.open)
		if got.State != c.state || got.Text != c.txt {
			t.Errorf("%s: %s %q, want %s %q", c.name, got.State, got.Text, c.state, c.txt)
		}
	}
	if got := targetOf("zh", "target.resolve", start, time.Time{}, start.Add(30*time.Minute), 8*time.Hour, true).Text; got != "剩余 7 小时 30 分钟" {
		t.Errorf("zh target: %q", got)
	}
}

// syncBuffer is a ResponseWriter whose body may be read while a stream writes.
type syncBuffer struct {
	mu     sync.Mutex
	header http.Header
	status int
	buf    strings.Builder
}

func (b *syncBuffer) Header() http.Header { return b.header }
func (b *syncBuffer) WriteHeader(code int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.status == 0 {
		b.status = code
	}
}
func (b *syncBuffer) Write(p []byte) (int, error) {
	b.WriteHeader(http.StatusOK)
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}
func (b *syncBuffer) Flush() {}
func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestStreamsHeartbeatAndShutdown: both live streams send comment heartbeats
// and end when the server shuts down, even with the client still connected.
func TestStreamsHeartbeatAndShutdown(t *testing.T) {
	s, h := newTestServer(t)
	s.ui.heartbeat = 20 * time.Millisecond
	ctx := t.Context()
	usr, err := s.Auth.CreateUser(ctx, auth.NewUser{Username: "watcher", Role: auth.Viewer, Password: "watcher-password"})
	if err != nil {
		t.Fatal(err)
	}
	token, _, err := s.Auth.CreateToken(ctx, usr.ID, "watch", 0)
	if err != nil {
		t.Fatal(err)
	}
	inc, err := s.Incidents.Declare(ctx, incident.Actor{Name: "t"}, incident.Declaration{Title: "Streaming", Level: "P2"})
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/incidents/stream", "/incidents/" + strconv.FormatInt(inc.ID, 10) + "/stream"} {
		t.Run(path, func(t *testing.T) {
			stop := make(chan struct{})
			req := httptest.NewRequestWithContext(WithShutdown(context.Background(), stop), http.MethodGet, path, nil)
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Accept", "text/event-stream")
			w := &syncBuffer{header: http.Header{}}
			done := make(chan struct{})
			go func() { defer close(done); h.ServeHTTP(w, req) }()
			deadline := time.Now().Add(10 * time.Second)
			for strings.Count(w.String(), ": ping\n\n") < 2 {
				if time.Now().After(deadline) {
					t.Fatalf("no heartbeats; got:\n%s", w.String())
				}
				time.Sleep(5 * time.Millisecond)
			}
			close(stop)
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("the stream did not end on shutdown")
			}
			if w.status != http.StatusOK || !strings.HasPrefix(w.header.Get("Content-Type"), "text/event-stream") {
				t.Errorf("status %d, Content-Type %q", w.status, w.header.Get("Content-Type"))
			}
			if s.Live.Count() != 0 {
				t.Errorf("%d subscriptions left after the stream ended", s.Live.Count())
			}
		})
	}
}
