package templates_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/messaging"
	"github.com/wardhq/ward/shared/messaging/messagingtest"
	"github.com/wardhq/ward/shared/messaging/templates"
)

const (
	tenant      = messagingtest.TenantID
	otherTenant = "01890a5d-ac96-774b-bcce-b302099a8058"
)

// data holds every value any default template reads.
func data() map[string]any {
	return map[string]any{
		"AppName":      "Acme",
		"Link":         "https://id.acme.example/verify?t=abc&u=1",
		"Code":         "493021",
		"InviterName":  "Grace",
		"ValidMinutes": 15,
	}
}

func renderer(t *testing.T, src templates.Source) *templates.Renderer {
	t.Helper()
	r, err := templates.New(src)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return r
}

func TestDefaultsRenderEveryKind(t *testing.T) {
	r := renderer(t, nil)
	for _, kind := range templates.Kinds() {
		for _, loc := range r.DefaultLocales(kind) {
			t.Run(string(kind)+"/"+string(loc), func(t *testing.T) {
				m, err := r.Render(t.Context(), tenant, kind, string(loc), data())
				if err != nil {
					t.Fatalf("Render: %v", err)
				}
				if m.Locale != loc || m.FromTenant || m.Kind != kind || m.TenantID != tenant {
					t.Errorf("Render = locale %q, tenant %v, kind %q, tenant ID %q", m.Locale,
						m.FromTenant, m.Kind, m.TenantID)
				}
				if !strings.Contains(m.Subject, "Acme") || !strings.Contains(m.Text, "Acme") ||
					!strings.Contains(m.HTML, "Acme") {
					t.Errorf("the app name is missing: %+v", m)
				}
				if !strings.Contains(m.HTML, `<html lang="`+string(loc)+`">`) {
					t.Errorf("the HTML does not declare its language %s", loc)
				}
				if err := m.Email("no-reply@acme.example", "ada@example.com").Validate(); err != nil {
					t.Errorf("the rendered message is not a valid email: %v", err)
				}
			})
		}
	}
}

func TestDefaultLocales(t *testing.T) {
	r := renderer(t, nil)
	want := []messaging.Locale{"de", "en", "fr"}
	if diff := cmp.Diff(want, r.DefaultLocales(messaging.KindVerifyEmail)); diff != "" {
		t.Errorf("verify-email locales (-want +got):\n%s", diff)
	}
	for _, kind := range templates.Kinds() {
		if locs := r.DefaultLocales(kind); len(locs) == 0 || !contains(locs, "en") {
			t.Errorf("%s has no English default: %v", kind, locs)
		}
	}
}

func contains(ls []messaging.Locale, l messaging.Locale) bool {
	for _, x := range ls {
		if x == l {
			return true
		}
	}
	return false
}

func TestDefaultContent(t *testing.T) {
	r := renderer(t, nil)
	m, err := r.Render(t.Context(), tenant, messaging.KindOTPCode, "en", data())
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != "Your Acme code: 493021" {
		t.Errorf("Subject = %q", m.Subject)
	}
	if !strings.HasPrefix(m.Text, "Your Acme code is 493021\n") ||
		!strings.Contains(m.Text, "15 minutes") {
		t.Errorf("Text = %q", m.Text)
	}

	m, err = r.Render(t.Context(), tenant, messaging.KindVerifyEmail, "de", data())
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != "Bestätigen Sie Ihre E-Mail-Adresse für Acme" {
		t.Errorf("German Subject = %q", m.Subject)
	}
	// The link is escaped for an HTML attribute: & becomes &amp;.
	if !strings.Contains(m.HTML, `href="https://id.acme.example/verify?t=abc&amp;u=1"`) {
		t.Errorf("HTML link = %q", m.HTML)
	}
	if !strings.Contains(m.Text, "https://id.acme.example/verify?t=abc&u=1") {
		t.Errorf("the text body does not hold the link as it is: %q", m.Text)
	}
}

func TestFallbackOrder(t *testing.T) {
	src := templates.NewMapSource()
	put := func(tenantID, locale, subject string) {
		t.Helper()
		err := src.Put(tenantID, messaging.KindVerifyEmail, locale, templates.Template{
			Subject: subject + " {{.AppName}}",
			Text:    "{{.Link}}",
		})
		if err != nil {
			t.Fatalf("Put: %v", err)
		}
	}
	put(tenant, "de-CH", "tenant de-CH")
	put(tenant, "fr", "tenant fr")
	put(tenant, "en", "tenant en")
	put(otherTenant, "it", "other tenant it")
	r := renderer(t, src)

	tests := []struct {
		name, tenant, locale string
		kind                 messaging.Kind
		subject              string
		locale2              messaging.Locale
		fromTenant           bool
	}{
		{"tenant and locale", tenant, "de-CH", messaging.KindVerifyEmail,
			"tenant de-CH Acme", "de-CH", true},
		{"tenant and language", tenant, "fr-CA", messaging.KindVerifyEmail,
			"tenant fr Acme", "fr", true},
		{"default and language, past the tenant's English", tenant, "de-AT",
			messaging.KindVerifyEmail, "Bestätigen Sie Ihre E-Mail-Adresse für Acme", "de", false},
		{"default English when the language has no default", tenant, "it",
			messaging.KindVerifyEmail, "tenant en Acme", "en", true},
		{"another tenant's template is never used", "01890a5d-ac96-774b-bcce-b302099a8059", "it",
			messaging.KindVerifyEmail, "Confirm your email address for Acme", "en", false},
		{"the other tenant gets its own", otherTenant, "it-CH", messaging.KindVerifyEmail,
			"other tenant it Acme", "it", true},
		{"no locale means English", tenant, "", messaging.KindVerifyEmail,
			"tenant en Acme", "en", true},
		{"a kind the tenant did not override", tenant, "de-CH", messaging.KindOTPCode,
			"Ihr Code für Acme: 493021", "de", false},
		{"a kind without a German default", tenant, "de-CH", messaging.KindInvite,
			"Grace invited you to Acme", "en", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := r.Render(t.Context(), tt.tenant, tt.kind, tt.locale, data())
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			if m.Subject != tt.subject || m.Locale != tt.locale2 || m.FromTenant != tt.fromTenant {
				t.Errorf("Render = %q in %q (tenant %v), want %q in %q (tenant %v)", m.Subject,
					m.Locale, m.FromTenant, tt.subject, tt.locale2, tt.fromTenant)
			}
		})
	}
}

// The tenant lookups Render makes, in order, when the tenant has nothing.
func TestFallbackTenantLookups(t *testing.T) {
	tests := []struct {
		locale string
		asked  []messaging.Locale
		used   messaging.Locale
	}{
		{"fr-CA", []messaging.Locale{"fr-CA", "fr"}, "fr"},
		{"it-CH", []messaging.Locale{"it-CH", "it", "en"}, "en"},
		{"en-GB", []messaging.Locale{"en-GB", "en"}, "en"},
		{"de", []messaging.Locale{"de"}, "de"},
	}
	for _, tt := range tests {
		src := &recordingSource{}
		r := renderer(t, src)
		m, err := r.Render(t.Context(), tenant, messaging.KindVerifyEmail, tt.locale, data())
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tt.asked, src.asked); diff != "" {
			t.Errorf("%s: tenant lookups (-want +got):\n%s", tt.locale, diff)
		}
		if m.Locale != tt.used || m.FromTenant {
			t.Errorf("%s: Render used %q (tenant %v), want Ward's %q", tt.locale, m.Locale,
				m.FromTenant, tt.used)
		}
	}
}

type recordingSource struct {
	mu    sync.Mutex
	asked []messaging.Locale
}

func (s *recordingSource) Template(_ context.Context, _ string, _ messaging.Kind,
	l messaging.Locale) (templates.Template, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.asked = append(s.asked, l)
	return templates.Template{}, false, nil
}

type failingSource struct{ err error }

func (s failingSource) Template(context.Context, string, messaging.Kind, messaging.Locale) (
	templates.Template, bool, error) {
	return templates.Template{}, false, s.err
}

func TestSourceFailureIsUnavailable(t *testing.T) {
	for _, cause := range []error{errors.New("connection reset"), errs.Wrap(errs.Unavailable,
		errors.New("timeout"), "store down")} {
		r := renderer(t, failingSource{cause})
		_, err := r.Render(t.Context(), tenant, messaging.KindVerifyEmail, "en", data())
		if !errors.Is(err, errs.ErrUnavailable) {
			t.Errorf("Render with a failing source = %v, want unavailable", err)
		}
	}
}

func TestMissingValueIsAnError(t *testing.T) {
	r := renderer(t, nil)
	d := data()
	delete(d, "Code")
	_, err := r.Render(t.Context(), tenant, messaging.KindOTPCode, "en", d)
	messagingtest.WantInvalid(t, err, "data")
	if err != nil && strings.Contains(errs.Public(err).Error(), "no value") {
		t.Errorf("the error shows the template's internals: %v", errs.Public(err))
	}

	_, err = r.Render(t.Context(), tenant, messaging.KindOTPCode, "en", nil)
	messagingtest.WantInvalid(t, err, "data")
}

func TestHTMLIsEscaped(t *testing.T) {
	r := renderer(t, nil)
	d := data()
	d["AppName"] = `<script>alert("x")</script>`
	d["Link"] = "javascript:alert(1)"
	m, err := r.Render(t.Context(), tenant, messaging.KindVerifyEmail, "en", d)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(m.HTML, "<script>") {
		t.Errorf("a script element reached the HTML: %s", m.HTML)
	}
	if !strings.Contains(m.HTML, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") {
		t.Errorf("the app name is not escaped as text: %s", m.HTML)
	}
	if strings.Contains(m.HTML, "javascript:") || !strings.Contains(m.HTML, `href="#ZgotmplZ"`) {
		t.Errorf("a javascript: URL reached an href: %s", m.HTML)
	}
}

func TestSubjectMustStayOneLine(t *testing.T) {
	r := renderer(t, nil)
	d := data()
	d["AppName"] = "Acme\r\nBcc: victim@example.com"
	_, err := r.Render(t.Context(), tenant, messaging.KindVerifyEmail, "en", d)
	messagingtest.WantInvalid(t, err, "data")
}

func TestOutputIsBounded(t *testing.T) {
	r := renderer(t, nil)
	d := data()
	d["Link"] = strings.Repeat("a", messaging.MaxBodyBytes)
	_, err := r.Render(t.Context(), tenant, messaging.KindVerifyEmail, "en", d)
	if errs.CodeOf(err) != errs.TooLarge {
		t.Errorf("Render of an oversized body = %v, want %s", err, errs.TooLarge)
	}
}

func TestRenderRefusesBadArguments(t *testing.T) {
	r := renderer(t, nil)
	ctx := t.Context()
	_, err := r.Render(ctx, "not-a-tenant", messaging.KindVerifyEmail, "en", data())
	messagingtest.WantInvalid(t, err, "tenantID")
	_, err = r.Render(ctx, tenant, "Bad Kind", "en", data())
	messagingtest.WantInvalid(t, err, "kind")
	_, err = r.Render(ctx, tenant, messaging.KindVerifyEmail, "english", data())
	messagingtest.WantInvalid(t, err, "Locale")
	_, err = r.Render(ctx, tenant, "no-such-kind", "en", data())
	if !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("Render of an unknown kind = %v, want not found", err)
	}
}

func TestCustomKindFromTenant(t *testing.T) {
	src := templates.NewMapSource()
	err := src.Put(tenant, "welcome", "en", templates.Template{
		Subject: "Welcome to {{.AppName}}",
		Text:    "{{if .VIP}}Dear VIP{{else}}Hello{{end}}, {{with .Name}}{{.}}{{end}}!",
		HTML:    `<p>{{if and .VIP (eq .Name "Ada")}}Dear Ada{{end}} {{len .Name}}</p>`,
	})
	if err != nil {
		t.Fatal(err)
	}
	r := renderer(t, src)
	m, err := r.Render(t.Context(), tenant, "welcome", "en-GB", map[string]any{
		"AppName": "Acme", "VIP": true, "Name": "Ada",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := templates.Message{
		TenantID: tenant, Kind: "welcome", Subject: "Welcome to Acme",
		Text: "Dear VIP, Ada!", HTML: "<p>Dear Ada 3</p>", Locale: "en", FromTenant: true,
	}
	if diff := cmp.Diff(want, m); diff != "" {
		t.Errorf("Render (-want +got):\n%s", diff)
	}
}

func TestCheckRefusesUnsafeTemplates(t *testing.T) {
	ok := templates.Template{Subject: "s", Text: "t"}
	tests := []struct {
		name, field string
		t           templates.Template
	}{
		{"range over a number", "Text", templates.Template{Subject: "s",
			Text: "{{range 1000000000}}x{{end}}"}},
		{"range over data", "HTML", templates.Template{Subject: "s", Text: "t",
			HTML: "{{range .Items}}x{{end}}"}},
		{"define and template", "Text", templates.Template{Subject: "s",
			Text: `{{define "a"}}x{{end}}{{template "a"}}`}},
		{"template alone", "Subject", templates.Template{Subject: `{{template "x"}}`, Text: "t"}},
		{"block", "Text", templates.Template{Subject: "s", Text: `{{block "b" .}}x{{end}}`}},
		{"printf with a huge width", "Text", templates.Template{Subject: "s",
			Text: `{{printf "%999999999d" 1}}`}},
		{"call", "Text", templates.Template{Subject: "s", Text: `{{call .F}}`}},
		{"print in a nested pipeline", "Text", templates.Template{Subject: "s",
			Text: `{{if (print .A)}}x{{end}}`}},
		{"a function in a parenthesised chain", "Text", templates.Template{Subject: "s",
			Text: `{{(index .M "k").X}}`}},
		{"no subject", "Subject", templates.Template{Text: "t"}},
		{"no text", "Text", templates.Template{Subject: "s", HTML: "<p>h</p>"}},
		{"a syntax error", "Subject", templates.Template{Subject: "{{.A", Text: "t"}},
		{"an unknown function", "Text", templates.Template{Subject: "s", Text: "{{nope 1}}"}},
		{"oversized", "HTML", templates.Template{Subject: "s", Text: "t",
			HTML: strings.Repeat("a", templates.MaxTemplateBytes+1)}},
		{"invalid UTF-8", "Subject", templates.Template{Subject: "\xff", Text: "t"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			messagingtest.WantInvalid(t, templates.Check(tt.t), tt.field)
			src := templates.NewMapSource()
			messagingtest.WantInvalid(t, src.Put(tenant, "x", "en", tt.t), tt.field)
			if _, found, _ := src.Template(t.Context(), tenant, "x", "en"); found {
				t.Errorf("a refused template was stored")
			}
		})
	}
	if err := templates.Check(ok); err != nil {
		t.Errorf("Check(%+v): %v", ok, err)
	}
}

func TestPutRefusesBadKeys(t *testing.T) {
	src := templates.NewMapSource()
	tpl := templates.Template{Subject: "s", Text: "t"}
	messagingtest.WantInvalid(t, src.Put("", "x", "en", tpl), "tenantID")
	messagingtest.WantInvalid(t, src.Put(tenant, "X", "en", tpl), "kind")
	messagingtest.WantInvalid(t, src.Put(tenant, "x", "", tpl), "Locale")
	if err := src.Put(tenant, "x", "de_ch", tpl); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := src.Template(t.Context(), tenant, "x", "de-CH"); !found {
		t.Errorf("a template put under de_ch is not found under de-CH")
	}
}

func TestConcurrentRenders(t *testing.T) {
	src := templates.NewMapSource()
	r := renderer(t, src)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 50 {
				if i == 0 {
					tpl := templates.Template{Subject: "{{.Code}}", Text: "{{.Code}}",
						HTML: "<b>{{.Code}}</b>"}
					if err := src.Put(tenant, messaging.KindOTPCode, "en", tpl); err != nil {
						t.Error(err)
					}
				}
				for _, loc := range []string{"en", "de", "fr-FR"} {
					if _, err := r.Render(t.Context(), tenant, messaging.KindOTPCode, loc, data()); err != nil {
						t.Error(err)
					}
				}
			}
		})
	}
	wg.Wait()
}

func BenchmarkRenderDefault(b *testing.B) {
	r, err := templates.New(nil)
	if err != nil {
		b.Fatal(err)
	}
	d := data()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Render(ctx, tenant, messaging.KindVerifyEmail, "de-CH", d); err != nil {
			b.Fatal(err)
		}
	}
}

// A tenant's template is parsed on every Render (see the shortcoming on
// Renderer); this measures what that costs.
func BenchmarkRenderTenantOverride(b *testing.B) {
	src := templates.NewMapSource()
	r, err := templates.New(src)
	if err != nil {
		b.Fatal(err)
	}
	err = src.Put(tenant, messaging.KindVerifyEmail, "en", templates.Template{
		Subject: "Confirm your address for {{.AppName}}",
		Text:    "Open {{.Link}} within {{.ValidMinutes}} minutes.",
		HTML:    `<p>Open <a href="{{.Link}}">this link</a> within {{.ValidMinutes}} minutes.</p>`,
	})
	if err != nil {
		b.Fatal(err)
	}
	d := data()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Render(ctx, tenant, messaging.KindVerifyEmail, "en", d); err != nil {
			b.Fatal(err)
		}
	}
}
