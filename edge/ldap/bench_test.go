package ldap

import (
	"runtime"
	"testing"

	goldap "github.com/go-ldap/ldap/v3"
)

// The benchmarks run 16 clients at once, each on its own connection,
// against the embedded store: b.SetParallelism gives 16 goroutines
// whatever GOMAXPROCS is, when it divides 16.

const benchClients = 16

func parallel16(b *testing.B, f *fixture, prepare func(c *goldap.Conn),
	op func(c *goldap.Conn) error) {
	b.SetParallelism(max(1, benchClients/runtime.GOMAXPROCS(0)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		c, err := goldap.DialURL("ldap://" + f.addr)
		if err != nil {
			b.Error(err)
			return
		}
		defer c.Close()
		prepare(c)
		for pb.Next() {
			if err := op(c); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}

// BenchmarkBind is a user's simple bind: one argon2id verification
// (19 MiB, two passes) per bind, so it is bound by CPU.
func BenchmarkBind(b *testing.B) {
	f := newFixture(b, fixtureOptions{})
	parallel16(b, f, func(*goldap.Conn) {}, func(c *goldap.Conn) error {
		return c.Bind("uid=alice,ou=users,o=acme,dc=ward", testPassword)
	})
}

// BenchmarkTokenBind is an administrator's bind with an API token.
func BenchmarkTokenBind(b *testing.B) {
	f := newFixture(b, fixtureOptions{})
	parallel16(b, f, func(*goldap.Conn) {}, func(c *goldap.Conn) error {
		return c.Bind("cn=bench,ou=tokens,dc=ward", f.adminToken)
	})
}

// paths are the two ways a search reads users: always the listing (as
// every search did before plans), or a plan when the filter pins users.
var paths = []struct {
	name       string
	listAlways bool
}{{"path=listing", true}, {"path=plan", false}}

func benchSearch(b *testing.B, users int, listAlways bool) {
	f := newFixture(b, fixtureOptions{extraUsers: users, listAlways: listAlways})
	req := goldap.NewSearchRequest("o=acme,dc=ward", goldap.ScopeWholeSubtree, 0, 0, 0, false,
		"(&(objectClass=inetOrgPerson)(uid=bob))", []string{"uid", "mail", "cn"}, nil)
	parallel16(b, f, func(c *goldap.Conn) {
		if err := c.Bind("cn=bench,ou=tokens,dc=ward", f.adminToken); err != nil {
			b.Fatal(err)
		}
	}, func(c *goldap.Conn) error {
		res, err := c.Search(req)
		if err == nil && len(res.Entries) != 1 {
			b.Fatalf("found %d entries", len(res.Entries))
		}
		return err
	})
}

// BenchmarkSearch finds one user by uid in a tenant of 3 and of 500
// users, by listing the tenant's users and by a plan's one lookup.
func BenchmarkSearch(b *testing.B) {
	for _, p := range paths {
		b.Run("users=3/"+p.name, func(b *testing.B) { benchSearch(b, 0, p.listAlways) })
		b.Run("users=500/"+p.name, func(b *testing.B) { benchSearch(b, 497, p.listAlways) })
	}
}
