package store

import (
	"context"
	"regexp"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/wardhq/ward/shared/errs"
)

// Session is the durable record of a signed-in user's session. The
// session service keeps a copy in the cache for validation; this record is
// what survives the loss of the cache. The token itself is never stored:
// TokenHash is the hex SHA-256 of it.
type Session struct {
	ID       string `json:"id"` // a version-7 UUID
	TenantID string `json:"tenantId"`
	UserID   string `json:"userId"`
	// TokenHash is the lower-case hex SHA-256 of the session token;
	// unique across all tenants.
	TokenHash string `json:"tokenHash"`
	// ACR is the authentication context class the session reached
	// (ACRPassword, ACRMultiFactor); AMR the methods used (RFC 8176
	// values), and AuthTime when the user last signed in at that class.
	ACR      string    `json:"acr"`
	AMR      []string  `json:"amr,omitempty"`
	AuthTime time.Time `json:"authTime"`
	// CreatedAt is the sign-in; LastSeenAt the last use the service
	// recorded (it writes it at most about once a minute).
	CreatedAt  time.Time `json:"createdAt"`
	LastSeenAt time.Time `json:"lastSeenAt"`
	// IdleTimeout ends the session once it has not been seen for that
	// long: the session is gone from LastSeenAt + IdleTimeout on.
	IdleTimeout time.Duration `json:"idleTimeout"`
	// ExpiresAt is the absolute end of the session, whatever its use.
	ExpiresAt time.Time `json:"expiresAt"`
	// IP, UserAgent and DeviceID describe the client that signed in, as
	// the sign-in flow saw it; the store bounds them (see below).
	IP        string `json:"ip,omitempty"`
	UserAgent string `json:"userAgent,omitempty"`
	DeviceID  string `json:"deviceId,omitempty"`
	Version   int64  `json:"version"`
}

// IdleExpiresAt is when the session ends unless it is seen again.
func (s Session) IdleExpiresAt() time.Time { return s.LastSeenAt.Add(s.IdleTimeout) }

// EndsAt is the earlier of the idle and the absolute expiry.
func (s Session) EndsAt() time.Time {
	if idle := s.IdleExpiresAt(); idle.Before(s.ExpiresAt) {
		return idle
	}
	return s.ExpiresAt
}

// Expired reports whether the session is over at now: once now reaches
// the idle expiry or ExpiresAt.
func (s Session) Expired(now time.Time) bool { return !now.Before(s.EndsAt()) }

// Bounds of a session record, the same in every backend.
const (
	// MaxSessionLifetime bounds ExpiresAt - CreatedAt and IdleTimeout;
	// tenants allow at most 30 days (tenants.MaxSessionSeconds).
	MaxSessionLifetime = 30 * 24 * time.Hour
	MaxSessionACRBytes = 128 // ACR: 1 to 128 bytes
	MaxSessionAMR      = 16  // entries of AMR, each 1 to MaxSessionAMRBytes
	MaxSessionAMRBytes = 32
	MaxSessionIPBytes  = 64 // an IPv6 address with a zone fits
	// MaxUserAgentBytes bounds UserAgent; the session service truncates
	// longer ones before they reach the store, which refuses them.
	MaxUserAgentBytes = 512
	MaxDeviceIDBytes  = 128
)

// Sessions stores session records. Every method but GetByHash is scoped by
// tenant: a session of another tenant is ErrNotFound.
//
// A session is gone once the store's clock reaches its idle expiry
// (LastSeenAt + IdleTimeout) or ExpiresAt, whichever comes first: no
// method returns it or changes it from then on, and Get, GetByHash, Update
// and Delete are ErrNotFound for it. Backends delete gone sessions lazily
// (bolt: on the read that finds one and a few at a time on Create; ScyllaDB:
// rows carry a TTL that ends at ExpiresAt), but never return them.
//
// Create stores s with Version 1. IDs are version-7 UUIDs; TokenHash is a
// lower-case hex SHA-256, unique across tenants; ACR, AMR, IP, UserAgent
// and DeviceID are UTF-8 text within the bounds above; CreatedAt and
// LastSeenAt are set; IdleTimeout is positive; ExpiresAt is after
// CreatedAt, at most MaxSessionLifetime later and still in the future; so
// is IdleTimeout at most MaxSessionLifetime. Anything else is
// ErrInvalidArgument and writes nothing. A taken ID or TokenHash is
// ErrConflict and writes nothing (a gone session frees both).
//
// GetByHash finds a session by its token hash, in whatever tenant; an
// empty or malformed hash is ErrNotFound, like an unknown one.
//
// ListByUser lists the user's live sessions in ascending order of ID, with
// cursors bound to the tenant and the user (a cursor of another listing,
// tenant or user is ErrInvalidArgument), and the paging guarantees of
// Tenants.List.
//
// Update is compare-and-swap on Version like Tenants.Update; it may change
// ACR, AMR, AuthTime and LastSeenAt only (the rest of fn's result is
// ignored), within the bounds of Create. fn is not called for a gone
// session.
//
// Delete deletes one session; a missing or gone one is ErrNotFound (a gone
// one is deleted all the same).
//
// DeleteByUser deletes every session of the user in the tenant and
// returns the records it deleted, those past their expiry included, so
// that the caller can drop what it cached about them. A session created
// while it runs may survive it; calling it again removes it.
type Sessions interface {
	Create(ctx context.Context, s Session) (Session, error)
	Get(ctx context.Context, tenantID, id string) (Session, error)
	GetByHash(ctx context.Context, hash string) (Session, error)
	ListByUser(ctx context.Context, tenantID, userID string, p Page) (items []Session,
		next string, err error)
	Update(ctx context.Context, tenantID, id string,
		fn func(Session) (Session, error)) (Session, error)
	Delete(ctx context.Context, tenantID, id string) error
	DeleteByUser(ctx context.Context, tenantID, userID string) ([]Session, error)
}

var sessionHashRE = regexp.MustCompile(`^[0-9a-f]{64}$`)

// CheckSession checks the fields of a new session other than its IDs
// against the bounds of Sessions.Create, judging "in the future" by now,
// and returns it as backends keep it: times in UTC, they and IdleTimeout
// cut to the millisecond, AMR copied (nil when empty). Backends call it so
// that they all refuse the same input.
func CheckSession(s Session, now time.Time) (Session, error) {
	s = normalSession(s)
	if !sessionHashRE.MatchString(s.TokenHash) {
		return Session{}, errs.Invalid("tokenHash", "must be a lower-case hex SHA-256")
	}
	if err := CheckSessionChange(s); err != nil {
		return Session{}, err
	}
	for _, f := range []struct {
		field, value string
		max          int
	}{
		{"ip", s.IP, MaxSessionIPBytes},
		{"userAgent", s.UserAgent, MaxUserAgentBytes},
		{"deviceId", s.DeviceID, MaxDeviceIDBytes},
	} {
		if len(f.value) > f.max || !utf8.ValidString(f.value) {
			return Session{}, errs.Invalid(f.field, "must be UTF-8 text of at most %d bytes",
				f.max)
		}
	}
	switch {
	case s.CreatedAt.IsZero():
		return Session{}, errs.Invalid("createdAt", "is required")
	case s.IdleTimeout <= 0 || s.IdleTimeout > MaxSessionLifetime:
		return Session{}, errs.Invalid("idleTimeout", "must be positive and at most %v",
			MaxSessionLifetime)
	case !s.ExpiresAt.After(s.CreatedAt):
		return Session{}, errs.Invalid("expiresAt", "must be after createdAt")
	case s.ExpiresAt.Sub(s.CreatedAt) > MaxSessionLifetime:
		return Session{}, errs.Invalid("expiresAt", "must be at most %v after createdAt",
			MaxSessionLifetime)
	case !now.Before(s.ExpiresAt):
		return Session{}, errs.Invalid("expiresAt", "is already past")
	case s.ExpiresAt.Sub(now) > MaxSessionLifetime:
		return Session{}, errs.Invalid("expiresAt", "must be at most %v from now",
			MaxSessionLifetime)
	}
	return s, nil
}

// CheckSessionChange checks the fields Sessions.Update may change; s is
// taken as CheckSession or normalSession left it.
func CheckSessionChange(s Session) error {
	if s.ACR == "" || len(s.ACR) > MaxSessionACRBytes || !utf8.ValidString(s.ACR) {
		return errs.Invalid("acr", "must be UTF-8 text of 1 to %d bytes", MaxSessionACRBytes)
	}
	if len(s.AMR) > MaxSessionAMR {
		return errs.Invalid("amr", "must hold at most %d methods", MaxSessionAMR)
	}
	for _, m := range s.AMR {
		if m == "" || len(m) > MaxSessionAMRBytes || !utf8.ValidString(m) {
			return errs.Invalid("amr", "methods must be UTF-8 text of 1 to %d bytes",
				MaxSessionAMRBytes)
		}
	}
	switch {
	case s.AuthTime.IsZero():
		return errs.Invalid("authTime", "is required")
	case s.LastSeenAt.IsZero():
		return errs.Invalid("lastSeenAt", "is required")
	}
	return nil
}

// ChangeSession returns old with the fields Update may change taken from
// next, checked and normalised; backends call it on fn's result.
func ChangeSession(old, next Session) (Session, error) {
	n := normalSession(next)
	if err := CheckSessionChange(n); err != nil {
		return Session{}, err
	}
	old.ACR, old.AMR, old.AuthTime, old.LastSeenAt = n.ACR, n.AMR, n.AuthTime, n.LastSeenAt
	return old, nil
}

func normalSession(s Session) Session {
	ms := func(t time.Time) time.Time {
		if t.IsZero() {
			return time.Time{}
		}
		return t.UTC().Truncate(time.Millisecond)
	}
	s.AuthTime, s.CreatedAt, s.LastSeenAt = ms(s.AuthTime), ms(s.CreatedAt), ms(s.LastSeenAt)
	s.ExpiresAt = ms(s.ExpiresAt)
	s.IdleTimeout = s.IdleTimeout.Truncate(time.Millisecond)
	s.AMR = slices.Clone(s.AMR)
	if len(s.AMR) == 0 {
		s.AMR = nil
	}
	return s
}
