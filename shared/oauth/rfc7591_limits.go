package oauth

import (
	"context"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/httpx"
)

// Rate limits of dynamic client registration, counted in the cache in
// fixed windows so that every instance sees the same counts. Each client
// network (an IPv4 address, or the /64 of an IPv6 one) may send
// registrationsPerNetwork registration requests to a tenant in a window,
// whatever becomes of them; a tenant takes registrationsPerTenant
// registrations in a window, counted once a request has passed the
// per-network limit, its metadata read and, at a TOKEN tenant, its
// initial access token. So strangers without a token cannot use up a
// TOKEN tenant's count. A request over a limit is 429 with Retry-After
// (the end of the window).
//
// The error code is temporarily_unavailable (RFC 6749 section 4.1.2.1),
// not invalid_request: the request is well formed and may succeed as
// sent once the window ends, which is what that code tells a client.
// RFC 7591 defines no code for it.
const (
	registrationWindow      = time.Hour
	registrationsPerNetwork = 10
	registrationsPerTenant  = 100
)

// networkKey is the counted network of an address: an IPv4 address, or
// the /64 of an IPv6 one (one host usually holds a whole /64). Requests
// without a readable address share one count.
func networkKey(ip string) string {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return "unknown"
	}
	addr = addr.Unmap()
	if addr.Is6() {
		p, _ := addr.Prefix(64)
		return p.String()
	}
	return addr.String()
}

// countRegistration counts one request under key in the current window
// and refuses it past limit. Without a cache nothing can be counted, and
// registration is refused (503) rather than left unbounded.
func (s *service) countRegistration(ctx context.Context, key string, limit int64) error {
	if s.cache == nil {
		return errs.New(errs.Unavailable, "no cache to count registrations")
	}
	now := s.now()
	start := now.Truncate(registrationWindow)
	n, err := s.cache.Incr(ctx, "oauth:dcr:"+key+":"+strconv.FormatInt(start.Unix(), 10),
		registrationWindow)
	if err != nil {
		return err
	}
	if n <= limit {
		return nil
	}
	wait := start.Add(registrationWindow).Sub(now)
	return &protocolError{code: errUnavailable, status: http.StatusTooManyRequests,
		description: "too many registrations; try again later",
		retryAfter:  max(int64(math.Ceil(wait.Seconds())), 1)}
}

// limitNetwork counts a registration request of r's network at tenantID.
func (s *service) limitNetwork(ctx context.Context, r *http.Request, tenantID string) error {
	return s.countRegistration(ctx, "n:"+tenantID+":"+networkKey(httpx.ClientIP(r)),
		registrationsPerNetwork)
}

// limitTenant counts a registration at tenantID.
func (s *service) limitTenant(ctx context.Context, tenantID string) error {
	return s.countRegistration(ctx, "t:"+tenantID, registrationsPerTenant)
}
