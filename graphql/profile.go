package graphql

import (
	"strconv"

	gql "github.com/graphql-go/graphql"
	"github.com/graphql-go/graphql/language/ast"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
)

// jsonScalar carries free-form JSON: profile attributes and preferences.
// Output is the value as stored; input is any JSON value, from a variable
// or from a literal.
var jsonScalar = gql.NewScalar(gql.ScalarConfig{
	Name: "JSON",
	Description: "Any JSON value. Profile attributes hold strings, numbers and booleans; " +
		"in an update, a key set to null removes the entry (send null through a variable).",
	Serialize:    func(v any) any { return v },
	ParseValue:   func(v any) any { return v },
	ParseLiteral: literalValue,
})

// literalValue turns a literal of the query text into the Go value a
// decoded JSON variable would have.
func literalValue(v ast.Value) any {
	switch v := v.(type) {
	case *ast.StringValue:
		return v.Value
	case *ast.BooleanValue:
		return v.Value
	case *ast.IntValue:
		f, err := strconv.ParseFloat(v.Value, 64)
		if err != nil {
			return nil
		}
		return f
	case *ast.FloatValue:
		f, err := strconv.ParseFloat(v.Value, 64)
		if err != nil {
			return nil
		}
		return f
	case *ast.ObjectValue:
		m := make(map[string]any, len(v.Fields))
		for _, f := range v.Fields {
			m[f.Name.Value] = literalValue(f.Value)
		}
		return m
	case *ast.ListValue:
		l := make([]any, 0, len(v.Values))
		for _, x := range v.Values {
			l = append(l, literalValue(x))
		}
		return l
	}
	return nil
}

// profileTypes are the schema's types for tenants' user schemas and users'
// profiles.
type profileTypes struct {
	registration *gql.Enum
	attrType     *gql.Enum
	attrDef      *gql.Object
	attrDefInput *gql.InputObject
}

func newProfileTypes() profileTypes {
	var t profileTypes
	t.registration = gql.NewEnum(gql.EnumConfig{
		Name:        "RegistrationMode",
		Description: "Who may create an account by self-service.",
		Values: gql.EnumValueConfigMap{
			"CLOSED": {Value: store.RegistrationClosed, Description: "Administrators only."},
			"OPEN":   {Value: store.RegistrationOpen, Description: "Anyone."},
			"INVITE": {Value: store.RegistrationInvite, Description: "Invited people only."},
		},
	})
	orderEnum(t.registration, "CLOSED", "OPEN", "INVITE")
	warmEnum(t.registration)
	t.attrType = gql.NewEnum(gql.EnumConfig{
		Name: "AttributeType",
		Values: gql.EnumValueConfigMap{
			"STRING":  {Value: store.AttributeString},
			"NUMBER":  {Value: store.AttributeNumber},
			"BOOLEAN": {Value: store.AttributeBoolean},
		},
	})
	orderEnum(t.attrType, "STRING", "NUMBER", "BOOLEAN")
	warmEnum(t.attrType)
	t.attrDef = gql.NewObject(gql.ObjectConfig{
		Name:        "AttributeDef",
		Description: "One profile attribute a tenant's users may carry.",
		Fields: gql.Fields{
			"name": {Type: nnString, Resolve: from(func(d store.AttributeDef) any { return d.Name })},
			"type": {
				Type:    gql.NewNonNull(t.attrType),
				Resolve: from(func(d store.AttributeDef) any { return d.Type }),
			},
			"required": {
				Type:    nnBool,
				Resolve: from(func(d store.AttributeDef) any { return d.Required }),
			},
			"maxLength": {
				Type:        gql.Int,
				Description: "A STRING attribute's bound in characters; null means 256.",
				Resolve: from(func(d store.AttributeDef) any {
					if d.MaxLength == 0 {
						return nil
					}
					return d.MaxLength
				}),
			},
			"enum": {
				Type:    gql.NewNonNull(gql.NewList(nnString)),
				Resolve: from(func(d store.AttributeDef) any { return nonNilStrings(d.Enum) }),
			},
			"userEditable": {
				Type:    nnBool,
				Resolve: from(func(d store.AttributeDef) any { return d.UserEditable }),
			},
		},
	})
	t.attrDefInput = gql.NewInputObject(gql.InputObjectConfig{
		Name: "AttributeDefInput",
		Fields: gql.InputObjectConfigFieldMap{
			"name":         {Type: nnString},
			"type":         {Type: gql.NewNonNull(t.attrType)},
			"required":     {Type: gql.Boolean},
			"maxLength":    {Type: gql.Int},
			"enum":         {Type: gql.NewList(nnString)},
			"userEditable": {Type: gql.Boolean},
		},
	})
	return t
}

// tenantProfileFields are the Tenant fields of registration and schema.
func (t profileTypes) tenantFields() gql.Fields {
	return gql.Fields{
		"registration": {
			Type: gql.NewNonNull(t.registration),
			Resolve: from(func(tn store.Tenant) any {
				if tn.Registration == "" {
					return store.RegistrationClosed
				}
				return tn.Registration
			}),
		},
		"userSchema": {
			Type: gql.NewNonNull(gql.NewList(gql.NewNonNull(t.attrDef))),
			Resolve: from(func(tn store.Tenant) any {
				if tn.UserSchema == nil {
					return []store.AttributeDef{}
				}
				return tn.UserSchema
			}),
		},
	}
}

// userFields are the User fields of the profile.
func (profileTypes) userFields() gql.Fields {
	return gql.Fields{
		"attributes": {
			Type:        gql.NewNonNull(jsonScalar),
			Description: "Profile attributes, as the tenant's userSchema declares them.",
			Resolve: from(func(u store.User) any {
				if u.Attributes == nil {
					return map[string]any{}
				}
				return u.Attributes
			}),
		},
		"locale": {
			Type:        gql.String,
			Description: "The preferred language (BCP 47); null for the tenant's default.",
			Resolve:     from(func(u store.User) any { return nonEmpty(u.Locale) }),
		},
		"preferences": {
			Type: gql.NewNonNull(jsonScalar),
			Resolve: from(func(u store.User) any {
				if u.Preferences == nil {
					return map[string]string{}
				}
				return u.Preferences
			}),
		},
	}
}

// userInputFields are the profile fields of CreateUserInput and
// UpdateUserInput.
func (profileTypes) userInputFields(update bool) gql.InputObjectConfigFieldMap {
	how := ""
	if update {
		how = " A merge patch: keys set to null are removed, absent keys kept."
	}
	return gql.InputObjectConfigFieldMap{
		"attributes": {Type: jsonScalar,
			Description: "An object of attributes the tenant's userSchema declares." + how},
		"locale":      {Type: gql.String, Description: "A BCP 47 tag such as en or fr-CA."},
		"preferences": {Type: jsonScalar, Description: "An object of short strings." + how},
		"emailVerified": {Type: gql.Boolean,
			Description: "Whether the email is known to be the user's; a new email is not."},
		"phoneVerified": {Type: gql.Boolean,
			Description: "Whether the phone is known to be the user's; a new phone is not."},
	}
}

// jsonObject reads an input field holding a JSON object; absent or null
// is nil. Anything but an object is INVALID_ARGUMENT.
func jsonObject(m map[string]any, key string) (map[string]any, error) {
	v, ok := m[key]
	if !ok || v == nil {
		return nil, nil
	}
	o, ok := v.(map[string]any)
	if !ok {
		return nil, errs.Invalid(key, "must be a JSON object")
	}
	return o, nil
}

// preferencesPatch reads preferences as a patch: string values set, null
// removes; anything else is INVALID_ARGUMENT.
func preferencesPatch(m map[string]any) (map[string]*string, error) {
	o, err := jsonObject(m, "preferences")
	if o == nil || err != nil {
		return nil, err
	}
	patch := make(map[string]*string, len(o))
	for k, v := range o {
		switch v := v.(type) {
		case nil:
			patch[k] = nil
		case string:
			patch[k] = &v
		default:
			return nil, errs.Invalid("preferences."+k, "must be a string or null")
		}
	}
	return patch, nil
}

// attrDefs reads a list of AttributeDefInput.
func attrDefs(v any) []store.AttributeDef {
	list, _ := v.([]any)
	defs := make([]store.AttributeDef, 0, len(list))
	for _, x := range list {
		m, _ := x.(map[string]any)
		typ, _ := m["type"].(store.AttributeType)
		req, _ := m["required"].(bool)
		edit, _ := m["userEditable"].(bool)
		defs = append(defs, store.AttributeDef{
			Name: str(m, "name"), Type: typ, Required: req, MaxLength: num(m, "maxLength"),
			Enum: strs(m, "enum"), UserEditable: edit,
		})
	}
	return defs
}

func optBool(m map[string]any, key string) *bool {
	if b, ok := m[key].(bool); ok {
		return &b
	}
	return nil
}
