//go:build integration

package redis

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
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/wardhq/ward/shared/cache"
	"github.com/wardhq/ward/shared/cache/cachetest"
	"github.com/wardhq/ward/shared/errs"
)

// serverAddr is the Redis server the integration tests share. The suite keeps
// to keys under random prefixes and deletes them, so any server will do.
func serverAddr(t testing.TB) string {
	t.Helper()
	addr := os.Getenv("WARD_TEST_REDIS_ADDR")
	if addr == "" {
		t.Fatal("WARD_TEST_REDIS_ADDR is not set: run `make test`, or start a server with " +
			"`.ci/redis.sh install && .ci/redis.sh start` " +
			"and set WARD_TEST_REDIS_ADDR=127.0.0.1:6379")
	}
	return addr
}

func open(t testing.TB, cfg Config) *Cache {
	t.Helper()
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// sleep is Advance for a server: its clock cannot be moved, so time passes.
func sleep(_ *testing.T, d time.Duration) { time.Sleep(d) }

func TestCache(t *testing.T) {
	addr := serverAddr(t)
	cachetest.Run(t, func(t *testing.T) cachetest.Env {
		return cachetest.Env{Cache: open(t, Config{Addrs: []string{addr}}), Advance: sleep}
	})
}

// A reply kept by client-side caching gives way to a write made through
// another connection once the server's invalidation arrives.
func TestClientSideCacheIsInvalidated(t *testing.T) {
	addr := serverAddr(t)
	c := open(t, Config{Addrs: []string{addr}, StaleReadPrefixes: []string{"csc:"}})
	defer c.Close()
	rc := rawClient(t, addr, 0)
	ctx := t.Context()
	key := "csc:" + strconv.FormatInt(time.Now().UnixNano(), 36)
	defer rc.Do(context.Background(), rc.B().Del().Key(key).Build())

	if err := c.Set(ctx, key, []byte("v1"), time.Minute); err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second read may be served from process memory
		if got, err := c.Get(ctx, key); err != nil || string(got) != "v1" {
			t.Fatalf("Get = %q, %v; want v1", got, err)
		}
	}
	if err := rc.Do(ctx, rc.B().Set().Key(key).Value("v2").Build()).Error(); err != nil {
		t.Fatal(err)
	}

	deadline := time.Now().Add(5 * time.Second)
	for {
		got, err := c.Get(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) == "v2" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Get still returns %q 5s after another client wrote v2", got)
		}
		time.Sleep(time.Millisecond)
	}
}

// keyspaceHits reads the server's count of reads that found their key.
func keyspaceHits(t *testing.T, rc rueidis.Client) int64 {
	t.Helper()
	info, err := rc.Do(t.Context(), rc.B().Info().Section("stats").Build()).ToString()
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(info) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "keyspace_hits:"); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("INFO stats has no keyspace_hits")
	return 0
}

// Only keys under StaleReadPrefixes are read from process memory; others go
// to the server every time. (This test needs the server to itself, as the
// tests of this package have it: the suites before it have ended.)
func TestStaleReadPrefixesChooseKeys(t *testing.T) {
	addr := serverAddr(t)
	c := open(t, Config{Addrs: []string{addr}, StaleReadPrefixes: []string{"csc:"}})
	defer c.Close()
	rc := rawClient(t, addr, 0)
	ctx := t.Context()
	id := strconv.FormatInt(time.Now().UnixNano(), 36)
	cached, direct := "csc:"+id, "direct:"+id
	defer rc.Do(context.Background(), rc.B().Del().Key(cached, direct).Build())

	for _, k := range []string{cached, direct} {
		if err := c.Set(ctx, k, []byte("v"), time.Minute); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Get(ctx, k); err != nil { // fills the client-side cache
			t.Fatal(err)
		}
	}

	before := keyspaceHits(t, rc)
	for range 5 {
		if _, err := c.Get(ctx, cached); err != nil {
			t.Fatal(err)
		}
	}
	if got := keyspaceHits(t, rc) - before; got != 0 {
		t.Errorf("5 Gets of %s reached the server %d times, want 0", cached, got)
	}

	before = keyspaceHits(t, rc)
	for range 5 {
		if _, err := c.Get(ctx, direct); err != nil {
			t.Fatal(err)
		}
	}
	if got := keyspaceHits(t, rc) - before; got != 5 {
		t.Errorf("5 Gets of %s reached the server %d times, want 5", direct, got)
	}
}

// rawClient talks to the server around the Cache, to look at what it stored.
func rawClient(t *testing.T, addr string, db int) rueidis.Client {
	t.Helper()
	rc, err := rueidis.NewClient(rueidis.ClientOption{
		InitAddress: []string{addr}, SelectDB: db, DisableCache: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rc.Close)
	return rc
}

func pttl(t *testing.T, rc rueidis.Client, key string) time.Duration {
	t.Helper()
	ms, err := rc.Do(t.Context(), rc.B().Pttl().Key(key).Build()).AsInt64()
	if err != nil {
		t.Fatal(err)
	}
	return time.Duration(ms) * time.Millisecond
}

// The server holds every key the Cache writes with a ttl, and an increment
// leaves the counter's ttl alone. The suite observes this by waiting; here
// it is read off the server at once.
func TestServerHoldsTTLs(t *testing.T) {
	addr := serverAddr(t)
	c := open(t, Config{Addrs: []string{addr}})
	defer c.Close()
	rc := rawClient(t, addr, 0)
	ctx := t.Context()
	prefix := "ttltest:" + strconv.FormatInt(time.Now().UnixNano(), 36) + ":"
	keys := []string{prefix + "set", prefix + "setnx", prefix + "incr", prefix + "sub-ms"}
	defer rc.Do(context.Background(), rc.B().Del().Key(keys...).Build())

	const ttl = time.Minute
	if err := c.Set(ctx, keys[0], []byte("v"), ttl); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SetNX(ctx, keys[1], []byte("v"), ttl); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Incr(ctx, keys[2], ttl); err != nil {
		t.Fatal(err)
	}
	for _, k := range keys[:3] {
		if got := pttl(t, rc, k); got <= ttl-10*time.Second || got > ttl {
			t.Errorf("PTTL %s = %v, want just under %v", k, got, ttl)
		}
	}

	if _, err := c.Incr(ctx, keys[2], time.Hour); err != nil {
		t.Fatal(err)
	}
	if got := pttl(t, rc, keys[2]); got > ttl {
		t.Errorf("PTTL after a second increment = %v, want the first window's (<= %v)", got, ttl)
	}

	// A ttl under a millisecond is rounded up, not refused or made endless.
	if err := c.Set(ctx, keys[3], []byte("v"), time.Microsecond); err != nil {
		t.Fatalf("Set with a ttl of 1µs: %v", err)
	}
	if got := pttl(t, rc, keys[3]); got > time.Millisecond || got == -1*time.Millisecond {
		t.Errorf("PTTL after a 1µs ttl = %v, want at most 1ms (or gone)", got)
	}
}

func TestDBsAreSeparate(t *testing.T) {
	addr := serverAddr(t)
	one := open(t, Config{Addrs: []string{addr}, DB: 1})
	defer one.Close()
	two := open(t, Config{Addrs: []string{addr}, DB: 2})
	defer two.Close()
	ctx := t.Context()
	key := "dbtest:" + strconv.FormatInt(time.Now().UnixNano(), 36)
	defer one.Delete(context.Background(), key)

	if err := one.Set(ctx, key, []byte("in db 1"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if got, err := two.Get(ctx, key); !errors.Is(err, cache.ErrMiss) {
		t.Fatalf("Get in DB 2 = %q, %v; want a miss", got, err)
	}
	if got, err := one.Get(ctx, key); err != nil || string(got) != "in db 1" {
		t.Fatalf("Get in DB 1 = %q, %v", got, err)
	}
}

// startServer runs a private redis-server on a free port, for tests that
// must stop it or configure it, and stops it when the test ends. portFlag
// names the port it listens on: "--port", or "--tls-port" for TLS only.
func startServer(t *testing.T, portFlag string, args ...string) (addr string, stop func()) {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatal("redis-server is not installed: run `.ci/redis.sh install`")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr = l.Addr().String()
	l.Close()
	_, port, _ := net.SplitHostPort(addr)

	args = append([]string{"--bind", "127.0.0.1", "--port", "0", portFlag, port,
		"--save", "", "--appendonly", "no", "--dir", t.TempDir()}, args...)
	cmd := exec.Command(bin, args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cmd.Process.Kill()
		cmd.Wait()
	}
	t.Cleanup(stop)

	for deadline := time.Now().Add(10 * time.Second); ; {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.Close()
			return addr, stop
		}
		if time.Now().After(deadline) {
			t.Fatalf("private redis-server on %s did not start: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestLostServerIsUnavailable(t *testing.T) {
	addr, stop := startServer(t, "--port")
	c := open(t, Config{Addrs: []string{addr}, DialTimeout: time.Second})
	defer c.Close()
	if err := c.Set(t.Context(), "k", []byte("v"), time.Minute); err != nil {
		t.Fatal(err)
	}

	stop()

	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	check := func(op string, err error) {
		t.Helper()
		var e *errs.Error
		if !errors.As(err, &e) || e.Code != errs.Unavailable || e.Cause == nil {
			t.Errorf("%s after the server stopped: %v, want errs.ErrUnavailable with a cause",
				op, err)
		}
	}
	_, err := c.Get(ctx, "k")
	check("Get", err)
	check("Set", c.Set(ctx, "k", []byte("v"), time.Minute))
	_, err = c.GetDel(ctx, "k")
	check("GetDel", err)
	_, err = c.Incr(ctx, "n", time.Minute)
	check("Incr", err)
	_, err = c.SetNX(ctx, "x", []byte("v"), time.Minute)
	check("SetNX", err)
	check("Delete", c.Delete(ctx, "k"))
}

func TestCredentials(t *testing.T) {
	addr, _ := startServer(t, "--port", "--requirepass", "correct horse")

	_, err := New(Config{Addrs: []string{addr}, Password: "wrong"})
	if !errors.Is(err, errs.ErrUnavailable) {
		t.Fatalf("New with a wrong password: %v, want errs.ErrUnavailable", err)
	}

	c := open(t, Config{Addrs: []string{addr}, Password: "correct horse"})
	defer c.Close()
	if err := c.Set(t.Context(), "k", []byte("v"), time.Minute); err != nil {
		t.Fatalf("Set with the right password: %v", err)
	}
}

// TLS is verified: a server whose certificate the client does not trust is
// refused, and one it trusts serves.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	roots := writeServerCert(t, dir)
	addr, _ := startServer(t, "--tls-port",
		"--tls-cert-file", filepath.Join(dir, "cert.pem"),
		"--tls-key-file", filepath.Join(dir, "key.pem"),
		"--tls-ca-cert-file", filepath.Join(dir, "cert.pem"),
		"--tls-auth-clients", "no")

	_, err := New(Config{Addrs: []string{addr}, TLS: true, DialTimeout: time.Second})
	if !errors.Is(err, errs.ErrUnavailable) {
		t.Fatalf("New against an untrusted certificate: %v, want errs.ErrUnavailable", err)
	}
	if unknown := (x509.UnknownAuthorityError{}); !errors.As(err, &unknown) {
		t.Fatalf("New against an untrusted certificate: %v, want an unknown-authority cause", err)
	}

	c := open(t, Config{Addrs: []string{addr}, TLS: true,
		TLSConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}})
	defer c.Close()
	if err := c.Set(t.Context(), "k", []byte("over tls"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if got, err := c.Get(t.Context(), "k"); err != nil || string(got) != "over tls" {
		t.Fatalf("Get over TLS = %q, %v", got, err)
	}
}

// writeServerCert writes a self-signed certificate for 127.0.0.1 and its key
// to dir as cert.pem and key.pem, and returns a pool that trusts it.
func writeServerCert(t *testing.T, dir string) *x509.CertPool {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "ward test redis"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	if err := os.WriteFile(filepath.Join(dir, "cert.pem"), certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "key.pem"), keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(certPEM)
	return roots
}

func benchCache(b *testing.B) *Cache {
	c := open(b, Config{Addrs: []string{serverAddr(b)}})
	b.Cleanup(func() { c.Close() })
	return c
}

func BenchmarkGet(b *testing.B)  { cachetest.BenchmarkGet(b, benchCache(b)) }
func BenchmarkSet(b *testing.B)  { cachetest.BenchmarkSet(b, benchCache(b)) }
func BenchmarkIncr(b *testing.B) { cachetest.BenchmarkIncr(b, benchCache(b)) }
