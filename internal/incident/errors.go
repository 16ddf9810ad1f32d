package incident

import "errors"

// Errors a caller can show to a person. The web layer maps them to 4xx answers.
var (
	ErrNotFound        = errors.New("incident not found")
	errInvalidStatus   = &RuleError{Field: "status", Msg: "unknown status"}
	errSameStatus      = &RuleError{Field: "status", Msg: "incident already has this status"}
	errClosed          = &RuleError{Field: "status", Msg: "incident is closed and cannot change"}
	errCloseUnresolved = &RuleError{Field: "status", Msg: "resolve the incident before closing it"}
	errBackToTriggered = &RuleError{Field: "status", Msg: "an incident cannot go back to triggered"}
)

// RuleError is a request that breaks a rule of the lifecycle or names bad input.
type RuleError struct{ Field, Msg string }

func (e *RuleError) Error() string { return e.Field + ": " + e.Msg }
