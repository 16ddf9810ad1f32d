package promql

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Limits on a query's answer.
const (
	MaxResponseBytes = 32 << 20
	MaxSeries        = 10000
)

// Sample is one series of a query's result at the query time.
type Sample struct {
	Labels      map[string]string `json:"labels"`
	Value       float64           `json:"value"`
	Fingerprint string            `json:"fingerprint"`
}

// MarshalJSON writes Value as null when it is NaN or ±Inf, which JSON cannot hold.
func (s Sample) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Labels      map[string]string `json:"labels"`
		Value       *float64          `json:"value"`
		Fingerprint string            `json:"fingerprint"`
	}{s.Labels, finite(s.Value), s.Fingerprint})
}

func finite(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// Fingerprint is a stable identity of a label set: the hex SHA-256 (first 8
// bytes) of its labels sorted by name, so the same series always gets the same
// fingerprint whatever the order Prometheus returns its labels in.
func Fingerprint(labels map[string]string) string {
	names := make([]string, 0, len(labels))
	for n := range labels {
		names = append(names, n)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		// 0xff never occurs in UTF-8, so it separates unambiguously.
		h.Write([]byte(n))
		h.Write([]byte{0xff})
		h.Write([]byte(labels[n]))
		h.Write([]byte{0xff})
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// Query runs c's PromQL instant query at time at (the zero time lets Prometheus
// use its own now) against the API at c.URL and returns one Sample per series.
// A scalar result is one Sample with no labels. A range vector (matrix) or a
// string is an error, as is an error answer from Prometheus (its errorType and
// error text are kept), an HTTP error or a body that is not the API's JSON.
//
// The query is POSTed as a form, falling back to GET when the server answers
// 405 or 501 (as Prometheus' own client does). It is bounded by c.Timeout
// (DefaultTimeout when zero), also sent to Prometheus as its query timeout. A nil
// client means http.DefaultClient.
func Query(ctx context.Context, client *http.Client, c Config, at time.Time) ([]Sample, error) {
	if err := c.Validate(); err != nil { // c is a copy: normalising it is harmless
		return nil, err
	}
	if client == nil {
		client = http.DefaultClient
	}
	timeout := time.Duration(c.Timeout)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	base, _ := url.Parse(c.URL) // validated
	endpoint := *base
	endpoint.Path = strings.TrimRight(base.Path, "/") + "/api/v1/query"
	endpoint.RawPath = ""
	form := url.Values{"query": {c.Query}, "timeout": {strconv.FormatFloat(timeout.Seconds(), 'f', -1, 64)}}
	if !at.IsZero() {
		form.Set("time", strconv.FormatFloat(float64(at.UnixMilli())/1000, 'f', 3, 64))
	}
	where := "prometheus at " + base.Redacted()

	status, header, body, err := do(ctx, client, http.MethodPost, endpoint, form, c.Headers)
	if err == nil && (status == http.StatusMethodNotAllowed || status == http.StatusNotImplemented) {
		status, header, body, err = do(ctx, client, http.MethodGet, endpoint, form, c.Headers)
	}
	if err != nil {
		if ctx.Err() == context.DeadlineExceeded && errors.Is(err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("%s: no answer within %s", where, shortDuration(timeout))
		}
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	return parseResponse(where, status, header, body)
}

// do sends one request and reads the whole answer.
func do(ctx context.Context, client *http.Client, method string, endpoint url.URL, form url.Values, headers map[string]string) (int, http.Header, []byte, error) {
	var body io.Reader
	if method == http.MethodGet {
		endpoint.RawQuery = form.Encode()
	} else {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, endpoint.String(), body)
	if err != nil {
		return 0, nil, nil, err
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Accept", "application/json")
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", "firebreak-prometheus-check")
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	if err != nil {
		return 0, nil, nil, fmt.Errorf("read the answer (%s): %w", resp.Status, err)
	}
	if len(b) > MaxResponseBytes {
		return 0, nil, nil, fmt.Errorf("the answer is larger than %d MiB; narrow the query (aggregate with sum by (…) or topk)", MaxResponseBytes>>20)
	}
	return resp.StatusCode, resp.Header, b, nil
}

// apiResponse is the envelope of every Prometheus API answer.
type apiResponse struct {
	Status    string          `json:"status"`
	Data      json.RawMessage `json:"data"`
	ErrorType string          `json:"errorType"`
	Error     string          `json:"error"`
}

type queryData struct {
	ResultType string          `json:"resultType"`
	Result     json.RawMessage `json:"result"`
}

type vectorSample struct {
	Metric    map[string]string `json:"metric"`
	Value     json.RawMessage   `json:"value"`
	Histogram json.RawMessage   `json:"histogram"`
}

func parseResponse(where string, status int, header http.Header, body []byte) ([]Sample, error) {
	var r apiResponse
	jsonErr := json.Unmarshal(body, &r)
	if jsonErr != nil || (r.Status != "success" && r.Status != "error") {
		ctype := header.Get("Content-Type")
		if mt, _, err := mime.ParseMediaType(ctype); err == nil {
			ctype = mt
		}
		if ctype == "" {
			ctype = "no Content-Type"
		}
		if status < 200 || status > 299 {
			return nil, fmt.Errorf("%s answered HTTP %d %s (%s): %s", where, status, http.StatusText(status), ctype, snippet(body))
		}
		return nil, fmt.Errorf("%s answered HTTP %d with a body that is not Prometheus API JSON (%s): %s; is the url the Prometheus base URL?", where, status, ctype, snippet(body))
	}
	if r.Status == "error" {
		kind := r.ErrorType
		if kind == "" {
			kind = "error"
		}
		msg := r.Error
		if msg == "" {
			msg = "(no error text)"
		}
		return nil, fmt.Errorf("%s: query failed (%s, HTTP %d): %s", where, kind, status, msg)
	}
	if status < 200 || status > 299 {
		return nil, fmt.Errorf("%s answered HTTP %d %s with status success", where, status, http.StatusText(status))
	}
	var d queryData
	if len(r.Data) == 0 || string(r.Data) == "null" {
		return nil, fmt.Errorf("%s: the answer has no data", where)
	}
	if err := json.Unmarshal(r.Data, &d); err != nil {
		return nil, fmt.Errorf("%s: malformed data in the answer: %v", where, err)
	}
	switch d.ResultType {
	case "vector":
		var vs []vectorSample
		if err := json.Unmarshal(d.Result, &vs); err != nil {
			return nil, fmt.Errorf("%s: malformed vector result: %v", where, err)
		}
		if len(vs) > MaxSeries {
			return nil, fmt.Errorf("%s: the query returned %d series, more than the %d allowed; aggregate it (sum by (…), topk) or filter it (> 80)", where, len(vs), MaxSeries)
		}
		out := make([]Sample, 0, len(vs))
		for _, s := range vs {
			labels := s.Metric
			if labels == nil {
				labels = map[string]string{}
			}
			if len(s.Value) == 0 {
				if len(s.Histogram) != 0 {
					return nil, fmt.Errorf("%s: series %s is a native histogram, which has no single value to compare; use histogram_quantile, histogram_count or histogram_sum", where, labelString(labels, true))
				}
				return nil, fmt.Errorf("%s: series %s has no value", where, labelString(labels, true))
			}
			v, err := parsePoint(s.Value)
			if err != nil {
				return nil, fmt.Errorf("%s: series %s: %v", where, labelString(labels, true), err)
			}
			out = append(out, Sample{Labels: labels, Value: v, Fingerprint: Fingerprint(labels)})
		}
		return out, nil
	case "scalar":
		v, err := parsePoint(d.Result)
		if err != nil {
			return nil, fmt.Errorf("%s: scalar result: %v", where, err)
		}
		labels := map[string]string{}
		return []Sample{{Labels: labels, Value: v, Fingerprint: Fingerprint(labels)}}, nil
	case "matrix":
		return nil, fmt.Errorf("%s: the query returned a range vector (matrix); it must return an instant vector (or a scalar): drop the [range] selector or wrap it in a function such as rate(…[5m]) or avg_over_time(…[5m])", where)
	case "string":
		return nil, fmt.Errorf("%s: the query returned a string; it must return an instant vector (or a scalar)", where)
	case "":
		return nil, fmt.Errorf("%s: the answer has no resultType", where)
	default:
		return nil, fmt.Errorf("%s: unknown resultType %q; the query must return an instant vector (or a scalar)", where, d.ResultType)
	}
}

// parsePoint reads [<unix seconds>, "<value>"], the value possibly "NaN" or "+Inf".
func parsePoint(raw json.RawMessage) (float64, error) {
	var p []json.RawMessage
	if err := json.Unmarshal(raw, &p); err != nil || len(p) != 2 {
		return 0, fmt.Errorf("malformed point %s: want [time, \"value\"]", snippet(raw))
	}
	var s string
	if err := json.Unmarshal(p[1], &s); err != nil {
		return 0, fmt.Errorf("malformed value %s: want a string", snippet(p[1]))
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("value %q is not a number", s)
	}
	return v, nil
}

// snippet is the start of b on one line, for error messages.
func snippet(b []byte) string {
	const max = 200
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return "(empty body)"
	}
	var sb strings.Builder
	space := false
	for len(b) > 0 && sb.Len() < max {
		r, n := utf8.DecodeRune(b)
		b = b[n:]
		switch {
		case unicode.IsSpace(r):
			space = true
			continue
		case r == utf8.RuneError || !unicode.IsPrint(r):
			r = '?'
		}
		if space {
			sb.WriteByte(' ')
			space = false
		}
		sb.WriteRune(r)
	}
	if len(b) > 0 {
		sb.WriteString("…")
	}
	return sb.String()
}
