package graphql

import (
	"context"
	"log/slog"

	"github.com/graphql-go/graphql/gqlerrors"
	"github.com/graphql-go/graphql/language/location"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
)

// Codes of the facade's own failures, beside the errs codes that
// operations return.
const (
	CodeParseFailed      errs.Code = "GRAPHQL_PARSE_FAILED"
	CodeValidationFailed errs.Code = "GRAPHQL_VALIDATION_FAILED"
	CodeTooDeep          errs.Code = "QUERY_TOO_DEEP"
	CodeTooComplex       errs.Code = "QUERY_TOO_COMPLEX"
)

// internalMessage is all a client learns about a fault of Ward.
const internalMessage = "internal error"

// fieldError is what a resolver returns. graphql-go copies Error() into
// the message and Extensions() into extensions (gqlerrors.ExtendedError),
// so both hold only client-safe text.
type fieldError struct {
	code    errs.Code
	message string
	field   string
}

var _ gqlerrors.ExtendedError = (*fieldError)(nil)

func (e *fieldError) Error() string { return e.message }

func (e *fieldError) Extensions() map[string]any {
	ext := map[string]any{"code": string(e.code)}
	if e.field != "" {
		ext["field"] = e.field
	}
	return ext
}

// publicError turns an operation error into a fieldError. Faults (INTERNAL)
// lose their message; faults and unavailable dependencies are logged with
// their server-only cause.
func publicError(ctx context.Context, log *slog.Logger, what string, err error) *fieldError {
	p := errs.Public(err)
	switch p.Code {
	case errs.Internal:
		logFault(ctx, log, what, err)
		return &fieldError{code: errs.Internal, message: internalMessage}
	case errs.Unavailable:
		logFault(ctx, log, what, err)
	}
	return &fieldError{code: p.Code, message: p.Message, field: p.Field}
}

func logFault(ctx context.Context, log *slog.Logger, what string, err error) {
	log.LogAttrs(ctx, slog.LevelError, "graphql: fault",
		slog.String("request_id", function.RequestID(ctx)),
		slog.String("at", what),
		slog.String("error", err.Error()))
}

// gqlError is one entry of a response's errors list.
type gqlError struct {
	Message    string                    `json:"message"`
	Locations  []location.SourceLocation `json:"locations,omitempty"`
	Path       []any                     `json:"path,omitempty"`
	Extensions map[string]any            `json:"extensions"`
}

func newError(code errs.Code, field, message string) gqlError {
	e := fieldError{code: code, message: message, field: field}
	return gqlError{Message: e.message, Extensions: e.Extensions()}
}

// fromFormatted converts an error graphql-go produced. Errors that carry
// a code came from resolvers (fieldError) and are kept. Any other error
// with a path is a fault during execution (a resolver panic, a null in a
// non-null field) and is reported as internal. Without a path it was raised
// before any field ran: a variable value that does not fit its type.
func fromFormatted(ctx context.Context, log *slog.Logger, fe gqlerrors.FormattedError) gqlError {
	out := gqlError{Message: fe.Message, Locations: fe.Locations, Path: fe.Path}
	if code, ok := fe.Extensions["code"].(string); ok && code != "" {
		out.Extensions = fe.Extensions
		return out
	}
	if len(fe.Path) > 0 {
		logFault(ctx, log, "execute", fe)
		out.Message = internalMessage
		out.Extensions = map[string]any{"code": string(errs.Internal)}
		return out
	}
	out.Extensions = map[string]any{"code": string(errs.InvalidArgument), "field": "variables"}
	return out
}

// validationErrors converts parse or validation errors, all of one code.
func validationErrors(code errs.Code, list []gqlerrors.FormattedError) []gqlError {
	out := make([]gqlError, 0, len(list))
	for _, fe := range list {
		out = append(out, gqlError{
			Message:    fe.Message,
			Locations:  fe.Locations,
			Extensions: map[string]any{"code": string(code)},
		})
	}
	return out
}
