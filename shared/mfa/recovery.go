package mfa

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
)

// Recovery codes are ten characters of Crockford's base32 alphabet (50
// random bits), shown as two groups of five ("7k3q9-x2mfa"). Only their
// hashes are kept, bound to the user.
const (
	recoveryAlphabet = "0123456789abcdefghjkmnpqrstvwxyz"
	recoveryLen      = 10
)

// recoveryData is the data of a RECOVERY factor: the hashes of the codes
// not yet used.
type recoveryData struct {
	Hashes []string `json:"hashes"`
}

func recoveryOf(f store.Factor) recoveryData {
	var d recoveryData
	_ = json.Unmarshal(f.Data, &d) // no data: no codes
	return d
}

func newRecoveryCode() string {
	b := make([]byte, recoveryLen)
	for i := range b {
		b[i] = recoveryAlphabet[randIntn(len(recoveryAlphabet))]
	}
	return string(b[:5]) + "-" + string(b[5:])
}

// normalRecovery is a typed code as it is hashed: lower case, without
// the dash or spaces people type or copy.
func normalRecovery(code string) string {
	code = strings.ToLower(code)
	return strings.NewReplacer("-", "", " ", "").Replace(code)
}

func recoveryHash(tenantID, userID, code string) string {
	return hashHex("recovery", tenantID, userID, normalRecovery(code))
}

// newRecoveryCodes makes RecoveryCodes codes and the data that keeps
// their hashes.
func newRecoveryCodes(tenantID, userID string) ([]string, []byte) {
	codes := make([]string, RecoveryCodes)
	d := recoveryData{Hashes: make([]string, RecoveryCodes)}
	for i := range codes {
		codes[i] = newRecoveryCode()
		d.Hashes[i] = recoveryHash(tenantID, userID, codes[i])
	}
	data, _ := json.Marshal(d)
	return codes, data
}

// proveRecovery spends one recovery code: its hash leaves the factor by
// compare-and-swap, so a code works once even under concurrent use.
func (s *service) proveRecovery(ctx context.Context, f store.Factor, code string) error {
	if n := len(normalRecovery(code)); n != recoveryLen {
		return badProof()
	}
	h := recoveryHash(f.TenantID, f.UserID, code)
	now := s.stamp()
	_, err := s.st.Factors().Update(ctx, f.TenantID, f.UserID, f.ID,
		func(cur store.Factor) (store.Factor, error) {
			d := recoveryOf(cur)
			at := -1
			for i, have := range d.Hashes {
				if sameHex(h, have) {
					at = i
				}
			}
			if at < 0 {
				return cur, badProof()
			}
			d.Hashes = append(d.Hashes[:at:at], d.Hashes[at+1:]...)
			data, err := json.Marshal(d)
			if err != nil {
				return cur, errs.Wrap(errs.Internal, err, "internal error")
			}
			cur.Data, cur.LastUsedAt = data, now
			return cur, nil
		})
	return err
}
