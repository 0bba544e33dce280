package users

import "github.com/wardhq/ward/shared/store"

// FunctionName is the function that owns users.
const FunctionName = "users"

// Operation names.
const (
	OpCreate = "users.create"
	OpGet    = "users.get"
	OpList   = "users.list"
	OpUpdate = "users.update"
	OpDelete = "users.delete"
)

// CreateInput creates a user in a tenant. Status defaults to ACTIVE.
type CreateInput struct {
	TenantID    string           `json:"tenantId"`
	Username    string           `json:"username"`
	Email       string           `json:"email,omitempty"`
	DisplayName string           `json:"displayName,omitempty"`
	Status      store.UserStatus `json:"status,omitempty"`
}

// GetInput names one user.
type GetInput struct {
	TenantID string `json:"tenantId"`
	ID       string `json:"id"`
}

// ListInput asks for one page of a tenant's users.
type ListInput struct {
	TenantID string `json:"tenantId"`
	After    string `json:"after,omitempty"`
	First    int    `json:"first,omitempty"`
}

// ListOutput is one page of users; Next is empty on the last page.
type ListOutput struct {
	Items []store.User `json:"items"`
	Next  string       `json:"next,omitempty"`
}

// UpdateInput changes the fields that are set.
type UpdateInput struct {
	TenantID    string            `json:"tenantId"`
	ID          string            `json:"id"`
	Username    *string           `json:"username,omitempty"`
	Email       *string           `json:"email,omitempty"`
	DisplayName *string           `json:"displayName,omitempty"`
	Status      *store.UserStatus `json:"status,omitempty"`
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
