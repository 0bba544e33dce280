package mfa

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/wardhq/ward/shared/cache"
	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/validate"
)

// waUser is a user as the WebAuthn library sees one. The user handle is
// the user's ID, which is random (a UUIDv7) and says nothing of the person.
type waUser struct {
	u     store.User
	creds []webauthn.Credential
}

func (w waUser) WebAuthnID() []byte                         { return []byte(w.u.ID) }
func (w waUser) WebAuthnName() string                       { return w.u.Username }
func (w waUser) WebAuthnCredentials() []webauthn.Credential { return w.creds }
func (w waUser) WebAuthnDisplayName() string {
	if w.u.DisplayName != "" {
		return w.u.DisplayName
	}
	return w.u.Username
}

// credentialOf reads the credential of a confirmed WEBAUTHN factor.
func credentialOf(f store.Factor) (webauthn.Credential, bool) {
	var c webauthn.Credential
	if f.Type != store.FactorWebAuthn || len(f.Data) == 0 || json.Unmarshal(f.Data, &c) != nil ||
		len(c.ID) == 0 {
		return webauthn.Credential{}, false
	}
	return c, true
}

// ceremony is a WebAuthn ceremony in the cache under "mfa:wa:<ID>".
type ceremony struct {
	TenantID string               `json:"t"`
	UserID   string               `json:"u"`
	FactorID string               `json:"f"`
	Session  webauthn.SessionData `json:"s"`
}

const ceremonyKeyPrefix = "mfa:wa:"

func (s *service) relyingParty() (*webauthn.WebAuthn, error) {
	if s.wa == nil {
		return nil, errs.New(errs.Unavailable,
			"passkeys are not available: Ward's public URL is not configured (WARD_PUBLIC_URL)")
	}
	return s.wa, nil
}

// saveCeremony keeps a ceremony's state for CodeTTL and names it.
func (s *service) saveCeremony(ctx context.Context, f store.Factor,
	sd *webauthn.SessionData) (string, error) {
	id := validate.NewID()
	b, err := json.Marshal(ceremony{TenantID: f.TenantID, UserID: f.UserID, FactorID: f.ID,
		Session: *sd})
	if err != nil {
		return "", errs.Wrap(errs.Internal, err, "internal error")
	}
	return id, s.cache.Set(ctx, ceremonyKeyPrefix+id, b, CodeTTL)
}

// takeCeremony takes a ceremony once: a second answer to it finds nothing.
func (s *service) takeCeremony(ctx context.Context, f store.Factor, id string) (
	webauthn.SessionData, error) {
	if validate.ID("challengeId", id) != nil {
		return webauthn.SessionData{}, badProof()
	}
	b, err := s.cache.GetDel(ctx, ceremonyKeyPrefix+id)
	if errors.Is(err, cache.ErrMiss) {
		return webauthn.SessionData{}, badProof()
	}
	if err != nil {
		return webauthn.SessionData{}, err
	}
	var c ceremony
	if json.Unmarshal(b, &c) != nil || c.TenantID != f.TenantID || c.UserID != f.UserID ||
		c.FactorID != f.ID {
		return webauthn.SessionData{}, badProof()
	}
	return c.Session, nil
}

// beginRegistration starts the registration of a passkey for the pending
// factor f; the user's other passkeys are excluded.
func (s *service) beginRegistration(ctx context.Context, u store.User, f store.Factor,
	others []store.Factor) (Enrollment, error) {
	rp, err := s.relyingParty()
	if err != nil {
		return Enrollment{}, err
	}
	var exclude []protocol.CredentialDescriptor
	for _, o := range others {
		if c, ok := credentialOf(o); ok {
			exclude = append(exclude, c.Descriptor())
		}
	}
	creation, sd, err := rp.BeginRegistration(waUser{u: u},
		webauthn.WithExclusions(exclude),
		webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{
			ResidentKey:      protocol.ResidentKeyRequirementPreferred,
			UserVerification: protocol.VerificationPreferred,
		}))
	if err != nil {
		return Enrollment{}, errs.Wrap(errs.Internal, err, "internal error")
	}
	id, err := s.saveCeremony(ctx, f, sd)
	if err != nil {
		return Enrollment{}, err
	}
	opts, err := json.Marshal(creation)
	if err != nil {
		return Enrollment{}, errs.Wrap(errs.Internal, err, "internal error")
	}
	return Enrollment{ChallengeID: id, WebAuthnOptions: opts}, nil
}

// finishRegistration checks the client's response to a registration and
// keeps the new credential in the factor, which it confirms.
func (s *service) finishRegistration(ctx context.Context, u store.User, f store.Factor,
	challengeID string, response []byte) ([]string, error) {
	rp, err := s.relyingParty()
	if err != nil {
		return nil, err
	}
	sd, err := s.takeCeremony(ctx, f, challengeID)
	if err != nil {
		return nil, err
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(response)
	if err != nil {
		return nil, s.refusedWebAuthn(ctx, f, err)
	}
	cred, err := rp.CreateCredential(waUser{u: u}, sd, parsed)
	if err != nil {
		return nil, s.refusedWebAuthn(ctx, f, err)
	}
	data, err := json.Marshal(cred)
	if err != nil {
		return nil, errs.Wrap(errs.Internal, err, "internal error")
	}
	now := s.stamp()
	_, err = s.st.Factors().Update(ctx, f.TenantID, f.UserID, f.ID,
		func(cur store.Factor) (store.Factor, error) {
			if cur.Confirmed {
				return cur, badProof()
			}
			cur.Data, cur.Confirmed, cur.LastUsedAt = data, true, now
			return cur, nil
		})
	if err != nil {
		return nil, err
	}
	return []string{amrOfCredential(*cred)}, nil
}

// beginAssertion starts proving the passkey of factor f.
func (s *service) beginAssertion(ctx context.Context, u store.User, f store.Factor) (
	ChallengeOutput, error) {
	rp, err := s.relyingParty()
	if err != nil {
		return ChallengeOutput{}, err
	}
	cred, ok := credentialOf(f)
	if !ok {
		return ChallengeOutput{}, factorNotFound()
	}
	assertion, sd, err := rp.BeginLogin(waUser{u: u, creds: []webauthn.Credential{cred}},
		webauthn.WithUserVerification(protocol.VerificationPreferred))
	if err != nil {
		return ChallengeOutput{}, errs.Wrap(errs.Internal, err, "internal error")
	}
	id, err := s.saveCeremony(ctx, f, sd)
	if err != nil {
		return ChallengeOutput{}, err
	}
	opts, err := json.Marshal(assertion)
	if err != nil {
		return ChallengeOutput{}, errs.Wrap(errs.Internal, err, "internal error")
	}
	return ChallengeOutput{ChallengeID: id, WebAuthnOptions: opts}, nil
}

// finishAssertion checks an assertion of factor f's passkey. A signature
// counter that did not grow (where the authenticator keeps one) means a
// cloned authenticator, and is refused. The new counter is written by
// compare-and-swap on the credential as read.
func (s *service) finishAssertion(ctx context.Context, u store.User, f store.Factor,
	challengeID string, response []byte) ([]string, error) {
	rp, err := s.relyingParty()
	if err != nil {
		return nil, err
	}
	stored, ok := credentialOf(f)
	if !ok {
		return nil, badProof()
	}
	sd, err := s.takeCeremony(ctx, f, challengeID)
	if err != nil {
		return nil, err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(response)
	if err != nil {
		return nil, s.refusedWebAuthn(ctx, f, err)
	}
	cred, err := rp.ValidateLogin(waUser{u: u, creds: []webauthn.Credential{stored}}, sd, parsed)
	if err != nil {
		return nil, s.refusedWebAuthn(ctx, f, err)
	}
	if cred.Authenticator.CloneWarning {
		s.log.LogAttrs(ctx, slog.LevelWarn, "mfa: a passkey's signature counter went back",
			slog.String("tenant", f.TenantID), slog.String("factor", f.ID))
		return nil, badProof()
	}
	data, err := json.Marshal(cred)
	if err != nil {
		return nil, errs.Wrap(errs.Internal, err, "internal error")
	}
	now := s.stamp()
	_, err = s.st.Factors().Update(ctx, f.TenantID, f.UserID, f.ID,
		func(cur store.Factor) (store.Factor, error) {
			if !bytes.Equal(cur.Data, f.Data) {
				return cur, badProof() // another assertion moved the counter first
			}
			cur.Data, cur.LastUsedAt = data, now
			return cur, nil
		})
	if err != nil {
		return nil, err
	}
	return []string{amrOfCredential(*cred)}, nil
}

// amrOfCredential is "swk" for a credential that may be backed up (a
// synced passkey lives in software) and "hwk" for one bound to its device.
func amrOfCredential(c webauthn.Credential) string {
	if c.Flags.BackupEligible {
		return "swk"
	}
	return "hwk"
}

// refusedWebAuthn logs why the library refused a response (never the
// response) and answers as for any wrong proof.
func (s *service) refusedWebAuthn(ctx context.Context, f store.Factor, err error) error {
	msg := err.Error()
	var pe *protocol.Error
	if errors.As(err, &pe) {
		msg = pe.Type + ": " + pe.Details
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "mfa: a WebAuthn response was refused",
		slog.String("tenant", f.TenantID), slog.String("factor", f.ID), slog.String("why", msg))
	return badProof()
}
