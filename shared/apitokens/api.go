package apitokens

import "github.com/wardhq/ward/shared/store"

// FunctionName is the function that owns API tokens (administration).
const FunctionName = "admin"

// Operation names.
const (
	OpVerify = "apitokens.verify" // service callers only
	OpCreate = "apitokens.create"
	OpList   = "apitokens.list"
	OpDelete = "apitokens.delete"
)

// VerifyInput carries a presented bearer token. The output is the
// function.Caller the token stands for.
type VerifyInput struct {
	Token string `json:"token"`
}

// CreateInput creates a token. TenantID empty means system scope (system
// administrators only). TTLSeconds zero means no expiry. Orgs goes with
// the org_admin role, and only with it: the organizations of the tenant
// the token administers (with everything below them).
//
// UserID makes a personal token that acts as that user of the tenant:
// roles must be exactly ["user"], the lifetime is required and at most
// MaxUserTTL, and the token works only while the user exists and is
// ACTIVE. It is what tenant administrators hand to a person or a script
// to use the self-service operations before sign-in flows exist for them,
// and it is revoked with the user's other credentials when the password is
// reset or the account deleted.
type CreateInput struct {
	TenantID   string   `json:"tenantId,omitempty"`
	UserID     string   `json:"userId,omitempty"`
	Name       string   `json:"name"`
	Roles      []string `json:"roles"`
	Orgs       []string `json:"orgs,omitempty"`
	TTLSeconds int64    `json:"ttlSeconds,omitempty"`
}

// CreateOutput returns the secret once; only its hash is stored.
type CreateOutput struct {
	Token    string         `json:"token"`
	APIToken store.APIToken `json:"apiToken"`
}

// ListInput asks for one page of a tenant's tokens ("" for system tokens).
type ListInput struct {
	TenantID string `json:"tenantId,omitempty"`
	After    string `json:"after,omitempty"`
	First    int    `json:"first,omitempty"`
}

// ListOutput is one page of tokens (hashes left out).
type ListOutput struct {
	Items []store.APIToken `json:"items"`
	Next  string           `json:"next,omitempty"`
}

// DeleteInput names the token to delete.
type DeleteInput struct {
	TenantID string `json:"tenantId,omitempty"`
	ID       string `json:"id"`
}

// DeleteOutput echoes the deleted ID.
type DeleteOutput struct {
	ID string `json:"id"`
}
