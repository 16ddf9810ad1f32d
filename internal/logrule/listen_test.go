package logrule

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

const waitFor = 5 * time.Second

// sink feeds received lines to an engine and collects lines and fires.
type sink struct {
	e     *Engine
	lines chan Line
	fires chan Fire
}

func newSink(t *testing.T) *sink {
	t.Helper()
	e, err := NewEngine([]Rule{
		mustRule(t, `{"id":"json-logins","match":{"field":"event","equals":"login_failed"},"group_by":["source_ip"],"count":3,"within":"5m"}`),
		mustRule(t, `{"id":"sd-logins","match":[{"field":"sd.auth@32473.event","equals":"login_failed"},{"regex":"^Failed password"}],"group_by":["sd.auth@32473.ip"],"count":3,"within":"5m"}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	return &sink{e: e, lines: make(chan Line, 100), fires: make(chan Fire, 100)}
}

func (s *sink) handle(l Line) {
	for _, f := range s.e.Observe(l) {
		s.fires <- f
	}
	s.lines <- l
}

func (s *sink) waitLines(t *testing.T, n int) []Line {
	t.Helper()
	var got []Line
	deadline := time.After(waitFor)
	for len(got) < n {
		select {
		case l := <-s.lines:
			got = append(got, l)
		case <-deadline:
			t.Fatalf("received %d lines of %d", len(got), n)
		}
	}
	return got
}

func (s *sink) waitFire(t *testing.T) Fire {
	t.Helper()
	select {
	case f := <-s.fires:
		return f
	case <-time.After(waitFor):
		t.Fatal("no fire")
	}
	return Fire{}
}

func (s *sink) noMoreFires(t *testing.T) {
	t.Helper()
	select {
	case f := <-s.fires:
		t.Fatalf("unexpected fire %+v", f)
	default:
	}
}

func nowStamp() string { return time.Now().UTC().Format(time.RFC3339Nano) }

func jsonMsg(ip string) string {
	return fmt.Sprintf(`<38>1 %s web1 app 7 - - {"event":"login_failed","source_ip":%q,"user":"root"}`, nowStamp(), ip)
}

func sdMsg(ip string) string {
	return fmt.Sprintf(`<86>1 %s bastion sshd 4121 - [auth@32473 event="login_failed" ip=%q] `+bom+`Failed password for root from %s`, nowStamp(), ip, ip)
}

func TestListenUDP(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := newSink(t)
	addr, err := ListenUDP(ctx, "127.0.0.1:0", s.handle)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("udp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	send := func(m string) {
		if _, err := c.Write([]byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	send(jsonMsg("10.0.0.9"))
	send(sdMsg("10.0.0.7"))
	send("garbage, dropped")
	send(jsonMsg("10.0.0.9") + "\n")
	send(sdMsg("10.0.0.7"))
	send("<13>1 - - - - - - no timestamp")
	lines := s.waitLines(t, 5)
	if l := lines[4]; l.Fields["message"] != "no timestamp" || time.Since(l.Time) > time.Minute {
		t.Errorf("a line without a timestamp: %+v", l)
	}
	s.noMoreFires(t)
	send(jsonMsg("10.0.0.9"))
	if f := s.waitFire(t); f.RuleID != "json-logins" || f.GroupKey != "source_ip=10.0.0.9" || f.Sample.Fields["hostname"] != "web1" {
		t.Fatalf("fire %+v", f)
	}
	send(sdMsg("10.0.0.7"))
	if f := s.waitFire(t); f.RuleID != "sd-logins" || f.Group["sd.auth@32473.ip"] != "10.0.0.7" || f.Count != 3 {
		t.Fatalf("fire %+v", f)
	}

	// When ctx ends the socket is closed: the port can be bound again.
	cancel()
	deadline := time.Now().Add(waitFor)
	for {
		pc, err := net.ListenPacket("udp", addr.String())
		if err == nil {
			pc.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("UDP listener still bound after cancel: %v", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func octet(m string) string { return fmt.Sprintf("%d %s", len(m), m) }

func TestListenTCP(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := newSink(t)
	addr, err := ListenTCP(ctx, "127.0.0.1:0", s.handle)
	if err != nil {
		t.Fatal(err)
	}
	dial := func() net.Conn {
		c, err := net.Dial("tcp", addr.String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	write := func(c net.Conn, parts ...string) {
		for _, p := range parts {
			if _, err := c.Write([]byte(p)); err != nil {
				t.Fatal(err)
			}
		}
	}

	// Octet counting: several messages per connection, one split across writes,
	// one too long (skipped), one not parsable (dropped).
	oc := dial()
	m1, m2 := octet(sdMsg("10.0.0.7")), octet(sdMsg("10.0.0.7"))
	long := "<13>1 - - - - - - " + strings.Repeat("x", MaxMessage)
	write(oc, m1+octet(long)+octet("not syslog")+m2[:2], m2[2:30], m2[30:])
	// Newline framing on a second connection, with a message split across writes
	// and a too-long line that is skipped.
	lf := dial()
	j1, j2 := jsonMsg("10.0.0.9"), jsonMsg("10.0.0.9")
	write(lf, j1+"\n"+strings.Repeat("y", MaxMessage+10)+"\n"+j2[:10], j2[10:]+"\r\n")
	lines := s.waitLines(t, 4)
	var sd, js int
	for _, l := range lines {
		switch l.Fields["app"] {
		case "sshd":
			sd++
		case "app":
			js++
		default:
			t.Errorf("unexpected line %+v", l)
		}
	}
	if sd != 2 || js != 2 {
		t.Fatalf("got %d octet-counted and %d newline-framed lines", sd, js)
	}
	s.noMoreFires(t)

	// The third line of each burst fires; a last line without a newline is
	// delivered when the connection closes.
	write(oc, octet(sdMsg("10.0.0.7")))
	if f := s.waitFire(t); f.RuleID != "sd-logins" || f.GroupKey != "sd.auth@32473.ip=10.0.0.7" {
		t.Fatalf("fire %+v", f)
	}
	write(lf, jsonMsg("10.0.0.9"))
	lf.(*net.TCPConn).CloseWrite()
	if f := s.waitFire(t); f.RuleID != "json-logins" || f.Group["source_ip"] != "10.0.0.9" || f.Count != 3 {
		t.Fatalf("fire %+v", f)
	}
	s.waitLines(t, 2)

	// A bad octet count closes the connection.
	bad := dial()
	write(bad, "12x <13>1 - - - - - - x")
	expectClosed(t, bad)

	// When ctx ends, open connections are closed and new ones refused.
	cancel()
	expectClosed(t, oc)
	deadline := time.Now().Add(waitFor)
	for {
		c, err := net.Dial("tcp", addr.String())
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("TCP listener still accepting after cancel")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// expectClosed waits for the server to close c.
func expectClosed(t *testing.T, c net.Conn) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(waitFor))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("connection not closed by the server")
	}
}

func TestTCPIdleTimeout(t *testing.T) {
	old := idleTimeout
	idleTimeout = 50 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr, err := ListenTCP(ctx, "127.0.0.1:0", func(Line) {})
	idleTimeout = old
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	expectClosed(t, c)
}

func TestReadFrameByteByByte(t *testing.T) {
	a, b := "<13>1 - h a - - - first", "<13>1 - h a - - - second"
	in := "\n" + octet(a) + "\n" + b + "\n\x00" + octet(a) + b
	r := bufio.NewReaderSize(iotest.OneByteReader(strings.NewReader(in)), MaxMessage+1)
	var got []string
	for {
		m, err := readFrame(r)
		if m != nil {
			got = append(got, string(bytes.TrimRight(m, "\n")))
		}
		if err != nil {
			if err != io.EOF {
				t.Fatal(err)
			}
			break
		}
	}
	want := []string{a, b, a, b}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("frames %q, want %q", got, want)
	}
	// A frame cut short by the end of the connection is not delivered.
	r = bufio.NewReader(strings.NewReader(octet(a)[:20]))
	if m, err := readFrame(r); m != nil || err == nil {
		t.Fatalf("truncated frame: %q, %v", m, err)
	}
}

func TestFutureTimestampClamped(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := newSink(t)
	addr, err := ListenUDP(ctx, "127.0.0.1:0", s.handle)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("udp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	future := time.Now().Add(8 * time.Hour).UTC().Format(time.RFC3339)
	if _, err := c.Write([]byte("<13>1 " + future + " h a - - - from a host in the wrong zone")); err != nil {
		t.Fatal(err)
	}
	l := s.waitLines(t, 1)[0]
	if d := time.Since(l.Time); d < -time.Minute || d > time.Minute {
		t.Fatalf("time %v not clamped to receipt", l.Time)
	}
}
