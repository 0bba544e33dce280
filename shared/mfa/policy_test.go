package mfa_test

import (
	"context"
	"testing"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/mfa"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/users"
)

func TestAUserWithASecondFactorMayChooseAShorterPassword(t *testing.T) {
	e := newEnv(t)
	a := e.alice
	const short = "Qz7vLp2xWk" // ten characters: under 15, over 8
	set := func() error {
		_, err := invokeUsers[users.PasswordOutput](e, users.OpSetPassword,
			users.SetPasswordInput{TenantID: a.TenantID, ID: a.ID, Password: short})
		return err
	}
	wantCode(t, "a short password without a second factor", set(), errs.InvalidArgument)

	mustCall[mfa.RecoveryCodesOutput](t, e, mfa.FunctionName, mfa.OpRegenerateRecovery, self(a),
		mfa.UserInput{TenantID: a.TenantID, UserID: a.ID})
	wantCode(t, "a short password with recovery codes alone", set(), errs.InvalidArgument)

	e.enrollTOTP(t, a)
	mustOK(t, "a short password with TOTP", set())

	// An enrolment not yet confirmed does not count.
	mustCall[mfa.Enrollment](t, e, mfa.FunctionName, mfa.OpEnroll, self(e.bob),
		mfa.EnrollInput{TenantID: e.bob.TenantID, UserID: e.bob.ID, Type: store.FactorTOTP})
	_, err := invokeUsers[users.PasswordOutput](e, users.OpSetPassword,
		users.SetPasswordInput{TenantID: e.bob.TenantID, ID: e.bob.ID, Password: short})
	wantCode(t, "a short password with an unconfirmed factor", err, errs.InvalidArgument)
}

// invokeUsers calls the users function as a system administrator.
func invokeUsers[Out any](e *env, op string, in any) (Out, error) {
	return invoke.Call[Out](context.Background(), e.inv, users.FunctionName, op, sysAdmin, in)
}
