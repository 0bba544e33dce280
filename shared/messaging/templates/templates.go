// Package templates writes the text of Ward's messages from templates, per
// tenant and per language.
//
// A Template is three templates in a small subset of Go's template
// language (see Check): the subject, the text body and the HTML body,
// whose values are escaped for where they land (element text, attribute,
// URL; see html.go). Values come from a map; a template that reads a key
// the map lacks fails (text/template's missingkey=error) rather than
// sending "<no value>" to a user.
//
// Templates are parsed with text/template/parse and run by this package's
// own evaluator (eval.go), with text/template's meaning. Neither
// text/template nor html/template is imported: their executor finds
// methods by name through reflection, which stops the Go linker from
// dropping any exported method and doubled the size of every function.
//
// Ward embeds a default set: every kind in English, and some in German and
// French. A tenant may override any kind in any language through a Source.
// Render takes the first template found in this order:
//
//  1. the tenant's, in the requested locale ("de-CH")
//  2. the tenant's, in its language ("de")
//  3. Ward's, in the requested locale
//  4. Ward's, in its language
//  5. the tenant's, in English
//  6. Ward's, in English
//
// A tenant that overrides only English therefore still gets Ward's German
// text for German readers: a reader's language wins over a tenant's
// wording. Step 5 is there for languages neither has: once the message is
// going to be English anyway, the tenant's English wins over Ward's.
//
// The values the default templates read, per kind (ValidMinutes is a number,
// the rest strings; callers may pass more):
//
//	verify-email    AppName, Link, Code, ValidMinutes
//	reset-password  AppName, Link, ValidMinutes
//	otp-code        AppName, Code, ValidMinutes
//	invite          AppName, InviterName, Link, ValidMinutes
//	account-exists  AppName, Link (where to set a new password)
package templates

import (
	"context"
	"embed"
	"errors"
	"io/fs"
	"slices"
	"strings"
	"sync"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/messaging"
	"github.com/wardhq/ward/shared/validate"
)

// Template is the source of one kind of message in one language.
type Template struct {
	// Subject is a template that must render to one line.
	Subject string
	// Text is the template of the plain-text body.
	Text string
	// HTML is the template of the HTML body, escaped by context; empty
	// sends text only.
	HTML string
}

// Source holds tenants' own templates.
type Source interface {
	// Template returns the tenant's template for kind in exactly locale
	// (canonical case, see messaging.ParseLocale), with ok false when the
	// tenant has none: Render does the falling back. An error means the
	// source failed, and should be errs.ErrUnavailable.
	Template(ctx context.Context, tenantID string, kind messaging.Kind, locale messaging.Locale) (
		t Template, ok bool, err error)
}

// Message is a rendered template.
type Message struct {
	TenantID string
	Kind     messaging.Kind
	Subject  string
	Text     string
	HTML     string
	// Locale is the locale of the template that was used, which may be
	// broader than the one asked for ("de" for "de-CH", or "en").
	Locale messaging.Locale
	// FromTenant says whether the tenant's own template was used.
	FromTenant bool
}

// Email returns the message as an email from from to the recipients.
func (m Message) Email(from string, to ...string) messaging.Email {
	return messaging.Email{
		TenantID: m.TenantID,
		Kind:     m.Kind,
		From:     from,
		To:       to,
		Subject:  m.Subject,
		Text:     m.Text,
		HTML:     m.HTML,
	}
}

// DefaultLocale is the last resort of every lookup.
const DefaultLocale messaging.Locale = "en"

// Renderer renders templates. It is safe for concurrent use.
//
// Known shortcoming: Ward's defaults are parsed once, but a tenant's
// template is parsed again on every Render (BenchmarkRenderTenantOverride
// measures the cost). A cache would have to follow changes in the Source;
// that waits for the store tenants' templates will live in.
type Renderer struct {
	src      Source
	defaults map[defaultKey]*parsed
}

type defaultKey struct {
	kind   messaging.Kind
	locale messaging.Locale
}

// parsed is a checked and parsed Template.
type parsed struct {
	locale  messaging.Locale
	tenant  bool
	subject *program
	text    *program
	html    *program // nil for text only
}

// New returns a Renderer that looks up tenants' templates in src; a nil src
// means Ward's defaults only.
func New(src Source) (*Renderer, error) {
	defaults, err := loadDefaults()
	if err != nil {
		return nil, err
	}
	return &Renderer{src: src, defaults: defaults}, nil
}

// Render writes the message of kind for tenantID in locale (empty means
// English) from data. It returns errs.ErrInvalidArgument for a bad kind,
// tenant or locale, for data that lacks a value a template reads, and for a
// subject that would not be one line; errs.ErrNotFound when no template of
// kind exists at all; errs.ErrUnavailable when the Source fails.
func (r *Renderer) Render(ctx context.Context, tenantID string, kind messaging.Kind, locale string,
	data map[string]any) (Message, error) {
	if err := validate.ID("tenantID", tenantID); err != nil {
		return Message{}, err
	}
	if err := messaging.CheckKind("kind", kind); err != nil {
		return Message{}, err
	}
	loc := DefaultLocale
	if locale != "" {
		var err error
		if loc, err = messaging.ParseLocale(locale); err != nil {
			return Message{}, err
		}
	}

	p, err := r.lookup(ctx, tenantID, kind, loc)
	if err != nil {
		return Message{}, err
	}
	return p.execute(tenantID, kind, data)
}

// lookup walks the fallback order of the package comment.
func (r *Renderer) lookup(ctx context.Context, tenantID string, kind messaging.Kind,
	loc messaging.Locale) (*parsed, error) {
	lang := loc.Language()
	steps := []struct {
		tenant bool
		locale messaging.Locale
	}{
		{true, loc}, {true, lang}, {false, loc}, {false, lang},
		{true, DefaultLocale}, {false, DefaultLocale},
	}
	tried := map[messaging.Locale]bool{} // tenant lookups already made
	for _, s := range steps {
		if !s.tenant {
			if p, ok := r.defaults[defaultKey{kind, s.locale}]; ok {
				return p, nil
			}
			continue
		}
		if r.src == nil || tried[s.locale] {
			continue
		}
		tried[s.locale] = true
		p, err := r.tenantTemplate(ctx, tenantID, kind, s.locale)
		if err != nil || p != nil {
			return p, err
		}
	}
	return nil, errs.New(errs.NotFound, "there is no template for %s", kind)
}

// tenantTemplate returns the tenant's template parsed, or nil if it has none.
func (r *Renderer) tenantTemplate(ctx context.Context, tenantID string, kind messaging.Kind,
	l messaging.Locale) (*parsed, error) {
	t, ok, err := r.src.Template(ctx, tenantID, kind, l)
	if err != nil {
		var coded *errs.Error
		if errors.As(err, &coded) {
			return nil, err
		}
		return nil, errs.Wrap(errs.Unavailable, err, "templates cannot be read")
	}
	if !ok {
		return nil, nil
	}
	p, err := parseTemplate(t, l, true)
	if err != nil {
		// The source let a template through that Check refuses.
		return nil, errs.Wrap(errs.Internal, err, "the tenant's %s template for %s is invalid",
			kind, l)
	}
	return p, nil
}

func (p *parsed) execute(tenantID string, kind messaging.Kind, data map[string]any) (
	Message, error) {
	m := Message{TenantID: tenantID, Kind: kind, Locale: p.locale, FromTenant: p.tenant}
	var err error
	// A subject is at most MaxSubjectRunes characters of up to 4 bytes.
	maxSubject := 4 * messaging.MaxSubjectRunes
	if m.Subject, err = run("Subject", p.subject, data, maxSubject); err != nil {
		return Message{}, err
	}
	m.Subject = strings.TrimSpace(m.Subject)
	if strings.ContainsAny(m.Subject, "\r\n") {
		return Message{}, errs.Invalid("data", "the %s subject must be one line: a value holds a "+
			"line break", kind)
	}
	if m.Text, err = run("Text", p.text, data, messaging.MaxBodyBytes); err != nil {
		return Message{}, err
	}
	if p.html != nil {
		if m.HTML, err = run("HTML", p.html, data, messaging.MaxBodyBytes); err != nil {
			return Message{}, err
		}
	}
	return m, nil
}

// run executes one part into at most max bytes.
func run(part string, p *program, data map[string]any, max int) (string, error) {
	out, err := p.execute(data, max)
	if err != nil {
		if errors.Is(err, errTooLong) {
			return "", errs.New(errs.TooLarge, "the %s would be longer than %d bytes", part, max)
		}
		return "", &errs.Error{
			Code:    errs.InvalidArgument,
			Field:   "data",
			Message: "the " + part + " template needs a value that is missing or of the wrong type",
			Cause:   err,
		}
	}
	return out, nil
}

//go:embed defaults
var defaultFS embed.FS

var loadDefaults = sync.OnceValues(func() (map[defaultKey]*parsed, error) {
	return parseDefaults(defaultFS)
})

// parseDefaults reads defaults/<locale>/<kind>.{subject,txt,html}. Every
// kind must exist in English, the last resort of every lookup.
func parseDefaults(fsys fs.FS) (map[defaultKey]*parsed, error) {
	locales, err := fs.ReadDir(fsys, "defaults")
	if err != nil {
		return nil, err
	}
	out := map[defaultKey]*parsed{}
	for _, dir := range locales {
		loc, err := messaging.ParseLocale(dir.Name())
		if err != nil || string(loc) != dir.Name() {
			return nil, errors.New("templates: default locale directory " + dir.Name() +
				" is not a canonical locale")
		}
		files, err := fs.Glob(fsys, "defaults/"+dir.Name()+"/*.subject")
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			base := strings.TrimSuffix(f, ".subject")
			kind := messaging.Kind(base[strings.LastIndexByte(base, '/')+1:])
			var t Template
			for _, part := range []struct {
				ext string
				dst *string
			}{{".subject", &t.Subject}, {".txt", &t.Text}, {".html", &t.HTML}} {
				b, err := fs.ReadFile(fsys, base+part.ext)
				if err != nil {
					return nil, err
				}
				*part.dst = string(b)
			}
			p, err := parseTemplate(t, loc, false)
			if err != nil {
				return nil, errors.New("templates: default " + base + ": " + err.Error())
			}
			out[defaultKey{kind, loc}] = p
		}
	}
	for _, k := range Kinds() {
		if out[defaultKey{k, DefaultLocale}] == nil {
			return nil, errors.New("templates: no default English template for " + string(k))
		}
	}
	return out, nil
}

// Kinds returns the kinds the default set covers, every one in English.
func Kinds() []messaging.Kind {
	return []messaging.Kind{
		messaging.KindVerifyEmail,
		messaging.KindResetPassword,
		messaging.KindOTPCode,
		messaging.KindInvite,
		messaging.KindAccountExists,
	}
}

// DefaultLocales returns the locales Ward's own templates of kind exist in,
// sorted.
func (r *Renderer) DefaultLocales(kind messaging.Kind) []messaging.Locale {
	var out []messaging.Locale
	for k := range r.defaults {
		if k.kind == kind {
			out = append(out, k.locale)
		}
	}
	slices.Sort(out)
	return out
}
