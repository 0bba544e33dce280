package bolt

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"
	bbolt "go.etcd.io/bbolt"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
)

// Groups keep their records in bucket groups, their folded names in
// groupNames, and each membership twice: groupMembers (group → users) for
// Members and for searching users by group, userGroups (user → groups) for
// GroupsOf, for the MaxGroupsPerUser bound and for deleting a user. Every
// operation is one transaction, so the two indexes never disagree, and a
// membership cannot be added to a group or user that a Delete removes: the
// add and the delete are serialised by bbolt's one writer.

type groups struct{ s *Store }

// Groups returns the group store.
func (s *Store) Groups() store.Groups { return groups{s} }

type groupRec struct {
	Name        string `json:"n"`
	DisplayName string `json:"d,omitempty"`
	Description string `json:"ds,omitempty"`
	Created     int64  `json:"c"`
	Updated     int64  `json:"u"`
	Version     int64  `json:"v"`
}

func (r groupRec) group(tenant, id uuid.UUID) store.Group {
	return store.Group{
		ID: id.String(), TenantID: tenant.String(), Name: r.Name, DisplayName: r.DisplayName,
		Description: r.Description, CreatedAt: fromMS(r.Created), UpdatedAt: fromMS(r.Updated),
		Version: r.Version,
	}
}

// groupRecOf folds the name and checks the group's fields.
func groupRecOf(g store.Group) (groupRec, error) {
	if err := checkText("name", g.Name); err != nil {
		return groupRec{}, err
	}
	rec := groupRec{
		Name: strings.ToLower(g.Name), DisplayName: g.DisplayName, Description: g.Description,
		Created: toMS(g.CreatedAt), Updated: toMS(g.UpdatedAt), Version: g.Version,
	}
	if err := checkKey("name", rec.Name); err != nil {
		return groupRec{}, err
	}
	if err := checkText("displayName", rec.DisplayName); err != nil {
		return groupRec{}, err
	}
	return rec, checkText("description", rec.Description)
}

func getGroup(tx *bbolt.Tx, tenant, id uuid.UUID) (rec groupRec, ok bool, err error) {
	v := tx.Bucket(bucketGroups).Get(join(tenant[:], id[:]))
	if v == nil {
		return groupRec{}, false, nil
	}
	err = decode(v, &rec)
	return rec, err == nil, err
}

func parseGroupIDs(tenantID, id string) (tenant, gid uuid.UUID, err error) {
	if tenant, err = parseID("tenantId", tenantID); err != nil {
		return tenant, gid, err
	}
	gid, err = parseID("id", id)
	return tenant, gid, err
}

// parseMemberIDs checks the IDs of a membership operation.
func parseMemberIDs(tenantID, groupID, userID string) (tenant, gid, uid uuid.UUID, err error) {
	if tenant, err = parseID("tenantId", tenantID); err != nil {
		return
	}
	if gid, err = parseID("groupId", groupID); err != nil {
		return
	}
	uid, err = parseID("userId", userID)
	return
}

func (gs groups) Create(ctx context.Context, g store.Group) (store.Group, error) {
	tenant, id, err := parseGroupIDs(g.TenantID, g.ID)
	if err != nil {
		return store.Group{}, err
	}
	rec, err := groupRecOf(g)
	if err != nil {
		return store.Group{}, err
	}
	rec.Version = 1

	err = gs.s.update(ctx, func(tx *bbolt.Tx) error {
		if _, ok, err := getGroup(tx, tenant, id); err != nil || ok {
			if err != nil {
				return err
			}
			return conflict("id", "a group with this ID exists")
		}
		err := moveName(tx.Bucket(bucketGroupNames), tenant, id, "", rec.Name)
		if errors.Is(err, errTaken) {
			return conflict("name", "a group with this name exists")
		}
		if err != nil {
			return err
		}
		return tx.Bucket(bucketGroups).Put(join(tenant[:], id[:]), encode(rec))
	})
	if err != nil {
		return store.Group{}, err
	}
	return rec.group(tenant, id), nil
}

func (gs groups) Get(ctx context.Context, tenantID, id string) (store.Group, error) {
	tenant, gid, err := parseGroupIDs(tenantID, id)
	if err != nil {
		return store.Group{}, err
	}
	return gs.get(ctx, tenant, gid)
}

func (gs groups) get(ctx context.Context, tenant, id uuid.UUID) (store.Group, error) {
	var out store.Group
	err := gs.s.view(ctx, func(tx *bbolt.Tx) error {
		rec, ok, err := getGroup(tx, tenant, id)
		if err != nil {
			return err
		}
		if !ok {
			return notFound("group")
		}
		out = rec.group(tenant, id)
		return nil
	})
	return out, err
}

func (gs groups) GetByName(ctx context.Context, tenantID, name string) (store.Group, error) {
	tenant, err := parseID("tenantId", tenantID)
	if err != nil {
		return store.Group{}, err
	}
	name = strings.ToLower(name)

	var out store.Group
	err = gs.s.view(ctx, func(tx *bbolt.Tx) error {
		if name == "" {
			return notFound("group")
		}
		v := tx.Bucket(bucketGroupNames).Get(join(tenant[:], []byte(name)))
		if v == nil {
			return notFound("group")
		}
		id, err := indexID(v)
		if err != nil {
			return err
		}
		rec, ok, err := getGroup(tx, tenant, id)
		if err != nil {
			return err
		}
		if !ok {
			return errs.New(errs.Unavailable, "group name index is out of step")
		}
		out = rec.group(tenant, id)
		return nil
	})
	return out, err
}

func (gs groups) List(ctx context.Context, tenantID string, p store.Page) ([]store.Group,
	string, error) {
	tenant, err := parseID("tenantId", tenantID)
	if err != nil {
		return nil, "", err
	}
	limit, err := pageLimit(p)
	if err != nil {
		return nil, "", err
	}
	last, err := boundAfter(p.After, listGroups, tenant, [16]byte{})
	if err != nil {
		return nil, "", err
	}

	var items []store.Group
	err = gs.s.view(ctx, func(tx *bbolt.Tx) error {
		return scan(tx.Bucket(bucketGroups), tenant[:], last, func(id uuid.UUID,
			v []byte) (bool, error) {
			var rec groupRec
			if err := decode(v, &rec); err != nil {
				return false, err
			}
			items = append(items, rec.group(tenant, id))
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
	next := boundCursor{kind: listGroups, scope: tenant,
		last: uuid.MustParse(items[limit-1].ID)}
	return items, next.String(), nil
}

func (gs groups) Update(ctx context.Context, tenantID, id string,
	fn func(store.Group) (store.Group, error)) (store.Group, error) {
	tenant, gid, err := parseGroupIDs(tenantID, id)
	if err != nil {
		return store.Group{}, err
	}

	for range maxUpdateAttempts {
		old, err := gs.get(ctx, tenant, gid)
		if err != nil {
			return store.Group{}, err
		}
		g, err := fn(old)
		if err != nil {
			return store.Group{}, err
		}
		g.ID, g.TenantID, g.CreatedAt = old.ID, old.TenantID, old.CreatedAt
		g.Version = old.Version + 1
		g.UpdatedAt = g.UpdatedAt.UTC().Truncate(time.Millisecond)
		rec, err := groupRecOf(g)
		if err != nil {
			return store.Group{}, err
		}

		err = gs.s.update(ctx, func(tx *bbolt.Tx) error {
			cur, ok, err := getGroup(tx, tenant, gid)
			switch {
			case err != nil:
				return err
			case !ok:
				return notFound("group")
			case cur.Version != old.Version:
				return errLostRace
			}
			err = moveName(tx.Bucket(bucketGroupNames), tenant, gid, cur.Name, rec.Name)
			if errors.Is(err, errTaken) {
				return conflict("name", "a group with this name exists")
			}
			if err != nil {
				return err
			}
			return tx.Bucket(bucketGroups).Put(join(tenant[:], gid[:]), encode(rec))
		})
		if errors.Is(err, errLostRace) {
			continue
		}
		if err != nil {
			return store.Group{}, err
		}
		return rec.group(tenant, gid), nil
	}
	return store.Group{}, errs.New(errs.Conflict, "group changed too often concurrently")
}

// Delete removes the group, its name and both index entries of each of its
// memberships in one transaction.
func (gs groups) Delete(ctx context.Context, tenantID, id string) error {
	tenant, gid, err := parseGroupIDs(tenantID, id)
	if err != nil {
		return err
	}
	return gs.s.update(ctx, func(tx *bbolt.Tx) error {
		rec, ok, err := getGroup(tx, tenant, gid)
		if err != nil {
			return err
		}
		if !ok {
			return notFound("group")
		}
		members, byUser := tx.Bucket(bucketGroupMembers), tx.Bucket(bucketUserGroups)
		prefix := join(tenant[:], gid[:])
		var users []uuid.UUID
		err = scan(members, prefix, nil, func(uid uuid.UUID, _ []byte) (bool, error) {
			users = append(users, uid)
			return true, nil
		})
		if err != nil {
			return err
		}
		for _, uid := range users {
			if err := members.Delete(join(prefix, uid[:])); err != nil {
				return err
			}
			if err := byUser.Delete(join(tenant[:], uid[:], gid[:])); err != nil {
				return err
			}
		}
		if err := tx.Bucket(bucketGroupNames).Delete(join(tenant[:], []byte(rec.Name))); err != nil {
			return err
		}
		return tx.Bucket(bucketGroups).Delete(join(tenant[:], gid[:]))
	})
}

// AddMember checks the group, the user and the user's number of groups in
// the transaction that writes, so none of them can change in between.
func (gs groups) AddMember(ctx context.Context, tenantID, groupID, userID string) error {
	tenant, gid, uid, err := parseMemberIDs(tenantID, groupID, userID)
	if err != nil {
		return err
	}
	return gs.s.update(ctx, func(tx *bbolt.Tx) error {
		if _, ok, err := getGroup(tx, tenant, gid); err != nil || !ok {
			if err != nil {
				return err
			}
			return notFound("group")
		}
		if _, ok, err := getUser(tx, tenant, uid); err != nil || !ok {
			if err != nil {
				return err
			}
			return notFound("user")
		}
		byUser := tx.Bucket(bucketUserGroups)
		key := join(tenant[:], uid[:], gid[:])
		if byUser.Get(key) != nil {
			return nil
		}
		n := 0
		err := scan(byUser, join(tenant[:], uid[:]), nil, func(uuid.UUID, []byte) (bool, error) {
			n++
			return n < store.MaxGroupsPerUser, nil
		})
		if err != nil {
			return err
		}
		if n >= store.MaxGroupsPerUser {
			return errs.Invalid("userId", "the user already belongs to %d groups",
				store.MaxGroupsPerUser)
		}
		if err := byUser.Put(key, nil); err != nil {
			return err
		}
		return tx.Bucket(bucketGroupMembers).Put(join(tenant[:], gid[:], uid[:]), nil)
	})
}

func (gs groups) RemoveMember(ctx context.Context, tenantID, groupID, userID string) error {
	tenant, gid, uid, err := parseMemberIDs(tenantID, groupID, userID)
	if err != nil {
		return err
	}
	return gs.s.update(ctx, func(tx *bbolt.Tx) error {
		if _, ok, err := getGroup(tx, tenant, gid); err != nil || !ok {
			if err != nil {
				return err
			}
			return notFound("group")
		}
		if err := tx.Bucket(bucketUserGroups).Delete(join(tenant[:], uid[:], gid[:])); err != nil {
			return err
		}
		return tx.Bucket(bucketGroupMembers).Delete(join(tenant[:], gid[:], uid[:]))
	})
}

func (gs groups) Members(ctx context.Context, tenantID, groupID string, p store.Page) ([]string,
	string, error) {
	tenant, gid, err := parseGroupIDs(tenantID, groupID)
	if err != nil {
		return nil, "", err
	}
	limit, err := pageLimit(p)
	if err != nil {
		return nil, "", err
	}
	last, err := boundAfter(p.After, listMembers, tenant, gid)
	if err != nil {
		return nil, "", err
	}

	var ids []string
	err = gs.s.view(ctx, func(tx *bbolt.Tx) error {
		if _, ok, err := getGroup(tx, tenant, gid); err != nil || !ok {
			if err != nil {
				return err
			}
			return notFound("group")
		}
		prefix := join(tenant[:], gid[:])
		return scan(tx.Bucket(bucketGroupMembers), prefix, last, func(uid uuid.UUID,
			_ []byte) (bool, error) {
			ids = append(ids, uid.String())
			return len(ids) <= limit, nil
		})
	})
	if err != nil {
		return nil, "", err
	}
	if len(ids) <= limit {
		return ids, "", nil
	}
	ids = ids[:limit]
	next := boundCursor{kind: listMembers, scope: tenant, bind: gid,
		last: uuid.MustParse(ids[limit-1])}
	return ids, next.String(), nil
}

func (gs groups) GroupsOf(ctx context.Context, tenantID, userID string) ([]store.Group, error) {
	tenant, err := parseID("tenantId", tenantID)
	if err != nil {
		return nil, err
	}
	uid, err := parseID("userId", userID)
	if err != nil {
		return nil, err
	}

	var out []store.Group
	err = gs.s.view(ctx, func(tx *bbolt.Tx) error {
		prefix := join(tenant[:], uid[:])
		return scan(tx.Bucket(bucketUserGroups), prefix, nil, func(gid uuid.UUID,
			_ []byte) (bool, error) {
			rec, ok, err := getGroup(tx, tenant, gid)
			if err != nil {
				return false, err
			}
			if !ok {
				return false, errs.New(errs.Unavailable, "group membership index is out of step")
			}
			out = append(out, rec.group(tenant, gid))
			return len(out) < store.MaxGroupsPerUser, nil
		})
	})
	return out, err
}

// removeMemberships deletes both index entries of every membership of a
// user, in the transaction of the user's Delete.
func removeMemberships(tx *bbolt.Tx, tenant, uid uuid.UUID) error {
	byUser, members := tx.Bucket(bucketUserGroups), tx.Bucket(bucketGroupMembers)
	prefix := join(tenant[:], uid[:])
	var gids []uuid.UUID
	err := scan(byUser, prefix, nil, func(gid uuid.UUID, _ []byte) (bool, error) {
		gids = append(gids, gid)
		return true, nil
	})
	if err != nil {
		return err
	}
	for _, gid := range gids {
		if err := byUser.Delete(join(prefix, gid[:])); err != nil {
			return err
		}
		if err := members.Delete(join(tenant[:], gid[:], uid[:])); err != nil {
			return err
		}
	}
	return nil
}

// A bound cursor is the cursor of a listing bound to more than its scope:
// a group's members (bound to the group), a user search (bound to a hash
// of the filter), and, for uniformity, the tenant's groups (bound to
// nothing):
//
//	version (1 byte) | kind (1) | scope (16) | bound (16) | last ID (16)
//
// in unpadded base64url. It has the length of an audit cursor, whose kind
// is refused here as these kinds are refused there; the other listings'
// cursors are shorter.
type boundCursor struct {
	kind        listKind
	scope, last uuid.UUID
	bind        [16]byte
}

const (
	listGroups  listKind = 101
	listMembers listKind = 102
	listSearch  listKind = 103
)

const boundCursorLen = 1 + 1 + 16 + 16 + 16

var boundCursorTextLen = cursorEncoding.EncodedLen(boundCursorLen)

func (c boundCursor) String() string {
	b := make([]byte, 0, boundCursorLen)
	b = append(b, cursorVersion, byte(c.kind))
	b = append(b, c.scope[:]...)
	b = append(b, c.bind[:]...)
	b = append(b, c.last[:]...)
	return cursorEncoding.EncodeToString(b)
}

// boundAfter decodes the cursor of a page request of one bound listing:
// nil for the first page, else the ID to continue after.
func boundAfter(s string, kind listKind, scope uuid.UUID, bind [16]byte) (*uuid.UUID, error) {
	if s == "" {
		return nil, nil
	}
	if len(s) != boundCursorTextLen {
		return nil, badCursor()
	}
	b, err := cursorEncoding.DecodeString(s)
	if err != nil || len(b) != boundCursorLen || b[0] != cursorVersion ||
		listKind(b[1]) != kind {
		return nil, badCursor()
	}
	last := uuid.UUID(b[34:50])
	if uuid.UUID(b[2:18]) != scope || [16]byte(b[18:34]) != bind || !validID(last) {
		return nil, badCursor()
	}
	return &last, nil
}

// filterHash binds a search cursor to its filter: the first 16 bytes of
// the SHA-256 of the filter's fields, each length-prefixed so that no two
// filters share an encoding.
func filterHash(f store.UserFilter) [16]byte {
	h := sha256.New()
	for _, s := range []string{string(f.Status), f.OrgID, f.GroupID, f.Attribute, f.Value} {
		h.Write(binary.BigEndian.AppendUint64(nil, uint64(len(s))))
		h.Write([]byte(s))
	}
	return [16]byte(h.Sum(nil))
}
