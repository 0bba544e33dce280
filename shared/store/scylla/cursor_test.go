package scylla

import (
	"encoding/base64"
	"errors"
	"testing"

	"github.com/google/uuid"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
)

func TestCursorRoundTrip(t *testing.T) {
	id := uuid.Must(uuid.NewV7()).String()
	tenant := uuid.Must(uuid.NewV7()).String()
	c := encodeCursor(listUsers, tenant, id)

	got, err := decodeCursor(c, listUsers, tenant)
	if err != nil || got != id {
		t.Fatalf("decode = %q, %v; want %q", got, err, id)
	}
	if got, err := decodeCursor("", listUsers, tenant); err != nil || got != "" {
		t.Errorf("empty cursor = %q, %v; want the first page", got, err)
	}
}

func TestCursorRefusals(t *testing.T) {
	id := uuid.Must(uuid.NewV7()).String()
	tenant := uuid.Must(uuid.NewV7()).String()
	valid := encodeCursor(listUsers, tenant, id)
	raw := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

	tests := []struct {
		name, cursor, list, scope string
	}{
		{"another tenant's", valid, listUsers, uuid.Must(uuid.NewV7()).String()},
		{"another listing's", valid, listTenants, tenant},
		{"with padding", valid + "=", listUsers, tenant},
		{"in standard base64", base64.StdEncoding.EncodeToString(mustDecode(t, valid)) + "+/",
			listUsers, tenant},
		{"not base64", "***", listUsers, tenant},
		{"not JSON", raw("hello"), listUsers, tenant},
		{"another format version", raw(`{"v":2,"l":"users","s":"` + tenant + `","a":"` + id +
			`"}`), listUsers, tenant},
		{"a malformed ID", raw(`{"v":1,"l":"users","s":"` + tenant + `","a":"x"}`),
			listUsers, tenant},
		{"reordered fields", raw(`{"l":"users","v":1,"s":"` + tenant + `","a":"` + id + `"}`),
			listUsers, tenant},
		{"an extra field", raw(`{"v":1,"l":"users","s":"` + tenant + `","a":"` + id +
			`","x":1}`), listUsers, tenant},
		{"trailing bytes", raw(`{"v":1,"l":"users","s":"` + tenant + `","a":"` + id + `"} `),
			listUsers, tenant},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeCursor(tc.cursor, tc.list, tc.scope)
			if !errors.Is(err, errs.ErrInvalidArgument) {
				t.Errorf("got %v, want ErrInvalidArgument", err)
			}
		})
	}
}

func mustDecode(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func FuzzDecodeCursor(f *testing.F) {
	tenant := "0190a6e2-5b7c-7d3e-8f4a-1b2c3d4e5f60"
	f.Add(encodeCursor(listUsers, tenant, "0190a6e2-5b7c-7d3e-8f4a-1b2c3d4e5f61"))
	f.Add("")
	f.Add("eyJ2IjoxfQ")
	f.Fuzz(func(t *testing.T, s string) {
		after, err := decodeCursor(s, listUsers, tenant)
		if err != nil {
			if !errors.Is(err, errs.ErrInvalidArgument) {
				t.Fatalf("error %v is not ErrInvalidArgument", err)
			}
			return
		}
		if s == "" {
			return
		}
		// Whatever is accepted is exactly what the store would write.
		if encodeCursor(listUsers, tenant, after) != s {
			t.Fatalf("accepted %q, which the store would not write", s)
		}
	})
}

func TestPageLimit(t *testing.T) {
	for _, tc := range []struct {
		in, want int
		ok       bool
	}{
		{0, store.DefaultPageSize, true},
		{1, 1, true},
		{store.MaxPageSize, store.MaxPageSize, true},
		{store.MaxPageSize + 1, 0, false},
		{-1, 0, false},
	} {
		got, err := pageLimit(store.Page{Limit: tc.in})
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("pageLimit(%d) = %d, %v", tc.in, got, err)
		}
	}
}
