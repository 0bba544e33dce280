package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
)

var tokenTests = []test{
	{"a created token reads back the same by hash and in its listing", tokenCreateGet},
	{"system tokens and tenant tokens are listed apart", tokenScopes},
	{"a taken ID or hash is a conflict and writes nothing", tokenCreateConflict},
	{"concurrent creates of one hash succeed exactly once", tokenCreateRace},
	{"an empty hash is an invalid argument", tokenEmptyHash},
	{"text that is not UTF-8 is an invalid argument", tokenBadText},
	{"a token is gone once its expiry is reached", tokenExpiry},
	{"a token that has already expired is refused", tokenBornExpired},
	{"delete removes a token within its own scope only", tokenDelete},
	{"a missing token is not found", tokenNotFound},
	{"malformed IDs are invalid arguments and write nothing", tokenBadIDs},
}

func tokenCreateGet(t *testing.T, e *env) {
	ts := e.Store.APITokens()
	tn := mustTenant(t, e, "acme")
	expires := e.Now().Add(time.Hour + 123456789*time.Nanosecond).In(someTime.Location())
	in := newToken(tn.ID, expires)

	got, err := ts.Create(ctx(t), in)
	mustOK(t, "create", err)

	want := in
	want.CreatedAt = someTime.UTC().Truncate(time.Millisecond)
	want.ExpiresAt = expires.UTC().Truncate(time.Millisecond)
	want.Roles = []string{"reader", "writer"}
	if diff := cmp.Diff(want, got, opts); diff != "" {
		t.Errorf("create returned (-want +got):\n%s", diff)
	}
	checkTime(t, "CreatedAt", got.CreatedAt, someTime)
	checkTime(t, "ExpiresAt", got.ExpiresAt, expires)

	byHash, err := ts.GetByHash(ctx(t), in.Hash)
	mustOK(t, "get by hash", err)
	if diff := cmp.Diff(want, byHash, opts); diff != "" {
		t.Errorf("get by hash (-want +got):\n%s", diff)
	}
	checkTime(t, "ExpiresAt after get", byHash.ExpiresAt, expires)

	forever := mustToken(t, e, tn.ID, time.Time{})
	if !forever.ExpiresAt.IsZero() {
		t.Errorf("a token without expiry got ExpiresAt %v, want zero", forever.ExpiresAt)
	}
	byHash, err = ts.GetByHash(ctx(t), forever.Hash)
	mustOK(t, "get by hash", err)
	if !byHash.ExpiresAt.IsZero() {
		t.Errorf("a token without expiry reads back ExpiresAt %v, want zero", byHash.ExpiresAt)
	}

	items, next, err := ts.List(ctx(t), tn.ID, store.Page{})
	mustOK(t, "list", err)
	wantItems := []store.APIToken{want, forever}
	if forever.ID < want.ID {
		wantItems = []store.APIToken{forever, want}
	}
	if diff := cmp.Diff(wantItems, items, opts); diff != "" {
		t.Errorf("list (-want +got):\n%s", diff)
	}
	if next != "" {
		t.Errorf("list of two tokens: next = %q, want empty", next)
	}
}

func tokenScopes(t *testing.T, e *env) {
	ts := e.Store.APITokens()
	a := mustTenant(t, e, "acme")
	b := mustTenant(t, e, "globex")
	system := mustToken(t, e, "", time.Time{})
	ofA := mustToken(t, e, a.ID, time.Time{})

	for _, tc := range []struct {
		tenant string
		want   []store.APIToken
	}{
		{"", []store.APIToken{system}},
		{a.ID, []store.APIToken{ofA}},
		{b.ID, nil},
	} {
		items, _, err := ts.List(ctx(t), tc.tenant, store.Page{})
		mustOK(t, "list", err)
		if diff := cmp.Diff(tc.want, items, opts); diff != "" {
			t.Errorf("tokens of scope %q (-want +got):\n%s", tc.tenant, diff)
		}
	}

	got, err := ts.GetByHash(ctx(t), system.Hash)
	mustOK(t, "get the system token", err)
	if got.TenantID != "" {
		t.Errorf("system token has TenantID %q, want empty", got.TenantID)
	}
}

func tokenCreateConflict(t *testing.T, e *env) {
	ts := e.Store.APITokens()
	first := mustToken(t, e, "", time.Time{})

	sameID := newToken("", time.Time{})
	sameID.ID = first.ID
	_, err := ts.Create(ctx(t), sameID)
	wantErr(t, "create with a taken ID", err, errs.ErrConflict)
	_, err = ts.GetByHash(ctx(t), sameID.Hash)
	wantErr(t, "get the hash refused with a taken ID", err, errs.ErrNotFound)

	sameHash := newToken("", time.Time{})
	sameHash.Hash = first.Hash
	_, err = ts.Create(ctx(t), sameHash)
	wantErr(t, "create with a taken hash", err, errs.ErrConflict)

	got, err := ts.GetByHash(ctx(t), first.Hash)
	mustOK(t, "get the first token", err)
	if diff := cmp.Diff(first, got, opts); diff != "" {
		t.Errorf("first token after refused creates (-want +got):\n%s", diff)
	}
	items, _, err := ts.List(ctx(t), "", store.Page{})
	mustOK(t, "list", err)
	if diff := cmp.Diff([]store.APIToken{first}, items, opts); diff != "" {
		t.Errorf("list after refused creates (-want +got):\n%s", diff)
	}

	// The hash refused along with a taken ID was not reserved.
	_, err = ts.Create(ctx(t), newTokenWithHash(sameID.Hash))
	mustOK(t, "create with the hash of the refused token", err)
}

func newTokenWithHash(hash string) store.APIToken {
	tok := newToken("", time.Time{})
	tok.Hash = hash
	return tok
}

func tokenCreateRace(t *testing.T, e *env) {
	ts := e.Store.APITokens()
	const n = 16
	hash := hashOf("contested")
	in := make([]store.APIToken, n)
	for i := range in {
		in[i] = newTokenWithHash(hash)
	}

	results := race(n, func(i int) error {
		_, err := ts.Create(ctx(t), in[i])
		return err
	})
	winner := oneWinner(t, "concurrent create", results)

	got, err := ts.GetByHash(ctx(t), hash)
	mustOK(t, "get by hash", err)
	if got.ID != in[winner].ID {
		t.Errorf("hash belongs to %s, want the winner %s", got.ID, in[winner].ID)
	}
	items, _, err := ts.List(ctx(t), "", store.Page{})
	mustOK(t, "list", err)
	if len(items) != 1 {
		t.Errorf("list holds %d tokens, want 1", len(items))
	}
}

func tokenEmptyHash(t *testing.T, e *env) {
	ts := e.Store.APITokens()
	_, err := ts.Create(ctx(t), newTokenWithHash(""))
	wantErr(t, "create without a hash", err, errs.ErrInvalidArgument)

	items, _, err := ts.List(ctx(t), "", store.Page{})
	mustOK(t, "list", err)
	if len(items) != 0 {
		t.Errorf("list holds %d tokens after a refused create, want 0", len(items))
	}
}

func tokenExpiry(t *testing.T, e *env) {
	ts := e.Store.APITokens()
	tn := mustTenant(t, e, "acme")
	short := mustToken(t, e, tn.ID, e.Now().Add(e.MinTTL))
	long := mustToken(t, e, tn.ID, e.Now().Add(time.Hour))
	forever := mustToken(t, e, tn.ID, time.Time{})

	e.Advance(t, e.MinTTL/2)
	_, err := ts.GetByHash(ctx(t), short.Hash)
	mustOK(t, "get before expiry", err)

	// Now the store's clock is at or past the short token's ExpiresAt.
	e.Advance(t, e.MinTTL-e.MinTTL/2)
	_, err = ts.GetByHash(ctx(t), short.Hash)
	wantErr(t, "get after expiry", err, errs.ErrNotFound)
	for _, tok := range []store.APIToken{long, forever} {
		got, err := ts.GetByHash(ctx(t), tok.Hash)
		mustOK(t, "get a token that has not expired", err)
		if diff := cmp.Diff(tok, got, opts); diff != "" {
			t.Errorf("token that has not expired (-want +got):\n%s", diff)
		}
	}

	items, next, err := ts.List(ctx(t), tn.ID, store.Page{})
	mustOK(t, "list", err)
	want := []store.APIToken{long, forever}
	if diff := cmp.Diff(want, items, opts); diff != "" {
		t.Errorf("list after expiry (-want +got):\n%s", diff)
	}
	if next != "" {
		t.Errorf("list after expiry: next = %q, want empty", next)
	}
	wantErr(t, "delete an expired token", ts.Delete(ctx(t), tn.ID, short.ID), errs.ErrNotFound)

	// Paging over an expired token neither shows it nor ends early.
	pages := 0
	var ids []string
	var after string
	for {
		items, next, err := ts.List(ctx(t), tn.ID, store.Page{After: after, Limit: 1})
		mustOK(t, "list a page", err)
		for _, it := range items {
			ids = append(ids, it.ID)
		}
		pages++
		if next == "" || pages > 10 {
			break
		}
		after = next
	}
	if diff := cmp.Diff([]string{long.ID, forever.ID}, ids); diff != "" {
		t.Errorf("paged IDs after expiry (-want +got):\n%s", diff)
	}
}

func tokenBornExpired(t *testing.T, e *env) {
	ts := e.Store.APITokens()
	tok := newToken("", e.Now().Add(-time.Hour))
	_, err := ts.Create(ctx(t), tok)
	wantErr(t, "create an expired token", err, errs.ErrInvalidArgument)

	_, err = ts.GetByHash(ctx(t), tok.Hash)
	wantErr(t, "get the refused token", err, errs.ErrNotFound)
}

func tokenDelete(t *testing.T, e *env) {
	ts := e.Store.APITokens()
	a := mustTenant(t, e, "acme")
	b := mustTenant(t, e, "globex")
	ofA := mustToken(t, e, a.ID, time.Time{})
	system := mustToken(t, e, "", time.Time{})

	wantErr(t, "delete through another tenant", ts.Delete(ctx(t), b.ID, ofA.ID), errs.ErrNotFound)
	wantErr(t, "delete through the system scope", ts.Delete(ctx(t), "", ofA.ID), errs.ErrNotFound)
	wantErr(t, "delete a system token through a tenant", ts.Delete(ctx(t), a.ID, system.ID),
		errs.ErrNotFound)
	for _, tok := range []store.APIToken{ofA, system} {
		_, err := ts.GetByHash(ctx(t), tok.Hash)
		mustOK(t, "get after deletes through other scopes", err)
	}

	mustOK(t, "delete", ts.Delete(ctx(t), a.ID, ofA.ID))
	_, err := ts.GetByHash(ctx(t), ofA.Hash)
	wantErr(t, "get after delete", err, errs.ErrNotFound)
	wantErr(t, "second delete", ts.Delete(ctx(t), a.ID, ofA.ID), errs.ErrNotFound)
	items, _, err := ts.List(ctx(t), a.ID, store.Page{})
	mustOK(t, "list", err)
	if len(items) != 0 {
		t.Errorf("list holds %d tokens after delete, want 0", len(items))
	}

	mustOK(t, "delete the system token", ts.Delete(ctx(t), "", system.ID))
	_, err = ts.GetByHash(ctx(t), system.Hash)
	wantErr(t, "get the system token after delete", err, errs.ErrNotFound)

	// A deleted token's hash is free again.
	_, err = ts.Create(ctx(t), newTokenWithHash(ofA.Hash))
	mustOK(t, "create with a freed hash", err)
}

func tokenNotFound(t *testing.T, e *env) {
	ts := e.Store.APITokens()
	tn := mustTenant(t, e, "acme")
	mustToken(t, e, tn.ID, time.Time{})

	_, err := ts.GetByHash(ctx(t), hashOf("unknown"))
	wantErr(t, "get by hash", err, errs.ErrNotFound)
	_, err = ts.GetByHash(ctx(t), "")
	wantErr(t, "get by empty hash", err, errs.ErrNotFound)
	wantErr(t, "delete", ts.Delete(ctx(t), tn.ID, newID()), errs.ErrNotFound)
	wantErr(t, "delete a system token", ts.Delete(ctx(t), "", newID()), errs.ErrNotFound)
}

func tokenBadIDs(t *testing.T, e *env) {
	ts := e.Store.APITokens()
	tn := mustTenant(t, e, "acme")
	good := mustToken(t, e, tn.ID, time.Time{})

	for _, bad := range badIDs() {
		what := fmt.Sprintf("ID %q", bad)
		in := newToken(tn.ID, time.Time{})
		in.ID = bad
		_, err := ts.Create(ctx(t), in)
		wantErr(t, "create with "+what, err, errs.ErrInvalidArgument)
		wantErr(t, "delete "+what, ts.Delete(ctx(t), tn.ID, bad), errs.ErrInvalidArgument)
		_, err = ts.GetByHash(ctx(t), in.Hash)
		wantErr(t, "get the hash refused with "+what, err, errs.ErrNotFound)

		if bad == "" {
			continue // the system scope
		}
		what = fmt.Sprintf("tenant ID %q", bad)
		in = newToken(bad, time.Time{})
		_, err = ts.Create(ctx(t), in)
		wantErr(t, "create with "+what, err, errs.ErrInvalidArgument)
		_, _, err = ts.List(ctx(t), bad, store.Page{})
		wantErr(t, "list with "+what, err, errs.ErrInvalidArgument)
		wantErr(t, "delete with "+what, ts.Delete(ctx(t), bad, good.ID), errs.ErrInvalidArgument)
	}

	items, _, err := ts.List(ctx(t), tn.ID, store.Page{})
	mustOK(t, "list", err)
	if diff := cmp.Diff([]store.APIToken{good}, items, opts); diff != "" {
		t.Errorf("tokens after refused calls (-want +got):\n%s", diff)
	}
	items, _, err = ts.List(ctx(t), "", store.Page{})
	mustOK(t, "list system tokens", err)
	if len(items) != 0 {
		t.Errorf("system scope holds %d tokens after refused creates, want 0", len(items))
	}
}

func tokenBadText(t *testing.T, e *env) {
	ts := e.Store.APITokens()
	for _, change := range []func(*store.APIToken){
		func(tok *store.APIToken) { tok.Name = notUTF8 },
		func(tok *store.APIToken) { tok.Subject = notUTF8 },
		func(tok *store.APIToken) { tok.Roles = []string{"reader", notUTF8} },
	} {
		in := newToken("", time.Time{})
		change(&in)
		_, err := ts.Create(ctx(t), in)
		wantErr(t, fmt.Sprintf("create %+v", in), err, errs.ErrInvalidArgument)
		_, err = ts.GetByHash(ctx(t), in.Hash)
		wantErr(t, "get the refused token", err, errs.ErrNotFound)
	}
}
