package issuers

import (
	"log/slog"

	"github.com/wardhq/ward/shared/store"
)

// FunctionName is the function that owns trusted issuers.
const FunctionName = "issuers"

// Operation names.
const (
	// OpCreate, OpGet, OpList, OpUpdate and OpDelete manage a tenant's
	// trusted issuers: system administrators and the tenant's own.
	OpCreate = "issuers.create"
	OpGet    = "issuers.get"
	OpList   = "issuers.list"
	OpUpdate = "issuers.update"
	OpDelete = "issuers.delete"
	// OpVerify checks an access token (a JWT) against the tenant's
	// trusted issuers: service callers only (the sessions service).
	OpVerify = "issuers.verify"
)

// Token is a JWT in an input. It marshals to JSON as itself but prints
// and logs as "[redacted]".
type Token string

const redacted = "[redacted]"

func (Token) String() string       { return redacted }
func (Token) GoString() string     { return redacted }
func (Token) LogValue() slog.Value { return slog.StringValue(redacted) }

// CreateInput adds a trusted issuer to a tenant. Issuer is the exact
// "iss" of its tokens, an https URL (http only on a loopback host);
// exactly one of JWKSURI (same rule) and JWKS (an inline key set, JSON)
// gives its keys. Audiences are the accepted "aud" values (at least
// one). Algorithms default to ES256 and RS256; "none" and HMAC are never
// accepted. SubjectClaim (default "sub") names the claim that gives the
// subject, Claims the further claims a verification carries. Enabled
// defaults to true. UserMapping (store.IssuerMap*) and Sessions are for
// the token exchange (docs/oauth.md); Sessions needs a UserMapping.
type CreateInput struct {
	TenantID     string   `json:"tenantId"`
	Name         string   `json:"name,omitempty"`
	Issuer       string   `json:"issuer"`
	JWKSURI      string   `json:"jwksUri,omitempty"`
	JWKS         string   `json:"jwks,omitempty"`
	Audiences    []string `json:"audiences"`
	Algorithms   []string `json:"algorithms,omitempty"`
	SubjectClaim string   `json:"subjectClaim,omitempty"`
	Claims       []string `json:"claims,omitempty"`
	UserMapping  string   `json:"userMapping,omitempty"`
	Sessions     bool     `json:"sessions,omitempty"`
	Enabled      *bool    `json:"enabled,omitempty"`
}

// GetInput names one trusted issuer.
type GetInput struct {
	TenantID string `json:"tenantId"`
	ID       string `json:"id"`
}

// ListInput names a tenant.
type ListInput struct {
	TenantID string `json:"tenantId"`
}

// ListOutput is every trusted issuer of a tenant, in order of ID.
type ListOutput struct {
	Items []store.TrustedIssuer `json:"items"`
}

// UpdateInput changes the fields that are set, with the rules of
// CreateInput. Setting a non-empty JWKSURI clears JWKS, and the other
// way round.
type UpdateInput struct {
	TenantID     string    `json:"tenantId"`
	ID           string    `json:"id"`
	Name         *string   `json:"name,omitempty"`
	Issuer       *string   `json:"issuer,omitempty"`
	JWKSURI      *string   `json:"jwksUri,omitempty"`
	JWKS         *string   `json:"jwks,omitempty"`
	Audiences    *[]string `json:"audiences,omitempty"`
	Algorithms   *[]string `json:"algorithms,omitempty"`
	SubjectClaim *string   `json:"subjectClaim,omitempty"`
	Claims       *[]string `json:"claims,omitempty"`
	UserMapping  *string   `json:"userMapping,omitempty"`
	Sessions     *bool     `json:"sessions,omitempty"`
	Enabled      *bool     `json:"enabled,omitempty"`
}

// DeleteInput names the trusted issuer to delete.
type DeleteInput struct {
	TenantID string `json:"tenantId"`
	ID       string `json:"id"`
}

// DeleteOutput echoes the deleted ID.
type DeleteOutput struct {
	ID string `json:"id"`
}

// VerifyInput asks to verify a JWT for a tenant. Its JSON is what the
// sessions service sends (sessions.IssuersVerifyInput).
type VerifyInput struct {
	Token    Token  `json:"token"`
	TenantID string `json:"tenantId"`
}

func (in VerifyInput) LogValue() slog.Value {
	return slog.GroupValue(slog.String("tenantId", in.TenantID))
}

// VerifyOutput holds a verified token's claims; times are Unix seconds.
// Subject is the value of the issuer's subject claim; Claims holds the
// issuer's carried claims that the token has. Its JSON is what the
// sessions service reads (sessions.IssuersVerifyOutput).
type VerifyOutput struct {
	TenantID  string         `json:"tenantId"`
	IssuerID  string         `json:"issuerId"`
	Issuer    string         `json:"issuer"`
	Subject   string         `json:"subject"`
	Audience  []string       `json:"audience"`
	ExpiresAt int64          `json:"expiresAt"`
	IssuedAt  int64          `json:"issuedAt"`
	ACR       string         `json:"acr"`
	AMR       []string       `json:"amr"`
	AuthTime  int64          `json:"authTime"`
	Claims    map[string]any `json:"claims"`
}
