package graphql

import (
	"context"

	gql "github.com/graphql-go/graphql"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/groups"
	"github.com/wardhq/ward/shared/store"
)

// group reads one group through the groups function.
func (r *resolvers) group(ctx context.Context, tenantID, id string) (store.Group, error) {
	in := groups.GetInput{TenantID: tenantID, ID: id}
	return callOp[store.Group](r, ctx, groups.FunctionName, groups.OpGet, in)
}

// groupType builds the Group object; its members are a page of users.
func (r *resolvers) groupType(userConn *gql.Object) *gql.Object {
	return gql.NewObject(gql.ObjectConfig{
		Name:        "Group",
		Description: "A named set of a tenant's users.",
		Fields: gql.Fields{
			"id":       {Type: nnID, Resolve: from(func(g store.Group) any { return g.ID })},
			"tenantId": {Type: nnID, Resolve: from(func(g store.Group) any { return g.TenantID })},
			"name": {
				Type:        nnString,
				Description: "A slug, unique in the tenant.",
				Resolve:     from(func(g store.Group) any { return g.Name }),
			},
			"displayName": {
				Type:    nnString,
				Resolve: from(func(g store.Group) any { return g.DisplayName }),
			},
			"description": {
				Type:    nnString,
				Resolve: from(func(g store.Group) any { return g.Description }),
			},
			"createdAt": {
				Type:    nnDateTime,
				Resolve: from(func(g store.Group) any { return g.CreatedAt }),
			},
			"updatedAt": {
				Type:    nnDateTime,
				Resolve: from(func(g store.Group) any { return g.UpdatedAt }),
			},
			"version": {Type: nnInt, Resolve: from(func(g store.Group) any { return g.Version })},
			"members": {
				Type: gql.NewNonNull(userConn),
				Description: "The group's members in order of ID. An organization " +
					"administrator sees only the users it administers, so a page may be " +
					"short while hasNextPage is true.",
				Args: pageArgs(nil),
				Resolve: func(p gql.ResolveParams) (any, error) {
					g, ok := p.Source.(store.Group)
					if !ok {
						return nil, &fieldError{code: errs.Internal, message: internalMessage}
					}
					in := groups.MembersInput{TenantID: g.TenantID, GroupID: g.ID,
						After: str(p.Args, "after"), First: num(p.Args, "first")}
					out, err := callOp[groups.MembersOutput](r, p.Context, groups.FunctionName,
						groups.OpMembers, in)
					if err != nil {
						return nil, err
					}
					return connection[store.User]{nodes: out.Items, next: out.Next}, nil
				},
			},
		},
	})
}

// userGroupsField is the User object's groups field.
//
// Known shortcoming: the query cost limit (limits.go) counts a list field
// without a `first` argument once, but this one holds up to
// store.MaxGroupsPerUser groups, each of which may select its members; a
// query nesting users, groups and members is so underestimated up to that
// factor at each groups level (the depth limit bounds the nesting).
func (r *resolvers) userGroupsField(groupT *gql.Object) *gql.Field {
	return &gql.Field{
		Type: gql.NewNonNull(gql.NewList(gql.NewNonNull(groupT))),
		Description: "The groups the user belongs to, in order of ID; readable by the user " +
			"and by those who administer the user.",
		Resolve: func(p gql.ResolveParams) (any, error) {
			u, ok := p.Source.(store.User)
			if !ok {
				return nil, &fieldError{code: errs.Internal, message: internalMessage}
			}
			in := groups.GroupsOfInput{TenantID: u.TenantID, UserID: u.ID}
			out, err := callOp[groups.GroupsOfOutput](r, p.Context, groups.FunctionName,
				groups.OpGroupsOf, in)
			if err != nil {
				return nil, err
			}
			return out.Items, nil
		},
	}
}

func (r *resolvers) groupQueryFields(groupT, groupConn *gql.Object) gql.Fields {
	return gql.Fields{
		"group": {
			Type:        groupT,
			Description: "A group; null with a NOT_FOUND error when there is none.",
			Args:        gql.FieldConfigArgument{"tenantId": {Type: nnID}, "id": {Type: nnID}},
			Resolve: func(p gql.ResolveParams) (any, error) {
				return value(r.group(p.Context, str(p.Args, "tenantId"), str(p.Args, "id")))
			},
		},
		"groups": {
			Type:        gql.NewNonNull(groupConn),
			Description: "The groups of a tenant, in order of ID.",
			Args:        pageArgs(gql.FieldConfigArgument{"tenantId": {Type: nnID}}),
			Resolve: func(p gql.ResolveParams) (any, error) {
				in := groups.ListInput{TenantID: str(p.Args, "tenantId"),
					After: str(p.Args, "after"), First: num(p.Args, "first")}
				out, err := callOp[groups.ListOutput](r, p.Context, groups.FunctionName,
					groups.OpList, in)
				if err != nil {
					return nil, err
				}
				return connection[store.Group]{nodes: out.Items, next: out.Next}, nil
			},
		},
	}
}

func (r *resolvers) groupMutationFields(groupT *gql.Object) gql.Fields {
	input := func(name string, fields gql.InputObjectConfigFieldMap) gql.FieldConfigArgument {
		t := gql.NewInputObject(gql.InputObjectConfig{Name: name, Fields: fields})
		return gql.FieldConfigArgument{"input": {Type: gql.NewNonNull(t)}}
	}
	// membership adds or removes a member, then reads the group again.
	membership := func(op string) gql.FieldResolveFn {
		return func(p gql.ResolveParams) (any, error) {
			in := groups.MemberInput{TenantID: str(p.Args, "tenantId"),
				GroupID: str(p.Args, "groupId"), UserID: str(p.Args, "userId")}
			if _, err := callOp[groups.MemberOutput](r, p.Context, groups.FunctionName, op,
				in); err != nil {
				return nil, err
			}
			return value(r.group(p.Context, in.TenantID, in.GroupID))
		}
	}
	memberArgs := func() gql.FieldConfigArgument {
		return gql.FieldConfigArgument{
			"tenantId": {Type: nnID}, "groupId": {Type: nnID}, "userId": {Type: nnID},
		}
	}
	return gql.Fields{
		"createGroup": {
			Type: gql.NewNonNull(groupT),
			Args: input("CreateGroupInput", gql.InputObjectConfigFieldMap{
				"tenantId": {Type: nnID},
				"name": {
					Type:        nnString,
					Description: "A slug, unique in the tenant; folded to lower case.",
				},
				"displayName": {Type: gql.String},
				"description": {Type: gql.String},
			}),
			Resolve: func(p gql.ResolveParams) (any, error) {
				m := obj(p.Args, "input")
				in := groups.CreateInput{TenantID: str(m, "tenantId"), Name: str(m, "name"),
					DisplayName: str(m, "displayName"), Description: str(m, "description")}
				return value(callOp[store.Group](r, p.Context, groups.FunctionName,
					groups.OpCreate, in))
			},
		},
		"updateGroup": {
			Type: gql.NewNonNull(groupT),
			Args: input("UpdateGroupInput", gql.InputObjectConfigFieldMap{
				"tenantId":    {Type: nnID},
				"id":          {Type: nnID},
				"name":        {Type: gql.String, Description: "Unchanged when absent or null."},
				"displayName": {Type: gql.String, Description: "Unchanged when absent or null."},
				"description": {Type: gql.String, Description: "Unchanged when absent or null."},
			}),
			Resolve: func(p gql.ResolveParams) (any, error) {
				m := obj(p.Args, "input")
				in := groups.UpdateInput{TenantID: str(m, "tenantId"), ID: str(m, "id"),
					Name: optStr(m, "name"), DisplayName: optStr(m, "displayName"),
					Description: optStr(m, "description")}
				return value(callOp[store.Group](r, p.Context, groups.FunctionName,
					groups.OpUpdate, in))
			},
		},
		"deleteGroup": {
			Type:        nnID,
			Description: "Deletes a group and its memberships (not its members).",
			Args:        gql.FieldConfigArgument{"tenantId": {Type: nnID}, "id": {Type: nnID}},
			Resolve: func(p gql.ResolveParams) (any, error) {
				in := groups.DeleteInput{TenantID: str(p.Args, "tenantId"), ID: str(p.Args, "id")}
				out, err := callOp[groups.DeleteOutput](r, p.Context, groups.FunctionName,
					groups.OpDelete, in)
				if err != nil {
					return nil, err
				}
				return out.ID, nil
			},
		},
		"addGroupMember": {
			Type:        gql.NewNonNull(groupT),
			Description: "Adds a user to a group; adding a member again is no error.",
			Args:        memberArgs(),
			Resolve:     membership(groups.OpAddMember),
		},
		"removeGroupMember": {
			Type:        gql.NewNonNull(groupT),
			Description: "Removes a user from a group; removing a non-member is no error.",
			Args:        memberArgs(),
			Resolve:     membership(groups.OpRemoveMember),
		},
	}
}
