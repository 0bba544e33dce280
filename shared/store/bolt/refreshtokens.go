package bolt

import (
	"context"
	"encoding/binary"
	"time"

	"github.com/google/uuid"
	bbolt "go.etcd.io/bbolt"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
)

// Refresh tokens live in five buckets:
//
//	refreshFamilies      tenant id + family id → family record (JSON)
//	refreshTokens        hex token hash → token record (JSON)
//	refreshFamilyTokens  tenant id + family id + hex hash → nothing
//	refreshUsers         tenant id + user id + family id → nothing
//	refreshExpiry        family expiry (Unix ms, big endian) + tenant id
//	                     + family id → nothing
//
// A family is deleted with all its tokens once its absolute expiry has
// passed, a few at a time by each CreateFamily and Rotate. A token that
// expires before its family is hidden by every read and deleted with the
// family, so the spent tokens of a live family stay to tell a replay.
// Each operation is one transaction, so Rotate's compare-and-swap is the
// transaction itself.

var (
	bucketRefreshFamilies     = []byte("refreshFamilies")
	bucketRefreshTokens       = []byte("refreshTokens")
	bucketRefreshFamilyTokens = []byte("refreshFamilyTokens")
	bucketRefreshUsers        = []byte("refreshUsers")
	bucketRefreshExpiry       = []byte("refreshExpiry")
)

type refreshTokens struct{ s *Store }

// RefreshTokens returns the refresh token store.
func (s *Store) RefreshTokens() store.RefreshTokens { return refreshTokens{s} }

func parseFamilyIDs(f store.RefreshFamily) (tenant, id uuid.UUID, err error) {
	if tenant, err = parseID("tenantId", f.TenantID); err != nil {
		return
	}
	if id, err = parseID("id", f.ID); err != nil {
		return
	}
	if _, err = parseID("clientId", f.ClientID); err != nil {
		return
	}
	if _, err = parseID("userId", f.UserID); err != nil {
		return
	}
	if f.SessionID != "" {
		_, err = parseID("sessionId", f.SessionID)
	}
	return
}

func getFamily(tx *bbolt.Tx, tenant, id uuid.UUID) (f store.RefreshFamily, ok bool,
	err error) {
	v := tx.Bucket(bucketRefreshFamilies).Get(join(tenant[:], id[:]))
	if v == nil {
		return f, false, nil
	}
	err = decode(v, &f)
	return f, err == nil, err
}

func getRefreshToken(tx *bbolt.Tx, hash string) (t store.RefreshToken, ok bool, err error) {
	v := tx.Bucket(bucketRefreshTokens).Get([]byte(hash))
	if v == nil {
		return t, false, nil
	}
	err = decode(v, &t)
	return t, err == nil, err
}

func putRefreshToken(tx *bbolt.Tx, tenant, family uuid.UUID, t store.RefreshToken) error {
	if err := tx.Bucket(bucketRefreshTokens).Put([]byte(t.Hash), encode(t)); err != nil {
		return err
	}
	return tx.Bucket(bucketRefreshFamilyTokens).Put(join(tenant[:], family[:],
		[]byte(t.Hash)), nil)
}

func familyExpiryKey(f store.RefreshFamily, tenant, id uuid.UUID) []byte {
	return join(binary.BigEndian.AppendUint64(nil, uint64(f.ExpiresAt.UnixMilli())),
		tenant[:], id[:])
}

// deleteFamily deletes a family, its tokens and its index entries.
func deleteFamily(tx *bbolt.Tx, tenant, id uuid.UUID, f store.RefreshFamily) error {
	user := uuid.MustParse(f.UserID)
	prefix := join(tenant[:], id[:])
	ft := tx.Bucket(bucketRefreshFamilyTokens)
	var hashes [][]byte
	c := ft.Cursor()
	for k, _ := c.Seek(prefix); k != nil && hasPrefix(k, prefix); k, _ = c.Next() {
		hashes = append(hashes, append([]byte(nil), k...))
	}
	for _, k := range hashes {
		if err := tx.Bucket(bucketRefreshTokens).Delete(k[len(prefix):]); err != nil {
			return err
		}
		if err := ft.Delete(k); err != nil {
			return err
		}
	}
	for _, del := range []struct {
		b   []byte
		key []byte
	}{
		{bucketRefreshFamilies, prefix},
		{bucketRefreshUsers, join(tenant[:], user[:], id[:])},
		{bucketRefreshExpiry, familyExpiryKey(f, tenant, id)},
	} {
		if err := tx.Bucket(del.b).Delete(del.key); err != nil {
			return err
		}
	}
	return nil
}

// sweepFamilies deletes up to max families whose expiry has passed.
func sweepFamilies(tx *bbolt.Tx, now time.Time, max int) error {
	for _, g := range expiredKeys(tx.Bucket(bucketRefreshExpiry), now, max) {
		f, ok, err := getFamily(tx, g.tenant, g.id)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if err := deleteFamily(tx, g.tenant, g.id, f); err != nil {
			return err
		}
	}
	return nil
}

func (rs refreshTokens) CreateFamily(ctx context.Context, f store.RefreshFamily,
	first store.RefreshToken) error {
	tenant, id, err := parseFamilyIDs(f)
	if err != nil {
		return err
	}
	now := rs.s.now()
	if f, err = store.CheckRefreshFamily(f, now); err != nil {
		return err
	}
	if first.Generation != 1 {
		return errs.Invalid("generation", "must be 1 for a family's first token")
	}
	if first, err = store.CheckRefreshToken(first, f, now); err != nil {
		return err
	}
	user := uuid.MustParse(f.UserID)
	return rs.s.update(ctx, func(tx *bbolt.Tx) error {
		if err := sweepFamilies(tx, now, sweepBatch); err != nil {
			return err
		}
		if _, ok, err := getFamily(tx, tenant, id); err != nil || ok {
			if err != nil {
				return err
			}
			return conflict("id", "a refresh token family with this ID exists")
		}
		if _, ok, err := getRefreshToken(tx, first.Hash); err != nil || ok {
			if err != nil {
				return err
			}
			return conflict("hash", "a refresh token with this hash exists")
		}
		for _, put := range []struct{ b, k, v []byte }{
			{bucketRefreshFamilies, join(tenant[:], id[:]), encode(f)},
			{bucketRefreshUsers, join(tenant[:], user[:], id[:]), nil},
			{bucketRefreshExpiry, familyExpiryKey(f, tenant, id), nil},
		} {
			if err := tx.Bucket(put.b).Put(put.k, put.v); err != nil {
				return err
			}
		}
		return putRefreshToken(tx, tenant, id, first)
	})
}

// lookup reads a live token and its family in tx.
func (rs refreshTokens) lookup(tx *bbolt.Tx, hash string, now time.Time) (store.RefreshToken,
	store.RefreshFamily, error) {
	if len(hash) != 64 {
		return store.RefreshToken{}, store.RefreshFamily{}, notFound("refresh token")
	}
	t, ok, err := getRefreshToken(tx, hash)
	if err != nil || !ok {
		if err == nil {
			err = notFound("refresh token")
		}
		return store.RefreshToken{}, store.RefreshFamily{}, err
	}
	tenant, terr := uuid.Parse(t.TenantID)
	id, ferr := uuid.Parse(t.FamilyID)
	if terr != nil || ferr != nil {
		return store.RefreshToken{}, store.RefreshFamily{},
			errs.New(errs.Unavailable, "corrupt store record")
	}
	f, ok, err := getFamily(tx, tenant, id)
	if err != nil || !ok || !t.Live(f, now) {
		if err == nil {
			err = notFound("refresh token")
		}
		return store.RefreshToken{}, store.RefreshFamily{}, err
	}
	return t, f, nil
}

func (rs refreshTokens) GetByHash(ctx context.Context, hash string) (store.RefreshToken,
	store.RefreshFamily, error) {
	var t store.RefreshToken
	var f store.RefreshFamily
	err := rs.s.view(ctx, func(tx *bbolt.Tx) error {
		var err error
		t, f, err = rs.lookup(tx, hash, rs.s.now())
		return err
	})
	return t, f, err
}

func (rs refreshTokens) Rotate(ctx context.Context, tenantID, usedHash string,
	next store.RefreshToken) error {
	if _, err := parseID("tenantId", tenantID); err != nil {
		return err
	}
	now := rs.s.now()
	return rs.s.update(ctx, func(tx *bbolt.Tx) error {
		if err := sweepFamilies(tx, now, sweepBatch); err != nil {
			return err
		}
		used, f, err := rs.lookup(tx, usedHash, now)
		if err != nil {
			return err
		}
		if next, err = store.CheckRotation(tenantID, used, f, next, now); err != nil {
			return err
		}
		if _, ok, err := getRefreshToken(tx, next.Hash); err != nil || ok {
			if err != nil {
				return err
			}
			return conflict("hash", "a refresh token with this hash exists")
		}
		tenant, id := uuid.MustParse(f.TenantID), uuid.MustParse(f.ID)
		used.Used = true
		if err := tx.Bucket(bucketRefreshTokens).Put([]byte(used.Hash), encode(used)); err != nil {
			return err
		}
		return putRefreshToken(tx, tenant, id, next)
	})
}

func (rs refreshTokens) RevokeFamily(ctx context.Context, tenantID, familyID string) error {
	tenant, err := parseID("tenantId", tenantID)
	if err != nil {
		return err
	}
	id, err := parseID("familyId", familyID)
	if err != nil {
		return err
	}
	now := rs.s.now()
	return rs.s.update(ctx, func(tx *bbolt.Tx) error {
		f, ok, err := getFamily(tx, tenant, id)
		if err != nil {
			return err
		}
		if !ok || !now.Before(f.ExpiresAt) {
			return notFound("refresh token family")
		}
		f.Revoked = true
		return tx.Bucket(bucketRefreshFamilies).Put(join(tenant[:], id[:]), encode(f))
	})
}

// families reads the live, unrevoked families of a user in tx.
func (rs refreshTokens) families(tx *bbolt.Tx, tenant, user uuid.UUID, clientID string,
	now time.Time) ([]store.RefreshFamily, error) {
	var out []store.RefreshFamily
	err := scan(tx.Bucket(bucketRefreshUsers), join(tenant[:], user[:]), nil,
		func(id uuid.UUID, _ []byte) (bool, error) {
			f, ok, err := getFamily(tx, tenant, id)
			if err != nil || !ok {
				return err == nil, err
			}
			if !f.Revoked && now.Before(f.ExpiresAt) &&
				(clientID == "" || f.ClientID == clientID) {
				out = append(out, f)
			}
			return len(out) < store.MaxRefreshFamiliesByUser, nil
		})
	return out, err
}

func parseRefreshUser(tenantID, userID, clientID string) (tenant, user uuid.UUID, err error) {
	if tenant, err = parseID("tenantId", tenantID); err != nil {
		return
	}
	if user, err = parseID("userId", userID); err != nil {
		return
	}
	if clientID != "" {
		_, err = parseID("clientId", clientID)
	}
	return
}

func (rs refreshTokens) ListFamilies(ctx context.Context, tenantID, userID, clientID string) (
	[]store.RefreshFamily, error) {
	tenant, user, err := parseRefreshUser(tenantID, userID, clientID)
	if err != nil {
		return nil, err
	}
	var out []store.RefreshFamily
	err = rs.s.view(ctx, func(tx *bbolt.Tx) error {
		out, err = rs.families(tx, tenant, user, clientID, rs.s.now())
		return err
	})
	return out, err
}

func (rs refreshTokens) RevokeByUser(ctx context.Context, tenantID, userID, clientID string) (
	[]store.RefreshFamily, error) {
	tenant, user, err := parseRefreshUser(tenantID, userID, clientID)
	if err != nil {
		return nil, err
	}
	return rs.revokeWhere(ctx, tenant, user, clientID, func(store.RefreshFamily) bool {
		return true
	})
}

func (rs refreshTokens) RevokeBySession(ctx context.Context, tenantID, userID,
	sessionID string) ([]store.RefreshFamily, error) {
	tenant, user, err := parseRefreshUser(tenantID, userID, "")
	if err != nil {
		return nil, err
	}
	if _, err := parseID("sessionId", sessionID); err != nil {
		return nil, err
	}
	return rs.revokeWhere(ctx, tenant, user, "", func(f store.RefreshFamily) bool {
		return f.SessionID == sessionID
	})
}

// revokeWhere revokes, in one transaction, the user's live families (of
// clientID, when not empty) that keep accepts.
func (rs refreshTokens) revokeWhere(ctx context.Context, tenant, user uuid.UUID, clientID string,
	keep func(store.RefreshFamily) bool) ([]store.RefreshFamily, error) {
	var out []store.RefreshFamily
	err := rs.s.update(ctx, func(tx *bbolt.Tx) error {
		list, err := rs.families(tx, tenant, user, clientID, rs.s.now())
		if err != nil {
			return err
		}
		out = out[:0]
		for _, f := range list {
			if !keep(f) {
				continue
			}
			f.Revoked = true
			id := uuid.MustParse(f.ID)
			if err := tx.Bucket(bucketRefreshFamilies).Put(join(tenant[:], id[:]),
				encode(f)); err != nil {
				return err
			}
			out = append(out, f)
		}
		return nil
	})
	return out, err
}
