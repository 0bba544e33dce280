// Package mfa is Ward's second factor service: TOTP authenticator apps,
// one-time codes by email, SMS and voice call, single-use recovery codes,
// and WebAuthn passkeys and security keys.
//
// Who may call what:
//
//   - the signed-in user, on their own factors: list, enroll, confirm,
//     remove, regenerateRecoveryCodes;
//   - service callers (the sign-in flows of package authn): list,
//     challenge, verify, and enroll and confirm on a user's behalf;
//   - system administrators, the tenant's administrators and organization
//     administrators who reach the user (package orgs): list and reset
//     (remove every factor). Resets are audited.
//
// A factor of another user or another tenant is NOT_FOUND, exactly like a
// missing one; in verify, an unknown factor, an unconfirmed one, a wrong
// code, an expired or spent challenge and a replayed code all get the one
// answer UNAUTHENTICATED "wrong or expired code".
//
// # Secrets
//
// A TOTP seed is sealed with AES-256-GCM under Deps.Key (WARD_MFA_KEY; the
// local process keeps a generated key in a file next to its store, see
// package platform), bound to the tenant, user and factor IDs as
// additional data, so a copy of the store alone reveals no seed, and a
// sealed seed moved to another factor does not open. Without a key, TOTP
// enrolment and verification are UNAVAILABLE. Recovery codes are kept as
// SHA-256 hashes only: they are 50 random bits each, made by Ward, so a
// fast hash does not let anyone search them back. One-time codes live in
// the cache for CodeTTL as SHA-256 hashes bound to their challenge ID; a
// code has only 20 bits, so whoever reads the cache within those five
// minutes could find it by search: the cache is trusted like the store.
//
// # Replay and guessing
//
// A TOTP code is accepted in its 30-second step and one step either side;
// the factor records the last step accepted, written by compare-and-swap,
// so a code (and any earlier one) is never accepted twice, even by
// concurrent requests. A one-time code is single use (the cache entry is
// taken with GetDel), expires after CodeTTL and dies after MaxCodeTries
// wrong tries. A recovery code is removed from its factor by
// compare-and-swap when it is used. Beyond that, every failed proof of a
// factor is counted in the cache: from MaxFailures in FailureWindow the
// factor refuses proofs with RATE_LIMITED until the window ends. The
// sign-in flows count failures per login and network on top (package
// authn).
//
// # WebAuthn
//
// The relying party ID is the host of Deps.PublicURL, and its origin the
// only one allowed. Ceremony state (the challenge) is kept in the cache
// for CodeTTL and taken once. A signature counter that does not grow (an
// authenticator that reports counters, cloned) is refused. The AMR of a
// passkey is "swk" when the credential may be backed up (a synced
// passkey) and "hwk" otherwise.
//
// Known shortcomings:
//   - Enrolling or removing a factor asks for a signed-in session, not a
//     recent or multi-factor one: whoever holds a session can replace the
//     user's factors. Step-up rules of the tenant (authn.evaluate) are the
//     way to ask more, and the facade does not apply them here yet.
//   - MaxFactors per user is checked before the write, not with it, so
//     concurrent enrolments may pass it by a few.
//   - The per-factor failure count lets anyone who can reach verify for
//     a user (a sign-in flow, after the password) block that factor for
//     FailureWindow.
package mfa

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"log/slog"
	"net/url"
	"strconv"
	"time"

	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/wardhq/ward/shared/audit"
	"github.com/wardhq/ward/shared/cache"
	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/messaging"
	"github.com/wardhq/ward/shared/messaging/templates"
	"github.com/wardhq/ward/shared/store"
)

// Limits.
const (
	// CodeTTL is how long a one-time code or a WebAuthn ceremony lives.
	CodeTTL = 5 * time.Minute
	// MaxCodeTries is how many wrong codes one challenge takes.
	MaxCodeTries = 5
	// MaxFailures failed proofs of one factor in FailureWindow block it
	// until the window ends.
	MaxFailures   = 10
	FailureWindow = 15 * time.Minute
	// MaxSends bounds the codes sent for one factor in FailureWindow.
	MaxSends = 5
	// MaxFactors bounds a user's factors, unconfirmed ones included.
	MaxFactors = 20
	// PendingTTL is how long an unconfirmed factor waits for its proof;
	// older ones are removed when the user's factors are next listed.
	PendingTTL = 15 * time.Minute
	// RecoveryCodes is how many recovery codes a user gets at a time.
	RecoveryCodes = 10
)

// Deps are what the service needs.
type Deps struct {
	Store store.Store
	// Cache holds one-time codes, WebAuthn ceremonies and failure counts.
	// Required.
	Cache cache.Cache
	// Email and Phone send one-time codes; nil: those factors are
	// UNAVAILABLE.
	Email     messaging.EmailSender
	Phone     messaging.PhoneSender
	Templates *templates.Renderer // nil: Ward's default templates
	From      string              // the sender of emails
	// PublicURL is where people reach Ward; its host is the WebAuthn
	// relying party ID and its origin the one allowed. Empty: WebAuthn is
	// UNAVAILABLE.
	PublicURL string
	// Key seals TOTP seeds: 32 bytes. Nil: TOTP is UNAVAILABLE.
	Key []byte
	Now func() time.Time // nil: time.Now
	Log *slog.Logger     // nil: slog.Default()
}

type service struct {
	st    store.Store
	cache cache.Cache
	email messaging.EmailSender
	phone messaging.PhoneSender
	tpl   *templates.Renderer
	from  string
	key   []byte
	wa    *webauthn.WebAuthn // nil when not configured
	now   func() time.Time
	log   *slog.Logger
	audit audit.Recorder
}

func newService(d Deps) *service {
	if d.Cache == nil {
		// Codes, ceremonies and failure counts have nowhere else to live;
		// a start-up fault, found at start-up.
		panic("mfa: Deps.Cache is required")
	}
	s := &service{st: d.Store, cache: d.Cache, email: d.Email, phone: d.Phone,
		tpl: d.Templates, from: d.From, now: d.Now, log: d.Log}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.tpl == nil {
		r, err := templates.New(nil)
		if err != nil {
			panic("mfa: default templates: " + err.Error())
		}
		s.tpl = r
	}
	if s.from == "" {
		s.from = "no-reply@localhost"
	}
	if len(d.Key) == 32 {
		s.key = append([]byte(nil), d.Key...)
	} else if len(d.Key) != 0 {
		s.log.Error("mfa: the key must be 32 bytes; TOTP is unavailable")
	}
	if d.PublicURL != "" {
		wa, err := newWebAuthn(d.PublicURL)
		if err != nil {
			// A public URL on an IP address (the local process's default,
			// http://127.0.0.1:8080) has no domain to be a relying party:
			// passkeys need Ward reached by name, even "localhost".
			s.log.Warn("mfa: passkeys (WebAuthn) are unavailable: WARD_PUBLIC_URL must "+
				"name a host by domain", slog.String("error", err.Error()))
		}
		s.wa = wa
	}
	s.audit = audit.Recorder{Audit: d.Store.Audit(), Log: s.log, Now: s.now}
	return s
}

// newWebAuthn makes the relying party of publicURL: its host is the RP ID,
// its origin the one origin allowed.
func newWebAuthn(publicURL string) (*webauthn.WebAuthn, error) {
	u, err := url.Parse(publicURL)
	if err != nil || u.Hostname() == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, errs.New(errs.InvalidArgument, "the public URL has no host")
	}
	return webauthn.New(&webauthn.Config{
		RPID:          u.Hostname(),
		RPDisplayName: "Ward",
		RPOrigins:     []string{u.Scheme + "://" + u.Host},
		Timeouts: webauthn.TimeoutsConfig{
			Login:        webauthn.TimeoutConfig{Enforce: true, Timeout: CodeTTL},
			Registration: webauthn.TimeoutConfig{Enforce: true, Timeout: CodeTTL},
		},
	})
}

// Function returns the mfa function. It panics without a cache.
func Function(d Deps) *function.Function {
	s := newService(d)
	f := function.New(FunctionName)
	function.Op(f, OpList, s.list)
	function.Op(f, OpRemove, s.remove)
	function.Op(f, OpReset, s.reset)
	function.Op(f, OpEnroll, s.enroll)
	function.Op(f, OpConfirm, s.confirm)
	function.Op(f, OpRegenerateRecovery, s.regenerateRecovery)
	function.Op(f, OpChallenge, s.challenge)
	function.Op(f, OpVerify, s.verify)
	return f
}

func (s *service) stamp() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

// badProof is the one answer for every proof that fails.
func badProof() error { return errs.New(errs.Unauthenticated, "wrong or expired code") }

func factorNotFound() error { return errs.New(errs.NotFound, "factor not found") }

// hashHex is the hex SHA-256 of its parts, each preceded by its length so
// that no two lists of parts hash alike.
func hashHex(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		var n [4]byte
		n[0], n[1], n[2], n[3] = byte(len(p)>>24), byte(len(p)>>16), byte(len(p)>>8), byte(len(p))
		h.Write(n[:])
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// sameHex compares two hex hashes in constant time.
func sameHex(a, b string) bool {
	return len(a) == len(b) && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// randomDigits returns n random decimal digits, uniformly.
func randomDigits(n int) string {
	const digits = "0123456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[randIntn(10)]
	}
	return string(b)
}

// randIntn returns a uniform random number below n (n < 256) by
// rejection sampling over crypto/rand.
func randIntn(n int) int {
	limit := 256 - 256%n
	var b [1]byte
	for {
		_, _ = rand.Read(b[:]) // never fails (crypto/rand, Go 1.24+)
		if int(b[0]) < limit {
			return int(b[0]) % n
		}
	}
}

// publicFactor is what operations return of a stored factor.
func publicFactor(f store.Factor) Factor {
	out := Factor{ID: f.ID, Type: f.Type, Name: f.Name, Confirmed: f.Confirmed,
		Hint: hintOf(f), CreatedAt: f.CreatedAt}
	if !f.LastUsedAt.IsZero() {
		t := f.LastUsedAt
		out.LastUsedAt = &t
	}
	return out
}

// counted runs a proof check and counts its failure against the factor.
// A factor at MaxFailures refuses proofs until its window ends.
func (s *service) counted(ctx context.Context, f store.Factor, check func() ([]string, error)) (
	[]string, error) {
	key := "mfa:fail:" + f.TenantID + ":" + f.ID
	if n, err := s.failures(ctx, key); err != nil {
		return nil, err
	} else if n >= MaxFailures {
		return nil, errs.New(errs.RateLimited, "too many wrong codes for this factor; try again later")
	}
	amr, err := check()
	if errs.CodeOf(err) == errs.Unauthenticated {
		if _, ierr := s.cache.Incr(ctx, key, FailureWindow); ierr != nil {
			return nil, ierr
		}
		s.log.LogAttrs(ctx, slog.LevelWarn, "mfa: a proof failed",
			slog.String("tenant", f.TenantID), slog.String("factor", f.ID),
			slog.String("type", string(f.Type)), slog.String("request_id", function.RequestID(ctx)))
	}
	return amr, err
}

// failures reads a failure counter without raising it.
func (s *service) failures(ctx context.Context, key string) (int64, error) {
	b, err := s.cache.Get(ctx, key)
	if errs.CodeOf(err) == errs.NotFound {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return 0, nil // not a counter: nothing counted
	}
	return n, nil
}
