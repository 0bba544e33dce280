package bolt

import (
	"context"

	"github.com/google/uuid"
	bbolt "go.etcd.io/bbolt"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
)

// Search walks the narrowest index the filter allows, in order of user ID
// (a group's members, else an organization's users, else all the tenant's
// users) and keeps the users that match the rest of the filter. The walk
// runs in one read transaction and goes on until the page is full, so a
// page is short only when it is the last one.
//
// Known shortcoming: filtering on status or an attribute alone reads the
// tenant's users up to the page's last match; there is no index by status
// or attribute.
func (us users) Search(ctx context.Context, tenantID string, f store.UserFilter,
	p store.Page) ([]store.User, string, error) {
	tenant, err := parseID("tenantId", tenantID)
	if err != nil {
		return nil, "", err
	}
	var org, group uuid.UUID
	if err := checkFilter(f, &org, &group); err != nil {
		return nil, "", err
	}
	limit, err := pageLimit(p)
	if err != nil {
		return nil, "", err
	}
	bind := filterHash(f)
	last, err := boundAfter(p.After, listSearch, tenant, bind)
	if err != nil {
		return nil, "", err
	}

	var items []store.User
	err = us.s.view(ctx, func(tx *bbolt.Tx) error {
		b, prefix := tx.Bucket(bucketUsers), tenant[:]
		switch {
		case f.GroupID != "":
			b, prefix = tx.Bucket(bucketGroupMembers), join(tenant[:], group[:])
		case f.OrgID != "":
			b, prefix = tx.Bucket(bucketOrgUsers), join(tenant[:], org[:])
		}
		return scan(b, prefix, last, func(id uuid.UUID, _ []byte) (bool, error) {
			rec, ok, err := getUser(tx, tenant, id)
			if err != nil {
				return false, err
			}
			if !ok {
				return false, errs.New(errs.Unavailable, "user index is out of step")
			}
			if u := rec.user(tenant, id); f.Matches(u) {
				items = append(items, u)
			}
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
	next := boundCursor{kind: listSearch, scope: tenant, bind: bind,
		last: uuid.MustParse(items[limit-1].ID)}
	return items, next.String(), nil
}

// checkFilter checks a filter and parses its IDs into org and group.
func checkFilter(f store.UserFilter, org, group *uuid.UUID) error {
	var err error
	switch f.Status {
	case "", store.UserActive, store.UserLocked, store.UserDisabled, store.UserPending:
	default:
		return errs.Invalid("status", "must be ACTIVE, LOCKED, DISABLED or PENDING")
	}
	if f.OrgID != "" {
		if *org, err = parseID("orgId", f.OrgID); err != nil {
			return err
		}
	}
	if f.GroupID != "" {
		if *group, err = parseID("groupId", f.GroupID); err != nil {
			return err
		}
	}
	if err := f.CheckAttributeFilter(); err != nil {
		return err
	}
	return checkText("value", f.Value)
}
