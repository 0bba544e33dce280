package users_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/wardhq/ward/shared/cache/memory"
	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/sessions"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/store/bolt"
	"github.com/wardhq/ward/shared/tenants"
	"github.com/wardhq/ward/shared/users"
)

var signInService = function.Caller{Subject: "authn", Roles: []string{function.RoleService}}

// TestUsersNoLongerActiveLoseTheirSessions wires users to a real sessions
// function and checks that making a user other than ACTIVE, or deleting
// the user, ends the user's sessions at once (the sessions' cache entries
// are warm, so nothing but the revocation could refuse them).
func TestUsersNoLongerActiveLoseTheirSessions(t *testing.T) {
	st, err := bolt.Open(filepath.Join(t.TempDir(), "ward.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	mc, err := memory.New(memory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mc.Close() })
	inv := invoke.NewLocal(sessions.Function(sessions.Deps{Store: st, Cache: mc}),
		tenants.Function(tenants.Deps{Store: st}))
	inv.Register(users.Function(users.Deps{Store: st,
		Sessions: sessions.Revoker{Invoker: inv, Subject: users.FunctionName}}))
	f := &fixture{inv: inv, store: st}
	f.a = call[store.Tenant](t, f, tenants.FunctionName, tenants.OpCreate, sysAdmin,
		tenants.CreateInput{Name: "tenant-a"})
	mk := func(name string) store.User {
		return call[store.User](t, f, users.FunctionName, users.OpCreate, adminOf(f.a),
			users.CreateInput{TenantID: f.a.ID, Username: name})
	}
	signIn := func(u store.User) sessions.Token {
		in := sessions.CreateInput{TenantID: u.TenantID, UserID: u.ID, ACR: "1"}
		return call[sessions.CreateOutput](t, f, sessions.FunctionName, sessions.OpCreate,
			signInService, in).Token
	}
	works := func(tok sessions.Token) bool {
		_, err := invoke.Call[sessions.ValidateOutput](context.Background(), inv,
			sessions.FunctionName, sessions.OpValidate, signInService,
			sessions.ValidateInput{Token: tok})
		if err != nil && errs.CodeOf(err) != errs.Unauthenticated {
			t.Fatal(err)
		}
		return err == nil
	}

	ann, bob, cid := mk("ann"), mk("bob"), mk("cid")
	annS, bobS, cidS := signIn(ann), signIn(bob), signIn(cid)

	// A change that keeps the user ACTIVE keeps the sessions.
	name := "Ann A."
	call[store.User](t, f, users.FunctionName, users.OpUpdate, adminOf(f.a),
		users.UpdateInput{TenantID: f.a.ID, ID: ann.ID, DisplayName: &name})
	if !works(annS) {
		t.Fatal("a session ended with a change of display name")
	}
	locked := store.UserLocked
	call[store.User](t, f, users.FunctionName, users.OpUpdate, adminOf(f.a),
		users.UpdateInput{TenantID: f.a.ID, ID: ann.ID, Status: &locked})
	if works(annS) {
		t.Error("a LOCKED user's session still works")
	}
	call[users.DeleteOutput](t, f, users.FunctionName, users.OpDelete, adminOf(f.a),
		users.DeleteInput{TenantID: f.a.ID, ID: bob.ID})
	if works(bobS) {
		t.Error("a deleted user's session still works")
	}
	if !works(cidS) {
		t.Error("another user's session ended")
	}
}
