package store

import (
	"context"
	"time"
	"unicode/utf8"

	"github.com/wardhq/ward/shared/errs"
)

// Factor is one of a user's second factors. The store keeps Secret and
// Data as opaque bytes: the MFA service seals secret material (a TOTP
// seed) before it gets here and keeps only hashes of recovery codes, so a
// copy of the store alone reveals no secret.
type Factor struct {
	ID       string     `json:"id"` // a version-7 UUID
	TenantID string     `json:"tenantId"`
	UserID   string     `json:"userId"`
	Type     FactorType `json:"type"`
	// Name is the user's label for the factor ("work phone"), at most
	// MaxFactorNameBytes of UTF-8.
	Name string `json:"name"`
	// Confirmed is set once the user has proven the factor; an
	// unconfirmed factor is an enrolment in progress.
	Confirmed bool `json:"confirmed"`
	// Secret is sealed secret material, at most MaxFactorSecretBytes.
	Secret []byte `json:"secret,omitempty"`
	// Data is the type's own data (a phone number, a WebAuthn credential,
	// recovery code hashes), at most MaxFactorDataBytes.
	Data []byte `json:"data,omitempty"`
	// LastStep is the last TOTP time step accepted (0: none), so that a
	// code is never accepted twice; WebAuthn keeps its signature counter
	// here.
	LastStep   int64     `json:"lastStep"`
	CreatedAt  time.Time `json:"createdAt"`
	LastUsedAt time.Time `json:"lastUsedAt"` // zero: never used
	Version    int64     `json:"version"`
}

// Bounds of a Factor.
const (
	MaxFactorNameBytes   = 64
	MaxFactorSecretBytes = 1024
	MaxFactorDataBytes   = 16 << 10
)

// Factors stores users' second factors. Every method is scoped by tenant
// and user: a factor of another tenant or another user is ErrNotFound,
// exactly like a missing one.
//
// Create stores f; the user must exist in the tenant (else ErrNotFound),
// and a taken ID is ErrConflict. A type not among FactorTypes, or a
// factor over the bounds above, is ErrInvalidArgument and writes nothing.
//
// ListByUser returns all of the user's factors in ascending order of ID;
// the MFA service bounds how many a user has, so there is no paging.
//
// Update is compare-and-swap on Version like Tenants.Update: fn may run
// more than once, an error from fn is returned as is with nothing
// written, and two concurrent Updates that both read one Version cannot
// both succeed (a TOTP step or a recovery code is spent exactly once).
// Update may change Name, Confirmed, Secret, Data, LastStep and
// LastUsedAt; ID, TenantID, UserID, Type and CreatedAt are kept.
//
// Delete removes one factor (ErrNotFound when there is none);
// DeleteByUser removes all of the user's factors and reports how many.
// Users.Delete deletes the user's factors with the user.
//
// Times are kept at millisecond precision and returned in UTC.
type Factors interface {
	Create(ctx context.Context, f Factor) (Factor, error)
	Get(ctx context.Context, tenantID, userID, id string) (Factor, error)
	ListByUser(ctx context.Context, tenantID, userID string) ([]Factor, error)
	Update(ctx context.Context, tenantID, userID, id string,
		fn func(Factor) (Factor, error)) (Factor, error)
	Delete(ctx context.Context, tenantID, userID, id string) error
	DeleteByUser(ctx context.Context, tenantID, userID string) (int, error)
}

// Check reports whether f is within the bounds Factors enforces; backends
// call it before they write.
func (f Factor) Check() error {
	known := false
	for _, t := range FactorTypes {
		known = known || t == f.Type
	}
	switch {
	case !known:
		return errs.Invalid("type", "must be a factor type")
	case len(f.Name) > MaxFactorNameBytes || !utf8.ValidString(f.Name):
		return errs.Invalid("name", "must be at most %d bytes of UTF-8", MaxFactorNameBytes)
	case len(f.Secret) > MaxFactorSecretBytes:
		return errs.Invalid("secret", "must be at most %d bytes", MaxFactorSecretBytes)
	case len(f.Data) > MaxFactorDataBytes:
		return errs.Invalid("data", "must be at most %d bytes", MaxFactorDataBytes)
	case f.LastStep < 0:
		return errs.Invalid("lastStep", "must not be negative")
	}
	return nil
}

// HasSecondFactor reports whether the user has a confirmed factor other
// than recovery codes (which only back another factor up). The password
// policy asks less of such an account (passwords.Context.MFA).
func HasSecondFactor(ctx context.Context, fs Factors, tenantID, userID string) (bool, error) {
	list, err := fs.ListByUser(ctx, tenantID, userID)
	if err != nil {
		return false, err
	}
	for _, f := range list {
		if f.Confirmed && f.Type != FactorRecovery {
			return true, nil
		}
	}
	return false, nil
}
