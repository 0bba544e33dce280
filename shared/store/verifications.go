package store

import (
	"context"
	"time"
)

// Verification is a pending proof sent to a person: an email or phone
// verification, a password reset or an invitation. It is proven with a
// link secret, a short code, or both; the store keeps only their hashes.
// The services issue and check it; the store keeps it until it expires.
type Verification struct {
	ID       string              `json:"id"` // a version-7 UUID
	TenantID string              `json:"tenantId"`
	UserID   string              `json:"userId,omitempty"` // empty for an invitation
	Purpose  VerificationPurpose `json:"purpose"`
	// Target is the address the proof was sent to: an email address or an
	// E.164 phone number.
	Target string `json:"target"`
	// SecretHash is the hex SHA-256 of the link secret; empty when the
	// proof has no link.
	SecretHash string `json:"secretHash,omitempty"`
	// CodeHash is the hex SHA-256 of the short code bound to the ID (the
	// service says how); empty when the proof has no code.
	CodeHash string `json:"codeHash,omitempty"`
	// Attempts counts wrong codes; the service refuses the proof past its
	// limit.
	Attempts int `json:"attempts"`
	// Data carries what the purpose needs (an invitation's organization,
	// an email change's old address...), at most 16 short entries.
	Data      map[string]string `json:"data,omitempty"`
	CreatedAt time.Time         `json:"createdAt"`
	ExpiresAt time.Time         `json:"expiresAt"`
	// UsedAt is set when the proof has been used; a used proof is kept
	// until it expires so that a replay is told apart from a wrong one.
	UsedAt  time.Time `json:"usedAt"`
	Version int64     `json:"version"`
}

// VerificationPurpose says what a Verification proves.
type VerificationPurpose string

const (
	VerifyEmail   VerificationPurpose = "verify_email"
	VerifyPhone   VerificationPurpose = "verify_phone"
	ResetPassword VerificationPurpose = "reset_password"
	Invitation    VerificationPurpose = "invitation"
)

// MaxVerificationTTL bounds how long a Verification may live.
const MaxVerificationTTL = 7 * 24 * time.Hour

// Verifications stores pending proofs. Every method is scoped by tenant.
//
// Create stores v; ExpiresAt must be after CreatedAt and at most
// MaxVerificationTTL later, else ErrInvalidArgument. A taken ID is
// ErrConflict. Get returns ErrNotFound for a missing or expired proof
// (backends may delete expired ones lazily, but never return them).
//
// Update is compare-and-swap like Tenants.Update and may change Attempts,
// Data and UsedAt only: two concurrent Updates that both set UsedAt cannot
// both succeed, which is what makes a proof single-use. An expired proof
// is ErrNotFound.
//
// DeleteForUser deletes the user's proofs of one purpose (a new password
// reset cancels the earlier ones) and reports how many it deleted.
type Verifications interface {
	Create(ctx context.Context, v Verification) (Verification, error)
	Get(ctx context.Context, tenantID, id string) (Verification, error)
	Update(ctx context.Context, tenantID, id string,
		fn func(Verification) (Verification, error)) (Verification, error)
	DeleteForUser(ctx context.Context, tenantID, userID string,
		purpose VerificationPurpose) (int, error)
}
