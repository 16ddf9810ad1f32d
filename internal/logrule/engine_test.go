package logrule

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// planRule is the reference plan's check "abnormal-logins", as the plan writes it.
const planRule = `{"id":"abnormal-logins","match":{"field":"event","equals":"login_failed"},"group_by":["source_ip"],"count":20,"within":"5m"}`

var t0 = time.Date(2024, 5, 6, 10, 0, 0, 0, time.UTC)

func planEngine(t testing.TB) *Engine {
	t.Helper()
	var r Rule
	if err := json.Unmarshal([]byte(planRule), &r); err != nil {
		t.Fatal(err)
	}
	e, err := NewEngine([]Rule{r})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func login(ip string, at time.Time) Line {
	return Line{Time: at, Fields: map[string]string{"event": "login_failed", "source_ip": ip, "user": "root"}}
}

func TestRuleJSON(t *testing.T) {
	var r Rule
	if err := json.Unmarshal([]byte(planRule), &r); err != nil {
		t.Fatal(err)
	}
	if r.ID != "abnormal-logins" || len(r.Match) != 1 || r.Match[0] != (Matcher{Field: "event", Equals: "login_failed"}) ||
		len(r.GroupBy) != 1 || r.GroupBy[0] != "source_ip" || r.Count != 20 || r.Within.D() != 5*time.Minute {
		t.Fatalf("decoded %+v", r)
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":"abnormal-logins","match":[{"field":"event","equals":"login_failed"}],"group_by":["source_ip"],"count":20,"within":"5m0s"}`
	if string(b) != want {
		t.Fatalf("encoded %s\nwant    %s", b, want)
	}
	var back Rule
	if err := json.Unmarshal(b, &back); err != nil || back.Within != r.Within || len(back.Match) != 1 {
		t.Fatalf("round trip: %+v %v", back, err)
	}
	if err := json.Unmarshal([]byte(`{"id":"x","count":1,"within":300}`), &back); err == nil {
		t.Fatal("a number for within was accepted")
	}
	if err := json.Unmarshal([]byte(`{"id":"x","count":1,"within":"5 minutes"}`), &back); err == nil || !strings.Contains(err.Error(), "invalid duration") {
		t.Fatalf("bad within: %v", err)
	}
}

func TestFailedLoginBurst(t *testing.T) {
	e := planEngine(t)
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * 10 * time.Second) }
	for i := 0; i < 19; i++ {
		if f := e.Observe(login("10.0.0.9", at(i))); f != nil {
			t.Fatalf("line %d fired: %+v", i+1, f)
		}
		if f := e.Observe(login("10.0.0.10", at(i))); f != nil {
			t.Fatalf("other IP, line %d fired: %+v", i+1, f)
		}
		ok := login("10.0.0.9", at(i))
		ok.Fields["event"] = "login_ok"
		if f := e.Observe(ok); f != nil {
			t.Fatalf("a successful login fired: %+v", f)
		}
	}
	twentieth := login("10.0.0.9", at(19))
	fires := e.Observe(twentieth)
	if len(fires) != 1 {
		t.Fatalf("20th line: %d fires, want 1", len(fires))
	}
	f := fires[0]
	if f.RuleID != "abnormal-logins" || f.GroupKey != "source_ip=10.0.0.9" || len(f.Group) != 1 || f.Group["source_ip"] != "10.0.0.9" ||
		f.Count != 20 || !f.First.Equal(at(0)) || !f.Last.Equal(at(19)) || !f.Sample.Time.Equal(at(19)) || f.Sample.Fields["user"] != "root" {
		t.Fatalf("fire %+v", f)
	}
	twentieth.Fields["user"] = "changed" // the sample is a copy
	if f.Sample.Fields["user"] != "root" {
		t.Fatal("sample aliases the caller's map")
	}
	// No alert storm: more lines in the same burst do not fire again.
	for i := 20; i < 25; i++ {
		if f := e.Observe(login("10.0.0.9", at(i))); f != nil {
			t.Fatalf("line %d fired again: %+v", i+1, f)
		}
	}
	// The other IP is independent: its 20th line fires on its own.
	if f := e.Observe(login("10.0.0.10", at(19))); len(f) != 1 || f[0].GroupKey != "source_ip=10.0.0.10" {
		t.Fatalf("other IP: %+v", f)
	}
	if r := e.Resolved(at(25)); len(r) != 0 {
		t.Fatalf("resolved during the burst: %+v", r)
	}
	// Once the window has passed the last line, both resolve.
	r := e.Resolved(at(24).Add(5*time.Minute + time.Second))
	if len(r) != 2 || r[0].GroupKey != "source_ip=10.0.0.10" || r[1].GroupKey != "source_ip=10.0.0.9" {
		t.Fatalf("resolved %+v", r)
	}
	if r[1].Count != 0 || !r[1].First.Equal(at(0)) || !r[1].Last.Equal(at(24)) || r[1].Group["source_ip"] != "10.0.0.9" {
		t.Fatalf("resolved fire %+v", r[1])
	}
	if r := e.Resolved(at(24).Add(time.Hour)); len(r) != 0 {
		t.Fatalf("resolved twice: %+v", r)
	}
	if n := groupCount(e); n != 0 {
		t.Fatalf("%d idle groups kept", n)
	}
	// A new burst fires again.
	base := at(24).Add(time.Hour)
	var got int
	for i := 0; i < 20; i++ {
		got += len(e.Observe(login("10.0.0.9", base.Add(time.Duration(i)*time.Second))))
	}
	if got != 1 {
		t.Fatalf("second burst: %d fires", got)
	}
}

func groupCount(e *Engine) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, rs := range e.rules {
		n += len(rs.groups)
	}
	return n
}

func TestWindow(t *testing.T) {
	e := planEngine(t)
	// Ten lines, then ten more six minutes later: the first ten are out of the window.
	for i := 0; i < 10; i++ {
		e.Observe(login("10.0.0.11", t0.Add(time.Duration(i)*time.Second)))
	}
	for i := 0; i < 10; i++ {
		if f := e.Observe(login("10.0.0.11", t0.Add(6*time.Minute+time.Duration(i)*time.Second))); f != nil {
			t.Fatalf("old lines counted: %+v", f)
		}
	}
	// A late line older than the window does not count either.
	for i := 0; i < 5; i++ {
		if f := e.Observe(login("10.0.0.11", t0)); f != nil {
			t.Fatalf("late line counted: %+v", f)
		}
	}
	// Out-of-order lines inside the window do count; the window is inclusive:
	// 20 lines spanning exactly 5m fire.
	e = planEngine(t)
	e.Observe(login("10.0.0.12", t0.Add(5*time.Minute)))
	for i := 0; i < 18; i++ {
		e.Observe(login("10.0.0.12", t0.Add(time.Duration(18-i)*time.Second)))
	}
	f := e.Observe(login("10.0.0.12", t0))
	if len(f) != 1 || !f[0].First.Equal(t0) || !f[0].Last.Equal(t0.Add(5*time.Minute)) {
		t.Fatalf("inclusive window: %+v", f)
	}
	// Memory per group is bounded by Count.
	for i := 0; i < 1000; i++ {
		e.Observe(login("10.0.0.12", t0.Add(5*time.Minute+time.Duration(i)*time.Millisecond)))
	}
	e.mu.Lock()
	g := e.rules[0].groups["source_ip=10.0.0.12"]
	if g.ts.n != 20 || len(g.ts.buf) > 20 {
		t.Errorf("group keeps %d timestamps in a buffer of %d", g.ts.n, len(g.ts.buf))
	}
	for i := 1; i < g.ts.n; i++ {
		if g.ts.at(i-1) > g.ts.at(i) {
			t.Errorf("timestamps out of order at %d", i)
		}
	}
	e.mu.Unlock()
}

func TestIdleGroupsDropped(t *testing.T) {
	e := planEngine(t)
	for i := 0; i < 1000; i++ {
		e.Observe(login(fmt.Sprintf("10.1.%d.%d", i/256, i%256), t0))
	}
	if n := groupCount(e); n != 1000 {
		t.Fatalf("%d groups", n)
	}
	// Observing a line a window later sweeps the idle groups even without Resolved.
	e.Observe(login("10.9.9.9", t0.Add(6*time.Minute)))
	if n := groupCount(e); n != 1 {
		t.Fatalf("%d groups after the sweep, want 1", n)
	}
	e.Resolved(t0.Add(12 * time.Minute))
	if n := groupCount(e); n != 0 {
		t.Fatalf("%d groups after Resolved, want 0", n)
	}
}

func TestZeroTimeIsNow(t *testing.T) {
	e := planEngine(t)
	e.now = func() time.Time { return t0 }
	var f []Fire
	for i := 0; i < 20; i++ {
		f = e.Observe(Line{Fields: map[string]string{"event": "login_failed", "source_ip": "1.2.3.4"}})
	}
	if len(f) != 1 || !f[0].Last.Equal(t0) || !f[0].Sample.Time.Equal(t0) {
		t.Fatalf("%+v", f)
	}
}

func TestMatchers(t *testing.T) {
	rules := []Rule{
		{ID: "eq", Match: []Matcher{{Field: "app", Equals: "sshd"}}, Count: 1, Within: Duration(time.Minute)},
		{ID: "re-message", Match: []Matcher{{Regex: `^Failed password for \S+ from (\d+\.){3}\d+`}}, Count: 1, Within: Duration(time.Minute)},
		{ID: "re-field", Match: []Matcher{{Field: "user", Regex: `^(root|admin)$`}}, Count: 1, Within: Duration(time.Minute)},
		{ID: "ne", Match: []Matcher{{Field: "severity", NotEquals: "debug"}}, Count: 1, Within: Duration(time.Minute)},
		{ID: "all", Match: []Matcher{
			{Field: "app", Equals: "sshd"}, {Regex: "Failed"}, {Field: "severity", NotEquals: "debug"},
		}, Count: 1, Within: Duration(time.Minute)},
		{ID: "every-line", Count: 1, Within: Duration(time.Minute)},
	}
	e, err := NewEngine(rules)
	if err != nil {
		t.Fatal(err)
	}
	for i, tc := range []struct {
		fields map[string]string
		want   string
	}{
		{map[string]string{"app": "sshd", "message": "Failed password for root from 10.0.0.9 port 22", "user": "root", "severity": "info"},
			"eq re-message re-field ne all every-line"},
		{map[string]string{"app": "sshd", "message": "Failed password for bob from ::1", "user": "rooted", "severity": "debug"},
			"eq every-line"},
		{map[string]string{"app": "cron", "message": "x Failed", "user": "admin"},
			"re-field ne every-line"}, // an absent severity is "", not "debug"
	} {
		var got []string
		for _, f := range e.Observe(Line{Time: t0.Add(time.Duration(i) * time.Hour), Fields: tc.fields}) {
			got = append(got, f.RuleID)
		}
		if s := strings.Join(got, " "); s != tc.want {
			t.Errorf("line %d fired %q, want %q", i, s, tc.want)
		}
		e.Resolved(t0.Add(time.Duration(i)*time.Hour + 2*time.Minute)) // let every rule fire again
	}
}

func TestGroupKey(t *testing.T) {
	e, err := NewEngine([]Rule{{ID: "r", GroupBy: []string{"user", "source_ip"}, Count: 2, Within: Duration(time.Minute)}})
	if err != nil {
		t.Fatal(err)
	}
	l := Line{Time: t0, Fields: map[string]string{"user": "a,b=c%", "source_ip": "10.0.0.9"}}
	e.Observe(l)
	f := e.Observe(l)
	if len(f) != 1 || f[0].GroupKey != "user=a%2Cb%3Dc%25,source_ip=10.0.0.9" || f[0].Group["user"] != "a,b=c%" {
		t.Fatalf("%+v", f)
	}
	// A missing field groups as "".
	e.Observe(Line{Time: t0, Fields: map[string]string{}})
	f = e.Observe(Line{Time: t0, Fields: map[string]string{"user": ""}})
	if len(f) != 1 || f[0].GroupKey != "user=,source_ip=" {
		t.Fatalf("%+v", f)
	}
}

func TestValidate(t *testing.T) {
	good := func() Rule {
		return Rule{ID: "r", Match: []Matcher{{Field: "event", Equals: "x"}}, GroupBy: []string{"ip"}, Count: 3, Within: Duration(time.Minute)}
	}
	if err := (&Rule{ID: "r", Count: 1, Within: Duration(MaxWithin)}).Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		edit  func(*Rule)
		field string
		msg   string
	}{
		{func(r *Rule) { r.ID = "" }, "id", "required"},
		{func(r *Rule) { r.Match = append(r.Match, Matcher{Field: "a", Regex: "(unclosed"}) }, "match[1].regex", "invalid regular expression"},
		{func(r *Rule) { r.Match[0].Regex = "(?=lookahead)" }, "match[0]", "exactly one"},
		{func(r *Rule) { r.Match[0] = Matcher{Field: "a", Regex: "(?=lookahead)"} }, "match[0].regex", "invalid"},
		{func(r *Rule) { r.Match[0] = Matcher{Field: "a"} }, "match[0]", "exactly one"},
		{func(r *Rule) { r.Match[0] = Matcher{Equals: "x"} }, "match[0].field", "required"},
		{func(r *Rule) { r.Match[0] = Matcher{NotEquals: "x"} }, "match[0].field", "required"},
		{func(r *Rule) { r.GroupBy = []string{"ip", ""} }, "group_by[1]", "empty"},
		{func(r *Rule) { r.GroupBy = []string{"ip", "ip"} }, "group_by[1]", "twice"},
		{func(r *Rule) { r.Count = 0 }, "count", "at least 1"},
		{func(r *Rule) { r.Count = MaxCount + 1 }, "count", "at most"},
		{func(r *Rule) { r.Within = 0 }, "within", "positive"},
		{func(r *Rule) { r.Within = Duration(-time.Second) }, "within", "positive"},
		{func(r *Rule) { r.Within = Duration(MaxWithin + time.Nanosecond) }, "within", "24h"},
	} {
		r := good()
		tc.edit(&r)
		err := r.Validate()
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != tc.field || !strings.Contains(fe.Msg, tc.msg) {
			t.Errorf("%+v: error %v, want field %q with %q", r, err, tc.field, tc.msg)
		}
	}
	// NewEngine and SetRules name the rule too, and reject duplicate IDs.
	bad := good()
	bad.Match[0].Regex = "("
	bad.Match[0].Equals = ""
	_, err := NewEngine([]Rule{good(), bad})
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "rules[1].match[0].regex" || err.Error() != fe.Field+": "+fe.Msg {
		t.Fatalf("NewEngine: %v", err)
	}
	e, _ := NewEngine(nil)
	if err := e.SetRules([]Rule{good(), good()}); !errors.As(err, &fe) || fe.Field != "rules[1].id" {
		t.Fatalf("duplicate id: %v", err)
	}
}

func TestSetRules(t *testing.T) {
	mk := func(id string, count int) Rule {
		return Rule{ID: id, Match: []Matcher{{Field: "event", Equals: "login_failed"}}, GroupBy: []string{"source_ip"}, Count: count, Within: Duration(5 * time.Minute)}
	}
	e, err := NewEngine([]Rule{mk("keep", 3), mk("change", 3), mk("drop", 2)})
	if err != nil {
		t.Fatal(err)
	}
	var fired []string
	for i := 0; i < 2; i++ {
		for _, f := range e.Observe(login("10.0.0.9", t0.Add(time.Duration(i)*time.Second))) {
			fired = append(fired, f.RuleID)
		}
	}
	if strings.Join(fired, ",") != "drop" {
		t.Fatalf("fired %v", fired)
	}
	if err := e.SetRules([]Rule{mk("change", 4), mk("keep", 3), {ID: "bad"}}); err == nil {
		t.Fatal("invalid rules accepted")
	}
	if err := e.SetRules([]Rule{mk("change", 4), mk("keep", 3), mk("new", 1)}); err != nil {
		t.Fatal(err)
	}
	fired = nil
	for _, f := range e.Observe(login("10.0.0.9", t0.Add(2*time.Second))) {
		fired = append(fired, f.RuleID)
	}
	// "keep" kept its two lines and fires with the third; "change" started over.
	if strings.Join(fired, ",") != "keep,new" {
		t.Fatalf("after SetRules fired %v", fired)
	}
	// The dropped rule's fired group is reported resolved.
	r := e.Resolved(t0.Add(3 * time.Second))
	if len(r) != 1 || r[0].RuleID != "drop" || r[0].GroupKey != "source_ip=10.0.0.9" || r[0].Count != 2 {
		t.Fatalf("resolved %+v", r)
	}
}

func TestConcurrentUse(t *testing.T) {
	e := planEngine(t)
	var wg sync.WaitGroup
	fires := make([]int, 8)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ip := fmt.Sprintf("10.0.0.%d", w)
			for i := 0; i < 100; i++ {
				fires[w] += len(e.Observe(login(ip, t0.Add(time.Duration(i)*time.Second))))
				if i%10 == 0 {
					e.Resolved(t0)
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = e.SetRules([]Rule{mustRule(t, planRule)})
	}()
	wg.Wait()
	for w, n := range fires {
		if n != 1 {
			t.Errorf("worker %d: %d fires, want 1", w, n)
		}
	}
}

func mustRule(t testing.TB, s string) Rule {
	t.Helper()
	var r Rule
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// BenchmarkObserve measures lines per second for one rule with 1000 groups.
func BenchmarkObserve(b *testing.B) {
	e := planEngine(b)
	lines := make([]Line, 1000)
	for i := range lines {
		lines[i] = login(fmt.Sprintf("10.0.%d.%d", i/256, i%256), t0)
	}
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		l := lines[n%len(lines)]
		l.Time = t0.Add(time.Duration(n) * time.Millisecond)
		e.Observe(l)
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "lines/s")
}

func TestMaxGroups(t *testing.T) {
	e := planEngine(t)
	for i := 0; i <= MaxGroups; i++ {
		e.Observe(login(fmt.Sprintf("ip%d", i), t0))
	}
	if n := groupCount(e); n != MaxGroups {
		t.Fatalf("%d groups, want %d", n, MaxGroups)
	}
}
