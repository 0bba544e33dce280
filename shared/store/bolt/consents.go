package bolt

import (
	"context"

	"github.com/google/uuid"
	bbolt "go.etcd.io/bbolt"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
)

// Consents are records of bucket consents keyed by tenant, user and
// client ID, so that a user's consents are one range in order of client.
// The record is the consent's JSON; its IDs come from the key. A new
// bucket in an older file is made by Open, like every bucket.

var bucketConsents = []byte("consents")

type consents struct{ s *Store }

// Consents returns the consent store.
func (s *Store) Consents() store.Consents { return consents{s} }

func parseConsentIDs(tenantID, userID, clientID string) (tenant, user, client uuid.UUID,
	err error) {
	if tenant, err = parseID("tenantId", tenantID); err != nil {
		return
	}
	if user, err = parseID("userId", userID); err != nil {
		return
	}
	client, err = parseID("clientId", clientID)
	return
}

func getConsent(tx *bbolt.Tx, key []byte) (c store.Consent, ok bool, err error) {
	v := tx.Bucket(bucketConsents).Get(key)
	if v == nil {
		return store.Consent{}, false, nil
	}
	if err := decode(v, &c); err != nil {
		return store.Consent{}, false, err
	}
	return c, true, nil
}

func (cs consents) Get(ctx context.Context, tenantID, userID, clientID string) (store.Consent,
	error) {
	tenant, user, client, err := parseConsentIDs(tenantID, userID, clientID)
	if err != nil {
		return store.Consent{}, err
	}
	var out store.Consent
	err = cs.s.view(ctx, func(tx *bbolt.Tx) error {
		c, ok, err := getConsent(tx, join(tenant[:], user[:], client[:]))
		if err != nil {
			return err
		}
		if !ok {
			return notFound("consent")
		}
		out = c
		return nil
	})
	return out, err
}

// Grant merges in one transaction, so concurrent grants serialize.
func (cs consents) Grant(ctx context.Context, c store.Consent) (store.Consent, error) {
	tenant, user, client, err := parseConsentIDs(c.TenantID, c.UserID, c.ClientID)
	if err != nil {
		return store.Consent{}, err
	}
	if c, err = store.CheckConsent(c); err != nil {
		return store.Consent{}, err
	}
	key := join(tenant[:], user[:], client[:])
	err = cs.s.update(ctx, func(tx *bbolt.Tx) error {
		old, ok, err := getConsent(tx, key)
		if err != nil {
			return err
		}
		if ok {
			c.CreatedAt = old.CreatedAt
			c.Scopes = store.MergeScopes(old.Scopes, c.Scopes)
			if len(c.Scopes) > store.MaxConsentScopes {
				return errs.Invalid("scopes", "must hold at most %d scopes",
					store.MaxConsentScopes)
			}
		}
		return tx.Bucket(bucketConsents).Put(key, encode(c))
	})
	if err != nil {
		return store.Consent{}, err
	}
	return c, nil
}

func (cs consents) ListByUser(ctx context.Context, tenantID, userID string) ([]store.Consent,
	error) {
	tenant, err := parseID("tenantId", tenantID)
	if err != nil {
		return nil, err
	}
	user, err := parseID("userId", userID)
	if err != nil {
		return nil, err
	}
	var out []store.Consent
	err = cs.s.view(ctx, func(tx *bbolt.Tx) error {
		return scan(tx.Bucket(bucketConsents), join(tenant[:], user[:]), nil,
			func(_ uuid.UUID, v []byte) (bool, error) {
				var c store.Consent
				if err := decode(v, &c); err != nil {
					return false, err
				}
				out = append(out, c)
				return len(out) < store.MaxConsentsByUser, nil
			})
	})
	return out, err
}

func (cs consents) Delete(ctx context.Context, tenantID, userID, clientID string) error {
	tenant, user, client, err := parseConsentIDs(tenantID, userID, clientID)
	if err != nil {
		return err
	}
	key := join(tenant[:], user[:], client[:])
	return cs.s.update(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketConsents)
		if b.Get(key) == nil {
			return notFound("consent")
		}
		return b.Delete(key)
	})
}
