package oauth

import (
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strings"

	"golang.org/x/crypto/chacha20poly1305"

	"github.com/wardhq/ward/shared/errs"
)

// Opaque access tokens carry their own claims, sealed: "wat_" and, in
// unpadded base64url, a 24-byte random nonce and the claims (the same
// JSON a JWT access token signs) encrypted and authenticated with
// XChaCha20-Poly1305, the tenant's ID as additional data. A client or
// resource server learns nothing from one and can change nothing in it;
// only Ward opens it, at introspection and UserInfo.
//
// Why sealed rather than kept: a token kept only in the cache would be
// lost to an eviction or a flush (the in-process cache holds at most
// 100,000 entries, fewer than an hour of issuance under load), and one
// kept in the store would cost a durable write per token. A sealed token
// is as durable as a JWT and as cheap to issue; like a JWT it is revoked
// by its jti in the revocation set, which lives in the cache (see the
// package's known shortcomings).
//
// The sealing key is derived from the master key (WARD_OAUTH_KEY) with
// HKDF-SHA256; random 24-byte nonces never repeat in practice, however
// many tokens are sealed. Changing the master key makes every opaque
// token unreadable, as it makes every signing key it sealed unusable.
// KMS (WARD_OAUTH_KMS_KEY_ID) seals signing keys only: without the master
// key, opaque tokens are unavailable even where KMS is configured, a
// choice kept simple on purpose (docs/oauth.md, "Private keys at rest").
const (
	opaqueKeyInfo = "ward oauth opaque access token v1"
	// maxOpaqueTokenBytes bounds a presented opaque token before it is
	// decoded: claims are a few hundred bytes.
	maxOpaqueTokenBytes = 8 << 10
)

// newOpaqueSealer derives the sealing AEAD from the master key; nil for
// no master key (opaque tokens are then temporarily unavailable).
func newOpaqueSealer(master []byte) (cipher.AEAD, error) {
	if master == nil {
		return nil, nil
	}
	key, err := hkdf.Key(sha256.New, master, nil, opaqueKeyInfo, chacha20poly1305.KeySize)
	if err != nil {
		return nil, err
	}
	return chacha20poly1305.NewX(key)
}

// sealOpaque makes the opaque token of claims for the tenant.
func (s *service) sealOpaque(tenantID string, claims []byte) (string, error) {
	if s.sealer == nil {
		return "", errs.New(errs.Unavailable,
			"opaque access tokens need the master key (WARD_OAUTH_KEY)")
	}
	n := s.sealer.NonceSize()
	buf := make([]byte, n, n+len(claims)+s.sealer.Overhead())
	rand.Read(buf)
	buf = s.sealer.Seal(buf, buf[:n], claims, []byte(tenantID))
	return OpaqueTokenPrefix + base64.RawURLEncoding.EncodeToString(buf), nil
}

// openOpaque returns the claims sealed in tok for the tenant; ok is false
// for anything else (malformed, altered, another tenant's or another
// master key's).
func (s *service) openOpaque(tenantID, tok string) (claims []byte, ok bool) {
	raw, found := strings.CutPrefix(tok, OpaqueTokenPrefix)
	if !found || s.sealer == nil || len(tok) > maxOpaqueTokenBytes {
		return nil, false
	}
	b, err := base64.RawURLEncoding.DecodeString(raw)
	n := s.sealer.NonceSize()
	if err != nil || len(b) < n+s.sealer.Overhead() {
		return nil, false
	}
	claims, err = s.sealer.Open(nil, b[:n], b[n:], []byte(tenantID))
	return claims, err == nil
}
