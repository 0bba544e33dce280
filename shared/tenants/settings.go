package tenants

import (
	"math"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
)

// Bounds of a tenant's sign-in settings.
const (
	MinSessionSeconds  = 60
	MaxSessionSeconds  = 30 * 24 * 3600 // a session lives at most 30 days
	MaxLockoutSeconds  = 24 * 3600
	MaxLockoutFailures = 100
	MaxStepUpRules     = 32
	MaxReturnOrigins   = 32
	maxURLBytes        = 2048
)

var (
	transactionRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9._-]{0,63}$`)
	acrRE         = regexp.MustCompile(`^[A-Za-z0-9:._/-]{1,128}$`)
	colorRE       = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)
)

// CheckAuth checks a tenant's sign-in settings; the zero value is valid
// (Ward's defaults). Errors name the field under "auth.".
func CheckAuth(a store.AuthSettings) error {
	switch a.MFA {
	case "", store.MFAOptional, store.MFARequired, store.MFAAdaptive:
	default:
		return errs.Invalid("auth.mfa", "must be one of OPTIONAL, REQUIRED, ADAPTIVE")
	}
	for i, f := range a.Factors {
		if !slices.Contains(store.FactorTypes, f) {
			return errs.Invalid("auth.factors", "unknown factor type %q", f)
		}
		if slices.Index(a.Factors, f) != i {
			return errs.Invalid("auth.factors", "factor type %s listed twice", f)
		}
	}
	if a.RiskThreshold < 0 || a.RiskThreshold > 100 {
		return errs.Invalid("auth.riskThreshold", "must be 1 to 100, or 0 for the default")
	}
	if err := seconds("auth.sessionIdleSeconds", a.SessionIdleSeconds, MinSessionSeconds,
		MaxSessionSeconds); err != nil {
		return err
	}
	if err := seconds("auth.sessionMaxSeconds", a.SessionMaxSeconds, MinSessionSeconds,
		MaxSessionSeconds); err != nil {
		return err
	}
	if a.SessionIdleSeconds != 0 && a.SessionMaxSeconds != 0 &&
		a.SessionIdleSeconds > a.SessionMaxSeconds {
		return errs.Invalid("auth.sessionIdleSeconds", "must not exceed sessionMaxSeconds")
	}
	if a.LockoutThreshold < 0 || a.LockoutThreshold > MaxLockoutFailures {
		return errs.Invalid("auth.lockoutThreshold", "must be 1 to %d, or 0 for the default",
			MaxLockoutFailures)
	}
	if err := seconds("auth.lockoutSeconds", a.LockoutSeconds, 1, MaxLockoutSeconds); err != nil {
		return err
	}
	if len(a.StepUp) > MaxStepUpRules {
		return errs.Invalid("auth.stepUp", "at most %d rules", MaxStepUpRules)
	}
	for _, r := range a.StepUp {
		if !transactionRE.MatchString(r.Transaction) {
			return errs.Invalid("auth.stepUp.transaction",
				"must be a letter, then letters, digits, '.', '_' or '-', at most 64")
		}
		if math.IsNaN(r.MinValue) || math.IsInf(r.MinValue, 0) || r.MinValue < 0 {
			return errs.Invalid("auth.stepUp.minValue", "must be a finite number, 0 or more")
		}
		if r.ACR != "" && !acrRE.MatchString(r.ACR) {
			return errs.Invalid("auth.stepUp.acr", "must be 1 to 128 URI-safe characters")
		}
		if err := seconds("auth.stepUp.maxAgeSeconds", r.MaxAgeSeconds, 1,
			MaxSessionSeconds); err != nil {
			return err
		}
	}
	switch a.ClientRegistration {
	case "", store.ClientRegistrationClosed, store.ClientRegistrationOpen,
		store.ClientRegistrationToken:
	default:
		return errs.Invalid("auth.clientRegistration", "must be CLOSED, OPEN or TOKEN")
	}
	return checkReturnOrigins(a.ReturnOrigins)
}

// checkReturnOrigins checks the origins a sign-in may return to: each an
// https origin (scheme, host and optional port, nothing else, lower
// case), or an http one of a loopback host for development.
func checkReturnOrigins(origins []string) error {
	if len(origins) > MaxReturnOrigins {
		return errs.Invalid("auth.returnOrigins", "at most %d origins", MaxReturnOrigins)
	}
	for i, o := range origins {
		if !IsOrigin(o) {
			return errs.Invalid("auth.returnOrigins",
				"%q must be an origin such as https://app.example.com, in lower case, "+
					"without a path (http only for localhost and 127.0.0.1)", o)
		}
		if slices.Index(origins, o) != i {
			return errs.Invalid("auth.returnOrigins", "origin %s listed twice", o)
		}
	}
	return nil
}

// IsOrigin reports whether s is an origin as AuthSettings.ReturnOrigins
// keeps them.
func IsOrigin(s string) bool {
	if len(s) > 255 || containsControl(s) || strings.ToLower(s) != s {
		return false
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil || u.Path != "" || u.RawQuery != "" ||
		u.Fragment != "" || strings.HasSuffix(s, "?") || strings.HasSuffix(s, "#") ||
		s != u.Scheme+"://"+u.Host {
		return false
	}
	switch u.Scheme {
	case "https":
		return true
	case "http":
		h := u.Hostname()
		return h == "localhost" || h == "127.0.0.1" || h == "::1"
	}
	return false
}

// seconds checks an optional duration: 0, or min to max.
func seconds(field string, v, min, max int) error {
	if v != 0 && (v < min || v > max) {
		return errs.Invalid(field, "must be %d to %d seconds, or 0 for the default", min, max)
	}
	return nil
}

// CheckBranding checks a tenant's branding: https URLs and #rrggbb
// colours, each optional.
func CheckBranding(b store.Branding) error {
	for field, u := range map[string]string{"branding.logoUrl": b.LogoURL,
		"branding.supportUrl": b.SupportURL, "branding.privacyUrl": b.PrivacyURL} {
		if u != "" && !httpsURL(u) {
			return errs.Invalid(field, "must be an absolute https URL of at most %d bytes",
				maxURLBytes)
		}
	}
	for field, c := range map[string]string{"branding.primaryColor": b.PrimaryColor,
		"branding.backgroundColor": b.BackgroundColor} {
		if c != "" && !colorRE.MatchString(c) {
			return errs.Invalid(field, "must be a colour in #rrggbb form")
		}
	}
	return nil
}

func httpsURL(s string) bool {
	if len(s) > maxURLBytes {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && u.Scheme == "https" && u.Host != "" && u.User == nil &&
		u.Fragment == "" && !containsControl(s)
}

func containsControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] == 0x7f || s[i] == '"' || s[i] == '\'' || s[i] == '<' ||
			s[i] == '>' || s[i] == '\\' {
			return true
		}
	}
	return false
}
