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

// Operations on a tenant's initial access tokens for dynamic client
// registration (RFC 7591 section 3), which its setting
// auth.clientRegistration TOKEN asks for. System administrators and the
// tenant's administrators; creation and deletion are audited
// (registrationToken.create, .delete).
const (
	// OpCreateRegistrationToken makes a token and answers it once.
	OpCreateRegistrationToken = "oauth.createRegistrationToken"
	// OpListRegistrationTokens lists the tenant's tokens, never the
	// tokens themselves.
	OpListRegistrationTokens = "oauth.listRegistrationTokens"
	// OpDeleteRegistrationToken deletes one; registrations it made stay.
	OpDeleteRegistrationToken = "oauth.deleteRegistrationToken"
)

// Bounds of an initial access token.
const (
	MinRegistrationTokenSeconds = 60
	MaxRegistrationTokenSeconds = 30 * 24 * 3600
	MaxRegistrationTokenUses    = 10_000
	// RegistrationTokenPrefix starts every initial access token.
	RegistrationTokenPrefix = "wit_"
)

// CreateRegistrationTokenInput makes an initial access token that expires
// ExpiresIn seconds from now (60 to 30 days) and allows MaxUses
// registrations (0: any number until it expires).
type CreateRegistrationTokenInput struct {
	TenantID  string `json:"tenantId"`
	ExpiresIn int    `json:"expiresIn"`
	MaxUses   int    `json:"maxUses,omitempty"`
}

// RegistrationTokensInput names a tenant.
type RegistrationTokensInput struct {
	TenantID string `json:"tenantId"`
}

// DeleteRegistrationTokenInput names one token of a tenant.
type DeleteRegistrationTokenInput struct {
	TenantID string `json:"tenantId"`
	ID       string `json:"id"`
}

// RegistrationTokenInfo is what may be shown of an initial access token:
// never the token nor its hash. UsesLeft is nil for a token of any
// number of uses.
type RegistrationTokenInfo struct {
	ID        string    `json:"id"`
	CreatedAt time.Time `json:"createdAt"`
	ExpiresAt time.Time `json:"expiresAt"`
	MaxUses   int       `json:"maxUses,omitempty"`
	Uses      int       `json:"uses"`
	UsesLeft  *int      `json:"usesLeft,omitempty"`
	// Usable is false once the token has expired or is used up.
	Usable bool `json:"usable"`
}

// CreatedRegistrationToken is a new token, shown this once.
type CreatedRegistrationToken struct {
	Token string                `json:"token"`
	Info  RegistrationTokenInfo `json:"info"`
}

// RegistrationTokensOutput is a tenant's tokens, oldest first.
type RegistrationTokensOutput struct {
	Items []RegistrationTokenInfo `json:"items"`
}

// DeleteRegistrationTokenOutput echoes the deleted ID.
type DeleteRegistrationTokenOutput struct {
	ID string `json:"id"`
}
