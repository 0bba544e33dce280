//go:build ignore

// gen builds blocklist.txt.gz from the two source lists that generate.sh
// unpacks. It folds every entry the way the passwords package folds a
// candidate (NFKC, then lower case), keeps only entries that the length
// rules alone would let through (at least 8 code points, at most 256) and
// that contain no control characters, and writes them sorted, unique, one a
// line, gzip-compressed without a name or time stamp so that the output
// depends on the inputs alone.
//
// Usage: go run gen.go -zxcvbn passwords.json -django common-passwords.txt.gz -out blocklist.txt.gz
package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// The bounds match MinLengthMultiFactor and MaxLength in the package.
const (
	minRunes = 8
	maxRunes = 256
)

func main() {
	zxcvbn := flag.String("zxcvbn", "", "passwords.json from @zxcvbn-ts/language-common")
	django := flag.String("django", "", "common-passwords.txt.gz from Django")
	out := flag.String("out", "blocklist.txt.gz", "output file")
	flag.Parse()
	if *zxcvbn == "" || *django == "" {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*zxcvbn, *django, *out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(zxcvbnPath, djangoPath, outPath string) error {
	a, err := readJSONList(zxcvbnPath)
	if err != nil {
		return err
	}
	b, err := readGzipLines(djangoPath)
	if err != nil {
		return err
	}

	seen := make(map[string]bool)
	var kept []string
	for _, s := range append(a, b...) {
		f := strings.ToLower(norm.NFKC.String(strings.TrimSpace(s)))
		if !keep(f) || seen[f] {
			continue
		}
		seen[f] = true
		kept = append(kept, f)
	}
	slices.Sort(kept)

	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return err
	}
	for _, s := range kept {
		zw.Write([]byte(s))
		zw.Write([]byte{'\n'})
	}
	if err := zw.Close(); err != nil {
		return err
	}
	if err := os.WriteFile(outPath, buf.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Printf("gen: %d + %d source entries, %d kept, %d bytes compressed\n",
		len(a), len(b), len(kept), buf.Len())
	return nil
}

func keep(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	n := utf8.RuneCountInString(s)
	if n < minRunes || n > maxRunes {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

func readJSONList(path string) ([]string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return list, nil
}

func readGzipLines(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var list []string
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		list = append(list, sc.Text())
	}
	return list, sc.Err()
}
