package graphql

import (
	"encoding/json"
	"testing"
)

// TestProfilesWithWardFunctions sets a tenant's registration mode and user
// schema through the facade, then creates and patches a user's profile.
func TestProfilesWithWardFunctions(t *testing.T) {
	r := newRealHarness(t, Options{TokenCacheTTL: -1})
	admin := r.admin
	d := r.must(t, admin, `mutation { createTenant(input: {name: "acme"}) { id registration userSchema { name } } }`, nil)
	acme, _ := get(d, "createTenant", "id").(string)
	if get(d, "createTenant", "registration") != "CLOSED" {
		t.Errorf("a new tenant's registration = %v", d)
	}

	d = r.must(t, admin, `mutation($id: ID!) { updateTenant(input: {id: $id, registration: OPEN,
		userSchema: [{name: "department", type: STRING, enum: ["ops", "sales"], userEditable: true},
		             {name: "level", type: NUMBER, required: true}]}) {
		registration userSchema { name type required maxLength enum userEditable } } }`,
		map[string]any{"id": acme})
	schema, _ := json.Marshal(get(d, "updateTenant", "userSchema"))
	want := `[{"enum":["ops","sales"],"maxLength":null,"name":"department","required":false,"type":"STRING","userEditable":true},` +
		`{"enum":[],"maxLength":null,"name":"level","required":true,"type":"NUMBER","userEditable":false}]`
	if get(d, "updateTenant", "registration") != "OPEN" || string(schema) != want {
		t.Errorf("updated tenant = %v", d)
	}

	d = r.must(t, admin, `mutation($t: ID!) { createUser(input: {tenantId: $t, username: "bob",
		attributes: {department: "ops", level: 3}, locale: "de-ch", preferences: {theme: "dark"}}) {
		id attributes locale preferences } }`, map[string]any{"t": acme})
	bob, _ := get(d, "createUser", "id").(string)
	attrs, _ := json.Marshal(get(d, "createUser", "attributes"))
	if string(attrs) != `{"department":"ops","level":3}` || get(d, "createUser", "locale") != "de-CH" {
		t.Errorf("created user = %v", d)
	}

	// A patch through variables: null removes a preference.
	d = r.must(t, admin, `mutation($in: UpdateUserInput!) { updateUser(input: $in) { attributes preferences } }`,
		map[string]any{"in": map[string]any{"tenantId": acme, "id": bob,
			"attributes": map[string]any{"level": 4}, "preferences": map[string]any{"theme": nil, "tz": "UTC"}}})
	attrs, _ = json.Marshal(get(d, "updateUser", "attributes"))
	prefs, _ := json.Marshal(get(d, "updateUser", "preferences"))
	if string(attrs) != `{"department":"ops","level":4}` || string(prefs) != `{"tz":"UTC"}` {
		t.Errorf("patched user = %s %s", attrs, prefs)
	}

	// Refusals name the field and change nothing.
	resp := r.hs.query(t, admin, `mutation($in: UpdateUserInput!) { updateUser(input: $in) { id } }`,
		map[string]any{"in": map[string]any{"tenantId": acme, "id": bob,
			"attributes": map[string]any{"level": "high"}}})
	if len(resp.Errors) == 0 || resp.Errors[0].Extensions["field"] != "attributes.level" {
		t.Errorf("a string level: %+v", resp.Errors)
	}
	d = r.must(t, admin, `query($t: ID!, $id: ID!) { user(tenantId: $t, id: $id) { attributes } }`,
		map[string]any{"t": acme, "id": bob})
	attrs, _ = json.Marshal(get(d, "user", "attributes"))
	if string(attrs) != `{"department":"ops","level":4}` {
		t.Errorf("after a refused update: %s", attrs)
	}
}
