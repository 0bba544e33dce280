package storetest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
)

// Organizations are pinned down further than the contract of package
// store writes out: names are folded like usernames, Depth is set by the
// store whatever the caller sends, and a user's OrgID round-trips through
// every read of users.

var orgTests = []test{
	{"a created organization reads back the same, its name folded", orgCreateGet},
	{"organizations nest, each one deeper than its parent", orgNesting},
	{"nesting stops at MaxOrgDepth and writes nothing", orgDepthCap},
	{"a missing or foreign parent is not found and writes nothing", orgMissingParent},
	{"names are unique per tenant, whatever the parent", orgNameUnique},
	{"concurrent creates of one name succeed exactly once", orgCreateRace},
	{"update renames, keeps the tree and frees the old name", orgUpdate},
	{"renaming to a taken name is a conflict and writes nothing", orgRenameTaken},
	{"delete is refused while children or users remain", orgDeleteNotEmpty},
	{"delete frees the name and removes the organization from its listing", orgDelete},
	{"a child or user added while its organization is deleted is never left behind",
		orgDeleteRace},
	{"an organization of another tenant is not found by any method", orgIsolation},
	{"malformed IDs are invalid arguments", orgBadIDs},
	{"a user's organization round-trips and must exist in the tenant", userOrg},
	{"users are listed by organization", usersByOrg},
}

func newOrg(tenantID, parentID, name string) store.Organization {
	return store.Organization{
		ID: newID(), TenantID: tenantID, ParentID: parentID, Name: name,
		DisplayName: "Org " + name, CreatedAt: someTime, UpdatedAt: someTime,
	}
}

func mustOrg(t *testing.T, e *env, tenantID, parentID, name string) store.Organization {
	t.Helper()
	o, err := e.Store.Organizations().Create(ctx(t), newOrg(tenantID, parentID, name))
	mustOK(t, "create organization "+name, err)
	return o
}

func orgCreateGet(t *testing.T, e *env) {
	tn := mustTenant(t, e, "acme")
	in := newOrg(tn.ID, "", "Sales")
	in.Depth, in.Version = 5, 9 // the store's to set
	got, err := e.Store.Organizations().Create(ctx(t), in)
	mustOK(t, "create", err)
	want := in
	want.Name, want.Depth, want.Version = "sales", 1, 1
	want.CreatedAt = someTime.UTC().Truncate(1e6)
	want.UpdatedAt = want.CreatedAt
	if diff := cmp.Diff(want, got, opts); diff != "" {
		t.Errorf("created (-want +got):\n%s", diff)
	}
	read, err := e.Store.Organizations().Get(ctx(t), tn.ID, in.ID)
	mustOK(t, "get", err)
	if diff := cmp.Diff(want, read, opts); diff != "" {
		t.Errorf("read back (-want +got):\n%s", diff)
	}
	checkTime(t, "createdAt", read.CreatedAt, someTime)
}

func orgNesting(t *testing.T, e *env) {
	tn := mustTenant(t, e, "acme")
	top := mustOrg(t, e, tn.ID, "", "top")
	mid := mustOrg(t, e, tn.ID, top.ID, "mid")
	low := mustOrg(t, e, tn.ID, mid.ID, "low")
	for _, c := range []struct {
		o      store.Organization
		parent string
		depth  int
	}{{top, "", 1}, {mid, top.ID, 2}, {low, mid.ID, 3}} {
		got, err := e.Store.Organizations().Get(ctx(t), tn.ID, c.o.ID)
		mustOK(t, "get "+c.o.Name, err)
		if got.ParentID != c.parent || got.Depth != c.depth {
			t.Errorf("%s: parent %q depth %d, want %q and %d", c.o.Name, got.ParentID,
				got.Depth, c.parent, c.depth)
		}
	}
	for parent, want := range map[string][]string{"": {top.ID}, top.ID: {mid.ID},
		mid.ID: {low.ID}, low.ID: nil} {
		items, next, err := e.Store.Organizations().List(ctx(t), tn.ID, parent, store.Page{})
		mustOK(t, "list", err)
		got := idsOf(items, func(o store.Organization) string { return o.ID })
		if diff := cmp.Diff(want, got, opts); diff != "" || next != "" {
			t.Errorf("children of %q (-want +got):\n%s next %q", parent, diff, next)
		}
	}
}

func orgDepthCap(t *testing.T, e *env) {
	tn := mustTenant(t, e, "acme")
	parent := ""
	for i := range store.MaxOrgDepth {
		o := mustOrg(t, e, tn.ID, parent, "level-"+strconv.Itoa(i+1))
		if o.Depth != i+1 {
			t.Fatalf("level %d has depth %d", i+1, o.Depth)
		}
		parent = o.ID
	}
	o := newOrg(tn.ID, parent, "too-deep")
	_, err := e.Store.Organizations().Create(ctx(t), o)
	wantErr(t, "create below MaxOrgDepth", err, errs.ErrInvalidArgument)
	_, err = e.Store.Organizations().Get(ctx(t), tn.ID, o.ID)
	wantErr(t, "get the refused organization", err, errs.ErrNotFound)
	// The name was not reserved.
	mustOrg(t, e, tn.ID, "", "too-deep")
}

func orgMissingParent(t *testing.T, e *env) {
	tn := mustTenant(t, e, "acme")
	other := mustTenant(t, e, "other")
	foreign := mustOrg(t, e, other.ID, "", "foreign")
	for _, parent := range []string{newID(), foreign.ID} {
		o := newOrg(tn.ID, parent, "child")
		_, err := e.Store.Organizations().Create(ctx(t), o)
		wantErr(t, "create under "+parent, err, errs.ErrNotFound)
		_, err = e.Store.Organizations().Get(ctx(t), tn.ID, o.ID)
		wantErr(t, "get the refused organization", err, errs.ErrNotFound)
	}
	mustOrg(t, e, tn.ID, "", "child")
}

func orgNameUnique(t *testing.T, e *env) {
	tn := mustTenant(t, e, "acme")
	other := mustTenant(t, e, "other")
	a := mustOrg(t, e, tn.ID, "", "ops")
	_, err := e.Store.Organizations().Create(ctx(t), newOrg(tn.ID, "", "OPS"))
	wantErr(t, "same name, other case", err, errs.ErrConflict)
	_, err = e.Store.Organizations().Create(ctx(t), newOrg(tn.ID, a.ID, "ops"))
	wantErr(t, "same name under another parent", err, errs.ErrConflict)
	dup := newOrg(tn.ID, "", "other-name")
	dup.ID = a.ID
	_, err = e.Store.Organizations().Create(ctx(t), dup)
	wantErr(t, "taken ID", err, errs.ErrConflict)
	mustOrg(t, e, tn.ID, "", "other-name") // the refused create reserved nothing
	mustOrg(t, e, other.ID, "", "ops")     // names are per tenant
}

func orgCreateRace(t *testing.T, e *env) {
	tn := mustTenant(t, e, "acme")
	const n = 8
	orgs := make([]store.Organization, n)
	for i := range orgs {
		orgs[i] = newOrg(tn.ID, "", "Contested")
	}
	errsOut := race(n, func(i int) error {
		_, err := e.Store.Organizations().Create(ctx(t), orgs[i])
		return err
	})
	w := oneWinner(t, "create", errsOut)
	items, _, err := e.Store.Organizations().List(ctx(t), tn.ID, "", store.Page{})
	mustOK(t, "list", err)
	got := idsOf(items, func(o store.Organization) string { return o.ID })
	if diff := cmp.Diff([]string{orgs[w].ID}, got); diff != "" {
		t.Errorf("top level after the race (-want +got):\n%s", diff)
	}
}

func orgUpdate(t *testing.T, e *env) {
	tn := mustTenant(t, e, "acme")
	top := mustOrg(t, e, tn.ID, "", "top")
	o := mustOrg(t, e, tn.ID, top.ID, "old")
	later := someTime.Add(3600e9)
	got, err := e.Store.Organizations().Update(ctx(t), tn.ID, o.ID,
		func(x store.Organization) (store.Organization, error) {
			x.Name, x.DisplayName, x.UpdatedAt = "New", "Renamed", later
			x.ParentID, x.Depth, x.TenantID, x.CreatedAt = "", 7, newID(), later
			return x, nil
		})
	mustOK(t, "update", err)
	want := o
	want.Name, want.DisplayName, want.Version = "new", "Renamed", 2
	want.UpdatedAt = later.UTC().Truncate(1e6)
	if diff := cmp.Diff(want, got, opts); diff != "" {
		t.Errorf("updated (-want +got):\n%s", diff)
	}
	read, err := e.Store.Organizations().Get(ctx(t), tn.ID, o.ID)
	mustOK(t, "get", err)
	if diff := cmp.Diff(want, read, opts); diff != "" {
		t.Errorf("read back (-want +got):\n%s", diff)
	}
	mustOrg(t, e, tn.ID, "", "old") // freed

	_, err = e.Store.Organizations().Update(ctx(t), tn.ID, o.ID,
		func(x store.Organization) (store.Organization, error) { return x, errFn })
	wantErr(t, "update whose fn fails", err, errFn)
	_, err = e.Store.Organizations().Update(ctx(t), tn.ID, newID(),
		func(x store.Organization) (store.Organization, error) { return x, nil })
	wantErr(t, "update of a missing organization", err, errs.ErrNotFound)
}

func orgRenameTaken(t *testing.T, e *env) {
	tn := mustTenant(t, e, "acme")
	mustOrg(t, e, tn.ID, "", "a")
	b := mustOrg(t, e, tn.ID, "", "b")
	_, err := e.Store.Organizations().Update(ctx(t), tn.ID, b.ID,
		func(x store.Organization) (store.Organization, error) {
			x.Name, x.DisplayName = "A", "changed"
			return x, nil
		})
	wantErr(t, "rename to a taken name", err, errs.ErrConflict)
	read, err := e.Store.Organizations().Get(ctx(t), tn.ID, b.ID)
	mustOK(t, "get", err)
	if diff := cmp.Diff(b, read, opts); diff != "" {
		t.Errorf("after the refused rename (-want +got):\n%s", diff)
	}
}

func orgDeleteNotEmpty(t *testing.T, e *env) {
	tn := mustTenant(t, e, "acme")
	top := mustOrg(t, e, tn.ID, "", "top")
	child := mustOrg(t, e, tn.ID, top.ID, "child")
	u := newUser(tn.ID, "member", "")
	u.OrgID = child.ID
	u, err := e.Store.Users().Create(ctx(t), u)
	mustOK(t, "create member", err)

	wantErr(t, "delete a parent", e.Store.Organizations().Delete(ctx(t), tn.ID, top.ID),
		errs.ErrConflict)
	wantErr(t, "delete an organization with a user",
		e.Store.Organizations().Delete(ctx(t), tn.ID, child.ID), errs.ErrConflict)
	for _, o := range []store.Organization{top, child} {
		_, err := e.Store.Organizations().Get(ctx(t), tn.ID, o.ID)
		mustOK(t, "get "+o.Name+" after the refused delete", err)
	}

	_, err = e.Store.Users().Update(ctx(t), tn.ID, u.ID, func(x store.User) (store.User, error) {
		x.OrgID = ""
		return x, nil
	})
	mustOK(t, "move the member to tenant level", err)
	mustOK(t, "delete the emptied child", e.Store.Organizations().Delete(ctx(t), tn.ID, child.ID))
	mustOK(t, "delete the childless parent", e.Store.Organizations().Delete(ctx(t), tn.ID,
		top.ID))
}

func orgDelete(t *testing.T, e *env) {
	tn := mustTenant(t, e, "acme")
	top := mustOrg(t, e, tn.ID, "", "top")
	a := mustOrg(t, e, tn.ID, top.ID, "a")
	b := mustOrg(t, e, tn.ID, top.ID, "b")
	mustOK(t, "delete", e.Store.Organizations().Delete(ctx(t), tn.ID, a.ID))
	_, err := e.Store.Organizations().Get(ctx(t), tn.ID, a.ID)
	wantErr(t, "get the deleted", err, errs.ErrNotFound)
	wantErr(t, "delete again", e.Store.Organizations().Delete(ctx(t), tn.ID, a.ID),
		errs.ErrNotFound)
	items, _, err := e.Store.Organizations().List(ctx(t), tn.ID, top.ID, store.Page{})
	mustOK(t, "list", err)
	got := idsOf(items, func(o store.Organization) string { return o.ID })
	if diff := cmp.Diff([]string{b.ID}, got); diff != "" {
		t.Errorf("children after the delete (-want +got):\n%s", diff)
	}
	mustOrg(t, e, tn.ID, "", "a") // the name is free again
}

// orgDeleteRace races a delete against a child create, a user create and
// a user's move into the organization, several times. Any of them may
// fail, but never may the delete and an addition both succeed.
func orgDeleteRace(t *testing.T, e *env) {
	tn := mustTenant(t, e, "acme")
	og, us := e.Store.Organizations(), e.Store.Users()
	for round := range 6 {
		parent := mustOrg(t, e, tn.ID, "", "parent-"+strconv.Itoa(round))
		child := newOrg(tn.ID, parent.ID, "child-"+strconv.Itoa(round))
		u := newUser(tn.ID, "member-"+strconv.Itoa(round), "")
		u.OrgID = parent.ID
		mover := mustUser(t, e, tn.ID, "mover-"+strconv.Itoa(round), "")
		out := race(4, func(i int) error {
			switch i {
			case 0:
				return og.Delete(ctx(t), tn.ID, parent.ID)
			case 1:
				_, err := og.Create(ctx(t), child)
				return err
			case 2:
				_, err := us.Create(ctx(t), u)
				return err
			}
			_, err := us.Update(ctx(t), tn.ID, mover.ID, func(x store.User) (store.User, error) {
				x.OrgID = parent.ID
				return x, nil
			})
			return err
		})
		if out[0] != nil {
			wantErr(t, "delete", out[0], errs.ErrConflict)
			continue
		}
		if out[1] == nil {
			t.Errorf("round %d: the parent was deleted and a child created in it", round)
		}
		if out[2] == nil {
			t.Errorf("round %d: the organization was deleted and a user created in it", round)
		}
		if _, err := og.Get(ctx(t), tn.ID, child.ID); !errors.Is(err, errs.ErrNotFound) {
			t.Errorf("round %d: the child of a deleted parent reads as %v", round, err)
		}
		if _, err := us.Get(ctx(t), tn.ID, u.ID); !errors.Is(err, errs.ErrNotFound) {
			t.Errorf("round %d: the user of a deleted organization reads as %v", round, err)
		}
		if out[3] == nil {
			t.Errorf("round %d: the organization was deleted and a user moved into it", round)
		}
		if m, err := us.Get(ctx(t), tn.ID, mover.ID); err != nil || m.OrgID != "" {
			t.Errorf("round %d: the mover reads as %+v, %v; want it at tenant level", round, m,
				err)
		}
	}
}

func orgIsolation(t *testing.T, e *env) {
	tn := mustTenant(t, e, "acme")
	other := mustTenant(t, e, "other")
	o := mustOrg(t, e, tn.ID, "", "secret")
	child := mustOrg(t, e, tn.ID, o.ID, "inner")
	og := e.Store.Organizations()

	_, err := og.Get(ctx(t), other.ID, o.ID)
	wantErr(t, "get from another tenant", err, errs.ErrNotFound)
	_, err = og.Update(ctx(t), other.ID, o.ID,
		func(x store.Organization) (store.Organization, error) {
			x.DisplayName = "stolen"
			return x, nil
		})
	wantErr(t, "update from another tenant", err, errs.ErrNotFound)
	wantErr(t, "delete from another tenant", og.Delete(ctx(t), other.ID, child.ID),
		errs.ErrNotFound)
	for _, parent := range []string{"", o.ID} {
		items, _, err := og.List(ctx(t), other.ID, parent, store.Page{})
		mustOK(t, "list another tenant", err)
		if len(items) != 0 {
			t.Errorf("listing children of %q in another tenant shows %d", parent, len(items))
		}
	}
	u := newUser(other.ID, "intruder", "")
	u.OrgID = o.ID
	_, err = e.Store.Users().Create(ctx(t), u)
	wantErr(t, "create a user in another tenant's organization", err, errs.ErrInvalidArgument)

	read, err := og.Get(ctx(t), tn.ID, o.ID)
	mustOK(t, "get", err)
	if diff := cmp.Diff(o, read, opts); diff != "" {
		t.Errorf("after the foreign calls (-want +got):\n%s", diff)
	}
	_, err = og.Get(ctx(t), tn.ID, child.ID)
	mustOK(t, "get the child", err)
}

func orgBadIDs(t *testing.T, e *env) {
	tn := mustTenant(t, e, "acme")
	og := e.Store.Organizations()
	for _, bad := range badIDs() {
		o := newOrg(tn.ID, "", "n"+strconv.Itoa(len(bad)))
		o.ID = bad
		_, err := og.Create(ctx(t), o)
		wantErr(t, fmt.Sprintf("create with ID %q", bad), err, errs.ErrInvalidArgument)
		o = newOrg(bad, "", "x")
		_, err = og.Create(ctx(t), o)
		wantErr(t, fmt.Sprintf("create in tenant %q", bad), err, errs.ErrInvalidArgument)
		if bad != "" {
			_, err = og.Create(ctx(t), newOrg(tn.ID, bad, "y"))
			wantErr(t, fmt.Sprintf("create under %q", bad), err, errs.ErrInvalidArgument)
			_, _, err = og.List(ctx(t), tn.ID, bad, store.Page{})
			wantErr(t, fmt.Sprintf("list under %q", bad), err, errs.ErrInvalidArgument)
			_, _, err = e.Store.Users().ListByOrg(ctx(t), tn.ID, bad, store.Page{})
			wantErr(t, fmt.Sprintf("list users of %q", bad), err, errs.ErrInvalidArgument)
		}
		_, err = og.Get(ctx(t), tn.ID, bad)
		wantErr(t, fmt.Sprintf("get %q", bad), err, errs.ErrInvalidArgument)
		wantErr(t, fmt.Sprintf("delete %q", bad), og.Delete(ctx(t), tn.ID, bad),
			errs.ErrInvalidArgument)
	}
	_, _, err := e.Store.Users().ListByOrg(ctx(t), tn.ID, "", store.Page{})
	wantErr(t, "list users of no organization", err, errs.ErrInvalidArgument)
	_, err = og.Create(ctx(t), newOrg(tn.ID, "", ""))
	wantErr(t, "create without a name", err, errs.ErrInvalidArgument)
	_, err = og.Create(ctx(t), newOrg(tn.ID, "", "bad\xff"))
	wantErr(t, "create with a name that is not UTF-8", err, errs.ErrInvalidArgument)
}

func userOrg(t *testing.T, e *env) {
	tn := mustTenant(t, e, "acme")
	a := mustOrg(t, e, tn.ID, "", "a")
	b := mustOrg(t, e, tn.ID, a.ID, "b")
	u := newUser(tn.ID, "alice", "alice@example.com")
	u.OrgID = a.ID
	created, err := e.Store.Users().Create(ctx(t), u)
	mustOK(t, "create", err)
	if created.OrgID != a.ID {
		t.Errorf("created OrgID = %q, want %q", created.OrgID, a.ID)
	}
	us := e.Store.Users()
	for name, get := range map[string]func() (store.User, error){
		"Get":           func() (store.User, error) { return us.Get(ctx(t), tn.ID, u.ID) },
		"GetByUsername": func() (store.User, error) { return us.GetByUsername(ctx(t), tn.ID, "alice") },
		"GetByEmail": func() (store.User, error) {
			return us.GetByEmail(ctx(t), tn.ID, "alice@example.com")
		},
	} {
		got, err := get()
		mustOK(t, name, err)
		if got.OrgID != a.ID {
			t.Errorf("%s: OrgID = %q, want %q", name, got.OrgID, a.ID)
		}
	}

	moved, err := e.Store.Users().Update(ctx(t), tn.ID, u.ID, func(x store.User) (store.User,
		error) {
		x.OrgID = b.ID
		return x, nil
	})
	mustOK(t, "move", err)
	if moved.OrgID != b.ID {
		t.Errorf("moved OrgID = %q, want %q", moved.OrgID, b.ID)
	}

	missing := newID()
	_, err = e.Store.Users().Update(ctx(t), tn.ID, u.ID, func(x store.User) (store.User, error) {
		x.OrgID, x.DisplayName = missing, "changed"
		return x, nil
	})
	wantErr(t, "move to a missing organization", err, errs.ErrInvalidArgument)
	nu := newUser(tn.ID, "bob", "")
	nu.OrgID = missing
	_, err = e.Store.Users().Create(ctx(t), nu)
	wantErr(t, "create in a missing organization", err, errs.ErrInvalidArgument)
	_, err = e.Store.Users().Get(ctx(t), tn.ID, nu.ID)
	wantErr(t, "get the refused user", err, errs.ErrNotFound)
	mustUser(t, e, tn.ID, "bob", "") // the username was not reserved
	nu.OrgID = "not-an-id"
	nu.ID, nu.Username = newID(), "carol"
	_, err = e.Store.Users().Create(ctx(t), nu)
	wantErr(t, "create with a malformed organization", err, errs.ErrInvalidArgument)

	read, err := e.Store.Users().Get(ctx(t), tn.ID, u.ID)
	mustOK(t, "get", err)
	if diff := cmp.Diff(moved, read, opts); diff != "" {
		t.Errorf("after the refused move (-want +got):\n%s", diff)
	}
}

func usersByOrg(t *testing.T, e *env) {
	tn := mustTenant(t, e, "acme")
	a := mustOrg(t, e, tn.ID, "", "a")
	b := mustOrg(t, e, tn.ID, "", "b")
	var inA, inB []string
	for i := range 6 {
		u := newUser(tn.ID, "u"+strconv.Itoa(i), "")
		switch i % 3 {
		case 0:
			u.OrgID = a.ID
			inA = append(inA, u.ID)
		case 1:
			u.OrgID = b.ID
			inB = append(inB, u.ID)
		}
		_, err := e.Store.Users().Create(ctx(t), u)
		mustOK(t, "create", err)
	}
	for _, c := range []struct {
		org  string
		want []string
	}{{a.ID, inA}, {b.ID, inB}} {
		items, next, err := e.Store.Users().ListByOrg(ctx(t), tn.ID, c.org, store.Page{})
		mustOK(t, "list by organization", err)
		got := idsOf(items, func(u store.User) string { return u.ID })
		if diff := cmp.Diff(c.want, got); diff != "" || next != "" {
			t.Errorf("users of %s (-want +got):\n%s next %q", c.org, diff, next)
		}
	}
	all, _, err := e.Store.Users().List(ctx(t), tn.ID, store.Page{})
	mustOK(t, "list", err)
	if len(all) != 6 {
		t.Errorf("List shows %d users, want all 6", len(all))
	}
	other := mustTenant(t, e, "other")
	items, _, err := e.Store.Users().ListByOrg(ctx(t), other.ID, a.ID, store.Page{})
	mustOK(t, "list by organization in another tenant", err)
	if len(items) != 0 {
		t.Errorf("another tenant lists %d users of the organization", len(items))
	}
}

// orgLister pages through the children of one organization.
func orgLister(t *testing.T, e *env) lister {
	og := e.Store.Organizations()
	tn := mustTenant(t, e, "acme")
	parent := mustOrg(t, e, tn.ID, "", "parent")
	return lister{
		create: func(ctx context.Context, id string) error {
			o := newOrg(tn.ID, parent.ID, "o-"+id)
			o.ID = id
			_, err := og.Create(ctx, o)
			return err
		},
		remove: func(ctx context.Context, id string) error { return og.Delete(ctx, tn.ID, id) },
		list: func(ctx context.Context, p store.Page) ([]string, string, error) {
			items, next, err := og.List(ctx, tn.ID, parent.ID, p)
			return idsOf(items, func(x store.Organization) string { return x.ID }), next, err
		},
		foreign: func(t *testing.T) []string {
			sibling := mustOrg(t, e, tn.ID, "", "sibling")
			other := mustTenant(t, e, "foreign")
			return []string{
				orgsCursor(t, e, tn.ID, sibling.ID), orgsCursor(t, e, tn.ID, ""),
				orgsCursor(t, e, other.ID, ""), usersCursor(t, e, tn.ID),
				orgUsersCursor(t, e, tn.ID, parent.ID),
			}
		},
	}
}

// orgUserLister pages through the users of one organization, with users
// of another organization and of the tenant level around them.
func orgUserLister(t *testing.T, e *env) lister {
	us := e.Store.Users()
	tn := mustTenant(t, e, "acme")
	org := mustOrg(t, e, tn.ID, "", "members")
	mustUser(t, e, tn.ID, "outsider", "")
	return lister{
		create: func(ctx context.Context, id string) error {
			u := newUser(tn.ID, "u-"+id, "")
			u.ID, u.OrgID = id, org.ID
			_, err := us.Create(ctx, u)
			return err
		},
		remove: func(ctx context.Context, id string) error { return us.Delete(ctx, tn.ID, id) },
		list: func(ctx context.Context, p store.Page) ([]string, string, error) {
			items, next, err := us.ListByOrg(ctx, tn.ID, org.ID, p)
			return idsOf(items, func(x store.User) string { return x.ID }), next, err
		},
		foreign: func(t *testing.T) []string {
			sibling := mustOrg(t, e, tn.ID, "", "sibling")
			return []string{
				usersCursor(t, e, tn.ID), orgUsersCursor(t, e, tn.ID, sibling.ID),
				orgsCursor(t, e, tn.ID, org.ID),
			}
		},
	}
}

func orgsCursor(t *testing.T, e *env, tenantID, parentID string) string {
	t.Helper()
	mustOrg(t, e, tenantID, parentID, "c1-"+newID())
	mustOrg(t, e, tenantID, parentID, "c2-"+newID())
	return firstCursor(t, "organizations", func(p store.Page) (string, error) {
		_, next, err := e.Store.Organizations().List(ctx(t), tenantID, parentID, p)
		return next, err
	})
}

func orgUsersCursor(t *testing.T, e *env, tenantID, orgID string) string {
	t.Helper()
	for range 2 {
		u := newUser(tenantID, "c-"+newID(), "")
		u.OrgID = orgID
		_, err := e.Store.Users().Create(ctx(t), u)
		mustOK(t, "create user", err)
	}
	return firstCursor(t, "users of an organization", func(p store.Page) (string, error) {
		_, next, err := e.Store.Users().ListByOrg(ctx(t), tenantID, orgID, p)
		return next, err
	})
}
