package store

import (
	"strconv"

	"github.com/wardhq/ward/shared/errs"
)

// maxAttributeName bounds attribute names (AttributeDef.Name).
const maxAttributeName = 64

// CheckAttributeFilter checks the attribute part of a filter: Value only
// with Attribute, and Attribute named as AttributeDef names are. Backends
// check the IDs and the status in their own terms.
func (f UserFilter) CheckAttributeFilter() error {
	if f.Attribute == "" {
		if f.Value != "" {
			return errs.Invalid("attribute", "is required with a value")
		}
		return nil
	}
	if !validAttributeName(f.Attribute) {
		return errs.Invalid("attribute", "must be a letter, then letters, digits or "+
			"underscores, at most %d bytes", maxAttributeName)
	}
	return nil
}

func validAttributeName(s string) bool {
	if len(s) == 0 || len(s) > maxAttributeName {
		return false
	}
	for i, c := range []byte(s) {
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !letter && (i == 0 || c != '_' && (c < '0' || c > '9')) {
			return false
		}
	}
	return true
}

// Matches reports whether u matches the status, organization and
// attribute of f; membership of f's group is the backend's to check.
func (f UserFilter) Matches(u User) bool {
	if f.Status != "" && u.Status != f.Status {
		return false
	}
	if f.OrgID != "" && u.OrgID != f.OrgID {
		return false
	}
	if f.Attribute == "" {
		return true
	}
	v, ok := u.Attributes[f.Attribute]
	return ok && AttributeText(v) == f.Value
}

// AttributeText writes an attribute value as UserFilter compares it:
// strings as they are, numbers in Go's shortest 'g' form, booleans as true
// or false. A value of another type never matches: its text holds a byte
// that is not UTF-8, which no filter value can.
func AttributeText(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	}
	return "\xff"
}
