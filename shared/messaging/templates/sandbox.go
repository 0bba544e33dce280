package templates

import (
	"strings"
	"text/template/parse"
	"unicode/utf8"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/messaging"
)

// MaxTemplateBytes bounds each part of a Template.
const MaxTemplateBytes = 64 << 10

// allowedFuncs are the only functions a template may call. Tenant
// administrators write templates, and Go templates can otherwise be made
// to run for as long or allocate as much as their author likes: range over
// a large number, templates that call each other many times over, printf
// with a huge width. None of that is needed to fill in a message, so none
// of it is allowed: a template reads values, tests them with if and with,
// and compares them.
var allowedFuncs = map[string]bool{
	"and": true, "or": true, "not": true, "len": true,
	"eq": true, "ne": true, "lt": true, "le": true, "gt": true, "ge": true,
}

// Check parses t as Render would and checks it against the limits above:
// each part at most MaxTemplateBytes of UTF-8, Subject and Text required,
// and only these actions: {{.Field}}, {{$var := ...}}, {{if}}, {{with}},
// {{else}}, comments, and calls of the allowed functions. range, template,
// block and define are refused. In HTML, actions may stand only where
// html.go allows them. It returns errs.ErrInvalidArgument naming the part
// at fault.
func Check(t Template) error {
	_, err := parseTemplate(t, "", false)
	return err
}

// parseTemplate checks t and compiles its parts.
func parseTemplate(t Template, locale messaging.Locale, tenant bool) (*parsed, error) {
	parts := []struct{ field, src string }{
		{"Subject", t.Subject}, {"Text", t.Text}, {"HTML", t.HTML},
	}
	for _, p := range parts {
		if len(p.src) > MaxTemplateBytes {
			return nil, errs.Invalid(p.field, "must be at most %d bytes", MaxTemplateBytes)
		}
		if !utf8.ValidString(p.src) {
			return nil, errs.Invalid(p.field, "must be valid UTF-8")
		}
	}
	if t.Subject == "" {
		return nil, errs.Invalid("Subject", "is required")
	}
	if t.Text == "" {
		return nil, errs.Invalid("Text", "is required")
	}

	out := &parsed{locale: locale, tenant: tenant}
	var err error
	if out.subject, err = parseText("Subject", t.Subject); err != nil {
		return nil, err
	}
	if out.text, err = parseText("Text", t.Text); err != nil {
		return nil, err
	}
	if t.HTML == "" {
		return out, nil
	}
	tree, err := parseTree("HTML", t.HTML)
	if err != nil {
		return nil, err
	}
	nodes, err := compileHTML("HTML", tree.Root)
	if err != nil {
		return nil, err
	}
	out.html = &program{nodes: nodes}
	return out, nil
}

// parseText parses and checks a plain-text part.
func parseText(field, src string) (*program, error) {
	tree, err := parseTree(field, src)
	if err != nil {
		return nil, err
	}
	return &program{nodes: compileText(tree.Root)}, nil
}

// parseTree parses src as text/template would, and checks it. Functions
// are not looked up while parsing (checkTree refuses all but
// allowedFuncs), so calling one that does not exist is refused as calling
// one that is not allowed.
func parseTree(field, src string) (*parse.Tree, error) {
	t := parse.New(field)
	t.Mode = parse.SkipFuncCheck
	set := map[string]*parse.Tree{}
	if _, err := t.Parse(src, "", "", set); err != nil {
		return nil, errs.Invalid(field, "does not parse: %s", parseMessage(err))
	}
	if len(set) != 1 || set[field] != t {
		return nil, errs.Invalid(field, "must not define templates")
	}
	if err := checkTree(field, t); err != nil {
		return nil, err
	}
	return t, nil
}

func parseMessage(err error) string {
	return strings.TrimPrefix(err.Error(), "template: ")
}

func checkTree(field string, tree *parse.Tree) error {
	if tree == nil || tree.Root == nil {
		return nil
	}
	return checkNode(field, tree.Root)
}

func checkNode(field string, n parse.Node) error {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return nil
		}
		for _, c := range n.Nodes {
			if err := checkNode(field, c); err != nil {
				return err
			}
		}
		return nil
	case *parse.TextNode, *parse.CommentNode:
		return nil
	case *parse.ActionNode:
		return checkPipe(field, n.Pipe)
	case *parse.IfNode:
		return checkBranch(field, &n.BranchNode)
	case *parse.WithNode:
		return checkBranch(field, &n.BranchNode)
	case *parse.RangeNode:
		return errs.Invalid(field, "must not use range")
	case *parse.TemplateNode:
		return errs.Invalid(field, "must not use template or block")
	default:
		return errs.Invalid(field, "uses an action that is not allowed: %s", n)
	}
}

func checkBranch(field string, b *parse.BranchNode) error {
	if err := checkPipe(field, b.Pipe); err != nil {
		return err
	}
	if err := checkNode(field, b.List); err != nil {
		return err
	}
	if b.ElseList != nil {
		return checkNode(field, b.ElseList)
	}
	return nil
}

func checkPipe(field string, p *parse.PipeNode) error {
	if p == nil {
		return nil
	}
	for _, cmd := range p.Cmds {
		for _, arg := range cmd.Args {
			if err := checkArg(field, arg); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkArg(field string, n parse.Node) error {
	switch n := n.(type) {
	case *parse.FieldNode, *parse.VariableNode, *parse.DotNode, *parse.NilNode,
		*parse.BoolNode, *parse.StringNode, *parse.NumberNode:
		return nil
	case *parse.IdentifierNode:
		if !allowedFuncs[n.Ident] {
			return errs.Invalid(field, "must not call %s", n.Ident)
		}
		return nil
	case *parse.PipeNode:
		return checkPipe(field, n)
	case *parse.ChainNode:
		return checkArg(field, n.Node)
	default:
		return errs.Invalid(field, "uses an expression that is not allowed: %s", n)
	}
}
