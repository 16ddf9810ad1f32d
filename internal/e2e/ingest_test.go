package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/firebreak/firebreak/internal/alert"
	"github.com/firebreak/firebreak/internal/incident"
)

// TestGenericBatch posts one request whose events depend on each other (a repeat,
// a resolve of an alert created earlier in the same request, an acknowledge of an
// unknown key) and checks each outcome and the stored result.
func TestGenericBatch(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			fb := startFirebreak(t, be.url(t))
			body := `{"events":[
				{"summary":"Checkout down","severity":"critical","dedup_key":"a","labels":{"env":"prod"}},
				{"summary":"Checkout still down","severity":"critical","dedup_key":"a"},
				{"summary":"Disk 91%","severity":"warning","dedup_key":"b"},
				{"action":"resolve","dedup_key":"b"},
				{"action":"acknowledge","dedup_key":"never-seen"},
				{"summary":"Info only","severity":"info","dedup_key":"c"}
			]}`
			got := fb.postGeneric(t, body)
			want := []alert.Outcome{alert.Created, alert.Deduplicated, alert.Created, alert.ResolvedOut, alert.Ignored, alert.Created}
			if len(got) != len(want) {
				t.Fatalf("outcomes: %+v", got)
			}
			for i, w := range want {
				if got[i].Outcome != w {
					t.Errorf("event %d (%s): outcome %s, want %s", i, got[i].DedupKey, got[i].Outcome, w)
				}
			}
			if got[0].AlertID == 0 || got[0].AlertID != got[1].AlertID || got[2].AlertID != got[3].AlertID || got[5].IncidentID != 0 {
				t.Errorf("ids: %+v", got)
			}
			incs := fb.incidents(t)
			if len(incs) != 1 || incs[0].Level != "P1" || incs[0].Status != incident.Triggered || incs[0].AlertCount != 2 {
				t.Fatalf("incidents: %s", describeIncidents(incs))
			}
			byKey := map[string]alert.Alert{}
			for _, a := range fb.alerts(t) {
				byKey[a.Fingerprint] = a
			}
			if a := byKey["a"]; a.RepeatCount != 2 || a.Summary != "Checkout still down" || a.Status != alert.Firing {
				t.Errorf("alert a: %+v", a)
			}
			if b := byKey["b"]; b.Status != alert.Resolved || b.IncidentID != incs[0].ID {
				t.Errorf("alert b: %+v", b)
			}
			if len(byKey) != 3 {
				t.Errorf("alerts: %s", describeAlerts(fb.alerts(t)))
			}

			// The same request again: every trigger repeats; the resolved alert fires again.
			got = fb.postGeneric(t, body)
			want = []alert.Outcome{alert.Deduplicated, alert.Deduplicated, alert.Created, alert.ResolvedOut, alert.Ignored, alert.Deduplicated}
			for i, w := range want {
				if got[i].Outcome != w {
					t.Errorf("again, event %d (%s): outcome %s, want %s", i, got[i].DedupKey, got[i].Outcome, w)
				}
			}
		})
	}
}

// TestWriterLargeBatch submits more events in one transaction than the writer
// looks up at once, then the same keys again, and checks every repeat is found.
func TestWriterLargeBatch(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			ctx := context.Background()
			fb := startFirebreak(t, be.url(t))
			events := func(from, to int) []alert.Event {
				var evs []alert.Event
				for i := from; i < to; i++ {
					evs = append(evs, alert.Event{ServiceID: fb.serviceID, Source: alert.SourceGeneric, Action: alert.Trigger,
						Fingerprint: fmt.Sprintf("k%05d", i), Summary: "load", Severity: alert.Info})
				}
				return evs
			}
			count := func(res []alert.Result) map[alert.Outcome]int {
				m := map[alert.Outcome]int{}
				for _, r := range res {
					m[r.Outcome]++
				}
				return m
			}
			res, err := fb.in.Web.Writer.Submit(ctx, events(0, 2500))
			if err != nil {
				t.Fatal(err)
			}
			if c := count(res); c[alert.Created] != 2500 {
				t.Fatalf("first submit: %v", c)
			}
			res, err = fb.in.Web.Writer.Submit(ctx, append(events(0, 2500), events(2500, 2510)...))
			if err != nil {
				t.Fatal(err)
			}
			if c := count(res); c[alert.Deduplicated] != 2500 || c[alert.Created] != 10 {
				t.Fatalf("second submit: %v", c)
			}
			var n, repeats int
			if err := fb.in.DB.R.QueryRowContext(ctx, `SELECT count(*), COALESCE(SUM(repeat_count), 0) FROM alerts`).Scan(&n, &repeats); err != nil {
				t.Fatal(err)
			}
			if n != 2510 || repeats != 5010 {
				t.Fatalf("stored %d alerts with %d sightings, want 2510 and 5010", n, repeats)
			}
		})
	}
}

type genericResult struct {
	DedupKey   string        `json:"dedup_key"`
	Outcome    alert.Outcome `json:"outcome"`
	AlertID    int64         `json:"alert_id"`
	IncidentID int64         `json:"incident_id"`
}

// postGeneric posts a body to the generic endpoint and returns the per-event results.
func (fb *firebreak) postGeneric(t *testing.T, body string) []genericResult {
	t.Helper()
	resp, err := fb.http.Post(fb.base+"/api/v1/integrations/"+fb.key+"/events", "application/json", bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("post: %s: %s", resp.Status, raw)
	}
	var out struct {
		Status string          `json:"status"`
		Events []genericResult `json:"events"`
	}
	if err := json.Unmarshal(raw, &out); err != nil || out.Status != "accepted" {
		t.Fatalf("response %s: %v", raw, err)
	}
	return out.Events
}
