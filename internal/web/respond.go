package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/firebreak/firebreak/internal/alert"
	"github.com/firebreak/firebreak/internal/auth"
	"github.com/firebreak/firebreak/internal/contact"
	"github.com/firebreak/firebreak/internal/escalation"
	"github.com/firebreak/firebreak/internal/incident"
	"github.com/firebreak/firebreak/internal/oncall"
	"github.com/firebreak/firebreak/internal/paging"
	"github.com/firebreak/firebreak/internal/service"
	"github.com/firebreak/firebreak/internal/signal"
)

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// ErrorBody is every JSON error: what is wrong and, where one is to blame, which field.
type ErrorBody struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// fail answers with an error: JSON for the API and non-browser clients, a page for the UI.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, status int, field, msg string) {
	if !isAPI(r) && s.ui != nil && acceptsHTML(r) {
		s.ui.errorPage(w, r, status, msg)
		return
	}
	writeJSON(w, status, ErrorBody{Error: msg, Field: field})
}

// failErr maps domain errors to HTTP answers.
func (s *Server) failErr(w http.ResponseWriter, r *http.Request, err error) {
	var ie *incident.RuleError
	var se *service.FieldError
	var sig *signal.FieldError
	var ae *auth.FieldError
	var fe *alert.FilterError
	var je *jsonError
	var pe *paging.FieldError
	var ee *escalation.FieldError
	var ce *contact.FieldError
	var oe *oncall.FieldError
	switch {
	case errors.As(err, &pe):
		s.fail(w, r, http.StatusBadRequest, pe.Field, pe.Error())
	case errors.As(err, &ee):
		s.fail(w, r, http.StatusBadRequest, ee.Field, ee.Error())
	case errors.As(err, &ce):
		s.fail(w, r, http.StatusBadRequest, ce.Field, ce.Error())
	case errors.As(err, &oe):
		s.fail(w, r, http.StatusBadRequest, oe.Field, oe.Error())
	case errors.Is(err, escalation.ErrNotFound), errors.Is(err, contact.ErrNotFound), errors.Is(err, oncall.ErrNotFound):
		s.fail(w, r, http.StatusNotFound, "", err.Error())
	case errors.Is(err, oncall.ErrPlanManaged):
		s.fail(w, r, http.StatusConflict, "", err.Error())
	case errors.Is(err, contact.ErrNotConfigured):
		s.fail(w, r, http.StatusConflict, "", err.Error())
	case errors.Is(err, contact.ErrCodeWrong), errors.Is(err, contact.ErrCodeExpired), errors.Is(err, contact.ErrTooManyAttempts), errors.Is(err, contact.ErrNoCode):
		s.fail(w, r, http.StatusBadRequest, "code", err.Error())
	case errors.As(err, &je):
		s.fail(w, r, je.status, je.field, je.msg)
	case errors.As(err, &ie):
		status := http.StatusUnprocessableEntity
		if ie.Field != "status" && ie.Field != "level" {
			status = http.StatusBadRequest
		}
		if ie.Field == "status" {
			status = http.StatusConflict
		}
		s.fail(w, r, status, ie.Field, ie.Error())
	case errors.As(err, &se):
		s.fail(w, r, http.StatusBadRequest, se.Field, se.Error())
	case errors.As(err, &sig):
		s.fail(w, r, http.StatusBadRequest, sig.Field, sig.Error())
	case errors.As(err, &ae):
		s.fail(w, r, http.StatusBadRequest, ae.Field, ae.Error())
	case errors.As(err, &fe):
		s.fail(w, r, http.StatusBadRequest, fe.Field, fe.Error())
	case errors.Is(err, signal.ErrTooLarge):
		s.fail(w, r, http.StatusRequestEntityTooLarge, "", err.Error())
	case errors.Is(err, incident.ErrNotFound), errors.Is(err, service.ErrNotFound), errors.Is(err, alert.ErrNotFound), errors.Is(err, auth.ErrNotFound):
		s.fail(w, r, http.StatusNotFound, "", err.Error())
	case errors.Is(err, auth.ErrUsernameTaken):
		s.fail(w, r, http.StatusConflict, "username", err.Error())
	default:
		s.Log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		s.fail(w, r, http.StatusInternalServerError, "", "internal error")
	}
}

type jsonError struct {
	status     int
	field, msg string
}

func (e *jsonError) Error() string { return e.msg }

// decode reads a JSON request body of at most 1 MB into v, rejecting unknown fields.
func decode(r *http.Request, v any) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20+1))
	if err != nil {
		return &jsonError{http.StatusBadRequest, "", "cannot read body: " + err.Error()}
	}
	if len(body) > 1<<20 {
		return &jsonError{http.StatusRequestEntityTooLarge, "", "body exceeds 1 MB"}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			if te.Field == "" {
				return &jsonError{http.StatusBadRequest, "", "body must be " + jsonKind(te.Type)}
			}
			return &jsonError{http.StatusBadRequest, te.Field, te.Field + ": must be " + jsonKind(te.Type)}
		}
		msg := err.Error()
		if f, ok := unknownField(msg); ok {
			return &jsonError{http.StatusBadRequest, f, "unknown field " + strconv.Quote(f)}
		}
		var se *json.SyntaxError
		if !errors.As(err, &se) {
			// A value's own UnmarshalJSON refused it (a duration, a settings
			// object): find which top-level field by decoding them one at a time.
			if f := blameField(body, v); f != "" {
				return &jsonError{http.StatusBadRequest, f, f + ": " + msg}
			}
		}
		return &jsonError{http.StatusBadRequest, "", "invalid JSON: " + msg}
	}
	if _, err := dec.Token(); err != io.EOF {
		return &jsonError{http.StatusBadRequest, "", "invalid JSON: data after the JSON value"}
	}
	return nil
}

// blameField returns the top-level field of body that fails to decode into
// v's type on its own, or "".
func blameField(body []byte, v any) string {
	var fields map[string]json.RawMessage
	if json.Unmarshal(body, &fields) != nil {
		return ""
	}
	t := reflect.TypeOf(v)
	if t == nil || t.Kind() != reflect.Pointer {
		return ""
	}
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		one, _ := json.Marshal(map[string]json.RawMessage{k: fields[k]})
		if json.Unmarshal(one, reflect.New(t.Elem()).Interface()) != nil {
			return k
		}
	}
	return ""
}

// jsonKind names the JSON type a Go type is decoded from, for error messages.
func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return "another JSON type"
}

func unknownField(msg string) (string, bool) {
	const p = `json: unknown field "`
	if len(msg) > len(p) && msg[:len(p)] == p {
		return msg[len(p) : len(msg)-1], true
	}
	return "", false
}

func pathID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, &jsonError{http.StatusBadRequest, name, name + " must be a positive integer"}
	}
	return id, nil
}

func acceptsHTML(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}
