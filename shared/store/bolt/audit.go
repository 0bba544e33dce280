package bolt

import (
	"context"
	"maps"

	"github.com/google/uuid"
	bbolt "go.etcd.io/bbolt"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
)

type audit struct{ s *Store }

type auditRec struct {
	TenantID   string                       `json:"t,omitempty"`
	At         int64                        `json:"at"`
	Actor      string                       `json:"a"`
	Action     string                       `json:"x"`
	TargetType string                       `json:"tt"`
	TargetID   string                       `json:"ti"`
	Changes    map[string]store.AuditChange `json:"c,omitempty"`
	RequestID  string                       `json:"r,omitempty"`
}

func (r auditRec) event(id uuid.UUID) store.AuditEvent {
	e := store.AuditEvent{
		ID: id.String(), TenantID: r.TenantID, At: fromMS(r.At), Actor: r.Actor,
		Action: r.Action, TargetType: r.TargetType, TargetID: r.TargetID,
		RequestID: r.RequestID,
	}
	if len(r.Changes) > 0 {
		e.Changes = maps.Clone(r.Changes)
	}
	return e
}

// checkAudit checks an event before it is written and returns its IDs.
func checkAudit(e store.AuditEvent) (id, scope, target uuid.UUID, err error) {
	if id, err = parseID("id", e.ID); err != nil {
		return
	}
	if scope, err = parseScope(e.TenantID); err != nil {
		return
	}
	if target, err = parseID("targetId", e.TargetID); err != nil {
		return
	}
	if e.At.IsZero() {
		err = errs.Invalid("at", "is required")
		return
	}
	for field, v := range map[string]string{
		"actor": e.Actor, "action": e.Action, "targetType": e.TargetType,
	} {
		if err = checkKey(field, v); err != nil {
			return
		}
	}
	if err = checkText("requestId", e.RequestID); err != nil {
		return
	}
	if len(e.Changes) > store.MaxAuditChanges {
		err = errs.Invalid("changes", "must name at most %d fields", store.MaxAuditChanges)
		return
	}
	for k, c := range e.Changes {
		if err = checkKey("changes", k); err != nil {
			return
		}
		if err = checkText("changes", c.Old); err != nil {
			return
		}
		if err = checkText("changes", c.New); err != nil {
			return
		}
	}
	return id, scope, target, nil
}

func (a audit) Append(ctx context.Context, e store.AuditEvent) error {
	id, scope, target, err := checkAudit(e)
	if err != nil {
		return err
	}
	rec := auditRec{
		TenantID: e.TenantID, At: toMS(e.At), Actor: e.Actor, Action: e.Action,
		TargetType: e.TargetType, TargetID: e.TargetID, Changes: maps.Clone(e.Changes),
		RequestID: e.RequestID,
	}

	return a.s.update(ctx, func(tx *bbolt.Tx) error {
		events := tx.Bucket(bucketAudit)
		key := join(scope[:], id[:])
		if events.Get(key) != nil {
			return conflict("id", "an audit event with this ID exists")
		}
		if err := events.Put(key, encode(rec)); err != nil {
			return err
		}
		return tx.Bucket(bucketAuditTarget).Put(join(scope[:], target[:], id[:]), nil)
	})
}

func (a audit) List(ctx context.Context, tenantID string, f store.AuditFilter,
	p store.Page) ([]store.AuditEvent, string, error) {
	scope, err := parseScope(tenantID)
	if err != nil {
		return nil, "", err
	}
	var target uuid.UUID // zero: no filter
	if f.TargetID != "" {
		if target, err = parseID("targetId", f.TargetID); err != nil {
			return nil, "", err
		}
	}
	limit, err := pageLimit(p)
	if err != nil {
		return nil, "", err
	}
	last, err := auditAfter(p.After, scope, target)
	if err != nil {
		return nil, "", err
	}

	var items []store.AuditEvent
	err = a.s.view(ctx, func(tx *bbolt.Tx) error {
		events := tx.Bucket(bucketAudit)
		b, prefix := events, scope[:]
		if target != (uuid.UUID{}) {
			b, prefix = tx.Bucket(bucketAuditTarget), join(scope[:], target[:])
		}
		return scanDesc(b, prefix, last, func(id uuid.UUID) (bool, error) {
			v := events.Get(join(scope[:], id[:]))
			if v == nil {
				return false, errs.New(errs.Unavailable, "audit target index is out of step")
			}
			var rec auditRec
			if err := decode(v, &rec); err != nil {
				return false, err
			}
			items = append(items, rec.event(id))
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
	next := auditCursor{scope: scope, target: target, last: uuid.MustParse(items[limit-1].ID)}
	return items, next.String(), nil
}

// scanDesc visits, in descending key order, the keys prefix+id of b whose
// id comes before after (all of them when after is nil), until visit
// returns false.
func scanDesc(b *bbolt.Bucket, prefix []byte, after *uuid.UUID,
	visit func(id uuid.UUID) (more bool, err error)) error {
	// Seek finds the first key at or past the bound; the one before it is
	// the first to visit. All 0xff is never a version-7 UUID, so it bounds
	// every ID from above.
	var bound uuid.UUID
	for i := range bound {
		bound[i] = 0xff
	}
	if after != nil {
		bound = *after
	}
	c := b.Cursor()
	k, _ := c.Seek(join(prefix, bound[:]))
	if k == nil {
		k, _ = c.Last()
	} else {
		k, _ = c.Prev()
	}
	for ; k != nil && hasPrefix(k, prefix); k, _ = c.Prev() {
		if len(k) != len(prefix)+16 {
			return errs.New(errs.Unavailable, "corrupt audit key")
		}
		more, err := visit(uuid.UUID(k[len(prefix):]))
		if err != nil || !more {
			return err
		}
	}
	return nil
}

// An audit cursor names the trail, the target it is filtered by (zero for
// none) and the last event returned:
//
//	version (1 byte) | kind (1) | scope (16) | target (16) | last ID (16)
//
// in unpadded base64url. Its length differs from the other listings'
// cursors, so neither kind is taken for the other.
const auditCursorLen = 1 + 1 + 16 + 16 + 16

var auditCursorTextLen = cursorEncoding.EncodedLen(auditCursorLen)

// listAudit is past the kinds parseCursor accepts.
const listAudit listKind = 100

type auditCursor struct {
	scope, target, last uuid.UUID
}

func (c auditCursor) String() string {
	b := make([]byte, 0, auditCursorLen)
	b = append(b, cursorVersion, byte(listAudit))
	b = append(b, c.scope[:]...)
	b = append(b, c.target[:]...)
	b = append(b, c.last[:]...)
	return cursorEncoding.EncodeToString(b)
}

// auditAfter decodes the cursor of an audit page request: nil for the first
// page, else the ID to continue before.
func auditAfter(s string, scope, target uuid.UUID) (*uuid.UUID, error) {
	if s == "" {
		return nil, nil
	}
	if len(s) != auditCursorTextLen {
		return nil, badCursor()
	}
	b, err := cursorEncoding.DecodeString(s)
	if err != nil || len(b) != auditCursorLen || b[0] != cursorVersion ||
		listKind(b[1]) != listAudit {
		return nil, badCursor()
	}
	c := auditCursor{
		scope: uuid.UUID(b[2:18]), target: uuid.UUID(b[18:34]), last: uuid.UUID(b[34:50]),
	}
	if c.scope != scope || c.target != target || !validID(c.last) {
		return nil, badCursor()
	}
	return &c.last, nil
}
