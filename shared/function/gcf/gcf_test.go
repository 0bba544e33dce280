package gcf_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/function/gcf"
	"github.com/wardhq/ward/shared/function/httpfn"
	"github.com/wardhq/ward/shared/function/lambdafn/lambdatest"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/invoke/httpinvoke"
)

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

func waitListening(t *testing.T, addr string, served <-chan error) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		select {
		case err := <-served:
			t.Fatalf("Start returned: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not listening: %v", addr, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestStartRefusesBadArguments(t *testing.T) {
	key := bytes.Repeat([]byte{1}, 32)
	tests := []struct {
		name       string
		key        []byte
		host, port string
	}{
		{"no host, which would mean every interface", key, "", "8080"},
		{"a host name", key, "example.com", "8080"},
		{"a port that is not a number", key, "127.0.0.1", "http"},
		{"port zero", key, "127.0.0.1", "0"},
		{"a short key", make([]byte, 8), "127.0.0.1", "8080"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := gcf.Start(context.Background(), function.New("x"), tt.key, tt.host, tt.port)
			if err == nil {
				t.Error("Start accepted it")
			}
		})
	}
}

// TestServesUnderTheFramework starts a real function on the framework, as
// Cloud Functions does (FUNCTION_TARGET set), and calls it over HTTP. The
// framework serves one set of functions per process, so this is the only
// test here that starts it.
func TestServesUnderTheFramework(t *testing.T) {
	t.Setenv("FUNCTION_TARGET", "fixture")
	key := bytes.Repeat([]byte{0x7e}, 32)
	port := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	served := make(chan error, 1)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	go func() {
		served <- gcf.Start(ctx, lambdatest.Fixture(), key, "127.0.0.1", port, httpfn.WithLogger(quiet))
	}()
	base := "http://127.0.0.1:" + port
	waitListening(t, "127.0.0.1:"+port, served)

	t.Run("a route", func(t *testing.T) {
		res, err := http.Get(base + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK || string(body) != `{"status":"ok"}` {
			t.Errorf("GET /healthz = %d %q", res.StatusCode, body)
		}
	})

	t.Run("a route that sets two cookies", func(t *testing.T) {
		res, err := http.Get(base + "/login")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if got := len(res.Cookies()); res.StatusCode != http.StatusNoContent || got != 2 {
			t.Errorf("GET /login = %d with %d cookies, want 204 with 2", res.StatusCode, got)
		}
	})

	t.Run("a path with no route", func(t *testing.T) {
		res, err := http.Get(base + "/nowhere")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("GET /nowhere = %d, want 404", res.StatusCode)
		}
	})

	t.Run("a signed invocation", func(t *testing.T) {
		inv, err := httpinvoke.New(httpinvoke.Config{URLs: map[string]string{"fixture": base}, Key: key})
		if err != nil {
			t.Fatal(err)
		}
		caller := function.Caller{Subject: "svc", Roles: []string{function.RoleService}}

		got, err := invoke.Call[lambdatest.EchoOutput](context.Background(), inv, "fixture",
			lambdatest.OpEcho, caller, lambdatest.EchoInput{Text: "over http"})

		if err != nil {
			t.Fatal(err)
		}
		if got.Text != "over http" || got.Caller.Subject != "svc" {
			t.Errorf("got %+v", got)
		}
		_, err = invoke.Call[struct{}](context.Background(), inv, "fixture", lambdatest.OpFail,
			caller, struct{}{})
		if !errors.Is(err, errs.ErrConflict) {
			t.Errorf("fixture.fail: err = %v, want CONFLICT", err)
		}
	})

	t.Run("an unsigned invocation is refused", func(t *testing.T) {
		res, err := http.Post(base+httpfn.InvokePath, "application/json",
			strings.NewReader(`{"op":"fixture.echo","caller":{"sub":"root","roles":["system_admin"]}}`))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized || strings.Contains(string(body), "output") {
			t.Errorf("unsigned invoke = %d %s, want 401", res.StatusCode, body)
		}
	})
}
