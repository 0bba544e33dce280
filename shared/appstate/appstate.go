// Package appstate is the application state service: small key/value
// data that an application keeps for one signed-in session, in the cache,
// living as long as the session does.
//
// # Who reaches what
//
// A session caller (function.Caller with Session set: a session token at
// the facade or at this function's HTTP API) reads and writes its own
// session's state, and nothing else; naming another session is NOT_FOUND.
// A service caller (function.RoleService) names the tenant and session it
// acts on, which must be live in the store. Anyone else (API tokens,
// administrators without a session) is PERMISSION_DENIED. Access tokens
// of trusted issuers carry no session, so they reach no state.
//
// # Layout and quotas
//
// State is scoped by tenant, session and application (a slug, like a
// tenant's name). Each application's state in a session is one cache
// entry, "as:<tenant>:<session>:a:<app>", holding its keys and their
// values (JSON, kept compact); the list of the session's applications is
// "as:<tenant>:<session>:apps". Bounds: a value is at most MaxValueBytes,
// an application holds at most MaxKeysPerApp keys and MaxBytesPerApp
// bytes (names and values), a session at most MaxAppsPerSession
// applications. A write over a bound is PAYLOAD_TOO_LARGE and writes
// nothing.
//
// Writes of one session (set, delete, clear) take a lock,
// "as:<tenant>:<session>:lock" (SetNX, 5 s), read the entries, check the
// bounds on the result and write it whole; a writer that cannot take the
// lock within about a second is told UNAVAILABLE, to try again. Since
// each write stores a complete, checked state, concurrent writers never
// pass a quota, not even by one value. Reads take no lock: an entry is
// replaced at once, so a read sees the state before a write or after it.
//
// # Lifetime
//
// Every entry's TTL ends at the session's absolute expiry
// (Caller.SessionExpires, or the store's record for a service caller), so
// state never outlives its session. A revoked session's state is
// unreachable at once: its token no longer authenticates, and no other
// session can name it. It is not deleted at revocation: the sessions
// service does not call this one, which keeps revocation a store write
// and a cache write; the state stays in the cache, unreachable, until the
// session's absolute expiry. OpClear deletes it sooner, for a sign-out or
// a service that wants it gone.
//
// Known shortcomings:
//   - A writer that stalls for longer than the lock's 5 seconds may
//     overlap the next one; one of the two writes is then lost (the
//     quotas still hold, since each write is checked whole), and an
//     application added by the lost write may be missing from the
//     session's list, so that OpClear leaves its entry to expire.
//   - The cache may evict entries under memory pressure (see package
//     cache/memory; Redis with a maxmemory policy other than noeviction):
//     state is then lost, never counted short, since an application's keys
//     and values are one entry.
//   - Every write rewrites the application's whole entry, up to
//     MaxBytesPerApp: fine for the small state this is meant for.
package appstate

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"math/rand/v2"
	"regexp"
	"slices"
	"sort"
	"time"

	"github.com/wardhq/ward/shared/cache"
	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/validate"
)

// Deps are what the service needs.
type Deps struct {
	Cache cache.Cache
	// Store reads the sessions that service callers name.
	Store store.Store
	// Invoker reaches the sessions function, which validates the session
	// tokens of the HTTP API.
	Invoker invoke.Invoker
	Now     func() time.Time // nil: time.Now
	Log     *slog.Logger     // nil: slog.Default()
}

type service struct {
	cache cache.Cache
	st    store.Store
	inv   invoke.Invoker
	now   func() time.Time
	log   *slog.Logger
}

// Function returns the application state function: its operations, and
// the HTTP API under /appstate/ (see http.go).
func Function(d Deps) *function.Function {
	s := &service{cache: d.Cache, st: d.Store, inv: d.Invoker, now: d.Now, log: d.Log}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	f := function.New(FunctionName)
	function.Op(f, OpGet, s.get)
	function.Op(f, OpList, s.list)
	function.Op(f, OpSet, s.set)
	function.Op(f, OpDelete, s.delete)
	function.Op(f, OpClear, s.clear)
	f.Routes = s.routes()
	f.Patterns = []string{"/" + FunctionName + "/"}
	return f
}

// keyRE is a key name: URL-safe, so that the HTTP API's paths need no
// escaping.
var keyRE = regexp.MustCompile(`^[A-Za-z0-9._~:-]{1,128}$`)

func checkApp(app string) error { return validate.Slug("app", app) }

func checkKey(key string) error {
	if !keyRE.MatchString(key) {
		return errs.Invalid("key", "must be 1 to %d letters, digits or . _ ~ : -", MaxKeyBytes)
	}
	return nil
}

// checkSession checks the IDs a caller named, when it named any.
func (in Session) check() error {
	if in.TenantID != "" {
		if err := validate.ID("tenantId", in.TenantID); err != nil {
			return err
		}
	}
	if in.SessionID != "" {
		return validate.ID("sessionId", in.SessionID)
	}
	return nil
}

func (in *GetInput) Validate() error {
	if err := in.Session.check(); err != nil {
		return err
	}
	if err := checkApp(in.App); err != nil {
		return err
	}
	return checkKey(in.Key)
}

func (in *ListInput) Validate() error {
	if err := in.Session.check(); err != nil {
		return err
	}
	return checkApp(in.App)
}

func (in *DeleteInput) Validate() error {
	if err := in.Session.check(); err != nil {
		return err
	}
	if err := checkApp(in.App); err != nil {
		return err
	}
	return checkKey(in.Key)
}

func (in *ClearInput) Validate() error { return in.Session.check() }

// Validate checks the value and puts it in compact form, the form its
// size is counted in.
func (in *SetInput) Validate() error {
	if err := in.Session.check(); err != nil {
		return err
	}
	if err := checkApp(in.App); err != nil {
		return err
	}
	if err := checkKey(in.Key); err != nil {
		return err
	}
	v, err := compactValue(in.Value)
	if err != nil {
		return err
	}
	in.Value = v
	return nil
}

// compactValue checks a value: JSON, not null, at most MaxValueBytes
// once compact.
func compactValue(raw []byte) (json.RawMessage, error) {
	var buf bytes.Buffer
	if len(bytes.TrimSpace(raw)) == 0 || json.Compact(&buf, raw) != nil {
		return nil, errs.Invalid("value", "must be a JSON value")
	}
	if buf.String() == "null" {
		return nil, errs.Invalid("value", "must not be null: delete the key instead")
	}
	if buf.Len() > MaxValueBytes {
		return nil, &errs.Error{Code: errs.TooLarge, Field: "value",
			Message: "a value is at most 16384 bytes of compact JSON"}
	}
	return buf.Bytes(), nil
}

// scope is the session whose state an operation reaches.
type scope struct {
	tenant, session string
	expires         time.Time
}

func (sc scope) prefix() string         { return "as:" + sc.tenant + ":" + sc.session + ":" }
func (sc scope) appKey(a string) string { return sc.prefix() + "a:" + a }
func (sc scope) appsKey() string        { return sc.prefix() + "apps" }
func (sc scope) lockKey() string        { return sc.prefix() + "lock" }

func sessionNotFound() error { return errs.New(errs.NotFound, "session not found") }

// scopeOf decides whose state the caller reaches; see the package
// comment.
func (s *service) scopeOf(ctx context.Context, c function.Caller, in Session) (scope, error) {
	if s.cache == nil {
		return scope{}, errs.New(errs.Unavailable, "application state needs a cache")
	}
	now := s.now()
	switch {
	case c.Session != "" && !c.Has(function.RoleService):
		if c.Tenant == "" || (in.TenantID != "" && in.TenantID != c.Tenant) ||
			(in.SessionID != "" && in.SessionID != c.Session) {
			return scope{}, sessionNotFound()
		}
		exp := time.Unix(c.SessionExpires, 0)
		if c.SessionExpires == 0 || !now.Before(exp) {
			return scope{}, errs.New(errs.Unauthenticated, "the session has ended")
		}
		return scope{tenant: c.Tenant, session: c.Session, expires: exp}, nil
	case c.Has(function.RoleService):
		if in.TenantID == "" || in.SessionID == "" {
			return scope{}, errs.Invalid("sessionId", "a service names the tenant and session")
		}
		r, err := s.st.Sessions().Get(ctx, in.TenantID, in.SessionID)
		if errs.CodeOf(err) == errs.NotFound {
			return scope{}, sessionNotFound()
		}
		if err != nil {
			return scope{}, err
		}
		return scope{tenant: r.TenantID, session: r.ID, expires: r.ExpiresAt}, nil
	case c.Anonymous():
		return scope{}, errs.New(errs.Unauthenticated, "authentication required")
	}
	return scope{}, errs.New(errs.PermissionDenied,
		"application state belongs to sessions: sign in with a session")
}

// appState is one application's state in a session, as its entry holds
// it.
type appState struct {
	V    int                        `json:"v"`
	Keys map[string]json.RawMessage `json:"k"`
}

const stateVersion = 1

func (a appState) bytes() int {
	n := 0
	for k, v := range a.Keys {
		n += len(k) + len(v)
	}
	return n
}

func (a appState) list() ListOutput {
	out := ListOutput{Keys: make([]KeyInfo, 0, len(a.Keys)), Bytes: a.bytes()}
	for k, v := range a.Keys {
		out.Keys = append(out.Keys, KeyInfo{Key: k, Size: len(v)})
	}
	sort.Slice(out.Keys, func(i, j int) bool { return out.Keys[i].Key < out.Keys[j].Key })
	return out
}

// read returns an application's state; a missing entry is empty state.
func (s *service) read(ctx context.Context, sc scope, app string) (appState, error) {
	st := appState{V: stateVersion, Keys: map[string]json.RawMessage{}}
	b, err := s.cache.Get(ctx, sc.appKey(app))
	switch {
	case errs.CodeOf(err) == errs.NotFound:
		return st, nil
	case err != nil:
		return st, errs.Wrap(errs.Unavailable, err, "application state unavailable")
	}
	if err := json.Unmarshal(b, &st); err != nil || st.V != stateVersion {
		return appState{}, errs.Wrap(errs.Unavailable, err, "application state unreadable")
	}
	if st.Keys == nil {
		st.Keys = map[string]json.RawMessage{}
	}
	return st, nil
}

// readApps returns the session's applications.
func (s *service) readApps(ctx context.Context, sc scope) ([]string, error) {
	b, err := s.cache.Get(ctx, sc.appsKey())
	switch {
	case errs.CodeOf(err) == errs.NotFound:
		return nil, nil
	case err != nil:
		return nil, errs.Wrap(errs.Unavailable, err, "application state unavailable")
	}
	var apps []string
	if err := json.Unmarshal(b, &apps); err != nil {
		return nil, errs.Wrap(errs.Unavailable, err, "application state unreadable")
	}
	return apps, nil
}

// ttl is what is left of the session; an ended session writes nothing.
func (s *service) ttl(sc scope) (time.Duration, error) {
	d := sc.expires.Sub(s.now())
	if d <= 0 {
		return 0, errs.New(errs.Unauthenticated, "the session has ended")
	}
	return d, nil
}

func (s *service) write(ctx context.Context, key string, v any, ttl time.Duration) error {
	b, err := json.Marshal(v)
	if err != nil {
		return errs.Wrap(errs.Internal, err, "internal error")
	}
	if err := s.cache.Set(ctx, key, b, ttl); err != nil {
		return errs.Wrap(errs.Unavailable, err, "application state unavailable")
	}
	return nil
}

// Locking; see the package comment.
const (
	lockTTL      = 5 * time.Second
	lockAttempts = 25
)

// lock takes the session's write lock, waiting a little when another
// writer holds it, and returns its release.
func (s *service) lock(ctx context.Context, sc scope) (func(), error) {
	var b [16]byte
	crand.Read(b[:])
	token := []byte(hex.EncodeToString(b[:]))
	for attempt := range lockAttempts {
		ok, err := s.cache.SetNX(ctx, sc.lockKey(), token, lockTTL)
		if err != nil {
			return nil, errs.Wrap(errs.Unavailable, err, "application state unavailable")
		}
		if ok {
			return func() { s.unlock(ctx, sc, token) }, nil
		}
		wait := time.Duration(5+min(attempt, 10)*5)*time.Millisecond +
			rand.N(5*time.Millisecond)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, errs.Wrap(errs.Unavailable, ctx.Err(), "request ended")
		case <-t.C:
		}
	}
	return nil, errs.New(errs.Unavailable,
		"the session's application state is busy; try again")
}

// unlock releases the lock if it is still this writer's. Taking the
// value and deleting it is one step (GetDel); a lock found to be another
// writer's (this one's expired meanwhile) is put back for it.
func (s *service) unlock(ctx context.Context, sc scope, token []byte) {
	ctx = context.WithoutCancel(ctx)
	v, err := s.cache.GetDel(ctx, sc.lockKey())
	switch {
	case errs.CodeOf(err) == errs.NotFound:
		return
	case err != nil:
		s.log.LogAttrs(ctx, slog.LevelWarn, "appstate: releasing a lock failed; it expires",
			slog.String("request_id", function.RequestID(ctx)), slog.String("error", err.Error()))
		return
	case !bytes.Equal(v, token):
		_, _ = s.cache.SetNX(ctx, sc.lockKey(), v, lockTTL)
	}
}

func (s *service) get(ctx context.Context, c function.Caller, in GetInput) (GetOutput, error) {
	sc, err := s.scopeOf(ctx, c, in.Session)
	if err != nil {
		return GetOutput{}, err
	}
	st, err := s.read(ctx, sc, in.App)
	if err != nil {
		return GetOutput{}, err
	}
	v, ok := st.Keys[in.Key]
	if !ok {
		return GetOutput{}, errs.New(errs.NotFound, "key not found")
	}
	return GetOutput{Key: in.Key, Value: v}, nil
}

func (s *service) list(ctx context.Context, c function.Caller, in ListInput) (ListOutput, error) {
	sc, err := s.scopeOf(ctx, c, in.Session)
	if err != nil {
		return ListOutput{}, err
	}
	st, err := s.read(ctx, sc, in.App)
	if err != nil {
		return ListOutput{}, err
	}
	return st.list(), nil
}

func tooLarge(field, msg string) error {
	return &errs.Error{Code: errs.TooLarge, Field: field, Message: msg}
}

func (s *service) set(ctx context.Context, c function.Caller, in SetInput) (SetOutput, error) {
	sc, err := s.scopeOf(ctx, c, in.Session)
	if err != nil {
		return SetOutput{}, err
	}
	unlock, err := s.lock(ctx, sc)
	if err != nil {
		return SetOutput{}, err
	}
	defer unlock()

	apps, err := s.readApps(ctx, sc)
	if err != nil {
		return SetOutput{}, err
	}
	newApp := !slices.Contains(apps, in.App)
	if newApp && len(apps) >= MaxAppsPerSession {
		return SetOutput{}, tooLarge("app", "a session keeps state for at most 8 applications")
	}
	st, err := s.read(ctx, sc, in.App)
	if err != nil {
		return SetOutput{}, err
	}
	st.Keys[in.Key] = in.Value
	if len(st.Keys) > MaxKeysPerApp {
		return SetOutput{}, tooLarge("key", "an application keeps at most 64 keys in a session")
	}
	if st.bytes() > MaxBytesPerApp {
		return SetOutput{}, tooLarge("value",
			"an application keeps at most 262144 bytes in a session")
	}

	ttl, err := s.ttl(sc)
	if err != nil {
		return SetOutput{}, err
	}
	if newApp {
		if err := s.write(ctx, sc.appsKey(), append(apps, in.App), ttl); err != nil {
			return SetOutput{}, err
		}
	}
	if err := s.write(ctx, sc.appKey(in.App), st, ttl); err != nil {
		return SetOutput{}, err
	}
	return SetOutput{Key: in.Key, Size: len(in.Value), Keys: len(st.Keys), Bytes: st.bytes()}, nil
}

func (s *service) delete(ctx context.Context, c function.Caller, in DeleteInput) (DeleteOutput,
	error) {
	sc, err := s.scopeOf(ctx, c, in.Session)
	if err != nil {
		return DeleteOutput{}, err
	}
	unlock, err := s.lock(ctx, sc)
	if err != nil {
		return DeleteOutput{}, err
	}
	defer unlock()

	st, err := s.read(ctx, sc, in.App)
	if err != nil {
		return DeleteOutput{}, err
	}
	if _, ok := st.Keys[in.Key]; !ok {
		return DeleteOutput{}, errs.New(errs.NotFound, "key not found")
	}
	delete(st.Keys, in.Key)
	if len(st.Keys) == 0 {
		if err := s.cache.Delete(ctx, sc.appKey(in.App)); err != nil {
			return DeleteOutput{}, errs.Wrap(errs.Unavailable, err, "application state unavailable")
		}
		return DeleteOutput{Key: in.Key}, nil
	}
	ttl, err := s.ttl(sc)
	if err != nil {
		return DeleteOutput{}, err
	}
	if err := s.write(ctx, sc.appKey(in.App), st, ttl); err != nil {
		return DeleteOutput{}, err
	}
	return DeleteOutput{Key: in.Key}, nil
}

func (s *service) clear(ctx context.Context, c function.Caller, in ClearInput) (ClearOutput,
	error) {
	sc, err := s.scopeOf(ctx, c, in.Session)
	if err != nil {
		return ClearOutput{}, err
	}
	unlock, err := s.lock(ctx, sc)
	if err != nil {
		return ClearOutput{}, err
	}
	defer unlock()

	apps, err := s.readApps(ctx, sc)
	if err != nil {
		return ClearOutput{}, err
	}
	for _, app := range apps {
		if err := s.cache.Delete(ctx, sc.appKey(app)); err != nil {
			return ClearOutput{}, errs.Wrap(errs.Unavailable, err, "application state unavailable")
		}
	}
	if err := s.cache.Delete(ctx, sc.appsKey()); err != nil {
		return ClearOutput{}, errs.Wrap(errs.Unavailable, err, "application state unavailable")
	}
	return ClearOutput{Apps: len(apps)}, nil
}
