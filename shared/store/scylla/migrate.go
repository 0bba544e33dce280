package scylla

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gocql/gocql"
)

//go:embed migrations/*.cql
var migrationFiles embed.FS

// migration is one file of migrations/, named NNNN_description.cql.
type migration struct {
	Version    int
	Name       string
	Checksum   string // hex SHA-256 of the file as embedded
	Statements []string
}

var migrationName = regexp.MustCompile(`^([0-9]{4})_[a-z0-9_]+\.cql$`)

// loadMigrations reads and orders the migrations of fsys. Versions start at
// 1 and have no gaps, so a lost file is noticed at build time by the tests.
func loadMigrations(fsys fs.FS, keyspace string) ([]migration, error) {
	names, err := fs.Glob(fsys, "migrations/*.cql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, name := range names {
		base := path.Base(name)
		m := migrationName.FindStringSubmatch(base)
		if m == nil {
			return nil, fmt.Errorf("scylla: migration file %q is not named NNNN_name.cql", base)
		}
		v, _ := strconv.Atoi(m[1])
		src, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(src)
		stmts, err := splitStatements(string(src))
		if err != nil {
			return nil, fmt.Errorf("scylla: migration %s: %w", base, err)
		}
		for i, s := range stmts {
			stmts[i] = strings.ReplaceAll(s, "${keyspace}", keyspace)
		}
		ms = append(ms, migration{
			Version:    v,
			Name:       strings.TrimSuffix(base, ".cql"),
			Checksum:   hex.EncodeToString(sum[:]),
			Statements: stmts,
		})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	for i, m := range ms {
		if m.Version != i+1 {
			return nil, fmt.Errorf("scylla: migration versions must run 1, 2, 3...; "+
				"found %d at position %d", m.Version, i+1)
		}
	}
	return ms, nil
}

// splitStatements drops "--" comment lines and splits the rest into
// statements, each ended by a semicolon at the end of a line. Migrations
// therefore never put "--" or a line-ending ";" inside a string literal.
func splitStatements(src string) ([]string, error) {
	var stmts []string
	var cur strings.Builder
	for _, line := range strings.Split(src, "\n") {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "--") {
			continue
		}
		cur.WriteString(line)
		cur.WriteString("\n")
		if strings.HasSuffix(trimmed, ";") {
			s := strings.TrimSpace(cur.String())
			stmts = append(stmts, strings.TrimSpace(strings.TrimSuffix(s, ";")))
			cur.Reset()
		}
	}
	if strings.TrimSpace(cur.String()) != "" {
		return nil, fmt.Errorf("statement without a closing semicolon")
	}
	if len(stmts) == 0 {
		return nil, fmt.Errorf("no statements")
	}
	return stmts, nil
}

// Migration bookkeeping. schema_migrations records each applied version;
// schema_migration_lock holds at most one row, taken with a lightweight
// transaction, so that of several processes starting at once exactly one
// applies migrations while the others wait. The lock row has a TTL, so a
// process that dies holding it delays the others by lockTTL at most.
const (
	lockTTL      = 120 // seconds
	lockPollBase = 200 * time.Millisecond
)

func bookkeepingDDL(keyspace string) []string {
	return []string{
		`CREATE TABLE IF NOT EXISTS ` + keyspace + `.schema_migrations (
    version    int PRIMARY KEY,
    name       text,
    checksum   text,
    applied_at timestamp
)`,
		`CREATE TABLE IF NOT EXISTS ` + keyspace + `.schema_migration_lock (
    id    text PRIMARY KEY,
    owner text
)`,
	}
}

// migrate applies the migrations that the keyspace lacks, in order. owner
// names this process in the lock row.
//
// The two bookkeeping tables are created with IF NOT EXISTS before any lock
// can exist. On Cassandra before 5.1, two processes creating one table at
// the same instant through different coordinators can leave the nodes
// disagreeing on the table's ID; every later statement of the migrations
// runs under the lock. Start the first deployment of a new keyspace from
// one process, or on one node, to rule that out.
func migrate(ctx context.Context, s *gocql.Session, keyspace string, ms []migration,
	owner string) error {
	for _, stmt := range bookkeepingDDL(keyspace) {
		if err := s.Query(stmt).WithContext(ctx).Exec(); err != nil {
			return fmt.Errorf("scylla: create bookkeeping table: %w", err)
		}
	}

	applied, err := appliedMigrations(ctx, s, keyspace)
	if err != nil {
		return err
	}
	if done, err := checkApplied(ms, applied); err != nil || done {
		return err
	}

	if err := acquireMigrationLock(ctx, s, keyspace, owner); err != nil {
		return err
	}
	defer releaseMigrationLock(s, keyspace, owner)

	// Another process may have finished while we waited for the lock.
	applied, err = appliedMigrations(ctx, s, keyspace)
	if err != nil {
		return err
	}
	if _, err := checkApplied(ms, applied); err != nil {
		return err
	}
	for _, m := range ms {
		if _, ok := applied[m.Version]; ok {
			continue
		}
		if err := renewMigrationLock(ctx, s, keyspace, owner); err != nil {
			return err
		}
		for i, stmt := range m.Statements {
			skip, err := columnExists(ctx, s, keyspace, stmt)
			if err != nil {
				return fmt.Errorf("scylla: migration %s, statement %d: %w", m.Name, i+1, err)
			}
			if skip {
				continue
			}
			if err := s.Query(stmt).WithContext(ctx).Exec(); err != nil {
				return fmt.Errorf("scylla: migration %s, statement %d: %w", m.Name, i+1, err)
			}
		}
		_, err := s.Query(`INSERT INTO `+keyspace+`.schema_migrations
    (version, name, checksum, applied_at) VALUES (?, ?, ?, ?) IF NOT EXISTS`,
			m.Version, m.Name, m.Checksum, time.Now()).WithContext(ctx).
			MapScanCAS(map[string]any{})
		if err != nil {
			return fmt.Errorf("scylla: record migration %s: %w", m.Name, err)
		}
	}
	return nil
}

// addColumn matches the one form of ALTER TABLE that migrations use
// without IF NOT EXISTS: adding one column to a table of the keyspace.
var addColumn = regexp.MustCompile(`^ALTER TABLE (\w+)\.(\w+)\s+ADD\s+(\w+)\s+\w`)

// addedColumn returns the keyspace, table and column that stmt adds, after
// the whole match, or nil when stmt is no plain ADD (ADD IF NOT EXISTS
// needs no help).
func addedColumn(stmt string) []string {
	m := addColumn.FindStringSubmatch(stmt)
	if m == nil || strings.EqualFold(m[3], "if") {
		return nil
	}
	return m
}

// columnExists reports whether stmt adds a column that the table has
// already, so that a migration cut short after an ADD can run again: not
// every server takes ALTER TABLE ... ADD IF NOT EXISTS.
func columnExists(ctx context.Context, s *gocql.Session, keyspace, stmt string) (bool, error) {
	m := addedColumn(stmt)
	if m == nil || m[1] != keyspace {
		return false, nil
	}
	var n int
	err := s.Query(`SELECT COUNT(*) FROM system_schema.columns
    WHERE keyspace_name = ? AND table_name = ? AND column_name = ?`, keyspace, m[2], m[3]).
		WithContext(ctx).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("read system_schema.columns: %w", err)
	}
	return n > 0, nil
}

// appliedMigrations maps each recorded version to its checksum.
func appliedMigrations(ctx context.Context, s *gocql.Session, keyspace string) (
	map[int]string, error) {
	iter := s.Query(`SELECT version, checksum FROM ` + keyspace + `.schema_migrations`).
		WithContext(ctx).Consistency(gocql.LocalSerial).Iter()
	applied := map[int]string{}
	var v int
	var sum string
	for iter.Scan(&v, &sum) {
		applied[v] = sum
	}
	if err := iter.Close(); err != nil {
		return nil, fmt.Errorf("scylla: read schema_migrations: %w", err)
	}
	return applied, nil
}

// checkApplied reports whether every migration is applied, and refuses a
// database whose record of a migration differs from the embedded file: a
// migration, once released, is never edited. Versions newer than this
// binary's are accepted, so that an older binary keeps running during a
// rolling upgrade.
func checkApplied(ms []migration, applied map[int]string) (bool, error) {
	done := true
	for _, m := range ms {
		sum, ok := applied[m.Version]
		if !ok {
			done = false
			continue
		}
		if sum != m.Checksum {
			return false, fmt.Errorf("scylla: migration %s was applied with checksum %s, "+
				"but this binary embeds %s", m.Name, sum, m.Checksum)
		}
	}
	return done, nil
}

func acquireMigrationLock(ctx context.Context, s *gocql.Session, keyspace, owner string) error {
	for {
		prev := map[string]any{}
		applied, err := s.Query(`INSERT INTO `+keyspace+`.schema_migration_lock (id, owner)
    VALUES ('migrate', ?) IF NOT EXISTS USING TTL `+strconv.Itoa(lockTTL), owner).
			WithContext(ctx).MapScanCAS(prev)
		if err != nil {
			return fmt.Errorf("scylla: take migration lock: %w", err)
		}
		if applied || prev["owner"] == owner {
			return nil
		}
		wait := lockPollBase + rand.N(lockPollBase)
		select {
		case <-ctx.Done():
			return fmt.Errorf("scylla: waiting for the migration lock held by %v: %w",
				prev["owner"], ctx.Err())
		case <-time.After(wait):
		}
	}
}

func renewMigrationLock(ctx context.Context, s *gocql.Session, keyspace, owner string) error {
	applied, err := s.Query(`UPDATE `+keyspace+`.schema_migration_lock USING TTL `+
		strconv.Itoa(lockTTL)+` SET owner = ? WHERE id = 'migrate' IF owner = ?`, owner, owner).
		WithContext(ctx).MapScanCAS(map[string]any{})
	if err != nil {
		return fmt.Errorf("scylla: renew migration lock: %w", err)
	}
	if !applied {
		return fmt.Errorf("scylla: migration lock expired while migrating")
	}
	return nil
}

// releaseMigrationLock frees the lock even when the caller's context has
// ended; if it fails, the TTL frees it.
func releaseMigrationLock(s *gocql.Session, keyspace, owner string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, _ = s.Query(`DELETE FROM `+keyspace+`.schema_migration_lock WHERE id = 'migrate'
    IF owner = ?`, owner).WithContext(ctx).MapScanCAS(map[string]any{})
}
