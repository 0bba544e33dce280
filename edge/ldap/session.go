package ldap

import (
	"sync"

	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/orgs"
)

// identity is who a connection is bound as.
type identity struct {
	caller function.Caller // zero when anonymous
	dn     string          // the bound DN, for WhoAmI
	// tenant is the bound client's tenant (name and ID); empty for
	// system scope.
	tenantName string
	tenantID   string
}

func (id identity) anonymous() bool { return id.caller.Anonymous() }

// admin reports whether the identity administers tenantID.
func (id identity) admin(tenantID string) bool {
	c := id.caller
	return c.Has(function.RoleSystemAdmin) ||
		c.Has(function.RoleTenantAdmin) && c.Tenant != "" && c.Tenant == tenantID
}

// maxPagedSearches bounds the paged searches a connection keeps open.
const maxPagedSearches = 16

// pageState is where a paged search stands (RFC 2696).
type pageState struct {
	key    string // the search it belongs to
	offset int
}

// session is one connection's state. gldap serves a connection's
// requests concurrently, so every field is behind mu.
type session struct {
	mu    sync.Mutex
	tls   bool
	who   identity
	pages map[string]pageState
}

func (s *session) identity() identity {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.who
}

// setIdentity records a bind's outcome; a failed bind leaves the
// connection anonymous (RFC 4511 section 4.2.1). Paged searches of the
// previous identity end with it.
func (s *session) setIdentity(who identity) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.who = who
	clear(s.pages)
}

func (s *session) isTLS() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tls
}

// orgAdmin reports whether the identity is an organization administrator
// in tenantID, and no more: it sees the users of the organizations it
// reaches (package orgs), in full, and no other user.
func (id identity) orgAdmin(tenantID string) bool {
	return !id.admin(tenantID) && orgs.OrgAdminIn(id.caller, tenantID)
}
