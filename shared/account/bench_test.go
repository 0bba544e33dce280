package account_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/wardhq/ward/shared/account"
	"github.com/wardhq/ward/shared/passwords"
	"github.com/wardhq/ward/shared/store"
)

// BenchmarkRegister measures open registration end to end on bolt, with
// Ward's default password hashing: policy check, Argon2id hash, the user,
// its password, the proof, the verification email (to an outbox) and the
// audit event. Run with -cpu 1 for the figure per core; registrations/s
// is reported. "parallel-1" runs one registration at a time; "parallel-4"
// runs four goroutines per GOMAXPROCS, so that one registration's disk
// syncs overlap another's hashing on the same core.
func BenchmarkRegister(b *testing.B) {
	for _, p := range []int{1, 4} {
		b.Run(fmt.Sprintf("parallel-%d", p), func(b *testing.B) {
			b.SetParallelism(p)
			benchRegister(b)
		})
	}
}

func benchRegister(b *testing.B) {
	e := newEnv(b, store.RegistrationOpen)
	fn := account.Function(account.Deps{Store: e.st, Email: e.box, Phone: e.box,
		PublicURL: publicURL, Now: e.clk.Now, Hasher: passwords.Default()})
	e.fn = fn
	var n atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			addr := fmt.Sprintf("user%d@example.com", n.Add(1))
			if _, err := register(e, addr); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "registrations/s")
}
