package passwords

import (
	"errors"
	"strings"
	"testing"
)

const validPHC = "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$" +
	"nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4"

func TestParsePHCRoundTrip(t *testing.T) {
	for _, enc := range append([]string{validPHC}, referenceHashes...) {
		h, err := parsePHC(enc)
		if err != nil {
			t.Fatalf("parsePHC(%s) = %v", enc, err)
		}
		if got := h.String(); got != enc {
			t.Fatalf("String() = %s, want %s", got, enc)
		}
	}
	h, _ := parsePHC(validPHC)
	want := Params{Memory: 256, Time: 2, Threads: 1, SaltLen: 8, KeyLen: 32}
	if h.params != want || string(h.salt) != "somesalt" {
		t.Fatalf("parsed %+v salt %q, want %+v salt %q", h.params, h.salt, want, "somesalt")
	}
}

func TestParsePHCRefuses(t *testing.T) {
	salt16 := "AAAAAAAAAAAAAAAAAAAAAA" // 16 zero bytes
	key32 := "nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4"
	with := func(cost string) string { return "$argon2id$v=19$" + cost + "$" + salt16 + "$" + key32 }
	tests := []struct {
		name string
		enc  string
	}{
		{"empty", ""},
		{"only a dollar", "$"},
		{"no leading dollar", strings.TrimPrefix(validPHC, "$")},
		{"argon2i", strings.Replace(validPHC, "argon2id", "argon2i", 1)},
		{"argon2d", strings.Replace(validPHC, "argon2id", "argon2d", 1)},
		{"upper-case algorithm", strings.Replace(validPHC, "argon2id", "ARGON2ID", 1)},
		{"bcrypt", "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW"},
		{"version 16", strings.Replace(validPHC, "v=19", "v=16", 1)},
		{"version missing", strings.Replace(validPHC, "$v=19", "", 1)},
		{"parameters reordered", strings.Replace(validPHC, "m=256,t=2,p=1", "t=2,m=256,p=1", 1)},
		{"parameter missing", strings.Replace(validPHC, "m=256,t=2,p=1", "m=256,t=2", 1)},
		{"extra parameter", strings.Replace(validPHC, "p=1", "p=1,keyid=abc", 1)},
		{"spaces", strings.Replace(validPHC, "m=256,t=2", "m=256, t=2", 1)},
		{"leading zero", strings.Replace(validPHC, "m=256", "m=0256", 1)},
		{"sign", strings.Replace(validPHC, "t=2", "t=+2", 1)},
		{"hex", strings.Replace(validPHC, "m=256", "m=0x100", 1)},
		{"number too long", strings.Replace(validPHC, "m=256", "m=00000000000256", 1)},
		{"number above 32 bits", strings.Replace(validPHC, "m=256", "m=4294967296", 1)},
		{"empty number", strings.Replace(validPHC, "t=2", "t=", 1)},
		{"zero passes", strings.Replace(validPHC, "t=2", "t=0", 1)},
		{"too many passes", strings.Replace(validPHC, "t=2", "t=17", 1)},
		{"zero lanes", strings.Replace(validPHC, "p=1", "p=0", 1)},
		{"too many lanes", strings.Replace(validPHC, "p=1", "p=9", 1)},
		{"lanes that wrap a byte", strings.Replace(validPHC, "p=1", "p=257", 1)},
		{"memory below 8 per lane", strings.Replace(validPHC, "m=256,t=2,p=1", "m=15,t=2,p=2", 1)},
		{"4 GiB of memory", with("m=4194304,t=1,p=1")},
		{"memory just above the bound", with("m=131073,t=1,p=1")},
		{"work above the bound", with("m=131072,t=3,p=1")},
		{"salt too short", strings.Replace(validPHC, "c29tZXNhbHQ", "c29tZXNhbA", 1)},
		{"salt too long", strings.Replace(validPHC, "c29tZXNhbHQ", strings.Repeat("A", 88), 1)},
		{"key too short", strings.Replace(validPHC, key32, "AAAAAAAAAAAAAAAAAAAA", 1)},
		{"key too long", strings.Replace(validPHC, key32, strings.Repeat("A", 88), 1)},
		{"empty salt", strings.Replace(validPHC, "c29tZXNhbHQ", "", 1)},
		{"empty key", strings.TrimSuffix(validPHC, key32)},
		{"padded base64", validPHC + "="},
		{"URL base64", strings.Replace(validPHC, "/", "_", 1)},
		{"line break in base64", strings.Replace(validPHC, "nf65", "nf\n65", 1)},
		{"carriage return in base64", strings.Replace(validPHC, "c29t", "c2\r9t", 1)},
		{"non-canonical trailing bits", strings.TrimSuffix(validPHC, "4") + "5"},
		{"seven fields", validPHC + "$AAAA"},
		{"trailing dollar", validPHC + "$"},
		{"far too long", validPHC + strings.Repeat("A", 300)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err := parsePHC(tc.enc)
			if err == nil {
				t.Fatalf("parsePHC(%q) = %+v, want an error", tc.enc, h.params)
			}
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("parsePHC error %v does not wrap ErrMalformed", err)
			}
		})
	}
}

// FuzzParsePHC checks that the parser never panics, that what it accepts
// is within bounds, and that it accepts only the canonical form: anything
// it parses prints back to exactly the input.
func FuzzParsePHC(f *testing.F) {
	for _, s := range append([]string{validPHC, "", "$argon2id$v=19$m=,t=,p=$$",
		"$argon2id$v=19$m=19456,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA$" +
			"nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
		"$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ=$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
	}, referenceHashes...) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := parsePHC(s)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if err := h.params.checkBounds(); err != nil {
			t.Fatalf("accepted %q out of bounds: %v", s, err)
		}
		if got := h.String(); got != s {
			t.Fatalf("accepted non-canonical %q (prints as %q)", s, got)
		}
	})
}
