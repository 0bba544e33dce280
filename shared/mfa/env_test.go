package mfa_test

import (
	"context"
	"crypto/rand"
	"log/slog"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/wardhq/ward/shared/cache/memory"
	"github.com/wardhq/ward/shared/clocktest"
	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/messaging/outbox"
	"github.com/wardhq/ward/shared/mfa"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/store/bolt"
	"github.com/wardhq/ward/shared/tenants"
	"github.com/wardhq/ward/shared/users"
)

const (
	publicURL = "https://id.example.com"
	rpID      = "id.example.com"
)

var (
	sysAdmin = function.Caller{Subject: "root", Roles: []string{function.RoleSystemAdmin}}
	service  = function.Caller{Subject: "authn", Roles: []string{function.RoleService}}
)

type env struct {
	t     *testing.T
	clk   *clocktest.Clock
	st    store.Store
	inv   *invoke.Local
	box   *outbox.Outbox
	acme  store.Tenant
	other store.Tenant
	alice store.User
	bob   store.User
	eve   store.User // of the other tenant
}

type envOption func(*mfa.Deps)

func withoutKey() envOption { return func(d *mfa.Deps) { d.Key = nil } }

func newEnv(t testing.TB, opts ...envOption) *env {
	t.Helper()
	// Twelve seconds into a TOTP step, so that small moves of the clock
	// stay in it.
	clk := clocktest.New(time.Date(2030, 1, 2, 3, 4, 12, 0, time.UTC))
	st, err := bolt.Open(filepath.Join(t.TempDir(), "ward.db"), bolt.WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c, err := memory.New(memory.Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	box, err := outbox.New(outbox.Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	key := make([]byte, 32)
	rand.Read(key)
	d := mfa.Deps{Store: st, Cache: c, Email: box, Phone: box, PublicURL: publicURL, Key: key,
		Now: clk.Now, Log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(&d)
	}
	e := &env{clk: clk, st: st, box: box}
	e.inv = invoke.NewLocal(
		tenants.Function(tenants.Deps{Store: st, Now: clk.Now}),
		users.Function(users.Deps{Store: st, Now: clk.Now}),
		mfa.Function(d),
	)
	e.acme = mustCall[store.Tenant](t, e, tenants.FunctionName, tenants.OpCreate, sysAdmin,
		tenants.CreateInput{Name: "acme"})
	e.other = mustCall[store.Tenant](t, e, tenants.FunctionName, tenants.OpCreate, sysAdmin,
		tenants.CreateInput{Name: "other"})
	mk := func(tn store.Tenant, name, phone string) store.User {
		return mustCall[store.User](t, e, users.FunctionName, users.OpCreate, sysAdmin,
			users.CreateInput{TenantID: tn.ID, Username: name, Email: name + "@example.com",
				EmailVerified: true, Phone: phone, PhoneVerified: phone != ""})
	}
	e.alice = mk(e.acme, "alice", "+15550100042")
	e.bob = mk(e.acme, "bob", "")
	e.eve = mk(e.other, "eve", "")
	return e
}

func mustCall[Out any](t testing.TB, e *env, fn, op string, c function.Caller, in any) Out {
	t.Helper()
	out, err := invoke.Call[Out](context.Background(), e.inv, fn, op, c, in)
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
	return out
}

func call[Out any](e *env, op string, c function.Caller, in any) (Out, error) {
	return invoke.Call[Out](context.Background(), e.inv, mfa.FunctionName, op, c, in)
}

// self is the signed-in caller of user u.
func self(u store.User) function.Caller {
	return function.Caller{Subject: u.ID, Tenant: u.TenantID, Roles: []string{function.RoleUser}}
}

func tenantAdmin(tn store.Tenant) function.Caller {
	return function.Caller{Subject: "admin-" + tn.Name, Tenant: tn.ID,
		Roles: []string{function.RoleTenantAdmin}}
}

func wantCode(t testing.TB, what string, err error, code errs.Code) {
	t.Helper()
	if got := errs.CodeOf(err); err == nil || got != code {
		t.Errorf("%s: err = %v, want %s", what, err, code)
	}
}

func mustOK(t testing.TB, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// codeAt is the TOTP code of secret at the step steps away from now.
func (e *env) codeAt(t testing.TB, secret string, steps int) string {
	t.Helper()
	code, err := totp.GenerateCodeCustom(secret, e.clk.Now().Add(time.Duration(steps)*30*time.Second),
		totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// enrollTOTP enrols and confirms a TOTP factor for u and returns it with
// its secret. The confirming code spends the current step.
func (e *env) enrollTOTP(t testing.TB, u store.User) (mfa.Factor, string) {
	t.Helper()
	en := mustCall[mfa.Enrollment](t, e, mfa.FunctionName, mfa.OpEnroll, self(u),
		mfa.EnrollInput{TenantID: u.TenantID, UserID: u.ID, Type: store.FactorTOTP})
	out := mustCall[mfa.ConfirmOutput](t, e, mfa.FunctionName, mfa.OpConfirm, self(u),
		mfa.ProofInput{TenantID: u.TenantID, UserID: u.ID, FactorID: en.FactorID,
			Code: e.codeAt(t, en.Secret, 0)})
	return out.Factor, en.Secret
}

func (e *env) verify(f mfa.Factor, u store.User, challengeID, code string) ([]string, error) {
	out, err := call[mfa.VerifyOutput](e, mfa.OpVerify, service, mfa.ProofInput{
		TenantID: u.TenantID, UserID: u.ID, FactorID: f.ID, ChallengeID: challengeID, Code: code})
	return out.AMR, err
}

var sixDigits = regexp.MustCompile(`\b\d{6}\b`)

// lastCode reads the code of the newest message sent.
func (e *env) lastCode(t testing.TB, tenantID string) string {
	t.Helper()
	recs := e.box.List(tenantID)
	if len(recs) == 0 {
		t.Fatal("no message was sent")
	}
	r := recs[0] // newest first
	var text string
	switch {
	case r.Email != nil:
		text = r.Email.Text
	case r.SMS != nil:
		text = r.SMS.Body
	case r.Voice != nil:
		text = regexp.MustCompile(`(\d) `).ReplaceAllString(r.Voice.Text, "$1")
	}
	code := sixDigits.FindString(text)
	if code == "" {
		t.Fatalf("no code in %q", text)
	}
	return code
}
