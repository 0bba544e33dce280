// Package sessions is Ward's Session Grid: the sessions of signed-in
// users, kept in the cache for validation with a durable record in the
// store (store.Sessions), and their listing and revocation.
//
// Who may call what:
//
//   - Ward's own components (function.RoleService): create (the sign-in
//     flows), validate (the facade, the edge), elevate (step-up) and
//     revokeAll (a password reset, an account deletion);
//   - the signed-in user, on their own sessions: get, list, revoke and
//     revokeAll (optionally keeping the current one);
//   - system administrators, the tenant's administrators, and organization
//     administrators for the users of the organizations they reach
//     (package orgs): get, list, revoke and revokeAll of a user's sessions.
//     Their revocations are audited.
//
// Anything outside a caller's reach is NOT_FOUND, exactly like a missing
// session.
//
// # Tokens
//
// A session token is "wss_" and 32 random bytes in unpadded base64url. It
// is shown once, by create; only its SHA-256 (hex) is kept, as the cache
// key and in the store. An unknown, malformed, expired, idle, revoked or
// disabled user's token is UNAUTHENTICATED "invalid token", whichever it
// is. A token that is not a session token but a JWT (three dot-separated
// parts) is an access token: the trusted issuers service (issuers.verify)
// checks it for the tenant named in the request, and without a tenant it
// is refused.
//
// # The cache
//
// Each live session has one cache entry, "sess:" + the token hash, holding
// what validation answers (user, tenant, acr, amr, roles, expiries) and
// two instants: Seen, the last use the entry records, and Stored, the
// store record's LastSeenAt. Its TTL ends at the session's end. The idle
// expiry is Seen + the idle timeout, so each validation extends it; to
// keep validation a cache read, the entry is rewritten only when Seen is
// older than a twentieth of the idle timeout (the session may then end up
// to 5% of its idle timeout early, never late), and the store's
// LastSeenAt only when Stored is older than a minute (a quarter of the
// idle timeout when that is shorter). That store write is also when the
// entry is rebuilt: the session re-read (a revoked one is refused and its
// entry dropped), the user re-read (gone or not ACTIVE: the session is
// revoked) and the user's roles taken again.
//
// A miss (the cache lost or evicted the entry, or it was never there)
// falls back to the store's record, which is checked the same way and
// fills the cache again: losing the cache signs nobody out. A session then
// counts as idle from the store's LastSeenAt, which lags by at most the
// store write interval, so it may end that much early.
//
// Revocation deletes the store record first, then replaces the cache entry
// with a tombstone for a few minutes, so that a validation that read the
// store just before the delete cannot put the entry back (it fills the
// cache only where nothing is: SetNX), and a stolen token used again is
// refused without a store read.
//
// Known shortcomings:
//   - A validation that read a live entry just before a revocation may
//     write that entry back over the tombstone (the cache has no
//     compare-and-swap); the session then works again until its next
//     store write, at most a minute later, where the missing record ends
//     it.
//   - With the in-process cache, each process has its own entries, so a
//     revocation in one is seen by another only at that process's next
//     store write (at most a minute). Deployments of several instances use
//     Redis, which all share.
//   - A change of a user's roles or status reaches live entries at their
//     next store write, at most a minute later; users.update revokes the
//     sessions of a user it makes other than ACTIVE at once.
package sessions

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/wardhq/ward/shared/audit"
	"github.com/wardhq/ward/shared/cache"
	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/validate"
)

// Deps are what the service needs.
type Deps struct {
	Store store.Store
	// Cache holds the sessions being validated. Nil: every validation
	// reads the store (a setup for tests and single-user tools).
	Cache cache.Cache
	// Invoker reaches the trusted issuers function (issuers.verify) for
	// access tokens. Nil: access tokens are refused.
	Invoker invoke.Invoker
	// RolesOf gives a user's administrator roles and the organizations
	// they administer; a session caller holds "user" and these. Nil: none.
	RolesOf func(store.User) (roles, orgs []string)
	Now     func() time.Time // nil: time.Now
	Log     *slog.Logger     // nil: slog.Default()
}

type service struct {
	st      store.Store
	cache   cache.Cache
	inv     invoke.Invoker
	rolesOf func(store.User) (roles, orgs []string)
	now     func() time.Time
	log     *slog.Logger
	audit   audit.Recorder
}

func newService(d Deps) *service {
	s := &service{st: d.Store, cache: d.Cache, inv: d.Invoker, rolesOf: d.RolesOf, now: d.Now,
		log: d.Log}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.audit = audit.Recorder{Audit: d.Store.Audit(), Log: s.log, Now: s.now}
	return s
}

// Function returns the sessions function: its operations, and the
// validation endpoint under /sessions/ (see http.go).
func Function(d Deps) *function.Function {
	s := newService(d)
	f := function.New(FunctionName)
	function.Op(f, OpCreate, s.create)
	function.Op(f, OpValidate, s.validate)
	function.Op(f, OpElevate, s.elevate)
	function.Op(f, OpGet, s.get)
	function.Op(f, OpList, s.list)
	function.Op(f, OpRevoke, s.revoke)
	function.Op(f, OpRevokeAll, s.revokeAll)
	f.Routes = s.routes()
	f.Patterns = []string{"/" + FunctionName + "/"}
	return f
}

// tokenBytes is the entropy of a session token.
const tokenBytes = 32

// tokenEncoding is strict, so that each token has one spelling only.
var tokenEncoding = base64.RawURLEncoding.Strict()

// tokenLen is the length of every session token.
var tokenLen = len(TokenPrefix) + tokenEncoding.EncodedLen(tokenBytes)

func newToken() Token {
	var b [tokenBytes]byte
	rand.Read(b[:])
	return Token(TokenPrefix + tokenEncoding.EncodeToString(b[:]))
}

// hashOf is the stored form of a token: hex SHA-256. The token is 256
// random bits, so a fast hash suffices (no one can search for a preimage)
// and a lookup by hash tells nothing through timing.
func hashOf(t Token) string {
	sum := sha256.Sum256([]byte(t))
	return hex.EncodeToString(sum[:])
}

// isSessionToken reports whether t is well-formed as a session token.
func isSessionToken(t Token) bool {
	s := string(t)
	if len(s) != tokenLen || !strings.HasPrefix(s, TokenPrefix) {
		return false
	}
	b, err := tokenEncoding.DecodeString(s[len(TokenPrefix):])
	return err == nil && len(b) == tokenBytes
}

func invalidToken() error { return errs.New(errs.Unauthenticated, "invalid token") }

func sessionNotFound() error { return errs.New(errs.NotFound, "session not found") }

func (s *service) stamp() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

// publicSession is what operations return of a record.
func publicSession(r store.Session) Session {
	amr := slices.Clone(r.AMR)
	if amr == nil {
		amr = []string{}
	}
	return Session{
		ID: r.ID, TenantID: r.TenantID, UserID: r.UserID, ACR: r.ACR, AMR: amr,
		AuthTime: r.AuthTime, CreatedAt: r.CreatedAt, LastSeenAt: r.LastSeenAt,
		IdleExpiresAt: r.IdleExpiresAt(), ExpiresAt: r.ExpiresAt, IP: r.IP,
		UserAgent: r.UserAgent, DeviceID: r.DeviceID,
	}
}

var (
	// acrRE is the shape of an authentication context class: the values
	// Ward uses ("1", "2") and URIs or names of other schemes.
	acrRE = regexp.MustCompile(`^[A-Za-z0-9:._/-]{1,128}$`)
	// amrRE is the shape of an RFC 8176 method value.
	amrRE = regexp.MustCompile(`^[a-z0-9_-]{1,32}$`)
	// deviceRE is a device ID as Ward's cookie carries it: printable
	// ASCII without spaces.
	deviceRE = regexp.MustCompile(`^[\x21-\x7e]{1,128}$`)
)

// checkSignIn checks what create and elevate share: the tenant ID and
// one other ID (field), the acr and amr, and the auth time. It returns
// the amr without repeats.
func checkSignIn(tenantID, field, id, acr string, amr []string, authTime int64) ([]string,
	error) {
	if err := validate.ID("tenantId", tenantID); err != nil {
		return nil, err
	}
	if err := validate.ID(field, id); err != nil {
		return nil, err
	}
	if authTime < 0 {
		return nil, errs.Invalid("authTime", "must be a Unix time")
	}
	return checkContext(acr, amr)
}

// checkContext checks an acr and amr and returns the amr without repeats.
func checkContext(acr string, amr []string) ([]string, error) {
	if !acrRE.MatchString(acr) {
		return nil, errs.Invalid("acr", "must be 1 to 128 letters, digits or : . _ / -")
	}
	if len(amr) > store.MaxSessionAMR {
		return nil, errs.Invalid("amr", "must hold at most %d methods", store.MaxSessionAMR)
	}
	var out []string
	for _, m := range amr {
		if !amrRE.MatchString(m) {
			return nil, errs.Invalid("amr", "methods are 1 to 32 lower-case letters, digits, _ or -")
		}
		if !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	return out, nil
}

// Validate checks and normalises the input: the user agent is cut to
// store.MaxUserAgentBytes without control characters, the IP put in
// canonical form.
func (in *CreateInput) Validate() error {
	amr, err := checkSignIn(in.TenantID, "userId", in.UserID, in.ACR, in.AMR, in.AuthTime)
	if err != nil {
		return err
	}
	in.AMR = amr
	if in.IP != "" {
		a, err := netip.ParseAddr(in.IP)
		if err != nil {
			return errs.Invalid("ip", "must be an IPv4 or IPv6 address")
		}
		in.IP = a.String()
	}
	if len(in.IP) > store.MaxSessionIPBytes {
		return errs.Invalid("ip", "must be at most %d bytes", store.MaxSessionIPBytes)
	}
	if in.DeviceID != "" && !deviceRE.MatchString(in.DeviceID) {
		return errs.Invalid("deviceId", "must be 1 to 128 printable ASCII characters")
	}
	in.UserAgent = cleanUserAgent(in.UserAgent)
	return nil
}

// cleanUserAgent makes a user agent storable: bytes that are not UTF-8
// and control characters go, and what is left is cut to
// store.MaxUserAgentBytes at a character boundary.
func cleanUserAgent(ua string) string {
	ua = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, strings.ToValidUTF8(ua, ""))
	if len(ua) <= store.MaxUserAgentBytes {
		return ua
	}
	cut := store.MaxUserAgentBytes
	for cut > 0 && !utf8.RuneStart(ua[cut]) {
		cut--
	}
	return ua[:cut]
}

// maxAuthSkew is how far in the future a sign-in's auth time may lie,
// for clocks a little apart.
const maxAuthSkew = time.Minute

// authTimeOf is the auth time an input names: now for 0; an auth time in
// the future, or older than the longest session, is refused.
func authTimeOf(field string, unix int64, now time.Time) (time.Time, error) {
	if unix == 0 {
		return now, nil
	}
	t := time.Unix(unix, 0).UTC()
	if t.After(now.Add(maxAuthSkew)) || now.Sub(t) > store.MaxSessionLifetime {
		return time.Time{}, errs.Invalid(field, "must be a recent Unix time")
	}
	return t, nil
}

// create starts a session for an ACTIVE user with the tenant's timeouts,
// and fills the cache so that the first validation is a cache read.
func (s *service) create(ctx context.Context, c function.Caller, in CreateInput) (
	CreateOutput, error) {
	if err := c.RequireService(); err != nil {
		return CreateOutput{}, err
	}
	tn, err := s.st.Tenants().Get(ctx, in.TenantID)
	if errs.CodeOf(err) == errs.NotFound {
		return CreateOutput{}, errs.New(errs.NotFound, "tenant not found")
	}
	if err != nil {
		return CreateOutput{}, err
	}
	u, err := s.st.Users().Get(ctx, in.TenantID, in.UserID)
	if errs.CodeOf(err) == errs.NotFound {
		return CreateOutput{}, errs.New(errs.NotFound, "user not found")
	}
	if err != nil {
		return CreateOutput{}, err
	}
	if u.Status != store.UserActive {
		return CreateOutput{}, errs.Invalid("userId", "the user is not ACTIVE")
	}
	now := s.stamp()
	authTime, err := authTimeOf("authTime", in.AuthTime, now)
	if err != nil {
		return CreateOutput{}, err
	}

	max := tn.Auth.MaxLifetime()
	token := newToken()
	rec, err := s.st.Sessions().Create(ctx, store.Session{
		ID: validate.NewID(), TenantID: in.TenantID, UserID: in.UserID, TokenHash: hashOf(token),
		ACR: in.ACR, AMR: in.AMR, AuthTime: authTime, CreatedAt: now, LastSeenAt: now,
		IdleTimeout: min(tn.Auth.IdleTimeout(), max), ExpiresAt: now.Add(max), IP: in.IP,
		UserAgent: in.UserAgent, DeviceID: in.DeviceID,
	})
	if err != nil {
		return CreateOutput{}, err
	}
	s.fill(ctx, s.entryOf(rec, tn, u, now))
	return CreateOutput{Session: publicSession(rec), Token: token}, nil
}

func (in *ElevateInput) Validate() error {
	amr, err := checkSignIn(in.TenantID, "sessionId", in.SessionID, in.ACR, in.AMR,
		in.AuthTime)
	in.AMR = amr
	return err
}

// elevate sets a session's acr, adds to its amr, and sets its auth time;
// it counts as a use. The cache entry is rebuilt from the result.
func (s *service) elevate(ctx context.Context, c function.Caller, in ElevateInput) (Session,
	error) {
	if err := c.RequireService(); err != nil {
		return Session{}, err
	}
	now := s.stamp()
	authTime, err := authTimeOf("authTime", in.AuthTime, now)
	if err != nil {
		return Session{}, err
	}
	rec, err := s.st.Sessions().Update(ctx, in.TenantID, in.SessionID,
		func(r store.Session) (store.Session, error) {
			for _, m := range in.AMR {
				if !slices.Contains(r.AMR, m) {
					r.AMR = append(r.AMR, m)
				}
			}
			if len(r.AMR) > store.MaxSessionAMR {
				return r, errs.Invalid("amr", "the session would hold more than %d methods",
					store.MaxSessionAMR)
			}
			r.ACR, r.AuthTime, r.LastSeenAt = in.ACR, authTime, now
			return r, nil
		})
	if errs.CodeOf(err) == errs.NotFound {
		return Session{}, sessionNotFound()
	}
	if err != nil {
		return Session{}, err
	}
	e, err := s.build(ctx, rec, now)
	if errors.Is(err, errUserGone) {
		s.end(ctx, rec)
		return Session{}, sessionNotFound()
	}
	if err != nil {
		// The change is made; without the entry, the next validation
		// rebuilds it from the record.
		s.forget(ctx, rec.TokenHash)
		return Session{}, err
	}
	s.put(ctx, e)
	return publicSession(rec), nil
}
