package bolt

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/google/uuid"
	bbolt "go.etcd.io/bbolt"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
)

// A tenant's trusted issuers are one record, keyed by the tenant's ID in
// bucket trustedIssuers: the JSON array of the set, in order of ID.
// Writes read and write it in one transaction, so the uniqueness of
// Issuer and the MaxTrustedIssuers bound hold under any concurrency.

var bucketTrustedIssuers = []byte("trustedIssuers")

type trustedIssuers struct{ s *Store }

// TrustedIssuers returns the trusted issuer store.
func (s *Store) TrustedIssuers() store.TrustedIssuers { return trustedIssuers{s} }

func readIssuerSet(tx *bbolt.Tx, tenant uuid.UUID) (store.TrustedIssuerSet, error) {
	v := tx.Bucket(bucketTrustedIssuers).Get(tenant[:])
	if v == nil {
		return nil, nil
	}
	var set store.TrustedIssuerSet
	if err := decode(v, &set); err != nil {
		return nil, err
	}
	return set, nil
}

func writeIssuerSet(tx *bbolt.Tx, tenant uuid.UUID, set store.TrustedIssuerSet) error {
	b := tx.Bucket(bucketTrustedIssuers)
	if len(set) == 0 {
		return b.Delete(tenant[:])
	}
	return b.Put(tenant[:], encode(set))
}

// normalIssuer checks ti and keeps its times at millisecond precision in
// UTC, as every record's.
func normalIssuer(ti store.TrustedIssuer) (store.TrustedIssuer, error) {
	if err := ti.Check(); err != nil {
		return store.TrustedIssuer{}, err
	}
	ti.CreatedAt = ti.CreatedAt.UTC().Truncate(time.Millisecond)
	ti.UpdatedAt = ti.UpdatedAt.UTC().Truncate(time.Millisecond)
	ti.Audiences = slices.Clone(ti.Audiences)
	ti.Algorithms = slices.Clone(ti.Algorithms)
	ti.Claims = slices.Clone(ti.Claims)
	return ti, nil
}

func (ts trustedIssuers) Create(ctx context.Context, ti store.TrustedIssuer) (store.TrustedIssuer,
	error) {
	tenant, _, err := parseIssuerIDs(ti.TenantID, ti.ID)
	if err != nil {
		return store.TrustedIssuer{}, err
	}
	if ti, err = normalIssuer(ti); err != nil {
		return store.TrustedIssuer{}, err
	}
	var out store.TrustedIssuer
	err = ts.s.update(ctx, func(tx *bbolt.Tx) error {
		set, err := readIssuerSet(tx, tenant)
		if err != nil {
			return err
		}
		set, out, err = set.Add(ti)
		if err != nil {
			return err
		}
		return writeIssuerSet(tx, tenant, set)
	})
	if err != nil {
		return store.TrustedIssuer{}, err
	}
	return out, nil
}

func parseIssuerIDs(tenantID, id string) (tenant, iid uuid.UUID, err error) {
	if tenant, err = parseID("tenantId", tenantID); err != nil {
		return tenant, iid, err
	}
	iid, err = parseID("id", id)
	return tenant, iid, err
}

func (ts trustedIssuers) Get(ctx context.Context, tenantID, id string) (store.TrustedIssuer,
	error) {
	tenant, _, err := parseIssuerIDs(tenantID, id)
	if err != nil {
		return store.TrustedIssuer{}, err
	}
	return ts.find(ctx, tenant, func(s store.TrustedIssuerSet) int { return s.Find(id) })
}

func (ts trustedIssuers) GetByIssuer(ctx context.Context, tenantID, issuer string) (
	store.TrustedIssuer, error) {
	tenant, err := parseID("tenantId", tenantID)
	if err != nil {
		return store.TrustedIssuer{}, err
	}
	return ts.find(ctx, tenant, func(s store.TrustedIssuerSet) int { return s.FindIssuer(issuer) })
}

func (ts trustedIssuers) find(ctx context.Context, tenant uuid.UUID,
	index func(store.TrustedIssuerSet) int) (store.TrustedIssuer, error) {
	var out store.TrustedIssuer
	err := ts.s.view(ctx, func(tx *bbolt.Tx) error {
		set, err := readIssuerSet(tx, tenant)
		if err != nil {
			return err
		}
		i := index(set)
		if i < 0 {
			return notFound("trusted issuer")
		}
		out = set[i]
		return nil
	})
	return out, err
}

func (ts trustedIssuers) List(ctx context.Context, tenantID string) ([]store.TrustedIssuer,
	error) {
	tenant, err := parseID("tenantId", tenantID)
	if err != nil {
		return nil, err
	}
	var out store.TrustedIssuerSet
	err = ts.s.view(ctx, func(tx *bbolt.Tx) error {
		out, err = readIssuerSet(tx, tenant)
		return err
	})
	return out, err
}

// Update reads the issuer, runs fn outside any transaction and writes the
// result only if the issuer's Version is still the one fn saw.
func (ts trustedIssuers) Update(ctx context.Context, tenantID, id string,
	fn func(store.TrustedIssuer) (store.TrustedIssuer, error)) (store.TrustedIssuer, error) {
	tenant, _, err := parseIssuerIDs(tenantID, id)
	if err != nil {
		return store.TrustedIssuer{}, err
	}
	for range maxUpdateAttempts {
		old, err := ts.Get(ctx, tenantID, id)
		if err != nil {
			return store.TrustedIssuer{}, err
		}
		next, err := fn(old)
		if err != nil {
			return store.TrustedIssuer{}, err
		}
		next.ID = old.ID
		if next, err = normalIssuer(next); err != nil {
			return store.TrustedIssuer{}, err
		}
		var out store.TrustedIssuer
		err = ts.s.update(ctx, func(tx *bbolt.Tx) error {
			set, err := readIssuerSet(tx, tenant)
			if err != nil {
				return err
			}
			i := set.Find(id)
			switch {
			case i < 0:
				return notFound("trusted issuer")
			case set[i].Version != old.Version:
				return errLostRace
			}
			set, out, err = set.Replace(next)
			if err != nil {
				return err
			}
			return writeIssuerSet(tx, tenant, set)
		})
		if errors.Is(err, errLostRace) {
			continue
		}
		if err != nil {
			return store.TrustedIssuer{}, err
		}
		return out, nil
	}
	return store.TrustedIssuer{}, errs.New(errs.Conflict,
		"trusted issuer changed too often concurrently")
}

func (ts trustedIssuers) Delete(ctx context.Context, tenantID, id string) error {
	tenant, _, err := parseIssuerIDs(tenantID, id)
	if err != nil {
		return err
	}
	return ts.s.update(ctx, func(tx *bbolt.Tx) error {
		set, err := readIssuerSet(tx, tenant)
		if err != nil {
			return err
		}
		if set, err = set.Remove(id); err != nil {
			return err
		}
		return writeIssuerSet(tx, tenant, set)
	})
}
