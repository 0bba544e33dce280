package platform

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/wardhq/ward/shared/config"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/function/gcf"
	"github.com/wardhq/ward/shared/function/httpfn"
	"github.com/wardhq/ward/shared/function/lambdafn"
	"github.com/wardhq/ward/shared/httpx"
)

// RunLocal runs the local process until ctx ends: every domain function in
// process behind the facade, GraphiQL on, and every function's HTTP routes.
// out receives the bootstrap token on the first start.
func RunLocal(ctx context.Context, environ []string, out io.Writer) error {
	base := config.Defaults()
	base.GraphiQL = true
	cfg, err := config.FromEnv(base, environ)
	if err != nil {
		return err
	}
	log := httpx.NewLogger(out, cfg.LogFormat, cfg.LogLevel)

	p, err := Open(ctx, cfg, log, DomainNames(), out)
	if err != nil {
		return err
	}
	defer p.Close()

	mux := http.NewServeMux()
	facade := p.Facade(cfg.GraphiQL)
	mux.Handle("/graphql", facade.Routes)
	mux.Handle("/healthz", facade.Routes)
	for _, name := range DomainNames() {
		if f := p.Local.Function(name); f != nil && f.Routes != nil {
			mux.Handle("/"+name+"/", f.Routes)
		}
	}
	ready := func(a net.Addr) {
		log.Info("ward is listening", "addr", a.String(), "store", cfg.Store, "cache", cfg.Cache)
	}
	return httpx.Serve(ctx, cfg.Addr, httpx.Middleware(log, mux), cfg.ShutdownTimeout, log, ready)
}

// Main runs one deployable, named name (a domain function or "graphql"),
// in the mode its environment shows: AWS Lambda when AWS_LAMBDA_RUNTIME_API
// is set, Google Cloud Functions or Cloud Run when FUNCTION_TARGET or
// K_SERVICE is, and a plain HTTP server otherwise. It exits on failure.
func Main(name string) {
	if err := runDeployable(name, os.Environ()); err != nil {
		fmt.Fprintf(os.Stderr, "ward %s: %v\n", name, err)
		os.Exit(1)
	}
}

func runDeployable(name string, environ []string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	cfg, err := config.FromEnv(config.Defaults(), environ)
	if err != nil {
		return err
	}
	log := httpx.NewLogger(os.Stderr, cfg.LogFormat, cfg.LogLevel)

	host := []string{name}
	if name == Facade {
		host = DomainNames() // in process by default; cfg.Invoke overrides
	}
	if _, ok := Domain[name]; !ok && name != Facade {
		return fmt.Errorf("no function named %q", name)
	}
	p, err := Open(ctx, cfg, log, host, os.Stderr)
	if err != nil {
		return err
	}
	defer p.Close()

	var f *function.Function
	if name == Facade {
		f = p.Facade(cfg.GraphiQL)
	} else {
		f = p.Local.Function(name)
	}

	switch {
	case os.Getenv("AWS_LAMBDA_RUNTIME_API") != "":
		if f.Routes != nil {
			f.Routes = httpx.Middleware(log, f.Routes)
		}
		lambdafn.Start(f, log)
		return nil
	case os.Getenv("FUNCTION_TARGET") != "" || os.Getenv("K_SERVICE") != "":
		port := os.Getenv("PORT")
		if port == "" {
			port = "8080"
		}
		// Cloud Run and Cloud Functions route traffic to the container's
		// port on all interfaces; the platform, not the process, is the
		// boundary there.
		return gcf.Start(ctx, f, cfg.InvokeKey, "0.0.0.0", port)
	default:
		h := httpx.Middleware(log, httpfn.Handler(f, cfg.InvokeKey))
		ready := func(a net.Addr) { log.Info("listening", "function", name, "addr", a.String()) }
		return httpx.Serve(ctx, cfg.Addr, h, cfg.ShutdownTimeout, log, ready)
	}
}
