// Package tenants is the tenants service: create, read, list, update and
// delete tenants. Only system administrators create, list and delete
// tenants; a tenant's own administrators may read and rename it.
package tenants

import (
	"context"
	"log/slog"
	"time"

	"github.com/wardhq/ward/shared/attributes"
	"github.com/wardhq/ward/shared/audit"
	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
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
	now     func() time.Time
	audit   audit.Recorder
}

// Function returns the tenants function.
func Function(d Deps) *function.Function {
	s := &service{tenants: d.Store.Tenants(), users: d.Store.Users(),
		orgs: d.Store.Organizations(), now: d.Now}
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
	return f
}

func (s *service) stamp() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

func (in *CreateInput) Validate() error {
	if err := validate.Slug("name", in.Name); err != nil {
		return err
	}
	return validate.Text("displayName", in.DisplayName, 200)
}

func (s *service) create(ctx context.Context, c function.Caller, in CreateInput) (store.Tenant, error) {
	if err := c.RequireSystemAdmin(); err != nil {
		return store.Tenant{}, err
	}
	now := s.stamp()
	t := store.Tenant{
		ID:          validate.NewID(),
		Name:        in.Name,
		DisplayName: in.DisplayName,
		CreatedAt:   now,
		UpdatedAt:   now,
	}
	t, err := s.tenants.Create(ctx, t)
	if err != nil {
		return store.Tenant{}, err
	}
	// A tenant's creation and deletion are system-level events; what
	// happens to it in between is in its own trail.
	s.audit.Record(ctx, c, "tenant.create", tenantTarget("", t.ID),
		audit.Changes(nil, audit.TenantFields(t)))
	return t, nil
}

func tenantTarget(trail, id string) audit.Target {
	return audit.Target{TenantID: trail, Type: audit.TypeTenant, ID: id}
}

func (in *GetInput) Validate() error { return validate.ID("id", in.ID) }

// canRead allows system administrators and anyone who belongs to the tenant.
func canRead(c function.Caller, tenantID string) error {
	if c.Anonymous() {
		return errs.New(errs.Unauthenticated, "authentication required")
	}
	if c.Has(function.RoleSystemAdmin) || (c.Tenant != "" && c.Tenant == tenantID) {
		return nil
	}
	// Not PERMISSION_DENIED: a caller outside the tenant must not learn
	// whether it exists.
	return errs.New(errs.NotFound, "tenant not found")
}

// get serves Ward's own components (the sign-in services read a tenant's
// settings), system administrators and the tenant's callers.
func (s *service) get(ctx context.Context, c function.Caller, in GetInput) (store.Tenant, error) {
	if c.Has(function.RoleService) {
		return s.tenants.Get(ctx, in.ID)
	}
	if err := canRead(c, in.ID); err != nil {
		return store.Tenant{}, err
	}
	return s.tenants.Get(ctx, in.ID)
}

func (in *GetByNameInput) Validate() error { return validate.Slug("name", in.Name) }

// getByName serves Ward's own components (the LDAP listener, protocol
// endpoints), system administrators, and callers of that tenant; anyone
// else learns nothing, not even whether the name exists.
func (s *service) getByName(ctx context.Context, c function.Caller, in GetByNameInput) (store.Tenant, error) {
	if c.Anonymous() {
		return store.Tenant{}, errs.New(errs.Unauthenticated, "authentication required")
	}
	t, err := s.tenants.GetByName(ctx, in.Name)
	if err != nil {
		return store.Tenant{}, err
	}
	if c.Has(function.RoleService) {
		return t, nil
	}
	if err := canRead(c, t.ID); err != nil {
		return store.Tenant{}, err
	}
	return t, nil
}

func (s *service) list(ctx context.Context, c function.Caller, in ListInput) (ListOutput, error) {
	if err := c.RequireSystemAdmin(); err != nil {
		return ListOutput{}, err
	}
	items, next, err := s.tenants.List(ctx, store.Page{After: in.After, Limit: in.First})
	if err != nil {
		return ListOutput{}, err
	}
	if items == nil {
		items = []store.Tenant{}
	}
	return ListOutput{Items: items, Next: next}, nil
}

func (in *UpdateInput) Validate() error {
	if err := validate.ID("id", in.ID); err != nil {
		return err
	}
	if in.Registration != nil {
		switch *in.Registration {
		case store.RegistrationClosed, store.RegistrationOpen, store.RegistrationInvite:
		default:
			return errs.Invalid("registration", "must be one of CLOSED, OPEN, INVITE")
		}
	}
	if in.UserSchema != nil {
		if err := attributes.CheckSchema(*in.UserSchema); err != nil {
			return err
		}
	}
	if in.Auth != nil {
		if err := CheckAuth(*in.Auth); err != nil {
			return err
		}
	}
	if in.Branding != nil {
		if err := CheckBranding(*in.Branding); err != nil {
			return err
		}
	}
	if in.DisplayName != nil {
		return validate.Text("displayName", *in.DisplayName, 200)
	}
	return nil
}

func (s *service) update(ctx context.Context, c function.Caller, in UpdateInput) (store.Tenant, error) {
	if err := canRead(c, in.ID); err != nil {
		return store.Tenant{}, err
	}
	if err := c.RequireTenantAdmin(in.ID); err != nil {
		return store.Tenant{}, err
	}
	now := s.stamp()
	var before store.Tenant // as fn last saw it, which is what the update replaced
	t, err := s.tenants.Update(ctx, in.ID, func(t store.Tenant) (store.Tenant, error) {
		before = t
		if in.DisplayName != nil {
			t.DisplayName = *in.DisplayName
		}
		if in.Registration != nil {
			t.Registration = *in.Registration
		}
		if in.UserSchema != nil {
			t.UserSchema = *in.UserSchema
			if len(t.UserSchema) == 0 {
				t.UserSchema = nil
			}
		}
		if in.Auth != nil {
			t.Auth = in.Auth.Clone()
		}
		if in.Branding != nil {
			t.Branding = *in.Branding
		}
		t.UpdatedAt = now
		return t, nil
	})
	if err != nil {
		return store.Tenant{}, err
	}
	s.audit.Record(ctx, c, "tenant.update", tenantTarget(t.ID, t.ID),
		audit.Changes(audit.TenantFields(before), audit.TenantFields(t)))
	return t, nil
}

func (in *DeleteInput) Validate() error { return validate.ID("id", in.ID) }

func (s *service) delete(ctx context.Context, c function.Caller, in DeleteInput) (DeleteOutput, error) {
	if err := c.RequireSystemAdmin(); err != nil {
		return DeleteOutput{}, err
	}
	old, err := s.tenants.Get(ctx, in.ID)
	if err != nil {
		return DeleteOutput{}, err
	}
	// A tenant is deleted only once it is empty (no users, no
	// organizations), so that nothing is left behind without a tenant. A user created between this count and the
	// delete is still possible; closing that window needs a tenant state
	// (deleting) that users.create checks, which comes with tenant
	// lifecycle management.
	n, err := s.users.Count(ctx, in.ID)
	if err != nil {
		return DeleteOutput{}, err
	}
	if n > 0 {
		return DeleteOutput{}, errs.New(errs.Conflict, "tenant still has %d users; delete them first", n)
	}
	top, _, err := s.orgs.List(ctx, in.ID, "", store.Page{Limit: 1})
	if err != nil {
		return DeleteOutput{}, err
	}
	if len(top) > 0 {
		return DeleteOutput{}, errs.New(errs.Conflict, "tenant still has organizations; delete them first")
	}
	if err := s.tenants.Delete(ctx, in.ID); err != nil {
		return DeleteOutput{}, err
	}
	s.audit.Record(ctx, c, "tenant.delete", tenantTarget("", in.ID),
		audit.Changes(audit.TenantFields(old), nil))
	return DeleteOutput{ID: in.ID}, nil
}
