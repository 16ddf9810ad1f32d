package probe

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// tcpReadLimit is how many bytes a TCP check reads looking for Expect.
const tcpReadLimit = 64 << 10

// TCP checks that a port accepts connections and, optionally, that it
// answers with the expected bytes.
type TCP struct {
	Address string   `json:"address"`          // host:port
	Send    string   `json:"send,omitempty"`   // written after connecting (and the TLS handshake)
	Expect  string   `json:"expect,omitempty"` // substring of the first bytes read (up to 64 KiB)
	Timeout Duration `json:"timeout,omitempty"`
	TLS     bool     `json:"tls,omitempty"` // speak TLS after connecting

	// ServerName is the TLS server name; default the host of Address.
	ServerName string `json:"server_name,omitempty"`
	// SkipTLSVerify accepts any certificate when TLS is set.
	SkipTLSVerify bool `json:"skip_tls_verify,omitempty"`
	// RootCAs verifies the server certificate when TLS is set (tests);
	// nil means the system roots.
	RootCAs *x509.CertPool `json:"-"`
}

// Validate reports configuration problems as FieldErrors.
func (c *TCP) Validate() error {
	var errs fieldErrs
	if c == nil {
		errs.add("address", "is required (host:port)")
		return errs.err()
	}
	errs.hostPort("address", c.Address)
	errs.timeout("timeout", c.Timeout)
	if !c.TLS && c.ServerName != "" {
		errs.add("server_name", "is only used with tls")
	}
	return errs.err()
}

// Run connects, optionally sends Send, and waits for Expect.
func (c *TCP) Run(ctx context.Context) (res Result) {
	defer guard(&res)
	if err := c.Validate(); err != nil {
		return invalid(err)
	}
	runCtx, cancel, timeout := withTimeout(ctx, orDefault(c.Timeout, DefaultTimeout))
	defer cancel()

	start := time.Now()
	conn, err := (&net.Dialer{}).DialContext(runCtx, "tcp", c.Address)
	if err != nil {
		return fail(describeErr(ctx, runCtx, timeout, err))
	}
	defer func() { _ = conn.Close() }()
	details := map[string]string{"remote_addr": conn.RemoteAddr().String()}
	if c.TLS {
		host, _, _ := net.SplitHostPort(c.Address)
		sn := c.ServerName
		if sn == "" {
			sn = host
		}
		tc := tls.Client(conn, &tls.Config{ServerName: sn, RootCAs: c.RootCAs, InsecureSkipVerify: c.SkipTLSVerify})
		if err := tc.HandshakeContext(runCtx); err != nil {
			r := fail(describeErr(ctx, runCtx, timeout, err))
			r.Details = details
			return r
		}
		cs := tc.ConnectionState()
		details["tls_version"] = tls.VersionName(cs.Version)
		if len(cs.PeerCertificates) > 0 {
			details["cert_not_after"] = cs.PeerCertificates[0].NotAfter.UTC().Format(time.RFC3339)
		}
		conn = tc
	}
	if dl, ok := runCtx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := closeOnDone(runCtx, conn)
	defer stop()
	details["connect"] = fmtDur(time.Since(start))
	what := "connected"
	if c.TLS {
		what = "connected with TLS"
	}

	if c.Send != "" {
		if _, err := io.WriteString(conn, c.Send); err != nil {
			return Result{Message: what + " but sending failed: " + describeErr(ctx, runCtx, timeout, err), Details: details}
		}
	}
	if c.Expect == "" {
		lat := time.Since(start)
		return Result{OK: true, Latency: lat, Message: what + " in " + fmtDur(lat), Details: details}
	}

	want := []byte(c.Expect)
	var got []byte
	buf := make([]byte, 4096)
	for {
		n, err := conn.Read(buf)
		got = append(got, buf[:n]...)
		if bytes.Contains(got, want) {
			lat := time.Since(start)
			details["response"] = snippet(got, 200)
			return Result{OK: true, Latency: lat, Message: fmt.Sprintf("got %s in %s", snippet(want, 80), fmtDur(lat)), Details: details}
		}
		if len(got) >= tcpReadLimit {
			details["response"] = snippet(got, 200)
			return Result{Latency: time.Since(start), Details: details,
				Message: fmt.Sprintf("%s not in the first %d bytes; got %s", snippet(want, 80), len(got), snippet(got, 80))}
		}
		if err != nil {
			gotText := "nothing"
			if len(got) > 0 {
				gotText = snippet(got, 80)
				details["response"] = snippet(got, 200)
			}
			var reason string
			switch {
			case errors.Is(err, io.EOF):
				reason = "connection closed before " + snippet(want, 80) + " arrived"
			case !errors.Is(ctx.Err(), context.Canceled) && (runCtx.Err() != nil || isTimeout(err)):
				reason = fmt.Sprintf("timed out after %s waiting for %s", timeout, snippet(want, 80))
			default:
				reason = describeErr(ctx, runCtx, timeout, err) + " while waiting for " + snippet(want, 80)
			}
			return Result{Message: reason + "; got " + gotText, Details: details}
		}
	}
}
