package web

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/firebreak/firebreak/internal/alert"
	"github.com/firebreak/firebreak/internal/service"
	"github.com/firebreak/firebreak/internal/signal"
)

// ingestResponse answers firebreak's own inbound endpoints.
type ingestResponse struct {
	Status string        `json:"status"`
	Events []eventResult `json:"events"`
}

type eventResult struct {
	DedupKey   string        `json:"dedup_key"`
	Outcome    alert.Outcome `json:"outcome"`
	AlertID    int64         `json:"alert_id,omitempty"`
	IncidentID int64         `json:"incident_id,omitempty"`
}

// store submits events to the group-commit writer and records metrics.
func (s *Server) storeEvents(ctx context.Context, source alert.Source, serviceID int64, evs []alert.Event) ([]alert.Result, error) {
	for i := range evs {
		evs[i].ServiceID = serviceID
	}
	res, err := s.Writer.Submit(ctx, evs)
	if err != nil {
		s.Metrics.Ingested.WithLabelValues(string(source), "failed").Add(float64(len(evs)))
		return nil, err
	}
	for _, r := range res {
		s.Metrics.Ingested.WithLabelValues(string(source), string(r.Outcome)).Inc()
	}
	return res, nil
}

func (s *Server) rejected(source alert.Source) {
	s.Metrics.Ingested.WithLabelValues(string(source), "rejected").Inc()
}

// keyed handles the formats whose integration key is in the URL.
func (s *Server) keyed(source alert.Source, parse func([]byte) ([]alert.Event, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		defer func() { s.Metrics.Latency.WithLabelValues(string(source)).Observe(time.Since(start).Seconds()) }()
		body, err := signal.ReadBody(r.Body)
		if err != nil {
			s.rejected(source)
			s.failErr(w, r, err)
			return
		}
		serviceID, err := s.Services.ByKey(r.Context(), r.PathValue("key"))
		if errors.Is(err, service.ErrNotFound) {
			s.rejected(source)
			s.fail(w, r, http.StatusNotFound, "key", "unknown integration key: copy the URL from the service's page")
			return
		}
		if err != nil {
			s.failErr(w, r, err)
			return
		}
		evs, err := parse(body)
		if err != nil {
			s.rejected(source)
			// Every parse error is the sender's: name the field when one is to blame.
			var fe *signal.FieldError
			if errors.As(err, &fe) {
				s.fail(w, r, http.StatusBadRequest, fe.Field, fe.Error())
			} else {
				s.fail(w, r, http.StatusBadRequest, "", err.Error())
			}
			return
		}
		res, err := s.storeEvents(r.Context(), source, serviceID, evs)
		if err != nil {
			s.failErr(w, r, err)
			return
		}
		out := ingestResponse{Status: "accepted", Events: make([]eventResult, len(res))}
		for i, x := range res {
			out.Events[i] = eventResult{DedupKey: x.Fingerprint, Outcome: x.Outcome, AlertID: x.AlertID, IncidentID: x.IncidentID}
		}
		writeJSON(w, http.StatusAccepted, out)
	}
}

func writeRaw(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// pagerDuty handles Events API v2 (/v2/enqueue) and v1 (create_event.json), answering
// with PagerDuty's own response shapes so existing clients work unchanged.
func (s *Server) pagerDuty(v1 bool) http.HandlerFunc {
	source := alert.SourcePagerDuty
	if v1 {
		source = alert.SourcePagerDutyV1
	}
	return func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		defer func() { s.Metrics.Latency.WithLabelValues(string(source)).Observe(time.Since(start).Seconds()) }()
		body, err := signal.ReadBody(r.Body)
		if err != nil {
			s.rejected(source)
			status := http.StatusBadRequest
			if errors.Is(err, signal.ErrTooLarge) {
				status = http.StatusRequestEntityTooLarge
			}
			writeRaw(w, status, signal.PagerDutyInvalid(err.Error()))
			return
		}
		var ev alert.Event
		var key string
		if v1 {
			ev, key, err = signal.ParsePagerDutyV1(body)
		} else {
			ev, key, err = signal.ParsePagerDutyV2(body)
		}
		if err != nil {
			s.rejected(source)
			writeRaw(w, http.StatusBadRequest, signal.PagerDutyInvalid(err.Error()))
			return
		}
		serviceID, err := s.Services.ByKey(r.Context(), key)
		if errors.Is(err, service.ErrNotFound) {
			s.rejected(source)
			writeRaw(w, http.StatusBadRequest, signal.PagerDutyInvalid(signal.ErrUnknownRoutingKey))
			return
		}
		if err != nil {
			s.failErr(w, r, err)
			return
		}
		res, err := s.storeEvents(r.Context(), source, serviceID, []alert.Event{ev})
		if err != nil {
			s.failErr(w, r, err)
			return
		}
		if v1 {
			writeRaw(w, http.StatusOK, signal.PagerDutyV1Accepted(res[0].Fingerprint))
			return
		}
		writeRaw(w, http.StatusAccepted, signal.PagerDutyAccepted(res[0].Fingerprint))
	}
}
