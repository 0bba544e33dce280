package graphql

import (
	gql "github.com/graphql-go/graphql"

	"github.com/wardhq/ward/shared/clients"
	"github.com/wardhq/ward/shared/store"
)

// exchangePolicyType is a client's token exchange policy (docs/oauth.md).
func exchangePolicyType() *gql.Object {
	field := func(get func(p store.ExchangePolicy) any) gql.FieldResolveFn { return from(get) }
	return gql.NewObject(gql.ObjectConfig{
		Name: "OAuthClientExchangePolicy",
		Description: "What a client may do with the token exchange grant (RFC 8693). " +
			"Everything is refused unless allowed here.",
		Fields: gql.Fields{
			"issuers": {
				Type: nnStrings,
				Description: "Where subject and actor tokens may come from: self (this " +
					"tenant's access tokens) or the issuer URL of a trusted issuer.",
				Resolve: field(func(p store.ExchangePolicy) any { return nonNilStrings(p.Issuers) }),
			},
			"audiences": {
				Type:        nnStrings,
				Description: "Audiences (URIs or logical names) the client may ask for.",
				Resolve: field(func(p store.ExchangePolicy) any {
					return nonNilStrings(p.Audiences)
				}),
			},
			"delegation": {Type: nnBool, Description: "Actor tokens allowed: tokens carry act.",
				Resolve: field(func(p store.ExchangePolicy) any { return p.Delegation })},
			"impersonation": {Type: nnBool, Description: "Exchanges without an actor token.",
				Resolve: field(func(p store.ExchangePolicy) any { return p.Impersonation })},
			"sessions": {Type: nnBool,
				Description: "Ward sessions may be asked for from trusted issuers' tokens.",
				Resolve:     field(func(p store.ExchangePolicy) any { return p.Sessions })},
		},
	})
}

// exchangePolicyField is the OAuthClient field "exchange": null when the
// client has no policy.
func exchangePolicyField(t *gql.Object) *gql.Field {
	return &gql.Field{Type: t, Description: "The token exchange policy; null: none.",
		Resolve: from(func(c clients.Client) any {
			if c.Exchange == nil {
				return nil
			}
			return *c.Exchange
		})}
}

// exchangePolicyInput is the input of a policy; one type for create and
// update.
func exchangePolicyInput() *gql.InputObject {
	strList := gql.NewList(nnString)
	return gql.NewInputObject(gql.InputObjectConfig{
		Name: "OAuthClientExchangePolicyInput",
		Description: "A token exchange policy. It replaces the whole policy; one that " +
			"allows nothing removes it.",
		Fields: gql.InputObjectConfigFieldMap{
			"issuers":       {Type: strList},
			"audiences":     {Type: strList},
			"delegation":    {Type: gql.Boolean},
			"impersonation": {Type: gql.Boolean},
			"sessions":      {Type: gql.Boolean},
		},
	})
}

// exchangePolicyOf reads the input's "exchange": nil when absent.
func exchangePolicyOf(m map[string]any) *store.ExchangePolicy {
	in := obj(m, "exchange")
	if in == nil {
		return nil
	}
	return &store.ExchangePolicy{Issuers: optStrs(in, "issuers"),
		Audiences: optStrs(in, "audiences"), Delegation: flag(in, "delegation"),
		Impersonation: flag(in, "impersonation"), Sessions: flag(in, "sessions")}
}

// flag is an optional Boolean argument, false when absent or null.
func flag(m map[string]any, key string) bool {
	b := optBool(m, key)
	return b != nil && *b
}
