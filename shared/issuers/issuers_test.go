package issuers_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"testing"

	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/issuers"
	"github.com/wardhq/ward/shared/store"
)

func TestCreateFillsDefaults(t *testing.T) {
	e := newEnv(t)
	got := e.ti
	if !got.Enabled || got.SubjectClaim != "sub" || len(got.Algorithms) != 2 ||
		got.Algorithms[0] != "ES256" || got.Algorithms[1] != "RS256" || got.Version != 1 {
		t.Errorf("created %+v", got)
	}
	list, err := call[issuers.ListOutput](e, issuers.OpList, sysRoot,
		issuers.ListInput{TenantID: e.a.ID})
	if err != nil || len(list.Items) != 1 || list.Items[0].ID != got.ID {
		t.Errorf("list = %+v, %v", list, err)
	}
	empty, err := call[issuers.ListOutput](e, issuers.OpList, sysRoot,
		issuers.ListInput{TenantID: e.b.ID})
	if err != nil || empty.Items == nil || len(empty.Items) != 0 {
		t.Errorf("list of a tenant without issuers = %+v, %v", empty, err)
	}
}

func TestCreateRefusesBadIssuers(t *testing.T) {
	e := newEnv(t)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	priv, _ := jwk.Import(ecKey)
	privSet := jwk.NewSet()
	_ = privSet.AddKey(priv)
	privJSON, _ := json.Marshal(privSet)
	sym, _ := jwk.Import([]byte("0123456789abcdef0123456789abcdef"))
	symSet := jwk.NewSet()
	_ = symSet.AddKey(sym)
	symJSON, _ := json.Marshal(symSet)

	good := func() issuers.CreateInput {
		return issuers.CreateInput{TenantID: e.a.ID, Issuer: "https://idp.example.org",
			JWKSURI: "https://idp.example.org/keys", Audiences: []string{"api"}}
	}
	cases := []struct {
		name  string
		spoil func(*issuers.CreateInput)
		field string
	}{
		{"an http issuer off loopback", func(in *issuers.CreateInput) {
			in.Issuer = "http://idp.example.org"
		}, "issuer"},
		{"a relative issuer", func(in *issuers.CreateInput) { in.Issuer = "/idp" }, "issuer"},
		{"an issuer with a fragment", func(in *issuers.CreateInput) {
			in.Issuer = "https://idp.example.org#x"
		}, "issuer"},
		{"an issuer with user information", func(in *issuers.CreateInput) {
			in.Issuer = "https://u:p@idp.example.org"
		}, "issuer"},
		{"an http JWKS URI off loopback", func(in *issuers.CreateInput) {
			in.JWKSURI = "http://10.0.0.1/keys"
		}, "jwksUri"},
		{"a file JWKS URI", func(in *issuers.CreateInput) {
			in.JWKSURI = "file:///etc/passwd"
		}, "jwksUri"},
		{"no keys at all", func(in *issuers.CreateInput) { in.JWKSURI = "" }, "jwksUri"},
		{"both a URI and an inline set", func(in *issuers.CreateInput) {
			in.JWKS = `{"keys":[]}`
		}, "jwks"},
		{"an inline set with a private key", func(in *issuers.CreateInput) {
			in.JWKSURI, in.JWKS = "", string(privJSON)
		}, "jwks"},
		{"an inline symmetric key", func(in *issuers.CreateInput) {
			in.JWKSURI, in.JWKS = "", string(symJSON)
		}, "jwks"},
		{"an inline set that is not JSON", func(in *issuers.CreateInput) {
			in.JWKSURI, in.JWKS = "", "keys"
		}, "jwks"},
		{"alg none", func(in *issuers.CreateInput) { in.Algorithms = []string{"none"} },
			"algorithms"},
		{"HS256", func(in *issuers.CreateInput) { in.Algorithms = []string{"RS256", "HS256"} },
			"algorithms"},
		{"an unknown algorithm", func(in *issuers.CreateInput) {
			in.Algorithms = []string{"ES256K"}
		}, "algorithms"},
		{"no audience", func(in *issuers.CreateInput) { in.Audiences = nil }, "audiences"},
		{"an audience with a space", func(in *issuers.CreateInput) {
			in.Audiences = []string{"a b"}
		}, "audiences"},
		{"a bad subject claim", func(in *issuers.CreateInput) { in.SubjectClaim = "1sub" },
			"subjectClaim"},
		{"a bad carried claim", func(in *issuers.CreateInput) { in.Claims = []string{"a b"} },
			"claims"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := good()
			tc.spoil(&in)
			_, err := call[store.TrustedIssuer](e, issuers.OpCreate, sysRoot, in)
			var ce *errs.Error
			if !errorsAs(err, &ce) || ce.Code != errs.InvalidArgument || ce.Field != tc.field {
				t.Errorf("create = %v, want INVALID_ARGUMENT on %s", err, tc.field)
			}
		})
	}
	list, _ := e.st.TrustedIssuers().List(context.Background(), e.a.ID)
	if len(list) != 1 {
		t.Errorf("refused creates wrote: %d issuers", len(list))
	}

	in := good()
	in.Issuer = e.idp.URL
	if _, err := call[store.TrustedIssuer](e, issuers.OpCreate, sysRoot, in); errs.CodeOf(err) !=
		errs.Conflict {
		t.Errorf("a second trust in one issuer: %v, want CONFLICT", err)
	}
}

func TestOnlyTheTenantsAdministratorsManage(t *testing.T) {
	e := newEnv(t)
	adminA := function.Caller{Subject: "a-adm", Tenant: e.a.ID, Roles: []string{function.RoleTenantAdmin}}
	adminB := function.Caller{Subject: "b-adm", Tenant: e.b.ID, Roles: []string{function.RoleTenantAdmin}}
	userA := function.Caller{Subject: "u", Tenant: e.a.ID, Roles: []string{function.RoleUser}}

	get := issuers.GetInput{TenantID: e.a.ID, ID: e.ti.ID}
	if _, err := call[store.TrustedIssuer](e, issuers.OpGet, adminA, get); err != nil {
		t.Errorf("the tenant's administrator: %v", err)
	}
	for _, tc := range []struct {
		who  string
		c    function.Caller
		code errs.Code
	}{
		{"another tenant's administrator", adminB, errs.NotFound},
		{"a user of the tenant", userA, errs.PermissionDenied},
		{"a service", svc, errs.NotFound},
		{"nobody", function.Caller{}, errs.Unauthenticated},
	} {
		if _, err := call[store.TrustedIssuer](e, issuers.OpGet, tc.c, get); errs.CodeOf(err) !=
			tc.code {
			t.Errorf("get by %s: %v, want %s", tc.who, err, tc.code)
		}
		_, err := call[issuers.DeleteOutput](e, issuers.OpDelete, tc.c,
			issuers.DeleteInput{TenantID: e.a.ID, ID: e.ti.ID})
		if errs.CodeOf(err) != tc.code {
			t.Errorf("delete by %s: %v, want %s", tc.who, err, tc.code)
		}
	}
	if _, err := call[store.TrustedIssuer](e, issuers.OpGet, adminB,
		issuers.GetInput{TenantID: e.b.ID, ID: e.ti.ID}); errs.CodeOf(err) != errs.NotFound {
		t.Errorf("an issuer read through another tenant: %v", err)
	}
}

func TestWritesAreAudited(t *testing.T) {
	e := newEnv(t)
	name := "Renamed"
	if _, err := call[store.TrustedIssuer](e, issuers.OpUpdate, sysRoot, issuers.UpdateInput{
		TenantID: e.a.ID, ID: e.ti.ID, Name: &name}); err != nil {
		t.Fatal(err)
	}
	if _, err := call[issuers.DeleteOutput](e, issuers.OpDelete, sysRoot,
		issuers.DeleteInput{TenantID: e.a.ID, ID: e.ti.ID}); err != nil {
		t.Fatal(err)
	}
	events, _, err := e.st.Audit().List(context.Background(), e.a.ID, store.AuditFilter{},
		store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, ev := range events {
		if ev.TargetID == e.ti.ID {
			actions = append(actions, ev.Action)
		}
		if ev.Action == "trustedIssuer.update" && ev.Changes["name"].New != "Renamed" {
			t.Errorf("the update's changes: %+v", ev.Changes)
		}
	}
	want := []string{"trustedIssuer.delete", "trustedIssuer.update", "trustedIssuer.create"}
	if len(actions) != 3 || actions[0] != want[0] || actions[1] != want[1] || actions[2] != want[2] {
		t.Errorf("audited %v, want %v", actions, want)
	}
}

func TestUpdateSwitchesBetweenURIAndInlineSet(t *testing.T) {
	e := newEnv(t)
	got, err := call[store.TrustedIssuer](e, issuers.OpUpdate, sysRoot, issuers.UpdateInput{
		TenantID: e.a.ID, ID: e.ti.ID, JWKS: ptr(e.idp.KeySet(t))})
	if err != nil || got.JWKSURI != "" || got.JWKS == "" || got.Version != 2 {
		t.Fatalf("to inline: %+v, %v", got, err)
	}
	got, err = call[store.TrustedIssuer](e, issuers.OpUpdate, sysRoot, issuers.UpdateInput{
		TenantID: e.a.ID, ID: e.ti.ID, JWKSURI: ptr(e.idp.JWKSURI())})
	if err != nil || got.JWKSURI == "" || got.JWKS != "" {
		t.Fatalf("back to the URI: %+v, %v", got, err)
	}
	_, err = call[store.TrustedIssuer](e, issuers.OpUpdate, sysRoot, issuers.UpdateInput{
		TenantID: e.a.ID, ID: e.ti.ID, Algorithms: &[]string{"HS256"}})
	if errs.CodeOf(err) != errs.InvalidArgument {
		t.Errorf("an update to HS256: %v", err)
	}
}

func errorsAs(err error, target **errs.Error) bool { return errors.As(err, target) }
