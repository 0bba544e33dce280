package oauth_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wardhq/ward/shared/clients"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/oauth"
	"github.com/wardhq/ward/shared/sessions"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/validate"
)

const appBye = "https://app.example.com/bye"

// logoutClient registers a client of the code flow with refresh tokens
// and the post-logout redirect URI appBye.
func (e *env) logoutClient(t testing.TB, tn store.Tenant) registered {
	t.Helper()
	return e.codeClient(t, tn, clients.CreateInput{
		GrantTypes: []string{clients.GrantAuthorizationCode, clients.GrantRefreshToken},
		Scopes:     []string{"openid", "profile", "offline_access"},
		PostLogoutRedirectURIs: []string{appBye, "http://127.0.0.1:8765/bye",
			"https://app.example.com/bye?from=ward"}})
}

// signedIn is a user signed in at acme's pages who went through the code
// flow of c: the session cookie, the ID token and the refresh token.
type signedIn struct {
	user                    store.User
	cookie, idToken, refTok string
}

func (e *env) signIn(t testing.TB, c registered, scope string) signedIn {
	t.Helper()
	// Not e.user: two users of one test need their own name and address.
	tail := validate.NewID()[24:]
	u, err := e.st.Users().Create(context.Background(), store.User{ID: validate.NewID(),
		TenantID: e.a.ID, Username: "user" + tail, Email: tail + "@example.com",
		Status: store.UserActive, Attributes: map[string]any{}, CreatedAt: e.clk.Now(),
		UpdatedAt: e.clk.Now()})
	if err != nil {
		t.Fatal(err)
	}
	cookie := e.session(t, u, store.ACRPassword, e.clk.Now())
	return e.codeFlow(t, c, u, cookie, scope)
}

func (e *env) codeFlow(t testing.TB, c registered, u store.User, cookie, scope string) signedIn {
	t.Helper()
	verifier, challenge := pkce()
	code := e.codeOf(t, e.authorize(t, "acme", authQuery(c, challenge, "scope", scope), cookie))
	a := e.redeem(t, c, false, "code", code, "code_verifier", verifier)
	idt, _ := a.body["id_token"].(string)
	rt, _ := a.body["refresh_token"].(string)
	if a.status != http.StatusOK || idt == "" || rt == "" {
		t.Fatalf("token: %d %s", a.status, a.raw)
	}
	return signedIn{user: u, cookie: cookie, idToken: idt, refTok: rt}
}

// logout sends the browser's GET to acme's end-session endpoint.
func (e *env) logout(t testing.TB, q url.Values, cookie string) authAnswer {
	t.Helper()
	return e.browse(t, e.srv.URL+"/t/acme/oauth2/logout?"+q.Encode(), cookie)
}

// confirm posts the confirmation form as the browser would, from origin.
func (e *env) confirm(t testing.TB, id, cookie, origin string) authAnswer {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/t/acme/oauth2/logout",
		strings.NewReader(url.Values{"logout_request": {id}}.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	return e.send(t, req, cookie)
}

var confirmID = regexp.MustCompile(`name="logout_request" value="([A-Za-z0-9_-]+)"`)

// asked expects the confirmation page and returns its form's ID.
func asked(t testing.TB, a authAnswer) string {
	t.Helper()
	m := confirmID.FindStringSubmatch(a.body)
	if a.status != http.StatusOK || m == nil || a.location != nil {
		t.Fatalf("logout: %d %v, want the confirmation page; %s", a.status, a.location, a.body)
	}
	if csp := a.header.Get("Content-Security-Policy"); !strings.Contains(csp,
		"frame-ancestors 'none'") {
		t.Errorf("the confirmation page's policy: %q", csp)
	}
	return m[1]
}

// sessionLive tells whether the cookie's session still validates.
func (e *env) sessionLive(t testing.TB, cookie string) bool {
	t.Helper()
	out, err := invoke.Call[sessions.ValidateOutput](context.Background(), e.inv,
		sessions.FunctionName, sessions.OpValidate, service,
		sessions.ValidateInput{Token: sessions.Token(cookie), Tenant: e.a.ID})
	return err == nil && out.Active
}

// familyRevoked reads the refresh token's family from the store.
func (e *env) familyRevoked(t testing.TB, tok string) bool {
	t.Helper()
	sum := sha256.Sum256([]byte(tok))
	_, f, err := e.st.RefreshTokens().GetByHash(context.Background(), hex.EncodeToString(sum[:]))
	if err != nil {
		t.Fatal(err)
	}
	return f.Revoked
}

// clearsCookie tells whether the answer clears the session cookie.
func clearsCookie(a authAnswer) bool {
	for _, c := range (&http.Response{Header: a.header}).Cookies() {
		if c.Name == sessions.CookieName(false) && c.MaxAge < 0 && c.Path == "/" && c.HttpOnly {
			return true
		}
	}
	return false
}

// leftTo expects a redirect to appBye with state st.
func leftTo(t testing.TB, a authAnswer, st string) {
	t.Helper()
	if a.status != http.StatusSeeOther || a.location == nil {
		t.Fatalf("logout: %d, want a redirect to %s; %s", a.status, appBye, a.body)
	}
	want := appBye
	if st != "" {
		want += "?state=" + url.QueryEscape(st)
	}
	if a.location.String() != want {
		t.Errorf("redirected to %s, want %s", a.location, want)
	}
}

func TestLogoutWithAMatchingHintEndsTheSession(t *testing.T) {
	e := newEnv(t)
	c := e.logoutClient(t, e.a)
	in := e.signIn(t, c, "openid profile")
	// Another grant of the same user: offline, it outlives the session.
	offline := e.codeFlow(t, c, in.user, in.cookie, "openid offline_access")

	a := e.logout(t, form("id_token_hint", in.idToken, "post_logout_redirect_uri", appBye,
		"state", "s t&1"), in.cookie)
	leftTo(t, a, "s t&1")
	if !clearsCookie(a) {
		t.Errorf("the session cookie was not cleared: %v", a.header["Set-Cookie"])
	}
	if e.sessionLive(t, in.cookie) {
		t.Error("the session still validates after logout")
	}
	if !e.familyRevoked(t, in.refTok) {
		t.Error("the session's refresh token family was not revoked")
	}
	wantInvalidGrant(t, "refresh after logout", e.refresh(t, "acme", c, in.refTok))
	if e.familyRevoked(t, offline.refTok) {
		t.Error("an offline family was revoked by logout")
	}
	if a := e.refresh(t, "acme", c, offline.refTok); a.status != http.StatusOK {
		t.Errorf("offline refresh after logout: %d %s", a.status, a.raw)
	}
}

func TestLogoutWithoutRedirectShowsSignedOut(t *testing.T) {
	e := newEnv(t)
	c := e.logoutClient(t, e.a)
	in := e.signIn(t, c, "openid")
	a := e.logout(t, form("id_token_hint", in.idToken), in.cookie)
	if a.status != http.StatusOK || a.location != nil || !strings.Contains(a.body, "signed out") {
		t.Fatalf("logout: %d %v %s", a.status, a.location, a.body)
	}
	if e.sessionLive(t, in.cookie) {
		t.Error("the session still validates")
	}

	// Without a session, nothing is asked: the browser goes on.
	leftTo(t, e.logout(t, form("client_id", c.id, "post_logout_redirect_uri", appBye,
		"state", "x"), ""), "x")
}

func TestLogoutPostLogoutRedirectURIMustBeRegistered(t *testing.T) {
	e := newEnv(t)
	c := e.logoutClient(t, e.a)
	in := e.signIn(t, c, "openid")
	for _, ru := range []string{
		"https://app.example.com/by",       // a prefix
		"https://app.example.com/bye/",     // a trailing slash
		"https://app.example.com/bye/more", // a longer path
		"https://app.example.com:8443/bye", // another port
		"http://127.0.0.1:8766/bye",        // another loopback port
		"http://app.example.com/bye",       // http for https
		"https://APP.example.com/bye",      // another case
		"https://app.example.com/bye?x=1",  // an added query
		"https://app.example.com/bye#frag", // a fragment
		appCallback,                        // a redirect URI, not a post-logout one
		"https://evil.example/bye",
	} {
		a := e.logout(t, form("id_token_hint", in.idToken, "post_logout_redirect_uri", ru,
			"state", "s"), in.cookie)
		if a.status != http.StatusBadRequest || a.location != nil ||
			!strings.Contains(a.body, "invalid_request") {
			t.Errorf("%s: %d %v, want an error page", ru, a.status, a.location)
		}
		if clearsCookie(a) {
			t.Errorf("%s: the cookie was cleared", ru)
		}
	}
	if !e.sessionLive(t, in.cookie) || e.familyRevoked(t, in.refTok) {
		t.Fatal("a refused logout ended something")
	}

	// Without a client, a redirect URI cannot be checked.
	a := e.logout(t, form("post_logout_redirect_uri", appBye), in.cookie)
	if a.status != http.StatusBadRequest || a.location != nil {
		t.Errorf("no client: %d %v, want an error page", a.status, a.location)
	}
	// A registered one with a query keeps it.
	a = e.logout(t, form("client_id", c.id, "id_token_hint", in.idToken,
		"post_logout_redirect_uri", "https://app.example.com/bye?from=ward", "state", "q"),
		in.cookie)
	if a.location == nil || a.location.String() != "https://app.example.com/bye?from=ward&state=q" {
		t.Errorf("registered with a query: %d %v", a.status, a.location)
	}
}

func TestLogoutRefusesForeignAndForgedHints(t *testing.T) {
	e := newEnv(t)
	c := e.logoutClient(t, e.a)
	in := e.signIn(t, c, "openid")
	other := e.logoutClient(t, e.a)

	// A hint beta's issuer signed, naming acme's client and user.
	m := e.signer(t)
	claims := map[string]any{"iss": e.srv.URL + "/t/beta", "sub": in.user.ID, "aud": c.id,
		"azp": c.id, "exp": e.clk.Now().Add(time.Hour).Unix(), "iat": e.clk.Now().Unix()}
	b, _ := json.Marshal(claims)
	beta, err := m.Sign(context.Background(), e.b.ID, b, oauth.IDTokenType)
	if err != nil {
		t.Fatal(err)
	}
	// acme's key with beta's issuer.
	claimsAcme := map[string]any{}
	for k, v := range claims {
		claimsAcme[k] = v
	}
	b, _ = json.Marshal(claimsAcme)
	wrongIss, err := m.Sign(context.Background(), e.a.ID, b, oauth.IDTokenType)
	if err != nil {
		t.Fatal(err)
	}
	// acme's issuer, signed by a key of nobody's under acme's kid.
	claimsAcme["iss"] = e.srv.URL + "/t/acme"
	parts := strings.Split(in.idToken, ".")
	var header map[string]any
	hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
	_ = json.Unmarshal(hb, &header)
	kid, _ := header["kid"].(string)
	forged := signJWX(t, newClientKey(t, kid, "ES256"), claimsAcme)
	// An access token of acme is no ID token.
	at, _ := e.token(t, "acme", e.client(t, e.a, clients.CreateInput{}))["access_token"].(string)
	if at == "" {
		t.Fatal("no access token")
	}

	for name, hint := range map[string]string{
		"another tenant's":     beta,
		"another issuer's":     wrongIss,
		"signed by a stranger": forged,
		"alg none": unsigned(t, map[string]any{"alg": "none", "kid": kid, "typ": "JWT"},
			claimsAcme, nil),
		"HS256 with the public key as secret": unsigned(t, map[string]any{"alg": "HS256",
			"kid": kid}, claimsAcme, []byte("not a mac")),
		"an access token":    at,
		"a tampered payload": parts[0] + "." + base64.RawURLEncoding.EncodeToString(b) + "." + parts[2],
		"garbage":            "not.a.jwt",
	} {
		a := e.logout(t, form("id_token_hint", hint, "post_logout_redirect_uri", appBye,
			"state", "s"), in.cookie)
		if a.status != http.StatusBadRequest || a.location != nil ||
			!strings.Contains(a.body, "id_token_hint") {
			t.Errorf("%s: %d %v, want an error page about the hint", name, a.status, a.location)
		}
	}
	// A client_id other than the hint's.
	a := e.logout(t, form("id_token_hint", in.idToken, "client_id", other.id,
		"post_logout_redirect_uri", appBye), in.cookie)
	if a.status != http.StatusBadRequest || a.location != nil {
		t.Errorf("mismatched client_id: %d %v, want an error page", a.status, a.location)
	}
	if !e.sessionLive(t, in.cookie) || e.familyRevoked(t, in.refTok) {
		t.Fatal("a refused logout ended something")
	}
}

func TestLogoutAcceptsAnExpiredHint(t *testing.T) {
	e := newEnv(t)
	c := e.logoutClient(t, e.a)
	in := e.signIn(t, c, "openid")
	e.clk.Add(10 * time.Minute) // past the ID token's 5 minutes, within the session's idle time
	if !e.sessionLive(t, in.cookie) {
		t.Fatal("the session ended with the clock")
	}
	leftTo(t, e.logout(t, form("id_token_hint", in.idToken, "post_logout_redirect_uri", appBye),
		in.cookie), "")
	if e.sessionLive(t, in.cookie) {
		t.Error("the session still validates")
	}
}

func TestLogoutAsksWithoutAHintOrForSomeoneElse(t *testing.T) {
	e := newEnv(t)
	c := e.logoutClient(t, e.a)
	in := e.signIn(t, c, "openid")
	someone := e.signIn(t, c, "openid")

	// No hint: asked; nothing ends before the answer.
	id := asked(t, e.logout(t, form("client_id", c.id, "post_logout_redirect_uri", appBye,
		"state", "st"), in.cookie))
	if !e.sessionLive(t, in.cookie) {
		t.Fatal("the session ended before the user answered")
	}
	// Someone else's hint: asked too.
	other := asked(t, e.logout(t, form("id_token_hint", someone.idToken), in.cookie))

	// The answer: the session ends, the browser goes on with state.
	a := e.confirm(t, id, in.cookie, e.srv.URL)
	leftTo(t, a, "st")
	if !clearsCookie(a) || e.sessionLive(t, in.cookie) || !e.familyRevoked(t, in.refTok) {
		t.Errorf("after confirming: cookie cleared %v, session live %v, family revoked %v",
			clearsCookie(a), e.sessionLive(t, in.cookie), e.familyRevoked(t, in.refTok))
	}
	if !e.sessionLive(t, someone.cookie) {
		t.Error("the hinted user's own session ended")
	}
	// The form is for one use.
	if a := e.confirm(t, id, in.cookie, e.srv.URL); a.status != http.StatusBadRequest {
		t.Errorf("a form used again: %d %v", a.status, a.location)
	}
	// The session is gone: the other form finds nothing to end and goes
	// on to the signed-out page.
	if a := e.confirm(t, other, "", e.srv.URL); a.status != http.StatusOK ||
		!strings.Contains(a.body, "signed out") {
		t.Errorf("the second form: %d %s", a.status, a.body)
	}
}

func TestLogoutConfirmationResistsForgery(t *testing.T) {
	e := newEnv(t)
	c := e.logoutClient(t, e.a)
	victim := e.signIn(t, c, "openid")
	attacker := e.signIn(t, c, "openid")

	// The attacker's own form, posted by the victim's browser.
	id := asked(t, e.logout(t, form("client_id", c.id), attacker.cookie))
	a := e.confirm(t, id, victim.cookie, e.srv.URL)
	if a.status != http.StatusBadRequest || a.location != nil || clearsCookie(a) {
		t.Errorf("another session's form: %d %v", a.status, a.location)
	}
	// The victim's form, posted from another site or with no origin.
	id = asked(t, e.logout(t, form("client_id", c.id), victim.cookie))
	for _, origin := range []string{"https://evil.example", "null", ""} {
		a := e.confirm(t, id, victim.cookie, origin)
		if a.status != http.StatusBadRequest || a.location != nil || clearsCookie(a) {
			t.Errorf("origin %q: %d %v", origin, a.status, a.location)
		}
	}
	// A made-up form ID.
	if a := e.confirm(t, strings.Repeat("A", 43), victim.cookie, e.srv.URL); a.status !=
		http.StatusBadRequest {
		t.Errorf("an unknown form: %d", a.status)
	}
	if !e.sessionLive(t, victim.cookie) || !e.sessionLive(t, attacker.cookie) {
		t.Fatal("a forged confirmation ended a session")
	}
	// The refusals did not spend the victim's form.
	a = e.confirm(t, id, victim.cookie, e.srv.URL)
	if a.status != http.StatusOK || !strings.Contains(a.body, "signed out") ||
		e.sessionLive(t, victim.cookie) {
		t.Errorf("the victim's own answer: %d %s", a.status, a.body)
	}
}

func TestLogoutRefusesBadInput(t *testing.T) {
	e := newEnv(t)
	c := e.logoutClient(t, e.a)
	in := e.signIn(t, c, "openid")
	for name, q := range map[string]string{
		"a repeated state":   "state=a&state=b&client_id=" + c.id,
		"an unknown client":  "client_id=nobody&post_logout_redirect_uri=" + url.QueryEscape(appBye),
		"beta's client":      "client_id=" + e.logoutClient(t, e.b).id,
		"a long state":       "state=" + strings.Repeat("s", 3000),
		"a long logout_hint": "logout_hint=" + strings.Repeat("h", 300),
	} {
		a := e.browse(t, e.srv.URL+"/t/acme/oauth2/logout?"+q, in.cookie)
		if a.status != http.StatusBadRequest || a.location != nil {
			t.Errorf("%s: %d %v, want an error page", name, a.status, a.location)
		}
	}
	if a := e.browse(t, e.srv.URL+"/t/nowhere/oauth2/logout", in.cookie); a.status !=
		http.StatusNotFound {
		t.Errorf("an unknown tenant: %d", a.status)
	}
	if !e.sessionLive(t, in.cookie) {
		t.Fatal("a refused logout ended the session")
	}
}
