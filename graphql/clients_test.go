package graphql

import (
	"slices"
	"strings"
	"testing"
)

// TestOAuthClientsWithWardFunctions manages OAuth clients through the
// facade over Ward's own functions: the secret comes back once, no query
// reads it again, lists page, and another tenant's administrator gets
// NOT_FOUND.
func TestOAuthClientsWithWardFunctions(t *testing.T) {
	r := newRealHarness(t, Options{TokenCacheTTL: -1})
	admin := r.admin

	d := r.must(t, admin, `mutation { a: createTenant(input: {name: "acme"}) { id } b: createTenant(input: {name: "globex"}) { id } }`, nil)
	acme, _ := get(d, "a", "id").(string)
	globex, _ := get(d, "b", "id").(string)
	token := func(tenant string) string {
		d := r.must(t, admin, `mutation($t: ID) { createApiToken(input: {tenantId: $t, name: "ops", roles: ["tenant_admin"]}) { token } }`,
			map[string]any{"t": tenant})
		s, _ := get(d, "createApiToken", "token").(string)
		return s
	}
	acmeToken, globexToken := token(acme), token(globex)

	create := `mutation($in: CreateOAuthClientInput!) { createOAuthClient(input: $in) { secret client { id type authMethod hasSecret redirectUris grantTypes accessTokenTtl requirePkce version } } }`
	d = r.must(t, acmeToken, create, map[string]any{"in": map[string]any{
		"tenantId": acme, "name": "Web", "type": "confidential",
		"authMethod": "client_secret_basic", "redirectUris": []string{"https://app.example.com/cb"},
		"grantTypes": []string{"authorization_code", "refresh_token"}, "accessTokenTtl": 120}})
	secret, _ := get(d, "createOAuthClient", "secret").(string)
	id, _ := get(d, "createOAuthClient", "client", "id").(string)
	if !strings.HasPrefix(secret, "wcs_") || id == "" ||
		get(d, "createOAuthClient", "client", "hasSecret") != true ||
		get(d, "createOAuthClient", "client", "accessTokenTtl") != float64(120) ||
		get(d, "createOAuthClient", "client", "requirePkce") != true {
		t.Fatalf("created client = %v", d)
	}
	d = r.must(t, acmeToken, create, map[string]any{"in": map[string]any{
		"tenantId": acme, "type": "public", "authMethod": "none",
		"redirectUris": []string{"com.example.app:/cb"}}})
	if get(d, "createOAuthClient", "secret") != nil {
		t.Errorf("a public client got a secret: %v", d)
	}

	got := r.hs.query(t, acmeToken, `query($t: ID!, $id: ID!) { oauthClient(tenantId: $t, id: $id) { id hasSecret } oauthClients(tenantId: $t, first: 1) { nodes { id } pageInfo { hasNextPage endCursor } } }`,
		map[string]any{"t": acme, "id": id})
	if len(got.Errors) > 0 || strings.Contains(string(got.raw), secret) {
		t.Fatalf("reads: %s", got.raw)
	}
	d = r.must(t, acmeToken, `query($t: ID!) { oauthClients(tenantId: $t, first: 1) { pageInfo { hasNextPage endCursor } } }`,
		map[string]any{"t": acme})
	cursor, _ := get(d, "oauthClients", "pageInfo", "endCursor").(string)
	if get(d, "oauthClients", "pageInfo", "hasNextPage") != true || cursor == "" {
		t.Errorf("first page = %v", d)
	}
	d = r.must(t, acmeToken, `query($t: ID!, $c: String) { oauthClients(tenantId: $t, after: $c) { nodes { id } pageInfo { hasNextPage } } }`,
		map[string]any{"t": acme, "c": cursor})
	if get(d, "oauthClients", "pageInfo", "hasNextPage") != false {
		t.Errorf("second page = %v", d)
	}

	d = r.must(t, acmeToken, `mutation($t: ID!, $id: ID!) { updateOAuthClient(input: {tenantId: $t, id: $id, name: "Web 2", scopes: ["openid"]}) { name scopes version } }`,
		map[string]any{"t": acme, "id": id})
	if get(d, "updateOAuthClient", "name") != "Web 2" ||
		get(d, "updateOAuthClient", "version") != float64(2) {
		t.Errorf("updated = %v", d)
	}
	d = r.must(t, acmeToken, `mutation($t: ID!, $id: ID!) { rotateOAuthClientSecret(tenantId: $t, id: $id) { secret client { version } } }`,
		map[string]any{"t": acme, "id": id})
	if s, _ := get(d, "rotateOAuthClientSecret", "secret").(string); s == secret ||
		!strings.HasPrefix(s, "wcs_") {
		t.Errorf("rotated = %v", d)
	}

	codes := []struct {
		name, token, query string
		vars               map[string]any
		want               string
	}{
		{"another tenant's admin reads the client", globexToken,
			`query($t: ID!, $id: ID!) { oauthClient(tenantId: $t, id: $id) { id } }`,
			map[string]any{"t": acme, "id": id}, "NOT_FOUND"},
		{"another tenant's admin lists the clients", globexToken,
			`query($t: ID!) { oauthClients(tenantId: $t) { nodes { id } } }`,
			map[string]any{"t": acme}, "NOT_FOUND"},
		{"another tenant's admin rotates the secret", globexToken,
			`mutation($t: ID!, $id: ID!) { rotateOAuthClientSecret(tenantId: $t, id: $id) { secret } }`,
			map[string]any{"t": acme, "id": id}, "NOT_FOUND"},
		{"another tenant's admin deletes the client", globexToken,
			`mutation($t: ID!, $id: ID!) { deleteOAuthClient(tenantId: $t, id: $id) }`,
			map[string]any{"t": acme, "id": id}, "NOT_FOUND"},
		{"a redirect URI with a fragment", acmeToken, create,
			map[string]any{"in": map[string]any{"tenantId": acme, "type": "confidential",
				"authMethod":   "client_secret_basic",
				"redirectUris": []string{"https://app.example.com/cb#x"}}}, "INVALID_ARGUMENT"},
	}
	for _, c := range codes {
		got := r.hs.query(t, c.token, c.query, c.vars)
		if !slices.Equal(got.codes(), []string{c.want}) {
			t.Errorf("%s: codes %v, want [%s]; %s", c.name, got.codes(), c.want, got.raw)
		}
	}

	d = r.must(t, acmeToken, `mutation($t: ID!, $id: ID!) { deleteOAuthClient(tenantId: $t, id: $id) }`,
		map[string]any{"t": acme, "id": id})
	if get(d, "deleteOAuthClient") != id {
		t.Errorf("deleteOAuthClient = %v", d)
	}
}
