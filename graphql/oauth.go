package graphql

import (
	gql "github.com/graphql-go/graphql"

	"github.com/wardhq/ward/shared/oauth"
	"github.com/wardhq/ward/shared/store"
)

// signingKeyType builds the SigningKey object: the public part of a
// tenant's OAuth 2.0 / OpenID Connect signing key.
func (r *resolvers) signingKeyType() *gql.Object {
	field := func(get func(k oauth.KeyInfo) any) gql.FieldResolveFn { return from(get) }
	return gql.NewObject(gql.ObjectConfig{
		Name: "SigningKey",
		Description: "A key the tenant's issuer signs tokens with; its private part never " +
			"leaves the server.",
		Fields: gql.Fields{
			"kid": {Type: nnID, Resolve: field(func(k oauth.KeyInfo) any { return k.KID })},
			"algorithm": {
				Type:        nnString,
				Description: "ES256 or RS256.",
				Resolve:     field(func(k oauth.KeyInfo) any { return k.Algorithm }),
			},
			"state": {
				Type: nnString,
				Description: "ACTIVE (signs), RETIRING (verifies until retireAfter, signs " +
					"nothing) or RETIRED (no longer published).",
				Resolve: field(func(k oauth.KeyInfo) any { return string(k.State) }),
			},
			"createdAt": {Type: nnDateTime, Resolve: field(func(k oauth.KeyInfo) any { return k.CreatedAt })},
			"activatedAt": {
				Type:    nnDateTime,
				Resolve: field(func(k oauth.KeyInfo) any { return k.ActivatedAt }),
			},
			"retireAfter": {
				Type:        dateTime,
				Description: "When a rotated-out key leaves the key set; null for the active key.",
				Resolve: field(func(k oauth.KeyInfo) any {
					if k.RetireAfter == nil {
						return nil
					}
					return *k.RetireAfter
				}),
			},
			"publicJwk": {
				Type:        nnString,
				Description: "The public key as published in the key set (JWK, JSON).",
				Resolve:     field(func(k oauth.KeyInfo) any { return k.PublicJWK }),
			},
		},
	})
}

// registrationTokenType builds the ClientRegistrationToken object: what
// may be shown of an initial access token, never the token or its hash.
func registrationTokenType() *gql.Object {
	field := func(get func(k oauth.RegistrationTokenInfo) any) gql.FieldResolveFn {
		return from(get)
	}
	return gql.NewObject(gql.ObjectConfig{
		Name: "ClientRegistrationToken",
		Description: "An initial access token for dynamic client registration (RFC 7591 " +
			"section 3), which a tenant whose clientRegistration is TOKEN asks for.",
		Fields: gql.Fields{
			"id": {Type: nnID, Resolve: field(func(k oauth.RegistrationTokenInfo) any { return k.ID })},
			"createdAt": {Type: nnDateTime,
				Resolve: field(func(k oauth.RegistrationTokenInfo) any { return k.CreatedAt })},
			"expiresAt": {Type: nnDateTime,
				Resolve: field(func(k oauth.RegistrationTokenInfo) any { return k.ExpiresAt })},
			"maxUses": {Type: gql.Int, Description: "Null: any number until it expires.",
				Resolve: field(func(k oauth.RegistrationTokenInfo) any { return nonZero(k.MaxUses) })},
			"uses": {Type: nnInt,
				Resolve: field(func(k oauth.RegistrationTokenInfo) any { return k.Uses })},
			"usesLeft": {Type: gql.Int, Description: "Null: any number until it expires.",
				Resolve: field(func(k oauth.RegistrationTokenInfo) any {
					if k.UsesLeft == nil {
						return nil
					}
					return *k.UsesLeft
				})},
			"usable": {Type: gql.NewNonNull(gql.Boolean),
				Description: "False once it has expired or is used up.",
				Resolve:     field(func(k oauth.RegistrationTokenInfo) any { return k.Usable })},
		},
	})
}

// createdRegistrationTokenType is a new token, shown once.
func createdRegistrationTokenType(tokT *gql.Object) *gql.Object {
	return gql.NewObject(gql.ObjectConfig{
		Name:        "CreatedClientRegistrationToken",
		Description: "A new initial access token; the token is shown this once.",
		Fields: gql.Fields{
			"token": {Type: nnString, Description: "Sent as a Bearer token to the " +
				"registration endpoint.",
				Resolve: from(func(c oauth.CreatedRegistrationToken) any { return c.Token })},
			"registrationToken": {Type: gql.NewNonNull(tokT),
				Resolve: from(func(c oauth.CreatedRegistrationToken) any { return c.Info })},
		},
	})
}

// consentType builds the OAuthConsent object: what a user allowed a
// client.
func consentType() *gql.Object {
	return gql.NewObject(gql.ObjectConfig{
		Name:        "OAuthConsent",
		Description: "The scopes a user consented to for an OAuth client, remembered.",
		Fields: gql.Fields{
			"clientId": {Type: nnID, Resolve: from(func(c store.Consent) any { return c.ClientID })},
			"scopes": {Type: gql.NewNonNull(gql.NewList(gql.NewNonNull(gql.String))),
				Resolve: from(func(c store.Consent) any { return c.Scopes })},
			"createdAt": {Type: nnDateTime, Resolve: from(func(c store.Consent) any { return c.CreatedAt })},
			"updatedAt": {Type: nnDateTime, Resolve: from(func(c store.Consent) any { return c.UpdatedAt })},
		},
	})
}

func (r *resolvers) oauthQueryFields(keyT, tokT *gql.Object) gql.Fields {
	return gql.Fields{
		"clientRegistrationTokens": {
			Type: gql.NewNonNull(gql.NewList(gql.NewNonNull(tokT))),
			Description: "A tenant's initial access tokens for dynamic client registration, " +
				"oldest first, for its administrators.",
			Args: gql.FieldConfigArgument{"tenantId": {Type: nnID}},
			Resolve: func(p gql.ResolveParams) (any, error) {
				in := oauth.RegistrationTokensInput{TenantID: str(p.Args, "tenantId")}
				out, err := callOp[oauth.RegistrationTokensOutput](r, p.Context,
					oauth.FunctionName, oauth.OpListRegistrationTokens, in)
				if err != nil {
					return nil, err
				}
				return out.Items, nil
			},
		},
		"consents": {
			Type: gql.NewNonNull(gql.NewList(gql.NewNonNull(consentType()))),
			Description: "A user's remembered consents to OAuth clients, for the user and " +
				"the administrators who reach the user.",
			Args: gql.FieldConfigArgument{"tenantId": {Type: nnID}, "userId": {Type: nnID}},
			Resolve: func(p gql.ResolveParams) (any, error) {
				in := oauth.ListConsentsInput{TenantID: str(p.Args, "tenantId"),
					UserID: str(p.Args, "userId")}
				out, err := callOp[oauth.ConsentsOutput](r, p.Context, oauth.FunctionName,
					oauth.OpListConsents, in)
				if err != nil {
					return nil, err
				}
				return out.Items, nil
			},
		},
		"signingKeys": {
			Type:        gql.NewNonNull(gql.NewList(gql.NewNonNull(keyT))),
			Description: "A tenant's signing keys, oldest first, for its administrators.",
			Args:        gql.FieldConfigArgument{"tenantId": {Type: nnID}},
			Resolve: func(p gql.ResolveParams) (any, error) {
				in := oauth.ListKeysInput{TenantID: str(p.Args, "tenantId")}
				out, err := callOp[oauth.KeysOutput](r, p.Context, oauth.FunctionName,
					oauth.OpListKeys, in)
				if err != nil {
					return nil, err
				}
				return out.Items, nil
			},
		},
	}
}

func (r *resolvers) oauthMutationFields(keyT, tokT *gql.Object) gql.Fields {
	return gql.Fields{
		"createClientRegistrationToken": {
			Type: gql.NewNonNull(createdRegistrationTokenType(tokT)),
			Description: "Makes an initial access token for dynamic client registration; " +
				"the answer shows the token once.",
			Args: gql.FieldConfigArgument{
				"tenantId":  {Type: nnID},
				"expiresIn": {Type: nnInt, Description: "Seconds, 60 to 2592000 (30 days)."},
				"maxUses": {Type: gql.Int,
					Description: "How many registrations it allows; null: any number."},
			},
			Resolve: func(p gql.ResolveParams) (any, error) {
				in := oauth.CreateRegistrationTokenInput{TenantID: str(p.Args, "tenantId")}
				in.ExpiresIn, _ = p.Args["expiresIn"].(int)
				in.MaxUses, _ = p.Args["maxUses"].(int)
				return callOp[oauth.CreatedRegistrationToken](r, p.Context, oauth.FunctionName,
					oauth.OpCreateRegistrationToken, in)
			},
		},
		"deleteClientRegistrationToken": {
			Type: nnID,
			Description: "Deletes an initial access token; clients it registered stay. " +
				"Returns its ID.",
			Args: gql.FieldConfigArgument{"tenantId": {Type: nnID}, "id": {Type: nnID}},
			Resolve: func(p gql.ResolveParams) (any, error) {
				in := oauth.DeleteRegistrationTokenInput{TenantID: str(p.Args, "tenantId"),
					ID: str(p.Args, "id")}
				out, err := callOp[oauth.DeleteRegistrationTokenOutput](r, p.Context,
					oauth.FunctionName, oauth.OpDeleteRegistrationToken, in)
				if err != nil {
					return nil, err
				}
				return out.ID, nil
			},
		},
		"revokeConsent": {
			Type: gql.NewNonNull(gql.Int),
			Description: "Forgets a user's consent to a client and revokes the user's refresh " +
				"tokens of that client. Returns how many refresh token families ended.",
			Args: gql.FieldConfigArgument{"tenantId": {Type: nnID}, "userId": {Type: nnID},
				"clientId": {Type: nnID}},
			Resolve: func(p gql.ResolveParams) (any, error) {
				in := oauth.RevokeConsentInput{TenantID: str(p.Args, "tenantId"),
					UserID: str(p.Args, "userId"), ClientID: str(p.Args, "clientId")}
				out, err := callOp[oauth.RevokeConsentOutput](r, p.Context, oauth.FunctionName,
					oauth.OpRevokeConsent, in)
				if err != nil {
					return nil, err
				}
				return out.RevokedGrants, nil
			},
		},
		"revokeOAuthGrants": {
			Type: gql.NewNonNull(gql.Int),
			Description: "Revokes a user's refresh token families, all or those of one " +
				"client. Returns how many ended.",
			Args: gql.FieldConfigArgument{"tenantId": {Type: nnID}, "userId": {Type: nnID},
				"clientId": {Type: gql.ID}},
			Resolve: func(p gql.ResolveParams) (any, error) {
				in := oauth.RevokeGrantsInput{TenantID: str(p.Args, "tenantId"),
					UserID: str(p.Args, "userId"), ClientID: str(p.Args, "clientId")}
				out, err := callOp[oauth.RevokeGrantsOutput](r, p.Context, oauth.FunctionName,
					oauth.OpRevokeGrants, in)
				if err != nil {
					return nil, err
				}
				return out.Revoked, nil
			},
		},
		"rotateSigningKeys": {
			Type: gql.NewNonNull(gql.NewList(gql.NewNonNull(keyT))),
			Description: "Makes a new key the tenant's active signing key; the old one keeps " +
				"verifying for the overlap (a day by default). Returns the tenant's keys.",
			Args: gql.FieldConfigArgument{
				"tenantId":  {Type: nnID},
				"algorithm": {Type: gql.String, Description: "ES256 (the default) or RS256."},
			},
			Resolve: func(p gql.ResolveParams) (any, error) {
				in := oauth.RotateKeysInput{TenantID: str(p.Args, "tenantId"),
					Algorithm: str(p.Args, "algorithm")}
				out, err := callOp[oauth.KeysOutput](r, p.Context, oauth.FunctionName,
					oauth.OpRotateKeys, in)
				if err != nil {
					return nil, err
				}
				return out.Items, nil
			},
		},
	}
}
