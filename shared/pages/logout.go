package pages

import (
	"context"
	"net/http"
	"strings"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/sessions"
)

// # Signing out
//
// GET /t/{tenant}/logout shows a form that asks to confirm; POST
// /t/{tenant}/logout, a self-service form (double-submit CSRF token and
// the origin checks), ends the browser's session and sends it to the
// login page. A GET never signs anyone out: a link or an image on
// another site cannot end a session.
//
// The session is ended through the sessions function, not merely
// forgotten by the browser: sessions.validate names the session the
// cookie's token stands for, and sessions.revoke ends it, called as that
// session's own user (the identity validate answered). The sessions
// service offers a service caller no revocation of a single session,
// and the pages need none: holding a session's token is the right to
// end that session and no other. Only then is the cookie cleared. When
// the revocation fails the cookie stays and the page says something went
// wrong, so that nobody believes they signed out while the token still
// works. A cookie whose token no longer works (ended, expired, of
// another tenant) is cleared without a call.

// logoutGet shows the confirmation form.
func (s *service) logoutGet(_ context.Context, req *request) {
	p := req.page("Sign out")
	p.CSRF = s.formCSRF(req.w, req.r)
	req.render(http.StatusOK, "logout", p)
}

// logoutPost ends the browser's session, clears its cookie and redirects
// to the login page.
func (s *service) logoutPost(ctx context.Context, req *request) {
	if !s.formPost(req) {
		return
	}
	if err := s.endSession(ctx, req); err != nil {
		s.fault(req.w, req.r, err)
		return
	}
	s.setCookie(req.w, cookieSession, "", -1, http.SameSiteLaxMode)
	s.setCookie(req.w, cookieFlow, "", -1, http.SameSiteStrictMode)
	http.Redirect(req.w, req.r, loginURL(req.tenant.Name, "", nil), http.StatusSeeOther)
}

// endSession revokes the session of the browser's session cookie, if it
// has a working one of this tenant.
func (s *service) endSession(ctx context.Context, req *request) error {
	token := s.cookie(req.r, cookieSession)
	if !strings.HasPrefix(token, sessions.TokenPrefix) {
		return nil // none, or not a session token: nothing to end
	}
	v, err := invoke.Call[sessions.ValidateOutput](ctx, s.inv, sessions.FunctionName,
		sessions.OpValidate, serviceCaller,
		sessions.ValidateInput{Token: sessions.Token(token), Tenant: req.tenant.ID})
	switch {
	case errs.CodeOf(err) == errs.Unauthenticated || errs.CodeOf(err) == errs.InvalidArgument:
		return nil // already ended
	case err != nil:
		return err
	case !v.Active || v.Kind != sessions.KindSession || v.SessionID == "" ||
		v.TenantID != req.tenant.ID:
		return nil
	}

	return sessions.End(ctx, s.inv, v)
}
