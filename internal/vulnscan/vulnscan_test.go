package vulnscan

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func load(t *testing.T, name string) Report {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	r, err := Parse(data)
	if err != nil {
		t.Fatalf("Parse(%s): %v", name, err)
	}
	return r
}

// find returns the finding for (target, id, pkg), failing the test if absent.
func find(t *testing.T, r Report, target, id, pkg string) Finding {
	t.Helper()
	for _, f := range r.Findings {
		if f.Target == target && f.ID == id && f.Package == pkg {
			return f
		}
	}
	t.Fatalf("no finding %s / %s / %s in %s report", target, id, pkg, r.Scanner)
	return Finding{}
}

const (
	image    = "registry.example.com/shop/app:1.2"
	osTarget = image + " (debian 12.4)"
	appBin   = image + "/usr/local/bin/app"
)

func TestParseTrivy(t *testing.T) {
	r := load(t, "trivy-image.json")
	if r.Scanner != "trivy" || r.Artifact != image {
		t.Fatalf("scanner, artifact = %q, %q", r.Scanner, r.Artifact)
	}
	// 6 OS findings + 2 in the app binary; the healthcheck binary's null
	// Vulnerabilities and the secret result contribute none.
	if len(r.Findings) != 8 {
		t.Fatalf("got %d findings, want 8: %+v", len(r.Findings), r.Findings)
	}
	for _, f := range r.Findings {
		if strings.Contains(f.Target, "healthcheck") || strings.Contains(f.Target, "config.yaml") {
			t.Errorf("unexpected finding for %s", f.Target)
		}
	}

	got := find(t, r, osTarget, "CVE-2024-2961", "libc6")
	want := Finding{
		Target:      osTarget,
		ID:          "CVE-2024-2961",
		Package:     "libc6",
		Installed:   "2.36-9+deb12u4",
		Fixed:       "2.36-9+deb12u7",
		Severity:    High,
		Title:       "glibc: Out of bounds write in iconv may lead to remote code execution",
		URL:         "https://avd.aquasec.com/nvd/cve-2024-2961",
		Fingerprint: Fingerprint(osTarget, "CVE-2024-2961", "libc6"),
	}
	if got != want {
		t.Errorf("libc6:\n got %+v\nwant %+v", got, want)
	}

	// No Title: the description stands in, on one line.
	apt := find(t, r, osTarget, "CVE-2011-3374", "apt")
	if apt.Severity != Low || apt.Fixed != "" ||
		apt.Title != "It was found that apt-key in apt, all versions, do not correctly validate gpg keys with the master keyring, leading to a potential man-in-the-middle attack." {
		t.Errorf("apt: %+v", apt)
	}
	if z := find(t, r, osTarget, "CVE-2023-45853", "zlib1g"); z.Severity != Critical || z.Fixed != "" {
		t.Errorf("zlib1g: %+v", z)
	}
	if k := find(t, r, osTarget, "CVE-2024-26458", "libkrb5-3"); k.Severity != Unknown {
		t.Errorf("libkrb5-3 severity = %v, want unknown", k.Severity)
	}

	// A language package's target is the binary inside the image.
	std := find(t, r, appBin, "CVE-2024-24790", "stdlib")
	if std.Severity != Critical || std.Installed != "v1.22.1" || std.Fixed != "1.21.11, 1.22.4" {
		t.Errorf("stdlib: %+v", std)
	}
	if n := find(t, r, appBin, "CVE-2023-45288", "golang.org/x/net"); n.Severity != Medium || n.Fixed != "0.23.0" {
		t.Errorf("x/net: %+v", n)
	}
}

func TestParseGrypeImage(t *testing.T) {
	r := load(t, "grype-image.json")
	// source.target is the image metadata object: userInput names the artifact.
	if r.Scanner != "grype" || r.Artifact != image {
		t.Fatalf("scanner, artifact = %q, %q", r.Scanner, r.Artifact)
	}
	// 8 matches; the ignoredMatches entry is skipped.
	if len(r.Findings) != 8 {
		t.Fatalf("got %d findings, want 8", len(r.Findings))
	}
	for _, f := range r.Findings {
		if f.Package == "gcc-12-base" {
			t.Errorf("ignored match reported: %+v", f)
		}
	}

	// OS packages target the image itself, whatever their database path.
	apt := find(t, r, image, "CVE-2011-3374", "apt")
	if apt.Severity != Negligible || apt.Fixed != "" || apt.Installed != "2.6.1" ||
		apt.URL != "https://security-tracker.debian.org/tracker/CVE-2011-3374" || apt.Title != "" {
		t.Errorf("apt: %+v", apt)
	}
	if tar := find(t, r, image, "CVE-2005-2541", "tar"); tar.Severity != Negligible {
		t.Errorf("tar: %+v", tar)
	}
	if k := find(t, r, image, "CVE-2024-26458", "libkrb5-3"); k.Severity != Unknown {
		t.Errorf("libkrb5-3: %+v", k)
	}
	if z := find(t, r, image, "CVE-2023-45853", "zlib1g"); z.Severity != Critical || z.Fixed != "" {
		t.Errorf("zlib1g (wont-fix): %+v", z)
	}
	if c := find(t, r, image, "CVE-2024-2961", "libc6"); c.Severity != High || c.Fixed != "2.36-9+deb12u7" {
		t.Errorf("libc6: %+v", c)
	}

	// Language packages target the binary holding them, as Trivy's do.
	got := find(t, r, appBin, "GHSA-4v7x-pqxf-cx7m", "golang.org/x/net")
	want := Finding{
		Target:      appBin,
		ID:          "GHSA-4v7x-pqxf-cx7m",
		Package:     "golang.org/x/net",
		Installed:   "v0.21.0",
		Fixed:       "0.23.0",
		Severity:    Medium,
		Title:       "net/http, x/net/http2: close connections when receiving too many headers",
		URL:         "https://github.com/advisories/GHSA-4v7x-pqxf-cx7m",
		Fingerprint: Fingerprint(appBin, "GHSA-4v7x-pqxf-cx7m", "golang.org/x/net"),
	}
	if got != want {
		t.Errorf("x/net:\n got %+v\nwant %+v", got, want)
	}
	a := find(t, r, appBin, "CVE-2024-24790", "stdlib")
	h := find(t, r, image+"/usr/local/bin/healthcheck", "CVE-2024-24790", "stdlib")
	if a.Fixed != "1.21.11, 1.22.4" || a.Severity != Critical {
		t.Errorf("stdlib: %+v", a)
	}
	if a.Fingerprint == h.Fingerprint {
		t.Error("same vulnerability in two binaries shares a fingerprint")
	}
}

func TestParseGrypeDirectory(t *testing.T) {
	r := load(t, "grype-dir.json")
	// source.target is a plain string for directory scans.
	if r.Scanner != "grype" || r.Artifact != "/builds/shop/app" {
		t.Fatalf("scanner, artifact = %q, %q", r.Scanner, r.Artifact)
	}
	if len(r.Findings) != 2 {
		t.Fatalf("got %d findings, want 2", len(r.Findings))
	}
	l := find(t, r, "/builds/shop/app/web/package-lock.json", "GHSA-35jh-r3h4-6jhm", "lodash")
	if l.Severity != High || l.Installed != "4.17.20" || l.Fixed != "4.17.21" || l.Title != "Command Injection in lodash" {
		t.Errorf("lodash: %+v", l)
	}
	find(t, r, "/builds/shop/app/tools/requirements.txt", "GHSA-j8r2-6x86-q33q", "requests")
}

func TestGrypeSourceTargetShapes(t *testing.T) {
	for _, tc := range []struct{ source, want string }{
		{`{"type":"image","target":{"userInput":"alpine:3.19","imageID":"sha256:05455a08881e","tags":["alpine:3.19"]}}`, "alpine:3.19"},
		{`{"type":"image","target":{"userInput":"","imageID":"sha256:05455a08881e","tags":["docker.io/library/alpine:3.19"]}}`, "docker.io/library/alpine:3.19"},
		{`{"type":"image","target":{"imageID":"sha256:05455a08881e"}}`, "sha256:05455a08881e"},
		{`{"type":"directory","target":"."}`, "."},
		{`{"type":"sbom-file","target":"sbom.spdx.json"}`, "sbom.spdx.json"},
		{`{"type":"unknown","target":"unknown"}`, "unknown"},
		{`null`, ""},
	} {
		doc := `{"matches":[{"vulnerability":{"id":"CVE-2024-0001","severity":"Low"},"artifact":{"name":"busybox","version":"1.36.1-r15","type":"apk"}}],"source":` +
			tc.source + `,"descriptor":{"name":"grype","version":"0.79.1"}}`
		r, err := Parse([]byte(doc))
		if err != nil {
			t.Errorf("%s: %v", tc.source, err)
			continue
		}
		if r.Artifact != tc.want || len(r.Findings) != 1 || r.Findings[0].Target != tc.want {
			t.Errorf("%s: artifact %q findings %+v, want %q", tc.source, r.Artifact, r.Findings, tc.want)
		}
	}
}

func TestParseSeverity(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Severity
		ok   bool
	}{
		{"UNKNOWN", Unknown, true}, {"Unknown", Unknown, true},
		{"Negligible", Negligible, true}, {"NEGLIGIBLE", Negligible, true},
		{"LOW", Low, true}, {"low", Low, true},
		{"MEDIUM", Medium, true}, {"Medium", Medium, true},
		{"HIGH", High, true}, {" High ", High, true},
		{"CRITICAL", Critical, true}, {"critical", Critical, true},
		{"", Unknown, false}, {"severe", Unknown, false}, {"P1", Unknown, false},
	} {
		got, ok := ParseSeverity(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseSeverity(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestSeverityOrderAndString(t *testing.T) {
	order := []Severity{Unknown, Negligible, Low, Medium, High, Critical}
	names := []string{"unknown", "negligible", "low", "medium", "high", "critical"}
	for i, s := range order {
		if i > 0 && !(order[i-1] < s) {
			t.Errorf("%v should be below %v", order[i-1], s)
		}
		if s.String() != names[i] {
			t.Errorf("String() = %q, want %q", s.String(), names[i])
		}
		if back, ok := ParseSeverity(s.String()); !ok || back != s {
			t.Errorf("round trip of %v gave %v, %v", s, back, ok)
		}
	}
	if s := Severity(42).String(); s != "severity(42)" {
		t.Errorf("out of range String() = %q", s)
	}

	// JSON uses the names.
	b, err := json.Marshal(map[string]Severity{"min": High})
	if err != nil || string(b) != `{"min":"high"}` {
		t.Errorf("marshal: %s, %v", b, err)
	}
	var v struct{ Min Severity }
	if err := json.Unmarshal([]byte(`{"Min":"CRITICAL"}`), &v); err != nil || v.Min != Critical {
		t.Errorf("unmarshal: %v, %v", v.Min, err)
	}
	if err := json.Unmarshal([]byte(`{"Min":"severe"}`), &v); err == nil {
		t.Error("unmarshal of an unknown severity succeeded")
	}
	if _, err := json.Marshal(Severity(-1)); err == nil {
		t.Error("marshal of an invalid severity succeeded")
	}
}

func TestAtLeast(t *testing.T) {
	r := load(t, "trivy-image.json")
	got := r.AtLeast(High)
	type key struct {
		sev          Severity
		id, pkg, tgt string
	}
	var keys []key
	for _, f := range got {
		keys = append(keys, key{f.Severity, f.ID, f.Package, f.Target})
	}
	want := []key{
		{Critical, "CVE-2023-45853", "zlib1g", osTarget},
		{Critical, "CVE-2024-24790", "stdlib", appBin},
		{High, "CVE-2024-2961", "libc-bin", osTarget},
		{High, "CVE-2024-2961", "libc6", osTarget},
	}
	if !reflect.DeepEqual(keys, want) {
		t.Errorf("AtLeast(High):\n got %v\nwant %v", keys, want)
	}

	if n := len(r.AtLeast(Unknown)); n != len(r.Findings) {
		t.Errorf("AtLeast(Unknown) kept %d of %d", n, len(r.Findings))
	}
	if n := len(r.AtLeast(Medium)); n != 6 {
		t.Errorf("AtLeast(Medium) = %d findings, want 6", n)
	}
	g := load(t, "grype-image.json")
	if n := len(g.AtLeast(Low)); n != 5 { // drops 2 Negligible, 1 Unknown
		t.Errorf("grype AtLeast(Low) = %d findings, want 5", n)
	}
	for _, f := range g.AtLeast(Negligible) {
		if f.Severity == Unknown {
			t.Errorf("AtLeast(Negligible) kept %+v", f)
		}
	}

	// Sorted by severity, then ID.
	all := g.AtLeast(Unknown)
	for i := 1; i < len(all); i++ {
		a, b := all[i-1], all[i]
		if a.Severity < b.Severity || (a.Severity == b.Severity && a.ID > b.ID) {
			t.Errorf("out of order at %d: %v %s before %v %s", i, a.Severity, a.ID, b.Severity, b.ID)
		}
	}
}

func TestAtLeastDeduplicates(t *testing.T) {
	// Trivy lists one vulnerability twice when a lock file pins two versions
	// of a package: one alert, at the higher severity.
	doc := `{"SchemaVersion":2,"ArtifactName":".","ArtifactType":"filesystem","Results":[{"Target":"web/package-lock.json","Class":"lang-pkgs","Type":"npm","Vulnerabilities":[
	 {"VulnerabilityID":"CVE-2022-25883","PkgName":"semver","InstalledVersion":"5.7.1","FixedVersion":"7.5.2, 6.3.1, 5.7.2","Severity":"MEDIUM"},
	 {"VulnerabilityID":"CVE-2022-25883","PkgName":"semver","InstalledVersion":"7.3.8","FixedVersion":"7.5.2, 6.3.1, 5.7.2","Severity":"HIGH"},
	 {"VulnerabilityID":"CVE-2022-25883","PkgName":"semver","InstalledVersion":"6.3.0","FixedVersion":"7.5.2, 6.3.1, 5.7.2","Severity":"MEDIUM"}]}]}`
	r, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Findings) != 3 {
		t.Fatalf("Parse kept %d findings, want all 3", len(r.Findings))
	}
	got := r.AtLeast(Low)
	if len(got) != 1 || got[0].Severity != High || got[0].Installed != "7.3.8" || got[0].Target != "./web/package-lock.json" {
		t.Errorf("AtLeast = %+v", got)
	}
}

func TestFingerprint(t *testing.T) {
	sum := sha256.Sum256([]byte(osTarget + "\x00CVE-2024-2961\x00libc6"))
	want := hex.EncodeToString(sum[:])[:32]
	if got := Fingerprint(osTarget, "CVE-2024-2961", "libc6"); got != want {
		t.Errorf("Fingerprint = %s, want %s", got, want)
	}
	// The separator keeps the parts apart.
	if Fingerprint("a", "bc", "d") == Fingerprint("ab", "c", "d") {
		t.Error("fingerprint ignores part boundaries")
	}

	for _, name := range []string{"trivy-image.json", "grype-image.json", "grype-dir.json"} {
		first, second := load(t, name), load(t, name)
		seen := map[string]Finding{}
		for i, f := range first.Findings {
			if len(f.Fingerprint) != 32 || strings.Trim(f.Fingerprint, "0123456789abcdef") != "" {
				t.Errorf("%s: fingerprint %q is not 32 hex digits", name, f.Fingerprint)
			}
			if f.Fingerprint != second.Findings[i].Fingerprint {
				t.Errorf("%s: fingerprint of %s/%s changed between parses", name, f.ID, f.Package)
			}
			if f.Fingerprint != Fingerprint(f.Target, f.ID, f.Package) {
				t.Errorf("%s: fingerprint of %s/%s is not Fingerprint(target, id, package)", name, f.ID, f.Package)
			}
			if prev, dup := seen[f.Fingerprint]; dup {
				t.Errorf("%s: %+v and %+v share a fingerprint", name, prev, f)
			}
			seen[f.Fingerprint] = f
		}
	}

	// Same vulnerability, different package → different fingerprint.
	r := load(t, "trivy-image.json")
	if find(t, r, osTarget, "CVE-2024-2961", "libc6").Fingerprint ==
		find(t, r, osTarget, "CVE-2024-2961", "libc-bin").Fingerprint {
		t.Error("libc6 and libc-bin share a fingerprint")
	}
	// Fields outside the identity (a new fixed version, a reworded title)
	// leave the fingerprint alone.
	data, _ := os.ReadFile(filepath.Join("testdata", "trivy-image.json"))
	data = bytes.ReplaceAll(data, []byte(`"2.36-9+deb12u7"`), []byte(`"2.36-9+deb12u8"`))
	data = bytes.ReplaceAll(data, []byte("glibc: Out of bounds"), []byte("glibc: out-of-bounds"))
	r2, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := find(t, r, osTarget, "CVE-2024-2961", "libc6"), find(t, r2, osTarget, "CVE-2024-2961", "libc6"); a.Fingerprint != b.Fingerprint || a.Fixed == b.Fixed {
		t.Errorf("fingerprint moved with the fix version: %+v vs %+v", a, b)
	}
}

func TestDiff(t *testing.T) {
	r := load(t, "trivy-image.json")
	cur := r.AtLeast(High) // zlib1g, stdlib, libc-bin, libc6
	fp := func(id, pkg, target string) string { return Fingerprint(target, id, pkg) }
	zlib := fp("CVE-2023-45853", "zlib1g", osTarget)
	libc6 := fp("CVE-2024-2961", "libc6", osTarget)
	gone1 := fp("CVE-2023-44487", "golang.org/x/net", appBin) // fixed since
	gone2 := fp("CVE-2022-48174", "busybox", image)

	// Nothing firing: everything opens.
	open, resolve := Diff(nil, cur)
	if len(open) != 4 || resolve != nil {
		t.Errorf("Diff(nil) = %d open, %v resolve", len(open), resolve)
	}
	if !reflect.DeepEqual(open, cur) {
		t.Error("open does not keep the current order")
	}

	// Some firing, some fixed, a repeat in previous.
	open, resolve = Diff([]string{zlib, gone1, libc6, gone2, gone1}, cur)
	var opened []string
	for _, f := range open {
		opened = append(opened, f.Package)
	}
	if !reflect.DeepEqual(opened, []string{"stdlib", "libc-bin"}) {
		t.Errorf("open = %v, want [stdlib libc-bin]", opened)
	}
	if !reflect.DeepEqual(resolve, []string{gone1, gone2}) {
		t.Errorf("resolve = %v, want [%s %s]", resolve, gone1, gone2)
	}

	// Same report again: nothing to do.
	var firing []string
	for _, f := range cur {
		firing = append(firing, f.Fingerprint)
	}
	if open, resolve := Diff(firing, cur); open != nil || resolve != nil {
		t.Errorf("steady state: open %v, resolve %v", open, resolve)
	}

	// A clean report resolves everything.
	if open, resolve := Diff(firing, nil); open != nil || !reflect.DeepEqual(resolve, firing) {
		t.Errorf("clean report: open %v, resolve %v", open, resolve)
	}

	// Duplicates in current open once; a finding without a fingerprint
	// gets one.
	bare := Finding{Target: image, ID: "CVE-2024-0001", Package: "busybox"}
	open, _ = Diff(nil, []Finding{cur[0], cur[0], bare})
	if len(open) != 2 || open[1].Fingerprint != Fingerprint(image, "CVE-2024-0001", "busybox") {
		t.Errorf("open = %+v", open)
	}
}

func TestParseMalformed(t *testing.T) {
	for _, tc := range []struct {
		name, doc, want string
	}{
		{"empty", "", "empty report"},
		{"blank", " \n\t", "empty report"},
		{"truncated", `{"SchemaVersion": 2, "Results": [{"Target": "x"`, "byte offset 47"},
		{"syntax", `{"SchemaVersion": 2,, "Results": []}`, "byte offset 21"},
		{"trailing garbage", `{"matches": []} trailing`, "byte offset 17"},
		{"trivy wrong type", `{"SchemaVersion": 2, "Results": "none"}`, "byte offset 38 (field Results): expected array, got string"},
		{"trivy nested wrong type", `{"SchemaVersion":2,"Results":[{"Target":"a","Vulnerabilities":[{"VulnerabilityID":7}]}]}`, "field Results.Vulnerabilities.VulnerabilityID"},
		{"grype wrong type", `{"matches": [{"vulnerability": {"id": "CVE-1", "fix": {"versions": "1.0"}}}], "descriptor": {"name": "grype"}}`, "field matches.vulnerability.fix.versions"},
		{"grype target number", `{"matches": [], "source": {"type": "image", "target": 42}, "descriptor": {"name": "grype"}}`, "source.target must be a string or an object, got a number"},
	} {
		_, err := Parse([]byte(tc.doc))
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err = %v, want ErrMalformed", tc.name, err)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %q, want it to mention %q", tc.name, err, tc.want)
		}
	}
}

func TestParseUnknownFormat(t *testing.T) {
	for _, tc := range []struct{ name, doc string }{
		{"empty object", `{}`},
		{"other tool", `{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"trivy"}}}]}`},
		{"trivy schema 1 (bare result list)", `[{"Target":"alpine:3.10 (alpine 3.10.2)","Vulnerabilities":null}]`},
		{"trivy future schema", `{"SchemaVersion":3,"Results":[]}`},
		{"trivy without SchemaVersion", `{"ArtifactName":"app","Results":[]}`},
		{"not grype", `{"matches":[],"descriptor":{"name":"syft","version":"1.4.0"}}`},
		{"string", `"trivy"`},
		{"null", `null`},
	} {
		_, err := Parse([]byte(tc.doc))
		if !errors.Is(err, ErrUnknownFormat) {
			t.Errorf("%s: err = %v, want ErrUnknownFormat", tc.name, err)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, "Trivy JSON") || !strings.Contains(msg, "Grype JSON") {
			t.Errorf("%s: error %q does not name the accepted formats", tc.name, msg)
		}
	}
}

func TestParseEdgeCases(t *testing.T) {
	// Clean reports: Trivy with no Results, Grype with null matches.
	r, err := Parse([]byte(`{"SchemaVersion":2,"ArtifactName":"alpine:3.20","ArtifactType":"container_image"}`))
	if err != nil || r.Scanner != "trivy" || r.Artifact != "alpine:3.20" || len(r.Findings) != 0 {
		t.Errorf("clean trivy: %+v, %v", r, err)
	}
	r, err = Parse([]byte(`{"matches":null,"source":{"type":"directory","target":"."},"descriptor":{"name":"grype","version":"0.79.1"}}`))
	if err != nil || r.Scanner != "grype" || r.Artifact != "." || len(r.Findings) != 0 {
		t.Errorf("clean grype: %+v, %v", r, err)
	}

	// A UTF-8 byte order mark is tolerated.
	if _, err := Parse([]byte("\xef\xbb\xbf{\"matches\":[]}")); err != nil {
		t.Errorf("BOM: %v", err)
	}

	// Entries without an ID are skipped; long multi-line titles are cut.
	long := strings.Repeat("overflow ", 60)
	doc := `{"SchemaVersion":2,"ArtifactName":"app","Results":[{"Target":"app","Vulnerabilities":[
	 {"PkgName":"x","Severity":"HIGH"},
	 {"VulnerabilityID":"CVE-2024-0002","PkgName":"y","Severity":"weird","Title":"line one\nline\ttwo\r\n` + long + `"}]}]}`
	r, err = Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Findings) != 1 {
		t.Fatalf("findings = %+v", r.Findings)
	}
	f := r.Findings[0]
	if f.Target != "app" || f.Severity != Unknown {
		t.Errorf("finding = %+v", f)
	}
	if strings.ContainsAny(f.Title, "\n\r\t") || !strings.HasPrefix(f.Title, "line one line two overflow") ||
		!strings.HasSuffix(f.Title, "…") || len([]rune(f.Title)) > maxTitle {
		t.Errorf("title = %q", f.Title)
	}
}

func TestParseTooLarge(t *testing.T) {
	big := make([]byte, MaxSize+1)
	if _, err := Parse(big); !errors.Is(err, ErrTooLarge) {
		t.Errorf("err = %v, want ErrTooLarge", err)
	}
}

func TestJoinTarget(t *testing.T) {
	for _, tc := range []struct{ art, sub, want string }{
		{"app:1", "", "app:1"},
		{"app:1", "app:1", "app:1"},
		{"app:1", "app:1 (alpine 3.19.1)", "app:1 (alpine 3.19.1)"},
		{"app:1", "usr/bin/x", "app:1/usr/bin/x"},
		{"app:1", "/usr/bin/x", "app:1/usr/bin/x"},
		{".", "go.mod", "./go.mod"},
		{"/src/", "/go.mod", "/src/go.mod"},
		{"/", "/go.mod", "/go.mod"},
		{"", "go.mod", "go.mod"},
	} {
		if got := joinTarget(tc.art, tc.sub); got != tc.want {
			t.Errorf("joinTarget(%q, %q) = %q, want %q", tc.art, tc.sub, got, tc.want)
		}
	}
}
