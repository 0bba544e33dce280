package storetest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
)

var factorTests = []test{
	{"a created factor reads back as written, alone in its user's list", factorRoundTrip},
	{"a factor of another user or tenant is not found", factorIsolation},
	{"bad factors and missing users are refused and write nothing", factorBad},
	{"an update is compare-and-swap and keeps what it may not change", factorUpdate},
	{"of concurrent spends of one step exactly one lands", factorSpendOnce},
	{"concurrent updates all land exactly once", factorConcurrent},
	{"delete, delete by user, and deleting the user", factorDelete},
}

func newFactor(u store.User, t store.FactorType) store.Factor {
	return store.Factor{ID: newID(), TenantID: u.TenantID, UserID: u.ID, Type: t,
		Name: "my " + strings.ToLower(string(t)), Secret: []byte{0, 1, 2, 0xff},
		Data: []byte(`{"phone":"+15550100"}`), CreatedAt: someTime}
}

func mustFactor(t *testing.T, e *env, u store.User, typ store.FactorType) store.Factor {
	t.Helper()
	f, err := e.Store.Factors().Create(ctx(t), newFactor(u, typ))
	mustOK(t, "create factor", err)
	return f
}

func factorRoundTrip(t *testing.T, e *env) {
	tn := mustTenant(t, e, "acme")
	u := mustUser(t, e, tn.ID, "ada", "ada@example.com")
	fs := e.Store.Factors()

	list, err := fs.ListByUser(ctx(t), tn.ID, u.ID)
	mustOK(t, "list before any factor", err)
	if len(list) != 0 {
		t.Errorf("list before any factor = %v, want none", list)
	}

	in := newFactor(u, store.FactorTOTP)
	in.Version = 42 // the store's to set
	created, err := fs.Create(ctx(t), in)
	mustOK(t, "create", err)
	want := in
	want.Version = 1
	want.CreatedAt = someTime.UTC().Truncate(time.Millisecond)
	if diff := cmp.Diff(want, created, opts); diff != "" {
		t.Errorf("create returned (-want +got):\n%s", diff)
	}
	got, err := fs.Get(ctx(t), tn.ID, u.ID, in.ID)
	mustOK(t, "get", err)
	if diff := cmp.Diff(want, got, opts); diff != "" {
		t.Errorf("get returned (-want +got):\n%s", diff)
	}
	checkTime(t, "createdAt", got.CreatedAt, someTime)
	if !got.LastUsedAt.IsZero() {
		t.Errorf("lastUsedAt = %v, want zero", got.LastUsedAt)
	}

	second := mustFactor(t, e, u, store.FactorRecovery)
	list, err = fs.ListByUser(ctx(t), tn.ID, u.ID)
	mustOK(t, "list", err)
	if len(list) != 2 || list[0].ID != in.ID || list[1].ID != second.ID {
		t.Errorf("list = %v, want the two factors in order of ID", list)
	}
	if len(list) == 2 && string(list[0].Secret) != string(in.Secret) {
		t.Errorf("listed secret = %x, want %x", list[0].Secret, in.Secret)
	}
}

func factorIsolation(t *testing.T, e *env) {
	acme := mustTenant(t, e, "acme")
	other := mustTenant(t, e, "other")
	ada := mustUser(t, e, acme.ID, "ada", "ada@example.com")
	bob := mustUser(t, e, acme.ID, "bob", "bob@example.com")
	eve := mustUser(t, e, other.ID, "eve", "eve@example.com")
	f := mustFactor(t, e, ada, store.FactorTOTP)
	fs := e.Store.Factors()

	for _, who := range []store.User{bob, eve, {TenantID: other.ID, ID: ada.ID}} {
		what := fmt.Sprintf("as %s/%s", who.TenantID[:8], who.ID[:8])
		_, err := fs.Get(ctx(t), who.TenantID, who.ID, f.ID)
		wantErr(t, "get "+what, err, errs.ErrNotFound)
		_, err = fs.Update(ctx(t), who.TenantID, who.ID, f.ID,
			func(x store.Factor) (store.Factor, error) { x.Name = "stolen"; return x, nil })
		wantErr(t, "update "+what, err, errs.ErrNotFound)
		wantErr(t, "delete "+what, fs.Delete(ctx(t), who.TenantID, who.ID, f.ID), errs.ErrNotFound)
		list, err := fs.ListByUser(ctx(t), who.TenantID, who.ID)
		mustOK(t, "list "+what, err)
		if len(list) != 0 {
			t.Errorf("list %s = %v, want none", what, list)
		}
		n, err := fs.DeleteByUser(ctx(t), who.TenantID, who.ID)
		if err != nil || n != 0 {
			t.Errorf("delete by user %s = %d, %v; want 0, nil", what, n, err)
		}
	}
	got, err := fs.Get(ctx(t), ada.TenantID, ada.ID, f.ID)
	mustOK(t, "get as owner", err)
	if got.Name != f.Name || got.Version != 1 {
		t.Errorf("factor after others' attempts = %+v, want it untouched", got)
	}
}

func factorBad(t *testing.T, e *env) {
	tn := mustTenant(t, e, "acme")
	u := mustUser(t, e, tn.ID, "ada", "ada@example.com")
	fs := e.Store.Factors()

	bad := map[string]func(f *store.Factor){
		"unknown type":   func(f *store.Factor) { f.Type = "PIGEON" },
		"empty type":     func(f *store.Factor) { f.Type = "" },
		"long name":      func(f *store.Factor) { f.Name = strings.Repeat("n", store.MaxFactorNameBytes+1) },
		"name not UTF-8": func(f *store.Factor) { f.Name = "\xff" },
		"long secret":    func(f *store.Factor) { f.Secret = make([]byte, store.MaxFactorSecretBytes+1) },
		"long data":      func(f *store.Factor) { f.Data = make([]byte, store.MaxFactorDataBytes+1) },
		"negative step":  func(f *store.Factor) { f.LastStep = -1 },
	}
	for name, mutate := range bad {
		f := newFactor(u, store.FactorTOTP)
		mutate(&f)
		_, err := fs.Create(ctx(t), f)
		wantErr(t, name, err, errs.ErrInvalidArgument)
	}
	for _, id := range badIDs() {
		f := newFactor(u, store.FactorTOTP)
		f.ID = id
		_, err := fs.Create(ctx(t), f)
		wantErr(t, fmt.Sprintf("create with ID %q", id), err, errs.ErrInvalidArgument)
		_, err = fs.Get(ctx(t), tn.ID, u.ID, id)
		wantErr(t, fmt.Sprintf("get with ID %q", id), err, errs.ErrInvalidArgument)
	}

	missing := newFactor(store.User{TenantID: tn.ID, ID: newID()}, store.FactorTOTP)
	_, err := fs.Create(ctx(t), missing)
	wantErr(t, "create for a missing user", err, errs.ErrNotFound)

	f := mustFactor(t, e, u, store.FactorEmail)
	dup := newFactor(u, store.FactorSMS)
	dup.ID = f.ID
	_, err = fs.Create(ctx(t), dup)
	wantErr(t, "create with a taken ID", err, errs.ErrConflict)

	_, err = fs.Update(ctx(t), tn.ID, u.ID, f.ID, func(x store.Factor) (store.Factor, error) {
		x.Name = strings.Repeat("n", store.MaxFactorNameBytes+1)
		return x, nil
	})
	wantErr(t, "update to a long name", err, errs.ErrInvalidArgument)
	_, err = fs.Update(ctx(t), tn.ID, u.ID, f.ID, func(x store.Factor) (store.Factor, error) {
		return x, errFn
	})
	wantErr(t, "update whose fn fails", err, errFn)

	list, err := fs.ListByUser(ctx(t), tn.ID, u.ID)
	mustOK(t, "list", err)
	if len(list) != 1 || list[0].Type != store.FactorEmail || list[0].Version != 1 {
		t.Errorf("list after refusals = %+v, want the one EMAIL factor untouched", list)
	}
}

func factorUpdate(t *testing.T, e *env) {
	tn := mustTenant(t, e, "acme")
	u := mustUser(t, e, tn.ID, "ada", "ada@example.com")
	f := mustFactor(t, e, u, store.FactorTOTP)
	fs := e.Store.Factors()

	used := someTime.Add(time.Hour)
	got, err := fs.Update(ctx(t), tn.ID, u.ID, f.ID, func(x store.Factor) (store.Factor, error) {
		x.Name, x.Confirmed, x.LastStep, x.LastUsedAt = "phone", true, 12345, used
		x.Secret, x.Data = []byte("sealed"), []byte(`{"n":1}`)
		x.ID, x.TenantID, x.UserID, x.Type = newID(), newID(), newID(), store.FactorSMS
		x.CreatedAt, x.Version = used, 99
		return x, nil
	})
	mustOK(t, "update", err)
	want := f
	want.Name, want.Confirmed, want.LastStep = "phone", true, 12345
	want.LastUsedAt = used.UTC().Truncate(time.Millisecond)
	want.Secret, want.Data, want.Version = []byte("sealed"), []byte(`{"n":1}`), 2
	if diff := cmp.Diff(want, got, opts); diff != "" {
		t.Errorf("update returned (-want +got):\n%s", diff)
	}
	read, err := fs.Get(ctx(t), tn.ID, u.ID, f.ID)
	mustOK(t, "get", err)
	if diff := cmp.Diff(want, read, opts); diff != "" {
		t.Errorf("get after update (-want +got):\n%s", diff)
	}

	// A writer that slips in between fn's read and its write makes the
	// update read again.
	calls := 0
	got, err = fs.Update(ctx(t), tn.ID, u.ID, f.ID, func(x store.Factor) (store.Factor, error) {
		calls++
		if calls == 1 {
			_, err := fs.Update(ctx(t), tn.ID, u.ID, f.ID, func(y store.Factor) (store.Factor, error) {
				y.Name = "from the side"
				return y, nil
			})
			mustOK(t, "side update", err)
		}
		x.LastStep++
		return x, nil
	})
	mustOK(t, "update with a concurrent writer", err)
	if calls != 2 || got.Name != "from the side" || got.LastStep != 12346 || got.Version != 4 {
		t.Errorf("after a lost race: calls %d, %+v; want 2 calls, both writes kept", calls, got)
	}
}

func factorSpendOnce(t *testing.T, e *env) {
	tn := mustTenant(t, e, "acme")
	u := mustUser(t, e, tn.ID, "ada", "ada@example.com")
	f := mustFactor(t, e, u, store.FactorTOTP)
	fs := e.Store.Factors()

	const step = 1000
	results := race(8, func(int) error {
		_, err := fs.Update(ctx(t), tn.ID, u.ID, f.ID, func(x store.Factor) (store.Factor, error) {
			if x.LastStep >= step {
				return x, errs.New(errs.Conflict, "step spent")
			}
			x.LastStep = step
			return x, nil
		})
		return err
	})
	oneWinner(t, "spend a step", results)
}

func factorConcurrent(t *testing.T, e *env) {
	tn := mustTenant(t, e, "acme")
	u := mustUser(t, e, tn.ID, "ada", "ada@example.com")
	f := mustFactor(t, e, u, store.FactorRecovery)
	fs := e.Store.Factors()

	const n = 8
	for i, err := range race(n, func(int) error {
		_, err := fs.Update(ctx(t), tn.ID, u.ID, f.ID, func(x store.Factor) (store.Factor, error) {
			x.LastStep++
			return x, nil
		})
		return err
	}) {
		if err != nil {
			t.Errorf("writer %d: %v", i, err)
		}
	}
	got, err := fs.Get(ctx(t), tn.ID, u.ID, f.ID)
	mustOK(t, "get", err)
	if got.LastStep != n || got.Version != n+1 {
		t.Errorf("after %d increments: lastStep %d, version %d", n, got.LastStep, got.Version)
	}
}

func factorDelete(t *testing.T, e *env) {
	tn := mustTenant(t, e, "acme")
	ada := mustUser(t, e, tn.ID, "ada", "ada@example.com")
	bob := mustUser(t, e, tn.ID, "bob", "bob@example.com")
	fs := e.Store.Factors()

	one := mustFactor(t, e, ada, store.FactorTOTP)
	mustFactor(t, e, ada, store.FactorEmail)
	mustFactor(t, e, ada, store.FactorRecovery)
	bobs := mustFactor(t, e, bob, store.FactorTOTP)

	mustOK(t, "delete", fs.Delete(ctx(t), tn.ID, ada.ID, one.ID))
	_, err := fs.Get(ctx(t), tn.ID, ada.ID, one.ID)
	wantErr(t, "get after delete", err, errs.ErrNotFound)
	wantErr(t, "delete again", fs.Delete(ctx(t), tn.ID, ada.ID, one.ID), errs.ErrNotFound)
	_, err = fs.Update(ctx(t), tn.ID, ada.ID, one.ID,
		func(x store.Factor) (store.Factor, error) { return x, nil })
	wantErr(t, "update after delete", err, errs.ErrNotFound)

	n, err := fs.DeleteByUser(ctx(t), tn.ID, ada.ID)
	mustOK(t, "delete by user", err)
	if n != 2 {
		t.Errorf("delete by user = %d, want 2", n)
	}
	list, err := fs.ListByUser(ctx(t), tn.ID, ada.ID)
	mustOK(t, "list after delete by user", err)
	if len(list) != 0 {
		t.Errorf("list after delete by user = %v, want none", list)
	}

	mustOK(t, "delete bob", e.Store.Users().Delete(ctx(t), tn.ID, bob.ID))
	_, err = fs.Get(ctx(t), tn.ID, bob.ID, bobs.ID)
	wantErr(t, "factor of a deleted user", err, errs.ErrNotFound)
	list, err = fs.ListByUser(ctx(t), tn.ID, bob.ID)
	mustOK(t, "list of a deleted user", err)
	if len(list) != 0 {
		t.Errorf("factors of a deleted user = %v, want none", list)
	}
}
