package appstate_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/wardhq/ward/shared/appstate"
	"github.com/wardhq/ward/shared/cache"
	"github.com/wardhq/ward/shared/cache/memory"
	"github.com/wardhq/ward/shared/clocktest"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/sessions"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/store/bolt"
	"github.com/wardhq/ward/shared/validate"
)

var svc = function.Caller{Subject: "authn", Roles: []string{function.RoleService}}

// env hosts the real sessions and appstate functions over one store and
// one cache.
type env struct {
	t     testing.TB
	clk   *clocktest.Clock
	st    store.Store
	cache cache.Cache
	inv   *invoke.Local
	a, b  store.Tenant
}

// newEnv uses the memory cache on a clock the test moves.
func newEnv(t testing.TB) *env {
	t.Helper()
	clk := clocktest.New(time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC))
	mc, err := memory.New(memory.Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mc.Close() })
	return newEnvWith(t, clk, mc)
}

func newEnvWith(t testing.TB, clk *clocktest.Clock, c cache.Cache) *env {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "ward.db"), bolt.WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	e := &env{t: t, clk: clk, st: st, cache: c, inv: invoke.NewLocal()}
	e.inv.Register(sessions.Function(sessions.Deps{Store: st, Cache: c, Now: clk.Now, Log: quiet}))
	e.inv.Register(appstate.Function(appstate.Deps{Cache: c, Store: st, Invoker: e.inv,
		Now: clk.Now, Log: quiet}))
	e.a, e.b = e.tenant("acme"), e.tenant("beta")
	return e
}

func (e *env) tenant(name string) store.Tenant {
	e.t.Helper()
	now := e.clk.Now()
	tn, err := e.st.Tenants().Create(context.Background(), store.Tenant{ID: validate.NewID(),
		Name: name + "-" + validate.NewID()[30:], DisplayName: name, CreatedAt: now,
		UpdatedAt: now})
	if err != nil {
		e.t.Fatal(err)
	}
	return tn
}

// signedIn is a user's session: its token and the caller it stands for.
type signedIn struct {
	token   string
	session sessions.Session
	caller  function.Caller
}

// signIn makes a user of tn and a session for them with sessions.create,
// and validates its token into a caller, as the facade would.
func (e *env) signIn(tn store.Tenant, username string) signedIn {
	e.t.Helper()
	ctx := context.Background()
	now := e.clk.Now()
	u, err := e.st.Users().Create(ctx, store.User{ID: validate.NewID(), TenantID: tn.ID,
		Username: username, Status: store.UserActive, CreatedAt: now, UpdatedAt: now})
	if err != nil {
		e.t.Fatal(err)
	}
	out, err := invoke.Call[sessions.CreateOutput](ctx, e.inv, sessions.FunctionName,
		sessions.OpCreate, svc, sessions.CreateInput{TenantID: tn.ID, UserID: u.ID,
			ACR: store.ACRPassword, AMR: []string{"pwd"}})
	if err != nil {
		e.t.Fatal(err)
	}
	v, err := invoke.Call[sessions.ValidateOutput](ctx, e.inv, sessions.FunctionName,
		sessions.OpValidate, svc, sessions.ValidateInput{Token: out.Token})
	if err != nil {
		e.t.Fatal(err)
	}
	return signedIn{token: string(out.Token), session: out.Session, caller: v.Caller()}
}

func call[Out any](e *env, op string, c function.Caller, in any) (Out, error) {
	return invoke.Call[Out](context.Background(), e.inv, appstate.FunctionName, op, c, in)
}

func (e *env) set(c function.Caller, app, key string, value any) (appstate.SetOutput, error) {
	b, err := json.Marshal(value)
	if err != nil {
		e.t.Fatal(err)
	}
	return call[appstate.SetOutput](e, appstate.OpSet, c,
		appstate.SetInput{App: app, Key: key, Value: b})
}

func (e *env) get(c function.Caller, app, key string) (string, error) {
	out, err := call[appstate.GetOutput](e, appstate.OpGet, c,
		appstate.GetInput{App: app, Key: key})
	return string(out.Value), err
}

func (e *env) list(c function.Caller, app string) appstate.ListOutput {
	e.t.Helper()
	out, err := call[appstate.ListOutput](e, appstate.OpList, c, appstate.ListInput{App: app})
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}
