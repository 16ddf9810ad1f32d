package signal

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/firebreak/firebreak/internal/alert"
)

const amBody = `{
  "version": "4",
  "groupKey": "{}:{alertname=\"HighCPU\"}",
  "truncatedAlerts": 0,
  "status": "firing",
  "receiver": "firebreak",
  "groupLabels": {"alertname": "HighCPU"},
  "commonLabels": {"job": "node"},
  "commonAnnotations": {},
  "externalURL": "http://alertmanager.example.com:9093",
  "alerts": [
    {
      "status": "firing",
      "labels": {"alertname": "HighCPU", "instance": "db-1:9100", "job": "node", "severity": "page"},
      "annotations": {"summary": "  CPU above 80% on db-1 ", "description": "CPU is at 93%"},
      "startsAt": "2024-05-01T10:00:00.123Z",
      "endsAt": "0001-01-01T00:00:00Z",
      "generatorURL": "http://prometheus:9090/graph?g0.expr=cpu",
      "fingerprint": "a3c1b2d4e5f60718"
    },
    {
      "status": "resolved",
      "labels": {"alertname": "DiskFull", "instance": "db-2:9100", "job": "node"},
      "annotations": {"description": "/data is 95% full"},
      "startsAt": "2024-05-01T09:00:00Z",
      "endsAt": "2024-05-01T09:30:00+08:00",
      "generatorURL": "http://prometheus:9090/graph?g0.expr=disk"
    }
  ]
}`

const grafanaBody = `{
  "receiver": "firebreak",
  "status": "firing",
  "orgId": 1,
  "alerts": [
    {
      "status": "firing",
      "labels": {"alertname": "High memory usage", "team": "blue", "zone": "us-1", "severity": "Critical"},
      "annotations": {"description": "The system has high memory usage", "runbook_url": "https://runbooks.example.com/1234"},
      "startsAt": "2021-10-12T09:51:03.157076+02:00",
      "endsAt": "0001-01-01T00:00:00Z",
      "generatorURL": "https://grafana.example.com/alerting/1afz29v7z/edit",
      "fingerprint": "c6eadffa33fcdf37",
      "silenceURL": "https://grafana.example.com/alerting/silence/new?matchers=alertname%3DT2",
      "dashboardURL": "",
      "panelURL": "",
      "values": {"B": 44.23943737541908, "C": 1},
      "valueString": "[ var='B' value=44.23943737541908 ], [ var='C' value=1 ]"
    }
  ],
  "groupLabels": {},
  "commonLabels": {"alertname": "High memory usage", "team": "blue", "zone": "us-1"},
  "commonAnnotations": {},
  "externalURL": "https://grafana.example.com/",
  "version": "1",
  "groupKey": "{}:{alertname=\"High memory usage\"}",
  "truncatedAlerts": 0,
  "title": "[FIRING:1]  (High memory usage blue us-1)",
  "state": "alerting",
  "message": "**Firing**\n\nLabels:\n - alertname = High memory usage"
}`

const grafanaLegacyBody = `{
  "dashboardId": 1,
  "evalMatches": [{"value": 100, "metric": "High value", "tags": null}],
  "imageUrl": "https://grafana.example.com/render/d-solo/abc.png",
  "message": "Someone is testing the alert notification within Grafana.",
  "orgId": 0,
  "panelId": 1,
  "ruleId": 17,
  "ruleName": "Test notification",
  "ruleUrl": "https://grafana.example.com/d/abc?fullscreen&edit&tab=alert&panelId=1",
  "state": "alerting",
  "tags": {"severity": "error", "team": "db"},
  "title": "[Alerting] Test notification"
}`

const pdTrigger = `{
  "payload": {
    "summary": "Example alert on host1.example.com",
    "timestamp": "2015-07-17T08:42:58.315+0000",
    "source": "monitoringtool:cloudvendor:central-region-dc-01:852559987:cluster/api-stats-prod-003",
    "severity": "info",
    "component": "postgres",
    "group": "prod-datapipe",
    "class": "deploy",
    "custom_details": {"ping time": "1500ms", "load avg": 0.75}
  },
  "routing_key": "samplekeyhere",
  "dedup_key": "samplekeyhere",
  "images": [{"src": "https://example.com/logo.png", "href": "https://example.com/", "alt": "Example text"}],
  "links": [{"href": "https://example.com/", "text": "Link text"}],
  "event_action": "trigger",
  "client": "Sample Monitoring Service",
  "client_url": "https://monitoring.example.com"
}`

const pdV1Trigger = `{
  "service_key": "e93facc04764012d7bfb002500d5d1a6",
  "event_type": "trigger",
  "incident_key": "srv01/HTTP",
  "description": "FAILURE for production/HTTP on machine srv01.acme.com",
  "client": "Sample Monitoring Service",
  "client_url": "https://monitoring.service.com",
  "details": {"ping time": "1500ms", "load avg": 0.75},
  "contexts": [{"type": "link", "href": "http://acme.pagerduty.com"}]
}`

var hexKey = regexp.MustCompile(`^[0-9a-f]{32}$`)

// same compares two events, Details as JSON values and At as instants.
func same(t *testing.T, got, want alert.Event) {
	t.Helper()
	var gd, wd any
	if got.Details != nil {
		if err := json.Unmarshal(got.Details, &gd); err != nil {
			t.Fatalf("details %s: %v", got.Details, err)
		}
	}
	if want.Details != nil {
		_ = json.Unmarshal(want.Details, &wd)
	}
	if !reflect.DeepEqual(gd, wd) {
		t.Errorf("details = %s, want %s", got.Details, want.Details)
	}
	if !got.At.Equal(want.At) {
		t.Errorf("at = %v, want %v", got.At, want.At)
	}
	got.Details, want.Details, got.At, want.At = nil, nil, time.Time{}, time.Time{}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("event =\n%+v, want\n%+v", got, want)
	}
}

// wantField checks that err is a *FieldError on field whose message contains msg.
func wantField(t *testing.T, err error, field, msg string) {
	t.Helper()
	var fe *FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("err = %v (%T), want FieldError on %q", err, err, field)
	}
	if fe.Field != field || !strings.Contains(fe.Msg, msg) {
		t.Errorf("err = {%q %q}, want {%q …%q…}", fe.Field, fe.Msg, field, msg)
	}
}

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestAlertmanager(t *testing.T) {
	evs, err := ParseAlertmanager([]byte(amBody))
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 {
		t.Fatalf("got %d events, want 2", len(evs))
	}
	diskLabels := map[string]string{"alertname": "DiskFull", "instance": "db-2:9100", "job": "node"}
	same(t, evs[0], alert.Event{
		Source: alert.SourceAlertmanager, Action: alert.Trigger, Fingerprint: "a3c1b2d4e5f60718",
		Summary: "CPU above 80% on db-1", Severity: alert.Critical,
		Labels: map[string]string{"alertname": "HighCPU", "instance": "db-1:9100", "job": "node", "severity": "page"},
		Details: json.RawMessage(`{"annotations":{"summary":"  CPU above 80% on db-1 ","description":"CPU is at 93%"},
			"generatorURL":"http://prometheus:9090/graph?g0.expr=cpu","startsAt":"2024-05-01T10:00:00.123Z",
			"endsAt":"0001-01-01T00:00:00Z","externalURL":"http://alertmanager.example.com:9093"}`),
		At: ts("2024-05-01T10:00:00.123Z"),
	})
	same(t, evs[1], alert.Event{
		Source: alert.SourceAlertmanager, Action: alert.Resolve, Fingerprint: labelsFingerprint(diskLabels),
		Summary: "/data is 95% full", Severity: alert.Warning, Labels: diskLabels,
		Details: json.RawMessage(`{"annotations":{"description":"/data is 95% full"},
			"generatorURL":"http://prometheus:9090/graph?g0.expr=disk","startsAt":"2024-05-01T09:00:00Z",
			"endsAt":"2024-05-01T09:30:00+08:00","externalURL":"http://alertmanager.example.com:9093"}`),
		At: ts("2024-05-01T01:30:00Z"),
	})
	if fp := evs[1].Fingerprint; len(fp) != 16 || fp == labelsFingerprint(map[string]string{"alertname": "DiskFull"}) {
		t.Errorf("computed fingerprint %q", fp)
	}
}

func TestAlertmanagerSummaryFallback(t *testing.T) {
	for _, tc := range []struct{ alert, want string }{
		{`"labels":{"alertname":"Up"},"annotations":{"summary":" s ","description":"d"}`, "s"},
		{`"labels":{"alertname":"Up"},"annotations":{"summary":" ","description":"d"}`, "d"},
		{`"labels":{"alertname":"Up"}`, "Up"},
		{`"labels":{"job":"x"}`, "alert"},
		{`"labels":{"a":"b"},"annotations":{"summary":"` + strings.Repeat("é", 1100) + `"}`, strings.Repeat("é", 1024)},
	} {
		evs, err := ParseAlertmanager([]byte(`{"alerts":[{"status":"firing",` + tc.alert + `}]}`))
		if err != nil {
			t.Fatal(err)
		}
		if evs[0].Summary != tc.want {
			t.Errorf("%s: summary %.40q, want %.40q", tc.alert, evs[0].Summary, tc.want)
		}
		if !evs[0].At.IsZero() {
			t.Errorf("at = %v, want zero", evs[0].At)
		}
	}
	a, _ := ParseAlertmanager([]byte(`{"alerts":[{"status":"firing","labels":{"a":"1","b":"2"}}]}`))
	b, _ := ParseAlertmanager([]byte(`{"alerts":[{"status":"firing","labels":{"b":"2","a":"1"}}]}`))
	c, _ := ParseAlertmanager([]byte(`{"alerts":[{"status":"firing","labels":{"a":"1","b":"3"}}]}`))
	if a[0].Fingerprint != b[0].Fingerprint || a[0].Fingerprint == c[0].Fingerprint {
		t.Errorf("label fingerprints %s %s %s", a[0].Fingerprint, b[0].Fingerprint, c[0].Fingerprint)
	}
}

func TestMapSeverity(t *testing.T) {
	for in, want := range map[string]alert.Severity{
		"critical": alert.Critical, "PAGE": alert.Critical, "p1": alert.Critical, "high": alert.Critical,
		"emergency": alert.Critical, "fatal": alert.Critical, "error": alert.Error, "major": alert.Error,
		"err": alert.Error, "warning": alert.Warning, "warn": alert.Warning, "minor": alert.Warning,
		"medium": alert.Warning, "info": alert.Info, "Informational": alert.Info, "low": alert.Info,
		"none": alert.Info, "ok": alert.Info, "": alert.Warning, "bogus": alert.Warning, " error ": alert.Error,
	} {
		if got := MapSeverity(in); got != want {
			t.Errorf("MapSeverity(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestAlertmanagerErrors(t *testing.T) {
	alerts := func(s string) string { return `{"version":"4","alerts":[` + s + `]}` }
	ok := `{"status":"firing","labels":{"alertname":"A"}}`
	for _, tc := range []struct{ name, body, field, msg string }{
		{"version", `{"version":"3","alerts":[` + ok + `]}`, "version", "unsupported"},
		{"numeric version", `{"version":4,"alerts":[` + ok + `]}`, "version", "unsupported"},
		{"no alerts", `{"version":"4"}`, "alerts", "non-empty"},
		{"empty alerts", `{"alerts":[]}`, "alerts", "non-empty"},
		{"alerts not array", `{"alerts":{}}`, "alerts", "must be an array"},
		{"bad status", alerts(ok + "," + ok + "," + ok + `,{"status":"pending","labels":{"a":"b"}}`), "alerts[3].status", "firing"},
		{"missing status", alerts(`{"labels":{"a":"b"}}`), "alerts[0].status", "firing"},
		{"status type", alerts(`{"status":1}`), "alerts[0].status", "must be a string"},
		{"entry type", alerts(ok + `,"x"`), "alerts[1]", "must be an object"},
		{"label type", alerts(`{"status":"firing","labels":{"a":"b","z":1}}`), "alerts[0].labels.z", "must be a string"},
		{"labels type", alerts(`{"status":"firing","labels":[]}`), "alerts[0].labels", "object"},
		{"annotation type", alerts(`{"status":"firing","labels":{"a":"b"},"annotations":{"summary":null}}`), "alerts[0].annotations.summary", "must be a string"},
		{"no labels no fingerprint", alerts(`{"status":"firing"}`), "alerts[0].labels", "fingerprint"},
		{"utf-8 label", alerts(ok + ",{\"status\":\"firing\",\"labels\":{\"env\":\"pr\xffod\"}}"), "alerts[1].labels.env", "utf-8"},
		{"utf-8 summary", alerts("{\"status\":\"firing\",\"labels\":{\"a\":\"b\"},\"annotations\":{\"summary\":\"\xc3\"}}"), "alerts[0].annotations.summary", "utf-8"},
		{"body array", `[1]`, "", "body must be an object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseAlertmanager([]byte(tc.body))
			wantField(t, err, tc.field, tc.msg)
		})
	}
	var se *json.SyntaxError
	if _, err := ParseAlertmanager([]byte(`{"alerts":`)); !errors.As(err, &se) {
		t.Errorf("truncated json: err = %v, want a wrapped SyntaxError", err)
	}
	big := `{"alerts":[` + ok + `],"pad":"` + strings.Repeat("x", MaxBody) + `"}`
	if _, err := ParseAlertmanager([]byte(big)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized body: err = %v", err)
	}
}

func TestGrafana(t *testing.T) {
	evs, err := ParseGrafana([]byte(grafanaBody))
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 {
		t.Fatalf("got %d events", len(evs))
	}
	same(t, evs[0], alert.Event{
		Source: alert.SourceGrafana, Action: alert.Trigger, Fingerprint: "c6eadffa33fcdf37",
		Summary: "The system has high memory usage", Severity: alert.Critical,
		Labels: map[string]string{"alertname": "High memory usage", "team": "blue", "zone": "us-1", "severity": "Critical"},
		Details: json.RawMessage(`{"annotations":{"description":"The system has high memory usage","runbook_url":"https://runbooks.example.com/1234"},
			"generatorURL":"https://grafana.example.com/alerting/1afz29v7z/edit","startsAt":"2021-10-12T09:51:03.157076+02:00",
			"endsAt":"0001-01-01T00:00:00Z","externalURL":"https://grafana.example.com/",
			"silenceURL":"https://grafana.example.com/alerting/silence/new?matchers=alertname%3DT2",
			"values":{"B":44.23943737541908,"C":1},"valueString":"[ var='B' value=44.23943737541908 ], [ var='C' value=1 ]"}`),
		At: ts("2021-10-12T07:51:03.157076Z"),
	})
	if _, err := ParseAlertmanager([]byte(grafanaBody)); err == nil {
		t.Error("Alertmanager accepted a version 1 payload")
	}
}

func TestGrafanaLegacy(t *testing.T) {
	evs, err := ParseGrafana([]byte(grafanaLegacyBody))
	if err != nil {
		t.Fatal(err)
	}
	same(t, evs[0], alert.Event{
		Source: alert.SourceGrafana, Action: alert.Trigger, Fingerprint: "17",
		Summary: "[Alerting] Test notification", Severity: alert.Error,
		Labels: map[string]string{"severity": "error", "team": "db"},
		Details: json.RawMessage(`{"message":"Someone is testing the alert notification within Grafana.",
			"ruleUrl":"https://grafana.example.com/d/abc?fullscreen&edit&tab=alert&panelId=1",
			"imageUrl":"https://grafana.example.com/render/d-solo/abc.png",
			"evalMatches":[{"value":100,"metric":"High value","tags":null}]}`),
	})
	for _, tc := range []struct {
		name, body string
		action     alert.Action
		fp, field  string
	}{
		{"ok resolves", `{"ruleId":3,"state":"ok","title":"t"}`, alert.Resolve, "3", ""},
		{"no_data triggers", `{"ruleId":3,"state":"no_data"}`, alert.Trigger, "3", ""},
		{"rule name", `{"ruleName":"CPU","state":"alerting"}`, alert.Trigger, "CPU", ""},
		{"paused", `{"ruleId":3,"state":"paused"}`, "", "", "state"},
		{"pending", `{"ruleId":3,"state":"pending"}`, "", "", "state"},
		{"no rule", `{"evalMatches":[],"state":"alerting"}`, "", "", "ruleId"},
		{"rule type", `{"ruleId":{},"state":"alerting"}`, "", "", "ruleId"},
		{"tag type", `{"ruleId":3,"state":"alerting","tags":{"a":true}}`, "", "", "tags.a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			evs, err := ParseGrafana([]byte(tc.body))
			if tc.field != "" {
				wantField(t, err, tc.field, "")
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if evs[0].Action != tc.action || evs[0].Fingerprint != tc.fp || evs[0].Severity != alert.Warning {
				t.Errorf("got %+v", evs[0])
			}
		})
	}
	_, err = ParseGrafana([]byte(`{"title":"x","state":"alerting"}`))
	wantField(t, err, "alerts", "non-empty")
}

func TestGeneric(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       []alert.Event // a Fingerprint of "?" means a generated key
	}{
		{"single", `{"summary":" Disk full on db-1 ","severity":"critical","dedup_key":"db-1/disk",
			"labels":{"host":"db-1"},"details":{"free":"1%"},"timestamp":"2024-05-01T10:00:00+02:00"}`,
			[]alert.Event{{Source: alert.SourceGeneric, Action: alert.Trigger, Fingerprint: "db-1/disk",
				Summary: "Disk full on db-1", Severity: alert.Critical, Labels: map[string]string{"host": "db-1"},
				Details: json.RawMessage(`{"free":"1%"}`), At: ts("2024-05-01T08:00:00Z")}}},
		{"defaults", `{"summary":"x"}`,
			[]alert.Event{{Source: alert.SourceGeneric, Action: alert.Trigger, Fingerprint: "?", Summary: "x", Severity: alert.Error}}},
		{"array", `[{"summary":"a","severity":"info"},{"action":"resolve","dedup_key":"k"}]`,
			[]alert.Event{
				{Source: alert.SourceGeneric, Action: alert.Trigger, Fingerprint: "?", Summary: "a", Severity: alert.Info},
				{Source: alert.SourceGeneric, Action: alert.Resolve, Fingerprint: "k", Severity: alert.Error},
			}},
		{"events wrapper", `{"events":[{"summary":"a","details":null},{"action":"acknowledge","dedup_key":"k","summary":"b"}]}`,
			[]alert.Event{
				{Source: alert.SourceGeneric, Action: alert.Trigger, Fingerprint: "?", Summary: "a", Severity: alert.Error},
				{Source: alert.SourceGeneric, Action: alert.Acknowledge, Fingerprint: "k", Summary: "b", Severity: alert.Error},
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			evs, err := ParseGeneric([]byte(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) != len(tc.want) {
				t.Fatalf("got %d events, want %d", len(evs), len(tc.want))
			}
			for i, want := range tc.want {
				if want.Fingerprint == "?" {
					if !hexKey.MatchString(evs[i].Fingerprint) {
						t.Errorf("generated key %q", evs[i].Fingerprint)
					}
					want.Fingerprint = evs[i].Fingerprint
				}
				same(t, evs[i], want)
			}
		})
	}
}

func TestGenericErrors(t *testing.T) {
	many := "[" + strings.Repeat(`{"summary":"x"},`, MaxEvents) + `{"summary":"x"}]`
	for _, tc := range []struct{ name, body, field, msg string }{
		{"unknown field", `{"summary":"x","sevrity":"info"}`, "sevrity", "unknown field"},
		{"unknown field in array", `[{"summary":"x"},{"summary":"x"},{"summary":"x","host":"a"}]`, "events[2].host", "unknown field"},
		{"unknown wrapper field", `{"events":[{"summary":"x"}],"source":"y"}`, "source", "unknown field"},
		{"label not string", `{"summary":"x","labels":{"env":"prod","x":1}}`, "labels.x", "must be a string"},
		{"label in array", `{"events":[{"summary":"x","labels":{"x":{}}}]}`, "events[0].labels.x", "must be a string"},
		{"missing summary", `{"severity":"info"}`, "summary", "required"},
		{"blank summary in array", `[{"summary":"x"},{"summary":"  "}]`, "events[1].summary", "required"},
		{"summary type", `{"summary":5}`, "summary", "must be a string"},
		{"long summary", `{"summary":"` + strings.Repeat("a", 1025) + `"}`, "summary", "1024"},
		{"bad severity", `{"summary":"x","severity":"high"}`, "severity", "critical, error"},
		{"bad action", `{"summary":"x","action":"close"}`, "action", "trigger"},
		{"resolve without key", `{"action":"resolve"}`, "dedup_key", "required to resolve"},
		{"ack without key", `[{"action":"acknowledge","dedup_key":" "}]`, "events[0].dedup_key", "required to acknowledge"},
		{"long key", `{"summary":"x","dedup_key":"` + strings.Repeat("k", 256) + `"}`, "dedup_key", "255"},
		{"details array", `{"summary":"x","details":[1]}`, "details", "must be an object"},
		{"bad timestamp", `{"summary":"x","timestamp":"yesterday"}`, "timestamp", "RFC 3339"},
		{"empty array", `[]`, "events", "must not be empty"},
		{"empty events", `{"events":[]}`, "events", "must not be empty"},
		{"events not array", `{"events":{}}`, "events", "must be an array"},
		{"null element", `[{"summary":"x"},null]`, "events[1]", "must be an object"},
		{"scalar element", `[{"summary":"x"},"y"]`, "events[1]", "must be an object"},
		{"too many", many, "events", "at most 1000"},
		{"scalar body", `"x"`, "", "object or an array"},
		{"utf-8 summary", "[{\"summary\":\"x\"},{\"summary\":\"a\xe2\x28\"}]", "events[1].summary", "utf-8"},
		{"utf-8 label", "{\"summary\":\"x\",\"labels\":{\"a\":\"\xff\"}}", "labels.a", "utf-8"},
		{"utf-8 label key", "{\"summary\":\"x\",\"labels\":{\"a\":\"b\",\"\xff\":\"c\"}}", "labels.\ufffd", "utf-8"},
		{"utf-8 details", "{\"summary\":\"x\",\"details\":{\"a\":[1,{\"b\":\"\xff\"}]}}", "details.a[1].b", "utf-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseGeneric([]byte(tc.body))
			wantField(t, err, tc.field, tc.msg)
		})
	}
	if _, err := ParseGeneric([]byte(`{"summary":"x"} {}`)); err == nil || errors.As(err, new(*FieldError)) {
		t.Errorf("trailing data: err = %v", err)
	}
}

func TestPagerDutyV2(t *testing.T) {
	ev, key, err := ParsePagerDutyV2([]byte(pdTrigger))
	if err != nil {
		t.Fatal(err)
	}
	if key != "samplekeyhere" {
		t.Errorf("routing key %q", key)
	}
	same(t, ev, alert.Event{
		Source: alert.SourcePagerDuty, Action: alert.Trigger, Fingerprint: "samplekeyhere",
		Summary: "Example alert on host1.example.com", Severity: alert.Info,
		Labels: map[string]string{"source": "monitoringtool:cloudvendor:central-region-dc-01:852559987:cluster/api-stats-prod-003",
			"component": "postgres", "group": "prod-datapipe", "class": "deploy"},
		Details: json.RawMessage(`{"custom_details":{"ping time":"1500ms","load avg":0.75},
			"links":[{"href":"https://example.com/","text":"Link text"}],
			"images":[{"src":"https://example.com/logo.png","href":"https://example.com/","alt":"Example text"}],
			"client":"Sample Monitoring Service","client_url":"https://monitoring.example.com"}`),
		At: ts("2015-07-17T08:42:58.315Z"),
	})

	for _, tc := range []struct {
		name, body string
		want       alert.Event
	}{
		{"ack", `{"routing_key":"rk","dedup_key":"dk","event_action":"acknowledge"}`,
			alert.Event{Source: alert.SourcePagerDuty, Action: alert.Acknowledge, Fingerprint: "dk", Severity: alert.Error}},
		{"resolve", `{"routing_key":"rk","dedup_key":"dk","event_action":"resolve","payload":{"summary":" done "}}`,
			alert.Event{Source: alert.SourcePagerDuty, Action: alert.Resolve, Fingerprint: "dk", Summary: "done", Severity: alert.Error}},
		{"generated key", `{"routing_key":"rk","event_action":"trigger","payload":{"summary":"s","source":"h","severity":"warning","custom_details":"free text"}}`,
			alert.Event{Source: alert.SourcePagerDuty, Action: alert.Trigger, Fingerprint: "?", Summary: "s", Severity: alert.Warning,
				Labels: map[string]string{"source": "h"}, Details: json.RawMessage(`{"custom_details":"free text"}`)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev, key, err := ParsePagerDutyV2([]byte(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if key != "rk" {
				t.Errorf("routing key %q", key)
			}
			if tc.want.Fingerprint == "?" {
				if !hexKey.MatchString(ev.Fingerprint) {
					t.Errorf("generated key %q", ev.Fingerprint)
				}
				tc.want.Fingerprint = ev.Fingerprint
			}
			same(t, ev, tc.want)
		})
	}
}

func TestPagerDutyV2Errors(t *testing.T) {
	trig := func(payload string) string {
		return `{"routing_key":"rk","event_action":"trigger","payload":{` + payload + `}}`
	}
	for _, tc := range []struct{ name, body, field, msg string }{
		{"no routing key", `{"event_action":"trigger"}`, "routing_key", "'routing_key' is missing or blank"},
		{"blank routing key", `{"routing_key":"  ","event_action":"trigger"}`, "routing_key", "'routing_key' is missing or blank"},
		{"long routing key", `{"routing_key":"` + strings.Repeat("r", 129) + `","event_action":"trigger"}`, "routing_key", "'routing_key' is invalid"},
		{"routing key type", `{"routing_key":32,"event_action":"trigger"}`, "routing_key", "'routing_key' is invalid"},
		{"no action", `{"routing_key":"rk"}`, "event_action", "'event_action' is missing or blank"},
		{"bad action", `{"routing_key":"rk","event_action":"escalate"}`, "event_action", "'event_action' is invalid"},
		{"no payload", `{"routing_key":"rk","event_action":"trigger"}`, "payload", "'payload' is missing or blank"},
		{"payload type", `{"routing_key":"rk","event_action":"trigger","payload":"x"}`, "payload", "'payload' is invalid"},
		{"no summary", trig(`"source":"h","severity":"info"`), "payload.summary", "'payload.summary' is missing or blank"},
		{"long summary", trig(`"summary":"` + strings.Repeat("s", 1025) + `","source":"h","severity":"info"`), "payload.summary", "'payload.summary' is too long (maximum is 1024 characters)"},
		{"no source", trig(`"summary":"s","severity":"info"`), "payload.source", "'payload.source' is missing or blank"},
		{"no severity", trig(`"summary":"s","source":"h"`), "payload.severity", "'payload.severity' is missing or blank"},
		{"bad severity", trig(`"summary":"s","source":"h","severity":"high"`), "payload.severity", "'payload.severity' is invalid"},
		{"severity type", trig(`"summary":"s","source":"h","severity":2`), "payload.severity", "'payload.severity' is invalid"},
		{"bad timestamp", trig(`"summary":"s","source":"h","severity":"info","timestamp":"now"`), "payload.timestamp", "'payload.timestamp' is invalid"},
		{"long dedup key", `{"routing_key":"rk","event_action":"resolve","dedup_key":"` + strings.Repeat("d", 256) + `"}`, "dedup_key", "maximum is 255"},
		{"resolve without key", `{"routing_key":"rk","event_action":"resolve"}`, "dedup_key", "'dedup_key' is missing or blank"},
		{"ack without key", `{"routing_key":"rk","event_action":"acknowledge","dedup_key":""}`, "dedup_key", "'dedup_key' is missing or blank"},
		{"links type", `{"routing_key":"rk","event_action":"resolve","dedup_key":"d","links":{}}`, "links", "'links' is invalid"},
		{"utf-8 summary", trig("\"summary\":\"\xff\",\"source\":\"h\",\"severity\":\"info\""), "payload.summary", "utf-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := ParsePagerDutyV2([]byte(tc.body))
			wantField(t, err, tc.field, tc.msg)
		})
	}
}

func TestPagerDutyV1(t *testing.T) {
	ev, key, err := ParsePagerDutyV1([]byte(pdV1Trigger))
	if err != nil {
		t.Fatal(err)
	}
	if key != "e93facc04764012d7bfb002500d5d1a6" {
		t.Errorf("service key %q", key)
	}
	same(t, ev, alert.Event{
		Source: alert.SourcePagerDutyV1, Action: alert.Trigger, Fingerprint: "srv01/HTTP",
		Summary: "FAILURE for production/HTTP on machine srv01.acme.com", Severity: alert.Error,
		Details: json.RawMessage(`{"details":{"ping time":"1500ms","load avg":0.75},"client":"Sample Monitoring Service",
			"client_url":"https://monitoring.service.com","contexts":[{"type":"link","href":"http://acme.pagerduty.com"}]}`),
	})
	ev, _, err = ParsePagerDutyV1([]byte(`{"service_key":"sk","event_type":"trigger","description":"d"}`))
	if err != nil || !hexKey.MatchString(ev.Fingerprint) || ev.Details != nil {
		t.Errorf("generated key: %+v, %v", ev, err)
	}
	ev, _, err = ParsePagerDutyV1([]byte(`{"service_key":"sk","event_type":"resolve","incident_key":"srv01/HTTP"}`))
	if err != nil || ev.Action != alert.Resolve || ev.Fingerprint != "srv01/HTTP" {
		t.Errorf("resolve: %+v, %v", ev, err)
	}
	for _, tc := range []struct{ name, body, field, msg string }{
		{"no service key", `{"event_type":"trigger","description":"d"}`, "service_key", "'service_key' is missing or blank"},
		{"no event type", `{"service_key":"sk","description":"d"}`, "event_type", "'event_type' is missing or blank"},
		{"bad event type", `{"service_key":"sk","event_type":"fire"}`, "event_type", "'event_type' is invalid"},
		{"no description", `{"service_key":"sk","event_type":"trigger"}`, "description", "'description' is missing or blank"},
		{"long description", `{"service_key":"sk","event_type":"trigger","description":"` + strings.Repeat("d", 1025) + `"}`, "description", "too long"},
		{"ack without key", `{"service_key":"sk","event_type":"acknowledge"}`, "incident_key", "'incident_key' is missing or blank"},
		{"details string", `{"service_key":"sk","event_type":"trigger","description":"d","details":"x"}`, "details", "'details' is invalid"},
		{"contexts type", `{"service_key":"sk","event_type":"trigger","description":"d","contexts":{}}`, "contexts", "'contexts' is invalid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := ParsePagerDutyV1([]byte(tc.body))
			wantField(t, err, tc.field, tc.msg)
		})
	}
}

func TestResponses(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{string(PagerDutyAccepted("abc")), `{"status":"success","message":"Event processed","dedup_key":"abc"}`},
		{string(PagerDutyV1Accepted("srv01/HTTP")), `{"status":"success","message":"Event processed","incident_key":"srv01/HTTP"}`},
		{string(PagerDutyInvalid(ErrUnknownRoutingKey)), `{"status":"invalid event","message":"Event object is invalid","errors":["Invalid routing key"]}`},
		{string(PagerDutyInvalid()), `{"status":"invalid event","message":"Event object is invalid","errors":[]}`},
	} {
		if tc.got != tc.want {
			t.Errorf("got  %s\nwant %s", tc.got, tc.want)
		}
	}
	_, _, err := ParsePagerDutyV2([]byte(`{"event_action":"trigger"}`))
	if got := string(PagerDutyInvalid(err.Error())); !strings.Contains(got, `"errors":["'routing_key' is missing or blank"]`) {
		t.Errorf("invalid body %s", got)
	}

	for _, tc := range []struct {
		err  error
		code int
		body string
	}{
		{&FieldError{"alerts[3].status", "bad"}, 400, `{"error":"bad","field":"alerts[3].status"}`},
		{ErrTooLarge, 413, `{"error":"body exceeds 512 KB"}`},
	} {
		rec := httptest.NewRecorder()
		WriteError(rec, tc.err)
		if rec.Code != tc.code || strings.TrimSpace(rec.Body.String()) != tc.body {
			t.Errorf("WriteError(%v) = %d %s", tc.err, rec.Code, rec.Body)
		}
	}
	if got := (&FieldError{"labels.x", "must be a string"}).Error(); got != "labels.x: must be a string" {
		t.Errorf("Error() = %q", got)
	}
	if _, err := ReadBody(bytes.NewReader(make([]byte, MaxBody+1))); !errors.Is(err, ErrTooLarge) {
		t.Errorf("ReadBody: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{amBody, grafanaBody, grafanaLegacyBody, pdTrigger, pdV1Trigger,
		`{"summary":"x"}`, `[{"summary":"x","labels":{"a":"b"}}]`, `{"events":[{"action":"resolve","dedup_key":"k"}]}`,
		"{\"a\":[\"\xff\",{\"b\":1}]}", `null`, `[]`, `{}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		check := func(format string, ev alert.Event) {
			if ev.Fingerprint == "" || !ev.Action.Valid() || !ev.Severity.Valid() {
				t.Errorf("%s: incomplete event %+v", format, ev)
			}
			if ev.Details != nil && (!json.Valid(ev.Details) || ev.Details[0] != '{') {
				t.Errorf("%s: details %s", format, ev.Details)
			}
		}
		for name, parse := range map[string]func([]byte) ([]alert.Event, error){
			"alertmanager": ParseAlertmanager, "grafana": ParseGrafana, "generic": ParseGeneric,
		} {
			evs, err := parse(body)
			if err == nil && len(evs) == 0 {
				t.Errorf("%s: no events and no error", name)
			}
			for _, ev := range evs {
				check(name, ev)
			}
		}
		if ev, key, err := ParsePagerDutyV2(body); err == nil {
			check("pagerduty", ev)
			if key == "" {
				t.Error("pagerduty: empty routing key")
			}
		}
		if ev, key, err := ParsePagerDutyV1(body); err == nil {
			check("pagerduty v1", ev)
			if key == "" {
				t.Error("pagerduty v1: empty service key")
			}
		}
	})
}
