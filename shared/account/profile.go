package account

import (
	"context"
	"reflect"
	"regexp"
	"strconv"
	"unicode/utf8"

	"github.com/wardhq/ward/shared/attributes"
	"github.com/wardhq/ward/shared/audit"
	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/messaging"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/validate"
)

func itoa(n int) string { return strconv.Itoa(n) }

// e164 is a phone number as package users accepts it.
var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// Validate checks and normalises the fields that are set; attributes and
// preferences are checked against what they patch, in updateProfile.
func (in *UpdateProfileInput) Validate() error {
	if in.DisplayName != nil {
		if err := validate.Text("displayName", *in.DisplayName, 200); err != nil {
			return err
		}
	}
	if in.Locale != nil {
		if err := locale("locale", in.Locale); err != nil {
			return err
		}
	}
	if len(in.Preferences) > store.MaxPreferences {
		return errs.Invalid("preferences", "must have at most %d entries", store.MaxPreferences)
	}
	if in.Phone != nil && *in.Phone != "" && !e164.MatchString(*in.Phone) {
		return errs.Invalid("phone", "must be an E.164 number: + and 7 to 15 digits")
	}
	if in.Email != nil {
		e, err := validate.Email("email", *in.Email)
		if err == nil && e == "" {
			err = errs.Invalid("email", "cannot be removed")
		}
		if err != nil {
			return err
		}
		in.Email = &e
	}
	return nil
}

// updateProfile changes the caller's own profile. Attributes and
// preferences are merged as patches (package attributes checks them, the
// attributes against the tenant's schema, as the user's own writes). A
// new phone is unverified. A new email is only asked for: a verification
// goes to it, and the address changes when it is verified (verifyEmail).
//
// Everything that can be refused is checked before anything is written
// or sent. The verification of a new address is sent before the profile
// is written; should that write then fail (a store failure, or the
// tenant's schema changing in between), the caller is told so, and the
// address change stays asked for: verifying it applies it.
func (s *service) updateProfile(ctx context.Context, c function.Caller,
	in UpdateProfileInput) (UpdateProfileOutput, error) {
	cur, err := s.self(ctx, c)
	if err != nil {
		return UpdateProfileOutput{}, err
	}
	tn, err := s.st.Tenants().Get(ctx, cur.TenantID)
	if err != nil {
		return UpdateProfileOutput{}, err
	}
	apply := func(u store.User) (store.User, error) {
		var err error
		if in.Attributes != nil {
			u.Attributes, err = attributes.Apply(tn.UserSchema, u.Attributes, in.Attributes,
				attributes.SelfService)
			if err != nil {
				return u, err
			}
		}
		if in.Preferences != nil {
			if u.Preferences, err = attributes.ApplyPreferences(u.Preferences,
				in.Preferences); err != nil {
				return u, err
			}
		}
		if in.DisplayName != nil {
			u.DisplayName = *in.DisplayName
		}
		if in.Locale != nil {
			u.Locale = *in.Locale
		}
		if in.Phone != nil && *in.Phone != u.Phone {
			u.Phone = *in.Phone
			u.PhoneVerified = false
		}
		return u, nil
	}
	if _, err := apply(cur); err != nil {
		return UpdateProfileOutput{}, err
	}

	var out UpdateProfileOutput
	if in.Email != nil && *in.Email != cur.Email {
		p, err := s.issue(ctx, store.Verification{TenantID: cur.TenantID, UserID: cur.ID,
			Purpose: store.VerifyEmail, Target: *in.Email,
			Data: map[string]string{"email": *in.Email, "oldEmail": cur.Email}},
			EmailProofTTL, true, true)
		if err != nil {
			return UpdateProfileOutput{}, err
		}
		locale := cur.Locale
		if in.Locale != nil {
			locale = *in.Locale
		}
		if err := s.sendVerification(ctx, tn, locale, *in.Email, p); err != nil {
			return UpdateProfileOutput{}, err
		}
		s.audit.Record(ctx, c, "account.requestEmailChange", userTarget(cur.TenantID, cur.ID),
			map[string]store.AuditChange{"email": {Old: cur.Email, New: *in.Email}})
		out.EmailVerificationID = p.v.ID
	}

	now := s.stamp()
	var before store.User
	u, err := s.st.Users().Update(ctx, cur.TenantID, cur.ID, func(u store.User) (store.User,
		error) {
		before = u
		u, err := apply(u)
		u.UpdatedAt = now
		return u, err
	})
	if err != nil {
		return UpdateProfileOutput{}, err
	}
	changes := audit.Changes(audit.UserFields(before), audit.UserFields(u))
	if before.Locale != u.Locale {
		changes = with(changes, "locale", store.AuditChange{Old: before.Locale, New: u.Locale})
	}
	if !reflect.DeepEqual(before.Preferences, u.Preferences) {
		changes = with(changes, "preferences", store.AuditChange{New: audit.SecretChanged})
	}
	if !reflect.DeepEqual(before.Attributes, u.Attributes) {
		changes = with(changes, "attributes", store.AuditChange{New: audit.SecretChanged})
	}
	if len(changes) > 0 {
		s.audit.Record(ctx, c, "account.updateProfile", userTarget(u.TenantID, u.ID), changes)
	}
	out.User = u
	return out, nil
}

func with(m map[string]store.AuditChange, k string,
	v store.AuditChange) map[string]store.AuditChange {
	if m == nil {
		m = map[string]store.AuditChange{}
	}
	m[k] = v
	return m
}

// startPhoneVerification sends a six-digit code, valid PhoneProofTTL, by
// SMS to the caller's phone, cancelling earlier phone codes.
func (s *service) startPhoneVerification(ctx context.Context, c function.Caller,
	_ StartPhoneInput) (IDOutput, error) {
	u, err := s.self(ctx, c)
	if err != nil {
		return IDOutput{}, err
	}
	switch {
	case u.Phone == "":
		return IDOutput{}, errs.Invalid("phone", "the account has no phone number")
	case s.phone == nil:
		return IDOutput{}, errs.New(errs.Unavailable, "text messages are not configured")
	case !s.spend(ctx, u.TenantID, u.Phone):
		return IDOutput{}, errs.New(errs.RateLimited,
			"too many codes sent to this phone; try again later")
	}
	tn, err := s.st.Tenants().Get(ctx, u.TenantID)
	if err != nil {
		return IDOutput{}, err
	}
	if _, err := s.st.Verifications().DeleteForUser(ctx, u.TenantID, u.ID,
		store.VerifyPhone); err != nil {
		return IDOutput{}, err
	}
	p, err := s.issue(ctx, store.Verification{TenantID: u.TenantID, UserID: u.ID,
		Purpose: store.VerifyPhone, Target: u.Phone}, PhoneProofTTL, false, true)
	if err != nil {
		return IDOutput{}, err
	}
	m, err := s.render(ctx, tn, messaging.KindOTPCode, u.Locale, map[string]any{
		"AppName": appName(tn), "Code": p.code, "ValidMinutes": minutes(PhoneProofTTL),
	})
	if err != nil {
		return IDOutput{}, err
	}
	body := m.Text
	if utf8.RuneCountInString(body) > messaging.MaxSMSRunes {
		body = "Your " + appName(tn) + " code is " + p.code
	}
	err = s.phone.SendSMS(ctx, messaging.SMS{TenantID: u.TenantID, Kind: messaging.KindOTPCode,
		To: u.Phone, Body: body})
	if err != nil {
		return IDOutput{}, err
	}
	s.audit.Record(ctx, c, "account.startPhoneVerification", userTarget(u.TenantID, u.ID),
		map[string]store.AuditChange{"verification": {New: p.v.ID}})
	return IDOutput{ID: p.v.ID}, nil
}

func (in *VerifyPhoneInput) Validate() error {
	_, err := fromCode(in.VerificationID, in.Code)
	return err
}

// verifyPhone marks the caller's phone verified with the code sent to it.
// A code sent to a number the account no longer has proves nothing.
func (s *service) verifyPhone(ctx context.Context, c function.Caller,
	in VerifyPhoneInput) (VerifyOutput, error) {
	u, err := s.self(ctx, c)
	if err != nil {
		return VerifyOutput{}, err
	}
	p, err := fromCode(in.VerificationID, in.Code)
	if err != nil {
		return VerifyOutput{}, err
	}
	v, err := s.check(ctx, u.TenantID, p, store.VerifyPhone)
	if err != nil {
		return VerifyOutput{}, err
	}
	if v.UserID != u.ID || v.Target != u.Phone {
		return VerifyOutput{}, invalidProof()
	}
	if v, err = s.claim(ctx, v); err != nil {
		return VerifyOutput{}, err
	}
	now := s.stamp()
	var before store.User
	after, err := s.st.Users().Update(ctx, u.TenantID, u.ID, func(u store.User) (store.User,
		error) {
		before = u
		if u.Phone != v.Target {
			return u, invalidProof()
		}
		u.PhoneVerified = true
		u.UpdatedAt = now
		return u, nil
	})
	if err != nil {
		if errs.CodeOf(err) != errs.InvalidArgument {
			s.release(ctx, v)
		}
		return VerifyOutput{}, err
	}
	s.audit.Record(ctx, c, "account.verifyPhone", userTarget(u.TenantID, u.ID),
		audit.Changes(audit.UserFields(before), audit.UserFields(after)))
	return VerifyOutput{Verified: true}, nil
}

func (in *DeleteAccountInput) Validate() error {
	return plausible("currentPassword", in.CurrentPassword)
}

// deleteAccount deletes the caller's own account after checking the
// current password again: a stolen token alone cannot delete an account.
// The user's tokens are revoked first, then the user is deleted (the
// store deletes its credentials and memberships with it).
func (s *service) deleteAccount(ctx context.Context, c function.Caller,
	in DeleteAccountInput) (IDOutput, error) {
	u, err := s.self(ctx, c)
	if err != nil {
		return IDOutput{}, err
	}
	wrong := &errs.Error{Code: errs.Unauthenticated, Field: "currentPassword",
		Message: "the current password is not correct"}
	cred, err := s.st.Credentials().GetPassword(ctx, u.TenantID, u.ID)
	switch {
	case errs.CodeOf(err) == errs.NotFound:
		s.hasher.DummyVerify(string(in.CurrentPassword))
		return IDOutput{}, wrong
	case err != nil:
		return IDOutput{}, err
	}
	ok, _, err := s.hasher.Verify(string(in.CurrentPassword), cred.Hash)
	if err != nil {
		return IDOutput{}, errs.Wrap(errs.Internal, err, "internal error")
	}
	if !ok {
		return IDOutput{}, wrong
	}

	revoked, ended, err := s.revokeCredentials(ctx, u)
	if err != nil {
		return IDOutput{}, err
	}
	if err := s.st.Users().Delete(ctx, u.TenantID, u.ID); err != nil {
		return IDOutput{}, err
	}
	changes := audit.Changes(audit.UserFields(u), nil)
	changes = with(changes, "revokedTokens", store.AuditChange{New: itoa(revoked)})
	changes = with(changes, "revokedSessions", store.AuditChange{New: itoa(ended)})
	s.audit.Record(ctx, c, "account.delete", userTarget(u.TenantID, u.ID), changes)
	return IDOutput{ID: u.ID}, nil
}
