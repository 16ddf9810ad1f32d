package plan

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"math"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"
	_ "time/tzdata" // timezones load on hosts without zoneinfo
)

// Validate checks the plan is complete and consistent: version, unique ids,
// references between sections, durations, timezones and schedules. It returns
// every problem found, each a *ValidationError, joined.
func (p *Plan) Validate() error {
	v := &validator{p: p}
	switch p.Version {
	case 1:
	case 0:
		v.errf("version", "is required: write version: 1")
	default:
		v.errf("version", "unsupported version %d (this firebreak reads version 1)", p.Version)
	}
	if p.Name.IsZero() {
		v.errf("name", "is required")
	}
	v.duration("review_every", p.ReviewEvery, false)

	people := collect(v, "people", "handle", p.People, func(x Person) string { return x.Handle })
	schedules := collect(v, "schedules", "id", p.Schedules, func(x Schedule) string { return x.ID })
	levels := collect(v, "levels", "id", p.Levels, func(x LevelSpec) string { return x.ID })
	roles := collect(v, "roles", "id", p.Roles, func(x RoleSpec) string { return x.ID })
	types := collect(v, "types", "id", p.Types, func(x TypeSpec) string { return x.ID })
	playbooks := collect(v, "playbooks", "id", p.Playbooks, func(x Playbook) string { return x.ID })
	templates := collect(v, "templates", "id", p.Templates, func(x Template) string { return x.ID })
	contacts := collect(v, "contacts", "id", p.Contacts, func(x Contact) string { return x.ID })
	resources := collect(v, "resources", "id", p.Resources, func(x Resource) string { return x.ID })
	collect(v, "drills", "id", p.Drills, func(x Drill) string { return x.ID })
	checks := collect(v, "checks", "id", p.Checks, func(x Check) string { return x.ID })
	collect(v, "routines", "id", p.Routines, func(x Routine) string { return x.ID })
	pageable := []*idset{schedules, people, contacts}
	v.distinct(pageable)

	v.ref("owner", p.Owner, people)
	for i, s := range p.Schedules {
		at := fmt.Sprintf("schedules[%d]", i)
		v.timezone(at+".timezone", s.Timezone)
		v.duration(at+".rotation.every", s.Rotation.Every, true)
		if s.Rotation.Handoff != "" {
			if _, err := ParseHandoff(s.Rotation.Handoff); err != nil {
				v.errf(at+".rotation.handoff", "%v", err)
			}
		}
		if s.Rotation.Start != "" {
			if _, err := time.Parse(time.DateOnly, s.Rotation.Start); err != nil {
				v.errf(at+".rotation.start", "invalid date %q (use 2006-01-02)", s.Rotation.Start)
			}
		}
		if len(s.Rotation.Members) == 0 {
			v.errf(at+".rotation.members", "is required: list the people taking turns")
		}
		v.refs(at+".rotation.members", s.Rotation.Members, people)
		for j, o := range s.Overrides {
			oat := fmt.Sprintf("%s.overrides[%d]", at, j)
			v.required(oat+".person", o.Person)
			v.ref(oat+".person", o.Person, people)
			from, ferr := parseTime(o.From)
			to, terr := parseTime(o.To)
			if ferr != nil {
				v.errf(oat+".from", "%v", ferr)
			}
			if terr != nil {
				v.errf(oat+".to", "%v", terr)
			}
			if ferr == nil && terr == nil && !to.After(from) {
				v.errf(oat+".to", "must be after from")
			}
		}
	}

	if p.Escalation.Repeat < 0 {
		v.errf("escalation.repeat", "must not be negative")
	}
	for i, s := range p.Escalation.Steps {
		at := fmt.Sprintf("escalation.steps[%d]", i)
		if s.After < 0 {
			v.errf(at+".after", "must not be negative")
		} else if i > 0 && s.After < p.Escalation.Steps[i-1].After {
			v.errf(at+".after", "%s is earlier than the previous step's %s; list steps in order", s.After, p.Escalation.Steps[i-1].After)
		}
		if !s.Page.Level && len(s.Page.Targets) == 0 {
			v.errf(at+".page", "is required: write level or a list of schedules, people or contacts")
		}
		v.refs(at+".page", s.Page.Targets, pageable...)
	}

	if len(p.Levels) == 0 {
		v.errf("levels", "at least one level is required")
	}
	for i, l := range p.Levels {
		at := fmt.Sprintf("levels[%d]", i)
		if l.Name.IsZero() {
			v.errf(at+".name", "is required")
		}
		t := l.Targets
		v.duration(at+".targets.acknowledge", t.Acknowledge, false)
		v.duration(at+".targets.first_internal_notice", t.FirstInternalNotice, false)
		v.duration(at+".targets.first_public_notice", t.FirstPublicNotice, false)
		v.duration(at+".targets.update_every", t.UpdateEvery, false)
		v.duration(at+".targets.resolve", t.Resolve, false)
		v.refs(at+".page", l.Page, pageable...)
		v.refs(at+".roles_required", l.RolesRequired, roles)
		v.refs(at+".notify", l.Notify, pageable...)
		v.oneOf(at+".postmortem", l.Postmortem, PostmortemRequired, PostmortemOptional, PostmortemNone)
	}

	for _, sev := range slices.Sorted(maps.Keys(p.AlertLevels)) {
		at := "alert_levels." + sev
		if !slices.Contains(Severities, sev) {
			v.errf(at, "unknown alert severity (want %s)", strings.Join(Severities, ", "))
		}
		if lv := p.AlertLevels[sev]; lv != "none" {
			v.ref(at, lv, levels)
		}
	}
	for _, sev := range Severities {
		if _, set := p.AlertLevels[sev]; set || DefaultAlertLevels[sev] == "" || levels.has[DefaultAlertLevels[sev]] {
			continue
		}
		v.errf("alert_levels", "%s alerts open %s incidents by default but there is no level %s; map %s in alert_levels (or to none)",
			sev, DefaultAlertLevels[sev], DefaultAlertLevels[sev], sev)
	}

	for i, r := range p.Roles {
		at := fmt.Sprintf("roles[%d]", i)
		if r.Name.IsZero() {
			v.errf(at+".name", "is required")
		}
		v.refs(at+".holders", r.Holders, people)
	}
	for i, t := range p.Types {
		at := fmt.Sprintf("types[%d]", i)
		if t.Name.IsZero() {
			v.errf(at+".name", "is required")
		}
		v.ref(at+".default_level", t.DefaultLevel, levels)
		v.ref(at+".playbook", t.Playbook, playbooks)
	}
	for i, pb := range p.Playbooks {
		for j, t := range pb.Tasks {
			at := fmt.Sprintf("playbooks[%d].tasks[%d]", i, j)
			if t.Title.IsZero() {
				v.errf(at+".title", "is required")
			}
			v.ref(at+".role", t.Role, roles)
			v.duration(at+".due", t.Due, false)
			v.ref(at+".template", t.Template, templates)
			v.ref(at+".resource", t.Resource, resources)
			v.ref(at+".verify", t.Verify, checks)
			v.refs(at+".contacts", t.Contacts, contacts)
			if t.Compensation != nil {
				v.required(at+".compensation.kind", t.Compensation.Kind)
				if t.Compensation.Amount < 0 {
					v.errf(at+".compensation.amount", "must not be negative")
				}
			}
		}
	}
	for i, t := range p.Templates {
		at := fmt.Sprintf("templates[%d]", i)
		v.oneOf(at+".phase", t.Phase, "triggered", "acknowledged", "investigating", "identified", "monitoring", "resolved", "closed")
		if t.Text.IsZero() {
			v.errf(at+".text", "is required")
		}
		for _, f := range [][2]string{{".title.en", t.Title.EN}, {".title.zh", t.Title.ZH}, {".text.en", t.Text.EN}, {".text.zh", t.Text.ZH}} {
			if _, err := template.New("").Parse(f[1]); err != nil {
				v.errf(at+f[0], "invalid template: %s", strings.TrimPrefix(err.Error(), "template: :"))
			}
		}
	}
	for i, r := range p.Resources {
		at := fmt.Sprintf("resources[%d]", i)
		v.ref(at+".owner", r.Owner, people)
		v.cron(at+".schedule", r.Schedule)
		v.timezone(at+".timezone", r.Timezone)
		v.duration(at+".restore_test_every", r.RestoreTestEvery, false)
		v.url(at+".url", r.URL)
		v.refs(at+".contacts", r.Contacts, contacts)
	}
	for i, d := range p.Drills {
		at := fmt.Sprintf("drills[%d]", i)
		v.required(at+".scenario", d.Scenario)
		v.ref(at+".scenario", d.Scenario, types)
		v.ref(at+".level", d.Level, levels)
		v.cron(at+".schedule", d.Schedule)
		v.timezone(at+".timezone", d.Timezone)
		v.duration(at+".window", d.Window, false)
	}
	for i, c := range p.Checks {
		v.check(fmt.Sprintf("checks[%d]", i), c, levels, types, resources)
	}
	for i, r := range p.Routines {
		at := fmt.Sprintf("routines[%d]", i)
		if r.Title.IsZero() {
			v.errf(at+".title", "is required")
		}
		v.required(at+".schedule", r.Schedule)
		v.cron(at+".schedule", r.Schedule)
		v.timezone(at+".timezone", r.Timezone)
		v.ref(at+".owner", r.Owner, people)
		v.duration(at+".announce_before", r.AnnounceBefore, false)
		v.duration(at+".maintenance_window", r.MaintenanceWindow, false)
	}
	v.duration("readiness.drill_within", p.Readiness.DrillWithin, false)
	// Report in file order; errors without a line go last.
	slices.SortStableFunc(v.errs, func(a, b error) int {
		key := func(e error) int {
			if l := e.(*ValidationError).Line; l > 0 {
				return l
			}
			return math.MaxInt
		}
		return cmp.Compare(key(a), key(b))
	})
	return errors.Join(v.errs...)
}

func (v *validator) check(at string, c Check, levels, types, resources *idset) {
	v.ref(at+".level", c.Level, levels)
	v.ref(at+".type", c.Type, types)
	v.ref(at+".resource", c.Resource, resources)
	if c.Severity != "" {
		v.oneOf(at+".severity", c.Severity, Severities...)
	}
	for _, d := range []struct {
		f string
		d Duration
	}{{"every", c.Every}, {"timeout", c.Timeout}, {"for", c.For}, {"within", c.Within}, {"grace", c.Grace}, {"warn_before", c.WarnBefore}} {
		v.duration(at+"."+d.f, d.d, false)
	}
	if c.FailAfter < 0 {
		v.errf(at+".fail_after", "must not be negative")
	}
	if c.Count < 0 {
		v.errf(at+".count", "must not be negative")
	}
	v.url(at+".url", c.URL)
	if c.Expect != nil {
		if s := c.Expect.Status; s != 0 && (s < 100 || s > 599) {
			v.errf(at+".expect.status", "%d is not an HTTP status", s)
		}
		v.duration(at+".expect.max_latency", c.Expect.MaxLatency, false)
	}
	v.cron(at+".schedule", c.Schedule)
	v.timezone(at+".timezone", c.Timezone)
	switch c.Kind {
	case CheckHTTP:
		v.required(at+".url", c.URL)
	case CheckTCP:
		v.required(at+".host", c.Host)
		if _, _, err := net.SplitHostPort(c.Host); c.Host != "" && err != nil {
			v.errf(at+".host", "want host:port, got %q", c.Host)
		}
	case CheckDNS, CheckTLS:
		v.required(at+".host", c.Host)
	case CheckPrometheus:
		v.required(at+".url", c.URL)
		v.required(at+".query", c.Query)
		if c.Above == nil && c.Below == nil {
			v.errf(at, "a prometheus check needs above or below")
		}
	case CheckLog:
		if c.Match == nil {
			v.errf(at+".match", "is required: {field: ..., equals: ...} or {field: ..., regex: ...}")
			break
		}
		v.required(at+".match.field", c.Match.Field)
		if c.Match.Equals == "" && c.Match.Regex == "" {
			v.errf(at+".match", "needs equals or regex")
		}
		if _, err := regexp.Compile(c.Match.Regex); err != nil {
			v.errf(at+".match.regex", "invalid regular expression: %v", err)
		}
		if c.Count > 1 && c.Within == 0 {
			v.errf(at+".within", "is required when count is set")
		}
	case CheckHeartbeat:
		if c.Schedule == "" && c.Every == 0 {
			v.errf(at, "a heartbeat check needs schedule (cron) or every")
		}
	case "":
		v.errf(at+".kind", "is required")
	default:
		v.errf(at+".kind", "unknown check kind %q (want %s)", c.Kind,
			strings.Join([]string{CheckHTTP, CheckTCP, CheckDNS, CheckTLS, CheckPrometheus, CheckLog, CheckHeartbeat}, ", "))
	}
}

type validator struct {
	p    *Plan
	errs []error
}

func (v *validator) errf(path, format string, args ...any) {
	v.errs = append(v.errs, &ValidationError{Line: v.p.line(path), Field: path, Msg: fmt.Sprintf(format, args...)})
}

func (v *validator) required(path, s string) {
	if s == "" {
		v.errf(path, "is required")
	}
}

// duration checks d is positive; an optional one may be left out but not set to 0.
func (v *validator) duration(path string, d Duration, required bool) {
	_, present := v.p.lines[path]
	switch {
	case d < 0:
		v.errf(path, "must be positive, got %s", d)
	case d > 0:
	case required && !present:
		v.errf(path, "is required")
	case present || required:
		v.errf(path, "must be positive (leave it out for none)")
	}
}

func (v *validator) oneOf(path, s string, allowed ...string) {
	if s != "" && !slices.Contains(allowed, s) {
		v.errf(path, "unknown value %q (want %s)", s, strings.Join(allowed, ", "))
	}
}

func (v *validator) timezone(path, tz string) {
	if tz == "" {
		return
	}
	if _, err := time.LoadLocation(tz); err != nil {
		v.errf(path, "unknown timezone %q (use an IANA name such as Asia/Shanghai or UTC)", tz)
	}
}

func (v *validator) url(path, s string) {
	if s == "" {
		return
	}
	if u, err := url.Parse(s); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		v.errf(path, "invalid URL %q (want http:// or https://)", s)
	}
}

func (v *validator) cron(path, expr string) {
	if expr == "" {
		return
	}
	if err := ParseCron(expr); err != nil {
		v.errf(path, "%v", err)
	}
}

// idset is the ids of one section, in file order.
type idset struct {
	section string // "levels"
	ids     []string
	has     map[string]bool
	at      map[string]int
}

var idRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

// collect checks the ids of a section are present, well formed and unique.
func collect[T any](v *validator, section, key string, items []T, id func(T) string) *idset {
	s := &idset{section: section, has: map[string]bool{}, at: map[string]int{}}
	for i, it := range items {
		path := fmt.Sprintf("%s[%d].%s", section, i, key)
		x := id(it)
		switch {
		case x == "":
			v.errf(path, "is required")
		case !idRE.MatchString(x):
			v.errf(path, "%q is not a valid %s: use letters, digits, '-', '_' and '.'", x, key)
		case s.has[x]:
			v.errf(path, "duplicate %s %q (also %s[%d])", key, x, section, s.at[x])
		default:
			s.ids, s.has[x], s.at[x] = append(s.ids, x), true, i
		}
	}
	return s
}

// distinct rejects an id used in two of sets, since page lists name them alike.
func (v *validator) distinct(sets []*idset) {
	for i, s := range sets {
		for _, id := range s.ids {
			path := fmt.Sprintf("%s[%d]", s.section, s.at[id])
			if id == "level" {
				v.errf(path, `"level" is reserved: escalation steps use it for the level's own page list`)
			}
			for _, o := range sets[:i] {
				if o.has[id] {
					v.errf(path, "%q is also used in %s[%d]; page and notify lists could not tell them apart", id, o.section, o.at[id])
				}
			}
		}
	}
}

// ref checks id (if set) names an entry of one of sets.
func (v *validator) ref(path, id string, sets ...*idset) {
	if id == "" {
		return
	}
	var known, names []string
	for _, s := range sets {
		if s.has[id] {
			return
		}
		known = append(known, s.ids...)
		names = append(names, s.section)
	}
	msg := fmt.Sprintf("unknown id %q: not in %s", id, strings.Join(names, ", "))
	if len(known) > 0 && len(known) <= 12 {
		msg += " (known: " + strings.Join(known, ", ") + ")"
	}
	v.errf(path, "%s", msg)
}

func (v *validator) refs(path string, ids []string, sets ...*idset) {
	for i, id := range ids {
		v.ref(fmt.Sprintf("%s[%d]", path, i), id, sets...)
	}
}

func parseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339, "2006-01-02 15:04", time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("invalid time %q (use 2006-01-02 15:04 or RFC 3339)", s)
}

// Handoff is when a rotation changes hands: at Hour:Minute every day, or only
// on Weekday when Weekly.
type Handoff struct {
	Weekly       bool
	Weekday      time.Weekday
	Hour, Minute int
}

// ParseHandoff reads "Monday 10:00", "Mon 10:00" or "09:00".
func ParseHandoff(s string) (Handoff, error) {
	var h Handoff
	f := strings.Fields(s)
	if len(f) == 2 {
		d, ok := weekday(f[0])
		if !ok {
			return h, fmt.Errorf("invalid handoff %q: unknown weekday %q", s, f[0])
		}
		h.Weekly, h.Weekday, f = true, d, f[1:]
	}
	if len(f) != 1 {
		return h, fmt.Errorf("invalid handoff %q (want \"Monday 10:00\" or \"09:00\")", s)
	}
	t, err := time.Parse("15:04", f[0])
	if err != nil {
		return h, fmt.Errorf("invalid handoff %q: want the time as 15:04", s)
	}
	h.Hour, h.Minute = t.Hour(), t.Minute()
	return h, nil
}

func weekday(s string) (time.Weekday, bool) {
	for d := time.Sunday; d <= time.Saturday; d++ {
		if n := d.String(); strings.EqualFold(s, n) || strings.EqualFold(s, n[:3]) {
			return d, true
		}
	}
	return 0, false
}

var cronFields = []struct {
	name     string
	min, max int
	names    []string
}{
	{"minute", 0, 59, nil},
	{"hour", 0, 23, nil},
	{"day of month", 1, 31, nil},
	{"month", 1, 12, []string{"", "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}},
	{"day of week", 0, 7, []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}},
}

// ParseCron checks a five-field cron expression (minute hour day-of-month month
// day-of-week, with *, lists, ranges, steps and jan/mon names) or a @daily-style macro.
func ParseCron(expr string) error {
	switch expr {
	case "@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly":
		return nil
	}
	f := strings.Fields(expr)
	if len(f) != len(cronFields) {
		return fmt.Errorf("invalid cron schedule %q: want 5 fields (minute hour day-of-month month day-of-week)", expr)
	}
	for i, field := range f {
		cf := cronFields[i]
		num := func(s string) (int, error) {
			if j := slices.Index(cf.names, strings.ToLower(s)); j >= 0 && s != "" {
				return j, nil
			}
			n, err := strconv.Atoi(s)
			if err != nil || n < cf.min || n > cf.max {
				return 0, fmt.Errorf("invalid cron schedule %q: %s %q is not in %d-%d", expr, cf.name, s, cf.min, cf.max)
			}
			return n, nil
		}
		for part := range strings.SplitSeq(field, ",") {
			base, step, stepped := strings.Cut(part, "/")
			if stepped {
				if n, err := strconv.Atoi(step); err != nil || n < 1 {
					return fmt.Errorf("invalid cron schedule %q: bad step %q in %s", expr, step, cf.name)
				}
			}
			if base == "*" {
				continue
			}
			lo, hi, isRange := strings.Cut(base, "-")
			a, err := num(lo)
			if err != nil {
				return err
			}
			if isRange {
				b, err := num(hi)
				if err != nil {
					return err
				}
				if b < a {
					return fmt.Errorf("invalid cron schedule %q: %s range %s is backwards", expr, cf.name, base)
				}
			}
		}
	}
	return nil
}
