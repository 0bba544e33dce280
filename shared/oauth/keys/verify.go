package keys

import (
	"context"
	"errors"

	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"

	"github.com/wardhq/ward/shared/errs"
)

// MaxTokenBytes bounds what Verify parses.
const MaxTokenBytes = 8 << 10

// ErrNotVerified is the cause of every refusal by Verify: malformed,
// unknown or retired kid, an algorithm other than the key's, a bad
// signature. Callers treat them alike.
var ErrNotVerified = errors.New("keys: the token does not verify")

// Verified is a JWS that one of the tenant's published keys signed.
type Verified struct {
	Payload []byte
	// Type is the protected header's "typ", empty when absent.
	Type string
	KID  string
}

// Verify checks a compact JWS against the tenant's published keys (the
// ACTIVE key and the RETIRING ones in their overlap). The key is chosen by
// the header's kid, and the header's alg must be that key's algorithm:
// "none", HMAC with a public key and any other algorithm confusion fail.
// Only the signature is checked; the claims are the caller's to check.
// A refusal is UNAUTHENTICATED with ErrNotVerified as its cause; a store
// failure keeps its own code.
func (m *Manager) Verify(ctx context.Context, tenantID string, token []byte) (Verified, error) {
	refused := errs.Wrap(errs.Unauthenticated, ErrNotVerified, "invalid token")
	if len(token) == 0 || len(token) > MaxTokenBytes {
		return Verified{}, refused
	}
	msg, err := jws.Parse(token, jws.WithCompact())
	if err != nil || len(msg.Signatures()) != 1 {
		return Verified{}, refused
	}
	h := msg.Signatures()[0].ProtectedHeaders()
	kid, _ := h.KeyID()
	alg, _ := h.Algorithm()
	typ, _ := h.Type()
	if kid == "" {
		return Verified{}, refused
	}

	published, err := m.Published(ctx, tenantID)
	if err != nil {
		return Verified{}, err
	}
	for _, k := range published {
		if k.ID != kid {
			continue
		}
		if alg.String() != k.Algorithm {
			return Verified{}, refused
		}
		pub, err := m.publicKey(tenantID, kid, k.PublicJWK)
		if err != nil {
			return Verified{}, err
		}
		payload, err := jws.Verify(token, jws.WithKey(alg, pub))
		if err != nil {
			return Verified{}, refused
		}
		return Verified{Payload: payload, Type: typ, KID: kid}, nil
	}
	return Verified{}, refused
}

// publicKey parses a published key once per process: a key never changes
// under its ID.
func (m *Manager) publicKey(tenantID, kid, published string) (jwk.Key, error) {
	id := tenantID + "/" + kid
	m.mu.Lock()
	k, ok := m.public[id]
	m.mu.Unlock()
	if ok {
		return k, nil
	}
	k, err := jwk.ParseKey([]byte(published))
	if err != nil {
		return nil, errs.Wrap(errs.Internal, err, "a published signing key is damaged")
	}
	m.mu.Lock()
	if len(m.public) >= maxCached {
		clear(m.public)
	}
	m.public[id] = k
	m.mu.Unlock()
	return k, nil
}
