package account

import (
	"context"

	"github.com/wardhq/ward/shared/audit"
	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/messaging"
	"github.com/wardhq/ward/shared/orgs"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/validate"
)

// TypeInvitation is the audit target type of an invitation.
const TypeInvitation = "invitation"

func (in *InviteInput) Validate() error {
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
	if in.OrgID != "" {
		return validate.ID("orgId", in.OrgID)
	}
	return nil
}

// invite sends an invitation, valid InviteTTL, to an address that has no
// account in the tenant yet. Administrators may know whether an address
// has one, so a taken address is refused (CONFLICT). A tenant whose
// registration is closed takes no invitation: it could not be accepted.
func (s *service) invite(ctx context.Context, c function.Caller, in InviteInput) (IDOutput,
	error) {
	wide, err := orgs.Gate(c, in.TenantID)
	if err != nil {
		return IDOutput{}, err
	}
	switch {
	case !wide && in.OrgID == "":
		return IDOutput{}, errs.New(errs.PermissionDenied,
			"organization administrators invite into their organizations")
	case in.OrgID != "":
		ok, err := orgs.Reaches(ctx, s.st.Organizations(), c, in.TenantID, in.OrgID, false)
		if err == nil && ok && wide {
			_, err = s.st.Organizations().Get(ctx, in.TenantID, in.OrgID)
			ok = err == nil
			if errs.CodeOf(err) == errs.NotFound {
				err = nil
			}
		}
		if err != nil {
			return IDOutput{}, err
		}
		if !ok {
			return IDOutput{}, errs.New(errs.NotFound, "organization not found")
		}
	}
	tn, err := s.st.Tenants().Get(ctx, in.TenantID)
	switch {
	case errs.CodeOf(err) == errs.NotFound:
		return IDOutput{}, errs.New(errs.NotFound, "tenant not found")
	case err != nil:
		return IDOutput{}, err
	case tn.Registration != store.RegistrationOpen && tn.Registration != store.RegistrationInvite:
		return IDOutput{}, errs.New(errs.PermissionDenied,
			"the tenant's registration is closed: set it to INVITE or OPEN to invite")
	}
	_, err = s.st.Users().GetByEmail(ctx, in.TenantID, in.Email)
	switch {
	case err == nil:
		return IDOutput{}, &errs.Error{Code: errs.Conflict, Field: "email",
			Message: "this address already has an account"}
	case errs.CodeOf(err) != errs.NotFound:
		return IDOutput{}, err
	}

	data := map[string]string{"invitedBy": c.Subject}
	if in.OrgID != "" {
		data["orgId"] = in.OrgID
	}
	if !s.spend(ctx, tn.ID, in.Email) {
		return IDOutput{}, errs.New(errs.RateLimited,
			"too many messages sent to this address; try again later")
	}
	p, err := s.issue(ctx, store.Verification{TenantID: tn.ID, Purpose: store.Invitation,
		Target: in.Email, Data: data}, InviteTTL, true, false)
	if err != nil {
		return IDOutput{}, err
	}
	err = s.sendEmail(ctx, tn, messaging.KindInvite, "", in.Email, map[string]any{
		"InviterName":  s.inviterName(ctx, c),
		"Link":         s.link(PathAcceptInvite, tn, "invitation", p.token),
		"ValidMinutes": minutes(InviteTTL),
	})
	if err != nil {
		// An invitation nobody received is spent, so that it cannot be
		// used from elsewhere; the administrator sends another.
		s.undo(ctx, "spend an unsent invitation", func(ctx context.Context) error {
			_, err := s.claim(ctx, p.v)
			return err
		})
		return IDOutput{}, err
	}
	s.audit.Record(ctx, c, "account.invite",
		audit.Target{TenantID: tn.ID, Type: TypeInvitation, ID: p.v.ID},
		map[string]store.AuditChange{"email": {New: in.Email}, "orgId": {New: in.OrgID}})
	return IDOutput{ID: p.v.ID}, nil
}

// inviterName is how the invitation names who sent it: the inviting
// user's display name or username, else a neutral phrase (a system token
// has no name).
func (s *service) inviterName(ctx context.Context, c function.Caller) string {
	if c.Tenant != "" {
		if u, err := s.st.Users().Get(ctx, c.Tenant, c.Subject); err == nil {
			if u.DisplayName != "" {
				return u.DisplayName
			}
			return u.Username
		}
	}
	return "An administrator"
}
