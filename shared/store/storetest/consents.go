package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
)

var consentTests = []test{
	{"a granted consent reads back and lists", consentGrantGet},
	{"grants merge scopes and keep the first creation", consentMerge},
	{"concurrent grants keep every scope", consentConcurrentGrant},
	{"consents are invisible to other users and tenants", consentIsolation},
	{"delete removes one consent", consentDelete},
	{"bad input is refused and writes nothing", consentBad},
}

func newConsent(tenantID, userID, clientID string, scopes ...string) store.Consent {
	return store.Consent{TenantID: tenantID, UserID: userID, ClientID: clientID,
		Scopes: scopes, CreatedAt: someTime, UpdatedAt: someTime}
}

func consentGrantGet(t *testing.T, e *env) {
	tenant, user, client := newID(), newID(), newID()
	cs := e.Store.Consents()
	got, err := cs.Grant(ctx(t), newConsent(tenant, user, client, "profile", "openid",
		"openid"))
	mustOK(t, "grant", err)
	want := store.Consent{TenantID: tenant, UserID: user, ClientID: client,
		Scopes: []string{"openid", "profile"}, CreatedAt: someTime.UTC().Truncate(time.Millisecond),
		UpdatedAt: someTime.UTC().Truncate(time.Millisecond)}
	if diff := cmp.Diff(want, got, opts); diff != "" {
		t.Errorf("grant returned (-want +got):\n%s", diff)
	}
	read, err := cs.Get(ctx(t), tenant, user, client)
	mustOK(t, "get", err)
	if diff := cmp.Diff(want, read, opts); diff != "" {
		t.Errorf("get (-want +got):\n%s", diff)
	}
	checkTime(t, "CreatedAt", read.CreatedAt, someTime)

	other := newID()
	_, err = cs.Grant(ctx(t), newConsent(tenant, user, other, "email"))
	mustOK(t, "grant another client", err)
	list, err := cs.ListByUser(ctx(t), tenant, user)
	mustOK(t, "list", err)
	if len(list) != 2 || list[0].ClientID > list[1].ClientID {
		t.Fatalf("list = %+v, want two in order of client ID", list)
	}
}

func consentMerge(t *testing.T, e *env) {
	tenant, user, client := newID(), newID(), newID()
	cs := e.Store.Consents()
	_, err := cs.Grant(ctx(t), newConsent(tenant, user, client, "openid", "profile"))
	mustOK(t, "first grant", err)
	later := someTime.Add(time.Hour)
	c := newConsent(tenant, user, client, "email", "openid")
	c.CreatedAt, c.UpdatedAt = later, later
	got, err := cs.Grant(ctx(t), c)
	mustOK(t, "second grant", err)
	if want := []string{"email", "openid", "profile"}; !cmp.Equal(got.Scopes, want) {
		t.Errorf("scopes = %v, want %v", got.Scopes, want)
	}
	checkTime(t, "CreatedAt", got.CreatedAt, someTime)
	checkTime(t, "UpdatedAt", got.UpdatedAt, later)
	read, err := cs.Get(ctx(t), tenant, user, client)
	mustOK(t, "get", err)
	if diff := cmp.Diff(got, read, opts); diff != "" {
		t.Errorf("get after merge (-want +got):\n%s", diff)
	}
	if !read.Covers([]string{"profile", "email"}) || read.Covers([]string{"phone"}) {
		t.Errorf("Covers is wrong for %v", read.Scopes)
	}
}

func consentConcurrentGrant(t *testing.T, e *env) {
	tenant, user, client := newID(), newID(), newID()
	cs := e.Store.Consents()
	const n = 8
	errsOut := race(n, func(i int) error {
		_, err := cs.Grant(ctx(t), newConsent(tenant, user, client, fmt.Sprintf("s%d", i)))
		return err
	})
	for i, err := range errsOut {
		mustOK(t, fmt.Sprintf("grant %d", i), err)
	}
	got, err := cs.Get(ctx(t), tenant, user, client)
	mustOK(t, "get", err)
	if len(got.Scopes) != n {
		t.Errorf("scopes = %v, want all %d", got.Scopes, n)
	}
}

func consentIsolation(t *testing.T, e *env) {
	tenant, user, client := newID(), newID(), newID()
	cs := e.Store.Consents()
	_, err := cs.Grant(ctx(t), newConsent(tenant, user, client, "openid"))
	mustOK(t, "grant", err)
	for _, k := range [][2]string{{newID(), user}, {tenant, newID()}} {
		_, err := cs.Get(ctx(t), k[0], k[1], client)
		wantErr(t, "get of another tenant or user", err, errs.ErrNotFound)
		list, err := cs.ListByUser(ctx(t), k[0], k[1])
		mustOK(t, "list of another tenant or user", err)
		if len(list) != 0 {
			t.Errorf("list of another tenant or user = %+v, want none", list)
		}
		wantErr(t, "delete of another tenant or user", cs.Delete(ctx(t), k[0], k[1], client),
			errs.ErrNotFound)
	}
	if _, err := cs.Get(ctx(t), tenant, user, client); err != nil {
		t.Errorf("the consent is gone after others' deletes: %v", err)
	}
}

func consentDelete(t *testing.T, e *env) {
	tenant, user, a, b := newID(), newID(), newID(), newID()
	cs := e.Store.Consents()
	for _, c := range []string{a, b} {
		_, err := cs.Grant(ctx(t), newConsent(tenant, user, c, "openid"))
		mustOK(t, "grant", err)
	}
	mustOK(t, "delete", cs.Delete(ctx(t), tenant, user, a))
	_, err := cs.Get(ctx(t), tenant, user, a)
	wantErr(t, "get after delete", err, errs.ErrNotFound)
	wantErr(t, "delete again", cs.Delete(ctx(t), tenant, user, a), errs.ErrNotFound)
	list, err := cs.ListByUser(ctx(t), tenant, user)
	mustOK(t, "list", err)
	if len(list) != 1 || list[0].ClientID != b {
		t.Errorf("list = %+v, want only %s", list, b)
	}

	// A grant after a delete starts a new consent.
	later := someTime.Add(time.Hour)
	c := newConsent(tenant, user, a, "email")
	c.CreatedAt, c.UpdatedAt = later, later
	got, err := cs.Grant(ctx(t), c)
	mustOK(t, "grant again", err)
	if !cmp.Equal(got.Scopes, []string{"email"}) {
		t.Errorf("scopes after delete and grant = %v, want [email]", got.Scopes)
	}
	checkTime(t, "CreatedAt", got.CreatedAt, later)
}

func consentBad(t *testing.T, e *env) {
	tenant, user, client := newID(), newID(), newID()
	cs := e.Store.Consents()
	for _, id := range badIDs() {
		_, err := cs.Grant(ctx(t), newConsent(tenant, id, client, "openid"))
		wantErr(t, "grant with user "+id, err, errs.ErrInvalidArgument)
		_, err = cs.Get(ctx(t), id, user, client)
		wantErr(t, "get with tenant "+id, err, errs.ErrInvalidArgument)
		_, err = cs.ListByUser(ctx(t), tenant, id)
		wantErr(t, "list with user "+id, err, errs.ErrInvalidArgument)
		wantErr(t, "delete with client "+id, cs.Delete(ctx(t), tenant, user, id),
			errs.ErrInvalidArgument)
	}
	many := make([]string, store.MaxConsentScopes+1)
	for i := range many {
		many[i] = fmt.Sprintf("s%d", i)
	}
	for name, c := range map[string]store.Consent{
		"no scopes":       newConsent(tenant, user, client),
		"an empty scope":  newConsent(tenant, user, client, ""),
		"a spaced scope":  newConsent(tenant, user, client, "open id"),
		"not UTF-8":       newConsent(tenant, user, client, "\xff"),
		"too many scopes": newConsent(tenant, user, client, many...),
		"no times":        {TenantID: tenant, UserID: user, ClientID: client, Scopes: []string{"a"}},
	} {
		_, err := cs.Grant(ctx(t), c)
		wantErr(t, "grant with "+name, err, errs.ErrInvalidArgument)
	}
	// Merging past the bound is refused too, and keeps what was there.
	_, err := cs.Grant(ctx(t), newConsent(tenant, user, client, many[:store.MaxConsentScopes]...))
	mustOK(t, "grant the most scopes", err)
	_, err = cs.Grant(ctx(t), newConsent(tenant, user, client, "one-more"))
	wantErr(t, "grant past the bound", err, errs.ErrInvalidArgument)
	got, err := cs.Get(ctx(t), tenant, user, client)
	mustOK(t, "get", err)
	if len(got.Scopes) != store.MaxConsentScopes {
		t.Errorf("scopes = %d after a refused merge, want %d", len(got.Scopes),
			store.MaxConsentScopes)
	}
	list, err := cs.ListByUser(ctx(t), tenant, newID())
	mustOK(t, "list", err)
	if len(list) != 0 {
		t.Errorf("refused grants wrote %+v", list)
	}
}
