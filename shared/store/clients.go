package store

import (
	"context"
	"time"
	"unicode/utf8"

	"github.com/wardhq/ward/shared/errs"
)

// OAuthClient is an application registered with a tenant's OAuth 2.0 and
// OpenID Connect server. The clients service (package clients) checks the
// fields' meaning (URIs, methods, grants, lifetimes); the store checks
// only bounds.
//
// ID is the client_id: a version-7 UUID that Ward generates, unique across
// all tenants (the store still finds a client only within its tenant). It
// names the client and is no secret.
type OAuthClient struct {
	ID       string `json:"id"`
	TenantID string `json:"tenantId"`
	// Name is an administrator's label, free text.
	Name string     `json:"name"`
	Type ClientType `json:"type"`
	// AuthMethod is the token_endpoint_auth_method (RFC 7591 section 2).
	AuthMethod string `json:"authMethod"`
	// SecretHash is the hex SHA-256 of the client secret, for the two
	// client_secret methods; empty otherwise. The secret itself is never
	// stored. No operation returns this field.
	SecretHash string `json:"secretHash,omitempty"`
	// RegistrationTokenHash is the hex SHA-256 of the registration access
	// token (RFC 7592) of a client registered dynamically (RFC 7591);
	// empty for clients that administrators registered. No operation
	// returns this field.
	RegistrationTokenHash string `json:"registrationTokenHash,omitempty"`
	// JWKSURI or JWKS (an inline key set, JSON) gives the keys of a
	// private_key_jwt client; at most one is set.
	JWKSURI string `json:"jwksUri,omitempty"`
	JWKS    string `json:"jwks,omitempty"`
	// RedirectURIs and PostLogoutRedirectURIs are kept exactly as
	// registered and compared byte for byte.
	RedirectURIs           []string `json:"redirectUris,omitempty"`
	PostLogoutRedirectURIs []string `json:"postLogoutRedirectUris,omitempty"`
	GrantTypes             []string `json:"grantTypes"`
	Scopes                 []string `json:"scopes,omitempty"`
	// AccessTokenFormat is "jwt" (RFC 9068) or "opaque".
	AccessTokenFormat string `json:"accessTokenFormat"`
	// Lifetimes, in seconds.
	AccessTokenTTL  int64 `json:"accessTokenTtl"`
	IDTokenTTL      int64 `json:"idTokenTtl"`
	RefreshTokenTTL int64 `json:"refreshTokenTtl"`
	// RequirePKCE makes the authorization code flow demand PKCE (S256);
	// always true for public clients.
	RequirePKCE bool `json:"requirePkce"`
	// RequireConsent makes the authorization endpoint ask the user to
	// consent to the scopes the client asks for, unless a remembered
	// consent covers them. Kept in the client's JSON (no column of its
	// own); false in records written before it existed.
	RequireConsent bool      `json:"requireConsent,omitempty"`
	CreatedAt      time.Time `json:"createdAt"`
	UpdatedAt      time.Time `json:"updatedAt"`
	Version        int64     `json:"version"`
	// Exchange is what the client may do with the token exchange grant
	// (RFC 8693); nil: nothing, even when it holds the grant.
	Exchange *ExchangePolicy `json:"exchange,omitempty"`
}

// ExchangeSelf in ExchangePolicy.Issuers names the tenant's own issuer:
// Ward's access tokens of the tenant.
const ExchangeSelf = "self"

// ExchangePolicy is a client's token exchange policy (package oauth,
// rfc8693.go). Every permission is off unless set.
type ExchangePolicy struct {
	// Issuers are where subject and actor tokens may come from:
	// ExchangeSelf, or the exact "iss" of a trusted issuer of the tenant.
	Issuers []string `json:"issuers,omitempty"`
	// Audiences are the audiences (URIs or logical names) the client may
	// ask tokens for, besides the tenant's issuer.
	Audiences []string `json:"audiences,omitempty"`
	// Delegation allows an actor token: the new token carries "act".
	Delegation bool `json:"delegation,omitempty"`
	// Impersonation allows an exchange without an actor token: the new
	// token's subject is the subject token's, with nothing of the client.
	Impersonation bool `json:"impersonation,omitempty"`
	// Sessions allows Ward sessions to be asked for (a trusted issuer's
	// token of a mapped user in, a session token out).
	Sessions bool `json:"sessions,omitempty"`
}

// ClientType is confidential (holds a credential) or public (cannot).
type ClientType string

const (
	ClientConfidential ClientType = "confidential"
	ClientPublic       ClientType = "public"
)

// Bounds of OAuth clients, checked by the store as well as the service.
const (
	MaxClientNameBytes  = 200
	MaxClientURIBytes   = 2048 // a redirect URI or the JWKS URI
	MaxClientURIs       = 32   // redirect URIs, and post-logout ones
	MaxClientGrantTypes = 8
	MaxClientScopes     = 64
	MaxClientWordBytes  = 256 // a scope, grant type, method, type or format
	MaxClientHashBytes  = 128
	// MaxClientJWKSBytes bounds an inline key set.
	MaxClientJWKSBytes = 16 << 10
)

// Clients stores OAuth clients. Every method is scoped by tenant: a
// client of another tenant is ErrNotFound.
//
// Create fails with ErrConflict when the ID is taken in the tenant. Update
// is compare-and-swap like Tenants.Update: ID, TenantID, CreatedAt and
// Version are kept, everything else (SecretHash included) comes from fn.
// Delete removes the client. List pages through a tenant's clients in
// order of ID with the guarantees of Tenants.List; its cursors are bound
// to the tenant.
//
// Known shortcoming: nothing deletes a tenant's clients with the tenant.
type Clients interface {
	Create(ctx context.Context, c OAuthClient) (OAuthClient, error)
	Get(ctx context.Context, tenantID, id string) (OAuthClient, error)
	List(ctx context.Context, tenantID string, p Page) (items []OAuthClient, next string,
		err error)
	Update(ctx context.Context, tenantID, id string,
		fn func(OAuthClient) (OAuthClient, error)) (OAuthClient, error)
	Delete(ctx context.Context, tenantID, id string) error
}

// Bounds of an exchange policy's lists.
const (
	MaxExchangeIssuers   = MaxTrustedIssuers + 1 // and ExchangeSelf
	MaxExchangeAudiences = 32
)

func (p *ExchangePolicy) check(list func(string, []string, int, int) error) error {
	if p == nil {
		return nil
	}
	if err := list("exchange.issuers", p.Issuers, MaxExchangeIssuers,
		MaxIssuerURLBytes); err != nil {
		return err
	}
	return list("exchange.audiences", p.Audiences, MaxExchangeAudiences, MaxClientURIBytes)
}

// Check checks the bounds the store keeps: lengths, counts and UTF-8. It
// checks neither IDs nor meaning.
func (c OAuthClient) Check() error {
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
	list := func(field string, l []string, max, maxBytes int) error {
		if len(l) > max {
			return errs.Invalid(field, "must hold at most %d entries", max)
		}
		for _, s := range l {
			if err := text(field, s, maxBytes, true); err != nil {
				return err
			}
		}
		return nil
	}
	for _, err := range []error{
		text("name", c.Name, MaxClientNameBytes, false),
		text("type", string(c.Type), MaxClientWordBytes, true),
		text("authMethod", c.AuthMethod, MaxClientWordBytes, true),
		text("secretHash", c.SecretHash, MaxClientHashBytes, false),
		text("registrationTokenHash", c.RegistrationTokenHash, MaxClientHashBytes, false),
		text("jwksUri", c.JWKSURI, MaxClientURIBytes, false),
		text("jwks", c.JWKS, MaxClientJWKSBytes, false),
		text("accessTokenFormat", c.AccessTokenFormat, MaxClientWordBytes, true),
		list("redirectUris", c.RedirectURIs, MaxClientURIs, MaxClientURIBytes),
		list("postLogoutRedirectUris", c.PostLogoutRedirectURIs, MaxClientURIs,
			MaxClientURIBytes),
		list("grantTypes", c.GrantTypes, MaxClientGrantTypes, MaxClientWordBytes),
		list("scopes", c.Scopes, MaxClientScopes, MaxClientWordBytes),
		c.Exchange.check(list),
	} {
		if err != nil {
			return err
		}
	}
	if c.AccessTokenTTL < 0 || c.IDTokenTTL < 0 || c.RefreshTokenTTL < 0 {
		return errs.Invalid("accessTokenTtl", "lifetimes must not be negative")
	}
	return nil
}
