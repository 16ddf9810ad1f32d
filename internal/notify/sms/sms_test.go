package sms

import (
	"context"
	"encoding/xml"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/firebreak/firebreak/internal/notify"
)

const (
	sid   = "AC0123456789abcdef0123456789abcdef"
	token = "s3cr3t:token"
	from  = "+14155550100"
)

func msg() notify.Message {
	return notify.Message{
		IncidentID: 12, Title: "Checkout <down> & \"out\"", Level: "P0", LevelName: "Level 1 — critical",
		Status: "triggered", Service: "shop", Body: "5xx > 50%",
		URL: "https://fb.example/i/12", AckURL: "https://fb.example/a/tok1?x=1&y=2", ResolveURL: "https://fb.example/r/tok2",
		Lang: "en", IdempotencyKey: "inc12-step0-u3-sms",
	}
}

// request is what the fake Twilio saw.
type request struct {
	method, path, user, pass, ctype, idem string
	ok                                    bool
	form                                  url.Values
}

// twilio is a fake Twilio API answering status with body.
func twilio(t *testing.T, status int, body string, got *request) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.method, got.path = r.Method, r.URL.Path
		got.user, got.pass, got.ok = r.BasicAuth()
		got.ctype = r.Header.Get("Content-Type")
		got.idem = r.Header.Get("I-Twilio-Idempotency-Token")
		if err := r.ParseForm(); err != nil {
			t.Errorf("parse form: %v", err)
		}
		got.form = r.PostForm
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func provider(t *testing.T, base, from string) *Provider {
	t.Helper()
	p, err := New(Config{BaseURL: base, AccountSID: sid, AuthToken: token, From: from})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSendSMS(t *testing.T) {
	var got request
	srv := twilio(t, 201, `{"sid":"SM123","status":"queued"}`, &got)
	c, err := provider(t, srv.URL+"/", from).SMS("+86-138-0000-0001")
	if err != nil {
		t.Fatal(err)
	}
	if c.Kind() != "sms" {
		t.Fatal(c.Kind())
	}
	if retry, err := c.Send(context.Background(), msg()); err != nil || retry {
		t.Fatalf("retry=%v err=%v", retry, err)
	}
	if got.method != http.MethodPost || got.path != "/2010-04-01/Accounts/"+sid+"/Messages.json" {
		t.Errorf("%s %s", got.method, got.path)
	}
	if !got.ok || got.user != sid || got.pass != token {
		t.Errorf("basic auth %v %q %q", got.ok, got.user, got.pass)
	}
	if got.ctype != "application/x-www-form-urlencoded" {
		t.Errorf("content-type %q", got.ctype)
	}
	if got.idem != "inc12-step0-u3-sms" {
		t.Errorf("idempotency header %q", got.idem)
	}
	if got.form.Get("To") != "+8613800000001" || got.form.Get("From") != from || got.form.Has("MessagingServiceSid") {
		t.Errorf("form %v", got.form)
	}
	want := `[firebreak] P0 #12 Checkout <down> & "out" — Acknowledge: https://fb.example/a/tok1?x=1&y=2`
	if b := got.form.Get("Body"); b != want {
		t.Errorf("body\n got %q\nwant %q", b, want)
	}
}

func TestMessagingServiceAndIncidentLink(t *testing.T) {
	var got request
	srv := twilio(t, 201, `{}`, &got)
	c, err := provider(t, srv.URL, "MG0123456789abcdef0123456789abcdef").SMS("+1 (415) 555-0199")
	if err != nil {
		t.Fatal(err)
	}
	m := msg()
	m.AckURL = ""
	m.IdempotencyKey = ""
	m.Status = "resolved"
	if _, err := c.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if got.form.Get("MessagingServiceSid") != "MG0123456789abcdef0123456789abcdef" || got.form.Has("From") || got.form.Get("To") != "+14155550199" {
		t.Errorf("form %v", got.form)
	}
	want := `[firebreak] P0 #12 Checkout <down> & "out" (resolved) — Open incident: https://fb.example/i/12`
	if b := got.form.Get("Body"); b != want {
		t.Errorf("body %q", b)
	}
	if got.idem != "" {
		t.Errorf("idempotency header sent when unset: %q", got.idem)
	}
}

func TestChineseSMS(t *testing.T) {
	m := msg()
	m.Lang = "zh"
	m.Title = "支付服务不可用"
	want := "[firebreak] P0 #12 支付服务不可用 — 确认：https://fb.example/a/tok1?x=1&y=2"
	if b := Body(m); b != want {
		t.Errorf("got %q", b)
	}
	m.AckURL = ""
	if b := Body(m); !strings.HasSuffix(b, "查看事故：https://fb.example/i/12") {
		t.Errorf("got %q", b)
	}
	m.URL = "javascript:alert(1)"
	if b := Body(m); b != "[firebreak] P0 #12 支付服务不可用" {
		t.Errorf("got %q", b)
	}
}

func TestBodyTruncated(t *testing.T) {
	m := msg()
	m.Lang = "zh"
	m.Title = strings.Repeat("事故标题", 600) // 2400 characters
	b := Body(m)
	if !utf8.ValidString(b) {
		t.Fatal("invalid UTF-8")
	}
	if n := length(b); n > MaxBody || n < MaxBody-1 {
		t.Errorf("%d characters", n)
	}
	if !strings.HasSuffix(b, "… — 确认：https://fb.example/a/tok1?x=1&y=2") {
		t.Errorf("link lost: %q", b[len(b)-80:])
	}

	// Characters outside the BMP count twice, as Twilio counts them.
	m.Title = strings.Repeat("🔥", 1000)
	b = Body(m)
	if n := length(b); n > MaxBody {
		t.Errorf("%d UTF-16 units", n)
	}
	if !utf8.ValidString(b) {
		t.Fatal("invalid UTF-8")
	}

	// A huge link is left out rather than cut.
	m = msg()
	m.AckURL = "https://fb.example/a/" + strings.Repeat("x", 2000)
	if b := Body(m); strings.Contains(b, "/a/") || !strings.HasSuffix(b, "Open incident: https://fb.example/i/12") {
		t.Errorf("got %q", b)
	}
}

type twiml struct {
	XMLName xml.Name `xml:"Response"`
	Say     []struct {
		Language string `xml:"language,attr"`
		Text     string `xml:",chardata"`
	} `xml:"Say"`
}

func decodeTwiML(t *testing.T, s string) twiml {
	t.Helper()
	var doc twiml
	d := xml.NewDecoder(strings.NewReader(s))
	d.Strict = true
	if err := d.Decode(&doc); err != nil {
		t.Fatalf("TwiML not well-formed: %v\n%s", err, s)
	}
	if len(doc.Say) != 1 {
		t.Fatalf("want one <Say>: %s", s)
	}
	return doc
}

func TestSendVoice(t *testing.T) {
	var got request
	srv := twilio(t, 201, `{"sid":"CA123","status":"queued"}`, &got)
	c, err := provider(t, srv.URL, "+1 415 555 0100").Voice("+86 138 0000 0001")
	if err != nil {
		t.Fatal(err)
	}
	if c.Kind() != "voice" {
		t.Fatal(c.Kind())
	}
	if retry, err := c.Send(context.Background(), msg()); err != nil || retry {
		t.Fatalf("retry=%v err=%v", retry, err)
	}
	if got.method != http.MethodPost || got.path != "/2010-04-01/Accounts/"+sid+"/Calls.json" {
		t.Errorf("%s %s", got.method, got.path)
	}
	if !got.ok || got.user != sid || got.pass != token {
		t.Errorf("basic auth %v %q %q", got.ok, got.user, got.pass)
	}
	if got.form.Get("To") != "+8613800000001" || got.form.Get("From") != from || got.form.Has("Body") {
		t.Errorf("form %v", got.form)
	}
	raw := got.form.Get("Twiml")
	if !strings.HasPrefix(raw, `<Response><Say language="en-US">`) || !strings.HasSuffix(raw, `</Say></Response>`) {
		t.Errorf("twiml %s", raw)
	}
	if !strings.Contains(raw, "Checkout &lt;down&gt; &amp; &#34;out&#34;") {
		t.Errorf("title not escaped: %s", raw)
	}
	say := decodeTwiML(t, raw).Say[0]
	if say.Language != "en-US" {
		t.Errorf("language %q", say.Language)
	}
	line := `P0 incident number 12: Checkout <down> & "out".`
	if strings.Count(say.Text, line) != 2 {
		t.Errorf("not read twice: %q", say.Text)
	}
	if strings.Contains(say.Text, "http") || strings.Contains(say.Text, "fb.example") {
		t.Errorf("URL spoken: %q", say.Text)
	}
}

func TestChineseVoice(t *testing.T) {
	m := msg()
	m.Lang = "zh"
	m.Title = "支付<服务>不可用"
	say := decodeTwiML(t, TwiML(m)).Say[0]
	if say.Language != "zh-CN" {
		t.Errorf("language %q", say.Language)
	}
	if strings.Count(say.Text, "P0 级事故 12 号：支付<服务>不可用。") != 2 || !strings.Contains(say.Text, "再说一遍") {
		t.Errorf("text %q", say.Text)
	}

	// A long title is cut; the document stays well-formed.
	m.Title = strings.Repeat("<&>", 500)
	say = decodeTwiML(t, TwiML(m)).Say[0]
	if n := utf8.RuneCountInString(say.Text); n > 2*maxSpokenTitle+100 {
		t.Errorf("%d characters spoken", n)
	}
}

func TestVoiceNeedsNumber(t *testing.T) {
	p := provider(t, "", "MG0123456789abcdef0123456789abcdef")
	if _, err := p.Voice("+8613800000001"); err == nil || !strings.Contains(err.Error(), "from") {
		t.Errorf("err %v", err)
	}
	if _, err := p.SMS("+8613800000001"); err != nil {
		t.Error(err)
	}
}

func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		status int
		body   string
		retry  bool
		want   string
	}{
		{400, `{"code":21211,"message":"The 'To' number +8613800000001 is not a valid phone number.","more_info":"https://www.twilio.com/docs/errors/21211","status":400}`, false, "21211"},
		{401, `{"code":20003,"message":"Authenticate","status":401}`, false, "20003"},
		{404, `not json`, false, "http 404: not json"},
		{429, `{"code":20429,"message":"Too Many Requests","status":429}`, true, "20429"},
		{500, `{"code":20500,"message":"Internal Server Error","status":500}`, true, "20500"},
		{503, ``, true, "http 503"},
	} {
		for _, kind := range []string{"sms", "voice"} {
			var got request
			srv := twilio(t, tc.status, tc.body, &got)
			p := provider(t, srv.URL, from)
			c, _ := p.SMS("+8613800000001")
			if kind == "voice" {
				c, _ = p.Voice("+8613800000001")
			}
			retry, err := c.Send(context.Background(), msg())
			if err == nil {
				t.Fatalf("%d %s: no error", tc.status, kind)
			}
			if retry != tc.retry {
				t.Errorf("%d %s: retry=%v", tc.status, kind, retry)
			}
			if !strings.HasPrefix(err.Error(), kind+": ") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%d %s: err %v", tc.status, kind, err)
			}
			var se *notify.StatusError
			if !errors.As(err, &se) || se.Status != tc.status {
				t.Errorf("%d %s: no StatusError in %v", tc.status, kind, err)
			}
		}
	}

	// Twilio's code and message are in the error.
	var got request
	srv := twilio(t, 400, `{"code":21211,"message":"Invalid 'To' Phone Number","status":400}`, &got)
	c, _ := provider(t, srv.URL, from).SMS("+8613800000001")
	_, err := c.Send(context.Background(), msg())
	var te *Error
	if !errors.As(err, &te) || te.Code != 21211 || te.Message != "Invalid 'To' Phone Number" {
		t.Fatalf("err %#v", err)
	}
	if err.Error() != "sms: twilio error 21211: Invalid 'To' Phone Number (http 400)" {
		t.Errorf("text %q", err)
	}
}

func TestTransportErrorRetries(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL
	srv.Close()
	c, _ := provider(t, base, from).SMS("+8613800000001")
	if retry, err := c.Send(context.Background(), msg()); err == nil || !retry {
		t.Errorf("retry=%v err=%v", retry, err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if retry, err := c.Send(ctx, msg()); err == nil || retry {
		t.Errorf("cancelled: retry=%v err=%v", retry, err)
	}
}

func TestNewValidates(t *testing.T) {
	ok := Config{AccountSID: sid, AuthToken: token, From: from}
	for _, tc := range []struct {
		edit  func(*Config)
		field string
	}{
		{func(c *Config) { c.AccountSID = "" }, "sms: account_sid: required"},
		{func(c *Config) { c.AccountSID = "AC12/../x" }, "sms: account_sid:"},
		{func(c *Config) { c.AuthToken = " " }, "sms: auth_token: required"},
		{func(c *Config) { c.From = "" }, "sms: from: required"},
		{func(c *Config) { c.From = "14155550100" }, "sms: from:"},
		{func(c *Config) { c.From = "MG12-34" }, "sms: from:"},
		{func(c *Config) { c.BaseURL = "api.twilio.com" }, "sms: base_url:"},
		{func(c *Config) { c.BaseURL = "ftp://api.twilio.com" }, "sms: base_url:"},
		{func(c *Config) { c.BaseURL = "https://api.twilio.com?x=1" }, "sms: base_url:"},
	} {
		cfg := ok
		tc.edit(&cfg)
		if _, err := New(cfg); err == nil || !strings.HasPrefix(err.Error(), tc.field) {
			t.Errorf("%+v: err %v, want %q", cfg, err, tc.field)
		}
	}
	p, err := New(ok)
	if err != nil {
		t.Fatal(err)
	}
	if p.base != DefaultBaseURL {
		t.Errorf("base %q", p.base)
	}
	for _, to := range []string{"", "13800000001", "+86 138 abc"} {
		if _, err := p.SMS(to); err == nil || !strings.HasPrefix(err.Error(), "sms: to: ") {
			t.Errorf("SMS(%q): %v", to, err)
		}
		if _, err := p.Voice(to); err == nil || !strings.HasPrefix(err.Error(), "voice: to: ") {
			t.Errorf("Voice(%q): %v", to, err)
		}
	}
}

func TestNormalizePhone(t *testing.T) {
	for _, tc := range []struct {
		in, want string
	}{
		{"+8613800000001", "+8613800000001"},
		{"+86-138-0000-0001", "+8613800000001"},
		{"+86 138 0000 0001", "+8613800000001"},
		{"  +86 138 0000 0001\t", "+8613800000001"},
		{"+1 (415) 555-0100", "+14155550100"},
		{"+44.20.7946.0958", "+442079460958"},
		{"+49 3012345", "+493012345"},            // 9 digits
		{"+12345678", "+12345678"},               // 8 digits, the minimum
		{"+123456789012345", "+123456789012345"}, // 15 digits, the maximum
		{"", ""},
		{"   ", ""},
		{"13800000001", ""},       // no country code
		{"008613800000001", ""},   // international prefix instead of +
		{"+", ""},                 // no digits
		{"+1234567", ""},          // 7 digits
		{"+1234567890123456", ""}, // 16 digits
		{"+0123456789", ""},       // country code 0
		{"+86 138 0000 000a", ""},
		{"+86/138/0000/0001", ""},
		{"++8613800000001", ""},
		{"+86 138 0000 0001 ext 2", ""},
		{"+８６１３８００００００００１", ""}, // full-width digits
		{"tel:+8613800000001", ""},
	} {
		got, err := NormalizePhone(tc.in)
		if tc.want == "" {
			if err == nil {
				t.Errorf("%q: got %q, want error", tc.in, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q: got %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}
