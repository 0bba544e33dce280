package graphql

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/wardhq/ward/shared/function"
)

// TestSchemaRoundTrips runs each request against a fresh set of fake
// functions and compares data and error codes.
func TestSchemaRoundTrips(t *testing.T) {
	tests := []struct {
		name      string
		token     string
		query     string // {A}, {B}, {A1}, {A2}, {N1} stand for IDs (see expand)
		vars      map[string]any
		wantData  string
		wantCodes []string
	}{
		{
			name:     "a tenant reads with its fields in request order and dates in RFC 3339",
			token:    tokAdmin,
			query:    `{ tenant(id: "{A}") { version name id displayName createdAt updatedAt } }`,
			wantData: `{"tenant":{"version":1,"name":"acme","id":"{A}","displayName":"Acme","createdAt":"2026-03-01T12:00:00Z","updatedAt":"2026-03-01T12:00:00Z"}}`,
		},
		{
			name:      "a missing tenant is null with NOT_FOUND",
			token:     tokAdmin,
			query:     `{ tenant(id: "{N2}") { id } }`,
			wantData:  `{"tenant":null}`,
			wantCodes: []string{"NOT_FOUND"},
		},
		{
			name:     "tenants page through with first and after",
			token:    tokAdmin,
			query:    `{ p1: tenants(first: 1) { nodes { id } pageInfo { endCursor hasNextPage } } p2: tenants(first: 1, after: "{A}") { nodes { id } pageInfo { endCursor hasNextPage } } }`,
			wantData: `{"p1":{"nodes":[{"id":"{A}"}],"pageInfo":{"endCursor":"{A}","hasNextPage":true}},"p2":{"nodes":[{"id":"{B}"}],"pageInfo":{"endCursor":null,"hasNextPage":false}}}`,
		},
		{
			name:     "a user reads with its status, null email and tenant",
			token:    tokTenantA,
			query:    `query($t: ID!, $id: ID!) { user(tenantId: $t, id: $id) { id tenantId username email displayName status tenant { name } } }`,
			vars:     map[string]any{"t": tenantA, "id": userA2},
			wantData: `{"user":{"id":"{A2}","tenantId":"{A}","username":"art","email":null,"displayName":"Art","status":"LOCKED","tenant":{"name":"acme"}}}`,
		},
		{
			name:     "a user reads with phone and verified flags, null when unset",
			token:    tokAdmin,
			query:    `{ a1: user(tenantId: "{A}", id: "{A1}") { phone emailVerified phoneVerified } a2: user(tenantId: "{A}", id: "{A2}") { phone emailVerified phoneVerified } }`,
			wantData: `{"a1":{"phone":"+14155550100","emailVerified":true,"phoneVerified":false},"a2":{"phone":null,"emailVerified":false,"phoneVerified":false}}`,
		},
		{
			name:      "a missing user is null with NOT_FOUND",
			token:     tokAdmin,
			query:     `{ user(tenantId: "{A}", id: "{N2}") { id } }`,
			wantData:  `{"user":null}`,
			wantCodes: []string{"NOT_FOUND"},
		},
		{
			name:      "an ID that is no UUID is refused by the operation with its field",
			token:     tokAdmin,
			query:     `{ user(tenantId: "{A}", id: "nope") { id } }`,
			wantData:  `{"user":null}`,
			wantCodes: []string{"INVALID_ARGUMENT"},
		},
		{
			name:     "users of a tenant list in ID order",
			token:    tokTenantA,
			query:    `{ users(tenantId: "{A}") { nodes { username email } pageInfo { hasNextPage } } }`,
			wantData: `{"users":{"nodes":[{"username":"ann","email":"ann@acme.test"},{"username":"art","email":null}],"pageInfo":{"hasNextPage":false}}}`,
		},
		{
			name:     "a tenant lists its users",
			token:    tokAdmin,
			query:    `{ tenant(id: "{A}") { users(first: 1) { nodes { id } pageInfo { endCursor } } } }`,
			wantData: `{"tenant":{"users":{"nodes":[{"id":"{A1}"}],"pageInfo":{"endCursor":"{A1}"}}}}`,
		},
		{
			name:     "the viewer is the token's caller",
			token:    tokTenantA,
			query:    `{ viewer { subject tenantId roles tenant { id } } }`,
			wantData: `{"viewer":{"subject":"alice","tenantId":"{A}","roles":["tenant_admin"],"tenant":{"id":"{A}"}}}`,
		},
		{
			name:     "a system viewer has no tenant",
			token:    tokAdmin,
			query:    `{ viewer { subject tenantId tenant { id } } }`,
			wantData: `{"viewer":{"subject":"admin","tenantId":null,"tenant":null}}`,
		},
		{
			name:     "fragments and aliases keep the request's order",
			token:    tokAdmin,
			query:    `query { ...Q v: viewer { ... on Viewer { roles } subject } } fragment Q on Query { t: tenant(id: "{B}") { ...T name } } fragment T on Tenant { displayName id }`,
			wantData: `{"t":{"displayName":"Globex","id":"{B}","name":"globex"},"v":{"roles":["system_admin"],"subject":"admin"}}`,
		},
		{
			name:     "createTenant returns the new tenant",
			token:    tokAdmin,
			query:    `mutation($in: CreateTenantInput!) { createTenant(input: $in) { id name displayName } }`,
			vars:     map[string]any{"in": map[string]any{"name": "initech", "displayName": "Initech"}},
			wantData: `{"createTenant":{"id":"{N1}","name":"initech","displayName":"Initech"}}`,
		},
		{
			name:      "a failed non-null mutation nulls data and keeps the code",
			token:     tokAdmin,
			query:     `mutation { createTenant(input: {name: "acme"}) { id } }`,
			wantData:  `null`,
			wantCodes: []string{"CONFLICT"},
		},
		{
			name:     "updateTenant changes what is set and later fields see the new value",
			token:    tokAdmin,
			query:    `mutation { updateTenant(input: {id: "{A}", displayName: "ACME"}) { displayName version } createUser(input: {tenantId: "{A}", username: "amy"}) { status tenant { displayName } } }`,
			wantData: `{"updateTenant":{"displayName":"ACME","version":2},"createUser":{"status":"ACTIVE","tenant":{"displayName":"ACME"}}}`,
		},
		{
			name:     "createUser takes every field",
			token:    tokTenantA,
			query:    `mutation { createUser(input: {tenantId: "{A}", username: "al", email: "al@acme.test", displayName: "Al", status: PENDING}) { id username email displayName status version } }`,
			wantData: `{"createUser":{"id":"{N1}","username":"al","email":"al@acme.test","displayName":"Al","status":"PENDING","version":1}}`,
		},
		{
			name:     "createUser takes a phone and a password and shows no password",
			token:    tokTenantA,
			query:    `mutation($in: CreateUserInput!) { createUser(input: $in) { id phone phoneVerified } }`,
			vars:     map[string]any{"in": map[string]any{"tenantId": tenantA, "username": "al", "phone": "+442071838750", "password": "a long enough passphrase"}},
			wantData: `{"createUser":{"id":"{N1}","phone":"+442071838750","phoneVerified":false}}`,
		},
		{
			name:     "setUserPassword answers true",
			token:    tokTenantA,
			query:    `mutation($p: String!) { setUserPassword(tenantId: "{A}", id: "{A2}", password: $p) }`,
			vars:     map[string]any{"p": "a long enough passphrase"},
			wantData: `{"setUserPassword":true}`,
		},
		{
			name:      "setUserPassword by a plain user is refused and nulls data",
			token:     tokUser,
			query:     `mutation { setUserPassword(tenantId: "{A}", id: "{A2}", password: "a long enough passphrase") }`,
			wantData:  `null`,
			wantCodes: []string{"PERMISSION_DENIED"},
		},
		{
			name:      "setUserPassword passes on the policy's refusal",
			token:     tokAdmin,
			query:     `mutation { setUserPassword(tenantId: "{A}", id: "{A2}", password: "short") }`,
			wantData:  `null`,
			wantCodes: []string{"INVALID_ARGUMENT"},
		},
		{
			name:      "changeMyPassword with a wrong current password is UNAUTHENTICATED",
			token:     tokAnn,
			query:     `mutation { changeMyPassword(currentPassword: "not it at all, no", newPassword: "a long enough passphrase") }`,
			wantData:  `null`,
			wantCodes: []string{"UNAUTHENTICATED"},
		},
		{
			name:      "changeMyPassword of a viewer who is no tenant's user is refused",
			token:     tokAdmin,
			query:     `mutation { changeMyPassword(currentPassword: "whatever it was", newPassword: "a long enough passphrase") }`,
			wantData:  `null`,
			wantCodes: []string{"PERMISSION_DENIED"},
		},
		{
			name:      "changeMyPassword of a viewer whose subject is no user ID is refused",
			token:     tokUser,
			query:     `mutation { changeMyPassword(currentPassword: "whatever it was", newPassword: "a long enough passphrase") }`,
			wantData:  `null`,
			wantCodes: []string{"PERMISSION_DENIED"},
		},
		{
			name:  "updateUser leaves absent and null fields alone",
			token: tokTenantA,
			query: `mutation($in: UpdateUserInput!) { updateUser(input: $in) { username email displayName status version } }`,
			vars: map[string]any{"in": map[string]any{"tenantId": tenantA, "id": userA1,
				"displayName": "Annie", "email": nil, "status": "DISABLED"}},
			wantData: `{"updateUser":{"username":"ann","email":"ann@acme.test","displayName":"Annie","status":"DISABLED","version":2}}`,
		},
		{
			name:     "deleteUser returns the ID",
			token:    tokTenantA,
			query:    `mutation { deleteUser(tenantId: "{A}", id: "{A2}") }`,
			wantData: `{"deleteUser":"{A2}"}`,
		},
		{
			name:     "deleteTenant returns the ID",
			token:    tokAdmin,
			query:    `mutation { deleteTenant(id: "{B}") }`,
			wantData: `{"deleteTenant":"{B}"}`,
		},
		{
			name:     "createApiToken shows the secret once",
			token:    tokAdmin,
			query:    `mutation { createApiToken(input: {tenantId: "{B}", name: "ci", roles: ["tenant_admin"], ttlSeconds: 60}) { token apiToken { id name subject tenantId roles createdAt expiresAt } } }`,
			wantData: `{"createApiToken":{"token":"secret-{N1}","apiToken":{"id":"{N1}","name":"ci","subject":"apitoken:{N1}","tenantId":"{B}","roles":["tenant_admin"],"createdAt":"2026-03-01T12:00:00Z","expiresAt":"2026-03-01T12:01:00Z"}}}`,
		},
		{
			name:      "a tenant administrator cannot read another tenant",
			token:     tokTenantA,
			query:     `{ tenant(id: "{B}") { id } }`,
			wantData:  `{"tenant":null}`,
			wantCodes: []string{"PERMISSION_DENIED"},
		},
		{
			name:      "a failing field leaves its siblings",
			token:     tokTenantA,
			query:     `{ a: tenant(id: "{A}") { id } b: tenant(id: "{B}") { id } }`,
			wantData:  `{"a":{"id":"{A}"},"b":null}`,
			wantCodes: []string{"PERMISSION_DENIED"},
		},
		{
			name:     "introspection lists UserStatus in declared order",
			token:    tokUser,
			query:    `{ __type(name: "UserStatus") { enumValues { name } } }`,
			wantData: `{"__type":{"enumValues":[{"name":"ACTIVE"},{"name":"LOCKED"},{"name":"DISABLED"},{"name":"PENDING"}]}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hs := newHarness(t, Options{})
			got := hs.query(t, tt.token, expand(tt.query), tt.vars)
			if got.status != http.StatusOK {
				t.Fatalf("status = %d, want 200; body %s", got.status, got.raw)
			}
			if g, w := string(got.Data), expand(tt.wantData); g != w {
				t.Errorf("data:\n got %s\nwant %s", g, w)
			}
			if g := got.codes(); !slices.Equal(g, tt.wantCodes) {
				t.Errorf("error codes = %v, want %v; body %s", g, tt.wantCodes, got.raw)
			}
		})
	}
}

func TestListedTokensNeverShowSecrets(t *testing.T) {
	hs := newHarness(t, Options{})
	created := hs.query(t, tokAdmin,
		`mutation { createApiToken(input: {name: "ops", roles: ["system_admin"]}) { token } }`, nil)
	if len(created.Errors) > 0 {
		t.Fatalf("create: %s", created.raw)
	}
	got := hs.query(t, tokAdmin, `{ apiTokens { nodes { id name tenantId expiresAt } } }`, nil)
	want := expand(`{"apiTokens":{"nodes":[{"id":"{N1}","name":"ops","tenantId":null,"expiresAt":null}]}}`)
	if g := string(got.Data); g != want {
		t.Errorf("data:\n got %s\nwant %s", g, want)
	}
	if strings.Contains(got.raw, "secret-") {
		t.Errorf("a listing shows a secret: %s", got.raw)
	}

	del := hs.query(t, tokAdmin, expand(`mutation { deleteApiToken(id: "{N1}") }`), nil)
	if g, w := string(del.Data), expand(`{"deleteApiToken":"{N1}"}`); g != w {
		t.Errorf("delete: got %s, want %s", g, w)
	}
}

// TestOneTenantReadPerRequest checks the per-request memo: a page of users
// asking for their tenant reads it once.
func TestOneTenantReadPerRequest(t *testing.T) {
	hs := newHarness(t, Options{})
	got := hs.query(t, tokAdmin,
		expand(`{ users(tenantId: "{A}") { nodes { tenant { name } } } t: tenant(id: "{A}") { id } }`),
		nil)
	if len(got.Errors) > 0 {
		t.Fatalf("errors: %s", got.raw)
	}
	n := 0
	for _, c := range hs.env.recorded() {
		if c.op == "tenants.get" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("tenants.get ran %d times, want 1", n)
	}
}

// TestOpsSeeTheVerifiedCaller checks that every operation runs as the
// token's caller, whatever the request says about itself, and that only
// verification runs as the facade's service identity.
func TestOpsSeeTheVerifiedCaller(t *testing.T) {
	hs := newHarness(t, Options{})
	q := `query($t: ID!) { viewer { subject } users(tenantId: $t) { nodes { tenant { id } } } }`
	body := `{"query": ` + quoteJSON(q) + `, "variables": {"t": "` + tenantA + `"},
		"extensions": {"caller": {"sub": "admin", "roles": ["system_admin"]}}}`
	got := hs.post(t, tokTenantA, body, "X-Ward-Caller", "admin", "X-Forwarded-User", "admin")
	if len(got.Errors) > 0 {
		t.Fatalf("errors: %s", got.raw)
	}
	want := function.Caller{Subject: "alice", Tenant: tenantA, Roles: []string{function.RoleTenantAdmin}}
	calls := hs.env.recorded()
	if len(calls) < 3 {
		t.Fatalf("recorded %d calls, want verify and at least two ops", len(calls))
	}
	for i, c := range calls {
		if c.op == "apitokens.verify" {
			if i != 0 || !c.caller.Has(function.RoleService) || c.caller.Subject != "graphql" {
				t.Errorf("verify call %d ran as %+v", i, c.caller)
			}
			continue
		}
		if c.caller.Subject != want.Subject || c.caller.Tenant != want.Tenant ||
			!slices.Equal(c.caller.Roles, want.Roles) {
			t.Errorf("%s ran as %+v, want %+v", c.op, c.caller, want)
		}
	}
}

func quoteJSON(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestPasswordMutationsReachTheirOperations checks what the password
// mutations hand the operations: the password itself, the viewer's own
// tenant and ID for changeMyPassword, and nothing of it in the logs.
func TestPasswordMutationsReachTheirOperations(t *testing.T) {
	hs := newHarness(t, Options{})
	const first, second, third = "first of the passphrases", "second of the passphrases",
		"third of the passphrases"

	got := hs.query(t, tokTenantA, `mutation($in: CreateUserInput!) { createUser(input: $in) { id } }`,
		map[string]any{"in": map[string]any{"tenantId": tenantA, "username": "al",
			"password": first}})
	if len(got.Errors) > 0 {
		t.Fatalf("createUser: %s", got.raw)
	}
	if pw := hs.env.password(newID(1)); pw != first {
		t.Errorf("created user's password = %q, want %q", pw, first)
	}

	got = hs.query(t, tokAdmin, `mutation($t: ID!, $id: ID!, $p: String!) { setUserPassword(tenantId: $t, id: $id, password: $p) }`,
		map[string]any{"t": tenantA, "id": userA1, "p": second})
	if string(got.Data) != `{"setUserPassword":true}` || hs.env.password(userA1) != second {
		t.Fatalf("setUserPassword: %s; password now %q", got.raw, hs.env.password(userA1))
	}

	got = hs.query(t, tokAnn, `mutation($c: String!, $n: String!) { changeMyPassword(currentPassword: $c, newPassword: $n) }`,
		map[string]any{"c": second, "n": third})
	if string(got.Data) != `{"changeMyPassword":true}` || hs.env.password(userA1) != third {
		t.Fatalf("changeMyPassword: %s; password now %q", got.raw, hs.env.password(userA1))
	}

	for _, pw := range []string{first, second, third} {
		if strings.Contains(hs.logs.String(), pw) {
			t.Errorf("the log shows a password: %s", hs.logs.String())
		}
	}
}
