//go:build integration

package scylla_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gocql/gocql"
	"github.com/google/uuid"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/store/scylla"
	"github.com/wardhq/ward/shared/store/storetest"
)

// The integration tests run against a real Cassandra 5 or ScyllaDB named by
// WARD_TEST_CASSANDRA_HOSTS ("127.0.0.1:9042", comma-separated for more);
// .ci/cassandra.sh starts one. Each test gets a keyspace of its own, dropped
// when it ends.

func hosts(t *testing.T) []string {
	t.Helper()
	v := os.Getenv("WARD_TEST_CASSANDRA_HOSTS")
	if v == "" {
		t.Fatal("WARD_TEST_CASSANDRA_HOSTS is not set: run `make test`, which starts " +
			"Cassandra with .ci/cassandra.sh, or start it yourself and set the variable")
	}
	return strings.Split(v, ",")
}

func randomKeyspace(t *testing.T) string {
	t.Helper()
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "ward_test_" + hex.EncodeToString(b)
}

// openStore opens a store on a fresh keyspace and drops the keyspace when
// the test ends.
func openStore(t *testing.T, opts ...scylla.Option) (*scylla.Store, scylla.Config) {
	t.Helper()
	cfg := scylla.Config{Hosts: hosts(t), Keyspace: randomKeyspace(t)}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := scylla.Open(ctx, cfg, opts...)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() {
		s.Close()
		dropKeyspace(t, cfg)
	})
	return s, cfg
}

func dropKeyspace(t *testing.T, cfg scylla.Config) {
	t.Helper()
	sess := rawSession(t, cfg)
	defer sess.Close()
	if err := sess.Query(`DROP KEYSPACE IF EXISTS ` + cfg.Keyspace).Exec(); err != nil {
		t.Errorf("drop keyspace %s: %v", cfg.Keyspace, err)
	}
}

// rawSession is a plain driver session, for looking behind the store.
func rawSession(t *testing.T, cfg scylla.Config) *gocql.Session {
	t.Helper()
	c := gocql.NewCluster(cfg.Hosts...)
	c.Timeout = 30 * time.Second
	sess, err := c.CreateSession()
	if err != nil {
		t.Fatalf("raw session: %v", err)
	}
	return sess
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Env {
		s, _ := openStore(t)
		return storetest.Env{
			Store: s,
			// The server's TTLs run on its own clock, so time has to pass
			// for real. The suite checks a token at half its TTL after
			// creating two more (four lightweight transactions); on two
			// busy cores those can take most of a second, so the shortest
			// TTL the suite uses is 3 s rather than the 1 s the server
			// could honour.
			Advance: func(t *testing.T, d time.Duration) { time.Sleep(d) },
			MinTTL:  3 * time.Second,
		}
	})
}

// flavor is the server the tests expect: "cassandra" (the default, what
// .ci/cassandra.sh starts) or "scylla".
func flavor() string {
	if f := os.Getenv("WARD_TEST_CASSANDRA_FLAVOR"); f != "" {
		return f
	}
	return "cassandra"
}

func TestServerDetection(t *testing.T) {
	s, cfg := openStore(t)
	want := flavor() == "scylla"
	if s.ServerIsScylla() != want {
		t.Fatalf("ServerIsScylla = %v on a %s server (release %s)", s.ServerIsScylla(),
			flavor(), s.ServerRelease())
	}
	if s.ServerRelease() == "" {
		t.Error("no release version")
	}
	if !want {
		if !strings.HasPrefix(s.ServerRelease(), "5.") {
			t.Errorf("Cassandra release %q, want 5.x", s.ServerRelease())
		}
		return
	}
	// On ScyllaDB the keyspace must not use tablets, or LWT would fail.
	sess := rawSession(t, cfg)
	defer sess.Close()
	var tablets *int
	err := sess.Query(`SELECT initial_tablets FROM system_schema.scylla_keyspaces
    WHERE keyspace_name = ?`, cfg.Keyspace).Scan(&tablets)
	if err != nil && err != gocql.ErrNotFound {
		t.Fatal(err)
	}
	if tablets != nil {
		t.Errorf("keyspace has initial_tablets = %d, want tablets disabled", *tablets)
	}
}

func TestReplicationSettings(t *testing.T) {
	cfg := scylla.Config{
		Hosts:    hosts(t),
		Keyspace: randomKeyspace(t),
		Replication: scylla.Replication{
			Class:       "NetworkTopologyStrategy",
			DataCenters: map[string]int{"datacenter1": 1},
		},
		LocalDC: "datacenter1",
	}
	s, err := scylla.Open(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(); dropKeyspace(t, cfg) })

	sess := rawSession(t, cfg)
	defer sess.Close()
	var repl map[string]string
	err = sess.Query(`SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = ?`,
		cfg.Keyspace).Scan(&repl)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(repl["class"], "NetworkTopologyStrategy") || repl["datacenter1"] != "1" {
		t.Errorf("replication = %v", repl)
	}
}

func TestMigrationsAreRecorded(t *testing.T) {
	_, cfg := openStore(t)
	// Every embedded migration, by the version its name starts with, so
	// that a new one needs no change here.
	want := map[int]string{}
	files, err := filepath.Glob("migrations/*.cql")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		v, err := strconv.Atoi(filepath.Base(f)[:4])
		if err != nil {
			t.Fatalf("%s: no version: %v", f, err)
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(src)
		want[v] = hex.EncodeToString(sum[:])
	}
	if len(want) < 11 || want[1] == "" || want[9] == "" || want[11] == "" {
		t.Fatalf("found the migrations %v: 0001 to 0011 at least", slices.Sorted(maps.Keys(want)))
	}

	sess := rawSession(t, cfg)
	defer sess.Close()
	got := map[int]string{}
	iter := sess.Query(`SELECT version, checksum FROM ` + cfg.Keyspace + `.schema_migrations`).Iter()
	var v int
	var c string
	for iter.Scan(&v, &c) {
		got[v] = c
	}
	if err := iter.Close(); err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(got, want) {
		t.Errorf("schema_migrations = %v, want %v", got, want)
	}
	var locks int
	err = sess.Query(`SELECT COUNT(*) FROM ` + cfg.Keyspace + `.schema_migration_lock`).Scan(&locks)
	if err != nil || locks != 0 {
		t.Errorf("migration lock rows left: %d (%v)", locks, err)
	}
}

func TestConcurrentOpensMigrateOnce(t *testing.T) {
	cfg := scylla.Config{Hosts: hosts(t), Keyspace: randomKeyspace(t)}
	// The keyspace and bookkeeping tables are created once up front, as
	// the package documents for clusters; the migrations then race.
	first, err := scylla.Open(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	first.Close()
	t.Cleanup(func() { dropKeyspace(t, cfg) })
	sess := rawSession(t, cfg)
	defer sess.Close()
	if err := sess.Query(`TRUNCATE ` + cfg.Keyspace + `.schema_migrations`).Exec(); err != nil {
		t.Fatal(err)
	}

	const n = 4
	stores := make([]*scylla.Store, n)
	errsOut := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { stores[i], errsOut[i] = scylla.Open(t.Context(), cfg) })
	}
	wg.Wait()
	for i, err := range errsOut {
		if err != nil {
			t.Errorf("open %d: %v", i, err)
			continue
		}
		stores[i].Close()
	}

	var records int
	err = sess.Query(`SELECT COUNT(*) FROM ` + cfg.Keyspace + `.schema_migrations`).Scan(&records)
	want := countMigrations(t)
	if err != nil || records != want {
		t.Errorf("%d migration records after concurrent opens (%v), want %d", records, err, want)
	}
}

func TestEditedMigrationIsRefused(t *testing.T) {
	s, cfg := openStore(t)
	s.Close()
	sess := rawSession(t, cfg)
	defer sess.Close()
	err := sess.Query(`UPDATE `+cfg.Keyspace+`.schema_migrations SET checksum = ?
    WHERE version = 1`, "0000").Exec()
	if err != nil {
		t.Fatal(err)
	}

	_, err = scylla.Open(t.Context(), cfg)
	if err == nil || !strings.Contains(err.Error(), "checksum") {
		t.Fatalf("open over an edited migration: %v, want a checksum error", err)
	}
}

func TestStaleClaimsAreTakenOver(t *testing.T) {
	s, cfg := openStore(t)
	ctx := t.Context()
	tn, err := s.Tenants().Create(ctx, store.Tenant{ID: newID(), Name: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	sess := rawSession(t, cfg)
	defer sess.Close()
	// Claims left by writers that died: one long ago, one just now (which
	// may still belong to a write in flight).
	orphan := func(value string, age time.Duration) {
		t.Helper()
		err := sess.Query(`INSERT INTO `+cfg.Keyspace+`.claims (kind, scope, value, owner)
    VALUES ('user.username', ?, ?, ?) USING TIMESTAMP ?`, tn.ID, value, newID(),
			time.Now().Add(-age).UnixMicro()).Exec()
		if err != nil {
			t.Fatal(err)
		}
	}
	orphan("ghost", time.Hour)
	orphan("inflight", 0)

	for _, name := range []string{"ghost", "inflight"} {
		_, err := s.Users().GetByUsername(ctx, tn.ID, name)
		if !errors.Is(err, errs.ErrNotFound) {
			t.Errorf("get by orphaned username %q: %v, want ErrNotFound", name, err)
		}
	}
	u, err := s.Users().Create(ctx, newUser(tn.ID, "ghost"))
	if err != nil {
		t.Fatalf("create over a stale claim: %v", err)
	}
	got, err := s.Users().GetByUsername(ctx, tn.ID, "ghost")
	if err != nil || got.ID != u.ID {
		t.Errorf("get by the taken-over username: %v, %v", got.ID, err)
	}
	_, err = s.Users().Create(ctx, newUser(tn.ID, "inflight"))
	if !errors.Is(err, errs.ErrConflict) {
		t.Errorf("create over a fresh claim: %v, want ErrConflict", err)
	}
}

func TestTokenRowsCarryTheirTTL(t *testing.T) {
	s, cfg := openStore(t)
	ctx := t.Context()
	sess := rawSession(t, cfg)
	defer sess.Close()
	ttlOf := func(table, where string, arg ...any) *int {
		t.Helper()
		var ttl *int
		err := sess.Query(`SELECT TTL(name) FROM `+cfg.Keyspace+`.`+table+` WHERE `+where,
			arg...).Scan(&ttl)
		if err == gocql.ErrNotFound {
			return nil
		}
		if err != nil {
			t.Fatal(err)
		}
		if ttl == nil {
			zero := 0
			return &zero
		}
		return ttl
	}

	hour := newToken(time.Now().Add(time.Hour))
	if _, err := s.APITokens().Create(ctx, hour); err != nil {
		t.Fatal(err)
	}
	for _, ttl := range []*int{
		ttlOf("api_tokens_by_hash", "hash = ?", hour.Hash),
		ttlOf("api_tokens", "scope = 'system' AND id = ?", hour.ID),
	} {
		if ttl == nil || *ttl < 3590 || *ttl > 3602 {
			t.Errorf("TTL of an hour's token = %v, want about 3600", ttl)
		}
	}

	forever := newToken(time.Time{})
	if _, err := s.APITokens().Create(ctx, forever); err != nil {
		t.Fatal(err)
	}
	if ttl := ttlOf("api_tokens_by_hash", "hash = ?", forever.Hash); ttl == nil || *ttl != 0 {
		t.Errorf("TTL of a token without expiry = %v, want none", ttl)
	}

	short := newToken(time.Now().Add(time.Second))
	if _, err := s.APITokens().Create(ctx, short); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second) // TTL 2 s (1 s rounded up, plus one)
	if ttl := ttlOf("api_tokens_by_hash", "hash = ?", short.Hash); ttl != nil {
		t.Error("the server still has the expired token's row")
	}
	if ttl := ttlOf("api_tokens", "scope = 'system' AND id = ?", short.ID); ttl != nil {
		t.Error("the server still lists the expired token")
	}
}

func TestDriverFailuresAreUnavailable(t *testing.T) {
	s, _ := openStore(t)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()

	_, err := s.Tenants().Get(cancelled, newID())
	if !errors.Is(err, errs.ErrUnavailable) || !errors.Is(err, context.Canceled) {
		t.Errorf("get with a cancelled context: %v, want ErrUnavailable caused by "+
			"context.Canceled", err)
	}
	if pub := errs.Public(err); strings.Contains(pub.Error(), "context") {
		t.Errorf("the client-safe error shows the cause: %v", pub)
	}

	_, err = s.Users().Create(cancelled, newUser(newID(), "alice"))
	if !errors.Is(err, errs.ErrUnavailable) {
		t.Errorf("create with a cancelled context: %v, want ErrUnavailable", err)
	}
}

func TestOpenFailsWithoutServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	// Port 1 on loopback has no CQL server.
	_, err := scylla.Open(ctx, scylla.Config{Hosts: []string{"127.0.0.1:1"},
		ConnectTimeout: time.Second})
	if err == nil {
		t.Fatal("open succeeded without a server")
	}
}

func newID() string { return uuid.Must(uuid.NewV7()).String() }

func newUser(tenantID, username string) store.User {
	return store.User{ID: newID(), TenantID: tenantID, Username: username,
		Status: store.UserActive}
}

func newToken(expires time.Time) store.APIToken {
	id := newID()
	sum := sha256.Sum256([]byte(id))
	return store.APIToken{ID: id, Hash: hex.EncodeToString(sum[:]), Name: "t",
		Subject: "apitoken:" + id, ExpiresAt: expires}
}

// TestUsersFromBeforeTheContactFieldsRead reads a user row as 0001_init
// wrote it, with the columns of 0002 null.
func TestUsersFromBeforeTheContactFieldsRead(t *testing.T) {
	s, cfg := openStore(t)
	ctx := t.Context()
	sess := rawSession(t, cfg)
	defer sess.Close()
	tenant, id := newID(), newID()
	err := sess.Query(`INSERT INTO `+cfg.Keyspace+`.users (tenant_id, id, username, email,
    display_name, status, created_at, updated_at, version)
    VALUES (?, ?, 'old', '', '', 'ACTIVE', ?, ?, 1)`, tenant, id, time.Now(), time.Now()).Exec()
	if err != nil {
		t.Fatal(err)
	}

	u, err := s.Users().Get(ctx, tenant, id)
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	if u.Username != "old" || u.EmailVerified || u.Phone != "" || u.PhoneVerified ||
		u.OrgID != "" {
		t.Errorf("old user reads as %+v", u)
	}
	_, err = s.Credentials().GetPassword(ctx, tenant, id)
	if !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("old user's password: %v, want ErrNotFound", err)
	}
}

// countMigrations is how many migrations the binary carries.
func countMigrations(t *testing.T) int {
	t.Helper()
	files, err := filepath.Glob("migrations/*.cql")
	if err != nil || len(files) == 0 {
		t.Fatalf("no migrations found: %v", err)
	}
	return len(files)
}
