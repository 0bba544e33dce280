package mfa

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
)

// sealVersion starts every sealed secret, so that another key or cipher
// can come later without guessing what a stored secret is.
const sealVersion = 1

// sealedAD is what a sealed secret is bound to: its factor. A sealed seed
// copied to another factor, user or tenant does not open.
func sealedAD(f store.Factor) []byte {
	return []byte("ward-mfa-secret\x00" + f.TenantID + "\x00" + f.UserID + "\x00" + f.ID)
}

func (s *service) aead() (cipher.AEAD, error) {
	if s.key == nil {
		return nil, errs.New(errs.Unavailable,
			"authenticator apps are not available: no MFA key is configured (WARD_MFA_KEY)")
	}
	block, err := aes.NewCipher(s.key)
	if err != nil {
		return nil, errs.Wrap(errs.Internal, err, "internal error")
	}
	return cipher.NewGCM(block)
}

// seal encrypts secret for factor f: version, nonce, ciphertext and tag.
func (s *service) seal(f store.Factor, secret []byte) ([]byte, error) {
	a, err := s.aead()
	if err != nil {
		return nil, err
	}
	out := make([]byte, 1+a.NonceSize(), 1+a.NonceSize()+len(secret)+a.Overhead())
	out[0] = sealVersion
	_, _ = rand.Read(out[1:]) // never fails (crypto/rand, Go 1.24+)
	return a.Seal(out, out[1:], secret, sealedAD(f)), nil
}

// open decrypts what seal made for f. A secret that does not open (another
// key, another factor, damage) is a fault of Ward, not of the caller.
func (s *service) open(f store.Factor) ([]byte, error) {
	a, err := s.aead()
	if err != nil {
		return nil, err
	}
	b := f.Secret
	if len(b) < 1+a.NonceSize()+a.Overhead() || b[0] != sealVersion {
		return nil, errs.New(errs.Internal, "a factor's secret is damaged")
	}
	plain, err := a.Open(nil, b[1:1+a.NonceSize()], b[1+a.NonceSize():], sealedAD(f))
	if err != nil {
		return nil, errs.Wrap(errs.Internal, err, "a factor's secret does not open with this key")
	}
	return plain, nil
}
