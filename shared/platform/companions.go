package platform

import (
	"context"

	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/sessions"
)

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
