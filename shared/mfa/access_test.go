package mfa_test

import (
	"testing"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/mfa"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/tenants"
)

func TestAFactorOfAnotherUserOrTenantIsNotFound(t *testing.T) {
	e := newEnv(t)
	a := e.alice
	f, secret := e.enrollTOTP(t, a)
	ref := mfa.FactorInput{TenantID: a.TenantID, UserID: a.ID, FactorID: f.ID}
	mine := mfa.UserInput{TenantID: a.TenantID, UserID: a.ID}

	for name, c := range map[string]function.Caller{
		"another user":                 self(e.bob),
		"a user of another tenant":     self(e.eve),
		"another tenant's admin":       tenantAdmin(e.other),
		"a user posing in the tenant":  {Subject: e.eve.ID, Tenant: a.TenantID, Roles: []string{"user"}},
		"a service-less caller as bob": {Subject: e.bob.ID, Tenant: a.TenantID},
	} {
		_, err := call[mfa.ListOutput](e, mfa.OpList, c, mine)
		if code := errs.CodeOf(err); code != errs.NotFound && code != errs.PermissionDenied {
			t.Errorf("%s lists alice's factors: %v", name, err)
		}
		_, err = call[mfa.RemoveOutput](e, mfa.OpRemove, c, ref)
		wantCode(t, name+" removes alice's factor", err, errs.NotFound)
		_, err = call[mfa.Enrollment](e, mfa.OpEnroll, c, mfa.EnrollInput{TenantID: a.TenantID,
			UserID: a.ID, Type: store.FactorTOTP})
		wantCode(t, name+" enrols for alice", err, errs.NotFound)
		_, err = call[mfa.ResetOutput](e, mfa.OpReset, c, mine)
		if code := errs.CodeOf(err); code != errs.NotFound && code != errs.PermissionDenied {
			t.Errorf("%s resets alice's factors: %v", name, err)
		}
		_, err = call[mfa.VerifyOutput](e, mfa.OpVerify, c, mfa.ProofInput{TenantID: a.TenantID,
			UserID: a.ID, FactorID: f.ID, Code: "123456"})
		wantCode(t, name+" verifies", err, errs.PermissionDenied)
	}

	// Service callers name the user: alice's factor under bob's name, or
	// under another tenant, gets the answer a wrong code gets.
	e.clk.Add(30 * 1e9)
	code := e.codeAt(t, secret, 0)
	_, err := e.verify(f, e.bob, "", code)
	wantCode(t, "alice's factor and code as bob", err, errs.Unauthenticated)
	_, err = e.verify(f, store.User{TenantID: e.other.ID, ID: a.ID}, "", code)
	wantCode(t, "alice's factor and code in another tenant", err, errs.Unauthenticated)
	_, err = e.verify(mfa.Factor{ID: "01a24247-f2a5-7e9a-891a-a4cd010b9783"}, a, "", code)
	wantCode(t, "an unknown factor", err, errs.Unauthenticated)
	_, err = call[mfa.ChallengeOutput](e, mfa.OpChallenge, service, mfa.FactorInput{
		TenantID: a.TenantID, UserID: e.bob.ID, FactorID: f.ID})
	wantCode(t, "challenge alice's factor as bob's", err, errs.NotFound)

	// None of that cost alice her factor or her code.
	_, err = e.verify(f, a, "", code)
	mustOK(t, "alice's own code", err)
}

func TestUsersRemoveTheirFactorsAndAdministratorsResetThem(t *testing.T) {
	e := newEnv(t)
	a := e.alice
	f, _ := e.enrollTOTP(t, a)
	mustCall[mfa.RecoveryCodesOutput](t, e, mfa.FunctionName, mfa.OpRegenerateRecovery, self(a),
		mfa.UserInput{TenantID: a.TenantID, UserID: a.ID})
	mine := mfa.UserInput{TenantID: a.TenantID, UserID: a.ID}

	for name, c := range map[string]function.Caller{"alice": self(a), "the service": service,
		"the tenant's admin": tenantAdmin(e.acme), "a system admin": sysAdmin} {
		list, err := call[mfa.ListOutput](e, mfa.OpList, c, mine)
		mustOK(t, name+" lists", err)
		if len(list.Factors) != 2 {
			t.Errorf("%s sees %d factors, want 2", name, len(list.Factors))
		}
	}

	_, err := call[mfa.ResetOutput](e, mfa.OpReset, self(a), mine)
	wantCode(t, "alice resets her own factors", err, errs.PermissionDenied)
	_, err = call[mfa.ResetOutput](e, mfa.OpReset, service, mine)
	if errs.CodeOf(err) != errs.NotFound && errs.CodeOf(err) != errs.PermissionDenied {
		t.Errorf("the service resets factors: %v", err)
	}

	out := mustCall[mfa.RemoveOutput](t, e, mfa.FunctionName, mfa.OpRemove, self(a),
		mfa.FactorInput{TenantID: a.TenantID, UserID: a.ID, FactorID: f.ID})
	if out.ID != f.ID {
		t.Errorf("removed %s, want %s", out.ID, f.ID)
	}
	_, err = call[mfa.RemoveOutput](e, mfa.OpRemove, self(a),
		mfa.FactorInput{TenantID: a.TenantID, UserID: a.ID, FactorID: f.ID})
	wantCode(t, "remove it again", err, errs.NotFound)

	reset := mustCall[mfa.ResetOutput](t, e, mfa.FunctionName, mfa.OpReset, tenantAdmin(e.acme),
		mine)
	if reset.Removed != 1 {
		t.Errorf("reset removed %d, want 1", reset.Removed)
	}
	list := mustCall[mfa.ListOutput](t, e, mfa.FunctionName, mfa.OpList, self(a), mine)
	if len(list.Factors) != 0 {
		t.Errorf("after reset: %v", list.Factors)
	}
	events, _, err := e.st.Audit().List(t.Context(), a.TenantID, store.AuditFilter{}, store.Page{})
	mustOK(t, "audit", err)
	found := false
	for _, ev := range events {
		found = found || (ev.Action == "mfa.reset" && ev.TargetID == a.ID)
	}
	if !found {
		t.Error("the reset was not audited")
	}
}

func TestStaleEnrolmentsGoAway(t *testing.T) {
	e := newEnv(t)
	a := e.alice
	mustCall[mfa.Enrollment](t, e, mfa.FunctionName, mfa.OpEnroll, self(a),
		mfa.EnrollInput{TenantID: a.TenantID, UserID: a.ID, Type: store.FactorTOTP})
	mine := mfa.UserInput{TenantID: a.TenantID, UserID: a.ID}
	list := mustCall[mfa.ListOutput](t, e, mfa.FunctionName, mfa.OpList, self(a), mine)
	if len(list.Factors) != 1 || list.Factors[0].Confirmed {
		t.Fatalf("list = %+v, want one unconfirmed factor", list.Factors)
	}
	e.clk.Add(mfa.PendingTTL + 1e9)
	list = mustCall[mfa.ListOutput](t, e, mfa.FunctionName, mfa.OpList, self(a), mine)
	if len(list.Factors) != 0 {
		t.Errorf("a stale enrolment is still listed: %+v", list.Factors)
	}
}

func TestBadEnrolmentsAreRefused(t *testing.T) {
	e := newEnv(t)
	a := e.alice
	for name, in := range map[string]mfa.EnrollInput{
		"recovery":        {Type: store.FactorRecovery},
		"unknown type":    {Type: "PIGEON"},
		"phone for TOTP":  {Type: store.FactorTOTP, Phone: "+15550100"},
		"malformed phone": {Type: store.FactorSMS, Phone: "555-0100"},
	} {
		in.TenantID, in.UserID = a.TenantID, a.ID
		_, err := call[mfa.Enrollment](e, mfa.OpEnroll, self(a), in)
		wantCode(t, name, err, errs.InvalidArgument)
	}
	_, err := call[mfa.Enrollment](e, mfa.OpEnroll, self(e.bob), mfa.EnrollInput{
		TenantID: a.TenantID, UserID: e.bob.ID, Type: store.FactorSMS})
	wantCode(t, "SMS for a user without a phone", err, errs.InvalidArgument)
}

func TestATenantsFactorRulesApplyToEnrolment(t *testing.T) {
	e := newEnv(t)
	a := e.alice
	auth := store.AuthSettings{Factors: []store.FactorType{store.FactorWebAuthn}}
	mustCall[store.Tenant](t, e, tenants.FunctionName, tenants.OpUpdate, sysAdmin,
		tenants.UpdateInput{ID: e.acme.ID, Auth: &auth})

	_, err := call[mfa.Enrollment](e, mfa.OpEnroll, self(a), mfa.EnrollInput{TenantID: a.TenantID,
		UserID: a.ID, Type: store.FactorTOTP})
	wantCode(t, "TOTP in a tenant of passkeys only", err, errs.PermissionDenied)
	_, err = call[mfa.RecoveryCodesOutput](e, mfa.OpRegenerateRecovery, self(a),
		mfa.UserInput{TenantID: a.TenantID, UserID: a.ID})
	wantCode(t, "recovery codes in a tenant of passkeys only", err, errs.PermissionDenied)
	_, err = e.registerPasskey(t, a, newSoftKey(t, publicURL, rpID))
	mustOK(t, "a passkey", err)
}
