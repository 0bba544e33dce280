package authn

import (
	"context"
	"encoding/json"
	"time"

	"github.com/wardhq/ward/shared/store"
)

// The services a flow uses, as the small interfaces authn needs of them.
// In Ward they are the tenants, users, mfa and sessions functions, reached
// through the invoker as the service role (clients.go); tests may give
// other implementations.

// Directory finds tenants and checks passwords.
type Directory interface {
	// TenantByName returns the tenant named name; errs.ErrNotFound when
	// there is none.
	TenantByName(ctx context.Context, name string) (store.Tenant, error)
	// Tenant returns the tenant with ID id.
	Tenant(ctx context.Context, id string) (store.Tenant, error)
	// CheckPassword returns the active user whose username (or verified
	// email) is login and whose password is password. Every failure, an
	// unknown login included, is errs.ErrUnauthenticated and costs the
	// same password hashing.
	CheckPassword(ctx context.Context, tenantID, login, password string) (store.User, error)
}

// Factor is one of a user's second factors as the MFA service lists it.
type Factor struct {
	ID        string           `json:"id"`
	Type      store.FactorType `json:"type"`
	Name      string           `json:"name,omitempty"`
	Confirmed bool             `json:"confirmed"`
	Hint      string           `json:"hint,omitempty"`
}

// Challenge is a factor being proven.
type Challenge struct {
	ID              string          `json:"challengeId"`
	SentTo          string          `json:"sentTo,omitempty"`
	WebAuthnOptions json.RawMessage `json:"webauthnOptions,omitempty"`
}

// Proof is what a user presents for a challenge.
type Proof struct {
	FactorID    string
	ChallengeID string
	Code        string
	WebAuthn    json.RawMessage
}

// Enrollment is a factor being enrolled.
type Enrollment struct {
	FactorID        string
	Type            store.FactorType
	Secret          string
	OTPAuthURI      string
	QRCode          string
	SentTo          string
	ChallengeID     string
	WebAuthnOptions json.RawMessage
}

// Factors is the MFA service.
type Factors interface {
	// List returns the user's factors.
	List(ctx context.Context, tenantID, userID string) ([]Factor, error)
	// Challenge starts proving a confirmed factor (sends a code, or makes
	// WebAuthn assertion options).
	Challenge(ctx context.Context, tenantID, userID, factorID string) (Challenge, error)
	// Verify checks a proof; it returns the RFC 8176 methods it earned, or
	// errs.ErrUnauthenticated for a wrong proof.
	Verify(ctx context.Context, tenantID, userID string, p Proof) (amr []string, err error)
	// Enroll starts enrolling a factor of type t for the user; phone is
	// the number of an SMS or voice factor ("" for the user's own).
	Enroll(ctx context.Context, tenantID, userID string, t store.FactorType, name,
		phone string) (Enrollment, error)
	// Confirm finishes an enrolment with its first proof; it returns the
	// methods the proof earned.
	Confirm(ctx context.Context, tenantID, userID string, e Enrollment, p Proof) (
		amr []string, err error)
}

// NewSession is a session to create for a user who has signed in.
type NewSession struct {
	TenantID  string
	UserID    string
	ACR       string
	AMR       []string
	AuthTime  time.Time
	IP        string
	UserAgent string
	DeviceID  string
}

// IssuedSession is a created session and its token.
type IssuedSession struct {
	Token     string
	SessionID string
	ExpiresAt time.Time
}

// Sessions is the session service.
type Sessions interface {
	Create(ctx context.Context, s NewSession) (IssuedSession, error)
	// Elevate raises a session after a step-up.
	Elevate(ctx context.Context, tenantID, sessionID, acr string, amr []string,
		at time.Time) (expiresAt time.Time, err error)
}
