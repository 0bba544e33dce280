// Package local runs the whole of Ward in one process for development:
// every domain function in process behind the GraphQL facade, GraphiQL on,
// on the embedded store and the in-process cache unless configured
// otherwise.
package local

import (
	"context"
	"io"
	"net"
	"net/http"

	"github.com/wardhq/ward/shared/config"
	"github.com/wardhq/ward/shared/httpx"
	"github.com/wardhq/ward/shared/platform"
	"github.com/wardhq/ward/shared/platform/facade"
)

// Run serves until ctx ends. out receives the logs and, on the first
// start, the bootstrap token.
func Run(ctx context.Context, environ []string, out io.Writer) error {
	base := config.Defaults()
	base.GraphiQL = true
	// Nothing leaves a development machine: messages go to the outbox,
	// listed at /_ward/outbox, unless configured otherwise.
	base.Messaging.Email = "outbox"
	base.Messaging.SMS = "outbox"
	cfg, err := config.FromEnv(base, environ)
	if err != nil {
		return err
	}
	log := httpx.NewLogger(out, cfg.LogFormat, cfg.LogLevel)

	p, err := platform.Open(ctx, cfg, log, platform.DomainNames(), out)
	if err != nil {
		return err
	}
	defer p.Close()
	front, err := facade.Build(ctx, p)
	if err != nil {
		return err
	}

	mux := http.NewServeMux()
	mux.Handle("/", front.Routes)
	if p.Outbox != nil {
		mux.Handle("/_ward/outbox", outboxHandler(p.Outbox, p.Invoker))
	}
	ready := func(a net.Addr) {
		log.Info("ward is listening", "addr", a.String(), "store", cfg.Store, "cache", cfg.Cache)
	}
	return httpx.Serve(ctx, cfg.Addr, httpx.Middleware(log, mux), cfg.ShutdownTimeout, log, ready)
}
