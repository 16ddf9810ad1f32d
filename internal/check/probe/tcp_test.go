package probe

import (
	"bufio"
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// greet is an SMTP-like server: it says "220 ready", then answers each
// line with "echo: <line>" until the client goes away.
func greet(c net.Conn) {
	if _, err := io.WriteString(c, "220 ready\r\n"); err != nil {
		return
	}
	sc := bufio.NewScanner(c)
	for sc.Scan() {
		if _, err := io.WriteString(c, "echo: "+sc.Text()+"\r\n"); err != nil {
			return
		}
	}
}

func listenLoopback(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

func TestTCP(t *testing.T) {
	addr := serve(t, listenLoopback(t), greet)
	ctx := context.Background()

	r := (&TCP{Address: addr}).Run(ctx)
	wantOK(t, r)
	if !strings.HasPrefix(r.Message, "connected in ") || r.Details["remote_addr"] != addr {
		t.Errorf("result %+v", r)
	}

	r = (&TCP{Address: addr, Expect: "220 ready"}).Run(ctx)
	wantOK(t, r)
	if r.Message == "" || r.Details["response"] != `"220 ready\r\n"` || r.Latency <= 0 {
		t.Errorf("result %+v", r)
	}

	wantOK(t, (&TCP{Address: addr, Send: "PING\r\n", Expect: "echo: PING"}).Run(ctx))

	// The server keeps the connection open, so a wrong expectation ends
	// with the timeout and says what arrived.
	r = (&TCP{Address: addr, Expect: "SSH-2.0", Timeout: Duration(time.Second)}).Run(ctx)
	wantFail(t, r, `timed out after 1s waiting for "SSH-2.0"`, `got "220 ready\r\n"`)
}

func TestTCPClosedEarly(t *testing.T) {
	addr := serve(t, listenLoopback(t), func(c net.Conn) { _, _ = io.WriteString(c, "500 go away\r\n") })
	wantFail(t, (&TCP{Address: addr, Expect: "220"}).Run(context.Background()),
		`connection closed before "220" arrived`, `got "500 go away\r\n"`)

	silent := serve(t, listenLoopback(t), func(c net.Conn) {})
	wantFail(t, (&TCP{Address: silent, Expect: "220"}).Run(context.Background()), "got nothing")
}

func TestTCPRefused(t *testing.T) {
	addr := closedAddr(t)
	wantFail(t, (&TCP{Address: addr}).Run(context.Background()), "connection refused", addr)
}

func TestTCPCanceled(t *testing.T) {
	addr := serve(t, listenLoopback(t), greet)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	wantFail(t, (&TCP{Address: addr, Expect: "220"}).Run(ctx), "canceled")
}

func TestTCPCanceledWhileReading(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The server cancels the check once the client has sent its line, so
	// the client is blocked reading for an answer that never comes.
	addr := serve(t, listenLoopback(t), func(c net.Conn) {
		if _, err := bufio.NewReader(c).ReadString('\n'); err != nil {
			return
		}
		cancel()
		_, _ = io.Copy(io.Discard, c)
	})
	r := (&TCP{Address: addr, Send: "HELLO\r\n", Expect: "never", Timeout: Duration(time.Minute)}).Run(ctx)
	wantFail(t, r, "check canceled while waiting for \"never\"; got nothing")
}

func TestTCPCallerDeadline(t *testing.T) {
	addr := serve(t, listenLoopback(t), greet)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	// The caller's deadline is shorter than Timeout and is the one reported.
	r := (&TCP{Address: addr, Expect: "never", Timeout: Duration(time.Minute)}).Run(ctx)
	wantFail(t, r, "timed out after", `ms waiting for "never"`)
	if strings.Contains(r.Message, "1m0s") {
		t.Errorf("message %q names the configured timeout, not the caller's deadline", r.Message)
	}
}

func TestTCPOverTLS(t *testing.T) {
	ca := newCA(t, "Test CA")
	cert := ca.leaf(t, time.Now().Add(-time.Hour), time.Now().Add(60*24*time.Hour))
	addr := serveTLS(t, cert, greet)
	ctx := context.Background()

	r := (&TCP{Address: addr, TLS: true, RootCAs: ca.pool, Send: "HELO x\r\n", Expect: "echo: HELO x"}).Run(ctx)
	wantOK(t, r)
	if r.Details["tls_version"] == "" || r.Details["cert_not_after"] == "" {
		t.Errorf("details %v", r.Details)
	}
	wantOK(t, (&TCP{Address: addr, TLS: true, RootCAs: ca.pool, ServerName: "localhost", Expect: "220"}).Run(ctx))

	wantFail(t, (&TCP{Address: addr, TLS: true, Expect: "220"}).Run(ctx), "TLS", "unknown authority")
	wantFail(t, (&TCP{Address: addr, TLS: true, RootCAs: ca.pool, ServerName: "other.example"}).Run(ctx), "TLS", "other.example")
	wantOK(t, (&TCP{Address: addr, TLS: true, SkipTLSVerify: true, Expect: "220"}).Run(ctx))

	// TLS to a plain-text server fails cleanly.
	plain := serve(t, listenLoopback(t), greet)
	wantFail(t, (&TCP{Address: plain, TLS: true, Timeout: Duration(5 * time.Second)}).Run(ctx), "did not answer with TLS")
}

func TestTCPValidate(t *testing.T) {
	wantFields(t, (&TCP{Address: "db.example.test:5432"}).Validate())
	wantFields(t, (&TCP{Address: "[::1]:22"}).Validate())
	for _, tc := range []struct {
		c     TCP
		field string
	}{
		{TCP{}, "address"},
		{TCP{Address: "db.example.test"}, "address"},
		{TCP{Address: "db.example.test:0"}, "address"},
		{TCP{Address: "db.example.test:postgres"}, "address"},
		{TCP{Address: ":5432"}, "address"},
		{TCP{Address: "db:1", Timeout: Duration(10 * time.Minute)}, "timeout"},
		{TCP{Address: "db:1", ServerName: "db"}, "server_name"},
	} {
		wantFields(t, tc.c.Validate(), tc.field)
	}
}
