package graphql

import (
	"context"
	"log/slog"
	"net/http"
	"path/filepath"
	"slices"
	"testing"

	"github.com/wardhq/ward/shared/apitokens"
	"github.com/wardhq/ward/shared/audit"
	"github.com/wardhq/ward/shared/cache/memory"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/groups"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/mfa"
	"github.com/wardhq/ward/shared/oauth"
	"github.com/wardhq/ward/shared/orgs"
	"github.com/wardhq/ward/shared/sessions"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/store/bolt"
	"github.com/wardhq/ward/shared/tenants"
	"github.com/wardhq/ward/shared/users"
)

// sessionWorld is the real harness with the sessions function, and a
// tenant "acme" with organizations parent > left, right, users ann (in
// left), bob (in right) and cid (tenant level), a tenant "globex", and
// administrator tokens of each.
type sessionWorld struct {
	*realHarness
	inv                              *invoke.Local
	acme, globex                     string
	left, right                      string
	ann, bob, cid                    string
	acmeAdmin, globexAdmin           string
	leftAdmin, rightAdmin, parentAdm string
}

func newSessionWorld(t *testing.T) *sessionWorld {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "ward.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	mc, err := memory.New(memory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mc.Close() })
	token, err := apitokens.Bootstrap(context.Background(), apitokens.Deps{Store: st}, "")
	if err != nil {
		t.Fatal(err)
	}
	inv := invoke.NewLocal(
		tenants.Function(tenants.Deps{Store: st}),
		orgs.Function(orgs.Deps{Store: st}),
		groups.Function(groups.Deps{Store: st}),
		apitokens.Function(apitokens.Deps{Store: st}),
		audit.Function(audit.Deps{Store: st}),
		sessions.Function(sessions.Deps{Store: st, Cache: mc}),
	)
	// The mfa function too, for mfa_test.go.
	inv.Register(mfa.Function(mfa.Deps{Store: st, Cache: mc, Key: make([]byte, 32),
		PublicURL: "https://id.example.com", Log: slog.New(slog.DiscardHandler)}))
	// And the oauth function, for oauth_test.go.
	inv.Register(oauth.Function(oauth.Deps{Store: st, Key: make([]byte, 32),
		PublicURL: "https://id.example.com", Log: slog.New(slog.DiscardHandler)}))
	inv.Register(users.Function(users.Deps{Store: st,
		Sessions: sessions.Revoker{Invoker: inv, Subject: users.FunctionName}}))
	logs := &syncBuffer{}
	w := &sessionWorld{inv: inv, realHarness: &realHarness{
		hs: &harness{h: New(inv, Options{TokenCacheTTL: -1, Logger: newTestLogger(logs)}),
			logs: logs},
		admin: token,
	}}

	id := func(d map[string]any, keys ...string) string {
		s, _ := get(d, keys...).(string)
		return s
	}
	w.acme = id(w.must(t, w.admin, `mutation { createTenant(input: {name: "acme"}) { id } }`,
		nil), "createTenant", "id")
	w.globex = id(w.must(t, w.admin, `mutation { createTenant(input: {name: "globex"}) { id } }`,
		nil), "createTenant", "id")
	org := func(name, parent string) string {
		vars := map[string]any{"t": w.acme, "n": name, "p": parent}
		q := `mutation($t: ID!, $n: String!, $p: ID) { createOrganization(input: {tenantId: $t, name: $n, parentId: $p}) { id } }`
		return id(w.must(t, w.admin, q, vars), "createOrganization", "id")
	}
	parent := org("parent", "")
	w.left, w.right = org("left", parent), org("right", parent)
	user := func(name, orgID string) string {
		in := map[string]any{"tenantId": w.acme, "username": name}
		if orgID != "" {
			in["orgId"] = orgID
		}
		return id(w.must(t, w.admin, `mutation($in: CreateUserInput!) { createUser(input: $in) { id } }`,
			map[string]any{"in": in}), "createUser", "id")
	}
	w.ann, w.bob, w.cid = user("ann", w.left), user("bob", w.right), user("cid", "")
	tok := func(tenant string, roles []string, orgs ...string) string {
		in := map[string]any{"tenantId": tenant, "name": "ops", "roles": roles}
		if len(orgs) > 0 {
			in["orgs"] = orgs
		}
		q := `mutation($in: CreateApiTokenInput!) { createApiToken(input: $in) { token } }`
		return id(w.must(t, w.admin, q, map[string]any{"in": in}), "createApiToken", "token")
	}
	w.acmeAdmin = tok(w.acme, []string{"tenant_admin"})
	w.globexAdmin = tok(w.globex, []string{"tenant_admin"})
	w.leftAdmin = tok(w.acme, []string{"org_admin"}, w.left)
	w.rightAdmin = tok(w.acme, []string{"org_admin"}, w.right)
	w.parentAdm = tok(w.acme, []string{"org_admin"}, parent)
	return w
}

// signIn creates a session for a user of acme as the sign-in flows do.
func (w *sessionWorld) signIn(t *testing.T, userID string) (token, id string) {
	t.Helper()
	out, err := invoke.Call[sessions.CreateOutput](context.Background(), w.inv,
		sessions.FunctionName, sessions.OpCreate,
		function.Caller{Subject: "authn", Roles: []string{function.RoleService}},
		sessions.CreateInput{TenantID: w.acme, UserID: userID, ACR: store.ACRPassword,
			AMR: []string{"pwd"}, UserAgent: "test-agent"})
	if err != nil {
		t.Fatal(err)
	}
	return string(out.Token), out.Session.ID
}

// works reports whether a token still authenticates to the facade.
func (w *sessionWorld) works(t *testing.T, token string) bool {
	t.Helper()
	got := w.hs.query(t, token, `{ viewer { subject } }`, nil)
	switch got.status {
	case http.StatusOK:
		return true
	case http.StatusUnauthorized:
		return false
	}
	t.Fatalf("status %d: %s", got.status, got.raw)
	return false
}

func nodeIDs(v any) []string {
	var out []string
	nodes, _ := v.([]any)
	for _, n := range nodes {
		if s, ok := get(n, "id").(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func TestSessionTokensAuthenticateToTheFacade(t *testing.T) {
	w := newSessionWorld(t)
	annTok, annID := w.signIn(t, w.ann)
	annTok2, annID2 := w.signIn(t, w.ann)

	d := w.must(t, annTok, `{ viewer { subject tenantId roles } currentSession { id current acr amr userAgent } mySessions { nodes { id current userId } pageInfo { hasNextPage } } }`, nil)
	if get(d, "viewer", "subject") != w.ann || get(d, "viewer", "tenantId") != w.acme ||
		!slices.Equal(toStrings(get(d, "viewer", "roles")), []string{"user"}) {
		t.Errorf("viewer = %v", get(d, "viewer"))
	}
	if get(d, "currentSession", "id") != annID || get(d, "currentSession", "current") != true ||
		get(d, "currentSession", "acr") != "1" || get(d, "currentSession", "userAgent") != "test-agent" {
		t.Errorf("currentSession = %v", get(d, "currentSession"))
	}
	if got := nodeIDs(get(d, "mySessions", "nodes")); !slices.Equal(got, []string{annID, annID2}) {
		t.Errorf("mySessions = %v", got)
	}

	// Revoking the others keeps this one; the other fails at once.
	d = w.must(t, annTok, `mutation { revokeMyOtherSessions }`, nil)
	if get(d, "revokeMyOtherSessions") != float64(1) {
		t.Errorf("revokeMyOtherSessions = %v", d)
	}
	if w.works(t, annTok2) {
		t.Error("a revoked session still authenticates")
	}
	if !w.works(t, annTok) {
		t.Fatal("the current session stopped working")
	}

	// An API token has no session: currentSession is null, and the "my"
	// fields are for users.
	d = w.must(t, w.acmeAdmin, `{ currentSession { id } }`, nil)
	if v, ok := d["currentSession"]; !ok || v != nil {
		t.Errorf("currentSession of an API token = %v", d)
	}
	got := w.hs.query(t, w.acmeAdmin, `{ mySessions { nodes { id } } }`, nil)
	if !slices.Equal(got.codes(), []string{"PERMISSION_DENIED"}) {
		t.Errorf("mySessions of an API token: %s", got.raw)
	}

	// Revoking one's own current session ends it too.
	d = w.must(t, annTok, `mutation($id: ID!) { revokeMySession(id: $id) }`,
		map[string]any{"id": annID})
	if get(d, "revokeMySession") != annID || w.works(t, annTok) {
		t.Errorf("revokeMySession = %v; the token works after it: %v", d, w.works(t, annTok))
	}

	for name, tok := range map[string]string{
		"an unknown session token": "wss_" + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"a malformed one":          "wss_short",
	} {
		if got := w.hs.query(t, tok, `{ viewer { subject } }`, nil); got.status != http.StatusUnauthorized ||
			got.header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: %d %s", name, got.status, got.raw)
		}
	}
}

func TestAdministratorsRevokeSessionsThroughTheFacade(t *testing.T) {
	w := newSessionWorld(t)
	bobTok, bobID := w.signIn(t, w.bob)
	annTok, _ := w.signIn(t, w.ann)
	annTok2, _ := w.signIn(t, w.ann)

	d := w.must(t, w.acmeAdmin, `query($t: ID!, $u: ID!) { userSessions(tenantId: $t, userId: $u) { nodes { id userId current } } }`,
		map[string]any{"t": w.acme, "u": w.bob})
	if got := nodeIDs(get(d, "userSessions", "nodes")); !slices.Equal(got, []string{bobID}) {
		t.Errorf("userSessions = %v", got)
	}
	d = w.must(t, w.rightAdmin, `mutation($t: ID!, $id: ID!) { revokeSession(tenantId: $t, id: $id) }`,
		map[string]any{"t": w.acme, "id": bobID})
	if get(d, "revokeSession") != bobID || w.works(t, bobTok) {
		t.Errorf("revokeSession = %v; bob's token works after it: %v", d, w.works(t, bobTok))
	}

	d = w.must(t, w.leftAdmin, `mutation($t: ID!, $u: ID!) { revokeUserSessions(tenantId: $t, userId: $u) }`,
		map[string]any{"t": w.acme, "u": w.ann})
	if get(d, "revokeUserSessions") != float64(2) || w.works(t, annTok) || w.works(t, annTok2) {
		t.Errorf("revokeUserSessions = %v", d)
	}
}

// TestSessionsAreOutOfReachAcrossTenantsAndOrganizations runs every
// session field against ann's sessions (ann is in organization left of
// acme) as an administrator of another tenant and as the administrator of
// the sibling organization right: each answers NOT_FOUND, and ann's
// sessions keep working.
func TestSessionsAreOutOfReachAcrossTenantsAndOrganizations(t *testing.T) {
	w := newSessionWorld(t)
	annTok, annID := w.signIn(t, w.ann)
	cidTok, cidID := w.signIn(t, w.cid)

	type attempt struct {
		name, query string
		vars        map[string]any
	}
	attempts := []attempt{
		{"userSessions", `query($t: ID!, $u: ID!) { userSessions(tenantId: $t, userId: $u) { nodes { id } } }`,
			map[string]any{"t": w.acme, "u": w.ann}},
		{"revokeSession", `mutation($t: ID!, $id: ID!) { revokeSession(tenantId: $t, id: $id) }`,
			map[string]any{"t": w.acme, "id": annID}},
		{"revokeUserSessions", `mutation($t: ID!, $u: ID!) { revokeUserSessions(tenantId: $t, userId: $u) }`,
			map[string]any{"t": w.acme, "u": w.ann}},
		{"revokeSession through the wrong tenant", `mutation($t: ID!, $id: ID!) { revokeSession(tenantId: $t, id: $id) }`,
			map[string]any{"t": w.globex, "id": annID}},
		{"userSessions through the wrong tenant", `query($t: ID!, $u: ID!) { userSessions(tenantId: $t, userId: $u) { nodes { id } } }`,
			map[string]any{"t": w.globex, "u": w.ann}},
	}
	for who, tok := range map[string]string{
		"an administrator of another tenant": w.globexAdmin,
		"the administrator of a sibling org": w.rightAdmin,
	} {
		for _, a := range attempts {
			got := w.hs.query(t, tok, a.query, a.vars)
			if !slices.Equal(got.codes(), []string{"NOT_FOUND"}) {
				t.Errorf("%s, %s: %s", who, a.name, got.raw)
			}
		}
		// revokeMySession acts in the viewer's own tenant and on the
		// viewer's own sessions only; an API token is not a user.
		got := w.hs.query(t, tok, `mutation($id: ID!) { revokeMySession(id: $id) }`,
			map[string]any{"id": annID})
		if len(got.Errors) != 1 {
			t.Errorf("%s, revokeMySession: %s", who, got.raw)
		}
	}
	// A tenant-level user is out of every organization administrator's
	// reach.
	got := w.hs.query(t, w.parentAdm, `mutation($t: ID!, $id: ID!) { revokeSession(tenantId: $t, id: $id) }`,
		map[string]any{"t": w.acme, "id": cidID})
	if !slices.Equal(got.codes(), []string{"NOT_FOUND"}) {
		t.Errorf("an org admin revoking a tenant-level user's session: %s", got.raw)
	}
	// Another user of the tenant, signed in, cannot end ann's session.
	bobTok, _ := w.signIn(t, w.bob)
	got = w.hs.query(t, bobTok, `mutation($id: ID!) { revokeMySession(id: $id) }`,
		map[string]any{"id": annID})
	if !slices.Equal(got.codes(), []string{"NOT_FOUND"}) {
		t.Errorf("bob revoking ann's session as his own: %s", got.raw)
	}
	got = w.hs.query(t, bobTok, `mutation($t: ID!, $id: ID!) { revokeSession(tenantId: $t, id: $id) }`,
		map[string]any{"t": w.acme, "id": annID})
	if !slices.Equal(got.codes(), []string{"NOT_FOUND"}) {
		t.Errorf("bob revoking ann's session: %s", got.raw)
	}

	if !w.works(t, annTok) || !w.works(t, cidTok) {
		t.Error("a refused attempt ended a session")
	}
	d := w.must(t, w.acmeAdmin, `query($t: ID!, $u: ID!) { userSessions(tenantId: $t, userId: $u) { nodes { id } } }`,
		map[string]any{"t": w.acme, "u": w.ann})
	if got := nodeIDs(get(d, "userSessions", "nodes")); !slices.Equal(got, []string{annID}) {
		t.Errorf("ann's sessions after the attempts: %v", got)
	}
}

// A user made other than ACTIVE through the facade is signed out at once.
func TestDisablingAUserEndsTheirSessions(t *testing.T) {
	w := newSessionWorld(t)
	annTok, _ := w.signIn(t, w.ann)
	if !w.works(t, annTok) {
		t.Fatal("the session does not work")
	}
	w.must(t, w.acmeAdmin, `mutation($t: ID!, $id: ID!) { updateUser(input: {tenantId: $t, id: $id, status: DISABLED}) { status } }`,
		map[string]any{"t": w.acme, "id": w.ann})
	if w.works(t, annTok) {
		t.Error("a DISABLED user's session still authenticates")
	}
}
