package storetest

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
)

var issuerTests = []test{
	{"a created issuer reads back by ID, by issuer and in the list", issuerCreateGet},
	{"issuers are unique per tenant and invisible to other tenants", issuerUnique},
	{"concurrent creates of one issuer succeed once, and never pass the bound", issuerRace},
	{"an update swaps, bumps the version and keeps the issuer unique", issuerUpdate},
	{"concurrent updates all land", issuerConcurrentUpdate},
	{"delete removes one issuer", issuerDelete},
	{"bad input is refused and writes nothing", issuerBad},
}

func newIssuer(tenantID, iss string) store.TrustedIssuer {
	return store.TrustedIssuer{
		ID: newID(), TenantID: tenantID, Name: "Issuer " + iss, Issuer: iss,
		JWKSURI: iss + "/.well-known/jwks.json", Audiences: []string{"api://ward"},
		Algorithms: []string{"ES256", "RS256"}, SubjectClaim: "sub",
		Claims: []string{"email"}, Enabled: true, CreatedAt: someTime, UpdatedAt: someTime,
	}
}

func mustIssuer(t *testing.T, e *env, tenantID, iss string) store.TrustedIssuer {
	t.Helper()
	ti, err := e.Store.TrustedIssuers().Create(ctx(t), newIssuer(tenantID, iss))
	mustOK(t, "create issuer "+iss, err)
	return ti
}

func issuerCreateGet(t *testing.T, e *env) {
	tn := mustTenant(t, e, "acme")
	is := e.Store.TrustedIssuers()
	in := newIssuer(tn.ID, "https://idp.example.com")
	in.UserMapping, in.Sessions = store.IssuerMapEmail, true
	got, err := is.Create(ctx(t), in)
	mustOK(t, "create", err)

	want := in
	want.Version = 1
	want.CreatedAt = someTime.UTC().Truncate(time.Millisecond)
	want.UpdatedAt = want.CreatedAt
	if diff := cmp.Diff(want, got, opts); diff != "" {
		t.Errorf("create returned (-want +got):\n%s", diff)
	}
	checkTime(t, "CreatedAt", got.CreatedAt, someTime)

	byID, err := is.Get(ctx(t), tn.ID, in.ID)
	mustOK(t, "get", err)
	if diff := cmp.Diff(want, byID, opts); diff != "" {
		t.Errorf("get (-want +got):\n%s", diff)
	}
	byIss, err := is.GetByIssuer(ctx(t), tn.ID, "https://idp.example.com")
	mustOK(t, "get by issuer", err)
	if byIss.ID != in.ID {
		t.Errorf("get by issuer = %s, want %s", byIss.ID, in.ID)
	}
	_, err = is.GetByIssuer(ctx(t), tn.ID, "https://IDP.example.com")
	wantErr(t, "get by issuer in another case", err, errs.ErrNotFound)
	_, err = is.GetByIssuer(ctx(t), tn.ID, "")
	wantErr(t, "get by empty issuer", err, errs.ErrNotFound)

	other := mustIssuer(t, e, tn.ID, "https://other.example.com")
	list, err := is.List(ctx(t), tn.ID)
	mustOK(t, "list", err)
	if len(list) != 2 || list[0].ID != in.ID || list[1].ID != other.ID {
		t.Errorf("list = %+v, want %s then %s", list, in.ID, other.ID)
	}
	empty := mustTenant(t, e, "empty")
	list, err = is.List(ctx(t), empty.ID)
	mustOK(t, "list of a tenant without issuers", err)
	if len(list) != 0 {
		t.Errorf("list of a tenant without issuers = %+v", list)
	}
}

func issuerUnique(t *testing.T, e *env) {
	a, b := mustTenant(t, e, "a"), mustTenant(t, e, "b")
	is := e.Store.TrustedIssuers()
	ti := mustIssuer(t, e, a.ID, "https://idp.example.com")

	_, err := is.Create(ctx(t), newIssuer(a.ID, "https://idp.example.com"))
	wantErr(t, "same issuer in the tenant", err, errs.ErrConflict)
	dup := newIssuer(a.ID, "https://idp2.example.com")
	dup.ID = ti.ID
	_, err = is.Create(ctx(t), dup)
	wantErr(t, "same ID in the tenant", err, errs.ErrConflict)

	mustIssuer(t, e, b.ID, "https://idp.example.com") // another tenant may trust it too
	_, err = is.Get(ctx(t), b.ID, ti.ID)
	wantErr(t, "get from another tenant", err, errs.ErrNotFound)
	_, err = is.Update(ctx(t), b.ID, ti.ID, func(x store.TrustedIssuer) (store.TrustedIssuer,
		error) {
		return x, nil
	})
	wantErr(t, "update from another tenant", err, errs.ErrNotFound)
	wantErr(t, "delete from another tenant", is.Delete(ctx(t), b.ID, ti.ID), errs.ErrNotFound)
	if _, err := is.Get(ctx(t), a.ID, ti.ID); err != nil {
		t.Errorf("the issuer is gone after another tenant's delete: %v", err)
	}

	for i := 1; i < store.MaxTrustedIssuers; i++ {
		mustIssuer(t, e, a.ID, fmt.Sprintf("https://idp%d.example.net", i))
	}
	_, err = is.Create(ctx(t), newIssuer(a.ID, "https://one-too-many.example.net"))
	wantErr(t, "one issuer over the bound", err, errs.ErrInvalidArgument)
}

func issuerRace(t *testing.T, e *env) {
	tn := mustTenant(t, e, "acme")
	is := e.Store.TrustedIssuers()
	errsOut := race(8, func(int) error {
		_, err := is.Create(ctx(t), newIssuer(tn.ID, "https://idp.example.com"))
		return err
	})
	oneWinner(t, "creates of one issuer", errsOut)

	const n = store.MaxTrustedIssuers + 4
	var made atomic.Int32
	errsOut = race(n, func(i int) error {
		_, err := is.Create(ctx(t), newIssuer(tn.ID, fmt.Sprintf("https://r%d.example.com", i)))
		if err == nil {
			made.Add(1)
		}
		return err
	})
	for _, err := range errsOut {
		if err != nil && errs.CodeOf(err) != errs.InvalidArgument &&
			errs.CodeOf(err) != errs.Conflict {
			t.Errorf("a racing create failed with %v", err)
		}
	}
	list, err := is.List(ctx(t), tn.ID)
	mustOK(t, "list", err)
	if len(list) > store.MaxTrustedIssuers {
		t.Errorf("the tenant has %d issuers, over the bound %d", len(list),
			store.MaxTrustedIssuers)
	}
	if int(made.Load())+1 != len(list) {
		t.Errorf("%d creates succeeded but the list holds %d issuers", made.Load()+1, len(list))
	}
}

func issuerUpdate(t *testing.T, e *env) {
	tn := mustTenant(t, e, "acme")
	is := e.Store.TrustedIssuers()
	ti := mustIssuer(t, e, tn.ID, "https://idp.example.com")
	taken := mustIssuer(t, e, tn.ID, "https://taken.example.com")

	later := someTime.Add(time.Hour)
	got, err := is.Update(ctx(t), tn.ID, ti.ID, func(x store.TrustedIssuer) (store.TrustedIssuer,
		error) {
		x.ID, x.TenantID, x.Version, x.CreatedAt = "ignored", "ignored", 99, later
		x.Issuer, x.Enabled, x.Audiences = "https://new.example.com", false, []string{"a", "b"}
		x.JWKSURI, x.JWKS = "", `{"keys":[]}`
		x.UpdatedAt = later
		return x, nil
	})
	mustOK(t, "update", err)
	if got.ID != ti.ID || got.TenantID != tn.ID || got.Version != 2 ||
		!got.CreatedAt.Equal(ti.CreatedAt) || got.Issuer != "https://new.example.com" ||
		got.Enabled || got.JWKS != `{"keys":[]}` || got.JWKSURI != "" ||
		!cmp.Equal(got.Audiences, []string{"a", "b"}) {
		t.Errorf("update returned %+v", got)
	}
	checkTime(t, "UpdatedAt", got.UpdatedAt, later)
	read, err := is.Get(ctx(t), tn.ID, ti.ID)
	mustOK(t, "get", err)
	if diff := cmp.Diff(got, read, opts); diff != "" {
		t.Errorf("get after update (-want +got):\n%s", diff)
	}
	_, err = is.GetByIssuer(ctx(t), tn.ID, "https://idp.example.com")
	wantErr(t, "get by the old issuer URL", err, errs.ErrNotFound)

	_, err = is.Update(ctx(t), tn.ID, ti.ID, func(x store.TrustedIssuer) (store.TrustedIssuer,
		error) {
		x.Issuer = taken.Issuer
		return x, nil
	})
	wantErr(t, "update to a taken issuer", err, errs.ErrConflict)
	_, err = is.Update(ctx(t), tn.ID, ti.ID, func(x store.TrustedIssuer) (store.TrustedIssuer,
		error) {
		return x, errFn
	})
	if err != errFn {
		t.Errorf("fn's error came back as %v", err)
	}
	_, err = is.Update(ctx(t), tn.ID, newID(), func(x store.TrustedIssuer) (store.TrustedIssuer,
		error) {
		return x, nil
	})
	wantErr(t, "update of a missing issuer", err, errs.ErrNotFound)
	read, _ = is.Get(ctx(t), tn.ID, ti.ID)
	if read.Version != 2 {
		t.Errorf("failed updates wrote: version %d", read.Version)
	}
}

func issuerConcurrentUpdate(t *testing.T, e *env) {
	tn := mustTenant(t, e, "acme")
	is := e.Store.TrustedIssuers()
	ti := mustIssuer(t, e, tn.ID, "https://idp.example.com")
	other := mustIssuer(t, e, tn.ID, "https://other.example.com")
	errsOut := race(8, func(i int) error {
		id := ti.ID
		if i%2 == 1 {
			id = other.ID
		}
		_, err := is.Update(ctx(t), tn.ID, id, func(x store.TrustedIssuer) (store.TrustedIssuer,
			error) {
			x.Audiences = append(x.Audiences, fmt.Sprintf("aud-%d", i))
			return x, nil
		})
		return err
	})
	for i, err := range errsOut {
		mustOK(t, fmt.Sprintf("update %d", i), err)
	}
	for _, id := range []string{ti.ID, other.ID} {
		got, err := is.Get(ctx(t), tn.ID, id)
		mustOK(t, "get", err)
		if got.Version != 5 || len(got.Audiences) != 5 {
			t.Errorf("issuer %s: version %d, audiences %v; want 5 and 5", id, got.Version,
				got.Audiences)
		}
	}
}

func issuerDelete(t *testing.T, e *env) {
	tn := mustTenant(t, e, "acme")
	is := e.Store.TrustedIssuers()
	ti := mustIssuer(t, e, tn.ID, "https://idp.example.com")
	keep := mustIssuer(t, e, tn.ID, "https://keep.example.com")
	mustOK(t, "delete", is.Delete(ctx(t), tn.ID, ti.ID))
	wantErr(t, "delete again", is.Delete(ctx(t), tn.ID, ti.ID), errs.ErrNotFound)
	_, err := is.Get(ctx(t), tn.ID, ti.ID)
	wantErr(t, "get after delete", err, errs.ErrNotFound)
	_, err = is.GetByIssuer(ctx(t), tn.ID, ti.Issuer)
	wantErr(t, "get by issuer after delete", err, errs.ErrNotFound)
	list, err := is.List(ctx(t), tn.ID)
	mustOK(t, "list", err)
	if len(list) != 1 || list[0].ID != keep.ID {
		t.Errorf("list after delete = %+v", list)
	}
	mustIssuer(t, e, tn.ID, ti.Issuer) // the URL is free again
	mustOK(t, "delete the last", is.Delete(ctx(t), tn.ID, keep.ID))
}

func issuerBad(t *testing.T, e *env) {
	tn := mustTenant(t, e, "acme")
	is := e.Store.TrustedIssuers()
	for _, id := range badIDs() {
		in := newIssuer(tn.ID, "https://idp.example.com")
		in.ID = id
		_, err := is.Create(ctx(t), in)
		wantErr(t, "create with ID "+id, err, errs.ErrInvalidArgument)
		_, err = is.Get(ctx(t), tn.ID, id)
		wantErr(t, "get with ID "+id, err, errs.ErrInvalidArgument)
		_, err = is.List(ctx(t), id)
		wantErr(t, "list with tenant "+id, err, errs.ErrInvalidArgument)
	}
	bad := map[string]func(*store.TrustedIssuer){
		"no issuer":           func(x *store.TrustedIssuer) { x.Issuer = "" },
		"a long issuer":       func(x *store.TrustedIssuer) { x.Issuer = strings.Repeat("a", 1025) },
		"an issuer not UTF-8": func(x *store.TrustedIssuer) { x.Issuer = "https://\xff" },
		"too many audiences": func(x *store.TrustedIssuer) {
			x.Audiences = make([]string, store.MaxIssuerAudiences+1)
			for i := range x.Audiences {
				x.Audiences[i] = fmt.Sprint(i)
			}
		},
		"an empty algorithm": func(x *store.TrustedIssuer) { x.Algorithms = []string{""} },
		"a huge inline set": func(x *store.TrustedIssuer) {
			x.JWKS = strings.Repeat(" ", store.MaxInlineJWKSBytes+1)
		},
	}
	for name, spoil := range bad {
		in := newIssuer(tn.ID, "https://idp.example.com")
		spoil(&in)
		_, err := is.Create(ctx(t), in)
		wantErr(t, "create with "+name, err, errs.ErrInvalidArgument)
	}
	ti := mustIssuer(t, e, tn.ID, "https://idp.example.com")
	_, err := is.Update(ctx(t), tn.ID, ti.ID, func(x store.TrustedIssuer) (store.TrustedIssuer,
		error) {
		x.Issuer = ""
		return x, nil
	})
	wantErr(t, "update to no issuer", err, errs.ErrInvalidArgument)
	list, err := is.List(ctx(t), tn.ID)
	mustOK(t, "list", err)
	if len(list) != 1 || list[0].Version != 1 {
		t.Errorf("bad writes wrote: %+v", list)
	}
}
