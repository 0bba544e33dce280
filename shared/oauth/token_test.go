package oauth_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"

	"github.com/wardhq/ward/shared/cache/memory"
	"github.com/wardhq/ward/shared/clients"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/oauth"
	"github.com/wardhq/ward/shared/store"
)

// registered is a client as the tests use it: its ID and secret.
type registered struct {
	id, secret string
}

// client registers a client in tn through the clients function.
func (e *env) client(t testing.TB, tn store.Tenant, in clients.CreateInput) registered {
	t.Helper()
	in.TenantID = tn.ID
	if in.Type == "" {
		in.Type = store.ClientConfidential
	}
	if in.AuthMethod == "" {
		in.AuthMethod = clients.MethodSecretBasic
	}
	if in.GrantTypes == nil {
		in.GrantTypes = []string{clients.GrantClientCredentials}
	}
	out, err := invoke.Call[clients.SecretOutput](context.Background(), e.inv,
		clients.FunctionName, clients.OpCreate, sysRoot, in)
	if err != nil {
		t.Fatal(err)
	}
	return registered{id: out.Client.ID, secret: string(out.Secret)}
}

// request is one POST to an endpoint of the server.
type request struct {
	path        string
	form        url.Values
	basic       *registered // client_secret_basic with these credentials
	contentType string      // default: the form's
	query       string
}

type answer struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (e *env) do(t testing.TB, rq request) answer {
	t.Helper()
	target := e.srv.URL + rq.path
	if rq.query != "" {
		target += "?" + rq.query
	}
	req, err := http.NewRequest(http.MethodPost, target, strings.NewReader(rq.form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	ct := rq.contentType
	if ct == "" {
		ct = "application/x-www-form-urlencoded"
	}
	req.Header.Set("Content-Type", ct)
	if rq.basic != nil {
		req.SetBasicAuth(url.QueryEscape(rq.basic.id), url.QueryEscape(rq.basic.secret))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header, raw: string(b)}
	_ = json.Unmarshal(b, &a.body)
	return a
}

func form(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v
}

// token gets an access token with client_secret_basic, failing the test
// on any refusal.
func (e *env) token(t testing.TB, tn string, c registered, kv ...string) map[string]any {
	t.Helper()
	a := e.do(t, request{path: "/t/" + tn + "/oauth2/token", basic: &c,
		form: form(append([]string{"grant_type", "client_credentials"}, kv...)...)})
	if a.status != http.StatusOK {
		t.Fatalf("token: %d %s", a.status, a.raw)
	}
	return a.body
}

// introspect asks tenant tn's introspection endpoint about tok as client c.
func (e *env) introspect(t testing.TB, tn string, c registered, tok string) map[string]any {
	t.Helper()
	a := e.do(t, request{path: "/t/" + tn + "/oauth2/introspect", basic: &c,
		form: form("token", tok)})
	if a.status != http.StatusOK {
		t.Fatalf("introspect: %d %s", a.status, a.raw)
	}
	return a.body
}

func (e *env) revoke(t testing.TB, tn string, c registered, tok string) answer {
	t.Helper()
	return e.do(t, request{path: "/t/" + tn + "/oauth2/revoke", basic: &c,
		form: form("token", tok)})
}

// verifyJWT checks tok against the tenant's served key set and returns
// its protected header's typ and its claims.
func (e *env) verifyJWT(t *testing.T, tn, tok string) (string, map[string]any) {
	t.Helper()
	_, body := e.get(t, "/t/"+tn+"/jwks.json")
	set, err := jwk.Parse(body)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := jws.Verify([]byte(tok), jws.WithKeySet(set))
	if err != nil {
		t.Fatalf("the access token does not verify against the key set: %v", err)
	}
	msg, err := jws.Parse([]byte(tok))
	if err != nil {
		t.Fatal(err)
	}
	typ, _ := msg.Signatures()[0].ProtectedHeaders().Type()
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	return typ, claims
}

func TestClientCredentialsIssuesJWTAccessTokens(t *testing.T) {
	e := newEnv(t)
	c := e.client(t, e.a, clients.CreateInput{Scopes: []string{"read", "write", "admin"},
		AccessTokenTTL: 120})
	iss := e.srv.URL + "/t/acme"

	a := e.do(t, request{path: "/t/acme/oauth2/token", basic: &c,
		form: form("grant_type", "client_credentials", "scope", "write read")})
	if a.status != http.StatusOK {
		t.Fatalf("token: %d %s", a.status, a.raw)
	}
	if got := a.header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", got)
	}
	if a.body["token_type"] != "Bearer" || a.body["expires_in"] != 120.0 ||
		a.body["scope"] != "write read" {
		t.Errorf("answer = %v", a.body)
	}
	tok, _ := a.body["access_token"].(string)
	typ, claims := e.verifyJWT(t, "acme", tok)
	if typ != "at+jwt" {
		t.Errorf("typ = %q, want at+jwt", typ)
	}
	now := float64(e.clk.Now().Unix())
	want := map[string]any{"iss": iss, "sub": c.id, "aud": iss, "client_id": c.id,
		"scope": "write read", "iat": now, "exp": now + 120}
	for k, v := range want {
		if claims[k] != v {
			t.Errorf("claim %s = %v, want %v", k, claims[k], v)
		}
	}
	if jti, _ := claims["jti"].(string); len(jti) < 16 {
		t.Errorf("jti = %q", jti)
	}

	t.Run("without scope, the token has every scope of the client", func(t *testing.T) {
		body := e.token(t, "acme", c)
		if body["scope"] != "read write admin" {
			t.Errorf("scope = %v", body["scope"])
		}
	})
	t.Run("resources become the audience", func(t *testing.T) {
		body := e.token(t, "acme", c, "resource", "https://api.example.com/")
		_, claims := e.verifyJWT(t, "acme", body["access_token"].(string))
		if claims["aud"] != "https://api.example.com/" {
			t.Errorf("aud = %v", claims["aud"])
		}
		body = e.token(t, "acme", c, "resource", "https://a.example.com",
			"resource", "urn:example:b")
		_, claims = e.verifyJWT(t, "acme", body["access_token"].(string))
		aud, _ := json.Marshal(claims["aud"])
		if string(aud) != `["https://a.example.com","urn:example:b"]` {
			t.Errorf("aud = %s", aud)
		}
	})
}

func TestClientCredentialsIssuesOpaqueAccessTokens(t *testing.T) {
	e := newEnv(t)
	c := e.client(t, e.a, clients.CreateInput{AuthMethod: clients.MethodSecretPost,
		Scopes: []string{"read"}, AccessTokenFormat: clients.FormatOpaque, AccessTokenTTL: 60})

	a := e.do(t, request{path: "/t/acme/oauth2/token", form: form("grant_type",
		"client_credentials", "client_id", c.id, "client_secret", c.secret)})
	if a.status != http.StatusOK {
		t.Fatalf("token: %d %s", a.status, a.raw)
	}
	tok, _ := a.body["access_token"].(string)
	raw, ok := strings.CutPrefix(tok, "wat_")
	sealed, err := base64.RawURLEncoding.DecodeString(raw)
	if !ok || err != nil || len(sealed) < 24+16+64 {
		t.Fatalf("access token %q is not wat_ and sealed claims", tok)
	}
	// Sealed, not merely encoded: nothing of the claims shows.
	for _, clear := range []string{c.id, `"scope"`, "acme"} {
		if strings.Contains(string(sealed), clear) || strings.Contains(tok, clear) {
			t.Errorf("the token shows %q", clear)
		}
	}
	// The token is kept nowhere: another instance of the function, with
	// an empty cache of its own (or this one after a flush), reads it.
	fresh, err := memory.New(memory.Options{Now: e.clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	d := e.deps
	d.Cache = fresh
	mux := http.NewServeMux()
	function.Mount(mux, oauth.Function(d))
	other := httptest.NewServer(mux)
	defer other.Close()
	resp, err := http.PostForm(other.URL+"/t/acme/oauth2/introspect", form("token", tok,
		"client_id", c.id, "client_secret", c.secret))
	if err != nil {
		t.Fatal(err)
	}
	var fromOther map[string]any
	err = json.NewDecoder(resp.Body).Decode(&fromOther)
	resp.Body.Close()
	if err != nil || fromOther["active"] != true || fromOther["client_id"] != c.id {
		t.Errorf("introspection by an instance with an empty cache: %v %v", fromOther, err)
	}

	// Altered anywhere, or presented at another tenant, it is inactive.
	rs := e.client(t, e.a, clients.CreateInput{})
	for _, i := range []int{0, len(raw) / 2, len(raw) - 2} {
		b := []byte(tok)
		b[4+i] = map[bool]byte{true: 'A', false: 'B'}[b[4+i] != 'A']
		if got := e.introspect(t, "acme", rs, string(b)); got["active"] != false {
			t.Errorf("a token altered at %d introspects as %v", i, got)
		}
	}
	other2 := e.client(t, e.b, clients.CreateInput{})
	if got := e.introspect(t, "beta", other2, tok); got["active"] != false {
		t.Errorf("another tenant's token introspects as %v", got)
	}

	ia := e.do(t, request{path: "/t/acme/oauth2/introspect", form: form("token", tok,
		"client_id", c.id, "client_secret", c.secret)})
	got := ia.body
	want := map[string]any{"active": true, "client_id": c.id, "sub": c.id, "scope": "read",
		"iss": e.srv.URL + "/t/acme", "aud": e.srv.URL + "/t/acme", "token_type": "Bearer",
		"iat": float64(e.clk.Now().Unix()), "exp": float64(e.clk.Now().Unix() + 60)}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("introspection %s = %v, want %v", k, got[k], v)
		}
	}

	e.clk.Add(61 * time.Second)
	if got := e.introspect(t, "acme", rs, tok); got["active"] != false || len(got) != 1 {
		t.Errorf("an expired opaque token introspects as %v", got)
	}
}

// TestTokenEndpointErrors has one request per error of RFC 6749 section
// 5.2 (and RFC 8707's invalid_target), each refused with its code.
func TestTokenEndpointErrors(t *testing.T) {
	e := newEnv(t)
	c := e.client(t, e.a, clients.CreateInput{Scopes: []string{"read"}})
	post := e.client(t, e.a, clients.CreateInput{AuthMethod: clients.MethodSecretPost,
		Scopes: []string{"read"}})
	codeOnly := e.client(t, e.a, clients.CreateInput{
		GrantTypes:   []string{clients.GrantAuthorizationCode},
		RedirectURIs: []string{"https://app.example.com/cb"}})
	public := e.client(t, e.a, clients.CreateInput{Type: store.ClientPublic,
		AuthMethod: clients.MethodNone, GrantTypes: []string{clients.GrantAuthorizationCode},
		RedirectURIs: []string{"https://app.example.com/cb"}})
	other := e.client(t, e.b, clients.CreateInput{Scopes: []string{"read"}})
	wrong := registered{id: c.id, secret: c.secret + "x"}
	cc := "client_credentials"
	many := form("grant_type", cc)
	for i := range 9 {
		many.Add("resource", "https://api.example.com/"+string(rune('a'+i)))
	}

	for _, tc := range []struct {
		name   string
		rq     request
		status int
		code   string
	}{
		{"a JSON body is invalid_request", request{basic: &c, form: form("grant_type", cc),
			contentType: "application/json"}, 400, "invalid_request"},
		{"parameters in the query are invalid_request", request{basic: &c,
			form: form("grant_type", cc), query: "scope=read"}, 400, "invalid_request"},
		{"a missing grant_type is invalid_request", request{basic: &c, form: form()},
			400, "invalid_request"},
		{"a repeated parameter is invalid_request", request{basic: &c,
			form: form("grant_type", cc, "scope", "read", "scope", "read")}, 400,
			"invalid_request"},
		{"Basic and client_secret together are invalid_request", request{basic: &c,
			form: form("grant_type", cc, "client_id", c.id, "client_secret", c.secret)}, 400,
			"invalid_request"},
		{"Basic with another client_id in the body is invalid_request", request{basic: &c,
			form: form("grant_type", cc, "client_id", post.id)}, 400, "invalid_request"},
		{"no credentials are invalid_client", request{form: form("grant_type", cc)}, 401,
			"invalid_client"},
		{"a wrong Basic secret is invalid_client", request{basic: &wrong,
			form: form("grant_type", cc)}, 401, "invalid_client"},
		{"a wrong posted secret is invalid_client", request{form: form("grant_type", cc,
			"client_id", post.id, "client_secret", post.secret+"x")}, 401, "invalid_client"},
		{"a method other than the registered one is invalid_client", request{
			form: form("grant_type", cc, "client_id", c.id, "client_secret", c.secret)}, 401,
			"invalid_client"},
		{"a client of another tenant is invalid_client", request{basic: &other,
			form: form("grant_type", cc)}, 401, "invalid_client"},
		{"a client assertion is invalid_client", request{form: form("grant_type", cc,
			"client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
			"client_assertion", "x.y.z")}, 401, "invalid_client"},
		{"authorization_code without the grant is unauthorized_client", request{basic: &c,
			form: form("grant_type", "authorization_code", "code", "x")}, 400,
			"unauthorized_client"},
		{"refresh_token needs the grant", request{basic: &c,
			form: form("grant_type", "refresh_token", "refresh_token", "x")}, 400,
			"unauthorized_client"},
		{"password is unsupported_grant_type", request{basic: &c,
			form: form("grant_type", "password")}, 400, "unsupported_grant_type"},
		{"a client without the grant is unauthorized_client", request{basic: &codeOnly,
			form: form("grant_type", cc)}, 400, "unauthorized_client"},
		{"a public client is unauthorized_client", request{form: form("grant_type", cc,
			"client_id", public.id)}, 400, "unauthorized_client"},
		{"a scope not allowed is invalid_scope", request{basic: &c,
			form: form("grant_type", cc, "scope", "read write")}, 400, "invalid_scope"},
		{"a resource with a fragment is invalid_target", request{basic: &c,
			form: form("grant_type", cc, "resource", "https://api.example.com/#x")}, 400,
			"invalid_target"},
		{"a relative resource is invalid_target", request{basic: &c,
			form: form("grant_type", cc, "resource", "/api")}, 400, "invalid_target"},
		{"a resource with user information is invalid_target", request{basic: &c,
			form: form("grant_type", cc, "resource", "https://u:p@api.example.com/")}, 400,
			"invalid_target"},
		{"nine resources are invalid_target", request{basic: &c, form: many}, 400,
			"invalid_target"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.rq.path = "/t/acme/oauth2/token"
			a := e.do(t, tc.rq)
			if a.status != tc.status || a.body["error"] != tc.code {
				t.Fatalf("got %d %s, want %d %s", a.status, a.raw, tc.status, tc.code)
			}
			if _, issued := a.body["access_token"]; issued {
				t.Error("an access token came with the error")
			}
			if got := a.header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control = %q", got)
			}
			if got := a.header.Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type = %q", got)
			}
			challenge := a.header.Get("WWW-Authenticate")
			if tc.status == 401 && !strings.HasPrefix(challenge, "Basic ") {
				t.Errorf("WWW-Authenticate = %q, want a Basic challenge", challenge)
			}
			if tc.status != 401 && challenge != "" {
				t.Errorf("WWW-Authenticate = %q on a %d", challenge, tc.status)
			}
		})
	}

	t.Run("GET is not allowed", func(t *testing.T) {
		resp, _ := e.get(t, "/t/acme/oauth2/token")
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("GET = %d", resp.StatusCode)
		}
	})
	t.Run("an unknown tenant is 404", func(t *testing.T) {
		a := e.do(t, request{path: "/t/nope/oauth2/token", basic: &c, form: form("grant_type", cc)})
		if a.status != http.StatusNotFound {
			t.Errorf("got %d %s", a.status, a.raw)
		}
	})
}

func TestIntrospection(t *testing.T) {
	e := newEnv(t)
	jwtClient := e.client(t, e.a, clients.CreateInput{Scopes: []string{"read"}})
	opaque := e.client(t, e.a, clients.CreateInput{Scopes: []string{"read"},
		AccessTokenFormat: clients.FormatOpaque})
	rs := e.client(t, e.a, clients.CreateInput{}) // a resource server
	atB := e.client(t, e.b, clients.CreateInput{})
	jwt := e.token(t, "acme", jwtClient)["access_token"].(string)
	opq := e.token(t, "acme", opaque)["access_token"].(string)

	for name, tok := range map[string]string{"a JWT": jwt, "an opaque token": opq} {
		t.Run(name+" of the tenant is active for any of its clients", func(t *testing.T) {
			got := e.introspect(t, "acme", rs, tok)
			if got["active"] != true || got["scope"] != "read" || got["token_type"] != "Bearer" {
				t.Errorf("introspection = %v", got)
			}
		})
		t.Run(name+" is inactive at another tenant", func(t *testing.T) {
			if got := e.introspect(t, "beta", atB, tok); got["active"] != false || len(got) != 1 {
				t.Errorf("introspection at beta = %v", got)
			}
		})
	}

	parts := strings.Split(jwt, ".")
	sig := []byte(parts[2])
	sig[5] ^= 1
	claims, _ := base64.RawURLEncoding.DecodeString(parts[1])
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"at+jwt"}`)) +
		"." + parts[1] + "."
	idToken, err := e.signer(t).Sign(context.Background(), e.a.ID, claims, "JWT")
	if err != nil {
		t.Fatal(err)
	}
	for name, tok := range map[string]string{
		"a JWT with a bad signature":  parts[0] + "." + parts[1] + "." + string(sig),
		"an unsigned JWT (alg none)":  none,
		"a JWT of typ JWT":            idToken,
		"an unknown opaque token":     "wat_" + strings.Repeat("A", 43),
		"garbage":                     "not a token",
		"a JWT with its header moved": parts[1] + "." + parts[0] + "." + parts[2],
	} {
		t.Run(name+" is inactive", func(t *testing.T) {
			if got := e.introspect(t, "acme", rs, tok); got["active"] != false || len(got) != 1 {
				t.Errorf("introspection = %v", got)
			}
		})
	}

	t.Run("a missing token is invalid_request", func(t *testing.T) {
		a := e.do(t, request{path: "/t/acme/oauth2/introspect", basic: &rs, form: form()})
		if a.status != 400 || a.body["error"] != "invalid_request" {
			t.Errorf("got %d %s", a.status, a.raw)
		}
	})
	t.Run("an unauthenticated caller is invalid_client", func(t *testing.T) {
		wrong := registered{id: rs.id, secret: "wcs_wrong"}
		public := e.client(t, e.a, clients.CreateInput{Type: store.ClientPublic,
			AuthMethod: clients.MethodNone, GrantTypes: []string{clients.GrantAuthorizationCode},
			RedirectURIs: []string{"https://app.example.com/cb"}})
		for _, rq := range []request{{form: form("token", jwt)},
			{basic: &wrong, form: form("token", jwt)}, {basic: &atB, form: form("token", jwt)},
			{form: form("token", jwt, "client_id", public.id)}} {
			rq.path = "/t/acme/oauth2/introspect"
			a := e.do(t, rq)
			if a.status != 401 || a.body["error"] != "invalid_client" || a.body["active"] != nil {
				t.Errorf("got %d %s", a.status, a.raw)
			}
		}
	})
	t.Run("an expired JWT is inactive", func(t *testing.T) {
		e.clk.Add(301 * time.Second)
		if got := e.introspect(t, "acme", rs, jwt); got["active"] != false {
			t.Errorf("introspection = %v", got)
		}
	})
}

func TestRevocation(t *testing.T) {
	e := newEnv(t)
	jwtClient := e.client(t, e.a, clients.CreateInput{})
	opaque := e.client(t, e.a, clients.CreateInput{AccessTokenFormat: clients.FormatOpaque})
	rs := e.client(t, e.a, clients.CreateInput{})
	atB := e.client(t, e.b, clients.CreateInput{})

	for name, c := range map[string]registered{"a JWT": jwtClient, "an opaque token": opaque} {
		t.Run(name+" revoked by its client is inactive", func(t *testing.T) {
			tok := e.token(t, "acme", c)["access_token"].(string)
			other := e.token(t, "acme", c)["access_token"].(string)

			// Another client of the tenant may not revoke it.
			if a := e.revoke(t, "acme", rs, tok); a.status != 400 ||
				a.body["error"] != "unauthorized_client" {
				t.Errorf("revocation by another client: %d %s", a.status, a.raw)
			}
			// A client of another tenant gets 200 and changes nothing.
			if a := e.revoke(t, "beta", atB, tok); a.status != 200 {
				t.Errorf("revocation at beta: %d %s", a.status, a.raw)
			}
			if got := e.introspect(t, "acme", rs, tok); got["active"] != true {
				t.Fatalf("refused revocations revoked the token: %v", got)
			}

			if a := e.revoke(t, "acme", c, tok); a.status != 200 || a.raw != "{}" {
				t.Fatalf("revocation: %d %s", a.status, a.raw)
			}
			if got := e.introspect(t, "acme", rs, tok); got["active"] != false {
				t.Errorf("a revoked token introspects as %v", got)
			}
			if got := e.introspect(t, "acme", rs, other); got["active"] != true {
				t.Errorf("revoking one token revoked another: %v", got)
			}
			if a := e.revoke(t, "acme", c, tok); a.status != 200 {
				t.Errorf("a second revocation: %d %s", a.status, a.raw)
			}
		})
	}
	t.Run("an unknown token is 200", func(t *testing.T) {
		for _, tok := range []string{"wat_unknown", "a.b.c", "x"} {
			if a := e.revoke(t, "acme", rs, tok); a.status != 200 {
				t.Errorf("revoke %q: %d %s", tok, a.status, a.raw)
			}
		}
	})
	t.Run("revocation needs client authentication and a token", func(t *testing.T) {
		a := e.do(t, request{path: "/t/acme/oauth2/revoke", form: form("token", "x")})
		if a.status != 401 || a.body["error"] != "invalid_client" {
			t.Errorf("no credentials: %d %s", a.status, a.raw)
		}
		a = e.do(t, request{path: "/t/acme/oauth2/revoke", basic: &rs, form: form()})
		if a.status != 400 || a.body["error"] != "invalid_request" {
			t.Errorf("no token: %d %s", a.status, a.raw)
		}
	})
	t.Run("a revoked JWT stays revoked until it expires", func(t *testing.T) {
		tok := e.token(t, "acme", jwtClient)["access_token"].(string)
		if a := e.revoke(t, "acme", jwtClient, tok); a.status != 200 {
			t.Fatal(a.raw)
		}
		e.clk.Add(299 * time.Second)
		if got := e.introspect(t, "acme", rs, tok); got["active"] != false {
			t.Errorf("a revoked JWT introspects as %v one second before its expiry", got)
		}
	})
}

func TestJWTsVerifyAcrossARotation(t *testing.T) {
	e := newEnv(t)
	c := e.client(t, e.a, clients.CreateInput{AccessTokenTTL: 600})
	rs := e.client(t, e.a, clients.CreateInput{})
	old := e.token(t, "acme", c)["access_token"].(string)
	if _, err := e.signer(t).Rotate(context.Background(), e.a.ID, "RS256"); err != nil {
		t.Fatal(err)
	}
	e.clk.Add(30 * time.Second) // past the serving process's copy of the set
	fresh := e.token(t, "acme", c)["access_token"].(string)
	for name, tok := range map[string]string{"the old key's": old, "the new key's": fresh} {
		if got := e.introspect(t, "acme", rs, tok); got["active"] != true {
			t.Errorf("%s token introspects as %v", name, got)
		}
	}
	parts := strings.Split(fresh, ".")
	header, _ := base64.RawURLEncoding.DecodeString(parts[0])
	if !strings.Contains(string(header), `"RS256"`) {
		t.Errorf("the token after rotation has header %s", header)
	}
	// The old key's token with its header claiming RS256: refused.
	oldParts := strings.Split(old, ".")
	h, _ := base64.RawURLEncoding.DecodeString(oldParts[0])
	forged := strings.Replace(string(h), "ES256", "RS256", 1)
	tok := base64.RawURLEncoding.EncodeToString([]byte(forged)) + "." + oldParts[1] + "." +
		oldParts[2]
	if got := e.introspect(t, "acme", rs, tok); got["active"] != false {
		t.Errorf("a token whose alg differs from its key's introspects as %v", got)
	}
}

func TestAnOverlapShorterThanTokensIsRefused(t *testing.T) {
	e := newEnv(t)
	d := e.deps
	d.Overlap = 10 * time.Minute
	defer func() {
		if recover() == nil {
			t.Error("an overlap of ten minutes was accepted")
		}
	}()
	oauth.Function(d)
}

// TestAProcessRemembersAClientForSeconds: a client that authenticated is
// remembered by the process for a few seconds (authMemoTTL), so a secret
// rotated elsewhere keeps working here until then and not after; a new
// secret works at once, and a failure is never remembered.
func TestAProcessRemembersAClientForSeconds(t *testing.T) {
	e := newEnv(t)
	c := e.client(t, e.a, clients.CreateInput{Scopes: []string{"read"}})
	issue := func(c registered) int {
		return e.do(t, request{path: "/t/acme/oauth2/token", basic: &c,
			form: form("grant_type", "client_credentials")}).status
	}
	wrong := c
	wrong.secret = "wcs_not-the-secret"
	if got := issue(wrong); got != http.StatusUnauthorized {
		t.Fatalf("a wrong secret: %d", got)
	}
	if got := issue(c); got != http.StatusOK {
		t.Fatalf("the right secret after a wrong one: %d", got)
	}
	out, err := invoke.Call[clients.SecretOutput](context.Background(), e.inv,
		clients.FunctionName, clients.OpRotateSecret, sysRoot,
		clients.RotateSecretInput{TenantID: e.a.ID, ID: c.id})
	if err != nil {
		t.Fatal(err)
	}
	fresh := registered{id: c.id, secret: string(out.Secret)}
	if got := issue(fresh); got != http.StatusOK {
		t.Errorf("the new secret: %d", got)
	}
	if got := issue(c); got != http.StatusOK {
		t.Errorf("the old secret within the memo's seconds: %d", got)
	}
	e.clk.Add(6 * time.Second)
	if got := issue(c); got != http.StatusUnauthorized {
		t.Errorf("the old secret after the memo's seconds: %d", got)
	}
	if got := issue(fresh); got != http.StatusOK {
		t.Errorf("the new secret later: %d", got)
	}
}

// TestARememberedJWTIsStillCheckedForRevocationAndExpiry: introspection
// remembers a JWT's verified claims, and still answers inactive once it
// is revoked or expired.
func TestARememberedJWTIsStillCheckedForRevocationAndExpiry(t *testing.T) {
	e := newEnv(t)
	c := e.client(t, e.a, clients.CreateInput{AccessTokenTTL: 60})
	rs := e.client(t, e.a, clients.CreateInput{})
	tok := func() string {
		a := e.do(t, request{path: "/t/acme/oauth2/token", basic: &c,
			form: form("grant_type", "client_credentials")})
		return a.body["access_token"].(string)
	}
	revoked, expiring := tok(), tok()
	for _, tk := range []string{revoked, expiring} {
		for range 2 { // the second answer comes from the memo
			if got := e.introspect(t, "acme", rs, tk); got["active"] != true {
				t.Fatalf("introspection = %v", got)
			}
		}
	}
	if a := e.do(t, request{path: "/t/acme/oauth2/revoke", basic: &c,
		form: form("token", revoked)}); a.status != http.StatusOK {
		t.Fatalf("revoke: %d %s", a.status, a.raw)
	}
	if got := e.introspect(t, "acme", rs, revoked); got["active"] != false {
		t.Errorf("a remembered, revoked JWT introspects as %v", got)
	}
	e.clk.Add(61 * time.Second)
	if got := e.introspect(t, "acme", rs, expiring); got["active"] != false {
		t.Errorf("a remembered, expired JWT introspects as %v", got)
	}
}
