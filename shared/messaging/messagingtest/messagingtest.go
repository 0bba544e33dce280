// Package messagingtest is the conformance suite of Ward's senders. A
// sender's test hands RunEmail (or RunSMS, RunVoice) a function that opens
// the sender and says how many messages its provider has accepted; the
// suite checks the contract written on package messaging: valid messages
// go out once, bad input and header injection are refused before anything
// reaches the provider, and a canceled context sends nothing.
package messagingtest

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/messaging"
)

// TenantID is a valid tenant ID for tests.
const TenantID = "01890a5d-ac96-774b-bcce-b302099a8057"

// ValidEmail returns an email every sender must accept.
func ValidEmail() messaging.Email {
	return messaging.Email{
		TenantID: TenantID,
		Kind:     messaging.KindVerifyEmail,
		From:     "Ward <no-reply@ward.example>",
		To:       []string{"ada@example.com"},
		Subject:  "Confirm your address",
		Text:     "Open https://ward.example/v/abc to confirm.\n",
		HTML:     `<p>Open <a href="https://ward.example/v/abc">this link</a>.</p>`,
		Headers:  map[string]string{"X-Ward-Test": "1"},
	}
}

// ValidSMS returns a text message every SMS sender must accept.
func ValidSMS() messaging.SMS {
	return messaging.SMS{
		TenantID: TenantID,
		Kind:     messaging.KindOTPCode,
		To:       "+14155550123",
		Body:     "Your code is 493021",
	}
}

// ValidVoice returns a call every voice caller must accept.
func ValidVoice() messaging.Voice {
	return messaging.Voice{
		TenantID: TenantID,
		Kind:     messaging.KindOTPCode,
		To:       "+14155550123",
		Text:     "Your code is 4 9 3 0 2 1",
		Locale:   "en-US",
	}
}

// InvalidEmail is an email a sender must refuse, and the field it must name.
type InvalidEmail struct {
	Name  string
	Field string
	Edit  func(*messaging.Email)
}

// InvalidEmails lists bad emails, header injection in every header first.
func InvalidEmails() []InvalidEmail {
	return []InvalidEmail{
		{"a CRLF in the subject", "Subject", func(m *messaging.Email) {
			m.Subject = "Hello\r\nBcc: victim@example.com"
		}},
		{"a bare LF in the subject", "Subject", func(m *messaging.Email) {
			m.Subject = "Hello\nBcc: victim@example.com"
		}},
		{"a bare CR in the subject", "Subject", func(m *messaging.Email) {
			m.Subject = "Hello\rBcc: victim@example.com"
		}},
		{"a CRLF in a recipient", "To", func(m *messaging.Email) {
			m.To = []string{"ada@example.com\r\nBcc: victim@example.com"}
		}},
		{"a CRLF in the sender", "From", func(m *messaging.Email) {
			m.From = "no-reply@ward.example\r\nBcc: victim@example.com"
		}},
		{"a CRLF in an extra header's value", "Headers", func(m *messaging.Email) {
			m.Headers = map[string]string{"X-Note": "a\r\nBcc: victim@example.com"}
		}},
		{"a colon in an extra header's name", "Headers", func(m *messaging.Email) {
			m.Headers = map[string]string{"Bcc: victim@example.com\r\nX-A": "b"}
		}},
		{"an extra header Ward writes itself", "Headers", func(m *messaging.Email) {
			m.Headers = map[string]string{"bcc": "victim@example.com"}
		}},
		{"an encoded display name that decodes to a line break", "To", func(m *messaging.Email) {
			m.To = []string{"=?utf-8?q?Ada=0D=0ABcc:_victim@example.com?= <ada@example.com>"}
		}},
		{"two addresses in one recipient", "To", func(m *messaging.Email) {
			m.To = []string{"ada@example.com, victim@example.com"}
		}},
		{"no recipient", "To", func(m *messaging.Email) { m.To = nil }},
		{"too many recipients", "To", func(m *messaging.Email) {
			m.To = nil
			for i := range messaging.MaxRecipients + 1 {
				m.To = append(m.To, "user"+strings.Repeat("x", i)+"@example.com")
			}
		}},
		{"a recipient listed twice", "To", func(m *messaging.Email) {
			m.To = []string{"ada@example.com", "ADA@example.com"}
		}},
		{"a quoted local part", "To", func(m *messaging.Email) {
			m.To = []string{`"ada lovelace"@example.com`}
		}},
		{"no tenant", "TenantID", func(m *messaging.Email) { m.TenantID = "" }},
		{"a malformed kind", "Kind", func(m *messaging.Email) { m.Kind = "Verify Email" }},
		{"no body", "Text", func(m *messaging.Email) { m.Text, m.HTML = "", "" }},
		{"a text body over the limit", "Text", func(m *messaging.Email) {
			m.Text = strings.Repeat("a", messaging.MaxBodyBytes+1)
		}},
		{"a subject that is not UTF-8", "Subject", func(m *messaging.Email) {
			m.Subject = "caf\xe9"
		}},
		{"a blank subject", "Subject", func(m *messaging.Email) { m.Subject = "  " }},
	}
}

// EmailEnv is one email sender under test.
type EmailEnv struct {
	Sender messaging.EmailSender
	// Accepted returns how many messages the provider has accepted so far.
	Accepted func(t *testing.T) int
}

// RunEmail checks the contract of messaging.EmailSender. open is called
// once per subtest.
func RunEmail(t *testing.T, open func(t *testing.T) EmailEnv) {
	t.Run("a valid email is accepted once", func(t *testing.T) {
		env := open(t)
		before := env.Accepted(t)
		if err := env.Sender.Send(t.Context(), ValidEmail()); err != nil {
			t.Fatalf("Send: %v", err)
		}
		if got, want := env.Accepted(t), before+1; got != want {
			t.Errorf("accepted = %d, want %d", got, want)
		}
	})
	for _, tt := range InvalidEmails() {
		t.Run("refuses "+tt.Name+" and sends nothing", func(t *testing.T) {
			env := open(t)
			before := env.Accepted(t)
			m := ValidEmail()
			tt.Edit(&m)
			err := env.Sender.Send(t.Context(), m)
			WantInvalid(t, err, tt.Field)
			if got := env.Accepted(t); got != before {
				t.Errorf("accepted = %d after a refused email, want %d", got, before)
			}
		})
	}
	t.Run("a canceled context is unavailable and sends nothing", func(t *testing.T) {
		env := open(t)
		before := env.Accepted(t)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		err := env.Sender.Send(ctx, ValidEmail())
		WantUnavailable(t, err)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Send = %v, want it to match context.Canceled", err)
		}
		if got := env.Accepted(t); got != before {
			t.Errorf("accepted = %d, want %d", got, before)
		}
	})
}

// PhoneEnv is one SMS sender or voice caller under test.
type PhoneEnv struct {
	SMS      messaging.SMSSender
	Voice    messaging.VoiceCaller
	Accepted func(t *testing.T) int
}

// RunSMS checks the contract of messaging.SMSSender.
func RunSMS(t *testing.T, open func(t *testing.T) PhoneEnv) {
	send := func(ctx context.Context, env PhoneEnv, m messaging.SMS) error {
		return env.SMS.SendSMS(ctx, m)
	}
	runPhone(t, open, ValidSMS, send, []invalidPhone[messaging.SMS]{
		{"a number without a plus", "To", func(m *messaging.SMS) { m.To = "14155550123" }},
		{"a number with spaces", "To", func(m *messaging.SMS) { m.To = "+1 415 555 0123" }},
		{"a number of 16 digits", "To", func(m *messaging.SMS) { m.To = "+1234567890123456" }},
		{"a number with a line break", "To", func(m *messaging.SMS) { m.To = "+14155550123\n" }},
		{"an empty body", "Body", func(m *messaging.SMS) { m.Body = " " }},
		{"a body over the limit", "Body", func(m *messaging.SMS) {
			m.Body = strings.Repeat("é", messaging.MaxSMSRunes+1)
		}},
		{"a control character in the body", "Body", func(m *messaging.SMS) { m.Body = "a\x07b" }},
		{"no tenant", "TenantID", func(m *messaging.SMS) { m.TenantID = "x" }},
	})
}

// RunVoice checks the contract of messaging.VoiceCaller for a provider that
// places calls.
func RunVoice(t *testing.T, open func(t *testing.T) PhoneEnv) {
	call := func(ctx context.Context, env PhoneEnv, m messaging.Voice) error {
		return env.Voice.Call(ctx, m)
	}
	runPhone(t, open, ValidVoice, call, []invalidPhone[messaging.Voice]{
		{"a number without a plus", "To", func(m *messaging.Voice) { m.To = "14155550123" }},
		{"an empty text", "Text", func(m *messaging.Voice) { m.Text = "" }},
		{"a malformed locale", "Locale", func(m *messaging.Voice) { m.Locale = "english" }},
		{"a malformed kind", "Kind", func(m *messaging.Voice) { m.Kind = "" }},
	})
}

type invalidPhone[M any] struct {
	name, field string
	edit        func(*M)
}

func runPhone[M any](t *testing.T, open func(t *testing.T) PhoneEnv, valid func() M,
	send func(context.Context, PhoneEnv, M) error, invalid []invalidPhone[M]) {
	t.Run("a valid message is accepted once", func(t *testing.T) {
		env := open(t)
		before := env.Accepted(t)
		if err := send(t.Context(), env, valid()); err != nil {
			t.Fatalf("send: %v", err)
		}
		if got, want := env.Accepted(t), before+1; got != want {
			t.Errorf("accepted = %d, want %d", got, want)
		}
	})
	for _, tt := range invalid {
		t.Run("refuses "+tt.name+" and sends nothing", func(t *testing.T) {
			env := open(t)
			before := env.Accepted(t)
			m := valid()
			tt.edit(&m)
			WantInvalid(t, send(t.Context(), env, m), tt.field)
			if got := env.Accepted(t); got != before {
				t.Errorf("accepted = %d after a refused message, want %d", got, before)
			}
		})
	}
	t.Run("a canceled context is unavailable and sends nothing", func(t *testing.T) {
		env := open(t)
		before := env.Accepted(t)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		WantUnavailable(t, send(ctx, env, valid()))
		if got := env.Accepted(t); got != before {
			t.Errorf("accepted = %d, want %d", got, before)
		}
	})
}

// WantInvalid fails t unless err is errs.ErrInvalidArgument naming field.
func WantInvalid(t testing.TB, err error, field string) {
	t.Helper()
	var e *errs.Error
	if !errors.As(err, &e) || e.Code != errs.InvalidArgument {
		t.Fatalf("err = %v, want %s", err, errs.InvalidArgument)
	}
	if e.Field != field {
		t.Errorf("field = %q, want %q (%v)", e.Field, field, err)
	}
}

// WantUnavailable fails t unless err is errs.ErrUnavailable.
func WantUnavailable(t testing.TB, err error) {
	t.Helper()
	if !errors.Is(err, errs.ErrUnavailable) {
		t.Fatalf("err = %v, want %s", err, errs.Unavailable)
	}
}
