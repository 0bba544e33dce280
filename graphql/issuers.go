package graphql

import (
	gql "github.com/graphql-go/graphql"

	"github.com/wardhq/ward/shared/issuers"
	"github.com/wardhq/ward/shared/store"
)

// trustedIssuerType builds the TrustedIssuer object.
func (r *resolvers) trustedIssuerType() *gql.Object {
	field := func(get func(ti store.TrustedIssuer) any) gql.FieldResolveFn { return from(get) }
	return gql.NewObject(gql.ObjectConfig{
		Name: "TrustedIssuer",
		Description: "An external token issuer the tenant trusts: its access tokens (JWTs) are " +
			"accepted for the tenant.",
		Fields: gql.Fields{
			"id":       {Type: nnID, Resolve: field(func(ti store.TrustedIssuer) any { return ti.ID })},
			"tenantId": {Type: nnID, Resolve: field(func(ti store.TrustedIssuer) any { return ti.TenantID })},
			"name":     {Type: nnString, Resolve: field(func(ti store.TrustedIssuer) any { return ti.Name })},
			"issuer": {
				Type:        nnString,
				Description: `The exact "iss" of the issuer's tokens.`,
				Resolve:     field(func(ti store.TrustedIssuer) any { return ti.Issuer }),
			},
			"jwksUri": {
				Type:        gql.String,
				Description: "Where the issuer's keys are fetched; null with an inline set.",
				Resolve:     field(func(ti store.TrustedIssuer) any { return nonEmpty(ti.JWKSURI) }),
			},
			"jwks": {
				Type:        gql.String,
				Description: "The inline key set (JSON); null when keys are fetched.",
				Resolve:     field(func(ti store.TrustedIssuer) any { return nonEmpty(ti.JWKS) }),
			},
			"audiences": {
				Type:        nnStrings,
				Description: `The accepted "aud" values.`,
				Resolve:     field(func(ti store.TrustedIssuer) any { return nonNilStrings(ti.Audiences) }),
			},
			"algorithms": {
				Type:    nnStrings,
				Resolve: field(func(ti store.TrustedIssuer) any { return nonNilStrings(ti.Algorithms) }),
			},
			"subjectClaim": {
				Type:    nnString,
				Resolve: field(func(ti store.TrustedIssuer) any { return ti.SubjectClaim }),
			},
			"claims": {
				Type:        nnStrings,
				Description: "The claims a verification carries besides the standard ones.",
				Resolve:     field(func(ti store.TrustedIssuer) any { return nonNilStrings(ti.Claims) }),
			},
			"userMapping": {
				Type: gql.String,
				Description: "How the token exchange maps a token's subject to a user of the " +
					"tenant: id, username or email; null: it does not.",
				Resolve: field(func(ti store.TrustedIssuer) any { return nonEmpty(ti.UserMapping) }),
			},
			"sessions": {
				Type:        nnBool,
				Description: "The token exchange may start Ward sessions from this issuer's tokens.",
				Resolve:     field(func(ti store.TrustedIssuer) any { return ti.Sessions }),
			},
			"enabled": {Type: nnBool, Resolve: field(func(ti store.TrustedIssuer) any { return ti.Enabled })},
			"createdAt": {
				Type:    nnDateTime,
				Resolve: field(func(ti store.TrustedIssuer) any { return ti.CreatedAt }),
			},
			"updatedAt": {
				Type:    nnDateTime,
				Resolve: field(func(ti store.TrustedIssuer) any { return ti.UpdatedAt }),
			},
			"version": {Type: nnInt, Resolve: field(func(ti store.TrustedIssuer) any { return ti.Version })},
		},
	})
}

func (r *resolvers) issuerQueryFields(issuerT *gql.Object) gql.Fields {
	return gql.Fields{
		"trustedIssuers": {
			Type:        gql.NewNonNull(gql.NewList(gql.NewNonNull(issuerT))),
			Description: "A tenant's trusted issuers, for its administrators.",
			Args:        gql.FieldConfigArgument{"tenantId": {Type: nnID}},
			Resolve: func(p gql.ResolveParams) (any, error) {
				in := issuers.ListInput{TenantID: str(p.Args, "tenantId")}
				out, err := callOp[issuers.ListOutput](r, p.Context, issuers.FunctionName,
					issuers.OpList, in)
				if err != nil {
					return nil, err
				}
				return out.Items, nil
			},
		},
	}
}

// optStrList is an optional list argument: nil when absent or null.
func optStrList(m map[string]any, key string) *[]string {
	if _, ok := m[key].([]any); !ok {
		return nil
	}
	l := strs(m, key)
	return &l
}

func (r *resolvers) issuerMutationFields(issuerT *gql.Object) gql.Fields {
	input := func(name string, fields gql.InputObjectConfigFieldMap) gql.FieldConfigArgument {
		t := gql.NewInputObject(gql.InputObjectConfig{Name: name, Fields: fields})
		return gql.FieldConfigArgument{"input": {Type: gql.NewNonNull(t)}}
	}
	strList := gql.NewList(nnString)
	return gql.Fields{
		"createTrustedIssuer": {
			Type: gql.NewNonNull(issuerT),
			Description: "Trusts an external issuer's access tokens in a tenant. Give jwksUri " +
				"or jwks. Algorithms default to ES256 and RS256; none and HMAC are refused.",
			Args: input("CreateTrustedIssuerInput", gql.InputObjectConfigFieldMap{
				"tenantId":     {Type: nnID},
				"name":         {Type: gql.String},
				"issuer":       {Type: nnString},
				"jwksUri":      {Type: gql.String},
				"jwks":         {Type: gql.String},
				"audiences":    {Type: gql.NewNonNull(strList)},
				"algorithms":   {Type: strList},
				"subjectClaim": {Type: gql.String, Description: `Default "sub".`},
				"claims":       {Type: strList},
				"userMapping":  {Type: gql.String, Description: "id, username or email; default none."},
				"sessions":     {Type: gql.Boolean, Description: "Default false; needs a userMapping."},
				"enabled":      {Type: gql.Boolean, Description: "Default true."},
			}),
			Resolve: func(p gql.ResolveParams) (any, error) {
				m := obj(p.Args, "input")
				in := issuers.CreateInput{TenantID: str(m, "tenantId"), Name: str(m, "name"),
					Issuer: str(m, "issuer"), JWKSURI: str(m, "jwksUri"), JWKS: str(m, "jwks"),
					Audiences: strs(m, "audiences"), Algorithms: optStrs(m, "algorithms"),
					SubjectClaim: str(m, "subjectClaim"), Claims: optStrs(m, "claims"),
					UserMapping: str(m, "userMapping"), Sessions: flag(m, "sessions"),
					Enabled: optBool(m, "enabled")}
				return value(callOp[store.TrustedIssuer](r, p.Context, issuers.FunctionName,
					issuers.OpCreate, in))
			},
		},
		"updateTrustedIssuer": {
			Type: gql.NewNonNull(issuerT),
			Description: "Changes the fields given (absent or null: unchanged). A jwksUri " +
				"replaces an inline jwks, and the other way round.",
			Args: input("UpdateTrustedIssuerInput", gql.InputObjectConfigFieldMap{
				"tenantId":     {Type: nnID},
				"id":           {Type: nnID},
				"name":         {Type: gql.String},
				"issuer":       {Type: gql.String},
				"jwksUri":      {Type: gql.String},
				"jwks":         {Type: gql.String},
				"audiences":    {Type: strList},
				"algorithms":   {Type: strList},
				"subjectClaim": {Type: gql.String},
				"claims":       {Type: strList},
				"userMapping":  {Type: gql.String, Description: `"" removes the mapping.`},
				"sessions":     {Type: gql.Boolean},
				"enabled":      {Type: gql.Boolean},
			}),
			Resolve: func(p gql.ResolveParams) (any, error) {
				m := obj(p.Args, "input")
				in := issuers.UpdateInput{TenantID: str(m, "tenantId"), ID: str(m, "id"),
					Name: optStr(m, "name"), Issuer: optStr(m, "issuer"),
					JWKSURI: optStr(m, "jwksUri"), JWKS: optStr(m, "jwks"),
					Audiences: optStrList(m, "audiences"), Algorithms: optStrList(m, "algorithms"),
					SubjectClaim: optStr(m, "subjectClaim"), Claims: optStrList(m, "claims"),
					UserMapping: optStr(m, "userMapping"), Sessions: optBool(m, "sessions"),
					Enabled: optBool(m, "enabled")}
				return value(callOp[store.TrustedIssuer](r, p.Context, issuers.FunctionName,
					issuers.OpUpdate, in))
			},
		},
		"deleteTrustedIssuer": {
			Type:        nnID,
			Description: "Stops trusting an issuer; its tokens are refused from then on.",
			Args:        gql.FieldConfigArgument{"tenantId": {Type: nnID}, "id": {Type: nnID}},
			Resolve: func(p gql.ResolveParams) (any, error) {
				in := issuers.DeleteInput{TenantID: str(p.Args, "tenantId"), ID: str(p.Args, "id")}
				out, err := callOp[issuers.DeleteOutput](r, p.Context, issuers.FunctionName,
					issuers.OpDelete, in)
				if err != nil {
					return nil, err
				}
				return out.ID, nil
			},
		},
	}
}
