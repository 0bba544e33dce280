package account

import (
	"context"
	"log/slog"

	"github.com/wardhq/ward/shared/audit"
	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/messaging"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/validate"
)

// logSendFailure records a message that could not be sent where the
// answer must not say so. The address is not logged.
func (s *service) logSendFailure(ctx context.Context, tenantID, kind string, err error) {
	s.log.LogAttrs(ctx, slog.LevelError, "account: a message was not sent",
		slog.String("kind", kind), slog.String("request_id", function.RequestID(ctx)),
		slog.String("tenant", tenantID), slog.String("error", err.Error()))
}

func (in *RequestResetInput) Validate() error {
	if err := tenantName(&in.Tenant); err != nil {
		return err
	}
	var err error
	if in.Email, err = validate.Email("email", in.Email); err == nil && in.Email == "" {
		err = errs.Invalid("email", "is required")
	}
	return err
}

// requestPasswordReset sends a reset link, valid ResetProofTTL, to an
// ACTIVE or PENDING account's address, cancelling its earlier reset
// links. It answers the same whatever the address, and logs a failure to
// send rather than answering it.
func (s *service) requestPasswordReset(ctx context.Context, _ function.Caller,
	in RequestResetInput) (AcceptedOutput, error) {
	tn, err := s.st.Tenants().GetByName(ctx, in.Tenant)
	switch {
	case errs.CodeOf(err) == errs.NotFound:
		return AcceptedOutput{Accepted: true}, nil
	case err != nil:
		return AcceptedOutput{}, err
	}
	u, err := s.st.Users().GetByEmail(ctx, tn.ID, in.Email)
	switch {
	case errs.CodeOf(err) == errs.NotFound:
		return AcceptedOutput{Accepted: true}, nil
	case err != nil:
		return AcceptedOutput{}, err
	case u.Status != store.UserActive && u.Status != store.UserPending:
		return AcceptedOutput{Accepted: true}, nil
	case !s.spend(ctx, tn.ID, u.Email):
		return AcceptedOutput{Accepted: true}, nil
	}

	if _, err := s.st.Verifications().DeleteForUser(ctx, tn.ID, u.ID,
		store.ResetPassword); err != nil {
		return AcceptedOutput{}, err
	}
	p, err := s.issue(ctx, store.Verification{TenantID: tn.ID, UserID: u.ID,
		Purpose: store.ResetPassword, Target: u.Email}, ResetProofTTL, true, false)
	if err != nil {
		return AcceptedOutput{}, err
	}
	err = s.sendEmail(ctx, tn, messaging.KindResetPassword, u.Locale, u.Email, map[string]any{
		"Link":         s.link(PathResetPassword, tn, "token", p.token),
		"ValidMinutes": minutes(ResetProofTTL),
	})
	if err != nil {
		s.logSendFailure(ctx, tn.ID, string(messaging.KindResetPassword), err)
	}
	s.audit.Record(ctx, function.Caller{Subject: Anonymous}, "account.requestPasswordReset",
		userTarget(tn.ID, u.ID), map[string]store.AuditChange{"verification": {New: p.v.ID}})
	return AcceptedOutput{Accepted: true}, nil
}

func (in *ResetPasswordInput) Validate() error {
	if err := tenantName(&in.Tenant); err != nil {
		return err
	}
	if in.Token == "" || len(in.Token) > 256 {
		return errs.Invalid("token", "must be 1 to 256 bytes")
	}
	return plausible("newPassword", in.NewPassword)
}

// resetPassword sets a new password with a reset link. It spends the
// link, revokes the user's credentials, and marks the address verified
// (the link proved it; a PENDING account becomes ACTIVE).
func (s *service) resetPassword(ctx context.Context, _ function.Caller,
	in ResetPasswordInput) (AcceptedOutput, error) {
	tn, err := s.st.Tenants().GetByName(ctx, in.Tenant)
	switch {
	case errs.CodeOf(err) == errs.NotFound:
		return AcceptedOutput{}, invalidProof()
	case err != nil:
		return AcceptedOutput{}, err
	}
	p, err := fromToken(in.Token)
	if err != nil {
		return AcceptedOutput{}, err
	}
	v, err := s.check(ctx, tn.ID, p, store.ResetPassword)
	if err != nil {
		return AcceptedOutput{}, err
	}
	u, err := s.st.Users().Get(ctx, tn.ID, v.UserID)
	switch {
	case errs.CodeOf(err) == errs.NotFound:
		return AcceptedOutput{}, invalidProof()
	case err != nil:
		return AcceptedOutput{}, err
	case u.Email != v.Target:
		return AcceptedOutput{}, invalidProof() // sent to an address the account no longer has
	}
	mfa, err := store.HasSecondFactor(ctx, s.st.Factors(), tn.ID, u.ID)
	if err != nil {
		return AcceptedOutput{}, err
	}
	hash, err := s.newHash("newPassword", in.NewPassword, u, tn, mfa)
	if err != nil {
		return AcceptedOutput{}, err
	}

	if v, err = s.claim(ctx, v); err != nil {
		return AcceptedOutput{}, err
	}
	revoked, ended, err := s.revokeCredentials(ctx, u)
	if err == nil {
		err = s.st.Credentials().SetPassword(ctx, tn.ID, u.ID, hash, s.stamp())
	}
	if err != nil {
		s.release(ctx, v)
		return AcceptedOutput{}, err
	}

	now := s.stamp()
	before := u
	after, err := s.st.Users().Update(ctx, tn.ID, u.ID, func(u store.User) (store.User, error) {
		before = u
		if u.Email == v.Target {
			u.EmailVerified = true
			if u.Status == store.UserPending {
				u.Status = store.UserActive
			}
		}
		u.UpdatedAt = now
		return u, nil
	})
	if err != nil {
		// The password is set and the tokens revoked: the reset stands.
		s.log.LogAttrs(ctx, slog.LevelWarn, "account: the address of a reset was not marked verified",
			slog.String("request_id", function.RequestID(ctx)),
			slog.String("tenant", tn.ID), slog.String("error", err.Error()))
		after = before
	}
	changes := audit.Changes(audit.UserFields(before), audit.UserFields(after))
	if changes == nil {
		changes = map[string]store.AuditChange{}
	}
	changes["password"] = store.AuditChange{New: audit.SecretChanged}
	changes["revokedTokens"] = store.AuditChange{New: itoa(revoked)}
	changes["revokedSessions"] = store.AuditChange{New: itoa(ended)}
	s.audit.Record(ctx, actor(u.ID), "account.resetPassword", userTarget(tn.ID, u.ID), changes)
	return AcceptedOutput{Accepted: true}, nil
}

// revokeCredentials revokes every credential of u that outlives a
// sign-in: its sessions (through the sessions service, when there is one),
// its OAuth refresh token families (through the oauth service, which
// audits them as oauthGrant.revoke) and its API tokens. It reports how
// many sessions and API tokens it revoked.
func (s *service) revokeCredentials(ctx context.Context, u store.User) (tokens, sessions int,
	err error) {
	if s.sessions != nil {
		if sessions, err = s.sessions.RevokeUser(ctx, u.TenantID, u.ID); err != nil {
			return 0, 0, err
		}
	}
	// Offline families outlive sessions: ending the sessions does not end
	// them, so they are revoked by name.
	if s.grants != nil {
		if _, err = s.grants.RevokeUserGrants(ctx, u.TenantID, u.ID); err != nil {
			return 0, 0, err
		}
	}
	tokens, err = s.st.APITokens().DeleteBySubject(ctx, u.TenantID, u.ID)
	return tokens, sessions, err
}
