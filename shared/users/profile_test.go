package users_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/tenants"
	"github.com/wardhq/ward/shared/users"
)

// withSchema gives tenant a a user schema through the tenants function.
func withSchema(t *testing.T, f *fixture) {
	t.Helper()
	schema := []store.AttributeDef{
		{Name: "department", Type: store.AttributeString, Enum: []string{"sales", "ops"}},
		{Name: "employeeNumber", Type: store.AttributeString, MaxLength: 8},
		{Name: "age", Type: store.AttributeNumber},
	}
	open := store.RegistrationOpen
	f.a = call[store.Tenant](t, f, tenants.FunctionName, tenants.OpUpdate, adminOf(f.a),
		tenants.UpdateInput{ID: f.a.ID, UserSchema: &schema, Registration: &open})
	if len(f.a.UserSchema) != 3 || f.a.Registration != store.RegistrationOpen {
		t.Fatalf("tenant after update: %+v", f.a)
	}
}

func invalidOn(t *testing.T, err error, field string) {
	t.Helper()
	var e *errs.Error
	if !errors.As(err, &e) || e.Code != errs.InvalidArgument || e.Field != field {
		t.Errorf("err = %v, want INVALID_ARGUMENT on %s", err, field)
	}
}

func TestTenantSchemaIsChecked(t *testing.T) {
	f := setup(t)
	bad := []store.AttributeDef{{Name: "x", Type: "DATE"}}
	_, err := invoke.Call[store.Tenant](context.Background(), f.inv, tenants.FunctionName,
		tenants.OpUpdate, adminOf(f.a), tenants.UpdateInput{ID: f.a.ID, UserSchema: &bad})
	invalidOn(t, err, "userSchema[0].type")
	mode := store.RegistrationMode("SOMETIMES")
	_, err = invoke.Call[store.Tenant](context.Background(), f.inv, tenants.FunctionName,
		tenants.OpUpdate, adminOf(f.a), tenants.UpdateInput{ID: f.a.ID, Registration: &mode})
	invalidOn(t, err, "registration")
	got, err := f.store.Tenants().Get(context.Background(), f.a.ID)
	if err != nil || got.UserSchema != nil || got.Registration != "" {
		t.Errorf("a refused update changed the tenant: %+v, %v", got, err)
	}
	// The schema is the tenant's administrators' business, not another tenant's.
	schema := []store.AttributeDef{{Name: "x", Type: store.AttributeString}}
	_, err = invoke.Call[store.Tenant](context.Background(), f.inv, tenants.FunctionName,
		tenants.OpUpdate, adminOf(f.b), tenants.UpdateInput{ID: f.a.ID, UserSchema: &schema})
	if err == nil {
		t.Error("an admin of tenant b changed tenant a's schema")
	}
}

func TestProfileFieldsOnCreateAndUpdate(t *testing.T) {
	f := setup(t)
	withSchema(t, f)
	ctx := context.Background()
	u := call[store.User](t, f, users.FunctionName, users.OpCreate, adminOf(f.a), users.CreateInput{
		TenantID: f.a.ID, Username: "bob", Email: "bob@example.com", EmailVerified: true,
		Attributes:  map[string]any{"department": "ops", "age": 30},
		Locale:      "fr-ca",
		Preferences: map[string]string{"timezone": "Europe/Paris"},
	})
	if u.Attributes["department"] != "ops" || u.Attributes["age"] != 30.0 || u.Locale != "fr-CA" ||
		u.Preferences["timezone"] != "Europe/Paris" || !u.EmailVerified {
		t.Fatalf("created %+v", u)
	}
	stored, err := f.store.Users().Get(ctx, f.a.ID, u.ID)
	if err != nil || stored.Attributes["age"] != 30.0 || stored.Locale != "fr-CA" {
		t.Fatalf("stored %+v, %v", stored, err)
	}

	// Refused inputs write nothing.
	for field, in := range map[string]users.CreateInput{
		"attributes.colour":         {Attributes: map[string]any{"colour": "red"}},
		"attributes.department":     {Attributes: map[string]any{"department": "legal"}},
		"attributes.employeeNumber": {Attributes: map[string]any{"employeeNumber": "123456789"}},
		"attributes.age":            {Attributes: map[string]any{"age": "thirty"}},
		"locale":                    {Locale: "not a locale"},
		"preferences":               {Preferences: map[string]string{"no spaces": "x"}},
		"emailVerified":             {EmailVerified: true, Email: ""},
	} {
		in.TenantID, in.Username = f.a.ID, "carol"
		if field != "emailVerified" {
			in.Email = "carol@example.com"
		}
		_, err := invoke.Call[store.User](ctx, f.inv, users.FunctionName, users.OpCreate,
			adminOf(f.a), in)
		invalidOn(t, err, field)
		if _, err := f.store.Users().GetByUsername(ctx, f.a.ID, "carol"); !errors.Is(err, errs.ErrNotFound) {
			t.Fatalf("%s: a refused user was stored", field)
		}
	}

	// Updates patch: null removes, other keys stay; a new email or phone
	// is unverified.
	var patch map[string]any
	json.Unmarshal([]byte(`{"age": null, "employeeNumber": "E7"}`), &patch)
	tz := "UTC"
	phone, email := "+33612345678", "bob@example.org"
	u = call[store.User](t, f, users.FunctionName, users.OpUpdate, adminOf(f.a), users.UpdateInput{
		TenantID: f.a.ID, ID: u.ID, Attributes: patch, Email: &email, Phone: &phone,
		Preferences: map[string]*string{"timezone": nil, "tz": &tz},
	})
	if _, has := u.Attributes["age"]; has || u.Attributes["employeeNumber"] != "E7" ||
		u.Attributes["department"] != "ops" {
		t.Errorf("attributes after patch: %v", u.Attributes)
	}
	if len(u.Preferences) != 1 || u.Preferences["tz"] != "UTC" {
		t.Errorf("preferences after patch: %v", u.Preferences)
	}
	if u.EmailVerified || u.Phone != phone || u.PhoneVerified {
		t.Errorf("new contacts: email %q verified %v, phone %q verified %v", u.Email,
			u.EmailVerified, u.Phone, u.PhoneVerified)
	}
	before := u
	_, err = invoke.Call[store.User](ctx, f.inv, users.FunctionName, users.OpUpdate, adminOf(f.a),
		users.UpdateInput{TenantID: f.a.ID, ID: u.ID, DisplayName: &tz,
			Attributes: map[string]any{"department": "legal"}})
	invalidOn(t, err, "attributes.department")
	bad := "12345"
	_, err = invoke.Call[store.User](ctx, f.inv, users.FunctionName, users.OpUpdate, adminOf(f.a),
		users.UpdateInput{TenantID: f.a.ID, ID: u.ID, Phone: &bad})
	invalidOn(t, err, "phone")
	after, _ := f.store.Users().Get(ctx, f.a.ID, u.ID)
	if after.Version != before.Version || after.DisplayName != before.DisplayName {
		t.Error("a refused update changed the user")
	}
}
