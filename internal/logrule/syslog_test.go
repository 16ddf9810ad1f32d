package logrule

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

const bom = "\xef\xbb\xbf"

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

func checkFields(t *testing.T, got map[string]string, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("field %q = %q (present %v), want %q", k, g, ok, v)
		}
	}
}

func TestParseSyslogRFC5424Examples(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		time   string
		fields map[string]string
		absent []string
	}{
		{
			name: "example 1: no structured data, BOM",
			in:   "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - " + bom + "'su root' failed for lonvick on /dev/pts/8",
			time: "2003-10-11T22:14:15.003Z",
			fields: map[string]string{
				"facility": "auth", "severity": "crit", "hostname": "mymachine.example.com",
				"app": "su", "msgid": "ID47", "message": "'su root' failed for lonvick on /dev/pts/8",
			},
			absent: []string{"procid"},
		},
		{
			name: "example 2: offset, microseconds, no BOM",
			in:   "<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the do-nuts.",
			time: "2003-08-24T12:14:15.000003Z",
			fields: map[string]string{
				"facility": "local4", "severity": "notice", "hostname": "192.0.2.1",
				"app": "myproc", "procid": "8710", "message": "%% It's time to make the do-nuts.",
			},
			absent: []string{"msgid"},
		},
		{
			name: "example 3: structured data and message",
			in:   `<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"] ` + bom + "An application event log entry...",
			time: "2003-10-11T22:14:15.003Z",
			fields: map[string]string{
				"app": "evntslog", "msgid": "ID47", "sd.exampleSDID@32473.iut": "3",
				"sd.exampleSDID@32473.eventSource": "Application", "sd.exampleSDID@32473.eventID": "1011",
				"message": "An application event log entry...",
			},
		},
		{
			name: "example 4: two elements, no message",
			in:   `<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"]`,
			time: "2003-10-11T22:14:15.003Z",
			fields: map[string]string{
				"sd.exampleSDID@32473.eventID": "1011", "sd.examplePriority@32473.class": "high", "message": "",
			},
		},
		{
			name: "all NILVALUE",
			in:   "<0>1 - - - - - -",
			fields: map[string]string{
				"facility": "kern", "severity": "emerg", "message": "",
			},
			absent: []string{"hostname", "app", "procid", "msgid"},
		},
		{
			name: "timestamp examples with fractions and offsets, trailing newline",
			in:   "<191>1 1985-04-12T19:20:50.52-04:00 h a p m - hi\n",
			time: "1985-04-12T23:20:50.52Z",
			fields: map[string]string{
				"facility": "local7", "severity": "debug", "message": "hi",
			},
		},
		{
			name: "escapes in param values",
			in:   `<14>1 2024-01-02T03:04:05+08:00 h a - - [x@1 v="a\"b\]c\\d\e" w=""] m`,
			time: "2024-01-01T19:04:05Z",
			fields: map[string]string{
				"sd.x@1.v": `a"b]c\d\e`, "sd.x@1.w": "", "message": "m", "severity": "info", "facility": "user",
			},
		},
		{
			name: "JSON message merges scalar fields, keeping syslog ones",
			in:   `<86>1 2024-05-06T07:08:09Z web1 sshd 42 - - {"event":"login_failed","source_ip":"10.0.0.9","hostname":"spoof","ok":false,"n":3,"nested":{"a":1}}`,
			time: "2024-05-06T07:08:09Z",
			fields: map[string]string{
				"event": "login_failed", "source_ip": "10.0.0.9", "hostname": "web1", "ok": "false", "n": "3",
				"facility": "authpriv", "severity": "info",
			},
			absent: []string{"nested", "nested.a"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := ParseSyslog([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if tt.time == "" {
				if !l.Time.IsZero() {
					t.Errorf("time = %v, want zero", l.Time)
				}
			} else if want := mustTime(t, tt.time); !l.Time.Equal(want) {
				t.Errorf("time = %v, want %v", l.Time, want)
			}
			checkFields(t, l.Fields, tt.fields)
			for _, k := range tt.absent {
				if v, ok := l.Fields[k]; ok {
					t.Errorf("field %q = %q, want absent", k, v)
				}
			}
		})
	}
}

func TestPriority(t *testing.T) {
	for pri, want := range map[int][2]string{
		0: {"kern", "emerg"}, 13: {"user", "notice"}, 34: {"auth", "crit"}, 86: {"authpriv", "info"},
		131: {"local0", "err"}, 191: {"local7", "debug"}, 4*8 + 4: {"auth", "warning"}, 9*8 + 1: {"cron", "alert"},
	} {
		l, err := ParseSyslog([]byte("<" + strconv.Itoa(pri) + ">1 - - - - - - x"))
		if err != nil {
			t.Fatal(err)
		}
		if l.Fields["facility"] != want[0] || l.Fields["severity"] != want[1] {
			t.Errorf("pri %d: %s.%s, want %s.%s", pri, l.Fields["facility"], l.Fields["severity"], want[0], want[1])
		}
	}
}

func TestParseSyslogRFC3164(t *testing.T) {
	now := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in     string
		time   time.Time
		fields map[string]string
		absent []string
	}{
		{
			in:   "<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8",
			time: time.Date(2023, 10, 11, 22, 14, 15, 0, time.UTC), // October is still ahead in 2024: last year
			fields: map[string]string{
				"facility": "auth", "severity": "crit", "hostname": "mymachine", "app": "su",
				"message": "'su root' failed for lonvick on /dev/pts/8",
			},
			absent: []string{"procid"},
		},
		{
			in:   "<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!",
			time: time.Date(2024, 2, 5, 17, 32, 18, 0, time.UTC),
			fields: map[string]string{
				"facility": "user", "severity": "notice", "hostname": "10.0.0.99", "message": "Use the BFG!",
			},
			absent: []string{"app"},
		},
		{
			in:   "<165>Aug 24 05:34:00 CST 1987 mymachine myproc[10]: %% It's time to make the do-nuts.",
			time: time.Date(2023, 8, 24, 5, 34, 0, 0, time.UTC),
			fields: map[string]string{
				"facility": "local4", "severity": "notice", "hostname": "CST",
			},
		},
		{
			in:     "<0>1990 Oct 22 10:52:01 TZ-6 scapegoat.dmz.example.org 10.1.2.3 sched[0]: That's All Folks!",
			fields: map[string]string{"facility": "kern", "severity": "emerg"},
		},
		{
			in:   "<86>Mar  1 11:59:00 bastion sshd[4121]: Failed password for root from 10.0.0.9 port 22 ssh2",
			time: time.Date(2024, 3, 1, 11, 59, 0, 0, time.UTC),
			fields: map[string]string{
				"facility": "authpriv", "severity": "info", "hostname": "bastion", "app": "sshd", "procid": "4121",
				"message": "Failed password for root from 10.0.0.9 port 22 ssh2",
			},
		},
		{
			in:   "<30>Mar 1 11:59:00 systemd[1]: Started Session 7.",
			time: time.Date(2024, 3, 1, 11, 59, 0, 0, time.UTC),
			fields: map[string]string{
				"app": "systemd", "procid": "1", "message": "Started Session 7.",
			},
			absent: []string{"hostname"},
		},
		{
			in:   `<14>2024-02-29T10:00:00.5+08:00 app1 login: @cee:{"event":"login_failed","source_ip":"10.0.0.9"}`,
			time: time.Date(2024, 2, 29, 2, 0, 0, 5e8, time.UTC),
			fields: map[string]string{
				"hostname": "app1", "app": "login", "event": "login_failed", "source_ip": "10.0.0.9",
			},
		},
		{
			in:     "<13>no timestamp at all",
			fields: map[string]string{"message": "no timestamp at all"},
			absent: []string{"hostname", "app"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.in[:min(len(tt.in), 30)], func(t *testing.T) {
			l, err := parseSyslog([]byte(tt.in), now)
			if err != nil {
				t.Fatal(err)
			}
			if !tt.time.IsZero() && !l.Time.Equal(tt.time) {
				t.Errorf("time = %v, want %v", l.Time, tt.time)
			}
			checkFields(t, l.Fields, tt.fields)
			for _, k := range tt.absent {
				if v, ok := l.Fields[k]; ok {
					t.Errorf("field %q = %q, want absent", k, v)
				}
			}
		})
	}
}

func TestParseSyslogErrors(t *testing.T) {
	for in, want := range map[string]string{
		"":                                    "empty",
		"\n":                                  "empty",
		"hello world":                         "missing <PRI>",
		"<>1 - - - - - -":                     "1 to 3 digits",
		"<1234>1 - - - - - -":                 "1 to 3 digits",
		"<ab>1 - - - - - -":                   "not a number",
		"<192>1 - - - - - -":                  "above 191",
		"<34>":                                "nothing after",
		"<34>   ":                             "nothing after",
		"<34>1 2003-10-11T22:14:15.003Z host": "missing app-name",
		"<34>1 yesterday host app - - - msg":  "timestamp \"yesterday\" is not RFC 3339",
		"<34>1 2003-10-11T22:14:15 host app - - - msg": "not RFC 3339",
		"<34>1 - host  app - - - msg":                  "empty app",
		"<34>1 - host app - -":                         "missing structured data",
		"<34>1 - host app - - x msg":                   "structured data must be '-' or start with '['",
		`<34>1 - host app - - [id a="b msg`:            "no closing quote",
		`<34>1 - host app - - [id a=b] msg`:            "double quotes",
		`<34>1 - host app - - [id a="b"`:               "missing ']'",
		`<34>1 - host app - - [ a="b"] msg`:            "without an id",
		`<34>1 - host app - - [id a="b"]msg`:           "want a space after the structured data",
		"<34>1 - ho\x01st app - - - msg":               "printable ASCII",
	} {
		_, err := ParseSyslog([]byte(in))
		if err == nil {
			t.Errorf("%q: no error", in)
			continue
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %q, want it to contain %q", in, err, want)
		}
	}
}
