package ldap

import (
	"slices"
	"strings"

	"github.com/wardhq/ward/shared/store"
)

// attr is one attribute of an entry. Names keep their schema spelling;
// lookups are case-insensitive.
type attr struct {
	name        string
	vals        []string
	operational bool // returned only when asked for by name or "+"
}

// entry is a directory entry as one viewer may see it.
type entry struct {
	dn    string
	at    place
	attrs []attr
}

// aliases are the schema's other names for the attributes Ward serves.
var aliases = map[string]string{
	"commonname": "cn", "userid": "uid", "rfc822mailbox": "mail", "surname": "sn",
}

// dnValued are the attributes whose values are DNs, matched with
// distinguishedNameMatch rather than as strings.
var dnValued = map[string]bool{"member": true, "memberof": true}

func canonical(name string) string {
	n := strings.ToLower(strings.TrimSpace(name))
	if a, ok := aliases[n]; ok {
		return a
	}
	return n
}

func (e *entry) get(name string) *attr {
	n := canonical(name)
	for i := range e.attrs {
		if strings.ToLower(e.attrs[i].name) == n {
			return &e.attrs[i]
		}
	}
	return nil
}

func (e *entry) add(name string, operational bool, vals ...string) {
	var kept []string
	for _, v := range vals {
		if v != "" {
			kept = append(kept, v)
		}
	}
	if len(kept) > 0 {
		e.attrs = append(e.attrs, attr{name: name, vals: kept, operational: operational})
	}
}

// selected returns the attributes a search asked for (RFC 4511 section
// 4.5.1.8): none or "*" for every user attribute, "+" for operational
// ones, "1.1" for none at all, and names otherwise.
func (e *entry) selected(requested []string) []attr {
	all := len(requested) == 0
	ops := false
	names := map[string]bool{}
	for _, r := range requested {
		switch r {
		case "*":
			all = true
		case "+":
			ops = true
		case "1.1":
		default:
			names[canonical(r)] = true
		}
	}
	var out []attr
	for _, a := range e.attrs {
		n := strings.ToLower(a.name)
		if names[n] || (a.operational && ops) || (!a.operational && all) {
			out = append(out, a)
		}
	}
	return out
}

func rootEntry() *entry {
	e := &entry{dn: RootDN, at: place{kind: placeRoot}}
	e.add("objectClass", false, "top", "domain")
	e.add("dc", false, "ward")
	return e
}

func tenantEntry(t store.Tenant) *entry {
	e := &entry{dn: tenantDN(t.Name), at: place{kind: placeTenant, tenant: t.Name}}
	e.add("objectClass", false, "top", "organization")
	e.add("o", false, t.Name)
	e.add("description", false, t.DisplayName)
	e.add("entryUUID", true, t.ID)
	return e
}

func usersEntry(tenant string) *entry {
	e := &entry{dn: usersDN(tenant), at: place{kind: placeUsers, tenant: tenant}}
	e.add("objectClass", false, "top", "organizationalUnit")
	e.add("ou", false, "users")
	return e
}

// directoryAttrs are what a plain user sees of the other users of their
// tenant: enough for an address book, nothing about accounts' state.
var directoryAttrs = []string{"objectclass", "uid", "cn", "sn", "displayname", "mail"}

// userEntry maps a Ward user to an inetOrgPerson (RFC 2798). full is
// false when a plain user looks at someone else: the entry then holds
// only directoryAttrs, so that neither the answer nor a filter can tell
// anything more. memberOf are the DNs of the user's groups, an
// operational attribute as OpenLDAP's memberof overlay keeps it: returned
// when asked for by name or "+", and matched by filters.
func userEntry(tenant string, u store.User, full bool, memberOf []string) *entry {
	e := &entry{dn: userDN(tenant, u.Username), at: place{kind: placeUser, tenant: tenant,
		user: u.Username}}
	cn := u.DisplayName
	if cn == "" {
		cn = u.Username
	}
	e.add("objectClass", false, "top", "person", "organizationalPerson", "inetOrgPerson")
	e.add("uid", false, u.Username)
	e.add("cn", false, cn)
	// inetOrgPerson inherits sn as a MUST from person; Ward keeps no
	// surname apart, so sn repeats cn.
	e.add("sn", false, cn)
	e.add("displayName", false, u.DisplayName)
	e.add("mail", false, u.Email)
	e.add("telephoneNumber", false, u.Phone)
	e.add("wardStatus", false, string(u.Status))
	// The ID of the user's organization (none at tenant level).
	e.add("wardOrgId", false, u.OrgID)
	e.add("entryUUID", true, u.ID)
	e.add("memberOf", true, memberOf...)
	if !full {
		e.attrs = slices.DeleteFunc(e.attrs, func(a attr) bool {
			return !slices.Contains(directoryAttrs, strings.ToLower(a.name))
		})
	}
	return e
}

func groupsEntry(tenant string) *entry {
	e := &entry{dn: groupsDN(tenant), at: place{kind: placeGroups, tenant: tenant}}
	e.add("objectClass", false, "top", "organizationalUnit")
	e.add("ou", false, "groups")
	return e
}

// groupEntry maps a Ward group to a groupOfNames (RFC 4519 section
// 3.5) whose members are the DNs of its users as the viewer may see
// them.
//
// Known shortcoming: groupOfNames makes member a MUST, but a Ward group
// may be empty; its entry then has no member attribute at all, where
// OpenLDAP would refuse it.
func groupEntry(tenant string, g store.Group, members []string) *entry {
	e := &entry{dn: groupDN(tenant, g.Name), at: place{kind: placeGroup, tenant: tenant,
		group: g.Name}}
	e.add("objectClass", false, "top", "groupOfNames")
	e.add("cn", false, g.Name)
	e.add("displayName", false, g.DisplayName)
	e.add("description", false, g.Description)
	e.add("member", false, members...)
	e.add("entryUUID", true, g.ID)
	return e
}
