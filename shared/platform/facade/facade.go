// Package facade assembles the GraphQL facade as a deployable: over the
// platform's in-process functions, with the functions that the
// configuration routes elsewhere (WARD_INVOKE_<FUNCTION>) reached remotely.
package facade

import (
	"context"
	"net/http"

	"github.com/wardhq/ward/graphql"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/invoke/remote"
	"github.com/wardhq/ward/shared/platform"
)

// Build returns the facade function over p and points p.Invoker at the
// routes it uses.
func Build(ctx context.Context, p *platform.Platform) (*function.Function, error) {
	inv, err := remote.Routes(ctx, p.Config.Invoke, p.Config.InvokeKey, p.Local)
	if err != nil {
		return nil, err
	}
	p.Invoker = inv
	opts := graphql.Options{
		GraphiQL: p.Config.GraphiQL,
		Logger:   p.Log,
		// The admin function already remembers verified tokens in the
		// platform's cache (shared by every instance when it is Redis); a
		// second, per-instance cache here would only stretch the time a
		// deleted token keeps working.
		TokenCacheTTL: -1,
	}
	front := graphql.Function(inv, opts)

	// One listener serves the facade and the HTTP routes (protocol
	// endpoints, hosted pages) of every domain function hosted here.
	mux := http.NewServeMux()
	mux.Handle("/graphql", front.Routes)
	mux.Handle("/healthz", front.Routes)
	for _, name := range platform.DomainNames() {
		if f := p.Local.Function(name); f != nil {
			function.Mount(mux, f)
		}
	}
	front.Routes = mux
	return front, nil
}
