package graphql

import (
	"slices"
	"sort"
	"testing"
)

// TestGroupsWithWardFunctions manages groups through the facade over
// Ward's own functions: a tenant administrator creates and fills a group,
// an org_admin token sees only the members it administers, and refusals
// come through with the functions' codes.
func TestGroupsWithWardFunctions(t *testing.T) {
	r := newRealHarness(t, Options{TokenCacheTTL: -1})
	admin := r.admin

	d := r.must(t, admin, `mutation { a: createTenant(input: {name: "acme"}) { id } b: createTenant(input: {name: "globex"}) { id } }`, nil)
	acme, _ := get(d, "a", "id").(string)
	globex, _ := get(d, "b", "id").(string)
	d = r.must(t, admin, `mutation($t: ID!) { createOrganization(input: {tenantId: $t, name: "east"}) { id } }`,
		map[string]any{"t": acme})
	east, _ := get(d, "createOrganization", "id").(string)
	user := func(tenant, name, org string) string {
		t.Helper()
		in := map[string]any{"tenantId": tenant, "username": name}
		if org != "" {
			in["orgId"] = org
		}
		d := r.must(t, admin, `mutation($in: CreateUserInput!) { createUser(input: $in) { id } }`,
			map[string]any{"in": in})
		id, _ := get(d, "createUser", "id").(string)
		return id
	}
	ann := user(acme, "ann", east)
	bob := user(acme, "bob", "")
	gus := user(globex, "gus", "")

	d = r.must(t, admin, `mutation($in: CreateGroupInput!) { createGroup(input: $in) { id name displayName description version createdAt } }`,
		map[string]any{"in": map[string]any{"tenantId": acme, "name": "Staff",
			"displayName": "All staff", "description": "Everyone"}})
	staff, _ := get(d, "createGroup", "id").(string)
	if get(d, "createGroup", "name") != "staff" || get(d, "createGroup", "description") != "Everyone" ||
		get(d, "createGroup", "createdAt") == nil {
		t.Errorf("created group = %v", d)
	}
	r.must(t, admin, `mutation($t: ID!) { createGroup(input: {tenantId: $t, name: "ops"}) { id } }`,
		map[string]any{"t": acme})

	add := `mutation($t: ID!, $g: ID!, $u: ID!) { addGroupMember(tenantId: $t, groupId: $g, userId: $u) { name members { nodes { username } } } }`
	r.must(t, admin, add, map[string]any{"t": acme, "g": staff, "u": ann})
	d = r.must(t, admin, add, map[string]any{"t": acme, "g": staff, "u": bob})
	if got := usernames(get(d, "addGroupMember", "members", "nodes")); !slices.Equal(got,
		sortedCopy([]string{"ann", "bob"}, []string{ann, bob})) {
		t.Errorf("members after adding = %v", got)
	}

	// Paging through groups and members.
	d = r.must(t, admin, `query($t: ID!) { groups(tenantId: $t, first: 1) { nodes { name } pageInfo { hasNextPage endCursor } } }`,
		map[string]any{"t": acme})
	if get(d, "groups", "pageInfo", "hasNextPage") != true {
		t.Errorf("first page of groups = %v", d)
	}
	cursor, _ := get(d, "groups", "pageInfo", "endCursor").(string)
	d = r.must(t, admin, `query($t: ID!, $c: String) { groups(tenantId: $t, first: 1, after: $c) { nodes { name } pageInfo { hasNextPage } } }`,
		map[string]any{"t": acme, "c": cursor})
	if get(d, "groups", "pageInfo", "hasNextPage") != false {
		t.Errorf("second page of groups = %v", d)
	}
	d = r.must(t, admin, `query($t: ID!, $g: ID!) { group(tenantId: $t, id: $g) { members(first: 1) { nodes { id } pageInfo { hasNextPage } } } }`,
		map[string]any{"t": acme, "g": staff})
	if get(d, "group", "members", "pageInfo", "hasNextPage") != true {
		t.Errorf("first page of members = %v", d)
	}

	d = r.must(t, admin, `mutation($t: ID!, $g: ID!) { updateGroup(input: {tenantId: $t, id: $g, description: "Everyone here"}) { description displayName version } }`,
		map[string]any{"t": acme, "g": staff})
	if get(d, "updateGroup", "description") != "Everyone here" ||
		get(d, "updateGroup", "displayName") != "All staff" {
		t.Errorf("updated group = %v", d)
	}

	// An org_admin token for east sees ann, not bob.
	d = r.must(t, admin, `mutation($t: ID, $o: [ID!]) { createApiToken(input: {tenantId: $t, name: "east ops", roles: ["org_admin"], orgs: $o}) { token } }`,
		map[string]any{"t": acme, "o": []string{east}})
	eastToken, _ := get(d, "createApiToken", "token").(string)
	d = r.must(t, eastToken, `query($t: ID!, $g: ID!, $u: ID!) { group(tenantId: $t, id: $g) { members { nodes { username } } } user(tenantId: $t, id: $u) { groups { name } } }`,
		map[string]any{"t": acme, "g": staff, "u": ann})
	if got := usernames(get(d, "group", "members", "nodes")); !slices.Equal(got, []string{"ann"}) {
		t.Errorf("members seen by east's admin = %v", got)
	}
	if got := toStrings(namesOf(get(d, "user", "groups"))); !slices.Equal(got, []string{"staff"}) {
		t.Errorf("ann's groups = %v", d)
	}

	// A tenant administrator's token.
	d = r.must(t, admin, `mutation($t: ID) { createApiToken(input: {tenantId: $t, name: "acme ops", roles: ["tenant_admin"]}) { token } }`,
		map[string]any{"t": acme})
	acmeToken, _ := get(d, "createApiToken", "token").(string)

	codes := []struct {
		name, token, query string
		vars               map[string]any
		want               string
	}{
		{"an org admin creates a group", eastToken,
			`mutation($t: ID!) { createGroup(input: {tenantId: $t, name: "mine"}) { id } }`,
			map[string]any{"t": acme}, "PERMISSION_DENIED"},
		{"an org admin adds a user it does not administer", eastToken, add,
			map[string]any{"t": acme, "g": staff, "u": bob}, "NOT_FOUND"},
		{"a tenant admin reads another tenant's groups", acmeToken,
			`query($t: ID!) { groups(tenantId: $t) { nodes { id } } }`,
			map[string]any{"t": globex}, "NOT_FOUND"},
		{"a tenant admin adds another tenant's user", acmeToken, add,
			map[string]any{"t": acme, "g": staff, "u": gus}, "NOT_FOUND"},
		{"a taken name conflicts", acmeToken,
			`mutation($t: ID!) { createGroup(input: {tenantId: $t, name: "OPS"}) { id } }`,
			map[string]any{"t": acme}, "CONFLICT"},
		{"a name that is not a slug", acmeToken,
			`mutation($t: ID!) { createGroup(input: {tenantId: $t, name: "no good"}) { id } }`,
			map[string]any{"t": acme}, "INVALID_ARGUMENT"},
	}
	for _, c := range codes {
		got := r.hs.query(t, c.token, c.query, c.vars)
		if !slices.Equal(got.codes(), []string{c.want}) {
			t.Errorf("%s: codes %v, want [%s]; %s", c.name, got.codes(), c.want, got.raw)
		}
	}

	d = r.must(t, acmeToken, `mutation($t: ID!, $g: ID!, $u: ID!) { removeGroupMember(tenantId: $t, groupId: $g, userId: $u) { members { nodes { username } } } }`,
		map[string]any{"t": acme, "g": staff, "u": ann})
	if got := usernames(get(d, "removeGroupMember", "members", "nodes")); !slices.Equal(got,
		[]string{"bob"}) {
		t.Errorf("members after removing ann = %v", got)
	}
	d = r.must(t, acmeToken, `mutation($t: ID!, $g: ID!) { deleteGroup(tenantId: $t, id: $g) }`,
		map[string]any{"t": acme, "g": staff})
	if get(d, "deleteGroup") != staff {
		t.Errorf("deleteGroup = %v", d)
	}
	got := r.hs.query(t, acmeToken, `query($t: ID!, $g: ID!) { group(tenantId: $t, id: $g) { id } }`,
		map[string]any{"t": acme, "g": staff})
	if string(got.Data) != `{"group":null}` || !slices.Equal(got.codes(), []string{"NOT_FOUND"}) {
		t.Errorf("a deleted group: %s", got.raw)
	}
	d = r.must(t, acmeToken, `query($t: ID!, $u: ID!) { user(tenantId: $t, id: $u) { groups { id } } }`,
		map[string]any{"t": acme, "u": bob})
	if gs, _ := get(d, "user", "groups").([]any); gs == nil || len(gs) != 0 {
		t.Errorf("bob's groups after the delete = %v", d)
	}
}

func usernames(v any) []string {
	nodes, _ := v.([]any)
	var out []string
	for _, n := range nodes {
		s, _ := get(n, "username").(string)
		out = append(out, s)
	}
	return out
}

// sortedCopy orders names as their IDs sort: members come in ID order.
func sortedCopy(names, ids []string) []string {
	idx := make([]int, len(ids))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return ids[idx[a]] < ids[idx[b]] })
	out := make([]string, len(idx))
	for i, j := range idx {
		out[i] = names[j]
	}
	return out
}
