package groups_test

import (
	"context"
	"slices"
	"strings"
	"sync"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/validate"
)

// withGroups is a store whose groups are held by g; everything else is
// the wrapped store's.
type withGroups struct {
	store.Store
	g store.Groups
}

func (s withGroups) Groups() store.Groups { return s.g }

// memGroups keeps groups in memory, for the service's unit tests. It
// follows the store.Groups contract in what the service relies on:
// tenant scoping, unique folded names, compare-and-swap updates, ID
// order, ErrNotFound for a missing group or user, idempotent membership.
type memGroups struct {
	users store.Users

	mu      sync.Mutex
	groups  map[string]store.Group     // by tenant + "/" + ID
	members map[string]map[string]bool // group key -> user IDs
}

func newMemGroups(users store.Users) *memGroups {
	return &memGroups{users: users, groups: map[string]store.Group{},
		members: map[string]map[string]bool{}}
}

func key(tenantID, id string) string { return tenantID + "/" + id }

func notFound() error { return errs.New(errs.NotFound, "not found in memory") }

func (m *memGroups) Create(_ context.Context, g store.Group) (store.Group, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	g.Name = strings.ToLower(g.Name)
	for _, o := range m.groups {
		if o.TenantID == g.TenantID && (o.ID == g.ID || o.Name == g.Name) {
			return store.Group{}, errs.New(errs.Conflict, "taken")
		}
	}
	g.Version = 1
	m.groups[key(g.TenantID, g.ID)] = g
	m.members[key(g.TenantID, g.ID)] = map[string]bool{}
	return g, nil
}

func (m *memGroups) Get(_ context.Context, tenantID, id string) (store.Group, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	g, ok := m.groups[key(tenantID, id)]
	if !ok {
		return store.Group{}, notFound()
	}
	return g, nil
}

func (m *memGroups) GetByName(_ context.Context, tenantID, name string) (store.Group, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, g := range m.groups {
		if g.TenantID == tenantID && g.Name == strings.ToLower(name) {
			return g, nil
		}
	}
	return store.Group{}, notFound()
}

// page cuts a page out of sorted IDs; the cursor is the last ID given.
func page(ids []string, p store.Page) ([]string, string, error) {
	if p.Limit < 0 || p.Limit > store.MaxPageSize {
		return nil, "", errs.Invalid("first", "out of range")
	}
	if p.Limit == 0 {
		p.Limit = store.DefaultPageSize
	}
	if p.After != "" && validate.ID("after", p.After) != nil {
		return nil, "", errs.Invalid("after", "malformed cursor")
	}
	slices.Sort(ids)
	start := 0
	if p.After != "" {
		start = len(ids)
		for i, id := range ids {
			if id > p.After {
				start = i
				break
			}
		}
	}
	ids = ids[start:]
	if len(ids) <= p.Limit {
		return ids, "", nil
	}
	return ids[:p.Limit], ids[p.Limit-1], nil
}

func (m *memGroups) List(_ context.Context, tenantID string, p store.Page) ([]store.Group,
	string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var ids []string
	for _, g := range m.groups {
		if g.TenantID == tenantID {
			ids = append(ids, g.ID)
		}
	}
	ids, next, err := page(ids, p)
	var out []store.Group
	for _, id := range ids {
		out = append(out, m.groups[key(tenantID, id)])
	}
	return out, next, err
}

func (m *memGroups) Update(_ context.Context, tenantID, id string,
	fn func(store.Group) (store.Group, error)) (store.Group, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	old, ok := m.groups[key(tenantID, id)]
	if !ok {
		return store.Group{}, notFound()
	}
	g, err := fn(old)
	if err != nil {
		return store.Group{}, err
	}
	g.Name = strings.ToLower(g.Name)
	for _, o := range m.groups {
		if o.TenantID == tenantID && o.ID != id && o.Name == g.Name {
			return store.Group{}, errs.New(errs.Conflict, "taken")
		}
	}
	g.ID, g.TenantID, g.CreatedAt, g.Version = old.ID, old.TenantID, old.CreatedAt,
		old.Version+1
	m.groups[key(tenantID, id)] = g
	return g, nil
}

func (m *memGroups) Delete(_ context.Context, tenantID, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.groups[key(tenantID, id)]; !ok {
		return notFound()
	}
	delete(m.groups, key(tenantID, id))
	delete(m.members, key(tenantID, id))
	return nil
}

func (m *memGroups) AddMember(ctx context.Context, tenantID, groupID, userID string) error {
	if _, err := m.users.Get(ctx, tenantID, userID); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	set, ok := m.members[key(tenantID, groupID)]
	if !ok {
		return notFound()
	}
	set[userID] = true
	return nil
}

func (m *memGroups) RemoveMember(_ context.Context, tenantID, groupID, userID string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	set, ok := m.members[key(tenantID, groupID)]
	if !ok {
		return notFound()
	}
	delete(set, userID)
	return nil
}

func (m *memGroups) Members(_ context.Context, tenantID, groupID string,
	p store.Page) ([]string, string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	set, ok := m.members[key(tenantID, groupID)]
	if !ok {
		return nil, "", notFound()
	}
	var ids []string
	for id := range set {
		ids = append(ids, id)
	}
	return page(ids, p)
}

func (m *memGroups) GroupsOf(_ context.Context, tenantID, userID string) ([]store.Group,
	error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []store.Group
	for k, set := range m.members {
		if set[userID] && strings.HasPrefix(k, tenantID+"/") {
			out = append(out, m.groups[k])
		}
	}
	slices.SortFunc(out, func(a, b store.Group) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}
