package storetest

import (
	"context"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
)

// lister is one listing seen through IDs only, so that one set of paging
// tests covers tenants, users and API tokens alike.
type lister struct {
	create func(ctx context.Context, id string) error
	remove func(ctx context.Context, id string) error
	list   func(ctx context.Context, p store.Page) (ids []string, next string, err error)
	// foreign returns cursors of other listings.
	foreign func(t *testing.T) []string
}

var listings = []struct {
	name  string
	setup func(t *testing.T, e *env) lister
}{
	{"Tenants", tenantLister},
	{"Users", userLister},
	{"APITokens", tokenLister},
	{"Organizations", orgLister},
	{"UsersByOrg", orgUserLister},
	{"Clients", clientLister},
}

func tenantLister(t *testing.T, e *env) lister {
	ts := e.Store.Tenants()
	return lister{
		create: func(ctx context.Context, id string) error {
			_, err := ts.Create(ctx, store.Tenant{
				ID: id, Name: "t-" + id, CreatedAt: someTime, UpdatedAt: someTime,
			})
			return err
		},
		remove: func(ctx context.Context, id string) error { return ts.Delete(ctx, id) },
		list: func(ctx context.Context, p store.Page) ([]string, string, error) {
			items, next, err := ts.List(ctx, p)
			return idsOf(items, func(x store.Tenant) string { return x.ID }), next, err
		},
		foreign: func(t *testing.T) []string {
			tn := mustTenant(t, e, "foreign")
			return []string{usersCursor(t, e, tn.ID), tokensCursor(t, e, "")}
		},
	}
}

func userLister(t *testing.T, e *env) lister {
	us := e.Store.Users()
	tn := mustTenant(t, e, "acme")
	return lister{
		create: func(ctx context.Context, id string) error {
			u := newUser(tn.ID, "u-"+id, id+"@example.com")
			u.ID = id
			_, err := us.Create(ctx, u)
			return err
		},
		remove: func(ctx context.Context, id string) error { return us.Delete(ctx, tn.ID, id) },
		list: func(ctx context.Context, p store.Page) ([]string, string, error) {
			items, next, err := us.List(ctx, tn.ID, p)
			return idsOf(items, func(x store.User) string { return x.ID }), next, err
		},
		foreign: func(t *testing.T) []string {
			other := mustTenant(t, e, "foreign")
			return []string{
				usersCursor(t, e, other.ID), tenantsCursor(t, e), tokensCursor(t, e, tn.ID),
			}
		},
	}
}

func tokenLister(t *testing.T, e *env) lister {
	ts := e.Store.APITokens()
	tn := mustTenant(t, e, "acme")
	return lister{
		create: func(ctx context.Context, id string) error {
			tok := newToken(tn.ID, time.Time{})
			tok.ID = id
			tok.Hash = hashOf(id)
			_, err := ts.Create(ctx, tok)
			return err
		},
		remove: func(ctx context.Context, id string) error { return ts.Delete(ctx, tn.ID, id) },
		list: func(ctx context.Context, p store.Page) ([]string, string, error) {
			items, next, err := ts.List(ctx, tn.ID, p)
			return idsOf(items, func(x store.APIToken) string { return x.ID }), next, err
		},
		foreign: func(t *testing.T) []string {
			other := mustTenant(t, e, "foreign")
			return []string{
				tokensCursor(t, e, ""), tokensCursor(t, e, other.ID), usersCursor(t, e, tn.ID),
			}
		},
	}
}

func idsOf[T any](items []T, id func(T) string) []string {
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = id(it)
	}
	return ids
}

// firstCursor returns the cursor after the first of two entities.
func firstCursor(t *testing.T, what string, list func(store.Page) (string, error)) string {
	t.Helper()
	next, err := list(store.Page{Limit: 1})
	mustOK(t, "list "+what, err)
	if next == "" {
		t.Fatalf("a page of 1 of %s with more to come has no cursor", what)
	}
	return next
}

func tenantsCursor(t *testing.T, e *env) string {
	t.Helper()
	mustTenant(t, e, "c1-"+newID())
	mustTenant(t, e, "c2-"+newID())
	return firstCursor(t, "tenants", func(p store.Page) (string, error) {
		_, next, err := e.Store.Tenants().List(ctx(t), p)
		return next, err
	})
}

func usersCursor(t *testing.T, e *env, tenantID string) string {
	t.Helper()
	mustUser(t, e, tenantID, "c1-"+newID(), "")
	mustUser(t, e, tenantID, "c2-"+newID(), "")
	return firstCursor(t, "users", func(p store.Page) (string, error) {
		_, next, err := e.Store.Users().List(ctx(t), tenantID, p)
		return next, err
	})
}

func tokensCursor(t *testing.T, e *env, tenantID string) string {
	t.Helper()
	mustToken(t, e, tenantID, time.Time{})
	mustToken(t, e, tenantID, time.Time{})
	return firstCursor(t, "tokens", func(p store.Page) (string, error) {
		_, next, err := e.Store.APITokens().List(ctx(t), tenantID, p)
		return next, err
	})
}

// listAll follows the cursors from the first page to the last and returns
// the IDs in the order listed and the size of each page.
func listAll(t *testing.T, l lister, limit int) (ids []string, sizes []int) {
	t.Helper()
	return listAllWith(t, l, limit, func() {})
}

// listAllWith is listAll that calls between after each page but the last.
func listAllWith(t *testing.T, l lister, limit int, between func()) (ids []string, sizes []int) {
	t.Helper()
	max := limit
	if max == 0 {
		max = store.DefaultPageSize
	}
	after := ""
	for range 10000 {
		page, next, err := l.list(ctx(t), store.Page{After: after, Limit: limit})
		mustOK(t, "list a page", err)
		if len(page) > max {
			t.Fatalf("a page of limit %d holds %d items", limit, len(page))
		}
		ids = append(ids, page...)
		sizes = append(sizes, len(page))
		if next == "" {
			return ids, sizes
		}
		between()
		after = next
	}
	t.Fatal("listing did not end after 10000 pages")
	return nil, nil
}

// sortedIDs returns n fresh IDs in ascending order.
func sortedIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = newID()
	}
	slices.Sort(ids)
	return ids
}

// createShuffled creates the entities in random order, so that listing
// order cannot follow from insertion order.
func createShuffled(t *testing.T, l lister, ids []string) {
	t.Helper()
	order := slices.Clone(ids)
	rand.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	for _, id := range order {
		mustOK(t, "create "+id, l.create(ctx(t), id))
	}
}

var pagingTests = []struct {
	name string
	run  func(t *testing.T, e *env, l lister)
}{
	{"pages hold Limit items in ID order and only the last has no cursor", pagingOrder},
	{"an empty listing has no items and no cursor", pagingEmpty},
	{"a cursor survives the deletion of its entity and inserts before it", pagingCursorStable},
	{"a listing during concurrent writes skips and repeats nothing", pagingConcurrent},
	{"limit zero means the default page size", pagingDefaultLimit},
	{"limits below zero or above the maximum are invalid arguments", pagingBadLimit},
	{"malformed cursors are invalid arguments", pagingBadCursor},
	{"a cursor from another listing is an invalid argument", pagingForeignCursor},
}

func pagingOrder(t *testing.T, e *env, l lister) {
	ids := sortedIDs(7)
	createShuffled(t, l, ids)

	for limit := 1; limit <= 8; limit++ {
		got, sizes := listAll(t, l, limit)
		if diff := cmp.Diff(ids, got); diff != "" {
			t.Errorf("limit %d: listed IDs (-want +got):\n%s", limit, diff)
		}
		var want []int
		for left := len(ids); left > 0; left -= limit {
			want = append(want, min(left, limit))
		}
		if diff := cmp.Diff(want, sizes); diff != "" {
			t.Errorf("limit %d: page sizes (-want +got):\n%s", limit, diff)
		}
	}
}

func pagingEmpty(t *testing.T, e *env, l lister) {
	for _, limit := range []int{0, 1, store.MaxPageSize} {
		items, next, err := l.list(ctx(t), store.Page{Limit: limit})
		mustOK(t, "list", err)
		if len(items) != 0 || next != "" {
			t.Errorf("limit %d: got %d items and next %q, want none", limit, len(items), next)
		}
	}
}

func pagingCursorStable(t *testing.T, e *env, l lister) {
	ids := sortedIDs(9)
	// ids[0] and ids[8] are created only after the first page.
	createShuffled(t, l, ids[1:8])

	page, next, err := l.list(ctx(t), store.Page{Limit: 3})
	mustOK(t, "first page", err)
	if diff := cmp.Diff(ids[1:4], page); diff != "" {
		t.Fatalf("first page (-want +got):\n%s", diff)
	}

	mustOK(t, "delete the cursor's entity", l.remove(ctx(t), ids[3]))
	mustOK(t, "delete an entity already listed", l.remove(ctx(t), ids[1]))
	mustOK(t, "create before the cursor", l.create(ctx(t), ids[0]))
	mustOK(t, "create after the end", l.create(ctx(t), ids[8]))

	var rest []string
	for next != "" {
		page, next, err = l.list(ctx(t), store.Page{After: next, Limit: 3})
		mustOK(t, "next page", err)
		rest = append(rest, page...)
		if len(rest) > len(ids) {
			t.Fatalf("listing runs on: %v", rest)
		}
	}
	if diff := cmp.Diff(ids[4:9], rest); diff != "" {
		t.Errorf("pages after the first (-want +got):\n%s", diff)
	}
}

func pagingConcurrent(t *testing.T, e *env, l lister) {
	ids := sortedIDs(60)
	order := slices.Clone(ids)
	rand.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	stable, churn := order[:30], order[30:]
	createShuffled(t, l, stable)
	isStable := make(map[string]bool)
	for _, id := range stable {
		isStable[id] = true
	}

	// One writer creates and deletes the churn entities, which lie between
	// the stable ones, for as long as the listings run. After each page the
	// listing waits for the writer's next write, so that every page sees a
	// change; both still run at once.
	done := make(chan struct{})
	wrote := make(chan struct{}, 1)
	writerDone := make(chan struct{})
	var wg sync.WaitGroup
	writes := 0
	wg.Go(func() {
		defer close(writerDone)
		present := make(map[string]bool)
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			default:
			}
			id := churn[i%len(churn)]
			var err error
			if present[id] {
				err = l.remove(ctx(t), id)
			} else {
				err = l.create(ctx(t), id)
			}
			if err != nil {
				t.Errorf("churn write %d: %v", i, err)
				return
			}
			present[id] = !present[id]
			writes++
			select {
			case wrote <- struct{}{}:
			default:
			}
		}
	})
	between := func() {
		select {
		case <-wrote:
		case <-writerDone:
		}
	}

	for round := range 5 {
		got, _ := listAllWith(t, l, 3, between)
		for i := 1; i < len(got); i++ {
			if got[i] <= got[i-1] {
				t.Errorf("round %d: %s listed after %s: order broken or repeated", round, got[i],
					got[i-1])
			}
		}
		seen := make(map[string]bool)
		for _, id := range got {
			seen[id] = true
		}
		for _, id := range stable {
			if !seen[id] {
				t.Errorf("round %d: %s, present throughout, was skipped", round, id)
			}
		}
		for _, id := range got {
			if !isStable[id] && !slices.Contains(churn, id) {
				t.Errorf("round %d: listed unknown ID %s", round, id)
			}
		}
	}
	close(done)
	wg.Wait()
	t.Logf("%d writes ran during the listings", writes)
}

func pagingDefaultLimit(t *testing.T, e *env, l lister) {
	ids := sortedIDs(store.DefaultPageSize + 1)
	createShuffled(t, l, ids)

	page, next, err := l.list(ctx(t), store.Page{})
	mustOK(t, "first page", err)
	if diff := cmp.Diff(ids[:store.DefaultPageSize], page); diff != "" {
		t.Errorf("first page (-want +got):\n%s", diff)
	}
	if next == "" {
		t.Fatal("first page has no cursor")
	}
	page, next, err = l.list(ctx(t), store.Page{After: next})
	mustOK(t, "second page", err)
	if diff := cmp.Diff(ids[store.DefaultPageSize:], page); diff != "" {
		t.Errorf("second page (-want +got):\n%s", diff)
	}
	if next != "" {
		t.Errorf("last page: next = %q, want empty", next)
	}
}

func pagingBadLimit(t *testing.T, e *env, l lister) {
	mustOK(t, "create", l.create(ctx(t), newID()))

	for _, limit := range []int{-1, -store.MaxPageSize, store.MaxPageSize + 1, 1 << 30} {
		_, _, err := l.list(ctx(t), store.Page{Limit: limit})
		wantErr(t, "list with a bad limit", err, errs.ErrInvalidArgument)
	}
	items, _, err := l.list(ctx(t), store.Page{Limit: store.MaxPageSize})
	mustOK(t, "list with the maximum limit", err)
	if len(items) != 1 {
		t.Errorf("got %d items, want 1", len(items))
	}
}

func pagingBadCursor(t *testing.T, e *env, l lister) {
	ids := sortedIDs(2)
	createShuffled(t, l, ids)
	_, valid, err := l.list(ctx(t), store.Page{Limit: 1})
	mustOK(t, "list", err)
	if valid == "" {
		t.Fatal("first of two pages has no cursor")
	}

	bad := []string{
		"!",
		"not a cursor",
		"AAAA",
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		strings.Repeat("A", 4096),
		ids[0],
		valid[:len(valid)-1],
		valid[:len(valid)/2],
		valid + "A",
		" " + valid,
		valid + "\x00",
	}
	for _, c := range bad {
		_, _, err := l.list(ctx(t), store.Page{After: c, Limit: 1})
		wantErr(t, "list after cursor "+quoteShort(c), err, errs.ErrInvalidArgument)
	}

	items, _, err := l.list(ctx(t), store.Page{After: valid, Limit: 1})
	mustOK(t, "list after the valid cursor", err)
	if diff := cmp.Diff(ids[1:], items); diff != "" {
		t.Errorf("page after the valid cursor (-want +got):\n%s", diff)
	}
}

func pagingForeignCursor(t *testing.T, e *env, l lister) {
	mustOK(t, "create", l.create(ctx(t), newID()))
	mustOK(t, "create", l.create(ctx(t), newID()))

	for _, c := range l.foreign(t) {
		_, _, err := l.list(ctx(t), store.Page{After: c, Limit: 1})
		wantErr(t, "list after cursor "+quoteShort(c)+" of another listing", err,
			errs.ErrInvalidArgument)
	}
}

func quoteShort(s string) string {
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return "\"" + s + "\""
}
