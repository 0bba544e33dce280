package ldap

import (
	"testing"
	"unicode/utf8"

	goldap "github.com/go-ldap/ldap/v3"
	"github.com/jimlambrt/gldap"

	"github.com/wardhq/ward/shared/errs"
)

func TestParseDN(t *testing.T) {
	cases := []struct {
		dn   string
		want place
	}{
		{"", place{kind: placeRootDSE}},
		{"dc=ward", place{kind: placeRoot}},
		{"DC=Ward", place{kind: placeRoot}},
		{"o=acme,dc=ward", place{kind: placeTenant, tenant: "acme"}},
		{"ou=users,o=acme,dc=ward", place{kind: placeUsers, tenant: "acme"}},
		{"uid=Alice,ou=users,o=acme,dc=ward", place{kind: placeUser, tenant: "acme", user: "alice"}},
		{`uid=a\+b,ou=users,o=acme,dc=ward`, place{kind: placeUser, tenant: "acme", user: "a+b"}},
		{`uid=a\2cou\3dusers,ou=users,o=acme,dc=ward`,
			place{kind: placeUser, tenant: "acme", user: "a,ou=users"}},
		{"cn=x,ou=tokens,dc=ward", place{kind: placeToken}},
		{"ou=tokens,dc=ward", place{kind: placeTokens}},
		{"uid=a+cn=b,ou=users,o=acme,dc=ward", place{kind: placeOutside}},
		{"uid=a,ou=users,o=acme,dc=ward,dc=com", place{kind: placeOutside}},
		{"uid=a,ou=groups,o=acme,dc=ward", place{kind: placeOutside}},
		{"cn=a,uid=a,ou=users,o=acme,dc=ward", place{kind: placeOutside}},
		{"uid=a,o=acme,dc=ward", place{kind: placeOutside}},
		{"dc=example,dc=com", place{kind: placeOutside}},
	}
	for _, tc := range cases {
		got, err := parseDN(tc.dn)
		if err != nil || got != tc.want {
			t.Errorf("parseDN(%q) = %+v, %v; want %+v", tc.dn, got, err, tc.want)
		}
	}
	for _, bad := range []string{"uid", "uid=a,", `uid=a\`, "=a,dc=ward", `uid=\zz,dc=ward`} {
		if _, err := parseDN(bad); err == nil {
			t.Errorf("parseDN(%q) accepted a malformed DN", bad)
		}
	}
}

func TestEscapedValuesParseBackToThemselves(t *testing.T) {
	for _, v := range []string{"a+b", "a,b", `a\b`, `"q"`, "<x>", "a;b", "#lead", " lead",
		"trail ", "nul\x00byte", "é+ü", "a=b", "plain"} {
		dn := userDN("acme", v)
		got, err := parseDN(dn)
		if err != nil || got.kind != placeUser || got.user != v || got.tenant != "acme" {
			t.Errorf("%q → %q → %+v, %v", v, dn, got, err)
		}
	}
}

func FuzzEscapeValue(f *testing.F) {
	for _, s := range []string{"a+b", " #x ", `\`, "a\x00", "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		if !utf8.ValidString(v) {
			// Ward's names are text; the parser replaces invalid bytes.
			t.Skip()
		}
		dn, err := goldap.ParseDN("uid=" + escapeValue(v) + ",dc=ward")
		if err != nil {
			t.Fatalf("escaped %q does not parse: %v", v, err)
		}
		if len(dn.RDNs) != 2 || len(dn.RDNs[0].Attributes) != 1 {
			t.Fatalf("escaped %q gives %d RDNs", v, len(dn.RDNs))
		}
		// The parser trims unescaped spaces only; the escaper escapes
		// the ones that matter, so the value comes back whole.
		if got := dn.RDNs[0].Attributes[0].Value; got != v {
			t.Fatalf("escaped %q parses back as %q", v, got)
		}
	})
}

func TestResultCodes(t *testing.T) {
	cases := []struct {
		err  error
		want int
	}{
		{nil, gldap.ResultSuccess},
		{errs.New(errs.NotFound, "x"), gldap.ResultNoSuchObject},
		{errs.New(errs.Unauthenticated, "x"), gldap.ResultInvalidCredentials},
		{errs.New(errs.PermissionDenied, "x"), gldap.ResultInsufficientAccessRights},
		{errs.New(errs.Conflict, "x"), gldap.ResultConstraintViolation},
		{errs.Invalid("email", "x"), gldap.ResultConstraintViolation},
		{errs.New(errs.TooLarge, "x"), gldap.ResultAdminLimitExceeded},
		{errs.New(errs.Unavailable, "x"), gldap.ResultUnavailable},
		{errs.New(errs.Internal, "x"), gldap.ResultOther},
		{errAny("uncoded"), gldap.ResultOther},
	}
	for _, tc := range cases {
		if got := resultCode(tc.err); got != tc.want {
			t.Errorf("resultCode(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
	wrapped := errs.Wrap(errs.Internal, errAny("disk on fire"), "internal error")
	if _, msg := outcome(wrapped); msg != "internal error" {
		t.Errorf("a fault's cause reaches the client: %q", msg)
	}
}

type errAny string

func (e errAny) Error() string { return string(e) }

func TestFilterEvaluation(t *testing.T) {
	e := &entry{}
	e.add("objectClass", false, "top", "inetOrgPerson")
	e.add("cn", false, "Alice  Liddell")
	e.add("mail", false, "alice@acme.test")
	cases := []struct {
		filter string
		want   bool
	}{
		{"(cn=alice liddell)", true},
		{"(commonName=ALICE LIDDELL)", true},
		{"(cn=ali*)", true},
		{"(cn=*dell)", true},
		{"(cn=a*l*l)", true},
		{"(cn=a*x*l)", false},
		{"(cn=*lid*)", true},
		{"(mail>=alice)", true},
		{"(mail<=alice)", false},
		{"(cn~=alice liddell)", true},
		{"(telephoneNumber=*)", false},
		{"(!(telephoneNumber=1))", false}, // Undefined stays Undefined
		{"(|(telephoneNumber=1)(cn=alice liddell))", true},
		{"(&(objectClass=inetOrgPerson)(!(mail=bob*)))", true},
		{"(cn:caseExactMatch:=Alice)", false},
		{`(cn=\2a)`, false},
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
