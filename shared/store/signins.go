package store

import (
	"context"
	"net/netip"
	"strings"
	"time"

	"github.com/wardhq/ward/shared/errs"
)

// SignInRecord is what Ward remembers of a user's past sign-ins to judge
// the risk of the next one: the devices and networks seen, and when the
// user last signed in, with and without a second factor. It holds no
// address in the clear: devices are kept as hashes of their IDs, networks
// as prefixes (an IPv4 /24, an IPv6 /48).
type SignInRecord struct {
	TenantID string `json:"tenantId"`
	UserID   string `json:"userId"`
	// Devices are the known devices, most recently seen first, at most
	// MaxKnownDevices.
	Devices []KnownDevice `json:"devices,omitempty"`
	// Networks are the known networks, most recently seen first, at most
	// MaxKnownNetworks.
	Networks []KnownNetwork `json:"networks,omitempty"`
	// LastSignInAt is the last successful sign-in; LastStrongAt the last
	// one with a second factor (a sign-in or a step-up). Zero: never.
	LastSignInAt time.Time `json:"lastSignInAt"`
	LastStrongAt time.Time `json:"lastStrongAt"`
	Version      int64     `json:"version"`
}

// KnownDevice is a device a user signed in from. ID is the hex SHA-256 of
// the device identifier the client presented.
type KnownDevice struct {
	ID        string    `json:"id"`
	FirstSeen time.Time `json:"firstSeen"`
	LastSeen  time.Time `json:"lastSeen"`
}

// KnownNetwork is a network a user signed in from, as a prefix in CIDR
// notation ("203.0.113.0/24", "2001:db8:1::/48").
type KnownNetwork struct {
	Prefix   string    `json:"prefix"`
	LastSeen time.Time `json:"lastSeen"`
}

// Bounds of a SignInRecord.
const (
	MaxKnownDevices  = 20
	MaxKnownNetworks = 20
)

// SignIns stores one SignInRecord per user. Every method is scoped by
// tenant like Users.
//
// Get returns the user's record, ErrNotFound when the user has none (has
// never signed in, or does not exist).
//
// Update reads the record, or a zero one with TenantID and UserID set and
// Version 0 when there is none, applies fn and writes the result if nobody
// wrote in between (compare-and-swap on Version, like Tenants.Update); fn
// may run more than once. The user must exist in the tenant, else
// ErrNotFound and nothing is written. A record over the bounds above, a
// device ID that is not 64 hex digits or a prefix that is not a CIDR
// prefix of at most 64 bytes is ErrInvalidArgument and writes nothing.
// Times are kept at millisecond precision and returned in UTC.
//
// Users.Delete deletes the user's record with the user.
type SignIns interface {
	Get(ctx context.Context, tenantID, userID string) (SignInRecord, error)
	Update(ctx context.Context, tenantID, userID string,
		fn func(SignInRecord) (SignInRecord, error)) (SignInRecord, error)
}

// Check reports whether r is within the bounds SignIns.Update enforces;
// backends call it before they write.
func (r SignInRecord) Check() error {
	if len(r.Devices) > MaxKnownDevices {
		return errs.Invalid("devices", "at most %d", MaxKnownDevices)
	}
	if len(r.Networks) > MaxKnownNetworks {
		return errs.Invalid("networks", "at most %d", MaxKnownNetworks)
	}
	for _, d := range r.Devices {
		if len(d.ID) != 64 || strings.Trim(d.ID, "0123456789abcdef") != "" {
			return errs.Invalid("devices.id", "must be 64 lower-case hex digits")
		}
	}
	for _, n := range r.Networks {
		p, err := netip.ParsePrefix(n.Prefix)
		if len(n.Prefix) > 64 || err != nil || p.Masked() != p {
			return errs.Invalid("networks.prefix", "must be a network prefix in CIDR notation")
		}
	}
	return nil
}
