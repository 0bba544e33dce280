package scylla

import (
	"context"
	"errors"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
)

type tenants struct{ s *Store }

const listTenants = "tenants"

func checkTenant(t store.Tenant) error {
	if err := checkID("id", t.ID); err != nil {
		return err
	}
	if err := checkKey("name", t.Name); err != nil {
		return err
	}
	return checkText("displayName", t.DisplayName)
}

// Create claims the name, then inserts the tenant if the ID is free.
func (ts tenants) Create(ctx context.Context, t store.Tenant) (store.Tenant, error) {
	s := ts.s
	if err := checkTenant(t); err != nil {
		return store.Tenant{}, err
	}
	t.CreatedAt, t.UpdatedAt = dbTime(t.CreatedAt), dbTime(t.UpdatedAt)
	t.Version = 1

	taken, err := s.acquire(ctx, claimTenantName, scopeGlobal, t.Name, t.ID, ts.holdsName(t.Name))
	if errors.Is(err, errClaimTaken) {
		return store.Tenant{}, conflict("name", "tenant name already taken")
	}
	if err != nil {
		return store.Tenant{}, ctxErr(ctx, err)
	}

	applied, err := s.query(ctx, s.q.tenantInsert).
		Bind(t.ID, t.Name, t.DisplayName, t.CreatedAt, t.UpdatedAt, t.Version).
		ExecCASRelease()
	if err != nil {
		if landed, serr := s.settle(ctx, err, ts.holdsState(t)); serr == nil && landed {
			applied, err = true, nil
		}
	}
	if err != nil || !applied {
		if taken {
			s.release(ctx, claimTenantName, scopeGlobal, t.Name, t.ID)
		}
		if err != nil {
			return store.Tenant{}, ctxErr(ctx, err)
		}
		return store.Tenant{}, conflict("id", "tenant ID already taken")
	}
	return t, nil
}

// holdsName reports whether the tenant owner still has the name.
func (ts tenants) holdsName(name string) holdsFunc {
	return func(ctx context.Context, owner string) (bool, error) {
		t, err := ts.get(ctx, owner)
		if errs.CodeOf(err) == errs.NotFound {
			return false, nil
		}
		return err == nil && t.Name == name, err
	}
}

func (ts tenants) Get(ctx context.Context, id string) (store.Tenant, error) {
	if err := checkID("id", id); err != nil {
		return store.Tenant{}, err
	}
	return ts.get(ctx, id)
}

// holdsState reports, at serial consistency, whether the stored tenant is
// exactly want.
func (ts tenants) holdsState(want store.Tenant) func(context.Context) (bool, error) {
	return func(ctx context.Context) (bool, error) {
		var got store.Tenant
		err := serial(ts.s.query(ctx, ts.s.q.tenantGet)).Bind(want.ID).GetRelease(&got)
		if isNotFound(err) {
			return false, nil
		}
		return err == nil && sameTenant(got, want), err
	}
}

func sameTenant(a, b store.Tenant) bool {
	return a.ID == b.ID && a.Name == b.Name && a.DisplayName == b.DisplayName &&
		a.CreatedAt.Equal(b.CreatedAt) && a.UpdatedAt.Equal(b.UpdatedAt) &&
		a.Version == b.Version
}

func (ts tenants) get(ctx context.Context, id string) (store.Tenant, error) {
	var t store.Tenant
	err := ts.s.query(ctx, ts.s.q.tenantGet).Bind(id).Idempotent(true).GetRelease(&t)
	if isNotFound(err) {
		return store.Tenant{}, notFound("tenant")
	}
	if err != nil {
		return store.Tenant{}, ctxErr(ctx, err)
	}
	return t, nil
}

// GetByName follows the name's claim to its tenant and checks that the
// tenant still has that name (a claim may outlive a failed write).
func (ts tenants) GetByName(ctx context.Context, name string) (store.Tenant, error) {
	if checkKey("name", name) != nil { // no tenant can have such a name
		return store.Tenant{}, notFound("tenant")
	}
	owner, err := ts.s.lookupClaim(ctx, claimTenantName, scopeGlobal, name)
	if err != nil {
		return store.Tenant{}, ctxErr(ctx, err)
	}
	if owner == "" {
		return store.Tenant{}, notFound("tenant")
	}
	t, err := ts.get(ctx, owner)
	if err != nil {
		return store.Tenant{}, err
	}
	if t.Name != name {
		return store.Tenant{}, notFound("tenant")
	}
	return t, nil
}

func (ts tenants) List(ctx context.Context, p store.Page) ([]store.Tenant, string, error) {
	limit, err := pageLimit(p)
	if err != nil {
		return nil, "", err
	}
	after, err := decodeCursor(p.After, listTenants, "")
	if err != nil {
		return nil, "", err
	}
	// One row more than asked tells whether a next page exists.
	iter := ts.s.query(ctx, ts.s.q.tenantList).Bind(after, limit+1).Idempotent(true).Iter()
	items := make([]store.Tenant, 0, limit)
	var t store.Tenant
	more := false
	for iter.StructScan(&t) {
		if len(items) == limit {
			more = true
			break
		}
		items = append(items, t)
		t = store.Tenant{}
	}
	if err := iter.Close(); err != nil {
		return nil, "", ctxErr(ctx, err)
	}
	next := ""
	if more {
		next = encodeCursor(listTenants, "", items[len(items)-1].ID)
	}
	return items, next, nil
}

// Update runs fn on the current tenant and writes the result if the version
// has not moved; otherwise it reads again and retries.
func (ts tenants) Update(ctx context.Context, id string,
	fn func(store.Tenant) (store.Tenant, error)) (store.Tenant, error) {
	s := ts.s
	if err := checkID("id", id); err != nil {
		return store.Tenant{}, err
	}
	for attempt := range maxCASAttempts {
		backoff(ctx, attempt)
		old, err := ts.get(ctx, id)
		if err != nil {
			return store.Tenant{}, err
		}
		next, err := fn(old)
		if err != nil {
			return store.Tenant{}, err
		}
		// ID, Name, CreatedAt and Version are not fn's to change.
		next.ID, next.Name, next.CreatedAt = old.ID, old.Name, old.CreatedAt
		if err := checkText("displayName", next.DisplayName); err != nil {
			return store.Tenant{}, err
		}
		next.UpdatedAt = dbTime(next.UpdatedAt)
		next.Version = old.Version + 1

		var prev struct {
			Version *int64 `db:"version"`
		}
		applied, err := s.query(ctx, s.q.tenantUpdate).
			Bind(next.DisplayName, next.UpdatedAt, next.Version, id, old.Version).
			GetCASRelease(&prev)
		if err != nil {
			if applied, err = s.settle(ctx, err, ts.holdsState(next)); err != nil {
				return store.Tenant{}, ctxErr(ctx, err)
			}
			if !applied {
				continue // read again: the tenant may be gone or changed
			}
		}
		if applied {
			return next, nil
		}
		if prev.Version == nil {
			return store.Tenant{}, notFound("tenant")
		}
	}
	return store.Tenant{}, errs.New(errs.Conflict, "tenant changed concurrently; try again")
}

// Delete removes the tenant, then frees its name. It does not look at the
// tenant's users: refusing to delete a tenant that has some is the
// caller's rule (see Users.Count).
func (ts tenants) Delete(ctx context.Context, id string) error {
	s := ts.s
	if err := checkID("id", id); err != nil {
		return err
	}
	for attempt := range maxCASAttempts {
		backoff(ctx, attempt)
		old, err := ts.get(ctx, id)
		if err != nil {
			return err
		}
		var prev struct {
			Version *int64 `db:"version"`
		}
		applied, err := s.query(ctx, s.q.tenantDelete).Bind(id, old.Version).GetCASRelease(&prev)
		if err != nil {
			gone := func(ctx context.Context) (bool, error) {
				_, err := ts.getSerial(ctx, id)
				if errs.CodeOf(err) == errs.NotFound {
					return true, nil
				}
				return false, err
			}
			if applied, err = s.settle(ctx, err, gone); err != nil {
				return ctxErr(ctx, err)
			}
			if !applied {
				continue
			}
		}
		if applied {
			s.release(ctx, claimTenantName, scopeGlobal, old.Name, id)
			return nil
		}
		if prev.Version == nil {
			return notFound("tenant")
		}
	}
	return errs.New(errs.Conflict, "tenant changed concurrently; try again")
}

// getSerial reads a tenant at serial consistency.
func (ts tenants) getSerial(ctx context.Context, id string) (store.Tenant, error) {
	var t store.Tenant
	err := serial(ts.s.query(ctx, ts.s.q.tenantGet)).Bind(id).GetRelease(&t)
	if isNotFound(err) {
		return store.Tenant{}, notFound("tenant")
	}
	return t, err
}
