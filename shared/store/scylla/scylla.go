// Package scylla is Ward's store backend on ScyllaDB, and on Apache
// Cassandra 5, with gocqlx.
//
// Uniqueness (tenant names; usernames and emails per tenant; API token
// hashes) rests on lightweight transactions: claim rows taken with
// INSERT ... IF NOT EXISTS, and compare-and-swap updates with
// UPDATE ... IF version = ?. Every write to a table with uniqueness or
// versions is a lightweight transaction, so the Paxos-ordered writes are
// never mixed with writes ordered by client timestamps. The credentials
// table has neither and is written plainly, last write wins; no
// lightweight transaction ever touches it. On ScyllaDB the keyspace is created without tablets, which
// recent releases require for lightweight transactions.
//
// The schema is a list of embedded migrations (migrations/NNNN_name.cql)
// applied by Open in order under a lock and recorded in schema_migrations.
//
// A lightweight transaction that times out may or may not have landed; the
// store then reads the row at serial consistency, which settles any Paxos
// round in flight, and reports the write's true outcome.
//
// Limits, by design:
//   - All tenants share one partition, and each tenant's users share one
//     partition (see migrations/0001_init.cql), so compare-and-swap writes
//     to tenants, or to one tenant's users, are serialised; Users.Count
//     reads the tenant's whole partition.
//   - Times are kept to the millisecond, in UTC (CQL timestamps).
//   - A claim left behind by a process that died mid-write keeps its value
//     taken for up to five minutes (claimGrace) before another write may
//     take it over.
package scylla

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/gocql/gocql"
	"github.com/scylladb/gocqlx/v2"

	"github.com/wardhq/ward/shared/store"
)

var _ store.Store = (*Store)(nil)

// Store is a store.Store on a ScyllaDB or Cassandra cluster. It is safe for
// concurrent use.
type Store struct {
	sess gocqlx.Session
	cfg  Config
	srv  server
	now  func() time.Time
	log  *slog.Logger
	q    statements
}

// Option changes how Open builds a Store.
type Option func(*Store)

// WithClock sets the clock that decides whether an API token has expired
// (default time.Now). The server's TTL, which deletes expired token rows,
// follows the server's own clock regardless; the store never returns a
// token its clock calls expired. Timestamps of entities are the caller's.
func WithClock(now func() time.Time) Option {
	return func(s *Store) { s.now = now }
}

// Open connects to the cluster, creates the keyspace when it is missing and
// brings its schema up to date.
func Open(ctx context.Context, cfg Config, opts ...Option) (*Store, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Store{cfg: cfg, now: time.Now, log: cfg.Logger}
	for _, o := range opts {
		o(s)
	}

	sess, err := newSession(cfg)
	if err != nil {
		return nil, fmt.Errorf("scylla: connect to %s: %w", strings.Join(cfg.Hosts, ","), err)
	}
	if err := s.setUp(ctx, sess); err != nil {
		sess.Close()
		return nil, err
	}
	s.sess = gocqlx.NewSession(sess)
	s.q = newStatements(cfg.Keyspace)
	return s, nil
}

func newSession(cfg Config) (*gocql.Session, error) {
	c := gocql.NewCluster(cfg.Hosts...)
	c.Consistency = cfg.Consistency
	c.SerialConsistency = gocql.LocalSerial
	c.ConnectTimeout = cfg.ConnectTimeout
	c.Timeout = cfg.Timeout
	c.WriteTimeout = cfg.Timeout
	c.Logger = slogAdapter{cfg.Logger}
	if cfg.Username != "" {
		c.Authenticator = gocql.PasswordAuthenticator{
			Username: cfg.Username,
			Password: cfg.Password,
		}
	}
	var fallback gocql.HostSelectionPolicy = gocql.RoundRobinHostPolicy()
	if cfg.LocalDC != "" {
		fallback = gocql.DCAwareRoundRobinPolicy(cfg.LocalDC)
	}
	c.PoolConfig.HostSelectionPolicy = gocql.TokenAwareHostPolicy(fallback)
	return c.CreateSession()
}

func (s *Store) setUp(ctx context.Context, sess *gocql.Session) error {
	srv, err := detectServer(ctx, sess)
	if err != nil {
		return fmt.Errorf("scylla: detect server: %w", err)
	}
	s.srv = srv
	stmt := createKeyspaceCQL(s.cfg.Keyspace, s.cfg.Replication, srv)
	if err := sess.Query(stmt).WithContext(ctx).Exec(); err != nil {
		return fmt.Errorf("scylla: create keyspace %s: %w", s.cfg.Keyspace, err)
	}
	ms, err := loadMigrations(migrationFiles, s.cfg.Keyspace)
	if err != nil {
		return err
	}
	return migrate(ctx, sess, s.cfg.Keyspace, ms, processID())
}

// processID names this process in the migration lock.
func processID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Tenants returns the tenant store.
func (s *Store) Tenants() store.Tenants { return tenants{s} }

// Users returns the user store.
func (s *Store) Users() store.Users { return users{s} }

// Organizations returns the organization store.
func (s *Store) Organizations() store.Organizations { return organizations{s} }

// Credentials returns the credential store.
func (s *Store) Credentials() store.Credentials { return credentials{s} }

// APITokens returns the API token store.
func (s *Store) APITokens() store.APITokens { return apiTokens{s} }

// Audit returns the audit trail store.
func (s *Store) Audit() store.Audit { return audit{s} }

// Close closes the session.
func (s *Store) Close() error {
	s.sess.Close()
	return nil
}

// ServerIsScylla reports whether Open found ScyllaDB (true) or Cassandra.
func (s *Store) ServerIsScylla() bool { return s.srv.Scylla }

// ServerRelease is the release_version the server reports.
func (s *Store) ServerRelease() string { return s.srv.Release }

// slogAdapter gives the driver's log lines to slog at warning level: the
// driver logs only trouble (lost connections, failed reconnects).
type slogAdapter struct{ l *slog.Logger }

func (a slogAdapter) Print(v ...any) {
	a.l.Warn(strings.TrimSpace(fmt.Sprint(v...)), "component", "gocql")
}
func (a slogAdapter) Printf(format string, v ...any) {
	a.l.Warn(strings.TrimSpace(fmt.Sprintf(format, v...)), "component", "gocql")
}
func (a slogAdapter) Println(v ...any) {
	a.l.Warn(strings.TrimSpace(fmt.Sprintln(v...)), "component", "gocql")
}
