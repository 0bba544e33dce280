package mfa_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"testing"

	"github.com/go-webauthn/webauthn/protocol/webauthncbor"
)

// softKey is a software authenticator: the test's stand-in for a browser
// and a security key. It makes one ES256 credential, attests it with the
// "none" format, and signs assertions by hand as WebAuthn Level 2 lays
// them out (authenticator data, then the client data hash).
type softKey struct {
	t       *testing.T
	key     *ecdsa.PrivateKey
	id      []byte
	origin  string
	rpID    string
	count   uint32
	backup  bool // set the backup eligible flag (a synced passkey)
	userKey []byte
}

func newSoftKey(t *testing.T, origin, rpID string) *softKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id := make([]byte, 32)
	rand.Read(id)
	return &softKey{t: t, key: k, id: id, origin: origin, rpID: rpID}
}

var b64 = base64.RawURLEncoding

// challengeOf reads the challenge out of creation or request options.
func challengeOf(t *testing.T, options []byte) string {
	t.Helper()
	var o struct {
		PublicKey struct {
			Challenge string `json:"challenge"`
			User      struct {
				ID string `json:"id"`
			} `json:"user"`
		} `json:"publicKey"`
	}
	if err := json.Unmarshal(options, &o); err != nil || o.PublicKey.Challenge == "" {
		t.Fatalf("options without a challenge: %s (%v)", options, err)
	}
	return o.PublicKey.Challenge
}

func (k *softKey) clientData(typ, challenge string) []byte {
	b, _ := json.Marshal(map[string]any{"type": typ, "challenge": challenge,
		"origin": k.origin, "crossOrigin": false})
	return b
}

func (k *softKey) flags(extra byte) byte {
	f := byte(0x01 | 0x04) // user present, user verified
	if k.backup {
		f |= 0x08
	}
	return f | extra
}

func (k *softKey) authData(flags byte, attested []byte) []byte {
	rp := sha256.Sum256([]byte(k.rpID))
	out := append([]byte{}, rp[:]...)
	out = append(out, flags)
	out = binary.BigEndian.AppendUint32(out, k.count)
	return append(out, attested...)
}

// register answers creation options with a new credential.
func (k *softKey) register(options []byte) []byte {
	k.t.Helper()
	challenge := challengeOf(k.t, options)
	pub := k.key.PublicKey
	x, y := make([]byte, 32), make([]byte, 32)
	pub.X.FillBytes(x)
	pub.Y.FillBytes(y)
	cose, err := webauthncbor.Marshal(map[int]any{1: 2, 3: -7, -1: 1, -2: x, -3: y})
	if err != nil {
		k.t.Fatal(err)
	}
	attested := make([]byte, 16) // AAGUID: none
	attested = binary.BigEndian.AppendUint16(attested, uint16(len(k.id)))
	attested = append(attested, k.id...)
	attested = append(attested, cose...)
	obj, err := webauthncbor.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{},
		"authData": k.authData(k.flags(0x40), attested)})
	if err != nil {
		k.t.Fatal(err)
	}
	resp, _ := json.Marshal(map[string]any{
		"id": b64.EncodeToString(k.id), "rawId": b64.EncodeToString(k.id), "type": "public-key",
		"response": map[string]any{
			"attestationObject": b64.EncodeToString(obj),
			"clientDataJSON":    b64.EncodeToString(k.clientData("webauthn.create", challenge)),
			"transports":        []string{"usb"},
		},
		"clientExtensionResults": map[string]any{},
	})
	return resp
}

// assert answers request options with a signed assertion, counting up.
func (k *softKey) assert(options []byte) []byte {
	k.t.Helper()
	k.count++
	return k.assertAt(options, k.count)
}

// assertAt signs an assertion that reports counter count.
func (k *softKey) assertAt(options []byte, count uint32) []byte {
	k.t.Helper()
	challenge := challengeOf(k.t, options)
	saved := k.count
	k.count = count
	ad := k.authData(k.flags(0), nil)
	k.count = saved
	cd := k.clientData("webauthn.get", challenge)
	cdHash := sha256.Sum256(cd)
	digest := sha256.Sum256(append(append([]byte{}, ad...), cdHash[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, k.key, digest[:])
	if err != nil {
		k.t.Fatal(err)
	}
	resp, _ := json.Marshal(map[string]any{
		"id": b64.EncodeToString(k.id), "rawId": b64.EncodeToString(k.id), "type": "public-key",
		"response": map[string]any{
			"authenticatorData": b64.EncodeToString(ad),
			"clientDataJSON":    b64.EncodeToString(cd),
			"signature":         b64.EncodeToString(sig),
		},
		"clientExtensionResults": map[string]any{},
	})
	return resp
}
