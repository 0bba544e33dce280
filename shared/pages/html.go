package pages

import (
	"html"
	"net/url"
	"strings"
)

// The pages are written by the Go code below, not by html/template: its
// executor looks methods up by name through reflection, which makes the
// Go linker keep every exported method of every reachable type and
// doubles each Lambda bootstrap (e2e/lambda_size_test.go forbids it in
// any function; the facade, the pages deployable and those of the
// functions that host the pages reach this package).
//
// The escaping is contextual by construction, because values can only
// reach three places, each with its own method:
//
//   - element text (w.text): HTML-escaped;
//   - a double-quoted attribute value (w.attr): HTML-escaped, quotes
//     included;
//   - a URL attribute (w.url): the value is a safeURL, which only this
//     package's checked constructors make: paths of the pages built from
//     a tenant's slug and url.Values.Encode, https URLs that httpsOnly
//     accepted, a data: image that qrURL accepted, and in-page fragments
//     of field IDs. The value is then HTML-escaped as an attribute.
//
// Markup itself (w.tag) is written only from string constants of this
// file: never from a value. No value is ever written into a tag or
// attribute name, an unquoted attribute, a style, a script or an event
// handler; the pages have none of those.

// safeURL is a URL checked to be safe in an href, src or action.
type safeURL string

// pagePath is the path of one of the tenant's pages, with a query.
func pagePath(tenant, page string, q url.Values) safeURL {
	p := "/t/" + url.PathEscape(tenant) + "/" + page
	if len(q) > 0 {
		p += "?" + q.Encode()
	}
	return safeURL(p)
}

// fragment links to an element of the page by ID.
func fragment(id string) safeURL { return safeURL("#" + url.PathEscape(id)) }

// w is a page being written.
type w struct{ strings.Builder }

// tag writes markup: string constants only.
func (b *w) tag(s string) { b.WriteString(s) }

// text writes element text.
func (b *w) text(s string) { b.WriteString(html.EscapeString(s)) }

// attr writes name="value"; name is a constant.
func (b *w) attr(name, value string) {
	b.WriteString(" " + name + `="` + html.EscapeString(value) + `"`)
}

// url writes a URL attribute.
func (b *w) url(name string, u safeURL) { b.attr(name, string(u)) }

// flag writes a boolean attribute when on.
func (b *w) flag(name string, on bool) {
	if on {
		b.WriteString(" " + name)
	}
}

// link writes <a href>text</a>.
func (b *w) link(u safeURL, text string) {
	b.tag("<a")
	b.url("href", u)
	b.tag(">")
	b.text(text)
	b.tag("</a>")
}

// para writes <p>text</p>, with a class when given.
func (b *w) para(class, text string) {
	b.tag("<p")
	if class != "" {
		b.attr("class", class)
	}
	if class == "notice" {
		b.attr("role", "status")
	}
	b.tag(">")
	b.text(text)
	b.tag("</p>\n")
}

func (b *w) hidden(name, value string) {
	b.tag(`<input type="hidden"`)
	b.attr("name", name)
	b.attr("value", value)
	b.tag(">\n")
}

// formStart opens a POST form to action, with the page's CSRF token.
func (b *w) formStart(action safeURL, csrf string) {
	b.tag(`<form method="post"`)
	b.url("action", action)
	b.tag(" novalidate>\n")
	b.hidden("csrf", csrf)
}

func (b *w) button(label string) {
	b.tag(`<button type="submit">`)
	b.text(label)
	b.tag("</button>\n")
}

// field writes a labelled input, its hint and its error, tied to it by
// aria-describedby, and aria-invalid when it has an error.
func (b *w) field(f fieldView) {
	b.tag(`<div class="field">` + "\n<label")
	b.attr("for", f.ID)
	b.tag(">")
	b.text(f.Label)
	b.tag("</label>\n")
	if f.Hint != "" {
		b.tag(`<p class="hint"`)
		b.attr("id", f.ID+"-hint")
		b.tag(">")
		b.text(f.Hint)
		b.tag("</p>\n")
	}
	if f.Error != "" {
		b.fieldError(f.ID, f.Error)
	}
	b.tag("<input")
	b.attr("id", f.ID)
	b.attr("name", f.ID)
	b.attr("type", f.Type)
	if f.Value != "" {
		b.attr("value", f.Value)
	}
	if f.Autocomplete != "" {
		b.attr("autocomplete", f.Autocomplete)
	}
	if f.InputMode != "" {
		b.attr("inputmode", f.InputMode)
	}
	b.flag("required", f.Required)
	if f.Error != "" {
		b.attr("aria-invalid", "true")
	}
	var described []string
	if f.Error != "" {
		described = append(described, f.ID+"-error")
	}
	if f.Hint != "" {
		described = append(described, f.ID+"-hint")
	}
	if len(described) > 0 {
		b.attr("aria-describedby", strings.Join(described, " "))
	}
	b.tag(">\n</div>\n")
}

func (b *w) fieldError(id, msg string) {
	b.tag(`<p class="error"`)
	b.attr("id", id+"-error")
	b.tag(`><span class="visually-hidden">Error: </span>`)
	b.text(msg)
	b.tag("</p>\n")
}

// choice is one radio button of a fieldset.
type choice struct{ ID, Value, Label string }

// radios writes a fieldset of radio buttons named name, the first
// checked, with its error tied to the fieldset.
func (b *w) radios(p *page, name, legend string, choices []choice) {
	errText := p.errorOf(name)
	b.tag("<fieldset")
	if errText != "" {
		b.attr("aria-describedby", name+"-error")
	}
	b.tag(">\n<legend")
	b.attr("id", name)
	b.tag(">")
	b.text(legend)
	b.tag("</legend>\n")
	if errText != "" {
		b.fieldError(name, errText)
	}
	for i, c := range choices {
		b.tag(`<div><input type="radio"`)
		b.attr("name", name)
		b.attr("id", c.ID)
		b.attr("value", c.Value)
		b.flag("checked", i == 0)
		b.tag(">\n<label")
		b.attr("for", c.ID)
		b.tag(">")
		b.text(c.Label)
		b.tag("</label></div>\n")
	}
	b.tag("</fieldset>\n")
}

// document writes a whole page: the layout around content.
func document(p *page, content func(b *w)) string {
	var b w
	b.tag("<!doctype html>\n<html")
	b.attr("lang", p.Lang)
	b.tag(">\n<head>\n" + `<meta charset="utf-8">` + "\n" +
		`<meta name="viewport" content="width=device-width, initial-scale=1">` + "\n" +
		`<meta name="referrer" content="no-referrer">` + "\n<title>")
	b.text(p.Title)
	b.tag("</title>\n")
	if p.Tenant != "" {
		b.tag(`<link rel="stylesheet"`)
		b.url("href", pagePath(p.Tenant, "pages.css", nil))
		b.tag(">\n")
	}
	b.tag("</head>\n<body>\n<main>\n")
	if p.Brand.LogoURL != "" {
		b.tag(`<img class="logo"`)
		b.url("src", p.Brand.LogoURL)
		b.attr("alt", p.Brand.Name)
		b.tag(">\n")
	}
	if len(p.Errors) > 0 {
		// First in the main content and focused on load (autofocus works
		// without script), so that the errors are what is read first.
		b.tag(`<div class="summary" id="error-summary" role="alert" tabindex="-1" autofocus` +
			` aria-labelledby="error-summary-title">` + "\n" +
			`<h2 id="error-summary-title">There is a problem</h2>` + "\n<ul>\n")
		for _, e := range p.Errors {
			b.tag("<li>")
			if e.Field != "" {
				b.link(fragment(e.Field), e.Message)
			} else {
				b.text(e.Message)
			}
			b.tag("</li>\n")
		}
		b.tag("</ul>\n</div>\n")
	}
	b.tag("<h1>")
	b.text(p.Heading)
	b.tag("</h1>\n")
	content(&b)
	b.tag("</main>\n")
	if p.Brand.SupportURL != "" || p.Brand.PrivacyURL != "" {
		b.tag("<footer>\n")
		if p.Brand.SupportURL != "" {
			b.link(p.Brand.SupportURL, "Help")
			b.tag("\n")
		}
		if p.Brand.PrivacyURL != "" {
			b.link(p.Brand.PrivacyURL, "Privacy")
			b.tag("\n")
		}
		b.tag("</footer>\n")
	}
	b.tag("</body>\n</html>\n")
	return b.String()
}
