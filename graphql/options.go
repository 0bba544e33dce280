package graphql

import (
	"log/slog"
	"time"

	"github.com/wardhq/ward/shared/store"
)

// Defaults for the zero values of Options.
const (
	DefaultMaxDepth       = 8
	DefaultMaxComplexity  = 1000
	DefaultMaxQueryBytes  = 64 << 10
	DefaultMaxBodyBytes   = 1 << 20
	DefaultTokenCacheTTL  = 5 * time.Second
	DefaultTokenCacheSize = 4096
	DefaultDocCacheBytes  = 8 << 20
)

// Options configure a Handler. The zero value is a strict production
// setup; New copies it and fills in the defaults, so an Options value may
// be shared and reused freely.
type Options struct {
	// MaxDepth bounds the nesting of fields, fragments expanded.
	MaxDepth int
	// MaxComplexity bounds the estimated cost of a document: each field
	// costs 1 and a paginated field multiplies the cost of its selection by
	// its `first` argument (store.DefaultPageSize when absent).
	MaxComplexity int
	// MaxQueryBytes bounds the query text.
	MaxQueryBytes int
	// MaxBodyBytes bounds the request body.
	MaxBodyBytes int64

	// GraphiQL serves the GraphiQL page on GET /graphql. The local
	// process turns it on; deployments leave it off.
	GraphiQL bool

	// TokenCacheTTL is how long a verified token is trusted without asking
	// the admin function again; zero means DefaultTokenCacheTTL and a
	// negative value turns the cache off. A revoked token stays usable on
	// this instance for up to this long.
	TokenCacheTTL time.Duration
	// TokenCacheSize bounds the number of cached tokens.
	TokenCacheSize int

	// DocCacheBytes bounds the estimated memory of the cache of parsed and
	// validated documents; zero means DefaultDocCacheBytes and a negative
	// value turns the cache off.
	DocCacheBytes int

	// Logger receives one line per request and every internal fault.
	// Nil means slog.Default().
	Logger *slog.Logger
	// Now is the clock of the token cache. Nil means time.Now.
	Now func() time.Time
}

// withDefaults returns a copy of o with every zero field set.
func (o Options) withDefaults() Options {
	if o.MaxDepth <= 0 {
		o.MaxDepth = DefaultMaxDepth
	}
	if o.MaxComplexity <= 0 {
		o.MaxComplexity = DefaultMaxComplexity
	}
	if o.MaxQueryBytes <= 0 {
		o.MaxQueryBytes = DefaultMaxQueryBytes
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.TokenCacheTTL == 0 {
		o.TokenCacheTTL = DefaultTokenCacheTTL
	}
	if o.TokenCacheSize <= 0 {
		o.TokenCacheSize = DefaultTokenCacheSize
	}
	if o.DocCacheBytes == 0 {
		o.DocCacheBytes = DefaultDocCacheBytes
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// defaultPageSize is what a listing returns when `first` is absent; the
// complexity estimate uses it for the same case.
const defaultPageSize = store.DefaultPageSize
