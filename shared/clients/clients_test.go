package clients

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/store/bolt"
	"github.com/wardhq/ward/shared/validate"
)

var (
	svc     = function.Caller{Subject: "oauth", Roles: []string{function.RoleService}}
	sysRoot = function.Caller{Subject: "root", Roles: []string{function.RoleSystemAdmin}}
)

type env struct {
	t    testing.TB
	st   store.Store
	inv  *invoke.Local
	a, b store.Tenant
	// adminA and adminB administer tenants a and b; userA is a plain user
	// of a.
	adminA, adminB, userA function.Caller
}

func newEnv(t testing.TB) *env {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "ward.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &env{t: t, st: st}
	e.inv = invoke.NewLocal(Function(Deps{Store: st,
		Log: slog.New(slog.NewJSONHandler(io.Discard, nil))}))
	e.a, e.b = e.tenant("acme"), e.tenant("beta")
	e.adminA = function.Caller{Subject: "ada", Tenant: e.a.ID,
		Roles: []string{function.RoleTenantAdmin}}
	e.adminB = function.Caller{Subject: "bob", Tenant: e.b.ID,
		Roles: []string{function.RoleTenantAdmin}}
	e.userA = function.Caller{Subject: "uma", Tenant: e.a.ID, Roles: []string{function.RoleUser}}
	return e
}

func (e *env) tenant(name string) store.Tenant {
	e.t.Helper()
	now := time.Now()
	tn, err := e.st.Tenants().Create(context.Background(), store.Tenant{ID: validate.NewID(),
		Name: name, DisplayName: name, CreatedAt: now, UpdatedAt: now})
	if err != nil {
		e.t.Fatal(err)
	}
	return tn
}

func call[Out any](e *env, op string, c function.Caller, in any) (Out, error) {
	return invoke.Call[Out](context.Background(), e.inv, FunctionName, op, c, in)
}

// webApp is a confidential client of tenant a using client_secret_basic.
func (e *env) webApp() CreateInput {
	return CreateInput{TenantID: e.a.ID, Name: "Web", Type: store.ClientConfidential,
		AuthMethod:   MethodSecretBasic,
		RedirectURIs: []string{"https://app.example.com/cb"},
		GrantTypes:   []string{GrantAuthorizationCode, GrantRefreshToken},
		Scopes:       []string{"openid", "profile"}}
}

func (e *env) create(c function.Caller, in CreateInput) SecretOutput {
	e.t.Helper()
	out, err := call[SecretOutput](e, OpCreate, c, in)
	if err != nil {
		e.t.Fatalf("create: %v", err)
	}
	return out
}

func (e *env) authenticate(tenantID, id, method string, secret Secret) (Client, error) {
	return call[Client](e, OpAuthenticate, svc, AuthenticateInput{TenantID: tenantID,
		ClientID: id, Method: method, Secret: secret})
}

func wantCode(t *testing.T, what string, err error, code errs.Code) {
	t.Helper()
	if errs.CodeOf(err) != code {
		t.Errorf("%s: got %v, want %s", what, err, code)
	}
}

func wantInvalidClient(t *testing.T, what string, err error) {
	t.Helper()
	var e *errs.Error
	if !errors.As(err, &e) || e.Code != errs.Unauthenticated || e.Message != "invalid_client" {
		t.Errorf("%s: got %v, want UNAUTHENTICATED invalid_client", what, err)
	}
}

func TestCreateFillsStrictDefaults(t *testing.T) {
	e := newEnv(t)
	out := e.create(e.adminA, CreateInput{TenantID: e.a.ID, Type: store.ClientPublic,
		AuthMethod: MethodNone, RedirectURIs: []string{"com.example.app:/cb"}})
	c := out.Client
	if out.Secret != "" || c.HasSecret {
		t.Errorf("a public client got a secret: %+v", out)
	}
	if !c.RequirePKCE || c.AccessTokenFormat != FormatJWT ||
		c.AccessTokenTTL != DefaultAccessTokenTTL || c.IDTokenTTL != DefaultIDTokenTTL ||
		c.RefreshTokenTTL != DefaultRefreshTokenTTL ||
		len(c.GrantTypes) != 1 || c.GrantTypes[0] != GrantAuthorizationCode || c.Version != 1 {
		t.Errorf("defaults: %+v", c)
	}
	if validate.ID("id", c.ID) != nil {
		t.Errorf("client ID %q is not a version-7 UUID", c.ID)
	}
}

func TestSecretIsShownOnceAndStoredHashed(t *testing.T) {
	e := newEnv(t)
	out := e.create(e.adminA, e.webApp())
	secret := string(out.Secret)
	if !strings.HasPrefix(secret, SecretPrefix) || len(secret) != len(SecretPrefix)+43 {
		t.Fatalf("secret %q is not wcs_ and 32 bytes in base64url", secret)
	}
	if !out.Client.HasSecret {
		t.Error("the created client says it has no secret")
	}
	again := e.create(e.adminA, e.webApp())
	if again.Secret == out.Secret {
		t.Error("two clients got the same secret")
	}

	stored, err := e.st.Clients().Get(context.Background(), e.a.ID, out.Client.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.SecretHash != HashSecret(out.Secret) || strings.Contains(stored.SecretHash, secret) {
		t.Errorf("stored hash %q is not the SHA-256 of the secret", stored.SecretHash)
	}

	// No read answers the secret or its hash.
	got, err := call[Client](e, OpGet, e.adminA, GetInput{TenantID: e.a.ID, ID: out.Client.ID})
	if err != nil {
		t.Fatal(err)
	}
	list, err := call[ListOutput](e, OpList, e.adminA, ListInput{TenantID: e.a.ID})
	if err != nil {
		t.Fatal(err)
	}
	trail, _, err := e.st.Audit().List(context.Background(), e.a.ID, store.AuditFilter{},
		store.Page{})
	if err != nil || len(trail) != 2 {
		t.Fatalf("audit trail = %+v, %v; want two create events", trail, err)
	}
	for what, v := range map[string]any{"get": got, "list": list, "audit": trail} {
		b, _ := json.Marshal(v)
		if strings.Contains(string(b), secret) || strings.Contains(string(b), stored.SecretHash) {
			t.Errorf("%s answers the secret or its hash: %s", what, b)
		}
	}
	if trail[0].Action != "oauthClient.create" || trail[0].TargetType != "oauthClient" {
		t.Errorf("audit event = %+v", trail[0])
	}
	if s := Secret("wcs_x"); s.String() != redacted || strings.Contains(
		slog.StringValue(s.LogValue().String()).String(), "wcs_") {
		t.Error("a secret prints itself")
	}

	if _, err := e.authenticate(e.a.ID, out.Client.ID, MethodSecretBasic, out.Secret); err != nil {
		t.Errorf("authenticate with the secret: %v", err)
	}
}

func TestRotateSecretReplacesTheOldOne(t *testing.T) {
	e := newEnv(t)
	out := e.create(e.adminA, e.webApp())
	rot, err := call[SecretOutput](e, OpRotateSecret, e.adminA,
		RotateSecretInput{TenantID: e.a.ID, ID: out.Client.ID})
	if err != nil {
		t.Fatal(err)
	}
	if rot.Secret == "" || rot.Secret == out.Secret || rot.Client.Version != 2 {
		t.Errorf("rotate = %+v", rot)
	}
	_, err = e.authenticate(e.a.ID, out.Client.ID, MethodSecretBasic, out.Secret)
	wantInvalidClient(t, "the old secret", err)
	if _, err := e.authenticate(e.a.ID, out.Client.ID, MethodSecretBasic, rot.Secret); err != nil {
		t.Errorf("the new secret: %v", err)
	}

	pub := e.create(e.adminA, CreateInput{TenantID: e.a.ID, Type: store.ClientPublic,
		AuthMethod: MethodNone, RedirectURIs: []string{"http://127.0.0.1:9000/cb"}})
	_, err = call[SecretOutput](e, OpRotateSecret, e.adminA,
		RotateSecretInput{TenantID: e.a.ID, ID: pub.Client.ID})
	wantCode(t, "rotate a public client's secret", err, errs.InvalidArgument)
}

func TestCreateRefusesBadClients(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		name  string
		spoil func(*CreateInput)
		field string
	}{
		{"no type", func(in *CreateInput) { in.Type = "" }, "type"},
		{"an unknown type", func(in *CreateInput) { in.Type = "trusted" }, "type"},
		{"an unknown method", func(in *CreateInput) { in.AuthMethod = "tls_client_auth" }, "authMethod"},
		{"a confidential client with none", func(in *CreateInput) {
			in.AuthMethod = MethodNone
		}, "authMethod"},
		{"a public client with client_secret_basic", func(in *CreateInput) {
			in.Type = store.ClientPublic
		}, "authMethod"},
		{"a public client with client_secret_post", func(in *CreateInput) {
			in.Type, in.AuthMethod = store.ClientPublic, MethodSecretPost
		}, "authMethod"},
		{"a public client with private_key_jwt", func(in *CreateInput) {
			in.Type, in.AuthMethod = store.ClientPublic, MethodPrivateKeyJWT
			in.JWKSURI = "https://app.example.com/jwks"
		}, "authMethod"},
		{"private_key_jwt without keys", func(in *CreateInput) {
			in.AuthMethod = MethodPrivateKeyJWT
		}, "jwksUri"},
		{"private_key_jwt with both key forms", func(in *CreateInput) {
			in.AuthMethod, in.JWKSURI, in.JWKS = MethodPrivateKeyJWT,
				"https://app.example.com/jwks", `{"keys":[]}`
		}, "jwks"},
		{"private_key_jwt with an http key URL", func(in *CreateInput) {
			in.AuthMethod, in.JWKSURI = MethodPrivateKeyJWT, "http://app.example.com/jwks"
		}, "jwksUri"},
		{"private_key_jwt with a key set that is no set", func(in *CreateInput) {
			in.AuthMethod, in.JWKS = MethodPrivateKeyJWT, `["k"]`
		}, "jwks"},
		{"keys on a secret client", func(in *CreateInput) {
			in.JWKSURI = "https://app.example.com/jwks"
		}, "jwks"},
		{"a public client with client_credentials", func(in *CreateInput) {
			in.Type, in.AuthMethod = store.ClientPublic, MethodNone
			in.GrantTypes = []string{GrantClientCredentials}
		}, "grantTypes"},
		{"a public client without PKCE", func(in *CreateInput) {
			in.Type, in.AuthMethod, in.RequirePKCE = store.ClientPublic, MethodNone, new(bool)
		}, "requirePkce"},
		{"an unknown grant", func(in *CreateInput) { in.GrantTypes = []string{"password"} }, "grantTypes"},
		{"the implicit grant", func(in *CreateInput) { in.GrantTypes = []string{"implicit"} }, "grantTypes"},
		{"authorization_code without a redirect URI", func(in *CreateInput) {
			in.RedirectURIs = nil
		}, "redirectUris"},
		{"a redirect URI with a fragment", func(in *CreateInput) {
			in.RedirectURIs = []string{"https://app.example.com/cb#x"}
		}, "redirectUris"},
		{"a wildcard redirect URI", func(in *CreateInput) {
			in.RedirectURIs = []string{"https://*.example.com/cb"}
		}, "redirectUris"},
		{"a bad post-logout URI", func(in *CreateInput) {
			in.PostLogoutRedirectURIs = []string{"http://app.example.com/bye"}
		}, "postLogoutRedirectUris"},
		{"a scope with a space", func(in *CreateInput) { in.Scopes = []string{"a b"} }, "scopes"},
		{"a scope with a quote", func(in *CreateInput) { in.Scopes = []string{`a"`} }, "scopes"},
		{"an unknown token format", func(in *CreateInput) { in.AccessTokenFormat = "paseto" }, "accessTokenFormat"},
		{"a long access token", func(in *CreateInput) { in.AccessTokenTTL = 3601 }, "accessTokenTtl"},
		{"a short access token", func(in *CreateInput) { in.AccessTokenTTL = 59 }, "accessTokenTtl"},
		{"a negative lifetime", func(in *CreateInput) { in.IDTokenTTL = -1 }, "idTokenTtl"},
		{"a refresh token over 30 days", func(in *CreateInput) {
			in.RefreshTokenTTL = 30*86400 + 1
		}, "refreshTokenTtl"},
		{"a name with a control character", func(in *CreateInput) { in.Name = "a\x07" }, "name"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := e.webApp()
			tc.spoil(&in)
			_, err := call[SecretOutput](e, OpCreate, e.adminA, in)
			var ce *errs.Error
			if !errors.As(err, &ce) || ce.Code != errs.InvalidArgument || ce.Field != tc.field {
				t.Errorf("got %v, want INVALID_ARGUMENT on %s", err, tc.field)
			}
		})
	}
	list, _, _ := e.st.Clients().List(context.Background(), e.a.ID, store.Page{})
	if len(list) != 0 {
		t.Errorf("refused creates wrote %d clients", len(list))
	}

	good := []struct {
		name string
		in   CreateInput
	}{
		{"a private_key_jwt client with a key URL", CreateInput{TenantID: e.a.ID,
			Type: store.ClientConfidential, AuthMethod: MethodPrivateKeyJWT,
			JWKSURI: "https://svc.example.com/jwks", GrantTypes: []string{GrantClientCredentials}}},
		{"a private_key_jwt client with an inline set", CreateInput{TenantID: e.a.ID,
			Type: store.ClientConfidential, AuthMethod: MethodPrivateKeyJWT, JWKS: `{"keys":[]}`,
			GrantTypes: []string{GrantTokenExchange}}},
		{"a device client", CreateInput{TenantID: e.a.ID, Type: store.ClientPublic,
			AuthMethod: MethodNone, GrantTypes: []string{GrantDeviceCode, GrantRefreshToken}}},
		{"a client_secret_post service", CreateInput{TenantID: e.a.ID,
			Type: store.ClientConfidential, AuthMethod: MethodSecretPost,
			GrantTypes: []string{GrantClientCredentials}, AccessTokenFormat: FormatOpaque}},
	}
	for _, tc := range good {
		out, err := call[SecretOutput](e, OpCreate, e.adminA, tc.in)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if (out.Secret != "") != usesSecret(tc.in.AuthMethod) {
			t.Errorf("%s: secret %q for method %s", tc.name, out.Secret, tc.in.AuthMethod)
		}
	}
}

func TestUpdate(t *testing.T) {
	e := newEnv(t)
	out := e.create(e.adminA, e.webApp())
	id := out.Client.ID
	uris := []string{"https://app.example.com/cb2", "http://localhost:3000/cb"}
	got, err := call[Client](e, OpUpdate, e.adminA, UpdateInput{TenantID: e.a.ID, ID: id,
		RedirectURIs: &uris})
	if err != nil || len(got.RedirectURIs) != 2 || got.RedirectURIs[1] != uris[1] ||
		got.Version != 2 || !got.HasSecret {
		t.Fatalf("update = %+v, %v", got, err)
	}
	if _, err := e.authenticate(e.a.ID, id, MethodSecretBasic, out.Secret); err != nil {
		t.Errorf("the secret stopped working after an update: %v", err)
	}

	bad := []string{"https://app.example.com/cb#x"}
	_, err = call[Client](e, OpUpdate, e.adminA, UpdateInput{TenantID: e.a.ID, ID: id,
		RedirectURIs: &bad})
	wantCode(t, "update to a bad redirect URI", err, errs.InvalidArgument)
	none := MethodNone
	_, err = call[Client](e, OpUpdate, e.adminA, UpdateInput{TenantID: e.a.ID, ID: id,
		AuthMethod: &none})
	wantCode(t, "update of a confidential client to none", err, errs.InvalidArgument)
	read, _ := call[Client](e, OpGet, e.adminA, GetInput{TenantID: e.a.ID, ID: id})
	if read.Version != 2 {
		t.Errorf("refused updates wrote: version %d", read.Version)
	}

	// Leaving the secret methods deletes the secret; coming back needs a
	// rotation before the client authenticates again.
	pkj, jwks := MethodPrivateKeyJWT, "https://app.example.com/jwks"
	got, err = call[Client](e, OpUpdate, e.adminA, UpdateInput{TenantID: e.a.ID, ID: id,
		AuthMethod: &pkj, JWKSURI: &jwks})
	if err != nil || got.HasSecret || got.JWKSURI != jwks {
		t.Fatalf("switch to private_key_jwt = %+v, %v", got, err)
	}
	basic := MethodSecretBasic
	got, err = call[Client](e, OpUpdate, e.adminA, UpdateInput{TenantID: e.a.ID, ID: id,
		AuthMethod: &basic})
	if err != nil || got.HasSecret || got.JWKSURI != "" {
		t.Fatalf("switch back to client_secret_basic = %+v, %v", got, err)
	}
	_, err = e.authenticate(e.a.ID, id, MethodSecretBasic, out.Secret)
	wantInvalidClient(t, "the secret of before the switch", err)
	_, err = e.authenticate(e.a.ID, id, MethodSecretBasic, "")
	wantInvalidClient(t, "no secret for a client without one", err)

	trail, _, _ := e.st.Audit().List(context.Background(), e.a.ID,
		store.AuditFilter{TargetID: id}, store.Page{})
	if len(trail) != 4 || trail[0].Action != "oauthClient.update" ||
		trail[0].Changes["authMethod"].New != MethodSecretBasic {
		t.Errorf("audit trail = %+v", trail)
	}
}

func TestListPages(t *testing.T) {
	e := newEnv(t)
	var ids []string
	for range 3 {
		ids = append(ids, e.create(e.adminA, e.webApp()).Client.ID)
	}
	e.create(e.adminB, CreateInput{TenantID: e.b.ID, Type: store.ClientConfidential,
		AuthMethod: MethodSecretPost, GrantTypes: []string{GrantClientCredentials}})
	page, err := call[ListOutput](e, OpList, e.adminA, ListInput{TenantID: e.a.ID, First: 2})
	if err != nil || len(page.Items) != 2 || page.Next == "" || page.Items[0].ID != ids[0] {
		t.Fatalf("first page = %+v, %v", page, err)
	}
	rest, err := call[ListOutput](e, OpList, e.adminA, ListInput{TenantID: e.a.ID,
		After: page.Next})
	if err != nil || len(rest.Items) != 1 || rest.Next != "" || rest.Items[0].ID != ids[2] {
		t.Errorf("second page = %+v, %v", rest, err)
	}
	_, err = call[ListOutput](e, OpList, e.adminB, ListInput{TenantID: e.b.ID, After: page.Next})
	wantCode(t, "a cursor of another tenant", err, errs.InvalidArgument)
}

func TestAnotherTenantGetsNotFoundAndUsersAreRefused(t *testing.T) {
	e := newEnv(t)
	out := e.create(e.adminA, e.webApp())
	id := out.Client.ID
	name := "stolen"
	ops := []struct {
		op string
		in any
	}{
		{OpGet, GetInput{TenantID: e.a.ID, ID: id}},
		{OpList, ListInput{TenantID: e.a.ID}},
		{OpUpdate, UpdateInput{TenantID: e.a.ID, ID: id, Name: &name}},
		{OpRotateSecret, RotateSecretInput{TenantID: e.a.ID, ID: id}},
		{OpDelete, DeleteInput{TenantID: e.a.ID, ID: id}},
		{OpCreate, e.webApp()},
	}
	for _, o := range ops {
		_, err := call[json.RawMessage](e, o.op, e.adminB, o.in)
		wantCode(t, o.op+" by another tenant's administrator", err, errs.NotFound)
		_, err = call[json.RawMessage](e, o.op, e.userA, o.in)
		wantCode(t, o.op+" by a plain user", err, errs.PermissionDenied)
		_, err = call[json.RawMessage](e, o.op, function.Caller{}, o.in)
		wantCode(t, o.op+" by nobody", err, errs.Unauthenticated)
		_, err = call[json.RawMessage](e, o.op, svc, o.in)
		if o.op == OpGet { // the authorization endpoint reads clients
			if err != nil {
				t.Errorf("%s by the service role: %v", o.op, err)
			}
			continue
		}
		if errs.CodeOf(err) != errs.NotFound && errs.CodeOf(err) != errs.PermissionDenied {
			t.Errorf("%s by the service role: %v, want a refusal", o.op, err)
		}
	}
	// The right tenant with another tenant's client is NOT_FOUND too.
	for _, op := range []string{OpGet, OpDelete} {
		_, err := call[json.RawMessage](e, op, e.adminB, GetInput{TenantID: e.b.ID, ID: id})
		wantCode(t, op+" of another tenant's client in one's own tenant", err, errs.NotFound)
	}
	got, err := call[Client](e, OpGet, e.adminA, GetInput{TenantID: e.a.ID, ID: id})
	if err != nil || got.Name != "Web" || got.Version != 1 {
		t.Errorf("the client changed after refused calls: %+v, %v", got, err)
	}
	if _, err := e.authenticate(e.a.ID, id, MethodSecretBasic, out.Secret); err != nil {
		t.Errorf("the secret changed after refused calls: %v", err)
	}
	if _, err := call[DeleteOutput](e, OpDelete, sysRoot, DeleteInput{TenantID: e.a.ID,
		ID: id}); err != nil {
		t.Errorf("a system administrator's delete: %v", err)
	}
	_, err = e.authenticate(e.a.ID, id, MethodSecretBasic, out.Secret)
	wantInvalidClient(t, "authenticate a deleted client", err)
}

func TestAuthenticateRefusesWithOneAnswer(t *testing.T) {
	e := newEnv(t)
	web := e.create(e.adminA, e.webApp())
	post := e.webApp()
	post.AuthMethod = MethodSecretPost
	postApp := e.create(e.adminA, post)
	pub := e.create(e.adminA, CreateInput{TenantID: e.a.ID, Type: store.ClientPublic,
		AuthMethod: MethodNone, RedirectURIs: []string{"com.example.app:/cb"}})
	other := e.create(e.adminB, CreateInput{TenantID: e.b.ID, Type: store.ClientConfidential,
		AuthMethod: MethodSecretBasic, GrantTypes: []string{GrantClientCredentials}})

	got, err := e.authenticate(e.a.ID, web.Client.ID, MethodSecretBasic, web.Secret)
	if err != nil || got.ID != web.Client.ID || got.TenantID != e.a.ID {
		t.Errorf("the right secret: %+v, %v", got, err)
	}
	if _, err := e.authenticate(e.a.ID, postApp.Client.ID, MethodSecretPost,
		postApp.Secret); err != nil {
		t.Errorf("client_secret_post: %v", err)
	}
	if got, err := e.authenticate(e.a.ID, pub.Client.ID, MethodNone, ""); err != nil ||
		got.ID != pub.Client.ID {
		t.Errorf("a public client with none: %+v, %v", got, err)
	}

	refused := []struct {
		name               string
		tenant, id, method string
		secret             Secret
	}{
		{"a wrong secret", e.a.ID, web.Client.ID, MethodSecretBasic, web.Secret + "x"},
		{"another client's secret", e.a.ID, web.Client.ID, MethodSecretBasic, postApp.Secret},
		{"the hash as the secret", e.a.ID, web.Client.ID, MethodSecretBasic,
			Secret(HashSecret(web.Secret))},
		{"no secret", e.a.ID, web.Client.ID, MethodSecretBasic, ""},
		{"an unknown client", e.a.ID, validate.NewID(), MethodSecretBasic, web.Secret},
		{"a malformed client ID", e.a.ID, "not-an-id", MethodSecretBasic, web.Secret},
		{"another tenant's client", e.a.ID, other.Client.ID, MethodSecretBasic, other.Secret},
		{"a client in another tenant's endpoint", e.b.ID, web.Client.ID, MethodSecretBasic,
			web.Secret},
		{"post for a basic client", e.a.ID, web.Client.ID, MethodSecretPost, web.Secret},
		{"basic for a post client", e.a.ID, postApp.Client.ID, MethodSecretBasic,
			postApp.Secret},
		{"none for a confidential client", e.a.ID, web.Client.ID, MethodNone, ""},
		{"a secret for a public client", e.a.ID, pub.Client.ID, MethodNone, "anything"},
		{"basic for a public client", e.a.ID, pub.Client.ID, MethodSecretBasic, "anything"},
		{"none for an unknown client", e.a.ID, validate.NewID(), MethodNone, ""},
		{"a huge secret", e.a.ID, web.Client.ID, MethodSecretBasic,
			Secret(strings.Repeat("a", 1<<16))},
	}
	for _, tc := range refused {
		_, err := e.authenticate(tc.tenant, tc.id, tc.method, tc.secret)
		wantInvalidClient(t, tc.name, err)
	}

	// Assertions are checked in rfc7523.go, tested through the token
	// endpoint (shared/oauth); without a cache for their jti, none is.
	_, err = e.authenticate(e.a.ID, web.Client.ID, MethodPrivateKeyJWT, "")
	wantCode(t, "private_key_jwt without a cache", err, errs.Unavailable)
	_, err = call[Client](e, OpAuthenticate, e.adminA, AuthenticateInput{TenantID: e.a.ID,
		ClientID: web.Client.ID, Method: MethodSecretBasic, Secret: web.Secret})
	wantCode(t, "authenticate by an administrator", err, errs.PermissionDenied)
}

// TestAuthenticateComparesEvenWithoutAClient checks the timing
// counter-measure: every refusal of a secret method hashes and compares
// the presented secret, whether or not the client exists.
func TestAuthenticateComparesEvenWithoutAClient(t *testing.T) {
	e := newEnv(t)
	web := e.create(e.adminA, e.webApp())
	compares := 0
	onCompare = func() { compares++ }
	t.Cleanup(func() { onCompare = nil })
	cases := []struct {
		name string
		id   string
		ok   bool
	}{
		{"the client", web.Client.ID, true},
		{"an unknown client", validate.NewID(), false},
		{"a malformed client ID", "x", false},
	}
	for _, tc := range cases {
		compares = 0
		_, err := e.authenticate(e.a.ID, tc.id, MethodSecretBasic, web.Secret)
		if (err == nil) != tc.ok {
			t.Errorf("%s: %v", tc.name, err)
		}
		if compares != 1 {
			t.Errorf("%s: %d secret comparisons, want 1", tc.name, compares)
		}
	}
	if secretMatches("", "") || secretMatches("", Secret(dummyHash)) {
		t.Error("a missing hash matched a secret")
	}
}

// BenchmarkAuthenticate measures client_secret_basic through the function
// (JSON in and out, the store read on bolt, the hash and the compare).
func BenchmarkAuthenticate(b *testing.B) {
	e := newEnv(b)
	web := e.create(e.adminA, e.webApp())
	ctx := context.Background()
	run := func(b *testing.B, id string, secret Secret, wantOK bool) {
		in := AuthenticateInput{TenantID: e.a.ID, ClientID: id, Method: MethodSecretBasic,
			Secret: secret}
		b.ReportAllocs()
		for b.Loop() {
			_, err := invoke.Call[Client](ctx, e.inv, FunctionName, OpAuthenticate, svc, in)
			if (err == nil) != wantOK {
				b.Fatal(err)
			}
		}
	}
	b.Run("known client", func(b *testing.B) { run(b, web.Client.ID, web.Secret, true) })
	b.Run("wrong secret", func(b *testing.B) { run(b, web.Client.ID, "wcs_wrong", false) })
	b.Run("unknown client", func(b *testing.B) { run(b, validate.NewID(), web.Secret, false) })
}

func TestRegistrationIsForServicesOnly(t *testing.T) {
	e := newEnv(t)
	reg := Registration{AuthMethod: MethodSecretBasic,
		RedirectURIs: []string{"https://app.example.com/cb"}}
	_, err := call[RegisteredOutput](e, OpRegister, e.adminA,
		RegisterInput{TenantID: e.a.ID, Registration: reg})
	wantCode(t, "register by an administrator", err, errs.PermissionDenied)
	_, err = call[RegisteredOutput](e, OpManageRegistration, e.adminA,
		ManageInput{TenantID: e.a.ID, ID: validate.NewID(), Token: "x",
			Action: RegistrationRead})
	wantCode(t, "manage by an administrator", err, errs.PermissionDenied)
}
