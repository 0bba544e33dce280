package scylla

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"time"

	"github.com/google/uuid"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
)

type audit struct{ s *Store }

const (
	listAudit = "audit"
	// idCeiling sorts after every ID: IDs are lower-case hex and hyphens.
	idCeiling = "~"
)

// auditRow is a row of audit_events or audit_by_target.
type auditRow struct {
	ID         string    `db:"id"`
	TenantID   string    `db:"tenant_id"`
	At         time.Time `db:"at"`
	Actor      string    `db:"actor"`
	Action     string    `db:"action"`
	TargetType string    `db:"target_type"`
	TargetID   string    `db:"target_id"`
	Changes    string    `db:"changes"`
	RequestID  string    `db:"request_id"`
}

func (r auditRow) event() (store.AuditEvent, error) {
	e := store.AuditEvent{
		ID: r.ID, TenantID: r.TenantID, At: dbTime(r.At), Actor: r.Actor, Action: r.Action,
		TargetType: r.TargetType, TargetID: r.TargetID, RequestID: r.RequestID,
	}
	if r.Changes != "" {
		if err := json.Unmarshal([]byte(r.Changes), &e.Changes); err != nil {
			return store.AuditEvent{}, errs.Wrap(errs.Unavailable, err, "corrupt audit event")
		}
	}
	return e, nil
}

// idMonth is the month partition of an event: months since year 0 of the
// time in its version-7 UUID (the first 48 bits, Unix milliseconds).
func idMonth(id string) int {
	u := uuid.MustParse(id)
	ms := int64(binary.BigEndian.Uint64(append([]byte{0, 0}, u[:6]...)))
	t := time.UnixMilli(ms).UTC()
	return t.Year()*12 + int(t.Month()) - 1
}

func checkAudit(e store.AuditEvent) error {
	if err := checkID("id", e.ID); err != nil {
		return err
	}
	if err := checkTokenScope(e.TenantID); err != nil {
		return err
	}
	if err := checkID("targetId", e.TargetID); err != nil {
		return err
	}
	if e.At.IsZero() {
		return errs.Invalid("at", "is required")
	}
	for field, v := range map[string]string{
		"actor": e.Actor, "action": e.Action, "targetType": e.TargetType,
	} {
		if err := checkKey(field, v); err != nil {
			return err
		}
	}
	if err := checkText("requestId", e.RequestID); err != nil {
		return err
	}
	if len(e.Changes) > store.MaxAuditChanges {
		return errs.Invalid("changes", "must name at most %d fields", store.MaxAuditChanges)
	}
	for k, c := range e.Changes {
		if err := checkKey("changes", k); err != nil {
			return err
		}
		if err := checkText("changes", c.Old); err != nil {
			return err
		}
		if err := checkText("changes", c.New); err != nil {
			return err
		}
	}
	return nil
}

// Append writes the month row, then the event with a lightweight
// transaction (which finds an ID taken twice), then its copy by target.
//
// Known shortcoming: the three writes are not one transaction. If the
// last one fails, Append returns ErrUnavailable although the event is in
// the trail; it is then missing from listings filtered by its target, and
// appending it again is ErrConflict. (A month row without events, left by
// a failure after the first write, is harmless: listings skip it.)
func (a audit) Append(ctx context.Context, e store.AuditEvent) error {
	s := a.s
	if err := checkAudit(e); err != nil {
		return err
	}
	e.At = dbTime(e.At)
	changes := ""
	if len(e.Changes) > 0 {
		b, err := json.Marshal(e.Changes)
		if err != nil { // a map of strings always marshals
			panic(err)
		}
		changes = string(b)
	}
	scope, month := tokenScope(e.TenantID), idMonth(e.ID)
	cols := []any{e.ID, e.TenantID, e.At, e.Actor, e.Action, e.TargetType, e.TargetID,
		changes, e.RequestID}

	err := s.query(ctx, s.q.auditMonthInsert).Bind(scope, month).Idempotent(true).ExecRelease()
	if err != nil {
		return ctxErr(ctx, err)
	}
	applied, err := s.query(ctx, s.q.auditInsert).Bind(append([]any{scope, month}, cols...)...).
		ExecCASRelease()
	if err != nil {
		landed, serr := s.settle(ctx, err, a.landed(scope, month, e.ID, cols))
		if serr != nil || !landed {
			return ctxErr(ctx, err)
		}
		applied = true
	}
	if !applied {
		return conflict("id", "an audit event with this ID exists")
	}
	err = s.query(ctx, s.q.auditTargetInsert).Bind(append([]any{scope}, cols...)...).
		Idempotent(true).ExecRelease()
	if err != nil {
		return ctxErr(ctx, err)
	}
	return nil
}

// landed reports whether the event in cols is the one stored under its ID.
func (a audit) landed(scope string, month int, id string,
	cols []any) func(context.Context) (bool, error) {
	return func(ctx context.Context) (bool, error) {
		var row auditRow
		err := serial(a.s.query(ctx, a.s.q.auditGet)).Bind(scope, month, id).GetRelease(&row)
		if isNotFound(err) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		got := []any{row.ID, row.TenantID, dbTime(row.At), row.Actor, row.Action,
			row.TargetType, row.TargetID, row.Changes, row.RequestID}
		for i := range got {
			if t, ok := got[i].(time.Time); ok {
				if !t.Equal(cols[i].(time.Time)) {
					return false, nil
				}
				continue
			}
			if got[i] != cols[i] {
				return false, nil
			}
		}
		return true, nil
	}
}

func (a audit) List(ctx context.Context, tenantID string, f store.AuditFilter,
	p store.Page) ([]store.AuditEvent, string, error) {
	if err := checkTokenScope(tenantID); err != nil {
		return nil, "", err
	}
	if f.TargetID != "" {
		if err := checkID("targetId", f.TargetID); err != nil {
			return nil, "", err
		}
	}
	limit, err := pageLimit(p)
	if err != nil {
		return nil, "", err
	}
	after, err := decodeCursor(p.After, listAudit, tenantID+"/"+f.TargetID)
	if err != nil {
		return nil, "", err
	}

	scope := tokenScope(tenantID)
	var items []store.AuditEvent
	if f.TargetID != "" {
		items, err = a.listTarget(ctx, scope, f.TargetID, after, limit+1)
	} else {
		items, err = a.listTrail(ctx, scope, after, limit+1)
	}
	if err != nil {
		return nil, "", err
	}
	if len(items) <= limit {
		return items, "", nil
	}
	items = items[:limit]
	return items, encodeCursor(listAudit, tenantID+"/"+f.TargetID, items[limit-1].ID), nil
}

// listTrail reads up to n events of a trail older than after ("" for the
// newest), walking back over its months.
func (a audit) listTrail(ctx context.Context, scope, after string,
	n int) ([]store.AuditEvent, error) {
	s := a.s
	fromMonth, bound := int(^uint32(0)>>1), idCeiling
	if after != "" {
		fromMonth, bound = idMonth(after), after
	}

	var months []int
	iter := s.query(ctx, s.q.auditMonthList).Bind(scope, fromMonth).Idempotent(true).Iter()
	var m int
	for iter.Scan(&m) {
		months = append(months, m)
	}
	if err := iter.Close(); err != nil {
		return nil, ctxErr(ctx, err)
	}

	var items []store.AuditEvent
	for _, m := range months {
		got, err := a.scan(ctx, s.q.auditList, []any{scope, m, bound, n - len(items)})
		if err != nil {
			return nil, err
		}
		items = append(items, got...)
		if len(items) == n {
			break
		}
		// Older months hold only older IDs: no bound is needed there.
		bound = idCeiling
	}
	return items, nil
}

func (a audit) listTarget(ctx context.Context, scope, targetID, after string,
	n int) ([]store.AuditEvent, error) {
	if after == "" {
		after = idCeiling
	}
	return a.scan(ctx, a.s.q.auditTargetList, []any{scope, targetID, after, n})
}

func (a audit) scan(ctx context.Context, stmt string, args []any) ([]store.AuditEvent, error) {
	iter := a.s.query(ctx, stmt).Bind(args...).Idempotent(true).Iter()
	var items []store.AuditEvent
	var row auditRow
	for iter.StructScan(&row) {
		e, err := row.event()
		if err != nil {
			_ = iter.Close()
			return nil, err
		}
		items = append(items, e)
		row = auditRow{}
	}
	if err := iter.Close(); err != nil {
		return nil, ctxErr(ctx, err)
	}
	return items, nil
}
