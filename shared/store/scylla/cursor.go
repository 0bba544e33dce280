package scylla

import (
	"encoding/base64"
	"encoding/json"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
)

// A cursor is base64url (no padding) of a small JSON object naming the
// listing, its scope and the last ID returned. Clients treat it as opaque;
// the store checks every part of it, so a cursor from another listing or
// another tenant is refused rather than misread.
type cursor struct {
	V     int    `json:"v"` // format version
	List  string `json:"l"` // "tenants", "users" or "apitokens"
	Scope string `json:"s,omitempty"`
	After string `json:"a"` // last ID of the previous page
}

const (
	cursorVersion = 1
	maxCursorLen  = 512
)

func encodeCursor(list, scope, after string) string {
	b, err := json.Marshal(cursor{V: cursorVersion, List: list, Scope: scope, After: after})
	if err != nil { // a struct of strings always marshals
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor returns the ID to list after, "" for the first page.
func decodeCursor(s, list, scope string) (string, error) {
	if s == "" {
		return "", nil
	}
	bad := errs.Invalid("after", "malformed cursor")
	if len(s) > maxCursorLen {
		return "", bad
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return "", bad
	}
	var c cursor
	if err := json.Unmarshal(raw, &c); err != nil || checkID("after", c.After) != nil {
		return "", bad
	}
	// Only the exact text this store wrote is accepted: re-encoding must
	// give it back, so no altered or padded variant gets through.
	if encodeCursor(c.List, c.Scope, c.After) != s || c.V != cursorVersion {
		return "", bad
	}
	if c.List != list || c.Scope != scope {
		return "", errs.Invalid("after", "cursor belongs to another listing")
	}
	return c.After, nil
}

// pageLimit returns the page size asked for.
func pageLimit(p store.Page) (int, error) {
	switch {
	case p.Limit == 0:
		return store.DefaultPageSize, nil
	case p.Limit < 0 || p.Limit > store.MaxPageSize:
		return 0, errs.Invalid("limit", "must be between 1 and %d", store.MaxPageSize)
	}
	return p.Limit, nil
}
