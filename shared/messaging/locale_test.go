package messaging_test

import (
	"testing"

	"github.com/wardhq/ward/shared/messaging"
	"github.com/wardhq/ward/shared/messaging/messagingtest"
)

func TestParseLocale(t *testing.T) {
	tests := []struct {
		in   string
		want messaging.Locale
		lang messaging.Locale
	}{
		{"en", "en", "en"},
		{"EN", "en", "en"},
		{"de-ch", "de-CH", "de"},
		{"de_CH", "de-CH", "de"},
		{"zh-hant-tw", "zh-Hant-TW", "zh"},
		{"es-419", "es-419", "es"},
		{"sl-rozaj", "sl-rozaj", "sl"},
		{"de-CH-1996", "de-CH-1996", "de"},
		{"gsw", "gsw", "gsw"},
	}
	for _, tt := range tests {
		got, err := messaging.ParseLocale(tt.in)
		if err != nil {
			t.Errorf("ParseLocale(%q): %v", tt.in, err)
			continue
		}
		if got != tt.want || got.Language() != tt.lang {
			t.Errorf("ParseLocale(%q) = %q (language %q), want %q (%q)", tt.in, got,
				got.Language(), tt.want, tt.lang)
		}
	}
	for _, bad := range []string{"", "e", "engl", "en-", "-en", "en--US", "en-US-x-private",
		"en-u-ca-gregory", "de-CH-19", "12", "en US", "en-US\n", "fr-FR-ÿÿÿÿÿ",
		"en-abcdefghi", "en-aaaaa-bbbbb-ccccc-ddddd-eeeee-fffff"} {
		_, err := messaging.ParseLocale(bad)
		messagingtest.WantInvalid(t, err, "Locale")
	}
}
