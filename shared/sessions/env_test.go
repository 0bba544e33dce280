package sessions_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wardhq/ward/shared/cache"
	"github.com/wardhq/ward/shared/cache/cachetest"
	"github.com/wardhq/ward/shared/cache/memory"
	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/sessions"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/store/bolt"
	"github.com/wardhq/ward/shared/validate"
)

// countingCache counts the writes that reach a cache.
type countingCache struct {
	cache.Cache
	writes atomic.Int64
}

func (c *countingCache) Set(ctx context.Context, k string, v []byte, ttl time.Duration) error {
	c.writes.Add(1)
	return c.Cache.Set(ctx, k, v, ttl)
}

func (c *countingCache) SetNX(ctx context.Context, k string, v []byte, ttl time.Duration) (bool,
	error) {
	c.writes.Add(1)
	return c.Cache.SetNX(ctx, k, v, ttl)
}

type env struct {
	t     testing.TB
	clk   *cachetest.Clock
	st    store.Store
	cache *countingCache
	inv   *invoke.Local // sessions and a fake issuers function
	// issuers is what the fake issuers function answers.
	issuers func(in sessions.IssuersVerifyInput) (sessions.IssuersVerifyOutput, error)
	roles   map[string][]string // extra roles by user ID, for RolesOf
	a, b    store.Tenant
}

var (
	svc     = function.Caller{Subject: "authn", Roles: []string{function.RoleService}}
	sysRoot = function.Caller{Subject: "root", Roles: []string{function.RoleSystemAdmin}}
	nobody  = function.Caller{}
)

func newEnv(t testing.TB) *env {
	t.Helper()
	return newEnvAt(t, time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC))
}

// newEnvAt is newEnv with the clock starting at start. The store, the
// cache and the service share the clock, so that expiry is tested
// without sleeping.
func newEnvAt(t testing.TB, start time.Time) *env {
	t.Helper()
	clk := cachetest.NewClock(start)
	st, err := bolt.Open(filepath.Join(t.TempDir(), "ward.db"), bolt.WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	mc, err := memory.New(memory.Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mc.Close() })
	e := &env{t: t, clk: clk, st: st, cache: &countingCache{Cache: mc},
		roles: map[string][]string{}}
	e.a = e.tenant("acme", store.AuthSettings{})
	e.b = e.tenant("globex", store.AuthSettings{})
	e.inv = invoke.NewLocal()
	e.inv.Register(e.function(e.cache, e.inv))
	e.inv.Register(e.issuersFunction())
	return e
}

// function builds the sessions function over c, reaching other functions
// through inv.
func (e *env) function(c cache.Cache, inv invoke.Invoker) *function.Function {
	return sessions.Function(sessions.Deps{
		Store: e.st, Cache: c, Invoker: inv, Now: e.clk.Now,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		RolesOf: func(u store.User) ([]string, []string) {
			r := e.roles[u.ID]
			if len(r) == 0 {
				return nil, nil
			}
			return r, []string{"org-of-" + u.ID}
		},
	})
}

// issuersFunction is a stand-in for the trusted issuers service.
func (e *env) issuersFunction() *function.Function {
	f := function.New(sessions.IssuersFunction)
	function.Op(f, sessions.OpIssuersVerify, func(_ context.Context, c function.Caller,
		in sessions.IssuersVerifyInput) (sessions.IssuersVerifyOutput, error) {
		if err := c.RequireService(); err != nil {
			return sessions.IssuersVerifyOutput{}, err
		}
		if e.issuers == nil {
			return sessions.IssuersVerifyOutput{}, errs.New(errs.Unauthenticated, "invalid token")
		}
		return e.issuers(in)
	})
	return f
}

func (e *env) tenant(name string, auth store.AuthSettings) store.Tenant {
	e.t.Helper()
	now := e.clk.Now()
	tn, err := e.st.Tenants().Create(context.Background(), store.Tenant{ID: validate.NewID(),
		Name: name, DisplayName: name, Auth: auth, CreatedAt: now, UpdatedAt: now})
	if err != nil {
		e.t.Fatal(err)
	}
	return tn
}

func (e *env) user(tn store.Tenant, name, orgID string) store.User {
	e.t.Helper()
	now := e.clk.Now()
	u, err := e.st.Users().Create(context.Background(), store.User{ID: validate.NewID(),
		TenantID: tn.ID, Username: name, Status: store.UserActive, OrgID: orgID,
		CreatedAt: now, UpdatedAt: now})
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

func (e *env) org(tn store.Tenant, name, parentID string) store.Organization {
	e.t.Helper()
	now := e.clk.Now()
	o, err := e.st.Organizations().Create(context.Background(), store.Organization{
		ID: validate.NewID(), TenantID: tn.ID, ParentID: parentID, Name: name,
		CreatedAt: now, UpdatedAt: now})
	if err != nil {
		e.t.Fatal(err)
	}
	return o
}

func (e *env) setStatus(u store.User, st store.UserStatus) {
	e.t.Helper()
	_, err := e.st.Users().Update(context.Background(), u.TenantID, u.ID,
		func(u store.User) (store.User, error) {
			u.Status = st
			return u, nil
		})
	if err != nil {
		e.t.Fatal(err)
	}
}

// call invokes an operation of the sessions function as a transport
// would: JSON in, strict decoding, JSON out.
func call[Out any](e *env, c function.Caller, op string, in any) (Out, error) {
	return invoke.Call[Out](context.Background(), e.inv, sessions.FunctionName, op, c, in)
}

func must[Out any](e *env, c function.Caller, op string, in any) Out {
	e.t.Helper()
	out, err := call[Out](e, c, op, in)
	if err != nil {
		e.t.Fatalf("%s: %v", op, err)
	}
	return out
}

// signIn creates a session for u as the sign-in flows do.
func (e *env) signIn(u store.User) sessions.CreateOutput {
	e.t.Helper()
	return must[sessions.CreateOutput](e, svc, sessions.OpCreate, sessions.CreateInput{
		TenantID: u.TenantID, UserID: u.ID, ACR: store.ACRPassword, AMR: []string{"pwd"},
		IP: "192.0.2.7", UserAgent: "Mozilla/5.0", DeviceID: "device-1"})
}

func (e *env) validate(tok sessions.Token, tenant string) (sessions.ValidateOutput, error) {
	return call[sessions.ValidateOutput](e, svc, sessions.OpValidate,
		sessions.ValidateInput{Token: tok, Tenant: tenant})
}

func (e *env) mustValidate(tok sessions.Token) sessions.ValidateOutput {
	e.t.Helper()
	out, err := e.validate(tok, "")
	if err != nil {
		e.t.Fatalf("validate: %v", err)
	}
	return out
}

// wantInvalid fails unless err is the one answer for a token that does
// not work.
func wantInvalid(t testing.TB, what string, err error) {
	t.Helper()
	if errs.CodeOf(err) != errs.Unauthenticated || errs.Public(err).Message != "invalid token" {
		t.Errorf("%s: %v, want UNAUTHENTICATED \"invalid token\"", what, err)
	}
}

func wantCode(t testing.TB, what string, err error, code errs.Code) {
	t.Helper()
	if errs.CodeOf(err) != code {
		t.Errorf("%s: %v, want %s", what, err, code)
	}
}

func hashOf(tok sessions.Token) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:])
}

// record reads a session's store record.
func (e *env) record(tenantID, id string) (store.Session, error) {
	return e.st.Sessions().Get(context.Background(), tenantID, id)
}

// cached reads a token's cache entry as JSON fields; nil when absent.
func (e *env) cached(tok sessions.Token) map[string]any {
	e.t.Helper()
	b, err := e.cache.Get(context.Background(), "sess:"+hashOf(tok))
	if errs.CodeOf(err) == errs.NotFound {
		return nil
	}
	if err != nil {
		e.t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		e.t.Fatal(err)
	}
	return m
}

func (e *env) dropCache(tok sessions.Token) {
	e.t.Helper()
	if err := e.cache.Delete(context.Background(), "sess:"+hashOf(tok)); err != nil {
		e.t.Fatal(err)
	}
}

func userCaller(u store.User) function.Caller {
	return function.Caller{Subject: u.ID, Tenant: u.TenantID, Roles: []string{function.RoleUser}}
}

func adminOf(tn store.Tenant) function.Caller {
	return function.Caller{Subject: "apitoken:admin-" + tn.Name, Tenant: tn.ID,
		Roles: []string{function.RoleTenantAdmin}}
}

func orgAdminOf(tn store.Tenant, orgs ...string) function.Caller {
	return function.Caller{Subject: "apitoken:orgadmin", Tenant: tn.ID,
		Roles: []string{function.RoleOrgAdmin}, Orgs: orgs}
}

// auditActions lists the actions of a tenant's trail about target.
func (e *env) auditActions(tenantID, target string) []string {
	e.t.Helper()
	items, _, err := e.st.Audit().List(context.Background(), tenantID,
		store.AuditFilter{TargetID: target}, store.Page{Limit: 100})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, ev := range items {
		out = append(out, ev.Action)
	}
	return out
}
