package messaging

import (
	"net/mail"
	"net/textproto"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/validate"
)

// Limits on what a message may hold. They keep one message well inside what
// every provider accepts and keep a template gone wrong from sending a book.
const (
	MaxRecipients       = 50
	MaxSubjectRunes     = 250
	MaxBodyBytes        = 256 << 10 // each of Text and HTML
	MaxHeaders          = 20
	MaxHeaderNameBytes  = 76
	MaxHeaderValueBytes = 900 // with the name, inside RFC 5322's 998-byte line
	MaxDisplayNameRunes = 100
	MaxSMSRunes         = 1600 // the most one SNS Publish accepts
	MaxVoiceRunes       = 1000
)

// reservedHeaders are header fields Ward writes itself or that change where
// a message goes or how it is read. Email.Headers may not set them.
var reservedHeaders = map[string]bool{
	"Auto-Submitted":            true,
	"Bcc":                       true,
	"Cc":                        true,
	"Content-Disposition":       true,
	"Content-Id":                true,
	"Content-Transfer-Encoding": true,
	"Content-Type":              true,
	"Date":                      true,
	"From":                      true,
	"Message-Id":                true,
	"Mime-Version":              true,
	"Received":                  true,
	"Return-Path":               true,
	"Sender":                    true,
	"Subject":                   true,
	"To":                        true,
}

var (
	kindRE       = regexp.MustCompile(`^[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$`)
	e164RE       = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
	headerNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]*$`)
	// atext of RFC 5322 section 3.2.3, the characters of a dot-atom.
	atomRE  = regexp.MustCompile("^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+$")
	labelRE = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)
)

// Validate checks m against the limits above without sending anything. It
// returns errs.ErrInvalidArgument naming the first field at fault.
func (m Email) Validate() error {
	_, _, err := m.parse()
	return err
}

// parse validates m and returns its parsed sender and recipients.
func (m Email) parse() (*mail.Address, []*mail.Address, error) {
	if err := checkOrigin(m.TenantID, m.Kind); err != nil {
		return nil, nil, err
	}
	from, err := ParseAddress("From", m.From)
	if err != nil {
		return nil, nil, err
	}
	to, err := parseRecipients(m.To)
	if err != nil {
		return nil, nil, err
	}
	if err := checkSubject(m.Subject); err != nil {
		return nil, nil, err
	}
	if err := checkBodies(m.Text, m.HTML); err != nil {
		return nil, nil, err
	}
	if err := checkHeaders(m.Headers); err != nil {
		return nil, nil, err
	}
	return from, to, nil
}

// Validate checks m without sending anything.
func (m SMS) Validate() error {
	if err := checkOrigin(m.TenantID, m.Kind); err != nil {
		return err
	}
	if err := CheckPhone("To", m.To); err != nil {
		return err
	}
	return checkSpoken("Body", m.Body, MaxSMSRunes)
}

// Validate checks m without sending anything.
func (m Voice) Validate() error {
	if err := checkOrigin(m.TenantID, m.Kind); err != nil {
		return err
	}
	if err := CheckPhone("To", m.To); err != nil {
		return err
	}
	if err := checkSpoken("Text", m.Text, MaxVoiceRunes); err != nil {
		return err
	}
	if m.Locale != "" {
		if _, err := ParseLocale(m.Locale); err != nil {
			return errs.Invalid("Locale", "must be a language tag such as en or de-CH")
		}
	}
	return nil
}

func checkOrigin(tenantID string, kind Kind) error {
	if err := validate.ID("TenantID", tenantID); err != nil {
		return err
	}
	return CheckKind("Kind", kind)
}

// CheckKind checks that k is a well-formed Kind.
func CheckKind(field string, k Kind) error {
	if !kindRE.MatchString(string(k)) {
		return errs.Invalid(field, "must be 1 to 63 lower-case letters, digits or inner hyphens, "+
			"starting with a letter")
	}
	return nil
}

// CheckPhone checks that s is a phone number in E.164 form (ITU-T E.164: a
// country code and subscriber number of at most 15 digits, written after a
// "+", without spaces). Seven digits is the shortest number in use.
func CheckPhone(field, s string) error {
	if !e164RE.MatchString(s) {
		return errs.Invalid(field, "must be a phone number in E.164 form, such as +14155550123")
	}
	return nil
}

// ParseAddress parses one email address, with or without a display name,
// and checks it strictly: no line breaks or control characters anywhere
// (also after decoding an encoded display name), an ASCII addr-spec of at
// most 254 bytes made of a dot-atom local part (RFC 5322 section 3.4.1) and
// a host name. Quoted local parts, domain literals and internationalized
// addresses (RFC 6531) are refused: not every provider relays them.
func ParseAddress(field, s string) (*mail.Address, error) {
	if s == "" {
		return nil, errs.Invalid(field, "is required")
	}
	if len(s) > 4*MaxDisplayNameRunes+254+8 {
		return nil, errs.Invalid(field, "is too long")
	}
	if !utf8.ValidString(s) {
		return nil, errs.Invalid(field, "must be valid UTF-8")
	}
	if err := noControls(field, s); err != nil {
		return nil, err
	}
	a, err := mail.ParseAddress(s)
	if err != nil {
		return nil, errs.Invalid(field, "must be one email address")
	}
	if err := checkAddrSpec(field, a.Address); err != nil {
		return nil, err
	}
	if !utf8.ValidString(a.Name) || utf8.RuneCountInString(a.Name) > MaxDisplayNameRunes {
		return nil, errs.Invalid(field, "display name must be at most %d characters of UTF-8",
			MaxDisplayNameRunes)
	}
	if err := noControls(field, a.Name); err != nil {
		return nil, err
	}
	return a, nil
}

func checkAddrSpec(field, addr string) error {
	if len(addr) > 254 {
		return errs.Invalid(field, "address must be at most 254 bytes")
	}
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return errs.Invalid(field, "must be one email address")
	}
	local, domain := addr[:at], addr[at+1:]
	if len(local) > 64 {
		return errs.Invalid(field, "the part before @ must be at most 64 bytes")
	}
	for _, atom := range strings.Split(local, ".") {
		if !atomRE.MatchString(atom) {
			return errs.Invalid(field, "the part before @ must be plain ASCII letters, digits, "+
				"symbols and inner dots")
		}
	}
	if len(domain) > 253 {
		return errs.Invalid(field, "domain must be at most 253 bytes")
	}
	for _, label := range strings.Split(domain, ".") {
		if !labelRE.MatchString(label) {
			return errs.Invalid(field, "domain must be a host name in ASCII")
		}
	}
	return nil
}

func parseRecipients(to []string) ([]*mail.Address, error) {
	if len(to) == 0 {
		return nil, errs.Invalid("To", "at least one recipient is required")
	}
	if len(to) > MaxRecipients {
		return nil, errs.Invalid("To", "at most %d recipients are allowed", MaxRecipients)
	}
	out := make([]*mail.Address, 0, len(to))
	seen := make(map[string]bool, len(to))
	for _, s := range to {
		a, err := ParseAddress("To", s)
		if err != nil {
			return nil, err
		}
		key := strings.ToLower(a.Address)
		if seen[key] {
			return nil, errs.Invalid("To", "a recipient is listed twice")
		}
		seen[key] = true
		out = append(out, a)
	}
	return out, nil
}

func checkSubject(s string) error {
	if !utf8.ValidString(s) {
		return errs.Invalid("Subject", "must be valid UTF-8")
	}
	if strings.TrimSpace(s) == "" {
		return errs.Invalid("Subject", "is required")
	}
	if utf8.RuneCountInString(s) > MaxSubjectRunes {
		return errs.Invalid("Subject", "must be at most %d characters", MaxSubjectRunes)
	}
	return noControls("Subject", s)
}

func checkBodies(text, html string) error {
	if text == "" && html == "" {
		return errs.Invalid("Text", "a text or an HTML body is required")
	}
	for _, b := range []struct{ field, s string }{{"Text", text}, {"HTML", html}} {
		if len(b.s) > MaxBodyBytes {
			return errs.Invalid(b.field, "must be at most %d bytes", MaxBodyBytes)
		}
		if !utf8.ValidString(b.s) {
			return errs.Invalid(b.field, "must be valid UTF-8")
		}
		if strings.IndexByte(b.s, 0) >= 0 {
			return errs.Invalid(b.field, "must not contain NUL characters")
		}
	}
	return nil
}

func checkHeaders(h map[string]string) error {
	if len(h) > MaxHeaders {
		return errs.Invalid("Headers", "at most %d extra headers are allowed", MaxHeaders)
	}
	seen := make(map[string]bool, len(h))
	for name, value := range h {
		if len(name) > MaxHeaderNameBytes || !headerNameRE.MatchString(name) {
			return errs.Invalid("Headers", "a header name must be ASCII letters, digits and "+
				"hyphens, at most %d bytes", MaxHeaderNameBytes)
		}
		canon := textproto.CanonicalMIMEHeaderKey(name)
		if reservedHeaders[canon] {
			return errs.Invalid("Headers", "header %s is written by Ward and cannot be set", canon)
		}
		if seen[canon] {
			return errs.Invalid("Headers", "header %s is given twice", canon)
		}
		seen[canon] = true
		if strings.ContainsAny(value, "\r\n") {
			return errs.Invalid("Headers", "header %s must not contain line breaks", canon)
		}
		if len(value) > MaxHeaderValueBytes {
			return errs.Invalid("Headers", "header %s must be at most %d bytes", canon,
				MaxHeaderValueBytes)
		}
		for i := 0; i < len(value); i++ {
			if c := value[i]; (c < 0x20 && c != '\t') || c > 0x7e {
				return errs.Invalid("Headers", "header %s must be printable ASCII", canon)
			}
		}
	}
	return nil
}

// checkSpoken checks the text of an SMS or a call: UTF-8, not blank, at most
// max characters, and no control characters other than line breaks and tabs.
func checkSpoken(field, s string, max int) error {
	if !utf8.ValidString(s) {
		return errs.Invalid(field, "must be valid UTF-8")
	}
	if strings.TrimSpace(s) == "" {
		return errs.Invalid(field, "is required")
	}
	if utf8.RuneCountInString(s) > max {
		return errs.Invalid(field, "must be at most %d characters", max)
	}
	for _, r := range s {
		if r != '\n' && r != '\r' && r != '\t' && unicode.IsControl(r) {
			return errs.Invalid(field, "must not contain control characters")
		}
	}
	return nil
}

// noControls refuses control characters, including CR and LF, and the
// Unicode line and paragraph separators, which some clients show as breaks.
func noControls(field, s string) error {
	if strings.ContainsAny(s, "\r\n") {
		return errs.Invalid(field, "must not contain line breaks")
	}
	for _, r := range s {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return errs.Invalid(field, "must not contain control characters")
		}
	}
	return nil
}
