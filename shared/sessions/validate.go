package sessions

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/validate"
)

// The cache layout; see the package comment.
const (
	keyPrefix    = "sess:"
	entryVersion = 1
	// tombstoneTTL is how long a revoked session's tombstone stays: far
	// longer than a validation takes from reading the store to filling
	// the cache, and long enough to answer a stolen token's retries
	// without the store.
	tombstoneTTL = 5 * time.Minute
	// maxStoreEvery is how often, at most, a validation writes the
	// store's LastSeenAt.
	maxStoreEvery = time.Minute
	// maxPresentedToken bounds a presented token (a JWT may be long).
	maxPresentedToken = 8 << 10
)

// entry is a session as the cache keeps it. Times are Unix milliseconds.
type entry struct {
	V          int      `json:"v"`
	Revoked    bool     `json:"x,omitempty"` // a tombstone: nothing else is set
	ID         string   `json:"id,omitempty"`
	Tenant     string   `json:"t,omitempty"`
	TenantName string   `json:"tn,omitempty"`
	User       string   `json:"u,omitempty"`
	ACR        string   `json:"acr,omitempty"`
	AMR        []string `json:"amr,omitempty"`
	Auth       int64    `json:"at,omitempty"`
	Expires    int64    `json:"e,omitempty"`  // the absolute expiry
	Idle       int64    `json:"i,omitempty"`  // the idle timeout, ms
	Seen       int64    `json:"s,omitempty"`  // the last use this entry records
	Stored     int64    `json:"st,omitempty"` // the store's LastSeenAt
	Roles      []string `json:"r,omitempty"`
	Orgs       []string `json:"o,omitempty"`

	hash string // the key, not stored
}

func (e entry) ends() int64 { return min(e.Seen+e.Idle, e.Expires) }

func (e entry) over(now time.Time) bool { return now.UnixMilli() >= e.ends() }

// cacheEvery is how stale Seen may get before the entry is rewritten, and
// storeEvery how stale Stored may get before the store is written; both in
// milliseconds of an idle timeout of idle ms.
func cacheEvery(idle int64) int64 { return idle / 20 }

func storeEvery(idle int64) int64 { return min(maxStoreEvery.Milliseconds(), idle/4) }

func (e entry) output() ValidateOutput {
	nonNil := func(s []string) []string {
		if s == nil {
			return []string{}
		}
		return slices.Clone(s)
	}
	return ValidateOutput{
		Active: true, Kind: KindSession, Subject: e.User, TenantID: e.Tenant, SessionID: e.ID,
		ACR: e.ACR, AMR: nonNil(e.AMR), AuthTime: e.Auth / 1000, ExpiresAt: e.ends() / 1000,
		AbsoluteExpiresAt: e.Expires / 1000, Roles: nonNil(e.Roles), Orgs: nonNil(e.Orgs),
	}
}

// entryOf makes the cache entry of a session record of user u of tenant
// tn, seen now.
func (s *service) entryOf(r store.Session, tn store.Tenant, u store.User, now time.Time) entry {
	roles := []string{function.RoleUser}
	var orgs []string
	if s.rolesOf != nil {
		more, o := s.rolesOf(u)
		for _, role := range more {
			// The service role is Ward's own components', never a user's.
			if role != function.RoleService && !slices.Contains(roles, role) {
				roles = append(roles, role)
			}
		}
		orgs = slices.Clone(o)
	}
	seen := r.LastSeenAt.UnixMilli()
	return entry{
		V: entryVersion, ID: r.ID, Tenant: r.TenantID, TenantName: tn.Name, User: r.UserID,
		ACR: r.ACR, AMR: slices.Clone(r.AMR), Auth: r.AuthTime.UnixMilli(),
		Expires: r.ExpiresAt.UnixMilli(), Idle: r.IdleTimeout.Milliseconds(), Seen: seen,
		Stored: seen, Roles: roles, Orgs: orgs, hash: r.TokenHash,
	}
}

// errUserGone says a session's user is missing or not ACTIVE.
var errUserGone = errors.New("sessions: the user is gone or not ACTIVE")

// build reads the session's tenant and user and makes its entry; a user
// who is gone or not ACTIVE is errUserGone.
func (s *service) build(ctx context.Context, r store.Session, now time.Time) (entry, error) {
	u, err := s.st.Users().Get(ctx, r.TenantID, r.UserID)
	switch {
	case errs.CodeOf(err) == errs.NotFound:
		return entry{}, errUserGone
	case err != nil:
		return entry{}, err
	case u.Status != store.UserActive:
		return entry{}, errUserGone
	}
	tn, err := s.st.Tenants().Get(ctx, r.TenantID)
	if errs.CodeOf(err) == errs.NotFound {
		return entry{}, errUserGone
	}
	if err != nil {
		return entry{}, err
	}
	return s.entryOf(r, tn, u, now), nil
}

func (e entry) bytes() []byte {
	b, err := json.Marshal(e)
	if err != nil { // a struct of strings and integers always marshals
		panic(err)
	}
	return b
}

// put writes e to the cache, replacing what is there; fill writes it only
// where nothing is (a tombstone wins). Both are best effort: the cache
// only ever saves work, and a failure is logged.
func (s *service) put(ctx context.Context, e entry) { s.write(ctx, e, false) }

func (s *service) fill(ctx context.Context, e entry) { s.write(ctx, e, true) }

func (s *service) write(ctx context.Context, e entry, ifAbsent bool) {
	if s.cache == nil {
		return
	}
	ttl := time.Duration(e.ends()-s.now().UnixMilli()) * time.Millisecond
	if ttl <= 0 {
		return
	}
	var err error
	if ifAbsent {
		_, err = s.cache.SetNX(ctx, keyPrefix+e.hash, e.bytes(), ttl)
	} else {
		err = s.cache.Set(ctx, keyPrefix+e.hash, e.bytes(), ttl)
	}
	if err != nil {
		s.cacheFault(ctx, "write", err)
	}
}

// tombstone replaces a session's entry with a tombstone.
func (s *service) tombstone(ctx context.Context, hash string) {
	if s.cache == nil {
		return
	}
	b := entry{V: entryVersion, Revoked: true}.bytes()
	if err := s.cache.Set(context.WithoutCancel(ctx), keyPrefix+hash, b, tombstoneTTL); err != nil {
		s.cacheFault(ctx, "tombstone", err)
	}
}

// forget drops a session's entry, for the next validation to rebuild.
func (s *service) forget(ctx context.Context, hash string) {
	if s.cache == nil {
		return
	}
	if err := s.cache.Delete(context.WithoutCancel(ctx), keyPrefix+hash); err != nil {
		s.cacheFault(ctx, "delete", err)
	}
}

func (s *service) cacheFault(ctx context.Context, what string, err error) {
	s.log.LogAttrs(ctx, slog.LevelWarn, "sessions: cache "+what+" failed",
		slog.String("request_id", function.RequestID(ctx)), slog.String("error", err.Error()))
}

// Validate bounds the token before anything else looks at it; a tenant
// must be an ID or a name.
func (in *ValidateInput) Validate() error {
	if in.Token == "" || len(in.Token) > maxPresentedToken {
		return invalidToken()
	}
	if in.Tenant != "" && validate.ID("tenant", in.Tenant) != nil &&
		validate.Slug("tenant", in.Tenant) != nil {
		return errs.Invalid("tenant", "must be a tenant ID or name")
	}
	return nil
}

func (s *service) validate(ctx context.Context, c function.Caller, in ValidateInput) (
	ValidateOutput, error) {
	if err := c.RequireService(); err != nil {
		return ValidateOutput{}, err
	}
	return s.check(ctx, in)
}

// check validates a token whose input has passed Validate.
func (s *service) check(ctx context.Context, in ValidateInput) (ValidateOutput, error) {
	switch {
	case isSessionToken(in.Token):
		return s.checkSession(ctx, in)
	case isJWT(string(in.Token)):
		return s.checkAccess(ctx, in)
	}
	return ValidateOutput{}, invalidToken()
}

// checkSession validates a session token: a cache read in the common
// case, a store read on a miss, a store write about once a minute.
func (s *service) checkSession(ctx context.Context, in ValidateInput) (ValidateOutput, error) {
	hash := hashOf(in.Token)
	now := s.now()
	e, fromStore, err := s.lookup(ctx, hash, now)
	if err != nil {
		return ValidateOutput{}, err
	}
	if e.Revoked || e.over(now) {
		return ValidateOutput{}, invalidToken()
	}
	if in.Tenant != "" && in.Tenant != e.Tenant && in.Tenant != e.TenantName {
		return ValidateOutput{}, invalidToken()
	}

	ms := now.UnixMilli()
	switch {
	case ms-e.Stored >= storeEvery(e.Idle):
		if e, err = s.refresh(ctx, e, now); err != nil {
			return ValidateOutput{}, err
		}
		s.put(ctx, e)
	case ms-e.Seen >= cacheEvery(e.Idle):
		e.Seen = ms
		s.write(ctx, e, fromStore)
	case fromStore:
		s.fill(ctx, e)
	}
	return e.output(), nil
}

// lookup finds a session's entry: in the cache, else built from the
// store's record (fromStore). A cache fault falls through to the store.
func (s *service) lookup(ctx context.Context, hash string, now time.Time) (e entry,
	fromStore bool, err error) {
	if s.cache != nil {
		b, err := s.cache.Get(ctx, keyPrefix+hash)
		switch {
		case err == nil:
			if json.Unmarshal(b, &e) == nil && e.V == entryVersion {
				e.hash = hash
				return e, false, nil
			}
			e = entry{} // unreadable, perhaps of another version: as good as a miss
		case errs.CodeOf(err) != errs.NotFound:
			s.cacheFault(ctx, "read", err)
		}
	}
	r, err := s.st.Sessions().GetByHash(ctx, hash)
	if errs.CodeOf(err) == errs.NotFound {
		return entry{}, false, invalidToken()
	}
	if err != nil {
		return entry{}, false, err
	}
	e, err = s.build(ctx, r, now)
	if errors.Is(err, errUserGone) {
		s.end(ctx, r)
		return entry{}, false, invalidToken()
	}
	return e, true, err
}

// errFresh stops a refresh whose store write another validation has just
// made.
var errFresh = errors.New("sessions: last use written just now")

// refresh writes the session's last use to the store and rebuilds its
// entry from the record and the user: a session that is gone, or whose
// user is, ends here.
func (s *service) refresh(ctx context.Context, e entry, now time.Time) (entry, error) {
	now = now.UTC().Truncate(time.Millisecond)
	var seen store.Session
	r, err := s.st.Sessions().Update(ctx, e.Tenant, e.ID,
		func(r store.Session) (store.Session, error) {
			seen = r
			if r.TokenHash != e.hash {
				return r, errs.New(errs.NotFound, "session not found")
			}
			if now.Sub(r.LastSeenAt).Milliseconds() < storeEvery(e.Idle)/2 {
				return r, errFresh
			}
			r.LastSeenAt = now
			return r, nil
		})
	switch {
	case errors.Is(err, errFresh):
		r = seen
	case errs.CodeOf(err) == errs.NotFound:
		s.tombstone(ctx, e.hash)
		return entry{}, invalidToken()
	case err != nil:
		return entry{}, err
	}
	next, err := s.build(ctx, r, now)
	if errors.Is(err, errUserGone) {
		s.end(ctx, r)
		return entry{}, invalidToken()
	}
	if err != nil {
		return entry{}, err
	}
	next.Seen = max(now.UnixMilli(), e.Seen)
	return next, nil
}

// end revokes a session found to belong to a user who is gone or not
// ACTIVE. A failure is logged; the session stays refused all the same.
func (s *service) end(ctx context.Context, r store.Session) {
	err := s.st.Sessions().Delete(context.WithoutCancel(ctx), r.TenantID, r.ID)
	if err != nil && errs.CodeOf(err) != errs.NotFound {
		s.log.LogAttrs(ctx, slog.LevelError, "sessions: ending a disabled user's session failed",
			slog.String("request_id", function.RequestID(ctx)), slog.String("error", err.Error()))
	}
	s.tombstone(ctx, r.TokenHash)
}

// isJWT reports whether s has the shape of a JWS compact serialization:
// three non-empty base64url parts joined by dots. Its signature and
// claims are the issuers service's to check.
func isJWT(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return false
	}
	for _, p := range parts {
		if p == "" || strings.ContainsFunc(p, func(r rune) bool {
			return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' ||
				r == '-' || r == '_')
		}) {
			return false
		}
	}
	return true
}

// serviceCaller is who this function is when it asks the issuers
// function to verify a token.
var serviceCaller = function.Caller{Subject: FunctionName, Roles: []string{function.RoleService}}

// checkAccess validates an access token through the issuers service, for
// the tenant the input names. The issuers service refusing the token (any
// error of its own) makes it invalid; a fault of the service or of the
// way to it is UNAVAILABLE, so that callers try again rather than sign
// people out.
func (s *service) checkAccess(ctx context.Context, in ValidateInput) (ValidateOutput, error) {
	if in.Tenant == "" || s.inv == nil {
		return ValidateOutput{}, invalidToken()
	}
	tn, err := s.tenantOf(ctx, in.Tenant)
	if errs.CodeOf(err) == errs.NotFound {
		return ValidateOutput{}, invalidToken()
	}
	if err != nil {
		return ValidateOutput{}, err
	}
	out, err := invoke.Call[IssuersVerifyOutput](ctx, s.inv, IssuersFunction, OpIssuersVerify,
		serviceCaller, IssuersVerifyInput{Token: in.Token, TenantID: tn.ID})
	if err != nil {
		if c := errs.CodeOf(err); c != errs.Unavailable && c != errs.Internal {
			return ValidateOutput{}, invalidToken()
		}
		s.log.LogAttrs(ctx, slog.LevelError, "sessions: verifying an access token failed",
			slog.String("request_id", function.RequestID(ctx)), slog.String("error", err.Error()))
		return ValidateOutput{}, errs.Wrap(errs.Unavailable, err, "token verification unavailable")
	}
	if out.TenantID != tn.ID || out.Subject == "" || out.ExpiresAt <= s.now().Unix() {
		return ValidateOutput{}, invalidToken()
	}
	amr := slices.Clone(out.AMR)
	if amr == nil {
		amr = []string{}
	}
	return ValidateOutput{
		Active: true, Kind: KindAccessToken, Subject: out.Subject, TenantID: tn.ID,
		ACR: out.ACR, AMR: amr, AuthTime: out.AuthTime, ExpiresAt: out.ExpiresAt,
		AbsoluteExpiresAt: out.ExpiresAt, Roles: []string{}, Orgs: []string{},
		Issuer: out.Issuer,
	}, nil
}

// tenantOf reads a tenant by ID or by name.
func (s *service) tenantOf(ctx context.Context, ref string) (store.Tenant, error) {
	if validate.ID("tenant", ref) == nil {
		return s.st.Tenants().Get(ctx, ref)
	}
	return s.st.Tenants().GetByName(ctx, ref)
}
