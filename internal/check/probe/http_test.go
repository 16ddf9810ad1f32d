package probe

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func newHTTPServer(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "hello world, version 1.42.7")
	})
	mux.HandleFunc("/fail", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "database down", http.StatusInternalServerError)
	})
	mux.HandleFunc("/json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"status":"ok","data":{"count":2,"ratio":1.5,"healthy":true,"owner":null,
			"items":[{"name":"db","state":"up"},{"name":"cache","state":"down"}]}}`)
	})
	mux.HandleFunc("/notjson", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "<html>oops</html>")
	})
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/ok", http.StatusFound)
	})
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/loop", http.StatusFound)
	})
	mux.HandleFunc("/block", func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, strings.Repeat("a", 4096)+"needle")
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || r.Header.Get("X-Token") != "s3cret" || string(b) != `{"ping":1}` || r.Host != "api.example.test" {
			http.Error(w, fmt.Sprintf("bad request %s %q %q %q", r.Method, r.Header.Get("X-Token"), b, r.Host), http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, "pong")
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestHTTPStatus(t *testing.T) {
	srv := newHTTPServer(t)
	ctx := context.Background()

	r := (&HTTP{URL: srv.URL + "/ok"}).Run(ctx)
	wantOK(t, r)
	if !strings.HasPrefix(r.Message, "200 OK in ") || r.Details["status"] != "200" || r.Latency <= 0 {
		t.Errorf("unexpected result %+v", r)
	}

	r = (&HTTP{URL: srv.URL + "/fail"}).Run(ctx)
	wantFail(t, r, "500 Internal Server Error", "expected 2xx")
	if r.Details["status"] != "500" {
		t.Errorf("details %v", r.Details)
	}

	wantOK(t, (&HTTP{URL: srv.URL + "/fail", ExpectStatus: []int{500}}).Run(ctx))
	wantFail(t, (&HTTP{URL: srv.URL + "/ok", ExpectStatus: []int{201, 204}}).Run(ctx), "200 OK", "expected 201 or 204")
	wantFail(t, (&HTTP{URL: srv.URL + "/missing"}).Run(ctx), "404 Not Found")
}

func TestHTTPRequestShape(t *testing.T) {
	srv := newHTTPServer(t)
	c := &HTTP{
		URL:          srv.URL + "/echo",
		Method:       "post",
		Headers:      map[string]string{"X-Token": "s3cret", "Host": "api.example.test"},
		Body:         `{"ping":1}`,
		ExpectStatus: []int{201},
		ExpectBody:   "pong",
	}
	wantOK(t, c.Run(context.Background()))
}

func TestHTTPBody(t *testing.T) {
	srv := newHTTPServer(t)
	ctx := context.Background()
	wantOK(t, (&HTTP{URL: srv.URL + "/ok", ExpectBody: "hello world"}).Run(ctx))
	wantFail(t, (&HTTP{URL: srv.URL + "/ok", ExpectBody: "goodbye"}).Run(ctx), `200 OK but body does not contain "goodbye"`)

	wantOK(t, (&HTTP{URL: srv.URL + "/ok", ExpectRegex: `version \d+\.\d+\.\d+$`}).Run(ctx))
	wantFail(t, (&HTTP{URL: srv.URL + "/ok", ExpectRegex: `^version`}).Run(ctx), "does not match regexp", `"^version"`)

	// The body is read only up to MaxBody.
	r := (&HTTP{URL: srv.URL + "/big", ExpectBody: "needle", MaxBody: 1024}).Run(ctx)
	wantFail(t, r, `does not contain "needle"`, "first 1024 bytes")
	if r.Details["body_truncated"] != "true" || r.Details["body_bytes"] != "1024" {
		t.Errorf("details %v", r.Details)
	}
	wantOK(t, (&HTTP{URL: srv.URL + "/big", ExpectBody: "needle"}).Run(ctx))
}

func TestHTTPJSON(t *testing.T) {
	srv := newHTTPServer(t)
	ctx := context.Background()
	url := srv.URL + "/json"
	run := func(e ...JSONExpect) Result { return (&HTTP{URL: url, ExpectJSON: e}).Run(ctx) }

	wantOK(t, run(
		JSONExpect{Path: "status", Equals: "ok"},
		JSONExpect{Path: "data.items.1.state", Equals: "down"},
		JSONExpect{Path: "data.items.0.name", Equals: "db"},
		JSONExpect{Path: "data.count", Equals: "2"},
		JSONExpect{Path: "data.count", Equals: "2.0"},
		JSONExpect{Path: "data.ratio", Equals: "1.5"},
		JSONExpect{Path: "data.healthy", Equals: "true"},
		JSONExpect{Path: "data.owner", Equals: "null"},
		JSONExpect{Path: "data.items.0", Equals: `{"name":"db","state":"up"}`},
	))
	wantFail(t, run(JSONExpect{Path: "data.items.1.state", Equals: "up"}), `json "data.items.1.state" is "down", expected "up"`)
	wantFail(t, run(JSONExpect{Path: "data.count", Equals: "3"}), `is 2, expected "3"`)
	wantFail(t, run(JSONExpect{Path: "data.items.5.state", Equals: "up"}), "not found", "index 5 out of range", "2 elements")
	wantFail(t, run(JSONExpect{Path: "data.missing", Equals: "x"}), `no key "missing"`, `at "data"`)
	wantFail(t, run(JSONExpect{Path: "status.deeper", Equals: "x"}), "is a string")
	wantFail(t, run(JSONExpect{Path: "data.items.first", Equals: "x"}), "not an array index")
	wantFail(t, (&HTTP{URL: srv.URL + "/notjson", ExpectJSON: []JSONExpect{{Path: "a", Equals: "b"}}}).Run(ctx), "not valid JSON")
}

func TestHTTPLatencyAndTimeout(t *testing.T) {
	srv := newHTTPServer(t)
	ctx := context.Background()

	r := (&HTTP{URL: srv.URL + "/ok", MaxLatency: Duration(time.Nanosecond)}).Run(ctx)
	wantFail(t, r, "200 OK but took", "over the 1ns limit")
	if r.Latency <= 0 {
		t.Errorf("latency should be measured on a slow answer: %v", r.Latency)
	}
	wantOK(t, (&HTTP{URL: srv.URL + "/ok", MaxLatency: Duration(time.Minute)}).Run(ctx))

	r = (&HTTP{URL: srv.URL + "/block", Timeout: Duration(100 * time.Millisecond)}).Run(ctx)
	wantFail(t, r, "timed out after 100ms")

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	wantFail(t, (&HTTP{URL: srv.URL + "/ok"}).Run(cctx), "canceled")
}

func TestHTTPRedirects(t *testing.T) {
	srv := newHTTPServer(t)
	ctx := context.Background()

	r := (&HTTP{URL: srv.URL + "/redirect"}).Run(ctx)
	wantFail(t, r, "302 Found", "expected 2xx")
	if r.Details["location"] != "/ok" {
		t.Errorf("details %v", r.Details)
	}
	wantOK(t, (&HTTP{URL: srv.URL + "/redirect", ExpectStatus: []int{301, 302}}).Run(ctx))

	r = (&HTTP{URL: srv.URL + "/redirect", FollowRedirects: true, ExpectBody: "hello"}).Run(ctx)
	wantOK(t, r)
	if r.Details["final_url"] != srv.URL+"/ok" {
		t.Errorf("details %v", r.Details)
	}
	wantFail(t, (&HTTP{URL: srv.URL + "/loop", FollowRedirects: true}).Run(ctx), "stopped after 10 redirects")
}

func TestHTTPTLS(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "secure")
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // expected handshake failures
	srv.StartTLS()
	t.Cleanup(srv.Close)
	ctx := context.Background()

	wantFail(t, (&HTTP{URL: srv.URL}).Run(ctx), "TLS", "unknown authority")
	r := (&HTTP{URL: srv.URL, SkipTLSVerify: true, ExpectBody: "secure"}).Run(ctx)
	wantOK(t, r)
	if r.Details["cert_not_after"] == "" {
		t.Errorf("details %v", r.Details)
	}

	// Plain HTTP spoken to a TLS port, and TLS spoken to a plain one.
	wantFail(t, (&HTTP{URL: strings.Replace(srv.URL, "https://", "http://", 1)}).Run(ctx), "400")
	plain := newHTTPServer(t)
	wantFail(t, (&HTTP{URL: strings.Replace(plain.URL, "http://", "https://", 1)}).Run(ctx), "HTTP response to HTTPS client")
}

func TestHTTPConnectionRefused(t *testing.T) {
	addr := closedAddr(t)
	r := (&HTTP{URL: "http://" + addr + "/health"}).Run(context.Background())
	wantFail(t, r, "connection refused", addr)
}

func TestHTTPValidate(t *testing.T) {
	ok := HTTP{URL: "https://example.test/health"}
	wantFields(t, ok.Validate())

	cases := []struct {
		c     HTTP
		field string
	}{
		{HTTP{}, "url"},
		{HTTP{URL: "example.test/health"}, "url"},
		{HTTP{URL: "ftp://example.test/"}, "url"},
		{HTTP{URL: "http://"}, "url"},
		{HTTP{URL: "http://exa mple.test/%zz"}, "url"},
		{HTTP{URL: ok.URL, Method: "GE T"}, "method"},
		{HTTP{URL: ok.URL, Headers: map[string]string{"Bad Name": "x"}}, "headers.Bad Name"},
		{HTTP{URL: ok.URL, Headers: map[string]string{"X-Ok": "a\r\nInjected: 1"}}, "headers.X-Ok"},
		{HTTP{URL: ok.URL, ExpectRegex: "(unclosed"}, "expect_regex"},
		{HTTP{URL: ok.URL, ExpectStatus: []int{99}}, "expect_status[0]"},
		{HTTP{URL: ok.URL, ExpectStatus: []int{200, 600}}, "expect_status[1]"},
		{HTTP{URL: ok.URL, ExpectJSON: []JSONExpect{{Path: "", Equals: "x"}}}, "expect_json[0].path"},
		{HTTP{URL: ok.URL, ExpectJSON: []JSONExpect{{Path: "a", Equals: "x"}, {Path: "a..b"}}}, "expect_json[1].path"},
		{HTTP{URL: ok.URL, Timeout: Duration(6 * time.Minute)}, "timeout"},
		{HTTP{URL: ok.URL, Timeout: Duration(-time.Second)}, "timeout"},
		{HTTP{URL: ok.URL, MaxLatency: Duration(-1)}, "max_latency"},
		{HTTP{URL: ok.URL, MaxBody: -1}, "max_body"},
	}
	for _, tc := range cases {
		err := tc.c.Validate()
		if err == nil {
			t.Errorf("%+v: want an error on %s", tc.c, tc.field)
			continue
		}
		wantFields(t, err, tc.field)
		if !strings.Contains(err.Error(), tc.field+": ") {
			t.Errorf("error %q does not name %s", err, tc.field)
		}
	}

	// Several problems are all reported.
	err := (&HTTP{URL: "nope", Method: "G T", ExpectRegex: "(", ExpectStatus: []int{1}, Timeout: Duration(time.Hour)}).Validate()
	wantFields(t, err, "url", "method", "expect_regex", "expect_status[0]", "timeout")
	wantFail(t, (&HTTP{URL: "nope"}).Run(context.Background()), "invalid configuration: url: ")
}
