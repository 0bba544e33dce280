package authn_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/wardhq/ward/shared/authn"
	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/users"
)

const wrong = "not-the-password-at-all"

// attempt runs one password attempt for login in a new flow, from ip.
func (e *env) attempt(login, password, ip string) error {
	f, err := invoke.Call[authn.FlowOutput](context.Background(), e.inv, authn.FunctionName,
		authn.OpStart, function.Caller{}, authn.StartInput{Tenant: "acme", Username: login,
			Client: authn.Client{IP: ip}})
	if err != nil {
		return err
	}
	_, err = invoke.Call[authn.FlowOutput](context.Background(), e.inv, authn.FunctionName,
		authn.OpSubmit, function.Caller{}, authn.SubmitInput{FlowID: f.FlowID, CSRF: f.CSRF,
			Step: authn.StepPassword, Password: users.Password(password),
			Client: authn.Client{IP: ip}})
	return err
}

func TestFailuresDelayThenLockTheAccount(t *testing.T) {
	e := newEnv(t, store.AuthSettings{LockoutThreshold: 5, LockoutSeconds: 600})
	ip := "198.51.100.1"
	for i := 1; i <= 3; i++ {
		wantCode(t, fmt.Sprintf("failure %d", i), e.attempt("alice", wrong, ip), errs.Unauthenticated)
	}
	// From the third failure, the next attempt must wait, even with the
	// right password: nothing is checked during the delay.
	wantCode(t, "right away after three failures", e.attempt("alice", goodPassword, ip),
		errs.RateLimited)
	e.clk.Add(time.Second)
	wantCode(t, "failure 4", e.attempt("alice", wrong, ip), errs.Unauthenticated)
	e.clk.Add(time.Second)
	wantCode(t, "one second into a two-second delay", e.attempt("alice", goodPassword, ip),
		errs.RateLimited)
	e.clk.Add(time.Second)
	wantCode(t, "failure 5 locks", e.attempt("alice", wrong, ip), errs.Unauthenticated)

	e.clk.Add(5 * time.Minute)
	err := e.attempt("alice", goodPassword, ip)
	wantCode(t, "the right password while locked", err, errs.RateLimited)
	if len(e.sessions.created) != 0 {
		t.Fatal("a locked account signed in")
	}

	e.clk.Add(5*time.Minute + time.Second)
	if err := e.attempt("alice", goodPassword, ip); err != nil {
		t.Fatalf("after the lockout: %v", err)
	}
	// A success clears the count: three more failures are needed for a delay.
	wantCode(t, "a failure after a success", e.attempt("alice", wrong, ip), errs.Unauthenticated)
	wantCode(t, "the next failure", e.attempt("alice", wrong, ip), errs.Unauthenticated)
}

func TestUnknownLoginsAreThrottledLikeKnownOnes(t *testing.T) {
	e := newEnv(t, store.AuthSettings{LockoutThreshold: 3})
	for _, login := range []string{"alice", "mallory"} {
		var answers []string
		for range 4 {
			e.clk.Add(time.Minute)
			answers = append(answers, string(errs.CodeOf(e.attempt(login, wrong, "198.51.100.2"))))
		}
		want := []string{"UNAUTHENTICATED", "UNAUTHENTICATED", "UNAUTHENTICATED", "RATE_LIMITED"}
		if fmt.Sprint(answers) != fmt.Sprint(want) {
			t.Errorf("%s: answers %v, want %v", login, answers, want)
		}
	}
}

func TestLoginsAreCountedApart(t *testing.T) {
	e := newEnv(t, store.AuthSettings{LockoutThreshold: 3})
	for range 3 {
		e.clk.Add(time.Minute)
		_ = e.attempt("mallory", wrong, "198.51.100.3")
	}
	// Another login from another network is not affected.
	if err := e.attempt("alice", goodPassword, "192.0.2.4"); err != nil {
		t.Errorf("alice after mallory's lockout: %v", err)
	}
}

func TestANetworkIsThrottledAcrossLogins(t *testing.T) {
	e := newEnv(t, store.AuthSettings{LockoutThreshold: 100})
	ip := "2001:db8:1:2::7"
	for i := range 50 {
		e.clk.Add(31 * time.Second) // past the longest delay
		err := e.attempt(fmt.Sprintf("user%d", i), wrong, ip)
		wantCode(t, "a failure", err, errs.Unauthenticated)
	}
	// The 50th failure locked the network's /64 for every login, alice's too.
	e.clk.Add(time.Minute)
	wantCode(t, "alice from a locked network", e.attempt("alice", goodPassword, "2001:db8:1:2::99"),
		errs.RateLimited)
	if err := e.attempt("alice", goodPassword, "2001:db8:1:3::1"); err != nil {
		t.Errorf("alice from another network: %v", err)
	}
}

func TestWrongCodesCountTowardsTheLockout(t *testing.T) {
	e := newEnv(t, store.AuthSettings{LockoutThreshold: 4})
	totp := e.factors.add(e.alice.ID, store.FactorTOTP)
	f, err := e.signIn(goodPassword)
	if err != nil || f.Step != authn.StepVerifyFactor {
		t.Fatalf("sign-in: %+v %v", f, err)
	}
	for range 4 {
		e.clk.Add(time.Minute)
		_, err := e.submit(f, authn.SubmitInput{Code: "000000"})
		wantCode(t, "a wrong code", err, errs.Unauthenticated)
	}
	e.clk.Add(time.Minute)
	_, err = e.submit(f, authn.SubmitInput{Code: e.factors.codeOf(e.alice.ID, totp.ID)})
	wantCode(t, "the right code once locked", err, errs.RateLimited)
}
