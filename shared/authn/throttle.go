package authn

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/wardhq/ward/shared/cache"
	"github.com/wardhq/ward/shared/errs"
)

// Brute-force protection, counted in the cache so that every instance of
// the function sees the same counts.
//
// Two subjects are counted: the account (tenant and folded login, whether
// or not such an account exists, so that an unknown login is treated
// exactly like a known one) and the client's network (its IPv4 address or
// IPv6 /64). Each failed password or code adds one. From the third failure
// in a row of an account, and the tenth of a network, the next attempt
// must wait a delay that doubles with each failure, up to maxDelay; at the
// account's lockout threshold (the tenant's, default 10) the account is
// locked for the tenant's lockout time, and at networkLockout failures the
// network is locked for networkLockoutTime. Failures are counted in fixed
// windows (the lockout time, at least networkWindow), so a client that
// waits out every delay still reaches a lock within a window. A success clears the account's
// count. Waiting and locked attempts are refused with RATE_LIMITED before
// any password is checked, and still counted as attempts (attempts keys).
//
// The delays are not slept on the server (a function must not idle for
// seconds): the refusal says when to come back, and a client that comes
// back sooner is refused again.
const (
	accountDelayFrom   = 3
	networkDelayFrom   = 10
	networkLockout     = 50
	networkLockoutTime = 15 * time.Minute
	networkWindow      = time.Hour
	maxDelay           = 30 * time.Second
)

type throttle struct {
	cache cache.Cache
	now   func() time.Time
}

// subject is one counted thing: its cache key stem, the failures that
// start the delays and lock it, and how long a lock and the counting
// window last.
type subject struct {
	key       string
	delayFrom int64
	lockAt    int64
	lockFor   time.Duration
}

func accountSubject(tenantID, login string, lockAt int, lockFor time.Duration) subject {
	sum := sha256.Sum256([]byte(strings.ToLower(login)))
	return subject{key: "authn:a:" + tenantID + ":" + hex.EncodeToString(sum[:16]),
		delayFrom: accountDelayFrom, lockAt: int64(lockAt), lockFor: lockFor}
}

// networkSubject counts an IPv4 address, or the /64 of an IPv6 address
// (one host usually holds a whole /64). No IP: nothing to count.
func networkSubject(ip string) (subject, bool) {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return subject{}, false
	}
	addr = addr.Unmap()
	key := addr.String()
	if addr.Is6() {
		p, _ := addr.Prefix(64)
		key = p.String()
	}
	return subject{key: "authn:n:" + key, delayFrom: networkDelayFrom, lockAt: networkLockout,
		lockFor: networkLockoutTime}, true
}

// rateLimited is the refusal of an attempt made too soon or while locked.
func rateLimited(wait time.Duration) error {
	secs := int(math.Ceil(wait.Seconds()))
	if secs < 1 {
		secs = 1
	}
	return errs.New(errs.RateLimited, "too many attempts; try again in %d seconds", secs)
}

// check refuses an attempt on any of subjects that is locked or waiting
// out a delay. It counts the attempt either way.
func (t *throttle) check(ctx context.Context, subjects ...subject) error {
	now := t.now()
	for _, s := range subjects {
		if _, err := t.cache.Incr(ctx, s.key+":tries", networkWindow); err != nil {
			return err
		}
		until, err := t.readTime(ctx, s.key+":lock")
		if err != nil {
			return err
		}
		if now.Before(until) {
			return rateLimited(until.Sub(now))
		}
		until, err = t.readTime(ctx, s.key+":wait")
		if err != nil {
			return err
		}
		if now.Before(until) {
			return rateLimited(until.Sub(now))
		}
	}
	return nil
}

// fail counts a failure of each subject, sets its next delay, and locks
// it at its threshold. It reports whether any subject became locked.
func (t *throttle) fail(ctx context.Context, subjects ...subject) (locked bool, err error) {
	now := t.now()
	for _, s := range subjects {
		window := s.lockFor
		if window < networkWindow {
			window = networkWindow
		}
		n, err := t.cache.Incr(ctx, s.key+":fails", window)
		if err != nil {
			return locked, err
		}
		if n >= s.lockAt {
			until := now.Add(s.lockFor)
			if err := t.writeTime(ctx, s.key+":lock", until, s.lockFor); err != nil {
				return locked, err
			}
			// The count starts again once the lock is over.
			if err := t.cache.Delete(ctx, s.key+":fails"); err != nil {
				return locked, err
			}
			locked = true
			continue
		}
		if n >= s.delayFrom {
			d := min(time.Second<<min(n-s.delayFrom, 8), maxDelay)
			if err := t.writeTime(ctx, s.key+":wait", now.Add(d), d); err != nil {
				return locked, err
			}
		}
	}
	return locked, nil
}

// failures reads a subject's current count of failures.
func (t *throttle) failures(ctx context.Context, s subject) (int64, error) {
	v, err := t.cache.Get(ctx, s.key+":fails")
	if errors.Is(err, cache.ErrMiss) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(string(v), 10, 64)
}

// succeed clears the counts of subjects (their failures and delays; a lock
// is not lifted by a success, which cannot happen while it holds).
func (t *throttle) succeed(ctx context.Context, subjects ...subject) error {
	for _, s := range subjects {
		if err := t.cache.Delete(ctx, s.key+":fails"); err != nil {
			return err
		}
		if err := t.cache.Delete(ctx, s.key+":wait"); err != nil {
			return err
		}
	}
	return nil
}

func (t *throttle) readTime(ctx context.Context, key string) (time.Time, error) {
	v, err := t.cache.Get(ctx, key)
	if errors.Is(err, cache.ErrMiss) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, err
	}
	ms, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil {
		return time.Time{}, errs.Wrap(errs.Unavailable, err, "corrupt throttle entry")
	}
	return time.UnixMilli(ms), nil
}

func (t *throttle) writeTime(ctx context.Context, key string, at time.Time, ttl time.Duration) error {
	return t.cache.Set(ctx, key, []byte(strconv.FormatInt(at.UnixMilli(), 10)), ttl)
}
