// Package messaging is how Ward reaches a person outside a browser: email,
// SMS and voice calls that carry verification links and one-time codes.
//
// Domains depend on the interfaces here (EmailSender, PhoneSender) and never
// on a provider. Providers live in sub-packages: messaging/smtp and
// messaging/ses send email, messaging/sns sends SMS, and messaging/outbox
// records everything in memory for the local process. Message text comes
// from messaging/templates.
//
// The contract every sender keeps:
//
//   - A message is checked before anything is sent (Email.Validate,
//     SMS.Validate, Voice.Validate). Bad input is errs.ErrInvalidArgument
//     naming the field, and nothing reaches the provider. A CR or LF in any
//     header value is bad input: header injection is refused, never cleaned.
//   - A provider failure (unreachable, refused, throttled, a canceled
//     context) is errs.ErrUnavailable. Its cause, kept for the server's logs,
//     never holds a password, a key or the message's text (see
//     ProviderFailure). After such a failure the message may or may not have
//     been delivered: retrying may send it twice.
//   - nil means the provider accepted the message for delivery, not that it
//     was delivered.
//   - Senders do not log; the caller logs the outcome without the message.
package messaging

import (
	"context"
	"errors"
	"maps"
	"slices"

	"github.com/wardhq/ward/shared/errs"
)

// Kind names what a message is for. It is recorded for audit and picks the
// template; it is never shown to the recipient. Custom kinds are allowed:
// 1 to 63 lower-case letters, digits and inner hyphens, starting with a letter.
type Kind string

// The kinds Ward sends.
const (
	KindVerifyEmail   Kind = "verify-email"
	KindResetPassword Kind = "reset-password"
	KindOTPCode       Kind = "otp-code"
	KindInvite        Kind = "invite"
	// KindAccountExists tells an address that someone tried to register it
	// again, in place of a verification (registration never reveals that an
	// account exists to the one registering).
	KindAccountExists Kind = "account-exists"
)

// Email is one email to one or more recipients.
type Email struct {
	// TenantID is the tenant on whose behalf the email is sent (a UUIDv7).
	TenantID string
	// Kind says what the email is for (audit, provider tags).
	Kind Kind
	// From is one address, with or without a display name:
	// "no-reply@example.com" or "Example <no-reply@example.com>". The display
	// name may be UTF-8; it is encoded on the wire.
	From string
	// To are the recipients, each like From, at most MaxRecipients.
	To []string
	// Subject is one line of UTF-8 text, at most MaxSubjectRunes characters.
	Subject string
	// Text and HTML are the bodies, UTF-8, each at most MaxBodyBytes. At
	// least one is required; with both, clients pick the one they can show.
	Text string
	HTML string
	// Headers are extra header fields, such as List-Unsubscribe. Names and
	// values are printable ASCII; header fields Ward writes itself (From,
	// To, Subject, Date, Message-ID, Content-*, ...) are refused here.
	Headers map[string]string
}

// SMS is one text message to one phone.
type SMS struct {
	// TenantID is the tenant on whose behalf the message is sent (a UUIDv7).
	TenantID string
	// Kind says what the message is for (audit).
	Kind Kind
	// To is the phone number in E.164 form: "+" and 7 to 15 digits.
	To string
	// Body is UTF-8 text without control characters other than line
	// breaks, at most MaxSMSRunes characters. Providers split long texts
	// into several segments, each charged.
	Body string
}

// Voice is one phone call that reads a text aloud.
type Voice struct {
	// TenantID is the tenant on whose behalf the call is made (a UUIDv7).
	TenantID string
	// Kind says what the call is for (audit).
	Kind Kind
	// To is the phone number in E.164 form.
	To string
	// Text is what is spoken, at most MaxVoiceRunes characters.
	Text string
	// Locale is the BCP 47 tag of the voice ("en", "de-CH"); empty means the
	// provider's default.
	Locale string
}

// EmailSender sends email. Send checks m first (see the package contract):
// invalid input is errs.ErrInvalidArgument and sends nothing; a provider
// failure is errs.ErrUnavailable. Implementations are safe for concurrent
// use and keep no reference to m after Send returns.
type EmailSender interface {
	Send(ctx context.Context, m Email) error
}

// SMSSender sends text messages, with the same contract as EmailSender.
type SMSSender interface {
	SendSMS(ctx context.Context, m SMS) error
}

// VoiceCaller places calls that read a text aloud, with the same contract as
// EmailSender. A provider that cannot place calls returns an error that
// matches both errs.ErrUnavailable and ErrVoiceUnsupported.
type VoiceCaller interface {
	Call(ctx context.Context, m Voice) error
}

// PhoneSender reaches a phone by SMS and by voice. Providers often offer only
// one of the two: Phone joins an SMSSender and a VoiceCaller from different
// providers into one PhoneSender.
type PhoneSender interface {
	SMSSender
	VoiceCaller
}

// ErrVoiceUnsupported is the cause of the error returned by Call when no
// voice provider is configured or the provider cannot place calls. Callers
// test for it with errors.Is and offer SMS instead.
var ErrVoiceUnsupported = errors.New("messaging: voice calls are not supported by this provider")

// ErrSMSUnsupported is the SMS counterpart of ErrVoiceUnsupported.
var ErrSMSUnsupported = errors.New("messaging: text messages are not supported by this provider")

// VoiceUnsupported returns the error of a Call that cannot be placed because
// voice is not available: errs.ErrUnavailable, caused by ErrVoiceUnsupported.
func VoiceUnsupported() error {
	return errs.Wrap(errs.Unavailable, ErrVoiceUnsupported, "voice calls are not available")
}

// SMSUnsupported is the SMS counterpart of VoiceUnsupported.
func SMSUnsupported() error {
	return errs.Wrap(errs.Unavailable, ErrSMSUnsupported, "text messages are not available")
}

// Phone is a PhoneSender made of one provider for SMS and another for voice.
// A nil part answers with SMSUnsupported or VoiceUnsupported after checking
// the message, so a bad number is still reported as bad input.
type Phone struct {
	SMS   SMSSender
	Voice VoiceCaller
}

var _ PhoneSender = Phone{}

// SendSMS sends m through p.SMS.
func (p Phone) SendSMS(ctx context.Context, m SMS) error {
	if p.SMS == nil {
		if err := m.Validate(); err != nil {
			return err
		}
		return SMSUnsupported()
	}
	return p.SMS.SendSMS(ctx, m)
}

// Call places m through p.Voice.
func (p Phone) Call(ctx context.Context, m Voice) error {
	if p.Voice == nil {
		if err := m.Validate(); err != nil {
			return err
		}
		return VoiceUnsupported()
	}
	return p.Voice.Call(ctx, m)
}

// Clone returns a copy of m that shares no slice or map with it.
func (m Email) Clone() Email {
	m.To = slices.Clone(m.To)
	m.Headers = maps.Clone(m.Headers)
	return m
}
