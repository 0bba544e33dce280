package graphql

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/wardhq/ward/shared/apitokens"
	"github.com/wardhq/ward/shared/audit"
	"github.com/wardhq/ward/shared/cache/memory"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/orgs"
	"github.com/wardhq/ward/shared/passwords"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/store/bolt"
	"github.com/wardhq/ward/shared/tenants"
	"github.com/wardhq/ward/shared/users"
)

// newImportHarness is newRealHarness with the platform cache that
// imports keep their jobs in, and the store for checks.
func newImportHarness(t testing.TB) (*realHarness, store.Store) {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "ward.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c, err := memory.New(memory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	token, err := apitokens.Bootstrap(context.Background(), apitokens.Deps{Store: st}, "")
	if err != nil || token == "" {
		t.Fatalf("bootstrap: %q, %v", token, err)
	}
	inv := invoke.NewLocal(
		tenants.Function(tenants.Deps{Store: st}),
		users.Function(users.Deps{Store: st, Cache: c}),
		orgs.Function(orgs.Deps{Store: st}),
		apitokens.Function(apitokens.Deps{Store: st}),
		audit.Function(audit.Deps{Store: st}),
	)
	logs := &syncBuffer{}
	opts := Options{TokenCacheTTL: -1, Logger: newTestLogger(logs)}
	return &realHarness{hs: &harness{h: New(inv, opts), logs: logs}, admin: token}, st
}

const importMutation = `mutation($t: ID!, $o: ID, $f: ImportFormat!, $d: String!, $j: ID) {
	importUsers(tenantId: $t, orgId: $o, format: $f, data: $d, jobId: $j) {
		jobId rows created failed errorsOmitted
		errors { row field code message }
		job { id chunks rows created failed running }
	}
}`

func importVars(tenant, format, data, job string) map[string]any {
	v := map[string]any{"t": tenant, "f": format, "d": data}
	if job != "" {
		v["j"] = job
	}
	return v
}

// rowErrors reduces the errors of a payload to "row field code".
func rowErrors(v any) []string {
	list, _ := v.([]any)
	out := make([]string, len(list))
	for i, e := range list {
		out[i] = fmt.Sprintf("%v %v %v", get(e, "row"), get(e, "field"), get(e, "code"))
	}
	return out
}

func TestImportUsersThroughTheFacade(t *testing.T) {
	r, st := newImportHarness(t)
	admin := r.admin
	d := r.must(t, admin, `mutation { a: createTenant(input: {name: "acme"}) { id } b: createTenant(input: {name: "globex"}) { id } }`, nil)
	acme, _ := get(d, "a", "id").(string)
	globex, _ := get(d, "b", "id").(string)
	d = r.must(t, admin, `mutation($t: ID) { createApiToken(input: {tenantId: $t, name: "ops", roles: ["tenant_admin"]}) { token } }`,
		map[string]any{"t": acme})
	acmeToken, _ := get(d, "createApiToken", "token").(string)
	hash, err := passwords.Hash("a fine precomputed passphrase")
	if err != nil {
		t.Fatal(err)
	}

	csv := "username,email,phone,status,passwordHash\n" +
		"ann,ann@acme.test,,,\"" + hash + "\"\n" +
		"bob,bob@,,,\n" +
		"cat,,12345,,\n" +
		"ann,,,,\n" +
		"dan,,,ASLEEP,\n" +
		"eve,,,,$argon2id$nope\n" +
		"fay,fay@acme.test,+442079460000,LOCKED,\n"
	d = r.must(t, acmeToken, importMutation, importVars(acme, "CSV", csv, ""))
	p := get(d, "importUsers")
	want := []string{
		"2 email INVALID_ARGUMENT", "3 phone INVALID_ARGUMENT", "4 username CONFLICT",
		"5 status INVALID_ARGUMENT", "6 passwordHash INVALID_ARGUMENT",
	}
	if got := rowErrors(get(p, "errors")); !slices.Equal(got, want) {
		t.Errorf("row errors = %v, want %v", got, want)
	}
	if get(p, "rows") != 7.0 || get(p, "created") != 2.0 || get(p, "failed") != 5.0 {
		t.Errorf("payload = %v", p)
	}
	job, _ := get(p, "jobId").(string)
	u, err := st.Users().GetByUsername(context.Background(), acme, "ann")
	if err != nil {
		t.Fatal(err)
	}
	if c, err := st.Credentials().GetPassword(context.Background(), acme, u.ID); err != nil ||
		c.Hash != hash {
		t.Errorf("ann's stored hash = %q, %v", c.Hash, err)
	}

	// A second chunk, in JSON lines, continues the job and its row numbers.
	lines := `{"username": "gil", "status": "DISABLED"}` + "\n" + `{"username": "hal", "colour": "red"}`
	d = r.must(t, acmeToken, importMutation, importVars(acme, "JSON", lines, job))
	p = get(d, "importUsers")
	if got := rowErrors(get(p, "errors")); !slices.Equal(got, []string{"9 colour INVALID_ARGUMENT"}) {
		t.Errorf("second chunk errors = %v", got)
	}
	if get(p, "job", "chunks") != 2.0 || get(p, "job", "rows") != 9.0 ||
		get(p, "job", "created") != 3.0 || get(p, "job", "failed") != 6.0 {
		t.Errorf("job after two chunks = %v", get(p, "job"))
	}
	d = r.must(t, acmeToken, `query($t: ID!, $j: ID!) { userImport(tenantId: $t, jobId: $j) { id rows created failed running chunks } }`,
		map[string]any{"t": acme, "j": job})
	if get(d, "userImport", "rows") != 9.0 || get(d, "userImport", "running") != false {
		t.Errorf("userImport = %v", d)
	}

	// Filters: status, and an orgId that narrows.
	d = r.must(t, acmeToken, `query($t: ID!) { users(tenantId: $t, first: 10, filter: {status: LOCKED}) { nodes { username } } }`,
		map[string]any{"t": acme})
	if got := importedNames(get(d, "users", "nodes")); !slices.Equal(got, []string{"fay"}) {
		t.Errorf("LOCKED users = %v", got)
	}

	codes := []struct {
		name, token, query string
		vars               map[string]any
		want               string
	}{
		{"a chunk into another tenant", acmeToken, importMutation,
			importVars(globex, "CSV", "username\nzed\n", ""), "NOT_FOUND"},
		{"a chunk with an unknown column", acmeToken, importMutation,
			importVars(acme, "CSV", "username,shoe\nzed,9\n", ""), "INVALID_ARGUMENT"},
		{"another caller's job", admin,
			`query($t: ID!, $j: ID!) { userImport(tenantId: $t, jobId: $j) { id } }`,
			map[string]any{"t": acme, "j": job}, "NOT_FOUND"},
		{"a value without an attribute", acmeToken,
			`query($t: ID!) { users(tenantId: $t, filter: {value: "x"}) { nodes { id } } }`,
			map[string]any{"t": acme}, "INVALID_ARGUMENT"},
	}
	for _, c := range codes {
		got := r.hs.query(t, c.token, c.query, c.vars)
		if !slices.Equal(got.codes(), []string{c.want}) {
			t.Errorf("%s: codes %v, want [%s]; %s", c.name, got.codes(), c.want, got.raw)
		}
	}
	if _, err := st.Users().GetByUsername(context.Background(), globex, "zed"); err == nil {
		t.Error("a refused chunk wrote a user")
	}
}

// importedNames lists the usernames of a page's nodes.
func importedNames(v any) []string {
	nodes, _ := v.([]any)
	out := []string{}
	for _, n := range nodes {
		s, _ := get(n, "username").(string)
		out = append(out, s)
	}
	return out
}

// TestUserFilterKeepsAnOrgAdminInsideItsReach lists with filters as a
// tenant administrator and as an organization administrator, whose
// filter may narrow its listing but never widen it.
func TestUserFilterKeepsAnOrgAdminInsideItsReach(t *testing.T) {
	r, st := newImportHarness(t)
	admin := r.admin
	d := r.must(t, admin, `mutation { createTenant(input: {name: "acme"}) { id } }`, nil)
	acme, _ := get(d, "createTenant", "id").(string)
	mkOrg := `mutation($t: ID!, $n: String!) { createOrganization(input: {tenantId: $t, name: $n}) { id } }`
	d = r.must(t, admin, mkOrg, map[string]any{"t": acme, "n": "east"})
	east, _ := get(d, "createOrganization", "id").(string)
	d = r.must(t, admin, mkOrg, map[string]any{"t": acme, "n": "west"})
	west, _ := get(d, "createOrganization", "id").(string)
	_, err := st.Tenants().Update(context.Background(), acme,
		func(tn store.Tenant) (store.Tenant, error) {
			tn.UserSchema = []store.AttributeDef{{Name: "level", Type: store.AttributeNumber}}
			return tn, nil
		})
	if err != nil {
		t.Fatal(err)
	}

	csv := strings.Join([]string{
		"username,orgId,status,attr.level",
		"e1," + east + ",ACTIVE,1",
		"e2," + east + ",LOCKED,2",
		"e3," + east + ",LOCKED,2.5",
		"w1," + west + ",LOCKED,2",
		"t1,,LOCKED,2",
	}, "\n")
	d = r.must(t, admin, importMutation, importVars(acme, "CSV", csv, ""))
	if get(d, "importUsers", "created") != 5.0 {
		t.Fatalf("import = %v", d)
	}
	d = r.must(t, admin, `mutation($t: ID, $o: [ID!]) { createApiToken(input: {tenantId: $t, name: "east ops", roles: ["org_admin"], orgs: $o}) { token } }`,
		map[string]any{"t": acme, "o": []string{east}})
	eastToken, _ := get(d, "createApiToken", "token").(string)

	list := `query($t: ID!, $o: ID, $f: UserFilter) { users(tenantId: $t, orgId: $o, first: 2, filter: $f) { nodes { username } pageInfo { hasNextPage endCursor } } }`
	// all pages a caller gets for a filter, as sorted usernames.
	all := func(token string, orgID any, f map[string]any) []string {
		t.Helper()
		var names []string
		var after any
		for range 20 {
			q := strings.Replace(list, "first: 2,", "first: 2, after: $a,", 1)
			q = strings.Replace(q, "$f: UserFilter)", "$f: UserFilter, $a: String)", 1)
			d := r.must(t, token, q, map[string]any{"t": acme, "o": orgID, "f": f, "a": after})
			names = append(names, importedNames(get(d, "users", "nodes"))...)
			if get(d, "users", "pageInfo", "hasNextPage") != true {
				slices.Sort(names)
				return names
			}
			after = get(d, "users", "pageInfo", "endCursor")
		}
		t.Fatal("paging did not end")
		return nil
	}

	cases := []struct {
		name   string
		token  string
		orgID  any
		filter map[string]any
		want   []string
	}{
		{"locked users of the tenant", admin, nil, map[string]any{"status": "LOCKED"},
			[]string{"e2", "e3", "t1", "w1"}},
		{"an attribute value", admin, nil, map[string]any{"attribute": "level", "value": "2"},
			[]string{"e2", "t1", "w1"}},
		{"a decimal value in shortest form", admin, nil,
			map[string]any{"attribute": "level", "value": "2.5"}, []string{"e3"}},
		{"status and organization", admin, nil, map[string]any{"status": "LOCKED", "orgId": west},
			[]string{"w1"}},
		{"an org admin's own organization", eastToken, east,
			map[string]any{"status": "LOCKED"}, []string{"e2", "e3"}},
		{"an org admin naming its organization in the filter", eastToken, nil,
			map[string]any{"orgId": east, "attribute": "level", "value": "2"}, []string{"e2"}},
	}
	for _, c := range cases {
		if got := all(c.token, c.orgID, c.filter); !slices.Equal(got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}

	refused := []struct {
		name   string
		orgID  any
		filter map[string]any
		want   string
	}{
		{"a filter without an organization", nil, map[string]any{"status": "LOCKED"},
			"PERMISSION_DENIED"},
		{"a filter naming another organization", nil, map[string]any{"orgId": west},
			"NOT_FOUND"},
		{"a filter's organization differing from orgId", east, map[string]any{"orgId": west},
			"INVALID_ARGUMENT"},
	}
	for _, c := range refused {
		got := r.hs.query(t, eastToken, list, map[string]any{"t": acme, "o": c.orgID, "f": c.filter})
		if !slices.Equal(got.codes(), []string{c.want}) {
			t.Errorf("%s: codes %v, want [%s]; %s", c.name, got.codes(), c.want, got.raw)
		}
	}
}
