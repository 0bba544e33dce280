package users_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/passwords"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/store/bolt"
	"github.com/wardhq/ward/shared/tenants"
	"github.com/wardhq/ward/shared/users"
)

// Passwords that pass the policy, and one that does not.
const (
	goodPassword  = "correct horse battery staple"
	otherPassword = "lunar tides hum over quiet harbours"
	thirdPassword = "seven owls debate the winter moon"
	shortPassword = "tooshort"
)

var service = function.Caller{Subject: "login", Roles: []string{function.RoleService}}

// logBuffer is a log sink safe for concurrent writes.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// credStore is a store whose SetPassword fails while fail is set.
type credStore struct {
	store.Store
	mu   sync.Mutex
	fail bool
}

func (s *credStore) Credentials() store.Credentials {
	return failingCreds{s.Store.Credentials(), s}
}

func (s *credStore) setFail(v bool) { s.mu.Lock(); s.fail = v; s.mu.Unlock() }

type failingCreds struct {
	store.Credentials
	s *credStore
}

func (f failingCreds) SetPassword(ctx context.Context, tenantID, userID, hash string,
	at time.Time) error {
	f.s.mu.Lock()
	fail := f.s.fail
	f.s.mu.Unlock()
	if fail {
		return errs.Wrap(errs.Unavailable, errors.New("disk on fire"), "store unavailable")
	}
	return f.Credentials.SetPassword(ctx, tenantID, userID, hash, at)
}

// pwFixture is setup's fixture with the logs captured and a store whose
// credential writes can be made to fail; alice has goodPassword.
type pwFixture struct {
	*fixture
	logs  *logBuffer
	creds *credStore
}

func setupPasswords(t testing.TB) *pwFixture {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "ward.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cs := &credStore{Store: st}
	logs := &logBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	inv := invoke.NewLocal(
		tenants.Function(tenants.Deps{Store: st}),
		users.Function(users.Deps{Store: cs, Log: log}),
	)
	f := &pwFixture{fixture: &fixture{inv: inv, store: st}, logs: logs, creds: cs}
	f.a = mustCall[store.Tenant](t, f.inv, tenants.FunctionName, tenants.OpCreate, sysAdmin,
		tenants.CreateInput{Name: "tenant-a", DisplayName: "Northwind Traders"})
	f.b = mustCall[store.Tenant](t, f.inv, tenants.FunctionName, tenants.OpCreate, sysAdmin,
		tenants.CreateInput{Name: "tenant-b"})
	f.alice = mustCall[store.User](t, f.inv, users.FunctionName, users.OpCreate, sysAdmin,
		users.CreateInput{TenantID: f.a.ID, Username: "alice", Email: "alice@example.com",
			Password: goodPassword})
	return f
}

func mustCall[Out any](t testing.TB, inv invoke.Invoker, fn, op string, c function.Caller,
	in any) Out {
	t.Helper()
	out, err := invoke.Call[Out](context.Background(), inv, fn, op, c, in)
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
	return out
}

func (f *pwFixture) op(op string, c function.Caller, in any) (json.RawMessage, error) {
	return invoke.Call[json.RawMessage](context.Background(), f.inv, users.FunctionName, op, c, in)
}

func (f *pwFixture) verify(tenantID, username, password string) (users.VerifyPasswordOutput,
	error) {
	return invoke.Call[users.VerifyPasswordOutput](context.Background(), f.inv,
		users.FunctionName, users.OpVerifyPassword, service, users.VerifyPasswordInput{
			TenantID: tenantID, Username: username, Password: users.Password(password)})
}

// storedHash reads alice's hash behind the service.
func (f *pwFixture) storedHash(t *testing.T, tenantID, userID string) string {
	t.Helper()
	c, err := f.store.Credentials().GetPassword(context.Background(), tenantID, userID)
	if err != nil {
		t.Fatalf("get password: %v", err)
	}
	return c.Hash
}

// wantInvalidCredentials checks the one answer of every failed verify.
func wantInvalidCredentials(t *testing.T, what string, err error) {
	t.Helper()
	var e *errs.Error
	if !errors.As(err, &e) || e.Code != errs.Unauthenticated ||
		e.Message != "invalid credentials" || e.Field != "" {
		t.Errorf("%s: err = %v, want UNAUTHENTICATED \"invalid credentials\"", what, err)
	}
}

// noSecrets fails when any of the passwords, or any hash, shows in s.
func noSecrets(t *testing.T, what, s string) {
	t.Helper()
	for _, pw := range []string{goodPassword, otherPassword, thirdPassword, shortPassword} {
		if strings.Contains(s, pw) {
			t.Errorf("%s shows a password: %s", what, s)
		}
	}
	if strings.Contains(s, "argon2id") {
		t.Errorf("%s shows a password hash: %s", what, s)
	}
}

func TestCreateStoresThePasswordAndPhone(t *testing.T) {
	f := setupPasswords(t)
	raw, err := f.op(users.OpCreate, adminOf(f.a), users.CreateInput{
		TenantID: f.a.ID, Username: "bob", Phone: "+14155550100", Password: otherPassword})
	if err != nil {
		t.Fatal(err)
	}
	noSecrets(t, "the created user", string(raw))
	var bob store.User
	if err := json.Unmarshal(raw, &bob); err != nil {
		t.Fatal(err)
	}
	if bob.Phone != "+14155550100" || bob.PhoneVerified || bob.EmailVerified {
		t.Errorf("created %+v, want the phone, unverified", bob)
	}
	if h := f.storedHash(t, f.a.ID, bob.ID); !strings.HasPrefix(h, "$argon2id$") {
		t.Errorf("stored hash %q is not argon2id", h)
	}

	got, err := f.verify(f.a.ID, "BOB", otherPassword)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if got.User.ID != bob.ID || got.User.Phone != "+14155550100" {
		t.Errorf("verify returned %+v, want bob", got.User)
	}

	// Without a password the user has none.
	carol := mustCall[store.User](t, f.inv, users.FunctionName, users.OpCreate, sysAdmin,
		users.CreateInput{TenantID: f.a.ID, Username: "carol"})
	_, err = f.store.Credentials().GetPassword(context.Background(), f.a.ID, carol.ID)
	if !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("carol's password: %v, want NOT_FOUND", err)
	}
}

func TestCreateWithARefusedPasswordOrPhoneWritesNothing(t *testing.T) {
	f := setupPasswords(t)
	cases := []struct {
		name     string
		in       users.CreateInput
		field    string
		contains string
	}{
		{"a short password", users.CreateInput{Password: shortPassword}, "password", "15"},
		{"a common password", users.CreateInput{Password: "passwordpassword"}, "password", ""},
		{"a password made of the username", users.CreateInput{Username: "maximilian",
			Password: "maximilian123456"}, "password", ""},
		{"a password made of the email", users.CreateInput{Email: "quentin.tarantula@example.com",
			Password: "quentin.tarantula"}, "password", ""},
		{"a password made of the tenant's name", users.CreateInput{
			Password: "northwind traders 1"}, "password", ""},
		{"a password above the byte bound", users.CreateInput{
			Password: users.Password(strings.Repeat("x", passwords.MaxBytes+1))}, "password", ""},
		{"a phone without a plus", users.CreateInput{Phone: "14155550100"}, "phone", ""},
		{"a phone with spaces", users.CreateInput{Phone: "+1 415 555 0100"}, "phone", ""},
		{"a phone with a leading zero", users.CreateInput{Phone: "+04155550100"}, "phone", ""},
		{"a phone too short", users.CreateInput{Phone: "+123456"}, "phone", ""},
		{"a phone too long", users.CreateInput{Phone: "+1234567890123456"}, "phone", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			in.TenantID = f.a.ID
			if in.Username == "" {
				in.Username = "newcomer"
			}
			_, err := f.op(users.OpCreate, sysAdmin, in)
			var e *errs.Error
			if !errors.As(err, &e) || e.Code != errs.InvalidArgument || e.Field != tc.field {
				t.Fatalf("err = %v, want INVALID_ARGUMENT for %s", err, tc.field)
			}
			if !strings.Contains(e.Message, tc.contains) {
				t.Errorf("message %q does not say %q", e.Message, tc.contains)
			}
			noSecrets(t, "the error", err.Error())
			_, err = f.store.Users().GetByUsername(context.Background(), f.a.ID, in.Username)
			if !errors.Is(err, errs.ErrNotFound) {
				t.Errorf("the refused user exists: %v", err)
			}
		})
	}
	if n, _ := f.store.Users().Count(context.Background(), f.a.ID); n != 1 {
		t.Errorf("tenant a has %d users, want 1", n)
	}
}

func TestCreateUndoesTheUserWhenItsPasswordCannotBeStored(t *testing.T) {
	f := setupPasswords(t)
	f.creds.setFail(true)
	_, err := f.op(users.OpCreate, sysAdmin, users.CreateInput{TenantID: f.a.ID,
		Username: "dave", Email: "dave@example.com", Password: otherPassword})
	if !errors.Is(err, errs.ErrUnavailable) {
		t.Fatalf("err = %v, want UNAVAILABLE", err)
	}
	if n, _ := f.store.Users().Count(context.Background(), f.a.ID); n != 1 {
		t.Errorf("tenant a has %d users after the failed create, want 1", n)
	}

	// The username and email are free again: the same create now succeeds.
	f.creds.setFail(false)
	dave := mustCall[store.User](t, f.inv, users.FunctionName, users.OpCreate, sysAdmin,
		users.CreateInput{TenantID: f.a.ID, Username: "dave", Email: "dave@example.com",
			Password: otherPassword})
	if _, err := f.verify(f.a.ID, "dave", otherPassword); err != nil {
		t.Errorf("verify dave (%s): %v", dave.ID, err)
	}
}

func TestSetPassword(t *testing.T) {
	f := setupPasswords(t)
	set := func(c function.Caller, pw string) error {
		_, err := f.op(users.OpSetPassword, c, users.SetPasswordInput{TenantID: f.a.ID,
			ID: f.alice.ID, Password: users.Password(pw)})
		return err
	}

	if err := set(adminOf(f.a), otherPassword); err != nil {
		t.Fatalf("set by the tenant's admin: %v", err)
	}
	if _, err := f.verify(f.a.ID, "alice", otherPassword); err != nil {
		t.Errorf("verify the new password: %v", err)
	}
	_, err := f.verify(f.a.ID, "alice", goodPassword)
	wantInvalidCredentials(t, "verify the old password", err)

	if err := set(sysAdmin, thirdPassword); err != nil {
		t.Fatalf("set by a system admin: %v", err)
	}
	before := f.storedHash(t, f.a.ID, f.alice.ID)
	for _, bad := range []string{shortPassword, "alicealicealicealice", ""} {
		err := set(sysAdmin, bad)
		var e *errs.Error
		if !errors.As(err, &e) || e.Code != errs.InvalidArgument || e.Field != "password" {
			t.Errorf("set %d characters: err = %v, want INVALID_ARGUMENT for password",
				len(bad), err)
		}
	}
	if after := f.storedHash(t, f.a.ID, f.alice.ID); after != before {
		t.Error("a refused password changed the stored hash")
	}

	_, err = f.op(users.OpSetPassword, sysAdmin, users.SetPasswordInput{TenantID: f.a.ID,
		ID: "0190b0b0-0000-7000-8000-000000000000", Password: otherPassword})
	if !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("set for a missing user: %v, want NOT_FOUND", err)
	}
}

func TestChangePassword(t *testing.T) {
	f := setupPasswords(t)
	self := userOf(f.a, f.alice.ID)
	change := func(c function.Caller, cur, next string) error {
		_, err := f.op(users.OpChangePassword, c, users.ChangePasswordInput{TenantID: f.a.ID,
			ID: f.alice.ID, CurrentPassword: users.Password(cur),
			NewPassword: users.Password(next)})
		return err
	}

	before := f.storedHash(t, f.a.ID, f.alice.ID)
	err := change(self, otherPassword, thirdPassword)
	var e *errs.Error
	if !errors.As(err, &e) || e.Code != errs.Unauthenticated || e.Field != "currentPassword" {
		t.Errorf("a wrong current password: err = %v, want UNAUTHENTICATED for currentPassword",
			err)
	}
	err = change(self, goodPassword, "alice alice alice alice")
	if !errors.As(err, &e) || e.Code != errs.InvalidArgument || e.Field != "newPassword" {
		t.Errorf("a refused new password: err = %v, want INVALID_ARGUMENT for newPassword", err)
	}
	if after := f.storedHash(t, f.a.ID, f.alice.ID); after != before {
		t.Error("a refused change changed the stored hash")
	}

	if err := change(self, goodPassword, otherPassword); err != nil {
		t.Fatalf("change: %v", err)
	}
	if _, err := f.verify(f.a.ID, "alice", otherPassword); err != nil {
		t.Errorf("verify the new password: %v", err)
	}
	_, err = f.verify(f.a.ID, "alice", goodPassword)
	wantInvalidCredentials(t, "verify the old password", err)

	// A user without a password cannot name a current one.
	bob := mustCall[store.User](t, f.inv, users.FunctionName, users.OpCreate, sysAdmin,
		users.CreateInput{TenantID: f.a.ID, Username: "bob"})
	_, err = f.op(users.OpChangePassword, userOf(f.a, bob.ID), users.ChangePasswordInput{
		TenantID: f.a.ID, ID: bob.ID, CurrentPassword: goodPassword, NewPassword: thirdPassword})
	if !errors.As(err, &e) || e.Code != errs.Unauthenticated || e.Field != "currentPassword" {
		t.Errorf("change without a password: err = %v, want UNAUTHENTICATED", err)
	}
}

func TestVerifyPasswordAnswersEveryFailureAlike(t *testing.T) {
	f := setupPasswords(t)
	got, err := f.verify(f.a.ID, "Alice", goodPassword)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if got.User.ID != f.alice.ID || got.User.Username != "alice" {
		t.Errorf("verify returned %+v, want alice", got.User)
	}

	mustCall[store.User](t, f.inv, users.FunctionName, users.OpCreate, sysAdmin,
		users.CreateInput{TenantID: f.a.ID, Username: "nopw"})
	mustCall[store.User](t, f.inv, users.FunctionName, users.OpCreate, sysAdmin,
		users.CreateInput{TenantID: f.a.ID, Username: "locked", Status: store.UserLocked,
			Password: otherPassword})
	mustCall[store.User](t, f.inv, users.FunctionName, users.OpCreate, sysAdmin,
		users.CreateInput{TenantID: f.a.ID, Username: "pending", Status: store.UserPending,
			Password: otherPassword})

	cases := []struct{ name, tenant, username, password string }{
		{"a wrong password", f.a.ID, "alice", otherPassword},
		{"an unknown username", f.a.ID, "mallory", goodPassword},
		{"a username that cannot exist", f.a.ID, "no such user!", goodPassword},
		{"a user without a password", f.a.ID, "nopw", goodPassword},
		{"a locked user with the right password", f.a.ID, "locked", otherPassword},
		{"a pending user with the right password", f.a.ID, "pending", otherPassword},
		{"the right password in another tenant", f.b.ID, "alice", goodPassword},
		{"an unknown tenant", "0190b0b0-0000-7000-8000-000000000000", "alice", goodPassword},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := f.verify(tc.tenant, tc.username, tc.password)
			wantInvalidCredentials(t, tc.name, err)
			if out.User.ID != "" {
				t.Errorf("a failed verify returned user %s", out.User.ID)
			}
			noSecrets(t, "the error", fmt.Sprint(err))
		})
	}
	noSecrets(t, "the log", f.logs.String())
}

func TestVerifyPasswordOfAnUnusableHash(t *testing.T) {
	f := setupPasswords(t)
	err := f.store.Credentials().SetPassword(context.Background(), f.a.ID, f.alice.ID,
		"$argon2id$v=19$m=999999999,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.verify(f.a.ID, "alice", goodPassword)
	wantInvalidCredentials(t, "verify against an unusable hash", err)
	logs := f.logs.String()
	if !strings.Contains(logs, "stored password hash is unusable") ||
		!strings.Contains(logs, f.alice.ID) {
		t.Errorf("the unusable hash was not logged for an operator: %s", logs)
	}
	if strings.Contains(logs, goodPassword) || strings.Contains(logs, `"alice"`) {
		t.Errorf("the log shows the password or the username: %s", logs)
	}
}

func TestVerifyPasswordUpgradesAnOldHash(t *testing.T) {
	f := setupPasswords(t)
	old, err := passwords.New(passwords.Params{Memory: 7 * 1024, Time: 5, Threads: 1,
		SaltLen: 16, KeyLen: 32}, nil)
	if err != nil {
		t.Fatal(err)
	}
	h, err := old.Hash(goodPassword)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.store.Credentials().SetPassword(context.Background(), f.a.ID, f.alice.ID, h,
		time.Now()); err != nil {
		t.Fatal(err)
	}

	if _, err := f.verify(f.a.ID, "alice", goodPassword); err != nil {
		t.Fatalf("verify against the old hash: %v", err)
	}
	now := f.storedHash(t, f.a.ID, f.alice.ID)
	if !strings.HasPrefix(now, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("stored hash after the sign-in = %q, want today's parameters", now)
	}
	if _, err := f.verify(f.a.ID, "alice", goodPassword); err != nil {
		t.Errorf("verify against the upgraded hash: %v", err)
	}

	// A wrong password upgrades nothing.
	if err := f.store.Credentials().SetPassword(context.Background(), f.a.ID, f.alice.ID, h,
		time.Now()); err != nil {
		t.Fatal(err)
	}
	_, err = f.verify(f.a.ID, "alice", otherPassword)
	wantInvalidCredentials(t, "verify a wrong password", err)
	if got := f.storedHash(t, f.a.ID, f.alice.ID); got != h {
		t.Error("a failed verify replaced the stored hash")
	}
}

// TestNoCallerReachesAnotherPassword tries the password operations on
// alice as callers who must not reach them, and checks that each is
// refused and that her password is unchanged.
func TestNoCallerReachesAnotherPassword(t *testing.T) {
	f := setupPasswords(t)
	before := f.storedHash(t, f.a.ID, f.alice.ID)
	setIn := users.SetPasswordInput{TenantID: f.a.ID, ID: f.alice.ID, Password: otherPassword}
	changeIn := users.ChangePasswordInput{TenantID: f.a.ID, ID: f.alice.ID,
		CurrentPassword: goodPassword, NewPassword: otherPassword}
	verifyIn := users.VerifyPasswordInput{TenantID: f.a.ID, Username: "alice",
		Password: goodPassword}
	otherAlice := function.Caller{Subject: f.alice.ID, Tenant: f.b.ID,
		Roles: []string{function.RoleTenantAdmin}}

	cases := []struct {
		who string
		c   function.Caller
		op  string
		in  any
	}{
		{"anonymous", nobody, users.OpSetPassword, setIn},
		{"an admin of another tenant", adminOf(f.b), users.OpSetPassword, setIn},
		{"a plain user of the tenant", userOf(f.a, "someone-else"), users.OpSetPassword, setIn},
		{"alice herself", userOf(f.a, f.alice.ID), users.OpSetPassword, setIn},
		{"an admin claiming no tenant", function.Caller{Subject: "x",
			Roles: []string{function.RoleTenantAdmin}}, users.OpSetPassword, setIn},
		{"a service", service, users.OpSetPassword, setIn},

		{"anonymous", nobody, users.OpChangePassword, changeIn},
		{"the tenant's admin", adminOf(f.a), users.OpChangePassword, changeIn},
		{"a system admin", sysAdmin, users.OpChangePassword, changeIn},
		{"an admin of another tenant", adminOf(f.b), users.OpChangePassword, changeIn},
		{"another user of the tenant", userOf(f.a, "someone-else"), users.OpChangePassword,
			changeIn},
		{"alice's ID in another tenant", otherAlice, users.OpChangePassword, changeIn},
		{"alice's ID without a tenant", function.Caller{Subject: f.alice.ID},
			users.OpChangePassword, changeIn},

		{"anonymous", nobody, users.OpVerifyPassword, verifyIn},
		{"a system admin", sysAdmin, users.OpVerifyPassword, verifyIn},
		{"the tenant's admin", adminOf(f.a), users.OpVerifyPassword, verifyIn},
		{"alice herself", userOf(f.a, f.alice.ID), users.OpVerifyPassword, verifyIn},
	}
	for _, tc := range cases {
		t.Run(tc.who+" cannot "+tc.op, func(t *testing.T) {
			out, err := f.op(tc.op, tc.c, tc.in)
			if err == nil {
				t.Fatalf("%s succeeded: %s", tc.op, out)
			}
			switch errs.CodeOf(err) {
			case errs.NotFound, errs.PermissionDenied, errs.Unauthenticated:
			default:
				t.Errorf("code = %s, want NOT_FOUND, PERMISSION_DENIED or UNAUTHENTICATED",
					errs.CodeOf(err))
			}
		})
	}
	if after := f.storedHash(t, f.a.ID, f.alice.ID); after != before {
		t.Error("alice's password changed")
	}
}

func TestPasswordInputsDoNotPrint(t *testing.T) {
	in := users.ChangePasswordInput{TenantID: "t", ID: "u", CurrentPassword: goodPassword,
		NewPassword: otherPassword}
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	log.Info("input", "in", in, "pw", users.Password(goodPassword))
	log.Info("inputs", "create", users.CreateInput{Password: goodPassword},
		"set", users.SetPasswordInput{Password: goodPassword},
		"verify", users.VerifyPasswordInput{Password: goodPassword})
	if !strings.Contains(logs.String(), `"in":{"tenantId":"t","id":"u"}`) {
		t.Errorf("the logged input lacks its IDs: %s", logs.String())
	}
	printed := fmt.Sprintf("%v %+v %#v %s %q", in, in, in, in.NewPassword, in.CurrentPassword)
	noSecrets(t, "a printed input", printed)
	noSecrets(t, "a logged input", logs.String())

	// On the wire the password travels as itself.
	b, err := json.Marshal(in)
	if err != nil || !strings.Contains(string(b), `"newPassword":"`+otherPassword+`"`) {
		t.Errorf("JSON = %s, %v; want the password as a string", b, err)
	}
}

func TestBadPasswordInputIsRefused(t *testing.T) {
	f := setupPasswords(t)
	long := users.Password(strings.Repeat("p", passwords.MaxBytes+1))
	cases := []struct {
		name  string
		op    string
		in    any
		field string
	}{
		{"setPassword without a password", users.OpSetPassword,
			users.SetPasswordInput{TenantID: f.a.ID, ID: f.alice.ID}, "password"},
		{"setPassword with a malformed ID", users.OpSetPassword,
			users.SetPasswordInput{TenantID: f.a.ID, ID: "x", Password: goodPassword}, "id"},
		{"changePassword without the current one", users.OpChangePassword,
			users.ChangePasswordInput{TenantID: f.a.ID, ID: f.alice.ID,
				NewPassword: otherPassword}, "currentPassword"},
		{"changePassword with an oversized new one", users.OpChangePassword,
			users.ChangePasswordInput{TenantID: f.a.ID, ID: f.alice.ID,
				CurrentPassword: goodPassword, NewPassword: long}, "newPassword"},
		{"verifyPassword without a username", users.OpVerifyPassword,
			users.VerifyPasswordInput{TenantID: f.a.ID, Password: goodPassword}, "username"},
		{"verifyPassword with a malformed tenant", users.OpVerifyPassword,
			users.VerifyPasswordInput{TenantID: "x", Username: "alice", Password: goodPassword},
			"tenantId"},
		{"verifyPassword with an oversized password", users.OpVerifyPassword,
			users.VerifyPasswordInput{TenantID: f.a.ID, Username: "alice", Password: long},
			"password"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.op(tc.op, service, tc.in)
			var e *errs.Error
			if !errors.As(err, &e) || e.Code != errs.InvalidArgument || e.Field != tc.field {
				t.Errorf("err = %v, want INVALID_ARGUMENT for %s", err, tc.field)
			}
		})
	}
}

// BenchmarkVerifyPassword is one successful password check through the
// in-process invoker on the bolt store: JSON in and out, a user read by
// username, a credential read and one Argon2id derivation with the
// default parameters. Its ops/s is the login-credential checks one core
// serves per second.
func BenchmarkVerifyPassword(b *testing.B) {
	f := setupPasswords(b)
	in := users.VerifyPasswordInput{TenantID: f.a.ID, Username: "alice", Password: goodPassword}
	ctx := context.Background()

	b.ReportAllocs()
	for b.Loop() {
		out, err := invoke.Call[users.VerifyPasswordOutput](ctx, f.inv, users.FunctionName,
			users.OpVerifyPassword, service, in)
		if err != nil || out.User.ID != f.alice.ID {
			b.Fatalf("verify: %v", err)
		}
	}
}

// BenchmarkVerifyPasswordUnknownUser is the same for a username that does
// not exist: it should cost what BenchmarkVerifyPassword costs.
func BenchmarkVerifyPasswordUnknownUser(b *testing.B) {
	f := setupPasswords(b)
	in := users.VerifyPasswordInput{TenantID: f.a.ID, Username: "mallory", Password: goodPassword}
	ctx := context.Background()

	b.ReportAllocs()
	for b.Loop() {
		_, err := invoke.Call[users.VerifyPasswordOutput](ctx, f.inv, users.FunctionName,
			users.OpVerifyPassword, service, in)
		if errs.CodeOf(err) != errs.Unauthenticated {
			b.Fatalf("verify: %v", err)
		}
	}
}

func TestVerifyPasswordByVerifiedEmailOnly(t *testing.T) {
	f := setupPasswords(t)
	mustCall[store.User](t, f.inv, users.FunctionName, users.OpCreate, sysAdmin,
		users.CreateInput{TenantID: f.a.ID, Username: "grace", Email: "grace@example.com",
			EmailVerified: true, Password: otherPassword})
	mustCall[store.User](t, f.inv, users.FunctionName, users.OpCreate, sysAdmin,
		users.CreateInput{TenantID: f.a.ID, Username: "linus", Email: "linus@example.com",
			Password: otherPassword})

	got, err := f.verify(f.a.ID, "Grace@Example.com", otherPassword)
	if err != nil || got.User.Username != "grace" {
		t.Errorf("sign-in by a verified email: %+v, %v", got.User, err)
	}
	_, err = f.verify(f.a.ID, "linus@example.com", otherPassword)
	wantInvalidCredentials(t, "sign-in by an unverified email", err)
	_, err = f.verify(f.a.ID, "grace@example.com", goodPassword)
	wantInvalidCredentials(t, "a verified email with a wrong password", err)
}
