package templates

import (
	"errors"
	"reflect"
	"text/template/parse"
)

// The functions of allowedFuncs, with text/template's meaning: and and or
// evaluate their arguments lazily and return one of them; eq, ne, lt, le,
// gt and ge compare basic values (bool, string, int and uint kinds with
// each other, float kinds, complex for eq), and a comparison of two
// values of different kinds is an error.

var (
	errBadComparisonType = errors.New("invalid type for comparison")
	errBadComparison     = errors.New("incompatible types for comparison")
	errNoComparison      = errors.New("missing argument for comparison")
)

// call runs the function name on args, then final if hasFinal.
func (s *state) call(dot any, name string, args []parse.Node, final any, hasFinal bool) (
	any, error) {
	n := len(args)
	if hasFinal {
		n++
	}
	// argAt evaluates the i'th argument, final being the last.
	argAt := func(i int) (any, error) {
		if i == len(args) {
			return final, nil
		}
		return s.arg(dot, args[i])
	}
	all := func() ([]any, error) {
		out := make([]any, n)
		for i := range out {
			var err error
			if out[i], err = argAt(i); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	arity := func(want int) error {
		if n != want {
			return failf("wrong number of args for %s: want %d got %d", name, want, n)
		}
		return nil
	}

	switch name {
	case "and", "or":
		if n == 0 {
			return nil, failf("wrong number of args for %s: want at least 1 got 0", name)
		}
		var v any
		for i := range n {
			var err error
			if v, err = argAt(i); err != nil {
				return nil, err
			}
			if truth(v) != (name == "and") {
				return v, nil
			}
		}
		return v, nil
	case "not":
		if err := arity(1); err != nil {
			return nil, err
		}
		v, err := argAt(0)
		return !truth(v), err
	case "len":
		if err := arity(1); err != nil {
			return nil, err
		}
		v, err := argAt(0)
		if err != nil {
			return nil, err
		}
		return length(v)
	case "eq":
		if n == 0 {
			return nil, failf("wrong number of args for eq: want at least 1 got 0")
		}
		vs, err := all()
		if err != nil {
			return nil, err
		}
		return eq(vs[0], vs[1:]...)
	case "ne", "lt", "le", "gt", "ge":
		if err := arity(2); err != nil {
			return nil, err
		}
		vs, err := all()
		if err != nil {
			return nil, err
		}
		return compare(name, vs[0], vs[1])
	}
	return nil, failf("%q is not a defined function", name)
}

func length(v any) (int, error) {
	if v == nil {
		return 0, failf("len of nil pointer")
	}
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return 0, failf("len of nil pointer")
		}
		rv = rv.Elem()
	}
	switch rv.Kind() {
	case reflect.Array, reflect.Chan, reflect.Map, reflect.Slice, reflect.String:
		return rv.Len(), nil
	}
	return 0, failf("len of type %T", v)
}

type kind int

const (
	invalidKind kind = iota
	boolKind
	complexKind
	intKind
	floatKind
	stringKind
	uintKind
)

func basicKind(v reflect.Value) (kind, error) {
	switch v.Kind() {
	case reflect.Bool:
		return boolKind, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return intKind, nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Uintptr:
		return uintKind, nil
	case reflect.Float32, reflect.Float64:
		return floatKind, nil
	case reflect.Complex64, reflect.Complex128:
		return complexKind, nil
	case reflect.String:
		return stringKind, nil
	}
	return invalidKind, errBadComparisonType
}

// eq reports whether a equals any of bs.
func eq(a any, bs ...any) (bool, error) {
	if len(bs) == 0 {
		return false, errNoComparison
	}
	av := reflect.ValueOf(a)
	ka, _ := basicKind(av)
	for _, b := range bs {
		bv := reflect.ValueOf(b)
		kb, _ := basicKind(bv)
		equal := false
		switch {
		case ka == intKind && kb == uintKind:
			equal = av.Int() >= 0 && uint64(av.Int()) == bv.Uint()
		case ka == uintKind && kb == intKind:
			equal = bv.Int() >= 0 && av.Uint() == uint64(bv.Int())
		case ka != kb:
			if av.IsValid() && bv.IsValid() {
				return false, errBadComparison
			}
		case ka == boolKind:
			equal = av.Bool() == bv.Bool()
		case ka == complexKind:
			equal = av.Complex() == bv.Complex()
		case ka == floatKind:
			equal = av.Float() == bv.Float()
		case ka == intKind:
			equal = av.Int() == bv.Int()
		case ka == stringKind:
			equal = av.String() == bv.String()
		case ka == uintKind:
			equal = av.Uint() == bv.Uint()
		default:
			// Neither is a basic value: only nil equals nil; maps and
			// slices are not comparable.
			var err error
			if equal, err = eqOther(av, bv); err != nil {
				return false, err
			}
		}
		if equal {
			return true, nil
		}
	}
	return false, nil
}

func eqOther(a, b reflect.Value) (bool, error) {
	aNil, bNil := isNil(a), isNil(b)
	if aNil || bNil {
		return aNil == bNil, nil
	}
	if a.Type() != b.Type() || !a.Type().Comparable() {
		return false, failf("non-comparable types %v and %v", a.Type(), b.Type())
	}
	return a.Interface() == b.Interface(), nil
}

func isNil(v reflect.Value) bool {
	if !v.IsValid() {
		return true
	}
	switch v.Kind() {
	case reflect.Chan, reflect.Func, reflect.Interface, reflect.Map, reflect.Pointer,
		reflect.Slice:
		return v.IsNil()
	}
	return false
}

// lt reports whether a < b.
func lt(a, b any) (bool, error) {
	av, bv := reflect.ValueOf(a), reflect.ValueOf(b)
	ka, err := basicKind(av)
	if err != nil {
		return false, err
	}
	kb, err := basicKind(bv)
	if err != nil {
		return false, err
	}
	switch {
	case ka == intKind && kb == uintKind:
		return av.Int() < 0 || uint64(av.Int()) < bv.Uint(), nil
	case ka == uintKind && kb == intKind:
		return bv.Int() >= 0 && av.Uint() < uint64(bv.Int()), nil
	case ka != kb:
		return false, errBadComparison
	}
	switch ka {
	case floatKind:
		return av.Float() < bv.Float(), nil
	case intKind:
		return av.Int() < bv.Int(), nil
	case stringKind:
		return av.String() < bv.String(), nil
	case uintKind:
		return av.Uint() < bv.Uint(), nil
	}
	return false, errBadComparisonType // bool and complex have no order
}

// compare runs ne, lt, le, gt or ge, each built on eq and lt as
// text/template builds them.
func compare(name string, a, b any) (bool, error) {
	switch name {
	case "ne":
		e, err := eq(a, b)
		return !e, err
	case "lt":
		return lt(a, b)
	case "ge":
		l, err := lt(a, b)
		return !l, err
	}
	// le and gt
	l, err := lt(a, b)
	if err != nil {
		return false, err
	}
	le := l
	if !l {
		if le, err = eq(a, b); err != nil {
			return false, err
		}
	}
	if name == "le" {
		return le, nil
	}
	return !le, nil
}
