package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math"
	"net"
	"strconv"
	"strings"
	"time"
)

// DefaultWarnBefore is how long before expiry a TLS check starts failing
// when WarnBefore is zero.
const DefaultWarnBefore = 14 * 24 * time.Hour

// TLS checks a server's certificate: validity dates, hostname, chain of
// trust, and time left before expiry.
type TLS struct {
	Address string `json:"address"` // host:port
	// ServerName is sent as SNI and checked against the certificate;
	// default the host of Address.
	ServerName string `json:"server_name,omitempty"`
	// WarnBefore fails the check when the leaf expires within it;
	// default 14 days.
	WarnBefore Duration `json:"warn_before,omitempty"`
	// RootCAs verifies the chain (tests); nil means the system roots.
	RootCAs *x509.CertPool `json:"-"`
	Timeout Duration       `json:"timeout,omitempty"`
}

// Validate reports configuration problems as FieldErrors.
func (c *TLS) Validate() error {
	var errs fieldErrs
	if c == nil {
		errs.add("address", "is required (host:port)")
		return errs.err()
	}
	errs.hostPort("address", c.Address)
	if strings.ContainsAny(c.ServerName, " \t\r\n/:") {
		errs.add("server_name", "%q is not a host name", c.ServerName)
	}
	if c.WarnBefore < 0 {
		errs.add("warn_before", "must not be negative")
	}
	errs.timeout("timeout", c.Timeout)
	return errs.err()
}

// Run connects, completes a TLS handshake and judges the certificate.
func (c *TLS) Run(ctx context.Context) (res Result) {
	defer guard(&res)
	if err := c.Validate(); err != nil {
		return invalid(err)
	}
	warn := orDefault(c.WarnBefore, DefaultWarnBefore)
	runCtx, cancel, timeout := withTimeout(ctx, orDefault(c.Timeout, DefaultTimeout))
	defer cancel()

	host, _, _ := net.SplitHostPort(c.Address)
	sn := c.ServerName
	if sn == "" {
		sn = host
	}
	// Verification is done below, after the handshake, so that the
	// message can say which problem the certificate has.
	dialer := &tls.Dialer{Config: &tls.Config{ServerName: sn, InsecureSkipVerify: true}}
	start := time.Now()
	conn, err := dialer.DialContext(runCtx, "tcp", c.Address)
	if err != nil {
		return fail(describeErr(ctx, runCtx, timeout, err))
	}
	latency := time.Since(start)
	cs := conn.(*tls.Conn).ConnectionState()
	_ = conn.Close()

	if len(cs.PeerCertificates) == 0 {
		return Result{Latency: latency, Message: "server sent no certificate"}
	}
	leaf := cs.PeerCertificates[0]
	details := map[string]string{
		"not_before":  leaf.NotBefore.UTC().Format(time.RFC3339),
		"not_after":   leaf.NotAfter.UTC().Format(time.RFC3339),
		"issuer":      leaf.Issuer.String(),
		"subject":     leaf.Subject.String(),
		"dns_names":   strings.Join(leaf.DNSNames, ","),
		"server_name": sn,
		"tls_version": tls.VersionName(cs.Version),
	}
	if len(leaf.IPAddresses) > 0 {
		ips := make([]string, len(leaf.IPAddresses))
		for i, ip := range leaf.IPAddresses {
			ips[i] = ip.String()
		}
		details["ip_addresses"] = strings.Join(ips, ",")
	}
	now := time.Now()
	left := leaf.NotAfter.Sub(now)
	details["days_left"] = strconv.Itoa(wholeDays(left))
	res = Result{Latency: latency, Details: details}

	var problems []string
	timeValid := true
	if now.Before(leaf.NotBefore) {
		timeValid = false
		problems = append(problems, fmt.Sprintf("certificate is not valid until %s (%s from now)",
			fmtDate(leaf.NotBefore), daysText(leaf.NotBefore.Sub(now))))
	}
	if now.After(leaf.NotAfter) {
		timeValid = false
		problems = append(problems, fmt.Sprintf("certificate expired on %s (%s ago)", fmtDate(leaf.NotAfter), daysText(-left)))
	}
	if err := leaf.VerifyHostname(sn); err != nil {
		covers := "it has no names"
		if names := certNames(leaf); len(names) > 0 {
			covers = "it is for " + listCut(names, 5)
		}
		problems = append(problems, fmt.Sprintf("certificate is not valid for %q: %s", sn, covers))
	}
	if msg := verifyChain(leaf, cs.PeerCertificates[1:], c.RootCAs, now, timeValid); msg != "" {
		problems = append(problems, msg)
	}
	if len(problems) > 0 {
		res.Message = strings.Join(problems, "; ")
		return res
	}
	if left < warn {
		res.Message = fmt.Sprintf("certificate expires on %s (%s left, warning at %s)",
			fmtDate(leaf.NotAfter), daysText(left), daysText(warn))
		return res
	}
	res.OK = true
	res.Message = fmt.Sprintf("certificate expires in %s (%s)", daysText(left), fmtDate(leaf.NotAfter))
	return res
}

// verifyChain checks that the leaf chains to a trusted root. When the leaf
// is outside its validity period (already reported), trust is checked at a
// time inside it so that an untrusted chain is still reported.
func verifyChain(leaf *x509.Certificate, inter []*x509.Certificate, roots *x509.CertPool, now time.Time, timeValid bool) string {
	pool := x509.NewCertPool()
	for _, c := range inter {
		pool.AddCert(c)
	}
	at := now
	if !timeValid {
		at = leaf.NotBefore.Add(leaf.NotAfter.Sub(leaf.NotBefore) / 2)
	}
	_, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: pool, CurrentTime: at})
	if err == nil {
		return ""
	}
	var (
		unknown x509.UnknownAuthorityError
		invalid x509.CertificateInvalidError
	)
	switch {
	case errors.As(err, &unknown):
		return "untrusted certificate chain: signed by unknown authority " + strconv.Quote(leafIssuer(leaf, inter))
	case errors.As(err, &invalid):
		if invalid.Reason == x509.Expired && !timeValid {
			return ""
		}
		return "untrusted certificate chain: " + oneLine(invalid.Error())
	}
	return "untrusted certificate chain: " + oneLine(err.Error())
}

// leafIssuer names the top of the presented chain's issuer.
func leafIssuer(leaf *x509.Certificate, inter []*x509.Certificate) string {
	top := leaf
	if len(inter) > 0 {
		top = inter[len(inter)-1]
	}
	if top.Issuer.CommonName != "" {
		return top.Issuer.CommonName
	}
	return top.Issuer.String()
}

func certNames(cert *x509.Certificate) []string {
	names := append([]string(nil), cert.DNSNames...)
	for _, ip := range cert.IPAddresses {
		names = append(names, ip.String())
	}
	if len(names) == 0 && cert.Subject.CommonName != "" {
		names = append(names, "CN="+cert.Subject.CommonName)
	}
	return names
}

func wholeDays(d time.Duration) int {
	return int(math.Floor(d.Hours() / 24))
}

// daysText says a positive span in days ("40 days", "1 day"), or in hours
// under a day.
func daysText(d time.Duration) string {
	if d < 24*time.Hour {
		h := int(d.Hours())
		if h == 1 {
			return "1 hour"
		}
		if h < 1 {
			return "less than an hour"
		}
		return strconv.Itoa(h) + " hours"
	}
	n := wholeDays(d)
	if n == 1 {
		return "1 day"
	}
	return strconv.Itoa(n) + " days"
}

func fmtDate(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }
