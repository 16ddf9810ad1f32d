package web

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/firebreak/firebreak/internal/auth"
	"github.com/firebreak/firebreak/internal/contact"
	"github.com/firebreak/firebreak/internal/i18n"
	"github.com/firebreak/firebreak/internal/incident"
	"github.com/firebreak/firebreak/internal/oncall"
)

func personURL(id int64) string { return "/people/" + strconv.FormatInt(id, 10) }

// shiftRow is a shift on a page, its times in its schedule's zone.
type shiftRow struct {
	ScheduleID int64
	Schedule   string
	UserID     int64
	Name       string
	Start, End time.Time
	Span       string
	Zone       string
	Now        bool
}

// personShifts returns a person's shifts from now for days, split into those
// under way and those to come.
func (o *oncallUI) personShifts(ctx context.Context, userID int64, days int) (now, next []shiftRow, err error) {
	t := time.Now()
	recs, err := o.s.OnCall.UserShifts(ctx, userID, t, t.Add(time.Duration(days)*24*time.Hour))
	if err != nil {
		return nil, nil, err
	}
	for _, sh := range recs {
		tz := sh.Start.Location()
		row := shiftRow{ScheduleID: sh.ScheduleID, Schedule: sh.ScheduleName, UserID: sh.UserID, Start: sh.Start, End: sh.End,
			Span: span(sh.Start, sh.End, tz), Zone: tz.String(), Now: !sh.Start.After(t)}
		if row.Now {
			now = append(now, row)
		} else {
			next = append(next, row)
		}
	}
	return now, next, nil
}

// scheduleRef names a schedule on a page.
type scheduleRef struct {
	ID   int64
	Name string
}

// onCallNow maps each person on call now to the schedules they are on call in.
func (o *oncallUI) onCallNow(ctx context.Context) (map[int64][]scheduleRef, error) {
	recs, err := o.s.OnCall.ListSchedules(ctx)
	if err != nil {
		return nil, err
	}
	out := map[int64][]scheduleRef{}
	for _, rec := range recs {
		us, err := o.s.OnCall.OnCallNow(ctx, rec.ID)
		if err != nil {
			return nil, err
		}
		for _, u := range us {
			out[u.UserID] = append(out[u.UserID], scheduleRef{rec.ID, rec.DisplayName()})
		}
	}
	return out, nil
}

// meData is the home of a person's on-call life.
type meData struct {
	ID       int64
	OnCall   []shiftRow
	Upcoming []shiftRow
	Methods  int
	Verified int
	Rules    int
	FeedURL  string
	// Open incidents, and the ones that paged me, newest first.
	OpenCount int
	MyPages   []myPage
}

// myPage is an open incident that paged the current user.
type myPage struct {
	IncidentID int64
	Title      string
	Level      string
	Status     incident.Status
	PagedAt    time.Time
}

func (o *oncallUI) mePage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	me := user(r)
	d := meData{ID: me.ID}
	var err error
	if d.OnCall, d.Upcoming, err = o.personShifts(ctx, me.ID, 28); err != nil {
		o.fail(w, r, err)
		return
	}
	ms, err := o.s.Contacts.ListForUser(ctx, me.ID)
	if err != nil {
		o.fail(w, r, err)
		return
	}
	d.Methods = len(ms)
	for _, m := range ms {
		if m.Verified && !m.Disabled {
			d.Verified++
		}
	}
	rules, err := o.s.Contacts.ListRules(ctx, me.ID)
	if err != nil {
		o.fail(w, r, err)
		return
	}
	d.Rules = len(rules)
	secret, err := o.s.OnCall.UserICalSecret(ctx, me.ID)
	if err != nil {
		o.fail(w, r, err)
		return
	}
	d.FeedURL = o.s.feedURL("users", secret)
	if err := o.s.DB.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM incidents WHERE status NOT IN ('resolved', 'closed')`).Scan(&d.OpenCount); err != nil {
		o.fail(w, r, err)
		return
	}
	rows, err := o.s.DB.R.QueryContext(ctx, `SELECT i.id, i.title, i.level, i.status, MIN(n.created_at) FROM notifications n
		JOIN incidents i ON i.id = n.incident_id
		WHERE n.user_id = $1 AND i.status NOT IN ('resolved', 'closed')
		GROUP BY i.id, i.title, i.level, i.status ORDER BY i.id DESC LIMIT 20`, me.ID)
	if err != nil {
		o.fail(w, r, err)
		return
	}
	for rows.Next() {
		var p myPage
		var at int64
		if err := rows.Scan(&p.IncidentID, &p.Title, &p.Level, &p.Status, &at); err != nil {
			rows.Close()
			o.fail(w, r, err)
			return
		}
		p.PagedAt = time.UnixMilli(at).UTC()
		d.MyPages = append(d.MyPages, p)
	}
	rows.Close()
	o.page(w, r, http.StatusOK, "oncall_me", "me", "me.title", d)
}

// personRow is one line of the people list.
type personRow struct {
	auth.User
	Name     string
	Methods  int
	Verified int
	OnCall   []scheduleRef
}

func (o *oncallUI) peoplePage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	us, err := o.s.Auth.ListUsers(ctx)
	if err != nil {
		o.fail(w, r, err)
		return
	}
	onCall, err := o.onCallNow(ctx)
	if err != nil {
		o.fail(w, r, err)
		return
	}
	rows := make([]personRow, 0, len(us))
	for _, u := range us {
		ms, err := o.s.Contacts.ListForUser(ctx, u.ID)
		if err != nil {
			o.fail(w, r, err)
			return
		}
		row := personRow{User: u, Name: nameOf(u), Methods: len(ms), OnCall: onCall[u.ID]}
		for _, m := range ms {
			if m.Verified && !m.Disabled {
				row.Verified++
			}
		}
		rows = append(rows, row)
	}
	o.page(w, r, http.StatusOK, "people", "people", "people.title", rows)
}

// methodRow is a contact method on the person page.
type methodRow struct {
	contact.Method
	KindLabel string
	Plan      bool
	Throttle  string
}

// ruleRow is a notification rule on the person page.
type ruleRow struct {
	contact.Rule
	Method string
	Delay  string
	Levels string
}

// kindOpt is a delivery kind as a choice.
type kindOpt struct {
	Value, Label string
}

func kindOpts(lang string, kinds []string) []kindOpt {
	out := make([]kindOpt, len(kinds))
	for i, k := range kinds {
		out[i] = kindOpt{k, label(lang, "oncall.kind.", k)}
	}
	return out
}

// levelOpt is a plan level as a checkbox.
type levelOpt struct {
	ID, Name string
	Checked  bool
}

// methodForm is the add-a-contact-method form as typed.
type methodForm struct {
	Kind, Name, Address, ThrottleCount, ThrottleMinutes string
}

// ruleForm is the add-a-rule form as typed.
type ruleForm struct {
	MethodID int64
	Delay    string
}

// personForms are the person page's forms as typed and what was wrong.
type personForms struct {
	Method methodForm
	Rule   ruleForm
	Levels []string
	Typed  *contactDetails // the phone and chat ids as typed
	Failed string          // which form the errors are about
	Errors map[string]string
}

type personData struct {
	Person   auth.User
	Name     string
	Manage   bool
	Self     bool
	Teams    []oncall.Team
	OnCall   []shiftRow
	Upcoming []shiftRow
	Methods  []methodRow
	Rules    []ruleRow
	Kinds    []kindOpt
	Levels   []levelOpt
	Details  contactDetails
	FeedURL  string
	Done     string
	personForms
}

func (o *oncallUI) personPage(w http.ResponseWriter, r *http.Request) {
	ids, ok := o.ids(w, r, "id")
	if !ok {
		return
	}
	o.renderPerson(w, r, http.StatusOK, ids[0], personForms{})
}

func (o *oncallUI) renderPerson(w http.ResponseWriter, r *http.Request, status int, id int64, f personForms) {
	ctx := r.Context()
	lang := o.lang(r)
	p, err := o.s.Auth.UserByID(ctx, id)
	if err != nil {
		o.s.failErr(w, r, err)
		return
	}
	d := personData{Person: p, Name: nameOf(p), Manage: mayManage(r, id), Self: user(r).ID == id, Done: done(lang, r), personForms: f}
	if d.OnCall, d.Upcoming, err = o.personShifts(ctx, id, 14); err != nil {
		o.fail(w, r, err)
		return
	}
	teams, err := o.s.OnCall.ListTeams(ctx)
	if err != nil {
		o.fail(w, r, err)
		return
	}
	for _, t := range teams {
		if slices.ContainsFunc(t.Members, func(m oncall.TeamMember) bool { return m.UserID == id }) {
			d.Teams = append(d.Teams, t)
		}
	}
	if d.Manage {
		if err := o.loadManaged(ctx, lang, &d); err != nil {
			o.fail(w, r, err)
			return
		}
	}
	o.titled(w, r, status, "person", "people", d.Name, d)
}

// loadManaged fills what only the person and admins see.
func (o *oncallUI) loadManaged(ctx context.Context, lang string, d *personData) error {
	id := d.Person.ID
	ms, err := o.s.Contacts.ListForUser(ctx, id)
	if err != nil {
		return err
	}
	names := map[int64]string{}
	for _, m := range ms {
		row := methodRow{Method: m, KindLabel: label(lang, "oncall.kind.", m.Kind), Plan: m.Source == contact.SourcePlan}
		if m.ThrottleCount > 0 {
			row.Throttle = i18n.T(lang, "person.throttle_text", m.ThrottleCount, durText(lang, m.ThrottleWindow))
		}
		d.Methods = append(d.Methods, row)
		names[m.ID] = row.KindLabel
		if m.Name != "" {
			names[m.ID] = m.Name
		}
	}
	rules, err := o.s.Contacts.ListRules(ctx, id)
	if err != nil {
		return err
	}
	for _, rl := range rules {
		row := ruleRow{Rule: rl, Method: names[rl.MethodID], Delay: i18n.T(lang, "person.rule_now"), Levels: i18n.T(lang, "person.rule_all_levels")}
		if rl.Delay > 0 {
			row.Delay = i18n.T(lang, "person.rule_after", durText(lang, rl.Delay))
		}
		if len(rl.Levels) > 0 {
			row.Levels = strings.Join(rl.Levels, ", ")
		}
		d.Rules = append(d.Rules, row)
	}
	d.Kinds = kindOpts(lang, contact.Kinds())
	cur, err := o.ui().currentPlan(ctx)
	if err != nil {
		return err
	}
	for _, l := range levelsOf(cur, lang) {
		d.Levels = append(d.Levels, levelOpt{ID: l.ID, Name: l.Name, Checked: slices.Contains(d.personForms.Levels, l.ID)})
	}
	if d.Typed != nil {
		d.Details = *d.Typed
	} else if d.Details, err = o.s.loadContactDetails(ctx, id); err != nil {
		return err
	}
	secret, err := o.s.OnCall.UserICalSecret(ctx, id)
	if err != nil {
		return err
	}
	d.FeedURL = o.s.feedURL("users", secret)
	return nil
}

// managed reads the {id} of a person form the caller may manage, and parses
// the form; on failure it has answered.
func (o *oncallUI) managed(w http.ResponseWriter, r *http.Request) (int64, bool) {
	ids, ok := o.ids(w, r, "id")
	if !ok {
		return 0, false
	}
	if !mayManage(r, ids[0]) {
		o.fail(w, r, errNotYours)
		return 0, false
	}
	return ids[0], o.form(w, r)
}

// managedMethod reads {mid}, a contact method of person {id}.
func (o *oncallUI) managedMethod(w http.ResponseWriter, r *http.Request) (int64, contact.Method, bool) {
	id, ok := o.managed(w, r)
	if !ok {
		return 0, contact.Method{}, false
	}
	mids, ok := o.ids(w, r, "mid")
	if !ok {
		return 0, contact.Method{}, false
	}
	m, err := o.s.Contacts.Get(r.Context(), mids[0])
	if err == nil && m.UserID != id {
		err = contact.ErrNotFound
	}
	if err != nil {
		o.fail(w, r, notFound(err, "contact method"))
		return 0, m, false
	}
	return id, m, true
}

// failed re-renders the person page with an input error on form (shown by
// the key "form.field", or key(field)), or answers the error when it is not
// about input.
func (o *oncallUI) failed(w http.ResponseWriter, r *http.Request, id int64, f personForms, form string, err error, key func(field string) string) {
	field, msg, ok := formError(o.lang(r), err)
	if !ok {
		o.fail(w, r, err)
		return
	}
	k := form + "." + field
	if key != nil {
		k = key(field)
	}
	f.Failed, f.Errors = form, map[string]string{k: msg}
	o.renderPerson(w, r, http.StatusUnprocessableEntity, id, f)
}

func (o *oncallUI) addMethod(w http.ResponseWriter, r *http.Request) {
	id, ok := o.managed(w, r)
	if !ok {
		return
	}
	pf := r.PostForm
	f := methodForm{Kind: pf.Get("kind"), Name: pf.Get("name"), Address: pf.Get("address"),
		ThrottleCount: pf.Get("throttle_count"), ThrottleMinutes: pf.Get("throttle_minutes")}
	forms := personForms{Method: f}
	in := contact.MethodInput{Kind: f.Kind, Name: f.Name, Address: f.Address, Secret: pf.Get("secret")}
	count, ok1 := atoiForm(f.ThrottleCount, 0)
	mins, ok2 := atoiForm(f.ThrottleMinutes, 0)
	switch {
	case !ok1:
		o.failed(w, r, id, forms, "method", &contact.FieldError{Field: "throttle_count", Msg: i18n.T(o.lang(r), "oncall.err_number")}, nil)
		return
	case !ok2 || mins < 0 || mins > 24*60:
		o.failed(w, r, id, forms, "method", &contact.FieldError{Field: "throttle_window", Msg: i18n.T(o.lang(r), "person.err_throttle_window")}, nil)
		return
	}
	in.ThrottleCount, in.ThrottleWindow = int(min(count, 1<<31-1)), time.Duration(mins)*time.Minute
	m, err := o.s.Contacts.Create(r.Context(), id, in)
	if err != nil {
		o.failed(w, r, id, forms, "method", err, nil)
		return
	}
	seeOther(w, r, personURL(id)+"?done=method_added#method-"+strconv.FormatInt(m.ID, 10))
}

func (o *oncallUI) sendCode(w http.ResponseWriter, r *http.Request) {
	id, m, ok := o.managedMethod(w, r)
	if !ok {
		return
	}
	if _, err := o.s.sendVerification(r.Context(), m, o.lang(r)); err != nil {
		key := "m-" + strconv.FormatInt(m.ID, 10)
		o.failed(w, r, id, personForms{}, key, err, func(string) string { return key })
		return
	}
	seeOther(w, r, personURL(id)+"?done=code_sent#method-"+strconv.FormatInt(m.ID, 10))
}

func (o *oncallUI) verifyCode(w http.ResponseWriter, r *http.Request) {
	id, m, ok := o.managedMethod(w, r)
	if !ok {
		return
	}
	key := "m-" + strconv.FormatInt(m.ID, 10)
	code := strings.TrimSpace(r.PostForm.Get("code"))
	err := error(&contact.FieldError{Field: "code", Msg: "is required"})
	if code != "" {
		err = o.s.Contacts.Verify(r.Context(), m.ID, code)
	}
	if err != nil {
		o.failed(w, r, id, personForms{}, key, notFound(err, "contact method"), func(string) string { return key })
		return
	}
	seeOther(w, r, personURL(id)+"?done=verified#method-"+strconv.FormatInt(m.ID, 10))
}

func (o *oncallUI) setMethodDisabled(w http.ResponseWriter, r *http.Request) {
	id, m, ok := o.managedMethod(w, r)
	if !ok {
		return
	}
	off := r.PostForm.Get("disabled") == "1"
	if err := o.s.Contacts.SetDisabled(r.Context(), m.ID, off); err != nil {
		o.fail(w, r, notFound(err, "contact method"))
		return
	}
	doneKey := "enabled"
	if off {
		doneKey = "disabled"
	}
	seeOther(w, r, personURL(id)+"?done="+doneKey+"#method-"+strconv.FormatInt(m.ID, 10))
}

func (o *oncallUI) deleteMethod(w http.ResponseWriter, r *http.Request) {
	id, m, ok := o.managedMethod(w, r)
	if !ok {
		return
	}
	if m.Source == contact.SourcePlan {
		key := "m-" + strconv.FormatInt(m.ID, 10)
		o.failed(w, r, id, personForms{}, key, &contact.FieldError{Field: key, Msg: i18n.T(o.lang(r), "person.err_plan_method")}, nil)
		return
	}
	if err := o.s.Contacts.Delete(r.Context(), m.ID); err != nil {
		o.fail(w, r, notFound(err, "contact method"))
		return
	}
	seeOther(w, r, personURL(id)+"?done=method_deleted#methods")
}

func (o *oncallUI) addRule(w http.ResponseWriter, r *http.Request) {
	id, ok := o.managed(w, r)
	if !ok {
		return
	}
	pf := r.PostForm
	mid, _ := atoiForm(pf.Get("method_id"), 0)
	f := personForms{Rule: ruleForm{MethodID: mid, Delay: pf.Get("delay_minutes")}, Levels: pf["levels"]}
	mins, ok := atoiForm(f.Rule.Delay, 0)
	if !ok || mins < 0 || mins > 24*60 {
		o.failed(w, r, id, f, "rule", &contact.FieldError{Field: "delay", Msg: i18n.T(o.lang(r), "person.err_delay")}, nil)
		return
	}
	_, err := o.s.Contacts.CreateRule(r.Context(), id, contact.RuleInput{MethodID: mid, Delay: time.Duration(mins) * time.Minute, Levels: f.Levels})
	if err != nil {
		o.failed(w, r, id, f, "rule", err, nil)
		return
	}
	seeOther(w, r, personURL(id)+"?done=rule_added#rules")
}

func (o *oncallUI) deleteRule(w http.ResponseWriter, r *http.Request) {
	id, ok := o.managed(w, r)
	if !ok {
		return
	}
	rids, ok := o.ids(w, r, "rid")
	if !ok {
		return
	}
	if err := o.s.Contacts.DeleteRule(r.Context(), id, rids[0]); err != nil {
		o.fail(w, r, notFound(err, "notification rule"))
		return
	}
	seeOther(w, r, personURL(id)+"?done=rule_deleted#rules")
}

func (o *oncallUI) setContactDetails(w http.ResponseWriter, r *http.Request) {
	id, ok := o.managed(w, r)
	if !ok {
		return
	}
	pf := r.PostForm
	d := contactDetails{Phone: pf.Get("phone"), ChatIDs: contact.ChatIDs{DingTalk: pf.Get("chat_dingtalk"), Feishu: pf.Get("chat_feishu"),
		WeCom: pf.Get("chat_wecom"), Slack: pf.Get("chat_slack")}}
	if err := o.s.setContactDetails(r.Context(), id, &d.Phone, &d.ChatIDs); err != nil {
		o.failed(w, r, id, personForms{Typed: &d}, "details", err, nil)
		return
	}
	seeOther(w, r, personURL(id)+"?done=details_saved#details")
}

func (o *oncallUI) rotateUserICal(w http.ResponseWriter, r *http.Request) {
	id, ok := o.managed(w, r)
	if !ok {
		return
	}
	if _, err := o.s.OnCall.RotateUserICalSecret(r.Context(), id); err != nil {
		o.fail(w, r, notFound(err, "user"))
		return
	}
	seeOther(w, r, personURL(id)+"?done=feed_rotated#feed")
}
