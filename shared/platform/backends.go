package platform

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/gocql/gocql"

	"github.com/wardhq/ward/shared/cache"
	"github.com/wardhq/ward/shared/cache/memory"
	"github.com/wardhq/ward/shared/cache/redis"
	"github.com/wardhq/ward/shared/config"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/store/bolt"
	"github.com/wardhq/ward/shared/store/scylla"
)

func openStore(ctx context.Context, cfg config.Config) (store.Store, error) {
	switch cfg.Store {
	case "scylla":
		sc, err := scyllaConfig(cfg.Scylla)
		if err != nil {
			return nil, err
		}
		return scylla.Open(ctx, sc)
	default:
		path, err := dataFile(cfg)
		if err != nil {
			return nil, err
		}
		return bolt.Open(path)
	}
}

// scyllaConfig turns the environment's settings into the backend's.
// WARD_SCYLLA_REPLICATION is "SimpleStrategy:<factor>" or
// "NetworkTopologyStrategy:<dc>=<factor>,<dc>=<factor>".
func scyllaConfig(c config.Scylla) (scylla.Config, error) {
	sc := scylla.Config{
		Hosts:    c.Hosts,
		Keyspace: c.Keyspace,
		LocalDC:  c.LocalDC,
		Username: c.Username,
		Password: c.Password,
	}
	if c.Consistency != "" {
		var cons gocql.Consistency
		if err := cons.UnmarshalText([]byte(strings.ToUpper(c.Consistency))); err != nil {
			return sc, fmt.Errorf("WARD_SCYLLA_CONSISTENCY: %q is not a consistency level", c.Consistency)
		}
		sc.Consistency = cons
	}
	if c.Replication == "" {
		return sc, nil
	}
	class, spec, _ := strings.Cut(c.Replication, ":")
	sc.Replication.Class = class
	switch class {
	case "SimpleStrategy":
		n, err := strconv.Atoi(spec)
		if err != nil || n < 1 {
			return sc, fmt.Errorf("WARD_SCYLLA_REPLICATION: want SimpleStrategy:<factor>")
		}
		sc.Replication.Factor = n
	case "NetworkTopologyStrategy":
		sc.Replication.DataCenters = map[string]int{}
		for _, kv := range strings.Split(spec, ",") {
			dc, f, ok := strings.Cut(kv, "=")
			n, err := strconv.Atoi(f)
			if !ok || err != nil || n < 1 || dc == "" {
				return sc, fmt.Errorf("WARD_SCYLLA_REPLICATION: want NetworkTopologyStrategy:<dc>=<factor>,...")
			}
			sc.Replication.DataCenters[dc] = n
		}
	default:
		return sc, fmt.Errorf("WARD_SCYLLA_REPLICATION: unknown strategy %q", class)
	}
	return sc, nil
}

func openCache(_ context.Context, cfg config.Config) (cache.Cache, error) {
	switch cfg.Cache {
	case "redis":
		return redis.New(redis.Config{
			Addrs:    []string{cfg.Redis.Addr},
			Password: cfg.Redis.Password,
			DB:       cfg.Redis.DB,
			TLS:      cfg.Redis.TLS,
		})
	default:
		return memory.New(memory.Options{})
	}
}
