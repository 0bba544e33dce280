package passwords

import (
	"bytes"
	"compress/gzip"
	_ "embed" // for the go:embed directive below
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
)

// The list of common and breached passwords, folded (NFKC, lower case),
// sorted, unique, one a line. blocklist/README.md names its sources and
// licences and its limits (mainly short, English-language passwords);
// blocklist/generate.sh rebuilds it.
//
//go:embed blocklist/blocklist.txt.gz
var blocklistGz []byte

// maxBlocklistBytes bounds the decompressed list (today about 210 KB).
const maxBlocklistBytes = 16 << 20

// blocklist is a sorted list of folded passwords. Every entry is a
// substring of one decompressed string, so it costs a string header each
// on top of the text itself (about 550 KB in all).
type blocklist []string

func (l blocklist) has(folded string) bool {
	_, found := slices.BinarySearch(l, folded)
	return found
}

// loadBlocklist decompresses the embedded list on first use, once per
// process: a function instance that never sets a password never pays.
var loadBlocklist = sync.OnceValues(func() (blocklist, error) {
	return parseBlocklist(blocklistGz)
})

// parseBlocklist reads a gzip-compressed list and checks that it is
// sorted and unique, which the binary search relies on.
func parseBlocklist(gz []byte) (blocklist, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, fmt.Errorf("passwords: blocklist: %w", err)
	}
	raw, err := io.ReadAll(io.LimitReader(zr, maxBlocklistBytes+1))
	if err != nil {
		return nil, fmt.Errorf("passwords: blocklist: %w", err)
	}
	if len(raw) > maxBlocklistBytes {
		return nil, fmt.Errorf("passwords: blocklist: larger than %d bytes", maxBlocklistBytes)
	}
	text, ok := strings.CutSuffix(string(raw), "\n")
	if !ok || text == "" {
		return nil, fmt.Errorf("passwords: blocklist: empty or not newline-terminated")
	}
	l := blocklist(strings.Split(text, "\n"))
	for i := 1; i < len(l); i++ {
		if l[i-1] >= l[i] {
			return nil, fmt.Errorf("passwords: blocklist: not sorted and unique at line %d", i+1)
		}
	}
	return l, nil
}
