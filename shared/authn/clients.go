package authn

import (
	"context"
	"encoding/json"
	"time"

	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/tenants"
	"github.com/wardhq/ward/shared/users"
)

// The default Directory, Factors and Sessions: Ward's functions reached
// through an invoker as the service role. The input and output types of
// the mfa and sessions functions are restated here as authn uses them, so
// that authn depends on their wire contract, not on their packages.

type directoryClient struct{ inv invoke.Invoker }

func (d directoryClient) TenantByName(ctx context.Context, name string) (store.Tenant, error) {
	return invoke.Call[store.Tenant](ctx, d.inv, tenants.FunctionName, tenants.OpGetByName,
		serviceCaller, tenants.GetByNameInput{Name: name})
}

func (d directoryClient) Tenant(ctx context.Context, id string) (store.Tenant, error) {
	return invoke.Call[store.Tenant](ctx, d.inv, tenants.FunctionName, tenants.OpGet,
		serviceCaller, tenants.GetInput{ID: id})
}

func (d directoryClient) CheckPassword(ctx context.Context, tenantID, login,
	password string) (store.User, error) {
	out, err := invoke.Call[users.VerifyPasswordOutput](ctx, d.inv, users.FunctionName,
		users.OpVerifyPassword, serviceCaller, users.VerifyPasswordInput{TenantID: tenantID,
			Username: login, Password: users.Password(password)})
	if err != nil {
		return store.User{}, err
	}
	return out.User, nil
}

const (
	mfaFunction      = "mfa"
	sessionsFunction = "sessions"
)

type factorsClient struct{ inv invoke.Invoker }

type userRef struct {
	TenantID string `json:"tenantId"`
	UserID   string `json:"userId"`
}

func (f factorsClient) List(ctx context.Context, tenantID, userID string) ([]Factor, error) {
	out, err := invoke.Call[struct {
		Factors []Factor `json:"factors"`
	}](ctx, f.inv, mfaFunction, "mfa.list", serviceCaller, userRef{tenantID, userID})
	return out.Factors, err
}

func (f factorsClient) Challenge(ctx context.Context, tenantID, userID, factorID string) (
	Challenge, error) {
	return invoke.Call[Challenge](ctx, f.inv, mfaFunction, "mfa.challenge", serviceCaller,
		struct {
			userRef
			FactorID string `json:"factorId"`
		}{userRef{tenantID, userID}, factorID})
}

type proofInput struct {
	userRef
	FactorID    string          `json:"factorId"`
	ChallengeID string          `json:"challengeId,omitempty"`
	Code        string          `json:"code,omitempty"`
	WebAuthn    json.RawMessage `json:"webauthn,omitempty"`
}

func (f factorsClient) Verify(ctx context.Context, tenantID, userID string, p Proof) ([]string,
	error) {
	out, err := invoke.Call[struct {
		AMR []string `json:"amr"`
	}](ctx, f.inv, mfaFunction, "mfa.verify", serviceCaller, proofInput{userRef{tenantID, userID},
		p.FactorID, p.ChallengeID, p.Code, p.WebAuthn})
	return out.AMR, err
}

func (f factorsClient) Enroll(ctx context.Context, tenantID, userID string, t store.FactorType,
	name, phone string) (Enrollment, error) {
	out, err := invoke.Call[struct {
		FactorID        string           `json:"factorId"`
		Type            store.FactorType `json:"type"`
		Secret          string           `json:"secret"`
		OTPAuthURI      string           `json:"otpAuthUri"`
		QRCode          string           `json:"qrCode"`
		SentTo          string           `json:"sentTo"`
		ChallengeID     string           `json:"challengeId"`
		WebAuthnOptions json.RawMessage  `json:"webauthnOptions"`
	}](ctx, f.inv, mfaFunction, "mfa.enroll", serviceCaller, struct {
		userRef
		Type  store.FactorType `json:"type"`
		Name  string           `json:"name,omitempty"`
		Phone string           `json:"phone,omitempty"`
	}{userRef{tenantID, userID}, t, name, phone})
	if err != nil {
		return Enrollment{}, err
	}
	return Enrollment{FactorID: out.FactorID, Type: out.Type, Secret: out.Secret,
		OTPAuthURI: out.OTPAuthURI, QRCode: out.QRCode, SentTo: out.SentTo,
		ChallengeID: out.ChallengeID, WebAuthnOptions: out.WebAuthnOptions}, nil
}

func (f factorsClient) Confirm(ctx context.Context, tenantID, userID string, e Enrollment,
	p Proof) ([]string, error) {
	out, err := invoke.Call[struct {
		AMR []string `json:"amr"`
	}](ctx, f.inv, mfaFunction, "mfa.confirm", serviceCaller, proofInput{userRef{tenantID, userID},
		e.FactorID, p.ChallengeID, p.Code, p.WebAuthn})
	return out.AMR, err
}

type sessionsClient struct{ inv invoke.Invoker }

func (s sessionsClient) Create(ctx context.Context, n NewSession) (IssuedSession, error) {
	out, err := invoke.Call[struct {
		Session struct {
			ID        string    `json:"id"`
			ExpiresAt time.Time `json:"expiresAt"`
		} `json:"session"`
		Token string `json:"token"`
	}](ctx, s.inv, sessionsFunction, "sessions.create", serviceCaller, struct {
		userRef
		ACR       string   `json:"acr"`
		AMR       []string `json:"amr"`
		AuthTime  int64    `json:"authTime"`
		IP        string   `json:"ip,omitempty"`
		UserAgent string   `json:"userAgent,omitempty"`
		DeviceID  string   `json:"deviceId,omitempty"`
	}{userRef{n.TenantID, n.UserID}, n.ACR, n.AMR, n.AuthTime.Unix(), n.IP, n.UserAgent, n.DeviceID})
	if err != nil {
		return IssuedSession{}, err
	}
	return IssuedSession{Token: out.Token, SessionID: out.Session.ID,
		ExpiresAt: out.Session.ExpiresAt}, nil
}

func (s sessionsClient) Elevate(ctx context.Context, tenantID, sessionID, acr string,
	amr []string, at time.Time) (time.Time, error) {
	out, err := invoke.Call[struct {
		ExpiresAt time.Time `json:"expiresAt"`
	}](ctx, s.inv, sessionsFunction, "sessions.elevate", serviceCaller, struct {
		TenantID  string   `json:"tenantId"`
		SessionID string   `json:"sessionId"`
		ACR       string   `json:"acr"`
		AMR       []string `json:"amr"`
		AuthTime  int64    `json:"authTime"`
	}{tenantID, sessionID, acr, amr, at.Unix()})
	return out.ExpiresAt, err
}
