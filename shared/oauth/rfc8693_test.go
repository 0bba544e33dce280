package oauth_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/lestrrat-go/jwx/v3/jwa"

	"github.com/wardhq/ward/shared/clients"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/issuers"
	"github.com/wardhq/ward/shared/issuers/issuerstest"
	"github.com/wardhq/ward/shared/oauth"
	"github.com/wardhq/ward/shared/sessions"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/validate"
)

const grantExchange = clients.GrantTokenExchange

var sysService = function.Caller{Subject: "test", Roles: []string{function.RoleService}}

// exchangeEnv is the server of newEnv (with sessions) with the trusted
// issuers function beside it too, as platform.OAuth wires them.
func exchangeEnv(t testing.TB) *env {
	t.Helper()
	e := newEnv(t)
	e.inv.Register(issuers.Function(issuers.Deps{Store: e.st, Now: e.clk.Now, Log: quiet}))
	return e
}

// exchanger registers a confidential client of acme with the token
// exchange grant, the scopes read, write and admin, and pol.
func (e *env) exchanger(t testing.TB, pol store.ExchangePolicy) registered {
	t.Helper()
	return e.client(t, e.a, clients.CreateInput{GrantTypes: []string{grantExchange},
		Scopes: []string{"read", "write", "admin"}, AccessTokenTTL: 600, Exchange: &pol})
}

// exchange posts a token exchange request to acme's token endpoint as c.
func (e *env) exchange(t *testing.T, c registered, kv ...string) answer {
	t.Helper()
	return e.do(t, request{path: "/t/acme/oauth2/token", basic: &c,
		form: form(append([]string{"grant_type", grantExchange}, kv...)...)})
}

// exchanged expects an issued access token and returns its claims.
func (e *env) exchanged(t *testing.T, a answer) map[string]any {
	t.Helper()
	if a.status != http.StatusOK {
		t.Fatalf("exchange: %d %s", a.status, a.raw)
	}
	if a.body["issued_token_type"] != oauth.TokenTypeAccessToken ||
		a.body["token_type"] != "Bearer" {
		t.Errorf("answer = %v", a.body)
	}
	_, claims := e.verifyJWT(t, "acme", a.body["access_token"].(string))
	return claims
}

// refused expects a 400 with code and no token.
func refused(t *testing.T, a answer, code string) {
	t.Helper()
	if a.status != http.StatusBadRequest || a.body["error"] != code {
		t.Errorf("got %d %s, want 400 %s", a.status, a.raw, code)
	}
	if _, ok := a.body["access_token"]; ok {
		t.Errorf("a token was issued: %s", a.raw)
	}
}

// wardToken is an access token of acme for a fresh client_credentials
// client with the scopes given, in format (jwt or opaque).
func (e *env) wardToken(t testing.TB, format string, scopes ...string) (string,
	registered) {
	t.Helper()
	c := e.client(t, e.a, clients.CreateInput{Scopes: scopes, AccessTokenFormat: format})
	return e.token(t, "acme", c)["access_token"].(string), c
}

func TestExchangeWardTokenForAnotherAudience(t *testing.T) {
	e := exchangeEnv(t)
	iss := e.srv.URL + "/t/acme"
	x := e.exchanger(t, store.ExchangePolicy{Issuers: []string{store.ExchangeSelf},
		Audiences: []string{"https://api.example.com/", "billing"}, Impersonation: true})

	for _, format := range []string{clients.FormatJWT, clients.FormatOpaque} {
		t.Run("from a "+format+" access token", func(t *testing.T) {
			subject, owner := e.wardToken(t, format, "read", "write")
			a := e.exchange(t, x, "subject_token", subject,
				"subject_token_type", oauth.TokenTypeAccessToken,
				"resource", "https://api.example.com/", "audience", "billing")
			claims := e.exchanged(t, a)
			if a.body["scope"] != "read write" || a.body["expires_in"] != 300.0 {
				t.Errorf("answer = %v, want the subject's scope and lifetime", a.body)
			}
			want := map[string]any{"iss": iss, "sub": owner.id, "client_id": x.id,
				"aud": []any{"https://api.example.com/", "billing"}, "scope": "read write"}
			for k, v := range want {
				if diff := cmp.Diff(v, claims[k]); diff != "" {
					t.Errorf("claim %s (-want +got):\n%s", k, diff)
				}
			}
			if _, ok := claims["act"]; ok {
				t.Errorf("impersonation left an act claim: %v", claims["act"])
			}
		})
	}
	t.Run("without audience, the audience is the issuer", func(t *testing.T) {
		subject, _ := e.wardToken(t, clients.FormatJWT, "read")
		claims := e.exchanged(t, e.exchange(t, x, "subject_token", subject,
			"subject_token_type", oauth.TokenTypeAccessToken))
		if claims["aud"] != iss {
			t.Errorf("aud = %v, want %s", claims["aud"], iss)
		}
	})
	t.Run("the scope never grows past the subject token's", func(t *testing.T) {
		subject, _ := e.wardToken(t, clients.FormatJWT, "read")
		refused(t, e.exchange(t, x, "subject_token", subject,
			"subject_token_type", oauth.TokenTypeAccessToken, "scope", "read admin"),
			"invalid_scope")
		a := e.exchange(t, x, "subject_token", subject,
			"subject_token_type", oauth.TokenTypeAccessToken, "scope", "read")
		if e.exchanged(t, a)["scope"] != "read" {
			t.Errorf("scope = %v", a.body["scope"])
		}
	})
	t.Run("an audience the client may not have is invalid_target", func(t *testing.T) {
		subject, _ := e.wardToken(t, clients.FormatJWT, "read")
		for _, kv := range [][]string{{"audience", "payroll"},
			{"resource", "https://other.example.com/"}, {"audience", "has space"},
			{"resource", "not a uri"}} {
			refused(t, e.exchange(t, x, "subject_token", subject,
				"subject_token_type", oauth.TokenTypeAccessToken, kv[0], kv[1]), "invalid_target")
		}
	})
	t.Run("the new token does not outlive the subject token", func(t *testing.T) {
		subject, _ := e.wardToken(t, clients.FormatJWT, "read")
		e.clk.Add(200 * time.Second)
		a := e.exchange(t, x, "subject_token", subject,
			"subject_token_type", oauth.TokenTypeAccessToken)
		e.exchanged(t, a)
		if a.body["expires_in"] != 100.0 {
			t.Errorf("expires_in = %v, want the 100 seconds the subject has left",
				a.body["expires_in"])
		}
	})
}

func TestExchangeDelegationCarriesAct(t *testing.T) {
	e := exchangeEnv(t)
	x := e.exchanger(t, store.ExchangePolicy{Issuers: []string{store.ExchangeSelf},
		Delegation: true})
	subject, owner := e.wardToken(t, clients.FormatJWT, "read")
	actor, agent := e.wardToken(t, clients.FormatOpaque, "read")

	a := e.exchange(t, x, "subject_token", subject, "subject_token_type",
		oauth.TokenTypeAccessToken, "actor_token", actor, "actor_token_type",
		oauth.TokenTypeAccessToken)
	claims := e.exchanged(t, a)
	if claims["sub"] != owner.id {
		t.Errorf("sub = %v, want the subject's %s", claims["sub"], owner.id)
	}
	// The actor is of this issuer, so its act names no iss.
	if diff := cmp.Diff(map[string]any{"sub": agent.id}, claims["act"]); diff != "" {
		t.Errorf("act (-want +got):\n%s", diff)
	}

	t.Run("introspection tells the actor", func(t *testing.T) {
		got := e.introspect(t, "acme", x, a.body["access_token"].(string))
		if diff := cmp.Diff(map[string]any{"sub": agent.id}, got["act"]); diff != "" {
			t.Errorf("act (-want +got):\n%s", diff)
		}
	})
	t.Run("a second delegation nests the first actor", func(t *testing.T) {
		actor2, agent2 := e.wardToken(t, clients.FormatJWT, "read")
		claims := e.exchanged(t, e.exchange(t, x, "subject_token",
			a.body["access_token"].(string), "subject_token_type", oauth.TokenTypeAccessToken,
			"actor_token", actor2, "actor_token_type", oauth.TokenTypeAccessToken))
		want := map[string]any{"sub": agent2.id, "act": map[string]any{"sub": agent.id}}
		if diff := cmp.Diff(want, claims["act"]); diff != "" {
			t.Errorf("act (-want +got):\n%s", diff)
		}
		if claims["sub"] != owner.id {
			t.Errorf("sub = %v", claims["sub"])
		}
	})
	t.Run("without an actor token, impersonation is refused by policy", func(t *testing.T) {
		refused(t, e.exchange(t, x, "subject_token", subject,
			"subject_token_type", oauth.TokenTypeAccessToken), "unauthorized_client")
	})
	t.Run("a client without delegation may not send an actor token", func(t *testing.T) {
		y := e.exchanger(t, store.ExchangePolicy{Issuers: []string{store.ExchangeSelf},
			Impersonation: true})
		refused(t, e.exchange(t, y, "subject_token", subject, "subject_token_type",
			oauth.TokenTypeAccessToken, "actor_token", actor, "actor_token_type",
			oauth.TokenTypeAccessToken), "unauthorized_client")
	})
	t.Run("a bad actor token is refused", func(t *testing.T) {
		refused(t, e.exchange(t, x, "subject_token", subject, "subject_token_type",
			oauth.TokenTypeAccessToken, "actor_token", oauth.OpaqueTokenPrefix+"nothing",
			"actor_token_type", oauth.TokenTypeAccessToken), "invalid_request")
	})
}

// external is a fake IdP trusted by acme, and a user it maps to.
type external struct {
	idp  *issuerstest.Issuer
	ti   store.TrustedIssuer
	user store.User
}

// trust makes a fake issuer a trusted issuer of acme with mapping and
// sessions, audience "ward-acme", carrying "scope"; and a user "alice".
func (e *env) trust(t testing.TB, mapping string, sessionsToo bool) external {
	t.Helper()
	idp := issuerstest.New(t)
	ti, err := invoke.Call[store.TrustedIssuer](context.Background(), e.inv,
		issuers.FunctionName, issuers.OpCreate, sysRoot, issuers.CreateInput{TenantID: e.a.ID,
			Issuer: idp.URL, JWKSURI: idp.JWKSURI(), Audiences: []string{"ward-acme"},
			Claims: []string{"scope"}, UserMapping: mapping, Sessions: sessionsToo})
	if err != nil {
		t.Fatal(err)
	}
	now := e.clk.Now()
	u, err := e.st.Users().GetByUsername(context.Background(), e.a.ID, "alice")
	if err != nil {
		u, err = e.st.Users().Create(context.Background(), store.User{ID: validate.NewID(),
			TenantID: e.a.ID, Username: "alice", Status: store.UserActive, CreatedAt: now,
			UpdatedAt: now})
		if err != nil {
			t.Fatal(err)
		}
	}
	return external{idp: idp, ti: ti, user: u}
}

// idToken signs claims for sub with the IdP's ES256 key; extra replaces
// or adds claims.
func (x external) token(t testing.TB, e *env, sub string, extra map[string]any) string {
	t.Helper()
	now := e.clk.Now().Unix()
	claims := map[string]any{"iss": x.idp.URL, "sub": sub, "aud": "ward-acme",
		"iat": now, "exp": now + 600, "scope": "read write"}
	for k, v := range extra {
		claims[k] = v
	}
	return x.idp.Sign(t, issuerstest.KidES256, claims)
}

func TestExchangeExternalTokenOfTrustedIssuer(t *testing.T) {
	e := exchangeEnv(t)
	mapped := e.trust(t, store.IssuerMapUsername, true)
	unmapped := e.trust(t, store.IssuerMapNone, false)
	x := e.exchanger(t, store.ExchangePolicy{Issuers: []string{mapped.idp.URL,
		unmapped.idp.URL}, Impersonation: true, Delegation: true})

	t.Run("a mapped subject becomes the Ward user", func(t *testing.T) {
		a := e.exchange(t, x, "subject_token", mapped.token(t, e, "alice", nil),
			"subject_token_type", oauth.TokenTypeJWT, "scope", "read")
		claims := e.exchanged(t, a)
		if claims["sub"] != mapped.user.ID || claims["scope"] != "read" {
			t.Errorf("sub, scope = %v, %v; want %s, read", claims["sub"], claims["scope"],
				mapped.user.ID)
		}
	})
	t.Run("the external token's scope bounds the new one", func(t *testing.T) {
		refused(t, e.exchange(t, x, "subject_token", mapped.token(t, e, "alice", nil),
			"subject_token_type", oauth.TokenTypeJWT, "scope", "admin"), "invalid_scope")
	})
	t.Run("an unmapped subject is qualified by its issuer", func(t *testing.T) {
		claims := e.exchanged(t, e.exchange(t, x, "subject_token",
			unmapped.token(t, e, "bob", nil), "subject_token_type", oauth.TokenTypeIDToken))
		if want := "ext:" + unmapped.ti.ID + ":bob"; claims["sub"] != want {
			t.Errorf("sub = %v, want %s", claims["sub"], want)
		}
	})
	t.Run("an external actor is named with its issuer", func(t *testing.T) {
		subject, _ := e.wardToken(t, clients.FormatJWT, "read")
		y := e.exchanger(t, store.ExchangePolicy{Issuers: []string{store.ExchangeSelf,
			unmapped.idp.URL}, Delegation: true})
		claims := e.exchanged(t, e.exchange(t, y, "subject_token", subject,
			"subject_token_type", oauth.TokenTypeAccessToken,
			"actor_token", unmapped.token(t, e, "robot-7", nil),
			"actor_token_type", oauth.TokenTypeJWT))
		want := map[string]any{"sub": "robot-7", "iss": unmapped.idp.URL}
		if diff := cmp.Diff(want, claims["act"]); diff != "" {
			t.Errorf("act (-want +got):\n%s", diff)
		}
	})
	t.Run("a subject that is no user of the tenant is refused", func(t *testing.T) {
		refused(t, e.exchange(t, x, "subject_token", mapped.token(t, e, "mallory", nil),
			"subject_token_type", oauth.TokenTypeJWT), "invalid_request")
	})
	t.Run("an issuer the client's policy does not name is refused", func(t *testing.T) {
		y := e.exchanger(t, store.ExchangePolicy{Issuers: []string{store.ExchangeSelf},
			Impersonation: true})
		refused(t, e.exchange(t, y, "subject_token", mapped.token(t, e, "alice", nil),
			"subject_token_type", oauth.TokenTypeJWT), "invalid_request")
	})
}

func TestExchangeForSession(t *testing.T) {
	e := exchangeEnv(t)
	mapped := e.trust(t, store.IssuerMapUsername, true)
	x := e.exchanger(t, store.ExchangePolicy{Issuers: []string{mapped.idp.URL},
		Sessions: true})

	a := e.exchange(t, x, "subject_token", mapped.token(t, e, "alice", nil),
		"subject_token_type", oauth.TokenTypeJWT,
		"requested_token_type", oauth.TokenTypeSession)
	if a.status != http.StatusOK || a.body["issued_token_type"] != oauth.TokenTypeSession {
		t.Fatalf("exchange: %d %s", a.status, a.raw)
	}
	tok, _ := a.body["access_token"].(string)
	if !strings.HasPrefix(tok, sessions.TokenPrefix) {
		t.Fatalf("access_token %q is no session token", tok)
	}
	v, err := invoke.Call[sessions.ValidateOutput](context.Background(), e.inv,
		sessions.FunctionName, sessions.OpValidate, sysService, sessions.ValidateInput{
			Token: sessions.Token(tok), Tenant: e.a.ID})
	if err != nil {
		t.Fatal(err)
	}
	if !v.Active || v.Subject != mapped.user.ID || v.ACR != "0" ||
		!cmp.Equal(v.AMR, []string{"ext"}) {
		t.Errorf("session = %+v, want alice's at acr 0, amr [ext]", v)
	}

	t.Run("refused without the client's permission", func(t *testing.T) {
		y := e.exchanger(t, store.ExchangePolicy{Issuers: []string{mapped.idp.URL},
			Impersonation: true})
		refused(t, e.exchange(t, y, "subject_token", mapped.token(t, e, "alice", nil),
			"subject_token_type", oauth.TokenTypeJWT,
			"requested_token_type", oauth.TokenTypeSession), "unauthorized_client")
	})
	t.Run("refused from an issuer that allows no sessions", func(t *testing.T) {
		other := e.trust(t, store.IssuerMapUsername, false)
		y := e.exchanger(t, store.ExchangePolicy{Issuers: []string{other.idp.URL},
			Sessions: true})
		refused(t, e.exchange(t, y, "subject_token", other.token(t, e, "alice", nil),
			"subject_token_type", oauth.TokenTypeJWT,
			"requested_token_type", oauth.TokenTypeSession), "unauthorized_client")
	})
	t.Run("a session takes no scope or audience", func(t *testing.T) {
		refused(t, e.exchange(t, x, "subject_token", mapped.token(t, e, "alice", nil),
			"subject_token_type", oauth.TokenTypeJWT, "scope", "read",
			"requested_token_type", oauth.TokenTypeSession), "invalid_request")
	})
	t.Run("refused for a disabled user", func(t *testing.T) {
		_, err := e.st.Users().Update(context.Background(), e.a.ID, mapped.user.ID,
			func(u store.User) (store.User, error) {
				u.Status = store.UserDisabled
				return u, nil
			})
		if err != nil {
			t.Fatal(err)
		}
		refused(t, e.exchange(t, x, "subject_token", mapped.token(t, e, "alice", nil),
			"subject_token_type", oauth.TokenTypeJWT,
			"requested_token_type", oauth.TokenTypeSession), "invalid_request")
	})
}

// forge makes a compact JWS of header and claims, signed with HMAC-SHA256
// under secret when given, unsigned otherwise.
func forge(header, claims map[string]any, secret []byte) string {
	h, _ := json.Marshal(header)
	c, _ := json.Marshal(claims)
	in := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c)
	if secret == nil {
		return in + "."
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(in))
	return in + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func TestExchangeRefusesBadRequests(t *testing.T) {
	e := exchangeEnv(t)
	ext := e.trust(t, store.IssuerMapUsername, true)
	pol := store.ExchangePolicy{Issuers: []string{store.ExchangeSelf, ext.idp.URL},
		Impersonation: true, Delegation: true}
	x := e.exchanger(t, pol)
	subject, _ := e.wardToken(t, clients.FormatJWT, "read")
	at := oauth.TokenTypeAccessToken
	now := e.clk.Now().Unix()

	revoked, owner := e.wardToken(t, clients.FormatJWT, "read")
	if a := e.revoke(t, "acme", owner, revoked); a.status != http.StatusOK {
		t.Fatalf("revoke: %d %s", a.status, a.raw)
	}
	expiring, _ := e.wardToken(t, clients.FormatJWT, "read")
	beta := e.client(t, e.b, clients.CreateInput{Scopes: []string{"read"}})
	betaToken := e.token(t, "beta", beta)["access_token"].(string)
	ext.idp.AddUnpublishedKey(t, "hidden", jwa.ES256())
	pub, _ := json.Marshal(ext.idp.PublicJWK(t, issuerstest.KidRS256))
	good := map[string]any{"iss": ext.idp.URL, "sub": "alice", "aud": "ward-acme",
		"exp": now + 600}

	cases := []struct {
		name string
		kv   []string
		code string
	}{
		{"no subject_token", []string{"subject_token_type", at}, "invalid_request"},
		{"no subject_token_type", []string{"subject_token", subject}, "invalid_request"},
		{"an unsupported subject_token_type", []string{"subject_token", subject,
			"subject_token_type", "urn:ietf:params:oauth:token-type:saml2"}, "invalid_request"},
		{"an unsupported requested_token_type", []string{"subject_token", subject,
			"subject_token_type", at, "requested_token_type",
			"urn:ietf:params:oauth:token-type:refresh_token"}, "invalid_request"},
		{"actor_token_type without actor_token", []string{"subject_token", subject,
			"subject_token_type", at, "actor_token_type", at}, "invalid_request"},
		{"actor_token without its type", []string{"subject_token", subject,
			"subject_token_type", at, "actor_token", subject}, "invalid_request"},
		{"subject_token given twice", []string{"subject_token", subject, "subject_token",
			subject, "subject_token_type", at}, "invalid_request"},
		{"an unknown opaque token", []string{"subject_token", oauth.OpaqueTokenPrefix + "x",
			"subject_token_type", at}, "invalid_request"},
		{"a revoked token", []string{"subject_token", revoked, "subject_token_type", at},
			"invalid_request"},
		{"another tenant's token", []string{"subject_token", betaToken,
			"subject_token_type", at}, "invalid_request"},
		{"a Ward token called an ID token", []string{"subject_token", subject,
			"subject_token_type", oauth.TokenTypeIDToken}, "invalid_request"},
		{"a tampered Ward token", []string{"subject_token", subject[:len(subject)-4] + "AAAA",
			"subject_token_type", at}, "invalid_request"},
		{"an unsigned Ward token", []string{"subject_token", forge(
			map[string]any{"alg": "none", "typ": "at+jwt"}, map[string]any{
				"iss": e.srv.URL + "/t/acme", "sub": "x", "aud": "y", "exp": now + 60,
				"jti": "j", "client_id": "c"}, nil), "subject_token_type", at},
			"invalid_request"},
		{"an external token for another audience", []string{"subject_token",
			ext.token(t, e, "alice", map[string]any{"aud": "someone-else"}),
			"subject_token_type", oauth.TokenTypeJWT}, "invalid_request"},
		{"an expired external token", []string{"subject_token",
			ext.token(t, e, "alice", map[string]any{"exp": now - 120}),
			"subject_token_type", oauth.TokenTypeJWT}, "invalid_request"},
		{"an external token not yet valid", []string{"subject_token",
			ext.token(t, e, "alice", map[string]any{"nbf": now + 600}),
			"subject_token_type", oauth.TokenTypeJWT}, "invalid_request"},
		{"an external token by an unknown kid", []string{"subject_token",
			ext.idp.Sign(t, "hidden", good), "subject_token_type", oauth.TokenTypeJWT},
			"invalid_request"},
		{"an unsigned external token", []string{"subject_token",
			forge(map[string]any{"alg": "none"}, good, nil),
			"subject_token_type", oauth.TokenTypeJWT}, "invalid_request"},
		{"an external token signed HS256 with the RSA public key", []string{"subject_token",
			forge(map[string]any{"alg": "HS256", "kid": issuerstest.KidRS256}, good, pub),
			"subject_token_type", oauth.TokenTypeJWT}, "invalid_request"},
		{"a token of an issuer nobody trusts", []string{"subject_token",
			forge(map[string]any{"alg": "ES256"}, map[string]any{"iss": "https://evil.example",
				"sub": "alice", "aud": "ward-acme", "exp": now + 60}, []byte("k")),
			"subject_token_type", oauth.TokenTypeJWT}, "invalid_request"},
		{"a scope the client does not have", []string{"subject_token", subject,
			"subject_token_type", at, "scope", "delete"}, "invalid_scope"},
		{"an audience the client may not have", []string{"subject_token", subject,
			"subject_token_type", at, "audience", "https://elsewhere.example/"},
			"invalid_target"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			refused(t, e.exchange(t, x, tc.kv...), tc.code)
		})
	}

	t.Run("an expired Ward token", func(t *testing.T) {
		e.clk.Add(301 * time.Second)
		refused(t, e.exchange(t, x, "subject_token", expiring, "subject_token_type", at),
			"invalid_request")
	})
	t.Run("a client without the grant is unauthorized_client", func(t *testing.T) {
		c := e.client(t, e.a, clients.CreateInput{Scopes: []string{"read"}})
		fresh, _ := e.wardToken(t, clients.FormatJWT, "read")
		refused(t, e.exchange(t, c, "subject_token", fresh, "subject_token_type", at),
			"unauthorized_client")
	})
	t.Run("a client with the grant but no policy is unauthorized_client", func(t *testing.T) {
		c := e.client(t, e.a, clients.CreateInput{GrantTypes: []string{grantExchange},
			Scopes: []string{"read"}})
		fresh, _ := e.wardToken(t, clients.FormatJWT, "read")
		refused(t, e.exchange(t, c, "subject_token", fresh, "subject_token_type", at),
			"unauthorized_client")
	})
}

func TestExchangeKeepsTheUsersSignIn(t *testing.T) {
	e := exchangeEnv(t)
	c := e.codeClient(t, e.a, clients.CreateInput{})
	u := e.user(t, e.a)
	cookie := e.session(t, u, store.ACRMultiFactor, e.clk.Now())
	verifier, challenge := pkce()
	code := e.codeOf(t, e.authorize(t, "acme", authQuery(c, challenge, "scope", "read"), cookie))
	a := e.redeem(t, c, false, "code", code, "code_verifier", verifier)
	if a.status != http.StatusOK {
		t.Fatalf("token: %d %s", a.status, a.raw)
	}
	_, before := e.verifyJWT(t, "acme", a.body["access_token"].(string))

	x := e.exchanger(t, store.ExchangePolicy{Issuers: []string{store.ExchangeSelf},
		Audiences: []string{"billing"}, Impersonation: true})
	after := e.exchanged(t, e.exchange(t, x, "subject_token", a.body["access_token"].(string),
		"subject_token_type", oauth.TokenTypeAccessToken, "audience", "billing"))
	for _, k := range []string{"sub", "acr", "amr", "auth_time", "sid"} {
		if before[k] == nil || !cmp.Equal(before[k], after[k]) {
			t.Errorf("claim %s = %v after the exchange, %v before", k, after[k], before[k])
		}
	}
	if after["scope"] != "read" || after["aud"] != "billing" || after["client_id"] != x.id {
		t.Errorf("exchanged token: %v", after)
	}
}
