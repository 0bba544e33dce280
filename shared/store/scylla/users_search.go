package scylla

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"slices"
	"strings"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
)

const listSearch = "usersearch"

// Search reads candidates in order of user ID, a group's members (through
// group_members, then the users themselves) when the filter names a group,
// else the tenant's partition of users, and keeps those that match the
// rest of the filter. One call reads at most searchScanRows candidates:
// when they run out before the page is full, it returns what it found with
// a cursor after the last candidate read, so a page may be short, or
// empty, and still not be the last.
//
// Known shortcoming: filtering on status, organization or an attribute
// reads the tenant's users (up to searchScanRows per call); there is no
// index by those fields.
func (us users) Search(ctx context.Context, tenantID string, f store.UserFilter,
	p store.Page) ([]store.User, string, error) {
	if err := checkID("tenantId", tenantID); err != nil {
		return nil, "", err
	}
	if err := checkFilter(f); err != nil {
		return nil, "", err
	}
	limit, err := pageLimit(p)
	if err != nil {
		return nil, "", err
	}
	scope := tenantID + "/" + filterHash(f)
	after, err := decodeCursor(p.After, listSearch, scope)
	if err != nil {
		return nil, "", err
	}
	if f.GroupID != "" {
		// The rows of a deleted group's members may outlive it briefly.
		_, err := groups{us.s}.get(ctx, tenantID, f.GroupID)
		if errs.CodeOf(err) == errs.NotFound {
			return nil, "", nil
		}
		if err != nil {
			return nil, "", err
		}
	}

	var items []store.User
	scanned := 0
	for scanned < searchScanRows {
		batch := min(searchBatch, searchScanRows-scanned)
		cands, last, err := us.candidates(ctx, tenantID, f.GroupID, after, batch)
		if err != nil {
			return nil, "", err
		}
		for _, u := range cands {
			if !f.Matches(u) {
				continue
			}
			if len(items) == limit {
				// A match past the page: there is a next page.
				return items, encodeCursor(listSearch, scope, items[limit-1].ID), nil
			}
			items = append(items, u)
		}
		if last == "" {
			return items, "", nil // the candidates ran out
		}
		after, scanned = last, scanned+batch
	}
	return items, encodeCursor(listSearch, scope, after), nil
}

// searchScanRows bounds the candidates one Search call reads, so that a
// rare match costs the caller more calls, never one long one.
// searchBatch is how many it reads per round trip (at most maxInValues, as
// a group's members are read with IN). Variables so that tests can make
// them small.
var (
	searchScanRows = 1000
	searchBatch    = maxInValues
)

// candidates reads up to n candidates after after, in order of ID: the
// members of groupID, or all the tenant's users when groupID is empty.
// last is the ID of the last candidate read, "" when there are no more.
func (us users) candidates(ctx context.Context, tenantID, groupID, after string, n int) (
	cands []store.User, last string, err error) {
	s := us.s
	if groupID == "" {
		iter := s.query(ctx, s.q.userList).Bind(tenantID, after, n).Idempotent(true).Iter()
		cands, _, err := scanUsers(ctx, iter, n)
		if err != nil {
			return nil, "", err
		}
		if len(cands) < n {
			return cands, "", nil
		}
		return cands, cands[len(cands)-1].ID, nil
	}

	var ids []string
	err = s.query(ctx, s.gq().memberList).Bind(tenantID, groupID, after, n).Idempotent(true).
		SelectRelease(&ids)
	if err != nil {
		return nil, "", ctxErr(ctx, err)
	}
	if len(ids) == n {
		last = ids[n-1]
	}
	if len(ids) == 0 {
		return nil, last, nil
	}
	// Members whose user is gone (a Delete that failed half-way) are
	// simply not found.
	iter := s.query(ctx, s.gq().usersIn).Bind(tenantID, ids).Idempotent(true).Iter()
	cands, _, err = scanUsers(ctx, iter, len(ids))
	if err != nil {
		return nil, "", err
	}
	slices.SortFunc(cands, func(a, b store.User) int { return strings.Compare(a.ID, b.ID) })
	return cands, last, nil
}

func checkFilter(f store.UserFilter) error {
	if f.Status != "" {
		if err := checkStatus(f.Status); err != nil {
			return err
		}
	}
	if f.OrgID != "" {
		if err := checkID("orgId", f.OrgID); err != nil {
			return err
		}
	}
	if f.GroupID != "" {
		if err := checkID("groupId", f.GroupID); err != nil {
			return err
		}
	}
	if err := f.CheckAttributeFilter(); err != nil {
		return err
	}
	return checkText("value", f.Value)
}

// filterHash binds a search cursor to its filter: hex of the first 16
// bytes of the SHA-256 of the filter's fields, each length-prefixed so
// that no two filters share an encoding.
func filterHash(f store.UserFilter) string {
	h := sha256.New()
	for _, s := range []string{string(f.Status), f.OrgID, f.GroupID, f.Attribute, f.Value} {
		h.Write(binary.BigEndian.AppendUint64(nil, uint64(len(s))))
		h.Write([]byte(s))
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}
