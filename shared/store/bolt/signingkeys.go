package bolt

import (
	"context"
	"errors"

	"github.com/google/uuid"
	bbolt "go.etcd.io/bbolt"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
)

// A tenant's signing keys are one record of bucket signingKeys, keyed by
// the tenant's ID: the set as JSON, version included.

var bucketSigningKeys = []byte("signingKeys")

type signingKeys struct{ s *Store }

// SigningKeys returns the signing key store.
func (s *Store) SigningKeys() store.SigningKeys { return signingKeys{s} }

// normalKeySet checks a set and the IDs in it, and normalizes its times.
func normalKeySet(set store.SigningKeySet) (store.SigningKeySet, uuid.UUID, error) {
	tenant, err := parseID("tenantId", set.TenantID)
	if err != nil {
		return store.SigningKeySet{}, tenant, err
	}
	if err := set.Check(); err != nil {
		return store.SigningKeySet{}, tenant, err
	}
	for _, k := range set.Keys {
		if _, err := parseID("id", k.ID); err != nil {
			return store.SigningKeySet{}, tenant, err
		}
	}
	return set.Normal(), tenant, nil
}

func readKeySet(tx *bbolt.Tx, tenant uuid.UUID) (store.SigningKeySet, bool, error) {
	v := tx.Bucket(bucketSigningKeys).Get(tenant[:])
	if v == nil {
		return store.SigningKeySet{}, false, nil
	}
	var set store.SigningKeySet
	err := decode(v, &set)
	return set, err == nil, err
}

func (sk signingKeys) Get(ctx context.Context, tenantID string) (store.SigningKeySet, error) {
	tenant, err := parseID("tenantId", tenantID)
	if err != nil {
		return store.SigningKeySet{}, err
	}
	var out store.SigningKeySet
	err = sk.s.view(ctx, func(tx *bbolt.Tx) error {
		set, ok, err := readKeySet(tx, tenant)
		if err != nil {
			return err
		}
		if !ok {
			return notFound("signing key set")
		}
		out = set
		return nil
	})
	return out, err
}

func (sk signingKeys) Create(ctx context.Context, set store.SigningKeySet) (store.SigningKeySet,
	error) {
	set, tenant, err := normalKeySet(set)
	if err != nil {
		return store.SigningKeySet{}, err
	}
	set.Version = 1
	err = sk.s.update(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketSigningKeys)
		if b.Get(tenant[:]) != nil {
			return errs.New(errs.Conflict, "the tenant has signing keys already")
		}
		return b.Put(tenant[:], encode(set))
	})
	if err != nil {
		return store.SigningKeySet{}, err
	}
	return set, nil
}

// Update reads the set, runs fn outside any transaction and writes its
// result only if the set's Version is still the one fn saw.
func (sk signingKeys) Update(ctx context.Context, tenantID string,
	fn func(store.SigningKeySet) (store.SigningKeySet, error)) (store.SigningKeySet, error) {
	if _, err := parseID("tenantId", tenantID); err != nil {
		return store.SigningKeySet{}, err
	}
	for range maxUpdateAttempts {
		old, err := sk.Get(ctx, tenantID)
		if err != nil {
			return store.SigningKeySet{}, err
		}
		next, err := fn(old)
		if err != nil {
			return store.SigningKeySet{}, err
		}
		next.TenantID = old.TenantID
		next, tenant, err := normalKeySet(next)
		if err != nil {
			return store.SigningKeySet{}, err
		}
		next.Version = old.Version + 1
		err = sk.s.update(ctx, func(tx *bbolt.Tx) error {
			cur, ok, err := readKeySet(tx, tenant)
			switch {
			case err != nil:
				return err
			case !ok:
				return notFound("signing key set")
			case cur.Version != old.Version:
				return errLostRace
			}
			return tx.Bucket(bucketSigningKeys).Put(tenant[:], encode(next))
		})
		if errors.Is(err, errLostRace) {
			continue
		}
		if err != nil {
			return store.SigningKeySet{}, err
		}
		return next, nil
	}
	return store.SigningKeySet{}, errs.New(errs.Conflict,
		"signing keys changed too often concurrently")
}

func (sk signingKeys) Delete(ctx context.Context, tenantID string) error {
	tenant, err := parseID("tenantId", tenantID)
	if err != nil {
		return err
	}
	return sk.s.update(ctx, func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketSigningKeys).Delete(tenant[:])
	})
}
