package ldap

import (
	"strings"

	goldap "github.com/go-ldap/ldap/v3"
)

// Ward's directory tree:
//
//	dc=ward                                  the root naming context
//	o=<tenant name>,dc=ward                  one entry per tenant
//	ou=users,o=<tenant name>,dc=ward         the tenant's users container
//	uid=<username>,ou=users,o=<tenant>,...   one inetOrgPerson per user
//	ou=groups,o=<tenant name>,dc=ward        the tenant's groups container
//	cn=<group name>,ou=groups,o=<tenant>,... one groupOfNames per group
//	cn=<anything>,ou=tokens,dc=ward          bind-only names for API tokens

// RootDN is the naming context Ward serves.
const RootDN = "dc=ward"

type placeKind int

const (
	placeOutside placeKind = iota // not in Ward's tree
	placeRootDSE                  // the empty DN (RFC 4512 section 5.1)
	placeRoot                     // dc=ward
	placeTenant                   // o=<tenant>,dc=ward
	placeUsers                    // ou=users,o=<tenant>,dc=ward
	placeUser                     // uid=<user>,ou=users,o=<tenant>,dc=ward
	placeGroups                   // ou=groups,o=<tenant>,dc=ward
	placeGroup                    // cn=<group>,ou=groups,o=<tenant>,dc=ward
	placeTokens                   // ou=tokens,dc=ward
	placeToken                    // cn=<anything>,ou=tokens,dc=ward
)

// place is a parsed DN located in Ward's tree. Tenant, User and Group
// are the decoded values (RFC 4514 escapes removed), folded to lower
// case, as Ward stores tenant, user and group names folded.
type place struct {
	kind   placeKind
	tenant string
	user   string
	group  string
}

// parseDN parses a DN per RFC 4514 with the go-ldap parser and locates
// it in the tree. Attribute types match case-insensitively (RFC 4512
// section 2.5); multi-valued RDNs are never Ward's and are outside. A DN
// that does not parse is an error (invalidDNSyntax).
func parseDN(s string) (place, error) {
	if strings.TrimSpace(s) == "" {
		return place{kind: placeRootDSE}, nil
	}
	dn, err := goldap.ParseDN(s)
	if err != nil {
		return place{}, err
	}
	rdns := make([][2]string, len(dn.RDNs))
	for i, r := range dn.RDNs {
		if len(r.Attributes) != 1 {
			return place{kind: placeOutside}, nil
		}
		a := r.Attributes[0]
		rdns[i] = [2]string{strings.ToLower(strings.TrimSpace(a.Type)), a.Value}
	}
	// Walk from the right, the top of the tree.
	at := func(i int, typ string) (string, bool) {
		j := len(rdns) - 1 - i
		if j < 0 || rdns[j][0] != typ {
			return "", false
		}
		return rdns[j][1], true
	}
	if v, ok := at(0, "dc"); !ok || !strings.EqualFold(v, "ward") {
		return place{kind: placeOutside}, nil
	}
	n := len(rdns)
	if n == 1 {
		return place{kind: placeRoot}, nil
	}
	if v, ok := at(1, "ou"); ok && strings.EqualFold(v, "tokens") {
		switch {
		case n == 2:
			return place{kind: placeTokens}, nil
		case n == 3:
			if _, ok := at(2, "cn"); ok {
				return place{kind: placeToken}, nil
			}
		}
		return place{kind: placeOutside}, nil
	}
	tenant, ok := at(1, "o")
	if !ok {
		return place{kind: placeOutside}, nil
	}
	p := place{kind: placeTenant, tenant: strings.ToLower(tenant)}
	if n == 2 {
		return p, nil
	}
	v, ok := at(2, "ou")
	if ok && strings.EqualFold(v, "groups") {
		p.kind = placeGroups
		if n == 3 {
			return p, nil
		}
		group, ok := at(3, "cn")
		if !ok || n > 4 {
			return place{kind: placeOutside}, nil
		}
		p.kind, p.group = placeGroup, strings.ToLower(group)
		return p, nil
	}
	if !ok || !strings.EqualFold(v, "users") {
		return place{kind: placeOutside}, nil
	}
	p.kind = placeUsers
	if n == 3 {
		return p, nil
	}
	user, ok := at(3, "uid")
	if !ok || n > 4 {
		return place{kind: placeOutside}, nil
	}
	p.kind, p.user = placeUser, strings.ToLower(user)
	return p, nil
}

// escapeValue escapes an attribute value for a DN string per RFC 4514
// section 2.4: the characters " + , ; < > \ always, a leading # or
// space, a trailing space, and NUL as \00.
func escapeValue(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == 0:
			b.WriteString(`\00`)
			continue
		case strings.IndexByte(`"+,;<>\`, c) >= 0,
			i == 0 && (c == '#' || c == ' '),
			i == len(v)-1 && c == ' ':
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	return b.String()
}

func tenantDN(tenant string) string { return "o=" + escapeValue(tenant) + "," + RootDN }

func usersDN(tenant string) string { return "ou=users," + tenantDN(tenant) }

func userDN(tenant, user string) string {
	return "uid=" + escapeValue(user) + "," + usersDN(tenant)
}

func groupsDN(tenant string) string { return "ou=groups," + tenantDN(tenant) }

func groupDN(tenant, group string) string {
	return "cn=" + escapeValue(group) + "," + groupsDN(tenant)
}

// normalDN is a DN's form for distinguishedNameMatch (RFC 4517 section
// 4.2.15) over Ward's tree: attribute types and values folded to lower
// case (every name in the tree is stored folded), spaces around them
// dropped, escapes resolved and made again the one way escapeValue
// writes them. A DN that does not parse is returned folded as it is.
func normalDN(s string) string {
	dn, err := goldap.ParseDN(s)
	if err != nil {
		return fold(s)
	}
	var b strings.Builder
	for i, r := range dn.RDNs {
		if i > 0 {
			b.WriteByte(',')
		}
		for j, a := range r.Attributes {
			if j > 0 {
				b.WriteByte('+')
			}
			b.WriteString(strings.ToLower(strings.TrimSpace(a.Type)))
			b.WriteByte('=')
			b.WriteString(escapeValue(strings.ToLower(a.Value)))
		}
	}
	return b.String()
}

// depth is the number of RDNs below the root DSE.
func (p place) depth() int {
	switch p.kind {
	case placeRoot:
		return 1
	case placeTenant:
		return 2
	case placeUsers, placeGroups:
		return 3
	case placeUser, placeGroup:
		return 4
	}
	return 0
}

// contains reports whether q is p or below it.
func (p place) contains(q place) bool {
	if p.depth() > q.depth() || p.depth() == 0 {
		return false
	}
	switch p.kind {
	case placeRoot:
		return true
	case placeTenant:
		return p.tenant == q.tenant
	case placeUsers:
		return p.tenant == q.tenant && (q.kind == placeUsers || q.kind == placeUser)
	case placeUser:
		return q.kind == placeUser && p.tenant == q.tenant && p.user == q.user
	case placeGroups:
		return p.tenant == q.tenant && (q.kind == placeGroups || q.kind == placeGroup)
	case placeGroup:
		return q.kind == placeGroup && p.tenant == q.tenant && p.group == q.group
	}
	return false
}
