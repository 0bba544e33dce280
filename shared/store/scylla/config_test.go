package scylla

import (
	"testing"
	"time"

	"github.com/gocql/gocql"
)

func TestConfigDefaults(t *testing.T) {
	in := Config{Hosts: []string{"127.0.0.1:9042"}}
	got, err := in.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if got.Keyspace != "ward" || got.Consistency != gocql.LocalQuorum ||
		got.Timeout != 10*time.Second || got.ConnectTimeout != 5*time.Second ||
		got.Logger == nil {
		t.Errorf("defaults not filled in: %+v", got)
	}
	if got.Replication.Class != simpleStrategy || got.Replication.Factor != 1 {
		t.Errorf("replication = %+v, want SimpleStrategy with factor 1", got.Replication)
	}
	if in.Keyspace != "" || in.Replication.Class != "" {
		t.Errorf("withDefaults changed its receiver: %+v", in)
	}

	in.Hosts[0] = "changed"
	if got.Hosts[0] != "127.0.0.1:9042" {
		t.Errorf("the result shares its Hosts with the input")
	}
}

func TestConfigRefusesBadSettings(t *testing.T) {
	hosts := []string{"127.0.0.1"}
	tests := []struct {
		name string
		cfg  Config
	}{
		{"no hosts", Config{}},
		{"a blank host", Config{Hosts: []string{" "}}},
		{"a keyspace with a quote", Config{Hosts: hosts, Keyspace: "ward'; DROP"}},
		{"an upper-case keyspace", Config{Hosts: hosts, Keyspace: "Ward"}},
		{"a keyspace of 49 characters", Config{Hosts: hosts,
			Keyspace: "k123456789012345678901234567890123456789012345678"}},
		{"an unknown class", Config{Hosts: hosts, Replication: Replication{Class: "Local"}}},
		{"a negative factor", Config{Hosts: hosts, Replication: Replication{Factor: -1}}},
		{"SimpleStrategy with data centres", Config{Hosts: hosts, Replication: Replication{
			DataCenters: map[string]int{"dc1": 3}}}},
		{"NetworkTopologyStrategy without data centres", Config{Hosts: hosts,
			Replication: Replication{Class: networkTopologyStrategy}}},
		{"NetworkTopologyStrategy with a factor", Config{Hosts: hosts, Replication: Replication{
			Class: networkTopologyStrategy, Factor: 3, DataCenters: map[string]int{"dc1": 3}}}},
		{"a data centre name with a quote", Config{Hosts: hosts, Replication: Replication{
			Class: networkTopologyStrategy, DataCenters: map[string]int{"dc1'": 3}}}},
		{"a data centre without replicas", Config{Hosts: hosts, Replication: Replication{
			Class: networkTopologyStrategy, DataCenters: map[string]int{"dc1": 0}}}},
		{"a password without a username", Config{Hosts: hosts, Password: "secret"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tc.cfg.withDefaults(); err == nil {
				t.Error("accepted")
			}
		})
	}
}
