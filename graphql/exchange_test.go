package graphql

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestOAuthClientExchangePolicy sets a client's token exchange policy
// through the facade, reads it back, replaces and removes it; and gives a
// trusted issuer a user mapping.
func TestOAuthClientExchangePolicy(t *testing.T) {
	r := newRealHarness(t, Options{TokenCacheTTL: -1})
	d := r.must(t, r.admin, `mutation { createTenant(input: {name: "acme"}) { id } }`, nil)
	acme, _ := get(d, "createTenant", "id").(string)

	d = r.must(t, r.admin, `mutation($in: CreateOAuthClientInput!) { createOAuthClient(input: $in) { client { id exchange { issuers audiences delegation impersonation sessions } } } }`,
		map[string]any{"in": map[string]any{"tenantId": acme, "type": "confidential",
			"authMethod": "client_secret_basic",
			"grantTypes": []string{"urn:ietf:params:oauth:grant-type:token-exchange"},
			"exchange": map[string]any{"issuers": []string{"self"},
				"audiences": []string{"billing"}, "delegation": true}}})
	id, _ := get(d, "createOAuthClient", "client", "id").(string)
	want := map[string]any{"issuers": []any{"self"}, "audiences": []any{"billing"},
		"delegation": true, "impersonation": false, "sessions": false}
	if diff := cmp.Diff(want, get(d, "createOAuthClient", "client", "exchange")); diff != "" {
		t.Errorf("created policy (-want +got):\n%s", diff)
	}

	update := `mutation($t: ID!, $id: ID!, $p: OAuthClientExchangePolicyInput) { updateOAuthClient(input: {tenantId: $t, id: $id, exchange: $p}) { exchange { issuers impersonation } } }`
	d = r.must(t, r.admin, update, map[string]any{"t": acme, "id": id,
		"p": map[string]any{"issuers": []string{"self"}, "impersonation": true}})
	want = map[string]any{"issuers": []any{"self"}, "impersonation": true}
	if diff := cmp.Diff(want, get(d, "updateOAuthClient", "exchange")); diff != "" {
		t.Errorf("updated policy (-want +got):\n%s", diff)
	}
	d = r.must(t, r.admin, update, map[string]any{"t": acme, "id": id,
		"p": map[string]any{}})
	if get(d, "updateOAuthClient", "exchange") != nil {
		t.Errorf("an empty policy was kept: %v", d)
	}

	d = r.must(t, r.admin, `mutation($t: ID!) { createTrustedIssuer(input: {tenantId: $t, issuer: "https://idp.example.com", jwksUri: "https://idp.example.com/jwks", audiences: ["ward"], userMapping: "email", sessions: true}) { userMapping sessions } }`,
		map[string]any{"t": acme})
	if get(d, "createTrustedIssuer", "userMapping") != "email" ||
		get(d, "createTrustedIssuer", "sessions") != true {
		t.Errorf("trusted issuer = %v", d)
	}
}
