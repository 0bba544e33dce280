package store

import (
	"context"
	"time"
)

// Group is a named set of a tenant's users, for authorization and for
// directory clients (LDAP serves groups as groupOfNames entries).
type Group struct {
	ID          string    `json:"id"`
	TenantID    string    `json:"tenantId"`
	Name        string    `json:"name"` // unique per tenant, stored folded to lower case
	DisplayName string    `json:"displayName"`
	Description string    `json:"description"`
	CreatedAt   time.Time `json:"createdAt"`
	UpdatedAt   time.Time `json:"updatedAt"`
	Version     int64     `json:"version"`
}

// MaxGroupsPerUser bounds the groups one user may belong to, so that
// reading a user's groups is one bounded read.
const MaxGroupsPerUser = 256

// Groups stores groups and their members. Every method is scoped by
// tenant like Users: a group or user of another tenant is ErrNotFound.
//
// Create fails with ErrConflict when the ID or the (folded) name is taken
// in the tenant; concurrent creates of one name succeed exactly once.
// Update is compare-and-swap like Tenants.Update; it may change Name
// (keeping uniqueness), DisplayName and Description. Delete removes the
// group and all its memberships.
//
// List returns the tenant's groups in order of ID with the paging
// guarantees of Tenants.List.
//
// AddMember makes the user a member; adding a member again is no error.
// It is ErrNotFound when the group or the user does not exist in the
// tenant, and ErrInvalidArgument when the user already belongs to
// MaxGroupsPerUser groups. RemoveMember is no error when the user was not
// a member (but ErrNotFound for a missing group). A membership is never
// left behind by a Delete of its group or user that runs while it is
// being added: one of the two fails (a backend without transactions may
// fail both; the caller tries again).
//
// Members lists the user IDs of a group in order of user ID, with cursors
// bound to the group. GroupsOf returns the groups a user belongs to,
// ordered by group ID (at most MaxGroupsPerUser); a missing user has none.
type Groups interface {
	Create(ctx context.Context, g Group) (Group, error)
	Get(ctx context.Context, tenantID, id string) (Group, error)
	GetByName(ctx context.Context, tenantID, name string) (Group, error)
	List(ctx context.Context, tenantID string, p Page) (items []Group, next string, err error)
	Update(ctx context.Context, tenantID, id string, fn func(Group) (Group, error)) (Group, error)
	Delete(ctx context.Context, tenantID, id string) error

	AddMember(ctx context.Context, tenantID, groupID, userID string) error
	RemoveMember(ctx context.Context, tenantID, groupID, userID string) error
	Members(ctx context.Context, tenantID, groupID string, p Page) (userIDs []string,
		next string, err error)
	GroupsOf(ctx context.Context, tenantID, userID string) ([]Group, error)
}
