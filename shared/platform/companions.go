package platform

import (
	"context"

	"github.com/wardhq/ward/shared/account"
	"github.com/wardhq/ward/shared/appstate"
	"github.com/wardhq/ward/shared/authn"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/issuers"
	"github.com/wardhq/ward/shared/mfa"
	"github.com/wardhq/ward/shared/pages"
	"github.com/wardhq/ward/shared/sessions"
	"github.com/wardhq/ward/shared/tenants"
	"github.com/wardhq/ward/shared/users"
)

// companions lists, for a domain function that calls another one, the
// functions it calls. A binary hosting the caller hosts them too, in
// process, unless it hosts them already: domain functions keep no state
// of their own (store and cache are shared), so the companion in the
// caller's process does what the companion's own deployment would. A
// deployment of account alone (on Lambda, say) thus revokes sessions
// without a remote route to the sessions function.
var companions = map[string][]string{
	account.FunctionName: {sessions.FunctionName},
	users.FunctionName:   {sessions.FunctionName},
	authn.FunctionName: {tenants.FunctionName, users.FunctionName, sessions.FunctionName,
		mfa.FunctionName},
	// The hosted pages drive authn and account, and read tenants and
	// sessions.
	pages.FunctionName: {tenants.FunctionName, authn.FunctionName, account.FunctionName,
		sessions.FunctionName},
	// Access tokens are checked against the tenant's trusted issuers.
	sessions.FunctionName: {issuers.FunctionName},
	// The HTTP API validates session tokens.
	appstate.FunctionName: {sessions.FunctionName},
}

// hostCompanions registers the companions of the functions p hosts, and
// theirs in turn.
func hostCompanions(p *Platform, host []string) {
	for len(host) > 0 {
		var added []string
		for _, name := range host {
			for _, c := range companions[name] {
				if p.Local.Function(c) == nil {
					p.Local.Register(Domain[c](p))
					added = append(added, c)
				}
			}
		}
		host = added
	}
}

// lateInvoker reaches functions through p.Invoker as it is when a call is
// made: domain functions are built before a front (the facade) points
// p.Invoker at its routes, and must follow those routes.
type lateInvoker struct{ p *Platform }

func (l lateInvoker) Invoke(ctx context.Context, fn string, req function.Request) (
	function.Response, error) {
	return l.p.Invoker.Invoke(ctx, fn, req)
}

// sessionRevoker is what account and users end a user's sessions with.
func sessionRevoker(p *Platform, subject string) sessions.Revoker {
	return sessions.Revoker{Invoker: lateInvoker{p}, Subject: subject}
}
