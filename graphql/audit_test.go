package graphql

import (
	"slices"
	"strings"
	"testing"
)

// TestAuditEventsWithWardFunctions makes changes through the facade and
// reads them back from the trail, as a tenant administrator, and checks
// who else is refused.
func TestAuditEventsWithWardFunctions(t *testing.T) {
	r := newRealHarness(t, Options{TokenCacheTTL: -1})
	admin := r.admin

	d := r.must(t, admin, `mutation { a: createTenant(input: {name: "acme"}) { id } b: createTenant(input: {name: "globex"}) { id } }`, nil)
	acme, _ := get(d, "a", "id").(string)
	globex, _ := get(d, "b", "id").(string)
	mkToken := `mutation($t: ID, $r: [String!]!) { createApiToken(input: {tenantId: $t, name: "x", roles: $r}) { token apiToken { id subject } } }`
	d = r.must(t, admin, mkToken, map[string]any{"t": acme, "r": []string{"tenant_admin"}})
	acmeAdmin, _ := get(d, "createApiToken", "token").(string)
	adminSubject, _ := get(d, "createApiToken", "apiToken", "subject").(string)
	d = r.must(t, admin, mkToken, map[string]any{"t": acme, "r": []string{"user"}})
	acmeUser, _ := get(d, "createApiToken", "token").(string)

	d = r.must(t, acmeAdmin, `mutation($t: ID!) { createUser(input: {tenantId: $t, username: "carol", displayName: "Carol"}) { id } }`,
		map[string]any{"t": acme})
	carol, _ := get(d, "createUser", "id").(string)
	r.must(t, acmeAdmin, `mutation($t: ID!, $u: ID!) { updateUser(input: {tenantId: $t, id: $u, displayName: "Carol C."}) { id } }`,
		map[string]any{"t": acme, "u": carol})
	r.must(t, acmeAdmin, `mutation($t: ID!, $u: ID!) { setUserPassword(tenantId: $t, id: $u, password: "a long and secret passphrase 9") }`,
		map[string]any{"t": acme, "u": carol})

	q := `query($t: ID!, $g: ID, $a: String) { auditEvents(tenantId: $t, targetId: $g, first: 2, after: $a) { nodes { id tenantId actor action targetType targetId changes { field old new } at } pageInfo { hasNextPage endCursor } } }`
	var actions []string
	var nodes []any
	after := any(nil)
	for range 10 {
		d = r.must(t, acmeAdmin, q, map[string]any{"t": acme, "g": carol, "a": after})
		page, _ := get(d, "auditEvents", "nodes").([]any)
		nodes = append(nodes, page...)
		for _, n := range page {
			a, _ := get(n, "action").(string)
			actions = append(actions, a)
		}
		if get(d, "auditEvents", "pageInfo", "hasNextPage") != true {
			break
		}
		after = get(d, "auditEvents", "pageInfo", "endCursor")
	}
	want := []string{"user.setPassword", "user.update", "user.create"}
	if !slices.Equal(actions, want) {
		t.Fatalf("carol's trail = %v, want %v", actions, want)
	}
	for _, n := range nodes {
		if get(n, "actor") != adminSubject || get(n, "targetId") != carol ||
			get(n, "targetType") != "user" || get(n, "tenantId") != acme {
			t.Errorf("event = %v, want actor %s on user %s", n, adminSubject, carol)
		}
	}
	changes, _ := get(nodes[1], "changes").([]any)
	if len(changes) != 1 || get(changes[0], "field") != "displayName" ||
		get(changes[0], "old") != "Carol" || get(changes[0], "new") != "Carol C." {
		t.Errorf("user.update changes = %v", changes)
	}
	if raw := r.hs.query(t, acmeAdmin, q, map[string]any{"t": acme, "g": carol}).raw; strings.Contains(string(raw), "passphrase") {
		t.Errorf("the trail holds the password: %s", raw)
	}

	// The whole trail also holds the two tokens made for acme.
	d = r.must(t, admin, `query($t: ID!) { auditEvents(tenantId: $t) { nodes { action } } }`,
		map[string]any{"t": acme})
	all, _ := get(d, "auditEvents", "nodes").([]any)
	if len(all) != 5 || get(all[4], "action") != "apitoken.create" {
		t.Errorf("acme's trail = %v, want 5 events ending with apitoken.create", all)
	}

	codes := []struct {
		name, token string
		tenant      string
		want        string
	}{
		{"a user of the tenant", acmeUser, acme, "PERMISSION_DENIED"},
		{"an administrator of another tenant", acmeAdmin, globex, "NOT_FOUND"},
		{"a malformed tenant ID", admin, "nope", "INVALID_ARGUMENT"},
	}
	for _, c := range codes {
		got := r.hs.query(t, c.token, `query($t: ID!) { auditEvents(tenantId: $t) { nodes { id } } }`,
			map[string]any{"t": c.tenant})
		if !slices.Equal(got.codes(), []string{c.want}) {
			t.Errorf("%s: codes %v, want [%s]; %s", c.name, got.codes(), c.want, got.raw)
		}
	}
}
