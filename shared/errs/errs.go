// Package errs holds Ward's one error type. Every error a client may see
// carries a stable Code; the GraphQL facade puts it in extensions.code, the
// function runtime sends it across transports, and later protocol layers map
// it to their own codes (OAuth error, SAML status, LDAP result).
//
// Message is safe to show a client. Cause is for logs on the server only and
// never leaves the process.
package errs

import (
	"errors"
	"fmt"
)

// Code is a stable, machine-readable error code.
type Code string

const (
	InvalidArgument  Code = "INVALID_ARGUMENT"
	NotFound         Code = "NOT_FOUND"
	Conflict         Code = "CONFLICT"
	Unauthenticated  Code = "UNAUTHENTICATED"
	PermissionDenied Code = "PERMISSION_DENIED"
	TooLarge         Code = "PAYLOAD_TOO_LARGE"
	RateLimited      Code = "RATE_LIMITED" // too many attempts; try again later
	Unavailable      Code = "UNAVAILABLE"
	Internal         Code = "INTERNAL"
)

// Error is a coded error. Compare with errors.Is against the sentinels below
// (which match on Code alone) or take it apart with errors.As.
type Error struct {
	Code    Code
	Message string // client-safe
	Field   string // the input field at fault, when there is one
	Cause   error  // server-only detail
}

func (e *Error) Error() string {
	msg := string(e.Code) + ": " + e.Message
	if e.Field != "" {
		msg += " (" + e.Field + ")"
	}
	if e.Cause != nil {
		msg += ": " + e.Cause.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Cause }

// Is matches any *Error with the same code, so that a sentinel such as
// ErrNotFound matches every not-found error whatever its message.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && t.Message == "" && t.Field == ""
}

// Sentinels for errors.Is. Never modify them; build new errors with New.
var (
	ErrInvalidArgument  = &Error{Code: InvalidArgument}
	ErrNotFound         = &Error{Code: NotFound}
	ErrConflict         = &Error{Code: Conflict}
	ErrUnauthenticated  = &Error{Code: Unauthenticated}
	ErrPermissionDenied = &Error{Code: PermissionDenied}
	ErrTooLarge         = &Error{Code: TooLarge}
	ErrRateLimited      = &Error{Code: RateLimited}
	ErrUnavailable      = &Error{Code: Unavailable}
	ErrInternal         = &Error{Code: Internal}
)

// New returns a fresh coded error with a client-safe message.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid reports bad input in one field.
func Invalid(field, format string, args ...any) *Error {
	return &Error{Code: InvalidArgument, Field: field, Message: fmt.Sprintf(format, args...)}
}

// Wrap turns a fault of Ward or a dependency into an internal error whose
// cause stays on the server.
func Wrap(code Code, cause error, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Cause: cause}
}

// CodeOf returns the code of err, or Internal for errors without one.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// Public returns what may be shown to a client about err: a coded error
// without its cause. Uncoded errors become a generic internal error.
func Public(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return &Error{Code: e.Code, Message: e.Message, Field: e.Field}
	}
	return &Error{Code: Internal, Message: "internal error"}
}

// HTTPStatus is the status an HTTP endpoint answers a code with.
func (c Code) HTTPStatus() int {
	switch c {
	case InvalidArgument:
		return 400
	case Unauthenticated:
		return 401
	case PermissionDenied:
		return 403
	case NotFound:
		return 404
	case Conflict:
		return 409
	case TooLarge:
		return 413
	case RateLimited:
		return 429
	case Unavailable:
		return 503
	}
	return 500
}
