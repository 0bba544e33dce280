package oauth

import (
	"time"

	"github.com/wardhq/ward/shared/store"
)

// FunctionName is the function that serves OAuth 2.0 and OpenID Connect.
const FunctionName = "oauth"

// Operation names.
const (
	// OpRotateKeys makes a new signing key the tenant's active one; the
	// old one keeps verifying for the overlap. System administrators and
	// the tenant's administrators; audited (signingKey.rotate).
	OpRotateKeys = "oauth.rotateKeys"
	// OpListKeys lists the tenant's signing keys, public parts only. The
	// same callers.
	OpListKeys = "oauth.listKeys"
)

// RotateKeysInput names the tenant, and the algorithm of its new key:
// ES256 (the default) or RS256.
type RotateKeysInput struct {
	TenantID  string `json:"tenantId"`
	Algorithm string `json:"algorithm,omitempty"`
}

// ListKeysInput names a tenant.
type ListKeysInput struct {
	TenantID string `json:"tenantId"`
}

// KeysOutput is a tenant's signing keys, oldest first.
type KeysOutput struct {
	Items []KeyInfo `json:"items"`
}

// KeyState is where a key stands: ACTIVE (signs, published), RETIRING
// (published until RetireAfter, signs nothing) or RETIRED (its overlap
// has ended: no longer published, dropped at the next rotation).
type KeyState string

const (
	KeyActive   KeyState = "ACTIVE"
	KeyRetiring KeyState = "RETIRING"
	KeyRetired  KeyState = "RETIRED"
)

// KeyInfo is the public part of a signing key. It never holds the
// private key, sealed or not.
type KeyInfo struct {
	KID         string     `json:"kid"`
	Algorithm   string     `json:"algorithm"`
	State       KeyState   `json:"state"`
	CreatedAt   time.Time  `json:"createdAt"`
	ActivatedAt time.Time  `json:"activatedAt"`
	RetireAfter *time.Time `json:"retireAfter,omitempty"`
	// PublicJWK is the key as published in the key set (JSON).
	PublicJWK string `json:"publicJwk"`
}

// keyInfo is what may be shown of k at now.
func keyInfo(k store.SigningKey, now time.Time) KeyInfo {
	out := KeyInfo{KID: k.ID, Algorithm: k.Algorithm, State: KeyActive, CreatedAt: k.CreatedAt,
		ActivatedAt: k.ActivatedAt, PublicJWK: k.PublicJWK}
	if k.State == store.SigningKeyRetiring {
		at := k.RetireAfter
		out.RetireAfter = &at
		out.State = KeyRetiring
		if !now.Before(at) {
			out.State = KeyRetired
		}
	}
	return out
}
