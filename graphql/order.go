package graphql

import (
	"bytes"
	"encoding/json"
	"slices"

	"github.com/graphql-go/graphql/language/ast"
)

// graphql-go returns each object of the result as a Go map, which has no
// order, while the GraphQL spec (section 7.2.2) wants fields in the order
// the request selected them. encodeData writes the result by walking the
// operation's selections alongside it.
//
// The schema has object types only (no interfaces or unions), so a
// fragment in a valid document always applies where it is spread and type
// conditions can be ignored; a key the selections name but the result
// lacks (@skip, @include) is left out, and a key the result has but the
// selections do not name is written last rather than lost.

// encodeData encodes data, the result of executing op in doc.
func encodeData(doc *ast.Document, op *ast.OperationDefinition, data any) ([]byte, error) {
	e := &encoder{frags: map[string]*ast.FragmentDefinition{}}
	for _, def := range doc.Definitions {
		if f, ok := def.(*ast.FragmentDefinition); ok && f.Name != nil {
			e.frags[f.Name.Value] = f
		}
	}
	var buf bytes.Buffer
	if err := e.write(&buf, data, []*ast.SelectionSet{op.SelectionSet}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

type encoder struct {
	frags map[string]*ast.FragmentDefinition
}

func (e *encoder) write(buf *bytes.Buffer, v any, sets []*ast.SelectionSet) error {
	switch v := v.(type) {
	case map[string]any:
		keys, subs := e.collect(sets)
		for k := range v {
			if _, named := subs[k]; !named {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys[len(subs):])
		buf.WriteByte('{')
		n := 0
		for _, k := range keys {
			val, ok := v[k]
			if !ok {
				continue
			}
			if n > 0 {
				buf.WriteByte(',')
			}
			n++
			if err := writeJSON(buf, k); err != nil {
				return err
			}
			buf.WriteByte(':')
			if err := e.write(buf, val, subs[k]); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
		return nil
	case []any:
		buf.WriteByte('[')
		for i, item := range v {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := e.write(buf, item, sets); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
		return nil
	}
	return writeJSON(buf, v)
}

func writeJSON(buf *bytes.Buffer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	buf.Write(b)
	return nil
}

// collect lists the response keys that sets select, in order, with the
// selection sets of each key's fields merged.
func (e *encoder) collect(sets []*ast.SelectionSet) ([]string, map[string][]*ast.SelectionSet) {
	var keys []string
	subs := map[string][]*ast.SelectionSet{}
	active := map[string]bool{}
	var walk func(ss *ast.SelectionSet)
	walk = func(ss *ast.SelectionSet) {
		if ss == nil {
			return
		}
		for _, sel := range ss.Selections {
			switch s := sel.(type) {
			case *ast.Field:
				key := ""
				switch {
				case s.Alias != nil:
					key = s.Alias.Value
				case s.Name != nil:
					key = s.Name.Value
				}
				list, seen := subs[key]
				if !seen {
					keys = append(keys, key)
				}
				if s.SelectionSet != nil {
					list = append(list, s.SelectionSet)
				}
				subs[key] = list
			case *ast.InlineFragment:
				walk(s.SelectionSet)
			case *ast.FragmentSpread:
				if s.Name == nil || active[s.Name.Value] {
					continue
				}
				if f, ok := e.frags[s.Name.Value]; ok {
					active[s.Name.Value] = true
					walk(f.SelectionSet)
					delete(active, s.Name.Value)
				}
			}
		}
	}
	for _, ss := range sets {
		walk(ss)
	}
	return keys, subs
}
