// Package loadgen runs a closed-loop load from a fixed number of workers
// for a fixed time and reports throughput and latency percentiles. Every
// call is checked by the caller's function; one failure fails the run.
package loadgen

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Result is one measured run.
type Result struct {
	Concurrency int
	Duration    time.Duration
	Latencies   []time.Duration // sorted
}

// Run calls fn from conc workers until warm+dur has passed; calls started
// during the warm-up are not measured. fn's worker argument is 0..conc-1.
func Run(conc int, dur, warm time.Duration, fn func(ctx context.Context, worker int) error) (
	Result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), warm+dur)
	defer cancel()
	measureFrom := time.Now().Add(warm)

	var mu sync.Mutex
	var lat []time.Duration
	var failures int
	var firstErr error
	var wg sync.WaitGroup
	for w := range conc {
		wg.Go(func() {
			var mine []time.Duration
			var bad int
			var errOne error
			for ctx.Err() == nil {
				start := time.Now()
				err := fn(ctx, w)
				if ctx.Err() != nil {
					break
				}
				el := time.Since(start)
				if start.Before(measureFrom) {
					continue
				}
				if err != nil {
					bad++
					if errOne == nil {
						errOne = err
					}
					continue
				}
				mine = append(mine, el)
			}
			mu.Lock()
			lat = append(lat, mine...)
			failures += bad
			if firstErr == nil {
				firstErr = errOne
			}
			mu.Unlock()
		})
	}
	wg.Wait()

	if failures > 0 {
		return Result{}, fmt.Errorf("%d failed calls; first: %w", failures, firstErr)
	}
	if len(lat) == 0 {
		return Result{}, fmt.Errorf("no call completed")
	}
	slices.Sort(lat)
	return Result{Concurrency: conc, Duration: dur, Latencies: lat}, nil
}

// Percentile is the latency below which a fraction p of the calls fell.
func (r Result) Percentile(p float64) time.Duration {
	return r.Latencies[int(float64(len(r.Latencies)-1)*p)]
}

// PerSecond is the measured throughput.
func (r Result) PerSecond() float64 { return float64(len(r.Latencies)) / r.Duration.Seconds() }

// String is the one line a load command prints.
func (r Result) String() string {
	us := func(d time.Duration) time.Duration { return d.Round(time.Microsecond) }
	return fmt.Sprintf("concurrency %d, %s: %d calls, %.0f/s, p50 %s, p90 %s, p99 %s, max %s",
		r.Concurrency, r.Duration, len(r.Latencies), r.PerSecond(), us(r.Percentile(0.50)),
		us(r.Percentile(0.90)), us(r.Percentile(0.99)), us(r.Latencies[len(r.Latencies)-1]))
}
