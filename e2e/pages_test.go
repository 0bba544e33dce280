package e2e

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wardhq/ward/shared/function/lambdafn/lambdatest"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/store/bolt"
	"github.com/wardhq/ward/shared/validate"
)

// checkPageHeaders checks the headers every hosted page carries.
func checkPageHeaders(t *testing.T, get func(string) string) {
	t.Helper()
	if csp := get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("Content-Security-Policy = %q", csp)
	}
	for k, want := range map[string]string{"X-Frame-Options": "DENY",
		"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"} {
		if got := get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
}

// TestHostedPagesAreServedByTheLocalProcess checks that the local process
// mounts the pages beside the facade and the other functions' routes.
func TestHostedPagesAreServedByTheLocalProcess(t *testing.T) {
	w := startWithToken(t)
	w.createTenant("pages-shop")

	resp, err := http.Get(w.base + "/t/pages-shop/login")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `<label for="password">`) {
		t.Fatalf("GET /t/pages-shop/login = %d\n%s", resp.StatusCode, body)
	}
	checkPageHeaders(t, resp.Header.Get)

	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	resp, err = noRedirect.Get(w.base + "/account/verify-email?tenant=pages-shop&token=a.b")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got, want := resp.Header.Get("Location"), "/t/pages-shop/verify-email?token=a.b"; got != want {
		t.Errorf("a message's link redirects to %q, want %q", got, want)
	}
}

// TestPagesFunctionOnLambda runs the pages deployable alone under the
// Lambda emulator, on a store holding one tenant: the login page comes
// through API Gateway's payload with its headers and both of its cookies.
func TestPagesFunctionOnLambda(t *testing.T) {
	dir := t.TempDir()
	st, err := bolt.Open(filepath.Join(dir, "ward.db"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	_, err = st.Tenants().Create(context.Background(), store.Tenant{ID: validate.NewID(),
		Name: "lambda-shop", DisplayName: "Shop", CreatedAt: now, UpdatedAt: now})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	emu := lambdatest.Start(t, lambdaBootstrap(t, "pages"), lambdatest.Options{Env: lambdaEnv(dir)})

	resp := apiResponse(t, invokeOK(t, emu, apiEvent("GET", "/t/lambda-shop/login",
		map[string]string{"host": "id.example"}, "")))
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Body, "<title>Sign in – Shop</title>") {
		t.Fatalf("GET /t/lambda-shop/login = %d\n%s", resp.StatusCode, resp.Body)
	}
	checkPageHeaders(t, func(k string) string {
		for hk, v := range resp.Headers {
			if strings.EqualFold(hk, k) {
				return v
			}
		}
		return ""
	})
	names := map[string]bool{}
	for _, c := range resp.Cookies {
		name, _, _ := strings.Cut(c, "=")
		names[name] = true
	}
	if !names["ward_flow"] || !names["ward_device"] {
		t.Errorf("cookies = %q, want ward_flow and ward_device", resp.Cookies)
	}

	resp = apiResponse(t, invokeOK(t, emu, apiEvent("GET", "/t/no-such-shop/login", nil, "")))
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("an unknown tenant: %d", resp.StatusCode)
	}
}
