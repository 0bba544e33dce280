package bolt

import (
	"context"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
)

type credentials struct{ s *Store }

// credentialRec is the record of the credentials bucket.
type credentialRec struct {
	Hash    string `json:"h"`
	Updated int64  `json:"u"`
}

// maxPhoneLen bounds a phone number; E.164 numbers have at most 15 digits.
const maxPhoneLen = 64

func checkPhone(s string) error {
	if len(s) > maxPhoneLen {
		return errs.Invalid("phone", "must be at most %d bytes", maxPhoneLen)
	}
	return checkText("phone", s)
}

// checkHash checks a password hash before it is stored.
func checkHash(h string) error {
	if h == "" {
		return errs.Invalid("hash", "is required")
	}
	if len(h) > maxKeyLen {
		return errs.Invalid("hash", "must be at most %d bytes", maxKeyLen)
	}
	return checkText("hash", h)
}

func (cs credentials) SetPassword(ctx context.Context, tenantID, userID, hash string,
	at time.Time) error {
	tenant, uid, err := parseUserIDs(tenantID, userID)
	if err != nil {
		return err
	}
	if err := checkHash(hash); err != nil {
		return err
	}
	rec := credentialRec{Hash: hash, Updated: toMS(at)}

	// The user is checked and the credential written in one transaction,
	// so a concurrent Delete either runs first (ErrNotFound here) or
	// removes this credential with the user.
	return cs.s.update(ctx, func(tx *bbolt.Tx) error {
		if _, ok, err := getUser(tx, tenant, uid); err != nil || !ok {
			if err != nil {
				return err
			}
			return notFound("user")
		}
		return tx.Bucket(bucketCredentials).Put(join(tenant[:], uid[:]), encode(rec))
	})
}

func (cs credentials) GetPassword(ctx context.Context, tenantID,
	userID string) (store.PasswordCredential, error) {
	tenant, uid, err := parseUserIDs(tenantID, userID)
	if err != nil {
		return store.PasswordCredential{}, err
	}
	var out store.PasswordCredential
	err = cs.s.view(ctx, func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketCredentials).Get(join(tenant[:], uid[:]))
		if v == nil {
			return notFound("password")
		}
		var rec credentialRec
		if err := decode(v, &rec); err != nil {
			return err
		}
		out = store.PasswordCredential{Hash: rec.Hash, UpdatedAt: fromMS(rec.Updated)}
		return nil
	})
	return out, err
}
