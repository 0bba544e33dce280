// Package orgs is the organizations service: organizations nest inside a
// tenant, and administration can be delegated to organization
// administrators, who manage the organizations below their own and the
// users in all of them (see scope.go for who reaches what).
package orgs

import (
	"context"
	"log/slog"
	"strings"
	"time"

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
	orgs    store.Organizations
	now     func() time.Time
	audit   audit.Recorder
}

// Function returns the orgs function.
func Function(d Deps) *function.Function {
	s := &service{tenants: d.Store.Tenants(), orgs: d.Store.Organizations(), now: d.Now}
	if s.now == nil {
		s.now = time.Now
	}
	s.audit = audit.Recorder{Audit: d.Store.Audit(), Log: d.Log, Now: s.now}
	f := function.New(FunctionName)
	function.Op(f, OpCreate, s.create)
	function.Op(f, OpGet, s.get)
	function.Op(f, OpList, s.list)
	function.Op(f, OpUpdate, s.update)
	function.Op(f, OpDelete, s.delete)
	return f
}

func (s *service) stamp() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

// name folds an organization name and checks it as a slug.
func name(field string, n *string) error {
	*n = strings.ToLower(*n)
	return validate.Slug(field, *n)
}

func (in *CreateInput) Validate() error {
	if err := validate.ID("tenantId", in.TenantID); err != nil {
		return err
	}
	if in.ParentID != "" {
		if err := validate.ID("parentId", in.ParentID); err != nil {
			return err
		}
	}
	if err := name("name", &in.Name); err != nil {
		return err
	}
	return validate.Text("displayName", in.DisplayName, 200)
}

// existingTenant reports a missing tenant as NOT_FOUND, for the
// operations that would otherwise pass it unnoticed.
func (s *service) existingTenant(ctx context.Context, tenantID string) error {
	_, err := s.tenants.Get(ctx, tenantID)
	if errs.CodeOf(err) == errs.NotFound {
		return errs.New(errs.NotFound, "tenant not found")
	}
	return err
}

// reach checks that c administers orgID (strictly below its own
// organizations when strict), answering NOT_FOUND when it does not.
func (s *service) reach(ctx context.Context, c function.Caller, tenantID, orgID string,
	strict bool) error {
	ok, err := Reaches(ctx, s.orgs, c, tenantID, orgID, strict)
	if err != nil {
		return err
	}
	if !ok {
		return orgNotFound()
	}
	return nil
}

func (s *service) create(ctx context.Context, c function.Caller,
	in CreateInput) (store.Organization, error) {
	wide, err := Gate(c, in.TenantID)
	if err != nil {
		return store.Organization{}, err
	}
	switch {
	case wide:
		if err := s.existingTenant(ctx, in.TenantID); err != nil {
			return store.Organization{}, err
		}
	case in.ParentID == "":
		return store.Organization{}, errs.New(errs.PermissionDenied,
			"organization administrators create organizations inside their own")
	default:
		if err := s.reach(ctx, c, in.TenantID, in.ParentID, false); err != nil {
			return store.Organization{}, err
		}
	}
	now := s.stamp()
	o, err := s.orgs.Create(ctx, store.Organization{
		ID: validate.NewID(), TenantID: in.TenantID, ParentID: in.ParentID, Name: in.Name,
		DisplayName: in.DisplayName, CreatedAt: now, UpdatedAt: now,
	})
	if errs.CodeOf(err) == errs.NotFound {
		return store.Organization{}, errs.New(errs.NotFound, "parent organization not found")
	}
	if err != nil {
		return store.Organization{}, err
	}
	s.audit.Record(ctx, c, "org.create", orgTarget(o.TenantID, o.ID),
		audit.Changes(nil, audit.OrgFields(o)))
	return o, nil
}

func orgTarget(tenantID, id string) audit.Target {
	return audit.Target{TenantID: tenantID, Type: audit.TypeOrganization, ID: id}
}

func (in *GetInput) Validate() error {
	return validate.TenantAndID(in.TenantID, in.ID)
}

func (s *service) get(ctx context.Context, c function.Caller, in GetInput) (store.Organization,
	error) {
	wide, err := Gate(c, in.TenantID)
	if err != nil {
		return store.Organization{}, err
	}
	if !wide {
		if err := s.reach(ctx, c, in.TenantID, in.ID, false); err != nil {
			return store.Organization{}, err
		}
	}
	return s.orgs.Get(ctx, in.TenantID, in.ID)
}

func (in *ListInput) Validate() error {
	if err := validate.ID("tenantId", in.TenantID); err != nil {
		return err
	}
	if in.ParentID != "" {
		return validate.ID("parentId", in.ParentID)
	}
	return nil
}

func (s *service) list(ctx context.Context, c function.Caller, in ListInput) (ListOutput,
	error) {
	wide, err := Gate(c, in.TenantID)
	if err != nil {
		return ListOutput{}, err
	}
	switch {
	case wide && in.ParentID == "":
		err = s.existingTenant(ctx, in.TenantID)
	case wide:
		_, err = s.orgs.Get(ctx, in.TenantID, in.ParentID)
	case in.ParentID == "":
		err = errs.New(errs.PermissionDenied,
			"organization administrators list inside their own organizations")
	default:
		err = s.reach(ctx, c, in.TenantID, in.ParentID, false)
	}
	if err != nil {
		return ListOutput{}, err
	}
	items, next, err := s.orgs.List(ctx, in.TenantID, in.ParentID,
		store.Page{After: in.After, Limit: in.First})
	if err != nil {
		return ListOutput{}, err
	}
	if items == nil {
		items = []store.Organization{}
	}
	return ListOutput{Items: items, Next: next}, nil
}

func (in *UpdateInput) Validate() error {
	if err := validate.ID("tenantId", in.TenantID); err != nil {
		return err
	}
	if err := validate.ID("id", in.ID); err != nil {
		return err
	}
	if in.Name != nil {
		if err := name("name", in.Name); err != nil {
			return err
		}
	}
	if in.DisplayName != nil {
		return validate.Text("displayName", *in.DisplayName, 200)
	}
	return nil
}

// update renames an organization. Organization administrators may change
// only organizations strictly below their own: their own organization is
// their grant, which only a tenant administrator changes.
func (s *service) update(ctx context.Context, c function.Caller,
	in UpdateInput) (store.Organization, error) {
	wide, err := Gate(c, in.TenantID)
	if err != nil {
		return store.Organization{}, err
	}
	if !wide {
		if err := s.reach(ctx, c, in.TenantID, in.ID, true); err != nil {
			return store.Organization{}, err
		}
	}
	now := s.stamp()
	var before store.Organization // as fn last saw it, which is what the update replaced
	o, err := s.orgs.Update(ctx, in.TenantID, in.ID,
		func(o store.Organization) (store.Organization, error) {
			before = o
			if in.Name != nil {
				o.Name = *in.Name
			}
			if in.DisplayName != nil {
				o.DisplayName = *in.DisplayName
			}
			o.UpdatedAt = now
			return o, nil
		})
	if err != nil {
		return store.Organization{}, err
	}
	s.audit.Record(ctx, c, "org.update", orgTarget(o.TenantID, o.ID),
		audit.Changes(audit.OrgFields(before), audit.OrgFields(o)))
	return o, nil
}

func (in *DeleteInput) Validate() error {
	return validate.TenantAndID(in.TenantID, in.ID)
}

// delete removes an organization without children or users, under the
// same rule as update. An organization never moves, so what reach checked
// still holds when the store deletes.
func (s *service) delete(ctx context.Context, c function.Caller, in DeleteInput) (DeleteOutput,
	error) {
	wide, err := Gate(c, in.TenantID)
	if err != nil {
		return DeleteOutput{}, err
	}
	if !wide {
		if err := s.reach(ctx, c, in.TenantID, in.ID, true); err != nil {
			return DeleteOutput{}, err
		}
	}
	if err := s.orgs.Delete(ctx, in.TenantID, in.ID); err != nil {
		return DeleteOutput{}, err
	}
	// The action says it all: the organization's fields are not read
	// again only to be recorded.
	s.audit.Record(ctx, c, "org.delete", orgTarget(in.TenantID, in.ID), nil)
	return DeleteOutput{ID: in.ID}, nil
}
