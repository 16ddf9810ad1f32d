package web_test

import (
	"bufio"
	"bytes"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/firebreak/firebreak/internal/server"
	"github.com/firebreak/firebreak/internal/signal"
	"github.com/firebreak/firebreak/internal/testenv"
)

type ingestAnswer struct {
	Status string `json:"status"`
	Events []struct {
		DedupKey   string `json:"dedup_key"`
		Outcome    string `json:"outcome"`
		AlertID    int64  `json:"alert_id"`
		IncidentID int64  `json:"incident_id"`
	} `json:"events"`
}

func (a ingestAnswer) outcomes() []string {
	var out []string
	for _, ev := range a.Events {
		out = append(out, ev.Outcome)
	}
	return out
}

// outcomeStatus is the alert status an accepted event leaves behind.
var outcomeStatus = map[string]string{"created": "firing", "deduplicated": "firing", "acknowledged": "acknowledged", "resolved": "resolved"}

// durable checks, on a new connection of its own, that the alert (and its
// incident) an accepted event answered about are committed.
func (e *apiEnv) durable(t *testing.T, serviceID int64, fingerprint, wantStatus string, incidentID int64) {
	t.Helper()
	db := e.openStore(t)
	defer db.Close()
	var status string
	var incident sql.NullInt64
	err := db.R.QueryRowContext(t.Context(), `SELECT status, incident_id FROM alerts WHERE service_id = $1 AND fingerprint = $2`,
		serviceID, fingerprint).Scan(&status, &incident)
	if errors.Is(err, sql.ErrNoRows) {
		t.Fatalf("alert %q of service %d answered 2xx but is not in the database", fingerprint, serviceID)
	}
	if err != nil {
		t.Fatal(err)
	}
	if status != wantStatus {
		t.Errorf("alert %q: stored status %q, want %q", fingerprint, status, wantStatus)
	}
	if incidentID != 0 {
		if incident.Int64 != incidentID {
			t.Errorf("alert %q: stored incident %d, answered %d", fingerprint, incident.Int64, incidentID)
		}
		var n int
		if err := db.R.QueryRowContext(t.Context(), `SELECT count(*) FROM incidents WHERE id = $1`, incidentID).Scan(&n); err != nil || n != 1 {
			t.Errorf("incident %d answered but not stored (%v)", incidentID, err)
		}
	}
}

// ingest posts to one of the keyed endpoints (alertmanager, grafana, events),
// wants 202 with the given outcomes, and checks every event is durable.
func (e *apiEnv) ingest(t *testing.T, serviceID int64, key, format string, body any, outcomes ...string) ingestAnswer {
	t.Helper()
	var a ingestAnswer
	e.call(t, "POST", "/api/v1/integrations/"+key+"/"+format, "", body, http.StatusAccepted).decode(t, &a)
	if a.Status != "accepted" || !slices.Equal(a.outcomes(), outcomes) {
		t.Fatalf("%s: answer %+v, want outcomes %v", format, a, outcomes)
	}
	for _, ev := range a.Events {
		if ev.DedupKey == "" {
			t.Errorf("event answered without dedup_key: %+v", ev)
		}
		if want, ok := outcomeStatus[ev.Outcome]; ok {
			e.durable(t, serviceID, ev.DedupKey, want, ev.IncidentID)
		}
	}
	return a
}

// pagerDuty posts a PagerDuty event (v1 when the path says so) and checks the
// exact answer and durability.
func (e *apiEnv) pagerDuty(t *testing.T, serviceID int64, path string, body map[string]any, wantStatus string) string {
	t.Helper()
	want, keyField := http.StatusAccepted, "dedup_key"
	if strings.HasPrefix(path, "/generic/") {
		want, keyField = http.StatusOK, "incident_key"
	}
	r := e.call(t, "POST", path, "", body, want)
	m := regexp.MustCompile(`^\{"status":"success","message":"Event processed","` + keyField + `":"([^"]+)"\}$`).FindSubmatch(r.body)
	if m == nil {
		t.Fatalf("%v: not PagerDuty's success answer", r)
	}
	key := string(m[1])
	e.durable(t, serviceID, key, wantStatus, 0)
	return key
}

func (e *apiEnv) alert(t *testing.T, id int64) apiAlert {
	t.Helper()
	var a apiAlert
	e.call(t, "GET", fmt.Sprintf("/api/v1/alerts/%d", id), e.admin, nil, 200).decode(t, &a)
	return a
}

func amAlert(status, instance, fingerprint string) map[string]any {
	a := map[string]any{
		"status":       status,
		"labels":       map[string]any{"alertname": "HighCPU", "instance": instance, "job": "node", "severity": "critical"},
		"annotations":  map[string]any{"summary": "CPU above 80% on " + instance, "runbook_url": "https://runbooks.example.com/cpu"},
		"startsAt":     "2024-05-01T10:00:00.000Z",
		"endsAt":       "0001-01-01T00:00:00Z",
		"generatorURL": "http://prometheus:9090/graph?g0.expr=cpu%3E0.8",
	}
	if fingerprint != "" {
		a["fingerprint"] = fingerprint
	}
	if status == "resolved" {
		a["endsAt"] = "2024-05-01T10:30:00.000Z"
	}
	return a
}

func amWebhook(status string, alerts ...map[string]any) map[string]any {
	return map[string]any{
		"version": "4", "groupKey": `{}:{alertname="HighCPU"}`, "truncatedAlerts": 0, "status": status, "receiver": "firebreak",
		"groupLabels":       map[string]any{"alertname": "HighCPU"},
		"commonLabels":      map[string]any{"alertname": "HighCPU", "job": "node", "severity": "critical"},
		"commonAnnotations": map[string]any{},
		"externalURL":       "http://alertmanager:9093",
		"alerts":            alerts,
	}
}

func TestIngestAlertmanager(t *testing.T) {
	t.Parallel()
	apiEachDB(t, func(t *testing.T, e *apiEnv) {
		sv := e.createService(t, "nodes")
		key := sv.Keys[0].Key

		// Two alerts of one group open one incident.
		a := e.ingest(t, sv.ID, key, "alertmanager", amWebhook("firing", amAlert("firing", "db1", "6d3f6ae5e1c7b1a2"), amAlert("firing", "db2", "")),
			"created", "created")
		inc := a.Events[0].IncidentID
		if inc == 0 || a.Events[1].IncidentID != inc || a.Events[0].DedupKey != "6d3f6ae5e1c7b1a2" || len(a.Events[1].DedupKey) != 16 {
			t.Fatalf("answer %+v: want both alerts in one incident, keys from fingerprint and labels", a)
		}
		got := e.incident(t, inc)
		if got.Level != "P1" || got.Status != "triggered" || got.Source != "alertmanager" || got.AlertCount != 2 ||
			got.ServiceID != sv.ID || got.Title != "CPU above 80% on db1" {
			t.Errorf("incident %+v", got)
		}
		al := e.alert(t, a.Events[0].AlertID)
		if al.Severity != "critical" || al.Summary != "CPU above 80% on db1" || al.Labels["instance"] != "db1" || al.Source != "alertmanager" ||
			al.Details["generatorURL"] == nil || al.Details["externalURL"] != "http://alertmanager:9093" {
			t.Errorf("alert %+v", al)
		}
		var list apiPage[apiAlert]
		e.call(t, "GET", fmt.Sprintf("/api/v1/incidents/%d/alerts", inc), e.admin, nil, 200).decode(t, &list)
		if len(list.Items) != 2 {
			t.Errorf("incident has %d alerts, want 2", len(list.Items))
		}

		// Alertmanager repeats the group until it resolves: deduplicated.
		before := e.count(t, "alerts")
		r := e.ingest(t, sv.ID, key, "alertmanager", amWebhook("firing", amAlert("firing", "db1", "6d3f6ae5e1c7b1a2"), amAlert("firing", "db2", "")),
			"deduplicated", "deduplicated")
		if r.Events[0].AlertID != a.Events[0].AlertID || r.Events[1].IncidentID != inc || e.count(t, "alerts") != before {
			t.Errorf("repeat answered %+v", r)
		}
		if al := e.alert(t, a.Events[0].AlertID); al.RepeatCount != 2 {
			t.Errorf("repeat_count %d, want 2", al.RepeatCount)
		}

		// One resolves: the incident stays open; both resolved: it resolves itself.
		e.ingest(t, sv.ID, key, "alertmanager", amWebhook("resolved", amAlert("resolved", "db1", "6d3f6ae5e1c7b1a2")), "resolved")
		if got := e.incident(t, inc); got.Status != "triggered" {
			t.Errorf("incident %s with one alert still firing", got.Status)
		}
		e.ingest(t, sv.ID, key, "alertmanager", amWebhook("resolved", amAlert("resolved", "db1", "6d3f6ae5e1c7b1a2"), amAlert("resolved", "db2", "")),
			"ignored", "resolved")
		if got := e.incident(t, inc); got.Status != "resolved" || got.ResolvedAt == "" {
			t.Errorf("incident %s after all its alerts resolved, want resolved", got.Status)
		}
		tl := e.timeline(t, inc, "")
		last := tl[len(tl)-1]
		if last.Kind != "status_changed" || last.Actor != "alertmanager" || last.Data["to"] != "resolved" {
			t.Errorf("last timeline entry %+v, want alertmanager resolving it", last)
		}

		// Firing again after resolution opens a new incident.
		again := e.ingest(t, sv.ID, key, "alertmanager", amWebhook("firing", amAlert("firing", "db1", "6d3f6ae5e1c7b1a2")), "created")
		if again.Events[0].IncidentID == inc || again.Events[0].AlertID != a.Events[0].AlertID {
			t.Errorf("refiring: %+v", again)
		}

		for _, c := range []struct {
			name  string
			body  any
			field string
		}{
			{"version 3", map[string]any{"version": "3", "alerts": []any{amAlert("firing", "x", "")}}, "version"},
			{"no alerts", map[string]any{"version": "4", "alerts": []any{}}, "alerts"},
			{"bad status", amWebhook("firing", amAlert("pending", "x", "")), "alerts[0].status"},
			{"labels not strings", map[string]any{"alerts": []any{map[string]any{"status": "firing", "labels": map[string]any{"n": 1}}}}, "alerts[0].labels.n"},
			{"no labels or fingerprint", map[string]any{"alerts": []any{map[string]any{"status": "firing"}}}, "alerts[0].labels"},
		} {
			t.Run(c.name, func(t *testing.T) {
				before := e.count(t, "alerts")
				e.fail(t, "POST", "/api/v1/integrations/"+key+"/alertmanager", "", c.body, 400, c.field)
				if e.count(t, "alerts") != before {
					t.Error("a refused webhook stored alerts")
				}
			})
		}
	})
}

func TestIngestGrafana(t *testing.T) {
	t.Parallel()
	apiEachDB(t, func(t *testing.T, e *apiEnv) {
		sv := e.createService(t, "grafana")
		key := sv.Keys[0].Key
		unified := func(status string) map[string]any {
			al := map[string]any{
				"status":       status,
				"labels":       map[string]any{"alertname": "DiskFull", "grafana_folder": "infra", "instance": "db1", "severity": "warning"},
				"annotations":  map[string]any{"summary": "Disk 91% full on db1"},
				"startsAt":     "2024-05-01T10:00:00Z",
				"endsAt":       "0001-01-01T00:00:00Z",
				"generatorURL": "http://grafana:3000/alerting/grafana/abc/view",
				"fingerprint":  "57c6d9296de2ad39",
				"silenceURL":   "http://grafana:3000/alerting/silence/new",
				"dashboardURL": "http://grafana:3000/d/disk",
				"panelURL":     "http://grafana:3000/d/disk?viewPanel=2",
				"values":       map[string]any{"B": 91.2, "C": 1},
				"valueString":  "[ var='B' labels={instance=db1} value=91.2 ]",
			}
			return map[string]any{
				"receiver": "firebreak", "status": status, "orgId": 1, "alerts": []any{al},
				"groupLabels": map[string]any{"alertname": "DiskFull"}, "commonLabels": map[string]any{"alertname": "DiskFull"},
				"commonAnnotations": map[string]any{}, "externalURL": "http://grafana:3000/", "version": "1",
				"groupKey": `{}:{alertname="DiskFull"}`, "truncatedAlerts": 0, "title": "[FIRING:1] DiskFull", "state": "alerting", "message": "Disk full",
			}
		}
		legacy := func(state string) map[string]any {
			return map[string]any{
				"title": "[Alerting] CPU load", "ruleId": 7, "ruleName": "CPU load", "ruleUrl": "http://grafana:3000/d/cpu",
				"state": state, "message": "CPU load above 4", "imageUrl": "",
				"evalMatches": []any{map[string]any{"value": 4.5, "metric": "load", "tags": map[string]any{"host": "db1"}}},
				"tags":        map[string]any{"severity": "critical"},
			}
		}

		a := e.ingest(t, sv.ID, key, "grafana", unified("firing"), "created")
		inc := a.Events[0].IncidentID
		if a.Events[0].DedupKey != "57c6d9296de2ad39" || inc == 0 {
			t.Fatalf("unified answer %+v", a)
		}
		if got := e.incident(t, inc); got.Level != "P3" || got.Source != "grafana" {
			t.Errorf("warning opened %+v, want P3 from grafana", got)
		}
		al := e.alert(t, a.Events[0].AlertID)
		if al.Details["dashboardURL"] != "http://grafana:3000/d/disk" || al.Details["valueString"] == nil || al.Severity != "warning" {
			t.Errorf("unified alert %+v", al)
		}

		// A legacy critical alert joins the open incident and raises its level.
		l := e.ingest(t, sv.ID, key, "grafana", legacy("alerting"), "created")
		if l.Events[0].DedupKey != "7" || l.Events[0].IncidentID != inc {
			t.Errorf("legacy answer %+v, want key 7 in incident %d", l, inc)
		}
		if got := e.incident(t, inc); got.Level != "P1" || got.AlertCount != 2 {
			t.Errorf("after a critical alert: %+v, want P1 with 2 alerts", got)
		}
		e.ingest(t, sv.ID, key, "grafana", legacy("ok"), "resolved")
		e.ingest(t, sv.ID, key, "grafana", unified("resolved"), "resolved")
		if got := e.incident(t, inc); got.Status != "resolved" {
			t.Errorf("incident %s after all alerts resolved", got.Status)
		}

		before := e.count(t, "alerts")
		bad := legacy("paused")
		e.fail(t, "POST", "/api/v1/integrations/"+key+"/grafana", "", bad, 400, "state")
		e.fail(t, "POST", "/api/v1/integrations/"+key+"/grafana", "", map[string]any{"state": "alerting", "ruleName": "x", "tags": []any{"a"}}, 400, "tags")
		if e.count(t, "alerts") != before {
			t.Error("refused webhooks stored alerts")
		}
	})
}

func TestIngestGeneric(t *testing.T) {
	t.Parallel()
	apiEachDB(t, func(t *testing.T, e *apiEnv) {
		sv := e.createService(t, "generic")
		key := sv.Keys[0].Key

		// One object.
		a := e.ingest(t, sv.ID, key, "events", map[string]any{
			"summary": "Checkout is failing", "severity": "critical", "dedup_key": "checkout-down",
			"labels": map[string]any{"team": "payments"}, "details": map[string]any{"runbook": "https://runbooks/checkout"},
			"timestamp": "2024-05-01T10:00:00+08:00",
		}, "created")
		inc := a.Events[0].IncidentID
		if a.Events[0].DedupKey != "checkout-down" || inc == 0 {
			t.Fatalf("answer %+v", a)
		}
		if got := e.incident(t, inc); got.Level != "P1" || got.Source != "generic" || got.Title != "Checkout is failing" {
			t.Errorf("incident %+v", got)
		}
		if al := e.alert(t, a.Events[0].AlertID); al.Labels["team"] != "payments" || al.Details["runbook"] != "https://runbooks/checkout" {
			t.Errorf("alert %+v", al)
		}

		// An array: the event without a dedup_key gets a random one.
		arr := e.ingest(t, sv.ID, key, "events", []any{
			map[string]any{"summary": "Queue slow", "severity": "warning", "dedup_key": "queue"},
			map[string]any{"summary": "Anonymous"},
			map[string]any{"summary": "Checkout is failing", "severity": "critical", "dedup_key": "checkout-down"},
		}, "created", "created", "deduplicated")
		if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(arr.Events[1].DedupKey) || arr.Events[1].IncidentID != inc {
			t.Errorf("generated key / grouping: %+v", arr.Events[1])
		}

		// {"events": [...]}: info opens no incident; acknowledge; resolve of an unknown key is ignored.
		ev := e.ingest(t, sv.ID, key, "events", map[string]any{"events": []any{
			map[string]any{"summary": "FYI: deploy started", "severity": "info", "dedup_key": "deploy"},
			map[string]any{"action": "acknowledge", "dedup_key": "checkout-down"},
			map[string]any{"action": "resolve", "dedup_key": "never-seen"},
		}}, "created", "acknowledged", "ignored")
		if ev.Events[0].IncidentID != 0 {
			t.Errorf("info alert opened incident %d", ev.Events[0].IncidentID)
		}
		if got := e.incident(t, inc); got.Status != "acknowledged" {
			t.Errorf("acknowledging an alert left the incident %s", got.Status)
		}

		for _, c := range []struct {
			name  string
			body  string
			field string
		}{
			{"no summary", `{"severity":"error"}`, "summary"},
			{"bad severity", `{"summary":"x","severity":"sev1"}`, "severity"},
			{"bad action", `{"summary":"x","action":"explode"}`, "action"},
			{"resolve without key", `{"action":"resolve"}`, "dedup_key"},
			{"unknown field", `{"summary":"x","colour":"red"}`, "colour"},
			{"bad timestamp", `{"summary":"x","timestamp":"yesterday"}`, "timestamp"},
			{"labels not strings", `{"summary":"x","labels":{"a":1}}`, "labels.a"},
			{"details not an object", `{"summary":"x","details":[1]}`, "details"},
			{"empty events", `{"events":[]}`, "events"},
			{"field of a listed event", `[{"summary":"ok"},{"summary":"x","nope":1}]`, "events[1].nope"},
			{"extra top-level field", `{"events":[{"summary":"x"}],"source":"y"}`, "source"},
			{"invalid utf-8", "{\"summary\":\"caf\xe9\"}", "summary"},
			{"a number", `42`, ""},
		} {
			t.Run(c.name, func(t *testing.T) {
				before := e.count(t, "alerts")
				e.fail(t, "POST", "/api/v1/integrations/"+key+"/events", "", c.body, 400, c.field)
				if e.count(t, "alerts") != before {
					t.Error("a refused request stored alerts")
				}
			})
		}

		// The limit is exactly 512 KB.
		big := func(n int) string {
			head, tail := `{"summary":"big","dedup_key":"big","details":{"pad":"`, `"}}`
			return head + strings.Repeat("x", n-len(head)-len(tail)) + tail
		}
		e.ingest(t, sv.ID, key, "events", big(signal.MaxBody), "created")
		e.fail(t, "POST", "/api/v1/integrations/"+key+"/events", "", big(signal.MaxBody+1), 413, "")
	})
}

func TestIngestPagerDuty(t *testing.T) {
	t.Parallel()
	apiEachDB(t, func(t *testing.T, e *apiEnv) {
		sv := e.createService(t, "pd")
		key := sv.Keys[0].Key
		trigger := func(dedup string) map[string]any {
			ev := map[string]any{
				"routing_key": key, "event_action": "trigger",
				"payload": map[string]any{
					"summary": "DB CPU above 80%", "source": "db1.example.com", "severity": "critical",
					"timestamp": "2015-07-17T08:42:58.315+0000", "component": "postgres", "group": "prod-datapipe", "class": "cpu load",
					"custom_details": map[string]any{"ping time": "1500ms", "load avg": 0.75},
				},
				"links":  []any{map[string]any{"href": "https://example.com/", "text": "Link text"}},
				"images": []any{map[string]any{"src": "https://example.com/img.png", "href": "https://example.com/", "alt": "chart"}},
				"client": "Sample Monitoring Service", "client_url": "https://monitoring.example.com",
			}
			if dedup != "" {
				ev["dedup_key"] = dedup
			}
			return ev
		}

		if k := e.pagerDuty(t, sv.ID, "/v2/enqueue", trigger("pd-1"), "firing"); k != "pd-1" {
			t.Errorf("dedup_key %q, want pd-1", k)
		}
		var list apiPage[apiAlert]
		e.call(t, "GET", fmt.Sprintf("/api/v1/alerts?service_id=%d", sv.ID), e.admin, nil, 200).decode(t, &list)
		if len(list.Items) != 1 || list.Items[0].Labels["component"] != "postgres" || list.Items[0].Source != "pagerduty" ||
			list.Items[0].Details["client"] != "Sample Monitoring Service" || list.Items[0].IncidentID == 0 {
			t.Fatalf("stored %+v", list.Items)
		}
		inc := list.Items[0].IncidentID

		generated := e.pagerDuty(t, sv.ID, "/v2/enqueue", trigger(""), "firing")
		if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(generated) {
			t.Errorf("generated dedup_key %q", generated)
		}
		e.pagerDuty(t, sv.ID, "/v2/enqueue", map[string]any{"routing_key": key, "event_action": "acknowledge", "dedup_key": "pd-1"}, "acknowledged")
		e.pagerDuty(t, sv.ID, "/v2/enqueue", map[string]any{"routing_key": key, "event_action": "resolve", "dedup_key": "pd-1"}, "resolved")
		e.pagerDuty(t, sv.ID, "/v2/enqueue", map[string]any{"routing_key": key, "event_action": "resolve", "dedup_key": generated}, "resolved")
		if got := e.incident(t, inc); got.Status != "resolved" {
			t.Errorf("incident %s after PagerDuty resolved its alerts", got.Status)
		}

		// Events API v1.
		e.pagerDuty(t, sv.ID, "/generic/2010-04-15/create_event.json", map[string]any{
			"service_key": key, "event_type": "trigger", "incident_key": "srv01/HTTP",
			"description": "FAILURE for production/HTTP on machine srv01.acme.com",
			"details":     map[string]any{"ping time": "1500ms"}, "client": "Sample Monitoring Service",
			"client_url": "https://monitoring.example.com", "contexts": []any{map[string]any{"type": "link", "href": "http://acme.pagerduty.com"}},
		}, "firing")
		e.pagerDuty(t, sv.ID, "/generic/2010-04-15/create_event.json", map[string]any{"service_key": key, "event_type": "resolve", "incident_key": "srv01/HTTP"}, "resolved")

		invalid := func(path string, body any, status int, errs ...string) {
			t.Helper()
			before := e.count(t, "alerts")
			r := e.call(t, "POST", path, "", body, status)
			var got struct {
				Status  string   `json:"status"`
				Message string   `json:"message"`
				Errors  []string `json:"errors"`
			}
			r.decode(t, &got)
			if got.Status != "invalid event" || got.Message != "Event object is invalid" || len(got.Errors) == 0 {
				t.Errorf("%v: not PagerDuty's invalid event answer", r)
			}
			if errs != nil && !slices.Equal(got.Errors, errs) {
				t.Errorf("%v: errors %q, want %q", r, got.Errors, errs)
			}
			if e.count(t, "alerts") != before {
				t.Errorf("%v: a refused event was stored", r)
			}
		}
		unknown := trigger("x")
		unknown["routing_key"] = "0123456789abcdef0123456789abcdef"
		r := e.call(t, "POST", "/v2/enqueue", "", unknown, 400)
		if string(r.body) != `{"status":"invalid event","message":"Event object is invalid","errors":["Invalid routing key"]}` {
			t.Errorf("unknown routing key answered %s", r.body)
		}
		invalid("/generic/2010-04-15/create_event.json", map[string]any{"service_key": "0123456789abcdef0123456789abcdef", "event_type": "trigger", "description": "x"},
			400, "Invalid routing key")

		noPayload := trigger("")
		delete(noPayload, "payload")
		noSummary := trigger("")
		delete(noSummary["payload"].(map[string]any), "summary")
		noSource := trigger("")
		delete(noSource["payload"].(map[string]any), "source")
		badSeverity := trigger("")
		badSeverity["payload"].(map[string]any)["severity"] = "sev1"
		noKey := trigger("")
		delete(noKey, "routing_key")
		for _, c := range []struct {
			name string
			body any
			err  string
		}{
			{"no payload", noPayload, "'payload' is missing or blank"},
			{"no summary", noSummary, "'payload.summary' is missing or blank"},
			{"no source", noSource, "'payload.source' is missing or blank"},
			{"bad severity", badSeverity, "'payload.severity' is invalid"},
			{"no routing key", noKey, "'routing_key' is missing or blank"},
			{"no action", map[string]any{"routing_key": key}, "'event_action' is missing or blank"},
			{"bad action", map[string]any{"routing_key": key, "event_action": "explode"}, "'event_action' is invalid"},
			{"resolve without dedup_key", map[string]any{"routing_key": key, "event_action": "resolve"}, "'dedup_key' is missing or blank"},
			{"payload not an object", map[string]any{"routing_key": key, "event_action": "trigger", "payload": "x"}, "'payload' is invalid"},
		} {
			t.Run(c.name, func(t *testing.T) { invalid("/v2/enqueue", c.body, 400, c.err) })
		}
		invalid("/generic/2010-04-15/create_event.json", map[string]any{"service_key": key, "event_type": "trigger"}, 400, "'description' is missing or blank")
	})
}

// TestIngestRejected: malformed bodies, unknown keys and oversized bodies get a
// 4xx JSON answer, store nothing and leave the server answering.
func TestIngestRejected(t *testing.T) {
	t.Parallel()
	apiEachDB(t, func(t *testing.T, e *apiEnv) {
		sv := e.createService(t, "rejects")
		key := sv.Keys[0].Key
		const unknownKey = "ffffffffffffffffffffffffffffffff"
		oversized := `{"summary":"` + strings.Repeat("x", signal.MaxBody) + `"}`
		valid := map[string]string{
			"alertmanager": `{"version":"4","alerts":[{"status":"firing","labels":{"alertname":"am"}}]}`,
			"grafana":      `{"alerts":[{"status":"firing","labels":{"alertname":"grafana"}}]}`,
			"events":       `{"summary":"x"}`,
		}
		counts := func() [3]int {
			return [3]int{e.count(t, "alerts"), e.count(t, "incidents"), e.count(t, "timeline")}
		}
		before := counts()
		for _, format := range []string{"alertmanager", "grafana", "events"} {
			t.Run(format, func(t *testing.T) {
				path := "/api/v1/integrations/" + key + "/" + format
				for _, c := range []struct {
					name   string
					path   string
					body   string
					status int
					field  string
				}{
					{"malformed JSON", path, `{"alerts": [`, 400, ""},
					{"not JSON", path, `alertname=x`, 400, ""},
					{"empty body", path, ``, 400, ""},
					{"unknown key", "/api/v1/integrations/" + unknownKey + "/" + format, valid[format], 404, "key"},
					{"oversized", path, oversized, 413, ""},
					{"oversized with unknown key", "/api/v1/integrations/" + unknownKey + "/" + format, oversized, 413, ""},
				} {
					t.Run(c.name, func(t *testing.T) {
						e.fail(t, "POST", c.path, "", c.body, c.status, c.field)
						e.call(t, "GET", "/healthz", "", nil, 200)
					})
				}
			})
		}
		for _, path := range []string{"/v2/enqueue", "/generic/2010-04-15/create_event.json"} {
			t.Run(path, func(t *testing.T) {
				for _, c := range []struct {
					body   string
					status int
				}{{`{"routing_key":`, 400}, {`[]`, 400}, {`null`, 400}, {oversized, 413}} {
					r := e.call(t, "POST", path, "", c.body, c.status)
					if !bytes.HasPrefix(r.body, []byte(`{"status":"invalid event","message":"Event object is invalid","errors":["`)) {
						t.Errorf("%v: not PagerDuty's answer", r)
					}
					e.call(t, "GET", "/healthz", "", nil, 200)
				}
			})
		}
		if after := counts(); after != before {
			t.Errorf("refused requests changed (alerts, incidents, timeline) from %v to %v", before, after)
		}
		// The valid bodies used above are accepted with the right key.
		for format, body := range valid {
			e.ingest(t, sv.ID, key, format, body, "created")
		}
	})
}

// metrics scrapes /metrics into "name{labels}" → value.
func (e *apiEnv) metrics(t *testing.T) map[string]float64 {
	t.Helper()
	r := e.do(t, "GET", "/metrics", "", nil)
	if r.status != 200 {
		t.Fatalf("%v", r)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(bytes.NewReader(r.body))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

func TestOperations(t *testing.T) {
	t.Parallel()
	apiEachDB(t, func(t *testing.T, e *apiEnv) {
		var h map[string]string
		e.call(t, "GET", "/healthz", "", nil, 200).decode(t, &h)
		if h["status"] != "ok" {
			t.Errorf("healthz %v", h)
		}
		e.call(t, "GET", "/readyz", "", nil, 200).decode(t, &h)
		if h["status"] != "ready" {
			t.Errorf("readyz %v", h)
		}

		sv := e.createService(t, "metrics")
		key := sv.Keys[0].Key
		e.ingest(t, sv.ID, key, "events", `{"summary":"down","severity":"critical","dedup_key":"m1"}`, "created")
		e.ingest(t, sv.ID, key, "events", `{"summary":"down","severity":"critical","dedup_key":"m1"}`, "deduplicated")
		e.fail(t, "POST", "/api/v1/integrations/"+key+"/events", "", `{`, 400, "")
		e.ingest(t, sv.ID, key, "alertmanager", amWebhook("firing", amAlert("firing", "db1", "")), "created")
		e.pagerDuty(t, sv.ID, "/v2/enqueue", map[string]any{"routing_key": key, "event_action": "acknowledge", "dedup_key": "m1"}, "acknowledged")

		m := e.metrics(t)
		for name, want := range map[string]float64{
			`firebreak_ingest_events_total{outcome="created",source="generic"}`:            1,
			`firebreak_ingest_events_total{outcome="deduplicated",source="generic"}`:       1,
			`firebreak_ingest_events_total{outcome="rejected",source="generic"}`:           1,
			`firebreak_ingest_events_total{outcome="created",source="alertmanager"}`:       1,
			`firebreak_ingest_events_total{outcome="acknowledged",source="pagerduty"}`:     1,
			`firebreak_ingest_request_duration_seconds_count{source="generic"}`:            3,
			`firebreak_ingest_request_duration_seconds_bucket{source="generic",le="+Inf"}`: 3,
			`firebreak_ingest_request_duration_seconds_count{source="pagerduty"}`:          1,
			`firebreak_incidents_open{level="P1"}`:                                         1,
		} {
			if got, ok := m[name]; !ok || got != want {
				t.Errorf("%s = %v (present %v), want %v", name, got, ok, want)
			}
		}

		// A firebreak whose database is gone is alive but not ready.
		dir, url := "", ""
		if e.dbURL != "" {
			url = testenv.PostgresURL(t)
		} else {
			dir = t.TempDir()
		}
		in, base, err := server.TestInstance(t.Context(), dir, url, apiAdminPassword)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = in.Close() })
		broken := &apiEnv{base: base, spec: e.spec, client: e.client}
		broken.call(t, "GET", "/readyz", "", nil, 200)
		if err := in.DB.Close(); err != nil {
			t.Fatal(err)
		}
		broken.call(t, "GET", "/readyz", "", nil, 503).decode(t, &h)
		if h["status"] != "unavailable" || h["error"] == "" {
			t.Errorf("readyz with the database closed: %v", h)
		}
		broken.call(t, "GET", "/healthz", "", nil, 200)
	})
}
