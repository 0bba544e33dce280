package pages

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/wardhq/ward/shared/sessions"
	"github.com/wardhq/ward/shared/store"
)

// # Headers
//
// Every answer of the pages, errors and redirects included, carries:
//
//   - Content-Security-Policy: nothing but the pages' own stylesheet and
//     images (the logo is an https URL, the TOTP QR code a data: URL);
//     no script at all; forms post only to the pages' own origin
//     (form-action 'self'); no framing (frame-ancestors 'none'); no
//     <base>.
//   - X-Frame-Options: DENY, for browsers that predate frame-ancestors.
//   - Referrer-Policy: no-referrer: the pages' URLs may carry a reset or
//     verification token, which must not travel to the logo's host or to
//     the next site.
//   - Cache-Control: no-store: pages show personal data and tokens.
//   - X-Content-Type-Options: nosniff.
const contentSecurityPolicy = "default-src 'none'; style-src 'self'; img-src 'self' data: https:; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

func secureHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		next.ServeHTTP(w, r)
	})
}

// # Cookies
//
// All cookies are HttpOnly and Path=/. When the pages are served over
// https (WARD_PUBLIC_URL is https) they are Secure and their names carry
// the __Host- prefix, which a browser accepts only from a secure origin,
// for Path=/ and without a Domain: a neighbouring subdomain can then
// neither set nor overwrite them (RFC 6265bis, section 4.1.3.2). Over
// plain http (development) they have neither.
//
//   - ward_session: the session token, until the session's absolute
//     expiry. SameSite=Lax, so that a person who follows a link to the
//     application from elsewhere (an email, another site) arrives signed
//     in; cross-site POSTs, frames and subresource requests still go
//     without it. Strict would look signed out on every such arrival.
//   - ward_flow: the sign-in flow in progress (tenant, flow ID and the
//     flow's CSRF token), 15 minutes. SameSite=Strict: only the pages'
//     own forms need it.
//   - ward_csrf: the double-submit token of the forms that are not
//     sign-in steps, for the browser's session. SameSite=Strict.
//   - ward_device: a random device ID, 400 days, which authn's risk
//     scoring recognises (it keeps only a hash). SameSite=Strict.
const (
	cookieSession = sessions.CookieBase
	cookieFlow    = "ward_flow"
	cookieCSRF    = "ward_csrf"
	cookieDevice  = "ward_device"
)

// deviceLifetime is the longest lifetime browsers grant a cookie.
const deviceLifetime = 400 * 24 * time.Hour

func (s *service) cookieName(base string) string {
	if base == cookieSession {
		return sessions.CookieName(s.https) // the OAuth endpoints read it too
	}
	if s.https {
		return "__Host-" + base
	}
	return base
}

func (s *service) setCookie(w http.ResponseWriter, base, value string, maxAge time.Duration,
	sameSite http.SameSite) {
	c := &http.Cookie{Name: s.cookieName(base), Value: value, Path: "/", HttpOnly: true,
		Secure: s.https, SameSite: sameSite}
	switch {
	case maxAge < 0:
		c.MaxAge = -1
	case maxAge > 0:
		c.MaxAge = int(maxAge / time.Second)
		if c.MaxAge == 0 {
			c.MaxAge = 1
		}
		c.Expires = s.now().Add(maxAge).UTC()
	}
	http.SetCookie(w, c)
}

func (s *service) cookie(r *http.Request, base string) string {
	c, err := r.Cookie(s.cookieName(base))
	if err != nil {
		return ""
	}
	return c.Value
}

// randomToken returns n random bytes, base64url without padding.
func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

func sameString(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// # CSRF
//
// A sign-in step's form carries the flow's own CSRF token (authn.start
// returns it once); the ward_flow cookie carries the flow ID and the same
// token. An answer must present both, and they must agree (compared in
// constant time) before authn sees it; authn then checks the token
// against the flow again. A page that posts a flow of its own making into
// someone's browser (login CSRF) fails: it cannot set that browser's
// cookie, and a cross-site POST does not carry the SameSite=Strict one.
//
// The other forms (register, verify, recover, reset) carry the random
// ward_csrf cookie's value in a hidden field (double submit): a
// cross-site page can neither read the cookie nor, on https with the
// __Host- prefix, plant one of its own.
//
// Before either check, a POST whose Sec-Fetch-Site says cross-site, or
// whose Origin names another origin, is refused. Origin may be "null":
// browsers send that for a form posted from a page whose Referrer-Policy
// is no-referrer, which the pages' own is.

// sameOrigin reports whether r may be a POST of the pages' own forms.
func (s *service) sameOrigin(r *http.Request) bool {
	if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		return false
	}
	o := r.Header.Get("Origin")
	return o == "" || o == "null" || o == s.origin
}

// formCSRF is the double-submit token of r's browser, made and set when
// it has none yet.
func (s *service) formCSRF(w http.ResponseWriter, r *http.Request) string {
	if v := s.cookie(r, cookieCSRF); csrfRE.MatchString(v) {
		return v
	}
	v := randomToken(32)
	s.setCookie(w, cookieCSRF, v, 0, http.SameSiteStrictMode)
	return v
}

// checkFormCSRF checks a POST of a form that is not a sign-in step.
func (s *service) checkFormCSRF(r *http.Request) bool {
	return s.sameOrigin(r) && sameString(r.PostFormValue("csrf"), s.cookie(r, cookieCSRF))
}

var (
	csrfRE = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)
	slugRE = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{1,61}[a-z0-9])$`)
	// originRE is what may be written into a CSP source list.
	originRE = regexp.MustCompile(`^https?://[a-z0-9.:\[\]-]+$`)
)

// # return_to
//
// Where a finished sign-in sends the browser. Allowed, and nothing else:
//
//   - empty: the tenant's signed-in page;
//   - a path on the pages' own origin: it starts with one "/", not "//"
//     and not "/\" (which browsers read as another host);
//   - an absolute URL whose origin (scheme, host and port, compared
//     exactly, case aside) is the pages' own, WARD_PUBLIC_URL's, or one
//     of the tenant's Auth.ReturnOrigins, with no user information.
//
// Control characters, spaces and backslashes anywhere, and more than
// maxReturnTo bytes, are refused, since browsers strip or reinterpret
// them. A return_to that is not allowed is refused with a page saying
// so, before any flow starts, and never followed. A sign-in page whose
// return_to is on another allowed origin names that origin in its
// form-action, since browsers hold the redirect that ends the form's
// POST to it.
const maxReturnTo = 2048

func (s *service) returnTo(raw string, t store.Tenant) (string, bool) {
	if raw == "" {
		return "", true
	}
	if len(raw) > maxReturnTo {
		return "", false
	}
	for i := 0; i < len(raw); i++ {
		if c := raw[i]; c <= 0x20 || c == 0x7f || c == '\\' {
			return "", false
		}
	}
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" || u.User != nil {
		return "", false
	}
	if u.Scheme == "" && u.Host == "" {
		if !strings.HasPrefix(raw, "/") || strings.HasPrefix(raw, "//") {
			return "", false
		}
		return raw, true
	}
	origin := strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Host)
	if u.Host == "" || (origin != s.origin && !slices.Contains(t.Auth.ReturnOrigins, origin)) {
		return "", false
	}
	return raw, true
}

// allowReturn adds the origin of an allowed absolute return_to to the
// page's form-action.
func (s *service) allowReturn(w http.ResponseWriter, rt string) {
	u, err := url.Parse(rt)
	if rt == "" || err != nil || u.Host == "" {
		return
	}
	origin := strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Host)
	if origin == s.origin || !originRE.MatchString(origin) {
		return
	}
	w.Header().Set("Content-Security-Policy", strings.Replace(contentSecurityPolicy,
		"form-action 'self'", "form-action 'self' "+origin, 1))
}
