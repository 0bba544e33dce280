package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
)

var refreshTests = []test{
	{"a family and its first token read back by the hash", refreshCreateGet},
	{"rotation spends the token and adds the next one", refreshRotate},
	{"of concurrent rotations of one token exactly one wins", refreshRotateRace},
	{"a revoked family neither rotates nor lists", refreshRevoke},
	{"a user's families list and revoke, by client too", refreshByUser},
	{"a session's families revoke, offline ones and others' kept", refreshBySession},
	{"expired tokens and families are gone", refreshExpiry},
	{"bad input is refused and writes nothing", refreshBad},
}

// newFamily is a family of user of client in tenant with its first token,
// whose hash is that of name.
func newFamily(e *env, tenantID, clientID, userID, name string) (store.RefreshFamily,
	store.RefreshToken) {
	now := e.Now()
	f := store.RefreshFamily{
		ID: newID(), TenantID: tenantID, ClientID: clientID, UserID: userID,
		SessionID: newID(), Scope: "openid profile", Audience: []string{"https://api.example"},
		AuthTime: now.Add(-time.Minute), ACR: "1", AMR: []string{"pwd"},
		CreatedAt: now, ExpiresAt: now.Add(24 * time.Hour),
	}
	tok := store.RefreshToken{Hash: hashOf(name), TenantID: tenantID, FamilyID: f.ID,
		Generation: 1, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	return f, tok
}

func mustFamily(t *testing.T, e *env, f store.RefreshFamily, tok store.RefreshToken) {
	t.Helper()
	mustOK(t, "create family", e.Store.RefreshTokens().CreateFamily(ctx(t), f, tok))
}

// nextToken is the token after tok, hashed from name.
func nextToken(e *env, tok store.RefreshToken, name string) store.RefreshToken {
	now := e.Now()
	return store.RefreshToken{Hash: hashOf(name), TenantID: tok.TenantID,
		FamilyID: tok.FamilyID, Generation: tok.Generation + 1, CreatedAt: now,
		ExpiresAt: now.Add(time.Hour)}
}

func storedFamily(f store.RefreshFamily) store.RefreshFamily {
	ms := func(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }
	f.AuthTime, f.CreatedAt, f.ExpiresAt = ms(f.AuthTime), ms(f.CreatedAt), ms(f.ExpiresAt)
	return f
}

func storedRefresh(tok store.RefreshToken) store.RefreshToken {
	ms := func(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }
	tok.CreatedAt, tok.ExpiresAt = ms(tok.CreatedAt), ms(tok.ExpiresAt)
	return tok
}

func refreshCreateGet(t *testing.T, e *env) {
	tn := mustTenant(t, e, "acme")
	f, tok := newFamily(e, tn.ID, newID(), newID(), "first")
	mustFamily(t, e, f, tok)

	gotTok, gotFam, err := e.Store.RefreshTokens().GetByHash(ctx(t), tok.Hash)
	mustOK(t, "get by hash", err)
	if diff := cmp.Diff(storedRefresh(tok), gotTok, opts); diff != "" {
		t.Errorf("token (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(storedFamily(f), gotFam, opts); diff != "" {
		t.Errorf("family (-want +got):\n%s", diff)
	}
	checkTime(t, "ExpiresAt", gotFam.ExpiresAt, f.ExpiresAt)

	for _, h := range []string{"", "x", hashOf("unknown")} {
		_, _, err := e.Store.RefreshTokens().GetByHash(ctx(t), h)
		wantErr(t, "get by hash "+h, err, errs.ErrNotFound)
	}
	f2, tok2 := newFamily(e, tn.ID, newID(), newID(), "first")
	wantErr(t, "a taken hash", e.Store.RefreshTokens().CreateFamily(ctx(t), f2, tok2),
		errs.ErrConflict)
	_, tok3 := newFamily(e, tn.ID, newID(), newID(), "other")
	tok3.FamilyID = f.ID
	wantErr(t, "a taken family ID", e.Store.RefreshTokens().CreateFamily(ctx(t), f, tok3),
		errs.ErrConflict)
	_, _, err = e.Store.RefreshTokens().GetByHash(ctx(t), tok3.Hash)
	wantErr(t, "the refused token", err, errs.ErrNotFound)
}

func refreshRotate(t *testing.T, e *env) {
	rt := e.Store.RefreshTokens()
	tn := mustTenant(t, e, "acme")
	f, tok := newFamily(e, tn.ID, newID(), newID(), "g1")
	mustFamily(t, e, f, tok)

	next := nextToken(e, tok, "g2")
	wantErr(t, "rotate in another tenant", rt.Rotate(ctx(t), newID(), tok.Hash, next),
		errs.ErrNotFound)
	mustOK(t, "rotate", rt.Rotate(ctx(t), tn.ID, tok.Hash, next))

	spent, _, err := rt.GetByHash(ctx(t), tok.Hash)
	mustOK(t, "get the spent token", err)
	if !spent.Used {
		t.Error("the spent token is not marked used")
	}
	got, fam, err := rt.GetByHash(ctx(t), next.Hash)
	mustOK(t, "get the next token", err)
	if got.Used || got.Generation != 2 || fam.ID != f.ID {
		t.Errorf("next token = %+v of family %s, want unused generation 2 of %s", got, fam.ID,
			f.ID)
	}

	wantErr(t, "rotate the spent token again", rt.Rotate(ctx(t), tn.ID, tok.Hash,
		nextToken(e, tok, "g2-bis")), errs.ErrConflict)
	_, _, err = rt.GetByHash(ctx(t), hashOf("g2-bis"))
	wantErr(t, "the token of a refused rotation", err, errs.ErrNotFound)

	bad := nextToken(e, next, "g3")
	bad.Generation = 7
	wantErr(t, "a wrong generation", rt.Rotate(ctx(t), tn.ID, next.Hash, bad),
		errs.ErrInvalidArgument)
	bad = nextToken(e, next, "g3")
	bad.ExpiresAt = f.ExpiresAt.Add(time.Hour)
	wantErr(t, "a token outliving its family", rt.Rotate(ctx(t), tn.ID, next.Hash, bad),
		errs.ErrInvalidArgument)
	wantErr(t, "rotate an unknown token", rt.Rotate(ctx(t), tn.ID, hashOf("nope"),
		nextToken(e, next, "g3")), errs.ErrNotFound)
	mustOK(t, "rotate the next token", rt.Rotate(ctx(t), tn.ID, next.Hash,
		nextToken(e, next, "g3")))
}

func refreshRotateRace(t *testing.T, e *env) {
	rt := e.Store.RefreshTokens()
	tn := mustTenant(t, e, "acme")
	f, tok := newFamily(e, tn.ID, newID(), newID(), "g1")
	mustFamily(t, e, f, tok)

	names := []string{"a", "b", "c", "d", "e", "f", "g", "h"}
	errsOut := race(len(names), func(i int) error {
		return rt.Rotate(ctx(t), tn.ID, tok.Hash, nextToken(e, tok, names[i]))
	})
	w := oneWinner(t, "concurrent rotations", errsOut)
	for i, n := range names {
		_, _, err := rt.GetByHash(ctx(t), hashOf(n))
		if i == w {
			mustOK(t, "the winner's token", err)
		} else {
			wantErr(t, "a loser's token", err, errs.ErrNotFound)
		}
	}
}

func refreshRevoke(t *testing.T, e *env) {
	rt := e.Store.RefreshTokens()
	tn := mustTenant(t, e, "acme")
	f, tok := newFamily(e, tn.ID, newID(), newID(), "g1")
	mustFamily(t, e, f, tok)
	other, otherTok := newFamily(e, tn.ID, f.ClientID, f.UserID, "other")
	mustFamily(t, e, other, otherTok)

	wantErr(t, "revoke in another tenant", rt.RevokeFamily(ctx(t), newID(), f.ID),
		errs.ErrNotFound)
	wantErr(t, "revoke an unknown family", rt.RevokeFamily(ctx(t), tn.ID, newID()),
		errs.ErrNotFound)
	mustOK(t, "revoke", rt.RevokeFamily(ctx(t), tn.ID, f.ID))
	mustOK(t, "revoke again", rt.RevokeFamily(ctx(t), tn.ID, f.ID))

	_, fam, err := rt.GetByHash(ctx(t), tok.Hash)
	mustOK(t, "get a token of the revoked family", err)
	if !fam.Revoked {
		t.Error("the family reads back unrevoked")
	}
	wantErr(t, "rotate in a revoked family", rt.Rotate(ctx(t), tn.ID, tok.Hash,
		nextToken(e, tok, "g2")), errs.ErrConflict)
	list, err := rt.ListFamilies(ctx(t), tn.ID, f.UserID, "")
	mustOK(t, "list", err)
	if len(list) != 1 || list[0].ID != other.ID {
		t.Errorf("listed %v, want only the unrevoked family %s", list, other.ID)
	}
	_, fam, err = rt.GetByHash(ctx(t), otherTok.Hash)
	if err != nil || fam.Revoked {
		t.Errorf("the other family: revoked %v, %v; want live", fam.Revoked, err)
	}
}

func refreshByUser(t *testing.T, e *env) {
	rt := e.Store.RefreshTokens()
	tn := mustTenant(t, e, "acme")
	user, web, app := newID(), newID(), newID()
	var fams []store.RefreshFamily
	for i, c := range []string{web, web, app} {
		f, tok := newFamily(e, tn.ID, c, user, "u"+string(rune('0'+i)))
		mustFamily(t, e, f, tok)
		fams = append(fams, f)
	}
	someone, someTok := newFamily(e, tn.ID, web, newID(), "someone")
	mustFamily(t, e, someone, someTok)

	list, err := rt.ListFamilies(ctx(t), tn.ID, user, "")
	mustOK(t, "list", err)
	if len(list) != 3 || list[0].ID != fams[0].ID || list[2].ID != fams[2].ID {
		t.Fatalf("listed %d families, want the user's 3 in order of ID", len(list))
	}
	list, err = rt.ListFamilies(ctx(t), tn.ID, user, app)
	mustOK(t, "list by client", err)
	if len(list) != 1 || list[0].ID != fams[2].ID {
		t.Errorf("listed %v by client, want only %s", list, fams[2].ID)
	}
	list, err = rt.ListFamilies(ctx(t), newID(), user, "")
	if err != nil || len(list) != 0 {
		t.Errorf("another tenant lists %d families, %v; want none", len(list), err)
	}

	gone, err := rt.RevokeByUser(ctx(t), tn.ID, user, web)
	mustOK(t, "revoke by user and client", err)
	if len(gone) != 2 || !gone[0].Revoked {
		t.Errorf("revoked %v, want the user's 2 families of web, marked revoked", gone)
	}
	list, _ = rt.ListFamilies(ctx(t), tn.ID, user, "")
	if len(list) != 1 || list[0].ID != fams[2].ID {
		t.Errorf("after revoking web, listed %v, want only %s", list, fams[2].ID)
	}
	gone, err = rt.RevokeByUser(ctx(t), tn.ID, user, "")
	mustOK(t, "revoke by user", err)
	if len(gone) != 1 {
		t.Errorf("revoked %d families, want the 1 left", len(gone))
	}
	if _, fam, err := rt.GetByHash(ctx(t), someTok.Hash); err != nil || fam.Revoked {
		t.Errorf("another user's family: revoked %v, %v; want live", fam.Revoked, err)
	}
}

func refreshBySession(t *testing.T, e *env) {
	rt := e.Store.RefreshTokens()
	tn := mustTenant(t, e, "acme")
	user, web, app := newID(), newID(), newID()
	a, aTok := newFamily(e, tn.ID, web, user, "s-web")
	mustFamily(t, e, a, aTok)
	b, bTok := newFamily(e, tn.ID, app, user, "s-app")
	b.SessionID = a.SessionID
	mustFamily(t, e, b, bTok)
	other, otherTok := newFamily(e, tn.ID, web, user, "s-other") // another session
	mustFamily(t, e, other, otherTok)
	offline, offTok := newFamily(e, tn.ID, web, user, "s-offline")
	offline.SessionID = ""
	mustFamily(t, e, offline, offTok)
	someone, someTok := newFamily(e, tn.ID, web, newID(), "s-someone")
	someone.SessionID = a.SessionID // never shared in practice; still not this user's
	mustFamily(t, e, someone, someTok)

	gone, err := rt.RevokeBySession(ctx(t), newID(), user, a.SessionID)
	if err != nil || len(gone) != 0 {
		t.Errorf("another tenant revoked %d families, %v; want none", len(gone), err)
	}
	gone, err = rt.RevokeBySession(ctx(t), tn.ID, user, a.SessionID)
	mustOK(t, "revoke by session", err)
	if len(gone) != 2 || !gone[0].Revoked || gone[0].ID != a.ID || gone[1].ID != b.ID {
		t.Errorf("revoked %v, want the session's 2 families in order of ID, marked revoked",
			gone)
	}
	for _, h := range []string{aTok.Hash, bTok.Hash} {
		if _, fam, err := rt.GetByHash(ctx(t), h); err != nil || !fam.Revoked {
			t.Errorf("the session's family: revoked %v, %v; want revoked", fam.Revoked, err)
		}
	}
	for what, h := range map[string]string{"another session's": otherTok.Hash,
		"an offline": offTok.Hash, "another user's": someTok.Hash} {
		if _, fam, err := rt.GetByHash(ctx(t), h); err != nil || fam.Revoked {
			t.Errorf("%s family: revoked %v, %v; want live", what, fam.Revoked, err)
		}
	}
	gone, err = rt.RevokeBySession(ctx(t), tn.ID, user, a.SessionID)
	if err != nil || len(gone) != 0 {
		t.Errorf("revoking again revoked %d, %v; want none", len(gone), err)
	}
	_, err = rt.RevokeBySession(ctx(t), tn.ID, user, "not-an-id")
	wantErr(t, "a malformed session ID", err, errs.ErrInvalidArgument)
	_, err = rt.RevokeBySession(ctx(t), tn.ID, "not-an-id", a.SessionID)
	wantErr(t, "a malformed user ID", err, errs.ErrInvalidArgument)
}

func refreshExpiry(t *testing.T, e *env) {
	rt := e.Store.RefreshTokens()
	tn := mustTenant(t, e, "acme")
	f, tok := newFamily(e, tn.ID, newID(), newID(), "short-token")
	tok.ExpiresAt = e.Now().Add(e.MinTTL)
	mustFamily(t, e, f, tok)
	g, gtok := newFamily(e, tn.ID, newID(), f.UserID, "short-family")
	g.ExpiresAt = e.Now().Add(e.MinTTL)
	gtok.ExpiresAt = g.ExpiresAt
	mustFamily(t, e, g, gtok)

	e.Advance(t, e.MinTTL/2)
	for _, h := range []string{tok.Hash, gtok.Hash} {
		_, _, err := rt.GetByHash(ctx(t), h)
		mustOK(t, "get before expiry", err)
	}
	e.Advance(t, e.MinTTL-e.MinTTL/2)
	for _, h := range []string{tok.Hash, gtok.Hash} {
		_, _, err := rt.GetByHash(ctx(t), h)
		wantErr(t, "get after expiry", err, errs.ErrNotFound)
	}
	wantErr(t, "rotate an expired token", rt.Rotate(ctx(t), tn.ID, tok.Hash,
		nextToken(e, tok, "late")), errs.ErrNotFound)
	wantErr(t, "revoke an expired family", rt.RevokeFamily(ctx(t), tn.ID, g.ID),
		errs.ErrNotFound)
	list, err := rt.ListFamilies(ctx(t), tn.ID, f.UserID, "")
	mustOK(t, "list", err)
	if len(list) != 1 || list[0].ID != f.ID {
		t.Errorf("listed %v, want only the family that has not expired", list)
	}
}

func refreshBad(t *testing.T, e *env) {
	rt := e.Store.RefreshTokens()
	tn := mustTenant(t, e, "acme")
	for _, tc := range []struct {
		name string
		edit func(f *store.RefreshFamily, tok *store.RefreshToken)
	}{
		{"a malformed tenant", func(f *store.RefreshFamily, tok *store.RefreshToken) {
			f.TenantID, tok.TenantID = "x", "x"
		}},
		{"a malformed family ID", func(f *store.RefreshFamily, tok *store.RefreshToken) {
			f.ID, tok.FamilyID = "x", "x"
		}},
		{"a malformed client", func(f *store.RefreshFamily, _ *store.RefreshToken) { f.ClientID = "" }},
		{"a malformed user", func(f *store.RefreshFamily, _ *store.RefreshToken) { f.UserID = "u" }},
		{"a malformed session", func(f *store.RefreshFamily, _ *store.RefreshToken) {
			f.SessionID = "s"
		}},
		{"a malformed hash", func(_ *store.RefreshFamily, tok *store.RefreshToken) { tok.Hash = "AB" }},
		{"a token of another family", func(_ *store.RefreshFamily, tok *store.RefreshToken) {
			tok.FamilyID = newID()
		}},
		{"a second generation", func(_ *store.RefreshFamily, tok *store.RefreshToken) {
			tok.Generation = 2
		}},
		{"a past expiry", func(f *store.RefreshFamily, _ *store.RefreshToken) {
			f.ExpiresAt = f.CreatedAt.Add(-time.Second)
		}},
		{"too long a family", func(f *store.RefreshFamily, _ *store.RefreshToken) {
			f.ExpiresAt = f.CreatedAt.Add(store.MaxRefreshFamilyLifetime + time.Hour)
		}},
		{"a token outliving its family", func(f *store.RefreshFamily, tok *store.RefreshToken) {
			tok.ExpiresAt = f.ExpiresAt.Add(time.Second)
		}},
		{"a scope not UTF-8", func(f *store.RefreshFamily, _ *store.RefreshToken) { f.Scope = "\xff" }},
		{"an empty audience", func(f *store.RefreshFamily, _ *store.RefreshToken) {
			f.Audience = []string{""}
		}},
	} {
		f, tok := newFamily(e, tn.ID, newID(), newID(), "bad "+tc.name)
		tc.edit(&f, &tok)
		wantErr(t, tc.name, rt.CreateFamily(ctx(t), f, tok), errs.ErrInvalidArgument)
		_, _, err := rt.GetByHash(ctx(t), tok.Hash)
		wantErr(t, tc.name+": nothing written", err, errs.ErrNotFound)
	}
	for _, id := range badIDs() {
		wantErr(t, "revoke with a bad ID", rt.RevokeFamily(ctx(t), tn.ID, id),
			errs.ErrInvalidArgument)
		_, err := rt.ListFamilies(ctx(t), tn.ID, id, "")
		wantErr(t, "list with a bad user ID", err, errs.ErrInvalidArgument)
	}
}
