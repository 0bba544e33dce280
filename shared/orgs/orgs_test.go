package orgs_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/orgs"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/store/bolt"
	"github.com/wardhq/ward/shared/tenants"
	"github.com/wardhq/ward/shared/users"
	"github.com/wardhq/ward/shared/validate"
)

var sysAdmin = function.Caller{Subject: "root", Roles: []string{function.RoleSystemAdmin}}

// fixture is two tenants. Tenant a has the tree
//
//	east ─ eastChild ─ eastGrandchild
//	west ─ westChild
//
// with users in east, eastChild and west and one at tenant level; tenant
// b has one organization.
type fixture struct {
	inv   invoke.Invoker
	store store.Store
	a, b  store.Tenant

	east, eastChild, eastGrandchild, west, westChild, bTop store.Organization

	uEast, uEastChild, uWest, uTenant store.User
}

func setup(t *testing.T) *fixture {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "ward.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &fixture{store: st, inv: invoke.NewLocal(
		tenants.Function(tenants.Deps{Store: st}),
		users.Function(users.Deps{Store: st}),
		orgs.Function(orgs.Deps{Store: st}),
	)}
	tenant := func(name string) store.Tenant {
		return call[store.Tenant](t, f, tenants.OpCreate, sysAdmin, tenants.CreateInput{Name: name})
	}
	f.a, f.b = tenant("tenant-a"), tenant("tenant-b")
	mk := func(tenantID, parentID, name string) store.Organization {
		return call[store.Organization](t, f, orgs.OpCreate, sysAdmin,
			orgs.CreateInput{TenantID: tenantID, ParentID: parentID, Name: name})
	}
	f.east = mk(f.a.ID, "", "east")
	f.eastChild = mk(f.a.ID, f.east.ID, "east-child")
	f.eastGrandchild = mk(f.a.ID, f.eastChild.ID, "east-grandchild")
	f.west = mk(f.a.ID, "", "west")
	f.westChild = mk(f.a.ID, f.west.ID, "west-child")
	f.bTop = mk(f.b.ID, "", "b-top")
	user := func(name, orgID string) store.User {
		return call[store.User](t, f, users.OpCreate, sysAdmin,
			users.CreateInput{TenantID: f.a.ID, Username: name, OrgID: orgID})
	}
	f.uEast = user("u-east", f.east.ID)
	f.uEastChild = user("u-east-child", f.eastChild.ID)
	f.uWest = user("u-west", f.west.ID)
	f.uTenant = user("u-tenant", "")
	return f
}

// fnOf finds the function that owns op: its name's prefix.
func fnOf(op string) string {
	prefix, _, _ := strings.Cut(op, ".")
	return prefix
}

func try[Out any](f *fixture, op string, c function.Caller, in any) (Out, error) {
	return invoke.Call[Out](context.Background(), f.inv, fnOf(op), op, c, in)
}

func call[Out any](t *testing.T, f *fixture, op string, c function.Caller, in any) Out {
	t.Helper()
	out, err := try[Out](f, op, c, in)
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
	return out
}

func wantCode(t *testing.T, what string, err error, want errs.Code) {
	t.Helper()
	if got := errs.CodeOf(err); err == nil || got != want {
		t.Errorf("%s: error %v (code %s), want %s", what, err, got, want)
	}
}

func tenantAdmin(tn store.Tenant) function.Caller {
	return function.Caller{Subject: "admin-" + tn.Name, Tenant: tn.ID,
		Roles: []string{function.RoleTenantAdmin}}
}

func orgAdmin(tn store.Tenant, orgList ...store.Organization) function.Caller {
	c := function.Caller{Subject: "org-admin", Tenant: tn.ID,
		Roles: []string{function.RoleOrgAdmin}}
	for _, o := range orgList {
		c.Orgs = append(c.Orgs, o.ID)
	}
	return c
}

// snapshot is everything of both tenants that an operation could change:
// the organization trees, the users and their passwords.
type snapshot struct {
	Orgs      []store.Organization
	Users     []store.User
	Passwords map[string]string
}

func (f *fixture) snapshot(t *testing.T) snapshot {
	t.Helper()
	ctx := context.Background()
	s := snapshot{Passwords: map[string]string{}}
	for _, tn := range []store.Tenant{f.a, f.b} {
		var walk func(parent string)
		walk = func(parent string) {
			items, _, err := f.store.Organizations().List(ctx, tn.ID, parent,
				store.Page{Limit: store.MaxPageSize})
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range items {
				s.Orgs = append(s.Orgs, o)
				walk(o.ID)
			}
		}
		walk("")
		us, _, err := f.store.Users().List(ctx, tn.ID, store.Page{Limit: store.MaxPageSize})
		if err != nil {
			t.Fatal(err)
		}
		s.Users = append(s.Users, us...)
		for _, u := range us {
			if p, err := f.store.Credentials().GetPassword(ctx, tn.ID, u.ID); err == nil {
				s.Passwords[u.ID] = p.Hash
			}
		}
	}
	return s
}

const goodPassword = users.Password("quiet-lantern-orchard-42")

// TestNoCallerReachesBeyondItsOrganizations tries every organization and
// user operation on the east subtree of tenant a as callers who must not
// reach it. Each is refused, with the same code whether the target exists
// or not (so nothing about existence leaks), and the store is unchanged.
func TestNoCallerReachesBeyondItsOrganizations(t *testing.T) {
	f := setup(t)
	before := f.snapshot(t)
	name, display := "renamed", "Renamed"

	// Each operation is built for a target organization and user, so that
	// it can be tried on the real ones and on IDs that exist nowhere.
	ops := []struct {
		op string
		in func(org, user string) any
	}{
		{orgs.OpCreate, func(org, _ string) any {
			return orgs.CreateInput{TenantID: f.a.ID, ParentID: org, Name: "intruder"}
		}},
		{orgs.OpGet, func(org, _ string) any { return orgs.GetInput{TenantID: f.a.ID, ID: org} }},
		{orgs.OpList, func(org, _ string) any {
			return orgs.ListInput{TenantID: f.a.ID, ParentID: org}
		}},
		{orgs.OpUpdate, func(org, _ string) any {
			return orgs.UpdateInput{TenantID: f.a.ID, ID: org, Name: &name, DisplayName: &display}
		}},
		{orgs.OpDelete, func(org, _ string) any {
			return orgs.DeleteInput{TenantID: f.a.ID, ID: org}
		}},
		{users.OpCreate, func(org, _ string) any {
			return users.CreateInput{TenantID: f.a.ID, Username: "intruder", OrgID: org}
		}},
		{users.OpGet, func(_, u string) any { return users.GetInput{TenantID: f.a.ID, ID: u} }},
		{users.OpList, func(org, _ string) any {
			return users.ListInput{TenantID: f.a.ID, OrgID: org}
		}},
		{users.OpUpdate, func(_, u string) any {
			return users.UpdateInput{TenantID: f.a.ID, ID: u, DisplayName: &display}
		}},
		{users.OpUpdate + " (move into the caller's organization)", func(_, u string) any {
			return users.UpdateInput{TenantID: f.a.ID, ID: u, OrgID: &f.west.ID}
		}},
		{users.OpUpdate + " (move out to tenant level)", func(_, u string) any {
			empty := ""
			return users.UpdateInput{TenantID: f.a.ID, ID: u, OrgID: &empty}
		}},
		{users.OpDelete, func(_, u string) any {
			return users.DeleteInput{TenantID: f.a.ID, ID: u}
		}},
		{users.OpSetPassword, func(_, u string) any {
			return users.SetPasswordInput{TenantID: f.a.ID, ID: u, Password: goodPassword}
		}},
	}
	callers := []struct {
		who  string
		c    function.Caller
		want errs.Code
	}{
		{"an org admin of a sibling organization", orgAdmin(f.a, f.west), errs.NotFound},
		{"an org admin of a child organization acting on its parent", orgAdmin(f.a, f.eastChild),
			errs.NotFound},
		{"an org admin of another tenant's organization", orgAdmin(f.b, f.bTop), errs.NotFound},
		{"a tenant admin of another tenant", tenantAdmin(f.b), errs.NotFound},
		{"an org admin whose organizations are in another tenant",
			function.Caller{Subject: "x", Tenant: f.a.ID, Roles: []string{function.RoleOrgAdmin},
				Orgs: []string{f.bTop.ID}}, errs.NotFound},
		{"a plain user of the tenant", function.Caller{Subject: f.uTenant.ID, Tenant: f.a.ID,
			Roles: []string{function.RoleUser}}, errs.PermissionDenied},
		{"an org admin without organizations", orgAdmin(f.a), errs.PermissionDenied},
		{"anonymous", function.Caller{}, errs.Unauthenticated},
	}
	targets := []struct {
		what      string
		org, user string
	}{
		{"an existing target", f.east.ID, f.uEast.ID},
		{"a target that exists nowhere", validate.NewID(), validate.NewID()},
	}

	for _, c := range callers {
		for _, o := range ops {
			for _, tg := range targets {
				t.Run(fmt.Sprintf("%s cannot %s on %s", c.who, o.op, tg.what), func(t *testing.T) {
					op, _, _ := strings.Cut(o.op, " ")
					_, err := try[json.RawMessage](f, op, c.c, o.in(tg.org, tg.user))
					wantCode(t, op, err, c.want)
				})
			}
		}
	}

	if diff := cmp.Diff(before, f.snapshot(t)); diff != "" {
		t.Errorf("the store changed (-before +after):\n%s", diff)
	}
}

// TestOrgAdminManagesBelowItsOrganization is the other side: what an org
// admin of east may do, in east and below.
func TestOrgAdminManagesBelowItsOrganization(t *testing.T) {
	f := setup(t)
	c := orgAdmin(f.a, f.east)

	for _, o := range []store.Organization{f.east, f.eastChild, f.eastGrandchild} {
		got := call[store.Organization](t, f, orgs.OpGet, c,
			orgs.GetInput{TenantID: f.a.ID, ID: o.ID})
		if got.ID != o.ID {
			t.Errorf("get %s returned %s", o.Name, got.ID)
		}
	}
	list := call[orgs.ListOutput](t, f, orgs.OpList, c,
		orgs.ListInput{TenantID: f.a.ID, ParentID: f.east.ID})
	if len(list.Items) != 1 || list.Items[0].ID != f.eastChild.ID {
		t.Errorf("children of east = %+v, want east-child only", list.Items)
	}
	_, err := try[orgs.ListOutput](f, orgs.OpList, c, orgs.ListInput{TenantID: f.a.ID})
	wantCode(t, "list the top level", err, errs.PermissionDenied)
	_, err = try[store.Organization](f, orgs.OpCreate, c,
		orgs.CreateInput{TenantID: f.a.ID, Name: "top"})
	wantCode(t, "create at top level", err, errs.PermissionDenied)

	sub := call[store.Organization](t, f, orgs.OpCreate, c,
		orgs.CreateInput{TenantID: f.a.ID, ParentID: f.east.ID, Name: "East-Sub"})
	if sub.Name != "east-sub" || sub.ParentID != f.east.ID || sub.Depth != 2 {
		t.Errorf("created %+v", sub)
	}
	deep := call[store.Organization](t, f, orgs.OpCreate, c,
		orgs.CreateInput{TenantID: f.a.ID, ParentID: f.eastGrandchild.ID, Name: "deep"})
	if deep.Depth != 4 {
		t.Errorf("deep has depth %d, want 4", deep.Depth)
	}
	newName := "east-renamed"
	_, err = try[store.Organization](f, orgs.OpUpdate, c,
		orgs.UpdateInput{TenantID: f.a.ID, ID: f.east.ID, Name: &newName})
	wantCode(t, "rename its own organization", err, errs.NotFound)
	_, err = try[orgs.DeleteOutput](f, orgs.OpDelete, c,
		orgs.DeleteInput{TenantID: f.a.ID, ID: f.east.ID})
	wantCode(t, "delete its own organization", err, errs.NotFound)
	renamed := call[store.Organization](t, f, orgs.OpUpdate, c,
		orgs.UpdateInput{TenantID: f.a.ID, ID: sub.ID, Name: &newName})
	if renamed.Name != newName {
		t.Errorf("renamed to %q", renamed.Name)
	}
	call[orgs.DeleteOutput](t, f, orgs.OpDelete, c, orgs.DeleteInput{TenantID: f.a.ID, ID: deep.ID})
	_, err = try[orgs.DeleteOutput](f, orgs.OpDelete, c,
		orgs.DeleteInput{TenantID: f.a.ID, ID: f.eastChild.ID})
	wantCode(t, "delete an organization with children and users", err, errs.Conflict)

	// Users.
	u := call[store.User](t, f, users.OpCreate, c,
		users.CreateInput{TenantID: f.a.ID, Username: "new-hire", OrgID: f.eastGrandchild.ID})
	if u.OrgID != f.eastGrandchild.ID {
		t.Errorf("created user in %q", u.OrgID)
	}
	_, err = try[store.User](f, users.OpCreate, c,
		users.CreateInput{TenantID: f.a.ID, Username: "stray"})
	wantCode(t, "create at tenant level", err, errs.PermissionDenied)
	_, err = try[users.ListOutput](f, users.OpList, c, users.ListInput{TenantID: f.a.ID})
	wantCode(t, "list the whole tenant", err, errs.PermissionDenied)
	members := call[users.ListOutput](t, f, users.OpList, c,
		users.ListInput{TenantID: f.a.ID, OrgID: f.eastChild.ID})
	if len(members.Items) != 1 || members.Items[0].ID != f.uEastChild.ID {
		t.Errorf("members of east-child = %+v", members.Items)
	}
	for _, x := range []store.User{f.uWest, f.uTenant} {
		_, err = try[store.User](f, users.OpGet, c, users.GetInput{TenantID: f.a.ID, ID: x.ID})
		wantCode(t, "get "+x.Username, err, errs.NotFound)
	}

	moved := call[store.User](t, f, users.OpUpdate, c,
		users.UpdateInput{TenantID: f.a.ID, ID: f.uEast.ID, OrgID: &f.eastChild.ID})
	if moved.OrgID != f.eastChild.ID {
		t.Errorf("moved to %q", moved.OrgID)
	}
	_, err = try[store.User](f, users.OpUpdate, c,
		users.UpdateInput{TenantID: f.a.ID, ID: f.uEast.ID, OrgID: &f.west.ID})
	wantCode(t, "move to a sibling organization", err, errs.NotFound)
	_, err = try[store.User](f, users.OpUpdate, c,
		users.UpdateInput{TenantID: f.a.ID, ID: f.uWest.ID, OrgID: &f.east.ID})
	wantCode(t, "move in from a sibling organization", err, errs.NotFound)

	call[users.PasswordOutput](t, f, users.OpSetPassword, c,
		users.SetPasswordInput{TenantID: f.a.ID, ID: u.ID, Password: goodPassword})
	call[users.DeleteOutput](t, f, users.OpDelete, c, users.DeleteInput{TenantID: f.a.ID, ID: u.ID})
	got, err := f.store.Users().Get(context.Background(), f.a.ID, f.uWest.ID)
	if err != nil || got.OrgID != f.west.ID || got.Version != f.uWest.Version {
		t.Errorf("u-west after the refused move: %+v, %v", got, err)
	}
}

// TestOrgAdminOfSeveralOrganizations checks that an org admin's reach is
// the union of its organizations.
func TestOrgAdminOfSeveralOrganizations(t *testing.T) {
	f := setup(t)
	c := orgAdmin(f.a, f.eastChild, f.westChild)
	for _, o := range []store.Organization{f.eastChild, f.eastGrandchild, f.westChild} {
		call[store.Organization](t, f, orgs.OpGet, c, orgs.GetInput{TenantID: f.a.ID, ID: o.ID})
	}
	for _, o := range []store.Organization{f.east, f.west} {
		_, err := try[store.Organization](f, orgs.OpGet, c,
			orgs.GetInput{TenantID: f.a.ID, ID: o.ID})
		wantCode(t, "get the parent "+o.Name, err, errs.NotFound)
	}
	// Moving between its two organizations needs both, and has both.
	moved := call[store.User](t, f, users.OpUpdate, c,
		users.UpdateInput{TenantID: f.a.ID, ID: f.uEastChild.ID, OrgID: &f.westChild.ID})
	if moved.OrgID != f.westChild.ID {
		t.Errorf("moved to %q", moved.OrgID)
	}
}

// TestTenantAdminManagesAllOrganizations covers the tenant-wide side.
func TestTenantAdminManagesAllOrganizations(t *testing.T) {
	f := setup(t)
	c := tenantAdmin(f.a)
	top := call[orgs.ListOutput](t, f, orgs.OpList, c, orgs.ListInput{TenantID: f.a.ID})
	if len(top.Items) != 2 {
		t.Errorf("top level has %d organizations, want 2", len(top.Items))
	}
	all := call[users.ListOutput](t, f, users.OpList, c, users.ListInput{TenantID: f.a.ID})
	if len(all.Items) != 4 {
		t.Errorf("tenant lists %d users, want 4", len(all.Items))
	}
	moved := call[store.User](t, f, users.OpUpdate, c,
		users.UpdateInput{TenantID: f.a.ID, ID: f.uTenant.ID, OrgID: &f.westChild.ID})
	if moved.OrgID != f.westChild.ID {
		t.Errorf("moved to %q", moved.OrgID)
	}
	missing := validate.NewID()
	_, err := try[store.User](f, users.OpUpdate, c,
		users.UpdateInput{TenantID: f.a.ID, ID: f.uTenant.ID, OrgID: &missing})
	wantCode(t, "move to a missing organization", err, errs.InvalidArgument)
	_, err = try[store.Organization](f, orgs.OpCreate, c,
		orgs.CreateInput{TenantID: f.a.ID, ParentID: f.bTop.ID, Name: "cross"})
	wantCode(t, "create under another tenant's organization", err, errs.NotFound)
	_, err = try[store.Organization](f, orgs.OpCreate, c,
		orgs.CreateInput{TenantID: f.a.ID, Name: "east"})
	wantCode(t, "create a taken name", err, errs.Conflict)
	_, err = try[store.Organization](f, orgs.OpCreate, c,
		orgs.CreateInput{TenantID: f.a.ID, Name: "Not a slug!"})
	wantCode(t, "create with a bad name", err, errs.InvalidArgument)

	name := "westward"
	got := call[store.Organization](t, f, orgs.OpUpdate, c,
		orgs.UpdateInput{TenantID: f.a.ID, ID: f.west.ID, Name: &name})
	if got.Name != name || got.Version != 2 {
		t.Errorf("renamed west: %+v", got)
	}
	call[users.DeleteOutput](t, f, users.OpDelete, c, users.DeleteInput{TenantID: f.a.ID,
		ID: f.uTenant.ID})
	call[orgs.DeleteOutput](t, f, orgs.OpDelete, c, orgs.DeleteInput{TenantID: f.a.ID,
		ID: f.westChild.ID})
	_, err = f.store.Organizations().Get(context.Background(), f.a.ID, f.westChild.ID)
	wantCode(t, "get the deleted organization", err, errs.NotFound)
	_, err = try[orgs.ListOutput](f, orgs.OpList, tenantAdmin(f.a),
		orgs.ListInput{TenantID: f.a.ID, ParentID: validate.NewID()})
	wantCode(t, "list under a missing parent", err, errs.NotFound)
}
