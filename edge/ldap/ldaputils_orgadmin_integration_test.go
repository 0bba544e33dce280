//go:build integration

package ldap

import (
	"strings"
	"testing"
)

// TestOpenLDAPClientsAsOrgAdmin searches and writes with OpenLDAP's own
// clients as an organization administrator: pinned searches (by uid, by
// mail, by memberOf) see the users it reaches only, and it changes those
// users only.
func TestOpenLDAPClientsAsOrgAdmin(t *testing.T) {
	f := newOrgAdminFixture(t)
	lt := newLDAPTool(t, f.fixture)
	auth := []string{"-H", "ldap://" + f.addr, "-D", "cn=east,ou=tokens,dc=ward", "-w",
		f.eastToken}
	search := func(filter string, attrs ...string) string {
		return lt.mustRun(t, "", "ldapsearch", append(append(auth, "-LLL", "-b",
			"o=acme,dc=ward", filter), attrs...)...)
	}

	out := search("(|(uid=bob)(uid=alice)(mail=dave@acme.test))", "uid", "telephoneNumber")
	for _, want := range []string{"dn: " + bobDN, "telephoneNumber: +15550000002",
		"dn: " + daveDN} {
		if !strings.Contains(out, want) {
			t.Errorf("search lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "alice") {
		t.Errorf("alice, out of reach, was found:\n%s", out)
	}
	out = search("(memberOf="+staffDN+")", "memberOf")
	if !strings.Contains(out, "dn: "+bobDN) || !strings.Contains(out, "memberOf: "+staffDN) ||
		strings.Contains(out, "alice") {
		t.Errorf("search by memberOf:\n%s", out)
	}

	lt.mustRun(t, "dn: "+bobDN+"\nchangetype: modify\nreplace: displayName\n"+
		"displayName: Robert\n", "ldapmodify", auth...)
	if out := search("(displayName=Robert)", "uid"); !strings.Contains(out, "dn: "+bobDN) {
		t.Errorf("bob after the modify:\n%s", out)
	}
	// Alice is out of reach: noSuchObject, as if she did not exist.
	out, code := lt.run(t, "dn: "+aliceDN+"\nchangetype: modify\nreplace: displayName\n"+
		"displayName: Mallory\n", "ldapmodify", auth...)
	if code != 32 {
		t.Errorf("modify alice: exit %d, want 32 (noSuchObject):\n%s", code, out)
	}
}
