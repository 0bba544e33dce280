package ldap

import (
	"github.com/jimlambrt/gldap"

	"github.com/wardhq/ward/shared/errs"
)

// resultCode maps Ward's error codes to LDAP result codes (RFC 4511
// appendix A). It is the one place where that mapping lives.
func resultCode(err error) int {
	if err == nil {
		return gldap.ResultSuccess
	}
	switch errs.CodeOf(err) {
	case errs.NotFound:
		return gldap.ResultNoSuchObject
	case errs.Unauthenticated:
		return gldap.ResultInvalidCredentials
	case errs.PermissionDenied:
		return gldap.ResultInsufficientAccessRights
	case errs.Conflict:
		// A taken username or email, or a lost compare-and-swap.
		return gldap.ResultConstraintViolation
	case errs.InvalidArgument:
		// A value Ward refuses: a malformed email, a weak password
		// (as password-policy servers answer), an over-long name.
		return gldap.ResultConstraintViolation
	case errs.TooLarge:
		return gldap.ResultAdminLimitExceeded
	case errs.Unavailable:
		return gldap.ResultUnavailable
	case errs.RateLimited:
		return gldap.ResultBusy
	default:
		return gldap.ResultOther
	}
}

// diagnostic is the client-safe text of err: never its cause.
func diagnostic(err error) string {
	if err == nil {
		return ""
	}
	p := errs.Public(err)
	if p.Field != "" {
		return p.Message + " (" + p.Field + ")"
	}
	return p.Message
}

// ldapError is a refusal decided by the listener itself, with its
// LDAP result code.
type ldapError struct {
	code int
	msg  string
}

func (e *ldapError) Error() string { return e.msg }

func refuse(code int, msg string) error { return &ldapError{code: code, msg: msg} }

// outcome turns any error into a result code and diagnostic message.
func outcome(err error) (int, string) {
	if le, ok := err.(*ldapError); ok {
		return le.code, le.msg
	}
	return resultCode(err), diagnostic(err)
}
