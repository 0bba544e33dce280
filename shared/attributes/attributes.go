// Package attributes checks users' profile attributes against their
// tenant's schema (store.Tenant.UserSchema), and checks the schemas
// themselves. The users service applies it to administrators' writes, the
// account service to users' own, and bulk import to every row.
//
// Attribute values are JSON scalars: a STRING attribute holds a string, a
// NUMBER a finite float64, a BOOLEAN a bool. An attribute the schema does
// not declare is refused, so a typo never lands in a profile.
//
// Required attributes are enforced when a user is created and whenever a
// write touches the attributes: a schema that later makes an attribute
// required does not block unrelated updates (a status change, say) of users
// written before it, but their next attribute change must supply it.
package attributes

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"unicode/utf8"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/validate"
)

// Bounds of a schema, beyond store.MaxSchemaAttributes.
const (
	DefaultMaxLength = 256  // a STRING attribute's bound when MaxLength is 0
	MaxMaxLength     = 4096 // the largest MaxLength a schema may declare
	MaxEnumValues    = 64
	maxNameBytes     = 64
)

var nameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)

// CheckSchema checks a tenant's attribute schema: unique well-formed
// names, known types, bounds within limits, enums only on strings.
func CheckSchema(defs []store.AttributeDef) error {
	if len(defs) > store.MaxSchemaAttributes {
		return errs.Invalid("userSchema", "at most %d attributes", store.MaxSchemaAttributes)
	}
	seen := make(map[string]bool, len(defs))
	for i, d := range defs {
		field := fmt.Sprintf("userSchema[%d]", i)
		if len(d.Name) > maxNameBytes || !nameRE.MatchString(d.Name) {
			return errs.Invalid(field+".name",
				"must be a letter then letters, digits or underscores, at most %d bytes",
				maxNameBytes)
		}
		if seen[d.Name] {
			return errs.Invalid(field+".name", "%q is declared twice", d.Name)
		}
		seen[d.Name] = true
		switch d.Type {
		case store.AttributeString:
			if d.MaxLength < 0 || d.MaxLength > MaxMaxLength {
				return errs.Invalid(field+".maxLength", "must be from 0 to %d", MaxMaxLength)
			}
			if len(d.Enum) > MaxEnumValues {
				return errs.Invalid(field+".enum", "at most %d values", MaxEnumValues)
			}
			for j, v := range d.Enum {
				if err := checkString(fmt.Sprintf("%s.enum[%d]", field, j), v,
					maxLength(d)); err != nil {
					return err
				}
				if slices.Contains(d.Enum[:j], v) {
					return errs.Invalid(fmt.Sprintf("%s.enum[%d]", field, j),
						"%q is listed twice", v)
				}
			}
		case store.AttributeNumber, store.AttributeBoolean:
			if d.MaxLength != 0 || len(d.Enum) != 0 {
				return errs.Invalid(field, "maxLength and enum apply to STRING attributes only")
			}
		default:
			return errs.Invalid(field+".type", "must be STRING, NUMBER or BOOLEAN")
		}
	}
	return nil
}

func maxLength(d store.AttributeDef) int {
	if d.MaxLength == 0 {
		return DefaultMaxLength
	}
	return d.MaxLength
}

// Writer says who writes attributes: administrators may set every declared
// attribute, users in self-service only those marked UserEditable.
type Writer int

const (
	Admin Writer = iota
	SelfService
)

// Check checks a complete set of attributes against defs, as a create
// does: every value declared and well typed, every required one present.
func Check(defs []store.AttributeDef, attrs map[string]any, w Writer) error {
	_, err := Apply(defs, nil, attrs, w)
	return err
}

// Apply merges patch into current as a JSON merge patch (RFC 7396) does:
// a key with a nil value removes the attribute, any other sets it. It
// checks every patched value, that w may write it, and that the result
// holds every required attribute, and returns the result (nil when empty).
// Attributes of current that defs no longer declares are dropped. current
// is not modified.
func Apply(defs []store.AttributeDef, current, patch map[string]any,
	w Writer) (map[string]any, error) {
	byName := make(map[string]store.AttributeDef, len(defs))
	for _, d := range defs {
		byName[d.Name] = d
	}
	out := make(map[string]any, len(current)+len(patch))
	for k, v := range current {
		// An attribute the schema no longer declares goes with this write.
		if _, ok := byName[k]; ok {
			out[k] = v
		}
	}
	keys := make([]string, 0, len(patch))
	for k := range patch {
		keys = append(keys, k)
	}
	slices.Sort(keys) // the first error reported is the same on every call
	for _, k := range keys {
		field := "attributes." + k
		d, ok := byName[k]
		if !ok {
			if len(k) > maxNameBytes || !utf8.ValidString(k) {
				field = "attributes"
			}
			return nil, errs.Invalid(field, "is not in the tenant's user schema")
		}
		if w == SelfService && !d.UserEditable {
			return nil, errs.New(errs.PermissionDenied, "%s: users may not change it", field)
		}
		v := patch[k]
		if v == nil {
			delete(out, k)
			continue
		}
		norm, err := checkValue(field, d, v)
		if err != nil {
			return nil, err
		}
		out[k] = norm
	}
	for _, d := range defs {
		if _, ok := out[d.Name]; d.Required && !ok {
			return nil, errs.Invalid("attributes."+d.Name, "is required")
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	if b, err := json.Marshal(out); err != nil || len(b) > store.MaxAttributesBytes {
		return nil, errs.Invalid("attributes", "at most %d bytes as JSON", store.MaxAttributesBytes)
	}
	return out, nil
}

// checkValue checks one value and returns it in its canonical Go type.
// Numbers may arrive as float64 (decoded JSON), json.Number or Go
// integers (callers inside the process).
func checkValue(field string, d store.AttributeDef, v any) (any, error) {
	switch d.Type {
	case store.AttributeString:
		s, ok := v.(string)
		if !ok {
			return nil, errs.Invalid(field, "must be a string")
		}
		if err := checkString(field, s, maxLength(d)); err != nil {
			return nil, err
		}
		if len(d.Enum) > 0 && !slices.Contains(d.Enum, s) {
			return nil, errs.Invalid(field, "must be one of the schema's values")
		}
		return s, nil
	case store.AttributeNumber:
		var f float64
		switch n := v.(type) {
		case float64:
			f = n
		case float32:
			f = float64(n)
		case int:
			f = float64(n)
		case int64:
			f = float64(n)
		case json.Number:
			var err error
			if f, err = n.Float64(); err != nil {
				return nil, errs.Invalid(field, "must be a number")
			}
		default:
			return nil, errs.Invalid(field, "must be a number")
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, errs.Invalid(field, "must be a finite number")
		}
		return f, nil
	case store.AttributeBoolean:
		b, ok := v.(bool)
		if !ok {
			return nil, errs.Invalid(field, "must be true or false")
		}
		return b, nil
	}
	return nil, errs.Invalid(field, "has a type the schema does not know")
}

func checkString(field, s string, max int) error { return validate.Text(field, s, max) }
