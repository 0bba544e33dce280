package mfa_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/mfa"
	"github.com/wardhq/ward/shared/store"
)

// enrollCode enrols and confirms an EMAIL, SMS or VOICE factor for u.
func (e *env) enrollCode(t *testing.T, u store.User, typ store.FactorType, phone string) mfa.Factor {
	t.Helper()
	en := mustCall[mfa.Enrollment](t, e, mfa.FunctionName, mfa.OpEnroll, self(u),
		mfa.EnrollInput{TenantID: u.TenantID, UserID: u.ID, Type: typ, Phone: phone})
	if en.ChallengeID == "" || en.SentTo == "" {
		t.Fatalf("enrolment of %s = %+v, want a challenge and where it went", typ, en)
	}
	out := mustCall[mfa.ConfirmOutput](t, e, mfa.FunctionName, mfa.OpConfirm, self(u),
		mfa.ProofInput{TenantID: u.TenantID, UserID: u.ID, FactorID: en.FactorID,
			ChallengeID: en.ChallengeID, Code: e.lastCode(t, u.TenantID)})
	return out.Factor
}

func (e *env) challenge(t *testing.T, u store.User, f mfa.Factor) mfa.ChallengeOutput {
	t.Helper()
	return mustCall[mfa.ChallengeOutput](t, e, mfa.FunctionName, mfa.OpChallenge, service,
		mfa.FactorInput{TenantID: u.TenantID, UserID: u.ID, FactorID: f.ID})
}

func TestEmailCodesAreSingleUseShortLivedAndFewTries(t *testing.T) {
	e := newEnv(t)
	a := e.alice
	f := e.enrollCode(t, a, store.FactorEmail, "")
	if f.Hint != "a•••@example.com" {
		t.Errorf("hint = %q", f.Hint)
	}

	ch := e.challenge(t, a, f)
	code := e.lastCode(t, a.TenantID)
	if got := e.box.List(a.TenantID)[0].Email.To; len(got) != 1 || got[0] != "alice@example.com" {
		t.Errorf("code sent to %v", got)
	}
	amr, err := e.verify(f, a, ch.ChallengeID, code)
	mustOK(t, "the code sent", err)
	if strings.Join(amr, ",") != "otp" {
		t.Errorf("amr = %v, want [otp]", amr)
	}
	_, err = e.verify(f, a, ch.ChallengeID, code)
	wantCode(t, "a used code", err, errs.Unauthenticated)

	ch = e.challenge(t, a, f)
	code = e.lastCode(t, a.TenantID)
	e.clk.Add(mfa.CodeTTL + time.Second)
	_, err = e.verify(f, a, ch.ChallengeID, code)
	wantCode(t, "an expired code", err, errs.Unauthenticated)

	ch = e.challenge(t, a, f)
	code = e.lastCode(t, a.TenantID)
	for range mfa.MaxCodeTries {
		_, err = e.verify(f, a, ch.ChallengeID, wrongCode(code))
		wantCode(t, "a wrong code", err, errs.Unauthenticated)
	}
	_, err = e.verify(f, a, ch.ChallengeID, code)
	wantCode(t, "the right code after too many tries", err, errs.Unauthenticated)

	// A code answers its own challenge only. (A new window of sends.)
	e.clk.Add(mfa.FailureWindow)
	ch1 := e.challenge(t, a, f)
	code1 := e.lastCode(t, a.TenantID)
	ch2 := e.challenge(t, a, f)
	_, err = e.verify(f, a, ch2.ChallengeID, code1)
	if err == nil && code1 != e.lastCode(t, a.TenantID) {
		t.Error("a code answered another challenge")
	}
	_, err = e.verify(f, a, ch1.ChallengeID, code1)
	mustOK(t, "the first code for its challenge", err)
}

func TestCodesGoBySMSAndByVoiceAndEarnTheirMethods(t *testing.T) {
	e := newEnv(t)
	a := e.alice
	sms := e.enrollCode(t, a, store.FactorSMS, "")
	if got := e.box.List(a.TenantID)[0].SMS; got == nil || got.To != "+15550100042" {
		t.Errorf("the SMS went to %+v, want the user's phone", got)
	}
	voice := e.enrollCode(t, a, store.FactorVoice, "+4930123456")
	if got := e.box.List(a.TenantID)[0].Voice; got == nil || got.To != "+4930123456" {
		t.Errorf("the call went to %+v, want the phone given", got)
	}
	for _, c := range []struct {
		f    mfa.Factor
		want string
	}{{sms, "sms"}, {voice, "tel"}} {
		ch := e.challenge(t, a, c.f)
		amr, err := e.verify(c.f, a, ch.ChallengeID, e.lastCode(t, a.TenantID))
		mustOK(t, "verify "+string(c.f.Type), err)
		if strings.Join(amr, ",") != c.want {
			t.Errorf("%s earned %v, want [%s]", c.f.Type, amr, c.want)
		}
	}

	// Sends are bounded per factor.
	var err error
	for i := 0; i < mfa.MaxSends+1 && err == nil; i++ {
		_, err = call[mfa.ChallengeOutput](e, mfa.OpChallenge, service,
			mfa.FactorInput{TenantID: a.TenantID, UserID: a.ID, FactorID: sms.ID})
	}
	wantCode(t, "challenge past the bound of sends", err, errs.RateLimited)
}

func TestRecoveryCodesAreShownOnceAndWorkOnce(t *testing.T) {
	e := newEnv(t)
	a := e.alice
	out := mustCall[mfa.RecoveryCodesOutput](t, e, mfa.FunctionName, mfa.OpRegenerateRecovery,
		self(a), mfa.UserInput{TenantID: a.TenantID, UserID: a.ID})
	if len(out.Codes) != mfa.RecoveryCodes {
		t.Fatalf("got %d codes, want %d", len(out.Codes), mfa.RecoveryCodes)
	}
	seen := map[string]bool{}
	for _, c := range out.Codes {
		if len(c) != 11 || seen[c] {
			t.Errorf("code %q is malformed or repeated", c)
		}
		seen[c] = true
	}
	f := mfa.Factor{ID: out.FactorID}

	stored, err := e.st.Factors().Get(t.Context(), a.TenantID, a.ID, out.FactorID)
	mustOK(t, "read the stored factor", err)
	for _, c := range out.Codes {
		if strings.Contains(string(stored.Data), c) || strings.Contains(string(stored.Data),
			strings.ReplaceAll(c, "-", "")) {
			t.Errorf("the store holds code %s in the clear", c)
		}
	}

	amr, err := e.verify(f, a, "", strings.ToUpper(out.Codes[3]))
	mustOK(t, "a recovery code, typed in capitals", err)
	if strings.Join(amr, ",") != "otp" {
		t.Errorf("amr = %v, want [otp]", amr)
	}
	_, err = e.verify(f, a, "", out.Codes[3])
	wantCode(t, "a used recovery code", err, errs.Unauthenticated)

	list := mustCall[mfa.ListOutput](t, e, mfa.FunctionName, mfa.OpList, self(a),
		mfa.UserInput{TenantID: a.TenantID, UserID: a.ID})
	if len(list.Factors) != 1 || list.Factors[0].Hint != fmt.Sprintf("%d codes left",
		mfa.RecoveryCodes-1) {
		t.Errorf("list = %+v", list.Factors)
	}

	again := mustCall[mfa.RecoveryCodesOutput](t, e, mfa.FunctionName, mfa.OpRegenerateRecovery,
		self(a), mfa.UserInput{TenantID: a.TenantID, UserID: a.ID})
	if again.FactorID != out.FactorID {
		t.Errorf("regenerating made factor %s, want %s replaced", again.FactorID, out.FactorID)
	}
	_, err = e.verify(f, a, "", out.Codes[4])
	wantCode(t, "an old code after regenerating", err, errs.Unauthenticated)
	_, err = e.verify(f, a, "", again.Codes[0])
	mustOK(t, "a new code", err)

	_, err = call[mfa.RecoveryCodesOutput](e, mfa.OpRegenerateRecovery, self(e.bob),
		mfa.UserInput{TenantID: a.TenantID, UserID: a.ID})
	wantCode(t, "regenerate another user's codes", err, errs.NotFound)
}
