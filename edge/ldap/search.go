package ldap

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/jimlambrt/gldap"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/store"
)

// searchResult is what a search sends back.
type searchResult struct {
	entries []*entry
	code    int    // success or sizeLimitExceeded
	cookie  []byte // next page's cookie; nil on the last page or unpaged
	paged   bool
}

func (l *listener) search(w *gldap.ResponseWriter, r *gldap.Request) {
	ctx, done := l.begin("search", r)
	sess := l.session(r.ConnectionID())
	who := sess.identity()
	var res searchResult
	m, err := r.GetSearchMessage()
	if err == nil {
		res, err = l.srv.search(ctx, sess, who, m)
	}
	for _, e := range res.entries {
		attrs := map[string][]string{}
		for _, a := range e.selected(m.Attributes) {
			if m.TypesOnly {
				attrs[a.name] = []string{}
			} else {
				attrs[a.name] = a.vals
			}
		}
		if err := w.Write(r.NewSearchResponseEntry(e.dn, gldap.WithAttributes(attrs))); err != nil {
			done(gldap.ResultOther, who.tenantID, err)
			return
		}
	}
	code, msg := res.code, ""
	if err != nil {
		code, msg = outcome(err)
	}
	resp := r.NewSearchDoneResponse(gldap.WithResponseCode(code))
	resp.SetDiagnosticMessage(msg)
	if res.paged {
		resp.SetControls(&gldap.ControlPaging{Cookie: res.cookie})
	}
	_ = w.Write(resp)
	done(code, who.tenantID, err)
}

// search runs a search request (RFC 4511 section 4.5.1).
func (s *Server) search(ctx context.Context, sess *session, who identity,
	m *gldap.SearchMessage) (searchResult, error) {
	var paging *gldap.ControlPaging
	for _, c := range m.Controls {
		switch c := c.(type) {
		case *gldap.ControlPaging:
			paging = c
		case *gldap.ControlString:
			// RFC 4511 section 4.1.11: a critical control the server does
			// not know fails the operation.
			if c.Criticality {
				return searchResult{}, refuse(gldap.ResultUnavailableCriticalExtension,
					"unsupported critical control "+c.ControlType)
			}
		}
	}

	base, err := parseDN(m.BaseDN)
	if err != nil {
		return searchResult{}, refuse(gldap.ResultInvalidDNSyntax, "invalid base DN")
	}
	f, err := compileFilter(m.Filter)
	if err != nil {
		return searchResult{}, refuse(gldap.ResultProtocolError, "invalid filter")
	}
	if base.kind == placeRootDSE && m.Scope == gldap.BaseObject {
		e := s.rootDSE(sess)
		if f.match(e) {
			return searchResult{entries: []*entry{e}}, nil
		}
		return searchResult{}, nil
	}
	if who.anonymous() {
		return searchResult{}, refuse(gldap.ResultInsufficientAccessRights,
			"bind first: anonymous clients may read only the root DSE")
	}
	switch base.kind {
	case placeRoot, placeTenant, placeUsers, placeUser, placeGroups, placeGroup:
	default:
		return searchResult{}, refuse(gldap.ResultNoSuchObject, "no such object")
	}

	// Unpaged: up to the size limit (the smaller of the client's and the
	// server's), then sizeLimitExceeded. Paged: one page from where the
	// cookie stands; the server's limit bounds the page size.
	limit := s.cfg.SizeLimit
	if m.SizeLimit > 0 && int(m.SizeLimit) < limit && paging == nil {
		limit = int(m.SizeLimit)
	}
	skip := 0
	key := ""
	if paging != nil {
		key = fmt.Sprintf("%q|%d|%q|%q|%t", m.BaseDN, m.Scope, m.Filter, m.Attributes, m.TypesOnly)
		if skip, err = sess.page(paging.Cookie, key); err != nil {
			return searchResult{}, err
		}
		if paging.PagingSize == 0 {
			// RFC 2696 section 3: a size of zero abandons the search,
			// whose state page has just dropped.
			return searchResult{paged: true, code: gldap.ResultSuccess}, nil
		}
		limit = min(int(paging.PagingSize), s.cfg.SizeLimit)
	}

	res := searchResult{code: gldap.ResultSuccess, paged: paging != nil}
	seen, more := 0, false
	memberOf := asksForMemberOf(m.Attributes, m.Filter)
	var pl plan
	if !s.listAlways {
		pl = planSearch(f, base, m.Attributes)
	}
	err = s.walk(ctx, who, base, m.Scope, memberOf, pl, func(e *entry) bool {
		if !f.match(e) {
			return true
		}
		seen++
		if seen <= skip {
			return true
		}
		if len(res.entries) == limit {
			more = true
			return false
		}
		res.entries = append(res.entries, e)
		return true
	})
	if err != nil {
		return searchResult{}, err
	}
	switch {
	case more && paging != nil:
		res.cookie, err = sess.savePage(key, skip+len(res.entries))
		if err != nil {
			return searchResult{}, err
		}
	case more:
		res.code = gldap.ResultSizeLimitExceeded
	}
	return res, nil
}

// page finds, and forgets, the offset of a paged search's cookie; an
// empty cookie starts a new search. A cookie from another search, or an
// unknown one, is refused (a cookie serves once).
func (s *session) page(cookie []byte, key string) (int, error) {
	if len(cookie) == 0 {
		return 0, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.pages[string(cookie)]
	if !ok || st.key != key {
		return 0, refuse(gldap.ResultUnwillingToPerform, "unknown or stale paging cookie")
	}
	delete(s.pages, string(cookie))
	return st.offset, nil
}

func (s *session) savePage(key string, offset int) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.pages) >= maxPagedSearches {
		return nil, refuse(gldap.ResultAdminLimitExceeded, "too many paged searches open")
	}
	var b [16]byte
	rand.Read(b[:])
	cookie := hex.EncodeToString(b[:])
	s.pages[cookie] = pageState{key: key, offset: offset}
	return []byte(cookie), nil
}

// inScope reports whether q is within a search of base with scope.
func inScope(base place, scope gldap.Scope, q place) bool {
	if !base.contains(q) {
		return false
	}
	switch scope {
	case gldap.BaseObject:
		return q.depth() == base.depth()
	case gldap.SingleLevel:
		return q.depth() == base.depth()+1
	}
	return true
}

// walk visits, in a stable order (tenants, then users and groups by ID),
// every entry the identity may see within the search's scope, until
// visit returns false. Users and groups are listed only when the scope
// reaches them; users' memberOf is read only when memberOf is set.
//
// With a pinned plan, only user entries can match the filter: the others
// are not visited, and the users are the plan's candidates (plan.go).
func (s *Server) walk(ctx context.Context, who identity, base place, scope gldap.Scope,
	memberOf bool, pl plan, visit func(*entry) bool) error {
	tenants, err := s.visibleTenants(ctx, who, base)
	if err != nil {
		return err
	}
	others := !pl.pinned // entries other than users' can match
	if others && inScope(base, scope, place{kind: placeRoot}) && !visit(rootEntry()) {
		return nil
	}
	// A user's entry as the base is looked up whatever the scope, so that
	// a missing one is noSuchObject.
	reachUsers := base.kind == placeUser || scope == gldap.WholeSubtree ||
		scope == gldap.SingleLevel && base.kind == placeUsers
	reachUsers = reachUsers && base.kind != placeGroups && base.kind != placeGroup
	for _, t := range tenants {
		var groups *groupView // read once per tenant, when needed
		te := tenantEntry(t)
		if others && inScope(base, scope, te.at) {
			if t.CreatedAt.IsZero() {
				// Known to the session by ID and name only: read the rest
				// as the client, who may read their own tenant.
				full, err := s.dir.tenant(ctx, who.caller, t.ID)
				if err != nil {
					return err
				}
				te = tenantEntry(full)
			}
			if !visit(te) {
				return nil
			}
		}
		ue := usersEntry(t.Name)
		if others && inScope(base, scope, ue.at) && !visit(ue) {
			return nil
		}
		if reachUsers {
			stop, found, err := s.walkUsers(ctx, who, t, base, scope, memberOf, pl, &groups,
				visit)
			if err != nil || stop {
				return err
			}
			if base.kind == placeUser && !found {
				return refuse(gldap.ResultNoSuchObject, "no such object")
			}
		}
		if !others {
			continue
		}
		stop, err := s.walkGroups(ctx, who, t, base, scope, &groups, visit)
		if err != nil || stop {
			return err
		}
	}
	return nil
}

// walkUsers visits a tenant's users: the listing, or a usable plan's
// candidates. With memberOf, users' memberOf is read for the entries the
// viewer sees in full.
func (s *Server) walkUsers(ctx context.Context, who identity, t store.Tenant, base place,
	scope gldap.Scope, memberOf bool, pl plan, view **groupView,
	visit func(*entry) bool) (stop, found bool, err error) {
	admin, orgAdmin := who.admin(t.ID), who.orgAdmin(t.ID)
	lister := who.caller
	if !admin && !orgAdmin {
		lister = readerCaller(t.ID)
	}
	each := func(fn func(store.User) bool) error {
		return s.dir.eachListed(ctx, who, lister, t.ID, nil, fn)
	}
	var of func(store.User) ([]string, error)
	if memberOf {
		of = s.memberOf(ctx, who, t, base.kind == placeUser, view)
	}
	if pl.usable(who, t) {
		some, g, err := s.candidates(ctx, who, lister, t, pl)
		if err != nil {
			return false, false, err
		}
		each = func(fn func(store.User) bool) error {
			for _, u := range some {
				if !fn(u) {
					return nil
				}
			}
			return nil
		}
		switch {
		case memberOf && pl.onlyGroup && g != nil:
			dn := []string{groupDN(t.Name, g.Name)}
			of = func(store.User) ([]string, error) { return dn, nil }
		case memberOf:
			of = s.memberOf(ctx, who, t, true, view)
		}
	}
	var ofErr error
	err = each(func(u store.User) bool {
		if base.kind == placeUser && u.Username != base.user {
			return true
		}
		found = true
		full := admin || orgAdmin || u.ID == who.caller.Subject
		var groupDNs []string
		if full && of != nil {
			if groupDNs, ofErr = of(u); ofErr != nil {
				return false
			}
		}
		e := userEntry(t.Name, u, full, groupDNs)
		if inScope(base, scope, e.at) && !visit(e) {
			stop = true
			return false
		}
		return base.kind != placeUser
	})
	if err = cmp.Or(err, ofErr); err != nil {
		return false, false, err
	}
	return stop, found, nil
}

// visibleTenants lists the tenants a search may reach: a system
// administrator's are every tenant (or the one the base names); anyone
// else's is their own tenant only. A base naming another tenant, or a
// tenant that does not exist, is noSuchObject either way, so that
// tenant names cannot be probed.
func (s *Server) visibleTenants(ctx context.Context, who identity, base place) ([]store.Tenant,
	error) {
	noSuch := refuse(gldap.ResultNoSuchObject, "no such object")
	if who.caller.Tenant == "" {
		if !who.caller.Has(function.RoleSystemAdmin) {
			return nil, refuse(gldap.ResultInsufficientAccessRights, "no tenant to read")
		}
		if base.tenant != "" {
			t, err := s.dir.tenantByName(ctx, base.tenant)
			if errs.CodeOf(err) == errs.NotFound {
				return nil, noSuch
			}
			return []store.Tenant{t}, err
		}
		var all []store.Tenant
		err := s.dir.eachTenant(ctx, who.caller, func(t store.Tenant) bool {
			all = append(all, t)
			return true
		})
		return all, err
	}
	if base.tenant != "" && !strings.EqualFold(base.tenant, who.tenantName) {
		return nil, noSuch
	}
	return []store.Tenant{{ID: who.tenantID, Name: who.tenantName}}, nil
}

// rootDSE describes the server (RFC 4512 section 5.1).
func (s *Server) rootDSE(sess *session) *entry {
	e := &entry{dn: "", at: place{kind: placeRootDSE}}
	e.add("objectClass", false, "top")
	e.add("namingContexts", false, RootDN)
	e.add("supportedLDAPVersion", false, "3")
	e.add("supportedControl", false, gldap.ControlTypePaging)
	ext := []string{string(gldap.ExtendedOperationWhoAmI)}
	if s.cfg.TLS != nil && !sess.isTLS() {
		ext = append(ext, string(gldap.ExtendedOperationStartTLS))
	}
	e.add("supportedExtension", false, ext...)
	e.add("vendorName", false, "Ward")
	return e
}
