package ldap

import (
	"context"
	"slices"
	"strings"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/orgs"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/tenants"
	"github.com/wardhq/ward/shared/users"
)

// The listener reaches Ward only through operations. Three identities
// stand behind its calls:
//
//   - the bound client's own Caller, for every read and write done on
//     behalf of an administrator (of the tenant or of organizations), so
//     that the operations' own checks decide, as they do for GraphQL;
//   - verifierCaller (the service role) for verifying passwords and
//     tokens and finding a tenant by name, which are service operations;
//   - a tenant-scoped reader (readerCaller), for reading a tenant's
//     users for one of its plain users, who may see that directory with
//     limited attributes but whom users.list does not admit.
//
// Known shortcoming: a search whose filter pins no user (plan.go) still
// lists the whole tenant, or every organization an organization
// administrator reaches; a service-only users.directory operation
// (limited attributes, filtered in the store) would replace the reader
// identity and serve more filters from the store.
//
// verifierCaller verifies passwords and tokens and finds tenants by name:
// the service role alone.
var verifierCaller = function.Caller{
	Subject: "service:edge-ldap",
	Roles:   []string{function.RoleService},
}

func readerCaller(tenantID string) function.Caller {
	return function.Caller{Subject: "service:edge-ldap", Tenant: tenantID,
		Roles: []string{function.RoleTenantAdmin}}
}

// listPage is the page size the listener asks for.
const listPage = store.MaxPageSize

type directory struct{ inv invoke.Invoker }

// tenantByName finds a tenant by its name, as NOT_FOUND when none has it.
func (d directory) tenantByName(ctx context.Context, name string) (store.Tenant, error) {
	t, err := invoke.Call[store.Tenant](ctx, d.inv, tenants.FunctionName, tenants.OpGetByName,
		verifierCaller, tenants.GetByNameInput{Name: name})
	if errs.CodeOf(err) == errs.InvalidArgument {
		// A name that cannot be a tenant's is simply not in the tree.
		return store.Tenant{}, errs.New(errs.NotFound, "no such object")
	}
	return t, err
}

// eachTenant calls fn for every tenant the caller may list, in ID order,
// until fn returns false.
func (d directory) eachTenant(ctx context.Context, c function.Caller,
	fn func(store.Tenant) bool) error {
	after := ""
	for {
		out, err := invoke.Call[tenants.ListOutput](ctx, d.inv, tenants.FunctionName,
			tenants.OpList, c, tenants.ListInput{After: after, First: listPage})
		if err != nil {
			return err
		}
		for _, t := range out.Items {
			if !fn(t) {
				return nil
			}
		}
		if out.Next == "" {
			return nil
		}
		after = out.Next
	}
}

func (d directory) tenant(ctx context.Context, c function.Caller, id string) (store.Tenant, error) {
	return invoke.Call[store.Tenant](ctx, d.inv, tenants.FunctionName, tenants.OpGet, c,
		tenants.GetInput{ID: id})
}

// eachUserWhere calls fn for every user of a tenant, in ID order until fn
// returns false, narrowed to one organization (orgID not empty) and by
// filter (nil: none).
func (d directory) eachUserWhere(ctx context.Context, c function.Caller, tenantID,
	orgID string, filter *store.UserFilter, fn func(store.User) bool) error {
	after := ""
	for {
		out, err := invoke.Call[users.ListOutput](ctx, d.inv, users.FunctionName, users.OpList, c,
			users.ListInput{TenantID: tenantID, OrgID: orgID, After: after, First: listPage,
				Filter: filter})
		if err != nil {
			return err
		}
		for _, u := range out.Items {
			if !fn(u) {
				return nil
			}
		}
		if out.Next == "" {
			return nil
		}
		after = out.Next
	}
}

// eachListed calls fn, in ID order until it returns false, for every
// user of a tenant that who sees in a search, narrowed by filter (nil:
// none), listing as lister: the whole tenant for anyone but an
// organization administrator, whose users are those of the organizations
// they reach (users.list admits them one organization at a time).
func (d directory) eachListed(ctx context.Context, who identity, lister function.Caller,
	tenantID string, filter *store.UserFilter, fn func(store.User) bool) error {
	if !who.orgAdmin(tenantID) {
		return d.eachUserWhere(ctx, lister, tenantID, "", filter, fn)
	}
	all, err := d.reachedUsers(ctx, who.caller, tenantID, filter)
	if err != nil {
		return err
	}
	for _, u := range all {
		if !fn(u) {
			return nil
		}
	}
	return nil
}

// reachedUsers reads, in ID order, the users of the organizations an
// organization administrator reaches: theirs and every one below, found
// with orgs.list. An organization of c.Orgs that does not exist (or is
// below another of them) is skipped.
//
// Known shortcoming: the users are gathered in memory to be put in ID
// order, and every search reads the organization tree again; a store
// listing of the users below a set of organizations would stream them.
func (d directory) reachedUsers(ctx context.Context, c function.Caller, tenantID string,
	filter *store.UserFilter) ([]store.User, error) {
	seen := map[string]bool{}
	queue := slices.Clone(c.Orgs)
	var all []store.User
	for len(queue) > 0 {
		orgID := queue[0]
		queue = queue[1:]
		if seen[orgID] {
			continue
		}
		seen[orgID] = true
		err := d.eachChildOrg(ctx, c, tenantID, orgID, func(o store.Organization) {
			queue = append(queue, o.ID)
		})
		if err == nil {
			err = d.eachUserWhere(ctx, c, tenantID, orgID, filter, func(u store.User) bool {
				all = append(all, u)
				return true
			})
		}
		switch errs.CodeOf(err) {
		case errs.NotFound, errs.InvalidArgument:
			// An organization that is gone, or an ID that is none.
			continue
		}
		if err != nil {
			return nil, err
		}
	}
	slices.SortFunc(all, func(a, b store.User) int { return strings.Compare(a.ID, b.ID) })
	return all, nil
}

func (d directory) eachChildOrg(ctx context.Context, c function.Caller, tenantID,
	parentID string, fn func(store.Organization)) error {
	after := ""
	for {
		out, err := invoke.Call[orgs.ListOutput](ctx, d.inv, orgs.FunctionName, orgs.OpList, c,
			orgs.ListInput{TenantID: tenantID, ParentID: parentID, After: after, First: listPage})
		if err != nil {
			return err
		}
		for _, o := range out.Items {
			fn(o)
		}
		if out.Next == "" {
			return nil
		}
		after = out.Next
	}
}

// userByName finds a user of a tenant by username as c sees it:
// NOT_FOUND outside c's reach (users.getByUsername).
func (d directory) userByName(ctx context.Context, c function.Caller, tenantID,
	username string) (store.User, error) {
	return invoke.Call[store.User](ctx, d.inv, users.FunctionName, users.OpGetByUsername, c,
		users.GetByUsernameInput{TenantID: tenantID, Username: username})
}
