package scylla

import (
	"context"
	"maps"
	"time"
	"unicode/utf8"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
)

// Verifications live in one partition each (see
// migrations/0006_profiles_and_verifications.cql), written with a TTL that
// ends at ExpiresAt, rounded up, so that the server deletes them. The
// store's clock hides a proof from the moment it reaches ExpiresAt, so the
// answer does not depend on when the server gets round to it. Single use
// rests on Update's lightweight transaction on version.
//
// Known shortcoming: the expiry check and the compare-and-swap of Update
// are two steps, so an Update whose read came just before ExpiresAt may
// land up to one round trip after it (the row outlives ExpiresAt by up to
// a second for that reason).

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

func checkPurpose(p store.VerificationPurpose) error {
	switch p {
	case store.VerifyEmail, store.VerifyPhone, store.ResetPassword, store.Invitation:
		return nil
	}
	return errs.Invalid("purpose",
		"must be verify_email, verify_phone, reset_password or invitation")
}

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

// checkVerification checks a new proof.
func checkVerification(v store.Verification) error {
	if err := checkID("tenantId", v.TenantID); err != nil {
		return err
	}
	if err := checkID("id", v.ID); err != nil {
		return err
	}
	if v.UserID != "" {
		if err := checkID("userId", v.UserID); err != nil {
			return err
		}
	}
	if err := checkPurpose(v.Purpose); err != nil {
		return err
	}
	if v.Target == "" || len(v.Target) > maxTargetLen || !utf8.ValidString(v.Target) {
		return errs.Invalid("target", "must be UTF-8 text of 1 to %d bytes", maxTargetLen)
	}
	if v.SecretHash == "" && v.CodeHash == "" {
		return errs.Invalid("secretHash", "a secret hash or a code hash is required")
	}
	if v.SecretHash != "" && !sha256Hex.MatchString(v.SecretHash) {
		return errs.Invalid("secretHash", "must be a lower-case hex SHA-256")
	}
	if v.CodeHash != "" && !sha256Hex.MatchString(v.CodeHash) {
		return errs.Invalid("codeHash", "must be a lower-case hex SHA-256")
	}
	if err := checkMutable(v); err != nil {
		return err
	}
	created, expires := dbTime(v.CreatedAt), dbTime(v.ExpiresAt)
	switch {
	case created.IsZero():
		return errs.Invalid("createdAt", "is required")
	case !expires.After(created):
		return errs.Invalid("expiresAt", "must be after createdAt")
	case expires.Sub(created) > store.MaxVerificationTTL:
		return errs.Invalid("expiresAt", "must be at most %v after createdAt",
			store.MaxVerificationTTL)
	}
	return nil
}

// verifRow is a row of the verifications table.
type verifRow struct {
	TenantID   string            `db:"tenant_id"`
	ID         string            `db:"id"`
	UserID     string            `db:"user_id"`
	Purpose    string            `db:"purpose"`
	Target     string            `db:"target"`
	SecretHash string            `db:"secret_hash"`
	CodeHash   string            `db:"code_hash"`
	Attempts   int               `db:"attempts"`
	Data       map[string]string `db:"data"`
	CreatedAt  time.Time         `db:"created_at"`
	ExpiresAt  time.Time         `db:"expires_at"`
	UsedAt     time.Time         `db:"used_at"`
	Version    int64             `db:"version"`
}

func (r verifRow) verification() store.Verification {
	v := store.Verification{
		ID: r.ID, TenantID: r.TenantID, UserID: r.UserID,
		Purpose: store.VerificationPurpose(r.Purpose), Target: r.Target,
		SecretHash: r.SecretHash, CodeHash: r.CodeHash, Attempts: r.Attempts,
		CreatedAt: r.CreatedAt, ExpiresAt: r.ExpiresAt, UsedAt: r.UsedAt, Version: r.Version,
	}
	if len(r.Data) > 0 {
		v.Data = r.Data
	}
	return v
}

// expired reports whether v is past its expiry by the store's clock.
func (vs verifications) expired(v store.Verification) bool {
	return !vs.s.now().Before(v.ExpiresAt)
}

// ttl is the TTL, in seconds, that keeps a row until exp at least (see
// ttlSeconds); a proof already expired is ErrNotFound.
func (vs verifications) ttl(exp time.Time) (int, error) {
	n, err := ttlSeconds(exp, vs.s.now())
	if err != nil || n == 0 {
		return 0, notFound("verification")
	}
	return n, nil
}

// Create writes the per-user index row first and the proof second, so
// that DeleteForUser never misses a proof: a failure in between leaves an
// index row that names nothing, which readers skip and the TTL removes.
func (vs verifications) Create(ctx context.Context, v store.Verification) (
	store.Verification, error) {
	s := vs.s
	if err := checkVerification(v); err != nil {
		return store.Verification{}, err
	}
	v.CreatedAt, v.ExpiresAt, v.UsedAt = dbTime(v.CreatedAt), dbTime(v.ExpiresAt),
		dbTime(v.UsedAt)
	v.Data = maps.Clone(v.Data)
	if len(v.Data) == 0 {
		v.Data = nil
	}
	v.Version = 1
	now := s.now()
	if v.ExpiresAt.Sub(now) > store.MaxVerificationTTL {
		return store.Verification{}, errs.Invalid("expiresAt", "must be at most %v from now",
			store.MaxVerificationTTL)
	}
	ttl, err := ttlSeconds(v.ExpiresAt, now)
	if err != nil {
		return store.Verification{}, err
	}

	if v.UserID != "" {
		err := s.query(ctx, s.q.verifUserInsert).
			Bind(v.TenantID, v.UserID, string(v.Purpose), v.ID, ttl).ExecRelease()
		if err != nil {
			return store.Verification{}, ctxErr(ctx, err)
		}
	}
	applied, err := s.query(ctx, s.q.verifInsert).
		Bind(v.TenantID, v.ID, v.UserID, string(v.Purpose), v.Target, v.SecretHash, v.CodeHash,
			v.Attempts, v.Data, v.CreatedAt, v.ExpiresAt, v.UsedAt, v.Version, ttl).
		ExecCASRelease()
	if err != nil {
		landed, serr := s.settle(ctx, err, vs.holds(v))
		if serr != nil || !landed {
			return store.Verification{}, ctxErr(ctx, err)
		}
		applied = true
	}
	if !applied {
		// The index row written above may have shortened the TTL of the
		// existing proof's own index row (same key); give it back.
		vs.reindex(ctx, v.TenantID, v.ID)
		return store.Verification{}, conflict("id", "verification ID already taken")
	}
	return v, nil
}

// reindex rewrites the index row of an existing proof with the TTL of the
// proof itself. Best effort: a failure is logged.
func (vs verifications) reindex(ctx context.Context, tenantID, id string) {
	s := vs.s
	cur, err := vs.get(ctx, tenantID, id)
	if err != nil || cur.UserID == "" {
		return
	}
	ttl, err := vs.ttl(cur.ExpiresAt)
	if err != nil {
		return
	}
	err = s.query(ctx, s.q.verifUserInsert).
		Bind(tenantID, cur.UserID, string(cur.Purpose), id, ttl).ExecRelease()
	if err != nil {
		s.log.Warn("restoring a verification's index row failed", "err", err)
	}
}

// holds reports, at serial consistency, whether the stored proof is want.
func (vs verifications) holds(want store.Verification) func(context.Context) (bool, error) {
	return func(ctx context.Context) (bool, error) {
		var row verifRow
		err := serial(vs.s.query(ctx, vs.s.q.verifGet)).Bind(want.TenantID, want.ID).
			GetRelease(&row)
		if isNotFound(err) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		got := row.verification()
		return got.Version == want.Version && got.Attempts == want.Attempts &&
			got.UsedAt.Equal(want.UsedAt) && maps.Equal(got.Data, want.Data) &&
			got.Purpose == want.Purpose && got.UserID == want.UserID &&
			got.SecretHash == want.SecretHash && got.CodeHash == want.CodeHash, nil
	}
}

func (vs verifications) Get(ctx context.Context, tenantID, id string) (store.Verification,
	error) {
	if err := checkID("tenantId", tenantID); err != nil {
		return store.Verification{}, err
	}
	if err := checkID("id", id); err != nil {
		return store.Verification{}, err
	}
	return vs.get(ctx, tenantID, id)
}

func (vs verifications) get(ctx context.Context, tenantID, id string) (store.Verification,
	error) {
	var row verifRow
	err := vs.s.query(ctx, vs.s.q.verifGet).Bind(tenantID, id).Idempotent(true).
		GetRelease(&row)
	if isNotFound(err) {
		return store.Verification{}, notFound("verification")
	}
	if err != nil {
		return store.Verification{}, ctxErr(ctx, err)
	}
	v := row.verification()
	if vs.expired(v) {
		return store.Verification{}, notFound("verification")
	}
	return v, nil
}

// Update runs fn on the current proof and writes its Attempts, Data and
// UsedAt if the version has not moved, with a TTL that still ends at
// ExpiresAt (a write without one would outlive the rest of the row).
func (vs verifications) Update(ctx context.Context, tenantID, id string,
	fn func(store.Verification) (store.Verification, error)) (store.Verification, error) {
	s := vs.s
	if err := checkID("tenantId", tenantID); err != nil {
		return store.Verification{}, err
	}
	if err := checkID("id", id); err != nil {
		return store.Verification{}, err
	}
	for attempt := range maxCASAttempts {
		backoff(ctx, attempt)
		old, err := vs.get(ctx, tenantID, id)
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
		next := old
		next.Attempts, next.UsedAt = v.Attempts, dbTime(v.UsedAt)
		next.Data = maps.Clone(v.Data)
		if len(next.Data) == 0 {
			next.Data = nil
		}
		next.Version = old.Version + 1
		ttl, err := vs.ttl(next.ExpiresAt)
		if err != nil {
			return store.Verification{}, err
		}

		var prev struct {
			Version *int64 `db:"version"`
		}
		applied, err := s.query(ctx, s.q.verifUpdate).
			Bind(ttl, next.Attempts, next.Data, next.UsedAt, next.Version, tenantID, id,
				old.Version).
			GetCASRelease(&prev)
		if err != nil {
			if applied, err = s.settle(ctx, err, vs.holds(next)); err != nil {
				return store.Verification{}, ctxErr(ctx, err)
			}
			if !applied {
				continue // read again: the proof may be gone or changed
			}
		}
		if applied {
			return next, nil
		}
		if prev.Version == nil {
			return store.Verification{}, notFound("verification")
		}
	}
	return store.Verification{}, errs.New(errs.Conflict,
		"verification changed concurrently; try again")
}

// DeleteForUser deletes the proofs the per-user index names, each with a
// lightweight transaction that checks the proof still belongs to the user
// and purpose (an index row may name a proof of the same ID written by
// another Create), then the index rows. Proofs the store's clock calls
// expired are deleted too but not counted, as they were gone already.
func (vs verifications) DeleteForUser(ctx context.Context, tenantID, userID string,
	purpose store.VerificationPurpose) (int, error) {
	s := vs.s
	if err := checkID("tenantId", tenantID); err != nil {
		return 0, err
	}
	if err := checkID("userId", userID); err != nil {
		return 0, err
	}
	if err := checkPurpose(purpose); err != nil {
		return 0, err
	}

	iter := s.query(ctx, s.q.verifUserList).Bind(tenantID, userID, string(purpose)).
		Idempotent(true).Iter()
	var ids []string
	var id string
	for iter.Scan(&id) {
		ids = append(ids, id)
	}
	if err := iter.Close(); err != nil {
		return 0, ctxErr(ctx, err)
	}

	n := 0
	for _, id := range ids {
		var row verifRow
		err := s.query(ctx, s.q.verifGet).Bind(tenantID, id).Idempotent(true).GetRelease(&row)
		switch {
		case isNotFound(err):
		case err != nil:
			return n, ctxErr(ctx, err)
		case row.UserID == userID && row.Purpose == string(purpose):
			live := !vs.expired(row.verification())
			applied, err := s.query(ctx, s.q.verifDelete).
				Bind(tenantID, id, userID, string(purpose)).ExecCASRelease()
			if err != nil {
				landed, serr := s.settle(ctx, err, vs.gone(tenantID, id))
				if serr != nil || !landed {
					return n, ctxErr(ctx, err)
				}
				applied = true
			}
			if applied && live {
				n++
			}
		}
		err = s.query(ctx, s.q.verifUserDelete).Bind(tenantID, userID, string(purpose), id).
			ExecRelease()
		if err != nil {
			return n, ctxErr(ctx, err)
		}
	}
	return n, nil
}

// gone reports, at serial consistency, whether the proof no longer exists.
func (vs verifications) gone(tenantID, id string) func(context.Context) (bool, error) {
	return func(ctx context.Context) (bool, error) {
		var row verifRow
		err := serial(vs.s.query(ctx, vs.s.q.verifGet)).Bind(tenantID, id).GetRelease(&row)
		if isNotFound(err) {
			return true, nil
		}
		return false, err
	}
}
