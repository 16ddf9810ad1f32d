package logrule

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseJSONLines(t *testing.T) {
	in := strings.Join([]string{
		`{"time":"2024-05-06T07:08:09.123+08:00","event":"login_failed","source_ip":"10.0.0.9"}`,
		``,
		`{"timestamp":1714979289,"user":{"name":"ann","id":7,"tags":["a","b"],"x":null},"ok":true}`,
		"  {\"ts\":1714979289123,\"n\":1.5}\r",
		`{"ts":"1714979289.25"}`,
		`{"ts":1714979289.5}`,
		`{"ts":1714979289123456}`,
		`{"message":"no time"}`,
		`{"time":"2024-05-06T07:08:09Z","timestamp":"ignored"}`,
	}, "\n")
	lines, err := ParseJSONLines(strings.NewReader(in), 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 8 {
		t.Fatalf("got %d lines, want 8", len(lines))
	}
	unix := time.Unix(1714979289, 0)
	wantTimes := []time.Time{
		time.Date(2024, 5, 5, 23, 8, 9, 123e6, time.UTC),
		unix,
		unix.Add(123 * time.Millisecond),
		unix.Add(250 * time.Millisecond),
		unix.Add(500 * time.Millisecond),
		unix.Add(123456 * time.Microsecond),
		{},
		time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC),
	}
	for i, w := range wantTimes {
		if !lines[i].Time.Equal(w) {
			t.Errorf("line %d: time %v, want %v", i, lines[i].Time, w)
		}
	}
	checkFields(t, lines[0].Fields, map[string]string{"event": "login_failed", "source_ip": "10.0.0.9"})
	checkFields(t, lines[1].Fields, map[string]string{
		"user.name": "ann", "user.id": "7", "user.tags": `["a","b"]`, "ok": "true", "timestamp": "1714979289",
	})
	if _, ok := lines[1].Fields["user.x"]; ok {
		t.Error("null field kept")
	}
	if _, ok := lines[1].Fields["user"]; ok {
		t.Error("nested object kept unflattened")
	}
	checkFields(t, lines[2].Fields, map[string]string{"n": "1.5"})
	if lines[6].Fields["message"] != "no time" {
		t.Errorf("line 7: %v", lines[6].Fields)
	}
}

func TestParseJSONLinesErrors(t *testing.T) {
	for in, want := range map[string]string{
		"{\"a\":1}\n{\"a\":2}\n{\"a\":\n": "line 3: ",
		"{\"a\":1}\n\n[1,2]":              "line 3: want a JSON object",
		"\"str\"":                         "line 1: want a JSON object",
		"{\"a\":1} {\"b\":2}":             "line 1: unexpected data",
		"{}\n{\"time\":\"yesterday\"}":    `line 2: time: cannot parse "yesterday"`,
		"{\"ts\":true}":                   "line 1: ts: want an RFC 3339 string",
		"{\"timestamp\":\"12:00\"}":       "line 1: timestamp: cannot parse",
		"{\"a\":1}\n{\"b\":\"" + strings.Repeat("x", MaxJSONLine) + "\"}": "line 2: longer than",
	} {
		_, err := ParseJSONLines(strings.NewReader(in), 0)
		if err == nil {
			t.Errorf("%.40q: no error", in)
			continue
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%.40q: error %q, want it to contain %q", in, err, want)
		}
	}
}

func TestParseJSONLinesLimit(t *testing.T) {
	in := "{\"a\":1}\n\n{\"a\":2}\n{\"a\":3}\n"
	if lines, err := ParseJSONLines(strings.NewReader(in), 3); err != nil || len(lines) != 3 {
		t.Fatalf("at the limit: %d lines, %v", len(lines), err)
	}
	_, err := ParseJSONLines(strings.NewReader(in), 2)
	if !errors.Is(err, ErrTooManyLines) || !strings.Contains(err.Error(), "at most 2") {
		t.Fatalf("over the limit: %v", err)
	}
	if lines, err := ParseJSONLines(strings.NewReader(""), 2); err != nil || len(lines) != 0 {
		t.Fatalf("empty: %v %v", lines, err)
	}
}
