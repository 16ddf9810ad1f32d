package logrule

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// MaxJSONLine is the longest JSON line ParseJSONLines accepts.
const MaxJSONLine = 1 << 20

// ErrTooManyLines is wrapped by ParseJSONLines' error when the input holds
// more lines than its limit.
var ErrTooManyLines = errors.New("too many lines")

// timeKeys are the fields that give a JSON line its time, in order of preference.
var timeKeys = [...]string{"time", "timestamp", "ts"}

// ParseJSONLines reads one JSON object per line (blank lines are skipped).
// Nested objects are flattened with dots ({"user":{"id":7}} gives "user.id"),
// arrays are kept as their JSON text, null fields are left out. The first of
// "time", "timestamp" and "ts" that is present gives Line.Time: an RFC 3339
// string, or unix seconds or milliseconds (number or numeric string; larger
// values are read as micro- or nanoseconds), and stays among the fields too.
// A line without one has a zero Time, which the caller replaces with its own
// now (Engine.Observe does).
//
// A bad line fails the whole input with an error naming its line number
// ("line 3: …"). With max > 0, more than max lines fail with ErrTooManyLines.
func ParseJSONLines(r io.Reader, max int) ([]Line, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var out []Line
	var long []byte
	for n := 1; ; n++ {
		raw, err := readLine(br, &long)
		if err != nil && err != io.EOF {
			if errors.Is(err, errLineTooLong) {
				return nil, fmt.Errorf("line %d: %w", n, err)
			}
			return nil, fmt.Errorf("line %d: read: %w", n, err)
		}
		if b := bytes.TrimSpace(raw); len(b) > 0 {
			if max > 0 && len(out) >= max {
				return nil, fmt.Errorf("%w: at most %d are allowed", ErrTooManyLines, max)
			}
			l, perr := parseJSONLine(b)
			if perr != nil {
				return nil, fmt.Errorf("line %d: %w", n, perr)
			}
			out = append(out, l)
		}
		if err == io.EOF {
			return out, nil
		}
	}
}

var errLineTooLong = fmt.Errorf("longer than %d bytes", MaxJSONLine)

// readLine returns the next line without its newline; the slice is valid until
// the next call. It returns io.EOF with the last (possibly empty) line.
func readLine(br *bufio.Reader, long *[]byte) ([]byte, error) {
	b, err := br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		*long = append((*long)[:0], b...)
		for err == bufio.ErrBufferFull {
			b, err = br.ReadSlice('\n')
			if len(*long)+len(b) > MaxJSONLine+1 {
				return nil, errLineTooLong
			}
			*long = append(*long, b...)
		}
		b = *long
	}
	if err != nil && err != io.EOF {
		return nil, err
	}
	b = bytes.TrimSuffix(b, []byte{'\n'})
	if len(b) > MaxJSONLine {
		return nil, errLineTooLong
	}
	return b, err
}

func parseJSONLine(b []byte) (Line, error) {
	obj, err := decodeObject(b)
	if err != nil {
		return Line{}, err
	}
	l := Line{Fields: make(map[string]string, len(obj))}
	flatten(l.Fields, "", obj)
	for _, k := range timeKeys {
		v, ok := obj[k]
		if !ok || v == nil {
			continue
		}
		t, err := parseTimeValue(v)
		if err != nil {
			return Line{}, fmt.Errorf("%s: %w", k, err)
		}
		l.Time = t
		break
	}
	return l, nil
}

// decodeObject decodes exactly one JSON object, numbers kept as json.Number.
func decodeObject(b []byte) (map[string]any, error) {
	if len(b) == 0 || b[0] != '{' {
		return nil, errors.New("want a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		return nil, err
	}
	if rest := bytes.TrimSpace(b[dec.InputOffset():]); len(rest) > 0 {
		return nil, errors.New("unexpected data after the JSON object")
	}
	return obj, nil
}

func flatten(dst map[string]string, prefix string, obj map[string]any) {
	for k, v := range obj {
		key := k
		if prefix != "" {
			key = prefix + "." + k
		}
		if m, ok := v.(map[string]any); ok {
			flatten(dst, key, m)
			continue
		}
		if s, ok := scalarString(v); ok {
			dst[key] = s
		} else if v != nil { // an array
			if b, err := json.Marshal(v); err == nil {
				dst[key] = string(b)
			}
		}
	}
}

// scalarString renders a JSON string, number or boolean.
func scalarString(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case json.Number:
		return v.String(), true
	case bool:
		return strconv.FormatBool(v), true
	}
	return "", false
}

// parseTimeValue reads an RFC 3339 string or a unix time (number or numeric string).
func parseTimeValue(v any) (time.Time, error) {
	switch v := v.(type) {
	case json.Number:
		return parseUnix(string(v))
	case string:
		s := strings.TrimSpace(v)
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return t, nil
		}
		if t, err := parseUnix(s); err == nil {
			return t, nil
		}
		return time.Time{}, fmt.Errorf("cannot parse %q (want RFC 3339 or unix seconds or milliseconds)", v)
	}
	return time.Time{}, errors.New("want an RFC 3339 string or a unix time number")
}

// parseUnix reads unix seconds, milliseconds, microseconds or nanoseconds
// (told apart by magnitude), with an optional fraction.
func parseUnix(s string) (time.Time, error) {
	bad := fmt.Errorf("cannot parse %q as a unix time", s)
	if s == "" {
		return time.Time{}, bad
	}
	intPart, frac, hasFrac := strings.Cut(s, ".")
	if !strings.ContainsAny(s, "eE+") && !strings.HasPrefix(intPart, "-") {
		i, err := strconv.ParseInt(intPart, 10, 64)
		if err != nil || (hasFrac && (frac == "" || strings.Trim(frac, "0123456789") != "")) {
			return time.Time{}, bad
		}
		// scale: how many nanoseconds one unit is.
		var unit int64
		switch {
		case i < 1e11:
			unit = 1e9
		case i < 1e14:
			unit = 1e6
		case i < 1e17:
			unit = 1e3
		default:
			unit = 1
		}
		var fracNanos int64
		if hasFrac && unit > 1 {
			digits := len(strconv.FormatInt(unit, 10)) - 1 // 9, 6 or 3
			if len(frac) > digits {
				frac = frac[:digits]
			}
			frac += strings.Repeat("0", digits-len(frac))
			fracNanos, _ = strconv.ParseInt(frac, 10, 64)
		}
		if unit > 1 && i > math.MaxInt64/unit {
			return time.Time{}, bad
		}
		return time.Unix(0, i*unit+fracNanos).UTC(), nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) >= 9e18 {
		return time.Time{}, bad
	}
	a := math.Abs(f)
	switch {
	case a < 1e11:
		f *= 1e9
	case a < 1e14:
		f *= 1e6
	case a < 1e17:
		f *= 1e3
	}
	if math.Abs(f) >= 9.2e18 {
		return time.Time{}, bad
	}
	return time.Unix(0, int64(f)).UTC(), nil
}
