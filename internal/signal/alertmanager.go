package signal

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/firebreak/firebreak/internal/alert"
)

// amPayload is an Alertmanager webhook (version 4) or a Grafana unified
// alerting webhook, reduced to the fields firebreak uses.
type amPayload struct {
	Version     any               `json:"version"`
	ExternalURL string            `json:"externalURL"`
	Alerts      []json.RawMessage `json:"alerts"`
}

// amAlert is one entry of alerts[]; the last five fields are Grafana's.
type amAlert struct {
	Status       string          `json:"status"`
	Labels       json.RawMessage `json:"labels"`
	Annotations  json.RawMessage `json:"annotations"`
	StartsAt     string          `json:"startsAt"`
	EndsAt       string          `json:"endsAt"`
	GeneratorURL string          `json:"generatorURL"`
	Fingerprint  string          `json:"fingerprint"`
	SilenceURL   string          `json:"silenceURL"`
	DashboardURL string          `json:"dashboardURL"`
	PanelURL     string          `json:"panelURL"`
	Values       json.RawMessage `json:"values"`
	ValueString  string          `json:"valueString"`
}

// amDetails is the Event.Details of an Alertmanager or Grafana alert.
type amDetails struct {
	Annotations  map[string]string `json:"annotations,omitempty"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
	StartsAt     string            `json:"startsAt,omitempty"`
	EndsAt       string            `json:"endsAt,omitempty"`
	ExternalURL  string            `json:"externalURL,omitempty"`
	SilenceURL   string            `json:"silenceURL,omitempty"`
	DashboardURL string            `json:"dashboardURL,omitempty"`
	PanelURL     string            `json:"panelURL,omitempty"`
	Values       json.RawMessage   `json:"values,omitempty"`
	ValueString  string            `json:"valueString,omitempty"`
}

// ParseAlertmanager parses an Alertmanager webhook (version 4) into one event
// per entry of alerts[]: firing triggers, resolved resolves. The fingerprint is
// the alert's own, or a hash of its labels; the summary is the summary or
// description annotation, else the alertname label (at most MaxSummary
// characters, longer ones are cut); the severity comes from the severity
// label through MapSeverity.
func ParseAlertmanager(body []byte) ([]alert.Event, error) {
	if err := checkBody(body); err != nil {
		return nil, err
	}
	var p amPayload
	if err := decode(body, &p, "", false); err != nil {
		return nil, err
	}
	if p.Version != nil && p.Version != "4" {
		return nil, &FieldError{"version", `unsupported version, want "4"`}
	}
	return p.events(alert.SourceAlertmanager)
}

// ParseGrafana parses a Grafana unified alerting webhook exactly like an
// Alertmanager one (without the version check), or a legacy Grafana webhook
// (recognised by ruleId, ruleName or evalMatches and no alerts[]) into one
// event.
func ParseGrafana(body []byte) ([]alert.Event, error) {
	if err := checkBody(body); err != nil {
		return nil, err
	}
	var probe struct {
		Alerts, RuleID, RuleName, EvalMatches json.RawMessage
	}
	_ = json.Unmarshal(body, &probe) // decode below reports what is wrong
	if isNull(probe.Alerts) && !(isNull(probe.RuleID) && isNull(probe.RuleName) && isNull(probe.EvalMatches)) {
		ev, err := parseGrafanaLegacy(body)
		if err != nil {
			return nil, err
		}
		return []alert.Event{ev}, nil
	}
	var p amPayload
	if err := decode(body, &p, "", false); err != nil {
		return nil, err
	}
	return p.events(alert.SourceGrafana)
}

func (p *amPayload) events(src alert.Source) ([]alert.Event, error) {
	if len(p.Alerts) == 0 {
		return nil, &FieldError{"alerts", "must be a non-empty array"}
	}
	evs := make([]alert.Event, 0, len(p.Alerts))
	for i, raw := range p.Alerts {
		prefix := fmt.Sprintf("alerts[%d]", i)
		var a amAlert
		if err := decode(raw, &a, prefix, false); err != nil {
			return nil, err
		}
		ev := alert.Event{Source: src, Fingerprint: strings.TrimSpace(a.Fingerprint)}
		at := a.StartsAt
		switch a.Status {
		case "firing":
			ev.Action = alert.Trigger
		case "resolved":
			ev.Action, at = alert.Resolve, a.EndsAt
		default:
			return nil, &FieldError{prefix + ".status", `must be "firing" or "resolved"`}
		}
		var err error
		if ev.Labels, err = labels(a.Labels, prefix+".labels"); err != nil {
			return nil, err
		}
		ann, err := labels(a.Annotations, prefix+".annotations")
		if err != nil {
			return nil, err
		}
		switch {
		case tooLong(ev.Fingerprint, MaxDedupKey):
			return nil, &FieldError{prefix + ".fingerprint", fmt.Sprintf("must be at most %d characters", MaxDedupKey)}
		case ev.Fingerprint == "" && len(ev.Labels) == 0:
			return nil, &FieldError{prefix + ".labels", "must not be empty without a fingerprint"}
		case ev.Fingerprint == "":
			ev.Fingerprint = labelsFingerprint(ev.Labels)
		}
		ev.Summary = summary(ann["summary"], ann["description"], ev.Labels["alertname"])
		ev.Severity = MapSeverity(ev.Labels["severity"])
		ev.At, _ = parseTime(at)
		if isNull(a.Values) {
			a.Values = nil
		}
		ev.Details = marshal(amDetails{ann, a.GeneratorURL, a.StartsAt, a.EndsAt, p.ExternalURL,
			a.SilenceURL, a.DashboardURL, a.PanelURL, a.Values, a.ValueString})
		evs = append(evs, ev)
	}
	return evs, nil
}

// parseGrafanaLegacy parses a pre-unified-alerting Grafana webhook.
func parseGrafanaLegacy(body []byte) (alert.Event, error) {
	var g struct {
		Title       string          `json:"title"`
		RuleID      any             `json:"ruleId"`
		RuleName    string          `json:"ruleName"`
		RuleURL     string          `json:"ruleUrl"`
		State       string          `json:"state"`
		Message     string          `json:"message"`
		ImageURL    string          `json:"imageUrl"`
		EvalMatches json.RawMessage `json:"evalMatches"`
		Tags        json.RawMessage `json:"tags"`
	}
	if err := decode(body, &g, "", false); err != nil {
		return alert.Event{}, err
	}
	ev := alert.Event{Source: alert.SourceGrafana}
	switch g.State {
	case "alerting", "no_data":
		ev.Action = alert.Trigger
	case "ok":
		ev.Action = alert.Resolve
	default:
		return alert.Event{}, &FieldError{"state", `must be "alerting", "no_data" or "ok"`}
	}
	switch id := g.RuleID.(type) {
	case float64:
		ev.Fingerprint = strconv.FormatFloat(id, 'f', -1, 64)
	case string:
		ev.Fingerprint = strings.TrimSpace(id)
	case nil:
	default:
		return alert.Event{}, &FieldError{"ruleId", "must be a number or a string"}
	}
	if ev.Fingerprint == "" {
		ev.Fingerprint = strings.TrimSpace(g.RuleName)
	}
	if ev.Fingerprint == "" || tooLong(ev.Fingerprint, MaxDedupKey) {
		return alert.Event{}, &FieldError{"ruleId", "ruleId or ruleName is required"}
	}
	var err error
	if ev.Labels, err = labels(g.Tags, "tags"); err != nil {
		return alert.Event{}, err
	}
	ev.Summary = summary(g.Title, g.RuleName, g.Message)
	ev.Severity = MapSeverity(ev.Labels["severity"])
	if isNull(g.EvalMatches) {
		g.EvalMatches = nil
	}
	ev.Details = marshal(struct {
		Message     string          `json:"message,omitempty"`
		RuleURL     string          `json:"ruleUrl,omitempty"`
		ImageURL    string          `json:"imageUrl,omitempty"`
		EvalMatches json.RawMessage `json:"evalMatches,omitempty"`
	}{g.Message, g.RuleURL, g.ImageURL, g.EvalMatches})
	return ev, nil
}

// summary returns the first non-blank candidate, trimmed and cut to
// MaxSummary characters, or "alert".
func summary(candidates ...string) string {
	for _, s := range candidates {
		if s = strings.TrimSpace(s); s != "" {
			return truncate(s)
		}
	}
	return "alert"
}

// labelsFingerprint hashes a label set independently of its order: the first
// 16 hex digits of the SHA-256 of its sorted pairs.
func labelsFingerprint(l map[string]string) string {
	keys := make([]string, 0, len(l))
	for k := range l {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := sha256.New()
	for _, k := range keys {
		// 0xff never occurs in valid UTF-8, so pairs cannot run together.
		fmt.Fprintf(h, "%s\xff%s\xff", k, l[k])
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}
