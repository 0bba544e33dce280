package scylla

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"time"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
)

type signIns struct{ s *Store }

func (s *Store) SignIns() store.SignIns { return signIns{s} }

// signInStatements are the statements of sign-in records, built once per
// keyspace (migrations/0008_sign_ins.cql).
type signInStatements struct{ get, insert, update, del string }

var signInStatementsByKeyspace sync.Map // keyspace → *signInStatements

func (s *Store) siq() *signInStatements {
	if q, ok := signInStatementsByKeyspace.Load(s.cfg.Keyspace); ok {
		return q.(*signInStatements)
	}
	r := strings.NewReplacer("{ks}", s.cfg.Keyspace)
	q := &signInStatements{
		get: r.Replace(`SELECT data, last_sign_in, last_strong, version FROM {ks}.sign_ins
    WHERE tenant_id = ? AND user_id = ?`),
		insert: r.Replace(`INSERT INTO {ks}.sign_ins
    (tenant_id, user_id, data, last_sign_in, last_strong, version)
    VALUES (?, ?, ?, ?, ?, 1) IF NOT EXISTS`),
		update: r.Replace(`UPDATE {ks}.sign_ins
    SET data = ?, last_sign_in = ?, last_strong = ?, version = ?
    WHERE tenant_id = ? AND user_id = ? IF version = ?`),
		del: r.Replace(`DELETE FROM {ks}.sign_ins WHERE tenant_id = ? AND user_id = ?`),
	}
	actual, _ := signInStatementsByKeyspace.LoadOrStore(s.cfg.Keyspace, q)
	return actual.(*signInStatements)
}

// signInData is the JSON of the data column.
type signInData struct {
	Devices  []store.KnownDevice  `json:"d,omitempty"`
	Networks []store.KnownNetwork `json:"n,omitempty"`
}

type signInRow struct {
	Data    string    `db:"data"`
	Last    time.Time `db:"last_sign_in"`
	Strong  time.Time `db:"last_strong"`
	Version int64     `db:"version"`
}

func (ss signIns) Get(ctx context.Context, tenantID, userID string) (store.SignInRecord, error) {
	if err := checkIDs([2]string{"tenantId", tenantID}, [2]string{"userId", userID}); err != nil {
		return store.SignInRecord{}, err
	}
	return ss.get(ctx, tenantID, userID)
}

func (ss signIns) get(ctx context.Context, tenantID, userID string) (store.SignInRecord, error) {
	var row signInRow
	err := ss.s.query(ctx, ss.s.siq().get).Bind(tenantID, userID).Idempotent(true).
		GetRelease(&row)
	if isNotFound(err) {
		return store.SignInRecord{}, notFound("sign-in record")
	}
	if err != nil {
		return store.SignInRecord{}, ctxErr(ctx, err)
	}
	return row.record(tenantID, userID)
}

func (r signInRow) record(tenantID, userID string) (store.SignInRecord, error) {
	out := store.SignInRecord{TenantID: tenantID, UserID: userID, Version: r.Version,
		LastSignInAt: optTime(r.Last), LastStrongAt: optTime(r.Strong)}
	if r.Data != "" {
		var d signInData
		if err := json.Unmarshal([]byte(r.Data), &d); err != nil {
			return store.SignInRecord{}, unavailable(err)
		}
		out.Devices, out.Networks = d.Devices, d.Networks
	}
	return out, nil
}

// optTime reads a timestamp column that may be null as the zero time.
func optTime(t time.Time) time.Time {
	if t.IsZero() || t.UnixMilli() == 0 {
		return time.Time{}
	}
	return dbTime(t)
}

// optDBTime writes the zero time as null.
func optDBTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return dbTime(t)
}

// Update is compare-and-swap on version; a first record is inserted with
// IF NOT EXISTS. The user is read before the write and again after it: a
// Delete that ran in between has deleted the user, and the record is
// deleted again (see SetPassword for the clock caveat this shares).
func (ss signIns) Update(ctx context.Context, tenantID, userID string,
	fn func(store.SignInRecord) (store.SignInRecord, error)) (store.SignInRecord, error) {
	s := ss.s
	if err := checkIDs([2]string{"tenantId", tenantID}, [2]string{"userId", userID}); err != nil {
		return store.SignInRecord{}, err
	}
	us := users{s}
	if _, err := us.get(ctx, tenantID, userID); err != nil {
		return store.SignInRecord{}, err
	}
	for attempt := range maxCASAttempts {
		backoff(ctx, attempt)
		old, err := ss.get(ctx, tenantID, userID)
		if errs.CodeOf(err) == errs.NotFound {
			old, err = store.SignInRecord{TenantID: tenantID, UserID: userID}, nil
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
		next.TenantID, next.UserID, next.Version = tenantID, userID, old.Version+1
		for i := range next.Devices {
			next.Devices[i].FirstSeen = dbTime(next.Devices[i].FirstSeen)
			next.Devices[i].LastSeen = dbTime(next.Devices[i].LastSeen)
		}
		for i := range next.Networks {
			next.Networks[i].LastSeen = dbTime(next.Networks[i].LastSeen)
		}
		next.LastSignInAt, next.LastStrongAt = optTime(next.LastSignInAt), optTime(next.LastStrongAt)
		data, err := json.Marshal(signInData{Devices: next.Devices, Networks: next.Networks})
		if err != nil {
			return store.SignInRecord{}, errs.Wrap(errs.Internal, err, "internal error")
		}

		var applied bool
		if old.Version == 0 {
			applied, err = s.query(ctx, s.siq().insert).Bind(tenantID, userID, string(data),
				optDBTime(next.LastSignInAt), optDBTime(next.LastStrongAt)).ExecCASRelease()
		} else {
			var prev struct {
				Version *int64 `db:"version"`
			}
			applied, err = s.query(ctx, s.siq().update).Bind(string(data),
				optDBTime(next.LastSignInAt), optDBTime(next.LastStrongAt), next.Version,
				tenantID, userID, old.Version).GetCASRelease(&prev)
		}
		if err != nil {
			landed := func(ctx context.Context) (bool, error) {
				var row signInRow
				err := serial(s.query(ctx, s.siq().get)).Bind(tenantID, userID).GetRelease(&row)
				if isNotFound(err) {
					return false, nil
				}
				return err == nil && row.Version == next.Version && row.Data == string(data), err
			}
			if applied, err = s.settle(ctx, err, landed); err != nil {
				return store.SignInRecord{}, ctxErr(ctx, err)
			}
		}
		if !applied {
			continue
		}
		if _, err := us.get(ctx, tenantID, userID); errs.CodeOf(err) == errs.NotFound {
			if derr := s.deleteSignIns(ctx, tenantID, userID); derr != nil {
				return store.SignInRecord{}, derr
			}
			return store.SignInRecord{}, err
		}
		return next, nil
	}
	return store.SignInRecord{}, errs.New(errs.Conflict, "sign-in record changed concurrently; try again")
}

// deleteSignIns deletes a user's sign-in record; like deleteCredentials it
// runs once the user's fate is decided and ignores the caller's
// cancellation.
func (s *Store) deleteSignIns(ctx context.Context, tenantID, userID string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.Timeout)
	defer cancel()
	if err := s.query(ctx, s.siq().del).Bind(tenantID, userID).Idempotent(true).
		ExecRelease(); err != nil {
		return unavailable(err)
	}
	return nil
}
