package tenants

import "github.com/wardhq/ward/shared/store"

// FunctionName is the function that owns tenants.
const FunctionName = "tenants"

// Operation names.
const (
	OpCreate = "tenants.create"
	OpGet    = "tenants.get"
	// OpGetByName resolves a tenant's name (as in issuer URLs and LDAP base
	// DNs) to the tenant.
	OpGetByName = "tenants.getByName"
	OpList      = "tenants.list"
	OpUpdate    = "tenants.update"
	OpDelete    = "tenants.delete"
)

// CreateInput creates a tenant. Name is a slug: 3 to 63 characters of
// lower-case letters, digits and inner hyphens.
type CreateInput struct {
	Name        string `json:"name"`
	DisplayName string `json:"displayName"`
}

// GetInput names one tenant.
type GetInput struct {
	ID string `json:"id"`
}

// GetByNameInput names one tenant by its slug.
type GetByNameInput struct {
	Name string `json:"name"`
}

// ListInput asks for one page of tenants.
type ListInput struct {
	After string `json:"after,omitempty"`
	First int    `json:"first,omitempty"`
}

// ListOutput is one page of tenants; Next is empty on the last page.
type ListOutput struct {
	Items []store.Tenant `json:"items"`
	Next  string         `json:"next,omitempty"`
}

// UpdateInput changes the fields that are set. UserSchema, when set,
// replaces the whole schema (an empty list removes it); users already
// stored are not rechecked (package attributes says when they are).
type UpdateInput struct {
	ID           string                  `json:"id"`
	DisplayName  *string                 `json:"displayName,omitempty"`
	Registration *store.RegistrationMode `json:"registration,omitempty"`
	UserSchema   *[]store.AttributeDef   `json:"userSchema,omitempty"`
	// Auth and Branding, when set, replace the tenant's sign-in settings
	// or branding as a whole (the zero value restores Ward's defaults).
	Auth     *store.AuthSettings `json:"auth,omitempty"`
	Branding *store.Branding     `json:"branding,omitempty"`
}

// DeleteInput names the tenant to delete; a tenant with users is refused.
type DeleteInput struct {
	ID string `json:"id"`
}

// DeleteOutput echoes the deleted ID.
type DeleteOutput struct {
	ID string `json:"id"`
}
