package orgs

import (
	"context"
	"slices"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/store"
)

// Who administers what, for organizations and the users in them:
//
//   - system administrators: every tenant;
//   - tenant administrators: every organization and user of their tenant;
//   - organization administrators (function.RoleOrgAdmin): the
//     organizations in Caller.Orgs, inside Caller.Tenant, every
//     organization below them, and the users of all these. They may create
//     organizations inside those, but not at top level, and may rename or
//     delete only organizations strictly below their own.
//
// Anything of a tenant outside a caller's reach is NOT_FOUND, whether it
// exists or not, so that IDs cannot be probed. Plain users of the tenant
// are told PERMISSION_DENIED before any read, which tells them nothing
// about any ID either.

// TenantWide reports whether c administers all of tenantID.
func TenantWide(c function.Caller, tenantID string) bool {
	if c.Anonymous() {
		return false
	}
	return c.Has(function.RoleSystemAdmin) ||
		(c.Has(function.RoleTenantAdmin) && c.Tenant != "" && c.Tenant == tenantID)
}

// OrgAdminIn reports whether c is an organization administrator in
// tenantID (and not more).
func OrgAdminIn(c function.Caller, tenantID string) bool {
	return !c.Anonymous() && c.Has(function.RoleOrgAdmin) && c.Tenant != "" &&
		c.Tenant == tenantID && len(c.Orgs) > 0
}

// Gate is the check every organization or user administration operation
// starts with, before any read: UNAUTHENTICATED for anonymous callers,
// NOT_FOUND for callers outside the tenant, PERMISSION_DENIED for callers
// of the tenant who administer nothing in it. It returns whether c
// administers the whole tenant; when false, c is an organization
// administrator whose reach the operation checks with Reaches.
func Gate(c function.Caller, tenantID string) (tenantWide bool, err error) {
	switch {
	case c.Anonymous():
		return false, errs.New(errs.Unauthenticated, "authentication required")
	case TenantWide(c, tenantID):
		return true, nil
	case c.Tenant == "" || c.Tenant != tenantID:
		return false, errs.New(errs.NotFound, "tenant not found")
	case OrgAdminIn(c, tenantID):
		return false, nil
	}
	return false, errs.New(errs.PermissionDenied, "not an administrator in this tenant")
}

// Reaches reports whether c administers organization orgID of tenantID:
// whether orgID, or one of its ancestors, is in c.Orgs. With strict set,
// orgID itself being in c.Orgs is not enough: an ancestor must be. It
// walks up the tree through the store, at most store.MaxOrgDepth reads;
// a missing organization is reached by nobody (false, nil). Tenant-wide
// administrators reach every organization, without a read.
func Reaches(ctx context.Context, st store.Organizations, c function.Caller, tenantID,
	orgID string, strict bool) (bool, error) {
	if TenantWide(c, tenantID) {
		return true, nil
	}
	if !OrgAdminIn(c, tenantID) || orgID == "" {
		return false, nil
	}
	id := orgID
	for range store.MaxOrgDepth {
		o, err := st.Get(ctx, tenantID, id)
		if errs.CodeOf(err) == errs.NotFound {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		if slices.Contains(c.Orgs, o.ID) && (!strict || o.ID != orgID) {
			return true, nil
		}
		if o.ParentID == "" {
			return false, nil
		}
		id = o.ParentID
	}
	// Deeper than the store allows: a corrupt tree reaches nobody.
	return false, nil
}

// orgNotFound is the one answer for an organization outside the caller's
// reach, whether it exists or not.
func orgNotFound() error { return errs.New(errs.NotFound, "organization not found") }

// AdministersUser is the check of an operation an administrator may run on
// one user of tenantID: Gate first (with its errors), then the user,
// read from st, must exist and, for an organization administrator, be in
// an organization c reaches. A missing user and one out of reach are both
// NOT_FOUND "user not found", so the answer tells nothing of users beyond
// the caller's reach.
func AdministersUser(ctx context.Context, st store.Store, c function.Caller, tenantID,
	userID string) error {
	wide, err := Gate(c, tenantID)
	if err != nil {
		return err
	}
	u, err := st.Users().Get(ctx, tenantID, userID)
	if errs.CodeOf(err) == errs.NotFound {
		return errs.New(errs.NotFound, "user not found")
	}
	if err != nil || wide {
		return err
	}
	ok, err := Reaches(ctx, st.Organizations(), c, tenantID, u.OrgID, false)
	if err == nil && !ok {
		err = errs.New(errs.NotFound, "user not found")
	}
	return err
}
