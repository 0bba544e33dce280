package bolt

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"maps"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"
	bbolt "go.etcd.io/bbolt"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
)

type users struct{ s *Store }

type userRec struct {
	Username    string `json:"un"`
	Email       string `json:"em,omitempty"`
	EmailOK     bool   `json:"ev,omitempty"`
	Phone       string `json:"ph,omitempty"`
	PhoneOK     bool   `json:"pv,omitempty"`
	DisplayName string `json:"dn,omitempty"`
	Status      string `json:"st,omitempty"`
	OrgID       string `json:"o,omitempty"`
	// Attributes are kept as the JSON object they encode to; records of
	// schema 4 and before have none.
	Attributes  map[string]any    `json:"at,omitempty"`
	Locale      string            `json:"lc,omitempty"`
	Preferences map[string]string `json:"pf,omitempty"`
	Created     int64             `json:"c"`
	Updated     int64             `json:"u"`
	Version     int64             `json:"v"`
}

func (r userRec) user(tenant, id uuid.UUID) store.User {
	return store.User{
		ID: id.String(), TenantID: tenant.String(), Username: r.Username, Email: r.Email,
		EmailVerified: r.EmailOK, Phone: r.Phone, PhoneVerified: r.PhoneOK,
		DisplayName: r.DisplayName, Status: store.UserStatus(r.Status), OrgID: r.OrgID,
		Attributes: maps.Clone(r.Attributes), Locale: r.Locale,
		Preferences: maps.Clone(r.Preferences),
		CreatedAt:   fromMS(r.Created), UpdatedAt: fromMS(r.Updated), Version: r.Version,
	}
}

// userRecOf folds the username and email and checks the user's fields.
func userRecOf(u store.User) (userRec, error) {
	// Checked before folding: strings.ToLower would replace bytes that are
	// not UTF-8 and so hide them.
	if err := checkText("username", u.Username); err != nil {
		return userRec{}, err
	}
	if err := checkText("email", u.Email); err != nil {
		return userRec{}, err
	}
	rec := userRec{
		Username: strings.ToLower(u.Username), Email: strings.ToLower(u.Email),
		EmailOK: u.EmailVerified, Phone: u.Phone, PhoneOK: u.PhoneVerified,
		DisplayName: u.DisplayName, Status: string(u.Status), OrgID: u.OrgID,
		Created: toMS(u.CreatedAt), Updated: toMS(u.UpdatedAt), Version: u.Version,
	}
	if err := checkKey("username", rec.Username); err != nil {
		return userRec{}, err
	}
	if rec.Email != "" {
		if err := checkKey("email", rec.Email); err != nil {
			return userRec{}, err
		}
	}
	if err := checkText("displayName", rec.DisplayName); err != nil {
		return userRec{}, err
	}
	if err := checkPhone(rec.Phone); err != nil {
		return userRec{}, err
	}
	switch u.Status {
	case store.UserActive, store.UserLocked, store.UserDisabled, store.UserPending:
	default:
		return userRec{}, errs.Invalid("status", "must be ACTIVE, LOCKED, DISABLED or PENDING")
	}
	if u.OrgID != "" {
		if _, err := parseID("orgId", u.OrgID); err != nil {
			return userRec{}, err
		}
	}
	if err := checkProfile(u); err != nil {
		return userRec{}, err
	}
	rec.Attributes = maps.Clone(u.Attributes)
	if len(rec.Attributes) == 0 {
		rec.Attributes = nil
	}
	rec.Locale = u.Locale
	rec.Preferences = maps.Clone(u.Preferences)
	if len(rec.Preferences) == 0 {
		rec.Preferences = nil
	}
	return rec, nil
}

// Bounds of the profile fields that package store leaves to backends.
// Every backend has the same ones; storetest checks them.
const (
	maxLocaleLen    = 64  // bytes; BCP 47 tags in use are far shorter
	maxPrefKeyLen   = 64  // bytes, non-empty
	maxPrefValueLen = 256 // bytes
)

// checkProfile checks the profile fields of u: attributes that JSON keeps
// exactly (string, finite float64 and bool values, UTF-8 text) within
// store.MaxAttributesBytes, a bounded locale and bounded preferences.
func checkProfile(u store.User) error {
	if err := checkAttributes(u.Attributes); err != nil {
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

// checkAttributes refuses attributes that would not read back as given:
// a value of another type (an int would come back as a float64), a number
// JSON cannot hold, or text that is not UTF-8 (JSON would replace it).
func checkAttributes(attrs map[string]any) error {
	if len(attrs) == 0 {
		return nil
	}
	for k, v := range attrs {
		if !utf8.ValidString(k) {
			return errs.Invalid("attributes", "names must be valid UTF-8")
		}
		switch v := v.(type) {
		case string:
			if !utf8.ValidString(v) {
				return errs.Invalid("attributes", "values must be valid UTF-8")
			}
		case float64:
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return errs.Invalid("attributes", "numbers must be finite")
			}
		case bool:
		default:
			return errs.Invalid("attributes", "values must be strings, float64 numbers or booleans")
		}
	}
	b, err := json.Marshal(attrs)
	if err != nil {
		return errs.Invalid("attributes", "must encode as JSON")
	}
	if len(b) > store.MaxAttributesBytes {
		return errs.Invalid("attributes", "must be at most %d bytes as JSON",
			store.MaxAttributesBytes)
	}
	return nil
}

// moveOrg moves user id's entry in the organization index from the
// organization of old to that of rec, checking that the new one exists in
// the tenant; the check and the move share the caller's transaction, so an
// organization cannot be deleted in between.
func moveOrg(tx *bbolt.Tx, tenant, id uuid.UUID, old, rec userRec) error {
	if old.OrgID == rec.OrgID {
		return nil
	}
	b := tx.Bucket(bucketOrgUsers)
	if old.OrgID != "" {
		org := uuid.MustParse(old.OrgID)
		if err := b.Delete(join(tenant[:], org[:], id[:])); err != nil {
			return err
		}
	}
	if rec.OrgID == "" {
		return nil
	}
	org := uuid.MustParse(rec.OrgID)
	if _, ok, err := getOrg(tx, tenant, org); err != nil || !ok {
		if err != nil {
			return err
		}
		return errs.Invalid("orgId", "names no organization of the tenant")
	}
	return b.Put(join(tenant[:], org[:], id[:]), nil)
}

func parseUserIDs(tenantID, id string) (tenant, uid uuid.UUID, err error) {
	if tenant, err = parseID("tenantId", tenantID); err != nil {
		return tenant, uid, err
	}
	uid, err = parseID("id", id)
	return tenant, uid, err
}

func getUser(tx *bbolt.Tx, tenant, id uuid.UUID) (rec userRec, ok bool, err error) {
	v := tx.Bucket(bucketUsers).Get(join(tenant[:], id[:]))
	if v == nil {
		return userRec{}, false, nil
	}
	err = decode(v, &rec)
	return rec, err == nil, err
}

func (us users) Create(ctx context.Context, u store.User) (store.User, error) {
	tenant, id, err := parseUserIDs(u.TenantID, u.ID)
	if err != nil {
		return store.User{}, err
	}
	rec, err := userRecOf(u)
	if err != nil {
		return store.User{}, err
	}
	rec.Version = 1

	err = us.s.update(ctx, func(tx *bbolt.Tx) error {
		if _, ok, err := getUser(tx, tenant, id); err != nil || ok {
			if err != nil {
				return err
			}
			return conflict("id", "a user with this ID exists")
		}
		if err := claimNames(tx, tenant, id, userRec{}, rec); err != nil {
			return err
		}
		if err := moveOrg(tx, tenant, id, userRec{}, rec); err != nil {
			return err
		}
		if err := tx.Bucket(bucketUsers).Put(join(tenant[:], id[:]), encode(rec)); err != nil {
			return err
		}
		return addCount(tx, tenant, 1)
	})
	if err != nil {
		return store.User{}, err
	}
	return rec.user(tenant, id), nil
}

// claimNames moves the username and email index entries of user id from
// those of old to those of rec, or fails with ErrConflict when one of the
// new ones is taken. The caller's transaction rolls back on error.
func claimNames(tx *bbolt.Tx, tenant, id uuid.UUID, old, rec userRec) error {
	names, emails := tx.Bucket(bucketUserNames), tx.Bucket(bucketUserEmails)
	err := moveName(names, tenant, id, old.Username, rec.Username)
	if errors.Is(err, errTaken) {
		return conflict("username", "the username is taken")
	}
	if err != nil {
		return err
	}
	err = moveName(emails, tenant, id, old.Email, rec.Email)
	if errors.Is(err, errTaken) {
		return conflict("email", "the email is taken")
	}
	return err
}

var errTaken = errors.New("name taken")

// moveName moves the entry of user id in index from name from to name to;
// an empty name has no entry. It fails with errTaken when to is taken.
func moveName(index *bbolt.Bucket, tenant, id uuid.UUID, from, to string) error {
	if from == to {
		return nil
	}
	if to != "" && index.Get(join(tenant[:], []byte(to))) != nil {
		return errTaken
	}
	if from != "" {
		if err := index.Delete(join(tenant[:], []byte(from))); err != nil {
			return err
		}
	}
	if to != "" {
		return index.Put(join(tenant[:], []byte(to)), id[:])
	}
	return nil
}

// addCount adds d to the user count of a tenant.
func addCount(tx *bbolt.Tx, tenant uuid.UUID, d int64) error {
	b := tx.Bucket(bucketUserCounts)
	var n uint64
	if v := b.Get(tenant[:]); len(v) == 8 {
		n = binary.BigEndian.Uint64(v)
	}
	n = uint64(int64(n) + d)
	if n == 0 {
		return b.Delete(tenant[:])
	}
	return b.Put(tenant[:], binary.BigEndian.AppendUint64(nil, n))
}

func (us users) Get(ctx context.Context, tenantID, id string) (store.User, error) {
	tenant, uid, err := parseUserIDs(tenantID, id)
	if err != nil {
		return store.User{}, err
	}
	return us.get(ctx, tenant, uid)
}

func (us users) get(ctx context.Context, tenant, id uuid.UUID) (store.User, error) {
	var out store.User
	err := us.s.view(ctx, func(tx *bbolt.Tx) error {
		rec, ok, err := getUser(tx, tenant, id)
		if err != nil {
			return err
		}
		if !ok {
			return notFound("user")
		}
		out = rec.user(tenant, id)
		return nil
	})
	return out, err
}

func (us users) GetByUsername(ctx context.Context, tenantID, username string) (store.User, error) {
	return us.getBy(ctx, tenantID, bucketUserNames, username)
}

func (us users) GetByEmail(ctx context.Context, tenantID, email string) (store.User, error) {
	return us.getBy(ctx, tenantID, bucketUserEmails, email)
}

// getBy looks a user up through an index of folded names.
func (us users) getBy(ctx context.Context, tenantID string, index []byte,
	name string) (store.User, error) {
	tenant, err := parseID("tenantId", tenantID)
	if err != nil {
		return store.User{}, err
	}
	name = strings.ToLower(name)

	var out store.User
	err = us.s.view(ctx, func(tx *bbolt.Tx) error {
		if name == "" {
			return notFound("user")
		}
		v := tx.Bucket(index).Get(join(tenant[:], []byte(name)))
		if v == nil {
			return notFound("user")
		}
		id, err := indexID(v)
		if err != nil {
			return err
		}
		rec, ok, err := getUser(tx, tenant, id)
		if err != nil {
			return err
		}
		if !ok {
			return errs.New(errs.Unavailable, "user index is out of step")
		}
		out = rec.user(tenant, id)
		return nil
	})
	return out, err
}

func (us users) List(ctx context.Context, tenantID string,
	p store.Page) ([]store.User, string, error) {
	tenant, err := parseID("tenantId", tenantID)
	if err != nil {
		return nil, "", err
	}
	limit, err := pageLimit(p)
	if err != nil {
		return nil, "", err
	}
	last, err := after(p.After, listUsers, tenant)
	if err != nil {
		return nil, "", err
	}

	var items []store.User
	err = us.s.view(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketUsers)
		return scan(b, tenant[:], last, func(id uuid.UUID, v []byte) (bool, error) {
			var rec userRec
			if err := decode(v, &rec); err != nil {
				return false, err
			}
			items = append(items, rec.user(tenant, id))
			return len(items) <= limit, nil
		})
	})
	if err != nil {
		return nil, "", err
	}
	return page(items, limit, listUsers, tenant, func(u store.User) string { return u.ID })
}

func (us users) Update(ctx context.Context, tenantID, id string,
	fn func(store.User) (store.User, error)) (store.User, error) {
	tenant, uid, err := parseUserIDs(tenantID, id)
	if err != nil {
		return store.User{}, err
	}

	for range maxUpdateAttempts {
		old, err := us.get(ctx, tenant, uid)
		if err != nil {
			return store.User{}, err
		}
		u, err := fn(old)
		if err != nil {
			return store.User{}, err
		}
		u.ID, u.TenantID, u.CreatedAt = old.ID, old.TenantID, old.CreatedAt
		u.Version = old.Version + 1
		rec, err := userRecOf(u)
		if err != nil {
			return store.User{}, err
		}

		err = us.s.update(ctx, func(tx *bbolt.Tx) error {
			cur, ok, err := getUser(tx, tenant, uid)
			switch {
			case err != nil:
				return err
			case !ok:
				return notFound("user")
			case cur.Version != old.Version:
				return errLostRace
			}
			if err := claimNames(tx, tenant, uid, cur, rec); err != nil {
				return err
			}
			if err := moveOrg(tx, tenant, uid, cur, rec); err != nil {
				return err
			}
			return tx.Bucket(bucketUsers).Put(join(tenant[:], uid[:]), encode(rec))
		})
		if errors.Is(err, errLostRace) {
			continue
		}
		if err != nil {
			return store.User{}, err
		}
		return rec.user(tenant, uid), nil
	}
	return store.User{}, errs.New(errs.Conflict, "user changed too often concurrently")
}

func (us users) Delete(ctx context.Context, tenantID, id string) error {
	tenant, uid, err := parseUserIDs(tenantID, id)
	if err != nil {
		return err
	}
	return us.s.update(ctx, func(tx *bbolt.Tx) error {
		rec, ok, err := getUser(tx, tenant, uid)
		if err != nil {
			return err
		}
		if !ok {
			return notFound("user")
		}
		if err := claimNames(tx, tenant, uid, rec, userRec{}); err != nil {
			return err
		}
		if err := moveOrg(tx, tenant, uid, rec, userRec{}); err != nil {
			return err
		}
		// So do the memberships: no group lists a user that is gone.
		if err := removeMemberships(tx, tenant, uid); err != nil {
			return err
		}
		if err := tx.Bucket(bucketUsers).Delete(join(tenant[:], uid[:])); err != nil {
			return err
		}
		// The credentials go in the same transaction: never a user without
		// its password, nor a password without its user.
		if err := tx.Bucket(bucketCredentials).Delete(join(tenant[:], uid[:])); err != nil {
			return err
		}
		if err := tx.Bucket(bucketSignIns).Delete(join(tenant[:], uid[:])); err != nil {
			return err
		}
		if _, err := deleteFactors(tx, tenant, uid); err != nil {
			return err
		}
		return addCount(tx, tenant, -1)
	})
}

func (us users) Count(ctx context.Context, tenantID string) (int, error) {
	tenant, err := parseID("tenantId", tenantID)
	if err != nil {
		return 0, err
	}
	var n uint64
	err = us.s.view(ctx, func(tx *bbolt.Tx) error {
		if v := tx.Bucket(bucketUserCounts).Get(tenant[:]); len(v) == 8 {
			n = binary.BigEndian.Uint64(v)
		}
		return nil
	})
	return int(n), err
}

func (us users) ListByOrg(ctx context.Context, tenantID, orgID string,
	p store.Page) ([]store.User, string, error) {
	tenant, err := parseID("tenantId", tenantID)
	if err != nil {
		return nil, "", err
	}
	org, err := parseID("orgId", orgID)
	if err != nil {
		return nil, "", err
	}
	limit, err := pageLimit(p)
	if err != nil {
		return nil, "", err
	}
	last, err := after(p.After, listOrgUsers, org)
	if err != nil {
		return nil, "", err
	}

	var items []store.User
	err = us.s.view(ctx, func(tx *bbolt.Tx) error {
		prefix := join(tenant[:], org[:])
		return scan(tx.Bucket(bucketOrgUsers), prefix, last, func(id uuid.UUID,
			_ []byte) (bool, error) {
			rec, ok, err := getUser(tx, tenant, id)
			if err != nil {
				return false, err
			}
			if !ok {
				return false, errs.New(errs.Unavailable, "organization index is out of step")
			}
			items = append(items, rec.user(tenant, id))
			return len(items) <= limit, nil
		})
	})
	if err != nil {
		return nil, "", err
	}
	return page(items, limit, listOrgUsers, org, func(u store.User) string { return u.ID })
}
