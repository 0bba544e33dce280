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

// sweepBatch bounds how many expired tokens one sweep deletes, so that a
// backlog never makes a single call slow.
const sweepBatch = 64

// maxRoles bounds the roles of one token.
const maxRoles = 64

type apiTokens struct{ s *Store }

type tokenRec struct {
	Hash     string   `json:"h"`
	Name     string   `json:"n,omitempty"`
	Subject  string   `json:"s,omitempty"`
	TenantID string   `json:"t,omitempty"`
	Roles    []string `json:"r,omitempty"`
	Orgs     []string `json:"o,omitempty"`
	Created  int64    `json:"c"`
	Expires  int64    `json:"e,omitempty"` // Unix ms; zero: never
}

func (r tokenRec) token(id uuid.UUID) store.APIToken {
	t := store.APIToken{
		ID: id.String(), Hash: r.Hash, Name: r.Name, Subject: r.Subject, TenantID: r.TenantID,
		Roles: slices.Clone(r.Roles), Orgs: slices.Clone(r.Orgs), CreatedAt: fromMS(r.Created),
	}
	if r.Expires != 0 {
		t.ExpiresAt = fromMS(r.Expires)
	}
	return t
}

// expired reports whether the token is gone at now: once the clock reaches
// ExpiresAt. Expires is whole milliseconds, so comparing the clock's
// millisecond, rounded down, is exact.
func (r tokenRec) expired(now time.Time) bool {
	return r.Expires != 0 && now.UnixMilli() >= r.Expires
}

func (r tokenRec) scope() uuid.UUID {
	if r.TenantID == "" {
		return systemScope
	}
	return uuid.MustParse(r.TenantID)
}

func expiryKey(ms int64, id uuid.UUID) []byte {
	return join(binary.BigEndian.AppendUint64(nil, uint64(ms)), id[:])
}

func getToken(tx *bbolt.Tx, id uuid.UUID) (rec tokenRec, ok bool, err error) {
	v := tx.Bucket(bucketTokens).Get(id[:])
	if v == nil {
		return tokenRec{}, false, nil
	}
	err = decode(v, &rec)
	return rec, err == nil, err
}

func putToken(tx *bbolt.Tx, id uuid.UUID, rec tokenRec) error {
	if err := tx.Bucket(bucketTokens).Put(id[:], encode(rec)); err != nil {
		return err
	}
	scope := rec.scope()
	if err := tx.Bucket(bucketTokenScopes).Put(join(scope[:], id[:]), nil); err != nil {
		return err
	}
	if err := tx.Bucket(bucketTokenHashes).Put([]byte(rec.Hash), id[:]); err != nil {
		return err
	}
	if rec.Expires == 0 {
		return nil
	}
	return tx.Bucket(bucketTokenExpiry).Put(expiryKey(rec.Expires, id), nil)
}

func deleteToken(tx *bbolt.Tx, id uuid.UUID, rec tokenRec) error {
	if err := tx.Bucket(bucketTokens).Delete(id[:]); err != nil {
		return err
	}
	scope := rec.scope()
	if err := tx.Bucket(bucketTokenScopes).Delete(join(scope[:], id[:])); err != nil {
		return err
	}
	hashes := tx.Bucket(bucketTokenHashes)
	if v := hashes.Get([]byte(rec.Hash)); string(v) == string(id[:]) {
		if err := hashes.Delete([]byte(rec.Hash)); err != nil {
			return err
		}
	}
	if rec.Expires == 0 {
		return nil
	}
	return tx.Bucket(bucketTokenExpiry).Delete(expiryKey(rec.Expires, id))
}

// sweepExpired deletes up to max tokens expired at now, oldest first.
func sweepExpired(tx *bbolt.Tx, now time.Time, max int) error {
	var ids []uuid.UUID
	c := tx.Bucket(bucketTokenExpiry).Cursor()
	for k, _ := c.First(); k != nil && len(ids) < max; k, _ = c.Next() {
		if len(k) != 8+16 || int64(binary.BigEndian.Uint64(k)) > now.UnixMilli() {
			break
		}
		ids = append(ids, uuid.UUID(k[8:]))
	}
	for _, id := range ids {
		rec, ok, err := getToken(tx, id)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if err := deleteToken(tx, id, rec); err != nil {
			return err
		}
	}
	return nil
}

// sweep deletes expired tokens after a read came across one. It is best
// effort: the read has already hidden the token, and a failed sweep leaves
// it to the next one.
func (ts apiTokens) sweep(ctx context.Context) {
	_ = ts.s.update(ctx, func(tx *bbolt.Tx) error {
		return sweepExpired(tx, ts.s.now(), sweepBatch)
	})
}

func (ts apiTokens) Create(ctx context.Context, t store.APIToken) (store.APIToken, error) {
	id, err := parseID("id", t.ID)
	if err != nil {
		return store.APIToken{}, err
	}
	if _, err := parseScope(t.TenantID); err != nil {
		return store.APIToken{}, err
	}
	if err := checkToken(t); err != nil {
		return store.APIToken{}, err
	}
	rec := tokenRec{
		Hash: t.Hash, Name: t.Name, Subject: t.Subject, TenantID: t.TenantID,
		Roles: slices.Clone(t.Roles), Orgs: slices.Clone(t.Orgs), Created: toMS(t.CreatedAt),
	}
	now := ts.s.now()
	if !t.ExpiresAt.IsZero() {
		rec.Expires = toMS(t.ExpiresAt)
		if rec.Expires == 0 || rec.expired(now) {
			return store.APIToken{}, errs.Invalid("expiresAt", "is already past")
		}
	}

	err = ts.s.update(ctx, func(tx *bbolt.Tx) error {
		if err := sweepExpired(tx, now, sweepBatch); err != nil {
			return err
		}
		err := evictExpired(tx, now, id)
		if errors.Is(err, errTaken) {
			return conflict("id", "a token with this ID exists")
		}
		if err != nil {
			return err
		}
		if v := tx.Bucket(bucketTokenHashes).Get([]byte(t.Hash)); v != nil {
			other, err := indexID(v)
			if err != nil {
				return err
			}
			err = evictExpired(tx, now, other)
			if errors.Is(err, errTaken) {
				return conflict("hash", "a token with this hash exists")
			}
			if err != nil {
				return err
			}
		}
		return putToken(tx, id, rec)
	})
	if err != nil {
		return store.APIToken{}, err
	}
	return rec.token(id), nil
}

func checkToken(t store.APIToken) error {
	if err := checkKey("hash", t.Hash); err != nil {
		return err
	}
	if err := checkText("name", t.Name); err != nil {
		return err
	}
	if err := checkText("subject", t.Subject); err != nil {
		return err
	}
	if len(t.Roles) > maxRoles {
		return errs.Invalid("roles", "must be at most %d", maxRoles)
	}
	for _, r := range t.Roles {
		if err := checkKey("roles", r); err != nil {
			return err
		}
	}
	if len(t.Orgs) > maxRoles {
		return errs.Invalid("orgs", "must be at most %d", maxRoles)
	}
	for _, o := range t.Orgs {
		if err := checkKey("orgs", o); err != nil {
			return err
		}
	}
	return nil
}

// evictExpired makes room for a new token: it deletes token id if it has
// expired and fails if it is still live.
func evictExpired(tx *bbolt.Tx, now time.Time, id uuid.UUID) error {
	rec, ok, err := getToken(tx, id)
	if err != nil || !ok {
		return err
	}
	if !rec.expired(now) {
		return errTaken
	}
	return deleteToken(tx, id, rec)
}

func (ts apiTokens) GetByHash(ctx context.Context, hash string) (store.APIToken, error) {
	now := ts.s.now()
	var out store.APIToken
	sawExpired := false
	err := ts.s.view(ctx, func(tx *bbolt.Tx) error {
		if hash == "" {
			return notFound("token")
		}
		v := tx.Bucket(bucketTokenHashes).Get([]byte(hash))
		if v == nil {
			return notFound("token")
		}
		id, err := indexID(v)
		if err != nil {
			return err
		}
		rec, ok, err := getToken(tx, id)
		switch {
		case err != nil:
			return err
		case !ok:
			return errs.New(errs.Unavailable, "token hash index is out of step")
		case rec.expired(now):
			sawExpired = true
			return notFound("token")
		}
		out = rec.token(id)
		return nil
	})
	if sawExpired {
		ts.sweep(ctx)
	}
	return out, err
}

func (ts apiTokens) List(ctx context.Context, tenantID string,
	p store.Page) ([]store.APIToken, string, error) {
	scope, err := parseScope(tenantID)
	if err != nil {
		return nil, "", err
	}
	limit, err := pageLimit(p)
	if err != nil {
		return nil, "", err
	}
	last, err := after(p.After, listTokens, scope)
	if err != nil {
		return nil, "", err
	}

	now := ts.s.now()
	var items []store.APIToken
	sawExpired := false
	err = ts.s.view(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketTokenScopes)
		return scan(b, scope[:], last, func(id uuid.UUID, _ []byte) (bool, error) {
			rec, ok, err := getToken(tx, id)
			switch {
			case err != nil:
				return false, err
			case !ok:
				return false, errs.New(errs.Unavailable, "token scope index is out of step")
			case rec.expired(now):
				sawExpired = true
				return true, nil
			}
			items = append(items, rec.token(id))
			return len(items) <= limit, nil
		})
	})
	if sawExpired {
		ts.sweep(ctx)
	}
	if err != nil {
		return nil, "", err
	}
	return page(items, limit, listTokens, scope, func(t store.APIToken) string { return t.ID })
}

func (ts apiTokens) Delete(ctx context.Context, tenantID, id string) error {
	if _, err := parseScope(tenantID); err != nil {
		return err
	}
	uid, err := parseID("id", id)
	if err != nil {
		return err
	}

	now := ts.s.now()
	found := false
	err = ts.s.update(ctx, func(tx *bbolt.Tx) error {
		rec, ok, err := getToken(tx, uid)
		if err != nil || !ok || rec.TenantID != tenantID {
			return err
		}
		// An expired token is deleted all the same, but as far as the
		// caller can tell it was already gone.
		found = !rec.expired(now)
		return deleteToken(tx, uid, rec)
	})
	if err != nil {
		return err
	}
	if !found {
		return notFound("token")
	}
	return nil
}

// DeleteBySubject deletes, in one transaction, the scope's tokens whose
// Subject is subject. It reads every token of the scope to find them (no
// index by subject): a scope's tokens are expected to number in the
// hundreds at most. Expired tokens of the subject go too but are not
// counted, as they were gone already. An empty subject is refused rather
// than taken to mean the tokens that have none.
func (ts apiTokens) DeleteBySubject(ctx context.Context, tenantID, subject string) (int, error) {
	scope, err := parseScope(tenantID)
	if err != nil {
		return 0, err
	}
	if subject == "" {
		return 0, errs.Invalid("subject", "is required")
	}
	if err := checkText("subject", subject); err != nil {
		return 0, err
	}

	now := ts.s.now()
	n := 0
	err = ts.s.update(ctx, func(tx *bbolt.Tx) error {
		n = 0
		type victim struct {
			id  uuid.UUID
			rec tokenRec
		}
		var victims []victim
		err := scan(tx.Bucket(bucketTokenScopes), scope[:], nil,
			func(id uuid.UUID, _ []byte) (bool, error) {
				rec, ok, err := getToken(tx, id)
				switch {
				case err != nil:
					return false, err
				case !ok:
					return false, errs.New(errs.Unavailable, "token scope index is out of step")
				case rec.Subject == subject:
					victims = append(victims, victim{id, rec})
				}
				return true, nil
			})
		if err != nil {
			return err
		}
		// Deleting while a cursor walks the bucket would move the cursor.
		for _, v := range victims {
			if !v.rec.expired(now) {
				n++
			}
			if err := deleteToken(tx, v.id, v.rec); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}
