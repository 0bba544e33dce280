// Package smtp sends Ward's email through an SMTP server (a relay such as a
// provider's submission endpoint), on the standard library's net/smtp.
//
// Each Send is one connection: connect, EHLO, STARTTLS, AUTH, MAIL, RCPT,
// DATA, QUIT. Encryption is required by default: the server must offer
// STARTTLS (RFC 3207) or be reached with ImplicitTLS (RFC 8314), and its
// certificate must verify, or nothing is sent. Only a server on a loopback
// address, or a Config with the loudly named InsecureAllowPlaintext, may
// receive mail and credentials in the clear.
//
// Known shortcoming: no connection is kept between messages, which costs a
// TCP and TLS handshake per email. Ward sends few emails per request, and a
// serverless function could not keep a connection across invocations anyway.
package smtp

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/smtp"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/messaging"
)

// Config says where the server is and how to speak to it.
type Config struct {
	// Host is the server's host name. It is also the name its TLS
	// certificate must carry, unless TLSConfig.ServerName says otherwise.
	Host string
	// Port defaults to 587 (submission), or 465 with ImplicitTLS.
	Port int
	// ImplicitTLS speaks TLS from the first byte instead of upgrading with
	// STARTTLS.
	ImplicitTLS bool
	// InsecureAllowPlaintext lets a message and the credentials cross the
	// network unencrypted when the server does not offer STARTTLS. Anyone
	// on the path can then read and change them. Hosts on a loopback
	// address ("localhost", 127.0.0.0/8, ::1) are allowed this without it.
	// STARTTLS is still used whenever the server offers it.
	InsecureAllowPlaintext bool
	// TLSConfig, if set, replaces the default TLS settings (the system's
	// roots, TLS 1.2 or later). It may not skip verification.
	TLSConfig *tls.Config
	// Username and Password authenticate with AUTH when Username is set.
	Username string
	Password string
	// AuthMechanism is "PLAIN" or "LOGIN"; empty picks PLAIN when the
	// server offers it and LOGIN otherwise.
	AuthMechanism string
	// HeloName is the name sent with EHLO; empty means "localhost".
	HeloName string
	// MessageIDDomain is the right-hand side of Message-IDs; empty means
	// the domain of each email's From.
	MessageIDDomain string
	// Timeout bounds one whole Send; zero means 30 seconds. A deadline on
	// the context passed to Send also applies.
	Timeout time.Duration
	// DialContext opens the TCP connection; nil means a net.Dialer. It does
	// not change which host counts as loopback: that is read from Host.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	// Now is the clock for the Date header; nil means time.Now.
	Now func() time.Time
	// Rand makes Message-IDs and MIME boundaries; nil means crypto/rand.
	// Concurrent Sends read it at once, so it must allow that.
	Rand io.Reader
}

// Sender is a messaging.EmailSender on an SMTP server.
type Sender struct {
	cfg        Config
	addr       string
	tls        *tls.Config
	requireTLS bool
}

var _ messaging.EmailSender = (*Sender)(nil)

// New checks cfg and returns a Sender. It does not connect: a server that
// cannot be reached shows in the first Send.
func New(cfg Config) (*Sender, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.Port == 0 {
		cfg.Port = 587
		if cfg.ImplicitTLS {
			cfg.Port = 465
		}
	}
	if cfg.HeloName == "" {
		cfg.HeloName = "localhost"
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.DialContext == nil {
		cfg.DialContext = (&net.Dialer{}).DialContext
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}

	tc := cfg.TLSConfig.Clone() // the caller's stays unshared
	if tc == nil {
		tc = &tls.Config{}
	}
	if tc.ServerName == "" {
		tc.ServerName = cfg.Host
	}
	if tc.MinVersion < tls.VersionTLS12 {
		tc.MinVersion = tls.VersionTLS12
	}
	cfg.TLSConfig = nil

	return &Sender{
		cfg:        cfg,
		addr:       net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)),
		tls:        tc,
		requireTLS: !cfg.InsecureAllowPlaintext && !isLoopback(cfg.Host),
	}, nil
}

func (cfg Config) validate() error {
	if cfg.Host == "" || strings.ContainsFunc(cfg.Host, func(r rune) bool {
		return r <= ' ' || r == '/' || r >= 0x7f
	}) {
		return errs.Invalid("Host", "must be a host name or IP address")
	}
	if cfg.Port < 0 || cfg.Port > 65535 {
		return errs.Invalid("Port", "must be between 1 and 65535")
	}
	if cfg.TLSConfig != nil && cfg.TLSConfig.InsecureSkipVerify {
		return errs.Invalid("TLSConfig", "must verify the server: trust its certificate "+
			"through RootCAs instead of skipping verification")
	}
	if cfg.Password != "" && cfg.Username == "" {
		return errs.Invalid("Username", "is required with a password")
	}
	if cfg.AuthMechanism != "" && cfg.AuthMechanism != "PLAIN" && cfg.AuthMechanism != "LOGIN" {
		return errs.Invalid("AuthMechanism", "must be PLAIN or LOGIN")
	}
	if strings.ContainsFunc(cfg.HeloName, func(r rune) bool { return r <= ' ' || r >= 0x7f }) {
		return errs.Invalid("HeloName", "must be a host name")
	}
	if cfg.Timeout < 0 {
		return errs.Invalid("Timeout", "must not be negative")
	}
	return nil
}

// isLoopback reports whether host names this machine without a lookup: a
// name that resolves to a loopback address elsewhere does not count.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Send composes m and hands it to the server (see messaging.EmailSender).
// Nothing is sent unless m is valid, the connection is encrypted (or
// plaintext is allowed) and authentication succeeds.
func (s *Sender) Send(ctx context.Context, m messaging.Email) error {
	msg, err := messaging.Compose(m, messaging.ComposeOptions{
		Date:            s.cfg.Now(),
		Rand:            s.cfg.Rand,
		MessageIDDomain: s.cfg.MessageIDDomain,
	})
	if err != nil {
		return err
	}

	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	redact := []string{s.cfg.Password, m.Subject, m.Text, m.HTML}
	fail := func(step string, err error) error {
		// The connection's deadline is ctx's, and may pass a moment
		// before ctx notices.
		if ctxErr := ctx.Err(); ctxErr != nil {
			err = errors.Join(ctxErr, err)
		} else if errors.Is(err, os.ErrDeadlineExceeded) {
			err = errors.Join(context.DeadlineExceeded, err)
		}
		return messaging.ProviderFailure("smtp", step, err, redact...)
	}
	if err := ctx.Err(); err != nil {
		return fail("dial", err)
	}

	c, err := s.connect(ctx)
	if err != nil {
		return fail("connect", err)
	}
	defer c.Close()

	if step, err := s.secure(c); err != nil {
		return fail(step, err)
	}
	if err := c.Mail(msg.From); err != nil {
		return fail("MAIL", err)
	}
	for _, rcpt := range msg.To {
		if err := c.Rcpt(rcpt); err != nil {
			return fail("RCPT", err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fail("DATA", err)
	}
	if _, err := w.Write(msg.Raw); err != nil {
		return fail("DATA", err)
	}
	// The reply to the end of DATA is the server's acceptance.
	if err := w.Close(); err != nil {
		return fail("DATA", err)
	}
	// The message is accepted; a failed QUIT loses nothing.
	_ = c.Quit()
	return nil
}

// connect dials, sets the deadline and reads the server's greeting. The
// connection is closed if ctx ends first, so no step blocks past it.
func (s *Sender) connect(ctx context.Context) (*smtp.Client, error) {
	conn, err := s.cfg.DialContext(ctx, "tcp", s.addr)
	if err != nil {
		return nil, err
	}
	if d, ok := ctx.Deadline(); ok {
		if err := conn.SetDeadline(d); err != nil {
			conn.Close()
			return nil, err
		}
	}
	// Send always cancels ctx when it returns, so this runs exactly once.
	context.AfterFunc(ctx, func() { conn.Close() })

	if s.cfg.ImplicitTLS {
		tc := tls.Client(conn, s.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, err
		}
		conn = tc
	}
	c, err := smtp.NewClient(conn, s.cfg.Host)
	if err != nil {
		conn.Close()
		return nil, err
	}
	if err := c.Hello(s.cfg.HeloName); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// secure upgrades the connection to TLS when the server offers it (and
// requires that it does unless plaintext is allowed), then authenticates.
// It returns the step that failed.
func (s *Sender) secure(c *smtp.Client) (string, error) {
	if _, encrypted := c.TLSConnectionState(); !encrypted {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(s.tls); err != nil {
				return "STARTTLS", err
			}
		} else if s.requireTLS {
			return "STARTTLS", errors.New("the server does not offer STARTTLS and TLS is required")
		}
	}
	if s.cfg.Username == "" {
		return "", nil
	}

	ok, offered := c.Extension("AUTH")
	if !ok {
		return "AUTH", errors.New("the server does not offer authentication")
	}
	mechs := strings.Fields(strings.ToUpper(offered))
	mech := s.cfg.AuthMechanism
	switch {
	case mech != "" && !slices.Contains(mechs, mech):
		return "AUTH", errors.New("the server does not offer AUTH " + mech + " (offers " +
			offered + ")")
	case mech == "" && slices.Contains(mechs, "PLAIN"):
		mech = "PLAIN"
	case mech == "" && slices.Contains(mechs, "LOGIN"):
		mech = "LOGIN"
	case mech == "":
		return "AUTH", errors.New("the server offers no supported mechanism (offers " +
			offered + ")")
	}
	a := &auth{
		mech:           mech,
		username:       s.cfg.Username,
		password:       s.cfg.Password,
		allowPlaintext: !s.requireTLS,
	}
	if err := c.Auth(a); err != nil {
		return "AUTH", err
	}
	return "", nil
}
