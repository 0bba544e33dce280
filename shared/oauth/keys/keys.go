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
// Private keys (PKCS #8) are sealed with AES-256-GCM, bound to their
// tenant, key ID and algorithm as additional data, and stored only
// sealed. The key that seals them is one of two key encryptions, chosen
// at configuration:
//
//   - local: the 32-byte master key (WARD_OAUTH_KEY) itself;
//   - kms: a data key of the tenant's own, made by a key management
//     service (Options.DataKeys, AWS KMS in production) and stored only as
//     the service wrapped it, beside the tenant's keys
//     (store.SigningKeySet.DataKey). The service binds the wrapped key to
//     the tenant; it is unwrapped once per process and tenant and kept in
//     process memory.
//
// Each key records which one sealed it (store.SigningKey.Sealing). New
// keys are sealed with kms when it is configured, else with local; a key
// opens with whichever sealed it, so with both configured the keys sealed
// under the master key before KMS was configured keep signing until they
// are rotated out. Nothing re-seals existing keys: rotating every tenant
// once is the migration. The store never sees the master key nor a data
// key in the clear. Without either key encryption nothing can be signed
// or made (UNAVAILABLE), but the key set of existing keys is still
// served. A private key that does not open (another master key, a record
// moved elsewhere, a data key KMS refuses) is an INTERNAL error whose
// cause is ErrKeyDoesNotOpen; an unreachable KMS is UNAVAILABLE.
//
// # Caching
//
// A tenant's set is kept in process for setTTL and opened private keys
// for as long as the process lives (they never change under their ID).
// Another process's rotation is therefore seen here within setTTL; until
// then this process signs with the previous key, which the overlap keeps
// valid.
//
// Known shortcomings: a tenant's data key is made once and never
// rotated (rotating the KMS key itself is KMS's business and needs
// nothing here); changing the master key, or moving from it to KMS, takes
// a rotation of every tenant's keys and the overlap's wait, for which
// there is no tool yet. A new key is published at the moment it
// starts signing (no pre-published NEXT key), so a relying party holding
// a cached key set must fetch it again on an unknown "kid", as OpenID
// Connect Core section 10.1.1 expects it to.
package keys

import (
	"bytes"
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
	// DataKeys, when set, seals new keys under per-tenant data keys it
	// wraps (the kms key encryption); nil: the master key seals them.
	DataKeys DataKeys
}

// Manager keeps the tenants' signing keys. It is safe for concurrent use.
type Manager struct {
	st store.SigningKeys
	// encs are the configured key encryptions by kind, sealWith the one
	// that seals new keys (nil: none is configured).
	encs     map[string]keyEncryption
	sealWith keyEncryption
	overlap  time.Duration
	now      func() time.Time
	log      *slog.Logger

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
// when none is configured; o.DataKeys configures KMS (see the package
// comment).
func New(st store.SigningKeys, master []byte, o Options) (*Manager, error) {
	m := &Manager{st: st, overlap: o.Overlap, now: o.Now, log: o.Log,
		encs: map[string]keyEncryption{}, sets: map[string]cachedSet{},
		signers: map[string]signer{}, public: map[string]jwk.Key{}}
	if master != nil {
		l, err := newLocal(master)
		if err != nil {
			return nil, err
		}
		m.encs[l.kind()], m.sealWith = l, l
	}
	if o.DataKeys != nil {
		e := newEnvelope(o.DataKeys)
		m.encs[e.kind()], m.sealWith = e, e
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

func noKeyEncryption() error {
	return errs.New(errs.Unavailable, "signing keys are not available: neither an OAuth "+
		"master key (WARD_OAUTH_KEY) nor a KMS key (WARD_OAUTH_KMS_KEY_ID) is configured")
}

// Ensure returns the tenant's set, making its first key (DefaultAlgorithm)
// when it has none. Concurrent first calls make one key: the losers of
// the store's create read the winner's.
func (m *Manager) Ensure(ctx context.Context, tenantID string) (store.SigningKeySet, error) {
	set, err := m.current(ctx, tenantID)
	if errs.CodeOf(err) != errs.NotFound {
		return set, err
	}
	if m.sealWith == nil {
		return store.SigningKeySet{}, noKeyEncryption()
	}
	now := m.now()
	k, dataKey, err := m.newKey(ctx, tenantID, DefaultAlgorithm, now, nil)
	if err != nil {
		return store.SigningKeySet{}, err
	}
	set, err = m.st.Create(ctx, store.SigningKeySet{TenantID: tenantID,
		Keys: []store.SigningKey{k}, DataKey: dataKey, UpdatedAt: now})
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
	if m.sealWith == nil {
		return store.SigningKeySet{}, noKeyEncryption()
	}
	// A new key is sealed before the compare-and-swap, under the data key
	// the set holds as read; should another process give the set its
	// first data key meanwhile, the key is sealed again under that one.
	for range 3 {
		set, err := m.rotate(ctx, tenantID, alg)
		if !errors.Is(err, errDataKeyChanged) {
			return set, err
		}
	}
	return store.SigningKeySet{}, errs.New(errs.Conflict,
		"signing keys changed concurrently; try again")
}

// errDataKeyChanged stops a rotation whose new key was sealed under
// another data key than the one the set holds now.
var errDataKeyChanged = errors.New("keys: the set's data key changed")

func (m *Manager) rotate(ctx context.Context, tenantID, alg string) (store.SigningKeySet,
	error) {
	read, err := m.st.Get(ctx, tenantID)
	if err != nil && errs.CodeOf(err) != errs.NotFound {
		return store.SigningKeySet{}, err
	}
	now := m.now()
	k, dataKey, err := m.newKey(ctx, tenantID, alg, now, read.DataKey)
	if err != nil {
		return store.SigningKeySet{}, err
	}
	set, err := m.st.Update(ctx, tenantID, func(s store.SigningKeySet) (store.SigningKeySet,
		error) {
		if dataKey != nil {
			if len(s.DataKey) > 0 && !bytes.Equal(s.DataKey, dataKey) {
				return s, errDataKeyChanged
			}
			s.DataKey = dataKey
		}
		return rotated(s, k, now, m.overlap)
	})
	if errs.CodeOf(err) == errs.NotFound {
		set, err = m.st.Create(ctx, store.SigningKeySet{TenantID: tenantID,
			Keys: []store.SigningKey{k}, DataKey: dataKey, UpdatedAt: now})
		if errs.CodeOf(err) == errs.Conflict {
			return store.SigningKeySet{}, errDataKeyChanged // created meanwhile: again
		}
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

// newKey makes a key pair and seals its private half with the key
// encryption that seals new keys. dataKey is the set's wrapped data key
// (nil: none yet); the returned one is what the set must hold (nil: no
// need).
func (m *Manager) newKey(ctx context.Context, tenantID, alg string, now time.Time,
	dataKey []byte) (store.SigningKey, []byte, error) {
	aead, dataKey, err := m.sealWith.fresh(ctx, tenantID, dataKey)
	if err != nil {
		return store.SigningKey{}, nil, err
	}
	kid := uuid.Must(uuid.NewV7()).String()
	var priv crypto.Signer
	switch alg {
	case store.SigningAlgorithmRSA:
		priv, err = rsa.GenerateKey(rand.Reader, rsaBits)
	default:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	if err != nil {
		return store.SigningKey{}, nil, errs.Wrap(errs.Internal, err, "internal error")
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return store.SigningKey{}, nil, errs.Wrap(errs.Internal, err, "internal error")
	}
	pub, err := publicJWK(priv.Public(), kid, alg)
	if err != nil {
		return store.SigningKey{}, nil, errs.Wrap(errs.Internal, err, "internal error")
	}
	return store.SigningKey{
		ID: kid, Algorithm: alg, State: store.SigningKeyActive, CreatedAt: now, ActivatedAt: now,
		PublicJWK:  pub,
		PrivateKey: seal(aead, der, sealedAD(tenantID, kid, alg)),
		Sealing:    m.sealWith.kind(),
	}, dataKey, nil
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
	s, err := m.signer(ctx, tenantID, set.DataKey, k)
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

// signer opens the key's private half, once per process, with the key
// encryption that sealed it; dataKey is its set's wrapped data key.
func (m *Manager) signer(ctx context.Context, tenantID string, dataKey []byte,
	k store.SigningKey) (signer, error) {
	id := tenantID + "/" + k.ID
	m.mu.Lock()
	s, ok := m.signers[id]
	m.mu.Unlock()
	if ok {
		return s, nil
	}
	kind := k.Sealing
	if kind == "" {
		kind = store.SealedLocal // sealed before keys said how
	}
	enc, ok := m.encs[kind]
	if !ok {
		return signer{}, notConfigured(kind)
	}
	aead, err := enc.open(ctx, tenantID, dataKey)
	if err != nil {
		m.log.Error("keys: a signing key's data key does not open", "tenant", tenantID,
			"kid", k.ID, "error", err)
		return signer{}, err
	}
	der, err := open(aead, k.PrivateKey, sealedAD(tenantID, k.ID, k.Algorithm), what(kind))
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

// notConfigured is the error of a key sealed by a key encryption this
// process is not configured with.
func notConfigured(kind string) error {
	if kind == store.SealedKMS {
		return errs.New(errs.Unavailable, "a signing key is sealed with KMS, "+
			"which is not configured (WARD_OAUTH_KMS_KEY_ID)")
	}
	return errs.New(errs.Unavailable, "a signing key is sealed under the OAuth master key, "+
		"which is not configured (WARD_OAUTH_KEY)")
}

// what names the key of a key encryption in errors.
func what(kind string) string {
	if kind == store.SealedKMS {
		return "the tenant's data key (WARD_OAUTH_KMS_KEY_ID)"
	}
	return "this master key (WARD_OAUTH_KEY)"
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
