// Package authn is Ward's sign-in service: flows that hosted pages, custom
// frontends (through GraphQL) and native apps (through a JSON HTTP API) all
// drive the same way, brute-force protection, risk scoring, and step-up
// for transactions.
//
// # Flows
//
// A flow is started (OpStart), then answered one step at a time
// (OpSubmit) until StepDone: identify and password first; then, when the
// tenant's policy asks for it, a second factor (or the enrolment of one);
// then a session from the sessions service. A flow lives in the cache for
// FlowTTL from its start, whatever happens; it is deleted when it is done
// or has failed too often.
//
// Each flow has a CSRF token, returned once by OpStart and required by
// every later call: it is compared in constant time with the hash kept in
// the flow, so a flow ID alone (in a URL, a log, a cookie) does not let
// anyone answer its steps. Each answer names the step it answers; an
// answer to any step but the current one (a replay of an earlier answer,
// or a jump ahead) is refused and changes nothing. Concurrent answers to
// one flow are serialized by a short lock in the cache; the loser is told
// to try again.
//
// # What the answers tell
//
// Identify never tells whether the account exists: every login goes on to
// the password step, and a wrong password, an unknown login and an account
// that is not active all get the same error after the same password
// hashing (the users service verifies against a dummy hash when there is
// no account). Brute-force counts (throttle.go) are kept per login, not
// per account, for the same reason.
//
// # Risk and MFA
//
// After the password, the flow decides whether to ask for a second factor
// from the tenant's MFA policy (store.AuthSettings): OPTIONAL asks users
// who have a confirmed factor; REQUIRED asks everyone, and users without a
// factor enrol one in the flow; ADAPTIVE asks when the sign-in's risk
// score (risk.go) reaches the tenant's threshold, and users without a
// factor then enrol one. The session records acr "1" and amr ["pwd"]
// without a second factor, and acr "2" and amr with "mfa" and the factor's
// method with one.
package authn

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"log/slog"
	"time"

	"github.com/wardhq/ward/shared/cache"
	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/store"
)

// Limits of a flow.
const (
	// FlowTTL is how long a flow lives from its start.
	FlowTTL = 15 * time.Minute
	// MaxPasswordTries and MaxFactorTries bound the wrong answers one flow
	// takes before it is ended; the counts of throttle.go go on across
	// flows.
	MaxPasswordTries = 5
	MaxFactorTries   = 5
	// lockTTL bounds how long one answer may hold its flow.
	lockTTL = 10 * time.Second
)

// Deps are what the service needs. Directory, Factors and Sessions default
// to the tenants, users, mfa and sessions functions reached through
// Invoker.
type Deps struct {
	Store     store.Store
	Cache     cache.Cache
	Invoker   invoke.Invoker
	Directory Directory
	Factors   Factors
	Sessions  Sessions
	Now       func() time.Time // nil: time.Now
	Log       *slog.Logger     // nil: slog.Default()
}

type service struct {
	signIns  store.SignIns
	cache    cache.Cache
	dir      Directory
	factors  Factors
	sessions Sessions
	throttle *throttle
	now      func() time.Time
	log      *slog.Logger
}

func newService(d Deps) *service {
	s := &service{signIns: d.Store.SignIns(), cache: d.Cache, dir: d.Directory,
		factors: d.Factors, sessions: d.Sessions, now: d.Now, log: d.Log}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.dir == nil {
		s.dir = directoryClient{d.Invoker}
	}
	if s.factors == nil {
		s.factors = factorsClient{d.Invoker}
	}
	if s.sessions == nil {
		s.sessions = sessionsClient{d.Invoker}
	}
	s.throttle = &throttle{cache: d.Cache, now: s.now}
	return s
}

// Function returns the authn function: its operations, and the JSON HTTP
// API for native apps (http.go).
func Function(d Deps) *function.Function {
	s := newService(d)
	f := function.New(FunctionName)
	function.Op(f, OpStart, s.start)
	function.Op(f, OpSubmit, s.submit)
	function.Op(f, OpGet, s.get)
	function.Op(f, OpEvaluate, s.evaluate)
	function.Op(f, OpStartStepUp, s.startStepUp)
	f.Routes = s.routes()
	f.Patterns = []string{"/t/{tenant}/authn/"}
	return f
}

// randomToken returns n random bytes, base64url without padding.
func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashHex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// sameHash compares a presented secret with a stored hash in constant time.
func sameHash(presented, storedHex string) bool {
	got := sha256.Sum256([]byte(presented))
	want, err := hex.DecodeString(storedHex)
	return err == nil && subtle.ConstantTimeCompare(got[:], want) == 1
}

// serviceCaller is who authn is when it calls other functions.
var serviceCaller = function.Caller{Subject: "authn", Roles: []string{function.RoleService}}

// flowGone is the one answer for a flow that does not exist, has expired,
// is done, or whose CSRF token does not match.
func flowGone() error {
	return errs.New(errs.NotFound, "sign-in flow not found or expired; start again")
}

func badCredentials() error {
	return errs.New(errs.Unauthenticated, "wrong username or password")
}

func badProof() error {
	return errs.New(errs.Unauthenticated, "wrong or expired code")
}
