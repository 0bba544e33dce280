package oauth_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wardhq/ward/shared/clients"
	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/oauth"
	"github.com/wardhq/ward/shared/pages"
	"github.com/wardhq/ward/shared/sessions"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/tenants"
	"github.com/wardhq/ward/shared/validate"
)

// withPages hosts the hosted pages (and the tenants function they read)
// beside the oauth function, on the same server, as the local process
// does.
func (e *env) withPages(t testing.TB) {
	t.Helper()
	e.inv.Register(tenants.Function(tenants.Deps{Store: e.st, Now: e.clk.Now, Log: quiet}))
	f := pages.Function(pages.Deps{Invoker: e.inv, PublicURL: e.srv.URL, Now: e.clk.Now,
		Log: quiet})
	function.Mount(e.srv.Config.Handler.(*http.ServeMux), f)
}

// consentClient registers a client of the code flow that requires
// consent, with the refresh_token grant.
func (e *env) consentClient(t testing.TB, require bool) registered {
	t.Helper()
	return e.codeClient(t, e.a, clients.CreateInput{Name: "Photo Printer",
		GrantTypes:     []string{clients.GrantAuthorizationCode, clients.GrantRefreshToken},
		RequireConsent: &require})
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// consentPage follows a redirect to the consent page with the session
// cookie and returns the page, its CSRF token (cookie and field) and the
// request ID.
func (e *env) consentPage(t testing.TB, a authAnswer, cookie string) (body, csrf, id string) {
	t.Helper()
	if a.status != http.StatusSeeOther || a.location == nil ||
		a.location.Path != "/t/acme/consent" || a.location.Query().Get("request") == "" {
		t.Fatalf("authorize: %d %v, want the consent page; %s", a.status, a.location, a.body)
	}
	page := e.browse(t, a.location.String(), cookie)
	if page.status != http.StatusOK {
		t.Fatalf("consent page: %d %s", page.status, page.body)
	}
	m := csrfField.FindStringSubmatch(page.body)
	if m == nil {
		t.Fatalf("consent page without a CSRF field: %s", page.body)
	}
	return page.body, m[1], a.location.Query().Get("request")
}

// answerConsent posts the consent form: cookies and fields as given.
func (e *env) answerConsent(t testing.TB, cookie, csrfCookie, csrf, id, decision string,
	header http.Header) authAnswer {
	t.Helper()
	f := url.Values{"csrf": {csrf}, "request": {id}, "decision": {decision}}
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/t/acme/consent",
		strings.NewReader(f.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header[k] = v
	}
	req.AddCookie(&http.Cookie{Name: sessions.CookieName(false), Value: cookie})
	if csrfCookie != "" {
		req.AddCookie(&http.Cookie{Name: "ward_csrf", Value: csrfCookie})
	}
	resp, err := noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := authAnswer{status: resp.StatusCode, header: resp.Header, body: string(b)}
	if loc := resp.Header.Get("Location"); loc != "" {
		a.location, _ = url.Parse(loc)
	}
	return a
}

// consent answers the consent page reached by a with decision and
// follows the browser back to the authorization endpoint.
func (e *env) consent(t testing.TB, a authAnswer, cookie, decision string) authAnswer {
	t.Helper()
	_, csrf, id := e.consentPage(t, a, cookie)
	d := e.answerConsent(t, cookie, csrf, csrf, id, decision, nil)
	if d.status != http.StatusSeeOther || d.location == nil ||
		d.location.Path != "/t/acme/oauth2/authorize" {
		t.Fatalf("consent answer: %d %v %s", d.status, d.location, d.body)
	}
	return e.browse(t, e.srv.URL+d.location.String(), cookie)
}

// someone makes an active user of acme (e.user's usernames repeat within
// a millisecond).
func (e *env) someone(t testing.TB) store.User {
	t.Helper()
	u, err := e.st.Users().Create(context.Background(), store.User{ID: validate.NewID(),
		TenantID: e.a.ID, Username: "u" + strings.ReplaceAll(validate.NewID()[19:], "-", ""),
		Status: store.UserActive, Attributes: map[string]any{}, CreatedAt: e.clk.Now(),
		UpdatedAt: e.clk.Now()})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func (e *env) storedConsent(t testing.TB, user, client string) (store.Consent, bool) {
	t.Helper()
	c, err := e.st.Consents().Get(context.Background(), e.a.ID, user, client)
	if errors.Is(err, errs.ErrNotFound) {
		return store.Consent{}, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return c, true
}

// consentCase is a test's server with the pages, a client that requires
// consent (or not), a user of acme and that user's session cookie.
type consentCase struct {
	*env
	c                   registered
	u                   store.User
	cookie              string
	verifier, challenge string
}

func newConsentCase(t *testing.T, require bool) consentCase {
	e := newEnv(t)
	e.withPages(t)
	cc := consentCase{env: e, c: e.consentClient(t, require), u: e.someone(t)}
	cc.cookie = e.session(t, cc.u, store.ACRPassword, e.clk.Now())
	cc.verifier, cc.challenge = pkce()
	return cc
}

func TestConsentIsAskedRememberedAndAskedAgain(t *testing.T) {
	cc := newConsentCase(t, true)
	e, c, u, cookie, verifier, challenge := cc.env, cc.c, cc.u, cc.cookie, cc.verifier, cc.challenge

	a := e.authorize(t, "acme", authQuery(c, challenge), cookie)
	body, _, _ := e.consentPage(t, a, cookie)
	for _, want := range []string{"Photo Printer", "Sign you in with your account",
		"See your name, username and language", `value="allow"`, `value="deny"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the consent page lacks %q", want)
		}
	}
	code := e.codeOf(t, e.consent(t, a, cookie, "allow"))
	if r := e.redeem(t, c, false, "code", code, "code_verifier", verifier); r.status != 200 {
		t.Fatalf("token: %d %s", r.status, r.raw)
	}
	got, ok := e.storedConsent(t, u.ID, c.id)
	if !ok || strings.Join(got.Scopes, " ") != "openid profile" {
		t.Fatalf("remembered consent = %+v, %v", got, ok)
	}

	t.Run("a remembered consent skips the page", func(t *testing.T) {
		e.codeOf(t, e.authorize(t, "acme", authQuery(c, challenge, "scope", "openid"), cookie))
		e.codeOf(t, e.authorize(t, "acme", authQuery(c, challenge, "prompt", "none"), cookie))
	})
	t.Run("prompt=none with a wider scope is consent_required", func(t *testing.T) {
		errorOf(t, e.authorize(t, "acme", authQuery(c, challenge, "prompt", "none",
			"scope", "openid phone"), cookie), "consent_required")
	})
	t.Run("a wider scope asks again and merges", func(t *testing.T) {
		a := e.authorize(t, "acme", authQuery(c, challenge, "scope", "openid email"), cookie)
		body, _, _ := e.consentPage(t, a, cookie)
		if !strings.Contains(body, "See your email address") {
			t.Errorf("the page does not describe email: %s", body)
		}
		e.codeOf(t, e.consent(t, a, cookie, "allow"))
		got, _ := e.storedConsent(t, u.ID, c.id)
		if strings.Join(got.Scopes, " ") != "email openid profile" {
			t.Errorf("merged scopes = %v", got.Scopes)
		}
	})
	t.Run("prompt=consent asks again", func(t *testing.T) {
		a := e.authorize(t, "acme", authQuery(c, challenge, "prompt", "consent"), cookie)
		e.codeOf(t, e.consent(t, a, cookie, "allow"))
	})
	t.Run("a request's decision serves its own user only", func(t *testing.T) {
		a := e.authorize(t, "acme", authQuery(c, challenge, "prompt", "consent"), cookie)
		_, csrf, id := e.consentPage(t, a, cookie)
		d := e.answerConsent(t, cookie, csrf, csrf, id, "allow", nil)
		// Another user's browser resuming it is asked for its own consent.
		other := e.session(t, e.someone(t), store.ACRPassword, e.clk.Now())
		r := e.browse(t, e.srv.URL+d.location.String(), other)
		if r.location == nil || r.location.Path != "/t/acme/consent" {
			t.Errorf("another user resuming: %d %v", r.status, r.location)
		}
	})
}

func TestConsentDenyIsAccessDenied(t *testing.T) {
	cc := newConsentCase(t, true)
	e, c, u, cookie, challenge := cc.env, cc.c, cc.u, cc.cookie, cc.challenge

	errorOf(t, e.consent(t, e.authorize(t, "acme", authQuery(c, challenge), cookie), cookie,
		"deny"), "access_denied")
	if got, ok := e.storedConsent(t, u.ID, c.id); ok {
		t.Errorf("a denial was remembered: %+v", got)
	}
}

func TestConsentPolicyOfClients(t *testing.T) {
	e := newEnv(t)
	e.withPages(t)
	u := e.someone(t)
	cookie := e.session(t, u, store.ACRPassword, e.clk.Now())
	_, challenge := pkce()

	own := e.consentClient(t, false)
	e.codeOf(t, e.authorize(t, "acme", authQuery(own, challenge), cookie))
	e.codeOf(t, e.authorize(t, "acme", authQuery(own, challenge, "prompt", "none"), cookie))
	a := e.authorize(t, "acme", authQuery(own, challenge, "prompt", "consent"), cookie)
	e.codeOf(t, e.consent(t, a, cookie, "allow"))

	dflt := e.codeClient(t, e.a, clients.CreateInput{})
	e.codeOf(t, e.authorize(t, "acme", authQuery(dflt, challenge), cookie))
}

func TestConsentFormRefusesForgery(t *testing.T) {
	cc := newConsentCase(t, true)
	e, c, u, cookie, challenge := cc.env, cc.c, cc.u, cc.cookie, cc.challenge
	a := e.authorize(t, "acme", authQuery(c, challenge), cookie)
	_, csrf, id := e.consentPage(t, a, cookie)

	for name, d := range map[string]authAnswer{
		"no CSRF cookie":    e.answerConsent(t, cookie, "", csrf, id, "allow", nil),
		"another token":     e.answerConsent(t, cookie, csrf, strings.Repeat("x", 43), id, "allow", nil),
		"no token":          e.answerConsent(t, cookie, csrf, "", id, "allow", nil),
		"another origin":    e.answerConsent(t, cookie, csrf, csrf, id, "allow", http.Header{"Origin": {"https://evil.example"}}),
		"a cross-site POST": e.answerConsent(t, cookie, csrf, csrf, id, "allow", http.Header{"Sec-Fetch-Site": {"cross-site"}}),
	} {
		if d.status != http.StatusForbidden || d.location != nil {
			t.Errorf("%s: %d %v, want 403", name, d.status, d.location)
		}
	}
	other := e.session(t, e.someone(t), store.ACRPassword, e.clk.Now())
	if d := e.answerConsent(t, other, csrf, csrf, id, "allow", nil); d.status != http.StatusNotFound {
		t.Errorf("another user's session: %d %v, want 404", d.status, d.location)
	}
	if p := e.browse(t, a.location.String(), other); p.status != http.StatusNotFound ||
		strings.Contains(p.body, "Photo Printer") {
		t.Errorf("another user's session sees the page: %d", p.status)
	}
	if _, ok := e.storedConsent(t, u.ID, c.id); ok {
		t.Error("a refused form recorded consent")
	}
	// The request is still waiting for its own user.
	e.codeOf(t, e.consent(t, a, cookie, "allow"))
}

func TestConsentOperationsAreScoped(t *testing.T) {
	cc := newConsentCase(t, true)
	e, c, u, cookie, challenge := cc.env, cc.c, cc.u, cc.cookie, cc.challenge
	ctx := context.Background()
	a := e.authorize(t, "acme", authQuery(c, challenge), cookie)
	_, _, id := e.consentPage(t, a, cookie)

	sess, err := invoke.Call[sessions.ValidateOutput](ctx, e.inv, sessions.FunctionName,
		sessions.OpValidate, service, sessions.ValidateInput{Token: sessions.Token(cookie),
			Tenant: e.a.ID})
	if err != nil {
		t.Fatal(err)
	}
	in := oauth.ConsentRequestInput{TenantID: e.a.ID, RequestID: id, UserID: u.ID,
		SessionID: sess.SessionID}
	ask := func(caller function.Caller, in oauth.ConsentRequestInput) error {
		_, err := invoke.Call[oauth.ConsentRequestOutput](ctx, e.inv, oauth.FunctionName,
			oauth.OpConsentRequest, caller, in)
		return err
	}
	if err := ask(service, in); err != nil {
		t.Fatalf("the request's own user and session: %v", err)
	}
	self := function.Caller{Subject: u.ID, Tenant: e.a.ID, Roles: []string{function.RoleUser}}
	if err := ask(self, in); !errors.Is(err, errs.ErrPermissionDenied) {
		t.Errorf("a user calling directly: %v, want PERMISSION_DENIED", err)
	}
	for name, bad := range map[string]oauth.ConsentRequestInput{
		"another user":    {TenantID: e.a.ID, RequestID: id, UserID: e.someone(t).ID, SessionID: sess.SessionID},
		"another session": {TenantID: e.a.ID, RequestID: id, UserID: u.ID, SessionID: e.a.ID},
		"another tenant":  {TenantID: e.b.ID, RequestID: id, UserID: u.ID, SessionID: sess.SessionID},
		"an unknown ID":   {TenantID: e.a.ID, RequestID: "nope", UserID: u.ID, SessionID: sess.SessionID},
	} {
		if err := ask(service, bad); !errors.Is(err, errs.ErrNotFound) {
			t.Errorf("%s: %v, want NOT_FOUND", name, err)
		}
	}
	e.clk.Add(16 * time.Minute) // past the request's 15 minutes
	if err := ask(service, in); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("a lapsed request: %v, want NOT_FOUND", err)
	}

	// A live request of a client deleted since.
	cookie = e.session(t, u, store.ACRPassword, e.clk.Now())
	_, _, id = e.consentPage(t, e.authorize(t, "acme", authQuery(c, challenge), cookie), cookie)
	sess, err = invoke.Call[sessions.ValidateOutput](ctx, e.inv, sessions.FunctionName,
		sessions.OpValidate, service, sessions.ValidateInput{Token: sessions.Token(cookie),
			Tenant: e.a.ID})
	if err != nil {
		t.Fatal(err)
	}
	in = oauth.ConsentRequestInput{TenantID: e.a.ID, RequestID: id, UserID: u.ID,
		SessionID: sess.SessionID}
	if err := ask(service, in); err != nil {
		t.Fatalf("a new request: %v", err)
	}
	_, err = invoke.Call[clients.DeleteOutput](ctx, e.inv, clients.FunctionName, clients.OpDelete,
		tenantAdmin(e.a.ID), clients.DeleteInput{TenantID: e.a.ID, ID: c.id})
	if err != nil {
		t.Fatal(err)
	}
	if err := ask(service, in); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("a deleted client's request: %v, want NOT_FOUND", err)
	}
}

func TestRevokeConsent(t *testing.T) {
	cc := newConsentCase(t, true)
	e, c, u, cookie, verifier, challenge := cc.env, cc.c, cc.u, cc.cookie, cc.verifier, cc.challenge
	ctx := context.Background()

	code := e.codeOf(t, e.consent(t, e.authorize(t, "acme", authQuery(c, challenge), cookie),
		cookie, "allow"))
	r := e.redeem(t, c, false, "code", code, "code_verifier", verifier)
	rt, _ := r.body["refresh_token"].(string)
	if rt == "" {
		t.Fatalf("no refresh token: %s", r.raw)
	}

	list := func(caller function.Caller, tenant string) ([]store.Consent, error) {
		out, err := invoke.Call[oauth.ConsentsOutput](ctx, e.inv, oauth.FunctionName,
			oauth.OpListConsents, caller, oauth.ListConsentsInput{TenantID: tenant, UserID: u.ID})
		return out.Items, err
	}
	revoke := func(caller function.Caller) (int, error) {
		out, err := invoke.Call[oauth.RevokeConsentOutput](ctx, e.inv, oauth.FunctionName,
			oauth.OpRevokeConsent, caller, oauth.RevokeConsentInput{TenantID: e.a.ID,
				UserID: u.ID, ClientID: c.id})
		return out.RevokedGrants, err
	}
	stranger := function.Caller{Subject: e.someone(t).ID, Tenant: e.a.ID,
		Roles: []string{function.RoleUser}}
	if _, err := list(stranger, e.a.ID); !errors.Is(err, errs.ErrPermissionDenied) {
		t.Errorf("another user lists: %v, want PERMISSION_DENIED", err)
	}
	if _, err := revoke(stranger); !errors.Is(err, errs.ErrPermissionDenied) {
		t.Errorf("another user revokes: %v, want PERMISSION_DENIED", err)
	}
	if _, err := list(tenantAdmin(e.b.ID), e.a.ID); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("beta's administrator lists: %v, want NOT_FOUND", err)
	}
	if _, err := revoke(tenantAdmin(e.b.ID)); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("beta's administrator revokes: %v, want NOT_FOUND", err)
	}
	if items, err := list(tenantAdmin(e.a.ID), e.a.ID); err != nil || len(items) != 1 {
		t.Errorf("acme's administrator lists: %v, %v", items, err)
	}

	self := function.Caller{Subject: u.ID, Tenant: e.a.ID, Roles: []string{function.RoleUser}}
	items, err := list(self, e.a.ID)
	if err != nil || len(items) != 1 || items[0].ClientID != c.id {
		t.Fatalf("the user lists: %+v, %v", items, err)
	}
	n, err := revoke(self)
	if err != nil || n != 1 {
		t.Fatalf("the user revokes: %d, %v; want one family", n, err)
	}
	if _, err := revoke(self); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("revoked twice: %v, want NOT_FOUND", err)
	}
	if a := e.refresh(t, "acme", c, rt); a.status != 400 || a.body["error"] != "invalid_grant" {
		t.Errorf("refresh after the consent was revoked: %d %s", a.status, a.raw)
	}
	e.consentPage(t, e.authorize(t, "acme", authQuery(c, challenge), cookie), cookie)
	trail, _, err := e.st.Audit().List(ctx, e.a.ID, store.AuditFilter{}, store.Page{Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, ev := range trail {
		actions = append(actions, ev.Action)
	}
	for _, want := range []string{"oauthConsent.grant", "oauthConsent.revoke"} {
		if !strings.Contains(strings.Join(actions, " "), want) {
			t.Errorf("audit trail %v lacks %s", actions, want)
		}
	}
}
