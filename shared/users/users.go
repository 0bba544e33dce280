// Package users is the users service: the user store's administration
// operations. System administrators and the tenant's own administrators
// manage a tenant's users and set their passwords; organization
// administrators do the same for the users of the organizations they reach
// (package orgs says who reaches what); a user may read their own record
// and change their own password; Ward's own components verify passwords
// (see passwords.go).
package users

import (
	"context"
	"log/slog"
	"regexp"
	"time"

	"github.com/wardhq/ward/shared/attributes"
	"github.com/wardhq/ward/shared/audit"
	"github.com/wardhq/ward/shared/cache"
	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/messaging"
	"github.com/wardhq/ward/shared/orgs"
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
	Cache  cache.Cache       // import progress; nil: imports answer UNAVAILABLE
	// Sessions ends a user's sessions when update makes the user other
	// than ACTIVE and before delete removes the user (sessions.Revoker in
	// deployments). Nil ends none: for a deployment without the sessions
	// service.
	Sessions SessionRevoker
}

// SessionRevoker ends every session of a user and reports how many were
// live.
type SessionRevoker interface {
	RevokeUser(ctx context.Context, tenantID, userID string) (int, error)
}

type service struct {
	tenants store.Tenants
	users   store.Users
	orgs    store.Organizations
	creds   store.Credentials
	factors store.Factors
	hasher  *passwords.Hasher
	now     func() time.Time
	log     *slog.Logger
	audit   audit.Recorder
	cache   cache.Cache
	groups  store.Groups
	revoker SessionRevoker
}

// Function returns the users function.
func Function(d Deps) *function.Function {
	s := &service{
		tenants: d.Store.Tenants(), users: d.Store.Users(), orgs: d.Store.Organizations(),
		creds: d.Store.Credentials(), factors: d.Store.Factors(),
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
	s.cache, s.groups, s.revoker = d.Cache, d.Store.Groups(), d.Sessions
	s.audit = audit.Recorder{Audit: d.Store.Audit(), Log: s.log, Now: s.now}
	f := function.New(FunctionName)
	function.Op(f, OpCreate, s.create)
	function.Op(f, OpGet, s.get)
	function.Op(f, OpList, s.list)
	function.Op(f, OpUpdate, s.update)
	function.Op(f, OpDelete, s.delete)
	function.Op(f, OpSetPassword, s.setPassword)
	function.Op(f, OpChangePassword, s.changePassword)
	function.Op(f, OpVerifyPassword, s.verifyPassword)
	registerLookups(f, s)
	function.Op(f, OpImportUsers, s.importUsers)
	function.Op(f, OpImportStatus, s.importStatus)
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
	if in.OrgID != "" {
		if err := validate.ID("orgId", in.OrgID); err != nil {
			return err
		}
	}
	if in.Status == "" {
		in.Status = store.UserActive
	}
	if err := validStatus("status", in.Status); err != nil {
		return err
	}
	if in.EmailVerified && in.Email == "" {
		return errs.Invalid("emailVerified", "needs an email")
	}
	if in.PhoneVerified && in.Phone == "" {
		return errs.Invalid("phoneVerified", "needs a phone")
	}
	if in.Locale, err = validLocale("locale", in.Locale); err != nil {
		return err
	}
	if len(in.Preferences) > 0 {
		patch := make(map[string]*string, len(in.Preferences))
		for k, v := range in.Preferences {
			patch[k] = &v
		}
		if in.Preferences, err = attributes.ApplyPreferences(nil, patch); err != nil {
			return err
		}
	}
	return validate.Text("displayName", in.DisplayName, 200)
}

// validLocale accepts "" or a BCP 47 language tag, returned in canonical
// case.
func validLocale(field, s string) (string, error) {
	if s == "" {
		return "", nil
	}
	l, err := messaging.ParseLocale(s)
	if err != nil {
		return "", errs.Invalid(field, "must be a language tag such as en or fr-CA")
	}
	return string(l), nil
}

// CheckAttributes checks a complete set of attributes against a tenant's
// schema, as users.create does; selfService limits it to the attributes
// users may set themselves. Package attributes has the merge of a patch.
func CheckAttributes(schema []store.AttributeDef, attrs map[string]any, selfService bool) error {
	w := attributes.Admin
	if selfService {
		w = attributes.SelfService
	}
	return attributes.Check(schema, attrs, w)
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

// userNotFound is the one answer for a user outside the caller's reach,
// whether the user exists or not.
func userNotFound() error { return errs.New(errs.NotFound, "user not found") }

// reachOrg checks that c administers organization orgID (NOT_FOUND when
// not). Tenant-wide administrators reach every organization without a
// read; an empty orgID (tenant level) is theirs alone.
func (s *service) reachOrg(ctx context.Context, c function.Caller, tenantID,
	orgID string) error {
	ok, err := orgs.Reaches(ctx, s.orgs, c, tenantID, orgID, false)
	if err != nil {
		return err
	}
	if !ok {
		return errs.New(errs.NotFound, "organization not found")
	}
	return nil
}

// reachUser reads user id for c: every user of the tenant for tenant-wide
// administrators, only the users of the organizations they reach for
// organization administrators. Anything else is NOT_FOUND, exactly like a
// missing user. It starts with orgs.Gate.
//
// Known shortcoming: the answer is the same, but not its timing. A user out
// of reach costs the walk up the organization tree, a missing one does
// not, so an organization administrator who can time requests closely may
// tell them apart. The same holds for organizations in package orgs.
func (s *service) reachUser(ctx context.Context, c function.Caller, tenantID,
	id string) (store.User, error) {
	wide, err := orgs.Gate(c, tenantID)
	if err != nil {
		return store.User{}, err
	}
	u, err := s.users.Get(ctx, tenantID, id)
	if err != nil || wide {
		return u, err
	}
	if err := s.reachOrg(ctx, c, tenantID, u.OrgID); err != nil {
		if errs.CodeOf(err) == errs.NotFound {
			return store.User{}, userNotFound()
		}
		return store.User{}, err
	}
	return u, nil
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
	wide, err := orgs.Gate(c, in.TenantID)
	if err != nil {
		return store.User{}, err
	}
	if !wide {
		if in.OrgID == "" {
			return store.User{}, errs.New(errs.PermissionDenied,
				"organization administrators create users inside their organizations")
		}
		if err := s.reachOrg(ctx, c, in.TenantID, in.OrgID); err != nil {
			return store.User{}, err
		}
	}
	tn, err := s.tenant(ctx, in.TenantID)
	if err != nil {
		return store.User{}, err
	}
	attrs, err := attributes.Apply(tn.UserSchema, nil, in.Attributes, attributes.Admin)
	if err != nil {
		return store.User{}, err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	u := store.User{
		ID:            validate.NewID(),
		TenantID:      in.TenantID,
		Username:      in.Username,
		Email:         in.Email,
		EmailVerified: in.EmailVerified,
		Phone:         in.Phone,
		PhoneVerified: in.PhoneVerified,
		DisplayName:   in.DisplayName,
		Status:        in.Status,
		OrgID:         in.OrgID,
		Attributes:    attrs,
		Locale:        in.Locale,
		Preferences:   in.Preferences,
		CreatedAt:     now,
		UpdatedAt:     now,
	}

	// The password is checked and hashed before anything is written, so
	// that a refused password leaves no user behind.
	var hash string
	if in.Password != "" {
		if hash, err = s.newHash("password", in.Password, u, tn, false); err != nil {
			return store.User{}, err
		}
	}

	return s.storeNewUser(ctx, c, u, hash, nil, now)
}

// recordCreate records a created user; withPassword notes, without the
// password, that one was set.
func (s *service) recordCreate(ctx context.Context, c function.Caller, u store.User,
	withPassword bool) {
	changes := audit.Changes(nil, audit.UserFields(u))
	if withPassword {
		if changes == nil {
			changes = map[string]store.AuditChange{}
		}
		changes["password"] = store.AuditChange{New: audit.SecretChanged}
	}
	s.audit.Record(ctx, c, "user.create", userTarget(u.TenantID, u.ID), changes)
}

func userTarget(tenantID, id string) audit.Target {
	return audit.Target{TenantID: tenantID, Type: audit.TypeUser, ID: id}
}

func (in *GetInput) Validate() error {
	return validate.TenantAndID(in.TenantID, in.ID)
}

func (s *service) get(ctx context.Context, c function.Caller, in GetInput) (store.User, error) {
	self := !c.Anonymous() && c.Tenant == in.TenantID && c.Subject == in.ID
	// Ward's own components read a user too: the UserInfo endpoint, for
	// the subject of an access token it has verified.
	if self || c.Has(function.RoleService) {
		return s.users.Get(ctx, in.TenantID, in.ID)
	}
	return s.reachUser(ctx, c, in.TenantID, in.ID)
}

func (in *ListInput) Validate() error {
	if err := validate.ID("tenantId", in.TenantID); err != nil {
		return err
	}
	if err := in.validFilter(); err != nil {
		return err
	}
	if in.OrgID != "" {
		return validate.ID("orgId", in.OrgID)
	}
	return nil
}

func (s *service) list(ctx context.Context, c function.Caller, in ListInput) (ListOutput, error) {
	wide, err := orgs.Gate(c, in.TenantID)
	if err != nil {
		return ListOutput{}, err
	}
	switch {
	case !wide && in.OrgID == "":
		return ListOutput{}, errs.New(errs.PermissionDenied,
			"organization administrators list the users of one of their organizations")
	case !wide:
		err = s.reachOrg(ctx, c, in.TenantID, in.OrgID)
	case in.OrgID != "":
		if _, err = s.orgs.Get(ctx, in.TenantID, in.OrgID); errs.CodeOf(err) == errs.NotFound {
			err = errs.New(errs.NotFound, "organization not found")
		}
	default:
		_, err = s.tenant(ctx, in.TenantID)
	}
	if err != nil {
		return ListOutput{}, err
	}
	page := store.Page{After: in.After, Limit: in.First}
	var items []store.User
	var next string
	switch {
	case filterSet(in.Filter):
		f := *in.Filter
		f.OrgID = in.OrgID // the scope checked above
		items, next, err = s.users.Search(ctx, in.TenantID, f, page)
	case in.OrgID != "":
		items, next, err = s.users.ListByOrg(ctx, in.TenantID, in.OrgID, page)
	default:
		items, next, err = s.users.List(ctx, in.TenantID, page)
	}
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
	if in.OrgID != nil && *in.OrgID != "" {
		if err := validate.ID("orgId", *in.OrgID); err != nil {
			return err
		}
	}
	if in.Phone != nil {
		if err := validPhone("phone", *in.Phone); err != nil {
			return err
		}
	}
	if in.Locale != nil {
		l, err := validLocale("locale", *in.Locale)
		if err != nil {
			return err
		}
		in.Locale = &l
	}
	if in.DisplayName != nil {
		return validate.Text("displayName", *in.DisplayName, 200)
	}
	return nil
}

// update checks reach inside fn, on the user as it is being changed, so
// that a user moved out of the caller's reach meanwhile is not changed.
func (s *service) update(ctx context.Context, c function.Caller, in UpdateInput) (store.User, error) {
	wide, err := orgs.Gate(c, in.TenantID)
	if err != nil {
		return store.User{}, err
	}
	var schema []store.AttributeDef
	if in.Attributes != nil {
		tn, err := s.tenant(ctx, in.TenantID)
		if err != nil {
			return store.User{}, err
		}
		schema = tn.UserSchema
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	var before store.User // as fn last saw it, which is what the update replaced
	u, err := s.users.Update(ctx, in.TenantID, in.ID, func(u store.User) (store.User, error) {
		before = u
		if !wide {
			if err := s.reachOrg(ctx, c, in.TenantID, u.OrgID); err != nil {
				if errs.CodeOf(err) == errs.NotFound {
					return u, userNotFound()
				}
				return u, err
			}
		}
		if in.OrgID != nil && *in.OrgID != u.OrgID {
			if err := s.reachOrg(ctx, c, in.TenantID, *in.OrgID); err != nil {
				return u, err
			}
			u.OrgID = *in.OrgID
		}
		if in.Username != nil {
			u.Username = *in.Username
		}
		if in.Email != nil && *in.Email != u.Email {
			u.Email, u.EmailVerified = *in.Email, false
		}
		if in.EmailVerified != nil {
			u.EmailVerified = *in.EmailVerified
		}
		if in.Phone != nil && *in.Phone != u.Phone {
			u.Phone, u.PhoneVerified = *in.Phone, false
		}
		if in.PhoneVerified != nil {
			u.PhoneVerified = *in.PhoneVerified
		}
		if u.EmailVerified && u.Email == "" {
			return u, errs.Invalid("emailVerified", "needs an email")
		}
		if u.PhoneVerified && u.Phone == "" {
			return u, errs.Invalid("phoneVerified", "needs a phone")
		}
		if in.DisplayName != nil {
			u.DisplayName = *in.DisplayName
		}
		if in.Status != nil {
			u.Status = *in.Status
		}
		if in.Locale != nil {
			u.Locale = *in.Locale
		}
		if in.Attributes != nil {
			attrs, err := attributes.Apply(schema, u.Attributes, in.Attributes, attributes.Admin)
			if err != nil {
				return u, err
			}
			u.Attributes = attrs
		}
		if in.Preferences != nil {
			prefs, err := attributes.ApplyPreferences(u.Preferences, in.Preferences)
			if err != nil {
				return u, err
			}
			u.Preferences = prefs
		}
		u.UpdatedAt = now
		return u, nil
	})
	if err != nil {
		return store.User{}, err
	}
	changes := audit.Changes(audit.UserFields(before), audit.UserFields(u))
	if before.Status == store.UserActive && u.Status != store.UserActive {
		s.endSessions(ctx, u)
	}
	s.audit.Record(ctx, c, "user.update", userTarget(u.TenantID, u.ID), changes)
	return u, nil
}

// endSessions ends the sessions of a user who is no longer ACTIVE. The
// change of status stands whatever happens here: a failure is logged, and
// the sessions service refuses the user's sessions anyway from their next
// check of the user, at most a minute later.
func (s *service) endSessions(ctx context.Context, u store.User) {
	if s.revoker == nil {
		return
	}
	if _, err := s.revoker.RevokeUser(ctx, u.TenantID, u.ID); err != nil {
		s.log.LogAttrs(ctx, slog.LevelError, "users: ending the sessions of a user made "+
			string(u.Status)+" failed", slog.String("request_id", function.RequestID(ctx)),
			slog.String("tenant", u.TenantID), slog.String("error", err.Error()))
	}
}

func (in *DeleteInput) Validate() error {
	return validate.TenantAndID(in.TenantID, in.ID)
}

// delete checks reach, ends the user's sessions, then deletes. Known shortcoming: the store's
// Delete is unconditional, so a user moved out of an organization
// administrator's reach in the instant between the two is deleted all the
// same; a delete conditional on the version read would close that.
func (s *service) delete(ctx context.Context, c function.Caller, in DeleteInput) (DeleteOutput, error) {
	u, err := s.reachUser(ctx, c, in.TenantID, in.ID)
	if err != nil {
		return DeleteOutput{}, err
	}
	// The sessions end first: a user who cannot be signed out is not
	// deleted either.
	if s.revoker != nil {
		if _, err := s.revoker.RevokeUser(ctx, in.TenantID, in.ID); err != nil {
			return DeleteOutput{}, err
		}
	}
	if err := s.users.Delete(ctx, in.TenantID, in.ID); err != nil {
		return DeleteOutput{}, err
	}
	s.audit.Record(ctx, c, "user.delete", userTarget(in.TenantID, in.ID),
		audit.Changes(audit.UserFields(u), nil))
	return DeleteOutput{ID: in.ID}, nil
}
