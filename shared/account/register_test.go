package account_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/wardhq/ward/shared/account"
	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/messaging"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/validate"
)

func register(e *env, email string) (account.RegisterOutput, error) {
	return call[account.RegisterOutput](e, anon, account.OpRegister, account.RegisterInput{
		Tenant: e.tn.Name, Email: email, Password: goodPassword})
}

func TestRegisterIsRefusedAlikeWhenNotOpen(t *testing.T) {
	for _, mode := range []store.RegistrationMode{"", store.RegistrationClosed,
		store.RegistrationInvite} {
		t.Run("mode "+string(mode), func(t *testing.T) {
			e := newEnv(t, mode)
			_, err := register(e, "ann@example.com")
			wantCode(t, err, errs.PermissionDenied, msgClosed)
			if n, _ := e.st.Users().Count(context.Background(), e.tn.ID); n != 0 {
				t.Errorf("%d users made, want none", n)
			}
			if e.box.Len() != 0 {
				t.Errorf("%d messages sent, want none", e.box.Len())
			}
		})
	}
	t.Run("an unknown tenant reads like a closed one", func(t *testing.T) {
		e := newEnv(t, store.RegistrationOpen)
		_, err := call[account.RegisterOutput](e, anon, account.OpRegister,
			account.RegisterInput{Tenant: "nowhere-" + validate.NewID()[30:], Email: "ann@example.com",
				Password: goodPassword})
		wantCode(t, err, errs.PermissionDenied, msgClosed)
	})
}

func TestRegisterOpenThenVerifyByCode(t *testing.T) {
	e := newEnv(t, store.RegistrationOpen)
	out, err := register(e, "Ann@Example.com")
	if err != nil {
		t.Fatal(err)
	}
	if validate.ID("verificationId", out.VerificationID) != nil || out.UserID != "" {
		t.Fatalf("output = %+v, want a verification ID only", out)
	}
	u, err := e.st.Users().GetByEmail(context.Background(), e.tn.ID, "ann@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if u.Status != store.UserPending || u.EmailVerified || u.Username != "ann@example.com" {
		t.Errorf("user = %+v, want PENDING, unverified, username defaulted to the email", u)
	}
	if _, err := e.st.Credentials().GetPassword(context.Background(), e.tn.ID, u.ID); err != nil {
		t.Errorf("no password stored: %v", err)
	}

	m := e.lastMail("ann@example.com")
	if m.kind != "verify-email" {
		t.Errorf("kind = %s, want verify-email", m.kind)
	}
	path, token := e.link(m, "token")
	if path != account.PathVerifyEmail || !strings.HasPrefix(token, out.VerificationID+".") {
		t.Errorf("link = %s with token %q, want %s with the verification's token", path,
			token, account.PathVerifyEmail)
	}
	code := e.code(m.text)
	if !strings.Contains(m.html, code) {
		t.Error("the HTML body lacks the code")
	}

	verify := account.VerifyEmailInput{Tenant: strings.ToUpper(e.tn.Name),
		VerificationID: out.VerificationID,
		Code:           code}
	if _, err := call[account.VerifyOutput](e, anon, account.OpVerifyEmail, verify); err != nil {
		t.Fatal(err)
	}
	u, _ = e.getUser(u.ID)
	if u.Status != store.UserActive || !u.EmailVerified {
		t.Errorf("after verification user = %+v, want ACTIVE and verified", u)
	}
	_, err = call[account.VerifyOutput](e, anon, account.OpVerifyEmail, verify)
	wantCode(t, err, errs.Conflict, msgUsed)

	got := e.auditActions(u.ID)
	for _, want := range []string{"account.register", "account.verifyEmail"} {
		if !slices.Contains(got, want) {
			t.Errorf("audit = %v, want %s", got, want)
		}
	}
}

func TestVerifyByLinkIsSingleUse(t *testing.T) {
	e := newEnv(t, store.RegistrationOpen)
	if _, err := register(e, "ann@example.com"); err != nil {
		t.Fatal(err)
	}
	_, token := e.link(e.lastMail("ann@example.com"), "token")
	in := account.VerifyEmailInput{Tenant: e.tn.Name, Token: token}
	if _, err := call[account.VerifyOutput](e, anon, account.OpVerifyEmail, in); err != nil {
		t.Fatal(err)
	}
	_, err := call[account.VerifyOutput](e, anon, account.OpVerifyEmail, in)
	wantCode(t, err, errs.Conflict, msgUsed)

	t.Run("a tampered secret is the generic error, not 'used'", func(t *testing.T) {
		bad := in
		bad.Token = token[:len(token)-2] + "xx"
		_, err := call[account.VerifyOutput](e, anon, account.OpVerifyEmail, bad)
		wantCode(t, err, errs.InvalidArgument, msgInvalidProof)
	})
	t.Run("a token of another tenant is unknown there", func(t *testing.T) {
		other := in
		other.Tenant = e.tenant("other", store.RegistrationOpen).Name
		_, err := call[account.VerifyOutput](e, anon, account.OpVerifyEmail, other)
		wantCode(t, err, errs.InvalidArgument, msgInvalidProof)
	})
}

func TestRegisterTakenEmailAnswersWithADecoy(t *testing.T) {
	e := newEnv(t, store.RegistrationOpen)
	owner := e.user("ann")
	before, _ := e.st.Users().Count(context.Background(), e.tn.ID)

	decoy, err := register(e, owner.Email)
	if err != nil {
		t.Fatal(err)
	}
	real, err := register(e, "bob@example.com")
	if err != nil {
		t.Fatal(err)
	}

	// Same shape: the same JSON keys, both version-7 UUIDs.
	a, _ := json.Marshal(decoy)
	b, _ := json.Marshal(real)
	var ka, kb map[string]any
	json.Unmarshal(a, &ka)
	json.Unmarshal(b, &kb)
	if len(ka) != 1 || len(kb) != 1 || ka["verificationId"] == nil || kb["verificationId"] == nil {
		t.Errorf("answers differ in shape: %s vs %s", a, b)
	}
	if validate.ID("id", decoy.VerificationID) != nil {
		t.Errorf("decoy ID %q is not a version-7 UUID", decoy.VerificationID)
	}

	if n, _ := e.st.Users().Count(context.Background(), e.tn.ID); n != before+1 {
		t.Errorf("users = %d, want %d (bob only)", n, before+1)
	}
	m := e.lastMail(owner.Email)
	if m.kind != string(account.KindAccountExists) || strings.Contains(m.text, decoy.VerificationID) {
		t.Errorf("owner got %q (%s), want the account-exists notice", m.subject, m.kind)
	}

	// The decoy behaves like a real proof with a wrong code.
	for _, id := range []string{decoy.VerificationID, real.VerificationID} {
		_, err := call[account.VerifyOutput](e, anon, account.OpVerifyEmail,
			account.VerifyEmailInput{Tenant: e.tn.Name, VerificationID: id, Code: "000000"})
		wantCode(t, err, errs.InvalidArgument, msgInvalidProof)
	}
	owner2, _ := e.getUser(owner.ID)
	if owner2.Version != owner.Version {
		t.Error("the existing account was changed")
	}
}

func TestRegisterRefusals(t *testing.T) {
	e := newEnv(t, store.RegistrationOpen)
	e.user("ann")
	cases := []struct {
		name  string
		in    account.RegisterInput
		code  errs.Code
		field string
	}{
		{"a taken username", account.RegisterInput{Email: "new@example.com", Username: "ANN",
			Password: goodPassword}, errs.Conflict, "username"},
		{"a repetitive password", account.RegisterInput{Email: "new@example.com",
			Password: "abcabcabcabcabcabcabc"}, errs.InvalidArgument, "password"},
		{"a short password", account.RegisterInput{Email: "new@example.com",
			Password: "short-one"}, errs.InvalidArgument, "password"},
		{"no email", account.RegisterInput{Password: goodPassword}, errs.InvalidArgument,
			"email"},
		{"a bad locale", account.RegisterInput{Email: "new@example.com",
			Password: goodPassword, Locale: "not a locale"}, errs.InvalidArgument, "locale"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.in.Tenant = e.tn.Name
			_, err := call[account.RegisterOutput](e, anon, account.OpRegister, tc.in)
			wantCode(t, err, tc.code, "")
			if f := errs.Public(err).Field; f != tc.field {
				t.Errorf("field = %q, want %q", f, tc.field)
			}
			if _, err := e.st.Users().GetByEmail(context.Background(), e.tn.ID,
				"new@example.com"); errs.CodeOf(err) != errs.NotFound {
				t.Errorf("a user was made: %v", err)
			}
		})
	}
	if n := len(e.mails("new@example.com")); n != 0 {
		t.Errorf("%d messages sent, want none", n)
	}
}

func TestCodesDieAfterFiveWrongAttempts(t *testing.T) {
	e := newEnv(t, store.RegistrationOpen)
	out, err := register(e, "ann@example.com")
	if err != nil {
		t.Fatal(err)
	}
	m := e.lastMail("ann@example.com")
	code := e.code(m.text)
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	in := account.VerifyEmailInput{Tenant: e.tn.Name, VerificationID: out.VerificationID}
	for i := range account.MaxAttempts {
		in.Code = wrong
		_, err := call[account.VerifyOutput](e, anon, account.OpVerifyEmail, in)
		wantCode(t, err, errs.InvalidArgument, msgInvalidProof)
		_ = i
	}
	in.Code = code
	_, err = call[account.VerifyOutput](e, anon, account.OpVerifyEmail, in)
	wantCode(t, err, errs.InvalidArgument, msgInvalidProof)
	_, token := e.link(m, "token")
	_, err = call[account.VerifyOutput](e, anon, account.OpVerifyEmail,
		account.VerifyEmailInput{Tenant: e.tn.Name, Token: token})
	wantCode(t, err, errs.InvalidArgument, msgInvalidProof)
}

func TestFourWrongCodesStillLeaveTheRightOne(t *testing.T) {
	e := newEnv(t, store.RegistrationOpen)
	out, err := register(e, "ann@example.com")
	if err != nil {
		t.Fatal(err)
	}
	code := e.code(e.lastMail("ann@example.com").text)
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	in := account.VerifyEmailInput{Tenant: e.tn.Name, VerificationID: out.VerificationID}
	for range account.MaxAttempts - 1 {
		in.Code = wrong
		call[account.VerifyOutput](e, anon, account.OpVerifyEmail, in)
	}
	in.Code = code
	if _, err := call[account.VerifyOutput](e, anon, account.OpVerifyEmail, in); err != nil {
		t.Fatalf("the right code after %d wrong ones: %v", account.MaxAttempts-1, err)
	}
}

func TestVerificationExpires(t *testing.T) {
	e := newEnv(t, store.RegistrationOpen)
	out, err := register(e, "ann@example.com")
	if err != nil {
		t.Fatal(err)
	}
	code := e.code(e.lastMail("ann@example.com").text)
	e.clk.Add(account.EmailProofTTL)
	_, err = call[account.VerifyOutput](e, anon, account.OpVerifyEmail,
		account.VerifyEmailInput{Tenant: e.tn.Name, VerificationID: out.VerificationID, Code: code})
	wantCode(t, err, errs.InvalidArgument, msgInvalidProof)
}

func TestConcurrentUseSucceedsOnce(t *testing.T) {
	e := newEnv(t, store.RegistrationOpen)
	out, err := register(e, "ann@example.com")
	if err != nil {
		t.Fatal(err)
	}
	code := e.code(e.lastMail("ann@example.com").text)
	in := account.VerifyEmailInput{Tenant: e.tn.Name, VerificationID: out.VerificationID, Code: code}

	const n = 8
	errc := make(chan error, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			_, err := call[account.VerifyOutput](e, anon, account.OpVerifyEmail, in)
			errc <- err
		})
	}
	wg.Wait()
	close(errc)
	ok, used := 0, 0
	for err := range errc {
		switch {
		case err == nil:
			ok++
		case errs.CodeOf(err) == errs.Conflict:
			used++
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	if ok != 1 || used != n-1 {
		t.Errorf("%d succeeded and %d were told 'already used', want 1 and %d", ok, used, n-1)
	}
	want := []string{"account.register", "account.verifyEmail"}
	u, _ := e.st.Users().GetByEmail(context.Background(), e.tn.ID, "ann@example.com")
	if got := e.auditActions(u.ID); len(got) != len(want) {
		t.Errorf("audit = %v, want %v once each", got, want)
	}
}

func TestResendVerificationAnswersTheSame(t *testing.T) {
	e := newEnv(t, store.RegistrationOpen)
	if _, err := register(e, "ann@example.com"); err != nil {
		t.Fatal(err)
	}
	verified := e.user("bob")
	sent := e.box.Len()

	var shapes []string
	for _, addr := range []string{"ann@example.com", "nobody@example.com", verified.Email} {
		out, err := call[account.AcceptedOutput](e, anon, account.OpResendVerification,
			account.ResendInput{Tenant: e.tn.Name, Email: addr})
		if err != nil {
			t.Fatal(err)
		}
		if !out.Accepted || validate.ID("id", out.VerificationID) != nil {
			t.Errorf("answer for %s = %+v", addr, out)
		}
		b, _ := json.Marshal(out)
		shapes = append(shapes, strings.ReplaceAll(string(b), out.VerificationID, "ID"))
	}
	if shapes[0] != shapes[1] || shapes[1] != shapes[2] {
		t.Errorf("answers differ: %v", shapes)
	}
	if got := e.box.Len() - sent; got != 1 {
		t.Errorf("%d messages sent, want 1 (to the unverified account only)", got)
	}
	// The new code works.
	m := e.lastMail("ann@example.com")
	_, token := e.link(m, "token")
	if _, err := call[account.VerifyOutput](e, anon, account.OpVerifyEmail,
		account.VerifyEmailInput{Tenant: e.tn.Name, Token: token}); err != nil {
		t.Fatal(err)
	}
	_, err := call[account.AcceptedOutput](e, anon, account.OpResendVerification,
		account.ResendInput{Tenant: "nowhere-" + validate.NewID()[30:], Email: "ann@example.com"})
	if err != nil {
		t.Errorf("an unknown tenant: %v, want the same answer", err)
	}
}

func TestInvitations(t *testing.T) {
	e := newEnv(t, store.RegistrationInvite)
	ctx := context.Background()
	now := e.clk.Now()
	org, err := e.st.Organizations().Create(ctx, store.Organization{ID: validate.NewID(),
		TenantID: e.tn.ID, Name: "sales", CreatedAt: now, UpdatedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	admin := function.Caller{Subject: validate.NewID(), Tenant: e.tn.ID,
		Roles: []string{function.RoleTenantAdmin}}
	orgAdmin := function.Caller{Subject: validate.NewID(), Tenant: e.tn.ID,
		Roles: []string{function.RoleOrgAdmin}, Orgs: []string{org.ID}}

	t.Run("who may invite", func(t *testing.T) {
		in := account.InviteInput{TenantID: e.tn.ID, Email: "x@example.com"}
		_, err := call[account.IDOutput](e, anon, account.OpInvite, in)
		wantCode(t, err, errs.Unauthenticated, "")
		_, err = call[account.IDOutput](e, self(e.user("plain")), account.OpInvite, in)
		wantCode(t, err, errs.PermissionDenied, "")
		_, err = call[account.IDOutput](e, orgAdmin, account.OpInvite, in)
		wantCode(t, err, errs.PermissionDenied, "")
		in.OrgID = validate.NewID()
		_, err = call[account.IDOutput](e, orgAdmin, account.OpInvite, in)
		wantCode(t, err, errs.NotFound, "")
		_, err = call[account.IDOutput](e, admin, account.OpInvite,
			account.InviteInput{TenantID: e.tn.ID, Email: "plain@example.com"})
		wantCode(t, err, errs.Conflict, "")
	})

	out, err := call[account.IDOutput](e, orgAdmin, account.OpInvite,
		account.InviteInput{TenantID: e.tn.ID, Email: "Carl@Example.com", OrgID: org.ID})
	if err != nil {
		t.Fatal(err)
	}
	m := e.lastMail("carl@example.com")
	path, inv := e.link(m, "invitation")
	if m.kind != "invite" || path != account.PathAcceptInvite ||
		!strings.HasPrefix(inv, out.ID+".") {
		t.Fatalf("invitation mail %s to %s with token %q", m.kind, path, inv)
	}

	reg := account.RegisterInput{Tenant: e.tn.Name, Password: goodPassword,
		Email: "someone@example.com", Invitation: inv}
	_, err = call[account.RegisterOutput](e, anon, account.OpRegister, reg)
	wantCode(t, err, errs.InvalidArgument, "")
	reg.Email = ""
	got, err := call[account.RegisterOutput](e, anon, account.OpRegister, reg)
	if err != nil {
		t.Fatal(err)
	}
	u, err := e.getUser(got.UserID)
	if err != nil {
		t.Fatal(err)
	}
	if u.Status != store.UserActive || !u.EmailVerified || u.Email != "carl@example.com" ||
		u.OrgID != org.ID {
		t.Errorf("invited user = %+v, want ACTIVE, verified, in %s", u, org.ID)
	}
	reg.Username = "carl2"
	_, err = call[account.RegisterOutput](e, anon, account.OpRegister, reg)
	wantCode(t, err, errs.Conflict, msgUsed)

	t.Run("a closed tenant takes no invitation", func(t *testing.T) {
		closedTn := e.tenant("shut", store.RegistrationClosed)
		_, err := call[account.IDOutput](e, function.Caller{Subject: admin.Subject,
			Tenant: closedTn.ID, Roles: admin.Roles}, account.OpInvite,
			account.InviteInput{TenantID: closedTn.ID, Email: "d@example.com"})
		wantCode(t, err, errs.PermissionDenied, "")
	})
}

func TestTakenAddressStillGetsThePasswordPolicy(t *testing.T) {
	e := newEnv(t, store.RegistrationOpen)
	owner := e.user("ann")
	for _, addr := range []string{owner.Email, "new@example.com"} {
		_, err := call[account.RegisterOutput](e, anon, account.OpRegister,
			account.RegisterInput{Tenant: e.tn.Name, Email: addr, Password: "short-one"})
		wantCode(t, err, errs.InvalidArgument, "")
		if f := errs.Public(err).Field; f != "password" {
			t.Errorf("%s: field = %q, want password", addr, f)
		}
	}
	if e.box.Len() != 0 {
		t.Errorf("%d messages sent, want none", e.box.Len())
	}
}

// failingEmail refuses every message as a provider outage would.
type failingEmail struct{}

func (failingEmail) Send(context.Context, messaging.Email) error {
	return errs.New(errs.Unavailable, "email provider unreachable")
}

func TestRegisterIsUndoneWhenTheMessageFails(t *testing.T) {
	e := newEnv(t, store.RegistrationOpen)
	owner := e.user("ann")
	e.fn = account.Function(account.Deps{Store: e.st, Email: failingEmail{},
		PublicURL: publicURL, Now: e.clk.Now, Hasher: hasher(t)})
	// The same answer whether or not the address had an account.
	for _, addr := range []string{"new@example.com", owner.Email} {
		_, err := register(e, addr)
		wantCode(t, err, errs.Unavailable, "email provider unreachable")
	}
	if _, err := e.st.Users().GetByEmail(context.Background(), e.tn.ID,
		"new@example.com"); errs.CodeOf(err) != errs.NotFound {
		t.Errorf("a user was left behind: %v", err)
	}
	if n, _ := e.st.Users().Count(context.Background(), e.tn.ID); n != 1 {
		t.Errorf("users = %d, want 1", n)
	}
}

func TestAnOldAddressProofIsVoidAfterTheAddressChanged(t *testing.T) {
	e := newEnv(t, store.RegistrationOpen)
	out, err := register(e, "ann@example.com")
	if err != nil {
		t.Fatal(err)
	}
	code := e.code(e.lastMail("ann@example.com").text)
	u, _ := e.st.Users().GetByEmail(context.Background(), e.tn.ID, "ann@example.com")
	if _, err := e.st.Users().Update(context.Background(), e.tn.ID, u.ID,
		func(u store.User) (store.User, error) {
			u.Email = "other@example.com"
			return u, nil
		}); err != nil {
		t.Fatal(err)
	}
	_, err = call[account.VerifyOutput](e, anon, account.OpVerifyEmail,
		account.VerifyEmailInput{Tenant: e.tn.Name, VerificationID: out.VerificationID, Code: code})
	wantCode(t, err, errs.InvalidArgument, msgInvalidProof)
	after, _ := e.getUser(u.ID)
	if after.EmailVerified || after.Status != store.UserPending {
		t.Errorf("user = %+v, want unverified and PENDING", after)
	}
}
