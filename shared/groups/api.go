package groups

import "github.com/wardhq/ward/shared/store"

// FunctionName is the function that owns groups.
const FunctionName = "groups"

// Operation names.
const (
	OpCreate = "groups.create"
	OpGet    = "groups.get"
	// OpGetByName finds a group by its name (the LDAP listener's cn).
	OpGetByName    = "groups.getByName"
	OpList         = "groups.list"
	OpUpdate       = "groups.update"
	OpDelete       = "groups.delete"
	OpAddMember    = "groups.addMember"
	OpRemoveMember = "groups.removeMember"
	OpMembers      = "groups.members"
	OpGroupsOf     = "groups.groupsOf"
)

// Bounds of a group's free text, in characters.
const (
	MaxDisplayName = 200
	MaxDescription = 1000
)

// CreateInput creates a group. Name is a slug like an organization's,
// folded to lower case and unique in the tenant.
type CreateInput struct {
	TenantID    string `json:"tenantId"`
	Name        string `json:"name"`
	DisplayName string `json:"displayName,omitempty"`
	Description string `json:"description,omitempty"`
}

// GetInput names one group.
type GetInput struct {
	TenantID string `json:"tenantId"`
	ID       string `json:"id"`
}

// GetByNameInput names one group by its name, folded to lower case. A
// name that no group can have is NOT_FOUND, like a missing group.
type GetByNameInput struct {
	TenantID string `json:"tenantId"`
	Name     string `json:"name"`
}

// ListInput asks for one page of a tenant's groups, in order of ID.
type ListInput struct {
	TenantID string `json:"tenantId"`
	After    string `json:"after,omitempty"`
	First    int    `json:"first,omitempty"`
}

// ListOutput is one page of groups; Next is empty on the last page.
type ListOutput struct {
	Items []store.Group `json:"items"`
	Next  string        `json:"next,omitempty"`
}

// UpdateInput changes the fields that are set.
type UpdateInput struct {
	TenantID    string  `json:"tenantId"`
	ID          string  `json:"id"`
	Name        *string `json:"name,omitempty"`
	DisplayName *string `json:"displayName,omitempty"`
	Description *string `json:"description,omitempty"`
}

// DeleteInput names the group to delete, with its memberships.
type DeleteInput struct {
	TenantID string `json:"tenantId"`
	ID       string `json:"id"`
}

// DeleteOutput echoes the deleted ID.
type DeleteOutput struct {
	ID string `json:"id"`
}

// MemberInput names a membership: a user of the tenant in one of its
// groups.
type MemberInput struct {
	TenantID string `json:"tenantId"`
	GroupID  string `json:"groupId"`
	UserID   string `json:"userId"`
}

// MemberOutput echoes the membership that was added or removed.
type MemberOutput struct {
	GroupID string `json:"groupId"`
	UserID  string `json:"userId"`
}

// MembersInput asks for one page of a group's members, in order of user
// ID.
type MembersInput struct {
	TenantID string `json:"tenantId"`
	GroupID  string `json:"groupId"`
	After    string `json:"after,omitempty"`
	First    int    `json:"first,omitempty"`
}

// MembersOutput is one page of a group's members as user records. For an
// organization administrator the members out of reach are left out, so
// a page may hold fewer than First users while Next is set: page on
// until Next is empty.
type MembersOutput struct {
	Items []store.User `json:"items"`
	Next  string       `json:"next,omitempty"`
}

// GroupsOfInput names the user whose groups are wanted.
type GroupsOfInput struct {
	TenantID string `json:"tenantId"`
	UserID   string `json:"userId"`
}

// GroupsOfOutput lists a user's groups in order of ID (at most
// store.MaxGroupsPerUser).
type GroupsOfOutput struct {
	Items []store.Group `json:"items"`
}
