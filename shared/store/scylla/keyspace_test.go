package scylla

import "testing"

func TestCreateKeyspaceCQL(t *testing.T) {
	simple, err := Replication{}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	nts, err := Replication{
		Class:       networkTopologyStrategy,
		DataCenters: map[string]int{"eu-west": 3, "ap-south": 2},
	}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		r    Replication
		srv  server
		want string
	}{
		{
			name: "Cassandra gets no tablets option",
			r:    simple,
			srv:  server{Release: "5.0.9"},
			want: "CREATE KEYSPACE IF NOT EXISTS ward WITH replication = " +
				"{'class': 'SimpleStrategy', 'replication_factor': 1} AND durable_writes = true",
		},
		{
			name: "ScyllaDB with tablets opts out of them",
			r:    simple,
			srv:  server{Scylla: true, Tablets: true, Release: "3.0.8"},
			want: "CREATE KEYSPACE IF NOT EXISTS ward WITH replication = " +
				"{'class': 'SimpleStrategy', 'replication_factor': 1} AND durable_writes = true" +
				" AND tablets = {'enabled': false}",
		},
		{
			name: "ScyllaDB before tablets gets no tablets option",
			r:    simple,
			srv:  server{Scylla: true, Release: "3.0.8"},
			want: "CREATE KEYSPACE IF NOT EXISTS ward WITH replication = " +
				"{'class': 'SimpleStrategy', 'replication_factor': 1} AND durable_writes = true",
		},
		{
			name: "data centres are listed in sorted order",
			r:    nts,
			srv:  server{Scylla: true, Tablets: true},
			want: "CREATE KEYSPACE IF NOT EXISTS ward WITH replication = " +
				"{'class': 'NetworkTopologyStrategy', 'ap-south': 2, 'eu-west': 3}" +
				" AND durable_writes = true AND tablets = {'enabled': false}",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := createKeyspaceCQL("ward", tc.r, tc.srv)
			if got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}
