package mfa

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/wardhq/ward/shared/audit"
	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/orgs"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/validate"
)

// Bounds of what callers send.
const (
	maxCodeBytes     = 64
	maxWebAuthnBytes = 64 << 10
)

func userNotFound() error { return errs.New(errs.NotFound, "user not found") }

func isSelf(c function.Caller, tenantID, userID string) bool {
	return !c.Anonymous() && c.Tenant != "" && c.Tenant == tenantID && c.Subject == userID
}

// selfOrService lets the user and service callers through; anyone else
// is told the user does not exist.
func selfOrService(c function.Caller, tenantID, userID string) error {
	switch {
	case c.Has(function.RoleService) || isSelf(c, tenantID, userID):
		return nil
	case c.Anonymous():
		return errs.New(errs.Unauthenticated, "authentication required")
	}
	return userNotFound()
}

// reachUser lets through the user, service callers when service is set,
// and administrators who reach the user (admin is then true). Like the
// sessions service it starts with orgs.Gate, and a user out of an
// administrator's reach is NOT_FOUND.
func (s *service) reachUser(ctx context.Context, c function.Caller, tenantID, userID string,
	service bool) (admin bool, err error) {
	if isSelf(c, tenantID, userID) || (service && c.Has(function.RoleService)) {
		return false, nil
	}
	if err := orgs.AdministersUser(ctx, s.st, c, tenantID, userID); err != nil {
		return false, err
	}
	return true, nil
}

func (in *UserInput) Validate() error {
	if err := validate.ID("tenantId", in.TenantID); err != nil {
		return err
	}
	return validate.ID("userId", in.UserID)
}

func (in *FactorInput) Validate() error {
	if err := validate.ID("tenantId", in.TenantID); err != nil {
		return err
	}
	if err := validate.ID("userId", in.UserID); err != nil {
		return err
	}
	return validate.ID("factorId", in.FactorID)
}

func (in *EnrollInput) Validate() error {
	if err := validate.ID("tenantId", in.TenantID); err != nil {
		return err
	}
	if err := validate.ID("userId", in.UserID); err != nil {
		return err
	}
	switch in.Type {
	case store.FactorTOTP, store.FactorWebAuthn, store.FactorEmail, store.FactorSMS,
		store.FactorVoice:
	case store.FactorRecovery:
		return errs.Invalid("type", "recovery codes are made by regenerateRecoveryCodes")
	default:
		return errs.Invalid("type", "must be TOTP, WEBAUTHN, EMAIL, SMS or VOICE")
	}
	if len(in.Name) > store.MaxFactorNameBytes || !utf8.ValidString(in.Name) {
		return errs.Invalid("name", "must be at most %d bytes of UTF-8", store.MaxFactorNameBytes)
	}
	if in.Phone != "" {
		if in.Type != store.FactorSMS && in.Type != store.FactorVoice {
			return errs.Invalid("phone", "is only for SMS and VOICE factors")
		}
		if !isE164(in.Phone) {
			return errs.Invalid("phone", "must be an E.164 number: + and 7 to 15 digits")
		}
	}
	return nil
}

func isE164(p string) bool {
	if len(p) < 8 || len(p) > 16 || p[0] != '+' || p[1] == '0' {
		return false
	}
	return strings.Trim(p[1:], "0123456789") == ""
}

func (in *ProofInput) Validate() error {
	if err := validate.ID("tenantId", in.TenantID); err != nil {
		return err
	}
	if err := validate.ID("userId", in.UserID); err != nil {
		return err
	}
	if err := validate.ID("factorId", in.FactorID); err != nil {
		return err
	}
	switch {
	case len(in.ChallengeID) > 64:
		return errs.Invalid("challengeId", "is not a challenge")
	case len(in.Code) > maxCodeBytes:
		return errs.Invalid("code", "must be at most %d bytes", maxCodeBytes)
	case len(in.WebAuthn) > maxWebAuthnBytes:
		return errs.New(errs.TooLarge, "webauthn response exceeds %d bytes", maxWebAuthnBytes)
	case in.Code == "" && len(in.WebAuthn) == 0:
		return errs.Invalid("code", "is required")
	}
	return nil
}

// list returns the user's factors. Enrolments left unconfirmed for longer
// than PendingTTL are removed on the way.
func (s *service) list(ctx context.Context, c function.Caller, in UserInput) (ListOutput,
	error) {
	if _, err := s.reachUser(ctx, c, in.TenantID, in.UserID, true); err != nil {
		return ListOutput{}, err
	}
	all, err := s.factorsOf(ctx, in.TenantID, in.UserID)
	if err != nil {
		return ListOutput{}, err
	}
	out := ListOutput{Factors: make([]Factor, 0, len(all))}
	for _, f := range all {
		out.Factors = append(out.Factors, publicFactor(f))
	}
	return out, nil
}

// factorsOf lists the user's live factors, dropping stale enrolments.
func (s *service) factorsOf(ctx context.Context, tenantID, userID string) ([]store.Factor,
	error) {
	all, err := s.st.Factors().ListByUser(ctx, tenantID, userID)
	if err != nil {
		return nil, err
	}
	cutoff := s.now().Add(-PendingTTL)
	live := all[:0]
	for _, f := range all {
		if !f.Confirmed && f.CreatedAt.Before(cutoff) {
			if err := s.st.Factors().Delete(ctx, tenantID, userID, f.ID); err != nil &&
				errs.CodeOf(err) != errs.NotFound {
				return nil, err
			}
			continue
		}
		live = append(live, f)
	}
	return live, nil
}

// remove removes one of the caller's own factors.
func (s *service) remove(ctx context.Context, c function.Caller, in FactorInput) (RemoveOutput,
	error) {
	if c.Anonymous() {
		return RemoveOutput{}, errs.New(errs.Unauthenticated, "authentication required")
	}
	if !isSelf(c, in.TenantID, in.UserID) {
		return RemoveOutput{}, factorNotFound()
	}
	err := s.st.Factors().Delete(ctx, in.TenantID, in.UserID, in.FactorID)
	if errs.CodeOf(err) == errs.NotFound {
		return RemoveOutput{}, factorNotFound()
	}
	if err != nil {
		return RemoveOutput{}, err
	}
	s.audit.Record(ctx, c, "mfa.remove", audit.Target{TenantID: in.TenantID,
		Type: audit.TypeUser, ID: in.UserID},
		map[string]store.AuditChange{"factor": {Old: in.FactorID}})
	return RemoveOutput{ID: in.FactorID}, nil
}

// reset removes every factor of a user: an administrator's answer to a
// lost phone. The user's own session does not reach it.
func (s *service) reset(ctx context.Context, c function.Caller, in UserInput) (ResetOutput,
	error) {
	if isSelf(c, in.TenantID, in.UserID) && !orgs.TenantWide(c, in.TenantID) {
		return ResetOutput{}, errs.New(errs.PermissionDenied,
			"only an administrator resets factors; remove your own one by one")
	}
	if _, err := s.reachUser(ctx, c, in.TenantID, in.UserID, false); err != nil {
		return ResetOutput{}, err
	}
	n, err := s.st.Factors().DeleteByUser(ctx, in.TenantID, in.UserID)
	if err != nil {
		return ResetOutput{}, err
	}
	s.audit.Record(ctx, c, "mfa.reset", audit.Target{TenantID: in.TenantID,
		Type: audit.TypeUser, ID: in.UserID},
		map[string]store.AuditChange{"factors": {Old: strconv.Itoa(n), New: "0"}})
	return ResetOutput{Removed: n}, nil
}

// activeUser reads the user a factor operation is about; a user who is
// missing or not ACTIVE gets nothing.
func (s *service) activeUser(ctx context.Context, tenantID, userID string) (store.User, error) {
	u, err := s.st.Users().Get(ctx, tenantID, userID)
	if errs.CodeOf(err) == errs.NotFound || (err == nil && u.Status != store.UserActive) {
		return store.User{}, userNotFound()
	}
	return u, err
}

// enroll starts enrolling a factor: it is stored unconfirmed, with its
// secret (TOTP) or address (EMAIL, SMS, VOICE), and its first proof is
// set in motion.
func (s *service) enroll(ctx context.Context, c function.Caller, in EnrollInput) (Enrollment,
	error) {
	if err := selfOrService(c, in.TenantID, in.UserID); err != nil {
		return Enrollment{}, err
	}
	u, err := s.activeUser(ctx, in.TenantID, in.UserID)
	if err != nil {
		return Enrollment{}, err
	}
	tn, err := s.st.Tenants().Get(ctx, in.TenantID)
	if err != nil {
		return Enrollment{}, err
	}
	if !tn.Auth.Allows(in.Type) {
		return Enrollment{}, errs.New(errs.PermissionDenied,
			"this tenant does not allow %s factors", in.Type)
	}
	existing, err := s.factorsOf(ctx, in.TenantID, in.UserID)
	if err != nil {
		return Enrollment{}, err
	}
	if len(existing) >= MaxFactors {
		return Enrollment{}, errs.New(errs.Conflict,
			"a user has at most %d factors; remove one first", MaxFactors)
	}

	name := in.Name
	if name == "" {
		name = strings.ToLower(string(in.Type))
	}
	f := store.Factor{ID: validate.NewID(), TenantID: in.TenantID, UserID: in.UserID,
		Type: in.Type, Name: name, CreatedAt: s.stamp()}
	var e Enrollment
	switch in.Type {
	case store.FactorTOTP:
		if e, err = s.enrollTOTP(tn, u, &f); err != nil {
			return Enrollment{}, err
		}
	case store.FactorEmail, store.FactorSMS, store.FactorVoice:
		to, err := contactFor(u, in)
		if err != nil {
			return Enrollment{}, err
		}
		f.Data, _ = json.Marshal(contactData{To: to})
	case store.FactorWebAuthn:
		if _, err := s.relyingParty(); err != nil {
			return Enrollment{}, err
		}
	}
	if f, err = s.st.Factors().Create(ctx, f); err != nil {
		return Enrollment{}, err
	}

	switch in.Type {
	case store.FactorEmail, store.FactorSMS, store.FactorVoice:
		ch, err := s.sendCode(ctx, f, u.Locale)
		if err != nil {
			s.dropPending(ctx, f)
			return Enrollment{}, err
		}
		e.ChallengeID, e.SentTo = ch.ChallengeID, ch.SentTo
	case store.FactorWebAuthn:
		if e, err = s.beginRegistration(ctx, u, f, existing); err != nil {
			s.dropPending(ctx, f)
			return Enrollment{}, err
		}
	}
	e.FactorID, e.Type = f.ID, f.Type
	return e, nil
}

// contactFor is where an EMAIL, SMS or VOICE factor's codes go: the
// user's email, or the phone given (the user's own by default). The
// confirming code proves the address either way.
func contactFor(u store.User, in EnrollInput) (string, error) {
	if in.Type == store.FactorEmail {
		if u.Email == "" {
			return "", errs.Invalid("type", "the user has no email address")
		}
		return u.Email, nil
	}
	if in.Phone != "" {
		return in.Phone, nil
	}
	if u.Phone == "" || !isE164(u.Phone) {
		return "", errs.Invalid("phone", "is required: the user has no phone number")
	}
	return u.Phone, nil
}

// dropPending removes an enrolment whose first step failed.
func (s *service) dropPending(ctx context.Context, f store.Factor) {
	if err := s.st.Factors().Delete(context.WithoutCancel(ctx), f.TenantID, f.UserID,
		f.ID); err != nil && errs.CodeOf(err) != errs.NotFound {
		s.log.WarnContext(ctx, "mfa: removing a failed enrolment failed", "error", err.Error())
	}
}

// confirm finishes an enrolment with its first proof. A wrong proof
// leaves the enrolment to try again until it goes stale.
func (s *service) confirm(ctx context.Context, c function.Caller, in ProofInput) (ConfirmOutput,
	error) {
	if err := selfOrService(c, in.TenantID, in.UserID); err != nil {
		return ConfirmOutput{}, err
	}
	u, err := s.activeUser(ctx, in.TenantID, in.UserID)
	if err != nil {
		return ConfirmOutput{}, err
	}
	f, err := s.st.Factors().Get(ctx, in.TenantID, in.UserID, in.FactorID)
	if errs.CodeOf(err) == errs.NotFound || (err == nil && f.Confirmed) {
		return ConfirmOutput{}, factorNotFound()
	}
	if err != nil {
		return ConfirmOutput{}, err
	}
	amr, err := s.counted(ctx, f, func() ([]string, error) {
		switch f.Type {
		case store.FactorTOTP:
			if _, err := s.proveTOTP(ctx, f, in.Code, true); err != nil {
				return nil, err
			}
		case store.FactorWebAuthn:
			if len(in.WebAuthn) == 0 {
				return nil, badProof()
			}
			return s.finishRegistration(ctx, u, f, in.ChallengeID, in.WebAuthn)
		default:
			if err := s.proveCode(ctx, f, in.ChallengeID, in.Code); err != nil {
				return nil, err
			}
			if _, err := s.st.Factors().Update(ctx, f.TenantID, f.UserID, f.ID,
				func(cur store.Factor) (store.Factor, error) {
					cur.Confirmed, cur.LastUsedAt = true, s.stamp()
					return cur, nil
				}); err != nil {
				return nil, err
			}
		}
		return amrOf(f.Type), nil
	})
	if err != nil {
		return ConfirmOutput{}, err
	}
	f, err = s.st.Factors().Get(ctx, in.TenantID, in.UserID, in.FactorID)
	if err != nil {
		return ConfirmOutput{}, err
	}
	s.audit.Record(ctx, c, "mfa.enroll", audit.Target{TenantID: in.TenantID,
		Type: audit.TypeUser, ID: in.UserID},
		map[string]store.AuditChange{"factor": {New: f.ID + " " + string(f.Type)}})
	return ConfirmOutput{Factor: publicFactor(f), AMR: amr}, nil
}

// amrOf is what a proven factor of type t earns (RFC 8176).
func amrOf(t store.FactorType) []string {
	switch t {
	case store.FactorSMS:
		return []string{"sms"}
	case store.FactorVoice:
		return []string{"tel"}
	}
	return []string{"otp"}
}

// regenerateRecovery gives the caller new recovery codes, replacing all
// earlier ones. They are shown this once.
func (s *service) regenerateRecovery(ctx context.Context, c function.Caller, in UserInput) (
	RecoveryCodesOutput, error) {
	if c.Anonymous() {
		return RecoveryCodesOutput{}, errs.New(errs.Unauthenticated, "authentication required")
	}
	if !isSelf(c, in.TenantID, in.UserID) {
		return RecoveryCodesOutput{}, userNotFound()
	}
	if _, err := s.activeUser(ctx, in.TenantID, in.UserID); err != nil {
		return RecoveryCodesOutput{}, err
	}
	tn, err := s.st.Tenants().Get(ctx, in.TenantID)
	if err != nil {
		return RecoveryCodesOutput{}, err
	}
	if !tn.Auth.Allows(store.FactorRecovery) {
		return RecoveryCodesOutput{}, errs.New(errs.PermissionDenied,
			"this tenant does not allow recovery codes")
	}
	all, err := s.factorsOf(ctx, in.TenantID, in.UserID)
	if err != nil {
		return RecoveryCodesOutput{}, err
	}
	codes, data := newRecoveryCodes(in.TenantID, in.UserID)
	i := slices.IndexFunc(all, func(f store.Factor) bool { return f.Type == store.FactorRecovery })
	var f store.Factor
	if i >= 0 {
		f, err = s.st.Factors().Update(ctx, in.TenantID, in.UserID, all[i].ID,
			func(cur store.Factor) (store.Factor, error) {
				cur.Data = data
				return cur, nil
			})
	} else {
		f, err = s.st.Factors().Create(ctx, store.Factor{ID: validate.NewID(),
			TenantID: in.TenantID, UserID: in.UserID, Type: store.FactorRecovery,
			Name: "recovery codes", Confirmed: true, Data: data, CreatedAt: s.stamp()})
	}
	if err != nil {
		return RecoveryCodesOutput{}, err
	}
	s.audit.Record(ctx, c, "mfa.regenerateRecoveryCodes", audit.Target{TenantID: in.TenantID,
		Type: audit.TypeUser, ID: in.UserID}, nil)
	return RecoveryCodesOutput{FactorID: f.ID, Codes: codes}, nil
}

// challenge starts proving a confirmed factor: it sends a code, or makes
// WebAuthn assertion options. TOTP and recovery codes need nothing sent.
func (s *service) challenge(ctx context.Context, c function.Caller, in FactorInput) (
	ChallengeOutput, error) {
	if err := c.RequireService(); err != nil {
		return ChallengeOutput{}, err
	}
	f, err := s.st.Factors().Get(ctx, in.TenantID, in.UserID, in.FactorID)
	if errs.CodeOf(err) == errs.NotFound || (err == nil && !f.Confirmed) {
		return ChallengeOutput{}, factorNotFound()
	}
	if err != nil {
		return ChallengeOutput{}, err
	}
	switch {
	case isCodeFactor(f.Type):
		u, err := s.activeUser(ctx, in.TenantID, in.UserID)
		if err != nil {
			return ChallengeOutput{}, err
		}
		return s.sendCode(ctx, f, u.Locale)
	case f.Type == store.FactorWebAuthn:
		u, err := s.activeUser(ctx, in.TenantID, in.UserID)
		if err != nil {
			return ChallengeOutput{}, err
		}
		return s.beginAssertion(ctx, u, f)
	}
	return ChallengeOutput{}, nil
}

// verify checks a proof of a confirmed factor and answers the methods it
// earned. Every way of failing is the same UNAUTHENTICATED answer, and
// counts against the factor.
func (s *service) verify(ctx context.Context, c function.Caller, in ProofInput) (VerifyOutput,
	error) {
	if err := c.RequireService(); err != nil {
		return VerifyOutput{}, err
	}
	f, err := s.st.Factors().Get(ctx, in.TenantID, in.UserID, in.FactorID)
	if errs.CodeOf(err) == errs.NotFound || (err == nil && !f.Confirmed) {
		return VerifyOutput{}, badProof()
	}
	if err != nil {
		return VerifyOutput{}, err
	}
	amr, err := s.counted(ctx, f, func() ([]string, error) {
		switch f.Type {
		case store.FactorTOTP:
			if _, err := s.proveTOTP(ctx, f, in.Code, false); err != nil {
				return nil, err
			}
		case store.FactorRecovery:
			if err := s.proveRecovery(ctx, f, in.Code); err != nil {
				return nil, err
			}
		case store.FactorWebAuthn:
			u, err := s.activeUser(ctx, in.TenantID, in.UserID)
			if errs.CodeOf(err) == errs.NotFound || len(in.WebAuthn) == 0 {
				return nil, badProof()
			}
			if err != nil {
				return nil, err
			}
			return s.finishAssertion(ctx, u, f, in.ChallengeID, in.WebAuthn)
		default:
			if err := s.proveCode(ctx, f, in.ChallengeID, in.Code); err != nil {
				return nil, err
			}
			if _, err := s.st.Factors().Update(ctx, f.TenantID, f.UserID, f.ID,
				func(cur store.Factor) (store.Factor, error) {
					cur.LastUsedAt = s.stamp()
					return cur, nil
				}); err != nil {
				return nil, err
			}
		}
		return amrOf(f.Type), nil
	})
	if err != nil {
		return VerifyOutput{}, err
	}
	return VerifyOutput{AMR: amr}, nil
}
