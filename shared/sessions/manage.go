package sessions

import (
	"context"
	"strconv"

	"github.com/wardhq/ward/shared/audit"
	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/orgs"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/validate"
)

// auditSession is the audit target type of a session.
const auditSession = "session"

// self reports whether c is user userID of tenantID.
func self(c function.Caller, tenantID, userID string) bool {
	return !c.Anonymous() && c.Tenant != "" && c.Tenant == tenantID && c.Subject == userID
}

func userNotFound() error { return errs.New(errs.NotFound, "user not found") }

// reachUser checks that c may see and end the sessions of user userID of
// tenantID: the user themselves, or an administrator who reaches the user
// (admin is then true). It starts with orgs.Gate, like the users service:
// UNAUTHENTICATED for anonymous callers, NOT_FOUND outside the tenant,
// PERMISSION_DENIED for the tenant's users who administer nothing, and
// NOT_FOUND for a user out of an organization administrator's reach.
func (s *service) reachUser(ctx context.Context, c function.Caller, tenantID,
	userID string) (admin bool, err error) {
	if self(c, tenantID, userID) {
		return false, nil
	}
	if err := orgs.AdministersUser(ctx, s.st, c, tenantID, userID); err != nil {
		return false, err
	}
	return true, nil
}

// reachSession reads session id of tenantID for c: for its own user, or
// an administrator who reaches that user. A session out of reach, or of
// another user than userID when that is set, is NOT_FOUND exactly like a
// missing one; callers outside the tenant are told so before any read.
func (s *service) reachSession(ctx context.Context, c function.Caller, tenantID, id,
	userID string) (r store.Session, admin bool, err error) {
	if c.Anonymous() {
		return store.Session{}, false, errs.New(errs.Unauthenticated, "authentication required")
	}
	if !c.Has(function.RoleSystemAdmin) && c.Tenant != tenantID {
		return store.Session{}, false, sessionNotFound()
	}
	r, err = s.st.Sessions().Get(ctx, tenantID, id)
	if errs.CodeOf(err) == errs.NotFound || (err == nil && userID != "" && r.UserID != userID) {
		return store.Session{}, false, sessionNotFound()
	}
	if err != nil {
		return store.Session{}, false, err
	}
	admin, err = s.reachUser(ctx, c, tenantID, r.UserID)
	switch errs.CodeOf(err) {
	case errs.NotFound, errs.PermissionDenied:
		return store.Session{}, false, sessionNotFound()
	}
	if err != nil {
		return store.Session{}, false, err
	}
	return r, admin, nil
}

func (in *GetInput) Validate() error { return validate.TenantAndID(in.TenantID, in.ID) }

func (s *service) get(ctx context.Context, c function.Caller, in GetInput) (Session, error) {
	r, _, err := s.reachSession(ctx, c, in.TenantID, in.ID, "")
	if err != nil {
		return Session{}, err
	}
	return publicSession(r), nil
}

func (in *ListInput) Validate() error {
	if err := validate.ID("tenantId", in.TenantID); err != nil {
		return err
	}
	return validate.ID("userId", in.UserID)
}

func (s *service) list(ctx context.Context, c function.Caller, in ListInput) (ListOutput,
	error) {
	if _, err := s.reachUser(ctx, c, in.TenantID, in.UserID); err != nil {
		return ListOutput{}, err
	}
	items, next, err := s.st.Sessions().ListByUser(ctx, in.TenantID, in.UserID,
		store.Page{After: in.After, Limit: in.First})
	if err != nil {
		return ListOutput{}, err
	}
	out := ListOutput{Items: make([]Session, 0, len(items)), Next: next}
	for _, r := range items {
		out.Items = append(out.Items, publicSession(r))
	}
	return out, nil
}

func (in *RevokeInput) Validate() error {
	if err := validate.TenantAndID(in.TenantID, in.ID); err != nil {
		return err
	}
	if in.UserID != "" {
		return validate.ID("userId", in.UserID)
	}
	return nil
}

// revoke ends one session: the record goes, then the cache entry gives
// way to a tombstone, so the token fails from the next validation on.
func (s *service) revoke(ctx context.Context, c function.Caller, in RevokeInput) (RevokeOutput,
	error) {
	r, admin, err := s.reachSession(ctx, c, in.TenantID, in.ID, in.UserID)
	if err != nil {
		return RevokeOutput{}, err
	}
	err = s.st.Sessions().Delete(ctx, in.TenantID, in.ID)
	if errs.CodeOf(err) == errs.NotFound {
		return RevokeOutput{}, sessionNotFound()
	}
	if err != nil {
		return RevokeOutput{}, err
	}
	s.tombstone(ctx, r.TokenHash)
	if admin {
		s.audit.Record(ctx, c, "session.revoke",
			audit.Target{TenantID: in.TenantID, Type: auditSession, ID: in.ID},
			map[string]store.AuditChange{"userId": {Old: r.UserID}})
	}
	return RevokeOutput{ID: in.ID}, nil
}

func (in *RevokeAllInput) Validate() error {
	if err := validate.ID("tenantId", in.TenantID); err != nil {
		return err
	}
	return validate.ID("userId", in.UserID)
}

// revokeAll ends every session of a user, or every one but the caller's
// own with KeepCurrent. Ward's own components may end anyone's (they act
// for a password reset or an account deletion and record it themselves).
func (s *service) revokeAll(ctx context.Context, c function.Caller, in RevokeAllInput) (
	RevokeAllOutput, error) {
	admin := false
	if !c.Has(function.RoleService) {
		var err error
		if admin, err = s.reachUser(ctx, c, in.TenantID, in.UserID); err != nil {
			return RevokeAllOutput{}, err
		}
	}
	if in.KeepCurrent && c.Session == "" {
		return RevokeAllOutput{}, errs.Invalid("keepCurrent",
			"the caller is not signed in with a session")
	}
	now := s.now()
	var ended []store.Session
	var err error
	if in.KeepCurrent {
		ended, err = s.revokeOthers(ctx, in.TenantID, in.UserID, c.Session)
	} else {
		ended, err = s.st.Sessions().DeleteByUser(ctx, in.TenantID, in.UserID)
	}
	n := 0
	for _, r := range ended { // even after a failure, what did end is refused at once
		s.tombstone(ctx, r.TokenHash)
		if !r.Expired(now) {
			n++
		}
	}
	if err != nil {
		return RevokeAllOutput{}, err
	}
	if admin {
		s.audit.Record(ctx, c, "session.revokeAll",
			audit.Target{TenantID: in.TenantID, Type: audit.TypeUser, ID: in.UserID},
			map[string]store.AuditChange{"revokedSessions": {New: strconv.Itoa(n)}})
	}
	return RevokeAllOutput{Revoked: n}, nil
}

// revokeOthers deletes the user's sessions but keep, one by one, and
// returns those it deleted.
func (s *service) revokeOthers(ctx context.Context, tenantID, userID, keep string) (
	[]store.Session, error) {
	var victims []store.Session
	after := ""
	for {
		items, next, err := s.st.Sessions().ListByUser(ctx, tenantID, userID,
			store.Page{After: after, Limit: store.MaxPageSize})
		if err != nil {
			return nil, err
		}
		for _, r := range items {
			if r.ID != keep {
				victims = append(victims, r)
			}
		}
		if next == "" {
			break
		}
		after = next
	}
	var ended []store.Session
	for _, r := range victims {
		err := s.st.Sessions().Delete(ctx, tenantID, r.ID)
		switch {
		case err == nil:
			ended = append(ended, r)
		case errs.CodeOf(err) != errs.NotFound: // ended meanwhile: nothing to do
			return ended, err
		}
	}
	return ended, nil
}
