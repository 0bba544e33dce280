package appstate_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/wardhq/ward/shared/appstate"
	"github.com/wardhq/ward/shared/config"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/platform"
	"github.com/wardhq/ward/shared/sessions"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/validate"
)

type client struct {
	t    *testing.T
	base string
}

type answer struct {
	status int
	header http.Header
	body   string
}

func (c client) do(method, path, token, contentType, body string) answer {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, header: resp.Header, body: strings.TrimSpace(string(b))}
}

func (a answer) code() string {
	var e struct {
		Error string `json:"error"`
	}
	_ = json.Unmarshal([]byte(a.body), &e)
	return e.Error
}

// TestHTTPAPI runs the HTTP API on the function's own routes with real
// sessions.
func TestHTTPAPI(t *testing.T) {
	e := newEnv(t)
	srv := httptest.NewServer(e.inv.Function(appstate.FunctionName).Routes)
	t.Cleanup(srv.Close)
	httpAPIChecks(t, client{t: t, base: srv.URL}, e.signIn(e.a, "ada").token,
		e.signIn(e.a, "bob").token, func(token string) {
			_, err := invoke.Call[sessions.RevokeAllOutput](context.Background(), e.inv,
				sessions.FunctionName, sessions.OpRevokeAll, svc,
				sessions.RevokeAllInput{TenantID: e.a.ID, UserID: sessionUser(t, e.inv, token)})
			if err != nil {
				t.Fatal(err)
			}
		})
}

func sessionUser(t *testing.T, inv invoke.Invoker, token string) string {
	t.Helper()
	v, err := invoke.Call[sessions.ValidateOutput](context.Background(), inv,
		sessions.FunctionName, sessions.OpValidate, svc,
		sessions.ValidateInput{Token: sessions.Token(token)})
	if err != nil {
		t.Fatal(err)
	}
	return v.Subject
}

// TestHTTPAPIThroughThePlatform opens the platform as the local process
// does (every domain function, bbolt, the memory cache) and serves the
// routes of the functions it hosts on one listener.
func TestHTTPAPIThroughThePlatform(t *testing.T) {
	cfg := config.Defaults()
	cfg.DataDir = t.TempDir()
	p, err := platform.Open(context.Background(), cfg,
		slog.New(slog.NewTextHandler(io.Discard, nil)), platform.DomainNames(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	mux := http.NewServeMux()
	for _, name := range platform.DomainNames() {
		function.Mount(mux, p.Local.Function(name))
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	ctx := context.Background()
	now := validateNow()
	tn, err := p.Store.Tenants().Create(ctx, store.Tenant{ID: validate.NewID(), Name: "acme",
		DisplayName: "Acme", CreatedAt: now, UpdatedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	signIn := func(name string) string {
		u, err := p.Store.Users().Create(ctx, store.User{ID: validate.NewID(), TenantID: tn.ID,
			Username: name, Status: store.UserActive, CreatedAt: now, UpdatedAt: now})
		if err != nil {
			t.Fatal(err)
		}
		out, err := invoke.Call[sessions.CreateOutput](ctx, p.Local, sessions.FunctionName,
			sessions.OpCreate, svc, sessions.CreateInput{TenantID: tn.ID, UserID: u.ID,
				ACR: store.ACRPassword, AMR: []string{"pwd"}})
		if err != nil {
			t.Fatal(err)
		}
		return string(out.Token)
	}
	httpAPIChecks(t, client{t: t, base: srv.URL}, signIn("ada"), signIn("bob"),
		func(token string) {
			_, err := invoke.Call[sessions.RevokeAllOutput](ctx, p.Local, sessions.FunctionName,
				sessions.OpRevokeAll, svc, sessions.RevokeAllInput{TenantID: tn.ID,
					UserID: sessionUser(t, p.Local, token)})
			if err != nil {
				t.Fatal(err)
			}
		})
}

// httpAPIChecks is the HTTP API's behaviour, for two sessions' tokens of
// one tenant and a way to revoke one.
func httpAPIChecks(t *testing.T, c client, ada, bob string, revoke func(token string)) {
	if a := c.do("PUT", "/appstate/shop/cart", ada, "application/json",
		` {"items": [1, 2]} `); a.status != 200 ||
		a.body != `{"key":"cart","size":15,"keys":1,"bytes":19}` {
		t.Errorf("PUT json: %d %s", a.status, a.body)
	}
	if a := c.do("PUT", "/appstate/shop/note", ada, "text/plain; charset=utf-8",
		`say "hi"`); a.status != 200 {
		t.Errorf("PUT text: %d %s", a.status, a.body)
	}
	a := c.do("GET", "/appstate/shop/cart", ada, "", "")
	if a.status != 200 || a.body != `{"items":[1,2]}` ||
		a.header.Get("Content-Type") != "application/json" ||
		a.header.Get("Cache-Control") != "no-store" {
		t.Errorf("GET: %d %s %v", a.status, a.body, a.header)
	}
	if a := c.do("GET", "/appstate/shop/note", ada, "", ""); a.body != `"say \"hi\""` {
		t.Errorf("GET text: %s", a.body)
	}
	if a := c.do("GET", "/appstate/shop", ada, "", ""); a.status != 200 ||
		a.body != `{"keys":[{"key":"cart","size":15},{"key":"note","size":12}],"bytes":35}` {
		t.Errorf("list: %d %s", a.status, a.body)
	}

	// Another session sees nothing of it.
	if a := c.do("GET", "/appstate/shop/cart", bob, "", ""); a.status != 404 {
		t.Errorf("bob reads ada's key: %d %s", a.status, a.body)
	}
	if a := c.do("GET", "/appstate/shop", bob, "", ""); a.body != `{"keys":[],"bytes":0}` {
		t.Errorf("bob's list: %s", a.body)
	}

	// Refusals.
	for _, tc := range []struct {
		name, method, path, token, ctype, body string
		status                                 int
		code                                   string
	}{
		{"no token", "GET", "/appstate/shop/cart", "", "", "", 401, "UNAUTHENTICATED"},
		{"an API token", "GET", "/appstate/shop/cart", "ward_abc", "", "", 401, "UNAUTHENTICATED"},
		{"an unknown session token", "GET", "/appstate/shop/cart",
			"wss_" + strings.Repeat("A", 43), "", "", 401, "UNAUTHENTICATED"},
		{"an oversized value", "PUT", "/appstate/shop/big", ada, "application/json",
			`"` + strings.Repeat("x", appstate.MaxValueBytes) + `"`, 413, "PAYLOAD_TOO_LARGE"},
		{"a huge body", "PUT", "/appstate/shop/big", ada, "text/plain",
			strings.Repeat("x", 5*appstate.MaxValueBytes), 413, "PAYLOAD_TOO_LARGE"},
		{"malformed JSON", "PUT", "/appstate/shop/k", ada, "application/json", `{"a":`, 400,
			"INVALID_ARGUMENT"},
		{"another media type", "PUT", "/appstate/shop/k", ada, "application/xml", `<a/>`, 400,
			"INVALID_ARGUMENT"},
		{"a bad application", "GET", "/appstate/SHOP/k", ada, "", "", 400, "INVALID_ARGUMENT"},
		{"a missing key", "DELETE", "/appstate/shop/nope", ada, "", "", 404, "NOT_FOUND"},
	} {
		a := c.do(tc.method, tc.path, tc.token, tc.ctype, tc.body)
		if a.status != tc.status || a.code() != tc.code {
			t.Errorf("%s: %d %s, want %d %s", tc.name, a.status, a.body, tc.status, tc.code)
		}
		if tc.status == 401 && !strings.HasPrefix(a.header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%s: no Bearer challenge", tc.name)
		}
	}
	if a := c.do("GET", "/appstate/shop/big", ada, "", ""); a.status != 404 {
		t.Errorf("a refused value was written: %d", a.status)
	}

	// The quota through HTTP: 64 keys.
	for i := 2; i < appstate.MaxKeysPerApp; i++ {
		if a := c.do("PUT", "/appstate/shop/k"+strings.Repeat("0", 2)+string(rune('0'+i/10))+
			string(rune('0'+i%10)), ada, "application/json", "1"); a.status != 200 {
			t.Fatalf("key %d: %d %s", i, a.status, a.body)
		}
	}
	if a := c.do("PUT", "/appstate/shop/one-too-many", ada, "application/json", "1"); a.status !=
		413 || !strings.Contains(a.body, "at most 64 keys") {
		t.Errorf("a 65th key: %d %s", a.status, a.body)
	}

	if a := c.do("DELETE", "/appstate/shop/cart", ada, "", ""); a.status != 204 || a.body != "" {
		t.Errorf("DELETE: %d %s", a.status, a.body)
	}
	if a := c.do("GET", "/appstate/shop/cart", ada, "", ""); a.status != 404 {
		t.Errorf("GET after DELETE: %d", a.status)
	}

	revoke(ada)
	if a := c.do("GET", "/appstate/shop/note", ada, "", ""); a.status != 401 {
		t.Errorf("a revoked session's state: %d %s", a.status, a.body)
	}
}

func validateNow() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }
