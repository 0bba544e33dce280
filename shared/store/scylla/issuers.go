package scylla

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
)

// A tenant's trusted issuers are one row of trusted_issuers (migration
// 0011): the set as JSON and a version, written by compare-and-swap only.
// Uniqueness of Issuer and the MaxTrustedIssuers bound are checked on the
// set read at the version the write swaps, so they hold under concurrent
// writers (see store.TrustedIssuerSet). A tenant whose last issuer is
// deleted keeps an empty row.

type trustedIssuers struct{ s *Store }

// TrustedIssuers returns the trusted issuer store.
func (s *Store) TrustedIssuers() store.TrustedIssuers { return trustedIssuers{s} }

type issuerStatements struct{ get, insert, update string }

var issuerStatementsByKeyspace sync.Map // keyspace → *issuerStatements

func (s *Store) tiq() *issuerStatements {
	if q, ok := issuerStatementsByKeyspace.Load(s.cfg.Keyspace); ok {
		return q.(*issuerStatements)
	}
	r := strings.NewReplacer("{ks}", s.cfg.Keyspace)
	q := &issuerStatements{
		get: r.Replace(`SELECT data, version FROM {ks}.trusted_issuers WHERE tenant_id = ?`),
		insert: r.Replace(`INSERT INTO {ks}.trusted_issuers (tenant_id, data, version)
    VALUES (?, ?, 1) IF NOT EXISTS`),
		update: r.Replace(`UPDATE {ks}.trusted_issuers SET data = ?, version = ?
    WHERE tenant_id = ? IF version = ?`),
	}
	actual, _ := issuerStatementsByKeyspace.LoadOrStore(s.cfg.Keyspace, q)
	return actual.(*issuerStatements)
}

type issuerRow struct {
	Data    string `db:"data"`
	Version int64  `db:"version"`
}

func (r issuerRow) set() (store.TrustedIssuerSet, error) {
	if r.Data == "" {
		return nil, nil
	}
	var set store.TrustedIssuerSet
	if err := json.Unmarshal([]byte(r.Data), &set); err != nil {
		return nil, unavailable(err)
	}
	return set, nil
}

// read returns a tenant's set and the row's version (0: no row).
func (ts trustedIssuers) read(ctx context.Context, tenantID string) (store.TrustedIssuerSet,
	int64, error) {
	var row issuerRow
	err := ts.s.query(ctx, ts.s.tiq().get).Bind(tenantID).Idempotent(true).GetRelease(&row)
	if isNotFound(err) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, ctxErr(ctx, err)
	}
	set, err := row.set()
	return set, row.Version, err
}

// write swaps the tenant's set from version old to next, reading the
// row again at serial consistency when the outcome is unknown. It reports
// whether the swap landed.
func (ts trustedIssuers) write(ctx context.Context, tenantID string, old int64,
	set store.TrustedIssuerSet) (bool, error) {
	s := ts.s
	b, err := json.Marshal(set)
	if err != nil {
		return false, errs.Wrap(errs.Internal, err, "internal error")
	}
	data := string(b)
	var applied bool
	if old == 0 {
		applied, err = s.query(ctx, s.tiq().insert).Bind(tenantID, data).ExecCASRelease()
	} else {
		var prev issuerRow
		applied, err = s.query(ctx, s.tiq().update).Bind(data, old+1, tenantID, old).
			GetCASRelease(&prev)
	}
	if err != nil {
		landed := func(ctx context.Context) (bool, error) {
			var row issuerRow
			err := serial(s.query(ctx, s.tiq().get)).Bind(tenantID).GetRelease(&row)
			if isNotFound(err) {
				return false, nil
			}
			return err == nil && row.Version == old+1 && row.Data == data, err
		}
		if applied, err = s.settle(ctx, err, landed); err != nil {
			return false, ctxErr(ctx, err)
		}
	}
	return applied, nil
}

// change applies edit to the tenant's set until a swap lands.
func (ts trustedIssuers) change(ctx context.Context, tenantID string,
	edit func(store.TrustedIssuerSet) (store.TrustedIssuerSet, error)) error {
	for attempt := range maxCASAttempts {
		backoff(ctx, attempt)
		set, version, err := ts.read(ctx, tenantID)
		if err != nil {
			return err
		}
		next, err := edit(set)
		if err != nil {
			return err
		}
		applied, err := ts.write(ctx, tenantID, version, next)
		if err != nil {
			return err
		}
		if applied {
			return nil
		}
	}
	return errs.New(errs.Conflict, "trusted issuers changed concurrently; try again")
}

func normalIssuer(ti store.TrustedIssuer) (store.TrustedIssuer, error) {
	if err := ti.Check(); err != nil {
		return store.TrustedIssuer{}, err
	}
	ti.CreatedAt, ti.UpdatedAt = dbTime(ti.CreatedAt), dbTime(ti.UpdatedAt)
	ti.Audiences = slices.Clone(ti.Audiences)
	ti.Algorithms = slices.Clone(ti.Algorithms)
	ti.Claims = slices.Clone(ti.Claims)
	return ti, nil
}

func (ts trustedIssuers) Create(ctx context.Context, ti store.TrustedIssuer) (store.TrustedIssuer,
	error) {
	if err := checkIDs([2]string{"tenantId", ti.TenantID}, [2]string{"id", ti.ID}); err != nil {
		return store.TrustedIssuer{}, err
	}
	ti, err := normalIssuer(ti)
	if err != nil {
		return store.TrustedIssuer{}, err
	}
	var out store.TrustedIssuer
	err = ts.change(ctx, ti.TenantID, func(set store.TrustedIssuerSet) (
		store.TrustedIssuerSet, error) {
		next, added, err := set.Add(ti)
		out = added
		return next, err
	})
	if err != nil {
		return store.TrustedIssuer{}, err
	}
	return out, nil
}

func (ts trustedIssuers) Get(ctx context.Context, tenantID, id string) (store.TrustedIssuer,
	error) {
	if err := checkIDs([2]string{"tenantId", tenantID}, [2]string{"id", id}); err != nil {
		return store.TrustedIssuer{}, err
	}
	return ts.find(ctx, tenantID, func(s store.TrustedIssuerSet) int { return s.Find(id) })
}

func (ts trustedIssuers) GetByIssuer(ctx context.Context, tenantID, issuer string) (
	store.TrustedIssuer, error) {
	if err := checkID("tenantId", tenantID); err != nil {
		return store.TrustedIssuer{}, err
	}
	return ts.find(ctx, tenantID, func(s store.TrustedIssuerSet) int {
		return s.FindIssuer(issuer)
	})
}

func (ts trustedIssuers) find(ctx context.Context, tenantID string,
	index func(store.TrustedIssuerSet) int) (store.TrustedIssuer, error) {
	set, _, err := ts.read(ctx, tenantID)
	if err != nil {
		return store.TrustedIssuer{}, err
	}
	i := index(set)
	if i < 0 {
		return store.TrustedIssuer{}, notFound("trusted issuer")
	}
	return set[i], nil
}

func (ts trustedIssuers) List(ctx context.Context, tenantID string) ([]store.TrustedIssuer,
	error) {
	if err := checkID("tenantId", tenantID); err != nil {
		return nil, err
	}
	set, _, err := ts.read(ctx, tenantID)
	return set, err
}

// Update runs fn on the issuer as read, and swaps the set only if the
// issuer's Version is still the one fn saw; otherwise it reads again.
func (ts trustedIssuers) Update(ctx context.Context, tenantID, id string,
	fn func(store.TrustedIssuer) (store.TrustedIssuer, error)) (store.TrustedIssuer, error) {
	if err := checkIDs([2]string{"tenantId", tenantID}, [2]string{"id", id}); err != nil {
		return store.TrustedIssuer{}, err
	}
	for attempt := range maxCASAttempts {
		backoff(ctx, attempt)
		set, version, err := ts.read(ctx, tenantID)
		if err != nil {
			return store.TrustedIssuer{}, err
		}
		i := set.Find(id)
		if i < 0 {
			return store.TrustedIssuer{}, notFound("trusted issuer")
		}
		next, err := fn(set[i])
		if err != nil {
			return store.TrustedIssuer{}, err
		}
		next.ID = id
		if next, err = normalIssuer(next); err != nil {
			return store.TrustedIssuer{}, err
		}
		nextSet, out, err := set.Replace(next)
		if err != nil {
			return store.TrustedIssuer{}, err
		}
		applied, err := ts.write(ctx, tenantID, version, nextSet)
		if err != nil {
			return store.TrustedIssuer{}, err
		}
		if applied {
			return out, nil
		}
	}
	return store.TrustedIssuer{}, errs.New(errs.Conflict,
		"trusted issuer changed concurrently; try again")
}

func (ts trustedIssuers) Delete(ctx context.Context, tenantID, id string) error {
	if err := checkIDs([2]string{"tenantId", tenantID}, [2]string{"id", id}); err != nil {
		return err
	}
	return ts.change(ctx, tenantID, func(set store.TrustedIssuerSet) (store.TrustedIssuerSet,
		error) {
		return set.Remove(id)
	})
}
