package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
)

// APITokens.DeleteBySubject. Beyond package store's contract, every
// backend shares these: the system scope ("") is a scope like a tenant;
// an empty subject is ErrInvalidArgument (never "the tokens without one");
// expired tokens are not counted.
var tokenSubjectTests = []test{
	{"delete by subject removes one subject's tokens of one tenant", tokenDeleteBySubject},
	{"expired tokens are not counted", tokenDeleteBySubjectExpired},
	{"malformed arguments are invalid and delete nothing", tokenDeleteBySubjectBad},
}

func tokenOf(t *testing.T, e *env, tenantID, subject string,
	expiresAt time.Time) store.APIToken {
	t.Helper()
	tok := newToken(tenantID, expiresAt)
	tok.Subject = subject
	got, err := e.Store.APITokens().Create(ctx(t), tok)
	mustOK(t, "create token", err)
	return got
}

func tokenDeleteBySubject(t *testing.T, e *env) {
	ts := e.Store.APITokens()
	a := mustTenant(t, e, "acme")
	b := mustTenant(t, e, "globex")
	gone := []store.APIToken{
		tokenOf(t, e, a.ID, "user:alice", time.Time{}),
		tokenOf(t, e, a.ID, "user:alice", e.Now().Add(time.Hour)),
		tokenOf(t, e, a.ID, "user:alice", time.Time{}),
	}
	kept := []store.APIToken{
		tokenOf(t, e, a.ID, "user:bob", time.Time{}),
		tokenOf(t, e, a.ID, "user:alice2", time.Time{}),
		tokenOf(t, e, a.ID, "User:Alice", time.Time{}), // subjects are not folded
		tokenOf(t, e, b.ID, "user:alice", time.Time{}),
		tokenOf(t, e, "", "user:alice", time.Time{}),
	}

	n, err := ts.DeleteBySubject(ctx(t), a.ID, "user:alice")
	mustOK(t, "delete by subject", err)
	if n != len(gone) {
		t.Errorf("delete by subject counted %d, want %d", n, len(gone))
	}
	for _, tok := range gone {
		_, err := ts.GetByHash(ctx(t), tok.Hash)
		wantErr(t, "get a deleted token", err, errs.ErrNotFound)
	}
	for _, tok := range kept {
		_, err := ts.GetByHash(ctx(t), tok.Hash)
		mustOK(t, fmt.Sprintf("get the token of %q in scope %q", tok.Subject, tok.TenantID),
			err)
	}
	items, _, err := ts.List(ctx(t), a.ID, store.Page{})
	mustOK(t, "list", err)
	if len(items) != 3 {
		t.Errorf("tenant lists %d tokens after delete by subject, want 3", len(items))
	}

	n, err = ts.DeleteBySubject(ctx(t), a.ID, "user:alice")
	mustOK(t, "second delete by subject", err)
	if n != 0 {
		t.Errorf("second delete by subject counted %d, want 0", n)
	}
	n, err = ts.DeleteBySubject(ctx(t), "", "user:alice")
	mustOK(t, "delete by subject in the system scope", err)
	if n != 1 {
		t.Errorf("delete by subject in the system scope counted %d, want 1", n)
	}
	_, err = ts.GetByHash(ctx(t), kept[3].Hash)
	mustOK(t, "get the other tenant's token", err)
}

func tokenDeleteBySubjectExpired(t *testing.T, e *env) {
	ts := e.Store.APITokens()
	tn := mustTenant(t, e, "acme")
	tokenOf(t, e, tn.ID, "user:alice", e.Now().Add(e.MinTTL))
	live := tokenOf(t, e, tn.ID, "user:alice", time.Time{})
	e.Advance(t, e.MinTTL)

	n, err := ts.DeleteBySubject(ctx(t), tn.ID, "user:alice")
	mustOK(t, "delete by subject", err)
	if n != 1 {
		t.Errorf("delete by subject counted %d, want 1 (the token not expired)", n)
	}
	_, err = ts.GetByHash(ctx(t), live.Hash)
	wantErr(t, "get the deleted token", err, errs.ErrNotFound)
}

func tokenDeleteBySubjectBad(t *testing.T, e *env) {
	ts := e.Store.APITokens()
	tn := mustTenant(t, e, "acme")
	none := tokenOf(t, e, tn.ID, "", time.Time{})
	alice := tokenOf(t, e, tn.ID, "user:alice", time.Time{})

	_, err := ts.DeleteBySubject(ctx(t), tn.ID, "")
	wantErr(t, "delete by an empty subject", err, errs.ErrInvalidArgument)
	_, err = ts.DeleteBySubject(ctx(t), tn.ID, notUTF8)
	wantErr(t, "delete by a subject that is not UTF-8", err, errs.ErrInvalidArgument)
	for _, bad := range badIDs() {
		if bad == "" {
			continue // the system scope
		}
		_, err := ts.DeleteBySubject(ctx(t), bad, "user:alice")
		wantErr(t, fmt.Sprintf("delete by subject with tenant ID %q", bad), err,
			errs.ErrInvalidArgument)
	}
	for _, tok := range []store.APIToken{none, alice} {
		_, err := ts.GetByHash(ctx(t), tok.Hash)
		mustOK(t, "get after refused deletes", err)
	}
}
