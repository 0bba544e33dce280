package oauth_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/wardhq/ward/shared/clients"
	"github.com/wardhq/ward/shared/validate"
)

// serveInProcess runs one request through the server's handler (the mux
// the function is mounted on) without a network, as a warm function
// instance would, and fails on any answer but 200.
func serveInProcess(b *testing.B, h http.Handler, path, body string,
	c registered) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(c.id, c.secret)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Fatalf("%s: %d %s", path, rec.Code, rec.Body)
	}
	return rec
}

func formats() map[string]string {
	return map[string]string{"jwt": clients.FormatJWT, "opaque": clients.FormatOpaque}
}

// BenchmarkClientCredentials issues access tokens through the token
// endpoint's HTTP handler: bolt store, in-process cache, ES256 keys,
// client_secret_basic checked by the clients function through the local
// invoker. Requests run in parallel on every core (GOMAXPROCS).
func BenchmarkClientCredentials(b *testing.B) {
	for name, format := range formats() {
		b.Run(name, func(b *testing.B) {
			e := newEnv(b)
			c := e.client(b, e.a, clients.CreateInput{Scopes: []string{"read"},
				AccessTokenFormat: format})
			h := e.srv.Config.Handler
			body := "grant_type=client_credentials&scope=read"
			serveInProcess(b, h, "/t/acme/oauth2/token", body, c) // makes the first key
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					serveInProcess(b, h, "/t/acme/oauth2/token", body, c)
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
		})
	}
}

// BenchmarkIntrospect introspects an active access token through the
// introspection endpoint's HTTP handler, the caller authenticating with
// client_secret_basic; a JWT is verified against the tenant's ES256 key
// and looked up in the revocation set, an opaque token read from the
// cache.
func BenchmarkIntrospect(b *testing.B) {
	for name, format := range formats() {
		b.Run(name, func(b *testing.B) {
			e := newEnv(b)
			c := e.client(b, e.a, clients.CreateInput{AccessTokenFormat: format})
			rs := e.client(b, e.a, clients.CreateInput{})
			tok := e.token(b, "acme", c)["access_token"].(string)
			h := e.srv.Config.Handler
			body := url.Values{"token": {tok}}.Encode()
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					serveInProcess(b, h, "/t/acme/oauth2/introspect", body, rs)
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
		})
	}
}

// BenchmarkRefresh uses a refresh token through the token endpoint's HTTP
// handler and keeps the rotated one for the next round: client
// authentication as above, a read of the token and its family, a JWT
// access token, and the rotation, one bbolt write transaction (synced to
// the disk). Each parallel worker rotates a family of its own.
func BenchmarkRefresh(b *testing.B) {
	e := newEnv(b)
	c := e.refreshClient(b, e.a, false)
	h := e.srv.Config.Handler
	tok := e.grant(b, e.a, c, validate.NewID(), "")
	e.refresh(b, "acme", c, tok) // makes the first key
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		tok := e.grant(b, e.a, c, validate.NewID(), "")
		for pb.Next() {
			body := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok}}.Encode()
			rec := serveInProcess(b, h, "/t/acme/oauth2/token", body, c)
			var out struct {
				RefreshToken string `json:"refresh_token"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
				b.Fatal(err)
			}
			tok = out.RefreshToken
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}
