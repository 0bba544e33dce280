package graphql

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// BenchmarkUserQuery serves user(tenantId, id) through the whole handler:
// authentication, parsing, limits, validation, execution through the
// in-process invoker, and encoding.
func BenchmarkUserQuery(b *testing.B) {
	body := `{"query":"query($t: ID!, $id: ID!) { user(tenantId: $t, id: $id) { id username email displayName status createdAt } }","variables":{"t":"` +
		tenantA + `","id":"` + userA1 + `"}}`
	for _, bc := range []struct {
		name      string
		tokens    bool // cache verified tokens
		documents bool // cache validated documents
	}{
		{"both caches", true, true},
		{"token verified each time", false, true},
		{"document parsed and validated each time", true, false},
	} {
		b.Run(bc.name, func(b *testing.B) {
			opts := Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
			if !bc.tokens {
				opts.TokenCacheTTL = -1
			}
			if !bc.documents {
				opts.DocCacheBytes = -1
			}
			hs := newHarness(b, opts)
			hs.env.quiet = true
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+tokTenantA)
				rec := httptest.NewRecorder()
				hs.h.ServeHTTP(rec, req)
				ok := strings.Contains(rec.Body.String(), `"username":"ann"`)
				if rec.Code != http.StatusOK || !ok {
					b.Fatalf("status %d body %s", rec.Code, rec.Body)
				}
			}
		})
	}
}
