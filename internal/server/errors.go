package server

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/warden-iam/warden/internal/provision"
)

// Error is the body of every error the API answers: what went wrong and
// what to do about it.
type Error struct {
	Status  int    `json:"-"`
	Problem string `json:"error" doc:"what went wrong"`
	Fix     string `json:"fix" doc:"what to do about it"`
	// Results, of an apply that failed part way, are what each action
	// begun did: the calls made, the call that failed, the generated
	// secrets (in this answer only).
	Results []*provision.Result `json:"results,omitempty" doc:"of an apply that failed part way: what each action begun did, the failed call included"`
}

// Error implements error.
func (e *Error) Error() string { return e.Problem }

// GetStatus implements huma.StatusError.
func (e *Error) GetStatus() int { return e.Status }

// fail is an *Error with a status, a problem and its fix.
func fail(status int, problem, fix string) *Error {
	return &Error{Status: status, Problem: problem, Fix: fix}
}

// newHumaError replaces huma's error model (RFC 9457 problem details) by
// Error, so the errors huma makes itself (a malformed parameter, a body
// too large) have the same two keys as warden's own.
func newHumaError(status int, msg string, errs ...error) huma.StatusError {
	var details []string
	for _, err := range errs {
		if err == nil {
			continue
		}
		var own *Error
		if errors.As(err, &own) {
			return own
		}
		details = append(details, err.Error())
	}
	problem := msg
	if len(details) > 0 {
		problem = msg + ": " + strings.Join(details, "; ")
	}
	if problem == "" {
		problem = http.StatusText(status)
	}
	return &Error{Status: status, Problem: problem, Fix: fixFor(status)}
}

// fixFor is the fix of an error huma reports with only a status.
func fixFor(status int) string {
	switch status {
	case http.StatusRequestEntityTooLarge:
		return fmt.Sprintf("send a body of at most %d bytes", maxBody)
	case http.StatusUnprocessableEntity, http.StatusBadRequest:
		return "correct the request as the message says; /api/v1/openapi.json describes every route"
	case http.StatusNotFound:
		return "check the path; /api/v1/openapi.json lists the routes"
	case http.StatusMethodNotAllowed:
		return "use the method /api/v1/openapi.json gives for this route"
	case http.StatusNotAcceptable, http.StatusUnsupportedMediaType:
		return "send and accept application/json"
	}
	return "try again; if it persists, the service's log has the cause"
}
