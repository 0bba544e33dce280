package storetest

import (
	"fmt"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
)

var userTests = []test{
	{"a created user reads back the same by ID, username and email", userCreateGet},
	{"usernames and emails are folded to lower case", userFolding},
	{"a taken ID, username or email is a conflict and reserves nothing", userCreateConflict},
	{"users without an email do not conflict", userNoEmail},
	{"concurrent creates of one username succeed exactly once", userCreateRaceUsername},
	{"concurrent creates of one email succeed exactly once", userCreateRaceEmail},
	{"an empty username is an invalid argument", userEmptyUsername},
	{"text that is not UTF-8 is an invalid argument and writes nothing", userBadText},
	{"an unknown status is an invalid argument and writes nothing", userBadStatus},
	{"update applies fn, bumps the version and keeps ID, tenant and creation time", userUpdate},
	{"renaming to a taken username or email is a conflict and writes nothing", userRenameTaken},
	{"a rename frees the old username and email", userRenameFrees},
	{"a rename that changes only the case keeps the username", userRenameCase},
	{"concurrent renames to one username succeed exactly once", userRenameRace},
	{"an error from fn is returned and nothing is written", userUpdateFnError},
	{"an update that loses a race reads again and calls fn again", userUpdateLostRace},
	{"concurrent updates all land exactly once", userUpdateConcurrent},
	{"an update racing a delete does not bring the user back", userUpdateDeleted},
	{"delete removes the user and frees its username and email", userDelete},
	{"a user of another tenant is not found by any method", userIsolation},
	{"count reports the users of one tenant", userCount},
	{"a missing user is not found by any method", userNotFound},
	{"malformed IDs are invalid arguments and write nothing", userBadIDs},
}

func userCreateGet(t *testing.T, e *env) {
	us := e.Store.Users()
	tn := mustTenant(t, e, "acme")
	in := newUser(tn.ID, "alice", "alice@example.com")
	in.Status = store.UserPending
	in.UpdatedAt = someTime.Add(time.Minute)
	in.Version = 7

	got, err := us.Create(ctx(t), in)
	mustOK(t, "create", err)

	want := in
	want.CreatedAt = someTime.UTC().Truncate(time.Millisecond)
	want.UpdatedAt = someTime.Add(time.Minute).UTC().Truncate(time.Millisecond)
	want.Version = 1
	if diff := cmp.Diff(want, got, opts); diff != "" {
		t.Errorf("create returned (-want +got):\n%s", diff)
	}
	checkTime(t, "CreatedAt", got.CreatedAt, someTime)
	checkTime(t, "UpdatedAt", got.UpdatedAt, someTime.Add(time.Minute))

	byID, err := us.Get(ctx(t), tn.ID, in.ID)
	mustOK(t, "get", err)
	if diff := cmp.Diff(got, byID, opts); diff != "" {
		t.Errorf("get (-want +got):\n%s", diff)
	}
	checkTime(t, "CreatedAt after get", byID.CreatedAt, someTime)
	byName, err := us.GetByUsername(ctx(t), tn.ID, "alice")
	mustOK(t, "get by username", err)
	if diff := cmp.Diff(got, byName, opts); diff != "" {
		t.Errorf("get by username (-want +got):\n%s", diff)
	}
	byEmail, err := us.GetByEmail(ctx(t), tn.ID, "alice@example.com")
	mustOK(t, "get by email", err)
	if diff := cmp.Diff(got, byEmail, opts); diff != "" {
		t.Errorf("get by email (-want +got):\n%s", diff)
	}

	items, next, err := us.List(ctx(t), tn.ID, store.Page{})
	mustOK(t, "list", err)
	if diff := cmp.Diff([]store.User{got}, items, opts); diff != "" {
		t.Errorf("list (-want +got):\n%s", diff)
	}
	if next != "" {
		t.Errorf("list of one user: next = %q, want empty", next)
	}
}

func userFolding(t *testing.T, e *env) {
	us := e.Store.Users()
	tn := mustTenant(t, e, "acme")

	got, err := us.Create(ctx(t), newUser(tn.ID, "Alice.Smith", "Alice@Example.COM"))
	mustOK(t, "create", err)
	if got.Username != "alice.smith" || got.Email != "alice@example.com" {
		t.Errorf("stored (%q, %q), want (%q, %q)", got.Username, got.Email,
			"alice.smith", "alice@example.com")
	}

	byName, err := us.GetByUsername(ctx(t), tn.ID, "ALICE.smith")
	mustOK(t, "get by username in other case", err)
	if diff := cmp.Diff(got, byName, opts); diff != "" {
		t.Errorf("get by username (-want +got):\n%s", diff)
	}
	byEmail, err := us.GetByEmail(ctx(t), tn.ID, "alice@EXAMPLE.com")
	mustOK(t, "get by email in other case", err)
	if diff := cmp.Diff(got, byEmail, opts); diff != "" {
		t.Errorf("get by email (-want +got):\n%s", diff)
	}

	_, err = us.Create(ctx(t), newUser(tn.ID, "ALICE.SMITH", ""))
	wantErr(t, "create the username in other case", err, errs.ErrConflict)
	_, err = us.Create(ctx(t), newUser(tn.ID, "bob", "ALICE@example.com"))
	wantErr(t, "create the email in other case", err, errs.ErrConflict)
}

func userCreateConflict(t *testing.T, e *env) {
	us := e.Store.Users()
	tn := mustTenant(t, e, "acme")
	alice := mustUser(t, e, tn.ID, "alice", "alice@example.com")

	sameID := newUser(tn.ID, "bob", "bob@example.com")
	sameID.ID = alice.ID
	_, err := us.Create(ctx(t), sameID)
	wantErr(t, "create with a taken ID", err, errs.ErrConflict)

	_, err = us.Create(ctx(t), newUser(tn.ID, "alice", "other@example.com"))
	wantErr(t, "create with a taken username", err, errs.ErrConflict)

	sameEmail := newUser(tn.ID, "carol", "alice@example.com")
	_, err = us.Create(ctx(t), sameEmail)
	wantErr(t, "create with a taken email", err, errs.ErrConflict)
	_, err = us.Get(ctx(t), tn.ID, sameEmail.ID)
	wantErr(t, "get the refused user", err, errs.ErrNotFound)

	// Nothing the refused creates would have taken was reserved.
	for _, name := range []string{"bob", "carol"} {
		_, err = us.GetByUsername(ctx(t), tn.ID, name)
		wantErr(t, "get refused username "+name, err, errs.ErrNotFound)
	}
	for _, email := range []string{"bob@example.com", "other@example.com"} {
		_, err = us.GetByEmail(ctx(t), tn.ID, email)
		wantErr(t, "get refused email "+email, err, errs.ErrNotFound)
	}
	mustUser(t, e, tn.ID, "bob", "bob@example.com")
	mustUser(t, e, tn.ID, "carol", "other@example.com")

	got, err := us.Get(ctx(t), tn.ID, alice.ID)
	mustOK(t, "get alice", err)
	if diff := cmp.Diff(alice, got, opts); diff != "" {
		t.Errorf("alice after refused creates (-want +got):\n%s", diff)
	}
	n, err := us.Count(ctx(t), tn.ID)
	mustOK(t, "count", err)
	if n != 3 {
		t.Errorf("count = %d, want 3", n)
	}
}

func userNoEmail(t *testing.T, e *env) {
	us := e.Store.Users()
	tn := mustTenant(t, e, "acme")
	mustUser(t, e, tn.ID, "alice", "")
	mustUser(t, e, tn.ID, "bob", "")

	_, err := us.GetByEmail(ctx(t), tn.ID, "")
	wantErr(t, "get by empty email", err, errs.ErrNotFound)
}

func userCreateRaceUsername(t *testing.T, e *env) {
	us := e.Store.Users()
	tn := mustTenant(t, e, "acme")
	const n = 16
	in := make([]store.User, n)
	for i := range in {
		in[i] = newUser(tn.ID, "contested", fmt.Sprintf("u%d@example.com", i))
	}

	results := race(n, func(i int) error {
		_, err := us.Create(ctx(t), in[i])
		return err
	})
	winner := oneWinner(t, "concurrent create", results)

	got, err := us.GetByUsername(ctx(t), tn.ID, "contested")
	mustOK(t, "get by username", err)
	if got.ID != in[winner].ID {
		t.Errorf("username belongs to %s, want the winner %s", got.ID, in[winner].ID)
	}
	for i, u := range in {
		if i == winner {
			continue
		}
		_, err := us.Get(ctx(t), tn.ID, u.ID)
		wantErr(t, "get a loser", err, errs.ErrNotFound)
		_, err = us.GetByEmail(ctx(t), tn.ID, u.Email)
		wantErr(t, "get a loser's email", err, errs.ErrNotFound)
	}
	count, err := us.Count(ctx(t), tn.ID)
	mustOK(t, "count", err)
	if count != 1 {
		t.Errorf("count = %d, want 1", count)
	}
}

func userCreateRaceEmail(t *testing.T, e *env) {
	us := e.Store.Users()
	tn := mustTenant(t, e, "acme")
	const n = 16
	in := make([]store.User, n)
	for i := range in {
		in[i] = newUser(tn.ID, fmt.Sprintf("user%d", i), "shared@example.com")
	}

	results := race(n, func(i int) error {
		_, err := us.Create(ctx(t), in[i])
		return err
	})
	winner := oneWinner(t, "concurrent create", results)

	got, err := us.GetByEmail(ctx(t), tn.ID, "shared@example.com")
	mustOK(t, "get by email", err)
	if got.ID != in[winner].ID {
		t.Errorf("email belongs to %s, want the winner %s", got.ID, in[winner].ID)
	}
	for i, u := range in {
		if i == winner {
			continue
		}
		_, err := us.GetByUsername(ctx(t), tn.ID, u.Username)
		wantErr(t, "get a loser's username", err, errs.ErrNotFound)
	}
	count, err := us.Count(ctx(t), tn.ID)
	mustOK(t, "count", err)
	if count != 1 {
		t.Errorf("count = %d, want 1", count)
	}
}

func userEmptyUsername(t *testing.T, e *env) {
	us := e.Store.Users()
	tn := mustTenant(t, e, "acme")
	_, err := us.Create(ctx(t), newUser(tn.ID, "", "nobody@example.com"))
	wantErr(t, "create without a username", err, errs.ErrInvalidArgument)

	_, err = us.GetByEmail(ctx(t), tn.ID, "nobody@example.com")
	wantErr(t, "get the refused email", err, errs.ErrNotFound)
	n, err := us.Count(ctx(t), tn.ID)
	mustOK(t, "count", err)
	if n != 0 {
		t.Errorf("count = %d after a refused create, want 0", n)
	}

	alice := mustUser(t, e, tn.ID, "alice", "")
	_, err = us.Update(ctx(t), tn.ID, alice.ID, func(old store.User) (store.User, error) {
		old.Username = ""
		return old, nil
	})
	wantErr(t, "update to an empty username", err, errs.ErrInvalidArgument)
	got, err := us.GetByUsername(ctx(t), tn.ID, "alice")
	mustOK(t, "get by username after the refused update", err)
	if diff := cmp.Diff(alice, got, opts); diff != "" {
		t.Errorf("user after the refused update (-want +got):\n%s", diff)
	}
}

func userUpdate(t *testing.T, e *env) {
	us := e.Store.Users()
	tn := mustTenant(t, e, "acme")
	other := mustTenant(t, e, "globex")
	created := mustUser(t, e, tn.ID, "alice", "alice@example.com")
	later := someTime.Add(2 * time.Hour)

	var seen []store.User
	got, err := us.Update(ctx(t), tn.ID, created.ID, func(old store.User) (store.User, error) {
		seen = append(seen, old)
		old.DisplayName = "Alice Smith"
		old.Status = store.UserLocked
		old.UpdatedAt = later
		// Fields that are not fn's to change.
		old.ID = newID()
		old.TenantID = other.ID
		old.CreatedAt = later
		old.Version = 99
		return old, nil
	})
	mustOK(t, "update", err)

	if len(seen) != 1 {
		t.Fatalf("fn ran %d times without contention, want 1", len(seen))
	}
	if diff := cmp.Diff(created, seen[0], opts); diff != "" {
		t.Errorf("fn was given (-want +got):\n%s", diff)
	}
	want := created
	want.DisplayName = "Alice Smith"
	want.Status = store.UserLocked
	want.UpdatedAt = later.UTC().Truncate(time.Millisecond)
	want.Version = 2
	if diff := cmp.Diff(want, got, opts); diff != "" {
		t.Errorf("update returned (-want +got):\n%s", diff)
	}
	checkTime(t, "UpdatedAt", got.UpdatedAt, later)

	stored, err := us.Get(ctx(t), tn.ID, created.ID)
	mustOK(t, "get", err)
	if diff := cmp.Diff(want, stored, opts); diff != "" {
		t.Errorf("get after update (-want +got):\n%s", diff)
	}
	n, err := us.Count(ctx(t), other.ID)
	mustOK(t, "count the other tenant", err)
	if n != 0 {
		t.Errorf("the tenant fn tried to move the user to has %d users, want 0", n)
	}
}

func userRenameTaken(t *testing.T, e *env) {
	us := e.Store.Users()
	tn := mustTenant(t, e, "acme")
	mustUser(t, e, tn.ID, "alice", "alice@example.com")
	bob := mustUser(t, e, tn.ID, "bob", "bob@example.com")

	rename := func(username, email string) error {
		_, err := us.Update(ctx(t), tn.ID, bob.ID, func(old store.User) (store.User, error) {
			old.Username = username
			old.Email = email
			old.DisplayName = "changed"
			return old, nil
		})
		return err
	}
	wantErr(t, "rename to a taken username", rename("Alice", "bob@example.com"),
		errs.ErrConflict)
	wantErr(t, "change to a taken email", rename("bob", "ALICE@example.com"), errs.ErrConflict)
	wantErr(t, "free username with a taken email",
		rename("robert", "alice@example.com"), errs.ErrConflict)
	wantErr(t, "taken username with a free email",
		rename("alice", "robert@example.com"), errs.ErrConflict)

	got, err := us.Get(ctx(t), tn.ID, bob.ID)
	mustOK(t, "get bob", err)
	if diff := cmp.Diff(bob, got, opts); diff != "" {
		t.Errorf("bob after refused renames (-want +got):\n%s", diff)
	}
	_, err = us.GetByUsername(ctx(t), tn.ID, "robert")
	wantErr(t, "get the username of a refused rename", err, errs.ErrNotFound)
	_, err = us.GetByEmail(ctx(t), tn.ID, "robert@example.com")
	wantErr(t, "get the email of a refused rename", err, errs.ErrNotFound)
	byName, err := us.GetByUsername(ctx(t), tn.ID, "bob")
	mustOK(t, "get by bob's username", err)
	byEmail, err := us.GetByEmail(ctx(t), tn.ID, "bob@example.com")
	mustOK(t, "get by bob's email", err)
	if byName.ID != bob.ID || byEmail.ID != bob.ID {
		t.Errorf("bob's username and email lead to %s and %s, want %s", byName.ID, byEmail.ID,
			bob.ID)
	}
}

func userRenameFrees(t *testing.T, e *env) {
	us := e.Store.Users()
	tn := mustTenant(t, e, "acme")
	alice := mustUser(t, e, tn.ID, "alice", "alice@example.com")

	got, err := us.Update(ctx(t), tn.ID, alice.ID, func(old store.User) (store.User, error) {
		old.Username = "Alicia"
		old.Email = "alicia@example.com"
		return old, nil
	})
	mustOK(t, "rename", err)
	if got.Username != "alicia" || got.Email != "alicia@example.com" {
		t.Errorf("renamed to (%q, %q), want (alicia, alicia@example.com)", got.Username,
			got.Email)
	}

	_, err = us.GetByUsername(ctx(t), tn.ID, "alice")
	wantErr(t, "get by the old username", err, errs.ErrNotFound)
	_, err = us.GetByEmail(ctx(t), tn.ID, "alice@example.com")
	wantErr(t, "get by the old email", err, errs.ErrNotFound)
	byName, err := us.GetByUsername(ctx(t), tn.ID, "ALICIA")
	mustOK(t, "get by the new username", err)
	if diff := cmp.Diff(got, byName, opts); diff != "" {
		t.Errorf("get by new username (-want +got):\n%s", diff)
	}
	mustUser(t, e, tn.ID, "alice", "alice@example.com")

	// Clearing the email frees it too.
	_, err = us.Update(ctx(t), tn.ID, alice.ID, func(old store.User) (store.User, error) {
		old.Email = ""
		return old, nil
	})
	mustOK(t, "clear the email", err)
	_, err = us.GetByEmail(ctx(t), tn.ID, "alicia@example.com")
	wantErr(t, "get by the cleared email", err, errs.ErrNotFound)
	mustUser(t, e, tn.ID, "carol", "alicia@example.com")
}

func userRenameCase(t *testing.T, e *env) {
	us := e.Store.Users()
	tn := mustTenant(t, e, "acme")
	alice := mustUser(t, e, tn.ID, "alice", "alice@example.com")

	got, err := us.Update(ctx(t), tn.ID, alice.ID, func(old store.User) (store.User, error) {
		old.Username = "ALICE"
		old.Email = "Alice@Example.com"
		return old, nil
	})
	mustOK(t, "update to the same names in other case", err)
	if got.Username != "alice" || got.Email != "alice@example.com" || got.Version != 2 {
		t.Errorf("got (%q, %q, version %d), want (alice, alice@example.com, version 2)",
			got.Username, got.Email, got.Version)
	}
	byName, err := us.GetByUsername(ctx(t), tn.ID, "alice")
	mustOK(t, "get by username", err)
	if byName.ID != alice.ID {
		t.Errorf("username leads to %s, want %s", byName.ID, alice.ID)
	}
}

func userRenameRace(t *testing.T, e *env) {
	us := e.Store.Users()
	tn := mustTenant(t, e, "acme")
	const n = 16
	in := make([]store.User, n)
	for i := range in {
		in[i] = mustUser(t, e, tn.ID, fmt.Sprintf("user%d", i), "")
	}

	results := race(n, func(i int) error {
		_, err := us.Update(ctx(t), tn.ID, in[i].ID, func(old store.User) (store.User, error) {
			old.Username = "target"
			return old, nil
		})
		return err
	})
	winner := oneWinner(t, "concurrent rename", results)

	got, err := us.GetByUsername(ctx(t), tn.ID, "target")
	mustOK(t, "get by username", err)
	if got.ID != in[winner].ID {
		t.Errorf("username belongs to %s, want the winner %s", got.ID, in[winner].ID)
	}
	_, err = us.GetByUsername(ctx(t), tn.ID, in[winner].Username)
	wantErr(t, "get by the winner's old username", err, errs.ErrNotFound)
	for i, u := range in {
		if i == winner {
			continue
		}
		stored, err := us.Get(ctx(t), tn.ID, u.ID)
		mustOK(t, "get a loser", err)
		if diff := cmp.Diff(u, stored, opts); diff != "" {
			t.Errorf("loser %d after its refused rename (-want +got):\n%s", i, diff)
		}
	}
}

func userUpdateFnError(t *testing.T, e *env) {
	us := e.Store.Users()
	tn := mustTenant(t, e, "acme")
	created := mustUser(t, e, tn.ID, "alice", "alice@example.com")

	_, err := us.Update(ctx(t), tn.ID, created.ID, func(old store.User) (store.User, error) {
		old.Username = "never"
		old.Email = "never@example.com"
		return old, errFn
	})
	wantErr(t, "update with failing fn", err, errFn)

	got, err := us.Get(ctx(t), tn.ID, created.ID)
	mustOK(t, "get", err)
	if diff := cmp.Diff(created, got, opts); diff != "" {
		t.Errorf("user after failed update (-want +got):\n%s", diff)
	}
	_, err = us.GetByUsername(ctx(t), tn.ID, "never")
	wantErr(t, "get the username of the failed update", err, errs.ErrNotFound)
}

func userUpdateLostRace(t *testing.T, e *env) {
	us := e.Store.Users()
	tn := mustTenant(t, e, "acme")
	created := mustUser(t, e, tn.ID, "alice", "")

	calls := 0
	got, err := us.Update(ctx(t), tn.ID, created.ID, func(old store.User) (store.User, error) {
		calls++
		if calls == 1 {
			_, err := us.Update(ctx(t), tn.ID, created.ID, func(o store.User) (store.User, error) {
				o.DisplayName = "inner"
				o.Username = "alicia"
				return o, nil
			})
			if err != nil {
				t.Errorf("inner update: %v", err)
			}
		}
		old.DisplayName += "+outer"
		return old, nil
	})
	mustOK(t, "outer update", err)

	if calls != 2 {
		t.Errorf("fn ran %d times, want 2 (once more after the lost race)", calls)
	}
	if got.DisplayName != "inner+outer" || got.Username != "alicia" || got.Version != 3 {
		t.Errorf("got (%q, %q, version %d), want (inner+outer, alicia, version 3)",
			got.DisplayName, got.Username, got.Version)
	}
	stored, err := us.Get(ctx(t), tn.ID, created.ID)
	mustOK(t, "get", err)
	if diff := cmp.Diff(got, stored, opts); diff != "" {
		t.Errorf("get after update (-want +got):\n%s", diff)
	}
}

func userUpdateConcurrent(t *testing.T, e *env) {
	us := e.Store.Users()
	tn := mustTenant(t, e, "acme")
	in := newUser(tn.ID, "counter", "")
	in.DisplayName = ""
	created, err := us.Create(ctx(t), in)
	mustOK(t, "create", err)

	var calls atomic.Int64
	seen := make([][]int64, incWriters)
	results := race(incWriters, func(w int) error {
		for range incEach {
			got, err := us.Update(ctx(t), tn.ID, created.ID,
				func(old store.User) (store.User, error) {
					calls.Add(1)
					next, err := increment(old.DisplayName)
					old.DisplayName = next
					return old, err
				})
			if err != nil {
				return err
			}
			n, _ := strconv.ParseInt(got.DisplayName, 10, 64)
			seen[w] = append(seen[w], n)
		}
		return nil
	})

	final, err := us.Get(ctx(t), tn.ID, created.ID)
	mustOK(t, "get", err)
	checkIncrements(t, results, slices.Concat(seen...), calls.Load(), final.DisplayName,
		final.Version)
}

func userUpdateDeleted(t *testing.T, e *env) {
	us := e.Store.Users()
	tn := mustTenant(t, e, "acme")
	created := mustUser(t, e, tn.ID, "alice", "alice@example.com")

	calls := 0
	_, err := us.Update(ctx(t), tn.ID, created.ID, func(old store.User) (store.User, error) {
		calls++
		if calls == 1 {
			if err := us.Delete(ctx(t), tn.ID, created.ID); err != nil {
				t.Errorf("delete inside fn: %v", err)
			}
		}
		old.Username = "zombie"
		return old, nil
	})
	wantErr(t, "update of a user deleted meanwhile", err, errs.ErrNotFound)

	_, err = us.Get(ctx(t), tn.ID, created.ID)
	wantErr(t, "get after the update", err, errs.ErrNotFound)
	for _, name := range []string{"alice", "zombie"} {
		_, err = us.GetByUsername(ctx(t), tn.ID, name)
		wantErr(t, "get by username "+name, err, errs.ErrNotFound)
	}
	n, err := us.Count(ctx(t), tn.ID)
	mustOK(t, "count", err)
	if n != 0 {
		t.Errorf("count = %d, want 0", n)
	}
	mustUser(t, e, tn.ID, "zombie", "alice@example.com")
}

func userDelete(t *testing.T, e *env) {
	us := e.Store.Users()
	tn := mustTenant(t, e, "acme")
	gone := mustUser(t, e, tn.ID, "alice", "alice@example.com")
	kept := mustUser(t, e, tn.ID, "bob", "bob@example.com")

	mustOK(t, "delete", us.Delete(ctx(t), tn.ID, gone.ID))

	_, err := us.Get(ctx(t), tn.ID, gone.ID)
	wantErr(t, "get after delete", err, errs.ErrNotFound)
	_, err = us.GetByUsername(ctx(t), tn.ID, "alice")
	wantErr(t, "get by username after delete", err, errs.ErrNotFound)
	_, err = us.GetByEmail(ctx(t), tn.ID, "alice@example.com")
	wantErr(t, "get by email after delete", err, errs.ErrNotFound)
	wantErr(t, "second delete", us.Delete(ctx(t), tn.ID, gone.ID), errs.ErrNotFound)
	_, err = us.Update(ctx(t), tn.ID, gone.ID, func(old store.User) (store.User, error) {
		t.Error("fn called for a deleted user")
		return old, nil
	})
	wantErr(t, "update after delete", err, errs.ErrNotFound)

	items, _, err := us.List(ctx(t), tn.ID, store.Page{})
	mustOK(t, "list", err)
	if diff := cmp.Diff([]store.User{kept}, items, opts); diff != "" {
		t.Errorf("list after delete (-want +got):\n%s", diff)
	}

	again := mustUser(t, e, tn.ID, "Alice", "alice@example.com")
	byName, err := us.GetByUsername(ctx(t), tn.ID, "alice")
	mustOK(t, "get the new alice", err)
	if byName.ID != again.ID {
		t.Errorf("username leads to %s, want the new user %s", byName.ID, again.ID)
	}
}

func userIsolation(t *testing.T, e *env) {
	us := e.Store.Users()
	a := mustTenant(t, e, "acme")
	b := mustTenant(t, e, "globex")
	alice := mustUser(t, e, a.ID, "alice", "alice@example.com")

	_, err := us.Get(ctx(t), b.ID, alice.ID)
	wantErr(t, "get through the other tenant", err, errs.ErrNotFound)
	_, err = us.GetByUsername(ctx(t), b.ID, "alice")
	wantErr(t, "get by username through the other tenant", err, errs.ErrNotFound)
	_, err = us.GetByEmail(ctx(t), b.ID, "alice@example.com")
	wantErr(t, "get by email through the other tenant", err, errs.ErrNotFound)
	_, err = us.Update(ctx(t), b.ID, alice.ID, func(old store.User) (store.User, error) {
		t.Error("fn called through the other tenant")
		old.DisplayName = "hijacked"
		return old, nil
	})
	wantErr(t, "update through the other tenant", err, errs.ErrNotFound)
	wantErr(t, "delete through the other tenant", us.Delete(ctx(t), b.ID, alice.ID),
		errs.ErrNotFound)
	items, next, err := us.List(ctx(t), b.ID, store.Page{})
	mustOK(t, "list the other tenant", err)
	if len(items) != 0 || next != "" {
		t.Errorf("other tenant lists %d users and next %q, want none", len(items), next)
	}
	n, err := us.Count(ctx(t), b.ID)
	mustOK(t, "count the other tenant", err)
	if n != 0 {
		t.Errorf("other tenant counts %d users, want 0", n)
	}

	got, err := us.Get(ctx(t), a.ID, alice.ID)
	mustOK(t, "get in the own tenant", err)
	if diff := cmp.Diff(alice, got, opts); diff != "" {
		t.Errorf("alice after attempts from the other tenant (-want +got):\n%s", diff)
	}

	// The same username and email are free in another tenant.
	twin := mustUser(t, e, b.ID, "alice", "alice@example.com")
	for _, tc := range []struct {
		tenant string
		want   string
	}{{a.ID, alice.ID}, {b.ID, twin.ID}} {
		byName, err := us.GetByUsername(ctx(t), tc.tenant, "alice")
		mustOK(t, "get by username", err)
		byEmail, err := us.GetByEmail(ctx(t), tc.tenant, "alice@example.com")
		mustOK(t, "get by email", err)
		if byName.ID != tc.want || byEmail.ID != tc.want {
			t.Errorf("in tenant %s alice is %s and %s, want %s", tc.tenant, byName.ID,
				byEmail.ID, tc.want)
		}
	}
	mustOK(t, "delete the twin", us.Delete(ctx(t), b.ID, twin.ID))
	_, err = us.Get(ctx(t), a.ID, alice.ID)
	mustOK(t, "get alice after the twin's delete", err)
}

func userCount(t *testing.T, e *env) {
	us := e.Store.Users()
	a := mustTenant(t, e, "acme")
	b := mustTenant(t, e, "globex")

	count := func(tenantID string, want int) {
		t.Helper()
		got, err := us.Count(ctx(t), tenantID)
		mustOK(t, "count", err)
		if got != want {
			t.Errorf("count = %d, want %d", got, want)
		}
	}
	count(a.ID, 0)
	count(newID(), 0)
	var ids []string
	for i := range 3 {
		ids = append(ids, mustUser(t, e, a.ID, fmt.Sprintf("user%d", i), "").ID)
	}
	mustUser(t, e, b.ID, "other", "")
	count(a.ID, 3)
	count(b.ID, 1)

	mustOK(t, "delete", us.Delete(ctx(t), a.ID, ids[1]))
	count(a.ID, 2)
	count(b.ID, 1)
}

func userNotFound(t *testing.T, e *env) {
	us := e.Store.Users()
	tn := mustTenant(t, e, "acme")
	mustUser(t, e, tn.ID, "alice", "alice@example.com")
	id := newID()

	for _, tenantID := range []string{tn.ID, newID()} {
		_, err := us.Get(ctx(t), tenantID, id)
		wantErr(t, "get", err, errs.ErrNotFound)
		_, err = us.GetByUsername(ctx(t), tenantID, "nobody")
		wantErr(t, "get by username", err, errs.ErrNotFound)
		_, err = us.GetByUsername(ctx(t), tenantID, "")
		wantErr(t, "get by empty username", err, errs.ErrNotFound)
		_, err = us.GetByEmail(ctx(t), tenantID, "nobody@example.com")
		wantErr(t, "get by email", err, errs.ErrNotFound)
		_, err = us.Update(ctx(t), tenantID, id, func(old store.User) (store.User, error) {
			t.Error("fn called for a missing user")
			return old, nil
		})
		wantErr(t, "update", err, errs.ErrNotFound)
		wantErr(t, "delete", us.Delete(ctx(t), tenantID, id), errs.ErrNotFound)
	}
	_, err := us.Get(ctx(t), tn.ID, id)
	wantErr(t, "get after update and delete", err, errs.ErrNotFound)
}

func userBadIDs(t *testing.T, e *env) {
	us := e.Store.Users()
	tn := mustTenant(t, e, "acme")
	good := mustUser(t, e, tn.ID, "alice", "alice@example.com")
	noFn := func(what string) func(store.User) (store.User, error) {
		return func(old store.User) (store.User, error) {
			t.Errorf("fn called for %s", what)
			return old, nil
		}
	}

	for i, bad := range badIDs() {
		what := fmt.Sprintf("ID %q", bad)
		in := newUser(tn.ID, fmt.Sprintf("bad%d", i), "")
		in.ID = bad
		_, err := us.Create(ctx(t), in)
		wantErr(t, "create with "+what, err, errs.ErrInvalidArgument)
		_, err = us.Get(ctx(t), tn.ID, bad)
		wantErr(t, "get "+what, err, errs.ErrInvalidArgument)
		_, err = us.Update(ctx(t), tn.ID, bad, noFn(what))
		wantErr(t, "update "+what, err, errs.ErrInvalidArgument)
		wantErr(t, "delete "+what, us.Delete(ctx(t), tn.ID, bad), errs.ErrInvalidArgument)

		what = fmt.Sprintf("tenant ID %q", bad)
		in = newUser(bad, fmt.Sprintf("bad%d", i), "")
		_, err = us.Create(ctx(t), in)
		wantErr(t, "create with "+what, err, errs.ErrInvalidArgument)
		_, err = us.Get(ctx(t), bad, good.ID)
		wantErr(t, "get with "+what, err, errs.ErrInvalidArgument)
		_, err = us.GetByUsername(ctx(t), bad, "alice")
		wantErr(t, "get by username with "+what, err, errs.ErrInvalidArgument)
		_, err = us.GetByEmail(ctx(t), bad, "alice@example.com")
		wantErr(t, "get by email with "+what, err, errs.ErrInvalidArgument)
		_, _, err = us.List(ctx(t), bad, store.Page{})
		wantErr(t, "list with "+what, err, errs.ErrInvalidArgument)
		_, err = us.Update(ctx(t), bad, good.ID, noFn(what))
		wantErr(t, "update with "+what, err, errs.ErrInvalidArgument)
		wantErr(t, "delete with "+what, us.Delete(ctx(t), bad, good.ID), errs.ErrInvalidArgument)
		_, err = us.Count(ctx(t), bad)
		wantErr(t, "count with "+what, err, errs.ErrInvalidArgument)
	}

	items, _, err := us.List(ctx(t), tn.ID, store.Page{})
	mustOK(t, "list", err)
	if diff := cmp.Diff([]store.User{good}, items, opts); diff != "" {
		t.Errorf("users after refused calls (-want +got):\n%s", diff)
	}
}

// notUTF8 is a string that is not valid UTF-8.
const notUTF8 = "bad\xff\xfe"

func userBadText(t *testing.T, e *env) {
	us := e.Store.Users()
	tn := mustTenant(t, e, "acme")
	alice := mustUser(t, e, tn.ID, "alice", "alice@example.com")

	for _, in := range []store.User{
		newUser(tn.ID, notUTF8, ""),
		newUser(tn.ID, "bob", "bob"+notUTF8+"@example.com"),
		func() store.User { u := newUser(tn.ID, "carol", ""); u.DisplayName = notUTF8; return u }(),
	} {
		_, err := us.Create(ctx(t), in)
		wantErr(t, fmt.Sprintf("create %+v", in), err, errs.ErrInvalidArgument)
	}
	for _, change := range []func(*store.User){
		func(u *store.User) { u.Username = notUTF8 },
		func(u *store.User) { u.DisplayName = notUTF8 },
	} {
		_, err := us.Update(ctx(t), tn.ID, alice.ID, func(old store.User) (store.User, error) {
			change(&old)
			return old, nil
		})
		wantErr(t, "update to text that is not UTF-8", err, errs.ErrInvalidArgument)
	}

	items, _, err := us.List(ctx(t), tn.ID, store.Page{})
	mustOK(t, "list", err)
	if diff := cmp.Diff([]store.User{alice}, items, opts); diff != "" {
		t.Errorf("users after refused writes (-want +got):\n%s", diff)
	}
}

func userBadStatus(t *testing.T, e *env) {
	us := e.Store.Users()
	tn := mustTenant(t, e, "acme")
	alice := mustUser(t, e, tn.ID, "alice", "")

	for _, st := range []store.UserStatus{"", "active", "DELETED"} {
		in := newUser(tn.ID, "bob", "")
		in.Status = st
		_, err := us.Create(ctx(t), in)
		wantErr(t, fmt.Sprintf("create with status %q", st), err, errs.ErrInvalidArgument)
		_, err = us.Update(ctx(t), tn.ID, alice.ID, func(old store.User) (store.User, error) {
			old.Status = st
			return old, nil
		})
		wantErr(t, fmt.Sprintf("update to status %q", st), err, errs.ErrInvalidArgument)
	}

	for _, st := range []store.UserStatus{
		store.UserActive, store.UserLocked, store.UserDisabled, store.UserPending,
	} {
		got, err := us.Update(ctx(t), tn.ID, alice.ID, func(old store.User) (store.User, error) {
			old.Status = st
			return old, nil
		})
		mustOK(t, fmt.Sprintf("update to status %q", st), err)
		if got.Status != st {
			t.Errorf("status = %q, want %q", got.Status, st)
		}
	}
	n, err := us.Count(ctx(t), tn.ID)
	mustOK(t, "count", err)
	if n != 1 {
		t.Errorf("count = %d after refused creates, want 1", n)
	}
}
