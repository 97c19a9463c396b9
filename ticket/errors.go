package ticket

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors. Adapters wrap them in *Error; callers test with errors.Is.
var (
	ErrNotFound    = errors.New("not found")
	ErrAuth        = errors.New("authentication failed")
	ErrForbidden   = errors.New("permission denied")
	ErrValidation  = errors.New("rejected as invalid")
	ErrRateLimited = errors.New("rate limited")
	ErrUnavailable = errors.New("unavailable")
)

// Error is a failed ticket-system operation. Kind is one of the sentinels
// (errors.Is(err, ticket.ErrNotFound) works through it); Code and Message are
// the help desk's own, with credentials already removed.
type Error struct {
	Op         string        // what otai was doing: "getting ticket 42"
	Kind       error         // one of the sentinels above
	Status     int           // HTTP status, 0 if none
	Code       string        // the help desk's error code, e.g. "TicketGet.AccessDenied"
	Message    string        // the help desk's message
	Field      string        // the offending field for validation errors
	RetryAfter time.Duration // for ErrRateLimited, when the server said
	Err        error         // underlying cause (transport error), may be nil
}

func (e *Error) Error() string {
	msg := e.Op
	if msg != "" {
		msg += ": "
	}
	kind := "error"
	if e.Kind != nil {
		kind = e.Kind.Error()
	}
	msg += kind
	if e.Status != 0 {
		msg += fmt.Sprintf(" (HTTP %d)", e.Status)
	}
	if e.Code != "" {
		msg += " " + e.Code
	}
	if e.Field != "" {
		msg += " field " + e.Field
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Is makes errors.Is(err, ErrNotFound) true for an *Error of that kind.
func (e *Error) Is(target error) bool { return e.Kind != nil && e.Kind == target }

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// Temporary reports whether retrying the same call later may succeed.
func Temporary(err error) bool {
	return errors.Is(err, ErrRateLimited) || errors.Is(err, ErrUnavailable)
}
