package keys

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/wardhq/ward/shared/errs"
)

// sealVersion starts every sealed private key, so that another cipher or
// an envelope scheme can come later without guessing what a record holds.
const sealVersion = 1

// ErrKeyDoesNotOpen is the cause of the error a sealed private key that
// does not open gives: another master key than the one that sealed it, a
// record copied to another tenant or key ID, or damage.
var ErrKeyDoesNotOpen = errors.New("keys: a sealed signing key does not open with this master key")

// sealer seals private keys with AES-256-GCM under the master key.
type sealer struct{ aead cipher.AEAD }

func newSealer(master []byte) (*sealer, error) {
	if len(master) != 32 {
		return nil, fmt.Errorf("keys: the master key must be 32 bytes, not %d", len(master))
	}
	block, err := aes.NewCipher(master)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &sealer{aead: aead}, nil
}

// sealedAD binds a sealed key to its tenant, key ID and algorithm: sealed
// bytes moved to another record do not open.
func sealedAD(tenantID, kid, alg string) []byte {
	return []byte("ward-oauth-signing-key\x00" + tenantID + "\x00" + kid + "\x00" + alg)
}

// seal returns version, nonce, ciphertext and tag.
func (s *sealer) seal(plain, ad []byte) []byte {
	n := s.aead.NonceSize()
	out := make([]byte, 1+n, 1+n+len(plain)+s.aead.Overhead())
	out[0] = sealVersion
	_, _ = rand.Read(out[1:]) // never fails (crypto/rand, Go 1.24+)
	return s.aead.Seal(out, out[1:], plain, ad)
}

func (s *sealer) open(sealed, ad []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < 1+n+s.aead.Overhead() || sealed[0] != sealVersion {
		return nil, errs.Wrap(errs.Internal, ErrKeyDoesNotOpen, "a signing key is damaged")
	}
	plain, err := s.aead.Open(nil, sealed[1:1+n], sealed[1+n:], ad)
	if err != nil {
		return nil, errs.Wrap(errs.Internal, ErrKeyDoesNotOpen,
			"a signing key does not open with this master key (WARD_OAUTH_KEY)")
	}
	return plain, nil
}
