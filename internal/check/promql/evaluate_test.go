package promql

import (
	"encoding/json"
	"maps"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func ptr(v float64) *float64 { return &v }

var (
	web1 = map[string]string{"__name__": "cpu", "instance": "web-1"}
	web2 = map[string]string{"__name__": "cpu", "instance": "web-2"}
	fp1  = Fingerprint(web1)
	fp2  = Fingerprint(web2)
)

func cpu(labels map[string]string, v float64) Sample {
	return Sample{Labels: labels, Value: v, Fingerprint: Fingerprint(labels)}
}

// run is one check run: the samples at offset at from the start, and the
// changes it must produce, written as "+fp" (fires) or "-fp" (resolves), plus
// which series must be pending and firing afterwards.
type run struct {
	at      time.Duration
	samples []Sample
	changes []string
	pending []string
	firing  []string
}

func TestEvaluate(t *testing.T) {
	above80 := Config{Query: "cpu", Above: ptr(80)}
	for5m := above80
	for5m.For = Duration(5 * time.Minute)
	below10 := Config{Query: "free_disk_percent", Below: ptr(10), For: Duration(time.Minute)}
	disk := map[string]string{"__name__": "free_disk_percent", "mount": "/"}
	fpDisk := Fingerprint(disk)

	cases := []struct {
		name string
		cfg  Config
		runs []run
	}{
		{"pending then firing after for", for5m, []run{
			{0, []Sample{cpu(web1, 90)}, nil, []string{fp1}, nil},
			{2 * time.Minute, []Sample{cpu(web1, 95)}, nil, []string{fp1}, nil},
			{4*time.Minute + 59*time.Second, []Sample{cpu(web1, 95)}, nil, []string{fp1}, nil},
			{5 * time.Minute, []Sample{cpu(web1, 93.2)}, []string{"+" + fp1}, nil, []string{fp1}},
			{6 * time.Minute, []Sample{cpu(web1, 99)}, nil, nil, []string{fp1}}, // still firing: no new change
		}},
		{"dropping below before for resets", for5m, []run{
			{0, []Sample{cpu(web1, 90)}, nil, []string{fp1}, nil},
			{3 * time.Minute, []Sample{cpu(web1, 70)}, nil, nil, nil},
			{4 * time.Minute, []Sample{cpu(web1, 90)}, nil, []string{fp1}, nil},
			{6 * time.Minute, []Sample{cpu(web1, 90)}, nil, []string{fp1}, nil}, // 2m since the reset
			{9 * time.Minute, []Sample{cpu(web1, 90)}, []string{"+" + fp1}, nil, []string{fp1}},
		}},
		{"exactly at the threshold does not breach", above80, []run{
			{0, []Sample{cpu(web1, 80)}, nil, nil, nil},
		}},
		{"resolve when below", for5m, []run{
			{0, []Sample{cpu(web1, 90)}, nil, []string{fp1}, nil},
			{5 * time.Minute, []Sample{cpu(web1, 90)}, []string{"+" + fp1}, nil, []string{fp1}},
			{6 * time.Minute, []Sample{cpu(web1, 50)}, []string{"-" + fp1}, nil, nil},
			{7 * time.Minute, []Sample{cpu(web1, 50)}, nil, nil, nil},
			{8 * time.Minute, []Sample{cpu(web1, 90)}, nil, []string{fp1}, nil}, // pending again from scratch
		}},
		{"series disappearing resolves", above80, []run{
			{0, []Sample{cpu(web1, 90)}, []string{"+" + fp1}, nil, []string{fp1}},
			{time.Minute, nil, []string{"-" + fp1}, nil, nil},
			{2 * time.Minute, nil, nil, nil, nil},
		}},
		{"pending series disappearing is forgotten", for5m, []run{
			{0, []Sample{cpu(web1, 90)}, nil, []string{fp1}, nil},
			{time.Minute, nil, nil, nil, nil},
			{5 * time.Minute, []Sample{cpu(web1, 90)}, nil, []string{fp1}, nil},
		}},
		{"two series independent", for5m, []run{
			{0, []Sample{cpu(web1, 90), cpu(web2, 50)}, nil, []string{fp1}, nil},
			{3 * time.Minute, []Sample{cpu(web1, 90), cpu(web2, 85)}, nil, []string{fp1, fp2}, nil},
			{5 * time.Minute, []Sample{cpu(web2, 85), cpu(web1, 90)}, []string{"+" + fp1}, []string{fp2}, []string{fp1}},
			{8 * time.Minute, []Sample{cpu(web1, 90), cpu(web2, 85)}, []string{"+" + fp2}, nil, []string{fp1, fp2}},
			{9 * time.Minute, []Sample{cpu(web1, 10), cpu(web2, 85)}, []string{"-" + fp1}, nil, []string{fp2}},
			{10 * time.Minute, nil, []string{"-" + fp2}, nil, nil},
		}},
		{"below-threshold mode", below10, []run{
			{0, []Sample{cpu(disk, 15)}, nil, nil, nil},
			{time.Minute, []Sample{cpu(disk, 9.5)}, nil, []string{fpDisk}, nil},
			{2 * time.Minute, []Sample{cpu(disk, 8)}, []string{"+" + fpDisk}, nil, []string{fpDisk}},
			{3 * time.Minute, []Sample{cpu(disk, 10)}, []string{"-" + fpDisk}, nil, nil},
		}},
		{"for 0 fires at once", above80, []run{
			{0, []Sample{cpu(web1, 81)}, []string{"+" + fp1}, nil, []string{fp1}},
			{time.Second, []Sample{cpu(web1, 79)}, []string{"-" + fp1}, nil, nil},
			{2 * time.Second, []Sample{cpu(web1, 81)}, []string{"+" + fp1}, nil, []string{fp1}},
		}},
		{"NaN never breaches", above80, []run{
			{0, []Sample{cpu(web1, math.NaN())}, nil, nil, nil},
			{time.Second, []Sample{cpu(web1, math.Inf(1))}, []string{"+" + fp1}, nil, []string{fp1}},
			{2 * time.Second, []Sample{cpu(web1, math.NaN())}, []string{"-" + fp1}, nil, nil},
		}},
		{"NaN never breaches below either", below10, []run{
			{0, []Sample{cpu(disk, math.NaN())}, nil, nil, nil},
			{time.Hour, []Sample{cpu(disk, math.NaN())}, nil, nil, nil},
		}},
		{"NaN resets a pending series", for5m, []run{
			{0, []Sample{cpu(web1, 90)}, nil, []string{fp1}, nil},
			{4 * time.Minute, []Sample{cpu(web1, math.NaN())}, nil, nil, nil},
			{5 * time.Minute, []Sample{cpu(web1, 90)}, nil, []string{fp1}, nil},
		}},
	}
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var st State
			for i, r := range tc.runs {
				now := start.Add(r.at)
				before := mustJSON(t, st)
				next, changes := Evaluate(tc.cfg, st, r.samples, now)
				if after := mustJSON(t, st); after != before {
					t.Fatalf("run %d (+%s): Evaluate modified its input state:\n%s\n%s", i, r.at, before, after)
				}
				if got, want := sorted(describe(changes)), sorted(r.changes); !reflect.DeepEqual(got, want) {
					t.Fatalf("run %d (+%s): changes %v, want %v\n%+v", i, r.at, got, want, changes)
				}
				if got, want := keys(next.Pending), sorted(r.pending); !reflect.DeepEqual(got, want) {
					t.Fatalf("run %d (+%s): pending %v, want %v", i, r.at, got, want)
				}
				if got, want := keys(next.Firing), sorted(r.firing); !reflect.DeepEqual(got, want) {
					t.Fatalf("run %d (+%s): firing %v, want %v", i, r.at, got, want)
				}
				// The caller stores the state as JSON between runs.
				var stored State
				if err := json.Unmarshal([]byte(mustJSON(t, next)), &stored); err != nil {
					t.Fatal(err)
				}
				st = stored
			}
		})
	}
}

func TestEvaluatePendingSinceIsKept(t *testing.T) {
	c := Config{Query: "cpu", Above: ptr(80), For: Duration(time.Minute)}
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	st, _ := Evaluate(c, State{}, []Sample{cpu(web1, 90)}, t0)
	st, _ = Evaluate(c, st, []Sample{cpu(web1, 90)}, t0.Add(30*time.Second))
	if got := st.Pending[fp1]; !got.Equal(t0) {
		t.Fatalf("pending since %v, want the first breach %v", got, t0)
	}
	// A clock that went back does not fire early.
	st2, ch := Evaluate(c, st, []Sample{cpu(web1, 90)}, t0.Add(-time.Hour))
	if len(ch) != 0 || !st2.Pending[fp1].Equal(t0.Add(-time.Hour)) {
		t.Fatalf("clock went back: changes %+v, pending %v", ch, st2.Pending)
	}
}

func TestEvaluateChanges(t *testing.T) {
	c := Config{Query: "cpu", Above: ptr(80), For: Duration(5 * time.Minute)}
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	st, _ := Evaluate(c, State{}, []Sample{cpu(web1, 90)}, t0)
	st, ch := Evaluate(c, st, []Sample{cpu(web1, 93.2)}, t0.Add(5*time.Minute))
	want := Change{Fingerprint: fp1, Labels: web1, Value: 93.2, Firing: true,
		Summary: `cpu: instance="web-1" is 93.2, above 80 for 5m`}
	if len(ch) != 1 || !reflect.DeepEqual(ch[0], want) {
		t.Fatalf("firing change:\n got %+v\nwant %+v", ch, want)
	}

	_, ch = Evaluate(c, st, []Sample{cpu(web1, 50)}, t0.Add(6*time.Minute))
	want = Change{Fingerprint: fp1, Labels: web1, Value: 50, Firing: false,
		Summary: `cpu: instance="web-1" is 50, no longer above 80`}
	if len(ch) != 1 || !reflect.DeepEqual(ch[0], want) {
		t.Fatalf("resolved change:\n got %+v\nwant %+v", ch, want)
	}

	// Gone: the labels come from the state.
	_, ch = Evaluate(c, st, nil, t0.Add(6*time.Minute))
	want = Change{Fingerprint: fp1, Labels: web1, Firing: false, Gone: true,
		Summary: `cpu: instance="web-1" is no longer in the query result`}
	if len(ch) != 1 || !reflect.DeepEqual(ch[0], want) {
		t.Fatalf("gone change:\n got %+v\nwant %+v", ch, want)
	}
	// A state stored without labels still resolves, by fingerprint.
	_, ch = Evaluate(c, State{Firing: map[string]bool{fp1: true}}, nil, t0)
	if len(ch) != 1 || ch[0].Firing || ch[0].Fingerprint != fp1 || !strings.Contains(ch[0].Summary, fp1) {
		t.Fatalf("gone without labels: %+v", ch)
	}

	// No metric name (an aggregation): the query names the series; a scalar has no labels.
	agg := Config{Query: "avg by (instance) (rate(cpu_seconds[5m])) * 100", Below: ptr(5)}
	_, ch = Evaluate(agg, State{}, []Sample{cpu(map[string]string{"instance": "db-1"}, 1.5), cpu(map[string]string{}, 0.25)}, t0)
	var sums []string
	for _, x := range ch {
		sums = append(sums, x.Summary)
	}
	got := strings.Join(sums, "\n")
	for _, w := range []string{
		`avg by (instance) (rate(cpu_seconds[5m])) * 100: instance="db-1" is 1.5, below 5`,
		`avg by (instance) (rate(cpu_seconds[5m])) * 100 is 0.25, below 5`,
	} {
		if !strings.Contains(got, w) {
			t.Errorf("summaries lack %q:\n%s", w, got)
		}
	}

	// Changes with NaN values still encode as JSON.
	_, ch = Evaluate(Config{Query: "cpu", Above: ptr(80)}, State{Firing: map[string]bool{fp1: true}}, []Sample{cpu(web1, math.NaN())}, t0)
	b, err := json.Marshal(ch)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"value":null`) || !strings.Contains(string(b), `"firing":false`) {
		t.Fatalf("NaN change JSON: %s", b)
	}
}

func TestFingerprintStable(t *testing.T) {
	a := Fingerprint(map[string]string{"a": "1", "b": "2"})
	b := Fingerprint(map[string]string{"b": "2", "a": "1"})
	if a != b || len(a) != 16 {
		t.Fatalf("fingerprints %q %q", a, b)
	}
	for _, other := range []map[string]string{
		{"a": "12"}, {"a": "1", "b": "3"}, {"a1": "", "b": "2"}, {},
	} {
		if Fingerprint(other) == a {
			t.Errorf("%v collides with a=1,b=2", other)
		}
	}
	// Pinned: the fingerprint is stored between runs and across versions.
	if got := Fingerprint(map[string]string{"__name__": "up", "job": "node"}); got != pinnedUpFingerprint {
		t.Fatalf("Fingerprint(up{job=node}) = %s, want %s", got, pinnedUpFingerprint)
	}
}

const pinnedUpFingerprint = "98d994527137a6ec"

func TestFormatValue(t *testing.T) {
	for v, want := range map[float64]string{
		93.2: "93.2", 0.1 + 0.2: "0.3", 1234567: "1234567", 1e20: "1e+20", -2.5: "-2.5", 0: "0",
		1e-9: "1e-09", math.Inf(-1): "-Inf",
	} {
		if got := formatValue(v); got != want {
			t.Errorf("formatValue(%v) = %q, want %q", v, got, want)
		}
	}
	if got := shortDuration(90 * time.Minute); got != "1h30m" {
		t.Errorf("shortDuration = %q", got)
	}
}

func describe(changes []Change) []string {
	out := []string{}
	for _, c := range changes {
		sign := "-"
		if c.Firing {
			sign = "+"
		}
		out = append(out, sign+c.Fingerprint)
	}
	return out
}

func keys[V any](m map[string]V) []string {
	out := slices.Sorted(maps.Keys(m))
	if out == nil {
		out = []string{}
	}
	return out
}

func sorted(s []string) []string {
	out := append([]string{}, s...)
	slices.Sort(out)
	return out
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
