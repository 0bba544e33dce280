// Package cache defines Ward's cache contract, implemented by a Redis
// backend (cache/redis, on rueidis) and an in-process one (cache/memory, on
// otter), both checked by the suite in cache/cachetest.
//
// Keys are opaque strings; callers namespace them ("sess:", "rl:", ...).
// Values are bytes. A TTL must be positive: the cache holds nothing forever.
// A missing or expired key is ErrMiss (errs.ErrNotFound). A failure of the
// backend is errs.ErrUnavailable.
package cache

import (
	"context"
	"time"

	"github.com/wardhq/ward/shared/errs"
)

// ErrMiss is returned for a key that is absent or expired.
var ErrMiss = errs.ErrNotFound

// Cache is a shared, expiring key-value cache.
type Cache interface {
	// Get returns the value of key, or ErrMiss.
	Get(ctx context.Context, key string) ([]byte, error)
	// Set stores value under key for ttl, replacing any value and TTL.
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
	// Delete removes key; deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// GetDel returns the value of key and removes it atomically: of several
	// concurrent callers, at most one gets the value. Missing: ErrMiss.
	GetDel(ctx context.Context, key string) ([]byte, error)
	// Incr adds one to the counter at key and returns the new value. The
	// first increment creates the counter with ttl; later ones keep the
	// expiry the counter already has (a fixed window).
	Incr(ctx context.Context, key string, ttl time.Duration) (int64, error)
	// SetNX stores value under key for ttl only if key is absent, and
	// reports whether it did. Of several concurrent callers exactly one wins.
	SetNX(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error)
	// Close releases the backend's resources.
	Close() error
}
