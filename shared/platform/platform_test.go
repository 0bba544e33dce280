package platform

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/gocql/gocql"

	"github.com/wardhq/ward/shared/config"
)

func TestScyllaConfigFromEnvironment(t *testing.T) {
	sc, err := scyllaConfig(config.Scylla{
		Hosts: []string{"a"}, Keyspace: "k", Consistency: "local_one",
		Replication: "NetworkTopologyStrategy:eu=3,us=2",
	})
	if err != nil {
		t.Fatal(err)
	}
	if sc.Consistency != gocql.LocalOne || sc.Replication.DataCenters["eu"] != 3 || sc.Replication.DataCenters["us"] != 2 {
		t.Errorf("config = %+v", sc)
	}
	for _, bad := range []config.Scylla{
		{Replication: "SimpleStrategy:0"},
		{Replication: "SimpleStrategy"},
		{Replication: "NetworkTopologyStrategy:eu"},
		{Replication: "EverywhereStrategy:1"},
		{Consistency: "SOMETIMES"},
	} {
		if _, err := scyllaConfig(bad); err == nil {
			t.Errorf("scyllaConfig(%+v) accepted", bad)
		}
	}
}

func TestOpenHostsTheNamedFunctionsAndBootstrapsOnce(t *testing.T) {
	cfg := config.Defaults()
	cfg.DataDir = t.TempDir()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))

	var out bytes.Buffer
	p, err := Open(context.Background(), cfg, quiet, DomainNames(), &out)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range DomainNames() {
		if p.Local.Function(name) == nil {
			t.Errorf("function %s is not hosted", name)
		}
	}
	if !strings.Contains(out.String(), "ward_") {
		t.Errorf("first start printed no token: %q", out.String())
	}
	p.Close()

	out.Reset()
	p, err = Open(context.Background(), cfg, quiet, []string{"users"}, &out)
	if err != nil {
		t.Fatal(err)
	}
	if out.Len() != 0 {
		t.Errorf("a binary without the admin function printed %q", out.String())
	}
	p.Close()

	if _, err := Open(context.Background(), cfg, quiet, []string{"nope"}, &out); err == nil ||
		!strings.Contains(err.Error(), `no function named "nope"`) {
		t.Errorf("an unknown function: err = %v", err)
	}
}
