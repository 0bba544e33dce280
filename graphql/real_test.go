package graphql

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/wardhq/ward/shared/apitokens"
	"github.com/wardhq/ward/shared/audit"
	"github.com/wardhq/ward/shared/clients"
	"github.com/wardhq/ward/shared/groups"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/issuers"
	"github.com/wardhq/ward/shared/orgs"
	"github.com/wardhq/ward/shared/store/bolt"
	"github.com/wardhq/ward/shared/tenants"
	"github.com/wardhq/ward/shared/users"
)

// realHarness is the facade over Ward's own tenants, users, orgs and admin
// functions on a fresh bolt store, with the bootstrap system token.
type realHarness struct {
	hs    *harness
	admin string // the bootstrap system administrator's token
}

func newRealHarness(t testing.TB, opts Options) *realHarness {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "ward.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	token, err := apitokens.Bootstrap(context.Background(), apitokens.Deps{Store: st}, "")
	if err != nil || token == "" {
		t.Fatalf("bootstrap: %q, %v", token, err)
	}
	inv := invoke.NewLocal(
		tenants.Function(tenants.Deps{Store: st}),
		users.Function(users.Deps{Store: st}),
		orgs.Function(orgs.Deps{Store: st}),
		groups.Function(groups.Deps{Store: st}),
		apitokens.Function(apitokens.Deps{Store: st}),
		audit.Function(audit.Deps{Store: st}),
		clients.Function(clients.Deps{Store: st}),
		issuers.Function(issuers.Deps{Store: st}),
	)
	logs := &syncBuffer{}
	if opts.Logger == nil {
		opts.Logger = newTestLogger(logs)
	}
	return &realHarness{hs: &harness{h: New(inv, opts), logs: logs}, admin: token}
}

// must runs q and fails the test on any error; it returns data decoded
// into a generic value.
func (r *realHarness) must(t *testing.T, token, q string, vars map[string]any) map[string]any {
	t.Helper()
	got := r.hs.query(t, token, q, vars)
	if got.status != http.StatusOK || len(got.Errors) > 0 {
		t.Fatalf("%s\nstatus %d: %s", q, got.status, got.raw)
	}
	var data map[string]any
	if err := json.Unmarshal(got.Data, &data); err != nil {
		t.Fatal(err)
	}
	return data
}

// get walks a decoded value along keys.
func get(v any, keys ...string) any {
	for _, k := range keys {
		m, _ := v.(map[string]any)
		v = m[k]
	}
	return v
}

// TestWithWardFunctions runs the facade against the real operations and
// the bolt store: the operations' own authorization, validation and codes
// come through unchanged.
func TestWithWardFunctions(t *testing.T) {
	r := newRealHarness(t, Options{TokenCacheTTL: -1})
	admin := r.admin

	d := r.must(t, admin, `{ viewer { subject roles } }`, nil)
	if got := get(d, "viewer", "roles"); !slices.Equal(toStrings(got), []string{"system_admin"}) {
		t.Fatalf("bootstrap viewer roles = %v", got)
	}

	d = r.must(t, admin, `mutation { createTenant(input: {name: "acme", displayName: "Acme"}) { id name } }`, nil)
	acme, _ := get(d, "createTenant", "id").(string)
	d = r.must(t, admin, `mutation { createTenant(input: {name: "globex"}) { id } }`, nil)
	globex, _ := get(d, "createTenant", "id").(string)

	d = r.must(t, admin, `mutation($in: CreateUserInput!) { createUser(input: $in) { id username email status } }`,
		map[string]any{"in": map[string]any{"tenantId": acme, "username": "Ann", "email": "Ann@Acme.test"}})
	ann, _ := get(d, "createUser", "id").(string)
	if get(d, "createUser", "username") != "ann" || get(d, "createUser", "status") != "ACTIVE" {
		t.Errorf("created user = %v", d)
	}
	r.must(t, admin, `mutation($t: ID!) { createUser(input: {tenantId: $t, username: "bob"}) { id } }`,
		map[string]any{"t": acme})

	// A tenant administrator's token, made through the facade.
	d = r.must(t, admin, `mutation($t: ID) { createApiToken(input: {tenantId: $t, name: "ops", roles: ["tenant_admin"]}) { token apiToken { id tenantId } } }`,
		map[string]any{"t": acme})
	acmeToken, _ := get(d, "createApiToken", "token").(string)
	acmeTokenID, _ := get(d, "createApiToken", "apiToken", "id").(string)
	if !strings.HasPrefix(acmeToken, apitokens.Prefix) {
		t.Fatalf("token = %q", acmeToken)
	}

	d = r.must(t, acmeToken, `query($t: ID!) { viewer { tenantId } users(tenantId: $t, first: 1) { nodes { username tenant { name } } pageInfo { endCursor hasNextPage } } }`,
		map[string]any{"t": acme})
	if get(d, "viewer", "tenantId") != acme || get(d, "users", "pageInfo", "hasNextPage") != true {
		t.Errorf("tenant admin's page = %v", d)
	}
	cursor, _ := get(d, "users", "pageInfo", "endCursor").(string)
	d = r.must(t, acmeToken, `query($t: ID!, $c: String) { users(tenantId: $t, first: 1, after: $c) { nodes { username } pageInfo { hasNextPage } } }`,
		map[string]any{"t": acme, "c": cursor})
	if get(d, "users", "pageInfo", "hasNextPage") != false {
		t.Errorf("second page = %v", d)
	}

	codes := []struct {
		name  string
		token string
		query string
		vars  map[string]any
		want  string
	}{
		{"another tenant is not found for a tenant administrator", acmeToken,
			`query($t: ID!) { tenant(id: $t) { id } }`, map[string]any{"t": globex}, "NOT_FOUND"},
		{"a tenant administrator cannot list tenants", acmeToken,
			`{ tenants { nodes { id } } }`, nil, "PERMISSION_DENIED"},
		{"a taken username conflicts", admin,
			`mutation($t: ID!) { createUser(input: {tenantId: $t, username: "ann"}) { id } }`,
			map[string]any{"t": acme}, "CONFLICT"},
		{"a bad slug names its field", admin,
			`mutation { createTenant(input: {name: "No Good"}) { id } }`, nil, "INVALID_ARGUMENT"},
		{"a tenant with users is not deleted", admin,
			`mutation($t: ID!) { deleteTenant(id: $t) }`, map[string]any{"t": acme}, "CONFLICT"},
		{"a malformed cursor is refused", admin,
			`query($t: ID!) { users(tenantId: $t, after: "garbage") { nodes { id } } }`,
			map[string]any{"t": acme}, "INVALID_ARGUMENT"},
	}
	for _, c := range codes {
		got := r.hs.query(t, c.token, c.query, c.vars)
		if !slices.Equal(got.codes(), []string{c.want}) {
			t.Errorf("%s: codes %v, want [%s]; %s", c.name, got.codes(), c.want, got.raw)
		}
	}

	d = r.must(t, acmeToken, `mutation($t: ID!, $id: ID!) { updateUser(input: {tenantId: $t, id: $id, status: LOCKED, displayName: "Ann A."}) { status displayName email version } }`,
		map[string]any{"t": acme, "id": ann})
	if get(d, "updateUser", "status") != "LOCKED" || get(d, "updateUser", "email") != "ann@acme.test" {
		t.Errorf("updated user = %v", d)
	}

	// Deleting the token ends its use (the facade's cache is off here).
	r.must(t, admin, `mutation($t: ID, $id: ID!) { deleteApiToken(tenantId: $t, id: $id) }`,
		map[string]any{"t": acme, "id": acmeTokenID})
	got := r.hs.query(t, acmeToken, `{ viewer { subject } }`, nil)
	if got.status != http.StatusUnauthorized {
		t.Errorf("a deleted token answered %d: %s", got.status, got.raw)
	}

	r.must(t, admin, `mutation($t: ID!) { deleteTenant(id: $t) }`, map[string]any{"t": globex})
	got = r.hs.query(t, admin, `query($t: ID!) { tenant(id: $t) { id } }`, map[string]any{"t": globex})
	if string(got.Data) != `{"tenant":null}` || !slices.Equal(got.codes(), []string{"NOT_FOUND"}) {
		t.Errorf("a deleted tenant: %s", got.raw)
	}
}

func toStrings(v any) []string {
	list, _ := v.([]any)
	var out []string
	for _, x := range list {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

// BenchmarkUserQueryBolt is BenchmarkUserQuery against Ward's own
// functions on the bolt store.
func BenchmarkUserQueryBolt(b *testing.B) {
	r := newRealHarness(b, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	h := r.hs
	create := func(q string, vars map[string]any, keys ...string) string {
		got := h.query(b, r.admin, q, vars)
		var data map[string]any
		if err := json.Unmarshal(got.Data, &data); err != nil || len(got.Errors) > 0 {
			b.Fatalf("%s: %s", q, got.raw)
		}
		s, _ := get(data, keys...).(string)
		return s
	}
	tenant := create(`mutation { createTenant(input: {name: "acme"}) { id } }`, nil,
		"createTenant", "id")
	user := create(`mutation($t: ID!) { createUser(input: {tenantId: $t, username: "ann", email: "ann@acme.test"}) { id } }`,
		map[string]any{"t": tenant}, "createUser", "id")
	body := `{"query":"query($t: ID!, $id: ID!) { user(tenantId: $t, id: $id) { id username email displayName status createdAt } }","variables":{"t":"` +
		tenant + `","id":"` + user + `"}}`

	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+r.admin)
		rec := httptest.NewRecorder()
		h.h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"username":"ann"`) {
			b.Fatalf("status %d body %s", rec.Code, rec.Body)
		}
	}
}

// TestPasswordsWithWardFunctions runs the password mutations against the
// real users function: the policy's refusals and the operations' own
// authorization come through, and no password shows in a response or log.
func TestPasswordsWithWardFunctions(t *testing.T) {
	r := newRealHarness(t, Options{TokenCacheTTL: -1})
	const pw, next = "correct horse battery staple", "lunar tides hum over quiet harbours"

	d := r.must(t, r.admin, `mutation { createTenant(input: {name: "acme", displayName: "Acme"}) { id } }`, nil)
	acme, _ := get(d, "createTenant", "id").(string)
	d = r.must(t, r.admin, `mutation($in: CreateUserInput!) { createUser(input: $in) { id phone emailVerified phoneVerified } }`,
		map[string]any{"in": map[string]any{"tenantId": acme, "username": "ann",
			"phone": "+14155550100", "password": pw}})
	ann, _ := get(d, "createUser", "id").(string)
	if get(d, "createUser", "phone") != "+14155550100" ||
		get(d, "createUser", "emailVerified") != false {
		t.Errorf("created user = %v", d)
	}

	d = r.must(t, r.admin, `mutation($t: ID!, $id: ID!, $p: String!) { setUserPassword(tenantId: $t, id: $id, password: $p) }`,
		map[string]any{"t": acme, "id": ann, "p": next})
	if get(d, "setUserPassword") != true {
		t.Errorf("setUserPassword = %v", d)
	}

	codes := []struct {
		name  string
		query string
		vars  map[string]any
		code  string
		field string
	}{
		{"a short password is refused at create",
			`mutation($t: ID!) { createUser(input: {tenantId: $t, username: "bob", password: "short"}) { id } }`,
			map[string]any{"t": acme}, "INVALID_ARGUMENT", "password"},
		{"a phone that is not E.164 is refused",
			`mutation($t: ID!) { createUser(input: {tenantId: $t, username: "bob", phone: "555-0100"}) { id } }`,
			map[string]any{"t": acme}, "INVALID_ARGUMENT", "phone"},
		{"a password built from the username is refused",
			`mutation($t: ID!, $id: ID!) { setUserPassword(tenantId: $t, id: $id, password: "ann-ann-ann-ann-ann-ann") }`,
			map[string]any{"t": acme, "id": ann}, "INVALID_ARGUMENT", "password"},
		{"an API token has no password of its own",
			`mutation($c: String!, $n: String!) { changeMyPassword(currentPassword: $c, newPassword: $n) }`,
			map[string]any{"c": next, "n": pw}, "PERMISSION_DENIED", ""},
	}
	for _, c := range codes {
		got := r.hs.query(t, r.admin, c.query, c.vars)
		if len(got.Errors) != 1 || got.Errors[0].code() != c.code ||
			got.Errors[0].Extensions["field"] != nonNil(c.field) {
			t.Errorf("%s: %s", c.name, got.raw)
		}
		if strings.Contains(got.raw, pw) || strings.Contains(got.raw, next) {
			t.Errorf("%s: the response shows a password: %s", c.name, got.raw)
		}
	}
	if logs := r.hs.logs.String(); strings.Contains(logs, pw) || strings.Contains(logs, next) {
		t.Errorf("the log shows a password: %s", logs)
	}
}

// nonNil maps "" to nil, as an absent extensions field decodes.
func nonNil(s string) any {
	if s == "" {
		return nil
	}
	return s
}
