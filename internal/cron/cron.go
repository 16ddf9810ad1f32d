// Package cron evaluates standard 5-field cron expressions
// (minute hour day-of-month month day-of-week) in a time zone. It is used
// for heartbeat checks, recurring maintenance windows and drills.
//
// # Syntax
//
// Each field is a comma-separated list of elements; an element is "*", a
// number, a range "a-b", or either of those followed by a step "/n"
// ("*/15", "10-50/20"). A single value with a step, "a/n", means "a-max/n".
// Months (jan-dec) and days of the week (sun-sat) may be given by name, case
// insensitively. Day-of-week accepts 0-7, where both 0 and 7 are Sunday. The
// macros @yearly (@annually), @monthly, @weekly, @daily (@midnight) and
// @hourly are accepted in place of the five fields.
//
// # Day matching
//
// As in Vixie cron and cronie, when both day-of-month and day-of-week are
// restricted, a day matches if EITHER matches; when either of them is
// unrestricted, both must match. A field counts as unrestricted when it
// starts with "*" (so "*/2" is unrestricted here, exactly as in cronie).
//
// # Daylight saving time
//
// A schedule matches wall-clock minutes in its location. Each matching wall
// time W is activated at the first instant at which the location's clock
// reads W or later. So a wall time skipped by a spring-forward gap (02:30 on
// a day the clock jumps 02:00→03:00) runs once at the first instant after
// the gap (03:00 new time), several skipped times collapse into that single
// activation, and a wall time that occurs twice at a fall-back runs once, at
// its first occurrence.
//
// A Schedule is immutable and safe for concurrent use.
package cron

import (
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"time"
)

// searchYears bounds how far Next and Prev look for an activation.
const searchYears = 5

// maxOffset bounds the absolute UTC offset of any zone (real zones, including
// historical local mean time, stay within ±16h).
const maxOffset = 18 * 60 * 60

// Schedule is a parsed cron expression bound to a location.
type Schedule struct {
	expr    string
	minute  uint64 // bits 0-59
	hour    uint64 // bits 0-23
	dom     uint64 // bits 1-31
	month   uint64 // bits 1-12
	dow     uint64 // bits 0-6, 0 = Sunday
	domStar bool   // day-of-month field starts with "*"
	dowStar bool   // day-of-week field starts with "*"
	loc     *time.Location
}

type fieldSpec struct {
	name     string
	min, max int
	names    map[string]int
}

var (
	monthNames = map[string]int{
		"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
		"jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
	}
	dowNames = map[string]int{
		"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6,
	}
	fields = [5]fieldSpec{
		{name: "minute", min: 0, max: 59},
		{name: "hour", min: 0, max: 23},
		{name: "day-of-month", min: 1, max: 31},
		{name: "month", min: 1, max: 12, names: monthNames},
		{name: "day-of-week", min: 0, max: 7, names: dowNames},
	}
	macros = map[string]string{
		"@yearly":   "0 0 1 1 *",
		"@annually": "0 0 1 1 *",
		"@monthly":  "0 0 1 * *",
		"@weekly":   "0 0 * * 0",
		"@daily":    "0 0 * * *",
		"@midnight": "0 0 * * *",
		"@hourly":   "0 * * * *",
	}
)

// Parse parses a 5-field cron expression or macro, evaluated in loc (nil
// means UTC). Errors name the offending field and the reason, e.g.
// `cron "0 25 * * *": hour: 25 is out of range 0-23`.
func Parse(expr string, loc *time.Location) (*Schedule, error) {
	if loc == nil {
		loc = time.UTC
	}
	trimmed := strings.TrimSpace(expr)
	f := strings.Fields(trimmed)
	if len(f) == 1 && strings.HasPrefix(f[0], "@") {
		expanded, ok := macros[strings.ToLower(f[0])]
		if !ok {
			return nil, fmt.Errorf("cron %q: unknown macro %q (want @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly)", expr, f[0])
		}
		f = strings.Fields(expanded)
	}
	if len(f) != len(fields) {
		return nil, fmt.Errorf("cron %q: expected 5 fields (minute hour day-of-month month day-of-week), got %d", expr, len(f))
	}
	var set [5]uint64
	for i, spec := range fields {
		b, err := parseField(f[i], spec)
		if err != nil {
			return nil, fmt.Errorf("cron %q: %s: %w", expr, spec.name, err)
		}
		set[i] = b
	}
	dow := set[4]
	if dow&(1<<7) != 0 {
		dow = dow&^(1<<7) | 1 // 7 is Sunday
	}
	return &Schedule{
		expr:    trimmed,
		minute:  set[0],
		hour:    set[1],
		dom:     set[2],
		month:   set[3],
		dow:     dow,
		domStar: strings.HasPrefix(f[2], "*"),
		dowStar: strings.HasPrefix(f[4], "*"),
		loc:     loc,
	}, nil
}

func parseField(field string, spec fieldSpec) (uint64, error) {
	var set uint64
	for _, elem := range strings.Split(field, ",") {
		if elem == "" {
			return 0, fmt.Errorf("empty element in list %q", field)
		}
		rng, stepStr, hasStep := strings.Cut(elem, "/")
		step := 1
		if hasStep {
			n, err := strconv.Atoi(stepStr)
			if err != nil || !isDigits(stepStr) {
				return 0, fmt.Errorf("invalid step %q in %q", stepStr, elem)
			}
			if n < 1 || n > spec.max {
				return 0, fmt.Errorf("step %d in %q is out of range 1-%d", n, elem, spec.max)
			}
			step = n
		}
		var lo, hi int
		switch {
		case rng == "*":
			lo, hi = spec.min, spec.max
			if spec.names != nil && spec.max == 7 {
				hi = 6 // day-of-week: 7 duplicates 0
			}
		case strings.Contains(rng, "-"):
			a, b, _ := strings.Cut(rng, "-")
			var err error
			if lo, err = parseValue(a, elem, spec); err != nil {
				return 0, err
			}
			if hi, err = parseValue(b, elem, spec); err != nil {
				return 0, err
			}
			if spec.max == 7 && hi == 0 && lo > 0 {
				hi = 7 // "fri-sun"
			}
			if lo > hi {
				return 0, fmt.Errorf("invalid range %q: start %d is after end %d", rng, lo, hi)
			}
		default:
			var err error
			if lo, err = parseValue(rng, elem, spec); err != nil {
				return 0, err
			}
			hi = lo
			if hasStep {
				hi = spec.max
			}
		}
		for v := lo; v <= hi; v += step {
			set |= 1 << uint(v)
		}
	}
	return set, nil
}

func parseValue(s, context string, spec fieldSpec) (int, error) {
	if s == "" {
		return 0, fmt.Errorf("missing value in %q", context)
	}
	if isDigits(s) {
		n, err := strconv.Atoi(s)
		if err != nil || n < spec.min || n > spec.max {
			return 0, fmt.Errorf("%s is out of range %d-%d", s, spec.min, spec.max)
		}
		return n, nil
	}
	if spec.names != nil {
		if n, ok := spec.names[strings.ToLower(s)]; ok {
			return n, nil
		}
		return 0, fmt.Errorf("invalid value %q (want a number %d-%d or a name)", s, spec.min, spec.max)
	}
	return 0, fmt.Errorf("invalid value %q (want a number %d-%d)", s, spec.min, spec.max)
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// String returns the expression the schedule was parsed from.
func (s *Schedule) String() string { return s.expr }

// Location returns the time zone the schedule is evaluated in.
func (s *Schedule) Location() *time.Location { return s.loc }

// Next returns the first activation strictly after after, in the schedule's
// location, or the zero time if there is none within 5 years.
func (s *Schedule) Next(after time.Time) time.Time {
	start := civilOf(floorMinute(s.maxWall(after)) + 60)
	limit := start
	limit.y += searchYears
	c := start
	for range 4 * 24 * 60 { // defensive bound; one iteration in practice
		var ok bool
		if c, ok = s.nextMatch(c, limit); !ok {
			return time.Time{}
		}
		if t := s.instant(c.wall()); t.After(after) {
			return t
		}
		c = civilOf(c.wall() + 60)
	}
	return time.Time{}
}

// Prev returns the last activation at or before before, in the schedule's
// location, or the zero time if there is none within 5 years.
func (s *Schedule) Prev(before time.Time) time.Time {
	start := civilOf(floorMinute(s.maxWall(before)))
	limit := start
	limit.y -= searchYears
	c := start
	for range 4 * 24 * 60 { // defensive bound; one iteration in practice
		var ok bool
		if c, ok = s.prevMatch(c, limit); !ok {
			return time.Time{}
		}
		if t := s.instant(c.wall()); !t.After(before) {
			return t
		}
		c = civilOf(c.wall() - 60)
	}
	return time.Time{}
}

// maxWall returns the latest wall-clock reading (in whole seconds, as if the
// wall time were UTC) shown by the location's clock at or before t. It
// differs from t's own wall time only shortly after a clock was set back.
func (s *Schedule) maxWall(t time.Time) int64 {
	t = t.In(s.loc)
	_, off := t.Zone()
	m := t.Unix() + int64(off)
	for range 64 {
		start, _ := t.ZoneBounds()
		if start.IsZero() || start.Unix()+maxOffset <= m {
			break
		}
		t = time.Unix(start.Unix()-1, 0).In(s.loc)
		_, off = t.Zone()
		if w := t.Unix() + int64(off); w > m {
			m = w
		}
	}
	return m
}

// instant returns the activation instant of wall time w (seconds, as if the
// wall time were UTC): the first instant at which the location's clock reads
// w or later.
func (s *Schedule) instant(w int64) time.Time {
	cur := w - maxOffset
	for range 64 {
		t := time.Unix(cur, 0).In(s.loc)
		_, off := t.Zone()
		_, end := t.ZoneBounds()
		x := w - int64(off)
		if end.IsZero() || x < end.Unix() {
			if x < cur {
				x = cur // w was skipped: first instant after the gap
			}
			return time.Unix(x, 0).In(s.loc)
		}
		cur = end.Unix()
	}
	return time.Unix(cur, 0).In(s.loc)
}

// civil is a wall-clock minute.
type civil struct{ y, mo, d, h, mi int }

func civilOf(w int64) civil {
	t := time.Unix(w, 0).UTC()
	y, mo, d := t.Date()
	return civil{y, int(mo), d, t.Hour(), t.Minute()}
}

func (c civil) wall() int64 {
	return daysFromCivil(c.y, c.mo, c.d)*86400 + int64(c.h*3600+c.mi*60)
}

func (c civil) after(o civil) bool {
	if c.y != o.y {
		return c.y > o.y
	}
	if c.mo != o.mo {
		return c.mo > o.mo
	}
	if c.d != o.d {
		return c.d > o.d
	}
	if c.h != o.h {
		return c.h > o.h
	}
	return c.mi > o.mi
}

func floorMinute(w int64) int64 {
	r := w % 60
	if r < 0 {
		r += 60
	}
	return w - r
}

// nextMatch returns the first matching wall minute at or after c, unless it
// is after limit.
func (s *Schedule) nextMatch(c civil, limit civil) (civil, bool) {
	y, mo, d, h, mi := c.y, c.mo, c.d, c.h, c.mi
	for y <= limit.y {
		if s.month&(1<<uint(mo)) == 0 {
			m := s.month & (^uint64(0) << uint(mo))
			if m == 0 {
				y++
				m = s.month
			}
			mo, d, h, mi = bits.TrailingZeros64(m), 1, 0, 0
			continue
		}
		days := s.dayMask(y, mo) & (^uint64(0) << uint(d))
		if days == 0 {
			if mo++; mo > 12 {
				y, mo = y+1, 1
			}
			d, h, mi = 1, 0, 0
			continue
		}
		if nd := bits.TrailingZeros64(days); nd != d {
			d, h, mi = nd, 0, 0
		}
		hours := s.hour & (^uint64(0) << uint(h))
		if hours == 0 {
			d, h, mi = d+1, 0, 0
			continue
		}
		if nh := bits.TrailingZeros64(hours); nh != h {
			h, mi = nh, 0
		}
		mins := s.minute & (^uint64(0) << uint(mi))
		if mins == 0 {
			h, mi = h+1, 0
			continue
		}
		r := civil{y, mo, d, h, bits.TrailingZeros64(mins)}
		if r.after(limit) {
			return civil{}, false
		}
		return r, true
	}
	return civil{}, false
}

// prevMatch returns the last matching wall minute at or before c, unless it
// is before limit.
func (s *Schedule) prevMatch(c civil, limit civil) (civil, bool) {
	y, mo, d, h, mi := c.y, c.mo, c.d, c.h, c.mi
	for y >= limit.y {
		if s.month&(1<<uint(mo)) == 0 {
			m := s.month & (1<<uint(mo) - 1)
			if m == 0 {
				y--
				m = s.month
			}
			mo = 63 - bits.LeadingZeros64(m)
			d, h, mi = 31, 23, 59
			continue
		}
		days := s.dayMask(y, mo) & (2<<uint(d) - 1)
		if days == 0 {
			if mo--; mo < 1 {
				y, mo = y-1, 12
			}
			d, h, mi = 31, 23, 59
			continue
		}
		if nd := 63 - bits.LeadingZeros64(days); nd != d {
			d, h, mi = nd, 23, 59
		}
		hours := s.hour & (2<<uint(h) - 1)
		if hours == 0 {
			d, h, mi = d-1, 23, 59
			continue
		}
		if nh := 63 - bits.LeadingZeros64(hours); nh != h {
			h, mi = nh, 59
		}
		mins := s.minute & (2<<uint(mi) - 1)
		if mins == 0 {
			if h == 0 {
				d, h, mi = d-1, 23, 59
			} else {
				h, mi = h-1, 59
			}
			continue
		}
		r := civil{y, mo, d, h, 63 - bits.LeadingZeros64(mins)}
		if limit.after(r) {
			return civil{}, false
		}
		return r, true
	}
	return civil{}, false
}

// dayMask returns the matching days of a month as bits 1-31.
func (s *Schedule) dayMask(y, mo int) uint64 {
	n := daysIn(y, mo)
	valid := uint64(1)<<uint(n+1) - 2
	// Weekday of the 1st; bit j of rot is set when day j+1 matches s.dow.
	w := int((daysFromCivil(y, mo, 1)%7 + 11) % 7) // 1970-01-01 was a Thursday
	rot := (s.dow>>uint(w) | s.dow<<uint(7-w)) & 0x7f
	rep := rot | rot<<7 | rot<<14 | rot<<21 | rot<<28
	dow := rep << 1
	if s.domStar || s.dowStar {
		return s.dom & dow & valid
	}
	return (s.dom | dow) & valid
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

func daysIn(y, mo int) int {
	switch mo {
	case 2:
		if isLeap(y) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil returns the number of days since 1970-01-01 of a proleptic
// Gregorian date (Howard Hinnant's algorithm).
func daysFromCivil(y, m, d int) int64 {
	yy := int64(y)
	if m <= 2 {
		yy--
	}
	era := yy / 400
	if yy < 0 && yy%400 != 0 {
		era--
	}
	yoe := yy - era*400
	mp := int64((m + 9) % 12)
	doy := (153*mp+2)/5 + int64(d) - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}
