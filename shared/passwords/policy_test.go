package passwords

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/wardhq/ward/shared/errs"
)

// prose is long, varied text; its prefixes are passwords of any length up
// to its size that break no pattern rule and are on no list.
const prose = "Seven quiet otters drifted past the old mill at dusk, " +
	"while Margit counted herons; nobody expected the brass lantern " +
	"to flicker twice before the ferry left for Ljubljana. Later, over " +
	"cold plum dumplings, Oskar swore the river hummed in B-flat and " +
	"that his grandmother's clock ran backwards only on Thursdays in June."

func prefix(t *testing.T, n int) string {
	t.Helper()
	r := []rune(prose)
	if n > len(r) {
		t.Fatalf("prose has %d code points, want at least %d", len(r), n)
	}
	return string(r[:n])
}

// emoji returns n distinct four-byte code points that NFKC leaves alone.
func emoji(n int) string {
	r := make([]rune, n)
	for i := range r {
		r[i] = rune(0x1F400 + i)
	}
	return string(r)
}

// wantRule is what a case expects: "" for acceptance, else the message of
// the rule that must refuse it (length messages after formatting).
func checkCase(t *testing.T, pw string, c Context, wantMsg string) {
	t.Helper()
	err := Check(pw, c)
	if wantMsg == "" {
		if err != nil {
			t.Fatalf("Check = %v, want nil", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("Check = nil, want %q", wantMsg)
	}
	if !errors.Is(err, errs.ErrInvalidArgument) {
		t.Fatalf("Check = %v, want an invalid-argument error", err)
	}
	var e *errs.Error
	if !errors.As(err, &e) || e.Field != "password" {
		t.Fatalf("Check = %#v, want field %q", err, "password")
	}
	if e.Message != wantMsg {
		t.Fatalf("message = %q, want %q", e.Message, wantMsg)
	}
	if len(pw) >= 8 && strings.Contains(err.Error(), pw) {
		t.Fatalf("error %q repeats the password", err)
	}
}

var (
	tooShort15 = "must be at least 15 characters long"
	tooShort8  = "must be at least 8 characters long"
	tooLong    = "must be at most 256 characters long"
)

func TestCheckLength(t *testing.T) {
	single, mfa := Context{}, Context{MFA: true}
	tests := []struct {
		name string
		pw   string
		c    Context
		want string
	}{
		{"14 code points are too short alone", prefix(t, 14), single, tooShort15},
		{"15 code points are enough alone", prefix(t, 15), single, ""},
		{"7 code points are too short with MFA", prefix(t, 7), mfa, tooShort8},
		{"8 code points are enough with MFA", prefix(t, 8), mfa, ""},
		{"64 code points are allowed", prefix(t, 64), single, ""},
		{"256 code points are allowed", prefix(t, 256), single, ""},
		{"257 code points are too long", prefix(t, 257), single, tooLong},
		{"the empty password is too short", "", single, tooShort15},
		{"more than MaxBytes bytes are refused before anything else",
			strings.Repeat("é", MaxBytes/2+1), single, tooLong},
		{"length counts code points, not bytes",
			"Žluťoučký kůň úpěl", single, ""},
		{"256 four-byte code points fit", emoji(256), single, ""},
		{"257 four-byte code points do not", emoji(257), single, tooLong},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { checkCase(t, tc.pw, tc.c, tc.want) })
	}
}

func TestCheckCharacters(t *testing.T) {
	tests := []struct {
		name string
		pw   string
		want string
	}{
		{"spaces and punctuation are allowed", "a cat, a hat & 3 bats?", ""},
		{"only lower-case letters are allowed: no composition rules",
			"quiet otters drift past", ""},
		{"emoji and other scripts are allowed", "🦊 прыгает через 🌙 luna", ""},
		{"a tab is refused", "quiet otters\tdrift past", msgControl},
		{"a line break is refused", "quiet otters\ndrift past", msgControl},
		{"NUL is refused", "quiet otters\x00drift past", msgControl},
		{"a C1 control is refused", "quiet otters\u0085drift past", msgControl},
		{"invalid UTF-8 is refused", "quiet otters drift past\xff", msgNotText},
		{"only spaces are refused as a run", strings.Repeat(" ", 20), msgSequence},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { checkCase(t, tc.pw, Context{}, tc.want) })
	}
}

func TestCheckNormalisation(t *testing.T) {
	// U+FB01 (the "fi" ligature) is one code point that NFKC turns into two.
	ligature := "\ufb01ne otters jam"
	if n := utf8.RuneCountInString(ligature); n != 14 {
		t.Fatalf("ligature case has %d code points before NFKC, want 14", n)
	}
	// "e" + U+0301 is two code points that NFKC composes into one "é".
	decomposed := "cafe\u0301 otter jam"
	if n := utf8.RuneCountInString(decomposed); n != 15 {
		t.Fatalf("decomposed case has %d code points before NFKC, want 15", n)
	}

	tests := []struct {
		name string
		pw   string
		c    Context
		want string
	}{
		{"a ligature counts as the letters it stands for", ligature, Context{}, ""},
		{"a combining accent joins its letter", decomposed, Context{}, tooShort15},
		{"full-width letters fold onto the blocklist",
			"ｐａｓｓｗｏｒｄ１２３４", Context{MFA: true}, msgCommon},
		{"a no-break space counts as a space",
			"quiet\u00a0otters drift", Context{}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { checkCase(t, tc.pw, tc.c, tc.want) })
	}
}

func TestCheckBlocklist(t *testing.T) {
	tests := []struct {
		name string
		pw   string
		c    Context
		want string
	}{
		{"a listed password is refused", "password1234", Context{MFA: true}, msgCommon},
		{"the match ignores case", "PassWord1234", Context{MFA: true}, msgCommon},
		{"a long listed password is refused alone", "1q2w3e4r5t6y7u8i9o0p", Context{}, msgCommon},
		{"an unlisted variant passes", "password1234 plus otters", Context{}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { checkCase(t, tc.pw, tc.c, tc.want) })
	}
}

func TestCheckPatterns(t *testing.T) {
	single, mfa := Context{}, Context{MFA: true}
	tests := []struct {
		name string
		pw   string
		c    Context
		want string
	}{
		{"one repeated character", "aaaaaaaaaaaaaaa", single, msgSequence},
		{"digits counting up through 0", "123456789012345", single, msgSequence},
		{"letters counting down", "zyxwvutsrqponmlk", single, msgSequence},
		{"keyboard rows", "qwertyuiopasdfghjkl", single, msgSequence},
		{"several short runs", "1234abcd5678efgh", single, msgSequence},
		{"Cyrillic alphabet", "абвгдеёжзийклмнопр", single, msgSequence},
		{"a short unit repeated", "abcabcabcabcabc", single, msgSequence},
		{"a unit below the minimum repeated", "Tr0ub4dor&3Tr0ub4dor&3", single, msgRepeated},
		{"the same unit is long enough with MFA", "Tr0ub4dor&3Tr0ub4dor&3", mfa, ""},
		{"a listed unit repeated", "hunter2hunter2", mfa, msgRepeated},
		{"a unit that passes on its own may repeat",
			"quiet otters drift! quiet otters drift! ", single, ""},
		{"a few short runs inside a long password pass", "MyDog123IsCute!!", single, ""},
		{"a run of three in random text passes", "x7Kabc9#mQ2pL7vB", single, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { checkCase(t, tc.pw, tc.c, tc.want) })
	}
}

func TestCheckContext(t *testing.T) {
	tests := []struct {
		name string
		pw   string
		c    Context
		want string
	}{
		{"the username plus a little",
			"alice.smith-2024-spring", Context{Username: "alice.smith"}, msgContext},
		{"a part of the username plus a little",
			"Smith, Spring 2024!", Context{Username: "alice.smith"}, msgContext},
		{"the email local part plus a little, any case",
			"Bob.Jones!Summer", Context{MFA: true, Email: "bob.jones@example.com"}, msgContext},
		{"the email domain is not a context word",
			"example otters drift past", Context{Email: "bob.jones@example.com"}, ""},
		{"the tenant name plus a little",
			"acme corporation rocks", Context{TenantName: "Acme Corporation"}, msgContext},
		{"nothing but the username",
			"maximilian.schwarzenegger", Context{Username: "maximilian.schwarzenegger"}, msgContext},
		{"the username plus a listed password, with MFA",
			"AlicePassword1", Context{MFA: true, Username: "alice"}, msgContext},
		{"an extra word from the caller",
			"wardhq-login-2025", Context{Words: []string{"WardHQ"}}, msgContext},
		{"a context word inside a long passphrase passes",
			"planning an annual banana harvest", Context{Username: "ann"}, ""},
		{"context words under three code points are ignored",
			"always alert, always kind", Context{Username: "al"}, ""},
		{"unrelated context changes nothing", prefix(t, 20),
			Context{Username: "zoe", Email: "zoe@example.org", TenantName: "Globex"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { checkCase(t, tc.pw, tc.c, tc.want) })
	}
}

func TestContextWords(t *testing.T) {
	c := Context{Username: "ann.lee", Email: "Ann.Lee+work@Example.com", TenantName: "Ab Ltd",
		Words: []string{" Orbit "}}
	got := c.words()
	want := []string{"ann.lee+work", "ann.lee", "ab ltd", "orbit", "work", "ann", "lee", "ltd"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("words() = %q, want %q", got, want)
	}
}

func TestEffectiveLength(t *testing.T) {
	tests := []struct {
		s    string
		want int
	}{
		{"", 0},
		{"a", 1},
		{"ab", 2},
		{"abc", 1},
		{"aab", 3},
		{"abcx", 2},
		{"aaabbb", 2},
		{"abcba", 3}, // "abc" then "b", "a": the turn starts no run of three
		{"7890123", 1},
		{"qazwsx", 6},
		{"otters", 6}, // "ers" climbs two different sequences: no run
		{"nopq", 1},
		{"uiop", 1},
	}
	for _, tc := range tests {
		if got := effectiveLength(tc.s); got != tc.want {
			t.Errorf("effectiveLength(%q) = %d, want %d", tc.s, got, tc.want)
		}
	}
}

func TestRepeatedUnit(t *testing.T) {
	tests := []struct {
		s      string
		unit   string
		repeat bool
	}{
		{"", "", false},
		{"a", "", false},
		{"aa", "a", true},
		{"abab", "ab", true},
		{"ababa", "", false},
		{"abcabcabc", "abc", true},
		{"éöéöéö", "éö", true},
		{"abcab", "", false},
	}
	for _, tc := range tests {
		u, ok := repeatedUnit(tc.s)
		if u != tc.unit || ok != tc.repeat {
			t.Errorf("repeatedUnit(%q) = %q, %v; want %q, %v", tc.s, u, ok, tc.unit, tc.repeat)
		}
	}
}

// FuzzCheck checks that Check never panics and that every refusal is one
// of the fixed messages, so no part of a password can reach a response.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{"", "password1234", "aaaaaaaaaaaaaaa", "alice.smith-2024-spring",
		"\ufb01ne otters jam", "quiet otters\tdrift past", "\xff\xfe", prose} {
		f.Add(s, false)
		f.Add(s, true)
	}
	fixed := map[string]bool{
		tooShort15: true, tooShort8: true, tooLong: true, msgNotText: true, msgControl: true,
		msgCommon: true, msgRepeated: true, msgSequence: true, msgContext: true,
	}
	f.Fuzz(func(t *testing.T, pw string, mfa bool) {
		err := Check(pw, Context{MFA: mfa, Username: "alice.smith", TenantName: "Acme"})
		if err == nil {
			return
		}
		var e *errs.Error
		if !errors.As(err, &e) || e.Code != errs.InvalidArgument || e.Field != "password" {
			t.Fatalf("Check = %#v, want an invalid-argument error for field password", err)
		}
		if !fixed[e.Message] {
			t.Fatalf("Check message %q is not one of the fixed messages", e.Message)
		}
	})
}
