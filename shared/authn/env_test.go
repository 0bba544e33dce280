package authn_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/wardhq/ward/shared/authn"
	"github.com/wardhq/ward/shared/cache/memory"
	"github.com/wardhq/ward/shared/clocktest"
	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/store/bolt"
	"github.com/wardhq/ward/shared/tenants"
	"github.com/wardhq/ward/shared/users"
	"github.com/wardhq/ward/shared/validate"
)

const goodPassword = "violet-harbour-engine-42"

var sysAdmin = function.Caller{Subject: "root", Roles: []string{function.RoleSystemAdmin}}

// fakeFactors is an MFA service with codes fixed per factor: "111111" for
// the first factor of a user, "222222" for the second, and so on.
type fakeFactors struct {
	mu        sync.Mutex
	byUser    map[string][]authn.Factor
	challenge []string // factor IDs challenged, in order
	verified  []authn.Proof
	enrolled  []store.FactorType
}

func newFakeFactors() *fakeFactors { return &fakeFactors{byUser: map[string][]authn.Factor{}} }

func (f *fakeFactors) add(userID string, t store.FactorType) authn.Factor {
	f.mu.Lock()
	defer f.mu.Unlock()
	fa := authn.Factor{ID: validate.NewID(), Type: t, Name: string(t), Confirmed: true,
		Hint: "••••42"}
	f.byUser[userID] = append(f.byUser[userID], fa)
	return fa
}

func (f *fakeFactors) codeOf(userID, factorID string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, fa := range f.byUser[userID] {
		if fa.ID == factorID {
			return fmt.Sprintf("%d%d%d%d%d%d", i+1, i+1, i+1, i+1, i+1, i+1)
		}
	}
	return "none"
}

func (f *fakeFactors) List(_ context.Context, _, userID string) ([]authn.Factor, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.byUser[userID]), nil
}

func (f *fakeFactors) Challenge(_ context.Context, _, userID, factorID string) (authn.Challenge, error) {
	f.mu.Lock()
	f.challenge = append(f.challenge, factorID)
	f.mu.Unlock()
	return authn.Challenge{ID: "ch-" + factorID, SentTo: "••••42"}, nil
}

func (f *fakeFactors) Verify(_ context.Context, _, userID string, p authn.Proof) ([]string, error) {
	f.mu.Lock()
	f.verified = append(f.verified, p)
	f.mu.Unlock()
	if p.ChallengeID != "ch-"+p.FactorID || p.Code != f.codeOf(userID, p.FactorID) {
		return nil, errs.New(errs.Unauthenticated, "wrong code")
	}
	return []string{"otp"}, nil
}

func (f *fakeFactors) Enroll(_ context.Context, _, userID string, t store.FactorType, name,
	phone string) (authn.Enrollment, error) {
	f.mu.Lock()
	f.enrolled = append(f.enrolled, t)
	f.mu.Unlock()
	return authn.Enrollment{FactorID: "pending-" + userID, Type: t, Secret: "JBSWY3DPEHPK3PXP",
		OTPAuthURI: "otpauth://totp/x", ChallengeID: "enrol"}, nil
}

func (f *fakeFactors) Confirm(_ context.Context, _, userID string, e authn.Enrollment,
	p authn.Proof) ([]string, error) {
	if p.Code != "999999" || e.FactorID != "pending-"+userID {
		return nil, errs.New(errs.Unauthenticated, "wrong code")
	}
	f.add(userID, e.Type)
	return []string{"otp"}, nil
}

// fakeSessions records what it is asked.
type fakeSessions struct {
	mu       sync.Mutex
	created  []authn.NewSession
	elevated []string
}

func (s *fakeSessions) Create(_ context.Context, n authn.NewSession) (authn.IssuedSession, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.created = append(s.created, n)
	return authn.IssuedSession{Token: fmt.Sprintf("wss_token%d", len(s.created)),
		SessionID: validate.NewID(), ExpiresAt: n.AuthTime.Add(12 * time.Hour)}, nil
}

func (s *fakeSessions) Elevate(_ context.Context, _, sessionID, acr string, amr []string,
	at time.Time) (time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.elevated = append(s.elevated, sessionID+":"+acr)
	return at.Add(time.Hour), nil
}

type env struct {
	t        *testing.T
	clk      *clocktest.Clock
	st       store.Store
	inv      *invoke.Local
	factors  *fakeFactors
	sessions *fakeSessions
	tenant   store.Tenant
	alice    store.User
}

var client = authn.Client{IP: "203.0.113.9", UserAgent: "test", DeviceID: "device-1"}

func newEnv(t *testing.T, auth store.AuthSettings) *env {
	t.Helper()
	clk := clocktest.New(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC))
	st, err := bolt.Open(filepath.Join(t.TempDir(), "ward.db"), bolt.WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c, err := memory.New(memory.Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	e := &env{t: t, clk: clk, st: st, factors: newFakeFactors(), sessions: &fakeSessions{}}
	e.inv = invoke.NewLocal(
		tenants.Function(tenants.Deps{Store: st, Now: clk.Now}),
		users.Function(users.Deps{Store: st, Now: clk.Now}),
	)
	e.inv.Register(authn.Function(authn.Deps{Store: st, Cache: c, Invoker: e.inv,
		Factors: e.factors, Sessions: e.sessions, Now: clk.Now}))

	e.tenant = call[store.Tenant](t, e, tenants.FunctionName, tenants.OpCreate, sysAdmin,
		tenants.CreateInput{Name: "acme"})
	e.tenant = call[store.Tenant](t, e, tenants.FunctionName, tenants.OpUpdate, sysAdmin,
		tenants.UpdateInput{ID: e.tenant.ID, Auth: &auth})
	e.alice = call[store.User](t, e, users.FunctionName, users.OpCreate, sysAdmin,
		users.CreateInput{TenantID: e.tenant.ID, Username: "alice", Password: goodPassword})
	return e
}

func call[Out any](t *testing.T, e *env, fn, op string, c function.Caller, in any) Out {
	t.Helper()
	out, err := invoke.Call[Out](context.Background(), e.inv, fn, op, c, in)
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
	return out
}

func (e *env) start(username string) (authn.FlowOutput, error) {
	return invoke.Call[authn.FlowOutput](context.Background(), e.inv, authn.FunctionName,
		authn.OpStart, function.Caller{}, authn.StartInput{Tenant: "acme", Username: username,
			Client: client})
}

func (e *env) mustStart(username string) authn.FlowOutput {
	e.t.Helper()
	out, err := e.start(username)
	if err != nil {
		e.t.Fatalf("start: %v", err)
	}
	return out
}

func (e *env) submit(f authn.FlowOutput, in authn.SubmitInput) (authn.FlowOutput, error) {
	in.FlowID, in.CSRF = f.FlowID, f.CSRF
	if in.Step == "" {
		in.Step = f.Step
	}
	in.Client = client
	out, err := invoke.Call[authn.FlowOutput](context.Background(), e.inv, authn.FunctionName,
		authn.OpSubmit, function.Caller{}, in)
	out.CSRF = f.CSRF
	return out, err
}

func (e *env) get(f authn.FlowOutput) (authn.FlowOutput, error) {
	return invoke.Call[authn.FlowOutput](context.Background(), e.inv, authn.FunctionName,
		authn.OpGet, function.Caller{}, authn.GetInput{FlowID: f.FlowID, CSRF: f.CSRF})
}

// signIn runs identify and password and returns where the flow stands.
func (e *env) signIn(password string) (authn.FlowOutput, error) {
	e.t.Helper()
	f := e.mustStart("")
	return e.submit(f, authn.SubmitInput{Username: "alice", Password: users.Password(password)})
}

func wantCode(t *testing.T, what string, err error, code errs.Code) {
	t.Helper()
	if got := errs.CodeOf(err); err == nil || got != code {
		t.Errorf("%s: err = %v, want %s", what, err, code)
	}
}
