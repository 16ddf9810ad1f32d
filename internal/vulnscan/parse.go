package vulnscan

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
)

// MaxSize is the largest report Parse accepts: 50 MB.
const MaxSize = 50 << 20

// Errors Parse wraps; test with errors.Is.
var (
	ErrTooLarge      = errors.New("vulnscan: report exceeds 50 MB")
	ErrUnknownFormat = errors.New("vulnscan: unrecognised report format; accepted: Trivy JSON (trivy --format json, SchemaVersion 2) and Grype JSON (grype -o json)")
	ErrMalformed     = errors.New("vulnscan: malformed JSON")
)

// Parse reads a Trivy or Grype JSON report, telling them apart by shape: a
// top-level SchemaVersion or Results is Trivy, matches or descriptor is
// Grype. Only vulnerabilities are read: Trivy's misconfigurations, secrets
// and licenses and Grype's ignoredMatches are skipped, as are entries
// without an ID. Findings keep the report's order; unknown severity labels
// become Unknown.
func Parse(data []byte) (Report, error) {
	if len(data) > MaxSize {
		return Report{}, fmt.Errorf("%w (%d bytes)", ErrTooLarge, len(data))
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // UTF-8 BOM some CI tools prepend
	if len(bytes.TrimSpace(data)) == 0 {
		return Report{}, fmt.Errorf("%w: empty report", ErrMalformed)
	}

	var probe struct {
		SchemaVersion present `json:"SchemaVersion"`
		Results       present `json:"Results"`
		Matches       present `json:"matches"`
		Descriptor    present `json:"descriptor"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field == "" {
			// Valid JSON, but not an object: an array, a string, a number.
			return Report{}, fmt.Errorf("%w; got a JSON %s", ErrUnknownFormat, te.Value)
		}
		return Report{}, malformed(err)
	}
	switch {
	case bool(probe.SchemaVersion || probe.Results):
		return parseTrivy(data)
	case bool(probe.Matches || probe.Descriptor):
		return parseGrype(data)
	}
	return Report{}, ErrUnknownFormat
}

// present records that a key occurs, without keeping its value.
type present bool

func (p *present) UnmarshalJSON([]byte) error { *p = true; return nil }

// malformed wraps a decoding error with the byte offset it occurred at.
func malformed(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("%w at byte offset %d: %v", ErrMalformed, se.Offset, err)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		where := ""
		if te.Field != "" {
			where = " (field " + te.Field + ")"
		}
		return fmt.Errorf("%w at byte offset %d%s: expected %s, got %s", ErrMalformed, te.Offset, where, goKindToJSON(te.Type), te.Value)
	}
	return fmt.Errorf("%w: %v", ErrMalformed, err)
}

// goKindToJSON names the JSON type a Go destination type expects.
func goKindToJSON(t reflect.Type) string {
	if t == nil {
		return "another type"
	}
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Struct, reflect.Map:
		return "object"
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "bool"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "number"
	}
	return t.String()
}

// Trivy JSON, schema version 2 (aquasecurity/trivy pkg/types: Report,
// Result, DetectedVulnerability with the embedded trivy-db Vulnerability).
type trivyReport struct {
	SchemaVersion int           `json:"SchemaVersion"`
	ArtifactName  string        `json:"ArtifactName"`
	ArtifactType  string        `json:"ArtifactType"`
	Results       []trivyResult `json:"Results"`
}

type trivyResult struct {
	Target          string      `json:"Target"`
	Class           string      `json:"Class"`
	Type            string      `json:"Type"`
	Vulnerabilities []trivyVuln `json:"Vulnerabilities"` // null or absent when clean
}

type trivyVuln struct {
	VulnerabilityID  string   `json:"VulnerabilityID"`
	PkgName          string   `json:"PkgName"`
	PkgPath          string   `json:"PkgPath"`
	InstalledVersion string   `json:"InstalledVersion"`
	FixedVersion     string   `json:"FixedVersion"`
	Status           string   `json:"Status"`
	Severity         string   `json:"Severity"`
	Title            string   `json:"Title"`
	Description      string   `json:"Description"`
	PrimaryURL       string   `json:"PrimaryURL"`
	References       []string `json:"References"`
}

func parseTrivy(data []byte) (Report, error) {
	var in trivyReport
	if err := json.Unmarshal(data, &in); err != nil {
		return Report{}, malformed(err)
	}
	if in.SchemaVersion == 0 {
		return Report{}, fmt.Errorf("%w; got a Trivy-like report without SchemaVersion", ErrUnknownFormat)
	}
	if in.SchemaVersion != 2 {
		return Report{}, fmt.Errorf("%w; got Trivy SchemaVersion %d", ErrUnknownFormat, in.SchemaVersion)
	}
	rep := Report{Scanner: "trivy", Artifact: strings.TrimSpace(in.ArtifactName)}
	for _, res := range in.Results {
		target := joinTarget(rep.Artifact, res.Target)
		for _, v := range res.Vulnerabilities {
			if strings.TrimSpace(v.VulnerabilityID) == "" {
				continue
			}
			sev, _ := ParseSeverity(v.Severity)
			title := v.Title
			if strings.TrimSpace(title) == "" {
				title = v.Description
			}
			url := v.PrimaryURL
			if url == "" && len(v.References) > 0 {
				url = v.References[0]
			}
			rep.Findings = append(rep.Findings, newFinding(target, v.VulnerabilityID, v.PkgName,
				v.InstalledVersion, v.FixedVersion, sev, title, url))
		}
	}
	return rep, nil
}

// Grype JSON (anchore/grype grype/presenter/models: Document, Match,
// Vulnerability, Package; the source target is the image metadata object for
// images and a plain string for directories, files, SBOMs, purls).
type grypeDocument struct {
	Matches []grypeMatch `json:"matches"`
	Source  *struct {
		Type   string `json:"type"`
		Target any    `json:"target"` // string, or image metadata object`
	} `json:"source"`
	Descriptor struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	} `json:"descriptor"`
}

type grypeMatch struct {
	Vulnerability struct {
		ID          string   `json:"id"`
		DataSource  string   `json:"dataSource"`
		Namespace   string   `json:"namespace"`
		Severity    string   `json:"severity"`
		URLs        []string `json:"urls"`
		Description string   `json:"description"`
		Fix         struct {
			Versions []string `json:"versions"`
			State    string   `json:"state"` // fixed, not-fixed, wont-fix, unknown
		} `json:"fix"`
	} `json:"vulnerability"`
	Artifact struct {
		Name      string `json:"name"`
		Version   string `json:"version"`
		Type      string `json:"type"`
		Locations []struct {
			Path string `json:"path"`
		} `json:"locations"`
		PURL string `json:"purl"`
	} `json:"artifact"`
}

// osPackageTypes are syft package types installed by the distribution's
// package manager: their location (the package database) says nothing about
// where the package is, so their findings target the artifact itself.
var osPackageTypes = map[string]bool{
	"deb": true, "rpm": true, "apk": true, "alpm": true, "portage": true,
}

func parseGrype(data []byte) (Report, error) {
	var in grypeDocument
	if err := json.Unmarshal(data, &in); err != nil {
		return Report{}, malformed(err)
	}
	if name := strings.TrimSpace(in.Descriptor.Name); name != "" && !strings.EqualFold(name, "grype") {
		return Report{}, fmt.Errorf("%w; got descriptor.name %q", ErrUnknownFormat, name)
	}
	rep := Report{Scanner: "grype"}
	if in.Source != nil {
		art, err := grypeArtifact(in.Source.Target)
		if err != nil {
			return Report{}, err
		}
		rep.Artifact = art
	}
	for _, m := range in.Matches {
		v, a := m.Vulnerability, m.Artifact
		if strings.TrimSpace(v.ID) == "" {
			continue
		}
		sev, _ := ParseSeverity(v.Severity)
		target := rep.Artifact
		if !osPackageTypes[a.Type] {
			// Several locations (a library vendored twice) — take the
			// smallest path so the target does not depend on their order.
			loc := ""
			for _, l := range a.Locations {
				if p := strings.TrimSpace(l.Path); p != "" && (loc == "" || p < loc) {
					loc = p
				}
			}
			target = joinTarget(rep.Artifact, loc)
		}
		fixed := ""
		if v.Fix.State == "" || v.Fix.State == "fixed" {
			fixed = strings.Join(v.Fix.Versions, ", ")
		}
		url := v.DataSource
		if url == "" && len(v.URLs) > 0 {
			url = v.URLs[0]
		}
		rep.Findings = append(rep.Findings, newFinding(target, v.ID, a.Name, a.Version, fixed, sev, v.Description, url))
	}
	return rep, nil
}

// grypeArtifact reads source.target: a string (directory, file, SBOM, purl,
// "unknown") or, for images, an object whose userInput is the reference the
// user scanned.
func grypeArtifact(target any) (string, error) {
	switch t := target.(type) {
	case nil:
		return "", nil
	case string:
		return strings.TrimSpace(t), nil
	case map[string]any:
		candidates := []any{t["userInput"]}
		if tags, ok := t["tags"].([]any); ok && len(tags) > 0 {
			candidates = append(candidates, tags[0])
		}
		candidates = append(candidates, t["imageID"])
		for _, c := range candidates {
			if s, ok := c.(string); ok && strings.TrimSpace(s) != "" {
				return strings.TrimSpace(s), nil
			}
		}
		return "", nil
	}
	return "", fmt.Errorf("%w: source.target must be a string or an object, got %s", ErrMalformed, jsonKind(target))
}

// jsonKind names the JSON type of a value decoded into an any.
func jsonKind(v any) string {
	switch v.(type) {
	case bool:
		return "a boolean"
	case float64:
		return "a number"
	case []any:
		return "an array"
	}
	return fmt.Sprintf("%T", v)
}
