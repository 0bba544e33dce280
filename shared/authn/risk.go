package authn

import (
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
	"slices"
	"time"

	"github.com/wardhq/ward/shared/store"
)

// Risk of a sign-in, from 0 to 100, as the sum of the weights of the
// signals below that hold (capped at 100). An ADAPTIVE tenant asks for a
// second factor when the score reaches its threshold (default 50), so with
// the default weights an unknown device on a new network is enough, a new
// network alone is not, and a known device on a known network becomes
// risky after repeated failures or a long time without a strong sign-in.
const (
	weightUnknownDevice  = 35
	weightNewNetwork     = 25
	weightPerFailure     = 10 // failed attempts of the account just before
	maxFailureWeight     = 30
	weightStaleStrong    = 20 // no strong sign-in for staleStrongAfter
	weightAgingStrong    = 10 // no strong sign-in for agingStrongAfter
	staleStrongAfter     = 30 * 24 * time.Hour
	agingStrongAfter     = 7 * 24 * time.Hour
	maxRiskScore         = 100
	networkPrefixBitsV4  = 24
	networkPrefixBitsV6  = 48
	signalUnknownDevice  = "unknown_device"
	signalNewNetwork     = "new_network"
	signalFailedAttempts = "failed_attempts"
	signalStaleStrong    = "no_recent_strong_sign_in"
)

// Risk is a scored sign-in: the score and the signals that made it.
type Risk struct {
	Score   int
	Signals []string
}

// signals are the facts a risk score is computed from.
type signals struct {
	deviceHash string // "" when the client gave no device ID
	network    string // "" when the client's IP is unknown
	failures   int64  // the account's failures before this sign-in
	record     store.SignInRecord
	now        time.Time
}

// score computes the risk of a sign-in.
func score(s signals) Risk {
	var r Risk
	add := func(w int, name string) {
		r.Score += w
		r.Signals = append(r.Signals, name)
	}
	if s.deviceHash == "" || !slices.ContainsFunc(s.record.Devices,
		func(d store.KnownDevice) bool { return d.ID == s.deviceHash }) {
		add(weightUnknownDevice, signalUnknownDevice)
	}
	if s.network == "" || !slices.ContainsFunc(s.record.Networks,
		func(n store.KnownNetwork) bool { return n.Prefix == s.network }) {
		add(weightNewNetwork, signalNewNetwork)
	}
	if s.failures > 0 {
		add(int(min(s.failures*weightPerFailure, maxFailureWeight)), signalFailedAttempts)
	}
	switch since := s.now.Sub(s.record.LastStrongAt); {
	case s.record.LastStrongAt.IsZero() || since >= staleStrongAfter:
		add(weightStaleStrong, signalStaleStrong)
	case since >= agingStrongAfter:
		add(weightAgingStrong, signalStaleStrong)
	}
	r.Score = min(r.Score, maxRiskScore)
	return r
}

// deviceHash is what Ward keeps of a device ID: its SHA-256, bound to the
// tenant so that one device's hash says nothing about it elsewhere.
func deviceHash(tenantID, deviceID string) string {
	if deviceID == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(tenantID + "\x00" + deviceID))
	return hex.EncodeToString(sum[:])
}

// networkOf is the network an IP belongs to for risk purposes: its IPv4
// /24 or IPv6 /48, in CIDR notation; "" for no or a malformed IP.
func networkOf(ip string) string {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return ""
	}
	addr = addr.Unmap()
	bits := networkPrefixBitsV4
	if addr.Is6() {
		bits = networkPrefixBitsV6
	}
	p, err := addr.Prefix(bits)
	if err != nil {
		return ""
	}
	return p.String()
}

// remember adds a sign-in's device and network to a record, most recent
// first, dropping the least recently seen past the bounds.
func remember(r store.SignInRecord, device, network string, now time.Time,
	strong bool) store.SignInRecord {
	if device != "" {
		first := now
		if i := slices.IndexFunc(r.Devices, func(d store.KnownDevice) bool { return d.ID == device }); i >= 0 {
			first = r.Devices[i].FirstSeen
			r.Devices = slices.Delete(slices.Clone(r.Devices), i, i+1)
		}
		r.Devices = append([]store.KnownDevice{{ID: device, FirstSeen: first, LastSeen: now}},
			r.Devices...)
		r.Devices = r.Devices[:min(len(r.Devices), store.MaxKnownDevices)]
	}
	if network != "" {
		r.Networks = slices.DeleteFunc(slices.Clone(r.Networks),
			func(n store.KnownNetwork) bool { return n.Prefix == network })
		r.Networks = append([]store.KnownNetwork{{Prefix: network, LastSeen: now}}, r.Networks...)
		r.Networks = r.Networks[:min(len(r.Networks), store.MaxKnownNetworks)]
	}
	r.LastSignInAt = now
	if strong {
		r.LastStrongAt = now
	}
	return r
}
