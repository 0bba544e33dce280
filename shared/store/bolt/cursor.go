package bolt

import (
	"encoding/base64"

	"github.com/google/uuid"

	"github.com/wardhq/ward/shared/errs"
)

// A cursor names the last entity of a page and the listing it belongs to:
//
//	version (1 byte) | listing kind (1) | scope (16) | last ID (16)
//
// in unpadded base64url. The scope is the tenant of a users or tokens
// listing, zero for tenants and system tokens; for organizations it is the
// parent (the tenant at top level: tenant and organization IDs are distinct
// UUIDs), and for a tenant's users filtered by organization, the
// organization (which belongs to one tenant only). A cursor is not signed: all
// it can do is start a listing, which the caller is allowed to read anyway,
// at another ID of the same listing.
const (
	cursorVersion = 1
	cursorLen     = 1 + 1 + 16 + 16
)

// cursorEncoding is strict so that each cursor has exactly one spelling.
var cursorEncoding = base64.RawURLEncoding.Strict()

// cursorTextLen is the length of every valid cursor.
var cursorTextLen = cursorEncoding.EncodedLen(cursorLen)

type listKind byte

const (
	listTenants listKind = 1 + iota
	listUsers
	listTokens
	listOrgs
	listOrgUsers
)

type cursor struct {
	kind  listKind
	scope uuid.UUID
	last  uuid.UUID
}

func (c cursor) String() string {
	b := make([]byte, 0, cursorLen)
	b = append(b, cursorVersion, byte(c.kind))
	b = append(b, c.scope[:]...)
	b = append(b, c.last[:]...)
	return cursorEncoding.EncodeToString(b)
}

// badCursor returns a fresh error each time, so no caller can alter another's.
func badCursor() error { return errs.Invalid("after", "is not a cursor of this listing") }

// parseCursor decodes a cursor without checking which listing it is for.
func parseCursor(s string) (cursor, error) {
	if len(s) != cursorTextLen {
		return cursor{}, badCursor()
	}
	b, err := cursorEncoding.DecodeString(s)
	if err != nil || len(b) != cursorLen || b[0] != cursorVersion {
		return cursor{}, badCursor()
	}
	c := cursor{kind: listKind(b[1]), scope: uuid.UUID(b[2:18]), last: uuid.UUID(b[18:34])}
	switch {
	case c.kind < listTenants || c.kind > listOrgUsers:
		return cursor{}, badCursor()
	case (c.kind == listOrgs || c.kind == listOrgUsers) && !validID(c.scope):
		return cursor{}, badCursor()
	case c.kind == listTenants && c.scope != (uuid.UUID{}):
		return cursor{}, badCursor()
	case c.kind == listUsers && !validID(c.scope):
		return cursor{}, badCursor()
	case c.kind == listTokens && c.scope != systemScope && !validID(c.scope):
		return cursor{}, badCursor()
	case !validID(c.last):
		return cursor{}, badCursor()
	}
	return c, nil
}

// after decodes the cursor of a page request for one listing: nil for the
// first page, else the ID to continue after.
func after(s string, kind listKind, scope uuid.UUID) (*uuid.UUID, error) {
	if s == "" {
		return nil, nil
	}
	c, err := parseCursor(s)
	if err != nil || c.kind != kind || c.scope != scope {
		return nil, badCursor()
	}
	return &c.last, nil
}
