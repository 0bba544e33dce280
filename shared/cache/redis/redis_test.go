package redis

import (
	"crypto/tls"
	"errors"
	"math"
	"net"
	"testing"
	"time"

	"github.com/wardhq/ward/shared/errs"
)

func TestConfigIsValidated(t *testing.T) {
	tests := []struct {
		name  string
		cfg   Config
		field string
	}{
		{"no address", Config{}, "Addrs"},
		{"an empty address", Config{Addrs: []string{"127.0.0.1:6379", " "}}, "Addrs"},
		{"a negative db", Config{Addrs: []string{"127.0.0.1:6379"}, DB: -1}, "DB"},
		{"a negative client cache ttl",
			Config{Addrs: []string{"127.0.0.1:6379"}, ClientCacheTTL: -time.Second},
			"ClientCacheTTL"},
		{"an empty stale-read prefix",
			Config{Addrs: []string{"127.0.0.1:6379"}, StaleReadPrefixes: []string{"ok:", ""}},
			"StaleReadPrefixes"},
		{"a negative dial timeout",
			Config{Addrs: []string{"127.0.0.1:6379"}, DialTimeout: -time.Second}, "DialTimeout"},
		{"a tls config with tls off",
			Config{Addrs: []string{"127.0.0.1:6379"}, TLSConfig: &tls.Config{}}, "TLSConfig"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			var e *errs.Error
			if !errors.As(err, &e) || e.Code != errs.InvalidArgument || e.Field != tt.field {
				t.Fatalf("New: %v, want errs.ErrInvalidArgument on field %s", err, tt.field)
			}
		})
	}
}

func TestUnreachableServerIsUnavailable(t *testing.T) {
	// A port that was just free and is closed again refuses connections.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()

	c, err := New(Config{Addrs: []string{addr}, DialTimeout: time.Second})
	if err == nil {
		c.Close()
		t.Fatal("New succeeded against a closed port")
	}
	if !errors.Is(err, errs.ErrUnavailable) {
		t.Fatalf("New: %v, want errs.ErrUnavailable", err)
	}
	var e *errs.Error
	if !errors.As(err, &e) || e.Cause == nil {
		t.Fatalf("New: %v, want the connection failure kept as the cause", err)
	}
}

func TestMillisRoundsUp(t *testing.T) {
	tests := []struct {
		ttl  time.Duration
		want int64
	}{
		{time.Nanosecond, 1},
		{time.Millisecond, 1},
		{time.Millisecond + time.Nanosecond, 2},
		{1500 * time.Microsecond, 2},
		{2 * time.Second, 2000},
		{math.MaxInt64, math.MaxInt64/int64(time.Millisecond) + 1},
	}
	for _, tt := range tests {
		got, err := millis(tt.ttl)
		if err != nil || got != tt.want {
			t.Errorf("millis(%v) = %d, %v; want %d", tt.ttl, got, err, tt.want)
		}
	}
	for _, ttl := range []time.Duration{0, -time.Millisecond} {
		if _, err := millis(ttl); !errors.Is(err, errs.ErrInvalidArgument) {
			t.Errorf("millis(%v): %v, want errs.ErrInvalidArgument", ttl, err)
		}
	}
}
