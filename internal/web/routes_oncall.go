package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/firebreak/firebreak/internal/auth"
	"github.com/firebreak/firebreak/internal/contact"
	"github.com/firebreak/firebreak/internal/escalation"
	"github.com/firebreak/firebreak/internal/oncall"
)

// oncallPages are the page templates of the on-call area.
var oncallPages = []string{"oncall_me", "people", "person", "teams", "team", "schedules", "schedule", "schedule_edit",
	"policies", "policy", "policy_edit", "channels"}

// registerOnCall registers the on-call area: people, contact methods and
// notification rules, teams, schedules and overrides, iCal feeds, escalation
// policies (API and UI).
func (s *Server) registerOnCall() {
	// People: contact methods, verification, notification rules, phone and
	// chat ids, personal iCal feed. Everyone manages their own; admins anyone's.
	s.handle("GET /api/v1/users/{id}/contact-methods", Viewer, s.apiListMethods)
	s.handle("POST /api/v1/users/{id}/contact-methods", Viewer, s.apiCreateMethod)
	s.handle("GET /api/v1/contact-methods/{id}", Viewer, s.apiGetMethod)
	s.handle("PATCH /api/v1/contact-methods/{id}", Viewer, s.apiUpdateMethod)
	s.handle("DELETE /api/v1/contact-methods/{id}", Viewer, s.apiDeleteMethod)
	s.handle("POST /api/v1/contact-methods/{id}/verification", Viewer, s.apiSendVerification)
	s.handle("POST /api/v1/contact-methods/{id}/verify", Viewer, s.apiVerifyMethod)
	s.handle("GET /api/v1/users/{id}/notification-rules", Viewer, s.apiListRules)
	s.handle("POST /api/v1/users/{id}/notification-rules", Viewer, s.apiCreateRule)
	s.handle("DELETE /api/v1/users/{id}/notification-rules/{ruleID}", Viewer, s.apiDeleteRule)
	s.handle("GET /api/v1/users/{id}/contact-details", Viewer, s.apiGetContactDetails)
	s.handle("PATCH /api/v1/users/{id}/contact-details", Viewer, s.apiUpdateContactDetails)
	s.handle("GET /api/v1/users/{id}/ical", Viewer, s.apiUserICal)
	s.handle("POST /api/v1/users/{id}/ical/rotate", Viewer, s.apiRotateUserICal)
	s.handle("GET /api/v1/users/{id}/shifts", Viewer, s.apiUserShifts)
	s.handle("GET /api/v1/me/shifts", Viewer, s.apiUserShifts)

	// Teams and shared channels.
	s.handle("GET /api/v1/teams", Viewer, s.apiListTeams)
	s.handle("POST /api/v1/teams", Admin, s.apiCreateTeam)
	s.handle("GET /api/v1/teams/{id}", Viewer, s.apiGetTeam)
	s.handle("PATCH /api/v1/teams/{id}", Admin, s.apiUpdateTeam)
	s.handle("DELETE /api/v1/teams/{id}", Admin, s.apiDeleteTeam)
	s.handle("PUT /api/v1/teams/{id}/members", Admin, s.apiSetTeamMembers)
	s.handle("POST /api/v1/teams/{id}/members", Admin, s.apiAddTeamMember)
	s.handle("DELETE /api/v1/teams/{id}/members/{userID}", Admin, s.apiRemoveTeamMember)
	s.handle("GET /api/v1/channels", Admin, s.apiListChannels)
	s.handle("POST /api/v1/channels", Admin, s.apiCreateChannel)
	s.handle("GET /api/v1/channels/{id}", Admin, s.apiGetChannel)
	s.handle("PATCH /api/v1/channels/{id}", Admin, s.apiUpdateChannel)
	s.handle("DELETE /api/v1/channels/{id}", Admin, s.apiDeleteChannel)

	// Schedules, who is on call, overrides, iCal feeds.
	s.handle("GET /api/v1/schedules", Viewer, s.apiListSchedules)
	s.handle("POST /api/v1/schedules", Admin, s.apiCreateSchedule)
	s.handle("GET /api/v1/schedules/{id}", Viewer, s.apiGetSchedule)
	s.handle("PUT /api/v1/schedules/{id}", Admin, s.apiUpdateSchedule)
	s.handle("DELETE /api/v1/schedules/{id}", Admin, s.apiDeleteSchedule)
	s.handle("GET /api/v1/schedules/{id}/on-call", Viewer, s.apiOnCall)
	s.handle("GET /api/v1/schedules/{id}/shifts", Viewer, s.apiScheduleShifts)
	s.handle("GET /api/v1/schedules/{id}/overrides", Viewer, s.apiListOverrides)
	s.handle("POST /api/v1/schedules/{id}/overrides", Responder, s.apiAddOverride)
	s.handle("DELETE /api/v1/schedules/{id}/overrides/{overrideID}", Responder, s.apiDeleteOverride)
	s.handle("POST /api/v1/schedules/{id}/take-shift", Responder, s.apiTakeShift)
	s.handle("POST /api/v1/schedules/{id}/cover", Responder, s.apiCover)
	s.handle("POST /api/v1/shift-swaps", Responder, s.apiSwap)
	s.handle("GET /api/v1/schedules/{id}/ical", Viewer, s.apiScheduleICal)
	s.handle("POST /api/v1/schedules/{id}/ical/rotate", Admin, s.apiRotateScheduleICal)
	s.handle("GET /ical/schedules/{file}", Public, s.icalScheduleFeed)
	s.handle("GET /ical/users/{file}", Public, s.icalUserFeed)

	// Escalation policies.
	s.handle("GET /api/v1/escalation-policies", Viewer, s.apiListPolicies)
	s.handle("POST /api/v1/escalation-policies", Admin, s.apiCreatePolicy)
	s.handle("GET /api/v1/escalation-policies/{id}", Viewer, s.apiGetPolicy)
	s.handle("PUT /api/v1/escalation-policies/{id}", Admin, s.apiUpdatePolicy)
	s.handle("DELETE /api/v1/escalation-policies/{id}", Admin, s.apiDeletePolicy)

	// Browser UI.
	u := &oncallUI{s: s}
	s.handle("GET /me", Viewer, u.mePage)
	s.handle("GET /people", Viewer, u.peoplePage)
	s.handle("GET /people/{id}", Viewer, u.personPage)
	s.handle("POST /people/{id}/contact-methods", Viewer, u.addMethod)
	s.handle("POST /people/{id}/contact-methods/{mid}/verification", Viewer, u.sendCode)
	s.handle("POST /people/{id}/contact-methods/{mid}/verify", Viewer, u.verifyCode)
	s.handle("POST /people/{id}/contact-methods/{mid}/disabled", Viewer, u.setMethodDisabled)
	s.handle("POST /people/{id}/contact-methods/{mid}/delete", Viewer, u.deleteMethod)
	s.handle("POST /people/{id}/notification-rules", Viewer, u.addRule)
	s.handle("POST /people/{id}/notification-rules/{rid}/delete", Viewer, u.deleteRule)
	s.handle("POST /people/{id}/contact-details", Viewer, u.setContactDetails)
	s.handle("POST /people/{id}/ical/rotate", Viewer, u.rotateUserICal)

	s.handle("GET /teams", Viewer, u.teamsPage)
	s.handle("POST /teams", Admin, u.createTeam)
	s.handle("GET /teams/{id}", Viewer, u.teamPage)
	s.handle("POST /teams/{id}", Admin, u.updateTeam)
	s.handle("POST /teams/{id}/delete", Admin, u.deleteTeam)
	s.handle("POST /teams/{id}/members", Admin, u.addTeamMember)
	s.handle("POST /teams/{id}/members/{uid}/delete", Admin, u.removeTeamMember)

	s.handle("GET /channels", Admin, u.channelsPage)
	s.handle("POST /channels", Admin, u.createChannel)
	s.handle("POST /channels/{id}", Admin, u.updateChannel)
	s.handle("POST /channels/{id}/delete", Admin, u.deleteChannel)

	s.handle("GET /schedules", Viewer, u.schedulesPage)
	s.handle("GET /schedules/new", Admin, u.newSchedule)
	s.handle("POST /schedules", Admin, u.createSchedule)
	s.handle("GET /schedules/{id}", Viewer, u.schedulePage)
	s.handle("GET /schedules/{id}/edit", Admin, u.editSchedule)
	s.handle("POST /schedules/{id}", Admin, u.updateSchedule)
	s.handle("POST /schedules/{id}/delete", Admin, u.deleteSchedule)
	s.handle("POST /schedules/{id}/overrides", Responder, u.addOverride)
	s.handle("POST /schedules/{id}/overrides/{oid}/delete", Responder, u.deleteOverride)
	s.handle("POST /schedules/{id}/take", Responder, u.takeShift)
	s.handle("POST /schedules/{id}/swap", Responder, u.swapShifts)
	s.handle("POST /schedules/{id}/ical/rotate", Admin, u.rotateScheduleICal)

	s.handle("GET /policies", Viewer, u.policiesPage)
	s.handle("GET /policies/new", Admin, u.newPolicy)
	s.handle("POST /policies", Admin, u.createPolicy)
	s.handle("GET /policies/{id}", Viewer, u.policyPage)
	s.handle("GET /policies/{id}/edit", Admin, u.editPolicy)
	s.handle("POST /policies/{id}", Admin, u.updatePolicy)
	s.handle("POST /policies/{id}/delete", Admin, u.deletePolicy)
	s.handle("POST /services/{id}/escalation-policy", Admin, u.setServicePolicy)
}

// oncallUI renders the on-call pages; it reaches the shared page machinery
// (templates, layout, language) through the server's ui, built after it.
type oncallUI struct{ s *Server }

func (o *oncallUI) ui() *ui { return o.s.ui }

// mayManage reports whether the caller may manage user id's contact methods,
// rules, phone, chat ids and iCal feed: their own, or anyone's as an admin.
func mayManage(r *http.Request, userID int64) bool {
	u := user(r)
	return u.ID == userID || u.Role.AtLeast(auth.Admin)
}

// errNotYours answers for another person's contact settings: as for a token,
// what is not yours is not found (an admin may manage anyone's).
var errNotYours = &jsonError{http.StatusNotFound, "", "not found among your own contact settings (only an admin manages other people's)"}

// notFound turns any store's ErrNotFound into a 404 naming what was not found.
func notFound(err error, what string) error {
	if errors.Is(err, contact.ErrNotFound) || errors.Is(err, oncall.ErrNotFound) || errors.Is(err, escalation.ErrNotFound) {
		return &jsonError{http.StatusNotFound, "", what + " not found"}
	}
	return err
}

// fieldOf returns the field and message of an on-call store's input error.
func fieldOf(err error) (field, msg string, ok bool) {
	var cfe *contact.FieldError
	var ofe *oncall.FieldError
	var efe *escalation.FieldError
	switch {
	case errors.As(err, &cfe):
		return cfe.Field, cfe.Msg, true
	case errors.As(err, &ofe):
		return ofe.Field, ofe.Msg, true
	case errors.As(err, &efe):
		return efe.Field, efe.Msg, true
	}
	return "", "", false
}

// renameFields names store fields as the API's JSON names them.
func renameFields(err error, names map[string]string) error {
	field, msg, ok := fieldOf(err)
	if !ok {
		return err
	}
	if n, ok := names[field]; ok {
		return &contact.FieldError{Field: n, Msg: msg}
	}
	return err
}

// Errors of the on-call area that are not about one field.
var (
	errPlanPolicy   = &jsonError{http.StatusConflict, "", "this escalation policy comes from the emergency plan; change the plan instead"}
	errPlanChannel  = &jsonError{http.StatusConflict, "", "this channel comes from the emergency plan; change the plan instead"}
	errPlanMethod   = &jsonError{http.StatusConflict, "", "this contact method comes from the emergency plan: its kind and address follow the plan; disable it instead"}
	errPlanOverride = &jsonError{http.StatusConflict, "", "this override comes from the emergency plan; change the plan instead"}
	errNoDelivery   = &jsonError{http.StatusServiceUnavailable, "", "cannot send: notification delivery is not running on this server"}
)

// oncallFail answers with the error of an on-call store: input errors as 400
// naming the field, missing things as 404, plan-owned things as 409,
// verification failures naming the code; the rest as failErr does.
func (s *Server) oncallFail(w http.ResponseWriter, r *http.Request, err error) {
	if field, msg, ok := fieldOf(err); ok {
		s.fail(w, r, http.StatusBadRequest, field, field+": "+msg)
		return
	}
	switch {
	case errors.Is(err, oncall.ErrPlanManaged):
		s.fail(w, r, http.StatusConflict, "", err.Error())
	case errors.Is(err, contact.ErrCodeWrong):
		s.fail(w, r, http.StatusBadRequest, "code", "code: "+err.Error())
	case errors.Is(err, contact.ErrNoCode), errors.Is(err, contact.ErrCodeExpired), errors.Is(err, contact.ErrTooManyAttempts):
		s.fail(w, r, http.StatusConflict, "code", "code: "+err.Error())
	case errors.Is(err, contact.ErrNotConfigured):
		s.fail(w, r, http.StatusServiceUnavailable, "", "cannot send: "+err.Error())
	case errors.Is(err, contact.ErrNotFound), errors.Is(err, oncall.ErrNotFound), errors.Is(err, escalation.ErrNotFound):
		s.fail(w, r, http.StatusNotFound, "", err.Error())
	default:
		s.failErr(w, r, err)
	}
}

// icalName strips the ".ics" of a feed's file name.
func icalName(file string) string { return strings.TrimSuffix(file, ".ics") }
