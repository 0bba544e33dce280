//go:build integration

package smtp_test

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wardhq/ward/shared/messaging"
	"github.com/wardhq/ward/shared/messaging/messagingtest"
	"github.com/wardhq/ward/shared/messaging/smtp"
	"github.com/wardhq/ward/shared/messaging/templates"
)

// mailpitInstall is how the tests' SMTP server is installed.
const mailpitInstall = "go install github.com/axllent/mailpit@v1.33.1"

// mailpit is a Mailpit server started for one test: an SMTP server that
// keeps every message it accepts and shows them through an HTTP API.
type mailpit struct {
	smtpAddr string
	api      string
	cert     testCert
}

type mailpitOptions struct {
	tls  bool // offer STARTTLS with a test certificate, and require it
	auth bool // require AUTH as user/password
}

// mailpitBinary finds Mailpit: $WARD_TEST_MAILPIT, then PATH, then
// $(go env GOPATH)/bin.
func mailpitBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("WARD_TEST_MAILPIT"); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("WARD_TEST_MAILPIT=%s: %v", p, err)
		}
		return p
	}
	if p, err := exec.LookPath("mailpit"); err == nil {
		return p
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		for _, dir := range filepath.SplitList(strings.TrimSpace(string(out))) {
			p := filepath.Join(dir, "bin", "mailpit")
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	t.Fatalf("Mailpit is not installed: run `%s`, or set WARD_TEST_MAILPIT to its binary",
		mailpitInstall)
	return ""
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// startMailpit starts Mailpit on free loopback ports and stops it when the
// test ends. A port taken between choosing and binding it is retried.
func startMailpit(t *testing.T, o mailpitOptions) *mailpit {
	t.Helper()
	bin := mailpitBinary(t)
	var lastErr error
	for range 3 {
		m, err := tryMailpit(t, bin, o)
		if err == nil {
			return m
		}
		lastErr = err
	}
	t.Fatalf("Mailpit did not start: %v", lastErr)
	return nil
}

func tryMailpit(t *testing.T, bin string, o mailpitOptions) (*mailpit, error) {
	dir := t.TempDir()
	m := &mailpit{
		smtpAddr: "127.0.0.1:" + freePort(t),
		api:      "http://127.0.0.1:" + freePort(t),
	}
	args := []string{
		"--database", filepath.Join(dir, "mailpit.db"),
		"--listen", strings.TrimPrefix(m.api, "http://"),
		"--smtp", m.smtpAddr,
		"--disable-version-check",
		"--smtp-disable-rdns",
		"--quiet",
	}
	if o.tls {
		m.cert = newTestCert(t)
		certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
		if err := os.WriteFile(certFile, m.cert.certPEM, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(keyFile, m.cert.keyPEM, 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--smtp-tls-cert", certFile, "--smtp-tls-key", keyFile,
			"--smtp-require-starttls")
	}
	if o.auth {
		authFile := filepath.Join(dir, "smtp-users")
		if err := os.WriteFile(authFile, []byte(user+":"+password+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--smtp-auth-file", authFile)
		if !o.tls {
			args = append(args, "--smtp-auth-allow-insecure")
		}
	}

	var logs bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		cmd.Process.Kill() // only the process this test started
		<-exited
	}

	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case err := <-exited:
			exited <- err
			return nil, fmt.Errorf("exited (%v): %s", err, logs.String())
		default:
		}
		resp, err := http.Get(m.api + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			stop()
			return nil, fmt.Errorf("not ready after 30s: %s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Cleanup(stop)
	return m, nil
}

// config returns a Sender's config for this server. With TLS the Sender is
// given serverName, which is not loopback, so TLS is required of it.
func (m *mailpit) config() smtp.Config {
	cfg := smtp.Config{Host: "127.0.0.1", Timeout: 20 * time.Second}
	host, port, _ := net.SplitHostPort(m.smtpAddr)
	cfg.Port, _ = strconv.Atoi(port)
	if m.cert.pool != nil {
		cfg.Host = serverName
		cfg.TLSConfig = &tls.Config{RootCAs: m.cert.pool}
		cfg.DialContext = dialTo(net.JoinHostPort(host, port))
	}
	return cfg
}

type mailpitAddress struct{ Name, Address string }

type mailpitMessage struct {
	ID        string
	MessageID string
	From      mailpitAddress
	To        []mailpitAddress
	Subject   string
	Username  string
	Text      string
	HTML      string
}

func (m *mailpit) get(t *testing.T, path string, v any) []byte {
	t.Helper()
	resp, err := http.Get(m.api + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s %v\n%s", path, resp.Status, err, body)
	}
	if v != nil {
		if err := json.Unmarshal(body, v); err != nil {
			t.Fatalf("GET %s: %v\n%s", path, err, body)
		}
	}
	return body
}

// count returns how many messages Mailpit holds.
func (m *mailpit) count(t *testing.T) int {
	var list struct{ Total int }
	m.get(t, "/api/v1/messages", &list)
	return list.Total
}

// only returns the one message Mailpit holds, in full.
func (m *mailpit) only(t *testing.T) mailpitMessage {
	t.Helper()
	var list struct {
		Total    int
		Messages []struct{ ID string }
	}
	m.get(t, "/api/v1/messages", &list)
	if list.Total != 1 || len(list.Messages) != 1 {
		t.Fatalf("Mailpit holds %d messages, want 1", list.Total)
	}
	var msg mailpitMessage
	m.get(t, "/api/v1/message/"+list.Messages[0].ID, &msg)
	return msg
}

func normalize(s string) string {
	return strings.TrimRight(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
}

func TestMailpitContract(t *testing.T) {
	mp := startMailpit(t, mailpitOptions{tls: true, auth: true})
	cfg := mp.config()
	cfg.Username, cfg.Password = user, password
	s := newSender(t, cfg)
	messagingtest.RunEmail(t, func(t *testing.T) messagingtest.EmailEnv {
		return messagingtest.EmailEnv{Sender: s, Accepted: mp.count}
	})
}

// A German verification email from the default templates, sent over
// STARTTLS with AUTH, read back through Mailpit's API.
func TestMailpitDeliversTheMessage(t *testing.T) {
	for _, mech := range []string{"PLAIN", "LOGIN"} {
		t.Run(mech, func(t *testing.T) {
			mp := startMailpit(t, mailpitOptions{tls: true, auth: true})
			cfg := mp.config()
			cfg.Username, cfg.Password, cfg.AuthMechanism = user, password, mech
			cfg.MessageIDDomain = "mail.ward.example"
			r, err := templates.New(nil)
			if err != nil {
				t.Fatal(err)
			}
			rendered, err := r.Render(t.Context(), messagingtest.TenantID, messaging.KindVerifyEmail,
				"de-CH", map[string]any{
					"AppName":      "Ärztekammer Zürich",
					"Link":         "https://id.example.ch/verify?t=abc&u=1",
					"Code":         "493021",
					"ValidMinutes": 30,
				})
			if err != nil {
				t.Fatal(err)
			}
			email := rendered.Email("Zoë von Ward <no-reply@ward.example>", "ada@example.com",
				"Grace Hopper <grace@example.org>")
			email.Headers = map[string]string{"List-Unsubscribe": "<mailto:unsubscribe@ward.example>"}

			if err := newSender(t, cfg).Send(t.Context(), email); err != nil {
				t.Fatalf("Send: %v", err)
			}

			got := mp.only(t)
			if got.Subject != "Bestätigen Sie Ihre E-Mail-Adresse für Ärztekammer Zürich" {
				t.Errorf("Subject = %q", got.Subject)
			}
			wantFrom := mailpitAddress{"Zoë von Ward", "no-reply@ward.example"}
			if diff := cmp.Diff(wantFrom, got.From); diff != "" {
				t.Errorf("From (-want +got):\n%s", diff)
			}
			wantTo := []mailpitAddress{{"", "ada@example.com"}, {"Grace Hopper", "grace@example.org"}}
			if diff := cmp.Diff(wantTo, got.To); diff != "" {
				t.Errorf("To (-want +got):\n%s", diff)
			}
			if got.Username != user {
				t.Errorf("Mailpit saw user %q, want %q: the message was not authenticated", got.Username, user)
			}
			if diff := cmp.Diff(normalize(rendered.Text), normalize(got.Text)); diff != "" {
				t.Errorf("text part (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(normalize(rendered.HTML), normalize(got.HTML)); diff != "" {
				t.Errorf("HTML part (-want +got):\n%s", diff)
			}
			if !strings.Contains(got.Text, "493021") {
				t.Errorf("the code is not in the text part: %s", got.Text)
			}
			if !strings.Contains(got.HTML, `href="https://id.example.ch/verify?t=abc&amp;u=1"`) {
				t.Errorf("HTML link not as escaped: %s", got.HTML)
			}
			if !strings.HasSuffix(got.MessageID, "@mail.ward.example") {
				t.Errorf("MessageID = %q", got.MessageID)
			}

			var headers map[string][]string
			mp.get(t, "/api/v1/message/"+got.ID+"/headers", &headers)
			for name, want := range map[string]string{
				"Mime-Version":     "1.0",
				"Auto-Submitted":   "auto-generated",
				"List-Unsubscribe": "<mailto:unsubscribe@ward.example>",
				"Message-Id":       "<" + got.MessageID + ">",
			} {
				if v := headers[name]; len(v) != 1 || v[0] != want {
					t.Errorf("header %s = %q, want %q", name, v, want)
				}
			}
			if ct := headers["Content-Type"]; len(ct) != 1 ||
				!strings.HasPrefix(ct[0], "multipart/alternative; boundary=") {
				t.Errorf("Content-Type = %q", ct)
			}
			if d := headers["Date"]; len(d) != 1 {
				t.Errorf("Date = %q", d)
			} else if at, err := time.Parse(time.RFC1123Z, d[0]); err != nil ||
				time.Since(at).Abs() > time.Hour {
				t.Errorf("Date = %q (%v), want about now", d[0], err)
			}
			for _, absent := range []string{"Bcc", "Cc"} {
				if _, ok := headers[absent]; ok {
					t.Errorf("unexpected header %s", absent)
				}
			}

			raw := string(mp.get(t, "/api/v1/message/"+got.ID+"/raw", nil))
			if !strings.Contains(raw, "\r\nSubject: =?UTF-8?q?Best=C3=A4tigen") {
				t.Errorf("the subject is not Q-encoded on the wire:\n%s", raw)
			}
		})
	}
}

// Header injection is refused before any connection: Mailpit receives
// nothing, and no message to the injected address exists.
func TestMailpitHeaderInjectionSendsNothing(t *testing.T) {
	mp := startMailpit(t, mailpitOptions{tls: true, auth: true})
	cfg := mp.config()
	cfg.Username, cfg.Password = user, password
	s := newSender(t, cfg)

	for _, tt := range messagingtest.InvalidEmails() {
		if !strings.Contains(tt.Name, "CR") && !strings.Contains(tt.Name, "LF") &&
			!strings.Contains(tt.Name, "line break") && !strings.Contains(tt.Name, "colon") {
			continue
		}
		t.Run(tt.Name, func(t *testing.T) {
			m := messagingtest.ValidEmail()
			tt.Edit(&m)
			messagingtest.WantInvalid(t, s.Send(t.Context(), m), tt.Field)
		})
	}

	if n := mp.count(t); n != 0 {
		t.Errorf("Mailpit holds %d messages after injection attempts, want 0", n)
	}
	var found struct{ Total int }
	mp.get(t, "/api/v1/search?query="+url.QueryEscape("to:victim@example.com"), &found)
	if found.Total != 0 {
		t.Errorf("%d messages to the injected address", found.Total)
	}

	// The same sender still works: the refusals were not a broken setup.
	if err := s.Send(t.Context(), messagingtest.ValidEmail()); err != nil {
		t.Fatalf("Send of a valid email: %v", err)
	}
	if n := mp.count(t); n != 1 {
		t.Errorf("Mailpit holds %d messages, want 1", n)
	}
}

func TestMailpitWrongPassword(t *testing.T) {
	mp := startMailpit(t, mailpitOptions{tls: true, auth: true})
	cfg := mp.config()
	cfg.Username, cfg.Password = user, "not-"+password

	err := newSender(t, cfg).Send(t.Context(), messagingtest.ValidEmail())

	messagingtest.WantUnavailable(t, err)
	var pe *messaging.ProviderError
	if !errors.As(err, &pe) || pe.Step != "AUTH" {
		t.Errorf("err = %v, want a failure at AUTH", err)
	}
	if strings.Contains(err.Error(), password) {
		t.Errorf("the error holds the password: %v", err)
	}
	if n := mp.count(t); n != 0 {
		t.Errorf("Mailpit holds %d messages, want 0", n)
	}
}

// Without STARTTLS on offer, a Sender for a host that is not loopback
// refuses to go on; the same server reached as 127.0.0.1 is allowed.
func TestMailpitPlaintext(t *testing.T) {
	mp := startMailpit(t, mailpitOptions{})
	cfg := mp.config() // Host 127.0.0.1

	remote := cfg
	remote.Host = serverName
	remote.DialContext = dialTo(mp.smtpAddr)
	err := newSender(t, remote).Send(t.Context(), messagingtest.ValidEmail())
	messagingtest.WantUnavailable(t, err)
	if n := mp.count(t); n != 0 {
		t.Fatalf("Mailpit holds %d messages after a refused plaintext send, want 0", n)
	}

	if err := newSender(t, cfg).Send(t.Context(), messagingtest.ValidEmail()); err != nil {
		t.Fatalf("Send to loopback: %v", err)
	}
	if n := mp.count(t); n != 1 {
		t.Errorf("Mailpit holds %d messages, want 1", n)
	}
}

// A body near the size limit, with long lines and every kind of character,
// arrives exactly: quoted-printable's soft line breaks are undone.
func TestMailpitLargeBody(t *testing.T) {
	mp := startMailpit(t, mailpitOptions{})
	var b strings.Builder
	for i := 0; b.Len() < messaging.MaxBodyBytes-2000; i++ {
		fmt.Fprintf(&b, "Zeile %d: äöü ß € 漢字 = tab\there, a long line %s\n", i,
			strings.Repeat("x", i%300))
	}
	m := messagingtest.ValidEmail()
	m.Text = b.String()
	m.HTML = ""

	if err := newSender(t, mp.config()).Send(t.Context(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}

	got := mp.only(t)
	if normalize(got.Text) != normalize(m.Text) {
		t.Errorf("the text body changed on the way (%d bytes sent, %d read back)", len(m.Text),
			len(got.Text))
	}
}
