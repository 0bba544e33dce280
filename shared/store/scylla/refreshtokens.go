package scylla

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
)

// Refresh tokens live in three tables (migrations/0014_refresh_tokens.cql):
// families, one partition each; tokens by hash; and each user's families.
// Every row carries a TTL that ends at its expiry, so the server deletes
// them; the store's clock hides them on time.
//
// CreateFamily writes the user's index row, then the family (IF NOT
// EXISTS), then the token (IF NOT EXISTS, the credential); a failure of
// the last undoes the family. Rotate writes the next token first (IF NOT
// EXISTS), then spends the presented one with IF used = false, the
// compare-and-swap that lets one concurrent rotation win; a loser deletes
// the token it wrote, which nobody else knows. The family's revocation is
// read at serial consistency before the swap but not locked by it: a
// family revoked in between may receive one more token, whose family
// reads back revoked (see store.RefreshTokens).

type refreshTokens struct{ s *Store }

// RefreshTokens returns the refresh token store.
func (s *Store) RefreshTokens() store.RefreshTokens { return refreshTokens{s} }

type refreshStatements struct {
	familyInsert, familyGet, familyRevoke, familyDelete string
	tokenInsert, tokenGet, tokenSpend, tokenDelete      string
	userInsert, userList, userDelete                    string
}

var refreshStatementsByKeyspace sync.Map // keyspace → *refreshStatements

const familyCols = `tenant_id, id, client_id, user_id, session_id, scope, audience, ` +
	`auth_time, acr, amr, created_at, expires_at, revoked`

const refreshTokenCols = `hash, tenant_id, family_id, generation, created_at, expires_at, used`

func (s *Store) rq() *refreshStatements {
	if q, ok := refreshStatementsByKeyspace.Load(s.cfg.Keyspace); ok {
		return q.(*refreshStatements)
	}
	r := strings.NewReplacer("{ks}", s.cfg.Keyspace)
	q := &refreshStatements{
		familyInsert: r.Replace(`INSERT INTO {ks}.refresh_families (` + familyCols + `)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, false) IF NOT EXISTS USING TTL ?`),
		familyGet: r.Replace(`SELECT ` + familyCols + ` FROM {ks}.refresh_families
    WHERE tenant_id = ? AND id = ?`),
		familyRevoke: r.Replace(`UPDATE {ks}.refresh_families USING TTL ? SET revoked = true
    WHERE tenant_id = ? AND id = ? IF EXISTS`),
		familyDelete: r.Replace(`DELETE FROM {ks}.refresh_families
    WHERE tenant_id = ? AND id = ? IF EXISTS`),
		tokenInsert: r.Replace(`INSERT INTO {ks}.refresh_tokens (` + refreshTokenCols + `)
    VALUES (?, ?, ?, ?, ?, ?, false) IF NOT EXISTS USING TTL ?`),
		tokenGet: r.Replace(`SELECT ` + refreshTokenCols + ` FROM {ks}.refresh_tokens
    WHERE hash = ?`),
		tokenSpend: r.Replace(`UPDATE {ks}.refresh_tokens USING TTL ? SET used = true
    WHERE hash = ? IF used = false`),
		tokenDelete: r.Replace(`DELETE FROM {ks}.refresh_tokens WHERE hash = ?`),
		userInsert: r.Replace(`INSERT INTO {ks}.refresh_families_by_user
    (tenant_id, user_id, id, client_id) VALUES (?, ?, ?, ?) USING TTL ?`),
		userList: r.Replace(`SELECT id, client_id FROM {ks}.refresh_families_by_user
    WHERE tenant_id = ? AND user_id = ? LIMIT ?`),
		userDelete: r.Replace(`DELETE FROM {ks}.refresh_families_by_user
    WHERE tenant_id = ? AND user_id = ? AND id = ?`),
	}
	actual, _ := refreshStatementsByKeyspace.LoadOrStore(s.cfg.Keyspace, q)
	return actual.(*refreshStatements)
}

type familyRow struct {
	TenantID  string    `db:"tenant_id"`
	ID        string    `db:"id"`
	ClientID  string    `db:"client_id"`
	UserID    string    `db:"user_id"`
	SessionID string    `db:"session_id"`
	Scope     string    `db:"scope"`
	Audience  []string  `db:"audience"`
	AuthTime  time.Time `db:"auth_time"`
	ACR       string    `db:"acr"`
	AMR       []string  `db:"amr"`
	CreatedAt time.Time `db:"created_at"`
	ExpiresAt time.Time `db:"expires_at"`
	Revoked   bool      `db:"revoked"`
}

func (r familyRow) family() store.RefreshFamily {
	f := store.RefreshFamily{ID: r.ID, TenantID: r.TenantID, ClientID: r.ClientID,
		UserID: r.UserID, SessionID: r.SessionID, Scope: r.Scope, Audience: r.Audience,
		AuthTime: r.AuthTime.UTC(), ACR: r.ACR, AMR: r.AMR, CreatedAt: r.CreatedAt.UTC(),
		ExpiresAt: r.ExpiresAt.UTC(), Revoked: r.Revoked}
	if len(f.Audience) == 0 {
		f.Audience = nil
	}
	if len(f.AMR) == 0 {
		f.AMR = nil
	}
	if r.AuthTime.IsZero() || r.AuthTime.UnixMilli() == 0 {
		f.AuthTime = time.Time{}
	}
	return f
}

type refreshRow struct {
	Hash       string    `db:"hash"`
	TenantID   string    `db:"tenant_id"`
	FamilyID   string    `db:"family_id"`
	Generation int64     `db:"generation"`
	CreatedAt  time.Time `db:"created_at"`
	ExpiresAt  time.Time `db:"expires_at"`
	Used       bool      `db:"used"`
}

func (r refreshRow) token() store.RefreshToken {
	return store.RefreshToken{Hash: r.Hash, TenantID: r.TenantID, FamilyID: r.FamilyID,
		Generation: r.Generation, CreatedAt: r.CreatedAt.UTC(), ExpiresAt: r.ExpiresAt.UTC(),
		Used: r.Used}
}

func checkFamilyIDs(f store.RefreshFamily) error {
	ids := [][2]string{{"tenantId", f.TenantID}, {"id", f.ID}, {"clientId", f.ClientID},
		{"userId", f.UserID}}
	if f.SessionID != "" {
		ids = append(ids, [2]string{"sessionId", f.SessionID})
	}
	return checkIDs(ids...)
}

func (rs refreshTokens) CreateFamily(ctx context.Context, f store.RefreshFamily,
	first store.RefreshToken) error {
	s := rs.s
	if err := checkFamilyIDs(f); err != nil {
		return err
	}
	now := s.now()
	f, err := store.CheckRefreshFamily(f, now)
	if err != nil {
		return err
	}
	if first.Generation != 1 {
		return errs.Invalid("generation", "must be 1 for a family's first token")
	}
	if first, err = store.CheckRefreshToken(first, f, now); err != nil {
		return err
	}
	ttl, err := ttlSeconds(f.ExpiresAt, now)
	if err != nil {
		return err
	}

	err = s.query(ctx, s.rq().userInsert).Bind(f.TenantID, f.UserID, f.ID, f.ClientID, ttl).
		ExecRelease()
	if err != nil {
		return ctxErr(ctx, err)
	}
	applied, err := s.query(ctx, s.rq().familyInsert).Bind(f.TenantID, f.ID, f.ClientID,
		f.UserID, f.SessionID, f.Scope, f.Audience, f.AuthTime, f.ACR, f.AMR, f.CreatedAt,
		f.ExpiresAt, ttl).ExecCASRelease()
	if err != nil {
		return ctxErr(ctx, err)
	}
	if !applied {
		return conflict("id", "a refresh token family with this ID exists")
	}
	if err := rs.insertToken(ctx, first, now); err != nil {
		rs.undo(ctx, f)
		return err
	}
	return nil
}

// insertToken writes a new, unused token if its hash is free.
func (rs refreshTokens) insertToken(ctx context.Context, t store.RefreshToken,
	now time.Time) error {
	s := rs.s
	ttl, err := ttlSeconds(t.ExpiresAt, now)
	if err != nil {
		return err
	}
	applied, err := s.query(ctx, s.rq().tokenInsert).Bind(t.Hash, t.TenantID, t.FamilyID,
		t.Generation, t.CreatedAt, t.ExpiresAt, ttl).ExecCASRelease()
	if err != nil {
		return ctxErr(ctx, err)
	}
	if !applied {
		return conflict("hash", "a refresh token with this hash exists")
	}
	return nil
}

// undo removes a family whose first token could not be written. It
// outlives the caller's cancellation; a failure leaves a family without a
// usable token until its TTL, and is logged.
func (rs refreshTokens) undo(ctx context.Context, f store.RefreshFamily) {
	s := rs.s
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.Timeout)
	defer cancel()
	if _, err := s.query(ctx, s.rq().familyDelete).Bind(f.TenantID, f.ID).
		ExecCASRelease(); err != nil {
		s.log.Warn("removing a half-created refresh token family failed", "err", err)
		return
	}
	if err := s.query(ctx, s.rq().userDelete).Bind(f.TenantID, f.UserID, f.ID).
		ExecRelease(); err != nil {
		s.log.Warn("removing a half-created refresh family's index row failed", "err", err)
	}
}

// family reads a live family (revoked or not); serial reads see every
// revocation acknowledged or in flight.
func (rs refreshTokens) family(ctx context.Context, tenantID, id string, isSerial bool) (
	store.RefreshFamily, error) {
	q := rs.s.query(ctx, rs.s.rq().familyGet)
	if isSerial {
		q = serial(q)
	}
	var row familyRow
	err := q.Bind(tenantID, id).Idempotent(true).GetRelease(&row)
	if isNotFound(err) {
		return store.RefreshFamily{}, notFound("refresh token family")
	}
	if err != nil {
		return store.RefreshFamily{}, ctxErr(ctx, err)
	}
	f := row.family()
	if !rs.s.now().Before(f.ExpiresAt) {
		return store.RefreshFamily{}, notFound("refresh token family")
	}
	return f, nil
}

// lookup reads a live token and its live family.
func (rs refreshTokens) lookup(ctx context.Context, hash string, isSerial bool) (
	store.RefreshToken, store.RefreshFamily, error) {
	if !sha256Hex.MatchString(hash) {
		return store.RefreshToken{}, store.RefreshFamily{}, notFound("refresh token")
	}
	q := rs.s.query(ctx, rs.s.rq().tokenGet)
	if isSerial {
		q = serial(q)
	}
	var row refreshRow
	err := q.Bind(hash).Idempotent(true).GetRelease(&row)
	if isNotFound(err) {
		return store.RefreshToken{}, store.RefreshFamily{}, notFound("refresh token")
	}
	if err != nil {
		return store.RefreshToken{}, store.RefreshFamily{}, ctxErr(ctx, err)
	}
	t := row.token()
	f, err := rs.family(ctx, t.TenantID, t.FamilyID, isSerial)
	if err != nil {
		if errs.CodeOf(err) == errs.NotFound {
			err = notFound("refresh token")
		}
		return store.RefreshToken{}, store.RefreshFamily{}, err
	}
	if !t.Live(f, rs.s.now()) {
		return store.RefreshToken{}, store.RefreshFamily{}, notFound("refresh token")
	}
	return t, f, nil
}

func (rs refreshTokens) GetByHash(ctx context.Context, hash string) (store.RefreshToken,
	store.RefreshFamily, error) {
	return rs.lookup(ctx, hash, false)
}

func (rs refreshTokens) Rotate(ctx context.Context, tenantID, usedHash string,
	next store.RefreshToken) error {
	s := rs.s
	if err := checkID("tenantId", tenantID); err != nil {
		return err
	}
	used, f, err := rs.lookup(ctx, usedHash, true)
	if err != nil {
		return err
	}
	now := s.now()
	if next, err = store.CheckRotation(tenantID, used, f, next, now); err != nil {
		return err
	}
	usedTTL, err := ttlSeconds(used.ExpiresAt, now)
	if err != nil {
		return notFound("refresh token")
	}

	if err := rs.insertToken(ctx, next, now); err != nil {
		return err
	}
	applied, err := s.query(ctx, s.rq().tokenSpend).Bind(usedTTL, usedHash).ExecCASRelease()
	if err == nil && applied {
		return nil
	}
	// Lost, or unknown: the next token must not stay usable. Deleting it
	// outlives the caller's cancellation.
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.Timeout)
	defer cancel()
	if derr := s.query(dctx, s.rq().tokenDelete).Bind(next.Hash).ExecRelease(); derr != nil {
		s.log.Warn("removing the token of a lost refresh token rotation failed", "err", derr)
	}
	if err != nil {
		return ctxErr(ctx, err)
	}
	return conflict("hash", "the refresh token was used")
}

func (rs refreshTokens) RevokeFamily(ctx context.Context, tenantID, familyID string) error {
	if err := checkIDs([2]string{"tenantId", tenantID}, [2]string{"familyId", familyID}); err != nil {
		return err
	}
	f, err := rs.family(ctx, tenantID, familyID, false)
	if err != nil {
		return err
	}
	return rs.revoke(ctx, f)
}

// revoke marks f revoked with the TTL its row has left.
func (rs refreshTokens) revoke(ctx context.Context, f store.RefreshFamily) error {
	s := rs.s
	ttl, err := ttlSeconds(f.ExpiresAt, s.now())
	if err != nil {
		return notFound("refresh token family")
	}
	applied, err := s.query(ctx, s.rq().familyRevoke).Bind(ttl, f.TenantID, f.ID).
		ExecCASRelease()
	if err != nil {
		return ctxErr(ctx, err)
	}
	if !applied {
		return notFound("refresh token family")
	}
	return nil
}

func (rs refreshTokens) ListFamilies(ctx context.Context, tenantID, userID, clientID string) (
	[]store.RefreshFamily, error) {
	ids := [][2]string{{"tenantId", tenantID}, {"userId", userID}}
	if clientID != "" {
		ids = append(ids, [2]string{"clientId", clientID})
	}
	if err := checkIDs(ids...); err != nil {
		return nil, err
	}
	iter := rs.s.query(ctx, rs.s.rq().userList).
		Bind(tenantID, userID, store.MaxRefreshFamiliesByUser).Idempotent(true).Iter()
	var fids []string
	var id, cid string
	for iter.Scan(&id, &cid) {
		if clientID == "" || cid == clientID {
			fids = append(fids, id)
		}
	}
	if err := iter.Close(); err != nil {
		return nil, ctxErr(ctx, err)
	}
	var out []store.RefreshFamily
	for _, id := range fids {
		f, err := rs.family(ctx, tenantID, id, false)
		if errs.CodeOf(err) == errs.NotFound {
			continue
		}
		if err != nil {
			return nil, err
		}
		if !f.Revoked && f.UserID == userID && (clientID == "" || f.ClientID == clientID) {
			out = append(out, f)
		}
	}
	return out, nil
}

func (rs refreshTokens) RevokeByUser(ctx context.Context, tenantID, userID, clientID string) (
	[]store.RefreshFamily, error) {
	list, err := rs.ListFamilies(ctx, tenantID, userID, clientID)
	if err != nil {
		return nil, err
	}
	return rs.revokeAll(ctx, list)
}

// RevokeBySession reads the user's families, which hold their session
// IDs, rather than an index by session: a user has few families (at most
// store.MaxRefreshFamiliesByUser are read), and no table is needed.
func (rs refreshTokens) RevokeBySession(ctx context.Context, tenantID, userID,
	sessionID string) ([]store.RefreshFamily, error) {
	if err := checkIDs([2]string{"sessionId", sessionID}); err != nil {
		return nil, err
	}
	list, err := rs.ListFamilies(ctx, tenantID, userID, "")
	if err != nil {
		return nil, err
	}
	list = slices.DeleteFunc(list, func(f store.RefreshFamily) bool {
		return f.SessionID != sessionID
	})
	return rs.revokeAll(ctx, list)
}

// revokeAll revokes each family of list that is still there, and returns
// those it revoked.
func (rs refreshTokens) revokeAll(ctx context.Context, list []store.RefreshFamily) (
	[]store.RefreshFamily, error) {
	var out []store.RefreshFamily
	for _, f := range list {
		err := rs.revoke(ctx, f)
		if errs.CodeOf(err) == errs.NotFound {
			continue
		}
		if err != nil {
			return out, err
		}
		f.Revoked = true
		out = append(out, f)
	}
	return out, nil
}
