package issuers_test

import (
	"testing"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/issuers"
	"github.com/wardhq/ward/shared/store"
)

func TestUserMappingAndSessions(t *testing.T) {
	e := newEnv(t)
	if e.ti.UserMapping != store.IssuerMapNone || e.ti.Sessions {
		t.Errorf("a new issuer maps users or allows sessions: %+v", e.ti)
	}
	got, err := call[store.TrustedIssuer](e, issuers.OpUpdate, sysRoot, issuers.UpdateInput{
		TenantID: e.a.ID, ID: e.ti.ID, UserMapping: ptr(store.IssuerMapEmail),
		Sessions: ptr(true)})
	if err != nil || got.UserMapping != store.IssuerMapEmail || !got.Sessions {
		t.Fatalf("update: %+v, %v", got, err)
	}
	for name, in := range map[string]issuers.UpdateInput{
		"an unknown mapping":         {UserMapping: ptr("phone")},
		"sessions without a mapping": {UserMapping: ptr(store.IssuerMapNone)},
	} {
		in.TenantID, in.ID = e.a.ID, e.ti.ID
		_, err := call[store.TrustedIssuer](e, issuers.OpUpdate, sysRoot, in)
		if errs.CodeOf(err) != errs.InvalidArgument {
			t.Errorf("%s: %v, want INVALID_ARGUMENT", name, err)
		}
	}
}
