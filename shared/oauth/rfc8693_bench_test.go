package oauth_test

import (
	"net/url"
	"testing"

	"github.com/wardhq/ward/shared/clients"
	"github.com/wardhq/ward/shared/oauth"
	"github.com/wardhq/ward/shared/store"
)

// BenchmarkTokenExchange exchanges a subject token for a JWT access token
// through the token endpoint's HTTP handler, as BenchmarkClientCredentials
// does: "ward", a Ward ES256 JWT (verified with the tenant's key, then
// signed again); "external", a trusted issuer's ES256 JWT whose key set
// is kept by the issuers function, its subject mapped to a user by
// username.
func BenchmarkTokenExchange(b *testing.B) {
	e := exchangeEnv(b)
	ext := e.trust(b, store.IssuerMapUsername, false)
	x := e.exchanger(b, store.ExchangePolicy{Issuers: []string{store.ExchangeSelf,
		ext.idp.URL}, Impersonation: true})
	ward, _ := e.wardToken(b, clients.FormatJWT, "read")
	subjects := map[string]url.Values{
		"ward": {"subject_token": {ward}, "subject_token_type": {oauth.TokenTypeAccessToken}},
		"external": {"subject_token": {ext.token(b, e, "alice", nil)},
			"subject_token_type": {oauth.TokenTypeJWT}},
	}
	for name, form := range subjects {
		b.Run(name, func(b *testing.B) {
			form.Set("grant_type", clients.GrantTokenExchange)
			body := form.Encode()
			h := e.srv.Config.Handler
			serveInProcess(b, h, "/t/acme/oauth2/token", body, x) // keys made and kept
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					serveInProcess(b, h, "/t/acme/oauth2/token", body, x)
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
		})
	}
}
