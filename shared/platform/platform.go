// Package platform assembles a Ward binary from its configuration: it opens
// the store and the cache, builds the functions this binary hosts, wires
// the invoker (in process by default, remote where configured) and runs the
// bootstrap. Every deployable and the local process start here.
package platform

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/wardhq/ward/shared/apitokens"
	"github.com/wardhq/ward/shared/cache"
	"github.com/wardhq/ward/shared/config"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/messaging"
	"github.com/wardhq/ward/shared/messaging/outbox"
	"github.com/wardhq/ward/shared/messaging/templates"
	"github.com/wardhq/ward/shared/mfa"
	"github.com/wardhq/ward/shared/oauth"
	"github.com/wardhq/ward/shared/oauth/keys"
	"github.com/wardhq/ward/shared/store"
)

// Facade is the name of the GraphQL facade's deployable.
const Facade = "graphql"

// Platform is an opened set of dependencies.
type Platform struct {
	Config config.Config
	Log    *slog.Logger
	Store  store.Store
	Cache  cache.Cache
	Local  *invoke.Local
	// Invoker reaches the functions this binary calls: Local unless a
	// front (the facade) routes some of them elsewhere.
	Invoker invoke.Invoker

	// Email and Phone send messages as Config.Messaging says; Templates
	// writes them. EmailFrom is the sender address. Outbox is set when
	// either channel is the development outbox.
	Email     messaging.EmailSender
	Phone     messaging.PhoneSender
	EmailFrom string
	Templates *templates.Renderer
	Outbox    *outbox.Outbox

	// MFAKey seals TOTP seeds (see mfaKey); nil when this binary hosts
	// no second factors or has no key.
	MFAKey []byte
	// OAuthKey seals the tenants' signing keys (see oauthKey); nil when
	// this binary hosts no oauth function or has no key.
	OAuthKey []byte
	// OAuthDataKeys wraps the tenants' data keys with AWS KMS (see
	// oauthDataKeys); nil when this binary hosts no oauth function or
	// WARD_OAUTH_KMS_KEY_ID is not set.
	OAuthDataKeys keys.DataKeys
}

// Open opens the store and the cache that cfg names and registers, in an
// in-process invoker, the domain functions listed in host.
// bootstrapOut receives the generated bootstrap token, when one is made.
func Open(ctx context.Context, cfg config.Config, log *slog.Logger, host []string, bootstrapOut io.Writer) (*Platform, error) {
	byName := map[string]Wiring{}
	for _, w := range Domain() {
		byName[w.Name] = w
	}
	wired := make([]Wiring, 0, len(host))
	for _, name := range host {
		w, ok := byName[name]
		if !ok {
			return nil, fmt.Errorf("no function named %q", name)
		}
		wired = append(wired, w)
	}
	return OpenWith(ctx, cfg, log, wired, bootstrapOut)
}

// OpenWith is Open for the functions of host and their companions, named
// by their wirings: a binary that calls it and not Open links those
// functions only.
func OpenWith(ctx context.Context, cfg config.Config, log *slog.Logger, host []Wiring,
	bootstrapOut io.Writer) (*Platform, error) {
	hosted := closure(host)
	hosts := func(name string) bool {
		return slices.ContainsFunc(hosted, func(w Wiring) bool { return w.Name == name })
	}
	p := &Platform{Config: cfg, Log: log}
	var err error
	if p.Store, err = openStore(ctx, cfg); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	if p.Cache, err = openCache(ctx, cfg); err != nil {
		p.Store.Close()
		return nil, fmt.Errorf("cache: %w", err)
	}

	if err := p.openMessaging(cfg); err != nil {
		p.Close()
		return nil, fmt.Errorf("messaging: %w", err)
	}

	if hosts(mfa.FunctionName) {
		if p.MFAKey, err = mfaKey(cfg, log); err != nil {
			p.Close()
			return nil, fmt.Errorf("mfa key: %w", err)
		}
	}

	if hosts(oauth.FunctionName) {
		if p.OAuthKey, err = oauthKey(cfg, log); err != nil {
			p.Close()
			return nil, fmt.Errorf("oauth key: %w", err)
		}
	}

	for _, w := range hosted {
		if w.Prepare == nil {
			continue
		}
		if err := w.Prepare(p); err != nil {
			p.Close()
			return nil, fmt.Errorf("%s: %w", w.Name, err)
		}
	}

	p.Local = invoke.NewLocal()
	p.Local.OnFault = func(ctx context.Context, fn, op string, err error) {
		log.ErrorContext(ctx, "operation failed", "function", fn, "op", op,
			"request_id", function.RequestID(ctx), "error", err)
	}
	for _, w := range hosted {
		p.Local.Register(w.Build(p))
	}
	p.Invoker = p.Local

	if hosts(apitokens.FunctionName) {
		token, err := apitokens.Bootstrap(ctx, apitokens.Deps{Store: p.Store}, cfg.BootstrapToken)
		if err != nil {
			p.Close()
			return nil, fmt.Errorf("bootstrap: %w", err)
		}
		if token != "" && bootstrapOut != nil {
			// Printed once, on the first start, outside the structured
			// log: secrets never go into logs.
			fmt.Fprintf(bootstrapOut, "\nWard bootstrap: a system administrator API token was created.\n"+
				"It is shown only this once; keep it safe:\n\n    %s\n\n", token)
		}
	}
	return p, nil
}

// Close releases the cache and the store.
func (p *Platform) Close() error {
	var errc, errs error
	if p.Cache != nil {
		errc = p.Cache.Close()
	}
	if p.Store != nil {
		errs = p.Store.Close()
	}
	return errors.Join(errc, errs)
}

// mfaKey is the key that seals second factors' secrets: WARD_MFA_KEY, or
// with the embedded store a key kept in mfa.key (see localMasterKey).
// With ScyllaDB and no key, TOTP is unavailable.
func mfaKey(cfg config.Config, log *slog.Logger) ([]byte, error) {
	return masterKey(cfg, log, cfg.MFAKey, "mfa.key",
		"WARD_MFA_KEY is not set: authenticator apps (TOTP) are unavailable")
}

// oauthKey is the key that seals the private parts of the tenants'
// signing keys (unless KMS does) and opaque access tokens:
// WARD_OAUTH_KEY, or with the embedded store a key kept in oauth.key.
// With ScyllaDB and no key, signing keys need KMS and opaque access
// tokens are unavailable.
func oauthKey(cfg config.Config, log *slog.Logger) ([]byte, error) {
	warning := "WARD_OAUTH_KEY is not set: OAuth and OpenID Connect signing keys are unavailable"
	if cfg.OAuthKMSKeyID != "" {
		warning = "WARD_OAUTH_KEY is not set: opaque access tokens are unavailable, and " +
			"signing keys sealed under it before KMS was configured do not open"
	}
	return masterKey(cfg, log, cfg.OAuthKey, "oauth.key", warning)
}

// masterKey is a 32-byte key that seals secrets in the store: the
// configured one, or with the embedded store a key generated once and
// kept in file, next to the store's file (mode 0600), so that a copy of
// ward.db alone opens nothing. With ScyllaDB and no configured key there
// is none (nil, after warning): a key kept on one function's disk would
// not reach the others.
func masterKey(cfg config.Config, log *slog.Logger, configured []byte, file,
	warning string) ([]byte, error) {
	if len(configured) > 0 {
		return configured, nil
	}
	if cfg.Store != "bolt" {
		log.Warn(warning)
		return nil, nil
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, err
	}
	return localMasterKey(filepath.Join(cfg.DataDir, file))
}

// localMasterKey reads the key in path (hex), making it first when the
// file does not exist. Two processes starting at once agree: the file is
// created exclusively, and the loser reads the winner's.
func localMasterKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		key := make([]byte, 32)
		_, _ = rand.Read(key) // never fails (crypto/rand, Go 1.24+)
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, os.ErrExist) {
			return localMasterKey(path) // another process made it first
		}
		if err != nil {
			return nil, err
		}
		_, werr := f.WriteString(hex.EncodeToString(key) + "\n")
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return nil, werr
		}
		return key, nil
	}
	if err != nil {
		return nil, err
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(key) != 32 {
		return nil, fmt.Errorf("%s does not hold a 32-byte key in hex", path)
	}
	return key, nil
}

// dataFile is the embedded store's file inside the data directory.
func dataFile(cfg config.Config) (string, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return "", err
	}
	return filepath.Join(cfg.DataDir, "ward.db"), nil
}
