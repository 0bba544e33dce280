package ldap

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"
	"github.com/google/go-cmp/cmp"

	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/groups"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/orgs"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/users"
)

// countingInvoker counts the operations it passes on, by name.
type countingInvoker struct {
	invoke.Invoker
	mu  sync.Mutex
	ops map[string]int
}

func (c *countingInvoker) Invoke(ctx context.Context, fn string,
	req function.Request) (function.Response, error) {
	c.mu.Lock()
	c.ops[req.Op]++
	c.mu.Unlock()
	return c.Invoker.Invoke(ctx, fn, req)
}

func (c *countingInvoker) reset() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	ops := c.ops
	c.ops = map[string]int{}
	return ops
}

// planFixture is the group fixture with more users, organizations and
// groups, served twice over the same functions: by f.srv, with plans, and
// by a second server that always lists.
type planFixture struct {
	*groupFixture
	listAddr string
	counter  *countingInvoker
	east1    store.Organization
}

func newPlanFixture(t *testing.T) *planFixture {
	t.Helper()
	f := &planFixture{groupFixture: newGroupFixture(t)}
	eastID := ""
	for _, o := range call[orgs.ListOutput](t, f.inv, orgs.FunctionName, orgs.OpList, systemAdmin,
		orgs.ListInput{TenantID: f.acme.ID}).Items {
		if o.Name == "east" {
			eastID = o.ID
		}
	}
	f.east1 = call[store.Organization](t, f.inv, orgs.FunctionName, orgs.OpCreate, systemAdmin,
		orgs.CreateInput{TenantID: f.acme.ID, ParentID: eastID, Name: "east-1"})
	many := call[store.Group](t, f.inv, groups.FunctionName, groups.OpCreate, systemAdmin,
		groups.CreateInput{TenantID: f.acme.ID, Name: "many"})
	for i := range 9 {
		u := f.createUser(t, f.acme.ID, fmt.Sprintf("u%d", i), fmt.Sprintf("u%d@acme.test", i),
			"", fmt.Sprintf("User %d", i), "")
		up := users.UpdateInput{TenantID: f.acme.ID, ID: u.ID}
		switch i % 3 {
		case 0:
			up.OrgID = &eastID
		case 1:
			up.OrgID = &f.east1.ID
		}
		if i%2 == 0 {
			locked := store.UserLocked
			up.Status = &locked
		}
		call[store.User](t, f.inv, users.FunctionName, users.OpUpdate, systemAdmin, up)
		if i%4 != 3 {
			call[groups.MemberOutput](t, f.inv, groups.FunctionName, groups.OpAddMember,
				systemAdmin, groups.MemberInput{TenantID: f.acme.ID, GroupID: many.ID,
					UserID: u.ID})
		}
	}
	call[groups.MemberOutput](t, f.inv, groups.FunctionName, groups.OpAddMember, systemAdmin,
		groups.MemberInput{TenantID: f.acme.ID, GroupID: many.ID, UserID: f.alice.ID})

	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	f.counter = &countingInvoker{Invoker: f.inv, ops: map[string]int{}}
	start := func(listAlways bool, inv invoke.Invoker) string {
		addr := freeAddr(t)
		srv, err := New(Config{Addr: addr, Invoker: inv, Log: quiet})
		if err != nil {
			t.Fatal(err)
		}
		srv.listAlways = listAlways
		if err := srv.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			srv.Shutdown(ctx)
		})
		return addr
	}
	f.listAddr = start(true, f.inv)
	f.addr = start(false, f.counter)
	return f
}

// viewer binds the same identity on both servers.
type viewer struct {
	name, dn, password string
}

func (f *planFixture) viewers() []viewer {
	return []viewer{
		{"the tenant's administrator", "cn=admin,ou=tokens,dc=ward", f.adminToken},
		{"an organization administrator", "cn=east,ou=tokens,dc=ward", f.eastToken},
		{"a plain user", aliceDN, testPassword},
		{"a plain user's token", "cn=u,ou=tokens,dc=ward", f.userToken},
		{"a system administrator", "cn=root,ou=tokens,dc=ward", f.systemToken},
	}
}

func (f *planFixture) bindBoth(t *testing.T, v viewer) (planned, listed *goldap.Conn) {
	t.Helper()
	bind := func(addr string) *goldap.Conn {
		c, err := goldap.DialURL("ldap://" + addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if err := c.Bind(v.dn, v.password); err != nil {
			t.Fatalf("bind %s: %v", v.name, err)
		}
		return c
	}
	return bind(f.addr), bind(f.listAddr)
}

// answer is a search's outcome as a client sees it: the entries in the
// order sent, each with its attributes sorted, and the result code.
func answer(res *goldap.SearchResult, err error) []string {
	var out []string
	if res != nil {
		for _, e := range res.Entries {
			var attrs []string
			for _, a := range e.Attributes {
				vals := append([]string(nil), a.Values...)
				sort.Strings(vals)
				attrs = append(attrs, a.Name+"="+strings.Join(vals, ";"))
			}
			sort.Strings(attrs)
			out = append(out, e.DN+" {"+strings.Join(attrs, ", ")+"}")
		}
	}
	return append(out, fmt.Sprintf("result %d", resultCodeOf(err)))
}

// pagedAnswer walks every page of a paged search.
func pagedAnswer(c *goldap.Conn, req *goldap.SearchRequest, size uint32) []string {
	paging := goldap.NewControlPaging(size)
	req.Controls = []goldap.Control{paging}
	var out []string
	for range 50 {
		res, err := c.Search(req)
		out = append(out, answer(res, err)...)
		if err != nil {
			return out
		}
		next, _ := goldap.FindControl(res.Controls, goldap.ControlTypePaging).(*goldap.ControlPaging)
		if next == nil || len(next.Cookie) == 0 {
			return out
		}
		paging.SetCookie(next.Cookie)
	}
	return append(out, "too many pages")
}

const (
	manyDN = "cn=many,ou=groups,o=acme,dc=ward"
	crewDN = "cn=crew,ou=groups,o=globex,dc=ward"
)

// comparedFilters are pinned and unpinned filters, malformed values and
// values that name nothing.
var comparedFilters = []string{
	"(uid=alice)", "(uid=ALICE)", "(uid=nobody)", "(uid=bad name)", `(uid=al\2a)`,
	"(&(objectClass=inetOrgPerson)(uid=bob))", "(&(objectClass=person)(uid=bob)(mail=x@y.z))",
	"(&(uid=u1)(!(wardStatus=active)))", "(&(&(uid=u2)))", "(|(uid=u3))",
	"(mail=bob@acme.test)", "(mail=BOB@Acme.Test)", "(mail=not an address)", "(mail=)",
	"(|(uid=alice)(uid=u4)(mail=u5@acme.test)(uid=carol))", "(|(uid=alice)(cn=Bob*))",
	"(memberOf=" + staffDN + ")", "(memberOf=CN=Many, ou=Groups,o=ACME,dc=ward)",
	"(memberOf=cn=nope,ou=groups,o=acme,dc=ward)", "(memberOf=" + crewDN + ")",
	"(memberOf=uid=alice,ou=users,o=acme,dc=ward)", "(memberOf=not a dn)",
	"(&(memberOf=" + manyDN + ")(wardStatus=locked))",
	"(&(memberOf=" + manyDN + ")(!(memberOf=" + staffDN + ")))",
	"(&(memberOf=" + manyDN + ")(memberOf=*))", "(&(uid=alice)(memberOf=" + staffDN + "))",
	"(wardStatus=locked)", "(wardStatus=LOCKED)", "(wardStatus=bogus)",
	"(&(wardStatus=active)(cn=User*))", "(objectClass=*)", "(uid=*)", "(!(uid=alice))",
}

var comparedBases = []struct {
	dn    string
	scope int
}{
	{"dc=ward", goldap.ScopeWholeSubtree},
	{"o=acme,dc=ward", goldap.ScopeWholeSubtree},
	{"o=acme,dc=ward", goldap.ScopeSingleLevel},
	{"ou=users,o=acme,dc=ward", goldap.ScopeSingleLevel},
	{aliceDN, goldap.ScopeBaseObject},
	{"uid=u1,ou=users,o=acme,dc=ward", goldap.ScopeWholeSubtree},
	{"uid=nobody,ou=users,o=acme,dc=ward", goldap.ScopeBaseObject},
	{groupsOU, goldap.ScopeWholeSubtree},
	{"cn=nope," + groupsOU, goldap.ScopeBaseObject},
	{"o=globex,dc=ward", goldap.ScopeWholeSubtree},
}

var comparedAttrs = [][]string{nil, {"uid", "memberOf"}, {"+"}, {"*", "+"}, {"1.1"}}

// TestPlansAnswerAsTheListingDoes runs every filter of a table, from
// several bases, as several viewers, through the planned and the listing
// server, and compares what the client gets, entry by entry.
func TestPlansAnswerAsTheListingDoes(t *testing.T) {
	f := newPlanFixture(t)
	for _, v := range f.viewers() {
		t.Run(v.name, func(t *testing.T) {
			planned, listed := f.bindBoth(t, v)
			i := 0
			for _, b := range comparedBases {
				for _, filter := range comparedFilters {
					i++
					attrs := comparedAttrs[i%len(comparedAttrs)]
					req := func() *goldap.SearchRequest {
						return goldap.NewSearchRequest(b.dn, b.scope, goldap.NeverDerefAliases, 0, 0,
							false, filter, attrs, nil)
					}
					want := answer(listed.Search(req()))
					got := answer(planned.Search(req()))
					if diff := cmp.Diff(want, got); diff != "" {
						t.Errorf("%s %d %s %v (-listed +planned):\n%s", b.dn, b.scope, filter,
							attrs, diff)
					}
				}
			}
		})
	}
}

// TestPlansKeepLimitsAndPages compares size limits and paged searches.
func TestPlansKeepLimitsAndPages(t *testing.T) {
	f := newPlanFixture(t)
	filters := []string{"(wardStatus=locked)", "(memberOf=" + manyDN + ")",
		"(|(uid=u1)(uid=u2)(uid=u3)(uid=alice)(uid=bob))", "(objectClass=inetOrgPerson)"}
	for _, v := range f.viewers()[:2] {
		planned, listed := f.bindBoth(t, v)
		for _, filter := range filters {
			for _, limit := range []int{1, 2, 3} {
				req := func() *goldap.SearchRequest {
					return goldap.NewSearchRequest("o=acme,dc=ward", goldap.ScopeWholeSubtree,
						goldap.NeverDerefAliases, limit, 0, false, filter, []string{"uid"}, nil)
				}
				want := answer(listed.Search(req()))
				got := answer(planned.Search(req()))
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("%s: %s, size limit %d (-listed +planned):\n%s", v.name, filter,
						limit, diff)
				}
				want = pagedAnswer(listed, req(), uint32(limit))
				got = pagedAnswer(planned, req(), uint32(limit))
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("%s: %s, pages of %d (-listed +planned):\n%s", v.name, filter,
						limit, diff)
				}
			}
		}
	}
}

// TestPinnedSearchesReadOnlyTheirCandidates checks that the plans are
// taken: a pinned search lists no tenant, and reads what its plan says.
func TestPinnedSearchesReadOnlyTheirCandidates(t *testing.T) {
	f := newPlanFixture(t)
	admin := f.asAdmin(t)
	east := f.bindAs(t, "cn=east,ou=tokens,dc=ward", f.eastToken)
	alice := f.asAlice(t)
	cases := []struct {
		name   string
		c      *goldap.Conn
		base   string
		filter string
		attrs  []string
		want   map[string]int // operations that must be called so many times
		found  int
	}{
		{"a uid", admin, "o=acme,dc=ward", "(&(objectClass=inetOrgPerson)(uid=bob))", nil,
			map[string]int{users.OpGetByUsername: 1, users.OpList: 0, groups.OpList: 0}, 1},
		{"a uid as a plain user", alice, "o=acme,dc=ward", "(uid=bob)", nil,
			map[string]int{users.OpGetByUsername: 1, users.OpList: 0}, 1},
		{"a user as the base", admin, bobDN, "(objectClass=*)", []string{"memberOf"},
			map[string]int{users.OpGetByUsername: 1, users.OpList: 0, groups.OpGroupsOf: 1,
				groups.OpList: 0}, 1},
		{"a mail", admin, "ou=users,o=acme,dc=ward", "(mail=u4@acme.test)", nil,
			map[string]int{users.OpGetByEmail: 1, users.OpList: 0}, 1},
		{"two uids", admin, "o=acme,dc=ward", "(|(uid=u4)(uid=u5))", nil,
			map[string]int{users.OpGetByUsername: 2, users.OpList: 0}, 2},
		{"a group", admin, "o=acme,dc=ward", "(memberOf=" + manyDN + ")", []string{"uid"},
			map[string]int{groups.OpGetByName: 1, groups.OpMembers: 1, groups.OpList: 0,
				groups.OpGroupsOf: 0, users.OpList: 0}, 8},
		{"a group, returning memberOf", admin, "o=acme,dc=ward", "(memberOf=" + staffDN + ")",
			[]string{"memberOf"}, map[string]int{groups.OpMembers: 1, groups.OpGroupsOf: 2,
				groups.OpList: 0, users.OpList: 0}, 2},
		{"a group as an organization administrator", east, "o=acme,dc=ward",
			"(memberOf=" + manyDN + ")", nil, map[string]int{groups.OpMembers: 1,
				users.OpList: 0, orgs.OpList: 0}, 4},
		{"a status", admin, "o=acme,dc=ward", "(wardStatus=locked)", nil,
			map[string]int{users.OpList: 1}, 5},
		{"no pin", admin, "o=acme,dc=ward", "(cn=User*)", nil,
			map[string]int{users.OpList: 1, users.OpGetByUsername: 0}, 9},
		{"no pin as an organization administrator", east, "o=acme,dc=ward", "(uid=*)", nil,
			map[string]int{orgs.OpList: 2, users.OpList: 2}, 7},
	}
	for _, tc := range cases {
		f.counter.reset()
		got, err := search(t, tc.c, tc.base, goldap.ScopeWholeSubtree, tc.filter, tc.attrs...)
		if err != nil || len(got) != tc.found {
			t.Errorf("%s: found %v, %v; want %d entries", tc.name, dns(got), err, tc.found)
		}
		ops := f.counter.reset()
		for op, n := range tc.want {
			if ops[op] != n {
				t.Errorf("%s: %s called %d times, want %d (all: %v)", tc.name, op, ops[op], n, ops)
			}
		}
	}
}

func TestPlanOfFilters(t *testing.T) {
	users := place{kind: placeUsers, tenant: "acme"}
	cases := []struct {
		filter string
		base   place
		want   plan
	}{
		{"(uid=Bob)", users, plan{pinned: true, keys: []key{{kind: keyUsername, value: "bob"}}}},
		{"(&(objectClass=*)(mail=A@B.c))", users, plan{pinned: true,
			keys: []key{{kind: keyEmail, value: "a@b.c"}}}},
		{"(&(wardStatus=locked)(memberOf=cn=g,ou=groups,o=acme,dc=ward)(uid=x))", users,
			plan{pinned: true, keys: []key{{kind: keyUsername, value: "x"}}}},
		{"(&(wardStatus=locked)(memberOf=cn=g,ou=groups,o=acme,dc=ward))", users,
			plan{pinned: true, onlyGroup: true,
				keys: []key{{kind: keyGroup, value: "g", tenant: "acme"}}}},
		{"(memberOf=cn=G,ou=groups,o=Acme,dc=ward)", users, plan{pinned: true, onlyGroup: true,
			keys: []key{{kind: keyGroup, value: "g", tenant: "acme"}}}},
		{"(wardStatus=Pending)", users, plan{pinned: true, status: store.UserPending}},
		{"(|(uid=a)(mail=b@c.d))", users, plan{pinned: true, keys: []key{
			{kind: keyUsername, value: "a"}, {kind: keyEmail, value: "b@c.d"}}}},
		{"(uid=x)", place{kind: placeUser, tenant: "acme", user: "y"}, plan{pinned: true,
			keys: []key{{kind: keyUsername, value: "y"}}}},
		{"(uid=x)", place{kind: placeGroup, tenant: "acme", group: "g"}, plan{}},
		{"(|(uid=a)(cn=b))", users, plan{}},
		{"(|(uid=a)(wardStatus=active))", users, plan{}},
		{"(!(uid=a))", users, plan{}},
		{"(uid=a*)", users, plan{}},
		{"(uid>=a)", users, plan{}},
		{"(wardStatus=gone)", users, plan{}},
		{"(memberOf=uid=a,ou=users,o=acme,dc=ward)", users, plan{}},
	}
	for _, tc := range cases {
		f, err := compileFilter(tc.filter)
		if err != nil {
			t.Fatalf("%s: %v", tc.filter, err)
		}
		got := planSearch(f, tc.base, nil)
		if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(plan{}, key{})); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.filter, diff)
		}
	}
	f, _ := compileFilter("(memberOf=cn=g,ou=groups,o=acme,dc=ward)")
	if planSearch(f, users, []string{"memberOf"}).onlyGroup {
		t.Error("memberOf returned, yet the plan reads only the group")
	}
	f, _ = compileFilter("(&(memberOf=cn=g,ou=groups,o=acme,dc=ward)(!(memberOf=x)))")
	if planSearch(f, users, nil).onlyGroup {
		t.Error("memberOf tested twice, yet the plan reads only the group")
	}
}
