package store

import (
	"context"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/wardhq/ward/shared/errs"
)

// TrustedIssuer is an external token issuer a tenant trusts: access
// tokens (JWTs) it signs are accepted for the tenant's users by the
// trusted issuers service (package issuers), which checks the fields'
// meaning (URLs, algorithms, claim names). The store checks only bounds.
type TrustedIssuer struct {
	ID       string `json:"id"`
	TenantID string `json:"tenantId"`
	// Name is an administrator's label, free text.
	Name string `json:"name"`
	// Issuer is the exact "iss" value of the issuer's tokens; unique per
	// tenant, compared byte for byte (never folded).
	Issuer string `json:"issuer"`
	// JWKSURI is where the issuer publishes its keys; JWKS is an inline
	// key set (JSON) used instead. Exactly one is set.
	JWKSURI string `json:"jwksUri,omitempty"`
	JWKS    string `json:"jwks,omitempty"`
	// Audiences are the "aud" values accepted; a token must name one.
	Audiences []string `json:"audiences"`
	// Algorithms are the JWS algorithms accepted (e.g. ES256, RS256).
	Algorithms []string `json:"algorithms"`
	// SubjectClaim names the claim that gives the subject ("sub" when
	// empty); Claims the further claims a verification carries.
	SubjectClaim string    `json:"subjectClaim,omitempty"`
	Claims       []string  `json:"claims,omitempty"`
	Enabled      bool      `json:"enabled"`
	CreatedAt    time.Time `json:"createdAt"`
	UpdatedAt    time.Time `json:"updatedAt"`
	Version      int64     `json:"version"`
	// UserMapping says how the token exchange (package oauth) finds the
	// Ward user a token's subject is: IssuerMapNone (empty: it does not),
	// IssuerMapID, IssuerMapUsername or IssuerMapEmail, matching the
	// subject claim's value against the tenant's users.
	UserMapping string `json:"userMapping,omitempty"`
	// Sessions allows the token exchange to start a Ward session for a
	// mapped user from this issuer's token.
	Sessions bool `json:"sessions,omitempty"`
}

// User mappings of a trusted issuer.
const (
	IssuerMapNone     = ""
	IssuerMapID       = "id"
	IssuerMapUsername = "username"
	IssuerMapEmail    = "email"
)

// Bounds of trusted issuers, checked by the store as well as the service.
const (
	// MaxTrustedIssuers bounds one tenant's trusted issuers, so that a
	// tenant's set is one bounded read.
	MaxTrustedIssuers       = 16
	MaxIssuerURLBytes       = 1024 // Issuer and JWKSURI
	MaxIssuerNameBytes      = 200
	MaxInlineJWKSBytes      = 16 << 10
	MaxIssuerAudiences      = 16
	MaxIssuerAlgorithms     = 8
	MaxIssuerClaims         = 16
	MaxIssuerListEntryBytes = 256 // an audience, algorithm or claim name
)

// TrustedIssuers stores the issuers each tenant trusts. Every method is
// scoped by tenant: an issuer of another tenant is ErrNotFound.
//
// Create fails with ErrConflict when the ID or the Issuer is taken in the
// tenant, and with ErrInvalidArgument when the tenant already has
// MaxTrustedIssuers; concurrent creates of one Issuer succeed exactly
// once, and concurrent creates never pass the bound. Update is
// compare-and-swap like Tenants.Update and keeps Issuer unique. Delete
// removes one issuer.
//
// GetByIssuer finds an issuer by its exact Issuer; an empty one is
// ErrNotFound. List returns all of a tenant's issuers (at most
// MaxTrustedIssuers) in order of ID.
type TrustedIssuers interface {
	Create(ctx context.Context, ti TrustedIssuer) (TrustedIssuer, error)
	Get(ctx context.Context, tenantID, id string) (TrustedIssuer, error)
	GetByIssuer(ctx context.Context, tenantID, issuer string) (TrustedIssuer, error)
	List(ctx context.Context, tenantID string) ([]TrustedIssuer, error)
	Update(ctx context.Context, tenantID, id string,
		fn func(TrustedIssuer) (TrustedIssuer, error)) (TrustedIssuer, error)
	Delete(ctx context.Context, tenantID, id string) error
}

// Check checks the bounds the store keeps: required Issuer, lengths,
// counts and UTF-8. It checks neither IDs nor meaning.
func (ti TrustedIssuer) Check() error {
	text := func(field, s string, max int, required bool) error {
		switch {
		case required && s == "":
			return errs.Invalid(field, "is required")
		case len(s) > max:
			return errs.Invalid(field, "must be at most %d bytes", max)
		case !utf8.ValidString(s):
			return errs.Invalid(field, "must be valid UTF-8")
		}
		return nil
	}
	list := func(field string, l []string, max int) error {
		if len(l) > max {
			return errs.Invalid(field, "must hold at most %d entries", max)
		}
		for _, s := range l {
			if err := text(field, s, MaxIssuerListEntryBytes, true); err != nil {
				return err
			}
		}
		return nil
	}
	for _, err := range []error{
		text("name", ti.Name, MaxIssuerNameBytes, false),
		text("issuer", ti.Issuer, MaxIssuerURLBytes, true),
		text("jwksUri", ti.JWKSURI, MaxIssuerURLBytes, false),
		text("jwks", ti.JWKS, MaxInlineJWKSBytes, false),
		text("subjectClaim", ti.SubjectClaim, MaxIssuerListEntryBytes, false),
		text("userMapping", ti.UserMapping, MaxIssuerListEntryBytes, false),
		list("audiences", ti.Audiences, MaxIssuerAudiences),
		list("algorithms", ti.Algorithms, MaxIssuerAlgorithms),
		list("claims", ti.Claims, MaxIssuerClaims),
	} {
		if err != nil {
			return err
		}
	}
	return nil
}

// TrustedIssuerSet is one tenant's trusted issuers, in order of ID. Both
// backends keep a tenant's issuers as one set written at once (one
// record, one compare-and-swap), so that uniqueness of Issuer and the
// MaxTrustedIssuers bound are atomic; these methods are the set's rules,
// shared by the backends.
type TrustedIssuerSet []TrustedIssuer

// Find returns the index of the issuer with the ID, or -1.
func (s TrustedIssuerSet) Find(id string) int {
	return slices.IndexFunc(s, func(ti TrustedIssuer) bool { return ti.ID == id })
}

// FindIssuer returns the index of the issuer whose Issuer is iss, or -1.
func (s TrustedIssuerSet) FindIssuer(iss string) int {
	if iss == "" {
		return -1
	}
	return slices.IndexFunc(s, func(ti TrustedIssuer) bool { return ti.Issuer == iss })
}

// Add returns the set with ti added (Version 1), or ErrConflict or
// ErrInvalidArgument as TrustedIssuers.Create says. ti must have passed
// Check.
func (s TrustedIssuerSet) Add(ti TrustedIssuer) (TrustedIssuerSet, TrustedIssuer, error) {
	switch {
	case s.Find(ti.ID) >= 0:
		return nil, TrustedIssuer{}, conflictIn("id", "a trusted issuer with this ID exists")
	case s.FindIssuer(ti.Issuer) >= 0:
		return nil, TrustedIssuer{}, conflictIn("issuer", "this issuer is already trusted")
	case len(s) >= MaxTrustedIssuers:
		return nil, TrustedIssuer{}, errs.Invalid("tenantId",
			"a tenant trusts at most %d issuers", MaxTrustedIssuers)
	}
	ti.Version = 1
	out := append(slices.Clone(s), ti)
	slices.SortFunc(out, func(a, b TrustedIssuer) int {
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
	return out, ti, nil
}

// Replace returns the set with the issuer of next's ID replaced by next,
// whose ID, TenantID, CreatedAt and Version (one more) come from the old
// one. ErrNotFound when it is missing, ErrConflict when next takes
// another's Issuer.
func (s TrustedIssuerSet) Replace(next TrustedIssuer) (TrustedIssuerSet, TrustedIssuer, error) {
	i := s.Find(next.ID)
	if i < 0 {
		return nil, TrustedIssuer{}, errs.New(errs.NotFound, "trusted issuer not found")
	}
	if j := s.FindIssuer(next.Issuer); j >= 0 && j != i {
		return nil, TrustedIssuer{}, conflictIn("issuer", "this issuer is already trusted")
	}
	old := s[i]
	next.TenantID, next.CreatedAt, next.Version = old.TenantID, old.CreatedAt, old.Version+1
	out := slices.Clone(s)
	out[i] = next
	return out, next, nil
}

// Remove returns the set without the issuer, or ErrNotFound.
func (s TrustedIssuerSet) Remove(id string) (TrustedIssuerSet, error) {
	i := s.Find(id)
	if i < 0 {
		return nil, errs.New(errs.NotFound, "trusted issuer not found")
	}
	return slices.Delete(slices.Clone(s), i, i+1), nil
}

func conflictIn(field, msg string) error {
	return &errs.Error{Code: errs.Conflict, Field: field, Message: msg}
}
