package oncall

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"
	"unicode/utf8"
)

const icalTime = "20060102T150405Z"

// ICal renders shifts as an RFC 5545 calendar named name: one VEVENT per
// shift with a UID stable for the same schedule, user, start and end, DTSTAMP
// now, DTSTART/DTEND in UTC and SUMMARY "On call: <user>". Lines end in CRLF
// and are folded at 75 octets.
func ICal(s *Schedule, shifts []Shift, name string, now time.Time) []byte {
	id := ""
	if s != nil {
		id = s.ID
	}
	var b strings.Builder
	line := func(l string) { fold(&b, l) }
	line("BEGIN:VCALENDAR")
	line("VERSION:2.0")
	line("PRODID:-//firebreak//oncall//EN")
	line("CALSCALE:GREGORIAN")
	line("METHOD:PUBLISH")
	if name != "" {
		line("X-WR-CALNAME:" + escapeText(name))
	}
	stamp := now.UTC().Format(icalTime)
	for _, sh := range shifts {
		line("BEGIN:VEVENT")
		line("UID:" + shiftUID(id, sh) + "@firebreak")
		line("DTSTAMP:" + stamp)
		line("DTSTART:" + sh.Start.UTC().Format(icalTime))
		line("DTEND:" + sh.End.UTC().Format(icalTime))
		line("SUMMARY:" + escapeText("On call: "+sh.User))
		line("END:VEVENT")
	}
	line("END:VCALENDAR")
	return []byte(b.String())
}

func shiftUID(scheduleID string, sh Shift) string {
	h := sha256.Sum256([]byte(scheduleID + "\x00" + sh.User + "\x00" +
		sh.Start.UTC().Format(time.RFC3339Nano) + "\x00" + sh.End.UTC().Format(time.RFC3339Nano)))
	return hex.EncodeToString(h[:16])
}

var textEscaper = strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\r\n", `\n`, "\n", `\n`, "\r", `\n`)

func escapeText(s string) string { return textEscaper.Replace(s) }

// fold writes l as content lines of at most 75 octets (continuations start
// with a space), never splitting a UTF-8 sequence, each ended by CRLF.
func fold(b *strings.Builder, l string) {
	limit := 75
	for len(l) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(l[cut]) {
			cut--
		}
		b.WriteString(l[:cut])
		b.WriteString("\r\n ")
		l = l[cut:]
		limit = 74
	}
	b.WriteString(l)
	b.WriteString("\r\n")
}
