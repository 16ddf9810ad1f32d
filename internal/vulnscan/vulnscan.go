// Package vulnscan parses the vulnerability scan reports that CI pipelines
// post to firebreak — Trivy JSON (`trivy image --format json`, schema
// version 2) and Grype JSON (`grype -o json`) — into scanner-neutral
// Findings, each with a stable fingerprint so that one alert fires per
// (target, vulnerability, package) and resolves when a later report no longer
// contains it.
//
// Parsing is pure: no database, no network. Every error Parse returns is the
// sender's fault: ErrTooLarge (answer 413), ErrUnknownFormat or ErrMalformed
// (answer 400), all wrapped with detail and testable with errors.Is.
package vulnscan

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Severity orders vulnerabilities from Unknown (no rating) to Critical.
type Severity int

// The severities, in ascending order. Trivy has no Negligible; Grype's
// Negligible sits between Unknown and Low.
const (
	Unknown Severity = iota
	Negligible
	Low
	Medium
	High
	Critical
)

var severityNames = [...]string{
	Unknown:    "unknown",
	Negligible: "negligible",
	Low:        "low",
	Medium:     "medium",
	High:       "high",
	Critical:   "critical",
}

// ParseSeverity maps a scanner's severity label to a Severity, ignoring case
// and surrounding space: Trivy's UNKNOWN LOW MEDIUM HIGH CRITICAL and Grype's
// Negligible Low Medium High Critical Unknown. An unrecognised label yields
// (Unknown, false).
func ParseSeverity(s string) (Severity, bool) {
	s = strings.TrimSpace(s)
	for i, name := range severityNames {
		if strings.EqualFold(s, name) {
			return Severity(i), true
		}
	}
	return Unknown, false
}

// String returns the lower-case name, e.g. "high".
func (s Severity) String() string {
	if s >= 0 && int(s) < len(severityNames) {
		return severityNames[s]
	}
	return fmt.Sprintf("severity(%d)", int(s))
}

// MarshalText encodes the severity as its lower-case name.
func (s Severity) MarshalText() ([]byte, error) {
	if s < 0 || int(s) >= len(severityNames) {
		return nil, fmt.Errorf("vulnscan: invalid severity %d", int(s))
	}
	return []byte(s.String()), nil
}

// UnmarshalText accepts any label ParseSeverity recognises.
func (s *Severity) UnmarshalText(b []byte) error {
	v, ok := ParseSeverity(string(b))
	if !ok {
		return fmt.Errorf("vulnscan: unknown severity %q (want unknown, negligible, low, medium, high or critical)", b)
	}
	*s = v
	return nil
}

// Finding is one vulnerability in one package of one scanned target.
type Finding struct {
	// Target is the scanned artifact (image reference or directory), followed
	// by "/" and the scanner's finer target when that differs: the binary or
	// lock file holding a language package, e.g.
	// "registry/app:1.2/usr/local/bin/app". Trivy's OS result target already
	// starts with the artifact ("registry/app:1.2 (debian 12.4)") and is used
	// as it is.
	Target string
	// ID is the advisory identifier: CVE-2024-1234, GHSA-…, DLA-….
	ID string
	// Package is the affected package; Installed its version; Fixed the
	// version(s) that fix it, empty when no fix is known.
	Package, Installed, Fixed string
	Severity                  Severity
	// Title is one line: the advisory title, else the start of its
	// description.
	Title string
	// URL points at the advisory.
	URL string
	// Fingerprint identifies (Target, ID, Package): the first 32 hex digits
	// of SHA-256 over Target, ID and Package separated by NUL bytes.
	Fingerprint string
}

// Report is a parsed scan report.
type Report struct {
	Scanner  string // "trivy" or "grype"
	Artifact string // what was scanned: image reference, directory, SBOM path
	Findings []Finding
}

// Fingerprint computes Finding.Fingerprint for a (target, vulnerability,
// package) triple.
func Fingerprint(target, id, pkg string) string {
	sum := sha256.Sum256([]byte(target + "\x00" + id + "\x00" + pkg))
	return hex.EncodeToString(sum[:16])
}

// AtLeast returns the findings of severity min or above, one per
// Fingerprint (the most severe when a report repeats one), sorted by
// severity, most severe first, then by ID, Target and Package.
func (r Report) AtLeast(min Severity) []Finding {
	idx := make(map[string]int, len(r.Findings))
	out := make([]Finding, 0, len(r.Findings))
	for _, f := range r.Findings {
		if f.Severity < min {
			continue
		}
		if f.Fingerprint == "" {
			f.Fingerprint = Fingerprint(f.Target, f.ID, f.Package)
		}
		if i, ok := idx[f.Fingerprint]; ok {
			if f.Severity > out[i].Severity {
				out[i] = f
			}
			continue
		}
		idx[f.Fingerprint] = len(out)
		out = append(out, f)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Severity != b.Severity {
			return a.Severity > b.Severity
		}
		if a.ID != b.ID {
			return a.ID < b.ID
		}
		if a.Target != b.Target {
			return a.Target < b.Target
		}
		return a.Package < b.Package
	})
	return out
}

// Diff compares what is firing — the fingerprints previously reported for
// this artifact — with the findings of a new report (typically
// Report.AtLeast of the alerting threshold). open holds the current findings
// whose fingerprint is not firing yet, in their given order and without
// repeats; resolve holds the firing fingerprints absent from current, in
// their given order and without repeats. Both are nil when empty.
func Diff(previous []string, current []Finding) (open []Finding, resolve []string) {
	firing := make(map[string]bool, len(previous))
	for _, fp := range previous {
		firing[fp] = true
	}
	seen := make(map[string]bool, len(current))
	for _, f := range current {
		fp := f.Fingerprint
		if fp == "" {
			fp = Fingerprint(f.Target, f.ID, f.Package)
			f.Fingerprint = fp
		}
		if seen[fp] {
			continue
		}
		seen[fp] = true
		if !firing[fp] {
			open = append(open, f)
		}
	}
	done := make(map[string]bool, len(previous))
	for _, fp := range previous {
		if seen[fp] || done[fp] {
			continue
		}
		done[fp] = true
		resolve = append(resolve, fp)
	}
	return open, resolve
}

// newFinding builds a Finding, normalising text and computing the fingerprint.
func newFinding(target, id, pkg, installed, fixed string, sev Severity, title, url string) Finding {
	f := Finding{
		Target:    strings.TrimSpace(target),
		ID:        strings.TrimSpace(id),
		Package:   strings.TrimSpace(pkg),
		Installed: strings.TrimSpace(installed),
		Fixed:     strings.TrimSpace(fixed),
		Severity:  sev,
		Title:     oneLine(title, maxTitle),
		URL:       strings.TrimSpace(url),
	}
	f.Fingerprint = Fingerprint(f.Target, f.ID, f.Package)
	return f
}

// maxTitle bounds Finding.Title, in characters.
const maxTitle = 200

// oneLine collapses whitespace runs (newlines included) to single spaces,
// drops other control characters and cuts the result to max characters,
// ending it with "…" when cut.
func oneLine(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) && !unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	rs := []rune(s)
	return strings.TrimRight(string(rs[:max-1]), " ") + "…"
}

// joinTarget places a scanner's finer target under the artifact.
func joinTarget(artifact, sub string) string {
	artifact, sub = strings.TrimSpace(artifact), strings.TrimSpace(sub)
	switch {
	case sub == "" || sub == artifact:
		return artifact
	case artifact == "":
		return sub
	case strings.HasPrefix(sub, artifact+" "), strings.HasPrefix(sub, artifact+"/"):
		return sub
	}
	base := strings.TrimRight(artifact, "/")
	return base + "/" + strings.TrimLeft(sub, "/")
}
