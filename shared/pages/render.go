package pages

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/messaging"
	"github.com/wardhq/ward/shared/store"
)

// brand is a tenant's Branding as the pages use it, every value checked
// again here: settings written before a check existed, or by another
// path, must not reach a page unchecked.
type brand struct {
	Name       string
	LogoURL    safeURL
	SupportURL safeURL
	PrivacyURL safeURL
	Primary    string
	Background string
}

var colorRE = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

func brandOf(t store.Tenant) brand {
	b := brand{Name: t.DisplayName, Primary: "#1f4fd1", Background: "#f5f6f8"}
	if b.Name == "" {
		b.Name = t.Name
	}
	if colorRE.MatchString(t.Branding.PrimaryColor) {
		b.Primary = strings.ToLower(t.Branding.PrimaryColor)
	}
	if colorRE.MatchString(t.Branding.BackgroundColor) {
		b.Background = strings.ToLower(t.Branding.BackgroundColor)
	}
	b.LogoURL = httpsOnly(t.Branding.LogoURL)
	b.SupportURL = httpsOnly(t.Branding.SupportURL)
	b.PrivacyURL = httpsOnly(t.Branding.PrivacyURL)
	return b
}

// httpsOnly returns s when it is an absolute https URL without user
// information or characters that could leave an attribute, else "".
func httpsOnly(s string) safeURL {
	if s == "" || len(s) > 2048 || strings.ContainsAny(s, "\"'<>\\ \t\r\n") {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil {
		return ""
	}
	return safeURL(s)
}

// localeOf is the browser's first preference that is a well-formed
// language tag, else "en". The pages' text is English whatever it says
// (see the package comment), and so is their lang attribute; the tag
// goes to account.register so that Ward's messages follow it.
func localeOf(r *http.Request) string {
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		if tag == "" || tag == "*" {
			continue
		}
		if l, err := messaging.ParseLocale(tag); err == nil {
			return string(l)
		}
		break
	}
	return "en"
}

// pageLang is the language the pages are written in.
const pageLang = "en"

// fieldError is one error of a form, tied to a field when Field is set
// (the field's id, which the summary links to).
type fieldError struct {
	Field   string
	Message string
}

// page is what every template gets.
type page struct {
	Lang    string
	Title   string
	Brand   brand
	Tenant  string
	CSRF    string
	Heading string
	Notice  string
	Errors  []fieldError
	Values  map[string]string

	// Page-specific.
	ReturnTo       string
	Flow           *flowView
	VerificationID string
	Token          string
	Invitation     string
	Done           bool
	Subject        string
	Consent        *consentView
	Device         *deviceView // device.go
}

func (r *request) page(title string) *page {
	return &page{Lang: pageLang, Title: title, Heading: title, Brand: r.brand, Tenant: r.tenant.Name,
		Values: map[string]string{}}
}

// fail records err for the form: a field's error on that field (when the
// form has it), anything else in the summary only.
func (p *page) fail(err error, fields ...string) {
	e := errs.Public(err)
	field := ""
	for _, f := range fields {
		if f == e.Field {
			field = f
		}
	}
	msg := e.Message
	if field != "" {
		msg = fieldLabel(field) + " " + e.Message
	}
	p.Errors = append(p.Errors, fieldError{Field: field, Message: sentence(msg)})
}

// failField puts a message of the pages' own on a field.
func (p *page) failField(field, msg string) {
	p.Errors = append(p.Errors, fieldError{Field: field, Message: msg})
}

func (p *page) errorOf(field string) string {
	for _, e := range p.Errors {
		if e.Field == field {
			return e.Message
		}
	}
	return ""
}

var labels = map[string]string{
	"username": "Username or email", "password": "Password", "email": "Email address",
	"code": "Code", "newPassword": "New password", "displayName": "Your name",
	"factorId": "Method", "factorType": "Method", "phone": "Phone number", "name": "Name",
	"userCode": "Code",
}

func fieldLabel(f string) string {
	if l, ok := labels[f]; ok {
		return l
	}
	return f
}

func sentence(s string) string {
	if s == "" {
		return s
	}
	s = strings.ToUpper(s[:1]) + s[1:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

// fieldView is one labelled input.
type fieldView struct {
	ID           string
	Label        string
	Type         string
	Value        string
	Autocomplete string
	InputMode    string
	Hint         string
	Error        string
	Required     bool
}

// fieldOf builds a field of p. Passwords are never written back into a
// page.
func fieldOf(p *page, id, typ, autocomplete string, required bool) fieldView {
	f := fieldView{ID: id, Label: fieldLabel(id), Type: typ, Autocomplete: autocomplete,
		Error: p.errorOf(id), Required: required}
	if typ != "password" {
		f.Value = p.Values[id]
	}
	switch id {
	case "code":
		f.InputMode, f.Hint = "numeric", "The code is usually 6 digits."
	case "newPassword":
		f.Hint = "Use a long passphrase that you use nowhere else."
	case "phone":
		f.Hint = "In international form, such as +41 44 668 18 00."
	}
	return f
}

// render writes a page with status; a page with errors is titled so.
func (r *request) render(status int, name string, p *page) {
	if len(p.Errors) > 0 {
		p.Title = "Error: " + p.Title
	}
	renderTo(r.w, status, name, p)
}

func renderTo(rw http.ResponseWriter, status int, name string, p *page) {
	if p.Title != "" && p.Brand.Name != "" {
		p.Title += " – " + p.Brand.Name
	}
	body := document(p, func(b *w) { views[name](p, b) })
	rw.Header().Set("Content-Type", "text/html; charset=utf-8")
	rw.WriteHeader(status)
	_, _ = rw.Write([]byte(body))
}

// renderStatus writes a plain message page outside any tenant.
func (s *service) renderStatus(w http.ResponseWriter, status int, title, text string) {
	renderTo(w, status, "message", &page{Lang: "en", Title: title, Heading: title, Notice: text,
		Brand: brand{Primary: "#1f4fd1", Background: "#f5f6f8"}})
}

// stylesheet is GET /t/{tenant}/pages.css: Ward's stylesheet in the
// tenant's colours. The colours are checked to be #rrggbb (brandOf), so
// nothing else can reach the CSS.
func (s *service) stylesheet(w http.ResponseWriter, r *http.Request) {
	b := brand{Primary: "#1f4fd1", Background: "#f5f6f8"}
	if t, err := s.tenantByName(r.Context(), strings.ToLower(r.PathValue("tenant"))); err == nil {
		b = brandOf(t)
	}
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=300")
	fmt.Fprintf(w, css, b.Background, b.Primary, b.Primary, b.Primary)
}

const css = `body{font-family:system-ui,sans-serif;background:%s;color:#1b1b1f;margin:0}
main{max-width:28rem;margin:3rem auto;background:#fff;padding:2rem;border-radius:.5rem}
h1{font-size:1.5rem;margin-top:0}
.logo{max-height:3rem;display:block;margin-bottom:1rem}
.field{margin:1rem 0}
label,legend{display:block;font-weight:600;margin-bottom:.25rem}
input[type=text],input[type=email],input[type=password],input[type=tel]{width:100%%;box-sizing:border-box;padding:.5rem;font-size:1rem;border:1px solid #6b6b75;border-radius:.25rem}
input[aria-invalid=true]{border:2px solid #b3261e}
.hint{color:#4a4a52;margin:.25rem 0;font-size:.9rem}
.error{color:#b3261e;font-weight:600;margin:.25rem 0}
.summary{border:2px solid #b3261e;padding:1rem;margin-bottom:1rem}
.summary:focus{outline:3px solid #ffbf47}
.notice{background:#eef3fd;padding:1rem}
button{background:%s;color:#fff;border:0;padding:.6rem 1.2rem;font-size:1rem;border-radius:.25rem;cursor:pointer}
button.secondary{background:#fff;color:%s;border:1px solid %s}
:focus-visible{outline:3px solid #ffbf47;outline-offset:2px}
footer{max-width:28rem;margin:1rem auto;font-size:.9rem}
.qr{display:block;width:12rem;height:12rem;image-rendering:pixelated}
code{word-break:break-all}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
`
