package signal

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/firebreak/firebreak/internal/alert"
)

// MaxEvents is the most events one generic request may carry.
const MaxEvents = 1000

// genericEvent is one event of firebreak's own JSON format.
type genericEvent struct {
	Summary   string          `json:"summary"`
	Severity  string          `json:"severity"`
	DedupKey  string          `json:"dedup_key"`
	Action    string          `json:"action"`
	Labels    json.RawMessage `json:"labels"`
	Details   json.RawMessage `json:"details"`
	Timestamp string          `json:"timestamp"`
}

// ParseGeneric parses firebreak's generic JSON: one event object, an array of
// them, or {"events": [...]} (at most MaxEvents). An event has summary
// (required to trigger), severity (default error), dedup_key (required to
// acknowledge or resolve, random when a trigger has none), action (default
// trigger), labels (strings), details (an object) and timestamp (RFC 3339).
// Unknown fields are rejected; fields of listed events are named
// "events[i].field".
func ParseGeneric(body []byte) ([]alert.Event, error) {
	if err := checkBody(body); err != nil {
		if fe, ok := err.(*FieldError); ok && strings.HasPrefix(fe.Field, "[") {
			fe.Field = "events" + fe.Field
		}
		return nil, err
	}
	var raws []json.RawMessage
	switch bytes.TrimSpace(body)[0] {
	case '[':
		if err := json.Unmarshal(body, &raws); err != nil {
			return nil, fmt.Errorf("invalid json: %w", err)
		}
	case '{':
		var top map[string]json.RawMessage
		if err := json.Unmarshal(body, &top); err != nil {
			return nil, fmt.Errorf("invalid json: %w", err)
		}
		list, ok := top["events"]
		if !ok {
			ev, err := parseGenericEvent(body, "")
			if err != nil {
				return nil, err
			}
			return []alert.Event{ev}, nil
		}
		var extra []string
		for k := range top {
			if k != "events" {
				extra = append(extra, k)
			}
		}
		if len(extra) > 0 {
			sort.Strings(extra)
			return nil, &FieldError{extra[0], "unknown field"}
		}
		if err := json.Unmarshal(list, &raws); err != nil {
			return nil, &FieldError{"events", "must be an array of objects"}
		}
	default:
		return nil, &FieldError{Msg: "body must be an object or an array"}
	}
	switch {
	case len(raws) == 0:
		return nil, &FieldError{"events", "must not be empty"}
	case len(raws) > MaxEvents:
		return nil, &FieldError{"events", fmt.Sprintf("must hold at most %d events", MaxEvents)}
	}
	evs := make([]alert.Event, len(raws))
	for i, raw := range raws {
		var err error
		if evs[i], err = parseGenericEvent(raw, fmt.Sprintf("events[%d]", i)); err != nil {
			return nil, err
		}
	}
	return evs, nil
}

func parseGenericEvent(raw json.RawMessage, prefix string) (alert.Event, error) {
	fail := func(name, msg string) (alert.Event, error) {
		return alert.Event{}, &FieldError{join(prefix, name), msg}
	}
	var g genericEvent
	if isNull(raw) {
		return fail("", "must be an object")
	}
	if err := decode(raw, &g, prefix, true); err != nil {
		return alert.Event{}, err
	}
	ev := alert.Event{
		Source:      alert.SourceGeneric,
		Action:      alert.Trigger,
		Severity:    alert.Error,
		Summary:     strings.TrimSpace(g.Summary),
		Fingerprint: g.DedupKey,
	}
	if g.Action != "" {
		ev.Action = alert.Action(g.Action)
	}
	if g.Severity != "" {
		ev.Severity = alert.Severity(g.Severity)
	}
	blankKey := strings.TrimSpace(g.DedupKey) == ""
	switch {
	case !ev.Action.Valid():
		return fail("action", "must be trigger, acknowledge or resolve")
	case !ev.Severity.Valid():
		return fail("severity", "must be critical, error, warning or info")
	case ev.Action == alert.Trigger && ev.Summary == "":
		return fail("summary", "is required to trigger")
	case tooLong(ev.Summary, MaxSummary):
		return fail("summary", fmt.Sprintf("must be at most %d characters", MaxSummary))
	case tooLong(g.DedupKey, MaxDedupKey):
		return fail("dedup_key", fmt.Sprintf("must be at most %d characters", MaxDedupKey))
	case blankKey && ev.Action != alert.Trigger:
		return fail("dedup_key", "is required to "+string(ev.Action))
	case blankKey:
		ev.Fingerprint = newKey()
	}
	if g.Timestamp != "" {
		var ok bool
		if ev.At, ok = parseTime(g.Timestamp); !ok {
			return fail("timestamp", "must be an RFC 3339 time")
		}
	}
	var err error
	if ev.Labels, err = labels(g.Labels, join(prefix, "labels")); err != nil {
		return alert.Event{}, err
	}
	if ev.Details, err = object(g.Details, join(prefix, "details"), "must be an object"); err != nil {
		return alert.Event{}, err
	}
	return ev, nil
}
