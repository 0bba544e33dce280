// Package users is the users service: the user store's administration
// operations. System administrators and the tenant's own administrators
// manage a tenant's users and set their passwords; a user may read their
// own record and change their own password; Ward's own components verify
// passwords (see passwords.go).
package users

import (
	"context"
	"log/slog"
	"regexp"
	"time"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/passwords"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/validate"
)

// Deps are what the service needs.
type Deps struct {
	Store  store.Store
	Now    func() time.Time  // nil: time.Now
	Hasher *passwords.Hasher // nil: passwords.Default()
	Log    *slog.Logger      // nil: slog.Default()
}

type service struct {
	tenants store.Tenants
	users   store.Users
	creds   store.Credentials
	hasher  *passwords.Hasher
	now     func() time.Time
	log     *slog.Logger
}

// Function returns the users function.
func Function(d Deps) *function.Function {
	s := &service{
		tenants: d.Store.Tenants(), users: d.Store.Users(), creds: d.Store.Credentials(),
		hasher: d.Hasher, now: d.Now, log: d.Log,
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.hasher == nil {
		s.hasher = passwords.Default()
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	f := function.New(FunctionName)
	function.Op(f, OpCreate, s.create)
	function.Op(f, OpGet, s.get)
	function.Op(f, OpList, s.list)
	function.Op(f, OpUpdate, s.update)
	function.Op(f, OpDelete, s.delete)
	function.Op(f, OpSetPassword, s.setPassword)
	function.Op(f, OpChangePassword, s.changePassword)
	function.Op(f, OpVerifyPassword, s.verifyPassword)
	return f
}

func validStatus(field string, st store.UserStatus) error {
	switch st {
	case store.UserActive, store.UserLocked, store.UserDisabled, store.UserPending:
		return nil
	}
	return errs.Invalid(field, "must be one of ACTIVE, LOCKED, DISABLED, PENDING")
}

// Validate checks and normalises the input (username and email folded).
func (in *CreateInput) Validate() error {
	if err := validate.ID("tenantId", in.TenantID); err != nil {
		return err
	}
	var err error
	if in.Username, err = validate.Username("username", in.Username); err != nil {
		return err
	}
	if in.Email, err = validate.Email("email", in.Email); err != nil {
		return err
	}
	if err := validPhone("phone", in.Phone); err != nil {
		return err
	}
	if err := plausible("password", in.Password, false); err != nil {
		return err
	}
	if in.Status == "" {
		in.Status = store.UserActive
	}
	if err := validStatus("status", in.Status); err != nil {
		return err
	}
	return validate.Text("displayName", in.DisplayName, 200)
}

// e164 is an international phone number as ITU-T E.164 writes it: a plus,
// a country code that does not start with 0, and at most 15 digits in all.
// The lower bound of 7 digits is Ward's: no shorter number is in service.
var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// validPhone accepts "" (no phone) or an E.164 number.
func validPhone(field, s string) error {
	if s != "" && !e164.MatchString(s) {
		return errs.Invalid(field, "must be an E.164 number: + and 7 to 15 digits, "+
			"without spaces, starting with the country code")
	}
	return nil
}

// admin checks that c administers the tenant. Callers outside the tenant
// get NOT_FOUND for the tenant, whether or not it exists, so that tenant IDs
// cannot be probed.
func admin(c function.Caller, tenantID string) error {
	if c.Anonymous() {
		return errs.New(errs.Unauthenticated, "authentication required")
	}
	if !c.Has(function.RoleSystemAdmin) && c.Tenant != tenantID {
		return errs.New(errs.NotFound, "tenant not found")
	}
	return c.RequireTenantAdmin(tenantID)
}

// adminOfExisting is admin plus a check that the tenant exists, for the
// operations where a missing tenant would otherwise pass unnoticed (create,
// list). Reads and writes of one user need no such check: a user of a
// missing tenant is simply not found. It returns the tenant.
func (s *service) adminOfExisting(ctx context.Context, c function.Caller,
	tenantID string) (store.Tenant, error) {
	if err := admin(c, tenantID); err != nil {
		return store.Tenant{}, err
	}
	return s.tenant(ctx, tenantID)
}

// tenant reads a tenant, reporting a missing one as NOT_FOUND.
func (s *service) tenant(ctx context.Context, tenantID string) (store.Tenant, error) {
	t, err := s.tenants.Get(ctx, tenantID)
	if errs.CodeOf(err) == errs.NotFound {
		return store.Tenant{}, errs.New(errs.NotFound, "tenant not found")
	}
	return t, err
}

func (s *service) create(ctx context.Context, c function.Caller, in CreateInput) (store.User, error) {
	tn, err := s.adminOfExisting(ctx, c, in.TenantID)
	if err != nil {
		return store.User{}, err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	u := store.User{
		ID:          validate.NewID(),
		TenantID:    in.TenantID,
		Username:    in.Username,
		Email:       in.Email,
		Phone:       in.Phone,
		DisplayName: in.DisplayName,
		Status:      in.Status,
		CreatedAt:   now,
		UpdatedAt:   now,
	}

	// The password is checked and hashed before anything is written, so
	// that a refused password leaves no user behind.
	var hash string
	if in.Password != "" {
		if hash, err = s.newHash("password", in.Password, u, tn); err != nil {
			return store.User{}, err
		}
	}

	u, err = s.users.Create(ctx, u)
	if err != nil || hash == "" {
		return u, err
	}
	if err := s.creds.SetPassword(ctx, u.TenantID, u.ID, hash, now); err != nil {
		// The user and its password are two writes. When the second fails
		// the first is undone, so that no user exists without the password
		// the caller asked for and the caller may simply try again. The
		// undo outlives a cancelled request: its need is already decided.
		dctx := context.WithoutCancel(ctx)
		if derr := s.users.Delete(dctx, u.TenantID, u.ID); derr != nil {
			s.log.LogAttrs(ctx, slog.LevelError,
				"users: a user whose password could not be stored was not deleted either",
				slog.String("request_id", function.RequestID(ctx)),
				slog.String("tenant", u.TenantID), slog.String("user", u.ID),
				slog.String("error", derr.Error()))
		}
		return store.User{}, err
	}
	return u, nil
}

func (in *GetInput) Validate() error {
	if err := validate.ID("tenantId", in.TenantID); err != nil {
		return err
	}
	return validate.ID("id", in.ID)
}

func (s *service) get(ctx context.Context, c function.Caller, in GetInput) (store.User, error) {
	self := !c.Anonymous() && c.Tenant == in.TenantID && c.Subject == in.ID
	if !self {
		if err := admin(c, in.TenantID); err != nil {
			return store.User{}, err
		}
	}
	return s.users.Get(ctx, in.TenantID, in.ID)
}

func (in *ListInput) Validate() error { return validate.ID("tenantId", in.TenantID) }

func (s *service) list(ctx context.Context, c function.Caller, in ListInput) (ListOutput, error) {
	if _, err := s.adminOfExisting(ctx, c, in.TenantID); err != nil {
		return ListOutput{}, err
	}
	items, next, err := s.users.List(ctx, in.TenantID, store.Page{After: in.After, Limit: in.First})
	if err != nil {
		return ListOutput{}, err
	}
	if items == nil {
		items = []store.User{}
	}
	return ListOutput{Items: items, Next: next}, nil
}

// Validate checks and normalises the fields that are set.
func (in *UpdateInput) Validate() error {
	if err := validate.ID("tenantId", in.TenantID); err != nil {
		return err
	}
	if err := validate.ID("id", in.ID); err != nil {
		return err
	}
	if in.Username != nil {
		u, err := validate.Username("username", *in.Username)
		if err != nil {
			return err
		}
		in.Username = &u
	}
	if in.Email != nil {
		e, err := validate.Email("email", *in.Email)
		if err != nil {
			return err
		}
		in.Email = &e
	}
	if in.Status != nil {
		if err := validStatus("status", *in.Status); err != nil {
			return err
		}
	}
	if in.DisplayName != nil {
		return validate.Text("displayName", *in.DisplayName, 200)
	}
	return nil
}

func (s *service) update(ctx context.Context, c function.Caller, in UpdateInput) (store.User, error) {
	if err := admin(c, in.TenantID); err != nil {
		return store.User{}, err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	return s.users.Update(ctx, in.TenantID, in.ID, func(u store.User) (store.User, error) {
		if in.Username != nil {
			u.Username = *in.Username
		}
		if in.Email != nil {
			u.Email = *in.Email
		}
		if in.DisplayName != nil {
			u.DisplayName = *in.DisplayName
		}
		if in.Status != nil {
			u.Status = *in.Status
		}
		u.UpdatedAt = now
		return u, nil
	})
}

func (in *DeleteInput) Validate() error {
	if err := validate.ID("tenantId", in.TenantID); err != nil {
		return err
	}
	return validate.ID("id", in.ID)
}

func (s *service) delete(ctx context.Context, c function.Caller, in DeleteInput) (DeleteOutput, error) {
	if err := admin(c, in.TenantID); err != nil {
		return DeleteOutput{}, err
	}
	if err := s.users.Delete(ctx, in.TenantID, in.ID); err != nil {
		return DeleteOutput{}, err
	}
	return DeleteOutput{ID: in.ID}, nil
}
