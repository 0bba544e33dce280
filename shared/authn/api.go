package authn

import (
	"encoding/json"
	"log/slog"
	"time"

	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/users"
)

// FunctionName is the function that owns signing in.
const FunctionName = "authn"

// Operation names. Start, Submit and Get are public: an anonymous caller
// drives a sign-in flow (the flow's CSRF token, not the caller, is what
// ties the steps together). Evaluate and StartStepUp need a signed-in
// caller with a session.
const (
	OpStart       = "authn.start"
	OpSubmit      = "authn.submit"
	OpGet         = "authn.get"
	OpEvaluate    = "authn.evaluate"
	OpStartStepUp = "authn.startStepUp"
)

// Steps of a flow: what the client is asked for next.
const (
	// StepIdentify asks for the username (or email); the password may
	// come with it.
	StepIdentify = "identify"
	// StepPassword asks for the password.
	StepPassword = "password"
	// StepSelectFactor asks which of the user's factors to use
	// (FlowOutput.Factors).
	StepSelectFactor = "select_factor"
	// StepVerifyFactor asks for the proof of the chosen factor: a code, or
	// a WebAuthn assertion for FlowOutput.Challenge.WebAuthnOptions.
	StepVerifyFactor = "verify_factor"
	// StepEnroll asks the user, who has no factor but must use one, to
	// choose a kind to enrol (FlowOutput.EnrollTypes).
	StepEnroll = "enroll"
	// StepConfirmEnroll asks for the first proof of the factor being
	// enrolled (FlowOutput.Enrollment says what was set up).
	StepConfirmEnroll = "confirm_enroll"
	// StepDone: the flow is over; FlowOutput.Session holds the result.
	StepDone = "done"
)

// Flow kinds.
const (
	KindSignIn = "sign_in"
	KindStepUp = "step_up"
)

// Client is what Ward knows of the client behind a flow. The transport
// that received the request fills it in (the facade, the HTTP API, the
// hosted pages): IP from the connection, never from the client's say.
type Client struct {
	IP        string `json:"ip,omitempty"`
	UserAgent string `json:"userAgent,omitempty"`
	// DeviceID is an identifier the client keeps for the device (the hosted
	// pages keep one in a long-lived cookie); Ward stores only its hash.
	DeviceID string `json:"deviceId,omitempty"`
}

// StartInput starts a sign-in flow in the tenant named Tenant (its name,
// as in URLs). Username, when given, skips StepIdentify (a login hint).
type StartInput struct {
	Tenant   string `json:"tenant"`
	Username string `json:"username,omitempty"`
	Client   Client `json:"client"`
}

// SubmitInput answers the flow's current step. Step must be the step the
// flow is at: an answer to another step (a replay of an earlier one, or a
// skip ahead) is refused and changes nothing.
type SubmitInput struct {
	FlowID string `json:"flowId"`
	CSRF   string `json:"csrf"`
	Step   string `json:"step"`

	Username string         `json:"username,omitempty"` // identify
	Password users.Password `json:"password,omitempty"` // identify, password

	// FactorID chooses a factor (select_factor, or verify_factor to
	// switch); Resend asks for a new code of the chosen one.
	FactorID string `json:"factorId,omitempty"`
	Resend   bool   `json:"resend,omitempty"`
	// Code is a one-time code (verify_factor, confirm_enroll).
	Code string `json:"code,omitempty"`
	// WebAuthn is a credential (assertion or attestation) as the browser's
	// PublicKeyCredential serializes it.
	WebAuthn json.RawMessage `json:"webauthn,omitempty"`

	// FactorType chooses what to enrol (enroll); Name names it, Phone is
	// the number an SMS or voice factor uses when the user has no verified
	// phone.
	FactorType store.FactorType `json:"factorType,omitempty"`
	Name       string           `json:"name,omitempty"`
	Phone      string           `json:"phone,omitempty"`

	Client Client `json:"client"`
}

// GetInput reads where a flow stands (after a page reload, say).
type GetInput struct {
	FlowID string `json:"flowId"`
	CSRF   string `json:"csrf"`
}

// FlowOutput is where a flow stands after a call. CSRF is returned by
// start only: the client keeps it and sends it with every later call.
type FlowOutput struct {
	FlowID    string    `json:"flowId"`
	CSRF      string    `json:"csrf,omitempty"`
	Kind      string    `json:"kind"`
	Step      string    `json:"step"`
	ExpiresAt time.Time `json:"expiresAt"`
	// Username is the identifier given so far (shown back on the password
	// page); empty before StepIdentify is answered.
	Username    string             `json:"username,omitempty"`
	Factors     []FactorInfo       `json:"factors,omitempty"`
	Challenge   *ChallengeInfo     `json:"challenge,omitempty"`
	EnrollTypes []store.FactorType `json:"enrollTypes,omitempty"`
	Enrollment  *EnrollmentInfo    `json:"enrollment,omitempty"`
	Session     *SessionResult     `json:"session,omitempty"`
}

// FactorInfo is one of the user's factors as a flow offers it.
type FactorInfo struct {
	ID   string           `json:"id"`
	Type store.FactorType `json:"type"`
	Name string           `json:"name,omitempty"`
	// Hint is a masked destination ("••••1234") for codes that are sent.
	Hint string `json:"hint,omitempty"`
}

// ChallengeInfo is the factor being proven.
type ChallengeInfo struct {
	FactorID string           `json:"factorId"`
	Type     store.FactorType `json:"type"`
	// SentTo is the masked destination of a code that was sent.
	SentTo string `json:"sentTo,omitempty"`
	// WebAuthnOptions are the assertion options for the browser
	// (PublicKeyCredentialRequestOptions as JSON).
	WebAuthnOptions json.RawMessage `json:"webauthnOptions,omitempty"`
}

// EnrollmentInfo is what a factor being enrolled needs from the user.
type EnrollmentInfo struct {
	FactorID string           `json:"factorId"`
	Type     store.FactorType `json:"type"`
	// TOTP: the secret, the otpauth URI and its QR code as a data: URL.
	Secret     string `json:"secret,omitempty"`
	OTPAuthURI string `json:"otpauthUri,omitempty"`
	QRCode     string `json:"qrCode,omitempty"`
	// SMS, VOICE, EMAIL: where the confirmation code went, masked.
	SentTo string `json:"sentTo,omitempty"`
	// WEBAUTHN: the creation options for the browser.
	WebAuthnOptions json.RawMessage `json:"webauthnOptions,omitempty"`
}

// SessionResult is what a finished flow produced. A sign-in returns the
// new session's token, once; a step-up raises the caller's session and
// returns no token.
type SessionResult struct {
	Token     string    `json:"token,omitempty"`
	SessionID string    `json:"sessionId"`
	UserID    string    `json:"userId"`
	TenantID  string    `json:"tenantId"`
	ACR       string    `json:"acr"`
	AMR       []string  `json:"amr"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// EvaluateInput asks whether the caller's session may go ahead with a
// transaction of Type and Value now, or must step up first.
type EvaluateInput struct {
	Type  string  `json:"type"`
	Value float64 `json:"value,omitempty"`
}

// EvaluateOutput is the decision. When StepUp is set, the caller starts a
// step-up flow (OpStartStepUp) and asks again once it is done.
type EvaluateOutput struct {
	Allowed bool `json:"allowed"`
	StepUp  bool `json:"stepUp"`
	// RequiredACR and MaxAgeSeconds are what the matching rule asks for.
	RequiredACR   string `json:"requiredAcr,omitempty"`
	MaxAgeSeconds int    `json:"maxAgeSeconds,omitempty"`
}

// StartStepUpInput starts a step-up flow for the caller's session.
type StartStepUpInput struct {
	Client Client `json:"client"`
}

// The inputs that hold a password, a code or a flow's CSRF token log
// without them.

func (in SubmitInput) LogValue() slog.Value {
	return slog.GroupValue(slog.String("flowId", in.FlowID), slog.String("step", in.Step))
}

func (in GetInput) LogValue() slog.Value {
	return slog.GroupValue(slog.String("flowId", in.FlowID))
}

func (in StartInput) LogValue() slog.Value {
	return slog.GroupValue(slog.String("tenant", in.Tenant))
}
