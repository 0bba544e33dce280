package graphql

import (
	"math"
	"strconv"

	gql "github.com/graphql-go/graphql"
	"github.com/graphql-go/graphql/language/ast"

	"github.com/wardhq/ward/shared/errs"
)

// checkVariables checks the request's variables against the operation
// before graphql-go sees them, for two reasons.
//
// A variable the operation does not declare is refused: it is a client's
// mistake or an attempt to smuggle something past a reviewer of the query
// text. The GraphQL spec ignores such variables; Ward does not.
//
// graphql-go v0.8.1 coerces values loosely: for an Int it takes true as 1,
// 1.5 as 1 and "3" as 3. The spec (section 3.5, input coercion) refuses
// all three, and so does this check, for scalars at any depth of lists and
// input objects. Nulls, enum values, unknown fields of input objects and
// missing required values are left to graphql-go, which refuses those
// correctly.
func checkVariables(schema *gql.Schema, op *ast.OperationDefinition, vars map[string]any) *gqlError {
	declared := make(map[string]ast.Type, len(op.VariableDefinitions))
	for _, d := range op.VariableDefinitions {
		if d != nil && d.Variable != nil && d.Variable.Name != nil {
			declared[d.Variable.Name.Value] = d.Type
		}
	}
	for name, v := range vars {
		t, ok := declared[name]
		if !ok {
			e := newError(errs.InvalidArgument, "variables."+name,
				"variable "+quote(name)+" is not declared by the operation")
			return &e
		}
		if path, want := checkValue(typeOf(schema, t), v, "variables."+name); want != "" {
			e := newError(errs.InvalidArgument, path, "must be "+want)
			return &e
		}
	}
	return nil
}

// typeOf resolves a variable's declared type in schema; nil when it names
// no type (validation reports that).
func typeOf(schema *gql.Schema, t ast.Type) gql.Type {
	switch t := t.(type) {
	case *ast.NonNull:
		if t == nil {
			return nil
		}
		if inner := typeOf(schema, t.Type); inner != nil {
			return gql.NewNonNull(inner)
		}
	case *ast.List:
		if t == nil {
			return nil
		}
		if inner := typeOf(schema, t.Type); inner != nil {
			return gql.NewList(inner)
		}
	case *ast.Named:
		if t != nil && t.Name != nil {
			return schema.Type(t.Name.Value)
		}
	}
	return nil
}

// checkValue returns the path of the first value that does not fit t and
// what it should be; want is "" when v fits or is left to graphql-go.
func checkValue(t gql.Type, v any, path string) (at, want string) {
	if v == nil {
		return "", ""
	}
	switch t := t.(type) {
	case *gql.NonNull:
		return checkValue(t.OfType, v, path)
	case *gql.List:
		list, ok := v.([]any)
		if !ok {
			return checkValue(t.OfType, v, path) // a single value is a list of one
		}
		for i, item := range list {
			if at, want := checkValue(t.OfType, item, path+"."+strconv.Itoa(i)); want != "" {
				return at, want
			}
		}
	case *gql.InputObject:
		obj, ok := v.(map[string]any)
		if !ok {
			return path, "an object"
		}
		fields := t.Fields()
		for k, fv := range obj {
			if f, ok := fields[k]; ok {
				if at, want := checkValue(f.Type, fv, path+"."+k); want != "" {
					return at, want
				}
			}
		}
	case *gql.Scalar:
		if want := scalarWant(t.Name(), v); want != "" {
			return path, want
		}
	case *gql.Enum:
		if _, ok := v.(string); !ok {
			return path, "one of the values of " + t.Name()
		}
	}
	return "", ""
}

// scalarWant checks a JSON value against a scalar: "" when it fits.
func scalarWant(name string, v any) string {
	switch name {
	case "Int":
		if f, ok := v.(float64); !ok || f != math.Trunc(f) || f < math.MinInt32 ||
			f > math.MaxInt32 {
			return "an integer of 32 bits"
		}
	case "Float":
		if _, ok := v.(float64); !ok {
			return "a number"
		}
	case "String", "DateTime":
		if _, ok := v.(string); !ok {
			return "a string"
		}
	case "Boolean":
		if _, ok := v.(bool); !ok {
			return "true or false"
		}
	case "ID":
		if _, ok := v.(string); ok {
			return ""
		}
		if f, ok := v.(float64); !ok || f != math.Trunc(f) {
			return "a string or an integer"
		}
	}
	return ""
}
