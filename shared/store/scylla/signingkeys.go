package scylla

import (
	"context"
	"encoding/json"
	"strings"
	"sync"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
)

// A tenant's signing keys are one row of signing_keys (migration 0012):
// the set as JSON and a version, written by lightweight transactions only
// (IF NOT EXISTS to create, IF version = ? to update).

type signingKeys struct{ s *Store }

// SigningKeys returns the signing key store.
func (s *Store) SigningKeys() store.SigningKeys { return signingKeys{s} }

type keyStatements struct{ get, insert, update, delete string }

var keyStatementsByKeyspace sync.Map // keyspace → *keyStatements

func (s *Store) skq() *keyStatements {
	if q, ok := keyStatementsByKeyspace.Load(s.cfg.Keyspace); ok {
		return q.(*keyStatements)
	}
	r := strings.NewReplacer("{ks}", s.cfg.Keyspace)
	q := &keyStatements{
		get: r.Replace(`SELECT data, version FROM {ks}.signing_keys WHERE tenant_id = ?`),
		insert: r.Replace(`INSERT INTO {ks}.signing_keys (tenant_id, data, version)
    VALUES (?, ?, 1) IF NOT EXISTS`),
		update: r.Replace(`UPDATE {ks}.signing_keys SET data = ?, version = ?
    WHERE tenant_id = ? IF version = ?`),
		delete: r.Replace(`DELETE FROM {ks}.signing_keys WHERE tenant_id = ? IF EXISTS`),
	}
	actual, _ := keyStatementsByKeyspace.LoadOrStore(s.cfg.Keyspace, q)
	return actual.(*keyStatements)
}

type keySetRow struct {
	Data    string `db:"data"`
	Version int64  `db:"version"`
}

func normalKeySet(set store.SigningKeySet) (store.SigningKeySet, error) {
	if err := checkID("tenantId", set.TenantID); err != nil {
		return store.SigningKeySet{}, err
	}
	if err := set.Check(); err != nil {
		return store.SigningKeySet{}, err
	}
	for _, k := range set.Keys {
		if err := checkID("id", k.ID); err != nil {
			return store.SigningKeySet{}, err
		}
	}
	return set.Normal(), nil
}

func (sk signingKeys) Get(ctx context.Context, tenantID string) (store.SigningKeySet, error) {
	if err := checkID("tenantId", tenantID); err != nil {
		return store.SigningKeySet{}, err
	}
	var row keySetRow
	err := sk.s.query(ctx, sk.s.skq().get).Bind(tenantID).Idempotent(true).GetRelease(&row)
	if isNotFound(err) {
		return store.SigningKeySet{}, notFound("signing key set")
	}
	if err != nil {
		return store.SigningKeySet{}, ctxErr(ctx, err)
	}
	var set store.SigningKeySet
	if err := json.Unmarshal([]byte(row.Data), &set); err != nil {
		return store.SigningKeySet{}, unavailable(err)
	}
	set.Version = row.Version
	return set, nil
}

func (sk signingKeys) Create(ctx context.Context, set store.SigningKeySet) (store.SigningKeySet,
	error) {
	set, err := normalKeySet(set)
	if err != nil {
		return store.SigningKeySet{}, err
	}
	set.Version = 1
	b, err := json.Marshal(set)
	if err != nil {
		return store.SigningKeySet{}, errs.Wrap(errs.Internal, err, "internal error")
	}
	data := string(b)
	s := sk.s
	applied, err := s.query(ctx, s.skq().insert).Bind(set.TenantID, data).ExecCASRelease()
	if err != nil {
		landed := func(ctx context.Context) (bool, error) {
			var row keySetRow
			err := serial(s.query(ctx, s.skq().get)).Bind(set.TenantID).GetRelease(&row)
			if isNotFound(err) {
				return false, nil
			}
			return err == nil && row.Version == 1 && row.Data == data, err
		}
		if applied, err = s.settle(ctx, err, landed); err != nil {
			return store.SigningKeySet{}, ctxErr(ctx, err)
		}
	}
	if !applied {
		return store.SigningKeySet{}, errs.New(errs.Conflict,
			"the tenant has signing keys already")
	}
	return set, nil
}

// Update runs fn on the set as read and swaps the row only if its version
// is still the one fn saw; otherwise it reads again.
func (sk signingKeys) Update(ctx context.Context, tenantID string,
	fn func(store.SigningKeySet) (store.SigningKeySet, error)) (store.SigningKeySet, error) {
	if err := checkID("tenantId", tenantID); err != nil {
		return store.SigningKeySet{}, err
	}
	s := sk.s
	for attempt := range maxCASAttempts {
		backoff(ctx, attempt)
		old, err := sk.Get(ctx, tenantID)
		if err != nil {
			return store.SigningKeySet{}, err
		}
		next, err := fn(old)
		if err != nil {
			return store.SigningKeySet{}, err
		}
		next.TenantID = old.TenantID
		if next, err = normalKeySet(next); err != nil {
			return store.SigningKeySet{}, err
		}
		next.Version = old.Version + 1
		b, err := json.Marshal(next)
		if err != nil {
			return store.SigningKeySet{}, errs.Wrap(errs.Internal, err, "internal error")
		}
		data := string(b)
		var prev keySetRow
		applied, err := s.query(ctx, s.skq().update).Bind(data, next.Version, tenantID,
			old.Version).GetCASRelease(&prev)
		if err != nil {
			landed := func(ctx context.Context) (bool, error) {
				var row keySetRow
				err := serial(s.query(ctx, s.skq().get)).Bind(tenantID).GetRelease(&row)
				if isNotFound(err) {
					return false, nil
				}
				return err == nil && row.Version == next.Version && row.Data == data, err
			}
			if applied, err = s.settle(ctx, err, landed); err != nil {
				return store.SigningKeySet{}, ctxErr(ctx, err)
			}
		}
		if applied {
			return next, nil
		}
	}
	return store.SigningKeySet{}, errs.New(errs.Conflict,
		"signing keys changed concurrently; try again")
}

func (sk signingKeys) Delete(ctx context.Context, tenantID string) error {
	if err := checkID("tenantId", tenantID); err != nil {
		return err
	}
	// A lightweight transaction like every other write of the row: mixing
	// plain writes with them on one row is unsafe.
	_, err := sk.s.query(ctx, sk.s.skq().delete).Bind(tenantID).ExecCASRelease()
	if err != nil {
		return ctxErr(ctx, err)
	}
	return nil
}
