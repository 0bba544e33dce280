package scylla

import (
	"context"
	"math"
	"regexp"
	"time"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
)

type apiTokens struct{ s *Store }

const (
	listTokens = "apitokens"
	// scopeSystem is the partition of system-scope tokens (TenantID "").
	// Tenant IDs are UUIDs, so it names no tenant.
	scopeSystem = "system"
	// maxTTL is the longest TTL CQL accepts (20 years). A token that lives
	// longer is written without a TTL and hidden by its expires_at alone.
	maxTTL   = 20 * 365 * 24 * time.Hour
	maxRoles = 64
)

var sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)

func tokenScope(tenantID string) string {
	if tenantID == "" {
		return scopeSystem
	}
	return tenantID
}

func checkTokenScope(tenantID string) error {
	if tenantID == "" {
		return nil
	}
	return checkID("tenantId", tenantID)
}

func checkToken(t store.APIToken) error {
	if err := checkID("id", t.ID); err != nil {
		return err
	}
	if err := checkTokenScope(t.TenantID); err != nil {
		return err
	}
	if !sha256Hex.MatchString(t.Hash) {
		return errs.Invalid("hash", "must be a lower-case hex SHA-256")
	}
	if err := checkText("name", t.Name); err != nil {
		return err
	}
	if err := checkText("subject", t.Subject); err != nil {
		return err
	}
	if len(t.Roles) > maxRoles {
		return errs.Invalid("roles", "at most %d roles", maxRoles)
	}
	for _, r := range t.Roles {
		if err := checkKey("roles", r); err != nil {
			return err
		}
	}
	if len(t.Orgs) > maxRoles {
		return errs.Invalid("orgs", "at most %d organizations", maxRoles)
	}
	for _, o := range t.Orgs {
		if err := checkKey("orgs", o); err != nil {
			return err
		}
	}
	return nil
}

// ttlSeconds is the CQL TTL of a token expiring at exp, seen at now: 0 for
// none. The server counts a TTL from its current whole second, so a row
// may vanish up to a second before now+ttl; rounding up and adding one
// second keeps it until exp at least. The store's clock hides it on time.
func ttlSeconds(exp, now time.Time) (int, error) {
	if exp.IsZero() {
		return 0, nil
	}
	d := exp.Sub(now)
	if d <= 0 {
		return 0, errs.Invalid("expiresAt", "must be in the future")
	}
	if d > maxTTL {
		return 0, nil
	}
	return int(math.Ceil(d.Seconds())) + 1, nil
}

// Create writes the listing row first and the by-hash row second: the
// by-hash row is the credential, so a failure in between leaves a visible,
// deletable row that authenticates nothing, never the reverse.
func (ts apiTokens) Create(ctx context.Context, t store.APIToken) (store.APIToken, error) {
	s := ts.s
	if err := checkToken(t); err != nil {
		return store.APIToken{}, err
	}
	t.CreatedAt, t.ExpiresAt = dbTime(t.CreatedAt), dbTime(t.ExpiresAt)
	ttl, err := ttlSeconds(t.ExpiresAt, s.now())
	if err != nil {
		return store.APIToken{}, err
	}
	t.Roles = append([]string(nil), t.Roles...)
	t.Orgs = append([]string(nil), t.Orgs...)
	scope := tokenScope(t.TenantID)
	args := []any{scope, t.ID, t.Hash, t.Name, t.Subject, t.TenantID, t.Roles, t.Orgs,
		t.CreatedAt, t.ExpiresAt, ttl}

	applied, err := s.query(ctx, s.q.tokenInsert).Bind(args...).ExecCASRelease()
	if err != nil {
		landed, serr := s.settle(ctx, err, ts.listed(scope, t.ID, t.Hash))
		if serr != nil || !landed {
			return store.APIToken{}, ctxErr(ctx, err)
		}
		applied = true
	}
	if !applied {
		return store.APIToken{}, conflict("id", "API token ID already taken")
	}
	applied, err = s.query(ctx, s.q.tokenHashInsert).Bind(args...).ExecCASRelease()
	if err != nil {
		if landed, serr := s.settle(ctx, err, ts.byHash(t.Hash, t.ID)); serr == nil && landed {
			applied, err = true, nil
		}
	}
	if err != nil || !applied {
		ts.dropListing(ctx, scope, t.ID)
		if err != nil {
			return store.APIToken{}, ctxErr(ctx, err)
		}
		return store.APIToken{}, conflict("hash", "API token hash already taken")
	}
	return t, nil
}

// dropListing removes a listing row whose Create failed half-way.
func (ts apiTokens) dropListing(ctx context.Context, scope, id string) {
	s := ts.s
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.Timeout)
	defer cancel()
	if _, err := s.query(ctx, s.q.tokenDelete).Bind(scope, id).ExecCASRelease(); err != nil {
		s.log.Warn("removing a half-created API token row failed", "err", err)
	}
}

// expired reports whether t is past its expiry by the store's clock. The
// server's TTL removes it too, by the server's clock; this check makes the
// answer independent of which comes first.
func (ts apiTokens) expired(t store.APIToken) bool {
	return !t.ExpiresAt.IsZero() && !ts.s.now().Before(t.ExpiresAt)
}

func (ts apiTokens) GetByHash(ctx context.Context, hash string) (store.APIToken, error) {
	if !sha256Hex.MatchString(hash) {
		return store.APIToken{}, notFound("API token")
	}
	var row tokenRow
	err := ts.s.query(ctx, ts.s.q.tokenByHash).Bind(hash).Idempotent(true).GetRelease(&row)
	if isNotFound(err) {
		return store.APIToken{}, notFound("API token")
	}
	if err != nil {
		return store.APIToken{}, ctxErr(ctx, err)
	}
	t := row.token()
	if ts.expired(t) {
		return store.APIToken{}, notFound("API token")
	}
	return t, nil
}

// List skips expired tokens; it reads on until the page is full or the
// partition ends, so a page is short only at the end.
func (ts apiTokens) List(ctx context.Context, tenantID string, p store.Page) (
	[]store.APIToken, string, error) {
	if err := checkTokenScope(tenantID); err != nil {
		return nil, "", err
	}
	limit, err := pageLimit(p)
	if err != nil {
		return nil, "", err
	}
	after, err := decodeCursor(p.After, listTokens, tenantID)
	if err != nil {
		return nil, "", err
	}
	scope := tokenScope(tenantID)
	items := make([]store.APIToken, 0, limit)
	for {
		iter := ts.s.query(ctx, ts.s.q.tokenList).Bind(scope, after, limit+1).
			Idempotent(true).Iter()
		var row tokenRow
		rows := 0
		for iter.StructScan(&row) {
			rows++
			after = row.ID
			t := row.token()
			row = tokenRow{}
			if ts.expired(t) {
				continue
			}
			if len(items) == limit {
				// A live token beyond the page: there is a next page.
				if err := iter.Close(); err != nil {
					return nil, "", ctxErr(ctx, err)
				}
				return items, encodeCursor(listTokens, tenantID, items[limit-1].ID), nil
			}
			items = append(items, t)
		}
		if err := iter.Close(); err != nil {
			return nil, "", ctxErr(ctx, err)
		}
		if rows < limit+1 {
			return items, "", nil
		}
	}
}

// Delete revokes the credential (the by-hash row) first, then removes the
// listing row.
func (ts apiTokens) Delete(ctx context.Context, tenantID, id string) error {
	s := ts.s
	if err := checkTokenScope(tenantID); err != nil {
		return err
	}
	if err := checkID("id", id); err != nil {
		return err
	}
	scope := tokenScope(tenantID)
	var row tokenRow
	err := s.query(ctx, s.q.tokenGet).Bind(scope, id).Idempotent(true).GetRelease(&row)
	if isNotFound(err) {
		return notFound("API token")
	}
	if err != nil {
		return ctxErr(ctx, err)
	}
	if ts.expired(row.token()) { // gone already; the TTL removes the rows
		return notFound("API token")
	}
	return ts.remove(ctx, scope, row)
}

// remove deletes a token read from its listing row: the credential (the
// by-hash row) first, then the listing row. It is ErrNotFound when the
// listing row went meanwhile.
func (ts apiTokens) remove(ctx context.Context, scope string, row tokenRow) error {
	s := ts.s
	id := row.ID
	if _, err := s.query(ctx, s.q.tokenHashDelete).Bind(row.Hash, id).
		ExecCASRelease(); err != nil {
		held := ts.byHash(row.Hash, id)
		gone := func(ctx context.Context) (bool, error) {
			ok, err := held(ctx)
			return !ok, err
		}
		if landed, serr := s.settle(ctx, err, gone); serr != nil || !landed {
			return ctxErr(ctx, err)
		}
	}
	applied, err := s.query(ctx, s.q.tokenDelete).Bind(scope, id).ExecCASRelease()
	if err != nil {
		listed := ts.listed(scope, id, row.Hash)
		gone := func(ctx context.Context) (bool, error) {
			ok, err := listed(ctx)
			return !ok, err
		}
		if landed, serr := s.settle(ctx, err, gone); serr != nil || !landed {
			return ctxErr(ctx, err)
		}
		applied = true
	}
	if !applied {
		return notFound("API token")
	}
	return nil
}

// listed reports, at serial consistency, whether the listing row of the
// token exists with the given hash.
func (ts apiTokens) listed(scope, id, hash string) func(context.Context) (bool, error) {
	return func(ctx context.Context) (bool, error) {
		var row tokenRow
		err := serial(ts.s.query(ctx, ts.s.q.tokenGet)).Bind(scope, id).GetRelease(&row)
		if isNotFound(err) {
			return false, nil
		}
		return err == nil && row.Hash == hash, err
	}
}

// byHash reports, at serial consistency, whether hash belongs to token id.
func (ts apiTokens) byHash(hash, id string) func(context.Context) (bool, error) {
	return func(ctx context.Context) (bool, error) {
		var row tokenRow
		err := serial(ts.s.query(ctx, ts.s.q.tokenByHash)).Bind(hash).GetRelease(&row)
		if isNotFound(err) {
			return false, nil
		}
		return err == nil && row.ID == id, err
	}
}

// tokenRow is a row of api_tokens or api_tokens_by_hash.
type tokenRow struct {
	Scope     string    `db:"scope"`
	ID        string    `db:"id"`
	Hash      string    `db:"hash"`
	Name      string    `db:"name"`
	Subject   string    `db:"subject"`
	TenantID  string    `db:"tenant_id"`
	Roles     []string  `db:"roles"`
	Orgs      []string  `db:"orgs"`
	CreatedAt time.Time `db:"created_at"`
	ExpiresAt time.Time `db:"expires_at"`
}

func (r tokenRow) token() store.APIToken {
	return store.APIToken{
		ID:        r.ID,
		Hash:      r.Hash,
		Name:      r.Name,
		Subject:   r.Subject,
		TenantID:  r.TenantID,
		Roles:     r.Roles,
		Orgs:      r.Orgs,
		CreatedAt: r.CreatedAt,
		ExpiresAt: r.ExpiresAt,
	}
}

// DeleteBySubject finds the subject's tokens by filtering the scope's
// partition on subject (ALLOW FILTERING within one partition), a page at
// a time, and deletes each like Delete. Known shortcoming: it reads the
// whole partition, so its cost grows with the scope's tokens, not the
// subject's; an index table by subject would make it proportional, at the
// price of a third write per token. Expired tokens are skipped: the TTL
// removes them. An empty subject is refused rather than taken to mean the
// tokens that have none.
func (ts apiTokens) DeleteBySubject(ctx context.Context, tenantID, subject string) (int, error) {
	s := ts.s
	if err := checkTokenScope(tenantID); err != nil {
		return 0, err
	}
	if subject == "" {
		return 0, errs.Invalid("subject", "must not be empty")
	}
	if err := checkText("subject", subject); err != nil {
		return 0, err
	}
	scope := tokenScope(tenantID)
	const pageRows = 100
	var found []tokenRow
	after := ""
	for {
		iter := s.query(ctx, s.q.tokenListBySubject).Bind(scope, after, subject, pageRows).
			Idempotent(true).Iter()
		var row tokenRow
		rows := 0
		for iter.StructScan(&row) {
			rows++
			after = row.ID
			if !ts.expired(row.token()) {
				found = append(found, row)
			}
			row = tokenRow{}
		}
		if err := iter.Close(); err != nil {
			return 0, ctxErr(ctx, err)
		}
		if rows < pageRows {
			break
		}
	}

	n := 0
	for _, row := range found {
		err := ts.remove(ctx, scope, row)
		switch {
		case err == nil:
			n++
		case errs.CodeOf(err) == errs.NotFound: // deleted meanwhile by another call
		default:
			return n, err
		}
	}
	return n, nil
}
