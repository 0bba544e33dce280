package pages_test

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/wardhq/ward/shared/account"
	"github.com/wardhq/ward/shared/authn"
	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/sessions"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/tenants"
)

// The functions the pages drive, faked: each records what it was asked,
// so that tests can tell that a refused form reached none of them.

const (
	tenantID     = "0190b0b0-0000-7000-8000-000000000001"
	goodPassword = "violet-harbour-engine-42"
	sessionToken = "wss_fake-session-token"
	sessionID    = "0190b0b0-0000-7000-8000-0000000000c1"
	userID       = "0190b0b0-0000-7000-8000-0000000000d1"
	totpCode     = "123456"
	enrolCode    = "654321"
	qrPNG        = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNgAAAAAgABSK+kcQAAAABJRU5ErkJggg=="
)

var acme = store.Tenant{ID: tenantID, Name: "acme", DisplayName: "Acme <Corp>",
	Registration: store.RegistrationOpen,
	Auth:         store.AuthSettings{ReturnOrigins: []string{"https://app.acme.example"}},
	Branding: store.Branding{PrimaryColor: "#AA3300", BackgroundColor: "red;}body{x:y",
		LogoURL: "javascript:alert(1)", SupportURL: "https://help.example.com/acme"}}

func fakeTenants() *function.Function {
	f := function.New(tenants.FunctionName)
	function.Op(f, tenants.OpGetByName, func(_ context.Context, c function.Caller,
		in tenants.GetByNameInput) (store.Tenant, error) {
		if !c.Has(function.RoleService) {
			return store.Tenant{}, errs.New(errs.PermissionDenied, "service role required")
		}
		if in.Name != acme.Name {
			return store.Tenant{}, errs.New(errs.NotFound, "tenant not found")
		}
		return acme, nil
	})
	return f
}

// fakeAuthn is a scripted sign-in: "alice" signs in with the password
// alone; "mia" has factors (TOTP, SMS, WebAuthn) and must prove the TOTP
// one; "eve" has none and must enrol one.
type fakeAuthn struct {
	mu      sync.Mutex
	flows   map[string]*authn.FlowOutput
	csrf    map[string]string
	users   map[string]string // flow ID -> username
	starts  int
	submits []authn.SubmitInput
	n       int
}

func newFakeAuthn() *fakeAuthn {
	return &fakeAuthn{flows: map[string]*authn.FlowOutput{}, csrf: map[string]string{},
		users: map[string]string{}}
}

func (a *fakeAuthn) function() *function.Function {
	f := function.New(authn.FunctionName)
	function.Op(f, authn.OpStart, a.start)
	function.Op(f, authn.OpGet, a.get)
	function.Op(f, authn.OpSubmit, a.submit)
	return f
}

func (a *fakeAuthn) start(_ context.Context, _ function.Caller, in authn.StartInput) (
	authn.FlowOutput, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.starts++
	a.n++
	id := fmt.Sprintf("0190b0b0-0000-7000-8000-%012d", a.n)
	out := &authn.FlowOutput{FlowID: id, Kind: authn.KindSignIn, Step: authn.StepIdentify,
		ExpiresAt: time.Now().Add(authn.FlowTTL)}
	a.flows[id], a.csrf[id] = out, fmt.Sprintf("csrf-token-of-flow-%d-0123456789abcdef", a.n)
	res := *out
	res.CSRF = a.csrf[id]
	return res, nil
}

func (a *fakeAuthn) flow(id, csrf string) (*authn.FlowOutput, error) {
	f, ok := a.flows[id]
	if !ok || a.csrf[id] != csrf {
		return nil, errs.New(errs.NotFound, "sign-in flow not found or expired; start again")
	}
	return f, nil
}

func (a *fakeAuthn) get(_ context.Context, _ function.Caller, in authn.GetInput) (
	authn.FlowOutput, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	f, err := a.flow(in.FlowID, in.CSRF)
	if err != nil {
		return authn.FlowOutput{}, err
	}
	return *f, nil
}

var miaFactors = []authn.FactorInfo{
	{ID: "0190b0b0-0000-7000-8000-00000000f001", Type: store.FactorTOTP, Name: "phone app"},
	{ID: "0190b0b0-0000-7000-8000-00000000f002", Type: store.FactorSMS, Hint: "••••42"},
	{ID: "0190b0b0-0000-7000-8000-00000000f003", Type: store.FactorWebAuthn, Name: "key"},
}

func (a *fakeAuthn) submit(_ context.Context, _ function.Caller, in authn.SubmitInput) (
	authn.FlowOutput, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.submits = append(a.submits, in)
	f, err := a.flow(in.FlowID, in.CSRF)
	if err != nil {
		return authn.FlowOutput{}, err
	}
	if in.Step != f.Step {
		return authn.FlowOutput{}, errs.Invalid("step", "the flow is at another step")
	}
	switch f.Step {
	case authn.StepIdentify, authn.StepPassword:
		if in.Username != "" {
			f.Username = in.Username
			a.users[f.FlowID] = in.Username
		}
		f.Step = authn.StepPassword
		if in.Password != goodPassword {
			return authn.FlowOutput{}, errs.New(errs.Unauthenticated, "wrong username or password")
		}
		switch a.users[f.FlowID] {
		case "mia":
			f.Step, f.Factors = authn.StepSelectFactor, miaFactors
		case "eve":
			f.Step = authn.StepEnroll
			f.EnrollTypes = []store.FactorType{store.FactorWebAuthn, store.FactorTOTP, store.FactorSMS}
		default:
			return a.done(f), nil
		}
	case authn.StepSelectFactor:
		if in.FactorID != miaFactors[0].ID {
			return authn.FlowOutput{}, errs.New(errs.NotFound, "no such factor")
		}
		f.Step = authn.StepVerifyFactor
		f.Challenge = &authn.ChallengeInfo{FactorID: in.FactorID, Type: store.FactorTOTP}
	case authn.StepVerifyFactor, authn.StepConfirmEnroll:
		want := totpCode
		if f.Step == authn.StepConfirmEnroll {
			want = enrolCode
		}
		if in.Code != want {
			return authn.FlowOutput{}, errs.New(errs.Unauthenticated, "wrong or expired code")
		}
		return a.done(f), nil
	case authn.StepEnroll:
		if in.FactorType != store.FactorTOTP {
			return authn.FlowOutput{}, errs.Invalid("factorType", "must be one of TOTP, SMS")
		}
		f.Step = authn.StepConfirmEnroll
		f.Enrollment = &authn.EnrollmentInfo{FactorID: "x", Type: store.FactorTOTP,
			Secret: "JBSWY3DPEHPK3PXP", QRCode: qrPNG}
	}
	return *f, nil
}

func (a *fakeAuthn) done(f *authn.FlowOutput) authn.FlowOutput {
	delete(a.flows, f.FlowID)
	return authn.FlowOutput{FlowID: f.FlowID, Kind: f.Kind, Step: authn.StepDone,
		Session: &authn.SessionResult{Token: sessionToken, SessionID: "s1", UserID: "u1",
			TenantID: tenantID, ACR: "1", AMR: []string{"pwd"},
			ExpiresAt: time.Now().Add(12 * time.Hour)}}
}

func (a *fakeAuthn) submitted() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.submits)
}

// fakeAccount records the self-service calls.
type fakeAccount struct {
	mu    sync.Mutex
	calls []string
	last  any
}

const (
	verificationID = "0190b0b0-0000-7000-8000-0000000000a1"
	emailCode      = "246810"
	resetToken     = "0190b0b0-0000-7000-8000-0000000000b1.secret"
)

func (a *fakeAccount) record(op string, in any) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls = append(a.calls, op)
	a.last = in
}

func (a *fakeAccount) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.calls)
}

func (a *fakeAccount) function() *function.Function {
	f := function.New(account.FunctionName)
	function.Op(f, account.OpRegister, func(_ context.Context, _ function.Caller,
		in account.RegisterInput) (account.RegisterOutput, error) {
		a.record(account.OpRegister, in)
		if len(in.Password) < 15 {
			return account.RegisterOutput{}, errs.Invalid("password",
				"must be at least 15 characters long")
		}
		return account.RegisterOutput{VerificationID: verificationID}, nil
	})
	function.Op(f, account.OpVerifyEmail, func(_ context.Context, _ function.Caller,
		in account.VerifyEmailInput) (account.VerifyOutput, error) {
		a.record(account.OpVerifyEmail, in)
		if (in.VerificationID == verificationID && in.Code == emailCode) || in.Token == resetToken {
			return account.VerifyOutput{Verified: true}, nil
		}
		return account.VerifyOutput{}, errs.New(errs.InvalidArgument,
			"the link or code is invalid or has expired")
	})
	function.Op(f, account.OpRequestPasswordReset, func(_ context.Context, _ function.Caller,
		in account.RequestResetInput) (account.AcceptedOutput, error) {
		a.record(account.OpRequestPasswordReset, in)
		if in.Email == "" {
			return account.AcceptedOutput{}, errs.Invalid("email", "is required")
		}
		return account.AcceptedOutput{Accepted: true}, nil
	})
	function.Op(f, account.OpResetPassword, func(_ context.Context, _ function.Caller,
		in account.ResetPasswordInput) (account.AcceptedOutput, error) {
		a.record(account.OpResetPassword, in)
		if in.Token != resetToken {
			return account.AcceptedOutput{}, errs.New(errs.InvalidArgument,
				"the link or code is invalid or has expired")
		}
		if len(in.NewPassword) < 15 {
			return account.AcceptedOutput{}, errs.Invalid("newPassword",
				"must be at least 15 characters long")
		}
		return account.AcceptedOutput{Accepted: true}, nil
	})
	return f
}

// fakeSessions knows one session, sessionToken's (of user userID), until
// it is revoked. Like the real service, it lets only the session's own
// user (or an administrator, which the pages never are) revoke it; fail
// makes revoke answer a fault.
type fakeSessions struct {
	mu       sync.Mutex
	revoked  bool
	revokers []function.Caller
	fail     error
}

func (s *fakeSessions) function() *function.Function {
	f := function.New(sessions.FunctionName)
	function.Op(f, sessions.OpValidate, func(_ context.Context, c function.Caller,
		in sessions.ValidateInput) (sessions.ValidateOutput, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if !c.Has(function.RoleService) {
			return sessions.ValidateOutput{}, errs.New(errs.PermissionDenied, "service role required")
		}
		if string(in.Token) != sessionToken || in.Tenant != tenantID || s.revoked {
			return sessions.ValidateOutput{}, errs.New(errs.Unauthenticated, "invalid token")
		}
		return sessions.ValidateOutput{Active: true, Kind: sessions.KindSession, Subject: userID,
			TenantID: tenantID, SessionID: sessionID, ACR: "1", AMR: []string{"pwd"},
			Roles: []string{function.RoleUser}}, nil
	})
	function.Op(f, sessions.OpRevoke, func(_ context.Context, c function.Caller,
		in sessions.RevokeInput) (sessions.RevokeOutput, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.revokers = append(s.revokers, c)
		if s.fail != nil {
			return sessions.RevokeOutput{}, s.fail
		}
		if c.Subject != userID || c.Tenant != tenantID || c.Session != sessionID ||
			in.TenantID != tenantID || in.ID != sessionID || in.UserID != userID || s.revoked {
			return sessions.RevokeOutput{}, errs.New(errs.NotFound, "session not found")
		}
		s.revoked = true
		return sessions.RevokeOutput{ID: in.ID}, nil
	})
	return f
}

func (s *fakeSessions) state() (revoked bool, calls int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.revoked, len(s.revokers)
}
