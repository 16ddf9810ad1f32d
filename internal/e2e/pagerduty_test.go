package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PagerDuty/go-pagerduty"

	"github.com/firebreak/firebreak/internal/alert"
	"github.com/firebreak/firebreak/internal/incident"
)

// TestPagerDutyClient drives firebreak's Events API v2 endpoint with the official
// PagerDuty Go client (github.com/PagerDuty/go-pagerduty), pointed at firebreak
// with WithV2EventsAPIEndpoint: trigger with and without a dedup key, a repeat,
// acknowledge and resolve. Every accepted event is committed before the client
// gets its answer, so the checks read the store without waiting.
func TestPagerDutyClient(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			ctx := context.Background()
			fb := startFirebreak(t, be.url(t))
			pd := pagerduty.NewClient("", pagerduty.WithV2EventsAPIEndpoint(fb.base))
			pd.HTTPClient = fb.http
			send := func(e pagerduty.V2Event) *pagerduty.V2EventResponse {
				t.Helper()
				resp, err := pd.ManageEventWithContext(ctx, &e)
				if err != nil {
					t.Fatalf("%s %q: %v", e.Action, e.DedupKey, err)
				}
				if resp.Status != "success" || resp.Message != "Event processed" {
					t.Fatalf("%s %q: response %+v", e.Action, e.DedupKey, resp)
				}
				return resp
			}
			payload := &pagerduty.V2Payload{Summary: "Checkout 5xx above 5%", Source: "checkout-1.prod", Severity: "critical",
				Component: "checkout", Group: "prod", Class: "http", Details: map[string]any{"rate": 0.071, "window": "5m"}}

			// Trigger with a dedup key: the key comes back.
			r := send(pagerduty.V2Event{RoutingKey: fb.key, Action: "trigger", DedupKey: "checkout-5xx", Payload: payload,
				Client: "Prometheus", ClientURL: "http://prometheus.example/alerts"})
			if r.DedupKey != "checkout-5xx" {
				t.Fatalf("trigger with dedup_key: got key %q", r.DedupKey)
			}
			incs := fb.incidents(t)
			if len(incs) != 1 || incs[0].Level != "P1" || incs[0].Status != incident.Triggered || incs[0].Source != string(alert.SourcePagerDuty) {
				t.Fatalf("after trigger: %s", describeIncidents(incs))
			}
			inc := incs[0]

			// Trigger without one: firebreak makes one up and returns it.
			generated := send(pagerduty.V2Event{RoutingKey: fb.key, Action: "trigger",
				Payload: &pagerduty.V2Payload{Summary: "Checkout latency p99 above 2s", Source: "checkout-2.prod", Severity: "error"}}).DedupKey
			if generated == "" || generated == "checkout-5xx" {
				t.Fatalf("trigger without dedup_key: got key %q", generated)
			}

			// The same key again deduplicates: one alert, seen twice.
			if r := send(pagerduty.V2Event{RoutingKey: fb.key, Action: "trigger", DedupKey: "checkout-5xx", Payload: payload}); r.DedupKey != "checkout-5xx" {
				t.Fatalf("repeat: got key %q", r.DedupKey)
			}
			as := fb.alerts(t)
			byKey := map[string]alert.Alert{}
			for _, a := range as {
				byKey[a.Fingerprint] = a
			}
			keyed, gen := byKey["checkout-5xx"], byKey[generated]
			if len(as) != 2 || keyed.RepeatCount != 2 || gen.RepeatCount != 1 || keyed.IncidentID != inc.ID || gen.IncidentID != inc.ID {
				t.Fatalf("after repeat: %s", describeAlerts(as))
			}
			if keyed.Source != alert.SourcePagerDuty || keyed.Severity != alert.Critical || keyed.Summary != payload.Summary ||
				keyed.Labels["source"] != "checkout-1.prod" || keyed.Labels["component"] != "checkout" || keyed.Labels["class"] != "http" ||
				!strings.Contains(string(keyed.Details), `"window":"5m"`) {
				t.Errorf("stored alert: %+v details=%s", keyed, keyed.Details)
			}
			if incs := fb.incidents(t); len(incs) != 1 || incs[0].AlertCount != 2 {
				t.Fatalf("after repeat: %s", describeIncidents(incs))
			}

			// Acknowledge: the alert and its incident are acknowledged.
			send(pagerduty.V2Event{RoutingKey: fb.key, Action: "acknowledge", DedupKey: "checkout-5xx"})
			if got := fb.incident(t, inc.ID); got.Status != incident.Acknowledged || got.AcknowledgedAt.IsZero() {
				t.Fatalf("after acknowledge: %+v", got)
			}

			// Resolve both alerts: the incident resolves once the last one does.
			send(pagerduty.V2Event{RoutingKey: fb.key, Action: "resolve", DedupKey: "checkout-5xx"})
			if got := fb.incident(t, inc.ID); got.Status != incident.Acknowledged {
				t.Fatalf("one of two alerts resolved: incident %s, want still acknowledged", got.Status)
			}
			send(pagerduty.V2Event{RoutingKey: fb.key, Action: "resolve", DedupKey: generated})
			if got := fb.incident(t, inc.ID); got.Status != incident.Resolved || got.ResolvedAt.IsZero() {
				t.Fatalf("after resolve: %+v", got)
			}
			for _, a := range fb.alerts(t) {
				if a.Status != alert.Resolved {
					t.Errorf("alert not resolved: %+v", a)
				}
			}
			kinds, _ := fb.timelineKinds(t, inc.ID)
			want := map[string]int{incident.KindOpened: 1, incident.KindAlertAttached: 2, incident.KindAlertAcknowledged: 1,
				incident.KindAlertResolved: 2, incident.KindStatusChanged: 2}
			for k, n := range want {
				if kinds[k] != n {
					t.Errorf("timeline has %d %q entries, want %d; all: %v", kinds[k], k, n, kinds)
				}
			}
			if len(fb.incidents(t)) != 1 {
				t.Errorf("incidents: %s", describeIncidents(fb.incidents(t)))
			}
		})
	}
}

// TestPagerDutyClientErrors sends invalid events through both of the client's
// entry points and checks PagerDuty's error text reaches the caller.
//
// go-pagerduty v1.8.0 has two: the package-level ManageEventWithContext decodes
// Events API errors ({"status","message","errors"}) into EventsAPIV2Error, whose
// Error() carries the errors; but it always posts to
// https://events.pagerduty.com/v2/enqueue with http.DefaultClient. The
// (*Client).ManageEventWithContext method honours WithV2EventsAPIEndpoint, but
// decodes every error body as a REST API error ({"error":{...}}), so its
// APIError only says "HTTP response failed with status code 400 and no JSON error
// object was present" — for real PagerDuty as for firebreak. The test checks the
// status code there and reads PagerDuty's text from the captured response.
func TestPagerDutyClientErrors(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			ctx := context.Background()
			fb := startFirebreak(t, be.url(t))
			payload := &pagerduty.V2Payload{Summary: "disk full", Source: "db-1", Severity: "critical"}
			cases := []struct {
				name  string
				event pagerduty.V2Event
				want  string
			}{
				{"missing routing key", pagerduty.V2Event{Action: "trigger", Payload: payload}, "'routing_key' is missing or blank"},
				{"unknown routing key", pagerduty.V2Event{RoutingKey: "0123456789abcdef0123456789abcdef", Action: "trigger", Payload: payload}, "Invalid routing key"},
				{"unknown action", pagerduty.V2Event{RoutingKey: fb.key, Action: "escalate", Payload: payload}, "'event_action' is invalid"},
				{"missing summary", pagerduty.V2Event{RoutingKey: fb.key, Action: "trigger",
					Payload: &pagerduty.V2Payload{Source: "db-1", Severity: "critical"}}, "'payload.summary' is missing or blank"},
				{"resolve without dedup key", pagerduty.V2Event{RoutingKey: fb.key, Action: "resolve"}, "'dedup_key' is missing or blank"},
			}

			t.Run("package function", func(t *testing.T) {
				// The package-level function cannot be pointed elsewhere: route its
				// requests for events.pagerduty.com to firebreak, and nothing else anywhere.
				redirectDefaultClient(t, "events.pagerduty.com", fb.base)
				for _, c := range cases {
					resp, err := pagerduty.ManageEventWithContext(ctx, c.event)
					var pe pagerduty.EventsAPIV2Error
					if !errors.As(err, &pe) || !pe.BadRequest() || !pe.APIError.Valid {
						t.Errorf("%s: want a 400 EventsAPIV2Error, got %v (response %+v)", c.name, err, resp)
						continue
					}
					t.Logf("%s: package function error: %v", c.name, err)
					if !strings.Contains(err.Error(), c.want) || pe.APIError.ErrorObject.Status != "invalid event" ||
						pe.APIError.ErrorObject.Message != "Event object is invalid" {
						t.Errorf("%s: error %q, want it to contain %q", c.name, err, c.want)
					}
				}
			})

			t.Run("client method", func(t *testing.T) {
				pd := pagerduty.NewClient("", pagerduty.WithV2EventsAPIEndpoint(fb.base))
				pd.HTTPClient = fb.http
				pd.SetDebugFlag(pagerduty.DebugCaptureLastResponse)
				for _, c := range cases {
					resp, err := pd.ManageEventWithContext(ctx, &c.event)
					var ae pagerduty.APIError
					if !errors.As(err, &ae) || ae.StatusCode != http.StatusBadRequest {
						t.Errorf("%s: want a 400 APIError, got %v (response %+v)", c.name, err, resp)
						continue
					}
					t.Logf("%s: client error: %v", c.name, err)
					last, ok := pd.LastAPIResponse()
					if !ok {
						t.Fatalf("%s: no captured response", c.name)
					}
					body, _ := io.ReadAll(last.Body)
					if !strings.Contains(string(body), c.want) || !strings.Contains(string(body), `"status":"invalid event"`) {
						t.Errorf("%s: body %s, want it to contain %q", c.name, body, c.want)
					}
				}
			})

			if n := len(fb.alerts(t)); n != 0 {
				t.Errorf("invalid events stored %d alerts", n)
			}
		})
	}
}

// incident reads one incident.
func (fb *firebreak) incident(t *testing.T, id int64) incident.Incident {
	t.Helper()
	inc, err := fb.in.Web.Incidents.Get(context.Background(), id)
	if err != nil {
		t.Fatalf("get incident %d: %v", id, err)
	}
	return inc
}

// redirectDefaultClient sends http.DefaultClient's requests for host to base for
// the rest of the test and refuses every other host, so nothing leaves the
// machine. Tests using it must not run in parallel with others.
func redirectDefaultClient(t *testing.T, host, base string) {
	t.Helper()
	to, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{}
	old := http.DefaultClient.Transport
	http.DefaultClient.Transport = roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.URL.Host != host {
			return nil, fmt.Errorf("test transport: refusing request to %s", r.URL)
		}
		r = r.Clone(r.Context())
		r.URL.Scheme, r.URL.Host, r.Host = to.Scheme, to.Host, ""
		return tr.RoundTrip(r)
	})
	t.Cleanup(func() {
		http.DefaultClient.Transport = old
		tr.CloseIdleConnections()
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
