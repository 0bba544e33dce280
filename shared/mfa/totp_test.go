package mfa_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image/png"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/mfa"
	"github.com/wardhq/ward/shared/store"
)

func TestEnrollingTOTPGivesAURIAndAQRCodeAndNeedsAConfirmingCode(t *testing.T) {
	e := newEnv(t)
	a := e.alice
	en := mustCall[mfa.Enrollment](t, e, mfa.FunctionName, mfa.OpEnroll, self(a),
		mfa.EnrollInput{TenantID: a.TenantID, UserID: a.ID, Type: store.FactorTOTP, Name: "phone"})

	if !strings.HasPrefix(en.OTPAuthURI, "otpauth://totp/") || !strings.Contains(en.OTPAuthURI,
		"secret="+en.Secret) || !strings.Contains(en.OTPAuthURI, "issuer=acme") {
		t.Errorf("otpauth URI = %q", en.OTPAuthURI)
	}
	raw, ok := strings.CutPrefix(en.QRCode, "data:image/png;base64,")
	if !ok {
		t.Fatalf("QR code is not a PNG data URL: %.40q", en.QRCode)
	}
	pngBytes, err := base64.StdEncoding.DecodeString(raw)
	mustOK(t, "decode QR code", err)
	img, err := png.Decode(bytes.NewReader(pngBytes))
	mustOK(t, "QR code PNG", err)
	if img.Bounds().Dx() < 100 {
		t.Errorf("QR code is %v, too small to scan", img.Bounds())
	}

	// Until confirmed, the factor cannot be challenged or verified.
	_, err = e.verify(mfa.Factor{ID: en.FactorID}, a, "", e.codeAt(t, en.Secret, 0))
	wantCode(t, "verify an unconfirmed factor", err, errs.Unauthenticated)
	_, err = call[mfa.ConfirmOutput](e, mfa.OpConfirm, self(a), mfa.ProofInput{TenantID: a.TenantID,
		UserID: a.ID, FactorID: en.FactorID, Code: wrongCode(e.codeAt(t, en.Secret, 0))})
	wantCode(t, "confirm with a wrong code", err, errs.Unauthenticated)

	out := mustCall[mfa.ConfirmOutput](t, e, mfa.FunctionName, mfa.OpConfirm, self(a),
		mfa.ProofInput{TenantID: a.TenantID, UserID: a.ID, FactorID: en.FactorID,
			Code: e.codeAt(t, en.Secret, 0)})
	if !out.Factor.Confirmed || out.Factor.Name != "phone" || strings.Join(out.AMR, ",") != "otp" {
		t.Errorf("confirm = %+v", out)
	}
	_, err = call[mfa.ConfirmOutput](e, mfa.OpConfirm, self(a), mfa.ProofInput{TenantID: a.TenantID,
		UserID: a.ID, FactorID: en.FactorID, Code: e.codeAt(t, en.Secret, 0)})
	wantCode(t, "confirm twice", err, errs.NotFound)

	// The store holds the seed sealed: neither its text nor its bytes.
	f, err := e.st.Factors().Get(t.Context(), a.TenantID, a.ID, en.FactorID)
	mustOK(t, "read the stored factor", err)
	if bytes.Contains(f.Secret, []byte(en.Secret)) || bytes.Contains(f.Data, []byte(en.Secret)) ||
		len(f.Secret) < len(en.Secret) {
		t.Errorf("the stored factor shows its seed: %x", f.Secret)
	}
	// A sealed seed moved to another factor does not open there.
	moved := f
	moved.ID = en.FactorID[:len(en.FactorID)-1] + "0"
	if moved.ID == f.ID {
		moved.ID = en.FactorID[:len(en.FactorID)-1] + "1"
	}
	moved.Confirmed = true
	if _, err := e.st.Factors().Create(t.Context(), moved); err == nil {
		_, err = e.verify(mfa.Factor{ID: moved.ID}, a, "", e.codeAt(t, en.Secret, 1))
		if err == nil {
			t.Error("a seed copied to another factor verified")
		}
	}
}

// wrongCode is a six-digit code other than code.
func wrongCode(code string) string {
	if code == "000000" {
		return "000001"
	}
	return "000000"
}

func TestTOTPAcceptsOneStepOfSkewEitherSideAndNotTwo(t *testing.T) {
	e := newEnv(t)
	a := e.alice
	f, secret := e.enrollTOTP(t, a)

	e.clk.Add(10 * 30 * time.Second)
	for _, steps := range []int{-2, 2} {
		_, err := e.verify(f, a, "", e.codeAt(t, secret, steps))
		wantCode(t, fmt.Sprintf("a code %+d steps off", steps), err, errs.Unauthenticated)
	}
	amr, err := e.verify(f, a, "", e.codeAt(t, secret, -1))
	mustOK(t, "a code of the step before", err)
	if strings.Join(amr, ",") != "otp" {
		t.Errorf("amr = %v, want [otp]", amr)
	}
	_, err = e.verify(f, a, "", e.codeAt(t, secret, 1))
	mustOK(t, "a code of the step after", err)

	// The step after is spent, and with it every earlier one.
	_, err = e.verify(f, a, "", e.codeAt(t, secret, 0))
	wantCode(t, "a code of a step before the last one used", err, errs.Unauthenticated)
}

func TestATOTPCodeIsNeverAcceptedTwice(t *testing.T) {
	e := newEnv(t)
	a := e.alice
	f, secret := e.enrollTOTP(t, a)

	_, err := e.verify(f, a, "", e.codeAt(t, secret, 0))
	wantCode(t, "the confirming code again", err, errs.Unauthenticated)

	e.clk.Add(30 * time.Second)
	code := e.codeAt(t, secret, 0)
	_, err = e.verify(f, a, "", code)
	mustOK(t, "a fresh code", err)
	_, err = e.verify(f, a, "", code)
	wantCode(t, "the same code again", err, errs.Unauthenticated)

	// Concurrent replays: of eight requests with one fresh code, one wins.
	e.clk.Add(30 * time.Second)
	code = e.codeAt(t, secret, 0)
	var wg sync.WaitGroup
	results := make([]error, 8)
	for i := range results {
		wg.Go(func() { _, results[i] = e.verify(f, a, "", code) })
	}
	wg.Wait()
	wins := 0
	for _, err := range results {
		if err == nil {
			wins++
		} else if errs.CodeOf(err) != errs.Unauthenticated {
			t.Errorf("a concurrent replay failed with %v, want UNAUTHENTICATED", err)
		}
	}
	if wins != 1 {
		t.Errorf("%d of 8 concurrent uses of one code were accepted, want 1", wins)
	}
}

func TestWrongCodesAreCountedAndBlockTheFactor(t *testing.T) {
	e := newEnv(t)
	a := e.alice
	f, secret := e.enrollTOTP(t, a)
	e.clk.Add(30 * time.Second)
	good := e.codeAt(t, secret, 0)

	for i := range mfa.MaxFailures {
		_, err := e.verify(f, a, "", wrongCode(good))
		wantCode(t, fmt.Sprintf("wrong code %d", i+1), err, errs.Unauthenticated)
	}
	_, err := e.verify(f, a, "", good)
	wantCode(t, "the right code after too many wrong ones", err, errs.RateLimited)

	e.clk.Add(mfa.FailureWindow)
	_, err = e.verify(f, a, "", e.codeAt(t, secret, 0))
	mustOK(t, "a right code once the window is over", err)
}

func TestWithoutAKeyTOTPIsUnavailable(t *testing.T) {
	e := newEnv(t, withoutKey())
	_, err := call[mfa.Enrollment](e, mfa.OpEnroll, self(e.alice), mfa.EnrollInput{
		TenantID: e.acme.ID, UserID: e.alice.ID, Type: store.FactorTOTP})
	wantCode(t, "enrol TOTP without a key", err, errs.Unavailable)
	list := mustCall[mfa.ListOutput](t, e, mfa.FunctionName, mfa.OpList, self(e.alice),
		mfa.UserInput{TenantID: e.acme.ID, UserID: e.alice.ID})
	if len(list.Factors) != 0 {
		t.Errorf("a failed enrolment left %v", list.Factors)
	}
}
