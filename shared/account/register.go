package account

import (
	"context"
	"errors"
	"strings"

	"github.com/wardhq/ward/shared/audit"
	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/messaging"
	"github.com/wardhq/ward/shared/passwords"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/users"
	"github.com/wardhq/ward/shared/validate"
)

// closed is the answer for a tenant that does not exist, whose
// registration is closed, or that registers by invitation and was given
// none: the three read the same.
func closed() error {
	return errs.New(errs.PermissionDenied, "registration is not open")
}

// tenantName folds and checks the name of the tenant of a public
// operation.
func tenantName(n *string) error {
	*n = strings.ToLower(*n)
	return validate.Slug("tenant", *n)
}

// plausible checks what can be known of a password before anything is
// read (see package users).
func plausible(field string, p users.Password) error {
	switch {
	case p == "":
		return errs.Invalid(field, "is required")
	case len(p) > passwords.MaxBytes:
		return errs.Invalid(field, "must be at most %d bytes", passwords.MaxBytes)
	}
	return nil
}

// locale checks and canonicalises an optional locale.
func locale(field string, l *string) error {
	if *l == "" {
		return nil
	}
	c, err := messaging.ParseLocale(*l)
	if err != nil {
		return errs.Invalid(field, "must be a language tag such as en or de-CH")
	}
	*l = string(c)
	return nil
}

// Validate checks and normalises the input (tenant, email and username
// folded).
func (in *RegisterInput) Validate() error {
	if err := tenantName(&in.Tenant); err != nil {
		return err
	}
	var err error
	if in.Email, err = validate.Email("email", in.Email); err != nil {
		return err
	}
	if in.Email == "" && in.Invitation == "" {
		return errs.Invalid("email", "is required")
	}
	if in.Username != "" {
		if in.Username, err = validate.Username("username", in.Username); err != nil {
			return err
		}
	}
	if err := plausible("password", in.Password); err != nil {
		return err
	}
	if err := locale("locale", &in.Locale); err != nil {
		return err
	}
	if len(in.Invitation) > 256 {
		return errs.Invalid("invitation", "must be at most 256 bytes")
	}
	return validate.Text("displayName", in.DisplayName, 200)
}

// newHash applies the password policy to a password chosen for u and
// hashes it; errors name field. As in package users, mfa (the account has
// a second factor) lowers the minimum length from 15 to 8.
func (s *service) newHash(field string, p users.Password, u store.User,
	tn store.Tenant, mfa bool) (string, error) {
	err := passwords.Check(string(p), passwords.Context{
		MFA: mfa, Username: u.Username, Email: u.Email, TenantName: tn.Name,
		Words: []string{tn.DisplayName},
	})
	if err == nil {
		var hash string
		if hash, err = s.hasher.Hash(string(p)); err == nil {
			return hash, nil
		}
	}
	var e *errs.Error
	if errors.As(err, &e) && e.Code == errs.InvalidArgument {
		return "", &errs.Error{Code: e.Code, Message: e.Message, Field: field, Cause: e.Cause}
	}
	return "", err
}

// username is the username of a new account: the one asked for, else the
// email when it is a valid username.
func username(asked, email string) (string, error) {
	if asked != "" {
		return asked, nil
	}
	u, err := validate.Username("username", email)
	if err != nil {
		return "", errs.Invalid("username", "is required: this email address cannot be one")
	}
	return u, nil
}

// usernameFree refuses a username that is taken: the one disclosure
// registration makes (see the package comment).
func (s *service) usernameFree(ctx context.Context, tenantID, name string) error {
	_, err := s.st.Users().GetByUsername(ctx, tenantID, name)
	switch {
	case err == nil:
		return &errs.Error{Code: errs.Conflict, Field: "username",
			Message: "this username is taken"}
	case errs.CodeOf(err) == errs.NotFound:
		return nil
	}
	return err
}

func (s *service) register(ctx context.Context, _ function.Caller,
	in RegisterInput) (RegisterOutput, error) {
	tn, err := s.st.Tenants().GetByName(ctx, in.Tenant)
	switch {
	case errs.CodeOf(err) == errs.NotFound:
		return RegisterOutput{}, closed()
	case err != nil:
		return RegisterOutput{}, err
	}
	switch {
	case tn.Registration != store.RegistrationOpen && tn.Registration != store.RegistrationInvite:
		return RegisterOutput{}, closed()
	case in.Invitation != "":
		return s.registerInvited(ctx, tn, in)
	case tn.Registration != store.RegistrationOpen:
		return RegisterOutput{}, closed()
	}
	return s.registerOpen(ctx, tn, in)
}

// registerOpen makes a PENDING account with an unverified email and
// sends the verification. An email that already has an account gets a
// notice and the caller a decoy, after the same password work.
func (s *service) registerOpen(ctx context.Context, tn store.Tenant,
	in RegisterInput) (RegisterOutput, error) {
	name, err := username(in.Username, in.Email)
	if err != nil {
		return RegisterOutput{}, err
	}
	now := s.stamp()
	u := store.User{
		ID: validate.NewID(), TenantID: tn.ID, Username: name, Email: in.Email,
		DisplayName: in.DisplayName, Locale: in.Locale, Status: store.UserPending,
		CreatedAt: now, UpdatedAt: now,
	}
	// Checked and hashed first, whatever happens next: the refusal of a
	// weak password tells nothing about the address, and the hashing time
	// is spent on both paths.
	hash, err := s.newHash("password", in.Password, u, tn, false)
	if err != nil {
		return RegisterOutput{}, err
	}
	if in.Username != "" {
		if err := s.usernameFree(ctx, tn.ID, name); err != nil {
			return RegisterOutput{}, err
		}
	}

	u, err = s.st.Users().Create(ctx, u)
	if errs.CodeOf(err) == errs.Conflict {
		return s.registerTaken(ctx, tn, in)
	}
	if err != nil {
		return RegisterOutput{}, err
	}
	drop := func(ctx context.Context) error { return s.st.Users().Delete(ctx, tn.ID, u.ID) }
	if err := s.st.Credentials().SetPassword(ctx, tn.ID, u.ID, hash, now); err != nil {
		s.undo(ctx, "delete a user without password", drop)
		return RegisterOutput{}, err
	}
	p, err := s.issue(ctx, store.Verification{TenantID: tn.ID, UserID: u.ID,
		Purpose: store.VerifyEmail, Target: u.Email}, EmailProofTTL, true, true)
	if err == nil {
		err = s.sendVerification(ctx, tn, u.Locale, u.Email, p)
	}
	if err != nil {
		// No account is left that its owner was never told of; the
		// caller may try again.
		s.undo(ctx, "delete a user whose verification was not sent", drop)
		return RegisterOutput{}, err
	}

	changes := audit.Changes(nil, audit.UserFields(u))
	changes["password"] = store.AuditChange{New: audit.SecretChanged}
	s.audit.Record(ctx, actor(u.ID), "account.register", userTarget(tn.ID, u.ID), changes)
	return RegisterOutput{VerificationID: p.v.ID}, nil
}

// registerTaken answers a registration of an address that has an
// account: the owner is told, no account is made, and the caller gets a
// decoy verification ID.
func (s *service) registerTaken(ctx context.Context, tn store.Tenant,
	in RegisterInput) (RegisterOutput, error) {
	id, err := s.decoy(ctx, tn.ID, in.Email, EmailProofTTL)
	if err != nil {
		return RegisterOutput{}, err
	}
	if !s.spend(ctx, tn.ID, in.Email) {
		return RegisterOutput{VerificationID: id}, nil
	}
	err = s.sendEmail(ctx, tn, KindAccountExists, in.Locale, in.Email, map[string]any{
		"Link": s.publicURL + PathResetPassword + "?tenant=" + tn.Name,
	})
	if err != nil {
		return RegisterOutput{}, err
	}
	return RegisterOutput{VerificationID: id}, nil
}

// registerInvited makes an ACTIVE account with the invited, verified
// email, in the invitation's organization if it named one.
func (s *service) registerInvited(ctx context.Context, tn store.Tenant,
	in RegisterInput) (RegisterOutput, error) {
	p, err := fromToken(in.Invitation)
	if err != nil {
		return RegisterOutput{}, err
	}
	v, err := s.check(ctx, tn.ID, p, store.Invitation)
	if err != nil {
		return RegisterOutput{}, err
	}
	if in.Email != "" && in.Email != v.Target {
		return RegisterOutput{}, errs.Invalid("email", "must be the address that was invited")
	}
	name, err := username(in.Username, v.Target)
	if err != nil {
		return RegisterOutput{}, err
	}
	now := s.stamp()
	u := store.User{
		ID: validate.NewID(), TenantID: tn.ID, Username: name, Email: v.Target,
		EmailVerified: true, DisplayName: in.DisplayName, Locale: in.Locale,
		Status: store.UserActive, OrgID: v.Data["orgId"], CreatedAt: now, UpdatedAt: now,
	}
	hash, err := s.newHash("password", in.Password, u, tn, false)
	if err != nil {
		return RegisterOutput{}, err
	}
	if in.Username != "" {
		if err := s.usernameFree(ctx, tn.ID, name); err != nil {
			return RegisterOutput{}, err
		}
	}

	if v, err = s.claim(ctx, v); err != nil {
		return RegisterOutput{}, err
	}
	u, err = s.st.Users().Create(ctx, u)
	if err != nil {
		s.release(ctx, v)
		if errs.CodeOf(err) == errs.Conflict {
			// The invitation's holder may know: the address was invited.
			return RegisterOutput{}, errs.New(errs.Conflict,
				"this address or username already has an account")
		}
		return RegisterOutput{}, err
	}
	if err := s.st.Credentials().SetPassword(ctx, tn.ID, u.ID, hash, now); err != nil {
		s.undo(ctx, "delete a user without password", func(ctx context.Context) error {
			return s.st.Users().Delete(ctx, tn.ID, u.ID)
		})
		s.release(ctx, v)
		return RegisterOutput{}, err
	}

	changes := audit.Changes(nil, audit.UserFields(u))
	changes["password"] = store.AuditChange{New: audit.SecretChanged}
	changes["invitation"] = store.AuditChange{New: v.ID}
	s.audit.Record(ctx, actor(u.ID), "account.register", userTarget(tn.ID, u.ID), changes)
	return RegisterOutput{UserID: u.ID}, nil
}

// Validate checks the form of the proof: a token, or an ID and a code.
func (in *VerifyEmailInput) Validate() error {
	if err := tenantName(&in.Tenant); err != nil {
		return err
	}
	switch {
	case in.Token != "" && (in.VerificationID != "" || in.Code != ""):
		return errs.Invalid("token", "give a token or a verificationId and code, not both")
	case in.Token != "":
		if len(in.Token) > 256 {
			return errs.Invalid("token", "must be at most 256 bytes")
		}
		return nil
	}
	_, err := fromCode(in.VerificationID, in.Code)
	return err
}

func (in VerifyEmailInput) proof() (proof, error) {
	if in.Token != "" {
		return fromToken(in.Token)
	}
	return fromCode(in.VerificationID, in.Code)
}

// verifyEmail marks an address verified: the account's own (PENDING
// becomes ACTIVE) or, for a change of address, the new one, which then
// replaces the old.
func (s *service) verifyEmail(ctx context.Context, _ function.Caller,
	in VerifyEmailInput) (VerifyOutput, error) {
	tn, err := s.st.Tenants().GetByName(ctx, in.Tenant)
	switch {
	case errs.CodeOf(err) == errs.NotFound:
		return VerifyOutput{}, invalidProof()
	case err != nil:
		return VerifyOutput{}, err
	}
	p, err := in.proof()
	if err != nil {
		return VerifyOutput{}, err
	}
	v, err := s.check(ctx, tn.ID, p, store.VerifyEmail)
	if err != nil {
		return VerifyOutput{}, err
	}
	if v.UserID == "" {
		return VerifyOutput{}, invalidProof()
	}
	if v, err = s.claim(ctx, v); err != nil {
		return VerifyOutput{}, err
	}

	now := s.stamp()
	var before store.User
	u, err := s.st.Users().Update(ctx, tn.ID, v.UserID, func(u store.User) (store.User, error) {
		before = u
		switch {
		case v.Data["email"] != "":
			if u.Email != v.Data["oldEmail"] {
				return u, invalidProof() // the address changed again since
			}
			u.Email = v.Data["email"]
		case u.Email != v.Target:
			return u, invalidProof()
		}
		u.EmailVerified = true
		if u.Status == store.UserPending {
			u.Status = store.UserActive
		}
		u.UpdatedAt = now
		return u, nil
	})
	switch {
	case errs.CodeOf(err) == errs.NotFound:
		return VerifyOutput{}, invalidProof() // the account is gone; the proof with it
	case errs.CodeOf(err) == errs.Conflict:
		s.release(ctx, v)
		return VerifyOutput{}, errs.New(errs.Conflict,
			"this address already belongs to another account")
	case err != nil:
		s.release(ctx, v)
		return VerifyOutput{}, err
	}
	s.audit.Record(ctx, actor(u.ID), "account.verifyEmail", userTarget(tn.ID, u.ID),
		audit.Changes(audit.UserFields(before), audit.UserFields(u)))
	return VerifyOutput{Verified: true}, nil
}

func (in *ResendInput) Validate() error {
	if err := tenantName(&in.Tenant); err != nil {
		return err
	}
	var err error
	if in.Email, err = validate.Email("email", in.Email); err == nil && in.Email == "" {
		err = errs.Invalid("email", "is required")
	}
	return err
}

// resendVerification sends a new verification to an account's
// unverified address, and answers the same, with a real or a decoy ID,
// whatever the address. A failure to send is logged, not answered: it
// could only happen where an account exists.
func (s *service) resendVerification(ctx context.Context, _ function.Caller,
	in ResendInput) (AcceptedOutput, error) {
	tn, err := s.st.Tenants().GetByName(ctx, in.Tenant)
	switch {
	case errs.CodeOf(err) == errs.NotFound:
		return AcceptedOutput{Accepted: true, VerificationID: validate.NewID()}, nil
	case err != nil:
		return AcceptedOutput{}, err
	}
	u, err := s.st.Users().GetByEmail(ctx, tn.ID, in.Email)
	switch {
	case errs.CodeOf(err) == errs.NotFound:
	case err != nil:
		return AcceptedOutput{}, err
	case !u.EmailVerified && (u.Status == store.UserPending || u.Status == store.UserActive) &&
		s.spend(ctx, tn.ID, u.Email):
		p, err := s.issue(ctx, store.Verification{TenantID: tn.ID, UserID: u.ID,
			Purpose: store.VerifyEmail, Target: u.Email}, EmailProofTTL, true, true)
		if err != nil {
			return AcceptedOutput{}, err
		}
		if err := s.sendVerification(ctx, tn, u.Locale, u.Email, p); err != nil {
			s.logSendFailure(ctx, tn.ID, "verify-email", err)
		}
		s.audit.Record(ctx, function.Caller{Subject: Anonymous}, "account.resendVerification",
			userTarget(tn.ID, u.ID), map[string]store.AuditChange{"verification": {New: p.v.ID}})
		return AcceptedOutput{Accepted: true, VerificationID: p.v.ID}, nil
	}
	id, err := s.decoy(ctx, tn.ID, in.Email, EmailProofTTL)
	if err != nil {
		return AcceptedOutput{}, err
	}
	return AcceptedOutput{Accepted: true, VerificationID: id}, nil
}
