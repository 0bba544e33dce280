package scylla

import (
	"context"
	"errors"
	"unicode/utf8"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
)

// Organizations live in one partition per tenant (table organizations),
// with the children of each parent indexed in organizations_by_parent.
// Names are unique per tenant through claims, like usernames. The index
// row is written before the organization and deleted after it, so it may
// name an organization that does not exist (yet, or any more); readers
// join it with organizations and skip such rows, and they also skip an
// organization whose parent is not the one listed.
//
// Delete and the writes that add to an organization (a child, a user)
// check each other without a transaction spanning both tables. Delete
// first marks the organization deleting (a lightweight transaction), then
// looks for children and users, then deletes; a writer first writes, then
// reads the organization at serial consistency and undoes its write when
// the organization is gone or marked. Serial reads and lightweight
// transactions on the organization's row are linearizable, so either the
// writer's read comes first, and then its write is visible to the delete's
// check, or it comes after the mark and the writer undoes.

type organizations struct{ s *Store }

const listOrgs = "orgs"

// orgScanBatch is how many index rows a listing reads per round trip.
const orgScanBatch = 100

func normalizeOrg(o store.Organization) (store.Organization, error) {
	if !utf8.ValidString(o.Name) {
		return o, errs.Invalid("name", "must be valid UTF-8")
	}
	o.Name = fold(o.Name)
	if err := checkID("tenantId", o.TenantID); err != nil {
		return o, err
	}
	if err := checkID("id", o.ID); err != nil {
		return o, err
	}
	if o.ParentID != "" {
		if err := checkID("parentId", o.ParentID); err != nil {
			return o, err
		}
	}
	if err := checkKey("name", o.Name); err != nil {
		return o, err
	}
	return o, checkText("displayName", o.DisplayName)
}

// parentKey is the partition key part that names a parent in the index.
func parentKey(o store.Organization) string {
	if o.ParentID == "" {
		return o.TenantID
	}
	return o.ParentID
}

func (og organizations) holdsName(tenantID, name string) holdsFunc {
	return func(ctx context.Context, owner string) (bool, error) {
		o, err := og.get(ctx, tenantID, owner)
		if errs.CodeOf(err) == errs.NotFound {
			return false, nil
		}
		return err == nil && o.Name == name, err
	}
}

func (og organizations) Create(ctx context.Context, o store.Organization) (store.Organization,
	error) {
	s := og.s
	o, err := normalizeOrg(o)
	if err != nil {
		return store.Organization{}, err
	}
	o.CreatedAt, o.UpdatedAt = dbTime(o.CreatedAt), dbTime(o.UpdatedAt)
	o.Version, o.Depth = 1, 1
	if o.ParentID != "" {
		p, err := og.get(ctx, o.TenantID, o.ParentID)
		if errs.CodeOf(err) == errs.NotFound {
			return store.Organization{}, notFound("parent organization")
		}
		if err != nil {
			return store.Organization{}, err
		}
		if p.Depth >= store.MaxOrgDepth {
			return store.Organization{}, errs.Invalid("parentId",
				"organizations nest at most %d deep", store.MaxOrgDepth)
		}
		o.Depth = p.Depth + 1
	}

	taken, err := s.acquire(ctx, claimOrgName, o.TenantID, o.Name, o.ID,
		og.holdsName(o.TenantID, o.Name))
	if errors.Is(err, errClaimTaken) {
		return store.Organization{}, conflict("name", "organization name already taken")
	}
	if err != nil {
		return store.Organization{}, ctxErr(ctx, err)
	}
	release := func() {
		if taken {
			s.release(ctx, claimOrgName, o.TenantID, o.Name, o.ID)
		}
	}
	err = s.query(ctx, s.q.orgChildInsert).Bind(o.TenantID, parentKey(o), o.ID).
		Idempotent(true).ExecRelease()
	if err != nil {
		release()
		return store.Organization{}, ctxErr(ctx, err)
	}

	applied, err := s.query(ctx, s.q.orgInsert).
		Bind(o.TenantID, o.ID, o.ParentID, o.Name, o.DisplayName, o.Depth, o.CreatedAt,
			o.UpdatedAt, o.Version).
		ExecCASRelease()
	if err != nil {
		if landed, serr := s.settle(ctx, err, og.holdsState(o)); serr == nil && landed {
			applied, err = true, nil
		}
	}
	if err != nil || !applied {
		release()
		// The index row stays: when the ID is taken it may be the row of
		// the organization that holds the ID, and a row naming nothing is
		// skipped by readers anyway.
		if err != nil {
			return store.Organization{}, ctxErr(ctx, err)
		}
		return store.Organization{}, conflict("id", "organization ID already taken")
	}
	if o.ParentID == "" {
		return o, nil
	}
	ok, err := og.usable(ctx, o.TenantID, o.ParentID)
	if err != nil || !ok {
		og.undoCreate(ctx, o)
		if err != nil {
			return store.Organization{}, err
		}
		return store.Organization{}, notFound("parent organization")
	}
	return o, nil
}

// usable reads, at serial consistency, whether an organization exists and
// is not being deleted.
func (og organizations) usable(ctx context.Context, tenantID, id string) (bool, error) {
	var row struct {
		Version  int64 `db:"version"`
		Deleting *bool `db:"deleting"`
	}
	err := serial(og.s.query(ctx, og.s.q.orgState)).Bind(tenantID, id).GetRelease(&row)
	if isNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, ctxErr(ctx, err)
	}
	return row.Deleting == nil || !*row.Deleting, nil
}

// undoCreate deletes an organization just created under a parent that
// turned out to be going. It runs whatever the caller's context: the
// creation is already refused. Failures leave an organization that a
// tenant administrator can still read and delete by ID, and are logged.
func (og organizations) undoCreate(ctx context.Context, o store.Organization) {
	s := og.s
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.Timeout)
	defer cancel()
	_, err := s.query(dctx, s.q.orgDelete).Bind(o.TenantID, o.ID, o.Version).ExecCASRelease()
	if err == nil {
		err = s.query(dctx, s.q.orgChildDelete).Bind(o.TenantID, parentKey(o), o.ID).
			ExecRelease()
	}
	if err != nil {
		s.log.Error("undoing an organization created under a deleted parent failed",
			"err", err)
	}
	s.release(ctx, claimOrgName, o.TenantID, o.Name, o.ID)
}

// mark sets or clears the organization's deleting flag; applied is false
// when the organization does not exist.
func (og organizations) mark(ctx context.Context, tenantID, id string, deleting bool) (bool,
	error) {
	return og.s.query(ctx, og.s.q.orgMark).Bind(deleting, tenantID, id).ExecCASRelease()
}

func (og organizations) holdsState(want store.Organization) func(context.Context) (bool,
	error) {
	return func(ctx context.Context) (bool, error) {
		var got store.Organization
		err := serial(og.s.query(ctx, og.s.q.orgGet)).Bind(want.TenantID, want.ID).
			GetRelease(&got)
		if isNotFound(err) {
			return false, nil
		}
		return err == nil && sameOrg(got, want), err
	}
}

func (og organizations) gone(tenantID, id string) func(context.Context) (bool, error) {
	return func(ctx context.Context) (bool, error) {
		var got store.Organization
		err := serial(og.s.query(ctx, og.s.q.orgGet)).Bind(tenantID, id).GetRelease(&got)
		if isNotFound(err) {
			return true, nil
		}
		return false, err
	}
}

func sameOrg(a, b store.Organization) bool {
	return a.ID == b.ID && a.TenantID == b.TenantID && a.ParentID == b.ParentID &&
		a.Name == b.Name && a.DisplayName == b.DisplayName && a.Depth == b.Depth &&
		a.CreatedAt.Equal(b.CreatedAt) && a.UpdatedAt.Equal(b.UpdatedAt) &&
		a.Version == b.Version
}

func (og organizations) Get(ctx context.Context, tenantID, id string) (store.Organization,
	error) {
	if err := checkID("tenantId", tenantID); err != nil {
		return store.Organization{}, err
	}
	if err := checkID("id", id); err != nil {
		return store.Organization{}, err
	}
	return og.get(ctx, tenantID, id)
}

func (og organizations) get(ctx context.Context, tenantID, id string) (store.Organization,
	error) {
	var o store.Organization
	err := og.s.query(ctx, og.s.q.orgGet).Bind(tenantID, id).Idempotent(true).GetRelease(&o)
	if isNotFound(err) {
		return store.Organization{}, notFound("organization")
	}
	if err != nil {
		return store.Organization{}, ctxErr(ctx, err)
	}
	return o, nil
}

func (og organizations) List(ctx context.Context, tenantID, parentID string,
	p store.Page) ([]store.Organization, string, error) {
	if err := checkID("tenantId", tenantID); err != nil {
		return nil, "", err
	}
	if parentID != "" {
		if err := checkID("parentId", parentID); err != nil {
			return nil, "", err
		}
	}
	limit, err := pageLimit(p)
	if err != nil {
		return nil, "", err
	}
	scope := tenantID + "/" + parentID
	after, err := decodeCursor(p.After, listOrgs, scope)
	if err != nil {
		return nil, "", err
	}
	items, err := og.children(ctx, tenantID, parentID, after, limit+1)
	if err != nil {
		return nil, "", err
	}
	if len(items) <= limit {
		return items, "", nil
	}
	items = items[:limit]
	return items, encodeCursor(listOrgs, scope, items[limit-1].ID), nil
}

// children returns up to n existing children of parentID ("" for the top
// level) whose IDs come after after, in order of ID.
func (og organizations) children(ctx context.Context, tenantID, parentID, after string,
	n int) ([]store.Organization, error) {
	s := og.s
	key := parentID
	if key == "" {
		key = tenantID
	}
	var out []store.Organization
	for len(out) < n {
		var ids []string
		err := s.query(ctx, s.q.orgChildList).Bind(tenantID, key, after, orgScanBatch).
			Idempotent(true).SelectRelease(&ids)
		if err != nil {
			return nil, ctxErr(ctx, err)
		}
		if len(ids) == 0 {
			break
		}
		var found []store.Organization
		err = s.query(ctx, s.q.orgGetIn).Bind(tenantID, ids).Idempotent(true).
			SelectRelease(&found)
		if err != nil {
			return nil, ctxErr(ctx, err)
		}
		byID := make(map[string]store.Organization, len(found))
		for _, o := range found {
			byID[o.ID] = o
		}
		for _, id := range ids {
			if o, ok := byID[id]; ok && o.ParentID == parentID && len(out) < n {
				out = append(out, o)
			}
		}
		if len(ids) < orgScanBatch {
			break
		}
		after = ids[len(ids)-1]
	}
	return out, nil
}

// Update is compare-and-swap on version, with the name's claim handled
// like a username's.
func (og organizations) Update(ctx context.Context, tenantID, id string,
	fn func(store.Organization) (store.Organization, error)) (store.Organization, error) {
	s := og.s
	if err := checkID("tenantId", tenantID); err != nil {
		return store.Organization{}, err
	}
	if err := checkID("id", id); err != nil {
		return store.Organization{}, err
	}
	for attempt := range maxCASAttempts {
		backoff(ctx, attempt)
		old, err := og.get(ctx, tenantID, id)
		if err != nil {
			return store.Organization{}, err
		}
		next, err := fn(old)
		if err != nil {
			return store.Organization{}, err
		}
		next.ID, next.TenantID, next.ParentID = old.ID, old.TenantID, old.ParentID
		next.Depth, next.CreatedAt = old.Depth, old.CreatedAt
		if next, err = normalizeOrg(next); err != nil {
			return store.Organization{}, err
		}
		next.UpdatedAt = dbTime(next.UpdatedAt)
		next.Version = old.Version + 1

		taken := false
		if next.Name != old.Name {
			taken, err = s.acquire(ctx, claimOrgName, tenantID, next.Name, id,
				og.holdsName(tenantID, next.Name))
			if errors.Is(err, errClaimTaken) {
				return store.Organization{}, conflict("name", "organization name already taken")
			}
			if err != nil {
				return store.Organization{}, ctxErr(ctx, err)
			}
		}
		var prev struct {
			Version *int64 `db:"version"`
		}
		applied, err := s.query(ctx, s.q.orgUpdate).
			Bind(next.Name, next.DisplayName, next.UpdatedAt, next.Version, tenantID, id,
				old.Version).
			GetCASRelease(&prev)
		if err != nil {
			applied, err = s.settle(ctx, err, og.holdsState(next))
		}
		if err != nil || !applied {
			if taken {
				s.release(ctx, claimOrgName, tenantID, next.Name, id)
			}
			if err != nil {
				return store.Organization{}, ctxErr(ctx, err)
			}
			continue // read again: the organization may be gone or changed
		}
		if old.Name != next.Name {
			s.release(ctx, claimOrgName, tenantID, old.Name, id)
		}
		return next, nil
	}
	return store.Organization{}, errs.New(errs.Conflict,
		"organization changed concurrently; try again")
}

// Delete marks the organization deleting, refuses it (and clears the
// mark) while it has children or users, then deletes it if its version has
// not moved, then its index row and its name's claim.
func (og organizations) Delete(ctx context.Context, tenantID, id string) (err error) {
	s := og.s
	if err := checkID("tenantId", tenantID); err != nil {
		return err
	}
	if err := checkID("id", id); err != nil {
		return err
	}
	marked, deleted := false, false
	defer func() {
		if marked && !deleted {
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.Timeout)
			defer cancel()
			if _, uerr := og.mark(dctx, tenantID, id, false); uerr != nil {
				// The mark only makes writers that add to the organization
				// refuse; a later Delete or its success clears it.
				s.log.Warn("clearing an organization's deleting mark failed", "err", uerr)
			}
		}
	}()
	for attempt := range maxCASAttempts {
		backoff(ctx, attempt)
		old, err := og.get(ctx, tenantID, id)
		if err != nil {
			return err
		}
		if !marked {
			ok, err := og.mark(ctx, tenantID, id, true)
			if err != nil {
				return ctxErr(ctx, err)
			}
			if !ok {
				return notFound("organization")
			}
			marked = true
		}
		kids, err := og.children(ctx, tenantID, id, "", 1)
		if err != nil {
			return err
		}
		if len(kids) > 0 {
			return conflict("id", "the organization has child organizations")
		}
		var member []string
		err = s.query(ctx, s.q.userInOrg).Bind(tenantID, id).Idempotent(true).
			SelectRelease(&member)
		if err != nil {
			return ctxErr(ctx, err)
		}
		if len(member) > 0 {
			return conflict("id", "the organization has users")
		}

		var prev struct {
			Version *int64 `db:"version"`
		}
		applied, err := s.query(ctx, s.q.orgDelete).Bind(tenantID, id, old.Version).
			GetCASRelease(&prev)
		if err != nil {
			if applied, err = s.settle(ctx, err, og.gone(tenantID, id)); err != nil {
				return ctxErr(ctx, err)
			}
		}
		if !applied {
			continue // changed or deleted meanwhile: read again
		}
		deleted = true
		// The organization is gone; what follows only tidies up, and a
		// failure leaves a row that readers skip and a claim that is taken
		// over once stale.
		dctx := context.WithoutCancel(ctx)
		if err := s.query(dctx, s.q.orgChildDelete).Bind(tenantID, parentKey(old), id).
			ExecRelease(); err != nil {
			s.log.Warn("deleting an organization's index row failed", "err", err)
		}
		s.release(ctx, claimOrgName, tenantID, old.Name, id)
		return nil
	}
	return errs.New(errs.Conflict, "organization changed concurrently; try again")
}
