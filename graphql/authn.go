package graphql

import (
	"context"
	"encoding/json"
	"net/http"

	gql "github.com/graphql-go/graphql"

	"github.com/wardhq/ward/shared/authn"
	"github.com/wardhq/ward/shared/httpx"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/users"
)

// Sign-in through GraphQL: custom frontends drive the same flows as the
// hosted pages (package authn). startSignIn, submitSignInStep and the
// signInFlow query are public; evaluateTransaction and startStepUp need a
// session.

// publicQueries are the query fields an anonymous request may call (see
// publicMutations).
var publicQueries = map[string]bool{"signInFlow": true}

type clientKey struct{}

// withClient keeps what the HTTP request says of the client, for the
// flows' risk and throttling; the client cannot set it through GraphQL.
func withClient(ctx context.Context, r *http.Request) context.Context {
	return context.WithValue(ctx, clientKey{}, authn.Client{IP: httpx.ClientIP(r),
		UserAgent: r.UserAgent()})
}

func clientOf(ctx context.Context, deviceID string) authn.Client {
	c, _ := ctx.Value(clientKey{}).(authn.Client)
	c.DeviceID = deviceID
	return c
}

func (r *resolvers) signInTypes(factorType *gql.Enum) *gql.Object {
	factor := gql.NewObject(gql.ObjectConfig{
		Name: "SignInFactor",
		Fields: gql.Fields{
			"id":   {Type: nnID, Resolve: from(func(f authn.FactorInfo) any { return f.ID })},
			"type": {Type: gql.NewNonNull(factorType), Resolve: from(func(f authn.FactorInfo) any { return f.Type })},
			"name": {Type: gql.String, Resolve: from(func(f authn.FactorInfo) any { return nonEmpty(f.Name) })},
			"hint": {Type: gql.String, Description: "A masked destination of sent codes.",
				Resolve: from(func(f authn.FactorInfo) any { return nonEmpty(f.Hint) })},
		},
	})
	challenge := gql.NewObject(gql.ObjectConfig{
		Name: "SignInChallenge",
		Fields: gql.Fields{
			"factorId": {Type: nnID, Resolve: from(func(c authn.ChallengeInfo) any { return c.FactorID })},
			"type": {Type: factorType, Resolve: from(func(c authn.ChallengeInfo) any {
				if c.Type == "" {
					return nil
				}
				return c.Type
			})},
			"sentTo": {Type: gql.String, Resolve: from(func(c authn.ChallengeInfo) any { return nonEmpty(c.SentTo) })},
			"webauthnOptions": {Type: jsonScalar,
				Description: "PublicKeyCredentialRequestOptions for navigator.credentials.get.",
				Resolve:     from(func(c authn.ChallengeInfo) any { return rawJSON(c.WebAuthnOptions) })},
		},
	})
	enrollment := gql.NewObject(gql.ObjectConfig{
		Name: "SignInEnrollment",
		Fields: gql.Fields{
			"factorId":   {Type: nnID, Resolve: from(func(e authn.EnrollmentInfo) any { return e.FactorID })},
			"type":       {Type: gql.NewNonNull(factorType), Resolve: from(func(e authn.EnrollmentInfo) any { return e.Type })},
			"secret":     {Type: gql.String, Resolve: from(func(e authn.EnrollmentInfo) any { return nonEmpty(e.Secret) })},
			"otpauthUri": {Type: gql.String, Resolve: from(func(e authn.EnrollmentInfo) any { return nonEmpty(e.OTPAuthURI) })},
			"qrCode": {Type: gql.String, Description: "The otpauth URI as a PNG data: URL.",
				Resolve: from(func(e authn.EnrollmentInfo) any { return nonEmpty(e.QRCode) })},
			"sentTo": {Type: gql.String, Resolve: from(func(e authn.EnrollmentInfo) any { return nonEmpty(e.SentTo) })},
			"webauthnOptions": {Type: jsonScalar,
				Description: "PublicKeyCredentialCreationOptions for navigator.credentials.create.",
				Resolve:     from(func(e authn.EnrollmentInfo) any { return rawJSON(e.WebAuthnOptions) })},
		},
	})
	session := gql.NewObject(gql.ObjectConfig{
		Name: "SignInSession",
		Fields: gql.Fields{
			"token": {Type: gql.String,
				Description: "The new session's token, shown once; null after a step-up.",
				Resolve:     from(func(s authn.SessionResult) any { return nonEmpty(s.Token) })},
			"sessionId": {Type: nnID, Resolve: from(func(s authn.SessionResult) any { return s.SessionID })},
			"userId":    {Type: nnID, Resolve: from(func(s authn.SessionResult) any { return s.UserID })},
			"tenantId":  {Type: nnID, Resolve: from(func(s authn.SessionResult) any { return s.TenantID })},
			"acr":       {Type: nnString, Resolve: from(func(s authn.SessionResult) any { return s.ACR })},
			"amr": {Type: gql.NewNonNull(gql.NewList(nnString)),
				Resolve: from(func(s authn.SessionResult) any { return s.AMR })},
			"expiresAt": {Type: nnDateTime, Resolve: from(func(s authn.SessionResult) any { return s.ExpiresAt })},
		},
	})
	return gql.NewObject(gql.ObjectConfig{
		Name:        "SignInFlow",
		Description: "Where a sign-in or step-up flow stands.",
		Fields: gql.Fields{
			"flowId": {Type: nnID, Resolve: from(func(f authn.FlowOutput) any { return f.FlowID })},
			"csrf": {Type: gql.String,
				Description: "The flow's CSRF token: returned when the flow starts, sent with every later call.",
				Resolve:     from(func(f authn.FlowOutput) any { return nonEmpty(f.CSRF) })},
			"kind":      {Type: nnString, Resolve: from(func(f authn.FlowOutput) any { return f.Kind })},
			"step":      {Type: nnString, Resolve: from(func(f authn.FlowOutput) any { return f.Step })},
			"expiresAt": {Type: nnDateTime, Resolve: from(func(f authn.FlowOutput) any { return f.ExpiresAt })},
			"username":  {Type: gql.String, Resolve: from(func(f authn.FlowOutput) any { return nonEmpty(f.Username) })},
			"factors": {Type: gql.NewNonNull(gql.NewList(gql.NewNonNull(factor))),
				Resolve: from(func(f authn.FlowOutput) any {
					if f.Factors == nil {
						return []authn.FactorInfo{}
					}
					return f.Factors
				})},
			"challenge": {Type: challenge, Resolve: from(func(f authn.FlowOutput) any { return deref(f.Challenge) })},
			"enrollTypes": {Type: gql.NewNonNull(gql.NewList(gql.NewNonNull(factorType))),
				Resolve: from(func(f authn.FlowOutput) any {
					if f.EnrollTypes == nil {
						return []store.FactorType{}
					}
					return f.EnrollTypes
				})},
			"enrollment": {Type: enrollment, Resolve: from(func(f authn.FlowOutput) any { return deref(f.Enrollment) })},
			"session":    {Type: session, Resolve: from(func(f authn.FlowOutput) any { return deref(f.Session) })},
		},
	})
}

// deref is *p, or null for nil.
func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

func rawJSON(b json.RawMessage) any {
	if len(b) == 0 {
		return nil
	}
	var v any
	if json.Unmarshal(b, &v) != nil {
		return nil
	}
	return v
}

func (r *resolvers) signInQueryFields(flowT *gql.Object) gql.Fields {
	decision := gql.NewObject(gql.ObjectConfig{
		Name: "TransactionDecision",
		Fields: gql.Fields{
			"allowed": {Type: nnBool, Resolve: from(func(d authn.EvaluateOutput) any { return d.Allowed })},
			"stepUp": {Type: nnBool, Description: "Set when the session must step up first (startStepUp).",
				Resolve: from(func(d authn.EvaluateOutput) any { return d.StepUp })},
			"requiredAcr": {Type: gql.String, Resolve: from(func(d authn.EvaluateOutput) any { return nonEmpty(d.RequiredACR) })},
			"maxAgeSeconds": {Type: gql.Int,
				Resolve: from(func(d authn.EvaluateOutput) any { return nonZero(d.MaxAgeSeconds) })},
		},
	})
	return gql.Fields{
		"signInFlow": {
			Type: gql.NewNonNull(flowT),
			Args: gql.FieldConfigArgument{"flowId": {Type: nnID}, "csrf": {Type: nnString}},
			Resolve: func(p gql.ResolveParams) (any, error) {
				return value(callOp[authn.FlowOutput](r, p.Context, authn.FunctionName, authn.OpGet,
					authn.GetInput{FlowID: str(p.Args, "flowId"), CSRF: str(p.Args, "csrf")}))
			},
		},
		"evaluateTransaction": {
			Type:        gql.NewNonNull(decision),
			Description: "Whether the caller's session may make a transaction now, or must step up first.",
			Args: gql.FieldConfigArgument{"type": {Type: nnString},
				"value": {Type: gql.Float}},
			Resolve: func(p gql.ResolveParams) (any, error) {
				v, _ := p.Args["value"].(float64)
				return value(callOp[authn.EvaluateOutput](r, p.Context, authn.FunctionName,
					authn.OpEvaluate, authn.EvaluateInput{Type: str(p.Args, "type"), Value: v}))
			},
		},
	}
}

func (r *resolvers) signInMutationFields(flowT *gql.Object, factorType *gql.Enum) gql.Fields {
	stepIn := gql.NewInputObject(gql.InputObjectConfig{
		Name: "SignInStepInput",
		Fields: gql.InputObjectConfigFieldMap{
			"flowId":     {Type: nnID},
			"csrf":       {Type: nnString},
			"step":       {Type: nnString, Description: "The step answered; it must be the flow's current one."},
			"username":   {Type: gql.String},
			"password":   {Type: gql.String},
			"factorId":   {Type: gql.ID},
			"resend":     {Type: gql.Boolean},
			"code":       {Type: gql.String},
			"webauthn":   {Type: jsonScalar, Description: "The PublicKeyCredential as JSON."},
			"factorType": {Type: factorType},
			"name":       {Type: gql.String},
			"phone":      {Type: gql.String},
			"deviceId":   {Type: gql.String},
		},
	})
	return gql.Fields{
		"startSignIn": {
			Type: gql.NewNonNull(flowT),
			Args: gql.FieldConfigArgument{
				"tenant":   {Type: nnString, Description: "The tenant's name."},
				"username": {Type: gql.String, Description: "A login hint: skips the identify step."},
				"deviceId": {Type: gql.String, Description: "An identifier the client keeps for the device."},
			},
			Resolve: func(p gql.ResolveParams) (any, error) {
				in := authn.StartInput{Tenant: str(p.Args, "tenant"), Username: str(p.Args, "username"),
					Client: clientOf(p.Context, str(p.Args, "deviceId"))}
				return value(callOp[authn.FlowOutput](r, p.Context, authn.FunctionName, authn.OpStart, in))
			},
		},
		"submitSignInStep": {
			Type: gql.NewNonNull(flowT),
			Args: gql.FieldConfigArgument{"input": {Type: gql.NewNonNull(stepIn)}},
			Resolve: func(p gql.ResolveParams) (any, error) {
				m := obj(p.Args, "input")
				resend, _ := m["resend"].(bool)
				ft, _ := m["factorType"].(store.FactorType)
				in := authn.SubmitInput{FlowID: str(m, "flowId"), CSRF: str(m, "csrf"),
					Step: str(m, "step"), Username: str(m, "username"),
					Password: users.Password(str(m, "password")), FactorID: str(m, "factorId"),
					Resend: resend, Code: str(m, "code"), FactorType: ft, Name: str(m, "name"),
					Phone: str(m, "phone"), Client: clientOf(p.Context, str(m, "deviceId"))}
				if w, ok := m["webauthn"]; ok && w != nil {
					b, err := json.Marshal(w)
					if err != nil {
						return nil, err
					}
					in.WebAuthn = b
				}
				out, err := callOp[authn.FlowOutput](r, p.Context, authn.FunctionName, authn.OpSubmit, in)
				if err != nil {
					return nil, err
				}
				return out, nil
			},
		},
		"startStepUp": {
			Type:        gql.NewNonNull(flowT),
			Description: "Starts proving a second factor for the caller's own session.",
			Args:        gql.FieldConfigArgument{"deviceId": {Type: gql.String}},
			Resolve: func(p gql.ResolveParams) (any, error) {
				in := authn.StartStepUpInput{Client: clientOf(p.Context, str(p.Args, "deviceId"))}
				return value(callOp[authn.FlowOutput](r, p.Context, authn.FunctionName,
					authn.OpStartStepUp, in))
			},
		},
	}
}
