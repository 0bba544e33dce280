package tenants_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/tenants"
)

func TestSignInSettingsAndBranding(t *testing.T) {
	inv, a, b := setup(t)
	adminA := function.Caller{Subject: "x", Tenant: a.ID, Roles: []string{function.RoleTenantAdmin}}
	ctx := context.Background()
	update := func(c function.Caller, in tenants.UpdateInput) (store.Tenant, error) {
		return invoke.Call[store.Tenant](ctx, inv, tenants.FunctionName, tenants.OpUpdate, c, in)
	}

	auth := store.AuthSettings{MFA: store.MFAAdaptive, RiskThreshold: 60,
		Factors:            []store.FactorType{store.FactorTOTP, store.FactorRecovery},
		StepUp:             []store.StepUpRule{{Transaction: "payment", MinValue: 100, ACR: "2", MaxAgeSeconds: 300}},
		SessionIdleSeconds: 900, SessionMaxSeconds: 7200, LockoutThreshold: 5, LockoutSeconds: 60,
		ReturnOrigins: []string{"https://app.a.example", "https://b.example:8443"}}
	brand := store.Branding{LogoURL: "https://a.example/logo.svg", PrimaryColor: "#0055aa"}
	got, err := update(adminA, tenants.UpdateInput{ID: a.ID, Auth: &auth, Branding: &brand})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(auth, got.Auth); diff != "" || got.Branding != brand {
		t.Errorf("update returned (-want +got):\n%s\nbranding %+v", diff, got.Branding)
	}

	// Leaving Auth out keeps it; a display name change touches nothing else.
	name := "Alpha"
	got, err = update(adminA, tenants.UpdateInput{ID: a.ID, DisplayName: &name})
	if err != nil || got.Auth.MFA != store.MFAAdaptive || got.Branding != brand {
		t.Fatalf("settings after an unrelated update: %+v %+v (%v)", got.Auth, got.Branding, err)
	}

	// Another tenant's administrator cannot change them.
	_, err = update(adminA, tenants.UpdateInput{ID: b.ID, Auth: &auth})
	if errs.CodeOf(err) != errs.NotFound {
		t.Errorf("cross-tenant update: %v, want NOT_FOUND", err)
	}

	bad := map[string]tenants.UpdateInput{
		"auth.mfa":                 {Auth: &store.AuthSettings{MFA: "SOMETIMES"}},
		"auth.factors":             {Auth: &store.AuthSettings{Factors: []store.FactorType{"PIGEON"}}},
		"auth.riskThreshold":       {Auth: &store.AuthSettings{RiskThreshold: 101}},
		"auth.sessionIdleSeconds":  {Auth: &store.AuthSettings{SessionIdleSeconds: 10}},
		"auth.lockoutThreshold":    {Auth: &store.AuthSettings{LockoutThreshold: -1}},
		"auth.stepUp.transaction":  {Auth: &store.AuthSettings{StepUp: []store.StepUpRule{{Transaction: "pay ment"}}}},
		"auth.stepUp.minValue":     {Auth: &store.AuthSettings{StepUp: []store.StepUpRule{{Transaction: "p", MinValue: -1}}}},
		"branding.logoUrl":         {Branding: &store.Branding{LogoURL: "http://a.example/logo.svg"}},
		"branding.primaryColor":    {Branding: &store.Branding{PrimaryColor: "red; background: url(x)"}},
		"branding.privacyUrl":      {Branding: &store.Branding{PrivacyURL: "javascript:alert(1)"}},
		"branding.backgroundColor": {Branding: &store.Branding{BackgroundColor: "#12345"}},
	}
	for field, in := range bad {
		in.ID = a.ID
		_, err := update(adminA, in)
		var e *errs.Error
		if !errorsAs(err, &e) || e.Code != errs.InvalidArgument || e.Field != field {
			t.Errorf("%s: %v, want INVALID_ARGUMENT on that field", field, err)
		}
	}
	got, err = invoke.Call[store.Tenant](ctx, inv, tenants.FunctionName, tenants.OpGet, adminA,
		tenants.GetInput{ID: a.ID})
	if err != nil || got.Auth.RiskThreshold != 60 || got.Branding != brand {
		t.Errorf("refused updates changed the tenant: %+v %+v (%v)", got.Auth, got.Branding, err)
	}
}

func errorsAs(err error, target **errs.Error) bool { return errors.As(err, target) }

func TestReturnOriginsAreBareOrigins(t *testing.T) {
	for _, o := range []string{"https://app.example.com", "https://app.example.com:8443",
		"http://localhost:3000", "http://127.0.0.1:8080", "http://[::1]:9000"} {
		if err := tenants.CheckAuth(store.AuthSettings{ReturnOrigins: []string{o}}); err != nil {
			t.Errorf("%q refused: %v", o, err)
		}
	}
	for _, o := range []string{"", "https://app.example.com/", "https://app.example.com/cb",
		"https://APP.example.com", "http://app.example.com", "https://user@app.example.com",
		"https://app.example.com?x", "https://app.example.com#", "javascript://x", "app.example.com",
		"https://", "https://app.example.com\n", "ftp://app.example.com"} {
		err := tenants.CheckAuth(store.AuthSettings{ReturnOrigins: []string{o}})
		var e *errs.Error
		if !errors.As(err, &e) || e.Field != "auth.returnOrigins" {
			t.Errorf("%q: err = %v, want an error on auth.returnOrigins", o, err)
		}
	}
	twice := []string{"https://a.example", "https://a.example"}
	if err := tenants.CheckAuth(store.AuthSettings{ReturnOrigins: twice}); err == nil {
		t.Error("an origin listed twice was accepted")
	}
	many := make([]string, tenants.MaxReturnOrigins+1)
	for i := range many {
		many[i] = fmt.Sprintf("https://a%d.example", i)
	}
	if err := tenants.CheckAuth(store.AuthSettings{ReturnOrigins: many}); err == nil {
		t.Error("too many origins were accepted")
	}
}
