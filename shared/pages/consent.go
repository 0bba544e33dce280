package pages

import (
	"context"
	"net/http"
	"regexp"
	"strings"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/oauth"
	"github.com/wardhq/ward/shared/sessions"
)

// # Consent
//
// GET /t/{tenant}/consent?request=<ID> shows what an application asks
// (its name and the scopes, described for people) with Allow and Deny;
// the authorization endpoint sends the browser here (package oauth,
// consent.go). POST answers it: a self-service form (double-submit CSRF
// token and the origin checks), then oauth.consentDecide, and a 303 to
// the authorization endpoint, which issues the code or answers
// access_denied.
//
// Both call the oauth function as services with the user and session
// that sessions.validate answers for the browser's cookie; the oauth
// function refuses a request kept for anyone else. Without a working
// session, or for a request that is not the browser's or has lapsed, the
// page says so (404) and offers nothing to decide.

// formActionRE is what may join form-action: an http(s) origin or a
// private-use scheme (RFC 8252 section 7.1).
var formActionRE = regexp.MustCompile(`^(https?://[a-z0-9.:\[\]-]+|[a-z][a-z0-9+.-]*:)$`)

// consentCaller is the browser's user and session, or ok false.
func (s *service) consentCaller(ctx context.Context, req *request) (sessions.ValidateOutput,
	bool, error) {
	token := s.cookie(req.r, cookieSession)
	if !strings.HasPrefix(token, sessions.TokenPrefix) {
		return sessions.ValidateOutput{}, false, nil
	}
	v, err := invoke.Call[sessions.ValidateOutput](ctx, s.inv, sessions.FunctionName,
		sessions.OpValidate, serviceCaller,
		sessions.ValidateInput{Token: sessions.Token(token), Tenant: req.tenant.ID})
	switch {
	case errs.CodeOf(err) == errs.Unauthenticated || errs.CodeOf(err) == errs.InvalidArgument:
		return sessions.ValidateOutput{}, false, nil
	case err != nil:
		return sessions.ValidateOutput{}, false, err
	}
	ok := v.Active && v.Kind == sessions.KindSession && v.SessionID != "" &&
		v.Subject != "" && v.TenantID == req.tenant.ID
	return v, ok, nil
}

// consentInput names the request for the browser's session.
func consentInput(req *request, v sessions.ValidateOutput, id string) oauth.ConsentRequestInput {
	return oauth.ConsentRequestInput{TenantID: req.tenant.ID, RequestID: bounded(id),
		UserID: v.Subject, SessionID: v.SessionID}
}

// consentGone answers a request that cannot be decided here.
func (req *request) consentGone() {
	p := req.page("This request has expired")
	p.Notice = "This request for access is no longer waiting, or was made in another " +
		"sign-in. Go back to the application and start again."
	req.render(http.StatusNotFound, "message", p)
}

// consentFailed answers an error of the oauth function: a refusal is the
// gone page, a fault a fault page.
func (s *service) consentFailed(req *request, err error) {
	switch errs.CodeOf(err) {
	case errs.NotFound, errs.InvalidArgument, errs.PermissionDenied, errs.Unauthenticated:
		req.consentGone()
	default:
		s.fault(req.w, req.r, err)
	}
}

// consentUser is the browser's user and session; without them it
// answers the page itself and ok is false.
func (s *service) consentUser(ctx context.Context, req *request) (sessions.ValidateOutput,
	bool) {
	v, ok, err := s.consentCaller(ctx, req)
	if err != nil {
		s.fault(req.w, req.r, err)
		return v, false
	}
	if !ok {
		req.consentGone()
	}
	return v, ok
}

func (s *service) consentGet(ctx context.Context, req *request) {
	v, ok := s.consentUser(ctx, req)
	if !ok {
		return
	}
	id := req.r.URL.Query().Get("request")
	out, err := invoke.Call[oauth.ConsentRequestOutput](ctx, s.inv, oauth.FunctionName,
		oauth.OpConsentRequest, serviceCaller, consentInput(req, v, id))
	if err != nil {
		s.consentFailed(req, err)
		return
	}
	p := req.page("Allow access?")
	p.CSRF = s.formCSRF(req.w, req.r)
	p.Consent = &consentView{Request: id, Client: out.ClientName, Scopes: out.Scopes}
	if p.Consent.Client == "" {
		p.Consent.Client = "An application"
	}
	if fa := out.FormAction; fa != "" && formActionRE.MatchString(fa) {
		req.w.Header().Set("Content-Security-Policy", strings.Replace(contentSecurityPolicy,
			"form-action 'self'", "form-action 'self' "+fa, 1))
	}
	req.render(http.StatusOK, "consent", p)
}

func (s *service) consentPost(ctx context.Context, req *request) {
	if !s.formPost(req) {
		return
	}
	v, ok := s.consentUser(ctx, req)
	if !ok {
		return
	}
	in := oauth.ConsentDecideInput{ConsentRequestInput: consentInput(req, v,
		req.r.PostFormValue("request")), Allow: req.r.PostFormValue("decision") == "allow"}
	out, err := invoke.Call[oauth.ConsentDecideOutput](ctx, s.inv, oauth.FunctionName,
		oauth.OpConsentDecide, serviceCaller, in)
	if err != nil {
		s.consentFailed(req, err)
		return
	}
	// The oauth function answers a path of this origin; anything else is
	// a fault, never followed.
	if !strings.HasPrefix(out.RedirectTo, "/t/") {
		s.fault(req.w, req.r, errs.New(errs.Internal, "consent: an unexpected redirect"))
		return
	}
	http.Redirect(req.w, req.r, out.RedirectTo, http.StatusSeeOther)
}

// consentView is what the consent page shows.
type consentView struct {
	Request string
	Client  string
	Scopes  []oauth.ScopeInfo
}

func consentPageView(p *page, b *w) {
	c := p.Consent
	b.tag("<p><strong>")
	b.text(c.Client)
	b.tag("</strong> asks to:</p>\n<ul>\n")
	for _, sc := range c.Scopes {
		b.tag("<li>")
		b.text(sc.Description)
		b.tag("</li>\n")
	}
	b.tag("</ul>\n")
	b.para("", "You can withdraw this later; the application then loses the access.")
	b.formStart(p.path("consent", nil), p.CSRF)
	b.hidden("request", c.Request)
	b.tag(`<button type="submit" name="decision" value="allow">Allow</button>` + "\n")
	b.tag(`<button type="submit" class="secondary" name="decision" value="deny">Deny</button>` +
		"\n</form>\n")
}
