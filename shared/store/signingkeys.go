package store

import (
	"context"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/wardhq/ward/shared/errs"
)

// SigningKeyState is where a tenant's signing key stands in its rotation.
//
// A key is made ACTIVE: it signs, and is published in the tenant's key
// set. A rotation makes a new key ACTIVE and turns the old one RETIRING
// with RetireAfter set: it signs nothing more but stays published, so
// tokens it signed keep verifying until they expire. Once RetireAfter has
// passed, the key counts as retired: it is no longer published, and the
// next write of the set drops it (with its sealed private key).
type SigningKeyState string

const (
	SigningKeyActive   SigningKeyState = "ACTIVE"
	SigningKeyRetiring SigningKeyState = "RETIRING"
)

// SigningKey is one signing key of a tenant's OAuth 2.0 / OpenID Connect
// issuer. The private key is never kept in the clear: PrivateKey holds it
// sealed by the oauth/keys package under a key the store never sees,
// which Sealing names.
type SigningKey struct {
	// ID is the key's "kid", a version-7 UUID.
	ID string `json:"id"`
	// Algorithm is the JWS algorithm it signs with: ES256 or RS256.
	Algorithm string          `json:"algorithm"`
	State     SigningKeyState `json:"state"`
	CreatedAt time.Time       `json:"createdAt"`
	// ActivatedAt is when the key began to sign.
	ActivatedAt time.Time `json:"activatedAt"`
	// RetireAfter is when a RETIRING key stops being published; zero for
	// the ACTIVE key.
	RetireAfter time.Time `json:"retireAfter,omitzero"`
	// PublicJWK is the public key as a JWK (JSON), as published.
	PublicJWK string `json:"publicJwk"`
	// PrivateKey is the private key, sealed (AES-256-GCM, see oauth/keys).
	PrivateKey []byte `json:"privateKey"`
	// Sealing says which key sealed PrivateKey: SealedLocal (the master
	// key; also what an empty value, written before Sealing existed,
	// means) or SealedKMS (the set's DataKey).
	Sealing string `json:"sealing,omitempty"`
}

// How a private key is sealed (SigningKey.Sealing).
const (
	// SealedLocal: under the master key (WARD_OAUTH_KEY) itself.
	SealedLocal = "local"
	// SealedKMS: under the tenant's data key, which KMS wraps
	// (SigningKeySet.DataKey).
	SealedKMS = "kms"
)

// SigningKeySet is one tenant's signing keys: exactly one ACTIVE key and
// the RETIRING keys of earlier rotations. It is one record, written at
// once by compare-and-swap on Version, so a rotation (new key ACTIVE, old
// key RETIRING) is atomic.
type SigningKeySet struct {
	TenantID string       `json:"tenantId"`
	Keys     []SigningKey `json:"keys"`
	// DataKey is the tenant's data key as KMS wrapped it (its ciphertext
	// blob, bound to the tenant by an encryption context), never in the
	// clear; nil until a key of the set is sealed with KMS. Every key
	// sealed SealedKMS needs it.
	DataKey   []byte    `json:"dataKey,omitempty"`
	UpdatedAt time.Time `json:"updatedAt"`
	Version   int64     `json:"version"`
}

// Bounds of signing keys, checked by the store.
const (
	// MaxSigningKeys bounds one tenant's set: the active key and the
	// keys still in their overlap.
	MaxSigningKeys    = 8
	MaxPublicJWKBytes = 4 << 10
	MaxSealedKeyBytes = 8 << 10
	// MaxDataKeyBytes is the largest ciphertext blob KMS returns.
	MaxDataKeyBytes     = 6144
	SigningAlgorithmES  = "ES256"
	SigningAlgorithmRSA = "RS256"
)

// SigningKeys stores each tenant's signing key set.
//
// Get returns the tenant's set; ErrNotFound when it has none. Create
// writes the first set of a tenant (Version 1); ErrConflict when the
// tenant has one already, so concurrent creators succeed exactly once.
// Update is compare-and-swap like Tenants.Update: fn gets the set as read
// and its result is written only if Version is still the one fn saw;
// otherwise fn runs again. TenantID and Version of fn's result are the
// store's. Delete removes the tenant's set (nothing to delete is not an
// error).
//
// Create and Update refuse, with ErrInvalidArgument and writing nothing,
// a set that breaks SigningKeySet.Check.
type SigningKeys interface {
	Get(ctx context.Context, tenantID string) (SigningKeySet, error)
	Create(ctx context.Context, set SigningKeySet) (SigningKeySet, error)
	Update(ctx context.Context, tenantID string,
		fn func(SigningKeySet) (SigningKeySet, error)) (SigningKeySet, error)
	Delete(ctx context.Context, tenantID string) error
}

// Check checks the rules the store keeps: 1 to MaxSigningKeys keys with
// distinct IDs, exactly one ACTIVE, RETIRING keys with a RetireAfter,
// known algorithms, states and sealings, bounded, non-empty key material,
// and a DataKey (bounded) wherever a key is sealed with KMS. IDs are the
// backend's to check.
func (s SigningKeySet) Check() error {
	if len(s.Keys) == 0 || len(s.Keys) > MaxSigningKeys {
		return errs.Invalid("keys", "must hold 1 to %d keys", MaxSigningKeys)
	}
	if len(s.DataKey) > MaxDataKeyBytes {
		return errs.Invalid("dataKey", "must be at most %d bytes", MaxDataKeyBytes)
	}
	active := 0
	for i, k := range s.Keys {
		if slices.IndexFunc(s.Keys[:i], func(o SigningKey) bool { return o.ID == k.ID }) >= 0 {
			return errs.Invalid("keys", "key %s is repeated", k.ID)
		}
		switch k.Algorithm {
		case SigningAlgorithmES, SigningAlgorithmRSA:
		default:
			return errs.Invalid("algorithm", "must be ES256 or RS256")
		}
		switch k.State {
		case SigningKeyActive:
			active++
		case SigningKeyRetiring:
			if k.RetireAfter.IsZero() {
				return errs.Invalid("retireAfter", "a retiring key needs a retirement time")
			}
		default:
			return errs.Invalid("state", "must be ACTIVE or RETIRING")
		}
		switch k.Sealing {
		case "", SealedLocal:
		case SealedKMS:
			if len(s.DataKey) == 0 {
				return errs.Invalid("dataKey", "a key sealed with KMS needs the set's data key")
			}
		default:
			return errs.Invalid("sealing", "must be local or kms")
		}
		switch {
		case k.PublicJWK == "" || len(k.PublicJWK) > MaxPublicJWKBytes ||
			!utf8.ValidString(k.PublicJWK):
			return errs.Invalid("publicJwk", "must be 1 to %d bytes of UTF-8", MaxPublicJWKBytes)
		case len(k.PrivateKey) == 0 || len(k.PrivateKey) > MaxSealedKeyBytes:
			return errs.Invalid("privateKey", "must be 1 to %d bytes", MaxSealedKeyBytes)
		}
	}
	if active != 1 {
		return errs.Invalid("keys", "exactly one key must be ACTIVE")
	}
	return nil
}

// Active returns the ACTIVE key, and false when there is none.
func (s SigningKeySet) Active() (SigningKey, bool) {
	i := slices.IndexFunc(s.Keys, func(k SigningKey) bool { return k.State == SigningKeyActive })
	if i < 0 {
		return SigningKey{}, false
	}
	return s.Keys[i], true
}

// Published returns the keys that verify at now: the ACTIVE key and the
// RETIRING keys whose RetireAfter is still ahead.
func (s SigningKeySet) Published(now time.Time) []SigningKey {
	var out []SigningKey
	for _, k := range s.Keys {
		if k.State == SigningKeyActive || now.Before(k.RetireAfter) {
			out = append(out, k)
		}
	}
	return out
}

// Normal returns the set with its times in UTC at millisecond precision
// and its slices copied, as every backend keeps them.
func (s SigningKeySet) Normal() SigningKeySet {
	ms := func(t time.Time) time.Time {
		if t.IsZero() {
			return time.Time{}
		}
		return t.UTC().Truncate(time.Millisecond)
	}
	out := s
	out.UpdatedAt = ms(s.UpdatedAt)
	out.DataKey = slices.Clone(s.DataKey)
	out.Keys = make([]SigningKey, len(s.Keys))
	for i, k := range s.Keys {
		k.CreatedAt, k.ActivatedAt, k.RetireAfter = ms(k.CreatedAt), ms(k.ActivatedAt),
			ms(k.RetireAfter)
		k.PrivateKey = slices.Clone(k.PrivateKey)
		out.Keys[i] = k
	}
	return out
}
