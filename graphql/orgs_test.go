package graphql

import (
	"slices"
	"testing"
)

// TestOrganizationsWithWardFunctions builds a tree of organizations
// through the facade, delegates one branch to an org_admin token and checks
// what that token reaches and what it is refused.
func TestOrganizationsWithWardFunctions(t *testing.T) {
	r := newRealHarness(t, Options{TokenCacheTTL: -1})
	admin := r.admin

	d := r.must(t, admin, `mutation { a: createTenant(input: {name: "acme"}) { id } b: createTenant(input: {name: "globex"}) { id } }`, nil)
	acme, _ := get(d, "a", "id").(string)
	globex, _ := get(d, "b", "id").(string)
	mkOrg := `mutation($in: CreateOrganizationInput!) { createOrganization(input: $in) { id name parentId depth } }`
	org := func(token, tenant, parent, name string) string {
		t.Helper()
		in := map[string]any{"tenantId": tenant, "name": name}
		if parent != "" {
			in["parentId"] = parent
		}
		d := r.must(t, token, mkOrg, map[string]any{"in": in})
		id, _ := get(d, "createOrganization", "id").(string)
		return id
	}
	east := org(admin, acme, "", "East")
	west := org(admin, acme, "", "west")
	foreign := org(admin, globex, "", "foreign")

	d = r.must(t, admin, `query($t: ID!) { organizations(tenantId: $t) { nodes { name depth parentId } pageInfo { hasNextPage } } }`,
		map[string]any{"t": acme})
	if got := toStrings(namesOf(get(d, "organizations", "nodes"))); !slices.Equal(got, []string{"east", "west"}) {
		t.Errorf("top level = %v", d)
	}

	// An org_admin token for east, made by the system administrator.
	d = r.must(t, admin, `mutation($t: ID, $o: [ID!]) { createApiToken(input: {tenantId: $t, name: "east ops", roles: ["org_admin"], orgs: $o}) { token apiToken { orgs } } }`,
		map[string]any{"t": acme, "o": []string{east}})
	eastToken, _ := get(d, "createApiToken", "token").(string)
	if got := toStrings(get(d, "createApiToken", "apiToken", "orgs")); !slices.Equal(got, []string{east}) {
		t.Errorf("token orgs = %v", got)
	}
	d = r.must(t, eastToken, `{ viewer { roles orgs } }`, nil)
	if got := toStrings(get(d, "viewer", "orgs")); !slices.Equal(got, []string{east}) {
		t.Errorf("viewer orgs = %v", d)
	}

	team := org(eastToken, acme, east, "team")
	d = r.must(t, eastToken, `mutation($in: CreateUserInput!) { createUser(input: $in) { id orgId organization { name parent { name } } } }`,
		map[string]any{"in": map[string]any{"tenantId": acme, "username": "dana", "orgId": team}})
	dana, _ := get(d, "createUser", "id").(string)
	if get(d, "createUser", "orgId") != team ||
		get(d, "createUser", "organization", "parent", "name") != "east" {
		t.Errorf("created user = %v", d)
	}
	d = r.must(t, eastToken, `query($t: ID!, $o: ID!) { organization(tenantId: $t, id: $o) { name children(first: 5) { nodes { name users(first: 5) { nodes { username } } } } } users(tenantId: $t, orgId: $o, first: 5) { nodes { id } } }`,
		map[string]any{"t": acme, "o": east})
	kids, _ := get(d, "organization", "children", "nodes").([]any)
	if len(kids) != 1 || get(kids[0], "name") != "team" {
		t.Errorf("children of east = %v", d)
	} else if us, _ := get(kids[0], "users", "nodes").([]any); len(us) != 1 ||
		get(us[0], "username") != "dana" {
		t.Errorf("users of team = %v", kids[0])
	}

	d = r.must(t, eastToken, `mutation($t: ID!, $u: ID!, $o: ID) { updateUser(input: {tenantId: $t, id: $u, orgId: $o}) { orgId } }`,
		map[string]any{"t": acme, "u": dana, "o": east})
	if get(d, "updateUser", "orgId") != east {
		t.Errorf("moved user = %v", d)
	}
	d = r.must(t, eastToken, `mutation($t: ID!, $o: ID!) { updateOrganization(input: {tenantId: $t, id: $o, displayName: "The Team"}) { displayName version } }`,
		map[string]any{"t": acme, "o": team})
	if get(d, "updateOrganization", "displayName") != "The Team" {
		t.Errorf("updated = %v", d)
	}

	codes := []struct {
		name, token, query string
		vars               map[string]any
		want               string
	}{
		{"an org admin reads a sibling organization", eastToken,
			`query($t: ID!, $o: ID!) { organization(tenantId: $t, id: $o) { id } }`,
			map[string]any{"t": acme, "o": west}, "NOT_FOUND"},
		{"an org admin lists the top level", eastToken,
			`query($t: ID!) { organizations(tenantId: $t) { nodes { id } } }`,
			map[string]any{"t": acme}, "PERMISSION_DENIED"},
		{"an org admin renames its own organization", eastToken,
			`mutation($t: ID!, $o: ID!) { updateOrganization(input: {tenantId: $t, id: $o, name: "x-east"}) { id } }`,
			map[string]any{"t": acme, "o": east}, "NOT_FOUND"},
		{"an org admin deletes its own organization", eastToken,
			`mutation($t: ID!, $o: ID!) { deleteOrganization(tenantId: $t, id: $o) }`,
			map[string]any{"t": acme, "o": east}, "NOT_FOUND"},
		{"an org admin moves a user to a sibling organization", eastToken,
			`mutation($t: ID!, $u: ID!, $o: ID) { updateUser(input: {tenantId: $t, id: $u, orgId: $o}) { id } }`,
			map[string]any{"t": acme, "u": dana, "o": west}, "NOT_FOUND"},
		{"an org admin lists the whole tenant's users", eastToken,
			`query($t: ID!) { users(tenantId: $t) { nodes { id } } }`,
			map[string]any{"t": acme}, "PERMISSION_DENIED"},
		{"an org admin token names another tenant's organization", admin,
			`mutation($t: ID, $o: [ID!]) { createApiToken(input: {tenantId: $t, name: "x", roles: ["org_admin"], orgs: $o}) { token } }`,
			map[string]any{"t": acme, "o": []string{foreign}}, "INVALID_ARGUMENT"},
		{"an org admin token without organizations", admin,
			`mutation($t: ID) { createApiToken(input: {tenantId: $t, name: "x", roles: ["org_admin"]}) { token } }`,
			map[string]any{"t": acme}, "INVALID_ARGUMENT"},
		{"an org admin cannot make tokens", eastToken,
			`mutation($t: ID, $o: [ID!]) { createApiToken(input: {tenantId: $t, name: "x", roles: ["org_admin"], orgs: $o}) { token } }`,
			map[string]any{"t": acme, "o": []string{east}}, "PERMISSION_DENIED"},
		{"an organization with users is not deleted", admin,
			`mutation($t: ID!, $o: ID!) { deleteOrganization(tenantId: $t, id: $o) }`,
			map[string]any{"t": acme, "o": east}, "CONFLICT"},
	}
	for _, c := range codes {
		got := r.hs.query(t, c.token, c.query, c.vars)
		if !slices.Equal(got.codes(), []string{c.want}) {
			t.Errorf("%s: codes %v, want [%s]; %s", c.name, got.codes(), c.want, got.raw)
		}
	}

	d = r.must(t, eastToken, `mutation($t: ID!, $o: ID!) { deleteOrganization(tenantId: $t, id: $o) }`,
		map[string]any{"t": acme, "o": team})
	if get(d, "deleteOrganization") != team {
		t.Errorf("delete = %v", d)
	}
}

// namesOf maps a list of nodes to their names.
func namesOf(v any) any {
	nodes, _ := v.([]any)
	out := make([]any, len(nodes))
	for i, n := range nodes {
		out[i] = get(n, "name")
	}
	return out
}
