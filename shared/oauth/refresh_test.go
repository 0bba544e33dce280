package oauth_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/wardhq/ward/shared/clients"
	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/oauth"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/validate"
)

// refreshClient registers a client holding the refresh_token grant, with
// scopes openid, profile and api.
func (e *env) refreshClient(t testing.TB, tn store.Tenant, public bool) registered {
	t.Helper()
	in := clients.CreateInput{GrantTypes: []string{clients.GrantRefreshToken},
		Scopes: []string{"openid", "profile", "api"}}
	if public {
		in.Type, in.AuthMethod = store.ClientPublic, clients.MethodNone
	}
	return e.client(t, tn, in)
}

// grant starts a family for user of client c in tn and returns its first
// refresh token.
func (e *env) grant(t testing.TB, tn store.Tenant, c registered, user, session string,
	aud ...string) string {
	t.Helper()
	cl, err := invoke.Call[clients.Client](context.Background(), e.inv, clients.FunctionName,
		clients.OpGet, sysRoot, clients.GetInput{TenantID: tn.ID, ID: c.id})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := oauth.NewRefreshFamily(context.Background(), e.deps, tn, oauth.TestGrant{
		Client: cl, UserID: user, SessionID: session, Scope: "openid profile api",
		Audience: aud, AuthTime: e.clk.Now()})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// refresh presents tok for c at tn's token endpoint: with Basic for a
// confidential client, by client_id alone for a public one.
func (e *env) refresh(t testing.TB, tn string, c registered, tok string, kv ...string) answer {
	t.Helper()
	rq := request{path: "/t/" + tn + "/oauth2/token",
		form: form(append([]string{"grant_type", "refresh_token", "refresh_token", tok},
			kv...)...)}
	if c.secret == "" {
		rq.form.Set("client_id", c.id)
	} else {
		rq.basic = &c
	}
	return e.do(t, rq)
}

func wantInvalidGrant(t *testing.T, what string, a answer) {
	t.Helper()
	if a.status != http.StatusBadRequest || a.body["error"] != "invalid_grant" {
		t.Errorf("%s: %d %s, want 400 invalid_grant", what, a.status, a.raw)
	}
	if _, ok := a.body["access_token"]; ok {
		t.Errorf("%s: an access token was issued", what)
	}
}

func TestRefreshRotatesTheToken(t *testing.T) {
	e := newEnv(t)
	c := e.refreshClient(t, e.a, false)
	rs := e.client(t, e.a, clients.CreateInput{})
	user := validate.NewID()
	first := e.grant(t, e.a, c, user, "")
	if !strings.HasPrefix(first, oauth.RefreshTokenPrefix) || len(first) != 4+43 {
		t.Fatalf("refresh token %q, want wrt_ and 43 base64url characters", first)
	}

	a := e.refresh(t, "acme", c, first)
	if a.status != http.StatusOK {
		t.Fatalf("refresh: %d %s", a.status, a.raw)
	}
	if a.header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q", a.header.Get("Cache-Control"))
	}
	second, _ := a.body["refresh_token"].(string)
	if !strings.HasPrefix(second, oauth.RefreshTokenPrefix) || second == first {
		t.Fatalf("next refresh token %q, want a new wrt_ token", second)
	}
	if a.body["token_type"] != "Bearer" || a.body["scope"] != "openid profile api" ||
		a.body["expires_in"] != float64(300) {
		t.Errorf("answer %v", a.body)
	}
	_, claims := e.verifyJWT(t, "acme", a.body["access_token"].(string))
	if claims["sub"] != user || claims["client_id"] != c.id ||
		claims["aud"] != e.srv.URL+"/t/acme" {
		t.Errorf("access token claims %v", claims)
	}

	// The store keeps the hash only.
	sum := sha256.Sum256([]byte(second))
	rt, f, err := e.st.RefreshTokens().GetByHash(context.Background(),
		hex.EncodeToString(sum[:]))
	if err != nil || rt.Generation != 2 || f.UserID != user {
		t.Errorf("stored next token: %+v of %+v, %v", rt, f, err)
	}

	// The next token works; its introspection by its client is active.
	got := e.introspect(t, "acme", c, second)
	if got["active"] != true || got["token_type"] != "refresh_token" || got["sub"] != user ||
		got["client_id"] != c.id || got["scope"] != "openid profile api" {
		t.Errorf("introspection of the refresh token: %v", got)
	}
	if got := e.introspect(t, "acme", rs, second); got["active"] != false {
		t.Errorf("another client introspects the refresh token as %v", got)
	}
	if got := e.introspect(t, "acme", c, first); got["active"] != false {
		t.Errorf("the spent token introspects as %v", got)
	}
	if a := e.refresh(t, "acme", c, second); a.status != http.StatusOK {
		t.Errorf("second refresh: %d %s", a.status, a.raw)
	}
}

func TestRefreshByAPublicClient(t *testing.T) {
	e := newEnv(t)
	c := e.refreshClient(t, e.a, true)
	tok := e.grant(t, e.a, c, validate.NewID(), "")
	a := e.refresh(t, "acme", c, tok)
	if a.status != http.StatusOK || a.body["refresh_token"] == nil {
		t.Fatalf("public client's refresh: %d %s", a.status, a.raw)
	}
}

func TestReuseRevokesTheFamily(t *testing.T) {
	e := newEnv(t)
	c := e.refreshClient(t, e.a, false)
	user := validate.NewID()
	first := e.grant(t, e.a, c, user, "")
	other := e.grant(t, e.a, c, user, "")
	a := e.refresh(t, "acme", c, first)
	if a.status != http.StatusOK {
		t.Fatal(a.raw)
	}
	second := a.body["refresh_token"].(string)

	wantInvalidGrant(t, "the spent token again", e.refresh(t, "acme", c, first))
	wantInvalidGrant(t, "the newest token after a reuse", e.refresh(t, "acme", c, second))
	if got := e.introspect(t, "acme", c, second); got["active"] != false {
		t.Errorf("the newest token of a revoked family introspects as %v", got)
	}
	if a := e.refresh(t, "acme", c, other); a.status != http.StatusOK {
		t.Errorf("another family of the user: %d %s", a.status, a.raw)
	}
}

func TestConcurrentRefreshesOfOneTokenLetOneWin(t *testing.T) {
	e := newEnv(t)
	c := e.refreshClient(t, e.a, false)
	tok := e.grant(t, e.a, c, validate.NewID(), "")

	const n = 8
	answers := make([]answer, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			answers[i] = e.refresh(t, "acme", c, tok)
		})
	}
	close(start)
	wg.Wait()
	won := 0
	for _, a := range answers {
		switch {
		case a.status == http.StatusOK:
			won++
		default:
			wantInvalidGrant(t, "a losing refresh", a)
		}
	}
	if won != 1 {
		t.Fatalf("%d refreshes of one token succeeded, want exactly 1", won)
	}
}

func TestRefreshRefusals(t *testing.T) {
	e := newEnv(t)
	c := e.refreshClient(t, e.a, false)
	other := e.refreshClient(t, e.a, false)
	atB := e.refreshClient(t, e.b, false)
	noGrant := e.client(t, e.a, clients.CreateInput{})
	user := validate.NewID()

	t.Run("another client's token", func(t *testing.T) {
		tok := e.grant(t, e.a, c, user, "")
		wantInvalidGrant(t, "other client", e.refresh(t, "acme", other, tok))
		if a := e.refresh(t, "acme", c, tok); a.status != http.StatusOK {
			t.Errorf("the owner after another client's attempt: %d %s", a.status, a.raw)
		}
	})
	t.Run("another tenant's token", func(t *testing.T) {
		tok := e.grant(t, e.a, c, user, "")
		wantInvalidGrant(t, "at beta", e.refresh(t, "beta", atB, tok))
		if a := e.refresh(t, "acme", c, tok); a.status != http.StatusOK {
			t.Errorf("the owner after the attempt at beta: %d %s", a.status, a.raw)
		}
	})
	t.Run("unknown and malformed tokens", func(t *testing.T) {
		for _, tok := range []string{"wrt_unknown", "wat_x", "x"} {
			wantInvalidGrant(t, tok, e.refresh(t, "acme", c, tok))
		}
		a := e.refresh(t, "acme", c, "")
		if a.status != 400 || a.body["error"] != "invalid_request" {
			t.Errorf("no refresh_token: %d %s", a.status, a.raw)
		}
	})
	t.Run("a client without the grant", func(t *testing.T) {
		tok := e.grant(t, e.a, c, user, "")
		a := e.refresh(t, "acme", noGrant, tok)
		if a.status != 400 || a.body["error"] != "unauthorized_client" {
			t.Errorf("client without refresh_token: %d %s", a.status, a.raw)
		}
	})
	t.Run("a widened scope", func(t *testing.T) {
		tok := e.grant(t, e.a, c, user, "")
		a := e.refresh(t, "acme", c, tok, "scope", "openid admin")
		if a.status != 400 || a.body["error"] != "invalid_scope" {
			t.Errorf("widened scope: %d %s", a.status, a.raw)
		}
		a = e.refresh(t, "acme", c, tok, "scope", "api")
		if a.status != http.StatusOK || a.body["scope"] != "api" {
			t.Fatalf("narrowed scope: %d %s", a.status, a.raw)
		}
		// The family keeps its scope: the next refresh may have it all.
		a = e.refresh(t, "acme", c, a.body["refresh_token"].(string))
		if a.status != http.StatusOK || a.body["scope"] != "openid profile api" {
			t.Errorf("after a narrowed refresh: %d %s", a.status, a.raw)
		}
	})
	t.Run("a resource not granted", func(t *testing.T) {
		tok := e.grant(t, e.a, c, user, "", "https://api.example", "https://b.example")
		a := e.refresh(t, "acme", c, tok, "resource", "https://evil.example")
		if a.status != 400 || a.body["error"] != "invalid_target" {
			t.Errorf("resource not granted: %d %s", a.status, a.raw)
		}
		a = e.refresh(t, "acme", c, tok, "resource", "https://b.example")
		if a.status != http.StatusOK {
			t.Fatalf("a granted resource: %d %s", a.status, a.raw)
		}
		if _, claims := e.verifyJWT(t, "acme", a.body["access_token"].(string)); claims["aud"] !=
			"https://b.example" {
			t.Errorf("aud %v, want the one resource asked for", claims["aud"])
		}
	})
	t.Run("an expired token", func(t *testing.T) {
		tok := e.grant(t, e.a, c, user, "")
		e.clk.Add(24*time.Hour + time.Second) // the client's default lifetime is a day
		wantInvalidGrant(t, "expired", e.refresh(t, "acme", c, tok))
	})
	t.Run("a revoked family", func(t *testing.T) {
		tok := e.grant(t, e.a, c, user, "")
		if a := e.revoke(t, "acme", other, tok); a.status != 400 ||
			a.body["error"] != "unauthorized_client" {
			t.Errorf("revocation by another client: %d %s", a.status, a.raw)
		}
		if a := e.revoke(t, "beta", atB, tok); a.status != 200 {
			t.Errorf("revocation at beta: %d %s", a.status, a.raw)
		}
		a := e.refresh(t, "acme", c, tok)
		if a.status != http.StatusOK {
			t.Fatalf("refused revocations revoked the family: %d %s", a.status, a.raw)
		}
		next := a.body["refresh_token"].(string)
		// Revoking the spent first token revokes the family, next included.
		if a := e.do(t, request{path: "/t/acme/oauth2/revoke", basic: &c,
			form: form("token", tok, "token_type_hint", "refresh_token")}); a.status != 200 {
			t.Fatalf("revocation: %d %s", a.status, a.raw)
		}
		wantInvalidGrant(t, "after revocation", e.refresh(t, "acme", c, next))
		if got := e.introspect(t, "acme", c, next); got["active"] != false {
			t.Errorf("a token of a revoked family introspects as %v", got)
		}
	})
}

func TestASessionBoundFamilyEndsWithItsSession(t *testing.T) {
	e := newEnv(t)
	c := e.refreshClient(t, e.a, false)
	user := validate.NewID()
	now := e.clk.Now()
	sess, err := e.st.Sessions().Create(context.Background(), store.Session{
		ID: validate.NewID(), TenantID: e.a.ID, UserID: user,
		TokenHash: strings.Repeat("ab", 32), ACR: store.ACRPassword, AuthTime: now,
		CreatedAt: now, LastSeenAt: now, IdleTimeout: time.Hour, ExpiresAt: now.Add(8 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	tok := e.grant(t, e.a, c, user, sess.ID)
	a := e.refresh(t, "acme", c, tok)
	if a.status != http.StatusOK {
		t.Fatalf("refresh while the session lives: %d %s", a.status, a.raw)
	}
	if err := e.st.Sessions().Delete(context.Background(), e.a.ID, sess.ID); err != nil {
		t.Fatal(err)
	}
	next := a.body["refresh_token"].(string)
	if got := e.introspect(t, "acme", c, next); got["active"] != false {
		t.Errorf("after sign-out the refresh token introspects as %v", got)
	}
	wantInvalidGrant(t, "after sign-out", e.refresh(t, "acme", c, next))
}

func TestRevokeGrantsOperation(t *testing.T) {
	e := newEnv(t)
	c := e.refreshClient(t, e.a, false)
	other := e.refreshClient(t, e.a, false)
	ctx := context.Background()
	u, err := e.st.Users().Create(ctx, store.User{ID: validate.NewID(), TenantID: e.a.ID,
		Username: "alice", Status: store.UserActive, CreatedAt: e.clk.Now(),
		UpdatedAt: e.clk.Now()})
	if err != nil {
		t.Fatal(err)
	}
	web1, web2 := e.grant(t, e.a, c, u.ID, ""), e.grant(t, e.a, c, u.ID, "")
	app := e.grant(t, e.a, other, u.ID, "")

	call := func(caller function.Caller, in oauth.RevokeGrantsInput) (int, error) {
		out, err := invoke.Call[oauth.RevokeGrantsOutput](ctx, e.inv, oauth.FunctionName,
			oauth.OpRevokeGrants, caller, in)
		return out.Revoked, err
	}
	stranger := function.Caller{Subject: validate.NewID(), Tenant: e.a.ID,
		Roles: []string{function.RoleUser}}
	if _, err := call(stranger, oauth.RevokeGrantsInput{TenantID: e.a.ID,
		UserID: u.ID}); !errors.Is(err, errs.ErrPermissionDenied) {
		t.Errorf("another user: %v, want PERMISSION_DENIED", err)
	}
	if _, err := call(tenantAdmin(e.b.ID), oauth.RevokeGrantsInput{TenantID: e.a.ID,
		UserID: u.ID}); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("beta's administrator: %v, want NOT_FOUND", err)
	}

	self := function.Caller{Subject: u.ID, Tenant: e.a.ID, Roles: []string{function.RoleUser}}
	n, err := call(self, oauth.RevokeGrantsInput{TenantID: e.a.ID, UserID: u.ID, ClientID: c.id})
	if err != nil || n != 2 {
		t.Fatalf("alice revokes her grants to web: %d, %v; want 2", n, err)
	}
	wantInvalidGrant(t, "web1", e.refresh(t, "acme", c, web1))
	wantInvalidGrant(t, "web2", e.refresh(t, "acme", c, web2))
	a := e.refresh(t, "acme", other, app)
	if a.status != http.StatusOK {
		t.Fatalf("the grant to another client: %d %s", a.status, a.raw)
	}

	n, err = call(tenantAdmin(e.a.ID), oauth.RevokeGrantsInput{TenantID: e.a.ID, UserID: u.ID})
	if err != nil || n != 1 {
		t.Fatalf("the administrator revokes the rest: %d, %v; want 1", n, err)
	}
	wantInvalidGrant(t, "app", e.refresh(t, "acme", other, a.body["refresh_token"].(string)))
	trail, _, err := e.st.Audit().List(ctx, e.a.ID, store.AuditFilter{}, store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, ev := range trail {
		if ev.Action == "oauthGrant.revoke" && ev.TargetID == u.ID {
			found++
		}
	}
	if found != 2 {
		t.Errorf("%d oauthGrant.revoke events, want 2", found)
	}
}

// TestOAuth2RefreshInterop has golang.org/x/oauth2 refresh an expired
// token twice against a real HTTP server, keeping the rotated refresh
// token as it goes; the first refresh token, presented again, is
// invalid_grant as x/oauth2 reads it, and the family is gone.
func TestOAuth2RefreshInterop(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		public bool
		style  oauth2.AuthStyle
	}{
		{"a confidential client with client_secret_basic", false, oauth2.AuthStyleInHeader},
		{"a public client", true, oauth2.AuthStyleInParams},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := e.refreshClient(t, e.a, tc.public)
			first := e.grant(t, e.a, c, validate.NewID(), "")
			cfg := oauth2.Config{ClientID: c.id, ClientSecret: c.secret,
				Endpoint: oauth2.Endpoint{TokenURL: e.srv.URL + "/t/acme/oauth2/token",
					AuthStyle: tc.style}}
			expired := &oauth2.Token{RefreshToken: first, Expiry: time.Now().Add(-time.Minute)}
			tok, err := cfg.TokenSource(ctx, expired).Token()
			if err != nil {
				t.Fatalf("x/oauth2 could not refresh: %v", err)
			}
			if tok.AccessToken == "" || tok.RefreshToken == first || tok.Expiry.IsZero() {
				t.Fatalf("refreshed token %+v", tok)
			}
			tok.Expiry = time.Now().Add(-time.Minute)
			tok2, err := cfg.TokenSource(ctx, tok).Token()
			if err != nil || tok2.RefreshToken == tok.RefreshToken {
				t.Fatalf("second refresh: %+v, %v", tok2, err)
			}

			_, err = cfg.TokenSource(ctx, expired).Token()
			var re *oauth2.RetrieveError
			if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
				t.Fatalf("the spent token again: %v, want invalid_grant", err)
			}
			tok2.Expiry = time.Now().Add(-time.Minute)
			if _, err := cfg.TokenSource(ctx, tok2).Token(); !errors.As(err, &re) ||
				re.ErrorCode != "invalid_grant" {
				t.Errorf("the newest token after the reuse: %v, want invalid_grant", err)
			}
		})
	}
}
