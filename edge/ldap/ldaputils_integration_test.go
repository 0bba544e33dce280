//go:build integration

package ldap

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// These tests drive the listener with OpenLDAP's own command-line
// clients (Debian's ldap-utils), so that Ward is checked against an
// implementation of the protocol other than the one it is built on.

const ldapUtilsInstall = "apt-get update && apt-get install -y ldap-utils"

type ldapTool struct {
	env []string
}

func newLDAPTool(t *testing.T, f *fixture) *ldapTool {
	for _, tool := range []string{"ldapsearch", "ldapadd", "ldapmodify", "ldapdelete"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed; install it with: %s", tool, ldapUtilsInstall)
		}
	}
	env := append(os.Environ(),
		// Ignore the machine's ldap.conf and any ldaprc; LDAPNOINIT would
		// also ignore the LDAPTLS_ variables below.
		"LDAPCONF=/dev/null", "LDAPRC=ward-test-no-such-ldaprc",
		"LDAPTLS_CACERT="+f.certFile,
		"LDAPTLS_REQCERT=demand",
	)
	return &ldapTool{env: env}
}

// run runs a tool and returns its output and exit status, which the
// OpenLDAP clients set to the LDAP result code of a failed operation.
func (lt *ldapTool) run(t *testing.T, stdin string, name string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(name, append([]string{"-x", "-o", "nettimeout=10"}, args...)...)
	cmd.Env = lt.env
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return string(out), 0
	case errors.As(err, &ee):
		return string(out), ee.ExitCode()
	}
	t.Fatalf("%s: %v", name, err)
	return "", -1
}

func (lt *ldapTool) mustRun(t *testing.T, stdin, name string, args ...string) string {
	t.Helper()
	out, code := lt.run(t, stdin, name, args...)
	if code != 0 {
		t.Fatalf("%s %v: exit %d\n%s", name, args, code, out)
	}
	return out
}

func TestOpenLDAPClients(t *testing.T) {
	f := newFixture(t, fixtureOptions{extraUsers: 7})
	lt := newLDAPTool(t, f)
	url := "ldap://" + f.addr
	adminDN, adminPW := "cn=ops,ou=tokens,dc=ward", f.adminToken
	aliceDN := "uid=alice,ou=users,o=acme,dc=ward"

	t.Run("a user binds and searches with a filter", func(t *testing.T) {
		out := lt.mustRun(t, "", "ldapsearch", "-H", url, "-D", aliceDN, "-w", testPassword,
			"-LLL", "-b", "o=acme,dc=ward", "(&(objectClass=inetOrgPerson)(cn=bob*))", "uid", "mail")
		for _, want := range []string{"dn: uid=bob,ou=users,o=acme,dc=ward", "uid: bob",
			"mail: bob@acme.test"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
		if strings.Contains(out, "alice") {
			t.Errorf("the filter let alice through:\n%s", out)
		}
	})

	t.Run("a wrong password exits with invalidCredentials", func(t *testing.T) {
		out, code := lt.run(t, "", "ldapsearch", "-H", url, "-D", aliceDN, "-w", "wrong-password",
			"-b", "o=acme,dc=ward", "(uid=*)")
		if code != 49 {
			t.Errorf("exit %d, want 49:\n%s", code, out)
		}
	})

	t.Run("anonymous is refused", func(t *testing.T) {
		out, code := lt.run(t, "", "ldapsearch", "-H", url, "-b", "o=acme,dc=ward", "(uid=*)")
		if code != 48 {
			t.Errorf("exit %d, want 48 (inappropriateAuthentication):\n%s", code, out)
		}
	})

	t.Run("paged results", func(t *testing.T) {
		out := lt.mustRun(t, "", "ldapsearch", "-H", url, "-D", adminDN, "-w", adminPW, "-LLL",
			"-E", "pr=3/noprompt", "-b", "ou=users,o=acme,dc=ward", "-s", "one", "(uid=*)", "uid")
		if n := strings.Count(out, "\ndn: ") + boolInt(strings.HasPrefix(out, "dn: ")); n != 9 {
			t.Errorf("paged search found %d entries, want 9:\n%s", n, out)
		}
	})

	t.Run("StartTLS and LDAPS", func(t *testing.T) {
		out := lt.mustRun(t, "", "ldapsearch", "-ZZ", "-H", url, "-D", aliceDN, "-w", testPassword,
			"-LLL", "-b", aliceDN, "-s", "base", "(objectClass=*)", "uid")
		if !strings.Contains(out, "uid: alice") {
			t.Errorf("StartTLS search:\n%s", out)
		}
		out = lt.mustRun(t, "", "ldapsearch", "-H", "ldaps://"+f.tlsAddr, "-D", adminDN, "-w", adminPW,
			"-LLL", "-b", aliceDN, "-s", "base", "(objectClass=*)", "telephoneNumber")
		if !strings.Contains(out, "telephoneNumber: +15550000001") {
			t.Errorf("LDAPS search:\n%s", out)
		}
	})

	t.Run("an admin adds, modifies and deletes a user", func(t *testing.T) {
		ldif := strings.Join([]string{
			`dn: uid=erin\+ops,ou=users,o=acme,dc=ward`,
			"objectClass: inetOrgPerson",
			"cn: Erin Ops",
			"sn: Ops",
			"mail: erin@acme.test",
			"userPassword: Tz6&kWp3$Nq8!rLs",
			"",
		}, "\n")
		lt.mustRun(t, ldif, "ldapadd", "-H", url, "-D", adminDN, "-w", adminPW)
		erinDN := `uid=erin\+ops,ou=users,o=acme,dc=ward`
		lt.mustRun(t, "", "ldapsearch", "-H", url, "-D", erinDN, "-w", "Tz6&kWp3$Nq8!rLs",
			"-b", erinDN, "-s", "base", "(objectClass=*)")

		mod := strings.Join([]string{
			"dn: " + erinDN, "changetype: modify",
			"replace: mail", "mail: erin.ops@acme.test", "-",
			"replace: displayName", "displayName: Erin of Ops", "-", "",
		}, "\n")
		lt.mustRun(t, mod, "ldapmodify", "-H", url, "-D", adminDN, "-w", adminPW)
		out := lt.mustRun(t, "", "ldapsearch", "-H", url, "-D", adminDN, "-w", adminPW, "-LLL",
			"-b", "o=acme,dc=ward", "(mail=erin.ops@acme.test)", "displayName")
		if !strings.Contains(out, "displayName: Erin of Ops") {
			t.Errorf("after ldapmodify:\n%s", out)
		}

		// A plain user may not delete; the admin may.
		_, code := lt.run(t, "", "ldapdelete", "-H", url, "-D", aliceDN, "-w", testPassword, erinDN)
		if code != 50 {
			t.Errorf("a plain user's ldapdelete: exit %d, want 50", code)
		}
		lt.mustRun(t, "", "ldapdelete", "-H", url, "-D", adminDN, "-w", adminPW, erinDN)
		_, code = lt.run(t, "", "ldapsearch", "-H", url, "-D", adminDN, "-w", adminPW,
			"-b", erinDN, "-s", "base", "(objectClass=*)")
		if code != 32 {
			t.Errorf("search for the deleted user: exit %d, want 32 (noSuchObject)", code)
		}
	})

	t.Run("a taken username is a constraint violation", func(t *testing.T) {
		ldif := "dn: uid=bob,ou=users,o=acme,dc=ward\nobjectClass: inetOrgPerson\ncn: Bob\n\n"
		out, code := lt.run(t, ldif, "ldapadd", "-H", url, "-D", adminDN, "-w", adminPW)
		if code != 19 {
			t.Errorf("exit %d, want 19:\n%s", code, out)
		}
	})

	t.Run("escaped filter values match literally", func(t *testing.T) {
		out := lt.mustRun(t, "", "ldapsearch", "-H", url, "-D", adminDN, "-w", adminPW, "-LLL",
			"-b", "o=acme,dc=ward", `(uid=\2a)`, "uid")
		if strings.TrimSpace(out) != "" {
			t.Errorf(`(uid=\2a) found entries:\n%s`, out)
		}
	})
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
