package web

import (
	"context"
	"net/http"
	"slices"
	"strconv"

	"github.com/firebreak/firebreak/internal/contact"
	"github.com/firebreak/firebreak/internal/oncall"
)

func teamURL(id int64) string { return "/teams/" + strconv.FormatInt(id, 10) }

// teamRow is a team in the list, with its schedules.
type teamRow struct {
	oncall.Team
	Leads     []string
	Schedules []scheduleRef
}

type teamsData struct {
	Teams  []teamRow
	Form   oncall.TeamInput
	Errors map[string]string
	Done   string
}

// schedulesByTeam maps team ids to their schedules.
func (o *oncallUI) schedulesByTeam(ctx context.Context) (map[int64][]scheduleRef, error) {
	recs, err := o.s.OnCall.ListSchedules(ctx)
	if err != nil {
		return nil, err
	}
	out := map[int64][]scheduleRef{}
	for _, rec := range recs {
		if rec.TeamID != 0 {
			out[rec.TeamID] = append(out[rec.TeamID], scheduleRef{rec.ID, rec.DisplayName()})
		}
	}
	return out, nil
}

func (o *oncallUI) renderTeams(w http.ResponseWriter, r *http.Request, status int, d teamsData) {
	ctx := r.Context()
	teams, err := o.s.OnCall.ListTeams(ctx)
	if err != nil {
		o.fail(w, r, err)
		return
	}
	scheds, err := o.schedulesByTeam(ctx)
	if err != nil {
		o.fail(w, r, err)
		return
	}
	for _, t := range teams {
		row := teamRow{Team: t, Schedules: scheds[t.ID]}
		for _, m := range t.Members {
			if m.Role == oncall.RoleLead {
				row.Leads = append(row.Leads, memberName(m))
			}
		}
		d.Teams = append(d.Teams, row)
	}
	d.Done = done(o.lang(r), r)
	o.page(w, r, status, "teams", "teams", "teams.title", d)
}

func memberName(m oncall.TeamMember) string {
	if m.DisplayName != "" {
		return m.DisplayName
	}
	return m.Username
}

func (o *oncallUI) teamsPage(w http.ResponseWriter, r *http.Request) {
	o.renderTeams(w, r, http.StatusOK, teamsData{})
}

func (o *oncallUI) createTeam(w http.ResponseWriter, r *http.Request) {
	if !o.form(w, r) {
		return
	}
	in := oncall.TeamInput{Slug: r.PostForm.Get("slug"), Name: r.PostForm.Get("name"), Description: r.PostForm.Get("description")}
	t, err := o.s.OnCall.CreateTeam(r.Context(), in)
	if err != nil {
		field, msg, ok := formError(o.lang(r), err)
		if !ok {
			o.fail(w, r, err)
			return
		}
		o.renderTeams(w, r, http.StatusUnprocessableEntity, teamsData{Form: in, Errors: map[string]string{field: msg}})
		return
	}
	seeOther(w, r, teamURL(t.ID)+"?done=team_created")
}

type teamData struct {
	Team      oncall.Team
	Members   []memberRow
	Users     []userOpt // people who may join
	Schedules []scheduleRef
	Channels  []contact.Chan
	Policies  []string
	Form      oncall.TeamInput
	Editing   bool // Form holds what was typed in the edit form
	NewMember struct {
		UserID int64
		Role   string
	}
	Errors map[string]string
	Done   string
}

type memberRow struct {
	oncall.TeamMember
	Name string
}

func (o *oncallUI) teamPage(w http.ResponseWriter, r *http.Request) {
	ids, ok := o.ids(w, r, "id")
	if !ok {
		return
	}
	o.renderTeam(w, r, http.StatusOK, ids[0], teamData{})
}

func (o *oncallUI) renderTeam(w http.ResponseWriter, r *http.Request, status int, id int64, d teamData) {
	ctx := r.Context()
	t, err := o.s.OnCall.GetTeam(ctx, id)
	if err != nil {
		o.fail(w, r, notFound(err, "team"))
		return
	}
	d.Team = t
	if !d.Editing {
		d.Form = oncall.TeamInput{Slug: t.Slug, Name: t.Name, Description: t.Description}
	}
	for _, m := range t.Members {
		d.Members = append(d.Members, memberRow{TeamMember: m, Name: memberName(m)})
	}
	users, _, err := o.people(ctx)
	if err != nil {
		o.fail(w, r, err)
		return
	}
	for _, u := range users {
		if !slices.ContainsFunc(t.Members, func(m oncall.TeamMember) bool { return m.UserID == u.ID }) {
			d.Users = append(d.Users, u)
		}
	}
	scheds, err := o.schedulesByTeam(ctx)
	if err != nil {
		o.fail(w, r, err)
		return
	}
	d.Schedules = scheds[id]
	chans, err := o.s.Contacts.ListChannels(ctx)
	if err != nil {
		o.fail(w, r, err)
		return
	}
	for _, c := range chans {
		if c.TeamID == id {
			d.Channels = append(d.Channels, c)
		}
	}
	if d.Policies, err = o.s.policiesTargeting(ctx, "team", t.Slug); err != nil {
		o.fail(w, r, err)
		return
	}
	d.Done = done(o.lang(r), r)
	o.titled(w, r, status, "team", "teams", t.Name, d)
}

// teamFailed re-renders the team page with an input error of form, or
// answers the error.
func (o *oncallUI) teamFailed(w http.ResponseWriter, r *http.Request, id int64, d teamData, form string, err error) {
	field, msg, ok := formError(o.lang(r), err)
	if !ok {
		o.fail(w, r, notFound(err, "team"))
		return
	}
	d.Errors = map[string]string{form + "." + field: msg}
	o.renderTeam(w, r, http.StatusUnprocessableEntity, id, d)
}

func (o *oncallUI) updateTeam(w http.ResponseWriter, r *http.Request) {
	ids, ok := o.ids(w, r, "id")
	if !ok || !o.form(w, r) {
		return
	}
	ctx := r.Context()
	cur, err := o.s.OnCall.GetTeam(ctx, ids[0])
	if err != nil {
		o.fail(w, r, notFound(err, "team"))
		return
	}
	in := oncall.TeamInput{Slug: r.PostForm.Get("slug"), Name: r.PostForm.Get("name"), Description: r.PostForm.Get("description")}
	err = o.s.slugInUse(ctx, "team", cur.Slug, in.Slug)
	if err == nil {
		_, err = o.s.OnCall.UpdateTeam(ctx, cur.ID, in)
	}
	if err != nil {
		o.teamFailed(w, r, cur.ID, teamData{Form: in, Editing: true}, "edit", err)
		return
	}
	seeOther(w, r, teamURL(cur.ID)+"?done=saved")
}

func (o *oncallUI) deleteTeam(w http.ResponseWriter, r *http.Request) {
	ids, ok := o.ids(w, r, "id")
	if !ok || !o.form(w, r) {
		return
	}
	ctx := r.Context()
	cur, err := o.s.OnCall.GetTeam(ctx, ids[0])
	if err == nil {
		if err = o.s.slugInUse(ctx, "team", cur.Slug, ""); err == nil {
			err = o.s.OnCall.DeleteTeam(ctx, cur.ID)
		}
	}
	if err != nil {
		o.teamFailed(w, r, ids[0], teamData{}, "delete", err)
		return
	}
	seeOther(w, r, "/teams?done=team_deleted")
}

func (o *oncallUI) addTeamMember(w http.ResponseWriter, r *http.Request) {
	ids, ok := o.ids(w, r, "id")
	if !ok || !o.form(w, r) {
		return
	}
	var d teamData
	uid, _ := atoiForm(r.PostForm.Get("user_id"), 0)
	d.NewMember.UserID, d.NewMember.Role = uid, r.PostForm.Get("role")
	if err := o.s.OnCall.AddMember(r.Context(), ids[0], uid, d.NewMember.Role); err != nil {
		o.teamFailed(w, r, ids[0], d, "member", err)
		return
	}
	seeOther(w, r, teamURL(ids[0])+"?done=member_added#members")
}

func (o *oncallUI) removeTeamMember(w http.ResponseWriter, r *http.Request) {
	ids, ok := o.ids(w, r, "id", "uid")
	if !ok || !o.form(w, r) {
		return
	}
	if err := o.s.OnCall.RemoveMember(r.Context(), ids[0], ids[1]); err != nil {
		o.fail(w, r, notFound(err, "team member"))
		return
	}
	seeOther(w, r, teamURL(ids[0])+"?done=member_removed#members")
}

// chanRow is a shared channel in the list.
type chanRow struct {
	contact.Chan
	KindLabel string
	TeamName  string
	Plan      bool
	UsedBy    []string
	Edit      chanFormView
}

// chanFormView is a channel form: a new channel's or one channel's edit form.
type chanFormView struct {
	ID     string // "new" or "c<id>": names the form's fields and errors
	In     contact.ChanInput
	Errors map[string]string // by field, when this form failed
	Kinds  []kindOpt
	Teams  []oncall.Team
}

type channelsData struct {
	Channels []chanRow
	New      chanFormView
	Errors   map[string]string // of the form that failed, by field
	Done     string
}

func (o *oncallUI) renderChannels(w http.ResponseWriter, r *http.Request, status int, failed string, in contact.ChanInput, errs map[string]string) {
	ctx := r.Context()
	lang := o.lang(r)
	chans, err := o.s.Contacts.ListChannels(ctx)
	if err != nil {
		o.fail(w, r, err)
		return
	}
	teams, err := o.s.OnCall.ListTeams(ctx)
	if err != nil {
		o.fail(w, r, err)
		return
	}
	kinds := kindOpts(lang, contact.ChannelKinds())
	view := func(id string, cur contact.ChanInput) chanFormView {
		v := chanFormView{ID: id, In: cur, Kinds: kinds, Teams: teams}
		if id == failed {
			v.In, v.Errors = in, errs
		}
		v.In.Secret = ""
		return v
	}
	teamNames := map[int64]string{}
	for _, t := range teams {
		teamNames[t.ID] = t.Name
	}
	d := channelsData{New: view("new", contact.ChanInput{Kind: contact.KindDingTalk}), Errors: errs, Done: done(lang, r)}
	for _, c := range chans {
		row := chanRow{Chan: c, KindLabel: label(lang, "oncall.kind.", c.Kind), TeamName: teamNames[c.TeamID], Plan: c.Source == contact.SourcePlan,
			Edit: view("c"+strconv.FormatInt(c.ID, 10), contact.ChanInput{Slug: c.Slug, Name: c.Name, Kind: c.Kind, Address: c.Address, TeamID: c.TeamID})}
		if row.UsedBy, err = o.s.policiesTargeting(ctx, "channel", c.Slug); err != nil {
			o.fail(w, r, err)
			return
		}
		d.Channels = append(d.Channels, row)
	}
	o.page(w, r, status, "channels", "channels", "channels.title", d)
}

func (o *oncallUI) channelsPage(w http.ResponseWriter, r *http.Request) {
	o.renderChannels(w, r, http.StatusOK, "", contact.ChanInput{}, nil)
}

// chanForm reads the channel form.
func chanForm(r *http.Request) contact.ChanInput {
	f := r.PostForm
	team, _ := atoiForm(f.Get("team_id"), 0)
	return contact.ChanInput{Slug: f.Get("slug"), Name: f.Get("name"), Kind: f.Get("kind"), Address: f.Get("address"),
		Secret: f.Get("secret"), ClearSecret: f.Get("clear_secret") == "1", TeamID: team}
}

// channelFailed re-renders the channels page with an input error on form.
func (o *oncallUI) channelFailed(w http.ResponseWriter, r *http.Request, form string, in contact.ChanInput, err error) {
	field, msg, ok := formError(o.lang(r), err)
	if !ok {
		o.fail(w, r, notFound(err, "channel"))
		return
	}
	o.renderChannels(w, r, http.StatusUnprocessableEntity, form, in, map[string]string{field: msg})
}

func (o *oncallUI) createChannel(w http.ResponseWriter, r *http.Request) {
	if !o.form(w, r) {
		return
	}
	in := chanForm(r)
	c, err := o.s.Contacts.CreateChannel(r.Context(), in)
	if err != nil {
		o.channelFailed(w, r, "new", in, err)
		return
	}
	seeOther(w, r, "/channels?done=channel_created#channel-"+strconv.FormatInt(c.ID, 10))
}

func (o *oncallUI) updateChannel(w http.ResponseWriter, r *http.Request) {
	ids, ok := o.ids(w, r, "id")
	if !ok || !o.form(w, r) {
		return
	}
	ctx := r.Context()
	cur, err := o.s.Contacts.ChannelByID(ctx, nil, ids[0])
	if err != nil {
		o.fail(w, r, notFound(err, "channel"))
		return
	}
	in := chanForm(r)
	form := "c" + strconv.FormatInt(cur.ID, 10)
	if cur.Source == contact.SourcePlan {
		o.channelFailed(w, r, form, in, errPlanChannel)
		return
	}
	err = o.s.slugInUse(ctx, "channel", cur.Slug, in.Slug)
	if err == nil {
		_, err = o.s.Contacts.UpdateChannel(ctx, cur.ID, in)
	}
	if err != nil {
		o.channelFailed(w, r, form, in, err)
		return
	}
	seeOther(w, r, "/channels?done=saved#channel-"+strconv.FormatInt(cur.ID, 10))
}

func (o *oncallUI) deleteChannel(w http.ResponseWriter, r *http.Request) {
	ids, ok := o.ids(w, r, "id")
	if !ok || !o.form(w, r) {
		return
	}
	ctx := r.Context()
	cur, err := o.s.Contacts.ChannelByID(ctx, nil, ids[0])
	if err != nil {
		o.fail(w, r, notFound(err, "channel"))
		return
	}
	form := "c" + strconv.FormatInt(cur.ID, 10)
	in := contact.ChanInput{Slug: cur.Slug, Name: cur.Name, Kind: cur.Kind, Address: cur.Address, TeamID: cur.TeamID}
	err = errPlanChannel
	if cur.Source != contact.SourcePlan {
		if err = o.s.slugInUse(ctx, "channel", cur.Slug, ""); err == nil {
			err = o.s.Contacts.DeleteChannel(ctx, cur.ID)
		}
	}
	if err != nil {
		o.channelFailed(w, r, form, in, err)
		return
	}
	seeOther(w, r, "/channels?done=channel_deleted")
}
