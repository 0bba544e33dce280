package graphql

import (
	"bytes"
	"encoding/json"

	gql "github.com/graphql-go/graphql"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
)

// settingsTypes are the schema's types for a tenant's sign-in settings
// and branding. Reads show the values in force, defaults filled in.
type settingsTypes struct {
	mfa, factor, dcr    *gql.Enum
	auth, stepUp, brand *gql.Object
	authIn, brandIn     *gql.InputObject
}

func newSettingsTypes() settingsTypes {
	var t settingsTypes
	t.mfa = gql.NewEnum(gql.EnumConfig{
		Name:        "MFAPolicy",
		Description: "When signing in asks for a second factor.",
		Values: gql.EnumValueConfigMap{
			"OPTIONAL": {Value: store.MFAOptional, Description: "Of users who have enrolled one."},
			"REQUIRED": {Value: store.MFARequired,
				Description: "Always; users without a factor enrol one while signing in."},
			"ADAPTIVE": {Value: store.MFAAdaptive,
				Description: "When the sign-in's risk score reaches riskThreshold."},
		},
	})
	orderEnum(t.mfa, "OPTIONAL", "REQUIRED", "ADAPTIVE")
	warmEnum(t.mfa)
	t.dcr = gql.NewEnum(gql.EnumConfig{
		Name:        "ClientRegistrationMode",
		Description: "Who may register OAuth clients at the tenant's registration endpoint.",
		Values: gql.EnumValueConfigMap{
			"CLOSED": {Value: store.ClientRegistrationClosed,
				Description: "Nobody: only administrators register clients."},
			"OPEN": {Value: store.ClientRegistrationOpen,
				Description: "Anyone, by dynamic client registration (RFC 7591)."},
			"TOKEN": {Value: store.ClientRegistrationToken,
				Description: "Whoever holds an initial access token the tenant's " +
					"administrators made (createClientRegistrationToken)."},
		},
	})
	orderEnum(t.dcr, "CLOSED", "OPEN", "TOKEN")
	warmEnum(t.dcr)
	factors := gql.EnumValueConfigMap{}
	names := make([]string, 0, len(store.FactorTypes))
	for _, f := range store.FactorTypes {
		factors[string(f)] = &gql.EnumValueConfig{Value: f}
		names = append(names, string(f))
	}
	t.factor = gql.NewEnum(gql.EnumConfig{Name: "FactorType",
		Description: "A kind of second factor.", Values: factors})
	orderEnum(t.factor, names...)
	warmEnum(t.factor)

	t.stepUp = gql.NewObject(gql.ObjectConfig{
		Name:        "StepUpRule",
		Description: "A transaction that needs a stronger or more recent sign-in.",
		Fields: gql.Fields{
			"transaction": {Type: nnString,
				Resolve: from(func(r store.StepUpRule) any { return r.Transaction })},
			"minValue": {Type: gql.NewNonNull(gql.Float),
				Resolve: from(func(r store.StepUpRule) any { return r.MinValue })},
			"acr": {Type: nnString,
				Resolve: from(func(r store.StepUpRule) any { return r.RequiredACR() })},
			"maxAgeSeconds": {Type: gql.Int, Description: "Null: any age within the session.",
				Resolve: from(func(r store.StepUpRule) any { return nonZero(r.MaxAgeSeconds) })},
		},
	})
	t.auth = gql.NewObject(gql.ObjectConfig{
		Name:        "AuthSettings",
		Description: "A tenant's sign-in and session rules, as in force.",
		Fields: gql.Fields{
			"mfa": {Type: gql.NewNonNull(t.mfa),
				Resolve: from(func(a store.AuthSettings) any { return a.Policy() })},
			"factors": {
				Type:        gql.NewNonNull(gql.NewList(gql.NewNonNull(t.factor))),
				Description: "The factors users may enrol and use.",
				Resolve: from(func(a store.AuthSettings) any {
					out := []store.FactorType{}
					for _, f := range store.FactorTypes {
						if a.Allows(f) {
							out = append(out, f)
						}
					}
					return out
				}),
			},
			"riskThreshold": {Type: nnInt,
				Resolve: from(func(a store.AuthSettings) any { return a.Threshold() })},
			"stepUp": {Type: gql.NewNonNull(gql.NewList(gql.NewNonNull(t.stepUp))),
				Resolve: from(func(a store.AuthSettings) any {
					if a.StepUp == nil {
						return []store.StepUpRule{}
					}
					return a.StepUp
				})},
			"sessionIdleSeconds": {Type: nnInt, Resolve: from(func(a store.AuthSettings) any {
				return int(a.IdleTimeout().Seconds())
			})},
			"sessionMaxSeconds": {Type: nnInt, Resolve: from(func(a store.AuthSettings) any {
				return int(a.MaxLifetime().Seconds())
			})},
			"lockoutThreshold": {Type: nnInt, Resolve: from(func(a store.AuthSettings) any {
				n, _ := a.Lockout()
				return n
			})},
			"lockoutSeconds": {Type: nnInt, Resolve: from(func(a store.AuthSettings) any {
				_, d := a.Lockout()
				return int(d.Seconds())
			})},
			"returnOrigins": {Type: gql.NewNonNull(gql.NewList(nnString)),
				Description: "Origins besides Ward's own that a sign-in on the hosted pages " +
					"may return to.",
				Resolve: from(func(a store.AuthSettings) any {
					if a.ReturnOrigins == nil {
						return []string{}
					}
					return a.ReturnOrigins
				})},
			"clientRegistration": {Type: gql.NewNonNull(t.dcr),
				Resolve: from(func(a store.AuthSettings) any {
					if a.ClientRegistration == "" {
						return store.ClientRegistrationClosed
					}
					return a.ClientRegistration
				})},
		},
	})
	t.brand = gql.NewObject(gql.ObjectConfig{
		Name:        "Branding",
		Description: "How a tenant's hosted pages look; null fields take Ward's defaults.",
		Fields: gql.Fields{
			"logoUrl": {Type: gql.String,
				Resolve: from(func(b store.Branding) any { return nonEmpty(b.LogoURL) })},
			"primaryColor": {Type: gql.String,
				Resolve: from(func(b store.Branding) any { return nonEmpty(b.PrimaryColor) })},
			"backgroundColor": {Type: gql.String,
				Resolve: from(func(b store.Branding) any { return nonEmpty(b.BackgroundColor) })},
			"supportUrl": {Type: gql.String,
				Resolve: from(func(b store.Branding) any { return nonEmpty(b.SupportURL) })},
			"privacyUrl": {Type: gql.String,
				Resolve: from(func(b store.Branding) any { return nonEmpty(b.PrivacyURL) })},
		},
	})

	stepUpIn := gql.NewInputObject(gql.InputObjectConfig{
		Name: "StepUpRuleInput",
		Fields: gql.InputObjectConfigFieldMap{
			"transaction":   {Type: nnString},
			"minValue":      {Type: gql.Float},
			"acr":           {Type: gql.String, Description: `Null means "2" (multi-factor).`},
			"maxAgeSeconds": {Type: gql.Int},
		},
	})
	t.authIn = gql.NewInputObject(gql.InputObjectConfig{
		Name:        "AuthSettingsInput",
		Description: "Replaces the tenant's sign-in settings; absent fields take Ward's defaults.",
		Fields: gql.InputObjectConfigFieldMap{
			"mfa":                {Type: t.mfa},
			"factors":            {Type: gql.NewList(gql.NewNonNull(t.factor))},
			"riskThreshold":      {Type: gql.Int},
			"stepUp":             {Type: gql.NewList(gql.NewNonNull(stepUpIn))},
			"sessionIdleSeconds": {Type: gql.Int},
			"sessionMaxSeconds":  {Type: gql.Int},
			"lockoutThreshold":   {Type: gql.Int},
			"lockoutSeconds":     {Type: gql.Int},
			"returnOrigins":      {Type: gql.NewList(nnString)},
			"clientRegistration": {Type: t.dcr},
		},
	})
	t.brandIn = gql.NewInputObject(gql.InputObjectConfig{
		Name:        "BrandingInput",
		Description: "Replaces the tenant's branding; absent fields take Ward's defaults.",
		Fields: gql.InputObjectConfigFieldMap{
			"logoUrl":         {Type: gql.String},
			"primaryColor":    {Type: gql.String},
			"backgroundColor": {Type: gql.String},
			"supportUrl":      {Type: gql.String},
			"privacyUrl":      {Type: gql.String},
		},
	})
	return t
}

// tenantFields are the Tenant fields of sign-in settings and branding.
func (t settingsTypes) tenantFields() gql.Fields {
	return gql.Fields{
		"auth": {Type: gql.NewNonNull(t.auth),
			Resolve: from(func(tn store.Tenant) any { return tn.Auth })},
		"branding": {Type: gql.NewNonNull(t.brand),
			Resolve: from(func(tn store.Tenant) any { return tn.Branding })},
	}
}

// inputAs turns a validated input object into T through JSON: the schema's
// input field names are T's JSON names, and enum values are already the
// store's. A field T lacks is a fault of the schema, not of the client.
func inputAs[T any](v any) (*T, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, errs.Wrap(errs.Internal, err, internalMessage)
	}
	var out T
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil {
		return nil, errs.Wrap(errs.Internal, err, internalMessage)
	}
	return &out, nil
}

func nonZero(n int) any {
	if n == 0 {
		return nil
	}
	return n
}
