package scylla

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"math"
	"time"
	"unicode/utf8"

	"github.com/scylladb/gocqlx/v2"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
)

type users struct{ s *Store }

const (
	listUsers    = "users"
	listOrgUsers = "orgusers"
)

// normalizeUser folds the unique fields and checks the user. Text is
// checked for UTF-8 before folding: strings.ToLower would turn invalid
// bytes into U+FFFD and hide them.
func normalizeUser(u store.User) (store.User, error) {
	if !utf8.ValidString(u.Username) {
		return u, errs.Invalid("username", "must be valid UTF-8")
	}
	if !utf8.ValidString(u.Email) {
		return u, errs.Invalid("email", "must be valid UTF-8")
	}
	u.Username = fold(u.Username)
	u.Email = fold(u.Email)
	if err := checkID("tenantId", u.TenantID); err != nil {
		return u, err
	}
	if err := checkID("id", u.ID); err != nil {
		return u, err
	}
	if err := checkKey("username", u.Username); err != nil {
		return u, err
	}
	if u.Email != "" {
		if err := checkKey("email", u.Email); err != nil {
			return u, err
		}
	}
	if err := checkText("displayName", u.DisplayName); err != nil {
		return u, err
	}
	if err := checkPhone(u.Phone); err != nil {
		return u, err
	}
	if u.OrgID != "" {
		if err := checkID("orgId", u.OrgID); err != nil {
			return u, err
		}
	}
	if err := checkProfile(u); err != nil {
		return u, err
	}
	// What the store returns is what it reads back: a copy, empty as nil.
	u.Attributes, u.Preferences = maps.Clone(u.Attributes), maps.Clone(u.Preferences)
	if len(u.Attributes) == 0 {
		u.Attributes = nil
	}
	if len(u.Preferences) == 0 {
		u.Preferences = nil
	}
	return u, checkStatus(u.Status)
}

// Bounds of the profile fields that package store leaves to backends.
// Every backend has the same ones; storetest checks them.
const (
	maxLocaleLen    = 64  // bytes; BCP 47 tags in use are far shorter
	maxPrefKeyLen   = 64  // bytes, non-empty
	maxPrefValueLen = 256 // bytes
)

// checkProfile checks the profile fields of u: attributes that JSON keeps
// exactly, within store.MaxAttributesBytes, a bounded locale and bounded
// preferences.
func checkProfile(u store.User) error {
	if _, err := encodeAttributes(u.Attributes); err != nil {
		return err
	}
	if len(u.Locale) > maxLocaleLen || !utf8.ValidString(u.Locale) {
		return errs.Invalid("locale", "must be UTF-8 text of at most %d bytes", maxLocaleLen)
	}
	if len(u.Preferences) > store.MaxPreferences {
		return errs.Invalid("preferences", "must hold at most %d entries", store.MaxPreferences)
	}
	for k, v := range u.Preferences {
		if k == "" || len(k) > maxPrefKeyLen || !utf8.ValidString(k) {
			return errs.Invalid("preferences", "keys must be UTF-8 text of 1 to %d bytes",
				maxPrefKeyLen)
		}
		if len(v) > maxPrefValueLen || !utf8.ValidString(v) {
			return errs.Invalid("preferences", "values must be UTF-8 text of at most %d bytes",
				maxPrefValueLen)
		}
	}
	return nil
}

// encodeAttributes returns the JSON kept in the attributes column ("" for
// none). It refuses attributes that would not read back as given: a value
// of another type (an int would come back as a float64), a number JSON
// cannot hold, or text that is not UTF-8 (JSON would replace it).
func encodeAttributes(attrs map[string]any) (string, error) {
	if len(attrs) == 0 {
		return "", nil
	}
	for k, v := range attrs {
		if !utf8.ValidString(k) {
			return "", errs.Invalid("attributes", "names must be valid UTF-8")
		}
		switch v := v.(type) {
		case string:
			if !utf8.ValidString(v) {
				return "", errs.Invalid("attributes", "values must be valid UTF-8")
			}
		case float64:
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return "", errs.Invalid("attributes", "numbers must be finite")
			}
		case bool:
		default:
			return "", errs.Invalid("attributes",
				"values must be strings, float64 numbers or booleans")
		}
	}
	b, err := json.Marshal(attrs)
	if err != nil {
		return "", errs.Invalid("attributes", "must encode as JSON")
	}
	if len(b) > store.MaxAttributesBytes {
		return "", errs.Invalid("attributes", "must be at most %d bytes as JSON",
			store.MaxAttributesBytes)
	}
	return string(b), nil
}

// userRow is a row of the users table. Columns added by later migrations
// are null in older rows and read back empty.
type userRow struct {
	TenantID      string            `db:"tenant_id"`
	ID            string            `db:"id"`
	Username      string            `db:"username"`
	Email         string            `db:"email"`
	EmailVerified bool              `db:"email_verified"`
	Phone         string            `db:"phone"`
	PhoneVerified bool              `db:"phone_verified"`
	DisplayName   string            `db:"display_name"`
	Status        string            `db:"status"`
	OrgID         string            `db:"org_id"`
	Attributes    string            `db:"attributes"`
	Locale        string            `db:"locale"`
	Preferences   map[string]string `db:"preferences"`
	CreatedAt     time.Time         `db:"created_at"`
	UpdatedAt     time.Time         `db:"updated_at"`
	Version       int64             `db:"version"`
}

func (r userRow) user() (store.User, error) {
	u := store.User{
		ID: r.ID, TenantID: r.TenantID, Username: r.Username, Email: r.Email,
		EmailVerified: r.EmailVerified, Phone: r.Phone, PhoneVerified: r.PhoneVerified,
		DisplayName: r.DisplayName, Status: store.UserStatus(r.Status), OrgID: r.OrgID,
		Locale: r.Locale, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, Version: r.Version,
	}
	if len(r.Preferences) > 0 {
		u.Preferences = r.Preferences
	}
	if r.Attributes != "" {
		if err := json.Unmarshal([]byte(r.Attributes), &u.Attributes); err != nil {
			return store.User{}, unavailable(err)
		}
	}
	return u, nil
}

// userArgs are u's values in the order of userCols.
func userArgs(u store.User, attrs string) []any {
	return []any{u.TenantID, u.ID, u.Username, u.Email, u.EmailVerified, u.Phone,
		u.PhoneVerified, u.DisplayName, string(u.Status), u.OrgID, attrs, u.Locale,
		u.Preferences, u.CreatedAt, u.UpdatedAt, u.Version}
}

// checkOrg checks, before a write, that a user's new organization exists
// in the tenant. The write is checked again after it lands (orgStillThere),
// against an organization deleted meanwhile; see organizations.go.
func (us users) checkOrg(ctx context.Context, u store.User, old *store.User) error {
	if u.OrgID == "" || (old != nil && old.OrgID == u.OrgID) {
		return nil
	}
	_, err := organizations{us.s}.get(ctx, u.TenantID, u.OrgID)
	if errs.CodeOf(err) == errs.NotFound {
		return errNoOrg()
	}
	return err
}

func errNoOrg() error { return errs.Invalid("orgId", "names no organization of the tenant") }

// orgStillThere reports, after a write that put u into a new organization,
// whether that organization still exists and is not being deleted.
func (us users) orgStillThere(ctx context.Context, u store.User, old *store.User) (bool,
	error) {
	if u.OrgID == "" || (old != nil && old.OrgID == u.OrgID) {
		return true, nil
	}
	return organizations{us.s}.usable(ctx, u.TenantID, u.OrgID)
}

// claims of one user, so that failures release what was taken.
type heldClaim struct {
	kind  claimKind
	value string
}

// claimUser takes the username and, when set, the email for u. It returns
// the claims this call wrote, which the caller releases if its write fails.
// With old set, values equal to old's are already held and are skipped.
func (us users) claimUser(ctx context.Context, u store.User, old *store.User) (
	[]heldClaim, error) {
	s := us.s
	var taken []heldClaim
	undo := func() {
		for _, c := range taken {
			s.release(ctx, c.kind, u.TenantID, c.value, u.ID)
		}
	}
	want := []heldClaim{{claimUsername, u.Username}}
	if u.Email != "" {
		want = append(want, heldClaim{claimEmail, u.Email})
	}
	for _, c := range want {
		if old != nil && c.value == valueOf(*old, c.kind) {
			continue
		}
		ok, err := s.acquire(ctx, c.kind, u.TenantID, c.value, u.ID, us.holds(u.TenantID, c))
		if err != nil {
			undo()
			if errors.Is(err, errClaimTaken) {
				if c.kind == claimUsername {
					return nil, conflict("username", "username already taken")
				}
				return nil, conflict("email", "email already taken")
			}
			return nil, ctxErr(ctx, err)
		}
		if ok {
			taken = append(taken, c)
		}
	}
	return taken, nil
}

func valueOf(u store.User, kind claimKind) string {
	if kind == claimUsername {
		return u.Username
	}
	return u.Email
}

// holds reports whether the claim's owner still has the claimed value.
func (us users) holds(tenantID string, c heldClaim) holdsFunc {
	return func(ctx context.Context, owner string) (bool, error) {
		u, err := us.get(ctx, tenantID, owner)
		if errs.CodeOf(err) == errs.NotFound {
			return false, nil
		}
		return err == nil && valueOf(u, c.kind) == c.value, err
	}
}

func (us users) Create(ctx context.Context, u store.User) (store.User, error) {
	s := us.s
	u, err := normalizeUser(u)
	if err != nil {
		return store.User{}, err
	}
	u.CreatedAt, u.UpdatedAt = dbTime(u.CreatedAt), dbTime(u.UpdatedAt)
	u.Version = 1
	if err := us.checkOrg(ctx, u, nil); err != nil {
		return store.User{}, err
	}

	attrs, _ := encodeAttributes(u.Attributes) // checked by normalizeUser

	taken, err := us.claimUser(ctx, u, nil)
	if err != nil {
		return store.User{}, err
	}
	applied, err := s.query(ctx, s.q.userInsert).Bind(userArgs(u, attrs)...).ExecCASRelease()
	if err != nil {
		if landed, serr := s.settle(ctx, err, us.holdsState(u)); serr == nil && landed {
			applied, err = true, nil
		}
	}
	if err != nil || !applied {
		for _, c := range taken {
			s.release(ctx, c.kind, u.TenantID, c.value, u.ID)
		}
		if err != nil {
			return store.User{}, ctxErr(ctx, err)
		}
		return store.User{}, conflict("id", "user ID already taken")
	}
	if ok, err := us.orgStillThere(ctx, u, nil); err != nil || !ok {
		// The organization went while the user was written: the user goes
		// too, whatever the caller's context, since the create is refused.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.Timeout)
		defer cancel()
		if derr := us.Delete(dctx, u.TenantID, u.ID); derr != nil {
			s.log.Error("undoing a user created in a deleted organization failed", "err", derr)
		}
		if err != nil {
			return store.User{}, err
		}
		return store.User{}, errNoOrg()
	}
	return u, nil
}

func (us users) Get(ctx context.Context, tenantID, id string) (store.User, error) {
	if err := checkID("tenantId", tenantID); err != nil {
		return store.User{}, err
	}
	if err := checkID("id", id); err != nil {
		return store.User{}, err
	}
	return us.get(ctx, tenantID, id)
}

// holdsState reports, at serial consistency, whether the stored user is
// exactly want.
func (us users) holdsState(want store.User) func(context.Context) (bool, error) {
	return func(ctx context.Context) (bool, error) {
		got, err := us.getSerial(ctx, want.TenantID, want.ID)
		if errs.CodeOf(err) == errs.NotFound {
			return false, nil
		}
		return err == nil && sameUser(got, want), err
	}
}

// gone reports, at serial consistency, whether the user no longer exists.
func (us users) gone(tenantID, id string) func(context.Context) (bool, error) {
	return func(ctx context.Context) (bool, error) {
		_, err := us.getSerial(ctx, tenantID, id)
		if errs.CodeOf(err) == errs.NotFound {
			return true, nil
		}
		return false, err
	}
}

func sameUser(a, b store.User) bool {
	aAttrs, aErr := encodeAttributes(a.Attributes)
	bAttrs, bErr := encodeAttributes(b.Attributes)
	return a.ID == b.ID && a.TenantID == b.TenantID && a.Username == b.Username &&
		a.Email == b.Email && a.EmailVerified == b.EmailVerified && a.Phone == b.Phone &&
		a.PhoneVerified == b.PhoneVerified && a.DisplayName == b.DisplayName &&
		a.Status == b.Status && a.OrgID == b.OrgID &&
		aErr == nil && bErr == nil && aAttrs == bAttrs && a.Locale == b.Locale &&
		maps.Equal(a.Preferences, b.Preferences) &&
		a.CreatedAt.Equal(b.CreatedAt) && a.UpdatedAt.Equal(b.UpdatedAt) &&
		a.Version == b.Version
}

func (us users) getSerial(ctx context.Context, tenantID, id string) (store.User, error) {
	var row userRow
	err := serial(us.s.query(ctx, us.s.q.userGet)).Bind(tenantID, id).GetRelease(&row)
	if isNotFound(err) {
		return store.User{}, notFound("user")
	}
	if err != nil {
		return store.User{}, err
	}
	return row.user()
}

func (us users) get(ctx context.Context, tenantID, id string) (store.User, error) {
	var row userRow
	err := us.s.query(ctx, us.s.q.userGet).Bind(tenantID, id).Idempotent(true).GetRelease(&row)
	if isNotFound(err) {
		return store.User{}, notFound("user")
	}
	if err != nil {
		return store.User{}, ctxErr(ctx, err)
	}
	return row.user()
}

func (us users) GetByUsername(ctx context.Context, tenantID, username string) (store.User, error) {
	return us.getByClaim(ctx, tenantID, claimUsername, "username", username)
}

func (us users) GetByEmail(ctx context.Context, tenantID, email string) (store.User, error) {
	return us.getByClaim(ctx, tenantID, claimEmail, "email", email)
}

// getByClaim follows a claim to its user and checks that the user still has
// the value (a claim may outlive a failed write).
func (us users) getByClaim(ctx context.Context, tenantID string, kind claimKind, field,
	value string) (store.User, error) {
	if err := checkID("tenantId", tenantID); err != nil {
		return store.User{}, err
	}
	if !utf8.ValidString(value) { // no user can have such a value
		return store.User{}, notFound("user")
	}
	value = fold(value)
	if checkKey(field, value) != nil {
		return store.User{}, notFound("user")
	}
	owner, err := us.s.lookupClaim(ctx, kind, tenantID, value)
	if err != nil {
		return store.User{}, ctxErr(ctx, err)
	}
	if owner == "" {
		return store.User{}, notFound("user")
	}
	u, err := us.get(ctx, tenantID, owner)
	if err != nil {
		return store.User{}, err
	}
	if valueOf(u, kind) != value {
		return store.User{}, notFound("user")
	}
	return u, nil
}

func (us users) List(ctx context.Context, tenantID string, p store.Page) ([]store.User, string,
	error) {
	if err := checkID("tenantId", tenantID); err != nil {
		return nil, "", err
	}
	limit, err := pageLimit(p)
	if err != nil {
		return nil, "", err
	}
	after, err := decodeCursor(p.After, listUsers, tenantID)
	if err != nil {
		return nil, "", err
	}
	iter := us.s.query(ctx, us.s.q.userList).Bind(tenantID, after, limit+1).
		Idempotent(true).Iter()
	items, more, err := scanUsers(ctx, iter, limit)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if more {
		next = encodeCursor(listUsers, tenantID, items[len(items)-1].ID)
	}
	return items, next, nil
}

// ListByOrg filters the tenant's partition on org_id (ALLOW FILTERING
// within one partition). Known shortcoming: a page costs a read of the
// tenant's users up to the page's last match, so listing a small
// organization of a large tenant reads much of the tenant; an index table
// by organization would make it proportional to the page.
func (us users) ListByOrg(ctx context.Context, tenantID, orgID string,
	p store.Page) ([]store.User, string, error) {
	if err := checkID("tenantId", tenantID); err != nil {
		return nil, "", err
	}
	if err := checkID("orgId", orgID); err != nil {
		return nil, "", err
	}
	limit, err := pageLimit(p)
	if err != nil {
		return nil, "", err
	}
	scope := tenantID + "/" + orgID
	after, err := decodeCursor(p.After, listOrgUsers, scope)
	if err != nil {
		return nil, "", err
	}
	iter := us.s.query(ctx, us.s.q.userListByOrg).Bind(tenantID, after, orgID, limit+1).
		Idempotent(true).Iter()
	items, more, err := scanUsers(ctx, iter, limit)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if more {
		next = encodeCursor(listOrgUsers, scope, items[len(items)-1].ID)
	}
	return items, next, nil
}

// scanUsers reads up to limit users of iter and whether there are more.
func scanUsers(ctx context.Context, iter *gocqlx.Iterx, limit int) ([]store.User, bool,
	error) {
	items := make([]store.User, 0, limit)
	var row userRow
	more := false
	for iter.StructScan(&row) {
		if len(items) == limit {
			more = true
			break
		}
		u, err := row.user()
		if err != nil {
			_ = iter.Close()
			return nil, false, err
		}
		items = append(items, u)
		row = userRow{}
	}
	if err := iter.Close(); err != nil {
		return nil, false, ctxErr(ctx, err)
	}
	return items, more, nil
}

// Update runs fn on the current user and writes the result if the version
// has not moved, after claiming a changed username or email; a lost race
// releases those claims and retries. Old values are released after the
// write.
func (us users) Update(ctx context.Context, tenantID, id string,
	fn func(store.User) (store.User, error)) (store.User, error) {
	s := us.s
	if err := checkID("tenantId", tenantID); err != nil {
		return store.User{}, err
	}
	if err := checkID("id", id); err != nil {
		return store.User{}, err
	}
	for attempt := range maxCASAttempts {
		backoff(ctx, attempt)
		old, err := us.get(ctx, tenantID, id)
		if err != nil {
			return store.User{}, err
		}
		next, err := fn(old)
		if err != nil {
			return store.User{}, err
		}
		next.ID, next.TenantID, next.CreatedAt = old.ID, old.TenantID, old.CreatedAt
		if next, err = normalizeUser(next); err != nil {
			return store.User{}, err
		}
		next.UpdatedAt = dbTime(next.UpdatedAt)
		next.Version = old.Version + 1
		if err := us.checkOrg(ctx, next, &old); err != nil {
			return store.User{}, err
		}

		taken, err := us.claimUser(ctx, next, &old)
		if err != nil {
			return store.User{}, err
		}
		var prev struct {
			Version *int64 `db:"version"`
		}
		attrs, _ := encodeAttributes(next.Attributes) // checked by normalizeUser
		applied, err := s.query(ctx, s.q.userUpdate).
			Bind(next.Username, next.Email, next.EmailVerified, next.Phone, next.PhoneVerified,
				next.DisplayName, string(next.Status), next.OrgID, attrs, next.Locale,
				next.Preferences, next.UpdatedAt, next.Version, tenantID, id, old.Version).
			GetCASRelease(&prev)
		retry := false
		if err != nil {
			applied, err = s.settle(ctx, err, us.holdsState(next))
			retry = err == nil && !applied
		}
		if err != nil || !applied {
			for _, c := range taken {
				s.release(ctx, c.kind, tenantID, c.value, id)
			}
			switch {
			case err != nil:
				return store.User{}, ctxErr(ctx, err)
			case retry:
				continue // read again: the user may be gone or changed
			case prev.Version == nil:
				return store.User{}, notFound("user")
			}
			continue
		}
		if old.Username != next.Username {
			s.release(ctx, claimUsername, tenantID, old.Username, id)
		}
		if old.Email != "" && old.Email != next.Email {
			s.release(ctx, claimEmail, tenantID, old.Email, id)
		}
		if ok, err := us.orgStillThere(ctx, next, &old); err != nil || !ok {
			us.undoMove(ctx, next, old.OrgID)
			if err != nil {
				return store.User{}, err
			}
			return store.User{}, errNoOrg()
		}
		return next, nil
	}
	return store.User{}, errs.New(errs.Conflict, "user changed concurrently; try again")
}

// undoMove puts a user moved into an organization that went meanwhile
// back into the organization it came from (or to tenant level when that
// one went too), unless the user has changed again since.
func (us users) undoMove(ctx context.Context, moved store.User, from string) {
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), us.s.cfg.Timeout)
	defer cancel()
	errStale := errs.New(errs.Conflict, "changed since the move")
	_, err := us.Update(dctx, moved.TenantID, moved.ID, func(u store.User) (store.User, error) {
		if u.Version != moved.Version {
			return u, errStale
		}
		u.OrgID = from
		if from != "" {
			if ok, err := (organizations{us.s}).usable(dctx, u.TenantID, from); err != nil || !ok {
				u.OrgID = ""
			}
		}
		return u, nil
	})
	if err != nil && !errors.Is(err, errStale) {
		us.s.log.Error("undoing a move into a deleted organization failed", "err", err)
	}
}

// Delete removes the user, then its credentials and group memberships,
// then frees its username and email. Credentials and memberships cannot
// go in the user's lightweight transaction (other tables), so they are
// deleted right after it; if that fails, Delete reports the failure, and a
// Delete of the then missing user deletes them before it reports
// ErrNotFound, so a retry cleans up.
func (us users) Delete(ctx context.Context, tenantID, id string) error {
	s := us.s
	if err := checkID("tenantId", tenantID); err != nil {
		return err
	}
	if err := checkID("id", id); err != nil {
		return err
	}
	for attempt := range maxCASAttempts {
		backoff(ctx, attempt)
		old, err := us.get(ctx, tenantID, id)
		if errs.CodeOf(err) == errs.NotFound {
			if err := s.deleteCredentials(ctx, tenantID, id); err != nil {
				return err
			}
			if err := s.deleteMemberships(ctx, tenantID, id); err != nil {
				return err
			}
			return notFound("user")
		}
		if err != nil {
			return err
		}
		var prev struct {
			Version *int64 `db:"version"`
		}
		applied, err := s.query(ctx, s.q.userDelete).Bind(tenantID, id, old.Version).
			GetCASRelease(&prev)
		if err != nil {
			if applied, err = s.settle(ctx, err, us.gone(tenantID, id)); err != nil {
				return ctxErr(ctx, err)
			}
			if !applied {
				continue
			}
		}
		if applied {
			cerr := s.deleteCredentials(ctx, tenantID, id)
			s.release(ctx, claimUsername, tenantID, old.Username, id)
			if old.Email != "" {
				s.release(ctx, claimEmail, tenantID, old.Email, id)
			}
			// Memberships go after the user, like credentials; see groups.go.
			merr := s.deleteMemberships(ctx, tenantID, id)
			if cerr != nil {
				return cerr
			}
			return merr
		}
		if prev.Version == nil {
			if err := s.deleteCredentials(ctx, tenantID, id); err != nil {
				return err
			}
			if err := s.deleteMemberships(ctx, tenantID, id); err != nil {
				return err
			}
			return notFound("user")
		}
	}
	return errs.New(errs.Conflict, "user changed concurrently; try again")
}

// Count reads the tenant's whole partition: cheap for the tenant sizes one
// partition is meant for, and exact.
func (us users) Count(ctx context.Context, tenantID string) (int, error) {
	if err := checkID("tenantId", tenantID); err != nil {
		return 0, err
	}
	var n int64
	err := us.s.query(ctx, us.s.q.userCount).Bind(tenantID).Idempotent(true).GetRelease(&n)
	if err != nil {
		return 0, ctxErr(ctx, err)
	}
	return int(n), nil
}
