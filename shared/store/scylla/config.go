package scylla

import (
	"fmt"
	"log/slog"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/gocql/gocql"
)

// Config says where the cluster is and how to talk to it. The zero value of
// each optional field picks the default written next to it.
type Config struct {
	// Hosts are "host" or "host:port" contact points; at least one.
	Hosts []string
	// Keyspace holds Ward's tables (default "ward"). It is created when
	// missing, with Replication.
	Keyspace string
	// Replication is used only when the keyspace is created (default
	// SimpleStrategy with one replica, fit for a single test node only).
	Replication Replication
	// LocalDC, when set, keeps requests in that data centre.
	LocalDC string
	// Consistency of reads and writes (default LOCAL_QUORUM). Lightweight
	// transactions use LOCAL_SERIAL for their Paxos phase.
	Consistency gocql.Consistency
	// ConnectTimeout bounds the dial and the handshake (default 5 s).
	ConnectTimeout time.Duration
	// Timeout bounds one request (default 10 s).
	Timeout time.Duration
	// Username and Password enable password authentication when Username
	// is set.
	Username string
	Password string
	// Logger receives the driver's own messages (default slog.Default()).
	Logger *slog.Logger
}

// Replication is a keyspace's replication strategy.
type Replication struct {
	// Class is "SimpleStrategy" or "NetworkTopologyStrategy" (default
	// SimpleStrategy).
	Class string
	// Factor is the replica count of SimpleStrategy (default 1).
	Factor int
	// DataCenters maps each data centre to its replica count for
	// NetworkTopologyStrategy.
	DataCenters map[string]int
}

const (
	simpleStrategy          = "SimpleStrategy"
	networkTopologyStrategy = "NetworkTopologyStrategy"
)

// DefaultKeyspace is the keyspace used when Config.Keyspace is empty.
const DefaultKeyspace = "ward"

// identifier is what Ward accepts as a keyspace name: an unquoted CQL
// identifier that Cassandra and ScyllaDB both allow (48 characters at most).
var identifier = regexp.MustCompile(`^[a-z][a-z0-9_]{0,47}$`)

// dcName is a data-centre name as written in a replication map.
var dcName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// withDefaults returns a copy of c with the defaults filled in, or an error
// for a setting that cannot work.
func (c Config) withDefaults() (Config, error) {
	if len(c.Hosts) == 0 {
		return c, fmt.Errorf("scylla: no hosts")
	}
	for _, h := range c.Hosts {
		if strings.TrimSpace(h) == "" {
			return c, fmt.Errorf("scylla: empty host")
		}
	}
	c.Hosts = append([]string(nil), c.Hosts...)
	if c.Keyspace == "" {
		c.Keyspace = DefaultKeyspace
	}
	if !identifier.MatchString(c.Keyspace) {
		return c, fmt.Errorf("scylla: keyspace %q is not a lower-case identifier of at most 48 "+
			"characters", c.Keyspace)
	}
	r, err := c.Replication.withDefaults()
	if err != nil {
		return c, err
	}
	c.Replication = r
	if c.Consistency == 0 { // gocql.Any is 0: never a sensible choice here
		c.Consistency = gocql.LocalQuorum
	}
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = 5 * time.Second
	}
	if c.Timeout <= 0 {
		c.Timeout = 10 * time.Second
	}
	if c.Password != "" && c.Username == "" {
		return c, fmt.Errorf("scylla: password set without username")
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, nil
}

func (r Replication) withDefaults() (Replication, error) {
	if r.Class == "" {
		r.Class = simpleStrategy
	}
	switch r.Class {
	case simpleStrategy:
		if len(r.DataCenters) > 0 {
			return r, fmt.Errorf("scylla: SimpleStrategy takes Factor, not DataCenters")
		}
		if r.Factor == 0 {
			r.Factor = 1
		}
		if r.Factor < 1 || r.Factor > 32 {
			return r, fmt.Errorf("scylla: replication factor %d out of range 1..32", r.Factor)
		}
	case networkTopologyStrategy:
		if r.Factor != 0 {
			return r, fmt.Errorf("scylla: NetworkTopologyStrategy takes DataCenters, not Factor")
		}
		if len(r.DataCenters) == 0 {
			return r, fmt.Errorf("scylla: NetworkTopologyStrategy needs at least one data centre")
		}
		dcs := make(map[string]int, len(r.DataCenters))
		for dc, n := range r.DataCenters {
			if !dcName.MatchString(dc) {
				return r, fmt.Errorf("scylla: data centre name %q not allowed", dc)
			}
			if n < 1 || n > 32 {
				return r, fmt.Errorf("scylla: replication factor %d of %q out of range 1..32",
					n, dc)
			}
			dcs[dc] = n
		}
		r.DataCenters = dcs
	default:
		return r, fmt.Errorf("scylla: replication class %q not supported", r.Class)
	}
	return r, nil
}

// cql renders the replication map, e.g.
// {'class': 'SimpleStrategy', 'replication_factor': 1}. Data centres are
// sorted so that the text is stable. r must have passed withDefaults.
func (r Replication) cql() string {
	var b strings.Builder
	b.WriteString("{'class': '")
	b.WriteString(r.Class)
	b.WriteString("'")
	if r.Class == simpleStrategy {
		fmt.Fprintf(&b, ", 'replication_factor': %d", r.Factor)
	}
	dcs := make([]string, 0, len(r.DataCenters))
	for dc := range r.DataCenters {
		dcs = append(dcs, dc)
	}
	sort.Strings(dcs)
	for _, dc := range dcs {
		fmt.Fprintf(&b, ", '%s': %d", dc, r.DataCenters[dc])
	}
	b.WriteString("}")
	return b.String()
}
