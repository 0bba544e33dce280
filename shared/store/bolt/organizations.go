package bolt

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"
	bbolt "go.etcd.io/bbolt"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
)

type organizations struct{ s *Store }

type orgRec struct {
	ParentID    string `json:"p,omitempty"`
	Name        string `json:"n"`
	DisplayName string `json:"d,omitempty"`
	Depth       int    `json:"h"`
	Created     int64  `json:"c"`
	Updated     int64  `json:"u"`
	Version     int64  `json:"v"`
}

func (r orgRec) org(tenant, id uuid.UUID) store.Organization {
	return store.Organization{
		ID: id.String(), TenantID: tenant.String(), ParentID: r.ParentID, Name: r.Name,
		DisplayName: r.DisplayName, Depth: r.Depth, CreatedAt: fromMS(r.Created),
		UpdatedAt: fromMS(r.Updated), Version: r.Version,
	}
}

// orgRecOf folds the name and checks the organization's fields.
func orgRecOf(o store.Organization) (orgRec, error) {
	if err := checkText("name", o.Name); err != nil {
		return orgRec{}, err
	}
	rec := orgRec{
		ParentID: o.ParentID, Name: strings.ToLower(o.Name), DisplayName: o.DisplayName,
		Depth: o.Depth, Created: toMS(o.CreatedAt), Updated: toMS(o.UpdatedAt),
		Version: o.Version,
	}
	if err := checkKey("name", rec.Name); err != nil {
		return orgRec{}, err
	}
	return rec, checkText("displayName", rec.DisplayName)
}

func getOrg(tx *bbolt.Tx, tenant, id uuid.UUID) (rec orgRec, ok bool, err error) {
	v := tx.Bucket(bucketOrgs).Get(join(tenant[:], id[:]))
	if v == nil {
		return orgRec{}, false, nil
	}
	err = decode(v, &rec)
	return rec, err == nil, err
}

// parentKey is the part of an orgChildren key that names the parent.
func parentKey(parentID string) []byte {
	if parentID == "" {
		return make([]byte, 16)
	}
	p := uuid.MustParse(parentID)
	return p[:]
}

func parseOrgIDs(tenantID, id string) (tenant, oid uuid.UUID, err error) {
	if tenant, err = parseID("tenantId", tenantID); err != nil {
		return tenant, oid, err
	}
	oid, err = parseID("id", id)
	return tenant, oid, err
}

func (og organizations) Create(ctx context.Context, o store.Organization) (store.Organization,
	error) {
	tenant, id, err := parseOrgIDs(o.TenantID, o.ID)
	if err != nil {
		return store.Organization{}, err
	}
	var parent uuid.UUID
	if o.ParentID != "" {
		if parent, err = parseID("parentId", o.ParentID); err != nil {
			return store.Organization{}, err
		}
	}
	rec, err := orgRecOf(o)
	if err != nil {
		return store.Organization{}, err
	}
	rec.Version, rec.Depth = 1, 1

	err = og.s.update(ctx, func(tx *bbolt.Tx) error {
		if _, ok, err := getOrg(tx, tenant, id); err != nil || ok {
			if err != nil {
				return err
			}
			return conflict("id", "an organization with this ID exists")
		}
		if o.ParentID != "" {
			p, ok, err := getOrg(tx, tenant, parent)
			if err != nil {
				return err
			}
			if !ok {
				return notFound("parent organization")
			}
			if p.Depth >= store.MaxOrgDepth {
				return errs.Invalid("parentId", "organizations nest at most %d deep",
					store.MaxOrgDepth)
			}
			rec.Depth = p.Depth + 1
		}
		names := tx.Bucket(bucketOrgNames)
		if names.Get(join(tenant[:], []byte(rec.Name))) != nil {
			return conflict("name", "an organization with this name exists")
		}
		if err := names.Put(join(tenant[:], []byte(rec.Name)), id[:]); err != nil {
			return err
		}
		children := tx.Bucket(bucketOrgChildren)
		if err := children.Put(join(tenant[:], parentKey(o.ParentID), id[:]), nil); err != nil {
			return err
		}
		return tx.Bucket(bucketOrgs).Put(join(tenant[:], id[:]), encode(rec))
	})
	if err != nil {
		return store.Organization{}, err
	}
	return rec.org(tenant, id), nil
}

func (og organizations) Get(ctx context.Context, tenantID, id string) (store.Organization,
	error) {
	tenant, oid, err := parseOrgIDs(tenantID, id)
	if err != nil {
		return store.Organization{}, err
	}
	return og.get(ctx, tenant, oid)
}

func (og organizations) get(ctx context.Context, tenant, id uuid.UUID) (store.Organization,
	error) {
	var out store.Organization
	err := og.s.view(ctx, func(tx *bbolt.Tx) error {
		rec, ok, err := getOrg(tx, tenant, id)
		if err != nil {
			return err
		}
		if !ok {
			return notFound("organization")
		}
		out = rec.org(tenant, id)
		return nil
	})
	return out, err
}

func (og organizations) List(ctx context.Context, tenantID, parentID string,
	p store.Page) ([]store.Organization, string, error) {
	tenant, err := parseID("tenantId", tenantID)
	if err != nil {
		return nil, "", err
	}
	scope := tenant
	if parentID != "" {
		if scope, err = parseID("parentId", parentID); err != nil {
			return nil, "", err
		}
	}
	limit, err := pageLimit(p)
	if err != nil {
		return nil, "", err
	}
	last, err := after(p.After, listOrgs, scope)
	if err != nil {
		return nil, "", err
	}

	var items []store.Organization
	err = og.s.view(ctx, func(tx *bbolt.Tx) error {
		prefix := join(tenant[:], parentKey(parentID))
		return scan(tx.Bucket(bucketOrgChildren), prefix, last, func(id uuid.UUID,
			_ []byte) (bool, error) {
			rec, ok, err := getOrg(tx, tenant, id)
			if err != nil {
				return false, err
			}
			if !ok {
				return false, errs.New(errs.Unavailable, "organization index is out of step")
			}
			items = append(items, rec.org(tenant, id))
			return len(items) <= limit, nil
		})
	})
	if err != nil {
		return nil, "", err
	}
	return page(items, limit, listOrgs, scope, func(o store.Organization) string { return o.ID })
}

func (og organizations) Update(ctx context.Context, tenantID, id string,
	fn func(store.Organization) (store.Organization, error)) (store.Organization, error) {
	tenant, oid, err := parseOrgIDs(tenantID, id)
	if err != nil {
		return store.Organization{}, err
	}

	for range maxUpdateAttempts {
		old, err := og.get(ctx, tenant, oid)
		if err != nil {
			return store.Organization{}, err
		}
		o, err := fn(old)
		if err != nil {
			return store.Organization{}, err
		}
		o.ID, o.TenantID, o.ParentID = old.ID, old.TenantID, old.ParentID
		o.Depth, o.CreatedAt = old.Depth, old.CreatedAt
		o.Version = old.Version + 1
		o.UpdatedAt = o.UpdatedAt.UTC().Truncate(time.Millisecond)
		rec, err := orgRecOf(o)
		if err != nil {
			return store.Organization{}, err
		}

		err = og.s.update(ctx, func(tx *bbolt.Tx) error {
			cur, ok, err := getOrg(tx, tenant, oid)
			switch {
			case err != nil:
				return err
			case !ok:
				return notFound("organization")
			case cur.Version != old.Version:
				return errLostRace
			}
			err = moveName(tx.Bucket(bucketOrgNames), tenant, oid, cur.Name, rec.Name)
			if errors.Is(err, errTaken) {
				return conflict("name", "an organization with this name exists")
			}
			if err != nil {
				return err
			}
			return tx.Bucket(bucketOrgs).Put(join(tenant[:], oid[:]), encode(rec))
		})
		if errors.Is(err, errLostRace) {
			continue
		}
		if err != nil {
			return store.Organization{}, err
		}
		return rec.org(tenant, oid), nil
	}
	return store.Organization{}, errs.New(errs.Conflict,
		"organization changed too often concurrently")
}

// Delete checks for children and users in the transaction that deletes,
// so neither can appear in between.
func (og organizations) Delete(ctx context.Context, tenantID, id string) error {
	tenant, oid, err := parseOrgIDs(tenantID, id)
	if err != nil {
		return err
	}
	return og.s.update(ctx, func(tx *bbolt.Tx) error {
		rec, ok, err := getOrg(tx, tenant, oid)
		if err != nil {
			return err
		}
		if !ok {
			return notFound("organization")
		}
		if hasKeyWithPrefix(tx.Bucket(bucketOrgChildren), join(tenant[:], oid[:])) {
			return conflict("id", "the organization has child organizations")
		}
		if hasKeyWithPrefix(tx.Bucket(bucketOrgUsers), join(tenant[:], oid[:])) {
			return conflict("id", "the organization has users")
		}
		if err := tx.Bucket(bucketOrgNames).Delete(join(tenant[:], []byte(rec.Name))); err != nil {
			return err
		}
		children := tx.Bucket(bucketOrgChildren)
		if err := children.Delete(join(tenant[:], parentKey(rec.ParentID), oid[:])); err != nil {
			return err
		}
		return tx.Bucket(bucketOrgs).Delete(join(tenant[:], oid[:]))
	})
}

func hasKeyWithPrefix(b *bbolt.Bucket, prefix []byte) bool {
	k, _ := b.Cursor().Seek(prefix)
	return k != nil && hasPrefix(k, prefix)
}
