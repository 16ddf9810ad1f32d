package signal

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/firebreak/firebreak/internal/alert"
)

// ErrUnknownRoutingKey is PagerDuty's error for a routing or service key it
// does not know; answer 400 with PagerDutyInvalid(ErrUnknownRoutingKey).
const ErrUnknownRoutingKey = "Invalid routing key"

// MaxRoutingKey bounds routing_key and service_key (PagerDuty's are 32).
const MaxRoutingKey = 128

// pdV2 is a PagerDuty Events API v2 event.
type pdV2 struct {
	RoutingKey  string `json:"routing_key"`
	EventAction string `json:"event_action"`
	DedupKey    string `json:"dedup_key"`
	Payload     *struct {
		Summary       string          `json:"summary"`
		Source        string          `json:"source"`
		Severity      string          `json:"severity"`
		Timestamp     string          `json:"timestamp"`
		Component     string          `json:"component"`
		Group         string          `json:"group"`
		Class         string          `json:"class"`
		CustomDetails json.RawMessage `json:"custom_details"`
	} `json:"payload"`
	Images    []json.RawMessage `json:"images"`
	Links     []json.RawMessage `json:"links"`
	Client    string            `json:"client"`
	ClientURL string            `json:"client_url"`
}

// pdV1 is a PagerDuty Events API v1 event (create_event.json).
type pdV1 struct {
	ServiceKey  string            `json:"service_key"`
	EventType   string            `json:"event_type"`
	IncidentKey string            `json:"incident_key"`
	Description string            `json:"description"`
	Details     json.RawMessage   `json:"details"`
	Client      string            `json:"client"`
	ClientURL   string            `json:"client_url"`
	Contexts    []json.RawMessage `json:"contexts"`
}

// ParsePagerDutyV2 parses a PagerDuty Events API v2 event and returns it with
// its routing key, which the caller resolves to a service. Errors are
// *FieldError whose Msg reads like PagerDuty's ("'payload.summary' is missing
// or blank"). The payload is required to trigger and optional otherwise;
// payload.custom_details may be any JSON value. Labels hold payload source,
// component, group and class; Details holds custom_details, links, images,
// client and client_url.
func ParsePagerDutyV2(body []byte) (ev alert.Event, routingKey string, err error) {
	var p pdV2
	if err := pdDecode(body, &p); err != nil {
		return alert.Event{}, "", err
	}
	ev = alert.Event{Source: alert.SourcePagerDuty, Action: alert.Action(p.EventAction), Severity: alert.Error}
	if err := pdCommon("routing_key", p.RoutingKey, "event_action", ev.Action); err != nil {
		return alert.Event{}, "", err
	}
	trigger := ev.Action == alert.Trigger
	if ev.Fingerprint, err = pdDedupKey("dedup_key", p.DedupKey, trigger); err != nil {
		return alert.Event{}, "", err
	}
	var custom json.RawMessage
	if pl := p.Payload; pl != nil {
		ev.Summary = strings.TrimSpace(pl.Summary)
		switch {
		case trigger && ev.Summary == "":
			return alert.Event{}, "", pdMissing("payload.summary")
		case tooLong(ev.Summary, MaxSummary):
			return alert.Event{}, "", pdTooLong("payload.summary", MaxSummary)
		case trigger && strings.TrimSpace(pl.Source) == "":
			return alert.Event{}, "", pdMissing("payload.source")
		case trigger && pl.Severity == "":
			return alert.Event{}, "", pdMissing("payload.severity")
		case pl.Severity != "" && !alert.Severity(pl.Severity).Valid():
			return alert.Event{}, "", pdInvalid("payload.severity")
		case pl.Severity != "":
			ev.Severity = alert.Severity(pl.Severity)
		}
		if pl.Timestamp != "" {
			var ok bool
			if ev.At, ok = parseTime(pl.Timestamp); !ok {
				return alert.Event{}, "", pdInvalid("payload.timestamp")
			}
		}
		for _, l := range [][2]string{{"source", pl.Source}, {"component", pl.Component}, {"group", pl.Group}, {"class", pl.Class}} {
			if strings.TrimSpace(l[1]) == "" {
				continue
			}
			if ev.Labels == nil {
				ev.Labels = map[string]string{}
			}
			ev.Labels[l[0]] = l[1]
		}
		if !isNull(pl.CustomDetails) {
			custom = pl.CustomDetails
		}
	} else if trigger {
		return alert.Event{}, "", pdMissing("payload")
	}
	ev.Details = marshal(struct {
		CustomDetails json.RawMessage   `json:"custom_details,omitempty"`
		Links         []json.RawMessage `json:"links,omitempty"`
		Images        []json.RawMessage `json:"images,omitempty"`
		Client        string            `json:"client,omitempty"`
		ClientURL     string            `json:"client_url,omitempty"`
	}{custom, p.Links, p.Images, p.Client, p.ClientURL})
	return ev, p.RoutingKey, nil
}

// ParsePagerDutyV1 parses a PagerDuty Events API v1 event
// (POST /generic/2010-04-15/create_event.json) and returns it with its
// service key. The incident key is the dedup key; v1 has no severity, so
// every event is an error. Details holds details (an object), client,
// client_url and contexts.
func ParsePagerDutyV1(body []byte) (ev alert.Event, serviceKey string, err error) {
	var p pdV1
	if err := pdDecode(body, &p); err != nil {
		return alert.Event{}, "", err
	}
	ev = alert.Event{
		Source:   alert.SourcePagerDutyV1,
		Action:   alert.Action(p.EventType),
		Severity: alert.Error,
		Summary:  strings.TrimSpace(p.Description),
	}
	if err := pdCommon("service_key", p.ServiceKey, "event_type", ev.Action); err != nil {
		return alert.Event{}, "", err
	}
	trigger := ev.Action == alert.Trigger
	if ev.Fingerprint, err = pdDedupKey("incident_key", p.IncidentKey, trigger); err != nil {
		return alert.Event{}, "", err
	}
	switch {
	case trigger && ev.Summary == "":
		return alert.Event{}, "", pdMissing("description")
	case tooLong(ev.Summary, MaxSummary):
		return alert.Event{}, "", pdTooLong("description", MaxSummary)
	}
	details, err := object(p.Details, "details", "'details' is invalid")
	if err != nil {
		return alert.Event{}, "", err
	}
	ev.Details = marshal(struct {
		Details   json.RawMessage   `json:"details,omitempty"`
		Client    string            `json:"client,omitempty"`
		ClientURL string            `json:"client_url,omitempty"`
		Contexts  []json.RawMessage `json:"contexts,omitempty"`
	}{details, p.Client, p.ClientURL, p.Contexts})
	return ev, p.ServiceKey, nil
}

// PagerDutyAccepted is the Events API v2 answer (HTTP 202) to an accepted event.
func PagerDutyAccepted(dedupKey string) []byte {
	b, _ := json.Marshal(struct {
		Status   string `json:"status"`
		Message  string `json:"message"`
		DedupKey string `json:"dedup_key"`
	}{"success", "Event processed", dedupKey})
	return b
}

// PagerDutyV1Accepted is the Events API v1 answer (HTTP 200) to an accepted event.
func PagerDutyV1Accepted(incidentKey string) []byte {
	b, _ := json.Marshal(struct {
		Status      string `json:"status"`
		Message     string `json:"message"`
		IncidentKey string `json:"incident_key"`
	}{"success", "Event processed", incidentKey})
	return b
}

// PagerDutyInvalid is the answer (HTTP 400) of both API versions to an
// invalid event; errs are typically the err.Error() of a parser.
func PagerDutyInvalid(errs ...string) []byte {
	if errs == nil {
		errs = []string{}
	}
	b, _ := json.Marshal(struct {
		Status  string   `json:"status"`
		Message string   `json:"message"`
		Errors  []string `json:"errors"`
	}{"invalid event", "Event object is invalid", errs})
	return b
}

// pdDecode checks and decodes a PagerDuty body, phrasing type errors like
// PagerDuty.
func pdDecode(body []byte, v any) error {
	err := checkBody(body)
	if err == nil {
		err = decode(body, v, "", false)
	}
	var fe *FieldError
	if errors.As(err, &fe) && fe.Field != "" && fe.Msg != "invalid utf-8" {
		fe.Msg = fmt.Sprintf("'%s' is invalid", fe.Field)
	}
	return err
}

// pdCommon validates the key and the action of either API version.
func pdCommon(keyField, key, actionField string, action alert.Action) error {
	switch {
	case strings.TrimSpace(key) == "":
		return pdMissing(keyField)
	case tooLong(key, MaxRoutingKey):
		return pdInvalid(keyField)
	case action == "":
		return pdMissing(actionField)
	case !action.Valid():
		return pdInvalid(actionField)
	}
	return nil
}

// pdDedupKey validates a dedup or incident key, generating one for a trigger
// that has none.
func pdDedupKey(field, key string, trigger bool) (string, error) {
	switch {
	case tooLong(key, MaxDedupKey):
		return "", pdTooLong(field, MaxDedupKey)
	case strings.TrimSpace(key) != "":
		return key, nil
	case trigger:
		return newKey(), nil
	}
	return "", pdMissing(field)
}

func pdMissing(f string) error { return &FieldError{f, fmt.Sprintf("'%s' is missing or blank", f)} }
func pdInvalid(f string) error { return &FieldError{f, fmt.Sprintf("'%s' is invalid", f)} }
func pdTooLong(f string, n int) error {
	return &FieldError{f, fmt.Sprintf("'%s' is too long (maximum is %d characters)", f, n)}
}
