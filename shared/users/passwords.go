package users

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/wardhq/ward/shared/audit"
	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/passwords"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/validate"
)

// Passwords are checked against the policy of package passwords wherever
// one is chosen (create, set, change), hashed with the service's Hasher and
// kept in store.Credentials, never in the user record. No password, and no
// hash, appears in an output, an error or a log line: inputs hold them as
// Password, which prints as "[redacted]", and errors name the field only.

// invalidCredentials is verifyPassword's one answer to every failure: an
// unknown tenant or username, a user without a password, a wrong password
// and a user who may not sign in all read the same, so that the answer
// tells nothing about which accounts exist.
func invalidCredentials() error { return errs.New(errs.Unauthenticated, "invalid credentials") }

// plausible checks what can be known of a password before its account is
// read: present when required, and not so long that checking it would
// cost more than any password may.
func plausible(field string, p Password, required bool) error {
	switch {
	case p == "" && required:
		return errs.Invalid(field, "is required")
	case len(p) > passwords.MaxBytes:
		return errs.Invalid(field, "must be at most %d bytes", passwords.MaxBytes)
	}
	return nil
}

// newHash applies the password policy to a password chosen for user u of
// tenant tn and hashes it. Errors name field. mfa says that the account
// has a second factor (store.HasSecondFactor), which lowers the minimum
// length from 15 characters to 8.
func (s *service) newHash(field string, p Password, u store.User, tn store.Tenant,
	mfa bool) (string, error) {
	err := passwords.Check(string(p), passwords.Context{
		MFA:        mfa,
		Username:   u.Username,
		Email:      u.Email,
		TenantName: tn.Name,
		Words:      []string{tn.DisplayName},
	})
	if err != nil {
		return "", inField(err, field)
	}
	hash, err := s.hasher.Hash(string(p))
	if err != nil {
		return "", inField(err, field)
	}
	return hash, nil
}

// inField moves an input error of package passwords, which always names
// "password", to the field of the operation's input.
func inField(err error, field string) error {
	var e *errs.Error
	if !errors.As(err, &e) || e.Code != errs.InvalidArgument {
		return err
	}
	return &errs.Error{Code: e.Code, Message: e.Message, Field: field, Cause: e.Cause}
}

func (s *service) stamp() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

func (in *SetPasswordInput) Validate() error {
	if err := validate.ID("tenantId", in.TenantID); err != nil {
		return err
	}
	if err := validate.ID("id", in.ID); err != nil {
		return err
	}
	return plausible("password", in.Password, true)
}

// setPassword sets a user's password for an administrator who reaches the
// user, without the current one: an enrolment or a reset by the
// administrator.
func (s *service) setPassword(ctx context.Context, c function.Caller,
	in SetPasswordInput) (PasswordOutput, error) {
	u, err := s.reachUser(ctx, c, in.TenantID, in.ID)
	if err != nil {
		return PasswordOutput{}, err
	}
	tn, err := s.tenant(ctx, in.TenantID)
	if err != nil {
		return PasswordOutput{}, err
	}
	mfa, err := store.HasSecondFactor(ctx, s.factors, in.TenantID, in.ID)
	if err != nil {
		return PasswordOutput{}, err
	}
	hash, err := s.newHash("password", in.Password, u, tn, mfa)
	if err != nil {
		return PasswordOutput{}, err
	}
	if err := s.creds.SetPassword(ctx, in.TenantID, in.ID, hash, s.stamp()); err != nil {
		return PasswordOutput{}, err
	}
	s.audit.Record(ctx, c, "user.setPassword", userTarget(in.TenantID, in.ID),
		audit.Changed("password"))
	return PasswordOutput{ID: in.ID}, nil
}

func (in *ChangePasswordInput) Validate() error {
	if err := validate.ID("tenantId", in.TenantID); err != nil {
		return err
	}
	if err := validate.ID("id", in.ID); err != nil {
		return err
	}
	if err := plausible("currentPassword", in.CurrentPassword, true); err != nil {
		return err
	}
	return plausible("newPassword", in.NewPassword, true)
}

// changePassword lets a user replace their own password, given the
// current one. Nobody else may: administrators use setPassword.
func (s *service) changePassword(ctx context.Context, c function.Caller,
	in ChangePasswordInput) (PasswordOutput, error) {
	switch {
	case c.Anonymous():
		return PasswordOutput{}, errs.New(errs.Unauthenticated, "authentication required")
	case c.Tenant == "" || c.Tenant != in.TenantID:
		return PasswordOutput{}, errs.New(errs.NotFound, "user not found")
	case c.Subject != in.ID:
		return PasswordOutput{}, errs.New(errs.PermissionDenied,
			"only the user may change their own password")
	}
	u, err := s.users.Get(ctx, in.TenantID, in.ID)
	if err != nil {
		return PasswordOutput{}, err
	}

	wrong := &errs.Error{Code: errs.Unauthenticated, Field: "currentPassword",
		Message: "the current password is not correct"}
	cred, err := s.creds.GetPassword(ctx, in.TenantID, in.ID)
	switch {
	case errs.CodeOf(err) == errs.NotFound:
		// No password yet: nothing the caller types can be the current one.
		s.hasher.DummyVerify(string(in.CurrentPassword))
		return PasswordOutput{}, wrong
	case err != nil:
		return PasswordOutput{}, err
	}
	ok, _, err := s.hasher.Verify(string(in.CurrentPassword), cred.Hash)
	if err != nil {
		s.logUnusableHash(ctx, u, err)
		return PasswordOutput{}, err
	}
	if !ok {
		return PasswordOutput{}, wrong
	}

	tn, err := s.tenant(ctx, in.TenantID)
	if err != nil {
		return PasswordOutput{}, err
	}
	mfa, err := store.HasSecondFactor(ctx, s.factors, in.TenantID, in.ID)
	if err != nil {
		return PasswordOutput{}, err
	}
	hash, err := s.newHash("newPassword", in.NewPassword, u, tn, mfa)
	if err != nil {
		return PasswordOutput{}, err
	}
	if err := s.creds.SetPassword(ctx, in.TenantID, in.ID, hash, s.stamp()); err != nil {
		return PasswordOutput{}, err
	}
	s.audit.Record(ctx, c, "user.changePassword", userTarget(in.TenantID, in.ID),
		audit.Changed("password"))
	return PasswordOutput{ID: in.ID}, nil
}

func (in *VerifyPasswordInput) Validate() error {
	if err := validate.ID("tenantId", in.TenantID); err != nil {
		return err
	}
	// The username is not checked for its form: one that cannot exist is
	// answered like any unknown one.
	switch {
	case in.Username == "":
		return errs.Invalid("username", "is required")
	case len(in.Username) > 1024:
		return errs.Invalid("username", "must be at most 1024 bytes")
	}
	return plausible("password", in.Password, true)
}

// verifyPassword checks a username and password for Ward's own components
// (login, the LDAP listener) and returns the user.
//
// Every failure costs one Argon2id derivation, like a success: for an
// unknown username, or a user without a password, DummyVerify does the
// work a real check would, so that the time of the answer does not tell
// which usernames exist. A user who is not ACTIVE is refused only after
// the check, for the same reason.
func (s *service) verifyPassword(ctx context.Context, c function.Caller,
	in VerifyPasswordInput) (VerifyPasswordOutput, error) {
	if err := c.RequireService(); err != nil {
		return VerifyPasswordOutput{}, err
	}
	pw := string(in.Password)

	u, err := s.byLogin(ctx, in.TenantID, in.Username)
	switch {
	case errs.CodeOf(err) == errs.NotFound:
		s.hasher.DummyVerify(pw)
		return VerifyPasswordOutput{}, invalidCredentials()
	case err != nil:
		return VerifyPasswordOutput{}, err
	}
	cred, err := s.creds.GetPassword(ctx, u.TenantID, u.ID)
	switch {
	case errs.CodeOf(err) == errs.NotFound:
		s.hasher.DummyVerify(pw)
		return VerifyPasswordOutput{}, invalidCredentials()
	case err != nil:
		return VerifyPasswordOutput{}, err
	}

	ok, needsRehash, err := s.hasher.Verify(pw, cred.Hash)
	if err != nil {
		// A fault of the stored record, not of the caller; the caller is
		// told what it would be told for a wrong password.
		s.logUnusableHash(ctx, u, err)
		return VerifyPasswordOutput{}, invalidCredentials()
	}
	if !ok || u.Status != store.UserActive {
		return VerifyPasswordOutput{}, invalidCredentials()
	}
	if needsRehash {
		s.rehash(ctx, u, pw, cred.Hash)
	}
	return VerifyPasswordOutput{User: u}, nil
}

// byLogin finds the user a login names: a username, or else a verified
// email address. An unverified address signs nobody in: whoever typed it
// has not shown it is theirs, and its owner may be someone else.
func (s *service) byLogin(ctx context.Context, tenantID, login string) (store.User, error) {
	u, err := s.users.GetByUsername(ctx, tenantID, login)
	if errs.CodeOf(err) != errs.NotFound || !strings.Contains(login, "@") {
		return u, err
	}
	u, err = s.users.GetByEmail(ctx, tenantID, login)
	if err == nil && !u.EmailVerified {
		return store.User{}, errs.New(errs.NotFound, "user not found")
	}
	return u, err
}

// rehash replaces a stored hash made with older parameters while the
// password is at hand. A failure costs nothing but the upgrade, which the
// next sign-in tries again, so it is logged and the sign-in goes on.
//
// Known shortcoming: the store has no compare-and-swap for credentials.
// The hash is read again just before the write and left alone if it
// changed, but a password set in the instant between that read and the
// write would be overwritten by the old password's new hash.
func (s *service) rehash(ctx context.Context, u store.User, pw, old string) {
	hash, err := s.hasher.Hash(pw)
	if err == nil {
		var cur store.PasswordCredential
		cur, err = s.creds.GetPassword(ctx, u.TenantID, u.ID)
		if err == nil && cur.Hash != old {
			return
		}
	}
	if err == nil {
		err = s.creds.SetPassword(ctx, u.TenantID, u.ID, hash, s.stamp())
	}
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelWarn, "users: upgrading a password hash failed",
			slog.String("request_id", function.RequestID(ctx)),
			slog.String("tenant", u.TenantID), slog.String("error", err.Error()))
	}
}

// logUnusableHash reports a stored hash that cannot be checked: a fault of
// the store's data that an operator must repair. The user's ID, not their
// name, identifies the record.
func (s *service) logUnusableHash(ctx context.Context, u store.User, err error) {
	s.log.LogAttrs(ctx, slog.LevelError, "users: stored password hash is unusable",
		slog.String("request_id", function.RequestID(ctx)),
		slog.String("tenant", u.TenantID), slog.String("user", u.ID),
		slog.String("error", err.Error()))
}
