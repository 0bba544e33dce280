package httpinvoke_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/function/httpfn"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/invoke/httpinvoke"
)

var testKey = bytes.Repeat([]byte{0x42}, 32)

type greetIn struct {
	Name string `json:"name"`
}

type greetOut struct {
	Greeting string `json:"greeting"`
	Tenant   string `json:"tenant"`
}

func greeter() *function.Function {
	f := function.New("greeter")
	function.Op(f, "greeter.greet", func(_ context.Context, c function.Caller, in greetIn) (greetOut, error) {
		if in.Name == "" {
			return greetOut{}, errs.Invalid("name", "required")
		}
		return greetOut{Greeting: "hello " + in.Name, Tenant: c.Tenant}, nil
	})
	return f
}

// serveFunction runs f behind the real invoke endpoint.
func serveFunction(t *testing.T, f *function.Function, key []byte) *httptest.Server {
	t.Helper()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := httptest.NewServer(httpfn.Handler(f, key, httpfn.WithLogger(quiet)))
	t.Cleanup(srv.Close)
	return srv
}

func newInvoker(t *testing.T, urls map[string]string, key []byte) *httpinvoke.Invoker {
	t.Helper()
	inv, err := httpinvoke.New(httpinvoke.Config{URLs: urls, Key: key, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

func TestCallReachesTheOperation(t *testing.T) {
	srv := serveFunction(t, greeter(), testKey)
	inv := newInvoker(t, map[string]string{"greeter": srv.URL + "/"}, testKey)
	caller := function.Caller{Subject: "u1", Tenant: "t1", Roles: []string{function.RoleUser}}

	got, err := invoke.Call[greetOut](context.Background(), inv, "greeter", "greeter.greet", caller,
		greetIn{Name: "ada"})

	if err != nil {
		t.Fatal(err)
	}
	if want := (greetOut{Greeting: "hello ada", Tenant: "t1"}); got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestOperationErrorsKeepTheirCode(t *testing.T) {
	srv := serveFunction(t, greeter(), testKey)
	inv := newInvoker(t, map[string]string{"greeter": srv.URL}, testKey)

	_, err := invoke.Call[greetOut](context.Background(), inv, "greeter", "greeter.greet",
		function.Caller{Subject: "u1"}, greetIn{})

	var e *errs.Error
	if !errors.As(err, &e) || e.Code != errs.InvalidArgument || e.Field != "name" {
		t.Errorf("err = %v, want INVALID_ARGUMENT on name", err)
	}
}

func TestTransportFailures(t *testing.T) {
	otherKey := bytes.Repeat([]byte{0x24}, 32)
	signed := serveFunction(t, greeter(), otherKey)
	status500 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "boom", http.StatusInternalServerError)
	}))
	t.Cleanup(status500.Close)
	notJSON := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("<html>hi</html>"))
	}))
	t.Cleanup(notJSON.Close)
	foreignJSON := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"errorMessage":"Task timed out after 3.00 seconds"}`))
	}))
	t.Cleanup(foreignJSON.Close)
	emptyObject := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{}`))
	}))
	t.Cleanup(emptyObject.Close)
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, signed.URL+httpfn.InvokePath, http.StatusTemporaryRedirect)
	}))
	t.Cleanup(redirect.Close)

	tests := []struct {
		name    string
		fn      string
		url     string
		wantErr string
	}{
		{"a function with no URL", "nobody", "", "no URL configured"},
		{"a refused signature", "greeter", signed.URL, "answered 401 (UNAUTHENTICATED)"},
		{"a server error", "greeter", status500.URL, "answered 500"},
		{"an answer that is not JSON", "greeter", notJSON.URL, "not a function response"},
		{"an answer of another shape", "greeter", foreignJSON.URL, "not a function response"},
		{"an empty answer object", "greeter", emptyObject.URL, "neither output nor error"},
		{"a redirect", "greeter", redirect.URL, "answered 307"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			urls := map[string]string{}
			if tt.url != "" {
				urls[tt.fn] = tt.url
			}
			inv := newInvoker(t, urls, testKey)

			_, err := inv.Invoke(context.Background(), tt.fn, function.Request{Op: "greeter.greet"})

			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
			}
			// Through Call, a transport failure is UNAVAILABLE.
			_, err = invoke.Call[greetOut](context.Background(), inv, tt.fn, "greeter.greet",
				function.Caller{}, greetIn{Name: "x"})
			if !errors.Is(err, errs.ErrUnavailable) {
				t.Errorf("Call err = %v, want UNAVAILABLE", err)
			}
		})
	}
}

func TestTimeout(t *testing.T) {
	release := make(chan struct{})
	stuck := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(stuck.Close)
	t.Cleanup(func() { close(release) })
	inv, err := httpinvoke.New(httpinvoke.Config{
		URLs:    map[string]string{"greeter": stuck.URL},
		Key:     testKey,
		Timeout: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}

	_, err = inv.Invoke(context.Background(), "greeter", function.Request{Op: "greeter.greet"})

	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want a deadline error", err)
	}
}

func TestNewChecksTheConfiguration(t *testing.T) {
	tests := []struct {
		name string
		cfg  httpinvoke.Config
	}{
		{"no key", httpinvoke.Config{}},
		{"a short key", httpinvoke.Config{Key: make([]byte, 8)}},
		{"a negative timeout", httpinvoke.Config{Key: testKey, Timeout: -time.Second}},
		{"plain http to another host", httpinvoke.Config{Key: testKey,
			URLs: map[string]string{"a": "http://tenants.internal"}}},
		{"a URL with a query", httpinvoke.Config{Key: testKey,
			URLs: map[string]string{"a": "https://tenants.internal/?x=1"}}},
		{"a URL with credentials", httpinvoke.Config{Key: testKey,
			URLs: map[string]string{"a": "https://u:p@tenants.internal"}}},
		{"a URL without a host", httpinvoke.Config{Key: testKey,
			URLs: map[string]string{"a": "tenants.internal"}}},
		{"another scheme", httpinvoke.Config{Key: testKey,
			URLs: map[string]string{"a": "ftp://tenants.internal"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := httpinvoke.New(tt.cfg); err == nil {
				t.Error("New accepted it")
			}
		})
	}

	ok := []map[string]string{
		{"a": "https://tenants.internal"},
		{"a": "https://tenants-abc.a.run.app/base/"},
		{"a": "http://127.0.0.1:8081"},
		{"a": "http://[::1]:8081"},
		{"a": "http://localhost:8081"},
	}
	for _, urls := range ok {
		if _, err := httpinvoke.New(httpinvoke.Config{Key: testKey, URLs: urls}); err != nil {
			t.Errorf("New(%v): %v", urls, err)
		}
	}
	insecure := httpinvoke.Config{Key: testKey, InsecureAllowHTTP: true,
		URLs: map[string]string{"a": "http://tenants.internal"}}
	if _, err := httpinvoke.New(insecure); err != nil {
		t.Errorf("InsecureAllowHTTP: %v", err)
	}
}

func TestBasePathIsKept(t *testing.T) {
	var gotPath string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotPath = r.URL.Path
		w.Write([]byte(`{"output":{}}`))
	}))
	t.Cleanup(srv.Close)
	inv := newInvoker(t, map[string]string{"greeter": srv.URL + "/fn/greeter/"}, testKey)

	if _, err := inv.Invoke(context.Background(), "greeter", function.Request{Op: "x"}); err != nil {
		t.Fatal(err)
	}
	if want := "/fn/greeter" + httpfn.InvokePath; gotPath != want {
		t.Errorf("path = %q, want %q", gotPath, want)
	}
}
