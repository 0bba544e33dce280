package messaging

import (
	"bytes"
	"crypto/rand"
	"encoding/base32"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"slices"
	"strings"
	"time"

	"github.com/wardhq/ward/shared/errs"
)

// ComposeOptions are the parts of a composed email that do not come from
// the Email itself.
type ComposeOptions struct {
	// Date is the Date header; zero means now.
	Date time.Time
	// Rand makes the Message-ID and the MIME boundary; nil means
	// crypto/rand. Tests inject a fixed source.
	Rand io.Reader
	// MessageIDDomain is the right-hand side of the Message-ID; empty means
	// the domain of From.
	MessageIDDomain string
}

// Composed is an email in Internet Message Format (RFC 5322) with a MIME
// body (RFC 2045, 2046), ready for SMTP DATA or a raw-message API.
type Composed struct {
	// Raw is the whole message: 7-bit ASCII, CRLF line ends, no line over
	// 998 bytes.
	Raw []byte
	// MessageID is the Message-ID header's value, with its angle brackets.
	MessageID string
	// From and To are the envelope (SMTP MAIL FROM and RCPT TO) addresses,
	// bare.
	From string
	To   []string
}

// maxLine is where header lines are folded (RFC 5322 section 2.1.1 asks for
// 78 characters; 998 is the hard limit).
const maxLine = 78

// Compose checks m (see Email.Validate) and writes it as a MIME message:
// a text/plain part, a text/html part, or both in a multipart/alternative
// with the HTML last, as RFC 2046 section 5.1.4 orders alternatives from
// plainest to richest. Bodies are UTF-8 in quoted-printable, so the message
// is 7-bit and needs no 8BITMIME. A subject or display name beyond ASCII is
// written as RFC 2047 encoded words (mime.QEncoding). Extra headers follow
// in the order of their names.
//
// Every message carries Auto-Submitted: auto-generated (RFC 3834), which
// asks auto-responders (out-of-office replies) not to answer it.
func Compose(m Email, o ComposeOptions) (Composed, error) {
	from, to, err := m.parse()
	if err != nil {
		return Composed{}, err
	}
	idDomain := o.MessageIDDomain
	if idDomain == "" {
		idDomain = from.Address[strings.LastIndexByte(from.Address, '@')+1:]
	} else if err := checkAddrSpec("MessageIDDomain", "id@"+idDomain); err != nil {
		return Composed{}, err
	}
	rnd := o.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	date := o.Date
	if date.IsZero() {
		date = time.Now()
	}

	var random [30]byte // 15 for the Message-ID, 15 for the boundary
	if _, err := io.ReadFull(rnd, random[:]); err != nil {
		return Composed{}, errs.Wrap(errs.Internal, err, "cannot compose the email")
	}
	b32 := base32.StdEncoding.WithPadding(base32.NoPadding)
	msgID := "<" + strings.ToLower(b32.EncodeToString(random[:15])) + "@" + idDomain + ">"
	boundary := "ward-" + strings.ToLower(b32.EncodeToString(random[15:]))

	var buf bytes.Buffer
	buf.Grow(len(m.Text) + len(m.HTML) + 2048)
	writeHeader(&buf, "Date", date.Format(time.RFC1123Z))
	writeHeader(&buf, "From", from.String())
	writeHeader(&buf, "To", joinAddresses(to))
	// Known shortcoming: an ASCII subject that looks like an encoded word
	// ("=?utf-8?q?...?=") is written as it is, and readers decode it. It
	// changes only what the subject shows; Ward's templates write none.
	writeHeader(&buf, "Subject", mime.QEncoding.Encode("UTF-8", m.Subject))
	writeHeader(&buf, "Message-ID", msgID)
	writeHeader(&buf, "MIME-Version", "1.0")
	writeHeader(&buf, "Auto-Submitted", "auto-generated")
	names := make([]string, 0, len(m.Headers))
	for name := range m.Headers {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		writeHeader(&buf, textproto.CanonicalMIMEHeaderKey(name), m.Headers[name])
	}

	if err := writeBody(&buf, m.Text, m.HTML, boundary); err != nil {
		return Composed{}, errs.Wrap(errs.Internal, err, "cannot compose the email")
	}

	c := Composed{Raw: buf.Bytes(), MessageID: msgID, From: from.Address}
	for _, a := range to {
		c.To = append(c.To, a.Address)
	}
	return c, nil
}

// writeBody writes Content-Type, the blank line that ends the header and
// the body.
func writeBody(buf *bytes.Buffer, text, html, boundary string) error {
	const (
		plain = "text/plain; charset=UTF-8"
		rich  = "text/html; charset=UTF-8"
		qp    = "quoted-printable"
	)
	if text == "" || html == "" {
		ctype, body := plain, text
		if text == "" {
			ctype, body = rich, html
		}
		writeHeader(buf, "Content-Type", ctype)
		writeHeader(buf, "Content-Transfer-Encoding", qp)
		buf.WriteString("\r\n")
		return writeQP(buf, body)
	}

	writeHeader(buf, "Content-Type", `multipart/alternative; boundary="`+boundary+`"`)
	buf.WriteString("\r\n")
	mw := multipart.NewWriter(buf)
	if err := mw.SetBoundary(boundary); err != nil {
		return err
	}
	for _, p := range []struct{ ctype, body string }{{plain, text}, {rich, html}} {
		w, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {p.ctype},
			"Content-Transfer-Encoding": {qp},
		})
		if err != nil {
			return err
		}
		if err := writeQP(w, p.body); err != nil {
			return err
		}
	}
	return mw.Close()
}

// writeQP writes s in quoted-printable; line breaks become CRLF.
func writeQP(w io.Writer, s string) error {
	qw := quotedprintable.NewWriter(w)
	if _, err := io.WriteString(qw, s); err != nil {
		return err
	}
	return qw.Close()
}

// writeHeader writes one header field, folding the value at spaces so
// lines stay near maxLine (RFC 5322 section 2.2.3). Values reach here
// already checked free of CR and LF; a value with no space to fold at stays
// on one line, which the limits on values keep under 998 bytes.
func writeHeader(buf *bytes.Buffer, name, value string) {
	line, words := name+":", ""
	for i, word := range strings.Split(value, " ") {
		// Fold only after a word: a folded line of white space alone is
		// not allowed.
		if i > 0 && len(line)+1+len(word) > maxLine && strings.TrimSpace(words) != "" {
			buf.WriteString(line)
			buf.WriteString("\r\n")
			line, words = "", ""
		}
		line += " " + word
		words += word
	}
	buf.WriteString(line)
	buf.WriteString("\r\n")
}

func joinAddresses(as []*mail.Address) string {
	parts := make([]string, len(as))
	for i, a := range as {
		parts[i] = a.String()
	}
	return strings.Join(parts, ", ")
}
