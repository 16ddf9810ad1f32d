package probe

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// DefaultMaxBody is the number of body bytes an HTTP check reads when
// MaxBody is zero.
const DefaultMaxBody = 1 << 20

// MaxMaxBody is the largest MaxBody that Validate accepts.
const MaxMaxBody = 64 << 20

// maxRedirects is how many redirects a check with FollowRedirects follows.
const maxRedirects = 10

// JSONExpect asserts one value in a JSON response body.
type JSONExpect struct {
	// Path is a dot path into the body: "status", "data.items.0.state".
	// A numeric segment indexes an array.
	Path string `json:"path"`
	// Equals is compared with the string form of the value found: a JSON
	// string as its text, numbers as written (or numerically equal),
	// true/false/null as such, objects and arrays as compact JSON.
	Equals string `json:"equals"`
}

// HTTP checks an HTTP(S) endpoint.
type HTTP struct {
	URL     string            `json:"url"`
	Method  string            `json:"method,omitempty"` // default GET
	Headers map[string]string `json:"headers,omitempty"`
	Body    string            `json:"body,omitempty"`

	ExpectStatus []int        `json:"expect_status,omitempty"` // empty: any 2xx
	ExpectBody   string       `json:"expect_body,omitempty"`   // substring of the body
	ExpectRegex  string       `json:"expect_regex,omitempty"`  // RE2 regexp on the body
	ExpectJSON   []JSONExpect `json:"expect_json,omitempty"`

	MaxLatency      Duration `json:"max_latency,omitempty"` // slower is a failure; 0: no limit
	Timeout         Duration `json:"timeout,omitempty"`     // default 10s
	SkipTLSVerify   bool     `json:"skip_tls_verify,omitempty"`
	FollowRedirects bool     `json:"follow_redirects,omitempty"` // false: a 3xx is the answer checked
	MaxBody         int64    `json:"max_body,omitempty"`         // bytes read for body checks, default 1 MiB
}

// Validate reports configuration problems as FieldErrors.
func (c *HTTP) Validate() error {
	var errs fieldErrs
	if c == nil {
		errs.add("url", "is required")
		return errs.err()
	}
	switch u, err := url.Parse(strings.TrimSpace(c.URL)); {
	case strings.TrimSpace(c.URL) == "":
		errs.add("url", "is required")
	case err != nil:
		var urlErr *url.Error
		if errors.As(err, &urlErr) {
			err = urlErr.Err
		}
		errs.add("url", "is not a valid URL: %s", oneLine(err.Error()))
	case u.Scheme != "http" && u.Scheme != "https":
		errs.add("url", "must be an absolute http:// or https:// URL")
	case u.Host == "" || u.Hostname() == "":
		errs.add("url", "host is missing")
	}
	if c.Method != "" && !isToken(c.Method) {
		errs.add("method", "%q is not a valid HTTP method", c.Method)
	}
	for _, name := range sortedKeys(c.Headers) {
		field := "headers." + name
		if !isToken(name) {
			errs.add(field, "is not a valid header name")
		}
		if strings.ContainsAny(c.Headers[name], "\r\n\x00") {
			errs.add(field, "value must not contain line breaks or NUL")
		}
	}
	for i, s := range c.ExpectStatus {
		if s < 100 || s > 599 {
			errs.add(fmt.Sprintf("expect_status[%d]", i), "%d is not an HTTP status (100..599)", s)
		}
	}
	if c.ExpectRegex != "" {
		if _, err := regexp.Compile(c.ExpectRegex); err != nil {
			errs.add("expect_regex", "does not compile: %s", oneLine(err.Error()))
		}
	}
	for i, e := range c.ExpectJSON {
		field := fmt.Sprintf("expect_json[%d].path", i)
		if strings.TrimSpace(e.Path) == "" {
			errs.add(field, "is required")
		} else if slices.Contains(strings.Split(e.Path, "."), "") {
			errs.add(field, "%q has an empty segment", e.Path)
		}
	}
	if c.MaxLatency < 0 {
		errs.add("max_latency", "must not be negative")
	}
	errs.timeout("timeout", c.Timeout)
	if c.MaxBody < 0 {
		errs.add("max_body", "must not be negative")
	} else if c.MaxBody > MaxMaxBody {
		errs.add("max_body", "must be at most %d bytes", MaxMaxBody)
	}
	return errs.err()
}

// Run performs the request once and checks the answer.
func (c *HTTP) Run(ctx context.Context) (res Result) {
	defer guard(&res)
	if err := c.Validate(); err != nil {
		return invalid(err)
	}
	runCtx, cancel, timeout := withTimeout(ctx, orDefault(c.Timeout, DefaultTimeout))
	defer cancel()

	method := strings.ToUpper(c.Method)
	if method == "" {
		method = http.MethodGet
	}
	var reqBody io.Reader
	if c.Body != "" {
		reqBody = strings.NewReader(c.Body)
	}
	start := time.Now()
	var firstByte atomic.Int64
	trace := &httptrace.ClientTrace{
		GotFirstResponseByte: func() { firstByte.Store(int64(time.Since(start))) },
	}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(runCtx, trace), method, strings.TrimSpace(c.URL), reqBody)
	if err != nil {
		return fail("cannot build request: " + oneLine(err.Error()))
	}
	req.Header.Set("User-Agent", "firebreak-probe/1")
	for name, v := range c.Headers {
		if strings.EqualFold(name, "Host") {
			req.Host = v
		} else {
			req.Header.Set(name, v)
		}
	}

	transport := &http.Transport{
		Proxy:                  http.ProxyFromEnvironment,
		DialContext:            (&net.Dialer{}).DialContext,
		TLSClientConfig:        &tls.Config{InsecureSkipVerify: c.SkipTLSVerify},
		DisableKeepAlives:      true,
		MaxResponseHeaderBytes: 1 << 20,
	}
	defer transport.CloseIdleConnections()
	client := &http.Client{
		Transport: transport,
		CheckRedirect: func(_ *http.Request, via []*http.Request) error {
			if !c.FollowRedirects {
				return http.ErrUseLastResponse
			}
			if len(via) >= maxRedirects {
				return fmt.Errorf("stopped after %d redirects", maxRedirects)
			}
			return nil
		},
	}

	resp, err := client.Do(req)
	if err != nil {
		return fail(describeErr(ctx, runCtx, timeout, err))
	}
	defer func() { _ = resp.Body.Close() }()

	details := map[string]string{
		"status": strconv.Itoa(resp.StatusCode),
		"proto":  resp.Proto,
	}
	if loc := resp.Header.Get("Location"); loc != "" {
		details["location"] = loc
	}
	if resp.Request != nil && resp.Request.URL != nil && resp.Request.URL.String() != req.URL.String() {
		details["final_url"] = resp.Request.URL.String()
	}
	if resp.TLS != nil && len(resp.TLS.PeerCertificates) > 0 {
		details["cert_not_after"] = resp.TLS.PeerCertificates[0].NotAfter.UTC().Format(time.RFC3339)
	}
	status := statusLine(resp)

	maxBody := c.MaxBody
	if maxBody == 0 {
		maxBody = DefaultMaxBody
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	latency := time.Since(start)
	if fb := firstByte.Load(); fb > 0 {
		details["ttfb"] = fmtDur(time.Duration(fb))
	}
	if err != nil {
		r := fail(status + " but reading the body failed: " + describeErr(ctx, runCtx, timeout, err))
		r.Details = details
		return r
	}
	truncated := int64(len(body)) > maxBody
	if truncated {
		body = body[:maxBody]
		details["body_truncated"] = "true"
	}
	details["body_bytes"] = strconv.Itoa(len(body))

	res = Result{Latency: latency, Details: details}
	if msg := c.checkStatus(resp.StatusCode); msg != "" {
		res.Message = status + ", " + msg
		return res
	}
	if msg := c.checkBody(body, truncated, maxBody); msg != "" {
		res.Message = status + " but " + msg
		return res
	}
	if c.MaxLatency > 0 && latency > c.MaxLatency.D() {
		res.Message = fmt.Sprintf("%s but took %s, over the %s limit", status, fmtDur(latency), c.MaxLatency.D())
		return res
	}
	res.OK = true
	res.Message = status + " in " + fmtDur(latency)
	return res
}

func statusLine(resp *http.Response) string {
	code := strconv.Itoa(resp.StatusCode)
	text := strings.TrimSpace(strings.TrimPrefix(resp.Status, code))
	if text == "" {
		text = http.StatusText(resp.StatusCode)
	}
	return strings.TrimSpace(code + " " + text)
}

func (c *HTTP) checkStatus(code int) string {
	if len(c.ExpectStatus) == 0 {
		if code >= 200 && code <= 299 {
			return ""
		}
		return "expected 2xx"
	}
	if slices.Contains(c.ExpectStatus, code) {
		return ""
	}
	want := make([]string, len(c.ExpectStatus))
	for i, s := range c.ExpectStatus {
		want[i] = strconv.Itoa(s)
	}
	return "expected " + strings.Join(want, " or ")
}

func (c *HTTP) checkBody(body []byte, truncated bool, maxBody int64) string {
	scope := ""
	if truncated {
		scope = fmt.Sprintf(" (in the first %d bytes)", maxBody)
	}
	if c.ExpectBody != "" && !bytes.Contains(body, []byte(c.ExpectBody)) {
		return fmt.Sprintf("body does not contain %q%s", c.ExpectBody, scope)
	}
	if c.ExpectRegex != "" {
		re, err := regexp.Compile(c.ExpectRegex)
		if err != nil { // Validate ran first; kept for safety.
			return "expect_regex does not compile"
		}
		if !re.Match(body) {
			return fmt.Sprintf("body does not match regexp %q%s", c.ExpectRegex, scope)
		}
	}
	if len(c.ExpectJSON) == 0 {
		return ""
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return fmt.Sprintf("body is not valid JSON%s: %s", scope, oneLine(err.Error()))
	}
	var problems []string
	for _, e := range c.ExpectJSON {
		v, err := jsonLookup(doc, e.Path)
		if err != nil {
			problems = append(problems, fmt.Sprintf("json %q not found: %s", e.Path, err))
			continue
		}
		got := jsonString(v)
		if !jsonEqual(v, got, e.Equals) {
			problems = append(problems, fmt.Sprintf("json %q is %s, expected %q", e.Path, quoteJSONValue(v, got), e.Equals))
		}
	}
	return strings.Join(problems, "; ")
}

// jsonLookup follows a dot path through decoded JSON.
func jsonLookup(doc any, path string) (any, error) {
	cur := doc
	var walked []string
	where := func() string {
		if len(walked) == 0 {
			return "at the top level"
		}
		return "at " + strconv.Quote(strings.Join(walked, "."))
	}
	for _, seg := range strings.Split(path, ".") {
		switch x := cur.(type) {
		case map[string]any:
			next, ok := x[seg]
			if !ok {
				return nil, fmt.Errorf("no key %q in the object %s", seg, where())
			}
			cur = next
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 {
				return nil, fmt.Errorf("%q is not an array index (the value %s is an array)", seg, where())
			}
			if i >= len(x) {
				return nil, fmt.Errorf("index %d out of range: the array %s has %d elements", i, where(), len(x))
			}
			cur = x[i]
		default:
			return nil, fmt.Errorf("the value %s is %s, not an object or array", where(), jsonKind(cur))
		}
		walked = append(walked, seg)
	}
	return cur, nil
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	}
	return fmt.Sprintf("%T", v)
}

// jsonString is the string form of a JSON value used for comparisons.
func jsonString(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func jsonEqual(v any, got, want string) bool {
	if got == want {
		return true
	}
	if n, ok := v.(json.Number); ok {
		a, errA := strconv.ParseFloat(n.String(), 64)
		b, errB := strconv.ParseFloat(strings.TrimSpace(want), 64)
		return errA == nil && errB == nil && a == b
	}
	return false
}

// quoteJSONValue shows a found value in a message: strings quoted, other
// values as JSON, long values cut.
func quoteJSONValue(v any, s string) string {
	if _, ok := v.(string); ok {
		return snippet([]byte(s), 200)
	}
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}

// isToken reports whether s is an RFC 9110 token (method or header name).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch >= 'a' && ch <= 'z', ch >= 'A' && ch <= 'Z', ch >= '0' && ch <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", ch) >= 0:
		default:
			return false
		}
	}
	return true
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
