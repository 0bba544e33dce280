package graphql

import (
	"context"

	gql "github.com/graphql-go/graphql"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/sessions"
	"github.com/wardhq/ward/shared/validate"
)

// sessionTypes builds the Session object and its connection.
func (r *resolvers) sessionTypes(pageInfo *gql.Object) (sessionT, sessionConn *gql.Object) {
	field := func(get func(s sessions.Session) any) gql.FieldResolveFn { return from(get) }
	sessionT = gql.NewObject(gql.ObjectConfig{
		Name: "Session",
		Description: "A signed-in session of a user. Its token is never shown after " +
			"sign-in.",
		Fields: gql.Fields{
			"id":       {Type: nnID, Resolve: field(func(s sessions.Session) any { return s.ID })},
			"tenantId": {Type: nnID, Resolve: field(func(s sessions.Session) any { return s.TenantID })},
			"userId":   {Type: nnID, Resolve: field(func(s sessions.Session) any { return s.UserID })},
			"acr": {
				Type:        nnString,
				Description: `The authentication context class reached: "1" a password, "2" with a second factor.`,
				Resolve:     field(func(s sessions.Session) any { return s.ACR }),
			},
			"amr": {
				Type:        nnStrings,
				Description: "The methods used (RFC 8176 values).",
				Resolve:     field(func(s sessions.Session) any { return nonNilStrings(s.AMR) }),
			},
			"authTime": {
				Type:    nnDateTime,
				Resolve: field(func(s sessions.Session) any { return s.AuthTime }),
			},
			"createdAt": {
				Type:    nnDateTime,
				Resolve: field(func(s sessions.Session) any { return s.CreatedAt }),
			},
			"lastSeenAt": {
				Type:        nnDateTime,
				Description: "The last use recorded, to about a minute.",
				Resolve:     field(func(s sessions.Session) any { return s.LastSeenAt }),
			},
			"idleExpiresAt": {
				Type:        nnDateTime,
				Description: "When the session ends unless it is used (as of lastSeenAt).",
				Resolve:     field(func(s sessions.Session) any { return s.IdleExpiresAt }),
			},
			"expiresAt": {
				Type:        nnDateTime,
				Description: "When the session ends however it is used.",
				Resolve:     field(func(s sessions.Session) any { return s.ExpiresAt }),
			},
			"ip": {
				Type:    gql.String,
				Resolve: field(func(s sessions.Session) any { return nonEmpty(s.IP) }),
			},
			"userAgent": {
				Type:    gql.String,
				Resolve: field(func(s sessions.Session) any { return nonEmpty(s.UserAgent) }),
			},
			"deviceId": {
				Type:    gql.String,
				Resolve: field(func(s sessions.Session) any { return nonEmpty(s.DeviceID) }),
			},
			"current": {
				Type:        nnBool,
				Description: "Whether the request was made with this session.",
				Resolve: func(p gql.ResolveParams) (any, error) {
					s, ok := p.Source.(sessions.Session)
					if !ok {
						return nil, &fieldError{code: errs.Internal, message: internalMessage}
					}
					return s.ID == stateOf(p.Context).caller.Session, nil
				},
			},
		},
	})
	return sessionT, connectionType[sessions.Session]("SessionConnection", sessionT, pageInfo)
}

// viewerUser is the signed-in user the "my" fields act for: a caller of a
// tenant whose subject is a user ID (a session, or a personal API token).
func viewerUser(ctx context.Context) (function.Caller, error) {
	c := stateOf(ctx).caller
	if c.Tenant == "" || validate.ID("id", c.Subject) != nil {
		return c, &fieldError{code: errs.PermissionDenied,
			message: "the viewer is not a user of a tenant"}
	}
	return c, nil
}

func (r *resolvers) listSessions(ctx context.Context, tenantID, userID string,
	args map[string]any) (any, error) {
	in := sessions.ListInput{TenantID: tenantID, UserID: userID, After: str(args, "after"),
		First: num(args, "first")}
	out, err := callOp[sessions.ListOutput](r, ctx, sessions.FunctionName, sessions.OpList, in)
	if err != nil {
		return nil, err
	}
	return connection[sessions.Session]{nodes: out.Items, next: out.Next}, nil
}

func (r *resolvers) sessionQueryFields(sessionT, sessionConn *gql.Object) gql.Fields {
	return gql.Fields{
		"mySessions": {
			Type:        gql.NewNonNull(sessionConn),
			Description: "The viewer's live sessions, in order of sign-in.",
			Args:        pageArgs(nil),
			Resolve: func(p gql.ResolveParams) (any, error) {
				c, err := viewerUser(p.Context)
				if err != nil {
					return nil, err
				}
				return r.listSessions(p.Context, c.Tenant, c.Subject, p.Args)
			},
		},
		"currentSession": {
			Type:        sessionT,
			Description: "The session the request was made with; null for an API token.",
			Resolve: func(p gql.ResolveParams) (any, error) {
				c := stateOf(p.Context).caller
				if c.Session == "" {
					return nil, nil
				}
				in := sessions.GetInput{TenantID: c.Tenant, ID: c.Session}
				return value(callOp[sessions.Session](r, p.Context, sessions.FunctionName,
					sessions.OpGet, in))
			},
		},
		"userSessions": {
			Type: gql.NewNonNull(sessionConn),
			Description: "A user's live sessions, for the administrators who reach the user " +
				"and for the user.",
			Args: pageArgs(gql.FieldConfigArgument{"tenantId": {Type: nnID}, "userId": {Type: nnID}}),
			Resolve: func(p gql.ResolveParams) (any, error) {
				return r.listSessions(p.Context, str(p.Args, "tenantId"), str(p.Args, "userId"),
					p.Args)
			},
		},
	}
}

func (r *resolvers) sessionMutationFields() gql.Fields {
	revoke := func(ctx context.Context, in sessions.RevokeInput) (any, error) {
		out, err := callOp[sessions.RevokeOutput](r, ctx, sessions.FunctionName,
			sessions.OpRevoke, in)
		if err != nil {
			return nil, err
		}
		return out.ID, nil
	}
	revokeAll := func(ctx context.Context, in sessions.RevokeAllInput) (any, error) {
		out, err := callOp[sessions.RevokeAllOutput](r, ctx, sessions.FunctionName,
			sessions.OpRevokeAll, in)
		if err != nil {
			return nil, err
		}
		return out.Revoked, nil
	}
	return gql.Fields{
		"revokeMySession": {
			Type:        nnID,
			Description: "Ends one of the viewer's own sessions.",
			Args:        gql.FieldConfigArgument{"id": {Type: nnID}},
			Resolve: func(p gql.ResolveParams) (any, error) {
				c, err := viewerUser(p.Context)
				if err != nil {
					return nil, err
				}
				return revoke(p.Context, sessions.RevokeInput{TenantID: c.Tenant,
					ID: str(p.Args, "id"), UserID: c.Subject})
			},
		},
		"revokeMyOtherSessions": {
			Type: nnInt,
			Description: "Ends every session of the viewer but the one of this request, " +
				"and answers how many ended.",
			Resolve: func(p gql.ResolveParams) (any, error) {
				c, err := viewerUser(p.Context)
				if err != nil {
					return nil, err
				}
				return revokeAll(p.Context, sessions.RevokeAllInput{TenantID: c.Tenant,
					UserID: c.Subject, KeepCurrent: true})
			},
		},
		"revokeSession": {
			Type:        nnID,
			Description: "Ends a session (administrators who reach its user, and the user).",
			Args:        gql.FieldConfigArgument{"tenantId": {Type: nnID}, "id": {Type: nnID}},
			Resolve: func(p gql.ResolveParams) (any, error) {
				return revoke(p.Context, sessions.RevokeInput{TenantID: str(p.Args, "tenantId"),
					ID: str(p.Args, "id")})
			},
		},
		"revokeUserSessions": {
			Type: nnInt,
			Description: "Ends every session of a user (administrators who reach the user, " +
				"and the user), and answers how many ended.",
			Args: gql.FieldConfigArgument{"tenantId": {Type: nnID}, "userId": {Type: nnID}},
			Resolve: func(p gql.ResolveParams) (any, error) {
				return revokeAll(p.Context, sessions.RevokeAllInput{
					TenantID: str(p.Args, "tenantId"), UserID: str(p.Args, "userId")})
			},
		},
	}
}
