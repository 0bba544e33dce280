package bolt

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	bbolt "go.etcd.io/bbolt"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/store/storetest"
)

// fakeClock is a clock that moves only when told. It starts off a
// millisecond boundary, so that expiry checks see truncated times.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2030, 1, 2, 3, 4, 5, 678901234, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func openTemp(t testing.TB, opts ...Option) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ward.db")
	s, err := Open(path, opts...)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Env {
		clock := newFakeClock()
		s, _ := openTemp(t, WithClock(clock.Now))
		return storetest.Env{
			Store:   s,
			Now:     clock.Now,
			Advance: func(t *testing.T, d time.Duration) { clock.Advance(d) },
		}
	})
}

func newID() string { return uuid.Must(uuid.NewV7()).String() }

func TestDataSurvivesReopening(t *testing.T) {
	s, path := openTemp(t)
	ctx := t.Context()
	tn, err := s.Tenants().Create(ctx, store.Tenant{ID: newID(), Name: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	u, err := s.Users().Create(ctx, store.User{
		ID: newID(), TenantID: tn.ID, Username: "alice", Email: "alice@example.com",
		Status: store.UserActive,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}

	s2, err := Open(path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s2.Close()
	got, err := s2.Users().GetByEmail(ctx, tn.ID, "alice@example.com")
	if err != nil {
		t.Fatalf("get after reopening: %v", err)
	}
	if diff := cmp.Diff(u, got); diff != "" {
		t.Errorf("user after reopening (-want +got):\n%s", diff)
	}
	n, err := s2.Users().Count(ctx, tn.ID)
	if err != nil || n != 1 {
		t.Errorf("count after reopening = %d, %v; want 1", n, err)
	}
}

func TestOperationsAfterCloseAreUnavailable(t *testing.T) {
	s, _ := openTemp(t)
	id := newID()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	_, err := s.Tenants().Get(t.Context(), id)
	if !errors.Is(err, errs.ErrUnavailable) {
		t.Errorf("get after close: got %v, want %v", err, errs.ErrUnavailable)
	}
	_, err = s.Tenants().Create(t.Context(), store.Tenant{ID: id, Name: "acme"})
	if !errors.Is(err, errs.ErrUnavailable) {
		t.Errorf("create after close: got %v, want %v", err, errs.ErrUnavailable)
	}
	if errs.Public(err).Message != "store unavailable" {
		t.Errorf("client sees %q, want only %q", errs.Public(err).Message, "store unavailable")
	}
}

func TestASecondOpenOfOneFileTimesOut(t *testing.T) {
	_, path := openTemp(t)

	start := time.Now()
	s, err := Open(path, WithLockTimeout(100*time.Millisecond))
	if err == nil {
		s.Close()
		t.Fatal("second open of a locked file succeeded")
	}
	if !errors.Is(err, errs.ErrUnavailable) || !errors.Is(err, bbolt.ErrTimeout) {
		t.Errorf("got %v, want %v caused by %v", err, errs.ErrUnavailable, bbolt.ErrTimeout)
	}
	if waited := time.Since(start); waited > 5*time.Second {
		t.Errorf("open waited %v for a 100ms lock timeout", waited)
	}
}

func TestAFileOfAnotherSchemaIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ward.db")
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucket(bucketMeta)
		if err != nil {
			return err
		}
		return b.Put(keySchema, []byte{0, 0, 0, 0, 0, 0, 0, 99})
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}

	s, err := Open(path)
	if err == nil {
		s.Close()
		t.Fatal("open of a file of schema 99 succeeded")
	}
	if !errors.Is(err, errs.ErrUnavailable) {
		t.Errorf("got %v, want %v", err, errs.ErrUnavailable)
	}
}

func TestAFileOfSchemaOneIsUpgraded(t *testing.T) {
	s, path := openTemp(t)
	ctx := t.Context()
	tn, err := s.Tenants().Create(ctx, store.Tenant{ID: newID(), Name: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	u, err := s.Users().Create(ctx, store.User{
		ID: newID(), TenantID: tn.ID, Username: "alice", Status: store.UserActive,
	})
	if err != nil {
		t.Fatal(err)
	}
	// Turn the file back into version 1: no credentials or organizations.
	err = s.db.Update(func(tx *bbolt.Tx) error {
		for _, b := range append([][]byte{bucketCredentials}, orgBuckets...) {
			if err := tx.DeleteBucket(b); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Put(keySchema, []byte{0, 0, 0, 0, 0, 0, 0, 1})
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()

	s2, err := Open(path)
	if err != nil {
		t.Fatalf("open a file of schema 1: %v", err)
	}
	defer s2.Close()
	if err := s2.Credentials().SetPassword(ctx, tn.ID, u.ID, "$argon2id$x", time.Now()); err != nil {
		t.Fatalf("set a password after the upgrade: %v", err)
	}
	var v []byte
	_ = s2.db.View(func(tx *bbolt.Tx) error {
		v = append(v, tx.Bucket(bucketMeta).Get(keySchema)...)
		return nil
	})
	if want := []byte{0, 0, 0, 0, 0, 0, 0, schemaVersion}; string(v) != string(want) {
		t.Errorf("schema after the upgrade = %x, want %x", v, want)
	}
}

// orgBuckets are the buckets schema 3 added.
var orgBuckets = [][]byte{bucketOrgs, bucketOrgNames, bucketOrgChildren, bucketOrgUsers}

func TestAFileOfSchemaTwoIsUpgraded(t *testing.T) {
	s, path := openTemp(t)
	ctx := t.Context()
	tn, err := s.Tenants().Create(ctx, store.Tenant{ID: newID(), Name: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	u, err := s.Users().Create(ctx, store.User{
		ID: newID(), TenantID: tn.ID, Username: "alice", Status: store.UserActive,
	})
	if err != nil {
		t.Fatal(err)
	}
	// Turn the file back into version 2: no organizations.
	err = s.db.Update(func(tx *bbolt.Tx) error {
		for _, b := range orgBuckets {
			if err := tx.DeleteBucket(b); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Put(keySchema, []byte{0, 0, 0, 0, 0, 0, 0, 2})
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()

	s2, err := Open(path)
	if err != nil {
		t.Fatalf("open a file of schema 2: %v", err)
	}
	defer s2.Close()
	o, err := s2.Organizations().Create(ctx, store.Organization{
		ID: newID(), TenantID: tn.ID, Name: "east",
	})
	if err != nil {
		t.Fatalf("create an organization after the upgrade: %v", err)
	}
	moved, err := s2.Users().Update(ctx, tn.ID, u.ID, func(x store.User) (store.User, error) {
		if x.OrgID != "" {
			t.Errorf("a user of schema 2 reads with OrgID %q", x.OrgID)
		}
		x.OrgID = o.ID
		return x, nil
	})
	if err != nil || moved.OrgID != o.ID {
		t.Fatalf("move the old user into the organization: %+v, %v", moved, err)
	}
}

func TestAnEndedContextWritesNothing(t *testing.T) {
	s, _ := openTemp(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()

	id := newID()
	_, err := s.Tenants().Create(ctx, store.Tenant{ID: id, Name: "acme"})
	if !errors.Is(err, errs.ErrUnavailable) || !errors.Is(err, context.Canceled) {
		t.Errorf("create with an ended context: got %v, want %v caused by %v", err,
			errs.ErrUnavailable, context.Canceled)
	}
	_, err = s.Tenants().Get(t.Context(), id)
	if !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("get after the refused create: got %v, want %v", err, errs.ErrNotFound)
	}
}

// keys counts the keys of a bucket.
func keys(t *testing.T, s *Store, bucket []byte) int {
	t.Helper()
	n := 0
	err := s.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucket).ForEach(func(k, v []byte) error { n++; return nil })
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestExpiredTokensAreSweptFromTheFile(t *testing.T) {
	clock := newFakeClock()
	s, _ := openTemp(t, WithClock(clock.Now))
	ctx := t.Context()
	ts := s.APITokens()
	create := func(expires time.Time) store.APIToken {
		t.Helper()
		id := newID()
		tok, err := ts.Create(ctx, store.APIToken{ID: id, Hash: "h-" + id, ExpiresAt: expires})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	for range 3 {
		create(clock.Now().Add(time.Minute))
	}
	kept := create(time.Time{})
	clock.Advance(time.Minute)

	buckets := [][]byte{bucketTokens, bucketTokenScopes, bucketTokenHashes}
	for _, b := range buckets {
		if n := keys(t, s, b); n != 4 {
			t.Fatalf("bucket %s holds %d keys before the sweep, want 4", b, n)
		}
	}

	// A listing that comes across expired tokens sweeps them.
	items, _, err := ts.List(ctx, "", store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 1 || items[0].ID != kept.ID {
		t.Errorf("listed %v, want only %s", items, kept.ID)
	}
	for _, b := range buckets {
		if n := keys(t, s, b); n != 1 {
			t.Errorf("bucket %s holds %d keys after the sweep, want 1", b, n)
		}
	}
	if n := keys(t, s, bucketTokenExpiry); n != 0 {
		t.Errorf("expiry index holds %d keys after the sweep, want 0", n)
	}

	// Create sweeps too, without a read.
	for range 3 {
		create(clock.Now().Add(time.Second))
	}
	clock.Advance(time.Second)
	create(time.Time{})
	if n := keys(t, s, bucketTokens); n != 2 {
		t.Errorf("tokens bucket holds %d keys after a create swept, want 2", n)
	}
}

func BenchmarkUserGet(b *testing.B) {
	s, _ := openTemp(b)
	ctx := b.Context()
	tenant := newID()
	u, err := s.Users().Create(ctx, store.User{
		ID: newID(), TenantID: tenant, Username: "alice", Status: store.UserActive,
	})
	if err != nil {
		b.Fatal(err)
	}

	for b.Loop() {
		if _, err := s.Users().Get(ctx, tenant, u.ID); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUserCreate measures a create, which commits (and syncs) one
// transaction of four writes.
func BenchmarkUserCreate(b *testing.B) {
	s, _ := openTemp(b)
	ctx := b.Context()
	tenant := newID()
	i := 0

	for b.Loop() {
		i++
		_, err := s.Users().Create(ctx, store.User{
			ID: newID(), TenantID: tenant, Username: fmt.Sprintf("user%d", i),
			Email: fmt.Sprintf("user%d@example.com", i), Status: store.UserActive,
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

func TestAFileOfSchemaThreeIsUpgraded(t *testing.T) {
	s, path := openTemp(t)
	ctx := t.Context()
	tn, err := s.Tenants().Create(ctx, store.Tenant{ID: newID(), Name: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	// Turn the file back into version 3: no audit trail.
	err = s.db.Update(func(tx *bbolt.Tx) error {
		for _, b := range [][]byte{bucketAudit, bucketAuditTarget} {
			if err := tx.DeleteBucket(b); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Put(keySchema, []byte{0, 0, 0, 0, 0, 0, 0, 3})
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()

	s2, err := Open(path)
	if err != nil {
		t.Fatalf("open a file of schema 3: %v", err)
	}
	defer s2.Close()
	e := store.AuditEvent{ID: newID(), TenantID: tn.ID, At: time.Now(), Actor: "root",
		Action: "tenant.update", TargetType: "tenant", TargetID: tn.ID}
	if err := s2.Audit().Append(ctx, e); err != nil {
		t.Fatalf("append an audit event after the upgrade: %v", err)
	}
	got, _, err := s2.Audit().List(ctx, tn.ID, store.AuditFilter{}, store.Page{})
	if err != nil || len(got) != 1 || got[0].ID != e.ID {
		t.Errorf("trail after the upgrade = %v, %v; want the one event", got, err)
	}
}
