package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wardhq/ward/shared/issuers/issuerstest"
)

// TestAccessTokenOfATrustedIssuer trusts a fake issuer through GraphQL
// and validates its tokens at POST /sessions/validate of the local
// process: a good one is active as an access token; after the issuer is
// disabled, or for a tenant that does not trust it, it is inactive.
func TestAccessTokenOfATrustedIssuer(t *testing.T) {
	w := startWithToken(t)
	idp := issuerstest.New(t)
	ten := w.createTenant("acme")
	other := w.createTenant("beta")

	var ti struct {
		ID         string   `json:"id"`
		Algorithms []string `json:"algorithms"`
		Enabled    bool     `json:"enabled"`
	}
	w.must(`mutation($t: ID!, $iss: String!, $jwks: String!) {
		createTrustedIssuer(input: {tenantId: $t, issuer: $iss, jwksUri: $jwks,
			audiences: ["api://ward"], claims: ["email"]}) { id algorithms enabled } }`,
		map[string]any{"t": ten.ID, "iss": idp.URL, "jwks": idp.JWKSURI()},
		"createTrustedIssuer", &ti)
	if !ti.Enabled || strings.Join(ti.Algorithms, ",") != "ES256,RS256" {
		t.Errorf("created %+v", ti)
	}
	var listed []struct {
		ID string `json:"id"`
	}
	w.must(`query($t: ID!) { trustedIssuers(tenantId: $t) { id } }`,
		map[string]any{"t": ten.ID}, "trustedIssuers", &listed)
	if len(listed) != 1 || listed[0].ID != ti.ID {
		t.Errorf("trustedIssuers = %+v", listed)
	}
	if r := w.gql(w.token, `mutation($t: ID!) { createTrustedIssuer(input: {tenantId: $t,
		issuer: "https://x.example.com", jwksUri: "https://x.example.com/k",
		audiences: ["a"], algorithms: ["HS256"]}) { id } }`,
		map[string]any{"t": ten.ID}); r.code() != "INVALID_ARGUMENT" {
		t.Errorf("an HS256 issuer: %+v", r.Errors)
	}

	now := time.Now().Unix()
	token := idp.Sign(t, issuerstest.KidES256, map[string]any{
		"iss": idp.URL, "sub": "ext-user-7", "aud": "api://ward", "exp": now + 600,
		"iat": now, "acr": "2", "amr": []string{"pwd", "hwk"}, "email": "ext@example.com",
	})

	got := validateAt(t, w, token, ten.Name)
	if got["active"] != true || got["token_type"] != "access_token" ||
		got["sub"] != "ext-user-7" || got["tenant"] != ten.ID || got["iss"] != idp.URL ||
		got["acr"] != "2" || got["exp"] != float64(now+600) {
		t.Errorf("validate = %v", got)
	}
	if got := validateAt(t, w, token, other.ID); got["active"] != false {
		t.Errorf("for a tenant that does not trust the issuer: %v", got)
	}
	if got := validateAt(t, w, token, ""); got["active"] != false {
		t.Errorf("without a tenant: %v", got)
	}

	var off struct {
		Enabled bool `json:"enabled"`
	}
	w.must(`mutation($t: ID!, $id: ID!) { updateTrustedIssuer(input: {tenantId: $t, id: $id,
		enabled: false}) { enabled } }`, map[string]any{"t": ten.ID, "id": ti.ID},
		"updateTrustedIssuer", &off)
	if got := validateAt(t, w, token, ten.ID); got["active"] != false {
		t.Errorf("after the issuer is disabled: %v", got)
	}
	var deleted string
	w.must(`mutation($t: ID!, $id: ID!) { deleteTrustedIssuer(tenantId: $t, id: $id) }`,
		map[string]any{"t": ten.ID, "id": ti.ID}, "deleteTrustedIssuer", &deleted)
	if deleted != ti.ID {
		t.Errorf("deleteTrustedIssuer = %q", deleted)
	}

	idp.SetDown(true)
	w.must(`mutation($t: ID!, $iss: String!, $jwks: String!) {
		createTrustedIssuer(input: {tenantId: $t, issuer: $iss, jwksUri: $jwks,
			audiences: ["api://ward"]}) { id } }`,
		map[string]any{"t": other.ID, "iss": idp.URL, "jwks": idp.JWKSURI()},
		"createTrustedIssuer", &ti)
	status, _ := validateStatus(t, w, token, other.ID)
	if status != http.StatusServiceUnavailable {
		t.Errorf("with the issuer's keys unreachable: %d, want 503", status)
	}
}

func validateStatus(t *testing.T, w *ward, token, tenant string) (int, map[string]any) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"token": token, "tenant": tenant})
	if tenant == "" {
		body, _ = json.Marshal(map[string]string{"token": token})
	}
	resp, err := http.Post(w.base+"/sessions/validate", "application/json",
		strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("validate answered %d %s", resp.StatusCode, raw)
	}
	return resp.StatusCode, out
}

func validateAt(t *testing.T, w *ward, token, tenant string) map[string]any {
	t.Helper()
	status, out := validateStatus(t, w, token, tenant)
	if status != http.StatusOK {
		t.Fatalf("validate answered %d %v", status, out)
	}
	return out
}
