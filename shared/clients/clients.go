// Package clients is the OAuth client registry: the applications each
// tenant registers with its OAuth 2.0 and OpenID Connect server
// (store.Clients), and the check of a client's credentials at the token
// endpoint.
//
// Who may call what:
//
//   - system administrators and the tenant's administrators: create, get,
//     list, update and delete the tenant's clients, and rotate a client's
//     secret; every write is audited (oauthClient.create, .update,
//     .rotateSecret, .delete), never with the secret or its hash;
//   - Ward's own components (function.RoleService): authenticate.
//
// A caller outside the tenant gets NOT_FOUND, like a missing client; a
// plain user of the tenant gets PERMISSION_DENIED before any read.
//
// # Client IDs
//
// A client_id is a version-7 UUID that Ward generates: URL-safe, unique
// across all tenants, with 74 random bits. It is an identifier, not a
// secret; its first 48 bits give the millisecond it was made. Lookups are
// still always within one tenant (the token endpoint is per tenant), so a
// client of one tenant never authenticates at another's.
//
// # Secrets
//
// Clients of the two client_secret methods get a secret made by Ward:
// "wcs_" and 32 random bytes in unpadded base64url. It is shown once, in
// the answer of create or rotateSecret, and only its hex SHA-256 is
// stored. A 256-bit random secret cannot be guessed, so a fast hash
// loses nothing and keeps authentication cheap; secrets chosen by people
// (passwords) get argon2id in package passwords instead. Nobody can set a
// client secret of their own choosing. Rotating replaces the secret at
// once: the old one stops working at that moment, with no overlap.
//
// # Rules
//
//   - type is confidential or public; a public client uses the method
//     none, and none is for public clients only;
//   - private_key_jwt needs exactly one of jwksUri (https, http on a
//     loopback host) and jwks (an inline JSON object with a "keys" array);
//     other methods carry neither;
//   - grant types are among authorization_code, refresh_token,
//     client_credentials, the device code grant and token exchange
//     (default: authorization_code); a public client cannot have
//     client_credentials; authorization_code needs a redirect URI;
//   - redirect URIs: see checkRedirectURI; they are stored as given and
//     matched exactly (MatchRedirectURI);
//   - scopes are RFC 6749 scope tokens; an empty list allows none;
//   - the access token format is jwt (default) or opaque;
//   - lifetimes, in seconds: access tokens 60 to 3600 (default 300),
//     ID tokens 60 to 3600 (default 300), refresh tokens 300 to 2592000
//     (30 days; default 86400);
//   - PKCE is required by default, and always for public clients.
//
// # Authentication
//
// Authenticate answers the client (without any secret) or UNAUTHENTICATED
// "invalid_client" (RFC 6749 section 5.2), one answer for every failure:
// unknown client, client of another tenant, wrong secret, a method other
// than the registered one, a client_secret client without a secret yet.
// The presented secret is hashed and compared with crypto/subtle in every
// case, against a dummy hash when there is no client, so the comparison
// costs the same whether or not the client exists.
//
// # private_key_jwt
//
// Authenticate also checks client assertions (RFC 7523 sections 2.2 and
// 3, OpenID Connect Core section 9; rfc7523.go), so that every method is
// checked in one operation with one refusal. The registry holds a
// client's method and keys; the oauth function only reads the request.
// ES256 (P-256) and RS256 (2048 bits or more) only, the algorithm
// matching the key's type; iss and sub the client_id; aud the token
// endpoint or the issuer; exp required and at most MaxAssertionLifetime
// ahead; nbf and iat honoured, each with AssertionSkew; jti required and
// spent in the cache (SetNX per tenant and client) until exp. Keys come
// from the inline jwks, or from jwks_uri over https only (five seconds,
// 64 KiB, no redirects), kept five minutes and fetched again for an
// unknown kid at most once a minute.
//
// # Dynamic registration
//
// Register and manageRegistration (rfc7591.go) serve RFC 7591 and RFC
// 7592 for the oauth function, which checks that the tenant allows it.
// A dynamically registered client passes checkClient like any other and
// may give itself only authorization_code, refresh_token and the device
// grant. Its registration access token is "wrg_" and 32 random bytes,
// stored as its SHA-256 and compared in constant time.
//
// Known shortcomings:
//   - An inline jwks is only checked to be a JSON object with a "keys"
//     array when registered; its keys are checked when they are used.
//   - A jwks_uri may name any https host, private addresses included:
//     whoever may register a client can make Ward fetch from inside its
//     network (bounded in time and size, and the answer is never shown).
//     Registration is closed unless a tenant opens it.
//   - The store read itself is not made constant-time: a missing client
//     may answer a little faster or slower than a present one. Client IDs
//     are not secret, so this tells an attacker only what the ID's
//     existence tells, never anything about a secret.
//   - Deleting a tenant does not delete its clients (store.Clients).
package clients

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wardhq/ward/shared/audit"
	"github.com/wardhq/ward/shared/cache"
	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/orgs"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/validate"
)

// Deps are what the service needs.
type Deps struct {
	Store store.Store
	// Cache keeps the jti of private_key_jwt assertions until they expire,
	// so that each is used once; nil: private_key_jwt answers UNAVAILABLE.
	Cache cache.Cache
	// HTTPClient fetches the jwks_uri of private_key_jwt clients; nil: a
	// client with a five-second timeout. Redirects are never followed.
	HTTPClient *http.Client
	// MaxDynamicClients bounds the clients a tenant may have by dynamic
	// registration (rfc7591.go); 0: DefaultMaxDynamicClients.
	MaxDynamicClients int
	Now               func() time.Time // nil: time.Now
	Log               *slog.Logger     // nil: slog.Default()
}

type service struct {
	st    store.Clients
	cache cache.Cache
	keys  *keySource
	now   func() time.Time
	log   *slog.Logger
	audit audit.Recorder
	// maxDynamic bounds a tenant's dynamically registered clients.
	maxDynamic int
}

// Function returns the OAuth clients function.
func Function(d Deps) *function.Function {
	s := &service{st: d.Store.Clients(), cache: d.Cache, now: d.Now, log: d.Log,
		maxDynamic: d.MaxDynamicClients}
	if s.maxDynamic <= 0 {
		s.maxDynamic = DefaultMaxDynamicClients
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.keys = newKeySource(d.HTTPClient, s.now)
	if s.log == nil {
		s.log = slog.Default()
	}
	s.audit = audit.Recorder{Audit: d.Store.Audit(), Log: s.log, Now: s.now}

	f := function.New(FunctionName)
	function.Op(f, OpCreate, s.create)
	function.Op(f, OpGet, s.get)
	function.Op(f, OpList, s.list)
	function.Op(f, OpUpdate, s.update)
	function.Op(f, OpDelete, s.delete)
	function.Op(f, OpRotateSecret, s.rotateSecret)
	function.Op(f, OpAuthenticate, s.authenticate)
	function.Op(f, OpRegister, s.register)
	function.Op(f, OpManageRegistration, s.manage)
	return f
}

// SecretPrefix starts every client secret Ward makes.
const SecretPrefix = "wcs_"

// maxSecretBytes bounds a presented secret before it is hashed.
const maxSecretBytes = 256

// newSecret returns a fresh client secret.
func newSecret() Secret {
	var b [32]byte
	rand.Read(b[:])
	return Secret(SecretPrefix + base64.RawURLEncoding.EncodeToString(b[:]))
}

// HashSecret returns the stored form of a client secret: hex SHA-256.
func HashSecret(s Secret) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// Lifetime bounds and defaults, in seconds.
const (
	DefaultAccessTokenTTL  = 300
	DefaultIDTokenTTL      = 300
	DefaultRefreshTokenTTL = 86400
	minTokenTTL            = 60
	maxTokenTTL            = 3600
	minRefreshTTL          = 300
	maxRefreshTTL          = 30 * 86400
)

var (
	methods    = []string{MethodSecretBasic, MethodSecretPost, MethodPrivateKeyJWT, MethodNone}
	grantTypes = []string{GrantAuthorizationCode, GrantRefreshToken, GrantClientCredentials,
		GrantDeviceCode, GrantTokenExchange}
)

// usesSecret reports whether a method authenticates with a client secret.
func usesSecret(method string) bool {
	return method == MethodSecretBasic || method == MethodSecretPost
}

func clientNotFound() error { return errs.New(errs.NotFound, "client not found") }

func invalidClient() error { return errs.New(errs.Unauthenticated, "invalid_client") }

// gate lets through system administrators and the tenant's own; anyone
// else of another tenant gets NOT_FOUND, a plain user of the tenant
// PERMISSION_DENIED.
func gate(c function.Caller, tenantID string) error {
	if orgs.TenantWide(c, tenantID) {
		return nil
	}
	if _, err := orgs.Gate(c, tenantID); err != nil {
		return err
	}
	return errs.New(errs.PermissionDenied, "only the tenant's administrators manage clients")
}

// view is c as operations return it.
func view(c store.OAuthClient) Client {
	nonNil := func(l []string) []string {
		if l == nil {
			return []string{}
		}
		return l
	}
	return Client{
		ID: c.ID, TenantID: c.TenantID, Name: c.Name, Type: c.Type, AuthMethod: c.AuthMethod,
		HasSecret: c.SecretHash != "", JWKSURI: c.JWKSURI, JWKS: c.JWKS,
		RedirectURIs:           nonNil(c.RedirectURIs),
		PostLogoutRedirectURIs: nonNil(c.PostLogoutRedirectURIs),
		GrantTypes:             nonNil(c.GrantTypes), Scopes: nonNil(c.Scopes),
		AccessTokenFormat: c.AccessTokenFormat, AccessTokenTTL: c.AccessTokenTTL,
		IDTokenTTL: c.IDTokenTTL, RefreshTokenTTL: c.RefreshTokenTTL,
		RequirePKCE: c.RequirePKCE, Exchange: c.Exchange, CreatedAt: c.CreatedAt,
		UpdatedAt: c.UpdatedAt, Version: c.Version,
		// A registered client written before the setting existed asks too.
		RequireConsent: c.RequireConsent || c.RegistrationTokenHash != "",
	}
}

// checkClient checks a client's meaning and fills its defaults.
func checkClient(c *store.OAuthClient) error {
	if err := validate.Text("name", c.Name, store.MaxClientNameBytes); err != nil {
		return err
	}
	switch c.Type {
	case store.ClientConfidential, store.ClientPublic:
	default:
		return errs.Invalid("type", "must be confidential or public")
	}
	if !slices.Contains(methods, c.AuthMethod) {
		return errs.Invalid("authMethod", "must be one of %s", strings.Join(methods, ", "))
	}
	// RFC 6749 section 2.1: a public client cannot keep a credential, so
	// it authenticates with none, and only it does.
	if (c.Type == store.ClientPublic) != (c.AuthMethod == MethodNone) {
		return errs.Invalid("authMethod", "public clients use none, and only they do")
	}
	if err := checkKeys(c); err != nil {
		return err
	}
	if !usesSecret(c.AuthMethod) {
		c.SecretHash = ""
	}

	if len(c.GrantTypes) == 0 {
		c.GrantTypes = []string{GrantAuthorizationCode}
	}
	c.GrantTypes = uniq(c.GrantTypes)
	if len(c.GrantTypes) > store.MaxClientGrantTypes {
		return errs.Invalid("grantTypes", "must hold at most %d grant types",
			store.MaxClientGrantTypes)
	}
	for _, g := range c.GrantTypes {
		if !slices.Contains(grantTypes, g) {
			return errs.Invalid("grantTypes", "must be among %s", strings.Join(grantTypes, ", "))
		}
	}
	if c.Type == store.ClientPublic && slices.Contains(c.GrantTypes, GrantClientCredentials) {
		return errs.Invalid("grantTypes", "a public client cannot use client_credentials")
	}

	var err error
	if c.RedirectURIs, err = checkURIs("redirectUris", c.RedirectURIs); err != nil {
		return err
	}
	if c.PostLogoutRedirectURIs, err = checkURIs("postLogoutRedirectUris",
		c.PostLogoutRedirectURIs); err != nil {
		return err
	}
	if slices.Contains(c.GrantTypes, GrantAuthorizationCode) && len(c.RedirectURIs) == 0 {
		return errs.Invalid("redirectUris", "the authorization_code grant needs a redirect URI")
	}

	if err := checkScopes(c); err != nil {
		return err
	}
	if c.AccessTokenFormat == "" {
		c.AccessTokenFormat = FormatJWT
	}
	if c.AccessTokenFormat != FormatJWT && c.AccessTokenFormat != FormatOpaque {
		return errs.Invalid("accessTokenFormat", "must be jwt or opaque")
	}
	if err := checkLifetimes(c); err != nil {
		return err
	}
	// A client anybody could register is a third party: its users always
	// consent (RFC 7591 section 5, and as Auth0 treats such clients).
	if c.RegistrationTokenHash != "" && !c.RequireConsent {
		return errs.Invalid("requireConsent",
			"clients registered dynamically always require consent")
	}
	if c.Type == store.ClientPublic && !c.RequirePKCE {
		return errs.Invalid("requirePkce", "public clients always require PKCE")
	}
	return checkExchange(c)
}

// checkExchange checks a token exchange policy. An empty policy is
// dropped: no policy and an empty one both allow nothing.
func checkExchange(c *store.OAuthClient) error {
	p := c.Exchange
	if p == nil {
		return nil
	}
	if len(p.Issuers) == 0 && len(p.Audiences) == 0 && !p.Delegation && !p.Impersonation &&
		!p.Sessions {
		c.Exchange = nil
		return nil
	}
	p.Issuers, p.Audiences = uniq(p.Issuers), uniq(p.Audiences)
	if len(p.Issuers) > store.MaxExchangeIssuers {
		return errs.Invalid("exchange.issuers", "must hold at most %d issuers",
			store.MaxExchangeIssuers)
	}
	for _, iss := range p.Issuers {
		u, err := url.Parse(iss)
		if iss != store.ExchangeSelf && (err != nil || !u.IsAbs() || u.Host == "") {
			return errs.Invalid("exchange.issuers",
				"each is self or the issuer URL of a trusted issuer")
		}
	}
	if len(p.Audiences) > store.MaxExchangeAudiences {
		return errs.Invalid("exchange.audiences", "must hold at most %d audiences",
			store.MaxExchangeAudiences)
	}
	for _, aud := range p.Audiences {
		if !AudienceValid(aud) {
			return errs.Invalid("exchange.audiences",
				"each is 1 to 2048 printable ASCII characters without spaces")
		}
	}
	// RFC 8693 is a grant like any other: the policy means nothing to a
	// client that cannot use it, and only confidential clients can.
	if !slices.Contains(c.GrantTypes, GrantTokenExchange) {
		return errs.Invalid("exchange", "the client needs the token exchange grant")
	}
	if c.Type != store.ClientConfidential {
		return errs.Invalid("exchange", "only confidential clients exchange tokens")
	}
	return nil
}

// AudienceValid tells whether aud may be an audience of a token: a URI
// or a logical name (RFC 8693 section 2.1), 1 to 2048 printable ASCII
// characters without spaces.
func AudienceValid(aud string) bool {
	if aud == "" || len(aud) > store.MaxClientURIBytes {
		return false
	}
	for i := 0; i < len(aud); i++ {
		if aud[i] <= ' ' || aud[i] > '~' {
			return false
		}
	}
	return true
}

// checkKeys checks the key set of a private_key_jwt client, and that
// other clients have none.
func checkKeys(c *store.OAuthClient) error {
	if c.AuthMethod != MethodPrivateKeyJWT {
		if c.JWKSURI != "" || c.JWKS != "" {
			return errs.Invalid("jwks", "only private_key_jwt clients have keys")
		}
		return nil
	}
	switch {
	case c.JWKSURI != "" && c.JWKS != "":
		return errs.Invalid("jwks", "give either jwksUri or jwks, not both")
	case c.JWKSURI != "":
		return checkJWKSURI(c.JWKSURI)
	case c.JWKS != "":
		if len(c.JWKS) > store.MaxClientJWKSBytes {
			return errs.Invalid("jwks", "must be at most %d bytes", store.MaxClientJWKSBytes)
		}
		var set struct {
			Keys []json.RawMessage `json:"keys"`
		}
		if err := json.Unmarshal([]byte(c.JWKS), &set); err != nil || set.Keys == nil {
			return errs.Invalid("jwks", `must be a JSON key set: an object with a "keys" array`)
		}
		return nil
	}
	return errs.Invalid("jwksUri", "a private_key_jwt client needs jwksUri or jwks")
}

func checkURIs(field string, l []string) ([]string, error) {
	l = uniq(l)
	if len(l) > store.MaxClientURIs {
		return nil, errs.Invalid(field, "must hold at most %d URIs", store.MaxClientURIs)
	}
	for _, u := range l {
		if err := checkRedirectURI(field, u); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// checkScopes checks scope tokens (RFC 6749 section 3.3: printable ASCII
// but space, '"' and '\').
func checkScopes(c *store.OAuthClient) error {
	c.Scopes = uniq(c.Scopes)
	if len(c.Scopes) > store.MaxClientScopes {
		return errs.Invalid("scopes", "must hold at most %d scopes", store.MaxClientScopes)
	}
	for _, s := range c.Scopes {
		bad := s == "" || len(s) > 128 || strings.ContainsFunc(s, func(r rune) bool {
			return r < 0x21 || r > 0x7e || r == '"' || r == '\\'
		})
		if bad {
			return errs.Invalid("scopes", `a scope is 1 to 128 printable ASCII characters, `+
				`without space, " or \`)
		}
	}
	return nil
}

func checkLifetimes(c *store.OAuthClient) error {
	fill := func(v *int64, def int64) {
		if *v == 0 {
			*v = def
		}
	}
	fill(&c.AccessTokenTTL, DefaultAccessTokenTTL)
	fill(&c.IDTokenTTL, DefaultIDTokenTTL)
	fill(&c.RefreshTokenTTL, DefaultRefreshTokenTTL)
	in := func(field string, v, lo, hi int64) error {
		if v < lo || v > hi {
			return errs.Invalid(field, "must be %d to %d seconds", lo, hi)
		}
		return nil
	}
	for _, err := range []error{
		in("accessTokenTtl", c.AccessTokenTTL, minTokenTTL, maxTokenTTL),
		in("idTokenTtl", c.IDTokenTTL, minTokenTTL, maxTokenTTL),
		in("refreshTokenTtl", c.RefreshTokenTTL, minRefreshTTL, maxRefreshTTL),
	} {
		if err != nil {
			return err
		}
	}
	return nil
}

func uniq(l []string) []string {
	var out []string
	for _, s := range l {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func (in *CreateInput) Validate() error { return validate.ID("tenantId", in.TenantID) }

func (in *GetInput) Validate() error { return validate.TenantAndID(in.TenantID, in.ID) }

func (in *ListInput) Validate() error {
	if in.First < 0 || in.First > store.MaxPageSize {
		return errs.Invalid("first", "must be 0 to %d", store.MaxPageSize)
	}
	return validate.ID("tenantId", in.TenantID)
}

func (in *UpdateInput) Validate() error { return validate.TenantAndID(in.TenantID, in.ID) }

func (in *RotateSecretInput) Validate() error { return validate.TenantAndID(in.TenantID, in.ID) }

func (in *DeleteInput) Validate() error { return validate.TenantAndID(in.TenantID, in.ID) }

// Validate checks the tenant only: a malformed client ID or secret is
// refused by authenticate as invalid_client, like any wrong one.
func (in *AuthenticateInput) Validate() error { return validate.ID("tenantId", in.TenantID) }

// Fields are a client's audited fields; never the secret or its hash,
// and an inline key set by its presence only.
func Fields(c store.OAuthClient) audit.Fields {
	f := audit.Fields{
		"name": c.Name, "type": string(c.Type), "authMethod": c.AuthMethod,
		"jwksUri": c.JWKSURI, "redirectUris": strings.Join(c.RedirectURIs, " "),
		"postLogoutRedirectUris": strings.Join(c.PostLogoutRedirectURIs, " "),
		"grantTypes":             strings.Join(c.GrantTypes, " "),
		"scopes":                 strings.Join(c.Scopes, " "),
		"accessTokenFormat":      c.AccessTokenFormat,
		"accessTokenTtl":         strconv.FormatInt(c.AccessTokenTTL, 10),
		"idTokenTtl":             strconv.FormatInt(c.IDTokenTTL, 10),
		"refreshTokenTtl":        strconv.FormatInt(c.RefreshTokenTTL, 10),
		"requirePkce":            strconv.FormatBool(c.RequirePKCE),
		"requireConsent":         strconv.FormatBool(c.RequireConsent),
		"hasSecret":              strconv.FormatBool(c.SecretHash != ""),
	}
	if p := c.Exchange; p != nil {
		f["exchange"] = fmt.Sprintf("issuers=%s audiences=%s delegation=%t "+
			"impersonation=%t sessions=%t", strings.Join(p.Issuers, " "),
			strings.Join(p.Audiences, " "), p.Delegation, p.Impersonation, p.Sessions)
	}
	if c.JWKS != "" {
		f["jwks"] = "(inline key set)"
	}
	return f
}

func target(tenantID, id string) audit.Target {
	return audit.Target{TenantID: tenantID, Type: audit.TypeOAuthClient, ID: id}
}

func (s *service) stamp() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

func (s *service) create(ctx context.Context, c function.Caller, in CreateInput) (SecretOutput,
	error) {
	if err := gate(c, in.TenantID); err != nil {
		return SecretOutput{}, err
	}
	now := s.stamp()
	cl := store.OAuthClient{
		ID: validate.NewID(), TenantID: in.TenantID, Name: in.Name, Type: in.Type,
		AuthMethod: in.AuthMethod, JWKSURI: in.JWKSURI, JWKS: in.JWKS,
		RedirectURIs: in.RedirectURIs, PostLogoutRedirectURIs: in.PostLogoutRedirectURIs,
		GrantTypes: in.GrantTypes, Scopes: in.Scopes, AccessTokenFormat: in.AccessTokenFormat,
		AccessTokenTTL: in.AccessTokenTTL, IDTokenTTL: in.IDTokenTTL,
		RefreshTokenTTL: in.RefreshTokenTTL, RequirePKCE: in.RequirePKCE == nil || *in.RequirePKCE,
		RequireConsent: in.RequireConsent != nil && *in.RequireConsent,
		Exchange:       in.Exchange, CreatedAt: now, UpdatedAt: now,
	}
	if err := checkClient(&cl); err != nil {
		return SecretOutput{}, err
	}
	var secret Secret
	if usesSecret(cl.AuthMethod) {
		secret = newSecret()
		cl.SecretHash = HashSecret(secret)
	}
	out, err := s.st.Create(ctx, cl)
	if err != nil {
		return SecretOutput{}, err
	}
	s.audit.Record(ctx, c, "oauthClient.create", target(out.TenantID, out.ID),
		audit.Changes(nil, Fields(out)))
	return SecretOutput{Client: view(out), Secret: secret}, nil
}

func (s *service) get(ctx context.Context, c function.Caller, in GetInput) (Client, error) {
	// Ward's own components read clients too: the authorization endpoint
	// checks a client's redirect URIs before anyone authenticates.
	if err := gate(c, in.TenantID); err != nil && c.RequireService() != nil {
		return Client{}, err
	}
	cl, err := s.st.Get(ctx, in.TenantID, in.ID)
	if errs.CodeOf(err) == errs.NotFound {
		return Client{}, clientNotFound()
	}
	if err != nil {
		return Client{}, err
	}
	return view(cl), nil
}

func (s *service) list(ctx context.Context, c function.Caller, in ListInput) (ListOutput,
	error) {
	if err := gate(c, in.TenantID); err != nil {
		return ListOutput{}, err
	}
	items, next, err := s.st.List(ctx, in.TenantID, store.Page{After: in.After, Limit: in.First})
	if err != nil {
		return ListOutput{}, err
	}
	out := ListOutput{Items: make([]Client, 0, len(items)), Next: next}
	for _, cl := range items {
		out.Items = append(out.Items, view(cl))
	}
	return out, nil
}

func (s *service) update(ctx context.Context, c function.Caller, in UpdateInput) (Client,
	error) {
	if err := gate(c, in.TenantID); err != nil {
		return Client{}, err
	}
	var before store.OAuthClient
	out, err := s.st.Update(ctx, in.TenantID, in.ID, func(cl store.OAuthClient) (
		store.OAuthClient, error) {
		before = cl
		apply(&cl, in)
		cl.UpdatedAt = s.stamp()
		return cl, checkClient(&cl)
	})
	if errs.CodeOf(err) == errs.NotFound {
		return Client{}, clientNotFound()
	}
	if err != nil {
		return Client{}, err
	}
	s.audit.Record(ctx, c, "oauthClient.update", target(out.TenantID, out.ID),
		audit.Changes(Fields(before), Fields(out)))
	return view(out), nil
}

// apply sets the fields of in that are set on cl.
func apply(cl *store.OAuthClient, in UpdateInput) {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	setList := func(dst *[]string, v *[]string) {
		if v != nil {
			*dst = *v
		}
	}
	setInt := func(dst *int64, v *int64) {
		if v != nil {
			*dst = *v
		}
	}
	set(&cl.Name, in.Name)
	if in.AuthMethod != nil && *in.AuthMethod != cl.AuthMethod {
		// A new method never inherits the old one's credential.
		cl.AuthMethod, cl.SecretHash = *in.AuthMethod, ""
		if *in.AuthMethod != MethodPrivateKeyJWT {
			cl.JWKSURI, cl.JWKS = "", ""
		}
	}
	if in.JWKSURI != nil {
		cl.JWKSURI = *in.JWKSURI
		if *in.JWKSURI != "" && in.JWKS == nil {
			cl.JWKS = ""
		}
	}
	if in.JWKS != nil {
		cl.JWKS = *in.JWKS
		if *in.JWKS != "" && in.JWKSURI == nil {
			cl.JWKSURI = ""
		}
	}
	setList(&cl.RedirectURIs, in.RedirectURIs)
	setList(&cl.PostLogoutRedirectURIs, in.PostLogoutRedirectURIs)
	setList(&cl.GrantTypes, in.GrantTypes)
	setList(&cl.Scopes, in.Scopes)
	set(&cl.AccessTokenFormat, in.AccessTokenFormat)
	setInt(&cl.AccessTokenTTL, in.AccessTokenTTL)
	setInt(&cl.IDTokenTTL, in.IDTokenTTL)
	setInt(&cl.RefreshTokenTTL, in.RefreshTokenTTL)
	if in.RequirePKCE != nil {
		cl.RequirePKCE = *in.RequirePKCE
	}
	if in.RequireConsent != nil {
		cl.RequireConsent = *in.RequireConsent
	} else if cl.RegistrationTokenHash != "" {
		cl.RequireConsent = true // a registration written before the setting existed
	}
	if in.Exchange != nil {
		p := *in.Exchange
		cl.Exchange = &p
	}
}

func (s *service) rotateSecret(ctx context.Context, c function.Caller, in RotateSecretInput) (
	SecretOutput, error) {
	if err := gate(c, in.TenantID); err != nil {
		return SecretOutput{}, err
	}
	secret := newSecret()
	out, err := s.st.Update(ctx, in.TenantID, in.ID, func(cl store.OAuthClient) (
		store.OAuthClient, error) {
		if !usesSecret(cl.AuthMethod) {
			return cl, errs.Invalid("id", "only client_secret_basic and client_secret_post "+
				"clients have a secret")
		}
		cl.SecretHash = HashSecret(secret)
		cl.UpdatedAt = s.stamp()
		return cl, nil
	})
	if errs.CodeOf(err) == errs.NotFound {
		return SecretOutput{}, clientNotFound()
	}
	if err != nil {
		return SecretOutput{}, err
	}
	s.audit.Record(ctx, c, "oauthClient.rotateSecret", target(out.TenantID, out.ID),
		map[string]store.AuditChange{"secret": {Old: "(replaced)", New: "(new secret)"}})
	return SecretOutput{Client: view(out), Secret: secret}, nil
}

func (s *service) delete(ctx context.Context, c function.Caller, in DeleteInput) (DeleteOutput,
	error) {
	if err := gate(c, in.TenantID); err != nil {
		return DeleteOutput{}, err
	}
	cl, err := s.st.Get(ctx, in.TenantID, in.ID)
	if errs.CodeOf(err) == errs.NotFound {
		return DeleteOutput{}, clientNotFound()
	}
	if err != nil {
		return DeleteOutput{}, err
	}
	if err := s.st.Delete(ctx, in.TenantID, in.ID); errs.CodeOf(err) == errs.NotFound {
		return DeleteOutput{}, clientNotFound()
	} else if err != nil {
		return DeleteOutput{}, err
	}
	s.audit.Record(ctx, c, "oauthClient.delete", target(in.TenantID, in.ID),
		audit.Changes(Fields(cl), nil))
	return DeleteOutput{ID: in.ID}, nil
}

// dummyHash stands in for the stored hash of a client that does not exist
// or has no secret, so that the comparison below runs all the same. It has
// the length of a hex SHA-256 but is not hex, so no secret ever hashes to
// it.
var dummyHash = strings.Repeat("-", sha256.Size*2)

// onCompare, when set by a test, is told of every secret comparison.
var onCompare func()

// secretMatches hashes the presented secret and compares it with stored
// in constant time. It is called on every path of authenticate that
// carries a secret, whatever the outcome, so that the work done is the
// same.
func secretMatches(stored string, presented Secret) bool {
	if onCompare != nil {
		onCompare()
	}
	if stored == "" {
		stored = dummyHash
	}
	got := HashSecret(presented)
	return subtle.ConstantTimeCompare([]byte(got), []byte(stored)) == 1
}

func (s *service) authenticate(ctx context.Context, c function.Caller, in AuthenticateInput) (
	Client, error) {
	if err := c.RequireService(); err != nil {
		return Client{}, err
	}
	switch in.Method {
	case MethodSecretBasic, MethodSecretPost, MethodNone:
	case MethodPrivateKeyJWT:
		return s.authenticateAssertion(ctx, in)
	default:
		return Client{}, errs.Invalid("method", "must be client_secret_basic, "+
			"client_secret_post, private_key_jwt or none")
	}
	if len(in.Secret) > maxSecretBytes {
		in.Secret = in.Secret[:maxSecretBytes]
	}

	cl, found, err := s.lookup(ctx, in.TenantID, in.ClientID)
	if err != nil {
		return Client{}, err
	}
	ok := found && cl.AuthMethod == in.Method
	if in.Method == MethodNone {
		// No secret to compare: a public client is who it says it is;
		// what it may do is bounded by its redirect URIs and PKCE.
		ok = ok && in.Secret == ""
	} else {
		// Compared even when the client is missing or the method is
		// wrong, so that every refusal costs the same.
		matches := secretMatches(cl.SecretHash, in.Secret)
		ok = ok && cl.SecretHash != "" && matches
	}
	if !ok {
		s.log.WarnContext(ctx, "client authentication refused", "tenant", in.TenantID,
			"method", in.Method, "request_id", function.RequestID(ctx))
		return Client{}, invalidClient()
	}
	return view(cl), nil
}

// lookup reads a client, with found false for a malformed or unknown ID;
// only a failure of the store is an error.
func (s *service) lookup(ctx context.Context, tenantID, id string) (store.OAuthClient, bool,
	error) {
	if validate.ID("clientId", id) != nil {
		return store.OAuthClient{}, false, nil
	}
	cl, err := s.st.Get(ctx, tenantID, id)
	if err == nil {
		return cl, true, nil
	}
	switch errs.CodeOf(err) {
	case errs.NotFound, errs.InvalidArgument:
		return store.OAuthClient{}, false, nil
	}
	return store.OAuthClient{}, false, err
}
