package bolt

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	bbolt "go.etcd.io/bbolt"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
)

type tenants struct{ s *Store }

// tenantRec is a tenant as stored. Records of schema 4 and before have
// neither Registration nor UserSchema, and read back with both empty.
type tenantRec struct {
	Name         string `json:"n"`
	DisplayName  string `json:"d,omitempty"`
	Registration string `json:"r,omitempty"`
	// UserSchema is kept as the JSON array it encodes to.
	UserSchema []store.AttributeDef `json:"us,omitempty"`
	// Auth and Branding are absent from records of schema 5 and before.
	Auth     *store.AuthSettings `json:"a,omitempty"`
	Branding *store.Branding     `json:"b,omitempty"`
	// Tokens are the initial access tokens for client registration.
	Tokens  []store.RegistrationToken `json:"rt,omitempty"`
	Created int64                     `json:"c"`
	Updated int64                     `json:"u"`
	Version int64                     `json:"v"`
}

func (r tenantRec) tenant(id uuid.UUID) store.Tenant {
	t := store.Tenant{
		ID: id.String(), Name: r.Name, DisplayName: r.DisplayName,
		Registration: store.RegistrationMode(r.Registration), UserSchema: cloneSchema(r.UserSchema),
		CreatedAt: fromMS(r.Created), UpdatedAt: fromMS(r.Updated), Version: r.Version,
		RegistrationTokens: slices.Clone(r.Tokens),
	}
	if r.Auth != nil {
		t.Auth = r.Auth.Clone()
	}
	if r.Branding != nil {
		t.Branding = *r.Branding
	}
	return t
}

func tenantRecOf(t store.Tenant) tenantRec {
	r := tenantRec{
		Name: t.Name, DisplayName: t.DisplayName, Registration: string(t.Registration),
		UserSchema: cloneSchema(t.UserSchema),
		Created:    toMS(t.CreatedAt), Updated: toMS(t.UpdatedAt), Version: t.Version,
		Tokens: slices.Clone(t.RegistrationTokens),
	}
	if a := t.Auth.Clone(); !reflect.DeepEqual(a, store.AuthSettings{}) {
		r.Auth = &a
	}
	if b := t.Branding; b != (store.Branding{}) {
		r.Branding = &b
	}
	return r
}

// cloneSchema copies a schema deeply enough that no caller shares its
// Enum slices with the store; an empty schema becomes nil.
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

// maxSchemaBytes bounds a UserSchema as JSON. Package store bounds only the
// number of attributes; this keeps one tenant record from growing without
// limit through long enums. Every backend has the same bound.
const maxSchemaBytes = 256 << 10

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
	if err := checkSchema(t.UserSchema); err != nil {
		return err
	}
	return checkSettings(t)
}

// checkSettings bounds Auth and Branding together as JSON, as every
// backend does, and refuses text JSON would not keep as given.
func checkSettings(t store.Tenant) error {
	b, err := json.Marshal(struct {
		A store.AuthSettings
		B store.Branding
		T []store.RegistrationToken
	}{t.Auth, t.Branding, t.RegistrationTokens})
	if err != nil || !t.Auth.ValidUTF8() || !t.Branding.ValidUTF8() {
		return errs.Invalid("auth", "must be valid UTF-8")
	}
	if len(b) > store.MaxSettingsBytes {
		return errs.Invalid("auth", "auth and branding must be at most %d bytes as JSON",
			store.MaxSettingsBytes)
	}
	return nil
}

// checkSchema bounds a schema and refuses text JSON would not keep as given.
func checkSchema(defs []store.AttributeDef) error {
	if len(defs) > store.MaxSchemaAttributes {
		return errs.Invalid("userSchema", "must declare at most %d attributes",
			store.MaxSchemaAttributes)
	}
	for _, d := range defs {
		ok := utf8.ValidString(d.Name) && utf8.ValidString(string(d.Type))
		for _, v := range d.Enum {
			ok = ok && utf8.ValidString(v)
		}
		if !ok {
			return errs.Invalid("userSchema", "must be valid UTF-8")
		}
	}
	b, err := json.Marshal(defs)
	if err != nil || len(b) > maxSchemaBytes {
		return errs.Invalid("userSchema", "must be at most %d bytes as JSON", maxSchemaBytes)
	}
	return nil
}

func (ts tenants) Create(ctx context.Context, t store.Tenant) (store.Tenant, error) {
	id, err := parseID("id", t.ID)
	if err != nil {
		return store.Tenant{}, err
	}
	if err := checkKey("name", t.Name); err != nil {
		return store.Tenant{}, err
	}
	if err := checkTenantFields(t); err != nil {
		return store.Tenant{}, err
	}
	rec := tenantRecOf(t)
	rec.Version = 1

	err = ts.s.update(ctx, func(tx *bbolt.Tx) error {
		b, names := tx.Bucket(bucketTenants), tx.Bucket(bucketTenantNames)
		if b.Get(id[:]) != nil {
			return conflict("id", "a tenant with this ID exists")
		}
		if names.Get([]byte(t.Name)) != nil {
			return conflict("name", "a tenant with this name exists")
		}
		if err := b.Put(id[:], encode(rec)); err != nil {
			return err
		}
		return names.Put([]byte(t.Name), id[:])
	})
	if err != nil {
		return store.Tenant{}, err
	}
	return rec.tenant(id), nil
}

// getTenant reads a tenant in tx; ok is false when there is none.
func getTenant(tx *bbolt.Tx, id uuid.UUID) (rec tenantRec, ok bool, err error) {
	v := tx.Bucket(bucketTenants).Get(id[:])
	if v == nil {
		return tenantRec{}, false, nil
	}
	err = decode(v, &rec)
	return rec, err == nil, err
}

func (ts tenants) Get(ctx context.Context, id string) (store.Tenant, error) {
	uid, err := parseID("id", id)
	if err != nil {
		return store.Tenant{}, err
	}
	return ts.get(ctx, uid)
}

func (ts tenants) get(ctx context.Context, id uuid.UUID) (store.Tenant, error) {
	var out store.Tenant
	err := ts.s.view(ctx, func(tx *bbolt.Tx) error {
		rec, ok, err := getTenant(tx, id)
		if err != nil {
			return err
		}
		if !ok {
			return notFound("tenant")
		}
		out = rec.tenant(id)
		return nil
	})
	return out, err
}

func (ts tenants) GetByName(ctx context.Context, name string) (store.Tenant, error) {
	var out store.Tenant
	err := ts.s.view(ctx, func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketTenantNames).Get([]byte(name))
		if name == "" || v == nil {
			return notFound("tenant")
		}
		id, err := indexID(v)
		if err != nil {
			return err
		}
		rec, ok, err := getTenant(tx, id)
		if err != nil {
			return err
		}
		if !ok {
			return errs.New(errs.Unavailable, "tenant name index is out of step")
		}
		out = rec.tenant(id)
		return nil
	})
	return out, err
}

func (ts tenants) List(ctx context.Context, p store.Page) ([]store.Tenant, string, error) {
	limit, err := pageLimit(p)
	if err != nil {
		return nil, "", err
	}
	last, err := after(p.After, listTenants, uuid.UUID{})
	if err != nil {
		return nil, "", err
	}

	var items []store.Tenant
	err = ts.s.view(ctx, func(tx *bbolt.Tx) error {
		return scan(tx.Bucket(bucketTenants), nil, last, func(id uuid.UUID, v []byte) (bool, error) {
			var rec tenantRec
			if err := decode(v, &rec); err != nil {
				return false, err
			}
			items = append(items, rec.tenant(id))
			return len(items) <= limit, nil
		})
	})
	if err != nil {
		return nil, "", err
	}
	return page(items, limit, listTenants, uuid.UUID{}, func(t store.Tenant) string { return t.ID })
}

// page trims a listing read one item ahead to limit and makes the cursor.
func page[T any](items []T, limit int, kind listKind, scope uuid.UUID,
	id func(T) string) ([]T, string, error) {
	if len(items) <= limit {
		return items, "", nil
	}
	items = items[:limit]
	last := uuid.MustParse(id(items[limit-1]))
	return items, cursor{kind: kind, scope: scope, last: last}.String(), nil
}

func (ts tenants) Update(ctx context.Context, id string,
	fn func(store.Tenant) (store.Tenant, error)) (store.Tenant, error) {
	uid, err := parseID("id", id)
	if err != nil {
		return store.Tenant{}, err
	}

	for range maxUpdateAttempts {
		old, err := ts.get(ctx, uid)
		if err != nil {
			return store.Tenant{}, err
		}
		t, err := fn(old)
		if err != nil {
			return store.Tenant{}, err
		}
		t.ID, t.Name, t.CreatedAt = old.ID, old.Name, old.CreatedAt
		t.Version = old.Version + 1
		t.UpdatedAt = t.UpdatedAt.UTC().Truncate(time.Millisecond)
		if err := checkTenantFields(t); err != nil {
			return store.Tenant{}, err
		}
		rec := tenantRecOf(t)

		err = ts.s.update(ctx, func(tx *bbolt.Tx) error {
			cur, ok, err := getTenant(tx, uid)
			switch {
			case err != nil:
				return err
			case !ok:
				return notFound("tenant")
			case cur.Version != old.Version:
				return errLostRace
			}
			return tx.Bucket(bucketTenants).Put(uid[:], encode(rec))
		})
		if errors.Is(err, errLostRace) {
			continue
		}
		if err != nil {
			return store.Tenant{}, err
		}
		return rec.tenant(uid), nil
	}
	return store.Tenant{}, errs.New(errs.Conflict, "tenant changed too often concurrently")
}

func (ts tenants) Delete(ctx context.Context, id string) error {
	uid, err := parseID("id", id)
	if err != nil {
		return err
	}
	return ts.s.update(ctx, func(tx *bbolt.Tx) error {
		rec, ok, err := getTenant(tx, uid)
		if err != nil {
			return err
		}
		if !ok {
			return notFound("tenant")
		}
		if err := tx.Bucket(bucketTenants).Delete(uid[:]); err != nil {
			return err
		}
		return tx.Bucket(bucketTenantNames).Delete([]byte(rec.Name))
	})
}
