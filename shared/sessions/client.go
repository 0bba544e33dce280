package sessions

import (
	"context"

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
