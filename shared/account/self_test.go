package account_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/wardhq/ward/shared/account"
	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/users"
	"github.com/wardhq/ward/shared/validate"
)

func requestReset(e *env, addr string) {
	e.t.Helper()
	out, err := call[account.AcceptedOutput](e, anon, account.OpRequestPasswordReset,
		account.RequestResetInput{Tenant: e.tn.Name, Email: addr})
	if err != nil || !out.Accepted || out.VerificationID != "" {
		e.t.Fatalf("requestPasswordReset(%s) = %+v, %v", addr, out, err)
	}
}

func (e *env) passwordIs(u store.User, pw string) bool {
	e.t.Helper()
	cred, err := e.st.Credentials().GetPassword(context.Background(), u.TenantID, u.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	ok, _, err := hasher(e.t).Verify(pw, cred.Hash)
	if err != nil {
		e.t.Fatal(err)
	}
	return ok
}

func TestPasswordReset(t *testing.T) {
	e := newEnv(t, store.RegistrationOpen)
	u := e.user("ann")
	other := e.user("bob")
	e.token(u)
	e.token(u)
	kept := e.token(other)

	requestReset(e, "nobody@example.com")
	if e.box.Len() != 0 {
		t.Fatalf("a message went out for an unknown address")
	}
	requestReset(e, u.Email)
	_, first := e.link(e.lastMail(u.Email), "token")
	requestReset(e, u.Email)
	m := e.lastMail(u.Email)
	path, token := e.link(m, "token")
	if m.kind != "reset-password" || path != account.PathResetPassword || token == first {
		t.Fatalf("reset mail %s to %s", m.kind, path)
	}

	reset := func(tok string, pw users.Password) error {
		_, err := call[account.AcceptedOutput](e, anon, account.OpResetPassword,
			account.ResetPasswordInput{Tenant: e.tn.Name, Token: tok, NewPassword: pw})
		return err
	}
	wantCode(t, reset(first, newPassword), errs.InvalidArgument, msgInvalidProof)
	err := reset(token, "abcabcabcabcabcabcabc")
	wantCode(t, err, errs.InvalidArgument, "")
	if f := errs.Public(err).Field; f != "newPassword" {
		t.Errorf("field = %q, want newPassword", f)
	}
	if err := reset(token, newPassword); err != nil {
		t.Fatalf("the link after a refused password: %v", err)
	}
	if !e.passwordIs(u, newPassword) {
		t.Error("the password did not change")
	}
	wantCode(t, reset(token, newPassword+"x"), errs.Conflict, msgUsed)

	items, _, _ := e.st.APITokens().List(context.Background(), e.tn.ID, store.Page{})
	if len(items) != 1 || items[0].ID != kept.ID {
		t.Errorf("tokens after the reset = %v, want only bob's", items)
	}
	want := []string{"account.resetPassword", "account.requestPasswordReset",
		"account.requestPasswordReset"}
	if got := e.auditActions(u.ID); !slices.Equal(got, want) {
		t.Errorf("audit = %v, want %v (newest first)", got, want)
	}
}

func TestPasswordResetExpiresAndVerifiesAPendingAddress(t *testing.T) {
	e := newEnv(t, store.RegistrationOpen)
	if _, err := register(e, "ann@example.com"); err != nil {
		t.Fatal(err)
	}
	requestReset(e, "ann@example.com")
	_, token := e.link(e.lastMail("ann@example.com"), "token")
	e.clk.Add(account.ResetProofTTL)
	_, err := call[account.AcceptedOutput](e, anon, account.OpResetPassword,
		account.ResetPasswordInput{Tenant: e.tn.Name, Token: token, NewPassword: newPassword})
	wantCode(t, err, errs.InvalidArgument, msgInvalidProof)

	requestReset(e, "ann@example.com")
	_, token = e.link(e.lastMail("ann@example.com"), "token")
	if _, err := call[account.AcceptedOutput](e, anon, account.OpResetPassword,
		account.ResetPasswordInput{Tenant: e.tn.Name, Token: token,
			NewPassword: newPassword}); err != nil {
		t.Fatal(err)
	}
	u, _ := e.st.Users().GetByEmail(context.Background(), e.tn.ID, "ann@example.com")
	if !u.EmailVerified || u.Status != store.UserActive {
		t.Errorf("user = %+v, want verified and ACTIVE after a reset by email", u)
	}
}

func TestUpdateProfile(t *testing.T) {
	e := newEnv(t, store.RegistrationOpen)
	u := e.user("ann")
	_, err := e.st.Tenants().Update(context.Background(), e.tn.ID,
		func(tn store.Tenant) (store.Tenant, error) {
			tn.UserSchema = []store.AttributeDef{
				{Name: "nickname", Type: store.AttributeString, UserEditable: true},
				{Name: "employeeId", Type: store.AttributeString},
			}
			return tn, nil
		})
	if err != nil {
		t.Fatal(err)
	}
	name, loc, phone := "Ann Lee", "fr_ca", "+14155550100"
	out, err := call[account.UpdateProfileOutput](e, self(u), account.OpUpdateProfile,
		account.UpdateProfileInput{DisplayName: &name, Locale: &loc, Phone: &phone,
			Attributes:  map[string]any{"nickname": "annie"},
			Preferences: map[string]*string{"timezone": ptr("Europe/Paris")}})
	if err != nil {
		t.Fatal(err)
	}
	got := out.User
	if got.DisplayName != name || got.Locale != "fr-CA" || got.Phone != phone ||
		got.PhoneVerified || got.Preferences["timezone"] != "Europe/Paris" ||
		got.Attributes["nickname"] != "annie" {
		t.Errorf("user = %+v", got)
	}

	t.Run("refusals change nothing", func(t *testing.T) {
		bad := []account.UpdateProfileInput{
			{Phone: ptr("0155")},
			{Locale: ptr("??")},
			{Email: ptr("not an address")},
			{Email: ptr("")},
			{Preferences: map[string]*string{"1bad": ptr("x")}},
			{Attributes: map[string]any{"undeclared": "x"}},
			{Attributes: map[string]any{"nickname": 12.0}},
		}
		for _, in := range bad {
			_, err := call[account.UpdateProfileOutput](e, self(u), account.OpUpdateProfile, in)
			wantCode(t, err, errs.InvalidArgument, "")
		}
		_, err := call[account.UpdateProfileOutput](e, self(u), account.OpUpdateProfile,
			account.UpdateProfileInput{Attributes: map[string]any{"employeeId": "E1"}})
		wantCode(t, err, errs.PermissionDenied, "")
		after, _ := e.getUser(u.ID)
		if after.Version != got.Version {
			t.Error("a refused update wrote")
		}
	})

	t.Run("only signed-in users of the tenant", func(t *testing.T) {
		_, err := call[account.UpdateProfileOutput](e, anon, account.OpUpdateProfile,
			account.UpdateProfileInput{DisplayName: &name})
		wantCode(t, err, errs.Unauthenticated, "")
		stranger := function.Caller{Subject: validate.NewID(), Tenant: e.tn.ID}
		_, err = call[account.UpdateProfileOutput](e, stranger, account.OpUpdateProfile,
			account.UpdateProfileInput{DisplayName: &name})
		wantCode(t, err, errs.PermissionDenied, "")
	})

	t.Run("an email change applies once verified", func(t *testing.T) {
		out, err := call[account.UpdateProfileOutput](e, self(u), account.OpUpdateProfile,
			account.UpdateProfileInput{Email: ptr("Ann.New@example.com")})
		if err != nil {
			t.Fatal(err)
		}
		if out.User.Email != u.Email || out.EmailVerificationID == "" {
			t.Fatalf("after asking: email %q, verification %q", out.User.Email,
				out.EmailVerificationID)
		}
		code := e.code(e.lastMail("ann.new@example.com").text)
		if _, err := call[account.VerifyOutput](e, anon, account.OpVerifyEmail,
			account.VerifyEmailInput{Tenant: e.tn.Name, VerificationID: out.EmailVerificationID,
				Code: code}); err != nil {
			t.Fatal(err)
		}
		after, _ := e.getUser(u.ID)
		if after.Email != "ann.new@example.com" || !after.EmailVerified {
			t.Errorf("after verifying: %+v", after)
		}
	})
}

func ptr[T any](v T) *T { return &v }

func TestPhoneVerification(t *testing.T) {
	e := newEnv(t, store.RegistrationOpen)
	u := e.user("ann")
	_, err := call[account.IDOutput](e, self(u), account.OpStartPhoneVerification,
		account.StartPhoneInput{})
	wantCode(t, err, errs.InvalidArgument, "")

	if _, err := call[account.UpdateProfileOutput](e, self(u), account.OpUpdateProfile,
		account.UpdateProfileInput{Phone: ptr("+14155550100")}); err != nil {
		t.Fatal(err)
	}
	out, err := call[account.IDOutput](e, self(u), account.OpStartPhoneVerification,
		account.StartPhoneInput{})
	if err != nil {
		t.Fatal(err)
	}
	recs := e.box.List(e.tn.ID)
	if len(recs) == 0 || recs[0].SMS == nil || recs[0].SMS.To != "+14155550100" {
		t.Fatalf("no SMS to the phone: %+v", recs)
	}
	code := e.code(recs[0].SMS.Body)

	other := e.user("bob")
	_, err = call[account.VerifyOutput](e, self(other), account.OpVerifyPhone,
		account.VerifyPhoneInput{VerificationID: out.ID, Code: code})
	wantCode(t, err, errs.InvalidArgument, msgInvalidProof)

	if _, err := call[account.VerifyOutput](e, self(u), account.OpVerifyPhone,
		account.VerifyPhoneInput{VerificationID: out.ID, Code: code}); err != nil {
		t.Fatal(err)
	}
	after, _ := e.getUser(u.ID)
	if !after.PhoneVerified {
		t.Error("phone not verified")
	}
	_, err = call[account.VerifyOutput](e, self(u), account.OpVerifyPhone,
		account.VerifyPhoneInput{VerificationID: out.ID, Code: code})
	wantCode(t, err, errs.Conflict, msgUsed)

	t.Run("a code expires after ten minutes", func(t *testing.T) {
		out, err := call[account.IDOutput](e, self(u), account.OpStartPhoneVerification,
			account.StartPhoneInput{})
		if err != nil {
			t.Fatal(err)
		}
		code := e.code(e.box.List(e.tn.ID)[0].SMS.Body)
		e.clk.Add(account.PhoneProofTTL)
		_, err = call[account.VerifyOutput](e, self(u), account.OpVerifyPhone,
			account.VerifyPhoneInput{VerificationID: out.ID, Code: code})
		wantCode(t, err, errs.InvalidArgument, msgInvalidProof)
	})
}

func TestDeleteAccount(t *testing.T) {
	e := newEnv(t, store.RegistrationOpen)
	u := e.user("ann")
	e.token(u)
	_, err := call[account.IDOutput](e, self(u), account.OpDeleteAccount,
		account.DeleteAccountInput{CurrentPassword: "wrong-password-here"})
	wantCode(t, err, errs.Unauthenticated, "")
	if _, err := e.getUser(u.ID); err != nil {
		t.Fatalf("a wrong password deleted the account: %v", err)
	}

	if _, err := call[account.IDOutput](e, self(u), account.OpDeleteAccount,
		account.DeleteAccountInput{CurrentPassword: goodPassword}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.getUser(u.ID); errs.CodeOf(err) != errs.NotFound {
		t.Errorf("user still there: %v", err)
	}
	if _, err := e.st.Credentials().GetPassword(context.Background(), e.tn.ID,
		u.ID); errs.CodeOf(err) != errs.NotFound {
		t.Errorf("password still there: %v", err)
	}
	if items, _, _ := e.st.APITokens().List(context.Background(), e.tn.ID,
		store.Page{}); len(items) != 0 {
		t.Errorf("tokens left: %v", items)
	}
	if got := e.auditActions(u.ID); len(got) != 1 || got[0] != "account.delete" {
		t.Errorf("audit = %v", got)
	}
}

func TestExportData(t *testing.T) {
	e := newEnv(t, store.RegistrationOpen)
	u := e.user("ann")
	tok := e.token(u)
	e.token(e.user("bob"))
	if _, err := call[account.UpdateProfileOutput](e, self(u), account.OpUpdateProfile,
		account.UpdateProfileInput{DisplayName: ptr("Ann")}); err != nil {
		t.Fatal(err)
	}
	now := e.clk.Now()
	g, err := e.st.Groups().Create(context.Background(), store.Group{ID: validate.NewID(),
		TenantID: e.tn.ID, Name: "editors", CreatedAt: now, UpdatedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.st.Groups().AddMember(context.Background(), e.tn.ID, g.ID, u.ID); err != nil {
		t.Fatal(err)
	}
	out, err := call[account.ExportOutput](e, self(u), account.OpExportData, account.ExportInput{})
	if err != nil {
		t.Fatal(err)
	}
	if out.User.ID != u.ID || out.User.DisplayName != "Ann" {
		t.Errorf("user = %+v", out.User)
	}
	if len(out.Groups) != 1 || out.Groups[0].ID != g.ID {
		t.Errorf("groups = %+v, want editors", out.Groups)
	}
	if len(out.APITokens) != 1 || out.APITokens[0].ID != tok.ID {
		t.Errorf("tokens = %+v, want ann's one", out.APITokens)
	}
	if len(out.AuditEvents) != 1 || out.AuditEvents[0].Action != "account.updateProfile" {
		t.Errorf("audit = %+v", out.AuditEvents)
	}
	b, _ := json.Marshal(out)
	if strings.Contains(string(b), tok.Hash) || strings.Contains(string(b), "argon2") {
		t.Error("the export holds a secret's hash")
	}
}
