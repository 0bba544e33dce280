package store

import (
	"context"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/wardhq/ward/shared/errs"
)

// RefreshFamily is one grant of OAuth 2.0 refresh tokens: a user's
// consent to a client, and the chain of refresh tokens rotated from the
// first one (RFC 9700 section 4.14.2). Revoking the family ends every
// token of the chain, the newest included.
type RefreshFamily struct {
	ID        string `json:"id"` // a version-7 UUID
	TenantID  string `json:"tenantId"`
	ClientID  string `json:"clientId"`
	UserID    string `json:"userId"`
	SessionID string `json:"sessionId,omitempty"` // the sign-in session, when bound to one
	// Scope is the space-separated scope granted; Audience the resources.
	Scope    string   `json:"scope,omitempty"`
	Audience []string `json:"audience,omitempty"`
	// AuthTime, ACR and AMR describe the user's authentication at the
	// grant, for ID tokens issued on refresh.
	AuthTime time.Time `json:"authTime"`
	ACR      string    `json:"acr,omitempty"`
	AMR      []string  `json:"amr,omitempty"`
	// CreatedAt is the grant; ExpiresAt its absolute end, whatever the
	// rotations.
	CreatedAt time.Time `json:"createdAt"`
	ExpiresAt time.Time `json:"expiresAt"`
	Revoked   bool      `json:"revoked,omitempty"`
}

// RefreshToken is one refresh token of a family, kept under the SHA-256
// of the token: the token itself is never stored.
type RefreshToken struct {
	// Hash is the lower-case hex SHA-256 of the token, unique everywhere.
	Hash     string `json:"hash"`
	TenantID string `json:"tenantId"`
	FamilyID string `json:"familyId"`
	// Generation counts rotations: 1 for the family's first token.
	Generation int64     `json:"generation"`
	CreatedAt  time.Time `json:"createdAt"`
	// ExpiresAt is the token's own end, at most the family's.
	ExpiresAt time.Time `json:"expiresAt"`
	// Used is set by the rotation that spent the token.
	Used bool `json:"used,omitempty"`
}

// Bounds of refresh token records, the same in every backend.
const (
	// MaxRefreshFamilyLifetime bounds ExpiresAt - CreatedAt of a family.
	MaxRefreshFamilyLifetime = 90 * 24 * time.Hour
	MaxRefreshScopeBytes     = 4096
	MaxRefreshAudience       = 8
	MaxRefreshAudienceBytes  = 2048 // one audience
	MaxRefreshFamiliesByUser = 1000 // what one listing or revocation reads at most
)

// RefreshTokens stores refresh token families and their tokens. A record
// is gone once the store's clock reaches its ExpiresAt: no method returns
// it from then on (backends delete gone records lazily or by TTL). A
// token outlives neither its own ExpiresAt nor its family's.
//
// CreateFamily stores a family and its first token (Generation 1, unused)
// together: both or neither. IDs are version-7 UUIDs (the tenant, the
// family, the client and the user; the session ID is empty or one);
// Hash is a lower-case hex SHA-256; text is UTF-8 within the bounds
// above; CreatedAt is set; ExpiresAt is after CreatedAt, in the future and
// at most MaxRefreshFamilyLifetime later; the token's ExpiresAt is in the
// future and not after the family's. Anything else is ErrInvalidArgument
// and writes nothing. A taken family ID or hash is ErrConflict.
//
// GetByHash finds a live token by its hash, in whatever tenant, with its
// family (which may be Revoked: the caller refuses the token then). A
// used token is returned with Used set, so that the caller can tell a
// replay. An empty, malformed, unknown or gone hash is ErrNotFound.
//
// Rotate spends the token usedHash of the tenant and stores next in its
// family, atomically and compare-and-swap: it succeeds only if usedHash
// is live and unused and its family is live and not revoked. Of two
// concurrent rotations of one token exactly one succeeds. A used token or
// a revoked family is ErrConflict; a missing or gone one ErrNotFound.
// next must name the same tenant and family, carry the Generation after
// the spent token's, and meet the bounds of CreateFamily; otherwise
// ErrInvalidArgument, and nothing is written. On ScyllaDB the family's
// revocation is read, not locked, during Rotate: a family revoked at that
// very moment may receive one more token, which GetByHash then returns
// with its Revoked family, so it is never usable.
//
// RevokeFamily marks a live family revoked; a missing or gone one is
// ErrNotFound. Revoking a revoked family succeeds again.
//
// ListFamilies lists the user's live families that are not revoked, in
// the tenant, in ascending order of ID; clientID, when not empty, keeps
// only that client's. At most MaxRefreshFamiliesByUser are returned.
//
// RevokeByUser revokes every live family of ListFamilies(tenantID, userID,
// clientID) and returns the ones it revoked.
//
// RevokeBySession revokes the user's live families bound to the sign-in
// session sessionID (those of ListFamilies(tenantID, userID, "") whose
// SessionID it is) and returns the ones it revoked: the grants a
// session's sign-out ends. Offline families (no SessionID) are never
// among them. A malformed ID is ErrInvalidArgument.
type RefreshTokens interface {
	CreateFamily(ctx context.Context, f RefreshFamily, first RefreshToken) error
	GetByHash(ctx context.Context, hash string) (RefreshToken, RefreshFamily, error)
	Rotate(ctx context.Context, tenantID, usedHash string, next RefreshToken) error
	RevokeFamily(ctx context.Context, tenantID, familyID string) error
	ListFamilies(ctx context.Context, tenantID, userID, clientID string) ([]RefreshFamily,
		error)
	RevokeByUser(ctx context.Context, tenantID, userID, clientID string) ([]RefreshFamily,
		error)
	RevokeBySession(ctx context.Context, tenantID, userID, sessionID string) ([]RefreshFamily,
		error)
}

// CheckRefreshFamily checks the fields of a new family other than its IDs
// against the bounds of CreateFamily, judging "in the future" by now, and
// returns it as backends keep it: times in UTC cut to the millisecond,
// slices copied (nil when empty), Revoked false.
func CheckRefreshFamily(f RefreshFamily, now time.Time) (RefreshFamily, error) {
	f.AuthTime, f.CreatedAt = refreshMS(f.AuthTime), refreshMS(f.CreatedAt)
	f.ExpiresAt = refreshMS(f.ExpiresAt)
	f.Audience, f.AMR = cloneOrNil(f.Audience), cloneOrNil(f.AMR)
	f.Revoked = false
	text := func(field, s string, max int) error {
		if len(s) > max || !utf8.ValidString(s) {
			return errs.Invalid(field, "must be UTF-8 text of at most %d bytes", max)
		}
		return nil
	}
	if err := text("scope", f.Scope, MaxRefreshScopeBytes); err != nil {
		return RefreshFamily{}, err
	}
	if err := text("acr", f.ACR, MaxSessionACRBytes); err != nil {
		return RefreshFamily{}, err
	}
	if len(f.Audience) > MaxRefreshAudience {
		return RefreshFamily{}, errs.Invalid("audience", "must hold at most %d entries",
			MaxRefreshAudience)
	}
	for _, a := range f.Audience {
		if a == "" {
			return RefreshFamily{}, errs.Invalid("audience", "entries must not be empty")
		}
		if err := text("audience", a, MaxRefreshAudienceBytes); err != nil {
			return RefreshFamily{}, err
		}
	}
	if len(f.AMR) > MaxSessionAMR {
		return RefreshFamily{}, errs.Invalid("amr", "must hold at most %d methods",
			MaxSessionAMR)
	}
	for _, m := range f.AMR {
		if m == "" || len(m) > MaxSessionAMRBytes || !utf8.ValidString(m) {
			return RefreshFamily{}, errs.Invalid("amr", "methods must be UTF-8 text of 1 to %d bytes",
				MaxSessionAMRBytes)
		}
	}
	switch {
	case f.CreatedAt.IsZero():
		return RefreshFamily{}, errs.Invalid("createdAt", "is required")
	case !f.ExpiresAt.After(f.CreatedAt):
		return RefreshFamily{}, errs.Invalid("expiresAt", "must be after createdAt")
	case f.ExpiresAt.Sub(f.CreatedAt) > MaxRefreshFamilyLifetime:
		return RefreshFamily{}, errs.Invalid("expiresAt", "must be at most %v after createdAt",
			MaxRefreshFamilyLifetime)
	case !now.Before(f.ExpiresAt):
		return RefreshFamily{}, errs.Invalid("expiresAt", "is already past")
	}
	return f, nil
}

// CheckRefreshToken checks a new token of family f (already checked) and
// returns it as backends keep it, unused.
func CheckRefreshToken(t RefreshToken, f RefreshFamily, now time.Time) (RefreshToken, error) {
	t.CreatedAt, t.ExpiresAt = refreshMS(t.CreatedAt), refreshMS(t.ExpiresAt)
	t.Used = false
	switch {
	case !sessionHashRE.MatchString(t.Hash):
		return RefreshToken{}, errs.Invalid("hash", "must be a lower-case hex SHA-256")
	case t.TenantID != f.TenantID || t.FamilyID != f.ID:
		return RefreshToken{}, errs.Invalid("familyId", "must name the token's family")
	case t.Generation < 1:
		return RefreshToken{}, errs.Invalid("generation", "must be positive")
	case t.CreatedAt.IsZero():
		return RefreshToken{}, errs.Invalid("createdAt", "is required")
	case !now.Before(t.ExpiresAt):
		return RefreshToken{}, errs.Invalid("expiresAt", "is already past")
	case t.ExpiresAt.After(f.ExpiresAt):
		return RefreshToken{}, errs.Invalid("expiresAt", "must not be after the family's")
	}
	return t, nil
}

// CheckRotation checks that next may follow used, a live token of family
// f, in Rotate at now, and returns next as backends keep it. A token of
// another tenant is ErrNotFound; a next token that does not follow used
// is ErrInvalidArgument; a used token or a revoked family ErrConflict.
func CheckRotation(tenantID string, used RefreshToken, f RefreshFamily, next RefreshToken,
	now time.Time) (RefreshToken, error) {
	if used.TenantID != tenantID {
		return RefreshToken{}, errs.New(errs.NotFound, "refresh token not found")
	}
	if next.FamilyID != used.FamilyID || next.Generation != used.Generation+1 {
		return RefreshToken{}, errs.Invalid("generation",
			"must follow the spent token in its family")
	}
	next, err := CheckRefreshToken(next, f, now)
	if err != nil {
		return RefreshToken{}, err
	}
	switch {
	case used.Used:
		return RefreshToken{}, &errs.Error{Code: errs.Conflict, Field: "hash",
			Message: "the refresh token was used"}
	case f.Revoked:
		return RefreshToken{}, &errs.Error{Code: errs.Conflict, Field: "familyId",
			Message: "the refresh token family is revoked"}
	}
	return next, nil
}

// Live reports whether the token and its family are still within their
// lifetimes at now (a used token or a revoked family may still be live).
func (t RefreshToken) Live(f RefreshFamily, now time.Time) bool {
	return now.Before(t.ExpiresAt) && now.Before(f.ExpiresAt)
}

func refreshMS(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Millisecond)
}

func cloneOrNil(l []string) []string {
	if len(l) == 0 {
		return nil
	}
	return slices.Clone(l)
}
