package lambdatest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// RIEModule is the emulator version the tests are known to work with.
const RIEModule = "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie" +
	"@v0.0.0-20261030222936-bef5c4ba774d"

// InvokePath is the emulator's invoke endpoint, the same path as the Lambda
// API's Invoke for a function named "function".
const InvokePath = "/2015-03-31/functions/function/invocations"

var (
	rieOnce sync.Once
	riePath string
	rieErr  error
)

// RIEPath returns the emulator binary: $WARD_TEST_RIE, aws-lambda-rie on
// PATH or in $(go env GOPATH)/bin, or else one installed with go install
// into ${WARD_TEST_CACHE_DIR:-$HOME/.cache/ward}/bin. It fails tb when there is
// none and it cannot be installed.
func RIEPath(tb testing.TB) string {
	tb.Helper()
	rieOnce.Do(func() { riePath, rieErr = findRIE() })
	if rieErr != nil {
		tb.Fatalf("lambdatest: no Lambda runtime emulator: %v\n"+
			"install it with: go install %s", rieErr, RIEModule)
	}
	return riePath
}

func findRIE() (string, error) {
	if p := os.Getenv("WARD_TEST_RIE"); p != "" {
		return p, nil
	}
	if p, err := exec.LookPath("aws-lambda-rie"); err == nil {
		return p, nil
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		for _, dir := range filepath.SplitList(strings.TrimSpace(string(out))) {
			p := filepath.Join(dir, "bin", "aws-lambda-rie")
			if _, err := os.Stat(p); err == nil {
				return p, nil
			}
		}
	}

	cache := os.Getenv("WARD_TEST_CACHE_DIR")
	if cache == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		cache = filepath.Join(home, ".cache", "ward")
	}
	bin := filepath.Join(cache, "bin")
	p := filepath.Join(bin, "aws-lambda-rie")
	if _, err := os.Stat(p); err == nil {
		return p, nil
	}
	cmd := exec.Command("go", "install", RIEModule)
	cmd.Env = append(os.Environ(), "GOBIN="+bin, "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go install: %v\n%s", err, out)
	}
	return p, nil
}

// Build compiles the main package pkg (an import path) the way Ward's Lambda
// bootstraps are built, for the host's architecture so that the emulator
// can run it, and returns the binary's path, which lasts as long as tb.
func Build(tb testing.TB, pkg string) string {
	tb.Helper()
	out, err := BuildTo(pkg, tb.TempDir())
	if err != nil {
		tb.Fatalf("lambdatest: %v", err)
	}
	return out
}

// BuildTo is Build writing dir/bootstrap, for a TestMain that shares one
// build among its tests.
func BuildTo(pkg, dir string) (string, error) {
	out := filepath.Join(dir, "bootstrap")
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc,ward.nogcf", "-trimpath",
		"-ldflags=-s -w", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building %s: %v\n%s", pkg, err, b)
	}
	return out, nil
}

// Options configure an emulated function.
type Options struct {
	// Env is added to the function's environment, as NAME=value. The
	// function sees nothing else of the test's environment but PATH, HOME
	// and TMPDIR.
	Env []string
	// Timeout is the function's timeout in whole seconds; 10 s when zero.
	Timeout int
}

// Emulator is a function running under aws-lambda-rie.
type Emulator struct {
	// URL is the emulator's base URL; an SDK pointed at it with the
	// function name "function" reaches InvokePath.
	URL string
	// Started is when the emulator process was started.
	Started time.Time

	cmd    *exec.Cmd
	output *syncBuffer
	exited chan struct{}
	once   sync.Once
}

// Start starts bootstrap under the emulator on two free loopback ports and
// returns once the emulator takes connections; the function itself starts
// on the first invoke, as on Lambda. The emulator is stopped when tb ends,
// and its output is logged if tb failed.
func Start(tb testing.TB, bootstrap string, opts Options) *Emulator {
	tb.Helper()
	e, err := Launch(RIEPath(tb), bootstrap, opts)
	if err != nil {
		tb.Fatalf("lambdatest: %v", err)
	}
	tb.Cleanup(func() {
		e.Stop()
		if tb.Failed() {
			tb.Logf("emulator output:\n%s", e.Output())
		}
	})
	if err := e.waitListening(10 * time.Second); err != nil {
		tb.Fatalf("lambdatest: %v\n%s", err, e.Output())
	}
	return e
}

// Launch starts bootstrap under the emulator at rie and returns at once,
// without waiting for it to listen (Invoke waits). The caller stops it.
func Launch(rie, bootstrap string, opts Options) (*Emulator, error) {
	return start(rie, bootstrap, opts)
}

func (e *Emulator) waitListening(limit time.Duration) error {
	addr := strings.TrimPrefix(e.URL, "http://")
	deadline := time.Now().Add(limit)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-e.exited:
			return errors.New("emulator exited before it listened")
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("emulator not listening after %v: %v", limit, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func start(rie, bootstrap string, opts Options) (*Emulator, error) {
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	timeout := opts.Timeout
	if timeout == 0 {
		timeout = 10
	}
	invokeAddr := "127.0.0.1:" + strconv.Itoa(ports[0])
	runtimeAddr := "127.0.0.1:" + strconv.Itoa(ports[1])

	cmd := exec.Command(rie,
		"--runtime-interface-emulator-address", invokeAddr,
		"--runtime-api-address", runtimeAddr,
		bootstrap)
	cmd.Env = []string{
		"AWS_LAMBDA_FUNCTION_NAME=function",
		"AWS_LAMBDA_FUNCTION_TIMEOUT=" + strconv.Itoa(timeout),
		"AWS_REGION=us-east-1",
	}
	for _, name := range []string{"PATH", "HOME", "TMPDIR"} {
		if v, ok := os.LookupEnv(name); ok {
			cmd.Env = append(cmd.Env, name+"="+v)
		}
	}
	cmd.Env = append(cmd.Env, opts.Env...)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	// Its own process group, so that Stop ends the function with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}

	e := &Emulator{URL: "http://" + invokeAddr, cmd: cmd, output: out, exited: make(chan struct{})}
	e.Started = time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting emulator: %w", err)
	}
	go func() {
		cmd.Wait()
		close(e.exited)
	}()
	return e, nil
}

// Invoke posts payload to the invoke endpoint and returns the status and
// body. Until the emulator listens, it retries refused connections, so the
// first Invoke after Start also waits for the emulator to come up. The
// emulator runs one invoke at a time.
func (e *Emulator) Invoke(ctx context.Context, payload []byte) (int, []byte, error) {
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.URL+InvokePath,
			bytes.NewReader(payload))
		if err != nil {
			return 0, nil, err
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			if errors.Is(err, syscall.ECONNREFUSED) {
				select {
				case <-e.exited:
					return 0, nil, errors.New("emulator exited")
				case <-ctx.Done():
					return 0, nil, ctx.Err()
				case <-time.After(time.Millisecond):
					continue
				}
			}
			return 0, nil, err
		}
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		return res.StatusCode, body, err
	}
}

// Stop ends the emulator and the function it runs.
func (e *Emulator) Stop() {
	e.once.Do(func() {
		pgid := e.cmd.Process.Pid
		syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-e.exited:
		case <-time.After(3 * time.Second):
			syscall.Kill(-pgid, syscall.SIGKILL)
			<-e.exited
		}
	})
}

// Output returns what the emulator and the function printed.
func (e *Emulator) Output() string { return e.output.String() }

func freePorts(n int) ([]int, error) {
	var ports []int
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
