// Package config reads a Ward binary's configuration from environment
// variables into one typed, validated struct. Every variable starts with
// WARD_; an unknown WARD_ variable is an error at start-up, so a misspelt
// setting never passes silently. WARD_TEST_ variables belong to the test
// suites and the development scripts (WARD_TEST_CACHE_DIR, for instance)
// and are ignored.
package config

import (
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Config is the configuration of every Ward binary.
type Config struct {
	// Addr is where the local process (or a function run as a plain HTTP
	// server) listens. WARD_ADDR, default 127.0.0.1:8080.
	Addr string
	// DataDir holds the embedded store. WARD_DATA_DIR, default .ward.
	DataDir string
	// Store is "bolt" (embedded, default) or "scylla". WARD_STORE.
	Store  string
	Scylla Scylla
	// Cache is "memory" (in-process, default) or "redis". WARD_CACHE.
	Cache string
	Redis Redis

	// BootstrapToken, when set, is a system administrator token that is
	// made to exist at start-up. WARD_BOOTSTRAP_TOKEN (32+ characters).
	BootstrapToken string
	// InvokeKey authenticates the HTTP invoke transport (hex, 32+ bytes).
	// Empty disables the invoke endpoint. WARD_INVOKE_KEY.
	InvokeKey []byte
	// Invoke sends a function's operations over a remote transport instead
	// of in process: WARD_INVOKE_<FUNCTION>=lambda:<name or ARN> or
	// http(s)://<base URL>. Keys are function names in lower case.
	Invoke map[string]string

	// LogLevel is debug, info (default), warn or error. WARD_LOG_LEVEL.
	LogLevel slog.Level
	// LogFormat is json (default) or text. WARD_LOG_FORMAT.
	LogFormat string
	// ShutdownTimeout bounds the wait for in-flight requests at shutdown.
	// WARD_SHUTDOWN_TIMEOUT, default 20s.
	ShutdownTimeout time.Duration
	// GraphiQL serves the GraphiQL page on GET /graphql. WARD_GRAPHIQL,
	// default true in the local process only (the caller sets the default).
	GraphiQL bool

	// PublicURL is the base URL people reach Ward at; links in messages
	// (email verification, password reset, invitations) start with it.
	// WARD_PUBLIC_URL, default http://<WARD_ADDR>.
	PublicURL string
	// Messaging says how email and SMS leave Ward.
	Messaging Messaging
	// MFAKey seals second factors' secrets (TOTP seeds) in the store:
	// 32 bytes, given in hex. WARD_MFA_KEY. Empty: the local process keeps
	// a generated key in a file of its data directory (package platform);
	// elsewhere TOTP is unavailable.
	MFAKey []byte
	// OAuthKey seals the private keys of the tenants' OAuth 2.0 / OpenID
	// Connect signing keys in the store (package oauth/keys): 32 bytes,
	// given in hex. WARD_OAUTH_KEY. Empty: the local process keeps a
	// generated key in a file of its data directory (package platform);
	// elsewhere no signing key can be made or used.
	OAuthKey []byte
	// OAuthKMSKeyID, when set, names the AWS KMS key (key ID, key ARN,
	// alias name or alias ARN of a symmetric key) that wraps each
	// tenant's data key, under which new signing keys are sealed instead
	// of under OAuthKey (package oauth/keys). WARD_OAUTH_KMS_KEY_ID; KMS
	// is reached with the AWS settings of package awsx (AWS_REGION,
	// AWS_ENDPOINT_URL_KMS).
	OAuthKMSKeyID string
}

// Messaging configures the senders of email, SMS and voice messages.
type Messaging struct {
	// Email is none (the default: operations that must send mail fail
	// with UNAVAILABLE), outbox (kept in memory and listed by the local
	// process; development only), smtp or ses. WARD_EMAIL.
	Email string
	// From is the sender address, e.g. "Ward <no-reply@example.com>".
	// WARD_EMAIL_FROM; required with smtp and ses.
	From string
	SMTP SMTP
	// SESConfigurationSet names the SES configuration set to send with.
	// WARD_SES_CONFIGURATION_SET.
	SESConfigurationSet string
	// SMS is none (the default), outbox or sns. WARD_SMS.
	SMS string
	// SNSSenderID is the alphanumeric sender ID where countries allow one.
	// WARD_SNS_SENDER_ID.
	SNSSenderID string
}

// SMTP configures the SMTP email sender.
type SMTP struct {
	Host     string // WARD_SMTP_HOST
	Port     int    // WARD_SMTP_PORT, default 587 (465 with implicit TLS)
	Username string // WARD_SMTP_USERNAME
	Password string // WARD_SMTP_PASSWORD
	// ImplicitTLS speaks TLS from the first byte. WARD_SMTP_IMPLICIT_TLS.
	ImplicitTLS bool
}

// Scylla configures the ScyllaDB (or Cassandra) store.
type Scylla struct {
	Hosts       []string // WARD_SCYLLA_HOSTS, comma-separated host[:port]
	Keyspace    string   // WARD_SCYLLA_KEYSPACE, default ward
	Replication string   // WARD_SCYLLA_REPLICATION, CQL map, default SimpleStrategy RF 1
	Consistency string   // WARD_SCYLLA_CONSISTENCY, default LOCAL_QUORUM
	Username    string   // WARD_SCYLLA_USERNAME
	Password    string   // WARD_SCYLLA_PASSWORD
	LocalDC     string   // WARD_SCYLLA_LOCAL_DC, for DC-aware routing
}

// Redis configures the Redis cache.
type Redis struct {
	Addr     string // WARD_REDIS_ADDR, default 127.0.0.1:6379
	Password string // WARD_REDIS_PASSWORD
	DB       int    // WARD_REDIS_DB
	TLS      bool   // WARD_REDIS_TLS
}

var known = map[string]bool{
	"WARD_ADDR": true, "WARD_DATA_DIR": true, "WARD_STORE": true, "WARD_CACHE": true,
	"WARD_SCYLLA_HOSTS": true, "WARD_SCYLLA_KEYSPACE": true, "WARD_SCYLLA_REPLICATION": true,
	"WARD_SCYLLA_CONSISTENCY": true, "WARD_SCYLLA_USERNAME": true, "WARD_SCYLLA_PASSWORD": true,
	"WARD_SCYLLA_LOCAL_DC": true,
	"WARD_REDIS_ADDR":      true, "WARD_REDIS_PASSWORD": true, "WARD_REDIS_DB": true, "WARD_REDIS_TLS": true,
	"WARD_BOOTSTRAP_TOKEN": true, "WARD_INVOKE_KEY": true,
	"WARD_LOG_LEVEL": true, "WARD_LOG_FORMAT": true, "WARD_SHUTDOWN_TIMEOUT": true,
	"WARD_GRAPHIQL": true, "WARD_PUBLIC_URL": true, "WARD_MFA_KEY": true, "WARD_OAUTH_KEY": true,
	"WARD_OAUTH_KMS_KEY_ID": true,
	"WARD_EMAIL":            true, "WARD_EMAIL_FROM": true, "WARD_SMTP_HOST": true, "WARD_SMTP_PORT": true,
	"WARD_SMTP_USERNAME": true, "WARD_SMTP_PASSWORD": true, "WARD_SMTP_IMPLICIT_TLS": true,
	"WARD_SES_CONFIGURATION_SET": true, "WARD_SMS": true, "WARD_SNS_SENDER_ID": true,
}

// Defaults are the settings when nothing is configured.
func Defaults() Config {
	return Config{
		Addr:            "127.0.0.1:8080",
		DataDir:         ".ward",
		Store:           "bolt",
		Scylla:          Scylla{Keyspace: "ward", Consistency: "LOCAL_QUORUM"},
		Cache:           "memory",
		Redis:           Redis{Addr: "127.0.0.1:6379"},
		Invoke:          map[string]string{},
		LogLevel:        slog.LevelInfo,
		LogFormat:       "json",
		ShutdownTimeout: 20 * time.Second,
		Messaging:       Messaging{Email: "none", SMS: "none"},
	}
}

// FromEnv reads the configuration from environ (as os.Environ returns it)
// on top of base, and validates it. All problems are reported together.
func FromEnv(base Config, environ []string) (Config, error) {
	c := base
	c.Invoke = map[string]string{}
	for k, v := range base.Invoke {
		c.Invoke[k] = v
	}
	var problems []string
	bad := func(name, format string, args ...any) {
		problems = append(problems, name+": "+fmt.Sprintf(format, args...))
	}

	env := map[string]string{}
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(k, "WARD_") || strings.HasPrefix(k, "WARD_TEST_") {
			continue
		}
		if fn, ok := strings.CutPrefix(k, "WARD_INVOKE_"); ok && k != "WARD_INVOKE_KEY" {
			c.Invoke[strings.ToLower(fn)] = v
			continue
		}
		if !known[k] {
			bad(k, "unknown setting")
			continue
		}
		env[k] = v
	}
	str := func(name string, dst *string) {
		if v, ok := env[name]; ok {
			*dst = v
		}
	}
	str("WARD_ADDR", &c.Addr)
	str("WARD_DATA_DIR", &c.DataDir)
	str("WARD_STORE", &c.Store)
	str("WARD_CACHE", &c.Cache)
	str("WARD_SCYLLA_KEYSPACE", &c.Scylla.Keyspace)
	str("WARD_SCYLLA_REPLICATION", &c.Scylla.Replication)
	str("WARD_SCYLLA_CONSISTENCY", &c.Scylla.Consistency)
	str("WARD_SCYLLA_USERNAME", &c.Scylla.Username)
	str("WARD_SCYLLA_PASSWORD", &c.Scylla.Password)
	str("WARD_SCYLLA_LOCAL_DC", &c.Scylla.LocalDC)
	str("WARD_REDIS_ADDR", &c.Redis.Addr)
	str("WARD_REDIS_PASSWORD", &c.Redis.Password)
	str("WARD_BOOTSTRAP_TOKEN", &c.BootstrapToken)
	str("WARD_LOG_FORMAT", &c.LogFormat)
	str("WARD_PUBLIC_URL", &c.PublicURL)
	str("WARD_EMAIL", &c.Messaging.Email)
	str("WARD_EMAIL_FROM", &c.Messaging.From)
	str("WARD_SMTP_HOST", &c.Messaging.SMTP.Host)
	str("WARD_SMTP_USERNAME", &c.Messaging.SMTP.Username)
	str("WARD_SMTP_PASSWORD", &c.Messaging.SMTP.Password)
	str("WARD_SES_CONFIGURATION_SET", &c.Messaging.SESConfigurationSet)
	str("WARD_SMS", &c.Messaging.SMS)
	str("WARD_SNS_SENDER_ID", &c.Messaging.SNSSenderID)
	if v, ok := env["WARD_SMTP_PORT"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 65535 {
			bad("WARD_SMTP_PORT", "must be a port number")
		}
		c.Messaging.SMTP.Port = n
	}
	if v, ok := env["WARD_SCYLLA_HOSTS"]; ok {
		c.Scylla.Hosts = nil
		for _, h := range strings.Split(v, ",") {
			if h = strings.TrimSpace(h); h != "" {
				c.Scylla.Hosts = append(c.Scylla.Hosts, h)
			}
		}
	}
	if v, ok := env["WARD_REDIS_DB"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 15 {
			bad("WARD_REDIS_DB", "must be a number from 0 to 15")
		}
		c.Redis.DB = n
	}
	boolean := func(name string, dst *bool) {
		if v, ok := env[name]; ok {
			b, err := strconv.ParseBool(v)
			if err != nil {
				bad(name, "must be true or false")
			}
			*dst = b
		}
	}
	boolean("WARD_REDIS_TLS", &c.Redis.TLS)
	boolean("WARD_GRAPHIQL", &c.GraphiQL)
	boolean("WARD_SMTP_IMPLICIT_TLS", &c.Messaging.SMTP.ImplicitTLS)
	if v, ok := env["WARD_INVOKE_KEY"]; ok && v != "" {
		k, err := hex.DecodeString(v)
		if err != nil || len(k) < 32 {
			bad("WARD_INVOKE_KEY", "must be at least 32 bytes in hex")
		}
		c.InvokeKey = k
	}
	masterKey := func(name string, dst *[]byte) {
		if v, ok := env[name]; ok && v != "" {
			k, err := hex.DecodeString(v)
			if err != nil || len(k) != 32 {
				bad(name, "must be 32 bytes in hex (64 hex digits)")
			}
			*dst = k
		}
	}
	masterKey("WARD_MFA_KEY", &c.MFAKey)
	masterKey("WARD_OAUTH_KEY", &c.OAuthKey)
	str("WARD_OAUTH_KMS_KEY_ID", &c.OAuthKMSKeyID)
	if id := c.OAuthKMSKeyID; len(id) > 2048 || strings.ContainsAny(id, " \t\r\n") {
		bad("WARD_OAUTH_KMS_KEY_ID", "must be a KMS key ID, key ARN or alias")
	}
	if v, ok := env["WARD_LOG_LEVEL"]; ok {
		if err := c.LogLevel.UnmarshalText([]byte(v)); err != nil {
			bad("WARD_LOG_LEVEL", "must be debug, info, warn or error")
		}
	}
	if v, ok := env["WARD_SHUTDOWN_TIMEOUT"]; ok {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			bad("WARD_SHUTDOWN_TIMEOUT", "must be a positive duration such as 20s")
		}
		c.ShutdownTimeout = d
	}

	if c.PublicURL == "" {
		c.PublicURL = "http://" + c.Addr
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	problems = append(problems, c.validate()...)
	if len(problems) > 0 {
		sort.Strings(problems)
		return Config{}, fmt.Errorf("invalid configuration:\n  %s", strings.Join(problems, "\n  "))
	}
	return c, nil
}

func (c Config) validate() []string {
	var p []string
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		p = append(p, "WARD_ADDR: must be host:port")
	}
	switch c.Store {
	case "bolt":
		if c.DataDir == "" {
			p = append(p, "WARD_DATA_DIR: must not be empty with WARD_STORE=bolt")
		}
	case "scylla":
		if len(c.Scylla.Hosts) == 0 {
			p = append(p, "WARD_SCYLLA_HOSTS: required with WARD_STORE=scylla")
		}
		if c.Scylla.Keyspace == "" {
			p = append(p, "WARD_SCYLLA_KEYSPACE: must not be empty")
		}
	default:
		p = append(p, "WARD_STORE: must be bolt or scylla")
	}
	switch c.Cache {
	case "memory":
	case "redis":
		if c.Redis.Addr == "" {
			p = append(p, "WARD_REDIS_ADDR: required with WARD_CACHE=redis")
		}
	default:
		p = append(p, "WARD_CACHE: must be memory or redis")
	}
	if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") ||
		u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		p = append(p, "WARD_PUBLIC_URL: must be an http(s) URL without query, fragment or user")
	}
	p = append(p, c.Messaging.validate()...)
	if c.LogFormat != "json" && c.LogFormat != "text" {
		p = append(p, "WARD_LOG_FORMAT: must be json or text")
	}
	if c.BootstrapToken != "" && len(c.BootstrapToken) < 32 {
		p = append(p, "WARD_BOOTSTRAP_TOKEN: must be at least 32 characters")
	}
	for fn, target := range c.Invoke {
		if !strings.HasPrefix(target, "lambda:") && !strings.HasPrefix(target, "http://") &&
			!strings.HasPrefix(target, "https://") {
			p = append(p, fmt.Sprintf("WARD_INVOKE_%s: must be lambda:<function> or an http(s) URL", strings.ToUpper(fn)))
		}
		if strings.HasPrefix(target, "http") && len(c.InvokeKey) == 0 {
			p = append(p, fmt.Sprintf("WARD_INVOKE_%s: an HTTP transport needs WARD_INVOKE_KEY", strings.ToUpper(fn)))
		}
	}
	return p
}

func (m Messaging) validate() []string {
	var p []string
	switch m.Email {
	case "none", "outbox":
	case "smtp":
		if m.SMTP.Host == "" {
			p = append(p, "WARD_SMTP_HOST: required with WARD_EMAIL=smtp")
		}
	case "ses":
	default:
		p = append(p, "WARD_EMAIL: must be none, outbox, smtp or ses")
	}
	if (m.Email == "smtp" || m.Email == "ses") && m.From == "" {
		p = append(p, "WARD_EMAIL_FROM: required with WARD_EMAIL="+m.Email)
	}
	if m.From != "" {
		if _, err := mail.ParseAddress(m.From); err != nil {
			p = append(p, "WARD_EMAIL_FROM: must be an address such as Ward <no-reply@example.com>")
		}
	}
	switch m.SMS {
	case "none", "outbox", "sns":
	default:
		p = append(p, "WARD_SMS: must be none, outbox or sns")
	}
	return p
}
