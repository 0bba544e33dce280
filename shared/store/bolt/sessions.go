package bolt

import (
	"context"
	"encoding/binary"
	"errors"
	"slices"
	"time"

	"github.com/google/uuid"
	bbolt "go.etcd.io/bbolt"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
)

// Sessions are hidden on every read once the store's clock reaches their
// idle or absolute expiry. They are deleted lazily: the read that finds a
// gone one deletes it, and each Create deletes a few whose absolute expiry
// has passed, through an index ordered by it. A session that went idle and
// is never read again stays in the file until its absolute expiry.

type sessions struct{ s *Store }

// Sessions returns the session store.
func (s *Store) Sessions() store.Sessions { return sessions{s} }

// listSessions is the kind of a user's session listing (a bound cursor:
// scope the tenant, bind the user).
const listSessions listKind = 104

type sessionRec struct {
	UserID   string   `json:"u"`
	Hash     string   `json:"h"`
	ACR      string   `json:"acr"`
	AMR      []string `json:"amr,omitempty"`
	Auth     int64    `json:"at"` // Unix ms, like the other times
	Created  int64    `json:"c"`
	Seen     int64    `json:"s"`
	Idle     int64    `json:"i"` // milliseconds
	Expires  int64    `json:"e"`
	IP       string   `json:"ip,omitempty"`
	Agent    string   `json:"ua,omitempty"`
	DeviceID string   `json:"d,omitempty"`
	Version  int64    `json:"v"`
}

func sessionRecOf(s store.Session) sessionRec {
	return sessionRec{
		UserID: s.UserID, Hash: s.TokenHash, ACR: s.ACR, AMR: slices.Clone(s.AMR),
		Auth: toMS(s.AuthTime), Created: toMS(s.CreatedAt), Seen: toMS(s.LastSeenAt),
		Idle: s.IdleTimeout.Milliseconds(), Expires: toMS(s.ExpiresAt), IP: s.IP,
		Agent: s.UserAgent, DeviceID: s.DeviceID, Version: s.Version,
	}
}

func (r sessionRec) session(tenant, id uuid.UUID) store.Session {
	return store.Session{
		ID: id.String(), TenantID: tenant.String(), UserID: r.UserID, TokenHash: r.Hash,
		ACR: r.ACR, AMR: slices.Clone(r.AMR), AuthTime: fromMS(r.Auth),
		CreatedAt: fromMS(r.Created), LastSeenAt: fromMS(r.Seen),
		IdleTimeout: time.Duration(r.Idle) * time.Millisecond, ExpiresAt: fromMS(r.Expires),
		IP: r.IP, UserAgent: r.Agent, DeviceID: r.DeviceID, Version: r.Version,
	}
}

// gone reports whether the session is over at now; times are whole
// milliseconds, so comparing the clock's millisecond is exact.
func (r sessionRec) gone(now time.Time) bool {
	ms := now.UnixMilli()
	return ms >= r.Expires || ms >= r.Seen+r.Idle
}

func sessionKey(tenant, id uuid.UUID) []byte { return join(tenant[:], id[:]) }

func sessionUserKey(tenant uuid.UUID, r sessionRec, id uuid.UUID) []byte {
	user := uuid.MustParse(r.UserID)
	return join(tenant[:], user[:], id[:])
}

func sessionExpiryKey(ms int64, tenant, id uuid.UUID) []byte {
	return join(binary.BigEndian.AppendUint64(nil, uint64(ms)), tenant[:], id[:])
}

func getSession(tx *bbolt.Tx, tenant, id uuid.UUID) (rec sessionRec, ok bool, err error) {
	v := tx.Bucket(bucketSessions).Get(sessionKey(tenant, id))
	if v == nil {
		return sessionRec{}, false, nil
	}
	err = decode(v, &rec)
	return rec, err == nil, err
}

func putSession(tx *bbolt.Tx, tenant, id uuid.UUID, rec sessionRec) error {
	if err := tx.Bucket(bucketSessions).Put(sessionKey(tenant, id), encode(rec)); err != nil {
		return err
	}
	if err := tx.Bucket(bucketSessionHashes).Put([]byte(rec.Hash),
		sessionKey(tenant, id)); err != nil {
		return err
	}
	if err := tx.Bucket(bucketSessionUsers).Put(sessionUserKey(tenant, rec, id), nil); err != nil {
		return err
	}
	return tx.Bucket(bucketSessionExpiry).Put(sessionExpiryKey(rec.Expires, tenant, id), nil)
}

func deleteSession(tx *bbolt.Tx, tenant, id uuid.UUID, rec sessionRec) error {
	if err := tx.Bucket(bucketSessions).Delete(sessionKey(tenant, id)); err != nil {
		return err
	}
	hashes := tx.Bucket(bucketSessionHashes)
	if v := hashes.Get([]byte(rec.Hash)); string(v) == string(sessionKey(tenant, id)) {
		if err := hashes.Delete([]byte(rec.Hash)); err != nil {
			return err
		}
	}
	if err := tx.Bucket(bucketSessionUsers).Delete(sessionUserKey(tenant, rec, id)); err != nil {
		return err
	}
	return tx.Bucket(bucketSessionExpiry).Delete(sessionExpiryKey(rec.Expires, tenant, id))
}

// sweepSessions deletes up to max sessions whose absolute expiry has
// passed at now, oldest first.
func sweepSessions(tx *bbolt.Tx, now time.Time, max int) error {
	for _, g := range expiredKeys(tx.Bucket(bucketSessionExpiry), now, max) {
		rec, ok, err := getSession(tx, g.tenant, g.id)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if err := deleteSession(tx, g.tenant, g.id, rec); err != nil {
			return err
		}
	}
	return nil
}

// drop deletes a session a read found gone, if it is gone still. Best
// effort, like apiTokens.sweep: the read has already hidden it.
func (ss sessions) drop(ctx context.Context, tenant, id uuid.UUID) {
	_ = ss.s.update(ctx, func(tx *bbolt.Tx) error {
		rec, ok, err := getSession(tx, tenant, id)
		if err != nil || !ok || !rec.gone(ss.s.now()) {
			return err
		}
		return deleteSession(tx, tenant, id, rec)
	})
}

// evictGone makes room for a new session: it deletes session id of tenant
// if it is gone and fails with errTaken if it is live.
func evictGone(tx *bbolt.Tx, now time.Time, tenant, id uuid.UUID) error {
	rec, ok, err := getSession(tx, tenant, id)
	if err != nil || !ok {
		return err
	}
	if !rec.gone(now) {
		return errTaken
	}
	return deleteSession(tx, tenant, id, rec)
}

// sessionIndexKey reads what the hash index points to: tenant and ID.
func sessionIndexKey(v []byte) (tenant, id uuid.UUID, err error) {
	if len(v) != 32 {
		return tenant, id, errs.New(errs.Unavailable, "corrupt store index")
	}
	return uuid.UUID(v[:16]), uuid.UUID(v[16:]), nil
}

func (ss sessions) Create(ctx context.Context, in store.Session) (store.Session, error) {
	tenant, id, err := parseVerifIDs(in.TenantID, in.ID)
	if err != nil {
		return store.Session{}, err
	}
	if _, err := parseID("userId", in.UserID); err != nil {
		return store.Session{}, err
	}
	now := ss.s.now()
	in, err = store.CheckSession(in, now)
	if err != nil {
		return store.Session{}, err
	}
	in.Version = 1
	rec := sessionRecOf(in)

	err = ss.s.update(ctx, func(tx *bbolt.Tx) error {
		if err := sweepSessions(tx, now, sweepBatch); err != nil {
			return err
		}
		err := evictGone(tx, now, tenant, id)
		if errors.Is(err, errTaken) {
			return conflict("id", "a session with this ID exists")
		}
		if err != nil {
			return err
		}
		if v := tx.Bucket(bucketSessionHashes).Get([]byte(rec.Hash)); v != nil {
			ot, oid, err := sessionIndexKey(v)
			if err != nil {
				return err
			}
			err = evictGone(tx, now, ot, oid)
			if errors.Is(err, errTaken) {
				return conflict("tokenHash", "a session with this token hash exists")
			}
			if err != nil {
				return err
			}
		}
		return putSession(tx, tenant, id, rec)
	})
	if err != nil {
		return store.Session{}, err
	}
	return rec.session(tenant, id), nil
}

func (ss sessions) Get(ctx context.Context, tenantID, id string) (store.Session, error) {
	tenant, sid, err := parseVerifIDs(tenantID, id)
	if err != nil {
		return store.Session{}, err
	}
	return ss.get(ctx, tenant, sid)
}

func (ss sessions) get(ctx context.Context, tenant, id uuid.UUID) (store.Session, error) {
	rec, sawGone, err := getLive(ctx, ss.s, bucketSessions, sessionKey(tenant, id), "session",
		sessionRec.gone)
	if sawGone {
		ss.drop(ctx, tenant, id)
	}
	if err != nil {
		return store.Session{}, err
	}
	return rec.session(tenant, id), nil
}

// getLive reads the record at key of bucket in a read transaction: ErrNotFound
// (naming what) when it is missing or gone at the store's clock, and then
// sawGone reports whether it was there but gone, for the caller to clean
// up.
func getLive[R any](ctx context.Context, s *Store, bucket, key []byte, what string,
	gone func(R, time.Time) bool) (rec R, sawGone bool, err error) {
	now := s.now()
	err = s.view(ctx, func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucket).Get(key)
		if v == nil {
			return notFound(what)
		}
		if err := decode(v, &rec); err != nil {
			return err
		}
		if gone(rec, now) {
			sawGone = true
			return notFound(what)
		}
		return nil
	})
	return rec, sawGone, err
}

func (ss sessions) GetByHash(ctx context.Context, hash string) (store.Session, error) {
	if hash == "" || len(hash) > maxKeyLen {
		return store.Session{}, notFound("session")
	}
	var tenant, id uuid.UUID
	err := ss.s.view(ctx, func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketSessionHashes).Get([]byte(hash))
		if v == nil {
			return notFound("session")
		}
		var err error
		tenant, id, err = sessionIndexKey(v)
		return err
	})
	if err != nil {
		return store.Session{}, err
	}
	out, err := ss.get(ctx, tenant, id)
	if err == nil && out.TokenHash != hash {
		// Replaced between the two reads by a session of the same ID.
		return store.Session{}, notFound("session")
	}
	return out, err
}

func (ss sessions) ListByUser(ctx context.Context, tenantID, userID string,
	p store.Page) ([]store.Session, string, error) {
	tenant, err := parseID("tenantId", tenantID)
	if err != nil {
		return nil, "", err
	}
	user, err := parseID("userId", userID)
	if err != nil {
		return nil, "", err
	}
	limit, err := pageLimit(p)
	if err != nil {
		return nil, "", err
	}
	last, err := boundAfter(p.After, listSessions, tenant, user)
	if err != nil {
		return nil, "", err
	}

	now := ss.s.now()
	var items []store.Session
	var gone []uuid.UUID
	err = ss.s.view(ctx, func(tx *bbolt.Tx) error {
		prefix := join(tenant[:], user[:])
		return scan(tx.Bucket(bucketSessionUsers), prefix, last,
			func(id uuid.UUID, _ []byte) (bool, error) {
				rec, ok, err := getSession(tx, tenant, id)
				switch {
				case err != nil:
					return false, err
				case !ok:
					return false, errs.New(errs.Unavailable, "session user index is out of step")
				case rec.gone(now):
					gone = append(gone, id)
					return true, nil
				}
				items = append(items, rec.session(tenant, id))
				return len(items) <= limit, nil
			})
	})
	for _, id := range gone {
		ss.drop(ctx, tenant, id)
	}
	if err != nil {
		return nil, "", err
	}
	if len(items) <= limit {
		return items, "", nil
	}
	items = items[:limit]
	next := boundCursor{kind: listSessions, scope: tenant, bind: user,
		last: uuid.MustParse(items[limit-1].ID)}
	return items, next.String(), nil
}

// Update writes fn's changes if the version has not moved and the session
// is not gone meanwhile; bbolt's single writer makes the check and the
// write atomic.
func (ss sessions) Update(ctx context.Context, tenantID, id string,
	fn func(store.Session) (store.Session, error)) (store.Session, error) {
	tenant, sid, err := parseVerifIDs(tenantID, id)
	if err != nil {
		return store.Session{}, err
	}

	for range maxUpdateAttempts {
		old, err := ss.get(ctx, tenant, sid)
		if err != nil {
			return store.Session{}, err
		}
		next, err := fn(old)
		if err != nil {
			return store.Session{}, err
		}
		next, err = store.ChangeSession(old, next)
		if err != nil {
			return store.Session{}, err
		}
		next.Version = old.Version + 1

		rec := sessionRecOf(next)
		err = ss.s.update(ctx, func(tx *bbolt.Tx) error {
			cur, ok, err := getSession(tx, tenant, sid)
			switch {
			case err != nil:
				return err
			case !ok || cur.gone(ss.s.now()):
				return notFound("session")
			case cur.Version != old.Version:
				return errLostRace
			}
			return tx.Bucket(bucketSessions).Put(sessionKey(tenant, sid), encode(rec))
		})
		if errors.Is(err, errLostRace) {
			continue
		}
		if err != nil {
			return store.Session{}, err
		}
		return next, nil
	}
	return store.Session{}, errs.New(errs.Conflict, "session changed too often concurrently")
}

func (ss sessions) Delete(ctx context.Context, tenantID, id string) error {
	tenant, sid, err := parseVerifIDs(tenantID, id)
	if err != nil {
		return err
	}
	now := ss.s.now()
	found := false
	err = ss.s.update(ctx, func(tx *bbolt.Tx) error {
		rec, ok, err := getSession(tx, tenant, sid)
		if err != nil || !ok {
			return err
		}
		// A gone session is deleted all the same, but as far as the
		// caller can tell it was gone already.
		found = !rec.gone(now)
		return deleteSession(tx, tenant, sid, rec)
	})
	if err != nil {
		return err
	}
	if !found {
		return notFound("session")
	}
	return nil
}

// DeleteByUser deletes, in one transaction, the sessions the per-user
// index names.
func (ss sessions) DeleteByUser(ctx context.Context, tenantID, userID string) (
	[]store.Session, error) {
	tenant, err := parseID("tenantId", tenantID)
	if err != nil {
		return nil, err
	}
	user, err := parseID("userId", userID)
	if err != nil {
		return nil, err
	}

	var out []store.Session
	err = ss.s.update(ctx, func(tx *bbolt.Tx) error {
		out = nil
		var ids []uuid.UUID
		err := scan(tx.Bucket(bucketSessionUsers), join(tenant[:], user[:]), nil,
			func(id uuid.UUID, _ []byte) (bool, error) {
				ids = append(ids, id)
				return true, nil
			})
		if err != nil {
			return err
		}
		// Deleting while a cursor walks the bucket would move the cursor.
		for _, id := range ids {
			rec, ok, err := getSession(tx, tenant, id)
			if err != nil {
				return err
			}
			if !ok {
				return errs.New(errs.Unavailable, "session user index is out of step")
			}
			if err := deleteSession(tx, tenant, id, rec); err != nil {
				return err
			}
			out = append(out, rec.session(tenant, id))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
