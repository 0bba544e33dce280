package messaging_test

import (
	"bufio"
	"bytes"
	"mime"
	"net/mail"
	"net/textproto"
	"strings"
	"testing"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/messaging"
	"github.com/wardhq/ward/shared/messaging/messagingtest"
)

// FuzzComposeHeaders feeds arbitrary text to every header an Email carries.
// Whatever the input, Compose either refuses it as invalid or writes a
// message in wire form whose header holds exactly the fields it should,
// with the subject, sender and recipient reading back as given. Input with
// a CR or LF in any header must be refused.
func FuzzComposeHeaders(f *testing.F) {
	f.Add("Hello", "ada@example.com", "Ward <no-reply@ward.example>", "X-Note", "ok")
	f.Add("Hi\r\nBcc: v@example.com", "ada@example.com", "no-reply@ward.example", "X-A", "b")
	f.Add("Grüße ✓", "Ada <ada@example.com>", "Zoë <z@ward.example>", "List-Id", "<l.example>")
	f.Add("s", "ada@example.com\nBcc: v@example.com", "a@b.example", "X-A", "b")
	f.Add("s", "=?utf-8?q?A=0D=0AB?= <ada@example.com>", "a@b.example", "X-A", "b")
	f.Add("s", "ada@example.com", "a@b.example", "X-A", "b\r\nBcc: v@example.com")
	f.Add("s", "ada@example.com", "a@b.example", "Bcc", "v@example.com")
	f.Add("=?utf-8?q?x?=", `"a b" <ada@example.com>`, "a@b.example", "x-a", "\tb c")
	f.Add(strings.Repeat("long words ", 22), "ada@example.com", "a@b.example", "X-A",
		strings.Repeat("v ", 400))

	f.Fuzz(func(t *testing.T, subject, to, from, hname, hvalue string) {
		m := messagingtest.ValidEmail()
		m.Subject, m.To, m.From = subject, []string{to}, from
		m.Headers = map[string]string{hname: hvalue}

		c, err := messaging.Compose(m, messaging.ComposeOptions{Date: fixedDate, Rand: zeros{}})
		if err != nil {
			if errs.CodeOf(err) != errs.InvalidArgument {
				t.Fatalf("Compose failed with %v, want only invalid-argument errors", err)
			}
			return
		}
		for _, s := range []string{subject, to, from, hname, hvalue} {
			if strings.ContainsAny(s, "\r\n") {
				t.Fatalf("accepted a header with a line break: %q", s)
			}
		}
		checkWireForm(t, c.Raw)

		names := headerNames(t, c.Raw)
		want := []string{"Date", "From", "To", "Subject", "Message-Id", "Mime-Version",
			"Auto-Submitted", textproto.CanonicalMIMEHeaderKey(hname), "Content-Type"}
		if strings.Join(names, ",") != strings.Join(want, ",") {
			t.Fatalf("header fields = %v, want %v", names, want)
		}

		msg, err := mail.ReadMessage(bytes.NewReader(c.Raw))
		if err != nil {
			t.Fatalf("ReadMessage: %v", err)
		}
		gotSubject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
		// An ASCII subject that looks like an encoded word is sent as it
		// is, and so decodes; Ward's own subjects never look like that.
		// Readers drop white space at either end of a value that is not
		// encoded.
		if err == nil && gotSubject != subject && gotSubject != strings.TrimSpace(subject) &&
			!strings.Contains(subject, "=?") {
			t.Fatalf("subject reads back as %q, want %q", gotSubject, subject)
		}
		wantTo, _ := mail.ParseAddress(to)
		gotTo, err := msg.Header.AddressList("To")
		if err != nil || len(gotTo) != 1 || gotTo[0].Address != wantTo.Address ||
			gotTo[0].Name != wantTo.Name {
			t.Fatalf("To reads back as %v (%v), want %v", gotTo, err, wantTo)
		}
		wantFrom, _ := mail.ParseAddress(from)
		gotFrom, err := mail.ParseAddress(msg.Header.Get("From"))
		if err != nil || gotFrom.Address != wantFrom.Address || gotFrom.Name != wantFrom.Name {
			t.Fatalf("From reads back as %v (%v), want %v", gotFrom, err, wantFrom)
		}
		if got := msg.Header.Get(hname); got != strings.TrimSpace(hvalue) &&
			strings.Join(strings.Fields(got), " ") != strings.Join(strings.Fields(hvalue), " ") {
			t.Fatalf("%s reads back as %q, want %q", hname, got, hvalue)
		}
	})
}

// FuzzParseAddress checks that an accepted address has no line break or
// control character and survives a round trip through its wire form.
func FuzzParseAddress(f *testing.F) {
	for _, s := range []string{"ada@example.com", "Ada <ada@example.com>", `"A, B" <a@b.example>`,
		"=?utf-8?q?Zo=C3=AB?= <zoe@example.com>", "a@b\r\n", "=?utf-8?b?DQo=?= <a@b.example>",
		"(comment) a@b.example", "a@b.example (comment)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := messaging.ParseAddress("To", s)
		if err != nil {
			if errs.CodeOf(err) != errs.InvalidArgument {
				t.Fatalf("ParseAddress(%q) = %v, want only invalid-argument errors", s, err)
			}
			return
		}
		for _, part := range []string{a.Name, a.Address, a.String()} {
			for _, r := range part {
				if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u2028' || r == '\u2029' {
					t.Fatalf("ParseAddress(%q) accepted a control character in %q", s, part)
				}
			}
		}
		for i := 0; i < len(a.Address); i++ {
			if a.Address[i] >= 0x80 {
				t.Fatalf("ParseAddress(%q) accepted a non-ASCII address %q", s, a.Address)
			}
		}
		again, err := messaging.ParseAddress("To", a.String())
		if err != nil || again.Address != a.Address || again.Name != a.Name {
			t.Fatalf("%q round-trips as %v (%v), want %v", s, again, err, a)
		}
	})
}

// headerNames lists the names of a message's header fields in order.
func headerNames(t *testing.T, raw []byte) []string {
	t.Helper()
	r := bufio.NewReader(bytes.NewReader(raw))
	var names []string
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("no end of header")
		}
		if line == "\r\n" {
			return names
		}
		if line[0] == ' ' || line[0] == '\t' {
			continue
		}
		name, _, ok := strings.Cut(line, ":")
		if !ok {
			t.Fatalf("header line without a colon: %q", line)
		}
		names = append(names, textproto.CanonicalMIMEHeaderKey(name))
	}
}
