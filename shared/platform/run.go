package platform

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/wardhq/ward/shared/config"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/function/httpfn"
	"github.com/wardhq/ward/shared/function/lambdafn"
	"github.com/wardhq/ward/shared/httpx"
)

// Front builds a deployable's function on an opened platform, for the
// deployables that are not a domain function themselves (the facade).
type Front func(ctx context.Context, p *Platform) (*function.Function, error)

// Main runs the deployable of one domain function, hosting it and its
// companions in process, and exits on failure. The mode comes from the
// environment: AWS Lambda when AWS_LAMBDA_RUNTIME_API is set, Google Cloud
// Functions or Cloud Run when FUNCTION_TARGET or K_SERVICE is, and a plain
// HTTP server otherwise.
func Main(w func() Wiring) {
	wired := w()
	exitOn(wired.Name, runDeployable(wired.Name, []Wiring{wired}, nil, os.Environ()))
}

// MainFront runs a deployable that is not a domain function (the facade):
// front builds its function on a platform that hosts every domain function
// in process. Modes as for Main.
func MainFront(name string, front Front) {
	exitOn(name, runDeployable(name, Domain(), front, os.Environ()))
}

func exitOn(name string, err error) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "ward %s: %v\n", name, err)
		os.Exit(1)
	}
}

// runDeployable runs name, hosting host. It must not reach Domain (nor
// Open): a domain deployable would then link every domain function.
func runDeployable(name string, host []Wiring, front Front, environ []string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	cfg, err := config.FromEnv(config.Defaults(), environ)
	if err != nil {
		return err
	}
	log := httpx.NewLogger(os.Stderr, cfg.LogFormat, cfg.LogLevel)

	p, err := OpenWith(ctx, cfg, log, host, os.Stderr)
	if err != nil {
		return err
	}
	defer p.Close()

	f := p.Local.Function(name)
	if front != nil {
		if f, err = front(ctx, p); err != nil {
			return err
		}
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
		return startCloudFunctions(ctx, f, cfg.InvokeKey, "0.0.0.0", port, log)
	default:
		h := httpx.Middleware(log, httpfn.Handler(f, cfg.InvokeKey, httpfn.WithLogger(log)))
		ready := func(a net.Addr) { log.Info("listening", "function", name, "addr", a.String()) }
		return httpx.Serve(ctx, cfg.Addr, h, cfg.ShutdownTimeout, log, ready)
	}
}
