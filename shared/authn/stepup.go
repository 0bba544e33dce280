package authn

import (
	"context"
	"regexp"
	"strconv"
	"time"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/validate"
)

// Step-up: a signed-in user about to make a transaction (a payment, an
// email change) asks whether the session is strong and recent enough for
// it. The tenant's step-up rules (store.AuthSettings.StepUp) name
// transaction types and the value from which each applies; every
// matching rule must be met: the session's acr at least the rule's, and
// its last sign-in at that class within the rule's maximum age. A session
// that falls short proves a second factor in a step-up flow, which raises
// its acr and amr in place.

var transactionType = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9._-]{0,63}$`)

func (in *EvaluateInput) Validate() error {
	if !transactionType.MatchString(in.Type) {
		return errs.Invalid("type", "must be a letter, then letters, digits, '.', '_' or '-', at most 64")
	}
	if in.Value < 0 || in.Value != in.Value {
		return errs.Invalid("value", "must be a number, 0 or more")
	}
	return nil
}

func (in *StartStepUpInput) Validate() error { return in.Client.check() }

// sessionCaller refuses callers that are not users signed in with a
// session of their tenant.
func sessionCaller(c function.Caller) error {
	if c.Anonymous() {
		return errs.New(errs.Unauthenticated, "authentication required")
	}
	if c.Session == "" || c.Tenant == "" {
		return errs.New(errs.PermissionDenied, "only a signed-in user's session can do this")
	}
	return nil
}

func (s *service) evaluate(ctx context.Context, c function.Caller, in EvaluateInput) (
	EvaluateOutput, error) {
	if err := sessionCaller(c); err != nil {
		return EvaluateOutput{}, err
	}
	t, err := s.dir.Tenant(ctx, c.Tenant)
	if err != nil {
		return EvaluateOutput{}, err
	}
	return decide(t.Auth.StepUp, c, in, s.now()), nil
}

// decide applies the step-up rules to a caller's session.
func decide(rules []store.StepUpRule, c function.Caller, in EvaluateInput,
	now time.Time) EvaluateOutput {
	out := EvaluateOutput{Allowed: true}
	for _, r := range rules {
		if r.Transaction != in.Type || in.Value < r.MinValue {
			continue
		}
		if r.MaxAgeSeconds > out.MaxAgeSeconds {
			out.MaxAgeSeconds = r.MaxAgeSeconds
		}
		if higherACR(r.RequiredACR(), out.RequiredACR) {
			out.RequiredACR = r.RequiredACR()
		}
		met := acrAtLeast(c.ACR, r.RequiredACR())
		if r.MaxAgeSeconds > 0 {
			age := now.Sub(time.Unix(c.AuthTime, 0))
			met = met && c.AuthTime > 0 && age <= time.Duration(r.MaxAgeSeconds)*time.Second
		}
		if !met {
			out.Allowed, out.StepUp = false, true
		}
	}
	return out
}

// acrAtLeast compares classes: Ward's are numbers ("1", "2"), compared as
// such; any other class is met only by itself.
func acrAtLeast(have, want string) bool {
	h, herr := strconv.Atoi(have)
	w, werr := strconv.Atoi(want)
	if herr == nil && werr == nil {
		return h >= w
	}
	return have == want
}

func higherACR(a, b string) bool {
	if b == "" {
		return true
	}
	return acrAtLeast(a, b) && a != b
}

// startStepUp starts a flow that proves a second factor for the caller's
// own session; a user without a factor enrols one in it.
func (s *service) startStepUp(ctx context.Context, c function.Caller, in StartStepUpInput) (
	FlowOutput, error) {
	if err := sessionCaller(c); err != nil {
		return FlowOutput{}, err
	}
	t, err := s.dir.Tenant(ctx, c.Tenant)
	if err != nil {
		return FlowOutput{}, err
	}
	now := s.now().UTC()
	csrf := randomToken(32)
	f := flow{
		ID: validate.NewID(), TenantID: t.ID, Kind: KindStepUp, CSRFHash: hashHex(csrf),
		CreatedAt: now, ExpiresAt: now.Add(FlowTTL), IP: in.Client.IP,
		UserAgent: in.Client.UserAgent, DeviceHash: deviceHash(t.ID, in.Client.DeviceID),
		UserID: c.Subject, SessionID: c.Session, AMR: c.AMR,
	}
	factors, err := s.usableFactors(ctx, t, c.Subject)
	if err != nil {
		return FlowOutput{}, err
	}
	out, err := s.toFactors(ctx, &f, t, factors)
	if err != nil {
		return FlowOutput{}, err
	}
	if err := s.saveFlow(ctx, f); err != nil {
		return FlowOutput{}, err
	}
	out.CSRF = csrf
	return out, s.decorate(ctx, f, &out)
}
