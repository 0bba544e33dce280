package smtp_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/messaging"
	"github.com/wardhq/ward/shared/messaging/messagingtest"
	"github.com/wardhq/ward/shared/messaging/smtp"
)

const (
	user     = "ward-mailer"
	password = "correct-horse-battery-staple"
)

// fixture is a fake server with STARTTLS and AUTH, and a config that
// reaches it under a name that is not loopback, so TLS is required.
func fixture(t *testing.T, edit func(*fakeServer)) (*fakeServer, smtp.Config) {
	t.Helper()
	cert := newTestCert(t)
	f := &fakeServer{offerTLS: true, cert: &cert.cert, authMechs: "PLAIN LOGIN", user: user,
		pass: password}
	if edit != nil {
		edit(f)
	}
	startFake(t, f)
	return f, smtp.Config{
		Host:        serverName,
		TLSConfig:   &tls.Config{RootCAs: cert.pool},
		Username:    user,
		Password:    password,
		DialContext: dialTo(f.addr),
		Timeout:     10 * time.Second,
	}
}

func newSender(t *testing.T, cfg smtp.Config) *smtp.Sender {
	t.Helper()
	s, err := smtp.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

func TestContract(t *testing.T) {
	messagingtest.RunEmail(t, func(t *testing.T) messagingtest.EmailEnv {
		f, cfg := fixture(t, nil)
		return messagingtest.EmailEnv{
			Sender:   newSender(t, cfg),
			Accepted: func(*testing.T) int { return len(f.messages()) },
		}
	})
}

func TestSendsOverTLSWithAuth(t *testing.T) {
	for _, mech := range []string{"", "PLAIN", "LOGIN"} {
		t.Run("mechanism "+mech, func(t *testing.T) {
			f, cfg := fixture(t, nil)
			cfg.AuthMechanism = mech
			cfg.Now = func() time.Time { return time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC) }
			m := messagingtest.ValidEmail()
			m.To = append(m.To, "Bob <bob@example.org>")

			if err := newSender(t, cfg).Send(t.Context(), m); err != nil {
				t.Fatalf("Send: %v", err)
			}

			got := f.messages()
			if len(got) != 1 {
				t.Fatalf("server accepted %d messages, want 1", len(got))
			}
			if !got[0].tls || !got[0].authed {
				t.Errorf("delivered with tls=%v, authed=%v; want both", got[0].tls, got[0].authed)
			}
			if got[0].from != "no-reply@ward.example" ||
				strings.Join(got[0].to, ",") != "ada@example.com,bob@example.org" {
				t.Errorf("envelope = %s -> %v", got[0].from, got[0].to)
			}
			msg, err := mail.ReadMessage(strings.NewReader(got[0].data))
			if err != nil {
				t.Fatal(err)
			}
			if msg.Header.Get("Subject") != m.Subject ||
				msg.Header.Get("Date") != "Fri, 01 May 2026 08:00:00 +0000" {
				t.Errorf("header = %v", msg.Header)
			}
		})
	}
}

func TestTLSIsRequiredWhenNotOffered(t *testing.T) {
	f, cfg := fixture(t, func(f *fakeServer) { f.offerTLS = false })

	err := newSender(t, cfg).Send(t.Context(), messagingtest.ValidEmail())

	messagingtest.WantUnavailable(t, err)
	var pe *messaging.ProviderError
	if !errors.As(err, &pe) || pe.Step != "STARTTLS" {
		t.Errorf("err = %v, want a failure at STARTTLS", err)
	}
	if f.saw("AUTH") || f.saw("MAIL") || len(f.messages()) != 0 {
		t.Errorf("the sender went on without TLS: commands after EHLO were sent")
	}
}

func TestInsecureAllowPlaintext(t *testing.T) {
	f, cfg := fixture(t, func(f *fakeServer) { f.offerTLS = false })
	cfg.InsecureAllowPlaintext = true

	if err := newSender(t, cfg).Send(t.Context(), messagingtest.ValidEmail()); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if got := f.messages(); len(got) != 1 || got[0].tls || !got[0].authed {
		t.Errorf("messages = %+v, want one sent in plaintext after AUTH", got)
	}
}

func TestLoopbackHostMayUsePlaintext(t *testing.T) {
	for _, host := range []string{"127.0.0.1", "localhost"} {
		t.Run(host, func(t *testing.T) {
			f, cfg := fixture(t, func(f *fakeServer) { f.offerTLS = false })
			cfg.Host = host
			if err := newSender(t, cfg).Send(t.Context(), messagingtest.ValidEmail()); err != nil {
				t.Fatalf("Send: %v", err)
			}
			if got := f.messages(); len(got) != 1 || got[0].tls {
				t.Errorf("messages = %+v, want one in plaintext", got)
			}
		})
	}
}

func TestStartTLSIsUsedWhenOfferedEvenOnLoopback(t *testing.T) {
	f, cfg := fixture(t, nil)
	cfg.Host = "127.0.0.1"
	if err := newSender(t, cfg).Send(t.Context(), messagingtest.ValidEmail()); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if got := f.messages(); len(got) != 1 || !got[0].tls {
		t.Errorf("messages = %+v, want one over TLS", got)
	}
}

func TestUntrustedCertificateSendsNothing(t *testing.T) {
	f, cfg := fixture(t, nil)
	cfg.TLSConfig = nil // the system's roots do not know the test certificate

	err := newSender(t, cfg).Send(t.Context(), messagingtest.ValidEmail())

	messagingtest.WantUnavailable(t, err)
	if f.saw("AUTH") || len(f.messages()) != 0 {
		t.Errorf("credentials or mail went to a server whose certificate did not verify")
	}
}

func TestWrongPasswordSendsNothingAndDoesNotLeak(t *testing.T) {
	f, cfg := fixture(t, nil)
	cfg.Password = "wrong-" + password

	m := messagingtest.ValidEmail()
	err := newSender(t, cfg).Send(t.Context(), m)

	messagingtest.WantUnavailable(t, err)
	if len(f.messages()) != 0 || f.saw("MAIL") {
		t.Errorf("the sender went on after a failed AUTH")
	}
	for _, secret := range []string{cfg.Password, password, m.Text, m.Subject} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("the error holds %q: %v", secret, err)
		}
	}
}

func TestUnofferedMechanism(t *testing.T) {
	f, cfg := fixture(t, func(f *fakeServer) { f.authMechs = "CRAM-MD5" })
	err := newSender(t, cfg).Send(t.Context(), messagingtest.ValidEmail())
	messagingtest.WantUnavailable(t, err)

	cfg.AuthMechanism = "LOGIN"
	f.authMechs = "PLAIN"
	err = newSender(t, cfg).Send(t.Context(), messagingtest.ValidEmail())
	messagingtest.WantUnavailable(t, err)

	f.authMechs = ""
	err = newSender(t, cfg).Send(t.Context(), messagingtest.ValidEmail())
	messagingtest.WantUnavailable(t, err)

	if len(f.messages()) != 0 {
		t.Errorf("messages were sent without authentication")
	}
}

func TestRefusedRecipientSendsNothing(t *testing.T) {
	f, cfg := fixture(t, nil)
	m := messagingtest.ValidEmail()
	m.To = []string{"ada@example.com", "reject-me@example.com"}

	err := newSender(t, cfg).Send(t.Context(), m)

	messagingtest.WantUnavailable(t, err)
	var pe *messaging.ProviderError
	if !errors.As(err, &pe) || pe.Step != "RCPT" || !strings.Contains(pe.Detail, "550") {
		t.Errorf("err = %v, want the server's 550 at RCPT", err)
	}
	if f.saw("DATA") || len(f.messages()) != 0 {
		t.Errorf("DATA was sent after a refused recipient")
	}
}

func TestSilentServerTimesOut(t *testing.T) {
	_, cfg := fixture(t, func(f *fakeServer) { f.silent = true })
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()

	err := newSender(t, cfg).Send(ctx, messagingtest.ValidEmail())

	messagingtest.WantUnavailable(t, err)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want it to match context.DeadlineExceeded", err)
	}

	cfg.Timeout = 300 * time.Millisecond
	err = newSender(t, cfg).Send(t.Context(), messagingtest.ValidEmail())
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("with Config.Timeout: err = %v, want context.DeadlineExceeded", err)
	}
}

func TestImplicitTLS(t *testing.T) {
	cert := newTestCert(t)
	f := &fakeServer{cert: &cert.cert}
	serverTLS := &tls.Config{Certificates: []tls.Certificate{cert.cert}}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", serverTLS)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go f.serve(c)
		}
	}()

	s := newSender(t, smtp.Config{
		Host:        serverName,
		ImplicitTLS: true,
		TLSConfig:   &tls.Config{RootCAs: cert.pool},
		DialContext: dialTo(ln.Addr().String()),
	})
	if err := s.Send(t.Context(), messagingtest.ValidEmail()); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if f.saw("STARTTLS") || len(f.messages()) != 1 {
		t.Errorf("commands/messages wrong: STARTTLS=%v, %d messages", f.saw("STARTTLS"),
			len(f.messages()))
	}
}

func TestConfigIsValidated(t *testing.T) {
	tests := []struct {
		field string
		cfg   smtp.Config
	}{
		{"Host", smtp.Config{}},
		{"Host", smtp.Config{Host: "mail example.com"}},
		{"Host", smtp.Config{Host: "mail.example.com\r\n"}},
		{"Port", smtp.Config{Host: "h", Port: 70000}},
		{"TLSConfig", smtp.Config{Host: "h", TLSConfig: &tls.Config{InsecureSkipVerify: true}}},
		{"Username", smtp.Config{Host: "h", Password: "p"}},
		{"AuthMechanism", smtp.Config{Host: "h", Username: "u", AuthMechanism: "CRAM-MD5"}},
		{"HeloName", smtp.Config{Host: "h", HeloName: "a b"}},
		{"Timeout", smtp.Config{Host: "h", Timeout: -1}},
	}
	for _, tt := range tests {
		_, err := smtp.New(tt.cfg)
		messagingtest.WantInvalid(t, err, tt.field)
	}
}

func TestCallerTLSConfigIsNotChanged(t *testing.T) {
	tc := &tls.Config{}
	newSender(t, smtp.Config{Host: "mail.example.com", TLSConfig: tc})
	if tc.ServerName != "" || tc.MinVersion != 0 {
		t.Errorf("New changed the caller's tls.Config: %+v", tc)
	}
}

func TestUnreachableServer(t *testing.T) {
	s := newSender(t, smtp.Config{Host: "127.0.0.1", Port: 1, Password: "", Timeout: 2 * time.Second})
	err := s.Send(t.Context(), messagingtest.ValidEmail())
	messagingtest.WantUnavailable(t, err)
	if errs.Public(err).Message != "the message could not be sent" {
		t.Errorf("client-safe message = %q", errs.Public(err).Message)
	}
}

// The composed message reaches the server byte for byte.
func TestDataIsTheComposedMessage(t *testing.T) {
	f, cfg := fixture(t, nil)
	fixed := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
	cfg.Now = func() time.Time { return fixed }
	cfg.Rand = bytes.NewReader(make([]byte, 64))
	m := messagingtest.ValidEmail()

	if err := newSender(t, cfg).Send(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	want, err := messaging.Compose(m, messaging.ComposeOptions{Date: fixed,
		Rand: bytes.NewReader(make([]byte, 64))})
	if err != nil {
		t.Fatal(err)
	}
	got := f.messages()[0].data
	if got != string(want.Raw)+"\r\n" && got != string(want.Raw) {
		t.Errorf("DATA differs from the composed message:\n%q\n%q", got, want.Raw)
	}
}
