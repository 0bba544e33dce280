package passwords

import "testing"

// Run with -cpu 1 for the figure that matters: login-credential checks per
// second on one core with DefaultParams (p = 1, so one check never uses more).
//
//	go test -run '^$' -bench . -cpu 1 ./shared/passwords/

func reportRate(b *testing.B, ops int, unit string) {
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(ops)/s, unit)
	}
}

func BenchmarkHash(b *testing.B) {
	h := Default()
	ops := 0
	for b.Loop() {
		if _, err := h.Hash("seven quiet otters drift past"); err != nil {
			b.Fatal(err)
		}
		ops++
	}
	reportRate(b, ops, "hashes/s")
}

func BenchmarkVerify(b *testing.B) {
	h := Default()
	enc, err := h.Hash("seven quiet otters drift past")
	if err != nil {
		b.Fatal(err)
	}
	ops := 0
	for b.Loop() {
		if ok, _, err := h.Verify("seven quiet otters drift past", enc); !ok || err != nil {
			b.Fatal("Verify failed", err)
		}
		ops++
	}
	reportRate(b, ops, "verifies/s")
}

// BenchmarkDummyVerify should match BenchmarkVerify: that is its purpose.
func BenchmarkDummyVerify(b *testing.B) {
	h := Default()
	ops := 0
	for b.Loop() {
		h.DummyVerify("seven quiet otters drift past")
		ops++
	}
	reportRate(b, ops, "verifies/s")
}

func BenchmarkPolicyCheck(b *testing.B) {
	if _, err := loadBlocklist(); err != nil {
		b.Fatal(err)
	}
	c := Context{Username: "ann.lee", Email: "ann.lee@example.com", TenantName: "Acme Corporation"}
	cases := []struct {
		name, pw string
	}{
		{"accepted", "seven quiet otters drift past the mill"},
		{"blocklisted", "1q2w3e4r5t6y7u8i9o0p"},
		{"max length", prose[:MaxLength]},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				_ = Check(tc.pw, c)
			}
		})
	}
}

// BenchmarkBlocklistLoad is the one-off cost a cold function instance
// pays on its first Check.
func BenchmarkBlocklistLoad(b *testing.B) {
	for b.Loop() {
		if _, err := parseBlocklist(blocklistGz); err != nil {
			b.Fatal(err)
		}
	}
}
