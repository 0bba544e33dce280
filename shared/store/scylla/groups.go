package scylla

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
)

// Groups live in one partition per tenant (table groups); names are
// unique per tenant through claims, like organizations' names. Each
// membership is a row in group_members (by group) and one in user_groups
// (by user); see migrations/0005_groups.cql.
//
// No transaction spans a membership and the group or user it joins, so a
// Delete and an AddMember that run together check each other the way
// organizations and their users do. Group Delete marks the group deleting
// (a lightweight transaction), deletes it, then removes its memberships;
// users.Delete deletes the user, then removes its memberships. AddMember
// writes both rows, then reads the group and the user at serial
// consistency and undoes its write if either is gone or the group is
// marked. Serial reads and lightweight transactions on one row are
// linearizable: either AddMember's read comes first, and then its rows
// are in place before the Delete lists the memberships to remove, or it
// comes after the mark or the delete and AddMember undoes.
//
// A membership row may outlive its group or user when the removal after a
// Delete fails (the Delete then reports the failure): GroupsOf and Search
// skip rows whose group or user is gone, Members still lists such a user,
// and a Delete of the missing group or user removes the rows left behind,
// so a retry cleans up. Known shortcoming: membership rows are plain writes ordered by the
// writing hosts' clocks, so an AddMember undone on a host whose clock is
// far ahead of the deleting host's can outlive the deletion of its row.

type groups struct{ s *Store }

// Groups returns the group store.
func (s *Store) Groups() store.Groups { return groups{s} }

const (
	claimGroupName claimKind = "group.name"

	listGroups  = "groups"
	listMembers = "members"
)

// groupStatements are the statements of groups and memberships, built
// once per keyspace.
type groupStatements struct {
	insert, get, getIn, list, update, del, mark, state string
	memberInsert, memberDelete, memberList             string
	byUserInsert, byUserDelete, byUserList, byUserGet  string
	usersIn                                            string
}

var groupStatementsByKeyspace sync.Map // keyspace → *groupStatements

const groupCols = `tenant_id, id, name, display_name, description, created_at, updated_at, ` +
	`version`

func (s *Store) gq() *groupStatements {
	if q, ok := groupStatementsByKeyspace.Load(s.cfg.Keyspace); ok {
		return q.(*groupStatements)
	}
	r := strings.NewReplacer("{ks}", s.cfg.Keyspace)
	q := &groupStatements{
		insert: r.Replace(`INSERT INTO {ks}.groups (` + groupCols + `)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?) IF NOT EXISTS`),
		get: r.Replace(`SELECT ` + groupCols + ` FROM {ks}.groups
    WHERE tenant_id = ? AND id = ?`),
		getIn: r.Replace(`SELECT ` + groupCols + ` FROM {ks}.groups
    WHERE tenant_id = ? AND id IN ?`),
		list: r.Replace(`SELECT ` + groupCols + ` FROM {ks}.groups
    WHERE tenant_id = ? AND id > ? LIMIT ?`),
		update: r.Replace(`UPDATE {ks}.groups
    SET name = ?, display_name = ?, description = ?, updated_at = ?, version = ?
    WHERE tenant_id = ? AND id = ? IF version = ?`),
		del: r.Replace(`DELETE FROM {ks}.groups WHERE tenant_id = ? AND id = ?
    IF version = ?`),
		mark: r.Replace(`UPDATE {ks}.groups SET deleting = ?
    WHERE tenant_id = ? AND id = ? IF EXISTS`),
		state: r.Replace(`SELECT version, deleting FROM {ks}.groups
    WHERE tenant_id = ? AND id = ?`),
		memberInsert: r.Replace(`INSERT INTO {ks}.group_members (tenant_id, group_id, user_id)
    VALUES (?, ?, ?)`),
		memberDelete: r.Replace(`DELETE FROM {ks}.group_members
    WHERE tenant_id = ? AND group_id = ? AND user_id = ?`),
		memberList: r.Replace(`SELECT user_id FROM {ks}.group_members
    WHERE tenant_id = ? AND group_id = ? AND user_id > ? LIMIT ?`),
		byUserInsert: r.Replace(`INSERT INTO {ks}.user_groups (tenant_id, user_id, group_id)
    VALUES (?, ?, ?)`),
		byUserDelete: r.Replace(`DELETE FROM {ks}.user_groups
    WHERE tenant_id = ? AND user_id = ? AND group_id = ?`),
		byUserList: r.Replace(`SELECT group_id FROM {ks}.user_groups
    WHERE tenant_id = ? AND user_id = ? LIMIT ?`),
		byUserGet: r.Replace(`SELECT group_id FROM {ks}.user_groups
    WHERE tenant_id = ? AND user_id = ? AND group_id = ?`),
		usersIn: r.Replace(`SELECT ` + userCols + ` FROM {ks}.users
    WHERE tenant_id = ? AND id IN ?`),
	}
	groupStatementsByKeyspace.Store(s.cfg.Keyspace, q)
	return q
}

func normalizeGroup(g store.Group) (store.Group, error) {
	if !utf8.ValidString(g.Name) {
		return g, errs.Invalid("name", "must be valid UTF-8")
	}
	g.Name = fold(g.Name)
	if err := checkID("tenantId", g.TenantID); err != nil {
		return g, err
	}
	if err := checkID("id", g.ID); err != nil {
		return g, err
	}
	if err := checkKey("name", g.Name); err != nil {
		return g, err
	}
	if err := checkText("displayName", g.DisplayName); err != nil {
		return g, err
	}
	return g, checkText("description", g.Description)
}

func checkIDs(ids ...[2]string) error {
	for _, id := range ids {
		if err := checkID(id[0], id[1]); err != nil {
			return err
		}
	}
	return nil
}

func (gs groups) holdsName(tenantID, name string) holdsFunc {
	return func(ctx context.Context, owner string) (bool, error) {
		g, err := gs.get(ctx, tenantID, owner)
		if errs.CodeOf(err) == errs.NotFound {
			return false, nil
		}
		return err == nil && g.Name == name, err
	}
}

func (gs groups) Create(ctx context.Context, g store.Group) (store.Group, error) {
	s := gs.s
	g, err := normalizeGroup(g)
	if err != nil {
		return store.Group{}, err
	}
	g.CreatedAt, g.UpdatedAt = dbTime(g.CreatedAt), dbTime(g.UpdatedAt)
	g.Version = 1

	taken, err := s.acquire(ctx, claimGroupName, g.TenantID, g.Name, g.ID,
		gs.holdsName(g.TenantID, g.Name))
	if errors.Is(err, errClaimTaken) {
		return store.Group{}, conflict("name", "group name already taken")
	}
	if err != nil {
		return store.Group{}, ctxErr(ctx, err)
	}
	applied, err := s.query(ctx, s.gq().insert).
		Bind(g.TenantID, g.ID, g.Name, g.DisplayName, g.Description, g.CreatedAt, g.UpdatedAt,
			g.Version).
		ExecCASRelease()
	if err != nil {
		if landed, serr := s.settle(ctx, err, gs.holdsState(g)); serr == nil && landed {
			applied, err = true, nil
		}
	}
	if err != nil || !applied {
		if taken {
			s.release(ctx, claimGroupName, g.TenantID, g.Name, g.ID)
		}
		if err != nil {
			return store.Group{}, ctxErr(ctx, err)
		}
		return store.Group{}, conflict("id", "group ID already taken")
	}
	return g, nil
}

func (gs groups) holdsState(want store.Group) func(context.Context) (bool, error) {
	return func(ctx context.Context) (bool, error) {
		var got store.Group
		err := serial(gs.s.query(ctx, gs.s.gq().get)).Bind(want.TenantID, want.ID).
			GetRelease(&got)
		if isNotFound(err) {
			return false, nil
		}
		return err == nil && sameGroup(got, want), err
	}
}

func sameGroup(a, b store.Group) bool {
	return a.ID == b.ID && a.TenantID == b.TenantID && a.Name == b.Name &&
		a.DisplayName == b.DisplayName && a.Description == b.Description &&
		a.CreatedAt.Equal(b.CreatedAt) && a.UpdatedAt.Equal(b.UpdatedAt) &&
		a.Version == b.Version
}

func (gs groups) gone(tenantID, id string) func(context.Context) (bool, error) {
	return func(ctx context.Context) (bool, error) {
		var got store.Group
		err := serial(gs.s.query(ctx, gs.s.gq().get)).Bind(tenantID, id).GetRelease(&got)
		if isNotFound(err) {
			return true, nil
		}
		return false, err
	}
}

// usable reads, at serial consistency, whether a group exists and is not
// being deleted.
func (gs groups) usable(ctx context.Context, tenantID, id string) (bool, error) {
	var row struct {
		Version  int64 `db:"version"`
		Deleting *bool `db:"deleting"`
	}
	err := serial(gs.s.query(ctx, gs.s.gq().state)).Bind(tenantID, id).GetRelease(&row)
	if isNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, ctxErr(ctx, err)
	}
	return row.Deleting == nil || !*row.Deleting, nil
}

func (gs groups) Get(ctx context.Context, tenantID, id string) (store.Group, error) {
	if err := checkIDs([2]string{"tenantId", tenantID}, [2]string{"id", id}); err != nil {
		return store.Group{}, err
	}
	return gs.get(ctx, tenantID, id)
}

func (gs groups) get(ctx context.Context, tenantID, id string) (store.Group, error) {
	var g store.Group
	err := gs.s.query(ctx, gs.s.gq().get).Bind(tenantID, id).Idempotent(true).GetRelease(&g)
	if isNotFound(err) {
		return store.Group{}, notFound("group")
	}
	if err != nil {
		return store.Group{}, ctxErr(ctx, err)
	}
	return g, nil
}

// GetByName follows the name's claim to its group and checks that the
// group still has the name (a claim may outlive a failed write).
func (gs groups) GetByName(ctx context.Context, tenantID, name string) (store.Group, error) {
	if err := checkID("tenantId", tenantID); err != nil {
		return store.Group{}, err
	}
	if !utf8.ValidString(name) {
		return store.Group{}, notFound("group")
	}
	name = fold(name)
	if checkKey("name", name) != nil {
		return store.Group{}, notFound("group")
	}
	owner, err := gs.s.lookupClaim(ctx, claimGroupName, tenantID, name)
	if err != nil {
		return store.Group{}, ctxErr(ctx, err)
	}
	if owner == "" {
		return store.Group{}, notFound("group")
	}
	g, err := gs.get(ctx, tenantID, owner)
	if err != nil {
		return store.Group{}, err
	}
	if g.Name != name {
		return store.Group{}, notFound("group")
	}
	return g, nil
}

func (gs groups) List(ctx context.Context, tenantID string, p store.Page) ([]store.Group,
	string, error) {
	if err := checkID("tenantId", tenantID); err != nil {
		return nil, "", err
	}
	limit, err := pageLimit(p)
	if err != nil {
		return nil, "", err
	}
	after, err := decodeCursor(p.After, listGroups, tenantID)
	if err != nil {
		return nil, "", err
	}
	var items []store.Group
	err = gs.s.query(ctx, gs.s.gq().list).Bind(tenantID, after, limit+1).Idempotent(true).
		SelectRelease(&items)
	if err != nil {
		return nil, "", ctxErr(ctx, err)
	}
	if len(items) <= limit {
		return items, "", nil
	}
	items = items[:limit]
	return items, encodeCursor(listGroups, tenantID, items[limit-1].ID), nil
}

// Update is compare-and-swap on version, with the name's claim handled
// like an organization's.
func (gs groups) Update(ctx context.Context, tenantID, id string,
	fn func(store.Group) (store.Group, error)) (store.Group, error) {
	s := gs.s
	if err := checkIDs([2]string{"tenantId", tenantID}, [2]string{"id", id}); err != nil {
		return store.Group{}, err
	}
	for attempt := range maxCASAttempts {
		backoff(ctx, attempt)
		old, err := gs.get(ctx, tenantID, id)
		if err != nil {
			return store.Group{}, err
		}
		next, err := fn(old)
		if err != nil {
			return store.Group{}, err
		}
		next.ID, next.TenantID, next.CreatedAt = old.ID, old.TenantID, old.CreatedAt
		if next, err = normalizeGroup(next); err != nil {
			return store.Group{}, err
		}
		next.UpdatedAt = dbTime(next.UpdatedAt)
		next.Version = old.Version + 1

		taken := false
		if next.Name != old.Name {
			taken, err = s.acquire(ctx, claimGroupName, tenantID, next.Name, id,
				gs.holdsName(tenantID, next.Name))
			if errors.Is(err, errClaimTaken) {
				return store.Group{}, conflict("name", "group name already taken")
			}
			if err != nil {
				return store.Group{}, ctxErr(ctx, err)
			}
		}
		var prev struct {
			Version *int64 `db:"version"`
		}
		applied, err := s.query(ctx, s.gq().update).
			Bind(next.Name, next.DisplayName, next.Description, next.UpdatedAt, next.Version,
				tenantID, id, old.Version).
			GetCASRelease(&prev)
		if err != nil {
			applied, err = s.settle(ctx, err, gs.holdsState(next))
		}
		if err != nil || !applied {
			if taken {
				s.release(ctx, claimGroupName, tenantID, next.Name, id)
			}
			if err != nil {
				return store.Group{}, ctxErr(ctx, err)
			}
			continue // read again: the group may be gone or changed
		}
		if old.Name != next.Name {
			s.release(ctx, claimGroupName, tenantID, old.Name, id)
		}
		return next, nil
	}
	return store.Group{}, errs.New(errs.Conflict, "group changed concurrently; try again")
}

// Delete marks the group deleting, deletes it if its version has not
// moved, then removes its memberships and frees its name. A Delete of a
// missing group removes memberships left behind by an earlier Delete that
// failed half-way, then reports ErrNotFound.
func (gs groups) Delete(ctx context.Context, tenantID, id string) error {
	s := gs.s
	if err := checkIDs([2]string{"tenantId", tenantID}, [2]string{"id", id}); err != nil {
		return err
	}
	marked, deleted := false, false
	defer func() {
		if marked && !deleted {
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.Timeout)
			defer cancel()
			if _, err := gs.mark(dctx, tenantID, id, false); err != nil {
				// The mark only makes AddMember refuse; a later Delete
				// clears it or deletes the group.
				s.log.Warn("clearing a group's deleting mark failed", "err", err)
			}
		}
	}()
	for attempt := range maxCASAttempts {
		backoff(ctx, attempt)
		old, err := gs.get(ctx, tenantID, id)
		if errs.CodeOf(err) == errs.NotFound {
			if err := gs.removeMembers(ctx, tenantID, id); err != nil {
				return err
			}
			return notFound("group")
		}
		if err != nil {
			return err
		}
		if !marked {
			ok, err := gs.mark(ctx, tenantID, id, true)
			if err != nil {
				return ctxErr(ctx, err)
			}
			if !ok {
				continue // gone meanwhile: the read above reports it
			}
			marked = true
		}
		applied, err := s.query(ctx, s.gq().del).Bind(tenantID, id, old.Version).
			ExecCASRelease()
		if err != nil {
			if applied, err = s.settle(ctx, err, gs.gone(tenantID, id)); err != nil {
				return ctxErr(ctx, err)
			}
		}
		if !applied {
			continue // changed or deleted meanwhile: read again
		}
		deleted = true
		s.release(ctx, claimGroupName, tenantID, old.Name, id)
		return gs.removeMembers(ctx, tenantID, id)
	}
	return errs.New(errs.Conflict, "group changed concurrently; try again")
}

func (gs groups) mark(ctx context.Context, tenantID, id string, deleting bool) (bool, error) {
	return gs.s.query(ctx, gs.s.gq().mark).Bind(deleting, tenantID, id).ExecCASRelease()
}

// removeMembers removes every membership of a deleted group, the user's
// row first, so that a failure leaves rows that a retry finds. It runs
// whatever the caller's context: the group is already gone.
func (gs groups) removeMembers(ctx context.Context, tenantID, groupID string) error {
	s := gs.s
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 4*s.cfg.Timeout)
	defer cancel()
	after := ""
	for {
		var users []string
		err := s.query(ctx, s.gq().memberList).Bind(tenantID, groupID, after, memberBatch).
			Idempotent(true).SelectRelease(&users)
		if err != nil {
			return ctxErr(ctx, err)
		}
		err = eachOf(users, func(u string) error { return s.unlink(ctx, tenantID, groupID, u) })
		if err != nil {
			return err
		}
		if len(users) < memberBatch {
			return nil
		}
		after = users[len(users)-1]
	}
}

// memberBatch is how many membership rows one read returns.
const memberBatch = 200

// maxInValues bounds the values of one IN restriction: ScyllaDB refuses
// more than 100 clustering keys in one query by default.
const maxInValues = 100

// unlink deletes both rows of one membership, the user's first.
func (s *Store) unlink(ctx context.Context, tenantID, groupID, userID string) error {
	err := s.query(ctx, s.gq().byUserDelete).Bind(tenantID, userID, groupID).
		Idempotent(true).ExecRelease()
	if err == nil {
		err = s.query(ctx, s.gq().memberDelete).Bind(tenantID, groupID, userID).
			Idempotent(true).ExecRelease()
	}
	if err != nil {
		return ctxErr(ctx, err)
	}
	return nil
}

// deleteMemberships removes every membership of a deleted user; it is
// called by users.Delete after the user is gone, and by a Delete of a
// missing user to clean up after one that failed half-way.
func (s *Store) deleteMemberships(ctx context.Context, tenantID, userID string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 4*s.cfg.Timeout)
	defer cancel()
	var gids []string
	err := s.query(ctx, s.gq().byUserList).Bind(tenantID, userID, store.MaxGroupsPerUser+1).
		Idempotent(true).SelectRelease(&gids)
	if err != nil {
		return ctxErr(ctx, err)
	}
	return eachOf(gids, func(g string) error {
		// The group's row first: the user's row is how a retry finds it.
		err := s.query(ctx, s.gq().memberDelete).Bind(tenantID, g, userID).
			Idempotent(true).ExecRelease()
		if err == nil {
			err = s.query(ctx, s.gq().byUserDelete).Bind(tenantID, userID, g).
				Idempotent(true).ExecRelease()
		}
		if err != nil {
			return ctxErr(ctx, err)
		}
		return nil
	})
}

// eachOf runs fn on every item, a few at a time, and returns the first
// error, after every call has ended.
func eachOf(items []string, fn func(string) error) error {
	const parallel = 16
	sem := make(chan struct{}, parallel)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	for _, it := range items {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := fn(it); err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return first
}

// AddMember writes the membership, then checks at serial consistency that
// the group and the user are still there (see the top of this file) and
// that the user's groups are within MaxGroupsPerUser, and undoes the
// write otherwise. Two adds that race at the bound may both be refused.
func (gs groups) AddMember(ctx context.Context, tenantID, groupID, userID string) error {
	s := gs.s
	if err := checkIDs([2]string{"tenantId", tenantID}, [2]string{"groupId", groupID},
		[2]string{"userId", userID}); err != nil {
		return err
	}
	if _, err := gs.get(ctx, tenantID, groupID); err != nil {
		return err
	}
	if _, err := (users{s}).get(ctx, tenantID, userID); err != nil {
		return err
	}
	var have []string
	err := s.query(ctx, s.gq().byUserGet).Bind(tenantID, userID, groupID).Idempotent(true).
		SelectRelease(&have)
	if err != nil {
		return ctxErr(ctx, err)
	}
	if len(have) > 0 {
		return nil
	}
	if n, err := gs.countGroups(ctx, tenantID, userID); err != nil || n >= store.MaxGroupsPerUser {
		if err != nil {
			return err
		}
		return errTooManyGroups()
	}

	err = s.query(ctx, s.gq().byUserInsert).Bind(tenantID, userID, groupID).Idempotent(true).
		ExecRelease()
	if err == nil {
		err = s.query(ctx, s.gq().memberInsert).Bind(tenantID, groupID, userID).
			Idempotent(true).ExecRelease()
	}
	if err != nil {
		gs.undoAdd(ctx, tenantID, groupID, userID)
		return ctxErr(ctx, err)
	}
	refuse, err := gs.checkAdded(ctx, tenantID, groupID, userID)
	if err != nil || refuse != nil {
		gs.undoAdd(ctx, tenantID, groupID, userID)
		if err != nil {
			return err
		}
		return refuse
	}
	return nil
}

// checkAdded decides, after an AddMember wrote its rows, whether it
// stands: refuse is the error to report when it does not.
func (gs groups) checkAdded(ctx context.Context, tenantID, groupID, userID string) (
	refuse, err error) {
	ok, err := gs.usable(ctx, tenantID, groupID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return notFound("group"), nil
	}
	_, err = (users{gs.s}).getSerial(ctx, tenantID, userID)
	if errs.CodeOf(err) == errs.NotFound {
		return notFound("user"), nil
	}
	if err != nil {
		return nil, ctxErr(ctx, err)
	}
	n, err := gs.countGroups(ctx, tenantID, userID)
	if err != nil {
		return nil, err
	}
	if n > store.MaxGroupsPerUser {
		return errTooManyGroups(), nil
	}
	return nil, nil
}

func errTooManyGroups() error {
	return errs.Invalid("userId", "the user already belongs to %d groups",
		store.MaxGroupsPerUser)
}

// undoAdd removes a membership AddMember wrote and then refused. It runs
// whatever the caller's context; a failure leaves rows that a Delete of
// the group or user removes, and is logged.
func (gs groups) undoAdd(ctx context.Context, tenantID, groupID, userID string) {
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), gs.s.cfg.Timeout)
	defer cancel()
	if err := gs.s.unlink(dctx, tenantID, groupID, userID); err != nil {
		gs.s.log.Error("undoing a refused group membership failed", "err", err)
	}
}

// countGroups counts the user's memberships, up to one past the bound.
// Rows of groups deleted by a Delete that failed half-way are not
// counted: past the bound, the groups are read to tell.
func (gs groups) countGroups(ctx context.Context, tenantID, userID string) (int, error) {
	s := gs.s
	var gids []string
	err := s.query(ctx, s.gq().byUserList).Bind(tenantID, userID, store.MaxGroupsPerUser+1).
		Idempotent(true).SelectRelease(&gids)
	if err != nil {
		return 0, ctxErr(ctx, err)
	}
	if len(gids) < store.MaxGroupsPerUser {
		return len(gids), nil
	}
	found, err := gs.getIn(ctx, tenantID, gids)
	return len(found), err
}

// getIn reads the existing groups among ids, in order of ID.
func (gs groups) getIn(ctx context.Context, tenantID string, ids []string) ([]store.Group,
	error) {
	var found []store.Group
	for chunk := range slices.Chunk(ids, maxInValues) {
		var part []store.Group
		err := gs.s.query(ctx, gs.s.gq().getIn).Bind(tenantID, chunk).Idempotent(true).
			SelectRelease(&part)
		if err != nil {
			return nil, ctxErr(ctx, err)
		}
		found = append(found, part...)
	}
	slices.SortFunc(found, func(a, b store.Group) int { return strings.Compare(a.ID, b.ID) })
	return found, nil
}

func (gs groups) RemoveMember(ctx context.Context, tenantID, groupID, userID string) error {
	if err := checkIDs([2]string{"tenantId", tenantID}, [2]string{"groupId", groupID},
		[2]string{"userId", userID}); err != nil {
		return err
	}
	if _, err := gs.get(ctx, tenantID, groupID); err != nil {
		return err
	}
	return gs.s.unlink(ctx, tenantID, groupID, userID)
}

func (gs groups) Members(ctx context.Context, tenantID, groupID string, p store.Page) ([]string,
	string, error) {
	if err := checkIDs([2]string{"tenantId", tenantID}, [2]string{"groupId", groupID}); err != nil {
		return nil, "", err
	}
	limit, err := pageLimit(p)
	if err != nil {
		return nil, "", err
	}
	scope := tenantID + "/" + groupID
	after, err := decodeCursor(p.After, listMembers, scope)
	if err != nil {
		return nil, "", err
	}
	if _, err := gs.get(ctx, tenantID, groupID); err != nil {
		return nil, "", err
	}
	var ids []string
	err = gs.s.query(ctx, gs.s.gq().memberList).Bind(tenantID, groupID, after, limit+1).
		Idempotent(true).SelectRelease(&ids)
	if err != nil {
		return nil, "", ctxErr(ctx, err)
	}
	if len(ids) <= limit {
		return ids, "", nil
	}
	ids = ids[:limit]
	return ids, encodeCursor(listMembers, scope, ids[limit-1]), nil
}

// GroupsOf reads the user's row of groups, then the groups themselves,
// skipping rows whose group is gone.
func (gs groups) GroupsOf(ctx context.Context, tenantID, userID string) ([]store.Group, error) {
	s := gs.s
	if err := checkIDs([2]string{"tenantId", tenantID}, [2]string{"userId", userID}); err != nil {
		return nil, err
	}
	var gids []string
	err := s.query(ctx, s.gq().byUserList).Bind(tenantID, userID, store.MaxGroupsPerUser).
		Idempotent(true).SelectRelease(&gids)
	if err != nil {
		return nil, ctxErr(ctx, err)
	}
	if len(gids) == 0 {
		return nil, nil
	}
	// Rows of a user deleted by a Delete that failed half-way are not the
	// groups of anyone.
	if _, err := (users{s}).get(ctx, tenantID, userID); err != nil {
		if errs.CodeOf(err) == errs.NotFound {
			return nil, nil
		}
		return nil, err
	}
	return gs.getIn(ctx, tenantID, gids)
}
