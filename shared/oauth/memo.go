package oauth

import (
	"time"

	"github.com/maypok86/otter/v2"
)

// memo is a bounded in-process memory of results that stay true for a
// while: clients that authenticated (rfc6749.go) and JWTs whose signature
// verified (introspect.go). Each entry holds its own end on the service's
// clock, checked at every read, so an entry is never used past it.
type memo[V any] struct {
	now     func() time.Time
	entries *otter.Cache[string, memoEntry[V]]
}

type memoEntry[V any] struct {
	value V
	until time.Time
}

func newMemo[V any](size int, now func() time.Time) *memo[V] {
	m := &memo[V]{now: now}
	m.entries = otter.Must(&otter.Options[string, memoEntry[V]]{
		MaximumSize: size,
		ExpiryCalculator: otter.ExpiryWritingFunc(func(e otter.Entry[string, memoEntry[V]]) time.Duration {
			return max(e.Value.until.Sub(now()), time.Second)
		}),
	})
	return m
}

func (m *memo[V]) get(key string) (V, bool) {
	e, ok := m.entries.GetIfPresent(key)
	if !ok || !m.now().Before(e.until) {
		var zero V
		return zero, false
	}
	return e.value, true
}

// put remembers value for ttl; a ttl that is not positive remembers
// nothing.
func (m *memo[V]) put(key string, value V, ttl time.Duration) {
	if ttl > 0 {
		m.entries.Set(key, memoEntry[V]{value: value, until: m.now().Add(ttl)})
	}
}
