package graphql

import (
	"math"
	"strconv"

	gql "github.com/graphql-go/graphql"
	"github.com/graphql-go/graphql/language/ast"
)

// Limits are measured on the parsed document before it is validated or
// executed, so the walker must cope with anything the parser accepts:
// unknown fields and types, missing or cyclic fragments, nil nodes.
//
// Depth is the longest chain of nested fields, fragments expanded. The
// ofType field of introspection's __Type does not add to it: clients spell
// wrapped types as ofType chains (the usual introspection query nests seven
// of them), each level yields at most one object, and the chain stays
// bounded by the query size.
//
// Complexity estimates work: each field costs 1, and a field that takes a
// `first` argument (every paginated field) multiplies the cost of its
// selection by that argument, or by the default page size when it is
// absent, not a positive integer, or a variable without a value. Other list
// fields (roles, introspection's lists) are bounded by the schema and count
// once. The complexity of a document is the sum over all its operations and
// over the fragments no operation uses, since validation walks those too.
//
// Fragments are measured once each and remembered, so a document that
// spreads fragments exponentially many times costs linear time. A fragment
// met again on its own spread path counts as empty, and the walk reports
// the cycle: graphql-go v0.8.1's validator recurses without end on
// fragment cycles (its OverlappingFieldsCanBeMerged rule), a stack overflow
// that kills the process, so such documents must never reach it. The walk
// visits every fragment, so it finds every cycle (a depth-first search
// meets each cycle as a spread of a fragment still on its path). Two
// fragments of one name are refused for the same reason: the walk would
// see one of them and the validator the other.

// costCap keeps the saturating arithmetic far from overflow.
const costCap = math.MaxInt32

type cost struct {
	depth      int
	complexity int
}

func (c cost) add(o cost) cost {
	return cost{depth: max(c.depth, o.depth), complexity: satAdd(c.complexity, o.complexity)}
}

func satAdd(a, b int) int { return min(a+b, costCap) }

func satMul(a, b int) int {
	if a == 0 || b == 0 {
		return 0
	}
	if a > costCap/b {
		return costCap
	}
	return min(a*b, costCap)
}

// Problems of a document that must not reach graphql-go's validator.
const (
	problemCycle     = "fragments spread each other in a cycle"
	problemDuplicate = "two fragments have the same name"
	problemVarType   = "a variable has a malformed type"
)

// measure returns the depth and complexity of doc under schema, and a
// problem ("" for none) that forbids validating it. vars are the
// request's variables (for `first: $n`).
func measure(schema *gql.Schema, doc *ast.Document, vars map[string]any) (cost, string) {
	w := &walker{
		schema: schema,
		vars:   vars,
		frags:  map[string]*ast.FragmentDefinition{},
		memo:   map[string]cost{},
		active: map[string]bool{},
	}
	if doc == nil {
		return cost{}, ""
	}
	duplicate, badVar := false, false
	for _, def := range doc.Definitions {
		if f, ok := def.(*ast.FragmentDefinition); ok && f != nil && f.Name != nil {
			if _, dup := w.frags[f.Name.Value]; dup {
				duplicate = true
				continue
			}
			w.frags[f.Name.Value] = f
		}
	}

	var total cost
	for _, def := range doc.Definitions {
		op, ok := def.(*ast.OperationDefinition)
		if !ok || op == nil {
			continue
		}
		w.defaults = op.VariableDefinitions
		total = total.add(w.selectionSet(w.rootType(op.Operation), op.SelectionSet))
		for _, d := range op.VariableDefinitions {
			if d == nil || d.Variable == nil || d.Variable.Name == nil || !wellFormed(d.Type) {
				badVar = true
			}
		}
	}
	w.defaults = nil
	for name := range w.frags {
		if _, seen := w.memo[name]; !seen {
			total = total.add(w.spread(name))
		}
	}
	switch {
	case w.cycle:
		return total, problemCycle
	case duplicate:
		return total, problemDuplicate
	case badVar:
		return total, problemVarType
	}
	return total, ""
}

// wellFormed reports whether a variable's type is complete. graphql-go
// v0.8.1's parser accepts `$a:`, `$a: ]` and `$a: !`, leaving nil types
// that its validator dereferences.
func wellFormed(t ast.Type) bool {
	switch t := t.(type) {
	case *ast.Named:
		return t != nil && t.Name != nil && t.Name.Value != ""
	case *ast.List:
		return t != nil && wellFormed(t.Type)
	case *ast.NonNull:
		if t == nil {
			return false
		}
		if _, double := t.Type.(*ast.NonNull); double {
			return false
		}
		return wellFormed(t.Type)
	}
	return false
}

type walker struct {
	schema *gql.Schema
	vars   map[string]any
	// defaults are the variable definitions of the operation being walked.
	// Fragments are remembered across operations, so a `first: $n` inside
	// a fragment is read with the defaults of the first operation that
	// reaches it; values passed in vars are the same for all.
	defaults []*ast.VariableDefinition
	frags    map[string]*ast.FragmentDefinition
	memo     map[string]cost
	active   map[string]bool // fragments on the current spread path
	cycle    bool            // a spread of a fragment on its own path was met
}

func (w *walker) rootType(operation string) gql.Type {
	switch operation {
	case ast.OperationTypeMutation:
		if t := w.schema.MutationType(); t != nil {
			return t
		}
	case ast.OperationTypeQuery:
		if t := w.schema.QueryType(); t != nil {
			return t
		}
	}
	return nil
}

func (w *walker) selectionSet(parent gql.Type, ss *ast.SelectionSet) cost {
	var total cost
	if ss == nil {
		return total
	}
	for _, sel := range ss.Selections {
		switch s := sel.(type) {
		case *ast.Field:
			if s != nil {
				total = total.add(w.field(parent, s))
			}
		case *ast.InlineFragment:
			if s == nil {
				continue
			}
			t := parent
			if s.TypeCondition != nil && s.TypeCondition.Name != nil {
				t = w.schema.Type(s.TypeCondition.Name.Value)
			}
			total = total.add(w.selectionSet(t, s.SelectionSet))
		case *ast.FragmentSpread:
			if s != nil && s.Name != nil {
				total = total.add(w.spread(s.Name.Value))
			}
		}
	}
	return total
}

func (w *walker) spread(name string) cost {
	if c, ok := w.memo[name]; ok {
		return c
	}
	if w.active[name] {
		w.cycle = true
		return cost{}
	}
	f, ok := w.frags[name]
	if !ok {
		return cost{}
	}
	w.active[name] = true
	var t gql.Type
	if f.TypeCondition != nil && f.TypeCondition.Name != nil {
		t = w.schema.Type(f.TypeCondition.Name.Value)
	}
	c := w.selectionSet(t, f.SelectionSet)
	delete(w.active, name)
	w.memo[name] = c
	return c
}

func (w *walker) field(parent gql.Type, f *ast.Field) cost {
	name := ""
	if f.Name != nil {
		name = f.Name.Value
	}
	def := w.fieldDef(parent, name)

	var child gql.Type
	if def != nil {
		if n, ok := gql.GetNamed(def.Type).(gql.Type); ok {
			child = n
		}
	}
	sub := w.selectionSet(child, f.SelectionSet)

	mult := 1
	if def != nil && takesFirst(def) {
		mult = w.first(f)
	}
	step := 1
	if name == "ofType" && parent == gql.Type(gql.TypeType) {
		step = 0
	}
	return cost{
		depth:      satAdd(step, sub.depth),
		complexity: satAdd(1, satMul(mult, sub.complexity)),
	}
}

// fieldDef finds the definition of a field, meta fields included; nil when
// the parent or the field is unknown.
func (w *walker) fieldDef(parent gql.Type, name string) *gql.FieldDefinition {
	switch name {
	case "__typename":
		return gql.TypeNameMetaFieldDef
	case "__schema", "__type":
		if parent != nil && parent == gql.Type(w.schema.QueryType()) {
			if name == "__schema" {
				return gql.SchemaMetaFieldDef
			}
			return gql.TypeMetaFieldDef
		}
		return nil
	}
	var fields gql.FieldDefinitionMap
	switch t := parent.(type) {
	case *gql.Object:
		fields = t.Fields()
	case *gql.Interface:
		fields = t.Fields()
	default:
		return nil
	}
	return fields[name]
}

func takesFirst(def *gql.FieldDefinition) bool {
	for _, a := range def.Args {
		if a != nil && a.PrivateName == "first" {
			return true
		}
	}
	return false
}

// first reads the `first` argument of f as the walker's multiplier.
func (w *walker) first(f *ast.Field) int {
	for _, a := range f.Arguments {
		if a == nil || a.Name == nil || a.Name.Value != "first" {
			continue
		}
		if n, ok := w.intValue(a.Value); ok && n > 0 {
			return min(n, costCap)
		}
		return defaultPageSize
	}
	return defaultPageSize
}

func (w *walker) intValue(v ast.Value) (int, bool) {
	switch v := v.(type) {
	case *ast.IntValue:
		if v == nil {
			return 0, false
		}
		n, err := strconv.ParseInt(v.Value, 10, 64)
		if err != nil {
			return 0, false
		}
		return int(min(n, costCap)), true
	case *ast.Variable:
		if v == nil || v.Name == nil {
			return 0, false
		}
		if val, ok := w.vars[v.Name.Value]; ok {
			return intOf(val)
		}
		for _, d := range w.defaults {
			if d != nil && d.Variable != nil && d.Variable.Name != nil &&
				d.Variable.Name.Value == v.Name.Value && d.DefaultValue != nil {
				if iv, ok := d.DefaultValue.(*ast.IntValue); ok {
					return w.intValue(iv)
				}
			}
		}
	}
	return 0, false
}

// intOf reads a number decoded from the JSON variables (always float64).
func intOf(v any) (int, bool) {
	n, ok := v.(float64)
	if !ok || n < 0 {
		return 0, false
	}
	return int(min(n, costCap)), true
}
