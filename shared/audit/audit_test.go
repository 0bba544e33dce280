package audit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wardhq/ward/shared/apitokens"
	"github.com/wardhq/ward/shared/audit"
	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/orgs"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/store/bolt"
	"github.com/wardhq/ward/shared/tenants"
	"github.com/wardhq/ward/shared/users"
)

var sysAdmin = function.Caller{Subject: "root", Roles: []string{function.RoleSystemAdmin}}

type world struct {
	inv   invoke.Invoker
	store store.Store
}

// newWorld hosts every domain function and the audit function on one
// bolt store, as the local process does. wrap, when set, replaces the
// store the domain functions see.
func newWorld(t *testing.T, log *slog.Logger, wrap func(store.Store) store.Store) *world {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "ward.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var domain store.Store = st
	if wrap != nil {
		domain = wrap(st)
	}
	inv := invoke.NewLocal(
		tenants.Function(tenants.Deps{Store: domain, Log: log}),
		users.Function(users.Deps{Store: domain, Log: log}),
		orgs.Function(orgs.Deps{Store: domain, Log: log}),
		apitokens.Function(apitokens.Deps{Store: domain, Log: log}),
		audit.Function(audit.Deps{Store: st}),
	)
	return &world{inv: inv, store: st}
}

func call[Out any](t *testing.T, w *world, fn, op string, c function.Caller, in any) Out {
	t.Helper()
	out, err := invoke.Call[Out](context.Background(), w.inv, fn, op, c, in)
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
	return out
}

// trail lists a whole trail, oldest first, as the system administrator.
func trail(t *testing.T, w *world, tenantID, targetID string) []store.AuditEvent {
	t.Helper()
	var all []store.AuditEvent
	after := ""
	for {
		out := call[audit.ListOutput](t, w, audit.FunctionName, audit.OpList, sysAdmin,
			audit.ListInput{TenantID: tenantID, TargetID: targetID, After: after, First: 2})
		all = append(all, out.Items...)
		if out.Next == "" {
			break
		}
		after = out.Next
	}
	for i, j := 0, len(all)-1; i < j; i, j = i+1, j-1 {
		all[i], all[j] = all[j], all[i]
	}
	return all
}

// summary is what the tests check of an event.
type summary struct {
	Actor, Action, TargetType, TargetID string
	Changes                             map[string]store.AuditChange
}

func summarize(evs []store.AuditEvent) []summary {
	var out []summary
	for _, e := range evs {
		out = append(out, summary{e.Actor, e.Action, e.TargetType, e.TargetID, e.Changes})
	}
	return out
}

type ch = store.AuditChange

const (
	password    = "correct horse battery staple 42"
	newPassword = "a different, longer passphrase 7"
)

func TestEachWriteRecordsOneEvent(t *testing.T) {
	w := newWorld(t, nil, nil)
	tn := call[store.Tenant](t, w, tenants.FunctionName, tenants.OpCreate, sysAdmin,
		tenants.CreateInput{Name: "acme", DisplayName: "Acme"})
	admin := function.Caller{Subject: "admin-1", Tenant: tn.ID,
		Roles: []string{function.RoleTenantAdmin}}

	renamed := "Acme Inc."
	call[store.Tenant](t, w, tenants.FunctionName, tenants.OpUpdate, admin,
		tenants.UpdateInput{ID: tn.ID, DisplayName: &renamed})
	org := call[store.Organization](t, w, orgs.FunctionName, orgs.OpCreate, admin,
		orgs.CreateInput{TenantID: tn.ID, Name: "east", DisplayName: "East"})
	orgName := "east-coast"
	call[store.Organization](t, w, orgs.FunctionName, orgs.OpUpdate, admin,
		orgs.UpdateInput{TenantID: tn.ID, ID: org.ID, Name: &orgName})
	u := call[store.User](t, w, users.FunctionName, users.OpCreate, admin,
		users.CreateInput{TenantID: tn.ID, Username: "alice", Email: "alice@example.com",
			DisplayName: "Alice", Password: password})
	email, status := "alice@example.org", store.UserLocked
	call[store.User](t, w, users.FunctionName, users.OpUpdate, admin,
		users.UpdateInput{TenantID: tn.ID, ID: u.ID, Email: &email, Status: &status})
	call[users.PasswordOutput](t, w, users.FunctionName, users.OpSetPassword, admin,
		users.SetPasswordInput{TenantID: tn.ID, ID: u.ID, Password: password})
	alice := function.Caller{Subject: u.ID, Tenant: tn.ID, Roles: []string{function.RoleUser}}
	call[users.PasswordOutput](t, w, users.FunctionName, users.OpChangePassword, alice,
		users.ChangePasswordInput{TenantID: tn.ID, ID: u.ID, CurrentPassword: password,
			NewPassword: newPassword})
	tok := call[apitokens.CreateOutput](t, w, apitokens.FunctionName, apitokens.OpCreate, admin,
		apitokens.CreateInput{TenantID: tn.ID, Name: "ci", Roles: []string{"user"}})
	call[apitokens.DeleteOutput](t, w, apitokens.FunctionName, apitokens.OpDelete, admin,
		apitokens.DeleteInput{TenantID: tn.ID, ID: tok.APIToken.ID})
	call[users.DeleteOutput](t, w, users.FunctionName, users.OpDelete, admin,
		users.DeleteInput{TenantID: tn.ID, ID: u.ID})
	call[orgs.DeleteOutput](t, w, orgs.FunctionName, orgs.OpDelete, admin,
		orgs.DeleteInput{TenantID: tn.ID, ID: org.ID})
	call[tenants.DeleteOutput](t, w, tenants.FunctionName, tenants.OpDelete, sysAdmin,
		tenants.DeleteInput{ID: tn.ID})

	deletedUser := map[string]ch{
		"username": {Old: "alice"}, "email": {Old: "alice@example.org"},
		"emailVerified": {Old: "false"}, "phoneVerified": {Old: "false"},
		"displayName": {Old: "Alice"}, "status": {Old: "LOCKED"},
	}
	want := []summary{
		{"admin-1", "tenant.update", "tenant", tn.ID,
			map[string]ch{"displayName": {Old: "Acme", New: "Acme Inc."}}},
		{"admin-1", "org.create", "organization", org.ID,
			map[string]ch{"name": {New: "east"}, "displayName": {New: "East"}}},
		{"admin-1", "org.update", "organization", org.ID,
			map[string]ch{"name": {Old: "east", New: "east-coast"}}},
		{"admin-1", "user.create", "user", u.ID, map[string]ch{
			"username": {New: "alice"}, "email": {New: "alice@example.com"},
			"emailVerified": {New: "false"}, "phoneVerified": {New: "false"},
			"displayName": {New: "Alice"}, "status": {New: "ACTIVE"},
			"password": {New: audit.SecretChanged},
		}},
		{"admin-1", "user.update", "user", u.ID, map[string]ch{
			"email":  {Old: "alice@example.com", New: "alice@example.org"},
			"status": {Old: "ACTIVE", New: "LOCKED"},
		}},
		{"admin-1", "user.setPassword", "user", u.ID,
			map[string]ch{"password": {New: audit.SecretChanged}}},
		{u.ID, "user.changePassword", "user", u.ID,
			map[string]ch{"password": {New: audit.SecretChanged}}},
		{"admin-1", "apitoken.create", "apitoken", tok.APIToken.ID, map[string]ch{
			"name": {New: "ci"}, "subject": {New: "apitoken:" + tok.APIToken.ID},
			"roles": {New: "user"},
		}},
		{"admin-1", "apitoken.delete", "apitoken", tok.APIToken.ID, nil},
		{"admin-1", "user.delete", "user", u.ID, deletedUser},
		{"admin-1", "org.delete", "organization", org.ID, nil},
	}
	got := trail(t, w, tn.ID, "")
	if diff := cmp.Diff(want, summarize(got)); diff != "" {
		t.Errorf("tenant trail (-want +got):\n%s", diff)
	}

	wantSys := []summary{
		{"root", "tenant.create", "tenant", tn.ID,
			map[string]ch{"name": {New: "acme"}, "displayName": {New: "Acme"}}},
		{"root", "tenant.delete", "tenant", tn.ID,
			map[string]ch{"name": {Old: "acme"}, "displayName": {Old: "Acme Inc."}}},
	}
	if diff := cmp.Diff(wantSys, summarize(trail(t, w, "", ""))); diff != "" {
		t.Errorf("system trail (-want +got):\n%s", diff)
	}

	byUser := trail(t, w, tn.ID, u.ID)
	if len(byUser) != 5 {
		t.Errorf("the user's trail has %d events, want 5: %+v", len(byUser), summarize(byUser))
	}
	for _, e := range got {
		if e.TenantID != tn.ID || e.At.IsZero() {
			t.Errorf("event %s: tenant %q, at %v", e.Action, e.TenantID, e.At)
		}
	}
}

func TestNoEventHoldsASecret(t *testing.T) {
	w := newWorld(t, nil, nil)
	tn := call[store.Tenant](t, w, tenants.FunctionName, tenants.OpCreate, sysAdmin,
		tenants.CreateInput{Name: "acme"})
	u := call[store.User](t, w, users.FunctionName, users.OpCreate, sysAdmin,
		users.CreateInput{TenantID: tn.ID, Username: "bob", Password: password})
	call[users.PasswordOutput](t, w, users.FunctionName, users.OpSetPassword, sysAdmin,
		users.SetPasswordInput{TenantID: tn.ID, ID: u.ID, Password: newPassword})
	tok := call[apitokens.CreateOutput](t, w, apitokens.FunctionName, apitokens.OpCreate, sysAdmin,
		apitokens.CreateInput{TenantID: tn.ID, Name: "ci", Roles: []string{"tenant_admin"}})
	cred, err := w.store.Credentials().GetPassword(context.Background(), tn.ID, u.ID)
	if err != nil {
		t.Fatal(err)
	}

	evs := append(trail(t, w, tn.ID, ""), trail(t, w, "", "")...)
	if len(evs) != 4 {
		t.Fatalf("got %d events, want 4", len(evs))
	}
	raw, err := json.Marshal(evs)
	if err != nil {
		t.Fatal(err)
	}
	for name, secret := range map[string]string{
		"the first password": password, "the second password": newPassword,
		"the password hash": cred.Hash, "the hash's salt and key": cred.Hash[len(cred.Hash)-20:],
		"the argon2 prefix": "$argon2", "the token": tok.Token,
		"the token's hash": apitokens.Hash(tok.Token),
	} {
		if strings.Contains(string(raw), secret) {
			t.Errorf("an event holds %s: %s", name, raw)
		}
	}
}

func TestWhoMayReadTheTrail(t *testing.T) {
	w := newWorld(t, nil, nil)
	a := call[store.Tenant](t, w, tenants.FunctionName, tenants.OpCreate, sysAdmin,
		tenants.CreateInput{Name: "alpha"})
	b := call[store.Tenant](t, w, tenants.FunctionName, tenants.OpCreate, sysAdmin,
		tenants.CreateInput{Name: "beta"})
	org := call[store.Organization](t, w, orgs.FunctionName, orgs.OpCreate, sysAdmin,
		orgs.CreateInput{TenantID: a.ID, Name: "east"})
	adminA := function.Caller{Subject: "x", Tenant: a.ID, Roles: []string{function.RoleTenantAdmin}}
	orgAdminA := function.Caller{Subject: "o", Tenant: a.ID,
		Roles: []string{function.RoleOrgAdmin}, Orgs: []string{org.ID}}
	userA := function.Caller{Subject: "y", Tenant: a.ID, Roles: []string{function.RoleUser}}

	cases := []struct {
		name   string
		caller function.Caller
		in     audit.ListInput
		want   errs.Code // "" for success
	}{
		{"a system admin reads any trail", sysAdmin, audit.ListInput{TenantID: b.ID}, ""},
		{"a system admin reads the system trail", sysAdmin, audit.ListInput{}, ""},
		{"a tenant admin reads its trail", adminA, audit.ListInput{TenantID: a.ID}, ""},
		{"a tenant admin reads a target's trail", adminA,
			audit.ListInput{TenantID: a.ID, TargetID: org.ID}, ""},
		{"a tenant admin cannot see another trail", adminA, audit.ListInput{TenantID: b.ID},
			errs.NotFound},
		{"a tenant admin cannot read the system trail", adminA, audit.ListInput{},
			errs.PermissionDenied},
		{"an org admin cannot read its tenant's trail", orgAdminA,
			audit.ListInput{TenantID: a.ID}, errs.PermissionDenied},
		{"a user cannot read its tenant's trail", userA, audit.ListInput{TenantID: a.ID},
			errs.PermissionDenied},
		{"a user of another tenant learns nothing", userA, audit.ListInput{TenantID: b.ID},
			errs.NotFound},
		{"anonymous callers are refused", function.Caller{}, audit.ListInput{TenantID: a.ID},
			errs.Unauthenticated},
		{"a malformed tenant ID is invalid", sysAdmin, audit.ListInput{TenantID: "nope"},
			errs.InvalidArgument},
		{"a malformed target ID is invalid", sysAdmin,
			audit.ListInput{TenantID: a.ID, TargetID: "nope"}, errs.InvalidArgument},
		{"a malformed cursor is invalid", sysAdmin, audit.ListInput{TenantID: a.ID, After: "%"},
			errs.InvalidArgument},
		{"a page too large is invalid", sysAdmin, audit.ListInput{TenantID: a.ID, First: 100000},
			errs.InvalidArgument},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := invoke.Call[audit.ListOutput](context.Background(), w.inv,
				audit.FunctionName, audit.OpList, tc.caller, tc.in)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("got %v, want success", err)
			case tc.want != "" && errs.CodeOf(err) != tc.want:
				t.Fatalf("got %v, want code %q", err, tc.want)
			}
			if tc.want == "" && tc.in.TenantID == a.ID && tc.in.TargetID == "" &&
				len(out.Items) != 1 {
				t.Errorf("tenant a's trail has %d events, want 1 (org.create)", len(out.Items))
			}
		})
	}
}

func TestAFailedOperationRecordsNothing(t *testing.T) {
	w := newWorld(t, nil, nil)
	tn := call[store.Tenant](t, w, tenants.FunctionName, tenants.OpCreate, sysAdmin,
		tenants.CreateInput{Name: "acme"})
	u := call[store.User](t, w, users.FunctionName, users.OpCreate, sysAdmin,
		users.CreateInput{TenantID: tn.ID, Username: "alice"})
	userA := function.Caller{Subject: "y", Tenant: tn.ID, Roles: []string{function.RoleUser}}
	name := "Mallory"

	for _, f := range []struct {
		fn, op string
		c      function.Caller
		in     any
	}{
		{tenants.FunctionName, tenants.OpCreate, sysAdmin, tenants.CreateInput{Name: "acme"}},
		{users.FunctionName, users.OpCreate, sysAdmin,
			users.CreateInput{TenantID: tn.ID, Username: "alice"}},
		{users.FunctionName, users.OpUpdate, userA,
			users.UpdateInput{TenantID: tn.ID, ID: u.ID, DisplayName: &name}},
		{users.FunctionName, users.OpSetPassword, sysAdmin,
			users.SetPasswordInput{TenantID: tn.ID, ID: u.ID, Password: "short"}},
		{users.FunctionName, users.OpChangePassword,
			function.Caller{Subject: u.ID, Tenant: tn.ID, Roles: []string{"user"}},
			users.ChangePasswordInput{TenantID: tn.ID, ID: u.ID,
				CurrentPassword: "not the password at all", NewPassword: newPassword}},
		{orgs.FunctionName, orgs.OpDelete, sysAdmin,
			orgs.DeleteInput{TenantID: tn.ID, ID: tn.ID}},
		{apitokens.FunctionName, apitokens.OpDelete, sysAdmin,
			apitokens.DeleteInput{TenantID: tn.ID, ID: u.ID}},
		{tenants.FunctionName, tenants.OpDelete, sysAdmin, tenants.DeleteInput{ID: tn.ID}},
	} {
		_, err := invoke.Call[json.RawMessage](context.Background(), w.inv, f.fn, f.op, f.c, f.in)
		if err == nil {
			t.Errorf("%s succeeded; the test needs it to fail", f.op)
		}
	}

	if got := trail(t, w, tn.ID, ""); len(got) != 1 || got[0].Action != "user.create" {
		t.Errorf("tenant trail = %+v, want the one user.create", summarize(got))
	}
	if got := trail(t, w, "", ""); len(got) != 1 || got[0].Action != "tenant.create" {
		t.Errorf("system trail = %+v, want the one tenant.create", summarize(got))
	}
}

// brokenAudit fails every append, as an unavailable store would.
type brokenAudit struct{ store.Audit }

func (brokenAudit) Append(context.Context, store.AuditEvent) error {
	return errs.New(errs.Unavailable, "store unavailable")
}

type brokenAuditStore struct{ store.Store }

func (s brokenAuditStore) Audit() store.Audit { return brokenAudit{s.Store.Audit()} }

func TestALostEventIsLoggedAndTheOperationStands(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	w := newWorld(t, log, func(s store.Store) store.Store { return brokenAuditStore{s} })

	tn := call[store.Tenant](t, w, tenants.FunctionName, tenants.OpCreate, sysAdmin,
		tenants.CreateInput{Name: "acme"})
	if _, err := w.store.Tenants().Get(context.Background(), tn.ID); err != nil {
		t.Fatalf("the tenant is not there: %v", err)
	}
	line := buf.String()
	for _, want := range []string{`"level":"ERROR"`, `"msg":"audit event lost"`,
		`"action":"tenant.create"`, tn.ID} {
		if !strings.Contains(line, want) {
			t.Errorf("log %q lacks %s", line, want)
		}
	}
	if got := trail(t, w, "", ""); len(got) != 0 {
		t.Errorf("the system trail has %d events, want none", len(got))
	}
}
