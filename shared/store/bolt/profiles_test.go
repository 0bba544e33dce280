package bolt

import (
	"encoding/binary"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	bbolt "go.etcd.io/bbolt"

	"github.com/wardhq/ward/shared/store"
)

// schema4Buckets are the buckets of a file of schema 4.
var schema4Buckets = []string{
	"meta", "tenants", "tenantNames", "users", "userNames", "userEmails", "userCounts",
	"credentials", "tokens", "tokenScopes", "tokenHashes", "tokenExpiry", "orgs", "orgNames",
	"orgChildren", "orgUsers", "audit", "auditTargets",
}

// TestAFileOfSchemaFourIsUpgraded writes a file the way a binary of schema
// 4 did, records and all, and checks that it opens, that its tenant and
// user read back with the profile fields empty, and that the new fields
// and verifications can then be written.
func TestAFileOfSchemaFourIsUpgraded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ward.db")
	tenant, user := uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7())
	at := time.Date(2029, 3, 4, 5, 6, 7, 890000000, time.UTC)
	ms := at.UnixMilli()

	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		b := map[string]*bbolt.Bucket{}
		for _, name := range schema4Buckets {
			bk, err := tx.CreateBucket([]byte(name))
			if err != nil {
				return err
			}
			b[name] = bk
		}
		tenantRec := `{"n":"acme","d":"Acme","c":` + itoa(ms) + `,"u":` + itoa(ms) + `,"v":3}`
		userRec := `{"un":"alice","em":"alice@example.com","ev":true,"ph":"+14155550100",` +
			`"dn":"Alice","st":"ACTIVE","c":` + itoa(ms) + `,"u":` + itoa(ms) + `,"v":2}`
		puts := []struct {
			bucket   string
			key, val []byte
		}{
			{"meta", []byte("schema"), binary.BigEndian.AppendUint64(nil, 4)},
			{"tenants", tenant[:], []byte(tenantRec)},
			{"tenantNames", []byte("acme"), tenant[:]},
			{"users", join(tenant[:], user[:]), []byte(userRec)},
			{"userNames", join(tenant[:], []byte("alice")), user[:]},
			{"userEmails", join(tenant[:], []byte("alice@example.com")), user[:]},
			{"userCounts", tenant[:], binary.BigEndian.AppendUint64(nil, 1)},
		}
		for _, p := range puts {
			if err := b[p.bucket].Put(p.key, p.val); err != nil {
				return err
			}
		}
		return nil
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}

	clock := newFakeClock()
	s, err := Open(path, WithClock(clock.Now))
	if err != nil {
		t.Fatalf("open a file of schema 4: %v", err)
	}
	defer s.Close()
	ctx := t.Context()

	wantTenant := store.Tenant{ID: tenant.String(), Name: "acme", DisplayName: "Acme",
		CreatedAt: at, UpdatedAt: at, Version: 3}
	tn, err := s.Tenants().Get(ctx, tenant.String())
	if err != nil {
		t.Fatalf("get the old tenant: %v", err)
	}
	if diff := cmp.Diff(wantTenant, tn); diff != "" {
		t.Errorf("old tenant (-want +got):\n%s", diff)
	}
	wantUser := store.User{ID: user.String(), TenantID: tenant.String(), Username: "alice",
		Email: "alice@example.com", EmailVerified: true, Phone: "+14155550100",
		DisplayName: "Alice", Status: store.UserActive, CreatedAt: at, UpdatedAt: at,
		Version: 2}
	u, err := s.Users().GetByEmail(ctx, tenant.String(), "alice@example.com")
	if err != nil {
		t.Fatalf("get the old user: %v", err)
	}
	if diff := cmp.Diff(wantUser, u); diff != "" {
		t.Errorf("old user (-want +got):\n%s", diff)
	}
	items, _, err := s.Users().List(ctx, tenant.String(), store.Page{})
	if err != nil || len(items) != 1 || !cmp.Equal(wantUser, items[0]) {
		t.Errorf("list of old users = %+v, %v; want the one user", items, err)
	}

	// The new fields can be written to the old records.
	u, err = s.Users().Update(ctx, tenant.String(), user.String(),
		func(old store.User) (store.User, error) {
			old.Attributes = map[string]any{"level": 2.0}
			old.Locale = "fr"
			old.Preferences = map[string]string{"theme": "dark"}
			return old, nil
		})
	if err != nil {
		t.Fatalf("update the old user: %v", err)
	}
	got, err := s.Users().Get(ctx, tenant.String(), user.String())
	if err != nil || !cmp.Equal(u, got) || got.Locale != "fr" {
		t.Errorf("user after the update = %+v, %v; want %+v", got, err, u)
	}
	tn, err = s.Tenants().Update(ctx, tenant.String(), func(old store.Tenant) (store.Tenant,
		error) {
		old.Registration = store.RegistrationOpen
		return old, nil
	})
	if err != nil || tn.Registration != store.RegistrationOpen {
		t.Errorf("update the old tenant: %+v, %v", tn, err)
	}
	now := clock.Now()
	_, err = s.Verifications().Create(ctx, store.Verification{
		ID: uuid.Must(uuid.NewV7()).String(), TenantID: tenant.String(), UserID: user.String(),
		Purpose: store.VerifyEmail, Target: "alice@example.com",
		SecretHash: "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8",
		CreatedAt:  now, ExpiresAt: now.Add(time.Hour),
	})
	if err != nil {
		t.Errorf("create a verification after the upgrade: %v", err)
	}

	var v []byte
	_ = s.db.View(func(tx *bbolt.Tx) error {
		v = append(v, tx.Bucket(bucketMeta).Get(keySchema)...)
		return nil
	})
	if want := binary.BigEndian.AppendUint64(nil, schemaVersion); string(v) != string(want) {
		t.Errorf("schema after the upgrade = %x, want %x", v, want)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestExpiredVerificationsAreSweptFromTheFile checks that expired proofs
// leave the file, with their index entries, through reads and creates.
func TestExpiredVerificationsAreSweptFromTheFile(t *testing.T) {
	clock := newFakeClock()
	s, _ := openTemp(t, WithClock(clock.Now))
	ctx := t.Context()
	vs := s.Verifications()
	tenant, user := newID(), newID()
	create := func(life time.Duration) store.Verification {
		t.Helper()
		now := clock.Now()
		v, err := vs.Create(ctx, store.Verification{
			ID: newID(), TenantID: tenant, UserID: user, Purpose: store.ResetPassword,
			Target:    "alice@example.com",
			CodeHash:  "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8",
			CreatedAt: now, ExpiresAt: now.Add(life),
		})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	first := create(time.Minute)
	for range 2 {
		create(time.Minute)
	}
	clock.Advance(time.Minute)
	buckets := [][]byte{bucketVerifs, bucketVerifUsers, bucketVerifExpiry}

	// A read that comes across an expired proof sweeps them.
	if _, err := vs.Get(ctx, tenant, first.ID); err == nil {
		t.Fatal("get of an expired proof succeeded")
	}
	for _, b := range buckets {
		if n := keys(t, s, b); n != 0 {
			t.Errorf("bucket %s holds %d keys after the sweep, want 0", b, n)
		}
	}

	// Create sweeps too, without a read.
	for range 3 {
		create(time.Second)
	}
	clock.Advance(time.Second)
	create(time.Hour)
	for _, b := range buckets {
		if n := keys(t, s, b); n != 1 {
			t.Errorf("bucket %s holds %d keys after a create swept, want 1", b, n)
		}
	}
}
