package users

import (
	"context"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/orgs"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/validate"
)

// Lookups find one user by a unique key of the tenant, for directory
// clients (the LDAP listener) that are given names rather than IDs. They
// follow the reach rules of users.get:
//
//   - tenant-wide administrators read every user of the tenant;
//   - organization administrators read the users of the organizations
//     they reach, and get NOT_FOUND for any other, as for a missing one;
//   - a user reads their own record; any other name, taken or not, is
//     PERMISSION_DENIED, so that a plain user cannot probe which names
//     exist;
//   - anonymous callers are UNAUTHENTICATED and callers of another tenant
//     NOT_FOUND, before any read.
const (
	// OpGetByUsername reads the user with a username.
	OpGetByUsername = "users.getByUsername"
	// OpGetByEmail reads the user with an email address.
	OpGetByEmail = "users.getByEmail"
)

// GetByUsernameInput names a user by username; the username is folded to
// lower case, as stored.
type GetByUsernameInput struct {
	TenantID string `json:"tenantId"`
	Username string `json:"username"`
}

// GetByEmailInput names a user by email address; the address is folded
// to lower case, as stored.
type GetByEmailInput struct {
	TenantID string `json:"tenantId"`
	Email    string `json:"email"`
}

// registerLookups adds the lookup operations to the users function.
func registerLookups(f *function.Function, s *service) {
	function.Op(f, OpGetByUsername, s.getByUsername)
	function.Op(f, OpGetByEmail, s.getByEmail)
}

func (in *GetByUsernameInput) Validate() error {
	if err := validate.ID("tenantId", in.TenantID); err != nil {
		return err
	}
	var err error
	in.Username, err = validate.Username("username", in.Username)
	return err
}

func (in *GetByEmailInput) Validate() error {
	if err := validate.ID("tenantId", in.TenantID); err != nil {
		return err
	}
	var err error
	if in.Email, err = validate.Email("email", in.Email); err != nil {
		return err
	}
	if in.Email == "" {
		return errs.Invalid("email", "is required")
	}
	return nil
}

func (s *service) getByUsername(ctx context.Context, c function.Caller,
	in GetByUsernameInput) (store.User, error) {
	return s.lookup(ctx, c, in.TenantID, func() (store.User, error) {
		return s.users.GetByUsername(ctx, in.TenantID, in.Username)
	})
}

func (s *service) getByEmail(ctx context.Context, c function.Caller,
	in GetByEmailInput) (store.User, error) {
	return s.lookup(ctx, c, in.TenantID, func() (store.User, error) {
		return s.users.GetByEmail(ctx, in.TenantID, in.Email)
	})
}

// lookup reads a user with read and applies the reach rules above. A plain
// user of the tenant passes the gate only so that their own record can be
// recognised once read; whatever else the read finds, or does not find,
// they are told PERMISSION_DENIED, the gate's own answer.
func (s *service) lookup(ctx context.Context, c function.Caller, tenantID string,
	read func() (store.User, error)) (store.User, error) {
	wide, gateErr := orgs.Gate(c, tenantID)
	if gateErr != nil && errs.CodeOf(gateErr) != errs.PermissionDenied {
		return store.User{}, gateErr
	}
	u, err := read()
	switch {
	case err == nil && u.ID == c.Subject && c.Tenant == tenantID:
		return u, nil
	case gateErr != nil:
		return store.User{}, gateErr
	case errs.CodeOf(err) == errs.NotFound:
		return store.User{}, userNotFound()
	case err != nil:
		return store.User{}, err
	case wide:
		return u, nil
	}
	if err := s.reachOrg(ctx, c, tenantID, u.OrgID); err != nil {
		if errs.CodeOf(err) == errs.NotFound {
			return store.User{}, userNotFound()
		}
		return store.User{}, err
	}
	return u, nil
}
