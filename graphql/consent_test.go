package graphql

import (
	"slices"
	"testing"
)

// TestConsentsThroughGraphQL reaches oauth.listConsents, revokeConsent and
// revokeGrants through the facade, with their gates: the user, the
// administrators who reach the user, and nobody else.
func TestConsentsThroughGraphQL(t *testing.T) {
	w := newSessionWorld(t)
	ann, _ := w.signIn(t, w.ann)
	bob, _ := w.signIn(t, w.bob)
	vars := map[string]any{"t": w.acme, "u": w.ann}
	// Any ID no client has.
	withClient := map[string]any{"t": w.acme, "u": w.ann, "c": w.globex}
	const (
		list   = `query($t: ID!, $u: ID!) { consents(tenantId: $t, userId: $u) { clientId scopes createdAt } }`
		revoke = `mutation($t: ID!, $u: ID!, $c: ID!) { revokeConsent(tenantId: $t, userId: $u, clientId: $c) }`
		grants = `mutation($t: ID!, $u: ID!) { revokeOAuthGrants(tenantId: $t, userId: $u) }`
	)

	for who, tok := range map[string]string{"ann": ann, "acme's admin": w.acmeAdmin,
		"ann's org admin": w.leftAdmin} {
		d := w.must(t, tok, list, vars)
		if l, ok := get(d, "consents").([]any); !ok || len(l) != 0 {
			t.Errorf("%s lists: %v", who, d)
		}
		if d := w.must(t, tok, grants, vars); get(d, "revokeOAuthGrants") != float64(0) {
			t.Errorf("%s revokes grants: %v", who, d)
		}
	}
	if got := w.hs.query(t, ann, revoke, withClient); !slices.Equal(got.codes(), []string{"NOT_FOUND"}) {
		t.Errorf("revoking a consent that does not exist: %s", got.raw)
	}
	for who, tok := range map[string]string{"bob": bob, "globex's admin": w.globexAdmin,
		"another org's admin": w.rightAdmin} {
		for q, v := range map[string]map[string]any{list: vars, revoke: withClient, grants: vars} {
			got := w.hs.query(t, tok, q, v)
			if c := got.codes(); len(c) != 1 || (c[0] != "NOT_FOUND" && c[0] != "PERMISSION_DENIED") {
				t.Errorf("%s: %s", who, got.raw)
			}
		}
	}
}

// TestClientRequireConsentThroughGraphQL sets the consent policy of a
// client at creation and by update; it is off by default.
func TestClientRequireConsentThroughGraphQL(t *testing.T) {
	r := newRealHarness(t, Options{TokenCacheTTL: -1})
	d := r.must(t, r.admin, `mutation { createTenant(input: {name: "acme"}) { id } }`, nil)
	acme, _ := get(d, "createTenant", "id").(string)
	create := `mutation($in: CreateOAuthClientInput!) { createOAuthClient(input: $in) { client { id requireConsent } } }`
	in := map[string]any{"tenantId": acme, "type": "confidential",
		"authMethod": "client_secret_basic", "redirectUris": []string{"https://app.example.com/cb"}}
	d = r.must(t, r.admin, create, map[string]any{"in": in})
	if get(d, "createOAuthClient", "client", "requireConsent") != false {
		t.Errorf("default requireConsent: %v", d)
	}
	in["requireConsent"] = true
	d = r.must(t, r.admin, create, map[string]any{"in": in})
	id, _ := get(d, "createOAuthClient", "client", "id").(string)
	if get(d, "createOAuthClient", "client", "requireConsent") != true {
		t.Errorf("requireConsent set at creation: %v", d)
	}
	d = r.must(t, r.admin, `mutation($in: UpdateOAuthClientInput!) { updateOAuthClient(input: $in) { requireConsent } }`,
		map[string]any{"in": map[string]any{"tenantId": acme, "id": id, "requireConsent": false}})
	if get(d, "updateOAuthClient", "requireConsent") != false {
		t.Errorf("requireConsent updated: %v", d)
	}
}
