// Package account is Ward's self-service: what people do for themselves
// rather than through an administrator. Who may call what:
//
//   - anyone, without signing in: register (in a tenant whose
//     registration is OPEN, or with an invitation when it is INVITE),
//     verifyEmail, resendVerification, requestPasswordReset and
//     resetPassword;
//   - system administrators, the tenant's administrators, and
//     organization administrators for the organizations they reach
//     (package orgs): invite;
//   - the signed-in user, on their own account only: updateProfile,
//     startPhoneVerification, verifyPhone, deleteAccount (with the current
//     password again) and exportData.
//
// # What the anonymous operations tell
//
// None of them tells whether an account exists. Registering an email that
// already belongs to an account sends that address a notice instead of a
// verification, costs the same password hashing, and returns a decoy
// verification ID made exactly like a real one (a version-7 UUID, stored
// as a proof nobody can pass). resendVerification and requestPasswordReset
// answer the same whatever the address. An unknown tenant is answered like
// one whose registration is closed, and an unknown, expired, dead or wrong
// proof all get one error (invalidProof).
//
// The one disclosure left: a username that is taken is refused, since two
// accounts cannot share it. Leave the username out (it then defaults to the
// email, and a taken email is handled as above) to disclose nothing.
//
// # Proofs
//
// Every proof is a store.Verification, kept as hashes. A link carries the
// token "<verification id>.<secret>" (32 random bytes, base64url); a code is
// six digits, hashed with the verification's ID so that one code hash says
// nothing about another proof. Both are compared as SHA-256 digests in
// constant time. A code allows MaxAttempts wrong tries; then the proof is
// dead, link included. A proof is spent once: the store's compare-and-swap
// on UsedAt lets only one of two concurrent uses through, and a replay of a
// correct link or code is told "already used" (CodeAlreadyUsed).
//
// When a proof and the change it permits are two writes, the proof is
// claimed first and released again if the change fails, so that a failure
// leaves the proof usable and nothing half-written.
//
// # Sessions
//
// A password reset and deleteAccount revoke the user's sessions (through
// the sessions service, Deps.Sessions), OAuth refresh token families,
// offline ones included (through the oauth service, Deps.Grants), and API
// tokens, the credentials that outlive a sign-in (revokeCredentials); a
// failure to revoke them fails the operation, which then changes nothing
// more (what was revoked before the failure stays revoked). A revoked session
// fails from its next validation on. The facade trusts a verified API
// token for its cache's TTL (5 s by default), so a revoked API token may
// still be honoured there that long.
//
// # Known shortcomings
//
//   - The answers are the same, their timing is not quite: a new account
//     costs a few store writes more than a taken address (both pay the
//     password hashing, which dominates), and resendVerification and
//     requestPasswordReset send a message only for a real account, so a
//     slow mail provider makes those answers slower. Sending through a
//     queue, after the answer, would close that; Ward has no queue yet.
//   - Messages per address are capped (MaxMessagesPerAddress), but the
//     public operations themselves are not limited per client: a caller
//     may still make Ward do the work (password hashing, store writes) as
//     often as they like. Limits per client belong in front of them.
package account

import (
	"context"
	"log/slog"
	"time"

	"github.com/wardhq/ward/shared/audit"
	"github.com/wardhq/ward/shared/cache"
	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/messaging"
	"github.com/wardhq/ward/shared/messaging/templates"
	"github.com/wardhq/ward/shared/passwords"
	"github.com/wardhq/ward/shared/store"
)

// Lifetimes of proofs.
const (
	EmailProofTTL = 24 * time.Hour
	ResetProofTTL = 15 * time.Minute
	PhoneProofTTL = 10 * time.Minute
	InviteTTL     = 7 * 24 * time.Hour
	// MaxAttempts is how many wrong codes a proof survives.
	MaxAttempts = 5
)

// Deps are what the service needs.
type Deps struct {
	Store     store.Store
	Email     messaging.EmailSender // nil: operations that send email fail UNAVAILABLE
	Phone     messaging.PhoneSender // nil: phone verification fails UNAVAILABLE
	Templates *templates.Renderer   // nil: Ward's default templates
	// From is the sender of emails, e.g. "Ward <no-reply@example.com>".
	From string
	// PublicURL is the base of the links in messages, without a trailing
	// slash ("https://id.example.com").
	PublicURL string
	Hasher    *passwords.Hasher // nil: passwords.Default()
	// Cache counts the messages sent to each address (see
	// MaxMessagesPerAddress); nil counts nothing.
	Cache cache.Cache
	Now   func() time.Time // nil: time.Now
	Log   *slog.Logger     // nil: slog.Default()
	// Sessions ends a user's sessions after a password reset and before
	// an account deletion (sessions.Revoker in deployments). Nil revokes
	// API tokens only: for a deployment without the sessions service.
	Sessions SessionRevoker
	// Grants revokes a user's OAuth refresh token families, offline ones
	// included, after a password reset and before an account deletion
	// (oauth.GrantRevoker in deployments). Nil revokes none: for a
	// deployment without the oauth service.
	Grants GrantRevoker
}

// SessionRevoker ends every session of a user and reports how many were
// live.
type SessionRevoker interface {
	RevokeUser(ctx context.Context, tenantID, userID string) (int, error)
}

// GrantRevoker revokes every OAuth grant (refresh token family) of a user
// and reports how many it revoked.
type GrantRevoker interface {
	RevokeUserGrants(ctx context.Context, tenantID, userID string) (int, error)
}

type service struct {
	st        store.Store
	cache     cache.Cache
	email     messaging.EmailSender
	phone     messaging.PhoneSender
	tpl       *templates.Renderer
	from      string
	publicURL string
	hasher    *passwords.Hasher
	now       func() time.Time
	log       *slog.Logger
	audit     audit.Recorder
	sessions  SessionRevoker
	grants    GrantRevoker
}

// Function returns the account function. Without Templates it loads
// Ward's defaults, and panics if they do not load: they are embedded, so
// that is a build fault found at start-up.
func Function(d Deps) *function.Function {
	s := &service{
		st: d.Store, email: d.Email, phone: d.Phone, tpl: d.Templates, from: d.From,
		publicURL: d.PublicURL, hasher: d.Hasher, now: d.Now, log: d.Log, cache: d.Cache,
		sessions: d.Sessions, grants: d.Grants,
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.hasher == nil {
		s.hasher = passwords.Default()
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.tpl == nil {
		r, err := templates.New(nil)
		if err != nil {
			panic("account: default templates: " + err.Error())
		}
		s.tpl = r
	}
	if s.from == "" {
		s.from = "no-reply@localhost"
	}
	s.audit = audit.Recorder{Audit: d.Store.Audit(), Log: s.log, Now: s.now}

	f := function.New(FunctionName)
	function.Op(f, OpRegister, s.register)
	function.Op(f, OpVerifyEmail, s.verifyEmail)
	function.Op(f, OpResendVerification, s.resendVerification)
	function.Op(f, OpRequestPasswordReset, s.requestPasswordReset)
	function.Op(f, OpResetPassword, s.resetPassword)
	function.Op(f, OpInvite, s.invite)
	function.Op(f, OpUpdateProfile, s.updateProfile)
	function.Op(f, OpStartPhoneVerification, s.startPhoneVerification)
	function.Op(f, OpVerifyPhone, s.verifyPhone)
	function.Op(f, OpDeleteAccount, s.deleteAccount)
	function.Op(f, OpExportData, s.exportData)
	return f
}

func (s *service) stamp() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

// self is the user behind a signed-in caller, for the operations a user
// runs on their own account. A caller without a tenant (a system token)
// has no account here.
func (s *service) self(ctx context.Context, c function.Caller) (store.User, error) {
	if c.Anonymous() {
		return store.User{}, errs.New(errs.Unauthenticated, "authentication required")
	}
	if c.Tenant == "" {
		return store.User{}, errs.New(errs.PermissionDenied, "only a tenant's users have an account")
	}
	u, err := s.st.Users().Get(ctx, c.Tenant, c.Subject)
	if errs.CodeOf(err) == errs.NotFound {
		return store.User{}, errs.New(errs.PermissionDenied,
			"the caller is not a user of this tenant")
	}
	return u, err
}

// actor is who an anonymous operation is recorded as: the user it acts
// for, proven by the proof or the password of the operation.
func actor(userID string) function.Caller { return function.Caller{Subject: userID} }

// Anonymous is the audit actor of a request nobody has proven to be the
// user yet (asking for a reset link or a new verification).
const Anonymous = "anonymous"

func userTarget(tenantID, id string) audit.Target {
	return audit.Target{TenantID: tenantID, Type: audit.TypeUser, ID: id}
}

// undo runs a compensating write after a failed second write; it outlives
// a cancelled request, and its own failure is logged.
func (s *service) undo(ctx context.Context, what string, fn func(context.Context) error) {
	if err := fn(context.WithoutCancel(ctx)); err != nil {
		s.log.LogAttrs(ctx, slog.LevelError, "account: undoing a half-done change failed",
			slog.String("what", what), slog.String("request_id", function.RequestID(ctx)),
			slog.String("error", err.Error()))
	}
}
