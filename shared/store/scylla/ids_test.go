package scylla

import (
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/wardhq/ward/shared/errs"
)

func TestCheckID(t *testing.T) {
	good := uuid.Must(uuid.NewV7()).String()
	if err := checkID("id", good); err != nil {
		t.Errorf("checkID(%q) = %v", good, err)
	}
	for _, bad := range []string{
		"",
		"0190A6E2-5B7C-7D3E-8F4A-1B2C3D4E5F60",
		"{0190a6e2-5b7c-7d3e-8f4a-1b2c3d4e5f60}",
		"urn:uuid:0190a6e2-5b7c-7d3e-8f4a-1b2c3d4e5f60",
		"0190a6e25b7c7d3e8f4a1b2c3d4e5f60",
		"0190a6e2-5b7c-4d3e-8f4a-1b2c3d4e5f60", // version 4
		"0190a6e2-5b7c-7d3e-cf4a-1b2c3d4e5f60", // Microsoft variant
		uuid.Nil.String(),
	} {
		err := checkID("id", bad)
		if !errors.Is(err, errs.ErrInvalidArgument) {
			t.Errorf("checkID(%q) = %v, want ErrInvalidArgument", bad, err)
		}
	}
}

func TestDBTime(t *testing.T) {
	in := time.Date(2031, 5, 6, 7, 8, 9, 123456789, time.FixedZone("UTC+1", 3600))
	got := dbTime(in)
	want := time.Date(2031, 5, 6, 6, 8, 9, 123000000, time.UTC)
	if !got.Equal(want) || got.Location() != time.UTC {
		t.Errorf("dbTime = %v, want %v", got, want)
	}
	if !dbTime(time.Time{}).IsZero() {
		t.Error("the zero time does not stay zero")
	}
}

func TestTTLSeconds(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		exp  time.Time
		want int
		ok   bool
	}{
		{"no expiry", time.Time{}, 0, true},
		{"a whole second, plus the server's second", now.Add(time.Second), 2, true},
		{"part of a second is rounded up", now.Add(1500 * time.Millisecond), 3, true},
		{"an hour", now.Add(time.Hour), 3601, true},
		{"beyond CQL's longest TTL: none", now.Add(maxTTL + time.Second), 0, true},
		{"already past", now.Add(-time.Millisecond), 0, false},
		{"now", now, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ttlSeconds(tc.exp, now)
			if (err == nil) != tc.ok || got != tc.want {
				t.Errorf("ttlSeconds = %d, %v; want %d (ok %v)", got, err, tc.want, tc.ok)
			}
		})
	}
}
