package platform

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/wardhq/ward/shared/config"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/sessions"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/validate"
)

func TestFunctionsThatRevokeSessionsHostTheSessionsFunction(t *testing.T) {
	cfg := config.Defaults()
	cfg.DataDir = t.TempDir()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, c := range []struct {
		host     string
		sessions bool
	}{{"account", true}, {"users", true}, {"tenants", false}, {"sessions", true}} {
		p, err := Open(context.Background(), cfg, quiet, []string{c.host}, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Local.Function(sessions.FunctionName) != nil; got != c.sessions {
			t.Errorf("hosting %s: sessions hosted %v, want %v", c.host, got, c.sessions)
		}
		p.Close()
	}
}

// The revoker account and users are given reaches the sessions function
// through the platform's invoker as it is at call time.
func TestSessionRevokerFollowsTheInvoker(t *testing.T) {
	cfg := config.Defaults()
	cfg.DataDir = t.TempDir()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	p, err := Open(context.Background(), cfg, quiet, []string{"account"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx := context.Background()
	tn, err := p.Store.Tenants().Create(ctx, store.Tenant{ID: validate.NewID(), Name: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	u, err := p.Store.Users().Create(ctx, store.User{ID: validate.NewID(), TenantID: tn.ID,
		Username: "ann", Status: store.UserActive})
	if err != nil {
		t.Fatal(err)
	}
	svc := function.Caller{Subject: "authn", Roles: []string{function.RoleService}}
	out, err := invoke.Call[sessions.CreateOutput](ctx, p.Invoker, sessions.FunctionName,
		sessions.OpCreate, svc, sessions.CreateInput{TenantID: tn.ID, UserID: u.ID, ACR: "1"})
	if err != nil {
		t.Fatal(err)
	}

	r := sessionRevoker(p, "account")
	calls := 0
	p.Invoker = countingInvoker{inner: p.Local, calls: &calls}
	if n, err := r.RevokeUser(ctx, tn.ID, u.ID); err != nil || n != 1 || calls != 1 {
		t.Errorf("RevokeUser = %d, %v after %d calls through the new invoker", n, err, calls)
	}
	_, err = invoke.Call[sessions.ValidateOutput](ctx, p.Local, sessions.FunctionName,
		sessions.OpValidate, svc, sessions.ValidateInput{Token: out.Token})
	if err == nil {
		t.Error("the session works after RevokeUser")
	}
}

type countingInvoker struct {
	inner invoke.Invoker
	calls *int
}

func (c countingInvoker) Invoke(ctx context.Context, fn string, req function.Request) (
	function.Response, error) {
	*c.calls++
	return c.inner.Invoke(ctx, fn, req)
}
