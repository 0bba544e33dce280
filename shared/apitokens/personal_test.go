package apitokens_test

import (
	"context"
	"testing"
	"time"

	"github.com/wardhq/ward/shared/apitokens"
	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/validate"
)

// TestPersonalTokens makes a token that acts as a user, and checks that it
// follows the user: refused once the user is disabled, deleted, or the
// user's tokens are revoked.
func TestPersonalTokens(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	st := f.deps.Store
	now := f.clock.now()
	tn, err := st.Tenants().Create(ctx, store.Tenant{ID: validate.NewID(), Name: "acme",
		CreatedAt: now, UpdatedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	other, _ := st.Tenants().Create(ctx, store.Tenant{ID: validate.NewID(), Name: "globex",
		CreatedAt: now, UpdatedAt: now})
	u, err := st.Users().Create(ctx, store.User{ID: validate.NewID(), TenantID: tn.ID,
		Username: "bob", Status: store.UserActive, CreatedAt: now, UpdatedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	admin := function.Caller{Subject: "admin", Tenant: tn.ID, Roles: []string{function.RoleTenantAdmin}}
	user := []string{function.RoleUser}

	for name, in := range map[string]apitokens.CreateInput{
		"roles":      {TenantID: tn.ID, UserID: u.ID, Name: "x", Roles: []string{function.RoleTenantAdmin}, TTLSeconds: 60},
		"ttlSeconds": {TenantID: tn.ID, UserID: u.ID, Name: "x", Roles: user},
		"userId":     {TenantID: other.ID, UserID: u.ID, Name: "x", Roles: user, TTLSeconds: 60},
	} {
		c := admin
		if name == "userId" {
			c = sysAdmin
		}
		_, err := invoke.Call[apitokens.CreateOutput](ctx, f.inv, apitokens.FunctionName,
			apitokens.OpCreate, c, in)
		if e, ok := err.(*errs.Error); !ok || e.Code != errs.InvalidArgument || e.Field != name {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	if n := countTokens(t, f, tn.ID); n != 0 {
		t.Fatalf("refused creates left %d tokens", n)
	}

	out := f.create(t, admin, apitokens.CreateInput{TenantID: tn.ID, UserID: u.ID, Name: "bob's",
		Roles: user, TTLSeconds: 3600})
	who, err := f.verify(out.Token)
	if err != nil || who.Subject != u.ID || who.Tenant != tn.ID {
		t.Fatalf("verify = %+v, %v", who, err)
	}

	// Disabled: refused (after the verify cache's window).
	if _, err := st.Users().Update(ctx, tn.ID, u.ID, func(u store.User) (store.User, error) {
		u.Status = store.UserDisabled
		return u, nil
	}); err != nil {
		t.Fatal(err)
	}
	f.clock.add(apitokens.VerifyCacheTTL + time.Second)
	if _, err := f.verify(out.Token); errs.CodeOf(err) != errs.Unauthenticated {
		t.Errorf("a disabled user's token: %v", err)
	}

	// Revoked with the user's other credentials.
	if _, err := st.Users().Update(ctx, tn.ID, u.ID, func(u store.User) (store.User, error) {
		u.Status = store.UserActive
		return u, nil
	}); err != nil {
		t.Fatal(err)
	}
	f.clock.add(apitokens.VerifyCacheTTL + time.Second)
	if _, err := f.verify(out.Token); err != nil {
		t.Fatalf("re-enabled: %v", err)
	}
	n, err := st.APITokens().DeleteBySubject(ctx, tn.ID, u.ID)
	if err != nil || n != 1 {
		t.Fatalf("DeleteBySubject = %d, %v", n, err)
	}
	f.clock.add(apitokens.VerifyCacheTTL + time.Second)
	if _, err := f.verify(out.Token); errs.CodeOf(err) != errs.Unauthenticated {
		t.Errorf("a revoked token: %v", err)
	}
}

func countTokens(t *testing.T, f *fixture, tenantID string) int {
	t.Helper()
	items, _, err := f.deps.Store.APITokens().List(context.Background(), tenantID, store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	return len(items)
}
