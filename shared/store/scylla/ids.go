package scylla

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
)

// Limits on text kept in partition or clustering keys, and on free text.
// Cassandra takes far more; these keep a bad request from building huge
// keys.
const (
	maxKeyLen  = 320
	maxTextLen = 1024
)

// checkID accepts the canonical text of a version-7 UUID of the RFC 9562
// variant. IDs are compared and ordered as text, so a second spelling of
// one UUID would be a second ID: only the canonical one is allowed.
func checkID(field, id string) error {
	u, err := uuid.Parse(id)
	if err != nil || u.String() != id || u.Version() != 7 || u.Variant() != uuid.RFC4122 {
		return errs.Invalid(field, "must be a version-7 UUID in canonical lower-case form")
	}
	return nil
}

// checkKey accepts a non-empty, bounded, valid UTF-8 value of a key column.
func checkKey(field, v string) error {
	switch {
	case v == "":
		return errs.Invalid(field, "must not be empty")
	case len(v) > maxKeyLen:
		return errs.Invalid(field, "must be at most %d bytes", maxKeyLen)
	case !utf8.ValidString(v):
		return errs.Invalid(field, "must be valid UTF-8")
	}
	return nil
}

// checkText accepts bounded, valid UTF-8 free text (possibly empty).
func checkText(field, v string) error {
	switch {
	case len(v) > maxTextLen:
		return errs.Invalid(field, "must be at most %d bytes", maxTextLen)
	case !utf8.ValidString(v):
		return errs.Invalid(field, "must be valid UTF-8")
	}
	return nil
}

// fold is the case folding applied to usernames and emails before they are
// stored or looked up.
func fold(s string) string { return strings.ToLower(s) }

func checkStatus(s store.UserStatus) error {
	switch s {
	case store.UserActive, store.UserLocked, store.UserDisabled, store.UserPending:
		return nil
	}
	return errs.Invalid("status", "must be ACTIVE, LOCKED, DISABLED or PENDING")
}

// dbTime is t as a CQL timestamp keeps it: UTC, whole milliseconds. Values
// are returned in this form so that what Create returns equals what Get
// reads back.
func dbTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Millisecond)
}
