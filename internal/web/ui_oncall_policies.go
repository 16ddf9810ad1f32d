package web

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/firebreak/firebreak/internal/auth"
	"github.com/firebreak/firebreak/internal/escalation"
	"github.com/firebreak/firebreak/internal/i18n"
	"github.com/firebreak/firebreak/internal/service"
)

func policyURL(id int64) string { return "/policies/" + strconv.FormatInt(id, 10) }

// escTarget is a step's target on a page, linked to what it names.
type escTarget struct {
	Kind    string
	Label   string // the kind, for people
	Name    string
	Link    string
	Missing bool
}

// targetNames resolves escalation targets (usernames, slugs) to names and links.
type targetNames struct {
	byKind map[string]map[string]escTarget
	opts   []optGroup
}

type targetOpt struct {
	Value, Label string
	Selected     bool
}

type optGroup struct {
	Label string
	Opts  []targetOpt
}

func (o *oncallUI) targetNames(ctx context.Context, lang string, admin bool) (*targetNames, error) {
	tn := &targetNames{byKind: map[string]map[string]escTarget{}}
	add := func(kind, id, name, link string) {
		if tn.byKind[kind] == nil {
			tn.byKind[kind] = map[string]escTarget{}
			tn.opts = append(tn.opts, optGroup{Label: label(lang, "policy.kind.", kind)})
		}
		tn.byKind[kind][id] = escTarget{Kind: kind, Label: label(lang, "policy.kind.", kind), Name: name, Link: link}
		g := &tn.opts[len(tn.opts)-1]
		g.Opts = append(g.Opts, targetOpt{Value: kind + ":" + id, Label: name})
	}
	users, _, err := o.people(ctx)
	if err != nil {
		return nil, err
	}
	for _, u := range users {
		add(escalation.KindUser, u.Username, u.Name+" (@"+u.Username+")", personURL(u.ID))
	}
	scheds, err := o.s.OnCall.ListSchedules(ctx)
	if err != nil {
		return nil, err
	}
	for _, s := range scheds {
		add(escalation.KindSchedule, s.Slug, s.DisplayName(), scheduleURL(s.ID))
	}
	teams, err := o.s.OnCall.ListTeams(ctx)
	if err != nil {
		return nil, err
	}
	for _, t := range teams {
		add(escalation.KindTeam, t.Slug, t.Name, teamURL(t.ID))
	}
	chans, err := o.s.Contacts.ListChannels(ctx)
	if err != nil {
		return nil, err
	}
	for _, c := range chans {
		link := ""
		if admin {
			link = "/channels#channel-" + strconv.FormatInt(c.ID, 10)
		}
		name := c.Name
		if name == "" {
			name = c.Slug
		}
		add(escalation.KindChannel, c.Slug, name, link)
	}
	return tn, nil
}

// view names target t; a target whose thing is gone is marked missing.
func (tn *targetNames) view(lang string, t escalation.Target) escTarget {
	kind := t.Kind
	if kind == escalation.KindContact {
		kind = escalation.KindChannel
	}
	if v, ok := tn.byKind[kind][t.ID]; ok {
		return v
	}
	return escTarget{Kind: t.Kind, Label: label(lang, "policy.kind.", kind), Name: t.ID, Missing: true}
}

// options returns the choices of a step's target list with selected chosen;
// selected targets that no longer exist stay offered, so saving keeps them.
func (tn *targetNames) options(lang string, selected []string) []optGroup {
	out := make([]optGroup, 0, len(tn.opts)+1)
	seen := map[string]bool{}
	for _, g := range tn.opts {
		ng := optGroup{Label: g.Label}
		for _, op := range g.Opts {
			op.Selected = slices.Contains(selected, op.Value)
			seen[op.Value] = true
			ng.Opts = append(ng.Opts, op)
		}
		out = append(out, ng)
	}
	var gone optGroup
	for _, v := range selected {
		if !seen[v] {
			gone.Opts = append(gone.Opts, targetOpt{Value: v, Label: v, Selected: true})
		}
	}
	if len(gone.Opts) > 0 {
		gone.Label = i18n.T(lang, "policy.missing_targets")
		out = append(out, gone)
	}
	return out
}

// policyRow is one policy in the list.
type policyRow struct {
	escalation.Record
	Plan     bool
	Services []scheduleRef
	Targets  []escTarget
}

// servicesByPolicy maps policy ids to the services using them.
func (o *oncallUI) servicesByPolicy(ctx context.Context) (map[int64][]scheduleRef, error) {
	svcs, err := o.s.Services.List(ctx)
	if err != nil {
		return nil, err
	}
	out := map[int64][]scheduleRef{}
	for _, sv := range svcs {
		if sv.EscalationPolicyID != 0 {
			out[sv.EscalationPolicyID] = append(out[sv.EscalationPolicyID], scheduleRef{sv.ID, sv.Name})
		}
	}
	return out, nil
}

func (o *oncallUI) policiesPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	lang := o.lang(r)
	ps, err := o.s.Policies.List(ctx)
	if err != nil {
		o.fail(w, r, err)
		return
	}
	uses, err := o.servicesByPolicy(ctx)
	if err != nil {
		o.fail(w, r, err)
		return
	}
	tn, err := o.targetNames(ctx, lang, user(r).Role.AtLeast(auth.Admin))
	if err != nil {
		o.fail(w, r, err)
		return
	}
	var d struct {
		Rows []policyRow
		Done string
	}
	d.Done = done(lang, r)
	for _, p := range ps {
		row := policyRow{Record: p, Plan: p.Source == "plan", Services: uses[p.ID]}
		if len(p.Steps) > 0 {
			for _, t := range p.Steps[0].Targets {
				row.Targets = append(row.Targets, tn.view(lang, t))
			}
		}
		d.Rows = append(d.Rows, row)
	}
	o.page(w, r, http.StatusOK, "policies", "policies", "policies.title", d)
}

type stepView struct {
	When    string
	Targets []escTarget
}

type policyData struct {
	Rec        escalation.Record
	Name       string
	Plan       bool
	Steps      []stepView
	AckTimeout string
	Cycle      string
	Services   []scheduleRef
	Errors     map[string]string
	Done       string
}

func (o *oncallUI) policyPage(w http.ResponseWriter, r *http.Request) {
	ids, ok := o.ids(w, r, "id")
	if ok {
		o.renderPolicy(w, r, http.StatusOK, ids[0], nil)
	}
}

func (o *oncallUI) renderPolicy(w http.ResponseWriter, r *http.Request, status int, id int64, errs map[string]string) {
	ctx := r.Context()
	lang := o.lang(r)
	p, err := o.s.Policies.Get(ctx, id)
	if err != nil {
		o.fail(w, r, err)
		return
	}
	tn, err := o.targetNames(ctx, lang, user(r).Role.AtLeast(auth.Admin))
	if err != nil {
		o.fail(w, r, err)
		return
	}
	uses, err := o.servicesByPolicy(ctx)
	if err != nil {
		o.fail(w, r, err)
		return
	}
	d := policyData{Rec: p, Name: p.Name, Plan: p.Source == "plan", Services: uses[p.ID], Errors: errs, Done: done(lang, r)}
	if d.Name == "" {
		d.Name = p.Slug
	}
	if p.AckTimeout > 0 {
		d.AckTimeout = durText(lang, time.Duration(p.AckTimeout))
	}
	if len(p.Steps) > 0 {
		d.Cycle = durText(lang, escalation.CycleLength(p.Policy()))
	}
	for i, st := range p.Steps {
		after := durText(lang, time.Duration(st.After))
		sv := stepView{When: i18n.T(lang, "policy.step_after", after)}
		switch {
		case st.After == 0:
			sv.When = i18n.T(lang, "policy.at_once")
		case i == 0:
			sv.When = i18n.T(lang, "policy.step_first", after)
		}
		for _, t := range st.Targets {
			sv.Targets = append(sv.Targets, tn.view(lang, t))
		}
		d.Steps = append(d.Steps, sv)
	}
	o.titled(w, r, status, "policy", "policies", d.Name, d)
}

// ---- the policy form ----

// stepForm is one step row of the policy form as typed.
type stepForm struct {
	Row     int
	After   string
	Targets []string // "kind:id"
	Remove  bool
	Groups  []optGroup
	Chosen  []string // the chosen targets, named
}

// Number is the row's number for people, from 1.
func (sf stepForm) Number() int { return sf.Row + 1 }

// Blank reports whether nothing was chosen in the row (it is left out).
func (sf stepForm) Blank() bool { return strings.TrimSpace(sf.After) == "" && len(sf.Targets) == 0 }

type policyForm struct {
	Slug, Name, Description, Repeat, AckTimeout string
	Steps                                       []stepForm
}

type policyEditData struct {
	ID     int64
	Plan   bool
	Form   policyForm
	Errors map[string]string
}

// spareSteps is how many empty step rows the form offers.
const spareSteps = 2

func (o *oncallUI) renderPolicyEdit(w http.ResponseWriter, r *http.Request, status int, d policyEditData) {
	lang := o.lang(r)
	tn, err := o.targetNames(r.Context(), lang, true)
	if err != nil {
		o.fail(w, r, err)
		return
	}
	blank := 0
	for _, st := range d.Form.Steps {
		if st.Blank() {
			blank++
		}
	}
	for ; blank < spareSteps; blank++ {
		d.Form.Steps = append(d.Form.Steps, stepForm{})
	}
	for i := range d.Form.Steps {
		d.Form.Steps[i].Row = i
		st := &d.Form.Steps[i]
		st.Groups = tn.options(lang, st.Targets)
		for _, g := range st.Groups {
			for _, op := range g.Opts {
				if op.Selected {
					st.Chosen = append(st.Chosen, g.Label+" "+op.Label)
				}
			}
		}
	}
	if d.ID == 0 {
		o.page(w, r, status, "policy_edit", "policies", "policy_edit.new_title", d)
		return
	}
	o.page(w, r, status, "policy_edit", "policies", "policy_edit.edit_title", d, d.Form.Name)
}

func (o *oncallUI) newPolicy(w http.ResponseWriter, r *http.Request) {
	o.renderPolicyEdit(w, r, http.StatusOK, policyEditData{Form: policyForm{Repeat: "0", AckTimeout: "0",
		Steps: []stepForm{{After: "0"}}}})
}

func (o *oncallUI) editPolicy(w http.ResponseWriter, r *http.Request) {
	ids, ok := o.ids(w, r, "id")
	if !ok {
		return
	}
	p, err := o.s.Policies.Get(r.Context(), ids[0])
	if err != nil {
		o.fail(w, r, err)
		return
	}
	f := policyForm{Slug: p.Slug, Name: p.Name, Description: p.Description, Repeat: strconv.Itoa(p.Repeat), AckTimeout: durationText(p.AckTimeout)}
	for _, st := range p.Steps {
		sf := stepForm{After: durationText(st.After)}
		for _, t := range st.Targets {
			kind := t.Kind
			if kind == escalation.KindContact {
				kind = escalation.KindChannel
			}
			sf.Targets = append(sf.Targets, kind+":"+t.ID)
		}
		f.Steps = append(f.Steps, sf)
	}
	o.renderPolicyEdit(w, r, http.StatusOK, policyEditData{ID: p.ID, Plan: p.Source == "plan", Form: f})
}

// formDuration reads a duration typed in a form: minutes as a plain number,
// or Go syntax such as 1h30m.
func formDuration(v string) (escalation.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, true
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 || n > 7*24*60 {
			return 0, false
		}
		return escalation.Duration(time.Duration(n) * time.Minute), true
	}
	d, err := time.ParseDuration(v)
	return escalation.Duration(d), err == nil && d >= 0
}

func readPolicyForm(r *http.Request) policyForm {
	f := r.PostForm
	pf := policyForm{Slug: f.Get("slug"), Name: f.Get("name"), Description: f.Get("description"), Repeat: f.Get("repeat"), AckTimeout: f.Get("ack_timeout")}
	n, _ := atoiForm(f.Get("step_rows"), 0)
	for i := range int(min(max(n, 0), 40)) {
		p := "steps." + strconv.Itoa(i) + "."
		pf.Steps = append(pf.Steps, stepForm{Row: i, After: f.Get(p + "after"), Targets: f[p+"targets"], Remove: f.Get(p+"remove") == "1"})
	}
	return pf
}

// input turns the form into a policy; rows maps the policy's step index to
// the form's row.
func (pf policyForm) input(lang string) (escalation.Input, []int, error) {
	in := escalation.Input{Slug: strings.TrimSpace(pf.Slug), Name: strings.TrimSpace(pf.Name), Description: strings.TrimSpace(pf.Description),
		Steps: []escalation.StepRecord{}}
	rep, ok := atoiForm(pf.Repeat, 0)
	if !ok || rep < 0 || rep > 20 {
		return in, nil, &formInputError{"repeat", i18n.T(lang, "policy_edit.err_repeat")}
	}
	in.Repeat = int(rep)
	if in.AckTimeout, ok = formDuration(pf.AckTimeout); !ok {
		return in, nil, &formInputError{"ack_timeout", i18n.T(lang, "policy_edit.err_duration")}
	}
	var rows []int
	for _, sf := range pf.Steps {
		if sf.Remove || sf.Blank() {
			continue
		}
		st := escalation.StepRecord{Targets: []escalation.Target{}}
		if st.After, ok = formDuration(sf.After); !ok {
			return in, nil, &formInputError{"steps." + strconv.Itoa(sf.Row) + ".after", i18n.T(lang, "policy_edit.err_duration")}
		}
		for _, v := range sf.Targets {
			kind, id, _ := strings.Cut(v, ":")
			st.Targets = append(st.Targets, escalation.Target{Kind: kind, ID: id})
		}
		in.Steps = append(in.Steps, st)
		rows = append(rows, sf.Row)
	}
	return in, rows, nil
}

var stepField = regexp.MustCompile(`^steps\[(\d+)\]\.([a-z_]+)`)

func (o *oncallUI) savePolicy(w http.ResponseWriter, r *http.Request, id int64) {
	if !o.form(w, r) {
		return
	}
	ctx := r.Context()
	lang := o.lang(r)
	pf := readPolicyForm(r)
	d := policyEditData{ID: id, Form: pf}
	in, rows, err := pf.input(lang)
	var p escalation.Record
	if err == nil {
		if id == 0 {
			p, err = o.s.Policies.Create(ctx, in)
		} else {
			var cur escalation.Record
			if cur, err = o.s.Policies.Get(ctx, id); err == nil {
				d.Plan = cur.Source == "plan"
				if d.Plan {
					err = &formInputError{"form", i18n.T(lang, "policy_edit.err_plan")}
				} else {
					p, err = o.s.Policies.Update(ctx, id, in)
				}
			}
		}
	}
	if err != nil {
		key, msg, ok := "", "", false
		if fe, isForm := err.(*formInputError); isForm {
			key, msg, ok = fe.key, fe.msg, true
		} else if key, msg, ok = formError(lang, err); ok {
			if m := stepField.FindStringSubmatch(key); m != nil {
				i, _ := strconv.Atoi(m[1])
				if i < len(rows) {
					key = "steps." + strconv.Itoa(rows[i]) + "." + m[2]
				}
			} else if key == "steps" {
				key = "form"
			}
		}
		if !ok {
			o.fail(w, r, err)
			return
		}
		d.Errors = map[string]string{key: msg}
		o.renderPolicyEdit(w, r, http.StatusUnprocessableEntity, d)
		return
	}
	doneKey := "policy_saved"
	if id == 0 {
		doneKey = "policy_created"
	}
	seeOther(w, r, policyURL(p.ID)+"?done="+doneKey)
}

func (o *oncallUI) createPolicy(w http.ResponseWriter, r *http.Request) { o.savePolicy(w, r, 0) }

func (o *oncallUI) updatePolicy(w http.ResponseWriter, r *http.Request) {
	if ids, ok := o.ids(w, r, "id"); ok {
		o.savePolicy(w, r, ids[0])
	}
}

func (o *oncallUI) deletePolicy(w http.ResponseWriter, r *http.Request) {
	ids, ok := o.ids(w, r, "id")
	if !ok || !o.form(w, r) {
		return
	}
	ctx := r.Context()
	p, err := o.s.Policies.Get(ctx, ids[0])
	if err != nil {
		o.fail(w, r, err)
		return
	}
	if p.Source == "plan" {
		o.renderPolicy(w, r, http.StatusConflict, p.ID, map[string]string{"form": i18n.T(o.lang(r), "policy_edit.err_plan")})
		return
	}
	if err := o.s.Policies.Delete(ctx, p.ID); err != nil {
		o.fail(w, r, err)
		return
	}
	seeOther(w, r, "/policies?done=policy_deleted")
}

// setServicePolicy chooses a service's escalation policy (0: the plan's for
// the incident's level).
func (o *oncallUI) setServicePolicy(w http.ResponseWriter, r *http.Request) {
	ids, ok := o.ids(w, r, "id")
	if !ok || !o.form(w, r) {
		return
	}
	ctx := r.Context()
	sv, err := o.s.Services.Get(ctx, ids[0])
	if err != nil {
		o.s.failErr(w, r, err)
		return
	}
	pid, ok := atoiForm(r.PostForm.Get("escalation_policy_id"), 0)
	if !ok {
		o.s.fail(w, r, http.StatusBadRequest, "escalation_policy_id", "escalation_policy_id: choose a policy from the list")
		return
	}
	if _, err := o.s.Services.Update(ctx, sv.ID, service.Input{Name: sv.Name, Description: sv.Description, EscalationPolicyID: &pid}); err != nil {
		o.s.failErr(w, r, err)
		return
	}
	seeOther(w, r, "/services#service-"+strconv.FormatInt(sv.ID, 10))
}
