package storetest

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
)

// Verifications. Beyond package store's contract, every backend shares
// these: a proof is gone once the store's clock reaches ExpiresAt; IDs are
// scoped by tenant; Create refuses an ExpiresAt already past or more than
// MaxVerificationTTL from now, an unknown purpose, an empty Target or one
// over 320 bytes, a proof with neither SecretHash nor CodeHash, hashes
// that are not lower-case hex SHA-256, negative Attempts, and Data of more
// than 16 entries, keys of 1 to 64 bytes and values of at most 512.
// DeleteForUser counts the proofs that had not expired.
var verificationTests = []test{
	{"a created proof reads back the same", verifCreateGet},
	{"update changes attempts, data and use only, and bumps the version", verifUpdate},
	{"an error from fn is returned and nothing is written", verifUpdateFnError},
	{"concurrent uses of one proof succeed exactly once", verifSingleUse},
	{"a proof is gone once its expiry is reached", verifExpiry},
	{"a taken ID is a conflict and changes nothing", verifConflict},
	{"malformed proofs are invalid arguments and write nothing", verifBadInput},
	{"delete for user removes one user's proofs of one purpose", verifDeleteForUser},
	{"a proof of another tenant is not found by any method", verifIsolation},
	{"malformed IDs are invalid arguments", verifBadIDs},
}

func newVerif(e *env, tenantID, userID string, purpose store.VerificationPurpose) store.
	Verification {
	id := newID()
	now := e.Now().In(someTime.Location())
	return store.Verification{
		ID: id, TenantID: tenantID, UserID: userID, Purpose: purpose,
		Target: "alice@example.com", SecretHash: hashOf("secret " + id),
		CodeHash: hashOf("code " + id), Data: map[string]string{"orgId": newID()},
		CreatedAt: now, ExpiresAt: now.Add(time.Hour + 123456789*time.Nanosecond),
	}
}

func mustVerif(t *testing.T, e *env, v store.Verification) store.Verification {
	t.Helper()
	got, err := e.Store.Verifications().Create(ctx(t), v)
	mustOK(t, "create verification", err)
	return got
}

// stored is what a proof reads back as after Create.
func stored(v store.Verification) store.Verification {
	v.CreatedAt = v.CreatedAt.UTC().Truncate(time.Millisecond)
	v.ExpiresAt = v.ExpiresAt.UTC().Truncate(time.Millisecond)
	v.Version = 1
	return v
}

func verifCreateGet(t *testing.T, e *env) {
	vs := e.Store.Verifications()
	tn := mustTenant(t, e, "acme")
	in := newVerif(e, tn.ID, newID(), store.ResetPassword)
	in.Attempts = 2
	in.Version = 42 // the store's to set

	got, err := vs.Create(ctx(t), in)
	mustOK(t, "create", err)
	want := stored(in)
	if diff := cmp.Diff(want, got, opts); diff != "" {
		t.Errorf("create returned (-want +got):\n%s", diff)
	}
	checkTime(t, "CreatedAt", got.CreatedAt, in.CreatedAt)
	checkTime(t, "ExpiresAt", got.ExpiresAt, in.ExpiresAt)
	if !got.UsedAt.IsZero() {
		t.Errorf("UsedAt = %v, want zero", got.UsedAt)
	}
	read, err := vs.Get(ctx(t), tn.ID, in.ID)
	mustOK(t, "get", err)
	if diff := cmp.Diff(want, read, opts); diff != "" {
		t.Errorf("get (-want +got):\n%s", diff)
	}
	checkTime(t, "ExpiresAt after get", read.ExpiresAt, in.ExpiresAt)

	// An invitation has no user, and a proof may have a code only.
	inv := newVerif(e, tn.ID, "", store.Invitation)
	inv.SecretHash, inv.Data = "", nil
	got, err = vs.Create(ctx(t), inv)
	mustOK(t, "create an invitation", err)
	read, err = vs.Get(ctx(t), tn.ID, inv.ID)
	mustOK(t, "get the invitation", err)
	if diff := cmp.Diff(stored(inv), read, opts); diff != "" {
		t.Errorf("get the invitation (-want +got):\n%s", diff)
	}
}

func verifUpdate(t *testing.T, e *env) {
	vs := e.Store.Verifications()
	tn := mustTenant(t, e, "acme")
	created := mustVerif(t, e, newVerif(e, tn.ID, newID(), store.VerifyEmail))
	usedAt := someTime.Add(time.Minute)

	got, err := vs.Update(ctx(t), tn.ID, created.ID, func(old store.Verification) (
		store.Verification, error) {
		if diff := cmp.Diff(created, old, opts); diff != "" {
			t.Errorf("fn was given (-want +got):\n%s", diff)
		}
		old.Attempts = 3
		old.Data = map[string]string{"oldEmail": "old@example.com"}
		old.UsedAt = usedAt
		// Fields that are not fn's to change.
		old.ID, old.TenantID, old.UserID = newID(), newID(), newID()
		old.Purpose, old.Target = store.Invitation, "mallory@example.com"
		old.SecretHash, old.CodeHash = hashOf("other"), hashOf("other code")
		old.CreatedAt, old.ExpiresAt = someTime, someTime.Add(2*time.Hour)
		old.Version = 99
		return old, nil
	})
	mustOK(t, "update", err)
	want := created
	want.Attempts = 3
	want.Data = map[string]string{"oldEmail": "old@example.com"}
	want.UsedAt = usedAt.UTC().Truncate(time.Millisecond)
	want.Version = 2
	if diff := cmp.Diff(want, got, opts); diff != "" {
		t.Errorf("update returned (-want +got):\n%s", diff)
	}
	checkTime(t, "UsedAt", got.UsedAt, usedAt)
	read, err := vs.Get(ctx(t), tn.ID, created.ID)
	mustOK(t, "get", err)
	if diff := cmp.Diff(want, read, opts); diff != "" {
		t.Errorf("get after update (-want +got):\n%s", diff)
	}

	_, err = vs.Update(ctx(t), tn.ID, created.ID, func(old store.Verification) (
		store.Verification, error) {
		old.Data = map[string]string{"k": strings.Repeat("v", 513)}
		return old, nil
	})
	wantErr(t, "update to oversized data", err, errs.ErrInvalidArgument)
	_, err = vs.Update(ctx(t), tn.ID, created.ID, func(old store.Verification) (
		store.Verification, error) {
		old.Attempts = -1
		return old, nil
	})
	wantErr(t, "update to negative attempts", err, errs.ErrInvalidArgument)
	read, err = vs.Get(ctx(t), tn.ID, created.ID)
	mustOK(t, "get after refused updates", err)
	if diff := cmp.Diff(want, read, opts); diff != "" {
		t.Errorf("get after refused updates (-want +got):\n%s", diff)
	}
}

func verifUpdateFnError(t *testing.T, e *env) {
	vs := e.Store.Verifications()
	tn := mustTenant(t, e, "acme")
	created := mustVerif(t, e, newVerif(e, tn.ID, newID(), store.VerifyPhone))
	_, err := vs.Update(ctx(t), tn.ID, created.ID, func(old store.Verification) (
		store.Verification, error) {
		old.Attempts = 5
		return old, errFn
	})
	if !errors.Is(err, errFn) {
		t.Errorf("update: got %v, want fn's error", err)
	}
	read, err := vs.Get(ctx(t), tn.ID, created.ID)
	mustOK(t, "get", err)
	if diff := cmp.Diff(created, read, opts); diff != "" {
		t.Errorf("get after a refused update (-want +got):\n%s", diff)
	}
}

var errUsed = errors.New("storetest: proof already used")

// use is the fn a service passes to consume a proof.
func use(at time.Time) func(store.Verification) (store.Verification, error) {
	return func(v store.Verification) (store.Verification, error) {
		if !v.UsedAt.IsZero() {
			return v, errUsed
		}
		v.UsedAt = at
		return v, nil
	}
}

func verifSingleUse(t *testing.T, e *env) {
	vs := e.Store.Verifications()
	tn := mustTenant(t, e, "acme")
	created := mustVerif(t, e, newVerif(e, tn.ID, newID(), store.ResetPassword))

	const n = 8
	results := race(n, func(i int) error {
		_, err := vs.Update(ctx(t), tn.ID, created.ID, use(someTime.Add(time.Duration(i)*
			time.Second)))
		return err
	})
	winner := -1
	for i, err := range results {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("uses %d and %d both succeeded", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, errUsed):
			t.Errorf("use %d: got %v, want the proof seen as used", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no use succeeded")
	}
	read, err := vs.Get(ctx(t), tn.ID, created.ID)
	mustOK(t, "get", err)
	checkTime(t, "UsedAt", read.UsedAt, someTime.Add(time.Duration(winner)*time.Second))
	if read.Version != 2 {
		t.Errorf("version after one use = %d, want 2", read.Version)
	}
	_, err = vs.Update(ctx(t), tn.ID, created.ID, use(someTime))
	wantErr(t, "a use after the race", err, errUsed)
}

func verifExpiry(t *testing.T, e *env) {
	vs := e.Store.Verifications()
	tn := mustTenant(t, e, "acme")
	user := newID()
	shortIn := newVerif(e, tn.ID, user, store.ResetPassword)
	shortIn.CreatedAt = e.Now()
	shortIn.ExpiresAt = e.Now().Add(e.MinTTL)
	short := mustVerif(t, e, shortIn)
	long := mustVerif(t, e, newVerif(e, tn.ID, user, store.ResetPassword))

	e.Advance(t, e.MinTTL/2)
	_, err := vs.Get(ctx(t), tn.ID, short.ID)
	mustOK(t, "get before expiry", err)
	_, err = vs.Update(ctx(t), tn.ID, short.ID, func(v store.Verification) (
		store.Verification, error) {
		v.Attempts++
		return v, nil
	})
	mustOK(t, "update before expiry", err)

	// Now the store's clock is at or past the short proof's ExpiresAt.
	e.Advance(t, e.MinTTL-e.MinTTL/2)
	_, err = vs.Get(ctx(t), tn.ID, short.ID)
	wantErr(t, "get after expiry", err, errs.ErrNotFound)
	called := false
	_, err = vs.Update(ctx(t), tn.ID, short.ID, func(v store.Verification) (
		store.Verification, error) {
		called = true
		return use(e.Now())(v)
	})
	wantErr(t, "use after expiry", err, errs.ErrNotFound)
	if called {
		t.Error("update called fn on an expired proof")
	}
	got, err := vs.Get(ctx(t), tn.ID, long.ID)
	mustOK(t, "get a proof that has not expired", err)
	if diff := cmp.Diff(long, got, opts); diff != "" {
		t.Errorf("proof that has not expired (-want +got):\n%s", diff)
	}

	// The expired proof is not counted, the live one is.
	n, err := vs.DeleteForUser(ctx(t), tn.ID, user, store.ResetPassword)
	mustOK(t, "delete for user", err)
	if n != 1 {
		t.Errorf("delete for user counted %d proofs, want 1 (the one not expired)", n)
	}
	_, err = vs.Get(ctx(t), tn.ID, long.ID)
	wantErr(t, "get after delete for user", err, errs.ErrNotFound)
}

func verifConflict(t *testing.T, e *env) {
	vs := e.Store.Verifications()
	tn := mustTenant(t, e, "acme")
	user := newID()
	first := mustVerif(t, e, newVerif(e, tn.ID, user, store.ResetPassword))

	again := newVerif(e, tn.ID, user, store.ResetPassword)
	again.ID = first.ID
	again.Target = "other@example.com"
	again.ExpiresAt = again.CreatedAt.Add(time.Minute)
	_, err := vs.Create(ctx(t), again)
	wantErr(t, "create with a taken ID", err, errs.ErrConflict)
	read, err := vs.Get(ctx(t), tn.ID, first.ID)
	mustOK(t, "get", err)
	if diff := cmp.Diff(first, read, opts); diff != "" {
		t.Errorf("proof after a conflicting create (-want +got):\n%s", diff)
	}
	// The refused create left the proof reachable for its user.
	n, err := vs.DeleteForUser(ctx(t), tn.ID, user, store.ResetPassword)
	mustOK(t, "delete for user", err)
	if n != 1 {
		t.Errorf("delete for user counted %d, want 1", n)
	}
}

func verifBadInput(t *testing.T, e *env) {
	vs := e.Store.Verifications()
	tn := mustTenant(t, e, "acme")
	cases := []struct {
		name string
		set  func(v *store.Verification)
	}{
		{"expiry at creation", func(v *store.Verification) { v.ExpiresAt = v.CreatedAt }},
		{"expiry before creation", func(v *store.Verification) {
			v.ExpiresAt = v.CreatedAt.Add(-time.Minute)
		}},
		{"a life over the bound", func(v *store.Verification) {
			v.ExpiresAt = v.CreatedAt.Add(store.MaxVerificationTTL + time.Millisecond)
		}},
		{"an expiry already past", func(v *store.Verification) {
			v.CreatedAt = e.Now().Add(-2 * time.Hour)
			v.ExpiresAt = e.Now().Add(-time.Hour)
		}},
		{"an expiry too far from now", func(v *store.Verification) {
			v.CreatedAt = e.Now().Add(30 * 24 * time.Hour)
			v.ExpiresAt = v.CreatedAt.Add(time.Hour)
		}},
		{"no creation time", func(v *store.Verification) { v.CreatedAt = time.Time{} }},
		{"an unknown purpose", func(v *store.Verification) { v.Purpose = "login" }},
		{"no purpose", func(v *store.Verification) { v.Purpose = "" }},
		{"no target", func(v *store.Verification) { v.Target = "" }},
		{"a target over 320 bytes", func(v *store.Verification) {
			v.Target = strings.Repeat("a", 321)
		}},
		{"a target that is not UTF-8", func(v *store.Verification) { v.Target = notUTF8 }},
		{"no hash", func(v *store.Verification) { v.SecretHash, v.CodeHash = "", "" }},
		{"a secret hash that is not hex SHA-256", func(v *store.Verification) {
			v.SecretHash = "secret"
		}},
		{"an upper-case code hash", func(v *store.Verification) {
			v.CodeHash = strings.ToUpper(v.CodeHash)
		}},
		{"negative attempts", func(v *store.Verification) { v.Attempts = -1 }},
		{"too much data", func(v *store.Verification) {
			v.Data = map[string]string{}
			for i := range 17 {
				v.Data[fmt.Sprint("k", i)] = "v"
			}
		}},
		{"an empty data key", func(v *store.Verification) {
			v.Data = map[string]string{"": "v"}
		}},
		{"a data key over 64 bytes", func(v *store.Verification) {
			v.Data = map[string]string{strings.Repeat("k", 65): "v"}
		}},
		{"a data value over 512 bytes", func(v *store.Verification) {
			v.Data = map[string]string{"k": strings.Repeat("v", 513)}
		}},
		{"a malformed user ID", func(v *store.Verification) { v.UserID = "alice" }},
	}
	user := newID()
	for _, c := range cases {
		in := newVerif(e, tn.ID, user, store.ResetPassword)
		c.set(&in)
		_, err := vs.Create(ctx(t), in)
		wantErr(t, "create with "+c.name, err, errs.ErrInvalidArgument)
		_, err = vs.Get(ctx(t), tn.ID, in.ID)
		wantErr(t, "get the proof of a refused create with "+c.name, err, errs.ErrNotFound)
	}
	n, err := vs.DeleteForUser(ctx(t), tn.ID, user, store.ResetPassword)
	mustOK(t, "delete for user", err)
	if n != 0 {
		t.Errorf("refused creates left %d proofs for the user", n)
	}

	// The bounds themselves are accepted.
	in := newVerif(e, tn.ID, user, store.ResetPassword)
	in.ExpiresAt = in.CreatedAt.Add(store.MaxVerificationTTL)
	in.Target = strings.Repeat("a", 320)
	in.Data = map[string]string{strings.Repeat("k", 64): strings.Repeat("v", 512)}
	for i := range 15 {
		in.Data[fmt.Sprint("k", i)] = ""
	}
	mustVerif(t, e, in)
}

func verifDeleteForUser(t *testing.T, e *env) {
	vs := e.Store.Verifications()
	a := mustTenant(t, e, "acme")
	b := mustTenant(t, e, "globex")
	alice, bob := newID(), newID()
	resets := []store.Verification{
		mustVerif(t, e, newVerif(e, a.ID, alice, store.ResetPassword)),
		mustVerif(t, e, newVerif(e, a.ID, alice, store.ResetPassword)),
	}
	used := mustVerif(t, e, newVerif(e, a.ID, alice, store.ResetPassword))
	_, err := vs.Update(ctx(t), a.ID, used.ID, use(someTime))
	mustOK(t, "use a proof", err)
	resets = append(resets, used)
	kept := []store.Verification{
		mustVerif(t, e, newVerif(e, a.ID, alice, store.VerifyEmail)),
		mustVerif(t, e, newVerif(e, a.ID, bob, store.ResetPassword)),
		// The same user ID in another tenant is another user.
		mustVerif(t, e, newVerif(e, b.ID, alice, store.ResetPassword)),
		mustVerif(t, e, newVerif(e, a.ID, "", store.Invitation)),
	}

	n, err := vs.DeleteForUser(ctx(t), a.ID, alice, store.ResetPassword)
	mustOK(t, "delete for user", err)
	if n != len(resets) {
		t.Errorf("delete for user counted %d, want %d", n, len(resets))
	}
	for _, v := range resets {
		_, err := vs.Get(ctx(t), a.ID, v.ID)
		wantErr(t, "get a deleted proof", err, errs.ErrNotFound)
	}
	for _, v := range kept {
		_, err := vs.Get(ctx(t), v.TenantID, v.ID)
		mustOK(t, fmt.Sprintf("get a kept proof (%s of user %q)", v.Purpose, v.UserID), err)
	}

	n, err = vs.DeleteForUser(ctx(t), a.ID, alice, store.ResetPassword)
	mustOK(t, "second delete for user", err)
	if n != 0 {
		t.Errorf("second delete for user counted %d, want 0", n)
	}
	n, err = vs.DeleteForUser(ctx(t), a.ID, newID(), store.ResetPassword)
	mustOK(t, "delete for a user without proofs", err)
	if n != 0 {
		t.Errorf("delete for a user without proofs counted %d, want 0", n)
	}

	// A new proof after the delete is kept as usual.
	fresh := mustVerif(t, e, newVerif(e, a.ID, alice, store.ResetPassword))
	_, err = vs.Get(ctx(t), a.ID, fresh.ID)
	mustOK(t, "get a proof created after the delete", err)
}

func verifIsolation(t *testing.T, e *env) {
	vs := e.Store.Verifications()
	a := mustTenant(t, e, "acme")
	b := mustTenant(t, e, "globex")
	user := newID()
	v := mustVerif(t, e, newVerif(e, a.ID, user, store.VerifyEmail))

	_, err := vs.Get(ctx(t), b.ID, v.ID)
	wantErr(t, "get through another tenant", err, errs.ErrNotFound)
	called := false
	_, err = vs.Update(ctx(t), b.ID, v.ID, func(old store.Verification) (store.Verification,
		error) {
		called = true
		return use(someTime)(old)
	})
	wantErr(t, "update through another tenant", err, errs.ErrNotFound)
	if called {
		t.Error("update through another tenant called fn")
	}
	n, err := vs.DeleteForUser(ctx(t), b.ID, user, store.VerifyEmail)
	mustOK(t, "delete for user through another tenant", err)
	if n != 0 {
		t.Errorf("delete for user through another tenant counted %d", n)
	}
	got, err := vs.Get(ctx(t), a.ID, v.ID)
	mustOK(t, "get", err)
	if diff := cmp.Diff(v, got, opts); diff != "" {
		t.Errorf("proof after calls through another tenant (-want +got):\n%s", diff)
	}
	_, err = vs.Get(ctx(t), a.ID, newID())
	wantErr(t, "get a missing proof", err, errs.ErrNotFound)
	_, err = vs.Update(ctx(t), a.ID, newID(), use(someTime))
	wantErr(t, "update a missing proof", err, errs.ErrNotFound)
}

func verifBadIDs(t *testing.T, e *env) {
	vs := e.Store.Verifications()
	tn := mustTenant(t, e, "acme")
	user := newID()
	good := mustVerif(t, e, newVerif(e, tn.ID, user, store.VerifyEmail))
	for _, bad := range badIDs() {
		in := newVerif(e, tn.ID, user, store.VerifyEmail)
		in.ID = bad
		_, err := vs.Create(ctx(t), in)
		wantErr(t, fmt.Sprintf("create with ID %q", bad), err, errs.ErrInvalidArgument)
		in = newVerif(e, bad, user, store.VerifyEmail)
		_, err = vs.Create(ctx(t), in)
		wantErr(t, fmt.Sprintf("create with tenant ID %q", bad), err, errs.ErrInvalidArgument)
		_, err = vs.Get(ctx(t), tn.ID, bad)
		wantErr(t, fmt.Sprintf("get with ID %q", bad), err, errs.ErrInvalidArgument)
		_, err = vs.Get(ctx(t), bad, good.ID)
		wantErr(t, fmt.Sprintf("get with tenant ID %q", bad), err, errs.ErrInvalidArgument)
		_, err = vs.Update(ctx(t), tn.ID, bad, use(someTime))
		wantErr(t, fmt.Sprintf("update with ID %q", bad), err, errs.ErrInvalidArgument)
		_, err = vs.Update(ctx(t), bad, good.ID, use(someTime))
		wantErr(t, fmt.Sprintf("update with tenant ID %q", bad), err, errs.ErrInvalidArgument)
		_, err = vs.DeleteForUser(ctx(t), bad, user, store.VerifyEmail)
		wantErr(t, fmt.Sprintf("delete for user with tenant ID %q", bad), err,
			errs.ErrInvalidArgument)
		if bad != "" {
			_, err = vs.DeleteForUser(ctx(t), tn.ID, bad, store.VerifyEmail)
			wantErr(t, fmt.Sprintf("delete for user with user ID %q", bad), err,
				errs.ErrInvalidArgument)
		}
	}
	_, err := vs.DeleteForUser(ctx(t), tn.ID, "", store.VerifyEmail)
	wantErr(t, "delete for user without a user ID", err, errs.ErrInvalidArgument)
	_, err = vs.DeleteForUser(ctx(t), tn.ID, user, "login")
	wantErr(t, "delete for user with an unknown purpose", err, errs.ErrInvalidArgument)
	got, err := vs.Get(ctx(t), tn.ID, good.ID)
	mustOK(t, "get after refused calls", err)
	if diff := cmp.Diff(good, got, opts); diff != "" {
		t.Errorf("proof after refused calls (-want +got):\n%s", diff)
	}
}
