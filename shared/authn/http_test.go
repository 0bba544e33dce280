package authn_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/wardhq/ward/shared/authn"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/tenants"
)

func TestTheJSONAPI(t *testing.T) {
	e := newEnv(t, store.AuthSettings{})
	call[store.Tenant](t, e, tenants.FunctionName, tenants.OpCreate, sysAdmin,
		tenants.CreateInput{Name: "other"})
	mux := http.NewServeMux()
	function.Mount(mux, e.inv.Function(authn.FunctionName))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	do := func(method, path, csrf string, body any) (int, map[string]any) {
		t.Helper()
		var rd *bytes.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		} else {
			rd = bytes.NewReader(nil)
		}
		req, _ := http.NewRequest(method, srv.URL+path, rd)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", "native-app/1.0")
		if csrf != "" {
			req.Header.Set(authn.CSRFHeader, csrf)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(res.Body).Decode(&out)
		if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("%s %s: Cache-Control %q", method, path, cc)
		}
		return res.StatusCode, out
	}

	code, f := do("POST", "/t/acme/authn/flows", "", map[string]any{"username": "alice",
		"deviceId": "phone-1"})
	if code != http.StatusCreated || f["step"] != authn.StepPassword {
		t.Fatalf("start: %d %v", code, f)
	}
	id, csrf := f["flowId"].(string), f["csrf"].(string)

	code, _ = do("GET", "/t/acme/authn/flows/"+id, "wrong-token", nil)
	if code != http.StatusNotFound {
		t.Errorf("get with a wrong CSRF token: %d", code)
	}
	code, _ = do("GET", "/t/other/authn/flows/"+id, csrf, nil)
	if code != http.StatusNotFound {
		t.Errorf("get under another tenant's path: %d", code)
	}
	code, got := do("POST", "/t/acme/authn/flows/"+id, csrf, map[string]any{"step": "password",
		"password": "not-the-password-at-all"})
	if code != http.StatusUnauthorized || got["error"].(map[string]any)["code"] != "UNAUTHENTICATED" {
		t.Errorf("a wrong password: %d %v", code, got)
	}
	code, got = do("POST", "/t/acme/authn/flows/"+id, csrf, map[string]any{"step": "password",
		"password": goodPassword, "client": map[string]any{"ip": "1.2.3.4"}})
	if code != http.StatusOK || got["step"] != authn.StepDone {
		t.Fatalf("the right password: %d %v", code, got)
	}
	if n := e.sessions.created[0]; n.IP != "127.0.0.1" || n.UserAgent != "native-app/1.0" {
		t.Errorf("the session's client = %+v: the IP must come from the connection", n)
	}
	code, _ = do("POST", "/t/acme/authn/flows/"+id, csrf, map[string]any{"step": "password",
		"password": goodPassword, "surprise": true})
	if code != http.StatusBadRequest {
		t.Errorf("an unknown body field: %d", code)
	}
}
