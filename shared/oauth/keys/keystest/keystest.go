// Package keystest holds a stand-in for a key management service that
// keys.DataKeys can be given in tests: data keys wrapped with AES-256-GCM
// under a key of its own, bound to their tenant the way KMS binds them
// with an encryption context. The real client (package keys/kmskeys) is
// tested against a KMS-compatible server instead.
package keystest

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"

	"github.com/wardhq/ward/shared/oauth/keys"
)

// ErrDown is what a DataKeys whose Down is set answers.
var ErrDown = errors.New("keystest: the key management service is down")

// DataKeys is an in-memory key management service. The zero value is not
// usable; call New.
type DataKeys struct {
	aead cipher.AEAD

	mu        sync.Mutex
	down      bool
	generated int
	decrypted int
	// beforeGenerate, when set, runs once at the next Generate.
	beforeGenerate func()
}

// New returns a service with a random wrapping key of its own: wrapped
// keys open only with the DataKeys that wrapped them.
func New() *DataKeys {
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	block, _ := aes.NewCipher(k)
	aead, _ := cipher.NewGCM(block)
	return &DataKeys{aead: aead}
}

var _ keys.DataKeys = (*DataKeys)(nil)

func tenantContext(tenantID string) []byte { return []byte("tenant=" + tenantID) }

// Generate makes a data key for the tenant.
func (d *DataKeys) Generate(_ context.Context, tenantID string) ([]byte, []byte, error) {
	d.mu.Lock()
	hook := d.beforeGenerate
	d.beforeGenerate = nil
	down := d.down
	d.mu.Unlock()
	if hook != nil {
		hook()
	}
	if down {
		return nil, nil, ErrDown
	}
	plain := make([]byte, 32)
	_, _ = rand.Read(plain)
	n := d.aead.NonceSize()
	wrapped := make([]byte, n, n+len(plain)+d.aead.Overhead())
	_, _ = rand.Read(wrapped)
	wrapped = d.aead.Seal(wrapped, wrapped, plain, tenantContext(tenantID))
	d.mu.Lock()
	d.generated++
	d.mu.Unlock()
	return plain, wrapped, nil
}

// Decrypt unwraps a data key Generate made for the same tenant.
func (d *DataKeys) Decrypt(_ context.Context, tenantID string, wrapped []byte) ([]byte, error) {
	d.mu.Lock()
	down := d.down
	d.decrypted++
	d.mu.Unlock()
	if down {
		return nil, ErrDown
	}
	n := d.aead.NonceSize()
	if len(wrapped) < n+d.aead.Overhead() {
		return nil, fmt.Errorf("keystest: %w", keys.ErrKeyDoesNotOpen)
	}
	plain, err := d.aead.Open(nil, wrapped[:n], wrapped[n:], tenantContext(tenantID))
	if err != nil {
		return nil, fmt.Errorf("keystest: %w", keys.ErrKeyDoesNotOpen)
	}
	return plain, nil
}

// SetDown makes every later call fail with ErrDown (or work again).
func (d *DataKeys) SetDown(down bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.down = down
}

// BeforeNextGenerate runs fn once, at the start of the next Generate.
func (d *DataKeys) BeforeNextGenerate(fn func()) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.beforeGenerate = fn
}

// Calls returns how many data keys were generated and decrypted so far.
func (d *DataKeys) Calls() (generated, decrypted int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.generated, d.decrypted
}
