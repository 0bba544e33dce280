package oauth_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/google/go-cmp/cmp"

	"github.com/wardhq/ward/shared/cache/memory"
	"github.com/wardhq/ward/shared/clients"
	"github.com/wardhq/ward/shared/clocktest"
	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/oauth"
	"github.com/wardhq/ward/shared/oauth/keys"
	"github.com/wardhq/ward/shared/sessions"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/store/bolt"
	"github.com/wardhq/ward/shared/users"
	"github.com/wardhq/ward/shared/validate"
)

var (
	master  = bytes.Repeat([]byte{0x5a}, 32)
	quiet   = slog.New(slog.DiscardHandler)
	sysRoot = function.Caller{Subject: "root", Roles: []string{function.RoleSystemAdmin}}
)

type env struct {
	st    store.Store
	cache *memory.Cache
	clk   *clocktest.Clock
	deps  oauth.Deps
	inv   *invoke.Local
	srv   *httptest.Server
	a, b  store.Tenant
	// clientKeys serves clients' key sets over TLS (rfc7523_test.go).
	clientKeys *clientKeys
}

// newEnv hosts the oauth function as the local process does: its routes
// mounted on one mux under its patterns, behind a real HTTP server whose
// URL is the public base.
func newEnv(t testing.TB) *env {
	t.Helper()
	return newEnvWith(t, clients.Deps{})
}

// newEnvWith is newEnv with the clients function's options of cd (its
// store, cache, clock and logger are the environment's).
func newEnvWith(t testing.TB, cd clients.Deps) *env {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "ward.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &env{st: st, clk: clocktest.New(time.Now().UTC().Truncate(time.Second))}
	mux := http.NewServeMux()
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	c, err := memory.New(memory.Options{Now: e.clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	e.cache = c
	e.inv = invoke.NewLocal()
	e.deps = oauth.Deps{Store: st, Cache: c, Invoker: e.inv, Key: master, PublicURL: e.srv.URL,
		Overlap: time.Hour, Now: e.clk.Now, Log: quiet}
	f := oauth.Function(e.deps)
	function.Mount(mux, f)
	e.inv.Register(f)
	cd.Store, cd.Cache, cd.HTTPClient, cd.Now, cd.Log = st, c, e.serveClientKeys(t), e.clk.Now,
		quiet
	e.inv.Register(clients.Function(cd))
	e.inv.Register(sessions.Function(sessions.Deps{Store: st, Cache: c, Now: e.clk.Now,
		Log: quiet}))
	e.inv.Register(users.Function(users.Deps{Store: st, Now: e.clk.Now, Log: quiet}))
	for i, name := range []string{"acme", "beta"} {
		tn, err := st.Tenants().Create(context.Background(), store.Tenant{ID: validate.NewID(),
			Name: name, DisplayName: name, CreatedAt: e.clk.Now(), UpdatedAt: e.clk.Now()})
		if err != nil {
			t.Fatal(err)
		}
		*[]*store.Tenant{&e.a, &e.b}[i] = tn
	}
	return e
}

// signer is a second keys.Manager over the same store and master key, as
// the parts of the server that sign will hold.
func (e *env) signer(t *testing.T) *keys.Manager {
	t.Helper()
	m, err := keys.New(e.st.SigningKeys(), master, keys.Options{Overlap: time.Hour,
		Now: e.clk.Now, Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func (e *env) get(t *testing.T, path string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Get(e.srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func tenantAdmin(tenantID string) function.Caller {
	return function.Caller{Subject: "admin-1", Tenant: tenantID,
		Roles: []string{function.RoleUser, function.RoleTenantAdmin}}
}

func TestDiscoveryDescribesTheTenantsIssuer(t *testing.T) {
	e := newEnv(t)
	iss := e.srv.URL + "/t/acme"
	for _, path := range []string{
		"/t/acme/.well-known/openid-configuration",
		"/t/acme/.well-known/oauth-authorization-server",
		"/.well-known/oauth-authorization-server/t/acme",
		"/t/" + e.a.ID + "/.well-known/openid-configuration",
		"/t/ACME/.well-known/openid-configuration",
	} {
		resp, body := e.get(t, path)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s = %d %s", path, resp.StatusCode, body)
		}
		if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age") {
			t.Errorf("GET %s: Cache-Control %q", path, cc)
		}
		var md map[string]any
		if err := json.Unmarshal(body, &md); err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		want := map[string]any{
			"issuer":                                iss,
			"jwks_uri":                              iss + "/jwks.json",
			"authorization_endpoint":                iss + "/oauth2/authorize",
			"token_endpoint":                        iss + "/oauth2/token",
			"userinfo_endpoint":                     iss + "/oauth2/userinfo",
			"introspection_endpoint":                iss + "/oauth2/introspect",
			"revocation_endpoint":                   iss + "/oauth2/revoke",
			"end_session_endpoint":                  iss + "/oauth2/logout",
			"pushed_authorization_request_endpoint": iss + "/oauth2/par",
			"device_authorization_endpoint":         iss + "/oauth2/device_authorization",
			"response_types_supported":              []any{"code"},
			"code_challenge_methods_supported":      []any{"S256"},
			"subject_types_supported":               []any{"public"},
			"id_token_signing_alg_values_supported": []any{"ES256", "RS256"},
			"token_endpoint_auth_methods_supported": []any{"client_secret_basic",
				"client_secret_post", "private_key_jwt", "none"},
		}
		got := map[string]any{}
		for k := range want {
			got[k] = md[k]
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("GET %s (-want +got):\n%s", path, diff)
		}
		grants, _ := md["grant_types_supported"].([]any)
		for _, g := range []string{"authorization_code", "refresh_token", "client_credentials"} {
			if !slices.Contains(grants, any(g)) {
				t.Errorf("GET %s: grant_types_supported %v lacks %s", path, grants, g)
			}
		}
	}
}

func TestUnknownTenantsAre404(t *testing.T) {
	e := newEnv(t)
	for _, path := range []string{
		"/t/nobody/.well-known/openid-configuration",
		"/t/" + validate.NewID() + "/.well-known/openid-configuration",
		"/t/nobody/jwks.json",
		"/.well-known/oauth-authorization-server/t/nobody",
		"/t/a%20b/jwks.json",
	} {
		resp, body := e.get(t, path)
		var eb struct {
			Error struct {
				Code errs.Code `json:"code"`
			} `json:"error"`
		}
		if resp.StatusCode != http.StatusNotFound || json.Unmarshal(body, &eb) != nil ||
			eb.Error.Code != errs.NotFound {
			t.Errorf("GET %s = %d %s; want 404 with a NOT_FOUND JSON error", path,
				resp.StatusCode, body)
		}
	}
}

func TestTheKeySetPublishesPublicKeysOnly(t *testing.T) {
	e := newEnv(t)
	resp, body := e.get(t, "/t/acme/jwks.json")
	if resp.StatusCode != http.StatusOK || string(body) != `{"keys":[]}` {
		t.Fatalf("key set before any key = %d %s; want an empty set", resp.StatusCode, body)
	}
	if _, err := e.signer(t).Sign(context.Background(), e.a.ID, []byte(`{}`), ""); err != nil {
		t.Fatal(err)
	}
	e.clk.Add(time.Minute) // past the serving process's copy of the set
	resp, body = e.get(t, "/t/acme/jwks.json")
	if ct := resp.Header.Get("Content-Type"); ct != "application/jwk-set+json" {
		t.Errorf("Content-Type = %q", ct)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "public, max-age=300" {
		t.Errorf("Cache-Control = %q", cc)
	}
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil || len(set.Keys) != 1 {
		t.Fatalf("key set = %s, %v; want one key", body, err)
	}
	k := set.Keys[0]
	if k["kty"] != "EC" || k["alg"] != "ES256" || k["use"] != "sig" || k["d"] != nil {
		t.Errorf("published key = %v", k)
	}
	if _, body := e.get(t, "/t/beta/jwks.json"); string(body) != `{"keys":[]}` {
		t.Errorf("another tenant's key set = %s, want empty", body)
	}
}

func TestAdministratorsRotateAndListKeys(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	rotate := func(c function.Caller, tenantID, alg string) (oauth.KeysOutput, error) {
		return invoke.Call[oauth.KeysOutput](ctx, e.inv, oauth.FunctionName, oauth.OpRotateKeys,
			c, oauth.RotateKeysInput{TenantID: tenantID, Algorithm: alg})
	}
	list := func(c function.Caller, tenantID string) (oauth.KeysOutput, error) {
		return invoke.Call[oauth.KeysOutput](ctx, e.inv, oauth.FunctionName, oauth.OpListKeys,
			c, oauth.ListKeysInput{TenantID: tenantID})
	}

	out, err := list(tenantAdmin(e.a.ID), e.a.ID)
	if err != nil || len(out.Items) != 0 {
		t.Fatalf("list before any key = %+v, %v", out, err)
	}
	first, err := rotate(tenantAdmin(e.a.ID), e.a.ID, "")
	if err != nil || len(first.Items) != 1 || first.Items[0].Algorithm != "ES256" {
		t.Fatalf("first rotation = %+v, %v", first, err)
	}
	second, err := rotate(sysRoot, e.a.ID, "RS256")
	if err != nil || len(second.Items) != 2 {
		t.Fatalf("second rotation = %+v, %v", second, err)
	}
	old, cur := second.Items[0], second.Items[1]
	if old.KID != first.Items[0].KID || old.State != oauth.KeyRetiring || old.RetireAfter == nil ||
		!old.RetireAfter.Equal(e.clk.Now().Add(time.Hour)) {
		t.Errorf("old key after rotation = %+v", old)
	}
	if cur.State != oauth.KeyActive || cur.Algorithm != "RS256" || cur.RetireAfter != nil {
		t.Errorf("new key = %+v", cur)
	}

	raw, _ := json.Marshal(second)
	if bytes.Contains(raw, []byte("privateKey")) || bytes.Contains(raw, []byte(`\"d\"`)) {
		t.Errorf("the output carries private material: %s", raw)
	}

	e.clk.Add(time.Hour)
	listed, err := list(tenantAdmin(e.a.ID), e.a.ID)
	if err != nil || len(listed.Items) != 2 || listed.Items[0].State != oauth.KeyRetired {
		t.Errorf("list after the overlap = %+v, %v; want the old key RETIRED", listed, err)
	}

	events, _, err := e.st.Audit().List(ctx, e.a.ID, store.AuditFilter{}, store.Page{})
	if err != nil || len(events) != 2 {
		t.Fatalf("audit = %+v, %v; want two rotations", events, err)
	}
	ev := events[0]
	if ev.Action != "signingKey.rotate" || ev.TargetID != cur.KID || ev.Actor != "root" ||
		ev.Changes["activeKey"].Old != old.KID || ev.Changes["algorithm"].New != "RS256" {
		t.Errorf("audit event = %+v", ev)
	}

	for name, tc := range map[string]struct {
		c        function.Caller
		tenantID string
		want     errs.Code
	}{
		"anonymous":                 {function.Caller{}, e.a.ID, errs.Unauthenticated},
		"another tenant's admin":    {tenantAdmin(e.b.ID), e.a.ID, errs.NotFound},
		"a plain user":              {function.Caller{Subject: "u", Tenant: e.a.ID, Roles: []string{function.RoleUser}}, e.a.ID, errs.PermissionDenied},
		"a system admin, no tenant": {sysRoot, validate.NewID(), errs.NotFound},
	} {
		if _, err := rotate(tc.c, tc.tenantID, ""); errs.CodeOf(err) != tc.want {
			t.Errorf("rotate by %s = %v, want %s", name, err, tc.want)
		}
		if _, err := list(tc.c, tc.tenantID); errs.CodeOf(err) != tc.want {
			t.Errorf("list by %s = %v, want %s", name, err, tc.want)
		}
	}
	if _, err := rotate(sysRoot, e.a.ID, "HS256"); errs.CodeOf(err) != errs.InvalidArgument {
		t.Errorf("rotate to HS256 = %v, want INVALID_ARGUMENT", err)
	}
	after, _ := list(sysRoot, e.a.ID)
	if len(after.Items) != 2 {
		t.Errorf("refused rotations changed the keys: %+v", after.Items)
	}
}

// TestGoOIDCVerifiesWardsTokens has coreos/go-oidc, a relying party
// nobody here wrote, discover the tenant's issuer, fetch its key set and
// verify ID-token-shaped JWTs signed by oauth/keys, across a rotation.
func TestGoOIDCVerifiesWardsTokens(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	iss := e.srv.URL + "/t/acme"
	provider, err := oidc.NewProvider(ctx, iss)
	if err != nil {
		t.Fatal(err)
	}
	verifier := provider.Verifier(&oidc.Config{ClientID: "client-1",
		SupportedSigningAlgs: []string{"ES256", "RS256"}, Now: e.clk.Now})

	m := e.signer(t)
	idToken := func(aud string) string {
		now := e.clk.Now().Unix()
		claims := fmt.Sprintf(`{"iss":%q,"sub":"user-1","aud":%q,"exp":%d,"iat":%d,`+
			`"nonce":"n-1","acr":"2","amr":["pwd","otp","mfa"],"auth_time":%d}`,
			iss, aud, now+300, now, now)
		tok, err := m.Sign(ctx, e.a.ID, []byte(claims), "JWT")
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}

	old := idToken("client-1")
	got, err := verifier.Verify(ctx, old)
	if err != nil {
		t.Fatalf("go-oidc refused an ES256 token: %v", err)
	}
	if got.Subject != "user-1" || got.Nonce != "n-1" || got.Issuer != iss {
		t.Errorf("verified token = %+v", got)
	}
	if _, err := verifier.Verify(ctx, idToken("client-2")); err == nil {
		t.Error("go-oidc accepted a token for another client")
	}

	// Rotate to RS256: go-oidc meets an unknown kid, fetches the set
	// again, and verifies both the new token and, during the overlap, the
	// old one.
	if _, err := m.Rotate(ctx, e.a.ID, "RS256"); err != nil {
		t.Fatal(err)
	}
	e.clk.Add(30 * time.Second) // past the serving process's copy of the set
	fresh := idToken("client-1")
	if _, err := verifier.Verify(ctx, fresh); err != nil {
		t.Errorf("go-oidc refused an RS256 token after rotation: %v", err)
	}
	if _, err := verifier.Verify(ctx, old); err != nil {
		t.Errorf("go-oidc refused the old key's token during the overlap: %v", err)
	}

	// A key set fetched after the overlap lacks the old key.
	e.clk.Add(time.Hour)
	again, err := oidc.NewProvider(ctx, iss)
	if err != nil {
		t.Fatal(err)
	}
	late := again.Verifier(&oidc.Config{ClientID: "client-1", SkipExpiryCheck: true,
		SupportedSigningAlgs: []string{"ES256", "RS256"}, Now: e.clk.Now})
	if _, err := late.Verify(ctx, old); err == nil {
		t.Error("go-oidc accepted the old key's token after the overlap")
	}
	if _, err := late.Verify(ctx, fresh); err != nil {
		t.Errorf("go-oidc refused the current key's token after the overlap: %v", err)
	}
}
