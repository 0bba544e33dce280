package mfa

import (
	"encoding/json"
	"log/slog"
	"time"

	"github.com/wardhq/ward/shared/store"
)

// FunctionName is the function that owns second factors.
const FunctionName = "mfa"

// Operation names.
const (
	// OpList lists a user's factors, without secrets: the user, the
	// administrators who reach the user, and service callers.
	OpList = "mfa.list"
	// OpRemove removes one of the caller's own factors.
	OpRemove = "mfa.remove"
	// OpReset removes every factor of a user: administrators only.
	OpReset = "mfa.reset"
	// OpEnroll starts enrolling a factor and OpConfirm finishes it with
	// its first proof: the user, or a service caller on the user's behalf
	// (a sign-in flow that must enrol).
	OpEnroll  = "mfa.enroll"
	OpConfirm = "mfa.confirm"
	// OpRegenerateRecovery replaces the caller's recovery codes.
	OpRegenerateRecovery = "mfa.regenerateRecoveryCodes"
	// OpChallenge starts proving a confirmed factor and OpVerify checks
	// the proof: service callers only.
	OpChallenge = "mfa.challenge"
	OpVerify    = "mfa.verify"
)

// Factor is a factor as operations return it: never its secret.
type Factor struct {
	ID         string           `json:"id"`
	Type       store.FactorType `json:"type"`
	Name       string           `json:"name,omitempty"`
	Confirmed  bool             `json:"confirmed"`
	Hint       string           `json:"hint,omitempty"`
	CreatedAt  time.Time        `json:"createdAt"`
	LastUsedAt *time.Time       `json:"lastUsedAt,omitempty"`
}

// UserInput names a user.
type UserInput struct {
	TenantID string `json:"tenantId"`
	UserID   string `json:"userId"`
}

// ListOutput is a user's factors, in order of enrolment.
type ListOutput struct {
	Factors []Factor `json:"factors"`
}

// FactorInput names one factor of a user.
type FactorInput struct {
	TenantID string `json:"tenantId"`
	UserID   string `json:"userId"`
	FactorID string `json:"factorId"`
}

// RemoveOutput names the removed factor.
type RemoveOutput struct {
	ID string `json:"id"`
}

// ResetOutput counts the factors removed.
type ResetOutput struct {
	Removed int `json:"removed"`
}

// EnrollInput starts enrolling a factor of Type. Name is the user's label
// for it (default: the type). Phone is the E.164 number of an SMS or
// VOICE factor; empty means the user's own verified phone.
type EnrollInput struct {
	TenantID string           `json:"tenantId"`
	UserID   string           `json:"userId"`
	Type     store.FactorType `json:"type"`
	Name     string           `json:"name,omitempty"`
	Phone    string           `json:"phone,omitempty"`
}

// Enrollment is a factor being enrolled: for TOTP the secret (base32),
// its otpauth:// URI and a QR code of the URI (a PNG as a data URL); for
// EMAIL, SMS and VOICE where the first code went; for WEBAUTHN the
// options of navigator.credentials.create(). ChallengeID goes back with
// the proof.
type Enrollment struct {
	FactorID        string           `json:"factorId"`
	Type            store.FactorType `json:"type"`
	Secret          string           `json:"secret,omitempty"`
	OTPAuthURI      string           `json:"otpAuthUri,omitempty"`
	QRCode          string           `json:"qrCode,omitempty"`
	SentTo          string           `json:"sentTo,omitempty"`
	ChallengeID     string           `json:"challengeId,omitempty"`
	WebAuthnOptions json.RawMessage  `json:"webauthnOptions,omitempty"`
}

// ProofInput is a proof of one factor: a code (TOTP, EMAIL, SMS, VOICE,
// RECOVERY) or a WebAuthn client response (the JSON of the
// PublicKeyCredential), with the challenge it answers.
type ProofInput struct {
	TenantID    string          `json:"tenantId"`
	UserID      string          `json:"userId"`
	FactorID    string          `json:"factorId"`
	ChallengeID string          `json:"challengeId,omitempty"`
	Code        string          `json:"code,omitempty"`
	WebAuthn    json.RawMessage `json:"webauthn,omitempty"`
}

// ConfirmOutput is a confirmed factor and the RFC 8176 methods its proof
// earned.
type ConfirmOutput struct {
	Factor Factor   `json:"factor"`
	AMR    []string `json:"amr"`
}

// ChallengeOutput is a factor being proven: where a code went, or the
// options of navigator.credentials.get().
type ChallengeOutput struct {
	ChallengeID     string          `json:"challengeId,omitempty"`
	SentTo          string          `json:"sentTo,omitempty"`
	WebAuthnOptions json.RawMessage `json:"webauthnOptions,omitempty"`
}

// VerifyOutput is the RFC 8176 methods a proof earned.
type VerifyOutput struct {
	AMR []string `json:"amr"`
}

// RecoveryCodesOutput holds new recovery codes, shown this once.
type RecoveryCodesOutput struct {
	FactorID string   `json:"factorId"`
	Codes    []string `json:"codes"`
}

// The inputs and outputs that hold secrets log without them.

func (in ProofInput) LogValue() slog.Value {
	return slog.GroupValue(slog.String("tenantId", in.TenantID), slog.String("factorId", in.FactorID))
}

func (o Enrollment) LogValue() slog.Value {
	return slog.GroupValue(slog.String("factorId", o.FactorID), slog.String("type", string(o.Type)))
}

func (o RecoveryCodesOutput) LogValue() slog.Value {
	return slog.GroupValue(slog.String("factorId", o.FactorID))
}
