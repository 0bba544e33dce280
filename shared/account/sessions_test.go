package account_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"

	"github.com/wardhq/ward/shared/account"
	"github.com/wardhq/ward/shared/cache/memory"
	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/sessions"
	"github.com/wardhq/ward/shared/store"
)

// withSessions rebuilds the account function of e over a sessions
// function on the same store (and a cache of its own), as a deployment
// wires them, and returns the invoker that reaches the sessions function.
func withSessions(e *env, revoker account.SessionRevoker) *invoke.Local {
	e.t.Helper()
	mc, err := memory.New(memory.Options{Now: e.clk.Now})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { mc.Close() })
	inv := invoke.NewLocal(sessions.Function(sessions.Deps{Store: e.st, Cache: mc,
		Now: e.clk.Now, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	if revoker == nil {
		revoker = sessions.Revoker{Invoker: inv, Subject: account.FunctionName}
	}
	e.fn = account.Function(account.Deps{
		Store: e.st, Email: e.box, Phone: e.box, From: "Acme <no-reply@example.com>",
		PublicURL: publicURL, Now: e.clk.Now, Hasher: hasher(e.t), Sessions: revoker,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	return inv
}

var service = function.Caller{Subject: "authn", Roles: []string{function.RoleService}}

func signIn(e *env, inv invoke.Invoker, u store.User) sessions.Token {
	e.t.Helper()
	out, err := invoke.Call[sessions.CreateOutput](context.Background(), inv,
		sessions.FunctionName, sessions.OpCreate, service,
		sessions.CreateInput{TenantID: u.TenantID, UserID: u.ID, ACR: store.ACRPassword})
	if err != nil {
		e.t.Fatal(err)
	}
	return out.Token
}

func sessionWorks(e *env, inv invoke.Invoker, tok sessions.Token) bool {
	e.t.Helper()
	_, err := invoke.Call[sessions.ValidateOutput](context.Background(), inv,
		sessions.FunctionName, sessions.OpValidate, service, sessions.ValidateInput{Token: tok})
	if err != nil && errs.CodeOf(err) != errs.Unauthenticated {
		e.t.Fatal(err)
	}
	return err == nil
}

func (e *env) lastChanges(targetID string) map[string]store.AuditChange {
	e.t.Helper()
	items, _, err := e.st.Audit().List(context.Background(), e.tn.ID,
		store.AuditFilter{TargetID: targetID}, store.Page{Limit: 1})
	if err != nil || len(items) == 0 {
		e.t.Fatalf("no audit event: %v", err)
	}
	return items[0].Changes
}

func TestPasswordResetEndsTheUsersSessions(t *testing.T) {
	e := newEnv(t, store.RegistrationOpen)
	inv := withSessions(e, nil)
	u, other := e.user("ann"), e.user("bob")
	a1, a2, kept := signIn(e, inv, u), signIn(e, inv, u), signIn(e, inv, other)

	requestReset(e, u.Email)
	_, token := e.link(e.lastMail(u.Email), "token")
	if _, err := call[account.AcceptedOutput](e, anon, account.OpResetPassword,
		account.ResetPasswordInput{Tenant: e.tn.Name, Token: token,
			NewPassword: newPassword}); err != nil {
		t.Fatal(err)
	}
	for _, tok := range []sessions.Token{a1, a2} {
		if sessionWorks(e, inv, tok) {
			t.Error("a session of the user works after the password reset")
		}
	}
	if !sessionWorks(e, inv, kept) {
		t.Error("another user's session ended with the reset")
	}
	if got := e.lastChanges(u.ID)["revokedSessions"].New; got != "2" {
		t.Errorf("audit records %q sessions revoked, want 2", got)
	}
}

func TestAccountDeletionEndsTheUsersSessions(t *testing.T) {
	e := newEnv(t, store.RegistrationOpen)
	inv := withSessions(e, nil)
	u := e.user("ann")
	tok := signIn(e, inv, u)
	if _, err := call[account.IDOutput](e, self(u), account.OpDeleteAccount,
		account.DeleteAccountInput{CurrentPassword: goodPassword}); err != nil {
		t.Fatal(err)
	}
	if sessionWorks(e, inv, tok) {
		t.Error("the session works after the account was deleted")
	}
	if got := e.lastChanges(u.ID)["revokedSessions"].New; got != "1" {
		t.Errorf("audit records %q sessions revoked, want 1", got)
	}
}

// failingRevoker stands for a sessions service that cannot be reached.
type failingRevoker struct{}

func (failingRevoker) RevokeUser(context.Context, string, string) (int, error) {
	return 0, errs.Wrap(errs.Unavailable, errors.New("no route"), "function sessions unavailable")
}

// When the sessions cannot be ended, the reset fails and changes nothing:
// the password stays, and the link can be used again.
func TestAResetThatCannotEndTheSessionsChangesNothing(t *testing.T) {
	e := newEnv(t, store.RegistrationOpen)
	withSessions(e, failingRevoker{})
	u := e.user("ann")
	tok := e.token(u)
	requestReset(e, u.Email)
	_, token := e.link(e.lastMail(u.Email), "token")
	reset := func() error {
		_, err := call[account.AcceptedOutput](e, anon, account.OpResetPassword,
			account.ResetPasswordInput{Tenant: e.tn.Name, Token: token,
				NewPassword: newPassword})
		return err
	}
	wantCode(t, reset(), errs.Unavailable, "")
	if !e.passwordIs(u, goodPassword) {
		t.Error("the password changed although the sessions were not ended")
	}
	if _, err := e.st.APITokens().GetByHash(context.Background(), tok.Hash); err != nil {
		t.Errorf("the API token went although the reset failed: %v", err)
	}

	withSessions(e, nil)
	if err := reset(); err != nil {
		t.Fatalf("the link after the failed attempt: %v", err)
	}

	// Nor is an account deleted with its sessions left working.
	withSessions(e, failingRevoker{})
	_, err := call[account.IDOutput](e, self(u), account.OpDeleteAccount,
		account.DeleteAccountInput{CurrentPassword: newPassword})
	wantCode(t, err, errs.Unavailable, "")
	if _, err := e.getUser(u.ID); err != nil {
		t.Errorf("the account went although its sessions were not ended: %v", err)
	}
}
