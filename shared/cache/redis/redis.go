// Package redis is the Redis backend of cache.Cache, on rueidis. It speaks to
// any server of the Redis protocol from 6.2 on (GETDEL), standalone or
// cluster (rueidis finds out which).
//
// Each operation is one atomic server command: GET, SET PX, DEL, GETDEL,
// SET NX PX, and for Incr a short Lua script (SET NX PX, INCR, GET), so
// that a counter gets its ttl in the same step that creates it.
//
// Errors: a nil reply is cache.ErrMiss; a counter that is not an integer is
// errs.ErrInvalidArgument; anything else (refused or lost connections, a
// closed client, a canceled context, a server error reply) is
// errs.ErrUnavailable with the cause kept for the logs. A write that fails
// with ErrUnavailable after it was sent may or may not have been applied.
package redis

import (
	"context"
	"crypto/tls"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/rueidis"

	"github.com/wardhq/ward/shared/cache"
	"github.com/wardhq/ward/shared/errs"
)

// Config says where the server is and how to reach it.
type Config struct {
	// Addrs are host:port addresses: one server, or seed nodes of a cluster.
	Addrs []string
	// Username and Password authenticate with AUTH; both may be empty.
	Username string
	Password string
	// DB selects a database of a standalone server.
	DB int
	// TLS turns on TLS 1.2 or later, verified against the system's roots
	// unless TLSConfig says otherwise.
	TLS bool
	// TLSConfig, if set, replaces the default TLS settings when TLS is on.
	TLSConfig *tls.Config
	// StaleReadPrefixes turns on client-side caching (RESP3 client
	// tracking) for Get of keys that start with one of these prefixes; empty,
	// the default, turns it off. Such a Get may return a value for a moment
	// after it was replaced, deleted or consumed, even by this same Cache:
	// the server's invalidation arrives after the write's reply. Use it only
	// for read-mostly keys where that is harmless, never for sessions,
	// one-time codes or counters. GetDel, Incr, SetNX and every write always
	// go to the server. Some managed services do not support it.
	StaleReadPrefixes []string
	// ClientCacheTTL bounds how long a cached reply is kept; zero means one
	// minute. Never longer than the key's own ttl on the server.
	ClientCacheTTL time.Duration
	// DialTimeout bounds connecting; zero means five seconds.
	DialTimeout time.Duration
}

// Cache is a cache.Cache on a Redis server.
type Cache struct {
	client        rueidis.Client
	stalePrefixes []string
	cacheTTL      time.Duration
}

var _ cache.Cache = (*Cache)(nil)

// incrScript creates the counter with its ttl if it is absent and then
// increments it, in one atomic step. INCR leaves an existing key's ttl as it
// is, which keeps a fixed window. A value that is not an integer makes INCR
// fail and the script change nothing. The script returns the counter as
// text read back with GET: Lua holds INCR's integer reply as a double, which
// would round counters beyond 2^53.
var incrScript = rueidis.NewLuaScript(`
redis.call('SET', KEYS[1], '0', 'NX', 'PX', ARGV[1])
redis.call('INCR', KEYS[1])
return redis.call('GET', KEYS[1])
`)

// New connects to the server. It fails with errs.ErrInvalidArgument for a
// bad Config and errs.ErrUnavailable when the server cannot be reached or
// refuses the credentials.
func New(cfg Config) (*Cache, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	opt := rueidis.ClientOption{
		InitAddress:  slices.Clone(cfg.Addrs),
		Username:     cfg.Username,
		Password:     cfg.Password,
		SelectDB:     cfg.DB,
		DisableCache: len(cfg.StaleReadPrefixes) == 0,
		ClientName:   "ward",
	}
	opt.Dialer.Timeout = cfg.DialTimeout
	if opt.Dialer.Timeout == 0 {
		opt.Dialer.Timeout = 5 * time.Second
	}
	if cfg.TLS {
		opt.TLSConfig = cfg.TLSConfig.Clone() // the caller's stays unshared
		if opt.TLSConfig == nil {
			opt.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		}
	}

	client, err := rueidis.NewClient(opt)
	if err != nil {
		return nil, errs.Wrap(errs.Unavailable, err, "cannot connect to the cache")
	}
	c := &Cache{
		client:        client,
		stalePrefixes: slices.Clone(cfg.StaleReadPrefixes),
		cacheTTL:      cfg.ClientCacheTTL,
	}
	if c.cacheTTL == 0 {
		c.cacheTTL = time.Minute
	}
	return c, nil
}

func (cfg Config) validate() error {
	if len(cfg.Addrs) == 0 {
		return errs.Invalid("Addrs", "at least one address is required")
	}
	for _, a := range cfg.Addrs {
		if strings.TrimSpace(a) == "" {
			return errs.Invalid("Addrs", "an address is empty")
		}
	}
	if cfg.DB < 0 {
		return errs.Invalid("DB", "must not be negative")
	}
	for _, p := range cfg.StaleReadPrefixes {
		if p == "" {
			return errs.Invalid("StaleReadPrefixes", "an empty prefix would cover every key")
		}
	}
	if cfg.ClientCacheTTL < 0 {
		return errs.Invalid("ClientCacheTTL", "must not be negative")
	}
	if cfg.DialTimeout < 0 {
		return errs.Invalid("DialTimeout", "must not be negative")
	}
	if cfg.TLSConfig != nil && !cfg.TLS {
		return errs.Invalid("TLSConfig", "is set but TLS is off")
	}
	return nil
}

// Get implements cache.Cache.
func (c *Cache) Get(ctx context.Context, key string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, unavailable(err)
	}
	var res rueidis.RedisResult
	if c.staleReadable(key) {
		res = c.client.DoCache(ctx, c.client.B().Get().Key(key).Cache(), c.cacheTTL)
	} else {
		res = c.client.Do(ctx, c.client.B().Get().Key(key).Build())
	}
	return owned(res)
}

// Set implements cache.Cache.
func (c *Cache) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	ms, err := millis(ttl)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return unavailable(err)
	}
	cmd := c.client.B().Set().Key(key).Value(rueidis.BinaryString(value)).
		PxMilliseconds(ms).Build()
	if err := c.client.Do(ctx, cmd).Error(); err != nil {
		return unavailable(err)
	}
	return nil
}

// Delete implements cache.Cache.
func (c *Cache) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return unavailable(err)
	}
	if err := c.client.Do(ctx, c.client.B().Del().Key(key).Build()).Error(); err != nil {
		return unavailable(err)
	}
	return nil
}

// GetDel implements cache.Cache with GETDEL.
func (c *Cache) GetDel(ctx context.Context, key string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, unavailable(err)
	}
	return owned(c.client.Do(ctx, c.client.B().Getdel().Key(key).Build()))
}

// Incr implements cache.Cache with incrScript.
func (c *Cache) Incr(ctx context.Context, key string, ttl time.Duration) (int64, error) {
	ms, err := millis(ttl)
	if err != nil {
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, unavailable(err)
	}
	res := incrScript.Exec(ctx, c.client, []string{key}, []string{strconv.FormatInt(ms, 10)})
	text, err := res.ToString()
	if err != nil {
		if notCounter(err) {
			return 0, &errs.Error{
				Code:    errs.InvalidArgument,
				Field:   "key",
				Message: "value is not an integer counter or would overflow",
				Cause:   err,
			}
		}
		return 0, unavailable(err)
	}
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil { // INCR just stored it, so the server is not Redis-like
		return 0, unavailable(err)
	}
	return n, nil
}

// SetNX implements cache.Cache with SET NX PX.
func (c *Cache) SetNX(
	ctx context.Context, key string, value []byte, ttl time.Duration,
) (bool, error) {
	ms, err := millis(ttl)
	if err != nil {
		return false, err
	}
	if err := ctx.Err(); err != nil {
		return false, unavailable(err)
	}
	cmd := c.client.B().Set().Key(key).Value(rueidis.BinaryString(value)).
		Nx().PxMilliseconds(ms).Build()
	err = c.client.Do(ctx, cmd).Error()
	switch {
	case err == nil:
		return true, nil
	case rueidis.IsRedisNil(err): // NX refused: the key is present
		return false, nil
	default:
		return false, unavailable(err)
	}
}

// Close implements cache.Cache. Later calls fail with errs.ErrUnavailable.
func (c *Cache) Close() error {
	c.client.Close()
	return nil
}

// staleReadable reports whether a Get of key may be served by the
// client-side cache.
func (c *Cache) staleReadable(key string) bool {
	for _, p := range c.stalePrefixes {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	return false
}

// millis checks ttl and converts it to whole milliseconds, the server's
// unit, rounding up so that a ttl under a millisecond still expires the
// key instead of being refused by the server.
func millis(ttl time.Duration) (int64, error) {
	if ttl <= 0 {
		return 0, errs.Invalid("ttl", "must be positive")
	}
	ms := int64(ttl / time.Millisecond)
	if ttl%time.Millisecond != 0 {
		ms++
	}
	return ms, nil
}

// owned returns the string reply res as bytes the caller owns. rueidis's
// AsBytes would alias the reply's string, which with client-side caching is
// shared by later readers; a caller writing to it would change their value.
// A nil reply is a miss.
func owned(res rueidis.RedisResult) ([]byte, error) {
	s, err := res.ToString()
	if err != nil {
		if rueidis.IsRedisNil(err) {
			return nil, cache.ErrMiss
		}
		return nil, unavailable(err)
	}
	return []byte(s), nil
}

func unavailable(err error) error {
	return errs.Wrap(errs.Unavailable, err, "cache unavailable")
}

// notCounter reports the error replies INCR gives for a value that is not
// an integer ("ERR value is not an integer or out of range") or one that
// would overflow ("ERR increment or decrement would overflow"). Redis has no
// error code for them beyond ERR, so the text is matched; from a script the
// text gains a suffix naming the script, hence Contains.
func notCounter(err error) bool {
	re, ok := rueidis.IsRedisErr(err)
	if !ok {
		return false
	}
	msg := re.Error()
	return strings.Contains(msg, "not an integer") || strings.Contains(msg, "would overflow")
}
