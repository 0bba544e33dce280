package graphql

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wardhq/ward/shared/account"
	"github.com/wardhq/ward/shared/apitokens"
	"github.com/wardhq/ward/shared/audit"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/messaging/outbox"
	"github.com/wardhq/ward/shared/orgs"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/store/bolt"
	"github.com/wardhq/ward/shared/tenants"
	"github.com/wardhq/ward/shared/users"
	"github.com/wardhq/ward/shared/validate"
)

// accountHarness is the facade over Ward's own functions, the account
// function among them, on a fresh bolt store with an open tenant "acme"
// and an outbox for messages.
type accountHarness struct {
	hs  *harness
	st  store.Store
	box *outbox.Outbox
	tn  store.Tenant
}

func newAccountHarness(t testing.TB) *accountHarness {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "ward.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	box, err := outbox.New(outbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	tn, err := st.Tenants().Create(context.Background(), store.Tenant{ID: validate.NewID(),
		Name: "acme", DisplayName: "Acme", Registration: store.RegistrationOpen,
		CreatedAt: now, UpdatedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	inv := invoke.NewLocal(
		tenants.Function(tenants.Deps{Store: st}),
		users.Function(users.Deps{Store: st}),
		orgs.Function(orgs.Deps{Store: st}),
		apitokens.Function(apitokens.Deps{Store: st}),
		audit.Function(audit.Deps{Store: st}),
		account.Function(account.Deps{Store: st, Email: box, Phone: box,
			PublicURL: "https://id.example.com"}),
	)
	// The facade's token cache is off, so that a revoked token fails at
	// once; with it, a revoked token keeps working for up to its TTL.
	logs := &syncBuffer{}
	return &accountHarness{hs: &harness{h: New(inv, Options{Logger: newTestLogger(logs),
		TokenCacheTTL: -1}),
		logs: logs}, st: st, box: box, tn: tn}
}

// tokenFor stores an API token for a user and returns its secret.
func (a *accountHarness) tokenFor(t *testing.T, u store.User) string {
	t.Helper()
	secret := apitokens.NewSecret()
	_, err := a.st.APITokens().Create(context.Background(), store.APIToken{
		ID: validate.NewID(), Hash: apitokens.Hash(secret), Name: "test", Subject: u.ID,
		TenantID: u.TenantID, Roles: []string{function.RoleUser}, CreatedAt: time.Now().UTC()})
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

func (a *accountHarness) lastEmailText(t *testing.T, to string) string {
	t.Helper()
	for _, r := range a.box.List(a.tn.ID) {
		if r.Email != nil && r.Email.To[0] == to {
			return r.Email.Text
		}
	}
	t.Fatalf("no email to %s", to)
	return ""
}

func TestAnonymousAccessIsForPublicFieldsOnly(t *testing.T) {
	a := newAccountHarness(t)
	reset := `requestPasswordReset(tenant: "acme", email: "nobody@example.com")`
	tests := []struct {
		name       string
		query      string
		wantStatus int
	}{
		{"one public mutation", "mutation { " + reset + " }", 200},
		{"two public mutations, one aliased", "mutation { a: " + reset + " b: " + reset + " }",
			200},
		{"a public mutation beside a private one", "mutation { " + reset +
			` deleteUser(tenantId: "x", id: "y") }`, 401},
		{"a public mutation beside __typename", "mutation { " + reset + " __typename }", 401},
		{"a query", "{ viewer { subject } }", 401},
		{"myData", "{ myData }", 401},
		{"a public field through a fragment", "mutation { ...F } fragment F on Mutation { " +
			reset + " }", 401},
		{"a document that does not parse", "mutation { " + reset, 401},
		{"a private mutation", `mutation { deleteMyAccount(currentPassword: "x") }`, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := a.hs.query(t, "", tt.query, nil)
			if got.status != tt.wantStatus {
				t.Fatalf("status = %d, want %d: %s", got.status, tt.wantStatus, got.raw)
			}
			if tt.wantStatus == 401 {
				if c := got.header.Get("WWW-Authenticate"); c != `Bearer realm="ward"` {
					t.Errorf("challenge = %q", c)
				}
				if got.Data != nil {
					t.Errorf("a refused request has data: %s", got.raw)
				}
				return
			}
			if len(got.Errors) > 0 || !strings.Contains(string(got.Data), "true") {
				t.Errorf("body = %s", got.raw)
			}
		})
	}
	t.Run("an empty Authorization header is not anonymous", func(t *testing.T) {
		got := a.hs.post(t, "", `{"query":"mutation { `+strings.ReplaceAll(reset, `"`, `\"`)+
			` }"}`, "Authorization", "")
		if got.status != http.StatusUnauthorized {
			t.Errorf("status = %d: %s", got.status, got.raw)
		}
	})
}

var codeInText = regexp.MustCompile(`asked for it: (\d{6})`)

func TestSelfServiceThroughGraphQL(t *testing.T) {
	a := newAccountHarness(t)
	must := func(token, q string, vars map[string]any) map[string]any {
		t.Helper()
		got := a.hs.query(t, token, q, vars)
		if got.status != http.StatusOK || len(got.Errors) > 0 {
			t.Fatalf("%s\nstatus %d: %s", q, got.status, got.raw)
		}
		var data map[string]any
		json.Unmarshal(got.Data, &data)
		return data
	}

	reg := `mutation($in: RegisterInput!) { register(input: $in) { verificationId userId } }`
	data := must("", reg, map[string]any{"in": map[string]any{"tenant": "acme",
		"email": "ann@example.com", "password": "violet-harbour-engine-42"}})
	vid, _ := get(data, "register", "verificationId").(string)
	if vid == "" || get(data, "register", "userId") != nil {
		t.Fatalf("register = %v", data)
	}
	// A second registration of the address looks the same.
	data = must("", reg, map[string]any{"in": map[string]any{"tenant": "acme",
		"email": "ann@example.com", "password": "violet-harbour-engine-42"}})
	if d, _ := get(data, "register", "verificationId").(string); d == "" || d == vid {
		t.Fatalf("second register = %v", data)
	}

	text := a.lastEmailText(t, "ann@example.com")
	if strings.Contains(text, "already has one") {
		// The notice is the newest; the verification came before it.
		msgs := a.box.List(a.tn.ID)
		text = msgs[len(msgs)-1].Email.Text
	}
	code := codeInText.FindStringSubmatch(text)
	if code == nil {
		t.Fatalf("no code in %q", text)
	}
	data = must("", `mutation($in: VerifyEmailInput!) { verifyEmail(input: $in) }`,
		map[string]any{"in": map[string]any{"tenant": "acme", "verificationId": vid,
			"code": code[1]}})
	if get(data, "verifyEmail") != true {
		t.Fatalf("verifyEmail = %v", data)
	}
	replay := a.hs.query(t, "", `mutation($in: VerifyEmailInput!) { verifyEmail(input: $in) }`,
		map[string]any{"in": map[string]any{"tenant": "acme", "verificationId": vid,
			"code": code[1]}})
	if !slices.Equal(replay.codes(), []string{"CONFLICT"}) {
		t.Errorf("replay codes = %v: %s", replay.codes(), replay.raw)
	}

	u, err := a.st.Users().GetByEmail(context.Background(), a.tn.ID, "ann@example.com")
	if err != nil || u.Status != store.UserActive {
		t.Fatalf("user = %+v, %v", u, err)
	}
	tok := a.tokenFor(t, u)
	data = must(tok, `mutation { updateMyProfile(input: {displayName: "Ann",
		preferences: {theme: "dark"}}) { user { displayName } } }`, nil)
	if get(data, "updateMyProfile", "user", "displayName") != "Ann" {
		t.Errorf("updateMyProfile = %v", data)
	}
	data = must(tok, `{ myData }`, nil)
	var export account.ExportOutput
	if err := json.Unmarshal([]byte(get(data, "myData").(string)), &export); err != nil {
		t.Fatal(err)
	}
	if export.User.ID != u.ID || export.User.Preferences["theme"] != "dark" ||
		len(export.APITokens) != 1 {
		t.Errorf("export = %+v", export)
	}

	wrong := a.hs.query(t, tok, `mutation { deleteMyAccount(currentPassword: "nope-nope") }`, nil)
	if !slices.Equal(wrong.codes(), []string{"UNAUTHENTICATED"}) {
		t.Errorf("codes = %v", wrong.codes())
	}
	data = must(tok, `mutation { deleteMyAccount(currentPassword: "violet-harbour-engine-42") }`,
		nil)
	if get(data, "deleteMyAccount") != u.ID {
		t.Errorf("deleteMyAccount = %v", data)
	}
	// The token died with the account.
	if got := a.hs.query(t, tok, `{ viewer { subject } }`, nil); got.status != 401 {
		t.Errorf("the deleted user's token still works: %d", got.status)
	}
}
