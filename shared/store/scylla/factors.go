package scylla

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
)

type factors struct{ s *Store }

// Factors returns the second factor store.
func (s *Store) Factors() store.Factors { return factors{s} }

// factorStatements are the statements of second factors, built once per
// keyspace (migrations/0010_factors.cql).
type factorStatements struct{ get, list, insert, update, del, delUser string }

var factorStatementsByKeyspace sync.Map // keyspace → *factorStatements

const factorColumns = `id, type, name, confirmed, secret, data, last_step, created_at,
    last_used_at, version`

func (s *Store) fq() *factorStatements {
	if q, ok := factorStatementsByKeyspace.Load(s.cfg.Keyspace); ok {
		return q.(*factorStatements)
	}
	r := strings.NewReplacer("{ks}", s.cfg.Keyspace, "{cols}", factorColumns)
	q := &factorStatements{
		get: r.Replace(`SELECT {cols} FROM {ks}.factors
    WHERE tenant_id = ? AND user_id = ? AND id = ?`),
		list: r.Replace(`SELECT {cols} FROM {ks}.factors WHERE tenant_id = ? AND user_id = ?`),
		insert: r.Replace(`INSERT INTO {ks}.factors (tenant_id, user_id, {cols})
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1) IF NOT EXISTS`),
		update: r.Replace(`UPDATE {ks}.factors
    SET name = ?, confirmed = ?, secret = ?, data = ?, last_step = ?, last_used_at = ?,
    version = ? WHERE tenant_id = ? AND user_id = ? AND id = ? IF version = ?`),
		del: r.Replace(`DELETE FROM {ks}.factors WHERE tenant_id = ? AND user_id = ? AND id = ?
    IF EXISTS`),
		delUser: r.Replace(`DELETE FROM {ks}.factors WHERE tenant_id = ? AND user_id = ?`),
	}
	actual, _ := factorStatementsByKeyspace.LoadOrStore(s.cfg.Keyspace, q)
	return actual.(*factorStatements)
}

type factorRow struct {
	ID        string    `db:"id"`
	Type      string    `db:"type"`
	Name      string    `db:"name"`
	Confirmed bool      `db:"confirmed"`
	Secret    []byte    `db:"secret"`
	Data      []byte    `db:"data"`
	LastStep  int64     `db:"last_step"`
	Created   time.Time `db:"created_at"`
	LastUsed  time.Time `db:"last_used_at"`
	Version   int64     `db:"version"`
}

func (r factorRow) factor(tenantID, userID string) store.Factor {
	return store.Factor{ID: r.ID, TenantID: tenantID, UserID: userID,
		Type: store.FactorType(r.Type), Name: r.Name, Confirmed: r.Confirmed,
		Secret: nilIfEmpty(r.Secret), Data: nilIfEmpty(r.Data), LastStep: r.LastStep,
		CreatedAt: dbTime(r.Created), LastUsedAt: optTime(r.LastUsed), Version: r.Version}
}

// nilIfEmpty reads an empty or null blob as nil, as the other backend
// returns it.
func nilIfEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

func checkFactorIDs(tenantID, userID, id string) error {
	return checkIDs([2]string{"tenantId", tenantID}, [2]string{"userId", userID},
		[2]string{"id", id})
}

// Create inserts the factor with IF NOT EXISTS. The user is read before
// the write and again after it, like SignIns.Update: a factor written for
// a user a concurrent Delete removed is deleted again.
func (fs factors) Create(ctx context.Context, f store.Factor) (store.Factor, error) {
	s := fs.s
	if err := checkFactorIDs(f.TenantID, f.UserID, f.ID); err != nil {
		return store.Factor{}, err
	}
	if err := f.Check(); err != nil {
		return store.Factor{}, err
	}
	us := users{s}
	if _, err := us.get(ctx, f.TenantID, f.UserID); err != nil {
		return store.Factor{}, err
	}
	f.Version = 1
	f.CreatedAt, f.LastUsedAt = dbTime(f.CreatedAt), optTime(f.LastUsedAt)
	applied, err := s.query(ctx, s.fq().insert).Bind(f.TenantID, f.UserID, f.ID,
		string(f.Type), f.Name, f.Confirmed, f.Secret, f.Data, f.LastStep, f.CreatedAt,
		optDBTime(f.LastUsedAt)).ExecCASRelease()
	if err != nil {
		landed := func(ctx context.Context) (bool, error) {
			var row factorRow
			err := serial(s.query(ctx, s.fq().get)).Bind(f.TenantID, f.UserID, f.ID).
				GetRelease(&row)
			if isNotFound(err) {
				return false, nil
			}
			return err == nil && row.Version == 1 && row.Type == string(f.Type) &&
				row.Created.Equal(f.CreatedAt), err
		}
		if applied, err = s.settle(ctx, err, landed); err != nil {
			return store.Factor{}, ctxErr(ctx, err)
		}
	}
	if !applied {
		return store.Factor{}, errs.New(errs.Conflict, "factor ID taken")
	}
	if _, err := us.get(ctx, f.TenantID, f.UserID); errs.CodeOf(err) == errs.NotFound {
		if derr := s.deleteFactors(ctx, f.TenantID, f.UserID); derr != nil {
			return store.Factor{}, derr
		}
		return store.Factor{}, err
	}
	f.Secret, f.Data = nilIfEmpty(f.Secret), nilIfEmpty(f.Data)
	return f, nil
}

func (fs factors) Get(ctx context.Context, tenantID, userID, id string) (store.Factor, error) {
	if err := checkFactorIDs(tenantID, userID, id); err != nil {
		return store.Factor{}, err
	}
	return fs.get(ctx, tenantID, userID, id)
}

func (fs factors) get(ctx context.Context, tenantID, userID, id string) (store.Factor, error) {
	var row factorRow
	err := fs.s.query(ctx, fs.s.fq().get).Bind(tenantID, userID, id).Idempotent(true).
		GetRelease(&row)
	if isNotFound(err) {
		return store.Factor{}, notFound("factor")
	}
	if err != nil {
		return store.Factor{}, ctxErr(ctx, err)
	}
	return row.factor(tenantID, userID), nil
}

func (fs factors) ListByUser(ctx context.Context, tenantID, userID string) ([]store.Factor,
	error) {
	if err := checkIDs([2]string{"tenantId", tenantID}, [2]string{"userId", userID}); err != nil {
		return nil, err
	}
	var rows []factorRow
	err := fs.s.query(ctx, fs.s.fq().list).Bind(tenantID, userID).Idempotent(true).
		SelectRelease(&rows)
	if err != nil {
		return nil, ctxErr(ctx, err)
	}
	out := make([]store.Factor, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.factor(tenantID, userID))
	}
	return out, nil
}

// Update is compare-and-swap on version.
func (fs factors) Update(ctx context.Context, tenantID, userID, id string,
	fn func(store.Factor) (store.Factor, error)) (store.Factor, error) {
	s := fs.s
	if err := checkFactorIDs(tenantID, userID, id); err != nil {
		return store.Factor{}, err
	}
	for attempt := range maxCASAttempts {
		backoff(ctx, attempt)
		old, err := fs.get(ctx, tenantID, userID, id)
		if err != nil {
			return store.Factor{}, err
		}
		next, err := fn(old)
		if err != nil {
			return store.Factor{}, err
		}
		next.ID, next.TenantID, next.UserID = old.ID, old.TenantID, old.UserID
		next.Type, next.CreatedAt, next.Version = old.Type, old.CreatedAt, old.Version+1
		next.LastUsedAt = optTime(next.LastUsedAt)
		next.Secret, next.Data = nilIfEmpty(next.Secret), nilIfEmpty(next.Data)
		if err := next.Check(); err != nil {
			return store.Factor{}, err
		}

		var prev struct {
			Version *int64 `db:"version"`
		}
		applied, err := s.query(ctx, s.fq().update).Bind(next.Name, next.Confirmed, next.Secret,
			next.Data, next.LastStep, optDBTime(next.LastUsedAt), next.Version,
			tenantID, userID, id, old.Version).GetCASRelease(&prev)
		if err != nil {
			landed := func(ctx context.Context) (bool, error) {
				var row factorRow
				err := serial(s.query(ctx, s.fq().get)).Bind(tenantID, userID, id).
					GetRelease(&row)
				if isNotFound(err) {
					return false, nil
				}
				return err == nil && row.Version == next.Version &&
					row.LastStep == next.LastStep && string(row.Data) == string(next.Data), err
			}
			if applied, err = s.settle(ctx, err, landed); err != nil {
				return store.Factor{}, ctxErr(ctx, err)
			}
		}
		if applied {
			return next, nil
		}
		if prev.Version == nil {
			// The row went between the read and the write.
			return store.Factor{}, notFound("factor")
		}
	}
	return store.Factor{}, errs.New(errs.Conflict, "factor changed concurrently; try again")
}

func (fs factors) Delete(ctx context.Context, tenantID, userID, id string) error {
	s := fs.s
	if err := checkFactorIDs(tenantID, userID, id); err != nil {
		return err
	}
	applied, err := s.query(ctx, s.fq().del).Bind(tenantID, userID, id).ExecCASRelease()
	if err != nil {
		gone := func(ctx context.Context) (bool, error) {
			var row factorRow
			err := serial(s.query(ctx, s.fq().get)).Bind(tenantID, userID, id).GetRelease(&row)
			if isNotFound(err) {
				return true, nil
			}
			return false, err
		}
		if applied, err = s.settle(ctx, err, gone); err != nil {
			return ctxErr(ctx, err)
		}
	}
	if !applied {
		return notFound("factor")
	}
	return nil
}

// DeleteByUser counts the user's factors, then deletes the partition. A
// factor created between the two is deleted too but not counted.
func (fs factors) DeleteByUser(ctx context.Context, tenantID, userID string) (int, error) {
	list, err := fs.ListByUser(ctx, tenantID, userID)
	if err != nil {
		return 0, err
	}
	if err := fs.s.query(ctx, fs.s.fq().delUser).Bind(tenantID, userID).Idempotent(true).
		ExecRelease(); err != nil {
		return 0, ctxErr(ctx, err)
	}
	return len(list), nil
}

// deleteFactors deletes every factor of a user; like deleteCredentials it
// runs once the user's fate is decided and ignores the caller's
// cancellation.
func (s *Store) deleteFactors(ctx context.Context, tenantID, userID string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.Timeout)
	defer cancel()
	if err := s.query(ctx, s.fq().delUser).Bind(tenantID, userID).Idempotent(true).
		ExecRelease(); err != nil {
		return unavailable(err)
	}
	return nil
}
