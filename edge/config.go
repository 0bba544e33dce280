package main

import (
	"crypto/tls"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
)

// edgeConfig is the edge's own configuration, from WARD_EDGE_ variables.
//
// The edge reads these itself and hands the remaining variables to
// shared/config, rather than adding them to shared/config's table: they
// concern this binary only, and every other binary keeps refusing them,
// so a WARD_EDGE_ setting given to a function by mistake is still an
// error there. An unknown WARD_EDGE_ variable is an error here.
type edgeConfig struct {
	// LDAPAddr is the plain LDAP listener (StartTLS offered when a
	// certificate is set). WARD_EDGE_LDAP_ADDR, default 127.0.0.1:3389;
	// "off" disables it.
	LDAPAddr string
	// LDAPSAddr is the LDAPS listener; empty (default) for none.
	// WARD_EDGE_LDAPS_ADDR; needs a certificate.
	LDAPSAddr string
	// TLSCert and TLSKey are PEM files of the server certificate (its
	// chain) and key. WARD_EDGE_TLS_CERT, WARD_EDGE_TLS_KEY.
	TLSCert, TLSKey string
	// AllowAnonymous admits anonymous binds, which then read the root
	// DSE only. WARD_EDGE_LDAP_ALLOW_ANONYMOUS, default false.
	AllowAnonymous bool
	// InsecurePlainBinds admits clear-text binds on a plain listener off
	// loopback. WARD_EDGE_LDAP_INSECURE_PLAIN_BINDS, default false: such
	// a listener then answers binds before StartTLS with
	// confidentialityRequired.
	InsecurePlainBinds bool
}

const edgePrefix = "WARD_EDGE_"

var edgeKnown = map[string]bool{
	"WARD_EDGE_LDAP_ADDR": true, "WARD_EDGE_LDAPS_ADDR": true,
	"WARD_EDGE_TLS_CERT": true, "WARD_EDGE_TLS_KEY": true,
	"WARD_EDGE_LDAP_ALLOW_ANONYMOUS": true, "WARD_EDGE_LDAP_INSECURE_PLAIN_BINDS": true,
}

// edgeFromEnv reads the WARD_EDGE_ variables of environ and returns the
// other variables for shared/config. All problems are reported together.
func edgeFromEnv(environ []string) (edgeConfig, []string, error) {
	c := edgeConfig{LDAPAddr: "127.0.0.1:3389"}
	var rest, problems []string
	env := map[string]string{}
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(k, edgePrefix) {
			rest = append(rest, kv)
			continue
		}
		if !edgeKnown[k] {
			problems = append(problems, k+": unknown setting")
			continue
		}
		env[k] = v
	}
	if v, ok := env["WARD_EDGE_LDAP_ADDR"]; ok {
		c.LDAPAddr = v
		if v == "off" {
			c.LDAPAddr = ""
		}
	}
	c.LDAPSAddr = env["WARD_EDGE_LDAPS_ADDR"]
	c.TLSCert, c.TLSKey = env["WARD_EDGE_TLS_CERT"], env["WARD_EDGE_TLS_KEY"]
	boolean := func(name string, dst *bool) {
		if v, ok := env[name]; ok {
			b, err := strconv.ParseBool(v)
			if err != nil {
				problems = append(problems, name+": must be true or false")
			}
			*dst = b
		}
	}
	boolean("WARD_EDGE_LDAP_ALLOW_ANONYMOUS", &c.AllowAnonymous)
	boolean("WARD_EDGE_LDAP_INSECURE_PLAIN_BINDS", &c.InsecurePlainBinds)

	for name, addr := range map[string]string{"WARD_EDGE_LDAP_ADDR": c.LDAPAddr,
		"WARD_EDGE_LDAPS_ADDR": c.LDAPSAddr} {
		if _, _, err := net.SplitHostPort(addr); addr != "" && err != nil {
			problems = append(problems, name+": must be host:port")
		}
	}
	switch {
	case c.LDAPAddr == "" && c.LDAPSAddr == "":
		problems = append(problems, "WARD_EDGE_LDAP_ADDR: no listener left (it is off and "+
			"WARD_EDGE_LDAPS_ADDR is not set)")
	case (c.TLSCert == "") != (c.TLSKey == ""):
		problems = append(problems, "WARD_EDGE_TLS_CERT, WARD_EDGE_TLS_KEY: set both or neither")
	case c.LDAPSAddr != "" && c.TLSCert == "":
		problems = append(problems, "WARD_EDGE_LDAPS_ADDR: needs WARD_EDGE_TLS_CERT and "+
			"WARD_EDGE_TLS_KEY")
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return edgeConfig{}, nil, fmt.Errorf("invalid configuration:\n  %s",
			strings.Join(problems, "\n  "))
	}
	return c, rest, nil
}

// tlsConfig loads the certificate, or returns nil when none is set.
func (c edgeConfig) tlsConfig() (*tls.Config, error) {
	if c.TLSCert == "" {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(c.TLSCert, c.TLSKey)
	if err != nil {
		return nil, fmt.Errorf("WARD_EDGE_TLS_CERT, WARD_EDGE_TLS_KEY: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}
