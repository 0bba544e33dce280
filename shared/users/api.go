package users

import (
	"log/slog"

	"github.com/wardhq/ward/shared/store"
)

// FunctionName is the function that owns users.
const FunctionName = "users"

// Operation names.
const (
	OpCreate = "users.create"
	OpGet    = "users.get" // also for service callers (the UserInfo endpoint)
	OpList   = "users.list"
	OpUpdate = "users.update"
	OpDelete = "users.delete"

	// OpSetPassword sets a user's password: tenant administrators.
	OpSetPassword = "users.setPassword"
	// OpChangePassword changes one's own password, given the current one.
	OpChangePassword = "users.changePassword"
	// OpVerifyPassword checks a username and password: Ward's own
	// components only (login, the LDAP listener).
	OpVerifyPassword = "users.verifyPassword"
)

// Password is a password in plain text, as it travels in an input. It
// marshals to JSON as itself, since inputs cross the invoker as JSON, but
// prints and logs as "[redacted]", so that no log line or formatted input
// shows it.
type Password string

const redacted = "[redacted]"

func (Password) String() string       { return redacted }
func (Password) GoString() string     { return redacted }
func (Password) LogValue() slog.Value { return slog.StringValue(redacted) }

// CreateInput creates a user in a tenant. Status defaults to ACTIVE.
// Password, when set, must pass the password policy; the user is created
// with it or not at all. Phone is an E.164 number (+ and 7 to 15 digits).
// OrgID places the user in an organization of the tenant; organization
// administrators must set it, to one of the organizations they reach.
// Attributes are checked against the tenant's user schema (package
// attributes); Locale is a BCP 47 tag; Preferences are free short entries.
type CreateInput struct {
	TenantID      string            `json:"tenantId"`
	Username      string            `json:"username"`
	Email         string            `json:"email,omitempty"`
	EmailVerified bool              `json:"emailVerified,omitempty"`
	Phone         string            `json:"phone,omitempty"`
	PhoneVerified bool              `json:"phoneVerified,omitempty"`
	DisplayName   string            `json:"displayName,omitempty"`
	Status        store.UserStatus  `json:"status,omitempty"`
	OrgID         string            `json:"orgId,omitempty"`
	Password      Password          `json:"password,omitempty"`
	Attributes    map[string]any    `json:"attributes,omitempty"`
	Locale        string            `json:"locale,omitempty"`
	Preferences   map[string]string `json:"preferences,omitempty"`
}

// GetInput names one user.
type GetInput struct {
	TenantID string `json:"tenantId"`
	ID       string `json:"id"`
}

// ListInput asks for one page of a tenant's users, or, with OrgID, of the
// users of one organization (not of those below it). Organization
// administrators must set OrgID.
type ListInput struct {
	TenantID string `json:"tenantId"`
	OrgID    string `json:"orgId,omitempty"`
	After    string `json:"after,omitempty"`
	First    int    `json:"first,omitempty"`
	// Filter, when it narrows anything, keeps the users that match all
	// its fields (store.Users.Search); its orgId acts as OrgID.
	Filter *store.UserFilter `json:"filter,omitempty"`
}

// ListOutput is one page of users; Next is empty on the last page.
type ListOutput struct {
	Items []store.User `json:"items"`
	Next  string       `json:"next,omitempty"`
}

// UpdateInput changes the fields that are set. OrgID moves the user to
// another organization ("" to tenant level), which needs administration
// rights over both the user's organization and the new one. A new Email
// or Phone is unverified unless EmailVerified or PhoneVerified says
// otherwise. Attributes and Preferences are merge patches (RFC 7396): a
// key set to null removes the entry, the others set it; the result is
// checked against the tenant's schema.
type UpdateInput struct {
	TenantID      string             `json:"tenantId"`
	ID            string             `json:"id"`
	Username      *string            `json:"username,omitempty"`
	Email         *string            `json:"email,omitempty"`
	EmailVerified *bool              `json:"emailVerified,omitempty"`
	Phone         *string            `json:"phone,omitempty"`
	PhoneVerified *bool              `json:"phoneVerified,omitempty"`
	DisplayName   *string            `json:"displayName,omitempty"`
	Status        *store.UserStatus  `json:"status,omitempty"`
	OrgID         *string            `json:"orgId,omitempty"`
	Attributes    map[string]any     `json:"attributes,omitempty"`
	Locale        *string            `json:"locale,omitempty"`
	Preferences   map[string]*string `json:"preferences,omitempty"`
}

// DeleteInput names the user to delete.
type DeleteInput struct {
	TenantID string `json:"tenantId"`
	ID       string `json:"id"`
}

// DeleteOutput echoes the deleted ID.
type DeleteOutput struct {
	ID string `json:"id"`
}

// SetPasswordInput sets a user's password, replacing any earlier one.
type SetPasswordInput struct {
	TenantID string   `json:"tenantId"`
	ID       string   `json:"id"`
	Password Password `json:"password"`
}

// ChangePasswordInput changes the caller's own password.
type ChangePasswordInput struct {
	TenantID        string   `json:"tenantId"`
	ID              string   `json:"id"`
	CurrentPassword Password `json:"currentPassword"`
	NewPassword     Password `json:"newPassword"`
}

// PasswordOutput echoes the ID of the user whose password was set.
type PasswordOutput struct {
	ID string `json:"id"`
}

// VerifyPasswordInput is a username and password to check in a tenant.
type VerifyPasswordInput struct {
	TenantID string   `json:"tenantId"`
	Username string   `json:"username"`
	Password Password `json:"password"`
}

// VerifyPasswordOutput is the user the password belongs to.
type VerifyPasswordOutput struct {
	User store.User `json:"user"`
}

// The inputs that hold a password log as their IDs only: a log handler
// that encodes a struct as JSON would otherwise write the password out.

func (in CreateInput) LogValue() slog.Value {
	return slog.GroupValue(slog.String("tenantId", in.TenantID),
		slog.Bool("password", in.Password != ""))
}

func (in SetPasswordInput) LogValue() slog.Value {
	return slog.GroupValue(slog.String("tenantId", in.TenantID), slog.String("id", in.ID))
}

func (in ChangePasswordInput) LogValue() slog.Value {
	return slog.GroupValue(slog.String("tenantId", in.TenantID), slog.String("id", in.ID))
}

func (in VerifyPasswordInput) LogValue() slog.Value {
	return slog.GroupValue(slog.String("tenantId", in.TenantID))
}
