package clients

import (
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
)

// MatchRedirectURI reports whether given is one of the registered redirect
// URIs, compared as strings, byte for byte: no normalisation of case,
// port, trailing slash, query or percent-encoding (RFC 9700 section
// 4.1.3 asks for exact matching, and RFC 6749 section 3.1.2.3 for simple
// string comparison).
//
// Deliberate deviation: RFC 8252 section 7.3 lets a native app's loopback
// redirect use any port at request time. Ward matches the port too, so a
// native app registers the exact port it listens on.
func MatchRedirectURI(registered []string, given string) bool {
	if given == "" {
		return false
	}
	for _, r := range registered {
		if r == given {
			return true
		}
	}
	return false
}

// checkRedirectURI checks one redirect URI (or post-logout redirect URI)
// as registered:
//
//   - absolute, valid UTF-8, no spaces or control characters, at most
//     store.MaxClientURIBytes;
//   - no fragment (RFC 6749 section 3.1.2) and no user information;
//   - no wildcard: "*" anywhere is refused, since matching is exact and a
//     "*" would only ever match itself, which nobody means;
//   - https with a host; or http on a loopback host (127.0.0.1, [::1] or
//     localhost; RFC 8252 section 7.3); or, for native apps, a private-use
//     scheme in reverse-DNS form such as com.example.app:/callback (RFC
//     8252 section 7.1): the scheme holds a dot and the URI continues
//     with "/".
func checkRedirectURI(field, raw string) error {
	switch {
	case raw == "":
		return errs.Invalid(field, "a redirect URI must not be empty")
	case len(raw) > store.MaxClientURIBytes:
		return errs.Invalid(field, "a redirect URI is at most %d bytes", store.MaxClientURIBytes)
	case !utf8.ValidString(raw):
		return errs.Invalid(field, "a redirect URI must be valid UTF-8")
	case strings.ContainsFunc(raw, func(r rune) bool { return r <= ' ' || r == 0x7f }):
		return errs.Invalid(field, "a redirect URI has no spaces or control characters")
	case strings.Contains(raw, "#"):
		return errs.Invalid(field, "a redirect URI has no fragment")
	case strings.Contains(raw, "*"):
		return errs.Invalid(field, "a redirect URI has no wildcard; it is matched exactly")
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() {
		return errs.Invalid(field, "a redirect URI must be an absolute URI")
	}
	if u.User != nil {
		return errs.Invalid(field, "a redirect URI has no user information")
	}
	switch u.Scheme {
	case "https":
		if u.Host == "" || u.Opaque != "" {
			return errs.Invalid(field, "an https redirect URI needs a host")
		}
		return nil
	case "http":
		if u.Opaque == "" && isLoopback(u.Hostname()) {
			return nil
		}
		return errs.Invalid(field,
			"a redirect URI must use https (http only on 127.0.0.1, [::1] or localhost)")
	}
	// A private-use scheme: reverse DNS (a dot), then ":/".
	scheme := raw[:len(u.Scheme)]
	if !strings.Contains(scheme, ".") || !strings.HasPrefix(raw[len(scheme):], ":/") {
		return errs.Invalid(field, "a redirect URI must use https, http on a loopback host, "+
			"or a reverse-DNS private-use scheme such as com.example.app:/callback")
	}
	return nil
}

// isLoopback reports whether host (as url.URL.Hostname gives it) is one
// of the loopback names RFC 8252 section 7.3 allows with http.
func isLoopback(host string) bool {
	return host == "127.0.0.1" || host == "::1" || host == "localhost"
}

// checkJWKSURI checks the key set URL of a private_key_jwt client: https
// (http on a loopback host), no user information, no fragment.
func checkJWKSURI(raw string) error {
	const field = "jwksUri"
	if len(raw) > store.MaxClientURIBytes || !utf8.ValidString(raw) {
		return errs.Invalid(field, "must be valid UTF-8 of at most %d bytes",
			store.MaxClientURIBytes)
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" || u.User != nil ||
		strings.Contains(raw, "#") {
		return errs.Invalid(field, "must be an absolute https URL without user "+
			"information or fragment")
	}
	if u.Scheme == "https" || (u.Scheme == "http" && isLoopback(u.Hostname())) {
		return nil
	}
	return errs.Invalid(field, "must be an https URL (http only on a loopback host)")
}
