package graphql

import (
	"encoding/json"
	"testing"
)

// TestTenantSettingsWithWardFunctions sets a tenant's sign-in settings and
// branding through the facade and reads them back with defaults filled in.
func TestTenantSettingsWithWardFunctions(t *testing.T) {
	r := newRealHarness(t, Options{TokenCacheTTL: -1})
	d := r.must(t, r.admin, `mutation { createTenant(input: {name: "acme"}) { id
		auth { mfa factors riskThreshold sessionIdleSeconds sessionMaxSeconds lockoutThreshold lockoutSeconds stepUp { transaction } returnOrigins }
		branding { logoUrl primaryColor } } }`, nil)
	acme, _ := get(d, "createTenant", "id").(string)
	got, _ := json.Marshal(get(d, "createTenant", "auth"))
	want := `{"factors":["WEBAUTHN","TOTP","SMS","VOICE","EMAIL","RECOVERY"],"lockoutSeconds":900,` +
		`"lockoutThreshold":10,"mfa":"OPTIONAL","returnOrigins":[],"riskThreshold":50,` +
		`"sessionIdleSeconds":1800,"sessionMaxSeconds":43200,"stepUp":[]}`
	if string(got) != want {
		t.Errorf("a new tenant's auth =\n%s, want\n%s", got, want)
	}

	d = r.must(t, r.admin, `mutation($id: ID!) { updateTenant(input: {id: $id,
		auth: {mfa: ADAPTIVE, factors: [TOTP, RECOVERY], riskThreshold: 30, sessionIdleSeconds: 600,
		       stepUp: [{transaction: "payment", minValue: 250.5, maxAgeSeconds: 300}],
		       returnOrigins: ["https://shop.acme.example"]},
		branding: {primaryColor: "#aa0000", logoUrl: "https://acme.example/logo.png"}}) {
		auth { mfa factors riskThreshold sessionIdleSeconds sessionMaxSeconds stepUp { transaction minValue acr maxAgeSeconds } returnOrigins }
		branding { logoUrl primaryColor backgroundColor } } }`, map[string]any{"id": acme})
	got, _ = json.Marshal(get(d, "updateTenant"))
	want = `{"auth":{"factors":["TOTP","RECOVERY"],"mfa":"ADAPTIVE",` +
		`"returnOrigins":["https://shop.acme.example"],"riskThreshold":30,` +
		`"sessionIdleSeconds":600,"sessionMaxSeconds":43200,"stepUp":[{"acr":"2",` +
		`"maxAgeSeconds":300,"minValue":250.5,"transaction":"payment"}]},` +
		`"branding":{"backgroundColor":null,"logoUrl":"https://acme.example/logo.png","primaryColor":"#aa0000"}}`
	if string(got) != want {
		t.Errorf("updated tenant =\n%s, want\n%s", got, want)
	}

	resp := r.hs.query(t, r.admin, `mutation($id: ID!) { updateTenant(input: {id: $id,
		branding: {primaryColor: "red"}}) { id } }`, map[string]any{"id": acme})
	if len(resp.Errors) == 0 || resp.Errors[0].Extensions["field"] != "branding.primaryColor" {
		t.Errorf("a bad colour: %+v", resp.Errors)
	}
	d = r.must(t, r.admin, `query($id: ID!) { tenant(id: $id) { branding { primaryColor } } }`,
		map[string]any{"id": acme})
	if get(d, "tenant", "branding", "primaryColor") != "#aa0000" {
		t.Errorf("the refused update changed the branding: %v", d)
	}
}
