// Package gcf runs a Function on Google Cloud Functions (2nd gen) and
// Cloud Run with the Functions Framework for Go: the function's routes and
// its invoke endpoint (see function/httpfn) are served as one HTTP function
// that takes every path.
//
// The framework keeps its functions in a process-wide registry and serves
// them on one server, so Register and Start may be called once per
// process. Its server has no graceful shutdown and no read timeouts of its
// own; on Cloud Run and Cloud Functions Google's front end bounds requests
// before they reach it.
package gcf

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"

	"github.com/GoogleCloudPlatform/functions-framework-go/funcframework"

	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/function/httpfn"
)

// Register adds f to the framework's registry at "/", which the framework
// serves on every path. With FUNCTION_TARGET set, as Cloud Functions sets
// it, the framework serves the last function registered without a name
// whatever the target's name, and that is f. key is the invoke key; empty
// disables the invoke endpoint.
func Register(ctx context.Context, f *function.Function, key []byte, opts ...httpfn.Option) error {
	if err := httpfn.CheckKey(key); err != nil {
		return err
	}
	h := httpfn.Handler(f, key, opts...)
	if err := funcframework.RegisterHTTPFunctionContext(ctx, "/", h.ServeHTTP); err != nil {
		return fmt.Errorf("gcf: registering function %s: %w", f.Name, err)
	}
	return nil
}

// Start registers f and serves it on host:port until the server fails or
// ctx ends. host is required: on Cloud Run, where the container must take
// connections from outside, pass "0.0.0.0" explicitly; elsewhere a loopback
// address. When ctx ends Start returns ctx.Err(), but the framework cannot
// stop its server, which keeps serving until the process exits.
func Start(ctx context.Context, f *function.Function, key []byte, host, port string,
	opts ...httpfn.Option) error {
	if host == "" {
		return errors.New("gcf: a host to listen on is required")
	}
	listenHost := host
	if ip := net.ParseIP(host); ip == nil && host != "localhost" {
		return fmt.Errorf("gcf: host %q is not an IP address", host)
	} else if ip != nil && ip.To4() == nil {
		// The framework joins host and port with a bare colon.
		listenHost = "[" + host + "]"
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("gcf: port %q is not a port number", port)
	}
	if err := Register(ctx, f, key, opts...); err != nil {
		return err
	}

	done := make(chan error, 1)
	go func() { done <- funcframework.StartHostPort(listenHost, port) }()
	select {
	case err := <-done:
		return fmt.Errorf("gcf: serving function %s: %w", f.Name, err)
	case <-ctx.Done():
		return ctx.Err()
	}
}
