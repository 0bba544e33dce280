package ldap

import (
	"slices"
	"testing"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/wardhq/ward/shared/apitokens"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/orgs"
	"github.com/wardhq/ward/shared/store"
)

// orgAdminFixture is the group fixture with organization east-1 below
// east, holding dave: east's administrator reaches bob and dave.
type orgAdminFixture struct {
	*groupFixture
	east, east1 store.Organization
	dave        store.User
}

func newOrgAdminFixture(t *testing.T) *orgAdminFixture {
	t.Helper()
	f := &orgAdminFixture{groupFixture: newGroupFixture(t)}
	for _, o := range call[orgs.ListOutput](t, f.inv, orgs.FunctionName, orgs.OpList, systemAdmin,
		orgs.ListInput{TenantID: f.acme.ID}).Items {
		if o.Name == "east" {
			f.east = o
		}
	}
	f.east1 = call[store.Organization](t, f.inv, orgs.FunctionName, orgs.OpCreate, systemAdmin,
		orgs.CreateInput{TenantID: f.acme.ID, ParentID: f.east.ID, Name: "east-1"})
	f.dave = f.createUser(t, f.acme.ID, "dave", "dave@acme.test", "+15550000004", "Dave", "")
	f.moveTo(t, f.dave, f.east1.ID)
	return f
}

func (f *orgAdminFixture) moveTo(t *testing.T, u store.User, orgID string) {
	t.Helper()
	c := f.asAdmin(t)
	mod := goldap.NewModifyRequest(userDN("acme", u.Username), nil)
	mod.Replace("wardOrgId", []string{orgID})
	if err := c.Modify(mod); err != nil {
		t.Fatalf("move %s: %v", u.Username, err)
	}
}

const daveDN = "uid=dave,ou=users,o=acme,dc=ward"

func TestOrgAdminSeesTheUsersItReaches(t *testing.T) {
	f := newOrgAdminFixture(t)
	east := f.bindAs(t, "cn=east,ou=tokens,dc=ward", f.eastToken)

	got, err := search(t, east, "o=acme,dc=ward", goldap.ScopeWholeSubtree, "(objectClass=person)",
		"*", "memberOf")
	if err != nil || !slices.Equal(dns(got), []string{bobDN, daveDN}) {
		t.Fatalf("users seen by east's administrator: %v, %v", dns(got), err)
	}
	for _, e := range got {
		// In full: the attributes a plain viewer does not see.
		if e.GetAttributeValue("telephoneNumber") == "" || e.GetAttributeValue("wardStatus") == "" {
			t.Errorf("%s is not seen in full: %v", e.DN, e.Attributes)
		}
	}
	if e := got[0]; e.GetAttributeValue("wardOrgId") != f.east.ID ||
		!slices.Equal(e.GetAttributeValues("memberOf"), []string{staffDN}) {
		t.Errorf("bob as east's administrator sees him: %v", e.Attributes)
	}

	notSeen := []struct{ name, base, filter string }{
		{"a user at tenant level, by uid", "o=acme,dc=ward", "(uid=alice)"},
		{"a user at tenant level, by mail", "o=acme,dc=ward", "(mail=alice@acme.test)"},
		{"a user at tenant level, by group", "o=acme,dc=ward", "(&(memberOf=" + staffDN +
			")(uid=alice))"},
		{"a user of another tenant", "dc=ward", "(uid=carol)"},
	}
	for _, tc := range notSeen {
		got, err := search(t, east, tc.base, goldap.ScopeWholeSubtree, tc.filter)
		if err != nil || len(got) != 0 {
			t.Errorf("%s: %v, %v", tc.name, dns(got), err)
		}
	}
	_, err = search(t, east, aliceDN, goldap.ScopeBaseObject, "(objectClass=*)")
	wantCode(t, "alice as the base", err, goldap.LDAPResultNoSuchObject)
	_, err = search(t, east, "o=globex,dc=ward", goldap.ScopeWholeSubtree, "(objectClass=*)")
	wantCode(t, "another tenant as the base", err, goldap.LDAPResultNoSuchObject)

	got, err = search(t, east, "o=acme,dc=ward", goldap.ScopeWholeSubtree,
		"(memberOf="+staffDN+")")
	if err != nil || !slices.Equal(dns(got), []string{bobDN}) {
		t.Errorf("staff's members seen by east's administrator: %v, %v", dns(got), err)
	}
	got, err = search(t, east, groupsOU, goldap.ScopeSingleLevel, "(objectClass=groupOfNames)")
	if err != nil || !slices.Equal(dns(got), []string{"cn=idle," + groupsOU, staffDN}) {
		t.Errorf("groups seen by east's administrator: %v, %v", dns(got), err)
	}

	t.Run("an administrator of the organization below sees only its users", func(t *testing.T) {
		tok := call[apitokens.CreateOutput](t, f.inv, apitokens.FunctionName,
			apitokens.OpCreate, systemAdmin, apitokens.CreateInput{TenantID: f.acme.ID,
				Name: "east-1", Roles: []string{function.RoleOrgAdmin},
				Orgs: []string{f.east1.ID}}).Token
		c := f.bindAs(t, "cn=east-1,ou=tokens,dc=ward", tok)
		got, err := search(t, c, "ou=users,o=acme,dc=ward", goldap.ScopeSingleLevel, "(uid=*)")
		if err != nil || !slices.Equal(dns(got), []string{daveDN}) {
			t.Errorf("users seen by east-1's administrator: %v, %v", dns(got), err)
		}
		_, err = search(t, c, bobDN, goldap.ScopeBaseObject, "(objectClass=*)")
		wantCode(t, "bob, in the organization above", err, goldap.LDAPResultNoSuchObject)
	})
}

func TestOrgAdminWritesWhereTheFunctionsLetIt(t *testing.T) {
	f := newOrgAdminFixture(t)
	east := f.bindAs(t, "cn=east,ou=tokens,dc=ward", f.eastToken)
	admin := f.asAdmin(t)
	erinDN := "uid=erin,ou=users,o=acme,dc=ward"

	add := func(orgID string) *goldap.AddRequest {
		r := goldap.NewAddRequest(erinDN, nil)
		r.Attribute("objectClass", []string{"inetOrgPerson"})
		r.Attribute("cn", []string{"Erin Example"})
		if orgID != "" {
			r.Attribute("wardOrgId", []string{orgID})
		}
		return r
	}
	wantCode(t, "a user at tenant level", east.Add(add("")),
		goldap.LDAPResultInsufficientAccessRights)
	wantCode(t, "a user in an organization out of reach", east.Add(add(validOtherID(t, f))),
		goldap.LDAPResultNoSuchObject)
	if _, err := search(t, admin, erinDN, goldap.ScopeBaseObject, "(objectClass=*)"); resultCodeOf(
		err) != goldap.LDAPResultNoSuchObject {
		t.Fatalf("a refused add left erin: %v", err)
	}
	if err := east.Add(add(f.east1.ID)); err != nil {
		t.Fatalf("add in east-1: %v", err)
	}

	rename := func(dn, cn string) *goldap.ModifyRequest {
		m := goldap.NewModifyRequest(dn, nil)
		m.Replace("cn", []string{cn})
		return m
	}
	if err := east.Modify(rename(bobDN, "Robert")); err != nil {
		t.Errorf("modify bob: %v", err)
	}
	wantCode(t, "modify alice", east.Modify(rename(aliceDN, "Mallory")),
		goldap.LDAPResultNoSuchObject)
	wantCode(t, "delete alice", east.Del(goldap.NewDelRequest(aliceDN, nil)),
		goldap.LDAPResultNoSuchObject)
	toTenant := goldap.NewModifyRequest(bobDN, nil)
	toTenant.Delete("wardOrgId", nil)
	wantCode(t, "move bob to tenant level", east.Modify(toTenant), goldap.LDAPResultNoSuchObject)
	addAlice := goldap.NewModifyRequest("cn=idle,"+groupsOU, nil)
	addAlice.Add("member", []string{aliceDN})
	wantCode(t, "add alice to a group", east.Modify(addAlice), goldap.LDAPResultNoSuchObject)
	addDave := goldap.NewModifyRequest("cn=idle,"+groupsOU, nil)
	addDave.Add("member", []string{daveDN})
	if err := east.Modify(addDave); err != nil {
		t.Errorf("add dave to idle: %v", err)
	}
	newGroup := goldap.NewAddRequest("cn=east-team,"+groupsOU, nil)
	newGroup.Attribute("objectClass", []string{"groupOfNames"})
	wantCode(t, "create a group", east.Add(newGroup), goldap.LDAPResultInsufficientAccessRights)

	// What the tenant's administrator sees afterwards.
	got, err := search(t, admin, "o=acme,dc=ward", goldap.ScopeWholeSubtree, "(objectClass=person)",
		"cn", "wardOrgId", "memberOf")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		aliceDN: {"Alice Liddell", "", staffDN},
		bobDN:   {"Robert", f.east.ID, staffDN},
		daveDN:  {"Dave", f.east1.ID, "cn=idle," + groupsOU},
		erinDN:  {"Erin Example", f.east1.ID, ""},
	}
	if len(got) != len(want) {
		t.Errorf("users: %v", dns(got))
	}
	for _, e := range got {
		w := want[e.DN]
		g := []string{e.GetAttributeValue("cn"), e.GetAttributeValue("wardOrgId"),
			e.GetAttributeValue("memberOf")}
		if !slices.Equal(g, w) {
			t.Errorf("%s = %v, want %v", e.DN, g, w)
		}
	}
	if err := east.Del(goldap.NewDelRequest(erinDN, nil)); err != nil {
		t.Errorf("delete erin: %v", err)
	}
}

// validOtherID is an organization of globex: well formed, out of east's
// reach.
func validOtherID(t *testing.T, f *orgAdminFixture) string {
	return call[store.Organization](t, f.inv, orgs.FunctionName, orgs.OpCreate, systemAdmin,
		orgs.CreateInput{TenantID: f.globex.ID, Name: "west"}).ID
}
