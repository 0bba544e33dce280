package passwords

import (
	"crypto/rand"
	"crypto/subtle"
	"fmt"
	"io"
	"runtime"
	"sync"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
	"golang.org/x/text/unicode/norm"

	"github.com/wardhq/ward/shared/errs"
)

// Params are the Argon2id cost parameters and sizes of one hash.
type Params struct {
	Memory  uint32 // m: memory in KiB
	Time    uint32 // t: passes over the memory
	Threads uint8  // p: lanes
	SaltLen uint32 // bytes of random salt
	KeyLen  uint32 // bytes of derived key (the "tag")
}

// DefaultParams returns the parameters Ward hashes new passwords with:
// m = 19 MiB (19456 KiB), t = 2, p = 1, a 16-byte salt and a 32-byte key.
//
// Why these numbers:
//
//   - OWASP's Password Storage Cheat Sheet names Argon2id with at least
//     19 MiB of memory, 2 passes and 1 lane as its baseline, and lists
//     equal-cost trade-offs (46 MiB/t=1 down to 7 MiB/t=5). We take the
//     baseline row: it is the one most widely reviewed.
//   - RFC 9106 section 4 recommends 2 GiB (t=1, p=4) or, where memory is
//     short, 64 MiB (t=3, p=4). Ward runs as serverless functions: one
//     container may verify several logins at once (Cloud Run) or run in
//     128-512 MB (Lambda), and small instances get a fraction of a vCPU, so
//     four lanes buy no wall-clock time there and 64 MiB per login would
//     cap concurrency hard. The RFC allows lower memory when a deployment
//     needs it; OWASP's row is the floor we will not go under.
//   - p = 1 keeps each login on one core, so throughput per core is what
//     BenchmarkVerify measures.
//   - Salt 128 bits and key 256 bits are the sizes RFC 9106 section 4 asks
//     for.
//
// Raise the cost as hardware allows: Verify reports needsRehash for every
// stored hash whose parameters differ, and login then replaces it.
func DefaultParams() Params {
	return Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
}

// Bounds on parameters. A stored hash outside them is refused by Verify
// before any work is done, so a tampered or corrupt record cannot turn one
// login into a memory or CPU exhaustion: the worst accepted hash costs
// maxWork KiB-passes (256 MiB-passes, about 6.7 times DefaultParams) and
// maxMemory of memory. They leave room for RFC 9106's 64 MiB, t=3, p=4.
const (
	maxMemory  = 128 * 1024 // KiB
	maxTime    = 16
	maxThreads = 8
	maxWork    = 256 * 1024 // Memory × Time, in KiB-passes
	minSaltLen = 8          // PHC string format's lower bound
	maxSaltLen = 64
	minKeyLen  = 16
	maxKeyLen  = 64
)

// Floors for hashing new passwords (New). They are OWASP's lowest
// equal-cost row (7 MiB, t=5): anything cheaper is refused at start-up
// rather than silently storing weak hashes. Stored hashes below the floor
// still verify, with needsRehash, so that old records can be upgraded.
const (
	minNewMemory  = 7 * 1024     // KiB
	minNewWork    = 7 * 1024 * 5 // KiB-passes
	minNewSaltLen = 16
)

// checkBounds reports whether p can be computed at all without risk.
func (p Params) checkBounds() error {
	switch {
	case p.Threads < 1 || p.Threads > maxThreads:
		return fmt.Errorf("p=%d outside 1..%d", p.Threads, maxThreads)
	case p.Memory < 8*uint32(p.Threads) || p.Memory > maxMemory:
		return fmt.Errorf("m=%d outside %d..%d", p.Memory, 8*uint32(p.Threads), maxMemory)
	case p.Time < 1 || p.Time > maxTime:
		return fmt.Errorf("t=%d outside 1..%d", p.Time, maxTime)
	case uint64(p.Memory)*uint64(p.Time) > maxWork:
		return fmt.Errorf("m×t=%d above %d", uint64(p.Memory)*uint64(p.Time), maxWork)
	case p.SaltLen < minSaltLen || p.SaltLen > maxSaltLen:
		return fmt.Errorf("salt of %d bytes outside %d..%d", p.SaltLen, minSaltLen, maxSaltLen)
	case p.KeyLen < minKeyLen || p.KeyLen > maxKeyLen:
		return fmt.Errorf("key of %d bytes outside %d..%d", p.KeyLen, minKeyLen, maxKeyLen)
	}
	return nil
}

// checkNew reports whether p is strong enough to hash new passwords with.
func (p Params) checkNew() error {
	if err := p.checkBounds(); err != nil {
		return err
	}
	switch {
	case p.Memory < minNewMemory:
		return fmt.Errorf("m=%d below the floor of %d KiB", p.Memory, minNewMemory)
	case uint64(p.Memory)*uint64(p.Time) < minNewWork:
		return fmt.Errorf("m×t=%d below the floor of %d", uint64(p.Memory)*uint64(p.Time), minNewWork)
	case p.SaltLen < minNewSaltLen:
		return fmt.Errorf("salt of %d bytes below the floor of %d", p.SaltLen, minNewSaltLen)
	}
	return nil
}

// Hasher hashes and verifies passwords with one set of parameters. It is
// immutable and safe for concurrent use.
type Hasher struct {
	params Params
	random io.Reader
	// dummy is a stored hash with the hasher's own parameters that no
	// password matches; DummyVerify checks against it.
	dummy phc
}

// New returns a Hasher for p, reading salts from random (nil:
// crypto/rand). It refuses parameters outside the bounds Verify enforces
// and parameters weaker than OWASP's lowest recommended cost.
func New(p Params, random io.Reader) (*Hasher, error) {
	if err := p.checkNew(); err != nil {
		return nil, fmt.Errorf("passwords: %w", err)
	}
	return newHasher(p, random)
}

// newHasher skips the strength floor; tests use it for cheap parameters.
func newHasher(p Params, random io.Reader) (*Hasher, error) {
	if err := p.checkBounds(); err != nil {
		return nil, fmt.Errorf("passwords: %w", err)
	}
	if random == nil {
		random = rand.Reader
	}
	h := &Hasher{params: p, random: random}
	h.dummy = phc{params: p, salt: make([]byte, p.SaltLen), key: make([]byte, p.KeyLen)}
	if _, err := io.ReadFull(random, h.dummy.salt); err != nil {
		return nil, fmt.Errorf("passwords: read salt: %w", err)
	}
	if _, err := io.ReadFull(random, h.dummy.key); err != nil {
		return nil, fmt.Errorf("passwords: read dummy key: %w", err)
	}
	return h, nil
}

// Params returns the parameters h hashes with.
func (h *Hasher) Params() Params { return h.params }

var std = sync.OnceValue(func() *Hasher {
	h, err := New(DefaultParams(), nil)
	if err != nil {
		panic(err) // DefaultParams are within bounds; crypto/rand does not fail
	}
	return h
})

// Default returns the shared Hasher with DefaultParams.
func Default() *Hasher { return std() }

// Hash hashes password with the default parameters; see Hasher.Hash.
func Hash(password string) (string, error) { return std().Hash(password) }

// Verify checks password against a stored hash; see Hasher.Verify.
func Verify(password, encoded string) (ok, needsRehash bool, err error) {
	return std().Verify(password, encoded)
}

// DummyVerify spends the time of a failed Verify; see Hasher.DummyVerify.
func DummyVerify(password string) { std().DummyVerify(password) }

// Hash returns the PHC string of password with a fresh random salt. It
// does not apply the policy: call Check first where a person chooses the
// password. It refuses only what cannot be a password at all: the empty
// string, invalid UTF-8 and input above MaxBytes.
func (h *Hasher) Hash(password string) (string, error) {
	switch {
	case password == "":
		return "", errs.Invalid(field, "must not be empty")
	case len(password) > MaxBytes:
		return "", errs.Invalid(field, msgTooLong, MaxLength)
	case !utf8.ValidString(password):
		return "", errs.Invalid(field, msgNotText)
	}

	salt := make([]byte, h.params.SaltLen)
	if _, err := io.ReadFull(h.random, salt); err != nil {
		return "", errs.Wrap(errs.Internal, err, "cannot hash the password")
	}
	pw := []byte(norm.NFKC.String(password))
	key := derive(pw, salt, h.params.Time, h.params.Memory, h.params.Threads, h.params.KeyLen)
	return phc{params: h.params, salt: salt, key: key}.String(), nil
}

// Verify reports whether password matches the stored PHC string encoded.
//
// needsRehash is true only when the password matched and the stored hash
// was made with other parameters (cost, salt or key size) than h's: the
// caller should then store h.Hash(password) while it still has the plain
// text. err is set only when encoded is malformed or out of bounds; that is
// a fault of the stored record, reported as errs.Internal with ErrMalformed
// as cause, never a wrong password.
//
// The key comparison is constant-time. A malformed record still costs the
// time of a real verification (see DummyVerify), so a broken account is not
// told apart from a wrong password by timing.
func (h *Hasher) Verify(password, encoded string) (ok, needsRehash bool, err error) {
	stored, err := parsePHC(encoded)
	if err != nil {
		h.DummyVerify(password)
		return false, false, errs.Wrap(errs.Internal, err, "stored password hash is unusable")
	}
	ok = h.matches(password, stored)
	return ok, ok && stored.params != h.params, nil
}

// DummyVerify does the work of a Verify against a hash with h's own
// parameters, and discards the result.
//
// Login calls it when no account has the name given (and for accounts that
// have no password). Without it, an unknown name would be answered in
// microseconds and a known one only after a full Argon2id derivation, and
// that difference alone tells an attacker which names exist. It costs the
// same as Verify of a hash with h's parameters; a stored hash with older
// parameters costs what those parameters cost until login rehashes it.
func (h *Hasher) DummyVerify(password string) {
	h.matches(password, h.dummy)
}

// matches derives a key from password with the stored salt and parameters
// and compares it with the stored key in constant time. Input above
// MaxBytes never matches, but still costs one full derivation (of its
// first MaxBytes bytes) so that its timing matches any other failure; it
// is refused, never truncated to a match.
func (h *Hasher) matches(password string, s phc) bool {
	tooLong := len(password) > MaxBytes
	if tooLong {
		password = password[:MaxBytes]
	}
	pw := []byte(norm.NFKC.String(password))
	p := s.params
	key := derive(pw, s.salt, p.Time, p.Memory, p.Threads, uint32(len(s.key)))
	eq := subtle.ConstantTimeCompare(key, s.key) == 1
	return eq && !tooLong
}

// derivations admits as many Argon2id derivations at once as the process
// has cores; the others wait their turn, first come first served.
//
// A derivation is pure CPU work holding Params.Memory of RAM. Run all at
// once, sixteen concurrent sign-ins on two cores each take eight times as
// long and hold sixteen blocks of memory together, and the scheduler's
// time slicing spreads their finishing times; in turn, each takes its own
// time after a wait in line, the memory held is bounded by the cores, and
// the latest finishes no later than it would have anyway.
var derivations = make(chan struct{}, max(runtime.GOMAXPROCS(0), 1))

// derive is argon2.IDKey, admitted through derivations.
func derive(pw, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte {
	derivations <- struct{}{}
	defer func() { <-derivations }()
	return argon2.IDKey(pw, salt, time, memory, threads, keyLen)
}
