package passwords

// Repetitive and sequential strings (SP 800-63B rev. 4, 3.1.1.2: the
// blocklist SHALL include "repetitive or sequential characters").
//
// Two rules, both on the folded password:
//
//   - Runs. A run is three or more characters in a row that repeat
//     ("aaa"), count up or down ("abc", "987") or follow a keyboard row
//     ("qwe", "lkj"). Each run counts as one character; if what is left is
//     shorter than minEffective the password is refused. This catches
//     "aaaaaaaaaaaaaaa", "123456789012345" and "1234abcd5678efgh" without
//     refusing a long password that merely contains "123".
//   - Repeats. A password that is one shorter string written out two or
//     more times ("abcabcabc…", "hunter2hunter2…") is judged by that
//     shorter string: it must itself meet the minimum length and not be on
//     the blocklist.

// minEffective is the fewest characters a password must keep once each run
// counts as one. It is the lowest length SP 800-63B allows for any
// password, so the rule never asks more than the length rules do.
const minEffective = MinLengthMultiFactor

// sequences are the orders a run may follow, forwards or backwards. The
// digit row appears with its 0 at both ends so that "7890" and "9012" are
// runs on a keyboard and on a keypad alike.
var sequences = []string{
	"abcdefghijklmnopqrstuvwxyz",
	"01234567890",
	"!@#$%^&*()",
	"qwertyuiop",
	"asdfghjkl",
	"zxcvbnm",
	"абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
	"йцукенгшщзхъ",
	"фывапролджэ",
	"ячсмитьбю",
}

// step returns the ways in which b can follow a in a run, as a bit set:
// bit 0 when b repeats a, bit 1+2i when b is one step up in sequences[i],
// bit 2+2i when one step down. A run continues while some bit stays set
// from its first pair to its last, so "abc" and "iop" are runs but "ers"
// (up in qwertyuiop, then up in the alphabet) is not.
func step(a, b rune) uint32 {
	if a == b {
		return 1
	}
	return stepBits[[2]rune{a, b}]
}

// stepBits holds the up and down bits of every adjacent pair in
// sequences. It is built once and never written again.
var stepBits = func() map[[2]rune]uint32 {
	m := make(map[[2]rune]uint32)
	for i, seq := range sequences {
		r := []rune(seq)
		for j := 1; j < len(r); j++ {
			m[[2]rune{r[j-1], r[j]}] |= 1 << (1 + 2*i)
			m[[2]rune{r[j], r[j-1]}] |= 1 << (2 + 2*i)
		}
	}
	return m
}()

// effectiveLength returns the number of code points in s when every run of
// three or more characters counts as one.
func effectiveLength(s string) int {
	r := []rune(s)
	n := 0
	for i := 0; i < len(r); {
		end := i + 1
		if end < len(r) {
			if bits := step(r[i], r[end]); bits != 0 {
				for end < len(r) && bits&step(r[end-1], r[end]) != 0 {
					bits &= step(r[end-1], r[end])
					end++
				}
			}
		}
		n++
		if end-i >= 3 {
			i = end
		} else {
			i++
		}
	}
	return n
}

// repeatedUnit returns the shortest string u such that s is u written out
// two or more times, and false when there is none. It runs in linear time
// (the prefix function of Knuth, Morris and Pratt).
func repeatedUnit(s string) (string, bool) {
	r := []rune(s)
	n := len(r)
	if n < 2 {
		return "", false
	}
	pi := make([]int, n)
	for i := 1; i < n; i++ {
		k := pi[i-1]
		for k > 0 && r[i] != r[k] {
			k = pi[k-1]
		}
		if r[i] == r[k] {
			k++
		}
		pi[i] = k
	}
	period := n - pi[n-1]
	if period == n || n%period != 0 {
		return "", false
	}
	return string(r[:period]), true
}
