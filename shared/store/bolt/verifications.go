package bolt

import (
	"context"
	"encoding/binary"
	"errors"
	"maps"
	"regexp"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	bbolt "go.etcd.io/bbolt"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
)

// Verifications are hidden on every read once the store's clock reaches
// ExpiresAt, and deleted lazily like API tokens: by the read that finds
// one, and a few at a time by each Create, through an index ordered by
// expiry. Single use rests on Update's compare-and-swap on Version.

type verifications struct{ s *Store }

// Verifications returns the store of pending proofs.
func (s *Store) Verifications() store.Verifications { return verifications{s} }

// Bounds of a verification's text; every backend has the same ones.
const (
	maxTargetLen     = 320 // an email address at its longest
	maxVerifData     = 16  // entries of Data
	maxDataKeyLen    = 64  // bytes, non-empty
	maxDataValueLen  = 512 // bytes
	maxVerifAttempts = 1 << 20
)

var hexSHA256 = regexp.MustCompile(`^[0-9a-f]{64}$`)

// purposeCodes name each purpose in the per-user index with one byte.
var purposeCodes = map[store.VerificationPurpose]byte{
	store.VerifyEmail: 1, store.VerifyPhone: 2, store.ResetPassword: 3, store.Invitation: 4,
}

type verifRec struct {
	UserID     string            `json:"us,omitempty"`
	Purpose    string            `json:"p"`
	Target     string            `json:"t"`
	SecretHash string            `json:"sh,omitempty"`
	CodeHash   string            `json:"ch,omitempty"`
	Attempts   int               `json:"a,omitempty"`
	Data       map[string]string `json:"d,omitempty"`
	Created    int64             `json:"c"`
	Expires    int64             `json:"e"`
	Used       int64             `json:"x,omitempty"` // Unix ms; zero: not used
	Version    int64             `json:"v"`
}

func (r verifRec) verification(tenant, id uuid.UUID) store.Verification {
	v := store.Verification{
		ID: id.String(), TenantID: tenant.String(), UserID: r.UserID,
		Purpose: store.VerificationPurpose(r.Purpose), Target: r.Target,
		SecretHash: r.SecretHash, CodeHash: r.CodeHash, Attempts: r.Attempts,
		Data: maps.Clone(r.Data), CreatedAt: fromMS(r.Created), ExpiresAt: fromMS(r.Expires),
		Version: r.Version,
	}
	if r.Used != 0 {
		v.UsedAt = fromMS(r.Used)
	}
	return v
}

// expired reports whether the proof is gone at now: once the clock reaches
// ExpiresAt, as for API tokens.
func (r verifRec) expired(now time.Time) bool { return now.UnixMilli() >= r.Expires }

// checkMutable checks the fields Update may change.
func checkMutable(v store.Verification) error {
	if v.Attempts < 0 || v.Attempts > maxVerifAttempts {
		return errs.Invalid("attempts", "must be 0 to %d", maxVerifAttempts)
	}
	if len(v.Data) > maxVerifData {
		return errs.Invalid("data", "must hold at most %d entries", maxVerifData)
	}
	for k, val := range v.Data {
		if k == "" || len(k) > maxDataKeyLen || !utf8.ValidString(k) {
			return errs.Invalid("data", "keys must be UTF-8 text of 1 to %d bytes",
				maxDataKeyLen)
		}
		if len(val) > maxDataValueLen || !utf8.ValidString(val) {
			return errs.Invalid("data", "values must be UTF-8 text of at most %d bytes",
				maxDataValueLen)
		}
	}
	return nil
}

// verifRecOf checks a new proof and makes its record.
func verifRecOf(v store.Verification, now time.Time) (verifRec, error) {
	if v.UserID != "" {
		if _, err := parseID("userId", v.UserID); err != nil {
			return verifRec{}, err
		}
	}
	if _, ok := purposeCodes[v.Purpose]; !ok {
		return verifRec{}, errs.Invalid("purpose",
			"must be verify_email, verify_phone, reset_password or invitation")
	}
	if v.Target == "" || len(v.Target) > maxTargetLen || !utf8.ValidString(v.Target) {
		return verifRec{}, errs.Invalid("target", "must be UTF-8 text of 1 to %d bytes",
			maxTargetLen)
	}
	if v.SecretHash == "" && v.CodeHash == "" {
		return verifRec{}, errs.Invalid("secretHash", "a secret hash or a code hash is required")
	}
	for field, h := range map[string]string{"secretHash": v.SecretHash, "codeHash": v.CodeHash} {
		if h != "" && !hexSHA256.MatchString(h) {
			return verifRec{}, errs.Invalid(field, "must be a lower-case hex SHA-256")
		}
	}
	if err := checkMutable(v); err != nil {
		return verifRec{}, err
	}
	rec := verifRec{
		UserID: v.UserID, Purpose: string(v.Purpose), Target: v.Target,
		SecretHash: v.SecretHash, CodeHash: v.CodeHash, Attempts: v.Attempts,
		Data: maps.Clone(v.Data), Created: toMS(v.CreatedAt), Expires: toMS(v.ExpiresAt),
		Version: 1,
	}
	if len(rec.Data) == 0 {
		rec.Data = nil
	}
	if !v.UsedAt.IsZero() {
		rec.Used = toMS(v.UsedAt)
	}
	switch {
	case v.CreatedAt.IsZero():
		return verifRec{}, errs.Invalid("createdAt", "is required")
	case rec.Expires <= rec.Created:
		return verifRec{}, errs.Invalid("expiresAt", "must be after createdAt")
	case rec.Expires-rec.Created > store.MaxVerificationTTL.Milliseconds():
		return verifRec{}, errs.Invalid("expiresAt", "must be at most %v after createdAt",
			store.MaxVerificationTTL)
	case rec.expired(now):
		return verifRec{}, errs.Invalid("expiresAt", "is already past")
	case rec.Expires-now.UnixMilli() > store.MaxVerificationTTL.Milliseconds():
		return verifRec{}, errs.Invalid("expiresAt", "must be at most %v from now",
			store.MaxVerificationTTL)
	}
	return rec, nil
}

func verifExpiryKey(ms int64, tenant, id uuid.UUID) []byte {
	return join(binary.BigEndian.AppendUint64(nil, uint64(ms)), tenant[:], id[:])
}

func verifUserKey(tenant uuid.UUID, r verifRec, id uuid.UUID) []byte {
	user := uuid.MustParse(r.UserID)
	return join(tenant[:], user[:], []byte{purposeCodes[store.VerificationPurpose(r.Purpose)]},
		id[:])
}

func getVerif(tx *bbolt.Tx, tenant, id uuid.UUID) (rec verifRec, ok bool, err error) {
	v := tx.Bucket(bucketVerifs).Get(join(tenant[:], id[:]))
	if v == nil {
		return verifRec{}, false, nil
	}
	err = decode(v, &rec)
	return rec, err == nil, err
}

// putVerif writes a new proof and its index entries.
func putVerif(tx *bbolt.Tx, tenant, id uuid.UUID, rec verifRec) error {
	if err := tx.Bucket(bucketVerifs).Put(join(tenant[:], id[:]), encode(rec)); err != nil {
		return err
	}
	if rec.UserID != "" {
		if err := tx.Bucket(bucketVerifUsers).Put(verifUserKey(tenant, rec, id), nil); err != nil {
			return err
		}
	}
	return tx.Bucket(bucketVerifExpiry).Put(verifExpiryKey(rec.Expires, tenant, id), nil)
}

func deleteVerif(tx *bbolt.Tx, tenant, id uuid.UUID, rec verifRec) error {
	if err := tx.Bucket(bucketVerifs).Delete(join(tenant[:], id[:])); err != nil {
		return err
	}
	if rec.UserID != "" {
		if err := tx.Bucket(bucketVerifUsers).Delete(verifUserKey(tenant, rec, id)); err != nil {
			return err
		}
	}
	return tx.Bucket(bucketVerifExpiry).Delete(verifExpiryKey(rec.Expires, tenant, id))
}

// expiredKeys returns up to max entries of an expiry index (expiry in
// Unix ms, big endian, + tenant id + id) that have expired at now, oldest
// first.
func expiredKeys(b *bbolt.Bucket, now time.Time, max int) []tenantKey {
	var gone []tenantKey
	c := b.Cursor()
	for k, _ := c.First(); k != nil && len(gone) < max; k, _ = c.Next() {
		if len(k) != 8+16+16 || int64(binary.BigEndian.Uint64(k)) > now.UnixMilli() {
			break
		}
		gone = append(gone, tenantKey{uuid.UUID(k[8:24]), uuid.UUID(k[24:])})
	}
	return gone
}

// tenantKey names an entity of a tenant.
type tenantKey struct{ tenant, id uuid.UUID }

// sweepVerifs deletes up to max proofs expired at now, oldest first.
func sweepVerifs(tx *bbolt.Tx, now time.Time, max int) error {
	for _, g := range expiredKeys(tx.Bucket(bucketVerifExpiry), now, max) {
		rec, ok, err := getVerif(tx, g.tenant, g.id)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if err := deleteVerif(tx, g.tenant, g.id, rec); err != nil {
			return err
		}
	}
	return nil
}

// sweep deletes expired proofs after a read came across one; best effort,
// like apiTokens.sweep.
func (vs verifications) sweep(ctx context.Context) {
	_ = vs.s.update(ctx, func(tx *bbolt.Tx) error {
		return sweepVerifs(tx, vs.s.now(), sweepBatch)
	})
}

func (vs verifications) Create(ctx context.Context, v store.Verification) (
	store.Verification, error) {
	tenant, id, err := parseVerifIDs(v.TenantID, v.ID)
	if err != nil {
		return store.Verification{}, err
	}
	now := vs.s.now()
	rec, err := verifRecOf(v, now)
	if err != nil {
		return store.Verification{}, err
	}

	err = vs.s.update(ctx, func(tx *bbolt.Tx) error {
		if err := sweepVerifs(tx, now, sweepBatch); err != nil {
			return err
		}
		old, ok, err := getVerif(tx, tenant, id)
		if err != nil {
			return err
		}
		if ok {
			if !old.expired(now) {
				return conflict("id", "a verification with this ID exists")
			}
			if err := deleteVerif(tx, tenant, id, old); err != nil {
				return err
			}
		}
		return putVerif(tx, tenant, id, rec)
	})
	if err != nil {
		return store.Verification{}, err
	}
	return rec.verification(tenant, id), nil
}

func parseVerifIDs(tenantID, id string) (tenant, vid uuid.UUID, err error) {
	if tenant, err = parseID("tenantId", tenantID); err != nil {
		return tenant, vid, err
	}
	vid, err = parseID("id", id)
	return tenant, vid, err
}

func (vs verifications) Get(ctx context.Context, tenantID, id string) (store.Verification,
	error) {
	tenant, vid, err := parseVerifIDs(tenantID, id)
	if err != nil {
		return store.Verification{}, err
	}
	return vs.get(ctx, tenant, vid)
}

func (vs verifications) get(ctx context.Context, tenant, id uuid.UUID) (store.Verification,
	error) {
	rec, sawExpired, err := getLive(ctx, vs.s, bucketVerifs, join(tenant[:], id[:]),
		"verification", verifRec.expired)
	if sawExpired {
		vs.sweep(ctx)
	}
	if err != nil {
		return store.Verification{}, err
	}
	return rec.verification(tenant, id), nil
}

// Update writes fn's Attempts, Data and UsedAt if the version has not
// moved and the proof has not expired meanwhile; bbolt's single writer
// makes the check and the write atomic.
func (vs verifications) Update(ctx context.Context, tenantID, id string,
	fn func(store.Verification) (store.Verification, error)) (store.Verification, error) {
	tenant, vid, err := parseVerifIDs(tenantID, id)
	if err != nil {
		return store.Verification{}, err
	}

	for range maxUpdateAttempts {
		old, err := vs.get(ctx, tenant, vid)
		if err != nil {
			return store.Verification{}, err
		}
		v, err := fn(old)
		if err != nil {
			return store.Verification{}, err
		}
		if err := checkMutable(v); err != nil {
			return store.Verification{}, err
		}

		var rec verifRec
		err = vs.s.update(ctx, func(tx *bbolt.Tx) error {
			cur, ok, err := getVerif(tx, tenant, vid)
			switch {
			case err != nil:
				return err
			case !ok || cur.expired(vs.s.now()):
				return notFound("verification")
			case cur.Version != old.Version:
				return errLostRace
			}
			rec = cur
			rec.Attempts, rec.Data, rec.Used = v.Attempts, maps.Clone(v.Data), 0
			if len(rec.Data) == 0 {
				rec.Data = nil
			}
			if !v.UsedAt.IsZero() {
				rec.Used = toMS(v.UsedAt)
			}
			rec.Version = cur.Version + 1
			return tx.Bucket(bucketVerifs).Put(join(tenant[:], vid[:]), encode(rec))
		})
		if errors.Is(err, errLostRace) {
			continue
		}
		if err != nil {
			return store.Verification{}, err
		}
		return rec.verification(tenant, vid), nil
	}
	return store.Verification{}, errs.New(errs.Conflict,
		"verification changed too often concurrently")
}

// DeleteForUser deletes, in one transaction, the user's proofs of one
// purpose found through the per-user index. Expired ones go too but are
// not counted, as they were gone already.
func (vs verifications) DeleteForUser(ctx context.Context, tenantID, userID string,
	purpose store.VerificationPurpose) (int, error) {
	tenant, err := parseID("tenantId", tenantID)
	if err != nil {
		return 0, err
	}
	user, err := parseID("userId", userID)
	if err != nil {
		return 0, err
	}
	code, ok := purposeCodes[purpose]
	if !ok {
		return 0, errs.Invalid("purpose",
			"must be verify_email, verify_phone, reset_password or invitation")
	}

	now := vs.s.now()
	n := 0
	err = vs.s.update(ctx, func(tx *bbolt.Tx) error {
		n = 0
		var ids []uuid.UUID
		prefix := join(tenant[:], user[:], []byte{code})
		err := scan(tx.Bucket(bucketVerifUsers), prefix, nil,
			func(id uuid.UUID, _ []byte) (bool, error) {
				ids = append(ids, id)
				return true, nil
			})
		if err != nil {
			return err
		}
		for _, id := range ids {
			rec, ok, err := getVerif(tx, tenant, id)
			if err != nil {
				return err
			}
			if !ok {
				return errs.New(errs.Unavailable, "verification user index is out of step")
			}
			if !rec.expired(now) {
				n++
			}
			if err := deleteVerif(tx, tenant, id, rec); err != nil {
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
