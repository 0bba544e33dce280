package graphql

import (
	"context"
	"crypto/sha256"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/wardhq/ward/shared/apitokens"
	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/sessions"
)

// serviceCaller is who the facade is when it asks the admin function to
// verify a token.
var serviceCaller = function.Caller{Subject: "graphql", Roles: []string{function.RoleService}}

// maxTokenBytes bounds a presented token; anything longer is refused
// without asking the admin function.
const maxTokenBytes = 1024

// authError is a refused request: its HTTP status, code and message, and
// the WWW-Authenticate challenge for 401s (RFC 6750 section 3).
type authError struct {
	status    int
	code      errs.Code
	message   string
	challenge string
}

func unauthenticated(message, challenge string) *authError {
	return &authError{
		status:    http.StatusUnauthorized,
		code:      errs.Unauthenticated,
		message:   message,
		challenge: challenge,
	}
}

const (
	challengeMissing = `Bearer realm="ward"`
	challengeInvalid = `Bearer realm="ward", error="invalid_token"`
)

// bearerToken takes the token from an Authorization header value. The
// scheme is case-insensitive (RFC 7235 section 2.1); the token must be an
// RFC 6750 b64token.
func bearerToken(header string) (string, *authError) {
	if header == "" {
		return "", unauthenticated("authentication required", challengeMissing)
	}
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", unauthenticated("authorization scheme must be Bearer", challengeMissing)
	}
	token = strings.TrimLeft(token, " ")
	if token == "" || len(token) > maxTokenBytes || !isB64Token(token) {
		return "", unauthenticated("invalid bearer token", challengeInvalid)
	}
	return token, nil
}

// isB64Token reports whether s is 1*( ALPHA / DIGIT / "-" / "." / "_" /
// "~" / "+" / "/" ) *"=" (RFC 6750 section 2.1).
func isB64Token(s string) bool {
	body := strings.TrimRight(s, "=")
	if body == "" {
		return false
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/':
		default:
			return false
		}
	}
	return true
}

// authenticator verifies bearer tokens: session tokens ("wss_") through
// the sessions function, every other token through the admin function.
type authenticator struct {
	inv   invoke.Invoker
	log   *slog.Logger
	cache *tokenCache // nil when caching is off
}

// authenticate returns the caller the Authorization header stands for.
func (a *authenticator) authenticate(ctx context.Context, header string) (function.Caller,
	*authError) {
	token, aerr := bearerToken(header)
	if aerr != nil {
		return function.Caller{}, aerr
	}

	if strings.HasPrefix(token, sessions.TokenPrefix) {
		return a.authenticateSession(ctx, token)
	}

	key := sha256.Sum256([]byte(token))
	if c, ok := a.cache.get(key); ok {
		return c, nil
	}

	in := apitokens.VerifyInput{Token: token}
	c, err := invoke.Call[function.Caller](ctx, a.inv, apitokens.FunctionName, apitokens.OpVerify,
		serviceCaller, in)
	if err != nil {
		return function.Caller{}, a.verifyFailed(ctx, apitokens.OpVerify, err)
	}

	// Fail closed on answers that no token should produce: an anonymous
	// caller, or one holding the role reserved for Ward's own components.
	if c.Anonymous() || c.Has(function.RoleService) {
		a.log.LogAttrs(ctx, slog.LevelWarn, "graphql: token verified to an unusable caller",
			slog.String("request_id", function.RequestID(ctx)),
			slog.Bool("anonymous", c.Anonymous()))
		return function.Caller{}, unauthenticated("invalid bearer token", challengeInvalid)
	}
	a.cache.put(key, c)
	return c, nil
}

// authenticateSession verifies a session token with the sessions service.
// Session callers are not kept in the facade's token cache: the sessions
// service's own cache answers as fast, each validation counts as a use of
// the session, and a revoked session is refused from its next request.
func (a *authenticator) authenticateSession(ctx context.Context, token string) (
	function.Caller, *authError) {
	in := sessions.ValidateInput{Token: sessions.Token(token)}
	out, err := invoke.Call[sessions.ValidateOutput](ctx, a.inv, sessions.FunctionName,
		sessions.OpValidate, serviceCaller, in)
	if err != nil {
		return function.Caller{}, a.verifyFailed(ctx, sessions.OpValidate, err)
	}
	c := out.Caller()
	if !out.Active || out.Kind != sessions.KindSession || c.Anonymous() || c.Tenant == "" ||
		c.Session == "" || c.Has(function.RoleService) {
		a.log.LogAttrs(ctx, slog.LevelWarn, "graphql: session validated to an unusable caller",
			slog.String("request_id", function.RequestID(ctx)))
		return function.Caller{}, unauthenticated("invalid bearer token", challengeInvalid)
	}
	return c, nil
}

func (a *authenticator) verifyFailed(ctx context.Context, op string, err error) *authError {
	switch errs.CodeOf(err) {
	case errs.Unauthenticated, errs.NotFound, errs.InvalidArgument:
		return unauthenticated("invalid bearer token", challengeInvalid)
	case errs.Unavailable:
		logFault(ctx, a.log, op, err)
		return &authError{
			status:  http.StatusServiceUnavailable,
			code:    errs.Unavailable,
			message: "token verification unavailable",
		}
	}
	// PERMISSION_DENIED here means the facade may not verify tokens: a
	// deployment fault, not the client's.
	logFault(ctx, a.log, op, err)
	return &authError{status: http.StatusInternalServerError, code: errs.Internal,
		message: internalMessage}
}

// tokenCache remembers verified tokens for a short TTL, keyed by the
// SHA-256 of the token so that no secret is held in memory longer than
// the request. It is bounded: when full it drops expired entries and, if
// still full, an arbitrary one. Failed verifications are not cached.
type tokenCache struct {
	ttl time.Duration
	max int
	now func() time.Time

	mu      sync.Mutex
	entries map[[sha256.Size]byte]cacheEntry
}

type cacheEntry struct {
	caller  function.Caller
	expires time.Time
}

func newTokenCache(o Options) *tokenCache {
	if o.TokenCacheTTL < 0 {
		return nil
	}
	return &tokenCache{
		ttl:     o.TokenCacheTTL,
		max:     o.TokenCacheSize,
		now:     o.Now,
		entries: map[[sha256.Size]byte]cacheEntry{},
	}
}

func (c *tokenCache) get(key [sha256.Size]byte) (function.Caller, bool) {
	if c == nil {
		return function.Caller{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok {
		return function.Caller{}, false
	}
	if !c.now().Before(e.expires) {
		delete(c.entries, key)
		return function.Caller{}, false
	}
	caller := e.caller
	caller.Roles = slices.Clone(caller.Roles)
	caller.Orgs = slices.Clone(caller.Orgs)
	return caller, true
}

func (c *tokenCache) put(key [sha256.Size]byte, caller function.Caller) {
	if c == nil {
		return
	}
	caller.Roles = slices.Clone(caller.Roles)
	caller.Orgs = slices.Clone(caller.Orgs)
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[key]; !ok && len(c.entries) >= c.max {
		for k, e := range c.entries {
			if !now.Before(e.expires) {
				delete(c.entries, k)
			}
		}
		for k := range c.entries {
			if len(c.entries) < c.max {
				break
			}
			delete(c.entries, k)
		}
	}
	c.entries[key] = cacheEntry{caller: caller, expires: now.Add(c.ttl)}
}

func (c *tokenCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
