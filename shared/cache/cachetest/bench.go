package cachetest

import (
	"context"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/wardhq/ward/shared/cache"
)

// The benchmarks below are shared by every backend. Each spreads its
// goroutines over benchKeys keys, as the requests of many users are, and
// writes values of benchValueSize bytes, about the size of a session record.
const (
	benchKeys      = 1024
	benchValueSize = 256
	benchTTL       = 5 * time.Minute
)

// BenchmarkGet measures parallel reads of present keys.
func BenchmarkGet(b *testing.B, c cache.Cache) {
	keys := benchKeyNames(b, c)
	ctx := b.Context()
	value := make([]byte, benchValueSize)
	for _, k := range keys {
		if err := c.Set(ctx, k, value, benchTTL); err != nil {
			b.Fatal(err)
		}
	}

	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := rand.IntN(benchKeys)
		for pb.Next() {
			if _, err := c.Get(ctx, keys[i%benchKeys]); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}

// BenchmarkSet measures parallel writes that replace present keys.
func BenchmarkSet(b *testing.B, c cache.Cache) {
	keys := benchKeyNames(b, c)
	ctx := b.Context()
	value := make([]byte, benchValueSize)

	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := rand.IntN(benchKeys)
		for pb.Next() {
			if err := c.Set(ctx, keys[i%benchKeys], value, benchTTL); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}

// BenchmarkIncr measures parallel increments of counters, as a rate limiter
// makes them.
func BenchmarkIncr(b *testing.B, c cache.Cache) {
	keys := benchKeyNames(b, c)
	ctx := b.Context()

	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := rand.IntN(benchKeys)
		for pb.Next() {
			if _, err := c.Incr(ctx, keys[i%benchKeys], benchTTL); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}

// benchKeyNames returns benchKeys keys under a random prefix and deletes
// them when the benchmark ends.
func benchKeyNames(b *testing.B, c cache.Cache) []string {
	b.Helper()
	prefix := "cachebench:" + strconv.FormatUint(rand.Uint64(), 36) + ":"
	keys := make([]string, benchKeys)
	for i := range keys {
		keys[i] = prefix + strconv.Itoa(i)
	}
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for _, k := range keys {
			if err := c.Delete(ctx, k); err != nil {
				b.Errorf("clean-up: Delete(%q): %v", k, err)
				return
			}
		}
	})
	return keys
}
