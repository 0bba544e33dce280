//go:build integration

package appstate_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/wardhq/ward/shared/appstate"
	"github.com/wardhq/ward/shared/cache/redis"
	"github.com/wardhq/ward/shared/clocktest"
	"github.com/wardhq/ward/shared/errs"
)

// newRedisEnv runs the services on the Redis at WARD_TEST_REDIS_ADDR.
// Redis expires keys by its own clock, so the test clock starts at the
// real time; keys hold fresh session IDs, so tests never share any.
func newRedisEnv(t *testing.T) *env {
	t.Helper()
	addr := os.Getenv("WARD_TEST_REDIS_ADDR")
	if addr == "" {
		t.Fatal("WARD_TEST_REDIS_ADDR is not set: start Redis and set it")
	}
	rc, err := redis.New(redis.Config{Addrs: []string{addr}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rc.Close() })
	return newEnvWith(t, clocktest.New(time.Now().UTC().Truncate(time.Millisecond)), rc)
}

func TestRedisStateAndQuotas(t *testing.T) {
	e := newRedisEnv(t)
	ada, bob := e.signIn(e.a, "ada"), e.signIn(e.a, "bob")
	if _, err := e.set(ada.caller, "shop", "cart", map[string]int{"n": 1}); err != nil {
		t.Fatal(err)
	}
	if got, err := e.get(ada.caller, "shop", "cart"); err != nil || got != `{"n":1}` {
		t.Errorf("get = %s, %v", got, err)
	}
	if _, err := e.get(bob.caller, "shop", "cart"); errs.CodeOf(err) != errs.NotFound {
		t.Errorf("another session's key: %v", err)
	}
	_, err := e.set(ada.caller, "shop", "big", strings.Repeat("x", appstate.MaxValueBytes))
	wantCode(t, "an oversized value", err, errs.TooLarge)

	// The entry's TTL is the session's remaining lifetime.
	key := "as:" + e.a.ID + ":" + ada.session.ID + ":a:shop"
	want := time.Until(time.Unix(ada.caller.SessionExpires, 0))
	ttl := redisTTL(t, key)
	if ttl <= 0 || ttl > want+time.Second || ttl < want-5*time.Second {
		t.Errorf("the entry's TTL is %v, want about %v", ttl, want)
	}

	out, err := call[appstate.ClearOutput](e, appstate.OpClear, ada.caller, appstate.ClearInput{})
	if err != nil || out.Apps != 1 {
		t.Fatalf("clear = %+v, %v", out, err)
	}
	if l := e.list(ada.caller, "shop"); len(l.Keys) != 0 {
		t.Errorf("after clear: %+v", l)
	}
}

func TestRedisConcurrentWritersNeverPassTheQuota(t *testing.T) {
	e := newRedisEnv(t)
	c := e.signIn(e.a, "ada").caller
	value := strings.Repeat("v", 10<<10)
	const writers = 40
	var wg sync.WaitGroup
	errsOut := make([]error, writers)
	for i := range writers {
		wg.Go(func() {
			for {
				_, err := e.set(c, "shop", fmt.Sprintf("k%02d", i), value)
				if err != nil && strings.Contains(err.Error(), "busy") {
					continue
				}
				errsOut[i] = err
				return
			}
		})
	}
	wg.Wait()
	ok := 0
	for i, err := range errsOut {
		switch {
		case err == nil:
			ok++
		case errs.CodeOf(err) != errs.TooLarge:
			t.Errorf("writer %d: %v", i, err)
		}
	}
	l := e.list(c, "shop")
	if l.Bytes > appstate.MaxBytesPerApp || len(l.Keys) != ok || ok != 25 {
		t.Errorf("%d writes succeeded; the state holds %d keys, %d bytes", ok, len(l.Keys),
			l.Bytes)
	}
}

// redisTTL reads a key's remaining TTL with a raw client.
func redisTTL(t *testing.T, key string) time.Duration {
	t.Helper()
	c, err := rueidisClient()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ms, err := c.Do(context.Background(), c.B().Pttl().Key(key).Build()).AsInt64()
	if err != nil {
		t.Fatal(err)
	}
	return time.Duration(ms) * time.Millisecond
}

func rueidisClient() (rueidis.Client, error) {
	return rueidis.NewClient(rueidis.ClientOption{
		InitAddress: []string{os.Getenv("WARD_TEST_REDIS_ADDR")}, DisableCache: true})
}
