package orgs

import "github.com/wardhq/ward/shared/store"

// FunctionName is the function that owns organizations.
const FunctionName = "orgs"

// Operation names.
const (
	OpCreate = "orgs.create"
	OpGet    = "orgs.get"
	OpList   = "orgs.list"
	OpUpdate = "orgs.update"
	OpDelete = "orgs.delete"
)

// CreateInput creates an organization. ParentID empty makes a top-level
// one (tenant administrators only). Name is a slug like a tenant's, unique
// in the tenant.
type CreateInput struct {
	TenantID    string `json:"tenantId"`
	ParentID    string `json:"parentId,omitempty"`
	Name        string `json:"name"`
	DisplayName string `json:"displayName,omitempty"`
}

// GetInput names one organization.
type GetInput struct {
	TenantID string `json:"tenantId"`
	ID       string `json:"id"`
}

// ListInput asks for one page of the children of ParentID ("" for the top
// level).
type ListInput struct {
	TenantID string `json:"tenantId"`
	ParentID string `json:"parentId,omitempty"`
	After    string `json:"after,omitempty"`
	First    int    `json:"first,omitempty"`
}

// ListOutput is one page of organizations; Next is empty on the last page.
type ListOutput struct {
	Items []store.Organization `json:"items"`
	Next  string               `json:"next,omitempty"`
}

// UpdateInput changes the fields that are set.
type UpdateInput struct {
	TenantID    string  `json:"tenantId"`
	ID          string  `json:"id"`
	Name        *string `json:"name,omitempty"`
	DisplayName *string `json:"displayName,omitempty"`
}

// DeleteInput names the organization to delete; one with child
// organizations or users is refused.
type DeleteInput struct {
	TenantID string `json:"tenantId"`
	ID       string `json:"id"`
}

// DeleteOutput echoes the deleted ID.
type DeleteOutput struct {
	ID string `json:"id"`
}
