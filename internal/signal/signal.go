// Package signal parses the bodies of inbound alert requests (Alertmanager,
// Grafana, PagerDuty Events API v1 and v2, firebreak's generic JSON) into
// normalised alert.Events. Parsers are pure: they never touch the database or
// the network, and leave Event.ServiceID for the caller to fill in.
//
// Every error a parser returns is the sender's fault: a *FieldError when a
// field can be named (answer 400), ErrTooLarge when the body exceeds MaxBody
// (answer 413), otherwise an error wrapping the encoding/json error (400).
// A body must be valid UTF-8; the error names the value holding the first
// invalid byte.
package signal

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/firebreak/firebreak/internal/alert"
)

// MaxBody is the largest body accepted in any format: PagerDuty's 512 KB limit.
const MaxBody = 512 << 10

// Limits shared by the formats, in characters.
const (
	MaxSummary  = 1024
	MaxDedupKey = 255
)

// ErrTooLarge is returned for bodies longer than MaxBody.
var ErrTooLarge = errors.New("body exceeds 512 KB")

// FieldError names the offending field with a dotted path such as
// "alerts[3].status" or "payload.summary"; the HTTP layer answers
// 400 {"error": Msg, "field": Field}. Field is empty when the error concerns
// the body as a whole.
type FieldError struct{ Field, Msg string }

// Error returns Msg, prefixed with Field unless Msg already names it.
func (e *FieldError) Error() string {
	if e.Field == "" || strings.Contains(e.Msg, e.Field) {
		return e.Msg
	}
	return e.Field + ": " + e.Msg
}

// ReadBody reads a request body of at most MaxBody bytes.
func ReadBody(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxBody+1))
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	if len(b) > MaxBody {
		return nil, ErrTooLarge
	}
	return b, nil
}

// WriteError answers a parse error as JSON: 413 for ErrTooLarge, otherwise
// 400 with {"error": …} and, for a *FieldError, "field".
func WriteError(w http.ResponseWriter, err error) {
	code, body := http.StatusBadRequest, map[string]string{"error": err.Error()}
	var fe *FieldError
	switch {
	case errors.Is(err, ErrTooLarge):
		code = http.StatusRequestEntityTooLarge
	case errors.As(err, &fe):
		body = map[string]string{"error": fe.Msg, "field": fe.Field}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(body)
}

// MapSeverity maps a free-form severity label (as used with Alertmanager and
// Grafana) onto a firebreak severity, case-insensitively. Unknown or missing
// values map to warning: bad enough to be seen, not enough to wake anyone on
// a default plan.
func MapSeverity(s string) alert.Severity {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "critical", "page", "p1", "high", "emergency", "fatal":
		return alert.Critical
	case "error", "major", "err":
		return alert.Error
	case "info", "informational", "low", "none", "ok":
		return alert.Info
	}
	return alert.Warning
}

// checkBody enforces MaxBody, JSON syntax and UTF-8 validity.
func checkBody(body []byte) error {
	if len(body) > MaxBody {
		return ErrTooLarge
	}
	var raw json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		return fmt.Errorf("invalid json: %w", err)
	}
	return badUTF8(body)
}

// decode unmarshals data into v, turning type errors (and, when strict,
// unknown fields) into *FieldError with names under prefix.
func decode(data []byte, v any, prefix string, strict bool) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if strict {
		dec.DisallowUnknownFields()
	}
	err := dec.Decode(v)
	var te *json.UnmarshalTypeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &te):
		fe := &FieldError{join(prefix, te.Field), "must be " + kind(te.Type)}
		if fe.Field == "" {
			fe.Msg = "body " + fe.Msg
		}
		return fe
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		return &FieldError{join(prefix, name), "unknown field"}
	}
	return fmt.Errorf("invalid json: %w", err)
}

func join(prefix, field string) string {
	if prefix == "" || field == "" {
		return prefix + field
	}
	return prefix + "." + field
}

// kind names the JSON type a Go type expects.
func kind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Interface:
		return "a valid value"
	}
	return "a number"
}

// labels decodes a JSON object of strings; field names the object.
func labels(raw json.RawMessage, field string) (map[string]string, error) {
	if isNull(raw) {
		return nil, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, &FieldError{field, "must be an object of strings"}
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make(map[string]string, len(m))
	for _, k := range keys {
		var s string
		if isNull(m[k]) || json.Unmarshal(m[k], &s) != nil {
			return nil, &FieldError{field + "." + k, "must be a string"}
		}
		out[k] = s
	}
	return out, nil
}

// object returns raw when it is a JSON object, nil when absent or null.
func object(raw json.RawMessage, field, msg string) (json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if isNull(raw) {
		return nil, nil
	}
	if raw[0] != '{' {
		return nil, &FieldError{field, msg}
	}
	return raw, nil
}

func isNull(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || string(raw) == "null"
}

// marshal encodes a details struct, nil when it has no fields.
func marshal(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil || string(b) == "{}" {
		return nil
	}
	return b
}

// newKey returns a random 32-hex-character dedup key.
func newKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// parseTime parses an RFC 3339 time, also accepting ISO 8601 offsets without
// a colon ("2015-07-17T08:42:58.315+0000", as in PagerDuty's examples).
func parseTime(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z0700"} {
		if t, err := time.Parse(layout, strings.TrimSpace(s)); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// truncate shortens s to at most MaxSummary characters.
func truncate(s string) string {
	if utf8.RuneCountInString(s) <= MaxSummary {
		return s
	}
	return string([]rune(s)[:MaxSummary])
}

func tooLong(s string, max int) bool { return utf8.RuneCountInString(s) > max }

// badUTF8 returns a *FieldError naming the key or value of body (valid JSON)
// that holds its first invalid UTF-8 byte, or nil when there is none.
func badUTF8(body []byte) error {
	if utf8.Valid(body) {
		return nil
	}
	off := 0
	for {
		r, n := utf8.DecodeRune(body[off:])
		if r == utf8.RuneError && n == 1 {
			break
		}
		off += n
	}
	type frame struct {
		key           string
		idx           int
		obj, wantsKey bool
	}
	var stack []frame
	path := func() string {
		var b strings.Builder
		for _, f := range stack {
			if !f.obj {
				fmt.Fprintf(&b, "[%d]", f.idx)
				continue
			}
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(f.key)
		}
		return b.String()
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		n := len(stack)
		d, delim := tok.(json.Delim)
		switch {
		case delim && (d == '}' || d == ']'):
			stack = stack[:n-1]
			if n > 1 {
				stack[n-2].wantsKey = true
			}
			continue
		case n > 0 && stack[n-1].obj && stack[n-1].wantsKey:
			stack[n-1].key, stack[n-1].wantsKey = tok.(string), false
		default:
			if n > 0 && !stack[n-1].obj {
				stack[n-1].idx++
			}
			if delim {
				stack = append(stack, frame{obj: d == '{', wantsKey: true, idx: -1})
				continue
			}
			if n > 0 {
				stack[n-1].wantsKey = true
			}
		}
		if dec.InputOffset() > int64(off) {
			return &FieldError{path(), "invalid utf-8"}
		}
	}
	return &FieldError{Msg: "body is not valid utf-8"}
}
