package bolt

import (
	"context"
	"errors"
	"slices"

	"github.com/google/uuid"
	bbolt "go.etcd.io/bbolt"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
)

type factors struct{ s *Store }

// Factors returns the second factor store.
func (s *Store) Factors() store.Factors { return factors{s} }

// factorRec is the record of the factors bucket, keyed by tenant, user
// and ID, so that a user's factors are one prefix.
type factorRec struct {
	Type      string `json:"t"`
	Name      string `json:"n,omitempty"`
	Confirmed bool   `json:"c,omitempty"`
	Secret    []byte `json:"s,omitempty"`
	Data      []byte `json:"d,omitempty"`
	LastStep  int64  `json:"ls,omitempty"`
	Created   int64  `json:"ca"`
	LastUsed  int64  `json:"lu,omitempty"`
	Version   int64  `json:"v"`
}

func factorRecOf(f store.Factor) factorRec {
	return factorRec{Type: string(f.Type), Name: f.Name, Confirmed: f.Confirmed,
		Secret: slices.Clone(f.Secret), Data: slices.Clone(f.Data), LastStep: f.LastStep,
		Created: toMS(f.CreatedAt), LastUsed: toOptMS(f.LastUsedAt), Version: f.Version}
}

func (r factorRec) factor(tenant, user, id uuid.UUID) store.Factor {
	return store.Factor{ID: id.String(), TenantID: tenant.String(), UserID: user.String(),
		Type: store.FactorType(r.Type), Name: r.Name, Confirmed: r.Confirmed,
		Secret: slices.Clone(r.Secret), Data: slices.Clone(r.Data), LastStep: r.LastStep,
		CreatedAt: fromMS(r.Created), LastUsedAt: fromOptMS(r.LastUsed), Version: r.Version}
}

func factorKey(tenant, user, id uuid.UUID) []byte { return join(tenant[:], user[:], id[:]) }

func parseFactorIDs(tenantID, userID, id string) (tenant, user, fid uuid.UUID, err error) {
	if tenant, user, err = parseUserIDs(tenantID, userID); err != nil {
		return
	}
	fid, err = parseID("id", id)
	return
}

func (fs factors) Create(ctx context.Context, f store.Factor) (store.Factor, error) {
	tenant, user, id, err := parseFactorIDs(f.TenantID, f.UserID, f.ID)
	if err != nil {
		return store.Factor{}, err
	}
	if err := f.Check(); err != nil {
		return store.Factor{}, err
	}
	f.Version = 1
	rec := factorRecOf(f)
	err = fs.s.update(ctx, func(tx *bbolt.Tx) error {
		if _, ok, err := getUser(tx, tenant, user); err != nil || !ok {
			if err != nil {
				return err
			}
			return notFound("user")
		}
		b := tx.Bucket(bucketFactors)
		key := factorKey(tenant, user, id)
		if b.Get(key) != nil {
			return errs.New(errs.Conflict, "factor ID taken")
		}
		return b.Put(key, encode(rec))
	})
	if err != nil {
		return store.Factor{}, err
	}
	return rec.factor(tenant, user, id), nil
}

func (fs factors) Get(ctx context.Context, tenantID, userID, id string) (store.Factor, error) {
	tenant, user, fid, err := parseFactorIDs(tenantID, userID, id)
	if err != nil {
		return store.Factor{}, err
	}
	var rec factorRec
	var found bool
	err = fs.s.view(ctx, func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketFactors).Get(factorKey(tenant, user, fid))
		if v == nil {
			return nil
		}
		found = true
		return decode(v, &rec)
	})
	if err != nil {
		return store.Factor{}, err
	}
	if !found {
		return store.Factor{}, notFound("factor")
	}
	return rec.factor(tenant, user, fid), nil
}

func (fs factors) ListByUser(ctx context.Context, tenantID, userID string) ([]store.Factor,
	error) {
	tenant, user, err := parseUserIDs(tenantID, userID)
	if err != nil {
		return nil, err
	}
	var out []store.Factor
	err = fs.s.view(ctx, func(tx *bbolt.Tx) error {
		return scan(tx.Bucket(bucketFactors), join(tenant[:], user[:]), nil,
			func(id uuid.UUID, v []byte) (bool, error) {
				var rec factorRec
				if err := decode(v, &rec); err != nil {
					return false, err
				}
				out = append(out, rec.factor(tenant, user, id))
				return true, nil
			})
	})
	return out, err
}

func (fs factors) Update(ctx context.Context, tenantID, userID, id string,
	fn func(store.Factor) (store.Factor, error)) (store.Factor, error) {
	tenant, user, fid, err := parseFactorIDs(tenantID, userID, id)
	if err != nil {
		return store.Factor{}, err
	}
	for range maxUpdateAttempts {
		old, err := fs.Get(ctx, tenantID, userID, id)
		if err != nil {
			return store.Factor{}, err
		}
		next, err := fn(old)
		if err != nil {
			return store.Factor{}, err
		}
		next.ID, next.TenantID, next.UserID = old.ID, old.TenantID, old.UserID
		next.Type, next.CreatedAt, next.Version = old.Type, old.CreatedAt, old.Version+1
		if err := next.Check(); err != nil {
			return store.Factor{}, err
		}
		rec := factorRecOf(next)

		err = fs.s.update(ctx, func(tx *bbolt.Tx) error {
			b := tx.Bucket(bucketFactors)
			key := factorKey(tenant, user, fid)
			v := b.Get(key)
			if v == nil {
				return notFound("factor")
			}
			var cur factorRec
			if err := decode(v, &cur); err != nil {
				return err
			}
			if cur.Version != old.Version {
				return errLostRace
			}
			return b.Put(key, encode(rec))
		})
		if errors.Is(err, errLostRace) {
			continue
		}
		if err != nil {
			return store.Factor{}, err
		}
		return rec.factor(tenant, user, fid), nil
	}
	return store.Factor{}, errs.New(errs.Conflict, "factor changed too often concurrently")
}

func (fs factors) Delete(ctx context.Context, tenantID, userID, id string) error {
	tenant, user, fid, err := parseFactorIDs(tenantID, userID, id)
	if err != nil {
		return err
	}
	return fs.s.update(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketFactors)
		key := factorKey(tenant, user, fid)
		if b.Get(key) == nil {
			return notFound("factor")
		}
		return b.Delete(key)
	})
}

func (fs factors) DeleteByUser(ctx context.Context, tenantID, userID string) (int, error) {
	tenant, user, err := parseUserIDs(tenantID, userID)
	if err != nil {
		return 0, err
	}
	var n int
	err = fs.s.update(ctx, func(tx *bbolt.Tx) error {
		n, err = deleteFactors(tx, tenant, user)
		return err
	})
	return n, err
}

// deleteFactors deletes every factor of a user in tx.
func deleteFactors(tx *bbolt.Tx, tenant, user uuid.UUID) (int, error) {
	b := tx.Bucket(bucketFactors)
	var keys [][]byte
	err := scan(b, join(tenant[:], user[:]), nil, func(id uuid.UUID, _ []byte) (bool, error) {
		keys = append(keys, factorKey(tenant, user, id))
		return true, nil
	})
	if err != nil {
		return 0, err
	}
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return 0, err
		}
	}
	return len(keys), nil
}
