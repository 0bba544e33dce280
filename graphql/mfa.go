package graphql

import (
	"context"
	"encoding/json"

	gql "github.com/graphql-go/graphql"

	"github.com/wardhq/ward/shared/mfa"
	"github.com/wardhq/ward/shared/store"
)

// Second factors through GraphQL: the viewer lists, enrols, confirms and
// removes their own factors and gets new recovery codes; administrators
// list a user's factors and reset them. Proving a factor while signing in
// is the sign-in flow's work (authn.go), never a field here.

type mfaTypes struct {
	factor, enrollment, recovery *gql.Object
}

func (r *resolvers) mfaTypes(factorType *gql.Enum) mfaTypes {
	var t mfaTypes
	t.factor = gql.NewObject(gql.ObjectConfig{
		Name:        "Factor",
		Description: "One of a user's second factors. Its secret is never shown after enrolment.",
		Fields: gql.Fields{
			"id":        {Type: nnID, Resolve: from(func(f mfa.Factor) any { return f.ID })},
			"type":      {Type: gql.NewNonNull(factorType), Resolve: from(func(f mfa.Factor) any { return f.Type })},
			"name":      {Type: gql.String, Resolve: from(func(f mfa.Factor) any { return nonEmpty(f.Name) })},
			"confirmed": {Type: nnBool, Resolve: from(func(f mfa.Factor) any { return f.Confirmed })},
			"hint": {Type: gql.String,
				Description: "A masked address of sent codes, or how many recovery codes are left.",
				Resolve:     from(func(f mfa.Factor) any { return nonEmpty(f.Hint) })},
			"createdAt": {Type: nnDateTime, Resolve: from(func(f mfa.Factor) any { return f.CreatedAt })},
			"lastUsedAt": {Type: dateTime, Resolve: from(func(f mfa.Factor) any {
				if f.LastUsedAt == nil {
					return nil
				}
				return *f.LastUsedAt
			})},
		},
	})
	t.enrollment = gql.NewObject(gql.ObjectConfig{
		Name: "FactorEnrollment",
		Description: "A factor being enrolled; confirmFactor or finishWebAuthnRegistration " +
			"finishes it.",
		Fields: gql.Fields{
			"factorId": {Type: nnID, Resolve: from(func(e mfa.Enrollment) any { return e.FactorID })},
			"type":     {Type: gql.NewNonNull(factorType), Resolve: from(func(e mfa.Enrollment) any { return e.Type })},
			"secret": {Type: gql.String, Description: "The TOTP secret in base32, shown this once.",
				Resolve: from(func(e mfa.Enrollment) any { return nonEmpty(e.Secret) })},
			"otpauthUri": {Type: gql.String, Resolve: from(func(e mfa.Enrollment) any { return nonEmpty(e.OTPAuthURI) })},
			"qrCode": {Type: gql.String, Description: "The otpauth URI as a PNG data: URL.",
				Resolve: from(func(e mfa.Enrollment) any { return nonEmpty(e.QRCode) })},
			"sentTo":      {Type: gql.String, Resolve: from(func(e mfa.Enrollment) any { return nonEmpty(e.SentTo) })},
			"challengeId": {Type: gql.ID, Resolve: from(func(e mfa.Enrollment) any { return nonEmpty(e.ChallengeID) })},
			"webauthnOptions": {Type: jsonScalar,
				Description: "PublicKeyCredentialCreationOptions for navigator.credentials.create.",
				Resolve:     from(func(e mfa.Enrollment) any { return rawJSON(e.WebAuthnOptions) })},
		},
	})
	t.recovery = gql.NewObject(gql.ObjectConfig{
		Name:        "RecoveryCodes",
		Description: "New single-use recovery codes, shown this once; earlier ones stop working.",
		Fields: gql.Fields{
			"factorId": {Type: nnID, Resolve: from(func(o mfa.RecoveryCodesOutput) any { return o.FactorID })},
			"codes":    {Type: nnStrings, Resolve: from(func(o mfa.RecoveryCodesOutput) any { return o.Codes })},
		},
	})
	return t
}

func (r *resolvers) listFactors(ctx context.Context, tenantID, userID string) (any, error) {
	out, err := callOp[mfa.ListOutput](r, ctx, mfa.FunctionName, mfa.OpList,
		mfa.UserInput{TenantID: tenantID, UserID: userID})
	if err != nil {
		return nil, err
	}
	return out.Factors, nil
}

func (r *resolvers) mfaQueryFields(t mfaTypes) gql.Fields {
	list := gql.NewNonNull(gql.NewList(gql.NewNonNull(t.factor)))
	return gql.Fields{
		"myFactors": {
			Type:        list,
			Description: "The viewer's second factors, in order of enrolment.",
			Resolve: func(p gql.ResolveParams) (any, error) {
				c, err := viewerUser(p.Context)
				if err != nil {
					return nil, err
				}
				return r.listFactors(p.Context, c.Tenant, c.Subject)
			},
		},
		"userFactors": {
			Type:        list,
			Description: "A user's second factors, for the administrators who reach the user.",
			Args:        gql.FieldConfigArgument{"tenantId": {Type: nnID}, "userId": {Type: nnID}},
			Resolve: func(p gql.ResolveParams) (any, error) {
				return r.listFactors(p.Context, str(p.Args, "tenantId"), str(p.Args, "userId"))
			},
		},
	}
}

func (r *resolvers) mfaMutationFields(t mfaTypes, factorType *gql.Enum) gql.Fields {
	enroll := func(ctx context.Context, typ store.FactorType, name, phone string) (any, error) {
		c, err := viewerUser(ctx)
		if err != nil {
			return nil, err
		}
		return value(callOp[mfa.Enrollment](r, ctx, mfa.FunctionName, mfa.OpEnroll,
			mfa.EnrollInput{TenantID: c.Tenant, UserID: c.Subject, Type: typ, Name: name,
				Phone: phone}))
	}
	confirm := func(ctx context.Context, in mfa.ProofInput) (any, error) {
		c, err := viewerUser(ctx)
		if err != nil {
			return nil, err
		}
		in.TenantID, in.UserID = c.Tenant, c.Subject
		out, err := callOp[mfa.ConfirmOutput](r, ctx, mfa.FunctionName, mfa.OpConfirm, in)
		if err != nil {
			return nil, err
		}
		return out.Factor, nil
	}
	return gql.Fields{
		"enrollTotp": {
			Type:        gql.NewNonNull(t.enrollment),
			Description: "Starts enrolling an authenticator app; confirmFactor with its first code finishes.",
			Args:        gql.FieldConfigArgument{"name": {Type: gql.String}},
			Resolve: func(p gql.ResolveParams) (any, error) {
				return enroll(p.Context, store.FactorTOTP, str(p.Args, "name"), "")
			},
		},
		"enrollFactor": {
			Type: gql.NewNonNull(t.enrollment),
			Description: "Starts enrolling a factor of any type but RECOVERY: EMAIL, SMS and VOICE " +
				"send a first code (SMS and VOICE to phone, or the viewer's own number).",
			Args: gql.FieldConfigArgument{"type": {Type: gql.NewNonNull(factorType)},
				"name": {Type: gql.String}, "phone": {Type: gql.String}},
			Resolve: func(p gql.ResolveParams) (any, error) {
				typ, _ := p.Args["type"].(store.FactorType)
				return enroll(p.Context, typ, str(p.Args, "name"), str(p.Args, "phone"))
			},
		},
		"confirmFactor": {
			Type:        gql.NewNonNull(t.factor),
			Description: "Finishes an enrolment with its first code.",
			Args: gql.FieldConfigArgument{"factorId": {Type: nnID},
				"challengeId": {Type: gql.ID}, "code": {Type: nnString}},
			Resolve: func(p gql.ResolveParams) (any, error) {
				return confirm(p.Context, mfa.ProofInput{FactorID: str(p.Args, "factorId"),
					ChallengeID: str(p.Args, "challengeId"), Code: str(p.Args, "code")})
			},
		},
		"beginWebAuthnRegistration": {
			Type:        gql.NewNonNull(t.enrollment),
			Description: "Starts registering a passkey or security key: pass webauthnOptions to navigator.credentials.create.",
			Args:        gql.FieldConfigArgument{"name": {Type: gql.String}},
			Resolve: func(p gql.ResolveParams) (any, error) {
				return enroll(p.Context, store.FactorWebAuthn, str(p.Args, "name"), "")
			},
		},
		"finishWebAuthnRegistration": {
			Type:        gql.NewNonNull(t.factor),
			Description: "Finishes registering a passkey with the PublicKeyCredential the browser made.",
			Args: gql.FieldConfigArgument{"factorId": {Type: nnID}, "challengeId": {Type: nnID},
				"credential": {Type: gql.NewNonNull(jsonScalar)}},
			Resolve: func(p gql.ResolveParams) (any, error) {
				b, err := json.Marshal(p.Args["credential"])
				if err != nil {
					return nil, err
				}
				return confirm(p.Context, mfa.ProofInput{FactorID: str(p.Args, "factorId"),
					ChallengeID: str(p.Args, "challengeId"), WebAuthn: b})
			},
		},
		"removeFactor": {
			Type:        nnID,
			Description: "Removes one of the viewer's own factors.",
			Args:        gql.FieldConfigArgument{"factorId": {Type: nnID}},
			Resolve: func(p gql.ResolveParams) (any, error) {
				c, err := viewerUser(p.Context)
				if err != nil {
					return nil, err
				}
				out, err := callOp[mfa.RemoveOutput](r, p.Context, mfa.FunctionName, mfa.OpRemove,
					mfa.FactorInput{TenantID: c.Tenant, UserID: c.Subject, FactorID: str(p.Args, "factorId")})
				if err != nil {
					return nil, err
				}
				return out.ID, nil
			},
		},
		"regenerateRecoveryCodes": {
			Type:        gql.NewNonNull(t.recovery),
			Description: "Makes new recovery codes for the viewer, replacing all earlier ones.",
			Resolve: func(p gql.ResolveParams) (any, error) {
				c, err := viewerUser(p.Context)
				if err != nil {
					return nil, err
				}
				return value(callOp[mfa.RecoveryCodesOutput](r, p.Context, mfa.FunctionName,
					mfa.OpRegenerateRecovery, mfa.UserInput{TenantID: c.Tenant, UserID: c.Subject}))
			},
		},
		"resetUserFactors": {
			Type: nnInt,
			Description: "Removes every factor of a user (administrators who reach the user), " +
				"and answers how many were removed.",
			Args: gql.FieldConfigArgument{"tenantId": {Type: nnID}, "userId": {Type: nnID}},
			Resolve: func(p gql.ResolveParams) (any, error) {
				out, err := callOp[mfa.ResetOutput](r, p.Context, mfa.FunctionName, mfa.OpReset,
					mfa.UserInput{TenantID: str(p.Args, "tenantId"), UserID: str(p.Args, "userId")})
				if err != nil {
					return nil, err
				}
				return out.Removed, nil
			},
		},
	}
}
