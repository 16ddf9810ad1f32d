package web

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/firebreak/firebreak/internal/escalation"
	"github.com/firebreak/firebreak/internal/i18n"
	"github.com/firebreak/firebreak/internal/service"
)

type servicesData struct {
	Services []serviceView
	Form     service.Input
	Auto     bool
	Errors   map[string]string
	Policies []escalation.Record // to choose a service's escalation policy from
	PolicyID int64               // the create form's choice
}

func (u *ui) renderServices(w http.ResponseWriter, r *http.Request, status int, d servicesData) {
	all, err := u.s.Services.List(r.Context())
	if err != nil {
		u.s.failErr(w, r, err)
		return
	}
	for _, sv := range all {
		d.Services = append(d.Services, u.s.viewService(sv))
	}
	if u.s.Policies != nil {
		if d.Policies, err = u.s.Policies.List(r.Context()); err != nil {
			u.s.failErr(w, r, err)
			return
		}
	}
	v := u.view(r, "", "services", d)
	v.Title = i18n.T(v.Lang, "services.title")
	u.render(w, r, status, "services", v)
}

func (u *ui) servicesPage(w http.ResponseWriter, r *http.Request) {
	u.renderServices(w, r, http.StatusOK, servicesData{Auto: true})
}

func (u *ui) createService(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r); err != nil {
		u.s.failErr(w, r, err)
		return
	}
	auto := r.PostForm.Get("auto_resolve") != ""
	in := service.Input{Name: r.PostForm.Get("name"), Description: r.PostForm.Get("description"), AutoResolve: &auto}
	var pid int64
	if v := r.PostForm.Get("escalation_policy_id"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			u.s.fail(w, r, http.StatusBadRequest, "escalation_policy_id", "escalation_policy_id: choose a policy from the list")
			return
		}
		pid, in.EscalationPolicyID = n, &n
	}
	sv, err := u.s.Services.Create(r.Context(), in)
	var fe *service.FieldError
	if errors.As(err, &fe) {
		msg := fe.Msg
		if msg == "is required" {
			msg = i18n.T(u.lang(r), "form.required")
		}
		u.renderServices(w, r, http.StatusUnprocessableEntity, servicesData{Form: in, Auto: auto, PolicyID: pid, Errors: map[string]string{fe.Field: msg}})
		return
	}
	if err != nil {
		u.s.failErr(w, r, err)
		return
	}
	seeOther(w, r, "/services#service-"+strconv.FormatInt(sv.ID, 10))
}

func (u *ui) addKey(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err == nil {
		err = parseForm(w, r)
	}
	if err != nil {
		u.s.failErr(w, r, err)
		return
	}
	if _, err := u.s.Services.AddKey(r.Context(), id, r.PostForm.Get("name")); err != nil {
		u.s.failErr(w, r, err)
		return
	}
	seeOther(w, r, "/services#service-"+strconv.FormatInt(id, 10))
}
