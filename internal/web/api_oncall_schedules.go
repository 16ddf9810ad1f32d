package web

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/firebreak/firebreak/internal/auth"
	"github.com/firebreak/firebreak/internal/oncall"
)

// layerBody is one rotation of a schedule as the API takes it.
type layerBody struct {
	Name               string              `json:"name"`
	Start              string              `json:"start"`
	ShiftLengthSeconds int64               `json:"shift_length_seconds"`
	Members            []int64             `json:"members"`
	Restrict           []oncall.WindowSpec `json:"restrict"`
}

// scheduleBody is a schedule as the API takes it (whole, on create and PUT).
type scheduleBody struct {
	Slug        string      `json:"slug"`
	Name        string      `json:"name"`
	Description string      `json:"description"`
	TimeZone    string      `json:"time_zone"`
	TeamID      int64       `json:"team_id"`
	Layers      []layerBody `json:"layers"`
}

func (b scheduleBody) input() (oncall.ScheduleInput, error) {
	in := oncall.ScheduleInput{Slug: b.Slug, Name: b.Name, Description: b.Description, TimeZone: b.TimeZone, TeamID: b.TeamID}
	for i, l := range b.Layers {
		at := fmt.Sprintf("layers[%d]", i)
		lr := oncall.LayerRecord{Name: l.Name, Members: l.Members, Restrict: l.Restrict}
		if l.Start == "" {
			return in, &oncall.FieldError{Field: at + ".start", Msg: "is required: the first hand-off"}
		}
		t, err := time.Parse(time.RFC3339, l.Start)
		if err != nil {
			return in, &oncall.FieldError{Field: at + ".start", Msg: "must be an RFC 3339 time such as 2026-05-04T10:00:00+08:00"}
		}
		lr.Start = t
		if l.ShiftLengthSeconds < int64(oncall.MinShiftLength/time.Second) || l.ShiftLengthSeconds > int64(oncall.MaxShiftLength/time.Second) {
			return in, &oncall.FieldError{Field: at + ".shift_length_seconds", Msg: "must be between 60 (1 minute) and 31536000 (365 days)"}
		}
		lr.ShiftLength = time.Duration(l.ShiftLengthSeconds) * time.Second
		in.Layers = append(in.Layers, lr)
	}
	return in, nil
}

// layerView is one rotation of a schedule as the API shows it.
type layerView struct {
	ID                 int64               `json:"id"`
	Name               string              `json:"name"`
	Start              time.Time           `json:"start"`
	ShiftLengthSeconds int64               `json:"shift_length_seconds"`
	Members            []int64             `json:"members"`
	Restrict           []oncall.WindowSpec `json:"restrict"`
}

// onCallView is someone on call, until when (absent: more than two years).
type onCallView struct {
	UserID      int64     `json:"user_id"`
	Username    string    `json:"username"`
	DisplayName string    `json:"display_name"`
	Until       time.Time `json:"until,omitzero"`
}

// scheduleView is a schedule as the API shows it, with who is on call now.
type scheduleView struct {
	ID          int64        `json:"id"`
	Slug        string       `json:"slug"`
	Name        string       `json:"name"`
	Description string       `json:"description"`
	TimeZone    string       `json:"time_zone"`
	TeamID      int64        `json:"team_id,omitempty"`
	Source      string       `json:"source"`
	CreatedAt   time.Time    `json:"created_at"`
	UpdatedAt   time.Time    `json:"updated_at"`
	Layers      []layerView  `json:"layers"`
	OnCallNow   []onCallView `json:"on_call_now"`
}

func onCallViews(us []oncall.OnCallUser) []onCallView {
	out := make([]onCallView, len(us))
	for i, u := range us {
		out[i] = onCallView{UserID: u.UserID, Username: u.Username, DisplayName: u.DisplayName, Until: u.Until}
	}
	return out
}

func (s *Server) viewSchedule(ctx context.Context, rec oncall.ScheduleRecord) (scheduleView, error) {
	v := scheduleView{ID: rec.ID, Slug: rec.Slug, Name: rec.Name, Description: rec.Description, TimeZone: rec.TimeZone,
		TeamID: rec.TeamID, Source: rec.Source, CreatedAt: rec.CreatedAt, UpdatedAt: rec.UpdatedAt, Layers: []layerView{}}
	for _, l := range rec.Layers {
		v.Layers = append(v.Layers, layerView{ID: l.ID, Name: l.Name, Start: l.Start, ShiftLengthSeconds: int64(l.ShiftLength / time.Second),
			Members: l.Members, Restrict: l.Restrict})
	}
	now, err := s.OnCall.OnCallNow(ctx, rec.ID)
	if err != nil {
		return v, notFound(err, "schedule")
	}
	v.OnCallNow = onCallViews(now)
	return v, nil
}

func (s *Server) pathSchedule(w http.ResponseWriter, r *http.Request) (oncall.ScheduleRecord, bool) {
	id, err := pathID(r, "id")
	var rec oncall.ScheduleRecord
	if err == nil {
		rec, err = s.OnCall.GetSchedule(r.Context(), id)
		err = notFound(err, "schedule")
	}
	if err != nil {
		s.oncallFail(w, r, err)
		return rec, false
	}
	return rec, true
}

func (s *Server) apiListSchedules(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	recs, err := s.OnCall.ListSchedules(ctx)
	if err != nil {
		s.oncallFail(w, r, err)
		return
	}
	out := make([]scheduleView, 0, len(recs))
	for _, rec := range recs {
		v, err := s.viewSchedule(ctx, rec)
		if err != nil {
			s.oncallFail(w, r, err)
			return
		}
		out = append(out, v)
	}
	writeJSON(w, http.StatusOK, page[scheduleView]{Items: out})
}

func (s *Server) apiCreateSchedule(w http.ResponseWriter, r *http.Request) {
	var b scheduleBody
	if err := decode(r, &b); err != nil {
		s.failErr(w, r, err)
		return
	}
	in, err := b.input()
	if err == nil {
		var rec oncall.ScheduleRecord
		if rec, err = s.OnCall.CreateSchedule(r.Context(), in); err == nil {
			var v scheduleView
			if v, err = s.viewSchedule(r.Context(), rec); err == nil {
				w.Header().Set("Location", "/api/v1/schedules/"+strconv.FormatInt(rec.ID, 10))
				writeJSON(w, http.StatusCreated, v)
				return
			}
		}
	}
	s.oncallFail(w, r, renameFields(err, layerFields(b)))
}

// layerFields renames the store's layers[i].shift_length to the API's name.
func layerFields(b scheduleBody) map[string]string {
	m := map[string]string{}
	for i := range b.Layers {
		m[fmt.Sprintf("layers[%d].shift_length", i)] = fmt.Sprintf("layers[%d].shift_length_seconds", i)
	}
	return m
}

func (s *Server) apiGetSchedule(w http.ResponseWriter, r *http.Request) {
	rec, ok := s.pathSchedule(w, r)
	if !ok {
		return
	}
	v, err := s.viewSchedule(r.Context(), rec)
	if err != nil {
		s.oncallFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) apiUpdateSchedule(w http.ResponseWriter, r *http.Request) {
	cur, ok := s.pathSchedule(w, r)
	if !ok {
		return
	}
	var b scheduleBody
	if err := decode(r, &b); err != nil {
		s.failErr(w, r, err)
		return
	}
	ctx := r.Context()
	in, err := b.input()
	if err == nil && cur.Source == oncall.SourcePlan {
		err = oncall.ErrPlanManaged
	}
	if err == nil {
		err = s.slugInUse(ctx, "schedule", cur.Slug, b.Slug)
	}
	if err == nil {
		var rec oncall.ScheduleRecord
		if rec, err = s.OnCall.UpdateSchedule(ctx, cur.ID, in); err == nil {
			var v scheduleView
			if v, err = s.viewSchedule(ctx, rec); err == nil {
				writeJSON(w, http.StatusOK, v)
				return
			}
		}
	}
	s.oncallFail(w, r, renameFields(notFound(err, "schedule"), layerFields(b)))
}

func (s *Server) apiDeleteSchedule(w http.ResponseWriter, r *http.Request) {
	cur, ok := s.pathSchedule(w, r)
	if !ok {
		return
	}
	var err error = oncall.ErrPlanManaged
	if cur.Source != oncall.SourcePlan {
		if err = s.slugInUse(r.Context(), "schedule", cur.Slug, ""); err == nil {
			err = notFound(s.OnCall.DeleteSchedule(r.Context(), cur.ID), "schedule")
		}
	}
	if err != nil {
		s.oncallFail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// onCallAt is who is on call in a schedule at an instant.
type onCallAt struct {
	ScheduleID int64        `json:"schedule_id"`
	At         time.Time    `json:"at"`
	Users      []onCallView `json:"users"`
}

func (s *Server) apiOnCall(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	at := time.Now().UTC().Truncate(time.Second)
	if v := r.URL.Query().Get("at"); v != "" {
		if at, err = time.Parse(time.RFC3339, v); err != nil {
			s.fail(w, r, http.StatusBadRequest, "at", "at must be an RFC 3339 time such as 2026-05-01T09:00:00+08:00")
			return
		}
	}
	us, err := s.OnCall.OnCallAt(r.Context(), id, at)
	if err != nil {
		s.oncallFail(w, r, notFound(err, "schedule"))
		return
	}
	writeJSON(w, http.StatusOK, onCallAt{ScheduleID: id, At: at, Users: onCallViews(us)})
}

func (s *Server) apiScheduleShifts(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	from, to, err := timeRange(r, 14*24*time.Hour)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	shifts, err := s.OnCall.ScheduleShifts(r.Context(), id, from, to)
	if err != nil {
		s.oncallFail(w, r, notFound(err, "schedule"))
		return
	}
	writeJSON(w, http.StatusOK, page[oncall.ShiftRecord]{Items: shifts})
}

func (s *Server) apiListOverrides(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	var from, to time.Time
	q := r.URL.Query()
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &from}, {"to", &to}} {
		if v := q.Get(p.name); v != "" {
			if *p.dst, err = time.Parse(time.RFC3339, v); err != nil {
				s.fail(w, r, http.StatusBadRequest, p.name, p.name+" must be an RFC 3339 time such as 2026-05-01T09:00:00+08:00")
				return
			}
		}
	}
	ovs, err := s.OnCall.ListOverrides(r.Context(), id, from, to)
	if err != nil {
		s.oncallFail(w, r, notFound(err, "schedule"))
		return
	}
	writeJSON(w, http.StatusOK, page[oncall.OverrideRecord]{Items: ovs})
}

// parseInstant reads an RFC 3339 time of a request body.
func parseInstant(field, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, &oncall.FieldError{Field: field, Msg: "is required"}
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, &oncall.FieldError{Field: field, Msg: "must be an RFC 3339 time such as 2026-05-01T09:00:00+08:00"}
	}
	return t, nil
}

// overrideBody is an override as the API takes it; user_id defaults to the caller.
type overrideBody struct {
	Mode           string `json:"mode"`
	UserID         int64  `json:"user_id"`
	ReplacesUserID int64  `json:"replaces_user_id"`
	Start          string `json:"start"`
	End            string `json:"end"`
	Note           string `json:"note"`
}

func (s *Server) apiAddOverride(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	var b overrideBody
	if err := decode(r, &b); err != nil {
		s.failErr(w, r, err)
		return
	}
	o := oncall.OverrideRecord{ScheduleID: id, Mode: b.Mode, UserID: b.UserID, ReplacesUserID: b.ReplacesUserID, Note: b.Note, CreatedBy: user(r).ID}
	if o.UserID == 0 {
		o.UserID = user(r).ID
	}
	if o.Start, err = parseInstant("start", b.Start); err == nil {
		if o.End, err = parseInstant("end", b.End); err == nil {
			o, err = s.OnCall.AddOverride(r.Context(), o)
		}
	}
	if err != nil {
		s.oncallFail(w, r, notFound(err, "schedule"))
		return
	}
	writeJSON(w, http.StatusCreated, o)
}

// isPlanOverride reports whether the plan made o (it goes when the plan changes).
func isPlanOverride(o oncall.OverrideRecord) bool { return o.Note == "plan" && o.CreatedBy == 0 }

func (s *Server) apiDeleteOverride(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var oid int64
	if err == nil {
		oid, err = pathID(r, "overrideID")
	}
	if err == nil {
		err = s.deleteOverride(r.Context(), id, oid)
	}
	if err != nil {
		s.oncallFail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// deleteOverride removes a person's override; the plan's stay.
func (s *Server) deleteOverride(ctx context.Context, scheduleID, id int64) error {
	ovs, err := s.OnCall.ListOverrides(ctx, scheduleID, time.Time{}, time.Time{})
	if err != nil {
		return notFound(err, "schedule")
	}
	i := slices.IndexFunc(ovs, func(o oncall.OverrideRecord) bool { return o.ID == id })
	if i < 0 {
		return &jsonError{http.StatusNotFound, "", "override not found"}
	}
	if isPlanOverride(ovs[i]) {
		return errPlanOverride
	}
	return notFound(s.OnCall.DeleteOverride(ctx, scheduleID, id), "override")
}

// shiftBody names a shift: who is on call, from when to when.
type shiftBody struct {
	ScheduleID int64  `json:"schedule_id"`
	UserID     int64  `json:"user_id"`
	Start      string `json:"start"`
	End        string `json:"end"`
}

func (b shiftBody) record(field string, scheduleID int64) (oncall.ShiftRecord, error) {
	sh := oncall.ShiftRecord{ScheduleID: scheduleID, UserID: b.UserID}
	if scheduleID == 0 {
		if b.ScheduleID <= 0 {
			return sh, &oncall.FieldError{Field: field + ".schedule_id", Msg: "is required"}
		}
		sh.ScheduleID = b.ScheduleID
	}
	if b.UserID <= 0 {
		return sh, &oncall.FieldError{Field: field + ".user_id", Msg: "is required: whose shift"}
	}
	var err error
	if sh.Start, err = parseInstant(field+".start", b.Start); err != nil {
		return sh, err
	}
	sh.End, err = parseInstant(field+".end", b.End)
	return sh, err
}

func (s *Server) apiTakeShift(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	var b struct {
		UserID int64     `json:"user_id"`
		Shift  shiftBody `json:"shift"`
		Note   string    `json:"note"`
	}
	if err := decode(r, &b); err != nil {
		s.failErr(w, r, err)
		return
	}
	if b.Shift.ScheduleID != 0 && b.Shift.ScheduleID != id {
		s.fail(w, r, http.StatusBadRequest, "shift.schedule_id", "shift.schedule_id: must be this schedule's id or absent")
		return
	}
	taker := b.UserID
	if taker == 0 {
		taker = user(r).ID
	}
	sh, err := b.Shift.record("shift", id)
	var o oncall.OverrideRecord
	if err == nil {
		o, err = s.OnCall.TakeShift(r.Context(), taker, sh, user(r).ID, b.Note)
	}
	if err != nil {
		s.oncallFail(w, r, notFound(err, "schedule"))
		return
	}
	writeJSON(w, http.StatusCreated, o)
}

func (s *Server) apiCover(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	var b struct {
		UserID int64  `json:"user_id"`
		Start  string `json:"start"`
		End    string `json:"end"`
		Note   string `json:"note"`
	}
	if err := decode(r, &b); err != nil {
		s.failErr(w, r, err)
		return
	}
	if b.UserID == 0 {
		b.UserID = user(r).ID
	}
	var o oncall.OverrideRecord
	var from, to time.Time
	if from, err = parseInstant("start", b.Start); err == nil {
		if to, err = parseInstant("end", b.End); err == nil {
			o, err = s.OnCall.CoverRange(r.Context(), id, b.UserID, from, to, user(r).ID, b.Note)
		}
	}
	if err != nil {
		s.oncallFail(w, r, notFound(err, "schedule"))
		return
	}
	writeJSON(w, http.StatusCreated, o)
}

func (s *Server) apiSwap(w http.ResponseWriter, r *http.Request) {
	var b struct {
		A    shiftBody `json:"a"`
		B    shiftBody `json:"b"`
		Note string    `json:"note"`
	}
	if err := decode(r, &b); err != nil {
		s.failErr(w, r, err)
		return
	}
	a, err := b.A.record("a", 0)
	var bb oncall.ShiftRecord
	if err == nil {
		bb, err = b.B.record("b", 0)
	}
	var ovs []oncall.OverrideRecord
	if err == nil {
		ovs, err = s.OnCall.Swap(r.Context(), a, bb, user(r).ID, b.Note)
	}
	if err != nil {
		s.oncallFail(w, r, notFound(err, "schedule"))
		return
	}
	writeJSON(w, http.StatusCreated, page[oncall.OverrideRecord]{Items: ovs})
}

// mayReadScheduleFeed reports whether the caller may see the schedule's iCal
// address: admins, the schedule's members and its team's members.
func (s *Server) mayReadScheduleFeed(ctx context.Context, u auth.User, rec oncall.ScheduleRecord) (bool, error) {
	if u.Role.AtLeast(auth.Admin) {
		return true, nil
	}
	for _, l := range rec.Layers {
		if slices.Contains(l.Members, u.ID) {
			return true, nil
		}
	}
	if rec.TeamID == 0 {
		return false, nil
	}
	t, err := s.OnCall.GetTeam(ctx, rec.TeamID)
	if err != nil {
		return false, notFound(err, "team")
	}
	return slices.ContainsFunc(t.Members, func(m oncall.TeamMember) bool { return m.UserID == u.ID }), nil
}

func (s *Server) apiScheduleICal(w http.ResponseWriter, r *http.Request) {
	rec, ok := s.pathSchedule(w, r)
	if !ok {
		return
	}
	ok, err := s.mayReadScheduleFeed(r.Context(), user(r), rec)
	if err == nil && !ok {
		err = &jsonError{http.StatusNotFound, "", "no iCal feed you may see: a schedule's feed is for its members and admins"}
	}
	var secret string
	if err == nil {
		secret, err = s.OnCall.ScheduleICalSecret(r.Context(), rec.ID)
	}
	if err != nil {
		s.oncallFail(w, r, notFound(err, "schedule"))
		return
	}
	writeJSON(w, http.StatusOK, icalFeed{URL: s.feedURL("schedules", secret)})
}

func (s *Server) apiRotateScheduleICal(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var secret string
	if err == nil {
		secret, err = s.OnCall.RotateScheduleICalSecret(r.Context(), id)
	}
	if err != nil {
		s.oncallFail(w, r, notFound(err, "schedule"))
		return
	}
	writeJSON(w, http.StatusOK, icalFeed{URL: s.feedURL("schedules", secret)})
}

// writeCalendar answers an iCal feed.
func writeCalendar(w http.ResponseWriter, name string, b []byte) {
	h := w.Header()
	h.Set("Content-Type", "text/calendar; charset=utf-8")
	h.Set("Content-Disposition", `inline; filename="`+name+`.ics"`)
	h.Set("Cache-Control", "private, max-age=300")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// icalScheduleFeed serves a schedule's shifts to calendar apps; the secret in
// the address is the only credential, and an unknown one is simply not found.
func (s *Server) icalScheduleFeed(w http.ResponseWriter, r *http.Request) {
	rec, err := s.OnCall.ScheduleByICalSecret(r.Context(), icalName(r.PathValue("file")))
	if err != nil {
		s.oncallFail(w, r, notFound(err, "calendar"))
		return
	}
	b, err := s.OnCall.ScheduleICal(r.Context(), rec.ID, time.Now())
	if err != nil {
		s.oncallFail(w, r, notFound(err, "calendar"))
		return
	}
	writeCalendar(w, rec.Slug, b)
}

func (s *Server) icalUserFeed(w http.ResponseWriter, r *http.Request) {
	id, err := s.OnCall.UserByICalSecret(r.Context(), icalName(r.PathValue("file")))
	if err != nil {
		s.oncallFail(w, r, notFound(err, "calendar"))
		return
	}
	b, err := s.OnCall.UserICal(r.Context(), id, time.Now())
	if err != nil {
		s.oncallFail(w, r, notFound(err, "calendar"))
		return
	}
	writeCalendar(w, "on-call", b)
}
