// Package store defines Ward's storage contracts: one interface per aggregate,
// implemented by every backend (store/bolt, store/scylla) and checked by one
// conformance suite (store/storetest).
//
// Domain packages depend on these interfaces only; they never import a
// backend.
//
// Errors: a missing entity is errs.ErrNotFound, a uniqueness violation or a
// lost compare-and-swap is errs.ErrConflict, a malformed cursor or ID is
// errs.ErrInvalidArgument. Backends never return their driver's errors to
// callers unwrapped: a failure of the backend itself is errs.ErrUnavailable
// with the driver error as its server-only cause.
package store

import (
	"context"
	"time"
)

// Store bundles the aggregates a backend provides.
type Store interface {
	Tenants() Tenants
	Users() Users
	Organizations() Organizations
	Credentials() Credentials
	APITokens() APITokens
	Audit() Audit
	Groups() Groups
	Verifications() Verifications
	SignIns() SignIns
	Sessions() Sessions
	Factors() Factors
	TrustedIssuers() TrustedIssuers
	SigningKeys() SigningKeys
	Clients() Clients
	RefreshTokens() RefreshTokens
	Consents() Consents
	// Close releases the backend's resources.
	Close() error
}

// Tenant is an isolated space of users, clients and policies.
type Tenant struct {
	ID          string `json:"id"`
	Name        string `json:"name"` // unique slug, lower case
	DisplayName string `json:"displayName"`
	// Registration says who may create an account by self-service; the
	// zero value is RegistrationClosed.
	Registration RegistrationMode `json:"registration,omitempty"`
	// UserSchema declares the profile attributes the tenant's users may
	// carry (User.Attributes). The store keeps it as given, bounded by
	// MaxSchemaAttributes; checking it is the tenants service's work.
	UserSchema []AttributeDef `json:"userSchema,omitempty"`
	// Auth holds the tenant's sign-in and session rules, Branding the
	// look of its hosted pages (see settings.go).
	Auth     AuthSettings `json:"auth"`
	Branding Branding     `json:"branding"`
	// RegistrationTokens are the tenant's initial access tokens for
	// dynamic client registration (settings.go), kept with its settings.
	// Never in JSON: tenant reads through functions do not show them.
	RegistrationTokens []RegistrationToken `json:"-"`
	CreatedAt          time.Time           `json:"createdAt"`
	UpdatedAt          time.Time           `json:"updatedAt"`
	Version            int64               `json:"version"` // set by the store; bumped on each update
}

// RegistrationMode is a tenant's self-service registration policy.
type RegistrationMode string

const (
	RegistrationClosed RegistrationMode = "CLOSED" // accounts are made by administrators only
	RegistrationOpen   RegistrationMode = "OPEN"   // anyone may register
	RegistrationInvite RegistrationMode = "INVITE" // only with an invitation sent by an administrator
)

// AttributeDef declares one profile attribute of a tenant's users.
type AttributeDef struct {
	// Name is the attribute's key in User.Attributes: a letter, then
	// letters, digits or underscores, at most 64 bytes.
	Name string        `json:"name"`
	Type AttributeType `json:"type"`
	// Required attributes must be present on every create and update.
	Required bool `json:"required,omitempty"`
	// MaxLength bounds a STRING attribute, in characters (0: 256).
	MaxLength int `json:"maxLength,omitempty"`
	// Enum, when set, lists the values a STRING attribute may take.
	Enum []string `json:"enum,omitempty"`
	// UserEditable attributes may be set by the user in self-service;
	// the others by administrators only.
	UserEditable bool `json:"userEditable,omitempty"`
}

// AttributeType is the JSON type of an attribute's value.
type AttributeType string

const (
	AttributeString  AttributeType = "STRING"  // a JSON string
	AttributeNumber  AttributeType = "NUMBER"  // a JSON number (float64 once decoded)
	AttributeBoolean AttributeType = "BOOLEAN" // true or false
)

// Bounds of profile data, checked by the store as well as the services.
const (
	MaxSchemaAttributes = 64       // attributes one tenant may declare
	MaxAttributesBytes  = 16 << 10 // a user's Attributes as JSON
	MaxPreferences      = 32       // entries in a user's Preferences
)

// User is a person or account inside one tenant. It carries no secret:
// operations return it to clients as it is, so passwords and other
// credentials live apart, in Credentials.
type User struct {
	ID            string     `json:"id"`
	TenantID      string     `json:"tenantId"`
	Username      string     `json:"username"` // unique per tenant, stored folded to lower case
	Email         string     `json:"email"`    // unique per tenant when set, stored folded
	EmailVerified bool       `json:"emailVerified"`
	Phone         string     `json:"phone"` // E.164 when set (checked by the caller); not unique
	PhoneVerified bool       `json:"phoneVerified"`
	DisplayName   string     `json:"displayName"`
	Status        UserStatus `json:"status"`
	// OrgID is the organization the user belongs to; empty for a user at
	// tenant level. When set it names an organization of the same tenant.
	OrgID string `json:"orgId,omitempty"`
	// Attributes are profile attributes, checked by the users service
	// against the tenant's UserSchema. Values are strings, float64
	// numbers or booleans. The store bounds their JSON form by
	// MaxAttributesBytes and keeps them otherwise as given.
	Attributes map[string]any `json:"attributes,omitempty"`
	// Locale is the user's preferred language (BCP 47, e.g. "fr-CA");
	// messages to the user use it. Empty: the tenant's default.
	Locale string `json:"locale,omitempty"`
	// Preferences are the user's own settings (time zone, notification
	// choices...), at most MaxPreferences short entries.
	Preferences map[string]string `json:"preferences,omitempty"`
	CreatedAt   time.Time         `json:"createdAt"`
	UpdatedAt   time.Time         `json:"updatedAt"`
	Version     int64             `json:"version"`
}

// UserStatus is the lifecycle state of a user.
type UserStatus string

const (
	UserActive   UserStatus = "ACTIVE"
	UserLocked   UserStatus = "LOCKED"
	UserDisabled UserStatus = "DISABLED"
	UserPending  UserStatus = "PENDING"
)

// APIToken is a bearer credential for the facade. Only the SHA-256 of the
// secret is stored; the secret itself is shown once, when it is created.
type APIToken struct {
	ID       string   `json:"id"`
	Hash     string   `json:"hash"` // hex SHA-256 of the secret; unique
	Name     string   `json:"name"`
	Subject  string   `json:"subject"`
	TenantID string   `json:"tenantId"` // empty for system scope
	Roles    []string `json:"roles"`
	// Orgs are the organizations an org_admin token administers; like
	// Roles, opaque text to the store (the service checks them).
	Orgs      []string  `json:"orgs,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
	ExpiresAt time.Time `json:"expiresAt"` // zero: never expires
}

// Page asks for one page of a listing.
type Page struct {
	// After is the opaque cursor returned with the previous page; empty for
	// the first page. A cursor from another listing, or a malformed one, is
	// errs.ErrInvalidArgument.
	After string
	// Limit is the page size, 1 to MaxPageSize; zero means DefaultPageSize.
	Limit int
}

const (
	DefaultPageSize = 50
	MaxPageSize     = 500
)

// Tenants stores tenants.
//
// Create fails with ErrConflict when the ID or the name is taken. Update reads
// the tenant, applies fn and writes the result only if nobody wrote in
// between (compare-and-swap on Version); fn may run more than once, and an
// error from fn is returned as is with nothing written. Update may change
// DisplayName, Registration, UserSchema, Auth and Branding; ID, Name and
// CreatedAt are kept. A UserSchema longer than MaxSchemaAttributes, or
// Auth and Branding over MaxSettingsBytes as JSON, is ErrInvalidArgument.
//
// List returns tenants in a stable order (by ID); a cursor stays valid while
// entities are added or removed, and no entity present for the whole listing
// is skipped or repeated.
type Tenants interface {
	Create(ctx context.Context, t Tenant) (Tenant, error)
	Get(ctx context.Context, id string) (Tenant, error)
	GetByName(ctx context.Context, name string) (Tenant, error)
	List(ctx context.Context, p Page) (items []Tenant, next string, err error)
	Update(ctx context.Context, id string, fn func(Tenant) (Tenant, error)) (Tenant, error)
	Delete(ctx context.Context, id string) error
}

// Users stores users. Every method is scoped by tenant: a user of another
// tenant is ErrNotFound, never visible.
//
// Create fails with ErrConflict when the ID, the username or the (non-empty)
// email is taken within the tenant; concurrent creates of one username
// succeed exactly once. Update is compare-and-swap like Tenants.Update and
// keeps uniqueness: changing the username or email to a taken one is
// ErrConflict and writes nothing. Delete frees the username and email and
// deletes the user's credentials (see Credentials). Phone and the two
// verified flags are plain fields: the store checks only that Phone is
// bounded UTF-8 text; its format is the caller's to check. A non-empty
// OrgID must name an organization of the tenant, else Create and Update are
// ErrInvalidArgument (field orgId) and write nothing. Attributes, Locale
// and Preferences are kept as given within the bounds above. Delete also
// removes the user from every group.
//
// Search lists, like List, the tenant's users that match every set field
// of the filter; its cursors are bound to the filter (a cursor of another
// listing or filter is ErrInvalidArgument). A backend may scan to find
// matches, and may then return fewer than Limit items with a non-empty
// cursor: callers page on until the cursor is empty.
type Users interface {
	Create(ctx context.Context, u User) (User, error)
	Get(ctx context.Context, tenantID, id string) (User, error)
	GetByUsername(ctx context.Context, tenantID, username string) (User, error)
	GetByEmail(ctx context.Context, tenantID, email string) (User, error)
	List(ctx context.Context, tenantID string, p Page) (items []User, next string, err error)
	Update(ctx context.Context, tenantID, id string, fn func(User) (User, error)) (User, error)
	Delete(ctx context.Context, tenantID, id string) error
	// Count reports how many users a tenant has (used to refuse deleting a
	// tenant that still has users).
	Count(ctx context.Context, tenantID string) (int, error)
	// ListByOrg lists, like List, the tenant's users whose OrgID is orgID
	// (a non-empty ID). Its cursors are bound to the organization: a
	// cursor of List or of another organization is ErrInvalidArgument.
	ListByOrg(ctx context.Context, tenantID, orgID string, p Page) (items []User, next string,
		err error)
	Search(ctx context.Context, tenantID string, f UserFilter, p Page) (items []User,
		next string, err error)
}

// UserFilter narrows a user listing; empty fields match everything.
type UserFilter struct {
	Status  UserStatus `json:"status,omitempty"`
	OrgID   string     `json:"orgId,omitempty"`
	GroupID string     `json:"groupId,omitempty"` // members of this group
	// Attribute and Value keep users whose attribute of that name equals
	// Value: a string attribute as is, a number in Go's shortest
	// 'g' formatting (strconv.FormatFloat(v, 'g', -1, 64)), a boolean as
	// "true" or "false". Value without Attribute is ErrInvalidArgument.
	Attribute string `json:"attribute,omitempty"`
	Value     string `json:"value,omitempty"`
}

// Organization groups users inside a tenant. Organizations nest: ParentID
// names the parent, empty for a top-level one.
type Organization struct {
	ID          string    `json:"id"`
	TenantID    string    `json:"tenantId"`
	ParentID    string    `json:"parentId,omitempty"`
	Name        string    `json:"name"` // unique per tenant, stored folded to lower case
	DisplayName string    `json:"displayName"`
	Depth       int       `json:"depth"` // set by the store: 1 at top level, parent's + 1 below
	CreatedAt   time.Time `json:"createdAt"`
	UpdatedAt   time.Time `json:"updatedAt"`
	Version     int64     `json:"version"`
}

// MaxOrgDepth bounds how deep organizations nest: a top-level organization
// has depth 1. The bound keeps every walk up the tree (authorization
// resolves ancestry that way) to a handful of reads.
const MaxOrgDepth = 8

// Organizations stores organizations. Every method is scoped by tenant like
// Users: an organization of another tenant is ErrNotFound.
//
// Create fails with ErrConflict when the ID or the name (folded, unique per
// tenant, whatever the parent) is taken; concurrent creates of one name
// succeed exactly once. A ParentID that names no organization of the tenant
// is ErrNotFound; a parent at MaxOrgDepth is ErrInvalidArgument. The store
// sets Depth and Version.
//
// List returns the children of parentID ("" for the top level) in order of
// ID, with cursors bound to that parent; pagination keeps the guarantees of
// Tenants.List.
//
// Update is compare-and-swap like Tenants.Update; it may change Name
// (keeping uniqueness) and DisplayName; ID, TenantID, ParentID, Depth and
// CreatedAt are kept.
//
// Delete fails with ErrConflict while the organization has child
// organizations or users, and a child or user is never left behind by a
// Delete that succeeds while it is being added: one of the two fails (a
// backend without transactions may fail both; the caller tries again).
//
// Known shortcoming: nothing refuses deleting a tenant that still has
// organizations (the tenants service checks for users only), which leaves
// them behind, unreachable.
type Organizations interface {
	Create(ctx context.Context, o Organization) (Organization, error)
	Get(ctx context.Context, tenantID, id string) (Organization, error)
	List(ctx context.Context, tenantID, parentID string, p Page) (items []Organization,
		next string, err error)
	Update(ctx context.Context, tenantID, id string,
		fn func(Organization) (Organization, error)) (Organization, error)
	Delete(ctx context.Context, tenantID, id string) error
}

// PasswordCredential is a user's password as stored: its hash only (a PHC
// string, see package passwords), never the password. It has no JSON form
// on purpose; no operation returns it.
type PasswordCredential struct {
	Hash      string
	UpdatedAt time.Time // when the hash was set; UTC, millisecond precision
}

// Credentials stores the secrets users prove themselves with, apart from
// User so that no operation returning a user can carry one. Every method
// is scoped by tenant like Users: a user of another tenant is ErrNotFound.
//
// SetPassword stores hash as the user's password, replacing any earlier one
// (the last write wins). It is ErrNotFound when the user does not exist in
// the tenant, and ErrInvalidArgument for malformed IDs or an empty,
// oversized or non-UTF-8 hash; then it writes nothing. The store keeps the
// hash as given: hashing and checking it are the caller's work.
//
// GetPassword returns the stored hash; ErrNotFound when the user has none
// or does not exist.
//
// Users.Delete deletes the user's credentials with it: once Delete has
// returned, GetPassword is ErrNotFound. (Backends without multi-table
// transactions delete them right after the user, and a Delete of a missing
// user removes any credential left behind, so that retrying a Delete that
// failed half-way cleans up.)
type Credentials interface {
	SetPassword(ctx context.Context, tenantID, userID, hash string, at time.Time) error
	GetPassword(ctx context.Context, tenantID, userID string) (PasswordCredential, error)
}

// APITokens stores facade tokens. Create fails with ErrConflict when the ID
// (within the tenant scope) or the hash is taken; the bootstrap token relies
// on this to be created exactly once. A token whose ExpiresAt has passed is gone:
// GetByHash returns ErrNotFound for it (backends may delete it lazily, but
// never return it).
//
// DeleteBySubject deletes every token of the tenant whose Subject is
// subject and reports how many it deleted; tokens of other tenants are
// untouched. It revokes a user's credentials after a password reset.
type APITokens interface {
	Create(ctx context.Context, t APIToken) (APIToken, error)
	GetByHash(ctx context.Context, hash string) (APIToken, error)
	List(ctx context.Context, tenantID string, p Page) (items []APIToken, next string, err error)
	Delete(ctx context.Context, tenantID, id string) error
	DeleteBySubject(ctx context.Context, tenantID, subject string) (int, error)
}

// AuditEvent records one change made through Ward's operations: who did
// what to which entity, and which fields changed. It never holds a secret:
// a password change records only that the password changed.
type AuditEvent struct {
	// ID is a version-7 UUID; its time order is the trail's order.
	ID string `json:"id"`
	// TenantID is the tenant whose trail holds the event; empty for
	// system-level events (creating or deleting a tenant, system tokens).
	TenantID string    `json:"tenantId"`
	At       time.Time `json:"at"`
	// Actor is the subject of the caller that made the change.
	Actor string `json:"actor"`
	// Action names the operation, "<aggregate>.<verb>", e.g. "user.update".
	Action     string `json:"action"`
	TargetType string `json:"targetType"` // "user", "organization", "tenant", "apitoken"
	TargetID   string `json:"targetId"`   // a version-7 UUID
	// Changes maps a field name to its value before and after; nil when
	// the action says it all (a delete, say).
	Changes   map[string]AuditChange `json:"changes,omitempty"`
	RequestID string                 `json:"requestId,omitempty"`
}

// AuditChange is one field's value before and after a change, as text.
// Old is empty for a created entity, New for a deleted one.
type AuditChange struct {
	Old string `json:"old"`
	New string `json:"new"`
}

// AuditFilter narrows an audit listing. The zero filter lists everything.
type AuditFilter struct {
	// TargetID, when set, keeps the events about that entity only.
	TargetID string
}

// MaxAuditChanges bounds the fields one event may record.
const MaxAuditChanges = 64

// Audit stores the trail of changes, one trail per tenant plus one for
// system-level events (TenantID "").
//
// Append writes one event; the store checks the IDs (ID, TargetID, and
// TenantID unless empty, are version-7 UUIDs), that Actor, Action and
// TargetType are non-empty bounded UTF-8 text, that At is set, and bounds
// Changes to MaxAuditChanges fields. An ID already taken in any trail is
// ErrConflict and writes nothing. Events are never updated or deleted.
//
// List returns a trail newest first, in descending order of ID (the IDs of
// one process rise with time; two processes' events of one millisecond
// are ordered by their IDs' random bits), keeping
// the paging guarantees of Tenants.List: a cursor stays valid while events
// are appended (they are newer, so they land before it) and no event is
// skipped or repeated. Cursors are bound to the trail and to the filter: a
// cursor of another tenant, another target or another listing is
// ErrInvalidArgument.
type Audit interface {
	Append(ctx context.Context, e AuditEvent) error
	List(ctx context.Context, tenantID string, f AuditFilter, p Page) (items []AuditEvent,
		next string, err error)
}

type bulkKey struct{}

// WithBulk marks ctx as carrying one of many concurrent writes of a bulk
// operation (an import). A backend may then trade the latency of each write
// for throughput, for instance by committing several writers' changes in
// one transaction; the contracts above hold all the same.
func WithBulk(ctx context.Context) context.Context {
	return context.WithValue(ctx, bulkKey{}, true)
}

// Bulk reports whether ctx was marked by WithBulk.
func Bulk(ctx context.Context) bool {
	b, _ := ctx.Value(bulkKey{}).(bool)
	return b
}
