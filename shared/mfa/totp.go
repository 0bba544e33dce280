package mfa

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/base64"
	"image/png"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
)

// TOTP parameters (RFC 6238): what every authenticator app supports.
const (
	totpPeriod = 30
	totpDigits = otp.DigitsSix
	// totpSkew is how many steps either side of now a code is accepted.
	totpSkew = 1
	qrSize   = 256
)

var totpOpts = totp.ValidateOpts{Period: totpPeriod, Digits: totpDigits,
	Algorithm: otp.AlgorithmSHA1}

// stepOf is the TOTP time step of t.
func stepOf(t time.Time) int64 { return t.Unix() / totpPeriod }

// enrollTOTP makes a new seed for an unconfirmed factor, sealed, and the
// URI and QR code that carry it to an app.
func (s *service) enrollTOTP(tn store.Tenant, u store.User, f *store.Factor) (Enrollment,
	error) {
	issuer := tn.DisplayName
	if issuer == "" {
		issuer = tn.Name
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: issuer, AccountName: u.Username,
		Period: totpPeriod, Digits: totpDigits, Algorithm: otp.AlgorithmSHA1, SecretSize: 20})
	if err != nil {
		return Enrollment{}, errs.Wrap(errs.Internal, err, "internal error")
	}
	sealed, err := s.seal(*f, []byte(key.Secret()))
	if err != nil {
		return Enrollment{}, err
	}
	f.Secret = sealed
	img, err := key.Image(qrSize, qrSize)
	if err != nil {
		return Enrollment{}, errs.Wrap(errs.Internal, err, "internal error")
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return Enrollment{}, errs.Wrap(errs.Internal, err, "internal error")
	}
	return Enrollment{Secret: key.Secret(), OTPAuthURI: key.URL(),
		QRCode: "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())}, nil
}

// matchTOTP returns the step, within totpSkew of now, whose code is code;
// every candidate is computed and compared in constant time.
func (s *service) matchTOTP(f store.Factor, code string) (int64, bool, error) {
	secret, err := s.open(f)
	if err != nil {
		return 0, false, err
	}
	if len(code) != int(totpDigits) {
		return 0, false, nil
	}
	now := stepOf(s.now())
	var found int64
	ok := false
	for step := now - totpSkew; step <= now+totpSkew; step++ {
		want, err := totp.GenerateCodeCustom(string(secret), time.Unix(step*totpPeriod, 0), totpOpts)
		if err != nil {
			return 0, false, errs.Wrap(errs.Internal, err, "internal error")
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			found, ok = step, true
		}
	}
	return found, ok, nil
}

// proveTOTP checks a code of a TOTP factor and spends its step: the
// factor's LastStep moves to it by compare-and-swap, and a step at or
// before LastStep is a replay. Of concurrent requests with one code, one
// wins. confirm also marks an enrolment confirmed.
func (s *service) proveTOTP(ctx context.Context, f store.Factor, code string, confirm bool) (
	store.Factor, error) {
	step, ok, err := s.matchTOTP(f, code)
	if err != nil {
		return store.Factor{}, err
	}
	if !ok || step <= f.LastStep {
		return store.Factor{}, badProof()
	}
	now := s.stamp()
	return s.st.Factors().Update(ctx, f.TenantID, f.UserID, f.ID,
		func(cur store.Factor) (store.Factor, error) {
			if cur.LastStep >= step || cur.Confirmed != f.Confirmed ||
				string(cur.Secret) != string(f.Secret) {
				return cur, badProof()
			}
			cur.LastStep, cur.LastUsedAt = step, now
			if confirm {
				cur.Confirmed = true
			}
			return cur, nil
		})
}
