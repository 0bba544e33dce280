package messaging_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/messaging"
	"github.com/wardhq/ward/shared/messaging/messagingtest"
)

func TestParseAddress(t *testing.T) {
	accepted := []struct{ in, addr, name string }{
		{"ada@example.com", "ada@example.com", ""},
		{"Ada Lovelace <ada@example.com>", "ada@example.com", "Ada Lovelace"},
		{`"Lovelace, Ada" <ada@example.com>`, "ada@example.com", "Lovelace, Ada"},
		{"Zoë <zoe@example.com>", "zoe@example.com", "Zoë"},
		{"=?utf-8?q?Zo=C3=AB?= <zoe@example.com>", "zoe@example.com", "Zoë"},
		{"first.last+tag@sub.example.co.uk", "first.last+tag@sub.example.co.uk", ""},
		{"o'brien@example.com", "o'brien@example.com", ""},
		{"user@localhost", "user@localhost", ""},
		// A quoted local part that is a plain atom is the same address.
		{`"ada"@example.com`, "ada@example.com", ""},
		{strings.Repeat("a", 64) + "@example.com", strings.Repeat("a", 64) + "@example.com", ""},
	}
	for _, tt := range accepted {
		a, err := messaging.ParseAddress("To", tt.in)
		if err != nil {
			t.Errorf("ParseAddress(%q): %v", tt.in, err)
			continue
		}
		if a.Address != tt.addr || a.Name != tt.name {
			t.Errorf("ParseAddress(%q) = %q <%s>, want %q <%s>", tt.in, a.Name, a.Address,
				tt.name, tt.addr)
		}
	}

	refused := []string{
		"",
		"ada",
		"ada@",
		"@example.com",
		"ada@@example.com",
		"ada..lovelace@example.com",
		".ada@example.com",
		`"ada lovelace"@example.com`,
		`"ada\"x"@example.com`,
		"ada@[192.0.2.1]",
		"ada@-example.com",
		"ada@example-.com",
		"ada@exa_mple.com",
		"ada@example..com",
		"adä@example.com",
		"ada@exämple.com",
		strings.Repeat("a", 65) + "@example.com",
		"ada@" + strings.Repeat("a", 63) + "." + strings.Repeat("b", 63) + "." +
			strings.Repeat("c", 63) + "." + strings.Repeat("d", 63),
		"ada@example.com, bob@example.com",
		"ada@example.com\r\n",
		"ada@example.com\n",
		"Ada\r\n <ada@example.com>",
		"Ada\x00 <ada@example.com>",
		"=?utf-8?q?A=0Ada?= <ada@example.com>",
		"=?utf-8?q?A=E2=80=A8da?= <ada@example.com>", // U+2028
		strings.Repeat("N", messaging.MaxDisplayNameRunes+1) + " <ada@example.com>",
		"caf\xe9 <ada@example.com>",
	}
	for _, in := range refused {
		_, err := messaging.ParseAddress("To", in)
		var e *errs.Error
		if !errors.As(err, &e) || e.Code != errs.InvalidArgument || e.Field != "To" {
			t.Errorf("ParseAddress(%q) = %v, want an invalid To", in, err)
		}
	}
}

func TestCheckPhone(t *testing.T) {
	for _, ok := range []string{"+14155550123", "+4930123456", "+6831234", "+861391234567890"} {
		if err := messaging.CheckPhone("To", ok); err != nil {
			t.Errorf("CheckPhone(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{
		"", "14155550123", "+04155550123", "+1 415 555 0123", "+1-415-555-0123",
		"+123456", "+1234567890123456", "+1415555012a", "+14155550123\n", "++14155550123",
		"+١٤١٥٥٥٥٠١٢٣", // Arabic-Indic digits
	} {
		messagingtest.WantInvalid(t, messaging.CheckPhone("To", bad), "To")
	}
}

func TestCheckKind(t *testing.T) {
	for _, ok := range []messaging.Kind{"otp-code", "invite", "a", "x2", "magic-link-v2"} {
		if err := messaging.CheckKind("Kind", ok); err != nil {
			t.Errorf("CheckKind(%q): %v", ok, err)
		}
	}
	for _, bad := range []messaging.Kind{"", "OTP", "-a", "a-", "2fa", "a b", "a_b",
		messaging.Kind(strings.Repeat("a", 64))} {
		messagingtest.WantInvalid(t, messaging.CheckKind("Kind", bad), "Kind")
	}
}

func TestEmailLimits(t *testing.T) {
	at := func(edit func(*messaging.Email)) error {
		m := messagingtest.ValidEmail()
		edit(&m)
		return m.Validate()
	}
	// Exactly at each limit is accepted.
	limits := map[string]func(*messaging.Email){
		"subject": func(m *messaging.Email) {
			m.Subject = strings.Repeat("é", messaging.MaxSubjectRunes)
		},
		"text": func(m *messaging.Email) { m.Text = strings.Repeat("a", messaging.MaxBodyBytes) },
		"html": func(m *messaging.Email) { m.HTML = strings.Repeat("a", messaging.MaxBodyBytes) },
		"recipients": func(m *messaging.Email) {
			m.To = nil
			for i := range messaging.MaxRecipients {
				m.To = append(m.To, strings.Repeat("u", i+1)+"@example.com")
			}
		},
		"headers": func(m *messaging.Email) {
			m.Headers = map[string]string{}
			for i := range messaging.MaxHeaders {
				m.Headers["X-H"+strings.Repeat("h", i)] = strings.Repeat("v", messaging.MaxHeaderValueBytes)
			}
		},
	}
	for name, edit := range limits {
		if err := at(edit); err != nil {
			t.Errorf("%s at its limit: %v", name, err)
		}
	}

	over := []struct {
		name, field string
		edit        func(*messaging.Email)
	}{
		{"subject", "Subject", func(m *messaging.Email) {
			m.Subject = strings.Repeat("é", messaging.MaxSubjectRunes+1)
		}},
		{"html", "HTML", func(m *messaging.Email) {
			m.HTML = strings.Repeat("a", messaging.MaxBodyBytes+1)
		}},
		{"headers", "Headers", func(m *messaging.Email) {
			m.Headers = map[string]string{}
			for i := range messaging.MaxHeaders + 1 {
				m.Headers["X-H"+strings.Repeat("h", i)] = "v"
			}
		}},
		{"header value", "Headers", func(m *messaging.Email) {
			m.Headers = map[string]string{"X-A": strings.Repeat("v", messaging.MaxHeaderValueBytes+1)}
		}},
		{"non-ASCII header value", "Headers", func(m *messaging.Email) {
			m.Headers = map[string]string{"X-A": "é"}
		}},
		{"header name", "Headers", func(m *messaging.Email) {
			m.Headers = map[string]string{"X-" + strings.Repeat("h", messaging.MaxHeaderNameBytes): "v"}
		}},
		{"header given twice", "Headers", func(m *messaging.Email) {
			m.Headers = map[string]string{"X-A": "1", "x-a": "2"}
		}},
		{"NUL in text", "Text", func(m *messaging.Email) { m.Text = "a\x00b" }},
		{"invalid UTF-8 in HTML", "HTML", func(m *messaging.Email) { m.HTML = "\xff" }},
		{"tab in subject", "Subject", func(m *messaging.Email) { m.Subject = "a\tb" }},
	}
	for _, tt := range over {
		messagingtest.WantInvalid(t, at(tt.edit), tt.field)
	}
}

func TestVoiceAndSMSValidate(t *testing.T) {
	if err := messagingtest.ValidSMS().Validate(); err != nil {
		t.Errorf("valid SMS: %v", err)
	}
	if err := messagingtest.ValidVoice().Validate(); err != nil {
		t.Errorf("valid voice: %v", err)
	}
	sms := messagingtest.ValidSMS()
	sms.Body = "Line one\nLine two\r\n\tindented"
	if err := sms.Validate(); err != nil {
		t.Errorf("SMS with line breaks: %v", err)
	}
	v := messagingtest.ValidVoice()
	v.Text = strings.Repeat("a", messaging.MaxVoiceRunes+1)
	messagingtest.WantInvalid(t, v.Validate(), "Text")
}

type countingSMS struct{ n int }

func (c *countingSMS) SendSMS(context.Context, messaging.SMS) error { c.n++; return nil }

func TestPhoneJoinsTwoProviders(t *testing.T) {
	ctx := t.Context()
	sms := &countingSMS{}
	p := messaging.Phone{SMS: sms}

	if err := p.SendSMS(ctx, messagingtest.ValidSMS()); err != nil || sms.n != 1 {
		t.Errorf("SendSMS = %v, sent %d; want nil, 1", err, sms.n)
	}

	err := p.Call(ctx, messagingtest.ValidVoice())
	if !errors.Is(err, errs.ErrUnavailable) || !errors.Is(err, messaging.ErrVoiceUnsupported) {
		t.Errorf("Call without a voice provider = %v, want unavailable and unsupported", err)
	}
	bad := messagingtest.ValidVoice()
	bad.To = "12"
	messagingtest.WantInvalid(t, p.Call(ctx, bad), "To")

	err = messaging.Phone{}.SendSMS(ctx, messagingtest.ValidSMS())
	if !errors.Is(err, messaging.ErrSMSUnsupported) || !errors.Is(err, errs.ErrUnavailable) {
		t.Errorf("SendSMS without an SMS provider = %v", err)
	}
}

func TestEmailClone(t *testing.T) {
	m := messagingtest.ValidEmail()
	c := m.Clone()
	c.To[0] = "changed@example.com"
	c.Headers["X-Ward-Test"] = "changed"
	if m.To[0] != "ada@example.com" || m.Headers["X-Ward-Test"] != "1" {
		t.Errorf("changing a clone changed the original: %+v", m)
	}
}
