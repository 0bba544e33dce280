package oauth_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/wardhq/ward/shared/clients"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/oauth"
	"github.com/wardhq/ward/shared/sessions"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/validate"
)

const appCallback = "https://app.example.com/cb"

var service = function.Caller{Subject: "test", Roles: []string{function.RoleService}}

// codeClient registers a client of the code flow in tn.
func (e *env) codeClient(t testing.TB, tn store.Tenant, in clients.CreateInput) registered {
	t.Helper()
	if in.GrantTypes == nil {
		in.GrantTypes = []string{clients.GrantAuthorizationCode}
	}
	if in.RedirectURIs == nil {
		in.RedirectURIs = []string{appCallback, "http://127.0.0.1:8765/cb"}
	}
	if in.Scopes == nil {
		in.Scopes = []string{"openid", "profile", "email", "phone", "read"}
	}
	if in.Type == store.ClientPublic {
		in.AuthMethod = clients.MethodNone
	}
	return e.client(t, tn, in)
}

// user makes an active user of tn in the store.
func (e *env) user(t testing.TB, tn store.Tenant) store.User {
	t.Helper()
	u, err := e.st.Users().Create(context.Background(), store.User{ID: validate.NewID(),
		TenantID: tn.ID, Username: "ada" + validate.NewID()[:8], Email: "ada@example.com",
		EmailVerified: true, Phone: "+15555550100", DisplayName: "Ada Lovelace",
		Status: store.UserActive, Attributes: map[string]any{},
		CreatedAt: e.clk.Now(), UpdatedAt: e.clk.Now()})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// session signs u in through the sessions function, as the login page
// does, and returns the cookie's value.
func (e *env) session(t testing.TB, u store.User, acr string, authTime time.Time) string {
	t.Helper()
	out, err := invoke.Call[sessions.CreateOutput](context.Background(), e.inv,
		sessions.FunctionName, sessions.OpCreate, service, sessions.CreateInput{
			TenantID: u.TenantID, UserID: u.ID, ACR: acr, AMR: []string{"pwd"},
			AuthTime: authTime.Unix()})
	if err != nil {
		t.Fatal(err)
	}
	return string(out.Token)
}

// noFollow does not follow redirects: the tests read them.
var noFollow = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
	return http.ErrUseLastResponse
}}

type authAnswer struct {
	status   int
	header   http.Header
	location *url.URL
	body     string
}

// authorize sends the browser's GET to tn's authorization endpoint.
func (e *env) authorize(t testing.TB, tn string, q url.Values, cookie string) authAnswer {
	t.Helper()
	return e.browse(t, e.srv.URL+"/t/"+tn+"/oauth2/authorize?"+q.Encode(), cookie)
}

func (e *env) browse(t testing.TB, target, cookie string) authAnswer {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, target, nil)
	if err != nil {
		t.Fatal(err)
	}
	return e.send(t, req, cookie)
}

// send sends the browser's request with the session cookie, if any, and
// reads the answer without following a redirect.
func (e *env) send(t testing.TB, req *http.Request, cookie string) authAnswer {
	t.Helper()
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: sessions.CookieName(false), Value: cookie})
	}
	resp, err := noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := authAnswer{status: resp.StatusCode, header: resp.Header, body: string(b)}
	if loc := resp.Header.Get("Location"); loc != "" {
		if a.location, err = url.Parse(loc); err != nil {
			t.Fatal(err)
		}
	}
	return a
}

// pkce is a verifier and its S256 challenge.
func pkce() (verifier, challenge string) {
	verifier = strings.Repeat("v", 20) + validate.NewID() // 56 unreserved characters
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

func authQuery(c registered, challenge string, kv ...string) url.Values {
	q := form("response_type", "code", "client_id", c.id, "redirect_uri", appCallback,
		"scope", "openid profile", "state", "st-1", "nonce", "n-1")
	if challenge != "" {
		q.Set("code_challenge", challenge)
		q.Set("code_challenge_method", "S256")
	}
	return override(q, kv...)
}

// override sets each name of kv to its value in v, or deletes it for "".
func override(v url.Values, kv ...string) url.Values {
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			v.Del(kv[i])
		} else {
			v.Set(kv[i], kv[i+1])
		}
	}
	return v
}

// codeOf expects a redirect to appCallback with a code, state and iss.
func (e *env) codeOf(t testing.TB, a authAnswer) string {
	t.Helper()
	if a.status != http.StatusFound || a.location == nil {
		t.Fatalf("authorize: %d %v %s", a.status, a.location, a.body)
	}
	q := a.location.Query()
	base := *a.location
	base.RawQuery = ""
	if base.String() != appCallback || q.Get("code") == "" || q.Get("state") != "st-1" ||
		q.Get("iss") != e.srv.URL+"/t/acme" || q.Has("error") {
		t.Fatalf("authorization response: %s", a.location)
	}
	return q.Get("code")
}

// errorOf expects a redirect to appCallback with the error code want.
func errorOf(t testing.TB, a authAnswer, want string) {
	t.Helper()
	if a.location == nil || a.status != http.StatusFound {
		t.Fatalf("authorize: %d, want a redirect with %s; %s", a.status, want, a.body)
	}
	q := a.location.Query()
	if !strings.HasPrefix(a.location.String(), appCallback+"?") || q.Get("error") != want ||
		q.Has("code") || q.Get("iss") == "" {
		t.Fatalf("authorization response %s, want error=%s", a.location, want)
	}
}

func (e *env) redeem(t testing.TB, c registered, public bool, kv ...string) answer {
	t.Helper()
	rq := request{path: "/t/acme/oauth2/token", form: override(form("grant_type",
		"authorization_code", "redirect_uri", appCallback), kv...)}
	if public {
		rq.form.Set("client_id", c.id)
	} else {
		rq.basic = &c
	}
	return e.do(t, rq)
}

func TestAuthorizationCodeFlowIssuesTokens(t *testing.T) {
	e := newEnv(t)
	c := e.codeClient(t, e.a, clients.CreateInput{})
	u := e.user(t, e.a)
	cookie := e.session(t, u, store.ACRPassword, e.clk.Now())
	verifier, challenge := pkce()

	code := e.codeOf(t, e.authorize(t, "acme", authQuery(c, challenge), cookie))
	a := e.redeem(t, c, false, "code", code, "code_verifier", verifier)
	if a.status != http.StatusOK {
		t.Fatalf("token: %d %s", a.status, a.raw)
	}
	at, _ := a.body["access_token"].(string)
	idt, _ := a.body["id_token"].(string)
	if at == "" || idt == "" || a.body["scope"] != "openid profile" {
		t.Fatalf("token response: %s", a.raw)
	}
	if _, ok := a.body["refresh_token"]; ok {
		t.Errorf("a refresh token was issued: %s", a.raw)
	}

	typ, claims := e.verifyJWT(t, "acme", at)
	if typ != oauth.JWTType || claims["sub"] != u.ID || claims["client_id"] != c.id ||
		claims["acr"] != "1" || claims["sid"] == nil || claims["auth_time"] == nil {
		t.Errorf("access token %s: %v", typ, claims)
	}
	typ, claims = e.verifyJWT(t, "acme", idt)
	sum := sha256.Sum256([]byte(at))
	if typ != oauth.IDTokenType || claims["sub"] != u.ID || claims["aud"] != c.id ||
		claims["azp"] != c.id || claims["nonce"] != "n-1" || claims["iss"] != e.srv.URL+"/t/acme" ||
		claims["at_hash"] != base64.RawURLEncoding.EncodeToString(sum[:16]) ||
		claims["auth_time"] != float64(e.clk.Now().Unix()) {
		t.Errorf("ID token %s: %v", typ, claims)
	}
	exp, iat := claims["exp"].(float64), claims["iat"].(float64)
	if exp-iat != clients.DefaultIDTokenTTL {
		t.Errorf("ID token lives %v s, want the client's %d", exp-iat, clients.DefaultIDTokenTTL)
	}

	// The ID token is no access token: introspection refuses it.
	rs := e.client(t, e.a, clients.CreateInput{})
	if got := e.introspect(t, "acme", rs, idt); got["active"] != false {
		t.Errorf("an ID token introspects as %v", got)
	}

	// Without openid, no ID token.
	code = e.codeOf(t, e.authorize(t, "acme", authQuery(c, challenge, "scope", "read"), cookie))
	a = e.redeem(t, c, false, "code", code, "code_verifier", verifier)
	if a.status != http.StatusOK || a.body["id_token"] != nil {
		t.Errorf("a plain OAuth grant: %d %s", a.status, a.raw)
	}
}

func TestAuthorizeRefusesBeforeTheRedirectURIIsKnown(t *testing.T) {
	e := newEnv(t)
	c := e.codeClient(t, e.a, clients.CreateInput{})
	other := e.codeClient(t, e.b, clients.CreateInput{})
	for _, tc := range []struct {
		name string
		q    url.Values
	}{
		{"no client_id", authQuery(c, "", "client_id", "")},
		{"an unknown client", authQuery(c, "", "client_id", validate.NewID())},
		{"another tenant's client", authQuery(other, "")},
		{"no redirect_uri", authQuery(c, "", "redirect_uri", "")},
		{"a prefix of the registered URI", authQuery(c, "", "redirect_uri", "https://app.example.com/c")},
		{"a longer path", authQuery(c, "", "redirect_uri", appCallback+"/evil")},
		{"a trailing slash", authQuery(c, "", "redirect_uri", appCallback+"/")},
		{"a fragment", authQuery(c, "", "redirect_uri", appCallback+"#x")},
		{"a query added", authQuery(c, "", "redirect_uri", appCallback+"?x=1")},
		{"another port", authQuery(c, "", "redirect_uri", "https://app.example.com:8443/cb")},
		{"another loopback port", authQuery(c, "", "redirect_uri", "http://127.0.0.1:8766/cb")},
		{"another case", authQuery(c, "", "redirect_uri", "https://APP.example.com/cb")},
		{"http instead of https", authQuery(c, "", "redirect_uri", "http://app.example.com/cb")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := e.authorize(t, "acme", tc.q, "")
			if a.status != http.StatusBadRequest || a.location != nil ||
				!strings.Contains(a.body, "invalid_request") ||
				!strings.Contains(a.header.Get("Content-Security-Policy"), "default-src 'none'") {
				t.Errorf("got %d, Location %v, body %q; want an error page", a.status, a.location,
					a.body)
			}
		})
	}
}

func TestAuthorizeRefusesByRedirect(t *testing.T) {
	e := newEnv(t)
	conf := e.codeClient(t, e.a, clients.CreateInput{})
	public := e.codeClient(t, e.a, clients.CreateInput{Type: store.ClientPublic})
	noPKCE := false
	optional := e.codeClient(t, e.a, clients.CreateInput{RequirePKCE: &noPKCE})
	ccOnly := e.client(t, e.a, clients.CreateInput{
		GrantTypes:   []string{clients.GrantClientCredentials},
		RedirectURIs: []string{appCallback}})
	_, challenge := pkce()
	for _, tc := range []struct {
		name string
		q    url.Values
		want string
	}{
		{"no PKCE for a public client", authQuery(public, ""), "invalid_request"},
		{"no PKCE for a client that requires it", authQuery(conf, ""), "invalid_request"},
		{"plain PKCE", authQuery(optional, challenge, "code_challenge_method", "plain"),
			"invalid_request"},
		{"a challenge without a method (plain)", authQuery(public, challenge,
			"code_challenge_method", ""), "invalid_request"},
		{"a challenge that is no SHA-256", authQuery(public, challenge, "code_challenge",
			"short"), "invalid_request"},
		{"response_type token", authQuery(conf, challenge, "response_type", "token"),
			"unsupported_response_type"},
		{"no response_type", authQuery(conf, challenge, "response_type", ""), "invalid_request"},
		{"a scope not registered", authQuery(conf, challenge, "scope", "openid admin"),
			"invalid_scope"},
		{"no scope", authQuery(conf, challenge, "scope", ""), "invalid_scope"},
		{"an unknown prompt", authQuery(conf, challenge, "prompt", "maybe"), "invalid_request"},
		{"prompt none with login", authQuery(conf, challenge, "prompt", "none login"),
			"invalid_request"},
		{"a negative max_age", authQuery(conf, challenge, "max_age", "-1"), "invalid_request"},
		{"a resource with a fragment", authQuery(conf, challenge, "resource",
			"https://api.example.com/#x"), "invalid_target"},
		{"a request object", authQuery(conf, challenge, "request", "eyJ.x.y"),
			"request_not_supported"},
		{"a client without the grant", authQuery(ccOnly, ""), "unauthorized_client"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := e.authorize(t, "acme", tc.q, "")
			errorOf(t, a, tc.want)
			if a.location.Query().Get("state") != "st-1" {
				t.Errorf("state lost: %s", a.location)
			}
		})
	}

	t.Run("a PKCE-optional client may go without", func(t *testing.T) {
		a := e.authorize(t, "acme", authQuery(optional, ""), "")
		if a.status != http.StatusSeeOther || !strings.Contains(a.location.Path, "/login") {
			t.Errorf("got %d %v, want the login page", a.status, a.location)
		}
	})
}

func TestAuthorizeSendsTheBrowserToSignIn(t *testing.T) {
	e := newEnv(t)
	c := e.codeClient(t, e.a, clients.CreateInput{})
	u := e.user(t, e.a)
	verifier, challenge := pkce()

	// resume follows the login redirect's return_to with cookie.
	resume := func(t *testing.T, a authAnswer, cookie string) authAnswer {
		t.Helper()
		if a.status != http.StatusSeeOther || a.location.Path != "/t/acme/login" {
			t.Fatalf("got %d %v, want the login page", a.status, a.location)
		}
		rt := a.location.Query().Get("return_to")
		if !strings.HasPrefix(rt, "/t/acme/oauth2/authorize?") {
			t.Fatalf("return_to = %q", rt)
		}
		return e.browse(t, e.srv.URL+rt, cookie)
	}

	t.Run("no session, then a sign-in", func(t *testing.T) {
		a := e.authorize(t, "acme", authQuery(c, challenge, "login_hint", "ada"), "")
		if a.location.Query().Get("login_hint") != "ada" {
			t.Errorf("login_hint not passed on: %s", a.location)
		}
		code := e.codeOf(t, resume(t, a, e.session(t, u, "1", e.clk.Now())))
		if r := e.redeem(t, c, false, "code", code, "code_verifier", verifier); r.status != 200 {
			t.Errorf("token: %d %s", r.status, r.raw)
		}
	})

	t.Run("a request is resumed once", func(t *testing.T) {
		a := e.authorize(t, "acme", authQuery(c, challenge), "")
		cookie := e.session(t, u, "1", e.clk.Now())
		rt := a.location.Query().Get("return_to")
		e.codeOf(t, e.browse(t, e.srv.URL+rt, cookie))
		again := e.browse(t, e.srv.URL+rt, cookie)
		if again.status != http.StatusBadRequest || !strings.Contains(again.body,
			"invalid_request_uri") {
			t.Errorf("second resumption: %d %s", again.status, again.body)
		}
	})

	t.Run("prompt=login needs a sign-in after the request", func(t *testing.T) {
		old := e.session(t, u, "1", e.clk.Now())
		e.clk.Add(time.Second)
		a := e.authorize(t, "acme", authQuery(c, challenge, "prompt", "login"), old)
		if a.location.Query().Get("restart") != "1" {
			t.Errorf("the login page is not asked for a fresh sign-in: %s", a.location)
		}
		// Resumed with the old session: back to the login page.
		a = resume(t, a, old)
		e.clk.Add(2 * time.Second)
		code := e.codeOf(t, resume(t, a, e.session(t, u, "1", e.clk.Now())))
		r := e.redeem(t, c, false, "code", code, "code_verifier", verifier)
		_, claims := e.verifyJWT(t, "acme", r.body["id_token"].(string))
		if claims["auth_time"] != float64(e.clk.Now().Unix()) {
			t.Errorf("auth_time = %v", claims["auth_time"])
		}
	})

	t.Run("max_age", func(t *testing.T) {
		cookie := e.session(t, u, "1", e.clk.Now().Add(-10*time.Minute))
		e.codeOf(t, e.authorize(t, "acme", authQuery(c, challenge, "max_age", "3600"), cookie))
		a := e.authorize(t, "acme", authQuery(c, challenge, "max_age", "60"), cookie)
		a = resume(t, a, cookie) // still too old
		e.codeOf(t, resume(t, a, e.session(t, u, "1", e.clk.Now())))
	})

	t.Run("acr_values above the session's", func(t *testing.T) {
		cookie := e.session(t, u, "1", e.clk.Now())
		e.codeOf(t, e.authorize(t, "acme", authQuery(c, challenge, "acr_values", "1"), cookie))
		a := e.authorize(t, "acme", authQuery(c, challenge, "acr_values", "2"), cookie)
		e.codeOf(t, resume(t, a, e.session(t, u, "2", e.clk.Now())))
	})

	t.Run("prompt=none", func(t *testing.T) {
		errorOf(t, e.authorize(t, "acme", authQuery(c, challenge, "prompt", "none"), ""),
			"login_required")
		errorOf(t, e.authorize(t, "acme", authQuery(c, challenge, "prompt", "none"),
			"wss_not-a-session"), "login_required")
		old := e.session(t, u, "1", e.clk.Now().Add(-time.Hour))
		errorOf(t, e.authorize(t, "acme", authQuery(c, challenge, "prompt", "none",
			"max_age", "60"), old), "login_required")
		e.codeOf(t, e.authorize(t, "acme", authQuery(c, challenge, "prompt", "none"), old))
	})

	t.Run("a session of another tenant is no session", func(t *testing.T) {
		other := e.session(t, e.user(t, e.b), "1", e.clk.Now())
		a := e.authorize(t, "acme", authQuery(c, challenge), other)
		if a.status != http.StatusSeeOther || a.location.Path != "/t/acme/login" {
			t.Errorf("got %d %v", a.status, a.location)
		}
	})
}

func TestCodeRedemptionErrors(t *testing.T) {
	e := newEnv(t)
	c := e.codeClient(t, e.a, clients.CreateInput{})
	thief := e.codeClient(t, e.a, clients.CreateInput{})
	u := e.user(t, e.a)
	cookie := e.session(t, u, "1", e.clk.Now())
	verifier, challenge := pkce()
	newCode := func() string {
		return e.codeOf(t, e.authorize(t, "acme", authQuery(c, challenge), cookie))
	}
	refused := func(t *testing.T, a answer, want string) {
		t.Helper()
		if a.status != http.StatusBadRequest || a.body["error"] != want ||
			a.body["access_token"] != nil || a.body["id_token"] != nil {
			t.Errorf("got %d %s, want %s", a.status, a.raw, want)
		}
	}

	t.Run("a code used by another client", func(t *testing.T) {
		code := newCode()
		refused(t, e.redeem(t, thief, false, "code", code, "code_verifier", verifier),
			"invalid_grant")
		// The code is spent: its own client cannot use it after that.
		refused(t, e.redeem(t, c, false, "code", code, "code_verifier", verifier),
			"invalid_grant")
	})
	t.Run("another redirect_uri", func(t *testing.T) {
		refused(t, e.redeem(t, c, false, "code", newCode(), "code_verifier", verifier,
			"redirect_uri", "http://127.0.0.1:8765/cb"), "invalid_grant")
	})
	t.Run("no redirect_uri", func(t *testing.T) {
		refused(t, e.redeem(t, c, false, "code", newCode(), "code_verifier", verifier,
			"redirect_uri", ""), "invalid_request")
	})
	t.Run("no verifier", func(t *testing.T) {
		refused(t, e.redeem(t, c, false, "code", newCode()), "invalid_grant")
	})
	t.Run("a wrong verifier", func(t *testing.T) {
		other, _ := pkce()
		refused(t, e.redeem(t, c, false, "code", newCode(), "code_verifier", other),
			"invalid_grant")
	})
	t.Run("a malformed verifier", func(t *testing.T) {
		refused(t, e.redeem(t, c, false, "code", newCode(), "code_verifier", "short"),
			"invalid_request")
	})
	t.Run("an expired code", func(t *testing.T) {
		code := newCode()
		e.clk.Add(61 * time.Second)
		refused(t, e.redeem(t, c, false, "code", code, "code_verifier", verifier),
			"invalid_grant")
	})
	t.Run("an unknown code", func(t *testing.T) {
		refused(t, e.redeem(t, c, false, "code", "nope", "code_verifier", verifier),
			"invalid_grant")
	})
	t.Run("a client without the grant", func(t *testing.T) {
		cc := e.client(t, e.a, clients.CreateInput{})
		refused(t, e.redeem(t, cc, false, "code", newCode(), "code_verifier", verifier),
			"unauthorized_client")
	})
	t.Run("a verifier for a code without a challenge", func(t *testing.T) {
		noPKCE := false
		opt := e.codeClient(t, e.a, clients.CreateInput{RequirePKCE: &noPKCE})
		code := e.codeOf(t, e.authorize(t, "acme", authQuery(opt, ""), cookie))
		refused(t, e.redeem(t, opt, false, "code", code, "code_verifier", verifier),
			"invalid_grant")
	})
	t.Run("a code of another tenant", func(t *testing.T) {
		a := e.do(t, request{path: "/t/beta/oauth2/token", basic: &c, form: form(
			"grant_type", "authorization_code", "code", newCode(), "redirect_uri", appCallback,
			"code_verifier", verifier)})
		if a.status != http.StatusUnauthorized || a.body["error"] != "invalid_client" {
			t.Errorf("got %d %s", a.status, a.raw)
		}
	})

	for _, format := range []string{clients.FormatJWT, clients.FormatOpaque} {
		t.Run("a replay revokes the "+format+" token", func(t *testing.T) {
			pc := e.codeClient(t, e.a, clients.CreateInput{Type: store.ClientPublic,
				AccessTokenFormat: format})
			code := e.codeOf(t, e.authorize(t, "acme", authQuery(pc, challenge), cookie))
			first := e.redeem(t, pc, true, "code", code, "code_verifier", verifier)
			if first.status != http.StatusOK {
				t.Fatalf("token: %d %s", first.status, first.raw)
			}
			rs := e.client(t, e.a, clients.CreateInput{})
			at := first.body["access_token"].(string)
			if got := e.introspect(t, "acme", rs, at); got["active"] != true {
				t.Fatalf("introspection = %v", got)
			}
			refused(t, e.redeem(t, pc, true, "code", code, "code_verifier", verifier),
				"invalid_grant")
			if got := e.introspect(t, "acme", rs, at); got["active"] != false {
				t.Errorf("the first redemption's token is still active: %v", got)
			}
		})
	}
}

func TestFormPostResponseMode(t *testing.T) {
	e := newEnv(t)
	c := e.codeClient(t, e.a, clients.CreateInput{})
	cookie := e.session(t, e.user(t, e.a), "1", e.clk.Now())
	_, challenge := pkce()

	a := e.authorize(t, "acme", authQuery(c, challenge, "response_mode", "form_post",
		"state", `"><script>x</script>`), cookie)
	csp := a.header.Get("Content-Security-Policy")
	if a.status != http.StatusOK || !strings.Contains(a.body, `action="`+appCallback+`"`) ||
		!strings.Contains(a.body, `name="code"`) || !strings.Contains(a.body, `name="iss"`) ||
		strings.Contains(a.body, "<script>x") {
		t.Fatalf("form_post page: %d %s", a.status, a.body)
	}
	if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp,
		"form-action https://app.example.com;") || !strings.Contains(csp, "script-src 'nonce-") {
		t.Errorf("CSP = %q", csp)
	}
	nonce := csp[strings.Index(csp, "'nonce-")+7:]
	nonce = nonce[:strings.Index(nonce, "'")]
	if !strings.Contains(a.body, `<script nonce="`+nonce+`">`) {
		t.Errorf("the script does not carry the policy's nonce: %s", a.body)
	}

	// An error goes the same way.
	a = e.authorize(t, "acme", authQuery(c, challenge, "response_mode", "form_post",
		"prompt", "nope"), cookie)
	if a.status != http.StatusOK || !strings.Contains(a.body, `name="error" value="invalid_request"`) {
		t.Errorf("form_post error: %d %s", a.status, a.body)
	}
}

func TestPushedAuthorizationRequests(t *testing.T) {
	e := newEnv(t)
	c := e.codeClient(t, e.a, clients.CreateInput{})
	other := e.codeClient(t, e.a, clients.CreateInput{})
	cookie := e.session(t, e.user(t, e.a), "1", e.clk.Now())
	verifier, challenge := pkce()
	push := func(t *testing.T, by registered, q url.Values) answer {
		t.Helper()
		q.Del("client_id")
		return e.do(t, request{path: "/t/acme/oauth2/par", basic: &by, form: q})
	}

	a := push(t, c, authQuery(c, challenge))
	uri, _ := a.body["request_uri"].(string)
	if a.status != http.StatusCreated || !strings.HasPrefix(uri, oauth.RequestURIPrefix) ||
		a.body["expires_in"] != float64(60) {
		t.Fatalf("par: %d %s", a.status, a.raw)
	}
	q := form("client_id", c.id, "request_uri", uri)
	code := e.codeOf(t, e.authorize(t, "acme", q, cookie))
	if r := e.redeem(t, c, false, "code", code, "code_verifier", verifier); r.status != 200 {
		t.Errorf("token: %d %s", r.status, r.raw)
	}
	// Once only.
	if a := e.authorize(t, "acme", q, cookie); a.status != http.StatusBadRequest {
		t.Errorf("a used request_uri: %d %v", a.status, a.location)
	}

	t.Run("another client's request_uri", func(t *testing.T) {
		uri := push(t, c, authQuery(c, challenge)).body["request_uri"].(string)
		a := e.authorize(t, "acme", form("client_id", other.id, "request_uri", uri), cookie)
		if a.status != http.StatusBadRequest || a.location != nil {
			t.Errorf("got %d %v", a.status, a.location)
		}
	})
	t.Run("a redirect URI unregistered since the push", func(t *testing.T) {
		moved := e.codeClient(t, e.a, clients.CreateInput{})
		uri := push(t, moved, authQuery(moved, challenge)).body["request_uri"].(string)
		only := []string{"https://app.example.com/other"}
		if _, err := invoke.Call[clients.Client](context.Background(), e.inv,
			clients.FunctionName, clients.OpUpdate, sysRoot, clients.UpdateInput{
				TenantID: e.a.ID, ID: moved.id, RedirectURIs: &only}); err != nil {
			t.Fatal(err)
		}
		a := e.authorize(t, "acme", form("client_id", moved.id, "request_uri", uri), cookie)
		if a.status != http.StatusBadRequest || a.location != nil {
			t.Errorf("got %d %v", a.status, a.location)
		}
	})
	t.Run("an expired request_uri", func(t *testing.T) {
		uri := push(t, c, authQuery(c, challenge)).body["request_uri"].(string)
		e.clk.Add(61 * time.Second)
		a := e.authorize(t, "acme", form("client_id", c.id, "request_uri", uri), cookie)
		if a.status != http.StatusBadRequest || !strings.Contains(a.body, "invalid_request_uri") {
			t.Errorf("got %d %s", a.status, a.body)
		}
	})
	t.Run("refusals", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			a    answer
			want string
		}{
			{"no client authentication", e.do(t, request{path: "/t/acme/oauth2/par",
				form: authQuery(c, challenge, "client_id", c.id)}), "invalid_client"},
			{"a redirect URI not registered", push(t, c, authQuery(c, challenge,
				"redirect_uri", appCallback+"/")), "invalid_request"},
			{"no PKCE", push(t, c, authQuery(c, "")), "invalid_request"},
			{"a request_uri inside", push(t, c, authQuery(c, challenge, "request_uri",
				"urn:x")), "invalid_request"},
		} {
			if tc.a.body["error"] != tc.want || tc.a.body["request_uri"] != nil {
				t.Errorf("%s: %d %s, want %s", tc.name, tc.a.status, tc.a.raw, tc.want)
			}
		}
	})
}

func TestUserInfo(t *testing.T) {
	e := newEnv(t)
	u := e.user(t, e.a)
	cookie := e.session(t, u, "1", e.clk.Now())
	verifier, challenge := pkce()
	tokenFor := func(t *testing.T, format, scope string) string {
		t.Helper()
		c := e.codeClient(t, e.a, clients.CreateInput{AccessTokenFormat: format})
		code := e.codeOf(t, e.authorize(t, "acme", authQuery(c, challenge, "scope", scope),
			cookie))
		a := e.redeem(t, c, false, "code", code, "code_verifier", verifier)
		if a.status != http.StatusOK {
			t.Fatalf("token: %d %s", a.status, a.raw)
		}
		return a.body["access_token"].(string)
	}
	get := func(t *testing.T, tok string) answer {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/t/acme/oauth2/userinfo", nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		a := answer{status: resp.StatusCode, header: resp.Header, raw: string(b)}
		_ = jsonUnmarshal(b, &a.body)
		return a
	}

	for _, tc := range []struct {
		scope, format string
		want          []string
		absent        []string
	}{
		{"openid", clients.FormatJWT, []string{"sub"}, []string{"name", "email"}},
		{"openid profile", clients.FormatOpaque, []string{"sub", "name", "preferred_username",
			"updated_at"}, []string{"email", "phone_number"}},
		{"openid email", clients.FormatJWT, []string{"sub", "email", "email_verified"},
			[]string{"name", "phone_number"}},
		{"openid phone", clients.FormatJWT, []string{"sub", "phone_number",
			"phone_number_verified"}, []string{"email"}},
	} {
		t.Run(tc.scope+" "+tc.format, func(t *testing.T) {
			a := get(t, tokenFor(t, tc.format, tc.scope))
			if a.status != http.StatusOK || a.body["sub"] != u.ID ||
				a.header.Get("Access-Control-Allow-Origin") != "*" {
				t.Fatalf("userinfo: %d %s", a.status, a.raw)
			}
			for _, k := range tc.want {
				if _, ok := a.body[k]; !ok {
					t.Errorf("%s missing: %s", k, a.raw)
				}
			}
			for _, k := range tc.absent {
				if _, ok := a.body[k]; ok {
					t.Errorf("%s present: %s", k, a.raw)
				}
			}
		})
	}

	t.Run("the token in a POST body", func(t *testing.T) {
		a := e.do(t, request{path: "/t/acme/oauth2/userinfo",
			form: form("access_token", tokenFor(t, clients.FormatJWT, "openid email"))})
		if a.status != http.StatusOK || a.body["email"] != "ada@example.com" {
			t.Errorf("got %d %s", a.status, a.raw)
		}
	})
	t.Run("errors", func(t *testing.T) {
		noOpenID := tokenFor(t, clients.FormatJWT, "read")
		cc := e.client(t, e.a, clients.CreateInput{Scopes: []string{"openid"}})
		ccToken := e.token(t, "acme", cc)["access_token"].(string)
		for _, tc := range []struct {
			name   string
			tok    string
			status int
			code   string
		}{
			{"no token", "", http.StatusUnauthorized, ""},
			{"a bad token", "garbage", http.StatusUnauthorized, "invalid_token"},
			{"no openid scope", noOpenID, http.StatusForbidden, "insufficient_scope"},
			{"a client's own token", ccToken, http.StatusForbidden, "insufficient_scope"},
		} {
			a := get(t, tc.tok)
			ch := a.header.Get("WWW-Authenticate")
			if a.status != tc.status || !strings.HasPrefix(ch, `Bearer realm="acme"`) ||
				(tc.code != "" && !strings.Contains(ch, `error="`+tc.code+`"`)) ||
				(tc.code == "" && strings.Contains(ch, "error=")) {
				t.Errorf("%s: %d %q %s", tc.name, a.status, ch, a.raw)
			}
		}
		// A revoked token is refused.
		tok := tokenFor(t, clients.FormatOpaque, "openid")
		if _, err := e.cache.GetDel(context.Background(), opaqueKey(tok)); err != nil {
			t.Fatal(err)
		}
		if a := get(t, tok); a.status != http.StatusUnauthorized {
			t.Errorf("a revoked token: %d", a.status)
		}
	})
}

func TestDiscoveryNamesTheISSParameter(t *testing.T) {
	e := newEnv(t)
	_, b := e.get(t, "/t/acme/.well-known/openid-configuration")
	var m map[string]any
	if err := jsonUnmarshal(b, &m); err != nil || m["authorization_response_iss_parameter_supported"] != true {
		t.Errorf("metadata: %s", b)
	}
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// TestTheCodeFlowStartsARefreshFamily: a client holding the refresh_token
// grant gets a refresh token with its code; a refresh answers a new ID
// token without the nonce's request; the family ends with the sign-in
// session unless offline_access was granted; a replayed code revokes the
// family it started.
func TestTheCodeFlowStartsARefreshFamily(t *testing.T) {
	e := newEnv(t)
	c := e.codeClient(t, e.a, clients.CreateInput{GrantTypes: []string{
		clients.GrantAuthorizationCode, clients.GrantRefreshToken},
		Scopes: []string{"openid", "profile", "offline_access"}})
	u := e.user(t, e.a)
	verifier, challenge := pkce()

	start := func(t *testing.T, scope, cookie string) (code string, a answer) {
		t.Helper()
		code = e.codeOf(t, e.authorize(t, "acme", authQuery(c, challenge, "scope", scope),
			cookie))
		a = e.redeem(t, c, false, "code", code, "code_verifier", verifier)
		if a.status != http.StatusOK || a.body["refresh_token"] == nil {
			t.Fatalf("token: %d %s", a.status, a.raw)
		}
		return code, a
	}

	t.Run("a refresh answers a new ID token", func(t *testing.T) {
		_, a := start(t, "openid profile", e.session(t, u, store.ACRPassword, e.clk.Now()))
		r := e.refresh(t, "acme", c, a.body["refresh_token"].(string))
		idt, _ := r.body["id_token"].(string)
		if r.status != http.StatusOK || idt == "" || r.body["refresh_token"] == nil {
			t.Fatalf("refresh: %d %s", r.status, r.raw)
		}
		_, claims := e.verifyJWT(t, "acme", idt)
		if claims["sub"] != u.ID || claims["aud"] != c.id || claims["nonce"] != nil ||
			claims["auth_time"] != float64(e.clk.Now().Unix()) {
			t.Errorf("refreshed ID token: %v", claims)
		}
	})

	t.Run("the family ends with the session unless offline", func(t *testing.T) {
		cookie := e.session(t, u, store.ACRPassword, e.clk.Now())
		_, online := start(t, "openid", cookie)
		_, offline := start(t, "openid offline_access", cookie)
		v, err := invoke.Call[sessions.ValidateOutput](context.Background(), e.inv,
			sessions.FunctionName, sessions.OpValidate, service,
			sessions.ValidateInput{Token: sessions.Token(cookie), Tenant: e.a.ID})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.st.Sessions().Delete(context.Background(), e.a.ID, v.SessionID); err != nil {
			t.Fatal(err)
		}
		wantInvalidGrant(t, "online after sign-out",
			e.refresh(t, "acme", c, online.body["refresh_token"].(string)))
		if r := e.refresh(t, "acme", c, offline.body["refresh_token"].(string)); r.status !=
			http.StatusOK {
			t.Errorf("offline after sign-out: %d %s", r.status, r.raw)
		}
	})

	t.Run("a replayed code revokes its family", func(t *testing.T) {
		code, a := start(t, "openid", e.session(t, u, store.ACRPassword, e.clk.Now()))
		wantInvalidGrant(t, "the replay",
			e.redeem(t, c, false, "code", code, "code_verifier", verifier))
		wantInvalidGrant(t, "after the replay",
			e.refresh(t, "acme", c, a.body["refresh_token"].(string)))
	})
}
