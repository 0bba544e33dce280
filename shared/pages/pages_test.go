package pages_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/wardhq/ward/shared/account"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/pages"
)

// env is the pages over fake functions, served by an httptest server whose
// URL is the pages' public URL.
type env struct {
	t        *testing.T
	srv      *httptest.Server
	authn    *fakeAuthn
	account  *fakeAccount
	sessions *fakeSessions
	device   *fakeDevice
	client   *http.Client
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{t: t, authn: newFakeAuthn(), account: &fakeAccount{}, sessions: &fakeSessions{},
		device: &fakeDevice{}}
	inv := invoke.NewLocal(fakeTenants(), e.authn.function(), e.account.function(),
		e.sessions.function(), e.device.function())
	var fn http.Handler
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fn.ServeHTTP(w, r)
	}))
	t.Cleanup(e.srv.Close)
	fn = pages.Function(pages.Deps{Invoker: inv, PublicURL: e.srv.URL,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}).Routes
	jar, _ := cookiejar.New(nil)
	e.client = &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	return e
}

// response is an answer with its body read.
type response struct {
	*http.Response
	body string
}

func (e *env) get(path string) response {
	e.t.Helper()
	resp, err := e.client.Get(e.srv.URL + path)
	if err != nil {
		e.t.Fatal(err)
	}
	return read(e.t, resp)
}

func (e *env) post(path string, form url.Values, header ...string) response {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	return read(e.t, resp)
}

func read(t *testing.T, resp *http.Response) response {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{resp, string(b)}
}

var hiddenRE = regexp.MustCompile(`<input type="hidden" name="([a-zA-Z_]+)" value="([^"]*)">`)

// hidden returns the hidden fields of a page's first form.
func (r response) hidden() url.Values {
	v := url.Values{}
	for _, m := range hiddenRE.FindAllStringSubmatch(r.body, -1) {
		if !v.Has(m[1]) {
			v.Set(m[1], htmlUnescape(m[2]))
		}
	}
	return v
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&amp;", "&", "&#43;", "+", "&#34;", `"`, "&#39;", "'",
		"&lt;", "<", "&gt;", ">").Replace(s)
}

func (r response) wantStatus(t *testing.T, want int) {
	t.Helper()
	if r.StatusCode != want {
		t.Fatalf("status = %d, want %d; body:\n%s", r.StatusCode, want, r.body)
	}
}

func (r response) cookie(name string) *http.Cookie {
	for _, c := range r.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// with returns form with the pairs added.
func with(form url.Values, kv ...string) url.Values {
	out := url.Values{}
	for k, v := range form {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out.Set(kv[i], kv[i+1])
	}
	return out
}

// signIn takes a fresh browser through the first step as username.
func (e *env) identify(username, password, returnTo string) response {
	e.t.Helper()
	path := "/t/acme/login"
	if returnTo != "" {
		path += "?" + url.Values{"return_to": {returnTo}}.Encode()
	}
	page := e.get(path)
	page.wantStatus(e.t, http.StatusOK)
	return e.post("/t/acme/login", with(page.hidden(), "username", username, "password", password))
}

func TestPasswordSignInSetsTheSessionCookieAndGoesToReturnTo(t *testing.T) {
	e := newEnv(t)
	r := e.identify("alice", goodPassword, "/app/home?tab=1")

	r.wantStatus(t, http.StatusSeeOther)
	if got, want := r.Header.Get("Location"), "/app/home?tab=1"; got != want {
		t.Errorf("Location = %q, want %q", got, want)
	}
	c := r.cookie("ward_session")
	if c == nil {
		t.Fatalf("no session cookie in %v", r.Header["Set-Cookie"])
	}
	if c.Value != sessionToken || !c.HttpOnly || c.Path != "/" || c.SameSite != http.SameSiteLaxMode ||
		c.MaxAge <= 0 || c.Secure || c.Domain != "" {
		t.Errorf("session cookie = %+v", c)
	}
	if f := r.cookie("ward_flow"); f == nil || f.MaxAge >= 0 {
		t.Errorf("the flow cookie was not cleared: %+v", f)
	}

	t.Run("the landing page checks the session", func(t *testing.T) {
		r := e.get("/t/acme/signed-in")
		r.wantStatus(t, http.StatusOK)
		if !strings.Contains(r.body, "You are signed in to Acme &lt;Corp&gt;.") {
			t.Errorf("landing page:\n%s", r.body)
		}
	})
	t.Run("without a session the landing page sends to sign in", func(t *testing.T) {
		resp, err := http.Get(e.srv.URL + "/t/acme/signed-in")
		if err != nil {
			t.Fatal(err)
		}
		r := read(t, resp)
		if !strings.Contains(r.Request.URL.Path, "/t/acme/login") {
			t.Errorf("ended at %s", r.Request.URL)
		}
	})
}

func TestSignInWithoutReturnToLandsOnTheSignedInPage(t *testing.T) {
	e := newEnv(t)
	r := e.identify("alice", goodPassword, "")
	r.wantStatus(t, http.StatusSeeOther)
	if got, want := r.Header.Get("Location"), "/t/acme/signed-in"; got != want {
		t.Errorf("Location = %q, want %q", got, want)
	}
}

func TestOverHTTPSCookiesAreSecureAndHostPrefixed(t *testing.T) {
	a := newFakeAuthn()
	inv := invoke.NewLocal(fakeTenants(), a.function(), (&fakeAccount{}).function())
	h := pages.Function(pages.Deps{Invoker: inv, PublicURL: "https://id.example.com",
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}).Routes

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "https://id.example.com/t/acme/login", nil))
	resp := rec.Result()
	names := map[string]*http.Cookie{}
	for _, c := range resp.Cookies() {
		names[c.Name] = c
	}
	for _, n := range []string{"__Host-ward_flow", "__Host-ward_device"} {
		c := names[n]
		if c == nil {
			t.Errorf("no cookie %s in %v", n, resp.Header["Set-Cookie"])
			continue
		}
		if !c.Secure || !c.HttpOnly || c.Path != "/" || c.Domain != "" ||
			c.SameSite != http.SameSiteStrictMode {
			t.Errorf("cookie %s = %+v", n, c)
		}
	}
	body, _ := io.ReadAll(resp.Body)
	form := with(response{body: string(body)}.hidden(), "username", "alice", "password", goodPassword)
	req := httptest.NewRequest(http.MethodPost, "https://id.example.com/t/acme/login",
		strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, c := range resp.Cookies() {
		req.AddCookie(c)
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var session *http.Cookie
	for _, c := range rec.Result().Cookies() {
		if c.Name == "__Host-ward_session" {
			session = c
		}
	}
	if rec.Code != http.StatusSeeOther || session == nil || !session.Secure || !session.HttpOnly ||
		session.SameSite != http.SameSiteLaxMode {
		t.Errorf("sign-in over https: %d, session cookie %+v", rec.Code, session)
	}
}

func TestAWrongPasswordIsAnErrorOnThePasswordField(t *testing.T) {
	e := newEnv(t)
	r := e.identify("alice", "not the password", "")

	r.wantStatus(t, http.StatusUnauthorized)
	for _, want := range []string{
		`<title>Error: Sign in – Acme &lt;Corp&gt;</title>`,
		`<a href="#password">Wrong username or password.</a>`,
		`<p class="error" id="password-error">`,
		`aria-invalid="true" aria-describedby="password-error"`,
		`id="error-summary" role="alert" tabindex="-1" autofocus`,
	} {
		if !strings.Contains(r.body, want) {
			t.Errorf("page lacks %q:\n%s", want, r.body)
		}
	}
	if r.cookie("ward_session") != nil {
		t.Error("a wrong password set a session cookie")
	}
	if strings.Contains(r.body, "not the password") {
		t.Error("the page shows the password back")
	}

	t.Run("the right password then signs in", func(t *testing.T) {
		r2 := e.post("/t/acme/login", with(r.hidden(), "password", goodPassword))
		r2.wantStatus(t, http.StatusSeeOther)
		if r2.cookie("ward_session") == nil {
			t.Error("no session cookie")
		}
	})
}

func TestLoginRefusesAnswersWithoutTheFlowsToken(t *testing.T) {
	cases := []struct {
		name   string
		form   func(url.Values) url.Values
		header []string
	}{
		{"a wrong token", func(v url.Values) url.Values { return with(v, "csrf", "forged") }, nil},
		{"no token", func(v url.Values) url.Values { v.Del("csrf"); return v }, nil},
		{"a cross-site post", func(v url.Values) url.Values { return v },
			[]string{"Sec-Fetch-Site", "cross-site"}},
		{"another origin", func(v url.Values) url.Values { return v },
			[]string{"Origin", "https://evil.example"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			page := e.get("/t/acme/login")
			form := c.form(with(page.hidden(), "username", "alice", "password", goodPassword))
			r := e.post("/t/acme/login", form, c.header...)
			r.wantStatus(t, http.StatusForbidden)
			if n := e.authn.submitted(); n != 0 {
				t.Errorf("authn got %d answers, want none", n)
			}
			if r.cookie("ward_session") != nil {
				t.Error("refused answer set a session cookie")
			}
		})
	}

	t.Run("a browser without the flow cookie", func(t *testing.T) {
		e := newEnv(t)
		page := e.get("/t/acme/login")
		e.client.Jar, _ = cookiejar.New(nil)
		r := e.post("/t/acme/login", with(page.hidden(), "username", "alice", "password", goodPassword))
		r.wantStatus(t, http.StatusForbidden)
		if n := e.authn.submitted(); n != 0 {
			t.Errorf("authn got %d answers, want none", n)
		}
	})
}

func TestReturnTo(t *testing.T) {
	e := newEnv(t)
	own := e.srv.URL
	allowed := []string{"/", "/app", "/app/x?y=1#z", own + "/app", own, "/%2F%2Fevil.example",
		"https://app.acme.example/cb?x=1", "HTTPS://APP.acme.example/"}
	refused := []string{
		"//evil.example", "///evil.example", `/\evil.example`, "https://evil.example/",
		"http://evil.example", "javascript:alert(1)", "data:text/html,x", own + ".evil.example/",
		strings.Replace(own, "http://", "http://user@", 1) + "/", "app", "/\t/evil.example",
		"/a b", "mailto:a@example.com", strings.Replace(own, "http://", "https://", 1) + "/",
		"/" + strings.Repeat("a", 2048), "http://app.acme.example/", "https://app.acme.example:444/",
		"https://x.app.acme.example/", "https:app.acme.example",
	}
	for _, rt := range allowed {
		r := e.get("/t/acme/login?" + url.Values{"return_to": {rt}}.Encode())
		if r.StatusCode != http.StatusOK {
			t.Errorf("return_to %q: status %d, want 200", rt, r.StatusCode)
		}
	}
	starts := e.authn.starts
	for _, rt := range refused {
		r := e.get("/t/acme/login?" + url.Values{"return_to": {rt}}.Encode())
		if r.StatusCode != http.StatusBadRequest || !strings.Contains(r.body, "cannot be used") {
			t.Errorf("return_to %q: status %d, want 400", rt, r.StatusCode)
		}
	}
	if e.authn.starts != starts {
		t.Errorf("refused return_to started %d flows", e.authn.starts-starts)
	}

	t.Run("another allowed origin is in form-action and is where the sign-in ends", func(t *testing.T) {
		e := newEnv(t)
		const rt = "https://app.acme.example/cb?x=1"
		page := e.get("/t/acme/login?" + url.Values{"return_to": {rt}}.Encode())
		if csp := page.Header.Get("Content-Security-Policy"); !strings.Contains(csp,
			"form-action 'self' https://app.acme.example;") {
			t.Errorf("CSP = %q", csp)
		}
		r := e.post("/t/acme/login", with(page.hidden(), "username", "alice", "password", goodPassword))
		r.wantStatus(t, http.StatusSeeOther)
		if got := r.Header.Get("Location"); got != rt {
			t.Errorf("Location = %q, want %q", got, rt)
		}
	})

	t.Run("a return_to changed in the form is refused at the end", func(t *testing.T) {
		e := newEnv(t)
		page := e.get("/t/acme/login?return_to=/app")
		r := e.post("/t/acme/login", with(page.hidden(), "username", "alice", "password",
			goodPassword, "return_to", "https://evil.example/"))
		r.wantStatus(t, http.StatusBadRequest)
		if r.cookie("ward_session") != nil || e.authn.submitted() != 0 {
			t.Error("a refused return_to still signed in")
		}
	})
}

// A sign-in bound for the authorization endpoint ends on a page that moves
// on by Refresh: a 303 would put the endpoint's redirect to the client in
// the form's redirect chain, which form-action 'self' blocks in browsers.
func TestSignInForTheAuthorizationEndpointMovesOnByRefresh(t *testing.T) {
	e := newEnv(t)
	const rt = "/t/acme/oauth2/authorize?client_id=c&request_uri=urn%3Ax"
	r := e.identify("alice", goodPassword, rt)
	r.wantStatus(t, http.StatusOK)
	if got, want := r.Header.Get("Refresh"), "0; url="+rt; got != want {
		t.Errorf("Refresh = %q, want %q", got, want)
	}
	if !strings.Contains(r.body, `<a href="/t/acme/oauth2/authorize?client_id=c&amp;request_uri=urn%3Ax">Continue</a>`) {
		t.Errorf("no link to continue:\n%s", r.body)
	}
	if r.cookie("ward_session") == nil {
		t.Error("no session cookie")
	}
	if csp := r.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self';") {
		t.Errorf("CSP = %q", csp)
	}

	// Any other path of the tenant is still a 303.
	other := newEnv(t).identify("alice", goodPassword, "/t/acme/oauth2/authorizex")
	other.wantStatus(t, http.StatusSeeOther)
	if other.Header.Get("Refresh") != "" {
		t.Error("a Refresh for another return_to")
	}
}

func TestSecurityHeadersOnEveryAnswer(t *testing.T) {
	e := newEnv(t)
	login := e.get("/t/acme/login")
	answers := map[string]response{
		"login":          login,
		"register":       e.get("/t/acme/register"),
		"verify":         e.get("/t/acme/verify-email?verificationId=" + verificationID),
		"recover":        e.get("/t/acme/recover"),
		"reset":          e.get("/t/acme/reset?token=" + url.QueryEscape(resetToken)),
		"unknown tenant": e.get("/t/nope/login"),
		"refused post":   e.post("/t/acme/login", url.Values{"csrf": {"x"}}),
		"wrong password": e.post("/t/acme/login", with(login.hidden(), "username", "a", "password", "b")),
		"message link":   e.get("/account/verify-email?tenant=acme&token=abc"),
	}
	for name, r := range answers {
		h := r.Header
		csp := h.Get("Content-Security-Policy")
		if !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "default-src 'none'") ||
			strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "script-src") {
			t.Errorf("%s: CSP = %q", name, csp)
		}
		for k, want := range map[string]string{"X-Frame-Options": "DENY",
			"Referrer-Policy": "no-referrer", "Cache-Control": "no-store",
			"X-Content-Type-Options": "nosniff"} {
			if got := h.Get(k); got != want {
				t.Errorf("%s: %s = %q, want %q", name, k, got, want)
			}
		}
		if strings.Contains(r.body, "<script") || strings.Contains(r.body, " style=") {
			t.Errorf("%s: inline script or style in the page", name)
		}
	}
	if got := answers["unknown tenant"].StatusCode; got != http.StatusNotFound {
		t.Errorf("unknown tenant: status %d, want 404", got)
	}
}

var (
	inputRE = regexp.MustCompile(`<input id="([^"]+)"[^>]*type="([a-z]+)"|<input type="(radio)"[^>]*id="([^"]+)"`)
	langRE  = regexp.MustCompile(`<html lang="en">`)
	titleRE = regexp.MustCompile(`<title>[^<]+</title>`)
)

// checkAccessible checks what can be checked of a page's HTML: a lang, a
// title, one h1, and a label for every visible input.
func checkAccessible(t *testing.T, name string, r response) {
	t.Helper()
	if !langRE.MatchString(r.body) || !titleRE.MatchString(r.body) ||
		strings.Count(r.body, "<h1>") != 1 {
		t.Errorf("%s: no lang, title or single h1:\n%s", name, r.body)
	}
	inputs := 0
	for _, m := range inputRE.FindAllStringSubmatch(r.body, -1) {
		id := m[1] + m[4]
		inputs++
		if !strings.Contains(r.body, `<label for="`+id+`">`) {
			t.Errorf("%s: input %q has no label", name, id)
		}
	}
	if inputs == 0 && strings.Contains(r.body, "<form") && !strings.Contains(r.body, "Verify my email") {
		t.Errorf("%s: a form without inputs found; the check is blind:\n%s", name, r.body)
	}
}

func TestEveryPageIsLabelledAndTitled(t *testing.T) {
	e := newEnv(t)
	pagesToCheck := map[string]response{
		"login":         e.get("/t/acme/login"),
		"register":      e.get("/t/acme/register"),
		"verify code":   e.get("/t/acme/verify-email?verificationId=" + verificationID),
		"verify link":   e.get("/t/acme/verify-email?token=abc"),
		"recover":       e.get("/t/acme/recover"),
		"reset":         e.get("/t/acme/reset?token=abc"),
		"register fail": e.post("/t/acme/register", url.Values{}),
	}
	reg := e.get("/t/acme/register")
	pagesToCheck["register refused"] = e.post("/t/acme/register",
		with(reg.hidden(), "email", "a@example.com", "password", "short"))
	for name, r := range pagesToCheck {
		checkAccessible(t, name, r)
	}
	if !strings.Contains(pagesToCheck["register refused"].body, `aria-invalid="true"`) {
		t.Error("a refused registration marks no field invalid")
	}
}

func TestSecondFactorSteps(t *testing.T) {
	e := newEnv(t)
	r := e.identify("mia", goodPassword, "/app")
	r.wantStatus(t, http.StatusSeeOther)

	sel := e.get("/t/acme/login?return_to=/app")
	sel.wantStatus(t, http.StatusOK)
	checkAccessible(t, "select factor", sel)
	for _, want := range []string{"Authenticator app (phone app)", "Code by text message, ••••42",
		`<legend id="factorId">`} {
		if !strings.Contains(sel.body, want) {
			t.Errorf("select page lacks %q:\n%s", want, sel.body)
		}
	}
	if strings.Contains(sel.body, miaFactors[2].ID) {
		t.Error("a WebAuthn factor is offered on a page without JavaScript")
	}

	r = e.post("/t/acme/login?return_to=/app", with(sel.hidden(), "factorId", miaFactors[0].ID))
	r.wantStatus(t, http.StatusSeeOther)
	verify := e.get("/t/acme/login?return_to=/app")
	checkAccessible(t, "verify factor", verify)
	if !strings.Contains(verify.body, "authenticator app shows") || !strings.Contains(verify.body, `id="code"`) {
		t.Fatalf("verify page:\n%s", verify.body)
	}

	wrong := e.post("/t/acme/login", with(verify.hidden(), "code", "000000"))
	wrong.wantStatus(t, http.StatusUnauthorized)
	if !strings.Contains(wrong.body, `id="code-error"`) ||
		!strings.Contains(wrong.body, `aria-invalid="true" aria-describedby="code-error code-hint"`) {
		t.Errorf("a wrong code is not on the code field:\n%s", wrong.body)
	}

	done := e.post("/t/acme/login", with(verify.hidden(), "code", totpCode))
	done.wantStatus(t, http.StatusSeeOther)
	if done.Header.Get("Location") != "/app" || done.cookie("ward_session") == nil {
		t.Errorf("after the code: Location %q, cookies %v", done.Header.Get("Location"),
			done.Header["Set-Cookie"])
	}
}

func TestEnrolmentShowsTheQRCode(t *testing.T) {
	e := newEnv(t)
	e.identify("eve", goodPassword, "").wantStatus(t, http.StatusSeeOther)

	enrol := e.get("/t/acme/login")
	checkAccessible(t, "enroll", enrol)
	if strings.Contains(enrol.body, `value="WEBAUTHN"`) || !strings.Contains(enrol.body, `value="TOTP"`) ||
		!strings.Contains(enrol.body, `id="phone"`) {
		t.Errorf("enrol page:\n%s", enrol.body)
	}
	bad := e.post("/t/acme/login", with(enrol.hidden(), "factorType", "SMS"))
	bad.wantStatus(t, http.StatusBadRequest)
	if !strings.Contains(bad.body, `<a href="#factorType">`) ||
		!strings.Contains(bad.body, `aria-describedby="factorType-error"`) {
		t.Errorf("a refused type is not tied to its fieldset:\n%s", bad.body)
	}

	e.post("/t/acme/login", with(enrol.hidden(), "factorType", "TOTP")).wantStatus(t, http.StatusSeeOther)
	confirm := e.get("/t/acme/login")
	checkAccessible(t, "confirm enroll", confirm)
	if !strings.Contains(htmlUnescape(confirm.body), `src="`+qrPNG+`"`) || !strings.Contains(confirm.body, "JBSWY3DPEHPK3PXP") {
		t.Fatalf("confirm page lacks the QR code or the secret:\n%s", confirm.body)
	}
	done := e.post("/t/acme/login", with(confirm.hidden(), "code", enrolCode))
	done.wantStatus(t, http.StatusSeeOther)
	if done.cookie("ward_session") == nil {
		t.Error("no session after enrolment")
	}
}

func TestRegistrationAndVerification(t *testing.T) {
	e := newEnv(t)
	reg := e.get("/t/acme/register")
	reg.wantStatus(t, http.StatusOK)

	t.Run("a forged token is refused and reaches nothing", func(t *testing.T) {
		r := e.post("/t/acme/register", with(reg.hidden(), "csrf", "forged", "email",
			"a@example.com", "password", goodPassword))
		r.wantStatus(t, http.StatusForbidden)
		if n := e.account.count(); n != 0 {
			t.Errorf("account got %d calls", n)
		}
	})

	weak := e.post("/t/acme/register", with(reg.hidden(), "email", "new@example.com",
		"password", "short"))
	weak.wantStatus(t, http.StatusBadRequest)
	if !strings.Contains(weak.body, "Password must be at least 15 characters long.") ||
		!strings.Contains(weak.body, `value="new@example.com"`) || strings.Contains(weak.body, `value="short"`) {
		t.Errorf("refused registration:\n%s", weak.body)
	}

	r := e.post("/t/acme/register", with(reg.hidden(), "email", "new@example.com",
		"password", goodPassword), "Accept-Language", "de-ch;q=0.9, en;q=0.5")
	r.wantStatus(t, http.StatusSeeOther)
	loc := r.Header.Get("Location")
	if loc != "/t/acme/verify-email?verificationId="+verificationID {
		t.Fatalf("Location = %q", loc)
	}
	in := e.account.last.(account.RegisterInput)
	if in.Tenant != "acme" || in.Email != "new@example.com" || in.Locale != "de-CH" {
		t.Errorf("register input = %+v", in)
	}

	verify := e.get(loc)
	wrong := e.post("/t/acme/verify-email", with(verify.hidden(), "code", "111111"))
	wrong.wantStatus(t, http.StatusBadRequest)
	if !strings.Contains(wrong.body, `id="code-error"`) {
		t.Errorf("a wrong code is not on the code field:\n%s", wrong.body)
	}
	ok := e.post("/t/acme/verify-email", with(verify.hidden(), "code", emailCode))
	ok.wantStatus(t, http.StatusSeeOther)
	if done := e.get(ok.Header.Get("Location")); !strings.Contains(done.body, "is verified") {
		t.Errorf("done page:\n%s", done.body)
	}

	t.Run("by link: the GET verifies nothing, the button does", func(t *testing.T) {
		calls := e.account.count()
		page := e.get("/t/acme/verify-email?" + url.Values{"token": {resetToken}}.Encode())
		if e.account.count() != calls {
			t.Fatal("opening the link verified without a click")
		}
		r := e.post("/t/acme/verify-email", page.hidden())
		r.wantStatus(t, http.StatusSeeOther)
	})
}

func TestRecoveryAnswersAlikeAndResets(t *testing.T) {
	e := newEnv(t)
	page := e.get("/t/acme/recover")
	r := e.post("/t/acme/recover", with(page.hidden(), "email", "whoever@example.com"))
	r.wantStatus(t, http.StatusSeeOther)
	sent := e.get(r.Header.Get("Location"))
	if !strings.Contains(sent.body, "If an account uses that address") {
		t.Errorf("sent page:\n%s", sent.body)
	}

	empty := e.post("/t/acme/recover", with(page.hidden(), "email", ""))
	empty.wantStatus(t, http.StatusBadRequest)
	if !strings.Contains(empty.body, `<a href="#email">Email address is required.</a>`) {
		t.Errorf("empty email:\n%s", empty.body)
	}

	link := e.get("/account/reset-password?" + url.Values{"tenant": {"acme"}, "token": {resetToken}}.Encode())
	link.wantStatus(t, http.StatusSeeOther)
	reset := e.get(link.Header.Get("Location"))
	reset.wantStatus(t, http.StatusOK)
	weak := e.post("/t/acme/reset", with(reset.hidden(), "newPassword", "short"))
	weak.wantStatus(t, http.StatusBadRequest)
	if !strings.Contains(weak.body, `id="newPassword-error"`) {
		t.Errorf("a weak password is not on its field:\n%s", weak.body)
	}
	bad := e.post("/t/acme/reset", with(reset.hidden(), "token", "nope", "newPassword", goodPassword))
	bad.wantStatus(t, http.StatusBadRequest)
	ok := e.post("/t/acme/reset", with(reset.hidden(), "newPassword", goodPassword))
	ok.wantStatus(t, http.StatusSeeOther)
	if ok.Header.Get("Location") != "/t/acme/reset?done=1" {
		t.Errorf("Location = %q", ok.Header.Get("Location"))
	}
}

func TestBrandingIsSanitized(t *testing.T) {
	e := newEnv(t)
	page := e.get("/t/acme/login")
	if strings.Contains(page.body, "javascript:") || strings.Contains(page.body, "<Corp>") {
		t.Errorf("unsafe branding reached the page:\n%s", page.body)
	}
	if !strings.Contains(page.body, `href="https://help.example.com/acme"`) {
		t.Error("the support link is missing")
	}
	css := e.get("/t/acme/pages.css")
	if !strings.Contains(css.body, "#aa3300") || strings.Contains(css.body, "body{x:y") ||
		!strings.HasPrefix(css.Header.Get("Content-Type"), "text/css") {
		t.Errorf("stylesheet:\n%s", css.body)
	}
}

func TestMessageLinksLeadToTheTenantsPages(t *testing.T) {
	e := newEnv(t)
	for path, want := range map[string]string{
		"/account/verify-email?tenant=acme&token=a.b":  "/t/acme/verify-email?token=a.b",
		"/account/reset-password?tenant=ACME&token=x":  "/t/acme/reset?token=x",
		"/account/reset-password?tenant=acme":          "/t/acme/recover",
		"/account/register?tenant=acme&invitation=i.j": "/t/acme/register?invitation=i.j",
	} {
		r := e.get(path)
		if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != want {
			t.Errorf("%s: %d %q, want 303 %q", path, r.StatusCode, r.Header.Get("Location"), want)
		}
	}
	if r := e.get("/account/verify-email?tenant=../x&token=a"); r.StatusCode != http.StatusNotFound {
		t.Errorf("a bad tenant name: %d", r.StatusCode)
	}
}

func TestReturnToIsCarriedThroughTheForms(t *testing.T) {
	e := newEnv(t)
	page := e.get("/t/acme/login?" + url.Values{"return_to": {"/app/x?y=1&z=2"}}.Encode())
	if got := page.hidden().Get("return_to"); got != "/app/x?y=1&z=2" {
		t.Errorf("hidden return_to = %q", got)
	}
	if !strings.Contains(page.body, `action="/t/acme/login"`) {
		t.Errorf("form action:\n%s", page.body)
	}
	link := regexp.MustCompile(`href="(/t/acme/login\?restart=1[^"]*)"`).FindStringSubmatch(page.body)
	if link == nil {
		t.Fatalf("no start-again link:\n%s", page.body)
	}
	u, err := url.Parse(htmlUnescape(link[1]))
	if err != nil || u.Query().Get("return_to") != "/app/x?y=1&z=2" {
		t.Errorf("start-again link %q loses return_to", link[1])
	}
}

func TestValuesAreEscapedWhereTheyLand(t *testing.T) {
	e := newEnv(t)
	const evil = `x"><script>alert(1)</script>`
	rt := `/app?q="><img/src=x>`
	r := e.identify(evil, "wrong", rt)
	r.wantStatus(t, http.StatusUnauthorized)
	if strings.Contains(r.body, "<script") || strings.Contains(r.body, "<img/src=x") {
		t.Fatalf("a value broke out of its place:\n%s", r.body)
	}
	for _, want := range []string{
		`Signing in as <strong>x&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;</strong>`,
		`name="return_to" value="/app?q=&#34;&gt;&lt;img/src=x&gt;"`,
	} {
		if !strings.Contains(r.body, want) {
			t.Errorf("page lacks %q:\n%s", want, r.body)
		}
	}
	if got := r.hidden().Get("return_to"); got != rt {
		t.Errorf("return_to read back as %q", got)
	}
}

func TestAnEndedFlowStartsAgainWithTheReason(t *testing.T) {
	e := newEnv(t)
	page := e.get("/t/acme/login")
	e.authn.mu.Lock()
	clear(e.authn.flows) // expired, or ended by too many wrong answers
	e.authn.mu.Unlock()

	r := e.post("/t/acme/login", with(page.hidden(), "username", "alice", "password", goodPassword))
	r.wantStatus(t, http.StatusNotFound)
	if !strings.Contains(r.body, "<li>Sign-in flow not found or expired; start again.</li>") {
		t.Errorf("the reason is not in the summary:\n%s", r.body)
	}
	if strings.Contains(r.body, `aria-invalid="true"`) {
		t.Error("an error of the old flow is tied to a field of the new one")
	}
	if old, now := page.hidden().Get("csrf"), r.hidden().Get("csrf"); old == now || now == "" {
		t.Errorf("no new flow: csrf %q then %q", old, now)
	}
	if c := r.cookie("ward_flow"); c == nil || !strings.Contains(c.Value, r.hidden().Get("csrf")) {
		t.Errorf("the new flow's cookie was not set: %+v", c)
	}
	if r.cookie("ward_session") != nil {
		t.Error("a session from an ended flow")
	}
}

func TestLoginHintPrefillsTheUsername(t *testing.T) {
	e := newEnv(t)
	page := e.get("/t/acme/login?" + url.Values{"login_hint": {`ada"><b>`}}.Encode())
	if !strings.Contains(page.body, `value="ada&#34;&gt;&lt;b&gt;"`) {
		t.Errorf("the username is not prefilled (escaped):\n%s", page.body)
	}
	restart := e.get("/t/acme/login?" + url.Values{"login_hint": {"ada"}, "restart": {"1"},
		"return_to": {"/app"}}.Encode())
	u, err := url.Parse(restart.Header.Get("Location"))
	if err != nil || u.Query().Get("login_hint") != "ada" || u.Query().Get("return_to") != "/app" {
		t.Errorf("restart loses login_hint: %q", restart.Header.Get("Location"))
	}
	long := e.get("/t/acme/login?login_hint=" + strings.Repeat("a", 300))
	if strings.Contains(long.body, strings.Repeat("a", 300)) {
		t.Error("an overlong login_hint is shown")
	}
}
