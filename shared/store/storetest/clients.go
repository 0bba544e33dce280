package storetest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
)

var clientTests = []test{
	{"a created client reads back by ID and in the list", clientCreateGet},
	{"clients are invisible to other tenants and IDs are not reused", clientIsolation},
	{"an update swaps, bumps the version and keeps what it must", clientUpdate},
	{"concurrent updates all land", clientConcurrentUpdate},
	{"delete removes one client", clientDelete},
	{"bad input is refused and writes nothing", clientBad},
}

func newClient(tenantID, name string) store.OAuthClient {
	return store.OAuthClient{
		ID: newID(), TenantID: tenantID, Name: name, Type: store.ClientConfidential,
		AuthMethod: "client_secret_basic", SecretHash: hashOf(name),
		RedirectURIs:           []string{"https://app.example.com/cb", "https://app.example.com/cb2"},
		PostLogoutRedirectURIs: []string{"https://app.example.com/bye"},
		GrantTypes:             []string{"authorization_code", "refresh_token"},
		Scopes:                 []string{"openid", "profile"}, AccessTokenFormat: "jwt",
		AccessTokenTTL: 300, IDTokenTTL: 300, RefreshTokenTTL: 86400, RequirePKCE: true,
		CreatedAt: someTime, UpdatedAt: someTime,
	}
}

func mustClient(t *testing.T, e *env, tenantID, name string) store.OAuthClient {
	t.Helper()
	c, err := e.Store.Clients().Create(ctx(t), newClient(tenantID, name))
	mustOK(t, "create client "+name, err)
	return c
}

func clientCreateGet(t *testing.T, e *env) {
	tn := mustTenant(t, e, "acme")
	cs := e.Store.Clients()
	in := newClient(tn.ID, "web")
	in.JWKSURI = "https://app.example.com/jwks"
	in.Exchange = &store.ExchangePolicy{Issuers: []string{store.ExchangeSelf},
		Audiences: []string{"billing"}, Delegation: true, Sessions: true}
	got, err := cs.Create(ctx(t), in)
	mustOK(t, "create", err)

	want := in
	want.Version = 1
	want.CreatedAt = someTime.UTC().Truncate(time.Millisecond)
	want.UpdatedAt = want.CreatedAt
	if diff := cmp.Diff(want, got, opts); diff != "" {
		t.Errorf("create returned (-want +got):\n%s", diff)
	}
	checkTime(t, "CreatedAt", got.CreatedAt, someTime)

	read, err := cs.Get(ctx(t), tn.ID, in.ID)
	mustOK(t, "get", err)
	if diff := cmp.Diff(want, read, opts); diff != "" {
		t.Errorf("get (-want +got):\n%s", diff)
	}
	checkTime(t, "CreatedAt read back", read.CreatedAt, someTime)

	other := mustClient(t, e, tn.ID, "cli")
	list, next, err := cs.List(ctx(t), tn.ID, store.Page{})
	mustOK(t, "list", err)
	if len(list) != 2 || next != "" || list[0].ID != in.ID || list[1].ID != other.ID {
		t.Errorf("list = %+v (next %q), want %s then %s", list, next, in.ID, other.ID)
	}
	if len(list) > 0 {
		if diff := cmp.Diff(want, list[0], opts); diff != "" {
			t.Errorf("listed client (-want +got):\n%s", diff)
		}
	}
	empty := mustTenant(t, e, "empty")
	list, next, err = cs.List(ctx(t), empty.ID, store.Page{})
	mustOK(t, "list of a tenant without clients", err)
	if len(list) != 0 || next != "" {
		t.Errorf("list of a tenant without clients = %+v, %q", list, next)
	}
	_, err = cs.Get(ctx(t), tn.ID, newID())
	wantErr(t, "get of a missing client", err, errs.ErrNotFound)
}

func clientIsolation(t *testing.T, e *env) {
	a, b := mustTenant(t, e, "a"), mustTenant(t, e, "b")
	cs := e.Store.Clients()
	c := mustClient(t, e, a.ID, "web")

	dup := newClient(a.ID, "again")
	dup.ID = c.ID
	_, err := cs.Create(ctx(t), dup)
	wantErr(t, "same ID in the tenant", err, errs.ErrConflict)

	_, err = cs.Get(ctx(t), b.ID, c.ID)
	wantErr(t, "get from another tenant", err, errs.ErrNotFound)
	_, err = cs.Update(ctx(t), b.ID, c.ID, func(x store.OAuthClient) (store.OAuthClient, error) {
		return x, nil
	})
	wantErr(t, "update from another tenant", err, errs.ErrNotFound)
	wantErr(t, "delete from another tenant", cs.Delete(ctx(t), b.ID, c.ID), errs.ErrNotFound)
	list, _, err := cs.List(ctx(t), b.ID, store.Page{})
	mustOK(t, "list of the other tenant", err)
	if len(list) != 0 {
		t.Errorf("the other tenant lists %+v", list)
	}
	got, err := cs.Get(ctx(t), a.ID, c.ID)
	mustOK(t, "get after another tenant's attempts", err)
	if got.Version != 1 || got.Name != "web" {
		t.Errorf("another tenant's attempts changed the client: %+v", got)
	}

	// A cursor of one tenant's clients is refused in another's listing.
	mustClient(t, e, a.ID, "second")
	_, next, err := cs.List(ctx(t), a.ID, store.Page{Limit: 1})
	mustOK(t, "first page", err)
	if next == "" {
		t.Fatal("a page of 1 of 2 clients has no cursor")
	}
	_, _, err = cs.List(ctx(t), b.ID, store.Page{After: next})
	wantErr(t, "a cursor of another tenant", err, errs.ErrInvalidArgument)
}

func clientUpdate(t *testing.T, e *env) {
	tn := mustTenant(t, e, "acme")
	cs := e.Store.Clients()
	c := mustClient(t, e, tn.ID, "web")

	later := someTime.Add(time.Hour)
	got, err := cs.Update(ctx(t), tn.ID, c.ID, func(x store.OAuthClient) (store.OAuthClient,
		error) {
		x.ID, x.TenantID, x.Version, x.CreatedAt = "ignored", "ignored", 99, later
		x.Name, x.SecretHash = "renamed", hashOf("rotated")
		x.RedirectURIs = []string{"https://new.example.com/cb"}
		x.GrantTypes = []string{"client_credentials"}
		x.AccessTokenFormat, x.AccessTokenTTL = "opaque", 60
		x.UpdatedAt = later
		return x, nil
	})
	mustOK(t, "update", err)
	if got.ID != c.ID || got.TenantID != tn.ID || got.Version != 2 ||
		!got.CreatedAt.Equal(c.CreatedAt) || got.Name != "renamed" ||
		got.SecretHash != hashOf("rotated") || got.AccessTokenFormat != "opaque" ||
		got.AccessTokenTTL != 60 ||
		!cmp.Equal(got.RedirectURIs, []string{"https://new.example.com/cb"}) ||
		!cmp.Equal(got.GrantTypes, []string{"client_credentials"}) {
		t.Errorf("update returned %+v", got)
	}
	checkTime(t, "UpdatedAt", got.UpdatedAt, later)
	read, err := cs.Get(ctx(t), tn.ID, c.ID)
	mustOK(t, "get", err)
	if diff := cmp.Diff(got, read, opts); diff != "" {
		t.Errorf("get after update (-want +got):\n%s", diff)
	}

	_, err = cs.Update(ctx(t), tn.ID, c.ID, func(x store.OAuthClient) (store.OAuthClient,
		error) {
		return x, errFn
	})
	if err != errFn {
		t.Errorf("fn's error came back as %v", err)
	}
	_, err = cs.Update(ctx(t), tn.ID, newID(), func(x store.OAuthClient) (store.OAuthClient,
		error) {
		return x, nil
	})
	wantErr(t, "update of a missing client", err, errs.ErrNotFound)

	// A concurrent writer inside fn makes the first swap lose; fn runs again.
	calls := 0
	got, err = cs.Update(ctx(t), tn.ID, c.ID, func(x store.OAuthClient) (store.OAuthClient,
		error) {
		calls++
		if calls == 1 {
			_, err := cs.Update(ctx(t), tn.ID, c.ID, func(y store.OAuthClient) (
				store.OAuthClient, error) {
				y.Scopes = append(y.Scopes, "email")
				return y, nil
			})
			mustOK(t, "the concurrent update", err)
		}
		x.Name = "after the race"
		return x, nil
	})
	mustOK(t, "update that loses a race", err)
	if calls != 2 || got.Version != 4 || got.Name != "after the race" ||
		!cmp.Equal(got.Scopes, []string{"openid", "profile", "email"}) {
		t.Errorf("after a lost race: %d calls, %+v", calls, got)
	}
}

func clientConcurrentUpdate(t *testing.T, e *env) {
	tn := mustTenant(t, e, "acme")
	cs := e.Store.Clients()
	c := mustClient(t, e, tn.ID, "web")
	errsOut := race(8, func(i int) error {
		_, err := cs.Update(ctx(t), tn.ID, c.ID, func(x store.OAuthClient) (store.OAuthClient,
			error) {
			x.Scopes = append(x.Scopes, fmt.Sprintf("s%d", i))
			return x, nil
		})
		return err
	})
	for i, err := range errsOut {
		mustOK(t, fmt.Sprintf("update %d", i), err)
	}
	got, err := cs.Get(ctx(t), tn.ID, c.ID)
	mustOK(t, "get", err)
	if got.Version != 9 || len(got.Scopes) != 10 {
		t.Errorf("version %d, scopes %v; want 9 and 10", got.Version, got.Scopes)
	}
}

func clientDelete(t *testing.T, e *env) {
	tn := mustTenant(t, e, "acme")
	cs := e.Store.Clients()
	c := mustClient(t, e, tn.ID, "web")
	keep := mustClient(t, e, tn.ID, "keep")
	mustOK(t, "delete", cs.Delete(ctx(t), tn.ID, c.ID))
	wantErr(t, "delete again", cs.Delete(ctx(t), tn.ID, c.ID), errs.ErrNotFound)
	_, err := cs.Get(ctx(t), tn.ID, c.ID)
	wantErr(t, "get after delete", err, errs.ErrNotFound)
	_, err = cs.Update(ctx(t), tn.ID, c.ID, func(x store.OAuthClient) (store.OAuthClient,
		error) {
		return x, nil
	})
	wantErr(t, "update after delete", err, errs.ErrNotFound)
	list, _, err := cs.List(ctx(t), tn.ID, store.Page{})
	mustOK(t, "list", err)
	if len(list) != 1 || list[0].ID != keep.ID {
		t.Errorf("list after delete = %+v", list)
	}
}

func clientBad(t *testing.T, e *env) {
	tn := mustTenant(t, e, "acme")
	cs := e.Store.Clients()
	for _, id := range badIDs() {
		in := newClient(tn.ID, "web")
		in.ID = id
		_, err := cs.Create(ctx(t), in)
		wantErr(t, "create with ID "+id, err, errs.ErrInvalidArgument)
		in = newClient(id, "web")
		_, err = cs.Create(ctx(t), in)
		wantErr(t, "create with tenant "+id, err, errs.ErrInvalidArgument)
		_, err = cs.Get(ctx(t), tn.ID, id)
		wantErr(t, "get with ID "+id, err, errs.ErrInvalidArgument)
		_, _, err = cs.List(ctx(t), id, store.Page{})
		wantErr(t, "list with tenant "+id, err, errs.ErrInvalidArgument)
		wantErr(t, "delete with ID "+id, cs.Delete(ctx(t), tn.ID, id), errs.ErrInvalidArgument)
	}
	many := func(n int) []string {
		l := make([]string, n)
		for i := range l {
			l[i] = fmt.Sprintf("https://app.example.com/%d", i)
		}
		return l
	}
	bad := map[string]func(*store.OAuthClient){
		"no type":            func(x *store.OAuthClient) { x.Type = "" },
		"no auth method":     func(x *store.OAuthClient) { x.AuthMethod = "" },
		"no token format":    func(x *store.OAuthClient) { x.AccessTokenFormat = "" },
		"a name not UTF-8":   func(x *store.OAuthClient) { x.Name = "web\xff" },
		"a long name":        func(x *store.OAuthClient) { x.Name = strings.Repeat("n", 201) },
		"an empty redirect":  func(x *store.OAuthClient) { x.RedirectURIs = []string{""} },
		"too many redirects": func(x *store.OAuthClient) { x.RedirectURIs = many(33) },
		"a long redirect URI": func(x *store.OAuthClient) {
			x.RedirectURIs = many(1)[:1]
			x.RedirectURIs[0] += strings.Repeat("a", 2048)
		},
		"too many scopes": func(x *store.OAuthClient) {
			x.Scopes = make([]string, store.MaxClientScopes+1)
			for i := range x.Scopes {
				x.Scopes[i] = fmt.Sprint("s", i)
			}
		},
		"a negative lifetime": func(x *store.OAuthClient) { x.RefreshTokenTTL = -1 },
		"a huge inline set": func(x *store.OAuthClient) {
			x.JWKS = strings.Repeat(" ", store.MaxClientJWKSBytes+1)
		},
	}
	for name, spoil := range bad {
		in := newClient(tn.ID, "web")
		spoil(&in)
		_, err := cs.Create(ctx(t), in)
		wantErr(t, "create with "+name, err, errs.ErrInvalidArgument)
	}
	c := mustClient(t, e, tn.ID, "web")
	_, err := cs.Update(ctx(t), tn.ID, c.ID, func(x store.OAuthClient) (store.OAuthClient,
		error) {
		x.AuthMethod = ""
		return x, nil
	})
	wantErr(t, "update to no auth method", err, errs.ErrInvalidArgument)
	_, _, err = cs.List(ctx(t), tn.ID, store.Page{Limit: store.MaxPageSize + 1})
	wantErr(t, "a page over the bound", err, errs.ErrInvalidArgument)
	list, _, err := cs.List(ctx(t), tn.ID, store.Page{})
	mustOK(t, "list", err)
	if len(list) != 1 || list[0].Version != 1 || list[0].AuthMethod != "client_secret_basic" {
		t.Errorf("bad writes wrote: %+v", list)
	}
}

// clientLister is the clients listing for the paging tests.
func clientLister(t *testing.T, e *env) lister {
	cs := e.Store.Clients()
	tn := mustTenant(t, e, "acme")
	return lister{
		create: func(ctx context.Context, id string) error {
			c := newClient(tn.ID, "c-"+id)
			c.ID = id
			_, err := cs.Create(ctx, c)
			return err
		},
		remove: func(ctx context.Context, id string) error { return cs.Delete(ctx, tn.ID, id) },
		list: func(ctx context.Context, p store.Page) ([]string, string, error) {
			items, next, err := cs.List(ctx, tn.ID, p)
			return idsOf(items, func(x store.OAuthClient) string { return x.ID }), next, err
		},
		foreign: func(t *testing.T) []string {
			other := mustTenant(t, e, "foreign")
			mustClient(t, e, other.ID, "f1")
			mustClient(t, e, other.ID, "f2")
			otherClients := firstCursor(t, "clients", func(p store.Page) (string, error) {
				_, next, err := cs.List(ctx(t), other.ID, p)
				return next, err
			})
			return []string{otherClients, usersCursor(t, e, tn.ID), tokensCursor(t, e, tn.ID)}
		},
	}
}
