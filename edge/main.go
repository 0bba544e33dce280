// Command edge is Ward's long-running edge binary, for the protocols
// that need a process holding TCP connections, which serverless
// functions cannot do. Today it serves LDAP (package edge/ldap).
//
// It reaches Ward through an invoker: in process by default (it opens
// the store and hosts the domain functions itself, like the local
// process), or over Lambda or HTTP for the functions named by
// WARD_INVOKE_<FUNCTION>.
//
// Settings are environment variables: the WARD_EDGE_ ones below, and
// the store, cache, invoke and log settings every Ward binary reads
// (package shared/config). An unknown WARD_ variable is an error.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/wardhq/ward/edge/ldap"
	"github.com/wardhq/ward/shared/config"
	"github.com/wardhq/ward/shared/httpx"
	"github.com/wardhq/ward/shared/invoke/remote"
	"github.com/wardhq/ward/shared/platform"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Environ(), os.Stderr, nil); err != nil {
		fmt.Fprintln(os.Stderr, "ward edge:", err)
		os.Exit(1)
	}
}

// run serves until ctx ends, then shuts down within WARD_SHUTDOWN_TIMEOUT.
// ready, when set, is called once the listeners accept connections.
func run(ctx context.Context, environ []string, out io.Writer, ready func()) error {
	ecfg, rest, err := edgeFromEnv(environ)
	if err != nil {
		return err
	}
	cfg, err := config.FromEnv(config.Defaults(), rest)
	if err != nil {
		return err
	}
	log := httpx.NewLogger(out, cfg.LogFormat, cfg.LogLevel)
	tlsCfg, err := ecfg.tlsConfig()
	if err != nil {
		return err
	}

	p, err := platform.Open(ctx, cfg, log, platform.DomainNames(), out)
	if err != nil {
		return err
	}
	defer p.Close()
	inv, err := remote.Routes(ctx, cfg.Invoke, cfg.InvokeKey, p.Local)
	if err != nil {
		return err
	}

	srv, err := ldap.New(ldap.Config{
		Addr:               ecfg.LDAPAddr,
		TLSAddr:            ecfg.LDAPSAddr,
		TLS:                tlsCfg,
		AllowAnonymous:     ecfg.AllowAnonymous,
		InsecurePlainBinds: ecfg.InsecurePlainBinds,
		Invoker:            inv,
		Log:                log,
	})
	if err != nil {
		return err
	}
	if err := srv.Start(); err != nil {
		return err
	}
	if ready != nil {
		ready()
	}

	select {
	case <-ctx.Done():
	case err := <-srv.Err():
		return err
	}
	log.Info("shutting down", "grace", cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	log.Info("stopped")
	return nil
}
