package web

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/firebreak/firebreak/internal/contact"
	"github.com/firebreak/firebreak/internal/i18n"
	"github.com/firebreak/firebreak/internal/oncall"
)

// methodBody is a contact method as the API takes it. On PATCH every field is
// optional and absent ones keep their value.
type methodBody struct {
	Kind                  *string `json:"kind"`
	Name                  *string `json:"name"`
	Address               *string `json:"address"`
	Secret                *string `json:"secret"`
	ClearSecret           bool    `json:"clear_secret"`
	ThrottleCount         *int    `json:"throttle_count"`
	ThrottleWindowSeconds *int64  `json:"throttle_window_seconds"`
	Disabled              *bool   `json:"disabled"`
}

var methodFields = map[string]string{"throttle_window": "throttle_window_seconds"}

// input merges the body over cur (nil on create).
func (b methodBody) input(cur *contact.Method) (contact.MethodInput, error) {
	var in contact.MethodInput
	if cur != nil {
		in = contact.MethodInput{Kind: cur.Kind, Name: cur.Name, Address: cur.Address,
			ThrottleCount: cur.ThrottleCount, ThrottleWindow: cur.ThrottleWindow}
	}
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&in.Kind, b.Kind)
	set(&in.Name, b.Name)
	set(&in.Address, b.Address)
	set(&in.Secret, b.Secret)
	in.ClearSecret = b.ClearSecret
	if b.ThrottleCount != nil {
		in.ThrottleCount = *b.ThrottleCount
	}
	if w := b.ThrottleWindowSeconds; w != nil {
		if *w < 0 || *w > int64(contact.MaxThrottleWindow/time.Second) {
			return in, &contact.FieldError{Field: "throttle_window_seconds", Msg: "must be between 0 and 86400 (24 hours)"}
		}
		in.ThrottleWindow = time.Duration(*w) * time.Second
	}
	return in, nil
}

// managedUser reads the {id} of a /users/{id}/… route the caller may manage.
func (s *Server) managedUser(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := pathID(r, "id")
	if err == nil && !mayManage(r, id) {
		err = errNotYours
	}
	if err != nil {
		s.oncallFail(w, r, err)
		return 0, false
	}
	return id, true
}

// managedMethod reads the contact method of {id} when the caller may manage it.
func (s *Server) managedMethod(w http.ResponseWriter, r *http.Request) (contact.Method, bool) {
	id, err := pathID(r, "id")
	var m contact.Method
	if err == nil {
		m, err = s.Contacts.Get(r.Context(), id)
		err = notFound(err, "contact method")
	}
	if err == nil && !mayManage(r, m.UserID) {
		err = &jsonError{http.StatusNotFound, "", "contact method not found"}
	}
	if err != nil {
		s.oncallFail(w, r, err)
		return m, false
	}
	return m, true
}

func (s *Server) apiListMethods(w http.ResponseWriter, r *http.Request) {
	id, ok := s.managedUser(w, r)
	if !ok {
		return
	}
	if _, err := s.Auth.UserByID(r.Context(), id); err != nil {
		s.failErr(w, r, err)
		return
	}
	ms, err := s.Contacts.ListForUser(r.Context(), id)
	if err != nil {
		s.oncallFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, page[contact.Method]{Items: ms})
}

func (s *Server) apiCreateMethod(w http.ResponseWriter, r *http.Request) {
	id, ok := s.managedUser(w, r)
	if !ok {
		return
	}
	var b methodBody
	if err := decode(r, &b); err != nil {
		s.failErr(w, r, err)
		return
	}
	in, err := b.input(nil)
	if err != nil {
		s.oncallFail(w, r, err)
		return
	}
	ctx := r.Context()
	m, err := s.Contacts.Create(ctx, id, in)
	if err == nil && b.Disabled != nil && *b.Disabled {
		if err = s.Contacts.SetDisabled(ctx, m.ID, true); err == nil {
			m, err = s.Contacts.Get(ctx, m.ID)
		}
	}
	if err != nil {
		s.oncallFail(w, r, renameFields(notFound(err, "user"), methodFields))
		return
	}
	w.Header().Set("Location", "/api/v1/contact-methods/"+strconv.FormatInt(m.ID, 10))
	writeJSON(w, http.StatusCreated, m)
}

func (s *Server) apiGetMethod(w http.ResponseWriter, r *http.Request) {
	if m, ok := s.managedMethod(w, r); ok {
		writeJSON(w, http.StatusOK, m)
	}
}

func (s *Server) apiUpdateMethod(w http.ResponseWriter, r *http.Request) {
	cur, ok := s.managedMethod(w, r)
	if !ok {
		return
	}
	var b methodBody
	if err := decode(r, &b); err != nil {
		s.failErr(w, r, err)
		return
	}
	if err := s.updateMethod(r.Context(), cur, b); err != nil {
		s.oncallFail(w, r, renameFields(notFound(err, "contact method"), methodFields))
		return
	}
	m, err := s.Contacts.Get(r.Context(), cur.ID)
	if err != nil {
		s.oncallFail(w, r, notFound(err, "contact method"))
		return
	}
	writeJSON(w, http.StatusOK, m)
}

// updateMethod applies a PATCH: the method's fields when any is given, then
// its disabled flag. A method from the plan keeps its kind and address.
func (s *Server) updateMethod(ctx context.Context, cur contact.Method, b methodBody) error {
	if b.Kind != nil || b.Name != nil || b.Address != nil || b.Secret != nil || b.ClearSecret ||
		b.ThrottleCount != nil || b.ThrottleWindowSeconds != nil {
		in, err := b.input(&cur)
		if err != nil {
			return err
		}
		if cur.Source == contact.SourcePlan && (in.Kind != cur.Kind || strings.TrimSpace(in.Address) != cur.Address) {
			return errPlanMethod
		}
		if _, err := s.Contacts.Update(ctx, cur.ID, in); err != nil {
			return err
		}
	}
	if b.Disabled != nil && *b.Disabled != cur.Disabled {
		return s.Contacts.SetDisabled(ctx, cur.ID, *b.Disabled)
	}
	return nil
}

func (s *Server) apiDeleteMethod(w http.ResponseWriter, r *http.Request) {
	m, ok := s.managedMethod(w, r)
	if !ok {
		return
	}
	if m.Source == contact.SourcePlan {
		s.oncallFail(w, r, errPlanMethod)
		return
	}
	if err := s.Contacts.Delete(r.Context(), m.ID); err != nil {
		s.oncallFail(w, r, notFound(err, "contact method"))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// verificationSent is the answer to sending a verification code.
type verificationSent struct {
	MethodID  int64     `json:"method_id"`
	ExpiresAt time.Time `json:"expires_at"`
}

// sendVerification makes a new code for m and sends it through m in lang.
func (s *Server) sendVerification(ctx context.Context, m contact.Method, lang string) (verificationSent, error) {
	if s.Engine == nil {
		return verificationSent{}, errNoDelivery
	}
	ch, err := contact.BuildMethod(s.Engine.Deps, m)
	if err != nil {
		return verificationSent{}, err
	}
	if !verifyGate.allow(s, m.ID, time.Now()) {
		return verificationSent{}, errCodeTooSoon
	}
	code, err := s.Contacts.StartVerification(ctx, m.ID)
	if err != nil {
		verifyGate.forget(s, m.ID)
		return verificationSent{}, notFound(err, "contact method")
	}
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if _, err := ch.Send(sctx, contact.VerificationMessage(lang, code)); err != nil {
		verifyGate.forget(s, m.ID)
		return verificationSent{}, &jsonError{http.StatusBadGateway, "", deliveryFailed + err.Error()}
	}
	return verificationSent{MethodID: m.ID, ExpiresAt: time.Now().Add(contact.CodeTTL).UTC().Truncate(time.Second)}, nil
}

// ownerLang is the language a person reads messages in.
func (s *Server) ownerLang(ctx context.Context, userID int64) string {
	u, err := s.Auth.UserByID(ctx, userID)
	if err != nil {
		return i18n.EN
	}
	if l, ok := i18n.Supported(u.Locale); ok {
		return l
	}
	return i18n.EN
}

func (s *Server) apiSendVerification(w http.ResponseWriter, r *http.Request) {
	m, ok := s.managedMethod(w, r)
	if !ok {
		return
	}
	sent, err := s.sendVerification(r.Context(), m, s.ownerLang(r.Context(), m.UserID))
	if err != nil {
		s.oncallFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, sent)
}

func (s *Server) apiVerifyMethod(w http.ResponseWriter, r *http.Request) {
	m, ok := s.managedMethod(w, r)
	if !ok {
		return
	}
	var in struct {
		Code string `json:"code"`
	}
	if err := decode(r, &in); err != nil {
		s.failErr(w, r, err)
		return
	}
	if strings.TrimSpace(in.Code) == "" {
		s.fail(w, r, http.StatusBadRequest, "code", "code: is required")
		return
	}
	if err := s.Contacts.Verify(r.Context(), m.ID, in.Code); err != nil {
		s.oncallFail(w, r, notFound(err, "contact method"))
		return
	}
	m, err := s.Contacts.Get(r.Context(), m.ID)
	if err != nil {
		s.oncallFail(w, r, notFound(err, "contact method"))
		return
	}
	writeJSON(w, http.StatusOK, m)
}

// ruleBody is a notification rule as the API takes it.
type ruleBody struct {
	MethodID     int64    `json:"method_id"`
	DelaySeconds int64    `json:"delay_seconds"`
	Levels       []string `json:"levels"`
}

func (b ruleBody) input() (contact.RuleInput, error) {
	if b.DelaySeconds < 0 || b.DelaySeconds > int64(contact.MaxDelay/time.Second) {
		return contact.RuleInput{}, &contact.FieldError{Field: "delay_seconds", Msg: "must be between 0 and 86400 (24 hours)"}
	}
	return contact.RuleInput{MethodID: b.MethodID, Delay: time.Duration(b.DelaySeconds) * time.Second, Levels: b.Levels}, nil
}

func (s *Server) apiListRules(w http.ResponseWriter, r *http.Request) {
	id, ok := s.managedUser(w, r)
	if !ok {
		return
	}
	if _, err := s.Auth.UserByID(r.Context(), id); err != nil {
		s.failErr(w, r, err)
		return
	}
	rules, err := s.Contacts.ListRules(r.Context(), id)
	if err != nil {
		s.oncallFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, page[contact.Rule]{Items: rules})
}

func (s *Server) apiCreateRule(w http.ResponseWriter, r *http.Request) {
	id, ok := s.managedUser(w, r)
	if !ok {
		return
	}
	var b ruleBody
	if err := decode(r, &b); err != nil {
		s.failErr(w, r, err)
		return
	}
	in, err := b.input()
	if err != nil {
		s.oncallFail(w, r, err)
		return
	}
	rule, err := s.Contacts.CreateRule(r.Context(), id, in)
	if err != nil {
		s.oncallFail(w, r, renameFields(notFound(err, "user"), map[string]string{"delay": "delay_seconds"}))
		return
	}
	writeJSON(w, http.StatusCreated, rule)
}

func (s *Server) apiDeleteRule(w http.ResponseWriter, r *http.Request) {
	id, ok := s.managedUser(w, r)
	if !ok {
		return
	}
	ruleID, err := pathID(r, "ruleID")
	if err == nil {
		err = notFound(s.Contacts.DeleteRule(r.Context(), id, ruleID), "notification rule")
	}
	if err != nil {
		s.oncallFail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// contactDetails are a person's phone number and chat ids.
type contactDetails struct {
	Phone   string          `json:"phone"`
	ChatIDs contact.ChatIDs `json:"chat_ids"`
}

func (s *Server) loadContactDetails(ctx context.Context, id int64) (contactDetails, error) {
	phone, err := s.Contacts.Phone(ctx, nil, id)
	if err != nil {
		return contactDetails{}, notFound(err, "user")
	}
	ids, err := s.Contacts.ChatIDs(ctx, nil, id)
	if err != nil {
		return contactDetails{}, notFound(err, "user")
	}
	return contactDetails{Phone: phone, ChatIDs: ids}, nil
}

func (s *Server) apiGetContactDetails(w http.ResponseWriter, r *http.Request) {
	id, ok := s.managedUser(w, r)
	if !ok {
		return
	}
	d, err := s.loadContactDetails(r.Context(), id)
	if err != nil {
		s.oncallFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

// setContactDetails checks both, then stores them: bad input changes nothing.
func (s *Server) setContactDetails(ctx context.Context, id int64, phone *string, ids *contact.ChatIDs) error {
	if phone != nil && strings.TrimSpace(*phone) != "" {
		if _, err := contact.CheckAddress(contact.KindSMS, *phone, ""); err != nil {
			_, msg, _ := fieldOf(err)
			return &contact.FieldError{Field: "phone", Msg: msg}
		}
	}
	if ids != nil {
		if err := s.Contacts.SetChatIDs(ctx, id, *ids); err != nil {
			return notFound(err, "user")
		}
	}
	if phone != nil {
		if err := s.Contacts.SetPhone(ctx, id, *phone); err != nil {
			return notFound(err, "user")
		}
	}
	return nil
}

func (s *Server) apiUpdateContactDetails(w http.ResponseWriter, r *http.Request) {
	id, ok := s.managedUser(w, r)
	if !ok {
		return
	}
	var in struct {
		Phone   *string          `json:"phone"`
		ChatIDs *contact.ChatIDs `json:"chat_ids"`
	}
	if err := decode(r, &in); err != nil {
		s.failErr(w, r, err)
		return
	}
	ctx := r.Context()
	if _, err := s.loadContactDetails(ctx, id); err != nil {
		s.oncallFail(w, r, err)
		return
	}
	if err := s.setContactDetails(ctx, id, in.Phone, in.ChatIDs); err != nil {
		s.oncallFail(w, r, err)
		return
	}
	d, err := s.loadContactDetails(ctx, id)
	if err != nil {
		s.oncallFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

// icalFeed is the address of an iCal feed; the address is its only key.
type icalFeed struct {
	URL string `json:"url"`
}

func (s *Server) feedURL(kind, secret string) string {
	return strings.TrimRight(s.BaseURL, "/") + "/ical/" + kind + "/" + secret + ".ics"
}

func (s *Server) userFeed(w http.ResponseWriter, r *http.Request, rotate bool) {
	id, ok := s.managedUser(w, r)
	if !ok {
		return
	}
	get := s.OnCall.UserICalSecret
	if rotate {
		get = s.OnCall.RotateUserICalSecret
	}
	secret, err := get(r.Context(), id)
	if err != nil {
		s.oncallFail(w, r, notFound(err, "user"))
		return
	}
	writeJSON(w, http.StatusOK, icalFeed{URL: s.feedURL("users", secret)})
}

func (s *Server) apiUserICal(w http.ResponseWriter, r *http.Request)       { s.userFeed(w, r, false) }
func (s *Server) apiRotateUserICal(w http.ResponseWriter, r *http.Request) { s.userFeed(w, r, true) }

// timeRange reads ?from= and ?to= (RFC 3339); from defaults to now and to to
// from plus def.
func timeRange(r *http.Request, def time.Duration) (time.Time, time.Time, error) {
	q := r.URL.Query()
	from, to := time.Now().UTC(), time.Time{}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &from}, {"to", &to}} {
		if v := q.Get(p.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return from, to, &jsonError{http.StatusBadRequest, p.name, p.name + " must be an RFC 3339 time such as 2026-05-01T09:00:00+08:00"}
			}
			*p.dst = t
		}
	}
	if to.IsZero() {
		to = from.Add(def)
	}
	if !to.After(from) {
		return from, to, &jsonError{http.StatusBadRequest, "to", "to must be after from"}
	}
	if to.Sub(from) > oncall.MaxShiftRange {
		return from, to, &jsonError{http.StatusBadRequest, "to", "the range spans at most 366 days"}
	}
	return from, to, nil
}

// apiUserShifts lists a person's shifts in every schedule: /users/{id}/shifts
// or the caller's own at /me/shifts.
func (s *Server) apiUserShifts(w http.ResponseWriter, r *http.Request) {
	id := user(r).ID
	if r.PathValue("id") != "" {
		var err error
		if id, err = pathID(r, "id"); err != nil {
			s.failErr(w, r, err)
			return
		}
	}
	from, to, err := timeRange(r, 30*24*time.Hour)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	shifts, err := s.OnCall.UserShifts(r.Context(), id, from, to)
	if err != nil {
		s.oncallFail(w, r, notFound(err, "user"))
		return
	}
	writeJSON(w, http.StatusOK, page[oncall.ShiftRecord]{Items: shifts})
}

// verifyGap is the least time between two codes for one contact method, so
// nobody floods an address with codes.
const verifyGap = 30 * time.Second

var errCodeTooSoon = &jsonError{http.StatusTooManyRequests, "", fmt.Sprintf("a code was sent less than %d seconds ago; wait a moment before asking for another", int(verifyGap/time.Second))}

// deliveryFailed starts the message of a code that could not be sent.
const deliveryFailed = "could not deliver the code: "

// codeGate remembers when each contact method last got a code.
type codeGate struct {
	mu   sync.Mutex
	last map[gateKey]time.Time
}

type gateKey struct {
	s  *Server
	id int64
}

var verifyGate codeGate

// allow reports whether method id of s may get a code at now, and if so
// counts it.
func (g *codeGate) allow(s *Server, id int64, now time.Time) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.last == nil {
		g.last = map[gateKey]time.Time{}
	}
	k := gateKey{s, id}
	if t, ok := g.last[k]; ok && now.Sub(t) < verifyGap {
		return false
	}
	for k2, t := range g.last {
		if now.Sub(t) >= verifyGap {
			delete(g.last, k2)
		}
	}
	g.last[k] = now
	return true
}

// forget lets method id of s have a code again at once (the last one never
// left).
func (g *codeGate) forget(s *Server, id int64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.last, gateKey{s, id})
}
