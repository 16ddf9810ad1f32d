package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/firebreak/firebreak/internal/escalation"
)

// targetBody is one target of a step: a user (by username), a schedule, team
// or channel (by slug).
type targetBody struct {
	Kind string `json:"kind"`
	ID   string `json:"id"`
}

// stepBody is one step; after is a duration such as "10m" or seconds.
type stepBody struct {
	After   json.RawMessage `json:"after"`
	Targets []targetBody    `json:"targets"`
}

// policyBody is an escalation policy as the API takes it (whole).
type policyBody struct {
	Slug        string          `json:"slug"`
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Repeat      int             `json:"repeat"`
	AckTimeout  json.RawMessage `json:"ack_timeout"`
	Steps       []stepBody      `json:"steps"`
}

// duration reads a duration as escalation.Duration does; absent or null is 0.
func duration(field string, raw json.RawMessage) (escalation.Duration, error) {
	var d escalation.Duration
	if len(raw) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return 0, nil
	}
	if err := d.UnmarshalJSON(raw); err != nil {
		return 0, &escalation.FieldError{Field: field, Msg: "must be " + strings.TrimPrefix(err.Error(), "must be ")}
	}
	return d, nil
}

func (b policyBody) input() (escalation.Input, error) {
	in := escalation.Input{Slug: strings.TrimSpace(b.Slug), Name: strings.TrimSpace(b.Name), Description: strings.TrimSpace(b.Description),
		Repeat: b.Repeat, Steps: []escalation.StepRecord{}}
	var err error
	if in.AckTimeout, err = duration("ack_timeout", b.AckTimeout); err != nil {
		return in, err
	}
	for i, st := range b.Steps {
		after, err := duration(fmt.Sprintf("steps[%d].after", i), st.After)
		if err != nil {
			return in, err
		}
		sr := escalation.StepRecord{After: after, Targets: []escalation.Target{}}
		for _, t := range st.Targets {
			sr.Targets = append(sr.Targets, escalation.Target{Kind: strings.TrimSpace(t.Kind), ID: strings.TrimSpace(t.ID)})
		}
		in.Steps = append(in.Steps, sr)
	}
	return in, nil
}

func (s *Server) pathPolicy(w http.ResponseWriter, r *http.Request) (escalation.Record, bool) {
	id, err := pathID(r, "id")
	var p escalation.Record
	if err == nil {
		p, err = s.Policies.Get(r.Context(), id)
	}
	if err != nil {
		s.oncallFail(w, r, err)
		return p, false
	}
	return p, true
}

func (s *Server) apiListPolicies(w http.ResponseWriter, r *http.Request) {
	ps, err := s.Policies.List(r.Context())
	if err != nil {
		s.oncallFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, page[escalation.Record]{Items: ps})
}

func (s *Server) apiCreatePolicy(w http.ResponseWriter, r *http.Request) {
	var b policyBody
	if err := decode(r, &b); err != nil {
		s.failErr(w, r, err)
		return
	}
	in, err := b.input()
	var p escalation.Record
	if err == nil {
		p, err = s.Policies.Create(r.Context(), in)
	}
	if err != nil {
		s.oncallFail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/escalation-policies/"+strconv.FormatInt(p.ID, 10))
	writeJSON(w, http.StatusCreated, p)
}

func (s *Server) apiGetPolicy(w http.ResponseWriter, r *http.Request) {
	if p, ok := s.pathPolicy(w, r); ok {
		writeJSON(w, http.StatusOK, p)
	}
}

func (s *Server) apiUpdatePolicy(w http.ResponseWriter, r *http.Request) {
	cur, ok := s.pathPolicy(w, r)
	if !ok {
		return
	}
	var b policyBody
	if err := decode(r, &b); err != nil {
		s.failErr(w, r, err)
		return
	}
	in, err := b.input()
	if err == nil && cur.Source == "plan" {
		err = errPlanPolicy
	}
	var p escalation.Record
	if err == nil {
		p, err = s.Policies.Update(r.Context(), cur.ID, in)
	}
	if err != nil {
		s.oncallFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func (s *Server) apiDeletePolicy(w http.ResponseWriter, r *http.Request) {
	cur, ok := s.pathPolicy(w, r)
	if !ok {
		return
	}
	if cur.Source == "plan" {
		s.oncallFail(w, r, errPlanPolicy)
		return
	}
	if err := s.Policies.Delete(r.Context(), cur.ID); err != nil {
		s.oncallFail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// policiesTargeting returns the slugs of the policies with a step paging the
// target kind:slug (a channel also as the plan's "contact").
func (s *Server) policiesTargeting(ctx context.Context, kind, slug string) ([]string, error) {
	ps, err := s.Policies.List(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, p := range ps {
	steps:
		for _, st := range p.Steps {
			for _, t := range st.Targets {
				if t.ID == slug && (t.Kind == kind || (kind == escalation.KindChannel && t.Kind == escalation.KindContact)) {
					out = append(out, p.Slug)
					break steps
				}
			}
		}
	}
	return out, nil
}

// slugInUse refuses to rename (to newSlug) or delete (newSlug "") a schedule,
// team or channel escalation policies page by its slug: they would page
// nobody, silently.
func (s *Server) slugInUse(ctx context.Context, kind, slug, newSlug string) error {
	if newSlug != "" && strings.TrimSpace(newSlug) == slug {
		return nil
	}
	ps, err := s.policiesTargeting(ctx, kind, slug)
	if err != nil || len(ps) == 0 {
		return err
	}
	what := "delete"
	field := ""
	if newSlug != "" {
		what, field = "rename", "slug"
	}
	return &jsonError{http.StatusConflict, field, fmt.Sprintf("cannot %s %s %q: escalation policies page it (%s); take it out of their steps first",
		what, kind, slug, strings.Join(ps, ", "))}
}

// durationText writes a policy duration for forms: "10m", "1h30m", "0".
func durationText(d escalation.Duration) string {
	v := time.Duration(d)
	if v == 0 {
		return "0"
	}
	s := v.String()
	s = strings.TrimSuffix(s, "0s")
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
