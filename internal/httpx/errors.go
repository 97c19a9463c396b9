package httpx

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/otai-dev/otai/ticket"
)

// Error is a failed request: either a response with status >= 400 (Status,
// Header, Body set) or no response at all (Err set). URL and Body are
// already redacted.
type Error struct {
	Method     string
	URL        string // credentials removed
	Status     int    // 0 when no response came back
	Header     http.Header
	Body       []byte        // the response body, secrets masked
	RetryAfter time.Duration // from Retry-After, 0 if none
	Attempts   int
	// NotSent is true when the request provably never reached the server.
	NotSent bool
	Err     error // transport or decoding cause, redacted
}

func (e *Error) Error() string {
	msg := e.Method + " " + e.URL
	if e.Status != 0 {
		msg += fmt.Sprintf(": HTTP %d", e.Status)
		if s := snippet(e.Body); s != "" {
			msg += ": " + s
		}
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	if e.Attempts > 1 {
		msg += fmt.Sprintf(" (after %d attempts)", e.Attempts)
	}
	return redactString(msg)
}

// Unwrap returns the transport cause.
func (e *Error) Unwrap() error { return e.Err }

// Temporary reports whether the same request may succeed later.
func (e *Error) Temporary() bool {
	switch e.Status {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	case 0:
		return e.Err != nil && !errors.Is(e.Err, context.Canceled)
	}
	return false
}

func snippet(b []byte) string {
	const max = 300
	s := string(b)
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}

// Kind maps err to a ticket sentinel by HTTP status: 401 ErrAuth, 403
// ErrForbidden, 404 and 410 ErrNotFound, 400/409/413/415/422 ErrValidation,
// 429 ErrRateLimited, 5xx and transport failures ErrUnavailable. It returns
// nil for context cancellation and for errors that are not *Error.
// Adapters refine this with the help desk's own error body.
func Kind(err error) error {
	var e *Error
	if !errors.As(err, &e) {
		return nil
	}
	switch {
	case e.Status == 0:
		if errors.Is(e.Err, context.Canceled) {
			return nil
		}
		return ticket.ErrUnavailable
	case e.Status == http.StatusUnauthorized:
		return ticket.ErrAuth
	case e.Status == http.StatusForbidden:
		return ticket.ErrForbidden
	case e.Status == http.StatusNotFound || e.Status == http.StatusGone:
		return ticket.ErrNotFound
	case e.Status == http.StatusTooManyRequests:
		return ticket.ErrRateLimited
	case e.Status >= 500:
		return ticket.ErrUnavailable
	case e.Status >= 400:
		return ticket.ErrValidation
	}
	return nil
}

// TicketError converts err into a *ticket.Error for operation op, using
// Kind; code, message and field come from the help desk's body when the
// adapter parsed them. A cancelled context is returned wrapped as is.
func TicketError(op string, err error, code, message, field string) error {
	var e *Error
	if !errors.As(err, &e) {
		return fmt.Errorf("%s: %w", op, err)
	}
	kind := Kind(err)
	if kind == nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	te := &ticket.Error{Op: op, Kind: kind, Status: e.Status, Code: code, Message: redactString(message),
		Field: field, RetryAfter: e.RetryAfter}
	if e.Status == 0 || (message == "" && code == "") {
		te.Err = e
	}
	return te
}
