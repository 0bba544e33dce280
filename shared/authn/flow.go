package authn

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/wardhq/ward/shared/cache"
	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/validate"
)

// flow is a flow's state, kept in the cache under "authn:flow:<id>".
type flow struct {
	ID        string    `json:"id"`
	TenantID  string    `json:"tenantId"`
	Kind      string    `json:"kind"`
	Step      string    `json:"step"`
	CSRFHash  string    `json:"csrf"`
	CreatedAt time.Time `json:"createdAt"`
	ExpiresAt time.Time `json:"expiresAt"`

	// What the client said at the start; the device ID only as a hash.
	IP         string `json:"ip,omitempty"`
	UserAgent  string `json:"ua,omitempty"`
	DeviceHash string `json:"device,omitempty"`

	Login  string `json:"login,omitempty"`
	UserID string `json:"userId,omitempty"` // set once the password is proven
	// SessionID is the session a step-up raises.
	SessionID string   `json:"sessionId,omitempty"`
	AMR       []string `json:"amr,omitempty"`

	FactorID    string           `json:"factorId,omitempty"`
	FactorType  store.FactorType `json:"factorType,omitempty"`
	ChallengeID string           `json:"challengeId,omitempty"`
	SentTo      string           `json:"sentTo,omitempty"`
	Options     json.RawMessage  `json:"options,omitempty"`
	Enrollment  *Enrollment      `json:"enrollment,omitempty"`
	EnrollTypes []string         `json:"enrollTypes,omitempty"`

	PasswordTries int `json:"pwTries,omitempty"`
	FactorTries   int `json:"factorTries,omitempty"`
}

const flowKeyPrefix = "authn:flow:"

// Bounds of what clients send.
const (
	maxLoginBytes     = 320
	maxPasswordBytes  = 1024
	maxUserAgentBytes = 512
	maxDeviceIDBytes  = 256
	maxCodeBytes      = 64
	maxWebAuthnBytes  = 64 << 10
)

func (c *Client) check() error {
	if len(c.UserAgent) > maxUserAgentBytes {
		// User agents are only recorded; a long one is cut, not refused.
		c.UserAgent = strings.ToValidUTF8(c.UserAgent[:maxUserAgentBytes], "")
	}
	if !utf8.ValidString(c.UserAgent) {
		c.UserAgent = strings.ToValidUTF8(c.UserAgent, "")
	}
	if len(c.DeviceID) > maxDeviceIDBytes {
		return errs.Invalid("client.deviceId", "must be at most %d bytes", maxDeviceIDBytes)
	}
	if len(c.IP) > 64 {
		return errs.Invalid("client.ip", "must be an IP address")
	}
	return nil
}

func (in *StartInput) Validate() error {
	if err := validate.Slug("tenant", in.Tenant); err != nil {
		return err
	}
	if len(in.Username) > maxLoginBytes || !utf8.ValidString(in.Username) {
		return errs.Invalid("username", "must be at most %d bytes of UTF-8", maxLoginBytes)
	}
	return in.Client.check()
}

// checkFlowRef checks the flow ID and CSRF token every later call names.
func checkFlowRef(id, csrf string) error {
	if err := validate.ID("flowId", id); err != nil {
		return err
	}
	if csrf == "" || len(csrf) > 128 {
		return errs.Invalid("csrf", "is required")
	}
	return nil
}

func (in *SubmitInput) Validate() error {
	if err := checkFlowRef(in.FlowID, in.CSRF); err != nil {
		return err
	}
	switch {
	case len(in.Username) > maxLoginBytes || !utf8.ValidString(in.Username):
		return errs.Invalid("username", "must be at most %d bytes of UTF-8", maxLoginBytes)
	case len(in.Password) > maxPasswordBytes:
		return errs.Invalid("password", "must be at most %d bytes", maxPasswordBytes)
	case len(in.Code) > maxCodeBytes:
		return errs.Invalid("code", "must be at most %d bytes", maxCodeBytes)
	case len(in.WebAuthn) > maxWebAuthnBytes:
		return errs.New(errs.TooLarge, "webauthn credential exceeds %d bytes", maxWebAuthnBytes)
	case len(in.Name) > 64 || !utf8.ValidString(in.Name):
		return errs.Invalid("name", "must be at most 64 bytes of UTF-8")
	case len(in.Phone) > 32:
		return errs.Invalid("phone", "must be an E.164 number")
	}
	if in.FactorID != "" {
		if err := validate.ID("factorId", in.FactorID); err != nil {
			return err
		}
	}
	return in.Client.check()
}

func (in *GetInput) Validate() error { return checkFlowRef(in.FlowID, in.CSRF) }

// start begins a sign-in flow. An unknown tenant is NOT_FOUND: tenants
// are public (their names are in every URL of their pages).
func (s *service) start(ctx context.Context, _ function.Caller, in StartInput) (FlowOutput, error) {
	t, err := s.dir.TenantByName(ctx, in.Tenant)
	if err != nil {
		return FlowOutput{}, err
	}
	now := s.now().UTC()
	csrf := randomToken(32)
	f := flow{
		ID: validate.NewID(), TenantID: t.ID, Kind: KindSignIn, Step: StepIdentify,
		CSRFHash: hashHex(csrf), CreatedAt: now, ExpiresAt: now.Add(FlowTTL),
		IP: in.Client.IP, UserAgent: in.Client.UserAgent,
		DeviceHash: deviceHash(t.ID, in.Client.DeviceID),
	}
	if in.Username != "" {
		f.Login, f.Step = in.Username, StepPassword
	}
	if err := s.saveFlow(ctx, f); err != nil {
		return FlowOutput{}, err
	}
	out := s.output(f)
	out.CSRF = csrf
	return out, nil
}

func (s *service) get(ctx context.Context, _ function.Caller, in GetInput) (FlowOutput, error) {
	f, err := s.loadFlow(ctx, in.FlowID, in.CSRF)
	if err != nil {
		return FlowOutput{}, err
	}
	out := s.output(f)
	return out, s.decorate(ctx, f, &out)
}

// submit answers the flow's current step under the flow's lock.
func (s *service) submit(ctx context.Context, _ function.Caller, in SubmitInput) (FlowOutput, error) {
	f, err := s.loadFlow(ctx, in.FlowID, in.CSRF)
	if err != nil {
		return FlowOutput{}, err
	}
	if in.Step != f.Step {
		return FlowOutput{}, errs.Invalid("step",
			"the flow is at step %q, not %q; get the flow to see where it stands", f.Step, in.Step)
	}

	got, err := s.cache.SetNX(ctx, flowKeyPrefix+f.ID+":lock", []byte("1"), lockTTL)
	if err != nil {
		return FlowOutput{}, err
	}
	if !got {
		return FlowOutput{}, errs.New(errs.Conflict, "the flow is busy with another answer; try again")
	}
	defer s.unlock(ctx, f.ID)
	// Read again under the lock: the answer that held it may have moved
	// the flow on.
	if f, err = s.loadFlow(ctx, in.FlowID, in.CSRF); err != nil {
		return FlowOutput{}, err
	}
	if in.Step != f.Step {
		return FlowOutput{}, errs.Invalid("step", "the flow is at step %q, not %q", f.Step, in.Step)
	}

	next, stepErr := s.answer(ctx, &f, in)
	if next.Step == StepDone || next.Step == "" {
		// Done or dead: the flow is gone, whatever the answer said.
		if err := s.cache.Delete(ctx, flowKeyPrefix+f.ID); err != nil {
			s.log.LogAttrs(ctx, slog.LevelError, "authn: deleting a finished flow failed",
				slog.String("request_id", function.RequestID(ctx)), slog.String("error", err.Error()))
		}
		if stepErr != nil {
			return FlowOutput{}, stepErr
		}
		return next, nil
	}
	if err := s.saveFlow(ctx, f); err != nil {
		return FlowOutput{}, err
	}
	if stepErr != nil {
		return FlowOutput{}, stepErr
	}
	return next, s.decorate(ctx, f, &next)
}

func (s *service) unlock(ctx context.Context, id string) {
	if err := s.cache.Delete(context.WithoutCancel(ctx), flowKeyPrefix+id+":lock"); err != nil {
		s.log.LogAttrs(ctx, slog.LevelWarn, "authn: releasing a flow's lock failed",
			slog.String("error", err.Error()))
	}
}

// answer runs one step. It changes f in place; the returned output's Step
// is where the flow goes next ("" when the flow died). An error with a
// flow that goes on keeps the flow at its step.
func (s *service) answer(ctx context.Context, f *flow, in SubmitInput) (FlowOutput, error) {
	switch f.Step {
	case StepIdentify:
		if in.Username == "" {
			return s.output(*f), errs.Invalid("username", "is required")
		}
		f.Login = in.Username
		f.Step = StepPassword
		if in.Password == "" {
			return s.output(*f), nil
		}
		return s.password(ctx, f, string(in.Password), in.Client)
	case StepPassword:
		if in.Password == "" {
			return s.output(*f), errs.Invalid("password", "is required")
		}
		return s.password(ctx, f, string(in.Password), in.Client)
	case StepSelectFactor:
		return s.selectFactor(ctx, f, in.FactorID)
	case StepVerifyFactor:
		return s.verifyFactor(ctx, f, in)
	case StepEnroll:
		return s.enroll(ctx, f, in)
	case StepConfirmEnroll:
		return s.confirmEnroll(ctx, f, in)
	}
	return FlowOutput{}, flowGone()
}

// password checks the password, under the brute-force counts of the login
// and of the client's network, then decides what comes next.
func (s *service) password(ctx context.Context, f *flow, pw string, c Client) (FlowOutput, error) {
	t, err := s.tenant(ctx, f.TenantID)
	if err != nil {
		return s.output(*f), err
	}
	lockAt, lockFor := t.Auth.Lockout()
	subjects := []subject{accountSubject(f.TenantID, f.Login, lockAt, lockFor)}
	if n, ok := networkSubject(f.IP); ok {
		subjects = append(subjects, n)
	}
	if err := s.throttle.check(ctx, subjects...); err != nil {
		return s.output(*f), err
	}
	failuresBefore, err := s.throttle.failures(ctx, subjects[0])
	if err != nil {
		return s.output(*f), err
	}

	u, err := s.dir.CheckPassword(ctx, f.TenantID, f.Login, pw)
	if errs.CodeOf(err) == errs.Unauthenticated {
		locked, terr := s.throttle.fail(ctx, subjects...)
		if terr != nil {
			return s.output(*f), terr
		}
		if locked {
			s.log.LogAttrs(ctx, slog.LevelWarn, "authn: sign-ins locked after failures",
				slog.String("tenant", f.TenantID), slog.String("flow", f.ID))
		}
		f.PasswordTries++
		if f.PasswordTries >= MaxPasswordTries {
			return FlowOutput{}, errs.New(errs.Unauthenticated,
				"wrong username or password; too many tries in this flow, start again")
		}
		return s.output(*f), badCredentials()
	}
	if err != nil {
		return s.output(*f), err
	}
	if err := s.throttle.succeed(ctx, subjects[0]); err != nil {
		return s.output(*f), err
	}

	f.UserID = u.ID
	f.AMR = []string{"pwd"}
	record, err := s.signIns.Get(ctx, f.TenantID, u.ID)
	if err != nil && errs.CodeOf(err) != errs.NotFound {
		return s.output(*f), err
	}
	risk := score(signals{deviceHash: f.DeviceHash, network: networkOf(f.IP),
		failures: failuresBefore, record: record, now: s.now()})
	return s.afterPassword(ctx, f, t, risk)
}

// afterPassword decides whether the tenant's policy asks this sign-in for
// a second factor, and moves the flow there or finishes it.
func (s *service) afterPassword(ctx context.Context, f *flow, t store.Tenant, risk Risk) (
	FlowOutput, error) {
	factors, err := s.usableFactors(ctx, t, f.UserID)
	if err != nil {
		return s.output(*f), err
	}
	ask := false
	switch t.Auth.Policy() {
	case store.MFAOptional:
		ask = len(factors) > 0
	case store.MFARequired:
		ask = true
	case store.MFAAdaptive:
		ask = risk.Score >= t.Auth.Threshold()
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "authn: password accepted",
		slog.String("tenant", f.TenantID), slog.String("flow", f.ID),
		slog.Int("risk", risk.Score), slog.Any("signals", risk.Signals), slog.Bool("mfa", ask))
	if !ask {
		return s.finish(ctx, f)
	}
	return s.toFactors(ctx, f, t, factors)
}

// toFactors moves a flow that needs a second factor to choosing one, to
// proving the only one, or to enrolling one when the user has none.
func (s *service) toFactors(ctx context.Context, f *flow, t store.Tenant, factors []Factor) (
	FlowOutput, error) {
	if len(factors) == 0 {
		f.Step = StepEnroll
		f.EnrollTypes = nil
		for _, typ := range enrollable {
			if t.Auth.Allows(typ) {
				f.EnrollTypes = append(f.EnrollTypes, string(typ))
			}
		}
		if len(f.EnrollTypes) == 0 {
			return FlowOutput{}, errs.New(errs.PermissionDenied,
				"a second factor is required, but the tenant allows none that can be enrolled here")
		}
		return s.output(*f), nil
	}
	if len(factors) == 1 {
		return s.challenge(ctx, f, factors[0])
	}
	f.Step = StepSelectFactor
	return s.output(*f), nil
}

// enrollable are the factor types a flow can enrol, in the order offered.
// Recovery codes are not a first factor to enrol: they back up another.
var enrollable = []store.FactorType{store.FactorWebAuthn, store.FactorTOTP, store.FactorSMS,
	store.FactorVoice, store.FactorEmail}

// usableFactors are the user's confirmed factors of types the tenant
// allows.
func (s *service) usableFactors(ctx context.Context, t store.Tenant, userID string) ([]Factor,
	error) {
	all, err := s.factors.List(ctx, t.ID, userID)
	if err != nil {
		return nil, err
	}
	out := all[:0:0]
	for _, fa := range all {
		if fa.Confirmed && t.Auth.Allows(fa.Type) {
			out = append(out, fa)
		}
	}
	return out, nil
}

func (s *service) selectFactor(ctx context.Context, f *flow, factorID string) (FlowOutput, error) {
	if factorID == "" {
		return s.output(*f), errs.Invalid("factorId", "is required")
	}
	t, err := s.tenant(ctx, f.TenantID)
	if err != nil {
		return s.output(*f), err
	}
	factors, err := s.usableFactors(ctx, t, f.UserID)
	if err != nil {
		return s.output(*f), err
	}
	i := slices.IndexFunc(factors, func(fa Factor) bool { return fa.ID == factorID })
	if i < 0 {
		return s.output(*f), errs.New(errs.NotFound, "no such factor")
	}
	return s.challenge(ctx, f, factors[i])
}

// challenge starts proving one factor and moves the flow to verify it.
func (s *service) challenge(ctx context.Context, f *flow, fa Factor) (FlowOutput, error) {
	ch, err := s.factors.Challenge(ctx, f.TenantID, f.UserID, fa.ID)
	if err != nil {
		return s.output(*f), err
	}
	f.Step = StepVerifyFactor
	f.FactorID, f.FactorType, f.ChallengeID = fa.ID, fa.Type, ch.ID
	f.SentTo, f.Options = ch.SentTo, ch.WebAuthnOptions
	return s.output(*f), nil
}

func (s *service) verifyFactor(ctx context.Context, f *flow, in SubmitInput) (FlowOutput, error) {
	switch {
	case in.FactorID != "" && in.FactorID != f.FactorID:
		return s.selectFactor(ctx, f, in.FactorID)
	case in.Resend:
		return s.selectFactor(ctx, f, f.FactorID)
	case in.Code == "" && len(in.WebAuthn) == 0:
		return s.output(*f), errs.Invalid("code", "is required")
	}
	t, err := s.tenant(ctx, f.TenantID)
	if err != nil {
		return s.output(*f), err
	}
	subjects := s.factorSubjects(f, t)
	if err := s.throttle.check(ctx, subjects...); err != nil {
		return s.output(*f), err
	}
	amr, err := s.factors.Verify(ctx, f.TenantID, f.UserID, Proof{FactorID: f.FactorID,
		ChallengeID: f.ChallengeID, Code: in.Code, WebAuthn: in.WebAuthn})
	if err != nil {
		return s.factorFailed(ctx, f, subjects, err)
	}
	if err := s.throttle.succeed(ctx, subjects[0]); err != nil {
		return s.output(*f), err
	}
	f.AMR = mergeAMR(f.AMR, amr)
	return s.finish(ctx, f)
}

// factorSubjects are what a wrong code counts against: the account (by its
// login, like passwords) and the network.
func (s *service) factorSubjects(f *flow, t store.Tenant) []subject {
	lockAt, lockFor := t.Auth.Lockout()
	login := f.Login
	if login == "" { // a step-up has no login; count by user
		login = "user:" + f.UserID
	}
	subjects := []subject{accountSubject(f.TenantID, login, lockAt, lockFor)}
	if n, ok := networkSubject(f.IP); ok {
		subjects = append(subjects, n)
	}
	return subjects
}

// factorFailed counts a wrong proof; a flow that has had too many ends.
func (s *service) factorFailed(ctx context.Context, f *flow, subjects []subject, err error) (
	FlowOutput, error) {
	if errs.CodeOf(err) != errs.Unauthenticated && errs.CodeOf(err) != errs.InvalidArgument {
		return s.output(*f), err
	}
	if _, terr := s.throttle.fail(ctx, subjects...); terr != nil {
		return s.output(*f), terr
	}
	f.FactorTries++
	if f.FactorTries >= MaxFactorTries {
		return FlowOutput{}, errs.New(errs.Unauthenticated,
			"wrong or expired code; too many tries in this flow, start again")
	}
	return s.output(*f), badProof()
}

func (s *service) enroll(ctx context.Context, f *flow, in SubmitInput) (FlowOutput, error) {
	if !slices.Contains(f.EnrollTypes, string(in.FactorType)) {
		return s.output(*f), errs.Invalid("factorType", "must be one of %s",
			strings.Join(f.EnrollTypes, ", "))
	}
	name := in.Name
	if name == "" {
		name = strings.ToLower(string(in.FactorType))
	}
	e, err := s.factors.Enroll(ctx, f.TenantID, f.UserID, in.FactorType, name, in.Phone)
	if err != nil {
		return s.output(*f), err
	}
	f.Enrollment = &e
	f.Step = StepConfirmEnroll
	return s.output(*f), nil
}

func (s *service) confirmEnroll(ctx context.Context, f *flow, in SubmitInput) (FlowOutput, error) {
	if in.Code == "" && len(in.WebAuthn) == 0 {
		return s.output(*f), errs.Invalid("code", "is required")
	}
	t, err := s.tenant(ctx, f.TenantID)
	if err != nil {
		return s.output(*f), err
	}
	subjects := s.factorSubjects(f, t)
	if err := s.throttle.check(ctx, subjects...); err != nil {
		return s.output(*f), err
	}
	amr, err := s.factors.Confirm(ctx, f.TenantID, f.UserID, *f.Enrollment,
		Proof{FactorID: f.Enrollment.FactorID, ChallengeID: f.Enrollment.ChallengeID,
			Code: in.Code, WebAuthn: in.WebAuthn})
	if err != nil {
		return s.factorFailed(ctx, f, subjects, err)
	}
	f.AMR = mergeAMR(f.AMR, amr)
	return s.finish(ctx, f)
}

// mergeAMR adds a factor's methods to the flow's, and "mfa" once there are
// two kinds of proof.
func mergeAMR(have, add []string) []string {
	out := slices.Clone(have)
	for _, m := range add {
		if !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	if len(out) >= 2 && !slices.Contains(out, "mfa") {
		out = append(out, "mfa")
	}
	return out
}

// finish ends a flow: a sign-in gets a new session, a step-up raises the
// caller's. Either way the user's sign-in record learns the device and
// network.
func (s *service) finish(ctx context.Context, f *flow) (FlowOutput, error) {
	now := s.now().UTC()
	strong := slices.Contains(f.AMR, "mfa")
	acr := store.ACRPassword
	if strong {
		acr = store.ACRMultiFactor
	}
	out := FlowOutput{FlowID: f.ID, Kind: f.Kind, Step: StepDone, ExpiresAt: f.ExpiresAt}
	switch f.Kind {
	case KindStepUp:
		exp, err := s.sessions.Elevate(ctx, f.TenantID, f.SessionID, acr, f.AMR, now)
		if err != nil {
			return FlowOutput{}, err
		}
		out.Session = &SessionResult{SessionID: f.SessionID, UserID: f.UserID,
			TenantID: f.TenantID, ACR: acr, AMR: f.AMR, ExpiresAt: exp}
	default:
		issued, err := s.sessions.Create(ctx, NewSession{TenantID: f.TenantID, UserID: f.UserID,
			ACR: acr, AMR: f.AMR, AuthTime: now, IP: f.IP, UserAgent: f.UserAgent,
			DeviceID: f.DeviceHash})
		if err != nil {
			return FlowOutput{}, err
		}
		out.Session = &SessionResult{Token: issued.Token, SessionID: issued.SessionID,
			UserID: f.UserID, TenantID: f.TenantID, ACR: acr, AMR: f.AMR,
			ExpiresAt: issued.ExpiresAt}
	}
	s.rememberSignIn(ctx, f, now, strong)
	return out, nil
}

// rememberSignIn records the sign-in for later risk scoring. A failure
// costs only the next sign-in's accuracy, so it is logged and the sign-in
// stands.
func (s *service) rememberSignIn(ctx context.Context, f *flow, now time.Time, strong bool) {
	network := networkOf(f.IP)
	_, err := s.signIns.Update(context.WithoutCancel(ctx), f.TenantID, f.UserID,
		func(r store.SignInRecord) (store.SignInRecord, error) {
			return remember(r, f.DeviceHash, network, now, strong), nil
		})
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelError, "authn: recording a sign-in failed",
			slog.String("request_id", function.RequestID(ctx)), slog.String("error", err.Error()))
	}
}

func (s *service) tenant(ctx context.Context, id string) (store.Tenant, error) {
	return s.dir.Tenant(ctx, id)
}

// output is what the client sees of f.
func (s *service) output(f flow) FlowOutput {
	out := FlowOutput{FlowID: f.ID, Kind: f.Kind, Step: f.Step, ExpiresAt: f.ExpiresAt,
		Username: f.Login}
	switch f.Step {
	case StepVerifyFactor:
		out.Challenge = &ChallengeInfo{FactorID: f.FactorID, Type: f.FactorType, SentTo: f.SentTo,
			WebAuthnOptions: f.Options}
	case StepEnroll:
		for _, t := range f.EnrollTypes {
			out.EnrollTypes = append(out.EnrollTypes, store.FactorType(t))
		}
	case StepConfirmEnroll:
		if e := f.Enrollment; e != nil {
			out.Enrollment = &EnrollmentInfo{FactorID: e.FactorID, Type: e.Type, Secret: e.Secret,
				OTPAuthURI: e.OTPAuthURI, QRCode: e.QRCode, SentTo: e.SentTo,
				WebAuthnOptions: e.WebAuthnOptions}
		}
	}
	return out
}

// decorate lists the user's factors in out for the steps that offer a
// choice of them.
func (s *service) decorate(ctx context.Context, f flow, out *FlowOutput) error {
	if out.Step != StepSelectFactor && out.Step != StepVerifyFactor {
		return nil
	}
	t, err := s.tenant(ctx, f.TenantID)
	if err != nil {
		return err
	}
	factors, err := s.usableFactors(ctx, t, f.UserID)
	if err != nil {
		return err
	}
	out.Factors = make([]FactorInfo, 0, len(factors))
	for _, fa := range factors {
		out.Factors = append(out.Factors, FactorInfo{ID: fa.ID, Type: fa.Type, Name: fa.Name,
			Hint: fa.Hint})
	}
	return nil
}

func (s *service) saveFlow(ctx context.Context, f flow) error {
	ttl := f.ExpiresAt.Sub(s.now())
	if ttl <= 0 {
		return flowGone()
	}
	b, err := json.Marshal(f)
	if err != nil {
		return errs.Wrap(errs.Internal, err, "internal error")
	}
	return s.cache.Set(ctx, flowKeyPrefix+f.ID, b, ttl)
}

// loadFlow reads a flow and checks its CSRF token and expiry. Every way of
// not finding it is the same answer.
func (s *service) loadFlow(ctx context.Context, id, csrf string) (flow, error) {
	b, err := s.cache.Get(ctx, flowKeyPrefix+id)
	if errors.Is(err, cache.ErrMiss) {
		return flow{}, flowGone()
	}
	if err != nil {
		return flow{}, err
	}
	var f flow
	if err := json.Unmarshal(b, &f); err != nil {
		return flow{}, errs.Wrap(errs.Unavailable, err, "corrupt sign-in flow")
	}
	if !sameHash(csrf, f.CSRFHash) || !s.now().Before(f.ExpiresAt) {
		return flow{}, flowGone()
	}
	return f, nil
}
