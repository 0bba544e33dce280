package scylla

import (
	"context"
	"time"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
)

type credentials struct{ s *Store }

// maxPhoneLen bounds a phone number; E.164 numbers have at most 15 digits.
const maxPhoneLen = 64

func checkPhone(s string) error {
	if len(s) > maxPhoneLen {
		return errs.Invalid("phone", "must be at most %d bytes", maxPhoneLen)
	}
	return checkText("phone", s)
}

// SetPassword checks that the user exists, writes the credential, and reads
// the user again: a Delete that ran in between has deleted the user (and
// perhaps the credential before this write landed), so the credential is
// deleted again and SetPassword reports ErrNotFound.
//
// Known limit: credential rows are ordered by client timestamps. If the
// clocks of two Ward hosts disagree by more than the time between a
// SetPassword's write and a concurrent Delete's, and the user is deleted
// after the second read, the credential can outlive its user. It is then
// unreachable (user IDs are never reused, and every reader looks up the
// user first); a later Delete of that ID removes it.
func (cs credentials) SetPassword(ctx context.Context, tenantID, userID, hash string,
	at time.Time) error {
	s := cs.s
	if err := checkID("tenantId", tenantID); err != nil {
		return err
	}
	if err := checkID("id", userID); err != nil {
		return err
	}
	if err := checkKey("hash", hash); err != nil {
		return err
	}
	us := users{s}
	if _, err := us.get(ctx, tenantID, userID); err != nil {
		return err
	}

	err := s.query(ctx, s.q.credentialSet).Bind(hash, dbTime(at), tenantID, userID).
		ExecRelease()
	if err != nil {
		return ctxErr(ctx, err)
	}

	_, err = us.get(ctx, tenantID, userID)
	if errs.CodeOf(err) == errs.NotFound {
		if derr := s.deleteCredentials(ctx, tenantID, userID); derr != nil {
			return derr
		}
	}
	return err
}

func (cs credentials) GetPassword(ctx context.Context, tenantID,
	userID string) (store.PasswordCredential, error) {
	s := cs.s
	if err := checkID("tenantId", tenantID); err != nil {
		return store.PasswordCredential{}, err
	}
	if err := checkID("id", userID); err != nil {
		return store.PasswordCredential{}, err
	}
	var row struct {
		Hash      *string   `db:"password_hash"`
		UpdatedAt time.Time `db:"password_updated_at"`
	}
	err := s.query(ctx, s.q.credentialGet).Bind(tenantID, userID).Idempotent(true).
		GetRelease(&row)
	if isNotFound(err) || (err == nil && row.Hash == nil) {
		return store.PasswordCredential{}, notFound("password")
	}
	if err != nil {
		return store.PasswordCredential{}, ctxErr(ctx, err)
	}
	return store.PasswordCredential{Hash: *row.Hash, UpdatedAt: dbTime(row.UpdatedAt)}, nil
}

// deleteCredentials deletes every credential of a user, and the user's
// sign-in record and second factors with them. It runs once the user's fate is decided, so it
// ignores the caller's cancellation, like release.
func (s *Store) deleteCredentials(ctx context.Context, tenantID, userID string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.Timeout)
	defer cancel()
	err := s.query(ctx, s.q.credentialDelete).Bind(tenantID, userID).Idempotent(true).
		ExecRelease()
	if err != nil {
		return unavailable(err)
	}
	if err := s.deleteFactors(ctx, tenantID, userID); err != nil {
		return err
	}
	return s.deleteSignIns(ctx, tenantID, userID)
}
