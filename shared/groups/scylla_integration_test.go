//go:build integration

package groups_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gocql/gocql"

	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/store/scylla"
)

// With the integration tag the service's tests also run on ScyllaDB (or
// Cassandra) named by WARD_TEST_CASSANDRA_HOSTS, each on a keyspace of
// its own, dropped when it ends.
func init() {
	backends = append(backends, backend{"scylla", openScylla})
}

func openScylla(t *testing.T) store.Store {
	t.Helper()
	v := os.Getenv("WARD_TEST_CASSANDRA_HOSTS")
	if v == "" {
		t.Fatal("WARD_TEST_CASSANDRA_HOSTS is not set")
	}
	b := make([]byte, 8)
	rand.Read(b)
	cfg := scylla.Config{Hosts: strings.Split(v, ","), Keyspace: "ward_test_" + hex.EncodeToString(b)}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	st, err := scylla.Open(ctx, cfg)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() {
		st.Close()
		c := gocql.NewCluster(cfg.Hosts...)
		c.Timeout = 30 * time.Second
		sess, err := c.CreateSession()
		if err != nil {
			t.Errorf("drop keyspace: %v", err)
			return
		}
		defer sess.Close()
		if err := sess.Query(`DROP KEYSPACE IF EXISTS ` + cfg.Keyspace).Exec(); err != nil {
			t.Errorf("drop keyspace %s: %v", cfg.Keyspace, err)
		}
	})
	return st
}
