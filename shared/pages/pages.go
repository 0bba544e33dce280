// Package pages is Ward's hosted pages: server-rendered HTML, per tenant,
// for signing in (and whatever second factor the tenant's policy asks
// for), registering, verifying an email address, recovering a password,
// consenting to an OAuth client and signing out. The pages hold no logic
// of their own: every decision is made by the authn, account, sessions
// and oauth functions, which the pages call through the invoker as the
// service role, exactly as the facade and native apps do (signing out
// calls as the session's own user; see logout.go).
//
// # Paths
//
//	GET  /t/{tenant}/login          the sign-in flow's current step
//	POST /t/{tenant}/login          an answer to that step
//	GET  /t/{tenant}/signed-in      where a sign-in lands without return_to
//	GET  /t/{tenant}/logout         POST: sessions.revoke of the browser's
//	                                session (logout.go)
//	GET  /t/{tenant}/register       POST: account.register
//	GET  /t/{tenant}/verify-email   POST: account.verifyEmail (link or code)
//	GET  /t/{tenant}/recover        POST: account.requestPasswordReset
//	GET  /t/{tenant}/reset          POST: account.resetPassword
//	GET  /t/{tenant}/pages.css      the tenant's stylesheet (branding colours)
//	GET  /t/{tenant}/consent        POST: oauth.consentDecide (consent.go)
//	GET  /t/{tenant}/device         POST: oauth.deviceLookup, then
//	                                oauth.deviceDecide (RFC 8628; device.go)
//	GET  /account/verify-email, /account/reset-password, /account/register
//	                                the links in Ward's messages, redirected
//	                                to the tenant's page
//
// Every form works without JavaScript: a successful POST answers 303 See
// Other to a GET (post, redirect, get); a refused one renders the form
// again with the errors, tied to their fields, and changes nothing.
//
// # Security
//
// See security.go for the headers, the cookies, the two kinds of CSRF
// token and the rule for return_to, and html.go for how values are
// escaped.
//
// # Known shortcomings
//
//   - Pages are in English (and say so: lang="en"); only the locale given
//     to account.register, for the messages Ward sends, follows the
//     browser's Accept-Language.
//   - WebAuthn factors need JavaScript, which the pages do not run: a
//     flow at a WebAuthn step offers the user's other factors instead, and
//     enrolment offers the other kinds.
//   - A page reached under a tenant that does not exist is a plain 404;
//     tenant names are public, so this tells nothing new.
package pages

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/tenants"
)

// FunctionName is the function that serves the hosted pages.
const FunctionName = "pages"

// Deps are what the pages need.
type Deps struct {
	// Invoker reaches the tenants, authn, account, sessions and oauth
	// functions.
	Invoker invoke.Invoker
	// PublicURL is where people reach Ward (WARD_PUBLIC_URL): its origin
	// is the pages' own, the one return_to may name, and an https one
	// makes every cookie Secure and __Host- prefixed.
	PublicURL string
	Now       func() time.Time // nil: time.Now
	Log       *slog.Logger     // nil: slog.Default()
}

type service struct {
	inv    invoke.Invoker
	origin string // scheme://host[:port] of PublicURL
	https  bool
	now    func() time.Time
	log    *slog.Logger
}

// serviceCaller is who the pages are when they call other functions.
var serviceCaller = function.Caller{Subject: FunctionName, Roles: []string{function.RoleService}}

// Function returns the pages function. It has no operations, only routes.
func Function(d Deps) *function.Function {
	s := newService(d)
	f := function.New(FunctionName)
	f.Routes = s.routes()
	f.Patterns = Patterns
	return f
}

// newService builds the service. A PublicURL that is not an absolute http
// or https URL (config checks it; tests may leave it empty) leaves the
// pages without an origin of their own: every absolute return_to is then
// refused, and cookies are those of plain http.
func newService(d Deps) *service {
	s := &service{inv: d.Invoker, now: d.Now, log: d.Log}
	if u, err := url.Parse(d.PublicURL); err == nil && (u.Scheme == "http" || u.Scheme == "https") &&
		u.Host != "" {
		s.origin = u.Scheme + "://" + strings.ToLower(u.Host)
		s.https = u.Scheme == "https"
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	return s
}

// Patterns are where a host of several functions mounts the pages.
var Patterns = []string{
	"/t/{tenant}/login", "/t/{tenant}/signed-in", "/t/{tenant}/logout",
	"/t/{tenant}/register",
	"/t/{tenant}/verify-email", "/t/{tenant}/recover", "/t/{tenant}/reset",
	"/t/{tenant}/pages.css", "/t/{tenant}/device", "/t/{tenant}/consent",
	"/account/verify-email", "/account/reset-password", "/account/register",
}

func (s *service) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /t/{tenant}/login", s.tenantPage(s.loginGet))
	mux.HandleFunc("POST /t/{tenant}/login", s.tenantPage(s.loginPost))
	mux.HandleFunc("GET /t/{tenant}/signed-in", s.tenantPage(s.signedIn))
	mux.HandleFunc("GET /t/{tenant}/logout", s.tenantPage(s.logoutGet))
	mux.HandleFunc("POST /t/{tenant}/logout", s.tenantPage(s.logoutPost))
	mux.HandleFunc("GET /t/{tenant}/register", s.tenantPage(s.registerGet))
	mux.HandleFunc("POST /t/{tenant}/register", s.tenantPage(s.registerPost))
	mux.HandleFunc("GET /t/{tenant}/verify-email", s.tenantPage(s.verifyGet))
	mux.HandleFunc("POST /t/{tenant}/verify-email", s.tenantPage(s.verifyPost))
	mux.HandleFunc("GET /t/{tenant}/recover", s.tenantPage(s.recoverGet))
	mux.HandleFunc("POST /t/{tenant}/recover", s.tenantPage(s.recoverPost))
	mux.HandleFunc("GET /t/{tenant}/reset", s.tenantPage(s.resetGet))
	mux.HandleFunc("POST /t/{tenant}/reset", s.tenantPage(s.resetPost))
	mux.HandleFunc("GET /t/{tenant}/pages.css", s.stylesheet)
	mux.HandleFunc("GET /t/{tenant}/consent", s.tenantPage(s.consentGet))
	mux.HandleFunc("POST /t/{tenant}/consent", s.tenantPage(s.consentPost))
	mux.HandleFunc("GET /t/{tenant}/device", s.tenantPage(s.deviceGet))
	mux.HandleFunc("POST /t/{tenant}/device", s.tenantPage(s.devicePost))
	mux.HandleFunc("GET /account/verify-email", s.fromMessage("verify-email", "token"))
	mux.HandleFunc("GET /account/reset-password", s.fromMessage("reset", "token"))
	mux.HandleFunc("GET /account/register", s.fromMessage("register", "invitation"))
	return secureHeaders(mux)
}

// request is one page request of a tenant that exists.
type request struct {
	w      http.ResponseWriter
	r      *http.Request
	tenant store.Tenant
	brand  brand
	locale string // the browser's preferred language, for messages
}

// tenantPage resolves the path's tenant and hands the request on. A
// tenant that does not exist, or a name that cannot be one, is 404.
func (s *service) tenantPage(h func(context.Context, *request)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		name := strings.ToLower(r.PathValue("tenant"))
		t, err := s.tenantByName(ctx, name)
		if err != nil {
			if errs.CodeOf(err) == errs.NotFound || errs.CodeOf(err) == errs.InvalidArgument {
				s.renderStatus(w, http.StatusNotFound, "Page not found",
					"There is no such page. Check the address.")
				return
			}
			s.fault(w, r, err)
			return
		}
		req := &request{w: w, r: r, tenant: t, brand: brandOf(t), locale: localeOf(r)}
		h(ctx, req)
	}
}

func (s *service) tenantByName(ctx context.Context, name string) (store.Tenant, error) {
	return invoke.Call[store.Tenant](ctx, s.inv, tenants.FunctionName, tenants.OpGetByName,
		serviceCaller, tenants.GetByNameInput{Name: name})
}

// fromMessage redirects a link of one of Ward's messages
// (/account/...?tenant=&token=) to the tenant's page, keeping the token.
func (s *service) fromMessage(page, param string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		tenant := strings.ToLower(q.Get("tenant"))
		if !slugRE.MatchString(tenant) {
			s.renderStatus(w, http.StatusNotFound, "Page not found",
				"This link is incomplete. Open it again from the message.")
			return
		}
		target := "/t/" + tenant + "/" + page
		if v := q.Get(param); v != "" {
			target += "?" + url.Values{param: {v}}.Encode()
		} else if page == "reset" {
			// The notice sent to an address that was registered again
			// links here without a token: it means "recover".
			target = "/t/" + tenant + "/recover"
		}
		http.Redirect(w, r, target, http.StatusSeeOther)
	}
}

// fault answers a fault of Ward or a dependency; its cause goes to the
// log only.
func (s *service) fault(w http.ResponseWriter, r *http.Request, err error) {
	status := http.StatusInternalServerError
	if errs.CodeOf(err) == errs.Unavailable {
		status = http.StatusServiceUnavailable
	}
	s.log.LogAttrs(r.Context(), slog.LevelError, "pages: a call failed",
		slog.String("request_id", function.RequestID(r.Context())),
		slog.String("path", r.URL.Path), slog.String("error", err.Error()))
	s.renderStatus(w, status, "Something went wrong",
		"Ward could not do this just now. Try again in a moment.")
}
