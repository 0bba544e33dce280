package messaging

import (
	"context"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/wardhq/ward/shared/errs"
)

// ProviderError is the server-only cause of a provider failure: which
// provider, at which step, and what it said. Detail is the provider's error
// text with secrets and message text blanked out and cut to maxDetail bytes.
// The original error is not kept, so no later %+v or errors.As can reach
// what was blanked; only a canceled or expired context stays visible to
// errors.Is.
type ProviderError struct {
	Provider string // "smtp", "ses", "sns", ...
	Step     string // "dial", "STARTTLS", "AUTH", "SendEmail", ...
	Detail   string
	ctxErr   error
}

const maxDetail = 512

func (e *ProviderError) Error() string {
	return e.Provider + " " + e.Step + ": " + e.Detail
}

// Unwrap returns context.Canceled or context.DeadlineExceeded when the
// failure was one of those, and nil otherwise.
func (e *ProviderError) Unwrap() error { return e.ctxErr }

// redactedMark replaces each secret in a ProviderError's Detail.
const redactedMark = "[redacted]"

// ProviderFailure returns the error a sender reports when its provider fails:
// errs.ErrUnavailable with a client-safe message and a *ProviderError cause.
// redact lists what must never reach a log: passwords, keys, the message's
// subject and bodies. Each is blanked out of the provider's error text, as
// is each of its lines of 8 bytes or more, since servers sometimes quote
// one line of what they refuse. Strings shorter than 4 bytes are too short
// to blank out without destroying the text and carry little.
func ProviderFailure(provider, step string, cause error, redact ...string) error {
	detail := "failed"
	if cause != nil {
		detail = cause.Error()
	}
	for _, s := range redact {
		detail = blank(detail, s, 4)
		if strings.ContainsAny(s, "\r\n") {
			for line := range strings.Lines(s) {
				detail = blank(detail, strings.TrimRight(line, "\r\n"), 8)
			}
		}
	}
	if len(detail) > maxDetail {
		cut := maxDetail
		for cut > 0 && !utf8.RuneStart(detail[cut]) {
			cut--
		}
		detail = detail[:cut] + "…"
	}

	pe := &ProviderError{Provider: provider, Step: step, Detail: detail}
	switch {
	case errors.Is(cause, context.Canceled):
		pe.ctxErr = context.Canceled
	case errors.Is(cause, context.DeadlineExceeded):
		pe.ctxErr = context.DeadlineExceeded
	}
	return errs.Wrap(errs.Unavailable, pe, "the message could not be sent")
}

func blank(text, secret string, min int) string {
	if len(strings.TrimSpace(secret)) < min {
		return text
	}
	return strings.ReplaceAll(text, secret, redactedMark)
}
