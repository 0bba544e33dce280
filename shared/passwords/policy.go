package passwords

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/wardhq/ward/shared/errs"
)

// Length rules of SP 800-63B rev. 4, 3.1.1.2, counted in Unicode code
// points after NFKC normalisation ("each Unicode code point SHALL be counted
// as a single character").
const (
	// MinLengthSingleFactor applies when the password is the only factor:
	// "a minimum of 15 characters".
	MinLengthSingleFactor = 15
	// MinLengthMultiFactor applies when the account has a second factor
	// enrolled: "a minimum of 8 characters".
	MinLengthMultiFactor = 8
	// MaxLength is the most a password may have. The standard asks that at
	// least 64 be allowed; 256 leaves room for long passphrases in any
	// script while keeping the work per check small.
	MaxLength = 256
	// MaxBytes bounds the raw input before it is normalised, so that the
	// cost of normalising is bounded too. It is generous: 256 code points of
	// four bytes each, written in decomposed form, still fit.
	MaxBytes = 4096
)

// field names the input at fault in every error.
const field = "password"

// Messages shown to the user. None repeats the password.
const (
	msgTooShort = "must be at least %d characters long"
	msgTooLong  = "must be at most %d characters long"
	msgNotText  = "must be valid UTF-8 text"
	msgControl  = "must not contain control characters such as tabs or line breaks"
	msgCommon   = "is too common: it appears in lists of passwords that attackers try first"
	msgRepeated = "must not be a shorter password written out several times"
	msgSequence = "must not consist mostly of repeated or consecutive characters " +
		"such as aaaa, 1234 or qwerty"
	msgContext = "must not be based on your username, email address or organisation name"
)

// minContextRunes is the shortest context word that is looked for; shorter
// ones ("al", "ab") occur inside too many unrelated words to mean much.
const minContextRunes = 3

// Context is what Check knows about the account besides the password.
type Context struct {
	// MFA is true when the account has a second factor enrolled, which
	// lowers the minimum length from 15 to 8.
	MFA bool
	// Username, Email and TenantName are context-specific words the
	// password must not be built from. Of Email only the part before the
	// last @ is used. Each is also split at punctuation and spaces, so
	// "ann.lee" contributes "ann.lee", "ann" and "lee".
	Username   string
	Email      string
	TenantName string
	// Words are further context words, such as the tenant's slug or the
	// name of the application the user signs in to.
	Words []string
}

func (c Context) minLength() int {
	if c.MFA {
		return MinLengthMultiFactor
	}
	return MinLengthSingleFactor
}

// words returns the folded context words and their parts, longest first,
// so that "ann.lee" is taken out of a password before "ann" is.
func (c Context) words() []string {
	var out []string
	add := func(s string) {
		f := fold(strings.TrimSpace(s))
		if utf8.RuneCountInString(f) >= minContextRunes && !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	addAll := func(s string) {
		add(s)
		for _, part := range strings.FieldsFunc(s, isSeparator) {
			add(part)
		}
	}

	local := c.Email
	if i := strings.LastIndexByte(local, '@'); i >= 0 {
		local = local[:i]
	}
	for _, s := range append([]string{c.Username, local, c.TenantName}, c.Words...) {
		addAll(s)
	}
	slices.SortStableFunc(out, func(a, b string) int { return len(b) - len(a) })
	return out
}

func isSeparator(r rune) bool {
	return !unicode.IsLetter(r) && !unicode.IsDigit(r)
}

// fold is the form in which passwords are compared with the blocklist and
// with context words: NFKC, then lower case.
func fold(s string) string {
	return strings.ToLower(norm.NFKC.String(s))
}

// Check applies Ward's password policy to a new password, as SP 800-63B
// revision 4, section 3.1.1.2 puts it. Call it wherever a password is set
// (enrolment, change, reset), never at login. It returns nil or an
// errs.InvalidArgument error for field "password" whose message the user
// can act on; the message never contains the password.
//
// The rules, in the order they are checked:
//
//   - At most MaxBytes bytes of valid UTF-8, without control characters.
//     Every printing character and the space are allowed.
//   - After NFKC normalisation, at least 15 code points (8 when
//     c.MFA), at most MaxLength.
//   - Not on the bundled blocklist of common and breached passwords,
//     compared case-insensitively.
//   - Not mostly runs of repeated or consecutive characters, and not a
//     shorter password written out several times (see patterns.go).
//   - Not built from the context words: with every context word taken
//     out, what is left must still pass the length, blocklist and pattern
//     rules.
//
// There are no composition rules (no required digits, capitals or
// symbols), which the standard forbids, and no expiry.
//
// Known limits: the blocklist is matched exactly (after folding), so a
// listed password with a suffix ("password1234!") passes unless that
// variant is listed too; the bundled list has about 21,600 entries, not
// the full breach corpora (no online Pwned Passwords look-up is made);
// context words are matched literally, not reversed or in look-alike
// spellings ("4l1ce"); and sequences cover Latin and Russian layouts only.
func Check(password string, c Context) error {
	if len(password) > MaxBytes {
		return errs.Invalid(field, msgTooLong, MaxLength)
	}
	if !utf8.ValidString(password) {
		return errs.Invalid(field, msgNotText)
	}
	s := norm.NFKC.String(password)
	for _, r := range s {
		if unicode.IsControl(r) {
			return errs.Invalid(field, msgControl)
		}
	}

	n, minLen := utf8.RuneCountInString(s), c.minLength()
	if n < minLen {
		return errs.Invalid(field, msgTooShort, minLen)
	}
	if n > MaxLength {
		return errs.Invalid(field, msgTooLong, MaxLength)
	}

	list, err := loadBlocklist()
	if err != nil {
		// Fail closed: without the list no password can be judged safe.
		return errs.Wrap(errs.Internal, err, "cannot check the password")
	}
	folded := strings.ToLower(s)
	if msg := weakness(folded, minLen, list); msg != "" {
		return errs.Invalid(field, "%s", msg)
	}

	rest := folded
	for _, w := range c.words() {
		rest = strings.ReplaceAll(rest, w, "")
	}
	if rest == folded {
		return nil
	}
	if utf8.RuneCountInString(rest) < minLen || weakness(rest, minLen, list) != "" {
		return errs.Invalid(field, msgContext)
	}
	return nil
}

// weakness returns the message of the first blocklist or pattern rule the
// folded password s breaks, or "" when it breaks none. minLen is the length
// a repeated unit must reach.
func weakness(s string, minLen int, list blocklist) string {
	if list.has(s) {
		return msgCommon
	}
	if effectiveLength(s) < minEffective {
		return msgSequence
	}
	if u, ok := repeatedUnit(s); ok {
		if utf8.RuneCountInString(u) < minLen || list.has(u) {
			return msgRepeated
		}
	}
	return ""
}
