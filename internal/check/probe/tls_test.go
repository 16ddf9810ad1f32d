package probe

import (
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

const day = 24 * time.Hour

func TestTLSCertificates(t *testing.T) {
	ca := newCA(t, "Firebreak Test CA")
	otherCA := newCA(t, "Someone Else CA")
	now := time.Now()
	ctx := context.Background()
	check := func(addr string) *TLS {
		return &TLS{Address: addr, ServerName: "localhost", RootCAs: ca.pool, WarnBefore: Duration(14 * day), Timeout: Duration(5 * time.Second)}
	}

	t.Run("valid", func(t *testing.T) {
		addr := serveTLS(t, ca.leaf(t, now.Add(-day), now.Add(60*day+time.Hour)), nil)
		r := check(addr).Run(ctx)
		wantOK(t, r)
		if !strings.HasPrefix(r.Message, "certificate expires in 60 days (") {
			t.Errorf("message %q", r.Message)
		}
		d := r.Details
		if d["dns_names"] != "localhost" || !strings.Contains(d["issuer"], "Firebreak Test CA") ||
			!strings.Contains(d["subject"], "localhost") || d["not_after"] == "" || d["days_left"] != "60" ||
			d["ip_addresses"] != "127.0.0.1" || d["tls_version"] == "" {
			t.Errorf("details %v", d)
		}
		if _, err := time.Parse(time.RFC3339, d["not_after"]); err != nil {
			t.Errorf("not_after %q: %v", d["not_after"], err)
		}
		if r.Latency <= 0 {
			t.Errorf("latency %v", r.Latency)
		}
		// Server name defaults to the host of Address: the IP is in the SANs.
		c := check(addr)
		c.ServerName = ""
		wantOK(t, c.Run(ctx))
	})

	t.Run("expiring soon", func(t *testing.T) {
		notAfter := now.Add(3*day + time.Hour)
		addr := serveTLS(t, ca.leaf(t, now.Add(-80*day), notAfter), nil)
		r := check(addr).Run(ctx)
		wantFail(t, r, "certificate expires on "+notAfter.UTC().Format("2006-01-02"), "3 days left")
		if r.Details["days_left"] != "3" {
			t.Errorf("details %v", r.Details)
		}
		// A shorter warning window accepts it.
		c := check(addr)
		c.WarnBefore = Duration(2 * day)
		wantOK(t, c.Run(ctx))
		// The default window is 14 days.
		c.WarnBefore = 0
		wantFail(t, c.Run(ctx), "3 days left", "warning at 14 days")
	})

	t.Run("expired", func(t *testing.T) {
		addr := serveTLS(t, ca.leaf(t, now.Add(-90*day), now.Add(-2*day-time.Hour)), nil)
		r := check(addr).Run(ctx)
		wantFail(t, r, "certificate expired on", "(2 days ago)")
		if strings.Contains(r.Message, "untrusted") || strings.Contains(r.Message, "not valid for") {
			t.Errorf("only the expiry is wrong: %q", r.Message)
		}
	})

	t.Run("not yet valid", func(t *testing.T) {
		addr := serveTLS(t, ca.leaf(t, now.Add(2*day+time.Hour), now.Add(90*day)), nil)
		wantFail(t, check(addr).Run(ctx), "certificate is not valid until", "2 days from now")
	})

	t.Run("wrong hostname", func(t *testing.T) {
		addr := serveTLS(t, ca.leaf(t, now.Add(-day), now.Add(60*day)), nil)
		c := check(addr)
		c.ServerName = "www.example.test"
		r := c.Run(ctx)
		wantFail(t, r, `certificate is not valid for "www.example.test"`, "it is for localhost, 127.0.0.1")
		if strings.Contains(r.Message, "untrusted") {
			t.Errorf("only the name is wrong: %q", r.Message)
		}
	})

	t.Run("unknown CA", func(t *testing.T) {
		addr := serveTLS(t, ca.leaf(t, now.Add(-day), now.Add(60*day)), nil)
		c := check(addr)
		c.RootCAs = otherCA.pool
		wantFail(t, c.Run(ctx), "untrusted certificate chain", `unknown authority "Firebreak Test CA"`)
	})

	t.Run("expired and untrusted", func(t *testing.T) {
		addr := serveTLS(t, ca.leaf(t, now.Add(-90*day), now.Add(-day-time.Hour)), nil)
		c := check(addr)
		c.RootCAs = otherCA.pool
		wantFail(t, c.Run(ctx), "certificate expired on", "; untrusted certificate chain")
	})
}

func TestTLSConnectionProblems(t *testing.T) {
	ctx := context.Background()
	closed := closedAddr(t)
	wantFail(t, (&TLS{Address: closed}).Run(ctx), "connection refused", closed)

	// A server that speaks something else first.
	ssh := serve(t, listenLoopback(t), func(c net.Conn) {
		_, _ = io.WriteString(c, "SSH-2.0-OpenSSH_9.6\r\n")
		_, _ = io.Copy(io.Discard, c)
	})
	wantFail(t, (&TLS{Address: ssh}).Run(ctx), "did not answer with TLS")

	// A server that accepts and never answers.
	mute := serve(t, listenLoopback(t), func(c net.Conn) { _, _ = io.Copy(io.Discard, c) })
	wantFail(t, (&TLS{Address: mute, Timeout: Duration(150 * time.Millisecond)}).Run(ctx), "timed out after 150ms")
}

func TestTLSValidate(t *testing.T) {
	wantFields(t, (&TLS{Address: "example.com:443"}).Validate())
	for _, tc := range []struct {
		c     TLS
		field string
	}{
		{TLS{}, "address"},
		{TLS{Address: "example.com"}, "address"},
		{TLS{Address: "example.com:https"}, "address"},
		{TLS{Address: "example.com:443", ServerName: "a b"}, "server_name"},
		{TLS{Address: "example.com:443", WarnBefore: Duration(-day)}, "warn_before"},
		{TLS{Address: "example.com:443", Timeout: Duration(time.Hour)}, "timeout"},
	} {
		wantFields(t, tc.c.Validate(), tc.field)
	}
}
