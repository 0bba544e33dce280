package storetest

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
)

var settingsTests = []test{
	{"a tenant's sign-in settings and branding read back as written", settingsRoundTrip},
	{"update replaces settings and branding, and clearing them reads back empty", settingsUpdate},
	{"settings over the bound or not UTF-8 are invalid and write nothing", settingsBad},
	{"registration tokens read back, survive other updates and clear", registrationTokens},
}

func someSettings() (store.AuthSettings, store.Branding) {
	return store.AuthSettings{
			MFA:           store.MFAAdaptive,
			Factors:       []store.FactorType{store.FactorTOTP, store.FactorWebAuthn},
			RiskThreshold: 40,
			StepUp: []store.StepUpRule{
				{Transaction: "payment", MinValue: 1000.5, ACR: "2", MaxAgeSeconds: 300},
				{Transaction: "change-email"},
			},
			SessionIdleSeconds: 600, SessionMaxSeconds: 3600,
			LockoutThreshold: 5, LockoutSeconds: 120,
			ReturnOrigins: []string{"https://app.acme.example", "http://localhost:3000"},
		}, store.Branding{
			LogoURL: "https://acme.example/logo.png", PrimaryColor: "#112233",
			BackgroundColor: "#ffffff", SupportURL: "https://acme.example/help",
			PrivacyURL: "https://acme.example/privacy",
		}
}

func settingsRoundTrip(t *testing.T, e *env) {
	ts := e.Store.Tenants()
	auth, brand := someSettings()
	in := store.Tenant{ID: newID(), Name: "acme", Auth: auth.Clone(), Branding: brand,
		CreatedAt: someTime, UpdatedAt: someTime}
	created, err := ts.Create(ctx(t), in)
	mustOK(t, "create", err)
	// The caller's slices are not the store's: changing them changes
	// nothing stored.
	in.Auth.Factors[0] = store.FactorSMS
	in.Auth.StepUp[0].Transaction = "other"

	for what, get := range map[string]func() (store.Tenant, error){
		"get":         func() (store.Tenant, error) { return ts.Get(ctx(t), created.ID) },
		"get by name": func() (store.Tenant, error) { return ts.GetByName(ctx(t), "acme") },
	} {
		got, err := get()
		mustOK(t, what, err)
		if diff := cmp.Diff(auth, got.Auth); diff != "" {
			t.Errorf("%s: auth (-want +got):\n%s", what, diff)
		}
		if got.Branding != brand {
			t.Errorf("%s: branding = %+v, want %+v", what, got.Branding, brand)
		}
	}
	items, _, err := ts.List(ctx(t), store.Page{})
	mustOK(t, "list", err)
	if len(items) != 1 || items[0].Auth.MFA != store.MFAAdaptive || items[0].Branding != brand {
		t.Errorf("list = %+v", items)
	}
}

func settingsUpdate(t *testing.T, e *env) {
	ts := e.Store.Tenants()
	tn := mustTenant(t, e, "acme")
	if diff := cmp.Diff(store.AuthSettings{}, tn.Auth); diff != "" || tn.Branding != (store.Branding{}) {
		t.Fatalf("a new tenant's settings are not empty: %+v %+v", tn.Auth, tn.Branding)
	}
	auth, brand := someSettings()
	_, err := ts.Update(ctx(t), tn.ID, func(x store.Tenant) (store.Tenant, error) {
		x.Auth, x.Branding = auth, brand
		return x, nil
	})
	mustOK(t, "update", err)
	got, err := ts.Get(ctx(t), tn.ID)
	mustOK(t, "get", err)
	if diff := cmp.Diff(auth, got.Auth); diff != "" || got.Branding != brand {
		t.Errorf("after update (-want +got):\n%s\nbranding %+v", diff, got.Branding)
	}

	_, err = ts.Update(ctx(t), tn.ID, func(x store.Tenant) (store.Tenant, error) {
		x.Auth, x.Branding = store.AuthSettings{}, store.Branding{}
		return x, nil
	})
	mustOK(t, "clear", err)
	got, err = ts.Get(ctx(t), tn.ID)
	mustOK(t, "get after clear", err)
	if diff := cmp.Diff(store.AuthSettings{}, got.Auth); diff != "" ||
		got.Branding != (store.Branding{}) {
		t.Errorf("after clearing: %+v %+v", got.Auth, got.Branding)
	}
}

func settingsBad(t *testing.T, e *env) {
	ts := e.Store.Tenants()
	tn := mustTenant(t, e, "acme")
	huge := make([]store.StepUpRule, 0, 2000)
	for range cap(huge) {
		huge = append(huge, store.StepUpRule{Transaction: strings.Repeat("t", 64)})
	}
	bad := map[string]func(*store.Tenant){
		"oversized step-up rules": func(x *store.Tenant) { x.Auth.StepUp = huge },
		"non-UTF-8 transaction": func(x *store.Tenant) {
			x.Auth.StepUp = []store.StepUpRule{{Transaction: "pay\xff"}}
		},
		"non-UTF-8 logo": func(x *store.Tenant) { x.Branding.LogoURL = "https://a/\xfe" },
	}
	for what, mutate := range bad {
		in := store.Tenant{ID: newID(), Name: "other", CreatedAt: someTime, UpdatedAt: someTime}
		mutate(&in)
		_, err := ts.Create(ctx(t), in)
		wantErr(t, "create with "+what, err, errs.ErrInvalidArgument)
		_, err = ts.GetByName(ctx(t), "other")
		wantErr(t, "the refused create wrote", err, errs.ErrNotFound)

		_, err = ts.Update(ctx(t), tn.ID, func(x store.Tenant) (store.Tenant, error) {
			mutate(&x)
			return x, nil
		})
		wantErr(t, "update with "+what, err, errs.ErrInvalidArgument)
		got, err := ts.Get(ctx(t), tn.ID)
		mustOK(t, "get", err)
		if got.Version != tn.Version || len(got.Auth.StepUp) != 0 || got.Branding.LogoURL != "" {
			t.Errorf("the refused update (%s) wrote: %+v", what, got)
		}
	}
}

func registrationTokens(t *testing.T, e *env) {
	ts := e.Store.Tenants()
	tn := mustTenant(t, e, "acme")
	if tn.RegistrationTokens != nil {
		t.Fatalf("a new tenant has registration tokens %+v", tn.RegistrationTokens)
	}
	toks := []store.RegistrationToken{
		{ID: newID(), Hash: strings.Repeat("a", 43), CreatedAt: someTime,
			ExpiresAt: someTime.Add(time.Hour), MaxUses: 3, Uses: 1},
		{ID: newID(), Hash: strings.Repeat("b", 43), CreatedAt: someTime,
			ExpiresAt: someTime.Add(24 * time.Hour)},
	}
	_, err := ts.Update(ctx(t), tn.ID, func(x store.Tenant) (store.Tenant, error) {
		x.RegistrationTokens = slices.Clone(toks)
		return x, nil
	})
	mustOK(t, "set tokens", err)
	opt := cmpopts.EquateApproxTime(time.Millisecond)
	got, err := ts.Get(ctx(t), tn.ID)
	mustOK(t, "get", err)
	if diff := cmp.Diff(toks, got.RegistrationTokens, opt); diff != "" {
		t.Errorf("tokens (-want +got):\n%s", diff)
	}

	// An update that replaces the settings keeps the tokens.
	auth, _ := someSettings()
	_, err = ts.Update(ctx(t), tn.ID, func(x store.Tenant) (store.Tenant, error) {
		x.Auth = auth
		return x, nil
	})
	mustOK(t, "update settings", err)
	got, err = ts.GetByName(ctx(t), "acme")
	mustOK(t, "get by name", err)
	if diff := cmp.Diff(toks, got.RegistrationTokens, opt); diff != "" {
		t.Errorf("tokens after a settings update (-want +got):\n%s", diff)
	}

	_, err = ts.Update(ctx(t), tn.ID, func(x store.Tenant) (store.Tenant, error) {
		x.RegistrationTokens = nil
		return x, nil
	})
	mustOK(t, "clear tokens", err)
	got, err = ts.Get(ctx(t), tn.ID)
	mustOK(t, "get", err)
	if len(got.RegistrationTokens) != 0 {
		t.Errorf("cleared tokens read back as %+v", got.RegistrationTokens)
	}
}
