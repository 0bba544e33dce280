// Package groups is the groups service: named sets of a tenant's users,
// for authorization and for directory clients (the LDAP listener serves
// them as groupOfNames entries).
//
// Who may do what:
//
//   - system administrators, and the tenant's own administrators:
//     everything in the tenant;
//   - organization administrators (package orgs says whom they reach):
//     read every group of their tenant (get, getByName, list); add,
//     remove and list as members only the users they reach, and read
//     the groups of those users; the members they do not reach are left
//     out of the listings they get. They create, rename and delete no
//     group (PERMISSION_DENIED, before any read);
//   - a plain user of the tenant: their own groups (groupsOf) only;
//     anything else is PERMISSION_DENIED, before any read;
//   - Ward's own components (function.RoleService): read everything,
//     write nothing.
//
// Anything outside the caller's reach is NOT_FOUND with the same message
// as a missing entity, so that IDs cannot be probed: a tenant other than
// the caller's, a user the organization administrator does not reach.
// Every successful write appends one event to the tenant's audit trail
// (group.create, group.update, group.delete, group.addMember,
// group.removeMember).
package groups

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/wardhq/ward/shared/audit"
	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/orgs"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/validate"
)

// Deps are what the service needs.
type Deps struct {
	Store store.Store
	Now   func() time.Time // nil: time.Now
	Log   *slog.Logger     // nil: slog.Default()
}

type service struct {
	tenants store.Tenants
	users   store.Users
	orgs    store.Organizations
	groups  store.Groups
	now     func() time.Time
	audit   audit.Recorder
}

// Function returns the groups function.
func Function(d Deps) *function.Function {
	s := &service{
		tenants: d.Store.Tenants(), users: d.Store.Users(), orgs: d.Store.Organizations(),
		groups: d.Store.Groups(), now: d.Now,
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.audit = audit.Recorder{Audit: d.Store.Audit(), Log: d.Log, Now: s.now}
	f := function.New(FunctionName)
	function.Op(f, OpCreate, s.create)
	function.Op(f, OpGet, s.get)
	function.Op(f, OpGetByName, s.getByName)
	function.Op(f, OpList, s.list)
	function.Op(f, OpUpdate, s.update)
	function.Op(f, OpDelete, s.delete)
	function.Op(f, OpAddMember, s.addMember)
	function.Op(f, OpRemoveMember, s.removeMember)
	function.Op(f, OpMembers, s.members)
	function.Op(f, OpGroupsOf, s.groupsOf)
	return f
}

// Fields are a group's audited fields.
func Fields(g store.Group) audit.Fields {
	return audit.Fields{"name": g.Name, "displayName": g.DisplayName,
		"description": g.Description}
}

func target(tenantID, id string) audit.Target {
	return audit.Target{TenantID: tenantID, Type: audit.TypeGroup, ID: id}
}

func groupNotFound() error { return errs.New(errs.NotFound, "group not found") }
func userNotFound() error  { return errs.New(errs.NotFound, "user not found") }

// notFoundAs replaces a NOT_FOUND from the store with the service's own
// answer, so that its text is the same whatever the store wrote.
func notFoundAs(err error, as func() error) error {
	if errs.CodeOf(err) == errs.NotFound {
		return as()
	}
	return err
}

// readGate is the check every read starts with, before any read of the
// store. It returns whether c reads the whole tenant; when false, c is an
// organization administrator whose reach the operation checks.
func readGate(c function.Caller, tenantID string) (wide bool, err error) {
	if !c.Anonymous() && c.Has(function.RoleService) {
		return true, nil
	}
	return orgs.Gate(c, tenantID)
}

// adminGate is the check of the writes that only tenant-wide
// administrators make: create, update and delete.
func adminGate(c function.Caller, tenantID string) error {
	if !c.Anonymous() && c.Has(function.RoleService) && !orgs.TenantWide(c, tenantID) {
		return errs.New(errs.PermissionDenied, "services read groups only")
	}
	wide, err := orgs.Gate(c, tenantID)
	if err != nil {
		return err
	}
	if !wide {
		return errs.New(errs.PermissionDenied,
			"only the tenant's administrators create, change and delete groups")
	}
	return nil
}

// memberGate is the check of addMember and removeMember: tenant-wide
// administrators, and organization administrators for the users they
// reach (which the operation checks when wide is false).
func memberGate(c function.Caller, tenantID string) (wide bool, err error) {
	if !c.Anonymous() && c.Has(function.RoleService) && !orgs.TenantWide(c, tenantID) {
		return false, errs.New(errs.PermissionDenied, "services read groups only")
	}
	return orgs.Gate(c, tenantID)
}

// existingTenant reports a missing tenant as NOT_FOUND.
func (s *service) existingTenant(ctx context.Context, tenantID string) error {
	_, err := s.tenants.Get(ctx, tenantID)
	return notFoundAs(err, func() error { return errs.New(errs.NotFound, "tenant not found") })
}

// reachUser reads user id for an organization administrator: NOT_FOUND,
// as for a missing user, when c does not reach the user's organization.
//
// Known shortcoming, as in package users: the answer is the same, not
// its timing (a user out of reach costs the walk up the tree).
func (s *service) reachUser(ctx context.Context, c function.Caller, tenantID,
	id string) (store.User, error) {
	u, err := s.users.Get(ctx, tenantID, id)
	if err != nil {
		return store.User{}, notFoundAs(err, userNotFound)
	}
	ok, err := orgs.Reaches(ctx, s.orgs, c, tenantID, u.OrgID, false)
	if err != nil {
		return store.User{}, err
	}
	if !ok {
		return store.User{}, userNotFound()
	}
	return u, nil
}

func (s *service) stamp() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

// name folds a group name and checks it as a slug, as organizations'.
func name(field string, n *string) error {
	*n = strings.ToLower(*n)
	return validate.Slug(field, *n)
}

func texts(displayName, description *string) error {
	if displayName != nil {
		if err := validate.Text("displayName", *displayName, MaxDisplayName); err != nil {
			return err
		}
	}
	if description != nil {
		return validate.Text("description", *description, MaxDescription)
	}
	return nil
}

// Validate checks the input and folds the name.
func (in *CreateInput) Validate() error {
	if err := validate.ID("tenantId", in.TenantID); err != nil {
		return err
	}
	if err := name("name", &in.Name); err != nil {
		return err
	}
	return texts(&in.DisplayName, &in.Description)
}

func (s *service) create(ctx context.Context, c function.Caller, in CreateInput) (store.Group,
	error) {
	if err := adminGate(c, in.TenantID); err != nil {
		return store.Group{}, err
	}
	if err := s.existingTenant(ctx, in.TenantID); err != nil {
		return store.Group{}, err
	}
	now := s.stamp()
	g, err := s.groups.Create(ctx, store.Group{
		ID: validate.NewID(), TenantID: in.TenantID, Name: in.Name,
		DisplayName: in.DisplayName, Description: in.Description,
		CreatedAt: now, UpdatedAt: now,
	})
	if err != nil {
		return store.Group{}, err
	}
	s.audit.Record(ctx, c, "group.create", target(g.TenantID, g.ID),
		audit.Changes(nil, Fields(g)))
	return g, nil
}

func (in *GetInput) Validate() error { return validate.TenantAndID(in.TenantID, in.ID) }

func (s *service) get(ctx context.Context, c function.Caller, in GetInput) (store.Group, error) {
	if _, err := readGate(c, in.TenantID); err != nil {
		return store.Group{}, err
	}
	g, err := s.groups.Get(ctx, in.TenantID, in.ID)
	return g, notFoundAs(err, groupNotFound)
}

// Validate checks the input and folds the name.
func (in *GetByNameInput) Validate() error {
	if err := validate.ID("tenantId", in.TenantID); err != nil {
		return err
	}
	if len(in.Name) > 255 {
		return errs.Invalid("name", "must be at most 255 bytes")
	}
	in.Name = strings.ToLower(in.Name)
	return nil
}

func (s *service) getByName(ctx context.Context, c function.Caller,
	in GetByNameInput) (store.Group, error) {
	if _, err := readGate(c, in.TenantID); err != nil {
		return store.Group{}, err
	}
	if validate.Slug("name", in.Name) != nil {
		return store.Group{}, groupNotFound()
	}
	g, err := s.groups.GetByName(ctx, in.TenantID, in.Name)
	return g, notFoundAs(err, groupNotFound)
}

func (in *ListInput) Validate() error { return validate.ID("tenantId", in.TenantID) }

func (s *service) list(ctx context.Context, c function.Caller, in ListInput) (ListOutput, error) {
	if _, err := readGate(c, in.TenantID); err != nil {
		return ListOutput{}, err
	}
	if err := s.existingTenant(ctx, in.TenantID); err != nil {
		return ListOutput{}, err
	}
	items, next, err := s.groups.List(ctx, in.TenantID, store.Page{After: in.After,
		Limit: in.First})
	if err != nil {
		return ListOutput{}, err
	}
	if items == nil {
		items = []store.Group{}
	}
	return ListOutput{Items: items, Next: next}, nil
}

// Validate checks the fields that are set and folds the name.
func (in *UpdateInput) Validate() error {
	if err := validate.TenantAndID(in.TenantID, in.ID); err != nil {
		return err
	}
	if in.Name != nil {
		if err := name("name", in.Name); err != nil {
			return err
		}
	}
	return texts(in.DisplayName, in.Description)
}

func (s *service) update(ctx context.Context, c function.Caller, in UpdateInput) (store.Group,
	error) {
	if err := adminGate(c, in.TenantID); err != nil {
		return store.Group{}, err
	}
	now := s.stamp()
	var before store.Group // as fn last saw it, which is what the update replaced
	g, err := s.groups.Update(ctx, in.TenantID, in.ID, func(g store.Group) (store.Group, error) {
		before = g
		if in.Name != nil {
			g.Name = *in.Name
		}
		if in.DisplayName != nil {
			g.DisplayName = *in.DisplayName
		}
		if in.Description != nil {
			g.Description = *in.Description
		}
		g.UpdatedAt = now
		return g, nil
	})
	if err != nil {
		return store.Group{}, notFoundAs(err, groupNotFound)
	}
	s.audit.Record(ctx, c, "group.update", target(g.TenantID, g.ID),
		audit.Changes(Fields(before), Fields(g)))
	return g, nil
}

func (in *DeleteInput) Validate() error { return validate.TenantAndID(in.TenantID, in.ID) }

// delete reads the group for the audit record, then deletes it with its
// memberships.
func (s *service) delete(ctx context.Context, c function.Caller, in DeleteInput) (DeleteOutput,
	error) {
	if err := adminGate(c, in.TenantID); err != nil {
		return DeleteOutput{}, err
	}
	g, err := s.groups.Get(ctx, in.TenantID, in.ID)
	if err != nil {
		return DeleteOutput{}, notFoundAs(err, groupNotFound)
	}
	if err := s.groups.Delete(ctx, in.TenantID, in.ID); err != nil {
		return DeleteOutput{}, notFoundAs(err, groupNotFound)
	}
	s.audit.Record(ctx, c, "group.delete", target(in.TenantID, in.ID),
		audit.Changes(Fields(g), nil))
	return DeleteOutput{ID: in.ID}, nil
}

func (in *MemberInput) Validate() error {
	if err := validate.ID("tenantId", in.TenantID); err != nil {
		return err
	}
	if err := validate.ID("groupId", in.GroupID); err != nil {
		return err
	}
	return validate.ID("userId", in.UserID)
}

// membership checks what addMember and removeMember share: the gate, the
// group, and for an organization administrator the user's reach.
func (s *service) membership(ctx context.Context, c function.Caller, in MemberInput) error {
	wide, err := memberGate(c, in.TenantID)
	if err != nil {
		return err
	}
	if _, err := s.groups.Get(ctx, in.TenantID, in.GroupID); err != nil {
		return notFoundAs(err, groupNotFound)
	}
	if !wide {
		if _, err := s.reachUser(ctx, c, in.TenantID, in.UserID); err != nil {
			return err
		}
	}
	return nil
}

// addMember adds a user to a group. Adding a member again is no error,
// and is recorded like the first time.
//
// Known shortcoming: an organization administrator's reach is checked
// on the user as read before the write; a user moved out of their reach
// in between is added all the same (the store has no conditional add).
func (s *service) addMember(ctx context.Context, c function.Caller, in MemberInput) (MemberOutput,
	error) {
	if err := s.membership(ctx, c, in); err != nil {
		return MemberOutput{}, err
	}
	// The group was read a moment ago: a NOT_FOUND here is the user's,
	// unless the group was deleted in between.
	if err := s.groups.AddMember(ctx, in.TenantID, in.GroupID, in.UserID); err != nil {
		return MemberOutput{}, notFoundAs(err, func() error {
			return errs.New(errs.NotFound, "group or user not found")
		})
	}
	s.audit.Record(ctx, c, "group.addMember", target(in.TenantID, in.GroupID),
		map[string]store.AuditChange{"member": {New: in.UserID}})
	return MemberOutput{GroupID: in.GroupID, UserID: in.UserID}, nil
}

// removeMember removes a user from a group; removing a user who is not
// a member is no error (tenant-wide administrators may remove a user
// that no longer exists), and is recorded all the same.
func (s *service) removeMember(ctx context.Context, c function.Caller,
	in MemberInput) (MemberOutput, error) {
	if err := s.membership(ctx, c, in); err != nil {
		return MemberOutput{}, err
	}
	if err := s.groups.RemoveMember(ctx, in.TenantID, in.GroupID, in.UserID); err != nil {
		return MemberOutput{}, notFoundAs(err, groupNotFound)
	}
	s.audit.Record(ctx, c, "group.removeMember", target(in.TenantID, in.GroupID),
		map[string]store.AuditChange{"member": {Old: in.UserID}})
	return MemberOutput{GroupID: in.GroupID, UserID: in.UserID}, nil
}

func (in *MembersInput) Validate() error {
	if err := validate.ID("tenantId", in.TenantID); err != nil {
		return err
	}
	return validate.ID("groupId", in.GroupID)
}

// members reads one page of member IDs, then each member's record. A
// member deleted between the two reads is left out, as is, for an
// organization administrator, every member out of reach.
func (s *service) members(ctx context.Context, c function.Caller, in MembersInput) (MembersOutput,
	error) {
	wide, err := readGate(c, in.TenantID)
	if err != nil {
		return MembersOutput{}, err
	}
	if _, err := s.groups.Get(ctx, in.TenantID, in.GroupID); err != nil {
		return MembersOutput{}, notFoundAs(err, groupNotFound)
	}
	ids, next, err := s.groups.Members(ctx, in.TenantID, in.GroupID,
		store.Page{After: in.After, Limit: in.First})
	if err != nil {
		return MembersOutput{}, notFoundAs(err, groupNotFound)
	}
	reached := map[string]bool{} // by organization ID, for this page
	items := make([]store.User, 0, len(ids))
	for _, id := range ids {
		u, err := s.users.Get(ctx, in.TenantID, id)
		if errs.CodeOf(err) == errs.NotFound {
			continue
		}
		if err != nil {
			return MembersOutput{}, err
		}
		if !wide {
			ok, seen := reached[u.OrgID]
			if !seen {
				if ok, err = orgs.Reaches(ctx, s.orgs, c, in.TenantID, u.OrgID, false); err != nil {
					return MembersOutput{}, err
				}
				reached[u.OrgID] = ok
			}
			if !ok {
				continue
			}
		}
		items = append(items, u)
	}
	return MembersOutput{Items: items, Next: next}, nil
}

func (in *GroupsOfInput) Validate() error {
	if err := validate.ID("tenantId", in.TenantID); err != nil {
		return err
	}
	return validate.ID("userId", in.UserID)
}

// groupsOf lists a user's groups: the user's own, or those of a user the
// caller administers. A user that does not exist is NOT_FOUND, except
// for the user asking about themself.
func (s *service) groupsOf(ctx context.Context, c function.Caller, in GroupsOfInput) (GroupsOfOutput,
	error) {
	self := !c.Anonymous() && c.Tenant != "" && c.Tenant == in.TenantID &&
		c.Subject == in.UserID
	if !self {
		wide, err := readGate(c, in.TenantID)
		if err != nil {
			return GroupsOfOutput{}, err
		}
		if wide {
			_, err = s.users.Get(ctx, in.TenantID, in.UserID)
			err = notFoundAs(err, userNotFound)
		} else {
			_, err = s.reachUser(ctx, c, in.TenantID, in.UserID)
		}
		if err != nil {
			return GroupsOfOutput{}, err
		}
	}
	items, err := s.groups.GroupsOf(ctx, in.TenantID, in.UserID)
	if err != nil {
		return GroupsOfOutput{}, err
	}
	if items == nil {
		items = []store.Group{}
	}
	return GroupsOfOutput{Items: items}, nil
}
