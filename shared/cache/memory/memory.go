// Package memory is the in-process backend of cache.Cache, on otter. It
// serves the local process (functions/local) and unit tests. It is shared by
// the goroutines of one process only: separate function instances each see
// their own, so deployments use cache/redis.
//
// Every entry carries its own expiry instant, read from the injected clock.
// Otter evicts expired entries on the same clock, and reads check the instant
// again themselves, so an entry is never seen past its expiry whether or not
// otter has removed it yet.
//
// Known shortcoming: the cache is bounded by MaxSize, and when full otter
// evicts live entries it judges cold. An evicted rate-limit counter starts
// over and an evicted SetNX guard can be won again, so size MaxSize well above
// the live keys a process can hold. (Redis has the same hazard under a
// maxmemory policy other than noeviction.)
package memory

import (
	"context"
	"errors"
	"math"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/maypok86/otter/v2"

	"github.com/wardhq/ward/shared/cache"
	"github.com/wardhq/ward/shared/errs"
)

// DefaultMaxSize is the bound on entries when Options.MaxSize is zero.
const DefaultMaxSize = 100_000

// Options configure a Cache. The zero value is ready to use.
type Options struct {
	// MaxSize bounds the number of entries; zero means DefaultMaxSize.
	MaxSize int
	// Now is the clock; nil means time.Now. Tests inject a fake one. With an
	// injected clock otter runs no periodic clean-up of its own: expired
	// entries are dropped during later writes instead.
	Now func() time.Time
}

// Cache is an in-process cache.Cache.
type Cache struct {
	now     func() time.Time
	entries *otter.Cache[string, entry]
	closed  atomic.Bool
}

var _ cache.Cache = (*Cache)(nil)

// entry is a stored value with the instant it expires at, on the Cache's
// clock. A value is never modified once stored: writes store a new entry.
type entry struct {
	value     []byte
	expiresAt time.Time
}

var errClosed = errors.New("memory cache is closed")

// New returns an empty Cache.
func New(opts Options) (*Cache, error) {
	if opts.MaxSize < 0 {
		return nil, errs.Invalid("MaxSize", "must not be negative")
	}
	if opts.MaxSize == 0 {
		opts.MaxSize = DefaultMaxSize
	}

	c := &Cache{now: opts.Now}
	o := &otter.Options[string, entry]{
		MaximumSize:      opts.MaxSize,
		ExpiryCalculator: otter.ExpiryWritingFunc(c.remaining),
	}
	if c.now == nil {
		c.now = time.Now
	} else {
		o.Clock = otterClock{now: c.now}
	}
	entries, err := otter.New(o)
	if err != nil {
		return nil, errs.Wrap(errs.Internal, err, "cannot create the memory cache")
	}
	c.entries = entries
	return c, nil
}

// remaining tells otter how long an entry it is writing has left. Writes
// that keep an expiry (a counter's later increments) store the entry with
// the old instant, so one rule serves creation and update alike.
func (c *Cache) remaining(e otter.Entry[string, entry]) time.Duration {
	return e.Value.expiresAt.Sub(c.now())
}

// otterClock shows otter the injected clock, so that otter expires entries
// when the clock says. Without ticks otter skips its periodic clean-up.
type otterClock struct {
	now func() time.Time
}

func (c otterClock) NowNano() int64                      { return c.now().UnixNano() }
func (c otterClock) Tick(time.Duration) <-chan time.Time { return nil }

// live reports whether e has not expired at now.
func live(e entry, now time.Time) bool {
	return now.Before(e.expiresAt)
}

// usable returns the error an operation must fail with before it starts:
// the cache is closed or the caller gave up.
func (c *Cache) usable(ctx context.Context) error {
	if c.closed.Load() {
		return errs.Wrap(errs.Unavailable, errClosed, "cache unavailable")
	}
	if err := ctx.Err(); err != nil {
		return errs.Wrap(errs.Unavailable, err, "cache unavailable")
	}
	return nil
}

func checkTTL(ttl time.Duration) error {
	if ttl <= 0 {
		return errs.Invalid("ttl", "must be positive")
	}
	return nil
}

// Get implements cache.Cache.
func (c *Cache) Get(ctx context.Context, key string) ([]byte, error) {
	if err := c.usable(ctx); err != nil {
		return nil, err
	}
	e, ok := c.entries.GetIfPresent(key)
	if !ok || !live(e, c.now()) {
		return nil, cache.ErrMiss
	}
	return clone(e.value), nil
}

// Set implements cache.Cache.
func (c *Cache) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := checkTTL(ttl); err != nil {
		return err
	}
	if err := c.usable(ctx); err != nil {
		return err
	}
	c.entries.Set(key, entry{value: clone(value), expiresAt: c.now().Add(ttl)})
	return nil
}

// Delete implements cache.Cache.
func (c *Cache) Delete(ctx context.Context, key string) error {
	if err := c.usable(ctx); err != nil {
		return err
	}
	c.entries.Invalidate(key)
	return nil
}

// GetDel implements cache.Cache. The read and the removal happen under
// otter's lock of the key, so one caller alone sees the value.
func (c *Cache) GetDel(ctx context.Context, key string) ([]byte, error) {
	if err := c.usable(ctx); err != nil {
		return nil, err
	}
	var (
		got []byte
		hit bool
	)
	c.entries.Compute(key, func(old entry, found bool) (entry, otter.ComputeOp) {
		got, hit = nil, false
		if !found {
			return old, otter.CancelOp
		}
		if live(old, c.now()) {
			got, hit = old.value, true
		}
		return old, otter.InvalidateOp
	})
	if !hit {
		return nil, cache.ErrMiss
	}
	// Concurrent Gets may still be copying the slice; the caller gets its own.
	return clone(got), nil
}

// Incr implements cache.Cache. Counters are stored as decimal text, as Redis
// stores them, and only the canonical form counts as an integer: the same
// values Redis refuses ("01", "+1", " 1", "") are refused here.
func (c *Cache) Incr(ctx context.Context, key string, ttl time.Duration) (int64, error) {
	if err := checkTTL(ttl); err != nil {
		return 0, err
	}
	if err := c.usable(ctx); err != nil {
		return 0, err
	}
	var (
		n      int64
		failed error
	)
	c.entries.Compute(key, func(old entry, found bool) (entry, otter.ComputeOp) {
		n, failed = 0, nil
		now := c.now()
		if !found || !live(old, now) {
			n = 1
			return entry{value: []byte("1"), expiresAt: now.Add(ttl)}, otter.WriteOp
		}
		cur, err := parseCounter(old.value)
		if err != nil {
			failed = err
			return old, otter.CancelOp
		}
		n = cur + 1
		return entry{value: strconv.AppendInt(nil, n, 10), expiresAt: old.expiresAt}, otter.WriteOp
	})
	if failed != nil {
		return 0, failed
	}
	return n, nil
}

// parseCounter reads a counter for one more increment.
func parseCounter(b []byte) (int64, error) {
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil || strconv.FormatInt(n, 10) != string(b) {
		return 0, errs.Invalid("key", "value is not an integer counter")
	}
	if n == math.MaxInt64 {
		return 0, errs.Invalid("key", "counter would overflow")
	}
	return n, nil
}

// SetNX implements cache.Cache. The check and the write happen under otter's
// lock of the key, so of concurrent callers one alone wins.
func (c *Cache) SetNX(
	ctx context.Context, key string, value []byte, ttl time.Duration,
) (bool, error) {
	if err := checkTTL(ttl); err != nil {
		return false, err
	}
	if err := c.usable(ctx); err != nil {
		return false, err
	}
	stored := entry{value: clone(value)}
	won := false
	c.entries.Compute(key, func(old entry, found bool) (entry, otter.ComputeOp) {
		won = false
		now := c.now()
		if found && live(old, now) {
			return old, otter.CancelOp
		}
		won = true
		stored.expiresAt = now.Add(ttl)
		return stored, otter.WriteOp
	})
	return won, nil
}

// Close implements cache.Cache: it drops every entry and stops otter's
// goroutines. Later calls fail with errs.ErrUnavailable; closing twice is
// harmless.
func (c *Cache) Close() error {
	if !c.closed.CompareAndSwap(false, true) {
		return nil
	}
	c.entries.InvalidateAll()
	c.entries.StopAllGoroutines()
	return nil
}

// clone copies b; the copy of an empty or nil b is empty and not nil.
func clone(b []byte) []byte {
	return append(make([]byte, 0, len(b)), b...)
}
