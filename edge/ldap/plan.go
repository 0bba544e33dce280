package ldap

import (
	"context"
	"slices"
	"strings"

	ber "github.com/go-asn1-ber/asn1-ber"
	goldap "github.com/go-ldap/ldap/v3"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/users"
)

// A search reads users in one of two ways. The listing reads every user
// the viewer may see and lets the filter choose. When the filter pins the
// answer (an equality on uid, mail, memberOf or wardStatus that every
// matching entry must satisfy), a plan reads only the candidates instead:
// one users.getByUsername or users.getByEmail per value, the members of
// one group, or the users.list filtered by status (store.Users.Search).
//
// A plan never decides what matches: its candidates are a superset of the
// entries that could match, visited in the listing's order (user ID), and
// the filter still judges every one of them. So the entries, the size
// limit, the paging cookies' offsets and the result codes are those of
// the listing; plan_test.go runs both ways and compares them.
//
// Known shortcoming: one case answers differently. A tenant deleted while
// a client of it stays bound (only a tenant without users can be) makes
// the listing fail with noSuchObject, where a plan's lookups find no user
// and the search succeeds with no entries.

// maxPlanKeys bounds the lookups of one plan; an OR of more values is
// served by the listing.
const maxPlanKeys = 16

type keyKind int8

const (
	keyUsername keyKind = iota + 1
	keyEmail
	keyGroup // members of the group named value in tenant
)

// key is one lookup of a plan. Values are folded as the filter folds
// them when it compares.
type key struct {
	kind   keyKind
	value  string
	tenant string // keyGroup only: the tenant the group DN names
}

// plan is how a search finds its candidate users.
type plan struct {
	pinned bool             // false: the listing
	keys   []key            // pinned without status: these lookups (none: no candidate)
	status store.UserStatus // pinned: the users with this status
	// onlyGroup is set when the plan is one group's members and the
	// search needs memberOf only to test that group once (the filter
	// names memberOf once and the request returns no memberOf): each
	// candidate's memberOf is then that group alone, which tests the
	// same, and no user's groups are read.
	onlyGroup bool
}

// planSearch chooses the plan of a search of base by filter f returning
// attrs. A user entry as the base pins its username; a base in the groups
// has no plan.
func planSearch(f filter, base place, attrs []string) plan {
	switch base.kind {
	case placeUser:
		return plan{pinned: true, keys: []key{{kind: keyUsername, value: base.user}}}
	case placeGroups, placeGroup:
		// No user below; and a missing group as the base must still be
		// looked for, to be noSuchObject.
		return plan{}
	}
	p := pinOf(f.root)
	if p.pinned && len(p.keys) == 1 && p.keys[0].kind == keyGroup &&
		mentions(f.root, "memberof") == 1 && !returnsMemberOf(attrs) {
		p.onlyGroup = true
	}
	return p
}

// pinOf finds what every entry that matches p must hold.
func pinOf(p *ber.Packet) plan {
	switch p.Tag {
	case goldap.FilterEqualityMatch:
		if len(p.Children) != 2 {
			return plan{}
		}
		v := decode(p.Children[1])
		switch canonical(decode(p.Children[0])) {
		case "uid":
			return plan{pinned: true, keys: []key{{kind: keyUsername, value: fold(v)}}}
		case "mail":
			return plan{pinned: true, keys: []key{{kind: keyEmail, value: fold(v)}}}
		case "memberof":
			// Users' memberOf values are DNs of their tenant's groups: a
			// value that matches one of them as a DN parses to that group.
			at, err := parseDN(v)
			if err != nil || at.kind != placeGroup {
				return plan{}
			}
			return plan{pinned: true, keys: []key{{kind: keyGroup, value: at.group,
				tenant: at.tenant}}}
		case "wardstatus":
			st := store.UserStatus(strings.ToUpper(fold(v)))
			switch st {
			case store.UserActive, store.UserLocked, store.UserDisabled, store.UserPending:
				return plan{pinned: true, status: st}
			}
		}
	case goldap.FilterAnd:
		// Any pinned part pins the whole; the one with the fewest reads
		// wins (lookups, then a group, then a status).
		best := plan{}
		for _, c := range p.Children {
			if cp := pinOf(c); cp.pinned && cheaper(cp, best) {
				best = cp
			}
		}
		return best
	case goldap.FilterOr:
		// Every part must be pinned by lookups: their union is pinned.
		var keys []key
		for _, c := range p.Children {
			cp := pinOf(c)
			if !cp.pinned || cp.status != "" {
				return plan{}
			}
			keys = append(keys, cp.keys...)
		}
		if len(p.Children) == 0 || len(keys) > maxPlanKeys {
			return plan{}
		}
		return plan{pinned: true, keys: keys}
	}
	return plan{}
}

// cheaper reports whether a costs fewer reads than b.
func cheaper(a, b plan) bool {
	rank := func(p plan) int {
		switch {
		case !p.pinned:
			return 4
		case p.status != "":
			return 3
		case slices.ContainsFunc(p.keys, func(k key) bool { return k.kind == keyGroup }):
			return 2
		}
		return 1
	}
	return rank(a) < rank(b)
}

// mentions counts the filter items that test attribute name.
func mentions(p *ber.Packet, name string) int {
	switch p.Tag {
	case goldap.FilterAnd, goldap.FilterOr, goldap.FilterNot:
		n := 0
		for _, c := range p.Children {
			n += mentions(c, name)
		}
		return n
	case goldap.FilterPresent:
		if canonical(decode(p)) == name {
			return 1
		}
		return 0
	case goldap.FilterExtensibleMatch:
		// Its attribute may sit in any child: counted as a mention, to
		// be safe.
		return 1
	}
	if len(p.Children) > 0 && canonical(decode(p.Children[0])) == name {
		return 1
	}
	return 0
}

// returnsMemberOf reports whether a search returns users' memberOf.
func returnsMemberOf(attrs []string) bool {
	for _, a := range attrs {
		if a == "+" || canonical(a) == "memberof" {
			return true
		}
	}
	return false
}

// usable reports whether the plan serves this viewer of tenant t, and
// how: lookups and the status listing stand for the listing of users
// the viewer sees in full (administrators), or, lookups by username or
// email only, of every user (anyone else, whose view of the others is
// limited to directoryAttrs: a filter on status or groups matches at most
// their own entry, and the listing serves them).
func (p plan) usable(who identity, t store.Tenant) bool {
	if !p.pinned {
		return false
	}
	if who.admin(t.ID) || who.orgAdmin(t.ID) {
		return true
	}
	return p.status == "" && !slices.ContainsFunc(p.keys, func(k key) bool {
		return k.kind == keyGroup
	})
}

// candidates reads a plan's users of tenant t in ID order, as lister
// (users) and the viewer (groups). group is the group of a keyGroup plan
// when the plan found it.
func (s *Server) candidates(ctx context.Context, who identity, lister function.Caller,
	t store.Tenant, p plan) (found []store.User, group *store.Group, err error) {
	if p.status != "" {
		err = s.dir.eachListed(ctx, who, lister, t.ID, &store.UserFilter{Status: p.status},
			func(u store.User) bool {
				found = append(found, u)
				return true
			})
		return found, nil, err
	}
	for _, k := range p.keys {
		var u store.User
		switch k.kind {
		case keyUsername:
			u, err = invoke.Call[store.User](ctx, s.dir.inv, users.FunctionName,
				users.OpGetByUsername, lister,
				users.GetByUsernameInput{TenantID: t.ID, Username: k.value})
		case keyEmail:
			u, err = invoke.Call[store.User](ctx, s.dir.inv, users.FunctionName,
				users.OpGetByEmail, lister, users.GetByEmailInput{TenantID: t.ID, Email: k.value})
		case keyGroup:
			if k.tenant != t.Name {
				continue
			}
			var g store.Group
			g, err = s.dir.groupByName(ctx, who.caller, t.ID, k.value)
			if err == nil {
				group = &g
				err = s.dir.eachMember(ctx, who.caller, t.ID, g.ID, func(u store.User) bool {
					found = append(found, u)
					return true
				})
			}
		}
		switch {
		case err == nil:
			if k.kind != keyGroup {
				found = append(found, u)
			}
		case errs.CodeOf(err) == errs.NotFound, errs.CodeOf(err) == errs.InvalidArgument:
			// No such user or group, or a value no name can have: no
			// entry matches it.
			err = nil
		default:
			return nil, nil, err
		}
	}
	slices.SortFunc(found, func(a, b store.User) int { return strings.Compare(a.ID, b.ID) })
	found = slices.CompactFunc(found, func(a, b store.User) bool { return a.ID == b.ID })
	return found, group, nil
}
