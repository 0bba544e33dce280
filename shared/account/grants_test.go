package account_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/wardhq/ward/shared/account"
	"github.com/wardhq/ward/shared/cache/memory"
	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/oauth"
	"github.com/wardhq/ward/shared/sessions"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/validate"
)

// withGrants rebuilds the account function of e over the sessions and
// oauth functions on the same store, as the account deployable hosts
// them (its companions), with grants revoking through the oauth one
// unless grants is given.
func withGrants(e *env, grants account.GrantRevoker) {
	e.t.Helper()
	mc, err := memory.New(memory.Options{Now: e.clk.Now})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { mc.Close() })
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	inv := invoke.NewLocal(
		sessions.Function(sessions.Deps{Store: e.st, Cache: mc, Now: e.clk.Now, Log: quiet}),
		oauth.Function(oauth.Deps{Store: e.st, Cache: mc, Now: e.clk.Now, Log: quiet}))
	if grants == nil {
		grants = oauth.GrantRevoker{Invoker: inv, Subject: account.FunctionName}
	}
	e.fn = account.Function(account.Deps{
		Store: e.st, Email: e.box, Phone: e.box, From: "Acme <no-reply@example.com>",
		PublicURL: publicURL, Now: e.clk.Now, Hasher: hasher(e.t), Log: quiet,
		Sessions: sessions.Revoker{Invoker: inv, Subject: account.FunctionName},
		Grants:   grants,
	})
}

// family starts a refresh token family of u in the store, bound to a
// session or (session "") offline, and returns its token's hash.
func (e *env) family(u store.User, session string) string {
	e.t.Helper()
	now := e.clk.Now()
	f := store.RefreshFamily{ID: validate.NewID(), TenantID: u.TenantID,
		ClientID: validate.NewID(), UserID: u.ID, SessionID: session, Scope: "openid",
		AuthTime: now, CreatedAt: now, ExpiresAt: now.Add(24 * time.Hour)}
	sum := sha256.Sum256([]byte(f.ID))
	tok := store.RefreshToken{Hash: hex.EncodeToString(sum[:]), TenantID: u.TenantID,
		FamilyID: f.ID, Generation: 1, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := e.st.RefreshTokens().CreateFamily(context.Background(), f, tok); err != nil {
		e.t.Fatal(err)
	}
	return tok.Hash
}

func (e *env) familyRevoked(hash string) bool {
	e.t.Helper()
	_, f, err := e.st.RefreshTokens().GetByHash(context.Background(), hash)
	if err != nil {
		e.t.Fatal(err)
	}
	return f.Revoked
}

func TestPasswordResetRevokesTheUsersGrants(t *testing.T) {
	e := newEnv(t, store.RegistrationOpen)
	withGrants(e, nil)
	u, other := e.user("ann"), e.user("bob")
	offline, online := e.family(u, ""), e.family(u, validate.NewID())
	kept := e.family(other, "")

	requestReset(e, u.Email)
	_, token := e.link(e.lastMail(u.Email), "token")
	if _, err := call[account.AcceptedOutput](e, anon, account.OpResetPassword,
		account.ResetPasswordInput{Tenant: e.tn.Name, Token: token,
			NewPassword: newPassword}); err != nil {
		t.Fatal(err)
	}
	if !e.familyRevoked(offline) || !e.familyRevoked(online) {
		t.Errorf("after the reset: offline revoked %v, online revoked %v; want both",
			e.familyRevoked(offline), e.familyRevoked(online))
	}
	if e.familyRevoked(kept) {
		t.Error("another user's grant was revoked by the reset")
	}
}

func TestAccountDeletionRevokesTheUsersGrants(t *testing.T) {
	e := newEnv(t, store.RegistrationOpen)
	withGrants(e, nil)
	u := e.user("ann")
	offline := e.family(u, "")
	if _, err := call[account.IDOutput](e, self(u), account.OpDeleteAccount,
		account.DeleteAccountInput{CurrentPassword: goodPassword}); err != nil {
		t.Fatal(err)
	}
	if !e.familyRevoked(offline) {
		t.Error("an offline grant outlived the account")
	}
}

type failingGrants struct{}

func (failingGrants) RevokeUserGrants(context.Context, string, string) (int, error) {
	return 0, errs.New(errs.Unavailable, "function oauth unavailable")
}

// A reset that cannot revoke the grants fails, and the password stays.
func TestAResetThatCannotRevokeTheGrantsFails(t *testing.T) {
	e := newEnv(t, store.RegistrationOpen)
	withGrants(e, failingGrants{})
	u := e.user("ann")
	requestReset(e, u.Email)
	_, token := e.link(e.lastMail(u.Email), "token")
	_, err := call[account.AcceptedOutput](e, anon, account.OpResetPassword,
		account.ResetPasswordInput{Tenant: e.tn.Name, Token: token, NewPassword: newPassword})
	wantCode(t, err, errs.Unavailable, "")
	if !e.passwordIs(u, goodPassword) {
		t.Error("the password changed although the grants were not revoked")
	}
}
