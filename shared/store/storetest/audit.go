package storetest

import (
	"encoding/binary"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
)

var auditTests = []test{
	{"AppendAndListNewestFirst", auditAppendList},
	{"IDTakenIsConflict", auditConflict},
	{"PagesAndCursorStableWhileAppending", auditPaging},
	{"SpansMonths", auditMonths},
	{"FilterByTarget", auditFilter},
	{"TenantIsolation", auditIsolation},
	{"MalformedInput", auditBadInput},
}

// idAt returns a fresh version-7 UUID whose time is at.
func idAt(at time.Time) string {
	u := uuid.Must(uuid.NewV7())
	var ms [8]byte
	binary.BigEndian.PutUint64(ms[:], uint64(at.UnixMilli()))
	copy(u[:6], ms[2:])
	return u.String()
}

func newEvent(tenantID, targetID string) store.AuditEvent {
	return store.AuditEvent{
		ID: newID(), TenantID: tenantID, At: someTime, Actor: "user:alice",
		Action: "user.update", TargetType: "user", TargetID: targetID,
		Changes: map[string]store.AuditChange{
			"displayName": {Old: "Alice", New: "Alice B."},
			"email":       {Old: "", New: "alice@example.com"},
		},
		RequestID: "req-1",
	}
}

func mustAppend(t *testing.T, e *env, ev store.AuditEvent) store.AuditEvent {
	t.Helper()
	mustOK(t, "append "+ev.ID, e.Store.Audit().Append(ctx(t), ev))
	ev.At = ev.At.UTC().Truncate(time.Millisecond)
	return ev
}

// listAudit reads a whole trail, limit events a page.
func listAudit(t *testing.T, e *env, tenantID string, f store.AuditFilter,
	limit int) []store.AuditEvent {
	t.Helper()
	var all []store.AuditEvent
	after := ""
	for range 1000 {
		items, next, err := e.Store.Audit().List(ctx(t), tenantID, f,
			store.Page{After: after, Limit: limit})
		mustOK(t, "list audit", err)
		if len(items) > limit {
			t.Fatalf("page of %d events, limit %d", len(items), limit)
		}
		all = append(all, items...)
		if next == "" {
			return all
		}
		after = next
	}
	t.Fatal("listing does not end")
	return nil
}

func auditIDs(evs []store.AuditEvent) []string {
	return idsOf(evs, func(e store.AuditEvent) string { return e.ID })
}

// newestFirst returns the IDs of evs in descending order.
func newestFirst(evs []store.AuditEvent) []string {
	ids := auditIDs(evs)
	slices.Sort(ids)
	slices.Reverse(ids)
	return ids
}

func auditAppendList(t *testing.T, e *env) {
	tn := mustTenant(t, e, "acme")
	target := newID()
	var want []store.AuditEvent
	for i := range 3 {
		ev := newEvent(tn.ID, target)
		ev.Action = fmt.Sprintf("user.action%d", i)
		if i == 2 {
			ev.Changes, ev.RequestID = nil, ""
		}
		want = append(want, mustAppend(t, e, ev))
	}
	slices.Reverse(want)

	got := listAudit(t, e, tn.ID, store.AuditFilter{}, 10)
	if diff := cmp.Diff(want, got, opts); diff != "" {
		t.Errorf("trail (-want +got):\n%s", diff)
	}
	for _, ev := range got {
		if ev.At.Location() != time.UTC {
			t.Errorf("event %s At is in %v, want UTC", ev.ID, ev.At.Location())
		}
	}
}

func auditConflict(t *testing.T, e *env) {
	tn := mustTenant(t, e, "acme")
	first := mustAppend(t, e, newEvent(tn.ID, newID()))

	again := newEvent(tn.ID, newID())
	again.ID, again.Action = first.ID, "user.delete"
	wantErr(t, "append a taken ID", e.Store.Audit().Append(ctx(t), again), errs.ErrConflict)

	got := listAudit(t, e, tn.ID, store.AuditFilter{}, 10)
	if diff := cmp.Diff([]store.AuditEvent{first}, got, opts); diff != "" {
		t.Errorf("trail after a conflict (-want +got):\n%s", diff)
	}
	byTarget := listAudit(t, e, tn.ID, store.AuditFilter{TargetID: again.TargetID}, 10)
	if len(byTarget) != 0 {
		t.Errorf("the refused event is listed under its target: %v", auditIDs(byTarget))
	}
}

func auditPaging(t *testing.T, e *env) {
	tn := mustTenant(t, e, "acme")
	var evs []store.AuditEvent
	for range 7 {
		evs = append(evs, mustAppend(t, e, newEvent(tn.ID, newID())))
	}
	want := newestFirst(evs)

	if got := auditIDs(listAudit(t, e, tn.ID, store.AuditFilter{}, 3)); !slices.Equal(got, want) {
		t.Errorf("pages of 3 = %v, want %v", got, want)
	}

	// A cursor taken before more events are appended still continues
	// with the older events, none skipped or repeated.
	page, next, err := e.Store.Audit().List(ctx(t), tn.ID, store.AuditFilter{},
		store.Page{Limit: 3})
	mustOK(t, "first page", err)
	if next == "" {
		t.Fatal("no cursor after the first of three pages")
	}
	for range 4 {
		mustAppend(t, e, newEvent(tn.ID, newID()))
	}
	got := auditIDs(page)
	for next != "" {
		var items []store.AuditEvent
		items, next, err = e.Store.Audit().List(ctx(t), tn.ID, store.AuditFilter{},
			store.Page{After: next, Limit: 3})
		mustOK(t, "next page", err)
		got = append(got, auditIDs(items)...)
	}
	if !slices.Equal(got, want) {
		t.Errorf("pages while appending = %v, want %v", got, want)
	}

	items, next, err := e.Store.Audit().List(ctx(t), tn.ID, store.AuditFilter{},
		store.Page{Limit: 11})
	mustOK(t, "one full page", err)
	if len(items) != 11 || next != "" {
		t.Errorf("a page of all 11 events: got %d, next %q; want 11 and no cursor",
			len(items), next)
	}
}

func auditMonths(t *testing.T, e *env) {
	tn := mustTenant(t, e, "acme")
	target := newID()
	var evs []store.AuditEvent
	for _, at := range []time.Time{
		time.Date(2024, 11, 30, 23, 59, 59, 0, time.UTC),
		time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2025, 1, 15, 0, 0, 0, 0, time.UTC),
		time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC),
	} {
		ev := newEvent(tn.ID, target)
		ev.ID, ev.At = idAt(at), at
		evs = append(evs, mustAppend(t, e, ev))
	}
	want := newestFirst(evs)

	for _, limit := range []int{1, 2, 3, 10} {
		got := auditIDs(listAudit(t, e, tn.ID, store.AuditFilter{}, limit))
		if !slices.Equal(got, want) {
			t.Errorf("trail in pages of %d = %v, want %v", limit, got, want)
		}
		got = auditIDs(listAudit(t, e, tn.ID, store.AuditFilter{TargetID: target}, limit))
		if !slices.Equal(got, want) {
			t.Errorf("target's trail in pages of %d = %v, want %v", limit, got, want)
		}
	}
}

func auditFilter(t *testing.T, e *env) {
	tn := mustTenant(t, e, "acme")
	a, b := newID(), newID()
	var ofA []store.AuditEvent
	for i := range 6 {
		target := b
		if i%2 == 0 {
			target = a
		}
		ev := mustAppend(t, e, newEvent(tn.ID, target))
		if target == a {
			ofA = append(ofA, ev)
		}
	}
	slices.Reverse(ofA)

	got := listAudit(t, e, tn.ID, store.AuditFilter{TargetID: a}, 2)
	if diff := cmp.Diff(ofA, got, opts); diff != "" {
		t.Errorf("events of target a (-want +got):\n%s", diff)
	}
	if got := listAudit(t, e, tn.ID, store.AuditFilter{TargetID: newID()}, 5); len(got) != 0 {
		t.Errorf("events of an unknown target: %v", auditIDs(got))
	}

	// Cursors are bound to their filter.
	_, nextA, err := e.Store.Audit().List(ctx(t), tn.ID, store.AuditFilter{TargetID: a},
		store.Page{Limit: 1})
	mustOK(t, "first page of a", err)
	_, nextAll, err := e.Store.Audit().List(ctx(t), tn.ID, store.AuditFilter{},
		store.Page{Limit: 1})
	mustOK(t, "first page of all", err)
	for _, c := range []struct {
		what  string
		f     store.AuditFilter
		after string
	}{
		{"a's cursor for b", store.AuditFilter{TargetID: b}, nextA},
		{"a's cursor unfiltered", store.AuditFilter{}, nextA},
		{"the unfiltered cursor for a", store.AuditFilter{TargetID: a}, nextAll},
	} {
		_, _, err := e.Store.Audit().List(ctx(t), tn.ID, c.f, store.Page{After: c.after})
		wantErr(t, c.what, err, errs.ErrInvalidArgument)
	}
}

func auditIsolation(t *testing.T, e *env) {
	x, y := mustTenant(t, e, "x"), mustTenant(t, e, "y")
	target := newID()
	evX := []store.AuditEvent{
		mustAppend(t, e, newEvent(x.ID, target)), mustAppend(t, e, newEvent(x.ID, target)),
	}
	evY := mustAppend(t, e, newEvent(y.ID, target))
	evSys := mustAppend(t, e, newEvent("", target))

	for _, c := range []struct {
		what     string
		tenantID string
		want     []string
	}{
		{"tenant x", x.ID, newestFirst(evX)},
		{"tenant y", y.ID, []string{evY.ID}},
		{"system", "", []string{evSys.ID}},
		{"a tenant without events", newID(), nil},
	} {
		for _, f := range []store.AuditFilter{{}, {TargetID: target}} {
			got := auditIDs(listAudit(t, e, c.tenantID, f, 1))
			if !slices.Equal(got, c.want) {
				t.Errorf("%s, filter %+v: got %v, want %v", c.what, f, got, c.want)
			}
		}
	}

	for _, f := range []store.AuditFilter{{}, {TargetID: target}} {
		_, next, err := e.Store.Audit().List(ctx(t), x.ID, f, store.Page{Limit: 1})
		mustOK(t, "first page of x", err)
		for _, other := range []string{y.ID, ""} {
			_, _, err := e.Store.Audit().List(ctx(t), other, f, store.Page{After: next})
			wantErr(t, "x's cursor in another trail", err, errs.ErrInvalidArgument)
		}
	}
}

func auditBadInput(t *testing.T, e *env) {
	tn := mustTenant(t, e, "acme")
	au := e.Store.Audit()
	for _, bad := range badIDs() {
		ev := newEvent(tn.ID, newID())
		ev.ID = bad
		wantErr(t, "append with id "+quoteShort(bad), au.Append(ctx(t), ev),
			errs.ErrInvalidArgument)
		ev = newEvent(tn.ID, bad)
		wantErr(t, "append with targetId "+quoteShort(bad), au.Append(ctx(t), ev),
			errs.ErrInvalidArgument)
		_, _, err := au.List(ctx(t), tn.ID, store.AuditFilter{TargetID: bad}, store.Page{})
		if bad == "" {
			mustOK(t, "list with no target", err)
		} else {
			wantErr(t, "list with targetId "+quoteShort(bad), err, errs.ErrInvalidArgument)
		}
		if bad == "" {
			continue // the system trail
		}
		ev = newEvent(bad, newID())
		wantErr(t, "append with tenantId "+quoteShort(bad), au.Append(ctx(t), ev),
			errs.ErrInvalidArgument)
		_, _, err = au.List(ctx(t), bad, store.AuditFilter{}, store.Page{})
		wantErr(t, "list with tenantId "+quoteShort(bad), err, errs.ErrInvalidArgument)
	}

	for what, mutate := range map[string]func(*store.AuditEvent){
		"no actor":        func(ev *store.AuditEvent) { ev.Actor = "" },
		"no action":       func(ev *store.AuditEvent) { ev.Action = "" },
		"no target type":  func(ev *store.AuditEvent) { ev.TargetType = "" },
		"no time":         func(ev *store.AuditEvent) { ev.At = time.Time{} },
		"actor not UTF-8": func(ev *store.AuditEvent) { ev.Actor = "\xff" },
		"change not UTF-8": func(ev *store.AuditEvent) {
			ev.Changes = map[string]store.AuditChange{"name": {Old: "a", New: "\xfe"}}
		},
		"too many changes": func(ev *store.AuditEvent) {
			ev.Changes = map[string]store.AuditChange{}
			for i := range store.MaxAuditChanges + 1 {
				ev.Changes[fmt.Sprint("f", i)] = store.AuditChange{New: "x"}
			}
		},
	} {
		ev := newEvent(tn.ID, newID())
		mutate(&ev)
		wantErr(t, "append with "+what, au.Append(ctx(t), ev), errs.ErrInvalidArgument)
	}
	if got := listAudit(t, e, tn.ID, store.AuditFilter{}, 50); len(got) != 0 {
		t.Errorf("refused appends left events: %v", auditIDs(got))
	}

	mustAppend(t, e, newEvent(tn.ID, newID()))
	mustAppend(t, e, newEvent(tn.ID, newID()))
	_, good, err := au.List(ctx(t), tn.ID, store.AuditFilter{}, store.Page{Limit: 1})
	mustOK(t, "first page", err)
	for _, c := range []string{
		"x", "not a cursor", good + "A", good[:len(good)-1], "=" + good,
		usersCursor(t, e, tn.ID), tenantsCursor(t, e),
	} {
		_, _, err := au.List(ctx(t), tn.ID, store.AuditFilter{}, store.Page{After: c})
		wantErr(t, "list after "+quoteShort(c), err, errs.ErrInvalidArgument)
	}
	for _, limit := range []int{-1, store.MaxPageSize + 1} {
		_, _, err := au.List(ctx(t), tn.ID, store.AuditFilter{}, store.Page{Limit: limit})
		wantErr(t, fmt.Sprint("list with limit ", limit), err, errs.ErrInvalidArgument)
	}
}
