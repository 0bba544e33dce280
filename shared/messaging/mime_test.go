package messaging_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"regexp"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/messaging"
	"github.com/wardhq/ward/shared/messaging/messagingtest"
)

var fixedDate = time.Date(2026, 3, 14, 15, 9, 26, 0, time.FixedZone("CET", 3600))

// zeros is a random source that always reads zero bytes, for exact output.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func compose(t *testing.T, m messaging.Email) (messaging.Composed, *mail.Message) {
	t.Helper()
	c, err := messaging.Compose(m, messaging.ComposeOptions{Date: fixedDate, Rand: zeros{}})
	if err != nil {
		t.Fatalf("Compose: %v", err)
	}
	checkWireForm(t, c.Raw)
	msg, err := mail.ReadMessage(bytes.NewReader(c.Raw))
	if err != nil {
		t.Fatalf("ReadMessage: %v\n%s", err, c.Raw)
	}
	return c, msg
}

// checkWireForm checks what RFC 5322 section 2.1 requires of every message:
// 7-bit, CRLF line ends only, lines of at most 998 bytes.
func checkWireForm(t testing.TB, raw []byte) {
	t.Helper()
	for i, b := range raw {
		if b >= 0x80 || b == 0 {
			t.Fatalf("byte %d is %#x: the message is not 7-bit ASCII", i, b)
		}
		if b == '\n' && (i == 0 || raw[i-1] != '\r') {
			t.Fatalf("bare LF at byte %d", i)
		}
		if b == '\r' && (i+1 == len(raw) || raw[i+1] != '\n') {
			t.Fatalf("bare CR at byte %d", i)
		}
	}
	for n, line := range bytes.Split(raw, []byte("\r\n")) {
		if len(line) > 998 {
			t.Fatalf("line %d has %d bytes, more than 998", n+1, len(line))
		}
	}
}

func decodeHeader(t *testing.T, s string) string {
	t.Helper()
	got, err := new(mime.WordDecoder).DecodeHeader(s)
	if err != nil {
		t.Fatalf("DecodeHeader(%q): %v", s, err)
	}
	return got
}

func TestComposeMultipartAlternative(t *testing.T) {
	m := messagingtest.ValidEmail()
	m.From = "Zoë from Ward <no-reply@ward.example>"
	m.To = []string{"ada@example.com", "Grace Hopper <grace@example.org>"}
	m.Subject = "Bestätigen Sie Ihre Adresse — ✓"
	m.Text = "Grüße,\nopen https://ward.example/v/abc\n"
	m.HTML = "<p>Grüße, <a href=\"https://ward.example/v/abc\">open</a></p>"
	m.Headers = map[string]string{"x-b": "2", "List-Unsubscribe": "<mailto:u@ward.example>"}

	c, msg := compose(t, m)

	if got, want := msg.Header.Get("Date"), "Sat, 14 Mar 2026 15:09:26 +0100"; got != want {
		t.Errorf("Date = %q, want %q", got, want)
	}
	from, err := mail.ParseAddress(msg.Header.Get("From"))
	if err != nil || from.Name != "Zoë from Ward" || from.Address != "no-reply@ward.example" {
		t.Errorf("From = %q (%v), want Zoë's name and address", msg.Header.Get("From"), err)
	}
	to, err := msg.Header.AddressList("To")
	if err != nil || len(to) != 2 || to[0].Address != "ada@example.com" ||
		to[1].Name != "Grace Hopper" {
		t.Errorf("To = %q (%v)", msg.Header.Get("To"), err)
	}
	if got := decodeHeader(t, msg.Header.Get("Subject")); got != m.Subject {
		t.Errorf("Subject decodes to %q, want %q", got, m.Subject)
	}
	if !strings.HasPrefix(msg.Header.Get("Subject"), "=?UTF-8?q?") {
		t.Errorf("Subject = %q, want a Q-encoded word", msg.Header.Get("Subject"))
	}
	if got := msg.Header.Get("Message-Id"); got != c.MessageID ||
		!regexp.MustCompile(`^<[a-z2-7]{24}@ward\.example>$`).MatchString(got) {
		t.Errorf("Message-ID = %q (Composed says %q)", got, c.MessageID)
	}
	for name, want := range map[string]string{
		"Mime-Version":     "1.0",
		"Auto-Submitted":   "auto-generated",
		"X-B":              "2",
		"List-Unsubscribe": "<mailto:u@ward.example>",
	} {
		if got := msg.Header.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if c.From != "no-reply@ward.example" {
		t.Errorf("envelope from = %q", c.From)
	}
	if diff := cmp.Diff([]string{"ada@example.com", "grace@example.org"}, c.To); diff != "" {
		t.Errorf("envelope to (-want +got):\n%s", diff)
	}

	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/alternative" {
		t.Fatalf("Content-Type = %q (%v)", msg.Header.Get("Content-Type"), err)
	}
	r := multipart.NewReader(msg.Body, params["boundary"])
	wantParts := []struct{ ctype, body string }{
		{"text/plain; charset=UTF-8", "Grüße,\r\nopen https://ward.example/v/abc\r\n"},
		{"text/html; charset=UTF-8", m.HTML},
	}
	for i, want := range wantParts {
		p, err := r.NextRawPart()
		if err != nil {
			t.Fatalf("part %d: %v", i, err)
		}
		if got := p.Header.Get("Content-Type"); got != want.ctype {
			t.Errorf("part %d Content-Type = %q, want %q", i, got, want.ctype)
		}
		if got := p.Header.Get("Content-Transfer-Encoding"); got != "quoted-printable" {
			t.Errorf("part %d Content-Transfer-Encoding = %q", i, got)
		}
		body, err := io.ReadAll(quotedprintable.NewReader(p))
		if err != nil {
			t.Fatalf("part %d: %v", i, err)
		}
		if string(body) != want.body {
			t.Errorf("part %d body = %q, want %q", i, body, want.body)
		}
	}
	if _, err := r.NextRawPart(); err != io.EOF {
		t.Errorf("a third part: %v, want io.EOF", err)
	}
}

// The exact bytes of a small message: the wire form is part of the
// contract with every relay and mailbox, so a change to it shows here.
func TestComposeTextOnlyExactBytes(t *testing.T) {
	m := messagingtest.ValidEmail()
	m.HTML = ""
	m.Headers = nil
	m.Text = "Line one\nA line with = and a trailing space \nThe end"

	c, _ := compose(t, m)

	want := "Date: Sat, 14 Mar 2026 15:09:26 +0100\r\n" +
		"From: \"Ward\" <no-reply@ward.example>\r\n" +
		"To: <ada@example.com>\r\n" +
		"Subject: Confirm your address\r\n" +
		"Message-ID: <aaaaaaaaaaaaaaaaaaaaaaaa@ward.example>\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Auto-Submitted: auto-generated\r\n" +
		"Content-Type: text/plain; charset=UTF-8\r\n" +
		"Content-Transfer-Encoding: quoted-printable\r\n" +
		"\r\n" +
		"Line one\r\n" +
		"A line with =3D and a trailing space=20\r\n" +
		"The end"
	if diff := cmp.Diff(want, string(c.Raw)); diff != "" {
		t.Errorf("raw message (-want +got):\n%s", diff)
	}
}

func TestComposeHTMLOnly(t *testing.T) {
	m := messagingtest.ValidEmail()
	m.Text = ""
	_, msg := compose(t, m)
	if got := msg.Header.Get("Content-Type"); got != "text/html; charset=UTF-8" {
		t.Errorf("Content-Type = %q", got)
	}
	body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if err != nil || string(body) != m.HTML {
		t.Errorf("body = %q (%v), want %q", body, err, m.HTML)
	}
}

func TestComposeFoldsLongHeaders(t *testing.T) {
	m := messagingtest.ValidEmail()
	m.Subject = strings.Repeat("Ünïcödé wörds ", 17) // 238 characters
	m.To = nil
	for _, n := range []string{"a", "b", "c", "d", "e", "f", "g", "h"} {
		m.To = append(m.To, "Recipient "+n+" <recipient-"+n+"@example.com>")
	}

	c, msg := compose(t, m)

	head, _, _ := strings.Cut(string(c.Raw), "\r\n\r\n")
	folded := 0
	for line := range strings.SplitSeq(head, "\r\n") {
		if strings.HasPrefix(line, " ") {
			folded++
			if strings.TrimSpace(line) == "" {
				t.Errorf("a folded line of white space alone")
			}
		}
		// An encoded word is at most 75 bytes and is never split.
		if len(line) > 78+len("Subject: ") {
			t.Errorf("header line of %d bytes: %q", len(line), line)
		}
	}
	if folded == 0 {
		t.Errorf("no header was folded:\n%s", head)
	}
	if got := decodeHeader(t, msg.Header.Get("Subject")); got != m.Subject {
		t.Errorf("Subject decodes to %q, want %q", got, m.Subject)
	}
	to, err := msg.Header.AddressList("To")
	if err != nil || len(to) != len(m.To) {
		t.Errorf("To = %v (%v), want %d addresses", to, err, len(m.To))
	}
}

func TestComposeMessageIDAndBoundaryAreFresh(t *testing.T) {
	m := messagingtest.ValidEmail()
	a, err := messaging.Compose(m, messaging.ComposeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := messaging.Compose(m, messaging.ComposeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if a.MessageID == b.MessageID {
		t.Errorf("two messages share Message-ID %s", a.MessageID)
	}
	if bytes.Equal(a.Raw, b.Raw) {
		t.Errorf("two messages composed from crypto/rand are identical")
	}
}

func TestComposeMessageIDDomain(t *testing.T) {
	m := messagingtest.ValidEmail()
	c, err := messaging.Compose(m, messaging.ComposeOptions{
		Rand:            zeros{},
		MessageIDDomain: "mail.ward.example",
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := "<aaaaaaaaaaaaaaaaaaaaaaaa@mail.ward.example>"; c.MessageID != want {
		t.Errorf("MessageID = %q, want %q", c.MessageID, want)
	}
	_, err = messaging.Compose(m, messaging.ComposeOptions{MessageIDDomain: "bad domain>"})
	messagingtest.WantInvalid(t, err, "MessageIDDomain")
}

func TestComposeFailsWhenRandomnessFails(t *testing.T) {
	_, err := messaging.Compose(messagingtest.ValidEmail(), messaging.ComposeOptions{
		Rand: iotest.ErrReader(errors.New("entropy exhausted")),
	})
	if errs.CodeOf(err) != errs.Internal {
		t.Errorf("Compose = %v, want %s", err, errs.Internal)
	}
}

func TestComposeRefusesInvalidEmails(t *testing.T) {
	for _, tt := range messagingtest.InvalidEmails() {
		t.Run(tt.Name, func(t *testing.T) {
			m := messagingtest.ValidEmail()
			tt.Edit(&m)
			c, err := messaging.Compose(m, messaging.ComposeOptions{})
			messagingtest.WantInvalid(t, err, tt.Field)
			if c.Raw != nil {
				t.Errorf("a refused email still produced %d bytes", len(c.Raw))
			}
		})
	}
}

// The composed header holds exactly the fields Ward writes plus the extra
// ones: nothing in a value can start a field of its own.
func TestComposeHeaderFieldsAreExactlyTheExpectedOnes(t *testing.T) {
	m := messagingtest.ValidEmail()
	m.Subject = "Bcc: victim@example.com"
	m.Headers = map[string]string{"X-Note": "To: victim@example.com"}
	c, _ := compose(t, m)

	tp := bufio.NewReader(bytes.NewReader(c.Raw))
	var names []string
	for {
		line, err := tp.ReadString('\n')
		if err != nil || line == "\r\n" {
			break
		}
		if line[0] != ' ' && line[0] != '\t' {
			name, _, _ := strings.Cut(line, ":")
			names = append(names, name)
		}
	}
	want := []string{"Date", "From", "To", "Subject", "Message-ID", "MIME-Version",
		"Auto-Submitted", "X-Note", "Content-Type"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("header fields (-want +got):\n%s", diff)
	}
}

func BenchmarkCompose(b *testing.B) {
	m := messagingtest.ValidEmail()
	m.Subject = "Bestätigen Sie Ihre E-Mail-Adresse für Acme"
	m.Text = strings.Repeat("Grüße aus Zürich, a line of text. ", 60)
	m.HTML = "<p>" + m.Text + "</p>"
	b.ReportAllocs()
	for b.Loop() {
		if _, err := messaging.Compose(m, messaging.ComposeOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
