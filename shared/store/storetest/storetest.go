// Package storetest is the conformance suite every store backend runs.
//
// A backend's test hands Run a function that opens a fresh, empty store for
// each subtest and registers its cleanup:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) storetest.Env {
//			s := openEmpty(t)
//			t.Cleanup(func() { s.Close() })
//			return storetest.Env{Store: s, Advance: sleep, MinTTL: time.Second}
//		})
//	}
//
// The suite enforces the contracts of package store as written there, and
// pins down the points below, which every backend must share:
//
//   - IDs are the canonical text of a version-7 UUID: 36 characters, lower
//     case, RFC 9562 variant. Anything else (upper case, braces, a urn:
//     prefix, no hyphens, another version, the nil UUID) is
//     ErrInvalidArgument wherever an ID or tenant ID is taken, and writes
//     nothing. An API token's TenantID may also be empty (system scope).
//   - Usernames and emails are folded with strings.ToLower when written and
//     when looked up; tenant names are kept as given. Lookups of an empty
//     username, email, tenant name or token hash are ErrNotFound. Creating
//     a user without a username, a tenant without a name or a token without
//     a hash is ErrInvalidArgument.
//   - Text that is not valid UTF-8 (names, emails, display names, token
//     names, subjects and roles) is ErrInvalidArgument, checked before any
//     folding, which would hide it. So is a user status other than the four
//     of package store, the empty one included.
//   - The caller sets CreatedAt and UpdatedAt; the store keeps them at
//     millisecond precision and returns them, and every other time, in UTC.
//     Version belongs to the store: 1 after Create, one more after each
//     Update, whatever the caller sets.
//   - Update ignores changes fn makes to ID, TenantID, a tenant's Name,
//     CreatedAt and Version; everything else (UpdatedAt included) is taken
//     from fn's result.
//   - Update runs fn outside any lock or transaction, so fn may call the
//     store: the suite does, to play a concurrent writer. When the
//     compare-and-swap loses, Update reads again and calls fn again; under
//     the suite's contention (8 writers) every update must land. If the
//     entity is deleted meanwhile, Update is ErrNotFound and writes nothing.
//   - A failed Create or Update writes nothing, and reserves nothing: a
//     username, email, name or hash it would have taken stays free.
//   - A List page holds at most Limit items in ascending order of the ID
//     strings; next is empty exactly on the last page (a backend reads one
//     item ahead). A cursor names the last ID it returned, so it survives
//     the deletion of that entity. A cursor is bound to its listing: one
//     from another aggregate or another tenant is ErrInvalidArgument. A
//     Limit below zero or above MaxPageSize is ErrInvalidArgument.
//   - A password hash is opaque text to the store: non-empty, valid UTF-8,
//     at most 320 bytes are always accepted, and anything empty, not UTF-8
//     or over 4096 bytes is ErrInvalidArgument. Setting a password needs
//     the user to exist in the tenant; a user created later with the ID
//     of a deleted one (the store allows it) has no password.
//   - A phone is opaque bounded text (at most 64 bytes); text that is not
//     UTF-8 is ErrInvalidArgument.
//   - An API token has expired once the store's clock reaches ExpiresAt
//     (now >= ExpiresAt): GetByHash, List and Delete no longer see it.
//     Creating a token whose ExpiresAt is already past is
//     ErrInvalidArgument.
//   - An audit trail lists newest first (descending ID); an audit event's
//     TargetID is a version-7 UUID like any ID, and At keeps milliseconds
//     and comes back in UTC. A cursor of one trail or filter is
//     ErrInvalidArgument in another.
//
// Subtests run one after another; none calls t.Parallel, so a backend may
// share one server between them.
package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/google/uuid"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
)

// Env is one freshly opened, empty store and the means to move its time.
type Env struct {
	// Store is the backend under test, empty.
	Store store.Store
	// Now reads the clock the store judges token expiry by. Nil means
	// time.Now.
	Now func() time.Time
	// Advance makes d pass for TTL purposes: a backend with an injected
	// clock moves the clock; a real server (Cassandra) sleeps. Required.
	Advance func(t *testing.T, d time.Duration)
	// MinTTL is the shortest TTL the backend honours (1s for Cassandra,
	// whose TTLs are whole seconds). Zero means one second; values under
	// 10ms are raised to 10ms, since stored times keep milliseconds only.
	MinTTL time.Duration
}

// Run runs the whole suite. open is called once per subtest and must return
// a fresh, empty store; it registers the store's cleanup with t.
func Run(t *testing.T, open func(t *testing.T) Env) {
	t.Run("Tenants", func(t *testing.T) { runAll(t, open, tenantTests) })
	t.Run("TenantSettings", func(t *testing.T) { runAll(t, open, settingsTests) })
	t.Run("Users", func(t *testing.T) { runAll(t, open, userTests) })
	t.Run("Organizations", func(t *testing.T) { runAll(t, open, orgTests) })
	t.Run("Credentials", func(t *testing.T) { runAll(t, open, credentialTests) })
	t.Run("APITokens", func(t *testing.T) { runAll(t, open, tokenTests) })
	t.Run("Audit", func(t *testing.T) { runAll(t, open, auditTests) })
	t.Run("Profiles", func(t *testing.T) { runAll(t, open, profileTests) })
	t.Run("Verifications", func(t *testing.T) { runAll(t, open, verificationTests) })
	t.Run("APITokenSubjects", func(t *testing.T) { runAll(t, open, tokenSubjectTests) })
	t.Run("Groups", func(t *testing.T) { runAll(t, open, groupTests) })
	t.Run("SignIns", func(t *testing.T) { runAll(t, open, signInTests) })
	t.Run("Sessions", func(t *testing.T) { runAll(t, open, sessionTests) })
	t.Run("Factors", func(t *testing.T) { runAll(t, open, factorTests) })
	t.Run("TrustedIssuers", func(t *testing.T) { runAll(t, open, issuerTests) })
	t.Run("SigningKeys", func(t *testing.T) { runAll(t, open, signingKeyTests) })
	t.Run("Clients", func(t *testing.T) { runAll(t, open, clientTests) })
	t.Run("RefreshTokens", func(t *testing.T) { runAll(t, open, refreshTests) })
	t.Run("Consents", func(t *testing.T) { runAll(t, open, consentTests) })
	t.Run("Paging", func(t *testing.T) {
		for _, l := range listings {
			t.Run(l.name, func(t *testing.T) {
				for _, pt := range pagingTests {
					t.Run(pt.name, func(t *testing.T) {
						e := begin(t, open)
						pt.run(t, e, l.setup(t, e))
					})
				}
			})
		}
	})
}

// env is an Env with its defaults filled in.
type env struct {
	Env
}

type test struct {
	name string
	run  func(t *testing.T, e *env)
}

func runAll(t *testing.T, open func(t *testing.T) Env, tests []test) {
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, begin(t, open)) })
	}
}

func begin(t *testing.T, open func(t *testing.T) Env) *env {
	t.Helper()
	e := &env{open(t)}
	if e.Store == nil {
		t.Fatal("storetest: open returned an Env without a Store")
	}
	if e.Advance == nil {
		t.Fatal("storetest: open returned an Env without Advance")
	}
	if e.Now == nil {
		e.Now = time.Now
	}
	switch {
	case e.MinTTL == 0:
		e.MinTTL = time.Second
	case e.MinTTL < 10*time.Millisecond:
		e.MinTTL = 10 * time.Millisecond
	}
	return e
}

// opts compare entities: a nil and an empty Roles slice are the same.
var opts = cmp.Options{cmpopts.EquateEmpty()}

// errFn is what fn returns when a test wants Update to fail in fn.
var errFn = errors.New("storetest: fn refused")

func newID() string { return uuid.Must(uuid.NewV7()).String() }

// hashOf returns a token hash derived from s, in the stored format.
func hashOf(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// badIDs are strings that are not well-formed IDs.
func badIDs() []string {
	const v7 = "0190a6e2-5b7c-7d3e-8f4a-1b2c3d4e5f60"
	return []string{
		"",
		"x",
		"not-a-uuid",
		strings.ToUpper(v7),
		"{" + v7 + "}",
		"urn:uuid:" + v7,
		strings.ReplaceAll(v7, "-", ""),
		v7 + " ",
		" " + v7,
		v7[:35],
		v7 + "0",
		"0190a6e2-5b7c-4d3e-8f4a-1b2c3d4e5f60", // version 4
		"0190a6e2-5b7c-7d3e-cf4a-1b2c3d4e5f60", // Microsoft variant
		uuid.Nil.String(),
		"0190a6e2-5b7c-7d3e-8f4a-1b2c3d4e5g60", // g is not hex
	}
}

// someTime is a caller-set timestamp with sub-millisecond digits and a zone
// other than UTC, so that round trips show truncation and normalisation.
var someTime = time.Date(2031, 5, 6, 7, 8, 9, 123456789, time.FixedZone("UTC+1", 3600))

// checkTime fails unless got is want truncated to the millisecond, in UTC.
func checkTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	want = want.Truncate(time.Millisecond)
	if !got.Equal(want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
	if got.Location() != time.UTC {
		t.Errorf("%s is in %v, want UTC", what, got.Location())
	}
}

// wantErr fails unless errors.Is(err, target).
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: got error %v, want %v", what, err, target)
	}
}

// mustOK fails the test now on an error.
func mustOK(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// race runs f(0..n-1) in n goroutines released together and returns their
// errors by index.
func race(n int, f func(i int) error) []error {
	errsOut := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errsOut[i] = f(i)
		})
	}
	close(start)
	wg.Wait()
	return errsOut
}

// oneWinner checks that exactly one of errs is nil and all others are
// ErrConflict, and returns the winner's index.
func oneWinner(t *testing.T, what string, errsIn []error) int {
	t.Helper()
	winner := -1
	for i, err := range errsIn {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("%s: goroutines %d and %d both succeeded", what, winner, i)
		case err == nil:
			winner = i
		default:
			wantErr(t, what, err, errs.ErrConflict)
		}
	}
	if winner < 0 {
		t.Fatalf("%s: no goroutine succeeded", what)
	}
	return winner
}

func mustTenant(t *testing.T, e *env, name string) store.Tenant {
	t.Helper()
	tn, err := e.Store.Tenants().Create(t.Context(), store.Tenant{
		ID: newID(), Name: name, DisplayName: "Tenant " + name,
		CreatedAt: someTime, UpdatedAt: someTime,
	})
	mustOK(t, "create tenant "+name, err)
	return tn
}

func newUser(tenantID, username, email string) store.User {
	return store.User{
		ID: newID(), TenantID: tenantID, Username: username, Email: email,
		DisplayName: "User " + username, Status: store.UserActive,
		CreatedAt: someTime, UpdatedAt: someTime,
	}
}

func mustUser(t *testing.T, e *env, tenantID, username, email string) store.User {
	t.Helper()
	u, err := e.Store.Users().Create(t.Context(), newUser(tenantID, username, email))
	mustOK(t, "create user "+username, err)
	return u
}

func newToken(tenantID string, expiresAt time.Time) store.APIToken {
	id := newID()
	return store.APIToken{
		ID: id, Hash: hashOf(id), Name: "token " + id[len(id)-4:],
		Subject: "apitoken:" + id, TenantID: tenantID, Roles: []string{"reader", "writer"},
		Orgs:      []string{"org-1", "org-2"},
		CreatedAt: someTime, ExpiresAt: expiresAt,
	}
}

func mustToken(t *testing.T, e *env, tenantID string, expiresAt time.Time) store.APIToken {
	t.Helper()
	tok, err := e.Store.APITokens().Create(t.Context(), newToken(tenantID, expiresAt))
	mustOK(t, "create token", err)
	return tok
}

// ctx is a short name for the test's context.
func ctx(t *testing.T) context.Context { return t.Context() }
