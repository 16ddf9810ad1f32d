package probe

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// testZone is served by the in-process DNS server.
var testZone = []string{
	"www.example.test. 300 IN A 192.0.2.10",
	"www.example.test. 60 IN A 192.0.2.11",
	"www.example.test. 300 IN AAAA 2001:db8::10",
	"alias.example.test. 300 IN CNAME www.example.test.",
	"dangling.example.test. 300 IN CNAME nowhere.example.test.",
	"example.test. 300 IN MX 10 mail.example.test.",
	"example.test. 300 IN MX 20 Backup.Example.Test.",
	`example.test. 300 IN TXT "v=spf1 -all"`,
	`example.test. 300 IN TXT "google-site-verification=" "abc123"`,
	"example.test. 300 IN NS ns1.example.test.",
	`example.test. 300 IN CAA 0 issue "ca.example.net"`,
	"_sip._tcp.example.test. 300 IN SRV 10 5 5060 sip.example.test.",
}

// testDNS is an authoritative server for testZone on 127.0.0.1, UDP and
// TCP on the same port. servfail.example.test. answers SERVFAIL and
// many.example.test. has enough A records to truncate a UDP answer.
type testDNS struct {
	addr string
}

func newTestDNS(t *testing.T) *testDNS {
	t.Helper()
	records := map[string][]dns.RR{}
	add := func(s string) {
		rr, err := dns.NewRR(s)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		name := strings.ToLower(rr.Header().Name)
		records[name] = append(records[name], rr)
	}
	for _, s := range testZone {
		add(s)
	}
	for i := range 200 {
		add(fmt.Sprintf("many.example.test. 300 IN A 198.51.100.%d", i))
	}

	handler := dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(req)
		m.Authoritative = true
		q := req.Question[0]
		name := strings.ToLower(q.Name)
		switch {
		case name == "servfail.example.test.":
			m.Rcode = dns.RcodeServerFailure
		case records[name] == nil:
			m.Rcode = dns.RcodeNameError
		default:
			for range 8 { // follow CNAMEs
				var next string
				for _, rr := range records[name] {
					if rr.Header().Rrtype == q.Qtype {
						m.Answer = append(m.Answer, rr)
					} else if c, ok := rr.(*dns.CNAME); ok {
						m.Answer = append(m.Answer, rr)
						next = strings.ToLower(c.Target)
					}
				}
				if next == "" {
					break
				}
				name = next
			}
		}
		if w.LocalAddr().Network() == "udp" {
			size := dns.MinMsgSize
			if opt := req.IsEdns0(); opt != nil {
				size = int(opt.UDPSize())
			}
			m.Truncate(size)
		}
		_ = w.WriteMsg(m)
	})

	pc, ln := listenUDPAndTCP(t)
	var wg sync.WaitGroup
	t.Cleanup(wg.Wait) // cleanups run last-first: after the Shutdowns below
	for _, srv := range []*dns.Server{
		{PacketConn: pc, Handler: handler},
		{Listener: ln, Handler: handler},
	} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = srv.ActivateAndServe()
		}()
		<-started
		t.Cleanup(func() { _ = srv.Shutdown() })
	}
	return &testDNS{addr: pc.LocalAddr().String()}
}

// listenUDPAndTCP finds a loopback port free for both UDP and TCP.
func listenUDPAndTCP(t *testing.T) (net.PacketConn, net.Listener) {
	t.Helper()
	for range 50 {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			return pc, ln
		}
		_ = pc.Close()
	}
	t.Fatal("no loopback port free for both UDP and TCP")
	return nil, nil
}

func TestDNSAnswers(t *testing.T) {
	srv := newTestDNS(t)
	ctx := context.Background()
	for _, proto := range []string{"udp", "tcp"} {
		t.Run(proto, func(t *testing.T) {
			run := func(name, typ string, expect ...string) Result {
				return (&DNS{Name: name, Type: typ, Resolver: srv.addr, Protocol: proto, Expect: expect, Timeout: Duration(5 * time.Second)}).Run(ctx)
			}
			r := run("www.example.test", "A", "192.0.2.10", "192.0.2.11")
			wantOK(t, r)
			if r.Details["answers"] != "192.0.2.10, 192.0.2.11" || r.Details["rcode"] != "NOERROR" ||
				r.Details["ttl"] != "60" || r.Details["protocol"] != proto || r.Details["resolver"] != srv.addr {
				t.Errorf("details %v", r.Details)
			}
			if !strings.HasPrefix(r.Message, "A 192.0.2.10, 192.0.2.11 in ") {
				t.Errorf("message %q", r.Message)
			}
			wantOK(t, run("WWW.Example.Test.", "a"))
			wantOK(t, run("www.example.test", "AAAA", "2001:DB8:0::10"))
			wantOK(t, run("example.test", "MX", "10 mail.example.test", "20 backup.example.test."))
			wantOK(t, run("example.test", "TXT", "v=spf1 -all", "google-site-verification=abc123"))
			wantOK(t, run("example.test", "NS", "ns1.example.test."))
			wantOK(t, run("example.test", "CAA", "0 issue ca.example.net"))
			wantOK(t, run("_sip._tcp.example.test", "SRV", "10 5 5060 sip.example.test"))
			wantOK(t, run("alias.example.test", "CNAME", "www.example.test"))

			// A query through a CNAME answers with the target's records.
			r = run("alias.example.test", "A", "192.0.2.11")
			wantOK(t, r)
			if r.Details["cname"] != "www.example.test" {
				t.Errorf("details %v", r.Details)
			}

			wantFail(t, run("www.example.test", "A", "192.0.2.99"),
				`"192.0.2.99" is not among the A answers for www.example.test: 192.0.2.10, 192.0.2.11`)
			wantFail(t, run("example.test", "MX", "10 mail.example.test", "5 other.example.test", "30 x.example.test"),
				`"5 other.example.test", "30 x.example.test" are not among the MX answers`)

			r = run("nosuch.example.test", "A")
			wantFail(t, r, "NXDOMAIN", "nosuch.example.test A", srv.addr)
			if r.Details["rcode"] != "NXDOMAIN" {
				t.Errorf("details %v", r.Details)
			}
			wantFail(t, run("servfail.example.test", "A"), "SERVFAIL")
			wantFail(t, run("example.test", "A"), "NOERROR but no A records for example.test")
			wantFail(t, run("dangling.example.test", "A"), "no A records", "CNAME to nowhere.example.test")
		})
	}
}

func TestDNSTruncatedFallsBackToTCP(t *testing.T) {
	srv := newTestDNS(t)
	r := (&DNS{Name: "many.example.test", Resolver: srv.addr, Expect: []string{"198.51.100.199"}}).Run(context.Background())
	wantOK(t, r)
	if !strings.Contains(r.Details["protocol"], "truncated") || !strings.Contains(r.Message, "(+195 more)") {
		t.Errorf("result %+v", r)
	}
}

func TestDNSNoAnswer(t *testing.T) {
	// A UDP socket that never answers.
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	addr := pc.LocalAddr().String()
	r := (&DNS{Name: "www.example.test", Resolver: addr, Timeout: Duration(150 * time.Millisecond)}).Run(context.Background())
	wantFail(t, r, "no answer from resolver "+addr+" within 150ms", "www.example.test A")

	// Nothing listening on TCP.
	closed := closedAddr(t)
	wantFail(t, (&DNS{Name: "www.example.test", Resolver: closed, Protocol: "tcp"}).Run(context.Background()),
		"query to resolver "+closed+" failed", "connection refused")
}

func TestDNSCanceled(t *testing.T) {
	srv := newTestDNS(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	wantFail(t, (&DNS{Name: "www.example.test", Resolver: srv.addr}).Run(ctx), "canceled")
}

func TestDNSDefaultResolver(t *testing.T) {
	// Whatever the machine's resolver is, the configured address is used
	// and reported; the query itself may or may not be answered here.
	got := systemResolver()
	if _, _, err := net.SplitHostPort(got); err != nil {
		t.Fatalf("systemResolver() = %q: %v", got, err)
	}
}

func TestDNSValidate(t *testing.T) {
	wantFields(t, (&DNS{Name: "example.com"}).Validate())
	wantFields(t, (&DNS{Name: "example.com", Type: "mx", Resolver: "192.0.2.53", Protocol: "TCP"}).Validate())
	wantFields(t, (&DNS{Name: "example.com", Resolver: "[2001:db8::53]:5353"}).Validate())
	for _, tc := range []struct {
		c     DNS
		field string
	}{
		{DNS{}, "name"},
		{DNS{Name: "bad name.example"}, "name"},
		{DNS{Name: "a..b"}, "name"},
		{DNS{Name: "example.com", Type: "BOGUS"}, "type"},
		{DNS{Name: "example.com", Type: "PTR"}, "type"},
		{DNS{Name: "example.com", Resolver: "127.0.0.1:notaport"}, "resolver"},
		{DNS{Name: "example.com", Resolver: "127.0.0.1:0"}, "resolver"},
		{DNS{Name: "example.com", Resolver: "http://8.8.8.8/"}, "resolver"},
		{DNS{Name: "example.com", Protocol: "quic"}, "protocol"},
		{DNS{Name: "example.com", Expect: []string{"1.2.3.4", " "}}, "expect[1]"},
		{DNS{Name: "example.com", Timeout: Duration(-1)}, "timeout"},
	} {
		wantFields(t, tc.c.Validate(), tc.field)
	}
}

func TestNormalizeAnswer(t *testing.T) {
	for in, want := range map[string]string{
		"Mail.Example.COM.":           "mail.example.com",
		"10  Mail.Example.com.":       "10 mail.example.com",
		"2001:DB8:0:0::1":             "2001:db8::1",
		"::ffff:192.0.2.1":            "192.0.2.1",
		`0 issue ca.example.net`:      "0 issue ca.example.net",
		" 10 5 5060 sip.example.com ": "10 5 5060 sip.example.com",
	} {
		if got := normalizeAnswer(in); got != want {
			t.Errorf("normalizeAnswer(%q) = %q, want %q", in, got, want)
		}
	}
}
