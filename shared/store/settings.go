package store

import (
	"slices"
	"time"
	"unicode/utf8"
)

// AuthSettings are a tenant's rules for signing in and for sessions. The
// zero value means Ward's defaults throughout; the tenants service checks
// the values, the store keeps them as given (bounded as JSON, see
// MaxSettingsBytes).
type AuthSettings struct {
	// MFA says when signing in asks for a second factor; empty is
	// MFAOptional.
	MFA MFAPolicy `json:"mfa,omitempty"`
	// Factors lists the second factors the tenant's users may enrol and
	// use; empty allows every kind Ward has.
	Factors []FactorType `json:"factors,omitempty"`
	// RiskThreshold is the risk score (1 to 100) at or above which an
	// MFAAdaptive tenant asks for a second factor; 0 means 50.
	RiskThreshold int `json:"riskThreshold,omitempty"`
	// StepUp lists the transactions that need a stronger or more recent
	// sign-in than the session has.
	StepUp []StepUpRule `json:"stepUp,omitempty"`
	// SessionIdleSeconds ends a session unused for that long; 0 means 30
	// minutes. SessionMaxSeconds ends it that long after sign-in whatever
	// its use; 0 means 12 hours.
	SessionIdleSeconds int `json:"sessionIdleSeconds,omitempty"`
	SessionMaxSeconds  int `json:"sessionMaxSeconds,omitempty"`
	// LockoutThreshold is how many failed sign-ins of one account, in a
	// row, lock it for LockoutSeconds; 0 means 10 failures and 15
	// minutes.
	LockoutThreshold int `json:"lockoutThreshold,omitempty"`
	LockoutSeconds   int `json:"lockoutSeconds,omitempty"`
	// ReturnOrigins are the origins ("https://app.example.com", no path)
	// other than Ward's own that a sign-in on the hosted pages may return
	// to (their return_to); empty allows Ward's own origin alone.
	ReturnOrigins []string `json:"returnOrigins,omitempty"`
	// ClientRegistration says whether anyone may register OAuth clients
	// with the tenant's issuer by dynamic client registration (RFC 7591);
	// empty is ClientRegistrationClosed.
	ClientRegistration ClientRegistrationMode `json:"clientRegistration,omitempty"`
}

// ClientRegistrationMode says who may register OAuth clients at a tenant's
// registration endpoint.
type ClientRegistrationMode string

const (
	// ClientRegistrationClosed: no registration endpoint; only the
	// tenant's administrators register clients (the default).
	ClientRegistrationClosed ClientRegistrationMode = "CLOSED"
	// ClientRegistrationOpen: anyone may register a client, within the
	// limits of dynamic registration (package clients).
	ClientRegistrationOpen ClientRegistrationMode = "OPEN"
	// ClientRegistrationToken: registering needs an initial access token
	// that the tenant's administrators made (RFC 7591 section 3).
	ClientRegistrationToken ClientRegistrationMode = "TOKEN"
)

// RegistrationOpen reports whether the tenant takes dynamic client
// registrations, with or without an initial access token.
func (a AuthSettings) RegistrationOpen() bool {
	return a.ClientRegistration == ClientRegistrationOpen ||
		a.ClientRegistration == ClientRegistrationToken
}

// RegistrationToken is an initial access token of a tenant (RFC 7591
// section 3), kept in the tenant's record (Tenant.RegistrationTokens) as
// the SHA-256 of the token; the token itself is shown once. The oauth
// function makes, uses and deletes them by compare-and-swap on the
// tenant; the store keeps them as given, within MaxSettingsBytes.
type RegistrationToken struct {
	ID        string    `json:"id"`
	Hash      string    `json:"hash"`
	CreatedAt time.Time `json:"createdAt"`
	ExpiresAt time.Time `json:"expiresAt"`
	// MaxUses is how many registrations the token allows; 0: any number
	// until it expires. Uses counts the registrations made with it.
	MaxUses int `json:"maxUses,omitempty"`
	Uses    int `json:"uses,omitempty"`
}

// MaxRegistrationTokens bounds a tenant's initial access tokens.
const MaxRegistrationTokens = 20

// MFAPolicy says when signing in asks for a second factor.
type MFAPolicy string

const (
	// MFAOptional asks users who have enrolled a factor, always.
	MFAOptional MFAPolicy = "OPTIONAL"
	// MFARequired asks everyone; a user without a factor enrols one while
	// signing in.
	MFARequired MFAPolicy = "REQUIRED"
	// MFAAdaptive asks when the sign-in's risk score reaches the tenant's
	// RiskThreshold.
	MFAAdaptive MFAPolicy = "ADAPTIVE"
)

// FactorType is a kind of second factor.
type FactorType string

const (
	FactorTOTP     FactorType = "TOTP"     // an authenticator app (RFC 6238)
	FactorWebAuthn FactorType = "WEBAUTHN" // a passkey or security key
	FactorEmail    FactorType = "EMAIL"    // a one-time code by email
	FactorSMS      FactorType = "SMS"      // a one-time code by text message
	FactorVoice    FactorType = "VOICE"    // a one-time code read out in a call
	FactorRecovery FactorType = "RECOVERY" // single-use recovery codes
)

// FactorTypes lists every kind of factor, in the order pages offer them.
var FactorTypes = []FactorType{FactorWebAuthn, FactorTOTP, FactorSMS, FactorVoice, FactorEmail,
	FactorRecovery}

// StepUpRule asks for a stronger sign-in before a transaction of one type
// whose value reaches MinValue (0: any value).
type StepUpRule struct {
	// Transaction is the type an application names ("payment",
	// "change-email"): a letter, then letters, digits, '.', '_' or '-',
	// at most 64 bytes.
	Transaction string  `json:"transaction"`
	MinValue    float64 `json:"minValue,omitempty"`
	// ACR is the authentication context class the session must have
	// reached ("2" is multi-factor); empty means "2".
	ACR string `json:"acr,omitempty"`
	// MaxAgeSeconds, when set, also requires that the session's last
	// sign-in at that class was at most that long ago.
	MaxAgeSeconds int `json:"maxAgeSeconds,omitempty"`
}

// Branding is how a tenant's hosted pages look. Empty fields take Ward's
// defaults.
type Branding struct {
	// LogoURL is an https URL of the logo shown at the top of each page.
	LogoURL string `json:"logoUrl,omitempty"`
	// PrimaryColor and BackgroundColor are CSS colours in #rrggbb form.
	PrimaryColor    string `json:"primaryColor,omitempty"`
	BackgroundColor string `json:"backgroundColor,omitempty"`
	// SupportURL and PrivacyURL are https links shown in the footer.
	SupportURL string `json:"supportUrl,omitempty"`
	PrivacyURL string `json:"privacyUrl,omitempty"`
}

// Ward's defaults for the zero values of AuthSettings.
const (
	DefaultSessionIdle      = 30 * time.Minute
	DefaultSessionMax       = 12 * time.Hour
	DefaultRiskThreshold    = 50
	DefaultLockoutThreshold = 10
	DefaultLockout          = 15 * time.Minute
	// ACRMultiFactor is the authentication context class of a sign-in
	// with a second factor; ACRPassword of one with a password alone.
	ACRPassword    = "1"
	ACRMultiFactor = "2"
)

// Policy is a's MFA policy with its default filled in.
func (a AuthSettings) Policy() MFAPolicy {
	if a.MFA == "" {
		return MFAOptional
	}
	return a.MFA
}

// Allows reports whether the tenant's users may use factors of type f.
func (a AuthSettings) Allows(f FactorType) bool {
	return len(a.Factors) == 0 || slices.Contains(a.Factors, f)
}

// Threshold is the risk score at which an adaptive tenant asks for MFA.
func (a AuthSettings) Threshold() int {
	if a.RiskThreshold == 0 {
		return DefaultRiskThreshold
	}
	return a.RiskThreshold
}

// IdleTimeout and MaxLifetime are a's session timeouts.
func (a AuthSettings) IdleTimeout() time.Duration {
	return orDefault(a.SessionIdleSeconds, DefaultSessionIdle)
}

func (a AuthSettings) MaxLifetime() time.Duration {
	return orDefault(a.SessionMaxSeconds, DefaultSessionMax)
}

// Lockout is how many failed sign-ins in a row lock an account, and for
// how long.
func (a AuthSettings) Lockout() (failures int, d time.Duration) {
	failures = a.LockoutThreshold
	if failures == 0 {
		failures = DefaultLockoutThreshold
	}
	return failures, orDefault(a.LockoutSeconds, DefaultLockout)
}

// RequiredACR is the class a rule asks for.
func (r StepUpRule) RequiredACR() string {
	if r.ACR == "" {
		return ACRMultiFactor
	}
	return r.ACR
}

func orDefault(seconds int, d time.Duration) time.Duration {
	if seconds == 0 {
		return d
	}
	return time.Duration(seconds) * time.Second
}

// MaxSettingsBytes bounds a tenant's Auth, Branding and RegistrationTokens
// together as JSON.
const MaxSettingsBytes = 64 << 10

// Clone returns a copy of a that shares no slice with it.
func (a AuthSettings) Clone() AuthSettings {
	a.Factors = slices.Clone(a.Factors)
	a.StepUp = slices.Clone(a.StepUp)
	a.ReturnOrigins = slices.Clone(a.ReturnOrigins)
	return a
}

// ValidUTF8 reports whether every text of a is valid UTF-8, which JSON
// needs to keep it as given. Backends refuse settings that are not.
func (a AuthSettings) ValidUTF8() bool {
	ok := utf8.ValidString(string(a.MFA)) && utf8.ValidString(string(a.ClientRegistration))
	for _, f := range a.Factors {
		ok = ok && utf8.ValidString(string(f))
	}
	for _, r := range a.StepUp {
		ok = ok && utf8.ValidString(r.Transaction) && utf8.ValidString(r.ACR)
	}
	for _, o := range a.ReturnOrigins {
		ok = ok && utf8.ValidString(o)
	}
	return ok
}

// ValidUTF8 reports whether every text of b is valid UTF-8.
func (b Branding) ValidUTF8() bool {
	for _, s := range []string{b.LogoURL, b.PrimaryColor, b.BackgroundColor, b.SupportURL,
		b.PrivacyURL} {
		if !utf8.ValidString(s) {
			return false
		}
	}
	return true
}
