package web

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/firebreak/firebreak/internal/auth"
	"github.com/firebreak/firebreak/internal/contact"
	"github.com/firebreak/firebreak/internal/i18n"
	"github.com/firebreak/firebreak/internal/service"
)

// page renders one of the on-call pages in the layout, titled by a message key.
func (o *oncallUI) page(w http.ResponseWriter, r *http.Request, status int, tmpl, nav, titleKey string, d any, args ...any) {
	u := o.ui()
	v := u.view(r, "", nav, d)
	v.Title = i18n.T(v.Lang, titleKey, args...)
	u.render(w, r, status, tmpl, v)
}

// titled renders a page whose title is a name rather than a message.
func (o *oncallUI) titled(w http.ResponseWriter, r *http.Request, status int, tmpl, nav, title string, d any) {
	u := o.ui()
	u.render(w, r, status, tmpl, u.view(r, title, nav, d))
}

func (o *oncallUI) lang(r *http.Request) string { return o.ui().lang(r) }

// fail answers a request that went wrong with the error page.
func (o *oncallUI) fail(w http.ResponseWriter, r *http.Request, err error) { o.s.oncallFail(w, r, err) }

// form parses a posted form; on failure it has answered.
func (o *oncallUI) form(w http.ResponseWriter, r *http.Request) bool {
	if err := parseForm(w, r); err != nil {
		o.fail(w, r, err)
		return false
	}
	return true
}

// ids reads the path ids of a form route; on failure it has answered.
func (o *oncallUI) ids(w http.ResponseWriter, r *http.Request, names ...string) ([]int64, bool) {
	out := make([]int64, len(names))
	for i, n := range names {
		id, err := pathID(r, n)
		if err != nil {
			o.fail(w, r, err)
			return nil, false
		}
		out[i] = id
	}
	return out, true
}

// formError returns the field an input error blames (or "form") and its
// message in lang; ok is false for errors that are not about input.
func formError(lang string, err error) (field, msg string, ok bool) {
	var se *service.FieldError
	var je *jsonError
	switch {
	case errors.Is(err, contact.ErrCodeWrong):
		return "code", i18n.T(lang, "oncall.err_code_wrong"), true
	case errors.Is(err, contact.ErrCodeExpired):
		return "code", i18n.T(lang, "oncall.err_code_expired"), true
	case errors.Is(err, contact.ErrNoCode):
		return "code", i18n.T(lang, "oncall.err_no_code"), true
	case errors.Is(err, contact.ErrTooManyAttempts):
		return "code", i18n.T(lang, "oncall.err_code_attempts"), true
	case errors.Is(err, contact.ErrNotConfigured):
		return "form", i18n.T(lang, "oncall.err_not_configured", err.Error()), true
	}
	if f, m, isField := fieldOf(err); isField {
		field, msg, ok = f, m, true
	} else if errors.As(err, &se) {
		field, msg, ok = se.Field, se.Msg, true
	} else if errors.As(err, &je) && je.status != http.StatusNotFound &&
		(je.status < 500 || je.status == http.StatusBadGateway || je.status == http.StatusServiceUnavailable) {
		field, msg, ok = je.field, je.msg, true
		switch {
		case je == errNoDelivery:
			msg = i18n.T(lang, "oncall.err_no_delivery")
		case je == errCodeTooSoon:
			msg = i18n.T(lang, "oncall.err_code_too_soon", int(verifyGap/time.Second))
		case je.status == http.StatusBadGateway:
			msg = i18n.T(lang, "oncall.err_delivery", strings.TrimPrefix(je.msg, deliveryFailed))
		}
	}
	if !ok {
		return "", "", false
	}
	if msg == "is required" || strings.HasPrefix(msg, "is required:") || strings.HasPrefix(msg, "is required ") {
		msg = i18n.T(lang, "form.required")
	}
	if field == "" {
		field = "form"
	}
	return field, msg, true
}

// done is the confirmation a page shows after a form went through, named by
// ?done= (only known messages are shown).
func done(lang string, r *http.Request) string {
	k := r.URL.Query().Get("done")
	if k == "" || strings.ContainsAny(k, ". ") || !i18n.Has("oncall.done."+k) {
		return ""
	}
	return i18n.T(lang, "oncall.done."+k)
}

// userOpt is a person as a choice in a form.
type userOpt struct {
	ID       int64
	Username string
	Name     string
}

func nameOf(u auth.User) string {
	if u.DisplayName != "" {
		return u.DisplayName
	}
	return u.Username
}

// people returns every enabled user as choices, and every user by id.
func (o *oncallUI) people(ctx context.Context) ([]userOpt, map[int64]auth.User, error) {
	us, err := o.s.Auth.ListUsers(ctx)
	if err != nil {
		return nil, nil, err
	}
	byID := make(map[int64]auth.User, len(us))
	var opts []userOpt
	for _, u := range us {
		byID[u.ID] = u
		if !u.Disabled {
			opts = append(opts, userOpt{ID: u.ID, Username: u.Username, Name: nameOf(u)})
		}
	}
	return opts, byID, nil
}

// personName names user id for a page: the display name, or "#id" when the
// user is gone.
func personName(byID map[int64]auth.User, id int64) string {
	if u, ok := byID[id]; ok {
		return nameOf(u)
	}
	return "#" + strconv.FormatInt(id, 10)
}

// Times on the on-call pages are shown in a schedule's zone.
const (
	wallMinute = "2006-01-02 15:04"
	formMinute = "2006-01-02T15:04" // <input type="datetime-local">
)

// parseLocal reads a datetime-local value in tz.
func parseLocal(v string, tz *time.Location) (time.Time, bool) {
	v = strings.TrimSpace(v)
	for _, layout := range []string{formMinute, formMinute + ":05", wallMinute} {
		if t, err := time.ParseInLocation(layout, v, tz); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func loadZone(name string) *time.Location {
	tz, err := time.LoadLocation(name)
	if err != nil || name == "" {
		return time.UTC
	}
	return tz
}

// weekdayKeys name the days, Sunday first as time.Weekday counts.
var weekdayKeys = []string{"oncall.day.sun", "oncall.day.mon", "oncall.day.tue", "oncall.day.wed", "oncall.day.thu", "oncall.day.fri", "oncall.day.sat"}

// span writes a shift's time range in tz: "05-04 10:00 – 05-11 10:00", with
// the end's date left out when it is the same day.
func span(start, end time.Time, tz *time.Location) string {
	s, e := start.In(tz), end.In(tz)
	if s.Format(time.DateOnly) == e.Format(time.DateOnly) {
		return s.Format("01-02 15:04") + " – " + e.Format("15:04")
	}
	return s.Format("01-02 15:04") + " – " + e.Format("01-02 15:04")
}

// atoiForm reads a whole number of a form; empty is def.
func atoiForm(v string, def int64) (int64, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return def, true
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil
}
