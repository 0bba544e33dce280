package oauth

import (
	"html"
	"net/http"
	"strings"
)

// The endpoints' few HTML pages (an error that cannot be redirected, the
// form_post answer, logout's confirmation and its "signed out") are
// written here by Go code, not by html/template: its executor looks
// methods up by name through reflection, which makes the linker keep
// every exported method of every reachable type and nearly doubles a
// Lambda bootstrap (e2e/lambda_size_test.go forbids it in every
// function). Package pages does the same for the hosted pages.
//
// Markup (tag) is written from string constants only. Values are
// HTML-escaped and go to element text (text) or to a double-quoted
// attribute value (attr); URL attributes take only a redirect URI the
// client registry accepted (https, loopback http or a reverse-DNS
// private-use scheme: never javascript: or data:) or the issuer's own
// endpoint. No value reaches a tag or attribute name, a script or a
// style.
type page struct{ strings.Builder }

func (p *page) tag(s string)  { p.WriteString(s) }
func (p *page) text(s string) { p.WriteString(html.EscapeString(s)) }
func (p *page) attr(name, value string) {
	p.WriteString(" " + name + `="` + html.EscapeString(value) + `"`)
}

// head starts a page with its title.
func (p *page) head(title string) {
	p.tag(`<!doctype html>` + "\n" + `<html lang="en"><head><meta charset="utf-8"><title>`)
	p.text(title)
	p.tag(`</title>` + "\n" +
		`<meta name="viewport" content="width=device-width, initial-scale=1"></head>` + "\n")
}

// send writes the page with status; the caller has set its headers.
func (p *page) send(w http.ResponseWriter, status int) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(p.String()))
}
