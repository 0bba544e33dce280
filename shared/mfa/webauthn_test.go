package mfa_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/mfa"
	"github.com/wardhq/ward/shared/store"
)

// registerPasskey enrols k for u through enroll and confirm.
func (e *env) registerPasskey(t *testing.T, u store.User, k *softKey) (mfa.ConfirmOutput, error) {
	t.Helper()
	en := mustCall[mfa.Enrollment](t, e, mfa.FunctionName, mfa.OpEnroll, self(u),
		mfa.EnrollInput{TenantID: u.TenantID, UserID: u.ID, Type: store.FactorWebAuthn,
			Name: "key"})
	var opts struct {
		PublicKey struct {
			RP struct {
				ID string `json:"id"`
			} `json:"rp"`
		} `json:"publicKey"`
	}
	if err := json.Unmarshal(en.WebAuthnOptions, &opts); err != nil || opts.PublicKey.RP.ID != rpID {
		t.Fatalf("creation options %s: rp.id is not %s (%v)", en.WebAuthnOptions, rpID, err)
	}
	return call[mfa.ConfirmOutput](e, mfa.OpConfirm, self(u), mfa.ProofInput{
		TenantID: u.TenantID, UserID: u.ID, FactorID: en.FactorID, ChallengeID: en.ChallengeID,
		WebAuthn: k.register(en.WebAuthnOptions)})
}

func (e *env) assertPasskey(u store.User, f mfa.Factor, ch mfa.ChallengeOutput,
	response []byte) ([]string, error) {
	out, err := call[mfa.VerifyOutput](e, mfa.OpVerify, service, mfa.ProofInput{
		TenantID: u.TenantID, UserID: u.ID, FactorID: f.ID, ChallengeID: ch.ChallengeID,
		WebAuthn: response})
	return out.AMR, err
}

func TestAPasskeyRegistersAndAsserts(t *testing.T) {
	e := newEnv(t)
	a := e.alice
	k := newSoftKey(t, publicURL, rpID)
	out, err := e.registerPasskey(t, a, k)
	mustOK(t, "register", err)
	if !out.Factor.Confirmed || strings.Join(out.AMR, ",") != "hwk" {
		t.Errorf("registration = %+v, want a confirmed factor earning hwk", out)
	}
	f := out.Factor

	for range 2 {
		ch := e.challenge(t, a, f)
		amr, err := e.assertPasskey(a, f, ch, k.assert(ch.WebAuthnOptions))
		mustOK(t, "assert", err)
		if strings.Join(amr, ",") != "hwk" {
			t.Errorf("amr = %v, want [hwk]", amr)
		}
	}

	// An assertion answers its ceremony once.
	ch := e.challenge(t, a, f)
	resp := k.assert(ch.WebAuthnOptions)
	_, err = e.assertPasskey(a, f, ch, resp)
	mustOK(t, "assert", err)
	_, err = e.assertPasskey(a, f, ch, resp)
	wantCode(t, "the same assertion again", err, errs.Unauthenticated)

	// A signature counter that goes back means a cloned key.
	ch = e.challenge(t, a, f)
	_, err = e.assertPasskey(a, f, ch, k.assertAt(ch.WebAuthnOptions, k.count-1))
	wantCode(t, "an assertion whose counter went back", err, errs.Unauthenticated)
	ch = e.challenge(t, a, f)
	_, err = e.assertPasskey(a, f, ch, k.assertAt(ch.WebAuthnOptions, k.count))
	wantCode(t, "an assertion whose counter stayed", err, errs.Unauthenticated)

	// Another key's signature, or another origin, proves nothing.
	other := newSoftKey(t, publicURL, rpID)
	other.id = k.id
	ch = e.challenge(t, a, f)
	_, err = e.assertPasskey(a, f, ch, other.assert(ch.WebAuthnOptions))
	wantCode(t, "an assertion signed by another key", err, errs.Unauthenticated)
	phish := *k
	phish.origin = "https://id.example.com.evil.test"
	ch = e.challenge(t, a, f)
	_, err = e.assertPasskey(a, f, ch, phish.assert(ch.WebAuthnOptions))
	wantCode(t, "an assertion made for another origin", err, errs.Unauthenticated)
	k.count = phish.count

	ch = e.challenge(t, a, f)
	_, err = e.assertPasskey(a, f, ch, k.assert(ch.WebAuthnOptions))
	mustOK(t, "the real key after all that", err)
}

func TestASyncedPasskeyEarnsSwk(t *testing.T) {
	e := newEnv(t)
	k := newSoftKey(t, publicURL, rpID)
	k.backup = true
	out, err := e.registerPasskey(t, e.alice, k)
	mustOK(t, "register", err)
	if strings.Join(out.AMR, ",") != "swk" {
		t.Errorf("amr = %v, want [swk]", out.AMR)
	}
}

func TestARegistrationForAnotherRelyingPartyIsRefused(t *testing.T) {
	e := newEnv(t)
	k := newSoftKey(t, publicURL, "evil.test")
	_, err := e.registerPasskey(t, e.alice, k)
	wantCode(t, "register for another RP ID", err, errs.Unauthenticated)
	k = newSoftKey(t, "https://evil.test", rpID)
	_, err = e.registerPasskey(t, e.alice, k)
	wantCode(t, "register from another origin", err, errs.Unauthenticated)
}
