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
	"strings"

	"github.com/wardhq/ward/shared/account"
	"github.com/wardhq/ward/shared/apitokens"
	"github.com/wardhq/ward/shared/appstate"
	"github.com/wardhq/ward/shared/audit"
	"github.com/wardhq/ward/shared/authn"
	"github.com/wardhq/ward/shared/cache"
	"github.com/wardhq/ward/shared/clients"
	"github.com/wardhq/ward/shared/config"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/groups"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/issuers"
	"github.com/wardhq/ward/shared/messaging"
	"github.com/wardhq/ward/shared/messaging/outbox"
	"github.com/wardhq/ward/shared/messaging/templates"
	"github.com/wardhq/ward/shared/mfa"
	"github.com/wardhq/ward/shared/orgs"
	"github.com/wardhq/ward/shared/pages"
	"github.com/wardhq/ward/shared/sessions"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/tenants"
	"github.com/wardhq/ward/shared/users"
)

// Domain lists the domain functions by name, each with its constructor.
// The facade ("graphql") is not among them: it hosts no state of its own
// and is built on top of an invoker (package platform/facade).
var Domain = map[string]func(p *Platform) *function.Function{
	tenants.FunctionName: func(p *Platform) *function.Function {
		return tenants.Function(tenants.Deps{Store: p.Store, Log: p.Log})
	},
	users.FunctionName: func(p *Platform) *function.Function {
		return users.Function(users.Deps{Store: p.Store, Cache: p.Cache, Log: p.Log,
			Sessions: sessionRevoker(p, users.FunctionName)})
	},
	orgs.FunctionName: func(p *Platform) *function.Function {
		return orgs.Function(orgs.Deps{Store: p.Store, Log: p.Log})
	},
	groups.FunctionName: func(p *Platform) *function.Function {
		return groups.Function(groups.Deps{Store: p.Store, Log: p.Log})
	},
	account.FunctionName: func(p *Platform) *function.Function {
		return account.Function(account.Deps{Store: p.Store, Cache: p.Cache, Email: p.Email, Phone: p.Phone,
			Templates: p.Templates, From: p.EmailFrom, PublicURL: p.Config.PublicURL,
			Log: p.Log, Sessions: sessionRevoker(p, account.FunctionName)})
	},
	apitokens.FunctionName: func(p *Platform) *function.Function {
		return apitokens.Function(apitokens.Deps{Store: p.Store, Cache: p.Cache, Log: p.Log})
	},
	audit.FunctionName: func(p *Platform) *function.Function {
		return audit.Function(audit.Deps{Store: p.Store})
	},
	authn.FunctionName: func(p *Platform) *function.Function {
		return authn.Function(authn.Deps{Store: p.Store, Cache: p.Cache, Invoker: lateInvoker{p},
			Log: p.Log})
	},
	mfa.FunctionName: func(p *Platform) *function.Function {
		return mfa.Function(mfa.Deps{Store: p.Store, Cache: p.Cache, Email: p.Email,
			Phone: p.Phone, Templates: p.Templates, From: p.EmailFrom,
			PublicURL: p.Config.PublicURL, Key: p.MFAKey, Log: p.Log})
	},
	sessions.FunctionName: func(p *Platform) *function.Function {
		// RolesOf is nil until users carry administrator roles: session
		// callers hold the user role alone.
		return sessions.Function(sessions.Deps{Store: p.Store, Cache: p.Cache,
			Invoker: lateInvoker{p}, Log: p.Log})
	},
	pages.FunctionName: func(p *Platform) *function.Function {
		return pages.Function(pages.Deps{Invoker: lateInvoker{p}, PublicURL: p.Config.PublicURL,
			Log: p.Log})
	},
	issuers.FunctionName: func(p *Platform) *function.Function {
		return issuers.Function(issuers.Deps{Store: p.Store, Log: p.Log})
	},
	clients.FunctionName: func(p *Platform) *function.Function {
		return clients.Function(clients.Deps{Store: p.Store, Log: p.Log})
	},
	appstate.FunctionName: func(p *Platform) *function.Function {
		return appstate.Function(appstate.Deps{Cache: p.Cache, Store: p.Store,
			Invoker: lateInvoker{p}, Log: p.Log})
	},
}

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
}

// Open opens the store and the cache that cfg names and registers, in an
// in-process invoker, the domain functions listed in host.
// bootstrapOut receives the generated bootstrap token, when one is made.
func Open(ctx context.Context, cfg config.Config, log *slog.Logger, host []string, bootstrapOut io.Writer) (*Platform, error) {
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

	if slicesContains(host, mfa.FunctionName) || slicesContains(host, authn.FunctionName) {
		if p.MFAKey, err = mfaKey(cfg, log); err != nil {
			p.Close()
			return nil, fmt.Errorf("mfa key: %w", err)
		}
	}

	p.Local = invoke.NewLocal()
	p.Local.OnFault = func(ctx context.Context, fn, op string, err error) {
		log.ErrorContext(ctx, "operation failed", "function", fn, "op", op,
			"request_id", function.RequestID(ctx), "error", err)
	}
	for _, name := range host {
		mk, ok := Domain[name]
		if !ok {
			p.Close()
			return nil, fmt.Errorf("no function named %q", name)
		}
		p.Local.Register(mk(p))
	}
	hostCompanions(p, host)
	p.Invoker = p.Local

	if slicesContains(host, apitokens.FunctionName) {
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

func slicesContains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// DomainNames lists every domain function, for hosts that run them all.
func DomainNames() []string {
	return []string{tenants.FunctionName, users.FunctionName, orgs.FunctionName,
		apitokens.FunctionName, audit.FunctionName, groups.FunctionName, account.FunctionName,
		authn.FunctionName, sessions.FunctionName, mfa.FunctionName, pages.FunctionName,
		issuers.FunctionName, appstate.FunctionName, clients.FunctionName}
}

// mfaKey is the key that seals second factors' secrets: WARD_MFA_KEY, or
// with the embedded store a key generated once and kept in mfa.key next
// to the store's file (mode 0600), so that a copy of ward.db alone holds
// no TOTP seed. With ScyllaDB and no key, TOTP is unavailable: a key kept
// on one function's disk would not reach the others.
func mfaKey(cfg config.Config, log *slog.Logger) ([]byte, error) {
	if len(cfg.MFAKey) > 0 {
		return cfg.MFAKey, nil
	}
	if cfg.Store != "bolt" {
		log.Warn("WARD_MFA_KEY is not set: authenticator apps (TOTP) are unavailable")
		return nil, nil
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, err
	}
	path := filepath.Join(cfg.DataDir, "mfa.key")
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		key := make([]byte, 32)
		_, _ = rand.Read(key) // never fails (crypto/rand, Go 1.24+)
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, os.ErrExist) {
			return mfaKey(cfg, log) // another process made it first
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
