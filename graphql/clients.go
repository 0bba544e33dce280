package graphql

import (
	gql "github.com/graphql-go/graphql"

	"github.com/wardhq/ward/shared/clients"
	"github.com/wardhq/ward/shared/store"
)

// oauthClientTypes builds the OAuthClient object, its connection and the
// payload that carries a secret once.
func (r *resolvers) oauthClientTypes(pageInfo *gql.Object) (clientT, conn, payload *gql.Object) {
	field := func(get func(c clients.Client) any) gql.FieldResolveFn { return from(get) }
	clientT = gql.NewObject(gql.ObjectConfig{
		Name: "OAuthClient",
		Description: "An application registered with the tenant's OAuth 2.0 and OpenID " +
			"Connect server. Its secret is never readable; only hasSecret says it has one.",
		Fields: gql.Fields{
			"id": {
				Type:        nnID,
				Description: "The client_id.",
				Resolve:     field(func(c clients.Client) any { return c.ID }),
			},
			"tenantId": {Type: nnID, Resolve: field(func(c clients.Client) any { return c.TenantID })},
			"name":     {Type: nnString, Resolve: field(func(c clients.Client) any { return c.Name })},
			"type": {
				Type:        nnString,
				Description: "confidential or public.",
				Resolve:     field(func(c clients.Client) any { return string(c.Type) }),
			},
			"authMethod": {
				Type: nnString,
				Description: "The token_endpoint_auth_method: client_secret_basic, " +
					"client_secret_post, private_key_jwt or none.",
				Resolve: field(func(c clients.Client) any { return c.AuthMethod }),
			},
			"hasSecret": {Type: nnBool, Resolve: field(func(c clients.Client) any { return c.HasSecret })},
			"jwksUri": {
				Type:    gql.String,
				Resolve: field(func(c clients.Client) any { return nonEmpty(c.JWKSURI) }),
			},
			"jwks": {
				Type:        gql.String,
				Description: "The inline key set (JSON) of a private_key_jwt client.",
				Resolve:     field(func(c clients.Client) any { return nonEmpty(c.JWKS) }),
			},
			"redirectUris": {
				Type:        nnStrings,
				Description: "Matched exactly, byte for byte.",
				Resolve:     field(func(c clients.Client) any { return nonNilStrings(c.RedirectURIs) }),
			},
			"postLogoutRedirectUris": {
				Type: nnStrings,
				Resolve: field(func(c clients.Client) any {
					return nonNilStrings(c.PostLogoutRedirectURIs)
				}),
			},
			"grantTypes": {
				Type:    nnStrings,
				Resolve: field(func(c clients.Client) any { return nonNilStrings(c.GrantTypes) }),
			},
			"scopes": {
				Type:    nnStrings,
				Resolve: field(func(c clients.Client) any { return nonNilStrings(c.Scopes) }),
			},
			"accessTokenFormat": {
				Type:        nnString,
				Description: "jwt or opaque.",
				Resolve:     field(func(c clients.Client) any { return c.AccessTokenFormat }),
			},
			"accessTokenTtl": {
				Type:        nnInt,
				Description: "Seconds.",
				Resolve:     field(func(c clients.Client) any { return int(c.AccessTokenTTL) }),
			},
			"idTokenTtl": {
				Type:        nnInt,
				Description: "Seconds.",
				Resolve:     field(func(c clients.Client) any { return int(c.IDTokenTTL) }),
			},
			"refreshTokenTtl": {
				Type:        nnInt,
				Description: "Seconds.",
				Resolve:     field(func(c clients.Client) any { return int(c.RefreshTokenTTL) }),
			},
			"requirePkce": {Type: nnBool, Resolve: field(func(c clients.Client) any { return c.RequirePKCE })},
			"requireConsent": {
				Type:        nnBool,
				Description: "Whether users are asked to consent; always for registered clients.",
				Resolve:     field(func(c clients.Client) any { return c.RequireConsent }),
			},
			"createdAt": {
				Type:    nnDateTime,
				Resolve: field(func(c clients.Client) any { return c.CreatedAt }),
			},
			"updatedAt": {
				Type:    nnDateTime,
				Resolve: field(func(c clients.Client) any { return c.UpdatedAt }),
			},
			"version":  {Type: nnInt, Resolve: field(func(c clients.Client) any { return c.Version })},
			"exchange": exchangePolicyField(exchangePolicyType()),
		},
	})
	conn = connectionType[clients.Client]("OAuthClientConnection", clientT, pageInfo)
	payload = gql.NewObject(gql.ObjectConfig{
		Name: "OAuthClientSecretPayload",
		Description: "A client and its secret. The secret is shown this once and cannot be " +
			"read again; it is null for clients without one.",
		Fields: gql.Fields{
			"client": {
				Type:    gql.NewNonNull(clientT),
				Resolve: from(func(o clients.SecretOutput) any { return o.Client }),
			},
			"secret": {
				Type:    gql.String,
				Resolve: from(func(o clients.SecretOutput) any { return nonEmpty(string(o.Secret)) }),
			},
		},
	})
	return clientT, conn, payload
}

func (r *resolvers) oauthClientQueryFields(clientT, conn *gql.Object) gql.Fields {
	return gql.Fields{
		"oauthClient": {
			Type:        clientT,
			Description: "An OAuth client; null with a NOT_FOUND error when there is none.",
			Args:        gql.FieldConfigArgument{"tenantId": {Type: nnID}, "id": {Type: nnID}},
			Resolve: func(p gql.ResolveParams) (any, error) {
				in := clients.GetInput{TenantID: str(p.Args, "tenantId"), ID: str(p.Args, "id")}
				return value(callOp[clients.Client](r, p.Context, clients.FunctionName,
					clients.OpGet, in))
			},
		},
		"oauthClients": {
			Type:        gql.NewNonNull(conn),
			Description: "A tenant's OAuth clients, in order of ID.",
			Args:        pageArgs(gql.FieldConfigArgument{"tenantId": {Type: nnID}}),
			Resolve: func(p gql.ResolveParams) (any, error) {
				in := clients.ListInput{TenantID: str(p.Args, "tenantId"),
					After: str(p.Args, "after"), First: num(p.Args, "first")}
				out, err := callOp[clients.ListOutput](r, p.Context, clients.FunctionName,
					clients.OpList, in)
				if err != nil {
					return nil, err
				}
				return connection[clients.Client]{nodes: out.Items, next: out.Next}, nil
			},
		},
	}
}

// optTTL is an optional lifetime argument: nil when absent or null.
func optTTL(m map[string]any, key string) *int64 {
	n, ok := m[key].(int)
	if !ok {
		return nil
	}
	v := int64(n)
	return &v
}

func (r *resolvers) oauthClientMutationFields(clientT, payload *gql.Object) gql.Fields {
	input := func(name string, fields gql.InputObjectConfigFieldMap) gql.FieldConfigArgument {
		t := gql.NewInputObject(gql.InputObjectConfig{Name: name, Fields: fields})
		return gql.FieldConfigArgument{"input": {Type: gql.NewNonNull(t)}}
	}
	strList := gql.NewList(nnString)
	exchangeIn := exchangePolicyInput()
	return gql.Fields{
		"createOAuthClient": {
			Type: gql.NewNonNull(payload),
			Description: "Registers an OAuth client. Clients of the client_secret methods get " +
				"a secret, answered this once. Public clients use authMethod none and PKCE.",
			Args: input("CreateOAuthClientInput", gql.InputObjectConfigFieldMap{
				"tenantId":               {Type: nnID},
				"name":                   {Type: gql.String},
				"type":                   {Type: nnString, Description: "confidential or public."},
				"authMethod":             {Type: nnString},
				"jwksUri":                {Type: gql.String},
				"jwks":                   {Type: gql.String},
				"redirectUris":           {Type: strList},
				"postLogoutRedirectUris": {Type: strList},
				"grantTypes":             {Type: strList, Description: "Default authorization_code."},
				"scopes":                 {Type: strList},
				"accessTokenFormat":      {Type: gql.String, Description: "jwt (default) or opaque."},
				"accessTokenTtl":         {Type: gql.Int, Description: "Seconds, 60 to 3600; default 300."},
				"idTokenTtl":             {Type: gql.Int, Description: "Seconds, 60 to 3600; default 300."},
				"refreshTokenTtl": {Type: gql.Int,
					Description: "Seconds, 300 to 2592000; default 86400."},
				"requirePkce": {Type: gql.Boolean, Description: "Default true; always for public clients."},
				"requireConsent": {Type: gql.Boolean,
					Description: "Ask users to consent to the scopes; default false."},
				"exchange": {Type: exchangeIn, Description: "Default none: no token exchange."},
			}),
			Resolve: func(p gql.ResolveParams) (any, error) {
				m := obj(p.Args, "input")
				in := clients.CreateInput{TenantID: str(m, "tenantId"), Name: str(m, "name"),
					Type: store.ClientType(str(m, "type")), AuthMethod: str(m, "authMethod"),
					JWKSURI: str(m, "jwksUri"), JWKS: str(m, "jwks"),
					RedirectURIs:           optStrs(m, "redirectUris"),
					PostLogoutRedirectURIs: optStrs(m, "postLogoutRedirectUris"),
					GrantTypes:             optStrs(m, "grantTypes"), Scopes: optStrs(m, "scopes"),
					AccessTokenFormat: str(m, "accessTokenFormat"),
					RequirePKCE:       optBool(m, "requirePkce"),
					RequireConsent:    optBool(m, "requireConsent"), Exchange: exchangePolicyOf(m)}
				if v := optTTL(m, "accessTokenTtl"); v != nil {
					in.AccessTokenTTL = *v
				}
				if v := optTTL(m, "idTokenTtl"); v != nil {
					in.IDTokenTTL = *v
				}
				if v := optTTL(m, "refreshTokenTtl"); v != nil {
					in.RefreshTokenTTL = *v
				}
				return value(callOp[clients.SecretOutput](r, p.Context, clients.FunctionName,
					clients.OpCreate, in))
			},
		},
		"updateOAuthClient": {
			Type: gql.NewNonNull(clientT),
			Description: "Changes the fields given (absent or null: unchanged). The type " +
				"cannot change. A new authMethod drops the old credential: a client switched to " +
				"a client_secret method needs rotateOAuthClientSecret before it authenticates.",
			Args: input("UpdateOAuthClientInput", gql.InputObjectConfigFieldMap{
				"tenantId":               {Type: nnID},
				"id":                     {Type: nnID},
				"name":                   {Type: gql.String},
				"authMethod":             {Type: gql.String},
				"jwksUri":                {Type: gql.String},
				"jwks":                   {Type: gql.String},
				"redirectUris":           {Type: strList},
				"postLogoutRedirectUris": {Type: strList},
				"grantTypes":             {Type: strList},
				"scopes":                 {Type: strList},
				"accessTokenFormat":      {Type: gql.String},
				"accessTokenTtl":         {Type: gql.Int},
				"idTokenTtl":             {Type: gql.Int},
				"refreshTokenTtl":        {Type: gql.Int},
				"requirePkce":            {Type: gql.Boolean},
				"requireConsent":         {Type: gql.Boolean},
				"exchange":               {Type: exchangeIn},
			}),
			Resolve: func(p gql.ResolveParams) (any, error) {
				m := obj(p.Args, "input")
				in := clients.UpdateInput{TenantID: str(m, "tenantId"), ID: str(m, "id"),
					Name: optStr(m, "name"), AuthMethod: optStr(m, "authMethod"),
					JWKSURI: optStr(m, "jwksUri"), JWKS: optStr(m, "jwks"),
					RedirectURIs:           optStrList(m, "redirectUris"),
					PostLogoutRedirectURIs: optStrList(m, "postLogoutRedirectUris"),
					GrantTypes:             optStrList(m, "grantTypes"),
					Scopes:                 optStrList(m, "scopes"),
					AccessTokenFormat:      optStr(m, "accessTokenFormat"),
					AccessTokenTTL:         optTTL(m, "accessTokenTtl"),
					IDTokenTTL:             optTTL(m, "idTokenTtl"),
					RefreshTokenTTL:        optTTL(m, "refreshTokenTtl"),
					RequirePKCE:            optBool(m, "requirePkce"),
					RequireConsent:         optBool(m, "requireConsent"),
					Exchange:               exchangePolicyOf(m)}
				return value(callOp[clients.Client](r, p.Context, clients.FunctionName,
					clients.OpUpdate, in))
			},
		},
		"rotateOAuthClientSecret": {
			Type: gql.NewNonNull(payload),
			Description: "Replaces a client_secret client's secret; the old one stops working " +
				"at once. The new secret is answered this once.",
			Args: gql.FieldConfigArgument{"tenantId": {Type: nnID}, "id": {Type: nnID}},
			Resolve: func(p gql.ResolveParams) (any, error) {
				in := clients.RotateSecretInput{TenantID: str(p.Args, "tenantId"),
					ID: str(p.Args, "id")}
				return value(callOp[clients.SecretOutput](r, p.Context, clients.FunctionName,
					clients.OpRotateSecret, in))
			},
		},
		"deleteOAuthClient": {
			Type:        nnID,
			Description: "Deletes a client; it cannot authenticate from then on.",
			Args:        gql.FieldConfigArgument{"tenantId": {Type: nnID}, "id": {Type: nnID}},
			Resolve: func(p gql.ResolveParams) (any, error) {
				in := clients.DeleteInput{TenantID: str(p.Args, "tenantId"), ID: str(p.Args, "id")}
				out, err := callOp[clients.DeleteOutput](r, p.Context, clients.FunctionName,
					clients.OpDelete, in)
				if err != nil {
					return nil, err
				}
				return out.ID, nil
			},
		},
	}
}
