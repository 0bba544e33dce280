package account

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math/big"
	"strings"
	"time"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/validate"
)

// invalidProof is the one answer for a proof that is unknown, expired,
// dead after too many wrong codes, meant for something else, or simply
// wrong: telling these apart would tell a prober which IDs are real.
func invalidProof() error {
	return errs.New(errs.InvalidArgument, "the link or code is invalid or has expired")
}

// alreadyUsed answers a correct link or code presented again. It is given
// only once the secret or code has matched, so it tells nothing to whoever
// does not hold the proof.
func alreadyUsed() error {
	return errs.New(errs.Conflict, "this link or code has already been used")
}

// secretBytes is the entropy of a link secret.
const secretBytes = 32

// proof is what a person presents: a link token's parts, or an ID and a
// code. Exactly one of secret and code is set.
type proof struct {
	id, secret, code string
}

// fromToken splits a link token "<id>.<secret>". A malformed token is
// invalidProof, like any wrong one.
func fromToken(token string) (proof, error) {
	id, secret, ok := strings.Cut(token, ".")
	if !ok || validate.ID("token", id) != nil || secret == "" || len(secret) > 128 {
		return proof{}, invalidProof()
	}
	return proof{id: id, secret: secret}, nil
}

// fromCode checks the form of an ID and code pair.
func fromCode(id, code string) (proof, error) {
	if err := validate.ID("verificationId", id); err != nil {
		return proof{}, err
	}
	if len(code) != 6 || strings.Trim(code, "0123456789") != "" {
		return proof{}, errs.Invalid("code", "must be 6 digits")
	}
	return proof{id: id, code: code}, nil
}

func digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// codeDigest binds a code to its verification, so that equal codes of two
// proofs have unrelated hashes.
func codeDigest(id, code string) string { return digest(id + ":" + code) }

// sameDigest compares two hex digests in constant time.
func sameDigest(a, b string) bool {
	return len(a) == len(b) && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

func newSecret() string {
	b := make([]byte, secretBytes)
	rand.Read(b) // never fails (crypto/rand, Go 1.24 and later)
	return base64.RawURLEncoding.EncodeToString(b)
}

func newCode() string {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		panic("account: crypto/rand failed: " + err.Error())
	}
	return fmt.Sprintf("%06d", n.Int64())
}

// issued is a proof just stored, with what the message carries.
type issued struct {
	v     store.Verification
	token string // "<id>.<secret>"; empty without a link
	code  string // empty without a code
}

// issue stores a new proof for purpose. withLink and withCode say how it
// can be proven.
func (s *service) issue(ctx context.Context, v store.Verification, ttl time.Duration,
	withLink, withCode bool) (issued, error) {
	now := s.stamp()
	v.ID = validate.NewID()
	v.CreatedAt = now
	v.ExpiresAt = now.Add(ttl)
	out := issued{}
	if withLink {
		secret := newSecret()
		v.SecretHash = digest(secret)
		out.token = v.ID + "." + secret
	}
	if withCode {
		out.code = newCode()
		v.CodeHash = codeDigest(v.ID, out.code)
	}
	var err error
	out.v, err = s.st.Verifications().Create(ctx, v)
	return out, err
}

// decoy stores a proof that nobody can pass (no link, and a code hash of a
// value no six digits hash to) and returns its ID: an answer shaped and
// stored like a real one, for addresses whose accounts must not be told.
func (s *service) decoy(ctx context.Context, tenantID, target string, ttl time.Duration) (
	string, error) {
	now := s.stamp()
	v := store.Verification{
		ID: validate.NewID(), TenantID: tenantID, Purpose: store.VerifyEmail, Target: target,
		CreatedAt: now, ExpiresAt: now.Add(ttl),
	}
	v.CodeHash = digest("decoy:" + newSecret())
	v, err := s.st.Verifications().Create(ctx, v)
	return v.ID, err
}

// check reads proof p of purpose and checks it, spending nothing but a
// wrong code's attempt. It returns the proof when it may be used.
func (s *service) check(ctx context.Context, tenantID string, p proof,
	purpose store.VerificationPurpose) (store.Verification, error) {
	v, err := s.st.Verifications().Get(ctx, tenantID, p.id)
	switch {
	case errs.CodeOf(err) == errs.NotFound || errs.CodeOf(err) == errs.InvalidArgument:
		return v, invalidProof()
	case err != nil:
		return v, err
	case v.Purpose != purpose || v.Attempts >= MaxAttempts:
		return v, invalidProof()
	}
	if p.code == "" {
		if v.SecretHash == "" || !sameDigest(digest(p.secret), v.SecretHash) {
			return v, invalidProof()
		}
	} else if v.CodeHash == "" || !sameDigest(codeDigest(v.ID, p.code), v.CodeHash) {
		s.countAttempt(ctx, v)
		return v, invalidProof()
	}
	if !v.UsedAt.IsZero() {
		return v, alreadyUsed()
	}
	return v, nil
}

// countAttempt records a wrong code. A failure to record it is logged: the
// caller is refused either way.
//
// Known shortcoming: wrong codes of an already used proof are counted
// too, which is harmless since such a proof is spent.
func (s *service) countAttempt(ctx context.Context, v store.Verification) {
	_, err := s.st.Verifications().Update(ctx, v.TenantID, v.ID,
		func(v store.Verification) (store.Verification, error) {
			v.Attempts++
			return v, nil
		})
	if err != nil && errs.CodeOf(err) != errs.NotFound {
		s.log.LogAttrs(ctx, slog.LevelError, "account: a wrong code was not counted",
			slog.String("request_id", function.RequestID(ctx)),
			slog.String("tenant", v.TenantID), slog.String("error", err.Error()))
	}
	if v.Attempts+1 >= MaxAttempts {
		s.log.LogAttrs(ctx, slog.LevelWarn, "account: a proof died of wrong codes",
			slog.String("request_id", function.RequestID(ctx)),
			slog.String("tenant", v.TenantID), slog.String("verification", v.ID))
	}
}

// claim spends a checked proof. Of two concurrent claims one wins; the
// other gets alreadyUsed.
func (s *service) claim(ctx context.Context, v store.Verification) (store.Verification, error) {
	now := s.stamp()
	out, err := s.st.Verifications().Update(ctx, v.TenantID, v.ID,
		func(v store.Verification) (store.Verification, error) {
			switch {
			case !v.UsedAt.IsZero():
				return v, alreadyUsed()
			case v.Attempts >= MaxAttempts:
				return v, invalidProof()
			}
			v.UsedAt = now
			return v, nil
		})
	if errs.CodeOf(err) == errs.NotFound {
		return out, invalidProof()
	}
	return out, err
}

// release makes a claimed proof usable again after the change it permits
// failed.
func (s *service) release(ctx context.Context, v store.Verification) {
	s.undo(ctx, "release a proof", func(ctx context.Context) error {
		_, err := s.st.Verifications().Update(ctx, v.TenantID, v.ID,
			func(v store.Verification) (store.Verification, error) {
				v.UsedAt = time.Time{}
				return v, nil
			})
		if errs.CodeOf(err) == errs.NotFound {
			return nil // expired meanwhile: nothing to release
		}
		return err
	})
}
