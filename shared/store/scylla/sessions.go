package scylla

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
)

// Sessions live in one partition each (see migrations/0009_sessions.cql),
// written with a TTL that ends at the absolute expiry, rounded up, so that
// the server deletes them. The store's clock hides a session from its idle
// or absolute expiry on; a session that went idle keeps its rows until the
// TTL removes them. Create writes the per-user index row, then the session
// (a lightweight transaction: IDs are unique), then the by-hash row, which
// is the credential (a lightweight transaction: hashes are unique); a
// failure of the last undoes the session. Deletes go the other way: the
// by-hash row first, so that a half-done delete leaves nothing that
// authenticates.
//
// Known shortcoming: as for verifications, the expiry check and the
// compare-and-swap of Update are two steps, so an Update whose read came
// just before the session's end may land up to one round trip after it.

type sessions struct{ s *Store }

// Sessions returns the session store.
func (s *Store) Sessions() store.Sessions { return sessions{s} }

const listSessions = "sessions"

// sessionStatements are the statements of sessions, built once per
// keyspace.
type sessionStatements struct {
	insert, get, update, del         string
	hashInsert, hashGet, hashDelete  string
	userInsert, userList, userDelete string
}

var sessionStatementsByKeyspace sync.Map // keyspace → *sessionStatements

const sessionCols = `tenant_id, id, user_id, token_hash, acr, amr, auth_time, created_at, ` +
	`last_seen_at, idle_ms, expires_at, ip, user_agent, device_id, version`

func (s *Store) sq() *sessionStatements {
	if q, ok := sessionStatementsByKeyspace.Load(s.cfg.Keyspace); ok {
		return q.(*sessionStatements)
	}
	r := strings.NewReplacer("{ks}", s.cfg.Keyspace)
	q := &sessionStatements{
		insert: r.Replace(`INSERT INTO {ks}.sessions (` + sessionCols + `)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) IF NOT EXISTS USING TTL ?`),
		get: r.Replace(`SELECT ` + sessionCols + ` FROM {ks}.sessions
    WHERE tenant_id = ? AND id = ?`),
		update: r.Replace(`UPDATE {ks}.sessions USING TTL ?
    SET acr = ?, amr = ?, auth_time = ?, last_seen_at = ?, version = ?
    WHERE tenant_id = ? AND id = ? IF version = ?`),
		del: r.Replace(`DELETE FROM {ks}.sessions WHERE tenant_id = ? AND id = ? IF EXISTS`),
		hashInsert: r.Replace(`INSERT INTO {ks}.sessions_by_hash (token_hash, tenant_id, id)
    VALUES (?, ?, ?) IF NOT EXISTS USING TTL ?`),
		hashGet: r.Replace(`SELECT tenant_id, id FROM {ks}.sessions_by_hash
    WHERE token_hash = ?`),
		hashDelete: r.Replace(`DELETE FROM {ks}.sessions_by_hash WHERE token_hash = ?
    IF tenant_id = ? AND id = ?`),
		userInsert: r.Replace(`INSERT INTO {ks}.sessions_by_user (tenant_id, user_id, id)
    VALUES (?, ?, ?) USING TTL ?`),
		userList: r.Replace(`SELECT id FROM {ks}.sessions_by_user
    WHERE tenant_id = ? AND user_id = ? AND id > ? LIMIT ?`),
		userDelete: r.Replace(`DELETE FROM {ks}.sessions_by_user
    WHERE tenant_id = ? AND user_id = ? AND id = ?`),
	}
	sessionStatementsByKeyspace.Store(s.cfg.Keyspace, q)
	return q
}

// sessionRow is a row of the sessions table.
type sessionRow struct {
	TenantID   string    `db:"tenant_id"`
	ID         string    `db:"id"`
	UserID     string    `db:"user_id"`
	TokenHash  string    `db:"token_hash"`
	ACR        string    `db:"acr"`
	AMR        []string  `db:"amr"`
	AuthTime   time.Time `db:"auth_time"`
	CreatedAt  time.Time `db:"created_at"`
	LastSeenAt time.Time `db:"last_seen_at"`
	IdleMS     int64     `db:"idle_ms"`
	ExpiresAt  time.Time `db:"expires_at"`
	IP         string    `db:"ip"`
	UserAgent  string    `db:"user_agent"`
	DeviceID   string    `db:"device_id"`
	Version    int64     `db:"version"`
}

func (r sessionRow) session() store.Session {
	s := store.Session{
		ID: r.ID, TenantID: r.TenantID, UserID: r.UserID, TokenHash: r.TokenHash,
		ACR: r.ACR, AMR: r.AMR, AuthTime: r.AuthTime, CreatedAt: r.CreatedAt,
		LastSeenAt: r.LastSeenAt, IdleTimeout: time.Duration(r.IdleMS) * time.Millisecond,
		ExpiresAt: r.ExpiresAt, IP: r.IP, UserAgent: r.UserAgent, DeviceID: r.DeviceID,
		Version: r.Version,
	}
	if len(s.AMR) == 0 {
		s.AMR = nil
	}
	return s
}

func checkSessionIDs(tenantID, id string) error {
	if err := checkID("tenantId", tenantID); err != nil {
		return err
	}
	return checkID("id", id)
}

// readRow reads a session's row whether or not it is gone; ok is false
// when there is none.
func (ss sessions) readRow(ctx context.Context, tenantID, id string) (sessionRow, bool,
	error) {
	var row sessionRow
	err := ss.s.query(ctx, ss.s.sq().get).Bind(tenantID, id).Idempotent(true).GetRelease(&row)
	if isNotFound(err) {
		return sessionRow{}, false, nil
	}
	if err != nil {
		return sessionRow{}, false, ctxErr(ctx, err)
	}
	return row, true, nil
}

// get reads a live session.
func (ss sessions) get(ctx context.Context, tenantID, id string) (store.Session, error) {
	row, ok, err := ss.readRow(ctx, tenantID, id)
	switch {
	case err != nil:
		return store.Session{}, err
	case !ok || row.session().Expired(ss.s.now()):
		return store.Session{}, notFound("session")
	}
	return row.session(), nil
}

func (ss sessions) Create(ctx context.Context, in store.Session) (store.Session, error) {
	s := ss.s
	if err := checkSessionIDs(in.TenantID, in.ID); err != nil {
		return store.Session{}, err
	}
	if err := checkID("userId", in.UserID); err != nil {
		return store.Session{}, err
	}
	now := s.now()
	in, err := store.CheckSession(in, now)
	if err != nil {
		return store.Session{}, err
	}
	in.Version = 1
	ttl, err := ttlSeconds(in.ExpiresAt, now)
	if err != nil {
		return store.Session{}, err
	}

	err = s.query(ctx, s.sq().userInsert).Bind(in.TenantID, in.UserID, in.ID, ttl).
		ExecRelease()
	if err != nil {
		return store.Session{}, ctxErr(ctx, err)
	}
	if err := ss.insertRow(ctx, in, ttl); err != nil {
		return store.Session{}, err
	}
	if err := ss.claimHash(ctx, in, ttl); err != nil {
		ss.undo(ctx, in)
		return store.Session{}, err
	}
	return in, nil
}

// insertRow writes the session's row if its ID is free; a gone session
// holding the ID is removed first.
func (ss sessions) insertRow(ctx context.Context, in store.Session, ttl int) error {
	s := ss.s
	for range 2 {
		var prev sessionRow
		applied, err := s.query(ctx, s.sq().insert).
			Bind(in.TenantID, in.ID, in.UserID, in.TokenHash, in.ACR, in.AMR, in.AuthTime,
				in.CreatedAt, in.LastSeenAt, in.IdleTimeout.Milliseconds(), in.ExpiresAt, in.IP,
				in.UserAgent, in.DeviceID, in.Version, ttl).
			GetCASRelease(&prev)
		if err != nil {
			landed, serr := s.settle(ctx, err, ss.holds(in))
			if serr != nil || !landed {
				return ctxErr(ctx, err)
			}
			return nil
		}
		if applied {
			return nil
		}
		if !prev.session().Expired(s.now()) {
			return conflict("id", "session ID already taken")
		}
		if err := ss.remove(ctx, prev); err != nil && errs.CodeOf(err) != errs.NotFound {
			return err
		}
	}
	return conflict("id", "session ID already taken")
}

// claimHash writes the by-hash row if the hash is free; a hash held by a
// gone or missing session is freed first.
func (ss sessions) claimHash(ctx context.Context, in store.Session, ttl int) error {
	s := ss.s
	for range 2 {
		var prev struct {
			TenantID *string `db:"tenant_id"`
			ID       *string `db:"id"`
		}
		applied, err := s.query(ctx, s.sq().hashInsert).
			Bind(in.TokenHash, in.TenantID, in.ID, ttl).GetCASRelease(&prev)
		if err != nil {
			landed, serr := s.settle(ctx, err, ss.hashNames(in.TokenHash, in.TenantID, in.ID))
			if serr != nil || !landed {
				return ctxErr(ctx, err)
			}
			return nil
		}
		if applied {
			return nil
		}
		if prev.TenantID == nil || prev.ID == nil {
			continue
		}
		holder, ok, err := ss.readRow(ctx, *prev.TenantID, *prev.ID)
		if err != nil {
			return err
		}
		if ok && holder.TokenHash == in.TokenHash && !holder.session().Expired(s.now()) {
			return conflict("tokenHash", "session token hash already taken")
		}
		_, err = s.query(ctx, s.sq().hashDelete).Bind(in.TokenHash, *prev.TenantID, *prev.ID).
			ExecCASRelease()
		if err != nil {
			return ctxErr(ctx, err)
		}
	}
	return conflict("tokenHash", "session token hash already taken")
}

// undo removes the row and index row of a Create that failed after
// writing them. It outlives the caller's cancellation; a failure leaves
// rows that authenticate nothing (there is no by-hash row) until their
// TTL, and is logged.
func (ss sessions) undo(ctx context.Context, in store.Session) {
	s := ss.s
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.Timeout)
	defer cancel()
	if _, err := s.query(ctx, s.sq().del).Bind(in.TenantID, in.ID).ExecCASRelease(); err != nil {
		s.log.Warn("removing a half-created session failed", "err", err)
		return
	}
	err := s.query(ctx, s.sq().userDelete).Bind(in.TenantID, in.UserID, in.ID).ExecRelease()
	if err != nil {
		s.log.Warn("removing a half-created session's index row failed", "err", err)
	}
}

// holds reports, at serial consistency, whether the stored session is
// want as far as a write of it goes (its version and what it changes).
func (ss sessions) holds(want store.Session) func(context.Context) (bool, error) {
	return func(ctx context.Context) (bool, error) {
		var row sessionRow
		err := serial(ss.s.query(ctx, ss.s.sq().get)).Bind(want.TenantID, want.ID).
			GetRelease(&row)
		if isNotFound(err) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		got := row.session()
		return got.Version == want.Version && got.TokenHash == want.TokenHash &&
			got.UserID == want.UserID && got.ACR == want.ACR &&
			slices.Equal(got.AMR, want.AMR) && got.LastSeenAt.Equal(want.LastSeenAt) &&
			got.AuthTime.Equal(want.AuthTime), nil
	}
}

// hashNames reports, at serial consistency, whether hash names session id
// of tenantID.
func (ss sessions) hashNames(hash, tenantID, id string) func(context.Context) (bool, error) {
	return func(ctx context.Context) (bool, error) {
		var row struct {
			TenantID string `db:"tenant_id"`
			ID       string `db:"id"`
		}
		err := serial(ss.s.query(ctx, ss.s.sq().hashGet)).Bind(hash).GetRelease(&row)
		if isNotFound(err) {
			return false, nil
		}
		return err == nil && row.TenantID == tenantID && row.ID == id, err
	}
}

// rowGone reports, at serial consistency, whether a session's row is gone.
func (ss sessions) rowGone(tenantID, id string) func(context.Context) (bool, error) {
	return func(ctx context.Context) (bool, error) {
		var row sessionRow
		err := serial(ss.s.query(ctx, ss.s.sq().get)).Bind(tenantID, id).GetRelease(&row)
		if isNotFound(err) {
			return true, nil
		}
		return false, err
	}
}

func (ss sessions) Get(ctx context.Context, tenantID, id string) (store.Session, error) {
	if err := checkSessionIDs(tenantID, id); err != nil {
		return store.Session{}, err
	}
	return ss.get(ctx, tenantID, id)
}

func (ss sessions) GetByHash(ctx context.Context, hash string) (store.Session, error) {
	if !sha256Hex.MatchString(hash) {
		return store.Session{}, notFound("session")
	}
	var ref struct {
		TenantID string `db:"tenant_id"`
		ID       string `db:"id"`
	}
	err := ss.s.query(ctx, ss.s.sq().hashGet).Bind(hash).Idempotent(true).GetRelease(&ref)
	if isNotFound(err) {
		return store.Session{}, notFound("session")
	}
	if err != nil {
		return store.Session{}, ctxErr(ctx, err)
	}
	got, err := ss.get(ctx, ref.TenantID, ref.ID)
	if err == nil && got.TokenHash != hash {
		return store.Session{}, notFound("session")
	}
	return got, err
}

// ListByUser reads the user's index rows a page at a time and each
// session's row, skipping rows whose session is missing, gone or another
// user's; it reads on until the page is full or the index ends.
func (ss sessions) ListByUser(ctx context.Context, tenantID, userID string, p store.Page) (
	[]store.Session, string, error) {
	if err := checkID("tenantId", tenantID); err != nil {
		return nil, "", err
	}
	if err := checkID("userId", userID); err != nil {
		return nil, "", err
	}
	limit, err := pageLimit(p)
	if err != nil {
		return nil, "", err
	}
	scope := tenantID + "/" + userID
	after, err := decodeCursor(p.After, listSessions, scope)
	if err != nil {
		return nil, "", err
	}
	items := make([]store.Session, 0, limit)
	for {
		ids, err := ss.userIDs(ctx, tenantID, userID, after, limit+1)
		if err != nil {
			return nil, "", err
		}
		for _, id := range ids {
			after = id
			row, ok, err := ss.readRow(ctx, tenantID, id)
			if err != nil {
				return nil, "", err
			}
			if !ok || row.UserID != userID || row.session().Expired(ss.s.now()) {
				continue
			}
			if len(items) == limit {
				// A live session beyond the page: there is a next page.
				return items, encodeCursor(listSessions, scope, items[limit-1].ID), nil
			}
			items = append(items, row.session())
		}
		if len(ids) < limit+1 {
			return items, "", nil
		}
	}
}

// userIDs reads up to n session IDs of the user's index after after.
func (ss sessions) userIDs(ctx context.Context, tenantID, userID, after string, n int) (
	[]string, error) {
	iter := ss.s.query(ctx, ss.s.sq().userList).Bind(tenantID, userID, after, n).
		Idempotent(true).Iter()
	var ids []string
	var id string
	for iter.Scan(&id) {
		ids = append(ids, id)
	}
	if err := iter.Close(); err != nil {
		return nil, ctxErr(ctx, err)
	}
	return ids, nil
}

// Update runs fn on the live session and writes what it may change if the
// version has not moved, with a TTL that still ends at the absolute
// expiry (a write without one would outlive the rest of the row).
func (ss sessions) Update(ctx context.Context, tenantID, id string,
	fn func(store.Session) (store.Session, error)) (store.Session, error) {
	s := ss.s
	if err := checkSessionIDs(tenantID, id); err != nil {
		return store.Session{}, err
	}
	for attempt := range maxCASAttempts {
		backoff(ctx, attempt)
		old, err := ss.get(ctx, tenantID, id)
		if err != nil {
			return store.Session{}, err
		}
		next, err := fn(old)
		if err != nil {
			return store.Session{}, err
		}
		if next, err = store.ChangeSession(old, next); err != nil {
			return store.Session{}, err
		}
		next.Version = old.Version + 1
		ttl, err := ttlSeconds(next.ExpiresAt, s.now())
		if err != nil {
			return store.Session{}, notFound("session")
		}

		var prev struct {
			Version *int64 `db:"version"`
		}
		applied, err := s.query(ctx, s.sq().update).
			Bind(ttl, next.ACR, next.AMR, next.AuthTime, next.LastSeenAt, next.Version,
				tenantID, id, old.Version).
			GetCASRelease(&prev)
		if err != nil {
			if applied, err = s.settle(ctx, err, ss.holds(next)); err != nil {
				return store.Session{}, ctxErr(ctx, err)
			}
			if !applied {
				continue // read again: the session may be gone or changed
			}
		}
		if applied {
			return next, nil
		}
		if prev.Version == nil {
			return store.Session{}, notFound("session")
		}
	}
	return store.Session{}, errs.New(errs.Conflict, "session changed concurrently; try again")
}

func (ss sessions) Delete(ctx context.Context, tenantID, id string) error {
	if err := checkSessionIDs(tenantID, id); err != nil {
		return err
	}
	row, ok, err := ss.readRow(ctx, tenantID, id)
	if err != nil {
		return err
	}
	if !ok {
		return notFound("session")
	}
	live := !row.session().Expired(ss.s.now())
	if err := ss.remove(ctx, row); err != nil {
		return err
	}
	if !live { // deleted all the same, but it was gone already
		return notFound("session")
	}
	return nil
}

// remove deletes a session read from its row: the credential (the
// by-hash row, if it still names this session) first, then the row, then
// the index row. It is ErrNotFound when the row went meanwhile.
func (ss sessions) remove(ctx context.Context, row sessionRow) error {
	s := ss.s
	_, err := s.query(ctx, s.sq().hashDelete).Bind(row.TokenHash, row.TenantID, row.ID).
		ExecCASRelease()
	if err != nil {
		names := ss.hashNames(row.TokenHash, row.TenantID, row.ID)
		freed := func(ctx context.Context) (bool, error) {
			ok, err := names(ctx)
			return !ok, err
		}
		if landed, serr := s.settle(ctx, err, freed); serr != nil || !landed {
			return ctxErr(ctx, err)
		}
	}
	applied, err := s.query(ctx, s.sq().del).Bind(row.TenantID, row.ID).ExecCASRelease()
	if err != nil {
		landed, serr := s.settle(ctx, err, ss.rowGone(row.TenantID, row.ID))
		if serr != nil || !landed {
			return ctxErr(ctx, err)
		}
		applied = true
	}
	err = s.query(ctx, s.sq().userDelete).Bind(row.TenantID, row.UserID, row.ID).ExecRelease()
	if err != nil {
		return ctxErr(ctx, err)
	}
	if !applied {
		return notFound("session")
	}
	return nil
}

// DeleteByUser removes every session the user's index names, a page of
// index rows at a time, and index rows that name nothing.
func (ss sessions) DeleteByUser(ctx context.Context, tenantID, userID string) (
	[]store.Session, error) {
	s := ss.s
	if err := checkID("tenantId", tenantID); err != nil {
		return nil, err
	}
	if err := checkID("userId", userID); err != nil {
		return nil, err
	}
	const pageRows = 100
	var out []store.Session
	after := ""
	for {
		ids, err := ss.userIDs(ctx, tenantID, userID, after, pageRows)
		if err != nil {
			return out, err
		}
		for _, id := range ids {
			after = id
			row, ok, err := ss.readRow(ctx, tenantID, id)
			switch {
			case err != nil:
				return out, err
			case ok && row.UserID == userID:
				err := ss.remove(ctx, row)
				if err != nil && errs.CodeOf(err) != errs.NotFound {
					return out, err
				}
				if err == nil {
					out = append(out, row.session())
				}
			default:
				err := s.query(ctx, s.sq().userDelete).Bind(tenantID, userID, id).ExecRelease()
				if err != nil {
					return out, ctxErr(ctx, err)
				}
			}
		}
		if len(ids) < pageRows {
			return out, nil
		}
	}
}
