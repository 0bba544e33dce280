package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"testing"
)

// flowAnswer is what the flow API answers, as far as these tests read it.
type flowAnswer struct {
	FlowID string `json:"flowId"`
	CSRF   string `json:"csrf"`
	Step   string `json:"step"`
	Error  *struct {
		Code  string `json:"code"`
		Field string `json:"field"`
	} `json:"error"`
	Session struct {
		Token string `json:"token"`
	} `json:"session"`
}

// postJSON sends body to path and decodes the answer, whatever its status.
func (w *ward) postJSON(path, bearer string, body any, out any) int {
	w.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, w.base+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, out); err != nil {
		w.t.Fatalf("POST %s: %d, not JSON: %s", path, resp.StatusCode, raw)
	}
	return resp.StatusCode
}

type validation struct {
	Active    bool     `json:"active"`
	TokenType string   `json:"token_type"`
	Sub       string   `json:"sub"`
	Tenant    string   `json:"tenant"`
	SID       string   `json:"sid"`
	ACR       string   `json:"acr"`
	AMR       []string `json:"amr"`
}

// TestPasswordSignInToRevocation signs a user in over the flow API of the
// local process, uses the session at the validation endpoint and at
// GraphQL, and ends it: every step from outside, as an app would.
func TestPasswordSignInToRevocation(t *testing.T) {
	w := startWithToken(t)
	tn := w.createTenant("signin")
	const password = "copper-lantern-meadow-17"
	var u user
	w.must(`mutation($t: ID!, $p: String!) {
		createUser(input: {tenantId: $t, username: "ada", password: $p}) { id } }`,
		map[string]any{"t": tn.ID, "p": password}, "createUser", &u)

	start := func() flowAnswer {
		var f flowAnswer
		if st := w.postJSON("/t/signin/authn/flows", "", map[string]any{"username": "ada"},
			&f); st != http.StatusCreated || f.FlowID == "" || f.CSRF == "" || f.Step != "password" {
			t.Fatalf("start: %d %+v", st, f)
		}
		return f
	}

	// A wrong password is refused on the password field, and the flow
	// stays where it was.
	f := start()
	var bad flowAnswer
	st := w.postJSON("/t/signin/authn/flows/"+f.FlowID, "", map[string]any{"csrf": f.CSRF,
		"step": f.Step, "password": "not-the-password-at-all"}, &bad)
	if st == http.StatusOK || bad.Error == nil || bad.Session.Token != "" {
		t.Fatalf("wrong password: %d %+v", st, bad)
	}

	// Without the flow's CSRF token the right password gets nothing.
	var forged flowAnswer
	st = w.postJSON("/t/signin/authn/flows/"+f.FlowID, "", map[string]any{
		"csrf": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "step": f.Step,
		"password": password}, &forged)
	if st == http.StatusOK || forged.Session.Token != "" {
		t.Fatalf("forged CSRF: %d %+v", st, forged)
	}

	var done flowAnswer
	if st := w.postJSON("/t/signin/authn/flows/"+f.FlowID, "", map[string]any{"csrf": f.CSRF,
		"step": f.Step, "password": password}, &done); st != http.StatusOK || done.Step != "done" ||
		done.Session.Token == "" {
		t.Fatalf("right password: %d %+v", st, done)
	}
	session := done.Session.Token

	// Replaying the finished flow's answer finds nothing.
	var replay flowAnswer
	if st := w.postJSON("/t/signin/authn/flows/"+f.FlowID, "", map[string]any{"csrf": f.CSRF,
		"step": f.Step, "password": password}, &replay); st == http.StatusOK ||
		replay.Session.Token != "" {
		t.Fatalf("replayed answer: %d %+v", st, replay)
	}

	var v validation
	if st := w.postJSON("/sessions/validate", session, map[string]any{}, &v); st != http.StatusOK ||
		!v.Active || v.TokenType != "session" || v.Sub != u.ID || v.Tenant != tn.ID ||
		v.SID == "" || v.ACR != "1" || !slices.Equal(v.AMR, []string{"pwd"}) {
		t.Fatalf("validate: %d %+v", st, v)
	}

	r := w.gql(session, `{ viewer { subject tenantId roles } currentSession { id acr } }`, nil)
	if len(r.Errors) > 0 {
		t.Fatalf("viewer with the session: %+v", r.Errors)
	}
	var got struct {
		Subject  string   `json:"subject"`
		TenantID string   `json:"tenantId"`
		Roles    []string `json:"roles"`
	}
	_ = json.Unmarshal(r.Data["viewer"], &got)
	if got.Subject != u.ID || got.TenantID != tn.ID || !slices.Equal(got.Roles, []string{"user"}) {
		t.Fatalf("viewer: %+v", got)
	}
	var cur struct{ ID string }
	_ = json.Unmarshal(r.Data["currentSession"], &cur)
	if cur.ID != v.SID {
		t.Fatalf("currentSession %q, validation said %q", cur.ID, v.SID)
	}

	// The user's session cannot reach another tenant's data.
	other := w.createTenant("other")
	if r := w.gql(session, `query($t: ID!) { users(tenantId: $t) { nodes { id } } }`,
		map[string]any{"t": other.ID}); r.code() != "NOT_FOUND" {
		t.Fatalf("a user's session listing another tenant's users: %s %+v", r.Data["users"],
			r.Errors)
	}

	if r := w.gql(session, `mutation($id: ID!) { revokeMySession(id: $id) }`,
		map[string]any{"id": v.SID}); len(r.Errors) > 0 {
		t.Fatalf("revokeMySession: %+v", r.Errors)
	}
	var after validation
	if st := w.postJSON("/sessions/validate", session, map[string]any{}, &after); st != http.StatusOK ||
		after.Active {
		t.Fatalf("validate after revocation: %d %+v", st, after)
	}
	if r := w.gql(session, `{ viewer { subject } }`, nil); r.Status != http.StatusUnauthorized {
		t.Fatalf("GraphQL with a revoked session: %d %+v", r.Status, r.Errors)
	}
}
