package issuers_test

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wardhq/ward/shared/clocktest"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/issuers"
	"github.com/wardhq/ward/shared/issuers/issuerstest"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/store/bolt"
	"github.com/wardhq/ward/shared/validate"
)

var (
	svc     = function.Caller{Subject: "sessions", Roles: []string{function.RoleService}}
	sysRoot = function.Caller{Subject: "root", Roles: []string{function.RoleSystemAdmin}}
)

// logBuffer collects log lines, safely for concurrent writers.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *logBuffer) Reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b.Reset()
}

type env struct {
	t    testing.TB
	clk  *clocktest.Clock
	st   store.Store
	inv  *invoke.Local
	logs *logBuffer
	idp  *issuerstest.Issuer
	a, b store.Tenant
	// ti is tenant a's trust in idp: audience "api://ward", ES256 and
	// RS256, carrying the claim "email".
	ti store.TrustedIssuer
}

func newEnv(t testing.TB) *env {
	t.Helper()
	clk := clocktest.New(time.Now().UTC().Truncate(time.Second))
	st, err := bolt.Open(filepath.Join(t.TempDir(), "ward.db"), bolt.WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	logs := &logBuffer{}
	e := &env{t: t, clk: clk, st: st, logs: logs, idp: issuerstest.New(t)}
	e.inv = invoke.NewLocal(issuers.Function(issuers.Deps{Store: st, Now: clk.Now,
		Log: slog.New(slog.NewJSONHandler(logs, nil))}))
	e.a, e.b = e.tenant("acme"), e.tenant("beta")
	e.ti, err = call[store.TrustedIssuer](e, issuers.OpCreate, sysRoot, issuers.CreateInput{
		TenantID: e.a.ID, Name: "Test IdP", Issuer: e.idp.URL, JWKSURI: e.idp.JWKSURI(),
		Audiences: []string{"api://ward"}, Claims: []string{"email"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) tenant(name string) store.Tenant {
	e.t.Helper()
	now := e.clk.Now()
	tn, err := e.st.Tenants().Create(context.Background(), store.Tenant{ID: validate.NewID(),
		Name: name, DisplayName: name, CreatedAt: now, UpdatedAt: now})
	if err != nil {
		e.t.Fatal(err)
	}
	return tn
}

func call[Out any](e *env, op string, c function.Caller, in any) (Out, error) {
	return invoke.Call[Out](context.Background(), e.inv, issuers.FunctionName, op, c, in)
}

// claims are a valid token's claims for tenant a's trust in idp, now.
func (e *env) claims() map[string]any {
	now := e.clk.Now().Unix()
	return map[string]any{
		"iss": e.idp.URL, "sub": "user-42", "aud": []string{"api://ward", "other"},
		"exp": now + 300, "iat": now - 5, "nbf": now - 5, "acr": "2",
		"amr": []string{"pwd", "otp"}, "auth_time": now - 60, "email": "ada@example.com",
		"secret": "not carried",
	}
}

func (e *env) verify(token string) (issuers.VerifyOutput, error) {
	return call[issuers.VerifyOutput](e, issuers.OpVerify, svc,
		issuers.VerifyInput{Token: issuers.Token(token), TenantID: e.a.ID})
}

// logged reports whether the log holds a refusal with the reason.
func (e *env) logged(reason string) bool {
	return strings.Contains(e.logs.String(), `"reason":"`+reason)
}
