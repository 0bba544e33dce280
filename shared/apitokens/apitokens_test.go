package apitokens_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wardhq/ward/shared/apitokens"
	"github.com/wardhq/ward/shared/cache/memory"
	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/store/bolt"
	"github.com/wardhq/ward/shared/validate"
)

var (
	sysAdmin = function.Caller{Subject: "root", Roles: []string{function.RoleSystemAdmin}}
	facade   = function.Caller{Subject: "graphql", Roles: []string{function.RoleService}}
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type fixture struct {
	deps  apitokens.Deps
	inv   invoke.Invoker
	clock *clock
}

func setup(t *testing.T) *fixture {
	t.Helper()
	clk := &clock{t: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)}
	st, err := bolt.Open(filepath.Join(t.TempDir(), "ward.db"), bolt.WithClock(clk.now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c, err := memory.New(memory.Options{Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	d := apitokens.Deps{Store: st, Cache: c, Now: clk.now}
	return &fixture{deps: d, inv: invoke.NewLocal(apitokens.Function(d)), clock: clk}
}

func (f *fixture) verify(token string) (function.Caller, error) {
	return invoke.Call[function.Caller](context.Background(), f.inv, apitokens.FunctionName, apitokens.OpVerify,
		facade, apitokens.VerifyInput{Token: token})
}

func (f *fixture) create(t *testing.T, c function.Caller, in apitokens.CreateInput) apitokens.CreateOutput {
	t.Helper()
	out, err := invoke.Call[apitokens.CreateOutput](context.Background(), f.inv, apitokens.FunctionName,
		apitokens.OpCreate, c, in)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestBootstrapCreatesOneSystemAdminOnce(t *testing.T) {
	f := setup(t)
	token, err := apitokens.Bootstrap(context.Background(), f.deps, "")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(token, apitokens.Prefix) {
		t.Fatalf("generated token %q lacks the prefix", token)
	}
	who, err := f.verify(token)
	if err != nil {
		t.Fatal(err)
	}
	if !who.Has(function.RoleSystemAdmin) || who.Tenant != "" {
		t.Errorf("bootstrap caller = %+v, want a system admin", who)
	}

	again, err := apitokens.Bootstrap(context.Background(), f.deps, "")
	if err != nil || again != "" {
		t.Errorf("second bootstrap = %q, %v; want nothing generated", again, err)
	}
}

func TestBootstrapIsCreatedOnceWhenProcessesRace(t *testing.T) {
	f := setup(t)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var generated []string
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok, err := apitokens.Bootstrap(context.Background(), f.deps, "")
			if err != nil {
				t.Error(err)
			}
			if tok != "" {
				mu.Lock()
				generated = append(generated, tok)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(generated) != 1 {
		t.Errorf("%d bootstrap tokens generated, want 1", len(generated))
	}
}

func TestBootstrapWithAConfiguredToken(t *testing.T) {
	f := setup(t)
	configured := "configured-token-0123456789abcdef0123"
	for range 2 {
		if tok, err := apitokens.Bootstrap(context.Background(), f.deps, configured); err != nil || tok != "" {
			t.Fatalf("Bootstrap = %q, %v", tok, err)
		}
	}
	if _, err := f.verify(configured); err != nil {
		t.Errorf("configured token does not verify: %v", err)
	}
	if tok, _ := apitokens.Bootstrap(context.Background(), f.deps, ""); tok != "" {
		t.Errorf("a token was generated although a system admin exists")
	}
	if _, err := apitokens.Bootstrap(context.Background(), f.deps, "short"); !errors.Is(err, errs.ErrInvalidArgument) {
		t.Errorf("short configured token: err = %v, want INVALID_ARGUMENT", err)
	}
}

func TestOnlyServicesVerify(t *testing.T) {
	f := setup(t)
	out := f.create(t, sysAdmin, apitokens.CreateInput{Name: "ops", Roles: []string{function.RoleSystemAdmin}})
	_, err := invoke.Call[function.Caller](context.Background(), f.inv, apitokens.FunctionName, apitokens.OpVerify,
		sysAdmin, apitokens.VerifyInput{Token: out.Token})
	if !errors.Is(err, errs.ErrPermissionDenied) {
		t.Errorf("verify by a system admin: err = %v, want PERMISSION_DENIED", err)
	}
}

func TestVerifyRefusesUnknownAndExpiredTokens(t *testing.T) {
	f := setup(t)
	for _, tok := range []string{"", "ward_unknown", strings.Repeat("x", 1000)} {
		if _, err := f.verify(tok); !errors.Is(err, errs.ErrUnauthenticated) {
			t.Errorf("verify(%.10q) err = %v, want UNAUTHENTICATED", tok, err)
		}
	}

	out := f.create(t, sysAdmin, apitokens.CreateInput{Name: "short-lived", Roles: []string{function.RoleSystemAdmin}, TTLSeconds: 60})
	if _, err := f.verify(out.Token); err != nil {
		t.Fatalf("fresh token: %v", err)
	}
	f.clock.add(61 * time.Second)
	if _, err := f.verify(out.Token); !errors.Is(err, errs.ErrUnauthenticated) {
		t.Errorf("expired token: err = %v, want UNAUTHENTICATED", err)
	}
}

func TestCreatedTokensNeverExposeTheirHash(t *testing.T) {
	f := setup(t)
	out := f.create(t, sysAdmin, apitokens.CreateInput{Name: "ci", Roles: []string{function.RoleSystemAdmin}})
	if out.APIToken.Hash != "" {
		t.Errorf("create returned the hash")
	}
	list, err := invoke.Call[apitokens.ListOutput](context.Background(), f.inv, apitokens.FunctionName, apitokens.OpList,
		sysAdmin, apitokens.ListInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range list.Items {
		if it.Hash != "" {
			t.Errorf("list returned a hash for %s", it.ID)
		}
	}
	stored, err := f.deps.Store.APITokens().GetByHash(context.Background(), apitokens.Hash(out.Token))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains([]byte(stored.Hash), []byte(out.Token)) {
		t.Errorf("the store holds the secret")
	}
}

func TestWhoMayCreateWhichTokens(t *testing.T) {
	f := setup(t)
	tenant := "0190b0b0-0000-7000-8000-00000000000a"
	_, err := f.deps.Store.Tenants().Create(context.Background(), store.Tenant{ID: tenant, Name: "acme",
		CreatedAt: f.clock.now(), UpdatedAt: f.clock.now()})
	if err != nil {
		t.Fatal(err)
	}
	tenantAdmin := function.Caller{Subject: "a", Tenant: tenant, Roles: []string{function.RoleTenantAdmin}}
	cases := []struct {
		name   string
		caller function.Caller
		in     apitokens.CreateInput
		want   errs.Code
	}{
		{"a tenant admin makes a tenant token", tenantAdmin, apitokens.CreateInput{TenantID: tenant, Name: "t", Roles: []string{"tenant_admin"}}, ""},
		{"a tenant admin cannot make a system token", tenantAdmin, apitokens.CreateInput{Name: "t", Roles: []string{"system_admin"}}, errs.PermissionDenied},
		{"system_admin is not grantable inside a tenant", sysAdmin, apitokens.CreateInput{TenantID: tenant, Name: "t", Roles: []string{"system_admin"}}, errs.InvalidArgument},
		{"the service role is never grantable", sysAdmin, apitokens.CreateInput{Name: "t", Roles: []string{"service"}}, errs.InvalidArgument},
		{"a tenant role needs a tenant", sysAdmin, apitokens.CreateInput{Name: "t", Roles: []string{"tenant_admin"}}, errs.InvalidArgument},
		{"a token needs a role", sysAdmin, apitokens.CreateInput{Name: "t"}, errs.InvalidArgument},
		{"a token needs a name", sysAdmin, apitokens.CreateInput{Roles: []string{"system_admin"}}, errs.InvalidArgument},
		{"a negative TTL is invalid", sysAdmin, apitokens.CreateInput{Name: "t", Roles: []string{"system_admin"}, TTLSeconds: -1}, errs.InvalidArgument},
		{"an unknown tenant is not found", sysAdmin, apitokens.CreateInput{TenantID: "0190b0b0-0000-7000-8000-00000000000b", Name: "t", Roles: []string{"user"}}, errs.NotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := invoke.Call[apitokens.CreateOutput](context.Background(), f.inv, apitokens.FunctionName,
				apitokens.OpCreate, tc.caller, tc.in)
			got := errs.Code("")
			if err != nil {
				got = errs.CodeOf(err)
			}
			if got != tc.want {
				t.Errorf("code = %q, want %q (%v)", got, tc.want, err)
			}
		})
	}
}

func TestADeletedTokenStopsWorkingOnceTheCacheWindowPasses(t *testing.T) {
	f := setup(t)
	out := f.create(t, sysAdmin, apitokens.CreateInput{Name: "gone", Roles: []string{function.RoleSystemAdmin}})
	if _, err := f.verify(out.Token); err != nil {
		t.Fatal(err)
	}
	_, err := invoke.Call[apitokens.DeleteOutput](context.Background(), f.inv, apitokens.FunctionName, apitokens.OpDelete,
		sysAdmin, apitokens.DeleteInput{ID: out.APIToken.ID})
	if err != nil {
		t.Fatal(err)
	}
	f.clock.add(apitokens.VerifyCacheTTL + time.Second)
	if _, err := f.verify(out.Token); !errors.Is(err, errs.ErrUnauthenticated) {
		t.Errorf("deleted token: err = %v, want UNAUTHENTICATED", err)
	}
}

// TestOrgAdminTokens checks that org_admin tokens carry their
// organizations into the caller, and that every malformed grant is
// refused without a token being made.
func TestOrgAdminTokens(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	st := f.deps.Store
	now := f.clock.now()
	tenant := func(name string) store.Tenant {
		tn, err := st.Tenants().Create(ctx, store.Tenant{ID: validate.NewID(), Name: name,
			CreatedAt: now, UpdatedAt: now})
		if err != nil {
			t.Fatal(err)
		}
		return tn
	}
	org := func(tenantID, name string) store.Organization {
		o, err := st.Organizations().Create(ctx, store.Organization{ID: validate.NewID(),
			TenantID: tenantID, Name: name, CreatedAt: now, UpdatedAt: now})
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	a, b := tenant("acme"), tenant("globex")
	east, west, foreign := org(a.ID, "east"), org(a.ID, "west"), org(b.ID, "foreign")

	out := f.create(t, sysAdmin, apitokens.CreateInput{TenantID: a.ID, Name: "ops",
		Roles: []string{function.RoleOrgAdmin}, Orgs: []string{east.ID, west.ID}})
	who, err := f.verify(out.Token)
	if err != nil {
		t.Fatal(err)
	}
	if who.Tenant != a.ID || !who.Has(function.RoleOrgAdmin) ||
		strings.Join(who.Orgs, ",") != east.ID+","+west.ID {
		t.Errorf("verified caller = %+v", who)
	}
	// A second verify comes from the cache and must keep the organizations.
	if again, err := f.verify(out.Token); err != nil || len(again.Orgs) != 2 {
		t.Errorf("cached caller = %+v, %v", again, err)
	}
	tenantAdmin := function.Caller{Subject: "adm", Tenant: a.ID,
		Roles: []string{function.RoleTenantAdmin}}
	f.create(t, tenantAdmin, apitokens.CreateInput{TenantID: a.ID, Name: "by tenant admin",
		Roles: []string{function.RoleOrgAdmin}, Orgs: []string{east.ID}})

	orgAdmin := function.Caller{Subject: "oa", Tenant: a.ID,
		Roles: []string{function.RoleOrgAdmin}, Orgs: []string{east.ID}}
	for _, c := range []struct {
		name   string
		caller function.Caller
		in     apitokens.CreateInput
		want   errs.Code
	}{
		{"org_admin without organizations", sysAdmin, apitokens.CreateInput{TenantID: a.ID,
			Roles: []string{function.RoleOrgAdmin}}, errs.InvalidArgument},
		{"organizations without org_admin", sysAdmin, apitokens.CreateInput{TenantID: a.ID,
			Roles: []string{function.RoleTenantAdmin}, Orgs: []string{east.ID}},
			errs.InvalidArgument},
		{"org_admin of system scope", sysAdmin, apitokens.CreateInput{
			Roles: []string{function.RoleOrgAdmin}, Orgs: []string{east.ID}}, errs.InvalidArgument},
		{"an organization of another tenant", sysAdmin, apitokens.CreateInput{TenantID: a.ID,
			Roles: []string{function.RoleOrgAdmin}, Orgs: []string{foreign.ID}},
			errs.InvalidArgument},
		{"an organization that does not exist", sysAdmin, apitokens.CreateInput{TenantID: a.ID,
			Roles: []string{function.RoleOrgAdmin}, Orgs: []string{validate.NewID()}},
			errs.InvalidArgument},
		{"an organization twice", sysAdmin, apitokens.CreateInput{TenantID: a.ID,
			Roles: []string{function.RoleOrgAdmin}, Orgs: []string{east.ID, east.ID}},
			errs.InvalidArgument},
		{"a malformed organization ID", sysAdmin, apitokens.CreateInput{TenantID: a.ID,
			Roles: []string{function.RoleOrgAdmin}, Orgs: []string{"east"}}, errs.InvalidArgument},
		{"a tenant admin of another tenant", function.Caller{Subject: "x", Tenant: b.ID,
			Roles: []string{function.RoleTenantAdmin}}, apitokens.CreateInput{TenantID: a.ID,
			Roles: []string{function.RoleOrgAdmin}, Orgs: []string{east.ID}},
			errs.PermissionDenied},
		{"an org admin", orgAdmin, apitokens.CreateInput{TenantID: a.ID,
			Roles: []string{function.RoleOrgAdmin}, Orgs: []string{east.ID}},
			errs.PermissionDenied},
	} {
		c.in.Name = "refused"
		_, err := invoke.Call[apitokens.CreateOutput](ctx, f.inv, apitokens.FunctionName,
			apitokens.OpCreate, c.caller, c.in)
		if got := errs.CodeOf(err); got != c.want {
			t.Errorf("%s: code %s (%v), want %s", c.name, got, err, c.want)
		}
	}
	items, _, err := st.APITokens().List(ctx, a.ID, store.Page{})
	if err != nil || len(items) != 2 {
		t.Errorf("tenant a has %d tokens (%v), want the 2 granted", len(items), err)
	}
}
