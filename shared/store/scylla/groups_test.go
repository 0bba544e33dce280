//go:build integration

package scylla

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
)

// These tests look behind the conformance suite: at the bound on the rows
// one Search reads, and at membership rows that a Delete failing half-way
// leaves behind.

// openFresh opens a store on a keyspace of its own, dropped when the test
// ends.
func openFresh(t *testing.T) *Store {
	t.Helper()
	v := os.Getenv("WARD_TEST_CASSANDRA_HOSTS")
	if v == "" {
		t.Fatal("WARD_TEST_CASSANDRA_HOSTS is not set")
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	cfg := Config{Hosts: strings.Split(v, ","), Keyspace: "ward_test_" + hex.EncodeToString(b)}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := Open(ctx, cfg)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.sess.Query(`DROP KEYSPACE IF EXISTS `+cfg.Keyspace, nil).Exec(); err != nil {
			t.Errorf("drop keyspace: %v", err)
		}
		s.Close()
	})
	return s
}

func newV7() string { return uuid.Must(uuid.NewV7()).String() }

func mustOK(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func testTenant(t *testing.T, s *Store) string {
	t.Helper()
	tn, err := s.Tenants().Create(t.Context(), store.Tenant{ID: newV7(), Name: "t-" + newV7()})
	mustOK(t, "create tenant", err)
	return tn.ID
}

func testUser(t *testing.T, s *Store, tenantID, name string, st store.UserStatus) string {
	t.Helper()
	u, err := s.Users().Create(t.Context(), store.User{
		ID: newV7(), TenantID: tenantID, Username: name, Status: st,
	})
	mustOK(t, "create user", err)
	return u.ID
}

func testGroup(t *testing.T, s *Store, tenantID, name string) string {
	t.Helper()
	g, err := s.Groups().Create(t.Context(), store.Group{ID: newV7(), TenantID: tenantID,
		Name: name})
	mustOK(t, "create group", err)
	return g.ID
}

func TestSearchReadsABoundedNumberOfRowsPerCall(t *testing.T) {
	s := openFresh(t)
	rows, batch := searchScanRows, searchBatch
	searchScanRows, searchBatch = 4, 2
	t.Cleanup(func() { searchScanRows, searchBatch = rows, batch })

	tn := testTenant(t, s)
	g := testGroup(t, s, tn, "all")
	var locked []string
	for i := range 10 {
		st := store.UserActive
		if i == 1 || i == 8 {
			st = store.UserLocked
		}
		id := testUser(t, s, tn, "u"+strconv.Itoa(i), st)
		if st == store.UserLocked {
			locked = append(locked, id)
		}
		mustOK(t, "add", s.Groups().AddMember(t.Context(), tn, g, id))
	}
	slices.Sort(locked)

	for _, f := range []store.UserFilter{
		{Status: store.UserLocked},
		{Status: store.UserLocked, GroupID: g},
	} {
		var got []string
		calls, short := 0, 0
		after := ""
		for {
			calls++
			items, next, err := s.Users().Search(t.Context(), tn, f,
				store.Page{After: after, Limit: 10})
			mustOK(t, "search", err)
			for _, u := range items {
				got = append(got, u.ID)
			}
			if next == "" {
				break
			}
			if len(items) < 10 {
				short++
			}
			after = next
		}
		if !slices.Equal(got, locked) {
			t.Errorf("search by %+v found %v, want %v", f, got, locked)
		}
		// Ten candidates, four per call: at least three calls, and the
		// calls before the last returned short pages with a cursor.
		if calls < 3 || short < 2 {
			t.Errorf("search by %+v: %d calls, %d short pages with a cursor; want the "+
				"scan bounded at 4 rows", f, calls, short)
		}
	}
}

func TestMembershipsLeftBehindAreSkippedAndCleanedUp(t *testing.T) {
	s := openFresh(t)
	ctx := t.Context()
	tn := testTenant(t, s)
	gone := testGroup(t, s, tn, "gone")
	kept := testGroup(t, s, tn, "kept")
	u := testUser(t, s, tn, "member", store.UserActive)
	leaver := testUser(t, s, tn, "leaver", store.UserActive)
	for _, g := range []string{gone, kept} {
		mustOK(t, "add", s.Groups().AddMember(ctx, tn, g, u))
		mustOK(t, "add", s.Groups().AddMember(ctx, tn, g, leaver))
	}

	// A group Delete that failed after deleting the group's row, and a
	// user Delete that failed after deleting the user's row.
	_, err := s.query(ctx, `DELETE FROM `+s.cfg.Keyspace+`.groups
    WHERE tenant_id = ? AND id = ? IF EXISTS`).Bind(tn, gone).ExecCASRelease()
	mustOK(t, "delete the group's row", err)
	_, err = s.query(ctx, `DELETE FROM `+s.cfg.Keyspace+`.users
    WHERE tenant_id = ? AND id = ? IF EXISTS`).Bind(tn, leaver).ExecCASRelease()
	mustOK(t, "delete the user's row", err)

	gs, err := s.Groups().GroupsOf(ctx, tn, u)
	mustOK(t, "groups of", err)
	if len(gs) != 1 || gs[0].ID != kept {
		t.Errorf("groups of the member = %+v, want only the group kept", gs)
	}
	if gs, err := s.Groups().GroupsOf(ctx, tn, leaver); err != nil || len(gs) != 0 {
		t.Errorf("groups of the deleted user = %+v, %v; want none", gs, err)
	}
	found, _, err := s.Users().Search(ctx, tn, store.UserFilter{GroupID: gone}, store.Page{})
	if err != nil || len(found) != 0 {
		t.Errorf("search by the deleted group = %+v, %v; want none", found, err)
	}

	// Deleting again reports the entity missing and removes its rows.
	if err := s.Groups().Delete(ctx, tn, gone); errs.CodeOf(err) != errs.NotFound {
		t.Errorf("delete the missing group: %v, want not found", err)
	}
	if err := s.Users().Delete(ctx, tn, leaver); errs.CodeOf(err) != errs.NotFound {
		t.Errorf("delete the missing user: %v, want not found", err)
	}
	var ids []string
	mustOK(t, "read rows", s.query(ctx, s.gq().byUserList).Bind(tn, u, 10).SelectRelease(&ids))
	if !slices.Equal(ids, []string{kept}) {
		t.Errorf("the member's rows name %v, want only the group kept", ids)
	}
	ids = nil
	mustOK(t, "read rows", s.query(ctx, s.gq().byUserList).Bind(tn, leaver, 10).
		SelectRelease(&ids))
	if len(ids) != 0 {
		t.Errorf("the deleted user's rows name %v", ids)
	}
	members, _, err := s.Groups().Members(ctx, tn, kept, store.Page{})
	mustOK(t, "members", err)
	if !slices.Equal(members, []string{u}) {
		t.Errorf("members of the group kept = %v, want only %s", members, u)
	}
}
