package function

import (
	"context"
	"slices"

	"github.com/wardhq/ward/shared/errs"
)

// Roles a caller may hold.
const (
	RoleSystemAdmin = "system_admin" // every tenant
	RoleTenantAdmin = "tenant_admin" // its own tenant
	// RoleOrgAdmin administers the organizations in Caller.Orgs, inside
	// Caller.Tenant, and every organization below them (package orgs
	// resolves the tree).
	RoleOrgAdmin = "org_admin"
	RoleUser     = "user"
	// RoleService is held by Ward's own components (the facade) when they
	// call operations that no end user may call, such as token verification.
	RoleService = "service"
)

// Caller is the authenticated identity on whose behalf an operation runs.
// It travels with every invocation; operations check it before they touch
// storage.
type Caller struct {
	Subject string   `json:"sub"`
	Tenant  string   `json:"tenant,omitempty"` // empty for system scope
	Roles   []string `json:"roles,omitempty"`
	// Orgs are the organizations of Tenant that an org_admin administers;
	// meaningless without that role.
	Orgs []string `json:"orgs,omitempty"`

	// The fields below are set when the caller is a user signed in with a
	// session (package sessions), empty for API tokens.

	// Session is the ID of the session the caller presented (not its
	// token); per-session application state is keyed by it.
	Session string `json:"sid,omitempty"`
	// ACR is the authentication context class the session reached
	// (store.ACRPassword, store.ACRMultiFactor), AMR the methods used
	// (RFC 8176 values: "pwd", "otp", "hwk", ...), and AuthTime the Unix
	// time of the last sign-in at that class.
	ACR      string   `json:"acr,omitempty"`
	AMR      []string `json:"amr,omitempty"`
	AuthTime int64    `json:"authTime,omitempty"`
	// SessionExpires is the Unix time at which the session ends whatever
	// its use (its absolute timeout); data kept for the session may live
	// that long.
	SessionExpires int64 `json:"sessionExp,omitempty"`
}

// Has reports whether the caller holds role.
func (c Caller) Has(role string) bool { return slices.Contains(c.Roles, role) }

// Anonymous reports whether no one is authenticated.
func (c Caller) Anonymous() bool { return c.Subject == "" }

// RequireSystemAdmin allows system administrators only.
func (c Caller) RequireSystemAdmin() error {
	if c.Anonymous() {
		return errs.New(errs.Unauthenticated, "authentication required")
	}
	if !c.Has(RoleSystemAdmin) {
		return errs.New(errs.PermissionDenied, "system administrator role required")
	}
	return nil
}

// RequireTenantAdmin allows system administrators and administrators of
// the given tenant.
func (c Caller) RequireTenantAdmin(tenantID string) error {
	if c.Anonymous() {
		return errs.New(errs.Unauthenticated, "authentication required")
	}
	if c.Has(RoleSystemAdmin) {
		return nil
	}
	if c.Has(RoleTenantAdmin) && c.Tenant != "" && c.Tenant == tenantID {
		return nil
	}
	return errs.New(errs.PermissionDenied, "not an administrator of this tenant")
}

// RequireService allows Ward's own components only.
func (c Caller) RequireService() error {
	if !c.Has(RoleService) {
		return errs.New(errs.PermissionDenied, "service role required")
	}
	return nil
}

type requestIDKey struct{}

// WithRequestID returns ctx carrying the request ID.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the request ID carried by ctx, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}
