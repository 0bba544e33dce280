package sessions

import (
	"log/slog"
	"slices"
	"time"

	"github.com/wardhq/ward/shared/function"
)

// FunctionName is the function that owns sessions.
const FunctionName = "sessions"

// Operation names.
const (
	// OpCreate starts a session for a user who has just signed in:
	// service callers only (the sign-in flows).
	OpCreate = "sessions.create"
	// OpValidate checks a session token, or an access token of a trusted
	// issuer: service callers only (the facade, the edge; the HTTP
	// endpoint POST /sessions/validate serves everyone else).
	OpValidate = "sessions.validate"
	// OpElevate raises a session's acr and amr after a step-up: service
	// callers only.
	OpElevate = "sessions.elevate"
	// OpGet and OpList read sessions: the user their own, and the
	// administrators who reach the user (package orgs says who).
	OpGet  = "sessions.get"
	OpList = "sessions.list"
	// OpRevoke ends one session, with the reach of OpGet.
	OpRevoke = "sessions.revoke"
	// OpRevokeAll ends every session of a user: the reach of OpGet, and
	// service callers (a password reset, an account deletion).
	OpRevokeAll = "sessions.revokeAll"
)

// TokenPrefix starts every session token; API tokens start with "ward_",
// so a bearer token says which service verifies it.
const TokenPrefix = "wss_"

// Token is a session token or an access token in an input or an output.
// It marshals to JSON as itself, since it crosses the invoker as JSON, but
// prints and logs as "[redacted]".
type Token string

const redacted = "[redacted]"

func (Token) String() string       { return redacted }
func (Token) GoString() string     { return redacted }
func (Token) LogValue() slog.Value { return slog.StringValue(redacted) }

// Session is a session as operations return it. It never holds the token
// or its hash. LastSeenAt is the last use recorded in the store, which
// lags the real one by up to a minute (see the package comment).
type Session struct {
	ID            string    `json:"id"`
	TenantID      string    `json:"tenantId"`
	UserID        string    `json:"userId"`
	ACR           string    `json:"acr"`
	AMR           []string  `json:"amr"`
	AuthTime      time.Time `json:"authTime"`
	CreatedAt     time.Time `json:"createdAt"`
	LastSeenAt    time.Time `json:"lastSeenAt"`
	IdleExpiresAt time.Time `json:"idleExpiresAt"`
	ExpiresAt     time.Time `json:"expiresAt"`
	IP            string    `json:"ip,omitempty"`
	UserAgent     string    `json:"userAgent,omitempty"`
	DeviceID      string    `json:"deviceId,omitempty"`
}

// CreateInput starts a session. ACR is the class the sign-in reached
// (store.ACRPassword or store.ACRMultiFactor), AMR its methods (RFC 8176
// values, lower case), AuthTime the Unix time of the sign-in (0: now).
// IP, UserAgent and DeviceID describe the client: a user agent longer
// than store.MaxUserAgentBytes is cut to that length (and control
// characters dropped), since a client does not choose its own; a device
// ID is Ward's own cookie value and is refused when malformed.
type CreateInput struct {
	TenantID  string   `json:"tenantId"`
	UserID    string   `json:"userId"`
	ACR       string   `json:"acr"`
	AMR       []string `json:"amr,omitempty"`
	AuthTime  int64    `json:"authTime,omitempty"`
	IP        string   `json:"ip,omitempty"`
	UserAgent string   `json:"userAgent,omitempty"`
	DeviceID  string   `json:"deviceId,omitempty"`
}

// CreateOutput is the new session and its token, shown this once: only
// its SHA-256 is kept.
type CreateOutput struct {
	Session Session `json:"session"`
	Token   Token   `json:"token"`
}

// ValidateInput is a presented token. Tenant, a tenant ID or name, is
// required for an access token (it says which tenant's trusted issuers
// apply) and optional for a session token, which then must belong to it.
type ValidateInput struct {
	Token  Token  `json:"token"`
	Tenant string `json:"tenant,omitempty"`
}

// Kinds of validated tokens.
const (
	KindSession     = "session"
	KindAccessToken = "access_token"
)

// ValidateOutput describes an active token. Times are Unix seconds.
// ExpiresAt is when it stops working unless used again (the earlier of
// the idle and the absolute expiry), AbsoluteExpiresAt when it stops
// whatever its use. An access token has no session, and its roles and
// orgs are empty: its issuer is not Ward.
type ValidateOutput struct {
	Active            bool     `json:"active"`
	Kind              string   `json:"kind"`
	Subject           string   `json:"subject"`
	TenantID          string   `json:"tenantId"`
	SessionID         string   `json:"sessionId"`
	ACR               string   `json:"acr"`
	AMR               []string `json:"amr"`
	AuthTime          int64    `json:"authTime"`
	ExpiresAt         int64    `json:"expiresAt"`
	AbsoluteExpiresAt int64    `json:"absoluteExpiresAt"`
	Roles             []string `json:"roles"`
	Orgs              []string `json:"orgs"`
	Issuer            string   `json:"issuer"`
}

// Caller is the identity a validated session token stands for, as the
// facade passes it to operations.
func (o ValidateOutput) Caller() function.Caller {
	return function.Caller{
		Subject: o.Subject, Tenant: o.TenantID, Roles: slices.Clone(o.Roles),
		Orgs: slices.Clone(o.Orgs), Session: o.SessionID, ACR: o.ACR,
		AMR: slices.Clone(o.AMR), AuthTime: o.AuthTime, SessionExpires: o.AbsoluteExpiresAt,
	}
}

// ElevateInput raises a session after a step-up: ACR replaces the
// session's class, AMR is added to its methods, and AuthTime (Unix
// seconds; 0: now) becomes its auth time.
type ElevateInput struct {
	TenantID  string   `json:"tenantId"`
	SessionID string   `json:"sessionId"`
	ACR       string   `json:"acr"`
	AMR       []string `json:"amr"`
	AuthTime  int64    `json:"authTime,omitempty"`
}

// GetInput names one session.
type GetInput struct {
	TenantID string `json:"tenantId"`
	ID       string `json:"id"`
}

// ListInput asks for one page of a user's live sessions, in order of ID
// (that is, of sign-in).
type ListInput struct {
	TenantID string `json:"tenantId"`
	UserID   string `json:"userId"`
	After    string `json:"after,omitempty"`
	First    int    `json:"first,omitempty"`
}

// ListOutput is one page of sessions.
type ListOutput struct {
	Items []Session `json:"items"`
	Next  string    `json:"next,omitempty"`
}

// RevokeInput ends one session. UserID, when set, must be the session's
// user (a session of anyone else is NOT_FOUND): "revoke my session".
type RevokeInput struct {
	TenantID string `json:"tenantId"`
	ID       string `json:"id"`
	UserID   string `json:"userId,omitempty"`
}

// RevokeOutput names the ended session.
type RevokeOutput struct {
	ID string `json:"id"`
}

// RevokeAllInput ends every session of a user; KeepCurrent keeps the
// caller's own session (Caller.Session), which must be one of the user's.
type RevokeAllInput struct {
	TenantID    string `json:"tenantId"`
	UserID      string `json:"userId"`
	KeepCurrent bool   `json:"keepCurrent,omitempty"`
}

// RevokeAllOutput counts the sessions that were ended.
type RevokeAllOutput struct {
	Revoked int `json:"revoked"`
}

// The trusted issuers service, as this package calls it: verifying an
// access token (a JWT) against the tenant's trusted issuers. These are the
// consumer's view of its API; it owns them.
const (
	IssuersFunction = "issuers"
	OpIssuersVerify = "issuers.verify"
)

// IssuersVerifyInput asks the issuers service to verify a JWT for a tenant.
type IssuersVerifyInput struct {
	Token    Token  `json:"token"`
	TenantID string `json:"tenantId"`
}

// IssuersVerifyOutput holds a verified token's claims; times are Unix
// seconds.
type IssuersVerifyOutput struct {
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

// The inputs that hold a token log without it.

func (in ValidateInput) LogValue() slog.Value {
	return slog.GroupValue(slog.String("tenant", in.Tenant))
}

func (in IssuersVerifyInput) LogValue() slog.Value {
	return slog.GroupValue(slog.String("tenantId", in.TenantID))
}

func (o CreateOutput) LogValue() slog.Value {
	return slog.GroupValue(slog.String("sessionId", o.Session.ID))
}
