// Package oauth is Ward's OAuth 2.0 authorization server and OpenID
// Connect provider, one issuer per tenant: {base}/t/{tenant name}.
//
// What it serves:
//
//   - discovery: GET /t/{tenant}/.well-known/openid-configuration (OpenID
//     Connect Discovery 1.0) and GET /t/{tenant}/.well-known/
//     oauth-authorization-server (RFC 8414; also at the RFC's own place,
//     /.well-known/oauth-authorization-server/t/{tenant});
//   - the tenant's public signing keys: GET /t/{tenant}/jwks.json;
//   - the token endpoint, POST /t/{tenant}/oauth2/token, with the
//     client_credentials grant (RFC 6749 section 4.4) and the
//     authorization_code grant with PKCE (section 4.1.3, RFC 7636;
//     code.go), and JWT (RFC 9068) or opaque access tokens per client
//     (token.go), with an ID token for openid (grant.go);
//   - the authorization endpoint, GET and POST /t/{tenant}/oauth2/
//     authorize (OpenID Connect Core section 3.1.2), response_type=code
//     only, query or form_post, with iss in every answer (RFC 9207); the
//     user is the hosted pages' session cookie (sessions.CookieName),
//     and the browser goes to the login page and back when it falls
//     short; pushed authorization requests, POST /t/{tenant}/oauth2/par
//     (RFC 9126) (authorize.go);
//   - UserInfo, GET and POST /t/{tenant}/oauth2/userinfo (OpenID Connect
//     Core section 5.3; userinfo.go);
//   - the refresh_token grant (section 6) with rotation on every use and
//     reuse detection (RFC 9700 section 4.14.2) over durable families of
//     refresh tokens (refresh.go);
//   - the token exchange (RFC 8693, rfc8693.go) at the token endpoint:
//     Ward's and trusted issuers' tokens in, access tokens with "act" or
//     Ward sessions out, as each client's exchange policy allows;
//   - introspection (RFC 7662), POST /t/{tenant}/oauth2/introspect, and
//     revocation (RFC 7009), POST /t/{tenant}/oauth2/revoke
//     (introspect.go), of access tokens and refresh tokens (a refresh
//     token's revocation revokes its family);
//   - RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0), GET
//     and POST /t/{tenant}/oauth2/logout: ends the browser's session (at
//     once for a matching id_token_hint, after a confirmation bound to the
//     session otherwise) and the refresh families bound to it (logout.go);
//   - dynamic client registration (RFC 7591) and its management (RFC
//     7592), POST /t/{tenant}/oauth2/register and GET, PUT, DELETE
//     /t/{tenant}/oauth2/register/{client_id}, for tenants whose
//     auth.clientRegistration is OPEN, or TOKEN with an initial access
//     token (rfc7591.go, rfc7591_tokens.go); elsewhere 404. Rate limited
//     per network and per tenant in the cache (rfc7591_limits.go);
//   - operations for a tenant's administrators on its initial access
//     tokens: OpCreateRegistrationToken, OpListRegistrationTokens,
//     OpDeleteRegistrationToken;
//   - the device authorization grant (RFC 8628): POST /t/{tenant}/oauth2/
//     device_authorization, the device_code grant, and OpDeviceLookup and
//     OpDeviceDecide for the hosted device page (rfc8628.go); device
//     codes live in the cache only;
//   - operations for administrators: rotate and list the signing keys
//     (OpRotateKeys, OpListKeys); and, for a user, their administrators
//     and services, revoke the user's refresh token families
//     (OpRevokeGrants), list and revoke the user's consents
//     (OpListConsents, OpRevokeConsent);
//   - consent (consent.go): clients that require it (RequireConsent,
//     always for registered ones) and prompt=consent send the browser to
//     the hosted consent page, which answers through OpConsentRequest and
//     OpConsentDecide; remembered consents (store.Consents) skip it.
//
// Clients authenticate with client_secret_basic, client_secret_post or
// private_key_jwt (rfc7523.go reads the assertion), all checked by the
// clients function (clients.authenticate, through the invoker, as a
// service caller) within the endpoint's tenant. Errors are RFC 6749
// section 5.2 JSON, written in one place (rfc6749.go).
//
// Keys are kept by package oauth/keys.
//
// Known shortcomings:
//   - The revocation set of access tokens (JWT and opaque, by jti) lives
//     in the cache only: flushing the cache (or restarting a process whose
//     cache is in memory) un-revokes revoked tokens until they expire (at
//     most an hour). Opaque tokens themselves are sealed, not stored
//     (opaque.go).
//   - A client may ask for any absolute URI as a resource (RFC 8707):
//     clients have no list of allowed audiences yet.
//   - Any authenticated client of the tenant may introspect its tokens;
//     there is no role of resource server apart.
//   - Failed client authentications are not rate-limited.
//   - Registration's rate limits and the bound on dynamically registered
//     clients (package clients) are approximate under concurrency: the
//     bound may be passed by as many registrations as run at once, and
//     without a cache registration answers temporarily_unavailable.
//   - A registration at a TOKEN tenant writes the tenant's record (the
//     token's use count), so registrations of one tenant are serialised
//     on it; the rate limit keeps that to 100 an hour.
//   - A process remembers a client that authenticated for 5 seconds
//     (rfc6749.go): a secret rotated or a client changed through another
//     process still works in this one until then.
//   - With no public URL, the issuer is the request's own base: a JWT
//     introspected through another host name than the one it was issued
//     at is inactive.
//   - Authorization codes, kept authorization requests and the markers
//     of redeemed codes live in the cache only. A code replayed more than
//     10 minutes after its redemption, or within the few cache round
//     trips between taking it and marking it, is refused without its
//     tokens being revoked.
//   - The login page cannot be asked for a second factor: acr_values
//     above the session's send the browser to sign in again, and the
//     code is then issued with whatever acr that sign-in reached.
//   - No account chooser (select_account signs in again), no request
//     objects or claims parameter. Consent is all or nothing per request,
//     and revoking it leaves issued access tokens valid until they
//     expire.
//   - UserInfo accepts any openid access token of the tenant, whatever
//     its audience.
//   - A session-bound refresh token family is checked against the
//     session store record directly: the sessions function has no
//     operation that tells a service whether a session ID is live.
//     Revoking a family leaves the access tokens it issued valid until
//     they expire.
//   - The token exchange does not check the subject token's own audience
//     nor honour "may_act"; exchanges are neither audited nor rate-limited
//     (docs/oauth.md lists the rest).
//   - Logout has no front- or back-channel notification of other relying
//     parties, and ignores ui_locales and logout_hint.
package oauth

import (
	"context"
	"crypto/cipher"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/wardhq/ward/shared/audit"
	"github.com/wardhq/ward/shared/cache"
	"github.com/wardhq/ward/shared/clients"
	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/oauth/keys"
	"github.com/wardhq/ward/shared/orgs"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/validate"
)

// Deps are what the service needs.
type Deps struct {
	Store store.Store
	// Key is the 32-byte master key that seals signing keys
	// (WARD_OAUTH_KEY) and opaque access tokens; nil: neither, unless
	// DataKeys seals signing keys (see oauth/keys).
	Key []byte
	// DataKeys, when set, wraps per-tenant data keys (AWS KMS) that seal
	// new signing keys instead of Key (keys.Options.DataKeys). Opaque
	// access tokens still need Key.
	DataKeys keys.DataKeys
	// PublicURL is the base of every issuer (WARD_PUBLIC_URL); empty: the
	// base of each request (its Host, and https when it came over TLS).
	PublicURL string
	// Overlap is how long a rotated-out key keeps verifying; zero:
	// keys.DefaultOverlap. It must outlast the longest access token (an
	// hour), so that every JWT verifies until it expires.
	Overlap time.Duration
	// Cache keeps opaque access tokens (by their SHA-256) and the jti of
	// revoked JWTs; nil: the token, introspection and revocation
	// endpoints answer temporarily_unavailable where they need it.
	Cache cache.Cache
	// Invoker reaches the clients function, which authenticates clients;
	// nil: those endpoints answer temporarily_unavailable.
	Invoker invoke.Invoker
	Now     func() time.Time // nil: time.Now
	Log     *slog.Logger     // nil: slog.Default()
}

type service struct {
	st        store.Store
	keys      *keys.Manager
	publicURL string
	cache     cache.Cache
	inv       invoke.Invoker
	now       func() time.Time
	log       *slog.Logger
	audit     audit.Recorder
	// sealer seals opaque access tokens (opaque.go); nil without a
	// master key.
	sealer cipher.AEAD
	// authenticated remembers clients that authenticated (rfc6749.go),
	// verified remembers the claims of JWTs whose signature and type
	// verified (introspect.go).
	authenticated *memo[clients.Client]
	verified      *memo[accessClaims]
}

func newService(d Deps) (*service, error) {
	s := &service{st: d.Store, publicURL: d.PublicURL, cache: d.Cache, inv: d.Invoker,
		now: d.Now, log: d.Log}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if d.Overlap != 0 && d.Overlap < maxTokenTTL {
		return nil, errors.New("the key overlap must outlast the longest access token (an hour)")
	}
	m, err := keys.New(d.Store.SigningKeys(), d.Key, keys.Options{Overlap: d.Overlap,
		Now: s.now, Log: s.log, DataKeys: d.DataKeys})
	if err != nil {
		return nil, err
	}
	s.keys = m
	if s.sealer, err = newOpaqueSealer(d.Key); err != nil {
		return nil, err
	}
	s.authenticated = newMemo[clients.Client](10_000, s.now)
	s.verified = newMemo[accessClaims](50_000, s.now)
	s.audit = audit.Recorder{Audit: d.Store.Audit(), Log: s.log, Now: s.now}
	return s, nil
}

// Function returns the oauth function. A master key of the wrong size is
// a programming error (configuration checks it) and panics.
func Function(d Deps) *function.Function {
	s, err := newService(d)
	if err != nil {
		panic("oauth: " + err.Error())
	}
	f := function.New(FunctionName)
	function.Op(f, OpRotateKeys, s.rotateKeys)
	function.Op(f, OpListKeys, s.listKeys)
	function.Op(f, OpRevokeGrants, s.revokeGrants)
	function.Op(f, OpConsentRequest, s.consentRequest)
	function.Op(f, OpConsentDecide, s.consentDecide)
	function.Op(f, OpListConsents, s.listConsents)
	function.Op(f, OpRevokeConsent, s.revokeConsent)
	function.Op(f, OpDeviceLookup, s.deviceLookup)
	function.Op(f, OpDeviceDecide, s.deviceDecide)
	function.Op(f, OpCreateRegistrationToken, s.createRegistrationToken)
	function.Op(f, OpListRegistrationTokens, s.listRegistrationTokens)
	function.Op(f, OpDeleteRegistrationToken, s.deleteRegistrationToken)
	f.Routes = s.routes()
	f.Patterns = Patterns
	return f
}

// gate lets through system administrators and the tenant's own; anyone
// else of another tenant gets NOT_FOUND.
func gate(c function.Caller, tenantID string) error {
	return adminGate(c, tenantID, "signing keys")
}

// adminGate is gate for the tenant's things named what.
func adminGate(c function.Caller, tenantID, what string) error {
	if orgs.TenantWide(c, tenantID) {
		return nil
	}
	if _, err := orgs.Gate(c, tenantID); err != nil {
		return err
	}
	return errs.New(errs.PermissionDenied, "only the tenant's administrators manage its %s",
		what)
}

func (in *RotateKeysInput) Validate() error {
	if err := validate.ID("tenantId", in.TenantID); err != nil {
		return err
	}
	switch in.Algorithm {
	case "", store.SigningAlgorithmES, store.SigningAlgorithmRSA:
		return nil
	}
	return errs.Invalid("algorithm", "must be ES256 or RS256")
}

func (in *ListKeysInput) Validate() error { return validate.ID("tenantId", in.TenantID) }

// tenantExists turns a missing tenant into NOT_FOUND before any key is
// made for it.
func (s *service) tenantExists(ctx context.Context, id string) error {
	_, err := s.st.Tenants().Get(ctx, id)
	if errs.CodeOf(err) == errs.NotFound {
		return errs.New(errs.NotFound, "tenant not found")
	}
	return err
}

func (s *service) rotateKeys(ctx context.Context, c function.Caller, in RotateKeysInput) (
	KeysOutput, error) {
	if err := gate(c, in.TenantID); err != nil {
		return KeysOutput{}, err
	}
	if err := s.tenantExists(ctx, in.TenantID); err != nil {
		return KeysOutput{}, err
	}
	before, err := s.keys.List(ctx, in.TenantID)
	if err != nil {
		return KeysOutput{}, err
	}
	set, err := s.keys.Rotate(ctx, in.TenantID, in.Algorithm)
	if err != nil {
		return KeysOutput{}, err
	}
	active, _ := set.Active()
	old := audit.Fields{}
	if prev, ok := (store.SigningKeySet{Keys: before}).Active(); ok {
		old = audit.Fields{"activeKey": prev.ID, "algorithm": prev.Algorithm}
	}
	s.audit.Record(ctx, c, "signingKey.rotate",
		audit.Target{TenantID: in.TenantID, Type: audit.TypeSigningKey, ID: active.ID},
		audit.Changes(old, audit.Fields{"activeKey": active.ID, "algorithm": active.Algorithm}))
	return s.output(set.Keys), nil
}

func (s *service) listKeys(ctx context.Context, c function.Caller, in ListKeysInput) (
	KeysOutput, error) {
	if err := gate(c, in.TenantID); err != nil {
		return KeysOutput{}, err
	}
	if err := s.tenantExists(ctx, in.TenantID); err != nil {
		return KeysOutput{}, err
	}
	list, err := s.keys.List(ctx, in.TenantID)
	if err != nil {
		return KeysOutput{}, err
	}
	return s.output(list), nil
}

func (s *service) output(list []store.SigningKey) KeysOutput {
	now := s.now()
	out := KeysOutput{Items: make([]KeyInfo, 0, len(list))}
	for _, k := range list {
		out.Items = append(out.Items, keyInfo(k, now))
	}
	return out
}

// routes serves discovery and the key set (discovery.go), the token,
// introspection and revocation endpoints (token.go, introspect.go), and
// dynamic client registration (rfc7591.go).
func (s *service) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /t/{tenant}/.well-known/openid-configuration", s.serveDiscovery)
	mux.HandleFunc("GET /t/{tenant}/.well-known/oauth-authorization-server", s.serveDiscovery)
	mux.HandleFunc("GET /.well-known/oauth-authorization-server/t/{tenant}", s.serveDiscovery)
	mux.HandleFunc("GET "+PathJWKS, s.serveJWKS)
	mux.Handle("POST /t/{tenant}"+pathToken, s.protocolHandler(s.serveToken))
	mux.Handle("POST /t/{tenant}"+pathIntrospection, s.protocolHandler(s.serveIntrospect))
	mux.Handle("POST /t/{tenant}"+pathRevocation, s.protocolHandler(s.serveRevoke))
	mux.HandleFunc("GET /t/{tenant}"+pathAuthorize, s.serveAuthorize)
	mux.HandleFunc("POST /t/{tenant}"+pathAuthorize, s.serveAuthorize)
	mux.Handle("POST /t/{tenant}"+pathPAR, s.protocolHandler(s.servePAR))
	mux.Handle("POST /t/{tenant}"+pathDevice, s.protocolHandler(s.serveDeviceAuthorization))
	mux.HandleFunc("GET /t/{tenant}"+pathEndSession, s.serveLogout)
	mux.HandleFunc("POST /t/{tenant}"+pathEndSession, s.serveLogout)
	mux.HandleFunc("GET /t/{tenant}"+pathUserinfo, s.serveUserInfo)
	mux.HandleFunc("POST /t/{tenant}"+pathUserinfo, s.serveUserInfo)
	mux.HandleFunc("OPTIONS /t/{tenant}"+pathUserinfo, s.serveUserInfo)
	mux.Handle("POST /t/{tenant}"+pathRegister, s.registrationHandler(http.StatusCreated,
		s.serveRegister))
	for method, action := range map[string]string{"GET": clients.RegistrationRead,
		"PUT": clients.RegistrationReplace, "DELETE": clients.RegistrationDelete} {
		mux.Handle(method+" /t/{tenant}"+pathRegister+"/{id}",
			s.registrationHandler(http.StatusOK, s.manageRegistration(action)))
	}
	return mux
}
