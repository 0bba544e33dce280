package mfa_test

import (
	"context"
	"crypto/rand"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/wardhq/ward/shared/authn"
	"github.com/wardhq/ward/shared/cache/memory"
	"github.com/wardhq/ward/shared/clocktest"
	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/mfa"
	"github.com/wardhq/ward/shared/sessions"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/store/bolt"
	"github.com/wardhq/ward/shared/tenants"
	"github.com/wardhq/ward/shared/users"
)

const goodPassword = "violet-harbour-engine-42"

// flowEnv runs the real sign-in services in one process: tenants, users,
// mfa, sessions and authn, through one invoker, as functions/local does.
type flowEnv struct {
	*env
	client authn.Client
}

func newFlowEnv(t *testing.T, policy store.MFAPolicy) *flowEnv {
	t.Helper()
	clk := clocktest.New(time.Date(2030, 1, 2, 3, 4, 12, 0, time.UTC))
	st, err := bolt.Open(filepath.Join(t.TempDir(), "ward.db"), bolt.WithClock(clk.Now))
	mustOK(t, "open store", err)
	t.Cleanup(func() { st.Close() })
	c, err := memory.New(memory.Options{Now: clk.Now})
	mustOK(t, "open cache", err)
	t.Cleanup(func() { c.Close() })
	key := make([]byte, 32)
	rand.Read(key)
	quiet := slog.New(slog.DiscardHandler)

	e := &env{clk: clk, st: st}
	e.inv = invoke.NewLocal(
		tenants.Function(tenants.Deps{Store: st, Now: clk.Now}),
		users.Function(users.Deps{Store: st, Now: clk.Now}),
		mfa.Function(mfa.Deps{Store: st, Cache: c, Key: key, PublicURL: publicURL,
			Now: clk.Now, Log: quiet}),
		sessions.Function(sessions.Deps{Store: st, Cache: c, Now: clk.Now, Log: quiet}),
	)
	e.inv.Register(authn.Function(authn.Deps{Store: st, Cache: c, Invoker: e.inv, Now: clk.Now,
		Log: quiet}))

	e.acme = mustCall[store.Tenant](t, e, tenants.FunctionName, tenants.OpCreate, sysAdmin,
		tenants.CreateInput{Name: "acme"})
	auth := store.AuthSettings{MFA: policy}
	e.acme = mustCall[store.Tenant](t, e, tenants.FunctionName, tenants.OpUpdate, sysAdmin,
		tenants.UpdateInput{ID: e.acme.ID, Auth: &auth})
	e.alice = mustCall[store.User](t, e, users.FunctionName, users.OpCreate, sysAdmin,
		users.CreateInput{TenantID: e.acme.ID, Username: "alice", Password: goodPassword})
	return &flowEnv{env: e, client: authn.Client{IP: "203.0.113.9", UserAgent: "test",
		DeviceID: "device-1"}}
}

func (e *flowEnv) submit(t *testing.T, f authn.FlowOutput, in authn.SubmitInput) (
	authn.FlowOutput, error) {
	t.Helper()
	in.FlowID, in.CSRF, in.Step, in.Client = f.FlowID, f.CSRF, f.Step, e.client
	out, err := invoke.Call[authn.FlowOutput](context.Background(), e.inv, authn.FunctionName,
		authn.OpSubmit, function.Caller{}, in)
	out.CSRF = f.CSRF
	return out, err
}

// passwordStep starts a flow for alice and answers her password.
func (e *flowEnv) passwordStep(t *testing.T) authn.FlowOutput {
	t.Helper()
	f := mustCall[authn.FlowOutput](t, e.env, authn.FunctionName, authn.OpStart, function.Caller{},
		authn.StartInput{Tenant: "acme", Username: "alice", Client: e.client})
	csrf := f.CSRF
	f, err := e.submit(t, f, authn.SubmitInput{Password: goodPassword})
	mustOK(t, "password", err)
	f.CSRF = csrf
	return f
}

// checkSession checks that a finished flow made a multi-factor session,
// and that the sessions service agrees.
func (e *flowEnv) checkSession(t *testing.T, f authn.FlowOutput) {
	t.Helper()
	wantAMR := []string{"pwd", "otp", "mfa"}
	if f.Step != authn.StepDone || f.Session == nil || f.Session.Token == "" {
		t.Fatalf("flow = %+v, want done with a session", f)
	}
	if f.Session.ACR != store.ACRMultiFactor || !slices.Equal(f.Session.AMR, wantAMR) {
		t.Errorf("session acr %q amr %v, want %q %v", f.Session.ACR, f.Session.AMR,
			store.ACRMultiFactor, wantAMR)
	}
	v := mustCall[sessions.ValidateOutput](t, e.env, sessions.FunctionName, sessions.OpValidate,
		service, sessions.ValidateInput{Token: sessions.Token(f.Session.Token)})
	if !v.Active || v.ACR != store.ACRMultiFactor || !slices.Equal(v.AMR, wantAMR) ||
		v.Subject != e.alice.ID {
		t.Errorf("validated session = %+v", v)
	}
}

func TestASignInWithPasswordThenTOTPMakesAMultiFactorSession(t *testing.T) {
	e := newFlowEnv(t, store.MFAOptional)
	_, secret := e.enrollTOTP(t, e.alice)
	e.clk.Add(30 * time.Second)

	f := e.passwordStep(t)
	if f.Step != authn.StepVerifyFactor || f.Challenge == nil ||
		f.Challenge.Type != store.FactorTOTP {
		t.Fatalf("after the password: %+v, want the TOTP factor to verify", f)
	}
	_, err := e.submit(t, f, authn.SubmitInput{Code: wrongCode(e.codeAt(t, secret, 0))})
	wantCode(t, "a wrong TOTP code", err, errs.Unauthenticated)

	code := e.codeAt(t, secret, 0)
	done, err := e.submit(t, f, authn.SubmitInput{Code: code})
	mustOK(t, "the right TOTP code", err)
	e.checkSession(t, done)

	// The code is spent: a second sign-in cannot use it.
	f = e.passwordStep(t)
	_, err = e.submit(t, f, authn.SubmitInput{Code: code})
	wantCode(t, "the code of the first sign-in again", err, errs.Unauthenticated)
}

func TestASignInThatMustEnrolEnrolsTOTPInTheFlow(t *testing.T) {
	e := newFlowEnv(t, store.MFARequired)
	f := e.passwordStep(t)
	if f.Step != authn.StepEnroll || !slices.Contains(f.EnrollTypes, store.FactorTOTP) {
		t.Fatalf("after the password: %+v, want to enrol", f)
	}
	csrf := f.CSRF
	f, err := e.submit(t, f, authn.SubmitInput{FactorType: store.FactorTOTP})
	mustOK(t, "enrol TOTP", err)
	f.CSRF = csrf
	if f.Step != authn.StepConfirmEnroll || f.Enrollment == nil || f.Enrollment.Secret == "" {
		t.Fatalf("after enrolling: %+v, want a secret to confirm", f)
	}
	done, err := e.submit(t, f, authn.SubmitInput{Code: e.codeAt(t, f.Enrollment.Secret, 0)})
	mustOK(t, "confirm TOTP", err)
	e.checkSession(t, done)

	list := mustCall[mfa.ListOutput](t, e.env, mfa.FunctionName, mfa.OpList, self(e.alice),
		mfa.UserInput{TenantID: e.acme.ID, UserID: e.alice.ID})
	if len(list.Factors) != 1 || !list.Factors[0].Confirmed {
		t.Errorf("factors after the flow = %+v, want one confirmed TOTP", list.Factors)
	}
}
