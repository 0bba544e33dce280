package ldap

import (
	"fmt"
	"slices"
	"sort"
	"testing"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/wardhq/ward/shared/apitokens"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/groups"
	"github.com/wardhq/ward/shared/orgs"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/users"
)

const (
	aliceDN  = "uid=alice,ou=users,o=acme,dc=ward"
	bobDN    = "uid=bob,ou=users,o=acme,dc=ward"
	staffDN  = "cn=staff,ou=groups,o=acme,dc=ward"
	groupsOU = "ou=groups,o=acme,dc=ward"
)

func TestParseGroupDNs(t *testing.T) {
	cases := []struct {
		dn   string
		want place
	}{
		{"ou=groups,o=acme,dc=ward", place{kind: placeGroups, tenant: "acme"}},
		{"OU=Groups,o=Acme,dc=ward", place{kind: placeGroups, tenant: "acme"}},
		{"cn=Staff,ou=groups,o=acme,dc=ward", place{kind: placeGroup, tenant: "acme",
			group: "staff"}},
		{"uid=staff,ou=groups,o=acme,dc=ward", place{kind: placeOutside}},
		{"cn=a,cn=staff,ou=groups,o=acme,dc=ward", place{kind: placeOutside}},
		{"cn=staff,ou=users,o=acme,dc=ward", place{kind: placeOutside}},
	}
	for _, tc := range cases {
		got, err := parseDN(tc.dn)
		if err != nil || got != tc.want {
			t.Errorf("parseDN(%q) = %+v, %v; want %+v", tc.dn, got, err, tc.want)
		}
	}
	users := place{kind: placeUsers, tenant: "acme"}
	group := place{kind: placeGroup, tenant: "acme", group: "staff"}
	if users.contains(group) || group.contains(place{kind: placeUser, tenant: "acme"}) {
		t.Error("the users and groups containers overlap")
	}
	if !(place{kind: placeTenant, tenant: "acme"}).contains(group) {
		t.Error("a tenant does not contain its groups")
	}
}

func TestMemberFiltersMatchDNs(t *testing.T) {
	e := groupEntry("acme", store.Group{Name: "staff"}, []string{aliceDN})
	cases := []struct {
		filter string
		want   bool
	}{
		{"(member=uid=alice,ou=users,o=acme,dc=ward)", true},
		{"(member=UID=Alice, OU=users, o=acme,dc=ward)", true},
		{`(member=uid=al\69ce,ou=users,o=acme,dc=ward)`, true},
		{"(member=uid=bob,ou=users,o=acme,dc=ward)", false},
		{"(member=uid=alice,ou=users,o=globex,dc=ward)", false},
		{"(member=uid=alice*)", true},
		{"(memberOf=cn=staff,ou=groups,o=acme,dc=ward)", false}, // groups have none
	}
	for _, tc := range cases {
		f, err := compileFilter(tc.filter)
		if err != nil {
			t.Fatalf("%s: %v", tc.filter, err)
		}
		if got := f.match(e); got != tc.want {
			t.Errorf("%s = %v, want %v", tc.filter, got, tc.want)
		}
	}
}

// groupFixture adds to the fixture: organization east holding bob, an
// org_admin token for east, the group staff (alice and bob) and the empty
// group idle in acme, and the group crew (carol) in globex.
type groupFixture struct {
	*fixture
	staff, idle, crew store.Group
	eastToken         string
}

func newGroupFixture(t *testing.T) *groupFixture {
	t.Helper()
	f := &groupFixture{fixture: newFixture(t, fixtureOptions{})}
	east := call[store.Organization](t, f.inv, orgs.FunctionName, orgs.OpCreate, systemAdmin,
		orgs.CreateInput{TenantID: f.acme.ID, Name: "east"})
	call[store.User](t, f.inv, users.FunctionName, users.OpUpdate, systemAdmin,
		users.UpdateInput{TenantID: f.acme.ID, ID: f.bob.ID, OrgID: &east.ID})
	f.eastToken = call[apitokens.CreateOutput](t, f.inv, apitokens.FunctionName,
		apitokens.OpCreate, systemAdmin, apitokens.CreateInput{TenantID: f.acme.ID,
			Name: "east", Roles: []string{function.RoleOrgAdmin}, Orgs: []string{east.ID}}).Token
	mk := func(tenantID, name, desc string, members ...store.User) store.Group {
		g := call[store.Group](t, f.inv, groups.FunctionName, groups.OpCreate, systemAdmin,
			groups.CreateInput{TenantID: tenantID, Name: name, Description: desc})
		for _, u := range members {
			call[groups.MemberOutput](t, f.inv, groups.FunctionName, groups.OpAddMember,
				systemAdmin, groups.MemberInput{TenantID: tenantID, GroupID: g.ID, UserID: u.ID})
		}
		return g
	}
	f.staff = mk(f.acme.ID, "staff", "All staff", f.alice, f.bob)
	f.idle = mk(f.acme.ID, "idle", "")
	f.crew = mk(f.globex.ID, "crew", "", f.carol)
	return f
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	sort.Strings(s)
	return s
}

func TestGroupsInTheDirectory(t *testing.T) {
	f := newGroupFixture(t)
	admin := f.asAdmin(t)

	got, err := search(t, admin, groupsOU, goldap.ScopeSingleLevel, "(objectClass=groupOfNames)")
	if err != nil || !slices.Equal(dns(got), []string{"cn=idle," + groupsOU, staffDN}) {
		t.Fatalf("groups: %v, %v", dns(got), err)
	}
	for _, e := range got {
		if e.DN != staffDN {
			if len(e.GetAttributeValues("member")) != 0 {
				t.Errorf("idle has members %v", e.GetAttributeValues("member"))
			}
			continue
		}
		if m := sorted(e.GetAttributeValues("member")); !slices.Equal(m, []string{aliceDN, bobDN}) {
			t.Errorf("staff's members = %v", m)
		}
		if e.GetAttributeValue("cn") != "staff" || e.GetAttributeValue("description") != "All staff" {
			t.Errorf("staff = %+v", e.Attributes)
		}
	}

	cases := []struct {
		name, base, filter string
		want               []string
	}{
		{"memberOf finds the members", "o=acme,dc=ward",
			"(memberOf=cn=staff,ou=groups,o=acme,dc=ward)", []string{aliceDN, bobDN}},
		{"memberOf matches as a DN", "o=acme,dc=ward",
			"(memberOf=CN=Staff, ou=Groups,o=acme,dc=ward)", []string{aliceDN, bobDN}},
		{"member finds the groups", "o=acme,dc=ward",
			"(&(objectClass=groupOfNames)(member=uid=alice,ou=users,o=acme,dc=ward))",
			[]string{staffDN}},
		{"an empty group has no members", "o=acme,dc=ward",
			"(memberOf=cn=idle,ou=groups,o=acme,dc=ward)", nil},
		{"the users container holds no groups", "ou=users,o=acme,dc=ward",
			"(objectClass=groupOfNames)", nil},
		{"a group as the base", staffDN, "(objectClass=*)", []string{staffDN}},
	}
	for _, tc := range cases {
		got, err := search(t, admin, tc.base, goldap.ScopeWholeSubtree, tc.filter)
		if err != nil || !slices.Equal(dns(got), tc.want) {
			t.Errorf("%s: %v, %v; want %v", tc.name, dns(got), err, tc.want)
		}
	}

	// memberOf is operational: asked for by name, not by "*".
	got, err = search(t, admin, aliceDN, goldap.ScopeBaseObject, "(objectClass=*)", "memberOf")
	if err != nil || len(got) != 1 ||
		!slices.Equal(got[0].GetAttributeValues("memberOf"), []string{staffDN}) {
		t.Errorf("alice's memberOf: %v, %v", got, err)
	}
	got, err = search(t, admin, "ou=users,o=acme,dc=ward", goldap.ScopeSingleLevel,
		"(uid=bob)", "*")
	if err != nil || len(got) != 1 || got[0].GetAttributeValue("memberOf") != "" {
		t.Errorf("memberOf returned for *: %v, %v", got, err)
	}
	got, err = search(t, admin, "ou=users,o=acme,dc=ward", goldap.ScopeSingleLevel,
		"(uid=*)", "memberOf")
	for _, e := range got {
		want := []string{staffDN}
		if e.DN != aliceDN && e.DN != bobDN {
			want = nil
		}
		if !slices.Equal(e.GetAttributeValues("memberOf"), want) {
			t.Errorf("%s memberOf = %v, want %v", e.DN, e.GetAttributeValues("memberOf"), want)
		}
	}
	if err != nil || len(got) != 2 {
		t.Errorf("users: %v, %v", dns(got), err)
	}

	t.Run("a plain user sees no group but their own memberOf", func(t *testing.T) {
		alice := f.asAlice(t)
		got, err := search(t, alice, "o=acme,dc=ward", goldap.ScopeWholeSubtree,
			"(objectClass=groupOfNames)")
		if err != nil || len(got) != 0 {
			t.Errorf("groups seen by alice: %v, %v", dns(got), err)
		}
		_, err = search(t, alice, staffDN, goldap.ScopeBaseObject, "(objectClass=*)")
		wantCode(t, "staff as alice's base", err, goldap.LDAPResultNoSuchObject)
		got, err = search(t, alice, "ou=users,o=acme,dc=ward", goldap.ScopeSingleLevel,
			"(uid=*)", "+")
		if err != nil || len(got) != 2 {
			t.Fatalf("users seen by alice: %v, %v", dns(got), err)
		}
		for _, e := range got {
			want := []string{staffDN}
			if e.DN != aliceDN {
				want = nil
			}
			if !slices.Equal(e.GetAttributeValues("memberOf"), want) {
				t.Errorf("%s memberOf as alice sees it = %v", e.DN, e.GetAttributeValues("memberOf"))
			}
		}
	})

	t.Run("an org admin sees only the members it administers", func(t *testing.T) {
		east := f.bindAs(t, "cn=east,ou=tokens,dc=ward", f.eastToken)
		got, err := search(t, east, staffDN, goldap.ScopeBaseObject, "(objectClass=*)")
		if err != nil || len(got) != 1 ||
			!slices.Equal(got[0].GetAttributeValues("member"), []string{bobDN}) {
			t.Errorf("staff as east's admin sees it: %v, %v", got, err)
		}
	})

	t.Run("another tenant's groups are not there", func(t *testing.T) {
		globex := f.bindAs(t, "cn=g,ou=tokens,dc=ward", f.globexToken)
		_, err := search(t, globex, staffDN, goldap.ScopeBaseObject, "(objectClass=*)")
		wantCode(t, "acme's group as globex's base", err, goldap.LDAPResultNoSuchObject)
		got, err := search(t, globex, "o=globex,dc=ward", goldap.ScopeWholeSubtree,
			"(objectClass=groupOfNames)")
		if err != nil || !slices.Equal(dns(got), []string{"cn=crew,ou=groups,o=globex,dc=ward"}) {
			t.Errorf("globex's groups: %v, %v", dns(got), err)
		}
		_, err = search(t, admin, "cn=nope,"+groupsOU, goldap.ScopeBaseObject, "(objectClass=*)")
		wantCode(t, "a missing group as the base", err, goldap.LDAPResultNoSuchObject)
	})
}

// members reads a group's member DNs as the tenant administrator.
func (f *groupFixture) members(t *testing.T, c *goldap.Conn, dn string) ([]string, error) {
	t.Helper()
	got, err := search(t, c, dn, goldap.ScopeBaseObject, "(objectClass=*)")
	if err != nil || len(got) != 1 {
		return nil, err
	}
	return sorted(got[0].GetAttributeValues("member")), nil
}

func TestGroupWrites(t *testing.T) {
	f := newGroupFixture(t)
	admin := f.asAdmin(t)
	devsDN := "cn=devs," + groupsOU

	add := goldap.NewAddRequest(devsDN, nil)
	add.Attribute("objectClass", []string{"top", "groupOfNames"})
	add.Attribute("cn", []string{"devs"})
	add.Attribute("description", []string{"Developers"})
	add.Attribute("member", []string{aliceDN})
	if err := admin.Add(add); err != nil {
		t.Fatalf("add: %v", err)
	}
	if got, err := f.members(t, admin, devsDN); err != nil || !slices.Equal(got,
		[]string{aliceDN}) {
		t.Fatalf("devs' members: %v, %v", got, err)
	}

	mod := goldap.NewModifyRequest(devsDN, nil)
	mod.Add("member", []string{bobDN})
	mod.Delete("member", []string{"UID=Alice,ou=users,o=acme,dc=ward"})
	mod.Replace("description", []string{"The developers"})
	if err := admin.Modify(mod); err != nil {
		t.Fatalf("modify: %v", err)
	}
	got, err := search(t, admin, devsDN, goldap.ScopeBaseObject, "(objectClass=*)")
	if err != nil || len(got) != 1 || got[0].GetAttributeValue("description") != "The developers" ||
		!slices.Equal(got[0].GetAttributeValues("member"), []string{bobDN}) {
		t.Fatalf("devs after modify: %v, %v", got, err)
	}
	replace := goldap.NewModifyRequest(devsDN, nil)
	replace.Replace("member", []string{aliceDN, bobDN})
	if err := admin.Modify(replace); err != nil {
		t.Fatalf("replace members: %v", err)
	}
	if got, _ := f.members(t, admin, devsDN); !slices.Equal(got, []string{aliceDN, bobDN}) {
		t.Errorf("members after replace: %v", got)
	}

	t.Run("refusals change nothing", func(t *testing.T) {
		before, _ := f.members(t, admin, devsDN)
		foreign := goldap.NewAddRequest("cn=mixed,"+groupsOU, nil)
		foreign.Attribute("objectClass", []string{"groupOfNames"})
		foreign.Attribute("member", []string{"uid=carol,ou=users,o=globex,dc=ward"})
		wantCode(t, "a member of another tenant", admin.Add(foreign),
			goldap.LDAPResultConstraintViolation)
		missing := goldap.NewAddRequest("cn=mixed,"+groupsOU, nil)
		missing.Attribute("objectClass", []string{"groupOfNames"})
		missing.Attribute("member", []string{"uid=nobody,ou=users,o=acme,dc=ward"})
		wantCode(t, "a member that names nobody", admin.Add(missing),
			goldap.LDAPResultNoSuchObject)
		_, err := search(t, admin, "cn=mixed,"+groupsOU, goldap.ScopeBaseObject, "(cn=*)")
		wantCode(t, "the refused group", err, goldap.LDAPResultNoSuchObject)

		dup := goldap.NewAddRequest(staffDN, nil)
		dup.Attribute("objectClass", []string{"groupOfNames"})
		wantCode(t, "a taken name", admin.Add(dup), goldap.LDAPResultConstraintViolation)
		person := goldap.NewAddRequest("cn=x,"+groupsOU, nil)
		person.Attribute("objectClass", []string{"inetOrgPerson"})
		wantCode(t, "a group that is a person", admin.Add(person),
			goldap.LDAPResultObjectClassViolation)

		again := goldap.NewModifyRequest(devsDN, nil)
		again.Add("member", []string{aliceDN})
		wantCode(t, "adding a member twice", admin.Modify(again),
			goldap.LDAPResultAttributeOrValueExists)
		absent := goldap.NewModifyRequest(staffDN, nil)
		absent.Delete("member", []string{"uid=user,ou=users,o=acme,dc=ward"})
		wantCode(t, "deleting a non-member", admin.Modify(absent),
			goldap.LDAPResultNoSuchAttribute)
		rename := goldap.NewModifyRequest(devsDN, nil)
		rename.Replace("cn", []string{"ops"})
		wantCode(t, "changing cn", admin.Modify(rename), goldap.LDAPResultNotAllowedOnRDN)

		alice := f.asAlice(t)
		mine := goldap.NewAddRequest("cn=mine,"+groupsOU, nil)
		mine.Attribute("objectClass", []string{"groupOfNames"})
		wantCode(t, "a plain user adds a group", alice.Add(mine),
			goldap.LDAPResultInsufficientAccessRights)
		wantCode(t, "a plain user deletes a group", alice.Del(goldap.NewDelRequest(devsDN, nil)),
			goldap.LDAPResultInsufficientAccessRights)
		globex := f.bindAs(t, "cn=g,ou=tokens,dc=ward", f.globexToken)
		wantCode(t, "another tenant deletes a group", globex.Del(goldap.NewDelRequest(devsDN,
			nil)), goldap.LDAPResultNoSuchObject)
		east := f.bindAs(t, "cn=east,ou=tokens,dc=ward", f.eastToken)
		outOfReach := goldap.NewModifyRequest(devsDN, nil)
		outOfReach.Delete("member", []string{aliceDN})
		wantCode(t, "an org admin removes a user it does not administer",
			east.Modify(outOfReach), goldap.LDAPResultNoSuchAttribute)

		if after, _ := f.members(t, admin, devsDN); !slices.Equal(before, after) {
			t.Errorf("members changed from %v to %v", before, after)
		}
	})

	t.Run("an org admin removes a user it administers", func(t *testing.T) {
		east := f.bindAs(t, "cn=east,ou=tokens,dc=ward", f.eastToken)
		mod := goldap.NewModifyRequest(devsDN, nil)
		mod.Delete("member", []string{bobDN})
		if err := east.Modify(mod); err != nil {
			t.Fatal(err)
		}
		if got, _ := f.members(t, admin, devsDN); !slices.Equal(got, []string{aliceDN}) {
			t.Errorf("members = %v", got)
		}
	})

	if err := admin.Del(goldap.NewDelRequest(devsDN, nil)); err != nil {
		t.Fatalf("delete: %v", err)
	}
	_, err = search(t, admin, devsDN, goldap.ScopeBaseObject, "(objectClass=*)")
	wantCode(t, "the deleted group", err, goldap.LDAPResultNoSuchObject)
}

// BenchmarkSearchMemberOf finds the 25 members of one group by memberOf in
// a tenant of 500 users and 20 groups of 25. Listing, a tenant
// administrator's search reads every group and its members once, besides
// the users; with a plan, the one group and its members.
func BenchmarkSearchMemberOf(b *testing.B) {
	for _, p := range paths {
		b.Run(p.name, func(b *testing.B) { benchSearchMemberOf(b, p.listAlways) })
	}
}

func benchSearchMemberOf(b *testing.B, listAlways bool) {
	f := newFixture(b, fixtureOptions{extraUsers: 498, listAlways: listAlways})
	var all []store.User
	after := ""
	for {
		out := call[users.ListOutput](b, f.inv, users.FunctionName, users.OpList, systemAdmin,
			users.ListInput{TenantID: f.acme.ID, After: after, First: 500})
		all = append(all, out.Items...)
		if after = out.Next; after == "" {
			break
		}
	}
	for i := range 20 {
		g := call[store.Group](b, f.inv, groups.FunctionName, groups.OpCreate, systemAdmin,
			groups.CreateInput{TenantID: f.acme.ID, Name: fmt.Sprintf("g%02d", i)})
		for _, u := range all[i*25 : i*25+25] {
			call[groups.MemberOutput](b, f.inv, groups.FunctionName, groups.OpAddMember,
				systemAdmin, groups.MemberInput{TenantID: f.acme.ID, GroupID: g.ID, UserID: u.ID})
		}
	}
	req := goldap.NewSearchRequest("ou=users,o=acme,dc=ward", goldap.ScopeSingleLevel, 0, 0, 0,
		false, "(memberOf=cn=g07,ou=groups,o=acme,dc=ward)", []string{"uid"}, nil)
	parallel16(b, f, func(c *goldap.Conn) {
		if err := c.Bind("cn=bench,ou=tokens,dc=ward", f.adminToken); err != nil {
			b.Fatal(err)
		}
	}, func(c *goldap.Conn) error {
		res, err := c.Search(req)
		if err == nil && len(res.Entries) != 25 {
			b.Fatalf("found %d entries", len(res.Entries))
		}
		return err
	})
}
