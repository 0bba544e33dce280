package clients

import (
	"context"
	"testing"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/store"
)

func TestConsentPolicy(t *testing.T) {
	e := newEnv(t)
	own := e.create(e.adminA, e.webApp())
	if own.Client.RequireConsent {
		t.Error("an administrator's client requires consent by default")
	}
	on := true
	in := e.webApp()
	in.RequireConsent = &on
	if c := e.create(e.adminA, in); !c.Client.RequireConsent {
		t.Error("requireConsent set at creation was not kept")
	}

	svc := function.Caller{Subject: "oauth", Roles: []string{function.RoleService}}
	reg, err := call[RegisteredOutput](e, OpRegister, svc, RegisterInput{TenantID: e.a.ID,
		Registration: Registration{AuthMethod: MethodSecretBasic,
			RedirectURIs: []string{"https://third.example.com/cb"}}})
	if err != nil {
		t.Fatal(err)
	}
	if !reg.Client.RequireConsent {
		t.Fatal("a registered client does not require consent")
	}
	off := false
	_, err = call[Client](e, OpUpdate, e.adminA, UpdateInput{TenantID: e.a.ID,
		ID: reg.Client.ID, RequireConsent: &off})
	wantCode(t, "turning consent off for a registered client", err, errs.InvalidArgument)
	name := "Renamed"
	got, err := call[Client](e, OpUpdate, e.adminA, UpdateInput{TenantID: e.a.ID,
		ID: reg.Client.ID, Name: &name})
	if err != nil || !got.RequireConsent {
		t.Errorf("another update of a registered client: %+v, %v", got, err)
	}

	// A registration stored before the setting existed still asks.
	_, err = e.st.Clients().Update(context.Background(), e.a.ID, reg.Client.ID,
		func(c store.OAuthClient) (store.OAuthClient, error) {
			c.RequireConsent = false
			return c, nil
		})
	if err != nil {
		t.Fatal(err)
	}
	got, err = call[Client](e, OpGet, e.adminA, GetInput{TenantID: e.a.ID, ID: reg.Client.ID})
	if err != nil || !got.RequireConsent {
		t.Errorf("an older registration reads %+v, %v; want requireConsent", got, err)
	}
}
