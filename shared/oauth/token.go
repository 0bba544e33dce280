package oauth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/wardhq/ward/shared/clients"
	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
)

// Access tokens.
const (
	// OpaqueTokenPrefix starts every opaque access token: "wat_" and 32
	// random bytes in unpadded base64url.
	OpaqueTokenPrefix = "wat_"
	// JWTType is the "typ" of JWT access tokens (RFC 9068 section 2.1).
	JWTType = "at+jwt"
	// minTokenTTL and maxTokenTTL bound a client's access token lifetime
	// again (the registry bounds it too): the signing keys' overlap must
	// outlast the longest one.
	minTokenTTL = time.Minute
	maxTokenTTL = time.Hour
	// maxResources bounds the resource parameters of one request.
	maxResources = 8
	// maxResourceBytes bounds one resource indicator.
	maxResourceBytes = 2048

	opaqueKeyPrefix  = "oauth:at:"  // + hex SHA-256 of an opaque token
	revokedKeyPrefix = "oauth:jti:" // + tenant ID + ":" + jti of a revoked JWT
)

// audience is the "aud" claim: one string when it names one audience, an
// array otherwise (RFC 7519 section 4.1.3).
type audience []string

func (a audience) MarshalJSON() ([]byte, error) {
	if len(a) == 1 {
		return json.Marshal(a[0])
	}
	return json.Marshal([]string(a))
}

func (a *audience) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*a = audience{one}
		return nil
	}
	return json.Unmarshal(b, (*[]string)(a))
}

// accessClaims are an access token's claims: a JWT's payload (RFC 9068
// section 2.2), or what the cache keeps for an opaque token.
type accessClaims struct {
	Issuer   string   `json:"iss"`
	Subject  string   `json:"sub"`
	Audience audience `json:"aud"`
	Expiry   int64    `json:"exp"`
	IssuedAt int64    `json:"iat"`
	ID       string   `json:"jti"`
	ClientID string   `json:"client_id"`
	Scope    string   `json:"scope,omitempty"`
	// A user's token carries how the user signed in (RFC 9068 section
	// 2.2.1) and the session (sid, as OpenID Connect's ID token has it).
	AuthTime  int64    `json:"auth_time,omitempty"`
	ACR       string   `json:"acr,omitempty"`
	AMR       []string `json:"amr,omitempty"`
	SessionID string   `json:"sid,omitempty"`
	// Act names who acts for the subject (RFC 8693 section 4.1), in
	// tokens made by the token exchange with an actor token (rfc8693.go).
	Act *actClaim `json:"act,omitempty"`
}

// opaqueRecord is what the cache keeps of an opaque token, under its
// SHA-256: never the token itself.
type opaqueRecord struct {
	TenantID string       `json:"tid"`
	Claims   accessClaims `json:"claims"`
}

// tokenResponse is RFC 6749 section 5.1's answer.
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	Scope       string `json:"scope,omitempty"`
	// IDToken is OpenID Connect Core section 3.1.3.3's; RefreshToken is
	// set where grant.go marks it.
	IDToken      string `json:"id_token,omitempty"`
	RefreshToken string `json:"refresh_token,omitempty"`
}

// serveToken is the token endpoint (RFC 6749 section 3.2). It grants
// client_credentials (section 4.4), authorization_code (section 4.1.3,
// code.go), refresh_token (section 6, refresh.go), the token exchange
// (RFC 8693, rfc8693.go) and the device code (RFC 8628 section 3.4,
// rfc8628.go): every grant discovery names.
func (s *service) serveToken(r *http.Request, t store.Tenant, iss string, form url.Values) (
	any, error) {
	cl, err := s.authenticateClient(r, t, form, false)
	if err != nil {
		return nil, err
	}
	switch gt := form.Get("grant_type"); gt {
	case "":
		return nil, badRequest(errInvalidRequest, "grant_type is required")
	case clients.GrantClientCredentials:
		return s.grantClientCredentials(r, t, iss, form, cl)
	case clients.GrantAuthorizationCode:
		return s.grantAuthorizationCode(r, t, iss, form, cl)
	case clients.GrantRefreshToken:
		return s.refreshGrantType(r, t, iss, form, cl)
	case clients.GrantTokenExchange:
		return s.serveTokenExchange(r, t, iss, form, cl)
	case clients.GrantDeviceCode:
		return s.grantDeviceCode(r, t, iss, form, cl)
	default:
		return nil, badRequest(errUnsupportedGrantType, "the grant type is not supported")
	}
}

// grantClientCredentials is RFC 6749 section 4.4.
func (s *service) grantClientCredentials(r *http.Request, t store.Tenant, iss string,
	form url.Values, cl clients.Client) (any, error) {
	// RFC 6749 section 4.4: confidential clients only. The registry gives
	// the grant to none other, and a public client authenticated with
	// "none" is refused here all the same.
	if !slices.Contains(cl.GrantTypes, clients.GrantClientCredentials) ||
		cl.Type != store.ClientConfidential {
		return nil, badRequest(errUnauthorizedClient,
			"the client may not use the client_credentials grant")
	}
	scope, err := grantedScope(form, cl.Scopes)
	if err != nil {
		return nil, err
	}
	aud, err := audienceOf(form["resource"], iss)
	if err != nil {
		return nil, err
	}

	now := s.now()
	ttl := lifetime(cl.AccessTokenTTL)
	claims := accessClaims{Issuer: iss, Subject: cl.ID, Audience: aud,
		Expiry: now.Add(ttl).Unix(), IssuedAt: now.Unix(), ID: randomString(16),
		ClientID: cl.ID, Scope: scope}
	token, err := s.issue(r.Context(), t, cl.AccessTokenFormat, claims, ttl)
	if err != nil {
		return nil, err
	}
	return tokenResponse{AccessToken: token, TokenType: "Bearer",
		ExpiresIn: int64(ttl / time.Second), Scope: scope}, nil
}

// lifetime is the client's access token lifetime within the bounds.
func lifetime(seconds int64) time.Duration {
	return min(max(time.Duration(seconds)*time.Second, minTokenTTL), maxTokenTTL)
}

// issue makes the access token in the client's format: a JWT signed by
// the tenant's active key, or an opaque token whose SHA-256 and claims
// the cache keeps for its lifetime.
func (s *service) issue(ctx context.Context, t store.Tenant, format string, c accessClaims,
	ttl time.Duration) (string, error) {
	return s.issueAs(ctx, t, format, c, ttl, "")
}

// newOpaqueToken makes an opaque access token.
func newOpaqueToken() string { return OpaqueTokenPrefix + randomString(32) }

// issueAs is issue with the opaque token made beforehand (empty: made
// here), for a caller that must know it before it exists.
func (s *service) issueAs(ctx context.Context, t store.Tenant, format string, c accessClaims,
	ttl time.Duration, token string) (string, error) {
	if format == clients.FormatOpaque {
		if s.cache == nil {
			return "", errs.New(errs.Unavailable, "no cache for opaque tokens")
		}
		if token == "" {
			token = newOpaqueToken()
		}
		b, err := json.Marshal(opaqueRecord{TenantID: t.ID, Claims: c})
		if err != nil {
			return "", errs.Wrap(errs.Internal, err, "internal error")
		}
		if err := s.cache.Set(ctx, opaqueKey(token), b, ttl); err != nil {
			return "", err
		}
		return token, nil
	}
	b, err := json.Marshal(c)
	if err != nil {
		return "", errs.Wrap(errs.Internal, err, "internal error")
	}
	return s.keys.Sign(ctx, t.ID, b, JWTType)
}

// grantedScope is the scope of the token: the requested scope when the
// client may have all of it, or every scope the client may have when the
// request names none (RFC 6749 section 3.3 lets the server choose the
// default).
func grantedScope(form url.Values, allowed []string) (string, error) {
	if strings.TrimSpace(form.Get("scope")) == "" {
		return strings.Join(allowed, " "), nil
	}
	var granted []string
	for _, sc := range strings.Split(form.Get("scope"), " ") {
		if sc == "" || slices.Contains(granted, sc) {
			continue
		}
		// A scope not registered for the client is refused whole rather
		// than dropped, so that the client learns at once.
		if !slices.Contains(allowed, sc) {
			return "", badRequest(errInvalidScope, "a requested scope is not allowed to the client")
		}
		granted = append(granted, sc)
	}
	return strings.Join(granted, " "), nil
}

// audienceOf turns the resource indicators (RFC 8707) into the token's
// audience. Ward's rule: any absolute URI without a fragment (section 2)
// and without user information, of at most 2048 bytes, up to 8 of them,
// each becomes an audience as given; without any, the audience is the
// tenant's issuer. Clients have no list of allowed audiences yet: a
// resource server must check both the audience and the scope.
func audienceOf(resources []string, iss string) (audience, error) {
	if len(resources) == 0 {
		return audience{iss}, nil
	}
	if len(resources) > maxResources {
		return nil, badRequest(errInvalidTarget, "too many resource parameters")
	}
	var aud audience
	for _, res := range resources {
		u, err := url.Parse(res)
		if err != nil || !u.IsAbs() || len(res) > maxResourceBytes || u.Fragment != "" ||
			strings.Contains(res, "#") || u.User != nil || (u.Host == "" && u.Opaque == "") ||
			strings.ContainsAny(res, " \t\r\n") {
			return nil, badRequest(errInvalidTarget,
				"a resource must be an absolute URI without a fragment")
		}
		if !slices.Contains(aud, res) {
			aud = append(aud, res)
		}
	}
	return aud, nil
}

// randomString is n random bytes in unpadded base64url.
func randomString(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// opaqueKey is where the cache keeps an opaque token's record: the hex
// SHA-256 of the token, so that the cache never holds a usable token.
// 256 random bits need no slow hash.
func opaqueKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return opaqueKeyPrefix + hex.EncodeToString(sum[:])
}

func revokedKey(tenantID, jti string) string {
	return revokedKeyPrefix + tenantID + ":" + jti
}
