package scylla

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"

	"github.com/gocql/gocql"
)

func TestSettle(t *testing.T) {
	s := &Store{log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	casTimeout := &gocql.RequestErrWriteTimeout{WriteType: "CAS"}
	other := errors.New("syntax error")
	readFails := errors.New("read failed")
	answer := func(ok bool, err error) func(context.Context) (bool, error) {
		return func(context.Context) (bool, error) { return ok, err }
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()

	tests := []struct {
		name    string
		ctx     context.Context
		err     error
		landed  func(context.Context) (bool, error)
		want    bool
		wantErr error
	}{
		{"a timeout whose write is in place landed", context.Background(), casTimeout,
			answer(true, nil), true, nil},
		{"a timeout whose write is absent did not land", context.Background(), casTimeout,
			answer(false, nil), false, nil},
		{"a client-side timeout is settled too", context.Background(),
			gocql.ErrTimeoutNoResponse, answer(true, nil), true, nil},
		{"a failed read leaves the outcome unknown", context.Background(), casTimeout,
			answer(true, readFails), false, casTimeout},
		{"other errors are not settled", context.Background(), other,
			answer(true, nil), false, other},
		{"an ended context is not read through", cancelled, casTimeout,
			answer(true, nil), false, casTimeout},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.settle(tc.ctx, tc.err, tc.landed)
			if got != tc.want || !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Errorf("settle = %v, %v; want %v, %v", got, err, tc.want, tc.wantErr)
			}
		})
	}
}
