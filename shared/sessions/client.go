package sessions

import (
	"context"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/invoke"
)

// Revoker ends a user's sessions through the sessions function, for
// Ward's other services: account after a password reset or an account
// deletion, users when a user stops being ACTIVE or is deleted. It calls
// revokeAll as the service role; Subject names the service.
type Revoker struct {
	Invoker invoke.Invoker
	Subject string
}

// RevokeUser ends every session of the user and reports how many were
// live.
func (r Revoker) RevokeUser(ctx context.Context, tenantID, userID string) (int, error) {
	c := function.Caller{Subject: r.Subject, Roles: []string{function.RoleService}}
	out, err := invoke.Call[RevokeAllOutput](ctx, r.Invoker, FunctionName, OpRevokeAll, c,
		RevokeAllInput{TenantID: tenantID, UserID: userID})
	if err != nil {
		return 0, err
	}
	return out.Revoked, nil
}

// End ends the session a browser's token stands for, v being what
// sessions.validate answered for that token: sessions.revoke, called as
// the session's own user, since holding a session's token is the right
// to end that session and no other. A session already gone is no error.
// The hosted pages' sign-out and the OpenID Connect logout endpoint both
// end sessions this way, and clear the cookie only once it succeeded.
func End(ctx context.Context, inv invoke.Invoker, v ValidateOutput) error {
	_, err := invoke.Call[RevokeOutput](ctx, inv, FunctionName, OpRevoke, v.Caller(),
		RevokeInput{TenantID: v.TenantID, ID: v.SessionID, UserID: v.Subject})
	if errs.CodeOf(err) == errs.NotFound {
		return nil // ended meanwhile
	}
	return err
}
