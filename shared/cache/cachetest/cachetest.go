// Package cachetest is the conformance suite of cache.Cache. A backend's test
// hands Run a function that opens a fresh cache; the suite checks the contract
// written on cache.Cache against it. The package also holds a fake Clock for
// backends that take one and the benchmarks every backend runs.
package cachetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/wardhq/ward/shared/cache"
)

// TTL is the time-to-live of the suite's expiry checks. The suite moves time
// in fractions of it, leaving at least TTL/5 between an expiry and any check
// on either side of it. Checks that need no expiry write with Hold instead.
//
// On a real clock (a Redis server, waited for with time.Sleep) a busy
// machine can stall a test for longer than planned. A check that a key has
// expired only gets surer the later it runs, but a check that a key is still
// there is conclusive only if less than TTL of real time has passed since
// the write began. The suite measures that; when it has passed, it runs the
// scenario again with new keys (see fixture.expiry), and fails after four
// inconclusive attempts. Fake clocks never see this, as real time barely
// moves for them.
const TTL = 3 * time.Second

// Hold is the ttl of writes whose expiry is not under test: long enough
// that no stall of the test machine reaches it.
const Hold = 5 * time.Minute

// Env is one opened cache under test.
type Env struct {
	// Cache is the cache under test. The suite closes it.
	Cache cache.Cache
	// Advance lets d pass as the cache sees it. A backend with an injected
	// clock moves that clock; a server that keeps its own time cannot be
	// moved from outside, so its Advance sleeps.
	Advance func(t *testing.T, d time.Duration)
}

// Run checks the cache contract. open is called once per subtest, and
// subtests run in parallel: a fake clock must belong to one Env only. Each
// subtest uses keys under a random prefix of its own and deletes them when
// it ends, so Envs may share one server.
func Run(t *testing.T, open func(t *testing.T) Env) {
	tests := []struct {
		name string
		test func(*testing.T, *fixture)
	}{
		{"get of an absent key is a miss", getAbsent},
		{"set then get returns the value", setThenGet},
		{"set replaces the value", setReplaces},
		{"set expires after its ttl", setExpires},
		{"set over a live key restarts its ttl", setRestartsTTL},
		{"an empty or nil value round-trips as empty", emptyValue},
		{"binary values round-trip", binaryValues},
		{"values are copied in and out", valuesCopied},
		{"delete removes the key", deleteRemoves},
		{"delete of an absent or expired key succeeds", deleteAbsent},
		{"getdel returns the value and removes it", getDelRemoves},
		{"getdel of an absent or expired key is a miss", getDelAbsent},
		{"getdel gives the value to exactly one of 32 callers", getDelConcurrent},
		{"incr creates a counter at 1 that expires after its ttl", incrCreates},
		{"incr keeps the window of the first increment", incrKeepsWindow},
		{"incr counts on from an integer set by set and keeps its expiry", incrFromSet},
		{"concurrent increments all count", incrConcurrent},
		{"incr of a value that is not an integer is invalid and changes nothing", incrNotInteger},
		{"incr past the largest int64 is invalid and changes nothing", incrOverflow},
		{"setnx stores an absent key and wins", setNXAbsent},
		{"setnx over a live key loses and keeps its value and ttl", setNXPresent},
		{"setnx over an expired key wins", setNXExpired},
		{"setnx has exactly one winner among 32 callers", setNXConcurrent},
		{"a ttl that is not positive is invalid and changes nothing", nonPositiveTTL},
		{"keys are isolated from each other", keysIsolated},
		{"a canceled context fails and changes nothing", canceledContext},
		{"a closed cache is unavailable", closedCache},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.test(t, newFixture(t, open))
		})
	}
}

// fixture is one subtest's cache, key prefix and clean-up.
type fixture struct {
	t       *testing.T
	ctx     context.Context
	c       cache.Cache
	advance func(*testing.T, time.Duration)
	prefix  string

	mu     sync.Mutex
	keys   map[string]bool
	closed bool
}

func newFixture(t *testing.T, open func(t *testing.T) Env) *fixture {
	t.Helper()
	env := open(t)
	if env.Cache == nil || env.Advance == nil {
		t.Fatal("cachetest: open returned an Env without Cache or Advance")
	}
	f := &fixture{
		t:       t,
		ctx:     t.Context(),
		c:       env.Cache,
		advance: env.Advance,
		prefix:  "cachetest:" + randomHex(t, 8) + ":",
		keys:    map[string]bool{},
	}
	t.Cleanup(f.cleanup)
	return f
}

// key returns the name under this subtest's prefix and remembers it for
// clean-up.
func (f *fixture) key(name string) string {
	k := f.prefix + name
	f.mu.Lock()
	f.keys[k] = true
	f.mu.Unlock()
	return k
}

func (f *fixture) cleanup() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for k := range f.keys {
		if err := f.c.Delete(ctx, k); err != nil {
			f.t.Errorf("clean-up: Delete(%q): %v", k, err)
		}
	}
	if err := f.c.Close(); err != nil {
		f.t.Errorf("clean-up: Close: %v", err)
	}
}

// close closes the cache early; clean-up then leaves it alone.
func (f *fixture) close() {
	f.t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	if err := f.c.Close(); err != nil {
		f.t.Fatalf("Close: %v", err)
	}
}

func (f *fixture) set(key string, value []byte, ttl time.Duration) {
	f.t.Helper()
	if err := f.c.Set(f.ctx, key, value, ttl); err != nil {
		f.t.Fatalf("Set(%q): %v", key, err)
	}
}

func (f *fixture) wantValue(key string, want []byte) {
	f.t.Helper()
	got, err := f.c.Get(f.ctx, key)
	if err != nil {
		f.t.Fatalf("Get(%q): %v, want %q", key, err, want)
	}
	if !bytes.Equal(got, want) {
		f.t.Fatalf("Get(%q) = %q, want %q", key, got, want)
	}
}

func (f *fixture) wantMiss(key string) {
	f.t.Helper()
	got, err := f.c.Get(f.ctx, key)
	if !errors.Is(err, cache.ErrMiss) {
		f.t.Fatalf("Get(%q) = %q, %v; want a miss", key, got, err)
	}
}

func (f *fixture) incr(key string, ttl time.Duration, want int64) {
	f.t.Helper()
	got, err := f.c.Incr(f.ctx, key, ttl)
	if err != nil {
		f.t.Fatalf("Incr(%q): %v", key, err)
	}
	if got != want {
		f.t.Fatalf("Incr(%q) = %d, want %d", key, got, want)
	}
}

func (f *fixture) setNX(key string, value []byte, ttl time.Duration, want bool) {
	f.t.Helper()
	got, err := f.c.SetNX(f.ctx, key, value, ttl)
	if err != nil {
		f.t.Fatalf("SetNX(%q): %v", key, err)
	}
	if got != want {
		f.t.Fatalf("SetNX(%q) = %v, want %v", key, got, want)
	}
}

// after lets the given fraction of TTL pass.
func (f *fixture) after(fraction float64) {
	f.t.Helper()
	f.advance(f.t, time.Duration(fraction*float64(TTL)))
}

// expiryAttempts bounds how often an expiry scenario is run when real time
// keeps overrunning it.
const expiryAttempts = 4

// expiry runs an expiry scenario until one attempt is conclusive (see TTL).
func (f *fixture) expiry(scenario func(a *attempt)) {
	f.t.Helper()
	for n := 1; ; n++ {
		a := &attempt{f: f, n: n}
		scenario(a)
		if !a.overrun || f.t.Failed() {
			return
		}
		if n == expiryAttempts {
			f.t.Fatalf("real time overran the ttl in %d attempts: the machine is too busy "+
				"to check expiry", n)
		}
		f.t.Logf("attempt %d: real time overran the ttl, so a check of a live key "+
			"would be inconclusive; trying again with new keys", n)
	}
}

// attempt is one run of an expiry scenario. Its checks of live keys return
// false, and mark the attempt overrun, when more than TTL of real time has
// passed since the write they depend on began; the scenario then returns.
type attempt struct {
	f       *fixture
	n       int
	overrun bool
}

// key is f.key, fresh for each attempt.
func (a *attempt) key(name string) string {
	return a.f.key(fmt.Sprintf("%s#%d", name, a.n))
}

// inTime reports whether less than TTL of real time has passed since start.
func (a *attempt) inTime(start time.Time) bool {
	if time.Since(start) < TTL {
		return true
	}
	a.overrun = true
	return false
}

// wantValue checks that key, written at or after start, holds want.
func (a *attempt) wantValue(start time.Time, key string, want []byte) bool {
	t := a.f.t
	t.Helper()
	got, err := a.f.c.Get(a.f.ctx, key)
	if !a.inTime(start) {
		return false
	}
	if err != nil {
		t.Fatalf("Get(%q): %v, want %q", key, err, want)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Get(%q) = %q, want %q", key, got, want)
	}
	return true
}

// incr checks that an increment of the counter created at or after start
// returns want.
func (a *attempt) incr(start time.Time, key string, ttl time.Duration, want int64) bool {
	t := a.f.t
	t.Helper()
	got, err := a.f.c.Incr(a.f.ctx, key, ttl)
	if !a.inTime(start) {
		return false
	}
	if err != nil {
		t.Fatalf("Incr(%q): %v", key, err)
	}
	if got != want {
		t.Fatalf("Incr(%q) = %d, want %d", key, got, want)
	}
	return true
}

// setNXLoses checks that SetNX over key, written at or after start, loses.
func (a *attempt) setNXLoses(start time.Time, key string, value []byte, ttl time.Duration) bool {
	t := a.f.t
	t.Helper()
	won, err := a.f.c.SetNX(a.f.ctx, key, value, ttl)
	if !a.inTime(start) {
		return false
	}
	if err != nil {
		t.Fatalf("SetNX(%q): %v", key, err)
	}
	if won {
		t.Fatalf("SetNX(%q) over a live key won", key)
	}
	return true
}

// together runs fn(0) ... fn(n-1) on n goroutines released at once, to make
// them contend, and waits for all of them.
func together(n int, fn func(i int)) {
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		ready.Add(1)
		done.Go(func() {
			ready.Done()
			<-start
			fn(i)
		})
	}
	ready.Wait()
	close(start)
	done.Wait()
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
