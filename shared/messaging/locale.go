package messaging

import (
	"strings"

	"github.com/wardhq/ward/shared/errs"
)

// Locale is a language tag in the canonical case of BCP 47 (RFC 5646
// section 2.1.1): "en", "de-CH", "zh-Hant-TW", "sl-rozaj".
type Locale string

// Language returns the primary language subtag: "de" for "de-CH".
func (l Locale) Language() Locale {
	lang, _, _ := strings.Cut(string(l), "-")
	return Locale(lang)
}

// ParseLocale reads a language tag and returns it in canonical case. It
// takes the subset of BCP 47 that picks a text: a language of 2 or 3
// letters, then an optional script (4 letters), an optional region (2
// letters or 3 digits) and variants; "_" is read as "-". Extensions and
// private use ("-u-", "-x-") and grandfathered tags are refused.
func ParseLocale(s string) (Locale, error) {
	bad := errs.Invalid("Locale", "must be a language tag such as en or de-CH")
	if s == "" || len(s) > 35 {
		return "", bad
	}
	subtags := strings.Split(strings.ReplaceAll(s, "_", "-"), "-")

	lang := subtags[0]
	if (len(lang) != 2 && len(lang) != 3) || !isAlpha(lang) {
		return "", bad
	}
	out := []string{strings.ToLower(lang)}
	rest := subtags[1:]

	if len(rest) > 0 && len(rest[0]) == 4 && isAlpha(rest[0]) {
		sc := strings.ToLower(rest[0])
		out = append(out, strings.ToUpper(sc[:1])+sc[1:])
		rest = rest[1:]
	}
	if len(rest) > 0 && ((len(rest[0]) == 2 && isAlpha(rest[0])) ||
		(len(rest[0]) == 3 && isDigits(rest[0]))) {
		out = append(out, strings.ToUpper(rest[0]))
		rest = rest[1:]
	}
	for _, v := range rest {
		if !isVariant(v) {
			return "", bad
		}
		out = append(out, strings.ToLower(v))
	}
	return Locale(strings.Join(out, "-")), nil
}

// isVariant reports whether v is a variant subtag: 5 to 8 letters or digits,
// or a digit and 3 letters or digits.
func isVariant(v string) bool {
	if !isAlnum(v) {
		return false
	}
	return (len(v) >= 5 && len(v) <= 8) || (len(v) == 4 && v[0] >= '0' && v[0] <= '9')
}

func isAlpha(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return s != ""
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func isAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9') && !((c|0x20) >= 'a' && (c|0x20) <= 'z') {
			return false
		}
	}
	return s != ""
}
