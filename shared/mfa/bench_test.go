package mfa_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wardhq/ward/shared/cache/memory"
	"github.com/wardhq/ward/shared/clocktest"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/mfa"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/store/bolt"
	"github.com/wardhq/ward/shared/tenants"
	"github.com/wardhq/ward/shared/users"
)

// verifier is one user with a confirmed TOTP factor, proven through its
// own mfa function whose clock only it moves: a code is good for one
// step, so each verify needs the next step, and goroutines sharing one
// clock would spoil each other's codes. The store and the cache are
// shared by all.
type verifier struct {
	clk    *clocktest.Clock
	inv    *invoke.Local
	user   store.User
	factor mfa.Factor
	secret string
}

// BenchmarkTOTPVerify measures mfa.verify of a valid TOTP code, through
// the function on bolt: open the sealed seed, compute three codes, and
// spend the step with a compare-and-swap write (one bbolt transaction,
// synced to disk).
func BenchmarkTOTPVerify(b *testing.B) {
	st, err := bolt.Open(filepath.Join(b.TempDir(), "ward.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	c, err := memory.New(memory.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	key := make([]byte, 32)
	rand.Read(key)
	quiet := slog.New(slog.DiscardHandler)

	setup := &env{st: st}
	setup.inv = invoke.NewLocal(tenants.Function(tenants.Deps{Store: st}),
		users.Function(users.Deps{Store: st}))
	tn := mustCall[store.Tenant](b, setup, tenants.FunctionName, tenants.OpCreate, sysAdmin,
		tenants.CreateInput{Name: "acme"})

	const pool = 32 // more than RunParallel's goroutines on any machine here
	verifiers := make([]*verifier, pool)
	for i := range verifiers {
		clk := clocktest.New(time.Date(2030, 1, 2, 3, 4, 12, 0, time.UTC))
		inv := invoke.NewLocal(mfa.Function(mfa.Deps{Store: st, Cache: c, Key: key,
			Now: clk.Now, Log: quiet}))
		u := mustCall[store.User](b, setup, users.FunctionName, users.OpCreate, sysAdmin,
			users.CreateInput{TenantID: tn.ID, Username: fmt.Sprintf("user%d", i)})
		e := &env{clk: clk, st: st, inv: inv}
		f, secret := e.enrollTOTP(b, u)
		verifiers[i] = &verifier{clk: clk, inv: inv, user: u, factor: f, secret: secret}
	}

	run := func(v *verifier) error {
		v.clk.Add(30 * time.Second)
		e := &env{clk: v.clk}
		code := e.codeAt(b, v.secret, 0)
		_, err := invoke.Call[mfa.VerifyOutput](context.Background(), v.inv, mfa.FunctionName,
			mfa.OpVerify, service, mfa.ProofInput{TenantID: v.user.TenantID, UserID: v.user.ID,
				FactorID: v.factor.ID, Code: code})
		return err
	}

	var next atomic.Int32
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		v := verifiers[int(next.Add(1)-1)%pool]
		for pb.Next() {
			if err := run(v); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verifies/s")
}
