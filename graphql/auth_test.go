package graphql

import (
	"crypto/sha256"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/wardhq/ward/shared/function"
)

// clock is a settable test clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func (hs *harness) verifies() int {
	n := 0
	for _, c := range hs.env.recorded() {
		if c.op == "apitokens.verify" {
			n++
		}
	}
	return n
}

func TestTokenCache(t *testing.T) {
	clk := &clock{now: fixedTime}
	hs := newHarness(t, Options{TokenCacheTTL: 5 * time.Second, Now: clk.Now})
	ask := func() string {
		t.Helper()
		got := hs.query(t, tokTenantA, `{ viewer { subject } }`, nil)
		return string(got.Data)
	}
	want := `{"viewer":{"subject":"alice"}}`

	steps := []struct {
		name         string
		advance      time.Duration
		wantVerifies int
	}{
		{"the first request verifies", 0, 1},
		{"a second request within the TTL uses the cache", 4 * time.Second, 1},
		{"at the TTL the token is verified again", time.Second, 2},
		{"and cached again", time.Second, 2},
	}
	for _, s := range steps {
		clk.Advance(s.advance)
		if got := ask(); got != want {
			t.Fatalf("%s: data %s", s.name, got)
		}
		if got := hs.verifies(); got != s.wantVerifies {
			t.Errorf("%s: %d verifications, want %d", s.name, got, s.wantVerifies)
		}
	}
}

func TestTokenCacheKeepsNoRefusals(t *testing.T) {
	hs := newHarness(t, Options{})
	for range 3 {
		hs.query(t, "unknown-token", `{ viewer { subject } }`, nil)
	}
	if got := hs.verifies(); got != 3 {
		t.Errorf("%d verifications of a refused token, want 3", got)
	}
}

func TestTokenCacheOff(t *testing.T) {
	hs := newHarness(t, Options{TokenCacheTTL: -1})
	for range 3 {
		hs.query(t, tokAdmin, `{ viewer { subject } }`, nil)
	}
	if got := hs.verifies(); got != 3 {
		t.Errorf("%d verifications, want 3", got)
	}
	if hs.h.auth.cache != nil {
		t.Error("a cache exists although it is off")
	}
}

func TestTokenCacheBounded(t *testing.T) {
	clk := &clock{now: fixedTime}
	c := newTokenCache(Options{TokenCacheTTL: time.Minute, TokenCacheSize: 3, Now: clk.Now})
	key := func(i int) [sha256.Size]byte { return sha256.Sum256(fmt.Appendf(nil, "tok-%d", i)) }

	for i := range 10 {
		c.put(key(i), function.Caller{Subject: fmt.Sprint(i)})
		if n := c.len(); n > 3 {
			t.Fatalf("after %d puts the cache holds %d, want at most 3", i+1, n)
		}
	}
	got, ok := c.get(key(9))
	if !ok || got.Subject != "9" {
		t.Errorf("the latest entry = %+v %v, want subject 9", got, ok)
	}

	clk.Advance(time.Minute)
	if _, ok := c.get(key(9)); ok {
		t.Error("an expired entry was served")
	}
}

// TestTokenCacheCopiesRoles checks that a caller taken from the cache
// cannot change the cached one.
func TestTokenCacheCopiesRoles(t *testing.T) {
	c := newTokenCache(Options{TokenCacheTTL: time.Minute, TokenCacheSize: 3, Now: time.Now})
	k := sha256.Sum256([]byte("t"))
	roles := []string{function.RoleUser}
	c.put(k, function.Caller{Subject: "s", Roles: roles})
	roles[0] = function.RoleSystemAdmin

	got, _ := c.get(k)
	got.Roles[0] = function.RoleSystemAdmin
	again, _ := c.get(k)
	if again.Roles[0] != function.RoleUser {
		t.Errorf("cached roles = %v, want [user]", again.Roles)
	}
}

func TestOptionsDefaultsAreCopies(t *testing.T) {
	shared := Options{MaxDepth: 3}
	a := shared.withDefaults()
	b := Options{}.withDefaults()
	if shared.MaxComplexity != 0 || shared.Logger != nil {
		t.Errorf("withDefaults changed its receiver: %+v", shared)
	}
	if a.MaxDepth != 3 || b.MaxDepth != DefaultMaxDepth {
		t.Errorf("depths %d %d, want 3 %d", a.MaxDepth, b.MaxDepth, DefaultMaxDepth)
	}
	if b.MaxComplexity != DefaultMaxComplexity || b.MaxQueryBytes != DefaultMaxQueryBytes ||
		b.MaxBodyBytes != DefaultMaxBodyBytes || b.TokenCacheTTL != DefaultTokenCacheTTL ||
		b.TokenCacheSize != DefaultTokenCacheSize || b.Logger == nil || b.Now == nil {
		t.Errorf("defaults not applied: %+v", b)
	}
}
