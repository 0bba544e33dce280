package passwords

import (
	"bytes"
	"compress/gzip"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestEmbeddedBlocklist(t *testing.T) {
	l, err := loadBlocklist()
	if err != nil {
		t.Fatal(err)
	}
	// generate.sh reported 21,648 entries; a much smaller list means the
	// file was truncated or replaced.
	if len(l) < 20000 {
		t.Fatalf("blocklist has %d entries, want at least 20000", len(l))
	}
	for i, s := range l {
		n := utf8.RuneCountInString(s)
		switch {
		case !utf8.ValidString(s):
			t.Fatalf("entry %d is not UTF-8", i)
		case n < MinLengthMultiFactor || n > MaxLength:
			t.Fatalf("entry %d (%q) has %d code points, outside %d..%d",
				i, s, n, MinLengthMultiFactor, MaxLength)
		case fold(s) != s:
			t.Fatalf("entry %d (%q) is not folded; Check could never match it", i, s)
		case strings.IndexFunc(s, unicode.IsControl) >= 0:
			t.Fatalf("entry %d (%q) has a control character", i, s)
		}
	}
	for _, s := range []string{"password", "12345678", "iloveyou", "1q2w3e4r5t6y7u8i9o0p"} {
		if !l.has(s) {
			t.Errorf("blocklist lacks %q", s)
		}
	}
	for _, s := range []string{"", "password ", "Password", "zz seven quiet otters"} {
		if l.has(s) {
			t.Errorf("blocklist has %q", s)
		}
	}
}

func gz(t *testing.T, text string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(text))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestParseBlocklistRefusesBrokenLists(t *testing.T) {
	tests := []struct {
		name string
		data []byte
	}{
		{"not gzip", []byte("password1\n")},
		{"empty", gz(t, "")},
		{"no final newline", gz(t, "aaaaaaaa\nbbbbbbbb")},
		{"unsorted", gz(t, "bbbbbbbb\naaaaaaaa\n")},
		{"duplicate", gz(t, "aaaaaaaa\naaaaaaaa\n")},
		{"truncated gzip", gz(t, "aaaaaaaa\nbbbbbbbb\n")[:20]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if l, err := parseBlocklist(tc.data); err == nil {
				t.Fatalf("parseBlocklist = %d entries, nil error; want an error", len(l))
			}
		})
	}

	l, err := parseBlocklist(gz(t, "aaaaaaaa\nbbbbbbbb\n"))
	if err != nil || len(l) != 2 || !l.has("bbbbbbbb") || l.has("cccccccc") {
		t.Fatalf("parseBlocklist of a good list = %q, %v", l, err)
	}
}
