package authn

import (
	"slices"
	"testing"
	"time"

	"github.com/wardhq/ward/shared/store"
)

func TestRiskScore(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	dev := deviceHash("t", "laptop")
	known := store.SignInRecord{
		Devices:      []store.KnownDevice{{ID: dev}},
		Networks:     []store.KnownNetwork{{Prefix: "203.0.113.0/24"}},
		LastStrongAt: now.Add(-24 * time.Hour),
	}
	cases := []struct {
		name    string
		s       signals
		score   int
		signals []string
	}{
		{"a known device on a known network", signals{deviceHash: dev, network: "203.0.113.0/24",
			record: known, now: now}, 0, nil},
		{"a new network", signals{deviceHash: dev, network: "198.51.100.0/24", record: known,
			now: now}, 25, []string{signalNewNetwork}},
		{"an unknown device", signals{deviceHash: deviceHash("t", "phone"),
			network: "203.0.113.0/24", record: known, now: now}, 35, []string{signalUnknownDevice}},
		{"no device ID at all", signals{network: "203.0.113.0/24", record: known, now: now}, 35,
			[]string{signalUnknownDevice}},
		{"failures just before", signals{deviceHash: dev, network: "203.0.113.0/24",
			record: known, now: now, failures: 2}, 20, []string{signalFailedAttempts}},
		{"many failures are capped", signals{deviceHash: dev, network: "203.0.113.0/24",
			record: known, now: now, failures: 9}, 30, []string{signalFailedAttempts}},
		{"ten days since a strong sign-in", signals{deviceHash: dev, network: "203.0.113.0/24",
			record: known, now: now.Add(9 * 24 * time.Hour)}, 10, []string{signalStaleStrong}},
		{"a first sign-in", signals{deviceHash: dev, network: "203.0.113.0/24", now: now,
			failures: 5}, 100, []string{signalUnknownDevice, signalNewNetwork,
			signalFailedAttempts, signalStaleStrong}},
	}
	for _, tc := range cases {
		got := score(tc.s)
		if got.Score != tc.score || !slices.Equal(got.Signals, tc.signals) {
			t.Errorf("%s: %+v, want %d %v", tc.name, got, tc.score, tc.signals)
		}
	}
}

func TestNetworksAndRemembering(t *testing.T) {
	for ip, want := range map[string]string{
		"203.0.113.77": "203.0.113.0/24", "::ffff:203.0.113.77": "203.0.113.0/24",
		"2001:db8:abcd:12::1": "2001:db8:abcd::/48", "": "", "not an ip": "",
	} {
		if got := networkOf(ip); got != want {
			t.Errorf("networkOf(%q) = %q, want %q", ip, got, want)
		}
	}
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	var r store.SignInRecord
	for i := range store.MaxKnownDevices + 3 {
		r = remember(r, deviceHash("t", string(rune('a'+i))), "203.0.113.0/24",
			now.Add(time.Duration(i)*time.Minute), false)
	}
	if len(r.Devices) != store.MaxKnownDevices || len(r.Networks) != 1 ||
		r.Devices[0].ID != deviceHash("t", string(rune('a'+store.MaxKnownDevices+2))) {
		t.Errorf("after many devices: %d devices, %d networks, newest %s", len(r.Devices),
			len(r.Networks), r.Devices[0].ID)
	}
	again := deviceHash("t", string(rune('a'+5)))
	r = remember(r, again, "", now.Add(time.Hour), true)
	if r.Devices[0].ID != again || !r.Devices[0].FirstSeen.Equal(now.Add(5*time.Minute)) ||
		!r.LastStrongAt.Equal(now.Add(time.Hour)) || r.Check() != nil {
		t.Errorf("a device seen again: %+v, strong %v, check %v", r.Devices[0], r.LastStrongAt,
			r.Check())
	}
}
