package groups_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wardhq/ward/shared/audit"
	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/groups"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/orgs"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/store/bolt"
	"github.com/wardhq/ward/shared/tenants"
	"github.com/wardhq/ward/shared/users"
	"github.com/wardhq/ward/shared/validate"
)

var (
	sysAdmin = function.Caller{Subject: "root", Roles: []string{function.RoleSystemAdmin}}
	service  = function.Caller{Subject: "service:test", Roles: []string{function.RoleService}}
)

// backend opens a fresh store for one test.
type backend struct {
	name string
	open func(t *testing.T) store.Store
}

// backends are the stores the tests run on: bolt with the in-memory
// groups of these tests, bolt itself, and (with the integration tag)
// ScyllaDB.
var backends = []backend{
	{"memory", func(t *testing.T) store.Store {
		st := openBolt(t)
		return withGroups{Store: st, g: newMemGroups(st.Users())}
	}},
	{"bolt", func(t *testing.T) store.Store { return openBolt(t) }},
}

func openBolt(t *testing.T) store.Store {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "ward.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// eachBackend runs test once per backend.
func eachBackend(t *testing.T, test func(t *testing.T, f *fixture)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { test(t, setup(t, b.open(t))) })
	}
}

// fixture is two tenants. Tenant a has organizations east (with
// eastChild below) and west, users in east, eastChild and west and one
// at tenant level, and the group staff holding uEast, uWest and uTenant;
// tenant b has one user and the group others, holding that user.
type fixture struct {
	inv   invoke.Invoker
	store store.Store
	a, b  store.Tenant

	east, eastChild, west store.Organization

	uEast, uEastChild, uWest, uTenant, uB store.User

	staff, others store.Group
}

func setup(t *testing.T, st store.Store) *fixture {
	t.Helper()
	f := &fixture{store: st, inv: invoke.NewLocal(
		tenants.Function(tenants.Deps{Store: st}),
		users.Function(users.Deps{Store: st}),
		orgs.Function(orgs.Deps{Store: st}),
		groups.Function(groups.Deps{Store: st}),
		audit.Function(audit.Deps{Store: st}),
	)}
	tenant := func(name string) store.Tenant {
		return call[store.Tenant](t, f, tenants.OpCreate, sysAdmin, tenants.CreateInput{Name: name})
	}
	f.a, f.b = tenant("tenant-a"), tenant("tenant-b")
	org := func(parentID, name string) store.Organization {
		return call[store.Organization](t, f, orgs.OpCreate, sysAdmin,
			orgs.CreateInput{TenantID: f.a.ID, ParentID: parentID, Name: name})
	}
	f.east = org("", "east")
	f.eastChild = org(f.east.ID, "east-child")
	f.west = org("", "west")
	user := func(tenantID, name, orgID string) store.User {
		return call[store.User](t, f, users.OpCreate, sysAdmin,
			users.CreateInput{TenantID: tenantID, Username: name, OrgID: orgID})
	}
	f.uEast = user(f.a.ID, "u-east", f.east.ID)
	f.uEastChild = user(f.a.ID, "u-east-child", f.eastChild.ID)
	f.uWest = user(f.a.ID, "u-west", f.west.ID)
	f.uTenant = user(f.a.ID, "u-tenant", "")
	f.uB = user(f.b.ID, "u-b", "")
	f.staff = call[store.Group](t, f, groups.OpCreate, sysAdmin,
		groups.CreateInput{TenantID: f.a.ID, Name: "Staff", DisplayName: "Staff",
			Description: "Everyone on the payroll"})
	f.others = call[store.Group](t, f, groups.OpCreate, sysAdmin,
		groups.CreateInput{TenantID: f.b.ID, Name: "others"})
	for _, u := range []store.User{f.uEast, f.uWest, f.uTenant} {
		call[groups.MemberOutput](t, f, groups.OpAddMember, sysAdmin,
			groups.MemberInput{TenantID: f.a.ID, GroupID: f.staff.ID, UserID: u.ID})
	}
	call[groups.MemberOutput](t, f, groups.OpAddMember, sysAdmin,
		groups.MemberInput{TenantID: f.b.ID, GroupID: f.others.ID, UserID: f.uB.ID})
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

func userCaller(u store.User) function.Caller {
	return function.Caller{Subject: u.ID, Tenant: u.TenantID, Roles: []string{function.RoleUser}}
}

// snapshot is everything an operation of the groups function could
// change: the groups of both tenants, their members, and both tenants'
// audit trails.
type snapshot struct {
	Groups  []store.Group
	Members map[string][]string
	Trails  map[string][]store.AuditEvent
}

func (f *fixture) snapshot(t *testing.T) snapshot {
	t.Helper()
	ctx := context.Background()
	s := snapshot{Members: map[string][]string{}, Trails: map[string][]store.AuditEvent{}}
	for _, tn := range []store.Tenant{f.a, f.b} {
		gs, _, err := f.store.Groups().List(ctx, tn.ID, store.Page{Limit: store.MaxPageSize})
		if err != nil {
			t.Fatal(err)
		}
		s.Groups = append(s.Groups, gs...)
		for _, g := range gs {
			ids, _, err := f.store.Groups().Members(ctx, tn.ID, g.ID,
				store.Page{Limit: store.MaxPageSize})
			if err != nil {
				t.Fatal(err)
			}
			s.Members[g.ID] = ids
		}
		evs, _, err := f.store.Audit().List(ctx, tn.ID, store.AuditFilter{},
			store.Page{Limit: store.MaxPageSize})
		if err != nil {
			t.Fatal(err)
		}
		s.Trails[tn.ID] = evs
	}
	return s
}

// TestNoCallerReachesBeyondItsScope tries every groups operation on
// tenant a's staff group and its member uEast as callers who must not
// reach them. Each is refused with the same code and message whether the
// target exists or not, and the store is unchanged.
func TestNoCallerReachesBeyondItsScope(t *testing.T) {
	eachBackend(t, testNoCallerReachesBeyondItsScope)
}

func testNoCallerReachesBeyondItsScope(t *testing.T, f *fixture) {
	before := f.snapshot(t)
	name, text := "renamed", "Renamed"

	// Each operation is built for a target group and user, so that it
	// can be tried on the real ones and on IDs that exist nowhere.
	type op struct {
		op    string
		in    func(group, user string) any
		write bool // create, update, delete: tenant-wide administrators only
		read  bool // reads of groups, which organization administrators may make
	}
	ops := []op{
		{op: groups.OpCreate, write: true, in: func(_, _ string) any {
			return groups.CreateInput{TenantID: f.a.ID, Name: "intruders"}
		}},
		{op: groups.OpGet, read: true, in: func(g, _ string) any {
			return groups.GetInput{TenantID: f.a.ID, ID: g}
		}},
		{op: groups.OpGetByName, read: true, in: func(_, _ string) any {
			return groups.GetByNameInput{TenantID: f.a.ID, Name: "staff"}
		}},
		{op: groups.OpList, read: true, in: func(_, _ string) any {
			return groups.ListInput{TenantID: f.a.ID}
		}},
		{op: groups.OpMembers, read: true, in: func(g, _ string) any {
			return groups.MembersInput{TenantID: f.a.ID, GroupID: g}
		}},
		{op: groups.OpUpdate, write: true, in: func(g, _ string) any {
			return groups.UpdateInput{TenantID: f.a.ID, ID: g, Name: &name, DisplayName: &text,
				Description: &text}
		}},
		{op: groups.OpDelete, write: true, in: func(g, _ string) any {
			return groups.DeleteInput{TenantID: f.a.ID, ID: g}
		}},
		{op: groups.OpAddMember, in: func(g, u string) any {
			return groups.MemberInput{TenantID: f.a.ID, GroupID: g, UserID: u}
		}},
		{op: groups.OpRemoveMember, in: func(g, u string) any {
			return groups.MemberInput{TenantID: f.a.ID, GroupID: g, UserID: u}
		}},
		{op: groups.OpGroupsOf, in: func(_, u string) any {
			return groups.GroupsOfInput{TenantID: f.a.ID, UserID: u}
		}},
	}
	type caller struct {
		who string
		c   function.Caller
		// want is the code for an operation, "" where the caller is
		// allowed (not tried here).
		want func(o op) errs.Code
	}
	always := func(c errs.Code) func(op) errs.Code { return func(op) errs.Code { return c } }
	callers := []caller{
		{"a tenant admin of another tenant", tenantAdmin(f.b), always(errs.NotFound)},
		{"an org admin of another tenant", orgAdmin(f.b), always(errs.NotFound)},
		{"a plain user of another tenant", userCaller(f.uB), always(errs.NotFound)},
		{"a plain user of the tenant", userCaller(f.uTenant), always(errs.PermissionDenied)},
		{"an org admin without organizations", orgAdmin(f.a), always(errs.PermissionDenied)},
		{"anonymous", function.Caller{}, always(errs.Unauthenticated)},
		{"an org admin of a sibling organization", orgAdmin(f.a, f.west),
			func(o op) errs.Code {
				switch {
				case o.write:
					return errs.PermissionDenied
				case o.read:
					return ""
				}
				return errs.NotFound
			}},
		{"an org admin of a child organization", orgAdmin(f.a, f.eastChild),
			func(o op) errs.Code {
				switch {
				case o.write:
					return errs.PermissionDenied
				case o.read:
					return ""
				}
				return errs.NotFound
			}},
		{"a service", service, func(o op) errs.Code {
			if o.write || o.op == groups.OpAddMember || o.op == groups.OpRemoveMember {
				return errs.PermissionDenied
			}
			return ""
		}},
	}
	targets := []struct {
		what        string
		group, user func() string
	}{
		{"an existing target", func() string { return f.staff.ID },
			func() string { return f.uEast.ID }},
		{"an existing group and a missing user", func() string { return f.staff.ID },
			validate.NewID},
		{"a target that exists nowhere", validate.NewID, validate.NewID},
	}

	for _, c := range callers {
		for _, o := range ops {
			want := c.want(o)
			if want == "" {
				continue
			}
			var msgs []string
			for _, tg := range targets {
				what := fmt.Sprintf("%s cannot %s on %s", c.who, o.op, tg.what)
				_, err := try[json.RawMessage](f, o.op, c.c, o.in(tg.group(), tg.user()))
				wantCode(t, what, err, want)
				msgs = append(msgs, errs.Public(err).Message)
			}
			// The same answer for a target that exists and one that does
			// not: the user for the operations on a member, else the group.
			other := 2
			switch o.op {
			case groups.OpAddMember, groups.OpRemoveMember, groups.OpGroupsOf:
				other = 1
			}
			if msgs[0] != msgs[other] {
				t.Errorf("%s, %s: %q for an existing target, %q for a missing one", c.who, o.op,
					msgs[0], msgs[other])
			}
		}
	}

	if diff := cmp.Diff(before, f.snapshot(t)); diff != "" {
		t.Errorf("the store changed (-before +after):\n%s", diff)
	}
}

// actions lists a tenant's audit trail, oldest first, as actions.
func (f *fixture) actions(t *testing.T, tenantID string) []string {
	t.Helper()
	evs, _, err := f.store.Audit().List(context.Background(), tenantID, store.AuditFilter{},
		store.Page{Limit: store.MaxPageSize})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].TargetType == audit.TypeGroup {
			out = append(out, evs[i].Action)
		}
	}
	return out
}

func ids[T any](items []T, id func(T) string) []string {
	out := []string{}
	for _, x := range items {
		out = append(out, id(x))
	}
	return out
}

func groupID(g store.Group) string { return g.ID }
func userID(u store.User) string   { return u.ID }

func TestTenantAdminManagesGroups(t *testing.T) { eachBackend(t, testTenantAdminManagesGroups) }

func testTenantAdminManagesGroups(t *testing.T, f *fixture) {
	c := tenantAdmin(f.a)
	ctx := context.Background()
	before := f.actions(t, f.a.ID)

	eng := call[store.Group](t, f, groups.OpCreate, c, groups.CreateInput{TenantID: f.a.ID,
		Name: "Engineering", DisplayName: "Engineering", Description: "Builds things"})
	if eng.Name != "engineering" || eng.TenantID != f.a.ID || eng.Version == 0 ||
		eng.CreatedAt.IsZero() {
		t.Errorf("created %+v", eng)
	}
	_, err := try[store.Group](f, groups.OpCreate, c,
		groups.CreateInput{TenantID: f.a.ID, Name: "STAFF"})
	wantCode(t, "create a taken name", err, errs.Conflict)
	// Names are per tenant: tenant b's name is free in a.
	call[store.Group](t, f, groups.OpCreate, c, groups.CreateInput{TenantID: f.a.ID,
		Name: "others"})

	got := call[store.Group](t, f, groups.OpGetByName, c,
		groups.GetByNameInput{TenantID: f.a.ID, Name: "EngineeRing"})
	if got.ID != eng.ID {
		t.Errorf("getByName = %+v", got)
	}
	_, err = try[store.Group](f, groups.OpGetByName, c,
		groups.GetByNameInput{TenantID: f.a.ID, Name: "Not a name!"})
	wantCode(t, "getByName of an impossible name", err, errs.NotFound)

	// Paging: three groups, one per page, each once.
	var seen []string
	after := ""
	for range 5 {
		out := call[groups.ListOutput](t, f, groups.OpList, c,
			groups.ListInput{TenantID: f.a.ID, First: 1, After: after})
		seen = append(seen, ids(out.Items, groupID)...)
		if after = out.Next; after == "" {
			break
		}
	}
	if len(seen) != 3 || !slices.IsSorted(seen) || !slices.Contains(seen, eng.ID) {
		t.Errorf("paged listing = %v", seen)
	}

	name, desc := "eng", ""
	upd := call[store.Group](t, f, groups.OpUpdate, c, groups.UpdateInput{TenantID: f.a.ID,
		ID: eng.ID, Name: &name, Description: &desc})
	if upd.Name != "eng" || upd.Description != "" || upd.DisplayName != "Engineering" ||
		upd.Version != eng.Version+1 {
		t.Errorf("updated %+v", upd)
	}
	taken := "staff"
	_, err = try[store.Group](f, groups.OpUpdate, c, groups.UpdateInput{TenantID: f.a.ID,
		ID: eng.ID, Name: &taken})
	wantCode(t, "rename to a taken name", err, errs.Conflict)

	for _, u := range []store.User{f.uEastChild, f.uWest} {
		call[groups.MemberOutput](t, f, groups.OpAddMember, c,
			groups.MemberInput{TenantID: f.a.ID, GroupID: eng.ID, UserID: u.ID})
	}
	// Adding again is no error, and changes nothing.
	call[groups.MemberOutput](t, f, groups.OpAddMember, c,
		groups.MemberInput{TenantID: f.a.ID, GroupID: eng.ID, UserID: f.uWest.ID})
	_, err = try[groups.MemberOutput](f, groups.OpAddMember, c,
		groups.MemberInput{TenantID: f.a.ID, GroupID: eng.ID, UserID: f.uB.ID})
	wantCode(t, "add another tenant's user", err, errs.NotFound)

	members := call[groups.MembersOutput](t, f, groups.OpMembers, c,
		groups.MembersInput{TenantID: f.a.ID, GroupID: eng.ID})
	want := []string{f.uEastChild.ID, f.uWest.ID}
	slices.Sort(want)
	if got := ids(members.Items, userID); !slices.Equal(got, want) || members.Next != "" {
		t.Errorf("members = %v, want %v", got, want)
	}
	of := call[groups.GroupsOfOutput](t, f, groups.OpGroupsOf, c,
		groups.GroupsOfInput{TenantID: f.a.ID, UserID: f.uWest.ID})
	wantGroups := []string{f.staff.ID, eng.ID}
	slices.Sort(wantGroups)
	if got := ids(of.Items, groupID); !slices.Equal(got, wantGroups) {
		t.Errorf("groups of u-west = %v, want %v", got, wantGroups)
	}

	call[groups.MemberOutput](t, f, groups.OpRemoveMember, c,
		groups.MemberInput{TenantID: f.a.ID, GroupID: eng.ID, UserID: f.uWest.ID})
	members = call[groups.MembersOutput](t, f, groups.OpMembers, c,
		groups.MembersInput{TenantID: f.a.ID, GroupID: eng.ID})
	if got := ids(members.Items, userID); !slices.Equal(got, []string{f.uEastChild.ID}) {
		t.Errorf("members after removal = %v", got)
	}

	call[groups.DeleteOutput](t, f, groups.OpDelete, c,
		groups.DeleteInput{TenantID: f.a.ID, ID: eng.ID})
	_, err = f.store.Groups().Get(ctx, f.a.ID, eng.ID)
	wantCode(t, "get the deleted group", err, errs.NotFound)
	_, err = try[groups.DeleteOutput](f, groups.OpDelete, c,
		groups.DeleteInput{TenantID: f.a.ID, ID: eng.ID})
	wantCode(t, "delete it again", err, errs.NotFound)
	of = call[groups.GroupsOfOutput](t, f, groups.OpGroupsOf, c,
		groups.GroupsOfInput{TenantID: f.a.ID, UserID: f.uEastChild.ID})
	if len(of.Items) != 0 {
		t.Errorf("a deleted group's member still belongs to %v", of.Items)
	}

	wantActions := []string{"group.create", "group.create", "group.update",
		"group.addMember", "group.addMember", "group.addMember", "group.removeMember",
		"group.delete"}
	if diff := cmp.Diff(wantActions, f.actions(t, f.a.ID)[len(before):]); diff != "" {
		t.Errorf("audit trail (-want +got):\n%s", diff)
	}
}

// TestAuditEventsOfGroups checks what the events of a group say.
func TestAuditEventsOfGroups(t *testing.T) { eachBackend(t, testAuditEventsOfGroups) }

func testAuditEventsOfGroups(t *testing.T, f *fixture) {
	c := tenantAdmin(f.a)
	desc := "Everyone"
	call[store.Group](t, f, groups.OpUpdate, c, groups.UpdateInput{TenantID: f.a.ID,
		ID: f.staff.ID, Description: &desc})
	call[groups.MemberOutput](t, f, groups.OpRemoveMember, c,
		groups.MemberInput{TenantID: f.a.ID, GroupID: f.staff.ID, UserID: f.uWest.ID})
	evs, _, err := f.store.Audit().List(context.Background(), f.a.ID,
		store.AuditFilter{TargetID: f.staff.ID}, store.Page{Limit: 2})
	if err != nil || len(evs) != 2 {
		t.Fatalf("events: %v, %v", evs, err)
	}
	type ev struct {
		Actor, Action, TargetType string
		Changes                   map[string]store.AuditChange
	}
	got := []ev{}
	for _, e := range evs {
		got = append(got, ev{e.Actor, e.Action, e.TargetType, e.Changes})
	}
	want := []ev{
		{c.Subject, "group.removeMember", "group",
			map[string]store.AuditChange{"member": {Old: f.uWest.ID}}},
		{c.Subject, "group.update", "group", map[string]store.AuditChange{
			"description": {Old: "Everyone on the payroll", New: "Everyone"}}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

// TestOrgAdminSeesOnlyWhomItReaches covers an organization
// administrator of east: every group is readable, members out of reach
// are left out, and only reached users are added or removed.
func TestOrgAdminSeesOnlyWhomItReaches(t *testing.T) {
	eachBackend(t, testOrgAdminSeesOnlyWhomItReaches)
}

func testOrgAdminSeesOnlyWhomItReaches(t *testing.T, f *fixture) {
	c := orgAdmin(f.a, f.east)
	list := call[groups.ListOutput](t, f, groups.OpList, c, groups.ListInput{TenantID: f.a.ID})
	if got := ids(list.Items, groupID); !slices.Equal(got, []string{f.staff.ID}) {
		t.Errorf("groups = %v", got)
	}
	members := call[groups.MembersOutput](t, f, groups.OpMembers, c,
		groups.MembersInput{TenantID: f.a.ID, GroupID: f.staff.ID})
	if got := ids(members.Items, userID); !slices.Equal(got, []string{f.uEast.ID}) {
		t.Errorf("members seen by east's admin = %v, want u-east only", got)
	}
	call[groups.MemberOutput](t, f, groups.OpAddMember, c,
		groups.MemberInput{TenantID: f.a.ID, GroupID: f.staff.ID, UserID: f.uEastChild.ID})
	of := call[groups.GroupsOfOutput](t, f, groups.OpGroupsOf, c,
		groups.GroupsOfInput{TenantID: f.a.ID, UserID: f.uEastChild.ID})
	if got := ids(of.Items, groupID); !slices.Equal(got, []string{f.staff.ID}) {
		t.Errorf("groups of u-east-child = %v", got)
	}
	// Paging one by one still leaves the others out.
	var seen []string
	after := ""
	for range 10 {
		out := call[groups.MembersOutput](t, f, groups.OpMembers, c,
			groups.MembersInput{TenantID: f.a.ID, GroupID: f.staff.ID, First: 1, After: after})
		seen = append(seen, ids(out.Items, userID)...)
		if after = out.Next; after == "" {
			break
		}
	}
	want := []string{f.uEast.ID, f.uEastChild.ID}
	slices.Sort(want)
	if !slices.Equal(seen, want) {
		t.Errorf("paged members = %v, want %v", seen, want)
	}
	call[groups.MemberOutput](t, f, groups.OpRemoveMember, c,
		groups.MemberInput{TenantID: f.a.ID, GroupID: f.staff.ID, UserID: f.uEast.ID})
	all := call[groups.MembersOutput](t, f, groups.OpMembers, tenantAdmin(f.a),
		groups.MembersInput{TenantID: f.a.ID, GroupID: f.staff.ID})
	want = []string{f.uEastChild.ID, f.uWest.ID, f.uTenant.ID}
	slices.Sort(want)
	if got := ids(all.Items, userID); !slices.Equal(got, want) {
		t.Errorf("members as the tenant admin sees them = %v, want %v", got, want)
	}
}

// TestUsersReadTheirOwnGroups covers plain users and services.
func TestUsersReadTheirOwnGroups(t *testing.T) { eachBackend(t, testUsersReadTheirOwnGroups) }

func testUsersReadTheirOwnGroups(t *testing.T, f *fixture) {
	of := call[groups.GroupsOfOutput](t, f, groups.OpGroupsOf, userCaller(f.uWest),
		groups.GroupsOfInput{TenantID: f.a.ID, UserID: f.uWest.ID})
	if got := ids(of.Items, groupID); !slices.Equal(got, []string{f.staff.ID}) {
		t.Errorf("u-west's own groups = %v", got)
	}
	of = call[groups.GroupsOfOutput](t, f, groups.OpGroupsOf, userCaller(f.uEastChild),
		groups.GroupsOfInput{TenantID: f.a.ID, UserID: f.uEastChild.ID})
	if of.Items == nil || len(of.Items) != 0 {
		t.Errorf("u-east-child's own groups = %#v, want an empty list", of.Items)
	}
	_, err := try[groups.GroupsOfOutput](f, groups.OpGroupsOf, userCaller(f.uWest),
		groups.GroupsOfInput{TenantID: f.a.ID, UserID: f.uEast.ID})
	wantCode(t, "a user reads another's groups", err, errs.PermissionDenied)

	// A service reads every tenant.
	for _, tn := range []store.Tenant{f.a, f.b} {
		out := call[groups.ListOutput](t, f, groups.OpList, service,
			groups.ListInput{TenantID: tn.ID})
		if len(out.Items) != 1 {
			t.Errorf("a service lists %d groups of %s", len(out.Items), tn.Name)
		}
	}
	m := call[groups.MembersOutput](t, f, groups.OpMembers, service,
		groups.MembersInput{TenantID: f.b.ID, GroupID: f.others.ID})
	if got := ids(m.Items, userID); !slices.Equal(got, []string{f.uB.ID}) {
		t.Errorf("a service reads members %v", got)
	}
	_, err = try[groups.ListOutput](f, groups.OpList, service,
		groups.ListInput{TenantID: validate.NewID()})
	wantCode(t, "a service lists a missing tenant", err, errs.NotFound)
}

func TestInputIsChecked(t *testing.T) { eachBackend(t, testInputIsChecked) }

func testInputIsChecked(t *testing.T, f *fixture) {
	before := f.snapshot(t)
	c := tenantAdmin(f.a)
	long := strings.Repeat("x", groups.MaxDescription+1)
	cases := []struct {
		what  string
		op    string
		in    any
		field string
	}{
		{"a name that is not a slug", groups.OpCreate,
			groups.CreateInput{TenantID: f.a.ID, Name: "no good"}, "name"},
		{"a one-letter name", groups.OpCreate,
			groups.CreateInput{TenantID: f.a.ID, Name: "x"}, "name"},
		{"a long description", groups.OpCreate,
			groups.CreateInput{TenantID: f.a.ID, Name: "fine", Description: long}, "description"},
		{"a control character", groups.OpCreate,
			groups.CreateInput{TenantID: f.a.ID, Name: "fine", DisplayName: "a\x00b"},
			"displayName"},
		{"a bad tenant ID", groups.OpList, groups.ListInput{TenantID: "acme"}, "tenantId"},
		{"a bad user ID", groups.OpAddMember,
			groups.MemberInput{TenantID: f.a.ID, GroupID: f.staff.ID, UserID: "ann"}, "userId"},
		{"a long description on update", groups.OpUpdate,
			groups.UpdateInput{TenantID: f.a.ID, ID: f.staff.ID, Description: &long},
			"description"},
	}
	for _, tc := range cases {
		_, err := try[json.RawMessage](f, tc.op, c, tc.in)
		wantCode(t, tc.what, err, errs.InvalidArgument)
		if got := errs.Public(err).Field; got != tc.field {
			t.Errorf("%s: field %q, want %q", tc.what, got, tc.field)
		}
	}
	_, err := try[groups.ListOutput](f, groups.OpList, c,
		groups.ListInput{TenantID: f.a.ID, After: "garbage"})
	wantCode(t, "a malformed cursor", err, errs.InvalidArgument)
	if diff := cmp.Diff(before, f.snapshot(t)); diff != "" {
		t.Errorf("the store changed (-before +after):\n%s", diff)
	}
}
