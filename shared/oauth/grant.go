package oauth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/wardhq/ward/shared/clients"
	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
)

// IDTokenType is the "typ" of ID tokens: plain JWT, which keeps them
// apart from access tokens ("at+jwt"), so that one is never taken for
// the other.
const IDTokenType = "JWT"

// userGrant is what a user granted a client: the tokens issued for it
// carry it. It comes from an authorization code or a refresh token
// family.
type userGrant struct {
	ClientID  string   `json:"cid"`
	Scope     string   `json:"sc"`
	Audience  audience `json:"aud"`
	Nonce     string   `json:"n,omitempty"`
	UserID    string   `json:"sub"`
	SessionID string   `json:"sid"`
	AuthTime  int64    `json:"at"`
	ACR       string   `json:"acr"`
	AMR       []string `json:"amr,omitempty"`
}

func (g userGrant) openID() bool { return slices.Contains(strings.Fields(g.Scope), "openid") }

// idClaims are an ID token's claims (OpenID Connect Core sections 2 and
// 3.1.3.6).
type idClaims struct {
	Issuer   string   `json:"iss"`
	Subject  string   `json:"sub"`
	Audience audience `json:"aud"`
	Expiry   int64    `json:"exp"`
	IssuedAt int64    `json:"iat"`
	AuthTime int64    `json:"auth_time"`
	Nonce    string   `json:"nonce,omitempty"`
	ACR      string   `json:"acr,omitempty"`
	AMR      []string `json:"amr,omitempty"`
	// AZP is the client: the audience is the client alone, which makes
	// azp optional; relying parties that check it find it right.
	AZP    string `json:"azp"`
	SID    string `json:"sid,omitempty"`
	ATHash string `json:"at_hash"`
}

// issued names what one grant issued, so that it can be revoked: the
// access token's jti (JWT or opaque alike) and its refresh family.
type issued struct {
	TenantID string `json:"tid"`
	JTI      string `json:"jti"`
	Expiry   int64  `json:"exp"`
	// FamilyID is the refresh token family the grant started, if any.
	FamilyID string `json:"fam,omitempty"`
}

// issueForUser issues the tokens of a user's grant to the client: an
// access token in the client's format (its sub the user, with
// auth_time, acr, amr and sid as RFC 9068 section 2.2.1 allows), and an
// ID token when openid was granted.
func (s *service) issueForUser(ctx context.Context, t store.Tenant, iss string,
	cl clients.Client, g userGrant) (tokenResponse, issued, error) {
	now := s.now()
	ttl := lifetime(cl.AccessTokenTTL)
	claims := accessClaims{Issuer: iss, Subject: g.UserID, Audience: g.Audience,
		Expiry: now.Add(ttl).Unix(), IssuedAt: now.Unix(), ID: randomString(16),
		ClientID: cl.ID, Scope: g.Scope, AuthTime: g.AuthTime, ACR: g.ACR, AMR: g.AMR,
		SessionID: g.SessionID}
	rec := issued{TenantID: t.ID, JTI: claims.ID, Expiry: claims.Expiry}
	token, err := s.issue(ctx, t, cl.AccessTokenFormat, claims, ttl)
	if err != nil {
		return tokenResponse{}, issued{}, err
	}
	out := tokenResponse{AccessToken: token, TokenType: "Bearer",
		ExpiresIn: int64(ttl / time.Second), Scope: g.Scope}

	if g.openID() {
		if out.IDToken, err = s.idToken(ctx, t, iss, cl, g, token, now); err != nil {
			return tokenResponse{}, issued{}, err
		}
	}
	return out, rec, nil
}

// ScopeOfflineAccess asks for a refresh token that outlives the sign-in
// session (OpenID Connect Core section 11).
const ScopeOfflineAccess = "offline_access"

// issueStartingFamily issues the tokens of a new grant (issueForUser) and,
// when the client holds the refresh_token grant, the first refresh token
// of a new family. The family is bound to the sign-in session, and ends
// with it, unless offline_access was granted: the choice Keycloak's users
// know as online and offline tokens. If the family cannot be made, the
// access token just issued is revoked and nothing is answered.
func (s *service) issueStartingFamily(ctx context.Context, t store.Tenant, iss string,
	cl clients.Client, g userGrant) (tokenResponse, issued, error) {
	out, rec, err := s.issueForUser(ctx, t, iss, cl, g)
	if err != nil || !slices.Contains(cl.GrantTypes, clients.GrantRefreshToken) {
		return out, rec, err
	}
	sid := g.SessionID
	if slices.Contains(strings.Fields(g.Scope), ScopeOfflineAccess) {
		sid = ""
	}
	token, familyID, err := s.newRefreshFamily(ctx, t, refreshGrant{Client: cl,
		UserID: g.UserID, SessionID: sid, Scope: g.Scope, Audience: g.Audience,
		AuthTime: time.Unix(g.AuthTime, 0).UTC(), ACR: g.ACR, AMR: g.AMR})
	if err != nil {
		return tokenResponse{}, issued{}, errors.Join(err, s.revokeIssued(ctx, rec))
	}
	out.RefreshToken, rec.FamilyID = token, familyID
	return out, rec, nil
}

// idToken signs the ID token with the tenant's active key. Its lifetime
// is the client's IDTokenTTL, within the access tokens' bounds.
func (s *service) idToken(ctx context.Context, t store.Tenant, iss string, cl clients.Client,
	g userGrant, accessToken string, now time.Time) (string, error) {
	c := idClaims{Issuer: iss, Subject: g.UserID, Audience: audience{cl.ID},
		Expiry: now.Add(lifetime(cl.IDTokenTTL)).Unix(), IssuedAt: now.Unix(),
		AuthTime: g.AuthTime, Nonce: g.Nonce, ACR: g.ACR, AMR: g.AMR, AZP: cl.ID,
		SID: g.SessionID, ATHash: atHash(accessToken)}
	b, err := json.Marshal(c)
	if err != nil {
		return "", errs.Wrap(errs.Internal, err, "internal error")
	}
	return s.keys.Sign(ctx, t.ID, b, IDTokenType)
}

// atHash is the left half of the access token's SHA-256 in unpadded
// base64url (OpenID Connect Core section 3.1.3.6). Both of Ward's
// signing algorithms, ES256 and RS256, hash with SHA-256.
func atHash(accessToken string) string {
	sum := sha256.Sum256([]byte(accessToken))
	return base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
}

// revokeIssued ends what a grant issued: its refresh family is revoked,
// and its access token's jti joins the revoked set until it expires.
func (s *service) revokeIssued(ctx context.Context, rec issued) error {
	if rec.FamilyID != "" {
		err := s.st.RefreshTokens().RevokeFamily(ctx, rec.TenantID, rec.FamilyID)
		if err != nil && errs.CodeOf(err) != errs.NotFound {
			return err
		}
	}
	return s.revokeJTI(ctx, rec.TenantID, rec.JTI, rec.Expiry)
}

// revokeJTI puts an access token's jti in the tenant's revocation set
// until the token expires (and a second more); an expired token needs
// none.
func (s *service) revokeJTI(ctx context.Context, tenantID, jti string, expiry int64) error {
	left := time.Unix(expiry, 0).Sub(s.now()) + time.Second
	if left <= time.Second {
		return nil
	}
	return s.cache.Set(ctx, revokedKey(tenantID, jti), []byte{1}, left)
}
