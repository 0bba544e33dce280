package templates

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"text/template/parse"
)

// The evaluator below runs the subset of Go's template language that
// checkTree admits, over trees from text/template/parse, with the meaning
// text/template gives it. It exists so that Ward does not link
// text/template's executor: that looks methods up by name through
// reflection, which makes the Go linker keep every exported method of
// every reachable type, and doubled the size of every function binary.
//
// This file never calls reflect.Value.Method or MethodByName; a test in
// e2e guards that text/template stays out of the functions.
//
// Values are what JSON-like data holds: strings, bools, numbers of any int,
// uint or float kind, nil, maps with string keys and slices. Fields are
// read from maps only; a struct or a method is an error, where
// text/template would read or call it.
//
// Deliberate deviation: a nil value prints as nothing, as html/template
// prints it, where text/template prints "<no value>"; a message must never
// carry that text to a reader.

// nodeKind says what a node of a program does.
type nodeKind uint8

const (
	nodeText     nodeKind = iota // write text as it is
	nodeAction                   // evaluate pipe, write its value escaped by esc
	nodeIf                       // if pipe then list else elseList
	nodeWith                     // with pipe then list (dot = value) else elseList
	nodeURLStart                 // a URL attribute's value starts
	nodeURLEnd                   // a URL attribute's value ends
)

// escaper says how an action's value is written.
type escaper uint8

const (
	escNone escaper = iota // as it is: subject and text bodies
	escHTML                // HTML element text, RCDATA or a quoted attribute value
	escURL                 // inside a quoted URL attribute value
)

// node is one step of a compiled template.
type node struct {
	kind     nodeKind
	text     string
	pipe     *parse.PipeNode
	esc      escaper
	list     []node
	elseList []node
}

// program is one compiled part of a Template.
type program struct {
	nodes []node
}

// compileText turns a checked tree into a program that writes values as
// they are.
func compileText(list *parse.ListNode) []node {
	if list == nil {
		return nil
	}
	var out []node
	for _, n := range list.Nodes {
		switch n := n.(type) {
		case *parse.TextNode:
			out = append(out, node{kind: nodeText, text: string(n.Text)})
		case *parse.ActionNode:
			out = append(out, node{kind: nodeAction, pipe: n.Pipe})
		case *parse.IfNode:
			out = append(out, node{kind: nodeIf, pipe: n.Pipe, list: compileText(n.List),
				elseList: compileText(n.ElseList)})
		case *parse.WithNode:
			out = append(out, node{kind: nodeWith, pipe: n.Pipe, list: compileText(n.List),
				elseList: compileText(n.ElseList)})
		}
		// checkTree refused every other node; comments are not in the tree.
	}
	return out
}

// errTooLong stops a template whose output passes its limit.
var errTooLong = errors.New("output too long")

// execError is a failure of evaluation, which the data caused.
type execError struct{ msg string }

func (e *execError) Error() string { return e.msg }

func failf(format string, args ...any) error {
	return &execError{msg: fmt.Sprintf(format, args...)}
}

type variable struct {
	name  string
	value any
}

// state is one run of a program.
type state struct {
	out  []byte
	max  int
	vars []variable

	// urlStart is where in out the value of the URL attribute being
	// written starts, or -1 outside one; urlDynamic says whether an action
	// wrote into it.
	urlStart   int
	urlDynamic bool
}

// execute runs p over data and returns what it wrote, at most max bytes.
func (p *program) execute(data map[string]any, max int) (string, error) {
	s := &state{max: max, urlStart: -1, vars: []variable{{"$", data}}}
	if err := s.walk(data, p.nodes); err != nil {
		return "", err
	}
	if s.urlStart >= 0 {
		// Compilation refuses a template that ends inside an attribute;
		// this keeps the check even so.
		s.endURL()
	}
	return string(s.out), nil
}

func (s *state) write(str string) error {
	if len(s.out)+len(str) > s.max {
		return errTooLong
	}
	s.out = append(s.out, str...)
	return nil
}

func (s *state) walk(dot any, nodes []node) error {
	for i := range nodes {
		n := &nodes[i]
		var err error
		switch n.kind {
		case nodeText:
			err = s.write(n.text)
		case nodeAction:
			err = s.action(dot, n)
		case nodeIf, nodeWith:
			err = s.branch(dot, n)
		case nodeURLStart:
			s.urlStart, s.urlDynamic = len(s.out), false
		case nodeURLEnd:
			err = s.endURL()
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (s *state) action(dot any, n *node) error {
	v, err := s.pipeline(dot, n.pipe)
	if err != nil || len(n.pipe.Decl) > 0 {
		return err
	}
	str, err := printValue(v)
	if err != nil {
		return err
	}
	switch n.esc {
	case escHTML:
		str = escapeHTML(str)
	case escURL:
		str = escapeHTML(s.urlValue(str))
		s.urlDynamic = true
	}
	return s.write(str)
}

// branch runs an if or a with. Variables declared in it end with it.
func (s *state) branch(dot any, n *node) error {
	mark := len(s.vars)
	defer func() { s.vars = s.vars[:mark] }()

	v, err := s.pipeline(dot, n.pipe)
	if err != nil {
		return err
	}
	truth, ok := isTrue(v)
	if !ok {
		return failf("if/with can't use %v", v)
	}
	switch {
	case truth && n.kind == nodeWith:
		return s.walk(v, n.list)
	case truth:
		return s.walk(dot, n.list)
	default:
		return s.walk(dot, n.elseList)
	}
}

// printValue writes v as text/template prints a value: fmt.Sprint, but
// nil prints nothing (see the deviation above).
func printValue(v any) (string, error) {
	if v == nil {
		return "", nil
	}
	switch v := v.(type) {
	case string:
		return v, nil
	case error, fmt.Stringer:
		return fmt.Sprint(v), nil
	}
	switch reflect.ValueOf(v).Kind() {
	case reflect.Chan, reflect.Func:
		return "", failf("can't print value of type %T", v)
	}
	return fmt.Sprint(v), nil
}

func (s *state) pipeline(dot any, pipe *parse.PipeNode) (any, error) {
	if pipe == nil {
		return nil, failf("missing pipeline")
	}
	var value any
	hasFinal := false
	for _, cmd := range pipe.Cmds {
		v, err := s.command(dot, cmd, value, hasFinal)
		if err != nil {
			return nil, err
		}
		value, hasFinal = v, true
	}
	for _, decl := range pipe.Decl {
		name := decl.Ident[0]
		if !pipe.IsAssign {
			s.vars = append(s.vars, variable{name, value})
			continue
		}
		if err := s.setVar(name, value); err != nil {
			return nil, err
		}
	}
	return value, nil
}

func (s *state) setVar(name string, value any) error {
	for i := len(s.vars) - 1; i >= 0; i-- {
		if s.vars[i].name == name {
			s.vars[i].value = value
			return nil
		}
	}
	return failf("undefined variable: %s", name)
}

func (s *state) varValue(name string) (any, error) {
	for i := len(s.vars) - 1; i >= 0; i-- {
		if s.vars[i].name == name {
			return s.vars[i].value, nil
		}
	}
	return nil, failf("undefined variable: %s", name)
}

// command evaluates one command of a pipeline; final is the value of the
// command before it, if hasFinal.
func (s *state) command(dot any, cmd *parse.CommandNode, final any, hasFinal bool) (any, error) {
	if len(cmd.Args) == 0 {
		return nil, failf("empty command")
	}
	hasArgs := len(cmd.Args) > 1 || hasFinal
	switch n := cmd.Args[0].(type) {
	case *parse.IdentifierNode:
		return s.call(dot, n.Ident, cmd.Args[1:], final, hasFinal)
	case *parse.FieldNode:
		return fieldChain(dot, n.Ident, hasArgs)
	case *parse.VariableNode:
		v, err := s.varValue(n.Ident[0])
		if err != nil || len(n.Ident) == 1 {
			if err == nil && hasArgs {
				err = failf("can't give argument to non-function %s", n)
			}
			return v, err
		}
		return fieldChain(v, n.Ident[1:], hasArgs)
	case *parse.ChainNode:
		if _, ok := n.Node.(*parse.NilNode); ok {
			return nil, failf("indirection through explicit nil in %s", n)
		}
		v, err := s.arg(dot, n.Node)
		if err != nil {
			return nil, err
		}
		return fieldChain(v, n.Field, hasArgs)
	}
	if hasArgs {
		return nil, failf("can't give argument to non-function %s", cmd.Args[0])
	}
	switch n := cmd.Args[0].(type) {
	case *parse.PipeNode:
		return s.pipeline(dot, n)
	case *parse.DotNode:
		return dot, nil
	case *parse.BoolNode:
		return n.True, nil
	case *parse.StringNode:
		return n.Text, nil
	case *parse.NumberNode:
		return constant(n)
	case *parse.NilNode:
		return nil, failf("nil is not a command")
	}
	return nil, failf("can't evaluate command %s", cmd.Args[0])
}

// arg evaluates an argument of a function or the operand of a chain.
func (s *state) arg(dot any, n parse.Node) (any, error) {
	switch n := n.(type) {
	case *parse.DotNode:
		return dot, nil
	case *parse.NilNode:
		return nil, nil
	case *parse.BoolNode:
		return n.True, nil
	case *parse.StringNode:
		return n.Text, nil
	case *parse.NumberNode:
		return constant(n)
	case *parse.FieldNode:
		return fieldChain(dot, n.Ident, false)
	case *parse.VariableNode:
		v, err := s.varValue(n.Ident[0])
		if err != nil || len(n.Ident) == 1 {
			return v, err
		}
		return fieldChain(v, n.Ident[1:], false)
	case *parse.ChainNode:
		if _, ok := n.Node.(*parse.NilNode); ok {
			return nil, failf("indirection through explicit nil in %s", n)
		}
		v, err := s.arg(dot, n.Node)
		if err != nil {
			return nil, err
		}
		return fieldChain(v, n.Field, false)
	case *parse.PipeNode:
		return s.pipeline(dot, n)
	case *parse.IdentifierNode:
		return s.call(dot, n.Ident, nil, nil, false)
	}
	return nil, failf("can't handle %s as an argument", n)
}

// constant gives a number literal the type text/template gives it where
// any type is accepted: int, or float64 when written with a point or an
// exponent, or complex128.
func constant(n *parse.NumberNode) (any, error) {
	switch {
	case n.IsComplex:
		return n.Complex128, nil
	case n.IsFloat && !isHexInt(n.Text) && !isRuneInt(n.Text) &&
		strings.ContainsAny(n.Text, ".eEpP"):
		return n.Float64, nil
	case n.IsInt:
		i := int(n.Int64)
		if int64(i) != n.Int64 {
			return nil, failf("%s overflows int", n.Text)
		}
		return i, nil
	}
	return nil, failf("%s overflows int", n.Text)
}

func isRuneInt(s string) bool { return len(s) > 0 && s[0] == '\'' }

func isHexInt(s string) bool {
	return len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') &&
		!strings.ContainsAny(s, "pP")
}

// fieldChain reads the keys in idents one after the other from v. A key
// absent from its map is an error (text/template's missingkey=error).
func fieldChain(v any, idents []string, hasArgs bool) (any, error) {
	for i, name := range idents {
		if hasArgs && i == len(idents)-1 {
			return nil, failf("%s is not a method but has arguments", name)
		}
		var err error
		if v, err = field(v, name); err != nil {
			return nil, err
		}
	}
	return v, nil
}

func field(recv any, name string) (any, error) {
	if m, ok := recv.(map[string]any); ok {
		v, ok := m[name]
		if !ok {
			return nil, failf("map has no entry for key %q", name)
		}
		return v, nil
	}
	if recv == nil {
		return nil, failf("nil data; no entry for key %q", name)
	}
	rv := reflect.ValueOf(recv)
	for rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return nil, failf("nil pointer evaluating %T.%s", recv, name)
		}
		rv = rv.Elem()
	}
	if rv.Kind() != reflect.Map || rv.Type().Key().Kind() != reflect.String {
		return nil, failf("can't evaluate field %s in type %T", name, recv)
	}
	got := rv.MapIndex(reflect.ValueOf(name).Convert(rv.Type().Key()))
	if !got.IsValid() {
		return nil, failf("map has no entry for key %q", name)
	}
	return got.Interface(), nil
}

// isTrue is text/template's truth: false, 0, nil, and empty strings,
// slices and maps are false; ok is false for values that have no truth.
func isTrue(v any) (truth, ok bool) {
	if v == nil {
		return false, true
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return rv.Len() > 0, true
	case reflect.Bool:
		return rv.Bool(), true
	case reflect.Complex64, reflect.Complex128:
		return rv.Complex() != 0, true
	case reflect.Chan, reflect.Func, reflect.Pointer, reflect.Interface:
		return !rv.IsNil(), true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int() != 0, true
	case reflect.Float32, reflect.Float64:
		return rv.Float() != 0, true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Uintptr:
		return rv.Uint() != 0, true
	case reflect.Struct:
		return true, true
	}
	return false, false
}

func truth(v any) bool {
	t, _ := isTrue(v)
	return t
}
