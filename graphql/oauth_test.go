package graphql

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func TestSigningKeysThroughGraphQL(t *testing.T) {
	w := newSessionWorld(t)
	vars := map[string]any{"t": w.acme}

	d := w.must(t, w.acmeAdmin, `query($t: ID!) { signingKeys(tenantId: $t) { kid } }`, vars)
	if keys, _ := get(d, "signingKeys").([]any); len(keys) != 0 {
		t.Fatalf("signingKeys before any rotation = %v", d)
	}
	d = w.must(t, w.acmeAdmin, `mutation($t: ID!) { rotateSigningKeys(tenantId: $t) { kid algorithm state } }`, vars)
	first, _ := get(d, "rotateSigningKeys").([]any)
	if len(first) != 1 {
		t.Fatalf("first rotation = %v", d)
	}
	d = w.must(t, w.admin, `mutation($t: ID!) { rotateSigningKeys(tenantId: $t, algorithm: "RS256") { kid algorithm state retireAfter publicJwk } }`, vars)
	keys, _ := get(d, "rotateSigningKeys").([]any)
	if len(keys) != 2 {
		t.Fatalf("second rotation = %v", d)
	}
	old, cur := keys[0].(map[string]any), keys[1].(map[string]any)
	if old["state"] != "RETIRING" || old["retireAfter"] == nil || old["kid"] != first[0].(map[string]any)["kid"] {
		t.Errorf("old key = %v", old)
	}
	if cur["state"] != "ACTIVE" || cur["algorithm"] != "RS256" || cur["retireAfter"] != nil {
		t.Errorf("new key = %v", cur)
	}
	var jwk map[string]any
	if err := json.Unmarshal([]byte(cur["publicJwk"].(string)), &jwk); err != nil ||
		jwk["kty"] != "RSA" || jwk["d"] != nil {
		t.Errorf("publicJwk = %v, %v", cur["publicJwk"], err)
	}

	d = w.must(t, w.acmeAdmin, `query($t: ID!) { signingKeys(tenantId: $t) { kid state } }`, vars)
	if listed, _ := get(d, "signingKeys").([]any); len(listed) != 2 {
		t.Errorf("signingKeys = %v", d)
	}

	for who, tok := range map[string]string{"globex's admin": w.globexAdmin,
		"an org admin": w.leftAdmin} {
		for _, q := range []string{
			`query($t: ID!) { signingKeys(tenantId: $t) { kid } }`,
			`mutation($t: ID!) { rotateSigningKeys(tenantId: $t) { kid } }`,
		} {
			got := w.hs.query(t, tok, q, vars)
			if c := got.codes(); len(c) != 1 || (c[0] != "NOT_FOUND" && c[0] != "PERMISSION_DENIED") {
				t.Errorf("%s: %s: %s", who, strings.Fields(q)[0], got.raw)
			}
		}
	}
	got := w.hs.query(t, w.admin, `mutation($t: ID!) { rotateSigningKeys(tenantId: $t, algorithm: "HS256") { kid } }`, vars)
	if !slices.Equal(got.codes(), []string{"INVALID_ARGUMENT"}) {
		t.Errorf("rotation to HS256: %s", got.raw)
	}
}

func TestClientRegistrationTokensThroughGraphQL(t *testing.T) {
	w := newSessionWorld(t)
	vars := map[string]any{"t": w.acme}

	d := w.must(t, w.acmeAdmin, `mutation($t: ID!) { updateTenant(input: {id: $t,
		auth: {clientRegistration: TOKEN}}) { auth { clientRegistration } } }`, vars)
	if got := get(d, "updateTenant", "auth", "clientRegistration"); got != "TOKEN" {
		t.Errorf("clientRegistration = %v", got)
	}
	d = w.must(t, w.acmeAdmin, `mutation($t: ID!) { createClientRegistrationToken(tenantId: $t,
		expiresIn: 3600, maxUses: 2) { token registrationToken { id maxUses uses usesLeft
		usable expiresAt } } }`, vars)
	tok, _ := get(d, "createClientRegistrationToken", "token").(string)
	made, _ := get(d, "createClientRegistrationToken", "registrationToken").(map[string]any)
	if !strings.HasPrefix(tok, "wit_") || made["maxUses"] != 2.0 || made["usesLeft"] != 2.0 ||
		made["usable"] != true || made["uses"] != 0.0 {
		t.Fatalf("created = %v", d)
	}
	d = w.must(t, w.admin, `mutation($t: ID!) { createClientRegistrationToken(tenantId: $t,
		expiresIn: 60) { registrationToken { maxUses usesLeft } } }`, vars)
	if got := get(d, "createClientRegistrationToken", "registrationToken").(map[string]any); got["maxUses"] != nil || got["usesLeft"] != nil {
		t.Errorf("a token of any uses = %v", got)
	}

	d = w.must(t, w.acmeAdmin, `query($t: ID!) { clientRegistrationTokens(tenantId: $t) { id } }`, vars)
	if list, _ := get(d, "clientRegistrationTokens").([]any); len(list) != 2 ||
		list[0].(map[string]any)["id"] != made["id"] {
		t.Fatalf("clientRegistrationTokens = %v", d)
	}
	if strings.Contains(w.hs.query(t, w.acmeAdmin, `query($t: ID!) { tenant(id: $t) { id } }`, vars).raw, "hash") {
		t.Error("a tenant's read shows token hashes")
	}

	withID := map[string]any{"t": w.acme, "id": made["id"]}
	for who, tok := range map[string]string{"globex's admin": w.globexAdmin,
		"an org admin": w.leftAdmin} {
		for q, v := range map[string]map[string]any{
			`query($t: ID!) { clientRegistrationTokens(tenantId: $t) { id } }`:                           vars,
			`mutation($t: ID!) { createClientRegistrationToken(tenantId: $t, expiresIn: 60) { token } }`: vars,
			`mutation($t: ID!, $id: ID!) { deleteClientRegistrationToken(tenantId: $t, id: $id) }`:       withID,
		} {
			got := w.hs.query(t, tok, q, v)
			if c := got.codes(); len(c) == 0 || (c[0] != "NOT_FOUND" && c[0] != "PERMISSION_DENIED") {
				t.Errorf("%s: %s: %s", who, strings.Fields(q)[0], got.raw)
			}
		}
	}
	got := w.hs.query(t, w.acmeAdmin, `mutation($t: ID!) { createClientRegistrationToken(tenantId: $t, expiresIn: 10) { token } }`, vars)
	if !slices.Equal(got.codes(), []string{"INVALID_ARGUMENT"}) {
		t.Errorf("a ten-second token: %s", got.raw)
	}

	d = w.must(t, w.acmeAdmin, `mutation($t: ID!, $id: ID!) { deleteClientRegistrationToken(tenantId: $t, id: $id) }`, withID)
	if get(d, "deleteClientRegistrationToken") != made["id"] {
		t.Errorf("delete = %v", d)
	}
	d = w.must(t, w.acmeAdmin, `query($t: ID!) { clientRegistrationTokens(tenantId: $t) { id } }`, vars)
	if list, _ := get(d, "clientRegistrationTokens").([]any); len(list) != 1 {
		t.Errorf("after delete = %v", d)
	}
}
