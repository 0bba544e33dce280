package oauth

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/wardhq/ward/shared/cache"
	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/oauth/keys"
	"github.com/wardhq/ward/shared/store"
)

// introspection is RFC 7662 section 2.2's answer. An inactive token has
// "active": false and nothing else.
type introspection struct {
	Active    bool     `json:"active"`
	Scope     string   `json:"scope,omitempty"`
	ClientID  string   `json:"client_id,omitempty"`
	Subject   string   `json:"sub,omitempty"`
	Audience  audience `json:"aud,omitempty"`
	Issuer    string   `json:"iss,omitempty"`
	Expiry    int64    `json:"exp,omitempty"`
	IssuedAt  int64    `json:"iat,omitempty"`
	TokenType string   `json:"token_type,omitempty"`
	// Act is the chain of actors of a delegated token (RFC 8693 section
	// 4.1, which names introspection as a place for it).
	Act *actClaim `json:"act,omitempty"`
}

// tokenOf is the "token" parameter, required by RFC 7662 section 2.1 and
// RFC 7009 section 2.1.
func tokenOf(form url.Values) (string, error) {
	tok := form.Get("token")
	if tok == "" {
		return "", badRequest(errInvalidRequest, "token is required")
	}
	return tok, nil
}

// serveIntrospect is the introspection endpoint (RFC 7662). Any client of
// the tenant may ask about any token of the tenant: resource servers are
// clients. Unknown, expired, revoked, malformed tokens and tokens of
// other tenants are alike {"active": false}.
func (s *service) serveIntrospect(r *http.Request, t store.Tenant, iss string, form url.Values) (
	any, error) {
	// Only confidential clients: what a token grants is not told to
	// whoever knows a public client's ID.
	cl, err := s.authenticateClient(r, t, form, true)
	if err != nil {
		return nil, err
	}
	tok, err := tokenOf(form)
	if err != nil {
		return nil, err
	}
	if strings.HasPrefix(tok, RefreshTokenPrefix) {
		return s.introspectRefresh(r.Context(), t, iss, cl, tok)
	}
	// token_type_hint is optional and may be ignored (section 2.1): the
	// prefix tells an opaque token from a JWT.
	c, ok, err := s.lookup(r.Context(), t, iss, tok)
	if err != nil {
		return nil, err
	}
	if !ok {
		return introspection{}, nil
	}
	return introspection{Active: true, Scope: c.Scope, ClientID: c.ClientID, Subject: c.Subject,
		Audience: c.Audience, Issuer: c.Issuer, Expiry: c.Expiry, IssuedAt: c.IssuedAt,
		TokenType: "Bearer", Act: c.Act}, nil
}

// serveRevoke is the revocation endpoint (RFC 7009). An opaque token's
// record is deleted; a JWT's jti is kept in the cache as revoked until
// the token expires. Unknown, expired and foreign-tenant tokens are
// answered 200 with nothing done (section 2.2). A token issued to
// another client of the tenant is refused with unauthorized_client
// (section 2.1: the server verifies the token was issued to the client
// making the request, and refuses it otherwise).
func (s *service) serveRevoke(r *http.Request, t store.Tenant, iss string, form url.Values) (
	any, error) {
	// A public client may revoke its own tokens by its client_id (RFC
	// 7009 section 5); it can only ever revoke tokens issued to it.
	cl, err := s.authenticateClient(r, t, form, false)
	if err != nil {
		return nil, err
	}
	tok, err := tokenOf(form)
	if err != nil {
		return nil, err
	}
	ctx := r.Context()
	if strings.HasPrefix(tok, RefreshTokenPrefix) {
		return s.revokeRefresh(ctx, t, cl, tok)
	}
	c, ok, err := s.lookup(ctx, t, iss, tok)
	if err != nil {
		return nil, err
	}
	if !ok {
		return struct{}{}, nil
	}
	if c.ClientID != cl.ID {
		return nil, badRequest(errUnauthorizedClient, "the token was not issued to this client")
	}
	return struct{}{}, s.revokeJTI(ctx, t.ID, c.ID, c.Expiry)
}

// lookup finds an active token of the tenant: an opaque one by opening
// its seal with the tenant's token key, a JWT by its signature against
// the tenant's published keys and its type; then for both the issuer,
// the expiry and the revocation set. ok is
// false for anything not active here; err is a failure of the cache or
// the store, never the token's fault.
func (s *service) lookup(ctx context.Context, t store.Tenant, iss, tok string) (accessClaims,
	bool, error) {
	if s.cache == nil {
		return accessClaims{}, false, errs.New(errs.Unavailable, "no cache for access tokens")
	}
	now := s.now().Unix()
	var c accessClaims
	if strings.HasPrefix(tok, OpaqueTokenPrefix) {
		b, ok := s.openOpaque(t.ID, tok)
		if !ok || json.Unmarshal(b, &c) != nil {
			return accessClaims{}, false, nil
		}
	} else {
		var ok bool
		var err error
		if c, ok, err = s.verifyAccessJWT(ctx, t, tok); !ok {
			return accessClaims{}, false, err
		}
	}
	if c.Issuer != iss || c.Expiry <= now || c.ID == "" || c.ClientID == "" ||
		len(c.Audience) == 0 {
		return accessClaims{}, false, nil
	}
	_, err := s.cache.Get(ctx, revokedKey(t.ID, c.ID))
	switch {
	case err == nil:
		return accessClaims{}, false, nil // revoked
	case !errors.Is(err, cache.ErrMiss):
		return accessClaims{}, false, err
	}
	return c, true, nil
}

// isAccessTokenType accepts "at+jwt" and its full media type, in any case
// (RFC 9068 section 4).
func isAccessTokenType(typ string) bool {
	return strings.EqualFold(typ, JWTType) || strings.EqualFold(typ, "application/"+JWTType)
}

// verifiedMemoTTL bounds how long a process remembers a verified JWT's
// claims (and never past the token's expiry): resource servers introspect
// the same token again and again, and its signature cannot stop being
// valid. The issuer, the expiry and the revocation set are checked at
// every introspection all the same.
const verifiedMemoTTL = 5 * time.Minute

// verifyAccessJWT checks a JWT access token's signature against the
// tenant's published keys and its type, and returns its claims. ok is
// false for a token that is not one; err is a failure of the store.
func (s *service) verifyAccessJWT(ctx context.Context, t store.Tenant, tok string) (
	accessClaims, bool, error) {
	sum := sha256.Sum256([]byte(tok))
	key := t.ID + "\x00" + string(sum[:])
	if c, ok := s.verified.get(key); ok {
		return c, true, nil
	}
	v, err := s.keys.Verify(ctx, t.ID, []byte(tok))
	if errors.Is(err, keys.ErrNotVerified) {
		return accessClaims{}, false, nil
	}
	if err != nil {
		return accessClaims{}, false, err
	}
	// RFC 9068 section 4: the type (then, in lookup, the issuer and the
	// expiry). Ward signs ID tokens with the same keys; their "typ" keeps
	// them out.
	var c accessClaims
	if !isAccessTokenType(v.Type) || json.Unmarshal(v.Payload, &c) != nil {
		return accessClaims{}, false, nil
	}
	s.verified.put(key, c, min(time.Unix(c.Expiry, 0).Sub(s.now()), verifiedMemoTTL))
	return c, true, nil
}
