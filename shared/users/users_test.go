package users_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/store/bolt"
	"github.com/wardhq/ward/shared/tenants"
	"github.com/wardhq/ward/shared/users"
)

var (
	sysAdmin = function.Caller{Subject: "root", Roles: []string{function.RoleSystemAdmin}}
	nobody   = function.Caller{}
)

type fixture struct {
	inv   invoke.Invoker
	store store.Store
	a, b  store.Tenant // two tenants
	alice store.User   // a user of a
}

func setup(t *testing.T) *fixture {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "ward.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	inv := invoke.NewLocal(
		tenants.Function(tenants.Deps{Store: st}),
		users.Function(users.Deps{Store: st}),
	)
	f := &fixture{inv: inv, store: st}
	f.a = call[store.Tenant](t, f, tenants.FunctionName, tenants.OpCreate, sysAdmin, tenants.CreateInput{Name: "tenant-a"})
	f.b = call[store.Tenant](t, f, tenants.FunctionName, tenants.OpCreate, sysAdmin, tenants.CreateInput{Name: "tenant-b"})
	f.alice = call[store.User](t, f, users.FunctionName, users.OpCreate, sysAdmin,
		users.CreateInput{TenantID: f.a.ID, Username: "alice", Email: "alice@example.com"})
	return f
}

func call[Out any](t *testing.T, f *fixture, fn, op string, c function.Caller, in any) Out {
	t.Helper()
	out, err := invoke.Call[Out](context.Background(), f.inv, fn, op, c, in)
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
	return out
}

func adminOf(t store.Tenant) function.Caller {
	return function.Caller{Subject: "admin-of-" + t.Name, Tenant: t.ID, Roles: []string{function.RoleTenantAdmin}}
}

func userOf(t store.Tenant, id string) function.Caller {
	return function.Caller{Subject: id, Tenant: t.ID, Roles: []string{function.RoleUser}}
}

// TestNoCallerCrossesATenant tries every operation on tenant a's data as
// callers who must not reach it, and checks that each is refused and that
// nothing changed.
func TestNoCallerCrossesATenant(t *testing.T) {
	f := setup(t)
	outsiders := map[string]function.Caller{
		"anonymous":                   nobody,
		"an admin of another tenant":  adminOf(f.b),
		"a plain user of the tenant":  userOf(f.a, "someone-else"),
		"a user of another tenant":    userOf(f.b, f.alice.ID),
		"an admin claiming no tenant": {Subject: "x", Roles: []string{function.RoleTenantAdmin}},
	}
	newName := "mallory"
	ops := map[string]any{
		users.OpCreate: users.CreateInput{TenantID: f.a.ID, Username: "intruder"},
		users.OpGet:    users.GetInput{TenantID: f.a.ID, ID: f.alice.ID},
		users.OpList:   users.ListInput{TenantID: f.a.ID},
		users.OpUpdate: users.UpdateInput{TenantID: f.a.ID, ID: f.alice.ID, Username: &newName},
		users.OpDelete: users.DeleteInput{TenantID: f.a.ID, ID: f.alice.ID},
	}
	for who, c := range outsiders {
		for op, in := range ops {
			t.Run(who+" cannot "+op, func(t *testing.T) {
				_, err := invoke.Call[json.RawMessage](context.Background(), f.inv, users.FunctionName, op, c, in)
				if err == nil {
					t.Fatalf("%s succeeded", op)
				}
				switch errs.CodeOf(err) {
				case errs.NotFound, errs.PermissionDenied, errs.Unauthenticated:
				default:
					t.Errorf("code = %s, want NOT_FOUND, PERMISSION_DENIED or UNAUTHENTICATED", errs.CodeOf(err))
				}
			})
		}
	}

	got, err := f.store.Users().Get(context.Background(), f.a.ID, f.alice.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Username != "alice" || got.Version != f.alice.Version {
		t.Errorf("alice changed: %+v", got)
	}
	if n, _ := f.store.Users().Count(context.Background(), f.a.ID); n != 1 {
		t.Errorf("tenant a has %d users, want 1", n)
	}
}

func TestTenantAdminManagesOwnTenant(t *testing.T) {
	f := setup(t)
	admin := adminOf(f.a)
	bob := call[store.User](t, f, users.FunctionName, users.OpCreate, admin,
		users.CreateInput{TenantID: f.a.ID, Username: "Bob", Email: "BOB@example.com"})
	if bob.Username != "bob" || bob.Email != "bob@example.com" || bob.Status != store.UserActive {
		t.Errorf("created %+v, want folded username and email, ACTIVE", bob)
	}
	list := call[users.ListOutput](t, f, users.FunctionName, users.OpList, admin, users.ListInput{TenantID: f.a.ID})
	if got, want := len(list.Items), 2; got != want {
		t.Errorf("listed %d users, want %d", got, want)
	}
}

func TestAUserReadsThemselves(t *testing.T) {
	f := setup(t)
	self := userOf(f.a, f.alice.ID)
	got := call[store.User](t, f, users.FunctionName, users.OpGet, self, users.GetInput{TenantID: f.a.ID, ID: f.alice.ID})
	if got.ID != f.alice.ID {
		t.Errorf("got %s, want %s", got.ID, f.alice.ID)
	}
}

func TestBadInputIsRefusedAndChangesNothing(t *testing.T) {
	f := setup(t)
	long := string(make([]byte, 300))
	cases := []struct {
		name  string
		op    string
		in    any
		field string
	}{
		{"a malformed tenant ID", users.OpCreate, users.CreateInput{TenantID: "nope", Username: "x"}, "tenantId"},
		{"an empty username", users.OpCreate, users.CreateInput{TenantID: f.a.ID}, "username"},
		{"a username with spaces", users.OpCreate, users.CreateInput{TenantID: f.a.ID, Username: "a b"}, "username"},
		{"a malformed email", users.OpCreate, users.CreateInput{TenantID: f.a.ID, Username: "x", Email: "not-an-email"}, "email"},
		{"an email with a display name", users.OpCreate, users.CreateInput{TenantID: f.a.ID, Username: "x", Email: "X <x@example.com>"}, "email"},
		{"an unknown status", users.OpCreate, users.CreateInput{TenantID: f.a.ID, Username: "x", Status: "ROOT"}, "status"},
		{"a control character in the display name", users.OpCreate, users.CreateInput{TenantID: f.a.ID, Username: "x", DisplayName: "a\x00b"}, "displayName"},
		{"an oversized display name", users.OpCreate, users.CreateInput{TenantID: f.a.ID, Username: "x", DisplayName: long}, "displayName"},
		{"a malformed user ID", users.OpGet, users.GetInput{TenantID: f.a.ID, ID: "123"}, "id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := invoke.Call[json.RawMessage](context.Background(), f.inv, users.FunctionName, tc.op, sysAdmin, tc.in)
			var e *errs.Error
			if !errors.As(err, &e) || e.Code != errs.InvalidArgument {
				t.Fatalf("err = %v, want INVALID_ARGUMENT", err)
			}
			if e.Field != tc.field {
				t.Errorf("field = %q, want %q", e.Field, tc.field)
			}
		})
	}
	t.Run("unknown input fields", func(t *testing.T) {
		_, err := invoke.Call[json.RawMessage](context.Background(), f.inv, users.FunctionName, users.OpCreate, sysAdmin,
			map[string]any{"tenantId": f.a.ID, "username": "x", "isAdmin": true})
		if !errors.Is(err, errs.ErrInvalidArgument) {
			t.Errorf("err = %v, want INVALID_ARGUMENT", err)
		}
	})
	if n, _ := f.store.Users().Count(context.Background(), f.a.ID); n != 1 {
		t.Errorf("tenant a has %d users after refused input, want 1", n)
	}
}

func TestUnknownTenantIsNotFound(t *testing.T) {
	f := setup(t)
	missing := "0190b0b0-0000-7000-8000-000000000000"
	for _, op := range []string{users.OpCreate, users.OpList} {
		var in any = users.ListInput{TenantID: missing}
		if op == users.OpCreate {
			in = users.CreateInput{TenantID: missing, Username: "x"}
		}
		_, err := invoke.Call[json.RawMessage](context.Background(), f.inv, users.FunctionName, op, sysAdmin, in)
		if !errors.Is(err, errs.ErrNotFound) {
			t.Errorf("%s: err = %v, want NOT_FOUND", op, err)
		}
	}
}

func TestTenantWithUsersCannotBeDeleted(t *testing.T) {
	f := setup(t)
	_, err := invoke.Call[tenants.DeleteOutput](context.Background(), f.inv, tenants.FunctionName, tenants.OpDelete,
		sysAdmin, tenants.DeleteInput{ID: f.a.ID})
	if !errors.Is(err, errs.ErrConflict) {
		t.Fatalf("err = %v, want CONFLICT", err)
	}
	call[users.DeleteOutput](t, f, users.FunctionName, users.OpDelete, sysAdmin, users.DeleteInput{TenantID: f.a.ID, ID: f.alice.ID})
	call[tenants.DeleteOutput](t, f, tenants.FunctionName, tenants.OpDelete, sysAdmin, tenants.DeleteInput{ID: f.a.ID})
	if _, err := f.store.Tenants().Get(context.Background(), f.a.ID); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("tenant still there: %v", err)
	}
}
