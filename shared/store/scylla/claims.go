package scylla

import (
	"context"
	"errors"
	"time"

	"github.com/gocql/gocql"
	"github.com/scylladb/gocqlx/v2"
)

// Uniqueness of tenant names, usernames and emails rests on claim rows
// (table claims), one per value, taken with INSERT ... IF NOT EXISTS before
// the entity is written and released (DELETE ... IF owner = ?) when the
// entity lets go of the value or when the write that needed it fails.
//
// A process that dies between taking a claim and writing its entity, or
// between renaming an entity and releasing the old value, leaves a claim
// whose owner does not hold the value. Such a claim is taken over once it
// is older than claimGrace: younger, it may belong to a write still in
// flight. Its age is measured from the server's write time against this
// host's clock, so the grace also absorbs clock skew between them.
const claimGrace = 5 * time.Minute

type claimKind string

const (
	claimTenantName claimKind = "tenant.name"
	claimUsername   claimKind = "user.username"
	claimEmail      claimKind = "user.email"
	claimOrgName    claimKind = "org.name"

	// scopeGlobal is the scope of values unique across all tenants.
	scopeGlobal = "global"
)

// errClaimTaken reports a value held by another, live owner.
var errClaimTaken = errors.New("claim held by another owner")

// holdsFunc reports whether owner currently uses the value of a claim.
type holdsFunc func(ctx context.Context, owner string) (bool, error)

type claimRow struct {
	Owner   string `db:"owner"`
	Written int64  `db:"written"` // microseconds since the epoch
}

// acquire claims value for owner. taken is true when this call wrote the
// claim, so that the caller must release it if its own write fails; it is
// false when owner already held the claim. A claim held by a live other
// owner is errClaimTaken.
func (s *Store) acquire(ctx context.Context, kind claimKind, scope, value, owner string,
	holds holdsFunc) (taken bool, err error) {
	var prev struct {
		Owner *string `db:"owner"`
	}
	applied, err := s.query(ctx, s.q.claimInsert).
		Bind(string(kind), scope, value, owner).GetCASRelease(&prev)
	switch {
	case err != nil && isCASTimeout(err) && ctx.Err() == nil:
		// The outcome is unknown: a serial read finishes any Paxos round
		// in flight and tells who holds the claim now.
		cur, rerr := s.readClaim(ctx, kind, scope, value)
		if rerr != nil {
			return false, rerr
		}
		if cur != nil && cur.Owner == owner {
			return true, nil
		}
		if cur == nil {
			return false, err
		}
		prev.Owner = &cur.Owner
	case err != nil:
		return false, err
	case applied:
		return true, nil
	}
	if prev.Owner != nil && *prev.Owner == owner {
		return false, nil
	}
	return s.takeOverStale(ctx, kind, scope, value, owner, holds)
}

// takeOverStale replaces the claim of an owner that no longer holds the
// value, once the claim is older than claimGrace.
func (s *Store) takeOverStale(ctx context.Context, kind claimKind, scope, value, owner string,
	holds holdsFunc) (bool, error) {
	cur, err := s.readClaim(ctx, kind, scope, value)
	if err != nil {
		return false, err
	}
	if cur == nil { // released meanwhile: try once more from the start
		applied, err := s.query(ctx, s.q.claimInsert).
			Bind(string(kind), scope, value, owner).ExecCASRelease()
		if err != nil {
			return false, err
		}
		if !applied {
			return false, errClaimTaken
		}
		return true, nil
	}
	if cur.Owner == owner {
		return false, nil
	}
	live, err := holds(ctx, cur.Owner)
	if err != nil {
		return false, err
	}
	written := time.UnixMicro(cur.Written)
	if live || time.Since(written) < claimGrace {
		return false, errClaimTaken
	}
	applied, err := s.query(ctx, s.q.claimTakeOver).
		Bind(owner, string(kind), scope, value, cur.Owner).ExecCASRelease()
	if err != nil {
		return false, err
	}
	if !applied {
		return false, errClaimTaken
	}
	s.log.Info("took over a stale uniqueness claim", "kind", string(kind))
	return true, nil
}

// readClaim reads a claim at serial consistency; nil when there is none.
func (s *Store) readClaim(ctx context.Context, kind claimKind, scope, value string) (
	*claimRow, error) {
	var row claimRow
	err := s.query(ctx, s.q.claimRead).Bind(string(kind), scope, value).
		SerialConsistency(gocql.LocalSerial).Consistency(gocql.LocalSerial).GetRelease(&row)
	if isNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &row, nil
}

// lookupClaim returns the owner of a claim, "" when there is none. It reads
// at the configured consistency: the owner's entity is read and checked
// next anyway.
func (s *Store) lookupClaim(ctx context.Context, kind claimKind, scope, value string) (
	string, error) {
	var owner string
	err := s.query(ctx, s.q.claimOwner).Bind(string(kind), scope, value).
		Idempotent(true).GetRelease(&owner)
	if isNotFound(err) {
		return "", nil
	}
	return owner, err
}

// release frees a claim if owner still holds it. It runs on paths whose
// outcome is already decided, so it ignores the caller's cancellation; a
// failure leaves a stale claim that acquire takes over later, and is only
// logged.
func (s *Store) release(ctx context.Context, kind claimKind, scope, value, owner string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.Timeout)
	defer cancel()
	_, err := s.query(ctx, s.q.claimDelete).
		Bind(string(kind), scope, value, owner).ExecCASRelease()
	if err != nil {
		s.log.Warn("releasing a uniqueness claim failed; it will be taken over when stale",
			"kind", string(kind), "err", err)
	}
}

// query starts a statement of the store's session.
func (s *Store) query(ctx context.Context, stmt string) *gocqlx.Queryx {
	return s.sess.ContextQuery(ctx, stmt, nil)
}
