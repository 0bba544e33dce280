package tenants_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/store/bolt"
	"github.com/wardhq/ward/shared/tenants"
	"github.com/wardhq/ward/shared/validate"
)

var sysAdmin = function.Caller{Subject: "root", Roles: []string{function.RoleSystemAdmin}}

func setup(t *testing.T) (invoke.Invoker, store.Tenant, store.Tenant) {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "ward.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	inv := invoke.NewLocal(tenants.Function(tenants.Deps{Store: st}))
	mk := func(name string) store.Tenant {
		out, err := invoke.Call[store.Tenant](context.Background(), inv, tenants.FunctionName, tenants.OpCreate,
			sysAdmin, tenants.CreateInput{Name: name, DisplayName: name})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	return inv, mk("alpha"), mk("beta")
}

func TestWhoMayDoWhatToTenants(t *testing.T) {
	inv, a, b := setup(t)
	adminA := function.Caller{Subject: "x", Tenant: a.ID, Roles: []string{function.RoleTenantAdmin}}
	userA := function.Caller{Subject: "y", Tenant: a.ID, Roles: []string{function.RoleUser}}
	rename := "Renamed"
	cases := []struct {
		name   string
		caller function.Caller
		op     string
		in     any
		want   errs.Code // "" for success
	}{
		{"a tenant admin reads its tenant", adminA, tenants.OpGet, tenants.GetInput{ID: a.ID}, ""},
		{"a tenant admin renames its tenant", adminA, tenants.OpUpdate, tenants.UpdateInput{ID: a.ID, DisplayName: &rename}, ""},
		{"a tenant admin cannot see another tenant", adminA, tenants.OpGet, tenants.GetInput{ID: b.ID}, errs.NotFound},
		{"a tenant admin cannot rename another tenant", adminA, tenants.OpUpdate, tenants.UpdateInput{ID: b.ID, DisplayName: &rename}, errs.NotFound},
		{"a tenant admin cannot list tenants", adminA, tenants.OpList, tenants.ListInput{}, errs.PermissionDenied},
		{"a tenant admin cannot create tenants", adminA, tenants.OpCreate, tenants.CreateInput{Name: "gamma"}, errs.PermissionDenied},
		{"a tenant admin cannot delete its tenant", adminA, tenants.OpDelete, tenants.DeleteInput{ID: a.ID}, errs.PermissionDenied},
		{"a user reads its tenant", userA, tenants.OpGet, tenants.GetInput{ID: a.ID}, ""},
		{"a user cannot rename its tenant", userA, tenants.OpUpdate, tenants.UpdateInput{ID: a.ID, DisplayName: &rename}, errs.PermissionDenied},
		{"anonymous callers are refused", function.Caller{}, tenants.OpGet, tenants.GetInput{ID: a.ID}, errs.Unauthenticated},
		{"a duplicate name is a conflict", sysAdmin, tenants.OpCreate, tenants.CreateInput{Name: "alpha"}, errs.Conflict},
		{"a bad name is invalid", sysAdmin, tenants.OpCreate, tenants.CreateInput{Name: "Not A Slug"}, errs.InvalidArgument},
		{"a tenant admin finds its tenant by name", adminA, tenants.OpGetByName, tenants.GetByNameInput{Name: "alpha"}, ""},
		{"a tenant admin cannot find another tenant by name", adminA, tenants.OpGetByName, tenants.GetByNameInput{Name: "beta"}, errs.NotFound},
		{"a missing name is not found", sysAdmin, tenants.OpGetByName, tenants.GetByNameInput{Name: "gamma"}, errs.NotFound},
		{"a service finds any tenant by name", function.Caller{Subject: "ldap", Roles: []string{function.RoleService}}, tenants.OpGetByName, tenants.GetByNameInput{Name: "beta"}, ""},
		{"a malformed name is invalid", sysAdmin, tenants.OpGetByName, tenants.GetByNameInput{Name: "B A D"}, errs.InvalidArgument},
		{"a malformed cursor is invalid", sysAdmin, tenants.OpList, tenants.ListInput{After: "%%%"}, errs.InvalidArgument},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := invoke.Call[json.RawMessage](context.Background(), inv, tenants.FunctionName, tc.op, tc.caller, tc.in)
			if got := codeOrEmpty(err); got != tc.want {
				t.Errorf("code = %q, want %q (%v)", got, tc.want, err)
			}
		})
	}

	got, err := invoke.Call[store.Tenant](context.Background(), inv, tenants.FunctionName, tenants.OpGet, sysAdmin, tenants.GetInput{ID: b.ID})
	if err != nil {
		t.Fatal(err)
	}
	if got.DisplayName != "beta" {
		t.Errorf("tenant b was renamed to %q by someone outside it", got.DisplayName)
	}
}

func codeOrEmpty(err error) errs.Code {
	if err == nil {
		return ""
	}
	return errs.CodeOf(err)
}

func TestListPagesThroughAllTenants(t *testing.T) {
	inv, a, b := setup(t)
	var ids []string
	after := ""
	for {
		page, err := invoke.Call[tenants.ListOutput](context.Background(), inv, tenants.FunctionName, tenants.OpList,
			sysAdmin, tenants.ListInput{First: 1, After: after})
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range page.Items {
			ids = append(ids, x.ID)
		}
		if page.Next == "" {
			break
		}
		after = page.Next
	}
	if len(ids) != 2 || ids[0] != a.ID || ids[1] != b.ID {
		t.Errorf("listed %v, want [%s %s]", ids, a.ID, b.ID)
	}
}

func TestATenantWithOrganizationsCannotBeDeleted(t *testing.T) {
	st, err := bolt.Open(filepath.Join(t.TempDir(), "ward.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	inv := invoke.NewLocal(tenants.Function(tenants.Deps{Store: st}))
	ten, err := invoke.Call[store.Tenant](context.Background(), inv, tenants.FunctionName, tenants.OpCreate,
		sysAdmin, tenants.CreateInput{Name: "holding"})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	org, err := st.Organizations().Create(context.Background(), store.Organization{
		ID: validate.NewID(), TenantID: ten.ID, Name: "sales", CreatedAt: now, UpdatedAt: now})
	if err != nil {
		t.Fatal(err)
	}

	del := func() error {
		_, err := invoke.Call[tenants.DeleteOutput](context.Background(), inv, tenants.FunctionName,
			tenants.OpDelete, sysAdmin, tenants.DeleteInput{ID: ten.ID})
		return err
	}
	if err := del(); errs.CodeOf(err) != errs.Conflict {
		t.Fatalf("delete with an organization: err = %v, want CONFLICT", err)
	}
	if err := st.Organizations().Delete(context.Background(), ten.ID, org.ID); err != nil {
		t.Fatal(err)
	}
	if err := del(); err != nil {
		t.Errorf("delete of an empty tenant: %v", err)
	}
}
