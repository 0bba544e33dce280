package sessions_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wardhq/ward/shared/cache"
	"github.com/wardhq/ward/shared/cache/memory"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/sessions"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/store/bolt"
	"github.com/wardhq/ward/shared/validate"
)

// benchWorkers is the concurrency the figures are quoted at.
const benchWorkers = 16

// BenchmarkValidate measures sessions.validate as the facade calls it, in
// process (JSON both ways), from 16 goroutines over 256 sessions, on the
// in-process cache with the bolt store behind it. It reports
// validations/s and the 99th percentile latency.
func BenchmarkValidate(b *testing.B) {
	c, err := memory.New(memory.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	benchValidate(b, c)
}

// benchValidate runs the validation benchmark on cache c.
func benchValidate(b *testing.B, c cache.Cache) {
	st, err := bolt.Open(filepath.Join(b.TempDir(), "ward.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	inv := invoke.NewLocal(sessions.Function(sessions.Deps{Store: st, Cache: c,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	tokens := benchSessions(b, st, inv, c)

	var next atomic.Int64
	lat := make([][]time.Duration, benchWorkers)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for w := range benchWorkers {
		wg.Go(func() {
			ctx := context.Background()
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				t0 := time.Now()
				_, err := invoke.Call[sessions.ValidateOutput](ctx, inv, sessions.FunctionName,
					sessions.OpValidate, svc, sessions.ValidateInput{Token: tokens[i%int64(len(tokens))]})
				lat[w] = append(lat[w], time.Since(t0))
				if err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()

	all := slices.Concat(lat...)
	slices.Sort(all)
	if len(all) == 0 {
		return
	}
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "validations/s")
	b.ReportMetric(float64(all[len(all)*99/100].Microseconds()), "p99-µs")
}

// benchSessions signs in 16 users 16 times each and returns the tokens,
// validated once each so that the cache holds them. The cache entries go
// when the benchmark ends.
func benchSessions(b *testing.B, st store.Store, inv invoke.Invoker, c cache.Cache) []sessions.Token {
	b.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	tn, err := st.Tenants().Create(ctx, store.Tenant{ID: validate.NewID(), Name: "bench",
		CreatedAt: now, UpdatedAt: now})
	if err != nil {
		b.Fatal(err)
	}
	var tokens []sessions.Token
	for u := range 16 {
		user, err := st.Users().Create(ctx, store.User{ID: validate.NewID(), TenantID: tn.ID,
			Username: "user" + string(rune('a'+u)), Status: store.UserActive,
			CreatedAt: now, UpdatedAt: now})
		if err != nil {
			b.Fatal(err)
		}
		for range 16 {
			out, err := invoke.Call[sessions.CreateOutput](ctx, inv, sessions.FunctionName,
				sessions.OpCreate, function.Caller{Subject: "bench", Roles: []string{function.RoleService}},
				sessions.CreateInput{TenantID: tn.ID, UserID: user.ID, ACR: "1", AMR: []string{"pwd"}})
			if err != nil {
				b.Fatal(err)
			}
			tokens = append(tokens, out.Token)
		}
	}
	b.Cleanup(func() {
		for _, tok := range tokens {
			_ = c.Delete(context.Background(), "sess:"+hashOf(tok))
		}
	})
	return tokens
}
