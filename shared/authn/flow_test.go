package authn_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wardhq/ward/shared/authn"
	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
)

func TestPasswordSignInMakesASessionAndEndsTheFlow(t *testing.T) {
	e := newEnv(t, store.AuthSettings{})
	f := e.mustStart("")
	if f.Step != authn.StepIdentify || f.CSRF == "" || f.Kind != authn.KindSignIn {
		t.Fatalf("start = %+v", f)
	}
	f, err := e.submit(f, authn.SubmitInput{Username: "alice"})
	if err != nil || f.Step != authn.StepPassword || f.Username != "alice" {
		t.Fatalf("identify: %+v, %v", f, err)
	}
	done, err := e.submit(f, authn.SubmitInput{Password: goodPassword})
	if err != nil {
		t.Fatalf("password: %v", err)
	}
	s := done.Session
	if done.Step != authn.StepDone || s == nil || s.Token == "" || s.UserID != e.alice.ID ||
		s.ACR != store.ACRPassword || !slices.Equal(s.AMR, []string{"pwd"}) {
		t.Fatalf("done = %+v %+v", done, s)
	}
	created := e.sessions.created[0]
	if created.UserID != e.alice.ID || created.IP != client.IP || created.DeviceID == "" ||
		created.DeviceID == client.DeviceID || !created.AuthTime.Equal(e.clk.Now()) {
		t.Errorf("session asked for = %+v", created)
	}

	// The flow is gone: neither reading nor answering it works again.
	_, err = e.get(f)
	wantCode(t, "get after done", err, errs.NotFound)
	_, err = e.submit(f, authn.SubmitInput{Password: goodPassword})
	wantCode(t, "replaying the password", err, errs.NotFound)
	if len(e.sessions.created) != 1 {
		t.Errorf("%d sessions made, want 1", len(e.sessions.created))
	}

	// The sign-in was remembered for risk scoring.
	rec, err := e.st.SignIns().Get(context.Background(), e.tenant.ID, e.alice.ID)
	if err != nil || len(rec.Devices) != 1 || len(rec.Networks) != 1 ||
		rec.Networks[0].Prefix != "203.0.113.0/24" || !rec.LastStrongAt.IsZero() {
		t.Errorf("sign-in record = %+v, %v", rec, err)
	}
}

func TestALoginHintSkipsIdentify(t *testing.T) {
	e := newEnv(t, store.AuthSettings{})
	f := e.mustStart("alice")
	if f.Step != authn.StepPassword {
		t.Fatalf("start with a hint is at %q", f.Step)
	}
	done, err := e.submit(f, authn.SubmitInput{Password: goodPassword})
	if err != nil || done.Step != authn.StepDone {
		t.Fatalf("password: %+v %v", done, err)
	}
}

func TestWrongPasswordAndUnknownUserLookAlike(t *testing.T) {
	e := newEnv(t, store.AuthSettings{})
	var msgs []string
	for _, login := range []string{"alice", "mallory"} {
		f := e.mustStart(login)
		_, err := e.submit(f, authn.SubmitInput{Password: "not-the-password-at-all"})
		wantCode(t, login, err, errs.Unauthenticated)
		msgs = append(msgs, errs.Public(err).Message)
		// The flow stays at the password step.
		got, err := e.get(f)
		if err != nil || got.Step != authn.StepPassword {
			t.Errorf("%s: after a wrong password the flow is %+v, %v", login, got, err)
		}
	}
	if msgs[0] != msgs[1] {
		t.Errorf("answers differ: %q and %q", msgs[0], msgs[1])
	}
	if len(e.sessions.created) != 0 {
		t.Error("a session was made")
	}
}

func TestCSRFStepsAndExpiry(t *testing.T) {
	e := newEnv(t, store.AuthSettings{})
	f := e.mustStart("")

	forged := f
	forged.CSRF = strings.Repeat("A", len(f.CSRF))
	_, err := e.submit(forged, authn.SubmitInput{Username: "alice", Password: goodPassword})
	wantCode(t, "a forged CSRF token", err, errs.NotFound)
	_, err = e.get(forged)
	wantCode(t, "reading with a forged CSRF token", err, errs.NotFound)

	// Answering a later step first is refused and changes nothing.
	_, err = e.submit(f, authn.SubmitInput{Step: authn.StepPassword, Password: goodPassword})
	wantCode(t, "skipping identify", err, errs.InvalidArgument)
	_, err = e.submit(f, authn.SubmitInput{Step: authn.StepVerifyFactor, Code: "111111"})
	wantCode(t, "skipping to a factor", err, errs.InvalidArgument)
	if got, err := e.get(f); err != nil || got.Step != authn.StepIdentify {
		t.Errorf("after refused answers: %+v, %v", got, err)
	}

	f, err = e.submit(f, authn.SubmitInput{Username: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	// A replay of identify is refused now that the flow moved on.
	_, err = e.submit(f, authn.SubmitInput{Step: authn.StepIdentify, Username: "mallory"})
	wantCode(t, "replaying identify", err, errs.InvalidArgument)

	e.clk.Add(authn.FlowTTL)
	_, err = e.submit(f, authn.SubmitInput{Password: goodPassword})
	wantCode(t, "an expired flow", err, errs.NotFound)
	if len(e.sessions.created) != 0 {
		t.Error("an expired flow made a session")
	}
}

func TestConcurrentAnswersAreSerialized(t *testing.T) {
	e := newEnv(t, store.AuthSettings{})
	f := e.mustStart("alice")
	const n = 8
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	for range n {
		wg.Go(func() {
			out, err := e.submit(f, authn.SubmitInput{Password: goodPassword})
			if err == nil && out.Step == authn.StepDone {
				mu.Lock()
				done++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if done != 1 || len(e.sessions.created) != 1 {
		t.Errorf("%d answers finished the flow and %d sessions were made, want 1 and 1", done,
			len(e.sessions.created))
	}
}

func TestTooManyWrongPasswordsEndTheFlow(t *testing.T) {
	e := newEnv(t, store.AuthSettings{LockoutThreshold: 50})
	f := e.mustStart("alice")
	for i := range authn.MaxPasswordTries {
		e.clk.Add(time.Minute) // past any delay
		_, err := e.submit(f, authn.SubmitInput{Password: "wrong-wrong-wrong-wrong"})
		wantCode(t, "wrong password", err, errs.Unauthenticated)
		if i == authn.MaxPasswordTries-1 {
			_, err := e.get(f)
			wantCode(t, "the flow after too many tries", err, errs.NotFound)
		}
	}
}

func TestOptionalMFAAsksUsersWithAFactor(t *testing.T) {
	e := newEnv(t, store.AuthSettings{MFA: store.MFAOptional})
	totp := e.factors.add(e.alice.ID, store.FactorTOTP)

	f, err := e.signIn(goodPassword)
	if err != nil {
		t.Fatal(err)
	}
	if f.Step != authn.StepVerifyFactor || f.Challenge == nil || f.Challenge.FactorID != totp.ID ||
		f.Challenge.Type != store.FactorTOTP || len(f.Factors) != 1 {
		t.Fatalf("after the password: %+v", f)
	}
	if len(e.sessions.created) != 0 {
		t.Fatal("a session was made before the second factor")
	}

	_, err = e.submit(f, authn.SubmitInput{Code: "000000"})
	wantCode(t, "a wrong code", err, errs.Unauthenticated)
	done, err := e.submit(f, authn.SubmitInput{Code: e.factors.codeOf(e.alice.ID, totp.ID)})
	if err != nil {
		t.Fatal(err)
	}
	if done.Step != authn.StepDone || done.Session.ACR != store.ACRMultiFactor ||
		!slices.Equal(done.Session.AMR, []string{"pwd", "otp", "mfa"}) {
		t.Errorf("done = %+v", done.Session)
	}
	rec, _ := e.st.SignIns().Get(context.Background(), e.tenant.ID, e.alice.ID)
	if !rec.LastStrongAt.Equal(e.clk.Now()) {
		t.Errorf("LastStrongAt = %v, want now", rec.LastStrongAt)
	}
}

func TestOptionalMFALeavesUsersWithoutFactorsAlone(t *testing.T) {
	e := newEnv(t, store.AuthSettings{})
	f, err := e.signIn(goodPassword)
	if err != nil || f.Step != authn.StepDone {
		t.Fatalf("sign-in without factors: %+v, %v", f, err)
	}
}

func TestSeveralFactorsAreOfferedAndOneIsChosen(t *testing.T) {
	e := newEnv(t, store.AuthSettings{Factors: []store.FactorType{store.FactorSMS, store.FactorTOTP}})
	e.factors.add(e.alice.ID, store.FactorTOTP)
	sms := e.factors.add(e.alice.ID, store.FactorSMS)
	e.factors.add(e.alice.ID, store.FactorEmail) // not allowed by the tenant

	f, err := e.signIn(goodPassword)
	if err != nil {
		t.Fatal(err)
	}
	if f.Step != authn.StepSelectFactor || len(f.Factors) != 2 {
		t.Fatalf("after the password: %+v", f)
	}
	_, err = e.submit(f, authn.SubmitInput{FactorID: "0190b0b0-0000-7000-8000-000000000000"})
	wantCode(t, "an unknown factor", err, errs.NotFound)

	f, err = e.submit(f, authn.SubmitInput{FactorID: sms.ID})
	if err != nil || f.Step != authn.StepVerifyFactor || f.Challenge.FactorID != sms.ID ||
		f.Challenge.SentTo == "" {
		t.Fatalf("select: %+v, %v", f, err)
	}
	done, err := e.submit(f, authn.SubmitInput{Code: e.factors.codeOf(e.alice.ID, sms.ID)})
	if err != nil || done.Step != authn.StepDone {
		t.Fatalf("verify: %+v, %v", done, err)
	}
}

func TestRequiredMFAEnrolsUsersWithoutAFactor(t *testing.T) {
	e := newEnv(t, store.AuthSettings{MFA: store.MFARequired,
		Factors: []store.FactorType{store.FactorTOTP, store.FactorRecovery}})
	f, err := e.signIn(goodPassword)
	if err != nil {
		t.Fatal(err)
	}
	if f.Step != authn.StepEnroll || !slices.Equal(f.EnrollTypes, []store.FactorType{store.FactorTOTP}) {
		t.Fatalf("after the password: %+v", f)
	}
	_, err = e.submit(f, authn.SubmitInput{FactorType: store.FactorSMS})
	wantCode(t, "enrolling a type the tenant does not allow", err, errs.InvalidArgument)

	f, err = e.submit(f, authn.SubmitInput{FactorType: store.FactorTOTP})
	if err != nil || f.Step != authn.StepConfirmEnroll || f.Enrollment == nil ||
		f.Enrollment.Secret == "" {
		t.Fatalf("enroll: %+v, %v", f, err)
	}
	_, err = e.submit(f, authn.SubmitInput{Code: "123123"})
	wantCode(t, "a wrong first code", err, errs.Unauthenticated)
	done, err := e.submit(f, authn.SubmitInput{Code: "999999"})
	if err != nil || done.Step != authn.StepDone || done.Session.ACR != store.ACRMultiFactor {
		t.Fatalf("confirm: %+v, %v", done, err)
	}
}

func TestAdaptiveMFAFollowsRisk(t *testing.T) {
	e := newEnv(t, store.AuthSettings{MFA: store.MFAAdaptive})
	totp := e.factors.add(e.alice.ID, store.FactorTOTP)

	// First sign-in: unknown device, new network, never a strong sign-in.
	f, err := e.signIn(goodPassword)
	if err != nil || f.Step != authn.StepVerifyFactor {
		t.Fatalf("a first sign-in: %+v, %v", f, err)
	}
	if _, err := e.submit(f, authn.SubmitInput{Code: e.factors.codeOf(e.alice.ID, totp.ID)}); err != nil {
		t.Fatal(err)
	}

	// The same device and network a day later: no second factor.
	e.clk.Add(24 * time.Hour)
	f, err = e.signIn(goodPassword)
	if err != nil || f.Step != authn.StepDone || f.Session.ACR != store.ACRPassword {
		t.Fatalf("a known device and network: %+v, %v", f, err)
	}
}
