package cachetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/wardhq/ward/shared/cache"
	"github.com/wardhq/ward/shared/errs"
)

// contenders is how many goroutines race in the concurrency checks, and
// rounds how many times each race is run.
const (
	contenders = 32
	rounds     = 10
)

func getAbsent(t *testing.T, f *fixture) {
	_, err := f.c.Get(f.ctx, f.key("absent"))
	if !errors.Is(err, cache.ErrMiss) {
		t.Fatalf("Get of an absent key: %v, want cache.ErrMiss", err)
	}
	if !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("Get of an absent key: %v, want a match for errs.ErrNotFound", err)
	}
}

func setThenGet(t *testing.T, f *fixture) {
	k := f.key("k")
	f.set(k, []byte("v1"), Hold)
	f.wantValue(k, []byte("v1"))
	f.wantValue(k, []byte("v1")) // a read does not consume the value
}

func setReplaces(t *testing.T, f *fixture) {
	k := f.key("k")
	f.set(k, []byte("first value"), Hold)
	f.wantValue(k, []byte("first value"))
	f.set(k, []byte("second"), Hold)
	f.wantValue(k, []byte("second")) // a read is never served from before a write
}

func setExpires(t *testing.T, f *fixture) {
	f.expiry(func(a *attempt) {
		k := a.key("k")
		start := time.Now()
		f.set(k, []byte("v"), TTL)

		f.after(0.2)
		if !a.wantValue(start, k, []byte("v")) {
			return
		}

		f.after(1.0)
		f.wantMiss(k)
	})
}

func setRestartsTTL(t *testing.T, f *fixture) {
	f.expiry(func(a *attempt) {
		k := a.key("k")
		f.set(k, []byte("v1"), TTL)
		f.after(0.6)
		start := time.Now()
		f.set(k, []byte("v2"), TTL)

		f.after(0.6) // past the first expiry, before the second
		if !a.wantValue(start, k, []byte("v2")) {
			return
		}

		f.after(0.6)
		f.wantMiss(k)
	})
}

func emptyValue(t *testing.T, f *fixture) {
	for name, value := range map[string][]byte{"empty": {}, "nil": nil} {
		k := f.key(name)
		f.set(k, value, Hold)
		got, err := f.c.Get(f.ctx, k)
		if err != nil {
			t.Fatalf("Get of a %s value: %v, want an empty value", name, err)
		}
		if len(got) != 0 {
			t.Fatalf("Get of a %s value = %q, want empty", name, got)
		}
		got, err = f.c.GetDel(f.ctx, k)
		if err != nil || len(got) != 0 {
			t.Fatalf("GetDel of a %s value = %q, %v; want empty, nil", name, got, err)
		}
	}
}

func binaryValues(t *testing.T, f *fixture) {
	every := make([]byte, 0, 512)
	for i := range 256 {
		every = append(every, byte(i), byte(255-i))
	}
	large := make([]byte, 1<<20)
	for i := range large {
		large[i] = byte(i*7 + i>>8)
	}
	values := map[string][]byte{
		"every byte":     every,
		"nul only":       {0},
		"invalid utf-8":  {0xff, 0xfe, 0xc3, 0x28, 0xed, 0xa0, 0x80},
		"crlf framing":   []byte("$3\r\nfoo\r\n*1\r\n"),
		"1 MiB of bytes": large,
	}
	for name, value := range values {
		k := f.key(name)
		f.set(k, value, Hold)
		got, err := f.c.Get(f.ctx, k)
		if err != nil {
			t.Fatalf("Get(%s): %v", name, err)
		}
		if !bytes.Equal(got, value) {
			t.Fatalf("Get(%s) returned %d bytes that differ from the %d set",
				name, len(got), len(value))
		}
	}
}

func valuesCopied(t *testing.T, f *fixture) {
	k := f.key("k")
	value := []byte("original")
	f.set(k, value, Hold)
	value[0] = 'X'
	f.wantValue(k, []byte("original"))

	got, err := f.c.Get(f.ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	got[0] = 'Y'
	f.wantValue(k, []byte("original"))

	nx := f.key("nx")
	value = []byte("original")
	f.setNX(nx, value, Hold, true)
	value[0] = 'X'
	f.wantValue(nx, []byte("original"))
}

func deleteRemoves(t *testing.T, f *fixture) {
	k := f.key("k")
	f.set(k, []byte("v"), Hold)
	f.wantValue(k, []byte("v"))
	if err := f.c.Delete(f.ctx, k); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	f.wantMiss(k)
	f.setNX(k, []byte("again"), Hold, true) // the key is absent, not tombstoned
}

func deleteAbsent(t *testing.T, f *fixture) {
	if err := f.c.Delete(f.ctx, f.key("never")); err != nil {
		t.Fatalf("Delete of a key never set: %v", err)
	}

	k := f.key("expired")
	f.set(k, []byte("v"), TTL)
	f.after(1.2)
	if err := f.c.Delete(f.ctx, k); err != nil {
		t.Fatalf("Delete of an expired key: %v", err)
	}

	d := f.key("twice")
	f.set(d, []byte("v"), Hold)
	for range 2 {
		if err := f.c.Delete(f.ctx, d); err != nil {
			t.Fatalf("Delete: %v", err)
		}
	}
}

func getDelRemoves(t *testing.T, f *fixture) {
	k := f.key("k")
	f.set(k, []byte("once"), Hold)
	f.wantValue(k, []byte("once"))

	got, err := f.c.GetDel(f.ctx, k)
	if err != nil || string(got) != "once" {
		t.Fatalf("GetDel = %q, %v; want %q, nil", got, err, "once")
	}
	f.wantMiss(k)

	_, err = f.c.GetDel(f.ctx, k)
	if !errors.Is(err, cache.ErrMiss) {
		t.Fatalf("second GetDel: %v, want cache.ErrMiss", err)
	}
}

func getDelAbsent(t *testing.T, f *fixture) {
	_, err := f.c.GetDel(f.ctx, f.key("never"))
	if !errors.Is(err, cache.ErrMiss) {
		t.Fatalf("GetDel of an absent key: %v, want cache.ErrMiss", err)
	}

	k := f.key("expired")
	f.set(k, []byte("v"), TTL)
	f.after(1.2)
	got, err := f.c.GetDel(f.ctx, k)
	if !errors.Is(err, cache.ErrMiss) {
		t.Fatalf("GetDel of an expired key = %q, %v; want cache.ErrMiss", got, err)
	}
}

func getDelConcurrent(t *testing.T, f *fixture) {
	for round := range rounds {
		k := f.key(fmt.Sprint("round-", round))
		want := []byte(fmt.Sprint("token-", round))
		f.set(k, want, Hold)

		values := make([][]byte, contenders)
		failures := make([]error, contenders)
		together(contenders, func(i int) {
			values[i], failures[i] = f.c.GetDel(f.ctx, k)
		})

		winners := 0
		for i := range contenders {
			switch {
			case failures[i] == nil:
				winners++
				if !bytes.Equal(values[i], want) {
					t.Errorf("round %d: GetDel = %q, want %q", round, values[i], want)
				}
			case !errors.Is(failures[i], cache.ErrMiss):
				t.Errorf("round %d: GetDel: %v, want the value or cache.ErrMiss",
					round, failures[i])
			}
		}
		if winners != 1 {
			t.Fatalf("round %d: %d of %d callers got the value, want exactly 1",
				round, winners, contenders)
		}
		f.wantMiss(k)
	}
}

func incrCreates(t *testing.T, f *fixture) {
	f.expiry(func(a *attempt) {
		k := a.key("k")
		start := time.Now()
		for n := int64(1); n <= 3; n++ {
			if !a.incr(start, k, TTL, n) {
				return
			}
			// counters are decimal text
			if !a.wantValue(start, k, []byte(strconv.FormatInt(n, 10))) {
				return
			}
		}

		f.after(0.2)
		if !a.wantValue(start, k, []byte("3")) {
			return
		}

		f.after(1.0)
		f.wantMiss(k)
		f.incr(k, TTL, 1) // a new window
	})
}

func incrKeepsWindow(t *testing.T, f *fixture) {
	f.expiry(func(a *attempt) {
		k := a.key("k")
		start := time.Now()
		f.incr(k, TTL, 1)
		f.after(0.6)
		if !a.incr(start, k, 10*TTL, 2) { // a later, longer ttl is ignored
			return
		}

		f.after(0.6) // past the first window; a restarted one would still be open
		f.wantMiss(k)
		f.incr(k, TTL, 1)
	})
}

func incrFromSet(t *testing.T, f *fixture) {
	for _, tc := range []struct {
		start string
		want  int64
	}{
		{"41", 42},
		{"0", 1},
		{"-5", -4},
		{"-9223372036854775808", -9223372036854775807},
	} {
		k := f.key("from " + tc.start)
		f.set(k, []byte(tc.start), Hold)
		f.incr(k, Hold, tc.want)
		f.wantValue(k, []byte(strconv.FormatInt(tc.want, 10)))
	}

	f.expiry(func(a *attempt) {
		k := a.key("expiry")
		start := time.Now()
		f.set(k, []byte("41"), TTL)
		f.after(0.6)
		if !a.incr(start, k, 10*TTL, 42) {
			return
		}
		f.after(0.6)
		f.wantMiss(k)
	})
}

func incrConcurrent(t *testing.T, f *fixture) {
	const each = 25
	k := f.key("k")
	got := make([][]int64, contenders)
	together(contenders, func(i int) {
		for range each {
			n, err := f.c.Incr(f.ctx, k, Hold)
			if err != nil {
				t.Errorf("Incr: %v", err)
				return
			}
			got[i] = append(got[i], n)
		}
	})
	if t.Failed() {
		t.FailNow()
	}

	all := slices.Concat(got...)
	slices.Sort(all)
	for i, n := range all {
		if n != int64(i+1) {
			t.Fatalf("sorted results of %d increments: position %d is %d, want %d"+
				" (a count was lost or repeated)", len(all), i, n, i+1)
		}
	}
	f.wantValue(k, []byte(strconv.Itoa(contenders*each)))
}

func incrNotInteger(t *testing.T, f *fixture) {
	values := []string{
		"abc", "", "1.5", " 1", "1 ", "01", "+1", "-0", "0x10", "1e3", "\x00",
		"9223372036854775808", "99999999999999999999999",
	}
	for i, v := range values {
		k := f.key(fmt.Sprint("v", i))
		f.set(k, []byte(v), Hold)
		n, err := f.c.Incr(f.ctx, k, Hold)
		if !errors.Is(err, errs.ErrInvalidArgument) {
			t.Errorf("Incr over %q = %d, %v; want errs.ErrInvalidArgument", v, n, err)
			continue
		}
		f.wantValue(k, []byte(v))
	}
}

func incrOverflow(t *testing.T, f *fixture) {
	k := f.key("k")
	const largest = "9223372036854775807"
	f.set(k, []byte(largest), Hold)
	n, err := f.c.Incr(f.ctx, k, Hold)
	if !errors.Is(err, errs.ErrInvalidArgument) {
		t.Fatalf("Incr past the largest int64 = %d, %v; want errs.ErrInvalidArgument", n, err)
	}
	f.wantValue(k, []byte(largest))
}

func setNXAbsent(t *testing.T, f *fixture) {
	f.expiry(func(a *attempt) {
		k := a.key("k")
		start := time.Now()
		f.setNX(k, []byte("v"), TTL, true)
		if !a.wantValue(start, k, []byte("v")) {
			return
		}

		f.after(0.2)
		if !a.wantValue(start, k, []byte("v")) {
			return
		}

		f.after(1.0)
		f.wantMiss(k)
	})
}

func setNXPresent(t *testing.T, f *fixture) {
	s := f.key("set")
	f.set(s, []byte("by set"), Hold)
	f.setNX(s, []byte("by setnx"), Hold, false)
	f.wantValue(s, []byte("by set"))

	f.expiry(func(a *attempt) {
		k := a.key("k")
		start := time.Now()
		f.setNX(k, []byte("first"), TTL, true)
		f.after(0.6)
		if !a.setNXLoses(start, k, []byte("second"), 10*TTL) {
			return
		}
		if !a.wantValue(start, k, []byte("first")) {
			return
		}

		f.after(0.6) // the loser did not restart the ttl
		f.wantMiss(k)
	})
}

func setNXExpired(t *testing.T, f *fixture) {
	f.expiry(func(a *attempt) {
		k := a.key("k")
		f.set(k, []byte("old"), TTL)
		f.after(1.2)
		start := time.Now()
		f.setNX(k, []byte("new"), TTL, true)
		if !a.wantValue(start, k, []byte("new")) {
			return
		}

		f.after(0.6) // the new value has a ttl of its own
		if !a.wantValue(start, k, []byte("new")) {
			return
		}
	})
}

func setNXConcurrent(t *testing.T, f *fixture) {
	for round := range rounds {
		k := f.key(fmt.Sprint("round-", round))
		won := make([]bool, contenders)
		together(contenders, func(i int) {
			ok, err := f.c.SetNX(f.ctx, k, []byte(fmt.Sprint("caller-", i)), Hold)
			if err != nil {
				t.Errorf("round %d: SetNX: %v", round, err)
			}
			won[i] = ok
		})

		winner := -1
		for i, ok := range won {
			if !ok {
				continue
			}
			if winner >= 0 {
				t.Fatalf("round %d: callers %d and %d both won", round, winner, i)
			}
			winner = i
		}
		if winner < 0 {
			t.Fatalf("round %d: no caller won", round)
		}
		f.wantValue(k, []byte(fmt.Sprint("caller-", winner)))
	}
}

func nonPositiveTTL(t *testing.T, f *fixture) {
	present := f.key("present")
	f.set(present, []byte("kept"), Hold)
	absent := f.key("absent")

	for _, ttl := range []time.Duration{0, -time.Nanosecond, -time.Hour} {
		for _, k := range []string{present, absent} {
			err := f.c.Set(f.ctx, k, []byte("new"), ttl)
			if !errors.Is(err, errs.ErrInvalidArgument) {
				t.Errorf("Set with ttl %v: %v, want errs.ErrInvalidArgument", ttl, err)
			}
			ok, err := f.c.SetNX(f.ctx, k, []byte("new"), ttl)
			if ok || !errors.Is(err, errs.ErrInvalidArgument) {
				t.Errorf("SetNX with ttl %v = %v, %v; want false, errs.ErrInvalidArgument",
					ttl, ok, err)
			}
			n, err := f.c.Incr(f.ctx, k, ttl)
			if !errors.Is(err, errs.ErrInvalidArgument) {
				t.Errorf("Incr with ttl %v = %d, %v; want errs.ErrInvalidArgument", ttl, n, err)
			}
		}
	}
	f.wantValue(present, []byte("kept"))
	f.wantMiss(absent)
}

func keysIsolated(t *testing.T, f *fixture) {
	names := []string{"a", "A", "a:", "a:b", "a\x00", " a", "ä"}
	keys := make([]string, len(names))
	for i, name := range names {
		keys[i] = f.key(name)
		f.set(keys[i], []byte(fmt.Sprint(i)), Hold)
	}

	// Touch only keys[0] in every way; the others must not notice.
	f.incr(keys[0], Hold, 1)
	f.set(keys[0], []byte("x"), Hold)
	if _, err := f.c.GetDel(f.ctx, keys[0]); err != nil {
		t.Fatal(err)
	}
	f.setNX(keys[0], []byte("y"), Hold, true)
	if err := f.c.Delete(f.ctx, keys[0]); err != nil {
		t.Fatal(err)
	}

	f.wantMiss(keys[0])
	for i := 1; i < len(keys); i++ {
		f.wantValue(keys[i], []byte(fmt.Sprint(i)))
	}
}

func canceledContext(t *testing.T, f *fixture) {
	present := f.key("present")
	f.set(present, []byte("kept"), Hold)
	absent := f.key("absent")

	ctx, cancel := context.WithCancel(f.ctx)
	cancel()
	check := func(op string, err error) {
		t.Helper()
		if !errors.Is(err, context.Canceled) || !errors.Is(err, errs.ErrUnavailable) {
			t.Errorf("%s with a canceled context: %v, "+
				"want errs.ErrUnavailable wrapping context.Canceled", op, err)
		}
	}
	for _, k := range []string{present, absent} {
		_, err := f.c.Get(ctx, k)
		check("Get", err)
		check("Set", f.c.Set(ctx, k, []byte("new"), Hold))
		check("Delete", f.c.Delete(ctx, k))
		_, err = f.c.GetDel(ctx, k)
		check("GetDel", err)
		_, err = f.c.Incr(ctx, k, Hold)
		check("Incr", err)
		_, err = f.c.SetNX(ctx, k, []byte("new"), Hold)
		check("SetNX", err)
	}
	f.wantValue(present, []byte("kept"))
	f.wantMiss(absent)
}

func closedCache(t *testing.T, f *fixture) {
	k := f.key("k") // never written: nothing is left behind on a server
	f.close()

	check := func(op string, err error) {
		t.Helper()
		if !errors.Is(err, errs.ErrUnavailable) {
			t.Errorf("%s on a closed cache: %v, want errs.ErrUnavailable", op, err)
		}
	}
	_, err := f.c.Get(f.ctx, k)
	check("Get", err)
	check("Set", f.c.Set(f.ctx, k, []byte("v"), Hold))
	check("Delete", f.c.Delete(f.ctx, k))
	_, err = f.c.GetDel(f.ctx, k)
	check("GetDel", err)
	_, err = f.c.Incr(f.ctx, k, Hold)
	check("Incr", err)
	_, err = f.c.SetNX(f.ctx, k, []byte("v"), Hold)
	check("SetNX", err)
}
