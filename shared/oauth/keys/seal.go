package keys

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
)

// sealVersion starts every sealed private key, so that another cipher can
// come later without guessing what a record holds. Which key sealed it is
// the key's store.SigningKey.Sealing.
const sealVersion = 1

// ErrKeyDoesNotOpen is the cause of the error a sealed private key that
// does not open gives: another master key than the one that sealed it, a
// data key KMS refuses to unwrap for this tenant, a record copied to
// another tenant or key ID, or damage.
var ErrKeyDoesNotOpen = errors.New("keys: a sealed signing key does not open")

// DataKeys makes and unwraps the tenants' data keys: a key management
// service (package keys/kmskeys for AWS KMS). Implementations bind each
// wrapped key to its tenant, so that one tenant's wrapped key does not
// unwrap as another's.
type DataKeys interface {
	// Generate returns a new 32-byte data key for the tenant, in the
	// clear and wrapped.
	Generate(ctx context.Context, tenantID string) (plain, wrapped []byte, err error)
	// Decrypt returns the data key that wrapped holds for the tenant. A
	// wrapped key that is not the tenant's (or is damaged) fails with
	// ErrKeyDoesNotOpen in its chain; an unreachable service with
	// another error.
	Decrypt(ctx context.Context, tenantID string, wrapped []byte) ([]byte, error)
}

// keyEncryption is one way of sealing private keys at rest, chosen at
// configuration: local (AES-256-GCM under the master key) or kms (under
// the tenant's data key, wrapped by KMS).
type keyEncryption interface {
	// kind is written beside each key it seals (store.SigningKey.Sealing).
	kind() string
	// open returns the AEAD for the tenant whose set holds the wrapped
	// data key (nil when the set has none).
	open(ctx context.Context, tenantID string, wrapped []byte) (cipher.AEAD, error)
	// fresh returns the AEAD to seal a new key of the tenant with, and the
	// wrapped data key its set must hold from now on (nil: none needed).
	// wrapped is the set's current data key, reused when there is one.
	fresh(ctx context.Context, tenantID string, wrapped []byte) (cipher.AEAD, []byte, error)
}

// local seals every tenant's keys directly under the master key.
type local struct{ aead cipher.AEAD }

func newLocal(master []byte) (*local, error) {
	if len(master) != 32 {
		return nil, fmt.Errorf("keys: the master key must be 32 bytes, not %d", len(master))
	}
	aead, err := newGCM(master)
	if err != nil {
		return nil, err
	}
	return &local{aead: aead}, nil
}

func (*local) kind() string { return store.SealedLocal }

func (l *local) open(context.Context, string, []byte) (cipher.AEAD, error) { return l.aead, nil }

func (l *local) fresh(context.Context, string, []byte) (cipher.AEAD, []byte, error) {
	return l.aead, nil, nil
}

// envelope seals a tenant's keys under the tenant's data key, which only
// KMS unwraps. Unwrapped data keys are kept in process memory (never in
// the cache or the store) for the process's lifetime, so KMS is asked
// once per tenant and process.
type envelope struct {
	dk DataKeys

	mu     sync.Mutex
	opened map[string]cipher.AEAD // tenant ID + "\x00" + wrapped → AEAD
}

func newEnvelope(dk DataKeys) *envelope {
	return &envelope{dk: dk, opened: map[string]cipher.AEAD{}}
}

func (*envelope) kind() string { return store.SealedKMS }

func (e *envelope) open(ctx context.Context, tenantID string, wrapped []byte) (cipher.AEAD,
	error) {
	if len(wrapped) == 0 {
		return nil, errs.Wrap(errs.Internal, ErrKeyDoesNotOpen,
			"a signing key sealed with KMS has no data key beside it")
	}
	id := tenantID + "\x00" + string(wrapped)
	e.mu.Lock()
	aead, ok := e.opened[id]
	e.mu.Unlock()
	if ok {
		return aead, nil
	}
	plain, err := e.dk.Decrypt(ctx, tenantID, wrapped)
	if errors.Is(err, ErrKeyDoesNotOpen) {
		return nil, errs.Wrap(errs.Internal, err,
			"the tenant's data key does not unwrap with KMS (WARD_OAUTH_KMS_KEY_ID)")
	}
	if err != nil {
		return nil, errs.Wrap(errs.Unavailable, err, "KMS is not available")
	}
	return e.keep(id, plain)
}

func (e *envelope) fresh(ctx context.Context, tenantID string, wrapped []byte) (cipher.AEAD,
	[]byte, error) {
	if len(wrapped) > 0 {
		aead, err := e.open(ctx, tenantID, wrapped)
		return aead, wrapped, err
	}
	plain, wrapped, err := e.dk.Generate(ctx, tenantID)
	if err != nil {
		return nil, nil, errs.Wrap(errs.Unavailable, err, "KMS is not available")
	}
	aead, err := e.keep(tenantID+"\x00"+string(wrapped), plain)
	return aead, wrapped, err
}

func (e *envelope) keep(id string, plain []byte) (cipher.AEAD, error) {
	if len(plain) != 32 {
		return nil, errs.New(errs.Internal, "KMS returned a data key that is not 32 bytes")
	}
	aead, err := newGCM(plain)
	clear(plain)
	if err != nil {
		return nil, errs.Wrap(errs.Internal, err, "internal error")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.opened) >= maxCached {
		clear(e.opened)
	}
	e.opened[id] = aead
	return aead, nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// sealedAD binds a sealed key to its tenant, key ID and algorithm: sealed
// bytes moved to another record do not open.
func sealedAD(tenantID, kid, alg string) []byte {
	return []byte("ward-oauth-signing-key\x00" + tenantID + "\x00" + kid + "\x00" + alg)
}

// seal returns version, nonce, ciphertext and tag.
func seal(aead cipher.AEAD, plain, ad []byte) []byte {
	n := aead.NonceSize()
	out := make([]byte, 1+n, 1+n+len(plain)+aead.Overhead())
	out[0] = sealVersion
	_, _ = rand.Read(out[1:]) // never fails (crypto/rand, Go 1.24+)
	return aead.Seal(out, out[1:], plain, ad)
}

// open opens what seal sealed; what names the key that should open it,
// for the error's message.
func open(aead cipher.AEAD, sealed, ad []byte, what string) ([]byte, error) {
	n := aead.NonceSize()
	if len(sealed) < 1+n+aead.Overhead() || sealed[0] != sealVersion {
		return nil, errs.Wrap(errs.Internal, ErrKeyDoesNotOpen, "a signing key is damaged")
	}
	plain, err := aead.Open(nil, sealed[1:1+n], sealed[1+n:], ad)
	if err != nil {
		return nil, errs.Wrap(errs.Internal, ErrKeyDoesNotOpen,
			"a signing key does not open with %s", what)
	}
	return plain, nil
}
