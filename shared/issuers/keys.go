package issuers

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/store"
)

// How key sets are fetched and kept (see the package comment).
const (
	fetchTimeout    = 5 * time.Second
	maxKeySetBytes  = 256 << 10
	keySetTTL       = 10 * time.Minute
	minRefetchEvery = 30 * time.Second
	maxStale        = 24 * time.Hour
	maxKeySets      = 4096 // entries kept in one process
	minRSABits      = 2048
	maxKeysInSet    = 64
)

// pubKey is one usable verification key of a set.
type pubKey struct {
	kid string
	alg string // the key's own "alg", or ""
	raw any    // *ecdsa.PublicKey, *rsa.PublicKey or ed25519.PublicKey
}

// fits reports whether the key can verify signatures of alg.
func (k *pubKey) fits(alg string) bool {
	if k.alg != "" && k.alg != alg {
		return false
	}
	switch pk := k.raw.(type) {
	case *ecdsa.PublicKey:
		name := pk.Curve.Params().Name
		return alg == "ES256" && name == "P-256" || alg == "ES384" && name == "P-384" ||
			alg == "ES512" && name == "P-521"
	case *rsa.PublicKey:
		switch alg {
		case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512":
			return true
		}
	case ed25519.PublicKey:
		return alg == "EdDSA"
	}
	return false
}

// keySet is an issuer's usable keys.
type keySet struct {
	byKID map[string]*pubKey
	all   []*pubKey
}

// pick finds the key for a token: the one kid names, or, when kid is
// empty, the only key of the set.
func (s *keySet) pick(kid string) (*pubKey, bool) {
	if kid != "" {
		k, ok := s.byKID[kid]
		return k, ok
	}
	if len(s.all) == 1 {
		return s.all[0], true
	}
	return nil, false
}

// parseKeySet reads a JWK set and keeps its public signature keys. An
// inline set must be clean: a private or symmetric key, or a key that
// cannot serve, is an error, and so is a set without keys.
func parseKeySet(b []byte) (*keySet, error) {
	return readKeySet(b, true)
}

func readKeySet(b []byte, strict bool) (*keySet, error) {
	set, err := jwk.Parse(b)
	if err != nil {
		return nil, errors.New("the key set is not a JWK set")
	}
	if set.Len() > maxKeysInSet {
		return nil, fmt.Errorf("the key set holds more than %d keys", maxKeysInSet)
	}
	out := &keySet{byKID: map[string]*pubKey{}}
	for i := range set.Len() {
		key, _ := set.Key(i)
		k, why := usable(key)
		if why != "" {
			if strict {
				return nil, fmt.Errorf("key %d: %s", i, why)
			}
			continue
		}
		if k.kid != "" {
			if _, dup := out.byKID[k.kid]; dup {
				if strict {
					return nil, fmt.Errorf("key %d: kid %q is repeated", i, k.kid)
				}
				continue
			}
			out.byKID[k.kid] = k
		}
		out.all = append(out.all, k)
	}
	if len(out.all) == 0 {
		return nil, errors.New("the key set has no usable signature key")
	}
	return out, nil
}

// usable turns a JWK into a verification key, or says why it cannot be.
func usable(key jwk.Key) (*pubKey, string) {
	if key.KeyType() == jwa.OctetSeq() {
		return nil, "symmetric keys are never accepted"
	}
	if pk, ok := key.(interface{ IsPrivate() bool }); ok && pk.IsPrivate() {
		return nil, "a private key has no place in a published key set"
	}
	if use, ok := key.KeyUsage(); ok && use != "sig" {
		return nil, "the key's use is not sig"
	}
	k := &pubKey{}
	k.kid, _ = key.KeyID()
	if a, ok := key.Algorithm(); ok {
		k.alg = a.String()
	}
	var raw any
	if err := jwk.Export(key, &raw); err != nil {
		return nil, "the key cannot be read"
	}
	switch pk := raw.(type) {
	case *ecdsa.PublicKey, ed25519.PublicKey:
		k.raw = pk
	case *rsa.PublicKey:
		if pk.N.BitLen() < minRSABits {
			return nil, "RSA keys must have at least " + strconv.Itoa(minRSABits) + " bits"
		}
		k.raw = pk
	default:
		return nil, "the key type is not supported"
	}
	return k, ""
}

// keyCache keeps key sets in process, by issuer (ID and version for an
// inline set, ID and URI for a fetched one).
type keyCache struct {
	client *http.Client
	now    func() time.Time
	log    *slog.Logger

	mu   sync.Mutex
	sets map[string]*cachedSet
}

// cachedSet is one issuer's set. Its mutex is held across a fetch, so
// that concurrent verifications wait for one fetch instead of each
// making its own.
type cachedSet struct {
	mu      sync.Mutex
	set     *keySet
	fetched time.Time // when set was fetched; zero: never
	tried   time.Time // the last fetch attempt
	lastErr error     // the last attempt's failure
}

func newKeyCache(client *http.Client, now func() time.Time, log *slog.Logger) *keyCache {
	if client == nil {
		client = &http.Client{
			Timeout: fetchTimeout,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return errors.New("key sets are not fetched through redirects")
			},
		}
	}
	return &keyCache{client: client, now: now, log: log, sets: map[string]*cachedSet{}}
}

func (kc *keyCache) entry(key string) *cachedSet {
	kc.mu.Lock()
	defer kc.mu.Unlock()
	e, ok := kc.sets[key]
	if !ok {
		if len(kc.sets) >= maxKeySets {
			for k := range kc.sets { // drop any one: the map is a cache
				delete(kc.sets, k)
				break
			}
		}
		e = &cachedSet{}
		kc.sets[key] = e
	}
	return e
}

// errUnavailable is a set that cannot be had: verification is
// UNAVAILABLE, not the token invalid.
func errUnavailable(cause error) error {
	return errs.Wrap(errs.Unavailable, cause, "the issuer's keys are unavailable")
}

// keys returns the issuer's set, fetching it when it is missing or older
// than keySetTTL.
func (kc *keyCache) keys(ctx context.Context, ti store.TrustedIssuer) (*keySet, error) {
	if ti.JWKS != "" {
		return kc.inline(ti)
	}
	e := kc.entry(ti.ID + " " + ti.JWKSURI)
	e.mu.Lock()
	defer e.mu.Unlock()
	now := kc.now()
	if e.set != nil && now.Sub(e.fetched) < keySetTTL {
		return e.set, nil
	}
	if e.set == nil && e.lastErr != nil && now.Sub(e.tried) < time.Second {
		// A set that just failed is not asked again at once by every
		// waiting verification.
		return nil, errUnavailable(e.lastErr)
	}
	err := kc.fetch(ctx, e, ti)
	switch {
	case err == nil:
		return e.set, nil
	case e.set != nil && now.Sub(e.fetched) < maxStale:
		kc.log.LogAttrs(ctx, slog.LevelWarn, "issuers: key set refresh failed; the kept one serves",
			slog.String("request_id", function.RequestID(ctx)),
			slog.String("issuerId", ti.ID), slog.String("error", err.Error()))
		return e.set, nil
	}
	return nil, errUnavailable(err)
}

// refresh fetches the issuer's set again after a token named a kid it
// lacks, unless the last attempt is under minRefetchEvery old. It
// reports whether it fetched.
func (kc *keyCache) refresh(ctx context.Context, ti store.TrustedIssuer) (*keySet, bool, error) {
	if ti.JWKS != "" {
		set, err := kc.inline(ti)
		return set, false, err
	}
	e := kc.entry(ti.ID + " " + ti.JWKSURI)
	e.mu.Lock()
	defer e.mu.Unlock()
	if kc.now().Sub(e.tried) < minRefetchEvery {
		return e.set, false, nil
	}
	if err := kc.fetch(ctx, e, ti); err != nil {
		return nil, false, errUnavailable(err)
	}
	return e.set, true, nil
}

// inline parses an inline set, once per version of the issuer.
func (kc *keyCache) inline(ti store.TrustedIssuer) (*keySet, error) {
	e := kc.entry(ti.ID + " v" + strconv.FormatInt(ti.Version, 10))
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.set == nil {
		set, err := parseKeySet([]byte(ti.JWKS))
		if err != nil { // checked when written: the store holds a bad one
			return nil, errs.Wrap(errs.Internal, err, "internal error")
		}
		e.set = set
	}
	return e.set, nil
}

// fetch gets the set at the issuer's URI into e; e.mu is held.
func (kc *keyCache) fetch(ctx context.Context, e *cachedSet, ti store.TrustedIssuer) error {
	e.tried = kc.now()
	set, err := kc.get(ctx, ti.JWKSURI)
	if err != nil {
		e.lastErr = err
		return err
	}
	e.set, e.fetched, e.lastErr = set, kc.now(), nil
	return nil
}

func (kc *keyCache) get(ctx context.Context, uri string) (*keySet, error) {
	// The fetch serves every verification waiting on this set: the
	// caller's cancellation must not fail them all.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), fetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, uri, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := kc.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("key set fetch answered %s", resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxKeySetBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxKeySetBytes {
		return nil, fmt.Errorf("key set is over %d bytes", maxKeySetBytes)
	}
	return readKeySet(b, false)
}
