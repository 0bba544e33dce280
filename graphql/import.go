package graphql

import (
	gql "github.com/graphql-go/graphql"

	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/users"
)

// Bulk import of users (the users function's importUsers and
// importStatus) and the filtered users listing.

func (r *resolvers) importJobType() *gql.Object {
	return gql.NewObject(gql.ObjectConfig{
		Name:        "UserImportJob",
		Description: "The running count of a bulk import; kept 24 hours after its last chunk.",
		Fields: gql.Fields{
			"id":       {Type: nnID, Resolve: from(func(j users.ImportJob) any { return j.ID })},
			"tenantId": {Type: nnID, Resolve: from(func(j users.ImportJob) any { return j.TenantID })},
			"chunks":   {Type: nnInt, Resolve: from(func(j users.ImportJob) any { return j.Chunks })},
			"rows":     {Type: nnInt, Resolve: from(func(j users.ImportJob) any { return j.Rows })},
			"created":  {Type: nnInt, Resolve: from(func(j users.ImportJob) any { return j.Created })},
			"failed":   {Type: nnInt, Resolve: from(func(j users.ImportJob) any { return j.Failed })},
			"running": {
				Type:        nnBool,
				Description: "True while a chunk is being imported; the counts then move.",
				Resolve:     from(func(j users.ImportJob) any { return j.Running }),
			},
			"startedAt": {
				Type:    nnDateTime,
				Resolve: from(func(j users.ImportJob) any { return j.StartedAt }),
			},
			"updatedAt": {
				Type:    nnDateTime,
				Resolve: from(func(j users.ImportJob) any { return j.UpdatedAt }),
			},
		},
	})
}

// importQueryFields are userImport, and users with its filter (it
// replaces the unfiltered field of queryFields).
func (r *resolvers) importQueryFields(userConn *gql.Object, userStatus *gql.Enum,
	job *gql.Object) gql.Fields {
	filter := gql.NewInputObject(gql.InputObjectConfig{
		Name:        "UserFilter",
		Description: "Narrows a users listing; every field set must match.",
		Fields: gql.InputObjectConfigFieldMap{
			"status": {Type: userStatus},
			"orgId": {
				Type:        gql.ID,
				Description: "Users of this organization (not of those below it).",
			},
			"groupId": {Type: gql.ID, Description: "Members of this group."},
			"attribute": {
				Type:        gql.String,
				Description: "A profile attribute's name; with value, users whose attribute equals it.",
			},
			"value": {
				Type: gql.String,
				Description: "The attribute's value as text: numbers in shortest form (2.5, 3), " +
					"booleans as true or false.",
			},
		},
	})
	return gql.Fields{
		"users": {
			Type: gql.NewNonNull(userConn),
			Description: "Users of a tenant, or with orgId of one organization (not of those " +
				"below it). Organization administrators must give orgId (or filter.orgId). " +
				"A filtered page may hold fewer than `first` users while hasNextPage is " +
				"true: page on until it is false.",
			Args: pageArgs(gql.FieldConfigArgument{
				"tenantId": {Type: nnID},
				"orgId":    {Type: gql.ID},
				"filter":   {Type: filter},
			}),
			Resolve: func(p gql.ResolveParams) (any, error) {
				return r.listUsers(p.Context, str(p.Args, "tenantId"), p.Args)
			},
		},
		"userImport": {
			Type:        job,
			Description: "A bulk import started by the viewer; null with NOT_FOUND otherwise.",
			Args:        gql.FieldConfigArgument{"tenantId": {Type: nnID}, "jobId": {Type: nnID}},
			Resolve: func(p gql.ResolveParams) (any, error) {
				in := users.ImportStatusInput{TenantID: str(p.Args, "tenantId"),
					JobID: str(p.Args, "jobId")}
				return value(callOp[users.ImportJob](r, p.Context, users.FunctionName,
					users.OpImportStatus, in))
			},
		},
	}
}

// userFilter reads the filter argument of users; nil when absent.
func userFilter(args map[string]any) *store.UserFilter {
	m := obj(args, "filter")
	if m == nil {
		return nil
	}
	status, _ := m["status"].(store.UserStatus)
	return &store.UserFilter{Status: status, OrgID: str(m, "orgId"),
		GroupID: str(m, "groupId"), Attribute: str(m, "attribute"), Value: str(m, "value")}
}

func (r *resolvers) importMutationFields(job *gql.Object) gql.Fields {
	format := gql.NewEnum(gql.EnumConfig{
		Name: "ImportFormat",
		Values: gql.EnumValueConfigMap{
			"CSV": {Value: users.FormatCSV,
				Description: "A header row, then one user a row; every chunk has its header."},
			"JSON": {Value: users.FormatJSON,
				Description: "An array of objects, or one object a line."},
		},
	})
	orderEnum(format, "CSV", "JSON")
	warmEnum(format)
	rowError := gql.NewObject(gql.ObjectConfig{
		Name:        "ImportRowError",
		Description: "Why one row was not imported.",
		Fields: gql.Fields{
			"row": {
				Type:        nnInt,
				Description: "The data row, counted from 1 across the whole job (headers not counted).",
				Resolve:     from(func(e users.RowError) any { return e.Row }),
			},
			"field": {
				Type:    gql.String,
				Resolve: from(func(e users.RowError) any { return nonEmpty(e.Field) }),
			},
			"code":    {Type: nnString, Resolve: from(func(e users.RowError) any { return string(e.Code) })},
			"message": {Type: nnString, Resolve: from(func(e users.RowError) any { return e.Message })},
		},
	})
	payload := gql.NewObject(gql.ObjectConfig{
		Name: "ImportUsersPayload",
		Fields: gql.Fields{
			"jobId": {
				Type:        nnID,
				Description: "Pass with the next chunk to continue this job.",
				Resolve:     from(func(o users.ImportOutput) any { return o.JobID }),
			},
			"rows":    {Type: nnInt, Resolve: from(func(o users.ImportOutput) any { return o.Rows })},
			"created": {Type: nnInt, Resolve: from(func(o users.ImportOutput) any { return o.Created })},
			"failed":  {Type: nnInt, Resolve: from(func(o users.ImportOutput) any { return o.Failed })},
			"errors": {
				Type:        gql.NewNonNull(gql.NewList(gql.NewNonNull(rowError))),
				Description: "The first 100 failed rows of this chunk, in row order.",
				Resolve:     from(func(o users.ImportOutput) any { return o.Errors }),
			},
			"errorsOmitted": {
				Type:        nnInt,
				Description: "Failed rows of this chunk beyond those in errors.",
				Resolve:     from(func(o users.ImportOutput) any { return o.ErrorsOmitted }),
			},
			"job": {
				Type:        gql.NewNonNull(job),
				Description: "The whole job after this chunk.",
				Resolve:     from(func(o users.ImportOutput) any { return o.Job }),
			},
		},
	})
	return gql.Fields{
		"importUsers": {
			Type: gql.NewNonNull(payload),
			Description: "Imports one chunk of users; each row is created as createUser " +
				"would, and a bad row is reported without stopping the chunk. A request " +
				"body is at most 1 MiB, so a chunk's data must stay somewhat below that " +
				"(at most 10,000 rows); send a large file as several chunks, one after " +
				"another, with the jobId of the first. Columns or keys: username, email, " +
				"emailVerified, phone, phoneVerified, displayName, status, orgId, locale, " +
				"password or passwordHash (an Argon2id PHC string), groups (existing " +
				"group names separated by ; or, in JSON, an array), and attr.<name> " +
				"(or an attributes object in JSON). Send data in a variable: the query " +
				"text itself is bounded at 64 KiB. Organization administrators import " +
				"into an organization they administer (orgId).",
			Args: gql.FieldConfigArgument{
				"tenantId": {Type: nnID},
				"orgId": {Type: gql.ID,
					Description: "Where rows without an orgId land; tenant level when absent."},
				"format": {Type: gql.NewNonNull(format)},
				"data":   {Type: nnString, Description: "The chunk's text."},
				"jobId": {Type: gql.ID,
					Description: "The job an earlier chunk started; absent for the first chunk."},
			},
			Resolve: func(p gql.ResolveParams) (any, error) {
				f, _ := p.Args["format"].(string)
				in := users.ImportInput{TenantID: str(p.Args, "tenantId"),
					OrgID: str(p.Args, "orgId"), Format: f, Data: str(p.Args, "data"),
					JobID: str(p.Args, "jobId")}
				return value(callOp[users.ImportOutput](r, p.Context, users.FunctionName,
					users.OpImportUsers, in))
			},
		},
	}
}
