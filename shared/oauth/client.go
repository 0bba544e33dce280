package oauth

import (
	"context"

	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/invoke"
)

// GrantRevoker revokes a user's refresh token families through the oauth
// function (OpRevokeGrants), for Ward's other services: account after a
// password reset or an account deletion. It calls as the service role;
// Subject names the service, and the audit records it.
type GrantRevoker struct {
	Invoker invoke.Invoker
	Subject string
}

// RevokeUserGrants revokes every family of the user, offline ones
// included, and reports how many it revoked.
func (g GrantRevoker) RevokeUserGrants(ctx context.Context, tenantID, userID string) (int,
	error) {
	c := function.Caller{Subject: g.Subject, Roles: []string{function.RoleService}}
	out, err := invoke.Call[RevokeGrantsOutput](ctx, g.Invoker, FunctionName, OpRevokeGrants, c,
		RevokeGrantsInput{TenantID: tenantID, UserID: userID})
	if err != nil {
		return 0, err
	}
	return out.Revoked, nil
}
