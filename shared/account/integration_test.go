//go:build integration

package account_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gocql/gocql"

	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/store/scylla"
)

// With the integration tag every test of the package runs on Cassandra or
// ScyllaDB (WARD_TEST_CASSANDRA_HOSTS) instead of bolt: one keyspace for
// the run, dropped at its end, each test in tenants of its own. The
// store's clock is the test's clock, as on bolt: it decides expiry.

var (
	cassandra []string
	keyspace  string
)

func TestMain(m *testing.M) {
	v := os.Getenv("WARD_TEST_CASSANDRA_HOSTS")
	if v == "" {
		fmt.Fprintln(os.Stderr, "WARD_TEST_CASSANDRA_HOSTS is not set: the integration "+
			"build runs on Cassandra")
		os.Exit(1)
	}
	cassandra = strings.Split(v, ",")
	b := make([]byte, 8)
	rand.Read(b)
	keyspace = "ward_test_account_" + hex.EncodeToString(b)
	openBackend = openScylla
	code := m.Run()
	dropKeyspace()
	os.Exit(code)
}

// openScylla opens a store on the run's keyspace with the test's clock.
func openScylla(t testing.TB, now func() time.Time) store.Store {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := scylla.Open(ctx, scylla.Config{Hosts: cassandra, Keyspace: keyspace},
		scylla.WithClock(now))
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func dropKeyspace() {
	c := gocql.NewCluster(cassandra...)
	c.Timeout = 30 * time.Second
	sess, err := c.CreateSession()
	if err != nil {
		fmt.Fprintln(os.Stderr, "drop keyspace:", err)
		return
	}
	defer sess.Close()
	if err := sess.Query(`DROP KEYSPACE IF EXISTS ` + keyspace).Exec(); err != nil {
		fmt.Fprintln(os.Stderr, "drop keyspace:", err)
	}
}
