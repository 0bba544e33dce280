package graphql

import (
	"crypto/sha256"
	"encoding/json"

	gql "github.com/graphql-go/graphql"
	"github.com/graphql-go/graphql/language/ast"
	"github.com/graphql-go/graphql/language/parser"
	"github.com/graphql-go/graphql/language/source"

	"github.com/wardhq/ward/shared/account"
	"github.com/wardhq/ward/shared/users"
)

// publicMutations are the fields an anonymous request may call: the
// self-service operations for people who cannot sign in yet (see package
// account). A request without an Authorization header is let through as
// anonymous only when every top-level field of its operation is one of
// these; any other request without credentials is refused with 401, as
// before.
var publicMutations = map[string]bool{
	"register":             true,
	"verifyEmail":          true,
	"resendVerification":   true,
	"requestPasswordReset": true,
	"resetPassword":        true,
	"startSignIn":          true, // sign-in flows (package authn)
	"submitSignInStep":     true,
}

// publicOperation reports whether the operation a request runs is made of
// public fields only. It parses the document itself (a cached one is
// reused): the answer decides whether the request runs at all. Anything
// unusual (a parse error, a fragment at top level, __typename) is not
// public, and the request then gets today's 401.
func (h *Handler) publicOperation(p params) bool {
	if p.Query == nil || len(*p.Query) > h.opts.MaxQueryBytes {
		return false
	}
	doc := h.docs.get(sha256.Sum256([]byte(*p.Query)))
	if doc == nil {
		src := source.NewSource(&source.Source{Body: []byte(*p.Query), Name: "GraphQL request"})
		var err error
		if doc, err = parser.Parse(parser.ParseParams{Source: src}); err != nil {
			return false
		}
	}
	name := ""
	if p.OperationName != nil {
		name = *p.OperationName
	}
	op, gerr := selectOperation(doc, name)
	if gerr != nil || op.SelectionSet == nil || len(op.SelectionSet.Selections) == 0 {
		return false
	}
	public := publicMutations
	switch op.Operation {
	case ast.OperationTypeMutation:
	case ast.OperationTypeQuery:
		public = publicQueries
	default:
		return false
	}
	for _, sel := range op.SelectionSet.Selections {
		f, ok := sel.(*ast.Field)
		if !ok || f.Name == nil || !public[f.Name.Value] {
			return false
		}
	}
	return true
}

func (r *resolvers) accountQueryFields() gql.Fields {
	return gql.Fields{
		"myData": {
			Type: nnString,
			Description: "Everything Ward holds about the signed-in user, as a JSON document: " +
				"the user record, its organization, groups, API tokens (without secrets) " +
				"and the audit events about it.",
			Resolve: func(p gql.ResolveParams) (any, error) {
				out, err := callOp[json.RawMessage](r, p.Context, account.FunctionName,
					account.OpExportData, account.ExportInput{})
				if err != nil {
					return nil, err
				}
				return string(out), nil
			},
		},
	}
}

func (r *resolvers) accountMutationFields(userT *gql.Object) gql.Fields {
	input := func(name string, fields gql.InputObjectConfigFieldMap) gql.FieldConfigArgument {
		t := gql.NewInputObject(gql.InputObjectConfig{Name: name, Fields: fields})
		return gql.FieldConfigArgument{"input": {Type: gql.NewNonNull(t)}}
	}
	registerPayload := gql.NewObject(gql.ObjectConfig{
		Name: "RegisterPayload",
		Fields: gql.Fields{
			"verificationId": {
				Type: gql.ID,
				Description: "The email verification to prove with the emailed code. Set " +
					"whenever registration was open, whether or not an account was made.",
				Resolve: from(func(o account.RegisterOutput) any {
					return nonEmpty(o.VerificationID)
				}),
			},
			"userId": {
				Type:        gql.ID,
				Description: "Set when an invitation made an active account at once.",
				Resolve:     from(func(o account.RegisterOutput) any { return nonEmpty(o.UserID) }),
			},
		},
	})
	profilePayload := gql.NewObject(gql.ObjectConfig{
		Name: "UpdateMyProfilePayload",
		Fields: gql.Fields{
			"user": {
				Type:    gql.NewNonNull(userT),
				Resolve: from(func(o account.UpdateProfileOutput) any { return o.User }),
			},
			"emailVerificationId": {
				Type:        gql.ID,
				Description: "The verification sent to a new email address, if one was asked for.",
				Resolve: from(func(o account.UpdateProfileOutput) any {
					return nonEmpty(o.EmailVerificationID)
				}),
			},
		},
	})
	tenantEmail := gql.FieldConfigArgument{
		"tenant": {Type: nnString, Description: "The tenant's name."},
		"email":  {Type: nnString},
	}
	accepted := func(op string) gql.FieldResolveFn {
		return func(p gql.ResolveParams) (any, error) {
			in := account.RequestResetInput{Tenant: str(p.Args, "tenant"),
				Email: str(p.Args, "email")}
			var payload any = in
			if op == account.OpResendVerification {
				payload = account.ResendInput{Tenant: in.Tenant, Email: in.Email}
			}
			out, err := callOp[account.AcceptedOutput](r, p.Context, account.FunctionName, op,
				payload)
			if err != nil {
				return nil, err
			}
			if op == account.OpResendVerification {
				return out.VerificationID, nil
			}
			return out.Accepted, nil
		}
	}
	return gql.Fields{
		"register": {
			Type: gql.NewNonNull(registerPayload),
			Description: "Creates an account by self-service (no sign-in). The answer does not " +
				"tell whether the email already had an account.",
			Args: input("RegisterInput", gql.InputObjectConfigFieldMap{
				"tenant":      {Type: nnString, Description: "The tenant's name."},
				"email":       {Type: gql.String, Description: "Optional with an invitation."},
				"username":    {Type: gql.String, Description: "Defaults to the email."},
				"password":    {Type: nnString},
				"displayName": {Type: gql.String},
				"locale":      {Type: gql.String},
				"invitation":  {Type: gql.String, Description: "The invitation link's token."},
			}),
			Resolve: func(p gql.ResolveParams) (any, error) {
				m := obj(p.Args, "input")
				in := account.RegisterInput{Tenant: str(m, "tenant"), Email: str(m, "email"),
					Username: str(m, "username"), Password: users.Password(str(m, "password")),
					DisplayName: str(m, "displayName"), Locale: str(m, "locale"),
					Invitation: str(m, "invitation")}
				return value(callOp[account.RegisterOutput](r, p.Context, account.FunctionName,
					account.OpRegister, in))
			},
		},
		"verifyEmail": {
			Type:        nnBool,
			Description: "Proves an email address with the link's token or the emailed code.",
			Args: input("VerifyEmailInput", gql.InputObjectConfigFieldMap{
				"tenant":         {Type: nnString},
				"token":          {Type: gql.String},
				"verificationId": {Type: gql.ID},
				"code":           {Type: gql.String},
			}),
			Resolve: func(p gql.ResolveParams) (any, error) {
				m := obj(p.Args, "input")
				in := account.VerifyEmailInput{Tenant: str(m, "tenant"), Token: str(m, "token"),
					VerificationID: str(m, "verificationId"), Code: str(m, "code")}
				out, err := callOp[account.VerifyOutput](r, p.Context, account.FunctionName,
					account.OpVerifyEmail, in)
				if err != nil {
					return nil, err
				}
				return out.Verified, nil
			},
		},
		"resendVerification": {
			Type: nnID,
			Description: "Sends a new verification to an unverified address; the same answer " +
				"whatever the address.",
			Args:    tenantEmail,
			Resolve: accepted(account.OpResendVerification),
		},
		"requestPasswordReset": {
			Type:        nnBool,
			Description: "Sends a password reset link; always true, whatever the address.",
			Args:        tenantEmail,
			Resolve:     accepted(account.OpRequestPasswordReset),
		},
		"resetPassword": {
			Type: nnBool,
			Description: "Sets a new password with a reset link's token; revokes the user's " +
				"API tokens.",
			Args: input("ResetPasswordInput", gql.InputObjectConfigFieldMap{
				"tenant":      {Type: nnString},
				"token":       {Type: nnString},
				"newPassword": {Type: nnString},
			}),
			Resolve: func(p gql.ResolveParams) (any, error) {
				m := obj(p.Args, "input")
				in := account.ResetPasswordInput{Tenant: str(m, "tenant"), Token: str(m, "token"),
					NewPassword: users.Password(str(m, "newPassword"))}
				out, err := callOp[account.AcceptedOutput](r, p.Context, account.FunctionName,
					account.OpResetPassword, in)
				if err != nil {
					return nil, err
				}
				return out.Accepted, nil
			},
		},
		"inviteUser": {
			Type:        nnID,
			Description: "Emails an invitation to register; returns the invitation's ID.",
			Args: input("InviteUserInput", gql.InputObjectConfigFieldMap{
				"tenantId": {Type: nnID},
				"email":    {Type: nnString},
				"orgId": {Type: gql.ID, Description: "The organization the invited user " +
					"joins; required for organization administrators."},
			}),
			Resolve: func(p gql.ResolveParams) (any, error) {
				m := obj(p.Args, "input")
				in := account.InviteInput{TenantID: str(m, "tenantId"), Email: str(m, "email"),
					OrgID: str(m, "orgId")}
				return idOf(callOp[account.IDOutput](r, p.Context, account.FunctionName,
					account.OpInvite, in))
			},
		},
		"updateMyProfile": {
			Type: gql.NewNonNull(profilePayload),
			Description: "Changes the signed-in user's own profile. A new email applies once " +
				"verified; a new phone is unverified.",
			Args: input("UpdateMyProfileInput", gql.InputObjectConfigFieldMap{
				"displayName": {Type: gql.String, Description: "Unchanged when absent or null."},
				"locale":      {Type: gql.String, Description: "Unchanged when absent or null."},
				"phone":       {Type: gql.String, Description: "\"\" removes the phone."},
				"email":       {Type: gql.String, Description: "A new address to verify."},
				"attributes": {
					Type: jsonScalar,
					Description: "A patch of the profile attributes the tenant lets users " +
						"edit: a key set to null removes it.",
				},
				"preferences": {
					Type:        jsonScalar,
					Description: "A patch of short strings: a key set to null removes it.",
				},
			}),
			Resolve: func(p gql.ResolveParams) (any, error) {
				m := obj(p.Args, "input")
				attrs, err := jsonObject(m, "attributes")
				if err != nil {
					return nil, err
				}
				prefs, err := preferencesPatch(m)
				if err != nil {
					return nil, err
				}
				in := account.UpdateProfileInput{DisplayName: optStr(m, "displayName"),
					Locale: optStr(m, "locale"), Phone: optStr(m, "phone"),
					Email: optStr(m, "email"), Attributes: attrs, Preferences: prefs}
				return value(callOp[account.UpdateProfileOutput](r, p.Context,
					account.FunctionName, account.OpUpdateProfile, in))
			},
		},
		"startPhoneVerification": {
			Type:        nnID,
			Description: "Texts a six-digit code to the signed-in user's phone.",
			Resolve: func(p gql.ResolveParams) (any, error) {
				return idOf(callOp[account.IDOutput](r, p.Context, account.FunctionName,
					account.OpStartPhoneVerification, account.StartPhoneInput{}))
			},
		},
		"verifyPhone": {
			Type: nnBool,
			Args: gql.FieldConfigArgument{
				"verificationId": {Type: nnID}, "code": {Type: nnString},
			},
			Resolve: func(p gql.ResolveParams) (any, error) {
				in := account.VerifyPhoneInput{VerificationID: str(p.Args, "verificationId"),
					Code: str(p.Args, "code")}
				out, err := callOp[account.VerifyOutput](r, p.Context, account.FunctionName,
					account.OpVerifyPhone, in)
				if err != nil {
					return nil, err
				}
				return out.Verified, nil
			},
		},
		"deleteMyAccount": {
			Type:        nnID,
			Description: "Deletes the signed-in user's account, given the current password.",
			Args:        gql.FieldConfigArgument{"currentPassword": {Type: nnString}},
			Resolve: func(p gql.ResolveParams) (any, error) {
				in := account.DeleteAccountInput{
					CurrentPassword: users.Password(str(p.Args, "currentPassword"))}
				return idOf(callOp[account.IDOutput](r, p.Context, account.FunctionName,
					account.OpDeleteAccount, in))
			},
		},
	}
}

func idOf(out account.IDOutput, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return out.ID, nil
}
