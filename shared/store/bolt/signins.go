package bolt

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	bbolt "go.etcd.io/bbolt"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
)

type signIns struct{ s *Store }

func (s *Store) SignIns() store.SignIns { return signIns{s} }

// signInRec is the record of the signIns bucket, keyed by tenant and user.
type signInRec struct {
	Devices  []deviceRec  `json:"d,omitempty"`
	Networks []networkRec `json:"n,omitempty"`
	Last     int64        `json:"l,omitempty"`
	Strong   int64        `json:"s,omitempty"`
	Version  int64        `json:"v"`
}

type deviceRec struct {
	ID    string `json:"i"`
	First int64  `json:"f"`
	Last  int64  `json:"l"`
}

type networkRec struct {
	Prefix string `json:"p"`
	Last   int64  `json:"l"`
}

func signInRecOf(r store.SignInRecord) signInRec {
	rec := signInRec{Last: toOptMS(r.LastSignInAt), Strong: toOptMS(r.LastStrongAt),
		Version: r.Version}
	for _, d := range r.Devices {
		rec.Devices = append(rec.Devices, deviceRec{ID: d.ID, First: toMS(d.FirstSeen),
			Last: toMS(d.LastSeen)})
	}
	for _, n := range r.Networks {
		rec.Networks = append(rec.Networks, networkRec{Prefix: n.Prefix, Last: toMS(n.LastSeen)})
	}
	return rec
}

func (r signInRec) record(tenant, user uuid.UUID) store.SignInRecord {
	out := store.SignInRecord{TenantID: tenant.String(), UserID: user.String(),
		LastSignInAt: fromOptMS(r.Last), LastStrongAt: fromOptMS(r.Strong), Version: r.Version}
	for _, d := range r.Devices {
		out.Devices = append(out.Devices, store.KnownDevice{ID: d.ID, FirstSeen: fromMS(d.First),
			LastSeen: fromMS(d.Last)})
	}
	for _, n := range r.Networks {
		out.Networks = append(out.Networks, store.KnownNetwork{Prefix: n.Prefix,
			LastSeen: fromMS(n.Last)})
	}
	return out
}

// toOptMS and fromOptMS keep a zero time zero.
func toOptMS(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return toMS(t)
}

func fromOptMS(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return fromMS(ms)
}

func (ss signIns) Get(ctx context.Context, tenantID, userID string) (store.SignInRecord, error) {
	tenant, uid, err := parseUserIDs(tenantID, userID)
	if err != nil {
		return store.SignInRecord{}, err
	}
	var rec signInRec
	var found bool
	err = ss.s.view(ctx, func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketSignIns).Get(join(tenant[:], uid[:]))
		if v == nil {
			return nil
		}
		found = true
		return decode(v, &rec)
	})
	if err != nil {
		return store.SignInRecord{}, err
	}
	if !found {
		return store.SignInRecord{}, notFound("sign-in record")
	}
	return rec.record(tenant, uid), nil
}

func (ss signIns) Update(ctx context.Context, tenantID, userID string,
	fn func(store.SignInRecord) (store.SignInRecord, error)) (store.SignInRecord, error) {
	tenant, uid, err := parseUserIDs(tenantID, userID)
	if err != nil {
		return store.SignInRecord{}, err
	}
	for range maxUpdateAttempts {
		old, err := ss.Get(ctx, tenantID, userID)
		if errs.CodeOf(err) == errs.NotFound {
			old, err = store.SignInRecord{TenantID: tenant.String(), UserID: uid.String()}, nil
		}
		if err != nil {
			return store.SignInRecord{}, err
		}
		next, err := fn(old)
		if err != nil {
			return store.SignInRecord{}, err
		}
		if err := next.Check(); err != nil {
			return store.SignInRecord{}, err
		}
		next.Version = old.Version + 1
		rec := signInRecOf(next)

		err = ss.s.update(ctx, func(tx *bbolt.Tx) error {
			// The user is checked in the same transaction, so a record is
			// never written for a user a concurrent Delete removed.
			if _, ok, err := getUser(tx, tenant, uid); err != nil || !ok {
				if err != nil {
					return err
				}
				return notFound("user")
			}
			b := tx.Bucket(bucketSignIns)
			key := join(tenant[:], uid[:])
			var cur signInRec
			if v := b.Get(key); v != nil {
				if err := decode(v, &cur); err != nil {
					return err
				}
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
			return store.SignInRecord{}, err
		}
		return rec.record(tenant, uid), nil
	}
	return store.SignInRecord{}, errs.New(errs.Conflict, "sign-in record changed too often concurrently")
}
