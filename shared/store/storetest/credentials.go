package storetest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
)

var credentialTests = []test{
	{"a password set reads back, and a second set replaces it", credentialSetGet},
	{"a user without a password has none", credentialNone},
	{"a password of a missing user is not found and writes nothing", credentialNoUser},
	{"a password is not reached through another tenant", credentialIsolation},
	{"deleting a user deletes its password", credentialDeleteUser},
	{"an empty, oversized or non-UTF-8 hash is refused and writes nothing", credentialBadHash},
	{"malformed IDs are invalid arguments and write nothing", credentialBadIDs},
	{"contact fields round-trip through create, reads and update", userContactFields},
	{"a phone that is not UTF-8 is an invalid argument", userBadPhone},
}

// phcOf is a stored-format password hash that differs with s.
func phcOf(s string) string {
	return "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$" + hashOf(s)
}

func mustPassword(t *testing.T, e *env, tenantID, userID string) store.PasswordCredential {
	t.Helper()
	got, err := e.Store.Credentials().GetPassword(ctx(t), tenantID, userID)
	mustOK(t, "get password", err)
	return got
}

func wantNoPassword(t *testing.T, e *env, what, tenantID, userID string) {
	t.Helper()
	_, err := e.Store.Credentials().GetPassword(ctx(t), tenantID, userID)
	wantErr(t, what, err, errs.ErrNotFound)
}

func credentialSetGet(t *testing.T, e *env) {
	cs := e.Store.Credentials()
	tn := mustTenant(t, e, "acme")
	alice := mustUser(t, e, tn.ID, "alice", "alice@example.com")
	bob := mustUser(t, e, tn.ID, "bob", "")

	mustOK(t, "set", cs.SetPassword(ctx(t), tn.ID, alice.ID, phcOf("first"), someTime))
	got := mustPassword(t, e, tn.ID, alice.ID)
	if got.Hash != phcOf("first") {
		t.Errorf("hash = %q, want %q", got.Hash, phcOf("first"))
	}
	checkTime(t, "UpdatedAt", got.UpdatedAt, someTime)

	later := someTime.Add(time.Hour)
	mustOK(t, "set again", cs.SetPassword(ctx(t), tn.ID, alice.ID, phcOf("second"), later))
	got = mustPassword(t, e, tn.ID, alice.ID)
	if got.Hash != phcOf("second") {
		t.Errorf("hash after the second set = %q, want %q", got.Hash, phcOf("second"))
	}
	checkTime(t, "UpdatedAt after the second set", got.UpdatedAt, later)

	wantNoPassword(t, e, "get the password of a user who has none", tn.ID, bob.ID)
	stored, err := e.Store.Users().Get(ctx(t), tn.ID, alice.ID)
	mustOK(t, "get user", err)
	if diff := cmp.Diff(alice, stored, opts); diff != "" {
		t.Errorf("setting a password changed the user (-want +got):\n%s", diff)
	}
}

func credentialNone(t *testing.T, e *env) {
	tn := mustTenant(t, e, "acme")
	alice := mustUser(t, e, tn.ID, "alice", "")
	wantNoPassword(t, e, "get password", tn.ID, alice.ID)
}

func credentialNoUser(t *testing.T, e *env) {
	cs := e.Store.Credentials()
	tn := mustTenant(t, e, "acme")
	mustUser(t, e, tn.ID, "alice", "")
	missing := newID()

	for _, tenantID := range []string{tn.ID, newID()} {
		err := cs.SetPassword(ctx(t), tenantID, missing, phcOf("x"), someTime)
		wantErr(t, "set the password of a missing user", err, errs.ErrNotFound)
		wantNoPassword(t, e, "get the password of a missing user", tenantID, missing)
	}
	// Nothing was left behind for a user who appears later with that ID.
	late := newUser(tn.ID, "late", "")
	late.ID = missing
	_, err := e.Store.Users().Create(ctx(t), late)
	mustOK(t, "create the late user", err)
	wantNoPassword(t, e, "get the password of the late user", tn.ID, missing)
}

func credentialIsolation(t *testing.T, e *env) {
	cs := e.Store.Credentials()
	a := mustTenant(t, e, "acme")
	b := mustTenant(t, e, "globex")
	alice := mustUser(t, e, a.ID, "alice", "")
	mustOK(t, "set", cs.SetPassword(ctx(t), a.ID, alice.ID, phcOf("mine"), someTime))

	wantNoPassword(t, e, "get through the other tenant", b.ID, alice.ID)
	err := cs.SetPassword(ctx(t), b.ID, alice.ID, phcOf("theirs"), someTime)
	wantErr(t, "set through the other tenant", err, errs.ErrNotFound)
	if got := mustPassword(t, e, a.ID, alice.ID); got.Hash != phcOf("mine") {
		t.Errorf("hash after the attempt from the other tenant = %q, want %q", got.Hash,
			phcOf("mine"))
	}
	wantNoPassword(t, e, "get through the other tenant afterwards", b.ID, alice.ID)

	// A user with the same name in the other tenant has a password of its own.
	twin := mustUser(t, e, b.ID, "alice", "")
	mustOK(t, "set the twin's", cs.SetPassword(ctx(t), b.ID, twin.ID, phcOf("twin"), someTime))
	if got := mustPassword(t, e, a.ID, alice.ID); got.Hash != phcOf("mine") {
		t.Errorf("alice's hash after the twin's set = %q", got.Hash)
	}
	mustOK(t, "delete the twin", e.Store.Users().Delete(ctx(t), b.ID, twin.ID))
	if got := mustPassword(t, e, a.ID, alice.ID); got.Hash != phcOf("mine") {
		t.Errorf("alice's hash after the twin's delete = %q", got.Hash)
	}
}

func credentialDeleteUser(t *testing.T, e *env) {
	cs := e.Store.Credentials()
	us := e.Store.Users()
	tn := mustTenant(t, e, "acme")
	alice := mustUser(t, e, tn.ID, "alice", "alice@example.com")
	bob := mustUser(t, e, tn.ID, "bob", "")
	mustOK(t, "set alice's", cs.SetPassword(ctx(t), tn.ID, alice.ID, phcOf("a"), someTime))
	mustOK(t, "set bob's", cs.SetPassword(ctx(t), tn.ID, bob.ID, phcOf("b"), someTime))

	mustOK(t, "delete alice", us.Delete(ctx(t), tn.ID, alice.ID))
	wantNoPassword(t, e, "get the deleted user's password", tn.ID, alice.ID)
	err := cs.SetPassword(ctx(t), tn.ID, alice.ID, phcOf("again"), someTime)
	wantErr(t, "set the deleted user's password", err, errs.ErrNotFound)
	if got := mustPassword(t, e, tn.ID, bob.ID); got.Hash != phcOf("b") {
		t.Errorf("bob's hash after alice's delete = %q, want %q", got.Hash, phcOf("b"))
	}

	// A user created again with the deleted ID does not inherit the password.
	again := newUser(tn.ID, "alice", "alice@example.com")
	again.ID = alice.ID
	_, err = us.Create(ctx(t), again)
	mustOK(t, "create again with the same ID", err)
	wantNoPassword(t, e, "get the password of the user created again", tn.ID, alice.ID)
}

func credentialBadHash(t *testing.T, e *env) {
	cs := e.Store.Credentials()
	tn := mustTenant(t, e, "acme")
	alice := mustUser(t, e, tn.ID, "alice", "")
	bob := mustUser(t, e, tn.ID, "bob", "")
	mustOK(t, "set", cs.SetPassword(ctx(t), tn.ID, alice.ID, phcOf("kept"), someTime))

	for _, bad := range []string{"", notUTF8, strings.Repeat("h", 4097)} {
		what := fmt.Sprintf("hash of %d bytes", len(bad))
		err := cs.SetPassword(ctx(t), tn.ID, alice.ID, bad, someTime)
		wantErr(t, "replace with a "+what, err, errs.ErrInvalidArgument)
		err = cs.SetPassword(ctx(t), tn.ID, bob.ID, bad, someTime)
		wantErr(t, "set a "+what, err, errs.ErrInvalidArgument)
	}
	if got := mustPassword(t, e, tn.ID, alice.ID); got.Hash != phcOf("kept") {
		t.Errorf("hash after refused sets = %q, want %q", got.Hash, phcOf("kept"))
	}
	wantNoPassword(t, e, "get bob's after refused sets", tn.ID, bob.ID)
}

func credentialBadIDs(t *testing.T, e *env) {
	cs := e.Store.Credentials()
	tn := mustTenant(t, e, "acme")
	alice := mustUser(t, e, tn.ID, "alice", "")

	for _, bad := range badIDs() {
		err := cs.SetPassword(ctx(t), tn.ID, bad, phcOf("x"), someTime)
		wantErr(t, fmt.Sprintf("set with user ID %q", bad), err, errs.ErrInvalidArgument)
		_, err = cs.GetPassword(ctx(t), tn.ID, bad)
		wantErr(t, fmt.Sprintf("get with user ID %q", bad), err, errs.ErrInvalidArgument)
		err = cs.SetPassword(ctx(t), bad, alice.ID, phcOf("x"), someTime)
		wantErr(t, fmt.Sprintf("set with tenant ID %q", bad), err, errs.ErrInvalidArgument)
		_, err = cs.GetPassword(ctx(t), bad, alice.ID)
		wantErr(t, fmt.Sprintf("get with tenant ID %q", bad), err, errs.ErrInvalidArgument)
	}
	wantNoPassword(t, e, "get alice's after refused sets", tn.ID, alice.ID)
}

func userContactFields(t *testing.T, e *env) {
	us := e.Store.Users()
	tn := mustTenant(t, e, "acme")
	in := newUser(tn.ID, "alice", "alice@example.com")
	in.EmailVerified = true
	in.Phone = "+14155550100"

	got, err := us.Create(ctx(t), in)
	mustOK(t, "create", err)
	if !got.EmailVerified || got.Phone != "+14155550100" || got.PhoneVerified {
		t.Errorf("created (emailVerified %v, phone %q, phoneVerified %v), want (true, "+
			"+14155550100, false)", got.EmailVerified, got.Phone, got.PhoneVerified)
	}
	reads := func(want store.User) {
		t.Helper()
		byID, err := us.Get(ctx(t), tn.ID, want.ID)
		mustOK(t, "get", err)
		byName, err := us.GetByUsername(ctx(t), tn.ID, "alice")
		mustOK(t, "get by username", err)
		items, _, err := us.List(ctx(t), tn.ID, store.Page{})
		mustOK(t, "list", err)
		for what, u := range map[string]store.User{"get": byID, "get by username": byName} {
			if diff := cmp.Diff(want, u, opts); diff != "" {
				t.Errorf("%s (-want +got):\n%s", what, diff)
			}
		}
		if diff := cmp.Diff([]store.User{want}, items, opts); diff != "" {
			t.Errorf("list (-want +got):\n%s", diff)
		}
	}
	reads(got)

	// The phone is not unique: a second user may share it.
	other := newUser(tn.ID, "bob", "")
	other.Phone = "+14155550100"
	other.PhoneVerified = true
	shared, err := us.Create(ctx(t), other)
	mustOK(t, "create a second user with the same phone", err)
	mustOK(t, "delete the second user", us.Delete(ctx(t), tn.ID, shared.ID))

	updated, err := us.Update(ctx(t), tn.ID, got.ID, func(old store.User) (store.User, error) {
		old.EmailVerified = false
		old.Phone = "+442071838750"
		old.PhoneVerified = true
		return old, nil
	})
	mustOK(t, "update", err)
	if updated.EmailVerified || updated.Phone != "+442071838750" || !updated.PhoneVerified {
		t.Errorf("updated (emailVerified %v, phone %q, phoneVerified %v), want (false, "+
			"+442071838750, true)", updated.EmailVerified, updated.Phone, updated.PhoneVerified)
	}
	reads(updated)

	cleared, err := us.Update(ctx(t), tn.ID, got.ID, func(old store.User) (store.User, error) {
		old.Phone, old.PhoneVerified = "", false
		return old, nil
	})
	mustOK(t, "clear the phone", err)
	if cleared.Phone != "" || cleared.PhoneVerified {
		t.Errorf("cleared (phone %q, phoneVerified %v)", cleared.Phone, cleared.PhoneVerified)
	}
	reads(cleared)
}

func userBadPhone(t *testing.T, e *env) {
	us := e.Store.Users()
	tn := mustTenant(t, e, "acme")
	alice := mustUser(t, e, tn.ID, "alice", "")

	in := newUser(tn.ID, "bob", "")
	in.Phone = "+1" + notUTF8
	_, err := us.Create(ctx(t), in)
	wantErr(t, "create with a phone that is not UTF-8", err, errs.ErrInvalidArgument)
	_, err = us.Update(ctx(t), tn.ID, alice.ID, func(old store.User) (store.User, error) {
		old.Phone = notUTF8
		return old, nil
	})
	wantErr(t, "update to a phone that is not UTF-8", err, errs.ErrInvalidArgument)

	items, _, err := us.List(ctx(t), tn.ID, store.Page{})
	mustOK(t, "list", err)
	if diff := cmp.Diff([]store.User{alice}, items, opts); diff != "" {
		t.Errorf("users after refused writes (-want +got):\n%s", diff)
	}
}
