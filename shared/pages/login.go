package pages

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/wardhq/ward/shared/authn"
	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/httpx"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/sessions"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/users"
)

// maxFormBytes bounds the body of any form the pages take.
const maxFormBytes = 64 << 10

// flowRef is the sign-in flow a browser is in, as its ward_flow cookie
// holds it: "<tenant>~<flow ID>~<flow CSRF token>".
type flowRef struct {
	Tenant, ID, CSRF string
}

func (s *service) flowOf(r *http.Request, tenant string) (flowRef, bool) {
	parts := strings.Split(s.cookie(r, cookieFlow), "~")
	if len(parts) != 3 || parts[0] != tenant || parts[1] == "" || parts[2] == "" {
		return flowRef{}, false
	}
	return flowRef{Tenant: parts[0], ID: parts[1], CSRF: parts[2]}, true
}

func (s *service) setFlow(w http.ResponseWriter, f flowRef, expires time.Time) {
	ttl := expires.Sub(s.now())
	if ttl <= 0 || ttl > authn.FlowTTL {
		ttl = authn.FlowTTL
	}
	s.setCookie(w, cookieFlow, f.Tenant+"~"+f.ID+"~"+f.CSRF, ttl, http.SameSiteStrictMode)
}

// deviceOf is the browser's device ID, made and set when it has none.
func (s *service) deviceOf(w http.ResponseWriter, r *http.Request) string {
	if v := s.cookie(r, cookieDevice); csrfRE.MatchString(v) {
		return v
	}
	v := randomToken(32)
	s.setCookie(w, cookieDevice, v, deviceLifetime, http.SameSiteStrictMode)
	return v
}

func (s *service) clientOf(w http.ResponseWriter, r *http.Request) authn.Client {
	return authn.Client{IP: httpx.ClientIP(r), UserAgent: r.UserAgent(), DeviceID: s.deviceOf(w, r)}
}

// maxLoginHint bounds the login_hint the page takes.
const maxLoginHint = 256

// loginURL is the login page, keeping return_to.
func loginURL(tenant, returnTo string, extra url.Values) string {
	q := url.Values{}
	for k, v := range extra {
		q[k] = v
	}
	if returnTo != "" {
		q.Set("return_to", returnTo)
	}
	u := "/t/" + tenant + "/login"
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

// refuseReturnTo answers a return_to that is not allowed (security.go).
func (req *request) refuseReturnTo() {
	p := req.page("This sign-in link cannot be used")
	p.Notice = "The address to return to after signing in is not one this site may send you to."
	req.render(http.StatusBadRequest, "message", p)
}

// loginGet shows the current step of the browser's flow, starting one
// when it has none (or its flow has ended).
func (s *service) loginGet(ctx context.Context, req *request) {
	q := req.r.URL.Query()
	rt, ok := s.returnTo(q.Get("return_to"), req.tenant)
	if !ok {
		req.refuseReturnTo()
		return
	}
	// login_hint (OpenID Connect Core section 3.1.2.1, passed on by the
	// authorization endpoint) prefills the username; it is only a hint.
	hint := q.Get("login_hint")
	if len(hint) > maxLoginHint || !utf8.ValidString(hint) {
		hint = ""
	}
	if q.Has("restart") {
		s.setCookie(req.w, cookieFlow, "", -1, http.SameSiteStrictMode)
		var extra url.Values
		if hint != "" {
			extra = url.Values{"login_hint": {hint}}
		}
		http.Redirect(req.w, req.r, loginURL(req.tenant.Name, rt, extra), http.StatusSeeOther)
		return
	}

	p := req.page("Sign in")
	p.ReturnTo = rt
	if hint != "" {
		p.Values["username"] = hint
	}
	out, ref, err := s.currentFlow(ctx, req)
	if err != nil {
		s.fault(req.w, req.r, err)
		return
	}
	s.showFlow(req, p, out, ref, http.StatusOK)
}

// currentFlow reads the browser's flow, or starts a new one.
func (s *service) currentFlow(ctx context.Context, req *request) (authn.FlowOutput, flowRef,
	error) {
	if ref, ok := s.flowOf(req.r, req.tenant.Name); ok {
		out, err := invoke.Call[authn.FlowOutput](ctx, s.inv, authn.FunctionName, authn.OpGet,
			serviceCaller, authn.GetInput{FlowID: ref.ID, CSRF: ref.CSRF})
		if err == nil && out.Step != authn.StepDone {
			return out, ref, nil
		}
		if err != nil && errs.CodeOf(err) != errs.NotFound && errs.CodeOf(err) != errs.InvalidArgument {
			return authn.FlowOutput{}, flowRef{}, err
		}
	}
	out, err := invoke.Call[authn.FlowOutput](ctx, s.inv, authn.FunctionName, authn.OpStart,
		serviceCaller, authn.StartInput{Tenant: req.tenant.Name, Client: s.clientOf(req.w, req.r)})
	if err != nil {
		return authn.FlowOutput{}, flowRef{}, err
	}
	ref := flowRef{Tenant: req.tenant.Name, ID: out.FlowID, CSRF: out.CSRF}
	s.setFlow(req.w, ref, out.ExpiresAt)
	return out, ref, nil
}

func (s *service) showFlow(req *request, p *page, out authn.FlowOutput, ref flowRef, status int) {
	s.allowReturn(req.w, p.ReturnTo)
	p.CSRF = ref.CSRF
	p.Flow = viewOf(out)
	if p.Values["username"] == "" {
		p.Values["username"] = out.Username
	}
	req.render(status, "login", p)
}

// loginPost answers the flow's current step with the form.
func (s *service) loginPost(ctx context.Context, req *request) {
	w, r := req.w, req.r
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		s.refuseForm(req, http.StatusBadRequest)
		return
	}
	rt, ok := s.returnTo(r.PostFormValue("return_to"), req.tenant)
	if !ok {
		req.refuseReturnTo()
		return
	}
	ref, ok := s.flowOf(r, req.tenant.Name)
	if !s.sameOrigin(r) || !ok || !sameString(r.PostFormValue("csrf"), ref.CSRF) {
		s.refuseForm(req, http.StatusForbidden)
		return
	}

	step := r.PostFormValue("step")
	in := authn.SubmitInput{FlowID: ref.ID, CSRF: ref.CSRF, Step: step,
		Client: s.clientOf(w, r)}
	fields := answerFields(step)
	switch step {
	case authn.StepIdentify:
		in.Username = strings.TrimSpace(r.PostFormValue("username"))
		in.Password = users.Password(r.PostFormValue("password"))
	case authn.StepPassword:
		in.Password = users.Password(r.PostFormValue("password"))
	case authn.StepSelectFactor:
		in.FactorID = r.PostFormValue("factorId")
	case authn.StepVerifyFactor:
		in.FactorID = r.PostFormValue("factorId")
		in.Resend = r.PostFormValue("resend") != ""
		in.Code = strings.TrimSpace(r.PostFormValue("code"))
	case authn.StepEnroll:
		in.FactorType = store.FactorType(r.PostFormValue("factorType"))
		in.Phone = strings.TrimSpace(r.PostFormValue("phone"))
	case authn.StepConfirmEnroll:
		in.Code = strings.TrimSpace(r.PostFormValue("code"))
	default:
		// An old or forged step: show where the flow stands.
		http.Redirect(w, r, loginURL(req.tenant.Name, rt, nil), http.StatusSeeOther)
		return
	}

	out, err := invoke.Call[authn.FlowOutput](ctx, s.inv, authn.FunctionName, authn.OpSubmit,
		serviceCaller, in)
	if err != nil {
		s.loginFailed(ctx, req, rt, step, fields, in, err)
		return
	}
	if out.Step != authn.StepDone {
		http.Redirect(w, r, loginURL(req.tenant.Name, rt, nil), http.StatusSeeOther)
		return
	}
	s.signedInTo(req, out, rt)
}

// answerFields are the fields a step's form has, for tying errors.
func answerFields(step string) []string {
	switch step {
	case authn.StepIdentify:
		return []string{"username", "password"}
	case authn.StepPassword:
		return []string{"password"}
	case authn.StepSelectFactor:
		return []string{"factorId"}
	case authn.StepVerifyFactor, authn.StepConfirmEnroll:
		return []string{"code"}
	case authn.StepEnroll:
		return []string{"factorType", "phone"}
	}
	return nil
}

// loginFailed shows a refused answer on the step it answered, or on a new
// flow when the refusal ended the flow.
func (s *service) loginFailed(ctx context.Context, req *request, rt, step string,
	fields []string, in authn.SubmitInput, err error) {
	code := errs.CodeOf(err)
	switch code {
	case errs.Internal, errs.Unavailable:
		s.fault(req.w, req.r, err)
		return
	}
	if code == errs.InvalidArgument && errs.Public(err).Field == "step" {
		// Answered twice, or from an old page: show where the flow is.
		http.Redirect(req.w, req.r, loginURL(req.tenant.Name, rt, nil), http.StatusSeeOther)
		return
	}

	p := req.page("Sign in")
	p.ReturnTo = rt
	p.Values["username"] = in.Username
	p.Values["phone"] = in.Phone
	switch {
	case code == errs.Unauthenticated && (step == authn.StepIdentify || step == authn.StepPassword):
		p.failField("password", sentence(errs.Public(err).Message))
	case code == errs.Unauthenticated && slices.Contains(fields, "code"):
		p.failField("code", sentence(errs.Public(err).Message))
	default:
		p.fail(err, fields...)
	}

	status := code.HTTPStatus()
	out, ref, ferr := s.currentFlow(ctx, req)
	if ferr != nil {
		s.fault(req.w, req.r, ferr)
		return
	}
	if ref.ID != in.FlowID {
		// The refusal ended the flow (too many tries): the error stays in
		// the summary of the new flow's first page.
		for i := range p.Errors {
			p.Errors[i].Field = ""
		}
	}
	s.showFlow(req, p, out, ref, status)
}

// signedInTo ends a successful sign-in: the session cookie, and the
// browser on its way to return_to.
func (s *service) signedInTo(req *request, out authn.FlowOutput, rt string) {
	s.setCookie(req.w, cookieFlow, "", -1, http.SameSiteStrictMode)
	sess := out.Session
	if sess == nil || sess.Token == "" || sess.TenantID != req.tenant.ID {
		s.fault(req.w, req.r, errs.New(errs.Internal, "a finished sign-in without a session"))
		return
	}
	ttl := sess.ExpiresAt.Sub(s.now())
	if ttl <= 0 {
		ttl = time.Minute
	}
	s.setCookie(req.w, cookieSession, sess.Token, ttl, http.SameSiteLaxMode)
	if rt == "" {
		rt = "/t/" + req.tenant.Name + "/signed-in"
	}
	if authorizeReturn(rt, req.tenant.Name) {
		s.continueTo(req, rt)
		return
	}
	http.Redirect(req.w, req.r, rt, http.StatusSeeOther)
}

// authorizeReturn says whether return_to is the tenant's authorization
// endpoint, which redirects on to a client's redirect URI on another
// origin.
func authorizeReturn(rt, tenant string) bool {
	u, err := url.Parse(rt)
	return err == nil && u.Host == "" &&
		strings.EqualFold(u.Path, "/t/"+tenant+"/oauth2/authorize")
}

// continueTo ends a sign-in bound for the authorization endpoint on a page
// of its own that moves on by a Refresh header, with a link for browsers
// that do not follow it. Browsers hold form-action against every redirect
// that follows a form's POST (CSP Level 3, form-action), and the pages'
// form-action is 'self': a 303 from the sign-in to the authorization
// endpoint, which then redirects to the client, would be blocked at the
// client's origin. The Refresh is a navigation of its own, not the form's.
func (s *service) continueTo(req *request, rt string) {
	p := req.page("Signed in")
	p.ReturnTo = rt
	req.w.Header().Set("Refresh", "0; url="+rt)
	req.render(http.StatusOK, "continue", p)
}

// refuseForm answers a POST whose CSRF check failed; nothing is changed.
func (s *service) refuseForm(req *request, status int) {
	p := req.page("This form has expired")
	p.Notice = "The form was sent without the token this site gave it, or the token has " +
		"expired. Go back, reload the page and try again."
	req.render(status, "message", p)
}

// signedIn is the landing page of a sign-in without return_to. It checks
// the session cookie with the sessions service; without a working
// session it sends the browser to sign in.
func (s *service) signedIn(ctx context.Context, req *request) {
	token := s.cookie(req.r, cookieSession)
	if token != "" {
		_, err := invoke.Call[sessions.ValidateOutput](ctx, s.inv, sessions.FunctionName,
			sessions.OpValidate, serviceCaller,
			sessions.ValidateInput{Token: sessions.Token(token), Tenant: req.tenant.ID})
		switch {
		case err == nil:
			p := req.page("Signed in")
			p.CSRF = s.formCSRF(req.w, req.r)
			req.render(http.StatusOK, "signed-in", p)
			return
		case errs.CodeOf(err) != errs.Unauthenticated && errs.CodeOf(err) != errs.InvalidArgument:
			s.fault(req.w, req.r, err)
			return
		}
	}
	http.Redirect(req.w, req.r, loginURL(req.tenant.Name, "", nil), http.StatusSeeOther)
}

// flowView is a flow's step as the login template shows it.
type flowView struct {
	Step        string
	Username    string
	Factors     []factorView
	Others      []factorView // at verify_factor: the factors to switch to
	Challenge   *challengeView
	EnrollTypes []option
	NeedsPhone  bool
	Enrollment  *enrollmentView
}

type factorView struct {
	ID          string
	Label       string
	NeedsScript bool
}

type challengeView struct {
	Prompt      string
	CanResend   bool
	NeedsScript bool
}

type option struct{ Value, Label string }

type enrollmentView struct {
	QR          safeURL
	Secret      string
	SentTo      string
	NeedsScript bool
}

var typeLabels = map[store.FactorType]string{
	store.FactorTOTP: "Authenticator app", store.FactorWebAuthn: "Security key or passkey",
	store.FactorEmail: "Code by email", store.FactorSMS: "Code by text message",
	store.FactorVoice: "Code by phone call", store.FactorRecovery: "Recovery code",
}

func typeLabel(t store.FactorType) string {
	if l, ok := typeLabels[t]; ok {
		return l
	}
	return string(t)
}

// viewOf turns a flow's output into what the page shows. It is generic:
// whatever factors and types the flow lists are offered, except those
// that need JavaScript.
func viewOf(out authn.FlowOutput) *flowView {
	v := &flowView{Step: out.Step, Username: out.Username}
	for _, f := range out.Factors {
		label := typeLabel(f.Type)
		if f.Name != "" && !strings.EqualFold(f.Name, string(f.Type)) {
			label += " (" + f.Name + ")"
		}
		if f.Hint != "" {
			label += ", " + f.Hint
		}
		fv := factorView{ID: f.ID, Label: label, NeedsScript: f.Type == store.FactorWebAuthn}
		v.Factors = append(v.Factors, fv)
		if !fv.NeedsScript && (out.Challenge == nil || out.Challenge.FactorID != f.ID) {
			v.Others = append(v.Others, fv)
		}
	}
	if c := out.Challenge; c != nil {
		cv := &challengeView{NeedsScript: c.Type == store.FactorWebAuthn}
		switch c.Type {
		case store.FactorTOTP:
			cv.Prompt = "Enter the code your authenticator app shows."
		case store.FactorRecovery:
			cv.Prompt = "Enter one of your recovery codes."
		case store.FactorEmail, store.FactorSMS, store.FactorVoice:
			cv.CanResend = true
			cv.Prompt = "Enter the code we sent"
			if c.SentTo != "" {
				cv.Prompt += " to " + c.SentTo
			}
			cv.Prompt += "."
		default:
			cv.Prompt = "Enter the code."
		}
		v.Challenge = cv
	}
	for _, t := range out.EnrollTypes {
		if t == store.FactorWebAuthn {
			continue
		}
		v.EnrollTypes = append(v.EnrollTypes, option{Value: string(t), Label: typeLabel(t)})
		v.NeedsPhone = v.NeedsPhone || t == store.FactorSMS || t == store.FactorVoice
	}
	if e := out.Enrollment; e != nil {
		v.Enrollment = &enrollmentView{QR: qrURL(e.QRCode), Secret: e.Secret, SentTo: e.SentTo,
			NeedsScript: e.Type == store.FactorWebAuthn}
	}
	return v
}

var qrRE = regexp.MustCompile(`^data:image/(?:png|gif|jpeg);base64,[A-Za-z0-9+/]+={0,2}$`)

// qrURL passes a QR code image through only when it is a base64 data:
// URL of a raster image; no other data: URL reaches a page.
func qrURL(s string) safeURL {
	if len(s) > 64<<10 || !qrRE.MatchString(s) {
		return ""
	}
	return safeURL(s)
}
