package storetest

import (
	"fmt"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
)

var tenantTests = []test{
	{"a created tenant reads back the same by ID and by name", tenantCreateGet},
	{"a taken ID or name is a conflict and writes nothing", tenantCreateConflict},
	{"concurrent creates of one name succeed exactly once", tenantCreateRace},
	{"an empty name is an invalid argument", tenantEmptyName},
	{"text that is not UTF-8 is an invalid argument and writes nothing", tenantBadText},
	{"update applies fn, bumps the version and keeps ID, name and creation time", tenantUpdate},
	{"an error from fn is returned and nothing is written", tenantUpdateFnError},
	{"an update that loses a race reads again and calls fn again", tenantUpdateLostRace},
	{"concurrent updates all land exactly once", tenantUpdateConcurrent},
	{"an update racing a delete does not bring the tenant back", tenantUpdateDeleted},
	{"delete removes the tenant and frees its name", tenantDelete},
	{"a missing tenant is not found by any method", tenantNotFound},
	{"malformed IDs are invalid arguments and write nothing", tenantBadIDs},
}

func tenantCreateGet(t *testing.T, e *env) {
	ts := e.Store.Tenants()
	in := store.Tenant{
		ID: newID(), Name: "acme", DisplayName: "Acme Corp",
		CreatedAt: someTime, UpdatedAt: someTime.Add(time.Hour), Version: 42,
	}

	got, err := ts.Create(ctx(t), in)
	mustOK(t, "create", err)

	want := in
	want.CreatedAt = someTime.UTC().Truncate(time.Millisecond)
	want.UpdatedAt = someTime.Add(time.Hour).UTC().Truncate(time.Millisecond)
	want.Version = 1
	if diff := cmp.Diff(want, got, opts); diff != "" {
		t.Errorf("create returned (-want +got):\n%s", diff)
	}
	checkTime(t, "CreatedAt", got.CreatedAt, someTime)
	checkTime(t, "UpdatedAt", got.UpdatedAt, someTime.Add(time.Hour))

	byID, err := ts.Get(ctx(t), in.ID)
	mustOK(t, "get", err)
	if diff := cmp.Diff(got, byID, opts); diff != "" {
		t.Errorf("get (-want +got):\n%s", diff)
	}
	checkTime(t, "CreatedAt after get", byID.CreatedAt, someTime)

	byName, err := ts.GetByName(ctx(t), "acme")
	mustOK(t, "get by name", err)
	if diff := cmp.Diff(got, byName, opts); diff != "" {
		t.Errorf("get by name (-want +got):\n%s", diff)
	}

	items, next, err := ts.List(ctx(t), store.Page{})
	mustOK(t, "list", err)
	if diff := cmp.Diff([]store.Tenant{got}, items, opts); diff != "" {
		t.Errorf("list (-want +got):\n%s", diff)
	}
	if next != "" {
		t.Errorf("list of one tenant: next = %q, want empty", next)
	}
}

func tenantCreateConflict(t *testing.T, e *env) {
	ts := e.Store.Tenants()
	first := mustTenant(t, e, "acme")

	sameID := store.Tenant{ID: first.ID, Name: "other", CreatedAt: someTime, UpdatedAt: someTime}
	_, err := ts.Create(ctx(t), sameID)
	wantErr(t, "create with a taken ID", err, errs.ErrConflict)

	sameName := store.Tenant{ID: newID(), Name: "acme", CreatedAt: someTime, UpdatedAt: someTime}
	_, err = ts.Create(ctx(t), sameName)
	wantErr(t, "create with a taken name", err, errs.ErrConflict)

	_, err = ts.Get(ctx(t), sameName.ID)
	wantErr(t, "get the refused tenant", err, errs.ErrNotFound)
	_, err = ts.GetByName(ctx(t), "other")
	wantErr(t, "get the name refused with a taken ID", err, errs.ErrNotFound)
	got, err := ts.Get(ctx(t), first.ID)
	mustOK(t, "get the first tenant", err)
	if diff := cmp.Diff(first, got, opts); diff != "" {
		t.Errorf("first tenant after refused creates (-want +got):\n%s", diff)
	}

	// The name refused along with a taken ID was not reserved.
	mustTenant(t, e, "other")
}

func tenantCreateRace(t *testing.T, e *env) {
	ts := e.Store.Tenants()
	const n = 16
	ids := make([]string, n)
	for i := range ids {
		ids[i] = newID()
	}

	results := race(n, func(i int) error {
		_, err := ts.Create(ctx(t), store.Tenant{
			ID: ids[i], Name: "contested", CreatedAt: someTime, UpdatedAt: someTime,
		})
		return err
	})
	winner := oneWinner(t, "concurrent create", results)

	got, err := ts.GetByName(ctx(t), "contested")
	mustOK(t, "get by name", err)
	if got.ID != ids[winner] {
		t.Errorf("name belongs to %s, want the winner %s", got.ID, ids[winner])
	}
	for i, id := range ids {
		if i == winner {
			continue
		}
		_, err := ts.Get(ctx(t), id)
		wantErr(t, "get a loser", err, errs.ErrNotFound)
	}
	items, _, err := ts.List(ctx(t), store.Page{})
	mustOK(t, "list", err)
	if len(items) != 1 {
		t.Errorf("list holds %d tenants, want 1", len(items))
	}
}

func tenantEmptyName(t *testing.T, e *env) {
	ts := e.Store.Tenants()
	_, err := ts.Create(ctx(t), store.Tenant{ID: newID(), CreatedAt: someTime, UpdatedAt: someTime})
	wantErr(t, "create without a name", err, errs.ErrInvalidArgument)

	items, _, err := ts.List(ctx(t), store.Page{})
	mustOK(t, "list", err)
	if len(items) != 0 {
		t.Errorf("list holds %d tenants after a refused create, want 0", len(items))
	}
}

func tenantUpdate(t *testing.T, e *env) {
	ts := e.Store.Tenants()
	created := mustTenant(t, e, "acme")
	later := someTime.Add(90 * time.Minute)

	var seen []store.Tenant
	got, err := ts.Update(ctx(t), created.ID, func(old store.Tenant) (store.Tenant, error) {
		seen = append(seen, old)
		old.DisplayName = "Renamed"
		old.UpdatedAt = later
		// Fields that are not fn's to change.
		old.ID = newID()
		old.Name = "hijack"
		old.CreatedAt = later
		old.Version = 99
		return old, nil
	})
	mustOK(t, "update", err)

	if len(seen) != 1 {
		t.Fatalf("fn ran %d times without contention, want 1", len(seen))
	}
	if diff := cmp.Diff(created, seen[0], opts); diff != "" {
		t.Errorf("fn was given (-want +got):\n%s", diff)
	}
	want := created
	want.DisplayName = "Renamed"
	want.UpdatedAt = later.UTC().Truncate(time.Millisecond)
	want.Version = 2
	if diff := cmp.Diff(want, got, opts); diff != "" {
		t.Errorf("update returned (-want +got):\n%s", diff)
	}
	checkTime(t, "UpdatedAt", got.UpdatedAt, later)

	stored, err := ts.Get(ctx(t), created.ID)
	mustOK(t, "get", err)
	if diff := cmp.Diff(want, stored, opts); diff != "" {
		t.Errorf("get after update (-want +got):\n%s", diff)
	}
	_, err = ts.GetByName(ctx(t), "hijack")
	wantErr(t, "get by the name fn tried to set", err, errs.ErrNotFound)

	again, err := ts.Update(ctx(t), created.ID, func(old store.Tenant) (store.Tenant, error) {
		return old, nil
	})
	mustOK(t, "second update", err)
	if again.Version != 3 {
		t.Errorf("version after two updates = %d, want 3", again.Version)
	}
}

func tenantUpdateFnError(t *testing.T, e *env) {
	ts := e.Store.Tenants()
	created := mustTenant(t, e, "acme")

	_, err := ts.Update(ctx(t), created.ID, func(old store.Tenant) (store.Tenant, error) {
		old.DisplayName = "never written"
		return old, errFn
	})
	wantErr(t, "update with failing fn", err, errFn)

	got, err := ts.Get(ctx(t), created.ID)
	mustOK(t, "get", err)
	if diff := cmp.Diff(created, got, opts); diff != "" {
		t.Errorf("tenant after failed update (-want +got):\n%s", diff)
	}
}

func tenantUpdateLostRace(t *testing.T, e *env) {
	ts := e.Store.Tenants()
	created := mustTenant(t, e, "acme")

	calls := 0
	got, err := ts.Update(ctx(t), created.ID, func(old store.Tenant) (store.Tenant, error) {
		calls++
		if calls == 1 {
			// Another writer gets in between this read and the write.
			_, err := ts.Update(ctx(t), created.ID, func(o store.Tenant) (store.Tenant, error) {
				o.DisplayName = "inner"
				return o, nil
			})
			if err != nil {
				t.Errorf("inner update: %v", err)
			}
		}
		old.DisplayName += "+outer"
		return old, nil
	})
	mustOK(t, "outer update", err)

	if calls != 2 {
		t.Errorf("fn ran %d times, want 2 (once more after the lost race)", calls)
	}
	if got.DisplayName != "inner+outer" || got.Version != 3 {
		t.Errorf("got (%q, version %d), want (%q, version 3)", got.DisplayName, got.Version,
			"inner+outer")
	}
	stored, err := ts.Get(ctx(t), created.ID)
	mustOK(t, "get", err)
	if diff := cmp.Diff(got, stored, opts); diff != "" {
		t.Errorf("get after update (-want +got):\n%s", diff)
	}
}

// concurrentIncrements is how many goroutines, and updates each, the
// counter tests run.
const (
	incWriters = 8
	incEach    = 4
)

// checkIncrements checks the outcome of incWriters*incEach increments:
// every one landed, exactly once.
func checkIncrements(t *testing.T, results []error, seen []int64, calls int64,
	final string, version int64) {
	t.Helper()
	for i, err := range results {
		if err != nil {
			t.Errorf("writer %d: %v", i, err)
		}
	}
	const n = incWriters * incEach
	if final != strconv.Itoa(n) {
		t.Errorf("counter = %s, want %d", final, n)
	}
	if version != n+1 {
		t.Errorf("version = %d, want %d", version, n+1)
	}
	slices.Sort(seen)
	for i, v := range seen {
		if v != int64(i+1) {
			t.Errorf("returned counters %v, want each of 1..%d once", seen, n)
			break
		}
	}
	if calls < n {
		t.Errorf("fn ran %d times for %d updates", calls, n)
	}
	t.Logf("%d updates took %d calls of fn", n, calls)
}

// increment reads a decimal counter and returns the next value.
func increment(s string) (string, error) {
	if s == "" {
		return "1", nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return "", fmt.Errorf("counter %q: %w", s, err)
	}
	return strconv.Itoa(n + 1), nil
}

func tenantUpdateConcurrent(t *testing.T, e *env) {
	ts := e.Store.Tenants()
	created, err := ts.Create(ctx(t), store.Tenant{
		ID: newID(), Name: "counter", CreatedAt: someTime, UpdatedAt: someTime,
	})
	mustOK(t, "create", err)

	var calls atomic.Int64
	seen := make([][]int64, incWriters)
	results := race(incWriters, func(w int) error {
		for range incEach {
			got, err := ts.Update(ctx(t), created.ID, func(old store.Tenant) (store.Tenant, error) {
				calls.Add(1)
				next, err := increment(old.DisplayName)
				old.DisplayName = next
				return old, err
			})
			if err != nil {
				return err
			}
			n, _ := strconv.ParseInt(got.DisplayName, 10, 64)
			seen[w] = append(seen[w], n)
		}
		return nil
	})

	final, err := ts.Get(ctx(t), created.ID)
	mustOK(t, "get", err)
	checkIncrements(t, results, slices.Concat(seen...), calls.Load(), final.DisplayName,
		final.Version)
}

func tenantUpdateDeleted(t *testing.T, e *env) {
	ts := e.Store.Tenants()
	created := mustTenant(t, e, "acme")

	calls := 0
	_, err := ts.Update(ctx(t), created.ID, func(old store.Tenant) (store.Tenant, error) {
		calls++
		if calls == 1 {
			if err := ts.Delete(ctx(t), created.ID); err != nil {
				t.Errorf("delete inside fn: %v", err)
			}
		}
		old.DisplayName = "zombie"
		return old, nil
	})
	wantErr(t, "update of a tenant deleted meanwhile", err, errs.ErrNotFound)

	_, err = ts.Get(ctx(t), created.ID)
	wantErr(t, "get after the update", err, errs.ErrNotFound)
	_, err = ts.GetByName(ctx(t), "acme")
	wantErr(t, "get by name after the update", err, errs.ErrNotFound)
}

func tenantDelete(t *testing.T, e *env) {
	ts := e.Store.Tenants()
	gone := mustTenant(t, e, "acme")
	kept := mustTenant(t, e, "globex")

	mustOK(t, "delete", ts.Delete(ctx(t), gone.ID))

	_, err := ts.Get(ctx(t), gone.ID)
	wantErr(t, "get after delete", err, errs.ErrNotFound)
	_, err = ts.GetByName(ctx(t), "acme")
	wantErr(t, "get by name after delete", err, errs.ErrNotFound)
	wantErr(t, "second delete", ts.Delete(ctx(t), gone.ID), errs.ErrNotFound)

	items, _, err := ts.List(ctx(t), store.Page{})
	mustOK(t, "list", err)
	if diff := cmp.Diff([]store.Tenant{kept}, items, opts); diff != "" {
		t.Errorf("list after delete (-want +got):\n%s", diff)
	}

	mustTenant(t, e, "acme")
}

func tenantNotFound(t *testing.T, e *env) {
	ts := e.Store.Tenants()
	mustTenant(t, e, "acme")
	id := newID()

	_, err := ts.Get(ctx(t), id)
	wantErr(t, "get", err, errs.ErrNotFound)
	_, err = ts.GetByName(ctx(t), "nobody")
	wantErr(t, "get by name", err, errs.ErrNotFound)
	_, err = ts.GetByName(ctx(t), "")
	wantErr(t, "get by empty name", err, errs.ErrNotFound)
	_, err = ts.Update(ctx(t), id, func(old store.Tenant) (store.Tenant, error) {
		t.Error("fn called for a missing tenant")
		return old, nil
	})
	wantErr(t, "update", err, errs.ErrNotFound)
	wantErr(t, "delete", ts.Delete(ctx(t), id), errs.ErrNotFound)

	_, err = ts.Get(ctx(t), id)
	wantErr(t, "get after update and delete", err, errs.ErrNotFound)
}

func tenantBadIDs(t *testing.T, e *env) {
	ts := e.Store.Tenants()
	for i, id := range badIDs() {
		what := fmt.Sprintf("ID %q", id)
		_, err := ts.Create(ctx(t), store.Tenant{
			ID: id, Name: fmt.Sprintf("bad-%d", i), CreatedAt: someTime, UpdatedAt: someTime,
		})
		wantErr(t, "create with "+what, err, errs.ErrInvalidArgument)
		_, err = ts.Get(ctx(t), id)
		wantErr(t, "get "+what, err, errs.ErrInvalidArgument)
		_, err = ts.Update(ctx(t), id, func(old store.Tenant) (store.Tenant, error) {
			t.Errorf("fn called for %s", what)
			return old, nil
		})
		wantErr(t, "update "+what, err, errs.ErrInvalidArgument)
		wantErr(t, "delete "+what, ts.Delete(ctx(t), id), errs.ErrInvalidArgument)
	}

	items, _, err := ts.List(ctx(t), store.Page{})
	mustOK(t, "list", err)
	if len(items) != 0 {
		t.Errorf("list holds %d tenants after refused creates, want 0", len(items))
	}
}

func tenantBadText(t *testing.T, e *env) {
	ts := e.Store.Tenants()
	acme := mustTenant(t, e, "acme")

	for _, in := range []store.Tenant{
		{ID: newID(), Name: notUTF8, CreatedAt: someTime, UpdatedAt: someTime},
		{ID: newID(), Name: "globex", DisplayName: notUTF8, CreatedAt: someTime,
			UpdatedAt: someTime},
	} {
		_, err := ts.Create(ctx(t), in)
		wantErr(t, fmt.Sprintf("create %+v", in), err, errs.ErrInvalidArgument)
	}
	_, err := ts.Update(ctx(t), acme.ID, func(old store.Tenant) (store.Tenant, error) {
		old.DisplayName = notUTF8
		return old, nil
	})
	wantErr(t, "update to a display name that is not UTF-8", err, errs.ErrInvalidArgument)

	items, _, err := ts.List(ctx(t), store.Page{})
	mustOK(t, "list", err)
	if diff := cmp.Diff([]store.Tenant{acme}, items, opts); diff != "" {
		t.Errorf("tenants after refused writes (-want +got):\n%s", diff)
	}
}
