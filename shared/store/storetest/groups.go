package storetest

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
)

// Groups are pinned down further than the contract of package store
// writes out: names are folded like usernames, Members and GroupsOf of
// another tenant's group or user are ErrNotFound and empty respectively,
// and a search by a group that does not exist (in the tenant) finds
// nobody rather than failing.
//
// Some tests share a store (see together): a real server's fresh store
// costs about a second and a half.

var groupTests = []test{
	{"groups are created, read, renamed and deleted", together(
		test{"a created group reads back by ID and folded name; IDs and names are unique",
			groupCreateGet},
		test{"update renames and frees the old name; delete frees the name",
			groupUpdateDelete},
		test{"concurrent creates of one name succeed exactly once", groupCreateRace},
	)},
	{"members are added and removed idempotently and listed in pages", groupMembers},
	{"a user belongs to at most MaxGroupsPerUser groups", groupBound},
	{"deleting a group or a user removes its memberships", groupDeleteMemberships},
	{"a member added while its group or user is deleted is never left behind",
		groupDeleteRace},
	{"tenants are isolated and bad input changes nothing", together(
		test{"a group of another tenant is not found by any method", groupIsolation},
		test{"malformed IDs and names are invalid arguments", groupBadInput},
	)},
	{"users are searched", together(
		test{"by status, organization, group and attribute", searchFilters},
		test{"in pages bound to the filter that miss nothing", searchPaging},
	)},
}

// together runs tests one after another on one store, each in a tenant of
// its own, to spare a real server the cost of a fresh store for each.
func together(tests ...test) func(t *testing.T, e *env) {
	return func(t *testing.T, e *env) {
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) { tc.run(t, e) })
		}
	}
}

func newGroup(tenantID, name string) store.Group {
	return store.Group{
		ID: newID(), TenantID: tenantID, Name: name, DisplayName: "Group " + name,
		Description: "The " + name + " group", CreatedAt: someTime, UpdatedAt: someTime,
	}
}

func mustGroup(t *testing.T, e *env, tenantID, name string) store.Group {
	t.Helper()
	g, err := e.Store.Groups().Create(ctx(t), newGroup(tenantID, name))
	mustOK(t, "create group "+name, err)
	return g
}

func mustAdd(t *testing.T, e *env, tenantID, groupID, userID string) {
	t.Helper()
	mustOK(t, "add member", e.Store.Groups().AddMember(ctx(t), tenantID, groupID, userID))
}

// allMembers pages through a group's members two at a time.
func allMembers(t *testing.T, e *env, tenantID, groupID string) []string {
	t.Helper()
	var out []string
	after := ""
	for range 1000 {
		ids, next, err := e.Store.Groups().Members(ctx(t), tenantID, groupID,
			store.Page{After: after, Limit: 2})
		mustOK(t, "members", err)
		if len(ids) > 2 {
			t.Fatalf("a page of 2 members holds %d", len(ids))
		}
		out = append(out, ids...)
		if next == "" {
			return out
		}
		after = next
	}
	t.Fatal("members: the cursor never ends")
	return nil
}

func groupIDsOf(t *testing.T, e *env, tenantID, userID string) []string {
	t.Helper()
	gs, err := e.Store.Groups().GroupsOf(ctx(t), tenantID, userID)
	mustOK(t, "groups of", err)
	return idsOf(gs, func(g store.Group) string { return g.ID })
}

func sorted(ids ...string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}

func groupCreateGet(t *testing.T, e *env) {
	tn := mustTenant(t, e, "crud")
	gs := e.Store.Groups()
	in := newGroup(tn.ID, "Admins")
	in.Version = 9 // the store's to set
	got, err := gs.Create(ctx(t), in)
	mustOK(t, "create", err)
	want := in
	want.Name, want.Version = "admins", 1
	want.CreatedAt = someTime.UTC().Truncate(1e6)
	want.UpdatedAt = want.CreatedAt
	if diff := cmp.Diff(want, got, opts); diff != "" {
		t.Errorf("created (-want +got):\n%s", diff)
	}
	read, err := gs.Get(ctx(t), tn.ID, in.ID)
	mustOK(t, "get", err)
	if diff := cmp.Diff(want, read, opts); diff != "" {
		t.Errorf("read back (-want +got):\n%s", diff)
	}
	checkTime(t, "createdAt", read.CreatedAt, someTime)
	byName, err := gs.GetByName(ctx(t), tn.ID, "ADMINS")
	mustOK(t, "get by name", err)
	if diff := cmp.Diff(want, byName, opts); diff != "" {
		t.Errorf("read by name (-want +got):\n%s", diff)
	}
	for _, name := range []string{"", "nobody", "bad\xff"} {
		_, err = gs.GetByName(ctx(t), tn.ID, name)
		wantErr(t, fmt.Sprintf("get by name %q", name), err, errs.ErrNotFound)
	}

	sameID := newGroup(tn.ID, "other")
	sameID.ID = in.ID
	_, err = gs.Create(ctx(t), sameID)
	wantErr(t, "create with a taken ID", err, errs.ErrConflict)
	sameName := newGroup(tn.ID, "aDMINS")
	_, err = gs.Create(ctx(t), sameName)
	wantErr(t, "create with a taken name, in another case", err, errs.ErrConflict)
	_, err = gs.Get(ctx(t), tn.ID, sameName.ID)
	wantErr(t, "get the refused group", err, errs.ErrNotFound)
	// The refused create with a taken ID did not reserve its name.
	mustGroup(t, e, tn.ID, "other")

	items, next, err := gs.List(ctx(t), tn.ID, store.Page{})
	mustOK(t, "list", err)
	if len(items) != 2 || next != "" || items[0].ID > items[1].ID {
		t.Errorf("list = %+v, next %q; want two groups in order of ID", items, next)
	}
}

func groupUpdateDelete(t *testing.T, e *env) {
	tn := mustTenant(t, e, "rename")
	gs := e.Store.Groups()
	g := mustGroup(t, e, tn.ID, "ops")
	taken := mustGroup(t, e, tn.ID, "taken")
	later := someTime.Add(90 * 60e9)

	up, err := gs.Update(ctx(t), tn.ID, g.ID, func(x store.Group) (store.Group, error) {
		x.Name, x.DisplayName, x.Description = "SRE", "Site reliability", "On call"
		x.UpdatedAt, x.Version, x.CreatedAt = later, 40, later
		return x, nil
	})
	mustOK(t, "update", err)
	want := g
	want.Name, want.DisplayName, want.Description = "sre", "Site reliability", "On call"
	want.UpdatedAt, want.Version = later.UTC().Truncate(1e6), 2
	if diff := cmp.Diff(want, up, opts); diff != "" {
		t.Errorf("updated (-want +got):\n%s", diff)
	}
	read, err := gs.GetByName(ctx(t), tn.ID, "sre")
	mustOK(t, "get by the new name", err)
	if diff := cmp.Diff(want, read, opts); diff != "" {
		t.Errorf("read back (-want +got):\n%s", diff)
	}
	_, err = gs.GetByName(ctx(t), tn.ID, "ops")
	wantErr(t, "get by the old name", err, errs.ErrNotFound)
	mustGroup(t, e, tn.ID, "ops") // the old name is free

	_, err = gs.Update(ctx(t), tn.ID, g.ID, func(x store.Group) (store.Group, error) {
		x.Name = "TAKEN"
		return x, nil
	})
	wantErr(t, "rename to a taken name", err, errs.ErrConflict)
	_, err = gs.Update(ctx(t), tn.ID, g.ID, func(x store.Group) (store.Group, error) {
		return x, errFn
	})
	if !errors.Is(err, errFn) {
		t.Errorf("update whose fn fails: got %v, want fn's error", err)
	}
	read, err = gs.Get(ctx(t), tn.ID, g.ID)
	mustOK(t, "get", err)
	if diff := cmp.Diff(want, read, opts); diff != "" {
		t.Errorf("after refused updates (-want +got):\n%s", diff)
	}

	mustOK(t, "delete", gs.Delete(ctx(t), tn.ID, g.ID))
	_, err = gs.Get(ctx(t), tn.ID, g.ID)
	wantErr(t, "get after delete", err, errs.ErrNotFound)
	wantErr(t, "delete again", gs.Delete(ctx(t), tn.ID, g.ID), errs.ErrNotFound)
	_, err = gs.Update(ctx(t), tn.ID, g.ID, func(x store.Group) (store.Group, error) {
		return x, nil
	})
	wantErr(t, "update after delete", err, errs.ErrNotFound)
	mustGroup(t, e, tn.ID, "sre") // the name is free
	items, _, err := gs.List(ctx(t), tn.ID, store.Page{})
	mustOK(t, "list", err)
	for _, x := range items {
		if x.ID == g.ID {
			t.Error("the deleted group is still listed")
		}
	}
	if _, err := gs.Get(ctx(t), tn.ID, taken.ID); err != nil {
		t.Errorf("the other group reads as %v", err)
	}
}

func groupCreateRace(t *testing.T, e *env) {
	tn := mustTenant(t, e, "race")
	in := make([]store.Group, 8)
	for i := range in {
		in[i] = newGroup(tn.ID, "Race")
		if i%2 == 1 {
			in[i].Name = "rACE"
		}
	}
	out := race(len(in), func(i int) error {
		_, err := e.Store.Groups().Create(ctx(t), in[i])
		return err
	})
	w := oneWinner(t, "create", out)
	g, err := e.Store.Groups().GetByName(ctx(t), tn.ID, "race")
	mustOK(t, "get by name", err)
	if g.ID != in[w].ID {
		t.Errorf("the name belongs to %s, want the winner %s", g.ID, in[w].ID)
	}
}

func groupMembers(t *testing.T, e *env) {
	tn := mustTenant(t, e, "acme")
	gs := e.Store.Groups()
	g := mustGroup(t, e, tn.ID, "readers")
	other := mustGroup(t, e, tn.ID, "writers")
	var users []string
	for i := range 5 {
		users = append(users, mustUser(t, e, tn.ID, "u"+strconv.Itoa(i), "").ID)
	}
	for i, u := range users {
		mustAdd(t, e, tn.ID, g.ID, u)
		if i < 2 {
			mustAdd(t, e, tn.ID, other.ID, u)
		}
	}
	mustAdd(t, e, tn.ID, g.ID, users[0]) // again: no error, no second entry
	if got := allMembers(t, e, tn.ID, g.ID); !slices.Equal(got, sorted(users...)) {
		t.Errorf("members = %v, want %v", got, sorted(users...))
	}
	if got, want := groupIDsOf(t, e, tn.ID, users[0]), sorted(g.ID, other.ID); !slices.Equal(
		got, want) {
		t.Errorf("groups of a member of two = %v, want %v in order of ID", got, want)
	}
	gsOf, err := gs.GroupsOf(ctx(t), tn.ID, users[1])
	mustOK(t, "groups of", err)
	if len(gsOf) != 2 || gsOf[0].Name == "" || gsOf[0].TenantID != tn.ID {
		t.Errorf("groups of = %+v, want two whole groups", gsOf)
	}

	mustOK(t, "remove", gs.RemoveMember(ctx(t), tn.ID, g.ID, users[0]))
	mustOK(t, "remove again", gs.RemoveMember(ctx(t), tn.ID, g.ID, users[0]))
	mustOK(t, "remove a stranger", gs.RemoveMember(ctx(t), tn.ID, g.ID, newID()))
	if got := allMembers(t, e, tn.ID, g.ID); !slices.Equal(got, sorted(users[1:]...)) {
		t.Errorf("members after a removal = %v, want %v", got, sorted(users[1:]...))
	}
	if got := groupIDsOf(t, e, tn.ID, users[0]); !slices.Equal(got, []string{other.ID}) {
		t.Errorf("groups after a removal = %v, want only %s", got, other.ID)
	}
	if got := groupIDsOf(t, e, tn.ID, newID()); len(got) != 0 {
		t.Errorf("a missing user belongs to %v", got)
	}

	missing := newID()
	wantErr(t, "add to a missing group", gs.AddMember(ctx(t), tn.ID, missing, users[0]),
		errs.ErrNotFound)
	wantErr(t, "add a missing user", gs.AddMember(ctx(t), tn.ID, g.ID, newID()),
		errs.ErrNotFound)
	wantErr(t, "remove from a missing group", gs.RemoveMember(ctx(t), tn.ID, missing,
		users[0]), errs.ErrNotFound)
	_, _, err = gs.Members(ctx(t), tn.ID, missing, store.Page{})
	wantErr(t, "members of a missing group", err, errs.ErrNotFound)

	// Cursors are bound to the group.
	_, next, err := gs.Members(ctx(t), tn.ID, g.ID, store.Page{Limit: 1})
	mustOK(t, "first page", err)
	if next == "" {
		t.Fatal("a page of 1 of 4 members has no cursor")
	}
	_, _, err = gs.Members(ctx(t), tn.ID, other.ID, store.Page{After: next})
	wantErr(t, "a cursor of another group", err, errs.ErrInvalidArgument)
	_, _, err = gs.List(ctx(t), tn.ID, store.Page{After: next})
	wantErr(t, "a members cursor in the group listing", err, errs.ErrInvalidArgument)
	_, _, err = e.Store.Users().List(ctx(t), tn.ID, store.Page{After: next})
	wantErr(t, "a members cursor in the user listing", err, errs.ErrInvalidArgument)
	_, listNext, err := gs.List(ctx(t), tn.ID, store.Page{Limit: 1})
	mustOK(t, "list", err)
	_, _, err = gs.Members(ctx(t), tn.ID, g.ID, store.Page{After: listNext})
	wantErr(t, "a group listing cursor in members", err, errs.ErrInvalidArgument)
	_, _, err = gs.Members(ctx(t), tn.ID, g.ID, store.Page{Limit: store.MaxPageSize + 1})
	wantErr(t, "a limit over the maximum", err, errs.ErrInvalidArgument)
}

func groupBound(t *testing.T, e *env) {
	tn := mustTenant(t, e, "acme")
	u := mustUser(t, e, tn.ID, "joiner", "")
	n := store.MaxGroupsPerUser
	all := make([]store.Group, n+1)
	for i := range all {
		all[i] = newGroup(tn.ID, "g"+strconv.Itoa(i))
	}
	// Created and joined by 16 workers at a time: a real server takes a
	// while for each.
	const workers = 16
	run := func(f func(i int) error) {
		out := race(workers, func(w int) error {
			for i := w; i < n; i += workers {
				if err := f(i); err != nil {
					return err
				}
			}
			return nil
		})
		for _, err := range out {
			mustOK(t, "fill up", err)
		}
	}
	run(func(i int) error {
		_, err := e.Store.Groups().Create(ctx(t), all[i])
		return err
	})
	_, err := e.Store.Groups().Create(ctx(t), all[n])
	mustOK(t, "create the last group", err)
	run(func(i int) error { return e.Store.Groups().AddMember(ctx(t), tn.ID, all[i].ID, u.ID) })

	wantErr(t, "join one group past the bound",
		e.Store.Groups().AddMember(ctx(t), tn.ID, all[n].ID, u.ID), errs.ErrInvalidArgument)
	mustOK(t, "join a group again at the bound",
		e.Store.Groups().AddMember(ctx(t), tn.ID, all[0].ID, u.ID))
	got := groupIDsOf(t, e, tn.ID, u.ID)
	want := make([]string, n)
	for i := range n {
		want[i] = all[i].ID
	}
	if !slices.Equal(got, sorted(want...)) {
		t.Errorf("groups of the user: %d, want the %d joined in order of ID", len(got), n)
	}
	if ids := allMembersOne(t, e, tn.ID, all[n].ID); len(ids) != 0 {
		t.Errorf("the refused group lists %v", ids)
	}
	// Leaving one makes room for another.
	mustOK(t, "leave", e.Store.Groups().RemoveMember(ctx(t), tn.ID, all[0].ID, u.ID))
	mustOK(t, "join below the bound",
		e.Store.Groups().AddMember(ctx(t), tn.ID, all[n].ID, u.ID))
}

func allMembersOne(t *testing.T, e *env, tenantID, groupID string) []string {
	t.Helper()
	ids, _, err := e.Store.Groups().Members(ctx(t), tenantID, groupID, store.Page{})
	mustOK(t, "members", err)
	return ids
}

func groupDeleteMemberships(t *testing.T, e *env) {
	tn := mustTenant(t, e, "acme")
	gs := e.Store.Groups()
	a, b := mustGroup(t, e, tn.ID, "a"), mustGroup(t, e, tn.ID, "b")
	u1 := mustUser(t, e, tn.ID, "one", "one@example.com")
	u2 := mustUser(t, e, tn.ID, "two", "")
	for _, g := range []string{a.ID, b.ID} {
		mustAdd(t, e, tn.ID, g, u1.ID)
		mustAdd(t, e, tn.ID, g, u2.ID)
	}

	mustOK(t, "delete group a", gs.Delete(ctx(t), tn.ID, a.ID))
	for _, u := range []string{u1.ID, u2.ID} {
		if got := groupIDsOf(t, e, tn.ID, u); !slices.Equal(got, []string{b.ID}) {
			t.Errorf("groups of a member of a deleted group = %v, want only %s", got, b.ID)
		}
	}
	found := searchAll(t, e, tn.ID, store.UserFilter{GroupID: a.ID})
	if len(found) != 0 {
		t.Errorf("a search by a deleted group finds %v", found)
	}

	mustOK(t, "delete user one", e.Store.Users().Delete(ctx(t), tn.ID, u1.ID))
	if got := allMembers(t, e, tn.ID, b.ID); !slices.Equal(got, []string{u2.ID}) {
		t.Errorf("members after a member was deleted = %v, want only %s", got, u2.ID)
	}
	// A user created again with the deleted one's ID starts with no groups.
	again := newUser(tn.ID, "one", "")
	again.ID = u1.ID
	_, err := e.Store.Users().Create(ctx(t), again)
	mustOK(t, "create the user again", err)
	if got := groupIDsOf(t, e, tn.ID, u1.ID); len(got) != 0 {
		t.Errorf("a user created again belongs to %v", got)
	}
	// A group created again with the deleted one's ID starts empty.
	re := newGroup(tn.ID, "a")
	re.ID = a.ID
	_, err = gs.Create(ctx(t), re)
	mustOK(t, "create the group again", err)
	if got := allMembers(t, e, tn.ID, a.ID); len(got) != 0 {
		t.Errorf("a group created again has members %v", got)
	}
}

func groupDeleteRace(t *testing.T, e *env) {
	tn := mustTenant(t, e, "acme")
	gs, us := e.Store.Groups(), e.Store.Users()
	stay := mustGroup(t, e, tn.ID, "stay")
	for round := range 5 {
		r := strconv.Itoa(round)
		doomed := mustGroup(t, e, tn.ID, "doomed-"+r)
		joiner := mustUser(t, e, tn.ID, "joiner-"+r, "")
		leaver := mustUser(t, e, tn.ID, "leaver-"+r, "")
		out := race(4, func(i int) error {
			switch i {
			case 0:
				return gs.Delete(ctx(t), tn.ID, doomed.ID)
			case 1:
				return gs.AddMember(ctx(t), tn.ID, doomed.ID, joiner.ID)
			case 2:
				return us.Delete(ctx(t), tn.ID, leaver.ID)
			}
			return gs.AddMember(ctx(t), tn.ID, stay.ID, leaver.ID)
		})
		// An add that lands before the delete is removed by it; one that
		// comes after fails. Either way nothing is left behind.
		for i, err := range out {
			if err != nil && !errors.Is(err, errs.ErrNotFound) &&
				!errors.Is(err, errs.ErrConflict) {
				t.Errorf("round %d: call %d failed with %v", round, i, err)
			}
		}
		if out[0] == nil {
			if got := groupIDsOf(t, e, tn.ID, joiner.ID); len(got) != 0 {
				t.Errorf("round %d: the joiner belongs to %v after its group went", round, got)
			}
		} else if out[1] == nil && !slices.Equal(allMembers(t, e, tn.ID, doomed.ID),
			[]string{joiner.ID}) {
			t.Errorf("round %d: the group stayed and the add succeeded, but the joiner is "+
				"not a member", round)
		}
		if out[2] == nil {
			if slices.Contains(allMembers(t, e, tn.ID, stay.ID), leaver.ID) {
				t.Errorf("round %d: a deleted user is still a member", round)
			}
		} else if out[3] == nil && !slices.Contains(groupIDsOf(t, e, tn.ID, leaver.ID),
			stay.ID) {
			t.Errorf("round %d: the user stayed and the add succeeded, but it is not a "+
				"member", round)
		}
	}
}

func groupIsolation(t *testing.T, e *env) {
	tn := mustTenant(t, e, "isolated")
	other := mustTenant(t, e, "isolated-other")
	gs := e.Store.Groups()
	g := mustGroup(t, e, tn.ID, "secret")
	u := mustUser(t, e, tn.ID, "member", "")
	mustAdd(t, e, tn.ID, g.ID, u.ID)
	stranger := mustUser(t, e, other.ID, "stranger", "")
	theirs := mustGroup(t, e, other.ID, "secret") // the same name in another tenant

	_, err := gs.Get(ctx(t), other.ID, g.ID)
	wantErr(t, "get from another tenant", err, errs.ErrNotFound)
	byName, err := gs.GetByName(ctx(t), other.ID, "secret")
	mustOK(t, "get by name in the other tenant", err)
	if byName.ID != theirs.ID {
		t.Errorf("by name in the other tenant: %s, want %s", byName.ID, theirs.ID)
	}
	_, err = gs.Update(ctx(t), other.ID, g.ID, func(x store.Group) (store.Group, error) {
		x.DisplayName = "stolen"
		return x, nil
	})
	wantErr(t, "update from another tenant", err, errs.ErrNotFound)
	wantErr(t, "delete from another tenant", gs.Delete(ctx(t), other.ID, g.ID),
		errs.ErrNotFound)
	wantErr(t, "add to a group of another tenant", gs.AddMember(ctx(t), other.ID, g.ID,
		stranger.ID), errs.ErrNotFound)
	wantErr(t, "add a user of another tenant", gs.AddMember(ctx(t), tn.ID, g.ID,
		stranger.ID), errs.ErrNotFound)
	wantErr(t, "add to a group of another tenant, through its own tenant",
		gs.AddMember(ctx(t), tn.ID, theirs.ID, u.ID), errs.ErrNotFound)
	wantErr(t, "remove from another tenant", gs.RemoveMember(ctx(t), other.ID, g.ID, u.ID),
		errs.ErrNotFound)
	_, _, err = gs.Members(ctx(t), other.ID, g.ID, store.Page{})
	wantErr(t, "members from another tenant", err, errs.ErrNotFound)
	if got := groupIDsOf(t, e, other.ID, u.ID); len(got) != 0 {
		t.Errorf("groups of the user seen from another tenant: %v", got)
	}
	items, _, err := gs.List(ctx(t), other.ID, store.Page{})
	mustOK(t, "list the other tenant", err)
	if len(items) != 1 || items[0].ID != theirs.ID {
		t.Errorf("the other tenant lists %+v, want its own group only", items)
	}
	if found := searchAll(t, e, other.ID, store.UserFilter{GroupID: g.ID}); len(found) != 0 {
		t.Errorf("a search in another tenant by this group finds %v", found)
	}

	read, err := gs.Get(ctx(t), tn.ID, g.ID)
	mustOK(t, "get", err)
	if diff := cmp.Diff(g, read, opts); diff != "" {
		t.Errorf("after the foreign calls (-want +got):\n%s", diff)
	}
	if got := allMembers(t, e, tn.ID, g.ID); !slices.Equal(got, []string{u.ID}) {
		t.Errorf("members after the foreign calls = %v, want only %s", got, u.ID)
	}
}

func groupBadInput(t *testing.T, e *env) {
	tn := mustTenant(t, e, "badinput")
	gs := e.Store.Groups()
	g := mustGroup(t, e, tn.ID, "ok")
	u := mustUser(t, e, tn.ID, "ok", "")
	fn := func(x store.Group) (store.Group, error) { return x, nil }
	for _, bad := range badIDs() {
		q := fmt.Sprintf("%q", bad)
		in := newGroup(tn.ID, "n"+strconv.Itoa(len(bad)))
		in.ID = bad
		_, err := gs.Create(ctx(t), in)
		wantErr(t, "create with ID "+q, err, errs.ErrInvalidArgument)
		_, err = gs.Create(ctx(t), newGroup(bad, "x"))
		wantErr(t, "create in tenant "+q, err, errs.ErrInvalidArgument)
		_, err = gs.Get(ctx(t), tn.ID, bad)
		wantErr(t, "get "+q, err, errs.ErrInvalidArgument)
		_, err = gs.Get(ctx(t), bad, g.ID)
		wantErr(t, "get in tenant "+q, err, errs.ErrInvalidArgument)
		_, err = gs.GetByName(ctx(t), bad, "ok")
		wantErr(t, "get by name in tenant "+q, err, errs.ErrInvalidArgument)
		_, _, err = gs.List(ctx(t), bad, store.Page{})
		wantErr(t, "list tenant "+q, err, errs.ErrInvalidArgument)
		_, err = gs.Update(ctx(t), tn.ID, bad, fn)
		wantErr(t, "update "+q, err, errs.ErrInvalidArgument)
		wantErr(t, "delete "+q, gs.Delete(ctx(t), tn.ID, bad), errs.ErrInvalidArgument)
		wantErr(t, "add to "+q, gs.AddMember(ctx(t), tn.ID, bad, u.ID),
			errs.ErrInvalidArgument)
		wantErr(t, "add user "+q, gs.AddMember(ctx(t), tn.ID, g.ID, bad),
			errs.ErrInvalidArgument)
		wantErr(t, "remove from "+q, gs.RemoveMember(ctx(t), tn.ID, bad, u.ID),
			errs.ErrInvalidArgument)
		wantErr(t, "remove user "+q, gs.RemoveMember(ctx(t), tn.ID, g.ID, bad),
			errs.ErrInvalidArgument)
		_, _, err = gs.Members(ctx(t), tn.ID, bad, store.Page{})
		wantErr(t, "members of "+q, err, errs.ErrInvalidArgument)
		_, err = gs.GroupsOf(ctx(t), tn.ID, bad)
		wantErr(t, "groups of "+q, err, errs.ErrInvalidArgument)
		_, err = gs.GroupsOf(ctx(t), bad, u.ID)
		wantErr(t, "groups in tenant "+q, err, errs.ErrInvalidArgument)
		_, _, err = e.Store.Users().Search(ctx(t), bad, store.UserFilter{}, store.Page{})
		wantErr(t, "search tenant "+q, err, errs.ErrInvalidArgument)
		if bad != "" {
			for _, f := range []store.UserFilter{{OrgID: bad}, {GroupID: bad}} {
				_, _, err = e.Store.Users().Search(ctx(t), tn.ID, f, store.Page{})
				wantErr(t, fmt.Sprintf("search by %+v", f), err, errs.ErrInvalidArgument)
			}
		}
	}
	for _, name := range []string{"", "bad\xff"} {
		_, err := gs.Create(ctx(t), newGroup(tn.ID, name))
		wantErr(t, fmt.Sprintf("create named %q", name), err, errs.ErrInvalidArgument)
	}
	_, err := gs.Update(ctx(t), tn.ID, g.ID, func(x store.Group) (store.Group, error) {
		x.Name = ""
		return x, nil
	})
	wantErr(t, "rename to nothing", err, errs.ErrInvalidArgument)
	if _, err := gs.GetByName(ctx(t), tn.ID, "ok"); err != nil {
		t.Errorf("the group after a refused rename: %v", err)
	}
	for _, f := range []store.UserFilter{
		{Status: "ASLEEP"},
		{Value: "x"},
		{Attribute: "1st", Value: "x"},
		{Attribute: "with space", Value: "x"},
		{Attribute: "dept", Value: "bad\xff"},
	} {
		_, _, err := e.Store.Users().Search(ctx(t), tn.ID, f, store.Page{})
		wantErr(t, fmt.Sprintf("search by %+v", f), err, errs.ErrInvalidArgument)
	}
}

// searchAll pages through a search until its cursor ends, checking that
// no page is over its limit and that IDs rise.
func searchAll(t *testing.T, e *env, tenantID string, f store.UserFilter) []string {
	t.Helper()
	return searchPages(t, e, tenantID, f, 0)
}

func searchPages(t *testing.T, e *env, tenantID string, f store.UserFilter,
	limit int) []string {
	t.Helper()
	var out []string
	after := ""
	for range 1000 {
		items, next, err := e.Store.Users().Search(ctx(t), tenantID, f,
			store.Page{After: after, Limit: limit})
		mustOK(t, fmt.Sprintf("search by %+v", f), err)
		if limit > 0 && len(items) > limit {
			t.Fatalf("a page of %d holds %d users", limit, len(items))
		}
		for _, u := range items {
			if n := len(out); n > 0 && out[n-1] >= u.ID {
				t.Fatalf("search by %+v: %s after %s", f, u.ID, out[n-1])
			}
			out = append(out, u.ID)
		}
		if next == "" {
			return out
		}
		after = next
	}
	t.Fatal("search: the cursor never ends")
	return nil
}

func searchFilters(t *testing.T, e *env) {
	tn := mustTenant(t, e, "search")
	sales := mustOrg(t, e, tn.ID, "", "sales")
	admins := mustGroup(t, e, tn.ID, "admins")
	empty := mustGroup(t, e, tn.ID, "empty")
	type spec struct {
		status store.UserStatus
		org    string
		admin  bool
		attrs  map[string]any
	}
	specs := []spec{
		{store.UserActive, sales.ID, true, map[string]any{"dept": "eng", "level": 3.0,
			"remote": true}},
		{store.UserActive, "", true, map[string]any{"dept": "eng", "level": 0.1}},
		{store.UserLocked, sales.ID, false, map[string]any{"dept": "ops", "level": 3.0,
			"remote": false}},
		{store.UserDisabled, "", true, map[string]any{"dept": "Eng", "level": 1e21}},
		{store.UserActive, sales.ID, false, nil},
	}
	ids := make([]string, len(specs))
	for i, s := range specs {
		u := newUser(tn.ID, "s"+strconv.Itoa(i), "")
		u.Status, u.OrgID, u.Attributes = s.status, s.org, s.attrs
		created, err := e.Store.Users().Create(ctx(t), u)
		mustOK(t, "create user", err)
		ids[i] = created.ID
		if s.admin {
			mustAdd(t, e, tn.ID, admins.ID, created.ID)
		}
	}
	// A user of another tenant matches every filter but the tenant.
	outsider := newUser(mustTenant(t, e, "search-other").ID, "s0", "")
	outsider.Attributes = map[string]any{"dept": "eng"}
	_, err := e.Store.Users().Create(ctx(t), outsider)
	mustOK(t, "create outsider", err)

	pick := func(is ...int) []string {
		out := make([]string, len(is))
		for j, i := range is {
			out[j] = ids[i]
		}
		return sorted(out...)
	}
	for _, c := range []struct {
		f    store.UserFilter
		want []string
	}{
		{store.UserFilter{}, pick(0, 1, 2, 3, 4)},
		{store.UserFilter{Status: store.UserActive}, pick(0, 1, 4)},
		{store.UserFilter{Status: store.UserPending}, nil},
		{store.UserFilter{OrgID: sales.ID}, pick(0, 2, 4)},
		{store.UserFilter{OrgID: newID()}, nil},
		{store.UserFilter{GroupID: admins.ID}, pick(0, 1, 3)},
		{store.UserFilter{GroupID: empty.ID}, nil},
		{store.UserFilter{GroupID: newID()}, nil},
		{store.UserFilter{Attribute: "dept", Value: "eng"}, pick(0, 1)},
		{store.UserFilter{Attribute: "dept", Value: "Eng"}, pick(3)},
		{store.UserFilter{Attribute: "level", Value: "3"}, pick(0, 2)},
		{store.UserFilter{Attribute: "level", Value: "3.0"}, nil},
		{store.UserFilter{Attribute: "level", Value: "0.1"}, pick(1)},
		{store.UserFilter{Attribute: "level", Value: "1e+21"}, pick(3)},
		{store.UserFilter{Attribute: "remote", Value: "true"}, pick(0)},
		{store.UserFilter{Attribute: "remote", Value: "false"}, pick(2)},
		{store.UserFilter{Attribute: "missing", Value: ""}, nil},
		{store.UserFilter{Status: store.UserActive, OrgID: sales.ID}, pick(0, 4)},
		{store.UserFilter{Status: store.UserActive, GroupID: admins.ID,
			Attribute: "dept", Value: "eng"}, pick(0, 1)},
		{store.UserFilter{OrgID: sales.ID, GroupID: admins.ID, Attribute: "remote",
			Value: "true"}, pick(0)},
		{store.UserFilter{Status: store.UserLocked, GroupID: admins.ID}, nil},
	} {
		got := searchAll(t, e, tn.ID, c.f)
		if diff := cmp.Diff(c.want, got, opts); diff != "" {
			t.Errorf("search by %+v (-want +got):\n%s", c.f, diff)
		}
	}

	items, _, err := e.Store.Users().Search(ctx(t), tn.ID,
		store.UserFilter{Attribute: "level", Value: "0.1"}, store.Page{})
	mustOK(t, "search", err)
	if len(items) != 1 || items[0].Username != "s1" || items[0].Attributes["dept"] != "eng" {
		t.Errorf("search returns %+v, want the whole user s1", items)
	}
}

func searchPaging(t *testing.T, e *env) {
	tn := mustTenant(t, e, "paging")
	g := mustGroup(t, e, tn.ID, "g")
	var want, members []string
	for i := range 9 {
		u := newUser(tn.ID, "p"+strconv.Itoa(i), "")
		if i%3 == 2 {
			u.Status = store.UserLocked
		}
		created, err := e.Store.Users().Create(ctx(t), u)
		mustOK(t, "create user", err)
		if i%3 != 2 {
			want = append(want, created.ID)
		}
		if i%2 == 0 {
			members = append(members, created.ID)
			mustAdd(t, e, tn.ID, g.ID, created.ID)
		}
	}
	active := store.UserFilter{Status: store.UserActive}
	for _, limit := range []int{1, 2, 5} {
		if got := searchPages(t, e, tn.ID, active, limit); !slices.Equal(got, sorted(want...)) {
			t.Errorf("active users by pages of %d = %v, want %v", limit, got, sorted(want...))
		}
		byGroup := store.UserFilter{GroupID: g.ID}
		if got := searchPages(t, e, tn.ID, byGroup, limit); !slices.Equal(got,
			sorted(members...)) {
			t.Errorf("members by pages of %d = %v, want %v", limit, got, sorted(members...))
		}
	}

	// A cursor is bound to its filter, its tenant and its listing.
	us := e.Store.Users()
	_, next, err := us.Search(ctx(t), tn.ID, active, store.Page{Limit: 1})
	mustOK(t, "first page", err)
	if next == "" {
		t.Fatal("a page of 1 of 6 matches has no cursor")
	}
	other := mustTenant(t, e, "paging-other")
	for _, c := range []struct {
		what   string
		tenant string
		f      store.UserFilter
	}{
		{"another status", tn.ID, store.UserFilter{Status: store.UserLocked}},
		{"no filter", tn.ID, store.UserFilter{}},
		{"another field", tn.ID, store.UserFilter{Status: store.UserActive, GroupID: g.ID}},
		{"another tenant", other.ID, active},
	} {
		_, _, err := us.Search(ctx(t), c.tenant, c.f, store.Page{After: next})
		wantErr(t, "a cursor of the active users with "+c.what, err, errs.ErrInvalidArgument)
	}
	_, _, err = us.List(ctx(t), tn.ID, store.Page{After: next})
	wantErr(t, "a search cursor in the user listing", err, errs.ErrInvalidArgument)
	_, _, err = e.Store.Groups().Members(ctx(t), tn.ID, g.ID, store.Page{After: next})
	wantErr(t, "a search cursor in members", err, errs.ErrInvalidArgument)
	_, listNext, err := us.List(ctx(t), tn.ID, store.Page{Limit: 1})
	mustOK(t, "list", err)
	_, _, err = us.Search(ctx(t), tn.ID, store.UserFilter{}, store.Page{After: listNext})
	wantErr(t, "a user listing cursor in search", err, errs.ErrInvalidArgument)
	for _, bad := range []string{"x", next + "A", next[:len(next)-1]} {
		_, _, err = us.Search(ctx(t), tn.ID, active, store.Page{After: bad})
		wantErr(t, "a malformed cursor "+quoteShort(bad), err, errs.ErrInvalidArgument)
	}
	_, _, err = us.Search(ctx(t), tn.ID, active, store.Page{Limit: -1})
	wantErr(t, "a negative limit", err, errs.ErrInvalidArgument)
}
