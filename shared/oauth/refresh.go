package oauth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wardhq/ward/shared/audit"
	"github.com/wardhq/ward/shared/clients"
	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/validate"
)

// Refresh tokens (RFC 6749 section 6, RFC 9700 section 4.14.2).
//
// A user's grant to a client is a family of refresh tokens kept in the
// store (store.RefreshTokens) under their SHA-256, never the tokens. Each
// use spends the token presented and answers the next one of the family
// (rotation); presenting a spent token again revokes the whole family,
// the newest token included, since one of the two presenters is not the
// client. A family ends at its absolute expiry, refreshFamilyLifetime
// after the grant, however often it is used; each token lives the
// client's RefreshTokenTTL, within the family's end.
const (
	// RefreshTokenPrefix starts every refresh token: "wrt_" and 32
	// random bytes in unpadded base64url.
	RefreshTokenPrefix = "wrt_"
	// refreshFamilyLifetime is the absolute lifetime of a family: the
	// longest a client's refresh token lifetime may be (30 days), so that
	// a grant is consented to again at least that often.
	refreshFamilyLifetime = 30 * 24 * time.Hour
	// minRefreshTTL and maxRefreshTTL bound a client's refresh token
	// lifetime again (the registry bounds it too).
	minRefreshTTL = 5 * time.Minute
	maxRefreshTTL = refreshFamilyLifetime
)

// OpRevokeGrants revokes a user's refresh token families, all or those of
// one client (sign-out everywhere, a password reset, a consent
// withdrawn): the user themself, the administrators who reach the user
// (package orgs), and service callers. Audited (oauthGrant.revoke).
const OpRevokeGrants = "oauth.revokeGrants"

// RevokeGrantsInput names the user, and the client when only its grants
// end.
type RevokeGrantsInput struct {
	TenantID string `json:"tenantId"`
	UserID   string `json:"userId"`
	ClientID string `json:"clientId,omitempty"`
}

// RevokeGrantsOutput counts the families revoked.
type RevokeGrantsOutput struct {
	Revoked int `json:"revoked"`
}

// refreshGrant is what the authorization code flow knows of a user's
// grant when it issues the family's first refresh token.
type refreshGrant struct {
	Client clients.Client // the authenticated client; its RefreshTokenTTL applies
	UserID string
	// SessionID binds the family to the sign-in session: once the session
	// ends, the family is refused (and revoked) at its next use. Empty:
	// the family outlives sessions (offline access).
	SessionID string
	Scope     string   // space-separated, as granted
	Audience  []string // the resources granted; empty: the issuer
	AuthTime  time.Time
	ACR       string
	AMR       []string
}

// refreshLifetime is the client's refresh token lifetime within the
// bounds.
func refreshLifetime(seconds int64) time.Duration {
	return min(max(time.Duration(seconds)*time.Second, minRefreshTTL), maxRefreshTTL)
}

// refreshHash is the store's key of a refresh token: its hex SHA-256.
// 256 random bits need no slow hash.
func refreshHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// newRefreshFamily starts a family for a user's grant to a client and
// returns its first refresh token. The authorization code flow calls it
// once the code is redeemed, for a client holding the refresh_token
// grant (it checks that first: a client without it is a caller's
// mistake here, PERMISSION_DENIED, which the token endpoint would answer
// as server_error).
func (s *service) newRefreshFamily(ctx context.Context, t store.Tenant, g refreshGrant) (
	token, familyID string, err error) {
	if !slices.Contains(g.Client.GrantTypes, clients.GrantRefreshToken) {
		return "", "", errs.New(errs.PermissionDenied, "the client may not hold refresh tokens")
	}
	now := s.now()
	f := store.RefreshFamily{ID: validate.NewID(), TenantID: t.ID, ClientID: g.Client.ID,
		UserID: g.UserID, SessionID: g.SessionID, Scope: g.Scope, Audience: g.Audience,
		AuthTime: g.AuthTime, ACR: g.ACR, AMR: g.AMR, CreatedAt: now,
		ExpiresAt: now.Add(refreshFamilyLifetime)}
	token = RefreshTokenPrefix + randomString(32)
	first := store.RefreshToken{Hash: refreshHash(token), TenantID: t.ID, FamilyID: f.ID,
		Generation: 1, CreatedAt: now, ExpiresAt: s.refreshExpiry(g.Client, f, now)}
	if err := s.st.RefreshTokens().CreateFamily(ctx, f, first); err != nil {
		return "", "", err
	}
	return token, f.ID, nil
}

// refreshExpiry is when a token of family f issued at now to cl ends.
func (s *service) refreshExpiry(cl clients.Client, f store.RefreshFamily,
	now time.Time) time.Time {
	exp := now.Add(refreshLifetime(cl.RefreshTokenTTL))
	if exp.After(f.ExpiresAt) {
		return f.ExpiresAt
	}
	return exp
}

// findRefresh finds a refresh token of the tenant that is live and whose
// family is not revoked. ok is false for anything else (unknown,
// malformed, expired, revoked, another tenant's); err is the store's
// failure only. A spent token is returned with Used set.
func (s *service) findRefresh(ctx context.Context, t store.Tenant, token string) (
	store.RefreshToken, store.RefreshFamily, bool, error) {
	if !strings.HasPrefix(token, RefreshTokenPrefix) {
		return store.RefreshToken{}, store.RefreshFamily{}, false, nil
	}
	rt, f, err := s.st.RefreshTokens().GetByHash(ctx, refreshHash(token))
	if errs.CodeOf(err) == errs.NotFound {
		return store.RefreshToken{}, store.RefreshFamily{}, false, nil
	}
	if err != nil {
		return store.RefreshToken{}, store.RefreshFamily{}, false, err
	}
	ok := rt.TenantID == t.ID && f.TenantID == t.ID && !f.Revoked && rt.Live(f, s.now())
	return rt, f, ok, nil
}

// sessionEnded reports whether the session a family is bound to has
// ended. The durable session record is the truth (the sessions function
// deletes it when a session is revoked or signed out, and the store
// hides it once expired); the sessions function has no operation a
// service may ask by session ID, so the record is read here.
func (s *service) sessionEnded(ctx context.Context, f store.RefreshFamily) (bool, error) {
	if f.SessionID == "" {
		return false, nil
	}
	sess, err := s.st.Sessions().Get(ctx, f.TenantID, f.SessionID)
	if errs.CodeOf(err) == errs.NotFound {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	return sess.UserID != f.UserID || sess.Expired(s.now()), nil
}

func invalidGrant(description string) *protocolError {
	return badRequest(errInvalidGrant, description)
}

// refreshGrantType serves grant_type=refresh_token (RFC 6749 section 6)
// for cl, already authenticated: a public client by its client_id
// ("none"), a confidential one with its secret.
func (s *service) refreshGrantType(r *http.Request, t store.Tenant, iss string,
	form url.Values, cl clients.Client) (any, error) {
	ctx := r.Context()
	if !slices.Contains(cl.GrantTypes, clients.GrantRefreshToken) {
		return nil, badRequest(errUnauthorizedClient,
			"the client may not use the refresh_token grant")
	}
	token := form.Get("refresh_token")
	if token == "" {
		return nil, badRequest(errInvalidRequest, "refresh_token is required")
	}
	rt, f, ok, err := s.findRefresh(ctx, t, token)
	if err != nil {
		return nil, err
	}
	// Section 6: the token must have been issued to the authenticated
	// client. Another client's token is refused like an unknown one.
	if !ok || f.ClientID != cl.ID {
		return nil, invalidGrant("the refresh token is invalid, expired or revoked")
	}
	if rt.Used {
		// RFC 9700 section 4.14.2: a spent token presented again means
		// two parties hold the family; neither can be told apart, so the
		// family ends, the newest token with it.
		return nil, s.revokeOnReuse(ctx, t, f)
	}
	if ended, err := s.sessionEnded(ctx, f); err != nil || ended {
		if err != nil {
			return nil, err
		}
		if err := s.st.RefreshTokens().RevokeFamily(ctx, t.ID, f.ID); err != nil &&
			errs.CodeOf(err) != errs.NotFound {
			return nil, err
		}
		return nil, invalidGrant("the session of the grant has ended")
	}
	scope, err := narrowedScope(form, f.Scope, cl.Scopes)
	if err != nil {
		return nil, err
	}
	aud, err := narrowedAudience(form["resource"], f.Audience, iss)
	if err != nil {
		return nil, err
	}

	// The access token (and, with openid, the ID token: OpenID Connect
	// Core section 12.2) is made before the rotation: a rotation that
	// fails then leaves an access token nobody received, never a spent
	// refresh token without a successor.
	out, _, err := s.issueForUser(ctx, t, iss, cl, userGrant{ClientID: cl.ID, Scope: scope,
		Audience: aud, UserID: f.UserID, SessionID: f.SessionID, AuthTime: f.AuthTime.Unix(),
		ACR: f.ACR, AMR: f.AMR})
	if err != nil {
		return nil, err
	}
	now := s.now()
	next := RefreshTokenPrefix + randomString(32)
	err = s.st.RefreshTokens().Rotate(ctx, t.ID, rt.Hash, store.RefreshToken{
		Hash: refreshHash(next), TenantID: t.ID, FamilyID: f.ID, Generation: rt.Generation + 1,
		CreatedAt: now, ExpiresAt: s.refreshExpiry(cl, f, now)})
	switch {
	case err == nil:
	case errs.CodeOf(err) == errs.Conflict:
		// Spent or revoked meanwhile: a concurrent use of the same token,
		// which is reuse like any other.
		return nil, s.revokeOnReuse(ctx, t, f)
	case errs.CodeOf(err) == errs.NotFound:
		return nil, invalidGrant("the refresh token is invalid, expired or revoked")
	default:
		return nil, err
	}
	out.RefreshToken = next
	return out, nil
}

// revokeOnReuse revokes family f after one of its spent tokens came back,
// and answers invalid_grant.
func (s *service) revokeOnReuse(ctx context.Context, t store.Tenant, f store.RefreshFamily) error {
	s.log.LogAttrs(ctx, slog.LevelWarn, "oauth: a spent refresh token was presented again; "+
		"its family is revoked", slog.String("tenant", t.ID), slog.String("client", f.ClientID),
		slog.String("family", f.ID), slog.String("request_id", function.RequestID(ctx)))
	err := s.st.RefreshTokens().RevokeFamily(ctx, t.ID, f.ID)
	if err != nil && errs.CodeOf(err) != errs.NotFound {
		return err
	}
	return invalidGrant("the refresh token is invalid, expired or revoked")
}

// narrowedScope is the scope of the refreshed access token: the family's,
// or the part of it the request names (section 6: a scope not originally
// granted is invalid_scope), in either case without the scopes the client
// has lost since the grant. The family itself keeps its scope, so a later
// refresh may ask for all of it again.
func narrowedScope(form url.Values, granted string, allowed []string) (string, error) {
	var have []string
	for _, sc := range strings.Fields(granted) {
		if slices.Contains(allowed, sc) {
			have = append(have, sc)
		}
	}
	return grantedScope(form, have)
}

// narrowedAudience is the audience of the refreshed access token: the
// family's (the issuer when it has none), or the resources the request
// names among them (RFC 8707 section 2.2); any other is invalid_target.
func narrowedAudience(resources, granted []string, iss string) (audience, error) {
	if len(granted) == 0 {
		granted = []string{iss}
	}
	if len(resources) == 0 {
		return audience(slices.Clone(granted)), nil
	}
	if len(resources) > maxResources {
		return nil, badRequest(errInvalidTarget, "too many resource parameters")
	}
	var aud audience
	for _, res := range resources {
		if !slices.Contains(granted, res) {
			return nil, badRequest(errInvalidTarget, "a resource was not granted")
		}
		if !slices.Contains(aud, res) {
			aud = append(aud, res)
		}
	}
	return aud, nil
}

// introspectRefresh answers RFC 7662 for a refresh token, asked by cl:
// active only for the client the token was issued to, so that no other
// client learns about a user's grant.
func (s *service) introspectRefresh(ctx context.Context, t store.Tenant, iss string,
	cl clients.Client, token string) (introspection, error) {
	rt, f, ok, err := s.findRefresh(ctx, t, token)
	if err != nil || !ok || rt.Used || f.ClientID != cl.ID {
		return introspection{}, err
	}
	if ended, err := s.sessionEnded(ctx, f); err != nil || ended {
		return introspection{}, err
	}
	aud := audience(f.Audience)
	if len(aud) == 0 {
		aud = audience{iss}
	}
	return introspection{Active: true, Scope: f.Scope, ClientID: f.ClientID,
		Subject: f.UserID, Audience: aud, Issuer: iss, Expiry: rt.ExpiresAt.Unix(),
		IssuedAt: rt.CreatedAt.Unix(), TokenType: "refresh_token"}, nil
}

// revokeRefresh serves RFC 7009 for a refresh token: its whole family is
// revoked (section 2.1 lets the server revoke the grant's other tokens).
// Unknown, expired and other tenants' tokens are answered 200 with
// nothing done; another client's token is unauthorized_client.
func (s *service) revokeRefresh(ctx context.Context, t store.Tenant, cl clients.Client,
	token string) (any, error) {
	_, f, ok, err := s.findRefresh(ctx, t, token)
	if err != nil || !ok {
		return struct{}{}, err
	}
	if f.ClientID != cl.ID {
		return nil, badRequest(errUnauthorizedClient, "the token was not issued to this client")
	}
	err = s.st.RefreshTokens().RevokeFamily(ctx, t.ID, f.ID)
	if err != nil && errs.CodeOf(err) != errs.NotFound {
		return nil, err
	}
	return struct{}{}, nil
}

func (in *RevokeGrantsInput) Validate() error {
	if err := validate.ID("tenantId", in.TenantID); err != nil {
		return err
	}
	if err := validate.ID("userId", in.UserID); err != nil {
		return err
	}
	if in.ClientID != "" {
		return validate.ID("clientId", in.ClientID)
	}
	return nil
}

// revokeGrants is OpRevokeGrants.
func (s *service) revokeGrants(ctx context.Context, c function.Caller, in RevokeGrantsInput) (
	RevokeGrantsOutput, error) {
	if err := reachesUser(ctx, s.st, c, in.TenantID, in.UserID); err != nil {
		return RevokeGrantsOutput{}, err
	}
	gone, err := s.st.RefreshTokens().RevokeByUser(ctx, in.TenantID, in.UserID, in.ClientID)
	if err != nil {
		return RevokeGrantsOutput{}, err
	}
	changes := map[string]store.AuditChange{"revokedGrants": {New: strconv.Itoa(len(gone))}}
	if in.ClientID != "" {
		changes["clientId"] = store.AuditChange{New: in.ClientID}
	}
	s.audit.Record(ctx, c, "oauthGrant.revoke",
		audit.Target{TenantID: in.TenantID, Type: audit.TypeUser, ID: in.UserID}, changes)
	return RevokeGrantsOutput{Revoked: len(gone)}, nil
}
