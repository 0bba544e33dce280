package account

import (
	"log/slog"
	"time"

	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/users"
)

// FunctionName is the function that owns self-service.
const FunctionName = "account"

// Operation names. The first five are public: an anonymous caller may
// call them (see the package comment for who may call the others).
const (
	OpRegister             = "account.register"
	OpVerifyEmail          = "account.verifyEmail"
	OpResendVerification   = "account.resendVerification"
	OpRequestPasswordReset = "account.requestPasswordReset"
	OpResetPassword        = "account.resetPassword"

	OpInvite                 = "account.invite"
	OpUpdateProfile          = "account.updateProfile"
	OpStartPhoneVerification = "account.startPhoneVerification"
	OpVerifyPhone            = "account.verifyPhone"
	OpDeleteAccount          = "account.deleteAccount"
	OpExportData             = "account.exportData"
)

// Paths of the links in messages, below the public URL. Each carries the
// tenant's name and a token "<verification id>.<secret>"; the page there
// hands both to verifyEmail, register or resetPassword.
const (
	PathVerifyEmail   = "/account/verify-email"
	PathResetPassword = "/account/reset-password"
	PathAcceptInvite  = "/account/register"
)

// RegisterInput asks for an account in the tenant named Tenant. Username
// defaults to Email. Invitation is the token of an invitation link; it is
// required when the tenant registers by invitation only, and binds the
// email: Email may then be left empty, and must otherwise be the invited
// address.
type RegisterInput struct {
	Tenant      string         `json:"tenant"`
	Email       string         `json:"email,omitempty"`
	Username    string         `json:"username,omitempty"`
	Password    users.Password `json:"password"`
	DisplayName string         `json:"displayName,omitempty"`
	Locale      string         `json:"locale,omitempty"`
	Invitation  string         `json:"invitation,omitempty"`
}

// RegisterOutput names the email verification to prove with its code.
// Under open registration it is returned whether or not the account was
// made; with an invitation the account is active at once, UserID is set
// and VerificationID is empty.
type RegisterOutput struct {
	VerificationID string `json:"verificationId,omitempty"`
	UserID         string `json:"userId,omitempty"`
}

// VerifyEmailInput proves an email address: by Token (from the link), or
// by VerificationID and Code (the six digits of the message).
type VerifyEmailInput struct {
	Tenant         string `json:"tenant"`
	Token          string `json:"token,omitempty"`
	VerificationID string `json:"verificationId,omitempty"`
	Code           string `json:"code,omitempty"`
}

// VerifyOutput confirms a proof.
type VerifyOutput struct {
	Verified bool `json:"verified"`
}

// ResendInput asks for a new verification message to Email.
type ResendInput struct {
	Tenant string `json:"tenant"`
	Email  string `json:"email"`
}

// AcceptedOutput is the one answer of the operations that must not tell
// whether an account exists.
type AcceptedOutput struct {
	Accepted bool `json:"accepted"`
	// VerificationID is set by resendVerification, real or decoy.
	VerificationID string `json:"verificationId,omitempty"`
}

// RequestResetInput asks for a password reset link sent to Email.
type RequestResetInput struct {
	Tenant string `json:"tenant"`
	Email  string `json:"email"`
}

// ResetPasswordInput sets a new password with the token of a reset link.
type ResetPasswordInput struct {
	Tenant      string         `json:"tenant"`
	Token       string         `json:"token"`
	NewPassword users.Password `json:"newPassword"`
}

// InviteInput invites Email into a tenant, and into OrgID when set
// (organization administrators must set it).
type InviteInput struct {
	TenantID string `json:"tenantId"`
	Email    string `json:"email"`
	OrgID    string `json:"orgId,omitempty"`
}

// IDOutput is the ID of what an operation made.
type IDOutput struct {
	ID string `json:"id"`
}

// UpdateProfileInput changes the caller's own profile; absent fields are
// kept. Attributes and Preferences are patches: a key set to null removes
// it, others set it; only attributes the tenant's schema marks
// userEditable may be changed. Email asks for a change of address, which
// applies only once the new address is verified. Phone "" removes the
// phone.
type UpdateProfileInput struct {
	DisplayName *string            `json:"displayName,omitempty"`
	Locale      *string            `json:"locale,omitempty"`
	Attributes  map[string]any     `json:"attributes,omitempty"`
	Preferences map[string]*string `json:"preferences,omitempty"`
	Phone       *string            `json:"phone,omitempty"`
	Email       *string            `json:"email,omitempty"`
}

// UpdateProfileOutput is the user as changed, and the verification sent
// to a new email address, if one was asked for.
type UpdateProfileOutput struct {
	User                store.User `json:"user"`
	EmailVerificationID string     `json:"emailVerificationId,omitempty"`
}

// StartPhoneInput is empty: the caller's own phone is verified.
type StartPhoneInput struct{}

// VerifyPhoneInput proves the caller's phone with the code sent by SMS.
type VerifyPhoneInput struct {
	VerificationID string `json:"verificationId"`
	Code           string `json:"code"`
}

// DeleteAccountInput deletes the caller's own account, given the current
// password.
type DeleteAccountInput struct {
	CurrentPassword users.Password `json:"currentPassword"`
}

// ExportInput is empty: the caller's own data is exported.
type ExportInput struct{}

// ExportOutput is everything Ward holds about the caller. Groups is
// absent when the groups store cannot be read; Truncated says a listing
// stopped at its bound (MaxExportItems).
type ExportOutput struct {
	ExportedAt   time.Time           `json:"exportedAt"`
	User         store.User          `json:"user"`
	Organization *store.Organization `json:"organization,omitempty"`
	Groups       []store.Group       `json:"groups,omitempty"`
	APITokens    []TokenInfo         `json:"apiTokens"`
	AuditEvents  []store.AuditEvent  `json:"auditEvents"`
	Truncated    bool                `json:"truncated,omitempty"`
}

// TokenInfo is an API token without its hash.
type TokenInfo struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Roles     []string  `json:"roles"`
	Orgs      []string  `json:"orgs,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// The inputs that hold a password or a token log without them.

func (in RegisterInput) LogValue() slog.Value {
	return slog.GroupValue(slog.String("tenant", in.Tenant))
}

func (in VerifyEmailInput) LogValue() slog.Value {
	return slog.GroupValue(slog.String("tenant", in.Tenant))
}

func (in ResetPasswordInput) LogValue() slog.Value {
	return slog.GroupValue(slog.String("tenant", in.Tenant))
}

func (in VerifyPhoneInput) LogValue() slog.Value {
	return slog.GroupValue(slog.String("verificationId", in.VerificationID))
}

func (in DeleteAccountInput) LogValue() slog.Value { return slog.GroupValue() }

// The inputs that hold an address or a phone log without it: they are
// personal data, which belongs in the audit trail, not in logs.

func (in ResendInput) LogValue() slog.Value {
	return slog.GroupValue(slog.String("tenant", in.Tenant))
}

func (in RequestResetInput) LogValue() slog.Value {
	return slog.GroupValue(slog.String("tenant", in.Tenant))
}

func (in InviteInput) LogValue() slog.Value {
	return slog.GroupValue(slog.String("tenantId", in.TenantID))
}

func (in UpdateProfileInput) LogValue() slog.Value { return slog.GroupValue() }
