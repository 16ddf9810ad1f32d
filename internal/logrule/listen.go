package logrule

import (
	"bufio"
	"context"
	"errors"
	"net"
	"time"
)

// Listener limits.
const (
	MaxMessage  = 64 << 10 // the longest syslog message accepted over TCP
	MaxTCPConns = 1024     // concurrent TCP connections; more are closed at once
	// MaxFutureSkew is how far ahead of the receiving clock a syslog
	// timestamp may be; a later one (a sender's clock or zone gone wrong) is
	// replaced by the time of receipt so it cannot stall a window.
	MaxFutureSkew = 10 * time.Minute
)

// idleTimeout closes TCP connections that send nothing for this long.
var idleTimeout = 5 * time.Minute

// Handler receives each syslog line a listener parses. Its Time is never
// zero: a message without a timestamp gets the time of receipt.
type Handler func(Line)

// ListenUDP receives syslog over UDP on addr (":0" picks a port), one message
// per datagram, and passes each parsed line to h from a single goroutine.
// Messages that do not parse are dropped. It returns the bound address and
// stops when ctx ends.
func ListenUDP(ctx context.Context, addr string, h Handler) (net.Addr, error) {
	if h == nil {
		return nil, errors.New("logrule: nil handler")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var lc net.ListenConfig
	pc, err := lc.ListenPacket(ctx, "udp", addr)
	if err != nil {
		return nil, err
	}
	if uc, ok := pc.(*net.UDPConn); ok {
		_ = uc.SetReadBuffer(4 << 20) // absorb bursts; best effort
	}
	stop := context.AfterFunc(ctx, func() { pc.Close() })
	go func() {
		defer stop()
		defer pc.Close()
		buf := make([]byte, 64<<10)
		for {
			n, _, err := pc.ReadFrom(buf)
			if err != nil {
				if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
					return
				}
				continue // e.g. an ICMP error reported on the socket
			}
			deliver(ctx, buf[:n], h)
		}
	}()
	return pc.LocalAddr(), nil
}

// ListenTCP receives syslog over TCP on addr (":0" picks a port). Each
// connection may use octet counting ("123 <34>1 …", RFC 6587) or newline
// framing, message by message; messages longer than MaxMessage are skipped.
// Connections idle for 5 minutes are closed. h is called from one goroutine
// per connection, so it may run concurrently. Messages that do not parse are
// dropped. It returns the bound address and stops, closing every connection,
// when ctx ends.
func ListenTCP(ctx context.Context, addr string, h Handler) (net.Addr, error) {
	if h == nil {
		return nil, errors.New("logrule: nil handler")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	idle := idleTimeout
	go func() {
		defer stop()
		defer ln.Close()
		slots := make(chan struct{}, MaxTCPConns)
		var backoff time.Duration
		for {
			c, err := ln.Accept()
			if err != nil {
				if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
					return
				}
				// Out of file descriptors and the like: back off as net/http does.
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				select {
				case <-time.After(backoff):
				case <-ctx.Done():
					return
				}
				continue
			}
			backoff = 0
			select {
			case slots <- struct{}{}:
			default:
				c.Close()
				continue
			}
			go func() {
				defer func() { <-slots }()
				serveTCP(ctx, c, h, idle)
			}()
		}
	}()
	return ln.Addr(), nil
}

func serveTCP(ctx context.Context, c net.Conn, h Handler, idle time.Duration) {
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	r := bufio.NewReaderSize(c, MaxMessage+1)
	for {
		if err := c.SetReadDeadline(time.Now().Add(idle)); err != nil {
			return
		}
		msg, err := readFrame(r)
		if len(msg) > 0 {
			deliver(ctx, msg, h)
		}
		if err != nil {
			return
		}
	}
}

var errFraming = errors.New("bad octet count")

// readFrame reads the next message: octet-counted when it starts with a
// digit, newline-terminated otherwise. It returns a nil message for a frame
// that was skipped (too long or empty). The slice is valid until the next read.
func readFrame(r *bufio.Reader) ([]byte, error) {
	// Skip separators between frames (stray newlines, NULs, spaces).
	for {
		c, err := r.ReadByte()
		if err != nil {
			return nil, err
		}
		if c != '\n' && c != '\r' && c != ' ' && c != '\t' && c != 0 {
			_ = r.UnreadByte()
			break
		}
	}
	if c, _ := r.Peek(1); c[0] >= '0' && c[0] <= '9' {
		n := 0
		for digits := 0; ; digits++ {
			c, err := r.ReadByte()
			if err != nil {
				return nil, err
			}
			if c == ' ' && digits > 0 {
				break
			}
			if c < '0' || c > '9' || digits == 9 {
				return nil, errFraming
			}
			n = n*10 + int(c-'0')
		}
		if n > MaxMessage {
			_, err := r.Discard(n)
			return nil, err
		}
		msg, err := r.Peek(n)
		if err != nil {
			return nil, err // the connection ended inside the frame
		}
		_, _ = r.Discard(n)
		return msg, nil
	}
	msg, err := r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		for err == bufio.ErrBufferFull { // too long: skip to the end of the line
			_, err = r.ReadSlice('\n')
		}
		return nil, err
	}
	return msg, err // at io.EOF, msg is a last line without a newline
}

// deliver parses one message and hands it to h unless ctx has ended.
func deliver(ctx context.Context, msg []byte, h Handler) {
	l, err := ParseSyslog(msg)
	if err != nil || ctx.Err() != nil {
		return
	}
	now := time.Now()
	if l.Time.IsZero() || l.Time.Sub(now) > MaxFutureSkew {
		l.Time = now
	}
	h(l)
}
