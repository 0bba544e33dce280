// Package validate holds the input checks that several domains share. Each
// returns a coded errs.Error naming the field, so a caller can show it next
// to the input.
package validate

import (
	"net/mail"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/wardhq/ward/shared/errs"
)

// ID checks an entity ID: a version-7 UUID in canonical lower-case text,
// the only form the stores accept.
func ID(field, id string) error {
	if len(id) != 36 || strings.ToLower(id) != id {
		return errs.Invalid(field, "must be a lower-case UUID")
	}
	u, err := uuid.Parse(id)
	if err != nil || u.Version() != 7 || u.Variant() != uuid.RFC4122 {
		return errs.Invalid(field, "must be a version-7 UUID")
	}
	return nil
}

// NewID returns a fresh, time-ordered ID (UUIDv7).
func NewID() string { return uuid.Must(uuid.NewV7()).String() }

var slugRE = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{1,61}[a-z0-9])$`)

// Slug checks a DNS-label-like name: 3 to 63 lower-case letters, digits and
// inner hyphens.
func Slug(field, s string) error {
	if !slugRE.MatchString(s) {
		return errs.Invalid(field, "must be 3 to 63 lower-case letters, digits or inner hyphens")
	}
	return nil
}

var usernameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._@+-]{0,63}$`)

// Username folds a username to lower case and checks it: 1 to 64 of
// letters, digits and . _ @ + -, starting with a letter or digit.
func Username(field, s string) (string, error) {
	folded := strings.ToLower(s)
	if !usernameRE.MatchString(folded) {
		return "", errs.Invalid(field, "must be 1 to 64 letters, digits or . _ @ + - and start with a letter or digit")
	}
	return folded, nil
}

// Email folds an address to lower case and checks it is one bare address
// of at most 254 bytes. The empty string is allowed (no email).
func Email(field, s string) (string, error) {
	if s == "" {
		return "", nil
	}
	if len(s) > 254 {
		return "", errs.Invalid(field, "must be at most 254 bytes")
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" || !strings.Contains(s, "@") {
		return "", errs.Invalid(field, "must be a bare email address")
	}
	return strings.ToLower(s), nil
}

// Text checks free text: valid UTF-8, no control characters, at most max
// characters.
func Text(field, s string, max int) error {
	if !utf8.ValidString(s) {
		return errs.Invalid(field, "must be valid UTF-8")
	}
	if utf8.RuneCountInString(s) > max {
		return errs.Invalid(field, "must be at most %d characters", max)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return errs.Invalid(field, "must not contain control characters")
		}
	}
	return nil
}

// TenantAndID checks the pair that names one object inside a tenant.
func TenantAndID(tenantID, id string) error {
	if err := ID("tenantId", tenantID); err != nil {
		return err
	}
	return ID("id", id)
}
