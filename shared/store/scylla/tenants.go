package scylla

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
)

type tenants struct{ s *Store }

const listTenants = "tenants"

func checkTenant(t store.Tenant) error {
	if err := checkID("id", t.ID); err != nil {
		return err
	}
	if err := checkKey("name", t.Name); err != nil {
		return err
	}
	return checkTenantFields(t)
}

// checkTenantFields checks what Create and Update may set besides the name.
func checkTenantFields(t store.Tenant) error {
	if err := checkText("displayName", t.DisplayName); err != nil {
		return err
	}
	switch t.Registration {
	case "", store.RegistrationClosed, store.RegistrationOpen, store.RegistrationInvite:
	default:
		return errs.Invalid("registration", "must be CLOSED, OPEN or INVITE")
	}
	if _, err := encodeSchema(t.UserSchema); err != nil {
		return err
	}
	_, err := encodeSettings(t)
	return err
}

// tenantSettings is the JSON kept in the settings column.
type tenantSettings struct {
	Auth     store.AuthSettings `json:"auth"`
	Branding store.Branding     `json:"branding"`
	// Tokens are the initial access tokens for client registration.
	Tokens []store.RegistrationToken `json:"registrationTokens,omitempty"`
}

// encodeSettings returns the JSON of t's Auth, Branding and registration
// tokens ("" when all are empty), refusing it over store.MaxSettingsBytes.
func encodeSettings(t store.Tenant) (string, error) {
	set := tenantSettings{Auth: t.Auth, Branding: t.Branding, Tokens: t.RegistrationTokens}
	b, err := json.Marshal(set)
	if err != nil || !t.Auth.ValidUTF8() || !t.Branding.ValidUTF8() {
		return "", errs.Invalid("auth", "must be valid UTF-8")
	}
	if len(b) > store.MaxSettingsBytes {
		return "", errs.Invalid("auth", "auth and branding must be at most %d bytes as JSON",
			store.MaxSettingsBytes)
	}
	if string(b) == emptySettings {
		return "", nil
	}
	return string(b), nil
}

var emptySettings = func() string {
	b, _ := json.Marshal(tenantSettings{})
	return string(b)
}()

// maxSchemaBytes bounds a UserSchema as JSON. Package store bounds only the
// number of attributes; this keeps one tenant row (all tenants share a
// partition) from growing without limit through long enums. Every backend
// has the same bound.
const maxSchemaBytes = 256 << 10

// encodeSchema returns the JSON kept in the user_schema column ("" for
// none), refusing a schema too long or with text JSON would not keep.
func encodeSchema(defs []store.AttributeDef) (string, error) {
	if len(defs) > store.MaxSchemaAttributes {
		return "", errs.Invalid("userSchema", "must declare at most %d attributes",
			store.MaxSchemaAttributes)
	}
	if len(defs) == 0 {
		return "", nil
	}
	for _, d := range defs {
		ok := utf8.ValidString(d.Name) && utf8.ValidString(string(d.Type))
		for _, v := range d.Enum {
			ok = ok && utf8.ValidString(v)
		}
		if !ok {
			return "", errs.Invalid("userSchema", "must be valid UTF-8")
		}
	}
	b, err := json.Marshal(defs)
	if err != nil || len(b) > maxSchemaBytes {
		return "", errs.Invalid("userSchema", "must be at most %d bytes as JSON", maxSchemaBytes)
	}
	return string(b), nil
}

// tenantRow is a row of the tenants table. Columns added by later
// migrations are null in older rows and read back empty.
type tenantRow struct {
	ID           string    `db:"id"`
	Name         string    `db:"name"`
	DisplayName  string    `db:"display_name"`
	Registration string    `db:"registration"`
	UserSchema   string    `db:"user_schema"`
	Settings     string    `db:"settings"`
	CreatedAt    time.Time `db:"created_at"`
	UpdatedAt    time.Time `db:"updated_at"`
	Version      int64     `db:"version"`
}

func (r tenantRow) tenant() (store.Tenant, error) {
	t := store.Tenant{
		ID: r.ID, Name: r.Name, DisplayName: r.DisplayName,
		Registration: store.RegistrationMode(r.Registration),
		CreatedAt:    r.CreatedAt, UpdatedAt: r.UpdatedAt, Version: r.Version,
	}
	if r.UserSchema != "" {
		if err := json.Unmarshal([]byte(r.UserSchema), &t.UserSchema); err != nil {
			return store.Tenant{}, unavailable(err)
		}
	}
	if r.Settings != "" {
		var set tenantSettings
		if err := json.Unmarshal([]byte(r.Settings), &set); err != nil {
			return store.Tenant{}, unavailable(err)
		}
		t.Auth, t.Branding, t.RegistrationTokens = set.Auth, set.Branding, set.Tokens
	}
	return t, nil
}

// cloneSchema copies a schema deeply enough that the caller keeps no alias
// of what the store returns; an empty schema becomes nil.
func cloneSchema(defs []store.AttributeDef) []store.AttributeDef {
	if len(defs) == 0 {
		return nil
	}
	out := slices.Clone(defs)
	for i := range out {
		out[i].Enum = slices.Clone(out[i].Enum)
	}
	return out
}

// Create claims the name, then inserts the tenant if the ID is free.
func (ts tenants) Create(ctx context.Context, t store.Tenant) (store.Tenant, error) {
	s := ts.s
	if err := checkTenant(t); err != nil {
		return store.Tenant{}, err
	}
	t.CreatedAt, t.UpdatedAt = dbTime(t.CreatedAt), dbTime(t.UpdatedAt)
	t.Version = 1
	t.UserSchema = cloneSchema(t.UserSchema)
	schema, _ := encodeSchema(t.UserSchema) // checked by checkTenant
	t.Auth = t.Auth.Clone()
	t.RegistrationTokens = slices.Clone(t.RegistrationTokens)
	settings, _ := encodeSettings(t)

	taken, err := s.acquire(ctx, claimTenantName, scopeGlobal, t.Name, t.ID, ts.holdsName(t.Name))
	if errors.Is(err, errClaimTaken) {
		return store.Tenant{}, conflict("name", "tenant name already taken")
	}
	if err != nil {
		return store.Tenant{}, ctxErr(ctx, err)
	}

	applied, err := s.query(ctx, s.q.tenantInsert).
		Bind(t.ID, t.Name, t.DisplayName, string(t.Registration), schema, settings, t.CreatedAt,
			t.UpdatedAt, t.Version).
		ExecCASRelease()
	if err != nil {
		if landed, serr := s.settle(ctx, err, ts.holdsState(t)); serr == nil && landed {
			applied, err = true, nil
		}
	}
	if err != nil || !applied {
		if taken {
			s.release(ctx, claimTenantName, scopeGlobal, t.Name, t.ID)
		}
		if err != nil {
			return store.Tenant{}, ctxErr(ctx, err)
		}
		return store.Tenant{}, conflict("id", "tenant ID already taken")
	}
	return t, nil
}

// holdsName reports whether the tenant owner still has the name.
func (ts tenants) holdsName(name string) holdsFunc {
	return func(ctx context.Context, owner string) (bool, error) {
		t, err := ts.get(ctx, owner)
		if errs.CodeOf(err) == errs.NotFound {
			return false, nil
		}
		return err == nil && t.Name == name, err
	}
}

func (ts tenants) Get(ctx context.Context, id string) (store.Tenant, error) {
	if err := checkID("id", id); err != nil {
		return store.Tenant{}, err
	}
	return ts.get(ctx, id)
}

// holdsState reports, at serial consistency, whether the stored tenant is
// exactly want.
func (ts tenants) holdsState(want store.Tenant) func(context.Context) (bool, error) {
	return func(ctx context.Context) (bool, error) {
		got, err := ts.getSerial(ctx, want.ID)
		if errs.CodeOf(err) == errs.NotFound {
			return false, nil
		}
		return err == nil && sameTenant(got, want), err
	}
}

func sameTenant(a, b store.Tenant) bool {
	aSchema, aErr := encodeSchema(a.UserSchema)
	bSchema, bErr := encodeSchema(b.UserSchema)
	aSet, aSetErr := encodeSettings(a)
	bSet, bSetErr := encodeSettings(b)
	return a.ID == b.ID && a.Name == b.Name && a.DisplayName == b.DisplayName &&
		a.Registration == b.Registration && aErr == nil && bErr == nil &&
		aSchema == bSchema && aSetErr == nil && bSetErr == nil && aSet == bSet &&
		a.CreatedAt.Equal(b.CreatedAt) && a.UpdatedAt.Equal(b.UpdatedAt) &&
		a.Version == b.Version
}

func (ts tenants) get(ctx context.Context, id string) (store.Tenant, error) {
	var row tenantRow
	err := ts.s.query(ctx, ts.s.q.tenantGet).Bind(id).Idempotent(true).GetRelease(&row)
	if isNotFound(err) {
		return store.Tenant{}, notFound("tenant")
	}
	if err != nil {
		return store.Tenant{}, ctxErr(ctx, err)
	}
	return row.tenant()
}

// GetByName follows the name's claim to its tenant and checks that the
// tenant still has that name (a claim may outlive a failed write).
func (ts tenants) GetByName(ctx context.Context, name string) (store.Tenant, error) {
	if checkKey("name", name) != nil { // no tenant can have such a name
		return store.Tenant{}, notFound("tenant")
	}
	owner, err := ts.s.lookupClaim(ctx, claimTenantName, scopeGlobal, name)
	if err != nil {
		return store.Tenant{}, ctxErr(ctx, err)
	}
	if owner == "" {
		return store.Tenant{}, notFound("tenant")
	}
	t, err := ts.get(ctx, owner)
	if err != nil {
		return store.Tenant{}, err
	}
	if t.Name != name {
		return store.Tenant{}, notFound("tenant")
	}
	return t, nil
}

func (ts tenants) List(ctx context.Context, p store.Page) ([]store.Tenant, string, error) {
	limit, err := pageLimit(p)
	if err != nil {
		return nil, "", err
	}
	after, err := decodeCursor(p.After, listTenants, "")
	if err != nil {
		return nil, "", err
	}
	// One row more than asked tells whether a next page exists.
	iter := ts.s.query(ctx, ts.s.q.tenantList).Bind(after, limit+1).Idempotent(true).Iter()
	items := make([]store.Tenant, 0, limit)
	var row tenantRow
	more := false
	for iter.StructScan(&row) {
		if len(items) == limit {
			more = true
			break
		}
		t, err := row.tenant()
		if err != nil {
			_ = iter.Close()
			return nil, "", err
		}
		items = append(items, t)
		row = tenantRow{}
	}
	if err := iter.Close(); err != nil {
		return nil, "", ctxErr(ctx, err)
	}
	next := ""
	if more {
		next = encodeCursor(listTenants, "", items[len(items)-1].ID)
	}
	return items, next, nil
}

// Update runs fn on the current tenant and writes the result if the version
// has not moved; otherwise it reads again and retries.
func (ts tenants) Update(ctx context.Context, id string,
	fn func(store.Tenant) (store.Tenant, error)) (store.Tenant, error) {
	s := ts.s
	if err := checkID("id", id); err != nil {
		return store.Tenant{}, err
	}
	for attempt := range maxCASAttempts {
		backoff(ctx, attempt)
		old, err := ts.get(ctx, id)
		if err != nil {
			return store.Tenant{}, err
		}
		next, err := fn(old)
		if err != nil {
			return store.Tenant{}, err
		}
		// ID, Name, CreatedAt and Version are not fn's to change.
		next.ID, next.Name, next.CreatedAt = old.ID, old.Name, old.CreatedAt
		if err := checkTenantFields(next); err != nil {
			return store.Tenant{}, err
		}
		next.UpdatedAt = dbTime(next.UpdatedAt)
		next.Version = old.Version + 1
		next.UserSchema = cloneSchema(next.UserSchema)
		schema, _ := encodeSchema(next.UserSchema) // checked above
		next.Auth = next.Auth.Clone()
		next.RegistrationTokens = slices.Clone(next.RegistrationTokens)
		settings, _ := encodeSettings(next)

		var prev struct {
			Version *int64 `db:"version"`
		}
		applied, err := s.query(ctx, s.q.tenantUpdate).
			Bind(next.DisplayName, string(next.Registration), schema, settings, next.UpdatedAt,
				next.Version, id, old.Version).
			GetCASRelease(&prev)
		if err != nil {
			if applied, err = s.settle(ctx, err, ts.holdsState(next)); err != nil {
				return store.Tenant{}, ctxErr(ctx, err)
			}
			if !applied {
				continue // read again: the tenant may be gone or changed
			}
		}
		if applied {
			return next, nil
		}
		if prev.Version == nil {
			return store.Tenant{}, notFound("tenant")
		}
	}
	return store.Tenant{}, errs.New(errs.Conflict, "tenant changed concurrently; try again")
}

// Delete removes the tenant, then frees its name. It does not look at the
// tenant's users: refusing to delete a tenant that has some is the
// caller's rule (see Users.Count).
func (ts tenants) Delete(ctx context.Context, id string) error {
	s := ts.s
	if err := checkID("id", id); err != nil {
		return err
	}
	for attempt := range maxCASAttempts {
		backoff(ctx, attempt)
		old, err := ts.get(ctx, id)
		if err != nil {
			return err
		}
		var prev struct {
			Version *int64 `db:"version"`
		}
		applied, err := s.query(ctx, s.q.tenantDelete).Bind(id, old.Version).GetCASRelease(&prev)
		if err != nil {
			gone := func(ctx context.Context) (bool, error) {
				_, err := ts.getSerial(ctx, id)
				if errs.CodeOf(err) == errs.NotFound {
					return true, nil
				}
				return false, err
			}
			if applied, err = s.settle(ctx, err, gone); err != nil {
				return ctxErr(ctx, err)
			}
			if !applied {
				continue
			}
		}
		if applied {
			s.release(ctx, claimTenantName, scopeGlobal, old.Name, id)
			return nil
		}
		if prev.Version == nil {
			return notFound("tenant")
		}
	}
	return errs.New(errs.Conflict, "tenant changed concurrently; try again")
}

// getSerial reads a tenant at serial consistency.
func (ts tenants) getSerial(ctx context.Context, id string) (store.Tenant, error) {
	var row tenantRow
	err := serial(ts.s.query(ctx, ts.s.q.tenantGet)).Bind(id).GetRelease(&row)
	if isNotFound(err) {
		return store.Tenant{}, notFound("tenant")
	}
	if err != nil {
		return store.Tenant{}, err
	}
	return row.tenant()
}
