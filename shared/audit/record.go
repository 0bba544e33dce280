// Package audit keeps the trail of changes made through Ward's operations:
// the domain services record an event after each successful write
// (Recorder), and the audit function lists a tenant's trail to its
// administrators (Function).
package audit

import (
	"context"
	"encoding/json"
	"log/slog"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/validate"
)

// Target names the entity an event is about.
type Target struct {
	TenantID string // the trail: "" for system-level events
	Type     string // one of the target types below
	ID       string
}

// Target types.
const (
	TypeUser          = "user"
	TypeOrganization  = "organization"
	TypeTenant        = "tenant"
	TypeAPIToken      = "apitoken"
	TypeGroup         = "group"
	TypeTrustedIssuer = "trustedIssuer"
	TypeSigningKey    = "signingKey"
	TypeOAuthClient   = "oauthClient"
	// TypeRegistrationToken is an initial access token for dynamic
	// client registration (RFC 7591 section 3).
	TypeRegistrationToken = "registrationToken"
)

// Recorder appends events to the trail. The zero Recorder records
// nothing; a service built without a store for the trail stays usable.
type Recorder struct {
	Audit store.Audit
	Log   *slog.Logger     // nil: slog.Default()
	Now   func() time.Time // nil: time.Now
}

// Record appends one event about target, made by c, with the changed
// fields (see Changes). It returns nothing on purpose: it runs after the
// change it describes has been written, and that change stands whatever
// happens here. A failure to append is logged at error level and the
// operation still succeeds.
//
// Known shortcoming: the change and its event are two writes with no
// transaction or outbox between them, so a crash or a store failure
// between the two loses the event. Closing that gap needs an outbox
// written with the change, which the stores do not offer yet.
func (r Recorder) Record(ctx context.Context, c function.Caller, action string, t Target,
	changes map[string]store.AuditChange) {
	if r.Audit == nil {
		return
	}
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	e := store.AuditEvent{
		ID: validate.NewID(), TenantID: t.TenantID, At: now().UTC(), Actor: c.Subject,
		Action: action, TargetType: t.Type, TargetID: t.ID, RequestID: function.RequestID(ctx),
	}
	if len(changes) > 0 {
		e.Changes = changes
	}
	// The change is done: a cancelled request must not drop its event.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := r.Audit.Append(ctx, e); err != nil {
		log := r.Log
		if log == nil {
			log = slog.Default()
		}
		log.ErrorContext(ctx, "audit event lost", "action", action, "target_type", t.Type,
			"target_id", t.ID, "request_id", e.RequestID, "error", err)
	}
}

// Fields are the audited fields of an entity, as text. They never hold a
// secret: there is no field for a password or a token's hash.
type Fields map[string]string

// Changes returns the fields whose value differs between old and new, with
// both values. A nil old stands for a created entity, a nil new for a
// deleted one; empty values are left out then.
func Changes(old, new Fields) map[string]store.AuditChange {
	out := map[string]store.AuditChange{}
	for k, v := range new {
		if o := old[k]; o != v {
			out[k] = store.AuditChange{Old: o, New: v}
		}
	}
	for k, o := range old {
		if _, ok := new[k]; !ok && o != "" {
			out[k] = store.AuditChange{Old: o}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// UserFields are a user's audited fields.
func UserFields(u store.User) Fields {
	return Fields{
		"username": u.Username, "email": u.Email,
		"emailVerified": strconv.FormatBool(u.EmailVerified), "phone": u.Phone,
		"phoneVerified": strconv.FormatBool(u.PhoneVerified), "displayName": u.DisplayName,
		"status": string(u.Status), "orgId": u.OrgID, "locale": u.Locale,
		"attributes": jsonText(u.Attributes), "preferences": jsonText(u.Preferences),
	}
}

// jsonText writes a map or slice as JSON for the trail (map keys sorted),
// "" when empty.
// structText is the JSON of a settings struct, or "" for its zero value.
func structText[T any](v T) string {
	if reflect.ValueOf(v).IsZero() {
		return ""
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "(unprintable)"
	}
	return string(b)
}

func jsonText[T any](m T) string {
	if reflect.ValueOf(m).Len() == 0 {
		return ""
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "(unprintable)"
	}
	return string(b)
}

// OrgFields are an organization's audited fields.
func OrgFields(o store.Organization) Fields {
	return Fields{"name": o.Name, "displayName": o.DisplayName, "parentId": o.ParentID}
}

// TenantFields are a tenant's audited fields.
func TenantFields(t store.Tenant) Fields {
	return Fields{"name": t.Name, "displayName": t.DisplayName,
		"registration": string(t.Registration), "userSchema": jsonText(t.UserSchema),
		"auth": structText(t.Auth), "branding": structText(t.Branding)}
}

// TokenFields are an API token's audited fields: never its hash.
func TokenFields(t store.APIToken) Fields {
	f := Fields{
		"name": t.Name, "subject": t.Subject, "roles": strings.Join(t.Roles, ","),
		"orgs": strings.Join(t.Orgs, ","),
	}
	if !t.ExpiresAt.IsZero() {
		f["expiresAt"] = t.ExpiresAt.UTC().Format(time.RFC3339)
	}
	return f
}

// SecretChanged is the New value recorded for a secret that changed.
const SecretChanged = "(changed)"

// Changed records that a secret changed without recording the secret,
// before or after.
func Changed(field string) map[string]store.AuditChange {
	return map[string]store.AuditChange{field: {New: SecretChanged}}
}
