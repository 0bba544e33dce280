package store

import (
	"context"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/wardhq/ward/shared/errs"
)

// Consent is what a user has allowed an OAuth client: the scopes the
// authorization endpoint need not ask about again. One record per tenant,
// user and client.
type Consent struct {
	TenantID string `json:"tenantId"`
	UserID   string `json:"userId"`
	ClientID string `json:"clientId"`
	// Scopes are the scope tokens consented to, sorted and without
	// duplicates.
	Scopes []string `json:"scopes"`
	// CreatedAt is the first grant; UpdatedAt the latest.
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// Bounds of consents, the same in every backend.
const (
	MaxConsentScopes     = 64  // as many as a client may hold (MaxClientScopes)
	MaxConsentScopeBytes = 256 // one scope token
	MaxConsentsByUser    = 1000
)

// Consents stores users' consents to OAuth clients. Every method is scoped
// by tenant and user: another tenant's or user's consent is ErrNotFound.
//
// Get reads the consent of a user to a client; none is ErrNotFound.
//
// Grant merges c into the stored consent, atomically: the scopes become
// the union of the stored ones and c's; CreatedAt is kept when a consent
// exists (else c's); UpdatedAt is c's. It returns the consent as stored.
// Concurrent grants to one consent all land (their scopes are all kept).
// IDs are version-7 UUIDs; Scopes hold 1 to MaxConsentScopes non-empty
// UTF-8 tokens of at most MaxConsentScopeBytes without spaces, and the
// merged set no more than MaxConsentScopes; CreatedAt and UpdatedAt are
// set. Anything else is ErrInvalidArgument and writes nothing.
//
// ListByUser lists a user's consents in ascending order of client ID, at
// most MaxConsentsByUser.
//
// Delete removes the consent of a user to a client; none is ErrNotFound.
//
// Times come back in UTC, cut to the millisecond. A grant and a delete
// of one consent are linearizable: a grant either lands before the delete
// (and is deleted) or after it (and makes a new consent).
type Consents interface {
	Get(ctx context.Context, tenantID, userID, clientID string) (Consent, error)
	Grant(ctx context.Context, c Consent) (Consent, error)
	ListByUser(ctx context.Context, tenantID, userID string) ([]Consent, error)
	Delete(ctx context.Context, tenantID, userID, clientID string) error
}

// CheckConsent checks a consent's fields other than its IDs and returns
// it as backends keep it: scopes sorted without duplicates, times in UTC
// cut to the millisecond.
func CheckConsent(c Consent) (Consent, error) {
	if len(c.Scopes) == 0 {
		return Consent{}, errs.Invalid("scopes", "must hold at least one scope")
	}
	for _, sc := range c.Scopes {
		if sc == "" || len(sc) > MaxConsentScopeBytes || !utf8.ValidString(sc) ||
			slices.ContainsFunc([]rune(sc), func(r rune) bool { return r <= ' ' || r == 0x7f }) {
			return Consent{}, errs.Invalid("scopes",
				"must be scope tokens of 1 to %d bytes", MaxConsentScopeBytes)
		}
	}
	c.Scopes = MergeScopes(nil, c.Scopes)
	if len(c.Scopes) > MaxConsentScopes {
		return Consent{}, errs.Invalid("scopes", "must hold at most %d scopes", MaxConsentScopes)
	}
	if c.CreatedAt.IsZero() || c.UpdatedAt.IsZero() {
		return Consent{}, errs.Invalid("createdAt", "createdAt and updatedAt are required")
	}
	c.CreatedAt, c.UpdatedAt = refreshMS(c.CreatedAt), refreshMS(c.UpdatedAt)
	return c, nil
}

// MergeScopes is the sorted union of two lists of scopes, without
// duplicates.
func MergeScopes(a, b []string) []string {
	out := make([]string, 0, len(a)+len(b))
	out = append(append(out, a...), b...)
	slices.Sort(out)
	return slices.Compact(out)
}

// Covers reports whether the consent includes every one of scopes.
func (c Consent) Covers(scopes []string) bool {
	for _, sc := range scopes {
		if _, ok := slices.BinarySearch(c.Scopes, sc); !ok {
			return false
		}
	}
	return true
}
