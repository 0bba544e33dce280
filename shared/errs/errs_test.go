package errs

import (
	"errors"
	"fmt"
	"testing"
)

func TestSentinelsMatchByCode(t *testing.T) {
	err := fmt.Errorf("loading user: %w", New(NotFound, "user %s not found", "u1"))
	if !errors.Is(err, ErrNotFound) {
		t.Error("a wrapped not-found error does not match ErrNotFound")
	}
	if errors.Is(err, ErrConflict) {
		t.Error("a not-found error matches ErrConflict")
	}
	if errors.Is(New(NotFound, "a"), New(NotFound, "b")) {
		t.Error("two errors with messages match each other; only sentinels should match by code")
	}
}

func TestPublicDropsTheCause(t *testing.T) {
	cause := errors.New("dial tcp 10.0.0.7:9042: connection refused")
	err := Wrap(Unavailable, cause, "store unavailable")
	if !errors.Is(err, cause) {
		t.Error("the cause is not reachable through Unwrap")
	}
	p := Public(err)
	if p.Cause != nil || p.Code != Unavailable || p.Message != "store unavailable" {
		t.Errorf("Public = %+v", p)
	}
	if got := Public(errors.New("secret detail")); got.Code != Internal || got.Message != "internal error" {
		t.Errorf("Public(uncoded) = %+v, want a bare internal error", got)
	}
	if CodeOf(errors.New("x")) != Internal || CodeOf(Invalid("f", "bad")) != InvalidArgument {
		t.Error("CodeOf is wrong")
	}
}
