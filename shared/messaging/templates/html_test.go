package templates

import (
	"errors"
	"strings"
	"testing"

	"github.com/wardhq/ward/shared/errs"
)

func htmlData() map[string]any {
	return map[string]any{
		"V":     `<b a="1" b='2'>&+` + "\x00",
		"Plain": "hello",
		"URL":   "https://ex.example/a b?q=1&r=(2)",
		"JS":    "javascript:alert(1)",
		"Rel":   "/path/x",
		"Q":     "a&b=c d#e",
		"T":     true,
		"F":     false,
	}
}

func checkHTML(src string) error {
	return Check(Template{Subject: "s", Text: "t", HTML: src})
}

// In the contexts where actions are allowed, the output is exactly
// html/template's.
func TestHTMLAllowedContextsMatchHTMLTemplate(t *testing.T) {
	tests := []string{
		`<p>{{.V}}</p>`,
		`{{.V}}`,
		`<title>{{.V}}</title>`,
		`<textarea>{{.V}}</textarea>`,
		`<p title="{{.V}}">x</p>`,
		`<p title='{{.V}}'>x</p>`,
		`<p class="a {{.Plain}} b" id='{{.Plain}}'>x</p>`,
		`<a href="{{.URL}}">x</a>`,
		`<a href='{{.URL}}'>x</a>`,
		`<a href="{{.Rel}}">x</a>`,
		`<a href="https://ex.example/p?q={{.Q}}">x</a>`,
		`<a href="/r/{{.Plain}}?x={{.Q}}">x</a>`,
		`<img src="{{.URL}}" alt="{{.V}}">`,
		`<form action="{{.Rel}}"><button formaction="{{.URL}}">b</button></form>`,
		`<a HREF="{{.URL}}">x</a>`,
		`<a xlink:href="{{.URL}}">x</a>`,
		`<a data-href="{{.URL}}">x</a>`,
		`<a href="{{.JS}}">x</a>`,
		`<img src='{{.JS}}'>`,
		`<a href="mailto:{{.Plain}}@ex.example">x</a>`,
		`<p>{{if .T}}<a href="{{.URL}}">y</a>{{else}}<i>{{.V}}</i>{{end}}</p>`,
		`<a {{if .T}}class="on"{{end}} href="{{.Rel}}">x</a>`,
		`<a class="{{if .T}}on{{else}}off{{end}}">x</a>`,
		`<!-- note --><p>{{.V}}</p>`,
		`<!DOCTYPE html><p>{{.V}}</p>`,
		`<script>var a = 1;</script><p>{{.V}}</p>`,
		`<style>p { color: red }</style>{{.V}}`,
		`<title>a</TITLE >{{.V}}`,
		`1 < 2 and {{.V}}`,
		`<p title="a>b">{{.V}}</p>`,
		`<br/><p>{{.V}}</p>`,
		`a <<b>{{.V}}</b> <3 <!-- x --> y <!-- <a href="x"> --> z`,
		`<p>{{if .T}}<!-- a -->{{else}}b{{end}}{{.V}}</p>`,
		`<input value="{{.V}}" disabled>`,
	}
	for _, src := range tests {
		t.Run(src, func(t *testing.T) {
			if err := checkHTML(src); err != nil {
				t.Fatalf("Check: %v", err)
			}
			want, wantErr := runHTMLTemplate(t, src, htmlData())
			got, err := runOursHTML(t, src, htmlData())
			if err != nil || wantErr != nil {
				t.Fatalf("errors: ours %v, html/template's %v", err, wantErr)
			}
			if got != want {
				t.Errorf("got\n%s\nhtml/template writes\n%s", got, want)
			}
		})
	}
}

func TestHTMLRefusedContexts(t *testing.T) {
	tests := []struct{ name, src, why string }{
		{"a tag name", `<{{.V}}>`, "tag name"},
		{"the rest of a tag name", `<p{{.V}}>`, "tag name"},
		{"an end tag name", `</{{.V}}>`, "tag name"},
		{"between attributes", `<p {{.V}}>`, "attribute name"},
		{"an attribute name", `<p a{{.V}}="x">`, "attribute name"},
		{"after an attribute name", `<p a {{.V}}>`, "attribute name"},
		{"an unquoted value", `<p title={{.V}}>`, "unquoted"},
		{"inside an unquoted value", `<p title=a{{.V}}>`, "unquoted"},
		{"an unquoted URL", `<a href={{.V}}>`, "unquoted"},
		{"an event handler", `<a onclick="{{.V}}">`, "event handler"},
		{"an event handler in capitals", `<a ONMouseOver='{{.V}}'>`, "event handler"},
		{"a style attribute", `<p style="color: {{.V}}">`, "style"},
		{"srcset", `<img srcset="{{.V}}">`, "srcset"},
		{"srcdoc", `<iframe srcdoc="{{.V}}"></iframe>`, "srcset"},
		{"a script", `<script>var a = "{{.V}}";</script>`, "<script>"},
		{"a script with attributes", `<script type="text/javascript">{{.V}}</script>`,
			"<script>"},
		{"a style element", `<style>p { color: {{.V}} }</style>`, "<style>"},
		{"an iframe", `<iframe>{{.V}}</iframe>`, "<iframe>"},
		{"a comment", `<!-- {{.V}} -->`, "comment"},
		{"a comment's end", `<!-- a -{{.V}}-->`, "comment"},
		{"a declaration", `<!DOCTYPE {{.V}}>`, "declaration"},
		{"an if in a script", `<script>{{if .T}}a{{end}}</script>`, "<script>"},
		{"an if in a tag name", `<p{{if .T}}x{{end}}>`, "tag name"},
		{"branches in different contexts", `{{if .T}}<a href="{{else}}<b>{{end}}x`,
			"different"},
		{"branches in different attributes", `<a {{if .T}}title="{{else}}href="{{end}}x">`,
			"different"},
		{"a bare attribute from an if", `<input {{if .T}}checked{{end}}>`, "different"},
		{"ending inside a tag", `<p title="x`, "must not end"},
		{"ending inside a script", `<script>a`, "must not end"},
		{"ending inside a comment", `<!-- a`, "must not end"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkHTML(tt.src)
			if errs.CodeOf(err) != errs.InvalidArgument {
				t.Fatalf("Check(%q) = %v, want invalid argument", tt.src, err)
			}
			var e *errs.Error
			if !errorsAs(err, &e) || e.Field != "HTML" || !strings.Contains(e.Message, tt.why) {
				t.Errorf("Check(%q) = %v, want field HTML and a message with %q", tt.src, err,
					tt.why)
			}
		})
	}
}

// Actions that write nothing may stand anywhere.
func TestHTMLDeclarationsAnywhere(t *testing.T) {
	src := `<script>{{$x := .Plain}}var a;</script><p>{{$x}}</p>`
	if err := checkHTML(src); err != nil {
		t.Fatalf("Check: %v", err)
	}
	got, err := runOursHTML(t, src, htmlData())
	if want := "<script>var a;</script><p>hello</p>"; err != nil || got != want {
		t.Errorf("got %q, %v; want %q", got, err, want)
	}
}

func TestHTMLURLFilter(t *testing.T) {
	tests := []struct {
		name, src, url, want string
	}{
		{"https", `<a href="{{.U}}">`, "https://ex.example/", `<a href="https://ex.example/">`},
		{"http", `<a href="{{.U}}">`, "HTTP://ex.example/", `<a href="HTTP://ex.example/">`},
		{"mailto", `<a href="{{.U}}">`, "mailto:a@ex.example", `<a href="mailto:a@ex.example">`},
		{"relative", `<a href="{{.U}}">`, "a/b:c", `<a href="a/b:c">`},
		{"protocol-relative", `<a href="{{.U}}">`, "//ex.example/", `<a href="//ex.example/">`},
		{"a fragment", `<a href="{{.U}}">`, "#top", `<a href="#top">`},
		{"javascript", `<a href="{{.U}}">`, "javascript:alert(1)", `<a href="#ZgotmplZ">`},
		{"javascript in capitals", `<a href="{{.U}}">`, "JavaScript:x", `<a href="#ZgotmplZ">`},
		{"data", `<img src="{{.U}}">`, "data:text/html,x", `<img src="#ZgotmplZ">`},
		{"vbscript", `<a href="{{.U}}">`, "vbscript:x", `<a href="#ZgotmplZ">`},
		{"leading space", `<a href="{{.U}}">`, " javascript:x", `<a href="#ZgotmplZ">`},
		{"a tab in the scheme", `<a href="{{.U}}">`, "java\tscript:x", `<a href="#ZgotmplZ">`},
		{"a newline in the scheme", `<a href="{{.U}}">`, "java\nscript:x",
			`<a href="#ZgotmplZ">`},
		{"the scheme in the literal text", `<a href="javascript:{{.U}}">`, "alert(1)",
			`<a href="#ZgotmplZ">`},
		{"the scheme as an entity in the text", `<a href="jav&#97;script:{{.U}}">`, "x",
			`<a href="#ZgotmplZ">`},
		{"the scheme split over two values", `<a href="{{.U}}{{.V}}">`, "java",
			`<a href="#ZgotmplZ">`},
		{"a safe literal prefix", `<a href="https://ex.example/{{.U}}">`, "javascript:x",
			`<a href="https://ex.example/javascript:x">`},
		{"a query value cannot add a parameter", `<a href="/p?a={{.U}}">`, "1&b=2",
			`<a href="/p?a=1%26b%3d2">`},
		{"a literal URL without actions is the author's", `<a href="javascript:void(0)">`, "",
			`<a href="javascript:void(0)">`},
		{"a quote cannot end the value", `<a href="{{.U}}">`, `/x" onclick="y`,
			`<a href="/x%22%20onclick=%22y">`},
		{"only the bad attribute is replaced", `<a title="{{.U}}" href="{{.U}}">`,
			"javascript:x", `<a title="javascript:x" href="#ZgotmplZ">`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := runOursHTML(t, tt.src, map[string]any{"U": tt.url, "V": "script:x"})
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestSafeURL(t *testing.T) {
	for u, want := range map[string]bool{
		"": true, "x": true, "/a:b": true, "?a:b": true, "#a:b": true, "https:": true,
		"MAILTO:x": true, "\x01javascript:x": false, "ftp://x": false, "file:///etc": false,
		"java script:x": false, "tel:1": false,
	} {
		if got := safeURL(u); got != want {
			t.Errorf("safeURL(%q) = %v, want %v", u, got, want)
		}
	}
}

func TestEscapeHTML(t *testing.T) {
	got := escapeHTML("a\x00\"&'+<>é")
	if want := "a\uFFFD&#34;&amp;&#39;&#43;&lt;&gt;é"; got != want {
		t.Errorf("escapeHTML = %q, want %q", got, want)
	}
}

// The output limit counts escaped bytes.
func TestHTMLOutputLimitCountsEscapes(t *testing.T) {
	tree, err := parseTree("HTML", `<p>{{.V}}</p>`)
	if err != nil {
		t.Fatal(err)
	}
	nodes, err := compileHTML("HTML", tree.Root)
	if err != nil {
		t.Fatal(err)
	}
	p := &program{nodes: nodes}
	d := map[string]any{"V": "<<"}
	if got, err := p.execute(d, 15); err != nil || got != "<p>&lt;&lt;</p>" {
		t.Errorf("execute at the limit = %q, %v", got, err)
	}
	if _, err := p.execute(d, 14); !errors.Is(err, errTooLong) {
		t.Errorf("execute past the limit = %v, want errTooLong", err)
	}
}

// FuzzHTMLContext checks that the scanner never panics and that whatever
// it admits, escapes values so that none can open a tag or an attribute.
func FuzzHTMLContext(f *testing.F) {
	for _, s := range []string{`<p>{{.V}}</p>`, `<a href="{{.V}}">`, `<a {{if .T}}b="1"{{end}}>`,
		`<title>{{.V}}</title>`, `<!-- x -->{{.V}}`, `<p title='{{.V}}'>`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		tree, err := parseTree("HTML", src)
		if err != nil {
			return
		}
		nodes, err := compileHTML("HTML", tree.Root)
		if err != nil {
			if errs.CodeOf(err) != errs.InvalidArgument {
				t.Fatalf("compileHTML error %v is not invalid argument", err)
			}
			return
		}
		p := &program{nodes: nodes}
		const marker = `<x y="'z`
		got, err := p.execute(map[string]any{"V": marker, "T": true}, 1<<20)
		if err == nil && strings.Contains(got, marker) {
			t.Fatalf("%q wrote a value unescaped: %q", src, got)
		}
	})
}

func errorsAs(err error, target **errs.Error) bool { return errors.As(err, target) }
