package storetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
)

// Sessions. Beyond package store's contract, every backend shares these:
// a session is gone once the store's clock reaches LastSeenAt +
// IdleTimeout or ExpiresAt; times and IdleTimeout keep milliseconds and
// come back in UTC; the bounds are store.CheckSession's.
var sessionTests = []test{
	{"a created session reads back the same by ID and by hash", sessCreateGet},
	{"update changes acr, amr, auth time and last use only", sessUpdate},
	{"an error from fn or a change out of bounds writes nothing", sessUpdateRefused},
	{"concurrent updates all land", sessUpdateRace},
	{"a session is gone once its absolute expiry is reached", sessAbsoluteExpiry},
	{"a session is gone once idle for its idle timeout, unless seen", sessIdleExpiry},
	{"a taken ID or hash is a conflict and writes nothing", sessConflict},
	{"malformed sessions are invalid arguments and write nothing", sessBadInput},
	{"a user's sessions are listed in pages of their own", sessList},
	{"delete by user removes one user's sessions and returns them", sessDeleteByUser},
	{"a session of another tenant is not found by any method", sessIsolation},
	{"malformed IDs are invalid arguments", sessBadIDs},
}

func newSession(e *env, tenantID, userID string) store.Session {
	id := newID()
	now := e.Now().In(someTime.Location())
	return store.Session{
		ID: id, TenantID: tenantID, UserID: userID, TokenHash: hashOf("session " + id),
		ACR: store.ACRPassword, AMR: []string{"pwd"}, AuthTime: now.Add(-time.Second),
		CreatedAt: now, LastSeenAt: now, IdleTimeout: 30*time.Minute + 123456*time.Nanosecond,
		ExpiresAt: now.Add(12*time.Hour + 123456789*time.Nanosecond),
		IP:        "2001:db8::1", UserAgent: "Mozilla/5.0 (X11; Linux x86_64)", DeviceID: "dev-1",
	}
}

func mustSession(t *testing.T, e *env, s store.Session) store.Session {
	t.Helper()
	got, err := e.Store.Sessions().Create(ctx(t), s)
	mustOK(t, "create session", err)
	return got
}

// storedSession is what a session reads back as after Create.
func storedSession(s store.Session) store.Session {
	ms := func(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }
	s.AuthTime, s.CreatedAt, s.LastSeenAt = ms(s.AuthTime), ms(s.CreatedAt), ms(s.LastSeenAt)
	s.ExpiresAt = ms(s.ExpiresAt)
	s.IdleTimeout = s.IdleTimeout.Truncate(time.Millisecond)
	s.Version = 1
	return s
}

func sessCreateGet(t *testing.T, e *env) {
	ss := e.Store.Sessions()
	tn := mustTenant(t, e, "acme")
	in := newSession(e, tn.ID, newID())
	in.Version = 42 // the store's to set

	got, err := ss.Create(ctx(t), in)
	mustOK(t, "create", err)
	want := storedSession(in)
	if diff := cmp.Diff(want, got, opts); diff != "" {
		t.Errorf("create returned (-want +got):\n%s", diff)
	}
	checkTime(t, "ExpiresAt", got.ExpiresAt, in.ExpiresAt)
	checkTime(t, "AuthTime", got.AuthTime, in.AuthTime)
	if got.IdleTimeout != 30*time.Minute {
		t.Errorf("IdleTimeout = %v, want 30m (cut to the millisecond)", got.IdleTimeout)
	}

	read, err := ss.Get(ctx(t), tn.ID, in.ID)
	mustOK(t, "get", err)
	if diff := cmp.Diff(want, read, opts); diff != "" {
		t.Errorf("get (-want +got):\n%s", diff)
	}
	checkTime(t, "LastSeenAt after get", read.LastSeenAt, in.LastSeenAt)
	byHash, err := ss.GetByHash(ctx(t), in.TokenHash)
	mustOK(t, "get by hash", err)
	if diff := cmp.Diff(want, byHash, opts); diff != "" {
		t.Errorf("get by hash (-want +got):\n%s", diff)
	}

	// The optional client details may be empty, and AMR too.
	bare := newSession(e, tn.ID, newID())
	bare.IP, bare.UserAgent, bare.DeviceID, bare.AMR = "", "", "", nil
	mustSession(t, e, bare)
	read, err = ss.Get(ctx(t), tn.ID, bare.ID)
	mustOK(t, "get a bare session", err)
	if diff := cmp.Diff(storedSession(bare), read, opts); diff != "" {
		t.Errorf("bare session (-want +got):\n%s", diff)
	}
}

func sessUpdate(t *testing.T, e *env) {
	ss := e.Store.Sessions()
	tn := mustTenant(t, e, "acme")
	created := mustSession(t, e, newSession(e, tn.ID, newID()))
	seen := e.Now().Add(time.Minute)
	auth := e.Now().Add(30 * time.Second)

	got, err := ss.Update(ctx(t), tn.ID, created.ID, func(old store.Session) (store.Session,
		error) {
		if diff := cmp.Diff(created, old, opts); diff != "" {
			t.Errorf("fn was given (-want +got):\n%s", diff)
		}
		old.ACR, old.AMR, old.AuthTime, old.LastSeenAt = store.ACRMultiFactor,
			[]string{"pwd", "otp", "mfa"}, auth, seen
		// Fields that are not fn's to change.
		old.ID, old.TenantID, old.UserID, old.TokenHash = newID(), newID(), newID(), hashOf("x")
		old.CreatedAt, old.ExpiresAt = someTime, someTime.Add(time.Hour)
		old.IdleTimeout, old.IP, old.UserAgent, old.DeviceID = time.Hour, "10.0.0.1", "x", "y"
		old.Version = 99
		return old, nil
	})
	mustOK(t, "update", err)
	want := created
	want.ACR, want.AMR = store.ACRMultiFactor, []string{"pwd", "otp", "mfa"}
	want.AuthTime = auth.UTC().Truncate(time.Millisecond)
	want.LastSeenAt = seen.UTC().Truncate(time.Millisecond)
	want.Version = 2
	if diff := cmp.Diff(want, got, opts); diff != "" {
		t.Errorf("update returned (-want +got):\n%s", diff)
	}
	checkTime(t, "LastSeenAt", got.LastSeenAt, seen)
	read, err := ss.GetByHash(ctx(t), created.TokenHash)
	mustOK(t, "get by the unchanged hash", err)
	if diff := cmp.Diff(want, read, opts); diff != "" {
		t.Errorf("get after update (-want +got):\n%s", diff)
	}
}

func sessUpdateRefused(t *testing.T, e *env) {
	ss := e.Store.Sessions()
	tn := mustTenant(t, e, "acme")
	created := mustSession(t, e, newSession(e, tn.ID, newID()))

	_, err := ss.Update(ctx(t), tn.ID, created.ID, func(old store.Session) (store.Session,
		error) {
		old.ACR = store.ACRMultiFactor
		return old, errFn
	})
	if !errors.Is(err, errFn) {
		t.Errorf("update: got %v, want fn's error", err)
	}
	bad := []func(*store.Session){
		func(s *store.Session) { s.ACR = "" },
		func(s *store.Session) { s.ACR = strings.Repeat("a", store.MaxSessionACRBytes+1) },
		func(s *store.Session) { s.ACR = notUTF8 },
		func(s *store.Session) { s.AMR = slices.Repeat([]string{"otp"}, store.MaxSessionAMR+1) },
		func(s *store.Session) { s.AMR = []string{""} },
		func(s *store.Session) { s.AuthTime = time.Time{} },
		func(s *store.Session) { s.LastSeenAt = time.Time{} },
	}
	for i, set := range bad {
		_, err := ss.Update(ctx(t), tn.ID, created.ID, func(old store.Session) (store.Session,
			error) {
			set(&old)
			return old, nil
		})
		wantErr(t, fmt.Sprintf("update out of bounds (%d)", i), err, errs.ErrInvalidArgument)
	}
	read, err := ss.Get(ctx(t), tn.ID, created.ID)
	mustOK(t, "get", err)
	if diff := cmp.Diff(created, read, opts); diff != "" {
		t.Errorf("session after refused updates (-want +got):\n%s", diff)
	}
}

func sessUpdateRace(t *testing.T, e *env) {
	ss := e.Store.Sessions()
	tn := mustTenant(t, e, "acme")
	created := mustSession(t, e, newSession(e, tn.ID, newID()))

	const n = 8
	results := race(n, func(i int) error {
		_, err := ss.Update(ctx(t), tn.ID, created.ID, func(old store.Session) (store.Session,
			error) {
			old.AMR = append(old.AMR, fmt.Sprint("m", i))
			return old, nil
		})
		return err
	})
	for i, err := range results {
		mustOK(t, fmt.Sprintf("update %d", i), err)
	}
	read, err := ss.Get(ctx(t), tn.ID, created.ID)
	mustOK(t, "get", err)
	if len(read.AMR) != n+1 || read.Version != n+1 {
		t.Errorf("after %d concurrent updates: AMR %v, version %d", n, read.AMR, read.Version)
	}
	for i := range n {
		if !slices.Contains(read.AMR, fmt.Sprint("m", i)) {
			t.Errorf("update %d was lost: AMR %v", i, read.AMR)
		}
	}
}

// checkGone fails unless the session is gone for every method.
func checkGone(t *testing.T, e *env, s store.Session, when string) {
	t.Helper()
	ss := e.Store.Sessions()
	_, err := ss.Get(ctx(t), s.TenantID, s.ID)
	wantErr(t, "get "+when, err, errs.ErrNotFound)
	_, err = ss.GetByHash(ctx(t), s.TokenHash)
	wantErr(t, "get by hash "+when, err, errs.ErrNotFound)
	items, _, err := ss.ListByUser(ctx(t), s.TenantID, s.UserID, store.Page{})
	mustOK(t, "list "+when, err)
	for _, it := range items {
		if it.ID == s.ID {
			t.Errorf("list %s shows the session", when)
		}
	}
	called := false
	_, err = ss.Update(ctx(t), s.TenantID, s.ID, func(old store.Session) (store.Session,
		error) {
		called = true
		return old, nil
	})
	wantErr(t, "update "+when, err, errs.ErrNotFound)
	if called {
		t.Errorf("update %s called fn", when)
	}
	wantErr(t, "delete "+when, ss.Delete(ctx(t), s.TenantID, s.ID), errs.ErrNotFound)
}

func sessAbsoluteExpiry(t *testing.T, e *env) {
	ss := e.Store.Sessions()
	tn := mustTenant(t, e, "acme")
	user := newID()
	in := newSession(e, tn.ID, user)
	in.ExpiresAt = e.Now().Add(e.MinTTL)
	short := mustSession(t, e, in)
	long := mustSession(t, e, newSession(e, tn.ID, user))

	e.Advance(t, e.MinTTL/2)
	_, err := ss.GetByHash(ctx(t), short.TokenHash)
	mustOK(t, "get by hash before expiry", err)
	_, err = ss.Update(ctx(t), tn.ID, short.ID, func(s store.Session) (store.Session, error) {
		s.LastSeenAt = e.Now()
		return s, nil
	})
	mustOK(t, "update before expiry", err)

	// Now the store's clock is at or past the short session's ExpiresAt;
	// being seen does not extend the absolute expiry.
	e.Advance(t, e.MinTTL-e.MinTTL/2)
	checkGone(t, e, short, "after the absolute expiry")
	got, err := ss.Get(ctx(t), tn.ID, long.ID)
	mustOK(t, "get a session that has not expired", err)
	if diff := cmp.Diff(long, got, opts); diff != "" {
		t.Errorf("session that has not expired (-want +got):\n%s", diff)
	}

	// The gone session freed its hash.
	again := newSession(e, tn.ID, user)
	again.TokenHash = short.TokenHash
	mustSession(t, e, again)
	byHash, err := ss.GetByHash(ctx(t), short.TokenHash)
	mustOK(t, "get the new session by the reused hash", err)
	if byHash.ID != again.ID {
		t.Errorf("the reused hash finds session %s, want %s", byHash.ID, again.ID)
	}
}

func sessIdleExpiry(t *testing.T, e *env) {
	ss := e.Store.Sessions()
	tn := mustTenant(t, e, "acme")
	user := newID()
	in := newSession(e, tn.ID, user)
	in.IdleTimeout = e.MinTTL
	seen := mustSession(t, e, in)
	in = newSession(e, tn.ID, user)
	in.IdleTimeout = e.MinTTL
	idle := mustSession(t, e, in)

	// One session is seen half-way; the other is not.
	e.Advance(t, e.MinTTL/2)
	_, err := ss.Update(ctx(t), tn.ID, seen.ID, func(s store.Session) (store.Session, error) {
		s.LastSeenAt = e.Now()
		return s, nil
	})
	mustOK(t, "update the last use", err)

	e.Advance(t, e.MinTTL-e.MinTTL/2)
	checkGone(t, e, idle, "after the idle timeout")
	got, err := ss.GetByHash(ctx(t), seen.TokenHash)
	mustOK(t, "get the session seen meanwhile", err)
	if got.ID != seen.ID {
		t.Errorf("got session %s, want %s", got.ID, seen.ID)
	}

	e.Advance(t, e.MinTTL)
	checkGone(t, e, seen, "after the idle timeout from its last use")
}

func sessConflict(t *testing.T, e *env) {
	ss := e.Store.Sessions()
	a := mustTenant(t, e, "acme")
	b := mustTenant(t, e, "globex")
	first := mustSession(t, e, newSession(e, a.ID, newID()))

	sameID := newSession(e, a.ID, newID())
	sameID.ID = first.ID
	_, err := ss.Create(ctx(t), sameID)
	wantErr(t, "create with a taken ID", err, errs.ErrConflict)
	_, err = ss.GetByHash(ctx(t), sameID.TokenHash)
	wantErr(t, "get by the hash of a refused create", err, errs.ErrNotFound)

	// Token hashes are unique across tenants.
	sameHash := newSession(e, b.ID, newID())
	sameHash.TokenHash = first.TokenHash
	_, err = ss.Create(ctx(t), sameHash)
	wantErr(t, "create with a taken hash", err, errs.ErrConflict)
	_, err = ss.Get(ctx(t), b.ID, sameHash.ID)
	wantErr(t, "get the session of a refused create", err, errs.ErrNotFound)
	items, _, err := ss.ListByUser(ctx(t), b.ID, sameHash.UserID, store.Page{})
	mustOK(t, "list the user of a refused create", err)
	if len(items) != 0 {
		t.Errorf("a refused create left %d sessions listed", len(items))
	}

	read, err := ss.GetByHash(ctx(t), first.TokenHash)
	mustOK(t, "get by hash", err)
	if diff := cmp.Diff(first, read, opts); diff != "" {
		t.Errorf("session after conflicting creates (-want +got):\n%s", diff)
	}
}

func sessBadInput(t *testing.T, e *env) {
	ss := e.Store.Sessions()
	tn := mustTenant(t, e, "acme")
	user := newID()
	cases := []struct {
		name string
		set  func(s *store.Session)
	}{
		{"no token hash", func(s *store.Session) { s.TokenHash = "" }},
		{"a token hash that is not hex SHA-256", func(s *store.Session) { s.TokenHash = "abc" }},
		{"an upper-case token hash", func(s *store.Session) {
			s.TokenHash = strings.ToUpper(s.TokenHash)
		}},
		{"no acr", func(s *store.Session) { s.ACR = "" }},
		{"an acr over the bound", func(s *store.Session) {
			s.ACR = strings.Repeat("a", store.MaxSessionACRBytes+1)
		}},
		{"too many methods", func(s *store.Session) {
			s.AMR = slices.Repeat([]string{"otp"}, store.MaxSessionAMR+1)
		}},
		{"a method over the bound", func(s *store.Session) {
			s.AMR = []string{strings.Repeat("m", store.MaxSessionAMRBytes+1)}
		}},
		{"an empty method", func(s *store.Session) { s.AMR = []string{"pwd", ""} }},
		{"no auth time", func(s *store.Session) { s.AuthTime = time.Time{} }},
		{"no creation time", func(s *store.Session) { s.CreatedAt = time.Time{} }},
		{"no last use", func(s *store.Session) { s.LastSeenAt = time.Time{} }},
		{"no idle timeout", func(s *store.Session) { s.IdleTimeout = 0 }},
		{"a negative idle timeout", func(s *store.Session) { s.IdleTimeout = -time.Minute }},
		{"an idle timeout over the bound", func(s *store.Session) {
			s.IdleTimeout = store.MaxSessionLifetime + time.Second
		}},
		{"an expiry at creation", func(s *store.Session) { s.ExpiresAt = s.CreatedAt }},
		{"a life over the bound", func(s *store.Session) {
			s.ExpiresAt = s.CreatedAt.Add(store.MaxSessionLifetime + time.Second)
		}},
		{"an expiry already past", func(s *store.Session) {
			s.CreatedAt = e.Now().Add(-2 * time.Hour)
			s.ExpiresAt = e.Now().Add(-time.Hour)
		}},
		{"an expiry too far from now", func(s *store.Session) {
			s.CreatedAt = e.Now().Add(40 * 24 * time.Hour)
			s.ExpiresAt = s.CreatedAt.Add(time.Hour)
		}},
		{"an IP over the bound", func(s *store.Session) {
			s.IP = strings.Repeat("1", store.MaxSessionIPBytes+1)
		}},
		{"a user agent over the bound", func(s *store.Session) {
			s.UserAgent = strings.Repeat("u", store.MaxUserAgentBytes+1)
		}},
		{"a user agent that is not UTF-8", func(s *store.Session) { s.UserAgent = notUTF8 }},
		{"a device ID over the bound", func(s *store.Session) {
			s.DeviceID = strings.Repeat("d", store.MaxDeviceIDBytes+1)
		}},
		{"a malformed user ID", func(s *store.Session) { s.UserID = "alice" }},
		{"no user ID", func(s *store.Session) { s.UserID = "" }},
	}
	for _, c := range cases {
		in := newSession(e, tn.ID, user)
		c.set(&in)
		_, err := ss.Create(ctx(t), in)
		wantErr(t, "create with "+c.name, err, errs.ErrInvalidArgument)
		_, err = ss.Get(ctx(t), tn.ID, in.ID)
		wantErr(t, "get the session of a refused create with "+c.name, err, errs.ErrNotFound)
	}
	items, _, err := ss.ListByUser(ctx(t), tn.ID, user, store.Page{})
	mustOK(t, "list", err)
	if len(items) != 0 {
		t.Errorf("refused creates left %d sessions", len(items))
	}

	// The bounds themselves are accepted.
	in := newSession(e, tn.ID, user)
	in.ExpiresAt = in.CreatedAt.Add(store.MaxSessionLifetime)
	in.IdleTimeout = store.MaxSessionLifetime
	in.ACR = strings.Repeat("a", store.MaxSessionACRBytes)
	in.AMR = slices.Repeat([]string{strings.Repeat("m", store.MaxSessionAMRBytes)},
		store.MaxSessionAMR)
	in.IP = strings.Repeat("1", store.MaxSessionIPBytes)
	in.UserAgent = strings.Repeat("ü", store.MaxUserAgentBytes/2)
	in.DeviceID = strings.Repeat("d", store.MaxDeviceIDBytes)
	got := mustSession(t, e, in)
	if diff := cmp.Diff(storedSession(in), got, opts); diff != "" {
		t.Errorf("session at the bounds (-want +got):\n%s", diff)
	}
}

func sessList(t *testing.T, e *env) {
	ss := e.Store.Sessions()
	a := mustTenant(t, e, "acme")
	b := mustTenant(t, e, "globex")
	alice, bob := newID(), newID()
	var want []string
	for range 5 {
		want = append(want, mustSession(t, e, newSession(e, a.ID, alice)).ID)
	}
	mustSession(t, e, newSession(e, a.ID, bob))
	mustSession(t, e, newSession(e, b.ID, alice)) // the same ID elsewhere is another user
	slices.Sort(want)

	var got []string
	after := ""
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("listing does not end")
		}
		items, next, err := ss.ListByUser(ctx(t), a.ID, alice, store.Page{After: after, Limit: 2})
		mustOK(t, "list", err)
		if len(items) > 2 {
			t.Errorf("page of %d items, limit 2", len(items))
		}
		for _, it := range items {
			if it.UserID != alice || it.TenantID != a.ID {
				t.Errorf("listed a session of user %s in tenant %s", it.UserID, it.TenantID)
			}
			got = append(got, it.ID)
		}
		if next == "" {
			break
		}
		if pages == 0 {
			_, _, err := ss.ListByUser(ctx(t), a.ID, bob, store.Page{After: next})
			wantErr(t, "a cursor of another user", err, errs.ErrInvalidArgument)
			_, _, err = ss.ListByUser(ctx(t), b.ID, alice, store.Page{After: next})
			wantErr(t, "a cursor of another tenant", err, errs.ErrInvalidArgument)
			_, _, err = e.Store.Users().List(ctx(t), a.ID, store.Page{After: next})
			wantErr(t, "a session cursor in the users listing", err, errs.ErrInvalidArgument)
		}
		after = next
	}
	if !slices.Equal(got, want) {
		t.Errorf("listed %v, want %v", got, want)
	}
	_, _, err := ss.ListByUser(ctx(t), a.ID, alice, store.Page{After: "garbage"})
	wantErr(t, "a malformed cursor", err, errs.ErrInvalidArgument)
	_, _, err = ss.ListByUser(ctx(t), a.ID, alice, store.Page{Limit: store.MaxPageSize + 1})
	wantErr(t, "a limit over the maximum", err, errs.ErrInvalidArgument)
	items, next, err := ss.ListByUser(ctx(t), a.ID, newID(), store.Page{})
	mustOK(t, "list a user without sessions", err)
	if len(items) != 0 || next != "" {
		t.Errorf("a user without sessions lists %d, next %q", len(items), next)
	}
}

func sessDeleteByUser(t *testing.T, e *env) {
	ss := e.Store.Sessions()
	a := mustTenant(t, e, "acme")
	b := mustTenant(t, e, "globex")
	alice, bob := newID(), newID()
	in := newSession(e, a.ID, alice)
	in.IdleTimeout = e.MinTTL
	idle := mustSession(t, e, in)
	live := []store.Session{
		mustSession(t, e, newSession(e, a.ID, alice)),
		mustSession(t, e, newSession(e, a.ID, alice)),
	}
	kept := []store.Session{
		mustSession(t, e, newSession(e, a.ID, bob)),
		mustSession(t, e, newSession(e, b.ID, alice)),
	}
	e.Advance(t, e.MinTTL)

	deleted, err := ss.DeleteByUser(ctx(t), a.ID, alice)
	mustOK(t, "delete by user", err)
	var ids []string
	for _, s := range deleted {
		ids = append(ids, s.ID)
		if s.TokenHash == "" {
			t.Errorf("deleted session %s comes back without its hash", s.ID)
		}
	}
	for _, s := range live {
		if !slices.Contains(ids, s.ID) {
			t.Errorf("delete by user did not return live session %s (got %v)", s.ID, ids)
		}
		checkGone(t, e, s, "after delete by user")
	}
	if len(deleted) > len(live)+1 {
		t.Errorf("delete by user returned %d sessions, want at most %d", len(deleted),
			len(live)+1)
	}
	checkGone(t, e, idle, "after delete by user")
	for _, s := range kept {
		_, err := ss.GetByHash(ctx(t), s.TokenHash)
		mustOK(t, "get a session delete by user kept", err)
	}

	deleted, err = ss.DeleteByUser(ctx(t), a.ID, alice)
	mustOK(t, "second delete by user", err)
	if len(deleted) != 0 {
		t.Errorf("second delete by user returned %d sessions", len(deleted))
	}
	mustSession(t, e, newSession(e, a.ID, alice))
	items, _, err := ss.ListByUser(ctx(t), a.ID, alice, store.Page{})
	mustOK(t, "list after a new sign-in", err)
	if len(items) != 1 {
		t.Errorf("a session created after delete by user: listed %d, want 1", len(items))
	}
}

func sessIsolation(t *testing.T, e *env) {
	ss := e.Store.Sessions()
	a := mustTenant(t, e, "acme")
	b := mustTenant(t, e, "globex")
	s := mustSession(t, e, newSession(e, a.ID, newID()))

	_, err := ss.Get(ctx(t), b.ID, s.ID)
	wantErr(t, "get through another tenant", err, errs.ErrNotFound)
	called := false
	_, err = ss.Update(ctx(t), b.ID, s.ID, func(old store.Session) (store.Session, error) {
		called = true
		return old, nil
	})
	wantErr(t, "update through another tenant", err, errs.ErrNotFound)
	if called {
		t.Error("update through another tenant called fn")
	}
	wantErr(t, "delete through another tenant", ss.Delete(ctx(t), b.ID, s.ID), errs.ErrNotFound)
	deleted, err := ss.DeleteByUser(ctx(t), b.ID, s.UserID)
	mustOK(t, "delete by user through another tenant", err)
	if len(deleted) != 0 {
		t.Errorf("delete by user through another tenant deleted %d", len(deleted))
	}
	got, err := ss.Get(ctx(t), a.ID, s.ID)
	mustOK(t, "get", err)
	if diff := cmp.Diff(s, got, opts); diff != "" {
		t.Errorf("session after calls through another tenant (-want +got):\n%s", diff)
	}

	for _, h := range []string{"", "abc", hashOf("unknown"), strings.ToUpper(s.TokenHash),
		s.TokenHash + "0"} {
		_, err := ss.GetByHash(ctx(t), h)
		wantErr(t, fmt.Sprintf("get by hash %q", h), err, errs.ErrNotFound)
	}
	_, err = ss.Get(ctx(t), a.ID, newID())
	wantErr(t, "get a missing session", err, errs.ErrNotFound)
	wantErr(t, "delete a missing session", ss.Delete(ctx(t), a.ID, newID()), errs.ErrNotFound)

	mustOK(t, "delete", ss.Delete(ctx(t), a.ID, s.ID))
	checkGone(t, e, s, "after delete")
}

func sessBadIDs(t *testing.T, e *env) {
	ss := e.Store.Sessions()
	tn := mustTenant(t, e, "acme")
	user := newID()
	good := mustSession(t, e, newSession(e, tn.ID, user))
	keep := func(s store.Session) (store.Session, error) { return s, nil }
	for _, bad := range badIDs() {
		in := newSession(e, tn.ID, user)
		in.ID = bad
		_, err := ss.Create(ctx(t), in)
		wantErr(t, fmt.Sprintf("create with ID %q", bad), err, errs.ErrInvalidArgument)
		in = newSession(e, bad, user)
		_, err = ss.Create(ctx(t), in)
		wantErr(t, fmt.Sprintf("create with tenant ID %q", bad), err, errs.ErrInvalidArgument)
		_, err = ss.Get(ctx(t), tn.ID, bad)
		wantErr(t, fmt.Sprintf("get with ID %q", bad), err, errs.ErrInvalidArgument)
		_, err = ss.Get(ctx(t), bad, good.ID)
		wantErr(t, fmt.Sprintf("get with tenant ID %q", bad), err, errs.ErrInvalidArgument)
		_, err = ss.Update(ctx(t), tn.ID, bad, keep)
		wantErr(t, fmt.Sprintf("update with ID %q", bad), err, errs.ErrInvalidArgument)
		err = ss.Delete(ctx(t), bad, good.ID)
		wantErr(t, fmt.Sprintf("delete with tenant ID %q", bad), err, errs.ErrInvalidArgument)
		_, _, err = ss.ListByUser(ctx(t), tn.ID, bad, store.Page{})
		wantErr(t, fmt.Sprintf("list with user ID %q", bad), err, errs.ErrInvalidArgument)
		_, err = ss.DeleteByUser(ctx(t), bad, user)
		wantErr(t, fmt.Sprintf("delete by user with tenant ID %q", bad), err,
			errs.ErrInvalidArgument)
		_, err = ss.DeleteByUser(ctx(t), tn.ID, bad)
		wantErr(t, fmt.Sprintf("delete by user with user ID %q", bad), err,
			errs.ErrInvalidArgument)
	}
	got, err := ss.Get(ctx(t), tn.ID, good.ID)
	mustOK(t, "get after refused calls", err)
	if diff := cmp.Diff(good, got, opts); diff != "" {
		t.Errorf("session after refused calls (-want +got):\n%s", diff)
	}
}
