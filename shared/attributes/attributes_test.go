package attributes_test

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/wardhq/ward/shared/attributes"
	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
)

var schema = []store.AttributeDef{
	{Name: "department", Type: store.AttributeString, Enum: []string{"sales", "ops"}, UserEditable: true},
	{Name: "employeeNumber", Type: store.AttributeString, MaxLength: 8, Required: true},
	{Name: "age", Type: store.AttributeNumber, UserEditable: true},
	{Name: "newsletter", Type: store.AttributeBoolean, UserEditable: true},
}

func TestCheckSchema(t *testing.T) {
	if err := attributes.CheckSchema(schema); err != nil {
		t.Fatalf("a good schema was refused: %v", err)
	}
	many := make([]store.AttributeDef, store.MaxSchemaAttributes+1)
	for i := range many {
		many[i] = store.AttributeDef{Name: "a" + strings.Repeat("b", i), Type: store.AttributeString}
	}
	bad := map[string][]store.AttributeDef{
		"userSchema":              many,
		"userSchema[0].name":      {{Name: "1st", Type: store.AttributeString}},
		"userSchema[1].name":      {{Name: "x", Type: store.AttributeString}, {Name: "x", Type: store.AttributeNumber}},
		"userSchema[0].type":      {{Name: "x", Type: "DATE"}},
		"userSchema[0].maxLength": {{Name: "x", Type: store.AttributeString, MaxLength: attributes.MaxMaxLength + 1}},
		"userSchema[0]":           {{Name: "x", Type: store.AttributeNumber, Enum: []string{"1"}}},
		"userSchema[0].enum[1]":   {{Name: "x", Type: store.AttributeString, Enum: []string{"a", "a"}}},
	}
	for field, defs := range bad {
		err := attributes.CheckSchema(defs)
		if e, ok := asErr(err); !ok || e.Code != errs.InvalidArgument || e.Field != field {
			t.Errorf("%s: got %v", field, err)
		}
	}
}

func TestCheckAndApply(t *testing.T) {
	ok := map[string]any{"department": "ops", "employeeNumber": "E1", "age": 41.5, "newsletter": true}
	if err := attributes.Check(schema, ok, attributes.Admin); err != nil {
		t.Fatalf("good attributes were refused: %v", err)
	}
	cases := []struct {
		attrs map[string]any
		field string
	}{
		{map[string]any{"employeeNumber": "E1", "colour": "red"}, "attributes.colour"},
		{map[string]any{"department": "ops"}, "attributes.employeeNumber"},
		{map[string]any{"employeeNumber": "123456789"}, "attributes.employeeNumber"},
		{map[string]any{"employeeNumber": "E1", "department": "legal"}, "attributes.department"},
		{map[string]any{"employeeNumber": "E1", "age": "41"}, "attributes.age"},
		{map[string]any{"employeeNumber": "E1", "age": math.Inf(1)}, "attributes.age"},
		{map[string]any{"employeeNumber": "E1", "newsletter": "yes"}, "attributes.newsletter"},
		{map[string]any{"employeeNumber": 7.0}, "attributes.employeeNumber"},
		{map[string]any{"employeeNumber": "E\x01"}, "attributes.employeeNumber"},
	}
	for _, c := range cases {
		err := attributes.Check(schema, c.attrs, attributes.Admin)
		if e, ok := asErr(err); !ok || e.Code != errs.InvalidArgument || e.Field != c.field {
			t.Errorf("%v: got %v, want INVALID_ARGUMENT on %s", c.attrs, err, c.field)
		}
	}

	current := map[string]any{"employeeNumber": "E1", "age": 40.0}
	got, err := attributes.Apply(schema, current, map[string]any{"age": nil, "newsletter": false},
		attributes.SelfService)
	if err != nil {
		t.Fatal(err)
	}
	if _, has := got["age"]; has || got["newsletter"] != false || got["employeeNumber"] != "E1" {
		t.Errorf("merge gave %v", got)
	}
	if current["age"] != 40.0 {
		t.Error("Apply changed its input")
	}
	_, err = attributes.Apply(schema, current, map[string]any{"employeeNumber": "E2"},
		attributes.SelfService)
	if errs.CodeOf(err) != errs.PermissionDenied {
		t.Errorf("a user changed an administrators' attribute: %v", err)
	}
	_, err = attributes.Apply(schema, current, map[string]any{"employeeNumber": nil}, attributes.Admin)
	if e, ok := asErr(err); !ok || e.Field != "attributes.employeeNumber" {
		t.Errorf("a required attribute was removed: %v", err)
	}
	// Numbers arriving as json.Number or Go integers come out as float64.
	got, err = attributes.Apply(schema, current, map[string]any{"age": json.Number("7")}, attributes.Admin)
	if err != nil || got["age"] != 7.0 {
		t.Errorf("json.Number: %v, %v", got, err)
	}
	// An attribute dropped from the schema goes with the next write.
	got, err = attributes.Apply(schema, map[string]any{"employeeNumber": "E1", "retired": "x"},
		map[string]any{"age": 3.0}, attributes.Admin)
	if _, has := got["retired"]; err != nil || has || len(got) != 2 {
		t.Errorf("stale attribute: %v, %v", got, err)
	}
	if got, _ := attributes.Apply(nil, nil, nil, attributes.Admin); got != nil {
		t.Errorf("empty result = %v, want nil", got)
	}
}

func TestAttributesAreBoundedAsJSON(t *testing.T) {
	var defs []store.AttributeDef
	attrs := map[string]any{}
	for i := range 8 {
		name := "a" + string(rune('a'+i))
		defs = append(defs, store.AttributeDef{Name: name, Type: store.AttributeString,
			MaxLength: attributes.MaxMaxLength})
		attrs[name] = strings.Repeat("x", attributes.MaxMaxLength)
	}
	err := attributes.Check(defs, attrs, attributes.Admin)
	if e, ok := asErr(err); !ok || e.Field != "attributes" {
		t.Errorf("32 KiB of attributes: %v", err)
	}
}

func TestApplyPreferences(t *testing.T) {
	tz, long := "Europe/Paris", strings.Repeat("x", attributes.MaxPreferenceLength+1)
	got, err := attributes.ApplyPreferences(map[string]string{"theme": "dark"},
		map[string]*string{"timezone": &tz, "theme": nil})
	if err != nil || len(got) != 1 || got["timezone"] != tz {
		t.Errorf("got %v, %v", got, err)
	}
	for _, patch := range []map[string]*string{
		{"bad key": &tz}, {"k": &long},
	} {
		if _, err := attributes.ApplyPreferences(nil, patch); errs.CodeOf(err) != errs.InvalidArgument {
			t.Errorf("%v: %v", patch, err)
		}
	}
	many := map[string]*string{}
	for i := range store.MaxPreferences + 1 {
		many["k"+strings.Repeat("x", i)] = &tz
	}
	if _, err := attributes.ApplyPreferences(nil, many); errs.CodeOf(err) != errs.InvalidArgument {
		t.Errorf("too many preferences: %v", err)
	}
}

func asErr(err error) (*errs.Error, bool) {
	var e *errs.Error
	ok := errors.As(err, &e)
	return e, ok
}
