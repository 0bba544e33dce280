package smtp

import (
	"errors"
	"net/smtp"
	"testing"
)

func TestAuthRefusesPlaintextUnlessAllowed(t *testing.T) {
	for _, mech := range []string{"PLAIN", "LOGIN"} {
		a := &auth{mech: mech, username: "u", password: "p"}
		_, _, err := a.Start(&smtp.ServerInfo{Name: "h", TLS: false})
		if !errors.Is(err, errPlaintextAuth) {
			t.Errorf("%s over plaintext: %v, want a refusal", mech, err)
		}
		a.allowPlaintext = true
		if _, _, err := a.Start(&smtp.ServerInfo{Name: "h", TLS: false}); err != nil {
			t.Errorf("%s over allowed plaintext: %v", mech, err)
		}
	}
}

func TestAuthExchanges(t *testing.T) {
	a := &auth{mech: "PLAIN", username: "user", password: "pass"}
	mech, resp, err := a.Start(&smtp.ServerInfo{TLS: true})
	if err != nil || mech != "PLAIN" || string(resp) != "\x00user\x00pass" {
		t.Errorf("PLAIN Start = %q, %q, %v", mech, resp, err)
	}
	if _, err := a.Next([]byte("?"), true); err == nil {
		t.Errorf("PLAIN answered a challenge")
	}

	a = &auth{mech: "LOGIN", username: "user", password: "pass"}
	mech, resp, err = a.Start(&smtp.ServerInfo{TLS: true})
	if err != nil || mech != "LOGIN" || resp != nil {
		t.Errorf("LOGIN Start = %q, %q, %v", mech, resp, err)
	}
	for _, want := range []string{"user", "pass"} {
		got, err := a.Next([]byte("User Name"), true)
		if err != nil || string(got) != want {
			t.Errorf("LOGIN Next = %q, %v; want %q", got, err, want)
		}
	}
	if _, err := a.Next([]byte("again?"), true); err == nil {
		t.Errorf("LOGIN answered a third challenge")
	}
	if got, err := a.Next(nil, false); got != nil || err != nil {
		t.Errorf("LOGIN Next at the end = %q, %v", got, err)
	}
}

func TestIsLoopback(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost": true, "LOCALHOST": true, "127.0.0.1": true, "127.3.4.5": true, "::1": true,
		"localhost.example.com": false, "10.0.0.1": false, "mail.example.com": false, "": false,
	} {
		if got := isLoopback(host); got != want {
			t.Errorf("isLoopback(%q) = %v, want %v", host, got, want)
		}
	}
}
