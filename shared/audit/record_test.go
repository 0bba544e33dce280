package audit

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wardhq/ward/shared/store"
)

func TestChanges(t *testing.T) {
	cases := []struct {
		name     string
		old, new Fields
		want     map[string]store.AuditChange
	}{
		{"a created entity lists its non-empty fields", nil, Fields{"a": "1", "b": ""},
			map[string]store.AuditChange{"a": {New: "1"}}},
		{"a deleted entity lists its non-empty fields", Fields{"a": "1", "b": ""}, nil,
			map[string]store.AuditChange{"a": {Old: "1"}}},
		{"an update lists what differs", Fields{"a": "1", "b": "2", "c": "x"},
			Fields{"a": "1", "b": "3", "c": ""},
			map[string]store.AuditChange{"b": {Old: "2", New: "3"}, "c": {Old: "x"}}},
		{"an update that changes nothing is nil", Fields{"a": "1"}, Fields{"a": "1"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, Changes(tc.old, tc.new)); diff != "" {
				t.Errorf("Changes (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTokenFieldsHoldNoHash(t *testing.T) {
	f := TokenFields(store.APIToken{Hash: "deadbeef", Name: "ci", Roles: []string{"user"}})
	for k, v := range f {
		if v == "deadbeef" || k == "hash" {
			t.Errorf("token fields hold the hash: %v", f)
		}
	}
}
