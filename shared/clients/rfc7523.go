package clients

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/store"
)

// AssertionType is the client_assertion_type of a JWT client assertion
// (RFC 7523 section 2.2).
const AssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// Bounds of client assertions (private_key_jwt).
const (
	// MaxAssertionBytes bounds a presented assertion before it is parsed.
	MaxAssertionBytes = 8 << 10
	// MaxAssertionLifetime is how far ahead of now an assertion's exp may
	// be: an assertion is made for one request, so a long-lived one is
	// more likely stolen than needed.
	MaxAssertionLifetime = 5 * time.Minute
	// AssertionSkew is the clock difference allowed on exp, nbf and iat.
	AssertionSkew = 30 * time.Second
	// maxJTIBytes bounds an assertion's jti.
	maxJTIBytes = 256
)

// Fetching a client's jwks_uri.
const (
	jwksTimeout  = 5 * time.Second
	maxJWKSBytes = 64 << 10
	// jwksFresh is how long a fetched key set is used without fetching
	// it again.
	jwksFresh = 5 * time.Minute
	// jwksRefetchAfter is how soon an unknown kid may fetch the set again:
	// at most once a minute per URI, so that assertions with made-up kids
	// cannot make Ward hammer a client's server.
	jwksRefetchAfter = time.Minute
	maxJWKSCached    = 1024
)

// errRefused is the cause of every refused assertion; its reason is
// logged, never answered.
var errRefused = errors.New("client assertion refused")

func refuse(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errRefused}, args...)...)
}

// assertionClaims are the claims RFC 7523 section 3 and OpenID Connect
// Core section 9 ask of a client assertion. Audience is a string or an
// array (RFC 7519 section 4.1.3).
type assertionClaims struct {
	Issuer    string          `json:"iss"`
	Subject   string          `json:"sub"`
	Audience  json.RawMessage `json:"aud"`
	Expiry    *float64        `json:"exp"`
	NotBefore *float64        `json:"nbf"`
	IssuedAt  *float64        `json:"iat"`
	JTI       string          `json:"jti"`
}

func (c assertionClaims) audiences() []string {
	var one string
	if json.Unmarshal(c.Audience, &one) == nil {
		return []string{one}
	}
	var many []string
	_ = json.Unmarshal(c.Audience, &many)
	return many
}

// authenticateAssertion checks a private_key_jwt client assertion (RFC
// 7523 sections 2.2 and 3, OpenID Connect Core section 9). Every refusal
// is the one invalid_client answer; the reason goes to the log.
func (s *service) authenticateAssertion(ctx context.Context, in AuthenticateInput) (Client,
	error) {
	if s.cache == nil {
		return Client{}, errs.New(errs.Unavailable,
			"private_key_jwt needs a cache to refuse replayed assertions")
	}
	cl, err := s.verifyAssertion(ctx, in)
	if errors.Is(err, errRefused) {
		s.log.WarnContext(ctx, "client assertion refused", "tenant", in.TenantID,
			"reason", err.Error(), "request_id", function.RequestID(ctx))
		return Client{}, invalidClient()
	}
	if err != nil {
		return Client{}, err
	}
	return view(cl), nil
}

func (s *service) verifyAssertion(ctx context.Context, in AuthenticateInput) (
	store.OAuthClient, error) {
	raw := []byte(in.Assertion)
	if len(raw) == 0 || len(raw) > MaxAssertionBytes {
		return store.OAuthClient{}, refuse("empty or too large")
	}
	msg, err := jws.Parse(raw, jws.WithCompact())
	if err != nil || len(msg.Signatures()) != 1 {
		return store.OAuthClient{}, refuse("not a compact JWS")
	}
	h := msg.Signatures()[0].ProtectedHeaders()
	alg, _ := h.Algorithm()
	kid, _ := h.KeyID()
	// ES256 and RS256 only: "none" and the HMAC algorithms never, since a
	// client's keys are public (an HMAC "signed" with a public key is
	// algorithm confusion).
	if alg != jwa.ES256() && alg != jwa.RS256() {
		return store.OAuthClient{}, refuse("algorithm %q", alg.String())
	}

	// UnverifiedClaims name the client whose keys verify them; nothing
	// else is believed before the signature is.
	var unverified assertionClaims
	if err := json.Unmarshal(msg.Payload(), &unverified); err != nil {
		return store.OAuthClient{}, refuse("claims are not a JSON object")
	}
	id := unverified.Subject
	if in.ClientID != "" && in.ClientID != id {
		// RFC 7523 section 3: sub is the client_id; a client_id parameter
		// must name the same client.
		return store.OAuthClient{}, refuse("client_id differs from sub")
	}
	cl, found, err := s.lookup(ctx, in.TenantID, id)
	if err != nil {
		return store.OAuthClient{}, err
	}
	if !found || cl.AuthMethod != MethodPrivateKeyJWT {
		return store.OAuthClient{}, refuse("no private_key_jwt client of that ID")
	}

	pub, err := s.keys.find(ctx, cl, kid, alg)
	if err != nil {
		return store.OAuthClient{}, err
	}
	payload, err := jws.Verify(raw, jws.WithKey(alg, pub))
	if err != nil {
		return store.OAuthClient{}, refuse("bad signature")
	}
	var c assertionClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return store.OAuthClient{}, refuse("claims are not a JSON object")
	}
	if err := s.checkClaims(c, cl.ID, in.Audiences); err != nil {
		return store.OAuthClient{}, err
	}
	if err := s.spendJTI(ctx, cl, c); err != nil {
		return store.OAuthClient{}, err
	}
	return cl, nil
}

// checkClaims applies RFC 7523 section 3 and OpenID Connect Core section
// 9 to verified claims.
func (s *service) checkClaims(c assertionClaims, clientID string, audiences []string) error {
	now := s.now()
	at := func(v float64) time.Time { return time.Unix(0, int64(v*float64(time.Second))) }
	switch {
	// RFC 7523 3 (1), (2); OIDC Core 9: iss and sub are both the client_id.
	case c.Issuer != clientID || c.Subject != clientID:
		return refuse("iss or sub is not the client_id")
	// RFC 7523 3 (3): aud must identify this server; Ward takes the token
	// endpoint's URL or the issuer.
	case !slices.ContainsFunc(c.audiences(), func(a string) bool {
		return a != "" && slices.Contains(audiences, a)
	}):
		return refuse("aud names neither the token endpoint nor the issuer")
	// RFC 7523 3 (4): exp is required and must not have passed.
	case c.Expiry == nil:
		return refuse("no exp")
	case !now.Before(at(*c.Expiry).Add(AssertionSkew)):
		return refuse("expired")
	case at(*c.Expiry).After(now.Add(MaxAssertionLifetime + AssertionSkew)):
		return refuse("exp too far ahead")
	// RFC 7523 3 (5), (6): nbf and iat, when present, are honoured.
	case c.NotBefore != nil && at(*c.NotBefore).After(now.Add(AssertionSkew)):
		return refuse("not yet valid")
	case c.IssuedAt != nil && at(*c.IssuedAt).After(now.Add(AssertionSkew)):
		return refuse("issued in the future")
	// OIDC Core 9: jti is required, so that the assertion is used once.
	case c.JTI == "" || len(c.JTI) > maxJTIBytes:
		return refuse("no jti, or too long")
	}
	return nil
}

// spendJTI marks the assertion's jti used until it expires (RFC 7523
// section 3 (7) allows, OpenID Connect Core section 9 asks, that an
// assertion be used once). It runs after the signature and the claims
// are checked, so that nobody but the client can spend its jtis. Keys are
// per tenant and client, and hold the jti's SHA-256 only.
func (s *service) spendJTI(ctx context.Context, cl store.OAuthClient, c assertionClaims) error {
	sum := sha256.Sum256([]byte(c.JTI))
	key := "clients:jti:" + cl.TenantID + ":" + cl.ID + ":" + hex.EncodeToString(sum[:])
	exp := time.Unix(int64(*c.Expiry), 0).Add(AssertionSkew)
	ttl := max(exp.Sub(s.now()), time.Second)
	fresh, err := s.cache.SetNX(ctx, key, []byte{1}, ttl)
	if err != nil {
		return errs.Wrap(errs.Unavailable, err, "the cache is not reachable")
	}
	if !fresh {
		return refuse("jti replayed")
	}
	return nil
}

// keySource finds the public keys of private_key_jwt clients: inline key
// sets as registered, and jwks_uri sets fetched over https and kept for a
// few minutes.
type keySource struct {
	http *http.Client
	now  func() time.Time

	mu      sync.Mutex
	fetched map[string]*fetchedSet // by URI
}

type fetchedSet struct {
	set jwk.Set
	at  time.Time // when it was fetched; the zero time if never
	// tried is when a fetch was last tried, whatever its outcome.
	tried time.Time
}

func newKeySource(client *http.Client, now func() time.Time) *keySource {
	if client == nil {
		client = &http.Client{Timeout: jwksTimeout}
	}
	c := *client
	// A key set is fetched where it was registered, never elsewhere.
	c.CheckRedirect = func(*http.Request, []*http.Request) error {
		return errors.New("redirects are not followed")
	}
	return &keySource{http: &c, now: now, fetched: map[string]*fetchedSet{}}
}

// find returns the client's public key for an assertion signed with alg
// under kid. An unknown kid fetches a jwks_uri set again, at most once per
// jwksRefetchAfter (OpenID Connect Core section 10.1.1: a client rotates
// by publishing a new key).
func (k *keySource) find(ctx context.Context, cl store.OAuthClient, kid string,
	alg jwa.SignatureAlgorithm) (any, error) {
	if cl.JWKS != "" {
		set, err := jwk.Parse([]byte(cl.JWKS))
		if err != nil {
			return nil, refuse("the registered jwks does not parse")
		}
		return pick(set, kid, alg)
	}
	set, err := k.set(ctx, cl.JWKSURI, false)
	if err != nil {
		return nil, err
	}
	pub, err := pick(set, kid, alg)
	if err == nil || !errors.Is(err, errUnknownKID) {
		return pub, err
	}
	if set, err = k.set(ctx, cl.JWKSURI, true); err != nil {
		return nil, err
	}
	return pick(set, kid, alg)
}

var errUnknownKID = refuse("unknown kid")

// set returns the key set at uri: the one fetched within jwksFresh, or a
// new fetch. With refresh, a set is fetched again unless a fetch was tried
// within jwksRefetchAfter.
func (k *keySource) set(ctx context.Context, uri string, refresh bool) (jwk.Set, error) {
	now := k.now()
	k.mu.Lock()
	f := k.fetched[uri]
	if f == nil {
		if len(k.fetched) >= maxJWKSCached {
			clear(k.fetched)
		}
		f = &fetchedSet{}
		k.fetched[uri] = f
	}
	fresh := f.set != nil && now.Sub(f.at) < jwksFresh && !refresh
	mayFetch := now.Sub(f.tried) >= jwksRefetchAfter || f.set == nil && f.tried.IsZero()
	if fresh || !mayFetch {
		set := f.set
		k.mu.Unlock()
		if set == nil {
			return nil, refuse("the jwks_uri set is not available")
		}
		return set, nil
	}
	f.tried = now
	k.mu.Unlock()

	set, err := k.fetch(ctx, uri)
	k.mu.Lock()
	defer k.mu.Unlock()
	if err != nil {
		if f.set != nil { // keep using the set fetched before
			return f.set, nil
		}
		return nil, err
	}
	f.set, f.at = set, now
	return set, nil
}

// fetch reads a key set over https, within jwksTimeout and maxJWKSBytes.
func (k *keySource) fetch(ctx context.Context, uri string) (jwk.Set, error) {
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "https" {
		return nil, refuse("jwks_uri is not https")
	}
	ctx, cancel := context.WithTimeout(ctx, jwksTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, uri, nil)
	if err != nil {
		return nil, refuse("jwks_uri: %v", err)
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := k.http.Do(req)
	if err != nil {
		return nil, refuse("jwks_uri: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, refuse("jwks_uri answered %d", resp.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
	if err != nil || len(b) > maxJWKSBytes {
		return nil, refuse("jwks_uri: unreadable or over %d bytes", maxJWKSBytes)
	}
	set, err := jwk.Parse(b)
	if err != nil {
		return nil, refuse("jwks_uri: not a key set")
	}
	return set, nil
}

// pick finds the key named kid (or, without a kid, the set's only key)
// and checks that it is a public key of the type alg needs: an EC P-256
// key for ES256, an RSA key of 2048 bits or more for RS256. A key whose
// own "alg" or "use" says otherwise is refused.
func pick(set jwk.Set, kid string, alg jwa.SignatureAlgorithm) (any, error) {
	var key jwk.Key
	switch {
	case kid == "" && set.Len() == 1:
		key, _ = set.Key(0)
	case kid != "":
		key, _ = set.LookupKeyID(kid)
	}
	if key == nil {
		if kid == "" {
			return nil, refuse("no kid, and the set holds more than one key")
		}
		return nil, errUnknownKID
	}
	if a, ok := key.Algorithm(); ok && a.String() != alg.String() {
		return nil, refuse("the key's alg is %q", a.String())
	}
	if use, ok := key.KeyUsage(); ok && use != "sig" {
		return nil, refuse("the key's use is %q", use)
	}
	var raw any
	if err := jwk.Export(key, &raw); err != nil {
		return nil, refuse("the key does not export")
	}
	switch pub := raw.(type) {
	case *ecdsa.PublicKey:
		if alg == jwa.ES256() && pub.Curve == elliptic.P256() {
			return pub, nil
		}
	case *rsa.PublicKey:
		if alg == jwa.RS256() && pub.N.BitLen() >= 2048 {
			return pub, nil
		}
	}
	return nil, refuse("the key does not fit %s", alg.String())
}
