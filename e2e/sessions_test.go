package e2e

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestSessionValidationEndpoint calls the local process's validation
// endpoint from outside: it is mounted beside the facade, answers an
// unknown token as inactive without caching, and the facade refuses an
// unknown session token.
func TestSessionValidationEndpoint(t *testing.T) {
	w := startWithToken(t)
	unknown := "wss_" + strings.Repeat("A", 43)

	req, _ := http.NewRequest(http.MethodPost, w.base+"/sessions/validate",
		strings.NewReader("token="+unknown))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != `{"active":false}` ||
		resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("validate an unknown token: %d %q %v", resp.StatusCode, body, resp.Header)
	}

	resp, err = http.Get(w.base + "/sessions/validate")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /sessions/validate: %d, want 405", resp.StatusCode)
	}

	if r := w.gql(unknown, `{ viewer { subject } }`, nil); r.Status != http.StatusUnauthorized ||
		r.code() != "UNAUTHENTICATED" {
		t.Errorf("an unknown session token at /graphql: %d %s", r.Status, r.code())
	}
}
