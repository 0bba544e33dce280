package clients

import (
	"log/slog"
	"time"

	"github.com/wardhq/ward/shared/store"
)

// FunctionName is the function that owns OAuth clients.
const FunctionName = "clients"

// Operation names.
const (
	// OpCreate, OpGet, OpList, OpUpdate, OpDelete and OpRotateSecret
	// manage a tenant's OAuth clients: system administrators and the
	// tenant's own. OpGet answers service callers too (the
	// authorization endpoint).
	OpCreate       = "clients.create"
	OpGet          = "clients.get"
	OpList         = "clients.list"
	OpUpdate       = "clients.update"
	OpDelete       = "clients.delete"
	OpRotateSecret = "clients.rotateSecret"
	// OpAuthenticate checks a client's credentials at the token
	// endpoint: service callers only.
	OpAuthenticate = "clients.authenticate"
	// OpRegister registers a client by dynamic client registration (RFC
	// 7591), and OpManageRegistration reads, replaces or deletes one with
	// its registration access token (RFC 7592): service callers only
	// (the oauth function's registration endpoint). See rfc7591.go.
	OpRegister           = "clients.register"
	OpManageRegistration = "clients.manageRegistration"
)

// Token endpoint authentication methods (RFC 7591 section 2).
const (
	MethodSecretBasic   = "client_secret_basic"
	MethodSecretPost    = "client_secret_post"
	MethodPrivateKeyJWT = "private_key_jwt"
	MethodNone          = "none"
)

// Grant types a client may be allowed.
const (
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
	GrantClientCredentials = "client_credentials"
	GrantDeviceCode        = "urn:ietf:params:oauth:grant-type:device_code"
	GrantTokenExchange     = "urn:ietf:params:oauth:grant-type:token-exchange"
)

// Access token formats.
const (
	FormatJWT    = "jwt"
	FormatOpaque = "opaque"
)

// Secret is a client secret in an input or output. It marshals to JSON as
// itself but prints and logs as "[redacted]".
type Secret string

const redacted = "[redacted]"

func (Secret) String() string       { return redacted }
func (Secret) GoString() string     { return redacted }
func (Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// Client is an OAuth client as operations return it: everything but the
// secret's hash, which no operation returns.
type Client struct {
	ID                     string           `json:"id"`
	TenantID               string           `json:"tenantId"`
	Name                   string           `json:"name"`
	Type                   store.ClientType `json:"type"`
	AuthMethod             string           `json:"authMethod"`
	HasSecret              bool             `json:"hasSecret"`
	JWKSURI                string           `json:"jwksUri,omitempty"`
	JWKS                   string           `json:"jwks,omitempty"`
	RedirectURIs           []string         `json:"redirectUris"`
	PostLogoutRedirectURIs []string         `json:"postLogoutRedirectUris"`
	GrantTypes             []string         `json:"grantTypes"`
	Scopes                 []string         `json:"scopes"`
	AccessTokenFormat      string           `json:"accessTokenFormat"`
	AccessTokenTTL         int64            `json:"accessTokenTtl"`
	IDTokenTTL             int64            `json:"idTokenTtl"`
	RefreshTokenTTL        int64            `json:"refreshTokenTtl"`
	RequirePKCE            bool             `json:"requirePkce"`
	// RequireConsent: the user is asked to consent (package doc). Always
	// true for clients registered dynamically.
	RequireConsent bool      `json:"requireConsent"`
	CreatedAt      time.Time `json:"createdAt"`
	UpdatedAt      time.Time `json:"updatedAt"`
	Version        int64     `json:"version"`
	// Exchange is the token exchange policy (docs/oauth.md); nil: none.
	Exchange *store.ExchangePolicy `json:"exchange,omitempty"`
}

// CreateInput registers a client. Type and AuthMethod are required;
// the rest have the defaults the package doc lists.
type CreateInput struct {
	TenantID               string           `json:"tenantId"`
	Name                   string           `json:"name,omitempty"`
	Type                   store.ClientType `json:"type"`
	AuthMethod             string           `json:"authMethod"`
	JWKSURI                string           `json:"jwksUri,omitempty"`
	JWKS                   string           `json:"jwks,omitempty"`
	RedirectURIs           []string         `json:"redirectUris,omitempty"`
	PostLogoutRedirectURIs []string         `json:"postLogoutRedirectUris,omitempty"`
	GrantTypes             []string         `json:"grantTypes,omitempty"`
	Scopes                 []string         `json:"scopes,omitempty"`
	AccessTokenFormat      string           `json:"accessTokenFormat,omitempty"`
	AccessTokenTTL         int64            `json:"accessTokenTtl,omitempty"`
	IDTokenTTL             int64            `json:"idTokenTtl,omitempty"`
	RefreshTokenTTL        int64            `json:"refreshTokenTtl,omitempty"`
	RequirePKCE            *bool            `json:"requirePkce,omitempty"`
	// RequireConsent defaults to false: an administrator's client is the
	// tenant's own application, as Keycloak's "Consent required" is off
	// by default.
	RequireConsent *bool `json:"requireConsent,omitempty"`
	// Exchange is the token exchange policy (docs/oauth.md); nil: none.
	Exchange *store.ExchangePolicy `json:"exchange,omitempty"`
}

// SecretOutput is a client with its secret, shown this once: the answer
// of create and of rotateSecret. Secret is empty for clients without one.
type SecretOutput struct {
	Client Client `json:"client"`
	Secret Secret `json:"secret,omitempty"`
}

// GetInput names one client.
type GetInput struct {
	TenantID string `json:"tenantId"`
	ID       string `json:"id"`
}

// ListInput asks for one page of a tenant's clients, in order of ID.
type ListInput struct {
	TenantID string `json:"tenantId"`
	After    string `json:"after,omitempty"`
	First    int    `json:"first,omitempty"`
}

// ListOutput is one page of clients; Next is empty on the last page.
type ListOutput struct {
	Items []Client `json:"items"`
	Next  string   `json:"next,omitempty"`
}

// UpdateInput changes the fields that are set, with the rules of
// CreateInput. Type cannot change. A switch to a client_secret method
// leaves the client without a secret until RotateSecret gives it one; a
// switch away from them deletes its secret. Setting a non-empty JWKSURI
// clears JWKS, and the other way round.
type UpdateInput struct {
	TenantID               string    `json:"tenantId"`
	ID                     string    `json:"id"`
	Name                   *string   `json:"name,omitempty"`
	AuthMethod             *string   `json:"authMethod,omitempty"`
	JWKSURI                *string   `json:"jwksUri,omitempty"`
	JWKS                   *string   `json:"jwks,omitempty"`
	RedirectURIs           *[]string `json:"redirectUris,omitempty"`
	PostLogoutRedirectURIs *[]string `json:"postLogoutRedirectUris,omitempty"`
	GrantTypes             *[]string `json:"grantTypes,omitempty"`
	Scopes                 *[]string `json:"scopes,omitempty"`
	AccessTokenFormat      *string   `json:"accessTokenFormat,omitempty"`
	AccessTokenTTL         *int64    `json:"accessTokenTtl,omitempty"`
	IDTokenTTL             *int64    `json:"idTokenTtl,omitempty"`
	RefreshTokenTTL        *int64    `json:"refreshTokenTtl,omitempty"`
	RequirePKCE            *bool     `json:"requirePkce,omitempty"`
	RequireConsent         *bool     `json:"requireConsent,omitempty"`
	// Exchange replaces the whole policy; an empty object removes it.
	Exchange *store.ExchangePolicy `json:"exchange,omitempty"`
}

// RotateSecretInput names the client whose secret is replaced.
type RotateSecretInput struct {
	TenantID string `json:"tenantId"`
	ID       string `json:"id"`
}

// DeleteInput names the client to delete.
type DeleteInput struct {
	TenantID string `json:"tenantId"`
	ID       string `json:"id"`
}

// DeleteOutput echoes the deleted ID.
type DeleteOutput struct {
	ID string `json:"id"`
}

// AuthenticateInput is what a client presented at a tenant's token
// endpoint: Method is how it presented it (client_secret_basic,
// client_secret_post, private_key_jwt or none), ClientID its client_id,
// Secret its secret (empty with none and private_key_jwt).
//
// With private_key_jwt, Assertion is the client_assertion (RFC 7523
// section 2.2) and ClientID may be empty (the assertion's sub names the
// client); Audiences are the values the assertion's aud may hold, one of
// which it must: the token endpoint's URL and the issuer.
type AuthenticateInput struct {
	TenantID  string   `json:"tenantId"`
	ClientID  string   `json:"clientId"`
	Method    string   `json:"method"`
	Secret    Secret   `json:"secret,omitempty"`
	Assertion Secret   `json:"assertion,omitempty"`
	Audiences []string `json:"audiences,omitempty"`
}

func (in AuthenticateInput) LogValue() slog.Value {
	return slog.GroupValue(slog.String("tenantId", in.TenantID),
		slog.String("method", in.Method))
}
