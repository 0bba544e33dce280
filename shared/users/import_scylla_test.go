//go:build integration

package users

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gocql/gocql"

	"github.com/wardhq/ward/shared/store/scylla"
)

// BenchmarkImportChunkCassandra is BenchmarkImportChunk on the Cassandra
// backend (WARD_TEST_CASSANDRA_HOSTS), each size on a keyspace of its own
// that is dropped afterwards.
func BenchmarkImportChunkCassandra(b *testing.B) {
	hosts := os.Getenv("WARD_TEST_CASSANDRA_HOSTS")
	if hosts == "" {
		b.Fatal("WARD_TEST_CASSANDRA_HOSTS is not set")
	}
	benchImportChunk(b, []int{4, 8, 16, 32}, func(t testing.TB) *importFixture {
		r := make([]byte, 8)
		_, _ = rand.Read(r)
		cfg := scylla.Config{Hosts: strings.Split(hosts, ","),
			Keyspace: "ward_test_" + hex.EncodeToString(r)}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		st, err := scylla.Open(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			st.Close()
			cl := gocql.NewCluster(cfg.Hosts...)
			cl.Timeout = time.Minute
			if sess, err := cl.CreateSession(); err == nil {
				_ = sess.Query("DROP KEYSPACE IF EXISTS " + cfg.Keyspace).Exec()
				sess.Close()
			}
		})
		return setupImportOn(t, st)
	})
}
