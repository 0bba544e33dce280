// Package bolt is Ward's embedded store backend: one bbolt file, no server.
// It is the default for local runs.
//
// Every operation runs in one bbolt transaction, and bbolt admits one
// writer at a time, so a uniqueness check and the write it guards are
// atomic. Update reads in one transaction, runs fn outside any, and writes
// in a second transaction only if Version is still the one fn saw
// (compare-and-swap); otherwise it reads again and calls fn again.
//
// Expired API tokens are hidden on every read. They are deleted lazily: by
// the read that finds one, and a few at a time by each token Create, through
// an index ordered by expiry.
//
// The file holds these buckets; IDs are keyed as their 16 raw bytes, which
// sort like their text form:
//
//	meta         "schema" → schemaVersion
//	tenants      id → tenant record (JSON)
//	tenantNames  name → id
//	users        tenant id + id → user record
//	userNames    tenant id + folded username → id
//	userEmails   tenant id + folded email → id
//	userCounts   tenant id → number of users (uint64, big endian)
//	credentials  tenant id + user id → password credential (JSON)
//	orgs         tenant id + id → organization record
//	orgNames     tenant id + folded name → id
//	orgChildren  tenant id + parent id (16 zero bytes at top level) + id
//	             → nothing
//	orgUsers     tenant id + organization id + user id → nothing
//	tokens       id → token record
//	tokenScopes  scope + id → nothing (scope: tenant id, or 16 zero bytes
//	             for system tokens)
//	tokenHashes  hash → id
//	tokenExpiry  expiry (Unix ms, uint64, big endian) + id → nothing
//	audit        scope + id → audit event record (scope: tenant id, or 16
//	             zero bytes for system-level events)
//	auditTargets scope + target id + id → nothing
//	groups       tenant id + id → group record
//	groupNames   tenant id + folded name → id
//	groupMembers tenant id + group id + user id → nothing
//	userGroups   tenant id + user id + group id → nothing
//	verifications     tenant id + id → verification record (JSON)
//	verificationUsers tenant id + user id + purpose (one byte) + id
//	                  → nothing
//	verificationExpiry expiry (Unix ms, uint64, big endian) + tenant id
//	                  + id → nothing
//	sessions      tenant id + id → session record (JSON)
//	sessionHashes token hash → tenant id + id
//	sessionUsers  tenant id + user id + id → nothing
//	sessionExpiry absolute expiry (Unix ms, uint64, big endian) + tenant id
//	              + id → nothing
//	factors       tenant id + user id + id → second factor record (JSON)
//	trustedIssuers tenant id → the tenant's trusted issuers (JSON array)
//	signingKeys   tenant id → the tenant's signing key set (JSON; private
//	              keys sealed by package oauth/keys)
//	clients       tenant id + id → OAuth client record (JSON)
//	refresh*      refresh token families and tokens (refreshtokens.go)
package bolt

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	bbolt "go.etcd.io/bbolt"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
)

var _ store.Store = (*Store)(nil)

// schemaVersion names the layout above; Open refuses a file of another.
// Version 2 added the credentials bucket and the users' phone and verified
// flags; Open upgrades a file of version 1 in place, since a version-1
// file is a version-2 file without credentials. An older binary refuses
// the upgraded file rather than drop the fields it does not know.
// Version 3 added organizations and the users' organization; files of
// versions 1 and 2 have neither, and are upgraded in place the same way.
// Version 4 added the audit trail (two new buckets, nothing else).
// Version 5 added groups, verifications and the users' profile fields
// (new buckets, and record fields that older records simply lack).
// Version 6 added tenants' sign-in settings and branding, and the buckets
// of sign-in: sessions, second factors and sign-in history.
const schemaVersion = 6

// upgradableFrom lists the versions Open upgrades to schemaVersion.
var upgradableFrom = []uint64{1, 2, 3, 4, 5}

var (
	bucketMeta         = []byte("meta")
	bucketTenants      = []byte("tenants")
	bucketTenantNames  = []byte("tenantNames")
	bucketUsers        = []byte("users")
	bucketUserNames    = []byte("userNames")
	bucketUserEmails   = []byte("userEmails")
	bucketUserCounts   = []byte("userCounts")
	bucketCredentials  = []byte("credentials")
	bucketTokens       = []byte("tokens")
	bucketTokenScopes  = []byte("tokenScopes")
	bucketTokenHashes  = []byte("tokenHashes")
	bucketTokenExpiry  = []byte("tokenExpiry")
	bucketOrgs         = []byte("orgs")
	bucketOrgNames     = []byte("orgNames")
	bucketOrgChildren  = []byte("orgChildren")
	bucketOrgUsers     = []byte("orgUsers")
	bucketAudit        = []byte("audit")
	bucketAuditTarget  = []byte("auditTargets")
	bucketGroups       = []byte("groups")
	bucketGroupNames   = []byte("groupNames")
	bucketGroupMembers = []byte("groupMembers")
	bucketUserGroups   = []byte("userGroups")
	bucketVerifs       = []byte("verifications")
	bucketVerifUsers   = []byte("verificationUsers")
	bucketVerifExpiry  = []byte("verificationExpiry")
	bucketSignIns      = []byte("signIns")

	allBuckets = [][]byte{
		bucketMeta, bucketTenants, bucketTenantNames, bucketUsers, bucketUserNames,
		bucketUserEmails, bucketUserCounts, bucketCredentials, bucketTokens,
		bucketTokenScopes, bucketTokenHashes, bucketTokenExpiry, bucketOrgs, bucketOrgNames,
		bucketOrgChildren, bucketOrgUsers, bucketAudit, bucketAuditTarget,
		bucketGroups, bucketGroupNames, bucketGroupMembers, bucketUserGroups,
		bucketVerifs, bucketVerifUsers, bucketVerifExpiry,
		bucketSignIns,
		bucketSessions, bucketSessionHashes, bucketSessionUsers, bucketSessionExpiry,
		bucketFactors,
		bucketTrustedIssuers,
		bucketSigningKeys,
		bucketClients,
		bucketRefreshFamilies, bucketRefreshTokens, bucketRefreshFamilyTokens, bucketRefreshUsers,
		bucketRefreshExpiry,
		bucketConsents,
	}
	keySchema = []byte("schema")
)

var (
	bucketSessions      = []byte("sessions")
	bucketSessionHashes = []byte("sessionHashes")
	bucketSessionUsers  = []byte("sessionUsers")
	bucketSessionExpiry = []byte("sessionExpiry")
	bucketFactors       = []byte("factors")
)

// maxKeyLen bounds names, usernames, emails, hashes and roles; the first
// four are keys of the index buckets. maxTextLen bounds other text.
const (
	maxKeyLen  = 512
	maxTextLen = 4096
)

// maxUpdateAttempts bounds how often Update calls fn when other writers
// keep winning the compare-and-swap. Each lost attempt means another
// update landed, so the bound only stops starvation, never livelock.
const maxUpdateAttempts = 1000

// maxBatchDelay is how long a bulk write waits for others to share its
// transaction (bbolt's default, 10 ms, is far longer than a sync here).
const maxBatchDelay = 500 * time.Microsecond

// Store is a store.Store in one bbolt file. It is safe for concurrent use;
// one file is opened by one process at a time.
type Store struct {
	db  *bbolt.DB
	now func() time.Time
}

// Option configures Open.
type Option func(*options)

type options struct {
	now         func() time.Time
	lockTimeout time.Duration
}

// WithClock sets the clock token expiry is judged by (time.Now by default).
func WithClock(now func() time.Time) Option {
	return func(o *options) { o.now = now }
}

// WithLockTimeout sets how long Open waits for another process to release
// the file (one second by default).
func WithLockTimeout(d time.Duration) Option {
	return func(o *options) { o.lockTimeout = d }
}

// Open opens the store in the file at path, creating it if need be.
func Open(path string, opts ...Option) (*Store, error) {
	o := options{now: time.Now, lockTimeout: time.Second}
	for _, opt := range opts {
		opt(&o)
	}

	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: o.lockTimeout})
	if err != nil {
		return nil, errs.Wrap(errs.Unavailable, err, "cannot open the store")
	}
	db.MaxBatchDelay = maxBatchDelay
	if err := db.Update(initSchema); err != nil {
		db.Close()
		return nil, unavailable(err)
	}
	return &Store{db: db, now: o.now}, nil
}

func initSchema(tx *bbolt.Tx) error {
	for _, name := range allBuckets {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return err
		}
	}
	meta := tx.Bucket(bucketMeta)
	v := meta.Get(keySchema)
	if v == nil {
		return meta.Put(keySchema, binary.BigEndian.AppendUint64(nil, schemaVersion))
	}
	if len(v) != 8 {
		return fmt.Errorf("store file has schema %x, want %d", v, schemaVersion)
	}
	switch got := binary.BigEndian.Uint64(v); {
	case got == schemaVersion:
		return nil
	case slices.Contains(upgradableFrom, got):
		// The buckets new since got were created above, in this transaction.
		return meta.Put(keySchema, binary.BigEndian.AppendUint64(nil, schemaVersion))
	default:
		return fmt.Errorf("store file has schema %d, want %d", got, schemaVersion)
	}
}

// Close closes the file. Operations after Close fail with ErrUnavailable.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return unavailable(err)
	}
	return nil
}

func (s *Store) Tenants() store.Tenants         { return tenants{s} }
func (s *Store) Users() store.Users             { return users{s} }
func (s *Store) Credentials() store.Credentials { return credentials{s} }

// Organizations returns the organization store.
func (s *Store) Organizations() store.Organizations { return organizations{s} }
func (s *Store) APITokens() store.APITokens         { return apiTokens{s} }

// Audit returns the audit trail store.
func (s *Store) Audit() store.Audit { return audit{s} }

// view runs fn in a read transaction.
func (s *Store) view(ctx context.Context, fn func(tx *bbolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return errs.Wrap(errs.Unavailable, err, "request ended")
	}
	return coded(s.db.View(fn))
}

// update runs fn in a write transaction; an error from fn rolls it back.
//
// Writes of a bulk operation (store.Bulk) go through bbolt's Batch, which
// commits concurrent writers' functions in one transaction, one sync to
// the disk for all: an import with 16 writers runs about 3.5 times faster.
// Batch waits up to maxBatchDelay for company and may call fn more than
// once; every fn here only changes the transaction and variables it sets
// afresh on each call, so that is safe. Other writes keep Update, without
// the wait.
func (s *Store) update(ctx context.Context, fn func(tx *bbolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return errs.Wrap(errs.Unavailable, err, "request ended")
	}
	if store.Bulk(ctx) {
		return coded(s.db.Batch(fn))
	}
	return coded(s.db.Update(fn))
}

// coded passes coded errors through and turns anything else, which can only
// come from bbolt or the file system, into ErrUnavailable.
func coded(err error) error {
	if err == nil {
		return nil
	}
	var e *errs.Error
	if errors.As(err, &e) {
		return err
	}
	return unavailable(err)
}

func unavailable(err error) error {
	return errs.Wrap(errs.Unavailable, err, "store unavailable")
}

// errLostRace makes Update try again. It never leaves the package: Update
// compares it by identity (errors.Is falls back to identity for an
// errs.Error with a message).
var errLostRace = errs.New(errs.Conflict, "changed concurrently")

// parseID checks an ID: a version-7 UUID in canonical lower-case form.
func parseID(field, s string) (uuid.UUID, error) {
	u, err := uuid.Parse(s)
	if err != nil || len(s) != 36 || u.String() != s || !validID(u) {
		return uuid.UUID{}, errs.Invalid(field, "must be a version-7 UUID in lower-case text form")
	}
	return u, nil
}

func validID(u uuid.UUID) bool { return u.Version() == 7 && u.Variant() == uuid.RFC4122 }

// systemScope stands for the empty tenant ID of system tokens; it is the
// nil UUID, which is never a valid ID.
var systemScope uuid.UUID

// parseScope checks the tenant ID of an API token, which may be empty.
func parseScope(s string) (uuid.UUID, error) {
	if s == "" {
		return systemScope, nil
	}
	return parseID("tenantId", s)
}

func scopeString(scope uuid.UUID) string {
	if scope == systemScope {
		return ""
	}
	return scope.String()
}

// checkKey checks a name that becomes an index key.
func checkKey(field, s string) error {
	if s == "" {
		return errs.Invalid(field, "is required")
	}
	if len(s) > maxKeyLen {
		return errs.Invalid(field, "must be at most %d bytes", maxKeyLen)
	}
	return checkText(field, s)
}

// checkText checks free text. Records are JSON, which would silently
// replace bytes that are not UTF-8, so such text is refused instead.
func checkText(field, s string) error {
	if len(s) > maxTextLen {
		return errs.Invalid(field, "must be at most %d bytes", maxTextLen)
	}
	if !utf8.ValidString(s) {
		return errs.Invalid(field, "must be valid UTF-8")
	}
	return nil
}

// join concatenates key parts into a fresh slice.
func join(parts ...[]byte) []byte {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	k := make([]byte, 0, n)
	for _, p := range parts {
		k = append(k, p...)
	}
	return k
}

// Times are kept as Unix milliseconds.
func toMS(t time.Time) int64    { return t.UnixMilli() }
func fromMS(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// pageLimit checks a page size and applies the default.
func pageLimit(p store.Page) (int, error) {
	switch {
	case p.Limit == 0:
		return store.DefaultPageSize, nil
	case p.Limit < 0 || p.Limit > store.MaxPageSize:
		return 0, errs.Invalid("limit", "must be 1 to %d", store.MaxPageSize)
	}
	return p.Limit, nil
}

// scan visits, in key order, the keys prefix+id of b whose id comes after
// after (all of them when after is nil), until visit returns false.
func scan(b *bbolt.Bucket, prefix []byte, after *uuid.UUID,
	visit func(id uuid.UUID, v []byte) (more bool, err error)) error {
	start := prefix
	if after != nil {
		start = join(prefix, after[:])
	}
	c := b.Cursor()
	for k, v := c.Seek(start); k != nil && hasPrefix(k, prefix); k, v = c.Next() {
		if len(k) != len(prefix)+16 {
			return fmt.Errorf("bucket %s: key of %d bytes", b, len(k))
		}
		id := uuid.UUID(k[len(prefix):])
		if after != nil && id == *after {
			continue
		}
		more, err := visit(id, v)
		if err != nil || !more {
			return err
		}
	}
	return nil
}

func hasPrefix(k, prefix []byte) bool {
	return len(k) >= len(prefix) && string(k[:len(prefix)]) == string(prefix)
}

// decode reads a record; a record that does not decode is a fault of the
// file, not of the caller, so it is ErrUnavailable like any other.
func decode(v []byte, rec any) error {
	if err := json.Unmarshal(v, rec); err != nil {
		return errs.Wrap(errs.Unavailable, err, "corrupt store record")
	}
	return nil
}

// indexID reads the ID an index entry points to.
func indexID(v []byte) (uuid.UUID, error) {
	if len(v) != 16 {
		return uuid.UUID{}, errs.New(errs.Unavailable, "corrupt store index")
	}
	return uuid.UUID(v), nil
}

func encode(rec any) []byte {
	b, err := json.Marshal(rec)
	if err != nil {
		// Records are plain structs of strings and integers.
		panic(fmt.Sprintf("bolt: encode %T: %v", rec, err))
	}
	return b
}

func notFound(what string) error { return errs.New(errs.NotFound, "%s not found", what) }

func conflict(field, format string, args ...any) error {
	return &errs.Error{Code: errs.Conflict, Field: field, Message: fmt.Sprintf(format, args...)}
}
