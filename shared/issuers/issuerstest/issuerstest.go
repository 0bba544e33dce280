// Package issuerstest is a fake external token issuer for tests: an HTTP
// server publishing a JWK set, and the private keys to sign tokens that
// the trusted issuers service verifies against it.
package issuerstest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
)

// Issuer is a running fake issuer. Its issuer URL (the "iss" of its
// tokens) is its server's URL; its keys are at JWKSURI.
type Issuer struct {
	URL    string
	server *httptest.Server

	// Fetches counts the requests for the key set.
	Fetches atomic.Int64

	mu        sync.Mutex
	keys      map[string]signingKey // by kid
	published []string              // kids in the set, in order
	down      bool
}

type signingKey struct {
	alg  jwa.SignatureAlgorithm
	priv jwk.Key
	pub  jwk.Key
}

// Kids of the keys every Issuer starts with.
const (
	KidES256 = "es-1"
	KidRS256 = "rs-1"
)

// New starts an issuer on a loopback address with an ES256 key (KidES256)
// and an RS256 key (KidRS256), and stops it at the test's end.
func New(t testing.TB) *Issuer {
	t.Helper()
	iss := &Issuer{keys: map[string]signingKey{}}
	iss.server = httptest.NewServer(http.HandlerFunc(iss.serve))
	t.Cleanup(iss.server.Close)
	iss.URL = iss.server.URL
	iss.AddKey(t, KidES256, jwa.ES256())
	iss.AddKey(t, KidRS256, jwa.RS256())
	return iss
}

// JWKSURI is where the issuer publishes its keys.
func (iss *Issuer) JWKSURI() string { return iss.URL + "/jwks.json" }

// AddKey makes a new key of the algorithm's type and publishes it.
func (iss *Issuer) AddKey(t testing.TB, kid string, alg jwa.SignatureAlgorithm) {
	t.Helper()
	k := iss.NewKey(t, kid, alg)
	iss.mu.Lock()
	defer iss.mu.Unlock()
	iss.keys[kid] = k
	iss.published = append(iss.published, kid)
}

// AddUnpublishedKey makes a key the issuer signs with but does not
// publish: tokens it signs name a kid the set lacks.
func (iss *Issuer) AddUnpublishedKey(t testing.TB, kid string, alg jwa.SignatureAlgorithm) {
	t.Helper()
	k := iss.NewKey(t, kid, alg)
	iss.mu.Lock()
	defer iss.mu.Unlock()
	iss.keys[kid] = k
}

// Publish adds an unpublished key to the set (a key rotation).
func (iss *Issuer) Publish(kid string) {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	iss.published = append(iss.published, kid)
}

// SetDown makes the key set answer 503 (true) or serve again (false).
func (iss *Issuer) SetDown(down bool) {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	iss.down = down
}

// NewKey makes a key pair of alg's type (ES256: P-256, RS256: 2048 bits).
func (iss *Issuer) NewKey(t testing.TB, kid string, alg jwa.SignatureAlgorithm) signingKey {
	t.Helper()
	var raw any
	var err error
	switch alg {
	case jwa.ES256():
		raw, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case jwa.RS256():
		raw, err = rsa.GenerateKey(rand.Reader, 2048)
	default:
		t.Fatalf("issuerstest: no key for %s", alg)
	}
	if err != nil {
		t.Fatal(err)
	}
	priv, err := jwk.Import(raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := priv.Set(jwk.KeyIDKey, kid); err != nil {
		t.Fatal(err)
	}
	pub, err := priv.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	return signingKey{alg: alg, priv: priv, pub: pub}
}

// PublicJWK is the public key of kid, as published.
func (iss *Issuer) PublicJWK(t testing.TB, kid string) jwk.Key {
	t.Helper()
	iss.mu.Lock()
	defer iss.mu.Unlock()
	k, ok := iss.keys[kid]
	if !ok {
		t.Fatalf("issuerstest: no key %q", kid)
	}
	return k.pub
}

// KeySet is the published set, as JSON.
func (iss *Issuer) KeySet(t testing.TB) string {
	t.Helper()
	iss.mu.Lock()
	defer iss.mu.Unlock()
	set := jwk.NewSet()
	for _, kid := range iss.published {
		if err := set.AddKey(iss.keys[kid].pub); err != nil {
			t.Fatal(err)
		}
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func (iss *Issuer) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/jwks.json" {
		http.NotFound(w, r)
		return
	}
	iss.Fetches.Add(1)
	iss.mu.Lock()
	down := iss.down
	iss.mu.Unlock()
	if down {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	set := jwk.NewSet()
	iss.mu.Lock()
	for _, kid := range iss.published {
		_ = set.AddKey(iss.keys[kid].pub)
	}
	iss.mu.Unlock()
	w.Header().Set("Content-Type", "application/jwk-set+json")
	_ = json.NewEncoder(w).Encode(set)
}

// Sign signs claims with the key kid, its kid in the header.
func (iss *Issuer) Sign(t testing.TB, kid string, claims map[string]any) string {
	t.Helper()
	iss.mu.Lock()
	k, ok := iss.keys[kid]
	iss.mu.Unlock()
	if !ok {
		t.Fatalf("issuerstest: no key %q", kid)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	hdr := jws.NewHeaders()
	_ = hdr.Set(jws.TypeKey, "JWT")
	b, err := jws.Sign(payload, jws.WithKey(k.alg, k.priv, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
