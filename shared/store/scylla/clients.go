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

// OAuth clients are rows of clients (migration 0013), one partition per
// tenant, clustered by ID. data is the client's JSON; the version column
// is what every write swaps on (a lightweight transaction), so Create,
// Update and Delete are linearizable per client. Client IDs are unique
// per tenant only through Create's IF NOT EXISTS; the service makes them
// unique everywhere by generating them.

type clients struct{ s *Store }

// Clients returns the OAuth client store.
func (s *Store) Clients() store.Clients { return clients{s} }

const listClients = "clients"

type clientStatements struct{ insert, get, list, update, del string }

var clientStatementsByKeyspace sync.Map // keyspace → *clientStatements

func (s *Store) cq() *clientStatements {
	if q, ok := clientStatementsByKeyspace.Load(s.cfg.Keyspace); ok {
		return q.(*clientStatements)
	}
	r := strings.NewReplacer("{ks}", s.cfg.Keyspace)
	q := &clientStatements{
		insert: r.Replace(`INSERT INTO {ks}.clients (tenant_id, id, data, version)
    VALUES (?, ?, ?, 1) IF NOT EXISTS`),
		get: r.Replace(`SELECT id, data, version FROM {ks}.clients
    WHERE tenant_id = ? AND id = ?`),
		list: r.Replace(`SELECT id, data, version FROM {ks}.clients
    WHERE tenant_id = ? AND id > ? LIMIT ?`),
		update: r.Replace(`UPDATE {ks}.clients SET data = ?, version = ?
    WHERE tenant_id = ? AND id = ? IF version = ?`),
		del: r.Replace(`DELETE FROM {ks}.clients WHERE tenant_id = ? AND id = ?
    IF version = ?`),
	}
	actual, _ := clientStatementsByKeyspace.LoadOrStore(s.cfg.Keyspace, q)
	return actual.(*clientStatements)
}

type clientRow struct {
	ID      string `db:"id"`
	Data    string `db:"data"`
	Version int64  `db:"version"`
}

func (r clientRow) client(tenantID string) (store.OAuthClient, error) {
	var c store.OAuthClient
	if err := json.Unmarshal([]byte(r.Data), &c); err != nil {
		return store.OAuthClient{}, unavailable(err)
	}
	c.ID, c.TenantID, c.Version = r.ID, tenantID, r.Version
	c.CreatedAt, c.UpdatedAt = dbTime(c.CreatedAt), dbTime(c.UpdatedAt)
	return c, nil
}

// clientData is the data column of c: its JSON without the fields the
// row's keys and version hold.
func clientData(c store.OAuthClient) (string, error) {
	c.ID, c.TenantID, c.Version = "", "", 0
	b, err := json.Marshal(c)
	if err != nil {
		return "", errs.Wrap(errs.Internal, err, "internal error")
	}
	return string(b), nil
}

func normalClient(c store.OAuthClient) (store.OAuthClient, error) {
	if err := c.Check(); err != nil {
		return store.OAuthClient{}, err
	}
	c.CreatedAt, c.UpdatedAt = dbTime(c.CreatedAt), dbTime(c.UpdatedAt)
	c.RedirectURIs = slices.Clone(c.RedirectURIs)
	c.PostLogoutRedirectURIs = slices.Clone(c.PostLogoutRedirectURIs)
	c.GrantTypes = slices.Clone(c.GrantTypes)
	c.Scopes = slices.Clone(c.Scopes)
	return c, nil
}

// readRow reads a client's row; serial reads see every write in flight.
func (cs clients) readRow(ctx context.Context, tenantID, id string, serialRead bool) (
	clientRow, bool, error) {
	q := cs.s.query(ctx, cs.s.cq().get).Bind(tenantID, id)
	if serialRead {
		q = serial(q)
	} else {
		q = q.Idempotent(true)
	}
	var row clientRow
	err := q.GetRelease(&row)
	if isNotFound(err) {
		return clientRow{}, false, nil
	}
	if err != nil {
		return clientRow{}, false, ctxErr(ctx, err)
	}
	return row, true, nil
}

func (cs clients) Create(ctx context.Context, c store.OAuthClient) (store.OAuthClient, error) {
	if err := checkIDs([2]string{"tenantId", c.TenantID}, [2]string{"id", c.ID}); err != nil {
		return store.OAuthClient{}, err
	}
	c, err := normalClient(c)
	if err != nil {
		return store.OAuthClient{}, err
	}
	c.Version = 1
	data, err := clientData(c)
	if err != nil {
		return store.OAuthClient{}, err
	}
	applied, err := cs.s.query(ctx, cs.s.cq().insert).Bind(c.TenantID, c.ID, data).
		ExecCASRelease()
	if err != nil {
		landed := func(ctx context.Context) (bool, error) {
			row, ok, err := cs.readRow(ctx, c.TenantID, c.ID, true)
			return ok && row.Version == 1 && row.Data == data, err
		}
		if applied, err = cs.s.settle(ctx, err, landed); err != nil {
			return store.OAuthClient{}, ctxErr(ctx, err)
		}
	}
	if !applied {
		return store.OAuthClient{}, conflict("id", "a client with this ID exists")
	}
	return c, nil
}

func (cs clients) Get(ctx context.Context, tenantID, id string) (store.OAuthClient, error) {
	if err := checkIDs([2]string{"tenantId", tenantID}, [2]string{"id", id}); err != nil {
		return store.OAuthClient{}, err
	}
	row, ok, err := cs.readRow(ctx, tenantID, id, false)
	if err != nil {
		return store.OAuthClient{}, err
	}
	if !ok {
		return store.OAuthClient{}, notFound("client")
	}
	return row.client(tenantID)
}

func (cs clients) List(ctx context.Context, tenantID string, p store.Page) (
	[]store.OAuthClient, string, error) {
	if err := checkID("tenantId", tenantID); err != nil {
		return nil, "", err
	}
	limit, err := pageLimit(p)
	if err != nil {
		return nil, "", err
	}
	after, err := decodeCursor(p.After, listClients, tenantID)
	if err != nil {
		return nil, "", err
	}
	var rows []clientRow
	err = cs.s.query(ctx, cs.s.cq().list).Bind(tenantID, after, limit+1).Idempotent(true).
		SelectRelease(&rows)
	if err != nil {
		return nil, "", ctxErr(ctx, err)
	}
	items := make([]store.OAuthClient, 0, len(rows))
	for _, r := range rows {
		c, err := r.client(tenantID)
		if err != nil {
			return nil, "", err
		}
		items = append(items, c)
	}
	if len(items) <= limit {
		return items, "", nil
	}
	items = items[:limit]
	return items, encodeCursor(listClients, tenantID, items[limit-1].ID), nil
}

// Update runs fn on the client as read and swaps the row only if its
// version is still the one fn saw; otherwise it reads again.
func (cs clients) Update(ctx context.Context, tenantID, id string,
	fn func(store.OAuthClient) (store.OAuthClient, error)) (store.OAuthClient, error) {
	if err := checkIDs([2]string{"tenantId", tenantID}, [2]string{"id", id}); err != nil {
		return store.OAuthClient{}, err
	}
	for attempt := range maxCASAttempts {
		backoff(ctx, attempt)
		old, err := cs.Get(ctx, tenantID, id)
		if err != nil {
			return store.OAuthClient{}, err
		}
		next, err := fn(old)
		if err != nil {
			return store.OAuthClient{}, err
		}
		next.ID, next.TenantID, next.CreatedAt = old.ID, old.TenantID, old.CreatedAt
		next.Version = old.Version + 1
		if next, err = normalClient(next); err != nil {
			return store.OAuthClient{}, err
		}
		data, err := clientData(next)
		if err != nil {
			return store.OAuthClient{}, err
		}
		var prev clientRow
		applied, err := cs.s.query(ctx, cs.s.cq().update).
			Bind(data, next.Version, tenantID, id, old.Version).GetCASRelease(&prev)
		if err != nil {
			landed := func(ctx context.Context) (bool, error) {
				row, ok, err := cs.readRow(ctx, tenantID, id, true)
				return ok && row.Version == next.Version && row.Data == data, err
			}
			if applied, err = cs.s.settle(ctx, err, landed); err != nil {
				return store.OAuthClient{}, ctxErr(ctx, err)
			}
		}
		if applied {
			return next, nil
		}
	}
	return store.OAuthClient{}, errs.New(errs.Conflict, "client changed concurrently; try again")
}

// Delete swaps on the version it read, so that it never removes a client
// that was deleted and created again in between without noticing.
func (cs clients) Delete(ctx context.Context, tenantID, id string) error {
	if err := checkIDs([2]string{"tenantId", tenantID}, [2]string{"id", id}); err != nil {
		return err
	}
	for attempt := range maxCASAttempts {
		backoff(ctx, attempt)
		row, ok, err := cs.readRow(ctx, tenantID, id, false)
		if err != nil {
			return err
		}
		if !ok {
			return notFound("client")
		}
		var prev clientRow
		applied, err := cs.s.query(ctx, cs.s.cq().del).Bind(tenantID, id, row.Version).
			GetCASRelease(&prev)
		if err != nil {
			gone := func(ctx context.Context) (bool, error) {
				_, ok, err := cs.readRow(ctx, tenantID, id, true)
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
	return errs.New(errs.Conflict, "client changed concurrently; try again")
}
