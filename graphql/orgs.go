package graphql

import (
	"context"

	gql "github.com/graphql-go/graphql"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/orgs"
	"github.com/wardhq/ward/shared/store"
)

// organization reads one organization through the orgs function.
func (r *resolvers) organization(ctx context.Context, tenantID, id string) (store.Organization,
	error) {
	in := orgs.GetInput{TenantID: tenantID, ID: id}
	return callOp[store.Organization](r, ctx, orgs.FunctionName, orgs.OpGet, in)
}

func (r *resolvers) listOrgs(ctx context.Context, tenantID, parentID string,
	args map[string]any) (any, error) {
	in := orgs.ListInput{TenantID: tenantID, ParentID: parentID, After: str(args, "after"),
		First: num(args, "first")}
	out, err := callOp[orgs.ListOutput](r, ctx, orgs.FunctionName, orgs.OpList, in)
	if err != nil {
		return nil, err
	}
	return connection[store.Organization]{nodes: out.Items, next: out.Next}, nil
}

// organizationType builds the Organization object. Its children field
// needs the connection type, which needs this one: conn is read when the
// fields are first built, after both exist.
func (r *resolvers) organizationType(userConn *gql.Object, conn **gql.Object) *gql.Object {
	source := func(p gql.ResolveParams) (store.Organization, error) {
		o, ok := p.Source.(store.Organization)
		if !ok {
			return o, &fieldError{code: errs.Internal, message: internalMessage}
		}
		return o, nil
	}
	var self *gql.Object
	self = gql.NewObject(gql.ObjectConfig{
		Name:        "Organization",
		Description: "A group of users inside a tenant; organizations nest.",
		Fields: gql.FieldsThunk(func() gql.Fields {
			return gql.Fields{
				"id": {Type: nnID, Resolve: from(func(o store.Organization) any { return o.ID })},
				"tenantId": {
					Type:    nnID,
					Resolve: from(func(o store.Organization) any { return o.TenantID }),
				},
				"parentId": {
					Type:        gql.ID,
					Description: "Null for a top-level organization.",
					Resolve: from(func(o store.Organization) any {
						return nonEmpty(o.ParentID)
					}),
				},
				"name": {
					Type:    nnString,
					Resolve: from(func(o store.Organization) any { return o.Name }),
				},
				"displayName": {
					Type:    nnString,
					Resolve: from(func(o store.Organization) any { return o.DisplayName }),
				},
				"depth": {
					Type:        nnInt,
					Description: "1 at top level, one more at each level below.",
					Resolve:     from(func(o store.Organization) any { return o.Depth }),
				},
				"createdAt": {
					Type:    nnDateTime,
					Resolve: from(func(o store.Organization) any { return o.CreatedAt }),
				},
				"updatedAt": {
					Type:    nnDateTime,
					Resolve: from(func(o store.Organization) any { return o.UpdatedAt }),
				},
				"version": {
					Type:    nnInt,
					Resolve: from(func(o store.Organization) any { return o.Version }),
				},
				"parent": {
					Type: self,
					Description: "Null at top level, and null with NOT_FOUND when the " +
						"viewer does not administer the parent.",
					Resolve: func(p gql.ResolveParams) (any, error) {
						o, err := source(p)
						if err != nil || o.ParentID == "" {
							return nil, err
						}
						return value(r.organization(p.Context, o.TenantID, o.ParentID))
					},
				},
				"children": {
					Type: gql.NewNonNull(*conn),
					Args: pageArgs(nil),
					Resolve: func(p gql.ResolveParams) (any, error) {
						o, err := source(p)
						if err != nil {
							return nil, err
						}
						return r.listOrgs(p.Context, o.TenantID, o.ID, p.Args)
					},
				},
				"users": {
					Type:        gql.NewNonNull(userConn),
					Description: "The users of this organization, not of those below it.",
					Args:        pageArgs(nil),
					Resolve: func(p gql.ResolveParams) (any, error) {
						o, err := source(p)
						if err != nil {
							return nil, err
						}
						args := map[string]any{"orgId": o.ID}
						for k, v := range p.Args {
							args[k] = v
						}
						return r.listUsers(p.Context, o.TenantID, args)
					},
				},
			}
		}),
	})
	return self
}

func (r *resolvers) orgQueryFields(orgT, orgConn *gql.Object) gql.Fields {
	return gql.Fields{
		"organization": {
			Type:        orgT,
			Description: "An organization; null with a NOT_FOUND error when there is none.",
			Args:        gql.FieldConfigArgument{"tenantId": {Type: nnID}, "id": {Type: nnID}},
			Resolve: func(p gql.ResolveParams) (any, error) {
				return value(r.organization(p.Context, str(p.Args, "tenantId"), str(p.Args, "id")))
			},
		},
		"organizations": {
			Type: gql.NewNonNull(orgConn),
			Description: "The children of parentId, or the top-level organizations when it " +
				"is absent (tenant administrators only).",
			Args: pageArgs(gql.FieldConfigArgument{
				"tenantId": {Type: nnID},
				"parentId": {Type: gql.ID},
			}),
			Resolve: func(p gql.ResolveParams) (any, error) {
				return r.listOrgs(p.Context, str(p.Args, "tenantId"), str(p.Args, "parentId"),
					p.Args)
			},
		},
	}
}

func (r *resolvers) orgMutationFields(orgT *gql.Object) gql.Fields {
	input := func(name string, fields gql.InputObjectConfigFieldMap) gql.FieldConfigArgument {
		t := gql.NewInputObject(gql.InputObjectConfig{Name: name, Fields: fields})
		return gql.FieldConfigArgument{"input": {Type: gql.NewNonNull(t)}}
	}
	return gql.Fields{
		"createOrganization": {
			Type: gql.NewNonNull(orgT),
			Args: input("CreateOrganizationInput", gql.InputObjectConfigFieldMap{
				"tenantId": {Type: nnID},
				"parentId": {Type: gql.ID, Description: "Top level when absent."},
				"name": {
					Type:        nnString,
					Description: "A slug, unique in the tenant; folded to lower case.",
				},
				"displayName": {Type: gql.String},
			}),
			Resolve: func(p gql.ResolveParams) (any, error) {
				m := obj(p.Args, "input")
				in := orgs.CreateInput{TenantID: str(m, "tenantId"), ParentID: str(m, "parentId"),
					Name: str(m, "name"), DisplayName: str(m, "displayName")}
				return value(callOp[store.Organization](r, p.Context, orgs.FunctionName,
					orgs.OpCreate, in))
			},
		},
		"updateOrganization": {
			Type: gql.NewNonNull(orgT),
			Args: input("UpdateOrganizationInput", gql.InputObjectConfigFieldMap{
				"tenantId":    {Type: nnID},
				"id":          {Type: nnID},
				"name":        {Type: gql.String, Description: "Unchanged when absent or null."},
				"displayName": {Type: gql.String, Description: "Unchanged when absent or null."},
			}),
			Resolve: func(p gql.ResolveParams) (any, error) {
				m := obj(p.Args, "input")
				in := orgs.UpdateInput{TenantID: str(m, "tenantId"), ID: str(m, "id"),
					Name: optStr(m, "name"), DisplayName: optStr(m, "displayName")}
				return value(callOp[store.Organization](r, p.Context, orgs.FunctionName,
					orgs.OpUpdate, in))
			},
		},
		"deleteOrganization": {
			Type:        nnID,
			Description: "Deletes an organization without child organizations or users.",
			Args:        gql.FieldConfigArgument{"tenantId": {Type: nnID}, "id": {Type: nnID}},
			Resolve: func(p gql.ResolveParams) (any, error) {
				in := orgs.DeleteInput{TenantID: str(p.Args, "tenantId"), ID: str(p.Args, "id")}
				out, err := callOp[orgs.DeleteOutput](r, p.Context, orgs.FunctionName,
					orgs.OpDelete, in)
				if err != nil {
					return nil, err
				}
				return out.ID, nil
			},
		},
	}
}
