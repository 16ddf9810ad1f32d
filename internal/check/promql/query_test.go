package promql

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// Real answers of Prometheus' /api/v1/query (2.x), shortened.
const (
	vectorAnswer = `{"status":"success","data":{"resultType":"vector","result":[
		{"metric":{"__name__":"cpu","instance":"web-1","job":"node"},"value":[1772366400.123,"93.2"]},
		{"metric":{"job":"node","instance":"web-2","__name__":"cpu"},"value":[1772366400.123,"NaN"]},
		{"metric":{},"value":[1772366400.123,"+Inf"]}]}}`
	emptyVectorAnswer = `{"status":"success","data":{"resultType":"vector","result":[]}}`
	scalarAnswer      = `{"status":"success","data":{"resultType":"scalar","result":[1772366400.123,"42.5"]}}`
	matrixAnswer      = `{"status":"success","data":{"resultType":"matrix","result":[
		{"metric":{"__name__":"cpu"},"values":[[1772366390,"1"],[1772366400,"2"]]}]}}`
	stringAnswer    = `{"status":"success","data":{"resultType":"string","result":[1772366400.123,"hello"]}}`
	histogramAnswer = `{"status":"success","data":{"resultType":"vector","result":[
		{"metric":{"__name__":"lat"},"histogram":[1772366400,{"count":"3","sum":"1.5","buckets":[]}]}]}}`
	parseErrorAnswer = `{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:5: parse error: unexpected end of input"}`
	timeoutAnswer    = `{"status":"error","errorType":"timeout","error":"query timed out in expression evaluation"}`
)

// fakePrometheus answers every query with status and body, and records the requests.
type fakePrometheus struct {
	mu     sync.Mutex
	reqs   []*http.Request
	forms  []url.Values
	status int
	ctype  string
	body   string
	noPost bool
}

func (f *fakePrometheus) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if f.noPost && r.Method == http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	_ = r.ParseForm()
	f.mu.Lock()
	f.reqs = append(f.reqs, r)
	f.forms = append(f.forms, r.Form)
	f.mu.Unlock()
	ctype := f.ctype
	if ctype == "" {
		ctype = "application/json"
	}
	w.Header().Set("Content-Type", ctype)
	w.WriteHeader(f.status)
	_, _ = io.WriteString(w, f.body)
}

func serve(t *testing.T, f *fakePrometheus) Config {
	t.Helper()
	if f.status == 0 {
		f.status = http.StatusOK
	}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return Config{URL: srv.URL, Query: `cpu{job="node"}`, Above: ptr(80)}
}

func TestQueryVector(t *testing.T) {
	f := &fakePrometheus{body: vectorAnswer}
	c := serve(t, f)
	c.URL += "/prefix/" // a base with a path prefix (behind a proxy)
	c.Timeout = Duration(3 * time.Second)
	c.Headers = map[string]string{"Authorization": "Bearer s3cret", "X-Scope-OrgID": "team-a"}
	at := time.Date(2026, 3, 1, 12, 0, 0, 123e6, time.UTC)
	got, err := Query(context.Background(), nil, c, at)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("got %d samples: %+v", len(got), got)
	}
	if got[0].Value != 93.2 || got[0].Labels["instance"] != "web-1" || got[0].Fingerprint != Fingerprint(got[0].Labels) {
		t.Errorf("sample 0: %+v", got[0])
	}
	if !math.IsNaN(got[1].Value) || got[1].Labels["instance"] != "web-2" {
		t.Errorf("sample 1: %+v", got[1])
	}
	if !math.IsInf(got[2].Value, 1) || len(got[2].Labels) != 0 || got[2].Labels == nil {
		t.Errorf("sample 2: %+v", got[2])
	}

	r, form := f.reqs[0], f.forms[0]
	if r.Method != http.MethodPost || r.URL.Path != "/prefix/api/v1/query" {
		t.Errorf("request %s %s", r.Method, r.URL.Path)
	}
	if form.Get("query") != `cpu{job="node"}` || form.Get("time") != "1772366400.123" || form.Get("timeout") != "3" {
		t.Errorf("form %v", form)
	}
	if r.Header.Get("Authorization") != "Bearer s3cret" || r.Header.Get("X-Scope-OrgID") != "team-a" {
		t.Errorf("headers %v", r.Header)
	}

	// The zero time leaves the time to Prometheus.
	if _, err := Query(context.Background(), nil, c, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.forms[1]["time"]; ok {
		t.Errorf("zero time sent time=%q", f.forms[1].Get("time"))
	}
}

func TestQueryEmptyVectorAndScalar(t *testing.T) {
	f := &fakePrometheus{body: emptyVectorAnswer}
	c := serve(t, f)
	got, err := Query(context.Background(), nil, c, time.Now())
	if err != nil || len(got) != 0 {
		t.Fatalf("empty vector: %+v %v", got, err)
	}
	f.body = scalarAnswer
	got, err = Query(context.Background(), nil, c, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Value != 42.5 || len(got[0].Labels) != 0 || got[0].Fingerprint != Fingerprint(nil) {
		t.Fatalf("scalar: %+v", got)
	}
}

func TestQueryGetFallback(t *testing.T) {
	f := &fakePrometheus{body: scalarAnswer, noPost: true}
	c := serve(t, f)
	if _, err := Query(context.Background(), nil, c, time.Now()); err != nil {
		t.Fatal(err)
	}
	if len(f.reqs) != 1 || f.reqs[0].Method != http.MethodGet || f.reqs[0].URL.Query().Get("query") != c.Query {
		t.Fatalf("want one GET with the query in the URL, got %d requests", len(f.reqs))
	}
}

func TestQueryErrors(t *testing.T) {
	cases := []struct {
		name   string
		status int
		ctype  string
		body   string
		want   []string
	}{
		{"matrix", 200, "", matrixAnswer, []string{"range vector (matrix)", "must return an instant vector"}},
		{"string", 200, "", stringAnswer, []string{"string", "must return an instant vector"}},
		{"native histogram", 200, "", histogramAnswer, []string{"native histogram", `__name__="lat"`}},
		{"parse error", 400, "", parseErrorAnswer, []string{"bad_data", "HTTP 400", "parse error: unexpected end of input"}},
		{"timeout", 503, "", timeoutAnswer, []string{"(timeout, HTTP 503)", "query timed out"}},
		{"5xx html", 502, "text/html", "<html><body><h1>502 Bad Gateway</h1>\n</body></html>", []string{"HTTP 502 Bad Gateway", "text/html", "<h1>502 Bad Gateway</h1>"}},
		{"5xx empty", 500, "text/plain", "", []string{"HTTP 500 Internal Server Error", "(empty body)"}},
		{"garbage 200", 200, "text/html", "<!doctype html><title>Grafana</title>", []string{"not Prometheus API JSON", "text/html", "Grafana", "base URL"}},
		{"other JSON", 200, "", `{"hello":"world"}`, []string{"not Prometheus API JSON"}},
		{"truncated JSON", 200, "", vectorAnswer[:40], []string{"not Prometheus API JSON"}},
		{"bad value", 200, "", `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"abc"]}]}}`, []string{`"abc" is not a number`}},
		{"no data", 200, "", `{"status":"success"}`, []string{"no data"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakePrometheus{status: tc.status, ctype: tc.ctype, body: tc.body}
			c := serve(t, f)
			got, err := Query(context.Background(), nil, c, time.Now())
			if err == nil {
				t.Fatalf("want an error, got %+v", got)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if !strings.Contains(err.Error(), "prometheus at "+c.URL) {
				t.Errorf("error %q does not name the server", err)
			}
		})
	}
}

func TestQueryTransportErrors(t *testing.T) {
	// Nothing listens: a clear connection error naming the server, without the password.
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL
	srv.Close()
	c := Config{URL: strings.Replace(base, "http://", "http://user:hunter2@", 1), Query: "up", Below: ptr(1)}
	_, err := Query(context.Background(), nil, c, time.Now())
	if err == nil || !strings.Contains(err.Error(), "prometheus at http://user:xxxxx@") || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("connection refused: %v", err)
	}

	// A server slower than the timeout.
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(slow.Close)
	t.Cleanup(func() { close(release) })
	c = Config{URL: slow.URL, Query: "up", Below: ptr(1), Timeout: Duration(100 * time.Millisecond)}
	start := time.Now()
	_, err = Query(context.Background(), nil, c, time.Now())
	if err == nil || !strings.Contains(err.Error(), "no answer within 100ms") {
		t.Fatalf("slow server: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("timeout took %s", d)
	}

	// An invalid config is refused before any request.
	_, err = Query(context.Background(), nil, Config{URL: slow.URL}, time.Now())
	if err == nil || !strings.HasPrefix(err.Error(), "query:") {
		t.Fatalf("invalid config: %v", err)
	}
}

func TestQueryTooManySeries(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"status":"success","data":{"resultType":"vector","result":[`)
	for i := 0; i <= MaxSeries; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"metric":{"i":"%d"},"value":[1,"1"]}`, i)
	}
	b.WriteString(`]}}`)
	c := serve(t, &fakePrometheus{body: b.String()})
	_, err := Query(context.Background(), nil, c, time.Now())
	if err == nil || !strings.Contains(err.Error(), "more than the 10000 allowed") {
		t.Fatalf("want a too-many-series error, got %v", err)
	}
}

// TestQueryThenEvaluate is the caller's loop on a fake server: query, evaluate, store.
func TestQueryThenEvaluate(t *testing.T) {
	f := &fakePrometheus{body: vectorAnswer}
	c := serve(t, f)
	samples, err := Query(context.Background(), nil, c, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	st, changes := Evaluate(c, State{}, samples, time.Now())
	// web-1 (93.2) and the unlabelled +Inf series fire; web-2 (NaN) does not.
	if len(changes) != 2 || len(st.Firing) != 2 {
		t.Fatalf("changes %+v state %+v", changes, st)
	}
	for _, ch := range changes {
		if ch.Labels["instance"] == "web-2" || !ch.Firing {
			t.Errorf("unexpected change %+v", ch)
		}
	}
}
