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

// OAuth clients are records of bucket clients, keyed by tenant ID and
// client ID, so that a tenant's clients are one range in order of ID. The
// record is the client's JSON; its ID and TenantID come from the key.

var bucketClients = []byte("clients")

// listClients is the kind of a client listing's cursor.
const listClients listKind = 110

type clients struct{ s *Store }

// Clients returns the OAuth client store.
func (s *Store) Clients() store.Clients { return clients{s} }

// normalClient checks c and keeps its times at millisecond precision in
// UTC, as every record's.
func normalClient(c store.OAuthClient) (store.OAuthClient, error) {
	if err := c.Check(); err != nil {
		return store.OAuthClient{}, err
	}
	c.CreatedAt = c.CreatedAt.UTC().Truncate(time.Millisecond)
	c.UpdatedAt = c.UpdatedAt.UTC().Truncate(time.Millisecond)
	c.RedirectURIs = slices.Clone(c.RedirectURIs)
	c.PostLogoutRedirectURIs = slices.Clone(c.PostLogoutRedirectURIs)
	c.GrantTypes = slices.Clone(c.GrantTypes)
	c.Scopes = slices.Clone(c.Scopes)
	return c, nil
}

func parseClientIDs(tenantID, id string) (tenant, cid uuid.UUID, err error) {
	if tenant, err = parseID("tenantId", tenantID); err != nil {
		return tenant, cid, err
	}
	cid, err = parseID("id", id)
	return tenant, cid, err
}

func getClient(tx *bbolt.Tx, tenant, id uuid.UUID) (c store.OAuthClient, ok bool, err error) {
	v := tx.Bucket(bucketClients).Get(join(tenant[:], id[:]))
	if v == nil {
		return store.OAuthClient{}, false, nil
	}
	if err := decode(v, &c); err != nil {
		return store.OAuthClient{}, false, err
	}
	c.ID, c.TenantID = id.String(), tenant.String()
	return c, true, nil
}

func (cs clients) Create(ctx context.Context, c store.OAuthClient) (store.OAuthClient, error) {
	tenant, id, err := parseClientIDs(c.TenantID, c.ID)
	if err != nil {
		return store.OAuthClient{}, err
	}
	if c, err = normalClient(c); err != nil {
		return store.OAuthClient{}, err
	}
	c.Version = 1
	err = cs.s.update(ctx, func(tx *bbolt.Tx) error {
		if _, ok, err := getClient(tx, tenant, id); err != nil || ok {
			if err != nil {
				return err
			}
			return conflict("id", "a client with this ID exists")
		}
		return tx.Bucket(bucketClients).Put(join(tenant[:], id[:]), encode(c))
	})
	if err != nil {
		return store.OAuthClient{}, err
	}
	return c, nil
}

func (cs clients) Get(ctx context.Context, tenantID, id string) (store.OAuthClient, error) {
	tenant, cid, err := parseClientIDs(tenantID, id)
	if err != nil {
		return store.OAuthClient{}, err
	}
	return cs.get(ctx, tenant, cid)
}

func (cs clients) get(ctx context.Context, tenant, id uuid.UUID) (store.OAuthClient, error) {
	var out store.OAuthClient
	err := cs.s.view(ctx, func(tx *bbolt.Tx) error {
		c, ok, err := getClient(tx, tenant, id)
		if err != nil {
			return err
		}
		if !ok {
			return notFound("client")
		}
		out = c
		return nil
	})
	return out, err
}

func (cs clients) List(ctx context.Context, tenantID string, p store.Page) (
	[]store.OAuthClient, string, error) {
	tenant, err := parseID("tenantId", tenantID)
	if err != nil {
		return nil, "", err
	}
	limit, err := pageLimit(p)
	if err != nil {
		return nil, "", err
	}
	last, err := boundAfter(p.After, listClients, tenant, [16]byte{})
	if err != nil {
		return nil, "", err
	}

	var items []store.OAuthClient
	err = cs.s.view(ctx, func(tx *bbolt.Tx) error {
		return scan(tx.Bucket(bucketClients), tenant[:], last, func(id uuid.UUID,
			v []byte) (bool, error) {
			var c store.OAuthClient
			if err := decode(v, &c); err != nil {
				return false, err
			}
			c.ID, c.TenantID = id.String(), tenant.String()
			items = append(items, c)
			return len(items) <= limit, nil
		})
	})
	if err != nil {
		return nil, "", err
	}
	if len(items) <= limit {
		return items, "", nil
	}
	items = items[:limit]
	next := boundCursor{kind: listClients, scope: tenant,
		last: uuid.MustParse(items[limit-1].ID)}
	return items, next.String(), nil
}

// Update reads the client, runs fn outside any transaction and writes the
// result only if the client's Version is still the one fn saw.
func (cs clients) Update(ctx context.Context, tenantID, id string,
	fn func(store.OAuthClient) (store.OAuthClient, error)) (store.OAuthClient, error) {
	tenant, cid, err := parseClientIDs(tenantID, id)
	if err != nil {
		return store.OAuthClient{}, err
	}
	for range maxUpdateAttempts {
		old, err := cs.get(ctx, tenant, cid)
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
		err = cs.s.update(ctx, func(tx *bbolt.Tx) error {
			cur, ok, err := getClient(tx, tenant, cid)
			switch {
			case err != nil:
				return err
			case !ok:
				return notFound("client")
			case cur.Version != old.Version:
				return errLostRace
			}
			return tx.Bucket(bucketClients).Put(join(tenant[:], cid[:]), encode(next))
		})
		if errors.Is(err, errLostRace) {
			continue
		}
		if err != nil {
			return store.OAuthClient{}, err
		}
		return next, nil
	}
	return store.OAuthClient{}, errs.New(errs.Conflict, "client changed too often concurrently")
}

func (cs clients) Delete(ctx context.Context, tenantID, id string) error {
	tenant, cid, err := parseClientIDs(tenantID, id)
	if err != nil {
		return err
	}
	return cs.s.update(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketClients)
		key := join(tenant[:], cid[:])
		if b.Get(key) == nil {
			return notFound("client")
		}
		return b.Delete(key)
	})
}
