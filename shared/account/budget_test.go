package account_test

import (
	"testing"

	"github.com/wardhq/ward/shared/account"
	"github.com/wardhq/ward/shared/errs"
)

// TestMessagesPerAddressAreCapped asks for password resets past the budget:
// the answers stay the same, the mails stop, and the budget comes back
// after the window.
func TestMessagesPerAddressAreCapped(t *testing.T) {
	e := newEnv(t, "OPEN")
	u := e.user("carol")
	for range account.MaxMessagesPerAddress + 3 {
		out, err := call[account.AcceptedOutput](e, anon, account.OpRequestPasswordReset,
			account.RequestResetInput{Tenant: e.tn.Name, Email: u.Email})
		if err != nil || !out.Accepted {
			t.Fatalf("requestPasswordReset = %+v, %v", out, err)
		}
	}
	if n := len(e.mails(u.Email)); n != account.MaxMessagesPerAddress {
		t.Fatalf("%d emails sent, want %d", n, account.MaxMessagesPerAddress)
	}
	// Registering the taken address again sends no notice past the budget
	// either, and still answers with a verification ID.
	out, err := call[account.RegisterOutput](e, anon, account.OpRegister,
		account.RegisterInput{Tenant: e.tn.Name, Email: u.Email, Password: goodPassword})
	if err != nil || out.VerificationID == "" {
		t.Fatalf("register = %+v, %v", out, err)
	}
	if n := len(e.mails(u.Email)); n != account.MaxMessagesPerAddress {
		t.Errorf("%d emails after a register past the budget", n)
	}

	e.clk.Add(account.MessageWindow)
	if _, err := call[account.AcceptedOutput](e, anon, account.OpRequestPasswordReset,
		account.RequestResetInput{Tenant: e.tn.Name, Email: u.Email}); err != nil {
		t.Fatal(err)
	}
	if n := len(e.mails(u.Email)); n != account.MaxMessagesPerAddress+1 {
		t.Errorf("after the window: %d emails, want %d", n, account.MaxMessagesPerAddress+1)
	}
}

// TestPhoneCodesAreCapped: a signed-in user is told when the budget of
// their phone is spent.
func TestPhoneCodesAreCapped(t *testing.T) {
	e := newEnv(t, "OPEN")
	u := e.user("dave")
	phone := "+15551234567"
	if _, err := call[account.UpdateProfileOutput](e, self(u), account.OpUpdateProfile,
		account.UpdateProfileInput{Phone: &phone}); err != nil {
		t.Fatal(err)
	}
	for i := range account.MaxMessagesPerAddress + 1 {
		_, err := call[account.IDOutput](e, self(u), account.OpStartPhoneVerification,
			account.StartPhoneInput{})
		if i < account.MaxMessagesPerAddress && err != nil {
			t.Fatalf("code %d: %v", i+1, err)
		}
		if i == account.MaxMessagesPerAddress && errs.CodeOf(err) != errs.RateLimited {
			t.Errorf("code past the budget: %v", err)
		}
	}
}
