//go:build integration

package scylla

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gocql/gocql"
	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/wardhq/ward/shared/store"
)

// These tests look behind the conformance suite at the profile fields and
// verifications: rows written before migration 0006 and the TTLs of
// verification rows.

// profileConfig is a configuration naming a keyspace of its own, dropped
// when the test ends.
func profileConfig(t *testing.T) Config {
	t.Helper()
	v := os.Getenv("WARD_TEST_CASSANDRA_HOSTS")
	if v == "" {
		t.Fatal("WARD_TEST_CASSANDRA_HOSTS is not set")
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	cfg, err := Config{Hosts: strings.Split(v, ","),
		Keyspace: "ward_test_" + hex.EncodeToString(b)}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Schema changes can be slow on a busy server.
		slow := cfg
		slow.Timeout = 30 * time.Second
		sess, err := newSession(slow)
		if err != nil {
			t.Errorf("drop keyspace: %v", err)
			return
		}
		defer sess.Close()
		if err := sess.Query(`DROP KEYSPACE IF EXISTS ` + cfg.Keyspace).Exec(); err != nil {
			t.Errorf("drop keyspace: %v", err)
		}
	})
	return cfg
}

func openProfileStore(t *testing.T, cfg Config) *Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := Open(ctx, cfg)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestRowsFromBeforeTheProfileMigrationRead migrates a keyspace up to 0005
// only, writes a tenant and a user as a binary of that schema did, then
// opens the store, which applies 0006, and reads them back.
func TestRowsFromBeforeTheProfileMigrationRead(t *testing.T) {
	cfg := profileConfig(t)
	ctx := t.Context()
	sess, err := newSession(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	srv, err := detectServer(ctx, sess)
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.Query(createKeyspaceCQL(cfg.Keyspace, cfg.Replication, srv)).Exec(); err != nil {
		t.Fatal(err)
	}
	ms, err := loadMigrations(migrationFiles, cfg.Keyspace)
	if err != nil {
		t.Fatal(err)
	}
	var before []migration
	for _, m := range ms {
		if m.Version < 6 {
			before = append(before, m)
		}
	}
	if err := migrate(ctx, sess, cfg.Keyspace, before, "test"); err != nil {
		t.Fatal(err)
	}

	at := time.Date(2029, 3, 4, 5, 6, 7, 890000000, time.UTC)
	tenant, user := uuid.Must(uuid.NewV7()).String(), uuid.Must(uuid.NewV7()).String()
	stmts := []struct {
		cql  string
		args []any
	}{
		{`INSERT INTO ` + cfg.Keyspace + `.tenants (bucket, id, name, display_name, created_at,
    updated_at, version) VALUES (0, ?, 'acme', 'Acme', ?, ?, 3)`, []any{tenant, at, at}},
		{`INSERT INTO ` + cfg.Keyspace + `.users (tenant_id, id, username, email,
    email_verified, phone, phone_verified, display_name, status, org_id, created_at,
    updated_at, version) VALUES (?, ?, 'alice', 'alice@example.com', true, '', false,
    'Alice', 'ACTIVE', '', ?, ?, 2)`, []any{tenant, user, at, at}},
		{`INSERT INTO ` + cfg.Keyspace + `.claims (kind, scope, value, owner)
    VALUES ('tenant.name', 'global', 'acme', ?)`, []any{tenant}},
	}
	for _, st := range stmts {
		if err := sess.Query(st.cql, st.args...).Exec(); err != nil {
			t.Fatal(err)
		}
	}

	s := openProfileStore(t, cfg)
	wantTenant := store.Tenant{ID: tenant, Name: "acme", DisplayName: "Acme",
		CreatedAt: at, UpdatedAt: at, Version: 3}
	for what, get := range map[string]func() (store.Tenant, error){
		"get":         func() (store.Tenant, error) { return s.Tenants().Get(ctx, tenant) },
		"get by name": func() (store.Tenant, error) { return s.Tenants().GetByName(ctx, "acme") },
	} {
		tn, err := get()
		if err != nil {
			t.Fatalf("%s of the old tenant: %v", what, err)
		}
		if diff := cmp.Diff(wantTenant, tn); diff != "" {
			t.Errorf("%s of the old tenant (-want +got):\n%s", what, diff)
		}
	}
	wantUser := store.User{ID: user, TenantID: tenant, Username: "alice",
		Email: "alice@example.com", EmailVerified: true, DisplayName: "Alice",
		Status: store.UserActive, CreatedAt: at, UpdatedAt: at, Version: 2}
	u, err := s.Users().Get(ctx, tenant, user)
	if err != nil {
		t.Fatalf("get the old user: %v", err)
	}
	if diff := cmp.Diff(wantUser, u); diff != "" {
		t.Errorf("old user (-want +got):\n%s", diff)
	}
	items, _, err := s.Users().List(ctx, tenant, store.Page{})
	if err != nil || len(items) != 1 || !cmp.Equal(wantUser, items[0]) {
		t.Errorf("list of old users = %+v, %v; want the one user", items, err)
	}

	updated, err := s.Users().Update(ctx, tenant, user, func(old store.User) (store.User,
		error) {
		old.Attributes = map[string]any{"level": 2.0}
		old.Locale = "fr"
		old.Preferences = map[string]string{"theme": "dark"}
		return old, nil
	})
	if err != nil {
		t.Fatalf("update the old user: %v", err)
	}
	got, err := s.Users().Get(ctx, tenant, user)
	if err != nil || !cmp.Equal(updated, got) || got.Locale != "fr" {
		t.Errorf("user after the update = %+v, %v; want %+v", got, err, updated)
	}
	tn, err := s.Tenants().Update(ctx, tenant, func(old store.Tenant) (store.Tenant, error) {
		old.Registration = store.RegistrationOpen
		return old, nil
	})
	if err != nil || tn.Registration != store.RegistrationOpen {
		t.Errorf("update the old tenant: %+v, %v", tn, err)
	}
}

// TestVerificationRowsCarryTheirTTL checks that both rows of a proof carry
// a TTL ending at its expiry, and that an Update writes its cells with one
// too: cells written without would outlive the rest of the row.
func TestVerificationRowsCarryTheirTTL(t *testing.T) {
	cfg := profileConfig(t)
	s := openProfileStore(t, cfg)
	ctx := t.Context()
	sess, err := newSession(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	ttlOf := func(cql string, args ...any) int {
		t.Helper()
		var ttl *int
		err := sess.Query(cql, args...).Scan(&ttl)
		if err == gocql.ErrNotFound {
			return -1
		}
		if err != nil {
			t.Fatal(err)
		}
		if ttl == nil {
			return 0
		}
		return *ttl
	}

	now := time.Now()
	v, err := s.Verifications().Create(ctx, store.Verification{
		ID: uuid.Must(uuid.NewV7()).String(), TenantID: uuid.Must(uuid.NewV7()).String(),
		UserID: uuid.Must(uuid.NewV7()).String(), Purpose: store.ResetPassword,
		Target:     "alice@example.com",
		SecretHash: "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8",
		CreatedAt:  now, ExpiresAt: now.Add(time.Hour),
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Verifications().Update(ctx, v.TenantID, v.ID, func(old store.Verification) (
		store.Verification, error) {
		old.UsedAt = time.Now()
		old.Attempts = 1
		old.Data = map[string]string{"k": "v"}
		return old, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ks := cfg.Keyspace
	for what, ttl := range map[string]int{
		"target": ttlOf(`SELECT TTL(target) FROM `+ks+`.verifications
    WHERE tenant_id = ? AND id = ?`, v.TenantID, v.ID),
		"used_at": ttlOf(`SELECT TTL(used_at) FROM `+ks+`.verifications
    WHERE tenant_id = ? AND id = ?`, v.TenantID, v.ID),
		"version": ttlOf(`SELECT TTL(version) FROM `+ks+`.verifications
    WHERE tenant_id = ? AND id = ?`, v.TenantID, v.ID),
		"attempts": ttlOf(`SELECT TTL(attempts) FROM `+ks+`.verifications
    WHERE tenant_id = ? AND id = ?`, v.TenantID, v.ID),
	} {
		if ttl < 3580 || ttl > 3602 {
			t.Errorf("TTL of %s = %d, want about 3600", what, ttl)
		}
	}

	// The index row has key columns only, whose TTL CQL does not show:
	// watch a short-lived proof's row go instead.
	now = time.Now()
	short, err := s.Verifications().Create(ctx, store.Verification{
		ID: uuid.Must(uuid.NewV7()).String(), TenantID: v.TenantID, UserID: v.UserID,
		Purpose: store.VerifyEmail, Target: "alice@example.com",
		CodeHash:  "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8",
		CreatedAt: now, ExpiresAt: now.Add(time.Second),
	})
	if err != nil {
		t.Fatal(err)
	}
	indexed := func() bool {
		t.Helper()
		var id string
		err := sess.Query(`SELECT id FROM `+ks+`.verifications_by_user
    WHERE tenant_id = ? AND user_id = ? AND purpose = ? AND id = ?`,
			short.TenantID, short.UserID, string(short.Purpose), short.ID).Scan(&id)
		if err != nil && err != gocql.ErrNotFound {
			t.Fatal(err)
		}
		return err == nil
	}
	if !indexed() {
		t.Fatal("the short-lived proof has no index row")
	}
	time.Sleep(3 * time.Second) // TTL 2 s (1 s rounded up, plus one)
	if indexed() {
		t.Error("the server still has the expired proof's index row")
	}
	if ttl := ttlOf(`SELECT TTL(target) FROM `+ks+`.verifications
    WHERE tenant_id = ? AND id = ?`, short.TenantID, short.ID); ttl != -1 {
		t.Error("the server still has the expired proof's row")
	}
}
