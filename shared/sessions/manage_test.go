package sessions_test

import (
	"slices"
	"testing"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/sessions"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/validate"
)

// orgFixture is a tenant with two sibling organizations under a parent,
// a user in each, and their sessions.
type orgFixture struct {
	parent, left, right store.Organization
	lena, rick, tess    store.User // in left, in right, at tenant level
	lenaS, rickS, tessS sessions.CreateOutput
}

func newOrgFixture(e *env) *orgFixture {
	f := &orgFixture{}
	f.parent = e.org(e.a, "parent", "")
	f.left = e.org(e.a, "left", f.parent.ID)
	f.right = e.org(e.a, "right", f.parent.ID)
	f.lena = e.user(e.a, "lena", f.left.ID)
	f.rick = e.user(e.a, "rick", f.right.ID)
	f.tess = e.user(e.a, "tess", "")
	f.lenaS, f.rickS, f.tessS = e.signIn(f.lena), e.signIn(f.rick), e.signIn(f.tess)
	return f
}

func ids(items []sessions.Session) []string {
	var out []string
	for _, s := range items {
		out = append(out, s.ID)
	}
	return out
}

func TestUsersSeeAndEndTheirOwnSessions(t *testing.T) {
	e := newEnv(t)
	ann := e.user(e.a, "ann", "")
	bob := e.user(e.a, "bob", "")
	first, second := e.signIn(ann), e.signIn(ann)
	bobs := e.signIn(bob)
	me := userCaller(ann)

	list := must[sessions.ListOutput](e, me, sessions.OpList,
		sessions.ListInput{TenantID: e.a.ID, UserID: ann.ID})
	if !slices.Equal(ids(list.Items), []string{first.Session.ID, second.Session.ID}) {
		t.Errorf("ann's sessions: %v", ids(list.Items))
	}
	got := must[sessions.Session](e, me, sessions.OpGet,
		sessions.GetInput{TenantID: e.a.ID, ID: first.Session.ID})
	if got.UserAgent != "Mozilla/5.0" || got.IP != "192.0.2.7" {
		t.Errorf("get: %+v", got)
	}

	// Another user's sessions are not ann's to see or end.
	_, err := call[sessions.ListOutput](e, me, sessions.OpList,
		sessions.ListInput{TenantID: e.a.ID, UserID: bob.ID})
	wantCode(t, "list another user's sessions", err, errs.PermissionDenied)
	for _, op := range []string{sessions.OpGet, sessions.OpRevoke} {
		_, err := call[sessions.Session](e, me, op,
			sessions.GetInput{TenantID: e.a.ID, ID: bobs.Session.ID})
		wantCode(t, op+" another user's session", err, errs.NotFound)
	}
	_, err = call[sessions.RevokeAllOutput](e, me, sessions.OpRevokeAll,
		sessions.RevokeAllInput{TenantID: e.a.ID, UserID: bob.ID})
	wantCode(t, "revoke all of another user's sessions", err, errs.PermissionDenied)
	e.mustValidate(bobs.Token)

	must[sessions.RevokeOutput](e, me, sessions.OpRevoke,
		sessions.RevokeInput{TenantID: e.a.ID, ID: first.Session.ID, UserID: ann.ID})
	_, err = e.validate(first.Token, "")
	wantInvalid(t, "the revoked session", err)
	e.mustValidate(second.Token)
	if got := e.auditActions(e.a.ID, first.Session.ID); len(got) != 0 {
		t.Errorf("a user's own revocation was audited: %v", got)
	}

	// "Revoke my session" with someone else's session ID is not found,
	// even for an administrator.
	_, err = call[sessions.RevokeOutput](e, adminOf(e.a), sessions.OpRevoke,
		sessions.RevokeInput{TenantID: e.a.ID, ID: bobs.Session.ID, UserID: ann.ID})
	wantCode(t, "revoke as ann a session of bob", err, errs.NotFound)
	e.mustValidate(bobs.Token)
}

func TestRevokeMyOtherSessions(t *testing.T) {
	e := newEnv(t)
	ann := e.user(e.a, "ann", "")
	cur, other, third := e.signIn(ann), e.signIn(ann), e.signIn(ann)
	me := e.mustValidate(cur.Token).Caller()

	out := must[sessions.RevokeAllOutput](e, me, sessions.OpRevokeAll,
		sessions.RevokeAllInput{TenantID: e.a.ID, UserID: ann.ID, KeepCurrent: true})
	if out.Revoked != 2 {
		t.Errorf("revoked %d, want 2", out.Revoked)
	}
	e.mustValidate(cur.Token)
	for _, tok := range []sessions.Token{other.Token, third.Token} {
		_, err := e.validate(tok, "")
		wantInvalid(t, "another session after revoking the others", err)
	}

	// Keeping the current session needs one.
	_, err := call[sessions.RevokeAllOutput](e, userCaller(ann), sessions.OpRevokeAll,
		sessions.RevokeAllInput{TenantID: e.a.ID, UserID: ann.ID, KeepCurrent: true})
	wantCode(t, "keep the current session without one", err, errs.InvalidArgument)
	e.mustValidate(cur.Token)
}

func TestAdministratorsEndTheSessionsOfUsersTheyReach(t *testing.T) {
	e := newEnv(t)
	f := newOrgFixture(e)
	extra := e.signIn(f.lena)

	for name, c := range map[string]function.Caller{
		"a tenant administrator":  adminOf(e.a),
		"a system administrator":  sysRoot,
		"an org admin above":      orgAdminOf(e.a, f.parent.ID),
		"the org's administrator": orgAdminOf(e.a, f.left.ID),
	} {
		list := must[sessions.ListOutput](e, c, sessions.OpList,
			sessions.ListInput{TenantID: e.a.ID, UserID: f.lena.ID})
		if len(list.Items) != 2 {
			t.Errorf("%s lists %d of lena's sessions, want 2", name, len(list.Items))
		}
		must[sessions.Session](e, c, sessions.OpGet,
			sessions.GetInput{TenantID: e.a.ID, ID: extra.Session.ID})
	}

	admin := orgAdminOf(e.a, f.left.ID)
	must[sessions.RevokeOutput](e, admin, sessions.OpRevoke,
		sessions.RevokeInput{TenantID: e.a.ID, ID: extra.Session.ID})
	_, err := e.validate(extra.Token, "")
	wantInvalid(t, "a session an administrator revoked", err)
	if got := e.auditActions(e.a.ID, extra.Session.ID); !slices.Equal(got,
		[]string{"session.revoke"}) {
		t.Errorf("audit of the revocation: %v", got)
	}

	out := must[sessions.RevokeAllOutput](e, adminOf(e.a), sessions.OpRevokeAll,
		sessions.RevokeAllInput{TenantID: e.a.ID, UserID: f.lena.ID})
	if out.Revoked != 1 {
		t.Errorf("revoke all revoked %d, want 1", out.Revoked)
	}
	_, err = e.validate(f.lenaS.Token, "")
	wantInvalid(t, "lena's session after revoke all", err)
	if got := e.auditActions(e.a.ID, f.lena.ID); !slices.Equal(got,
		[]string{"session.revokeAll"}) {
		t.Errorf("audit of revoke all: %v", got)
	}
	e.mustValidate(f.rickS.Token)
	e.mustValidate(f.tessS.Token)
}

// TestNoCallerReachesSessionsOutOfReach tries every operation on the
// sessions of tenant a's users as callers who must not reach them: each
// is NOT_FOUND (PERMISSION_DENIED for a plain user of the tenant listing,
// as users.list answers), and no session ends.
func TestNoCallerReachesSessionsOutOfReach(t *testing.T) {
	e := newEnv(t)
	f := newOrgFixture(e)
	bob := e.user(e.b, "bob", "")
	bobS := e.signIn(bob)

	outsiders := map[string]function.Caller{
		"an admin of another tenant":       adminOf(e.b),
		"an org admin of another tenant":   orgAdminOf(e.b, f.left.ID),
		"an admin of a sibling org":        orgAdminOf(e.a, f.right.ID),
		"a user of another tenant":         userCaller(bob),
		"bob's session as caller":          e.mustValidate(bobS.Token).Caller(),
		"an admin claiming no tenant":      {Subject: "x", Roles: []string{function.RoleTenantAdmin}},
		"an org admin of the lower org":    orgAdminOf(e.a, validate.NewID()),
		"a session of the wrong user name": userCaller(f.rick),
	}
	for name, c := range outsiders {
		// lena's session, in the left organization.
		for _, op := range []string{sessions.OpGet, sessions.OpRevoke} {
			_, err := call[sessions.Session](e, c, op,
				sessions.GetInput{TenantID: e.a.ID, ID: f.lenaS.Session.ID})
			wantCode(t, name+": "+op, err, errs.NotFound)
		}
		for _, op := range []string{sessions.OpList, sessions.OpRevokeAll} {
			_, err := call[sessions.RevokeAllOutput](e, c, op,
				sessions.ListInput{TenantID: e.a.ID, UserID: f.lena.ID})
			if c.Tenant == e.a.ID && !c.Has(function.RoleOrgAdmin) {
				wantCode(t, name+": "+op, err, errs.PermissionDenied)
			} else {
				wantCode(t, name+": "+op, err, errs.NotFound)
			}
		}
	}
	// Tenant-level users are out of every organization administrator's
	// reach.
	_, err := call[sessions.RevokeOutput](e, orgAdminOf(e.a, f.parent.ID), sessions.OpRevoke,
		sessions.RevokeInput{TenantID: e.a.ID, ID: f.tessS.Session.ID})
	wantCode(t, "an org admin ending a tenant-level user's session", err, errs.NotFound)
	// A session named through the wrong tenant is not found.
	_, err = call[sessions.Session](e, adminOf(e.b), sessions.OpGet,
		sessions.GetInput{TenantID: e.b.ID, ID: f.lenaS.Session.ID})
	wantCode(t, "a session of tenant a asked for in tenant b", err, errs.NotFound)
	_, err = call[sessions.Session](e, nobody, sessions.OpGet,
		sessions.GetInput{TenantID: e.a.ID, ID: f.lenaS.Session.ID})
	wantCode(t, "anonymous", err, errs.Unauthenticated)

	for _, tok := range []sessions.Token{f.lenaS.Token, f.rickS.Token, f.tessS.Token} {
		e.mustValidate(tok)
	}
	if got := e.auditActions(e.a.ID, ""); len(got) != 0 {
		t.Errorf("refused calls left audit events: %v", got)
	}
}

func TestServicesRevokeAUsersSessions(t *testing.T) {
	e := newEnv(t)
	ann := e.user(e.a, "ann", "")
	a1, a2 := e.signIn(ann), e.signIn(ann)
	bob := e.signIn(e.user(e.a, "bob", ""))

	r := sessions.Revoker{Invoker: e.inv, Subject: "account"}
	n, err := r.RevokeUser(t.Context(), e.a.ID, ann.ID)
	if err != nil || n != 2 {
		t.Fatalf("RevokeUser = %d, %v; want 2", n, err)
	}
	for _, tok := range []sessions.Token{a1.Token, a2.Token} {
		_, err := e.validate(tok, "")
		wantInvalid(t, "a session after RevokeUser", err)
	}
	e.mustValidate(bob.Token)
	if n, err := r.RevokeUser(t.Context(), e.a.ID, ann.ID); err != nil || n != 0 {
		t.Errorf("RevokeUser again = %d, %v; want 0", n, err)
	}
	if got := e.auditActions(e.a.ID, ann.ID); len(got) != 0 {
		t.Errorf("a service's revocation was audited here: %v", got)
	}
}

func TestManagementInputIsChecked(t *testing.T) {
	e := newEnv(t)
	ann := e.user(e.a, "ann", "")
	s := e.signIn(ann)
	me := userCaller(ann)
	cases := map[string]struct {
		op string
		in any
	}{
		"get with a malformed ID": {sessions.OpGet, sessions.GetInput{TenantID: e.a.ID, ID: "x"}},
		"list with a malformed user": {sessions.OpList,
			sessions.ListInput{TenantID: e.a.ID, UserID: "ann"}},
		"list with a malformed cursor": {sessions.OpList,
			sessions.ListInput{TenantID: e.a.ID, UserID: ann.ID, After: "garbage"}},
		"revoke with a malformed user": {sessions.OpRevoke,
			sessions.RevokeInput{TenantID: e.a.ID, ID: s.Session.ID, UserID: "ann"}},
		"revoke all with a malformed tenant": {sessions.OpRevokeAll,
			sessions.RevokeAllInput{TenantID: "acme", UserID: ann.ID}},
		"an unknown field": {sessions.OpGet,
			map[string]string{"tenantId": e.a.ID, "id": s.Session.ID, "token": "x"}},
	}
	for name, c := range cases {
		_, err := call[struct{}](e, me, c.op, c.in)
		wantCode(t, name, err, errs.InvalidArgument)
	}
	e.mustValidate(s.Token)
}
