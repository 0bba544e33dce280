package ldap

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/wardhq/ward/shared/apitokens"
	"github.com/wardhq/ward/shared/config"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/platform"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/tenants"
	"github.com/wardhq/ward/shared/users"
)

// The tests run a real listener over Ward's real functions on the
// embedded store in a temporary directory, seeded through the invoker.

// testPassword passes Ward's password policy (15+ characters, not on
// the blocklist, no context words).
const testPassword = "Vq7!mZp2#Lr9@xKe"

var systemAdmin = function.Caller{Subject: "test:system", Roles: []string{function.RoleSystemAdmin}}

type fixture struct {
	inv       invoke.Invoker
	srv       *Server
	addr      string // plain LDAP with StartTLS
	tlsAddr   string // LDAPS
	clientTLS *tls.Config
	certFile  string // the server certificate, PEM
	keyFile   string

	acme, globex store.Tenant
	alice        store.User // acme, ACTIVE, with password
	bob          store.User // acme, ACTIVE, with password
	carol        store.User // globex
	adminToken   string     // tenant_admin of acme
	globexToken  string     // tenant_admin of globex
	userToken    string     // user role of acme
	systemToken  string
}

type fixtureOptions struct {
	allowAnonymous bool
	sizeLimit      int
	extraUsers     int  // more acme users, without passwords
	listAlways     bool // serve every search from the listing (plan.go)
}

func newFixture(t testing.TB, o fixtureOptions) *fixture {
	t.Helper()
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := config.Defaults()
	cfg.DataDir = t.TempDir()
	p, err := platform.Open(ctx, cfg, quiet, platform.DomainNames(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	f := &fixture{inv: p.Local}

	f.acme = call[store.Tenant](t, f.inv, tenants.FunctionName, tenants.OpCreate, systemAdmin,
		tenants.CreateInput{Name: "acme", DisplayName: "Acme Corporation"})
	f.globex = call[store.Tenant](t, f.inv, tenants.FunctionName, tenants.OpCreate, systemAdmin,
		tenants.CreateInput{Name: "globex", DisplayName: "Globex"})
	f.alice = f.createUser(t, f.acme.ID, "alice", "alice@acme.test", "+15550000001", "Alice Liddell",
		testPassword)
	f.bob = f.createUser(t, f.acme.ID, "bob", "bob@acme.test", "+15550000002", "Bob Builder",
		testPassword)
	f.carol = f.createUser(t, f.globex.ID, "carol", "carol@globex.test", "", "Carol", testPassword)
	for i := 0; i < o.extraUsers; i++ {
		f.createUser(t, f.acme.ID, fmt.Sprintf("user%03d", i), "", "", "", "")
	}
	f.adminToken = f.token(t, f.acme.ID, function.RoleTenantAdmin)
	f.globexToken = f.token(t, f.globex.ID, function.RoleTenantAdmin)
	f.userToken = f.token(t, f.acme.ID, function.RoleUser)
	f.systemToken = f.token(t, "", function.RoleSystemAdmin)

	f.certFile, f.keyFile, f.clientTLS = selfSignedCert(t)
	cert, err := tls.LoadX509KeyPair(f.certFile, f.keyFile)
	if err != nil {
		t.Fatal(err)
	}
	f.addr, f.tlsAddr = freeAddr(t), freeAddr(t)
	f.srv, err = New(Config{
		Addr: f.addr, TLSAddr: f.tlsAddr,
		TLS:            &tls.Config{Certificates: []tls.Certificate{cert}},
		AllowAnonymous: o.allowAnonymous,
		SizeLimit:      o.sizeLimit,
		Invoker:        f.inv,
		Log:            quiet,
	})
	if err != nil {
		t.Fatal(err)
	}
	f.srv.listAlways = o.listAlways
	if err := f.srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := f.srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return f
}

func call[Out any](t testing.TB, inv invoke.Invoker, fn, op string, c function.Caller,
	in any) Out {
	t.Helper()
	out, err := invoke.Call[Out](context.Background(), inv, fn, op, c, in)
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
	return out
}

func (f *fixture) createUser(t testing.TB, tenantID, name, email, phone, display,
	password string) store.User {
	return call[store.User](t, f.inv, users.FunctionName, users.OpCreate, systemAdmin,
		users.CreateInput{TenantID: tenantID, Username: name, Email: email, Phone: phone,
			DisplayName: display, Password: users.Password(password)})
}

func (f *fixture) token(t testing.TB, tenantID, role string) string {
	out := call[apitokens.CreateOutput](t, f.inv, apitokens.FunctionName, apitokens.OpCreate,
		systemAdmin, apitokens.CreateInput{TenantID: tenantID, Name: "ldap test " + role,
			Roles: []string{role}})
	return out.Token
}

// dial opens a plain connection; close it with the test.
func (f *fixture) dial(t testing.TB) *goldap.Conn {
	t.Helper()
	c, err := goldap.DialURL("ldap://" + f.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// bindAs opens a connection bound with dn and password.
func (f *fixture) bindAs(t testing.TB, dn, password string) *goldap.Conn {
	t.Helper()
	c := f.dial(t)
	if err := c.Bind(dn, password); err != nil {
		t.Fatalf("bind %s: %v", dn, err)
	}
	return c
}

func (f *fixture) asAdmin(t testing.TB) *goldap.Conn {
	return f.bindAs(t, "cn=admin,ou=tokens,dc=ward", f.adminToken)
}

func (f *fixture) asAlice(t testing.TB) *goldap.Conn {
	return f.bindAs(t, "uid=alice,ou=users,o=acme,dc=ward", testPassword)
}

func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// selfSignedCert writes a fresh P-256 certificate for 127.0.0.1 and its
// key to a temporary directory and returns their paths and a client
// configuration that trusts it.
func selfSignedCert(t testing.TB) (certFile, keyFile string, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "ward edge test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	write := func(path, typ string, b []byte) {
		block := pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b})
		if err := os.WriteFile(path, block, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(certFile, "CERTIFICATE", der)
	write(keyFile, "PRIVATE KEY", kder)
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return certFile, keyFile, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
}

// resultCodeOf returns the LDAP result code of a client error.
func resultCodeOf(err error) uint16 {
	if err == nil {
		return 0
	}
	var le *goldap.Error
	if errors.As(err, &le) {
		return le.ResultCode
	}
	return 0xffff
}
