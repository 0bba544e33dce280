package scylla

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
)

// Consents are rows of consents (migrations/0015_consents.cql), one
// partition per user. Grant reads the row at serial consistency and swaps
// it on its version (inserting IF NOT EXISTS when there is none), again
// when it loses; Delete swaps on the version too. Every write is a
// lightweight transaction, so no plain write can shadow one.

type consents struct{ s *Store }

// Consents returns the consent store.
func (s *Store) Consents() store.Consents { return consents{s} }

type consentStatements struct{ insert, get, list, update, del string }

var consentStatementsByKeyspace sync.Map // keyspace → *consentStatements

const consentCols = `tenant_id, user_id, client_id, scopes, created_at, updated_at, version`

func (s *Store) consentq() *consentStatements {
	if q, ok := consentStatementsByKeyspace.Load(s.cfg.Keyspace); ok {
		return q.(*consentStatements)
	}
	r := strings.NewReplacer("{ks}", s.cfg.Keyspace)
	q := &consentStatements{
		insert: r.Replace(`INSERT INTO {ks}.consents (` + consentCols + `)
    VALUES (?, ?, ?, ?, ?, ?, 1) IF NOT EXISTS`),
		get: r.Replace(`SELECT ` + consentCols + ` FROM {ks}.consents
    WHERE tenant_id = ? AND user_id = ? AND client_id = ?`),
		list: r.Replace(`SELECT ` + consentCols + ` FROM {ks}.consents
    WHERE tenant_id = ? AND user_id = ? LIMIT ?`),
		update: r.Replace(`UPDATE {ks}.consents SET scopes = ?, updated_at = ?, version = ?
    WHERE tenant_id = ? AND user_id = ? AND client_id = ? IF version = ?`),
		del: r.Replace(`DELETE FROM {ks}.consents
    WHERE tenant_id = ? AND user_id = ? AND client_id = ? IF version = ?`),
	}
	actual, _ := consentStatementsByKeyspace.LoadOrStore(s.cfg.Keyspace, q)
	return actual.(*consentStatements)
}

type consentRow struct {
	TenantID  string    `db:"tenant_id"`
	UserID    string    `db:"user_id"`
	ClientID  string    `db:"client_id"`
	Scopes    []string  `db:"scopes"`
	CreatedAt time.Time `db:"created_at"`
	UpdatedAt time.Time `db:"updated_at"`
	Version   int64     `db:"version"`
}

func (r consentRow) consent() store.Consent {
	return store.Consent{TenantID: r.TenantID, UserID: r.UserID, ClientID: r.ClientID,
		Scopes: slices.Clone(r.Scopes), CreatedAt: dbTime(r.CreatedAt),
		UpdatedAt: dbTime(r.UpdatedAt)}
}

func checkConsentIDs(tenantID, userID, clientID string) error {
	return checkIDs([2]string{"tenantId", tenantID}, [2]string{"userId", userID},
		[2]string{"clientId", clientID})
}

func (cs consents) readRow(ctx context.Context, tenantID, userID, clientID string,
	serialRead bool) (consentRow, bool, error) {
	q := cs.s.query(ctx, cs.s.consentq().get).Bind(tenantID, userID, clientID)
	if serialRead {
		q = serial(q)
	} else {
		q = q.Idempotent(true)
	}
	var row consentRow
	err := q.GetRelease(&row)
	if isNotFound(err) {
		return consentRow{}, false, nil
	}
	if err != nil {
		return consentRow{}, false, ctxErr(ctx, err)
	}
	return row, true, nil
}

func (cs consents) Get(ctx context.Context, tenantID, userID, clientID string) (store.Consent,
	error) {
	if err := checkConsentIDs(tenantID, userID, clientID); err != nil {
		return store.Consent{}, err
	}
	row, ok, err := cs.readRow(ctx, tenantID, userID, clientID, false)
	if err != nil {
		return store.Consent{}, err
	}
	if !ok {
		return store.Consent{}, notFound("consent")
	}
	return row.consent(), nil
}

func (cs consents) Grant(ctx context.Context, c store.Consent) (store.Consent, error) {
	if err := checkConsentIDs(c.TenantID, c.UserID, c.ClientID); err != nil {
		return store.Consent{}, err
	}
	c, err := store.CheckConsent(c)
	if err != nil {
		return store.Consent{}, err
	}
	q := cs.s.consentq()
	for attempt := range maxCASAttempts {
		backoff(ctx, attempt)
		old, ok, err := cs.readRow(ctx, c.TenantID, c.UserID, c.ClientID, true)
		if err != nil {
			return store.Consent{}, err
		}
		next, version := c, int64(1)
		var stmt *string
		var args []any
		if ok {
			next.CreatedAt = dbTime(old.CreatedAt)
			next.Scopes = store.MergeScopes(old.Scopes, c.Scopes)
			if len(next.Scopes) > store.MaxConsentScopes {
				return store.Consent{}, errs.Invalid("scopes", "must hold at most %d scopes",
					store.MaxConsentScopes)
			}
			version = old.Version + 1
			stmt, args = &q.update, []any{next.Scopes, next.UpdatedAt, version, c.TenantID,
				c.UserID, c.ClientID, old.Version}
		} else {
			stmt, args = &q.insert, []any{c.TenantID, c.UserID, c.ClientID, next.Scopes,
				next.CreatedAt, next.UpdatedAt}
		}
		var prev consentRow
		applied, err := cs.s.query(ctx, *stmt).Bind(args...).GetCASRelease(&prev)
		if err != nil {
			landed := func(ctx context.Context) (bool, error) {
				row, ok, err := cs.readRow(ctx, c.TenantID, c.UserID, c.ClientID, true)
				return ok && row.Version == version && slices.Equal(row.Scopes, next.Scopes) &&
					row.UpdatedAt.Equal(next.UpdatedAt), err
			}
			if applied, err = cs.s.settle(ctx, err, landed); err != nil {
				return store.Consent{}, ctxErr(ctx, err)
			}
		}
		if applied {
			return next, nil
		}
	}
	return store.Consent{}, errs.New(errs.Conflict, "consent changed concurrently; try again")
}

func (cs consents) ListByUser(ctx context.Context, tenantID, userID string) ([]store.Consent,
	error) {
	if err := checkIDs([2]string{"tenantId", tenantID}, [2]string{"userId", userID}); err != nil {
		return nil, err
	}
	var rows []consentRow
	err := cs.s.query(ctx, cs.s.consentq().list).Bind(tenantID, userID,
		store.MaxConsentsByUser).Idempotent(true).SelectRelease(&rows)
	if err != nil {
		return nil, ctxErr(ctx, err)
	}
	out := make([]store.Consent, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.consent())
	}
	return out, nil
}

// Delete swaps on the version it read, like every write of the table.
func (cs consents) Delete(ctx context.Context, tenantID, userID, clientID string) error {
	if err := checkConsentIDs(tenantID, userID, clientID); err != nil {
		return err
	}
	for attempt := range maxCASAttempts {
		backoff(ctx, attempt)
		row, ok, err := cs.readRow(ctx, tenantID, userID, clientID, true)
		if err != nil {
			return err
		}
		if !ok {
			return notFound("consent")
		}
		var prev consentRow
		applied, err := cs.s.query(ctx, cs.s.consentq().del).
			Bind(tenantID, userID, clientID, row.Version).GetCASRelease(&prev)
		if err != nil {
			gone := func(ctx context.Context) (bool, error) {
				_, ok, err := cs.readRow(ctx, tenantID, userID, clientID, true)
				return !ok, err
			}
			if applied, err = cs.s.settle(ctx, err, gone); err != nil {
				return ctxErr(ctx, err)
			}
		}
		if applied {
			return nil
		}
	}
	return errs.New(errs.Conflict, "consent changed concurrently; try again")
}
