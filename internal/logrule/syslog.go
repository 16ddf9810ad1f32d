package logrule

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"
)

var severities = [...]string{"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"}

var facilities = [...]string{
	"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news",
	"uucp", "cron", "authpriv", "ftp", "ntp", "audit", "alert", "clock",
	"local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
}

// ParseSyslog parses one syslog message: RFC 5424 when it starts with
// "<PRI>1 ", otherwise RFC 3164 as a best effort (its timestamp, which has no
// year or zone, is read in the local zone and the year that puts it nearest
// before now). A trailing newline, carriage return or NUL is ignored. The
// error says what is wrong; a message without a valid <PRI> is rejected.
// A NIL ("-") timestamp gives a zero Time.
func ParseSyslog(b []byte) (Line, error) {
	return parseSyslog(b, time.Now())
}

func parseSyslog(b []byte, now time.Time) (Line, error) {
	b = bytes.TrimRight(b, "\r\n\x00")
	if len(b) == 0 {
		return Line{}, errors.New("syslog: empty message")
	}
	pri, rest, err := parsePRI(b)
	if err != nil {
		return Line{}, err
	}
	l := Line{Fields: map[string]string{
		"facility": facilities[pri/8],
		"severity": severities[pri%8],
	}}
	if len(rest) >= 2 && rest[0] == '1' && rest[1] == ' ' {
		err = parse5424(&l, rest[2:])
	} else {
		err = parse3164(&l, rest, now)
	}
	if err != nil {
		return Line{}, err
	}
	mergeJSONMessage(&l)
	return l, nil
}

func parsePRI(b []byte) (int, []byte, error) {
	if b[0] != '<' {
		return 0, nil, errors.New("syslog: missing <PRI> at the start")
	}
	end := bytes.IndexByte(b[:min(len(b), 5)], '>')
	if end < 2 {
		return 0, nil, errors.New("syslog: <PRI> must be 1 to 3 digits closed by '>'")
	}
	digits := b[1:end]
	pri := 0
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, nil, fmt.Errorf("syslog: <PRI> %q is not a number", digits)
		}
		pri = pri*10 + int(c-'0')
	}
	if pri > 191 {
		return 0, nil, fmt.Errorf("syslog: <PRI> %d is above 191", pri)
	}
	rest := b[end+1:]
	if len(bytes.TrimSpace(rest)) == 0 {
		return 0, nil, errors.New("syslog: nothing after <PRI>")
	}
	return pri, rest, nil
}

// parse5424 parses what follows "<PRI>1 ":
// TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP STRUCTURED-DATA [SP MSG].
func parse5424(l *Line, b []byte) error {
	names := [...]string{"timestamp", "hostname", "app", "procid", "msgid"}
	for _, name := range names {
		sp := bytes.IndexByte(b, ' ')
		if sp < 0 {
			return fmt.Errorf("rfc5424: missing %s", nextHeaderAfter(name))
		}
		tok := b[:sp]
		b = b[sp+1:]
		if len(tok) == 0 {
			return fmt.Errorf("rfc5424: empty %s (two spaces in the header)", name)
		}
		if string(tok) == "-" {
			continue
		}
		if name == "timestamp" {
			t, err := time.Parse(time.RFC3339Nano, string(tok))
			if err != nil {
				return fmt.Errorf("rfc5424: timestamp %q is not RFC 3339", tok)
			}
			l.Time = t
			continue
		}
		for _, c := range tok {
			if c < 33 || c > 126 {
				return fmt.Errorf("rfc5424: %s %q holds a character outside printable ASCII", name, tok)
			}
		}
		l.Fields[name] = string(tok)
	}
	if len(b) == 0 {
		return errors.New("rfc5424: missing structured data ('-' or [id param=\"value\"])")
	}
	rest, err := parseSD(l, b)
	if err != nil {
		return err
	}
	msg := ""
	if len(rest) > 0 {
		if rest[0] != ' ' {
			return fmt.Errorf("rfc5424: want a space after the structured data, got %q", preview(rest))
		}
		msg = string(bytes.TrimPrefix(rest[1:], []byte("\xef\xbb\xbf")))
	}
	l.Fields["message"] = msg
	return nil
}

// nextHeaderAfter names what is missing when the header ends before name's separator.
func nextHeaderAfter(name string) string {
	switch name {
	case "timestamp":
		return "hostname"
	case "hostname":
		return "app-name"
	case "app":
		return "procid"
	case "procid":
		return "msgid"
	}
	return "structured data"
}

// parseSD parses STRUCTURED-DATA and returns what follows it.
func parseSD(l *Line, b []byte) ([]byte, error) {
	if b[0] == '-' {
		return b[1:], nil
	}
	if b[0] != '[' {
		return nil, fmt.Errorf("rfc5424: structured data must be '-' or start with '[', got %q", preview(b))
	}
	for len(b) > 0 && b[0] == '[' {
		i := 1
		for i < len(b) && b[i] != ' ' && b[i] != ']' {
			if !sdNameChar(b[i]) {
				return nil, fmt.Errorf("rfc5424: structured data id holds %q", b[i])
			}
			i++
		}
		id := string(b[1:i])
		if id == "" {
			return nil, errors.New("rfc5424: structured data element without an id")
		}
		for {
			if i >= len(b) {
				return nil, fmt.Errorf("rfc5424: structured data element [%s missing ']'", id)
			}
			if b[i] == ']' {
				i++
				break
			}
			// b[i] == ' '
			for i < len(b) && b[i] == ' ' {
				i++
			}
			start := i
			for i < len(b) && b[i] != '=' {
				if !sdNameChar(b[i]) {
					return nil, fmt.Errorf("rfc5424: structured data [%s]: bad parameter name %q", id, preview(b[start:]))
				}
				i++
			}
			name := string(b[start:i])
			if name == "" || i >= len(b) {
				return nil, fmt.Errorf("rfc5424: structured data [%s]: want param=\"value\"", id)
			}
			i++ // '='
			if i >= len(b) || b[i] != '"' {
				return nil, fmt.Errorf("rfc5424: structured data [%s]: value of %s must be in double quotes", id, name)
			}
			i++
			var val strings.Builder
			closed := false
			for i < len(b) {
				c := b[i]
				if c == '\\' && i+1 < len(b) && (b[i+1] == '"' || b[i+1] == '\\' || b[i+1] == ']') {
					val.WriteByte(b[i+1])
					i += 2
					continue
				}
				i++
				if c == '"' {
					closed = true
					break
				}
				val.WriteByte(c)
			}
			if !closed {
				return nil, fmt.Errorf("rfc5424: structured data [%s]: value of %s has no closing quote", id, name)
			}
			l.Fields["sd."+id+"."+name] = val.String()
			if i < len(b) && b[i] != ' ' && b[i] != ']' {
				return nil, fmt.Errorf("rfc5424: structured data [%s]: want ' ' or ']' after %s, got %q", id, name, b[i])
			}
		}
		b = b[i:]
	}
	return b, nil
}

// sdNameChar reports whether c may appear in an SD-ID or PARAM-NAME.
func sdNameChar(c byte) bool {
	return c > 32 && c < 127 && c != '=' && c != ']' && c != '"'
}

func preview(b []byte) string {
	if len(b) > 20 {
		return string(b[:20]) + "…"
	}
	return string(b)
}

// parse3164 parses what follows <PRI> in the BSD format, as a best effort:
// [TIMESTAMP SP [HOSTNAME SP]] [TAG[PID]: ]MSG.
func parse3164(l *Line, b []byte, now time.Time) error {
	s := string(b)
	hasTime := false
	if t, rest, ok := bsdTimestamp(s, now); ok {
		l.Time, s, hasTime = t, rest, true
	} else if tok, rest, _ := strings.Cut(s, " "); len(tok) >= 20 && tok[4] == '-' && tok[10] == 'T' {
		// rsyslog's high-precision BSD variant: an RFC 3339 timestamp.
		if t, err := time.Parse(time.RFC3339Nano, tok); err == nil {
			l.Time, s, hasTime = t, rest, true
		}
	}
	if hasTime {
		s = strings.TrimLeft(s, " ")
		if tok, rest, _ := strings.Cut(s, " "); tok != "" && !isTag(tok) {
			l.Fields["hostname"] = tok
			s = rest
		}
	}
	if tok, rest, _ := strings.Cut(s, " "); isTag(tok) {
		tag := strings.TrimSuffix(tok, ":")
		if name, pid, ok := strings.Cut(tag, "["); ok {
			l.Fields["app"] = name
			if pid = strings.TrimSuffix(pid, "]"); pid != "" {
				l.Fields["procid"] = pid
			}
		} else {
			l.Fields["app"] = tag
		}
		s = rest
	}
	l.Fields["message"] = s
	return nil
}

// bsdTimestamp reads "Mmm dd hh:mm:ss" (day space-padded or not) at the start of s.
func bsdTimestamp(s string, now time.Time) (time.Time, string, bool) {
	if len(s) < 14 || s[3] != ' ' {
		return time.Time{}, s, false
	}
	n := 15 // "Oct 11 22:14:15", "Feb  5 17:32:18"
	if s[4] != ' ' && s[5] == ' ' {
		n = 14 // "Feb 5 17:32:18"
	}
	if len(s) < n {
		return time.Time{}, s, false
	}
	t, err := time.ParseInLocation("Jan _2 15:04:05", s[:n], now.Location())
	if err != nil {
		return time.Time{}, s, false
	}
	// No year: take the one that puts it nearest before now (allowing a week of clock skew).
	y := now.Year()
	t = time.Date(y, t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, now.Location())
	if t.After(now.Add(7 * 24 * time.Hour)) {
		t = t.AddDate(-1, 0, 0)
	}
	return t, s[n:], true
}

// isTag reports whether tok looks like a BSD syslog tag: "name:" or "name[pid]:".
func isTag(tok string) bool {
	if len(tok) < 2 || len(tok) > 130 || tok[len(tok)-1] != ':' {
		return false
	}
	tag := tok[:len(tok)-1]
	name, pid, hasPID := strings.Cut(tag, "[")
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_./@", c) >= 0) {
			return false
		}
	}
	if hasPID {
		if !strings.HasSuffix(pid, "]") || strings.ContainsAny(pid[:len(pid)-1], "[]") {
			return false
		}
	}
	return true
}

// mergeJSONMessage merges the top-level scalar fields of a JSON-object
// message (optionally behind the CEE cookie "@cee:") into l, keeping fields
// already set. When l has no time, the JSON's time field gives it.
func mergeJSONMessage(l *Line) {
	msg := strings.TrimSpace(l.Fields["message"])
	msg = strings.TrimSpace(strings.TrimPrefix(msg, "@cee:"))
	if len(msg) < 2 || msg[0] != '{' || msg[len(msg)-1] != '}' {
		return
	}
	obj, err := decodeObject([]byte(msg))
	if err != nil {
		return
	}
	for k, v := range obj {
		if _, taken := l.Fields[k]; taken {
			continue
		}
		if s, ok := scalarString(v); ok {
			l.Fields[k] = s
		}
	}
	if l.Time.IsZero() {
		for _, k := range timeKeys {
			if v, ok := obj[k]; ok && v != nil {
				if t, err := parseTimeValue(v); err == nil {
					l.Time = t
				}
				break
			}
		}
	}
}
