package graphql

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	gql "github.com/graphql-go/graphql"
	"github.com/graphql-go/graphql/language/ast"

	"github.com/wardhq/ward/shared/apitokens"
	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/tenants"
	"github.com/wardhq/ward/shared/users"
	"github.com/wardhq/ward/shared/validate"
)

// reqState is what resolvers know of the request: the verified caller and
// a memo of the tenants read so far, so that a page of users asking for
// their tenant reads it once.
type reqState struct {
	caller function.Caller

	mu      sync.Mutex
	tenants map[string]tenantResult
}

type tenantResult struct {
	t   store.Tenant
	err error
}

type stateKey struct{}

func withState(ctx context.Context, s *reqState) context.Context {
	return context.WithValue(ctx, stateKey{}, s)
}

// stateOf returns the request state. A resolver run without one is a bug
// of the facade; it gets an anonymous caller, which every operation refuses.
func stateOf(ctx context.Context) *reqState {
	if s, ok := ctx.Value(stateKey{}).(*reqState); ok {
		return s
	}
	return &reqState{}
}

// connection is one page of a listing as the schema shows it.
type connection[T any] struct {
	nodes []T
	next  string
}

// resolvers build the schema; they hold the invoker and the logger.
type resolvers struct {
	inv invoke.Invoker
	log *slog.Logger
}

// callOp invokes op on behalf of the request's caller and turns its error
// into a client-safe field error.
func callOp[Out any](r *resolvers, ctx context.Context, fn, op string, in any) (Out, error) {
	out, err := invoke.Call[Out](ctx, r.inv, fn, op, stateOf(ctx).caller, in)
	if err != nil {
		return out, publicError(ctx, r.log, op, err)
	}
	return out, nil
}

// value is a resolver's result: nil when err is set, since graphql-go
// keeps a resolver's value even when it also returns an error.
func value[T any](v T, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return v, nil
}

// tenant reads a tenant through the request's memo.
func (r *resolvers) tenant(ctx context.Context, id string) (store.Tenant, error) {
	st := stateOf(ctx)
	st.mu.Lock()
	res, ok := st.tenants[id]
	st.mu.Unlock()
	if ok {
		return res.t, res.err
	}
	in := tenants.GetInput{ID: id}
	t, err := callOp[store.Tenant](r, ctx, tenants.FunctionName, tenants.OpGet, in)
	remember(st, id, t, err)
	return t, err
}

func remember(st *reqState, id string, t store.Tenant, err error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.tenants == nil {
		st.tenants = map[string]tenantResult{}
	}
	st.tenants[id] = tenantResult{t: t, err: err}
}

func forget(st *reqState, id string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	delete(st.tenants, id)
}

// Argument readers. Validation has checked types and non-null arguments
// before any resolver runs; an absent or null optional argument reads as
// the zero value (or nil for the optional input fields of updates).

func str(m map[string]any, key string) string {
	s, _ := m[key].(string)
	return s
}

func optStr(m map[string]any, key string) *string {
	if s, ok := m[key].(string); ok {
		return &s
	}
	return nil
}

func num(m map[string]any, key string) int {
	n, _ := m[key].(int)
	return n
}

func obj(m map[string]any, key string) map[string]any {
	o, _ := m[key].(map[string]any)
	return o
}

func strs(m map[string]any, key string) []string {
	list, _ := m[key].([]any)
	out := make([]string, 0, len(list))
	for _, v := range list {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// optStrs is strs for an optional list: nil when absent or null.
func optStrs(m map[string]any, key string) []string {
	if _, ok := m[key].([]any); !ok {
		return nil
	}
	return strs(m, key)
}

// from makes a resolver that reads a field of a source of type T.
func from[T any](get func(T) any) gql.FieldResolveFn {
	return func(p gql.ResolveParams) (any, error) {
		v, ok := p.Source.(T)
		if !ok {
			return nil, &fieldError{code: errs.Internal, message: internalMessage}
		}
		return get(v), nil
	}
}

// nonEmpty maps "" to null.
func nonEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// dateTime is an RFC 3339 timestamp in UTC; the zero time is null.
var dateTime = gql.NewScalar(gql.ScalarConfig{
	Name:        "DateTime",
	Description: "An instant as an RFC 3339 string in UTC.",
	Serialize: func(v any) any {
		t, ok := v.(time.Time)
		if !ok || t.IsZero() {
			return nil
		}
		return t.UTC().Format(time.RFC3339Nano)
	},
	ParseValue: func(v any) any {
		s, ok := v.(string)
		if !ok {
			return nil
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return nil
		}
		return t
	},
	ParseLiteral: func(v ast.Value) any {
		s, ok := v.(*ast.StringValue)
		if !ok {
			return nil
		}
		t, err := time.Parse(time.RFC3339Nano, s.Value)
		if err != nil {
			return nil
		}
		return t
	},
})

var (
	nnString   = gql.NewNonNull(gql.String)
	nnID       = gql.NewNonNull(gql.ID)
	nnInt      = gql.NewNonNull(gql.Int)
	nnBool     = gql.NewNonNull(gql.Boolean)
	nnDateTime = gql.NewNonNull(dateTime)
	nnStrings  = gql.NewNonNull(gql.NewList(nnString))
)

// pageArgs are the arguments of every paginated field.
func pageArgs(extra gql.FieldConfigArgument) gql.FieldConfigArgument {
	args := gql.FieldConfigArgument{
		"first": {Type: gql.Int, Description: "Page size; the server default when absent."},
		"after": {Type: gql.String, Description: "The endCursor of the previous page."},
	}
	for k, v := range extra {
		args[k] = v
	}
	return args
}

func connectionType[T any](name string, node gql.Output, pageInfo *gql.Object) *gql.Object {
	return gql.NewObject(gql.ObjectConfig{
		Name: name,
		Fields: gql.Fields{
			"nodes": {
				Type:    gql.NewNonNull(gql.NewList(gql.NewNonNull(node))),
				Resolve: from(func(c connection[T]) any { return c.nodes }),
			},
			"pageInfo": {
				Type:    gql.NewNonNull(pageInfo),
				Resolve: from(func(c connection[T]) any { return c.next }),
			},
		},
	})
}

// schema builds the facade's schema. It panics on an invalid schema: that
// is a programming error found by every test.
func (r *resolvers) schema() gql.Schema {
	userStatus := gql.NewEnum(gql.EnumConfig{
		Name: "UserStatus",
		Values: gql.EnumValueConfigMap{
			"ACTIVE":   {Value: store.UserActive},
			"LOCKED":   {Value: store.UserLocked},
			"DISABLED": {Value: store.UserDisabled},
			"PENDING":  {Value: store.UserPending},
		},
	})
	orderEnum(userStatus, "ACTIVE", "LOCKED", "DISABLED", "PENDING")
	warmEnum(userStatus)

	// The source of PageInfo is the cursor of the next page ("" on the last).
	pageInfo := gql.NewObject(gql.ObjectConfig{
		Name: "PageInfo",
		Fields: gql.Fields{
			"endCursor": {
				Type:        gql.String,
				Description: "Pass as `after` to read the next page; null on the last page.",
				Resolve:     from(func(next string) any { return nonEmpty(next) }),
			},
			"hasNextPage": {
				Type:    nnBool,
				Resolve: from(func(next string) any { return next != "" }),
			},
		},
	})

	var tenantT, userT, orgT *gql.Object
	var userConn, orgConn *gql.Object
	var groupT *gql.Object // read by the User fields' thunk, built after userConn
	profile := newProfileTypes()
	settings := newSettingsTypes()
	tenantT = gql.NewObject(gql.ObjectConfig{
		Name: "Tenant",
		Fields: gql.FieldsThunk(func() gql.Fields {
			return merge(profile.tenantFields(), settings.tenantFields(), gql.Fields{
				"id":   {Type: nnID, Resolve: from(func(t store.Tenant) any { return t.ID })},
				"name": {Type: nnString, Resolve: from(func(t store.Tenant) any { return t.Name })},
				"displayName": {
					Type:    nnString,
					Resolve: from(func(t store.Tenant) any { return t.DisplayName }),
				},
				"createdAt": {
					Type:    nnDateTime,
					Resolve: from(func(t store.Tenant) any { return t.CreatedAt }),
				},
				"updatedAt": {
					Type:    nnDateTime,
					Resolve: from(func(t store.Tenant) any { return t.UpdatedAt }),
				},
				"version": {
					Type:    nnInt,
					Resolve: from(func(t store.Tenant) any { return t.Version }),
				},
				"users": {
					Type: gql.NewNonNull(userConn),
					Args: pageArgs(nil),
					Resolve: func(p gql.ResolveParams) (any, error) {
						t, ok := p.Source.(store.Tenant)
						if !ok {
							return nil, &fieldError{code: errs.Internal, message: internalMessage}
						}
						return r.listUsers(p.Context, t.ID, p.Args)
					},
				},
			})
		}),
	})
	userT = gql.NewObject(gql.ObjectConfig{
		Name: "User",
		Fields: gql.FieldsThunk(func() gql.Fields {
			return merge(profile.userFields(), gql.Fields{
				"id": {Type: nnID, Resolve: from(func(u store.User) any { return u.ID })},
				"tenantId": {
					Type:    nnID,
					Resolve: from(func(u store.User) any { return u.TenantID }),
				},
				"username": {
					Type:    nnString,
					Resolve: from(func(u store.User) any { return u.Username }),
				},
				"email": {
					Type:    gql.String,
					Resolve: from(func(u store.User) any { return nonEmpty(u.Email) }),
				},
				"emailVerified": {
					Type:    nnBool,
					Resolve: from(func(u store.User) any { return u.EmailVerified }),
				},
				"phone": {
					Type:        gql.String,
					Description: "An E.164 number; null when none is set.",
					Resolve:     from(func(u store.User) any { return nonEmpty(u.Phone) }),
				},
				"phoneVerified": {
					Type:    nnBool,
					Resolve: from(func(u store.User) any { return u.PhoneVerified }),
				},
				"displayName": {
					Type:    nnString,
					Resolve: from(func(u store.User) any { return u.DisplayName }),
				},
				"status": {
					Type:    gql.NewNonNull(userStatus),
					Resolve: from(func(u store.User) any { return u.Status }),
				},
				"createdAt": {
					Type:    nnDateTime,
					Resolve: from(func(u store.User) any { return u.CreatedAt }),
				},
				"updatedAt": {
					Type:    nnDateTime,
					Resolve: from(func(u store.User) any { return u.UpdatedAt }),
				},
				"version": {
					Type:    nnInt,
					Resolve: from(func(u store.User) any { return u.Version }),
				},
				"tenant": {
					Type: tenantT,
					Resolve: func(p gql.ResolveParams) (any, error) {
						u, ok := p.Source.(store.User)
						if !ok {
							return nil, &fieldError{code: errs.Internal, message: internalMessage}
						}
						return value(r.tenant(p.Context, u.TenantID))
					},
				},
				"orgId": {
					Type:        gql.ID,
					Description: "The user's organization; null for a user at tenant level.",
					Resolve:     from(func(u store.User) any { return nonEmpty(u.OrgID) }),
				},
				"organization": {
					Type: orgT,
					Description: "The user's organization; null at tenant level, and null with " +
						"NOT_FOUND when the viewer does not administer it.",
					Resolve: func(p gql.ResolveParams) (any, error) {
						u, ok := p.Source.(store.User)
						if !ok {
							return nil, &fieldError{code: errs.Internal, message: internalMessage}
						}
						if u.OrgID == "" {
							return nil, nil
						}
						return value(r.organization(p.Context, u.TenantID, u.OrgID))
					},
				},
				"groups": r.userGroupsField(groupT),
			})
		}),
	})
	userConn = connectionType[store.User]("UserConnection", userT, pageInfo)
	orgT = r.organizationType(userConn, &orgConn)
	orgConn = connectionType[store.Organization]("OrganizationConnection", orgT, pageInfo)
	groupT = r.groupType(userConn)
	groupConn := connectionType[store.Group]("GroupConnection", groupT, pageInfo)
	tenantConn := connectionType[store.Tenant]("TenantConnection", tenantT, pageInfo)

	apiToken := gql.NewObject(gql.ObjectConfig{
		Name: "ApiToken",
		Fields: gql.Fields{
			"id":   {Type: nnID, Resolve: from(func(t store.APIToken) any { return t.ID })},
			"name": {Type: nnString, Resolve: from(func(t store.APIToken) any { return t.Name })},
			"subject": {
				Type:    nnString,
				Resolve: from(func(t store.APIToken) any { return t.Subject }),
			},
			"tenantId": {
				Type:        gql.ID,
				Description: "Null for a token of system scope.",
				Resolve:     from(func(t store.APIToken) any { return nonEmpty(t.TenantID) }),
			},
			"roles": {
				Type:    nnStrings,
				Resolve: from(func(t store.APIToken) any { return nonNilStrings(t.Roles) }),
			},
			"orgs": {
				Type:        nnStrings,
				Description: "The organizations an org_admin token administers.",
				Resolve:     from(func(t store.APIToken) any { return nonNilStrings(t.Orgs) }),
			},
			"createdAt": {
				Type:    nnDateTime,
				Resolve: from(func(t store.APIToken) any { return t.CreatedAt }),
			},
			"expiresAt": {
				Type:        dateTime,
				Description: "Null for a token that never expires.",
				Resolve:     from(func(t store.APIToken) any { return t.ExpiresAt }),
			},
		},
	})
	tokenConn := connectionType[store.APIToken]("ApiTokenConnection", apiToken, pageInfo)
	createTokenPayload := gql.NewObject(gql.ObjectConfig{
		Name: "CreateApiTokenPayload",
		Fields: gql.Fields{
			"token": {
				Type:        nnString,
				Description: "The secret. It is shown here once and never again.",
				Resolve:     from(func(o apitokens.CreateOutput) any { return o.Token }),
			},
			"apiToken": {
				Type:    gql.NewNonNull(apiToken),
				Resolve: from(func(o apitokens.CreateOutput) any { return o.APIToken }),
			},
		},
	})

	viewer := gql.NewObject(gql.ObjectConfig{
		Name:        "Viewer",
		Description: "The identity the request's token stands for.",
		Fields: gql.Fields{
			"subject": {
				Type:    nnString,
				Resolve: from(func(c function.Caller) any { return c.Subject }),
			},
			"tenantId": {
				Type:    gql.ID,
				Resolve: from(func(c function.Caller) any { return nonEmpty(c.Tenant) }),
			},
			"roles": {
				Type:    nnStrings,
				Resolve: from(func(c function.Caller) any { return nonNilStrings(c.Roles) }),
			},
			"orgs": {
				Type:        nnStrings,
				Description: "The organizations the viewer administers as org_admin.",
				Resolve:     from(func(c function.Caller) any { return nonNilStrings(c.Orgs) }),
			},
			"tenant": {
				Type: tenantT,
				Resolve: func(p gql.ResolveParams) (any, error) {
					c, ok := p.Source.(function.Caller)
					if !ok || c.Tenant == "" {
						return nil, nil
					}
					return value(r.tenant(p.Context, c.Tenant))
				},
			},
		},
	})

	query := gql.NewObject(gql.ObjectConfig{
		Name:   "Query",
		Fields: r.queryFields(tenantT, tenantConn, userT, userConn, viewer, tokenConn),
	})
	for k, v := range r.orgQueryFields(orgT, orgConn) {
		query.AddFieldConfig(k, v)
	}
	for k, v := range r.accountQueryFields() {
		query.AddFieldConfig(k, v)
	}
	for k, v := range r.groupQueryFields(groupT, groupConn) {
		query.AddFieldConfig(k, v)
	}
	for k, v := range r.auditQueryFields(pageInfo) {
		query.AddFieldConfig(k, v)
	}
	sessionT, sessionConn := r.sessionTypes(pageInfo)
	for k, v := range r.sessionQueryFields(sessionT, sessionConn) {
		query.AddFieldConfig(k, v)
	}
	issuerT := r.trustedIssuerType()
	for k, v := range r.issuerQueryFields(issuerT) {
		query.AddFieldConfig(k, v)
	}
	signingKeyT, regTokenT := r.signingKeyType(), registrationTokenType()
	for k, v := range r.oauthQueryFields(signingKeyT, regTokenT) {
		query.AddFieldConfig(k, v)
	}
	oauthClientT, oauthClientConn, oauthClientSecret := r.oauthClientTypes(pageInfo)
	for k, v := range r.oauthClientQueryFields(oauthClientT, oauthClientConn) {
		query.AddFieldConfig(k, v)
	}
	appStateKeyT := r.appStateKeyType()
	for k, v := range r.appStateQueryFields(appStateKeyT) {
		query.AddFieldConfig(k, v)
	}
	importJob := r.importJobType()
	for k, v := range r.importQueryFields(userConn, userStatus, importJob) {
		query.AddFieldConfig(k, v)
	}
	factors := r.mfaTypes(settings.factor)
	for k, v := range r.mfaQueryFields(factors) {
		query.AddFieldConfig(k, v)
	}
	signInFlow := r.signInTypes(settings.factor)
	for k, v := range r.signInQueryFields(signInFlow) {
		query.AddFieldConfig(k, v)
	}
	mutation := gql.NewObject(gql.ObjectConfig{
		Name:   "Mutation",
		Fields: r.mutationFields(tenantT, userT, userStatus, createTokenPayload, profile, settings),
	})
	for k, v := range r.orgMutationFields(orgT) {
		mutation.AddFieldConfig(k, v)
	}
	for k, v := range r.accountMutationFields(userT) {
		mutation.AddFieldConfig(k, v)
	}
	for k, v := range r.importMutationFields(importJob) {
		mutation.AddFieldConfig(k, v)
	}
	for k, v := range r.groupMutationFields(groupT) {
		mutation.AddFieldConfig(k, v)
	}
	for k, v := range r.signInMutationFields(signInFlow, settings.factor) {
		mutation.AddFieldConfig(k, v)
	}
	for k, v := range r.sessionMutationFields() {
		mutation.AddFieldConfig(k, v)
	}
	for k, v := range r.mfaMutationFields(factors, settings.factor) {
		mutation.AddFieldConfig(k, v)
	}
	for k, v := range r.issuerMutationFields(issuerT) {
		mutation.AddFieldConfig(k, v)
	}
	for k, v := range r.oauthMutationFields(signingKeyT, regTokenT) {
		mutation.AddFieldConfig(k, v)
	}
	for k, v := range r.oauthClientMutationFields(oauthClientT, oauthClientSecret) {
		mutation.AddFieldConfig(k, v)
	}
	for k, v := range r.appStateMutationFields(appStateKeyT) {
		mutation.AddFieldConfig(k, v)
	}
	s, err := gql.NewSchema(gql.SchemaConfig{Query: query, Mutation: mutation})
	if err != nil {
		panic("graphql: invalid schema: " + err.Error())
	}
	return s
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (r *resolvers) queryFields(tenantT, tenantConn, userT, userConn, viewer,
	tokenConn *gql.Object) gql.Fields {
	return gql.Fields{
		"tenant": {
			Type:        tenantT,
			Description: "A tenant; null with a NOT_FOUND error when there is none.",
			Args:        gql.FieldConfigArgument{"id": {Type: nnID}},
			Resolve: func(p gql.ResolveParams) (any, error) {
				return value(r.tenant(p.Context, str(p.Args, "id")))
			},
		},
		"tenants": {
			Type: gql.NewNonNull(tenantConn),
			Args: pageArgs(nil),
			Resolve: func(p gql.ResolveParams) (any, error) {
				in := tenants.ListInput{After: str(p.Args, "after"), First: num(p.Args, "first")}
				out, err := callOp[tenants.ListOutput](r, p.Context, tenants.FunctionName,
					tenants.OpList, in)
				if err != nil {
					return nil, err
				}
				return connection[store.Tenant]{nodes: out.Items, next: out.Next}, nil
			},
		},
		"user": {
			Type:        userT,
			Description: "A user; null with a NOT_FOUND error when there is none.",
			Args:        gql.FieldConfigArgument{"tenantId": {Type: nnID}, "id": {Type: nnID}},
			Resolve: func(p gql.ResolveParams) (any, error) {
				in := users.GetInput{TenantID: str(p.Args, "tenantId"), ID: str(p.Args, "id")}
				return value(callOp[store.User](r, p.Context, users.FunctionName, users.OpGet, in))
			},
		},
		// "users" is in importQueryFields, with its filter.
		"viewer": {
			Type: gql.NewNonNull(viewer),
			Resolve: func(p gql.ResolveParams) (any, error) {
				return stateOf(p.Context).caller, nil
			},
		},
		"apiTokens": {
			Type:        gql.NewNonNull(tokenConn),
			Description: "API tokens of a tenant, or of system scope when tenantId is absent.",
			Args:        pageArgs(gql.FieldConfigArgument{"tenantId": {Type: gql.ID}}),
			Resolve: func(p gql.ResolveParams) (any, error) {
				in := apitokens.ListInput{
					TenantID: str(p.Args, "tenantId"),
					After:    str(p.Args, "after"),
					First:    num(p.Args, "first"),
				}
				out, err := callOp[apitokens.ListOutput](r, p.Context, apitokens.FunctionName,
					apitokens.OpList, in)
				if err != nil {
					return nil, err
				}
				return connection[store.APIToken]{nodes: out.Items, next: out.Next}, nil
			},
		},
	}
}

func (r *resolvers) listUsers(ctx context.Context, tenantID string, args map[string]any) (any,
	error) {
	in := users.ListInput{TenantID: tenantID, OrgID: str(args, "orgId"),
		After: str(args, "after"), First: num(args, "first"), Filter: userFilter(args)}
	out, err := callOp[users.ListOutput](r, ctx, users.FunctionName, users.OpList, in)
	if err != nil {
		return nil, err
	}
	return connection[store.User]{nodes: out.Items, next: out.Next}, nil
}

// mutationFields builds the mutations. An optional input field that is
// absent or null leaves the value unchanged. Known shortcoming: graphql-go
// v0.8.1 cannot parse the null literal (`email: null` is a parse error), so
// a client sends null through a variable.
func (r *resolvers) mutationFields(tenantT, userT *gql.Object, userStatus *gql.Enum,
	tokenPayload *gql.Object, profile profileTypes, settings settingsTypes) gql.Fields {
	input := func(name string, fields gql.InputObjectConfigFieldMap,
		more ...gql.InputObjectConfigFieldMap) gql.FieldConfigArgument {
		for _, m := range more {
			for k, v := range m {
				fields[k] = v
			}
		}
		t := gql.NewInputObject(gql.InputObjectConfig{Name: name, Fields: fields})
		return gql.FieldConfigArgument{"input": {Type: gql.NewNonNull(t)}}
	}
	return gql.Fields{
		"createTenant": {
			Type: gql.NewNonNull(tenantT),
			Args: input("CreateTenantInput", gql.InputObjectConfigFieldMap{
				"name":        {Type: nnString},
				"displayName": {Type: gql.String},
			}),
			Resolve: func(p gql.ResolveParams) (any, error) {
				m := obj(p.Args, "input")
				in := tenants.CreateInput{Name: str(m, "name"), DisplayName: str(m, "displayName")}
				return value(callOp[store.Tenant](r, p.Context, tenants.FunctionName,
					tenants.OpCreate, in))
			},
		},
		"updateTenant": {
			Type: gql.NewNonNull(tenantT),
			Args: input("UpdateTenantInput", gql.InputObjectConfigFieldMap{
				"id":           {Type: nnID},
				"displayName":  {Type: gql.String, Description: "Unchanged when absent or null."},
				"registration": {Type: profile.registration, Description: "Unchanged when absent or null."},
				"userSchema": {
					Type: gql.NewList(gql.NewNonNull(profile.attrDefInput)),
					Description: "Replaces the whole schema; unchanged when absent or null, " +
						"removed by an empty list.",
				},
				"auth": {Type: settings.authIn,
					Description: "Replaces the sign-in settings; unchanged when absent or null."},
				"branding": {Type: settings.brandIn,
					Description: "Replaces the branding; unchanged when absent or null."},
			}),
			Resolve: func(p gql.ResolveParams) (any, error) {
				m := obj(p.Args, "input")
				in := tenants.UpdateInput{ID: str(m, "id"), DisplayName: optStr(m, "displayName")}
				if reg, ok := m["registration"].(store.RegistrationMode); ok {
					in.Registration = &reg
				}
				if v, ok := m["userSchema"]; ok && v != nil {
					defs := attrDefs(v)
					in.UserSchema = &defs
				}
				var err error
				if in.Auth, err = inputAs[store.AuthSettings](m["auth"]); err != nil {
					return nil, err
				}
				if in.Branding, err = inputAs[store.Branding](m["branding"]); err != nil {
					return nil, err
				}
				t, err := callOp[store.Tenant](r, p.Context, tenants.FunctionName,
					tenants.OpUpdate, in)
				if err != nil {
					return nil, err
				}
				remember(stateOf(p.Context), t.ID, t, nil)
				return t, nil
			},
		},
		"deleteTenant": {
			Type: nnID,
			Args: gql.FieldConfigArgument{"id": {Type: nnID}},
			Resolve: func(p gql.ResolveParams) (any, error) {
				in := tenants.DeleteInput{ID: str(p.Args, "id")}
				out, err := callOp[tenants.DeleteOutput](r, p.Context, tenants.FunctionName,
					tenants.OpDelete, in)
				forget(stateOf(p.Context), in.ID)
				if err != nil {
					return nil, err
				}
				return out.ID, nil
			},
		},
		"createUser": {
			Type: gql.NewNonNull(userT),
			Args: input("CreateUserInput", gql.InputObjectConfigFieldMap{
				"tenantId": {Type: nnID},
				"username": {Type: nnString},
				"email":    {Type: gql.String},
				"phone": {
					Type:        gql.String,
					Description: "An E.164 number: + and 7 to 15 digits.",
				},
				"displayName": {Type: gql.String},
				"status":      {Type: userStatus, Description: "ACTIVE when absent."},
				"password": {
					Type: gql.String,
					Description: "The user's first password; none when absent. Pass it in a " +
						"variable, not in the query text.",
				},
				"orgId": {
					Type: gql.ID,
					Description: "The user's organization; tenant level when absent " +
						"(organization administrators must set it).",
				},
			}, profile.userInputFields(false)),
			Resolve: func(p gql.ResolveParams) (any, error) {
				m := obj(p.Args, "input")
				status, _ := m["status"].(store.UserStatus)
				attrs, err := jsonObject(m, "attributes")
				if err != nil {
					return nil, err
				}
				prefs, err := preferencesPatch(m)
				if err != nil {
					return nil, err
				}
				var prefsSet map[string]string
				for k, v := range prefs {
					if v == nil {
						return nil, errs.Invalid("preferences."+k, "must be a string")
					}
					if prefsSet == nil {
						prefsSet = map[string]string{}
					}
					prefsSet[k] = *v
				}
				emailOK, _ := m["emailVerified"].(bool)
				phoneOK, _ := m["phoneVerified"].(bool)
				in := users.CreateInput{
					Attributes:    attrs,
					Locale:        str(m, "locale"),
					Preferences:   prefsSet,
					EmailVerified: emailOK,
					PhoneVerified: phoneOK,
					TenantID:      str(m, "tenantId"),
					Username:      str(m, "username"),
					Email:         str(m, "email"),
					Phone:         str(m, "phone"),
					DisplayName:   str(m, "displayName"),
					Status:        status,
					OrgID:         str(m, "orgId"),
					Password:      users.Password(str(m, "password")),
				}
				return value(callOp[store.User](r, p.Context, users.FunctionName,
					users.OpCreate, in))
			},
		},
		"updateUser": {
			Type: gql.NewNonNull(userT),
			Args: input("UpdateUserInput", gql.InputObjectConfigFieldMap{
				"tenantId": {Type: nnID},
				"id":       {Type: nnID},
				"username": {Type: gql.String, Description: "Unchanged when absent or null."},
				"email": {
					Type:        gql.String,
					Description: "Unchanged when absent or null; the empty string clears it.",
				},
				"phone": {
					Type:        gql.String,
					Description: "Unchanged when absent or null; the empty string clears it.",
				},
				"displayName": {Type: gql.String, Description: "Unchanged when absent or null."},
				"status":      {Type: userStatus, Description: "Unchanged when absent or null."},
				"orgId": {
					Type: gql.ID,
					Description: "Moves the user: unchanged when absent or null; the empty " +
						"string moves the user to tenant level.",
				},
			}, profile.userInputFields(true)),
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
				in := users.UpdateInput{
					TenantID:      str(m, "tenantId"),
					ID:            str(m, "id"),
					Username:      optStr(m, "username"),
					Email:         optStr(m, "email"),
					Phone:         optStr(m, "phone"),
					DisplayName:   optStr(m, "displayName"),
					OrgID:         optStr(m, "orgId"),
					Attributes:    attrs,
					Locale:        optStr(m, "locale"),
					Preferences:   prefs,
					EmailVerified: optBool(m, "emailVerified"),
					PhoneVerified: optBool(m, "phoneVerified"),
				}
				if s, ok := m["status"].(store.UserStatus); ok {
					in.Status = &s
				}
				return value(callOp[store.User](r, p.Context, users.FunctionName,
					users.OpUpdate, in))
			},
		},
		"deleteUser": {
			Type: nnID,
			Args: gql.FieldConfigArgument{"tenantId": {Type: nnID}, "id": {Type: nnID}},
			Resolve: func(p gql.ResolveParams) (any, error) {
				in := users.DeleteInput{TenantID: str(p.Args, "tenantId"), ID: str(p.Args, "id")}
				out, err := callOp[users.DeleteOutput](r, p.Context, users.FunctionName,
					users.OpDelete, in)
				if err != nil {
					return nil, err
				}
				return out.ID, nil
			},
		},
		"setUserPassword": {
			Type:        nnBool,
			Description: "Sets a user's password, replacing any earlier one (administrators).",
			Args: gql.FieldConfigArgument{
				"tenantId": {Type: nnID}, "id": {Type: nnID}, "password": {Type: nnString},
			},
			Resolve: func(p gql.ResolveParams) (any, error) {
				in := users.SetPasswordInput{
					TenantID: str(p.Args, "tenantId"),
					ID:       str(p.Args, "id"),
					Password: users.Password(str(p.Args, "password")),
				}
				_, err := callOp[users.PasswordOutput](r, p.Context, users.FunctionName,
					users.OpSetPassword, in)
				return value(true, err)
			},
		},
		"changeMyPassword": {
			Type:        nnBool,
			Description: "Changes the viewer's own password, given the current one.",
			Args: gql.FieldConfigArgument{
				"currentPassword": {Type: nnString}, "newPassword": {Type: nnString},
			},
			Resolve: func(p gql.ResolveParams) (any, error) {
				c := stateOf(p.Context).caller
				// Only a user of a tenant has a password of their own; a
				// token's subject ("apitoken:…") or a system caller does not.
				if c.Tenant == "" || validate.ID("id", c.Subject) != nil {
					return nil, &fieldError{code: errs.PermissionDenied,
						message: "the viewer is not a user with a password"}
				}
				in := users.ChangePasswordInput{
					TenantID:        c.Tenant,
					ID:              c.Subject,
					CurrentPassword: users.Password(str(p.Args, "currentPassword")),
					NewPassword:     users.Password(str(p.Args, "newPassword")),
				}
				_, err := callOp[users.PasswordOutput](r, p.Context, users.FunctionName,
					users.OpChangePassword, in)
				return value(true, err)
			},
		},
		"createApiToken": {
			Type: gql.NewNonNull(tokenPayload),
			Args: input("CreateApiTokenInput", gql.InputObjectConfigFieldMap{
				"tenantId": {Type: gql.ID, Description: "Absent for system scope."},
				"name":     {Type: nnString},
				"roles":    {Type: nnStrings},
				"orgs": {
					Type:        gql.NewList(nnID),
					Description: "With the org_admin role: the organizations it administers.",
				},
				"ttlSeconds": {
					Type:        gql.Int,
					Description: "Lifetime in seconds; the token never expires when absent.",
				},
				"userId": {
					Type: gql.ID,
					Description: "Makes a personal token acting as this user of the tenant: " +
						"roles [\"user\"], ttlSeconds required (at most a day); it works while " +
						"the user is ACTIVE and is revoked by a password reset.",
				},
			}),
			Resolve: func(p gql.ResolveParams) (any, error) {
				m := obj(p.Args, "input")
				in := apitokens.CreateInput{
					UserID:     str(m, "userId"),
					TenantID:   str(m, "tenantId"),
					Name:       str(m, "name"),
					Roles:      strs(m, "roles"),
					TTLSeconds: int64(num(m, "ttlSeconds")),
					Orgs:       optStrs(m, "orgs"),
				}
				return value(callOp[apitokens.CreateOutput](r, p.Context, apitokens.FunctionName,
					apitokens.OpCreate, in))
			},
		},
		"deleteApiToken": {
			Type: nnID,
			Args: gql.FieldConfigArgument{"tenantId": {Type: gql.ID}, "id": {Type: nnID}},
			Resolve: func(p gql.ResolveParams) (any, error) {
				in := apitokens.DeleteInput{
					TenantID: str(p.Args, "tenantId"),
					ID:       str(p.Args, "id"),
				}
				out, err := callOp[apitokens.DeleteOutput](r, p.Context, apitokens.FunctionName,
					apitokens.OpDelete, in)
				if err != nil {
					return nil, err
				}
				return out.ID, nil
			},
		},
	}
}

// orderEnum puts an enum's values in the given order. graphql-go builds
// them from a map, in random order, which introspection would show;
// Values returns the enum's own slice, so sorting it fixes the order.
func orderEnum(e *gql.Enum, names ...string) {
	rank := func(v *gql.EnumValueDefinition) int { return slices.Index(names, v.Name) }
	slices.SortFunc(e.Values(), func(a, b *gql.EnumValueDefinition) int {
		return rank(a) - rank(b)
	})
}

var warmGlobals sync.Once

// warmEnum builds the lookup tables an Enum creates lazily on first use.
// graphql-go v0.8.1 fills them without a lock, so concurrent first
// requests would race; building them while the schema is made avoids it.
func warmEnum(e *gql.Enum) {
	for _, v := range e.Values() {
		e.Serialize(v.Value)
		e.ParseValue(v.Name)
	}
}

func warmIntrospection() {
	warmGlobals.Do(func() {
		warmEnum(gql.TypeKindEnumType)
		warmEnum(gql.DirectiveLocationEnumType)
	})
}

// merge joins field maps; a later map's field replaces an earlier one's.
func merge(maps ...gql.Fields) gql.Fields {
	out := gql.Fields{}
	for _, m := range maps {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}
