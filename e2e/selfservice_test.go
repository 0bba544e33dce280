package e2e

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// outboxEmail is the part of a development outbox record these tests read.
type outboxEmail struct {
	Kind  string
	Email *struct {
		To      []string
		Subject string
		Text    string
	}
}

// outbox lists what the local process would have sent for a tenant.
func (w *ward) outbox(tenantID string) []outboxEmail {
	w.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, w.base+"/_ward/outbox?tenant="+tenantID, nil)
	req.Header.Set("Authorization", "Bearer "+w.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		w.t.Fatalf("outbox: %s", resp.Status)
	}
	var recs []outboxEmail
	if err := json.NewDecoder(resp.Body).Decode(&recs); err != nil {
		w.t.Fatal(err)
	}
	return recs
}

var linkToken = regexp.MustCompile(`[?&]token=([A-Za-z0-9._~%-]+)`)

// lastLink finds the newest email of kind to address and returns the token
// of its link.
func (w *ward) lastLink(tenantID, kind, to string) string {
	w.t.Helper()
	for _, r := range w.outbox(tenantID) { // newest first
		if r.Kind != kind || r.Email == nil || len(r.Email.To) != 1 || r.Email.To[0] != to {
			continue
		}
		m := linkToken.FindStringSubmatch(r.Email.Text)
		if m == nil {
			w.t.Fatalf("%s email without a link: %s", kind, r.Email.Text)
		}
		return m[1]
	}
	w.t.Fatalf("no %s email to %s in the outbox", kind, to)
	return ""
}

// TestSelfServiceEndToEnd registers an account anonymously through the
// facade, verifies its email with the link from the outbox, uses it with a
// personal token, resets its password with another emailed link, and
// checks that the reset revoked the token.
func TestSelfServiceEndToEnd(t *testing.T) {
	w := startWithToken(t)
	tn := w.createTenant("shop")
	var upd tenant
	w.must(`mutation($id: ID!) { updateTenant(input: {id: $id, registration: OPEN}) { id } }`,
		map[string]any{"id": tn.ID}, "updateTenant", &upd)

	const email = "new.customer@example.com"
	register := `mutation($in: RegisterInput!) { register(input: $in) { verificationId } }`
	in := map[string]any{"tenant": "shop", "email": email,
		"password": "a long enough passphrase for the shop"}
	r := w.gql("", register, map[string]any{"in": in})
	if r.Status != http.StatusOK || len(r.Errors) > 0 {
		t.Fatalf("anonymous register: %d %+v", r.Status, r.Errors)
	}
	// Registering the same address again answers alike, creates nothing,
	// and tells the owner instead.
	again := w.gql("", register, map[string]any{"in": in})
	if len(again.Errors) > 0 || len(again.Data["register"]) != len(r.Data["register"]) {
		t.Errorf("second register: %+v %s vs %s", again.Errors, again.Data["register"], r.Data["register"])
	}
	users := w.listUsers(tn.ID)
	if len(users) != 1 || users[0].Status != "PENDING" {
		t.Fatalf("after registering: %+v", users)
	}
	// Anonymous callers reach the public operations only.
	if got := w.gql("", `{ tenants { nodes { id } } }`, nil); got.Status != http.StatusUnauthorized {
		t.Errorf("anonymous query: %d", got.Status)
	}

	verify := `mutation($t: String!, $tok: String) { verifyEmail(input: {tenant: $t, token: $tok}) }`
	tok := w.lastLink(tn.ID, "verify-email", email)
	if got := w.gql("", verify, map[string]any{"t": "shop", "tok": tok}); len(got.Errors) > 0 {
		t.Fatalf("verifyEmail: %+v", got.Errors)
	}
	if got := w.gql("", verify, map[string]any{"t": "shop", "tok": tok}); got.code() != "CONFLICT" {
		t.Errorf("replayed link: %+v", got.Errors)
	}
	users = w.listUsers(tn.ID)
	if users[0].Status != "ACTIVE" {
		t.Fatalf("after verifying: %+v", users[0])
	}

	// A personal token lets the user manage their own profile.
	var pt struct{ Token string }
	w.must(`mutation($t: ID, $u: ID) { createApiToken(input: {tenantId: $t, userId: $u, name: "app", roles: ["user"], ttlSeconds: 600}) { token } }`,
		map[string]any{"t": tn.ID, "u": users[0].ID}, "createApiToken", &pt)
	got := w.gql(pt.Token, `mutation { updateMyProfile(input: {displayName: "New Customer"}) { user { displayName } } }`, nil)
	if len(got.Errors) > 0 || !strings.Contains(string(got.Data["updateMyProfile"]), "New Customer") {
		t.Fatalf("updateMyProfile: %+v %s", got.Errors, got.Data["updateMyProfile"])
	}
	got = w.gql(pt.Token, `{ myData }`, nil)
	if len(got.Errors) > 0 || !strings.Contains(string(got.Data["myData"]), email) {
		t.Fatalf("myData: %+v %s", got.Errors, got.Data["myData"])
	}

	// Recovery: the answer is the same for an unknown address.
	reset := `mutation($e: String!) { requestPasswordReset(tenant: "shop", email: $e) }`
	for _, e := range []string{email, "nobody@example.com"} {
		if got := w.gql("", reset, map[string]any{"e": e}); len(got.Errors) > 0 ||
			string(got.Data["requestPasswordReset"]) != "true" {
			t.Errorf("requestPasswordReset(%s): %+v %s", e, got.Errors, got.Data["requestPasswordReset"])
		}
	}
	tok = w.lastLink(tn.ID, "reset-password", email)
	got = w.gql("", `mutation($tok: String!) { resetPassword(input: {tenant: "shop", token: $tok, newPassword: "another long passphrase for the shop"}) }`,
		map[string]any{"tok": tok})
	if len(got.Errors) > 0 {
		t.Fatalf("resetPassword: %+v", got.Errors)
	}
	// The reset revoked the personal token; the admin function may have
	// verified it within the last few seconds and still remember it.
	deadline := time.Now().Add(10 * time.Second)
	for {
		got = w.gql(pt.Token, `{ myData }`, nil)
		if got.Status == http.StatusUnauthorized {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the personal token still works after a password reset: %d", got.Status)
		}
		time.Sleep(250 * time.Millisecond)
	}
}
