package oauth_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/wardhq/ward/shared/clients"
	"github.com/wardhq/ward/shared/store"
)

// TestOAuth2ClientCredentialsInterop has golang.org/x/oauth2, a client
// nobody here wrote, get access tokens from a real HTTP server hosting the
// function, with each of its ways of authenticating; go-oidc verifies the
// JWT against the served key set; the token is then introspected and
// revoked.
func TestOAuth2ClientCredentialsInterop(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	iss := e.srv.URL + "/t/acme"
	rs := e.client(t, e.a, clients.CreateInput{})

	for _, tc := range []struct {
		name   string
		method string
		style  oauth2.AuthStyle
		format string
	}{
		{"JWT with client_secret_basic", clients.MethodSecretBasic, oauth2.AuthStyleInHeader,
			clients.FormatJWT},
		{"opaque with client_secret_post", clients.MethodSecretPost, oauth2.AuthStyleInParams,
			clients.FormatOpaque},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := e.client(t, e.a, clients.CreateInput{AuthMethod: tc.method,
				Scopes: []string{"read", "write"}, AccessTokenFormat: tc.format})
			cfg := clientcredentials.Config{ClientID: c.id, ClientSecret: c.secret,
				TokenURL: iss + "/oauth2/token", Scopes: []string{"read"},
				EndpointParams: url.Values{"resource": {"https://api.example.com"}},
				AuthStyle:      tc.style}
			tok, err := cfg.Token(ctx)
			if err != nil {
				t.Fatalf("x/oauth2 got no token: %v", err)
			}
			if tok.TokenType != "Bearer" || tok.Expiry.IsZero() || tok.Extra("scope") != "read" {
				t.Errorf("token = %+v, scope %v", tok, tok.Extra("scope"))
			}

			if tc.format == clients.FormatJWT {
				ks := oidc.NewRemoteKeySet(ctx, iss+"/jwks.json")
				payload, err := ks.VerifySignature(ctx, tok.AccessToken)
				if err != nil {
					t.Fatalf("go-oidc refused the access token's signature: %v", err)
				}
				var claims struct {
					Aud      string `json:"aud"`
					ClientID string `json:"client_id"`
				}
				if err := json.Unmarshal(payload, &claims); err != nil ||
					claims.Aud != "https://api.example.com" || claims.ClientID != c.id {
					t.Errorf("claims = %s", payload)
				}
			}

			got := e.introspect(t, "acme", rs, tok.AccessToken)
			if got["active"] != true || got["client_id"] != c.id ||
				got["aud"] != "https://api.example.com" {
				t.Errorf("introspection = %v", got)
			}

			// The token works as x/oauth2 sends it, and revocation ends it.
			rq := request{path: "/t/acme/oauth2/revoke", form: url.Values{"token": {tok.AccessToken}}}
			if tc.style == oauth2.AuthStyleInHeader {
				rq.basic = &c
			} else {
				rq.form.Set("client_id", c.id)
				rq.form.Set("client_secret", c.secret)
			}
			if a := e.do(t, rq); a.status != http.StatusOK {
				t.Fatalf("revoke: %d %s", a.status, a.raw)
			}
			if got := e.introspect(t, "acme", rs, tok.AccessToken); got["active"] != false {
				t.Errorf("a revoked token introspects as %v", got)
			}
		})
	}

	t.Run("a client of one tenant is refused at another's token endpoint", func(t *testing.T) {
		c := e.client(t, e.a, clients.CreateInput{})
		cfg := clientcredentials.Config{ClientID: c.id, ClientSecret: c.secret,
			TokenURL: e.srv.URL + "/t/beta/oauth2/token", AuthStyle: oauth2.AuthStyleInHeader}
		_, err := cfg.Token(ctx)
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) || re.ErrorCode != "invalid_client" ||
			re.Response.StatusCode != http.StatusUnauthorized {
			t.Fatalf("err = %v, want invalid_client (401)", err)
		}
	})
}

// TestAuthorizationCodeFlowInterop runs the code flow with PKCE as
// golang.org/x/oauth2 drives it, from the authorization URL it builds to
// the exchange, and has go-oidc discover the issuer, verify the ID token
// (signature, issuer, audience, expiry, nonce, at_hash) and read UserInfo.
func TestAuthorizationCodeFlowInterop(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	iss := e.srv.URL + "/t/acme"
	u := e.user(t, e.a)
	cookie := e.session(t, u, "1", e.clk.Now())
	provider, err := oidc.NewProvider(ctx, iss)
	if err != nil {
		t.Fatalf("go-oidc refused the discovery document: %v", err)
	}

	for _, tc := range []struct {
		name   string
		in     clients.CreateInput
		style  oauth2.AuthStyle
		format string
	}{
		{"confidential client, client_secret_basic, JWT", clients.CreateInput{},
			oauth2.AuthStyleInHeader, clients.FormatJWT},
		{"public client, none, opaque", clients.CreateInput{Type: store.ClientPublic,
			AccessTokenFormat: clients.FormatOpaque}, oauth2.AuthStyleInParams, clients.FormatOpaque},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := e.codeClient(t, e.a, tc.in)
			cfg := oauth2.Config{ClientID: c.id, ClientSecret: c.secret,
				Endpoint: oauth2.Endpoint{AuthURL: provider.Endpoint().AuthURL,
					TokenURL: provider.Endpoint().TokenURL, AuthStyle: tc.style},
				RedirectURL: appCallback, Scopes: []string{oidc.ScopeOpenID, "profile", "email"}}
			verifier, state, nonce := oauth2.GenerateVerifier(), "s-"+c.id, "n-"+c.id
			authURL := cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier),
				oidc.Nonce(nonce))

			a := e.browse(t, authURL, cookie)
			if a.location == nil || a.location.Query().Get("state") != state ||
				a.location.Query().Get("iss") != iss {
				t.Fatalf("authorization response: %d %v %s", a.status, a.location, a.body)
			}
			tok, err := cfg.Exchange(ctx, a.location.Query().Get("code"),
				oauth2.VerifierOption(verifier))
			if err != nil {
				t.Fatalf("x/oauth2 could not exchange the code: %v", err)
			}

			raw, _ := tok.Extra("id_token").(string)
			idt, err := provider.Verifier(&oidc.Config{ClientID: c.id}).Verify(ctx, raw)
			if err != nil {
				t.Fatalf("go-oidc refused the ID token: %v", err)
			}
			if idt.Nonce != nonce || idt.Subject != u.ID {
				t.Errorf("ID token nonce %q subject %q", idt.Nonce, idt.Subject)
			}
			if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
				t.Errorf("at_hash: %v", err)
			}
			if _, err := provider.Verifier(&oidc.Config{ClientID: "someone-else"}).Verify(ctx,
				raw); err == nil {
				t.Error("the ID token verified for another audience")
			}

			info, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
			if err != nil {
				t.Fatalf("go-oidc could not read UserInfo: %v", err)
			}
			if info.Subject != u.ID || info.Email != "ada@example.com" || !info.EmailVerified {
				t.Errorf("UserInfo = %+v", info)
			}

			// The same code again: refused, and the first token revoked.
			_, err = cfg.Exchange(ctx, a.location.Query().Get("code"),
				oauth2.VerifierOption(verifier))
			var re *oauth2.RetrieveError
			if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
				t.Fatalf("replay: %v, want invalid_grant", err)
			}
			if _, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err == nil {
				t.Error("the token of a replayed code still reads UserInfo")
			}
		})
	}
}
