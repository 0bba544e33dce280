package smtp

import (
	"errors"
	"net/smtp"
)

// auth is SMTP AUTH with PLAIN (RFC 4616) or LOGIN (the widely deployed
// mechanism of draft-murchison-sasl-login). Both send the password itself,
// so they run only over TLS unless plaintext is allowed; net/smtp's own
// PlainAuth has a similar guard, but not Ward's rule for when plaintext is
// allowed, and it has no LOGIN.
type auth struct {
	mech               string
	username, password string
	allowPlaintext     bool
	step               int
}

var _ smtp.Auth = (*auth)(nil)

var errPlaintextAuth = errors.New("refusing to send the password over an unencrypted connection")

func (a *auth) Start(server *smtp.ServerInfo) (string, []byte, error) {
	if !server.TLS && !a.allowPlaintext {
		return "", nil, errPlaintextAuth
	}
	a.step = 0
	if a.mech == "PLAIN" {
		// authzid NUL authcid NUL passwd, with an empty authzid: act as
		// the user who authenticates.
		return "PLAIN", []byte("\x00" + a.username + "\x00" + a.password), nil
	}
	return "LOGIN", nil, nil
}

// Next answers the server's challenges. LOGIN asks for the user name and
// then the password; the prompts' wording varies between servers, so the
// answer goes by the order of the challenges, not by their text.
func (a *auth) Next(_ []byte, more bool) ([]byte, error) {
	if !more {
		return nil, nil
	}
	if a.mech != "LOGIN" {
		return nil, errors.New("unexpected challenge from the server during AUTH " + a.mech)
	}
	a.step++
	switch a.step {
	case 1:
		return []byte(a.username), nil
	case 2:
		return []byte(a.password), nil
	default:
		return nil, errors.New("unexpected third challenge from the server during AUTH LOGIN")
	}
}
