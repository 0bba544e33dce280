package pages

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/wardhq/ward/shared/account"
	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/users"
)

// The self-service pages: each GET shows a form with the browser's
// double-submit CSRF token, each POST checks it, hands the form to one
// account operation and, when it succeeds, redirects to a GET that says
// so. What they show never depends on whether an account exists: the
// account operations answer alike, and so do the pages.

// maxTokenBytes bounds a token or ID taken from a URL or a form; the
// account function checks them properly.
const maxTokenBytes = 256

// formPost parses a POST of a self-service form and checks its CSRF
// token. It answers the refusal itself and returns false.
func (s *service) formPost(req *request) bool {
	req.r.Body = http.MaxBytesReader(req.w, req.r.Body, maxFormBytes)
	if err := req.r.ParseForm(); err != nil {
		s.refuseForm(req, http.StatusBadRequest)
		return false
	}
	if !s.checkFormCSRF(req.r) {
		s.refuseForm(req, http.StatusForbidden)
		return false
	}
	return true
}

// refused shows a form again with err: a refusal on the form's fields or
// in the summary, a fault as a fault page.
func (s *service) refused(req *request, name string, p *page, err error, fields ...string) {
	code := errs.CodeOf(err)
	if code == errs.Internal || code == errs.Unavailable {
		s.fault(req.w, req.r, err)
		return
	}
	p.fail(err, fields...)
	p.CSRF = s.formCSRF(req.w, req.r)
	req.render(code.HTTPStatus(), name, p)
}

func bounded(s string) string {
	if len(s) > maxTokenBytes {
		return ""
	}
	return s
}

func (s *service) registerGet(_ context.Context, req *request) {
	p := req.page("Create an account")
	p.Invitation = bounded(req.r.URL.Query().Get("invitation"))
	if !registrationOpen(req.tenant, p.Invitation) {
		p.Notice = "You cannot create an account here yourself. Ask the people who run " +
			req.brand.Name + " for an invitation."
		req.render(http.StatusForbidden, "message", p)
		return
	}
	p.CSRF = s.formCSRF(req.w, req.r)
	req.render(http.StatusOK, "register", p)
}

func registrationOpen(t store.Tenant, invitation string) bool {
	return t.Registration == store.RegistrationOpen ||
		(t.Registration == store.RegistrationInvite && invitation != "")
}

func (s *service) registerPost(ctx context.Context, req *request) {
	if !s.formPost(req) {
		return
	}
	f := req.r.PostForm
	in := account.RegisterInput{Tenant: req.tenant.Name, Email: strings.TrimSpace(f.Get("email")),
		DisplayName: strings.TrimSpace(f.Get("displayName")),
		Password:    users.Password(f.Get("password")), Locale: req.locale,
		Invitation: bounded(f.Get("invitation"))}
	p := req.page("Create an account")
	p.Invitation = in.Invitation
	p.Values["email"], p.Values["displayName"] = in.Email, in.DisplayName

	out, err := invoke.Call[account.RegisterOutput](ctx, s.inv, account.FunctionName,
		account.OpRegister, serviceCaller, in)
	if err != nil {
		s.refused(req, "register", p, err, "email", "displayName", "password")
		return
	}
	if out.VerificationID == "" {
		// An invitation: the account is active already.
		http.Redirect(req.w, req.r, loginURL(req.tenant.Name, "", nil), http.StatusSeeOther)
		return
	}
	target := "/t/" + req.tenant.Name + "/verify-email?" +
		url.Values{"verificationId": {out.VerificationID}}.Encode()
	http.Redirect(req.w, req.r, target, http.StatusSeeOther)
}

func (s *service) verifyGet(_ context.Context, req *request) {
	q := req.r.URL.Query()
	p := req.page("Verify your email address")
	p.CSRF = s.formCSRF(req.w, req.r)
	switch {
	case q.Has("done"):
		p.Done = true
	case q.Get("token") != "":
		p.Token = bounded(q.Get("token"))
	case q.Get("verificationId") != "":
		p.VerificationID = bounded(q.Get("verificationId"))
		p.Notice = "We sent a message with a code to the address you gave. Enter the code, " +
			"or open the link in the message."
	default:
		p.Notice = "Open the link in the message we sent you to verify your address."
		req.render(http.StatusOK, "message", p)
		return
	}
	req.render(http.StatusOK, "verify", p)
}

func (s *service) verifyPost(ctx context.Context, req *request) {
	if !s.formPost(req) {
		return
	}
	f := req.r.PostForm
	in := account.VerifyEmailInput{Tenant: req.tenant.Name, Token: bounded(f.Get("token"))}
	if in.Token == "" {
		in.VerificationID = bounded(f.Get("verificationId"))
		in.Code = strings.TrimSpace(f.Get("code"))
	}
	p := req.page("Verify your email address")
	p.Token, p.VerificationID = in.Token, in.VerificationID
	p.Values["code"] = in.Code

	_, err := invoke.Call[account.VerifyOutput](ctx, s.inv, account.FunctionName,
		account.OpVerifyEmail, serviceCaller, in)
	if err != nil {
		if in.Token == "" && errs.CodeOf(err) == errs.InvalidArgument {
			// A wrong or expired code is the code field's error.
			p.failField("code", sentence(errs.Public(err).Message))
			p.CSRF = s.formCSRF(req.w, req.r)
			req.render(http.StatusBadRequest, "verify", p)
			return
		}
		s.refused(req, "verify", p, err, "code")
		return
	}
	http.Redirect(req.w, req.r, "/t/"+req.tenant.Name+"/verify-email?done=1", http.StatusSeeOther)
}

func (s *service) recoverGet(_ context.Context, req *request) {
	p := req.page("Forgot your password?")
	p.Done = req.r.URL.Query().Has("sent")
	p.CSRF = s.formCSRF(req.w, req.r)
	req.render(http.StatusOK, "recover", p)
}

func (s *service) recoverPost(ctx context.Context, req *request) {
	if !s.formPost(req) {
		return
	}
	in := account.RequestResetInput{Tenant: req.tenant.Name,
		Email: strings.TrimSpace(req.r.PostForm.Get("email"))}
	p := req.page("Forgot your password?")
	p.Values["email"] = in.Email
	_, err := invoke.Call[account.AcceptedOutput](ctx, s.inv, account.FunctionName,
		account.OpRequestPasswordReset, serviceCaller, in)
	if err != nil {
		s.refused(req, "recover", p, err, "email")
		return
	}
	http.Redirect(req.w, req.r, "/t/"+req.tenant.Name+"/recover?sent=1", http.StatusSeeOther)
}

func (s *service) resetGet(_ context.Context, req *request) {
	q := req.r.URL.Query()
	p := req.page("Choose a new password")
	p.Done = q.Has("done")
	p.Token = bounded(q.Get("token"))
	p.CSRF = s.formCSRF(req.w, req.r)
	req.render(http.StatusOK, "reset", p)
}

func (s *service) resetPost(ctx context.Context, req *request) {
	if !s.formPost(req) {
		return
	}
	f := req.r.PostForm
	in := account.ResetPasswordInput{Tenant: req.tenant.Name, Token: bounded(f.Get("token")),
		NewPassword: users.Password(f.Get("newPassword"))}
	p := req.page("Choose a new password")
	p.Token = in.Token
	_, err := invoke.Call[account.AcceptedOutput](ctx, s.inv, account.FunctionName,
		account.OpResetPassword, serviceCaller, in)
	if err != nil {
		s.refused(req, "reset", p, err, "newPassword")
		return
	}
	http.Redirect(req.w, req.r, "/t/"+req.tenant.Name+"/reset?done=1", http.StatusSeeOther)
}
