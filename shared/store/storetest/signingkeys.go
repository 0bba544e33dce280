package storetest

import (
	"bytes"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
)

var signingKeyTests = []test{
	{"a created set reads back whole, sealed bytes included", keySetCreateGet},
	{"a tenant's set is created once, even by concurrent creators", keySetCreateOnce},
	{"sets are per tenant", keySetPerTenant},
	{"a rotation swaps the set and bumps the version", keySetRotate},
	{"concurrent updates all land", keySetConcurrentUpdate},
	{"delete removes the set", keySetDelete},
	{"bad sets are refused and write nothing", keySetBad},
}

func newSigningKey(state store.SigningKeyState, alg string) store.SigningKey {
	k := store.SigningKey{
		ID: newID(), Algorithm: alg, State: state,
		CreatedAt: someTime, ActivatedAt: someTime.Add(time.Second),
		PublicJWK:  `{"kty":"EC","crv":"P-256","x":"AAAA","y":"BBBB"}`,
		PrivateKey: []byte{1, 0, 0xff, 0x80, 42, 7, 0},
	}
	if state == store.SigningKeyRetiring {
		k.RetireAfter = someTime.Add(24 * time.Hour)
	}
	return k
}

func newKeySet(tenantID string, keys ...store.SigningKey) store.SigningKeySet {
	if len(keys) == 0 {
		keys = []store.SigningKey{newSigningKey(store.SigningKeyActive, store.SigningAlgorithmES)}
	}
	return store.SigningKeySet{TenantID: tenantID, Keys: keys, UpdatedAt: someTime}
}

func keySetCreateGet(t *testing.T, e *env) {
	tn := mustTenant(t, e, "acme")
	sk := e.Store.SigningKeys()
	_, err := sk.Get(ctx(t), tn.ID)
	wantErr(t, "get before create", err, errs.ErrNotFound)

	in := newKeySet(tn.ID, newSigningKey(store.SigningKeyActive, store.SigningAlgorithmRSA),
		newSigningKey(store.SigningKeyRetiring, store.SigningAlgorithmES))
	// The active key sealed under a KMS-wrapped data key, the retiring
	// one under the master key: a set may hold both.
	in.Keys[0].Sealing = store.SealedKMS
	in.Keys[1].Sealing = store.SealedLocal
	in.DataKey = []byte{0x01, 0x02, 0x03, 0xfe, 0xff}
	got, err := sk.Create(ctx(t), in)
	mustOK(t, "create", err)

	want := in.Normal()
	want.Version = 1
	if diff := cmp.Diff(want, got, opts); diff != "" {
		t.Errorf("create returned (-want +got):\n%s", diff)
	}
	checkTime(t, "UpdatedAt", got.UpdatedAt, someTime)
	checkTime(t, "RetireAfter", got.Keys[1].RetireAfter, someTime.Add(24*time.Hour))
	if !got.Keys[0].RetireAfter.IsZero() {
		t.Errorf("the active key's RetireAfter = %v, want zero", got.Keys[0].RetireAfter)
	}

	read, err := sk.Get(ctx(t), tn.ID)
	mustOK(t, "get", err)
	if diff := cmp.Diff(want, read, opts); diff != "" {
		t.Errorf("get (-want +got):\n%s", diff)
	}
	if !bytes.Equal(read.Keys[0].PrivateKey, in.Keys[0].PrivateKey) {
		t.Errorf("sealed bytes = %x, want %x", read.Keys[0].PrivateKey, in.Keys[0].PrivateKey)
	}
	if !bytes.Equal(read.DataKey, in.DataKey) || read.Keys[0].Sealing != store.SealedKMS {
		t.Errorf("data key %x, sealing %q; want %x, %q", read.DataKey, read.Keys[0].Sealing,
			in.DataKey, store.SealedKMS)
	}
}

func keySetCreateOnce(t *testing.T, e *env) {
	tn := mustTenant(t, e, "acme")
	sk := e.Store.SigningKeys()
	sets := make([]store.SigningKeySet, 6)
	for i := range sets {
		sets[i] = newKeySet(tn.ID)
	}
	winner := oneWinner(t, "concurrent creates", race(len(sets), func(i int) error {
		_, err := sk.Create(ctx(t), sets[i])
		return err
	}))
	got, err := sk.Get(ctx(t), tn.ID)
	mustOK(t, "get", err)
	if got.Keys[0].ID != sets[winner].Keys[0].ID || got.Version != 1 {
		t.Errorf("stored key %s version %d, want the winner's %s at version 1",
			got.Keys[0].ID, got.Version, sets[winner].Keys[0].ID)
	}
}

func keySetPerTenant(t *testing.T, e *env) {
	a, b := mustTenant(t, e, "acme"), mustTenant(t, e, "beta")
	sk := e.Store.SigningKeys()
	setA, err := sk.Create(ctx(t), newKeySet(a.ID))
	mustOK(t, "create in a", err)
	_, err = sk.Get(ctx(t), b.ID)
	wantErr(t, "get in b", err, errs.ErrNotFound)
	_, err = sk.Update(ctx(t), b.ID, func(s store.SigningKeySet) (store.SigningKeySet, error) {
		return s, nil
	})
	wantErr(t, "update in b", err, errs.ErrNotFound)

	// Update keeps the tenant whatever fn says.
	got, err := sk.Update(ctx(t), a.ID, func(s store.SigningKeySet) (store.SigningKeySet, error) {
		s.TenantID = b.ID
		return s, nil
	})
	mustOK(t, "update moving tenants", err)
	if got.TenantID != a.ID {
		t.Errorf("TenantID = %s, want %s", got.TenantID, a.ID)
	}
	_, err = sk.Get(ctx(t), b.ID)
	wantErr(t, "get in b after update", err, errs.ErrNotFound)
	if again, err := sk.Get(ctx(t), a.ID); err != nil || again.Keys[0].ID != setA.Keys[0].ID {
		t.Errorf("get in a = %+v, %v", again, err)
	}
}

func keySetRotate(t *testing.T, e *env) {
	tn := mustTenant(t, e, "acme")
	sk := e.Store.SigningKeys()
	first, err := sk.Create(ctx(t), newKeySet(tn.ID))
	mustOK(t, "create", err)

	next := newSigningKey(store.SigningKeyActive, store.SigningAlgorithmES)
	later := someTime.Add(time.Hour)
	got, err := sk.Update(ctx(t), tn.ID, func(s store.SigningKeySet) (store.SigningKeySet, error) {
		s.Keys[0].State = store.SigningKeyRetiring
		s.Keys[0].RetireAfter = later
		s.Keys = append(s.Keys, next)
		s.UpdatedAt = later
		s.Version = 99 // the store's, not fn's
		return s, nil
	})
	mustOK(t, "rotate", err)
	if got.Version != 2 || len(got.Keys) != 2 {
		t.Fatalf("after rotation: version %d, %d keys; want 2, 2", got.Version, len(got.Keys))
	}
	active, ok := got.Active()
	if !ok || active.ID != next.ID {
		t.Errorf("active = %s, want %s", active.ID, next.ID)
	}
	checkTime(t, "old key's RetireAfter", got.Keys[0].RetireAfter, later)
	read, err := sk.Get(ctx(t), tn.ID)
	mustOK(t, "get", err)
	if diff := cmp.Diff(got, read, opts); diff != "" {
		t.Errorf("get after rotation (-update +get):\n%s", diff)
	}
	if read.Keys[0].ID != first.Keys[0].ID || read.Keys[0].State != store.SigningKeyRetiring {
		t.Errorf("old key = %s %s, want %s RETIRING", read.Keys[0].ID, read.Keys[0].State,
			first.Keys[0].ID)
	}

	_, err = sk.Update(ctx(t), tn.ID, func(s store.SigningKeySet) (store.SigningKeySet, error) {
		return s, errFn
	})
	if err != errFn {
		t.Errorf("update whose fn fails = %v, want fn's error", err)
	}
	if again, _ := sk.Get(ctx(t), tn.ID); again.Version != 2 {
		t.Errorf("version after a failed update = %d, want 2", again.Version)
	}
}

func keySetConcurrentUpdate(t *testing.T, e *env) {
	tn := mustTenant(t, e, "acme")
	sk := e.Store.SigningKeys()
	_, err := sk.Create(ctx(t), newKeySet(tn.ID))
	mustOK(t, "create", err)

	const writers = 8
	var calls atomic.Int64
	errsOut := race(writers, func(i int) error {
		_, err := sk.Update(ctx(t), tn.ID, func(s store.SigningKeySet) (store.SigningKeySet,
			error) {
			calls.Add(1)
			s.Keys[0].PublicJWK += fmt.Sprintf(" %d", i)
			return s, nil
		})
		return err
	})
	for i, err := range errsOut {
		if err != nil {
			t.Errorf("writer %d: %v", i, err)
		}
	}
	got, err := sk.Get(ctx(t), tn.ID)
	mustOK(t, "get", err)
	if got.Version != 1+writers {
		t.Errorf("version = %d, want %d", got.Version, 1+writers)
	}
	for i := range writers {
		if !bytes.Contains([]byte(got.Keys[0].PublicJWK), fmt.Appendf(nil, " %d", i)) {
			t.Errorf("writer %d's change was lost: %q", i, got.Keys[0].PublicJWK)
		}
	}
	if calls.Load() < writers {
		t.Errorf("fn ran %d times for %d writers", calls.Load(), writers)
	}
}

func keySetDelete(t *testing.T, e *env) {
	tn := mustTenant(t, e, "acme")
	sk := e.Store.SigningKeys()
	_, err := sk.Create(ctx(t), newKeySet(tn.ID))
	mustOK(t, "create", err)
	mustOK(t, "delete", sk.Delete(ctx(t), tn.ID))
	_, err = sk.Get(ctx(t), tn.ID)
	wantErr(t, "get after delete", err, errs.ErrNotFound)
	mustOK(t, "delete again", sk.Delete(ctx(t), tn.ID))
	_, err = sk.Create(ctx(t), newKeySet(tn.ID))
	mustOK(t, "create after delete", err)
}

func keySetBad(t *testing.T, e *env) {
	tn := mustTenant(t, e, "acme")
	sk := e.Store.SigningKeys()
	active := func() store.SigningKey {
		return newSigningKey(store.SigningKeyActive, store.SigningAlgorithmES)
	}
	dup := active()
	bad := map[string]store.SigningKeySet{
		"no keys":       newKeySet(tn.ID, []store.SigningKey{}...),
		"no active key": newKeySet(tn.ID, newSigningKey(store.SigningKeyRetiring, "ES256")),
		"two active":    newKeySet(tn.ID, active(), active()),
		"repeated ID": newKeySet(tn.ID, dup, func() store.SigningKey {
			k := dup
			k.State = store.SigningKeyRetiring
			k.RetireAfter = someTime
			return k
		}()),
		"HS256":         newKeySet(tn.ID, func() store.SigningKey { k := active(); k.Algorithm = "HS256"; return k }()),
		"none":          newKeySet(tn.ID, func() store.SigningKey { k := active(); k.Algorithm = "none"; return k }()),
		"unknown state": newKeySet(tn.ID, active(), func() store.SigningKey { k := active(); k.State = "NEXT"; return k }()),
		"retiring without a time": newKeySet(tn.ID, active(), func() store.SigningKey {
			k := newSigningKey(store.SigningKeyRetiring, "ES256")
			k.RetireAfter = time.Time{}
			return k
		}()),
		"no public key":  newKeySet(tn.ID, func() store.SigningKey { k := active(); k.PublicJWK = ""; return k }()),
		"no private key": newKeySet(tn.ID, func() store.SigningKey { k := active(); k.PrivateKey = nil; return k }()),
		"huge private key": newKeySet(tn.ID, func() store.SigningKey {
			k := active()
			k.PrivateKey = make([]byte, store.MaxSealedKeyBytes+1)
			return k
		}()),
		"KMS sealing without a data key": newKeySet(tn.ID, func() store.SigningKey {
			k := active()
			k.Sealing = store.SealedKMS
			return k
		}()),
		"unknown sealing": newKeySet(tn.ID, func() store.SigningKey {
			k := active()
			k.Sealing = "rot13"
			return k
		}()),
		"bad key ID":    newKeySet(tn.ID, func() store.SigningKey { k := active(); k.ID = "key-1"; return k }()),
		"bad tenant ID": newKeySet("acme"),
	}
	many := newKeySet(tn.ID)
	for range store.MaxSigningKeys {
		many.Keys = append(many.Keys, newSigningKey(store.SigningKeyRetiring, "ES256"))
	}
	bad["too many keys"] = many
	huge := newKeySet(tn.ID)
	huge.DataKey = make([]byte, store.MaxDataKeyBytes+1)
	bad["a huge data key"] = huge

	for name, set := range bad {
		// newKeySet gives a default key to an empty list; "no keys" wants none.
		if name == "no keys" {
			set.Keys = nil
		}
		_, err := sk.Create(ctx(t), set)
		wantErr(t, "create with "+name, err, errs.ErrInvalidArgument)
	}
	_, err := sk.Get(ctx(t), tn.ID)
	wantErr(t, "get after refused creates", err, errs.ErrNotFound)

	good, err := sk.Create(ctx(t), newKeySet(tn.ID))
	mustOK(t, "create", err)
	for name, set := range bad {
		if name == "bad tenant ID" {
			continue
		}
		if name == "no keys" {
			set.Keys = nil
		}
		_, err := sk.Update(ctx(t), tn.ID, func(store.SigningKeySet) (store.SigningKeySet, error) {
			return set, nil
		})
		wantErr(t, "update to "+name, err, errs.ErrInvalidArgument)
	}
	got, err := sk.Get(ctx(t), tn.ID)
	mustOK(t, "get", err)
	if diff := cmp.Diff(good, got, opts); diff != "" {
		t.Errorf("refused updates changed the set (-want +got):\n%s", diff)
	}
	for _, id := range badIDs() {
		_, err := sk.Get(ctx(t), id)
		wantErr(t, "get "+id, err, errs.ErrInvalidArgument)
	}
}
