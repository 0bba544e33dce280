package sessions_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/sessions"
	"github.com/wardhq/ward/shared/store"
)

// server mounts the function's routes as a host serving several
// functions does.
func (e *env) server(f *function.Function) *httptest.Server {
	mux := http.NewServeMux()
	function.Mount(mux, f)
	srv := httptest.NewServer(mux)
	e.t.Cleanup(srv.Close)
	return srv
}

type answer struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func post(t *testing.T, srv *httptest.Server, header, contentType, body string) answer {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+sessions.PathValidate,
		strings.NewReader(body))
	if header != "" {
		req.Header.Set("Authorization", header)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	a := answer{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	_ = json.Unmarshal([]byte(a.raw), &a.body)
	return a
}

func TestValidationEndpoint(t *testing.T) {
	e := newEnv(t)
	ann := e.user(e.a, "ann", "")
	out := e.signIn(ann)
	srv := e.server(e.function(e.cache, e.inv))
	start := e.clk.Now()
	e.clk.Advance(time.Second)

	ways := map[string]answer{
		"a bearer header": post(t, srv, "Bearer "+string(out.Token), "", ""),
		"a form body": post(t, srv, "", "application/x-www-form-urlencoded",
			url.Values{"token": {string(out.Token)}, "token_type_hint": {"access_token"}}.Encode()),
		"a JSON body with the tenant": post(t, srv, "", "application/json",
			`{"token":"`+string(out.Token)+`","tenant":"acme"}`),
		"a header and the tenant in a form": post(t, srv, "bearer "+string(out.Token),
			"application/x-www-form-urlencoded", "tenant="+e.a.ID),
	}
	for name, a := range ways {
		if a.status != http.StatusOK || a.body["active"] != true {
			t.Errorf("%s: %d %s", name, a.status, a.raw)
			continue
		}
		if a.header.Get("Cache-Control") != "no-store" ||
			!strings.HasPrefix(a.header.Get("Content-Type"), "application/json") {
			t.Errorf("%s: headers %v", name, a.header)
		}
		want := map[string]any{
			"active": true, "token_type": "session", "sub": ann.ID, "tenant": e.a.ID,
			"sid": out.Session.ID, "acr": "1", "amr": []any{"pwd"},
			"auth_time":   float64(start.Unix()),
			"exp":         float64(start.Add(store.DefaultSessionIdle).Unix()),
			"session_exp": float64(start.Add(store.DefaultSessionMax).Unix()),
			"roles":       []any{"user"}, "orgs": []any{},
		}
		got, _ := json.Marshal(a.body)
		wantJSON, _ := json.Marshal(want)
		if string(got) != string(wantJSON) {
			t.Errorf("%s:\n got %s\nwant %s", name, got, wantJSON)
		}
	}

	inactive := map[string]answer{
		"an unknown token":                 post(t, srv, "Bearer wss_"+strings.Repeat("A", 43), "", ""),
		"a malformed token":                post(t, srv, "Bearer nonsense", "", ""),
		"another tenant":                   post(t, srv, "", "application/json", `{"token":"`+string(out.Token)+`","tenant":"globex"}`),
		"an oversized token":               post(t, srv, "", "application/json", `{"token":"`+strings.Repeat("x", 9000)+`"}`),
		"an access token without a tenant": post(t, srv, "Bearer a.b.c", "", ""),
	}
	for name, a := range inactive {
		if a.status != http.StatusOK || strings.TrimSpace(a.raw) != `{"active":false}` {
			t.Errorf("%s: %d %s, want 200 {\"active\":false}", name, a.status, a.raw)
		}
		if a.header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: Cache-Control %q", name, a.header.Get("Cache-Control"))
		}
	}

	bad := map[string]answer{
		"no token":               post(t, srv, "", "", ""),
		"a header and a body":    post(t, srv, "Bearer "+string(out.Token), "application/x-www-form-urlencoded", "token="+string(out.Token)),
		"another scheme":         post(t, srv, "Basic "+string(out.Token), "", ""),
		"an unknown form field":  post(t, srv, "", "application/x-www-form-urlencoded", "token=x&scope=all"),
		"a repeated field":       post(t, srv, "", "application/x-www-form-urlencoded", "token=x&token=y"),
		"an unknown JSON field":  post(t, srv, "", "application/json", `{"token":"x","scope":"all"}`),
		"a body of another type": post(t, srv, "", "text/plain", "token="+string(out.Token)),
		"a malformed tenant":     post(t, srv, "", "application/json", `{"token":"`+string(out.Token)+`","tenant":"No Good!"}`),
		"an oversized body":      post(t, srv, "", "application/json", `{"token":"`+strings.Repeat("x", 20000)+`"}`),
	}
	for name, a := range bad {
		if a.status != http.StatusBadRequest || a.body["error"] != "invalid_request" {
			t.Errorf("%s: %d %s, want 400 invalid_request", name, a.status, a.raw)
		}
		if strings.Contains(a.raw, string(out.Token)) {
			t.Errorf("%s: the answer shows the token", name)
		}
	}

	resp, err := http.Get(srv.URL + sessions.PathValidate + "?token=" + string(out.Token))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET answered %d, want 405", resp.StatusCode)
	}
}

func TestValidationEndpointAfterRevocation(t *testing.T) {
	e := newEnv(t)
	ann := e.user(e.a, "ann", "")
	out := e.signIn(ann)
	srv := e.server(e.function(e.cache, e.inv))
	if a := post(t, srv, "Bearer "+string(out.Token), "", ""); a.body["active"] != true {
		t.Fatalf("before revocation: %s", a.raw)
	}
	must[sessions.RevokeAllOutput](e, adminOf(e.a), sessions.OpRevokeAll,
		sessions.RevokeAllInput{TenantID: e.a.ID, UserID: ann.ID})
	if a := post(t, srv, "Bearer "+string(out.Token), "", ""); strings.TrimSpace(a.raw) !=
		`{"active":false}` {
		t.Errorf("after revocation: %s", a.raw)
	}
}

func TestValidationEndpointFaults(t *testing.T) {
	e := newEnv(t)
	// Access tokens with no issuers function to ask: a fault, 503.
	srv := e.server(e.function(e.cache, invoke.NewLocal()))
	a := post(t, srv, "", "application/json", `{"token":"a.b.c","tenant":"acme"}`)
	if a.status != http.StatusServiceUnavailable || a.body["error"] != "temporarily_unavailable" {
		t.Errorf("issuers unreachable: %d %s", a.status, a.raw)
	}
	e.issuers = func(sessions.IssuersVerifyInput) (sessions.IssuersVerifyOutput, error) {
		return sessions.IssuersVerifyOutput{}, errs.New(errs.InvalidArgument, "no such issuer")
	}
	srv = e.server(e.function(e.cache, e.inv))
	a = post(t, srv, "", "application/json", `{"token":"a.b.c","tenant":"acme"}`)
	if a.status != http.StatusOK || strings.TrimSpace(a.raw) != `{"active":false}` {
		t.Errorf("issuers refuses: %d %s", a.status, a.raw)
	}
}
