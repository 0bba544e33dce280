package oauth_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wardhq/ward/shared/clients"
	"github.com/wardhq/ward/shared/store"
)

// openRegistration lets anyone register clients with tenant tn.
func (e *env) openRegistration(t *testing.T, tn store.Tenant) {
	t.Helper()
	_, err := e.st.Tenants().Update(context.Background(), tn.ID, func(x store.Tenant) (
		store.Tenant, error) {
		x.Auth.ClientRegistration = store.ClientRegistrationOpen
		return x, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// json sends a JSON request with an optional Bearer token.
func (e *env) json(t *testing.T, method, path, token, body string) answer {
	t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
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

func (e *env) discovery(t *testing.T, tn string) map[string]any {
	t.Helper()
	_, b := e.get(t, "/t/"+tn+"/.well-known/openid-configuration")
	var md map[string]any
	if err := json.Unmarshal(b, &md); err != nil {
		t.Fatal(err)
	}
	return md
}

const webApp = `{"client_name": "Web app", "redirect_uris": ["https://app.example.com/cb"],
	"grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"],
	"scope": "openid profile", "logo_uri": "https://app.example.com/logo.png"}`

func TestDynamicRegistrationLifecycle(t *testing.T) {
	e := newEnv(t)
	e.openRegistration(t, e.a)
	iss := e.srv.URL + "/t/acme"
	if got := e.discovery(t, "acme")["registration_endpoint"]; got != iss+"/oauth2/register" {
		t.Errorf("acme's registration_endpoint = %v", got)
	}

	a := e.json(t, "POST", "/t/acme/oauth2/register", "", webApp)
	if a.status != http.StatusCreated {
		t.Fatalf("register: %d %s", a.status, a.raw)
	}
	id, _ := a.body["client_id"].(string)
	secret, _ := a.body["client_secret"].(string)
	token, _ := a.body["registration_access_token"].(string)
	if !strings.HasPrefix(secret, clients.SecretPrefix) ||
		!strings.HasPrefix(token, clients.RegistrationTokenPrefix) {
		t.Fatalf("secret %q, token %q: want Ward's prefixes", secret, token)
	}
	if a.body["registration_client_uri"] != iss+"/oauth2/register/"+id ||
		a.body["client_secret_expires_at"] != 0.0 || a.body["client_id_issued_at"] == nil ||
		a.body["token_endpoint_auth_method"] != "client_secret_basic" ||
		a.body["scope"] != "openid profile" || a.header.Get("Cache-Control") != "no-store" {
		t.Errorf("register answered %s", a.raw)
	}
	if _, ok := a.body["logo_uri"]; ok {
		t.Error("metadata Ward does not keep was echoed")
	}
	stored, err := e.st.Clients().Get(context.Background(), e.a.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	if stored.SecretHash != clients.HashSecret(clients.Secret(secret)) ||
		stored.RegistrationTokenHash != clients.HashSecret(clients.Secret(token)) {
		t.Error("the secret and the token are not stored as their hashes")
	}
	if strings.Contains(stored.SecretHash+stored.RegistrationTokenHash, token) {
		t.Error("the token itself is stored")
	}

	path := "/t/acme/oauth2/register/" + id
	if r := e.json(t, "GET", path, token, ""); r.status != 200 || r.body["client_id"] != id ||
		r.body["client_secret"] != nil || r.body["registration_access_token"] != nil {
		t.Errorf("read: %d %s", r.status, r.raw)
	}
	for name, tok := range map[string]string{"a wrong token": token + "x", "no token": "",
		"the client secret": secret} {
		r := e.json(t, "GET", path, tok, "")
		if r.status != 401 || r.body["error"] != "invalid_token" ||
			!strings.Contains(r.header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("read with %s: %d %s", name, r.status, r.raw)
		}
	}
	if r := e.json(t, "GET", "/t/beta/oauth2/register/"+id, token, ""); r.status != 404 {
		t.Errorf("read at beta (closed): %d %s", r.status, r.raw)
	}

	put := `{"client_id": "` + id + `", "client_name": "Renamed",
		"redirect_uris": ["https://app.example.com/cb2"], "scope": "openid"}`
	r := e.json(t, "PUT", path, token, put)
	if r.status != 200 || r.body["client_name"] != "Renamed" || r.body["scope"] != "openid" {
		t.Fatalf("replace: %d %s", r.status, r.raw)
	}
	if got, _ := e.st.Clients().Get(context.Background(), e.a.ID, id); len(got.GrantTypes) != 1 ||
		got.RedirectURIs[0] != "https://app.example.com/cb2" ||
		got.SecretHash != stored.SecretHash {
		t.Errorf("after replace: %+v", got)
	}
	if r := e.json(t, "PUT", path, token, strings.Replace(put, id, "other", 1)); r.status != 400 {
		t.Errorf("replace with another client_id: %d %s", r.status, r.raw)
	}
	if r := e.json(t, "PUT", path, token+"x", put); r.status != 401 {
		t.Errorf("replace with a wrong token: %d %s", r.status, r.raw)
	}

	if r := e.json(t, "DELETE", path, token+"x", ""); r.status != 401 {
		t.Errorf("delete with a wrong token: %d %s", r.status, r.raw)
	}
	if r := e.json(t, "DELETE", path, token, ""); r.status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.status, r.raw)
	}
	if r := e.json(t, "GET", path, token, ""); r.status != 401 {
		t.Errorf("read after delete: %d %s, want 401 (RFC 7592 section 2.1)", r.status, r.raw)
	}
}

func TestDynamicRegistrationIsOffByDefault(t *testing.T) {
	e := newEnv(t)
	if r := e.json(t, "POST", "/t/acme/oauth2/register", "", webApp); r.status != 404 {
		t.Errorf("register at a closed tenant: %d %s", r.status, r.raw)
	}
	if _, ok := e.discovery(t, "acme")["registration_endpoint"]; ok {
		t.Error("a closed tenant's discovery names a registration_endpoint")
	}
	// An administrator's client has no registration token to manage it by.
	e.openRegistration(t, e.a)
	c := e.client(t, e.a, clients.CreateInput{})
	if r := e.json(t, "GET", "/t/acme/oauth2/register/"+c.id, c.secret, ""); r.status != 401 {
		t.Errorf("managing an administrator's client: %d %s", r.status, r.raw)
	}
}

func TestDynamicRegistrationRefusesBadMetadata(t *testing.T) {
	e := newEnv(t)
	e.openRegistration(t, e.a)
	for _, tc := range []struct{ name, body, code string }{
		{"an http redirect URI", `{"redirect_uris": ["http://app.example.com/cb"]}`,
			"invalid_redirect_uri"},
		{"a wildcard redirect URI", `{"redirect_uris": ["https://*.example.com/cb"]}`,
			"invalid_redirect_uri"},
		{"a bad post-logout URI", `{"redirect_uris": ["https://a.example/cb"],
			"post_logout_redirect_uris": ["https://a.example/#x"]}`, "invalid_redirect_uri"},
		{"no redirect URI for the code grant", `{}`, "invalid_redirect_uri"},
		{"client_credentials", `{"grant_types": ["client_credentials"]}`,
			"invalid_client_metadata"},
		{"token exchange", `{"redirect_uris": ["https://a.example/cb"], "grant_types":
			["authorization_code", "urn:ietf:params:oauth:grant-type:token-exchange"]}`,
			"invalid_client_metadata"},
		{"an unknown auth method", `{"redirect_uris": ["https://a.example/cb"],
			"token_endpoint_auth_method": "client_secret_jwt"}`, "invalid_client_metadata"},
		{"private_key_jwt without keys", `{"redirect_uris": ["https://a.example/cb"],
			"token_endpoint_auth_method": "private_key_jwt"}`, "invalid_client_metadata"},
		{"the token response type", `{"redirect_uris": ["https://a.example/cb"],
			"response_types": ["token"]}`, "invalid_client_metadata"},
		{"a client_id of its own", `{"client_id": "mine", "redirect_uris":
			["https://a.example/cb"]}`, "invalid_client_metadata"},
		{"not JSON", `redirect_uris=x`, "invalid_client_metadata"},
		{"a scope with a quote", `{"redirect_uris": ["https://a.example/cb"],
			"scope": "a\"b"}`, "invalid_client_metadata"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.clk.Add(time.Hour) // a fresh window of the rate limits
			r := e.json(t, "POST", "/t/acme/oauth2/register", "", tc.body)
			if r.status != 400 || r.body["error"] != tc.code {
				t.Errorf("got %d %s, want 400 %s", r.status, r.raw, tc.code)
			}
		})
	}
	list, _, err := e.st.Clients().List(context.Background(), e.a.ID, store.Page{})
	if err != nil || len(list) != 0 {
		t.Errorf("refused registrations left %d clients (%v)", len(list), err)
	}
}

func TestARegisteredPrivateKeyJWTClientAuthenticates(t *testing.T) {
	e := newEnv(t)
	e.openRegistration(t, e.a)
	k := newClientKey(t, "k1", "ES256")
	body := `{"token_endpoint_auth_method": "private_key_jwt", "grant_types":
		["urn:ietf:params:oauth:grant-type:device_code"], "jwks": ` + string(jwks(t, k)) + `}`
	r := e.json(t, "POST", "/t/acme/oauth2/register", "", body)
	if r.status != http.StatusCreated || r.body["client_secret"] != nil ||
		r.body["jwks"] == nil {
		t.Fatalf("register: %d %s", r.status, r.raw)
	}
	id, _ := r.body["client_id"].(string)
	// Introspection takes any confidential client: the assertion is checked.
	a := e.assert(t, "introspect", signGoJWT(t, k, e.claims(id)), "token", "x")
	if a.status != http.StatusOK || a.body["active"] != false {
		t.Errorf("introspect: %d %s", a.status, a.raw)
	}
}
