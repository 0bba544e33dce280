package ldap

import (
	"context"
	"slices"
	"strings"

	"github.com/jimlambrt/gldap"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/groups"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/store"
)

// Groups are served under ou=groups of each tenant as groupOfNames
// entries (RFC 4519): cn is the group's name, member the DNs of its
// users, and each user entry carries memberOf. Every read and write goes
// through the groups function as the bound client, so what a client sees
// and changes is what the function lets that caller see and change:
//
//   - tenant administrators see every group with all its members, and
//     memberOf on every user;
//   - organization administrators see every group, with the members they
//     administer only, and memberOf on the users they administer (the
//     only users they see: search.go);
//   - a plain user sees no group entry (the function lets them read only
//     their own groups), but their own entry carries memberOf.
//
// Member DNs given in writes are resolved to users by username as the
// reader identity (directory.go), which may see any user of the tenant;
// whether the caller may then add or remove that user is the groups
// function's decision.

// groupView is what a search shows of one tenant's groups.
type groupView struct {
	hidden   bool // the caller may not list the tenant's groups
	groups   []store.Group
	members  map[string][]string // group ID -> member DNs
	memberOf map[string][]string // user ID -> group DNs
}

// asksForMemberOf reports whether a search needs users' memberOf: it is
// operational, so only when asked for by name or "+", or when the filter
// may test it. The filter is looked at as text; a value that merely
// contains the word costs a needless read, never a wrong answer.
func asksForMemberOf(attrs []string, filter string) bool {
	for _, a := range attrs {
		if a == "+" || canonical(a) == "memberof" {
			return true
		}
	}
	return strings.Contains(strings.ToLower(filter), "memberof")
}

// reachesGroups reports whether a search of base with scope can return
// group entries.
func reachesGroups(base place, scope gldap.Scope) bool {
	switch scope {
	case gldap.WholeSubtree:
		switch base.kind {
		case placeRoot, placeTenant, placeGroups, placeGroup:
			return true
		}
	case gldap.SingleLevel:
		return base.kind == placeGroups
	}
	return base.kind == placeGroup
}

// walkGroups visits a tenant's groups container and groups.
func (s *Server) walkGroups(ctx context.Context, who identity, t store.Tenant, base place,
	scope gldap.Scope, view **groupView, visit func(*entry) bool) (stop bool, err error) {
	ge := groupsEntry(t.Name)
	if inScope(base, scope, ge.at) && !visit(ge) {
		return true, nil
	}
	if !reachesGroups(base, scope) {
		return false, nil
	}
	if *view == nil {
		only := ""
		if base.kind == placeGroup {
			only = base.group
		}
		if *view, err = s.loadGroups(ctx, who.caller, t, only); err != nil {
			return false, err
		}
	}
	found := false
	for _, g := range (*view).groups {
		if base.kind == placeGroup && g.Name != base.group {
			continue
		}
		found = true
		e := groupEntry(t.Name, g, (*view).members[g.ID])
		if inScope(base, scope, e.at) && !visit(e) {
			return true, nil
		}
	}
	if base.kind == placeGroup && !found {
		return false, refuse(gldap.ResultNoSuchObject, "no such object")
	}
	return false, nil
}

// loadGroups reads a tenant's groups (or, with only, the one of that
// name) and their members as c sees them.
func (s *Server) loadGroups(ctx context.Context, c function.Caller, t store.Tenant,
	only string) (*groupView, error) {
	v := &groupView{members: map[string][]string{}, memberOf: map[string][]string{}}
	var err error
	if only != "" {
		var g store.Group
		g, err = s.dir.groupByName(ctx, c, t.ID, only)
		if err == nil {
			v.groups = []store.Group{g}
		} else if errs.CodeOf(err) == errs.NotFound {
			err = nil
		}
	} else {
		err = s.dir.eachGroup(ctx, c, t.ID, func(g store.Group) bool {
			v.groups = append(v.groups, g)
			return true
		})
	}
	if errs.CodeOf(err) == errs.PermissionDenied {
		return &groupView{hidden: true}, nil
	}
	if err != nil {
		return nil, err
	}
	for _, g := range v.groups {
		dn := groupDN(t.Name, g.Name)
		err := s.dir.eachMember(ctx, c, t.ID, g.ID, func(u store.User) bool {
			v.members[g.ID] = append(v.members[g.ID], userDN(t.Name, u.Username))
			v.memberOf[u.ID] = append(v.memberOf[u.ID], dn)
			return true
		})
		if err != nil {
			return nil, err
		}
	}
	return v, nil
}

// memberOf returns the reader of users' memberOf for a search: an
// administrator's (of the tenant or of organizations) from the tenant's
// groups as the administrator sees them, read once; anyone else's (their
// own entry), or with few set (one user as the base, a plan's
// candidates), with groups.groupsOf. Both give a user's groups in order
// of group ID.
func (s *Server) memberOf(ctx context.Context, who identity, t store.Tenant, few bool,
	view **groupView) func(store.User) ([]string, error) {
	return func(u store.User) ([]string, error) {
		if few || !who.admin(t.ID) && !who.orgAdmin(t.ID) {
			gs, err := s.dir.groupsOf(ctx, who.caller, t.ID, u.ID)
			if err != nil {
				return nil, err
			}
			var dns []string
			for _, g := range gs {
				dns = append(dns, groupDN(t.Name, g.Name))
			}
			return dns, nil
		}
		if *view == nil {
			v, err := s.loadGroups(ctx, who.caller, t, "")
			if err != nil {
				return nil, err
			}
			*view = v
		}
		return (*view).memberOf[u.ID], nil
	}
}

// Directory reads of groups, through the groups function.

func (d directory) eachGroup(ctx context.Context, c function.Caller, tenantID string,
	fn func(store.Group) bool) error {
	after := ""
	for {
		out, err := invoke.Call[groups.ListOutput](ctx, d.inv, groups.FunctionName,
			groups.OpList, c, groups.ListInput{TenantID: tenantID, After: after, First: listPage})
		if err != nil {
			return err
		}
		for _, g := range out.Items {
			if !fn(g) {
				return nil
			}
		}
		if out.Next == "" {
			return nil
		}
		after = out.Next
	}
}

func (d directory) eachMember(ctx context.Context, c function.Caller, tenantID,
	groupID string, fn func(store.User) bool) error {
	after := ""
	for {
		out, err := invoke.Call[groups.MembersOutput](ctx, d.inv, groups.FunctionName,
			groups.OpMembers, c, groups.MembersInput{TenantID: tenantID, GroupID: groupID,
				After: after, First: listPage})
		if err != nil {
			return err
		}
		for _, u := range out.Items {
			if !fn(u) {
				return nil
			}
		}
		if out.Next == "" {
			return nil
		}
		after = out.Next
	}
}

func (d directory) groupByName(ctx context.Context, c function.Caller, tenantID,
	name string) (store.Group, error) {
	return invoke.Call[store.Group](ctx, d.inv, groups.FunctionName, groups.OpGetByName, c,
		groups.GetByNameInput{TenantID: tenantID, Name: name})
}

func (d directory) groupsOf(ctx context.Context, c function.Caller, tenantID,
	userID string) ([]store.Group, error) {
	out, err := invoke.Call[groups.GroupsOfOutput](ctx, d.inv, groups.FunctionName,
		groups.OpGroupsOf, c, groups.GroupsOfInput{TenantID: tenantID, UserID: userID})
	return out.Items, err
}

// memberResolver turns member DNs into user IDs, one users.getByUsername
// as the reader identity per username, remembered for the request.
type memberResolver struct {
	s    *Server
	t    store.Tenant
	byUN map[string]string // username -> ID; "" for none
}

// resolve finds the user a member DN names: ok is false for a DN in the
// tenant's users that names nobody. A DN elsewhere is a constraint
// violation: members are the tenant's users.
func (r *memberResolver) resolve(ctx context.Context, dn string) (id string, ok bool,
	err error) {
	at, err := parseDN(dn)
	if err != nil || at.kind != placeUser || at.tenant != r.t.Name {
		return "", false, refuse(gldap.ResultConstraintViolation,
			"member must name a user of the tenant: uid=<username>,ou=users,o=<tenant>,dc=ward")
	}
	if id, seen := r.byUN[at.user]; seen {
		return id, id != "", nil
	}
	u, err := r.s.dir.userByName(ctx, readerCaller(r.t.ID), r.t.ID, at.user)
	switch errs.CodeOf(err) {
	case errs.NotFound, errs.InvalidArgument:
		// Nobody has that name, or nobody could.
		u, err = store.User{}, nil
	}
	if err != nil {
		return "", false, err
	}
	if r.byUN == nil {
		r.byUN = map[string]string{}
	}
	r.byUN[at.user] = u.ID
	return u.ID, u.ID != "", nil
}

// userNotFound answers a member DN that names no user as the groups
// function answers a user out of the caller's reach.
func userNotFound() error { return errs.New(errs.NotFound, "user not found") }

// addGroup creates a group from an add request, then adds its members.
// LDAP wants an add to happen entirely or not at all; the group and
// each membership are separate operations, so when a membership fails
// the group is deleted again.
func (s *Server) addGroup(ctx context.Context, who identity, m *gldap.AddMessage) error {
	at, t, err := s.target(ctx, who, m.DN)
	if err != nil {
		return err
	}
	in := groups.CreateInput{TenantID: t.ID, Name: at.group}
	var memberDNs []string
	for _, a := range m.Attributes {
		name := canonical(a.Type)
		switch name {
		case "objectclass":
			ok := false
			for _, v := range a.Vals {
				switch strings.ToLower(v) {
				case "groupofnames":
					ok = true
				case "top":
				default:
					return refuse(gldap.ResultObjectClassViolation, "unsupported objectClass "+v)
				}
			}
			if !ok {
				return refuse(gldap.ResultObjectClassViolation, "groups are groupOfNames")
			}
			continue
		case "member":
			memberDNs = append(memberDNs, a.Vals...)
			continue
		}
		v, err := single(a.Type, a.Vals)
		if err != nil {
			return err
		}
		switch name {
		case "cn":
			if strings.ToLower(v) != at.group {
				return refuse(gldap.ResultNotAllowedOnRDN, "cn must match the entry's name")
			}
		case "description":
			in.Description = v
		case "displayname":
			in.DisplayName = v
		case "entryuuid":
			return refuse(gldap.ResultConstraintViolation, "entryUUID is assigned by Ward")
		default:
			return refuse(gldap.ResultUndefinedAttributeType, "unknown attribute "+a.Type)
		}
	}

	// Every member is resolved before anything is written.
	res := &memberResolver{s: s, t: t}
	var ids []string
	for _, dn := range memberDNs {
		id, ok, err := res.resolve(ctx, dn)
		if err != nil {
			return err
		}
		if !ok {
			return userNotFound()
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	g, err := invoke.Call[store.Group](ctx, s.dir.inv, groups.FunctionName, groups.OpCreate,
		who.caller, in)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := s.member(ctx, who, groups.OpAddMember, t.ID, g.ID, id); err != nil {
			// The undo outlives a cancelled request: its need is decided.
			_, derr := invoke.Call[groups.DeleteOutput](context.WithoutCancel(ctx), s.dir.inv,
				groups.FunctionName, groups.OpDelete, who.caller,
				groups.DeleteInput{TenantID: t.ID, ID: g.ID})
			if derr != nil {
				s.log.ErrorContext(ctx, "ldap: a group whose members could not be added "+
					"was not deleted either", "request_id", function.RequestID(ctx),
					"tenant", t.ID, "group", g.ID, "error", derr)
			}
			return err
		}
	}
	return nil
}

func (s *Server) member(ctx context.Context, who identity, op, tenantID, groupID,
	userID string) error {
	_, err := invoke.Call[groups.MemberOutput](ctx, s.dir.inv, groups.FunctionName, op,
		who.caller, groups.MemberInput{TenantID: tenantID, GroupID: groupID, UserID: userID})
	return err
}

// modifyGroup applies a modify request to a group: its description and
// displayName in one groups.update, its members with groups.addMember
// and groups.removeMember, all checked before the first is made.
//
// The members are those the caller sees: an organization
// administrator's replace or delete of every value leaves the members it
// does not administer in place.
//
// Known shortcoming: those are several operations, so a failure (or a
// concurrent change) part-way leaves the earlier ones made, where LDAP
// wants a modify to apply entirely or not at all.
func (s *Server) modifyGroup(ctx context.Context, who identity, m *gldap.ModifyMessage) error {
	at, t, err := s.target(ctx, who, m.DN)
	if err != nil {
		return err
	}
	g, err := s.dir.groupByName(ctx, who.caller, t.ID, at.group)
	if err != nil {
		return err
	}
	for i := range m.Changes {
		vals, err := modValues(m.Changes[i])
		if err != nil {
			return refuse(gldap.ResultProtocolError, "malformed modification")
		}
		m.Changes[i].Modification.Vals = vals
	}

	// The members as the caller sees them, and as the request leaves them.
	var current []string
	if slices.ContainsFunc(m.Changes, func(c gldap.Change) bool {
		return canonical(c.Modification.Type) == "member"
	}) {
		err := s.dir.eachMember(ctx, who.caller, t.ID, g.ID, func(u store.User) bool {
			current = append(current, u.ID)
			return true
		})
		if err != nil {
			return err
		}
	}
	want := slices.Clone(current)
	res := &memberResolver{s: s, t: t}
	in := groups.UpdateInput{TenantID: t.ID, ID: g.ID}
	desc, display := g.Description, g.DisplayName
	for _, c := range m.Changes {
		vals := c.Modification.Vals
		switch canonical(c.Modification.Type) {
		case "member":
			if want, err = s.changeMembers(ctx, res, c.Operation, vals, want); err != nil {
				return err
			}
		case "description":
			if err := changeText(c, vals, &desc); err != nil {
				return err
			}
			in.Description = &desc
		case "displayname":
			if err := changeText(c, vals, &display); err != nil {
				return err
			}
			in.DisplayName = &display
		case "cn":
			return refuse(gldap.ResultNotAllowedOnRDN, "cn names the entry; it cannot be modified")
		case "objectclass", "entryuuid":
			return refuse(gldap.ResultConstraintViolation, c.Modification.Type+" is kept by Ward")
		default:
			return refuse(gldap.ResultUndefinedAttributeType,
				"unknown attribute "+c.Modification.Type)
		}
	}

	if in.Description != nil || in.DisplayName != nil {
		if _, err := invoke.Call[store.Group](ctx, s.dir.inv, groups.FunctionName,
			groups.OpUpdate, who.caller, in); err != nil {
			return err
		}
	}
	for _, id := range want {
		if !slices.Contains(current, id) {
			if err := s.member(ctx, who, groups.OpAddMember, t.ID, g.ID, id); err != nil {
				return err
			}
		}
	}
	for _, id := range current {
		if !slices.Contains(want, id) {
			if err := s.member(ctx, who, groups.OpRemoveMember, t.ID, g.ID, id); err != nil {
				return err
			}
		}
	}
	return nil
}

// changeMembers applies one modification of member to the set want
// (RFC 4511 section 4.6): add refuses a value present already, delete
// one that is absent, and delete without values empties the set.
func (s *Server) changeMembers(ctx context.Context, res *memberResolver, op int64,
	vals, want []string) ([]string, error) {
	ids := make([]string, 0, len(vals))
	for _, dn := range vals {
		id, ok, err := res.resolve(ctx, dn)
		if err != nil {
			return nil, err
		}
		if !ok && op != gldap.DeleteAttribute {
			return nil, userNotFound()
		}
		ids = append(ids, id)
	}
	switch op {
	case gldap.AddAttribute:
		for _, id := range ids {
			if slices.Contains(want, id) {
				return nil, refuse(gldap.ResultAttributeOrValueExists, "already a member")
			}
			want = append(want, id)
		}
	case gldap.DeleteAttribute:
		if len(ids) == 0 {
			return nil, nil
		}
		for _, id := range ids {
			i := slices.Index(want, id)
			if id == "" || i < 0 {
				return nil, refuse(gldap.ResultNoSuchAttribute, "not a member")
			}
			want = slices.Delete(want, i, i+1)
		}
	case gldap.ReplaceAttribute:
		want = nil
		for _, id := range ids {
			if !slices.Contains(want, id) {
				want = append(want, id)
			}
		}
	default:
		return nil, refuse(gldap.ResultUnwillingToPerform, "unsupported modification")
	}
	return want, nil
}

// changeText applies one modification to a single-valued text attribute.
func changeText(c gldap.Change, vals []string, cur *string) error {
	switch c.Operation {
	case gldap.ReplaceAttribute, gldap.AddAttribute:
		if c.Operation == gldap.AddAttribute && *cur != "" {
			return refuse(gldap.ResultAttributeOrValueExists,
				c.Modification.Type+" is single-valued and already set")
		}
		if c.Operation == gldap.ReplaceAttribute && len(vals) == 0 {
			*cur = ""
			return nil
		}
		v, err := single(c.Modification.Type, vals)
		if err != nil {
			return err
		}
		*cur = v
	case gldap.DeleteAttribute:
		if len(vals) > 0 && !slices.ContainsFunc(vals, func(x string) bool {
			return fold(x) == fold(*cur)
		}) || *cur == "" {
			return refuse(gldap.ResultNoSuchAttribute, "no such value")
		}
		*cur = ""
	default:
		return refuse(gldap.ResultUnwillingToPerform, "unsupported modification")
	}
	return nil
}

func (s *Server) deleteGroup(ctx context.Context, who identity, dn string) error {
	at, t, err := s.target(ctx, who, dn)
	if err != nil {
		return err
	}
	g, err := s.dir.groupByName(ctx, who.caller, t.ID, at.group)
	if err != nil {
		return err
	}
	_, err = invoke.Call[groups.DeleteOutput](ctx, s.dir.inv, groups.FunctionName,
		groups.OpDelete, who.caller, groups.DeleteInput{TenantID: t.ID, ID: g.ID})
	return err
}

// isGroupDN reports whether dn names a group entry.
func isGroupDN(dn string) bool {
	at, err := parseDN(dn)
	return err == nil && at.kind == placeGroup
}
