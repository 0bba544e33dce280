package scylla

import (
	"context"
	"errors"

	"github.com/gocql/gocql"
)

// server describes the cluster behind the session.
type server struct {
	// Scylla is true for ScyllaDB, false for Apache Cassandra.
	Scylla bool
	// Tablets is true when the server's keyspaces take the tablets option
	// (ScyllaDB 6.0 and later).
	Tablets bool
	// Release is system.local's release_version. ScyllaDB reports the
	// Cassandra version it is compatible with there, not its own.
	Release string
}

// detectServer tells ScyllaDB from Cassandra by ScyllaDB's own system
// tables: system.scylla_local exists on every ScyllaDB release and on no
// Cassandra; system_schema.scylla_keyspaces gained initial_tablets with
// tablets.
func detectServer(ctx context.Context, s *gocql.Session) (server, error) {
	var srv server
	err := s.Query(`SELECT release_version FROM system.local WHERE key = 'local'`).
		WithContext(ctx).Scan(&srv.Release)
	if err != nil {
		return srv, err
	}

	srv.Scylla, err = probe(ctx, s, `SELECT key FROM system.scylla_local LIMIT 1`)
	if err != nil || !srv.Scylla {
		return srv, err
	}
	srv.Tablets, err = probe(ctx, s,
		`SELECT initial_tablets FROM system_schema.scylla_keyspaces LIMIT 1`)
	return srv, err
}

// probe runs a query that fails with an invalid-request error when the table
// or column it names does not exist, and reports whether it exists.
func probe(ctx context.Context, s *gocql.Session, stmt string) (bool, error) {
	iter := s.Query(stmt).WithContext(ctx).Iter()
	err := iter.Close()
	if err == nil {
		return true, nil
	}
	var reqErr gocql.RequestError
	if errors.As(err, &reqErr) && reqErr.Code() == gocql.ErrCodeInvalid {
		return false, nil
	}
	return false, err
}

// createKeyspaceCQL returns the statement that creates the keyspace when it
// is missing. On ScyllaDB with tablets the keyspace opts out of them:
// lightweight transactions, on which Ward's uniqueness rests, are not
// supported in tablet keyspaces by recent ScyllaDB releases.
func createKeyspaceCQL(keyspace string, r Replication, srv server) string {
	stmt := "CREATE KEYSPACE IF NOT EXISTS " + keyspace +
		" WITH replication = " + r.cql() + " AND durable_writes = true"
	if srv.Scylla && srv.Tablets {
		stmt += " AND tablets = {'enabled': false}"
	}
	return stmt
}
