//go:build integration

package ldap

import (
	"strings"
	"testing"
)

// TestOpenLDAPClientsWithGroups manages a group with OpenLDAP's own
// clients: ldapadd, ldapmodify, ldapsearch by member and memberOf, and
// ldapdelete.
func TestOpenLDAPClientsWithGroups(t *testing.T) {
	f := newGroupFixture(t)
	lt := newLDAPTool(t, f.fixture)
	url := "ldap://" + f.addr
	auth := []string{"-H", url, "-D", "cn=ops,ou=tokens,dc=ward", "-w", f.adminToken}
	devsDN := "cn=devs,ou=groups,o=acme,dc=ward"

	lt.mustRun(t, `dn: `+devsDN+`
objectClass: top
objectClass: groupOfNames
cn: devs
description: Developers
member: `+aliceDN+`
`, "ldapadd", auth...)

	lt.mustRun(t, `dn: `+devsDN+`
changetype: modify
add: member
member: `+bobDN+`
-
replace: description
description: The developers
`, "ldapmodify", auth...)

	out := lt.mustRun(t, "", "ldapsearch", append(auth, "-LLL", "-b", "o=acme,dc=ward",
		"(member="+bobDN+")", "cn", "description", "member")...)
	for _, want := range []string{"dn: " + devsDN, "dn: " + staffDN,
		"description: The developers", "member: " + aliceDN, "member: " + bobDN} {
		if !strings.Contains(out, want) {
			t.Errorf("search by member lacks %q:\n%s", want, out)
		}
	}

	out = lt.mustRun(t, "", "ldapsearch", append(auth, "-LLL", "-b", "ou=users,o=acme,dc=ward",
		"(memberOf="+devsDN+")", "memberOf")...)
	for _, want := range []string{"dn: " + aliceDN, "dn: " + bobDN, "memberOf: " + devsDN,
		"memberOf: " + staffDN} {
		if !strings.Contains(out, want) {
			t.Errorf("search by memberOf lacks %q:\n%s", want, out)
		}
	}

	// Deleting a value that is not there exits with noSuchAttribute.
	out, code := lt.run(t, `dn: `+devsDN+`
changetype: modify
delete: member
member: uid=carol,ou=users,o=acme,dc=ward
`, "ldapmodify", auth...)
	if code != 16 {
		t.Errorf("exit %d, want 16 (noSuchAttribute):\n%s", code, out)
	}
	// A plain user may not write groups.
	out, code = lt.run(t, "", "ldapdelete", "-H", url, "-D", aliceDN, "-w", testPassword, devsDN)
	if code != 50 {
		t.Errorf("exit %d, want 50 (insufficientAccessRights):\n%s", code, out)
	}

	lt.mustRun(t, "", "ldapdelete", append(auth, devsDN)...)
	out, code = lt.run(t, "", "ldapsearch", append(auth, "-LLL", "-b", devsDN, "-s", "base",
		"(objectClass=*)")...)
	if code != 32 {
		t.Errorf("the deleted group: exit %d, want 32 (noSuchObject):\n%s", code, out)
	}
}
