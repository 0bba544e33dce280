package users_test

import (
	"context"
	"testing"
	"time"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/users"
	"github.com/wardhq/ward/shared/validate"
)

// lookupFixture adds to the fixture: organization east of tenant a with
// its child east-1, bob in east-1, dave at tenant level of a, and a user
// named alice in tenant b too.
type lookupFixture struct {
	*fixture
	east, east1     store.Organization
	bob, dave, bAli store.User
}

func setupLookups(t *testing.T) *lookupFixture {
	t.Helper()
	f := &lookupFixture{fixture: setup(t)}
	org := func(name, parent string) store.Organization {
		now := time.Now().UTC().Truncate(time.Millisecond)
		o, err := f.store.Organizations().Create(context.Background(), store.Organization{
			ID: validate.NewID(), TenantID: f.a.ID, ParentID: parent, Name: name,
			CreatedAt: now, UpdatedAt: now})
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	f.east = org("east", "")
	f.east1 = org("east-1", f.east.ID)
	f.bob = call[store.User](t, f.fixture, users.FunctionName, users.OpCreate, sysAdmin,
		users.CreateInput{TenantID: f.a.ID, Username: "bob", Email: "bob@example.com",
			OrgID: f.east1.ID})
	f.dave = call[store.User](t, f.fixture, users.FunctionName, users.OpCreate, sysAdmin,
		users.CreateInput{TenantID: f.a.ID, Username: "dave"})
	f.bAli = call[store.User](t, f.fixture, users.FunctionName, users.OpCreate, sysAdmin,
		users.CreateInput{TenantID: f.b.ID, Username: "alice", Email: "alice@example.com"})
	return f
}

func byUsername(f *lookupFixture, c function.Caller, tenantID, name string) (store.User,
	error) {
	return invoke.Call[store.User](context.Background(), f.inv, users.FunctionName,
		users.OpGetByUsername, c, users.GetByUsernameInput{TenantID: tenantID, Username: name})
}

func byEmail(f *lookupFixture, c function.Caller, tenantID, email string) (store.User, error) {
	return invoke.Call[store.User](context.Background(), f.inv, users.FunctionName,
		users.OpGetByEmail, c, users.GetByEmailInput{TenantID: tenantID, Email: email})
}

func TestLookupsFollowTheReachOfGet(t *testing.T) {
	f := setupLookups(t)
	eastAdmin := function.Caller{Subject: "east-admin", Tenant: f.a.ID,
		Roles: []string{function.RoleOrgAdmin}, Orgs: []string{f.east.ID}}

	found := []struct {
		name     string
		c        function.Caller
		tenantID string
		username string
		want     store.User
	}{
		{"a system administrator", sysAdmin, f.a.ID, "bob", f.bob},
		{"the tenant's administrator, folding case", adminOf(f.a), f.a.ID, "ALICE", f.alice},
		{"an organization administrator, below their organization", eastAdmin, f.a.ID, "bob",
			f.bob},
		{"a user, themselves", userOf(f.a, f.dave.ID), f.a.ID, "dave", f.dave},
		{"tenant b's administrator, tenant b's alice", adminOf(f.b), f.b.ID, "alice", f.bAli},
	}
	for _, tc := range found {
		got, err := byUsername(f, tc.c, tc.tenantID, tc.username)
		if err != nil || got.ID != tc.want.ID {
			t.Errorf("%s: got %q, %v; want %q", tc.name, got.ID, err, tc.want.ID)
		}
	}

	refused := []struct {
		name     string
		c        function.Caller
		tenantID string
		username string
		want     errs.Code
	}{
		{"anonymous", nobody, f.a.ID, "alice", errs.Unauthenticated},
		{"another tenant's administrator", adminOf(f.b), f.a.ID, "bob", errs.NotFound},
		{"a user of another tenant, by their own ID", userOf(f.b, f.alice.ID), f.a.ID, "alice",
			errs.NotFound},
		{"a user, someone else", userOf(f.a, f.dave.ID), f.a.ID, "bob", errs.PermissionDenied},
		{"a user, a name nobody has", userOf(f.a, f.dave.ID), f.a.ID, "nobody",
			errs.PermissionDenied},
		{"an organization administrator, a user at tenant level", eastAdmin, f.a.ID, "dave",
			errs.NotFound},
		{"an organization administrator, a name nobody has", eastAdmin, f.a.ID, "nobody",
			errs.NotFound},
		{"an organization administrator of another tenant", function.Caller{Subject: "x",
			Tenant: f.b.ID, Roles: []string{function.RoleOrgAdmin}, Orgs: []string{f.east.ID}},
			f.a.ID, "bob", errs.NotFound},
		{"a malformed username", adminOf(f.a), f.a.ID, "no spaces", errs.InvalidArgument},
	}
	for _, tc := range refused {
		got, err := byUsername(f, tc.c, tc.tenantID, tc.username)
		if errs.CodeOf(err) != tc.want || got.ID != "" {
			t.Errorf("%s: got %q, %v; want %s", tc.name, got.ID, err, tc.want)
		}
	}

	// Out of reach and missing read the same.
	_, outOfReach := byUsername(f, eastAdmin, f.a.ID, "dave")
	_, missing := byUsername(f, eastAdmin, f.a.ID, "nobody")
	if errs.CodeOf(outOfReach) != errs.CodeOf(missing) || outOfReach.Error() != missing.Error() {
		t.Errorf("out of reach %v differs from missing %v", outOfReach, missing)
	}
}

func TestLookupByEmail(t *testing.T) {
	f := setupLookups(t)
	eastAdmin := function.Caller{Subject: "east-admin", Tenant: f.a.ID,
		Roles: []string{function.RoleOrgAdmin}, Orgs: []string{f.east1.ID}}

	if got, err := byEmail(f, adminOf(f.a), f.a.ID, "Bob@Example.com"); err != nil ||
		got.ID != f.bob.ID {
		t.Errorf("bob by email: %q, %v", got.ID, err)
	}
	if got, err := byEmail(f, adminOf(f.b), f.b.ID, "alice@example.com"); err != nil ||
		got.ID != f.bAli.ID {
		t.Errorf("tenant b's alice by email: %q, %v", got.ID, err)
	}
	if got, err := byEmail(f, eastAdmin, f.a.ID, "bob@example.com"); err != nil ||
		got.ID != f.bob.ID {
		t.Errorf("bob by email as east-1's administrator: %q, %v", got.ID, err)
	}
	if _, err := byEmail(f, eastAdmin, f.a.ID, "alice@example.com"); errs.CodeOf(err) !=
		errs.NotFound {
		t.Errorf("alice by email as east-1's administrator: %v", err)
	}
	if got, err := byEmail(f, userOf(f.a, f.alice.ID), f.a.ID, "alice@example.com"); err != nil ||
		got.ID != f.alice.ID {
		t.Errorf("alice by her own email: %q, %v", got.ID, err)
	}
	if _, err := byEmail(f, userOf(f.a, f.alice.ID), f.a.ID, "bob@example.com"); errs.CodeOf(
		err) != errs.PermissionDenied {
		t.Errorf("bob by email as alice: %v", err)
	}
	if _, err := byEmail(f, adminOf(f.a), f.a.ID, "nobody@example.com"); errs.CodeOf(err) !=
		errs.NotFound {
		t.Errorf("a missing address: %v", err)
	}
	for _, bad := range []string{"", "not an address", "Bob <bob@example.com>"} {
		if _, err := byEmail(f, adminOf(f.a), f.a.ID, bad); errs.CodeOf(err) !=
			errs.InvalidArgument {
			t.Errorf("email %q: %v", bad, err)
		}
	}
}
