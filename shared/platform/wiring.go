package platform

import (
	"github.com/wardhq/ward/shared/account"
	"github.com/wardhq/ward/shared/apitokens"
	"github.com/wardhq/ward/shared/appstate"
	"github.com/wardhq/ward/shared/audit"
	"github.com/wardhq/ward/shared/authn"
	"github.com/wardhq/ward/shared/clients"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/groups"
	"github.com/wardhq/ward/shared/issuers"
	"github.com/wardhq/ward/shared/mfa"
	"github.com/wardhq/ward/shared/oauth"
	"github.com/wardhq/ward/shared/orgs"
	"github.com/wardhq/ward/shared/pages"
	"github.com/wardhq/ward/shared/sessions"
	"github.com/wardhq/ward/shared/tenants"
	"github.com/wardhq/ward/shared/users"
)

// Wiring builds one domain function on an opened platform. Companions are
// the domain functions it calls: a binary that hosts it hosts them too,
// in process, unless it hosts them already. Domain functions keep no state
// of their own (store and cache are shared), so a companion in the
// caller's process does what the companion's own deployment would: a
// deployment of account alone (on Lambda, say) revokes sessions without a
// remote route to the sessions function.
//
// Each wiring is a function rather than an entry of one table so that a
// deployable links the domain functions it names and their companions,
// and no others: a table of every constructor would put every domain
// into every binary.
type Wiring struct {
	Name  string
	Build func(p *Platform) *function.Function
	// Prepare, when set, readies what Build needs and may fail (a client of
	// an outside service, say); it runs once, before any Build, and an
	// error stops the binary at start-up. Being reached only through its
	// wiring, what it links stays out of the binaries that do not host
	// the function.
	Prepare    func(p *Platform) error
	Companions []func() Wiring
}

// Tenants wires the tenants function.
func Tenants() Wiring {
	return Wiring{Name: tenants.FunctionName, Build: func(p *Platform) *function.Function {
		return tenants.Function(tenants.Deps{Store: p.Store, Log: p.Log})
	}}
}

// Users wires the users function, which ends the sessions of users it
// disables or deletes.
func Users() Wiring {
	return Wiring{Name: users.FunctionName, Companions: []func() Wiring{Sessions},
		Build: func(p *Platform) *function.Function {
			return users.Function(users.Deps{Store: p.Store, Cache: p.Cache, Log: p.Log,
				Sessions: sessionRevoker(p, users.FunctionName)})
		}}
}

// Orgs wires the organizations function.
func Orgs() Wiring {
	return Wiring{Name: orgs.FunctionName, Build: func(p *Platform) *function.Function {
		return orgs.Function(orgs.Deps{Store: p.Store, Log: p.Log})
	}}
}

// Groups wires the groups function.
func Groups() Wiring {
	return Wiring{Name: groups.FunctionName, Build: func(p *Platform) *function.Function {
		return groups.Function(groups.Deps{Store: p.Store, Log: p.Log})
	}}
}

// Account wires the self-service function, which ends a user's sessions
// and OAuth grants after a password reset and an account deletion.
func Account() Wiring {
	return Wiring{Name: account.FunctionName, Companions: []func() Wiring{Sessions, OAuth},
		Build: func(p *Platform) *function.Function {
			return account.Function(account.Deps{Store: p.Store, Cache: p.Cache, Email: p.Email,
				Phone: p.Phone, Templates: p.Templates, From: p.EmailFrom,
				PublicURL: p.Config.PublicURL, Log: p.Log,
				Sessions: sessionRevoker(p, account.FunctionName),
				Grants:   oauth.GrantRevoker{Invoker: lateInvoker{p}, Subject: account.FunctionName}})
		}}
}

// APITokens wires the admin function (API tokens).
func APITokens() Wiring {
	return Wiring{Name: apitokens.FunctionName, Build: func(p *Platform) *function.Function {
		return apitokens.Function(apitokens.Deps{Store: p.Store, Cache: p.Cache, Log: p.Log})
	}}
}

// Audit wires the audit trail function.
func Audit() Wiring {
	return Wiring{Name: audit.FunctionName, Build: func(p *Platform) *function.Function {
		return audit.Function(audit.Deps{Store: p.Store})
	}}
}

// Authn wires the sign-in flows, which read tenants, check passwords with
// users, prove factors with mfa and open sessions.
func Authn() Wiring {
	return Wiring{Name: authn.FunctionName,
		Companions: []func() Wiring{Tenants, Users, Sessions, MFA},
		Build: func(p *Platform) *function.Function {
			return authn.Function(authn.Deps{Store: p.Store, Cache: p.Cache,
				Invoker: lateInvoker{p}, Log: p.Log})
		}}
}

// MFA wires the second factors function.
func MFA() Wiring {
	return Wiring{Name: mfa.FunctionName, Build: func(p *Platform) *function.Function {
		return mfa.Function(mfa.Deps{Store: p.Store, Cache: p.Cache, Email: p.Email,
			Phone: p.Phone, Templates: p.Templates, From: p.EmailFrom,
			PublicURL: p.Config.PublicURL, Key: p.MFAKey, Log: p.Log})
	}}
}

// Sessions wires the sessions function, which checks access tokens
// against the tenant's trusted issuers.
func Sessions() Wiring {
	return Wiring{Name: sessions.FunctionName, Companions: []func() Wiring{Issuers},
		Build: func(p *Platform) *function.Function {
			// RolesOf is nil until users carry administrator roles:
			// session callers hold the user role alone.
			return sessions.Function(sessions.Deps{Store: p.Store, Cache: p.Cache,
				Invoker: lateInvoker{p}, Log: p.Log})
		}}
}

// Pages wires the hosted pages, which drive authn and account, read
// tenants and sessions, pass device approvals to oauth, and ask it about
// consent.
func Pages() Wiring {
	return Wiring{Name: pages.FunctionName,
		Companions: []func() Wiring{Tenants, Authn, Account, Sessions, OAuth},
		Build: func(p *Platform) *function.Function {
			return pages.Function(pages.Deps{Invoker: lateInvoker{p},
				PublicURL: p.Config.PublicURL, Log: p.Log})
		}}
}

// Issuers wires the trusted issuers function.
func Issuers() Wiring {
	return Wiring{Name: issuers.FunctionName, Build: func(p *Platform) *function.Function {
		return issuers.Function(issuers.Deps{Store: p.Store, Log: p.Log})
	}}
}

// AppState wires the application state function, whose HTTP API
// validates session tokens.
func AppState() Wiring {
	return Wiring{Name: appstate.FunctionName, Companions: []func() Wiring{Sessions},
		Build: func(p *Platform) *function.Function {
			return appstate.Function(appstate.Deps{Cache: p.Cache, Store: p.Store,
				Invoker: lateInvoker{p}, Log: p.Log})
		}}
}

// OAuth wires the OAuth 2.0 and OpenID Connect function, which reads and
// authenticates clients with the clients function, the browser's session
// with the sessions function, and UserInfo's claims with the users
// function; the token exchange verifies trusted issuers' tokens with the
// issuers function and starts sessions with the sessions one.
func OAuth() Wiring {
	return Wiring{Name: oauth.FunctionName,
		Companions: []func() Wiring{Clients, Sessions, Users, Issuers},
		Prepare: func(p *Platform) (err error) {
			p.OAuthDataKeys, err = oauthDataKeys(p.Config)
			return err
		},
		Build: func(p *Platform) *function.Function {
			return oauth.Function(oauth.Deps{Store: p.Store, Cache: p.Cache, Key: p.OAuthKey,
				DataKeys: p.OAuthDataKeys,
				Invoker:  lateInvoker{p}, PublicURL: p.Config.PublicURL, Log: p.Log})
		}}
}

// Clients wires the OAuth client registry.
func Clients() Wiring {
	return Wiring{Name: clients.FunctionName, Build: func(p *Platform) *function.Function {
		return clients.Function(clients.Deps{Store: p.Store, Cache: p.Cache, Log: p.Log})
	}}
}

// Domain lists every domain function's wiring. The facade ("graphql") is
// not among them: it keeps no state of its own and is built on top of an
// invoker (package platform/facade). Calling Domain links every domain
// function into the binary.
func Domain() []Wiring {
	all := []func() Wiring{Tenants, Users, Orgs, APITokens, Audit, Groups, Account, Authn,
		Sessions, MFA, Pages, Issuers, AppState, OAuth,
		Clients}
	ws := make([]Wiring, len(all))
	for i, w := range all {
		ws[i] = w()
	}
	return ws
}

// DomainNames lists every domain function, for hosts that run them all.
func DomainNames() []string {
	var names []string
	for _, w := range Domain() {
		names = append(names, w.Name)
	}
	return names
}

// closure is host and the companions of its functions, and theirs in
// turn, each once, host first.
func closure(host []Wiring) []Wiring {
	seen := map[string]bool{}
	var out []Wiring
	for len(host) > 0 {
		var next []Wiring
		for _, w := range host {
			if seen[w.Name] {
				continue
			}
			seen[w.Name] = true
			out = append(out, w)
			for _, c := range w.Companions {
				next = append(next, c())
			}
		}
		host = next
	}
	return out
}
