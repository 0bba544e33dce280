package audit

import (
	"context"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/validate"
)

// Deps are what the function needs.
type Deps struct {
	Store store.Store
}

type service struct{ audit store.Audit }

// Function returns the audit function.
func Function(d Deps) *function.Function {
	s := &service{audit: d.Store.Audit()}
	f := function.New(FunctionName)
	function.Op(f, OpList, s.list)
	return f
}

func (in *ListInput) Validate() error {
	if in.TenantID != "" {
		if err := validate.ID("tenantId", in.TenantID); err != nil {
			return err
		}
	}
	if in.TargetID != "" {
		return validate.ID("targetId", in.TargetID)
	}
	return nil
}

// canRead allows system administrators, and a tenant's administrators its
// own trail. Callers outside the tenant get NOT_FOUND, so that tenant IDs
// cannot be probed; callers inside it who do not administer it all
// (organization administrators, users) get PERMISSION_DENIED.
func canRead(c function.Caller, tenantID string) error {
	switch {
	case c.Anonymous():
		return errs.New(errs.Unauthenticated, "authentication required")
	case c.Has(function.RoleSystemAdmin):
		return nil
	case tenantID == "":
		return errs.New(errs.PermissionDenied, "system administrator role required")
	case c.Tenant == "" || c.Tenant != tenantID:
		return errs.New(errs.NotFound, "tenant not found")
	}
	return c.RequireTenantAdmin(tenantID)
}

func (s *service) list(ctx context.Context, c function.Caller, in ListInput) (ListOutput, error) {
	if err := canRead(c, in.TenantID); err != nil {
		return ListOutput{}, err
	}
	items, next, err := s.audit.List(ctx, in.TenantID, store.AuditFilter{TargetID: in.TargetID},
		store.Page{After: in.After, Limit: in.First})
	if err != nil {
		return ListOutput{}, err
	}
	if items == nil {
		items = []store.AuditEvent{}
	}
	return ListOutput{Items: items, Next: next}, nil
}
