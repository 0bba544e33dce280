package clients

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
)

// exchanger is a confidential client of tenant a with the token exchange
// grant and pol.
func (e *env) exchanger(pol *store.ExchangePolicy) CreateInput {
	return CreateInput{TenantID: e.a.ID, Type: store.ClientConfidential,
		AuthMethod: MethodSecretBasic, GrantTypes: []string{GrantTokenExchange},
		Scopes: []string{"read"}, Exchange: pol}
}

func TestExchangePolicyIsStrictByDefault(t *testing.T) {
	e := newEnv(t)
	out := e.create(e.adminA, e.exchanger(nil))
	if out.Client.Exchange != nil {
		t.Errorf("a new client has an exchange policy: %+v", out.Client.Exchange)
	}
	out = e.create(e.adminA, e.exchanger(&store.ExchangePolicy{}))
	if out.Client.Exchange != nil {
		t.Errorf("an empty policy was kept: %+v", out.Client.Exchange)
	}
}

func TestExchangePolicyIsKeptAndUpdated(t *testing.T) {
	e := newEnv(t)
	pol := &store.ExchangePolicy{Issuers: []string{store.ExchangeSelf,
		"https://idp.example.com", store.ExchangeSelf}, Audiences: []string{"billing",
		"https://api.example.com/"}, Delegation: true}
	out := e.create(e.adminA, e.exchanger(pol))
	want := &store.ExchangePolicy{Issuers: []string{store.ExchangeSelf,
		"https://idp.example.com"}, Audiences: []string{"billing", "https://api.example.com/"},
		Delegation: true}
	if diff := cmp.Diff(want, out.Client.Exchange); diff != "" {
		t.Errorf("policy (-want +got):\n%s", diff)
	}
	got, err := call[Client](e, OpGet, e.adminA, GetInput{TenantID: e.a.ID, ID: out.Client.ID})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got.Exchange); diff != "" {
		t.Errorf("stored policy (-want +got):\n%s", diff)
	}

	next := &store.ExchangePolicy{Issuers: []string{store.ExchangeSelf}, Impersonation: true}
	got, err = call[Client](e, OpUpdate, e.adminA, UpdateInput{TenantID: e.a.ID,
		ID: out.Client.ID, Exchange: next})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(next, got.Exchange); diff != "" {
		t.Errorf("updated policy (-want +got):\n%s", diff)
	}
	name := "renamed"
	got, err = call[Client](e, OpUpdate, e.adminA, UpdateInput{TenantID: e.a.ID,
		ID: out.Client.ID, Name: &name})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(next, got.Exchange); diff != "" {
		t.Errorf("an update without exchange changed it (-want +got):\n%s", diff)
	}
	got, err = call[Client](e, OpUpdate, e.adminA, UpdateInput{TenantID: e.a.ID,
		ID: out.Client.ID, Exchange: &store.ExchangePolicy{}})
	if err != nil {
		t.Fatal(err)
	}
	if got.Exchange != nil {
		t.Errorf("an empty policy did not remove it: %+v", got.Exchange)
	}
}

func TestExchangePolicyRefusesBadPolicies(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name string
		in   func(CreateInput) CreateInput
	}{
		{"an issuer that is no URL", func(in CreateInput) CreateInput {
			in.Exchange.Issuers = []string{"idp"}
			return in
		}},
		{"an audience with a space", func(in CreateInput) CreateInput {
			in.Exchange.Audiences = []string{"two words"}
			return in
		}},
		{"a policy without the grant", func(in CreateInput) CreateInput {
			in.GrantTypes = []string{GrantClientCredentials}
			return in
		}},
		{"a public client", func(in CreateInput) CreateInput {
			in.Type, in.AuthMethod = store.ClientPublic, MethodNone
			return in
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in(e.exchanger(&store.ExchangePolicy{Issuers: []string{store.ExchangeSelf},
				Impersonation: true}))
			_, err := call[SecretOutput](e, OpCreate, e.adminA, in)
			wantCode(t, tc.name, err, errs.InvalidArgument)
		})
	}
}
