package templates

import (
	"errors"
	htmltemplate "html/template"
	"io/fs"
	"strings"
	"testing"
	texttemplate "text/template"

	"github.com/wardhq/ward/shared/errs"
)

// The evaluator must mean what text/template means. These tests run the
// same templates through both (text/template is linked into the test
// binary only) and compare output and failure.

// evalData is JSON-like data with every type the evaluator claims to
// handle.
func evalData() map[string]any {
	return map[string]any{
		"S": "Ada", "Empty": "", "T": true, "F": false, "I": 3, "Zero": 0, "Neg": -2,
		"U": uint8(7), "I64": int64(1) << 40, "Fl": 2.5, "FlInt": 15.0, "FlZero": 0.0,
		"Nil": nil, "Sl": []any{1, "a"}, "EmptySl": []any{},
		"M":        map[string]any{"K": "v", "N": map[string]any{"Deep": 42}, "Nil": nil},
		"EmptyM":   map[string]any{},
		"SM":       map[string]string{"K": "sv"},
		"Special":  `<a href="x">&'+` + "\x00",
		"MultiKey": map[string]any{"A": 1, "B": "two"},
	}
}

var evalCases = []string{
	// fields, dot, variables
	`{{.S}}`, `{{.I}} {{.Neg}} {{.U}} {{.I64}} {{.Fl}} {{.FlInt}} {{.FlZero}}`,
	`{{.T}} {{.F}}`, `{{.M.K}}`, `{{.M.N.Deep}}`, `{{.SM.K}}`, `{{.Sl}}`, `{{.EmptySl}}`,
	`{{.EmptyM}}`, `{{.M.N}}`, `{{.Special}}`,
	`{{$x := .S}}{{$x}}`, `{{$x := .M}}{{$x.K}} {{$x.N.Deep}}`, `{{$.S}}`, `{{$}}`,
	`{{$x := 1}}{{if .T}}{{$x = 2}}{{end}}{{$x}}`,
	`{{$x := 1}}{{if .T}}{{$x := 2}}{{$x}}{{end}}{{$x}}`,
	`{{with .M}}{{$y := .K}}{{$y}}{{end}}`,
	`{{(.M).K}}`, `{{(.M.N).Deep}}`,
	// literals
	`{{"lit"}} {{1}} {{1.5}} {{1e3}} {{0x10}} {{'a'}} {{true}} {{-3}}`,
	// if, else, with
	`{{if .T}}y{{else}}n{{end}}`, `{{if .F}}y{{else}}n{{end}}`, `{{if .Empty}}y{{else}}n{{end}}`,
	`{{if .Zero}}y{{else}}n{{end}}`, `{{if .FlZero}}y{{else}}n{{end}}`, `{{if .Nil}}y{{end}}`,
	`{{if .EmptySl}}y{{else}}n{{end}}`, `{{if .EmptyM}}y{{else}}n{{end}}`,
	`{{if .Sl}}y{{end}}`, `{{if .M}}y{{end}}`, `{{if .U}}y{{end}}`,
	`{{if .F}}a{{else if .T}}b{{else}}c{{end}}`,
	`{{with .S}}{{.}}{{end}}`, `{{with .Empty}}x{{else}}none{{end}}`,
	`{{with .M}}{{.K}}{{with .N}}{{.Deep}}{{end}}{{end}}`,
	`{{with .F}}x{{else with .S}}{{.}}{{end}}`,
	`{{with $x := .M}}{{$x.K}}{{end}}`,
	// functions
	`{{and .T .S}} {{and .T .F .S}} {{and .Empty .S}} {{or .F .Empty}} {{or .F .S}}`,
	`{{not .T}} {{not .Empty}} {{not .Nil}}`,
	`{{len .S}} {{len .Sl}} {{len .M}} {{len .EmptySl}} {{len "héllo"}}`,
	`{{eq .S "Ada"}} {{eq .S "Bob" "Ada"}} {{eq .I 3}} {{eq .U 7}} {{eq .I .U}} {{eq .Fl 2.5}}`,
	`{{eq .T true}} {{eq .FlInt 15.0}} {{ne .S "x"}} {{ne .I 3}} {{eq .Nil nil}}`,
	`{{eq .S nil}} {{eq .Neg .U}} {{eq .U .Neg}}`,
	`{{lt .I 4}} {{le .I 3}} {{gt .I 3}} {{ge .I 3}} {{lt "a" "b"}} {{lt .Fl 3.0}}`,
	`{{lt .Neg .U}} {{lt .U .Neg}} {{gt .S "A"}} {{ge .Fl 2.5}} {{le 2 1}}`,
	`{{.S | len}} {{.T | not}} {{.S | eq "Ada"}} {{3 | lt 2}}`,
	`{{if and (eq .S "Ada") (gt .I 1)}}both{{end}}`,
	`{{if or .Nil (not .F)}}x{{end}}`, `{{and .F .Missing}}`, `{{or .T .Missing}}`,
	// whitespace trimming and comments
	"a  {{- .S -}}  b {{/* note */}} c\n{{- .I}}",
	// errors: missing keys, bad types, bad calls
	`{{.Missing}}`, `{{.M.Missing}}`, `{{.M.Nil.X}}`, `{{.S.X}}`, `{{.Nil.X}}`,
	`{{with .M}}{{.Missing}}{{end}}`, `{{eq .I .Fl}}`, `{{eq .I "3"}}`, `{{lt .T .F}}`,
	`{{lt .S 1}}`, `{{lt .Nil 1}}`, `{{eq .M .M}}`, `{{eq .Sl 1}}`, `{{len .I}}`,
	`{{len .Nil}}`, `{{eq .S}}`, `{{not}}`, `{{not 1 2}}`, `{{lt 1}}`, `{{and}}`,
	`{{nil}}`, `{{.S 1}}`, `{{1 | .S}}`, `{{$x := .S}}{{$x 1}}`, `{{"a" 1}}`,
	`{{(nil).X}}`, `{{if .Missing}}x{{end}}`, `{{len .M.Missing}}`,
	`{{18446744073709551615}}`,
}

func TestEvaluatorMatchesTextTemplate(t *testing.T) {
	for _, src := range evalCases {
		t.Run(src, func(t *testing.T) {
			want, wantErr := runTextTemplate(t, src, evalData())
			got, gotErr := runOurs(t, src, evalData())
			if (wantErr != nil) != (gotErr != nil) {
				t.Fatalf("error = %v, text/template's = %v", gotErr, wantErr)
			}
			// text/template writes as it goes; on an error only ours is empty.
			if wantErr == nil && got != want {
				t.Errorf("got %q, text/template writes %q", got, want)
			}
		})
	}
}

// A nil value prints nothing, where text/template prints "<no value>".
func TestNilPrintsNothing(t *testing.T) {
	for _, src := range []string{`[{{.Nil}}]`, `[{{.M.Nil}}]`, `[{{$x := .Nil}}{{$x}}]`} {
		got, err := runOurs(t, src, evalData())
		if err != nil || got != "[]" {
			t.Errorf("%s = %q, %v; want \"[]\"", src, got, err)
		}
	}
}

func TestNilDataIsMissing(t *testing.T) {
	if _, err := runOurs(t, `{{.A}}`, nil); err == nil {
		t.Errorf("a key read from nil data is not an error")
	}
	got, err := runOurs(t, `{{if $}}y{{else}}n{{end}}`, nil)
	if err != nil || got != "n" {
		t.Errorf("if on nil data = %q, %v", got, err)
	}
}

// The evaluator reads fields from maps only: a struct is an error.
func TestStructFieldIsAnError(t *testing.T) {
	d := map[string]any{"P": struct{ X string }{"x"}}
	if _, err := runOurs(t, `{{.P.X}}`, d); err == nil {
		t.Errorf("a struct field was read")
	}
}

func TestOutputLimitCountsEveryByte(t *testing.T) {
	tree, err := parseTree("Text", `ab{{.S}}cd`)
	if err != nil {
		t.Fatal(err)
	}
	p := &program{nodes: compileText(tree.Root)}
	d := map[string]any{"S": "xyz"}
	if out, err := p.execute(d, 7); err != nil || out != "abxyzcd" {
		t.Errorf("execute at the limit = %q, %v", out, err)
	}
	if _, err := p.execute(d, 6); !errors.Is(err, errTooLong) {
		t.Errorf("execute past the limit = %v, want errTooLong", err)
	}
}

// Every default template, text and HTML, renders exactly as text/template
// and html/template rendered it.
func TestDefaultsMatchStandardTemplates(t *testing.T) {
	d := map[string]any{
		"AppName":      `Acme & "Co" <b>'+'</b>`,
		"Link":         "https://id.acme.example/verify?t=abc&u=1 2",
		"Code":         "493021",
		"InviterName":  "Grace O'Neil",
		"ValidMinutes": 15,
	}
	files, err := fs.Glob(defaultFS, "defaults/*/*")
	if err != nil || len(files) == 0 {
		t.Fatalf("no defaults: %v", err)
	}
	for _, f := range files {
		src, err := fs.ReadFile(defaultFS, f)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(f, func(t *testing.T) {
			var want string
			var wantErr error
			var got string
			var gotErr error
			if strings.HasSuffix(f, ".html") {
				want, wantErr = runHTMLTemplate(t, string(src), d)
				got, gotErr = runOursHTML(t, string(src), d)
			} else {
				want, wantErr = runTextTemplate(t, string(src), d)
				got, gotErr = runOurs(t, string(src), d)
			}
			if wantErr != nil || gotErr != nil {
				t.Fatalf("errors: ours %v, standard %v", gotErr, wantErr)
			}
			if got != want {
				t.Errorf("got\n%s\nthe standard package writes\n%s", got, want)
			}
		})
	}
}

func runOurs(t *testing.T, src string, d map[string]any) (string, error) {
	t.Helper()
	tree, err := parseTree("Text", src)
	if err != nil {
		t.Fatalf("parseTree(%q): %v", src, err)
	}
	p := &program{nodes: compileText(tree.Root)}
	return p.execute(d, 1<<20)
}

func runOursHTML(t *testing.T, src string, d map[string]any) (string, error) {
	t.Helper()
	tree, err := parseTree("HTML", src)
	if err != nil {
		t.Fatalf("parseTree(%q): %v", src, err)
	}
	nodes, err := compileHTML("HTML", tree.Root)
	if err != nil {
		t.Fatalf("compileHTML(%q): %v", src, err)
	}
	p := &program{nodes: nodes}
	return p.execute(d, 1<<20)
}

func runTextTemplate(t *testing.T, src string, d map[string]any) (string, error) {
	t.Helper()
	tt, err := texttemplate.New("x").Option("missingkey=error").Parse(src)
	if err != nil {
		t.Fatalf("text/template cannot parse %q: %v", src, err)
	}
	var b strings.Builder
	err = tt.Execute(&b, d)
	return b.String(), err
}

func runHTMLTemplate(t *testing.T, src string, d map[string]any) (string, error) {
	t.Helper()
	ht, err := htmltemplate.New("x").Option("missingkey=error").Parse(src)
	if err != nil {
		t.Fatalf("html/template cannot parse %q: %v", src, err)
	}
	var b strings.Builder
	err = ht.Execute(&b, d)
	return b.String(), err
}

// FuzzEvaluator compares the evaluator with text/template on templates
// that Check admits.
func FuzzEvaluator(f *testing.F) {
	for _, src := range evalCases {
		f.Add(src)
	}
	f.Fuzz(func(t *testing.T, src string) {
		tree, err := parseTree("Text", src)
		if err != nil {
			if errs.CodeOf(err) != errs.InvalidArgument {
				t.Fatalf("parseTree error %v is not invalid argument", err)
			}
			return
		}
		tt, err := texttemplate.New("Text").Option("missingkey=error").Parse(src)
		if err != nil {
			t.Fatalf("Check admits %q, which text/template cannot parse: %v", src, err)
		}
		var b strings.Builder
		wantErr := tt.Execute(&b, evalData())
		want := b.String()
		p := &program{nodes: compileText(tree.Root)}
		got, gotErr := p.execute(evalData(), 1<<20)
		if (wantErr != nil) != (gotErr != nil) {
			t.Fatalf("%q: error = %v, text/template's = %v", src, gotErr, wantErr)
		}
		// text/template writes as it goes; on an error only ours is empty.
		if wantErr == nil && got != strings.ReplaceAll(want, "<no value>", "") {
			t.Fatalf("%q: got %q, text/template writes %q", src, got, want)
		}
	})
}
