package probe

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fieldsOf lists the Field of every FieldError in err.
func fieldsOf(err error) []string {
	var out []string
	for _, fe := range FieldErrors(err) {
		out = append(out, fe.Field)
	}
	return out
}

func wantFields(t *testing.T, err error, want ...string) {
	t.Helper()
	got := fieldsOf(err)
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("Validate error %v: want field %q among %q", err, w, got)
		}
	}
	if len(want) == 0 && err != nil {
		t.Errorf("Validate: unexpected error %v", err)
	}
}

func wantOK(t *testing.T, r Result) {
	t.Helper()
	t.Logf("OK   %-8s %s", r.Latency.Round(time.Microsecond), r.Message)
	if !r.OK {
		t.Fatalf("want OK, got failure: %s (details %v)", r.Message, r.Details)
	}
	if r.Message == "" {
		t.Errorf("OK result has no message")
	}
	if strings.Contains(r.Message, "\n") {
		t.Errorf("message is not one line: %q", r.Message)
	}
}

func wantFail(t *testing.T, r Result, contains ...string) {
	t.Helper()
	t.Logf("FAIL %-8s %s", r.Latency.Round(time.Microsecond), r.Message)
	if r.OK {
		t.Fatalf("want failure, got OK: %s", r.Message)
	}
	if r.Message == "" {
		t.Fatalf("failing result has no message")
	}
	if strings.Contains(r.Message, "\n") {
		t.Errorf("message is not one line: %q", r.Message)
	}
	for _, c := range contains {
		if !strings.Contains(r.Message, c) {
			t.Errorf("message %q does not contain %q", r.Message, c)
		}
	}
}

// closedAddr returns a loopback address on which nothing listens.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

func TestDurationJSON(t *testing.T) {
	var c HTTP
	in := `{"url":"http://example.test/","timeout":"2s","max_latency":"1m30s","expect_status":[200],
		"expect_json":[{"path":"status","equals":"ok"}],"follow_redirects":true,"skip_tls_verify":true,"max_body":10}`
	if err := json.Unmarshal([]byte(in), &c); err != nil {
		t.Fatal(err)
	}
	if c.Timeout.D() != 2*time.Second || c.MaxLatency.D() != 90*time.Second {
		t.Fatalf("durations: %v %v", c.Timeout, c.MaxLatency)
	}
	if !c.FollowRedirects || !c.SkipTLSVerify || c.MaxBody != 10 || c.ExpectJSON[0].Equals != "ok" {
		t.Fatalf("decoded %+v", c)
	}
	out, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"timeout":"2s"`, `"max_latency":"1m30s"`, `"expect_status":[200]`, `"follow_redirects":true`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("%s does not contain %s", out, want)
		}
	}
	if strings.Contains(string(out), "headers") {
		t.Errorf("empty fields should be omitted: %s", out)
	}

	var d Duration
	if err := json.Unmarshal([]byte(`"soon"`), &d); err == nil {
		t.Error("want error for a bad duration string")
	}
	if err := json.Unmarshal([]byte(`5`), &d); err == nil || !strings.Contains(err.Error(), "2s") {
		t.Errorf("want a helpful error for a number, got %v", err)
	}
	if err := json.Unmarshal([]byte(`""`), &d); err != nil || d != 0 {
		t.Errorf("empty string: %v %v", d, err)
	}

	var tl TLS
	if err := json.Unmarshal([]byte(`{"address":"a:1","server_name":"a","warn_before":"336h"}`), &tl); err != nil {
		t.Fatal(err)
	}
	if tl.WarnBefore.D() != 14*24*time.Hour {
		t.Errorf("warn_before %v", tl.WarnBefore)
	}
}

func TestResultJSON(t *testing.T) {
	r := Result{OK: true, Latency: 32 * time.Millisecond, Message: "200 OK in 32ms", Details: map[string]string{"status": "200"}}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"ok":true,"latency":"32ms","message":"200 OK in 32ms","details":{"status":"200"}}` {
		t.Fatalf("got %s", b)
	}
	var back Result
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Latency != r.Latency || !back.OK || back.Details["status"] != "200" {
		t.Fatalf("round trip: %+v", back)
	}
}

func TestFieldError(t *testing.T) {
	err := FieldError{Field: "expect_regex", Msg: "does not compile"}
	if err.Error() != "expect_regex: does not compile" {
		t.Fatal(err.Error())
	}
	joined := errors.Join(err, FieldError{"timeout", "x"})
	var fe FieldError
	if !errors.As(joined, &fe) || fe.Field != "expect_regex" {
		t.Fatalf("errors.As: %v", fe)
	}
	if got := fieldsOf(joined); !slices.Equal(got, []string{"expect_regex", "timeout"}) {
		t.Fatalf("FieldErrors: %v", got)
	}
	if FieldErrors(nil) != nil {
		t.Fatal("FieldErrors(nil) should be nil")
	}
}

func TestInvalidConfigIsFailingResult(t *testing.T) {
	ctx := context.Background()
	for _, c := range []Check{&HTTP{}, &TCP{}, &DNS{}, &TLS{}, (*HTTP)(nil), (*TCP)(nil), (*DNS)(nil), (*TLS)(nil)} {
		r := c.Run(ctx)
		wantFail(t, r, "invalid configuration")
	}
}

// --- certificates -------------------------------------------------------

type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

var serial atomic.Int64

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newCA(t *testing.T, name string) *testCA {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(serial.Add(1)),
		Subject:               pkix.Name{CommonName: name, Organization: []string{"firebreak tests"}},
		NotBefore:             time.Now().Add(-24 * time.Hour),
		NotAfter:              time.Now().Add(10 * 365 * 24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert: cert, key: key, pool: pool}
}

// leaf issues a server certificate for localhost and 127.0.0.1.
func (ca *testCA) leaf(t *testing.T, notBefore, notAfter time.Time) tls.Certificate {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial.Add(1)),
		Subject:      pkix.Name{CommonName: "localhost"},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// serve accepts connections on ln until the test ends, running handle on
// each in its own goroutine.
func serve(t *testing.T, ln net.Listener, handle func(net.Conn)) string {
	t.Helper()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { _ = conn.Close() }()
				// A safety net so that a stuck test cannot hang the server.
				_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
				handle(conn)
			}()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		wg.Wait()
	})
	return ln.Addr().String()
}

// serveTLS serves cert on loopback; each connection completes the
// handshake, then runs handle (nil: wait for the client to close).
func serveTLS(t *testing.T, cert tls.Certificate, handle func(net.Conn)) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	return serve(t, ln, func(c net.Conn) {
		if err := c.(*tls.Conn).Handshake(); err != nil {
			return
		}
		if handle != nil {
			handle(c)
			return
		}
		_, _ = io.Copy(io.Discard, c)
	})
}
