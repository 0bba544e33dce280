package storetest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
)

var signInTests = []test{
	{"a user without a record is not found, and a first update creates it", signInCreate},
	{"an update reads the last record and bumps the version", signInUpdate},
	{"concurrent updates all land exactly once", signInConcurrent},
	{"bad records and missing users are refused and write nothing", signInBad},
	{"deleting the user deletes the record", signInUserDelete},
}

func deviceID(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func signInUser(t *testing.T, e *env) store.User {
	t.Helper()
	tn := mustTenant(t, e, "acme")
	return mustUser(t, e, tn.ID, "ada", "ada@example.com")
}

func signInCreate(t *testing.T, e *env) {
	u := signInUser(t, e)
	si := e.Store.SignIns()
	_, err := si.Get(ctx(t), u.TenantID, u.ID)
	wantErr(t, "get before any sign-in", err, errs.ErrNotFound)

	var seen store.SignInRecord
	got, err := si.Update(ctx(t), u.TenantID, u.ID, func(r store.SignInRecord) (store.SignInRecord, error) {
		seen = r
		r.Devices = []store.KnownDevice{{ID: deviceID("laptop"), FirstSeen: someTime, LastSeen: someTime}}
		r.Networks = []store.KnownNetwork{{Prefix: "203.0.113.0/24", LastSeen: someTime}}
		r.LastSignInAt = someTime
		return r, nil
	})
	mustOK(t, "first update", err)
	if seen.TenantID != u.TenantID || seen.UserID != u.ID || seen.Version != 0 ||
		len(seen.Devices) != 0 || !seen.LastSignInAt.IsZero() {
		t.Errorf("fn saw %+v, want an empty record of the user", seen)
	}
	ms := someTime.UTC().Truncate(time.Millisecond)
	want := store.SignInRecord{TenantID: u.TenantID, UserID: u.ID,
		Devices:      []store.KnownDevice{{ID: deviceID("laptop"), FirstSeen: ms, LastSeen: ms}},
		Networks:     []store.KnownNetwork{{Prefix: "203.0.113.0/24", LastSeen: ms}},
		LastSignInAt: ms, Version: 1}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("update returned (-want +got):\n%s", diff)
	}
	read, err := si.Get(ctx(t), u.TenantID, u.ID)
	mustOK(t, "get", err)
	if diff := cmp.Diff(want, read); diff != "" {
		t.Errorf("get (-want +got):\n%s", diff)
	}
	if !read.LastStrongAt.IsZero() {
		t.Errorf("LastStrongAt = %v, want zero", read.LastStrongAt)
	}
}

func signInUpdate(t *testing.T, e *env) {
	u := signInUser(t, e)
	si := e.Store.SignIns()
	for i := range 3 {
		_, err := si.Update(ctx(t), u.TenantID, u.ID, func(r store.SignInRecord) (store.SignInRecord, error) {
			if r.Version != int64(i) {
				t.Errorf("update %d saw version %d", i, r.Version)
			}
			r.Networks = append([]store.KnownNetwork{{Prefix: fmt.Sprintf("198.51.%d.0/24", i),
				LastSeen: someTime.Add(time.Duration(i) * time.Hour)}}, r.Networks...)
			r.LastStrongAt = someTime.Add(time.Duration(i) * time.Minute)
			return r, nil
		})
		mustOK(t, "update", err)
	}
	got, err := si.Get(ctx(t), u.TenantID, u.ID)
	mustOK(t, "get", err)
	if got.Version != 3 || len(got.Networks) != 3 || got.Networks[0].Prefix != "198.51.2.0/24" ||
		!got.LastStrongAt.Equal(someTime.Add(2*time.Minute).Truncate(time.Millisecond)) {
		t.Errorf("after three updates: %+v", got)
	}
	if got.LastStrongAt.Location() != time.UTC {
		t.Errorf("LastStrongAt is in %v, want UTC", got.LastStrongAt.Location())
	}
}

func signInConcurrent(t *testing.T, e *env) {
	u := signInUser(t, e)
	si := e.Store.SignIns()
	var calls atomic.Int64
	errsOut := race(8, func(i int) error {
		_, err := si.Update(ctx(t), u.TenantID, u.ID, func(r store.SignInRecord) (store.SignInRecord, error) {
			calls.Add(1)
			r.Devices = append(r.Devices, store.KnownDevice{ID: deviceID(fmt.Sprint(i)),
				FirstSeen: someTime, LastSeen: someTime})
			return r, nil
		})
		return err
	})
	for i, err := range errsOut {
		mustOK(t, fmt.Sprintf("writer %d", i), err)
	}
	got, err := si.Get(ctx(t), u.TenantID, u.ID)
	mustOK(t, "get", err)
	if got.Version != 8 || len(got.Devices) != 8 {
		t.Errorf("after 8 concurrent updates: version %d, %d devices, want 8 and 8 (fn ran %d times)",
			got.Version, len(got.Devices), calls.Load())
	}
}

func signInBad(t *testing.T, e *env) {
	u := signInUser(t, e)
	si := e.Store.SignIns()
	tooMany := make([]store.KnownDevice, store.MaxKnownDevices+1)
	for i := range tooMany {
		tooMany[i] = store.KnownDevice{ID: deviceID(fmt.Sprint(i)), FirstSeen: someTime, LastSeen: someTime}
	}
	bad := map[string]func(*store.SignInRecord){
		"too many devices": func(r *store.SignInRecord) { r.Devices = tooMany },
		"a device ID that is not a hash": func(r *store.SignInRecord) {
			r.Devices = []store.KnownDevice{{ID: "laptop", FirstSeen: someTime, LastSeen: someTime}}
		},
		"an address instead of a prefix": func(r *store.SignInRecord) {
			r.Networks = []store.KnownNetwork{{Prefix: "203.0.113.7", LastSeen: someTime}}
		},
		"a prefix with host bits": func(r *store.SignInRecord) {
			r.Networks = []store.KnownNetwork{{Prefix: "203.0.113.7/24", LastSeen: someTime}}
		},
	}
	for what, mutate := range bad {
		_, err := si.Update(ctx(t), u.TenantID, u.ID, func(r store.SignInRecord) (store.SignInRecord, error) {
			mutate(&r)
			return r, nil
		})
		wantErr(t, what, err, errs.ErrInvalidArgument)
	}
	_, err := si.Get(ctx(t), u.TenantID, u.ID)
	wantErr(t, "get after refused updates", err, errs.ErrNotFound)

	_, err = si.Update(ctx(t), u.TenantID, newID(), func(r store.SignInRecord) (store.SignInRecord, error) {
		return r, nil
	})
	wantErr(t, "update of a missing user", err, errs.ErrNotFound)
	other := mustTenant(t, e, "other")
	_, err = si.Update(ctx(t), other.ID, u.ID, func(r store.SignInRecord) (store.SignInRecord, error) {
		return r, nil
	})
	wantErr(t, "update of a user of another tenant", err, errs.ErrNotFound)
	_, err = si.Get(ctx(t), u.TenantID, "not-an-id")
	wantErr(t, "get with a malformed ID", err, errs.ErrInvalidArgument)
}

func signInUserDelete(t *testing.T, e *env) {
	u := signInUser(t, e)
	si := e.Store.SignIns()
	_, err := si.Update(ctx(t), u.TenantID, u.ID, func(r store.SignInRecord) (store.SignInRecord, error) {
		r.LastSignInAt = someTime
		return r, nil
	})
	mustOK(t, "update", err)
	mustOK(t, "delete user", e.Store.Users().Delete(ctx(t), u.TenantID, u.ID))
	_, err = si.Get(ctx(t), u.TenantID, u.ID)
	wantErr(t, "get after the user's delete", err, errs.ErrNotFound)
}
