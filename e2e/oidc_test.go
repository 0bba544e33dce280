//go:build integration

package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestOpenIDClientInterop runs e2e/oidc/openid-client.mjs: Node's
// openid-client (v6, pinned in e2e/oidc/package-lock.json) discovers a
// tenant of a fresh local process, runs the authorization code flow with
// PKCE through the hosted login page in headless Chromium, and uses the
// tokens (userinfo, refresh, introspection, revocation, PAR,
// client_credentials with a secret and with private_key_jwt, logout when
// served). Like TestHostedPagesInABrowser it needs Node 20 and Chromium
// and fails, never skips, without them.
func TestOpenIDClientInterop(t *testing.T) {
	dir := filepath.Join(repoRoot(), "e2e", "oidc")
	chromium := nodeAndChromium(t, dir, "openid-client")

	w := startWithToken(t)
	ten := w.createTenant("interop")
	const password = "amber-harbour-violet-53"
	const email = "robin.rp@example.com"
	var u user
	w.must(`mutation($t: ID!, $p: String!, $e: String!) {
		createUser(input: {tenantId: $t, username: "robin", email: $e, password: $p}) { id } }`,
		map[string]any{"t": ten.ID, "p": password, "e": email}, "createUser", &u)

	// The script serves the callback on this port: the redirect URIs are
	// matched exactly, port included.
	port := freePort(t)
	redirect := "http://127.0.0.1:" + port + "/callback"
	postLogout := "http://127.0.0.1:" + port + "/logged-out"
	code := w.createClient(map[string]any{"tenantId": ten.ID, "name": "spa", "type": "public",
		"authMethod": "none", "redirectUris": []string{redirect},
		"postLogoutRedirectUris": []string{postLogout},
		"grantTypes":             []string{"authorization_code", "refresh_token"},
		"scopes":                 []string{"openid", "profile", "email"}})
	conf := w.createClient(map[string]any{"tenantId": ten.ID, "name": "api", "type": "confidential",
		"authMethod": "client_secret_basic", "grantTypes": []string{"client_credentials"},
		"scopes": []string{"api.read"}})
	if conf.Secret == "" {
		t.Fatal("the confidential client got no secret")
	}
	jwks, privateJWK := es256JWK(t)
	pkjwt := w.createClient(map[string]any{"tenantId": ten.ID, "name": "svc",
		"type": "confidential", "authMethod": "private_key_jwt", "jwks": jwks,
		"grantTypes": []string{"client_credentials"}, "scopes": []string{"api.read"}})

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "openid-client.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"WARD_ISSUER="+w.base+"/t/"+ten.Name,
		"WARD_CODE_CLIENT_ID="+code.Client.ID,
		"WARD_REDIRECT_URI="+redirect,
		"WARD_POST_LOGOUT_URI="+postLogout,
		"WARD_CONF_CLIENT_ID="+conf.Client.ID,
		"WARD_CONF_CLIENT_SECRET="+conf.Secret,
		"WARD_PKJWT_CLIENT_ID="+pkjwt.Client.ID,
		"WARD_PKJWT_PRIVATE_JWK="+privateJWK,
		"WARD_USERNAME=robin",
		"WARD_PASSWORD="+password,
		"WARD_USER_ID="+u.ID,
		"WARD_USER_EMAIL="+email,
		"CHROMIUM="+chromium)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("openid-client against Ward failed: %v\n%s\nward's log:\n%s", err, out, w.stderr)
	}
	t.Logf("%s", out)
}

type createdClient struct {
	Secret string `json:"secret"`
	Client struct {
		ID string `json:"id"`
	} `json:"client"`
}

func (w *ward) createClient(in map[string]any) createdClient {
	w.t.Helper()
	var c createdClient
	w.must(`mutation($in: CreateOAuthClientInput!) { createOAuthClient(input: $in) {
		secret client { id } } }`, map[string]any{"in": in}, "createOAuthClient", &c)
	return c
}

func freePort(t *testing.T) string {
	t.Helper()
	_, port, err := net.SplitHostPort(freeAddr(t))
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// es256JWK makes a P-256 key pair and answers the public key set to
// register and the private JWK the script signs its assertions with.
func es256JWK(t *testing.T) (jwks, private string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := key.PublicKey.ECDH()
	if err != nil {
		t.Fatal(err)
	}
	priv, err := key.ECDH()
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.RawURLEncoding.EncodeToString
	point := pub.Bytes() // 0x04 || X || Y, 32 bytes each
	jwk := map[string]string{"kty": "EC", "crv": "P-256", "kid": "svc-1", "alg": "ES256",
		"x": b64(point[1:33]), "y": b64(point[33:])}
	set, _ := json.Marshal(map[string]any{"keys": []any{jwk}})
	jwk["d"] = b64(priv.Bytes())
	delete(jwk, "alg") // WebCrypto's importKey checks alg against its own names
	p, _ := json.Marshal(jwk)
	return string(set), string(p)
}
