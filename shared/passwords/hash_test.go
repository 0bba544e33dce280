package passwords

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/wardhq/ward/shared/errs"
)

// cheap parameters keep the tests fast; they are below New's floor, so
// only newHasher accepts them.
var cheap = Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func cheapHasher(t testing.TB, p Params) *Hasher {
	t.Helper()
	h, err := newHasher(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// Reference vectors of the Argon2 reference implementation (its test
// suite, argon2id, version 0x13): password "password", salt "somesalt".
var referenceHashes = []string{
	"$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
	"$argon2id$v=19$m=256,t=2,p=2$c29tZXNhbHQ$bQk8UB/VmZZF4Oo79iDXuL5/0ttZwg2f/5U52iv1cDc",
}

func TestVerifyReferenceVectors(t *testing.T) {
	h := cheapHasher(t, cheap)
	for _, enc := range referenceHashes {
		ok, rehash, err := h.Verify("password", enc)
		if err != nil || !ok || !rehash {
			t.Errorf("Verify(right, %s) = %v, %v, %v; want true, true (other params), nil",
				enc, ok, rehash, err)
		}
		ok, rehash, err = h.Verify("Password", enc)
		if err != nil || ok || rehash {
			t.Errorf("Verify(wrong, %s) = %v, %v, %v; want false, false, nil", enc, ok, rehash, err)
		}
	}
}

func TestHashDefaultRoundTrip(t *testing.T) {
	enc, err := Hash("seven quiet otters")
	if err != nil {
		t.Fatal(err)
	}
	if want := "$argon2id$v=19$m=19456,t=2,p=1$"; !strings.HasPrefix(enc, want) {
		t.Fatalf("Hash = %q, want prefix %q", enc, want)
	}
	stored, err := parsePHC(enc)
	if err != nil {
		t.Fatal(err)
	}
	if stored.params != DefaultParams() {
		t.Fatalf("stored params = %+v, want %+v", stored.params, DefaultParams())
	}

	ok, rehash, err := Verify("seven quiet otters", enc)
	if err != nil || !ok || rehash {
		t.Fatalf("Verify(right) = %v, %v, %v; want true, false, nil", ok, rehash, err)
	}
	ok, rehash, err = Verify("seven quiet otter", enc)
	if err != nil || ok || rehash {
		t.Fatalf("Verify(wrong) = %v, %v, %v; want false, false, nil", ok, rehash, err)
	}
}

func TestVerifyWrongPasswords(t *testing.T) {
	h := cheapHasher(t, cheap)
	enc, err := h.Hash("seven quiet otters")
	if err != nil {
		t.Fatal(err)
	}
	for _, wrong := range []string{"", "seven quiet otters ", "Seven quiet otters",
		"seven quiet otter", "seven quiet otters\x00", strings.Repeat("x", MaxBytes+1)} {
		if ok, _, err := h.Verify(wrong, enc); ok || err != nil {
			t.Errorf("Verify(%.20q…) = %v, %v; want false, nil", wrong, ok, err)
		}
	}
}

func TestHashesAreSalted(t *testing.T) {
	h := cheapHasher(t, cheap)
	a, err := h.Hash("seven quiet otters")
	if err != nil {
		t.Fatal(err)
	}
	b, err := h.Hash("seven quiet otters")
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Fatalf("two hashes of one password are equal: %s", a)
	}
	pa, _ := parsePHC(a)
	pb, _ := parsePHC(b)
	if bytes.Equal(pa.salt, pb.salt) {
		t.Fatal("two hashes share a salt")
	}
	for _, enc := range []string{a, b} {
		if ok, _, err := h.Verify("seven quiet otters", enc); !ok || err != nil {
			t.Fatalf("Verify(%s) = %v, %v; want true, nil", enc, ok, err)
		}
	}
}

// constReader yields the same byte forever.
type constReader byte

func (c constReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(c)
	}
	return len(p), nil
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("no entropy") }

func TestHashTakesSaltFromInjectedRandom(t *testing.T) {
	h, err := newHasher(cheap, constReader(7))
	if err != nil {
		t.Fatal(err)
	}
	enc, err := h.Hash("seven quiet otters")
	if err != nil {
		t.Fatal(err)
	}
	stored, _ := parsePHC(enc)
	if !bytes.Equal(stored.salt, bytes.Repeat([]byte{7}, 16)) {
		t.Fatalf("salt = %x, want sixteen 07 bytes", stored.salt)
	}

	h.random = failingReader{}
	_, err = h.Hash("seven quiet otters")
	if errs.CodeOf(err) != errs.Internal {
		t.Fatalf("Hash with a failing random source = %v, want an internal error", err)
	}
	if _, err := newHasher(cheap, failingReader{}); err == nil {
		t.Fatal("newHasher with a failing random source succeeded")
	}
}

func TestHashRefusesWhatCannotBeAPassword(t *testing.T) {
	h := cheapHasher(t, cheap)
	for _, pw := range []string{"", "otters\xff", strings.Repeat("a", MaxBytes+1)} {
		_, err := h.Hash(pw)
		if !errors.Is(err, errs.ErrInvalidArgument) {
			t.Errorf("Hash(%.20q…) = %v, want an invalid-argument error", pw, err)
		}
	}
	if _, err := h.Hash(strings.Repeat("a", MaxBytes)); err != nil {
		t.Errorf("Hash of MaxBytes bytes = %v, want nil", err)
	}
}

func TestVerifyNormalises(t *testing.T) {
	h := cheapHasher(t, cheap)
	enc, err := h.Hash("cafe\u0301 \ufb01sh") // decomposed é, "fi" ligature
	if err != nil {
		t.Fatal(err)
	}
	if ok, _, err := h.Verify("caf\u00e9 fish", enc); !ok || err != nil {
		t.Fatalf("Verify of the NFKC-equal form = %v, %v; want true, nil", ok, err)
	}
}

func TestVerifyRefusesOverlongInput(t *testing.T) {
	h := cheapHasher(t, cheap)
	pw := strings.Repeat("a", MaxBytes)
	enc, err := h.Hash(pw)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _, _ := h.Verify(pw, enc); !ok {
		t.Fatal("Verify of a MaxBytes password failed")
	}
	// The first MaxBytes bytes match; the whole does not: no truncation.
	if ok, _, _ := h.Verify(pw+"b", enc); ok {
		t.Fatal("Verify matched a password longer than MaxBytes by its prefix")
	}
}

func TestNeedsRehash(t *testing.T) {
	old := cheapHasher(t, cheap)
	enc, err := old.Hash("seven quiet otters")
	if err != nil {
		t.Fatal(err)
	}

	moreTime, longerSalt := cheap, cheap
	moreTime.Time = 2
	longerSalt.SaltLen = 24
	tests := []struct {
		name       string
		h          *Hasher
		pw         string
		wantOK     bool
		wantRehash bool
	}{
		{"same parameters", old, "seven quiet otters", true, false},
		{"more passes", cheapHasher(t, moreTime), "seven quiet otters", true, true},
		{"longer salt", cheapHasher(t, longerSalt), "seven quiet otters", true, true},
		{"wrong password never asks for a rehash", cheapHasher(t, moreTime), "otters", false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ok, rehash, err := tc.h.Verify(tc.pw, enc)
			if err != nil || ok != tc.wantOK || rehash != tc.wantRehash {
				t.Fatalf("Verify = %v, %v, %v; want %v, %v, nil", ok, rehash, err, tc.wantOK, tc.wantRehash)
			}
		})
	}
}

func TestNewParameterBounds(t *testing.T) {
	with := func(f func(*Params)) Params {
		p := DefaultParams()
		f(&p)
		return p
	}
	tests := []struct {
		name string
		p    Params
		ok   bool
	}{
		{"defaults", DefaultParams(), true},
		{"OWASP 46 MiB, t=1", with(func(p *Params) { p.Memory, p.Time = 47104, 1 }), true},
		{"OWASP 12 MiB, t=3", with(func(p *Params) { p.Memory, p.Time = 12288, 3 }), true},
		{"OWASP 9 MiB, t=4", with(func(p *Params) { p.Memory, p.Time = 9216, 4 }), true},
		{"OWASP 7 MiB, t=5", with(func(p *Params) { p.Memory, p.Time = 7168, 5 }), true},
		{"RFC 9106 64 MiB, t=3, p=4",
			with(func(p *Params) { p.Memory, p.Time, p.Threads = 65536, 3, 4 }), true},
		{"too little memory", with(func(p *Params) { p.Memory, p.Time = 4096, 10 }), false},
		{"too little work", with(func(p *Params) { p.Time = 1 }), false},
		{"too much memory", with(func(p *Params) { p.Memory = maxMemory + 1; p.Time = 1 }), false},
		{"too much work", with(func(p *Params) { p.Memory, p.Time = maxMemory, 3 }), false},
		{"too many passes", with(func(p *Params) { p.Memory, p.Time = 8192, maxTime+1 }), false},
		{"no lanes", with(func(p *Params) { p.Threads = 0 }), false},
		{"too many lanes", with(func(p *Params) { p.Threads = maxThreads + 1 }), false},
		{"short salt", with(func(p *Params) { p.SaltLen = 8 }), false},
		{"huge salt", with(func(p *Params) { p.SaltLen = maxSaltLen + 1 }), false},
		{"short key", with(func(p *Params) { p.KeyLen = 8 }), false},
		{"huge key", with(func(p *Params) { p.KeyLen = maxKeyLen + 1 }), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err := New(tc.p, nil)
			if (err == nil) != tc.ok {
				t.Fatalf("New(%+v) error = %v, want ok = %v", tc.p, err, tc.ok)
			}
			if err == nil && h.Params() != tc.p {
				t.Fatalf("Params() = %+v, want %+v", h.Params(), tc.p)
			}
		})
	}
}

func TestDummyVerify(t *testing.T) {
	h := cheapHasher(t, cheap)
	// The dummy must cost what a real hash with h's parameters costs.
	if h.dummy.params != h.params {
		t.Fatalf("dummy params = %+v, want %+v", h.dummy.params, h.params)
	}
	if len(h.dummy.salt) != int(cheap.SaltLen) || len(h.dummy.key) != int(cheap.KeyLen) {
		t.Fatalf("dummy salt/key = %d/%d bytes", len(h.dummy.salt), len(h.dummy.key))
	}
	if bytes.Equal(h.dummy.key, make([]byte, cheap.KeyLen)) {
		t.Fatal("dummy key is all zero; it must be random")
	}
	for _, pw := range []string{"", "password", "seven quiet otters"} {
		if h.matches(pw, h.dummy) {
			t.Fatalf("a password matched the dummy hash")
		}
	}
	h.DummyVerify("seven quiet otters")
	DummyVerify("seven quiet otters")

	// Two hashers get different dummies.
	if other := cheapHasher(t, cheap); bytes.Equal(other.dummy.key, h.dummy.key) {
		t.Fatal("two hashers share a dummy key")
	}
}

// Verify of a malformed record reports an internal error with
// ErrMalformed as cause; the wrong-password answer is never an error.
func TestVerifyMalformedRecord(t *testing.T) {
	h := cheapHasher(t, cheap)
	argon2i := strings.Replace(referenceHashes[0], "argon2id", "argon2i", 1)
	ok, rehash, err := h.Verify("password", argon2i)
	if ok || rehash {
		t.Fatalf("Verify of a malformed record = %v, %v; want false, false", ok, rehash)
	}
	if errs.CodeOf(err) != errs.Internal || !errors.Is(err, ErrMalformed) {
		t.Fatalf("Verify error = %v, want internal with ErrMalformed", err)
	}
	if pub := errs.Public(err); strings.Contains(pub.Error(), "argon2") {
		t.Fatalf("public error %q leaks the cause", pub)
	}
}

// TestConcurrentUse shares one Hasher and the lazily loaded blocklist
// between goroutines; run with -race it checks that neither is written
// after construction.
func TestConcurrentUse(t *testing.T) {
	h := cheapHasher(t, cheap)
	enc, err := h.Hash("seven quiet otters")
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 8)
	for range 8 {
		go func() {
			if err := Check("seven quiet otters drift", Context{}); err != nil {
				errc <- err
				return
			}
			if ok, _, err := h.Verify("seven quiet otters", enc); !ok || err != nil {
				errc <- errors.New("Verify failed")
				return
			}
			h.DummyVerify("x")
			errc <- nil
		}()
	}
	for range 8 {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
}
