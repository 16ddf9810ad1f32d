package web

import (
	"net/http"
	"strconv"

	"github.com/firebreak/firebreak/internal/contact"
	"github.com/firebreak/firebreak/internal/oncall"
)

// teamBody is a team as the API takes it; on PATCH absent fields are kept.
type teamBody struct {
	Slug        *string `json:"slug"`
	Name        *string `json:"name"`
	Description *string `json:"description"`
}

func (b teamBody) input(cur *oncall.Team) oncall.TeamInput {
	var in oncall.TeamInput
	if cur != nil {
		in = oncall.TeamInput{Slug: cur.Slug, Name: cur.Name, Description: cur.Description}
	}
	for _, f := range []struct {
		dst *string
		v   *string
	}{{&in.Slug, b.Slug}, {&in.Name, b.Name}, {&in.Description, b.Description}} {
		if f.v != nil {
			*f.dst = *f.v
		}
	}
	return in
}

// memberBody is one team member as the API takes it.
type memberBody struct {
	UserID int64  `json:"user_id"`
	Role   string `json:"role"`
}

func (s *Server) pathTeam(w http.ResponseWriter, r *http.Request) (oncall.Team, bool) {
	id, err := pathID(r, "id")
	var t oncall.Team
	if err == nil {
		t, err = s.OnCall.GetTeam(r.Context(), id)
		err = notFound(err, "team")
	}
	if err != nil {
		s.oncallFail(w, r, err)
		return t, false
	}
	return t, true
}

func (s *Server) apiListTeams(w http.ResponseWriter, r *http.Request) {
	teams, err := s.OnCall.ListTeams(r.Context())
	if err != nil {
		s.oncallFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, page[oncall.Team]{Items: teams})
}

func (s *Server) apiCreateTeam(w http.ResponseWriter, r *http.Request) {
	var b teamBody
	if err := decode(r, &b); err != nil {
		s.failErr(w, r, err)
		return
	}
	t, err := s.OnCall.CreateTeam(r.Context(), b.input(nil))
	if err != nil {
		s.oncallFail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/teams/"+strconv.FormatInt(t.ID, 10))
	writeJSON(w, http.StatusCreated, t)
}

func (s *Server) apiGetTeam(w http.ResponseWriter, r *http.Request) {
	if t, ok := s.pathTeam(w, r); ok {
		writeJSON(w, http.StatusOK, t)
	}
}

func (s *Server) apiUpdateTeam(w http.ResponseWriter, r *http.Request) {
	cur, ok := s.pathTeam(w, r)
	if !ok {
		return
	}
	var b teamBody
	if err := decode(r, &b); err != nil {
		s.failErr(w, r, err)
		return
	}
	in := b.input(&cur)
	err := s.slugInUse(r.Context(), "team", cur.Slug, in.Slug)
	var t oncall.Team
	if err == nil {
		t, err = s.OnCall.UpdateTeam(r.Context(), cur.ID, in)
	}
	if err != nil {
		s.oncallFail(w, r, notFound(err, "team"))
		return
	}
	writeJSON(w, http.StatusOK, t)
}

func (s *Server) apiDeleteTeam(w http.ResponseWriter, r *http.Request) {
	cur, ok := s.pathTeam(w, r)
	if !ok {
		return
	}
	err := s.slugInUse(r.Context(), "team", cur.Slug, "")
	if err == nil {
		err = notFound(s.OnCall.DeleteTeam(r.Context(), cur.ID), "team")
	}
	if err != nil {
		s.oncallFail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) apiSetTeamMembers(w http.ResponseWriter, r *http.Request) {
	cur, ok := s.pathTeam(w, r)
	if !ok {
		return
	}
	var in struct {
		Members []memberBody `json:"members"`
	}
	if err := decode(r, &in); err != nil {
		s.failErr(w, r, err)
		return
	}
	if in.Members == nil {
		s.fail(w, r, http.StatusBadRequest, "members", "members: is required (an empty list removes everyone)")
		return
	}
	ms := make([]oncall.TeamMember, len(in.Members))
	for i, m := range in.Members {
		ms[i] = oncall.TeamMember{UserID: m.UserID, Role: m.Role}
	}
	t, err := s.OnCall.SetMembers(r.Context(), cur.ID, ms)
	if err != nil {
		s.oncallFail(w, r, notFound(err, "team"))
		return
	}
	writeJSON(w, http.StatusOK, t)
}

func (s *Server) apiAddTeamMember(w http.ResponseWriter, r *http.Request) {
	cur, ok := s.pathTeam(w, r)
	if !ok {
		return
	}
	var b memberBody
	if err := decode(r, &b); err != nil {
		s.failErr(w, r, err)
		return
	}
	ctx := r.Context()
	if err := s.OnCall.AddMember(ctx, cur.ID, b.UserID, b.Role); err != nil {
		s.oncallFail(w, r, notFound(err, "team"))
		return
	}
	t, err := s.OnCall.GetTeam(ctx, cur.ID)
	if err != nil {
		s.oncallFail(w, r, notFound(err, "team"))
		return
	}
	writeJSON(w, http.StatusOK, t)
}

func (s *Server) apiRemoveTeamMember(w http.ResponseWriter, r *http.Request) {
	cur, ok := s.pathTeam(w, r)
	if !ok {
		return
	}
	uid, err := pathID(r, "userID")
	if err == nil {
		err = notFound(s.OnCall.RemoveMember(r.Context(), cur.ID, uid), "team member")
	}
	if err != nil {
		s.oncallFail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// chanBody is a shared channel as the API takes it; on PATCH absent fields
// are kept (and an absent secret keeps the secret while the kind stays).
type chanBody struct {
	Slug        *string `json:"slug"`
	Name        *string `json:"name"`
	Kind        *string `json:"kind"`
	Address     *string `json:"address"`
	Secret      *string `json:"secret"`
	ClearSecret bool    `json:"clear_secret"`
	TeamID      *int64  `json:"team_id"`
}

func (b chanBody) input(cur *contact.Chan) contact.ChanInput {
	var in contact.ChanInput
	if cur != nil {
		in = contact.ChanInput{Slug: cur.Slug, Name: cur.Name, Kind: cur.Kind, Address: cur.Address, TeamID: cur.TeamID}
	}
	for _, f := range []struct {
		dst *string
		v   *string
	}{{&in.Slug, b.Slug}, {&in.Name, b.Name}, {&in.Kind, b.Kind}, {&in.Address, b.Address}, {&in.Secret, b.Secret}} {
		if f.v != nil {
			*f.dst = *f.v
		}
	}
	in.ClearSecret = b.ClearSecret
	if b.TeamID != nil {
		in.TeamID = *b.TeamID
	}
	return in
}

func (s *Server) pathChannel(w http.ResponseWriter, r *http.Request) (contact.Chan, bool) {
	id, err := pathID(r, "id")
	var c contact.Chan
	if err == nil {
		c, err = s.Contacts.ChannelByID(r.Context(), nil, id)
		err = notFound(err, "channel")
	}
	if err != nil {
		s.oncallFail(w, r, err)
		return c, false
	}
	return c, true
}

func (s *Server) apiListChannels(w http.ResponseWriter, r *http.Request) {
	cs, err := s.Contacts.ListChannels(r.Context())
	if err != nil {
		s.oncallFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, page[contact.Chan]{Items: cs})
}

func (s *Server) apiCreateChannel(w http.ResponseWriter, r *http.Request) {
	var b chanBody
	if err := decode(r, &b); err != nil {
		s.failErr(w, r, err)
		return
	}
	c, err := s.Contacts.CreateChannel(r.Context(), b.input(nil))
	if err != nil {
		s.oncallFail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/channels/"+strconv.FormatInt(c.ID, 10))
	writeJSON(w, http.StatusCreated, c)
}

func (s *Server) apiGetChannel(w http.ResponseWriter, r *http.Request) {
	if c, ok := s.pathChannel(w, r); ok {
		writeJSON(w, http.StatusOK, c)
	}
}

func (s *Server) apiUpdateChannel(w http.ResponseWriter, r *http.Request) {
	cur, ok := s.pathChannel(w, r)
	if !ok {
		return
	}
	var b chanBody
	if err := decode(r, &b); err != nil {
		s.failErr(w, r, err)
		return
	}
	if cur.Source == contact.SourcePlan {
		s.oncallFail(w, r, errPlanChannel)
		return
	}
	in := b.input(&cur)
	err := s.slugInUse(r.Context(), "channel", cur.Slug, in.Slug)
	var c contact.Chan
	if err == nil {
		c, err = s.Contacts.UpdateChannel(r.Context(), cur.ID, in)
	}
	if err != nil {
		s.oncallFail(w, r, notFound(err, "channel"))
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func (s *Server) apiDeleteChannel(w http.ResponseWriter, r *http.Request) {
	cur, ok := s.pathChannel(w, r)
	if !ok {
		return
	}
	if cur.Source == contact.SourcePlan {
		s.oncallFail(w, r, errPlanChannel)
		return
	}
	err := s.slugInUse(r.Context(), "channel", cur.Slug, "")
	if err == nil {
		err = s.Contacts.DeleteChannel(r.Context(), cur.ID)
	}
	if err != nil {
		s.oncallFail(w, r, notFound(err, "channel"))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
