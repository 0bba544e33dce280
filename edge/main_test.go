package main

import (
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func TestEdgeServesLDAPAndStopsOnSignal(t *testing.T) {
	addr := freeAddr(t)
	token := "ward_edge-test-bootstrap-token-0123456789"
	env := []string{
		"WARD_DATA_DIR=" + t.TempDir(),
		"WARD_BOOTSTRAP_TOKEN=" + token,
		"WARD_EDGE_LDAP_ADDR=" + addr,
		"WARD_SHUTDOWN_TIMEOUT=5s",
		"PATH=/usr/bin", // not Ward's: passed through untouched
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- run(ctx, env, io.Discard, func() { close(ready) }) }()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("run: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("the edge did not become ready")
	}

	c, err := goldap.DialURL("ldap://" + addr)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Bind("cn=bootstrap,ou=tokens,dc=ward", token); err != nil {
		t.Fatalf("bind with the bootstrap token: %v", err)
	}
	res, err := c.Search(goldap.NewSearchRequest("dc=ward", goldap.ScopeBaseObject, 0, 0, 0, false,
		"(objectClass=*)", []string{"dc"}, nil))
	if err != nil || len(res.Entries) != 1 || res.Entries[0].GetAttributeValue("dc") != "ward" {
		t.Fatalf("search the root: %v %+v", err, res)
	}
	c.Close()

	cancel() // what SIGTERM does through signal.NotifyContext
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("shutdown: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the edge did not stop")
	}
	if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		t.Error("the listener is still open after shutdown")
	}
}

func TestEdgeConfiguration(t *testing.T) {
	c, rest, err := edgeFromEnv([]string{"WARD_STORE=bolt", "HOME=/root"})
	if err != nil {
		t.Fatal(err)
	}
	if c.LDAPAddr != "127.0.0.1:3389" || c.LDAPSAddr != "" || c.AllowAnonymous {
		t.Errorf("defaults = %+v", c)
	}
	if strings.Join(rest, " ") != "WARD_STORE=bolt HOME=/root" {
		t.Errorf("passed on %v", rest)
	}

	c, _, err = edgeFromEnv([]string{"WARD_EDGE_LDAP_ADDR=off", "WARD_EDGE_LDAPS_ADDR=:636",
		"WARD_EDGE_TLS_CERT=c.pem", "WARD_EDGE_TLS_KEY=k.pem", "WARD_EDGE_LDAP_ALLOW_ANONYMOUS=true"})
	if err != nil || c.LDAPAddr != "" || c.LDAPSAddr != ":636" || !c.AllowAnonymous {
		t.Errorf("LDAPS only: %+v, %v", c, err)
	}

	bad := []struct {
		env  []string
		want string
	}{
		{[]string{"WARD_EDGE_LDAP_PORT=389"}, "WARD_EDGE_LDAP_PORT: unknown setting"},
		{[]string{"WARD_EDGE_LDAPS_ADDR=:636"}, "needs WARD_EDGE_TLS_CERT"},
		{[]string{"WARD_EDGE_TLS_CERT=c.pem"}, "set both or neither"},
		{[]string{"WARD_EDGE_LDAP_ALLOW_ANONYMOUS=maybe"}, "must be true or false"},
		{[]string{"WARD_EDGE_LDAP_INSECURE_PLAIN_BINDS=yes"}, "must be true or false"},
		{[]string{"WARD_EDGE_LDAP_ADDR=3389"}, "must be host:port"},
		{[]string{"WARD_EDGE_LDAP_ADDR=off"}, "no listener left"},
	}
	for _, tc := range bad {
		if _, _, err := edgeFromEnv(tc.env); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err = %v, want %q", tc.env, err, tc.want)
		}
	}

	err = run(context.Background(), []string{"WARD_NOPE=1", "WARD_DATA_DIR=" + t.TempDir()},
		io.Discard, nil)
	if err == nil || !strings.Contains(err.Error(), "WARD_NOPE: unknown setting") {
		t.Errorf("an unknown WARD_ variable: err = %v", err)
	}

	_, _, err = edgeFromEnv([]string{"WARD_EDGE_TLS_CERT=/nonexistent",
		"WARD_EDGE_TLS_KEY=/nonexistent"})
	if err != nil {
		t.Fatal(err)
	}
	missing := edgeConfig{TLSCert: "/nonexistent", TLSKey: "/nonexistent"}
	if _, err := missing.tlsConfig(); err == nil {
		t.Error("a missing certificate file was accepted")
	}
}
