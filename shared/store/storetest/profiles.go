package storetest

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
)

// Profile fields. Beyond package store's bounds, every backend shares
// these: a Locale of at most 64 bytes; Preferences keys of 1 to 64 bytes
// and values of at most 256; attribute values of the three JSON types as
// Go decodes them (string, float64, bool) and nothing else; a UserSchema
// of at most 256 KiB as JSON; Registration empty or one of the three
// modes. Empty maps and slices read back as nil; a zero Registration
// reads back as "" (the services treat it as CLOSED).
var profileTests = []test{
	{"a user's profile fields read back as written from every method", userProfileRoundTrip},
	{"profile fields at their bounds are accepted", userProfileAtBounds},
	{"profile fields out of bounds are invalid and write nothing", userProfileBounds},
	{"a tenant's registration and user schema read back as written", tenantProfileRoundTrip},
	{"a schema too long or an unknown registration is invalid and writes nothing",
		tenantProfileBounds},
}

func someAttributes() map[string]any {
	return map[string]any{
		"department": "Ingénierie", "level": 3.5, "remote": true, "badge": 1e21,
		"ratio": -0.25, "empty": "", "off": false, "zero": 0.0,
	}
}

func userProfileRoundTrip(t *testing.T, e *env) {
	us := e.Store.Users()
	tn := mustTenant(t, e, "acme")
	in := newUser(tn.ID, "alice", "alice@example.com")
	in.Attributes = someAttributes()
	in.Locale = "fr-CA"
	in.Preferences = map[string]string{"timeZone": "Europe/Paris", "theme": "dark", "x": ""}

	got, err := us.Create(ctx(t), in)
	mustOK(t, "create", err)
	if diff := cmp.Diff(someAttributes(), got.Attributes); diff != "" {
		t.Errorf("create returned attributes (-want +got):\n%s", diff)
	}
	if got.Locale != "fr-CA" || !cmp.Equal(in.Preferences, got.Preferences) {
		t.Errorf("create returned locale %q, preferences %v", got.Locale, got.Preferences)
	}
	// The store keeps no alias of the caller's maps.
	in.Attributes["department"] = "changed"
	in.Preferences["theme"] = "changed"

	reads := func(what string, want store.User) {
		t.Helper()
		byID, err := us.Get(ctx(t), tn.ID, want.ID)
		mustOK(t, what+": get", err)
		byName, err := us.GetByUsername(ctx(t), tn.ID, "alice")
		mustOK(t, what+": get by username", err)
		byEmail, err := us.GetByEmail(ctx(t), tn.ID, "alice@example.com")
		mustOK(t, what+": get by email", err)
		items, _, err := us.List(ctx(t), tn.ID, store.Page{})
		mustOK(t, what+": list", err)
		for how, u := range map[string]store.User{
			"get": byID, "get by username": byName, "get by email": byEmail,
		} {
			if diff := cmp.Diff(want, u, opts); diff != "" {
				t.Errorf("%s: %s (-want +got):\n%s", what, how, diff)
			}
		}
		if diff := cmp.Diff([]store.User{want}, items, opts); diff != "" {
			t.Errorf("%s: list (-want +got):\n%s", what, diff)
		}
	}
	want := got
	want.Attributes = someAttributes()
	want.Preferences = map[string]string{"timeZone": "Europe/Paris", "theme": "dark", "x": ""}
	reads("after create", want)

	updated, err := us.Update(ctx(t), tn.ID, got.ID, func(old store.User) (store.User, error) {
		if diff := cmp.Diff(want, old, opts); diff != "" {
			t.Errorf("fn was given (-want +got):\n%s", diff)
		}
		delete(old.Attributes, "badge")
		old.Attributes["level"] = "senior" // a number becomes a string
		old.Attributes["new"] = 42.0
		old.Locale = "de-CH"
		old.Preferences = map[string]string{"timeZone": "Europe/Zurich"}
		return old, nil
	})
	mustOK(t, "update", err)
	want.Attributes = someAttributes()
	delete(want.Attributes, "badge")
	want.Attributes["level"] = "senior"
	want.Attributes["new"] = 42.0
	want.Locale = "de-CH"
	want.Preferences = map[string]string{"timeZone": "Europe/Zurich"}
	want.Version = 2
	if diff := cmp.Diff(want, updated, opts); diff != "" {
		t.Errorf("update returned (-want +got):\n%s", diff)
	}
	reads("after update", want)

	cleared, err := us.Update(ctx(t), tn.ID, got.ID, func(old store.User) (store.User, error) {
		old.Attributes = map[string]any{}
		old.Locale = ""
		old.Preferences = nil
		return old, nil
	})
	mustOK(t, "clear", err)
	if cleared.Attributes != nil || cleared.Locale != "" || cleared.Preferences != nil {
		t.Errorf("cleared user has attributes %v, locale %q, preferences %v; want nil, "+
			"\"\", nil", cleared.Attributes, cleared.Locale, cleared.Preferences)
	}
	want.Attributes, want.Locale, want.Preferences, want.Version = nil, "", nil, 3
	reads("after clearing", want)

	// A user written without profile fields reads back without them.
	plain := mustUser(t, e, tn.ID, "bob", "")
	bob, err := us.Get(ctx(t), tn.ID, plain.ID)
	mustOK(t, "get bob", err)
	if bob.Attributes != nil || bob.Locale != "" || bob.Preferences != nil {
		t.Errorf("a user without profile fields reads back %v, %q, %v", bob.Attributes,
			bob.Locale, bob.Preferences)
	}
}

// wantInvalidField fails unless err is ErrInvalidArgument naming field.
func wantInvalidField(t *testing.T, what string, err error, field string) {
	t.Helper()
	var e *errs.Error
	if !errors.Is(err, errs.ErrInvalidArgument) || !errors.As(err, &e) || e.Field != field {
		t.Errorf("%s: got error %v, want %v on field %q", what, err, errs.ErrInvalidArgument,
			field)
	}
}

// attributesOfSize returns attributes whose JSON form is exactly n bytes.
func attributesOfSize(n int) map[string]any {
	const overhead = len(`{"a":""}`)
	return map[string]any{"a": strings.Repeat("x", n-overhead)}
}

func preferencesOf(n int) map[string]string {
	p := map[string]string{}
	for i := range n {
		p[fmt.Sprintf("key%02d", i)] = "value"
	}
	return p
}

func userProfileAtBounds(t *testing.T, e *env) {
	us := e.Store.Users()
	tn := mustTenant(t, e, "acme")
	in := newUser(tn.ID, "alice", "")
	in.Attributes = attributesOfSize(store.MaxAttributesBytes)
	in.Locale = strings.Repeat("a", 64)
	in.Preferences = preferencesOf(store.MaxPreferences)
	in.Preferences["key00"] = strings.Repeat("v", 256)
	delete(in.Preferences, "key01")
	in.Preferences[strings.Repeat("k", 64)] = "v"

	got, err := us.Create(ctx(t), in)
	mustOK(t, "create at the bounds", err)
	stored, err := us.Get(ctx(t), tn.ID, got.ID)
	mustOK(t, "get", err)
	if diff := cmp.Diff(got, stored, opts); diff != "" {
		t.Errorf("get (-create +get):\n%s", diff)
	}
	if diff := cmp.Diff(in.Attributes, stored.Attributes); diff != "" {
		t.Errorf("attributes (-want +got):\n%s", diff)
	}
}

func userProfileBounds(t *testing.T, e *env) {
	us := e.Store.Users()
	tn := mustTenant(t, e, "acme")
	alice := mustUser(t, e, tn.ID, "alice", "")
	cases := []struct {
		name  string
		field string
		set   func(u *store.User)
	}{
		{"attributes one byte over the bound", "attributes", func(u *store.User) {
			u.Attributes = attributesOfSize(store.MaxAttributesBytes + 1)
		}},
		{"an int attribute", "attributes", func(u *store.User) {
			u.Attributes = map[string]any{"level": 3}
		}},
		{"a nested attribute", "attributes", func(u *store.User) {
			u.Attributes = map[string]any{"a": map[string]any{"b": "c"}}
		}},
		{"a null attribute", "attributes", func(u *store.User) {
			u.Attributes = map[string]any{"a": nil}
		}},
		{"a NaN attribute", "attributes", func(u *store.User) {
			u.Attributes = map[string]any{"a": math.NaN()}
		}},
		{"an infinite attribute", "attributes", func(u *store.User) {
			u.Attributes = map[string]any{"a": math.Inf(1)}
		}},
		{"an attribute that is not UTF-8", "attributes", func(u *store.User) {
			u.Attributes = map[string]any{"a": notUTF8}
		}},
		{"an attribute name that is not UTF-8", "attributes", func(u *store.User) {
			u.Attributes = map[string]any{notUTF8: "a"}
		}},
		{"a locale over 64 bytes", "locale", func(u *store.User) {
			u.Locale = strings.Repeat("a", 65)
		}},
		{"a locale that is not UTF-8", "locale", func(u *store.User) { u.Locale = notUTF8 }},
		{"too many preferences", "preferences", func(u *store.User) {
			u.Preferences = preferencesOf(store.MaxPreferences + 1)
		}},
		{"an empty preference key", "preferences", func(u *store.User) {
			u.Preferences = map[string]string{"": "v"}
		}},
		{"a preference key over 64 bytes", "preferences", func(u *store.User) {
			u.Preferences = map[string]string{strings.Repeat("k", 65): "v"}
		}},
		{"a preference value over 256 bytes", "preferences", func(u *store.User) {
			u.Preferences = map[string]string{"k": strings.Repeat("v", 257)}
		}},
		{"a preference value that is not UTF-8", "preferences", func(u *store.User) {
			u.Preferences = map[string]string{"k": notUTF8}
		}},
	}
	for _, c := range cases {
		in := newUser(tn.ID, "bob", "bob@example.com")
		c.set(&in)
		_, err := us.Create(ctx(t), in)
		wantInvalidField(t, "create with "+c.name, err, c.field)
		_, err = us.GetByUsername(ctx(t), tn.ID, "bob")
		wantErr(t, "get the user of a refused create with "+c.name, err, errs.ErrNotFound)

		_, err = us.Update(ctx(t), tn.ID, alice.ID, func(old store.User) (store.User, error) {
			c.set(&old)
			return old, nil
		})
		wantInvalidField(t, "update with "+c.name, err, c.field)
	}
	stored, err := us.Get(ctx(t), tn.ID, alice.ID)
	mustOK(t, "get alice", err)
	if diff := cmp.Diff(alice, stored, opts); diff != "" {
		t.Errorf("alice after refused updates (-want +got):\n%s", diff)
	}
	// The refused creates reserved nothing.
	mustUser(t, e, tn.ID, "bob", "bob@example.com")
}

func someSchema() []store.AttributeDef {
	return []store.AttributeDef{
		{Name: "department", Type: store.AttributeString, Required: true, MaxLength: 40,
			Enum: []string{"sales", "engineering"}, UserEditable: true},
		{Name: "level", Type: store.AttributeNumber},
		{Name: "remote", Type: store.AttributeBoolean, UserEditable: true},
	}
}

func tenantProfileRoundTrip(t *testing.T, e *env) {
	ts := e.Store.Tenants()
	in := store.Tenant{
		ID: newID(), Name: "acme", DisplayName: "Acme", Registration: store.RegistrationInvite,
		UserSchema: someSchema(), CreatedAt: someTime, UpdatedAt: someTime,
	}
	got, err := ts.Create(ctx(t), in)
	mustOK(t, "create", err)
	if got.Registration != store.RegistrationInvite ||
		!cmp.Equal(someSchema(), got.UserSchema) {
		t.Errorf("create returned registration %q, schema %+v", got.Registration,
			got.UserSchema)
	}
	in.UserSchema[0].Enum[0] = "changed" // the store keeps no alias

	plain := mustTenant(t, e, "globex")
	if plain.Registration != "" || plain.UserSchema != nil {
		t.Errorf("a tenant created without them has registration %q, schema %v",
			plain.Registration, plain.UserSchema)
	}

	reads := func(what string, want store.Tenant) {
		t.Helper()
		byID, err := ts.Get(ctx(t), want.ID)
		mustOK(t, what+": get", err)
		byName, err := ts.GetByName(ctx(t), want.Name)
		mustOK(t, what+": get by name", err)
		for how, tn := range map[string]store.Tenant{"get": byID, "get by name": byName} {
			if diff := cmp.Diff(want, tn, opts); diff != "" {
				t.Errorf("%s: %s (-want +got):\n%s", what, how, diff)
			}
		}
		items, _, err := ts.List(ctx(t), store.Page{})
		mustOK(t, what+": list", err)
		found := false
		for _, tn := range items {
			if tn.ID == want.ID {
				found = true
				if diff := cmp.Diff(want, tn, opts); diff != "" {
					t.Errorf("%s: list (-want +got):\n%s", what, diff)
				}
			}
		}
		if !found {
			t.Errorf("%s: tenant missing from the list", what)
		}
	}
	want := got
	want.UserSchema = someSchema()
	reads("after create", want)

	updated, err := ts.Update(ctx(t), got.ID, func(old store.Tenant) (store.Tenant, error) {
		old.DisplayName = "Acme Corp"
		old.Registration = store.RegistrationOpen
		old.UserSchema = old.UserSchema[1:]
		return old, nil
	})
	mustOK(t, "update", err)
	want.DisplayName = "Acme Corp"
	want.Registration = store.RegistrationOpen
	want.UserSchema = someSchema()[1:]
	want.Version = 2
	if diff := cmp.Diff(want, updated, opts); diff != "" {
		t.Errorf("update returned (-want +got):\n%s", diff)
	}
	reads("after update", want)

	cleared, err := ts.Update(ctx(t), got.ID, func(old store.Tenant) (store.Tenant, error) {
		old.Registration = ""
		old.UserSchema = []store.AttributeDef{}
		return old, nil
	})
	mustOK(t, "clear", err)
	if cleared.Registration != "" || cleared.UserSchema != nil {
		t.Errorf("cleared tenant has registration %q, schema %v; want \"\", nil",
			cleared.Registration, cleared.UserSchema)
	}
	want.Registration, want.UserSchema, want.Version = "", nil, 3
	reads("after clearing", want)
}

func schemaOf(n int) []store.AttributeDef {
	defs := make([]store.AttributeDef, n)
	for i := range defs {
		defs[i] = store.AttributeDef{Name: fmt.Sprintf("attr%03d", i),
			Type: store.AttributeString}
	}
	return defs
}

func tenantProfileBounds(t *testing.T, e *env) {
	ts := e.Store.Tenants()
	acme := mustTenant(t, e, "acme")
	cases := []struct {
		name  string
		field string
		set   func(tn *store.Tenant)
	}{
		{"a schema over the bound", "userSchema", func(tn *store.Tenant) {
			tn.UserSchema = schemaOf(store.MaxSchemaAttributes + 1)
		}},
		{"a schema over 256 KiB", "userSchema", func(tn *store.Tenant) {
			tn.UserSchema = []store.AttributeDef{{Name: "a", Type: store.AttributeString,
				Enum: []string{strings.Repeat("x", 256<<10)}}}
		}},
		{"a schema that is not UTF-8", "userSchema", func(tn *store.Tenant) {
			tn.UserSchema = []store.AttributeDef{{Name: notUTF8, Type: store.AttributeString}}
		}},
		{"an unknown registration mode", "registration", func(tn *store.Tenant) {
			tn.Registration = "SOMETIMES"
		}},
	}
	for _, c := range cases {
		in := store.Tenant{ID: newID(), Name: "globex", CreatedAt: someTime, UpdatedAt: someTime}
		c.set(&in)
		_, err := ts.Create(ctx(t), in)
		wantInvalidField(t, "create with "+c.name, err, c.field)
		_, err = ts.Get(ctx(t), in.ID)
		wantErr(t, "get the tenant of a refused create with "+c.name, err, errs.ErrNotFound)

		_, err = ts.Update(ctx(t), acme.ID, func(old store.Tenant) (store.Tenant, error) {
			c.set(&old)
			return old, nil
		})
		wantInvalidField(t, "update with "+c.name, err, c.field)
	}
	stored, err := ts.Get(ctx(t), acme.ID)
	mustOK(t, "get acme", err)
	if diff := cmp.Diff(acme, stored, opts); diff != "" {
		t.Errorf("acme after refused updates (-want +got):\n%s", diff)
	}

	// The bound itself is accepted, and the refused creates reserved nothing.
	full, err := ts.Create(ctx(t), store.Tenant{ID: newID(), Name: "globex",
		UserSchema: schemaOf(store.MaxSchemaAttributes), CreatedAt: someTime,
		UpdatedAt: someTime})
	mustOK(t, "create with a schema at the bound", err)
	if len(full.UserSchema) != store.MaxSchemaAttributes {
		t.Errorf("schema at the bound came back with %d attributes", len(full.UserSchema))
	}
}
