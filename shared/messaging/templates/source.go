package templates

import (
	"context"
	"sync"

	"github.com/wardhq/ward/shared/messaging"
	"github.com/wardhq/ward/shared/validate"
)

// Key names one tenant's template.
type Key struct {
	TenantID string
	Kind     messaging.Kind
	Locale   messaging.Locale
}

// MapSource is a Source held in memory, for the local process and tests
// until tenants' templates have a store. It is safe for concurrent use.
type MapSource struct {
	mu sync.RWMutex
	m  map[Key]Template
}

var _ Source = (*MapSource)(nil)

// NewMapSource returns an empty MapSource.
func NewMapSource() *MapSource {
	return &MapSource{m: map[Key]Template{}}
}

// Put stores t as the tenant's template for kind in locale, replacing any
// other. It refuses, with errs.ErrInvalidArgument, a bad tenant, kind or
// locale and a template that Check refuses, and then stores nothing.
func (s *MapSource) Put(tenantID string, kind messaging.Kind, locale string, t Template) error {
	if err := validate.ID("tenantID", tenantID); err != nil {
		return err
	}
	if err := messaging.CheckKind("kind", kind); err != nil {
		return err
	}
	loc, err := messaging.ParseLocale(locale)
	if err != nil {
		return err
	}
	if err := Check(t); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[Key{tenantID, kind, loc}] = t
	return nil
}

// Template implements Source.
func (s *MapSource) Template(_ context.Context, tenantID string, kind messaging.Kind,
	locale messaging.Locale) (Template, bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, ok := s.m[Key{tenantID, kind, locale}]
	return t, ok, nil
}
