// Package keys keeps each tenant's OAuth 2.0 / OpenID Connect signing
// keys: it makes a tenant's first key when one is needed, rotates keys
// with an overlap, signs with the active key, gives the public key set
// (JWKS) that relying parties verify with, and verifies signatures
// against that set for Ward's own introspection (Verify).
//
// # Rotation
//
// A tenant has one ACTIVE key, which signs, and the RETIRING keys of
// earlier rotations (store.SigningKeyState). Rotate makes a new key
// ACTIVE and turns the old one RETIRING until now + Overlap: it signs
// nothing more, but stays in the key set, so tokens it signed keep
// verifying until they expire. Overlap must therefore be longer than any
// token's lifetime (default 24 hours). After it, the key is left out of
// the key set, and the next rotation drops it from the store with its
// sealed private key. A tenant holds at most store.MaxSigningKeys keys; a
// rotation that would pass the bound is refused (CONFLICT) until the
// oldest retiring key's overlap ends.
//
// # Private keys at rest
//
// Private keys (PKCS #8) are sealed with AES-256-GCM under a 32-byte
// master key (WARD_OAUTH_KEY), bound to their tenant, key ID and
// algorithm as additional data, and stored only sealed; the store never
// sees the master key. Without a master key nothing can be signed or made
// (UNAVAILABLE), but the key set of existing keys is still served. A
// private key that does not open (another master key, a record moved
// elsewhere) is an INTERNAL error whose cause is ErrKeyDoesNotOpen.
//
// # Caching
//
// A tenant's set is kept in process for setTTL and opened private keys
// for as long as the process lives (they never change under their ID).
// Another process's rotation is therefore seen here within setTTL; until
// then this process signs with the previous key, which the overlap keeps
// valid.
//
// Known shortcomings: envelope encryption with AWS KMS (a data key per
// tenant, wrapped by KMS) is not done; the master key is the only key
// encryption key, and changing it needs every sealed key re-sealed, for
// which there is no tool yet. A new key is published at the moment it
// starts signing (no pre-published NEXT key), so a relying party holding
// a cached key set must fetch it again on an unknown "kid", as OpenID
// Connect Core section 10.1.1 expects it to.
package keys

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
)

const (
	// DefaultOverlap is how long a rotated-out key keeps verifying.
	DefaultOverlap = 24 * time.Hour
	// MinOverlap bounds Options.Overlap from below: it must outlast
	// setTTL, the time another process may still sign with the old key.
	MinOverlap = time.Minute
	// DefaultAlgorithm is the algorithm of a tenant's keys unless an
	// administrator asks for another.
	DefaultAlgorithm = store.SigningAlgorithmES
	// rsaBits is the size of RS256 keys.
	rsaBits = 2048
	// setTTL is how long a tenant's set is kept in process.
	setTTL = 10 * time.Second
	// maxCached bounds the sets and opened keys kept in process.
	maxCached = 10000
)

// Options tune a Manager; the zero value is fine.
type Options struct {
	Overlap time.Duration    // zero: DefaultOverlap
	Now     func() time.Time // nil: time.Now
	Log     *slog.Logger     // nil: slog.Default()
}

// Manager keeps the tenants' signing keys. It is safe for concurrent use.
type Manager struct {
	st      store.SigningKeys
	sealer  *sealer // nil without a master key
	overlap time.Duration
	now     func() time.Time
	log     *slog.Logger

	mu      sync.Mutex
	sets    map[string]cachedSet // tenant ID → set
	signers map[string]signer    // tenant ID + "/" + kid → opened key
	public  map[string]jwk.Key   // tenant ID + "/" + kid → parsed public key
}

type cachedSet struct {
	set store.SigningKeySet
	at  time.Time
}

type signer struct {
	alg jwa.SignatureAlgorithm
	key crypto.Signer
}

// New returns a Manager over st. master is the 32-byte master key, or nil
// when none is configured (see the package comment).
func New(st store.SigningKeys, master []byte, o Options) (*Manager, error) {
	m := &Manager{st: st, overlap: o.Overlap, now: o.Now, log: o.Log,
		sets: map[string]cachedSet{}, signers: map[string]signer{},
		public: map[string]jwk.Key{}}
	if master != nil {
		s, err := newSealer(master)
		if err != nil {
			return nil, err
		}
		m.sealer = s
	}
	switch {
	case m.overlap == 0:
		m.overlap = DefaultOverlap
	case m.overlap < MinOverlap:
		return nil, errors.New("keys: the overlap must be at least a minute")
	}
	if m.now == nil {
		m.now = time.Now
	}
	if m.log == nil {
		m.log = slog.Default()
	}
	return m, nil
}

func noMasterKey() error {
	return errs.New(errs.Unavailable,
		"signing keys are not available: no OAuth master key is configured (WARD_OAUTH_KEY)")
}

// Ensure returns the tenant's set, making its first key (DefaultAlgorithm)
// when it has none. Concurrent first calls make one key: the losers of
// the store's create read the winner's.
func (m *Manager) Ensure(ctx context.Context, tenantID string) (store.SigningKeySet, error) {
	set, err := m.current(ctx, tenantID)
	if errs.CodeOf(err) != errs.NotFound {
		return set, err
	}
	if m.sealer == nil {
		return store.SigningKeySet{}, noMasterKey()
	}
	now := m.now()
	k, err := m.newKey(tenantID, DefaultAlgorithm, now)
	if err != nil {
		return store.SigningKeySet{}, err
	}
	set, err = m.st.Create(ctx, store.SigningKeySet{TenantID: tenantID,
		Keys: []store.SigningKey{k}, UpdatedAt: now})
	if errs.CodeOf(err) == errs.Conflict {
		return m.reload(ctx, tenantID)
	}
	if err != nil {
		return store.SigningKeySet{}, err
	}
	m.keep(set)
	return set, nil
}

// Rotate makes a new key of alg (DefaultAlgorithm when empty) the
// tenant's ACTIVE key and turns the old one RETIRING for the overlap; a
// tenant without keys gets its first. It returns the new set.
func (m *Manager) Rotate(ctx context.Context, tenantID, alg string) (store.SigningKeySet,
	error) {
	if alg == "" {
		alg = DefaultAlgorithm
	}
	if alg != store.SigningAlgorithmES && alg != store.SigningAlgorithmRSA {
		return store.SigningKeySet{}, errs.Invalid("algorithm", "must be ES256 or RS256")
	}
	if m.sealer == nil {
		return store.SigningKeySet{}, noMasterKey()
	}
	now := m.now()
	k, err := m.newKey(tenantID, alg, now)
	if err != nil {
		return store.SigningKeySet{}, err
	}
	set, err := m.st.Update(ctx, tenantID, func(s store.SigningKeySet) (store.SigningKeySet,
		error) {
		return rotated(s, k, now, m.overlap)
	})
	if errs.CodeOf(err) == errs.NotFound {
		set, err = m.st.Create(ctx, store.SigningKeySet{TenantID: tenantID,
			Keys: []store.SigningKey{k}, UpdatedAt: now})
	}
	if err != nil {
		return store.SigningKeySet{}, err
	}
	m.keep(set)
	return set, nil
}

// rotated is s with k ACTIVE, the old active key RETIRING until now +
// overlap, and the keys whose overlap has ended dropped.
func rotated(s store.SigningKeySet, k store.SigningKey, now time.Time,
	overlap time.Duration) (store.SigningKeySet, error) {
	var keys []store.SigningKey
	for _, old := range s.Keys {
		switch {
		case old.State == store.SigningKeyActive:
			old.State, old.RetireAfter = store.SigningKeyRetiring, now.Add(overlap)
		case !now.Before(old.RetireAfter):
			continue // retired: no longer published, now forgotten
		}
		keys = append(keys, old)
	}
	if len(keys)+1 > store.MaxSigningKeys {
		return s, errs.New(errs.Conflict,
			"too many keys are still in their overlap; rotate again once the oldest retires")
	}
	s.Keys = append(keys, k)
	s.UpdatedAt = now
	return s, nil
}

// newKey makes a key pair and seals its private half.
func (m *Manager) newKey(tenantID, alg string, now time.Time) (store.SigningKey, error) {
	kid := uuid.Must(uuid.NewV7()).String()
	var priv crypto.Signer
	var err error
	switch alg {
	case store.SigningAlgorithmRSA:
		priv, err = rsa.GenerateKey(rand.Reader, rsaBits)
	default:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	if err != nil {
		return store.SigningKey{}, errs.Wrap(errs.Internal, err, "internal error")
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return store.SigningKey{}, errs.Wrap(errs.Internal, err, "internal error")
	}
	pub, err := publicJWK(priv.Public(), kid, alg)
	if err != nil {
		return store.SigningKey{}, errs.Wrap(errs.Internal, err, "internal error")
	}
	return store.SigningKey{
		ID: kid, Algorithm: alg, State: store.SigningKeyActive, CreatedAt: now, ActivatedAt: now,
		PublicJWK:  pub,
		PrivateKey: m.sealer.seal(der, sealedAD(tenantID, kid, alg)),
	}, nil
}

// publicJWK is the published form of a public key: kid, alg and use=sig.
func publicJWK(pub crypto.PublicKey, kid, alg string) (string, error) {
	k, err := jwk.Import(pub)
	if err != nil {
		return "", err
	}
	sa, ok := jwa.LookupSignatureAlgorithm(alg)
	if !ok {
		return "", errors.New("keys: unknown algorithm " + alg)
	}
	for name, v := range map[string]any{jwk.KeyIDKey: kid, jwk.AlgorithmKey: sa,
		jwk.KeyUsageKey: jwk.ForSignature} {
		if err := k.Set(name, v); err != nil {
			return "", err
		}
	}
	b, err := json.Marshal(k)
	return string(b), err
}

// Sign signs payload with the tenant's ACTIVE key, making the tenant's
// first key when it has none, and returns the JWS in compact form. Its
// protected header has alg, kid and, when typ is not empty, typ ("JWT",
// "at+jwt", ...). The payload is signed as given: a JWT's claims are the
// caller's to set.
func (m *Manager) Sign(ctx context.Context, tenantID string, payload []byte, typ string) (
	string, error) {
	set, err := m.Ensure(ctx, tenantID)
	if err != nil {
		return "", err
	}
	k, ok := set.Active()
	if !ok {
		return "", errs.New(errs.Internal, "the tenant's signing keys have no active key")
	}
	s, err := m.signer(tenantID, k)
	if err != nil {
		return "", err
	}
	h := jws.NewHeaders()
	if err := h.Set(jws.KeyIDKey, k.ID); err != nil {
		return "", errs.Wrap(errs.Internal, err, "internal error")
	}
	if typ != "" {
		if err := h.Set(jws.TypeKey, typ); err != nil {
			return "", errs.Wrap(errs.Internal, err, "internal error")
		}
	}
	out, err := jws.Sign(payload, jws.WithKey(s.alg, s.key, jws.WithProtectedHeaders(h)))
	if err != nil {
		return "", errs.Wrap(errs.Internal, err, "internal error")
	}
	return string(out), nil
}

// signer opens the key's private half, once per process.
func (m *Manager) signer(tenantID string, k store.SigningKey) (signer, error) {
	id := tenantID + "/" + k.ID
	m.mu.Lock()
	s, ok := m.signers[id]
	m.mu.Unlock()
	if ok {
		return s, nil
	}
	if m.sealer == nil {
		return signer{}, noMasterKey()
	}
	der, err := m.sealer.open(k.PrivateKey, sealedAD(tenantID, k.ID, k.Algorithm))
	if err != nil {
		m.log.Error("keys: a signing key does not open", "tenant", tenantID, "kid", k.ID)
		return signer{}, err
	}
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return signer{}, errs.Wrap(errs.Internal, err, "a signing key is damaged")
	}
	s.key, ok = parsed.(crypto.Signer)
	alg, known := jwa.LookupSignatureAlgorithm(k.Algorithm)
	if !ok || !known || !fits(s.key, k.Algorithm) {
		return signer{}, errs.New(errs.Internal, "a signing key does not fit its algorithm")
	}
	s.alg = alg
	m.mu.Lock()
	if len(m.signers) >= maxCached {
		clear(m.signers)
	}
	m.signers[id] = s
	m.mu.Unlock()
	return s, nil
}

func fits(key crypto.Signer, alg string) bool {
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		return alg == store.SigningAlgorithmES && k.Curve == elliptic.P256()
	case *rsa.PrivateKey:
		return alg == store.SigningAlgorithmRSA
	}
	return false
}

// Published returns the keys that verify now: the ACTIVE key and the
// RETIRING keys still in their overlap. A tenant without keys has none;
// Published never makes one.
func (m *Manager) Published(ctx context.Context, tenantID string) ([]store.SigningKey, error) {
	set, err := m.current(ctx, tenantID)
	if errs.CodeOf(err) == errs.NotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return set.Published(m.now()), nil
}

// JWKS is the tenant's public key set as JSON (RFC 7517 section 5):
// {"keys": [...]} with the published keys, newest first.
func (m *Manager) JWKS(ctx context.Context, tenantID string) ([]byte, error) {
	keys, err := m.Published(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	out := struct {
		Keys []json.RawMessage `json:"keys"`
	}{Keys: []json.RawMessage{}}
	for i := len(keys) - 1; i >= 0; i-- {
		out.Keys = append(out.Keys, json.RawMessage(keys[i].PublicJWK))
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, errs.Wrap(errs.Internal, err, "internal error")
	}
	return b, nil
}

// List returns every key the tenant's set holds (retired ones included
// until the next rotation drops them), in order of creation; nil when
// the tenant has none.
func (m *Manager) List(ctx context.Context, tenantID string) ([]store.SigningKey, error) {
	set, err := m.reload(ctx, tenantID)
	if errs.CodeOf(err) == errs.NotFound {
		return nil, nil
	}
	return set.Keys, err
}

// current is the tenant's set, from the process's copy when it is fresh.
func (m *Manager) current(ctx context.Context, tenantID string) (store.SigningKeySet, error) {
	m.mu.Lock()
	c, ok := m.sets[tenantID]
	m.mu.Unlock()
	if ok && m.now().Sub(c.at) < setTTL {
		return c.set, nil
	}
	return m.reload(ctx, tenantID)
}

func (m *Manager) reload(ctx context.Context, tenantID string) (store.SigningKeySet, error) {
	set, err := m.st.Get(ctx, tenantID)
	if err != nil {
		return store.SigningKeySet{}, err
	}
	m.keep(set)
	return set, nil
}

func (m *Manager) keep(set store.SigningKeySet) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.sets) >= maxCached {
		clear(m.sets)
	}
	if c, ok := m.sets[set.TenantID]; ok && c.set.Version > set.Version {
		return // a newer set is kept already
	}
	m.sets[set.TenantID] = cachedSet{set: set, at: m.now()}
}
