package scylla

import (
	"context"
	"errors"

	"github.com/gocql/gocql"

	"github.com/wardhq/ward/shared/errs"
)

// unavailable wraps a driver failure. The client sees only that storage is
// unavailable; the driver error stays on the server as the cause.
func unavailable(err error) error {
	return errs.Wrap(errs.Unavailable, err, "storage unavailable")
}

// notFound reports a missing entity of the named kind.
func notFound(what string) error {
	return errs.New(errs.NotFound, "%s not found", what)
}

// conflict reports a uniqueness violation on one field.
func conflict(field, format string, args ...any) error {
	e := errs.New(errs.Conflict, format, args...)
	e.Field = field
	return e
}

// isNotFound reports whether a driver error means "no row".
func isNotFound(err error) bool {
	return errors.Is(err, gocql.ErrNotFound)
}

// isCASTimeout reports whether err leaves a lightweight transaction's outcome
// unknown: it may or may not have been applied.
func isCASTimeout(err error) bool {
	var wt *gocql.RequestErrWriteTimeout
	if errors.As(err, &wt) {
		return wt.WriteType == "CAS" || wt.WriteType == "SIMPLE"
	}
	return errors.Is(err, gocql.ErrTimeoutNoResponse)
}

// ctxErr prefers the context's error when the context has ended, so that a
// cancelled call is not mistaken for an unavailable cluster in logs.
func ctxErr(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return errs.Wrap(errs.Unavailable, errors.Join(cerr, err), "request cancelled")
	}
	return unavailable(err)
}
