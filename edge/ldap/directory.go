package ldap

import (
	"context"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/tenants"
	"github.com/wardhq/ward/shared/users"
)

// The listener reaches Ward only through operations. Four identities
// stand behind its calls:
//
//   - the bound client's own Caller, for every read and write done on
//     behalf of an administrator, so that the operations' own checks
//     decide, as they do for GraphQL;
//   - verifierCaller (the service role) for verifying passwords and
//     tokens and finding a tenant by name, which are service operations;
//   - a tenant-scoped reader (readerCaller), for listing a tenant's
//     users to one of its plain users, who may see that directory with
//     limited attributes but whom users.list does not admit.
//
// Known shortcoming: a service-only users.directory operation (limited
// attributes, filtered in the store) would replace the reader identity
// and the listing of a whole tenant per search.
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

// eachUser calls fn for every user of a tenant, in ID order, until fn
// returns false.
func (d directory) eachUser(ctx context.Context, c function.Caller, tenantID string,
	fn func(store.User) bool) error {
	after := ""
	for {
		out, err := invoke.Call[users.ListOutput](ctx, d.inv, users.FunctionName, users.OpList, c,
			users.ListInput{TenantID: tenantID, After: after, First: listPage})
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

// userByName finds a user of a tenant by username, listing as c.
func (d directory) userByName(ctx context.Context, c function.Caller, tenantID,
	username string) (store.User, error) {
	var found store.User
	err := d.eachUser(ctx, c, tenantID, func(u store.User) bool {
		if u.Username == username {
			found = u
			return false
		}
		return true
	})
	if err != nil {
		return store.User{}, err
	}
	if found.ID == "" {
		return store.User{}, errs.New(errs.NotFound, "no such object")
	}
	return found, nil
}
