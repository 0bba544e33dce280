package memory

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/wardhq/ward/shared/cache"
	"github.com/wardhq/ward/shared/cache/cachetest"
	"github.com/wardhq/ward/shared/errs"
)

// epoch is where fake clocks start: any fixed instant will do.
var epoch = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

func TestCache(t *testing.T) {
	cachetest.Run(t, func(t *testing.T) cachetest.Env {
		clock := cachetest.NewClock(epoch)
		c, err := New(Options{Now: clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		return cachetest.Env{
			Cache:   c,
			Advance: func(_ *testing.T, d time.Duration) { clock.Advance(d) },
		}
	})
}

// The default clock is otter's own together with time.Now; expiry works on
// it as well. The full suite runs on a fake clock above, so this check is
// short: a ttl of 200 ms, observed before and well after. (Otter's timer
// wheel removes such entries only about a second later, so only reads are
// checked here.)
func TestRealClockExpires(t *testing.T) {
	c, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := t.Context()

	const ttl = 200 * time.Millisecond
	if err := c.Set(ctx, "set", []byte("v"), ttl); err != nil {
		t.Fatal(err)
	}
	if ok, err := c.SetNX(ctx, "setnx", []byte("v"), ttl); !ok || err != nil {
		t.Fatalf("SetNX = %v, %v", ok, err)
	}
	if n, err := c.Incr(ctx, "incr", ttl); n != 1 || err != nil {
		t.Fatalf("Incr = %d, %v", n, err)
	}
	for _, k := range []string{"set", "setnx", "incr"} {
		if _, err := c.Get(ctx, k); err != nil {
			t.Fatalf("Get(%q) right after writing: %v", k, err)
		}
	}

	time.Sleep(2 * ttl)
	for _, k := range []string{"set", "setnx", "incr"} {
		if got, err := c.Get(ctx, k); !errors.Is(err, cache.ErrMiss) {
			t.Errorf("Get(%q) after its ttl = %q, %v; want a miss", k, got, err)
		}
	}
}

// Otter must expire entries on the injected clock itself, not only hide them
// behind the check on read: otherwise expired entries would fill the cache.
func TestOtterExpiresOnInjectedClock(t *testing.T) {
	clock := cachetest.NewClock(epoch)
	c, err := New(Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	for i := range 100 {
		if err := c.Set(t.Context(), fmt.Sprint("k", i), []byte("v"), time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	c.entries.CleanUp()
	if got := c.entries.EstimatedSize(); got != 100 {
		t.Fatalf("before expiry otter holds %d entries, want 100", got)
	}

	clock.Advance(time.Minute)
	if _, ok := c.entries.GetIfPresent("k0"); ok {
		t.Fatal("otter still shows an entry whose ttl has passed on the injected clock")
	}
	c.entries.CleanUp()
	if got := c.entries.EstimatedSize(); got != 0 {
		t.Fatalf("after expiry and clean-up otter holds %d entries, want 0", got)
	}
}

// An increment keeps the counter's instant of expiry in otter as well.
func TestOtterKeepsCounterExpiry(t *testing.T) {
	clock := cachetest.NewClock(epoch)
	c, err := New(Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	if _, err := c.Incr(t.Context(), "rl", time.Minute); err != nil {
		t.Fatal(err)
	}
	clock.Advance(40 * time.Second)
	if _, err := c.Incr(t.Context(), "rl", time.Hour); err != nil {
		t.Fatal(err)
	}
	e, ok := c.entries.GetEntryQuietly("rl")
	if !ok {
		t.Fatal("counter missing")
	}
	if got, want := e.ExpiresAt(), epoch.Add(time.Minute); !got.Equal(want) {
		t.Fatalf("otter expires the counter at %v, want %v", got, want)
	}
}

func TestMaxSizeBoundsEntries(t *testing.T) {
	const maxSize = 64
	c, err := New(Options{MaxSize: maxSize})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	for i := range 20 * maxSize {
		if err := c.Set(t.Context(), fmt.Sprint("k", i), []byte("v"), time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	c.entries.CleanUp()
	if got := c.entries.EstimatedSize(); got > maxSize {
		t.Fatalf("cache holds %d entries, want at most %d", got, maxSize)
	}
}

func TestNegativeMaxSizeIsInvalid(t *testing.T) {
	_, err := New(Options{MaxSize: -1})
	if !errors.Is(err, errs.ErrInvalidArgument) {
		t.Fatalf("New with MaxSize -1: %v, want errs.ErrInvalidArgument", err)
	}
}

func TestCloseTwice(t *testing.T) {
	c, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := c.Get(t.Context(), "k"); !errors.Is(err, errs.ErrUnavailable) ||
		errors.Is(err, cache.ErrMiss) {
		t.Fatalf("Get after Close: %v, want errs.ErrUnavailable", err)
	}
}

func newBench(b *testing.B) *Cache {
	c, err := New(Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	return c
}

func BenchmarkGet(b *testing.B)  { cachetest.BenchmarkGet(b, newBench(b)) }
func BenchmarkSet(b *testing.B)  { cachetest.BenchmarkSet(b, newBench(b)) }
func BenchmarkIncr(b *testing.B) { cachetest.BenchmarkIncr(b, newBench(b)) }
