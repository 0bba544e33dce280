package scylla

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/gocql/gocql"
	"github.com/scylladb/gocqlx/v2"
)

// maxCASAttempts bounds the read-modify-write rounds of one Update or
// Delete. Every round that one writer loses, another wins, so only a
// writer outpaced this often by a stream of others gives up, with
// ErrConflict.
const maxCASAttempts = 64

// backoff waits a little, more after each lost round, so that writers who
// keep colliding spread out instead of colliding again at once.
func backoff(ctx context.Context, attempt int) {
	if attempt == 0 {
		return
	}
	ceiling := min(time.Duration(attempt)*2*time.Millisecond, 50*time.Millisecond)
	t := time.NewTimer(rand.N(ceiling) + time.Millisecond)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// settle decides the outcome of a lightweight transaction that failed with
// err. When err is a timeout, the write may or may not have landed; a read
// at serial consistency completes or aborts any Paxos round still in
// flight, so what it sees is final, and landed asks it whether the write's
// intended state is in place. settle returns (true, nil) when the write
// landed, (false, nil) when it did not, and (false, err) when that cannot
// be known.
func (s *Store) settle(ctx context.Context, err error,
	landed func(ctx context.Context) (bool, error)) (bool, error) {
	if !isCASTimeout(err) || ctx.Err() != nil {
		return false, err
	}
	ok, rerr := landed(ctx)
	if rerr != nil {
		return false, err
	}
	if ok {
		s.log.Info("a lightweight transaction that timed out had landed")
	}
	return ok, nil
}

// serial turns a read into a Paxos read that sees every write acknowledged
// or in flight.
func serial(q *gocqlx.Queryx) *gocqlx.Queryx {
	return q.Consistency(gocql.LocalSerial)
}
