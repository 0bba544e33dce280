package passwords

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// ErrMalformed is the cause (server-side only) of the error Verify returns
// for a stored string that is not an Argon2id PHC string within bounds.
var ErrMalformed = errors.New("passwords: malformed or out-of-bounds argon2id PHC string")

// maxEncodedLen bounds a stored string before it is parsed. The longest
// string within the parameter bounds is about 210 bytes.
const maxEncodedLen = 256

// b64 is the PHC string format's base64: standard alphabet, no padding.
var b64 = base64.RawStdEncoding.Strict()

// phc is a parsed stored hash. params.SaltLen and params.KeyLen are the
// lengths of salt and key, so comparing params with a Hasher's detects a
// change of any of them.
type phc struct {
	params Params
	salt   []byte
	key    []byte
}

// String returns the PHC string: $argon2id$v=19$m=M,t=T,p=P$SALT$KEY.
func (h phc) String() string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, h.params.Memory, h.params.Time, h.params.Threads,
		b64.EncodeToString(h.salt), b64.EncodeToString(h.key))
}

// parsePHC accepts exactly the canonical form that String writes, with
// parameters within the bounds of Params.checkBounds: one algorithm
// (argon2id), one version (19), the parameters m, t, p in that order as
// decimal numbers without sign or leading zeros, no optional fields, and
// salt and key in unpadded standard base64 whose re-encoding is identical
// (so line breaks, padding and stray bits are refused). Anything else is
// an error wrapping ErrMalformed, found without any Argon2 work.
func parsePHC(s string) (phc, error) {
	if len(s) > maxEncodedLen {
		return phc{}, malformed("longer than %d bytes", maxEncodedLen)
	}
	f := strings.Split(s, "$")
	if len(f) != 6 || f[0] != "" {
		return phc{}, malformed("not six $-separated fields")
	}
	if f[1] != "argon2id" {
		return phc{}, malformed("algorithm is not argon2id")
	}
	if f[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return phc{}, malformed("version is not %d", argon2.Version)
	}

	var p Params
	m, t, par, ok := parseCost(f[3])
	if !ok {
		return phc{}, malformed("parameters are not m=<n>,t=<n>,p=<n>")
	}
	if par > maxThreads {
		return phc{}, malformed("p=%d above %d", par, maxThreads)
	}
	p.Memory, p.Time, p.Threads = uint32(m), uint32(t), uint8(par)

	salt, err := decode64(f[4])
	if err != nil {
		return phc{}, malformed("salt: %v", err)
	}
	key, err := decode64(f[5])
	if err != nil {
		return phc{}, malformed("key: %v", err)
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))

	if err := p.checkBounds(); err != nil {
		return phc{}, malformed("%v", err)
	}
	return phc{params: p, salt: salt, key: key}, nil
}

// CheckHash checks that encoded is a hash Verify can use, without any
// Argon2 work: a hash brought from elsewhere (a bulk import) is refused
// here rather than at its user's first sign-in. The error wraps
// ErrMalformed.
func CheckHash(encoded string) error {
	_, err := parsePHC(encoded)
	return err
}

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

// parseCost reads "m=<n>,t=<n>,p=<n>". Each number has at most 10 digits,
// so it fits in a uint64 and the bounds checks that follow see its value.
func parseCost(s string) (m, t, p uint64, ok bool) {
	parts := strings.Split(s, ",")
	if len(parts) != 3 {
		return 0, 0, 0, false
	}
	var out [3]uint64
	for i, name := range []string{"m=", "t=", "p="} {
		digits, found := strings.CutPrefix(parts[i], name)
		if !found {
			return 0, 0, 0, false
		}
		n, ok := parseDecimal(digits)
		if !ok || n > 1<<32-1 {
			return 0, 0, 0, false
		}
		out[i] = n
	}
	return out[0], out[1], out[2], true
}

func parseDecimal(s string) (uint64, bool) {
	if s == "" || len(s) > 10 || (s[0] == '0' && len(s) > 1) {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, true
}

func decode64(s string) ([]byte, error) {
	if len(s) > b64.EncodedLen(max(maxSaltLen, maxKeyLen)) {
		return nil, errors.New("too long")
	}
	b, err := b64.DecodeString(s)
	if err != nil {
		return nil, errors.New("not unpadded base64")
	}
	if b64.EncodeToString(b) != s {
		return nil, errors.New("not canonical base64")
	}
	return b, nil
}
