package graphql

import (
	"context"
	"slices"
	"strings"

	gql "github.com/graphql-go/graphql"

	"github.com/wardhq/ward/shared/audit"
	"github.com/wardhq/ward/shared/store"
)

// auditChange is one changed field of an event, as the schema shows it.
type auditChange struct {
	field string
	store.AuditChange
}

// changesOf lists an event's changes in order of field name, so that
// answers are stable.
func changesOf(e store.AuditEvent) []auditChange {
	out := make([]auditChange, 0, len(e.Changes))
	for k, c := range e.Changes {
		out = append(out, auditChange{field: k, AuditChange: c})
	}
	slices.SortFunc(out, func(a, b auditChange) int { return strings.Compare(a.field, b.field) })
	return out
}

func (r *resolvers) listAudit(ctx context.Context, args map[string]any) (any, error) {
	in := audit.ListInput{TenantID: str(args, "tenantId"), TargetID: str(args, "targetId"),
		After: str(args, "after"), First: num(args, "first")}
	out, err := callOp[audit.ListOutput](r, ctx, audit.FunctionName, audit.OpList, in)
	if err != nil {
		return nil, err
	}
	return connection[store.AuditEvent]{nodes: out.Items, next: out.Next}, nil
}

func (r *resolvers) auditQueryFields(pageInfo *gql.Object) gql.Fields {
	change := gql.NewObject(gql.ObjectConfig{
		Name:        "AuditChange",
		Description: "A field's value before and after; a secret shows only that it changed.",
		Fields: gql.Fields{
			"field": {Type: nnString, Resolve: from(func(c auditChange) any { return c.field })},
			"old": {
				Type:        nnString,
				Description: "Empty for a created entity.",
				Resolve:     from(func(c auditChange) any { return c.Old }),
			},
			"new": {
				Type:        nnString,
				Description: "Empty for a deleted entity.",
				Resolve:     from(func(c auditChange) any { return c.New }),
			},
		},
	})
	event := gql.NewObject(gql.ObjectConfig{
		Name:        "AuditEvent",
		Description: "One change made through Ward: who did what to which entity.",
		Fields: gql.Fields{
			"id": {Type: nnID, Resolve: from(func(e store.AuditEvent) any { return e.ID })},
			"tenantId": {
				Type:    gql.ID,
				Resolve: from(func(e store.AuditEvent) any { return nonEmpty(e.TenantID) }),
			},
			"at": {Type: nnDateTime, Resolve: from(func(e store.AuditEvent) any { return e.At })},
			"actor": {
				Type:        nnString,
				Description: "The subject of the caller: a user ID or apitoken:<id>.",
				Resolve:     from(func(e store.AuditEvent) any { return e.Actor }),
			},
			"action": {
				Type:        nnString,
				Description: "What was done, such as user.update or apitoken.delete.",
				Resolve:     from(func(e store.AuditEvent) any { return e.Action }),
			},
			"targetType": {
				Type:    nnString,
				Resolve: from(func(e store.AuditEvent) any { return e.TargetType }),
			},
			"targetId": {
				Type:    nnID,
				Resolve: from(func(e store.AuditEvent) any { return e.TargetID }),
			},
			"changes": {
				Type:    gql.NewNonNull(gql.NewList(gql.NewNonNull(change))),
				Resolve: from(func(e store.AuditEvent) any { return changesOf(e) }),
			},
			"requestId": {
				Type:    gql.String,
				Resolve: from(func(e store.AuditEvent) any { return nonEmpty(e.RequestID) }),
			},
		},
	})
	conn := connectionType[store.AuditEvent]("AuditEventConnection", event, pageInfo)
	return gql.Fields{
		"auditEvents": {
			Type: gql.NewNonNull(conn),
			Description: "A tenant's audit trail, newest first (tenant and system " +
				"administrators only); only the events about targetId when it is set.",
			Args: pageArgs(gql.FieldConfigArgument{
				"tenantId": {Type: nnID},
				"targetId": {Type: gql.ID},
			}),
			Resolve: func(p gql.ResolveParams) (any, error) {
				return r.listAudit(p.Context, p.Args)
			},
		},
	}
}
