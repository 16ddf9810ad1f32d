// Package probe holds firebreak's built-in network checks (检测): HTTP, TCP,
// DNS and TLS certificate probes.
//
// Each check is a plain configuration struct with two methods:
//
//   - Validate reports bad configuration as FieldError values naming the JSON
//     field at fault (joined with errors.Join when there are several).
//   - Run performs the check once and returns a Result. Run never panics and
//     never returns an error: a check that cannot run (DNS failure, refused
//     connection, timeout, bad certificate, invalid configuration) is a
//     failing Result whose Message says why.
//
// The package keeps no state and no storage; scheduling, history and alerting
// live elsewhere.
package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"
)

// DefaultTimeout is the time a check may take when its Timeout is zero.
const DefaultTimeout = 10 * time.Second

// MaxTimeout is the largest Timeout that Validate accepts.
const MaxTimeout = 5 * time.Minute

// Check is implemented by every probe configuration in this package.
type Check interface {
	Validate() error
	Run(ctx context.Context) Result
}

var (
	_ Check = (*HTTP)(nil)
	_ Check = (*TCP)(nil)
	_ Check = (*DNS)(nil)
	_ Check = (*TLS)(nil)
)

// Result is the outcome of one run of a check.
type Result struct {
	OK bool `json:"ok"`
	// Latency is the time to the answer: for HTTP connect, TLS, first byte
	// and the (bounded) body; for TCP connect, TLS and the expected bytes;
	// for DNS the exchange; for TLS connect and handshake. It is zero when
	// the check never got an answer.
	Latency time.Duration `json:"latency"`
	// Message is one line: why the check failed, or a short note when OK.
	Message string `json:"message"`
	// Details holds optional facts such as status, cert_not_after, answers.
	Details map[string]string `json:"details,omitempty"`
}

type resultJSON struct {
	OK      bool              `json:"ok"`
	Latency Duration          `json:"latency"`
	Message string            `json:"message"`
	Details map[string]string `json:"details,omitempty"`
}

// MarshalJSON writes Latency as a Go duration string such as "32ms".
func (r Result) MarshalJSON() ([]byte, error) {
	return json.Marshal(resultJSON{OK: r.OK, Latency: Duration(r.Latency), Message: r.Message, Details: r.Details})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (r *Result) UnmarshalJSON(b []byte) error {
	var v resultJSON
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*r = Result{OK: v.OK, Latency: time.Duration(v.Latency), Message: v.Message, Details: v.Details}
	return nil
}

// Duration is a time.Duration that reads and writes JSON (and text, e.g.
// YAML) as a Go duration string like "2s" or "1m30s". JSON null and "" read
// as zero.
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String formats d like time.Duration.String.
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	if s == "" {
		*d = 0
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("invalid duration %q: want a Go duration such as \"2s\", \"500ms\" or \"1m30s\"", s)
	}
	*d = Duration(v)
	return nil
}

// MarshalJSON implements json.Marshaler.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON implements json.Unmarshaler.
func (d *Duration) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("invalid duration %s: want a string such as \"2s\", \"500ms\" or \"1m30s\"", b)
	}
	return d.UnmarshalText([]byte(s))
}

// FieldError is a configuration problem with one JSON field, such as
// FieldError{"expect_status[0]", "must be between 100 and 599"}.
type FieldError struct {
	Field string
	Msg   string
}

func (e FieldError) Error() string { return e.Field + ": " + e.Msg }

// FieldErrors returns every FieldError in err, looking through errors.Join
// and wrapping. It returns nil when err is nil.
func FieldErrors(err error) []FieldError {
	var out []FieldError
	var walk func(error)
	walk = func(e error) {
		switch x := e.(type) {
		case nil:
		case FieldError:
			out = append(out, x)
		case *FieldError:
			if x != nil {
				out = append(out, *x)
			}
		case interface{ Unwrap() []error }:
			for _, inner := range x.Unwrap() {
				walk(inner)
			}
		case interface{ Unwrap() error }:
			walk(x.Unwrap())
		}
	}
	walk(err)
	return out
}

// fieldErrs collects FieldErrors during validation.
type fieldErrs []error

func (f *fieldErrs) add(field, format string, args ...any) {
	*f = append(*f, FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
}

func (f fieldErrs) err() error { return errors.Join(f...) }

func (f *fieldErrs) timeout(field string, d Duration) {
	if d < 0 {
		f.add(field, "must not be negative")
	} else if d.D() > MaxTimeout {
		f.add(field, "must be at most %s", MaxTimeout)
	}
}

// hostPort checks a "host:port" address field with a numeric port.
func (f *fieldErrs) hostPort(field, addr string) {
	if strings.TrimSpace(addr) == "" {
		f.add(field, "is required (host:port)")
		return
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		f.add(field, "must be host:port, e.g. \"example.com:443\" or \"[::1]:53\"")
		return
	}
	if host == "" {
		f.add(field, "host is missing")
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		f.add(field, "port %q must be a number between 1 and 65535", port)
	}
}

func orDefault(d Duration, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d.D()
}

func fail(msg string) Result { return Result{Message: msg} }

func invalid(err error) Result {
	return fail("invalid configuration: " + oneLine(err.Error()))
}

// guard turns a panic in a runner into a failing Result.
func guard(r *Result) {
	if p := recover(); p != nil {
		*r = fail(fmt.Sprintf("internal error in check: %v", p))
	}
}

// fmtDur formats a latency for messages: "850µs", "32ms", "1.204s".
func fmtDur(d time.Duration) string {
	if d < time.Millisecond {
		return d.Round(time.Microsecond).String()
	}
	return d.Round(time.Millisecond).String()
}

// oneLine collapses whitespace so a message stays on one line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// snippet quotes at most n bytes of b for a message, keeping valid UTF-8.
func snippet(b []byte, n int) string {
	cut := false
	if len(b) > n {
		b = b[:n]
		for len(b) > 0 && !utf8.Valid(b) {
			b = b[:len(b)-1]
		}
		cut = true
	}
	s := strconv.Quote(string(b))
	if cut {
		s += "…"
	}
	return s
}

// describeErr turns an error from dialing, a handshake or an exchange into a
// one-line reason. ctx is the caller's context and runCtx the one carrying
// the check's own timeout.
func describeErr(ctx, runCtx context.Context, timeout time.Duration, err error) string {
	if errors.Is(ctx.Err(), context.Canceled) {
		return "check canceled"
	}
	if runCtx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
		return "timed out after " + timeout.String()
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		msg := "DNS lookup of " + dnsErr.Name + " failed"
		switch {
		case dnsErr.IsNotFound:
			return msg + ": no such host"
		case dnsErr.IsTimeout:
			return msg + ": timed out"
		}
		return msg + ": " + dnsErr.Err
	}
	if m := describeTLSErr(err); m != "" {
		return m
	}
	var opErr *net.OpError
	by, at := "", ""
	if errors.As(err, &opErr) && opErr.Addr != nil {
		by, at = " by "+opErr.Addr.String(), " ("+opErr.Addr.String()+")"
	}
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused" + by
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset" + by
	case errors.Is(err, syscall.EHOSTUNREACH):
		return "host unreachable" + at
	case errors.Is(err, syscall.ENETUNREACH):
		return "network unreachable" + at
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed by the server" + at
	}
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		err = urlErr.Err
	}
	return oneLine(err.Error())
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func describeTLSErr(err error) string {
	var (
		unknown   x509.UnknownAuthorityError
		hostErr   x509.HostnameError
		invalid   x509.CertificateInvalidError
		recordErr tls.RecordHeaderError
		alertErr  tls.AlertError
	)
	switch {
	case errors.As(err, &unknown):
		msg := "TLS: certificate signed by unknown authority"
		if unknown.Cert != nil {
			msg += " (issuer " + unknown.Cert.Issuer.String() + ")"
		}
		return msg
	case errors.As(err, &hostErr):
		return "TLS: " + oneLine(hostErr.Error())
	case errors.As(err, &invalid):
		return "TLS: " + oneLine(invalid.Error())
	case errors.As(err, &recordErr):
		return "TLS handshake failed: the server did not answer with TLS"
	case errors.As(err, &alertErr):
		return "TLS handshake failed: server sent alert: " + alertErr.Error()
	}
	var verr *tls.CertificateVerificationError
	if errors.As(err, &verr) {
		return "TLS: " + oneLine(verr.Err.Error())
	}
	return ""
}

// closeOnDone closes c once ctx ends, so that blocking reads and writes
// return whatever deadlines are set on c. The returned function stops the
// watch.
func closeOnDone(ctx context.Context, c io.Closer) func() bool {
	return context.AfterFunc(ctx, func() { _ = c.Close() })
}

// withTimeout derives the context a check runs in and returns the time it
// actually has: timeout, or less when ctx ends sooner.
func withTimeout(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc, time.Duration) {
	if dl, ok := ctx.Deadline(); ok {
		if left := time.Until(dl); left < timeout {
			timeout = max(left, 0).Round(time.Millisecond)
		}
	}
	runCtx, cancel := context.WithTimeout(ctx, timeout)
	return runCtx, cancel, timeout
}
