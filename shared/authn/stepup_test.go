package authn_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/wardhq/ward/shared/authn"
	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/store"
)

func TestStepUpForTransactions(t *testing.T) {
	e := newEnv(t, store.AuthSettings{StepUp: []store.StepUpRule{
		{Transaction: "payment", MinValue: 100},
		{Transaction: "payment", MinValue: 10000, MaxAgeSeconds: 300},
		{Transaction: "change-email", MaxAgeSeconds: 600, ACR: store.ACRPassword},
	}})
	totp := e.factors.add(e.alice.ID, store.FactorTOTP)
	now := e.clk.Now()
	session := function.Caller{Subject: e.alice.ID, Tenant: e.tenant.ID,
		Roles: []string{function.RoleUser}, Session: "01a2410e-0000-7000-8000-000000000001",
		ACR: store.ACRPassword, AMR: []string{"pwd"}, AuthTime: now.Add(-time.Hour).Unix()}
	evaluate := func(c function.Caller, typ string, value float64) authn.EvaluateOutput {
		t.Helper()
		return call[authn.EvaluateOutput](t, e, authn.FunctionName, authn.OpEvaluate, c,
			authn.EvaluateInput{Type: typ, Value: value})
	}

	cases := []struct {
		name   string
		caller function.Caller
		typ    string
		value  float64
		stepUp bool
	}{
		{"a small payment", session, "payment", 99, false},
		{"a payment over the rule's value", session, "payment", 100, true},
		{"an unruled transaction", session, "transfer", 1e9, false},
		{"an email change an hour after signing in", session, "change-email", 0, true},
	}
	for _, tc := range cases {
		if got := evaluate(tc.caller, tc.typ, tc.value); got.StepUp != tc.stepUp || got.Allowed == tc.stepUp {
			t.Errorf("%s: %+v, want stepUp %v", tc.name, got, tc.stepUp)
		}
	}
	if got := evaluate(session, "payment", 20000); got.RequiredACR != store.ACRMultiFactor ||
		got.MaxAgeSeconds != 300 {
		t.Errorf("the strictest rule's terms: %+v", got)
	}

	// Step up: prove the factor; the session is raised in place.
	f, err := invoke.Call[authn.FlowOutput](context.Background(), e.inv, authn.FunctionName,
		authn.OpStartStepUp, session, authn.StartStepUpInput{Client: client})
	if err != nil || f.Kind != authn.KindStepUp || f.Step != authn.StepVerifyFactor {
		t.Fatalf("start step-up: %+v, %v", f, err)
	}
	done, err := e.submit(f, authn.SubmitInput{Code: e.factors.codeOf(e.alice.ID, totp.ID)})
	if err != nil || done.Step != authn.StepDone || done.Session.Token != "" ||
		done.Session.SessionID != session.Session || done.Session.ACR != store.ACRMultiFactor ||
		!slices.Contains(done.Session.AMR, "mfa") {
		t.Fatalf("step-up done: %+v, %v", done.Session, err)
	}
	if len(e.sessions.elevated) != 1 || e.sessions.elevated[0] != session.Session+":2" {
		t.Errorf("elevated = %v", e.sessions.elevated)
	}
	if len(e.sessions.created) != 0 {
		t.Error("a step-up made a new session")
	}

	// What the raised session is then allowed.
	strong := session
	strong.ACR, strong.AuthTime = store.ACRMultiFactor, e.clk.Now().Unix()
	for _, v := range []float64{100, 20000} {
		if got := evaluate(strong, "payment", v); !got.Allowed {
			t.Errorf("a fresh strong session, payment %v: %+v", v, got)
		}
	}
	e.clk.Add(10 * time.Minute)
	if got := evaluate(strong, "payment", 20000); got.Allowed {
		t.Errorf("a strong session 10 minutes later, a large payment: %+v", got)
	}
	if got := evaluate(strong, "payment", 500); !got.Allowed {
		t.Errorf("a strong session 10 minutes later, a rule without a max age: %+v", got)
	}
}

func TestStepUpNeedsASession(t *testing.T) {
	e := newEnv(t, store.AuthSettings{})
	token := function.Caller{Subject: "apitoken:x", Tenant: e.tenant.ID,
		Roles: []string{function.RoleTenantAdmin}}
	for _, op := range []string{authn.OpEvaluate, authn.OpStartStepUp} {
		var in any = authn.EvaluateInput{Type: "payment"}
		if op == authn.OpStartStepUp {
			in = authn.StartStepUpInput{}
		}
		_, err := invoke.Call[authn.FlowOutput](context.Background(), e.inv, authn.FunctionName,
			op, token, in)
		wantCode(t, op+" by an API token", err, errs.PermissionDenied)
		_, err = invoke.Call[authn.FlowOutput](context.Background(), e.inv, authn.FunctionName,
			op, function.Caller{}, in)
		wantCode(t, op+" anonymously", err, errs.Unauthenticated)
	}
	_, err := invoke.Call[authn.EvaluateOutput](context.Background(), e.inv, authn.FunctionName,
		authn.OpEvaluate, function.Caller{Subject: "u", Tenant: e.tenant.ID, Session: "s"},
		authn.EvaluateInput{Type: "pay ment"})
	wantCode(t, "a malformed transaction type", err, errs.InvalidArgument)
}
