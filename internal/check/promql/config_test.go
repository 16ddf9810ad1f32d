package promql

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

func validConfig() Config {
	return Config{URL: "http://prometheus:9090", Query: "cpu", Above: ptr(80)}
}

func TestValidateNamesFields(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(c *Config)
		field string
		msg   string
	}{
		{"no url", func(c *Config) { c.URL = " " }, "url", "required"},
		{"relative url", func(c *Config) { c.URL = "prometheus:9090" }, "url", "http or https"},
		{"ftp url", func(c *Config) { c.URL = "ftp://prometheus" }, "url", "http or https"},
		{"no host", func(c *Config) { c.URL = "http:///x" }, "url", "host"},
		{"query string", func(c *Config) { c.URL = "http://p:9090/?x=1" }, "url", "query string"},
		{"endpoint url", func(c *Config) { c.URL = "http://p:9090/api/v1/query" }, "url", "base URL"},
		{"no query", func(c *Config) { c.Query = "\n" }, "query", "required"},
		{"huge query", func(c *Config) { c.Query = strings.Repeat("x", MaxQueryLen+1) }, "query", "longer"},
		{"no threshold", func(c *Config) { c.Above = nil }, "above", "one of above or below"},
		{"both thresholds", func(c *Config) { c.Below = ptr(1) }, "below", "not both"},
		{"NaN threshold", func(c *Config) { c.Above = ptr(nan()) }, "above", "finite"},
		{"negative for", func(c *Config) { c.For = Duration(-time.Second) }, "for", "negative"},
		{"long for", func(c *Config) { c.For = Duration(25 * time.Hour) }, "for", "at most 24h"},
		{"negative timeout", func(c *Config) { c.Timeout = Duration(-1) }, "timeout", "negative"},
		{"long timeout", func(c *Config) { c.Timeout = Duration(6 * time.Minute) }, "timeout", "at most 5m"},
		{"bad header name", func(c *Config) { c.Headers = map[string]string{"Bad Name": "x"} }, "headers", "header name"},
		{"header injection", func(c *Config) { c.Headers = map[string]string{"X-A": "a\r\nX-B: b"} }, "headers", "line breaks"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := validConfig()
			tc.edit(&c)
			err := c.Validate()
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("want a *FieldError, got %v", err)
			}
			if fe.Field != tc.field || !strings.Contains(fe.Msg, tc.msg) {
				t.Fatalf("got %q (field %q), want field %q with %q", err, fe.Field, tc.field, tc.msg)
			}
			if !strings.HasPrefix(err.Error(), tc.field+": ") {
				t.Fatalf("error %q does not name %s", err, tc.field)
			}
		})
	}
}

func TestValidateAcceptsAndNormalises(t *testing.T) {
	for _, c := range []Config{
		{URL: " https://prom.example.com/prometheus/ ", Query: " up == 0 ", Below: ptr(1), For: Duration(24 * time.Hour), Timeout: Duration(5 * time.Minute),
			Headers: map[string]string{"Authorization": "Bearer x", "X-Scope-OrgID": "team-a"}},
		{URL: "http://user:pw@127.0.0.1:9090", Query: "cpu", Above: ptr(-3)},
	} {
		if err := c.Validate(); err != nil {
			t.Fatalf("%+v: %v", c, err)
		}
		if strings.TrimSpace(c.URL) != c.URL || strings.TrimSpace(c.Query) != c.Query {
			t.Errorf("not trimmed: %q %q", c.URL, c.Query)
		}
	}
	c := validConfig()
	if err := c.Validate(); err != nil || time.Duration(c.Timeout) != DefaultTimeout {
		t.Fatalf("default timeout: %v %v", c.Timeout, err)
	}
}

func TestConfigJSON(t *testing.T) {
	var c Config
	in := `{"url":"http://p:9090","query":"cpu","above":80,"for":"5m","timeout":"30s","headers":{"Authorization":"Bearer t"}}`
	if err := json.Unmarshal([]byte(in), &c); err != nil {
		t.Fatal(err)
	}
	if c.URL != "http://p:9090" || *c.Above != 80 || c.Below != nil || time.Duration(c.For) != 5*time.Minute ||
		time.Duration(c.Timeout) != 30*time.Second || c.Headers["Authorization"] != "Bearer t" {
		t.Fatalf("decoded %+v", c)
	}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"url":"http://p:9090","query":"cpu","above":80,"for":"5m0s","timeout":"30s","headers":{"Authorization":"Bearer t"}}`; string(b) != want {
		t.Fatalf("encoded %s\nwant    %s", b, want)
	}
	for _, bad := range []string{`{"for":"5 minutes"}`, `{"for":300}`, `{"timeout":true}`} {
		var c Config
		if err := json.Unmarshal([]byte(bad), &c); err == nil {
			t.Errorf("%s: want an error", bad)
		}
	}
	var z Config
	if err := json.Unmarshal([]byte(`{"for":null,"timeout":""}`), &z); err != nil || z.For != 0 || z.Timeout != 0 {
		t.Fatalf("null/empty durations: %+v %v", z, err)
	}
}

func nan() float64 { return math.NaN() }
