package oauth_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gojwt "github.com/golang-jwt/jwt/v5"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"

	"github.com/wardhq/ward/shared/clients"
)

// clientKeys is a client's https server publishing its key sets, one per
// path, and counting the fetches.
type clientKeys struct {
	srv     *httptest.Server
	mu      sync.Mutex
	sets    map[string][]byte
	fetches atomic.Int64
}

func (c *clientKeys) publish(path string, set []byte) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sets[path] = set
	return c.srv.URL + path
}

// serveClientKeys starts the clients' key server and returns an HTTP
// client that trusts it.
func (e *env) serveClientKeys(t testing.TB) *http.Client {
	t.Helper()
	ck := &clientKeys{sets: map[string][]byte{}}
	ck.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter,
		r *http.Request) {
		ck.fetches.Add(1)
		ck.mu.Lock()
		b, ok := ck.sets[r.URL.Path]
		ck.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/jwk-set+json")
		_, _ = w.Write(b)
	}))
	t.Cleanup(ck.srv.Close)
	e.clientKeys = ck
	return ck.srv.Client()
}

// clientKey is a client's signing key with its kid.
type clientKey struct {
	kid  string
	priv crypto.Signer
	alg  string // ES256 or RS256
}

func newClientKey(t testing.TB, kid, alg string) clientKey {
	t.Helper()
	var priv crypto.Signer
	var err error
	if alg == "RS256" {
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	} else {
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	if err != nil {
		t.Fatal(err)
	}
	return clientKey{kid: kid, priv: priv, alg: alg}
}

// jwks is the public key set of keys, as a client registers or serves it.
func jwks(t testing.TB, keys ...clientKey) []byte {
	t.Helper()
	set := jwk.NewSet()
	for _, k := range keys {
		pub, err := jwk.Import(k.priv.Public())
		if err != nil {
			t.Fatal(err)
		}
		if err := pub.Set(jwk.KeyIDKey, k.kid); err != nil {
			t.Fatal(err)
		}
		if err := set.AddKey(pub); err != nil {
			t.Fatal(err)
		}
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// claims of an assertion by client id for the token endpoint at e's
// tenant acme, valid for a minute.
func (e *env) claims(id string) map[string]any {
	now := e.clk.Now()
	return map[string]any{"iss": id, "sub": id, "aud": e.srv.URL + "/t/acme/oauth2/token",
		"exp": now.Add(time.Minute).Unix(), "iat": now.Unix(),
		"jti": base64.RawURLEncoding.EncodeToString(randomBytes(16))}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// signJWX signs claims with k using lestrrat-go/jwx.
func signJWX(t testing.TB, k clientKey, claims map[string]any) string {
	t.Helper()
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	h := jws.NewHeaders()
	if err := h.Set(jws.KeyIDKey, k.kid); err != nil {
		t.Fatal(err)
	}
	alg := jwa.ES256()
	if k.alg == "RS256" {
		alg = jwa.RS256()
	}
	out, err := jws.Sign(payload, jws.WithKey(alg, k.priv, jws.WithProtectedHeaders(h)))
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// signGoJWT signs claims with k using golang-jwt, a library Ward does not
// otherwise use, as a client would.
func signGoJWT(t testing.TB, k clientKey, claims map[string]any) string {
	t.Helper()
	var m gojwt.SigningMethod = gojwt.SigningMethodES256
	if k.alg == "RS256" {
		m = gojwt.SigningMethodRS256
	}
	tok := gojwt.NewWithClaims(m, gojwt.MapClaims(claims))
	tok.Header["kid"] = k.kid
	s, err := tok.SignedString(k.priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// unsigned is a JWS with the given header and an empty or given signature.
func unsigned(t testing.TB, header, claims map[string]any, sig []byte) string {
	t.Helper()
	h, _ := json.Marshal(header)
	c, _ := json.Marshal(claims)
	enc := base64.RawURLEncoding.EncodeToString
	return enc(h) + "." + enc(c) + "." + enc(sig)
}

// assert asks acme's endpoint at path with a client assertion.
func (e *env) assert(t testing.TB, path, assertion string, kv ...string) answer {
	t.Helper()
	f := form(append([]string{"client_assertion_type", clients.AssertionType,
		"client_assertion", assertion}, kv...)...)
	if path == "token" {
		f.Set("grant_type", "client_credentials")
	}
	return e.do(t, request{path: "/t/acme/oauth2/" + path, form: f})
}

func TestPrivateKeyJWTAuthenticatesClients(t *testing.T) {
	e := newEnv(t)
	es := newClientKey(t, "es-1", "ES256")
	rs := newClientKey(t, "rs-1", "RS256")
	inline := e.client(t, e.a, clients.CreateInput{AuthMethod: clients.MethodPrivateKeyJWT,
		JWKS: string(jwks(t, es, rs))})
	uri := e.clientKeys.publish("/inline-too/jwks.json", jwks(t, es, rs))
	remote := e.client(t, e.a, clients.CreateInput{AuthMethod: clients.MethodPrivateKeyJWT,
		JWKSURI: uri})

	for _, tc := range []struct {
		name string
		id   string
		sign func(testing.TB, clientKey, map[string]any) string
		key  clientKey
	}{
		{"ES256 with an inline key set, signed by jwx", inline.id, signJWX, es},
		{"RS256 with an inline key set, signed by golang-jwt", inline.id, signGoJWT, rs},
		{"ES256 with a jwks_uri, signed by golang-jwt", remote.id, signGoJWT, es},
		{"RS256 with a jwks_uri, signed by jwx", remote.id, signJWX, rs},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := e.assert(t, "token", tc.sign(t, tc.key, e.claims(tc.id)))
			if a.status != http.StatusOK {
				t.Fatalf("token: %d %s", a.status, a.raw)
			}
			tok, _ := a.body["access_token"].(string)
			_, claims := e.verifyJWT(t, "acme", tok)
			if claims["client_id"] != tc.id {
				t.Errorf("client_id = %v, want %s", claims["client_id"], tc.id)
			}
			// The same client introspects its token with a new assertion.
			in := e.assert(t, "introspect", tc.sign(t, tc.key, e.claims(tc.id)), "token", tok)
			if in.status != http.StatusOK || in.body["active"] != true {
				t.Errorf("introspect: %d %s", in.status, in.raw)
			}
		})
	}
	if got := e.clientKeys.fetches.Load(); got != 1 {
		t.Errorf("the jwks_uri was fetched %d times, want once (then cached)", got)
	}

	t.Run("the issuer is an audience too, and client_id may name the client", func(t *testing.T) {
		c := e.claims(inline.id)
		c["aud"] = []string{"https://other.example", e.srv.URL + "/t/acme"}
		a := e.assert(t, "token", signJWX(t, es, c), "client_id", inline.id)
		if a.status != http.StatusOK {
			t.Fatalf("token: %d %s", a.status, a.raw)
		}
	})
}

func TestPrivateKeyJWTRefusals(t *testing.T) {
	e := newEnv(t)
	es := newClientKey(t, "es-1", "ES256")
	rs := newClientKey(t, "rs-1", "RS256")
	c := e.client(t, e.a, clients.CreateInput{AuthMethod: clients.MethodPrivateKeyJWT,
		JWKS: string(jwks(t, es, rs))})
	other := e.client(t, e.a, clients.CreateInput{AuthMethod: clients.MethodPrivateKeyJWT,
		JWKS: string(jwks(t, newClientKey(t, "es-1", "ES256")))})
	secret := e.client(t, e.a, clients.CreateInput{})
	// The secret client's keys would verify: only its method refuses it.
	withSecret := e.claims(secret.id)

	claims := func(edit func(map[string]any)) map[string]any {
		m := e.claims(c.id)
		edit(m)
		return m
	}
	rsaPEMish, _ := json.Marshal(rs.priv.Public()) // the public key's own bytes
	replayed := signJWX(t, es, e.claims(c.id))
	if a := e.assert(t, "token", replayed); a.status != http.StatusOK {
		t.Fatalf("first use: %d %s", a.status, a.raw)
	}
	hs := gojwt.NewWithClaims(gojwt.SigningMethodHS256, gojwt.MapClaims(e.claims(c.id)))
	hs.Header["kid"] = rs.kid
	confused, err := hs.SignedString(jwks(t, rs))
	if err != nil {
		t.Fatal(err)
	}
	hs.Header["kid"] = rs.kid
	confusedRaw, _ := hs.SignedString(rsaPEMish)

	for _, tc := range []struct {
		name      string
		assertion string
		extra     []string
	}{
		{"alg none", unsigned(t, map[string]any{"alg": "none", "kid": es.kid},
			e.claims(c.id), nil), nil},
		{"HS256 keyed with the public key set", confused, nil},
		{"HS256 keyed with the public key's bytes", confusedRaw, nil},
		{"ES256 in the header over an RSA key", unsigned(t,
			map[string]any{"alg": "ES256", "kid": rs.kid}, e.claims(c.id), randomBytes(64)),
			nil},
		{"a wrong iss", signJWX(t, es, claims(func(m map[string]any) { m["iss"] = other.id })),
			nil},
		{"a wrong sub", signJWX(t, es, claims(func(m map[string]any) { m["sub"] = other.id })),
			nil},
		{"another client's key", signJWX(t, newClientKey(t, "es-1", "ES256"), e.claims(c.id)),
			nil},
		{"a wrong aud", signJWX(t, es, claims(func(m map[string]any) {
			m["aud"] = e.srv.URL + "/t/beta/oauth2/token"
		})), nil},
		{"expired", signJWX(t, es, claims(func(m map[string]any) {
			m["exp"] = e.clk.Now().Add(-time.Minute).Unix()
		})), nil},
		{"no exp", signJWX(t, es, claims(func(m map[string]any) { delete(m, "exp") })), nil},
		{"exp an hour ahead", signJWX(t, es, claims(func(m map[string]any) {
			m["exp"] = e.clk.Now().Add(time.Hour).Unix()
		})), nil},
		{"nbf in the future", signJWX(t, es, claims(func(m map[string]any) {
			m["nbf"] = e.clk.Now().Add(2 * time.Minute).Unix()
		})), nil},
		{"no jti", signJWX(t, es, claims(func(m map[string]any) { delete(m, "jti") })), nil},
		{"a replayed jti", replayed, nil},
		{"an unknown kid", signJWX(t, newClientKey(t, "nobody", "ES256"), e.claims(c.id)), nil},
		{"a client_id other than sub", signJWX(t, es, e.claims(c.id)),
			[]string{"client_id", other.id}},
		{"a client registered with a secret", signJWX(t, es, withSecret), nil},
		{"garbage", "x.y.z", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := e.assert(t, "token", tc.assertion, tc.extra...)
			if a.status != http.StatusUnauthorized || a.body["error"] != "invalid_client" {
				t.Errorf("got %d %s, want 401 invalid_client", a.status, a.raw)
			}
			if _, ok := a.body["access_token"]; ok {
				t.Error("a token was issued")
			}
		})
	}

	t.Run("an assertion with Basic is invalid_request", func(t *testing.T) {
		f := form("grant_type", "client_credentials", "client_assertion_type",
			clients.AssertionType, "client_assertion", signJWX(t, es, e.claims(c.id)))
		a := e.do(t, request{path: "/t/acme/oauth2/token", form: f, basic: &secret})
		if a.status != http.StatusBadRequest || a.body["error"] != "invalid_request" {
			t.Errorf("got %d %s, want 400 invalid_request", a.status, a.raw)
		}
	})
	t.Run("another assertion type is invalid_client", func(t *testing.T) {
		a := e.do(t, request{path: "/t/acme/oauth2/token", form: form("grant_type",
			"client_credentials", "client_assertion_type", "urn:example:saml",
			"client_assertion", signJWX(t, es, e.claims(c.id)))})
		if a.status != http.StatusUnauthorized || a.body["error"] != "invalid_client" {
			t.Errorf("got %d %s, want 401 invalid_client", a.status, a.raw)
		}
	})
}

func TestPrivateKeyJWTRefetchesTheKeySetForANewKid(t *testing.T) {
	e := newEnv(t)
	old := newClientKey(t, "k1", "ES256")
	next := newClientKey(t, "k2", "RS256")
	uri := e.clientKeys.publish("/rotating/jwks.json", jwks(t, old))
	c := e.client(t, e.a, clients.CreateInput{AuthMethod: clients.MethodPrivateKeyJWT,
		JWKSURI: uri})
	if a := e.assert(t, "token", signJWX(t, old, e.claims(c.id))); a.status != http.StatusOK {
		t.Fatalf("old key: %d %s", a.status, a.raw)
	}
	e.clientKeys.publish("/rotating/jwks.json", jwks(t, old, next))

	// Within a minute of the last fetch, an unknown kid fetches nothing.
	before := e.clientKeys.fetches.Load()
	if a := e.assert(t, "token", signJWX(t, next, e.claims(c.id))); a.status != 401 {
		t.Fatalf("new key within a minute: %d %s, want 401", a.status, a.raw)
	}
	if got := e.clientKeys.fetches.Load(); got != before {
		t.Errorf("fetched %d times more, want none", got-before)
	}

	e.clk.Add(61 * time.Second)
	if a := e.assert(t, "token", signJWX(t, next, e.claims(c.id))); a.status != http.StatusOK {
		t.Fatalf("new key after a minute: %d %s", a.status, a.raw)
	}
	if got := e.clientKeys.fetches.Load(); got != before+1 {
		t.Errorf("fetched %d times more, want once", got-before)
	}
}

func TestPrivateKeyJWTNeedsAnHTTPSKeySet(t *testing.T) {
	e := newEnv(t)
	k := newClientKey(t, "k1", "ES256")
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write(jwks(t, k))
	}))
	defer plain.Close()
	// The registry admits http on loopback; fetching refuses anything but https.
	c := e.client(t, e.a, clients.CreateInput{AuthMethod: clients.MethodPrivateKeyJWT,
		JWKSURI: plain.URL + "/jwks.json"})
	if a := e.assert(t, "token", signJWX(t, k, e.claims(c.id))); a.status != 401 {
		t.Errorf("got %d %s, want 401", a.status, a.raw)
	}
}
