package bolt

import (
	"strings"
	"testing"

	"github.com/google/uuid"
)

func TestCursorsRoundTrip(t *testing.T) {
	tenant := uuid.Must(uuid.NewV7())
	last := uuid.Must(uuid.NewV7())
	for _, c := range []cursor{
		{kind: listTenants, last: last},
		{kind: listUsers, scope: tenant, last: last},
		{kind: listTokens, scope: tenant, last: last},
		{kind: listTokens, scope: systemScope, last: last},
	} {
		s := c.String()
		if len(s) != cursorTextLen {
			t.Errorf("cursor %q has %d characters, want %d", s, len(s), cursorTextLen)
		}
		got, err := after(s, c.kind, c.scope)
		if err != nil {
			t.Errorf("after(%q): %v", s, err)
			continue
		}
		if *got != last {
			t.Errorf("after(%q) = %s, want %s", s, got, last)
		}
	}
}

func TestCursorsAreBoundToTheirListing(t *testing.T) {
	a, b := uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7())
	last := uuid.Must(uuid.NewV7())
	users := cursor{kind: listUsers, scope: a, last: last}.String()

	for _, tc := range []struct {
		name  string
		kind  listKind
		scope uuid.UUID
	}{
		{"another tenant", listUsers, b},
		{"another aggregate", listTokens, a},
		{"tenants", listTenants, uuid.UUID{}},
	} {
		if _, err := after(users, tc.kind, tc.scope); err == nil {
			t.Errorf("a users cursor was accepted for %s", tc.name)
		}
	}
}

func TestCursorsNamingInvalidIDsAreRefused(t *testing.T) {
	v4 := uuid.New()
	for _, c := range []cursor{
		{kind: listTenants, last: v4},
		{kind: listTenants, scope: uuid.Must(uuid.NewV7()), last: uuid.Must(uuid.NewV7())},
		{kind: listUsers, scope: uuid.UUID{}, last: uuid.Must(uuid.NewV7())},
		{kind: 9, last: uuid.Must(uuid.NewV7())},
	} {
		if _, err := parseCursor(c.String()); err == nil {
			t.Errorf("cursor %+v was accepted", c)
		}
	}
}

func FuzzParseCursor(f *testing.F) {
	last := uuid.Must(uuid.NewV7())
	f.Add(cursor{kind: listTenants, last: last}.String())
	f.Add(cursor{kind: listUsers, scope: uuid.Must(uuid.NewV7()), last: last}.String())
	f.Add(cursor{kind: listTokens, last: last}.String())
	f.Add("")
	f.Add("AAAA")
	f.Add(strings.Repeat("A", cursorTextLen))
	f.Add(strings.Repeat("_", cursorTextLen))

	f.Fuzz(func(t *testing.T, s string) {
		c, err := parseCursor(s)
		if err != nil {
			return
		}
		// Every accepted cursor has one spelling and names a valid ID.
		if got := c.String(); got != s {
			t.Errorf("parseCursor(%q) re-encodes as %q", s, got)
		}
		if !validID(c.last) {
			t.Errorf("parseCursor(%q) accepted ID %s", s, c.last)
		}
		if _, err := after(s, c.kind, c.scope); err != nil {
			t.Errorf("after(%q) refused a cursor parseCursor accepted: %v", s, err)
		}
	})
}
