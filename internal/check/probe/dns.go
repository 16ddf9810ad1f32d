package probe

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// DNSTypes are the record types a DNS check can query.
var DNSTypes = []string{"A", "AAAA", "CNAME", "MX", "TXT", "NS", "SRV", "CAA"}

// resolvConf is where the default resolver is read from.
const resolvConf = "/etc/resolv.conf"

// DNS checks that a name resolves, optionally to the expected answers.
type DNS struct {
	Name string `json:"name"`
	// Type is one of DNSTypes; default A.
	Type string `json:"type,omitempty"`
	// Resolver is host:port (a bare host means port 53); default the first
	// nameserver of /etc/resolv.conf, else 127.0.0.1:53.
	Resolver string `json:"resolver,omitempty"`
	// Expect lists values that must each appear among the answers of Type,
	// compared lower-case with trailing dots trimmed. Forms: A/AAAA "192.0.2.1",
	// CNAME/NS "host.example.com", MX "10 mail.example.com", TXT the text
	// (chunks joined), SRV "10 5 5060 sip.example.com", CAA "0 issue ca.example".
	Expect   []string `json:"expect,omitempty"`
	Timeout  Duration `json:"timeout,omitempty"`
	Protocol string   `json:"protocol,omitempty"` // udp (default) or tcp
}

// Validate reports configuration problems as FieldErrors.
func (c *DNS) Validate() error {
	var errs fieldErrs
	if c == nil {
		errs.add("name", "is required")
		return errs.err()
	}
	name := strings.TrimSpace(c.Name)
	if name == "" {
		errs.add("name", "is required")
	} else if _, ok := dns.IsDomainName(name); !ok || strings.ContainsAny(name, " \t\r\n") {
		errs.add("name", "%q is not a valid domain name", c.Name)
	}
	if c.Type != "" && !slices.Contains(DNSTypes, strings.ToUpper(strings.TrimSpace(c.Type))) {
		errs.add("type", "%q is not supported (use one of %s)", c.Type, strings.Join(DNSTypes, ", "))
	}
	if c.Resolver != "" {
		if _, err := resolverAddr(c.Resolver); err != nil {
			errs.add("resolver", "%s", err)
		}
	}
	switch strings.ToLower(strings.TrimSpace(c.Protocol)) {
	case "", "udp", "tcp":
	default:
		errs.add("protocol", "%q must be udp or tcp", c.Protocol)
	}
	for i, e := range c.Expect {
		if strings.TrimSpace(e) == "" {
			errs.add(fmt.Sprintf("expect[%d]", i), "must not be empty")
		}
	}
	errs.timeout("timeout", c.Timeout)
	return errs.err()
}

// resolverAddr normalises a resolver setting to host:port.
func resolverAddr(s string) (string, error) {
	s = strings.TrimSpace(s)
	if host, port, err := net.SplitHostPort(s); err == nil {
		if host == "" {
			return "", fmt.Errorf("%q has no host", s)
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return "", fmt.Errorf("port %q must be a number between 1 and 65535", port)
		}
		return s, nil
	}
	host := strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	if _, err := netip.ParseAddr(host); err == nil {
		return net.JoinHostPort(host, "53"), nil
	}
	if _, ok := dns.IsDomainName(host); ok && !strings.ContainsAny(host, ":/ ") {
		return net.JoinHostPort(host, "53"), nil
	}
	return "", fmt.Errorf("%q must be host:port, e.g. \"192.0.2.53:53\"", s)
}

// systemResolver is the first nameserver of /etc/resolv.conf, else
// 127.0.0.1:53.
func systemResolver() string {
	cfg, err := dns.ClientConfigFromFile(resolvConf)
	if err == nil && len(cfg.Servers) > 0 {
		port := cfg.Port
		if port == "" {
			port = "53"
		}
		return net.JoinHostPort(cfg.Servers[0], port)
	}
	return "127.0.0.1:53"
}

// Run sends one query and checks the answer.
func (c *DNS) Run(ctx context.Context) (res Result) {
	defer guard(&res)
	if err := c.Validate(); err != nil {
		return invalid(err)
	}
	runCtx, cancel, timeout := withTimeout(ctx, orDefault(c.Timeout, DefaultTimeout))
	defer cancel()

	typ := strings.ToUpper(strings.TrimSpace(c.Type))
	if typ == "" {
		typ = "A"
	}
	qtype := dns.StringToType[typ]
	name := dns.Fqdn(strings.TrimSpace(c.Name))
	resolver := systemResolver()
	if c.Resolver != "" {
		resolver, _ = resolverAddr(c.Resolver)
	}
	proto := strings.ToLower(strings.TrimSpace(c.Protocol))
	if proto == "" {
		proto = "udp"
	}
	details := map[string]string{"resolver": resolver, "protocol": proto}

	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.RecursionDesired = true
	m.SetEdns0(1232, false)

	start := time.Now()
	r, err := exchange(runCtx, proto, timeout, m, resolver)
	if err == nil && r.Truncated && proto == "udp" {
		details["protocol"] = "tcp (udp answer truncated)"
		r, err = exchange(runCtx, "tcp", timeout, m, resolver)
	}
	latency := time.Since(start)
	query := strings.TrimSuffix(name, ".") + " " + typ
	if err != nil {
		msg := describeErr(ctx, runCtx, timeout, err)
		if strings.HasPrefix(msg, "timed out") {
			msg = fmt.Sprintf("no answer from resolver %s within %s", resolver, timeout)
		} else {
			msg = "query to resolver " + resolver + " failed: " + msg
		}
		return Result{Message: msg + " (" + query + ")", Details: details}
	}
	rcode := dns.RcodeToString[r.Rcode]
	if rcode == "" {
		rcode = "RCODE" + strconv.Itoa(r.Rcode)
	}
	details["rcode"] = rcode
	res = Result{Latency: latency, Details: details}
	if r.Rcode != dns.RcodeSuccess {
		res.Message = fmt.Sprintf("%s for %s from %s", rcode, query, resolver)
		return res
	}

	var answers, cnames []string
	var minTTL uint32
	for _, rr := range r.Answer {
		h := rr.Header()
		if h.Rrtype == dns.TypeCNAME && qtype != dns.TypeCNAME {
			cnames = append(cnames, strings.TrimSuffix(rr.(*dns.CNAME).Target, "."))
		}
		if h.Rrtype != qtype {
			continue
		}
		if len(answers) == 0 || h.Ttl < minTTL {
			minTTL = h.Ttl
		}
		answers = append(answers, formatRR(rr))
	}
	if len(cnames) > 0 {
		details["cname"] = strings.Join(cnames, " -> ")
	}
	if len(answers) == 0 {
		res.Message = fmt.Sprintf("%s but no %s records for %s", rcode, typ, strings.TrimSuffix(name, "."))
		if len(cnames) > 0 {
			res.Message += " (CNAME to " + cnames[len(cnames)-1] + ")"
		}
		return res
	}
	details["answers"] = strings.Join(answers, ", ")
	details["ttl"] = strconv.FormatUint(uint64(minTTL), 10)

	have := make(map[string]bool, len(answers))
	for _, a := range answers {
		have[normalizeAnswer(a)] = true
	}
	var missing []string
	for _, e := range c.Expect {
		if !have[normalizeAnswer(e)] {
			missing = append(missing, strconv.Quote(strings.TrimSpace(e)))
		}
	}
	if len(missing) > 0 {
		noun := "is"
		if len(missing) > 1 {
			noun = "are"
		}
		res.Message = fmt.Sprintf("%s %s not among the %s answers for %s: %s",
			strings.Join(missing, ", "), noun, typ, strings.TrimSuffix(name, "."), listCut(answers, 5))
		return res
	}
	res.OK = true
	res.Message = fmt.Sprintf("%s %s in %s", typ, listCut(answers, 5), fmtDur(latency))
	return res
}

// exchange sends m and reads the answer, honouring ctx cancellation.
func exchange(ctx context.Context, proto string, timeout time.Duration, m *dns.Msg, addr string) (*dns.Msg, error) {
	client := &dns.Client{Net: proto, Timeout: timeout}
	co, err := client.DialContext(ctx, addr)
	if err != nil {
		return nil, err
	}
	defer func() { _ = co.Close() }()
	stop := closeOnDone(ctx, co)
	defer stop()
	r, _, err := client.ExchangeWithConnContext(ctx, m, co)
	if err == nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	return r, err
}

// formatRR is the text form of an answer used for Expect and messages.
func formatRR(rr dns.RR) string {
	switch x := rr.(type) {
	case *dns.A:
		return x.A.String()
	case *dns.AAAA:
		return x.AAAA.String()
	case *dns.CNAME:
		return strings.TrimSuffix(x.Target, ".")
	case *dns.NS:
		return strings.TrimSuffix(x.Ns, ".")
	case *dns.MX:
		return fmt.Sprintf("%d %s", x.Preference, strings.TrimSuffix(x.Mx, "."))
	case *dns.TXT:
		return strings.Join(x.Txt, "")
	case *dns.SRV:
		return fmt.Sprintf("%d %d %d %s", x.Priority, x.Weight, x.Port, strings.TrimSuffix(x.Target, "."))
	case *dns.CAA:
		return fmt.Sprintf("%d %s %s", x.Flag, x.Tag, x.Value)
	}
	// Fall back to the record's data after the header.
	s := rr.String()
	if h := rr.Header().String(); strings.HasPrefix(s, h) {
		s = s[len(h):]
	}
	return strings.TrimSpace(s)
}

// normalizeAnswer makes answers and expectations comparable: lower-case,
// single spaces, trailing dots trimmed, IP addresses in canonical form.
func normalizeAnswer(s string) string {
	fields := strings.Fields(strings.ToLower(s))
	for i, f := range fields {
		f = strings.TrimSuffix(f, ".")
		if ip, err := netip.ParseAddr(f); err == nil {
			f = ip.Unmap().String()
		}
		fields[i] = f
	}
	return strings.Join(fields, " ")
}

func listCut(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, ", ")
	}
	return strings.Join(items[:n], ", ") + fmt.Sprintf(" (+%d more)", len(items)-n)
}
