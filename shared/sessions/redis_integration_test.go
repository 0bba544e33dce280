//go:build integration

package sessions_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/wardhq/ward/shared/cache"
	"github.com/wardhq/ward/shared/cache/redis"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/sessions"
	"github.com/wardhq/ward/shared/store"
)

// The Redis tests use the server WARD_TEST_REDIS_ADDR names; keys are the
// hashes of fresh random tokens, deleted when the test ends.
func redisCache(t testing.TB) cache.Cache {
	t.Helper()
	addr := os.Getenv("WARD_TEST_REDIS_ADDR")
	if addr == "" {
		t.Fatal("WARD_TEST_REDIS_ADDR is not set: run `make test`, or start Redis and set it")
	}
	c, err := redis.New(redis.Config{Addrs: []string{addr}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestWithRedis runs a session's life on the Redis cache: validation from
// the cache, revocation seen at once, and the store taking over when the
// cache loses the entry. Redis expires keys by its own clock, so this test
// keeps to the real one.
func TestWithRedis(t *testing.T) {
	e := newEnvAt(t, time.Now().UTC().Truncate(time.Millisecond))
	rc := redisCache(t)
	inv := invoke.NewLocal(e.function(rc, e.inv))
	validate := func(tok sessions.Token) (sessions.ValidateOutput, error) {
		return invoke.Call[sessions.ValidateOutput](context.Background(), inv,
			sessions.FunctionName, sessions.OpValidate, svc, sessions.ValidateInput{Token: tok})
	}
	ann := e.user(e.a, "ann", "")
	out, err := invoke.Call[sessions.CreateOutput](context.Background(), inv,
		sessions.FunctionName, sessions.OpCreate, svc,
		sessions.CreateInput{TenantID: e.a.ID, UserID: ann.ID, ACR: store.ACRPassword})
	if err != nil {
		t.Fatal(err)
	}
	key := "sess:" + hashOf(out.Token)
	t.Cleanup(func() { _ = rc.Delete(context.Background(), key) })

	if _, err := rc.Get(context.Background(), key); err != nil {
		t.Fatalf("create left no entry in Redis: %v", err)
	}
	if got, err := validate(out.Token); err != nil || got.Subject != ann.ID {
		t.Fatalf("validate: %+v, %v", got, err)
	}
	if err := rc.Delete(context.Background(), key); err != nil {
		t.Fatal(err)
	}
	if _, err := validate(out.Token); err != nil {
		t.Fatalf("validate after Redis lost the entry: %v", err)
	}
	if _, err := rc.Get(context.Background(), key); err != nil {
		t.Errorf("the store's answer did not fill Redis again: %v", err)
	}

	_, err = invoke.Call[sessions.RevokeOutput](context.Background(), inv, sessions.FunctionName,
		sessions.OpRevoke, userCaller(ann), sessions.RevokeInput{TenantID: e.a.ID,
			ID: out.Session.ID})
	if err != nil {
		t.Fatal(err)
	}
	_, err = validate(out.Token)
	wantInvalid(t, "a revoked session on Redis", err)
}

// BenchmarkValidateRedis is BenchmarkValidate on the Redis cache.
func BenchmarkValidateRedis(b *testing.B) {
	benchValidate(b, redisCache(b))
}
