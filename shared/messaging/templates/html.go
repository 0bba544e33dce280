package templates

import (
	"html"
	"strings"
	"text/template/parse"

	"github.com/wardhq/ward/shared/errs"
)

// HTML bodies are escaped by context, in a deliberately small version of
// what html/template does. When an HTML template is compiled, a scanner
// follows the HTML context through its text, byte by byte, and an action
// may stand in only two places:
//
//   - element text, including the text of <title> and <textarea>, where
//     its value is escaped as text;
//   - the quoted value of an ordinary attribute, where its value is
//     escaped for the attribute. In a URL attribute (href, src, action and
//     the others of attrKinds) the value is also percent-encoded as
//     html/template encodes it, and when the attribute ends, its whole
//     value, literal text included, must start with http:, https: or
//     mailto:, or have no scheme; otherwise the value becomes "#ZgotmplZ",
//     as html/template writes it.
//
// An action anywhere else is refused when the template is checked: in a
// tag or attribute name, an unquoted attribute value, an on* event
// handler, a style, srcset or srcdoc attribute, in <script>, <style> and
// the other raw-text elements, in an HTML comment or <!...> declaration.
// {{if}} and {{with}} may also stand between attributes, and their
// branches must end in the same context. A template must end in element
// text.
//
// As html/template does, HTML comments are left out of the output, and a
// "<" in text that opens no tag is written "&lt;".
//
// Known shortcomings, refusals or cosmetic differences rather than holes:
// an {{if}} that adds a bare attribute (<input {{if .X}}checked{{end}}>)
// is refused because its branches end in different contexts, where
// html/template accepts it; a "<" in <title> or <textarea> text, or one
// that starts <!x> or <?x>, is written as it stands where html/template
// writes "&lt;"; a value in a URL attribute is checked as a whole when
// the attribute ends, where html/template checks the value that starts
// the URL.

// hstate is where in HTML the scanner is.
type hstate uint8

const (
	stText          hstate = iota // element text
	stLT                          // after "<"
	stMarkup                      // after "<!"
	stMarkupDash                  // after "<!-"
	stBogus                       // in <!...> or <?...>, up to ">"
	stComment                     // in <!-- -->
	stTagName                     // in a tag's name
	stTag                         // in a tag, between attributes
	stAttrName                    // in an attribute's name
	stAfterAttrName               // after an attribute's name, before "=" if any
	stBeforeValue                 // after "="
	stAttrValue                   // in a quoted attribute value
	stUnquoted                    // in an unquoted attribute value
	stRawText                     // in <script>, <style>, ...: up to its end tag
	stRCDATA                      // in <title> or <textarea>: text up to its end tag
)

// attrKind is what an attribute holds.
type attrKind uint8

const (
	attrPlain   attrKind = iota
	attrURL              // a URL: filtered at render time
	attrEvent            // on*: script
	attrStyle            // CSS
	attrRefused          // srcset, srcdoc: not supported
)

// hcontext is the scanner's state. It is comparable: two branches join
// only if they end in equal contexts, so every field not needed in a
// state is kept zero.
type hcontext struct {
	state hstate
	// elem is the tag being read (lower case), or the raw-text or RCDATA
	// element whose end tag is awaited.
	elem   string
	endTag bool     // the tag being read is an end tag
	name   string   // the attribute name being read, lower case
	attr   attrKind // of the attribute whose value is being read
	quote  byte     // that ends the attribute value
	n      int      // dashes seen in a comment; bytes of "</elem" seen in raw text
}

// rawTextElems hold text that is not HTML, up to their end tag.
var rawTextElems = map[string]bool{
	"script": true, "style": true, "xmp": true, "iframe": true, "noembed": true,
	"noframes": true, "plaintext": true,
}

// urlAttrs hold URLs (after any "xlink:" or "data-" prefix).
var urlAttrs = map[string]bool{
	"action": true, "archive": true, "background": true, "cite": true, "classid": true,
	"codebase": true, "data": true, "formaction": true, "href": true, "icon": true,
	"longdesc": true, "manifest": true, "poster": true, "profile": true, "src": true,
	"usemap": true, "xmlns": true, "ping": true, "lowsrc": true, "dynsrc": true,
}

// attrKindOf classifies an attribute by its lower-case name.
func attrKindOf(name string) attrKind {
	if strings.HasPrefix(name, "on") {
		return attrEvent
	}
	if i := strings.IndexByte(name, ':'); i >= 0 {
		if name[:i] == "xmlns" {
			return attrURL
		}
		name = name[i+1:]
	}
	name = strings.TrimPrefix(name, "data-")
	switch {
	case name == "style":
		return attrStyle
	case name == "srcset" || name == "srcdoc":
		return attrRefused
	case urlAttrs[name], strings.Contains(name, "src"), strings.Contains(name, "uri"),
		strings.Contains(name, "url"):
		return attrURL
	}
	return attrPlain
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'
}

func isLetter(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// afterTag is the context after the ">" that ends the tag of c.
func afterTag(c hcontext) hcontext {
	switch {
	case c.endTag:
		return hcontext{}
	case rawTextElems[c.elem]:
		return hcontext{state: stRawText, elem: c.elem}
	case c.elem == "title" || c.elem == "textarea":
		return hcontext{state: stRCDATA, elem: c.elem}
	}
	return hcontext{}
}

// step moves c past one byte b. urlEdge reports that b opened or closed a
// URL attribute's value: the opening quote is the last byte before the
// value, the closing quote the first after it.
func step(c hcontext, b byte) (next hcontext, urlEdge bool) {
	switch c.state {
	case stText:
		if b == '<' {
			return hcontext{state: stLT}, false
		}
	case stLT:
		switch {
		case b == '/':
			return hcontext{state: stTagName, endTag: true}, false
		case isLetter(b):
			return hcontext{state: stTagName, elem: string(lower(b))}, false
		case b == '!':
			return hcontext{state: stMarkup}, false
		case b == '?':
			return hcontext{state: stBogus}, false
		}
		return step(hcontext{}, b) // the "<" was text
	case stMarkup:
		if b == '-' {
			return hcontext{state: stMarkupDash}, false
		}
		return step(hcontext{state: stBogus}, b)
	case stMarkupDash:
		if b == '-' {
			return hcontext{state: stComment}, false
		}
		return step(hcontext{state: stBogus}, b)
	case stBogus:
		if b == '>' {
			return hcontext{}, false
		}
	case stComment:
		switch {
		case b == '>' && c.n >= 2:
			return hcontext{}, false
		case b == '-':
			c.n = min(c.n+1, 2)
		default:
			c.n = 0
		}
	case stTagName:
		switch {
		case c.elem == "" && c.endTag && !isLetter(b):
			if b == '>' {
				return hcontext{}, false // "</>" is ignored
			}
			return step(hcontext{state: stBogus}, b)
		case isSpace(b) || b == '/':
			c.state = stTag
		case b == '>':
			return afterTag(c), false
		default:
			c.elem += string(lower(b))
		}
	case stTag:
		switch {
		case isSpace(b) || b == '/':
		case b == '>':
			return afterTag(c), false
		default:
			c.state, c.name = stAttrName, string(lower(b))
		}
	case stAttrName:
		switch {
		case isSpace(b):
			c.state = stAfterAttrName
		case b == '=':
			c.state, c.attr, c.name = stBeforeValue, attrKindOf(c.name), ""
		case b == '/':
			c.state, c.name = stTag, ""
		case b == '>':
			return afterTag(c), false
		default:
			c.name += string(lower(b))
		}
	case stAfterAttrName:
		switch {
		case isSpace(b):
		case b == '=':
			c.state, c.attr, c.name = stBeforeValue, attrKindOf(c.name), ""
		case b == '/':
			c.state, c.name = stTag, ""
		case b == '>':
			return afterTag(c), false
		default:
			c.state, c.name = stAttrName, string(lower(b))
		}
	case stBeforeValue:
		switch {
		case isSpace(b):
		case b == '"' || b == '\'':
			c.state, c.quote = stAttrValue, b
			return c, c.attr == attrURL
		case b == '>':
			return afterTag(c), false
		default:
			c.state = stUnquoted
		}
	case stAttrValue:
		if b == c.quote {
			edge := c.attr == attrURL
			c.state, c.attr, c.quote = stTag, attrPlain, 0
			return c, edge
		}
	case stUnquoted:
		switch {
		case isSpace(b):
			c.state, c.attr = stTag, attrPlain
		case b == '>':
			return afterTag(c), false
		}
	case stRawText, stRCDATA:
		return stepEndTag(c, b), false
	}
	return c, false
}

// stepEndTag looks for "</elem" followed by a space, "/" or ">" in the
// text of a raw-text or RCDATA element.
func stepEndTag(c hcontext, b byte) hcontext {
	want := "</" + c.elem
	switch {
	case c.n == len(want) && (isSpace(b) || b == '/' || b == '>'):
		end := hcontext{state: stTag, elem: c.elem, endTag: true}
		if b == '>' {
			return hcontext{}
		}
		return end
	case c.n < len(want) && lower(b) == want[c.n]:
		c.n++
	case b == '<':
		c.n = 1
	default:
		c.n = 0
	}
	return c
}

// refusal says why an action may not stand in c, or "" if it may.
func refusal(c hcontext) string {
	switch c.state {
	case stText, stRCDATA:
		return ""
	case stAttrValue:
		switch c.attr {
		case attrEvent:
			return "in an event handler (on*) attribute"
		case attrStyle:
			return "in a style attribute"
		case attrRefused:
			return "in a srcset or srcdoc attribute"
		}
		return ""
	case stLT, stTagName:
		return "in a tag name"
	case stTag, stAttrName, stAfterAttrName:
		return "in an attribute name"
	case stBeforeValue, stUnquoted:
		return "in an unquoted attribute value"
	case stRawText:
		return "in a <" + c.elem + "> element"
	case stComment, stMarkup, stMarkupDash:
		return "in an HTML comment"
	case stBogus:
		return "in a <! or <? declaration"
	}
	return "in an unknown context"
}

// htmlCompiler turns an HTML tree into a program, following the context.
type htmlCompiler struct {
	field string
}

// compileHTML compiles a checked tree of the HTML part.
func compileHTML(field string, list *parse.ListNode) ([]node, error) {
	hc := htmlCompiler{field: field}
	nodes, c, err := hc.list(list, hcontext{})
	if err != nil {
		return nil, err
	}
	if c.state != stText {
		return nil, errs.Invalid(field, "must not end inside a tag, an attribute, a comment "+
			"or an element such as <script> or <title>")
	}
	return nodes, nil
}

func (hc *htmlCompiler) list(list *parse.ListNode, c hcontext) ([]node, hcontext, error) {
	if list == nil {
		return nil, c, nil
	}
	var out []node
	for _, n := range list.Nodes {
		switch n := n.(type) {
		case *parse.TextNode:
			out, c = hc.text(out, string(n.Text), c)
		case *parse.ActionNode:
			if len(n.Pipe.Decl) > 0 {
				// A declaration writes nothing, wherever it stands.
				out = append(out, node{kind: nodeAction, pipe: n.Pipe})
				continue
			}
			if why := refusal(c); why != "" {
				return nil, c, hc.refuse(n, why)
			}
			esc := escHTML
			if c.state == stAttrValue && c.attr == attrURL {
				esc = escURL
			}
			out = append(out, node{kind: nodeAction, pipe: n.Pipe, esc: esc})
		case *parse.IfNode:
			b, c2, err := hc.branch(nodeIf, &n.BranchNode, c)
			if err != nil {
				return nil, c, err
			}
			out, c = append(out, b), c2
		case *parse.WithNode:
			b, c2, err := hc.branch(nodeWith, &n.BranchNode, c)
			if err != nil {
				return nil, c, err
			}
			out, c = append(out, b), c2
		}
	}
	return out, c, nil
}

func (hc *htmlCompiler) branch(kind nodeKind, b *parse.BranchNode, c hcontext) (
	node, hcontext, error) {
	name := "if"
	if kind == nodeWith {
		name = "with"
	}
	if why := refusal(c); why != "" && c.state != stTag {
		return node{}, c, hc.refuse(b, why)
	}
	then, c1, err := hc.list(b.List, c)
	if err != nil {
		return node{}, c, err
	}
	els, c2, err := hc.list(b.ElseList, c)
	if err != nil {
		return node{}, c, err
	}
	if c1 != c2 {
		return node{}, c, errs.Invalid(hc.field, "the branches of {{%s %s}} end in different "+
			"HTML contexts", name, b.Pipe)
	}
	return node{kind: kind, pipe: b.Pipe, list: then, elseList: els}, c1, nil
}

func (hc *htmlCompiler) refuse(n parse.Node, why string) error {
	return errs.Invalid(hc.field, "must not have an action %s: %s", why, n)
}

// text appends the nodes of text s, read from context c, and returns the
// context after it. A URL attribute's value gets markers around it. As
// html/template does, it leaves HTML comments out and writes a "<" that
// opens no tag as "&lt;".
func (hc *htmlCompiler) text(out []node, s string, c hcontext) ([]node, hcontext) {
	var buf []byte
	lt := -1 // where in buf the last "<" of this text stands
	flush := func() {
		if len(buf) > 0 {
			out = append(out, node{kind: nodeText, text: string(buf)})
			buf, lt = nil, -1
		}
	}
	for i := 0; i < len(s); i++ {
		prev := c.state
		var edge bool
		c, edge = step(c, s[i])
		switch {
		case prev == stComment:
			continue // in a comment, or its closing ">"
		case c.state == stComment:
			// "<!--" is recognised on its last byte: drop the rest.
			if lt >= 0 {
				buf = buf[:lt]
			}
			lt = -1
			continue
		case prev == stLT && (c.state == stText || c.state == stLT) && lt >= 0:
			buf = append(buf[:lt], "&lt;"...) // the "<" opened no tag
			lt = -1
		}
		if c.state == stLT {
			lt = len(buf)
		}
		buf = append(buf, s[i])
		if !edge {
			continue
		}
		// An opening quote belongs before the value, a closing one after.
		if prev == stAttrValue {
			buf = buf[:len(buf)-1]
			flush()
			out = append(out, node{kind: nodeURLEnd})
			buf = append(buf, s[i])
		} else {
			flush()
			out = append(out, node{kind: nodeURLStart})
		}
	}
	flush()
	return out, c
}

// escapeHTML escapes s for element text and quoted attribute values with
// html/template's table: the five HTML specials, "+", and NUL, which
// becomes U+FFFD.
func escapeHTML(s string) string {
	if !strings.ContainsAny(s, "\x00\"&'+<>") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case 0:
			b.WriteString("\uFFFD")
		case '"':
			b.WriteString("&#34;")
		case '&':
			b.WriteString("&amp;")
		case '\'':
			b.WriteString("&#39;")
		case '+':
			b.WriteString("&#43;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// urlValue encodes an action's value for where it lands in a URL
// attribute: in the query or fragment (after "?" or "#") every byte but
// letters, digits and "-._~" is percent-encoded, so a value cannot add a
// parameter; before that the value is only normalised: bytes that may not
// appear in a URL are percent-encoded, and so are "'", "(" and ")".
func (s *state) urlValue(v string) string {
	sofar := ""
	if s.urlStart >= 0 {
		sofar = html.UnescapeString(string(s.out[s.urlStart:]))
	}
	query := strings.ContainsAny(sofar, "?#")
	const hex = "0123456789abcdef"
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '-', c == '.', c == '_', c == '~':
		case !query && strings.IndexByte("!#$&*+,/:;=?@[]", c) >= 0:
		case !query && c == '%' && i+2 < len(v) && isHexDigit(v[i+1]) && isHexDigit(v[i+2]):
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

func isHexDigit(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// endURL closes a URL attribute's value: if an action wrote into it and
// the whole value, as a browser decodes it, has a scheme other than http,
// https or mailto, the value becomes "#ZgotmplZ".
func (s *state) endURL() error {
	start, dynamic := s.urlStart, s.urlDynamic
	s.urlStart, s.urlDynamic = -1, false
	if !dynamic || safeURL(html.UnescapeString(string(s.out[start:]))) {
		return nil
	}
	s.out = s.out[:start]
	return s.write("#ZgotmplZ")
}

// safeURL reports whether u is relative or an http, https or mailto URL.
// Like a browser, it ignores leading spaces and control characters and
// tabs and line breaks anywhere.
func safeURL(u string) bool {
	u = strings.TrimLeft(u, "\x00\x01\x02\x03\x04\x05\x06\x07\x08\t\n\v\f\r\x0e\x0f"+
		"\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f ")
	if strings.ContainsAny(u, "\t\n\r") {
		u = strings.Map(func(r rune) rune {
			if r == '\t' || r == '\n' || r == '\r' {
				return -1
			}
			return r
		}, u)
	}
	i := strings.IndexAny(u, ":/?#")
	if i < 0 || u[i] != ':' {
		return true // no scheme
	}
	switch strings.ToLower(u[:i]) {
	case "http", "https", "mailto":
		return true
	}
	return false
}
